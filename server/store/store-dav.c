/* The WebDAV store: collections, objects, dead properties and the change
 * log behind sync tokens (see store-dav.h). Every write to a collection
 * first locks its row (store_dav_coll_get with lock), bumps its synctoken
 * and logs the resource name with that number, so a sync token is simply
 * (collection id, number) and is valid on every node and after restarts. */
#include "autoconf.h"
#include "store-dav.h"
#include "store-mail-private.h"
#include "store-freebusy.h"
#include "log.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void coll_from_row(const PGresult *res, int row, struct store_dav_coll *c)
{
	memset(c, 0, sizeof(*c));
	c->id = mail_u64(res, row, 0);
	copy_str(c->owner, sizeof(c->owner), PQgetvalue(res, row, 1));
	copy_str(c->home, sizeof(c->home), PQgetvalue(res, row, 2));
	copy_str(c->name, sizeof(c->name), PQgetvalue(res, row, 3));
	copy_str(c->kind, sizeof(c->kind), PQgetvalue(res, row, 4));
	c->synctoken = mail_u64(res, row, 5);
	c->account_id = mail_u64(res, row, 6);
	c->access = PQnfields(res) > 7 ? (int)mail_u64(res, row, 7) : STORE_DAV_OWNER;
}

/* Fill o from row; data decoded when the column is not NULL. -1 on a
 * malformed bytea value. */
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
	o->mtime = PQnfields(res) > 9 ? strtoll(PQgetvalue(res, row, 9), NULL, 10) : 0;
	if (!PQgetisnull(res, row, 8)) {
		struct buf b;
		buf_init(&b, 0);
		if (mail_unhex(PQgetvalue(res, row, 8), (size_t)PQgetlength(res, row, 8), &b) < 0) {
			buf_free(&b);
			return -1;
		}
		buf_append(&b, "", 0);	/* NUL-terminated even when empty */
		o->len = b.len;
		o->data = b.data != NULL ? b.data : xstrdup("");
	}
	return 0;
}

void store_dav_obj_clear(struct store_dav_obj *o)
{
	free(o->data);
	o->data = NULL;
	o->len = 0;
}

int store_dav_coll_get(struct store *st, const char *owner, const char *home, const char *name,
		       bool lock, struct store_dav_coll *coll_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, lock ? STMT_DAV_COLL_GET_LOCK : STMT_DAV_COLL_GET, &res,
				      owner, home, name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no collection %s/%s of %s",
						home, name, owner), error_r);
	}
	coll_from_row(res, 0, coll_r);
	PQclear(res);
	return STORE_OK;
}

