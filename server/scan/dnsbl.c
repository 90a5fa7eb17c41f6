/* The DNS list checks as a scan module ("dnsbl"): the client IP against
 * each [dnsbl] lists zone (DNSBL with a positive weight, DNSWL with a
 * negative one; IPv4 and IPv6), and the registrable domains (libpsl) of the
 * message's URLs against each [dnsbl] uribl zone. Each listing is a test
 * DNSBL_<ZONE> / URIBL_<ZONE> with the list's weight. */
#include "autoconf.h"

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "dns.h"
#include "dns_packet.h"
#include "dnsbl-query.h"
#include "log.h"
#include "rules.h"
#include "sa_rules_uri.h"
#include "scan.h"

struct dnsbl_state {
	struct dnsbl_list ip[DNSBL_MAX_LISTS];
	size_t nip;
	struct dnsbl_list uri[DNSBL_MAX_LISTS];
	size_t nuri;
	unsigned max_domains;
	const psl_ctx_t *psl;
};

static int dnsbl_configure(struct dnsbl_state *st, const struct config *cfg,
			   struct scan_module_settings *settings, const char **error_r)
{
	static char err[256];
	struct dnsbl_list ip[DNSBL_MAX_LISTS], uri[DNSBL_MAX_LISTS];
	const char *e;
	int nip = dnsbl_parse_lists(cfg->dnsbl.lists, "DNSBL", ip, DNSBL_MAX_LISTS, &e);
	if (nip < 0) {
		snprintf(err, sizeof(err), "[dnsbl] lists: %s", e);
		*error_r = err;
		return -1;
	}
	int nuri = dnsbl_parse_lists(cfg->dnsbl.uribl, "URIBL", uri, DNSBL_MAX_LISTS, &e);
	if (nuri < 0) {
		snprintf(err, sizeof(err), "[dnsbl] uribl: %s", e);
		*error_r = err;
		return -1;
	}
	memcpy(st->ip, ip, sizeof(ip));
	st->nip = (size_t)nip;
	memcpy(st->uri, uri, sizeof(uri));
	st->nuri = (size_t)nuri;
	st->max_domains = (unsigned)cfg->dnsbl.max_uri_domains;
	settings->enabled = cfg->dnsbl.enabled && (nip > 0 || nuri > 0);
	settings->budget_ms = cfg->dnsbl.budget_ms;
	settings->order = SCAN_ORDER_REPUTATION;
	return 0;
}

static int dnsbl_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	struct dnsbl_state *st = xcalloc(1, sizeof(*st));
	if (dnsbl_configure(st, cfg, settings, error_r) < 0) {
		free(st);
		return -1;
	}
	/* the system's Public Suffix List (Debian: publicsuffix), else libpsl's own */
	st->psl = psl_latest(NULL);
	if (st->psl == NULL)
		st->psl = psl_builtin();
	*state_r = st;
	return 0;
}

static int dnsbl_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			const char **error_r)
{
	struct dnsbl_state tmp = *(struct dnsbl_state *)state;
	struct scan_module_settings s = *settings;
	if (dnsbl_configure(&tmp, cfg, &s, error_r) < 0)
		return -1;
	*(struct dnsbl_state *)state = tmp;
	*settings = s;
	return 0;
}

/* 1 listed, 0 not, -1 DNS failure (timeout, SERVFAIL). */
static int listed(struct dns_resolver *r, const char *name, const struct dnsbl_list *l)
{
	struct dns_record recs[8];
	size_t n = 0;
	char err[256];
	enum dns_status s = dns_lookup(r, name, DNS_TYPE_A, recs, 8, &n, err, sizeof(err));
	if (s == DNS_TEMPFAIL) {
		log_debug("scan dnsbl query=%s status=tempfail error=\"%s\"", name, err);
		return -1;
	}
	int hit = 0;
	for (size_t i = 0; s == DNS_OK && i < n; i++)
		if (recs[i].type == DNS_TYPE_A && dnsbl_answer_counts(l, recs[i].addr))
			hit = 1;
	dns_records_free(recs, n);
	return hit;
}

