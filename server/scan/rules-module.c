/* The rules check as a scan module ("rules"): loads [rules] dir and
 * local_dir at start (a broken file stops cairnd), reloads them on SIGHUP
 * (a broken file is logged by FILE:LINE and the old set stays), and adds
 * each rule hit as a test with its score. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "rules.h"
#include "scan.h"

struct rules_state {
	struct scan_rules *rules;	/* NULL when disabled */
	unsigned score_set;
};

static char rules_error[1024];

static int rules_build(const struct config *cfg, struct scan_rules **rules_r, const char **error_r)
{
	const char *dirs[] = { cfg->rules.dir, cfg->rules.local_dir };
	struct scan_rules *r = scan_rules_load(dirs, 2, rules_error, sizeof(rules_error));
	if (r == NULL) {
		*error_r = rules_error;
		return -1;
	}
	log_info("scan rules loaded rules=%zu skipped=%zu dir=%s local_dir=%s",
		 scan_rules_count(r), scan_rules_skipped(r), cfg->rules.dir, cfg->rules.local_dir);
	*rules_r = r;
	return 0;
}

static void rules_settings(const struct config *cfg, struct scan_module_settings *settings)
{
	settings->enabled = cfg->rules.enabled;
	settings->budget_ms = cfg->rules.budget_ms;
	settings->order = SCAN_ORDER_CONTENT;
}

static int rules_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	struct rules_state *st = xcalloc(1, sizeof(*st));
	if (cfg->rules.enabled && rules_build(cfg, &st->rules, error_r) < 0) {
		free(st);
		return -1;
	}
	st->score_set = (unsigned)cfg->rules.score_set;
	rules_settings(cfg, settings);
	*state_r = st;
	return 0;
}

static int rules_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			const char **error_r)
{
	struct rules_state *st = state;
	struct scan_rules *fresh = NULL;
	if (cfg->rules.enabled && rules_build(cfg, &fresh, error_r) < 0)
		return -1;	/* the old set stays */
	scan_rules_unref(&st->rules);
	st->rules = fresh;
	st->score_set = (unsigned)cfg->rules.score_set;
	rules_settings(cfg, settings);
	return 0;
}

static enum scan_mod_status rules_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	struct rules_state *st = state;
	if (st->rules == NULL)
		return SCAN_MOD_SKIP;
	uint64_t left = scan_remaining_ms(deadline_ms);
	if (left == 0)
		return SCAN_MOD_TIMEOUT;
	struct scan_rules_result res;
	scan_rules_run(st->rules, scan_msg_mime(msg), msg->mail_from, st->score_set, left, &res);
	for (size_t i = 0; i < res.count; i++) {
		const struct scan_rules_hit *h = &res.hits[i];
		if (h->count > 1)
			scan_result_add_test(result, h->name, h->score, "%s (x%u)",
					     h->describe ? h->describe : h->name, h->count);
		else
			scan_result_add_test(result, h->name, h->score, "%s",
					     h->describe ? h->describe : h->name);
	}
	if (res.regex_errors > 0)
		log_debug("scan rules regex_errors=%u (match limit)", res.regex_errors);
	bool timed_out = res.timed_out;
	scan_rules_result_free(&res);
	return timed_out ? SCAN_MOD_TIMEOUT : SCAN_MOD_OK;
}

static void rules_free(void *state)
{
	struct rules_state *st = state;
	scan_rules_unref(&st->rules);
	free(st);
}

const struct scan_module scan_rules_module = {
	.name = "rules",
	.init = rules_init,
	.reload = rules_reload,
	.run = rules_run,
	.free = rules_free,
};
