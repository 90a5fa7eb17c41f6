/* The scan stage's tables (migration 0022): policy overrides per domain and
 * per account, the quarantine, and delivery into an account's Junk. Every
 * statement is registered in store-stmts-scan.h. */
#include "autoconf.h"
#include "store-scan.h"
#include "store-private.h"
#include "store-mail.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_MAX 320

/* Lower-case target into out; false when empty, too long or not printable
 * ASCII without blanks. */
static bool lower_target(const char *target, char out[TARGET_MAX + 1])
{
	size_t len = strlen(target);
	if (len == 0 || len > TARGET_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)target[i];
		if (c <= 0x20 || c >= 0x7f)
			return false;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	out[len] = '\0';
	return true;
}

static int fail_target(struct store *st, const char *target, const char **error_r)
{
	int ret = store_fail(st, STORE_INVALID, "'%.100s' is not a domain or address", target);
	*error_r = st->error;
	return ret;
}

static int result(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

void store_scan_policy_init(struct store_scan_policy *p)
{
	p->enabled = -1;
	p->tag = p->junk = p->quarantine = p->reject = NAN;
	p->virus_quarantine = -1;
}

static double threshold_col(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NAN;
	const char *v = PQgetvalue(res, row, col);
	if (strcmp(v, "Infinity") == 0)
		return INFINITY;
	return strtod(v, NULL);
}

static void row_to_policy(PGresult *res, int row, struct store_scan_policy *p)
{
	store_scan_policy_init(p);
	snprintf(p->target, sizeof(p->target), "%s", PQgetvalue(res, row, 0));
	if (!PQgetisnull(res, row, 1))
		p->enabled = strcmp(PQgetvalue(res, row, 1), "t") == 0;
	p->tag = threshold_col(res, row, 2);
	p->junk = threshold_col(res, row, 3);
	p->quarantine = threshold_col(res, row, 4);
	p->reject = threshold_col(res, row, 5);
	if (!PQgetisnull(res, row, 6))
		p->virus_quarantine = strcmp(PQgetvalue(res, row, 6), "quarantine") == 0;
}

int store_scan_policy_get(struct store *st, const char *target, struct store_scan_policy *p,
			  const char **error_r)
{
	char t[TARGET_MAX + 1];
	store_scan_policy_init(p);
	if (!lower_target(target, t))
		return fail_target(st, target, error_r);
	snprintf(p->target, sizeof(p->target), "%s", t);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_POLICY_GET, &res, t);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return STORE_NOTFOUND;
	}
	row_to_policy(res, 0, p);
	PQclear(res);
	return STORE_OK;
}

/* A threshold as a float8 parameter: NULL (inherit), "Infinity" (off). */
static const char *threshold_param(double v, char *buf, size_t size)
{
	if (isnan(v))
		return NULL;
	if (isinf(v))
		return v > 0 ? "Infinity" : "-Infinity";
	snprintf(buf, size, "%.6g", v);
	return buf;
}

int store_scan_policy_set(struct store *st, const struct store_scan_policy *p,
			  const char **error_r)
{
	char t[TARGET_MAX + 1];
	if (!lower_target(p->target, t))
		return fail_target(st, p->target, error_r);
	char b[4][32];
	const char *params[7] = {
		t,
		p->enabled < 0 ? NULL : p->enabled ? "true" : "false",
		threshold_param(p->tag, b[0], sizeof(b[0])),
		threshold_param(p->junk, b[1], sizeof(b[1])),
		threshold_param(p->quarantine, b[2], sizeof(b[2])),
		threshold_param(p->reject, b[3], sizeof(b[3])),
		p->virus_quarantine < 0 ? NULL : p->virus_quarantine ? "quarantine" : "reject",
	};
	return result(st, store_exec_params(st, STMT_SCAN_POLICY_SET, params, NULL), error_r);
}

int store_scan_policy_delete(struct store *st, const char *target, const char **error_r)
{
	char t[TARGET_MAX + 1];
	if (!lower_target(target, t))
		return fail_target(st, target, error_r);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_POLICY_DELETE, &res, t);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	bool touched = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!touched)
		return result(st, store_fail(st, STORE_NOTFOUND, "no scan policy for %s", t), error_r);
	return STORE_OK;
}

