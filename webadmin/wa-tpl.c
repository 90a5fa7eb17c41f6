/* Template engine (wa-tpl.h): compile HTML with placeholders into a list of
 * operations, deciding each placeholder's escaping from the HTML state the
 * literal text before it leaves (a small tokenizer after the HTML5 one:
 * text, tag, attribute name, quoted value, comment, script/style), then
 * render the operations against a tree of variables. */
#include "autoconf.h"
#include "wa-tpl.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TPL_MAX_DEPTH 32	/* nested sections */
#define TPL_MAX_PARTIAL_DEPTH 8
#define TPL_MAX_NAME 64

enum ctx { CTX_HTML, CTX_ATTR, CTX_URL, CTX_URL_PART };

enum op_kind { OP_TEXT, OP_VAR, OP_RAW, OP_IF, OP_UNLESS, OP_ELSE, OP_EACH, OP_END };

struct op {
	enum op_kind kind;
	enum ctx ctx;
	char *str;		/* text, or a variable name */
	size_t len;
	size_t jump;		/* IF/UNLESS: its ELSE or END; ELSE: END; EACH: END */
	size_t end;		/* IF/UNLESS/EACH: its END */
};

struct tpl {
	struct op *ops;
	size_t nops, cap;
};

/* HTML tokenizer states. */
enum hstate {
	H_TEXT, H_LT, H_BANG, H_BANG_DASH, H_COMMENT, H_ENDTAG, H_TAGNAME, H_TAG,
	H_ATTRNAME, H_AFTER_ATTRNAME, H_BEFORE_VALUE, H_VAL_DQ, H_VAL_SQ, H_VAL_UQ,
	H_RAW,
};

struct hctx {
	enum hstate state;
	char tag[16];
	size_t tag_len;
	char attr[24];
	size_t attr_len;
	size_t value_len;	/* characters in the current attribute value so far */
	unsigned dashes;	/* comment: '-' just seen */
	size_t raw_match;	/* script/style: how much of "</tag" matched */
};

struct section {
	size_t op;
	enum op_kind kind;
	struct hctx at_open;
};

struct compiler {
	struct tpl *t;
	struct hctx h;
	struct section stack[TPL_MAX_DEPTH];
	size_t depth;
	tpl_loader_fn *loader;
	void *loader_ctx;
	char *error;
};

static bool is_url_attr(const char *a)
{
	return strcmp(a, "href") == 0 || strcmp(a, "src") == 0 || strcmp(a, "action") == 0 ||
	       strcmp(a, "formaction") == 0 || strcmp(a, "xlink:href") == 0;
}

static void end_of_tag(struct hctx *h)
{
	if (h->tag_len > 0 && (strcmp(h->tag, "script") == 0 || strcmp(h->tag, "style") == 0)) {
		h->state = H_RAW;
		h->raw_match = 0;
	} else {
		h->state = H_TEXT;
	}
}

