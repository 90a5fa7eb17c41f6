/* The Bayes classifier's SQL: token counts (per account and global, account
 * 0), trained-message bookkeeping, expiry, and the training queue the IMAP
 * triggers of migration 0023 fill. Token lists travel as one bigint[]
 * parameter. */
#include "autoconf.h"
#include "store-bayes.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static void token_array(const int64_t *tokens, size_t n, struct buf *out)
{
	buf_append_str(out, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s%" PRId64, i > 0 ? "," : "", tokens[i]);
	buf_append_str(out, "}");
}

int store_bayes_account(struct store *st, const char *address, uint64_t *id_r,
			const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_BAYES_ACCOUNT, &res, address);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no account %s", address),
				 error_r);
	}
	*id_r = mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_bayes_vars(struct store *st, uint64_t account_id, uint32_t *nspam_r, uint32_t *nham_r,
		     uint32_t *gspam_r, uint32_t *gham_r, const char **error_r)
{
	char ids[48];
	snprintf(ids, sizeof(ids), "{%" PRIu64 ",0}", account_id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_BAYES_VARS, &res, ids);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*nspam_r = *nham_r = *gspam_r = *gham_r = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		uint64_t id = mail_u64(res, i, 0);
		uint32_t s = (uint32_t)mail_u64(res, i, 1), h = (uint32_t)mail_u64(res, i, 2);
		if (id == account_id) {
			*nspam_r = s;
			*nham_r = h;
		}
		if (id == STORE_BAYES_GLOBAL) {
			*gspam_r = s;
			*gham_r = h;
		}
	}
	PQclear(res);
	return STORE_OK;
}

int store_bayes_lookup(struct store *st, uint64_t account_id, const int64_t *tokens, size_t n,
		       struct store_bayes_count **counts_r, size_t *count_r, const char **error_r)
{
	*counts_r = NULL;
	*count_r = 0;
	if (n == 0)
		return STORE_OK;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, account_id);
	struct buf arr;
	buf_init(&arr, 0);
	token_array(tokens, n, &arr);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_BAYES_LOOKUP, &res, id, arr.data);
	if (ret == STORE_OK) {
		size_t rows = (size_t)PQntuples(res);
		struct store_bayes_count *c = xcalloc(rows ? rows : 1, sizeof(*c));
		for (size_t i = 0; i < rows; i++) {
			c[i].token = strtoll(PQgetvalue(res, (int)i, 0), NULL, 10);
			c[i].nspam = (uint32_t)mail_u64(res, (int)i, 1);
			c[i].nham = (uint32_t)mail_u64(res, (int)i, 2);
		}
		PQclear(res);
		*counts_r = c;
		*count_r = rows;
		/* seen tokens stay young (expiry is by last use) */
		if (rows > 0)
			ret = store_exec_prepared(st, STMT_BAYES_TOUCH, NULL, id, arr.data);
	}
	buf_free(&arr);
	return mail_done(st, ret, error_r);
}

struct learn_ctx {
	uint64_t account_id, msg_key;
	bool spam;
	const char *tokens;	/* bigint[] text */
	enum store_bayes_learned result;
};

static int learn_tx(struct store *st, void *vctx, const char **error_r)
{
	(void)error_r;
	struct learn_ctx *c = vctx;
	char id[24], key[24];
	snprintf(id, sizeof(id), "%" PRIu64, c->account_id);
	snprintf(key, sizeof(key), "%" PRId64, (int64_t)c->msg_key);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_BAYES_SEEN_GET, &res, id, key);
	if (ret != STORE_OK)
		return ret;
	int dspam = c->spam ? 1 : 0, dham = c->spam ? 0 : 1;
	c->result = STORE_BAYES_LEARNED;
	if (PQntuples(res) > 0) {
		bool was_spam = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
		if (was_spam == c->spam) {
			c->result = STORE_BAYES_ALREADY;
			return STORE_OK;
		}
		c->result = STORE_BAYES_RELEARNED;
		dspam = c->spam ? 1 : -1;
		dham = c->spam ? -1 : 1;
	} else {
		PQclear(res);
	}
	ret = store_exec_prepared(st, STMT_BAYES_SEEN_PUT, NULL, id, key, c->spam ? "t" : "f");
	char ds[8], dh[8];
	snprintf(ds, sizeof(ds), "%d", dspam);
	snprintf(dh, sizeof(dh), "%d", dham);
	const char *dbs[2] = { id, "0" };
	for (int i = 0; i < (c->account_id == STORE_BAYES_GLOBAL ? 1 : 2) && ret == STORE_OK; i++) {
		ret = store_exec_prepared(st, STMT_BAYES_TOKENS_ADD, NULL, dbs[i], c->tokens, ds, dh);
		if (ret == STORE_OK)
			ret = store_exec_prepared(st, STMT_BAYES_VARS_ADD, NULL, dbs[i], ds, dh);
	}
	return ret;
}

