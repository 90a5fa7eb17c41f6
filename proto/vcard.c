/* vCard 3.0/4.0 parser and serializer. Input is split into physical lines
 * (CRLF or bare LF), unfolded into content lines, and each content line
 * keeps its original bytes so an unchanged property is written back exactly
 * as it came. Every size is checked against the limits before it is copied. */
#include "vcard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_sort.h"

void vcard_limits_default(struct vcard_limits *lim)
{
	lim->max_size = 1024 * 1024;
	lim->max_lines = 20000;
	lim->max_line_len = 256 * 1024;
	lim->max_props = 5000;
	lim->max_params = 32;
	lim->max_param_values = 32;
	lim->max_cards = 1;
}

/* ---- memory ---- */

static void param_free(struct vcard_param *pa)
{
	free(pa->name);
	for (size_t i = 0; i < pa->nvalues; i++)
		free(pa->values[i]);
	free(pa->values);
}

static void prop_free(struct vcard_prop *p)
{
	free(p->group);
	free(p->name);
	for (size_t i = 0; i < p->nparams; i++)
		param_free(&p->params[i]);
	free(p->params);
	free(p->value);
	free(p->raw);
}

static void prop_copy(struct vcard_prop *dst, const struct vcard_prop *src)
{
	dst->group = src->group != NULL ? xstrdup(src->group) : NULL;
	dst->name = xstrdup(src->name);
	dst->nparams = src->nparams;
	dst->params = src->nparams > 0 ? xcalloc(src->nparams, sizeof(*dst->params)) : NULL;
	for (size_t i = 0; i < src->nparams; i++) {
		const struct vcard_param *a = &src->params[i];
		struct vcard_param *b = &dst->params[i];
		b->name = a->name != NULL ? xstrdup(a->name) : NULL;
		b->nvalues = a->nvalues;
		b->values = xcalloc(a->nvalues > 0 ? a->nvalues : 1, sizeof(char *));
		for (size_t k = 0; k < a->nvalues; k++)
			b->values[k] = xstrdup(a->values[k]);
	}
	dst->value = xstrdup(src->value);
	dst->raw = NULL;
	dst->raw_len = src->raw_len;
	if (src->raw != NULL) {
		dst->raw = xmalloc(src->raw_len + 1);
		memcpy(dst->raw, src->raw, src->raw_len);
		dst->raw[src->raw_len] = '\0';
	}
}

void vcard_free(struct vcard **card)
{
	struct vcard *c = *card;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nprops; i++)
		prop_free(&c->props[i]);
	free(c->props);
	free(c->begin_raw);
	free(c->end_raw);
	free(c);
	*card = NULL;
}

void vcard_free_array(struct vcard ***cards, size_t count)
{
	if (*cards == NULL)
		return;
	for (size_t i = 0; i < count; i++)
		vcard_free(&(*cards)[i]);
	free(*cards);
	*cards = NULL;
}

static struct vcard_prop *card_push(struct vcard *c)
{
	if (c->nprops == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->props = xrealloc(c->props, c->cap * sizeof(*c->props));
	}
	struct vcard_prop *p = &c->props[c->nprops++];
	memset(p, 0, sizeof(*p));
	return p;
}

struct vcard *vcard_dup(const struct vcard *c)
{
	struct vcard *d = xcalloc(1, sizeof(*d));
	d->version = c->version;
	d->begin_raw = c->begin_raw != NULL ? xstrdup(c->begin_raw) : NULL;
	d->end_raw = c->end_raw != NULL ? xstrdup(c->end_raw) : NULL;
	for (size_t i = 0; i < c->nprops; i++)
		prop_copy(card_push(d), &c->props[i]);
	return d;
}

/* ---- property helpers ---- */

static bool name_eq(const char *a, const char *b)
{
	return a != NULL && b != NULL && str_casecmp(a, b) == 0;
}

long vcard_find(const struct vcard *c, const char *name, size_t start)
{
	for (size_t i = start; i < c->nprops; i++)
		if (name_eq(c->props[i].name, name))
			return (long)i;
	return -1;
}

static bool param_is(const struct vcard_param *pa, const char *name)
{
	if (pa->name == NULL)
		return str_casecmp(name, "TYPE") == 0;
	return str_casecmp(pa->name, name) == 0;
}

const struct vcard_param *vcard_prop_param(const struct vcard_prop *p, const char *name)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (param_is(&p->params[i], name))
			return &p->params[i];
	return NULL;
}

bool vcard_prop_has_type(const struct vcard_prop *p, const char *type)
{
	for (size_t i = 0; i < p->nparams; i++) {
		if (!param_is(&p->params[i], "TYPE"))
			continue;
		for (size_t k = 0; k < p->params[i].nvalues; k++)
			if (str_casecmp(p->params[i].values[k], type) == 0)
				return true;
	}
	return false;
}

static void prop_touch(struct vcard_prop *p)
{
	free(p->raw);
	p->raw = NULL;
	p->raw_len = 0;
}

struct vcard_prop *vcard_add(struct vcard *c, const char *group, const char *name,
			     const char *value)
{
	struct vcard_prop *p = card_push(c);
	p->group = group != NULL ? xstrdup(group) : NULL;
	p->name = xstrdup(name);
	p->value = xstrdup(value);
	return p;
}

void vcard_prop_set_value(struct vcard_prop *p, const char *value)
{
	char *v = xstrdup(value);
	free(p->value);
	p->value = v;
	prop_touch(p);
}

static void param_add_value(struct vcard_param *pa, const char *value)
{
	pa->values = xrealloc(pa->values, (pa->nvalues + 1) * sizeof(char *));
	pa->values[pa->nvalues++] = xstrdup(value);
}

void vcard_prop_add_param(struct vcard_prop *p, const char *name, const char *value)
{
	prop_touch(p);
	for (size_t i = 0; i < p->nparams; i++) {
		if (p->params[i].name != NULL && str_casecmp(p->params[i].name, name) == 0) {
			param_add_value(&p->params[i], value);
			return;
		}
	}
	p->params = xrealloc(p->params, (p->nparams + 1) * sizeof(*p->params));
	struct vcard_param *pa = &p->params[p->nparams++];
	memset(pa, 0, sizeof(*pa));
	pa->name = xstrdup(name);
	param_add_value(pa, value);
}

