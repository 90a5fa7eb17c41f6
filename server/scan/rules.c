/* The rules check: loads SpamAssassin-syntax rule files, compiles every
 * regex with PCRE2 (and its JIT), orders the meta rules, and runs the set
 * on a parsed message: header rules on the header fields, body rules on the
 * rendered text (HTML as text) one paragraph per line with the Subject
 * first, rawbody on the decoded text parts line by line, uri on the URLs,
 * full on the raw message. Runs on worker threads; the set is immutable. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "mime-text.h"
#include "sa_rules.h"
#include "sa_rules_uri.h"

/* The SpamAssassin version rule files may test for ("if (version >= X)"):
 * the syntax implemented is that of 4.0. */
#define RULES_SA_VERSION 4.000001
#define RULES_FILE_MAX (16u << 20)
#define RULES_TEXT_MAX (1u << 20)	/* rendered body text scanned */
#define RULES_MAX_URIS 1000
#define RULES_MATCH_LIMIT 500000u
#define RULES_DEPTH_LIMIT 20000u

/* Plugins whose blocks apply: the checks Cairn does itself. None of
 * SpamAssassin's eval plugins are claimed, so their rule blocks (which use
 * eval:) are skipped rather than half-loaded. */
static const char *const rules_plugins[] = { NULL };

struct crule {
	const struct sa_rule *src;
	pcre2_code *re;
	struct sa_meta *meta;
	size_t *deps;		/* meta: rule index of each name, SIZE_MAX if unknown */
	double score[4];
	unsigned want;		/* matches to count: 1, maxhits, or UINT32_MAX */
	bool report;
};

struct scan_rules {
	pthread_mutex_t lock;
	unsigned refs;
	struct sa_ruleset *set;
	struct crule *rules;	/* non-meta rules first, then metas in dependency order */
	size_t count;
	size_t first_meta;
};

static double default_score(const struct sa_rule *r)
{
	if (strncmp(r->name, "__", 2) == 0)
		return 0.0;
	if (strncmp(r->name, "T_", 2) == 0)
		return 0.01;
	if (r->tflags & SA_TF_NICE)
		return -1.0;
	return 1.0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_file(const char *path, char **text_r, size_t *len_r, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct buf b;
	buf_init(&b, RULES_FILE_MAX);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			fclose(f);
			buf_free(&b);
			snprintf(err, errlen, "%s: file too large", path);
			return -1;
		}
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		buf_free(&b);
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	*text_r = b.data ? b.data : xstrdup("");
	*len_r = b.len;
	return 0;
}

static int load_dir(struct sa_ruleset *set, const char *dir, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	char **names = NULL;
	size_t count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l < 4 || strcmp(de->d_name + l - 3, ".cf") != 0)
			continue;
		names = xrealloc(names, (count + 1) * sizeof(*names));
		names[count++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (count > 1)
		qsort(names, count, sizeof(*names), name_cmp);
	int ret = 0;
	for (size_t i = 0; i < count; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);
		char *text;
		size_t len;
		if (ret == 0 && read_file(path, &text, &len, err, errlen) == 0) {
			ret = sa_rules_parse(set, path, text, len, rules_plugins, RULES_SA_VERSION,
					     err, errlen);
			free(text);
		} else {
			ret = -1;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return ret;
}

static void crules_free(struct crule *rules, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		pcre2_code_free(rules[i].re);
		sa_meta_free(&rules[i].meta);
		free(rules[i].deps);
	}
	free(rules);
}

