/* SpamAssassin rule file parser: one line per directive, '#' comments
 * (an escaped "\#" is a literal '#'), ifplugin/if/else/endif nesting, and
 * the rule directives Cairn evaluates. Unknown directives are ignored, as
 * SpamAssassin ignores the directives of plugins it has not loaded. */
#define _GNU_SOURCE
#include "sa_rules.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SA_IF_DEPTH 64
#define SA_LINE_MAX 65536

/* ---- the rule set and its name index ---- */

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

struct sa_ruleset *sa_ruleset_new(void)
{
	struct sa_ruleset *rs = xcalloc(1, sizeof(*rs));
	return rs;
}

static void rule_clear_def(struct sa_rule *r)
{
	free(r->header);
	free(r->pattern);
	free(r->unset);
	free(r->meta);
	free(r->file);
	r->header = r->pattern = r->unset = r->meta = r->file = NULL;
	r->exists = r->negate = false;
	r->mod = SA_HMOD_NONE;
	r->pick = SA_HPICK_ALL;
	r->raw = false;
	r->re_flags = 0;
	r->type = SA_RULE_NONE;
}

void sa_ruleset_free(struct sa_ruleset **rsp)
{
	struct sa_ruleset *rs = *rsp;
	if (rs == NULL)
		return;
	for (size_t i = 0; i < rs->count; i++) {
		rule_clear_def(&rs->rules[i]);
		free(rs->rules[i].name);
		free(rs->rules[i].describe);
	}
	free(rs->rules);
	free(rs->hash);
	free(rs);
	*rsp = NULL;
}

struct sa_rule *sa_ruleset_find(const struct sa_ruleset *rs, const char *name)
{
	if (rs->hash_cap == 0)
		return NULL;
	size_t mask = rs->hash_cap - 1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		size_t v = rs->hash[i];
		if (v == 0)
			return NULL;
		if (strcmp(rs->rules[v - 1].name, name) == 0)
			return &rs->rules[v - 1];
	}
}

static void hash_insert(struct sa_ruleset *rs, size_t idx)
{
	size_t mask = rs->hash_cap - 1;
	size_t i = name_hash(rs->rules[idx].name) & mask;
	while (rs->hash[i] != 0)
		i = (i + 1) & mask;
	rs->hash[i] = idx + 1;
}

static struct sa_rule *rule_get(struct sa_ruleset *rs, const char *name)
{
	struct sa_rule *r = sa_ruleset_find(rs, name);
	if (r != NULL)
		return r;
	if (rs->count == rs->cap) {
		rs->cap = rs->cap ? rs->cap * 2 : 64;
		rs->rules = xrealloc(rs->rules, rs->cap * sizeof(*rs->rules));
	}
	if ((rs->count + 1) * 2 > rs->hash_cap) {
		free(rs->hash);
		rs->hash_cap = rs->hash_cap ? rs->hash_cap * 2 : 128;
		rs->hash = xcalloc(rs->hash_cap, sizeof(*rs->hash));
		for (size_t i = 0; i < rs->count; i++)
			hash_insert(rs, i);
	}
	r = &rs->rules[rs->count];
	memset(r, 0, sizeof(*r));
	r->name = xstrdup(name);
	hash_insert(rs, rs->count);
	rs->count++;
	return r;
}

/* ---- regex literals ---- */