static void prop_del_param_at(struct vcard_prop *p, size_t i)
{
	param_free(&p->params[i]);
	memmove(&p->params[i], &p->params[i + 1], (p->nparams - i - 1) * sizeof(*p->params));
	p->nparams--;
}

void vcard_prop_del_param(struct vcard_prop *p, const char *name)
{
	for (size_t i = 0; i < p->nparams;) {
		if (param_is(&p->params[i], name)) {
			prop_touch(p);
			prop_del_param_at(p, i);
		} else {
			i++;
		}
	}
}

void vcard_remove(struct vcard *c, size_t i)
{
	prop_free(&c->props[i]);
	memmove(&c->props[i], &c->props[i + 1], (c->nprops - i - 1) * sizeof(*c->props));
	c->nprops--;
}

static void prop_rename(struct vcard_prop *p, const char *name)
{
	free(p->name);
	p->name = xstrdup(name);
	prop_touch(p);
}

char *vcard_text_unescape(const char *s)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			char n = s[1];
			if (n == 'n' || n == 'N') {
				buf_append(&b, "\n", 1);
				s++;
				continue;
			}
			if (n == '\\' || n == ',' || n == ';' || n == ':') {
				buf_append(&b, &n, 1);
				s++;
				continue;
			}
		}
		buf_append(&b, s, 1);
	}
	return b.data;
}

void vcard_text_escape(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '\\': buf_append(out, "\\\\", 2); break;
		case '\n': buf_append(out, "\\n", 2); break;
		case '\r': break;
		case ',': buf_append(out, "\\,", 2); break;
		case ';': buf_append(out, "\\;", 2); break;
		default: buf_append(out, s, 1); break;
		}
	}
}

/* ---- parsing ---- */

struct vcard_parser {
	struct vcard_limits lim;
	struct buf line;	/* the physical line being read */
	struct buf logical;	/* the pending content line, unfolded */
	struct buf raw;		/* its physical lines, CRLF-terminated */
	bool pending;
	size_t pending_line;
	size_t total;
	size_t lines;
	struct vcard *cur;	/* between BEGIN and END */
	bool cur_version;
	struct vcard **cards;
	size_t ncards;
	bool failed;
	struct vcard_error err;
};

struct vcard_parser *vcard_parser_new(const struct vcard_limits *lim)
{
	struct vcard_parser *p = xcalloc(1, sizeof(*p));
	if (lim != NULL)
		p->lim = *lim;
	else
		vcard_limits_default(&p->lim);
	buf_init(&p->line, 0);
	buf_init(&p->logical, 0);
	buf_init(&p->raw, 0);
	return p;
}

void vcard_parser_free(struct vcard_parser **pp)
{
	struct vcard_parser *p = *pp;
	if (p == NULL)
		return;
	buf_free(&p->line);
	buf_free(&p->logical);
	buf_free(&p->raw);
	vcard_free(&p->cur);
	vcard_free_array(&p->cards, p->ncards);
	free(p);
	*pp = NULL;
}

static int fail(struct vcard_parser *p, const char *msg, size_t line)
{
	if (!p->failed) {
		p->failed = true;
		p->err.msg = msg;
		p->err.line = line;
	}
	return -1;
}

static bool is_name_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-';
}

/* Whether s[0..n) is UTF-8 without control characters other than HTAB. */
static const char *check_text(const unsigned char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return c == '\r' ? "bare CR in a line" : "control character in a line";
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return "invalid UTF-8";
		if (n - i < len)
			return "invalid UTF-8";
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return "invalid UTF-8";
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return "invalid UTF-8";
		i += len;
	}
	return NULL;
}

/* Parse one content line into prop. Returns NULL or an error text. */
static const char *parse_content_line(const struct vcard_limits *lim, const char *s, size_t n,
				      struct vcard_prop *prop)
{
	size_t pos = 0, start = 0;
	while (pos < n && is_name_char((unsigned char)s[pos]))
		pos++;
	if (pos == start)
		return "bad property name";
	if (pos < n && s[pos] == '.') {
		prop->group = xstrndup(s, pos);
		start = ++pos;
		while (pos < n && is_name_char((unsigned char)s[pos]))
			pos++;
		if (pos == start)
			return "bad property name after group";
	}
	prop->name = xstrndup(s + start, pos - start);
	while (pos < n && s[pos] == ';') {
		pos++;
		if (prop->nparams >= lim->max_params)
			return "too many parameters";
		start = pos;
		while (pos < n && is_name_char((unsigned char)s[pos]))
			pos++;
		if (pos == start)
			return "bad parameter name";
		prop->params = xrealloc(prop->params, (prop->nparams + 1) * sizeof(*prop->params));
		struct vcard_param *pa = &prop->params[prop->nparams++];
		memset(pa, 0, sizeof(*pa));
		pa->values = xcalloc(1, sizeof(char *));
		if (pos >= n || s[pos] != '=') {
			/* a bare value, TEL;WORK: (vCard 2.1 style, still sent in 3.0) */
			pa->values[0] = xstrndup(s + start, pos - start);
			pa->nvalues = 1;
			continue;
		}
		pa->name = xstrndup(s + start, pos - start);
		pos++;
		for (;;) {
			if (pa->nvalues >= lim->max_param_values)
				return "too many parameter values";
			char *v;
			if (pos < n && s[pos] == '"') {
				start = ++pos;
				while (pos < n && s[pos] != '"')
					pos++;
				if (pos >= n)
					return "unterminated quoted parameter value";
				v = xstrndup(s + start, pos - start);
				pos++;
			} else {
				start = pos;
				while (pos < n && s[pos] != ';' && s[pos] != ':' && s[pos] != ',' &&
				       s[pos] != '"')
					pos++;
				if (pos < n && s[pos] == '"')
					return "quote inside a parameter value";
				v = xstrndup(s + start, pos - start);
			}
			/* TYPE="work,voice" (RFC 6350 examples) is a list too */
			char *comma;
			while (str_casecmp(pa->name, "TYPE") == 0 && (comma = strchr(v, ',')) != NULL) {
				if (pa->nvalues + 1 >= lim->max_param_values) {
					free(v);
					return "too many parameter values";
				}
				pa->values = xrealloc(pa->values, (pa->nvalues + 1) * sizeof(char *));
				pa->values[pa->nvalues++] = xstrndup(v, (size_t)(comma - v));
				memmove(v, comma + 1, strlen(comma + 1) + 1);
			}
			pa->values = xrealloc(pa->values, (pa->nvalues + 1) * sizeof(char *));
			pa->values[pa->nvalues++] = v;
			if (pos < n && s[pos] == ',') {
				pos++;
				continue;
			}
			break;
		}
	}
	if (pos >= n || s[pos] != ':')
		return "missing ':' after the property name and parameters";
	pos++;
	prop->value = xstrndup(s + pos, n - pos);
	return NULL;
}

