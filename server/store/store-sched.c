/* The scheduling store (see store-sched.h). dav_objects and dav_collections
 * are the DAV store's tables (0018); 0025 adds the schedule tag. */
#include "autoconf.h"
#include "store-sched.h"
#include "store-mail-private.h"
#include "store-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int store_sched_uid_find(struct store *st, const char *owner, const char *uid,
			 uint64_t except_coll, const char *except_name, char *coll_r,
			 char *name_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, except_coll);
	int ret = store_exec_prepared(st, STMT_SCHED_UID_FIND, &res, owner, uid, idbuf,
				      except_name != NULL ? except_name : "");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no object with this uid"),
				 error_r);
	}
	snprintf(coll_r, STORE_DAV_NAME_MAX + 1, "%s", PQgetvalue(res, 0, 0));
	snprintf(name_r, STORE_DAV_NAME_MAX + 1, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return STORE_OK;
}

int store_sched_tag_get(struct store *st, uint64_t coll_id, const char *name, char *tag_r,
			const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_SCHED_TAG_GET, &res, idbuf, name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no such object"), error_r);
	}
	snprintf(tag_r, 80, "%s", PQgetisnull(res, 0, 0) ? "" : PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

int store_sched_tag_set(struct store *st, uint64_t coll_id, const char *name, const char *tag,
			const char **error_r)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_SCHED_TAG_SET, NULL, idbuf, name, tag);
	return mail_done(st, ret, error_r);
}

int store_sched_addresses(struct store *st, const char *address,
			  void (*cb)(const char *address, void *ctx), void *ctx,
			  const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCHED_ADDRESSES, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int n = PQntuples(res);
	for (int i = 0; i < n; i++)
		cb(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	if (n == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no such account"), error_r);
	return STORE_OK;
}

int store_sched_account_of(struct store *st, const char *address, char *account_r,
			   const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SCHED_ACCOUNT_OF, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no such account"), error_r);
	}
	snprintf(account_r, 321, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}