int sa_regex_split(const char *s, char **pattern_r, unsigned *flags_r, const char **end_r,
		   const char **error_r)
{
	char open, close;
	const char *p = s;
	if (*p == '/') {
		open = close = '/';
	} else if (*p == 'm' && p[1] != '\0' && !isalnum((unsigned char)p[1]) &&
		   !isspace((unsigned char)p[1]) && p[1] != '_') {
		p++;
		open = *p;
		switch (open) {
		case '{': close = '}'; break;
		case '(': close = ')'; break;
		case '[': close = ']'; break;
		case '<': close = '>'; break;
		default: close = open; break;
		}
	} else {
		*error_r = "regex must start with / or m<delimiter>";
		return -1;
	}
	p++;
	const char *start = p;
	unsigned depth = 0;
	for (;; p++) {
		if (*p == '\0') {
			*error_r = "unterminated regex";
			return -1;
		}
		if (*p == '\\') {
			if (p[1] == '\0') {
				*error_r = "unterminated regex";
				return -1;
			}
			p++;
			continue;
		}
		if (open != close && *p == open) {
			depth++;
			continue;
		}
		if (*p == close) {
			if (depth == 0)
				break;
			depth--;
		}
	}
	const char *stop = p++;
	unsigned flags = 0;
	for (; isalpha((unsigned char)*p); p++) {
		switch (*p) {
		case 'i': flags |= SA_RE_I; break;
		case 'm': flags |= SA_RE_M; break;
		case 's': flags |= SA_RE_S; break;
		case 'x': flags |= SA_RE_X; break;
		case 'g': case 'o': break;
		default:
			*error_r = "unknown regex flag";
			return -1;
		}
	}
	if (stop - start == 0) {
		*error_r = "empty regex";
		return -1;
	}
	if (memmem(start, (size_t)(stop - start), "(?{", 3) != NULL ||
	    memmem(start, (size_t)(stop - start), "(??{", 4) != NULL) {
		*error_r = "Perl code in a regex is not supported";
		return -1;
	}
	*pattern_r = xstrndup(start, (size_t)(stop - start));
	*flags_r = flags;
	*end_r = p;
	return 0;
}

/* ---- meta expressions ---- */

enum meta_op {
	M_NUM, M_NAME, M_NOT, M_NEG, M_MUL, M_DIV, M_ADD, M_SUB,
	M_LT, M_LE, M_GT, M_GE, M_EQ, M_NE, M_AND, M_OR,
	M_LPAREN,	/* only on the operator stack */
};

struct meta_item {
	enum meta_op op;
	double num;
	size_t name;
};

struct sa_meta {
	struct meta_item *code;	/* RPN */
	size_t len;
	char **names;
	size_t name_count;
	size_t depth;		/* stack needed */
};

#define META_MAX_ITEMS 4096

static int op_prec(enum meta_op op)
{
	switch (op) {
	case M_NOT: case M_NEG: return 7;
	case M_MUL: case M_DIV: return 6;
	case M_ADD: case M_SUB: return 5;
	case M_LT: case M_LE: case M_GT: case M_GE: return 4;
	case M_EQ: case M_NE: return 3;
	case M_AND: return 2;
	case M_OR: return 1;
	default: return 0;
	}
}

static bool op_unary(enum meta_op op)
{
	return op == M_NOT || op == M_NEG;
}

static size_t meta_name_index(struct sa_meta *m, const char *s, size_t n)
{
	for (size_t i = 0; i < m->name_count; i++)
		if (strlen(m->names[i]) == n && memcmp(m->names[i], s, n) == 0)
			return i;
	m->names = xrealloc(m->names, (m->name_count + 1) * sizeof(*m->names));
	m->names[m->name_count] = xstrndup(s, n);
	return m->name_count++;
}

static void meta_emit(struct sa_meta *m, struct meta_item it)
{
	m->code = xrealloc(m->code, (m->len + 1) * sizeof(*m->code));
	m->code[m->len++] = it;
}

struct sa_meta *sa_meta_compile(const char *expr, const char **error_r)
{
	struct sa_meta *m = xcalloc(1, sizeof(*m));
	enum meta_op stack[256];
	size_t sp = 0;
	bool want_operand = true;
	const char *p = expr;
	size_t items = 0;