/* RFC 6868: ^n newline, ^^ caret, ^' double quote; other ^ kept. */
static void decode_caret(char *v)
{
	char *w = v;
	for (char *r = v; *r != '\0'; r++) {
		if (*r == '^' && (r[1] == 'n' || r[1] == 'N')) {
			*w++ = '\n';
			r++;
		} else if (*r == '^' && r[1] == '^') {
			*w++ = '^';
			r++;
		} else if (*r == '^' && r[1] == '\'') {
			*w++ = '"';
			r++;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int end_card(struct vcard_parser *p, size_t line)
{
	struct vcard *c = p->cur;
	if (!p->cur_version)
		return fail(p, "VERSION missing", line);
	if (c->version == VCARD_V4) {
		for (size_t i = 0; i < c->nprops; i++)
			for (size_t k = 0; k < c->props[i].nparams; k++)
				for (size_t j = 0; j < c->props[i].params[k].nvalues; j++)
					decode_caret(c->props[i].params[k].values[j]);
	}
	p->cards = xrealloc(p->cards, (p->ncards + 1) * sizeof(*p->cards));
	p->cards[p->ncards++] = c;
	p->cur = NULL;
	return 0;
}

static int process_logical(struct vcard_parser *p)
{
	size_t line = p->pending_line;
	const char *s = p->logical.data;
	size_t n = p->logical.len;
	const char *e = check_text((const unsigned char *)s, n);
	if (e != NULL)
		return fail(p, e, line);
	struct vcard_prop prop;
	memset(&prop, 0, sizeof(prop));
	e = parse_content_line(&p->lim, s, n, &prop);
	if (e != NULL) {
		prop_free(&prop);
		return fail(p, e, line);
	}
	if (str_casecmp(prop.name, "BEGIN") == 0) {
		bool vcard = str_casecmp(prop.value, "VCARD") == 0;
		prop_free(&prop);
		if (!vcard)
			return fail(p, "BEGIN of something other than VCARD", line);
		if (p->cur != NULL)
			return fail(p, "BEGIN:VCARD inside a vCard", line);
		if (p->ncards >= p->lim.max_cards)
			return fail(p, "too many vCards", line);
		p->cur = xcalloc(1, sizeof(*p->cur));
		p->cur->begin_raw = xstrndup(p->raw.data, p->raw.len);
		p->cur_version = false;
		return 0;
	}
	if (p->cur == NULL) {
		prop_free(&prop);
		return fail(p, "content outside BEGIN:VCARD and END:VCARD", line);
	}
	if (str_casecmp(prop.name, "END") == 0) {
		bool vcard = str_casecmp(prop.value, "VCARD") == 0;
		prop_free(&prop);
		if (!vcard)
			return fail(p, "END does not match BEGIN:VCARD", line);
		p->cur->end_raw = xstrndup(p->raw.data, p->raw.len);
		return end_card(p, line);
	}
	if (str_casecmp(prop.name, "VERSION") == 0) {
		enum vcard_version v;
		if (strcmp(prop.value, "3.0") == 0)
			v = VCARD_V3;
		else if (strcmp(prop.value, "4.0") == 0)
			v = VCARD_V4;
		else {
			prop_free(&prop);
			return fail(p, "unsupported VERSION (3.0 and 4.0 are)", line);
		}
		if (p->cur_version) {
			prop_free(&prop);
			return fail(p, "VERSION given twice", line);
		}
		p->cur_version = true;
		p->cur->version = v;
	}
	if (p->cur->nprops >= p->lim.max_props) {
		prop_free(&prop);
		return fail(p, "too many properties", line);
	}
	prop.raw = xstrndup(p->raw.data, p->raw.len);
	prop.raw_len = p->raw.len;
	*card_push(p->cur) = prop;
	return 0;
}

static int flush_pending(struct vcard_parser *p)
{
	if (!p->pending)
		return 0;
	p->pending = false;
	int ret = process_logical(p);
	buf_reset(&p->logical);
	buf_reset(&p->raw);
	return ret;
}

static int physical_line(struct vcard_parser *p, const char *s, size_t n)
{
	if (++p->lines > p->lim.max_lines)
		return fail(p, "too many lines", p->lines);
	if (n > 0 && (s[0] == ' ' || s[0] == '\t')) {
		if (!p->pending)
			return fail(p, "continuation line without a property", p->lines);
		buf_append(&p->logical, s + 1, n - 1);
		buf_append(&p->raw, s, n);
		buf_append(&p->raw, "\r\n", 2);
		return 0;
	}
	if (flush_pending(p) < 0)
		return -1;
	if (n == 0)
		return 0;	/* empty lines around and between vCards */
	p->pending = true;
	p->pending_line = p->lines;
	buf_append(&p->logical, s, n);
	buf_append(&p->raw, s, n);
	buf_append(&p->raw, "\r\n", 2);
	return 0;
}

static int line_done(struct vcard_parser *p)
{
	size_t n = p->line.len;
	const char *s = p->line.data != NULL ? p->line.data : "";
	if (n > 0 && s[n - 1] == '\r')
		n--;
	/* a UTF-8 byte order mark before the first line (Windows exports) */
	if (p->lines == 0 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;
		n -= 3;
	}
	int ret = physical_line(p, s, n);
	buf_reset(&p->line);
	return ret;
}

int vcard_parser_feed(struct vcard_parser *p, const void *data, size_t len,
		      struct vcard_error *err)
{
	const char *s = data;
	if (p->failed)
		goto failed;
	if (len > p->lim.max_size - p->total || p->total + len > p->lim.max_size) {
		fail(p, "vCard data too large", 0);
		goto failed;
	}
	p->total += len;
	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t chunk = nl != NULL ? (size_t)(nl - s) : len;
		/* +1: the CR of a CRLF end is still in the line */
		if (p->line.len + chunk > p->lim.max_line_len + 1) {
			fail(p, "line too long", p->lines + 1);
			goto failed;
		}
		buf_append(&p->line, s, chunk);
		if (nl == NULL)
			break;
		s += chunk + 1;
		len -= chunk + 1;
		if (line_done(p) < 0)
			goto failed;
	}
	return 0;
failed:
	if (err != NULL)
		*err = p->err;
	return -1;
}

int vcard_parser_finish(struct vcard_parser *p, struct vcard ***cards_r, size_t *count_r,
			struct vcard_error *err)
{
	if (p->failed)
		goto failed;
	if (p->line.len > 0 && line_done(p) < 0)
		goto failed;
	if (flush_pending(p) < 0)
		goto failed;
	if (p->cur != NULL) {
		fail(p, "END:VCARD missing", p->lines);
		goto failed;
	}
	if (p->ncards == 0) {
		fail(p, "no vCard in the data", 0);
		goto failed;
	}
	*cards_r = p->cards;
	*count_r = p->ncards;
	p->cards = NULL;
	p->ncards = 0;
	return 0;
failed:
	if (err != NULL)
		*err = p->err;
	return -1;
}

int vcard_parse_multi(const void *data, size_t len, const struct vcard_limits *lim,
		      struct vcard ***cards_r, size_t *count_r, struct vcard_error *err)
{
	struct vcard_parser *p = vcard_parser_new(lim);
	int ret = vcard_parser_feed(p, data, len, err);
	if (ret == 0)
		ret = vcard_parser_finish(p, cards_r, count_r, err);
	vcard_parser_free(&p);
	return ret;
}

int vcard_parse(const void *data, size_t len, const struct vcard_limits *lim,
		struct vcard **card_r, struct vcard_error *err)
{
	struct vcard_limits one;
	if (lim != NULL)
		one = *lim;
	else
		vcard_limits_default(&one);
	one.max_cards = 1;
	struct vcard **cards;
	size_t n;
	if (vcard_parse_multi(data, len, &one, &cards, &n, err) < 0)
		return -1;
	*card_r = cards[0];
	free(cards);
	return 0;
}

/* ---- validation ---- */

static const char *const singletons[] = {
	"N", "UID", "KIND", "BDAY", "REV", "PRODID", "GENDER", "ANNIVERSARY",
};

int vcard_validate(const struct vcard *c, unsigned flags, const char **error_r)
{
	size_t nversion = 0, nfn = 0, nn = 0;
	for (size_t i = 0; i < c->nprops; i++) {
		const char *name = c->props[i].name;
		if (str_casecmp(name, "VERSION") == 0)
			nversion++;
		else if (str_casecmp(name, "FN") == 0)
			nfn++;
		else if (str_casecmp(name, "N") == 0)
			nn++;
	}
	if (nversion != 1) {
		*error_r = "exactly one VERSION is required";
		return -1;
	}
	if (nfn == 0) {
		*error_r = "FN is required";
		return -1;
	}
	if (c->version == VCARD_V3 && nn == 0) {
		*error_r = "N is required in vCard 3.0";
		return -1;
	}
	for (size_t s = 0; s < ARRAY_SIZE(singletons); s++) {
		long first = vcard_find(c, singletons[s], 0);
		if (first < 0)
			continue;
		const struct vcard_param *alt0 = vcard_prop_param(&c->props[first], "ALTID");
		for (long i = vcard_find(c, singletons[s], (size_t)first + 1); i >= 0;
		     i = vcard_find(c, singletons[s], (size_t)i + 1)) {
			/* 4.0: the same property in other languages shares an ALTID */
			const struct vcard_param *alt = vcard_prop_param(&c->props[i], "ALTID");
			if (c->version == VCARD_V4 && alt0 != NULL && alt != NULL &&
			    alt0->nvalues == 1 && alt->nvalues == 1 &&
			    strcmp(alt0->values[0], alt->values[0]) == 0)
				continue;
			*error_r = "a property allowed once appears more than once";
			return -1;
		}
	}
	long uid = vcard_find(c, "UID", 0);
	if ((flags & VCARD_VALIDATE_UID) != 0 && (uid < 0 || c->props[uid].value[0] == '\0')) {
		*error_r = "UID is required";
		return -1;
	}
	if (c->version == VCARD_V4 && vcard_find(c, "MEMBER", 0) >= 0) {
		long kind = vcard_find(c, "KIND", 0);
		if (kind < 0 || str_casecmp(c->props[kind].value, "group") != 0) {
			*error_r = "MEMBER requires KIND:group";
			return -1;
		}
	}
	return 0;
}

/* ---- serialization ---- */

static bool param_needs_quotes(const char *v)
{
	return strpbrk(v, ";:,") != NULL;
}

static void put_param_value(struct buf *b, const char *v, enum vcard_version ver)
{
	bool q = param_needs_quotes(v);
	if (q)
		buf_append(b, "\"", 1);
	for (; *v != '\0'; v++) {
		if (ver == VCARD_V4) {
			if (*v == '^')
				buf_append(b, "^^", 2);
			else if (*v == '\n')
				buf_append(b, "^n", 2);
			else if (*v == '"')
				buf_append(b, "^'", 2);
			else
				buf_append(b, v, 1);
		} else {
			/* 3.0 has no way to write these in a parameter */
			if (*v == '\n' || *v == '\r')
				buf_append(b, " ", 1);
			else if (*v == '"')
				buf_append(b, "'", 1);
			else
				buf_append(b, v, 1);
		}
	}
	if (q)
		buf_append(b, "\"", 1);
}

/* Append line folded at 75 octets, never inside a UTF-8 sequence. */
static int put_folded(struct buf *out, const char *s, size_t n)
{
	size_t width = 75;
	while (n > width) {
		size_t cut = width;
		while (cut > 1 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		if (buf_append(out, s, cut) < 0 || buf_append(out, "\r\n ", 3) < 0)
			return -1;
		s += cut;
		n -= cut;
		width = 74;
	}
	if (buf_append(out, s, n) < 0 || buf_append(out, "\r\n", 2) < 0)
		return -1;
	return 0;
}

static int put_prop(struct buf *out, const struct vcard_prop *p, enum vcard_version ver)
{
	if (p->raw != NULL)
		return buf_append(out, p->raw, p->raw_len);
	struct buf line;
	buf_init(&line, 0);
	if (p->group != NULL) {
		buf_append_str(&line, p->group);
		buf_append(&line, ".", 1);
	}
	buf_append_str(&line, p->name);
	for (size_t i = 0; i < p->nparams; i++) {
		const struct vcard_param *pa = &p->params[i];
		buf_append(&line, ";", 1);
		if (pa->name == NULL) {
			put_param_value(&line, pa->nvalues > 0 ? pa->values[0] : "", ver);
			continue;
		}
		buf_append_str(&line, pa->name);
		buf_append(&line, "=", 1);
		for (size_t k = 0; k < pa->nvalues; k++) {
			if (k > 0)
				buf_append(&line, ",", 1);
			put_param_value(&line, pa->values[k], ver);
		}
	}
	buf_append(&line, ":", 1);
	buf_append_str(&line, p->value);
	int ret = put_folded(out, line.data, line.len);
	buf_free(&line);
	return ret;
}

int vcard_serialize(const struct vcard *c, struct buf *out)
{
	if (c->begin_raw != NULL) {
		if (buf_append_str(out, c->begin_raw) < 0)
			return -1;
	} else if (buf_append_str(out, "BEGIN:VCARD\r\n") < 0) {
		return -1;
	}
	for (size_t i = 0; i < c->nprops; i++)
		if (put_prop(out, &c->props[i], c->version) < 0)
			return -1;
	if (c->end_raw != NULL)
		return buf_append_str(out, c->end_raw);
	return buf_append_str(out, "END:VCARD\r\n");
}

/* ---- conversion ---- */

static bool is_binary_prop(const char *name)
{
	return name_eq(name, "PHOTO") || name_eq(name, "LOGO") || name_eq(name, "SOUND") ||
	       name_eq(name, "KEY");
}

static const char *binary_major(const char *name)
{
	if (name_eq(name, "SOUND"))
		return "audio";
	if (name_eq(name, "KEY"))
		return "application";
	return "image";
}

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* 3.0 "1985-04-12" -> 4.0 "19850412"; "--04-12" -> "--0412"; date-times
 * lose their '-' and ':' separators. Returns NULL if not a date. */
static char *date_to_basic(const char *v)
{
	size_t n = strlen(v);
	if (n == 10 && all_digits(v, 4) && v[4] == '-' && all_digits(v + 5, 2) && v[7] == '-' &&
	    all_digits(v + 8, 2))
		return xasprintf("%.4s%.2s%.2s", v, v + 5, v + 8);
	if (n == 7 && v[0] == '-' && v[1] == '-' && all_digits(v + 2, 2) && v[4] == '-' &&
	    all_digits(v + 5, 2))
		return xasprintf("--%.2s%.2s", v + 2, v + 5);
	if (n > 11 && all_digits(v, 4) && v[4] == '-' && v[7] == '-' && v[10] == 'T') {
		struct buf b;
		buf_init(&b, 0);
		for (size_t i = 0; i < n; i++) {
			if (v[i] == '-' && i < 10)
				continue;
			if (v[i] == ':')
				continue;
			buf_append(&b, v + i, 1);
		}
		return b.data;
	}
	return NULL;
}

/* 4.0 "19850412" -> "1985-04-12"; "--0412" -> "1604-04-12" with the year
 * Apple omits (*omit_r = true). Returns NULL if not a basic date. */
static char *date_to_extended(const char *v, bool *omit_r)
{
	size_t n = strlen(v);
	*omit_r = false;
	if (n == 8 && all_digits(v, 8))
		return xasprintf("%.4s-%.2s-%.2s", v, v + 4, v + 6);
	if (n == 6 && v[0] == '-' && v[1] == '-' && all_digits(v + 2, 4)) {
		*omit_r = true;
		return xasprintf("1604-%.2s-%.2s", v + 2, v + 4);
	}
	if (n == 10 && all_digits(v, 4) && v[4] == '-' && all_digits(v + 5, 2) && v[7] == '-')
		return xstrdup(v);	/* already extended */
	return NULL;
}

static void upper_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'a' && *s <= 'z')
			*s = (char)(*s - 'a' + 'A');
}

static void lower_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* TYPE=PREF (any case) -> PREF=1; bare values become TYPE parameters.
 * Each parameter keeps its other values where it was. */
static void pref_to_v4(struct vcard_prop *p)
{
	bool pref = false;
	for (size_t i = 0; i < p->nparams;) {
		struct vcard_param *pa = &p->params[i];
		if (!param_is(pa, "TYPE")) {
			i++;
			continue;
		}
		size_t w = 0;
		bool changed = pa->name == NULL;
		for (size_t k = 0; k < pa->nvalues; k++) {
			if (str_casecmp(pa->values[k], "pref") == 0) {
				pref = changed = true;
				free(pa->values[k]);
				continue;
			}
			pa->values[w++] = pa->values[k];
		}
		pa->nvalues = w;
		if (!changed) {
			i++;
			continue;
		}
		prop_touch(p);
		if (pa->name == NULL)
			pa->name = xstrdup("TYPE");
		if (pa->nvalues == 0)
			prop_del_param_at(p, i);
		else
			i++;
	}
	if (pref)
		vcard_prop_add_param(p, "PREF", "1");
}

/* PREF=1 -> TYPE=pref. */
static void pref_to_v3(struct vcard_prop *p)
{
	for (size_t i = 0; i < p->nparams; i++) {
		struct vcard_param *pa = &p->params[i];
		if (pa->name == NULL || str_casecmp(pa->name, "PREF") != 0)
			continue;
		if (pa->nvalues == 1 && strcmp(pa->values[0], "1") == 0) {
			prop_del_param_at(p, i);
			prop_touch(p);
			vcard_prop_add_param(p, "TYPE", "pref");
		}
		return;
	}
}

static void binary_to_v4(struct vcard_prop *p)
{
	const struct vcard_param *enc = vcard_prop_param(p, "ENCODING");
	if (enc == NULL || enc->nvalues != 1 ||
	    (str_casecmp(enc->values[0], "b") != 0 && str_casecmp(enc->values[0], "BASE64") != 0))
		return;
	const struct vcard_param *type = vcard_prop_param(p, "TYPE");
	char *mt;
	if (type != NULL && type->nvalues > 0 && strchr(type->values[0], '/') != NULL)
		mt = xstrdup(type->values[0]);
	else if (type != NULL && type->nvalues > 0)
		mt = xasprintf("%s/%s", binary_major(p->name), type->values[0]);
	else
		mt = xstrdup("application/octet-stream");
	lower_ascii(mt);
	char *v = xasprintf("data:%s;base64,%s", mt, p->value);
	free(mt);
	vcard_prop_del_param(p, "ENCODING");
	vcard_prop_del_param(p, "TYPE");
	vcard_prop_del_param(p, "VALUE");
	vcard_prop_set_value(p, v);
	free(v);
}

static void binary_to_v3(struct vcard_prop *p)
{
	const char *v = p->value;
	if (str_ncasecmp(v, "data:", 5) != 0) {
		if (vcard_prop_param(p, "VALUE") == NULL && strchr(v, ':') != NULL)
			vcard_prop_add_param(p, "VALUE", "uri");
		return;
	}
	const char *comma = strchr(v, ',');
	if (comma == NULL)
		return;
	size_t hlen = (size_t)(comma - v);
	if (hlen < 12 || str_ncasecmp(comma - 7, ";base64", 7) != 0)
		return;	/* percent-encoded data stays a URI */
	char *mt = xstrndup(v + 5, hlen - 5 - 7);
	char *semi = strchr(mt, ';');
	if (semi != NULL)
		*semi = '\0';
	const char *slash = strchr(mt, '/');
	char *type = xstrdup(slash != NULL ? slash + 1 : mt);
	upper_ascii(type);
	char *data = xstrdup(comma + 1);
	vcard_prop_del_param(p, "VALUE");
	vcard_prop_del_param(p, "MEDIATYPE");
	vcard_prop_add_param(p, "ENCODING", "b");
	if (type[0] != '\0')
		vcard_prop_add_param(p, "TYPE", type);
	vcard_prop_set_value(p, data);
	free(data);
	free(type);
	free(mt);
}

static void date_prop_to_v4(struct vcard_prop *p)
{
	const struct vcard_param *val = vcard_prop_param(p, "VALUE");
	if (val != NULL && val->nvalues == 1 && str_casecmp(val->values[0], "text") == 0)
		return;
	const struct vcard_param *omit = vcard_prop_param(p, "X-APPLE-OMIT-YEAR");
	char *b = date_to_basic(p->value);
	if (b == NULL)
		return;
	if (omit != NULL && omit->nvalues == 1 && strlen(b) == 8 &&
	    strncmp(b, omit->values[0], 4) == 0 && strlen(omit->values[0]) == 4) {
		char *md = xasprintf("--%s", b + 4);
		free(b);
		b = md;
		vcard_prop_del_param(p, "X-APPLE-OMIT-YEAR");
	}
	if (strcmp(b, p->value) != 0)
		vcard_prop_set_value(p, b);
	free(b);
}

static void date_prop_to_v3(struct vcard_prop *p)
{
	const struct vcard_param *val = vcard_prop_param(p, "VALUE");
	if (val != NULL && val->nvalues == 1 && str_casecmp(val->values[0], "text") == 0)
		return;
	bool omit;
	char *e = date_to_extended(p->value, &omit);
	if (e == NULL)
		return;
	if (strcmp(e, p->value) != 0)
		vcard_prop_set_value(p, e);
	if (omit)
		vcard_prop_add_param(p, "X-APPLE-OMIT-YEAR", "1604");
	free(e);
}

static void to_v4(struct vcard *c)
{
	for (size_t i = 0; i < c->nprops;) {
		struct vcard_prop *p = &c->props[i];
		if (name_eq(p->name, "VERSION")) {
			vcard_prop_set_value(p, "4.0");
			i++;
			continue;
		}
		if (vcard_prop_param(p, "CHARSET") != NULL)
			vcard_prop_del_param(p, "CHARSET");	/* 4.0 is UTF-8 only */
		pref_to_v4(p);
		if (is_binary_prop(p->name))
			binary_to_v4(p);
		if (name_eq(p->name, "X-ADDRESSBOOKSERVER-KIND")) {
			prop_rename(p, "KIND");
			char *v = xstrdup(p->value);
			lower_ascii(v);
			vcard_prop_set_value(p, v);
			free(v);
		} else if (name_eq(p->name, "X-ADDRESSBOOKSERVER-MEMBER")) {
			prop_rename(p, "MEMBER");
		} else if (name_eq(p->name, "X-GENDER")) {
			const char *g = str_casecmp(p->value, "male") == 0	 ? "M"
					: str_casecmp(p->value, "female") == 0 ? "F"
										 : NULL;
			if (g != NULL) {
				prop_rename(p, "GENDER");
				vcard_prop_set_value(p, g);
			}
		} else if (name_eq(p->name, "X-ANNIVERSARY")) {
			prop_rename(p, "ANNIVERSARY");
			date_prop_to_v4(p);
		} else if (name_eq(p->name, "BDAY")) {
			date_prop_to_v4(p);
		}
		i++;
	}
	c->version = VCARD_V4;
	/* 4.0 wants VERSION right after BEGIN */
	long v = vcard_find(c, "VERSION", 0);
	if (v > 0) {
		struct vcard_prop tmp = c->props[v];
		memmove(&c->props[1], &c->props[0], (size_t)v * sizeof(*c->props));
		c->props[0] = tmp;
	}
}

static void to_v3(struct vcard *c)
{
	for (size_t i = 0; i < c->nprops;) {
		struct vcard_prop *p = &c->props[i];
		if (name_eq(p->name, "VERSION")) {
			vcard_prop_set_value(p, "3.0");
			i++;
			continue;
		}
		pref_to_v3(p);
		if (is_binary_prop(p->name)) {
			binary_to_v3(p);
		} else if (name_eq(p->name, "TEL")) {
			const struct vcard_param *val = vcard_prop_param(p, "VALUE");
			if (val != NULL && val->nvalues == 1 &&
			    str_casecmp(val->values[0], "uri") == 0 &&
			    str_ncasecmp(p->value, "tel:", 4) == 0) {
				char *num = xstrdup(p->value + 4);
				char *ext = strchr(num, ';');
				if (ext != NULL)
					*ext = '\0';
				vcard_prop_del_param(p, "VALUE");
				vcard_prop_set_value(p, num);
				free(num);
			}
		} else if (name_eq(p->name, "KIND")) {
			prop_rename(p, "X-ADDRESSBOOKSERVER-KIND");
		} else if (name_eq(p->name, "MEMBER")) {
			prop_rename(p, "X-ADDRESSBOOKSERVER-MEMBER");
		} else if (name_eq(p->name, "GENDER")) {
			const char *g = str_casecmp(p->value, "M") == 0	  ? "Male"
					: str_casecmp(p->value, "F") == 0 ? "Female"
									  : NULL;
			if (g != NULL) {
				prop_rename(p, "X-GENDER");
				vcard_prop_set_value(p, g);
			}
		} else if (name_eq(p->name, "ANNIVERSARY")) {
			prop_rename(p, "X-ANNIVERSARY");
			date_prop_to_v3(p);
		} else if (name_eq(p->name, "BDAY")) {
			date_prop_to_v3(p);
		}
		i++;
	}
	c->version = VCARD_V3;
	if (vcard_find(c, "N", 0) < 0) {
		/* N is required in 3.0: after FN, else at the end */
		vcard_add(c, NULL, "N", ";;;;");
		long fn = vcard_find(c, "FN", 0);
		if (fn >= 0 && (size_t)fn + 1 < c->nprops - 1) {
			struct vcard_prop tmp = c->props[c->nprops - 1];
			memmove(&c->props[fn + 2], &c->props[fn + 1],
				(c->nprops - 1 - (size_t)fn - 1) * sizeof(*c->props));
			c->props[fn + 1] = tmp;
		}
	}
}

struct vcard *vcard_convert(const struct vcard *c, enum vcard_version to)
{
	struct vcard *d = vcard_dup(c);
	if (c->version == to)
		return d;
	if (to == VCARD_V4)
		to_v4(d);
	else
		to_v3(d);
	return d;
}

/* ---- index ---- */

static void strv_push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(char *));
	(*v)[(*n)++] = s;
}