int store_dav_coll_list(struct store *st, const char *owner, const char *home,
			void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			const char **error_r)
{
	PGresult *res;
	int ret = home != NULL ?
		store_exec_prepared(st, STMT_DAV_COLL_LIST, &res, owner, home) :
		store_exec_prepared(st, STMT_DAV_COLL_LIST_ALL, &res, owner);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_dav_coll c;
		coll_from_row(res, i, &c);
		cb(&c, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

int store_dav_coll_create(struct store *st, const char *owner, const char *home,
			  const char *name, const char *kind, struct store_dav_coll *coll_r,
			  const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_COLL_CREATE, &res, owner, home, name, kind);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no account %s", owner), error_r);
	return store_dav_coll_get(st, owner, home, name, true, coll_r, error_r);
}

int store_dav_coll_usage(struct store *st, uint64_t coll_id, uint64_t *bytes_r,
			 uint64_t *count_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_COLL_BYTES, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*bytes_r = mail_u64(res, 0, 0);
	*count_r = mail_u64(res, 0, 1);
	PQclear(res);
	return STORE_OK;
}

int store_dav_coll_delete(struct store *st, const struct store_dav_coll *coll,
			  const char **error_r)
{
	uint64_t bytes, count;
	int ret = store_dav_coll_usage(st, coll->id, &bytes, &count, error_r);
	if (ret != STORE_OK)
		return ret;
	char idbuf[24], acct[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(acct, sizeof(acct), "%" PRIu64, coll->account_id);
	/* the descendants of a nested collection go with it */
	PGresult *res;
	ret = store_exec_prepared(st, STMT_DAV_COLL_TREE_BYTES, &res, acct, coll->home, coll->name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	bytes += mail_u64(res, 0, 0);
	PQclear(res);
	ret = store_exec_prepared(st, STMT_DAV_COLL_TREE_DELETE, NULL, acct, coll->home, coll->name);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DAV_COLL_DELETE, NULL, idbuf);
	if (ret == STORE_OK && bytes > 0)
		ret = mail_quota_add(st, coll->account_id, -(int64_t)bytes, 0, false);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DAV_NOTIFY, NULL, idbuf);
	return mail_done(st, ret, error_r);
}

int store_dav_coll_rename(struct store *st, const struct store_dav_coll *coll,
			  const char *name, const char **error_r)
{
	char idbuf[24], acct[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(acct, sizeof(acct), "%" PRIu64, coll->account_id);
	int ret = store_exec_prepared(st, STMT_DAV_COLL_TREE_RENAME, NULL, acct, coll->home,
				      coll->name, name);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DAV_COLL_RENAME, NULL, idbuf, name);
	return mail_done(st, ret, error_r);
}

int store_dav_coll_descendants(struct store *st, const struct store_dav_coll *coll, bool all,
			       void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			       const char **error_r)
{
	char acct[24];
	snprintf(acct, sizeof(acct), "%" PRIu64, coll->account_id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_COLL_DESCENDANTS, &res, acct, coll->home,
				      coll->name, all ? "true" : "false");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_dav_coll c;
		coll_from_row(res, i, &c);
		cb(&c, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

/* Next change number of a locked collection, NOTIFY included. */
static int coll_bump(struct store *st, const struct store_dav_coll *coll, uint64_t *modseq_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	int ret = store_exec_prepared(st, STMT_DAV_COLL_BUMP, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "collection %" PRIu64 " is gone", coll->id);
	}
	*modseq_r = mail_u64(res, 0, 0);
	PQclear(res);
	char note[48];
	snprintf(note, sizeof(note), "%" PRIu64 ":%" PRIu64, coll->id, *modseq_r);
	return store_exec_prepared(st, STMT_DAV_NOTIFY, NULL, note);
}

static int log_change(struct store *st, const struct store_dav_coll *coll, const char *name,
		      bool deleted, uint64_t *modseq_r)
{
	int ret = coll_bump(st, coll, modseq_r);
	if (ret != STORE_OK)
		return ret;
	char idbuf[24], ms[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(ms, sizeof(ms), "%" PRIu64, *modseq_r);
	return store_exec_prepared(st, STMT_DAV_CHANGE, NULL, idbuf, name, ms,
				   deleted ? "true" : "false");
}

int store_dav_change_log(struct store *st, const struct store_dav_coll *coll, const char *name,
			 bool deleted, const char **error_r)
{
	uint64_t modseq;
	return mail_done(st, log_change(st, coll, name, deleted, &modseq), error_r);
}

int store_dav_coll_touch(struct store *st, const struct store_dav_coll *coll,
			 const char **error_r)
{
	uint64_t modseq;
	return mail_done(st, coll_bump(st, coll, &modseq), error_r);
}

int store_dav_obj_get(struct store *st, uint64_t coll_id, const char *name, bool with_data,
		      bool lock, struct store_dav_obj *obj_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, lock ? STMT_DAV_OBJ_GET_LOCK : STMT_DAV_OBJ_GET, &res,
				      idbuf, with_data ? "true" : "false", name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no resource %s", name), error_r);
	}
	ret = obj_from_row(res, 0, obj_r) < 0 ?
		store_fail(st, STORE_ERROR, "malformed data of resource %s", name) : STORE_OK;
	PQclear(res);
	return mail_done(st, ret, error_r);
}

static int obj_rows(struct store *st, PGresult *res,
		    void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx)
{
	int ret = STORE_OK;
	for (int i = 0; i < PQntuples(res) && ret == STORE_OK; i++) {
		struct store_dav_obj o;
		if (obj_from_row(res, i, &o) < 0) {
			ret = store_fail(st, STORE_ERROR, "malformed data of a resource");
			break;
		}
		cb(&o, ctx);
		store_dav_obj_clear(&o);
	}
	PQclear(res);
	return ret;
}

/* A text[] literal of names: each element double-quoted with \ and " escaped. */
static void text_array(struct buf *out, const char *const *names, size_t count)
{
	buf_append_str(out, "{");
	for (size_t i = 0; i < count; i++) {
		buf_append_str(out, i > 0 ? ",\"" : "\"");
		for (const char *p = names[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_append(out, "\\", 1);
			buf_append(out, p, 1);
		}
		buf_append_str(out, "\"");
	}
	buf_append_str(out, "}");
}

int store_dav_obj_list(struct store *st, uint64_t coll_id, const char *const *names,
		       size_t count, bool with_data,
		       void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
		       const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	int ret;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	if (names == NULL) {
		ret = store_exec_prepared(st, STMT_DAV_OBJ_LIST, &res, idbuf,
					  with_data ? "true" : "false");
	} else {
		struct buf arr;
		buf_init(&arr, 0);
		text_array(&arr, names, count);
		ret = store_exec_prepared(st, STMT_DAV_OBJ_NAMES, &res, idbuf,
					  with_data ? "true" : "false", arr.data);
		buf_free(&arr);
	}
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}

int store_dav_obj_range(struct store *st, uint64_t coll_id, const char *comp, int64_t start,
			int64_t end, bool with_data,
			void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
			const char **error_r)
{
	char idbuf[24], sbuf[24], ebuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	snprintf(sbuf, sizeof(sbuf), "%" PRId64, start);
	snprintf(ebuf, sizeof(ebuf), "%" PRId64, end);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_OBJ_RANGE, &res, idbuf,
				      with_data ? "true" : "false", comp,
				      start == STORE_DAV_NO_TIME ? NULL : sbuf,
				      end == STORE_DAV_NO_TIME ? NULL : ebuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}

int store_dav_obj_uid_taken(struct store *st, uint64_t coll_id, const char *uid,
			    const char *except_name, char *name_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_OBJ_BY_UID, &res, idbuf, uid, except_name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "uid is free"), error_r);
	}
	snprintf(name_r, STORE_DAV_NAME_MAX + 1, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

int store_dav_uid_duplicate(struct store *st, uint64_t coll_id, char *uid_r,
			    const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_UID_DUPLICATE, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "every uid is unique"), error_r);
	}
	snprintf(uid_r, 256, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

static void make_etag(const void *data, size_t len, char *etag_r)
{
	unsigned char md[32];
	unsigned int mdlen = sizeof(md);
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		fatal("store: SHA-256 failed");
	static const char hex[] = "0123456789abcdef";
	char *p = etag_r;
	*p++ = '"';
	for (int i = 0; i < 20; i++) {
		*p++ = hex[md[i] >> 4];
		*p++ = hex[md[i] & 15];
	}
	*p++ = '"';
	*p = '\0';
}

static void time_param(char *buf, size_t size, int64_t t, const char **p)
{
	if (t == STORE_DAV_NO_TIME) {
		*p = NULL;
		return;
	}
	snprintf(buf, size, "%" PRId64, t);
	*p = buf;
}

static int obj_insert(struct store *st, const struct store_dav_coll *coll, const char *name,
		      const char *content_type, const void *data, size_t len,
		      const struct store_dav_index *idx, uint64_t modseq, char *etag_r,
		      const char **error_r);

int store_dav_obj_put(struct store *st, const struct store_dav_coll *coll, const char *name,
		      const char *content_type, const void *data, size_t len,
		      const struct store_dav_index *idx, char *etag_r, const char **error_r)
{
	struct store_dav_obj old;
	int64_t old_size = 0;
	int ret = store_dav_obj_get(st, coll->id, name, false, true, &old, error_r);
	if (ret == STORE_OK)
		old_size = (int64_t)old.size;
	else if (ret != STORE_NOTFOUND)
		return ret;
	uint64_t modseq;
	ret = log_change(st, coll, name, false, &modseq);
	if (ret == STORE_OK && (int64_t)len != old_size)
		ret = mail_quota_add(st, coll->account_id, (int64_t)len - old_size, 0, true);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return obj_insert(st, coll, name, content_type, data, len, idx, modseq, etag_r, error_r);
}

int store_dav_bulk_begin(struct store *st, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_DAV_BULK_BEGIN, NULL), error_r);
}

