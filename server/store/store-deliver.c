/* Delivery of one received message in one transaction: the blob is found or
 * stored once (SHA-256), then each distinct local INBOX gets its row (in
 * mailbox id order, so concurrent deliveries lock in the same order), then
 * one queue_messages row and a queue_recipients row per remote recipient.
 * Local copies are the final delivery and start with Return-Path: (RFC 5321
 * 4.4); the queued copy must not have it, so a message for local and remote
 * recipients is two blobs. LMTP's per-recipient answers use a savepoint
 * around each mailbox. */
#include "autoconf.h"
#include "store-deliver.h"
#include "store-mail-private.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct deliver_ctx {
	const struct store_deliver_msg *msg;
	struct store_deliver_rcpt *rcpts;
	size_t count;
	bool partial;
	uint64_t *mbox;		/* per recipient: its INBOX id, 0 for remote */
	int *pre;		/* per recipient: result of finding its INBOX */
	size_t *order;		/* local recipients by mailbox id */
	size_t nlocal;
	struct buf local_data;	/* Return-Path: + msg->data, for the INBOX rows */
	unsigned char local_sha[32];
	unsigned char sha[32];	/* of msg->data, for the queue row */
};

static int deliver_local(struct store *st, struct deliver_ctx *ctx)
{
	if (ctx->nlocal == 0)
		return STORE_OK;
	const struct store_append_msg am = { .data = ctx->local_data.data,
					     .size = ctx->local_data.len };
	uint64_t blob_id, size;
	int ret = mail_blob_get(st, &am, ctx->local_sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	size_t prev = SIZE_MAX;
	for (size_t k = 0; k < ctx->nlocal; k++) {
		size_t i = ctx->order[k];
		struct store_deliver_rcpt *r = &ctx->rcpts[i];
		if (ctx->pre[i] != STORE_OK)
			continue;
		if (prev != SIZE_MAX && ctx->mbox[prev] == ctx->mbox[i]) {
			/* The same account twice: one copy. */
			r->result = ctx->rcpts[prev].result;
			r->uid = ctx->rcpts[prev].uid;
			continue;
		}
		prev = i;
		if (ctx->partial) {
			ret = store_exec_trusted(st, "SAVEPOINT deliver_rcpt", NULL);
			if (ret != STORE_OK)
				return ret;
		}
		ret = mail_append_locked(st, ctx->mbox[i], &am, 1, &blob_id, (int64_t)size, NULL,
					 &r->uid);
		if (ret == STORE_OVERQUOTA || ret == STORE_NOTFOUND || ret == STORE_INVALID) {
			if (!ctx->partial)
				return ret;
			r->result = ret;
			r->uid = 0;
			ret = store_exec_trusted(st, "ROLLBACK TO SAVEPOINT deliver_rcpt", NULL);
			if (ret != STORE_OK)
				return ret;
			continue;
		}
		if (ret != STORE_OK)
			return ret;
		if (ctx->partial) {
			ret = store_exec_trusted(st, "RELEASE SAVEPOINT deliver_rcpt", NULL);
			if (ret != STORE_OK)
				return ret;
		}
		r->result = STORE_OK;
	}
	return STORE_OK;
}

static int deliver_remote(struct store *st, struct deliver_ctx *ctx)
{
	const struct store_deliver_msg *m = ctx->msg;
	bool any = false;
	for (size_t i = 0; i < ctx->count; i++)
		any = any || !ctx->rcpts[i].local;
	if (!any)
		return STORE_OK;
	const struct store_append_msg am = { .data = m->data, .size = m->size };
	uint64_t blob_id, size;
	/* No mailbox holds this blob (local copies start with Return-Path:):
	 * no search text or SORT keys for it. */
	int ret = mail_blob_get_queued(st, &am, ctx->sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	char blob[24], sz[24], qid[24];
	snprintf(blob, sizeof(blob), "%" PRIu64, blob_id);
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_QUEUE_MSG_INSERT, &res, blob, m->envelope_from, sz,
				      m->dsn_ret, m->dsn_envid, m->body != NULL ? m->body : "7BIT",
				      m->smtputf8 ? "true" : "false", m->auth_user, m->client_ip);
	if (ret != STORE_OK)
		return ret;
	snprintf(qid, sizeof(qid), "%" PRIu64, mail_u64(res, 0, 0));
	PQclear(res);
	for (size_t i = 0; i < ctx->count && ret == STORE_OK; i++) {
		struct store_deliver_rcpt *r = &ctx->rcpts[i];
		if (r->local)
			continue;
		ret = store_exec_prepared(st, STMT_QUEUE_RCPT_INSERT, NULL, qid, r->address,
					  r->dsn_notify, r->dsn_orcpt);
		r->result = ret;
	}
	return ret;
}

static int deliver_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct deliver_ctx *ctx = _ctx;
	(void)error_r;
	/* store_tx may run this again after a serialization failure. */
	for (size_t i = 0; i < ctx->count; i++) {
		ctx->rcpts[i].result = ctx->pre[i];
		ctx->rcpts[i].uid = 0;
	}
	int ret = deliver_local(st, ctx);
	if (ret == STORE_OK)
		ret = deliver_remote(st, ctx);
	if (ret == STORE_OK && ctx->msg->after != NULL) {
		const char **accounts = xcalloc(ctx->count + 1, sizeof(*accounts));
		size_t n = 0;
		for (size_t k = 0; k < ctx->nlocal; k++) {
			const struct store_deliver_rcpt *r = &ctx->rcpts[ctx->order[k]];
			bool dup = false;
			for (size_t j = 0; j < n; j++)
				dup = dup || strcmp(accounts[j], r->address) == 0;
			if (r->result == STORE_OK && !dup)
				accounts[n++] = r->address;
		}
		ret = store_deliver_run_after(st, ctx->msg->after, ctx->msg->after_ctx, accounts, n);
		free(accounts);
	}
	return ret;
}