static char *trim_dup(const char *s)
{
	char *u = vcard_text_unescape(s);
	char *t = str_trim(u);
	char *r = xstrdup(t);
	free(u);
	return r;
}

void vcard_index_build(const struct vcard *c, struct vcard_index *idx)
{
	memset(idx, 0, sizeof(*idx));
	for (size_t i = 0; i < c->nprops; i++) {
		const struct vcard_prop *p = &c->props[i];
		if (name_eq(p->name, "UID")) {
			if (idx->uid == NULL)
				idx->uid = trim_dup(p->value);
		} else if (name_eq(p->name, "FN")) {
			if (idx->fn == NULL)
				idx->fn = trim_dup(p->value);
		} else if (name_eq(p->name, "KIND") || name_eq(p->name, "X-ADDRESSBOOKSERVER-KIND")) {
			if (idx->kind == NULL) {
				idx->kind = trim_dup(p->value);
				lower_ascii(idx->kind);
			}
		} else if (name_eq(p->name, "EMAIL")) {
			char *e = trim_dup(p->value);
			if (str_ncasecmp(e, "mailto:", 7) == 0)
				memmove(e, e + 7, strlen(e + 7) + 1);
			lower_ascii(e);
			if (e[0] != '\0')
				strv_push(&idx->emails, &idx->nemails, e);
			else
				free(e);
		} else if (name_eq(p->name, "TEL")) {
			char *t = trim_dup(p->value);
			const char *s = t;
			if (str_ncasecmp(s, "tel:", 4) == 0)
				s += 4;
			char *d = xmalloc(strlen(s) + 1);
			size_t n = 0;
			for (; *s != '\0' && *s != ';'; s++) {
				if ((*s >= '0' && *s <= '9') || (*s == '+' && n == 0))
					d[n++] = *s;
			}
			d[n] = '\0';
			free(t);
			if (n > 0 && !(n == 1 && d[0] == '+'))
				strv_push(&idx->tels, &idx->ntels, d);
			else
				free(d);
		} else if (name_eq(p->name, "MEMBER") ||
			   name_eq(p->name, "X-ADDRESSBOOKSERVER-MEMBER")) {
			char *m = trim_dup(p->value);
			if (m[0] != '\0')
				strv_push(&idx->members, &idx->nmembers, m);
			else
				free(m);
		}
	}
	if (idx->kind == NULL || idx->kind[0] == '\0') {
		free(idx->kind);
		idx->kind = xstrdup("individual");
	}
	if (idx->fn == NULL)
		idx->fn = xstrdup("");
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void vcard_index_free(struct vcard_index *idx)
{
	free(idx->uid);
	free(idx->fn);
	free(idx->kind);
	strv_free(idx->emails, idx->nemails);
	strv_free(idx->tels, idx->ntels);
	strv_free(idx->members, idx->nmembers);
	memset(idx, 0, sizeof(*idx));
}

/* ---- filters ---- */

int vcard_collation_from_name(const char *name)
{
	if (strcmp(name, "i;unicode-casemap") == 0)
		return VCARD_COLL_UNICODE_CASEMAP;
	if (strcmp(name, "i;ascii-casemap") == 0)
		return VCARD_COLL_ASCII_CASEMAP;
	if (strcmp(name, "i;octet") == 0)
		return VCARD_COLL_OCTET;
	return -1;
}

int vcard_match_type_from_name(const char *name)
{
	if (strcmp(name, "equals") == 0)
		return VCARD_MATCH_EQUALS;
	if (strcmp(name, "contains") == 0)
		return VCARD_MATCH_CONTAINS;
	if (strcmp(name, "starts-with") == 0)
		return VCARD_MATCH_STARTS_WITH;
	if (strcmp(name, "ends-with") == 0)
		return VCARD_MATCH_ENDS_WITH;
	return -1;
}

char *vcard_collate(enum vcard_collation coll, const char *s)
{
	char *r;
	switch (coll) {
	case VCARD_COLL_UNICODE_CASEMAP:
		return imap_sort_casemap(s);
	case VCARD_COLL_ASCII_CASEMAP:
		r = xstrdup(s);
		upper_ascii(r);	/* RFC 4790 9.2 maps to upper case */
		return r;
	case VCARD_COLL_OCTET:
		break;
	}
	return xstrdup(s);
}

static void text_match_init(struct vcard_text_match *tm, const char *text,
			    enum vcard_collation coll, enum vcard_match_type match, bool negate)
{
	tm->text = xstrdup(text);
	tm->folded = vcard_collate(coll, text);
	tm->collation = coll;
	tm->match = match;
	tm->negate = negate;
}

static void text_match_free(struct vcard_text_match *tm)
{
	free(tm->text);
	free(tm->folded);
}

struct vcard_filter *vcard_filter_new(bool allof)
{
	struct vcard_filter *f = xcalloc(1, sizeof(*f));
	f->allof = allof;
	return f;
}

void vcard_filter_free(struct vcard_filter **fp)
{
	struct vcard_filter *f = *fp;
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->nprops; i++) {
		struct vcard_prop_filter *pf = &f->props[i];
		free(pf->name);
		for (size_t k = 0; k < pf->ntext_matches; k++)
			text_match_free(&pf->text_matches[k]);
		free(pf->text_matches);
		for (size_t k = 0; k < pf->nparam_filters; k++) {
			free(pf->param_filters[k].name);
			if (pf->param_filters[k].text_match != NULL) {
				text_match_free(pf->param_filters[k].text_match);
				free(pf->param_filters[k].text_match);
			}
		}
		free(pf->param_filters);
	}
	free(f->props);
	free(f);
	*fp = NULL;
}

