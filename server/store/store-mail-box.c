/* Mailboxes: create (with missing parents), rename (children too; INBOX
 * moves its messages out), delete (\Noselect when it has children), list,
 * subscriptions, status and \Recent claims, the default set an account is
 * provisioned with and the quota figures (ACLs: store-acl.c). Each change is one
 * transaction; name rules are in mail_name_normalize. */
#include "autoconf.h"
#include "store-mail-private.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const special_uses[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash",
};

static int check_special_use(struct store *st, const char *special_use)
{
	if (special_use == NULL || special_use[0] == '\0')
		return STORE_OK;
	for (size_t i = 0; i < ARRAY_SIZE(special_uses); i++)
		if (str_casecmp(special_use, special_uses[i]) == 0)
			return STORE_OK;
	return store_fail(st, STORE_INVALID, "unknown special-use attribute");
}

static const char *canonical_special_use(const char *special_use)
{
	if (special_use == NULL || special_use[0] == '\0')
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(special_uses); i++)
		if (str_casecmp(special_use, special_uses[i]) == 0)
			return special_uses[i];
	return NULL;
}

/* Fill info from a STMT_MBOX_GET row. */
static void info_from_row(const PGresult *res, int row, const char *name,
			  struct store_mailbox_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = mail_u64(res, row, 0);
	snprintf(info->name, sizeof(info->name), "%s", name);
	info->uidvalidity = (uint32_t)mail_u64(res, row, 1);
	info->uidnext = (uint32_t)mail_u64(res, row, 2);
	info->highestmodseq = mail_u64(res, row, 3);
	snprintf(info->special_use, sizeof(info->special_use), "%s", PQgetvalue(res, row, 4));
	info->subscribed = PQgetvalue(res, row, 5)[0] == 't';
	info->noselect = PQgetvalue(res, row, 6)[0] == 't';
}

/* Tell IMAP NOTIFY sessions (store-notify.c) that account_id's mailbox
 * list or subscriptions changed; in a transaction it is sent on COMMIT. */
static int notify_list(struct store *st, uint64_t account_id)
{
	char payload[32];
	snprintf(payload, sizeof(payload), "a%" PRIu64, account_id);
	return store_exec_prepared(st, STMT_MBOX_NOTIFY, NULL, payload);
}

/* Look name up (locking its row when lock); STORE_NOTFOUND if missing. */
static int mailbox_get(struct store *st, uint64_t account_id, const char *name, bool lock,
		       struct store_mailbox_info *info)
{
	char acc[24];
	PGresult *res;
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	int ret = store_exec_prepared(st, lock ? STMT_MBOX_GET_LOCK : STMT_MBOX_GET, &res, acc,
				      name);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "mailbox %s does not exist", name);
	}
	info_from_row(res, 0, name, info);
	PQclear(res);
	return STORE_OK;
}

/* INSERT ... ON CONFLICT DO NOTHING: *id_r = 0 when it already existed. */
static int mailbox_insert(struct store *st, uint64_t account_id, const char *name,
			  const char *special_use, bool subscribed, uint64_t *id_r)
{
	char acc[24];
	PGresult *res;
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	int ret = store_exec_prepared(st, STMT_MBOX_INSERT, &res, acc, name,
				      canonical_special_use(special_use),
				      subscribed ? "true" : "false");
	if (ret != STORE_OK)
		return ret;
	*id_r = PQntuples(res) > 0 ? mail_u64(res, 0, 0) : 0;
	PQclear(res);
	return STORE_OK;
}

/* Create every missing ancestor of name ("a" and "a/b" for "a/b/c"). */
static int create_parents(struct store *st, uint64_t account_id, const char *name)
{
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	uint64_t id;
	for (const char *p = strchr(name, '/'); p != NULL; p = strchr(p + 1, '/')) {
		size_t len = (size_t)(p - name);
		memcpy(parent, name, len);
		parent[len] = '\0';
		int ret = mailbox_insert(st, account_id, parent, NULL, false, &id);
		if (ret != STORE_OK)
			return ret;
	}
	return STORE_OK;
}

struct create_ctx {
	const char *address;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	const char *special_use;
	uint64_t id;
};

