/* SPF record parsing (RFC 7208 section 12 ABNF) and macro expansion
 * (section 7). Pure: the terms borrow from the record text; nothing is
 * looked up here. Anything outside the grammar is a syntax error, which
 * the caller turns into permerror. */
#include "spf_record.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool spf_is_record(const char *txt, size_t len)
{
	return len >= 6 && strncasecmp(txt, "v=spf1", 6) == 0 && (len == 6 || txt[6] == ' ');
}

/* macro-string = *( macro-expand / macro-literal ), checked only. */
static int check_macro_string(const char *s, size_t len, bool exp, const char **error_r)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 1 >= len) {
				*error_r = "SPF macro: '%' at the end";
				return -1;
			}
			char n = s[i + 1];
			if (n == '%' || n == '_' || n == '-') {
				i++;
				continue;
			}
			if (n != '{') {
				*error_r = "SPF macro: '%' not followed by '{', '%', '_' or '-'";
				return -1;
			}
			size_t j = i + 2;
			if (j >= len) {
				*error_r = "SPF macro: unterminated";
				return -1;
			}
			char l = (char)(s[j] | 0x20);
			if (strchr("slodiphv", l) == NULL && !(exp && strchr("crt", l) != NULL)) {
				*error_r = "SPF macro: unknown macro letter";
				return -1;
			}
			j++;
			while (j < len && is_digit(s[j]))
				j++;
			if (j < len && (s[j] == 'r' || s[j] == 'R'))
				j++;
			while (j < len && strchr(".-+,/_=", s[j]) != NULL && s[j] != '\0')
				j++;
			if (j >= len || s[j] != '}') {
				*error_r = "SPF macro: bad transformer or missing '}'";
				return -1;
			}
			i = j;
			continue;
		}
		if (exp ? (c < 0x20 || c > 0x7e) : (c < 0x21 || c > 0x7e)) {
			*error_r = "SPF macro-string: invalid character";
			return -1;
		}
	}
	return 0;
}

/* domain-spec = macro-string domain-end; domain-end = ( "." toplabel [ "." ] )
 * / macro-expand. toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum
 * "-" *( alphanum / "-" ) alphanum ). */
static int check_domain_spec(const char *s, size_t len, const char **error_r)
{
	if (len == 0) {
		*error_r = "SPF: empty domain-spec";
		return -1;
	}
	if (check_macro_string(s, len, false, error_r) < 0)
		return -1;
	/* ends with a macro-expand: fine */
	if (s[len - 1] == '}')
		return 0;
	size_t end = len;
	if (s[end - 1] == '.')
		end--;
	size_t start = end;
	while (start > 0 && s[start - 1] != '.')
		start--;
	if (start == 0 || end == start) {
		*error_r = "SPF: domain-spec does not end with a top label";
		return -1;
	}
	/* a top label: alphanumerics and inner '-', not all digits */
	bool alpha = false;
	for (size_t i = start; i < end; i++) {
		char c = s[i];
		if (is_alpha(c))
			alpha = true;
		else if (!is_digit(c) && !(c == '-' && i > start && i + 1 < end)) {
			*error_r = "SPF: bad top label in domain-spec";
			return -1;
		}
	}
	if (!alpha && memchr(s + start, '-', end - start) == NULL) {
		*error_r = "SPF: all-numeric top label in domain-spec";
		return -1;
	}
	return 0;
}

/* "/" followed by "0" or a number without a leading zero, at most max. */
static int parse_cidr(const char *s, size_t len, size_t *pos, unsigned max, unsigned *out,
		      const char **error_r)
{
	size_t i = *pos + 1;	/* past '/' */
	if (i >= len || !is_digit(s[i]) || (s[i] == '0' && i + 1 < len && is_digit(s[i + 1]))) {
		*error_r = "SPF: bad CIDR length";
		return -1;
	}
	unsigned v = 0;
	while (i < len && is_digit(s[i])) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > max) {
			*error_r = "SPF: CIDR length too large";
			return -1;
		}
		i++;
	}
	*out = v;
	*pos = i;
	return 0;
}

/* Split an optional ":domain-spec" and dual-cidr-length from the argument
 * text of a, mx (cidr) or ptr, include, exists (no cidr). */