	for (;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (++items > META_MAX_ITEMS) {
			*error_r = "meta expression too long";
			goto fail;
		}
		if (want_operand) {
			enum meta_op u;
			if (*p == '(') {
				if (sp == ARRAY_SIZE(stack)) goto deep;
				stack[sp++] = M_LPAREN;
				p++;
				continue;
			}
			if (*p == '!' && p[1] != '=') {
				u = M_NOT;
			} else if (*p == '-') {
				u = M_NEG;
			} else if (*p == '+') {
				p++;
				continue;
			} else if (isdigit((unsigned char)*p) || *p == '.') {
				char *end;
				double v = strtod(p, &end);
				if (end == p || !isfinite(v)) {
					*error_r = "bad number in meta expression";
					goto fail;
				}
				p = end;
				meta_emit(m, (struct meta_item){ .op = M_NUM, .num = v });
				want_operand = false;
				continue;
			} else if (isalpha((unsigned char)*p) || *p == '_') {
				const char *s = p;
				while (isalnum((unsigned char)*p) || *p == '_')
					p++;
				meta_emit(m, (struct meta_item){ .op = M_NAME,
					.name = meta_name_index(m, s, (size_t)(p - s)) });
				want_operand = false;
				continue;
			} else {
				*error_r = "operand expected in meta expression";
				goto fail;
			}
			/* unary operators are right-associative: just push */
			if (sp == ARRAY_SIZE(stack)) goto deep;
			stack[sp++] = u;
			p++;
			continue;
		}
		/* an operator or ')' */
		enum meta_op op;
		if (*p == ')') {
			while (sp > 0 && stack[sp - 1] != M_LPAREN)
				meta_emit(m, (struct meta_item){ .op = stack[--sp] });
			if (sp == 0) {
				*error_r = "unbalanced ')' in meta expression";
				goto fail;
			}
			sp--;
			p++;
			continue;
		}
		if (p[0] == '&' && p[1] == '&') { op = M_AND; p += 2; }
		else if (p[0] == '|' && p[1] == '|') { op = M_OR; p += 2; }
		else if (p[0] == '<' && p[1] == '=') { op = M_LE; p += 2; }
		else if (p[0] == '>' && p[1] == '=') { op = M_GE; p += 2; }
		else if (p[0] == '=' && p[1] == '=') { op = M_EQ; p += 2; }
		else if (p[0] == '!' && p[1] == '=') { op = M_NE; p += 2; }
		else if (*p == '<') { op = M_LT; p++; }
		else if (*p == '>') { op = M_GT; p++; }
		else if (*p == '+') { op = M_ADD; p++; }
		else if (*p == '-') { op = M_SUB; p++; }
		else if (*p == '*') { op = M_MUL; p++; }
		else if (*p == '/') { op = M_DIV; p++; }
		else {
			*error_r = "operator expected in meta expression";
			goto fail;
		}
		while (sp > 0 && stack[sp - 1] != M_LPAREN &&
		       (op_unary(stack[sp - 1]) || op_prec(stack[sp - 1]) >= op_prec(op)))
			meta_emit(m, (struct meta_item){ .op = stack[--sp] });
		if (sp == ARRAY_SIZE(stack)) goto deep;
		stack[sp++] = op;
		want_operand = true;
	}
	if (want_operand) {
		*error_r = m->len == 0 && sp == 0 ? "empty meta expression"
						  : "meta expression ends with an operator";
		goto fail;
	}
	while (sp > 0) {
		if (stack[sp - 1] == M_LPAREN) {
			*error_r = "unbalanced '(' in meta expression";
			goto fail;
		}
		meta_emit(m, (struct meta_item){ .op = stack[--sp] });
	}
	/* stack depth check (also proves the RPN is well formed) */
	size_t d = 0;
	for (size_t i = 0; i < m->len; i++) {
		enum meta_op o = m->code[i].op;
		if (o == M_NUM || o == M_NAME) {
			d++;
			if (d > m->depth)
				m->depth = d;
		} else if (!op_unary(o)) {
			d--;
		}
	}
	if (d != 1) {
		*error_r = "malformed meta expression";
		goto fail;
	}
	return m;
deep:
	*error_r = "meta expression nested too deeply";
fail:
	sa_meta_free(&m);
	return NULL;
}

void sa_meta_free(struct sa_meta **mp)
{
	struct sa_meta *m = *mp;
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->name_count; i++)
		free(m->names[i]);
	free(m->names);
	free(m->code);
	free(m);
	*mp = NULL;
}