int store_deliver_run_after(struct store *st, store_deliver_after_fn *after, void *ctx,
			    const char *const *accounts, size_t n)
{
	if (n == 0)
		return STORE_OK;
	int ret = store_exec_trusted(st, "SAVEPOINT deliver_after", NULL);
	if (ret != STORE_OK)
		return ret;
	int r = after(st, ctx, accounts, n);
	if (r == STORE_OK)
		return store_exec_trusted(st, "RELEASE SAVEPOINT deliver_after", NULL);
	log_warn("deliver event=after-delivery-failed result=\"%s\" reason=\"%s\" "
		 "action=rolled-back-to-savepoint", store_result_str(r),
		 st->error[0] != '\0' ? st->error : "?");
	return store_exec_trusted(st, "ROLLBACK TO SAVEPOINT deliver_after", NULL);
}

/* Find (or create) each local recipient's INBOX before the transaction:
 * provisioning is its own transaction. */
static int find_inboxes(struct store *st, struct deliver_ctx *ctx, const char **error_r)
{
	struct store_mailbox_info *info = xmalloc(sizeof(*info));
	int ret = STORE_OK;
	for (size_t i = 0; i < ctx->count; i++) {
		struct store_deliver_rcpt *r = &ctx->rcpts[i];
		ctx->pre[i] = STORE_OK;
		if (!r->local)
			continue;
		ret = store_mailbox_open(st, r->address, "INBOX", info, error_r);
		if (ret == STORE_NOTFOUND) {
			ret = store_mailbox_provision_defaults(st, r->address, error_r);
			if (ret == STORE_OK)
				ret = store_mailbox_open(st, r->address, "INBOX", info, error_r);
		}
		if (ret == STORE_OK) {
			ctx->mbox[i] = info->id;
			ctx->order[ctx->nlocal++] = i;
			continue;
		}
		if (ret != STORE_NOTFOUND && ret != STORE_INVALID)
			break;		/* TEMPFAIL or ERROR: the whole message waits */
		ctx->pre[i] = ret;
		if (!ctx->partial)
			break;
		ret = STORE_OK;
	}
	free(info);
	return ret;
}

int store_deliver_message(struct store *st, const struct store_deliver_msg *msg,
			  struct store_deliver_rcpt *rcpts, size_t count, bool partial,
			  const char **error_r)
{
	if (count == 0)
		return mail_done(st, store_fail(st, STORE_INVALID, "no recipients"), error_r);
	struct deliver_ctx ctx = {
		.msg = msg, .rcpts = rcpts, .count = count, .partial = partial,
		.mbox = xcalloc(count, sizeof(uint64_t)),
		.pre = xcalloc(count, sizeof(int)),
		.order = xcalloc(count, sizeof(size_t)),
	};
	buf_init(&ctx.local_data, 0);
	int ret = find_inboxes(st, &ctx, error_r);
	if (ret == STORE_OK) {
		/* Stable insertion sort by mailbox id (qsort has no context and
		 * workers run concurrently); recipient lists are short. */
		for (size_t a = 1; a < ctx.nlocal; a++) {
			size_t v = ctx.order[a], b = a;
			while (b > 0 && ctx.mbox[ctx.order[b - 1]] > ctx.mbox[v]) {
				ctx.order[b] = ctx.order[b - 1];
				b--;
			}
			ctx.order[b] = v;
		}
		store_mail_sha256(msg->data, msg->size, ctx.sha);
		if (ctx.nlocal > 0) {
			/* The envelope sender as received, <> for a bounce. */
			buf_printf(&ctx.local_data, "Return-Path: <%s>\r\n",
				   msg->envelope_from != NULL ? msg->envelope_from : "");
			buf_append(&ctx.local_data, msg->data, msg->size);
			store_mail_sha256(ctx.local_data.data, ctx.local_data.len, ctx.local_sha);
		}
		ret = store_tx(st, deliver_tx, &ctx, error_r);
	}
	buf_free(&ctx.local_data);
	free(ctx.mbox);
	free(ctx.pre);
	free(ctx.order);
	return ret;
}
