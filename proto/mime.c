/* The MIME structure parser: one pass over each part's range splits the
 * header block into fields, reads the Content-* fields (RFC 2045, 2183,
 * 2231 parameters) and splits multiparts at their boundaries with memmem,
 * recursing into children and message/rfc822 bodies up to the limits. All
 * memory of a parsed message lives in one arena, freed at once. */
#include "autoconf.h"
#include "mime-private.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)

void *mime_arena_alloc(struct mime_arena *a, size_t size)
{
	struct mime_chunk *c = a->chunks;
	size_t unit = sizeof(max_align_t);
	size_t units = size / unit + (size % unit != 0) + (size == 0);

	if (c == NULL || c->size - c->used < units) {
		size_t n = units > ARENA_CHUNK / unit ? units : ARENA_CHUNK / unit;

		c = xmalloc(sizeof(*c) + n * unit);
		c->size = n;
		c->used = 0;
		if (a->chunks != NULL && units > ARENA_CHUNK / unit) {
			/* A big block goes behind the current chunk so that the
			 * room left in the current one is not wasted. */
			c->next = a->chunks->next;
			a->chunks->next = c;
		} else {
			c->next = a->chunks;
			a->chunks = c;
		}
	}
	void *p = &c->data[c->used];
	c->used += units;
	memset(p, 0, units * unit);
	return p;
}

char *mime_arena_strndup(struct mime_arena *a, const char *s, size_t len)
{
	char *p = mime_arena_alloc(a, len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void mime_arena_free(struct mime_arena *a)
{
	while (a->chunks != NULL) {
		struct mime_chunk *next = a->chunks->next;

		free(a->chunks);
		a->chunks = next;
	}
}

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static inline char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

static char *arena_lower(struct mime_arena *a, const char *s, size_t len)
{
	char *p = mime_arena_strndup(a, s, len);

	for (size_t i = 0; i < len; i++)
		p[i] = lower(p[i]);
	return p;
}

/* Text lines, counted as line ends (LF), as Dovecot and Cyrus report them:
 * the line end before a boundary belongs to the boundary, so the body of
 * "text\r\n--b" has 0 lines, and a last line without LF does not count. */
static size_t count_lines(const char *p, size_t len)
{
	size_t n = 0;
	const char *end = p + len;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* ---- RFC 822 lexer helpers ---- */

void mime_skip_cfws(const char **pp, const char *end, struct buf *comment)
{
	const char *p = *pp;

	while (p < end) {
		if (is_wsp(*p) || *p == '\r' || *p == '\n') {
			p++;
		} else if (*p == '(') {
			unsigned depth = 1;
			const char *start = ++p;

			while (p < end && depth > 0) {
				if (*p == '\\' && p + 1 < end)
					p++;
				else if (*p == '(')
					depth++;
				else if (*p == ')')
					depth--;
				p++;
			}
			if (comment != NULL) {
				size_t n = (size_t)(p - start) - (depth == 0);

				buf_reset(comment);
				buf_append(comment, start, n);
			}
		} else {
			break;
		}
	}
	*pp = p;
}

void mime_read_quoted(const char **pp, const char *end, struct buf *out)
{
	const char *p = *pp + 1;

	while (p < end && *p != '"') {
		const char *run = p;

		while (p < end && *p != '"' && *p != '\\' && *p != '\r' && *p != '\n')
			p++;
		buf_append(out, run, (size_t)(p - run));
		if (p < end && *p == '\\' && p + 1 < end) {
			buf_append(out, p + 1, 1);
			p += 2;
		} else if (p < end && (*p == '\\' || *p == '\r' || *p == '\n')) {
			p++;	/* folding inside a quoted string, or a stray backslash */
		}
	}
	if (p < end)
		p++;
	*pp = p;
}

/* RFC 2045 token characters: printable ASCII but SPACE and tspecials. */
static bool is_token_char(unsigned char c)
{
	if (c <= ' ' || c >= 127)
		return false;
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static size_t token_len(const char *p, const char *end)
{
	const char *s = p;

	while (p < end && is_token_char((unsigned char)*p))
		p++;
	return (size_t)(p - s);
}

/* ---- header fields ---- */

const struct mime_header *mime_find_header(const struct mime_part *part, const char *name)
{
	for (size_t i = 0; i < part->header_count; i++) {
		if (str_casecmp(part->headers[i].name, name) == 0)
			return &part->headers[i];
	}
	return NULL;
}

void mime_field_value(const char *raw, const struct mime_header *h, struct buf *out)
{
	const char *p = raw + h->offset, *end = p + h->len;
	const char *colon = memchr(p, ':', h->len);

	if (colon == NULL)
		return;
	p = colon + 1;
	/* The field's own final line end goes first. */
	if (end > p && end[-1] == '\n')
		end--;
	if (end > p && end[-1] == '\r')
		end--;
	while (p < end && (is_wsp(*p) || *p == '\r' || *p == '\n'))
		p++;
	while (end > p && (is_wsp(end[-1]) || end[-1] == '\r' || end[-1] == '\n'))
		end--;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;

		if (nl != NULL && stop > p && stop[-1] == '\r')
			stop--;
		buf_append(out, p, (size_t)(stop - p));
		if (nl == NULL)
			break;
		p = nl + 1;
	}
}

/* A field name: 1*(printable ASCII but ':'), whitespace allowed before the
 * colon (obsolete syntax). Returns the trimmed length, or 0 if invalid. */
static size_t field_name_len(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);

	if (colon == NULL)
		return 0;
	size_t n = (size_t)(colon - line);
	while (n > 0 && is_wsp(line[n - 1]))
		n--;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)line[i];

		if (c <= ' ' || c >= 127)
			return 0;
	}
	return n;
}

