/* Sieve interpreter: runs a compiled script (proto/sieve-ast.h) on one
 * message for one recipient and builds the result (the actions the caller
 * performs). Message access goes through proto/mime (headers decoded per RFC
 * 2047, bodies decoded per part); every loop is bounded by the CPU-step,
 * action, redirect and header-test limits, and a runtime error turns the
 * result into the implicit keep (RFC 5228 2.10.6). */
#include "sieve-exec.h"
#include "sieve-ast.h"
#include "sieve-private.h"
#include "mime.h"
#include "html_text.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A header field as the script sees it (editheader changes the list). */
struct hdr {
	char *name;
	char *value;		/* unfolded raw value, leading/trailing WSP removed */
	size_t raw_off, raw_len;	/* the original field in the message, or raw_len 0 */
	/* parsed once, on first use */
	char *decoded;		/* RFC 2047-decoded value */
	size_t decoded_len;
	struct sieve_address *addrs;
	size_t naddrs;
	bool addrs_parsed;
};

struct vals {
	struct buf *v;
	size_t n;
};

struct var {
	char *name;		/* lower-cased */
	struct buf value;
};

struct scope {
	struct var *v;
	size_t n;
	char **globals;		/* names declared "global" in this script */
	size_t nglobals;
};

struct exec {
	const struct sieve_exec_input *in;
	struct sieve_exec_callbacks cb;
	struct sieve_limits limits;
	struct mime_message *msg;
	struct hdr *hdrs;
	size_t nhdrs;
	bool hdrs_edited;
	const char *eol;
	struct sieve_result *res;
	bool implicit_keep;
	bool discarded;
	bool rejected;
	bool vacationed;
	unsigned redirects;
	struct buf flags;	/* imap4flags internal variable */
	struct scope globals;
	struct sieve_captures caps;
	uint64_t steps, step_limit;
	unsigned header_tests;
	struct buf err;		/* runtime error, empty when none */
	bool returned;		/* "return" in an included script */
	bool stopped;
	bool any_imap4flags;	/* a script that ran uses imap4flags (for the implicit keep) */
	struct vals body_text;	/* body :text values, computed once per run */
	bool body_text_done;
	const struct sieve_script *script;	/* running now */
	/* includes */
	unsigned include_depth;
	char **included;	/* "p:name"/"g:name" already included (for :once) */
	size_t nincluded;
	char **include_stack;
	size_t include_stack_len;
	/* duplicate tests decided in this run */
	char **dup_seen_ids;
	bool *dup_seen;
	size_t ndup;
	/* compiled regexes */
	struct sieve_regex_cache *rx;
	/* warnings */
	char **warnings;
	size_t nwarnings;
};

static void rt_error(struct exec *x, const struct sieve_node *n, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void rt_error(struct exec *x, const struct sieve_node *n, const char *fmt, ...)
{
	va_list ap;
	if (x->err.len)
		return;
	if (x->script && x->script->name[0] && x->include_depth)
		buf_printf(&x->err, "script \"%s\" ", x->script->name);
	if (n)
		buf_printf(&x->err, "line %u column %u: ", n->line, n->column);
	va_start(ap, fmt);
	buf_vprintf(&x->err, fmt, ap);
	va_end(ap);
}

static void rt_warn(struct exec *x, const struct sieve_node *n, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void rt_warn(struct exec *x, const struct sieve_node *n, const char *fmt, ...)
{
	va_list ap;
	char *m;
	if (x->nwarnings >= 32)
		return;
	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	x->warnings = xrealloc(x->warnings, (x->nwarnings + 1) * sizeof(char *));
	x->warnings[x->nwarnings++] = xasprintf("line %u: %s", n ? n->line : 0, m);
	free(m);
}

static bool step(struct exec *x, const struct sieve_node *n)
{
	if (x->err.len)
		return false;
	if (++x->steps > x->step_limit) {
		rt_error(x, n, "CPU limit exceeded (%u steps)", x->limits.max_cpu_steps);
		return false;
	}
	return true;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* ---- headers ---- */

static void unfold_trim(const char *p, size_t n, struct buf *out)
{
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	size_t run = 0;
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\n') {
			buf_append(out, p + run, i - run);
			run = i + 1;
		}
	buf_append(out, p + run, n - run);
	while (out->len > 0 && (out->data[out->len - 1] == ' ' || out->data[out->len - 1] == '\t'))
		out->data[--out->len] = '\0';
}

static void load_headers(struct exec *x)
{
	const struct mime_part *root = &x->msg->root;
	x->hdrs = xcalloc(root->header_count ? root->header_count : 1, sizeof(*x->hdrs));
	for (size_t i = 0; i < root->header_count; i++) {
		const struct mime_header *h = &root->headers[i];
		const char *f = x->msg->raw + h->offset;
		const char *colon = memchr(f, ':', h->len);
		struct hdr *d = &x->hdrs[x->nhdrs++];
		d->name = xstrdup(h->name);
		d->raw_off = h->offset;
		d->raw_len = h->len;
		struct buf v;
		buf_init(&v, 0);
		if (colon)
			unfold_trim(colon + 1, h->len - (size_t)(colon + 1 - f), &v);
		d->value = v.data ? v.data : xstrdup("");
	}
	x->eol = "\r\n";
	if (root->header_count) {
		const struct mime_header *h = &root->headers[0];
		if (h->len < 2 || x->msg->raw[h->offset + h->len - 2] != '\r')
			x->eol = "\n";
	} else if (x->in->message_size && !memchr(x->in->message, '\r', x->in->message_size > 1000 ? 1000 : x->in->message_size)) {
		x->eol = "\n";
	}
}

static void hdr_free(struct hdr *h)
{
	free(h->name);
	free(h->value);
	free(h->decoded);
	sieve_addresses_free(h->addrs, h->naddrs);
}

static void free_headers(struct exec *x)
{
	for (size_t i = 0; i < x->nhdrs; i++)
		hdr_free(&x->hdrs[i]);
	free(x->hdrs);
}

static const char *hdr_decoded(struct hdr *h, size_t *len_r)
{
	if (!h->decoded) {
		struct buf b;
		buf_init(&b, 0);
		mime_decode_words(h->value, strlen(h->value), &b);
		if (!b.data)
			buf_append_str(&b, "");
		h->decoded = b.data;
		h->decoded_len = b.len;
	}
	*len_r = h->decoded_len;
	return h->decoded;
}

static const struct sieve_address *hdr_addresses(struct hdr *h, size_t *n_r)
{
	if (!h->addrs_parsed) {
		h->naddrs = sieve_parse_addresses(h->value, strlen(h->value), &h->addrs);
		h->addrs_parsed = true;
	}
	*n_r = h->naddrs;
	return h->addrs;
}

/* Indexes of the fields called name (in order). Counts header tests. */
static size_t find_headers(struct exec *x, const struct sieve_node *n, const char *name, size_t **idx_r)
{
	size_t *idx = NULL, k = 0;
	for (size_t i = 0; i < x->nhdrs; i++) {
		if (++x->header_tests > x->limits.max_header_tests) {
			rt_error(x, n, "header test limit exceeded (%u)", x->limits.max_header_tests);
			break;
		}
		if (str_casecmp(x->hdrs[i].name, name) == 0) {
			if (k % 8 == 0)
				idx = xrealloc(idx, (k + 8) * sizeof(*idx));
			idx[k++] = i;
		}
	}
	*idx_r = idx;
	return k;
}

/* Apply :index/:last to the list of matching fields. */
static void apply_index(const struct sieve_node *n, size_t **idx, size_t *k)
{
	if (!(n->flags & SNF_HAS_INDEX))
		return;
	if ((uint64_t)n->index > *k) {
		*k = 0;
		return;
	}
	size_t pos = (n->flags & SNF_LAST) ? *k - (size_t)n->index : (size_t)n->index - 1;
	(*idx)[0] = (*idx)[pos];
	*k = 1;
}

/* ---- values being matched ---- */

static struct buf *vals_add(struct vals *vs)
{
	vs->v = xrealloc(vs->v, (vs->n + 1) * sizeof(*vs->v));
	buf_init(&vs->v[vs->n], 0);
	return &vs->v[vs->n++];
}

static void vals_add_str(struct vals *vs, const char *s, size_t n)
{
	struct buf *b = vals_add(vs);
	buf_append(b, s, n);
}

static void vals_free(struct vals *vs)
{
	for (size_t i = 0; i < vs->n; i++)
		buf_free(&vs->v[i]);
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static inline const char *bstr(const struct buf *b)
{
	return b->data ? b->data : "";
}

/* ---- variables ---- */

static struct var *scope_find(struct scope *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->v[i].name) == len && str_ncasecmp(s->v[i].name, name, len) == 0)
			return &s->v[i];
	return NULL;
}

static bool is_global_name(struct scope *s, const char *name, size_t len)
{
	for (size_t i = 0; i < s->nglobals; i++)
		if (strlen(s->globals[i]) == len && str_ncasecmp(s->globals[i], name, len) == 0)
			return true;
	return false;
}

/* The storage for a variable; create it when create is set. NULL when it
 * does not exist (or past the limit). */
static struct var *var_lookup(struct exec *x, struct scope *s, const char *name, size_t len, bool create,
			      const struct sieve_node *n)
{
	struct scope *target = s;
	if (len > 7 && str_ncasecmp(name, "global.", 7) == 0) {
		name += 7;
		len -= 7;
		target = &x->globals;
	} else if (is_global_name(s, name, len)) {
		target = &x->globals;
	}
	struct var *v = scope_find(target, name, len);
	if (v || !create)
		return v;
	if (target->n >= x->limits.max_variables) {
		rt_error(x, n, "too many variables (limit %u)", x->limits.max_variables);
		return NULL;
	}
	target->v = xrealloc(target->v, (target->n + 1) * sizeof(*target->v));
	v = &target->v[target->n++];
	v->name = xstrndup(name, len);
	buf_init(&v->value, x->limits.max_variable_size);
	return v;
}

static void scope_free(struct scope *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		buf_free(&s->v[i].value);
	}
	free(s->v);
	for (size_t i = 0; i < s->nglobals; i++)
		free(s->globals[i]);
	free(s->globals);
	memset(s, 0, sizeof(*s));
}