static int parse_target(const char *arg, size_t len, bool cidr, struct spf_term *t,
			const char **error_r)
{
	size_t end = len;
	if (cidr) {
		/* the CIDR part starts at the first '/' after the domain: domain
		 * specs cannot contain '/' outside a macro's delimiters, so find
		 * it outside braces */
		int depth = 0;
		size_t slash = len;
		for (size_t i = 0; i < len; i++) {
			if (arg[i] == '{')
				depth++;
			else if (arg[i] == '}')
				depth--;
			else if (arg[i] == '/' && depth == 0) {
				slash = i;
				break;
			}
		}
		end = slash;
		size_t pos = slash;
		if (pos < len && !(pos + 1 < len && arg[pos + 1] == '/')) {
			if (parse_cidr(arg, len, &pos, 32, &t->cidr4, error_r) < 0)
				return -1;
		}
		if (pos < len) {
			if (arg[pos] != '/' || pos + 1 >= len || arg[pos + 1] != '/') {
				*error_r = "SPF: bad dual CIDR length";
				return -1;
			}
			pos++;
			if (parse_cidr(arg, len, &pos, 128, &t->cidr6, error_r) < 0)
				return -1;
		}
		if (pos != len) {
			*error_r = "SPF: trailing characters after the CIDR length";
			return -1;
		}
	}
	if (end == 0)
		return 0;	/* no domain */
	if (arg[0] != ':') {
		*error_r = "SPF: mechanism followed by neither ':' nor '/'";
		return -1;
	}
	t->domain = arg + 1;
	t->domain_len = end - 1;
	return check_domain_spec(t->domain, t->domain_len, error_r);
}

static int parse_ip(const char *arg, size_t len, bool v6, struct spf_term *t, const char **error_r)
{
	if (len < 2 || arg[0] != ':') {
		*error_r = v6 ? "SPF: ip6 without an address" : "SPF: ip4 without an address";
		return -1;
	}
	size_t slash = 1;
	while (slash < len && arg[slash] != '/')
		slash++;
	char buf[64];
	if (slash - 1 >= sizeof(buf)) {
		*error_r = "SPF: address too long";
		return -1;
	}
	memcpy(buf, arg + 1, slash - 1);
	buf[slash - 1] = '\0';
	if (inet_pton(v6 ? AF_INET6 : AF_INET, buf, t->addr) != 1) {
		*error_r = v6 ? "SPF: bad ip6 address" : "SPF: bad ip4 address";
		return -1;
	}
	if (!v6) {
		/* RFC 7208 ip4-network is four dotted decimals: inet_pton agrees. */
	}
	if (slash < len) {
		size_t pos = slash;
		unsigned v;
		if (parse_cidr(arg, len, &pos, v6 ? 128 : 32, &v, error_r) < 0)
			return -1;
		if (pos != len) {
			*error_r = "SPF: trailing characters after the CIDR length";
			return -1;
		}
		if (v6)
			t->cidr6 = v;
		else
			t->cidr4 = v;
	}
	return 0;
}

static const struct {
	const char *name;
	enum spf_mech mech;
} mechs[] = {
	{ "all", SPF_MECH_ALL }, { "include", SPF_MECH_INCLUDE }, { "a", SPF_MECH_A },
	{ "mx", SPF_MECH_MX }, { "ptr", SPF_MECH_PTR }, { "ip4", SPF_MECH_IP4 },
	{ "ip6", SPF_MECH_IP6 }, { "exists", SPF_MECH_EXISTS },
};