int store_dav_obj_put_bulk(struct store *st, const struct store_dav_coll *coll, const char *name,
			   const char *content_type, const void *data, size_t len,
			   const struct store_dav_index *idx, char *etag_r, uint64_t *old_size_r,
			   const char **error_r)
{
	struct store_dav_obj old;
	*old_size_r = 0;
	int ret = store_dav_obj_get(st, coll->id, name, false, true, &old, error_r);
	if (ret == STORE_OK)
		*old_size_r = old.size;
	else if (ret != STORE_NOTFOUND)
		return ret;
	uint64_t modseq = coll->synctoken + 1;
	char idbuf[24], ms[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(ms, sizeof(ms), "%" PRIu64, modseq);
	ret = store_exec_prepared(st, STMT_DAV_CHANGE, NULL, idbuf, name, ms, "false");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return obj_insert(st, coll, name, content_type, data, len, idx, modseq, etag_r, error_r);
}

int store_dav_bulk_finish(struct store *st, const struct store_dav_coll *coll, int64_t delta_bytes,
			  const char **error_r)
{
	char idbuf[24], ms[48];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(ms, sizeof(ms), "%" PRIu64, coll->synctoken + 1);
	int ret = store_exec_prepared(st, STMT_DAV_COLL_SET_TOKEN, NULL, idbuf, ms);
	if (ret == STORE_OK && delta_bytes != 0)
		ret = mail_quota_add(st, coll->account_id, delta_bytes, 0, true);
	if (ret == STORE_OK) {
		snprintf(ms, sizeof(ms), "%" PRIu64 ":%" PRIu64, coll->id, coll->synctoken + 1);
		ret = store_exec_prepared(st, STMT_DAV_NOTIFY, NULL, ms);
	}
	return mail_done(st, ret, error_r);
}

static int obj_insert(struct store *st, const struct store_dav_coll *coll, const char *name,
		      const char *content_type, const void *data, size_t len,
		      const struct store_dav_index *idx, uint64_t modseq, char *etag_r,
		      const char **error_r)
{
	int ret;
	make_etag(data, len, etag_r);
	struct buf hex;
	buf_init(&hex, 0);
	mail_hex(&hex, data, len);
	char idbuf[24], sizebuf[24], msbuf[24], t[4][24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	snprintf(sizebuf, sizeof(sizebuf), "%zu", len);
	snprintf(msbuf, sizeof(msbuf), "%" PRIu64, modseq);
	const char *params[14] = { idbuf, name, content_type, etag_r, hex.data, sizebuf,
				   idx != NULL ? idx->uid : NULL, idx != NULL ? idx->comp : NULL,
				   NULL, NULL, NULL, NULL,
				   idx != NULL ? idx->summary : NULL, msbuf };
	if (idx != NULL) {
		time_param(t[0], sizeof(t[0]), idx->dtstart, &params[8]);
		time_param(t[1], sizeof(t[1]), idx->dtend, &params[9]);
		time_param(t[2], sizeof(t[2]), idx->rstart, &params[10]);
		time_param(t[3], sizeof(t[3]), idx->rend, &params[11]);
	}
	PGresult *res = NULL;
	ret = store_exec_params(st, STMT_DAV_OBJ_INSERT, params, &res);
	buf_free(&hex);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	uint64_t id = PQntuples(res) > 0 ? mail_u64(res, 0, 0) : 0;
	PQclear(res);
	/* the busy-time index in the same transaction (migration 0026) */
	if (idx != NULL && idx->busy != NULL && id != 0)
		return store_fb_index_write(st, id, coll->id, coll->account_id, idx->busy, error_r);
	return STORE_OK;
}

int store_dav_obj_delete(struct store *st, const struct store_dav_coll *coll, const char *name,
			 const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll->id);
	int ret = store_exec_prepared(st, STMT_DAV_OBJ_DELETE, &res, idbuf, name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no resource %s", name), error_r);
	}
	int64_t size = (int64_t)mail_u64(res, 0, 0);
	PQclear(res);
	uint64_t modseq;
	ret = store_exec_prepared(st, STMT_DAV_PROPS_DROP, NULL, idbuf, name);
	if (ret == STORE_OK)
		ret = log_change(st, coll, name, true, &modseq);
	if (ret == STORE_OK && size > 0)
		ret = mail_quota_add(st, coll->account_id, -size, 0, false);
	return mail_done(st, ret, error_r);
}

int store_dav_changes(struct store *st, uint64_t coll_id, uint64_t since,
		      void (*cb)(const char *name, bool deleted, void *ctx), void *ctx,
		      const char **error_r)
{
	char idbuf[24], sbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	snprintf(sbuf, sizeof(sbuf), "%" PRIu64, since);
	int ret = store_exec_prepared(st, STMT_DAV_CHANGES, &res, idbuf, sbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == 't', ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dav_changes_page(struct store *st, uint64_t coll_id, uint64_t since,
			   const char *after_name, uint64_t limit,
			   void (*cb)(const char *name, bool deleted, uint64_t modseq, void *ctx),
			   void *ctx, const char **error_r)
{
	char idbuf[24], sbuf[24], lbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	snprintf(sbuf, sizeof(sbuf), "%" PRIu64, since);
	snprintf(lbuf, sizeof(lbuf), "%" PRIu64, limit);
	int ret = store_exec_prepared(st, STMT_DAV_CHANGES_PAGE, &res, idbuf, sbuf, after_name,
				      limit > 0 ? lbuf : NULL);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == 't', mail_u64(res, i, 2), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dav_obj_page(struct store *st, uint64_t coll_id, uint64_t since,
		       const char *after_name, uint64_t limit, bool with_data,
		       void (*cb)(const struct store_dav_obj *obj, void *ctx), void *ctx,
		       const char **error_r)
{
	char idbuf[24], sbuf[24], lbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	snprintf(sbuf, sizeof(sbuf), "%" PRIu64, since);
	snprintf(lbuf, sizeof(lbuf), "%" PRIu64, limit);
	int ret = store_exec_prepared(st, STMT_DAV_OBJ_PAGE, &res, idbuf, with_data ? "true" : "false",
				      sbuf, after_name, limit > 0 ? lbuf : NULL);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return mail_done(st, obj_rows(st, res, cb, ctx), error_r);
}

int store_dav_props(struct store *st, uint64_t coll_id, const char *object_name,
		    void (*cb)(const char *ns, const char *name, const char *xml, void *ctx),
		    void *ctx, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_PROPS, &res, idbuf, object_name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dav_prop_set(struct store *st, uint64_t coll_id, const char *object_name,
		       const char *ns, const char *name, const char *xml, const char **error_r)
{
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, coll_id);
	int ret = xml != NULL ?
		store_exec_prepared(st, STMT_DAV_PROP_SET, NULL, idbuf, object_name, ns, name, xml) :
		store_exec_prepared(st, STMT_DAV_PROP_DEL, NULL, idbuf, object_name, ns, name);
	return mail_done(st, ret, error_r);
}

int store_dav_props_copy(struct store *st, uint64_t from_coll, const char *from_name,
			 uint64_t to_coll, const char *to_name, const char **error_r)
{
	char from[24], to[24];
	snprintf(from, sizeof(from), "%" PRIu64, from_coll);
	snprintf(to, sizeof(to), "%" PRIu64, to_coll);
	int ret = store_exec_prepared(st, STMT_DAV_PROPS_DROP, NULL, to, to_name);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_DAV_PROPS_COPY, NULL, from, from_name, to,
					  to_name);
	return mail_done(st, ret, error_r);
}

int store_dav_quota(struct store *st, const char *owner, uint64_t *used_r, int64_t *limit_r,
		    const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_QUOTA, &res, owner);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no account %s", owner), error_r);
	}
	*used_r = mail_u64(res, 0, 1);
	*limit_r = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

/* ---- sharing ---- */

static void id_text(char *buf, size_t size, uint64_t id)
{
	snprintf(buf, size, "%" PRIu64, id);
}

int store_dav_share_access(struct store *st, uint64_t coll_id, const char *user, int *access_r,
			   const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	id_text(idbuf, sizeof(idbuf), coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_SHARE_ACCESS, &res, idbuf, user);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*access_r = PQgetisnull(res, 0, 0) ? STORE_DAV_NONE : (int)mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_dav_shares(struct store *st, uint64_t coll_id,
		     void (*cb)(const char *grantee, const char *access, const char *status,
				void *ctx), void *ctx, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	id_text(idbuf, sizeof(idbuf), coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_SHARES, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_dav_share_set(struct store *st, uint64_t coll_id, const char *grantee,
			const char *access, const char *summary, const char **error_r)
{
	char idbuf[24];
	id_text(idbuf, sizeof(idbuf), coll_id);
	int ret = access != NULL ?
		store_exec_prepared(st, STMT_DAV_SHARE_SET, NULL, idbuf, grantee, access,
				    summary != NULL ? summary : "") :
		store_exec_prepared(st, STMT_DAV_SHARE_DEL, NULL, idbuf, grantee);
	return mail_done(st, ret, error_r);
}

int store_dav_shares_clear(struct store *st, uint64_t coll_id, const char **error_r)
{
	char idbuf[24];
	id_text(idbuf, sizeof(idbuf), coll_id);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_SHARES_CLEAR, NULL, idbuf), error_r);
}

int store_dav_share_reply(struct store *st, uint64_t coll_id, const char *grantee, bool accept,
			  const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	id_text(idbuf, sizeof(idbuf), coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_SHARE_REPLY, &res, idbuf, grantee,
				      accept ? "accepted" : "declined");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no share for %s", grantee),
				 error_r);
	return STORE_OK;
}

int store_dav_shared_colls(struct store *st, const char *user, const char *home,
			   void (*cb)(const struct store_dav_coll *coll, void *ctx), void *ctx,
			   const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_SHARED_COLLS, &res, user, home);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_dav_coll c;
		coll_from_row(res, i, &c);
		cb(&c, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

int store_dav_principal_kind(struct store *st, const char *address, int *kind_r,
			     const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_PRINCIPAL_KIND, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*kind_r = (int)mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_dav_feed_add(struct store *st, uint64_t coll_id, const char *token_sha256_hex,
		       const char **error_r)
{
	char idbuf[24];
	id_text(idbuf, sizeof(idbuf), coll_id);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_FEED_ADD, NULL, idbuf,
						 token_sha256_hex), error_r);
}

int store_dav_feed_use(struct store *st, const char *token_sha256_hex,
		       struct store_dav_coll *coll_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_FEED_USE, &res, token_sha256_hex);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no such feed"), error_r);
	}
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	ret = store_exec_prepared(st, STMT_DAV_COLL_BY_ID, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "feed without collection"),
				 error_r);
	}
	coll_from_row(res, 0, coll_r);
	PQclear(res);
	return STORE_OK;
}