struct header_vec {
	struct mime_header *v;
	size_t count, cap;
};

/* Split [start, end) into the header block and the body. The block ends
 * with an empty line (included in header_len), or at the first line that is
 * neither a field nor a continuation (the body starts there), or at end. */
static void parse_header_block(struct mime_message_priv *m, struct mime_part *part,
			       size_t start, size_t end, struct header_vec *hv)
{
	const char *raw = m->pub.raw;
	size_t pos = start, body = end;
	bool have_field = false;

	hv->count = 0;
	while (pos < end) {
		const char *line = raw + pos;
		const char *nl = memchr(line, '\n', end - pos);
		size_t line_end = nl != NULL ? (size_t)(nl - raw) + 1 : end;
		size_t len = line_end - pos;

		if (nl != NULL && (len == 1 || (len == 2 && line[0] == '\r'))) {
			body = line_end;	/* the empty line */
			break;
		}
		if (is_wsp(line[0]) && have_field) {
			hv->v[hv->count - 1].len = line_end - hv->v[hv->count - 1].offset;
		} else {
			size_t nlen = field_name_len(line, len);

			if (nlen == 0 && pos == start && len >= 5 && memcmp(line, "From ", 5) == 0) {
				pos = line_end;	/* an mbox separator line: not a field */
				continue;
			}
			if (nlen == 0) {
				/* Not a field: the body starts here (no empty line). */
				body = pos;
				break;
			}
			if (hv->count == hv->cap) {
				hv->cap = hv->cap ? hv->cap * 2 : 32;
				hv->v = xrealloc(hv->v, hv->cap * sizeof(*hv->v));
			}
			hv->v[hv->count].name = mime_arena_strndup(&m->arena, line, nlen);
			hv->v[hv->count].offset = pos;
			hv->v[hv->count].len = len;
			hv->count++;
			have_field = true;
		}
		pos = line_end;
	}
	if (pos >= end)
		body = end;
	part->header_offset = start;
	part->header_len = body - start;
	part->body_offset = body;
	part->body_len = end - body;
	part->header_count = hv->count;
	if (hv->count > 0) {
		part->headers = mime_arena_alloc(&m->arena, hv->count * sizeof(*hv->v));
		memcpy(part->headers, hv->v, hv->count * sizeof(*hv->v));
	}
}

