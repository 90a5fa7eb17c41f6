/* DMARC (RFC 7489): the RFC5322.From domain, policy discovery at that
 * domain and then at its organizational domain (libpsl with the system's
 * public suffix list), identifier alignment (relaxed or strict) of the SPF
 * and DKIM results of this message, p=/sp=/pct=, and the action a failure
 * asks for, mapped through [scan] dmarc_reject / dmarc_quarantine. */
#include "autoconf.h"
#include "scan-auth.h"
#include "config.h"
#include "deliver.h"
#include "dmarc_record.h"
#include "dns.h"
#include "dns_packet.h"
#include "log.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

struct dmarc_module {
	psl_ctx_t *psl;
	unsigned on_reject, on_quarantine;	/* enum config_scan_dmarc */
};

/* The organizational domain of a lower-case domain (its registrable
 * domain, or itself when it is a public suffix or unknown). */
static void org_domain(const psl_ctx_t *psl, const char *domain, char *out, size_t size)
{
	const char *reg = psl != NULL ? psl_registrable_domain(psl, domain) : NULL;
	snprintf(out, size, "%s", reg != NULL ? reg : domain);
}

static bool aligned(const psl_ctx_t *psl, const char *a, const char *b, bool strict)
{
	if (strcasecmp(a, b) == 0)
		return true;
	if (strict)
		return false;
	char oa[256], ob[256];
	org_domain(psl, a, oa, sizeof(oa));
	org_domain(psl, b, ob, sizeof(ob));
	return strcasecmp(oa, ob) == 0;
}

/* Look up the record at _dmarc.domain: 1 found, 0 none, -1 temperror. */
static int fetch(struct scan_msg *msg, const char *domain, uint64_t deadline_ms,
		 struct dmarc_record *rec, char *reason, size_t rsize)
{
	const char *err = NULL;
	struct dns_resolver *dns = scan_msg_dns(msg, deadline_ms, &err);
	if (dns == NULL) {
		snprintf(reason, rsize, "%s", err);
		return -1;
	}
	char name[300];
	snprintf(name, sizeof(name), "_dmarc.%s", domain);
	struct dns_record recs[16];
	size_t n = 0;
	char error[256];
	enum dns_status st = dns_lookup(dns, name, DNS_TYPE_TXT, recs, 16, &n, error, sizeof(error));
	if (st == DNS_TEMPFAIL) {
		snprintf(reason, rsize, "%.180s", error);
		return -1;
	}
	int found = 0, count = 0;
	for (size_t i = 0; i < n; i++) {
		if (recs[i].type != DNS_TYPE_TXT || !dmarc_is_record(recs[i].txt, recs[i].txt_len))
			continue;
		count++;
		const char *perr;
		if (memchr(recs[i].txt, '\0', recs[i].txt_len) == NULL &&
		    dmarc_record_parse(recs[i].txt, recs[i].txt_len, rec, &perr) == 0)
			found = 1;
	}
	dns_records_free(recs, n);
	/* 6.6.3: more than one record means none applies */
	return count == 1 ? found : 0;
}

static enum scan_action action_of(unsigned mode)
{
	switch (mode) {
	case CONFIG_SCAN_DMARC_REJECT: return SCAN_ACTION_REJECT;
	case CONFIG_SCAN_DMARC_QUARANTINE: return SCAN_ACTION_QUARANTINE;
	case CONFIG_SCAN_DMARC_JUNK: return SCAN_ACTION_JUNK;
	default: return SCAN_ACTION_TAG;
	}
}

static enum scan_mod_status dmarc_run(void *state, struct scan_msg *msg,
				      struct scan_result *result, uint64_t deadline_ms)
{
	struct dmarc_module *m = state;
	struct scan_auth *a = scan_auth_get(msg);
	a->dmarc_done = true;
	char from[DELIVER_FROM_ADDRESS_MAX + 1];
	if (deliver_header_from(msg->raw, msg->header_len, from, sizeof(from)) < 0) {
		a->dmarc = DMARC_RESULT_PERMERROR;
		snprintf(a->dmarc_reason, sizeof(a->dmarc_reason),
			 "no single From: address to evaluate");
		return SCAN_MOD_OK;
	}
	const char *at = strrchr(from, '@');
	if (at == NULL || at[1] == '\0') {
		a->dmarc = DMARC_RESULT_PERMERROR;
		snprintf(a->dmarc_reason, sizeof(a->dmarc_reason), "From: address without a domain");
		return SCAN_MOD_OK;
	}
	char domain[256];
	snprintf(domain, sizeof(domain), "%s", at + 1);
	while (domain[0] != '\0' && domain[strlen(domain) - 1] == '.')
		domain[strlen(domain) - 1] = '\0';
	snprintf(a->dmarc_from, sizeof(a->dmarc_from), "%s", domain);
	char org[256];
	org_domain(m->psl, domain, org, sizeof(org));