int store_dav_feed_revoke(struct store *st, uint64_t coll_id, const char **error_r)
{
	char idbuf[24];
	id_text(idbuf, sizeof(idbuf), coll_id);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_FEED_REVOKE, NULL, idbuf), error_r);
}

int store_dav_feeds(struct store *st, uint64_t coll_id,
		    void (*cb)(uint64_t id, const char *created, const char *last_used, void *ctx),
		    void *ctx, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	id_text(idbuf, sizeof(idbuf), coll_id);
	int ret = store_exec_prepared(st, STMT_DAV_FEEDS, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(mail_u64(res, i, 0), PQgetvalue(res, i, 1), PQgetvalue(res, i, 2), ctx);
	PQclear(res);
	return STORE_OK;
}

/* ---- locks ---- */

int store_dav_locks(struct store *st, const char *owner, const char *home, const char *path,
		    bool descendants, const char *parent,
		    void (*cb)(const struct store_dav_lock *lock, void *ctx), void *ctx,
		    const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_LOCKS_COVER, &res, owner, home, path,
				      descendants ? "true" : "false",
				      parent != NULL ? parent : "");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++) {
		struct store_dav_lock l = {
			.token = PQgetvalue(res, i, 0),
			.path = PQgetvalue(res, i, 1),
			.depth_infinity = PQgetvalue(res, i, 2)[0] == 't',
			.exclusive = PQgetvalue(res, i, 3)[0] == 't',
			.owner_xml = PQgetvalue(res, i, 4),
			.principal = PQgetvalue(res, i, 5),
			.timeout_s = (int)strtol(PQgetvalue(res, i, 6), NULL, 10),
			.remaining_s = strtoll(PQgetvalue(res, i, 7), NULL, 10),
		};
		cb(&l, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

int store_dav_lock_add(struct store *st, const char *owner, const char *home,
		       const struct store_dav_lock *lock, const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_DAV_LOCKS_EXPIRE, NULL);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	char tbuf[24];
	snprintf(tbuf, sizeof(tbuf), "%d", lock->timeout_s);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_DAV_LOCK_INSERT, &res, lock->token, owner, home,
				  lock->path, lock->depth_infinity ? "true" : "false",
				  lock->exclusive ? "true" : "false", lock->owner_xml,
				  lock->principal, tbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	PQclear(res);
	if (rows == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no account %s", owner), error_r);
	return STORE_OK;
}

int store_dav_lock_refresh(struct store *st, const char *token, int timeout_s,
			   const char **error_r)
{
	char tbuf[24];
	snprintf(tbuf, sizeof(tbuf), "%d", timeout_s);
	return mail_done(st, store_exec_prepared(st, STMT_DAV_LOCK_REFRESH, NULL, token, tbuf),
			 error_r);
}

int store_dav_lock_remove(struct store *st, const char *token, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_DAV_LOCK_DELETE, NULL, token), error_r);
}

int store_dav_locks_drop(struct store *st, const char *owner, const char *home, const char *path,
			 bool descendants, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_DAV_LOCKS_DROP, NULL, owner, home, path,
						 descendants ? "true" : "false"), error_r);
}

int store_dav_principal_search(struct store *st, const char *name, const char *address,
			       const char *cutype, bool anyof, unsigned limit,
			       void (*cb)(const char *address, void *ctx), void *ctx,
			       const char **error_r)
{
	char lbuf[24];
	snprintf(lbuf, sizeof(lbuf), "%u", limit);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_DAV_PRINCIPAL_SEARCH, &res, name, address,
				      anyof ? "true" : "false", lbuf, cutype);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	return STORE_OK;
}