static bool var_name_ok(const char *s, size_t n, bool *numeric)
{
	*numeric = false;
	if (n == 0)
		return false;
	if (s[0] >= '0' && s[0] <= '9') {
		for (size_t i = 0; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
		*numeric = true;
		return true;
	}
	bool start = true;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		bool alpha = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
		bool digit = ch >= '0' && ch <= '9';
		if (ch == '.') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (start ? !alpha : !(alpha || digit))
			return false;
		start = false;
	}
	return !start;
}

/* Expand the variables of s (RFC 5229 3) into out. */
static void expand(struct exec *x, struct scope *sc, const struct sieve_str *s, struct buf *out)
{
	buf_init(out, x->limits.max_string);
	if (!s->var) {
		buf_append(out, s->s, s->len);
		if (!out->data)
			buf_append_str(out, "");
		return;
	}
	size_t i = 0;
	while (i < s->len) {
		if (s->s[i] == '$' && i + 1 < s->len && s->s[i + 1] == '{') {
			size_t j = i + 2;
			while (j < s->len && s->s[j] != '}' && s->s[j] != '$')
				j++;
			bool numeric;
			if (j < s->len && s->s[j] == '}' && var_name_ok(s->s + i + 2, j - i - 2, &numeric)) {
				const char *nm = s->s + i + 2;
				size_t nl = j - i - 2;
				if (numeric) {
					unsigned long k = strtoul(nm, NULL, 10);
					if (nl < 6 && k < x->caps.n && x->caps.v)
						buf_append(out, bstr(&x->caps.v[k]), x->caps.v[k].len);
				} else {
					struct var *v = var_lookup(x, sc, nm, nl, false, NULL);
					if (v)
						buf_append(out, bstr(&v->value), v->value.len);
				}
				i = j + 1;
				continue;
			}
		}
		if (buf_append(out, s->s + i, 1) < 0)
			break;
		i++;
	}
	if (!out->data)
		buf_append_str(out, "");
}

static char *expand_dup(struct exec *x, struct scope *sc, const struct sieve_str *s)
{
	struct buf b;
	expand(x, sc, s, &b);
	return b.data ? b.data : xstrdup("");
}

/* ---- matching ---- */

static bool key_match(struct exec *x, const struct sieve_node *n, const char *val, size_t vlen,
		      const char *key, size_t klen, bool capture)
{
	if (n->match == SMT_REGEX) {
		int r = sieve_regex_match(&x->rx, key, n->comparator == SCMP_CASEMAP, val, vlen,
					  capture ? &x->caps : NULL, &x->limits);
		if (r < 0) {
			rt_error(x, n, "invalid regular expression \"%s\"", key);
			return false;
		}
		if (r == 2) {
			rt_error(x, n, "regular expression \"%s\" exceeded its match limit", key);
			return false;
		}
		if (r == 3) {
			rt_error(x, n, "too many distinct regular expressions in one run (256)");
			return false;
		}
		/* PCRE2 reports no work done: charge each evaluation as 100
		 * steps plus its length, so that the run's budget bounds the number
		 * of evaluations (each bounded by the match limit) */
		x->steps += 100 + vlen / 64;
		if (x->steps > x->step_limit) {
			rt_error(x, n, "CPU limit exceeded while matching (%u steps)", x->limits.max_cpu_steps);
			return false;
		}
		return r == 1;
	}
	uint64_t before = x->steps;
	bool m = sieve_match(n->comparator, n->match, n->relop, val, vlen, key, klen,
			     capture && n->match == SMT_MATCHES ? &x->caps : NULL, &x->steps, x->step_limit);
	if (x->steps > x->step_limit && !x->err.len)
		rt_error(x, n, "CPU limit exceeded while matching (%u steps)", x->limits.max_cpu_steps);
	(void)before;
	return m && !x->err.len;
}

/* Compare every value with every key of list (RFC 5228 2.7: true when any
 * pair matches; :count compares the number of values). */
static bool match_values(struct exec *x, struct scope *sc, const struct sieve_node *n,
			 const struct vals *vs, const struct sieve_list *keys)
{
	bool capture = sieve_has_ext(x->script, SEXT_VARIABLES) &&
		       (n->match == SMT_MATCHES || n->match == SMT_REGEX);
	if (n->match == SMT_COUNT) {
		char cnt[32];
		snprintf(cnt, sizeof(cnt), "%zu", vs->n);
		for (size_t k = 0; k < keys->n; k++) {
			struct buf key;
			expand(x, sc, &keys->v[k], &key);
			bool m = sieve_relational(n->comparator, n->relop, cnt, strlen(cnt), bstr(&key), key.len);
			buf_free(&key);
			if (m)
				return true;
		}
		return false;
	}
	for (size_t k = 0; k < keys->n && !x->err.len; k++) {
		struct buf key;
		expand(x, sc, &keys->v[k], &key);
		for (size_t i = 0; i < vs->n && !x->err.len; i++) {
			if (key_match(x, n, bstr(&vs->v[i]), vs->v[i].len, bstr(&key), key.len, capture)) {
				buf_free(&key);
				return true;
			}
		}
		buf_free(&key);
	}
	return false;
}

/* ---- addresses ---- */

static const char *detail_sep(struct exec *x)
{
	const char *s = x->in->recipient.detail_separator;
	return s && *s ? s : "+";
}

/* Add the part of address a to vs (nothing when it has no such part). */
static void add_addr_part(struct exec *x, enum sieve_addrpart ap, const struct sieve_address *a,
			  struct vals *vs)
{
	if (!a->local && a->all && a->all[0] == '\0') {
		/* the null address "<>": every part is empty (RFC 5228 5.4) */
		if (ap != SAP_DETAIL)
			vals_add_str(vs, "", 0);
		return;
	}
	if (!a->local) {
		if (ap == SAP_ALL)
			vals_add_str(vs, a->all, strlen(a->all));
		return;
	}
	const char *sep = detail_sep(x);
	switch (ap) {
	case SAP_ALL: vals_add_str(vs, a->all, strlen(a->all)); break;
	case SAP_LOCALPART: vals_add_str(vs, a->local, strlen(a->local)); break;
	case SAP_DOMAIN: vals_add_str(vs, a->domain, strlen(a->domain)); break;
	case SAP_USER: case SAP_DETAIL: {
		size_t ll = strlen(a->local), p = strcspn(a->local, sep);
		if (ap == SAP_USER)
			vals_add_str(vs, a->local, p);
		else if (p < ll)
			vals_add_str(vs, a->local + p + 1, ll - p - 1);
		break;
	}
	}
}

static void envelope_address(const char *addr, struct sieve_address *a)
{
	memset(a, 0, sizeof(*a));
	if (!addr || !*addr) {
		a->all = xstrdup("");
		return;
	}
	const char *at = strrchr(addr, '@');
	if (!at) {
		a->local = xstrdup(addr);
		a->domain = xstrdup("");
		a->all = xstrdup(addr);
		return;
	}
	a->local = xstrndup(addr, (size_t)(at - addr));
	a->domain = xstrdup(at + 1);
	a->all = xstrdup(addr);
}

/* ---- body ---- */

static const char *part_param(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->param_count; i++)
		if (strcmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	return NULL;
}

static void part_decoded(struct exec *x, const struct mime_part *p, bool text, struct buf *out)
{
	const char *raw = x->msg->raw + p->body_offset;
	size_t len = p->body_len;
	struct buf dec;
	buf_init(&dec, 0);
	if (p->encoding && str_casecmp(p->encoding, "base64") == 0)
		mime_decode_base64(raw, len, &dec);
	else if (p->encoding && str_casecmp(p->encoding, "quoted-printable") == 0)
		mime_decode_qp(raw, len, &dec);
	else
		buf_append(&dec, raw, len);
	if (strcmp(p->type, "text") == 0) {
		const char *cs = part_param(p, "charset");
		struct buf u;
		buf_init(&u, 0);
		mime_charset_to_utf8(cs ? cs : "us-ascii", bstr(&dec), dec.len, &u);
		if (text && strcmp(p->subtype, "html") == 0)
			html_text(bstr(&u), u.len, out);
		else
			buf_append(out, bstr(&u), u.len);
		buf_free(&u);
	} else {
		buf_append(out, bstr(&dec), dec.len);
	}
	buf_free(&dec);
}

static bool type_matches(const struct mime_part *p, const char *want)
{
	if (!*want)
		return true;
	const char *slash = strchr(want, '/');
	if (!slash)
		return str_casecmp(p->type, want) == 0;
	return str_ncasecmp(p->type, want, (size_t)(slash - want)) == 0 && p->type[slash - want] == '\0' &&
	       str_casecmp(p->subtype, slash + 1) == 0;
}

static void body_parts(struct exec *x, struct scope *sc, const struct sieve_node *n,
		       const struct mime_part *p, struct vals *vs, unsigned depth)
{
	if (depth > 32 || x->err.len || !step(x, n))
		return;
	if (p->child_count) {
		if (n->transform == SBT_CONTENT)
			for (size_t k = 0; k < n->content_types.n; k++) {
				struct buf t;
				expand(x, sc, &n->content_types.v[k], &t);
				bool m = str_casecmp(bstr(&t), "multipart") == 0 || bstr(&t)[0] == '\0';
				buf_free(&t);
				if (m && p->child_count) {
					/* the prologue and epilogue (RFC 5173 5.2): the text
					 * before the first and after the last boundary */
					size_t pro = p->children[0].header_offset > p->body_offset ?
						p->children[0].header_offset - p->body_offset : 0;
					vals_add_str(vs, x->msg->raw + p->body_offset, pro);
					break;
				}
			}
		for (size_t i = 0; i < p->child_count; i++)
			body_parts(x, sc, n, &p->children[i], vs, depth + 1);
		return;
	}
	if (p->message && n->transform == SBT_CONTENT) {
		bool want = false;
		for (size_t k = 0; k < n->content_types.n && !want; k++) {
			struct buf t;
			expand(x, sc, &n->content_types.v[k], &t);
			want = type_matches(p, bstr(&t));
			buf_free(&t);
		}
		if (want) {
			/* RFC 5173 5.2: a message/rfc822 part matched by type is tested as
			 * its header; its own parts are searched too */
			const struct mime_part *m = p->message;
			vals_add_str(vs, x->msg->raw + m->header_offset, m->header_len);
		}
		body_parts(x, sc, n, p->message, vs, depth + 1);
		return;
	}
	if (p->message) {
		body_parts(x, sc, n, p->message, vs, depth + 1);
		return;
	}
	bool want = false;
	if (n->transform == SBT_TEXT) {
		want = strcmp(p->type, "text") == 0;
	} else {
		for (size_t k = 0; k < n->content_types.n && !want; k++) {
			struct buf t;
			expand(x, sc, &n->content_types.v[k], &t);
			want = type_matches(p, bstr(&t));
			buf_free(&t);
		}
	}
	if (!want)
		return;
	struct buf *b = vals_add(vs);
	part_decoded(x, p, n->transform == SBT_TEXT, b);
	if (!b->data)
		buf_append_str(b, "");
}