static void feed(struct hctx *h, char ch)
{
	unsigned char c = (unsigned char)ch;
	bool ws = c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';

	switch (h->state) {
	case H_TEXT:
		if (c == '<')
			h->state = H_LT;
		break;
	case H_LT:
		if (c == '!') {
			h->state = H_BANG;
		} else if (c == '/') {
			h->state = H_ENDTAG;
		} else if (isalpha(c)) {
			h->state = H_TAGNAME;
			h->tag[0] = (char)tolower(c);
			h->tag_len = 1;
			h->tag[1] = '\0';
		} else {
			h->state = c == '<' ? H_LT : H_TEXT;
		}
		break;
	case H_BANG:
		h->state = c == '-' ? H_BANG_DASH : H_ENDTAG;
		break;
	case H_BANG_DASH:
		h->state = c == '-' ? H_COMMENT : H_ENDTAG;
		h->dashes = 0;
		break;
	case H_COMMENT:
		if (c == '-')
			h->dashes++;
		else if (c == '>' && h->dashes >= 2)
			h->state = H_TEXT;
		else
			h->dashes = 0;
		break;
	case H_ENDTAG:
		if (c == '>')
			h->state = H_TEXT;
		break;
	case H_TAGNAME:
		if (ws || c == '/') {
			h->state = H_TAG;
		} else if (c == '>') {
			end_of_tag(h);
		} else if (h->tag_len + 1 < sizeof(h->tag)) {
			h->tag[h->tag_len++] = (char)tolower(c);
			h->tag[h->tag_len] = '\0';
		}
		break;
	case H_TAG:
	case H_AFTER_ATTRNAME:
		if (c == '>') {
			end_of_tag(h);
		} else if (c == '=' && h->state == H_AFTER_ATTRNAME) {
			h->state = H_BEFORE_VALUE;
		} else if (!ws && c != '/') {
			h->state = H_ATTRNAME;
			h->attr[0] = (char)tolower(c);
			h->attr_len = 1;
			h->attr[1] = '\0';
		}
		break;
	case H_ATTRNAME:
		if (c == '=') {
			h->state = H_BEFORE_VALUE;
		} else if (c == '>') {
			end_of_tag(h);
		} else if (ws || c == '/') {
			h->state = H_AFTER_ATTRNAME;
		} else if (h->attr_len + 1 < sizeof(h->attr)) {
			h->attr[h->attr_len++] = (char)tolower(c);
			h->attr[h->attr_len] = '\0';
		}
		break;
	case H_BEFORE_VALUE:
		h->value_len = 0;
		if (c == '"')
			h->state = H_VAL_DQ;
		else if (c == '\'')
			h->state = H_VAL_SQ;
		else if (c == '>')
			end_of_tag(h);
		else if (!ws)
			h->state = H_VAL_UQ;
		break;
	case H_VAL_DQ:
	case H_VAL_SQ:
		if ((c == '"' && h->state == H_VAL_DQ) || (c == '\'' && h->state == H_VAL_SQ))
			h->state = H_TAG;
		else
			h->value_len++;
		break;
	case H_VAL_UQ:
		if (ws)
			h->state = H_TAG;
		else if (c == '>')
			end_of_tag(h);
		break;
	case H_RAW:
		/* Only "</" + the tag's own name ends script or style. */
		if (c == '<') {
			h->raw_match = 1;
		} else if (h->raw_match == 1) {
			h->raw_match = c == '/' ? 2 : 0;
		} else if (h->raw_match >= 2) {
			size_t k = h->raw_match - 2;
			if (k < h->tag_len && (char)tolower(c) == h->tag[k]) {
				h->raw_match++;
				if (k + 1 == h->tag_len)
					h->state = H_ENDTAG;
			} else {
				h->raw_match = 0;
			}
		}
		break;
	}
}

/* The context of a placeholder here, or -1 with why it is refused. */
static int placeholder_ctx(const struct hctx *h, const char **why_r)
{
	switch (h->state) {
	case H_TEXT:
		return CTX_HTML;
	case H_VAL_DQ:
	case H_VAL_SQ:
		if (strncmp(h->attr, "on", 2) == 0 || strcmp(h->attr, "style") == 0 ||
		    strcmp(h->attr, "srcdoc") == 0) {
			*why_r = "a placeholder in an event handler or style attribute";
			return -1;
		}
		if (is_url_attr(h->attr))
			return h->value_len == 0 ? CTX_URL : CTX_URL_PART;
		return CTX_ATTR;
	case H_VAL_UQ:
	case H_BEFORE_VALUE:
		*why_r = "a placeholder in an unquoted attribute value";
		return -1;
	case H_COMMENT:
	case H_BANG:
	case H_BANG_DASH:
		*why_r = "a placeholder in a comment";
		return -1;
	case H_RAW:
		*why_r = "a placeholder in script or style";
		return -1;
	default:
		*why_r = "a placeholder inside a tag outside a quoted attribute value";
		return -1;
	}
}

static bool in_tag(enum hstate s)
{
	return s == H_TAG || s == H_ATTRNAME || s == H_AFTER_ATTRNAME;
}

