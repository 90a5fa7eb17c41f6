/* Sieve scripts and delivery state in PostgreSQL (migration 0021). Quota
 * checks and activation run in one transaction under the account row's
 * lock; vacation claims are one INSERT ... ON CONFLICT ... WHERE expired,
 * which PostgreSQL serialises on the row, so nodes never both answer. */
#include "autoconf.h"
#include "store-sieve.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_sieve_list(struct store *st, const char *address,
		     void (*cb)(const char *name, bool active, uint64_t size, void *ctx),
		     void *ctx, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SIEVE_LIST, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int i = 0; i < PQntuples(res); i++)
		cb(PQgetvalue(res, i, 0), PQgetvalue(res, i, 1)[0] == 't', mail_u64(res, i, 2),
		   ctx);
	PQclear(res);
	return STORE_OK;
}

int store_sieve_get(struct store *st, const char *address, const char *name, struct buf *out,
		    bool *active_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SIEVE_GET, &res, address, name);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no script named %s", name),
				 error_r);
	}
	buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
	if (active_r != NULL)
		*active_r = PQgetvalue(res, 0, 1)[0] == 't';
	PQclear(res);
	return STORE_OK;
}

int store_sieve_get_active(struct store *st, const char *address, char **name_r,
			   struct buf *out, const char **error_r)
{
	PGresult *res;
	*name_r = NULL;
	int ret = store_exec_prepared(st, STMT_SIEVE_GET_ACTIVE, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no active script"), error_r);
	}
	*name_r = xstrdup(PQgetvalue(res, 0, 0));
	buf_append(out, PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1));
	PQclear(res);
	return STORE_OK;
}

/* Inside a transaction: lock the account, return its id. */
static int lock_account(struct store *st, const char *address, char id[24])
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SIEVE_ACCOUNT_LOCK, &res, address);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "no account %s", address);
	}
	snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

static int check_space(struct store *st, const char *id, const char *name, uint64_t size,
		       const struct store_sieve_limits *lim)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SIEVE_USAGE, &res, id, name);
	if (ret != STORE_OK)
		return ret;
	uint64_t others = mail_u64(res, 0, 0), bytes = mail_u64(res, 0, 1);
	PQclear(res);
	if (lim->max_scripts > 0 && others + 1 > lim->max_scripts)
		return store_fail(st, STORE_OVERQUOTA, "at most %" PRIu64 " scripts allowed",
				  lim->max_scripts);
	if (lim->max_total_size > 0 && bytes + size > lim->max_total_size)
		return store_fail(st, STORE_OVERQUOTA,
				  "scripts would use %" PRIu64 " octets, %" PRIu64 " allowed",
				  bytes + size, lim->max_total_size);
	return STORE_OK;
}

struct put_ctx {
	const char *address, *name, *content;
	size_t len;
	uint64_t size;
	const struct store_sieve_limits *lim;
	bool store;		/* false: HAVESPACE only */
};

static int put_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct put_ctx *c = _ctx;
	char id[24];
	(void)error_r;
	int ret = lock_account(st, c->address, id);
	if (ret == STORE_OK)
		ret = check_space(st, id, c->name, c->size, c->lim);
	if (ret == STORE_OK && c->store)
		ret = store_exec_prepared(st, STMT_SIEVE_PUT, NULL, id, c->name, c->content);
	return ret;
}

int store_sieve_havespace(struct store *st, const char *address, const char *name,
			  uint64_t size, const struct store_sieve_limits *lim,
			  const char **error_r)
{
	struct put_ctx c = { .address = address, .name = name, .size = size, .lim = lim };
	return mail_done(st, store_tx(st, put_tx, &c, error_r), error_r);
}

int store_sieve_put(struct store *st, const char *address, const char *name,
		    const char *content, size_t len, const struct store_sieve_limits *lim,
		    const char **error_r)
{
	if (memchr(content, '\0', len) != NULL)
		return mail_done(st, store_fail(st, STORE_INVALID, "script contains NUL"), error_r);
	struct put_ctx c = { .address = address, .name = name, .content = content, .len = len,
			     .size = len, .lim = lim, .store = true };
	return mail_done(st, store_tx(st, put_tx, &c, error_r), error_r);
}