static enum scan_mod_status dnsbl_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	struct dnsbl_state *st = state;
	const char *error = NULL;
	struct dns_resolver *r = scan_msg_dns(msg, deadline_ms, &error);
	if (r == NULL) {
		log_warn("scan dnsbl status=error error=\"%s\"", error ? error : "no resolver");
		return SCAN_MOD_ERROR;
	}
	unsigned failures = 0, queries = 0;
	char q[512];
	for (size_t i = 0; i < st->nip; i++) {
		if (scan_remaining_ms(deadline_ms) == 0)
			return SCAN_MOD_TIMEOUT;
		if (dnsbl_ip_query(msg->client_ip, st->ip[i].zone, q, sizeof(q)) < 0)
			break;	/* not an IP address (a unix socket client) */
		queries++;
		int h = listed(r, q, &st->ip[i]);
		if (h < 0)
			failures++;
		else if (h > 0)
			scan_result_add_test(result, st->ip[i].test, st->ip[i].weight, "%s listed in %s",
					     msg->client_ip, st->ip[i].zone);
	}
	if (st->nuri > 0) {
		struct buf uris, seen;
		buf_init(&uris, 0);
		buf_init(&seen, 0);	/* "\ndomain\n" entries already asked */
		buf_append(&seen, "\n", 1);
		size_t n = scan_rules_message_uris(scan_msg_mime(msg), 1000, &uris);
		unsigned domains = 0;
		const char *p = uris.data;
		for (size_t k = 0; k < n && domains < st->max_domains; k++, p += strlen(p) + 1) {
			char host[256];
			if (sa_uri_host(p, strlen(p), host, sizeof(host)) < 0 ||
			    strspn(host, "0123456789.") == strlen(host) || strchr(host, '[') != NULL)
				continue;	/* no name: an IP literal */
			const char *reg = psl_registrable_domain(st->psl, host);
			if (reg == NULL)
				continue;
			char key[260];
			snprintf(key, sizeof(key), "\n%s\n", reg);
			if (strstr(seen.data, key) != NULL)
				continue;
			buf_append_str(&seen, key + 1);
			domains++;
			for (size_t i = 0; i < st->nuri; i++) {
				if (scan_remaining_ms(deadline_ms) == 0) {
					buf_free(&uris);
					buf_free(&seen);
					return SCAN_MOD_TIMEOUT;
				}
				if (dnsbl_domain_query(reg, st->uri[i].zone, q, sizeof(q)) < 0)
					continue;
				queries++;
				int h = listed(r, q, &st->uri[i]);
				if (h < 0)
					failures++;
				else if (h > 0 && !scan_result_has_test(result, st->uri[i].test, NULL))
					scan_result_add_test(result, st->uri[i].test, st->uri[i].weight,
							     "%s listed in %s", reg, st->uri[i].zone);
			}
		}
		buf_free(&uris);
		buf_free(&seen);
	}
	/* every query failed: the resolver is down, not "not listed" */
	if (queries > 0 && failures == queries)
		return scan_remaining_ms(deadline_ms) == 0 ? SCAN_MOD_TIMEOUT : SCAN_MOD_ERROR;
	return SCAN_MOD_OK;
}

static void dnsbl_free(void *state)
{
	struct dnsbl_state *st = state;
	/* psl_latest's context is ours; psl_builtin's is static */
	if (st->psl != NULL && st->psl != psl_builtin())
		psl_free((psl_ctx_t *)st->psl);
	free(st);
}

const struct scan_module scan_dnsbl_module = {
	.name = "dnsbl",
	.init = dnsbl_init,
	.reload = dnsbl_reload,
	.run = dnsbl_run,
	.free = dnsbl_free,
};
