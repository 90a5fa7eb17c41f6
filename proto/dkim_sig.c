/* DKIM tag lists (RFC 6376 3.2), DKIM-Signature (3.5) and key records
 * (3.6.1). Pure parsing and checking; the verifier is
 * server/scan/dkim-verify.c. */
#include "dkim_sig.h"

#include <string.h>
#include <strings.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool dkim_span_eq(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && strncasecmp(a, b, alen) == 0;
}

static bool span_is(const char *a, size_t alen, const char *lit)
{
	return dkim_span_eq(a, alen, lit, strlen(lit));
}

int dkim_tag_list_parse(const char *s, size_t len, struct dkim_tag_list *list,
			const char **error_r)
{
	list->ntags = 0;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != ';')
			end++;
		/* one tag-spec in [i, end) */
		size_t a = i, b = end;
		while (a < b && is_wsp(s[a]))
			a++;
		while (b > a && is_wsp(s[b - 1]))
			b--;
		if (a == b) {
			/* only an empty spec after the last ';' is allowed */
			if (end < len) {
				*error_r = "DKIM tag list: empty tag";
				return -1;
			}
			break;
		}
		size_t n = a;
		if (!is_alpha(s[n])) {
			*error_r = "DKIM tag list: tag name does not start with a letter";
			return -1;
		}
		while (n < b && (is_alpha(s[n]) || is_digit(s[n]) || s[n] == '_'))
			n++;
		size_t name_end = n;
		while (n < b && is_wsp(s[n]))
			n++;
		if (n >= b || s[n] != '=') {
			*error_r = "DKIM tag list: tag without '='";
			return -1;
		}
		n++;
		while (n < b && is_wsp(s[n]))
			n++;
		for (size_t k = n; k < b; k++) {
			unsigned char c = (unsigned char)s[k];
			if (!(is_wsp((char)c) || (c >= 0x21 && c <= 0x7e && c != ';'))) {
				*error_r = "DKIM tag list: invalid character in a value";
				return -1;
			}
		}
		if (list->ntags >= DKIM_MAX_TAGS) {
			*error_r = "DKIM tag list: too many tags";
			return -1;
		}
		for (size_t t = 0; t < list->ntags; t++) {
			if (list->tags[t].name_len == name_end - a &&
			    memcmp(list->tags[t].name, s + a, name_end - a) == 0) {
				*error_r = "DKIM tag list: a tag given twice";
				return -1;
			}
		}
		struct dkim_tag *t = &list->tags[list->ntags++];
		t->name = s + a;
		t->name_len = name_end - a;
		t->value = s + n;
		t->value_len = b - n;
		i = end + 1;
	}
	return 0;
}

const struct dkim_tag *dkim_tag_find(const struct dkim_tag_list *list, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < list->ntags; i++)
		if (list->tags[i].name_len == n && memcmp(list->tags[i].name, name, n) == 0)
			return &list->tags[i];
	return NULL;
}

/* A decimal of at most 20 digits (3.5: 12 for t/x, 76 bits for l). */
static int parse_u64(const char *s, size_t len, uint64_t *v_r)
{
	if (len == 0 || len > 19)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*v_r = v;
	return 0;
}

/* Strip FWS inside a value's span: a copy is not needed for the names in
 * h= (no FWS allowed inside a name; FWS around the colons is). */
static int parse_h(const char *v, size_t len, struct dkim_signature *sig, const char **error_r)
{
	size_t i = 0;
	sig->nh = 0;
	bool from = false;
	while (i <= len) {
		size_t end = i;
		while (end < len && v[end] != ':')
			end++;
		size_t a = i, b = end;
		while (a < b && is_wsp(v[a]))
			a++;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		if (a == b) {
			*error_r = "DKIM-Signature: empty name in h=";
			return -1;
		}
		for (size_t k = a; k < b; k++) {
			unsigned char c = (unsigned char)v[k];
			if (c <= 0x20 || c >= 0x7f || c == ':') {
				*error_r = "DKIM-Signature: bad header name in h=";
				return -1;
			}
		}
		if (sig->nh >= DKIM_MAX_SIGNED_HEADERS) {
			*error_r = "DKIM-Signature: too many names in h=";
			return -1;
		}
		sig->h[sig->nh] = v + a;
		sig->h_len[sig->nh++] = b - a;
		from = from || span_is(v + a, b - a, "from");
		i = end + 1;
	}
	if (!from) {
		*error_r = "DKIM-Signature: h= does not sign From";
		return -1;
	}
	return 0;
}

