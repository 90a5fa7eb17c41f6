/* The free/busy store (see store-freebusy.h): address resolution for
 * scheduling and the busy-time index of migration 0026. */
#include "autoconf.h"
#include "store-freebusy.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A PostgreSQL array literal of text values: {"a","b"} with " and \ escaped. */
static void text_array(struct buf *b, const char *const *v, size_t n)
{
	buf_append_str(b, "{");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append_str(b, ",");
		buf_append_str(b, "\"");
		for (const char *p = v[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(b, "\\", 1);
			buf_append(b, p, 1);
		}
		buf_append_str(b, "\"");
	}
	buf_append_str(b, "}");
}

int store_fb_resolve(struct store *st, const char *const *addrs, size_t n,
		     struct store_fb_addr *out, const char **error_r)
{
	struct buf arr;
	PGresult *res;
	int ret;

	memset(out, 0, n * sizeof(*out));
	if (n == 0)
		return STORE_OK;
	buf_init(&arr, 0);
	text_array(&arr, addrs, n);
	ret = store_exec_prepared(st, STMT_FB_RESOLVE, &res, arr.data);
	buf_free(&arr);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		uint64_t k = mail_u64(res, i, 0);
		struct store_fb_addr *a;

		if (k < 1 || k > n)
			continue;
		a = &out[k - 1];
		a->kind = (enum store_fb_kind)mail_u64(res, i, 1);
		if (a->kind == STORE_FB_ACCOUNT) {
			a->account_id = mail_u64(res, i, 2);
			snprintf(a->account, sizeof(a->account), "%s", PQgetvalue(res, i, 3));
		}
	}
	PQclear(res);
	return STORE_OK;
}

static int address_rows(struct store *st, enum store_stmt_id id, const char *arg,
			void (*cb)(const char *address, void *ctx), void *ctx,
			const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, id, &res, arg);

	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_fb_group_members(struct store *st, const char *group,
			   void (*cb)(const char *address, void *ctx), void *ctx,
			   const char **error_r)
{
	return address_rows(st, STMT_FB_GROUP_MEMBERS, group, cb, ctx, error_r);
}

int store_fb_self_addresses(struct store *st, const char *account,
			    void (*cb)(const char *address, void *ctx), void *ctx,
			    const char **error_r)
{
	return address_rows(st, STMT_FB_SELF, account, cb, ctx, error_r);
}

static void i64_array(struct buf *b, const int64_t *v, const int *iv, size_t n)
{
	buf_append_str(b, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, i > 0 ? ",%" PRId64 : "%" PRId64, v != NULL ? v[i] : (int64_t)iv[i]);
	buf_append_str(b, "}");
}

int store_fb_index_write(struct store *st, uint64_t object_id, uint64_t coll_id,
			 uint64_t account_id, const struct store_fb_rows *rows,
			 const char **error_r)
{
	char oid[24], cid[24], aid[24], from[24], until[24];
	int ret;

	snprintf(oid, sizeof(oid), "%" PRIu64, object_id);
	snprintf(cid, sizeof(cid), "%" PRIu64, coll_id);
	snprintf(aid, sizeof(aid), "%" PRIu64, account_id);
	snprintf(from, sizeof(from), "%" PRId64, rows->from);
	snprintf(until, sizeof(until), "%" PRId64, rows->until);
	ret = store_exec_prepared(st, STMT_FB_INDEX_CLEAR, NULL, oid);
	if (ret == STORE_OK && rows->n > 0) {
		struct buf s, e, t;

		buf_init(&s, 0);
		buf_init(&e, 0);
		buf_init(&t, 0);
		i64_array(&s, rows->start, NULL, rows->n);
		i64_array(&e, rows->end, NULL, rows->n);
		i64_array(&t, NULL, rows->type, rows->n);
		ret = store_exec_prepared(st, STMT_FB_INDEX_ROWS, NULL, oid, cid, aid, s.data,
					  e.data, t.data);
		buf_free(&s);
		buf_free(&e);
		buf_free(&t);
	}
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_FB_INDEX_META, NULL, oid, cid, aid, from, until,
					  rows->before ? "true" : "false",
					  rows->after ? "true" : "false");
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_FB_PENDING_CLEAR, NULL, oid);
	return mail_done(st, ret, error_r);
}

static void id_array(struct buf *b, const uint64_t *ids, size_t n)
{
	buf_append_str(b, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(b, i > 0 ? ",%" PRIu64 : "%" PRIu64, ids[i]);
	buf_append_str(b, "}");
}

static int obj_rows(struct store *st, PGresult *res, store_fb_obj_cb *cb, void *ctx)
{
	struct buf data;
	int ret = STORE_OK;

	buf_init(&data, 0);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_fb_obj o;

		memset(&o, 0, sizeof(o));
		o.id = mail_u64(res, i, 0);
		o.coll_id = mail_u64(res, i, 1);
		o.account_id = mail_u64(res, i, 2);
		o.account = PQgetvalue(res, i, 3);
		o.uid = PQgetvalue(res, i, 4);
		buf_reset(&data);
		if (mail_unhex(PQgetvalue(res, i, 5), (size_t)PQgetlength(res, i, 5), &data) < 0) {
			ret = store_fail(st, STORE_ERROR, "object %" PRIu64 ": bad bytea", o.id);
			break;
		}
		o.len = data.len;
		buf_append(&data, "", 1);
		o.data = data.data;
		o.tz_xml = PQgetisnull(res, i, 6) ? NULL : PQgetvalue(res, i, 6);
		if (PQnfields(res) > 10) {
			o.win_from = strtoll(PQgetvalue(res, i, 7), NULL, 10);
			o.win_until = strtoll(PQgetvalue(res, i, 8), NULL, 10);
			o.before = PQgetvalue(res, i, 9)[0] == 't';
			o.after = PQgetvalue(res, i, 10)[0] == 't';
		}
		cb(&o, ctx);
	}
	buf_free(&data);
	PQclear(res);
	return ret;
}

