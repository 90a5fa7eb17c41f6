/* The clamd check as a scan module ("clamd"): the message goes to ClamAV's
 * clamd with INSTREAM (proto/clamd) over its unix or TCP socket; a
 * "FOUND" answer marks the message as a virus (never delivered). Down,
 * slow or failing clamd follows [clamd] failure. */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clamd.h"
#include "config.h"
#include "log.h"
#include "scan.h"
#include "scanner-sock.h"

struct clamd_state {
	char *socket;
	uint64_t max_size;
};

static void clamd_settings(const struct config *cfg, struct scan_module_settings *settings)
{
	settings->enabled = cfg->clamd.enabled;
	settings->budget_ms = cfg->clamd.timeout_ms;
	settings->failure = cfg->clamd.failure == CONFIG_SCAN_FAIL_CLOSED ? SCAN_FAIL_CLOSED
									  : SCAN_FAIL_OPEN;
	settings->order = SCAN_ORDER_EXTERNAL;
	/* a virus from an authenticated user is a virus too */
	settings->on_submission = true;
}

static int clamd_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	if (cfg->clamd.enabled && *cfg->clamd.socket == '\0') {
		*error_r = "[clamd] socket is empty";
		return -1;
	}
	struct clamd_state *st = xcalloc(1, sizeof(*st));
	st->socket = xstrdup(cfg->clamd.socket);
	st->max_size = cfg->clamd.max_size;
	clamd_settings(cfg, settings);
	*state_r = st;
	return 0;
}

static int clamd_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			const char **error_r)
{
	struct clamd_state *st = state;
	if (cfg->clamd.enabled && *cfg->clamd.socket == '\0') {
		*error_r = "[clamd] socket is empty";
		return -1;
	}
	free(st->socket);
	st->socket = xstrdup(cfg->clamd.socket);
	st->max_size = cfg->clamd.max_size;
	clamd_settings(cfg, settings);
	return 0;
}

static enum scan_mod_status clamd_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	struct clamd_state *st = state;
	if (st->max_size != 0 && msg->size > st->max_size)
		return SCAN_MOD_SKIP;
	const char *error = "?";
	int fd = scanner_connect(st->socket, deadline_ms, &error);
	if (fd < 0) {
		log_warn("scan clamd socket=%s status=%s error=\"%s\"", st->socket,
			 fd == SCANNER_TIMEOUT ? "timeout" : "error", error);
		return fd == SCANNER_TIMEOUT ? SCAN_MOD_TIMEOUT : SCAN_MOD_ERROR;
	}
	struct buf req;
	buf_init(&req, 0);
	clamd_instream_request(msg->raw, msg->size, &req);
	int sent = scanner_send_all(fd, req.data, req.len, deadline_ms, &error);
	buf_free(&req);
	/* even when the send failed clamd may have answered (size limit) */
	char reply[CLAMD_REPLY_MAX + 1];
	size_t have = 0;
	int parsed = 0;
	enum clamd_verdict verdict = CLAMD_ERROR;
	char name[128] = "";
	enum scan_mod_status status = SCAN_MOD_ERROR;
	if (sent != SCANNER_TIMEOUT) {
		for (;;) {
			ssize_t n = scanner_recv(fd, reply + have, sizeof(reply) - have, deadline_ms,
						 &error);
			if (n == SCANNER_TIMEOUT) {
				status = SCAN_MOD_TIMEOUT;
				break;
			}
			if (n <= 0) {
				if (n == 0)
					error = "clamd closed the connection without an answer";
				break;
			}
			have += (size_t)n;
			parsed = clamd_parse_reply(reply, have, &verdict, name, sizeof(name));
			if (parsed != 0 || have == sizeof(reply))
				break;
		}
	} else {
		status = SCAN_MOD_TIMEOUT;
	}
	close(fd);
	if (parsed == 1 && verdict == CLAMD_VIRUS) {
		scan_result_set_virus(result, name);
		scan_result_add_test(result, "CLAMD_VIRUS", 0.0, "%s", name);
		return SCAN_MOD_OK;
	}
	if (parsed == 1 && verdict == CLAMD_CLEAN)
		return SCAN_MOD_OK;
	if (parsed == 1)
		error = name;	/* clamd's own ERROR text */
	else if (parsed < 0)
		error = "not a clamd answer";
	log_warn("scan clamd socket=%s status=%s error=\"%s\"", st->socket,
		 status == SCAN_MOD_TIMEOUT ? "timeout" : "error", error);
	return status;
}

static void clamd_free(void *state)
{
	struct clamd_state *st = state;
	free(st->socket);
	free(st);
}

const struct scan_module scan_clamd_module = {
	.name = "clamd",
	.init = clamd_init,
	.reload = clamd_reload,
	.run = clamd_run,
	.free = clamd_free,
};