/* ---- dates ---- */

static int local_offset(struct exec *x, time_t t)
{
	if (x->cb.zone_offset)
		return x->cb.zone_offset(x->cb.ctx, t);
	struct tm tm;
	localtime_r(&t, &tm);
	return (int)(tm.tm_gmtoff / 60);
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	const unsigned doe = (unsigned)(z - era * 146097);
	const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	const unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* The date part of utc shown in zone (minutes east). */
static void date_part(int64_t utc, int zone, const char *part, struct buf *out)
{
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mn[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
					  "Sep", "Oct", "Nov", "Dec" };
	int64_t t = utc + (int64_t)zone * 60;
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	int hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60), ss = (int)(secs % 60);
	int weekday = (int)(((days % 7) + 11) % 7);	/* 1970-01-01 was a Thursday */
	int az = (zone < 0 ? -zone : zone) % 6000;
	char zs[16];
	snprintf(zs, sizeof(zs), "%c%02d%02d", zone < 0 ? '-' : '+', az / 60, az % 60);
	if (!str_casecmp(part, "year")) buf_printf(out, "%04lld", (long long)y);
	else if (!str_casecmp(part, "month")) buf_printf(out, "%02u", m);
	else if (!str_casecmp(part, "day")) buf_printf(out, "%02u", d);
	else if (!str_casecmp(part, "date")) buf_printf(out, "%04lld-%02u-%02u", (long long)y, m, d);
	else if (!str_casecmp(part, "julian")) buf_printf(out, "%lld", (long long)(days + 40587));
	else if (!str_casecmp(part, "hour")) buf_printf(out, "%02d", hh);
	else if (!str_casecmp(part, "minute")) buf_printf(out, "%02d", mi);
	else if (!str_casecmp(part, "second")) buf_printf(out, "%02d", ss);
	else if (!str_casecmp(part, "time")) buf_printf(out, "%02d:%02d:%02d", hh, mi, ss);
	else if (!str_casecmp(part, "iso8601") && zone == 0)
		buf_printf(out, "%04lld-%02u-%02uT%02d:%02d:%02dZ", (long long)y, m, d, hh, mi, ss);
	else if (!str_casecmp(part, "iso8601"))
		buf_printf(out, "%04lld-%02u-%02uT%02d:%02d:%02d%c%02d:%02d", (long long)y, m, d, hh, mi, ss,
			   zone < 0 ? '-' : '+', az / 60, az % 60);
	else if (!str_casecmp(part, "std11"))
		buf_printf(out, "%s, %02u %s %04lld %02d:%02d:%02d %s", wd[weekday], d, mn[m - 1], (long long)y,
			   hh, mi, ss, zs);
	else if (!str_casecmp(part, "zone")) buf_append_str(out, zs);
	else if (!str_casecmp(part, "weekday")) buf_printf(out, "%d", weekday);
}

static bool parse_zone(const char *z, int *zone_r)
{
	if (strlen(z) != 5 || (z[0] != '+' && z[0] != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (z[i] < '0' || z[i] > '9')
			return false;
	int h = (z[1] - '0') * 10 + (z[2] - '0'), m = (z[3] - '0') * 10 + (z[4] - '0');
	if (m >= 60)
		return false;
	*zone_r = (z[0] == '-' ? -1 : 1) * (h * 60 + m);
	return true;
}

static bool valid_date_part(const char *p)
{
	static const char *const parts[] = { "year", "month", "day", "date", "julian", "hour", "minute",
					     "second", "time", "iso8601", "std11", "zone", "weekday" };
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++)
		if (!str_casecmp(p, parts[i]))
			return true;
	return false;
}

static time_t now(struct exec *x)
{
	return x->cb.now ? x->cb.now(x->cb.ctx) : time(NULL);
}

/* ---- tests ---- */

static int test(struct exec *x, struct scope *sc, const struct sieve_node *n);

static void header_values(struct exec *x, struct scope *sc, const struct sieve_node *n,
			  const struct sieve_list *names, bool addresses, struct vals *vs)
{
	for (size_t i = 0; i < names->n && !x->err.len; i++) {
		char *name = expand_dup(x, sc, &names->v[i]);
		size_t *idx = NULL;
		size_t k = find_headers(x, n, name, &idx);
		apply_index(n, &idx, &k);
		for (size_t j = 0; j < k; j++) {
			struct hdr *h = &x->hdrs[idx[j]];
			if (addresses) {
				size_t na;
				const struct sieve_address *ad = hdr_addresses(h, &na);
				for (size_t a = 0; a < na; a++)
					add_addr_part(x, n->addrpart, &ad[a], vs);
			} else {
				size_t dl;
				const char *d = hdr_decoded(h, &dl);
				vals_add_str(vs, d, dl);
			}
		}
		free(idx);
		free(name);
	}
}

static const char *env_item(struct exec *x, const char *name)
{
	const struct sieve_environment *e = &x->in->environment;
	if (!str_casecmp(name, "domain")) return e->domain;
	if (!str_casecmp(name, "host")) return e->host;
	if (!str_casecmp(name, "location")) return e->location ? e->location : "MDA";
	if (!str_casecmp(name, "name")) return "Cairn";
	if (!str_casecmp(name, "phase")) return e->phase ? e->phase : "during";
	if (!str_casecmp(name, "remote-host")) return e->remote_host;
	if (!str_casecmp(name, "remote-ip")) return e->remote_ip;
	if (!str_casecmp(name, "version")) return e->version;
	return NULL;
}

static bool mailbox_exists(struct exec *x, const char *mb)
{
	if (x->cb.mailbox_exists)
		return x->cb.mailbox_exists(x->cb.ctx, mb);
	return str_casecmp(mb, "INBOX") == 0;
}

/* Split flag strings into single flags (space-separated), de-duplicated. */
static void flags_split(const char *s, size_t len, struct vals *vs)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && s[i] == ' ')
			i++;
		size_t j = i;
		while (j < len && s[j] != ' ')
			j++;
		if (j > i) {
			bool dup = false;
			for (size_t k = 0; k < vs->n && !dup; k++)
				dup = vs->v[k].len == j - i && str_ncasecmp(bstr(&vs->v[k]), s + i, j - i) == 0;
			if (!dup)
				vals_add_str(vs, s + i, j - i);
		}
		i = j;
	}
}

static int duplicate_test(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	struct buf uniq;
	buf_init(&uniq, 0);
	if (n->uniqueid.s) {
		struct buf u;
		expand(x, sc, &n->uniqueid, &u);
		buf_append(&uniq, bstr(&u), u.len);
		buf_free(&u);
	} else {
		char *hn = n->dup_header.s ? expand_dup(x, sc, &n->dup_header) : xstrdup("Message-ID");
		size_t *idx = NULL;
		size_t k = find_headers(x, n, hn, &idx);
		if (k)
			buf_append_str(&uniq, x->hdrs[idx[0]].value);
		free(idx);
		free(hn);
		if (!k || uniq.len == 0) {
			buf_free(&uniq);
			return 0;	/* nothing to track the message by: not a duplicate */
		}
	}
	char *handle = n->handle.s ? expand_dup(x, sc, &n->handle) : xstrdup("");
	struct buf key;
	buf_init(&key, 0);
	buf_printf(&key, "sieve-duplicate%c%s%c", 0, handle, 0);
	buf_append(&key, bstr(&uniq), uniq.len);
	char id[65];
	sha256_hex(key.data, key.len, id);
	buf_free(&key);
	buf_free(&uniq);
	free(handle);
	/* the same id tested twice in one run gives the same answer */
	for (size_t i = 0; i < x->ndup; i++)
		if (strcmp(x->dup_seen_ids[i], id) == 0)
			return x->dup_seen[i];
	int seen = x->cb.duplicate_check ? x->cb.duplicate_check(x->cb.ctx, id) : 0;
	if (seen < 0) {
		rt_error(x, n, "duplicate: the duplicate database is unavailable");
		return -1;
	}
	x->dup_seen_ids = xrealloc(x->dup_seen_ids, (x->ndup + 1) * sizeof(char *));
	x->dup_seen = xrealloc(x->dup_seen, (x->ndup + 1) * sizeof(bool));
	x->dup_seen_ids[x->ndup] = xstrdup(id);
	x->dup_seen[x->ndup++] = seen == 1;
	if (seen == 0 || (n->flags & SNF_LAST)) {
		uint64_t period = (n->flags & SNF_HAS_SECONDS) ? n->days : x->limits.duplicate_default_period;
		if (period > x->limits.duplicate_max_period)
			period = x->limits.duplicate_max_period;
		struct sieve_result *r = x->res;
		r->duplicates = xrealloc(r->duplicates, (r->duplicate_count + 1) * sizeof(*r->duplicates));
		r->duplicates[r->duplicate_count].id = xstrdup(id);
		r->duplicates[r->duplicate_count++].period = period;
	}
	return seen == 1;
}

