/* Flag and keyword changes (IMAP STORE): +FLAGS, -FLAGS and FLAGS over a
 * uid set, optionally guarded by UNCHANGEDSINCE (RFC 7162). Only messages
 * whose flags really change get the new modseq; the mailbox row lock
 * serialises this with appends and expunges of the same mailbox. */
#include "autoconf.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct flags_ctx {
	uint64_t mailbox_id;
	const char *uidset;
	char op[2];
	char flags[8];
	const char *keywords;
	char unchangedsince[24];
	bool guarded;
	struct store_flags_result result;
};

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int flags_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct flags_ctx *ctx = _ctx;
	struct mail_lock l;
	char idbuf[24], modseq[24];
	PGresult *res;
	store_flags_result_free(&ctx->result);
	int ret = mail_lock(st, ctx->mailbox_id, true, &l);
	if (ret != STORE_OK)
		return ret;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l.id);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, l.highestmodseq + 1);
	/* Before the update, which raises the modseqs it changes. */
	if (ctx->guarded) {
		ret = store_exec_prepared(st, STMT_MM_FLAGS_FAILED, &res, idbuf, ctx->uidset,
					  ctx->unchangedsince);
		if (ret != STORE_OK)
			return ret;
		size_t f = (size_t)PQntuples(res);
		ctx->result.failed = f > 0 ? xmalloc(sizeof(uint32_t) * f) : NULL;
		for (size_t i = 0; i < f; i++)
			ctx->result.failed[i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0),
								  NULL, 10);
		ctx->result.failed_count = f;
		PQclear(res);
	}
	ret = store_exec_prepared(st, STMT_MM_FLAGS, &res, idbuf, ctx->uidset, ctx->op,
				  ctx->flags, ctx->keywords, ctx->unchangedsince, modseq);
	if (ret != STORE_OK)
		return ret;
	size_t n = (size_t)PQntuples(res);
	ctx->result.modified = n > 0 ? xmalloc(sizeof(uint32_t) * n) : NULL;
	for (size_t i = 0; i < n; i++)
		ctx->result.modified[i] = (uint32_t)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
	ctx->result.modified_count = n;
	PQclear(res);
	/* UPDATE ... RETURNING has no order of its own. */
	if (n > 1)
		qsort(ctx->result.modified, n, sizeof(uint32_t), cmp_uid);
	ctx->result.modseq = l.highestmodseq;
	if (n == 0)
		return STORE_OK;
	l.highestmodseq++;
	ctx->result.modseq = l.highestmodseq;
	return mail_advance(st, &l);
}

int store_flags_update(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		       size_t set_count, enum store_flag_op op, unsigned flags,
		       const char *const *keywords, size_t keyword_count, uint64_t unchangedsince,
		       struct store_flags_result *result_r, const char **error_r)
{
	struct buf uidset, kw;
	uint32_t min, max;
	struct flags_ctx ctx = { .mailbox_id = mailbox_id };
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
	if (ret != STORE_OK) {
		buf_free(&uidset);
		buf_free(&kw);
		return mail_done(st, ret, error_r);
	}
	ctx.uidset = uidset.data;
	ctx.keywords = kw.data != NULL ? kw.data : "";
	ctx.op[0] = op == STORE_FLAGS_ADD ? '+' : op == STORE_FLAGS_REMOVE ? '-' : '=';
	snprintf(ctx.flags, sizeof(ctx.flags), "%u", flags);
	ctx.guarded = unchangedsince != STORE_NO_UNCHANGEDSINCE;
	snprintf(ctx.unchangedsince, sizeof(ctx.unchangedsince), "%" PRIu64,
		 ctx.guarded ? unchangedsince : (uint64_t)INT64_MAX);
	ret = store_tx(st, flags_tx, &ctx, error_r);
	buf_free(&uidset);
	buf_free(&kw);
	if (ret == STORE_OK)
		*result_r = ctx.result;
	else
		store_flags_result_free(&ctx.result);
	return ret;
}

void store_flags_result_free(struct store_flags_result *result)
{
	free(result->modified);
	free(result->failed);
	result->modified = result->failed = NULL;
	result->modified_count = result->failed_count = 0;
}
