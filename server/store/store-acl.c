/* Shared and public folders: name resolution across the three namespaces,
 * ACL rows, the list of mailboxes others share, a reader's subscriptions
 * and his own \Seen (mailbox_user_seen) with the flag changes that keep it
 * apart from the owner's. Rights are computed by the gateway (it knows the
 * directory's groups); this file only reads and writes rows. */
#include "autoconf.h"
#include "store-acl.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void store_acl_box_free(struct store_acl_box *box)
{
	for (size_t i = 0; i < box->acl_count; i++) {
		free(box->acl[i].identifier);
		free(box->acl[i].rights);
	}
	free(box->acl);
	box->acl = NULL;
	box->acl_count = 0;
}

void store_acl_external_name(const struct store_acl_box *box, const char *relname,
			     struct buf *out)
{
	switch (box->ns) {
	case STORE_NS_PERSONAL:
		buf_append_str(out, relname);
		return;
	case STORE_NS_OTHER_USERS:
		buf_printf(out, STORE_NS_OTHER "/%s", box->owner);
		break;
	case STORE_NS_PUBLIC:
		buf_append_str(out, STORE_NS_SHARED);
		break;
	}
	if (relname[0] != '\0')
		buf_printf(out, "/%s", relname);
}

/* Fill box's mailbox fields from a row of STORE_ACL_BOX_COLUMNS (+ the
 * user's subscription at column 11). */
static void box_from_row(const PGresult *res, int row, uint64_t user_id,
			 struct store_acl_box *box)
{
	struct store_mailbox_info *info = &box->info;
	memset(info, 0, sizeof(*info));
	info->id = mail_u64(res, row, 0);
	info->uidvalidity = (uint32_t)mail_u64(res, row, 1);
	info->uidnext = (uint32_t)mail_u64(res, row, 2);
	info->highestmodseq = mail_u64(res, row, 3);
	snprintf(info->special_use, sizeof(info->special_use), "%s", PQgetvalue(res, row, 4));
	info->noselect = PQgetvalue(res, row, 6)[0] == 't';
	snprintf(info->name, sizeof(info->name), "%s", PQgetvalue(res, row, 7));
	snprintf(box->name, sizeof(box->name), "%s", info->name);
	snprintf(box->owner, sizeof(box->owner), "%s", PQgetvalue(res, row, 8));
	box->ns = strcmp(PQgetvalue(res, row, 9), "public") == 0 ? STORE_NS_PUBLIC :
		  STORE_NS_OTHER_USERS;
	box->owner_id = mail_u64(res, row, 10);
	box->user_id = user_id;
	box->own = user_id != 0 && box->owner_id == user_id;
	bool owner_sub = PQgetvalue(res, row, 5)[0] == 't';
	box->subscribed = box->own ? owner_sub : PQgetvalue(res, row, 11)[0] == 't';
	info->subscribed = box->subscribed;
	box->exists = true;
}

/* Append one ACL entry to box. */
static void box_add_entry(struct store_acl_box *box, const char *identifier, const char *rights)
{
	box->acl = xrealloc(box->acl, (box->acl_count + 1) * sizeof(*box->acl));
	box->acl[box->acl_count].identifier = xstrdup(identifier);
	box->acl[box->acl_count].rights = xstrdup(rights);
	box->acl_count++;
}

/* The id and kind of the account with this address; *id_r = 0 if none. */
static int account_lookup(struct store *st, const char *address, uint64_t *id_r, bool *public_r)
{
	PGresult *res;
	*id_r = 0;
	*public_r = false;
	int ret = store_exec_prepared(st, STMT_ACL_ACCOUNT, &res, address);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) > 0) {
		*id_r = mail_u64(res, 0, 0);
		*public_r = strcmp(PQgetvalue(res, 0, 1), "public") == 0;
	}
	PQclear(res);
	return STORE_OK;
}

/* Split name into namespace, owner and owner-relative rest (pointer into
 * name, "" for a namespace root). STORE_INVALID for what names nothing. */