struct vcard_prop_filter *vcard_filter_add_prop(struct vcard_filter *f, const char *name,
						bool allof)
{
	f->props = xrealloc(f->props, (f->nprops + 1) * sizeof(*f->props));
	struct vcard_prop_filter *pf = &f->props[f->nprops++];
	memset(pf, 0, sizeof(*pf));
	pf->name = xstrdup(name);
	pf->allof = allof;
	return pf;
}

void vcard_prop_filter_add_text_match(struct vcard_prop_filter *pf, const char *text,
				      enum vcard_collation coll, enum vcard_match_type match,
				      bool negate)
{
	pf->text_matches =
		xrealloc(pf->text_matches, (pf->ntext_matches + 1) * sizeof(*pf->text_matches));
	text_match_init(&pf->text_matches[pf->ntext_matches++], text, coll, match, negate);
}

void vcard_prop_filter_add_param(struct vcard_prop_filter *pf, const char *name,
				 bool is_not_defined, const char *text, enum vcard_collation coll,
				 enum vcard_match_type match, bool negate)
{
	pf->param_filters = xrealloc(pf->param_filters,
				     (pf->nparam_filters + 1) * sizeof(*pf->param_filters));
	struct vcard_param_filter *pa = &pf->param_filters[pf->nparam_filters++];
	memset(pa, 0, sizeof(*pa));
	pa->name = xstrdup(name);
	pa->is_not_defined = is_not_defined;
	if (text != NULL) {
		pa->text_match = xcalloc(1, sizeof(*pa->text_match));
		text_match_init(pa->text_match, text, coll, match, negate);
	}
}

