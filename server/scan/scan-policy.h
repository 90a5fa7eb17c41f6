/* The thresholds and answers that turn a scan result into an action, from
 * [scan] and the per-domain/per-user overrides of the store (0022). */
#ifndef CAIRN_SCAN_POLICY_H
#define CAIRN_SCAN_POLICY_H

#include "scan.h"

struct store;

struct scan_policy {
	bool enabled;
	double tag, junk, quarantine, reject;	/* NAN = off */
	bool virus_quarantine;			/* else reject */
	enum scan_action on_unscannable;	/* ACCEPT, TEMPFAIL or REJECT */
};

/* Parse a threshold: a decimal number, or "off" (NAN). -1 when neither. */
int scan_threshold_parse(const char *s, double *v_r);
/* The [scan] policy. -1 with *error_r (static) on a bad threshold. */
int scan_policy_from_config(const struct config *cfg, struct scan_policy *p,
			    const char **error_r);
/* The action the thresholds give for score (REJECT > QUARANTINE > JUNK >
 * TAG > ACCEPT). */
enum scan_action scan_policy_action(const struct scan_policy *p, double score);
/* Apply the store's overrides for account: its domain's row, then its own.
 * -1 with *error_r when the store cannot answer (p unchanged then). */
int scan_policy_load(struct store *st, const char *account, struct scan_policy *p,
		     const char **error_r);

/* Whether an Authentication-Results value (after the colon) names
 * authserv_id (RFC 8601 2.5; comments skipped, case-insensitive). */
bool scan_authres_is_ours(const char *value, size_t len, const char *authserv_id);

#endif