/* Whether two points of a template are the same context for a section's
 * branches: "<option {{#if x}}selected{{/if}}>" is fine. */
static bool same_ctx(const struct hctx *a, const struct hctx *b)
{
	if (in_tag(a->state) && in_tag(b->state))
		return true;
	if (a->state != b->state)
		return false;
	if (a->state == H_VAL_DQ || a->state == H_VAL_SQ)
		return strcmp(a->attr, b->attr) == 0 &&
		       (!is_url_attr(a->attr) || (a->value_len == 0) == (b->value_len == 0));
	if (a->state == H_RAW)
		return strcmp(a->tag, b->tag) == 0;
	return true;
}

static size_t add_op(struct tpl *t, enum op_kind kind, const char *s, size_t len)
{
	if (t->nops == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 32;
		t->ops = xrealloc(t->ops, t->cap * sizeof(*t->ops));
	}
	struct op *op = &t->ops[t->nops];
	memset(op, 0, sizeof(*op));
	op->kind = kind;
	if (s != NULL) {
		op->str = xstrndup(s, len);
		op->len = len;
	}
	return t->nops++;
}

static int fail(struct compiler *c, const char *name, const char *text, const char *at,
		const char *fmt, ...) ATTR_PRINTF(5, 6);
static int fail(struct compiler *c, const char *name, const char *text, const char *at,
		const char *fmt, ...)
{
	unsigned line = 1;
	for (const char *p = text; p < at; p++)
		line += *p == '\n';
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	free(c->error);
	c->error = xasprintf("%s:%u: %s", name, line, msg);
	free(msg);
	return -1;
}