/* ---- parameters (RFC 2045 + RFC 2231) ---- */

struct raw_param {
	char *name;		/* lower-cased, "*N" / "*" suffixes removed */
	char *value;
	size_t value_len;
	int section;		/* -1 when not a continuation */
	bool extended;		/* name ended in '*': charset'lang'%XX */
	bool quoted;
	bool used;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void percent_decode(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		const char *pct = memchr(s + i, '%', len - i);
		size_t run = pct != NULL ? (size_t)(pct - (s + i)) : len - i;
		int h, l;

		buf_append(out, s + i, run);
		i += run;
		if (i >= len)
			break;
		if (i + 2 < len && (h = hexval(s[i + 1])) >= 0 && (l = hexval(s[i + 2])) >= 0) {
			char c = (char)(h * 16 + l);

			buf_append(out, &c, 1);
			i += 3;
		} else {
			buf_append(out, "%", 1);
			i++;
		}
	}
}

/* Read "; name=value" pairs from [p, end). */
static size_t read_params(const char *p, const char *end, struct raw_param *rp,
			  size_t max, struct buf *tmp)
{
	size_t n = 0;

	for (;;) {
		mime_skip_cfws(&p, end, NULL);
		while (p < end && *p != ';') {
			/* junk before the next parameter */
			if (*p == '"') {
				buf_reset(tmp);
				mime_read_quoted(&p, end, tmp);
			} else {
				p++;
			}
		}
		if (p >= end || n == max)
			break;
		p++;
		mime_skip_cfws(&p, end, NULL);
		size_t nlen = token_len(p, end);
		const char *name = p;

		if (nlen == 0)
			continue;
		p += nlen;
		mime_skip_cfws(&p, end, NULL);
		if (p >= end || *p != '=')
			continue;
		p++;
		mime_skip_cfws(&p, end, NULL);
		buf_reset(tmp);
		bool quoted = false;
		if (p < end && *p == '"') {
			mime_read_quoted(&p, end, tmp);
			quoted = true;
		} else {
			/* Lenient: a token, or anything up to ';' or space. */
			const char *v = p;

			while (p < end && *p != ';' && !is_wsp(*p) && *p != '\r' && *p != '\n')
				p++;
			buf_append(tmp, v, (size_t)(p - v));
		}

		struct raw_param *r = &rp[n++];
		memset(r, 0, sizeof(*r));
		r->quoted = quoted;
		r->section = -1;
		size_t base = nlen;
		if (base > 0 && name[base - 1] == '*') {
			r->extended = true;
			base--;
		}
		/* name*N or name*N* */
		const char *star = memchr(name, '*', base);
		if (star != NULL) {
			size_t digits = base - (size_t)(star + 1 - name);
			uint64_t sec;

			if (digits > 0 && digits <= 4 &&
			    str_to_u64(star + 1, digits, 9999, &sec) == 0) {
				r->section = (int)sec;
				base = (size_t)(star - name);
			}
		}
		r->name = xstrndup(name, base);
		for (char *c = r->name; *c; c++)
			*c = lower(*c);
		r->value = xmalloc(tmp->len + 1);
		memcpy(r->value, tmp->data ? tmp->data : "", tmp->len + 1);
		r->value_len = tmp->len;
	}
	return n;
}

/* Join the RFC 2231 sections of one parameter and convert to UTF-8. */
static void join_sections(struct raw_param *rp, size_t n, size_t first, struct buf *out,
			  struct buf *tmp)
{
	char charset[64] = "";
	bool have_charset = false;
	const char *name = rp[first].name;

