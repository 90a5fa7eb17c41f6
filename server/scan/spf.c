/* SPF (RFC 7208): check_host() over our DNS client, with the limits of
 * section 4.6.4 (10 DNS-querying terms, 2 void lookups, 10 MX and PTR
 * names), and the scan module that checks the MAIL FROM identity (the HELO
 * identity for the null sender) and records the result for DMARC and the
 * Authentication-Results header. The record grammar and macros are the pure
 * proto/spf_record.c. */
#include "autoconf.h"
#include "scan-auth.h"
#include "config.h"
#include "dns.h"
#include "dns_packet.h"
#include "spf_record.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SPF_MAX_LOOKUPS 10
#define SPF_MAX_VOID 2
#define SPF_MAX_NAMES 10	/* MX and PTR names considered (4.6.4) */
#define SPF_MAX_RECS 64

const char *spf_result_name(enum spf_result r)
{
	switch (r) {
	case SPF_RESULT_NONE: return "none";
	case SPF_RESULT_NEUTRAL: return "neutral";
	case SPF_RESULT_PASS: return "pass";
	case SPF_RESULT_FAIL: return "fail";
	case SPF_RESULT_SOFTFAIL: return "softfail";
	case SPF_RESULT_TEMPERROR: return "temperror";
	case SPF_RESULT_PERMERROR: return "permerror";
	}
	return "none";
}

struct spf_eval {
	struct dns_resolver *dns;
	uint64_t deadline_ms;
	unsigned char ip[16];
	bool ipv6;
	char ipmacro[80];
	const char *sender, *local, *sender_domain, *helo, *client_ip;
	unsigned lookups;	/* terms that query DNS, across includes/redirects */
	unsigned voids;
	char *reason;
	size_t reason_size;
	unsigned depth;
	unsigned includes;	/* inside include: (an exp= there is not used) */
	const char *receiver;
};

static enum spf_result check_host(struct spf_eval *e, const char *domain);

static void why(struct spf_eval *e, const char *fmt, ...) ATTR_PRINTF(2, 3);
static void why(struct spf_eval *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->reason, e->reason_size, fmt, ap);
	va_end(ap);
}

/* Whether the first bits of a and b are equal. */
static bool prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned full = bits / 8, rest = bits % 8;
	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/* A DNS query for the evaluation: counts void lookups (4.6.4). Returns
 * 0 with the records, 1 "no records" (void counted), -1 temperror,
 * -2 permerror (too many void lookups). */
static int query(struct spf_eval *e, const char *name, uint16_t type, struct dns_record *recs,
		 size_t max, size_t *n_r)
{
	char error[256];
	*n_r = 0;
	if (scan_remaining_ms(e->deadline_ms) == 0) {
		why(e, "out of time");
		return -1;
	}
	enum dns_status st = dns_lookup(e->dns, name, type, recs, max, n_r, error, sizeof(error));
	if (st == DNS_TEMPFAIL) {
		why(e, "DNS %s", error);
		return -1;
	}
	size_t useful = 0;
	for (size_t i = 0; i < *n_r; i++)
		useful += recs[i].type == type;
	if (st == DNS_NOTFOUND || useful == 0) {
		dns_records_free(recs, *n_r);
		*n_r = 0;
		if (++e->voids > SPF_MAX_VOID) {
			why(e, "more than %d void DNS lookups", SPF_MAX_VOID);
			return -2;
		}
		return 1;
	}
	return 0;
}

static int count_lookup(struct spf_eval *e)
{
	if (++e->lookups > SPF_MAX_LOOKUPS) {
		why(e, "more than %d DNS-querying terms", SPF_MAX_LOOKUPS);
		return -1;
	}
	return 0;
}

/* Whether one of name's A or AAAA records (the client's family) is within
 * the cidr. 1 match, 0 none, -1 temperror, -2 permerror. */
static int addr_match(struct spf_eval *e, const char *name, unsigned cidr4, unsigned cidr6)
{
	struct dns_record *recs = xcalloc(SPF_MAX_RECS, sizeof(*recs));
	size_t n;
	int q = query(e, name, e->ipv6 ? DNS_TYPE_AAAA : DNS_TYPE_A, recs, SPF_MAX_RECS, &n);
	int ret = q < 0 ? q : 0;
	for (size_t i = 0; q == 0 && i < n && ret == 0; i++) {
		if (recs[i].type == (e->ipv6 ? DNS_TYPE_AAAA : DNS_TYPE_A) &&
		    prefix_eq(recs[i].addr, e->ip, e->ipv6 ? cidr6 : cidr4))
			ret = 1;
	}
	dns_records_free(recs, n);
	free(recs);
	return ret;
}