static int split_name(struct store *st, const char *user, const char *name,
		      struct store_acl_box *box, const char **rest_r)
{
	size_t olen = strlen(STORE_NS_OTHER), slen = strlen(STORE_NS_SHARED);
	if (strncmp(name, STORE_NS_OTHER, olen) == 0 && (name[olen] == '\0' || name[olen] == '/')) {
		box->ns = STORE_NS_OTHER_USERS;
		const char *p = name[olen] == '/' ? name + olen + 1 : name + olen;
		const char *slash = strchr(p, '/');
		size_t alen = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (alen >= sizeof(box->owner))
			return store_fail(st, STORE_INVALID, "invalid mailbox name: owner too long");
		memcpy(box->owner, p, alen);
		box->owner[alen] = '\0';
		for (char *c = box->owner; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		*rest_r = slash != NULL ? slash + 1 : p + alen;
		return STORE_OK;
	}
	if (strncmp(name, STORE_NS_SHARED, slen) == 0 && (name[slen] == '\0' || name[slen] == '/')) {
		box->ns = STORE_NS_PUBLIC;
		snprintf(box->owner, sizeof(box->owner), "%s", STORE_PUBLIC_OWNER);
		*rest_r = name[slen] == '/' ? name + slen + 1 : name + slen;
		return STORE_OK;
	}
	if (user == NULL)
		return store_fail(st, STORE_INVALID, "mailbox names start with \"" STORE_NS_SHARED
				  "/\" or \"" STORE_NS_OTHER "/<address>/\"");
	box->ns = STORE_NS_PERSONAL;
	snprintf(box->owner, sizeof(box->owner), "%s", user);
	*rest_r = name;
	return STORE_OK;
}

/* Read the ACL rows of box's mailbox into box. */
static int load_entries(struct store *st, struct store_acl_box *box)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, box->info.id);
	int ret = store_exec_prepared(st, STMT_ACL_ENTRIES, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	for (int i = 0; i < PQntuples(res); i++)
		box_add_entry(box, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
	PQclear(res);
	return STORE_OK;
}

int store_acl_entries(struct store *st, uint64_t mailbox_id, struct store_acl_box *box,
		      const char **error_r)
{
	store_acl_box_free(box);
	box->info.id = mailbox_id;
	return mail_done(st, load_entries(st, box), error_r);
}

int store_acl_lookup(struct store *st, const char *user, const char *name,
		     struct store_acl_box *box, const char **error_r)
{
	const char *rest = "";
	bool pub = false;
	memset(box, 0, sizeof(*box));
	int ret = split_name(st, user, name, box, &rest);
	if (ret == STORE_OK && user != NULL)
		ret = account_lookup(st, user, &box->user_id, &pub);
	if (ret == STORE_OK && box->owner[0] != '\0')
		ret = account_lookup(st, box->owner, &box->owner_id, &pub);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	/* "Other Users/public@/..." is not how public folders are named. */
	if (box->owner_id != 0 && pub != (box->ns == STORE_NS_PUBLIC))
		box->owner_id = 0;
	box->own = box->owner_id != 0 && box->owner_id == box->user_id;
	if (rest[0] == '\0' || box->owner_id == 0)
		return STORE_OK;	/* a namespace root, or nobody's */
	ret = mail_name_normalize(st, rest, box->name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	char acc[24], uid[24];
	PGresult *res;
	snprintf(acc, sizeof(acc), "%" PRIu64, box->owner_id);
	snprintf(uid, sizeof(uid), "%" PRIu64, box->user_id);
	ret = store_exec_prepared(st, STMT_ACL_BOX, &res, acc, box->name, uid);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) > 0) {
		enum store_ns ns = box->ns;
		box_from_row(res, 0, box->user_id, box);
		box->ns = ns;	/* "Other Users/<me>/x" stays as named */
	}
	PQclear(res);
	if (box->exists)
		ret = load_entries(st, box);
	if (ret != STORE_OK)
		store_acl_box_free(box);
	return mail_done(st, ret, error_r);
}

struct modify_ctx {
	uint64_t mailbox_id;
	const char *identifier;
	char mode;
	const char *rights;
};

