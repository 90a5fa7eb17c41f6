/* The rspamd check as a scan module ("rspamd"): the message goes to
 * rspamd's normal worker with POST /checkv2 (proto/rspamd); its score is
 * added as test RSPAMD (with its symbols in the detail), and with [rspamd]
 * use_action its action is followed: reject -> reject at DATA, soft reject
 * -> tempfail, add header / rewrite subject -> Junk ("greylist" is left
 * to Cairn's own greylisting). */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "rspamd.h"
#include "scan.h"
#include "scanner-sock.h"

struct rspamd_state {
	char *socket;
	uint64_t max_size;
	bool use_action;
};

static void rspamd_settings(struct rspamd_state *st, const struct config *cfg,
			    struct scan_module_settings *settings)
{
	free(st->socket);
	st->socket = xstrdup(cfg->rspamd.socket);
	st->max_size = cfg->rspamd.max_size;
	st->use_action = cfg->rspamd.use_action;
	settings->enabled = cfg->rspamd.enabled;
	settings->budget_ms = cfg->rspamd.timeout_ms;
	settings->failure = cfg->rspamd.failure == CONFIG_SCAN_FAIL_CLOSED ? SCAN_FAIL_CLOSED
									   : SCAN_FAIL_OPEN;
	settings->order = SCAN_ORDER_EXTERNAL + 15;
}

static int rspamd_init(const struct config *cfg, struct scan_module_settings *settings,
		       void **state_r, const char **error_r)
{
	if (cfg->rspamd.enabled && *cfg->rspamd.socket == '\0') {
		*error_r = "[rspamd] socket is empty";
		return -1;
	}
	struct rspamd_state *st = xcalloc(1, sizeof(*st));
	rspamd_settings(st, cfg, settings);
	*state_r = st;
	return 0;
}

static int rspamd_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			 const char **error_r)
{
	if (cfg->rspamd.enabled && *cfg->rspamd.socket == '\0') {
		*error_r = "[rspamd] socket is empty";
		return -1;
	}
	rspamd_settings(state, cfg, settings);
	return 0;
}

static int rspamd_parse(const char *data, size_t len, bool eof, void *ctx, const char **error_r)
{
	return rspamd_parse_reply(data, len, eof, ctx, error_r);
}

static enum scan_mod_status rspamd_run(void *state, struct scan_msg *msg, struct scan_result *result,
				       uint64_t deadline_ms)
{
	struct rspamd_state *st = state;
	if (st->max_size != 0 && msg->size > st->max_size)
		return SCAN_MOD_SKIP;
	const char *error = "?";
	enum scan_mod_status status = SCAN_MOD_ERROR;
	const char **rcpts = xcalloc(msg->nrcpts ? msg->nrcpts : 1, sizeof(*rcpts));
	for (size_t i = 0; i < msg->nrcpts; i++)
		rcpts[i] = msg->rcpts[i].address;
	struct rspamd_request req = { .ip = msg->client_ip, .helo = msg->helo,
				      .from = msg->mail_from, .rcpts = rcpts, .nrcpts = msg->nrcpts,
				      .hostname = msg->rdns, .user = msg->auth_user };
	struct buf io;
	buf_init(&io, 0);
	int r = rspamd_request(&req, msg->raw, msg->size, &io);
	free(rcpts);
	if (r < 0) {
		error = "envelope with a line break";
		buf_free(&io);
		goto fail;
	}
	struct rspamd_reply *rep = xcalloc(1, sizeof(*rep));
	int parsed = scanner_exchange(st->socket, &io, RSPAMD_REPLY_MAX + 65536,
				      "rspamd reply too long", rspamd_parse, rep, deadline_ms, &error);
	if (parsed == SCANNER_TIMEOUT)
		status = SCAN_MOD_TIMEOUT;
	buf_free(&io);
	if (parsed != 1) {
		free(rep);
		goto fail;
	}
	/* is_skipped (a prefilter such as GTUBE, or settings) still comes
	 * with a valid score and action: they are used as they are */
	struct buf syms;
	buf_init(&syms, 400);
	for (size_t i = 0; i < rep->nsymbols; i++)
		if (buf_printf(&syms, "%s%s(%.2f)", i ? "," : "", rep->symbols[i].name,
			       rep->symbols[i].score) < 0)
			break;
	scan_result_add_test(result, "RSPAMD", rep->score, "rspamd %.2f/%.2f action=%s%s%s",
			     rep->score, rep->required_score, rep->action, syms.len ? ": " : "",
			     syms.data ? syms.data : "");
	buf_free(&syms);
	if (st->use_action) {
		const char *why = rep->smtp_message[0] ? rep->smtp_message : rep->action;
		if (strcmp(rep->action, "reject") == 0)
			scan_result_hint(result, SCAN_ACTION_REJECT, "rspamd: %s", why);
		else if (strcmp(rep->action, "soft reject") == 0)
			scan_result_hint(result, SCAN_ACTION_TEMPFAIL, "rspamd: %s", why);
		/* "greylist" is not followed: it needs rspamd's own greylisting
		 * state (Redis) to ever let the message in; [greylist] does that */
		else if (strcmp(rep->action, "add header") == 0 ||
			 strcmp(rep->action, "rewrite subject") == 0)
			scan_result_hint(result, SCAN_ACTION_JUNK, "rspamd: %s", why);
	}
	free(rep);
	return SCAN_MOD_OK;
fail:
	log_warn("scan rspamd socket=%s status=%s error=\"%s\"", st->socket,
		 status == SCAN_MOD_TIMEOUT ? "timeout" : "error", error);
	return status;
}

static void rspamd_free(void *state)
{
	struct rspamd_state *st = state;
	free(st->socket);
	free(st);
}

const struct scan_module scan_rspamd_module = {
	.name = "rspamd",
	.init = rspamd_init,
	.reload = rspamd_reload,
	.run = rspamd_run,
	.free = rspamd_free,
};