static bool valid_name(const char *s, size_t len)
{
	if (len == 0 || len > TPL_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

static int compile_text(struct compiler *c, const char *name, const char *text, size_t len,
			unsigned partial_depth);

static int do_partial(struct compiler *c, const char *name, const char *text, const char *at,
		      const char *pname, unsigned partial_depth)
{
	if (partial_depth >= TPL_MAX_PARTIAL_DEPTH)
		return fail(c, name, text, at, "partials nested too deep");
	if (c->loader == NULL)
		return fail(c, name, text, at, "no partial named %s", pname);
	size_t plen;
	char *ptext = c->loader(pname, &plen, c->loader_ctx);
	if (ptext == NULL)
		return fail(c, name, text, at, "no partial named %s", pname);
	int ret = compile_text(c, pname, ptext, plen, partial_depth + 1);
	free(ptext);
	return ret;
}

/* One {{...}} tag, body [b, b+blen). */
static int do_tag(struct compiler *c, const char *name, const char *text, const char *at,
		  const char *b, size_t blen, unsigned partial_depth)
{
	struct tpl *t = c->t;
	while (blen > 0 && b[0] == ' ') {
		b++;
		blen--;
	}
	while (blen > 0 && b[blen - 1] == ' ')
		blen--;
	if (blen == 0)
		return fail(c, name, text, at, "empty tag");
	if (b[0] == '!')
		return 0;

	const char *why;
	if (b[0] == '>') {
		const char *p = b + 1;
		size_t plen = blen - 1;
		while (plen > 0 && *p == ' ') {
			p++;
			plen--;
		}
		if (!valid_name(p, plen))
			return fail(c, name, text, at, "bad partial name");
		char pname[TPL_MAX_NAME + 1];
		memcpy(pname, p, plen);
		pname[plen] = '\0';
		return do_partial(c, name, text, at, pname, partial_depth);
	}
	if (b[0] == '#') {
		enum op_kind kind;
		size_t kw;
		if (blen > 4 && strncmp(b, "#if ", 4) == 0) {
			kind = OP_IF;
			kw = 4;
		} else if (blen > 8 && strncmp(b, "#unless ", 8) == 0) {
			kind = OP_UNLESS;
			kw = 8;
		} else if (blen > 6 && strncmp(b, "#each ", 6) == 0) {
			kind = OP_EACH;
			kw = 6;
		} else {
			return fail(c, name, text, at, "unknown section");
		}
		const char *v = b + kw;
		size_t vlen = blen - kw;
		while (vlen > 0 && *v == ' ') {
			v++;
			vlen--;
		}
		if (!valid_name(v, vlen))
			return fail(c, name, text, at, "bad variable name");
		if (c->depth >= TPL_MAX_DEPTH)
			return fail(c, name, text, at, "sections nested too deep");
		size_t i = add_op(t, kind, v, vlen);
		c->stack[c->depth].op = i;
		c->stack[c->depth].kind = kind;
		c->stack[c->depth].at_open = c->h;
		c->depth++;
		return 0;
	}
	if (blen == 4 && strncmp(b, "else", 4) == 0) {
		if (c->depth == 0 || c->stack[c->depth - 1].kind == OP_EACH ||
		    t->ops[c->stack[c->depth - 1].op].jump != 0)
			return fail(c, name, text, at, "else outside if/unless");
		struct section *s = &c->stack[c->depth - 1];
		if (!same_ctx(&c->h, &s->at_open))
			return fail(c, name, text, at, "a branch changes the HTML context");
		size_t i = add_op(t, OP_ELSE, NULL, 0);
		t->ops[s->op].jump = i;
		c->h = s->at_open;
		return 0;
	}
	if (b[0] == '/') {
		enum op_kind want;
		if (blen == 3 && strncmp(b, "/if", 3) == 0)
			want = OP_IF;
		else if (blen == 7 && strncmp(b, "/unless", 7) == 0)
			want = OP_UNLESS;
		else if (blen == 5 && strncmp(b, "/each", 5) == 0)
			want = OP_EACH;
		else
			return fail(c, name, text, at, "unknown section end");
		if (c->depth == 0 || c->stack[c->depth - 1].kind != want)
			return fail(c, name, text, at, "section end without its start");
		struct section *s = &c->stack[--c->depth];
		if (!same_ctx(&c->h, &s->at_open))
			return fail(c, name, text, at, "a section changes the HTML context");
		size_t i = add_op(t, OP_END, NULL, 0);
		struct op *open = &t->ops[s->op];
		open->end = i;
		if (open->jump == 0)
			open->jump = i;
		else
			t->ops[open->jump].jump = i;
		return 0;
	}
	enum op_kind kind = OP_VAR;
	if (blen > 4 && strncmp(b, "raw ", 4) == 0) {
		kind = OP_RAW;
		b += 4;
		blen -= 4;
		while (blen > 0 && *b == ' ') {
			b++;
			blen--;
		}
	}
	if (!valid_name(b, blen))
		return fail(c, name, text, at, "bad variable name");
	int ctx = placeholder_ctx(&c->h, &why);
	if (ctx < 0)
		return fail(c, name, text, at, "%s", why);
	if (kind == OP_RAW && ctx != CTX_HTML)
		return fail(c, name, text, at, "raw insertion outside element text");
	size_t i = add_op(t, kind, b, blen);
	t->ops[i].ctx = (enum ctx)ctx;
	if (c->h.state == H_VAL_DQ || c->h.state == H_VAL_SQ)
		c->h.value_len++;
	return 0;
}

static int compile_text(struct compiler *c, const char *name, const char *text, size_t len,
			unsigned partial_depth)
{
	size_t i = 0;
	while (i < len) {
		const char *open = NULL;
		for (size_t j = i; j + 1 < len; j++) {
			if (text[j] == '{' && text[j + 1] == '{') {
				open = text + j;
				break;
			}
		}
		size_t lit_end = open != NULL ? (size_t)(open - text) : len;
		if (lit_end > i) {
			for (size_t j = i; j < lit_end; j++) {
				if (text[j] == '\0')
					return fail(c, name, text, text + j, "NUL byte in template");
				feed(&c->h, text[j]);
			}
			add_op(c->t, OP_TEXT, text + i, lit_end - i);
		}
		if (open == NULL)
			break;
		const char *b = open + 2;
		const char *close = NULL;
		for (const char *p = b; p + 1 < text + len; p++) {
			if (p[0] == '}' && p[1] == '}') {
				close = p;
				break;
			}
			if (p[0] == '\n' || p[0] == '{')
				break;
		}
		if (close == NULL)
			return fail(c, name, text, open, "unterminated tag");
		if (do_tag(c, name, text, open, b, (size_t)(close - b), partial_depth) < 0)
			return -1;
		i = (size_t)(close + 2 - text);
	}
	return 0;
}

int tpl_compile(const char *name, const char *text, size_t len, tpl_loader_fn *loader,
		void *loader_ctx, struct tpl **tpl_r, char **error_r)
{
	struct compiler c;
	memset(&c, 0, sizeof(c));
	c.t = xcalloc(1, sizeof(*c.t));
	c.loader = loader;
	c.loader_ctx = loader_ctx;
	c.h.state = H_TEXT;
	int ret = compile_text(&c, name, text, len, 0);
	if (ret == 0 && c.depth > 0)
		ret = fail(&c, name, text, text + len, "section not closed");
	if (ret == 0 && c.h.state != H_TEXT)
		ret = fail(&c, name, text, text + len, "template ends inside a tag, comment or script");
	if (ret < 0) {
		tpl_free(&c.t);
		*error_r = c.error;
		return -1;
	}
	*tpl_r = c.t;
	return 0;
}

void tpl_free(struct tpl **tpl)
{
	struct tpl *t = *tpl;
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nops; i++)
		free(t->ops[i].str);
	free(t->ops);
	free(t);
	*tpl = NULL;
}

/* Variables. */
struct tpl_var {
	char *key;
	char *str;
	struct tpl_vars **items;
	size_t nitems, cap;
};

struct tpl_vars {
	struct tpl_var *v;
	size_t n, cap;
};

struct tpl_vars *tpl_vars_new(void)
{
	return xcalloc(1, sizeof(struct tpl_vars));
}

void tpl_vars_free(struct tpl_vars **vp)
{
	struct tpl_vars *v = *vp;
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++) {
		free(v->v[i].key);
		free(v->v[i].str);
		for (size_t j = 0; j < v->v[i].nitems; j++)
			tpl_vars_free(&v->v[i].items[j]);
		free(v->v[i].items);
	}
	free(v->v);
	free(v);
	*vp = NULL;
}