int store_bayes_learn(struct store *st, uint64_t account_id, uint64_t msg_key, bool spam,
		      const int64_t *tokens, size_t n, enum store_bayes_learned *result_r,
		      const char **error_r)
{
	struct buf arr;
	buf_init(&arr, 0);
	token_array(tokens, n, &arr);
	struct learn_ctx c = { .account_id = account_id, .msg_key = msg_key, .spam = spam,
			       .tokens = arr.data };
	int ret = store_tx(st, learn_tx, &c, error_r);
	buf_free(&arr);
	*result_r = c.result;
	return ret;
}

int store_bayes_expire(struct store *st, uint64_t account_id, unsigned hapax_days,
		       unsigned token_days, uint64_t *deleted_r, const char **error_r)
{
	char id[24], hd[16], td[16];
	snprintf(id, sizeof(id), "%" PRIu64, account_id);
	snprintf(hd, sizeof(hd), "%u", hapax_days);
	snprintf(td, sizeof(td), "%u", token_days);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_BAYES_EXPIRE, &res, id, hd, td);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*deleted_r = strtoull(PQcmdTuples(res), NULL, 10);
	PQclear(res);
	ret = store_exec_prepared(st, STMT_BAYES_EXPIRE_MARK, NULL, id);
	return mail_done(st, ret, error_r);
}

int store_bayes_expire_due(struct store *st, uint64_t **ids_r, size_t *count_r,
			   const char **error_r)
{
	PGresult *res;
	*ids_r = NULL;
	*count_r = 0;
	int ret = store_exec_prepared(st, STMT_BAYES_EXPIRE_DUE, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	size_t n = (size_t)PQntuples(res);
	uint64_t *ids = xcalloc(n ? n : 1, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = mail_u64(res, (int)i, 0);
	PQclear(res);
	*ids_r = ids;
	*count_r = n;
	return STORE_OK;
}

int store_bayes_queue_take(struct store *st, unsigned max,
			   void (*cb)(uint64_t account_id, bool spam, const char *raw, size_t size,
				      void *ctx),
			   void *ctx, size_t *taken_r, const char **error_r)
{
	char lim[16];
	snprintf(lim, sizeof(lim), "%u", max);
	PGresult *res;
	*taken_r = 0;
	int ret = store_exec_prepared(st, STMT_BAYES_QUEUE_TAKE, &res, lim);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	size_t n = (size_t)PQntuples(res);
	struct item { uint64_t account; bool spam; char blob[24]; } *items =
		xcalloc(n ? n : 1, sizeof(*items));
	for (size_t i = 0; i < n; i++) {
		items[i].account = mail_u64(res, (int)i, 0);
		items[i].spam = PQgetvalue(res, (int)i, 1)[0] == 't';
		snprintf(items[i].blob, sizeof(items[i].blob), "%s", PQgetvalue(res, (int)i, 2));
	}
	PQclear(res);
	*taken_r = n;
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		const char *params[1] = { items[i].blob };
		ret = store_exec_binary(st, STMT_BAYES_BLOB, params, &res);
		if (ret != STORE_OK)
			break;
		if (PQntuples(res) > 0)
			cb(items[i].account, items[i].spam, PQgetvalue(res, 0, 0),
			   (size_t)PQgetlength(res, 0, 0), ctx);
		PQclear(res);
	}
	free(items);
	return mail_done(st, ret, error_r);
}