int dkim_signature_parse(const char *value, size_t len, bool arc, struct dkim_signature *sig,
			 const char **error_r)
{
	memset(sig, 0, sizeof(*sig));
	if (dkim_tag_list_parse(value, len, &sig->tags, error_r) < 0)
		return -1;
	const struct dkim_tag *t;
	if (!arc) {
		t = dkim_tag_find(&sig->tags, "v");
		if (t == NULL || !span_is(t->value, t->value_len, "1")) {
			*error_r = "DKIM-Signature: v= missing or not 1";
			return -1;
		}
	}
	static const char *const required[] = { "a", "b", "bh", "d", "h", "s" };
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (dkim_tag_find(&sig->tags, required[i]) == NULL) {
			*error_r = "DKIM-Signature: a required tag (a b bh d h s) is missing";
			return -1;
		}
	}
	t = dkim_tag_find(&sig->tags, "a");
	if (span_is(t->value, t->value_len, "rsa-sha256"))
		sig->algo = DKIM_SIG_RSA_SHA256;
	else if (span_is(t->value, t->value_len, "ed25519-sha256"))
		sig->algo = DKIM_SIG_ED25519_SHA256;
	else if (span_is(t->value, t->value_len, "rsa-sha1"))
		sig->algo = DKIM_SIG_RSA_SHA1;
	else {
		*error_r = "DKIM-Signature: unknown algorithm";
		return -1;
	}
	t = dkim_tag_find(&sig->tags, "b");
	sig->b = t->value;
	sig->b_len = t->value_len;
	t = dkim_tag_find(&sig->tags, "bh");
	sig->bh = t->value;
	sig->bh_len = t->value_len;
	if (sig->b_len == 0 || sig->bh_len == 0) {
		*error_r = "DKIM-Signature: empty b= or bh=";
		return -1;
	}
	t = dkim_tag_find(&sig->tags, "d");
	sig->d = t->value;
	sig->d_len = t->value_len;
	t = dkim_tag_find(&sig->tags, "s");
	sig->s = t->value;
	sig->s_len = t->value_len;
	if (sig->d_len == 0 || sig->s_len == 0 || sig->d_len > 253 || sig->s_len > 253) {
		*error_r = "DKIM-Signature: bad d= or s=";
		return -1;
	}
	for (size_t i = 0; i < sig->d_len; i++) {
		char c = sig->d[i];
		if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_')) {
			*error_r = "DKIM-Signature: d= is not a domain name";
			return -1;
		}
	}
	for (size_t i = 0; i < sig->s_len; i++) {
		char c = sig->s[i];
		if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_')) {
			*error_r = "DKIM-Signature: s= is not a selector";
			return -1;
		}
	}
	t = dkim_tag_find(&sig->tags, "h");
	if (parse_h(t->value, t->value_len, sig, error_r) < 0)
		return -1;
	sig->header_canon = sig->body_canon = DKIM_CANON_SIMPLE;
	t = dkim_tag_find(&sig->tags, "c");
	if (t != NULL) {
		size_t slash = 0;
		while (slash < t->value_len && t->value[slash] != '/')
			slash++;
		const char *hc = t->value, *bc = slash < t->value_len ? t->value + slash + 1 : NULL;
		size_t hl = slash, bl = bc != NULL ? t->value_len - slash - 1 : 0;
		if (span_is(hc, hl, "relaxed"))
			sig->header_canon = DKIM_CANON_RELAXED;
		else if (!span_is(hc, hl, "simple")) {
			*error_r = "DKIM-Signature: unknown header canonicalisation";
			return -1;
		}
		if (bc != NULL) {
			if (span_is(bc, bl, "relaxed"))
				sig->body_canon = DKIM_CANON_RELAXED;
			else if (!span_is(bc, bl, "simple")) {
				*error_r = "DKIM-Signature: unknown body canonicalisation";
				return -1;
			}
		}
	}
	t = dkim_tag_find(&sig->tags, "q");
	if (t != NULL && !span_is(t->value, t->value_len, "dns/txt")) {
		/* a colon-separated list: dns/txt must be in it */
		bool ok = false;
		size_t i = 0;
		while (i <= t->value_len && !ok) {
			size_t e = i;
			while (e < t->value_len && t->value[e] != ':')
				e++;
			ok = span_is(t->value + i, e - i, "dns/txt");
			i = e + 1;
		}
		if (!ok) {
			*error_r = "DKIM-Signature: no supported q= method";
			return -1;
		}
	}
	t = dkim_tag_find(&sig->tags, "l");
	if (t != NULL) {
		if (parse_u64(t->value, t->value_len, &sig->l) < 0) {
			*error_r = "DKIM-Signature: bad l=";
			return -1;
		}
		sig->has_l = true;
	}
	t = dkim_tag_find(&sig->tags, "t");
	if (t != NULL) {
		if (parse_u64(t->value, t->value_len, &sig->t) < 0) {
			*error_r = "DKIM-Signature: bad t=";
			return -1;
		}
		sig->has_t = true;
	}
	t = dkim_tag_find(&sig->tags, "x");
	if (t != NULL) {
		if (parse_u64(t->value, t->value_len, &sig->x) < 0) {
			*error_r = "DKIM-Signature: bad x=";
			return -1;
		}
		sig->has_x = true;
		if (sig->has_t && sig->x < sig->t) {
			*error_r = "DKIM-Signature: x= before t=";
			return -1;
		}
	}
	t = dkim_tag_find(&sig->tags, "i");
	if (arc) {
		uint64_t inst;
		if (t == NULL || parse_u64(t->value, t->value_len, &inst) < 0 || inst < 1 ||
		    inst > 50) {
			*error_r = "ARC-Message-Signature: bad instance i=";
			return -1;
		}
		sig->arc_instance = (unsigned)inst;
	} else if (t != NULL) {
		/* i= is [local-part] "@" domain, the domain d= or a subdomain */
		const char *at = memchr(t->value, '@', t->value_len);
		if (at == NULL) {
			*error_r = "DKIM-Signature: i= without '@'";
			return -1;
		}
		const char *dom = at + 1;
		size_t dl = t->value_len - (size_t)(dom - t->value);
		bool ok = dl == sig->d_len ? strncasecmp(dom, sig->d, dl) == 0 :
			  dl > sig->d_len && dom[dl - sig->d_len - 1] == '.' &&
			  strncasecmp(dom + dl - sig->d_len, sig->d, sig->d_len) == 0;
		if (!ok) {
			*error_r = "DKIM-Signature: i= not within d=";
			return -1;
		}
		sig->i = t->value;
		sig->i_len = t->value_len;
	}
	return 0;
}