static pcre2_code *compile_re(const struct sa_rule *r, char *err, size_t errlen)
{
	uint32_t opts = 0;
	if (r->re_flags & SA_RE_I) opts |= PCRE2_CASELESS;
	if (r->re_flags & SA_RE_M) opts |= PCRE2_MULTILINE;
	if (r->re_flags & SA_RE_S) opts |= PCRE2_DOTALL;
	if (r->re_flags & SA_RE_X) opts |= PCRE2_EXTENDED;
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED, opts,
				       &code, &off, NULL);
	if (re == NULL && code == PCRE2_ERROR_CODE_POINT_TOO_BIG) {
		/* Perl matches characters past U+00FF on text decoded to
		 * characters: PCRE2 does so in UTF mode, and with
		 * MATCH_INVALID_UTF a subject that is not UTF-8 still matches
		 * (the invalid bytes match nothing) instead of failing */
		re = pcre2_compile((PCRE2_SPTR)r->pattern, PCRE2_ZERO_TERMINATED,
				   opts | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &code, &off, NULL);
	}
	if (re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "%s:%u: rule %s: regex error at offset %zu: %s", r->file,
			 r->line, r->name, (size_t)off, (const char *)msg);
		return NULL;
	}
	/* JIT is an optimisation: where it is unavailable, the interpreter runs */
	(void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

/* Order the metas so that each comes after the metas it uses. */
static int order_metas(struct crule *rules, size_t first, size_t count, char *err, size_t errlen)
{
	size_t nm = count - first;
	unsigned char *state = xcalloc(nm ? nm : 1, 1);	/* 0 new, 1 on stack, 2 done */
	size_t *order = xmalloc((nm ? nm : 1) * sizeof(size_t));
	size_t *stack = xmalloc((nm ? nm : 1) * sizeof(size_t));	/* meta index */
	size_t *pos = xmalloc((nm ? nm : 1) * sizeof(size_t));		/* next dep to visit */
	size_t no = 0;
	int ret = 0;
	for (size_t s = 0; s < nm && ret == 0; s++) {
		if (state[s] != 0)
			continue;
		size_t sp = 0;
		stack[sp] = s;
		pos[sp] = 0;
		sp++;
		state[s] = 1;
		while (sp > 0) {
			size_t m = stack[sp - 1];
			struct crule *cr = &rules[first + m];
			size_t ndeps = sa_meta_name_count(cr->meta);
			if (pos[sp - 1] < ndeps) {
				size_t d = cr->deps[pos[sp - 1]++];
				if (d == SIZE_MAX || d < first)
					continue;
				size_t dm = d - first;
				if (state[dm] == 1) {
					snprintf(err, errlen, "%s:%u: meta rule %s depends on itself (through %s)",
						 cr->src->file, cr->src->line, cr->src->name,
						 rules[d].src->name);
					ret = -1;
					break;
				}
				if (state[dm] == 0) {
					state[dm] = 1;
					stack[sp] = dm;
					pos[sp] = 0;
					sp++;
				}
				continue;
			}
			state[m] = 2;
			order[no++] = m;
			sp--;
		}
	}
	if (ret == 0) {
		/* permute rules[first..] into order, remapping deps */
		struct crule *tmp = xmalloc((nm ? nm : 1) * sizeof(*tmp));
		size_t *newpos = xmalloc((nm ? nm : 1) * sizeof(size_t));
		for (size_t i = 0; i < nm; i++) {
			tmp[i] = rules[first + order[i]];
			newpos[order[i]] = i;
		}
		for (size_t i = 0; i < nm; i++) {
			rules[first + i] = tmp[i];
			size_t nd = sa_meta_name_count(tmp[i].meta);
			for (size_t k = 0; k < nd; k++) {
				size_t d = rules[first + i].deps[k];
				if (d != SIZE_MAX && d >= first)
					rules[first + i].deps[k] = first + newpos[d - first];
			}
		}
		free(tmp);
		free(newpos);
	}
	free(state);
	free(order);
	free(stack);
	free(pos);
	return ret;
}

struct scan_rules *scan_rules_load(const char *const *dirs, size_t ndirs, char *err, size_t errlen)
{
	struct sa_ruleset *set = sa_ruleset_new();
	for (size_t i = 0; i < ndirs; i++)
		if (dirs[i] != NULL && *dirs[i] != '\0' && load_dir(set, dirs[i], err, errlen) < 0) {
			sa_ruleset_free(&set);
			return NULL;
		}
	/* index of each defined rule in the compiled array */
	size_t n = 0, nmeta = 0;
	for (size_t i = 0; i < set->count; i++)
		if (set->rules[i].type != SA_RULE_NONE) {
			n++;
			if (set->rules[i].type == SA_RULE_META)
				nmeta++;
		}
	struct crule *rules = xcalloc(n ? n : 1, sizeof(*rules));
	size_t *where = xmalloc((set->count ? set->count : 1) * sizeof(size_t));
	size_t a = 0, b = n - nmeta;
	for (size_t i = 0; i < set->count; i++) {
		const struct sa_rule *r = &set->rules[i];
		where[i] = SIZE_MAX;
		if (r->type == SA_RULE_NONE)
			continue;
		size_t k = r->type == SA_RULE_META ? b++ : a++;
		where[i] = k;
		struct crule *cr = &rules[k];
		cr->src = r;
		for (int s = 0; s < 4; s++)
			cr->score[s] = r->scored ? r->score[s] : default_score(r);
		cr->want = (r->tflags & SA_TF_MULTIPLE) ? (r->maxhits ? r->maxhits : UINT32_MAX) : 1;
		cr->report = strncmp(r->name, "__", 2) != 0;
	}
	int ret = 0;
	for (size_t k = 0; k < n && ret == 0; k++) {
		struct crule *cr = &rules[k];
		const struct sa_rule *r = cr->src;
		if (r->type == SA_RULE_META) {
			const char *error;
			cr->meta = sa_meta_compile(r->meta, &error);
			if (cr->meta == NULL) {	/* the parser checked it already */
				snprintf(err, errlen, "%s:%u: %s", r->file, r->line, error);
				ret = -1;
				break;
			}
			size_t nd = sa_meta_name_count(cr->meta);
			cr->deps = xmalloc((nd ? nd : 1) * sizeof(size_t));
			for (size_t d = 0; d < nd; d++) {
				struct sa_rule *dep = sa_ruleset_find(set, sa_meta_name(cr->meta, d));
				cr->deps[d] = dep ? where[dep - set->rules] : SIZE_MAX;
			}
		} else if (r->pattern != NULL) {
			cr->re = compile_re(r, err, errlen);
			if (cr->re == NULL)
				ret = -1;
		}
	}
	free(where);
	if (ret == 0)
		ret = order_metas(rules, n - nmeta, n, err, errlen);
	if (ret < 0) {
		crules_free(rules, n);
		sa_ruleset_free(&set);
		return NULL;
	}
	struct scan_rules *sr = xcalloc(1, sizeof(*sr));
	pthread_mutex_init(&sr->lock, NULL);
	sr->refs = 1;
	sr->set = set;
	sr->rules = rules;
	sr->count = n;
	sr->first_meta = n - nmeta;
	return sr;
}

struct scan_rules *scan_rules_ref(struct scan_rules *rules)
{
	pthread_mutex_lock(&rules->lock);
	rules->refs++;
	pthread_mutex_unlock(&rules->lock);
	return rules;
}

void scan_rules_unref(struct scan_rules **rulesp)
{
	struct scan_rules *sr = *rulesp;
	if (sr == NULL)
		return;
	*rulesp = NULL;
	pthread_mutex_lock(&sr->lock);
	unsigned left = --sr->refs;
	pthread_mutex_unlock(&sr->lock);
	if (left > 0)
		return;
	crules_free(sr->rules, sr->count);
	sa_ruleset_free(&sr->set);
	pthread_mutex_destroy(&sr->lock);
	free(sr);
}

size_t scan_rules_count(const struct scan_rules *rules)
{
	return rules->count;
}

size_t scan_rules_skipped(const struct scan_rules *rules)
{
	return rules->set->unsupported;
}

double scan_rules_required(const struct scan_rules *rules, double def)
{
	return rules->set->has_required ? rules->set->required_score : def;
}

/* ---- the message as the rules see it ---- */

struct hfield {
	const char *name;
	char *raw;		/* unfolded value, not decoded */
	char *dec;		/* RFC 2047 decoded */
};

struct view {
	const struct mime_message *msg;
	const char *envfrom;
	struct hfield *fields;
	size_t nfields;
	struct buf body;	/* rendered text: one paragraph per line */
	struct buf rawbody;	/* decoded text parts */
	struct buf uris;	/* NUL-separated */
	size_t nuris;
	struct buf all, all_raw;
};

static char *unfold(const char *s, size_t n)
{
	struct buf b;
	buf_init(&b, 0);
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\r' || s[i] == '\n')
			continue;
		buf_append(&b, &s[i], 1);
	}
	while (b.len > 0 && (b.data[b.len - 1] == ' ' || b.data[b.len - 1] == '\t'))
		b.data[--b.len] = '\0';
	return b.data ? b.data : xstrdup("");
}

