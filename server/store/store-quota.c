/* Quota roots (store-quota.h): reading an account's usage and limits by
 * address or through one of its mailboxes, changing the limits, and the
 * figures IMAP QUOTA needs besides (admin check, \Deleted bytes). The
 * usage itself is kept by the mail store (mail_quota_add). */
#include "autoconf.h"
#include "store-private.h"
#include "store-quota.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Fill q from row 0 of a STORE_QUOTA_COLUMNS result (or NOTFOUND). */
static int quota_row(struct store *st, PGresult *res, const char *what, struct store_quota *q,
		     const char **error_r)
{
	if (PQntuples(res) == 0) {
		PQclear(res);
		int ret = store_fail(st, STORE_NOTFOUND, "%s does not exist", what);
		*error_r = st->error;
		return ret;
	}
	memset(q, 0, sizeof(*q));
	snprintf(q->owner, sizeof(q->owner), "%s", PQgetvalue(res, 0, 0));
	q->bytes = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
	q->messages = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	q->limit_bytes = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	q->limit_messages = strtoll(PQgetvalue(res, 0, 4), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int store_quota_account(struct store *st, const char *address, struct store_quota *q_r,
			const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUOTA_OF_ACCOUNT, &res, address);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	char what[400];
	snprintf(what, sizeof(what), "account %s", address);
	return quota_row(st, res, what, q_r, error_r);
}

int store_quota_mailbox(struct store *st, uint64_t mailbox_id, struct store_quota *q_r,
			const char **error_r)
{
	char idbuf[24], what[64];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_QUOTA_OF_MAILBOX, &res, idbuf);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	snprintf(what, sizeof(what), "mailbox %" PRIu64, mailbox_id);
	return quota_row(st, res, what, q_r, error_r);
}

int store_quota_set(struct store *st, const char *address, int64_t limit_bytes,
		    int64_t limit_messages, const char **error_r)
{
	char b[24], m[24];
	PGresult *res;
	if (limit_bytes < STORE_QUOTA_KEEP || limit_messages < STORE_QUOTA_KEEP) {
		int ret = store_fail(st, STORE_INVALID, "quota limits cannot be negative");
		*error_r = st->error;
		return ret;
	}
	snprintf(b, sizeof(b), "%" PRId64, limit_bytes);
	snprintf(m, sizeof(m), "%" PRId64, limit_messages);
	int ret = store_exec_prepared(st, STMT_QUOTA_SET_LIMITS, &res, address, b, m);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	int n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		ret = store_fail(st, STORE_NOTFOUND, "account %s does not exist", address);
		*error_r = st->error;
	}
	return ret;
}

int store_quota_is_admin(struct store *st, const char *address, bool *admin_r,
			 const char **error_r)
{
	PGresult *res;
	*admin_r = false;
	int ret = store_exec_prepared(st, STMT_QUOTA_IS_ADMIN, &res, address);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	*admin_r = PQntuples(res) > 0 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return STORE_OK;
}

int store_quota_deleted_bytes(struct store *st, uint64_t mailbox_id, uint64_t *bytes_r,
			      const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_QUOTA_DELETED_BYTES, &res, idbuf);
	if (ret != STORE_OK) {
		*error_r = st->error;
		return ret;
	}
	*bytes_r = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STORE_OK;
}
