/* DMARC record parsing (RFC 7489 6.3, 6.4): "v=DMARC1; p=...; ..." as a
 * list of tag=value pairs separated by ';', whitespace allowed around them. */
#include "dmarc_record.h"

#include <string.h>
#include <strings.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

const char *dmarc_policy_name(enum dmarc_policy p)
{
	return p == DMARC_POLICY_REJECT ? "reject" : p == DMARC_POLICY_QUARANTINE ? "quarantine" :
	       "none";
}

bool dmarc_is_record(const char *txt, size_t len)
{
	if (len < 8 || strncmp(txt, "v=DMARC1", 8) != 0)
		return false;
	size_t i = 8;
	while (i < len && is_wsp(txt[i]))
		i++;
	return i == len || txt[i] == ';';
}

static bool eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && strncasecmp(s, lit, len) == 0;
}

static int policy(const char *v, size_t len, enum dmarc_policy *p)
{
	if (eq(v, len, "none"))
		*p = DMARC_POLICY_NONE;
	else if (eq(v, len, "quarantine"))
		*p = DMARC_POLICY_QUARANTINE;
	else if (eq(v, len, "reject"))
		*p = DMARC_POLICY_REJECT;
	else
		return -1;
	return 0;
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec,
		       const char **error_r)
{
	memset(rec, 0, sizeof(*rec));
	rec->pct = 100;
	if (!dmarc_is_record(txt, len)) {
		*error_r = "DMARC: not a v=DMARC1 record";
		return -1;
	}
	bool has_p = false, bad_p = false;
	size_t i = 0, n = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && txt[end] != ';')
			end++;
		size_t a = i, b = end;
		while (a < b && is_wsp(txt[a]))
			a++;
		while (b > a && is_wsp(txt[b - 1]))
			b--;
		i = end + 1;
		if (a == b)
			continue;
		const char *eqs = memchr(txt + a, '=', b - a);
		if (eqs == NULL) {
			*error_r = "DMARC: a tag without '='";
			return -1;
		}
		size_t ne = (size_t)(eqs - txt);
		size_t nb = ne;
		while (nb > a && is_wsp(txt[nb - 1]))
			nb--;
		size_t va = ne + 1;
		while (va < b && is_wsp(txt[va]))
			va++;
		const char *name = txt + a, *v = txt + va;
		size_t nl = nb - a, vl = b - va;
		n++;
		if (n == 1) {
			if (!eq(name, nl, "v") || vl != 6 || strncmp(v, "DMARC1", 6) != 0) {
				*error_r = "DMARC: v=DMARC1 is not the first tag";
				return -1;
			}
			continue;
		}
		if (eq(name, nl, "p")) {
			has_p = true;
			bad_p = policy(v, vl, &rec->p) < 0;
		} else if (eq(name, nl, "sp")) {
			rec->has_sp = policy(v, vl, &rec->sp) == 0;
		} else if (eq(name, nl, "pct")) {
			unsigned pct = 0;
			bool ok = vl > 0 && vl <= 3;
			for (size_t k = 0; k < vl && ok; k++) {
				ok = v[k] >= '0' && v[k] <= '9';
				pct = pct * 10 + (unsigned)(v[k] - '0');
			}
			if (ok && pct <= 100)
				rec->pct = pct;
		} else if (eq(name, nl, "adkim")) {
			rec->adkim_strict = eq(v, vl, "s");
		} else if (eq(name, nl, "aspf")) {
			rec->aspf_strict = eq(v, vl, "s");
		} else if (eq(name, nl, "rua")) {
			rec->has_rua = vl > 0;
		}
		/* ruf, fo, rf, ri and unknown tags: nothing to enforce here */
	}
	if (!has_p || bad_p) {
		if (!rec->has_rua) {
			*error_r = "DMARC: no valid p= tag";
			return -1;
		}
		rec->p = DMARC_POLICY_NONE;
	}
	return 0;
}
