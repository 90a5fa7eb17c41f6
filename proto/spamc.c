/* SPAMC/1.5 requests and SPAMD/1.x replies (SpamAssassin spamd/PROTOCOL):
 *   request: "SYMBOLS SPAMC/1.5\r\nContent-length: N\r\nUser: u\r\n\r\n" + message
 *   reply:   "SPAMD/1.1 0 EX_OK\r\nContent-length: N\r\nSpam: True ; 7.5 / 5.0\r\n\r\n" + body */
#include "spamc.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int spamc_request(enum spamc_command cmd, const char *user, const char *msg, size_t len,
		  struct buf *out)
{
	static const char *const names[] = { "SYMBOLS", "REPORT", "CHECK" };
	if (user != NULL && (strpbrk(user, "\r\n") != NULL || *user == '\0'))
		return -1;
	if (buf_printf(out, "%s SPAMC/1.5\r\nContent-length: %zu\r\n", names[cmd], len) < 0)
		return -1;
	if (user != NULL && buf_printf(out, "User: %s\r\n", user) < 0)
		return -1;
	if (buf_append(out, "\r\n", 2) < 0 || buf_append(out, msg, len) < 0)
		return -1;
	return 0;
}

/* "Spam: True ; 15.3 / 5.0" */
static int parse_spam_header(const char *v, const char *end, struct spamc_reply *rep)
{
	while (v < end && *v == ' ')
		v++;
	const char *w = v;
	while (v < end && isalpha((unsigned char)*v))
		v++;
	size_t wl = (size_t)(v - w);
	if (str_case_eq_n(w, wl, "true") || str_case_eq_n(w, wl, "yes"))
		rep->spam = true;
	else if (str_case_eq_n(w, wl, "false") || str_case_eq_n(w, wl, "no"))
		rep->spam = false;
	else
		return -1;
	while (v < end && *v == ' ')
		v++;
	if (v == end || *v != ';')
		return -1;
	v++;
	char tmp[64];
	size_t n = (size_t)(end - v);
	if (n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	char *p = tmp, *e;
	rep->score = strtod(p, &e);
	if (e == p || !isfinite(rep->score))
		return -1;
	p = e;
	while (*p == ' ')
		p++;
	if (*p != '/')
		return -1;
	p++;
	rep->threshold = strtod(p, &e);
	if (e == p || !isfinite(rep->threshold))
		return -1;
	while (*e == ' ')
		e++;
	return *e == '\0' ? 0 : -1;
}

int spamc_parse_reply(const char *r, size_t len, bool eof, struct spamc_reply *reply_r,
		      const char **error_r)
{
	memset(reply_r, 0, sizeof(*reply_r));
	const char *hend = NULL;
	for (size_t i = 0; i + 3 < len; i++)
		if (r[i] == '\r' && r[i + 1] == '\n' && r[i + 2] == '\r' && r[i + 3] == '\n') {
			hend = r + i;
			break;
		}
	const char *nl = memchr(r, '\n', len);
	if (nl == NULL || hend == NULL) {
		if (len > SPAMC_REPLY_MAX) {
			*error_r = "spamd reply too long";
			return -1;
		}
		if (nl != NULL || eof) {
			/* a failure reply may be a status line alone, then close */
			if (len < 6 || memcmp(r, "SPAMD/", 6) != 0) {
				*error_r = "not a SPAMD reply";
				return -1;
			}
			if (!eof)
				return 0;
			hend = r + len;
		} else {
			return 0;
		}
	}
	/* status line: SPAMD/1.1 0 EX_OK */
	const char *line_end = memchr(r, '\r', (size_t)(hend - r));
	if (line_end == NULL)
		line_end = hend;
	if (line_end - r < 9 || memcmp(r, "SPAMD/", 6) != 0) {
		*error_r = "not a SPAMD reply";
		return -1;
	}
	const char *p = r + 6;
	while (p < line_end && (isdigit((unsigned char)*p) || *p == '.'))
		p++;
	if (p == line_end || *p != ' ') {
		*error_r = "bad SPAMD status line";
		return -1;
	}
	p++;
	const char *cs = p;
	while (p < line_end && isdigit((unsigned char)*p))
		p++;
	uint64_t code;
	if (str_to_u64(cs, (size_t)(p - cs), 255, &code) < 0) {
		*error_r = "bad SPAMD status code";
		return -1;
	}
	reply_r->code = (int)code;
	if (code != 0) {
		*error_r = "spamd answered an error (EX_ code other than EX_OK)";
		return -1;
	}
	if (hend == r + len) {
		*error_r = "spamd reply without headers";
		return -1;
	}
	/* headers */
	bool have_spam = false, have_len = false;
	uint64_t clen = 0;
	const char *h = line_end + 2;
	while (h < hend) {
		const char *e = h;
		while (e < hend && *e != '\r')
			e++;
		const char *colon = memchr(h, ':', (size_t)(e - h));
		if (colon == NULL) {
			*error_r = "bad SPAMD header";
			return -1;
		}
		const char *v = colon + 1;
		while (v < e && *v == ' ')
			v++;
		size_t nl2 = (size_t)(colon - h);
		if (str_case_eq_n(h, nl2, "spam")) {
			if (parse_spam_header(v, e, reply_r) < 0) {
				*error_r = "bad Spam: header";
				return -1;
			}
			have_spam = true;
		} else if (str_case_eq_n(h, nl2, "content-length")) {
			if (str_to_u64(v, (size_t)(e - v), SPAMC_REPLY_MAX, &clen) < 0) {
				*error_r = "bad Content-length";
				return -1;
			}
			have_len = true;
		}
		h = e + 2;
	}
	if (!have_spam) {
		*error_r = "SPAMD reply without Spam: header";
		return -1;
	}
	const char *body = hend + 4;
	size_t have = (size_t)(r + len - body);
	if (have_len) {
		if (have < clen) {
			if (eof) {
				*error_r = "spamd reply body cut short";
				return -1;
			}
			return 0;
		}
		reply_r->body = body;
		reply_r->body_len = (size_t)clen;
		return 1;
	}
	/* CHECK replies carry no body; others end at close */
	if (!eof)
		return 0;
	reply_r->body = body;
	reply_r->body_len = have;
	return 1;
}

size_t spamc_next_symbol(const char *body, size_t len, size_t *pos, const char **name_r)
{
	size_t i = *pos;
	for (;;) {
		while (i < len && (body[i] == ',' || isspace((unsigned char)body[i])))
			i++;
		if (i >= len) {
			*pos = i;
			return 0;
		}
		size_t s = i;
		while (i < len && body[i] != ',' && !isspace((unsigned char)body[i]))
			i++;
		*pos = i;
		*name_r = body + s;
		return i - s;
	}
}