static int modify_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct modify_ctx *ctx = _ctx;
	char idbuf[24], now[16] = "";
	PGresult *res;
	(void)error_r;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, ctx->mailbox_id);
	/* The mailbox row first, so a concurrent DELETE cannot slip between. */
	int ret = store_exec_prepared(st, STMT_ACL_MBOX_LOCK, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	bool found = PQntuples(res) > 0;
	PQclear(res);
	if (!found)
		return store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64 " does not exist",
				  ctx->mailbox_id);
	ret = store_exec_prepared(st, STMT_ACL_ENTRY_LOCK, &res, idbuf, ctx->identifier);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) > 0)
		snprintf(now, sizeof(now), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	/* Canonical order: the letters of "lrswipkxtea" that end up set. */
	static const char order[] = "lrswipkxtea";
	char out[sizeof(order)];
	size_t n = 0;
	for (const char *o = order; *o != '\0'; o++) {
		bool had = strchr(now, *o) != NULL, named = strchr(ctx->rights, *o) != NULL;
		bool set = ctx->mode == '+' ? had || named : ctx->mode == '-' ? had && !named : named;
		if (set)
			out[n++] = *o;
	}
	out[n] = '\0';
	if (n == 0)
		return store_exec_prepared(st, STMT_ACL_ENTRY_DEL, NULL, idbuf, ctx->identifier);
	return store_exec_prepared(st, STMT_ACL_ENTRY_SET, NULL, idbuf, ctx->identifier, out);
}

int store_acl_modify(struct store *st, uint64_t mailbox_id, const char *identifier, char mode,
		     const char *rights, const char **error_r)
{
	struct modify_ctx ctx = { mailbox_id, identifier, mode, rights };
	size_t len = strlen(identifier);
	if (len == 0 || len > STORE_ACL_IDENTIFIER_MAX || strspn(rights, "lrswipkxtea") !=
	    strlen(rights) || (mode != '=' && mode != '+' && mode != '-'))
		return mail_done(st, store_fail(st, STORE_INVALID, "invalid ACL entry"), error_r);
	return store_tx(st, modify_tx, &ctx, error_r);
}

int store_acl_delete(struct store *st, uint64_t mailbox_id, const char *identifier,
		     const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_ACL_ENTRY_DEL, &res, idbuf, identifier);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	bool found = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!found)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no ACL entry for %s",
						identifier), error_r);
	return STORE_OK;
}

/* Group the rows (one per entry) of a STMT_ACL_SHARED/ALL result into
 * boxes and call cb for each. */
static void boxes_from_rows(PGresult *res, uint64_t user_id,
			    void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx)
{
	struct store_acl_box *box = xcalloc(1, sizeof(*box));
	int rows = PQntuples(res);
	for (int i = 0; i < rows; i++) {
		uint64_t id = mail_u64(res, i, 0);
		if (box->exists && box->info.id != id) {
			cb(box, ctx);
			store_acl_box_free(box);
			memset(box, 0, sizeof(*box));
		}
		if (!box->exists)
			box_from_row(res, i, user_id, box);
		box_add_entry(box, PQgetvalue(res, i, 12), PQgetvalue(res, i, 13));
	}
	if (box->exists)
		cb(box, ctx);
	store_acl_box_free(box);
	free(box);
}

int store_acl_shared_list(struct store *st, const char *user,
			  void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx,
			  const char **error_r)
{
	uint64_t user_id;
	bool pub;
	PGresult *res;
	int ret = account_lookup(st, user, &user_id, &pub);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (user_id == 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "unknown account"), error_r);
	char uid[24];
	snprintf(uid, sizeof(uid), "%" PRIu64, user_id);
	ret = store_exec_prepared(st, STMT_ACL_SHARED, &res, uid, user);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	boxes_from_rows(res, user_id, cb, ctx);
	PQclear(res);
	return STORE_OK;
}

int store_acl_list_all(struct store *st,
		       void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx,
		       const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_ACL_ALL, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	boxes_from_rows(res, 0, cb, ctx);
	PQclear(res);
	return STORE_OK;
}

int store_acl_public_ensure(struct store *st, const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_ACL_PUBLIC_ENSURE, NULL, STORE_PUBLIC_OWNER);
	return mail_done(st, ret, error_r);
}

int store_acl_subscribe(struct store *st, uint64_t user_id, uint64_t mailbox_id, bool on,
			const char **error_r)
{
	char uid[24], idbuf[24];
	snprintf(uid, sizeof(uid), "%" PRIu64, user_id);
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, on ? STMT_ACL_SUBSCRIBE : STMT_ACL_UNSUBSCRIBE, NULL,
				      uid, idbuf);
	if (ret == STORE_INVALID)	/* foreign key: the mailbox went away */
		ret = store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64 " does not exist",
				 mailbox_id);
	return mail_done(st, ret, error_r);
}