	buf_reset(tmp);
	for (int sec = 0; ; sec++) {
		size_t i;

		for (i = first; i < n; i++) {
			if (!rp[i].used && rp[i].section == sec && strcmp(rp[i].name, name) == 0)
				break;
		}
		if (i == n)
			break;
		rp[i].used = true;
		const char *v = rp[i].value;
		size_t vlen = rp[i].value_len;
		if (rp[i].extended) {
			if (sec == 0) {
				const char *q1 = memchr(v, '\'', vlen);
				const char *q2 = q1 ? memchr(q1 + 1, '\'', vlen - (size_t)(q1 + 1 - v)) : NULL;

				if (q2 != NULL) {
					size_t cl = (size_t)(q1 - v);

					if (cl > 0 && cl < sizeof(charset)) {
						memcpy(charset, v, cl);
						charset[cl] = '\0';
						have_charset = true;
					}
					vlen -= (size_t)(q2 + 1 - v);
					v = q2 + 1;
				}
			}
			percent_decode(v, vlen, tmp);
		} else {
			buf_append(tmp, v, vlen);
		}
	}
	/* Sections out of order or missing: mark the rest used. */
	for (size_t i = first; i < n; i++)
		if (rp[i].section >= 0 && strcmp(rp[i].name, name) == 0)
			rp[i].used = true;
	if (have_charset)
		mime_charset_to_utf8(charset, tmp->data ? tmp->data : "", tmp->len, out);
	else
		mime_append_utf8_sanitized(out, tmp->data ? tmp->data : "", tmp->len);
}

/* A plain parameter's value: encoded words decoded, else UTF-8 kept. */
static void plain_value(const struct raw_param *r, struct buf *out)
{
	if (memmem(r->value, r->value_len, "=?", 2) != NULL)
		mime_decode_words(r->value, r->value_len, out);
	else
		mime_append_utf8_sanitized(out, r->value, r->value_len);
}

static int cmp_name_ptr(const void *a, const void *b)
{
	return strcmp((*(const struct raw_param *const *)a)->name,
		      (*(const struct raw_param *const *)b)->name);
}

/* The parameters as BODYSTRUCTURE shows them (RFC 9051 7.5.2: servers
 * SHOULD decode continuations; the charset encoding stays): the plain ones
 * first, in order, then each RFC 2231 parameter by name with its sections
 * joined: "name*" "charset'lang'%XX..." when a section is encoded, else
 * "name" with the plain text. This is what Dovecot sends, and it stays
 * 7-bit where the message was. */
static void imap_params(struct mime_message_priv *m, const struct raw_param *rp, size_t n,
			struct mime_param **params_r, size_t *count_r)
{
	const struct raw_param *group[MIME_MAX_PARAMS];
	struct mime_param out[MIME_MAX_PARAMS];
	size_t g = 0, count = 0;
	struct buf v;

	buf_init(&v, 0);
	for (size_t i = 0; i < n; i++) {
		if (rp[i].section < 0 && !rp[i].extended)
			continue;
		size_t k;
		for (k = 0; k < g; k++)
			if (strcmp(group[k]->name, rp[i].name) == 0)
				break;
		if (k == g)
			group[g++] = &rp[i];
	}
	/* Plain parameters, with the values parse_params gave them. */
	for (size_t i = 0; i < n; i++) {
		if (rp[i].section >= 0 || rp[i].extended)
			continue;
		buf_reset(&v);
		plain_value(&rp[i], &v);
		out[count].name = mime_arena_strndup(&m->arena, rp[i].name, strlen(rp[i].name));
		out[count].value = mime_arena_strndup(&m->arena, v.data ? v.data : "", v.len);
		count++;
	}
	qsort(group, g, sizeof(group[0]), cmp_name_ptr);
	for (size_t k = 0; k < g && count < MIME_MAX_PARAMS; k++) {
		const char *name = group[k]->name;
		bool ext = false;
		buf_reset(&v);
		for (int sec = 0; ; sec++) {
			size_t i;
			for (i = 0; i < n; i++) {
				if (strcmp(rp[i].name, name) != 0)
					continue;
				if (rp[i].section == sec || (sec == 0 && rp[i].section < 0 && rp[i].extended))
					break;
			}
			if (i == n)
				break;
			if (rp[i].extended && !ext) {
				ext = true;
				if (sec > 0) {
					/* plain sections came first: no charset */
					char *old = xstrndup(v.data ? v.data : "", v.len);
					buf_reset(&v);
					buf_append_str(&v, "''");
					buf_append_str(&v, old);
					free(old);
				}
			}
			buf_append(&v, rp[i].value, rp[i].value_len);
		}
		size_t nl = strlen(name);
		char *iname = mime_arena_alloc(&m->arena, nl + 2);
		memcpy(iname, name, nl);
		iname[nl] = ext ? '*' : '\0';
		iname[nl + 1] = '\0';
		out[count].name = iname;
		out[count].value = mime_arena_strndup(&m->arena, v.data ? v.data : "", v.len);
		count++;
	}
	buf_free(&v);
	*count_r = count;
	*params_r = NULL;
	if (count > 0) {
		*params_r = mime_arena_alloc(&m->arena, count * sizeof(out[0]));
		memcpy(*params_r, out, count * sizeof(out[0]));
	}
}