static int test(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	if (!step(x, n))
		return -1;
	struct vals vs = { 0 };
	int r = 0;
	const struct sieve_list *keys = n->nargs ? &n->args[n->nargs - 1] : NULL;
	switch (n->op) {
	case SOP_TRUE: return 1;
	case SOP_FALSE: return 0;
	case SOP_NOT:
		r = test(x, sc, n->tests[0]);
		return r < 0 ? -1 : !r;
	case SOP_ALLOF:
		for (size_t i = 0; i < n->ntests; i++) {
			r = test(x, sc, n->tests[i]);
			if (r <= 0)
				return r;
		}
		return 1;
	case SOP_ANYOF:
		for (size_t i = 0; i < n->ntests; i++) {
			r = test(x, sc, n->tests[i]);
			if (r != 0)
				return r;
		}
		return 0;
	case SOP_SIZE:
		if (n->flags & SNF_OVER)
			return x->in->message_size > n->num;
		return x->in->message_size < n->num;
	case SOP_EXISTS:
		for (size_t i = 0; i < n->args[0].n; i++) {
			char *name = expand_dup(x, sc, &n->args[0].v[i]);
			size_t *idx = NULL;
			size_t k = find_headers(x, n, name, &idx);
			free(idx);
			free(name);
			if (k == 0)
				return x->err.len ? -1 : 0;
		}
		return x->err.len ? -1 : 1;
	case SOP_HEADER:
		header_values(x, sc, n, &n->args[0], false, &vs);
		break;
	case SOP_ADDRESS:
		header_values(x, sc, n, &n->args[0], true, &vs);
		break;
	case SOP_ENVELOPE: {
		const struct sieve_envelope *e = &x->in->envelope;
		for (size_t i = 0; i < n->args[0].n; i++) {
			char *part = expand_dup(x, sc, &n->args[0].v[i]);
			const char *a = NULL;
			bool known = true;
			if (!str_casecmp(part, "from")) a = e->from ? e->from : "";
			else if (!str_casecmp(part, "to")) a = e->to;
			else if (!str_casecmp(part, "orcpt")) a = e->orig_to ? e->orig_to : e->to;
			else if (!str_casecmp(part, "auth")) a = e->auth_user;
			else known = false;
			free(part);
			if (!known) {
				rt_error(x, n, "envelope: unknown envelope part");
				break;
			}
			if (!a)
				continue;
			struct sieve_address ad;
			envelope_address(a, &ad);
			add_addr_part(x, n->addrpart, &ad, &vs);
			free(ad.local); free(ad.domain); free(ad.all);
		}
		break;
	}
	case SOP_BODY: {
		if (n->transform == SBT_TEXT) {
			if (!x->body_text_done) {
				body_parts(x, sc, n, &x->msg->root, &x->body_text, 0);
				x->body_text_done = !x->err.len;
			}
			for (size_t i = 0; i < x->body_text.n; i++)
				vals_add_str(&vs, bstr(&x->body_text.v[i]), x->body_text.v[i].len);
		} else if (n->transform == SBT_RAW) {
			const struct mime_part *p = &x->msg->root;
			vals_add_str(&vs, x->msg->raw + p->body_offset, p->body_len);
		} else {
			body_parts(x, sc, n, &x->msg->root, &vs, 0);
		}
		break;
	}
	case SOP_STRING:
		for (size_t i = 0; i < n->args[0].n; i++) {
			struct buf *b = vals_add(&vs);
			expand(x, sc, &n->args[0].v[i], b);
			if (n->match == SMT_COUNT && b->len == 0) {
				buf_free(b);
				vs.n--;	/* :count counts the non-empty strings (RFC 5229 5) */
			}
		}
		break;
	case SOP_HASFLAG: {
		if (n->nargs == 2) {
			for (size_t i = 0; i < n->args[0].n; i++) {
				char *vn = expand_dup(x, sc, &n->args[0].v[i]);
				struct var *v = var_lookup(x, sc, vn, strlen(vn), false, n);
				free(vn);
				if (v)
					flags_split(bstr(&v->value), v->value.len, &vs);
			}
		} else {
			flags_split(bstr(&x->flags), x->flags.len, &vs);
		}
		break;
	}
	case SOP_DATE: case SOP_CURRENTDATE: {
		int64_t utc;
		int zone;
		const struct sieve_str *dp = &n->args[n->op == SOP_DATE ? 1 : 0].v[0];
		if (n->op == SOP_DATE) {
			char *hn = expand_dup(x, sc, &n->args[0].v[0]);
			size_t *idx = NULL;
			size_t k = find_headers(x, n, hn, &idx);
			free(hn);
			/* RFC 5260 4: the date test on a missing or unparseable field is false */
			if (!(n->flags & SNF_HAS_INDEX) && k > 1)
				k = 1;	/* the first occurrence */
			apply_index(n, &idx, &k);
			bool ok = false;
			if (k) {
				const char *v = x->hdrs[idx[0]].value;
				/* Received: the date follows the last ';' */
				const char *semi = strrchr(v, ';');
				if (semi && str_casecmp(x->hdrs[idx[0]].name, "received") == 0)
					v = semi + 1;
				ok = sieve_parse_date(v, strlen(v), &utc, &zone) == 0;
			}
			free(idx);
			if (!ok)
				return x->err.len ? -1 : 0;
		} else {
			utc = (int64_t)now(x);
			zone = local_offset(x, (time_t)utc);
		}
		if (n->flags & SNF_HAS_ZONE) {
			char *z = expand_dup(x, sc, &n->zone);
			int zz;
			if (parse_zone(z, &zz))
				zone = zz;
			else
				rt_warn(x, n, "invalid zone \"%s\" ignored", z);
			free(z);
		} else if (!(n->flags & SNF_ORIGINALZONE) && n->op == SOP_DATE) {
			zone = local_offset(x, (time_t)utc);
		}
		char *part = expand_dup(x, sc, dp);
		if (!valid_date_part(part)) {
			free(part);
			rt_error(x, n, "unknown date part");
			return -1;
		}
		struct buf *b = vals_add(&vs);
		date_part(utc, zone, part, b);
		free(part);
		break;
	}
	case SOP_MAILBOXEXISTS:
		for (size_t i = 0; i < n->args[0].n; i++) {
			char *mb = expand_dup(x, sc, &n->args[0].v[i]);
			bool e = mailbox_exists(x, mb);
			free(mb);
			if (!e)
				return 0;
		}
		return 1;
	case SOP_METADATA: case SOP_SERVERMETADATA:
	case SOP_METADATAEXISTS: case SOP_SERVERMETADATAEXISTS: {
		bool server = n->op == SOP_SERVERMETADATA || n->op == SOP_SERVERMETADATAEXISTS;
		bool exists = n->op == SOP_METADATAEXISTS || n->op == SOP_SERVERMETADATAEXISTS;
		char *mb = server ? NULL : expand_dup(x, sc, &n->args[0].v[0]);
		const struct sieve_list *entries = &n->args[server ? 0 : 1];
		size_t ne = exists ? entries->n : 1;
		bool all = true;
		for (size_t i = 0; i < ne && !x->err.len; i++) {
			char *ent = expand_dup(x, sc, &entries->v[i]);
			char *val = NULL;
			int g = x->cb.metadata ? x->cb.metadata(x->cb.ctx, mb, ent, &val) : 1;
			free(ent);
			if (g < 0) {
				rt_error(x, n, "metadata: lookup failed");
				free(val);
				break;
			}
			if (g == 1) {
				all = false;
				free(val);
				break;
			}
			if (!exists)
				vals_add_str(&vs, val ? val : "", val ? strlen(val) : 0);
			free(val);
		}
		free(mb);
		if (x->err.len)
			return -1;
		if (exists)
			return all;
		if (!all)
			return 0;
		break;
	}
	case SOP_DUPLICATE:
		return duplicate_test(x, sc, n);
	case SOP_SPAMTEST: case SOP_VIRUSTEST: {
		const struct sieve_scan_verdict *v = x->in->scan;
		char val[16];
		if (n->op == SOP_VIRUSTEST) {
			int l = v && v->virus_scanned ? v->virus_level : 0;
			if (l < 0) l = 0;
			if (l > 5) l = 5;
			snprintf(val, sizeof(val), "%d", v && v->virus_scanned && l == 0 ? 1 : l);
		} else if (!v || !v->spam_scanned) {
			/* RFC 5235 3.1/3.2: not tested is "0" */
			snprintf(val, sizeof(val), "0");
		} else {
			double ratio = v->spam_max > 0 ? v->spam_score / v->spam_max : (v->spam_score > 0 ? 1 : 0);
			if (ratio < 0) ratio = 0;
			if (ratio > 1) ratio = 1;
			if (n->flags & SNF_PERCENT)
				snprintf(val, sizeof(val), "%d", (int)(ratio * 100 + 0.5));
			else
				snprintf(val, sizeof(val), "%d", 1 + (int)(ratio * 9 + 0.5));
		}
		/* RFC 5235 3.1/3.2: :count is "0" when the message was not
		 * tested, "1" when it was */
		bool tested = v && (n->op == SOP_VIRUSTEST ? v->virus_scanned : v->spam_scanned);
		if (n->match != SMT_COUNT || tested)
			vals_add_str(&vs, val, strlen(val));
		keys = &n->args[0];
		break;
	}
	case SOP_ENVIRONMENT: {
		char *name = expand_dup(x, sc, &n->args[0].v[0]);
		const char *v = env_item(x, name);
		free(name);
		if (!v)
			return 0;	/* RFC 5183 4: an unknown item makes the test false */
		vals_add_str(&vs, v, strlen(v));
		break;
	}
	case SOP_SPECIALUSE_EXISTS: {
		char *mb = n->nargs == 2 ? expand_dup(x, sc, &n->args[0].v[0]) : NULL;
		const struct sieve_list *fl = &n->args[n->nargs - 1];
		bool all = true;
		for (size_t i = 0; i < fl->n && all; i++) {
			char *f = expand_dup(x, sc, &fl->v[i]);
			char *owner = x->cb.specialuse_mailbox ? x->cb.specialuse_mailbox(x->cb.ctx, f) : NULL;
			all = owner && (!mb || strcmp(owner, mb) == 0);
			free(owner);
			free(f);
		}
		free(mb);
		return all;
	}
	default:
		rt_error(x, n, "not a test");
		return -1;
	}
	if (!x->err.len)
		r = match_values(x, sc, n, &vs, keys);
	vals_free(&vs);
	return x->err.len ? -1 : r;
}

/* ---- actions ---- */

static struct sieve_action *add_action(struct exec *x, const struct sieve_node *n, enum sieve_action_kind k)
{
	struct sieve_result *r = x->res;
	if (r->action_count >= x->limits.max_actions) {
		rt_error(x, n, "too many actions (limit %u)", x->limits.max_actions);
		return NULL;
	}
	r->actions = xrealloc(r->actions, (r->action_count + 1) * sizeof(*r->actions));
	struct sieve_action *a = &r->actions[r->action_count++];
	memset(a, 0, sizeof(*a));
	a->kind = k;
	a->line = n ? n->line : 0;
	return a;
}

