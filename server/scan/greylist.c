/* Greylisting as a scan module ("greylist"): each (client network, sender,
 * recipient) triplet of a greylisted domain is recorded in PostgreSQL; the
 * message is answered 451 4.7.1 at DATA (the stage's tempfail) until a
 * retry comes after [greylist] delay. Authenticated and whitelisted mail is
 * not greylisted (a DNSWL hit with a negative weight counts). */
#include "autoconf.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "netaddr.h"
#include "scan.h"
#include "store-greylist.h"

struct greylist_state {
	char *domains;		/* ",a.example,b.example," lower-case, or NULL = all */
	uint64_t delay_ms, window_ms, expire_ms;
	unsigned v4, v6;
	atomic_uint runs;
};

static void greylist_configure(struct greylist_state *st, const struct config *cfg,
			       struct scan_module_settings *settings)
{
	free(st->domains);
	st->domains = NULL;
	if (*cfg->greylist.domains != '\0') {
		struct buf b;
		buf_init(&b, 0);
		buf_append(&b, ",", 1);
		for (const char *p = cfg->greylist.domains; *p; p++)
			if (*p != ' ' && *p != '\t') {
				char c = (char)((*p >= 'A' && *p <= 'Z') ? *p + 32 : *p);
				buf_append(&b, &c, 1);
			}
		buf_append(&b, ",", 1);
		st->domains = b.data;
	}
	st->delay_ms = cfg->greylist.delay_ms;
	st->window_ms = cfg->greylist.window_ms;
	st->expire_ms = cfg->greylist.expire_ms;
	st->v4 = (unsigned)cfg->greylist.ipv4_prefix;
	st->v6 = (unsigned)cfg->greylist.ipv6_prefix;
	settings->enabled = cfg->greylist.enabled;
	/* after the DNS lists (a DNSWL hit spares the wait), before content */
	settings->order = SCAN_ORDER_REPUTATION + 50;
}

static int greylist_init(const struct config *cfg, struct scan_module_settings *settings,
			 void **state_r, const char **error_r)
{
	(void)error_r;
	struct greylist_state *st = xcalloc(1, sizeof(*st));
	greylist_configure(st, cfg, settings);
	*state_r = st;
	return 0;
}

static int greylist_reload(void *state, const struct config *cfg,
			   struct scan_module_settings *settings, const char **error_r)
{
	(void)error_r;
	greylist_configure(state, cfg, settings);
	return 0;
}

static bool domain_greylisted(const struct greylist_state *st, const char *address)
{
	if (st->domains == NULL)
		return true;
	const char *at = strrchr(address, '@');
	if (at == NULL)
		return false;
	char key[300];
	snprintf(key, sizeof(key), ",%s,", at + 1);
	for (char *k = key; *k; k++)
		if (*k >= 'A' && *k <= 'Z')
			*k = (char)(*k + 32);
	return strstr(st->domains, key) != NULL;
}

static bool whitelisted(const struct scan_result *r)
{
	for (size_t i = 0; i < r->ntests; i++)
		if (strncmp(r->tests[i].name, "DNSBL_", 6) == 0 && r->tests[i].score < 0)
			return true;
	return false;
}

static enum scan_mod_status greylist_run(void *state, struct scan_msg *msg,
					 struct scan_result *result, uint64_t deadline_ms)
{
	(void)deadline_ms;
	struct greylist_state *st = state;
	if (msg->auth_user != NULL || msg->store == NULL || whitelisted(result))
		return SCAN_MOD_SKIP;
	char net[64];
	if (net_key(msg->client_ip, st->v4, st->v6, net, sizeof(net)) < 0)
		return SCAN_MOD_SKIP;	/* not an IP client */
	const char *error;
	if (atomic_fetch_add(&st->runs, 1) % 1000 == 999 &&
	    store_greylist_expire(msg->store, st->expire_ms, &error) != 0)
		log_warn("scan greylist expire status=error error=\"%s\"", error);
	bool all_passed = true, any = false;
	for (size_t i = 0; i < msg->nrcpts; i++) {
		if (!domain_greylisted(st, msg->rcpts[i].address) || msg->rcpts[i].naccounts == 0)
			continue;
		any = true;
		bool passed;
		if (store_greylist_check(msg->store, net, msg->mail_from, msg->rcpts[i].address,
					 st->delay_ms, st->window_ms, &passed, &error) != 0) {
			log_warn("scan greylist status=error error=\"%s\"", error);
			return SCAN_MOD_ERROR;
		}
		all_passed = all_passed && passed;
	}
	if (!any)
		return SCAN_MOD_SKIP;
	if (!all_passed) {
		scan_result_add_test(result, "GREYLISTED", 0.0, "new triplet from %s", net);
		scan_result_hint(result, SCAN_ACTION_TEMPFAIL,
				 "greylisted, please try again later");
	}
	return SCAN_MOD_OK;
}

static void greylist_free(void *state)
{
	struct greylist_state *st = state;
	free(st->domains);
	free(st);
}

const struct scan_module scan_greylist_module = {
	.name = "greylist",
	.init = greylist_init,
	.reload = greylist_reload,
	.run = greylist_run,
	.free = greylist_free,
};