static void view_headers(struct view *v)
{
	const struct mime_part *root = &v->msg->root;
	v->fields = xcalloc(root->header_count ? root->header_count : 1, sizeof(*v->fields));
	buf_init(&v->all, 0);
	buf_init(&v->all_raw, 0);
	for (size_t i = 0; i < root->header_count; i++) {
		const struct mime_header *h = &root->headers[i];
		const char *p = v->msg->raw + h->offset;
		const char *colon = memchr(p, ':', h->len);
		struct hfield *f = &v->fields[v->nfields++];
		f->name = h->name;
		if (colon == NULL) {
			f->raw = xstrdup("");
		} else {
			f->raw = unfold(colon + 1, h->len - (size_t)(colon + 1 - p));
		}
		struct buf d;
		buf_init(&d, 0);
		mime_decode_words(f->raw, strlen(f->raw), &d);
		f->dec = d.data ? d.data : xstrdup("");
		buf_printf(&v->all, "%s: %s\n", f->name, f->dec);
		buf_printf(&v->all_raw, "%s: %s\n", f->name, f->raw);
	}
}

static bool uri_collect(void *ctx, const char *uri, size_t len)
{
	struct view *v = ctx;
	if (v->nuris >= RULES_MAX_URIS)
		return false;
	buf_append(&v->uris, uri, len);
	buf_append(&v->uris, "", 1);
	v->nuris++;
	return true;
}