int store_scan_policy_list(struct store *st,
			   void (*cb)(const struct store_scan_policy *p, void *ctx), void *ctx,
			   const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_POLICY_LIST, &res);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_scan_policy p;
		row_to_policy(res, i, &p);
		cb(&p, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

/* ---- the quarantine ---- */

struct q_add {
	const char *const *accounts;
	size_t naccounts;
	const char *params[9];
	int64_t *ids;
};

static int q_add_tx(struct store *st, void *ctx, const char **error_r)
{
	struct q_add *a = ctx;
	for (size_t i = 0; i < a->naccounts; i++) {
		char t[TARGET_MAX + 1];
		if (!lower_target(a->accounts[i], t))
			return fail_target(st, a->accounts[i], error_r);
		a->params[0] = t;
		PGresult *res;
		int ret = store_exec_params(st, STMT_SCAN_Q_ADD, a->params, &res);
		if (ret != STORE_OK)
			return ret;
		a->ids[i] = (int64_t)mail_u64(res, 0, 0);
		PQclear(res);
	}
	return STORE_OK;
}

/* Text columns must be valid UTF-8 without NUL: keep printable ASCII. */
static char *clean_text(const char *s, size_t max)
{
	size_t n = s != NULL ? strlen(s) : 0;
	if (n > max)
		n = max;
	char *out = xmalloc(n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	out[n] = '\0';
	return out;
}

int store_scan_quarantine_add(struct store *st, const char *const *accounts, size_t naccounts,
			      const char *data, size_t size, const struct store_quarantine_item *meta,
			      int64_t *ids_r, const char **error_r)
{
	struct buf hex;
	buf_init(&hex, 0);
	mail_hex(&hex, data, size);
	char score[32], sz[24];
	snprintf(score, sizeof(score), "%.3f", isfinite(meta->score) ? meta->score : 0.0);
	snprintf(sz, sizeof(sz), "%zu", size);
	char *from = clean_text(meta->envelope_from, 320), *ip = clean_text(meta->client_ip, 64);
	char *reason = clean_text(meta->reason, 512), *tests = clean_text(meta->tests, 2000);
	char *subject = clean_text(meta->subject, 500);
	struct q_add a = {
		.accounts = accounts, .naccounts = naccounts, .ids = ids_r,
		.params = { NULL, from, ip, reason, score, tests, subject, sz, hex.data },
	};
	int ret = store_tx(st, q_add_tx, &a, error_r);
	buf_free(&hex);
	free(from);
	free(ip);
	free(reason);
	free(tests);
	free(subject);
	return ret;
}

static void row_to_item(PGresult *res, int row, struct store_quarantine_item *it)
{
	it->id = (int64_t)mail_u64(res, row, 0);
	it->account = PQgetvalue(res, row, 1);
	it->received = PQgetvalue(res, row, 2);
	it->envelope_from = PQgetvalue(res, row, 3);
	it->client_ip = PQgetvalue(res, row, 4);
	it->reason = PQgetvalue(res, row, 5);
	it->score = strtod(PQgetvalue(res, row, 6), NULL);
	it->tests = PQgetvalue(res, row, 7);
	it->subject = PQgetvalue(res, row, 8);
	it->size = mail_u64(res, row, 9);
}

int store_scan_quarantine_list(struct store *st, const char *account,
			       void (*cb)(const struct store_quarantine_item *item, void *ctx),
			       void *ctx, const char **error_r)
{
	PGresult *res;
	int ret;
	if (account != NULL) {
		char t[TARGET_MAX + 1];
		if (!lower_target(account, t))
			return fail_target(st, account, error_r);
		ret = store_exec_prepared(st, STMT_SCAN_Q_LIST_ACCOUNT, &res, t);
	} else {
		ret = store_exec_prepared(st, STMT_SCAN_Q_LIST_ALL, &res);
	}
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_quarantine_item it;
		row_to_item(res, i, &it);
		cb(&it, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

int store_scan_quarantine_get(struct store *st, int64_t id,
			      void (*cb)(const struct store_quarantine_item *item, void *ctx),
			      void *ctx, struct buf *raw, const char **error_r)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_Q_GET, &res, idbuf);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return result(st, store_fail(st, STORE_NOTFOUND, "no quarantined message %s", idbuf),
			      error_r);
	}
	struct store_quarantine_item it;
	row_to_item(res, 0, &it);
	if (cb != NULL)
		cb(&it, ctx);
	if (raw != NULL && mail_unhex(PQgetvalue(res, 0, 10), (size_t)PQgetlength(res, 0, 10), raw) < 0)
		ret = store_fail(st, STORE_ERROR, "quarantined message %s: bad content", idbuf);
	PQclear(res);
	return result(st, ret, error_r);
}

int store_scan_quarantine_delete(struct store *st, int64_t id, const char **error_r)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_Q_DELETE, &res, idbuf);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	bool touched = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!touched)
		return result(st, store_fail(st, STORE_NOTFOUND, "no quarantined message %s", idbuf),
			      error_r);
	return STORE_OK;
}