int store_acl_seen_get(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
		       struct store_uid_range **ranges_r, size_t *count_r, const char **error_r)
{
	char idbuf[24], rid[24];
	PGresult *res;
	*ranges_r = NULL;
	*count_r = 0;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(rid, sizeof(rid), "%" PRIu64, reader_id);
	int ret = store_exec_prepared(st, STMT_ACL_SEEN_GET, &res, idbuf, rid);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	size_t n = (size_t)PQntuples(res);
	struct store_uid_range *r = n > 0 ? xcalloc(n, sizeof(*r)) : NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = mail_u64(res, (int)i, 0), hi = mail_u64(res, (int)i, 1);
		if (lo < 1 || lo > UINT32_MAX || hi < lo)
			continue;
		r[k].lo = (uint32_t)lo;
		r[k].hi = hi > UINT32_MAX ? UINT32_MAX : (uint32_t)hi;
		k++;
	}
	PQclear(res);
	if (k == 0) {
		free(r);
		r = NULL;
	}
	*ranges_r = r;
	*count_r = k;
	return STORE_OK;
}

int store_acl_unseen_count(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   uint32_t *unseen_r, const char **error_r)
{
	char idbuf[24], rid[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(rid, sizeof(rid), "%" PRIu64, reader_id);
	int ret = store_exec_prepared(st, STMT_ACL_UNSEEN, &res, idbuf, rid);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*unseen_r = (uint32_t)mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

struct pflags_ctx {
	uint64_t mailbox_id;
	uint64_t reader_id;
	const char *uidset;
	char op[2];
	char flags[16];
	char keep[16];		/* flag bits a FLAGS replace leaves alone */
	const char *keywords;
	char unchangedsince[24];
	bool guarded;
	int seen_target;	/* -1: \Seen untouched, 0: clear, 1: set */
	struct store_flags_result result;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* uids from column 0 of res, appended to *v. */
static void append_uids(PGresult *res, uint32_t **v, size_t *n)
{
	size_t rows = (size_t)PQntuples(res);
	if (rows == 0)
		return;
	*v = xrealloc(*v, (*n + rows) * sizeof(**v));
	for (size_t i = 0; i < rows; i++)
		(*v)[(*n)++] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
}

static int pflags_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct pflags_ctx *ctx = _ctx;
	struct mail_lock l;
	char idbuf[24], rid[24], modseq[24];
	PGresult *res;
	(void)error_r;
	store_flags_result_free(&ctx->result);
	int ret = mail_lock(st, ctx->mailbox_id, true, &l);
	if (ret != STORE_OK)
		return ret;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l.id);
	snprintf(rid, sizeof(rid), "%" PRIu64, ctx->reader_id);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, l.highestmodseq + 1);
	if (ctx->guarded) {
		ret = store_exec_prepared(st, STMT_MM_FLAGS_FAILED, &res, idbuf, ctx->uidset,
					  ctx->unchangedsince);
		if (ret != STORE_OK)
			return ret;
		append_uids(res, &ctx->result.failed, &ctx->result.failed_count);
		PQclear(res);
	}
	/* The reader's \Seen, judged before the shared update raises modseqs. */
	uint32_t *seen = NULL;
	size_t seen_n = 0;
	if (ctx->seen_target >= 0) {
		ret = store_exec_prepared(st, STMT_ACL_SEEN_DIFF, &res, idbuf, rid, ctx->uidset,
					  ctx->seen_target ? "true" : "false", ctx->unchangedsince);
		if (ret != STORE_OK)
			return ret;
		append_uids(res, &seen, &seen_n);
		PQclear(res);
	}
	ret = store_exec_prepared(st, STMT_ACL_MM_FLAGS, &res, idbuf, ctx->uidset, ctx->op,
				  ctx->flags, ctx->keywords, ctx->unchangedsince, modseq, ctx->keep);
	if (ret != STORE_OK) {
		free(seen);
		return ret;
	}
	append_uids(res, &ctx->result.modified, &ctx->result.modified_count);
	PQclear(res);
	if (seen_n > 0) {
		struct buf set;
		struct store_uid_range *r = xcalloc(seen_n, sizeof(*r));
		uint32_t min, max;
		for (size_t i = 0; i < seen_n; i++)
			r[i].lo = r[i].hi = seen[i];
		buf_init(&set, 0);
		ret = mail_uidset(st, r, seen_n, &set, &min, &max);
		free(r);
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_ACL_SEEN_SET, NULL, idbuf, rid, set.data,
						  ctx->seen_target ? "true" : "false");
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_ACL_MM_TOUCH, NULL, idbuf, set.data,
						  modseq);
		buf_free(&set);
		if (ret != STORE_OK) {
			free(seen);
			return ret;
		}
		/* Both lists into modified, once each. */
		struct store_flags_result *fr = &ctx->result;
		fr->modified = xrealloc(fr->modified, (fr->modified_count + seen_n) *
					sizeof(*fr->modified));
		memcpy(fr->modified + fr->modified_count, seen, seen_n * sizeof(*seen));
		fr->modified_count += seen_n;
	}
	free(seen);
	struct store_flags_result *fr = &ctx->result;
	if (fr->modified_count > 1) {
		qsort(fr->modified, fr->modified_count, sizeof(uint32_t), cmp_u32);
		size_t k = 1;
		for (size_t i = 1; i < fr->modified_count; i++)
			if (fr->modified[i] != fr->modified[k - 1])
				fr->modified[k++] = fr->modified[i];
		fr->modified_count = k;
	}
	fr->modseq = l.highestmodseq;
	if (fr->modified_count == 0)
		return STORE_OK;
	l.highestmodseq++;
	fr->modseq = l.highestmodseq;
	return mail_advance(st, &l);
}