static void walk_parts(struct view *v, const struct mime_part *part, unsigned depth)
{
	if (depth > 64)
		return;
	if (part->child_count > 0) {
		for (size_t i = 0; i < part->child_count; i++)
			walk_parts(v, &part->children[i], depth + 1);
		return;
	}
	if (part->message != NULL) {
		walk_parts(v, part->message, depth + 1);
		return;
	}
	if (part->type == NULL || strcmp(part->type, "text") != 0)
		return;
	if (v->rawbody.len >= RULES_TEXT_MAX)
		return;
	const char *raw = part->msg->raw + part->body_offset;
	size_t n = part->body_len;
	struct buf dec;
	buf_init(&dec, 0);
	const char *text = raw;
	size_t tlen = n;
	if (part->encoding != NULL && str_casecmp(part->encoding, "base64") == 0) {
		mime_decode_base64(raw, n, &dec);
		text = dec.data ? dec.data : "";
		tlen = dec.len;
	} else if (part->encoding != NULL && str_casecmp(part->encoding, "quoted-printable") == 0) {
		mime_decode_qp(raw, n, &dec);
		text = dec.data ? dec.data : "";
		tlen = dec.len;
	}
	if (tlen > RULES_TEXT_MAX - v->rawbody.len)
		tlen = RULES_TEXT_MAX - v->rawbody.len;
	buf_append(&v->rawbody, text, tlen);
	buf_append(&v->rawbody, "\n", 1);
	bool html = part->subtype != NULL && strcmp(part->subtype, "html") == 0;
	sa_uri_extract(text, tlen, html, uri_collect, v);
	buf_free(&dec);
}