static int parse_term(const char *s, size_t len, struct spf_record *rec, const char **error_r)
{
	/* name: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) */
	size_t i = 0;
	enum spf_qualifier q = SPF_Q_PASS;
	bool qualified = false;
	if (len > 0 && strchr("+-~?", s[0]) != NULL) {
		q = (enum spf_qualifier)s[0];
		qualified = true;
		i = 1;
	}
	size_t name_start = i;
	if (i >= len || !is_alpha(s[i])) {
		*error_r = "SPF: term does not start with a letter";
		return -1;
	}
	while (i < len && (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '-' || s[i] == '_' ||
			   s[i] == '.'))
		i++;
	size_t name_len = i - name_start;
	const char *name = s + name_start;
	if (i < len && s[i] == '=' && !qualified) {
		const char *val = s + i + 1;
		size_t vlen = len - i - 1;
		if (name_len == 8 && strncasecmp(name, "redirect", 8) == 0) {
			if (rec->redirect != NULL) {
				*error_r = "SPF: redirect given twice";
				return -1;
			}
			if (check_domain_spec(val, vlen, error_r) < 0)
				return -1;
			rec->redirect = val;
			rec->redirect_len = vlen;
		} else if (name_len == 3 && strncasecmp(name, "exp", 3) == 0) {
			if (rec->exp != NULL) {
				*error_r = "SPF: exp given twice";
				return -1;
			}
			if (check_domain_spec(val, vlen, error_r) < 0)
				return -1;
			rec->exp = val;
			rec->exp_len = vlen;
		} else if (check_macro_string(val, vlen, false, error_r) < 0) {
			return -1;	/* unknown modifiers are ignored, but must parse */
		}
		return 0;
	}
	size_t m;
	for (m = 0; m < sizeof(mechs) / sizeof(mechs[0]); m++)
		if (strlen(mechs[m].name) == name_len && strncasecmp(mechs[m].name, name, name_len) == 0)
			break;
	if (m == sizeof(mechs) / sizeof(mechs[0])) {
		*error_r = "SPF: unknown mechanism";
		return -1;
	}
	if (rec->nterms >= SPF_MAX_TERMS) {
		*error_r = "SPF: too many terms";
		return -1;
	}
	struct spf_term *t = &rec->terms[rec->nterms];
	memset(t, 0, sizeof(*t));
	t->mech = mechs[m].mech;
	t->qualifier = q;
	t->cidr4 = 32;
	t->cidr6 = 128;
	const char *arg = s + i;
	size_t alen = len - i;
	int ret = 0;
	switch (t->mech) {
	case SPF_MECH_ALL:
		if (alen != 0) {
			*error_r = "SPF: 'all' takes no argument";
			ret = -1;
		}
		break;
	case SPF_MECH_INCLUDE:
	case SPF_MECH_EXISTS:
		if (alen < 2) {
			*error_r = "SPF: include/exists need a domain";
			ret = -1;
		} else {
			ret = parse_target(arg, alen, false, t, error_r);
		}
		break;
	case SPF_MECH_PTR:
		ret = parse_target(arg, alen, false, t, error_r);
		break;
	case SPF_MECH_A:
	case SPF_MECH_MX:
		ret = parse_target(arg, alen, true, t, error_r);
		break;
	case SPF_MECH_IP4:
		ret = parse_ip(arg, alen, false, t, error_r);
		break;
	case SPF_MECH_IP6:
		ret = parse_ip(arg, alen, true, t, error_r);
		break;
	}
	if (ret < 0)
		return -1;
	rec->nterms++;
	return 0;
}

int spf_record_parse(const char *txt, size_t len, struct spf_record *rec, const char **error_r)
{
	rec->nterms = 0;
	rec->redirect = rec->exp = NULL;
	rec->redirect_len = rec->exp_len = 0;
	if (!spf_is_record(txt, len)) {
		*error_r = "SPF: not a v=spf1 record";
		return -1;
	}
	size_t i = 6;
	while (i < len) {
		if (txt[i] != ' ') {
			*error_r = "SPF: terms must be separated by spaces";
			return -1;
		}
		while (i < len && txt[i] == ' ')
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && txt[i] != ' ')
			i++;
		if (parse_term(txt + start, i - start, rec, error_r) < 0)
			return -1;
	}
	return 0;
}

/* ---- macros ---- */