int store_fb_pending(struct store *st, const uint64_t *ids, size_t n, uint64_t limit,
		     store_fb_obj_cb *cb, void *ctx, const char **error_r)
{
	PGresult *res;
	int ret;

	if (ids != NULL) {
		struct buf arr;

		buf_init(&arr, 0);
		id_array(&arr, ids, n);
		ret = store_exec_prepared(st, STMT_FB_PENDING, &res, arr.data);
		buf_free(&arr);
	} else {
		char lim[24];

		snprintf(lim, sizeof(lim), "%" PRIu64, limit);
		ret = store_exec_prepared(st, STMT_FB_PENDING_ANY, &res, lim);
	}
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}

int store_fb_pending_count(struct store *st, uint64_t *count_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_FB_PENDING_COUNT, &res);

	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*count_r = mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_fb_mark_all(struct store *st, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_FB_MARK_ALL, NULL), error_r);
}

int store_fb_outside(struct store *st, const uint64_t *ids, size_t n, int64_t start,
		     int64_t end, store_fb_obj_cb *cb, void *ctx, const char **error_r)
{
	struct buf arr;
	char s[24], e[24];
	PGresult *res;
	int ret;

	buf_init(&arr, 0);
	id_array(&arr, ids, n);
	snprintf(s, sizeof(s), "%" PRId64, start);
	snprintf(e, sizeof(e), "%" PRId64, end);
	ret = store_exec_prepared(st, STMT_FB_OUTSIDE, &res, arr.data, s, e);
	buf_free(&arr);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}

int store_fb_busy(struct store *st, const uint64_t *ids, size_t n, int64_t start, int64_t end,
		  const char *except_uid,
		  void (*cb)(uint64_t account_id, int64_t start, int64_t end, int type,
			     uint64_t object_id, void *ctx),
		  void *ctx, const char **error_r)
{
	struct buf arr;
	char s[24], e[24];
	PGresult *res;
	int ret;

	buf_init(&arr, 0);
	id_array(&arr, ids, n);
	snprintf(s, sizeof(s), "%" PRId64, start);
	snprintf(e, sizeof(e), "%" PRId64, end);
	ret = store_exec_prepared(st, STMT_FB_BUSY, &res, arr.data, s, e, except_uid);
	buf_free(&arr);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	/* merged periods: no single object, object_id 0 */
	for (int i = 0; i < PQntuples(res); i++)
		cb(mail_u64(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10),
		   strtoll(PQgetvalue(res, i, 2), NULL, 10), atoi(PQgetvalue(res, i, 3)), 0,
		   ctx);
	PQclear(res);
	return STORE_OK;
}

int store_fb_availability(struct store *st, const uint64_t *ids, size_t n,
			  void (*cb)(uint64_t account_id, const char *xml, void *ctx), void *ctx,
			  const char **error_r)
{
	struct buf arr;
	PGresult *res;
	int ret;

	buf_init(&arr, 0);
	id_array(&arr, ids, n);
	ret = store_exec_prepared(st, STMT_FB_AVAILABILITY, &res, arr.data);
	buf_free(&arr);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(mail_u64(res, i, 0), PQgetvalue(res, i, 1), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_fb_coll_busy(struct store *st, uint64_t account_id, uint64_t coll_id, int64_t start,
		       int64_t end,
		       void (*cb)(uint64_t account_id, int64_t start, int64_t end, int type,
				  uint64_t object_id, void *ctx),
		       void *ctx, const char **error_r)
{
	char a[24], c[24], s[24], e[24];
	PGresult *res;
	int ret;

	snprintf(a, sizeof(a), "%" PRIu64, account_id);
	snprintf(c, sizeof(c), "%" PRIu64, coll_id);
	snprintf(s, sizeof(s), "%" PRId64, start);
	snprintf(e, sizeof(e), "%" PRId64, end);
	ret = store_exec_prepared(st, STMT_FB_COLL_BUSY, &res, a, c, s, e);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(mail_u64(res, i, 0), strtoll(PQgetvalue(res, i, 1), NULL, 10),
		   strtoll(PQgetvalue(res, i, 2), NULL, 10), atoi(PQgetvalue(res, i, 3)),
		   mail_u64(res, i, 4), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_fb_coll_outside(struct store *st, uint64_t account_id, uint64_t coll_id,
			  int64_t start, int64_t end, store_fb_obj_cb *cb, void *ctx,
			  const char **error_r)
{
	char a[24], c[24], s[24], e[24];
	PGresult *res;
	int ret;

	snprintf(a, sizeof(a), "%" PRIu64, account_id);
	snprintf(c, sizeof(c), "%" PRIu64, coll_id);
	snprintf(s, sizeof(s), "%" PRId64, start);
	snprintf(e, sizeof(e), "%" PRId64, end);
	ret = store_exec_prepared(st, STMT_FB_COLL_OUTSIDE, &res, a, c, s, e);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}
