/* The CardDAV store (see store-carddav.h): the shared GAL collection and
 * its rewrite, the sql directory's users and groups for it, and query
 * candidates by searchable text. dav_objects and dav_changes are the DAV
 * store's tables (0018); the rows written here have the same shape, so the
 * DAV core reads, lists and syncs them like any other. */
#include "autoconf.h"
#include "store-carddav.h"
#include "store-mail-private.h"
#include "store-private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void gal_from_row(const PGresult *res, struct store_dav_coll *c)
{
	memset(c, 0, sizeof(*c));
	c->id = mail_u64(res, 0, 0);
	copy_str(c->home, sizeof(c->home), PQgetvalue(res, 0, 1));
	copy_str(c->name, sizeof(c->name), PQgetvalue(res, 0, 2));
	copy_str(c->kind, sizeof(c->kind), PQgetvalue(res, 0, 3));
	c->synctoken = mail_u64(res, 0, 4);
}

int store_carddav_gal_coll(struct store *st, bool create, struct store_dav_coll *coll_r,
			   const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_GAL_GET, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0 && create) {
		PQclear(res);
		ret = store_exec_prepared(st, STMT_CARDDAV_GAL_CREATE, NULL);
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_CARDDAV_GAL_GET, &res);
		if (ret != STORE_OK)
			return mail_done(st, ret, error_r);
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no global address list yet"),
				 error_r);
	}
	gal_from_row(res, coll_r);
	PQclear(res);
	return STORE_OK;
}

int store_carddav_gal_card_of(struct store *st, const char *key,
			      char name_r[STORE_DAV_NAME_MAX + 1], const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_GAL_CARD_OF, &res, key);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no card"), error_r);
	}
	snprintf(name_r, STORE_DAV_NAME_MAX + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

/* A text[] literal: each element double-quoted with \ and " escaped. */
static void text_array(struct buf *out, const char *const *v, size_t count, size_t stride)
{
	buf_append_str(out, "{");
	for (size_t i = 0; i < count; i++) {
		const char *s = *(const char *const *)((const char *)v + i * stride);
		buf_append_str(out, i > 0 ? ",\"" : "\"");
		for (const char *p = s; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(out, "\\", 1);
			buf_append(out, p, 1);
		}
		buf_append_str(out, "\"");
	}
	buf_append_str(out, "}");
}

static int log_change(struct store *st, const char *idbuf, const char *name, const char *ms,
		      bool deleted)
{
	return store_exec_prepared(st, STMT_CARDDAV_CHANGE, NULL, idbuf, name, ms,
				   deleted ? "true" : "false");
}

static int bytes_of(struct store *st, const char *idbuf, int64_t *bytes_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_BYTES, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	*bytes_r = (int64_t)mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

/* Write objs into the locked collection; prune deletes the others;
 * account_id (0: none) is charged for the bytes. */
static int put_many(struct store *st, const struct store_dav_coll *coll,
		    const struct store_carddav_gal_obj *objs, size_t count, bool prune,
		    struct store_carddav_gal_stats *stats_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	char idbuf[24], ms[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_LOCK, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "the address book is gone");
	}
	/* every change of this run carries the next token */
	uint64_t modseq = mail_u64(res, 0, 0) + 1;
	uint64_t account = PQgetisnull(res, 0, 1) ? 0 : mail_u64(res, 0, 1);
	PQclear(res);
	snprintf(ms, sizeof(ms), "%" PRIu64, modseq);
	int64_t before = 0, after = 0;
	if (account != 0 && (ret = bytes_of(st, idbuf, &before)) != STORE_OK)
		return ret;
	struct buf hex;
	buf_init(&hex, 0);
	for (size_t i = 0; i < count && ret == STORE_OK; i++) {
		buf_reset(&hex);
		mail_hex(&hex, objs[i].data, objs[i].len);
		const char *params[6] = { idbuf, objs[i].name, hex.data, objs[i].uid,
					  objs[i].summary, ms };
		ret = store_exec_params(st, STMT_CARDDAV_GAL_PUT, params, &res);
		if (ret != STORE_OK)
			break;
		if (PQntuples(res) == 0) {
			stats_r->unchanged++;
		} else {
			if (PQgetvalue(res, 0, 0)[0] == 't')
				stats_r->added++;
			else
				stats_r->changed++;
			ret = log_change(st, idbuf, objs[i].name, ms, false);
		}
		PQclear(res);
	}
	buf_free(&hex);
	if (ret == STORE_OK && prune) {
		struct buf arr;
		buf_init(&arr, 0);
		/* an empty directory: no objs at all, every entry goes */
		text_array(&arr, count > 0 ? &objs[0].name : NULL, count, sizeof(*objs));
		ret = store_exec_prepared(st, STMT_CARDDAV_GAL_PRUNE, &res, idbuf, arr.data);
		buf_free(&arr);
		if (ret == STORE_OK) {
			for (int i = 0; ret == STORE_OK && i < PQntuples(res); i++) {
				stats_r->removed++;
				ret = log_change(st, idbuf, PQgetvalue(res, i, 0), ms, true);
			}
			PQclear(res);
		}
	}
	if (ret == STORE_OK && account != 0 && (ret = bytes_of(st, idbuf, &after)) == STORE_OK &&
	    after != before)
		ret = mail_quota_add(st, account, after - before, 0, after > before);
	if (ret == STORE_OK && stats_r->added + stats_r->changed + stats_r->removed > 0) {
		ret = store_exec_prepared(st, STMT_CARDDAV_SET_TOKEN, NULL, idbuf, ms);
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_CARDDAV_NOTIFY, NULL, idbuf);
	}
	return ret;
}