/* Parse the parameters after a Content-Type or Content-Disposition value;
 * *params_r decoded (RFC 2231 joined and converted to UTF-8), *imap_r as
 * BODYSTRUCTURE shows them. */
static void parse_params(struct mime_message_priv *m, const char *p, const char *end,
			 struct mime_param **params_r, size_t *count_r,
			 struct mime_param **imap_r, size_t *imap_count_r)
{
	struct raw_param rp[MIME_MAX_PARAMS];
	struct mime_param out[MIME_MAX_PARAMS];
	struct buf tmp, val, tmp2;
	size_t n, count = 0;

	buf_init(&tmp, 0);
	buf_init(&val, 0);
	buf_init(&tmp2, 0);
	n = read_params(p, end, rp, MIME_MAX_PARAMS, &tmp);
	for (size_t i = 0; i < n; i++) {
		if (rp[i].used)
			continue;
		buf_reset(&val);
		if (rp[i].section >= 0) {
			join_sections(rp, n, i, &val, &tmp2);
		} else if (rp[i].extended) {
			rp[i].section = 0;	/* "name*" is a single extended section */
			join_sections(rp, n, i, &val, &tmp2);
		} else {
			/* A plain value loses to an extended one of the same name. */
			bool shadowed = false;

			for (size_t j = 0; j < n; j++) {
				if (j != i && (rp[j].extended || rp[j].section >= 0) &&
				    strcmp(rp[j].name, rp[i].name) == 0)
					shadowed = true;
			}
			rp[i].used = true;
			if (shadowed)
				continue;
			plain_value(&rp[i], &val);
		}
		out[count].name = mime_arena_strndup(&m->arena, rp[i].name, strlen(rp[i].name));
		out[count].value = mime_arena_strndup(&m->arena, val.data ? val.data : "", val.len);
		count++;
	}
	imap_params(m, rp, n, imap_r, imap_count_r);
	for (size_t i = 0; i < n; i++) {
		free(rp[i].name);
		free(rp[i].value);
	}
	buf_free(&tmp);
	buf_free(&val);
	buf_free(&tmp2);
	*count_r = count;
	*params_r = NULL;
	if (count > 0) {
		*params_r = mime_arena_alloc(&m->arena, count * sizeof(out[0]));
		memcpy(*params_r, out, count * sizeof(out[0]));
	}
}

const char *mime_param_get(const struct mime_param *params, size_t count, const char *name)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(params[i].name, name) == 0)
			return params[i].value;
	}
	return NULL;
}

/* ---- Content-* fields ---- */

/* The unfolded raw value of h, as a C string (NUL bytes dropped). */
static char *field_string(struct mime_message_priv *m, const struct mime_header *h,
			  struct buf *tmp, size_t *len_r)
{
	buf_reset(tmp);
	mime_field_value(m->pub.raw, h, tmp);
	size_t w = 0;
	for (size_t i = 0; i < tmp->len; i++) {
		if (tmp->data[i] != '\0')
			tmp->data[w++] = tmp->data[i];
	}
	tmp->len = w;
	if (tmp->data)
		tmp->data[w] = '\0';
	*len_r = w;
	return tmp->data ? tmp->data : (char *)"";
}