static bool folded_match(const struct vcard_text_match *tm, const char *v)
{
	size_t n = strlen(v), m = strlen(tm->folded);
	switch (tm->match) {
	case VCARD_MATCH_EQUALS:
		return strcmp(v, tm->folded) == 0;
	case VCARD_MATCH_CONTAINS:
		return strstr(v, tm->folded) != NULL;
	case VCARD_MATCH_STARTS_WITH:
		return n >= m && memcmp(v, tm->folded, m) == 0;
	case VCARD_MATCH_ENDS_WITH:
		return n >= m && memcmp(v + n - m, tm->folded, m) == 0;
	}
	return false;
}

bool vcard_text_match(const struct vcard_text_match *tm, const char *s)
{
	char *v = vcard_collate(tm->collation, s);
	bool r = folded_match(tm, v);
	free(v);
	return tm->negate ? !r : r;
}

static bool param_filter_match(const struct vcard_param_filter *pf, const struct vcard_prop *p)
{
	bool defined = false, matched = false;
	for (size_t i = 0; i < p->nparams; i++) {
		if (!param_is(&p->params[i], pf->name))
			continue;
		defined = true;
		if (pf->text_match == NULL)
			continue;
		for (size_t k = 0; k < p->params[i].nvalues && !matched; k++) {
			char *v = vcard_collate(pf->text_match->collation, p->params[i].values[k]);
			matched = folded_match(pf->text_match, v);
			free(v);
		}
	}
	if (pf->is_not_defined)
		return !defined;
	if (!defined)
		return false;
	if (pf->text_match == NULL)
		return true;
	return pf->text_match->negate ? !matched : matched;
}