static struct tpl_var *var_find(const struct tpl_vars *v, const char *key, size_t klen)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->v[i].key) == klen && memcmp(v->v[i].key, key, klen) == 0)
			return &v->v[i];
	return NULL;
}

static struct tpl_var *var_get(struct tpl_vars *v, const char *key)
{
	struct tpl_var *e = var_find(v, key, strlen(key));
	if (e != NULL)
		return e;
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 8;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	e = &v->v[v->n++];
	memset(e, 0, sizeof(*e));
	e->key = xstrdup(key);
	return e;
}

void tpl_set(struct tpl_vars *v, const char *key, const char *value)
{
	struct tpl_var *e = var_get(v, key);
	free(e->str);
	e->str = xstrdup(value != NULL ? value : "");
}

void tpl_setf(struct tpl_vars *v, const char *key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	struct tpl_var *e = var_get(v, key);
	free(e->str);
	e->str = s;
}

struct tpl_vars *tpl_list_add(struct tpl_vars *v, const char *key)
{
	struct tpl_var *e = var_get(v, key);
	if (e->nitems == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		e->items = xrealloc(e->items, e->cap * sizeof(*e->items));
	}
	struct tpl_vars *item = tpl_vars_new();
	e->items[e->nitems++] = item;
	return item;
}

const char *tpl_get(const struct tpl_vars *v, const char *key)
{
	struct tpl_var *e = var_find(v, key, strlen(key));
	return e != NULL ? e->str : NULL;
}

/* Escaping. */
int tpl_escape_html(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		case '`': rep = "&#96;"; break;
		case '\0': rep = "\xef\xbf\xbd"; break;
		default: continue;
		}
		if (buf_append(out, s + start, i - start) < 0 || buf_append_str(out, rep) < 0)
			return -1;
		start = i + 1;
	}
	return buf_append(out, s + start, len - start);
}