static void add_default_charset(struct mime_message_priv *m, struct mime_part *part)
{
	struct mime_param *np = mime_arena_alloc(&m->arena, (part->param_count + 1) * sizeof(*np));

	if (part->param_count > 0)
		memcpy(np, part->params, part->param_count * sizeof(*np));
	np[part->param_count].name = mime_arena_strndup(&m->arena, "charset", 7);
	np[part->param_count].value = mime_arena_strndup(&m->arena, "us-ascii", 8);
	part->params = np;
	part->param_count++;
	np = mime_arena_alloc(&m->arena, (part->imap_param_count + 1) * sizeof(*np));
	if (part->imap_param_count > 0)
		memcpy(np, part->imap_params, part->imap_param_count * sizeof(*np));
	np[part->imap_param_count] = part->params[part->param_count - 1];
	part->imap_params = np;
	part->imap_param_count++;
}

static void parse_content_type(struct mime_message_priv *m, struct mime_part *part,
			       bool in_digest, struct buf *tmp)
{
	const struct mime_header *h = mime_find_header(part, "Content-Type");
	bool ok = false;

	if (h != NULL) {
		size_t len;
		const char *v = field_string(m, h, tmp, &len);
		const char *p = v, *end = v + len;

		mime_skip_cfws(&p, end, NULL);
		size_t tl = token_len(p, end);
		const char *t = p;
		p += tl;
		mime_skip_cfws(&p, end, NULL);
		if (tl > 0 && p < end && *p == '/') {
			p++;
			mime_skip_cfws(&p, end, NULL);
			size_t sl = token_len(p, end);

			if (sl > 0) {
				part->type = arena_lower(&m->arena, t, tl);
				part->subtype = arena_lower(&m->arena, p, sl);
				p += sl;
				/* The value is reused below: copy it first. */
				char *copy = xstrndup(p, (size_t)(end - p));
				parse_params(m, copy, copy + strlen(copy), &part->params,
					     &part->param_count, &part->imap_params,
					     &part->imap_param_count);
				free(copy);
				ok = true;
			}
		}
	}
	if (!ok) {
		/* RFC 2045 5.2 / RFC 2046 5.1.5: missing or invalid. */
		part->params = NULL;
		part->param_count = 0;
		part->imap_params = NULL;
		part->imap_param_count = 0;
		if (in_digest) {
			part->type = mime_arena_strndup(&m->arena, "message", 7);
			part->subtype = mime_arena_strndup(&m->arena, "rfc822", 6);
			return;
		}
		part->type = mime_arena_strndup(&m->arena, "text", 4);
		part->subtype = mime_arena_strndup(&m->arena, "plain", 5);
	}
	if (strcmp(part->type, "text") == 0 &&
	    mime_param_get(part->params, part->param_count, "charset") == NULL)
		add_default_charset(m, part);
}

static char *simple_field(struct mime_message_priv *m, const struct mime_part *part,
			  const char *name, struct buf *tmp)
{
	const struct mime_header *h = mime_find_header(part, name);
	size_t len;

	if (h == NULL)
		return NULL;
	const char *v = field_string(m, h, tmp, &len);
	return mime_arena_strndup(&m->arena, v, len);
}