size_t sa_meta_name_count(const struct sa_meta *m)
{
	return m->name_count;
}

const char *sa_meta_name(const struct sa_meta *m, size_t i)
{
	return i < m->name_count ? m->names[i] : NULL;
}

double sa_meta_eval(const struct sa_meta *m, const double *values)
{
	double small[64];
	double *st = m->depth <= ARRAY_SIZE(small) ? small : xmalloc(m->depth * sizeof(double));
	size_t sp = 0;
	for (size_t i = 0; i < m->len; i++) {
		const struct meta_item *it = &m->code[i];
		double a, b;
		switch (it->op) {
		case M_NUM: st[sp++] = it->num; continue;
		case M_NAME: st[sp++] = values[it->name]; continue;
		case M_NOT: st[sp - 1] = st[sp - 1] == 0.0; continue;
		case M_NEG: st[sp - 1] = -st[sp - 1]; continue;
		default: break;
		}
		b = st[--sp];
		a = st[sp - 1];
		double r;
		switch (it->op) {
		case M_MUL: r = a * b; break;
		case M_DIV: r = b == 0.0 ? 0.0 : a / b; break;
		case M_ADD: r = a + b; break;
		case M_SUB: r = a - b; break;
		case M_LT: r = a < b; break;
		case M_LE: r = a <= b; break;
		case M_GT: r = a > b; break;
		case M_GE: r = a >= b; break;
		case M_EQ: r = a == b; break;
		case M_NE: r = a != b; break;
		case M_AND: r = (a != 0.0 && b != 0.0); break;
		case M_OR: r = (a != 0.0 || b != 0.0); break;
		default: r = 0; break;
		}
		if (!isfinite(r))
			r = 0;
		st[sp - 1] = r;
	}
	double v = sp == 1 ? st[0] : 0.0;
	if (st != small)
		free(st);
	return v;
}

/* ---- conditionals ---- */

static bool plugin_loaded(const char *const *plugins, const char *name, size_t n)
{
	while (n > 0 && isspace((unsigned char)name[n - 1]))
		n--;
	for (; plugins != NULL && *plugins != NULL; plugins++)
		if (strlen(*plugins) == n && memcmp(*plugins, name, n) == 0)
			return true;
	return false;
}

/* Evaluate the expression of an "if" line. SpamAssassin evaluates Perl;
 * the forms the shipped rules use are: plugin(NAME), can(NAME), version
 * comparisons, numbers, ! && || and parentheses. can() asks for a feature
 * of SpamAssassin's own code and is false: the block it guards uses syntax
 * or evals Cairn does not have. Returns 1/0, or -1 for anything else. */
struct if_ctx {
	const char *p;
	const char *const *plugins;
	double version;
	bool bad;
};

static double if_or(struct if_ctx *c);

static void if_ws(struct if_ctx *c)
{
	while (isspace((unsigned char)*c->p))
		c->p++;
}

static double if_primary(struct if_ctx *c)
{
	if_ws(c);
	if (*c->p == '!') {
		c->p++;
		return if_primary(c) == 0.0;
	}
	if (*c->p == '(') {
		c->p++;
		double v = if_or(c);
		if_ws(c);
		if (*c->p != ')') {
			c->bad = true;
			return 0;
		}
		c->p++;
		return v;
	}
	if (isdigit((unsigned char)*c->p) || *c->p == '.') {
		char *end;
		double v = strtod(c->p, &end);
		c->p = end;
		return v;
	}
	if (strncmp(c->p, "version", 7) == 0 && !isalnum((unsigned char)c->p[7])) {
		c->p += 7;
		return c->version;
	}
	bool is_plugin = strncmp(c->p, "plugin(", 7) == 0;
	bool is_can = strncmp(c->p, "can(", 4) == 0;
	if (is_plugin || is_can) {
		c->p += is_plugin ? 7 : 4;
		const char *s = c->p;
		while (*c->p != '\0' && *c->p != ')')
			c->p++;
		if (*c->p != ')') {
			c->bad = true;
			return 0;
		}
		size_t n = (size_t)(c->p - s);
		c->p++;
		return is_plugin ? plugin_loaded(c->plugins, s, n) : 0.0;
	}
	c->bad = true;
	return 0;
}

