/* POP3 maildrop locks and the UPDATE-state expunge. The commit reuses the
 * mail store's locked expunge, so quota, modseq, tombstones and NOTIFY are
 * exactly those of an IMAP EXPUNGE. */
#include "autoconf.h"
#include "store-pop3.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static int lock_exec(struct store *st, enum store_stmt_id id, const char *address,
		     const char *holder, uint64_t ttl_ms, const char **error_r)
{
	char ttl[24];
	PGresult *res;
	snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_ms);
	int ret = store_exec_prepared(st, id, &res, address, holder, ttl);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return mail_done(st, store_fail(st, STORE_CONFLICT,
						"maildrop of %s is locked by another POP3 session",
						address), error_r);
	return STORE_OK;
}

int store_pop3_lock(struct store *st, const char *address, const char *holder, uint64_t ttl_ms,
		    uint64_t login_delay_ms, bool *too_soon_r, const char **error_r)
{
	uint64_t id;
	*too_soon_r = false;
	int ret = mail_account_id(st, address, &id);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	char ttl[24], delay[24];
	PGresult *res;
	snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_ms);
	snprintf(delay, sizeof(delay), "%" PRIu64, login_delay_ms);
	ret = store_exec_prepared(st, STMT_POP3_LOCK, &res, address, holder, ttl, delay);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows > 0)
		return STORE_OK;
	/* Refused: a live lock, or only the login delay? */
	ret = store_exec_prepared(st, STMT_POP3_LOCK_BUSY, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	bool busy = PQntuples(res) == 0 || PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	*too_soon_r = !busy;
	return mail_done(st, store_fail(st, STORE_CONFLICT, busy ?
					"maildrop of %s is locked by another POP3 session" :
					"%s logged in less than the login delay ago", address),
			 error_r);
}

int store_pop3_refresh(struct store *st, const char *address, const char *holder,
		       uint64_t ttl_ms, const char **error_r)
{
	return lock_exec(st, STMT_POP3_REFRESH, address, holder, ttl_ms, error_r);
}

int store_pop3_unlock(struct store *st, const char *address, const char *holder,
		      const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_POP3_UNLOCK, NULL, address, holder);
	return mail_done(st, ret, error_r);
}

int store_pop3_fetch_many(struct store *st, uint64_t mailbox_id, const uint32_t *uids,
			  size_t count,
			  void (*cb)(uint32_t uid, const char *data, size_t size, void *ctx),
			  void *ctx, const char **error_r)
{
	char idbuf[24];
	struct buf array;
	buf_init(&array, 0);
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	buf_append_str(&array, "{");
	for (size_t i = 0; i < count; i++)
		buf_printf(&array, "%s%" PRIu32, i > 0 ? "," : "", uids[i]);
	buf_append_str(&array, "}");
	const char *params[2] = { idbuf, array.data };
	PGresult *res;
	/* Binary results: bytea as bytes, uid as a big-endian int8. */
	int ret = store_exec_binary(st, STMT_POP3_RAW_MANY, params, &res);
	buf_free(&array);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		const unsigned char *u = (const unsigned char *)PQgetvalue(res, i, 0);
		uint64_t uid = 0;
		for (int k = 0; k < 8; k++)
			uid = (uid << 8) | u[k];
		cb((uint32_t)uid, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), ctx);
	}
	PQclear(res);
	return STORE_OK;
}

struct commit_ctx {
	const char *address;
	const char *holder;
	uint64_t mailbox_id;
	const char *seen;	/* int8multirange text, NULL: none */
	const char *deleted;	/* likewise */
};

static int commit_tx(struct store *st, void *vctx, const char **error_r)
{
	struct commit_ctx *ctx = vctx;
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_POP3_HELD, &res, ctx->address, ctx->holder);
	if (ret != STORE_OK)
		return ret;
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return store_fail(st, STORE_CONFLICT, "the POP3 maildrop lock of %s was lost",
				  ctx->address);
	if (ctx->seen != NULL || ctx->deleted != NULL) {
		struct mail_lock l;
		ret = mail_lock(st, ctx->mailbox_id, false, &l);
		if (ret != STORE_OK)
			return ret;
		if (ctx->seen != NULL) {
			char idbuf[24], modseq[24];
			snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l.id);
			snprintf(modseq, sizeof(modseq), "%" PRIu64, l.highestmodseq + 1);
			ret = store_exec_prepared(st, STMT_POP3_SEEN, &res, idbuf, ctx->seen, modseq);
			if (ret != STORE_OK)
				return ret;
			rows = PQntuples(res);
			PQclear(res);
			if (rows > 0) {
				l.highestmodseq++;
				ret = mail_advance(st, &l);
				if (ret != STORE_OK)
					return ret;
			}
		}
		if (ctx->deleted != NULL) {
			ret = mail_expunge_locked(st, &l, ctx->deleted, false, true, NULL, NULL);
			if (ret != STORE_OK)
				return ret;
		}
	}
	return store_exec_prepared(st, STMT_POP3_UNLOCK, NULL, ctx->address, ctx->holder);
}

/* uids as int8multirange text in out; false when there are none. */
static int uid_text(struct store *st, const uint32_t *uids, size_t count, struct buf *out,
		    bool *any_r)
{
	*any_r = false;
	if (count == 0)
		return STORE_OK;
	struct store_uid_range *set = xmalloc(count * sizeof(*set));
	for (size_t i = 0; i < count; i++)
		set[i].lo = set[i].hi = uids[i];
	uint32_t min, max;
	int ret = mail_uidset(st, set, count, out, &min, &max);
	free(set);
	*any_r = ret == STORE_OK;
	return ret;
}

int store_pop3_commit(struct store *st, const char *address, const char *holder,
		      uint64_t mailbox_id, const uint32_t *seen, size_t seen_count,
		      const uint32_t *deleted, size_t deleted_count, const char **error_r)
{
	struct buf seen_text, deleted_text;
	buf_init(&seen_text, 0);
	buf_init(&deleted_text, 0);
	struct commit_ctx ctx = { address, holder, mailbox_id, NULL, NULL };
	bool any;
	int ret = uid_text(st, seen, seen_count, &seen_text, &any);
	if (ret == STORE_OK && any)
		ctx.seen = seen_text.data;
	if (ret == STORE_OK)
		ret = uid_text(st, deleted, deleted_count, &deleted_text, &any);
	if (ret == STORE_OK && any)
		ctx.deleted = deleted_text.data;
	if (ret == STORE_OK)
		ret = store_tx(st, commit_tx, &ctx, error_r);
	else
		ret = mail_done(st, ret, error_r);
	buf_free(&seen_text);
	buf_free(&deleted_text);
	return ret;
}