struct name_ctx {
	const char *address, *name, *new_name;
};

static int activate_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct name_ctx *c = _ctx;
	char id[24];
	(void)error_r;
	int ret = lock_account(st, c->address, id);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_SIEVE_DEACTIVATE, NULL, id);
	if (ret != STORE_OK || c->name == NULL || c->name[0] == '\0')
		return ret;
	PGresult *res;
	ret = store_exec_prepared(st, STMT_SIEVE_ACTIVATE, &res, id, c->name);
	if (ret != STORE_OK)
		return ret;
	bool found = PQcmdTuples(res)[0] != '0';
	PQclear(res);
	return found ? STORE_OK : store_fail(st, STORE_NOTFOUND, "no script named %s", c->name);
}

int store_sieve_activate(struct store *st, const char *address, const char *name,
			 const char **error_r)
{
	struct name_ctx c = { .address = address, .name = name };
	return mail_done(st, store_tx(st, activate_tx, &c, error_r), error_r);
}

static int delete_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct name_ctx *c = _ctx;
	char id[24];
	(void)error_r;
	int ret = lock_account(st, c->address, id);
	if (ret != STORE_OK)
		return ret;
	PGresult *res;
	ret = store_exec_prepared(st, STMT_SIEVE_EXISTS, &res, id, c->name);
	if (ret != STORE_OK)
		return ret;
	int rows = PQntuples(res);
	bool active = rows > 0 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	if (rows == 0)
		return store_fail(st, STORE_NOTFOUND, "no script named %s", c->name);
	if (active)
		return store_fail(st, STORE_CONFLICT, "script %s is active", c->name);
	return store_exec_prepared(st, STMT_SIEVE_DELETE, NULL, id, c->name);
}

int store_sieve_delete(struct store *st, const char *address, const char *name,
		       const char **error_r)
{
	struct name_ctx c = { .address = address, .name = name };
	return mail_done(st, store_tx(st, delete_tx, &c, error_r), error_r);
}

static int rename_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct name_ctx *c = _ctx;
	char id[24];
	(void)error_r;
	int ret = lock_account(st, c->address, id);
	if (ret != STORE_OK)
		return ret;
	PGresult *res;
	ret = store_exec_prepared(st, STMT_SIEVE_EXISTS, &res, id, c->new_name);
	if (ret != STORE_OK)
		return ret;
	int taken = PQntuples(res);
	PQclear(res);
	if (taken > 0 && strcmp(c->name, c->new_name) != 0)
		return store_fail(st, STORE_EXISTS, "a script named %s exists", c->new_name);
	ret = store_exec_prepared(st, STMT_SIEVE_RENAME, &res, id, c->name, c->new_name);
	if (ret != STORE_OK)
		return ret;
	bool found = PQcmdTuples(res)[0] != '0';
	PQclear(res);
	return found ? STORE_OK : store_fail(st, STORE_NOTFOUND, "no script named %s", c->name);
}

int store_sieve_rename(struct store *st, const char *address, const char *old_name,
		       const char *new_name, const char **error_r)
{
	struct name_ctx c = { .address = address, .name = old_name, .new_name = new_name };
	return mail_done(st, store_tx(st, rename_tx, &c, error_r), error_r);
}