static double if_cmp(struct if_ctx *c)
{
	double a = if_primary(c);
	for (;;) {
		if_ws(c);
		const char *p = c->p;
		int op;
		if (p[0] == '>' && p[1] == '=') op = 1, c->p += 2;
		else if (p[0] == '<' && p[1] == '=') op = 2, c->p += 2;
		else if (p[0] == '=' && p[1] == '=') op = 3, c->p += 2;
		else if (p[0] == '!' && p[1] == '=') op = 4, c->p += 2;
		else if (p[0] == '>') op = 5, c->p++;
		else if (p[0] == '<') op = 6, c->p++;
		else return a;
		double b = if_primary(c);
		switch (op) {
		case 1: a = a >= b; break;
		case 2: a = a <= b; break;
		case 3: a = a == b; break;
		case 4: a = a != b; break;
		case 5: a = a > b; break;
		default: a = a < b; break;
		}
	}
}

static double if_and(struct if_ctx *c)
{
	double a = if_cmp(c);
	for (;;) {
		if_ws(c);
		if (c->p[0] != '&' || c->p[1] != '&')
			return a;
		c->p += 2;
		double b = if_cmp(c);
		a = a != 0.0 && b != 0.0;
	}
}

static double if_or(struct if_ctx *c)
{
	double a = if_and(c);
	for (;;) {
		if_ws(c);
		if (c->p[0] != '|' || c->p[1] != '|')
			return a;
		c->p += 2;
		double b = if_and(c);
		a = a != 0.0 || b != 0.0;
	}
}

static int if_eval(const char *expr, const char *const *plugins, double version)
{
	struct if_ctx c = { .p = expr, .plugins = plugins, .version = version };
	double v = if_or(&c);
	if_ws(&c);
	if (c.bad || *c.p != '\0')
		return -1;
	return v != 0.0;
}

/* ---- lines ---- */

static char *next_word(char **pp)
{
	char *p = *pp;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '\0') {
		*pp = p;
		return NULL;
	}
	char *w = p;
	while (*p != '\0' && !isspace((unsigned char)*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*pp = p;
	return w;
}

static bool valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 128)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

/* Strip the comment: from an unescaped '#'; "\#" becomes '#'. */
static void strip_comment(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] == '#') {
			*w++ = '#';
			r++;
			continue;
		}
		if (*r == '#')
			break;
		*w++ = *r;
	}
	*w = '\0';
	while (w > s && isspace((unsigned char)w[-1]))
		*--w = '\0';
}

