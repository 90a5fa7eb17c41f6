/* rspamd /checkv2 requests and replies (see rspamd.h). */
#include "rspamd.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool header_ok(const char *v)
{
	return v == NULL || strpbrk(v, "\r\n") == NULL;
}

int rspamd_request(const struct rspamd_request *req, const char *msg, size_t len,
		   struct buf *out)
{
	if (!header_ok(req->ip) || !header_ok(req->helo) || !header_ok(req->from) ||
	    !header_ok(req->hostname) || !header_ok(req->user) || !header_ok(req->queue_id))
		return -1;
	for (size_t i = 0; i < req->nrcpts; i++)
		if (!header_ok(req->rcpts[i]))
			return -1;
	int r = buf_printf(out, "POST /checkv2 HTTP/1.0\r\nContent-Length: %zu\r\n"
				"Connection: close\r\n", len);
	if (req->ip != NULL)
		r |= buf_printf(out, "IP: %s\r\n", req->ip);
	if (req->helo != NULL && *req->helo)
		r |= buf_printf(out, "Helo: %s\r\n", req->helo);
	if (req->from != NULL)
		r |= buf_printf(out, "From: <%s>\r\n", req->from);
	for (size_t i = 0; i < req->nrcpts; i++)
		r |= buf_printf(out, "Rcpt: <%s>\r\n", req->rcpts[i]);
	if (req->hostname != NULL)
		r |= buf_printf(out, "Hostname: %s\r\n", req->hostname);
	if (req->user != NULL)
		r |= buf_printf(out, "User: %s\r\n", req->user);
	if (req->queue_id != NULL)
		r |= buf_printf(out, "Queue-Id: %s\r\n", req->queue_id);
	r |= buf_append(out, "\r\n", 2);
	r |= buf_append(out, msg, len);
	return r == 0 ? 0 : -1;
}

/* ---- a small strict JSON reader ---- */

struct json {
	const char *p, *end;
	unsigned depth;
	const char *error;
};

static void ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

/* A string into out (truncated to outlen - 1; escapes decoded, \u as '?'
 * outside ASCII). */
static int jstring(struct json *j, char *out, size_t outlen)
{
	ws(j);
	if (j->p >= j->end || *j->p != '"') {
		j->error = "string expected";
		return -1;
	}
	j->p++;
	size_t o = 0;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if ((unsigned char)c < 0x20) {
			j->error = "control character in string";
			return -1;
		}
		if (c == '\\') {
			if (j->p >= j->end)
				break;
			char e = *j->p++;
			switch (e) {
			case '"': case '\\': case '/': c = e; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				if (j->end - j->p < 4) {
					j->error = "bad \\u escape";
					return -1;
				}
				unsigned v = 0;
				for (int k = 0; k < 4; k++) {
					char h = *j->p++;
					v <<= 4;
					if (h >= '0' && h <= '9') v |= (unsigned)(h - '0');
					else if (h >= 'a' && h <= 'f') v |= (unsigned)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F') v |= (unsigned)(h - 'A' + 10);
					else {
						j->error = "bad \\u escape";
						return -1;
					}
				}
				c = v < 0x80 && v >= 0x20 ? (char)v : '?';
				break;
			}
			default:
				j->error = "bad escape";
				return -1;
			}
		}
		if (out != NULL && o + 1 < outlen)
			out[o++] = c;
	}
	if (j->p >= j->end) {
		j->error = "unterminated string";
		return -1;
	}
	j->p++;
	if (out != NULL && outlen > 0)
		out[o] = '\0';
	return 0;
}

static int jnumber(struct json *j, double *v)
{
	ws(j);
	char tmp[64];
	size_t n = 0;
	while (j->p < j->end && n + 1 < sizeof(tmp) &&
	       (isdigit((unsigned char)*j->p) || strchr("+-.eE", *j->p) != NULL))
		tmp[n++] = *j->p++;
	tmp[n] = '\0';
	char *e;
	*v = strtod(tmp, &e);
	if (n == 0 || *e != '\0' || !isfinite(*v)) {
		j->error = "bad number";
		return -1;
	}
	return 0;
}