int store_carddav_gal_replace(struct store *st, const struct store_dav_coll *coll,
			      const struct store_carddav_gal_obj *objs, size_t count,
			      struct store_carddav_gal_stats *stats_r, const char **error_r)
{
	return mail_done(st, put_many(st, coll, objs, count, true, stats_r), error_r);
}

int store_carddav_put_many(struct store *st, const struct store_dav_coll *coll,
			   const struct store_carddav_gal_obj *objs, size_t count,
			   struct store_carddav_gal_stats *stats_r, const char **error_r)
{
	return mail_done(st, put_many(st, coll, objs, count, false, stats_r), error_r);
}

int store_carddav_dir_accounts(struct store *st,
			       void (*cb)(uint64_t id, const char *address, const char *name,
					  const char *phone, const char *department,
					  const char *title, void *ctx),
			       void *ctx, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_DIR_ACCOUNTS, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(mail_u64(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
		   PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_carddav_dir_groups(struct store *st,
			     void (*cb)(uint64_t id, const char *address, const char *name,
					const char *const *members, void *ctx),
			     void *ctx, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_DIR_GROUPS, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int n = PQntuples(res);
	const char **members = xcalloc((size_t)n + 1, sizeof(char *));
	for (int i = 0; i < n;) {
		uint64_t id = mail_u64(res, i, 0);
		size_t k = 0;
		int j = i;
		for (; j < n && mail_u64(res, j, 0) == id; j++)
			if (!PQgetisnull(res, j, 3))
				members[k++] = PQgetvalue(res, j, 3);
		members[k] = NULL;
		cb(id, PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), members, ctx);
		i = j;
	}
	free(members);
	PQclear(res);
	return STORE_OK;
}

static int obj_from_row(const PGresult *res, int row, struct store_dav_obj *o)
{
	memset(o, 0, sizeof(*o));
	o->id = mail_u64(res, row, 0);
	copy_str(o->name, sizeof(o->name), PQgetvalue(res, row, 1));
	copy_str(o->content_type, sizeof(o->content_type), PQgetvalue(res, row, 2));
	copy_str(o->etag, sizeof(o->etag), PQgetvalue(res, row, 3));
	o->size = mail_u64(res, row, 4);
	o->modseq = mail_u64(res, row, 5);
	copy_str(o->uid, sizeof(o->uid), PQgetvalue(res, row, 6));
	copy_str(o->comp, sizeof(o->comp), PQgetvalue(res, row, 7));
	if (!PQgetisnull(res, row, 8)) {
		struct buf b;
		buf_init(&b, 0);
		if (mail_unhex(PQgetvalue(res, row, 8), (size_t)PQgetlength(res, row, 8), &b) < 0) {
			buf_free(&b);
			return -1;
		}
		buf_append(&b, "", 0);
		o->len = b.len;
		o->data = b.data;
	}
	return 0;
}

int store_carddav_candidates(struct store *st, uint64_t coll_id, const char *const *needles,
			     size_t count, bool with_data,
			     void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
			     const char **error_r)
{
	/* LIKE patterns: %needle% with the needle's %, _ and \ escaped */
	char **pats = xcalloc(count + 1, sizeof(char *));
	for (size_t i = 0; i < count; i++) {
		struct buf p;
		buf_init(&p, 0);
		buf_append(&p, "%", 1);
		for (const char *c = needles[i]; *c != '\0'; c++) {
			if (*c == '%' || *c == '_' || *c == '\\')
				buf_append(&p, "\\", 1);
			buf_append(&p, c, 1);
		}
		buf_append(&p, "%", 1);
		pats[i] = p.data;
	}
	struct buf arr;
	buf_init(&arr, 0);
	text_array(&arr, (const char *const *)pats, count, sizeof(char *));
	for (size_t i = 0; i < count; i++)
		free(pats[i]);
	free(pats);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_CARDDAV_CANDIDATES, &res, idbuf,
				      with_data ? "true" : "false", arr.data);
	buf_free(&arr);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res) && ret == STORE_OK; i++) {
		struct store_dav_obj o;
		if (obj_from_row(res, i, &o) < 0) {
			ret = store_fail(st, STORE_ERROR, "malformed data of a resource");
			break;
		}
		cb(&o, ctx);
		free(o.data);
	}
	PQclear(res);
	return mail_done(st, ret, error_r);
}
