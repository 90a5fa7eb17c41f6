/* Sieve matching: the comparators of RFC 4790 (i;octet, i;ascii-casemap,
 * i;ascii-numeric) with :is/:contains/:matches (RFC 5228 2.7.1, with the
 * match variables of RFC 5229 3.2) and :value (RFC 5231); RFC 5322 address
 * lists and dates as the address, envelope and date tests see them. Every
 * loop is bounded: the callers pass a step budget. Pure: libc only. */
#include "sieve-ast.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static inline unsigned char fold(unsigned char ch, enum sieve_comparator cmp)
{
	if (cmp != SCMP_OCTET && ch >= 'A' && ch <= 'Z')
		return (unsigned char)(ch + 32);
	return ch;
}

/* Length of the UTF-8 character at s (1 for invalid bytes), at most n. */
static size_t utf8_len(const unsigned char *s, size_t n, enum sieve_comparator cmp)
{
	size_t l = 1;
	if (cmp == SCMP_OCTET)
		return 1;
	if (s[0] >= 0xf0 && s[0] < 0xf8)
		l = 4;
	else if (s[0] >= 0xe0)
		l = 3;
	else if (s[0] >= 0xc0)
		l = 2;
	if (l > n)
		return 1;
	for (size_t i = 1; i < l; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 1;
	return l;
}

/* i;ascii-numeric: the value of the leading digits; a string that does not
 * start with a digit is positive infinity (RFC 4790 9.1). Returns -1, 0, 1. */
static int numeric_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t an = 0, bn = 0;
	while (an < alen && a[an] >= '0' && a[an] <= '9')
		an++;
	while (bn < blen && b[bn] >= '0' && b[bn] <= '9')
		bn++;
	if (an == 0 || bn == 0) {
		if (an == 0 && bn == 0)
			return 0;
		return an == 0 ? 1 : -1;
	}
	while (an > 1 && *a == '0') { a++; an--; }
	while (bn > 1 && *b == '0') { b++; bn--; }
	if (an != bn)
		return an < bn ? -1 : 1;
	int r = memcmp(a, b, an);
	return r < 0 ? -1 : r > 0;
}