static int jskip(struct json *j);

static int jliteral(struct json *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0) {
		j->error = "bad literal";
		return -1;
	}
	j->p += n;
	return 0;
}

/* Iterate an object: calls member(ctx, key) positioned at each value; the
 * callback must consume the value. */
static int jobject(struct json *j, int (*member)(struct json *j, const char *key, void *ctx),
		   void *ctx)
{
	ws(j);
	if (j->p >= j->end || *j->p != '{') {
		j->error = "object expected";
		return -1;
	}
	if (++j->depth > 32) {
		j->error = "JSON nested too deeply";
		return -1;
	}
	j->p++;
	ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		char key[64];
		if (jstring(j, key, sizeof(key)) < 0)
			return -1;
		ws(j);
		if (j->p >= j->end || *j->p != ':') {
			j->error = "':' expected";
			return -1;
		}
		j->p++;
		if (member(j, key, ctx) < 0)
			return -1;
		ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			j->depth--;
			return 0;
		}
		j->error = "',' or '}' expected";
		return -1;
	}
}

static int skip_member(struct json *j, const char *key, void *ctx)
{
	(void)key;
	(void)ctx;
	return jskip(j);
}

static int jskip(struct json *j)
{
	ws(j);
	if (j->p >= j->end) {
		j->error = "value expected";
		return -1;
	}
	switch (*j->p) {
	case '{':
		return jobject(j, skip_member, NULL);
	case '[':
		if (++j->depth > 32) {
			j->error = "JSON nested too deeply";
			return -1;
		}
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			j->depth--;
			return 0;
		}
		for (;;) {
			if (jskip(j) < 0)
				return -1;
			ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				j->depth--;
				return 0;
			}
			j->error = "',' or ']' expected";
			return -1;
		}
	case '"':
		return jstring(j, NULL, 0);
	case 't':
		return jliteral(j, "true");
	case 'f':
		return jliteral(j, "false");
	case 'n':
		return jliteral(j, "null");
	default: {
		double v;
		return jnumber(j, &v);
	}
	}
}

struct sym_ctx {
	struct rspamd_reply *rep;
	struct rspamd_symbol *sym;
};

static int symbol_member(struct json *j, const char *key, void *vctx)
{
	struct sym_ctx *c = vctx;
	if (strcmp(key, "score") == 0)
		return jnumber(j, &c->sym->score);
	return jskip(j);
}

static int symbols_member(struct json *j, const char *key, void *vctx)
{
	struct rspamd_reply *rep = vctx;
	if (rep->nsymbols >= RSPAMD_MAX_SYMBOLS)
		return jskip(j);
	struct rspamd_symbol *s = &rep->symbols[rep->nsymbols];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", key);
	struct sym_ctx c = { rep, s };
	ws(j);
	if (j->p < j->end && *j->p == '{') {
		if (jobject(j, symbol_member, &c) < 0)
			return -1;
	} else if (jskip(j) < 0) {
		return -1;
	}
	rep->nsymbols++;
	return 0;
}

static int messages_member(struct json *j, const char *key, void *vctx)
{
	struct rspamd_reply *rep = vctx;
	ws(j);
	if (strcmp(key, "smtp_message") == 0 && j->p < j->end && *j->p == '"')
		return jstring(j, rep->smtp_message, sizeof(rep->smtp_message));
	return jskip(j);
}