/* A flag the store may set: a system flag other than \Recent, or an
 * IMAP atom keyword (RFC 3501 flag-keyword; RFC 5232 3 says invalid ones
 * are ignored). */
static bool valid_flag(const char *f)
{
	static const char *const sys[] = { "\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft" };
	if (f[0] == '\\') {
		for (size_t i = 0; i < ARRAY_SIZE(sys); i++)
			if (str_casecmp(f, sys[i]) == 0)
				return true;
		return false;
	}
	if (!*f || strlen(f) > 255)
		return false;
	for (const unsigned char *p = (const unsigned char *)f; *p; p++)
		if (*p <= 32 || *p >= 127 || strchr("(){%*\"\\]", *p))
			return false;
	return true;
}

static void set_flags(struct exec *x, const struct sieve_node *n, struct sieve_action *a,
		      const struct vals *fl)
{
	for (size_t i = 0; i < a->flag_count; i++)
		free(a->flags[i]);
	free(a->flags);
	a->flags = fl->n ? xcalloc(fl->n, sizeof(char *)) : NULL;
	a->flag_count = 0;
	for (size_t i = 0; i < fl->n; i++) {
		if (!valid_flag(bstr(&fl->v[i]))) {
			rt_warn(x, n, "invalid flag \"%s\" ignored", bstr(&fl->v[i]));
			continue;
		}
		a->flags[a->flag_count++] = xstrdup(bstr(&fl->v[i]));
	}
	a->flags_set = true;
}

/* The flags an action stores: :flags, else the internal variable (imap4flags). */
static void action_flags(struct exec *x, struct scope *sc, const struct sieve_node *n, struct sieve_action *a)
{
	if (x->script ? !sieve_has_ext(x->script, SEXT_IMAP4FLAGS) : !x->any_imap4flags)
		return;
	struct vals fl = { 0 };
	if (n && (n->flags & SNF_HAS_FLAGS)) {
		for (size_t i = 0; i < n->flaglist.n; i++) {
			struct buf b;
			expand(x, sc, &n->flaglist.v[i], &b);
			flags_split(bstr(&b), b.len, &fl);
			buf_free(&b);
		}
	} else {
		flags_split(bstr(&x->flags), x->flags.len, &fl);
	}
	set_flags(x, n, a, &fl);
	vals_free(&fl);
}

static bool is_inbox(const char *mb)
{
	return str_casecmp(mb, "INBOX") == 0;
}

/* An earlier action storing into the same mailbox (RFC 5228 2.10.3: two
 * stores into one mailbox are one). */
static struct sieve_action *find_store(struct exec *x, const char *mb)
{
	for (size_t i = 0; i < x->res->action_count; i++) {
		struct sieve_action *a = &x->res->actions[i];
		if ((a->kind == SIEVE_ACT_KEEP || a->kind == SIEVE_ACT_FILEINTO) &&
		    (is_inbox(mb) ? is_inbox(a->mailbox) : strcmp(a->mailbox, mb) == 0))
			return a;
	}
	return NULL;
}

static bool conflicts_reject(struct exec *x, const struct sieve_node *n, const char *what)
{
	if (x->rejected) {
		rt_error(x, n, "%s conflicts with reject", what);
		return true;
	}
	return false;
}

/* Local parts are case-sensitive (RFC 5321 2.4), domains are not. */
static bool same_address(const char *a, const char *b)
{
	const char *ea = strrchr(a, '@'), *eb = strrchr(b, '@');
	size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
	if (la != lb || memcmp(a, b, la) != 0)
		return false;
	return str_casecmp(a + la, b + lb) == 0;
}

static bool own_address(struct exec *x, const char *addr)
{
	const struct sieve_recipient *r = &x->in->recipient;
	if (x->in->envelope.to && str_casecmp(addr, x->in->envelope.to) == 0)
		return true;
	if (x->in->envelope.orig_to && str_casecmp(addr, x->in->envelope.orig_to) == 0)
		return true;
	for (const char *const *a = r->addresses; a && *a; a++)
		if (str_casecmp(addr, *a) == 0)
			return true;
	return false;
}

static void do_store(struct exec *x, struct scope *sc, const struct sieve_node *n, const char *mb,
		     bool keep)
{
	if (conflicts_reject(x, n, keep ? "keep" : "fileinto"))
		return;
	struct sieve_action *a = find_store(x, mb);
	if (!a) {
		a = add_action(x, n, keep ? SIEVE_ACT_KEEP : SIEVE_ACT_FILEINTO);
		if (!a)
			return;
		a->mailbox = xstrdup(mb);
	}
	action_flags(x, sc, n, a);
	if (!keep) {
		if (n->flags & SNF_CREATE)
			a->create = true;
		if (n->specialuse.s && !a->specialuse)
			a->specialuse = expand_dup(x, sc, &n->specialuse);
		if (n->flags & SNF_COPY)
			a->copy = true;
		else
			x->implicit_keep = false;
	} else {
		x->implicit_keep = false;
	}
}

static bool valid_utf8(const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		if (!l || i + l > n)
			return false;
		for (size_t k = 1; k < l; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += l;
	}
	return true;
}

/* Vacation (RFC 5230 4.5, 4.6 and RFC 3834 2): who is not answered. */
static const char *vacation_suppress(struct exec *x, const struct sieve_node *n, struct scope *sc,
				     const char *sender)
{
	if (!sender || !*sender)
		return "the envelope sender is <> (a bounce or auto-reply)";
	if (own_address(x, sender))
		return "the sender is the recipient";
	for (size_t k = 0; k < n->addresses.n; k++) {
		char *mine = expand_dup(x, sc, &n->addresses.v[k]);
		bool self = str_casecmp(mine, sender) == 0;
		free(mine);
		if (self)
			return "the sender is the recipient (one of :addresses)";
	}
	const char *at = strrchr(sender, '@');
	size_t ll = at ? (size_t)(at - sender) : strlen(sender);
	if ((ll == 13 && str_ncasecmp(sender, "mailer-daemon", 13) == 0) ||
	    (ll == 8 && str_ncasecmp(sender, "listserv", 8) == 0) ||
	    (ll == 9 && str_ncasecmp(sender, "majordomo", 9) == 0) ||
	    (ll >= 6 && str_ncasecmp(sender, "owner-", 6) == 0) ||
	    (ll >= 8 && str_ncasecmp(sender + ll - 8, "-request", 8) == 0))
		return "the sender is a mailing list or mailer daemon address";
	for (size_t i = 0; i < x->nhdrs; i++) {
		const struct hdr *h = &x->hdrs[i];
		if (!str_casecmp(h->name, "auto-submitted") && str_ncasecmp(h->value, "no", 2) != 0)
			return "the message is auto-submitted (Auto-Submitted)";
		if (!str_casecmp(h->name, "precedence") &&
		    (!str_casecmp(h->value, "bulk") || !str_casecmp(h->value, "list") ||
		     !str_casecmp(h->value, "junk")))
			return "the message is bulk or list mail (Precedence)";
		if (!str_ncasecmp(h->name, "list-", 5) &&
		    (!str_casecmp(h->name + 5, "id") || !str_casecmp(h->name + 5, "help") ||
		     !str_casecmp(h->name + 5, "subscribe") || !str_casecmp(h->name + 5, "unsubscribe") ||
		     !str_casecmp(h->name + 5, "post") || !str_casecmp(h->name + 5, "owner") ||
		     !str_casecmp(h->name + 5, "archive")))
			return "the message comes from a mailing list (List-*)";
		if (!str_casecmp(h->name, "x-auto-response-suppress") &&
		    (strstr(h->value, "OOF") || strstr(h->value, "All")))
			return "the sender asked for no auto-replies (X-Auto-Response-Suppress)";
	}
	/* RFC 5230 4.5: one of the recipient's addresses must be in a
	 * recipient field of the message */
	static const char *const fields[] = { "to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc" };
	bool found = false;
	for (size_t i = 0; i < x->nhdrs && !found; i++) {
		bool rf = false;
		for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
			rf |= !str_casecmp(x->hdrs[i].name, fields[f]);
		if (!rf)
			continue;
		size_t na;
		const struct sieve_address *ad = hdr_addresses(&x->hdrs[i], &na);
		for (size_t a = 0; a < na && !found; a++) {
			if (!ad[a].local)
				continue;
			found = own_address(x, ad[a].all);
			for (size_t k = 0; k < n->addresses.n && !found; k++) {
				char *mine = expand_dup(x, sc, &n->addresses.v[k]);
				found = str_casecmp(mine, ad[a].all) == 0;
				free(mine);
			}
		}
	}
	if (!found)
		return "the recipient's address is not in To, Cc or Bcc (RFC 5230 4.5)";
	return NULL;
}