int store_sieve_vacation_claim(struct store *st, const char *address, const char *sender,
			       const char *handle, uint64_t seconds, bool *answer_r,
			       const char **error_r)
{
	char secs[24];
	PGresult *res;
	*answer_r = false;
	snprintf(secs, sizeof(secs), "%" PRIu64, seconds);
	int ret = store_exec_prepared(st, STMT_SIEVE_VACATION, &res, address, sender, handle, secs);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*answer_r = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

int store_sieve_duplicate_check(struct store *st, const char *address, const char *handle,
				const char *value_hash, bool *seen_r, const char **error_r)
{
	PGresult *res;
	*seen_r = false;
	int ret = store_exec_prepared(st, STMT_SIEVE_DUP_CHECK, &res, address, handle, value_hash);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*seen_r = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

int store_sieve_duplicate_record(struct store *st, const char *address, const char *handle,
				 const char *value_hash, uint64_t seconds, const char **error_r)
{
	char secs[24];
	snprintf(secs, sizeof(secs), "%" PRIu64, seconds);
	return mail_done(st, store_exec_prepared(st, STMT_SIEVE_DUP_RECORD, NULL, address, handle,
						 value_hash, secs), error_r);
}

int store_sieve_redirect_count(struct store *st, const char *address, uint64_t cap,
			       bool *allowed_r, const char **error_r)
{
	char c[24];
	PGresult *res;
	*allowed_r = false;
	if (cap == 0)
		return STORE_OK;
	snprintf(c, sizeof(c), "%" PRIu64, cap);
	int ret = store_exec_prepared(st, STMT_SIEVE_REDIRECT_COUNT, &res, address, c);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*allowed_r = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

int store_sieve_expire(struct store *st, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_SIEVE_EXPIRE, NULL), error_r);
}

int store_sieve_vacation_answered(struct store *st, const char *address, const char *sender,
				  const char *handle, bool *answered_r, const char **error_r)
{
	PGresult *res;
	*answered_r = false;
	int ret = store_exec_prepared(st, STMT_SIEVE_VACATION_CHECK, &res, address, sender, handle);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*answered_r = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

/* ---- the delivery transaction ---- */

static int sieve_copy(struct store *st, struct store_sieve_copy *c)
{
	const struct store_append_msg am = { .data = c->data, .size = c->size, .flags = c->flags,
					     .keywords = c->keywords,
					     .keyword_count = c->keyword_count };
	unsigned char sha[32];
	uint64_t blob_id, size;
	store_mail_sha256(c->data, c->size, sha);
	int ret = mail_blob_get(st, &am, sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	return mail_append_locked(st, c->mailbox_id, &am, 1, &blob_id, (int64_t)size, NULL, &c->uid);
}

static int sieve_queue(struct store *st, struct store_sieve_out *o, const char *account)
{
	const char *error;	/* st->error keeps it for the caller */
	o->sent = false;
	if (o->claim_sender != NULL) {
		bool answer = false;
		int ret = store_sieve_vacation_claim(st, account, o->claim_sender, o->claim_handle,
						     o->claim_seconds, &answer, &error);
		if (ret != STORE_OK || !answer)
			return ret;
	}
	if (o->count_redirect) {
		bool allowed = false;
		int ret = store_sieve_redirect_count(st, account, o->redirect_cap, &allowed, &error);
		if (ret != STORE_OK || !allowed)
			return ret;
	}
	const struct store_append_msg am = { .data = o->data, .size = o->size };
	unsigned char sha[32];
	uint64_t blob_id, size;
	store_mail_sha256(o->data, o->size, sha);
	int ret = mail_blob_get_queued(st, &am, sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	char blob[24], sz[24], qid[24];
	snprintf(blob, sizeof(blob), "%" PRIu64, blob_id);
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_QUEUE_MSG_INSERT, &res, blob, o->from, sz, o->dsn_ret,
				  o->dsn_envid, o->body != NULL ? o->body : "8BITMIME",
				  o->smtputf8 ? "true" : "false", o->auth_user, o->client_ip);
	if (ret != STORE_OK)
		return ret;
	snprintf(qid, sizeof(qid), "%" PRIu64, mail_u64(res, 0, 0));
	PQclear(res);
	for (size_t i = 0; i < o->nrcpts && ret == STORE_OK; i++) {
		struct store_deliver_rcpt *r = &o->rcpts[i];
		ret = store_exec_prepared(st, STMT_QUEUE_RCPT_INSERT, NULL, qid, r->address,
					  r->dsn_notify, r->dsn_orcpt);
		r->result = ret;
	}
	o->sent = ret == STORE_OK;
	return ret;
}

/* Everything of target ti (SIZE_MAX: what belongs to no target). */
static int sieve_target(struct store *st, struct store_sieve_txn *t, size_t ti,
			const size_t *order)
{
	const char *account = ti != SIZE_MAX ? t->accounts[ti] : NULL;
	int ret = STORE_OK;
	for (size_t k = 0; k < t->nouts && ret == STORE_OK; k++) {
		if (t->outs[k].target == ti) {
			ret = sieve_queue(st, &t->outs[k], account);
			t->queued = t->queued || t->outs[k].sent;
		}
	}
	for (size_t k = 0; k < t->ncopies && ret == STORE_OK; k++) {
		struct store_sieve_copy *c = &t->copies[order[k]];
		if (c->target != ti || (c->only_if_unsent < t->nouts &&
					t->outs[c->only_if_unsent].sent))
			continue;
		ret = sieve_copy(st, c);
	}
	for (size_t k = 0; k < t->ndups && ret == STORE_OK; k++) {
		struct store_sieve_dup *d = &t->dups[k];
		char secs[24];
		if (d->target != ti || account == NULL)
			continue;
		snprintf(secs, sizeof(secs), "%" PRIu64, d->seconds);
		ret = store_exec_prepared(st, STMT_SIEVE_DUP_RECORD, NULL, account, d->handle, d->id,
					  secs);
	}
	return ret;
}

struct sieve_tx_ctx {
	struct store_sieve_txn *t;
	size_t *order;		/* copies by mailbox id: one lock order for every node */
};

static int sieve_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct sieve_tx_ctx *ctx = _ctx;
	struct store_sieve_txn *t = ctx->t;
	(void)error_r;
	t->queued = false;
	int ret = sieve_target(st, t, SIZE_MAX, ctx->order);
	for (size_t ti = 0; ti < t->ntargets && ret == STORE_OK; ti++) {
		t->results[ti] = STORE_OK;
		if (t->accounts[ti] == NULL)
			continue;
		if (t->partial && (ret = store_exec_trusted(st, "SAVEPOINT sieve_rcpt", NULL)) != STORE_OK)
			return ret;
		ret = sieve_target(st, t, ti, ctx->order);
		if (t->partial && (ret == STORE_OVERQUOTA || ret == STORE_NOTFOUND ||
				   ret == STORE_INVALID)) {
			t->results[ti] = ret;
			ret = store_exec_trusted(st, "ROLLBACK TO SAVEPOINT sieve_rcpt", NULL);
			continue;
		}
		if (ret == STORE_OK && t->partial)
			ret = store_exec_trusted(st, "RELEASE SAVEPOINT sieve_rcpt", NULL);
		t->results[ti] = ret;
	}
	if (ret == STORE_OK && t->after != NULL) {
		/* The accounts with a copy stored, each once. */
		const char **accounts = xcalloc(t->ntargets + 1, sizeof(*accounts));
		size_t n = 0;
		for (size_t ti = 0; ti < t->ntargets; ti++) {
			const char *a = t->accounts[ti];
			bool stored = false, dup = false;
			for (size_t k = 0; k < t->ncopies && a != NULL && !stored; k++) {
				const struct store_sieve_copy *c = &t->copies[k];
				stored = c->target == ti && t->results[ti] == STORE_OK &&
					 (c->only_if_unsent >= t->nouts ||
					  !t->outs[c->only_if_unsent].sent);
			}
			for (size_t j = 0; j < n && stored; j++)
				dup = dup || strcmp(accounts[j], a) == 0;
			if (stored && !dup)
				accounts[n++] = a;
		}
		ret = store_deliver_run_after(st, t->after, t->after_ctx, accounts, n);
		free(accounts);
	}
	return ret;
}

/* The copies in mailbox id order (locks are always taken in that order). */
static size_t *copy_order(const struct store_sieve_txn *t)
{
	size_t *order = xcalloc(t->ncopies + 1, sizeof(size_t));
	for (size_t i = 0; i < t->ncopies; i++) {
		size_t b = i;
		while (b > 0 && t->copies[order[b - 1]].mailbox_id > t->copies[i].mailbox_id) {
			order[b] = order[b - 1];
			b--;
		}
		order[b] = i;
	}
	return order;
}

int store_sieve_deliver(struct store *st, struct store_sieve_txn *t, const char **error_r)
{
	struct sieve_tx_ctx ctx = { t, copy_order(t) };
	int ret = store_tx(st, sieve_tx, &ctx, error_r);
	free(ctx.order);
	return mail_done(st, ret, error_r);
}

int store_sieve_deliver_locked(struct store *st, struct store_sieve_txn *t)
{
	struct sieve_tx_ctx ctx = { t, copy_order(t) };
	const char *error = NULL;
	int ret = sieve_tx(st, &ctx, &error);
	free(ctx.order);
	return ret;
}