static int top_member(struct json *j, const char *key, void *vctx)
{
	struct rspamd_reply *rep = vctx;
	ws(j);
	if (strcmp(key, "score") == 0) {
		rep->has_score = true;
		return jnumber(j, &rep->score);
	}
	if (strcmp(key, "required_score") == 0)
		return jnumber(j, &rep->required_score);
	if (strcmp(key, "action") == 0)
		return jstring(j, rep->action, sizeof(rep->action));
	if (strcmp(key, "is_skipped") == 0) {
		if (j->p < j->end && *j->p == 't') {
			rep->skipped = true;
			return jliteral(j, "true");
		}
		return jskip(j);
	}
	if (strcmp(key, "symbols") == 0 && j->p < j->end && *j->p == '{')
		return jobject(j, symbols_member, rep);
	if (strcmp(key, "messages") == 0 && j->p < j->end && *j->p == '{')
		return jobject(j, messages_member, rep);
	return jskip(j);
}

int rspamd_parse_json(const char *s, size_t len, struct rspamd_reply *rep, const char **error_r)
{
	struct json j = { .p = s, .end = s + len };
	int status = rep->http_status;
	memset(rep, 0, sizeof(*rep));
	rep->http_status = status;
	if (jobject(&j, top_member, rep) < 0) {
		*error_r = j.error;
		return -1;
	}
	ws(&j);
	if (j.p != j.end) {
		*error_r = "junk after the JSON object";
		return -1;
	}
	if (!rep->has_score && !rep->skipped) {
		*error_r = "rspamd reply without a score";
		return -1;
	}
	return 0;
}

int rspamd_parse_reply(const char *r, size_t len, bool eof, struct rspamd_reply *rep,
		       const char **error_r)
{
	memset(rep, 0, sizeof(*rep));
	const char *hend = NULL;
	for (size_t i = 0; i + 3 < len; i++)
		if (memcmp(r + i, "\r\n\r\n", 4) == 0) {
			hend = r + i;
			break;
		}
	if (hend == NULL) {
		if (len > 65536 || eof) {
			*error_r = eof ? "rspamd closed the connection before its answer"
				       : "rspamd reply header too long";
			return -1;
		}
		return 0;
	}
	if (len < 12 || memcmp(r, "HTTP/1.", 7) != 0 || r[8] != ' ' ||
	    !isdigit((unsigned char)r[9]) || !isdigit((unsigned char)r[10]) ||
	    !isdigit((unsigned char)r[11])) {
		*error_r = "not an HTTP reply";
		return -1;
	}
	rep->http_status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
	uint64_t clen = 0;
	bool have_len = false;
	for (const char *h = memchr(r, '\n', (size_t)(hend - r)); h != NULL && h < hend;) {
		h++;
		const char *e = memchr(h, '\r', (size_t)(hend + 2 - h));
		if (e == NULL)
			break;
		const char *colon = memchr(h, ':', (size_t)(e - h));
		if (colon != NULL) {
			const char *v = colon + 1;
			while (v < e && *v == ' ')
				v++;
			if (str_case_eq_n(h, (size_t)(colon - h), "content-length")) {
				if (str_to_u64(v, (size_t)(e - v), RSPAMD_REPLY_MAX, &clen) < 0) {
					*error_r = "bad Content-Length";
					return -1;
				}
				have_len = true;
			} else if (str_case_eq_n(h, (size_t)(colon - h), "transfer-encoding")) {
				*error_r = "chunked rspamd replies are not read (HTTP/1.0 was asked)";
				return -1;
			}
		}
		h = memchr(e, '\n', (size_t)(hend + 2 - e));
	}
	const char *body = hend + 4;
	size_t have = (size_t)(r + len - body);
	if (have_len) {
		if (have < clen) {
			if (eof) {
				*error_r = "rspamd reply cut short";
				return -1;
			}
			return 0;
		}
		have = (size_t)clen;
	} else if (!eof) {
		if (have > RSPAMD_REPLY_MAX) {
			*error_r = "rspamd reply too long";
			return -1;
		}
		return 0;
	}
	if (rep->http_status != 200) {
		*error_r = "rspamd answered an HTTP error";
		return -1;
	}
	return rspamd_parse_json(body, have, rep, error_r) < 0 ? -1 : 1;
}