int store_scan_quarantine_expire(struct store *st, uint64_t max_age_s, uint64_t *n_r,
				 const char **error_r)
{
	*n_r = 0;
	if (max_age_s == 0)
		return STORE_OK;
	char age[24];
	snprintf(age, sizeof(age), "%" PRIu64, max_age_s);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCAN_Q_EXPIRE, &res, age);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	*n_r = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int store_scan_quarantine_release(struct store *st, int64_t id, char *account_r,
				  size_t account_size, uint32_t *uid_r, const char **error_r)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRId64, id);
	PGresult *res;
	/* The claim commits on its own: the delivery is a transaction of its own. */
	int ret = store_exec_prepared(st, STMT_SCAN_Q_CLAIM, &res, idbuf);
	if (ret != STORE_OK)
		return result(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return result(st, store_fail(st, STORE_NOTFOUND,
					     "no quarantined message %s (or it is being released)",
					     idbuf), error_r);
	}
	snprintf(account_r, account_size, "%s", PQgetvalue(res, 0, 0));
	struct buf raw;
	buf_init(&raw, 0);
	if (mail_unhex(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), &raw) < 0) {
		PQclear(res);
		buf_free(&raw);
		store_exec_prepared(st, STMT_SCAN_Q_UNCLAIM, NULL, idbuf);
		return result(st, store_fail(st, STORE_ERROR, "quarantined message %s: bad content",
					     idbuf), error_r);
	}
	PQclear(res);
	struct store_append_msg m = { .data = raw.data != NULL ? raw.data : "", .size = raw.len };
	ret = store_deliver(st, account_r, &m, NULL, uid_r, error_r);
	buf_free(&raw);
	if (ret != STORE_OK) {
		/* keep its error text: the unclaim overwrites st->error */
		static __thread char why[1100];
		snprintf(why, sizeof(why), "%s", *error_r != NULL ? *error_r : st->error);
		store_exec_prepared(st, STMT_SCAN_Q_UNCLAIM, NULL, idbuf);
		*error_r = why;
		return ret;
	}
	ret = store_exec_prepared(st, STMT_SCAN_Q_DELETE, NULL, idbuf);
	return result(st, ret, error_r);
}

/* ---- Junk ---- */

struct junk_find {
	uint64_t id;
	bool found;
};

static void junk_cb(const struct store_mailbox_info *info, void *ctx)
{
	struct junk_find *f = ctx;
	if (!f->found && strcmp(info->special_use, "\\Junk") == 0 && !info->noselect) {
		f->id = info->id;
		f->found = true;
	}
}

int store_scan_deliver_junk(struct store *st, const char *account, const char *data,
			    size_t size, uint32_t *uid_r, const char **error_r)
{
	struct junk_find f = { 0, false };
	int ret = store_mailbox_list(st, account, junk_cb, &f, error_r);
	if (ret == STORE_OK && !f.found) {
		/* provision the defaults (they include Junk), else create it */
		ret = store_mailbox_provision_defaults(st, account, error_r);
		if (ret == STORE_OK)
			ret = store_mailbox_list(st, account, junk_cb, &f, error_r);
		if (ret == STORE_OK && !f.found) {
			ret = store_mailbox_create(st, account, "Junk", "\\Junk", &f.id, error_r);
			if (ret == STORE_EXISTS) {
				/* a "Junk" without the special use: take it */
				struct store_mailbox_info *info = xmalloc(sizeof(*info));
				ret = store_mailbox_open(st, account, "Junk", info, error_r);
				f.id = info->id;
				free(info);
			}
		}
	}
	if (ret != STORE_OK)
		return ret;
	static const char *const junk_kw[] = { "$Junk" };
	struct store_append_msg m = {
		.data = data, .size = size, .keywords = junk_kw, .keyword_count = 1,
	};
	return store_append(st, f.id, &m, 1, NULL, uid_r, error_r);
}