static void parse_content_fields(struct mime_message_priv *m, struct mime_part *part,
				 bool in_digest)
{
	struct buf tmp;
	const struct mime_header *h;
	size_t len;

	buf_init(&tmp, 0);
	parse_content_type(m, part, in_digest, &tmp);
	part->id = simple_field(m, part, "Content-ID", &tmp);
	part->description = simple_field(m, part, "Content-Description", &tmp);
	part->md5 = simple_field(m, part, "Content-MD5", &tmp);
	part->location = simple_field(m, part, "Content-Location", &tmp);

	if ((h = mime_find_header(part, "Content-Transfer-Encoding")) != NULL) {
		const char *v = field_string(m, h, &tmp, &len), *p = v, *end = v + len;

		mime_skip_cfws(&p, end, NULL);
		size_t tl = token_len(p, end);
		if (tl > 0)
			part->encoding = mime_arena_strndup(&m->arena, p, tl);
	}
	if ((h = mime_find_header(part, "Content-Disposition")) != NULL) {
		const char *v = field_string(m, h, &tmp, &len), *p = v, *end = v + len;

		mime_skip_cfws(&p, end, NULL);
		size_t tl = token_len(p, end);
		if (tl > 0) {
			part->disposition = arena_lower(&m->arena, p, tl);
			p += tl;
			char *copy = xstrndup(p, (size_t)(end - p));
			parse_params(m, copy, copy + strlen(copy), &part->disp_params,
				     &part->disp_param_count, &part->imap_disp_params,
				     &part->imap_disp_param_count);
			free(copy);
		}
	}
	if ((h = mime_find_header(part, "Content-Language")) != NULL) {
		const char *v = field_string(m, h, &tmp, &len), *p = v, *end = v + len;
		char *langs[MIME_MAX_PARAMS];
		size_t n = 0;

		while (p < end && n < MIME_MAX_PARAMS) {
			mime_skip_cfws(&p, end, NULL);
			size_t tl = token_len(p, end);

			if (tl > 0) {
				langs[n++] = mime_arena_strndup(&m->arena, p, tl);
				p += tl;
			}
			mime_skip_cfws(&p, end, NULL);
			if (p < end && *p != ',')
				break;	/* junk: keep what was read */
			if (p < end)
				p++;
		}
		if (n > 0) {
			part->languages = mime_arena_alloc(&m->arena, n * sizeof(char *));
			memcpy(part->languages, langs, n * sizeof(char *));
			part->language_count = n;
		}
	}
	buf_free(&tmp);
}

/* ---- the tree ---- */

struct range {
	size_t start, end;
};

static void parse_part(struct mime_message_priv *m, struct mime_part *part, size_t start,
		       size_t end, unsigned depth, bool in_digest, struct header_vec *hv);

/* Find the parts of a multipart body. Returns how many ranges were stored
 * in *ranges_r (malloc'ed). */
static size_t split_multipart(struct mime_message_priv *m, const struct mime_part *part,
			      const char *boundary, size_t budget, struct range **ranges_r)
{
	const char *raw = m->pub.raw;
	size_t blen = strlen(boundary), dlen = blen + 2;
	size_t bs = part->body_offset, be = bs + part->body_len, pos = bs;
	char delim[MIME_MAX_BOUNDARY + 2];
	struct range *r = NULL;
	size_t n = 0, cap = 0;
	bool open = false;
	size_t open_start = 0;

	*ranges_r = NULL;
	if (blen == 0 || blen > MIME_MAX_BOUNDARY || budget == 0)
		return 0;
	delim[0] = delim[1] = '-';
	memcpy(delim + 2, boundary, blen);

	while (pos < be) {
		const char *f = memmem(raw + pos, be - pos, delim, dlen);

		if (f == NULL)
			break;
		size_t off = (size_t)(f - raw);
		if (off != bs && raw[off - 1] != '\n') {
			pos = off + 1;
			continue;
		}
		size_t q = off + dlen;
		bool close = q + 2 <= be && raw[q] == '-' && raw[q + 1] == '-';
		if (close)
			q += 2;
		while (q < be && is_wsp(raw[q]))
			q++;
		if (!close && q < be && raw[q] != '\r' && raw[q] != '\n') {
			pos = off + 1;	/* "--boundaryX": another boundary */
			continue;
		}
		const char *nl = memchr(raw + q, '\n', be - q);
		size_t line_end = nl != NULL ? (size_t)(nl - raw) + 1 : be;

		if (open) {
			size_t e = off;

			if (e > open_start && raw[e - 1] == '\n')
				e--;
			if (e > open_start && raw[e - 1] == '\r')
				e--;
			if (n == cap) {
				cap = cap ? cap * 2 : 8;
				r = xrealloc(r, cap * sizeof(*r));
			}
			r[n].start = open_start;
			r[n].end = e;
			n++;
			open = false;
		}
		if (close || n == budget)
			break;
		open = true;
		open_start = line_end;
		pos = line_end;
	}
	if (open) {
		/* Never closed: the last part runs to the end. */
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			r = xrealloc(r, cap * sizeof(*r));
		}
		r[n].start = open_start;
		r[n].end = be;
		n++;
	}
	*ranges_r = r;
	return n;
}