/* Expand a term's domain-spec (or take the current domain). */
static int target_name(struct spf_eval *e, const char *spec, size_t len, const char *domain,
		       char *out, size_t out_size)
{
	if (spec == NULL || len == 0) {
		snprintf(out, out_size, "%s", domain);
		return 0;
	}
	struct spf_macro_ctx ctx = {
		.sender = e->sender, .local = e->local, .sender_domain = e->sender_domain,
		.domain = domain, .ip = e->ipmacro, .ptr = "unknown", .ipv6 = e->ipv6,
		.helo = e->helo, .client_ip = e->client_ip,
	};
	const char *err;
	if (spf_macro_expand(spec, len, &ctx, false, true, out, out_size, &err) < 0) {
		why(e, "%s", err);
		return -1;
	}
	return 0;
}

/* Whether name is domain or a subdomain of it (case-insensitive). */
static bool within(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);
	while (n > 0 && name[n - 1] == '.')
		n--;
	while (d > 0 && domain[d - 1] == '.')
		d--;
	if (n < d)
		return false;
	if (strncasecmp(name + n - d, domain, d) != 0)
		return false;
	return n == d || name[n - d - 1] == '.';
}

/* ptr (5.5): validated reverse names of the client that end in target. */
static int ptr_match(struct spf_eval *e, const char *target)
{
	char rev[128];
	if (e->ipv6) {
		static const char hex[] = "0123456789abcdef";
		size_t n = 0;
		for (int i = 15; i >= 0; i--) {
			rev[n++] = hex[e->ip[i] & 15];
			rev[n++] = '.';
			rev[n++] = hex[e->ip[i] >> 4];
			rev[n++] = '.';
		}
		snprintf(rev + n, sizeof(rev) - n, "ip6.arpa");
	} else {
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa", e->ip[3], e->ip[2], e->ip[1],
			 e->ip[0]);
	}
	struct dns_record *recs = xcalloc(SPF_MAX_RECS, sizeof(*recs));
	size_t n;
	char error[256];
	/* a PTR failure is "no match", never an error (5.5) */
	enum dns_status st = dns_lookup(e->dns, rev, DNS_TYPE_PTR, recs, SPF_MAX_RECS, &n, error,
					sizeof(error));
	int ret = 0;
	size_t checked = 0;
	for (size_t i = 0; st == DNS_OK && i < n && ret == 0 && checked < SPF_MAX_NAMES; i++) {
		if (recs[i].type != DNS_TYPE_PTR || !within(recs[i].name, target))
			continue;
		checked++;
		int m = addr_match(e, recs[i].name, e->ipv6 ? 32 : 32, 128);
		if (m == 1)
			ret = 1;
		else if (m == -2)
			ret = -2;
	}
	dns_records_free(recs, n);
	free(recs);
	return ret;
}