static void do_vacation(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	if (x->vacationed) {
		rt_error(x, n, "vacation: only one vacation action per script run");
		return;
	}
	if (x->rejected) {
		rt_error(x, n, "vacation conflicts with reject");
		return;
	}
	x->vacationed = true;
	struct sieve_action *a = add_action(x, n, SIEVE_ACT_VACATION);
	if (!a)
		return;
	struct sieve_vacation *v = xcalloc(1, sizeof(*v));
	a->vacation = v;
	const char *sender = x->in->envelope.from ? x->in->envelope.from : "";
	v->to = xstrdup(sender);
	/* :from */
	if (n->from.s) {
		v->from = expand_dup(x, sc, &n->from);
		struct sieve_address *ad = NULL;
		size_t na = sieve_parse_addresses(v->from, strlen(v->from), &ad);
		bool ok = na == 1 && ad[0].domain;
		sieve_addresses_free(ad, na);
		if (!ok) {
			rt_error(x, n, "vacation: invalid :from address \"%s\"", v->from);
			return;
		}
	} else {
		const char *f = x->in->recipient.from_address ? x->in->recipient.from_address :
			x->in->envelope.to;
		v->from = xstrdup(f ? f : "");
	}
	/* subject */
	if (n->subject.s) {
		v->subject = expand_dup(x, sc, &n->subject);
	} else {
		size_t *idx = NULL;
		size_t k = find_headers(x, n, "subject", &idx);
		struct buf s;
		buf_init(&s, 0);
		if (k) {
			buf_append_str(&s, "Auto: ");
			mime_decode_words(x->hdrs[idx[0]].value, strlen(x->hdrs[idx[0]].value), &s);
		} else {
			buf_append_str(&s, "Automated reply");
		}
		free(idx);
		v->subject = s.data;
	}
	/* header fields of the reply: no line breaks (no header injection) */
	for (char *p = v->subject; *p; p++)
		if (*p == '\r' || *p == '\n' || *p == '\0')
			*p = ' ';
	if (strpbrk(v->from, "\r\n")) {
		rt_error(x, n, "vacation: line break in the :from address");
		return;
	}
	v->body = expand_dup(x, sc, &n->args[0].v[0]);
	v->mime = (n->flags & SNF_MIME) != 0;
	if (!v->mime && !valid_utf8(v->body, strlen(v->body))) {
		rt_error(x, n, "vacation: the reason is not valid UTF-8");
		return;
	}
	/* period */
	uint64_t period = (n->flags & (SNF_HAS_DAYS | SNF_HAS_SECONDS)) ? n->days :
		x->limits.vacation_default_period;
	if ((n->flags & SNF_HAS_SECONDS) && n->days == 0)
		period = 0;	/* RFC 6131 2: always reply, if the minimum allows it */
	if (period < x->limits.vacation_min_period)
		period = x->limits.vacation_min_period;
	if (period > x->limits.vacation_max_period)
		period = x->limits.vacation_max_period;
	v->period = period;
	/* handle: :handle, else derived from the arguments as the script
	 * writes them (RFC 5230 4.2), before variable expansion, as Pigeonhole
	 * does: a reason that quotes the subject must not start a new period
	 * for every subject */
	if (n->handle.s) {
		v->handle = expand_dup(x, sc, &n->handle);
	} else {
		struct buf h;
		char hex[65];
		buf_init(&h, 0);
		buf_printf(&h, "%s%c%s%c%d%c", n->subject.s ? n->subject.s : "", 0, n->from.s ? n->from.s : "",
			   0, v->mime, 0);
		buf_append(&h, n->args[0].v[0].s, n->args[0].v[0].len);
		sha256_hex(h.data, h.len, hex);
		buf_free(&h);
		v->handle = xstrdup(hex);
	}
	/* In-Reply-To / References */
	size_t *idx = NULL;
	size_t k = find_headers(x, n, "message-id", &idx);
	if (k && x->hdrs[idx[0]].value[0])
		v->in_reply_to = xstrdup(x->hdrs[idx[0]].value);
	free(idx);
	k = find_headers(x, n, "references", &idx);
	if (k || v->in_reply_to) {
		struct buf r;
		buf_init(&r, 0);
		if (k)
			buf_append_str(&r, x->hdrs[idx[0]].value);
		if (v->in_reply_to) {
			if (r.len)
				buf_append_str(&r, " ");
			buf_append_str(&r, v->in_reply_to);
		}
		v->references = r.data;
	}
	free(idx);
	if (n->fcc.s) {
		v->fcc = expand_dup(x, sc, &n->fcc);
		v->fcc_create = (n->flags & SNF_CREATE) != 0;
		if (n->specialuse.s)
			v->fcc_specialuse = expand_dup(x, sc, &n->specialuse);
		if (n->flags & SNF_HAS_FLAGS) {
			struct vals fl = { 0 };
			for (size_t i = 0; i < n->flaglist.n; i++) {
				struct buf b;
				expand(x, sc, &n->flaglist.v[i], &b);
				flags_split(bstr(&b), b.len, &fl);
				buf_free(&b);
			}
			v->fcc_flags = fl.n ? xcalloc(fl.n, sizeof(char *)) : NULL;
			for (size_t i = 0; i < fl.n; i++)
				v->fcc_flags[i] = xstrdup(bstr(&fl.v[i]));
			v->fcc_flag_count = fl.n;
			vals_free(&fl);
		}
	}
	const char *why = vacation_suppress(x, n, sc, sender);
	if (!why && x->cb.vacation_answered) {
		int ans = x->cb.vacation_answered(x->cb.ctx, sender, v->handle, v->period);
		if (ans < 0) {
			rt_error(x, n, "vacation: the reply database is unavailable");
			return;
		}
		if (ans == 1)
			why = "already answered this sender within the period";
	}
	if (why) {
		v->suppressed = true;
		v->why = xstrdup(why);
	}
}

/* RFC 2047-encode a header value when it is not plain ASCII. */
static void encode_header_value(const char *v, struct buf *out)
{
	bool ascii = true;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	if (ascii) {
		buf_append_str(out, v);
		return;
	}
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(v), i = 0;
	bool first = true;
	while (i < n) {
		/* 45 bytes per encoded word, not splitting a UTF-8 character */
		size_t chunk = n - i > 45 ? 45 : n - i;
		while (chunk > 1 && i + chunk < n && ((unsigned char)v[i + chunk] & 0xc0) == 0x80)
			chunk--;
		if (!first)
			buf_append_str(out, " ");	/* the renderer folds at spaces */
		first = false;
		buf_append_str(out, "=?UTF-8?B?");
		for (size_t k = 0; k < chunk; k += 3) {
			unsigned b0 = (unsigned char)v[i + k];
			unsigned b1 = k + 1 < chunk ? (unsigned char)v[i + k + 1] : 0;
			unsigned b2 = k + 2 < chunk ? (unsigned char)v[i + k + 2] : 0;
			char q[4] = { b64[b0 >> 2], b64[((b0 & 3) << 4) | (b1 >> 4)],
				      k + 1 < chunk ? b64[((b1 & 15) << 2) | (b2 >> 6)] : '=',
				      k + 2 < chunk ? b64[b2 & 63] : '=' };
			buf_append(out, q, 4);
		}
		buf_append_str(out, "?=");
		i += chunk;
	}
}

static bool protected_header(const char *name)
{
	/* RFC 5293 6: Received and Auto-Submitted are never added or deleted */
	return !str_casecmp(name, "received") || !str_casecmp(name, "auto-submitted");
}

static bool hdr_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 32 || (unsigned char)*s >= 127 || *s == ':')
			return false;
	return true;
}

static void do_addheader(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	char *name = expand_dup(x, sc, &n->args[0].v[0]);
	char *value = expand_dup(x, sc, &n->args[1].v[0]);
	if (!hdr_name_ok(name)) {
		rt_error(x, n, "addheader: invalid header field name \"%s\"", name);
	} else if (protected_header(name)) {
		rt_warn(x, n, "addheader: the %s header field is protected, not added", name);
	} else {
		for (char *p = value; *p; p++)
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		size_t total = 0;
		for (size_t i = 0; i < x->nhdrs; i++)
			total += strlen(x->hdrs[i].name) + strlen(x->hdrs[i].value) + 4;
		if (total + strlen(name) + strlen(value) > x->limits.max_header_size) {
			rt_error(x, n, "addheader: the header would exceed %zu bytes", x->limits.max_header_size);
		} else {
			x->hdrs = xrealloc(x->hdrs, (x->nhdrs + 1) * sizeof(*x->hdrs));
			size_t at = (n->flags & SNF_LAST) ? x->nhdrs : 0;
			memmove(&x->hdrs[at + 1], &x->hdrs[at], (x->nhdrs - at) * sizeof(*x->hdrs));
			memset(&x->hdrs[at], 0, sizeof(x->hdrs[at]));
			x->hdrs[at].name = name;
			x->hdrs[at].value = value;
			x->nhdrs++;
			x->hdrs_edited = true;
			return;
		}
	}
	free(name);
	free(value);
}

static void do_deleteheader(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	char *name = expand_dup(x, sc, &n->args[0].v[0]);
	if (!hdr_name_ok(name)) {
		rt_error(x, n, "deleteheader: invalid header field name \"%s\"", name);
		free(name);
		return;
	}
	if (protected_header(name)) {
		rt_warn(x, n, "deleteheader: the %s header field is protected, not deleted", name);
		free(name);
		return;
	}
	size_t *idx = NULL;
	size_t k = find_headers(x, n, name, &idx);
	apply_index(n, &idx, &k);
	free(name);
	bool *del = xcalloc(x->nhdrs + 1, sizeof(bool));
	for (size_t j = 0; j < k && !x->err.len; j++) {
		struct hdr *h = &x->hdrs[idx[j]];
		bool d = true;
		if (n->nargs == 2) {
			struct vals vs = { 0 };
			size_t dl;
			const char *dv = hdr_decoded(h, &dl);
			vals_add_str(&vs, dv, dl);
			d = match_values(x, sc, n, &vs, &n->args[1]);
			vals_free(&vs);
		}
		del[idx[j]] = d;
	}
	size_t w = 0;
	for (size_t i = 0; i < x->nhdrs; i++) {
		if (del[i]) {
			hdr_free(&x->hdrs[i]);
			x->hdrs_edited = true;
			continue;
		}
		x->hdrs[w++] = x->hdrs[i];
	}
	x->nhdrs = w;
	free(del);
	free(idx);
}

/* set with modifiers (RFC 5229 4.1), applied from the highest precedence. */
static void apply_modifiers(uint32_t mods, struct buf *v)
{
	char *s = v->data;
	size_t n = v->len;
	if (!s)
		return;
	if (mods & SMOD_LOWER)
		for (size_t i = 0; i < n; i++) s[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] + 32) : s[i];
	if (mods & SMOD_UPPER)
		for (size_t i = 0; i < n; i++) s[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 32) : s[i];
	if ((mods & SMOD_LOWERFIRST) && n && s[0] >= 'A' && s[0] <= 'Z')
		s[0] = (char)(s[0] + 32);
	if ((mods & SMOD_UPPERFIRST) && n && s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 32);
	if (mods & (SMOD_QUOTEWILDCARD | SMOD_QUOTEREGEX)) {
		const char *special = (mods & SMOD_QUOTEWILDCARD) ? "*?\\" : "*.?+()[]{}^$|\\";
		struct buf q;
		buf_init(&q, v->max);
		for (size_t i = 0; i < n; i++) {
			if (strchr(special, s[i]) && s[i])
				if (buf_append(&q, "\\", 1) < 0)
					break;
			if (buf_append(&q, s + i, 1) < 0)
				break;
		}
		buf_reset(v);
		buf_append(v, q.data ? q.data : "", q.len);
		buf_free(&q);
	}
	if (mods & SMOD_LENGTH) {
		/* the length in characters (UTF-8) */
		size_t chars = 0;
		for (size_t i = 0; i < v->len; i++)
			if (((unsigned char)v->data[i] & 0xc0) != 0x80)
				chars++;
		buf_reset(v);
		buf_printf(v, "%zu", chars);
	}
}

