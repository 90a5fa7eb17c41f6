/* The Bayes check as a scan module ("bayes"): the message's tokens are
 * looked up in the recipient's database (one recipient, trained enough) or
 * the global one, and the chi-square probability becomes one of
 * SpamAssassin's BAYES_xx tests. An untrained database adds nothing. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bayes.h"
#include "config.h"
#include "log.h"
#include "scan.h"
#include "store-bayes.h"

struct bayes_state {
	bool per_user;
	uint32_t min_spam, min_ham;
};

static void bayes_settings(struct bayes_state *st, const struct config *cfg,
			   struct scan_module_settings *settings)
{
	st->per_user = cfg->bayes.per_user;
	st->min_spam = (uint32_t)cfg->bayes.min_spam;
	st->min_ham = (uint32_t)cfg->bayes.min_ham;
	settings->enabled = cfg->bayes.enabled;
	settings->budget_ms = cfg->bayes.budget_ms;
	settings->order = SCAN_ORDER_CONTENT + 10;
}

static int bayes_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	(void)error_r;
	struct bayes_state *st = xcalloc(1, sizeof(*st));
	bayes_settings(st, cfg, settings);
	*state_r = st;
	return 0;
}

static int bayes_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			const char **error_r)
{
	(void)error_r;
	bayes_settings(state, cfg, settings);
	return 0;
}

static int count_cmp(const void *a, const void *b)
{
	int64_t x = ((const struct store_bayes_count *)a)->token;
	int64_t y = ((const struct store_bayes_count *)b)->token;
	return x < y ? -1 : x > y;
}

static enum scan_mod_status bayes_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	struct bayes_state *st = state;
	if (msg->store == NULL)
		return SCAN_MOD_SKIP;
	const char *error = NULL;
	/* one local account among the recipients: its own database */
	const char *account = NULL;
	size_t accounts = 0;
	for (size_t i = 0; i < msg->nrcpts; i++)
		for (size_t k = 0; k < msg->rcpts[i].naccounts; k++) {
			if (account == NULL || strcmp(account, msg->rcpts[i].accounts[k]) != 0)
				accounts++;
			account = msg->rcpts[i].accounts[k];
		}
	uint64_t account_id = STORE_BAYES_GLOBAL;
	if (st->per_user && accounts == 1 &&
	    store_bayes_account(msg->store, account, &account_id, &error) != 0)
		account_id = STORE_BAYES_GLOBAL;
	uint32_t us, uh, gs, gh;
	if (store_bayes_vars(msg->store, account_id, &us, &uh, &gs, &gh, &error) != 0)
		goto fail;
	uint64_t db;
	uint32_t ns, nh;
	if (account_id != STORE_BAYES_GLOBAL && us >= st->min_spam && uh >= st->min_ham) {
		db = account_id, ns = us, nh = uh;
	} else if (gs >= st->min_spam && gh >= st->min_ham) {
		db = STORE_BAYES_GLOBAL, ns = gs, nh = gh;
	} else {
		return SCAN_MOD_SKIP;	/* not trained enough yet */
	}
	if (scan_remaining_ms(deadline_ms) == 0)
		return SCAN_MOD_TIMEOUT;
	int64_t *tokens;
	size_t n = bayes_tokenize(scan_msg_mime(msg), &tokens);
	struct store_bayes_count *counts;
	size_t nc;
	int ret = store_bayes_lookup(msg->store, db, tokens, n, &counts, &nc, &error);
	free(tokens);
	if (ret != 0)
		goto fail;
	qsort(counts, nc, sizeof(*counts), count_cmp);
	double *probs = xmalloc((nc ? nc : 1) * sizeof(double));
	for (size_t i = 0; i < nc; i++)
		probs[i] = bayes_token_prob(counts[i].nspam, counts[i].nham, ns, nh);
	double p = bayes_combine(probs, nc);
	free(probs);
	free(counts);
	double score;
	const char *name = bayes_test_name(p, &score);
	scan_result_add_test(result, name, score, "Bayes spam probability %.4f (%s, %zu of %zu tokens known)",
			     p, db == STORE_BAYES_GLOBAL ? "global" : "user", nc, n);
	return SCAN_MOD_OK;
fail:
	log_warn("scan bayes status=error error=\"%s\"", error ? error : "?");
	return SCAN_MOD_ERROR;
}

static void bayes_free(void *state)
{
	free(state);
}

const struct scan_module scan_bayes_module = {
	.name = "bayes",
	.init = bayes_init,
	.reload = bayes_reload,
	.run = bayes_run,
	.free = bayes_free,
};