/* Returns 0, 1 for a rule SpamAssassin knows but Cairn skips, or -1. */
static int parse_header_rule(struct sa_rule *r, char *rest, const char **error_r)
{
	while (isspace((unsigned char)*rest))
		rest++;
	if (strncmp(rest, "exists:", 7) == 0) {
		char *name = rest + 7;
		char *end = name;
		while (*end != '\0' && !isspace((unsigned char)*end))
			end++;
		*end = '\0';
		if (*name == '\0') {
			*error_r = "exists: needs a header name";
			return -1;
		}
		r->header = xstrdup(name);
		r->exists = true;
		return 0;
	}
	char *field = next_word(&rest);
	if (field == NULL) {
		*error_r = "header rule needs a header name";
		return -1;
	}
	char *colon = strchr(field, ':');
	enum sa_header_mod mod = SA_HMOD_NONE;
	enum sa_header_pick pick = SA_HPICK_ALL;
	bool raw = false;
	if (colon != NULL) {
		*colon = '\0';
		char *m = colon + 1;
		while (m != NULL) {
			char *next = strchr(m, ':');
			if (next != NULL)
				*next++ = '\0';
			if (strcmp(m, "raw") == 0) raw = true;
			else if (strcmp(m, "addr") == 0) mod = SA_HMOD_ADDR;
			else if (strcmp(m, "name") == 0) mod = SA_HMOD_NAME;
			else if (strcmp(m, "first") == 0) pick = SA_HPICK_FIRST;
			else if (strcmp(m, "last") == 0) pick = SA_HPICK_LAST;
			else if (strcmp(m, "host") == 0 || strcmp(m, "domain") == 0 ||
				 strcmp(m, "ip") == 0 || strcmp(m, "revip") == 0) {
				*error_r = NULL;	/* SpamAssassin's, not ours: skip the rule */
				return 1;
			} else {
				*error_r = "unknown header modifier (raw, addr, name, first, last)";
				return -1;
			}
			m = next;
		}
	}
	if (*field == '\0') {
		*error_r = "header rule needs a header name";
		return -1;
	}
	while (isspace((unsigned char)*rest))
		rest++;
	bool negate;
	if (rest[0] == '=' && rest[1] == '~') negate = false;
	else if (rest[0] == '!' && rest[1] == '~') negate = true;
	else {
		*error_r = "header rule needs =~ or !~";
		return -1;
	}
	rest += 2;
	while (isspace((unsigned char)*rest))
		rest++;
	char *pattern;
	unsigned flags;
	const char *end;
	if (sa_regex_split(rest, &pattern, &flags, &end, error_r) < 0)
		return -1;
	char *unset = NULL;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0') {
		if (strncmp(end, "[if-unset:", 10) != 0) {
			free(pattern);
			*error_r = "junk after the regex";
			return -1;
		}
		const char *v = end + 10;
		const char *close = strrchr(v, ']');
		if (close == NULL) {
			free(pattern);
			*error_r = "unterminated [if-unset:";
			return -1;
		}
		while (v < close && isspace((unsigned char)*v))
			v++;
		const char *ve = close;
		while (ve > v && isspace((unsigned char)ve[-1]))
			ve--;
		unset = xstrndup(v, (size_t)(ve - v));
	}
	r->header = xstrdup(field);
	r->mod = mod;
	r->pick = pick;
	r->raw = raw;
	r->negate = negate;
	r->pattern = pattern;
	r->re_flags = flags;
	r->unset = unset;
	return 0;
}

static int parse_score(struct sa_rule *r, char *rest, const char **error_r)
{
	double s[4];
	int n = 0;
	char *w;
	while ((w = next_word(&rest)) != NULL) {
		if (n == 4) {
			*error_r = "score takes 1 or 4 numbers";
			return -1;
		}
		if (w[0] == '(' ) {
			/* "(1.0)" marks a score that is not re-optimised */
			w++;
			size_t l = strlen(w);
			if (l > 0 && w[l - 1] == ')')
				w[l - 1] = '\0';
		}
		char *end;
		double v = strtod(w, &end);
		if (end == w || *end != '\0' || !isfinite(v) || fabs(v) > 1e6) {
			*error_r = "bad score";
			return -1;
		}
		s[n++] = v;
	}
	if (n != 1 && n != 4) {
		*error_r = "score takes 1 or 4 numbers";
		return -1;
	}
	for (int i = 0; i < 4; i++)
		r->score[i] = n == 1 ? s[0] : s[i];
	r->scored = true;
	return 0;
}

static void parse_tflags(struct sa_rule *r, char *rest)
{
	char *w;
	r->tflags = 0;
	r->maxhits = 0;
	while ((w = next_word(&rest)) != NULL) {
		if (strcmp(w, "nice") == 0) r->tflags |= SA_TF_NICE;
		else if (strcmp(w, "net") == 0) r->tflags |= SA_TF_NET;
		else if (strcmp(w, "multiple") == 0) r->tflags |= SA_TF_MULTIPLE;
		else if (strcmp(w, "learn") == 0) r->tflags |= SA_TF_LEARN;
		else if (strcmp(w, "userconf") == 0) r->tflags |= SA_TF_USERCONF;
		else if (strcmp(w, "noautolearn") == 0) r->tflags |= SA_TF_NOAUTOLEARN;
		else if (strncmp(w, "maxhits=", 8) == 0) {
			uint64_t v;
			if (str_to_u64(w + 8, strlen(w + 8), 1000000, &v) == 0) {
				r->maxhits = (unsigned)v;
				r->tflags |= SA_TF_MULTIPLE;
			}
		}
		/* others (publish, nopublish, a, domains_only, ...) do not
		 * change how a rule is run here */
	}
}