static bool is_message_type(const struct mime_part *part)
{
	return strcmp(part->type, "message") == 0 &&
		(strcmp(part->subtype, "rfc822") == 0 || strcmp(part->subtype, "global") == 0);
}

static void parse_part(struct mime_message_priv *m, struct mime_part *part, size_t start,
		       size_t end, unsigned depth, bool in_digest, struct header_vec *hv)
{
	part->msg = &m->pub;
	parse_header_block(m, part, start, end, hv);
	parse_content_fields(m, part, in_digest);
	part->body_lines = count_lines(m->pub.raw + part->body_offset, part->body_len);

	if (depth >= m->limits.max_depth || m->part_count >= m->limits.max_parts)
		return;
	if (strcmp(part->type, "multipart") == 0) {
		const char *boundary = mime_param_get(part->params, part->param_count, "boundary");
		struct range *ranges;
		size_t n;

		if (boundary == NULL)
			return;
		n = split_multipart(m, part, boundary, m->limits.max_parts - m->part_count, &ranges);
		if (n == 0)
			return;
		m->part_count += n;
		part->children = mime_arena_alloc(&m->arena, n * sizeof(*part->children));
		part->child_count = n;
		bool digest = strcmp(part->subtype, "digest") == 0;
		for (size_t i = 0; i < n; i++)
			parse_part(m, &part->children[i], ranges[i].start, ranges[i].end,
				   depth + 1, digest, hv);
		free(ranges);
	} else if (is_message_type(part)) {
		/* An encoded message/rfc822 (not allowed by RFC 2046, but sent)
		 * is not a message we can read without decoding: a leaf. */
		if (part->encoding != NULL && (str_casecmp(part->encoding, "base64") == 0 ||
					       str_casecmp(part->encoding, "quoted-printable") == 0))
			return;
		m->part_count++;
		part->message = mime_arena_alloc(&m->arena, sizeof(*part->message));
		parse_part(m, part->message, part->body_offset, part->body_offset + part->body_len,
			   depth + 1, false, hv);
	}
}

struct mime_message *mime_parse(const char *raw, size_t size, const struct mime_limits *limits)
{
	struct mime_message_priv *m = xcalloc(1, sizeof(*m));
	struct header_vec hv = { NULL, 0, 0 };

	m->pub.raw = raw != NULL ? raw : "";
	m->pub.size = raw != NULL ? size : 0;
	m->limits.max_depth = MIME_DEFAULT_MAX_DEPTH;
	m->limits.max_parts = MIME_DEFAULT_MAX_PARTS;
	if (limits != NULL) {
		if (limits->max_depth > 0)
			m->limits.max_depth = limits->max_depth;
		if (limits->max_parts > 0)
			m->limits.max_parts = limits->max_parts;
	}
	if (m->limits.max_depth > MIME_HARD_MAX_DEPTH)
		m->limits.max_depth = MIME_HARD_MAX_DEPTH;
	m->pub.lines = count_lines(m->pub.raw, m->pub.size);
	m->part_count = 1;
	parse_part(m, &m->pub.root, 0, m->pub.size, 0, false, &hv);
	free(hv.v);
	return &m->pub;
}

void mime_free(struct mime_message **msg)
{
	if (*msg == NULL)
		return;
	struct mime_message_priv *m = (struct mime_message_priv *)*msg;

	mime_arena_free(&m->arena);
	free(m);
	*msg = NULL;
}