static int create_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct create_ctx *ctx = _ctx;
	uint64_t account_id;
	struct store_mailbox_info info;
	int ret = mail_account_id(st, ctx->address, &account_id);
	if (ret == STORE_OK)
		ret = create_parents(st, account_id, ctx->name);
	if (ret == STORE_OK)
		ret = mailbox_insert(st, account_id, ctx->name, ctx->special_use, false, &ctx->id);
	if (ret == STORE_OK)
		ret = notify_list(st, account_id);
	if (ret != STORE_OK || ctx->id != 0)
		return ret;
	/* It exists: a \Noselect leftover of a delete comes back to life. */
	ret = mailbox_get(st, account_id, ctx->name, true, &info);
	if (ret != STORE_OK)
		return ret;
	if (!info.noselect)
		return store_fail(st, STORE_EXISTS, "mailbox %s already exists", ctx->name);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, info.id);
	ctx->id = info.id;
	return store_exec_prepared(st, STMT_MBOX_REVIVE, NULL, idbuf,
				   canonical_special_use(ctx->special_use));
}

int store_mailbox_create(struct store *st, const char *address, const char *name,
			 const char *special_use, uint64_t *id_r, const char **error_r)
{
	struct create_ctx ctx = { .address = address, .special_use = special_use };
	int ret = mail_name_normalize(st, name, ctx.name);
	if (ret == STORE_OK)
		ret = check_special_use(st, special_use);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	ret = store_tx(st, create_tx, &ctx, error_r);
	if (ret == STORE_OK && id_r != NULL)
		*id_r = ctx.id;
	return ret;
}

struct rename_ctx {
	const char *address;
	char from[STORE_MAILBOX_NAME_MAX + 1];
	char to[STORE_MAILBOX_NAME_MAX + 1];
};

/* RFC 3501 6.3.5: renaming INBOX moves all its messages to a new mailbox
 * and leaves INBOX empty (its children stay where they are). */
static int rename_inbox(struct store *st, uint64_t account_id, struct rename_ctx *ctx)
{
	struct store_mailbox_info inbox;
	struct mail_lock src, dst;
	struct store_copy_result result = { 0 };
	uint64_t id;
	int ret = mailbox_get(st, account_id, "INBOX", false, &inbox);
	if (ret == STORE_OK)
		ret = create_parents(st, account_id, ctx->to);
	if (ret == STORE_OK)
		ret = mailbox_insert(st, account_id, ctx->to, NULL, false, &id);
	if (ret != STORE_OK)
		return ret;
	if (id == 0)
		return store_fail(st, STORE_EXISTS, "mailbox %s already exists", ctx->to);
	/* Lock in id order like every two-mailbox operation; the new one is
	 * ours alone until COMMIT anyway. */
	ret = mail_lock(st, inbox.id, false, &src);
	if (ret == STORE_OK)
		ret = mail_lock(st, id, false, &dst);
	if (ret == STORE_OK)
		ret = mail_copy_locked(st, &src, &dst, "{[1,4294967295]}", true, &result);
	store_copy_result_free(&result);
	return ret;
}

static int rename_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct rename_ctx *ctx = _ctx;
	uint64_t account_id;
	struct store_mailbox_info info;
	int ret = mail_account_id(st, ctx->address, &account_id);
	if (ret == STORE_OK)
		ret = notify_list(st, account_id);
	if (ret != STORE_OK)
		return ret;
	if (strcmp(ctx->from, "INBOX") == 0)
		return rename_inbox(st, account_id, ctx);
	ret = mailbox_get(st, account_id, ctx->from, true, &info);
	if (ret != STORE_OK)
		return ret;
	ret = mailbox_get(st, account_id, ctx->to, false, &info);
	if (ret == STORE_OK)
		return store_fail(st, STORE_EXISTS, "mailbox %s already exists", ctx->to);
	if (ret != STORE_NOTFOUND)
		return ret;
	ret = create_parents(st, account_id, ctx->to);
	if (ret != STORE_OK)
		return ret;
	char acc[24];
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	ret = store_exec_prepared(st, STMT_MBOX_RENAME_TREE, NULL, acc, ctx->from, ctx->to);
	if (ret == STORE_EXISTS)
		ret = store_fail(st, ret, "a mailbox under %s already exists", ctx->to);
	return ret;
}