static enum sa_rule_type rule_type(const char *w)
{
	if (strcmp(w, "header") == 0) return SA_RULE_HEADER;
	if (strcmp(w, "body") == 0) return SA_RULE_BODY;
	if (strcmp(w, "rawbody") == 0) return SA_RULE_RAWBODY;
	if (strcmp(w, "uri") == 0) return SA_RULE_URI;
	if (strcmp(w, "full") == 0) return SA_RULE_FULL;
	if (strcmp(w, "meta") == 0) return SA_RULE_META;
	return SA_RULE_NONE;
}

/* One non-empty, comment-stripped line. */
static int parse_line(struct sa_ruleset *rs, const char *file, unsigned lineno, char *line,
		      const char **error_r)
{
	char *rest = line;
	char *cmd = next_word(&rest);
	if (cmd == NULL)
		return 0;
	enum sa_rule_type type = rule_type(cmd);
	if (type != SA_RULE_NONE) {
		char *name = next_word(&rest);
		if (name == NULL || !valid_name(name)) {
			*error_r = "rule needs a name of letters, digits and _";
			return -1;
		}
		while (isspace((unsigned char)*rest))
			rest++;
		if (strncmp(rest, "eval:", 5) == 0) {
			/* a plugin's Perl function: not available here */
			rs->unsupported++;
			return 0;
		}
		if (*rest == '\0') {
			*error_r = "rule needs a pattern";
			return -1;
		}
		struct sa_rule tmp;
		memset(&tmp, 0, sizeof(tmp));
		if (type == SA_RULE_HEADER) {
			int hr = parse_header_rule(&tmp, rest, error_r);
			if (hr < 0)
				return -1;
			if (hr > 0) {
				rs->unsupported++;
				return 0;
			}
		} else if (type == SA_RULE_META) {
			struct sa_meta *m = sa_meta_compile(rest, error_r);
			if (m == NULL)
				return -1;
			sa_meta_free(&m);
			tmp.meta = xstrdup(rest);
		} else {
			const char *end;
			if (sa_regex_split(rest, &tmp.pattern, &tmp.re_flags, &end, error_r) < 0)
				return -1;
			while (isspace((unsigned char)*end))
				end++;
			if (*end != '\0') {
				free(tmp.pattern);
				*error_r = "junk after the regex";
				return -1;
			}
		}
		struct sa_rule *r = rule_get(rs, name);
		rule_clear_def(r);
		r->type = type;
		r->header = tmp.header;
		r->mod = tmp.mod;
		r->pick = tmp.pick;
		r->raw = tmp.raw;
		r->exists = tmp.exists;
		r->negate = tmp.negate;
		r->pattern = tmp.pattern;
		r->re_flags = tmp.re_flags;
		r->unset = tmp.unset;
		r->meta = tmp.meta;
		r->file = xstrdup(file);
		r->line = lineno;
		return 0;
	}
	if (strcmp(cmd, "score") == 0 || strcmp(cmd, "describe") == 0 ||
	    strcmp(cmd, "tflags") == 0) {
		char *name = next_word(&rest);
		if (name == NULL || !valid_name(name)) {
			*error_r = "needs a rule name";
			return -1;
		}
		if (cmd[0] == 's') {
			struct sa_rule tmp;
			memset(&tmp, 0, sizeof(tmp));
			if (parse_score(&tmp, rest, error_r) < 0)
				return -1;
			struct sa_rule *r = rule_get(rs, name);
			memcpy(r->score, tmp.score, sizeof(r->score));
			r->scored = true;
		} else if (cmd[0] == 'd') {
			struct sa_rule *r = rule_get(rs, name);
			while (isspace((unsigned char)*rest))
				rest++;
			free(r->describe);
			r->describe = xstrdup(rest);
		} else {
			parse_tflags(rule_get(rs, name), rest);
		}
		return 0;
	}
	if (strcmp(cmd, "required_score") == 0 || strcmp(cmd, "required_hits") == 0) {
		char *w = next_word(&rest);
		char *end;
		double v = w ? strtod(w, &end) : 0;
		if (w == NULL || end == w || *end != '\0' || !isfinite(v)) {
			*error_r = "required_score needs a number";
			return -1;
		}
		rs->required_score = v;
		rs->has_required = true;
		return 0;
	}
	/* lang xx describe ..., report, add_header, the plugins' own
	 * directives, ...: nothing Cairn runs */
	rs->unsupported++;
	return 0;
}