/* One mechanism: 1 match, 0 no match, -1 temperror, -2 permerror. */
static int mech_match(struct spf_eval *e, const struct spf_term *t, const char *domain)
{
	char target[SPF_DOMAIN_MAX + 2];
	switch (t->mech) {
	case SPF_MECH_ALL:
		return 1;
	case SPF_MECH_IP4:
		return !e->ipv6 && prefix_eq(t->addr, e->ip, t->cidr4);
	case SPF_MECH_IP6:
		return e->ipv6 && prefix_eq(t->addr, e->ip, t->cidr6);
	default:
		break;
	}
	if (count_lookup(e) < 0)
		return -2;
	if (target_name(e, t->domain, t->domain_len, domain, target, sizeof(target)) < 0)
		return -2;
	switch (t->mech) {
	case SPF_MECH_A:
		return addr_match(e, target, t->cidr4, t->cidr6);
	case SPF_MECH_MX: {
		struct dns_record *recs = xcalloc(SPF_MAX_RECS, sizeof(*recs));
		size_t n;
		int q = query(e, target, DNS_TYPE_MX, recs, SPF_MAX_RECS, &n);
		int ret = q < 0 ? q : 0;
		size_t names = 0;
		for (size_t i = 0; q == 0 && i < n && ret == 0; i++) {
			if (recs[i].type != DNS_TYPE_MX)
				continue;
			if (++names > SPF_MAX_NAMES) {
				why(e, "more than %d MX names for %s", SPF_MAX_NAMES, target);
				ret = -2;
				break;
			}
			ret = addr_match(e, recs[i].name, t->cidr4, t->cidr6);
		}
		dns_records_free(recs, n);
		free(recs);
		return ret;
	}
	case SPF_MECH_PTR:
		return ptr_match(e, target);
	case SPF_MECH_EXISTS: {
		struct dns_record recs[8];
		size_t n;
		/* always an A query, whatever the client's family (5.7) */
		int q = query(e, target, DNS_TYPE_A, recs, 8, &n);
		dns_records_free(recs, n);
		return q < 0 ? q : q == 0;
	}
	case SPF_MECH_INCLUDE: {
		if (e->depth >= 2 * SPF_MAX_LOOKUPS) {
			why(e, "include loop");
			return -2;
		}
		e->depth++;
		e->includes++;
		enum spf_result r = check_host(e, target);
		e->includes--;
		e->depth--;
		switch (r) {
		case SPF_RESULT_PASS: return 1;
		case SPF_RESULT_FAIL: case SPF_RESULT_SOFTFAIL: case SPF_RESULT_NEUTRAL: return 0;
		case SPF_RESULT_TEMPERROR: return -1;
		default:
			if (r == SPF_RESULT_NONE)
				why(e, "include:%s has no SPF record", target);
			return -2;
		}
	}
	default:
		return -2;
	}
}

/* The explanation of a fail (6.2): the TXT record at the exp= domain,
 * macro-expanded, appended to the reason. Any problem just leaves it out;
 * the lookup does not count against the limits. */
static void explain(struct spf_eval *e, const struct spf_record *rec, const char *domain)
{
	char target[SPF_DOMAIN_MAX + 2];
	struct spf_macro_ctx ctx = {
		.sender = e->sender, .local = e->local, .sender_domain = e->sender_domain,
		.domain = domain, .ip = e->ipmacro, .ptr = "unknown", .ipv6 = e->ipv6,
		.helo = e->helo, .client_ip = e->client_ip, .receiver = e->receiver,
		.now = (uint64_t)time(NULL),
	};
	const char *err;
	if (spf_macro_expand(rec->exp, rec->exp_len, &ctx, false, true, target, sizeof(target),
			     &err) < 0 || scan_remaining_ms(e->deadline_ms) == 0)
		return;
	struct dns_record recs[4];
	size_t n = 0;
	char error[256];
	if (dns_lookup(e->dns, target, DNS_TYPE_TXT, recs, 4, &n, error, sizeof(error)) != DNS_OK)
		return;
	/* exactly one TXT record, or the explanation is empty (6.2) */
	if (n == 1 && recs[0].type == DNS_TYPE_TXT && memchr(recs[0].txt, '\0', recs[0].txt_len) == NULL) {
		char text[256];
		if (spf_macro_expand(recs[0].txt, recs[0].txt_len, &ctx, true, false, text,
				     sizeof(text), &err) >= 0) {
			size_t used = strlen(e->reason);
			snprintf(e->reason + used, e->reason_size - used, ": %s", text);
		}
	}
	dns_records_free(recs, n);
}

/* Whether domain can be checked (4.3): a multi-label name, labels of 1..63
 * octets, the whole at most 253. */
static bool domain_ok(const char *d)
{
	size_t n = strlen(d);
	if (n == 0 || n > 253 || strchr(d, '.') == NULL)
		return false;
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] == '.') {
			if (label == 0 && i + 1 != n)
				return false;
			label = 0;
		} else if (++label > 63 || (unsigned char)d[i] <= 0x20 || (unsigned char)d[i] >= 0x7f) {
			return false;
		}
	}
	return true;
}