static bool prop_instance_match(const struct vcard_prop_filter *pf, const struct vcard_prop *p)
{
	size_t n = pf->ntext_matches + pf->nparam_filters;
	if (n == 0)
		return true;
	char *value = pf->ntext_matches > 0 ? vcard_text_unescape(p->value) : NULL;
	bool any = false, all = true;
	for (size_t k = 0; k < pf->nparam_filters; k++) {
		bool r = param_filter_match(&pf->param_filters[k], p);
		any |= r;
		all &= r;
	}
	for (size_t k = 0; k < pf->ntext_matches; k++) {
		bool r = vcard_text_match(&pf->text_matches[k], value);
		any |= r;
		all &= r;
	}
	free(value);
	return pf->allof ? all : any;
}

static bool prop_filter_match(const struct vcard_prop_filter *pf, const struct vcard *c)
{
	long i = vcard_find(c, pf->name, 0);
	if (pf->is_not_defined)
		return i < 0;
	for (; i >= 0; i = vcard_find(c, pf->name, (size_t)i + 1))
		if (prop_instance_match(pf, &c->props[i]))
			return true;
	return false;
}

bool vcard_filter_match(const struct vcard_filter *f, const struct vcard *c)
{
	if (f == NULL || f->nprops == 0)
		return true;
	for (size_t i = 0; i < f->nprops; i++) {
		bool r = prop_filter_match(&f->props[i], c);
		if (f->allof && !r)
			return false;
		if (!f->allof && r)
			return true;
	}
	return f->allof;
}

/* ---- address-data ---- */

struct vcard *vcard_subset(const struct vcard *c, const struct vcard_prop_sel *sel, size_t n)
{
	struct vcard *d = xcalloc(1, sizeof(*d));
	d->version = c->version;
	d->begin_raw = c->begin_raw != NULL ? xstrdup(c->begin_raw) : NULL;
	d->end_raw = c->end_raw != NULL ? xstrdup(c->end_raw) : NULL;
	for (size_t i = 0; i < c->nprops; i++) {
		const struct vcard_prop *p = &c->props[i];
		bool keep = name_eq(p->name, "VERSION"), novalue = false;
		for (size_t k = 0; k < n && !keep; k++) {
			if (name_eq(p->name, sel[k].name)) {
				keep = true;
				novalue = sel[k].novalue;
			}
		}
		if (!keep)
			continue;
		struct vcard_prop *q = card_push(d);
		prop_copy(q, p);
		if (novalue)
			vcard_prop_set_value(q, "");
	}
	return d;
}