int sa_rules_parse(struct sa_ruleset *rs, const char *file, const char *text, size_t len,
		   const char *const *plugins, double version, char *err, size_t errlen)
{
	/* the conditional stack: for each open block, whether its lines count */
	bool active[SA_IF_DEPTH + 1];
	bool taken[SA_IF_DEPTH + 1];	/* the block's branch already chosen (for else) */
	unsigned depth = 0;
	active[0] = true;
	taken[0] = true;
	unsigned lineno = 0;
	size_t pos = 0;
	char *line = NULL;
	int ret = 0;

	while (pos < len) {
		lineno++;
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - (text + pos)) : len - pos;
		const char *src = text + pos;
		pos += l + (nl ? 1 : 0);
		if (l > SA_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line too long", file, lineno);
			ret = -1;
			break;
		}
		free(line);
		line = xstrndup(src, l);
		if (memchr(src, '\0', l) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in rule file", file, lineno);
			ret = -1;
			break;
		}
		if (l > 0 && line[l - 1] == '\r')
			line[l - 1] = '\0';
		strip_comment(line);
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			continue;
		const char *error = NULL;
		if (strncmp(p, "ifplugin", 8) == 0 && (p[8] == '\0' || isspace((unsigned char)p[8])) ) {
			if (depth == SA_IF_DEPTH) {
				error = "conditionals nested too deeply";
			} else {
				char *name = p + 8;
				while (isspace((unsigned char)*name))
					name++;
				bool v = plugin_loaded(plugins, name, strlen(name));
				depth++;
				active[depth] = active[depth - 1] && v;
				taken[depth] = v;
			}
		} else if (strncmp(p, "if", 2) == 0 && (p[2] == '\0' || isspace((unsigned char)p[2]) ||
						       p[2] == '(' || p[2] == '!')) {
			if (depth == SA_IF_DEPTH) {
				error = "conditionals nested too deeply";
			} else {
				int v = if_eval(p + 2, plugins, version);
				if (v < 0) {
					error = "cannot evaluate if expression";
				} else {
					depth++;
					active[depth] = active[depth - 1] && v;
					taken[depth] = v;
				}
			}
		} else if (strcmp(p, "else") == 0) {
			if (depth == 0) {
				error = "else without if";
			} else {
				active[depth] = active[depth - 1] && !taken[depth];
				taken[depth] = true;
			}
		} else if (strcmp(p, "endif") == 0) {
			if (depth == 0)
				error = "endif without if";
			else
				depth--;
		} else if (active[depth]) {
			if (parse_line(rs, file, lineno, p, &error) == 0)
				error = NULL;
		}
		if (error != NULL) {
			snprintf(err, errlen, "%s:%u: %s", file, lineno, error);
			ret = -1;
			break;
		}
	}
	free(line);
	if (ret == 0 && depth != 0) {
		snprintf(err, errlen, "%s:%u: if/ifplugin without endif", file, lineno);
		ret = -1;
	}
	return ret;
}