static void truncate_utf8(struct buf *b, size_t max)
{
	if (b->len <= max)
		return;
	size_t n = max;
	while (n > 0 && ((unsigned char)b->data[n] & 0xc0) == 0x80)
		n--;
	b->len = n;
	b->data[n] = '\0';
}

static void do_flags(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	struct buf *target = &x->flags;
	if (n->nargs == 2) {
		char *vn = expand_dup(x, sc, &n->args[0].v[0]);
		struct var *v = var_lookup(x, sc, vn, strlen(vn), true, n);
		free(vn);
		if (!v)
			return;
		target = &v->value;
	}
	struct vals cur = { 0 }, arg = { 0 };
	const struct sieve_list *l = &n->args[n->nargs - 1];
	for (size_t i = 0; i < l->n; i++) {
		struct buf b;
		expand(x, sc, &l->v[i], &b);
		flags_split(bstr(&b), b.len, &arg);
		buf_free(&b);
	}
	if (n->op != SOP_SETFLAG)
		flags_split(bstr(target), target->len, &cur);
	struct buf out;
	buf_init(&out, x->limits.max_variable_size);
	if (n->op == SOP_REMOVEFLAG) {
		for (size_t i = 0; i < cur.n; i++) {
			bool drop = false;
			for (size_t k = 0; k < arg.n && !drop; k++)
				drop = str_casecmp(bstr(&cur.v[i]), bstr(&arg.v[k])) == 0;
			if (!drop)
				buf_printf(&out, "%s%s", out.len ? " " : "", bstr(&cur.v[i]));
		}
	} else {
		for (size_t i = 0; i < cur.n; i++)
			buf_printf(&out, "%s%s", out.len ? " " : "", bstr(&cur.v[i]));
		for (size_t k = 0; k < arg.n; k++) {
			bool dup = false;
			for (size_t i = 0; i < cur.n && !dup; i++)
				dup = str_casecmp(bstr(&cur.v[i]), bstr(&arg.v[k])) == 0;
			if (!dup)
				buf_printf(&out, "%s%s", out.len ? " " : "", bstr(&arg.v[k]));
		}
	}
	buf_reset(target);
	buf_append(target, out.data ? out.data : "", out.len);
	buf_free(&out);
	vals_free(&cur);
	vals_free(&arg);
}

static int run_block(struct exec *x, struct scope *sc, struct sieve_node *const *cmds, size_t n);
static void do_include(struct exec *x, struct scope *sc, const struct sieve_node *n);

/* Run commands; returns 1 to stop (stop/return), 0 to go on, -1 on error. */
static int run_block(struct exec *x, struct scope *sc, struct sieve_node *const *cmds, size_t ncmds)
{
	bool taken = false;
	for (size_t i = 0; i < ncmds; i++) {
		const struct sieve_node *n = cmds[i];
		if (!step(x, n))
			return -1;
		int r;
		switch (n->op) {
		case SOP_IF: case SOP_ELSIF: case SOP_ELSE:
			if (n->op != SOP_IF && taken)
				continue;
			if (n->op == SOP_ELSE)
				r = 1;
			else if ((r = test(x, sc, n->tests[0])) < 0)
				return -1;
			taken = r == 1;
			if (taken) {
				int b = run_block(x, sc, n->block, n->nblock);
				if (b != 0)
					return b;
			}
			continue;
		case SOP_STOP:
			x->stopped = true;
			return 1;
		case SOP_RETURN:
			x->returned = true;
			return 1;
		case SOP_KEEP:
			do_store(x, sc, n, "INBOX", true);
			break;
		case SOP_DISCARD:
			x->implicit_keep = false;
			x->discarded = true;
			break;
		case SOP_FILEINTO: {
			char *mb = expand_dup(x, sc, &n->args[0].v[0]);
			if (!*mb || !valid_utf8(mb, strlen(mb)) || strpbrk(mb, "\r\n"))
				rt_error(x, n, "fileinto: invalid mailbox name \"%s\"", mb);
			else
				do_store(x, sc, n, mb, false);
			free(mb);
			break;
		}
		case SOP_REDIRECT: {
			char *addr = expand_dup(x, sc, &n->args[0].v[0]);
			if (!sieve_valid_address(addr, strlen(addr))) {
				rt_error(x, n, "redirect: invalid address \"%s\"", addr);
			} else if (own_address(x, addr)) {
				rt_error(x, n, "redirect: refusing to redirect to the recipient's own address %s",
					 addr);
			} else if (!conflicts_reject(x, n, "redirect")) {
				bool dup = false;
				for (size_t k = 0; k < x->res->action_count && !dup; k++)
					dup = x->res->actions[k].kind == SIEVE_ACT_REDIRECT &&
					      same_address(x->res->actions[k].address, addr);
				if (!dup) {
					if (++x->redirects > x->limits.max_redirects) {
						rt_error(x, n, "too many redirects (limit %u)", x->limits.max_redirects);
					} else {
						struct sieve_action *a = add_action(x, n, SIEVE_ACT_REDIRECT);
						if (a) {
							a->address = addr;
							addr = NULL;
							a->copy = (n->flags & SNF_COPY) != 0;
						}
					}
				}
				if (!(n->flags & SNF_COPY))
					x->implicit_keep = false;
			}
			free(addr);
			break;
		}
		case SOP_REJECT: case SOP_EREJECT: {
			if (x->rejected) {
				rt_error(x, n, "only one reject or ereject per script run");
				break;
			}
			for (size_t k = 0; k < x->res->action_count; k++) {
				enum sieve_action_kind ak = x->res->actions[k].kind;
				if (ak == SIEVE_ACT_KEEP || ak == SIEVE_ACT_FILEINTO || ak == SIEVE_ACT_REDIRECT ||
				    ak == SIEVE_ACT_VACATION) {
					rt_error(x, n, "%s conflicts with an earlier %s", n->op == SOP_REJECT ?
						 "reject" : "ereject", ak == SIEVE_ACT_VACATION ? "vacation" :
						 ak == SIEVE_ACT_REDIRECT ? "redirect" : "keep or fileinto");
					break;
				}
			}
			if (x->err.len)
				break;
			struct sieve_action *a = add_action(x, n, n->op == SOP_REJECT ? SIEVE_ACT_REJECT :
							    SIEVE_ACT_EREJECT);
			if (a)
				a->reason = expand_dup(x, sc, &n->args[0].v[0]);
			x->rejected = true;
			x->implicit_keep = false;
			break;
		}
		case SOP_SETFLAG: case SOP_ADDFLAG: case SOP_REMOVEFLAG:
			do_flags(x, sc, n);
			break;
		case SOP_SET: {
			struct buf v;
			expand(x, sc, &n->args[1].v[0], &v);
			apply_modifiers(n->modifiers, &v);
			truncate_utf8(&v, x->limits.max_variable_size);
			struct var *var = var_lookup(x, sc, n->args[0].v[0].s, n->args[0].v[0].len, true, n);
			if (var) {
				buf_reset(&var->value);
				buf_append(&var->value, bstr(&v), v.len);
			}
			buf_free(&v);
			break;
		}
		case SOP_VACATION:
			do_vacation(x, sc, n);
			break;
		case SOP_INCLUDE:
			do_include(x, sc, n);
			if (x->stopped)
				return 1;
			break;
		case SOP_GLOBAL:
			for (size_t k = 0; k < n->args[0].n; k++) {
				if (!is_global_name(sc, n->args[0].v[k].s, n->args[0].v[k].len)) {
					sc->globals = xrealloc(sc->globals, (sc->nglobals + 1) * sizeof(char *));
					sc->globals[sc->nglobals++] = xstrdup(n->args[0].v[k].s);
				}
			}
			break;
		case SOP_ADDHEADER:
			do_addheader(x, sc, n);
			break;
		case SOP_DELETEHEADER:
			do_deleteheader(x, sc, n);
			break;
		default:
			rt_error(x, n, "not a command");
			break;
		}
		taken = false;
		if (x->err.len)
			return -1;
	}
	return 0;
}

static int run_script(struct exec *x, const struct sieve_script *s)
{
	const struct sieve_script *prev = x->script;
	struct scope sc = { 0 };
	x->script = s;
	x->returned = false;
	if (sieve_has_ext(s, SEXT_IMAP4FLAGS))
		x->any_imap4flags = true;
	int r = run_block(x, &sc, s->cmds, s->ncmds);
	x->returned = false;
	scope_free(&sc);
	x->script = prev;
	return r < 0 ? -1 : 0;
}