/* Whether a colon-separated list value holds item (case-insensitive). */
static bool list_has(const char *v, size_t len, const char *item)
{
	size_t i = 0;
	while (i <= len) {
		size_t e = i;
		while (e < len && v[e] != ':')
			e++;
		size_t a = i, b = e;
		while (a < b && is_wsp(v[a]))
			a++;
		while (b > a && is_wsp(v[b - 1]))
			b--;
		if (span_is(v + a, b - a, item))
			return true;
		i = e + 1;
	}
	return false;
}

int dkim_key_record_parse(const char *txt, size_t len, struct dkim_key_record *key,
			  const char **error_r)
{
	memset(key, 0, sizeof(*key));
	if (dkim_tag_list_parse(txt, len, &key->tags, error_r) < 0)
		return -1;
	const struct dkim_tag *t = dkim_tag_find(&key->tags, "v");
	if (t != NULL) {
		if (t != &key->tags.tags[0] || !dkim_span_eq(t->value, t->value_len, "DKIM1", 5)) {
			*error_r = "DKIM key: v= is not DKIM1 or not first";
			return -1;
		}
	}
	t = dkim_tag_find(&key->tags, "k");
	if (t == NULL || span_is(t->value, t->value_len, "rsa"))
		key->ed25519 = false;
	else if (span_is(t->value, t->value_len, "ed25519"))
		key->ed25519 = true;
	else {
		*error_r = "DKIM key: unknown key type k=";
		return -1;
	}
	t = dkim_tag_find(&key->tags, "h");
	key->sha256_allowed = t == NULL || list_has(t->value, t->value_len, "sha256");
	t = dkim_tag_find(&key->tags, "s");
	if (t != NULL && !list_has(t->value, t->value_len, "*") &&
	    !list_has(t->value, t->value_len, "email")) {
		*error_r = "DKIM key: service type s= excludes email";
		return -1;
	}
	t = dkim_tag_find(&key->tags, "t");
	if (t != NULL) {
		key->testing = list_has(t->value, t->value_len, "y");
		key->strict = list_has(t->value, t->value_len, "s");
	}
	t = dkim_tag_find(&key->tags, "p");
	if (t == NULL) {
		*error_r = "DKIM key: no p=";
		return -1;
	}
	key->p = t->value;
	key->p_len = t->value_len;
	return 0;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long dkim_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
	uint32_t acc = 0;
	int bits = 0;
	size_t n = 0, pad = 0;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (is_wsp(c))
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;	/* data after padding */
		int v = b64val(c);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (n >= out_size)
				return -1;
			out[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (pad > 2 || bits >= 6)
		return -1;
	return (long)n;
}