int store_acl_flags_update(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   const struct store_uid_range *set, size_t set_count,
			   enum store_flag_op op, unsigned flags, unsigned keep,
			   const char *const *keywords, size_t keyword_count,
			   uint64_t unchangedsince, struct store_flags_result *result_r,
			   const char **error_r)
{
	struct buf uidset, kw;
	uint32_t min, max;
	struct pflags_ctx ctx = { .mailbox_id = mailbox_id, .reader_id = reader_id };
	memset(result_r, 0, sizeof(*result_r));
	buf_init(&uidset, 0);
	buf_init(&kw, 0);
	int ret = mail_uidset(st, set, set_count, &uidset, &min, &max);
	if (ret == STORE_OK)
		ret = mail_keywords(st, keywords, keyword_count, &kw);
	if (ret == STORE_OK && (flags & ~(unsigned)STORE_FLAGS_ALL) != 0)
		ret = store_fail(st, STORE_INVALID, "unknown system flag bits");
	if (ret == STORE_OK && unchangedsince != STORE_NO_UNCHANGEDSINCE &&
	    unchangedsince > INT64_MAX)
		ret = store_fail(st, STORE_INVALID, "UNCHANGEDSINCE out of range");
	if (ret == STORE_OK && reader_id == 0)
		ret = store_fail(st, STORE_INVALID, "no reader for a private \\Seen");
	if (ret != STORE_OK) {
		buf_free(&uidset);
		buf_free(&kw);
		return mail_done(st, ret, error_r);
	}
	ctx.uidset = uidset.data;
	ctx.keywords = kw.data != NULL ? kw.data : "";
	ctx.op[0] = op == STORE_FLAGS_ADD ? '+' : op == STORE_FLAGS_REMOVE ? '-' : '=';
	snprintf(ctx.flags, sizeof(ctx.flags), "%u", flags & ~(unsigned)STORE_FLAG_SEEN);
	snprintf(ctx.keep, sizeof(ctx.keep), "%u", (keep | STORE_FLAG_SEEN) & STORE_FLAGS_ALL);
	if (op == STORE_FLAGS_REPLACE && (keep & STORE_FLAG_SEEN))
		ctx.seen_target = -1;
	else if (op == STORE_FLAGS_REPLACE)
		ctx.seen_target = (flags & STORE_FLAG_SEEN) != 0;
	else if (flags & STORE_FLAG_SEEN)
		ctx.seen_target = op == STORE_FLAGS_ADD;
	else
		ctx.seen_target = -1;
	ctx.guarded = unchangedsince != STORE_NO_UNCHANGEDSINCE;
	snprintf(ctx.unchangedsince, sizeof(ctx.unchangedsince), "%" PRIu64,
		 ctx.guarded ? unchangedsince : (uint64_t)INT64_MAX);
	ret = store_tx(st, pflags_tx, &ctx, error_r);
	buf_free(&uidset);
	buf_free(&kw);
	if (ret == STORE_OK)
		*result_r = ctx.result;
	else
		store_flags_result_free(&ctx.result);
	return ret;
}