/* body: the Subject, then the text with each paragraph on one line. */
static void view_body(struct view *v)
{
	buf_init(&v->body, 0);
	for (size_t i = 0; i < v->nfields; i++)
		if (str_casecmp(v->fields[i].name, "Subject") == 0) {
			buf_append_str(&v->body, v->fields[i].dec);
			buf_append(&v->body, "\n", 1);
			break;
		}
	struct mime_text t;
	mime_text_init(&t);
	mime_text_extract(v->msg, RULES_TEXT_MAX, &t);
	const char *s = t.body.data ? t.body.data : "";
	size_t n = t.body.len;
	bool in_para = false;
	size_t i = 0;
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - s) : n;
		size_t a = i, z = e;
		while (a < z && (s[a] == ' ' || s[a] == '\t' || s[a] == '\r'))
			a++;
		while (z > a && (s[z - 1] == ' ' || s[z - 1] == '\t' || s[z - 1] == '\r'))
			z--;
		if (a == z) {
			if (in_para)
				buf_append(&v->body, "\n", 1);
			in_para = false;
		} else {
			if (in_para)
				buf_append(&v->body, " ", 1);
			buf_append(&v->body, s + a, z - a);
			in_para = true;
		}
		i = e + 1;
	}
	if (in_para)
		buf_append(&v->body, "\n", 1);
	mime_text_free(&t);
}

static void view_init(struct view *v, const struct mime_message *msg, const char *envfrom)
{
	memset(v, 0, sizeof(*v));
	v->msg = msg;
	v->envfrom = envfrom;
	view_headers(v);
	buf_init(&v->rawbody, 0);
	buf_init(&v->uris, 0);
	walk_parts(v, &msg->root, 0);
	view_body(v);
}

static void view_free(struct view *v)
{
	for (size_t i = 0; i < v->nfields; i++) {
		free(v->fields[i].raw);
		free(v->fields[i].dec);
	}
	free(v->fields);
	buf_free(&v->body);
	buf_free(&v->rawbody);
	buf_free(&v->uris);
	buf_free(&v->all);
	buf_free(&v->all_raw);
}

size_t scan_rules_message_uris(const struct mime_message *msg, size_t max, struct buf *out)
{
	struct view v;
	memset(&v, 0, sizeof(v));
	v.msg = msg;
	buf_init(&v.rawbody, 0);
	buf_init(&v.uris, 0);
	walk_parts(&v, &msg->root, 0);
	size_t count = 0;
	for (size_t off = 0; off < v.uris.len && count < max; count++) {
		size_t l = strlen(v.uris.data + off);
		buf_append(out, v.uris.data + off, l + 1);
		off += l + 1;
	}
	buf_free(&v.rawbody);
	buf_free(&v.uris);
	return count;
}

/* The first address of an address-list value (":addr"). */
static void addr_of(const char *s, struct buf *out)
{
	const char *lt = strchr(s, '<');
	if (lt != NULL) {
		const char *gt = strchr(lt, '>');
		if (gt != NULL) {
			buf_append(out, lt + 1, (size_t)(gt - lt - 1));
			return;
		}
	}
	/* bare address, maybe with a (comment) */
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = 0;
	while (s[n] != '\0' && s[n] != ' ' && s[n] != ',' && s[n] != '(' && s[n] != '\t')
		n++;
	buf_append(out, s, n);
}

/* The first display name (":name"): before "<", unquoted, or a comment. */
static void name_of(const char *s, struct buf *out)
{
	const char *lt = strchr(s, '<');
	if (lt != NULL) {
		const char *a = s, *z = lt;
		while (a < z && (*a == ' ' || *a == '\t'))
			a++;
		while (z > a && (z[-1] == ' ' || z[-1] == '\t'))
			z--;
		if (z - a >= 2 && *a == '"' && z[-1] == '"')
			a++, z--;
		buf_append(out, a, (size_t)(z - a));
		return;
	}
	const char *lp = strchr(s, '(');
	if (lp != NULL) {
		const char *rp = strchr(lp, ')');
		if (rp != NULL)
			buf_append(out, lp + 1, (size_t)(rp - lp - 1));
	}
}

