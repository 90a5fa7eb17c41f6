/* iprev (RFC 8601 section 3): the client's forward-confirmed reverse name
 * (scan_msg_rdns), reported as iprev=pass/fail in Authentication-Results
 * and scored RDNS_NONE when there is none. It also fills msg->rdns for the
 * modules after it. */
#include "autoconf.h"
#include "scan-auth.h"
#include "config.h"

#include <stdio.h>

static int iprev_init(const struct config *cfg, struct scan_module_settings *settings,
		      void **state_r, const char **error_r)
{
	(void)cfg;
	(void)error_r;
	settings->order = SCAN_ORDER_AUTH - 10;
	*state_r = NULL;
	return 0;
}

static enum scan_mod_status iprev_run(void *state, struct scan_msg *msg, struct scan_result *result,
				      uint64_t deadline_ms)
{
	(void)state;
	struct scan_auth *a = scan_auth_get(msg);
	const char *name = scan_msg_rdns(msg, deadline_ms);
	a->iprev_done = true;
	a->iprev_pass = name != NULL;
	snprintf(a->iprev_name, sizeof(a->iprev_name), "%s", name != NULL ? name : "");
	if (name == NULL) {
		scan_result_add_test(result, "RDNS_NONE", 0.1, "no forward-confirmed name for %s",
				     msg->client_ip);
		if (scan_remaining_ms(deadline_ms) == 0)
			return SCAN_MOD_TIMEOUT;
	}
	return SCAN_MOD_OK;
}

const struct scan_module scan_module_iprev = {
	.name = "iprev", .init = iprev_init, .reload = NULL, .run = iprev_run, .free = NULL,
};