int store_mailbox_rename(struct store *st, const char *address, const char *from,
			 const char *to, const char **error_r)
{
	struct rename_ctx ctx = { .address = address };
	int ret = mail_name_normalize(st, from, ctx.from);
	if (ret == STORE_OK)
		ret = mail_name_normalize(st, to, ctx.to);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	size_t flen = strlen(ctx.from);
	if (strcmp(ctx.from, ctx.to) == 0 || strcmp(ctx.to, "INBOX") == 0)
		return mail_done(st, store_fail(st, STORE_EXISTS, "mailbox %s already exists",
						ctx.to), error_r);
	if (strncmp(ctx.to, ctx.from, flen) == 0 && ctx.to[flen] == '/')
		return mail_done(st, store_fail(st, STORE_INVALID,
						"cannot rename a mailbox under itself"), error_r);
	return store_tx(st, rename_tx, &ctx, error_r);
}

struct delete_ctx {
	const char *address;
	char name[STORE_MAILBOX_NAME_MAX + 1];
};

static int delete_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct delete_ctx *ctx = _ctx;
	uint64_t account_id;
	struct store_mailbox_info info;
	PGresult *res;
	char acc[24], idbuf[24];
	int ret = mail_account_id(st, ctx->address, &account_id);
	if (ret == STORE_OK)
		ret = mailbox_get(st, account_id, ctx->name, true, &info);
	if (ret == STORE_OK)
		ret = notify_list(st, account_id);
	if (ret != STORE_OK)
		return ret;
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, info.id);
	ret = store_exec_prepared(st, STMT_MBOX_HAS_CHILDREN, &res, acc, ctx->name);
	if (ret != STORE_OK)
		return ret;
	bool children = PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (!children)
		return store_exec_prepared(st, STMT_MBOX_DELETE, NULL, idbuf, acc);
	if (info.noselect)
		return store_fail(st, STORE_INVALID,
				  "mailbox %s has children and is already \\Noselect", ctx->name);
	/* RFC 3501 6.3.4: keep the name for its children, drop the messages. */
	struct mail_lock l;
	ret = store_exec_prepared(st, STMT_MBOX_SET_NOSELECT, NULL, idbuf);
	if (ret == STORE_OK)
		ret = mail_lock(st, info.id, false, &l);
	if (ret == STORE_OK)
		ret = mail_expunge_locked(st, &l, "{[1,4294967295]}", false, true, NULL,
					  NULL);
	return ret;
}

int store_mailbox_delete(struct store *st, const char *address, const char *name,
			 const char **error_r)
{
	struct delete_ctx ctx = { .address = address };
	int ret = mail_name_normalize(st, name, ctx.name);
	if (ret == STORE_OK && strcmp(ctx.name, "INBOX") == 0)
		ret = store_fail(st, STORE_INVALID, "INBOX cannot be deleted");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return store_tx(st, delete_tx, &ctx, error_r);
}

int store_mailbox_list(struct store *st, const char *address,
		       void (*cb)(const struct store_mailbox_info *info, void *ctx), void *ctx,
		       const char **error_r)
{
	uint64_t account_id;
	char acc[24];
	PGresult *res;
	int ret = mail_account_id(st, address, &account_id);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	ret = store_exec_prepared(st, STMT_MBOX_LIST, &res, acc);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	struct store_mailbox_info *info = xmalloc(sizeof(*info));
	for (int i = 0; i < PQntuples(res); i++) {
		memset(info, 0, sizeof(*info));
		info->id = mail_u64(res, i, 0);
		snprintf(info->name, sizeof(info->name), "%s", PQgetvalue(res, i, 1));
		info->uidvalidity = (uint32_t)mail_u64(res, i, 2);
		info->uidnext = (uint32_t)mail_u64(res, i, 3);
		info->highestmodseq = mail_u64(res, i, 4);
		snprintf(info->special_use, sizeof(info->special_use), "%s",
			 PQgetvalue(res, i, 5));
		info->subscribed = PQgetvalue(res, i, 6)[0] == 't';
		info->noselect = PQgetvalue(res, i, 7)[0] == 't';
		info->has_children = PQgetvalue(res, i, 8)[0] == 't';
		cb(info, ctx);
	}
	free(info);
	PQclear(res);
	return STORE_OK;
}

int store_subscriptions_kept(struct store *st, const char *address,
			     void (*cb)(const char *name, void *ctx), void *ctx,
			     const char **error_r)
{
	uint64_t account_id;
	char acc[24];
	PGresult *res;
	int ret = mail_account_id(st, address, &account_id);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	ret = store_exec_prepared(st, STMT_SUB_KEPT_LIST, &res, acc);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), ctx);
	PQclear(res);
	return STORE_OK;
}