static enum spf_result check_host(struct spf_eval *e, const char *domain)
{
	if (!domain_ok(domain)) {
		why(e, "'%.100s' is not a domain SPF can check", domain);
		return SPF_RESULT_NONE;
	}
	struct dns_record *recs = xcalloc(SPF_MAX_RECS, sizeof(*recs));
	size_t n = 0;
	char error[256];
	enum dns_status st = dns_lookup(e->dns, domain, DNS_TYPE_TXT, recs, SPF_MAX_RECS, &n, error,
					sizeof(error));
	if (st == DNS_TEMPFAIL) {
		free(recs);
		why(e, "DNS %s", error);
		return SPF_RESULT_TEMPERROR;
	}
	int found = -1;
	size_t count = 0;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].type == DNS_TYPE_TXT && spf_is_record(recs[i].txt, recs[i].txt_len)) {
			found = (int)i;
			count++;
		}
	}
	enum spf_result result;
	if (count == 0) {
		why(e, "no SPF record for %s", domain);
		result = SPF_RESULT_NONE;
		goto out;
	}
	if (count > 1) {
		why(e, "more than one SPF record for %s", domain);
		result = SPF_RESULT_PERMERROR;
		goto out;
	}
	struct spf_record *rec = xmalloc(sizeof(*rec));
	const char *perr;
	if (memchr(recs[found].txt, '\0', recs[found].txt_len) != NULL ||
	    spf_record_parse(recs[found].txt, recs[found].txt_len, rec, &perr) < 0) {
		why(e, "%s: %s", domain, memchr(recs[found].txt, '\0', recs[found].txt_len) != NULL ?
			   "NUL in SPF record" : perr);
		free(rec);
		result = SPF_RESULT_PERMERROR;
		goto out;
	}
	result = SPF_RESULT_NEUTRAL;
	bool matched = false;
	for (size_t i = 0; i < rec->nterms && !matched; i++) {
		int m = mech_match(e, &rec->terms[i], domain);
		if (m == -1) {
			result = SPF_RESULT_TEMPERROR;
			break;
		}
		if (m == -2) {
			result = SPF_RESULT_PERMERROR;
			break;
		}
		if (m == 1) {
			matched = true;
			switch (rec->terms[i].qualifier) {
			case SPF_Q_PASS: result = SPF_RESULT_PASS; break;
			case SPF_Q_FAIL: result = SPF_RESULT_FAIL; break;
			case SPF_Q_SOFTFAIL: result = SPF_RESULT_SOFTFAIL; break;
			case SPF_Q_NEUTRAL: result = SPF_RESULT_NEUTRAL; break;
			}
			why(e, "%s matched %s", domain, e->client_ip);
		}
	}
	if (matched && result == SPF_RESULT_FAIL && rec->exp != NULL && e->includes == 0)
		explain(e, rec, domain);
	if (!matched && result == SPF_RESULT_NEUTRAL) {
		if (rec->redirect != NULL) {
			char target[SPF_DOMAIN_MAX + 2];
			if (count_lookup(e) < 0 ||
			    target_name(e, rec->redirect, rec->redirect_len, domain, target,
					sizeof(target)) < 0) {
				result = SPF_RESULT_PERMERROR;
			} else if (e->depth >= 2 * SPF_MAX_LOOKUPS) {
				result = SPF_RESULT_PERMERROR;
			} else {
				e->depth++;
				result = check_host(e, target);
				e->depth--;
				if (result == SPF_RESULT_NONE) {
					why(e, "redirect=%s has no SPF record", target);
					result = SPF_RESULT_PERMERROR;
				}
			}
		} else {
			why(e, "%s: no mechanism matched %s", domain, e->client_ip);
		}
	}
	free(rec);
out:
	dns_records_free(recs, n);
	free(recs);
	return result;
}