int tpl_escape_url_component(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (buf_append(out, &s[i], 1) < 0)
				return -1;
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			if (buf_append(out, e, 3) < 0)
				return -1;
		}
	}
	return 0;
}

int tpl_escape_url(struct buf *out, const char *s, size_t len)
{
	/* A scheme is letters, digits, '+', '-', '.' before the first ':' that
	 * comes before any '/', '?' or '#'. Browsers drop tabs and newlines
	 * inside a URL, so those make it unsafe as well. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return buf_append_str(out, "#");
	}
	size_t i = 0;
	while (i < len && s[i] != ':' && s[i] != '/' && s[i] != '?' && s[i] != '#')
		i++;
	if (i < len && s[i] == ':') {
		bool ok = (i == 4 && str_ncasecmp(s, "http", 4) == 0) ||
			  (i == 5 && str_ncasecmp(s, "https", 5) == 0) ||
			  (i == 6 && str_ncasecmp(s, "mailto", 6) == 0);
		if (!ok)
			return buf_append_str(out, "#");
	}
	return tpl_escape_html(out, s, len);
}

/* Rendering. */
struct scope {
	const struct tpl_vars *v[TPL_MAX_DEPTH + 2];
	size_t n;
};

static const struct tpl_var *lookup(const struct scope *sc, const char *name, size_t len)
{
	for (size_t i = sc->n; i > 0; i--) {
		const struct tpl_var *e = var_find(sc->v[i - 1], name, len);
		if (e != NULL)
			return e;
	}
	return NULL;
}

static bool truthy(const struct tpl_var *e)
{
	return e != NULL && ((e->str != NULL && e->str[0] != '\0') || e->nitems > 0);
}

static int render(const struct tpl *t, size_t from, size_t to, struct scope *sc, struct buf *out)
{
	size_t i = from;
	while (i < to) {
		const struct op *op = &t->ops[i];
		const struct tpl_var *e;
		switch (op->kind) {
		case OP_TEXT:
			if (buf_append(out, op->str, op->len) < 0)
				return -1;
			i++;
			break;
		case OP_VAR:
		case OP_RAW: {
			e = lookup(sc, op->str, op->len);
			const char *s = e != NULL && e->str != NULL ? e->str : "";
			size_t n = strlen(s);
			int r;
			if (op->kind == OP_RAW)
				r = buf_append(out, s, n);
			else if (op->ctx == CTX_URL)
				r = tpl_escape_url(out, s, n);
			else if (op->ctx == CTX_URL_PART)
				r = tpl_escape_url_component(out, s, n);
			else
				r = tpl_escape_html(out, s, n);
			if (r < 0)
				return -1;
			i++;
			break;
		}
		case OP_IF:
		case OP_UNLESS: {
			bool yes = truthy(lookup(sc, op->str, op->len));
			if (op->kind == OP_UNLESS)
				yes = !yes;
			if (yes) {
				if (render(t, i + 1, op->jump, sc, out) < 0)
					return -1;
			} else if (op->jump != op->end) {
				if (render(t, op->jump + 1, op->end, sc, out) < 0)
					return -1;
			}
			i = op->end + 1;
			break;
		}
		case OP_EACH:
			e = lookup(sc, op->str, op->len);
			if (e != NULL) {
				for (size_t k = 0; k < e->nitems; k++) {
					sc->v[sc->n++] = e->items[k];
					int r = render(t, i + 1, op->end, sc, out);
					sc->n--;
					if (r < 0)
						return -1;
				}
			}
			i = op->end + 1;
			break;
		case OP_ELSE:
		case OP_END:
			i++;
			break;
		}
	}
	return 0;
}

int tpl_render(const struct tpl *t, const struct tpl_vars *vars, struct buf *out)
{
	struct scope sc;
	sc.n = 0;
	sc.v[sc.n++] = vars;
	return render(t, 0, t->nops, &sc, out);
}