int store_mailbox_subscribe(struct store *st, const char *address, const char *name,
			    bool subscribed, const char **error_r)
{
	char norm[STORE_MAILBOX_NAME_MAX + 1], acc[24];
	uint64_t account_id;
	PGresult *res;
	int ret = mail_name_normalize(st, name, norm);
	if (ret == STORE_OK)
		ret = mail_account_id(st, address, &account_id);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	snprintf(acc, sizeof(acc), "%" PRIu64, account_id);
	ret = store_exec_prepared(st, STMT_MBOX_SUBSCRIBE, &res, acc, norm,
				  subscribed ? "true" : "false");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	bool found = strcmp(PQcmdTuples(res), "0") != 0;
	PQclear(res);
	if (!found && !subscribed) {
		/* UNSUBSCRIBE of a deleted mailbox's kept subscription. */
		ret = store_exec_prepared(st, STMT_SUB_KEPT_DELETE, &res, acc, norm);
		if (ret != STORE_OK)
			return mail_done(st, ret, error_r);
		found = strcmp(PQcmdTuples(res), "0") != 0;
		PQclear(res);
	}
	if (!found)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "mailbox %s does not exist",
						norm), error_r);
	/* Not worth a transaction: a lost notification only delays NOTIFY's
	 * SubscriptionChange until the next one (the update is committed). */
	(void)notify_list(st, account_id);
	return STORE_OK;
}

int store_mailbox_open(struct store *st, const char *address, const char *name,
		       struct store_mailbox_info *info_r, const char **error_r)
{
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	uint64_t account_id;
	int ret = mail_name_normalize(st, name, norm);
	if (ret == STORE_OK)
		ret = mail_account_id(st, address, &account_id);
	if (ret == STORE_OK)
		ret = mailbox_get(st, account_id, norm, false, info_r);
	return mail_done(st, ret, error_r);
}

int store_mailbox_status(struct store *st, uint64_t mailbox_id,
			 struct store_mailbox_status *status_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_MBOX_STATUS, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64
						" does not exist", mailbox_id), error_r);
	}
	status_r->uidnext = (uint32_t)mail_u64(res, 0, 0);
	status_r->uidvalidity = (uint32_t)mail_u64(res, 0, 1);
	status_r->highestmodseq = mail_u64(res, 0, 2);
	status_r->messages = (uint32_t)mail_u64(res, 0, 3);
	status_r->recent = (uint32_t)mail_u64(res, 0, 4);
	status_r->unseen = (uint32_t)mail_u64(res, 0, 5);
	status_r->size = mail_u64(res, 0, 6);
	PQclear(res);
	return STORE_OK;
}

int store_mailbox_claim_recent(struct store *st, uint64_t mailbox_id, uint32_t *first_recent_r,
			       uint32_t *uidnext_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_MBOX_CLAIM_RECENT, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64
						" does not exist", mailbox_id), error_r);
	}
	*first_recent_r = (uint32_t)mail_u64(res, 0, 0);
	*uidnext_r = (uint32_t)mail_u64(res, 0, 1);
	PQclear(res);
	return STORE_OK;
}

static const struct {
	const char *name, *special_use;
} default_mailboxes[] = {
	{ "INBOX", NULL }, { "Drafts", "\\Drafts" }, { "Sent", "\\Sent" },
	{ "Trash", "\\Trash" }, { "Junk", "\\Junk" }, { "Archive", "\\Archive" },
};

static int provision_tx(struct store *st, void *ctx, const char **error_r)
{
	uint64_t account_id, id;
	int ret = mail_account_id(st, ctx, &account_id);
	for (size_t i = 0; i < ARRAY_SIZE(default_mailboxes) && ret == STORE_OK; i++)
		ret = mailbox_insert(st, account_id, default_mailboxes[i].name,
				     default_mailboxes[i].special_use, true, &id);
	return ret;
}

int store_mailbox_provision_defaults(struct store *st, const char *address,
				     const char **error_r)
{
	return store_tx(st, provision_tx, (void *)address, error_r);
}

int store_quota_get(struct store *st, const char *address, uint64_t *bytes_r,
		    uint64_t *messages_r, int64_t *limit_bytes_r, int64_t *limit_messages_r,
		    const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUOTA_GET, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "unknown account"), error_r);
	}
	*bytes_r = mail_u64(res, 0, 0);
	*messages_r = mail_u64(res, 0, 1);
	*limit_bytes_r = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	*limit_messages_r = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	return STORE_OK;
}