/* The text a header rule matches; false when the field is absent. */
static bool header_value(const struct view *v, const struct sa_rule *r, struct buf *out)
{
	const char *h = r->header;
	if (strcmp(h, "ALL") == 0) {
		const struct buf *b = r->raw ? &v->all_raw : &v->all;
		buf_append(out, b->data ? b->data : "", b->len);
		return true;
	}
	if (strcmp(h, "EnvelopeFrom") == 0) {
		if (v->envfrom == NULL)
			return false;
		buf_append_str(out, v->envfrom);
		return true;
	}
	static const char *const tocc[] = { "To", "Cc", NULL };
	static const char *const msgid[] = { "Message-Id", "Resent-Message-Id", "X-Message-Id", NULL };
	const char *one[] = { h, NULL };
	const char *const *names = strcmp(h, "ToCc") == 0 ? tocc
				  : strcmp(h, "MESSAGEID") == 0 ? msgid : one;
	bool found = false;
	size_t first = SIZE_MAX, last = SIZE_MAX;
	for (size_t i = 0; i < v->nfields; i++)
		for (size_t k = 0; names[k] != NULL; k++)
			if (str_casecmp(v->fields[i].name, names[k]) == 0) {
				if (first == SIZE_MAX)
					first = i;
				last = i;
			}
	for (size_t i = 0; i < v->nfields; i++) {
		if (r->pick == SA_HPICK_FIRST && i != first)
			continue;
		if (r->pick == SA_HPICK_LAST && i != last)
			continue;
		bool match = false;
		for (size_t k = 0; names[k] != NULL && !match; k++)
			match = str_casecmp(v->fields[i].name, names[k]) == 0;
		if (!match)
			continue;
		if (found)
			buf_append(out, "\n", 1);
		found = true;
		const char *val = r->raw ? v->fields[i].raw : v->fields[i].dec;
		if (r->mod == SA_HMOD_ADDR)
			addr_of(val, out);
		else if (r->mod == SA_HMOD_NAME)
			name_of(val, out);
		else
			buf_append_str(out, val);
	}
	return found;
}

static bool field_exists(const struct view *v, const char *name)
{
	for (size_t i = 0; i < v->nfields; i++)
		if (str_casecmp(v->fields[i].name, name) == 0)
			return true;
	return false;
}

struct runctx {
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jit;
	unsigned errors;
};

/* Count matches of re in s[0..n), at most want. */
static unsigned count_matches(const pcre2_code *re, const char *s, size_t n, unsigned want,
			      struct runctx *rc)
{
	unsigned c = 0;
	size_t off = 0;
	while (off <= n && c < want) {
		int r = pcre2_match(re, (PCRE2_SPTR)s, n, off, 0, rc->md, rc->mctx);
		if (r < 0) {
			if (r != PCRE2_ERROR_NOMATCH)
				rc->errors++;
			break;
		}
		c++;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(rc->md);
		off = ov[1] > ov[0] ? ov[1] : ov[0] + 1;	/* an empty match moves on */
	}
	return c;
}