void spf_ip_macro(const unsigned char *addr, bool ipv6, char *out, size_t out_size)
{
	if (!ipv6) {
		snprintf(out, out_size, "%u.%u.%u.%u", addr[0], addr[1], addr[2], addr[3]);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	for (int i = 0; i < 16 && n + 4 < out_size; i++) {
		out[n++] = hex[addr[i] >> 4];
		out[n++] = '.';
		out[n++] = hex[addr[i] & 15];
		if (i < 15)
			out[n++] = '.';
	}
	out[n < out_size ? n : out_size - 1] = '\0';
}

static bool unreserved(unsigned char c)
{
	return is_alpha((char)c) || is_digit((char)c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Append src[0,len) to out, URL-escaping it when escape; -1 when full. */
static int put(char *out, size_t size, size_t *n, const char *src, size_t len, bool escape)
{
	static const char hex[] = "0123456789ABCDEF";
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)src[i];
		if (escape && !unreserved(c)) {
			if (*n + 3 >= size)
				return -1;
			out[(*n)++] = '%';
			out[(*n)++] = hex[c >> 4];
			out[(*n)++] = hex[c & 15];
		} else {
			if (*n + 1 >= size)
				return -1;
			out[(*n)++] = (char)c;
		}
	}
	return 0;
}

#define SPF_MACRO_PARTS 128

/* One %{...} expansion: value split on delims, reversed if asked, the
 * rightmost keep parts joined with '.'. */
static int expand_one(const char *value, const char *delims, size_t keep, bool reverse,
		      bool escape, char *out, size_t size, size_t *n)
{
	const char *parts[SPF_MACRO_PARTS];
	size_t lens[SPF_MACRO_PARTS];
	size_t np = 0;
	const char *p = value;
	for (;;) {
		size_t l = strcspn(p, delims);
		if (np == SPF_MACRO_PARTS)
			return -1;
		parts[np] = p;
		lens[np++] = l;
		if (p[l] == '\0')
			break;
		p += l + 1;
	}
	if (reverse) {
		for (size_t i = 0; i < np / 2; i++) {
			const char *tp = parts[i];
			size_t tl = lens[i];
			parts[i] = parts[np - 1 - i];
			lens[i] = lens[np - 1 - i];
			parts[np - 1 - i] = tp;
			lens[np - 1 - i] = tl;
		}
	}
	size_t first = keep > 0 && keep < np ? np - keep : 0;
	for (size_t i = first; i < np; i++) {
		if (i > first && put(out, size, n, ".", 1, false) < 0)
			return -1;
		if (put(out, size, n, parts[i], lens[i], escape) < 0)
			return -1;
	}
	return 0;
}

int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_ctx *ctx, bool exp,
		     bool domain, char *out, size_t out_size, const char **error_r)
{
	size_t n = 0;
	if (out_size == 0) {
		*error_r = "SPF macro: no room";
		return -1;
	}
	if (check_macro_string(spec, len, exp, error_r) < 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = spec[i];
		if (c != '%') {
			if (put(out, out_size, &n, &c, 1, false) < 0)
				goto full;
			continue;
		}
		char nx = spec[++i];
		if (nx == '%' || nx == '_' || nx == '-') {
			const char *lit = nx == '%' ? "%" : nx == '_' ? " " : "%20";
			if (put(out, out_size, &n, lit, strlen(lit), false) < 0)
				goto full;
			continue;
		}
		/* %{ letter digits [r] delims } (checked above) */
		i++;	/* past '{' to the letter */
		char letter = spec[i];
		bool escape = letter >= 'A' && letter <= 'Z';
		char l = (char)(letter | 0x20);
		i++;
		size_t keep = 0;
		bool digits = false;
		while (is_digit(spec[i])) {
			digits = true;
			keep = keep * 10 + (size_t)(spec[i] - '0');
			if (keep > 1000)
				keep = 1000;
			i++;
		}
		if (digits && keep == 0) {
			*error_r = "SPF macro: zero parts to keep";
			return -1;
		}
		bool reverse = false;
		if (spec[i] == 'r' || spec[i] == 'R') {
			reverse = true;
			i++;
		}
		char delims[8];
		size_t nd = 0;
		while (spec[i] != '}') {
			if (nd + 1 < sizeof(delims) && memchr(delims, spec[i], nd) == NULL)
				delims[nd++] = spec[i];
			i++;
		}
		if (nd == 0)
			delims[nd++] = '.';
		delims[nd] = '\0';
		char tbuf[32];
		const char *value = "";
		switch (l) {
		case 's': value = ctx->sender; break;
		case 'l': value = ctx->local; break;
		case 'o': value = ctx->sender_domain; break;
		case 'd': value = ctx->domain; break;
		case 'i': value = ctx->ip; break;
		case 'p': value = ctx->ptr != NULL ? ctx->ptr : "unknown"; break;
		case 'v': value = ctx->ipv6 ? "ip6" : "in-addr"; break;
		case 'h': value = ctx->helo; break;
		case 'c': value = ctx->client_ip; break;
		case 'r': value = ctx->receiver != NULL ? ctx->receiver : "unknown"; break;
		case 't':
			snprintf(tbuf, sizeof(tbuf), "%llu", (unsigned long long)ctx->now);
			value = tbuf;
			break;
		}
		if (value == NULL)
			value = "";
		if (expand_one(value, delims, keep, reverse, escape, out, out_size, &n) < 0)
			goto full;
	}
	out[n] = '\0';
	if (domain) {
		/* 7.3: cut labels from the left until it fits in 253 octets */
		size_t start = 0;
		while (n - start > SPF_DOMAIN_MAX) {
			const char *dot = memchr(out + start, '.', n - start);
			if (dot == NULL) {
				*error_r = "SPF macro: expanded domain too long";
				return -1;
			}
			start = (size_t)(dot - out) + 1;
		}
		memmove(out, out + start, n - start + 1);
		n -= start;
	}
	return (int)n;
full:
	*error_r = "SPF macro: expansion too long";
	return -1;
}
