/* Calendar delegation (migration 0028): who stands for whom. An owner's
 * delegates are accounts or directory groups, each with a mode (read or
 * write); calendar/dav-proxy.c serves them as the CalendarServer
 * calendar-proxy-read/-write principals and calendar/dav.c turns a mode
 * into access to the owner's calendars. See store-dav.h. */
#include "autoconf.h"
#include "store-dav.h"
#include "store-mail-private.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *mode_name(int mode)
{
	return mode == STORE_DAV_PROXY_WRITE ? "write" : "read";
}

int store_dav_proxy_set(struct store *st, const char *owner, const char *delegate, int mode,
			const char **error_r)
{
	if (mode < STORE_DAV_PROXY_NONE || mode > STORE_DAV_PROXY_WRITE)
		return mail_done(st, store_fail(st, STORE_INVALID, "bad proxy mode %d", mode),
				 error_r);
	if (strcasecmp(owner, delegate) == 0)
		return mail_done(st, store_fail(st, STORE_INVALID,
						"an account cannot be its own delegate"), error_r);
	uint64_t owner_id;
	int ret = mail_account_id(st, owner, &owner_id);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%llu", (unsigned long long)owner_id);
	if (mode == STORE_DAV_PROXY_NONE)
		return mail_done(st, store_exec_prepared(st, STMT_DAV_PROXY_DEL, NULL, idbuf,
							 delegate), error_r);
	int kind;
	ret = store_dav_principal_kind(st, delegate, &kind, error_r);
	if (ret != STORE_OK)
		return ret;
	if (kind == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND,
						"no account or group %.320s", delegate), error_r);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_PROXY_SET, NULL, idbuf, delegate,
						 mode_name(mode)), error_r);
}

int store_dav_proxy_mode(struct store *st, const char *owner, const char *delegate,
			 int *mode_r, const char **error_r)
{
	PGresult *res;
	*mode_r = STORE_DAV_PROXY_NONE;
	int ret = store_exec_prepared(st, STMT_DAV_PROXY_MODE, &res, owner, delegate);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*mode_r = (int)mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_dav_proxies(struct store *st, const char *owner, int mode,
		      void (*cb)(const char *delegate, int mode, void *ctx), void *ctx,
		      const char **error_r)
{
	char modebuf[4];
	PGresult *res;
	snprintf(modebuf, sizeof(modebuf), "%d", mode);
	int ret = store_exec_prepared(st, STMT_DAV_PROXIES, &res, owner, modebuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), (int)mail_u64(res, i, 1), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dav_proxy_clear(struct store *st, const char *owner, int mode, const char **error_r)
{
	if (mode != STORE_DAV_PROXY_READ && mode != STORE_DAV_PROXY_WRITE)
		return mail_done(st, store_fail(st, STORE_INVALID, "bad proxy mode %d", mode),
				 error_r);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_PROXY_CLEAR, NULL, owner,
						 mode_name(mode)), error_r);
}

int store_dav_proxy_for(struct store *st, const char *user,
			void (*cb)(const char *owner, int mode, void *ctx), void *ctx,
			const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_PROXY_FOR, &res, user);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), (int)mail_u64(res, i, 1), ctx);
	PQclear(res);
	return STORE_OK;
}