static int ordered_cmp(enum sieve_comparator cmp, const char *a, size_t alen, const char *b, size_t blen)
{
	if (cmp == SCMP_NUMERIC)
		return numeric_cmp(a, alen, b, blen);
	size_t n = alen < blen ? alen : blen;
	for (size_t i = 0; i < n; i++) {
		unsigned char x = fold((unsigned char)a[i], cmp), y = fold((unsigned char)b[i], cmp);
		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

bool sieve_relational(enum sieve_comparator cmp, enum sieve_relop op,
		      const char *a, size_t alen, const char *b, size_t blen)
{
	int r = ordered_cmp(cmp, a, alen, b, blen);
	switch (op) {
	case SREL_GT: return r > 0;
	case SREL_GE: return r >= 0;
	case SREL_LT: return r < 0;
	case SREL_LE: return r <= 0;
	case SREL_EQ: return r == 0;
	case SREL_NE: return r != 0;
	default: return false;
	}
}

void sieve_captures_free(struct sieve_captures *caps)
{
	if (!caps || !caps->v)
		return;
	for (size_t i = 0; i < caps->max; i++)
		buf_free(&caps->v[i]);
	free(caps->v);
	caps->v = NULL;
	caps->n = 0;
}

void sieve_captures_reset(struct sieve_captures *caps, size_t n)
{
	if (!caps->v) {
		caps->v = xcalloc(caps->max ? caps->max : 1, sizeof(*caps->v));
		for (size_t i = 0; i < caps->max; i++)
			buf_init(&caps->v[i], 0);
	}
	for (size_t i = 0; i < caps->max; i++)
		buf_reset(&caps->v[i]);
	caps->n = n < caps->max ? n : caps->max;
}

static void cap_set(struct sieve_captures *caps, size_t i, const char *s, size_t n)
{
	if (i < caps->max) {
		buf_reset(&caps->v[i]);
		buf_append(&caps->v[i], s, n);
	}
}

enum pel_kind { PE_LIT, PE_STAR, PE_Q };
struct pel {
	enum pel_kind kind;
	unsigned char ch;
	unsigned widx;		/* wildcard number (1-based) */
};

static bool glob_match(enum sieve_comparator cmp, const char *value, size_t vlen, const char *key,
		       size_t klen, struct sieve_captures *caps, uint64_t *steps, uint64_t limit)
{
	struct pel stackpel[128];
	struct pel *pat = klen <= ARRAY_SIZE(stackpel) ? stackpel : xmalloc(klen * sizeof(*pat));
	size_t plen = 0;
	unsigned nw = 0;
	for (size_t i = 0; i < klen; i++) {
		struct pel e = { PE_LIT, 0, 0 };
		if (key[i] == '\\' && i + 1 < klen) {
			e.ch = (unsigned char)key[++i];
		} else if (key[i] == '*') {
			if (plen > 0 && pat[plen - 1].kind == PE_STAR && !caps) {
				continue;	/* "**" = "*" when nothing is captured */
			}
			e.kind = PE_STAR;
			e.widx = ++nw;
		} else if (key[i] == '?') {
			e.kind = PE_Q;
			e.widx = ++nw;
		} else {
			e.ch = (unsigned char)key[i];
		}
		pat[plen++] = e;
	}
	size_t *cs = NULL, *ce = NULL;
	if (caps && nw) {
		cs = xcalloc(nw + 1, sizeof(*cs));
		ce = xcalloc(nw + 1, sizeof(*ce));
	}
	size_t pi = 0, vi = 0, star_pi = SIZE_MAX, star_vi = 0;
	bool ok = true;
	const unsigned char *v = (const unsigned char *)value;
	uint64_t work = 0, base = *steps;
	while (vi < vlen) {
		if (base + ++work / 64 > limit) {
			ok = false;
			break;
		}
		if (pi < plen && pat[pi].kind == PE_Q) {
			size_t l = utf8_len(v + vi, vlen - vi, cmp);
			if (cs) { cs[pat[pi].widx] = vi; ce[pat[pi].widx] = vi + l; }
			vi += l;
			pi++;
		} else if (pi < plen && pat[pi].kind == PE_LIT && fold(pat[pi].ch, cmp) == fold(v[vi], cmp)) {
			vi++;
			pi++;
		} else if (pi < plen && pat[pi].kind == PE_STAR) {
			star_pi = pi;
			star_vi = vi;
			if (cs) { cs[pat[pi].widx] = vi; ce[pat[pi].widx] = vi; }
			pi++;
		} else if (star_pi != SIZE_MAX) {
			star_vi += utf8_len(v + star_vi, vlen - star_vi, cmp);
			vi = star_vi;
			pi = star_pi + 1;
			if (cs)
				ce[pat[star_pi].widx] = vi;
		} else {
			ok = false;
			break;
		}
	}
	if (ok) {
		while (pi < plen && pat[pi].kind == PE_STAR) {
			if (cs) { cs[pat[pi].widx] = vlen; ce[pat[pi].widx] = vlen; }
			pi++;
		}
		ok = pi == plen;
	}
	*steps = base + 1 + work / 64;
	if (ok && caps) {
		sieve_captures_reset(caps, (size_t)nw + 1);
		cap_set(caps, 0, value, vlen);
		for (unsigned w = 1; w <= nw; w++)
			cap_set(caps, w, value + cs[w], ce[w] - cs[w]);
	}
	free(cs);
	free(ce);
	if (pat != stackpel)
		free(pat);
	return ok;
}

bool sieve_match(enum sieve_comparator cmp, enum sieve_match_type mt, enum sieve_relop relop,
		 const char *value, size_t vlen, const char *key, size_t klen,
		 struct sieve_captures *caps, uint64_t *steps, uint64_t step_limit)
{
	switch (mt) {
	case SMT_IS:
		*steps += 1 + vlen / 64;
		if (cmp == SCMP_NUMERIC)
			return numeric_cmp(value, vlen, key, klen) == 0;
		return vlen == klen && ordered_cmp(cmp, value, vlen, key, klen) == 0;
	case SMT_CONTAINS: {
		if (klen == 0)
			return true;
		/* the work is counted in octets compared, one step per 64 */
		uint64_t work = 0, base = *steps;
		unsigned char k0 = fold((unsigned char)key[0], cmp);
		for (size_t i = 0; i + klen <= vlen; i++) {
			work++;
			if (fold((unsigned char)value[i], cmp) != k0)
				continue;
			size_t j = 1;
			while (j < klen && fold((unsigned char)value[i + j], cmp) == fold((unsigned char)key[j], cmp))
				j++;
			work += j;
			if (j == klen) {
				*steps = base + 1 + work / 64;
				return true;
			}
			if (base + work / 64 > step_limit) {
				*steps = base + 1 + work / 64;
				return false;
			}
		}
		*steps = base + 1 + work / 64;
		return false;
	}
	case SMT_MATCHES:
		return glob_match(cmp, value, vlen, key, klen, caps, steps, step_limit);
	case SMT_VALUE:
		*steps += 1;
		return sieve_relational(cmp, relop, value, vlen, key, klen);
	default:
		return false;
	}
}

/* ---- addresses ---- */

struct ascan {
	const char *p, *end;
};

static void skip_cfws(struct ascan *s)
{
	for (;;) {
		while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
			s->p++;
		if (s->p < s->end && *s->p == '(') {
			int depth = 0;
			while (s->p < s->end) {
				if (*s->p == '\\' && s->p + 1 < s->end) {
					s->p += 2;
					continue;
				}
				if (*s->p == '(')
					depth++;
				else if (*s->p == ')' && --depth == 0) {
					s->p++;
					break;
				}
				s->p++;
			}
			continue;
		}
		break;
	}
}

static bool atext(char ch)
{
	return isalnum((unsigned char)ch) || strchr("!#$%&'*+-/=?^_`{|}~", ch) ||
	       (unsigned char)ch >= 0x80;
}

/* dot-atom or quoted-string; appends the unquoted text. */
static bool parse_word_seq(struct ascan *s, struct buf *out, bool allow_quoted)
{
	bool any = false;
	for (;;) {
		skip_cfws(s);
		if (s->p < s->end && *s->p == '"' && allow_quoted) {
			s->p++;
			while (s->p < s->end && *s->p != '"') {
				if (*s->p == '\\' && s->p + 1 < s->end)
					s->p++;
				buf_append(out, s->p, 1);
				s->p++;
			}
			if (s->p >= s->end)
				return false;
			s->p++;
			any = true;
		} else if (s->p < s->end && atext(*s->p)) {
			const char *start = s->p;
			while (s->p < s->end && atext(*s->p))
				s->p++;
			buf_append(out, start, (size_t)(s->p - start));
			any = true;
		} else {
			return any;
		}
		skip_cfws(s);
		if (s->p < s->end && *s->p == '.') {
			buf_append(out, ".", 1);
			s->p++;
			continue;
		}
		return any;
	}
}

/* addr-spec at s; fills a. Returns true when valid. */
static bool parse_addr_spec(struct ascan *s, struct sieve_address *a)
{
	struct buf l, d;
	buf_init(&l, 0);
	buf_init(&d, 0);
	bool ok = parse_word_seq(s, &l, true);
	skip_cfws(s);
	if (ok && s->p < s->end && *s->p == '@') {
		s->p++;
		skip_cfws(s);
		if (s->p < s->end && *s->p == '[') {
			while (s->p < s->end && *s->p != ']') {
				buf_append(&d, s->p, 1);
				s->p++;
			}
			if (s->p < s->end) {
				buf_append(&d, "]", 1);
				s->p++;
			} else
				ok = false;
		} else {
			ok = parse_word_seq(s, &d, false);
		}
		skip_cfws(s);
	} else {
		ok = false;
	}
	if (ok && l.len > 0 && d.len > 0 && d.data[d.len - 1] != '.' && d.data[0] != '.') {
		a->local = xstrndup(l.data, l.len);
		a->domain = xstrndup(d.data, d.len);
		a->all = xasprintf("%s@%s", a->local, a->domain);
	} else {
		ok = false;
	}
	buf_free(&l);
	buf_free(&d);
	return ok;
}

bool sieve_valid_address(const char *str, size_t len)
{
	struct ascan s = { str, str + len };
	struct sieve_address a = { 0 };
	bool ok = parse_addr_spec(&s, &a) && s.p == s.end;
	free(a.local);
	free(a.domain);
	free(a.all);
	return ok;
}

static void add_address(struct sieve_address **v, size_t *n, const struct sieve_address *a)
{
	if (*n % 8 == 0)
		*v = xrealloc(*v, (*n + 8) * sizeof(**v));
	(*v)[(*n)++] = *a;
}

/* Find the end of one item: the top-level ',' or ';' (in a group) or end. */
static const char *item_end(const char *p, const char *end, bool in_group, bool *group_start)
{
	bool angle = false;
	*group_start = false;
	while (p < end) {
		char ch = *p;
		if (ch == '"') {
			p++;
			while (p < end && *p != '"') {
				if (*p == '\\' && p + 1 < end)
					p++;
				p++;
			}
			if (p < end)
				p++;
			continue;
		}
		if (ch == '(') {
			struct ascan s = { p, end };
			skip_cfws(&s);
			p = s.p > p ? s.p : p + 1;
			continue;
		}
		if (ch == '<')
			angle = true;
		else if (ch == '>')
			angle = false;
		else if (!angle && ch == ',')
			return p;
		else if (!angle && ch == ';' && in_group)
			return p;
		else if (!angle && ch == ':' && !in_group) {
			*group_start = true;
			return p;
		}
		p++;
	}
	return p;
}

static void parse_item(const char *p, const char *end, struct sieve_address **v, size_t *n)
{
	struct ascan s = { p, end };
	skip_cfws(&s);
	if (s.p >= end)
		return;
	struct sieve_address a = { 0 };
	const char *lt = NULL;
	/* a '<' outside quotes */
	for (const char *q = s.p; q < end; q++) {
		if (*q == '"') {
			q++;
			while (q < end && *q != '"') {
				if (*q == '\\' && q + 1 < end)
					q++;
				q++;
			}
			continue;
		}
		if (*q == '<') {
			lt = q;
			break;
		}
	}
	bool ok;
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		struct ascan in = { lt + 1, gt ? gt : end };
		skip_cfws(&in);
		/* obsolete route: "@a,@b:" */
		if (in.p < in.end && *in.p == '@') {
			const char *colon = memchr(in.p, ':', (size_t)(in.end - in.p));
			if (colon)
				in.p = colon + 1;
		}
		if (in.p >= in.end) {
			/* "<>" */
			a.local = NULL;
			a.all = xstrdup("");
			add_address(v, n, &a);
			return;
		}
		ok = parse_addr_spec(&in, &a) && in.p == in.end && gt;
		if (!ok) {
			free(a.local); free(a.domain); free(a.all);
			memset(&a, 0, sizeof(a));
			a.all = xstrndup(lt + 1, (size_t)((gt ? gt : end) - lt - 1));
		}
	} else {
		ok = parse_addr_spec(&s, &a) && s.p == end;
		if (!ok) {
			free(a.local); free(a.domain); free(a.all);
			memset(&a, 0, sizeof(a));
			struct ascan t = { p, end };
			skip_cfws(&t);
			const char *e = end;
			while (e > t.p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n'))
				e--;
			a.all = xstrndup(t.p, (size_t)(e - t.p));
		}
	}
	add_address(v, n, &a);
}

size_t sieve_parse_addresses(const char *value, size_t len, struct sieve_address **addrs_r)
{
	struct sieve_address *v = NULL;
	size_t n = 0;
	const char *p = value, *end = value + len;
	bool in_group = false;
	unsigned guard = 0;
	while (p < end && guard++ < 10000) {
		bool gs;
		const char *e = item_end(p, end, in_group, &gs);
		if (gs) {
			in_group = true;	/* the display name before ':' is not an address */
			p = e + 1;
			continue;
		}
		parse_item(p, e, &v, &n);
		if (e < end && *e == ';')
			in_group = false;
		p = e < end ? e + 1 : e;
	}
	*addrs_r = v;
	return n;
}

void sieve_addresses_free(struct sieve_address *addrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(addrs[i].local);
		free(addrs[i].domain);
		free(addrs[i].all);
	}
	free(addrs);
}

/* ---- dates ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	const int64_t era = (y >= 0 ? y : y - 399) / 400;
	const unsigned yoe = (unsigned)(y - era * 400);
	const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool rd_num(struct ascan *s, int maxd, int *v, int *ndig)
{
	int n = 0, x = 0;
	while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && n < maxd) {
		x = x * 10 + (*s->p - '0');
		s->p++;
		n++;
	}
	*v = x;
	if (ndig)
		*ndig = n;
	return n > 0;
}

int sieve_parse_date(const char *str, size_t len, int64_t *utc_r, int *zone_r)
{
	static const char *const months[] = { "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
					       "sep", "oct", "nov", "dec" };
	struct ascan s = { str, str + len };
	skip_cfws(&s);
	/* optional day-of-week */
	if (s.p + 3 <= s.end && isalpha((unsigned char)*s.p)) {
		s.p += 3;
		while (s.p < s.end && isalpha((unsigned char)*s.p))
			s.p++;
		skip_cfws(&s);
		if (s.p < s.end && *s.p == ',')
			s.p++;
		skip_cfws(&s);
	}
	int day, year, nd, hour, min, sec = 0;
	if (!rd_num(&s, 2, &day, NULL))
		return -1;
	skip_cfws(&s);
	if (s.end - s.p < 3)
		return -1;
	int mon = -1;
	for (int i = 0; i < 12; i++)
		if (str_ncasecmp(s.p, months[i], 3) == 0)
			mon = i + 1;
	if (mon < 0)
		return -1;
	s.p += 3;
	skip_cfws(&s);
	if (!rd_num(&s, 4, &year, &nd))
		return -1;
	if (nd == 2)
		year += year < 50 ? 2000 : 1900;
	else if (nd == 3)
		year += 1900;
	skip_cfws(&s);
	if (!rd_num(&s, 2, &hour, NULL))
		return -1;
	skip_cfws(&s);
	if (s.p >= s.end || *s.p != ':')
		return -1;
	s.p++;
	skip_cfws(&s);
	if (!rd_num(&s, 2, &min, NULL))
		return -1;
	skip_cfws(&s);
	if (s.p < s.end && *s.p == ':') {
		s.p++;
		skip_cfws(&s);
		if (!rd_num(&s, 2, &sec, NULL))
			return -1;
	}
	skip_cfws(&s);
	int zone = 0;
	if (s.p < s.end && (*s.p == '+' || *s.p == '-')) {
		int sign = *s.p == '-' ? -1 : 1, z, zn;
		s.p++;
		if (!rd_num(&s, 4, &z, &zn) || zn != 4)
			return -1;
		zone = sign * ((z / 100) * 60 + z % 100);
	} else if (s.p < s.end) {
		static const struct { const char *n; int off; } zones[] = {
			{ "UT", 0 }, { "GMT", 0 }, { "EST", -300 }, { "EDT", -240 }, { "CST", -360 },
			{ "CDT", -300 }, { "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
		};
		const char *z = s.p;
		size_t zl = 0;
		while (z + zl < s.end && isalpha((unsigned char)z[zl]))
			zl++;
		for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
			if (strlen(zones[i].n) == zl && str_ncasecmp(z, zones[i].n, zl) == 0)
				zone = zones[i].off;
	}
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	int64_t days = days_from_civil(year, (unsigned)mon, (unsigned)day);
	*utc_r = days * 86400 + hour * 3600 + min * 60 + (sec == 60 ? 59 : sec) - (int64_t)zone * 60;
	*zone_r = zone;
	return 0;
}