enum spf_result spf_check_host(struct scan_msg *msg, const char *ip, const char *domain,
			       const char *sender, const char *helo, uint64_t deadline_ms,
			       char *reason, size_t reason_size)
{
	struct spf_eval e;
	memset(&e, 0, sizeof(e));
	e.reason = reason;
	e.reason_size = reason_size;
	reason[0] = '\0';
	const char *dns_error = NULL;
	e.dns = scan_msg_dns(msg, deadline_ms, &dns_error);
	if (e.dns == NULL) {
		why(&e, "%s", dns_error);
		return SPF_RESULT_TEMPERROR;
	}
	e.deadline_ms = deadline_ms;
	if (inet_pton(AF_INET, ip, e.ip) == 1) {
		e.ipv6 = false;
	} else if (inet_pton(AF_INET6, ip, e.ip) == 1) {
		static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		e.ipv6 = memcmp(e.ip, mapped, 12) != 0;
		if (!e.ipv6)
			memmove(e.ip, e.ip + 12, 4);
	} else {
		why(&e, "client address '%.60s' unusable", ip);
		return SPF_RESULT_NONE;
	}
	spf_ip_macro(e.ip, e.ipv6, e.ipmacro, sizeof(e.ipmacro));
	/* sender = local@domain; an empty local part is "postmaster" (4.3) */
	char local[128];
	const char *at = strrchr(sender, '@');
	size_t llen = at != NULL ? (size_t)(at - sender) : 0;
	if (llen == 0 || llen >= sizeof(local))
		snprintf(local, sizeof(local), "postmaster");
	else
		snprintf(local, sizeof(local), "%.*s", (int)llen, sender);
	char full[400];
	snprintf(full, sizeof(full), "%s@%s", local, domain);
	e.sender = full;
	e.local = local;
	e.sender_domain = domain;
	e.helo = helo;
	e.client_ip = ip;
	e.receiver = msg->authserv_id;
	return check_host(&e, domain);
}

/* ---- the module ---- */

struct spf_module {
	bool enabled;
};

/* Scores in SpamAssassin's range for the same tests. */
static const struct {
	enum spf_result r;
	const char *test;
	double score;
} spf_scores[] = {
	{ SPF_RESULT_PASS, "SPF_PASS", -0.001 },
	{ SPF_RESULT_FAIL, "SPF_FAIL", 0.9 },
	{ SPF_RESULT_SOFTFAIL, "SPF_SOFTFAIL", 0.7 },
	{ SPF_RESULT_NEUTRAL, "SPF_NEUTRAL", 0.6 },
	{ SPF_RESULT_NONE, "SPF_NONE", 0.001 },
	{ SPF_RESULT_PERMERROR, "SPF_PERMERROR", 0.01 },
	{ SPF_RESULT_TEMPERROR, "SPF_TEMPERROR", 0.01 },
};

static int spf_init(const struct config *cfg, struct scan_module_settings *settings,
		    void **state_r, const char **error_r)
{
	(void)error_r;
	settings->enabled = cfg->scan.spf;
	settings->order = SCAN_ORDER_AUTH;
	*state_r = NULL;
	return 0;
}

static int spf_reload(void *state, const struct config *cfg,
		      struct scan_module_settings *settings, const char **error_r)
{
	(void)state;
	(void)error_r;
	settings->enabled = cfg->scan.spf;
	return 0;
}

static enum scan_mod_status spf_run(void *state, struct scan_msg *msg, struct scan_result *result,
				    uint64_t deadline_ms)
{
	(void)state;
	struct scan_auth *a = scan_auth_get(msg);
	/* The MAIL FROM identity; for the null sender the HELO identity
	 * (2.4), as postmaster@helo. */
	const char *domain = msg->mail_domain;
	char sender[400];
	if (msg->mail_from[0] == '\0') {
		domain = msg->helo;
		a->spf_helo = true;
		snprintf(sender, sizeof(sender), "postmaster@%s", domain);
	} else {
		snprintf(sender, sizeof(sender), "%s", msg->mail_from);
	}
	snprintf(a->spf_domain, sizeof(a->spf_domain), "%s", domain);
	snprintf(a->spf_identity, sizeof(a->spf_identity), "%s", a->spf_helo ? domain : sender);
	for (char *p = a->spf_domain; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	a->spf = spf_check_host(msg, msg->client_ip, a->spf_domain, sender, msg->helo, deadline_ms,
				a->spf_reason, sizeof(a->spf_reason));
	a->spf_done = true;
	for (size_t i = 0; i < sizeof(spf_scores) / sizeof(spf_scores[0]); i++)
		if (spf_scores[i].r == a->spf)
			scan_result_add_test(result, spf_scores[i].test, spf_scores[i].score, "%s",
					     a->spf_reason);
	if (a->spf == SPF_RESULT_TEMPERROR && scan_remaining_ms(deadline_ms) == 0)
		return SCAN_MOD_TIMEOUT;
	return SCAN_MOD_OK;
}

const struct scan_module scan_module_spf = {
	.name = "spf", .init = spf_init, .reload = spf_reload, .run = spf_run, .free = NULL,
};
