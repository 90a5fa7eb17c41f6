/* The scan policy: [scan] thresholds and answers, with the overrides of a
 * domain and then of an account from the store (migration 0022). */
#include "autoconf.h"
#include "scan-policy.h"
#include "config.h"
#include "store-scan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int scan_threshold_parse(const char *s, double *v_r)
{
	if (strcasecmp(s, "off") == 0 || strcasecmp(s, "none") == 0) {
		*v_r = NAN;
		return 0;
	}
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end != '\0' || !isfinite(v) || v < -1000 || v > 1000)
		return -1;
	*v_r = v;
	return 0;
}

int scan_policy_from_config(const struct config *cfg, struct scan_policy *p, const char **error_r)
{
	static __thread char error[160];
	const struct { const char *name, *value; double *out; } t[] = {
		{ "tag_threshold", cfg->scan.tag_threshold, &p->tag },
		{ "junk_threshold", cfg->scan.junk_threshold, &p->junk },
		{ "quarantine_threshold", cfg->scan.quarantine_threshold, &p->quarantine },
		{ "reject_threshold", cfg->scan.reject_threshold, &p->reject },
	};
	memset(p, 0, sizeof(*p));
	p->enabled = true;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (scan_threshold_parse(t[i].value, t[i].out) < 0) {
			snprintf(error, sizeof(error), "%s = %.40s: not a score or \"off\"", t[i].name,
				 t[i].value);
			*error_r = error;
			return -1;
		}
	}
	p->virus_quarantine = cfg->scan.virus_action == CONFIG_SCAN_VIRUS_QUARANTINE;
	p->on_unscannable = cfg->scan.on_timeout == CONFIG_SCAN_ACCEPT ? SCAN_ACTION_ACCEPT :
			    cfg->scan.on_timeout == CONFIG_SCAN_REJECT ? SCAN_ACTION_REJECT :
			    SCAN_ACTION_TEMPFAIL;
	return 0;
}

static bool reached(double threshold, double score)
{
	return !isnan(threshold) && score >= threshold;
}

enum scan_action scan_policy_action(const struct scan_policy *p, double score)
{
	if (reached(p->reject, score))
		return SCAN_ACTION_REJECT;
	if (reached(p->quarantine, score))
		return SCAN_ACTION_QUARANTINE;
	if (reached(p->junk, score))
		return SCAN_ACTION_JUNK;
	if (reached(p->tag, score))
		return SCAN_ACTION_TAG;
	return SCAN_ACTION_ACCEPT;
}

/* One stored row over p: NAN inherits, INFINITY is "off". */
static void threshold_apply(double stored, double *v)
{
	if (isnan(stored))
		return;
	*v = isinf(stored) ? NAN : stored;
}

static void row_apply(const struct store_scan_policy *row, struct scan_policy *p)
{
	if (row->enabled >= 0)
		p->enabled = row->enabled == 1;
	threshold_apply(row->tag, &p->tag);
	threshold_apply(row->junk, &p->junk);
	threshold_apply(row->quarantine, &p->quarantine);
	threshold_apply(row->reject, &p->reject);
	if (row->virus_quarantine >= 0)
		p->virus_quarantine = row->virus_quarantine == 1;
}

int scan_policy_load(struct store *st, const char *account, struct scan_policy *p,
		     const char **error_r)
{
	struct scan_policy next = *p;
	const char *at = strrchr(account, '@');
	const char *scopes[2] = { at != NULL ? at + 1 : NULL, account };
	for (size_t i = 0; i < 2; i++) {
		if (scopes[i] == NULL || *scopes[i] == '\0')
			continue;
		struct store_scan_policy row;
		int ret = store_scan_policy_get(st, scopes[i], &row, error_r);
		if (ret == STORE_OK)
			row_apply(&row, &next);
		else if (ret != STORE_NOTFOUND && ret != STORE_INVALID)
			return -1;
	}
	*p = next;
	return 0;
}