/* Count over each line of text (body: paragraphs; rawbody: lines). */
static unsigned count_lines(const pcre2_code *re, const struct buf *text, unsigned want,
			    struct runctx *rc)
{
	unsigned c = 0;
	const char *s = text->data ? text->data : "";
	size_t n = text->len, i = 0;
	while (i < n && c < want) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - s) + 1 : n;	/* the line with its newline */
		c += count_matches(re, s + i, e - i, want - c, rc);
		i = e;
	}
	return c;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void scan_rules_run(const struct scan_rules *rules, const struct mime_message *msg,
		    const char *envelope_from, unsigned score_set, uint64_t budget_ms,
		    struct scan_rules_result *res)
{
	memset(res, 0, sizeof(*res));
	uint64_t deadline = budget_ms ? now_ms() + budget_ms : 0;
	struct view v;
	view_init(&v, msg, envelope_from);
	struct runctx rc;
	rc.md = pcre2_match_data_create(1, NULL);
	rc.mctx = pcre2_match_context_create(NULL);
	pcre2_set_match_limit(rc.mctx, RULES_MATCH_LIMIT);
	pcre2_set_depth_limit(rc.mctx, RULES_DEPTH_LIMIT);
	rc.jit = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, NULL);
	if (rc.jit != NULL)
		pcre2_jit_stack_assign(rc.mctx, NULL, rc.jit);
	rc.errors = 0;
	double *vals = xcalloc(rules->count ? rules->count : 1, sizeof(double));
	struct buf hv;
	buf_init(&hv, 0);
	score_set &= 3;

	for (size_t k = 0; k < rules->first_meta; k++) {
		if (deadline && (k & 31) == 0 && now_ms() > deadline) {
			res->timed_out = true;
			break;
		}
		const struct crule *cr = &rules->rules[k];
		const struct sa_rule *r = cr->src;
		unsigned c = 0;
		/* tflags net: a network test, off unless the score set has them */
		if ((r->tflags & SA_TF_NET) && !(score_set & SCAN_RULES_SET_NET)) {
			vals[k] = 0;
			continue;
		}
		switch (r->type) {
		case SA_RULE_HEADER:
			if (r->exists) {
				c = field_exists(&v, r->header);
				break;
			}
			buf_reset(&hv);
			if (!header_value(&v, r, &hv) && r->unset != NULL)
				buf_append_str(&hv, r->unset);
			c = count_matches(cr->re, hv.data ? hv.data : "", hv.len, cr->want, &rc);
			if (r->negate)
				c = c == 0;
			break;
		case SA_RULE_BODY:
			c = count_lines(cr->re, &v.body, cr->want, &rc);
			break;
		case SA_RULE_RAWBODY:
			c = count_lines(cr->re, &v.rawbody, cr->want, &rc);
			break;
		case SA_RULE_FULL:
			c = count_matches(cr->re, msg->raw, msg->size, cr->want, &rc);
			break;
		case SA_RULE_URI:
			for (size_t off = 0; off < v.uris.len && c < cr->want;) {
				size_t l = strlen(v.uris.data + off);
				c += count_matches(cr->re, v.uris.data + off, l, cr->want - c, &rc);
				off += l + 1;
			}
			break;
		default:
			break;
		}
		vals[k] = c;
	}
	if (!res->timed_out) {
		double dv[256];
		for (size_t k = rules->first_meta; k < rules->count; k++) {
			const struct crule *cr = &rules->rules[k];
			size_t nd = sa_meta_name_count(cr->meta);
			double *d = nd <= ARRAY_SIZE(dv) ? dv : xmalloc(nd * sizeof(double));
			for (size_t i = 0; i < nd; i++)
				d[i] = cr->deps[i] == SIZE_MAX ? 0.0 : vals[cr->deps[i]];
			double r = sa_meta_eval(cr->meta, d);
			if (d != dv)
				free(d);
			vals[k] = r != 0.0 ? (cr->src->tflags & SA_TF_MULTIPLE ? r : 1.0) : 0.0;
		}
	}
	for (size_t k = 0; k < rules->count; k++) {
		const struct crule *cr = &rules->rules[k];
		if (vals[k] == 0.0 || !cr->report || cr->score[score_set] == 0.0)
			continue;
		unsigned count = vals[k] >= 1.0 ? (unsigned)vals[k] : 1;
		res->hits = xrealloc(res->hits, (res->count + 1) * sizeof(*res->hits));
		struct scan_rules_hit *h = &res->hits[res->count++];
		h->name = cr->src->name;
		h->describe = cr->src->describe;
		h->count = count;
		h->score = cr->score[score_set] * count;
		res->score += h->score;
	}
	res->regex_errors = rc.errors;
	buf_free(&hv);
	free(vals);
	pcre2_jit_stack_free(rc.jit);
	pcre2_match_context_free(rc.mctx);
	pcre2_match_data_free(rc.md);
	view_free(&v);
}

void scan_rules_result_free(struct scan_rules_result *res)
{
	free(res->hits);
	memset(res, 0, sizeof(*res));
}