	struct dmarc_record rec;
	bool at_org = false;
	int f = fetch(msg, domain, deadline_ms, &rec, a->dmarc_reason, sizeof(a->dmarc_reason));
	if (f == 0 && strcasecmp(org, domain) != 0) {
		f = fetch(msg, org, deadline_ms, &rec, a->dmarc_reason, sizeof(a->dmarc_reason));
		at_org = true;
	}
	if (f < 0) {
		a->dmarc = DMARC_RESULT_TEMPERROR;
		return scan_remaining_ms(deadline_ms) == 0 ? SCAN_MOD_TIMEOUT : SCAN_MOD_OK;
	}
	if (f == 0) {
		a->dmarc = DMARC_RESULT_NONE;
		snprintf(a->dmarc_reason, sizeof(a->dmarc_reason), "no DMARC record");
		return SCAN_MOD_OK;
	}
	/* alignment of the authenticated identifiers */
	/* the SPF-authenticated domain: MAIL FROM's, or HELO's for <> (RFC 7208 2.4) */
	bool spf_ok = a->spf_done && a->spf == SPF_RESULT_PASS &&
		      aligned(m->psl, a->spf_domain, domain, rec.aspf_strict);
	bool dkim_ok = false;
	for (size_t i = 0; i < a->nsigs && !dkim_ok; i++)
		dkim_ok = a->sigs[i].result == DKIM_RESULT_PASS &&
			  aligned(m->psl, a->sigs[i].domain, domain, rec.adkim_strict);
	enum dmarc_policy pol = at_org && rec.has_sp ? rec.sp : rec.p;
	if (spf_ok || dkim_ok) {
		a->dmarc = DMARC_RESULT_PASS;
		snprintf(a->dmarc_policy, sizeof(a->dmarc_policy), "%s", dmarc_policy_name(pol));
		snprintf(a->dmarc_reason, sizeof(a->dmarc_reason), "p=%s aligned %s",
			 dmarc_policy_name(pol), dkim_ok ? "dkim" : "spf");
		scan_result_add_test(result, "DMARC_PASS", -0.1, "%s", domain);
		return SCAN_MOD_OK;
	}
	a->dmarc = DMARC_RESULT_FAIL;
	/* pct: sampled out messages get the next policy down (6.6.4) */
	if (rec.pct < 100 && pol != DMARC_POLICY_NONE) {
		uint32_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
			r = 0;
		if (r % 100 >= rec.pct)
			pol = pol == DMARC_POLICY_REJECT ? DMARC_POLICY_QUARANTINE : DMARC_POLICY_NONE;
	}
	snprintf(a->dmarc_policy, sizeof(a->dmarc_policy), "%s", dmarc_policy_name(pol));
	snprintf(a->dmarc_reason, sizeof(a->dmarc_reason), "p=%s", dmarc_policy_name(pol));
	switch (pol) {
	case DMARC_POLICY_REJECT:
		scan_result_add_test(result, "DMARC_REJECT", 1.0, "%s", domain);
		scan_result_hint(result, action_of(m->on_reject),
				 "DMARC policy of %.100s says reject", domain);
		break;
	case DMARC_POLICY_QUARANTINE:
		scan_result_add_test(result, "DMARC_QUAR", 0.5, "%s", domain);
		scan_result_hint(result, action_of(m->on_quarantine),
				 "DMARC policy of %.100s says quarantine", domain);
		break;
	default:
		scan_result_add_test(result, "DMARC_NONE_FAIL", 0.1, "%s", domain);
		break;
	}
	return SCAN_MOD_OK;
}

static void settings_from(const struct config *cfg, struct dmarc_module *m,
			  struct scan_module_settings *settings)
{
	settings->enabled = cfg->scan.dmarc;
	settings->order = SCAN_ORDER_AUTH + 30;
	m->on_reject = cfg->scan.dmarc_reject;
	m->on_quarantine = cfg->scan.dmarc_quarantine;
}

static int dmarc_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	(void)error_r;
	struct dmarc_module *m = xcalloc(1, sizeof(*m));
	/* the newer of the built-in list and the system's (Debian's publicsuffix) */
	m->psl = psl_latest(NULL);
	if (m->psl == NULL)
		m->psl = (psl_ctx_t *)psl_builtin();
	if (m->psl == NULL && cfg->scan.dmarc)
		log_warn("scan event=dmarc-no-psl reason=\"no public suffix list: organizational "
			 "domains are the From: domains themselves\"");
	settings_from(cfg, m, settings);
	*state_r = m;
	return 0;
}

static int dmarc_reload(void *state, const struct config *cfg,
			struct scan_module_settings *settings, const char **error_r)
{
	(void)error_r;
	/* the actions are read by running scans: change them only here, under
	 * the stage's exclusive lock */
	settings_from(cfg, state, settings);
	return 0;
}

static void dmarc_free(void *state)
{
	struct dmarc_module *m = state;
	if (m == NULL)
		return;
	if (m->psl != NULL && m->psl != psl_builtin())
		psl_free(m->psl);
	free(m);
}

const struct scan_module scan_module_dmarc = {
	.name = "dmarc", .init = dmarc_init, .reload = dmarc_reload, .run = dmarc_run,
	.free = dmarc_free,
};
