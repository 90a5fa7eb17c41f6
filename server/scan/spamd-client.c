/* The spamd check as a scan module ("spamd"): the message goes to
 * SpamAssassin's spamd with SYMBOLS (proto/spamc); its score becomes test
 * SPAMD, added to the other checks' score ([spamd] mode = add) or replacing
 * it (alone: SPAMD then carries the difference, and the module runs last). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "scan.h"
#include "scanner-sock.h"
#include "spamc.h"

#define SPAMD_DETAIL_MAX 400

struct spamd_state {
	char *socket;
	char *user;		/* NULL = none */
	uint64_t max_size;
	bool alone;
};

static int spamd_configure(struct spamd_state *st, const struct config *cfg,
			   struct scan_module_settings *settings, const char **error_r)
{
	if (cfg->spamd.enabled && *cfg->spamd.socket == '\0') {
		*error_r = "[spamd] socket is empty";
		return -1;
	}
	if (strpbrk(cfg->spamd.user, "\r\n") != NULL) {
		*error_r = "[spamd] user must not contain a line break";
		return -1;
	}
	free(st->socket);
	free(st->user);
	st->socket = xstrdup(cfg->spamd.socket);
	st->user = *cfg->spamd.user ? xstrdup(cfg->spamd.user) : NULL;
	st->max_size = cfg->spamd.max_size;
	st->alone = cfg->spamd.mode == CONFIG_SPAMD_ALONE;
	settings->enabled = cfg->spamd.enabled;
	settings->budget_ms = cfg->spamd.timeout_ms;
	settings->failure = cfg->spamd.failure == CONFIG_SCAN_FAIL_CLOSED ? SCAN_FAIL_CLOSED
									  : SCAN_FAIL_OPEN;
	settings->order = st->alone ? SCAN_ORDER_EXTERNAL + 500 : SCAN_ORDER_EXTERNAL + 10;
	return 0;
}

static int spamd_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	struct spamd_state *st = xcalloc(1, sizeof(*st));
	if (spamd_configure(st, cfg, settings, error_r) < 0) {
		free(st->socket);
		free(st->user);
		free(st);
		return -1;
	}
	*state_r = st;
	return 0;
}

static int spamd_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			const char **error_r)
{
	struct spamd_state *st = state;
	if (cfg->spamd.enabled && *cfg->spamd.socket == '\0') {
		*error_r = "[spamd] socket is empty";
		return -1;
	}
	return spamd_configure(st, cfg, settings, error_r);
}

static int spamd_parse(const char *data, size_t len, bool eof, void *ctx, const char **error_r)
{
	return spamc_parse_reply(data, len, eof, ctx, error_r);
}

static enum scan_mod_status spamd_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	struct spamd_state *st = state;
	if (st->max_size != 0 && msg->size > st->max_size)
		return SCAN_MOD_SKIP;
	const char *error = "?";
	enum scan_mod_status status = SCAN_MOD_ERROR;
	struct buf io;
	buf_init(&io, 0);
	spamc_request(SPAMC_SYMBOLS, st->user, msg->raw, msg->size, &io);
	struct spamc_reply rep;
	int parsed = scanner_exchange(st->socket, &io, SPAMC_REPLY_MAX + 1, "spamd reply too long",
				      spamd_parse, &rep, deadline_ms, &error);
	if (parsed == SCANNER_TIMEOUT)
		status = SCAN_MOD_TIMEOUT;
	if (parsed == 1) {
		double score = st->alone ? rep.score - result->score : rep.score;
		struct buf syms;
		buf_init(&syms, SPAMD_DETAIL_MAX);
		size_t pos = 0;
		const char *name;
		size_t l;
		while ((l = spamc_next_symbol(rep.body, rep.body_len, &pos, &name)) > 0) {
			if ((syms.len > 0 && buf_append(&syms, ",", 1) < 0) ||
			    buf_append(&syms, name, l) < 0)
				break;
		}
		scan_result_add_test(result, "SPAMD", score, "spamd score %.1f/%.1f%s%s", rep.score,
				     rep.threshold, syms.len ? ": " : "", syms.data ? syms.data : "");
		buf_free(&syms);
		buf_free(&io);
		return SCAN_MOD_OK;
	}
	buf_free(&io);
	log_warn("scan spamd socket=%s status=%s error=\"%s\"", st->socket,
		 status == SCAN_MOD_TIMEOUT ? "timeout" : "error", error);
	return status;
}

static void spamd_free(void *state)
{
	struct spamd_state *st = state;
	free(st->socket);
	free(st->user);
	free(st);
}

const struct scan_module scan_spamd_module = {
	.name = "spamd",
	.init = spamd_init,
	.reload = spamd_reload,
	.run = spamd_run,
	.free = spamd_free,
};