static void do_include(struct exec *x, struct scope *sc, const struct sieve_node *n)
{
	(void)sc;
	const char *name = n->args[0].v[0].s;
	enum sieve_include_location loc = (n->flags & SNF_GLOBAL) ? SIEVE_INCLUDE_GLOBAL :
		SIEVE_INCLUDE_PERSONAL;
	char *key = xasprintf("%c:%s", loc == SIEVE_INCLUDE_GLOBAL ? 'g' : 'p', name);
	for (size_t i = 0; i < x->include_stack_len; i++)
		if (strcmp(x->include_stack[i], key) == 0) {
			rt_error(x, n, "include: loop (\"%s\" includes itself)", name);
			free(key);
			return;
		}
	if (n->flags & SNF_ONCE)
		for (size_t i = 0; i < x->nincluded; i++)
			if (strcmp(x->included[i], key) == 0) {
				free(key);
				return;
			}
	if (x->include_depth + 1 > x->limits.max_include_depth) {
		rt_error(x, n, "include: nested too deeply (limit %u)", x->limits.max_include_depth);
		free(key);
		return;
	}
	bool known = false;
	for (size_t i = 0; i < x->nincluded && !known; i++)
		known = strcmp(x->included[i], key) == 0;
	if (!known && x->nincluded >= x->limits.max_includes) {
		rt_error(x, n, "include: too many included scripts (limit %u)", x->limits.max_includes);
		free(key);
		return;
	}
	char *src = NULL;
	size_t len = 0;
	const char *ierr = NULL;
	int r = x->cb.include ? x->cb.include(x->cb.ctx, loc, name, &src, &len, &ierr) : 1;
	if (r == 1) {
		free(key);
		if (!(n->flags & SNF_OPTIONAL))
			rt_error(x, n, "include: script \"%s\" not found", name);
		return;
	}
	if (r < 0) {
		rt_error(x, n, "include: cannot read \"%s\": %s", name, ierr ? ierr : "error");
		free(key);
		return;
	}
	/* fetching and compiling costs in proportion to the size, so that
	 * repeated includes of a large script stay within the CPU budget */
	x->steps += len / 64;
	if (!step(x, n)) {
		free(src);
		free(key);
		return;
	}
	struct sieve_script *inc = NULL;
	char *cerr = NULL;
	int c;
	char *cname = xasprintf("%s%s", loc == SIEVE_INCLUDE_GLOBAL ? ":global/" : "", name);
	if (x->in->cache)
		c = sieve_cache_get(x->in->cache, cname, src, len, &inc, &cerr);
	else
		c = sieve_compile(src, len, &(struct sieve_compile_params){ .limits = &x->limits, .name = cname },
				  &inc, &cerr);
	free(cname);
	free(src);
	if (c < 0) {
		rt_error(x, n, "include: script \"%s\" does not compile: %s", name, cerr);
		free(cerr);
		free(key);
		return;
	}
	if (!known) {
		x->included = xrealloc(x->included, (x->nincluded + 1) * sizeof(char *));
		x->included[x->nincluded++] = xstrdup(key);
	}
	x->include_stack = xrealloc(x->include_stack, (x->include_stack_len + 1) * sizeof(char *));
	x->include_stack[x->include_stack_len++] = key;
	x->include_depth++;
	run_script(x, inc);
	x->include_depth--;
	x->include_stack_len--;
	free(key);
	sieve_script_unref(&inc);
}

/* ---- result ---- */

static void free_action(struct sieve_action *a)
{
	free(a->mailbox);
	for (size_t i = 0; i < a->flag_count; i++)
		free(a->flags[i]);
	free(a->flags);
	free(a->specialuse);
	free(a->mailboxid);
	free(a->address);
	free(a->reason);
	if (a->vacation) {
		struct sieve_vacation *v = a->vacation;
		free(v->why); free(v->to); free(v->from); free(v->subject); free(v->body);
		free(v->handle); free(v->in_reply_to); free(v->references); free(v->fcc);
		free(v->fcc_specialuse);
		for (size_t i = 0; i < v->fcc_flag_count; i++)
			free(v->fcc_flags[i]);
		free(v->fcc_flags);
		free(v);
	}
}

void sieve_result_free(struct sieve_result **result)
{
	struct sieve_result *r = *result;
	if (!r)
		return;
	for (size_t i = 0; i < r->action_count; i++)
		free_action(&r->actions[i]);
	free(r->actions);
	free(r->edited_header);
	for (size_t i = 0; i < r->duplicate_count; i++)
		free(r->duplicates[i].id);
	free(r->duplicates);
	free(r->error);
	for (size_t i = 0; i < r->warning_count; i++)
		free(r->warnings[i]);
	free(r->warnings);
	free(r);
	*result = NULL;
}

static void render_header(struct exec *x)
{
	struct buf h;
	buf_init(&h, 0);
	for (size_t i = 0; i < x->nhdrs; i++) {
		const struct hdr *d = &x->hdrs[i];
		if (d->raw_len) {
			buf_append(&h, x->msg->raw + d->raw_off, d->raw_len);
			continue;
		}
		struct buf v;
		buf_init(&v, 0);
		encode_header_value(d->value, &v);
		buf_printf(&h, "%s: ", d->name);
		/* fold at spaces so that lines stay near 78 columns (RFC 5322 2.1.1) */
		size_t col = strlen(d->name) + 2;
		const char *p = bstr(&v);
		bool first = true;
		while (*p) {
			size_t sp = 0;
			while (p[sp] == ' ')
				sp++;
			const char *w = p + sp;
			size_t wl = strcspn(w, " ");
			if (!first && sp && col + sp + wl > 78) {
				buf_append_str(&h, x->eol);
				buf_append_str(&h, " ");
				col = 1;
			} else {
				buf_append(&h, p, sp);
				col += sp;
			}
			buf_append(&h, w, wl);
			col += wl;
			p = w + wl;
			first = false;
		}
		buf_free(&v);
		buf_append_str(&h, x->eol);
	}
	buf_append_str(&h, x->eol);
	x->res->edited_header = h.data;
	x->res->edited_header_len = h.len;
}

static void finish(struct exec *x)
{
	struct sieve_result *r = x->res;
	if (x->err.len) {
		/* RFC 5228 2.10.6: a runtime error cancels the actions; keep */
		for (size_t i = 0; i < r->action_count; i++)
			free_action(&r->actions[i]);
		r->action_count = 0;
		for (size_t i = 0; i < r->duplicate_count; i++)
			free(r->duplicates[i].id);
		r->duplicate_count = 0;
		r->error = xstrdup(x->err.data);
		struct sieve_action *a = add_action(x, NULL, SIEVE_ACT_KEEP);
		a->implicit = true;
		a->mailbox = xstrdup("INBOX");
	} else {
		if (x->implicit_keep) {
			struct sieve_action *a = find_store(x, "INBOX");
			if (!a) {
				x->limits.max_actions++;	/* the implicit keep is always possible */
				a = add_action(x, NULL, SIEVE_ACT_KEEP);
				a->implicit = true;
				a->mailbox = xstrdup("INBOX");
				action_flags(x, NULL, NULL, a);
			}
		} else if (x->discarded) {
			bool stores = false;
			for (size_t i = 0; i < r->action_count; i++)
				stores |= r->actions[i].kind != SIEVE_ACT_VACATION;
			if (!stores) {
				x->limits.max_actions++;
				add_action(x, NULL, SIEVE_ACT_DISCARD);
			}
		}
		if (x->hdrs_edited)
			render_header(x);
	}
	r->warnings = x->warnings;
	r->warning_count = x->nwarnings;
	x->warnings = NULL;
	r->cpu_steps = x->steps > UINT32_MAX ? UINT32_MAX : (unsigned)x->steps;
}

int sieve_execute_multi(const struct sieve_script *const *scripts, size_t count,
			const struct sieve_exec_input *in, struct sieve_result **result_r)
{
	struct exec x;
	memset(&x, 0, sizeof(x));
	x.in = in;
	if (in->cb)
		x.cb = *in->cb;
	if (in->limits)
		x.limits = *in->limits;
	sieve_limits_fill(&x.limits);
	x.step_limit = x.limits.max_cpu_steps;
	x.caps.max = x.limits.max_match_values;
	x.res = xcalloc(1, sizeof(*x.res));
	x.implicit_keep = true;
	buf_init(&x.err, 4096);
	buf_init(&x.flags, x.limits.max_variable_size);
	x.msg = mime_parse(in->message ? in->message : "", in->message ? in->message_size : 0, NULL);
	load_headers(&x);
	for (size_t i = 0; i < count && !x.err.len; i++) {
		if (!scripts[i])
			continue;
		x.stopped = false;
		if (run_script(&x, scripts[i]) < 0)
			break;
		if (!x.implicit_keep)
			break;	/* the next script runs only while the implicit keep holds */
	}
	finish(&x);
	*result_r = x.res;
	int rc = x.err.len ? -1 : 0;
	free_headers(&x);
	vals_free(&x.body_text);
	mime_free(&x.msg);
	scope_free(&x.globals);
	sieve_captures_free(&x.caps);
	buf_free(&x.err);
	buf_free(&x.flags);
	for (size_t i = 0; i < x.nincluded; i++)
		free(x.included[i]);
	free(x.included);
	free(x.include_stack);
	for (size_t i = 0; i < x.ndup; i++)
		free(x.dup_seen_ids[i]);
	free(x.dup_seen_ids);
	free(x.dup_seen);
	sieve_regex_cache_free(&x.rx);
	return rc;
}

int sieve_execute(const struct sieve_script *script, const struct sieve_exec_input *in,
		  struct sieve_result **result_r)
{
	return sieve_execute_multi(&script, 1, in, result_r);
}

static void describe_str(struct buf *b, const char *s)
{
	buf_append_str(b, "\"");
	for (; s && *s; s++) {
		if (*s == '"' || *s == '\\')
			buf_append_str(b, "\\");
		if (*s == '\r')
			buf_append_str(b, "\\r");
		else if (*s == '\n')
			buf_append_str(b, "\\n");
		else
			buf_append(b, s, 1);
	}
	buf_append_str(b, "\"");
}

char *sieve_result_describe(const struct sieve_result *r)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < r->action_count; i++) {
		const struct sieve_action *a = &r->actions[i];
		switch (a->kind) {
		case SIEVE_ACT_KEEP: buf_append_str(&b, a->implicit ? "keep (implicit)" : "keep"); break;
		case SIEVE_ACT_FILEINTO: buf_append_str(&b, "fileinto "); describe_str(&b, a->mailbox); break;
		case SIEVE_ACT_REDIRECT: buf_append_str(&b, "redirect "); describe_str(&b, a->address); break;
		case SIEVE_ACT_REJECT: buf_append_str(&b, "reject "); describe_str(&b, a->reason); break;
		case SIEVE_ACT_EREJECT: buf_append_str(&b, "ereject "); describe_str(&b, a->reason); break;
		case SIEVE_ACT_DISCARD: buf_append_str(&b, "discard"); break;
		case SIEVE_ACT_VACATION: {
			const struct sieve_vacation *v = a->vacation;
			buf_append_str(&b, v->suppressed ? "vacation suppressed " : "vacation to ");
			describe_str(&b, v->suppressed ? v->why : v->to);
			break;
		}
		}
		if (a->flags_set) {
			buf_append_str(&b, " flags=");
			for (size_t k = 0; k < a->flag_count; k++)
				buf_printf(&b, "%s%s", k ? " " : "", a->flags[k]);
		}
		if (a->copy)
			buf_append_str(&b, " :copy");
		if (a->create)
			buf_append_str(&b, " :create");
		if (a->specialuse)
			buf_printf(&b, " :specialuse %s", a->specialuse);
		buf_append_str(&b, "\n");
	}
	if (r->error)
		buf_printf(&b, "error: %s\n", r->error);
	if (!b.data)
		buf_append_str(&b, "");
	return b.data;
}
