/* The outbound queue's SQL: claims under a lease, message loading, outcome
 * transactions (with the DSNs they cause, so a bounce is stored exactly once
 * with the failure it reports), lease recovery after a crash, and the
 * statements behind `cairnctl queue`. */
#include "autoconf.h"
#include "store-queue.h"
#include "store-mail-private.h"
#include "store-sieve.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *col_dup(const PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return NULL;
	return xstrndup(PQgetvalue(res, row, col), (size_t)PQgetlength(res, row, col));
}

/* "1,2,3" of ids into out. */
static void id_list(struct buf *out, const uint64_t *ids, size_t n)
{
	buf_reset(out);
	for (size_t i = 0; i < n; i++)
		buf_printf(out, "%s%" PRIu64, i > 0 ? "," : "", ids[i]);
	if (out->data == NULL)
		buf_append_str(out, "");
}

void store_queue_batch_free(struct store_queue_batch *b)
{
	for (size_t i = 0; i < b->nrcpts; i++) {
		free(b->rcpts[i].address);
		free(b->rcpts[i].domain);
		free(b->rcpts[i].dsn_notify);
		free(b->rcpts[i].dsn_orcpt);
	}
	for (size_t i = 0; i < b->nmsgs; i++) {
		struct store_queue_msg *m = &b->msgs[i];
		free(m->envelope_from);
		free(m->dsn_ret);
		free(m->dsn_envid);
		free(m->body);
		free(m->dkim_signature);
		free(m->data);
	}
	free(b->rcpts);
	free(b->msgs);
	memset(b, 0, sizeof(*b));
}

struct store_queue_msg *store_queue_batch_msg(struct store_queue_batch *b, uint64_t id)
{
	for (size_t i = 0; i < b->nmsgs; i++)
		if (b->msgs[i].id == id)
			return &b->msgs[i];
	return NULL;
}

static int load_messages(struct store *st, struct store_queue_batch *b)
{
	uint64_t *ids = xcalloc(b->nrcpts, sizeof(*ids));
	size_t n = 0;
	for (size_t i = 0; i < b->nrcpts; i++)
		if (n == 0 || ids[n - 1] != b->rcpts[i].message_id)
			ids[n++] = b->rcpts[i].message_id;
	struct buf list;
	buf_init(&list, 0);
	id_list(&list, ids, n);
	free(ids);
	const char *params[1] = { list.data };
	PGresult *res;
	int ret = store_exec_binary(st, STMT_QUEUE_LOAD, params, &res);
	buf_free(&list);
	if (ret != STORE_OK)
		return ret;
	int rows = PQntuples(res);
	b->msgs = xcalloc((size_t)rows + 1, sizeof(*b->msgs));
	for (int r = 0; r < rows; r++) {
		if (PQgetisnull(res, r, 9))
			continue;	/* no blob: cannot happen (foreign key) */
		struct store_queue_msg *m = &b->msgs[b->nmsgs++];
		char *tmp = col_dup(res, r, 0);
		m->id = strtoull(tmp, NULL, 10);
		free(tmp);
		m->envelope_from = col_dup(res, r, 1);
		tmp = col_dup(res, r, 2);
		m->size = strtoull(tmp, NULL, 10);
		free(tmp);
		m->dsn_ret = col_dup(res, r, 3);
		m->dsn_envid = col_dup(res, r, 4);
		m->body = col_dup(res, r, 5);
		tmp = col_dup(res, r, 6);
		m->smtputf8 = tmp != NULL && tmp[0] == 't';
		free(tmp);
		tmp = col_dup(res, r, 7);
		m->created = (time_t)strtoll(tmp, NULL, 10);
		free(tmp);
		m->dkim_signature = col_dup(res, r, 8);
		m->data_len = (size_t)PQgetlength(res, r, 9);
		m->data = xmalloc(m->data_len + 1);
		memcpy(m->data, PQgetvalue(res, r, 9), m->data_len);
		m->data[m->data_len] = '\0';
	}
	PQclear(res);
	return STORE_OK;
}

static int rcpt_cmp(const void *pa, const void *pb)
{
	const struct store_queue_rcpt *a = pa, *b = pb;
	int c = strcmp(a->domain, b->domain);
	if (c != 0)
		return c;
	if (a->message_id != b->message_id)
		return a->message_id < b->message_id ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

int store_queue_claim(struct store *st, const char *node, const char *domain, const char *exclude,
		      unsigned limit, uint64_t lease_ms, struct store_queue_batch *b,
		      const char **error_r)
{
	memset(b, 0, sizeof(*b));
	char lim[16], lease[24];
	snprintf(lim, sizeof(lim), "%u", limit);
	snprintf(lease, sizeof(lease), "%" PRIu64, lease_ms);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_CLAIM, &res, node, lim, lease, domain,
				      exclude != NULL ? exclude : "");
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	b->rcpts = xcalloc((size_t)rows + 1, sizeof(*b->rcpts));
	for (int r = 0; r < rows; r++) {
		struct store_queue_rcpt *q = &b->rcpts[b->nrcpts++];
		q->id = mail_u64(res, r, 0);
		q->message_id = mail_u64(res, r, 1);
		q->address = col_dup(res, r, 2);
		q->domain = col_dup(res, r, 3);
		q->dsn_notify = col_dup(res, r, 4);
		q->dsn_orcpt = col_dup(res, r, 5);
		q->attempts = (unsigned)mail_u64(res, r, 6);
		q->warned = PQgetvalue(res, r, 7)[0] == 't';
		if (q->domain == NULL)
			q->domain = xstrdup("");
	}
	PQclear(res);
	/* UPDATE ... RETURNING has no order: by domain, message, recipient. */
	qsort(b->rcpts, b->nrcpts, sizeof(*b->rcpts), rcpt_cmp);
	if (b->nrcpts == 0)
		return STORE_OK;
	ret = load_messages(st, b);
	if (ret != STORE_OK) {
		/* The lease runs out and another runner takes the rows. */
		return mail_done(st, ret, error_r);
	}
	return STORE_OK;
}

int store_queue_renew(struct store *st, const char *node, uint64_t lease_ms, const char **error_r)
{
	char lease[24];
	snprintf(lease, sizeof(lease), "%" PRIu64, lease_ms);
	return mail_done(st, store_exec_prepared(st, STMT_QUEUE_RENEW, NULL, node, lease), error_r);
}

struct reclaim_ctx {
	const char *host, *prefix;
	size_t reclaimed, presumed;
};

static int reclaim_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct reclaim_ctx *c = _ctx;
	PGresult *res;
	(void)error_r;
	int ret = store_exec_prepared(st, STMT_QUEUE_RECLAIM, &res, c->host, c->prefix);
	if (ret != STORE_OK)
		return ret;
	c->reclaimed = (size_t)PQntuples(res);
	PQclear(res);
	ret = store_exec_prepared(st, STMT_QUEUE_PRESUME, &res, c->host, c->prefix);
	if (ret != STORE_OK)
		return ret;
	c->presumed = (size_t)PQntuples(res);
	struct buf list;
	buf_init(&list, 0);
	for (int r = 0; r < PQntuples(res); r++)
		buf_printf(&list, "%s%s", r > 0 ? "," : "", PQgetvalue(res, r, 0));
	PQclear(res);
	if (c->presumed > 0) {
		const char *params[1] = { list.data };
		ret = store_exec_params(st, STMT_QUEUE_MSG_DONE, params, NULL);
	}
	buf_free(&list);
	return ret;
}

int store_queue_reclaim(struct store *st, const char *host, const char *prefix,
			size_t *reclaimed_r, size_t *presumed_r, const char **error_r)
{
	struct reclaim_ctx c = { .host = host, .prefix = prefix };
	int ret = store_tx(st, reclaim_tx, &c, error_r);
	*reclaimed_r = ret == STORE_OK ? c.reclaimed : 0;
	*presumed_r = ret == STORE_OK ? c.presumed : 0;
	return ret;
}

/* Queue a DSN for a remote sender: MAIL FROM:<>, no DSN options. */
static int dsn_queue(struct store *st, const struct store_queue_dsn *d)
{
	const struct store_append_msg am = { .data = d->data, .size = d->size };
	unsigned char sha[32];
	store_mail_sha256(d->data, d->size, sha);
	uint64_t blob_id, size;
	int ret = mail_blob_get_queued(st, &am, sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	char blob[24], sz[24], qid[24];
	snprintf(blob, sizeof(blob), "%" PRIu64, blob_id);
	snprintf(sz, sizeof(sz), "%" PRIu64, size);
	PGresult *res;
	ret = store_exec_prepared(st, STMT_QUEUE_MSG_INSERT, &res, blob, "", sz, NULL, NULL,
				  "8BITMIME", "false", NULL, NULL);
	if (ret != STORE_OK)
		return ret;
	snprintf(qid, sizeof(qid), "%" PRIu64, mail_u64(res, 0, 0));
	PQclear(res);
	return store_exec_prepared(st, STMT_QUEUE_RCPT_INSERT, NULL, qid, d->to, "NEVER", NULL);
}

/* Store a DSN in the sender's INBOX. */
static int dsn_local(struct store *st, const struct store_queue_dsn *d)
{
	if (d->sieve != NULL)
		return store_sieve_deliver_locked(st, d->sieve);
	const struct store_append_msg am = { .data = d->data, .size = d->size };
	unsigned char sha[32];
	store_mail_sha256(d->data, d->size, sha);
	uint64_t blob_id, size;
	int ret = mail_blob_get(st, &am, sha, &blob_id, &size);
	if (ret != STORE_OK)
		return ret;
	uint32_t uid;
	return mail_append_locked(st, d->mailbox_id, &am, 1, &blob_id, (int64_t)size, NULL, &uid);
}

struct apply_ctx {
	const char *node;
	struct store_queue_txn *t;
	bool *finished;		/* per update: its message went with STMT_QUEUE_FINISH */
	bool *skip_dsn;		/* per DSN: dropped after a quota refusal */
	bool async_set;		/* synchronous_commit is off already */
	size_t failed_dsn;	/* index of the DSN that failed with OVERQUOTA, or SIZE_MAX */
};

static bool final_state(const char *state)
{
	return strcmp(state, "delivered") == 0 || strcmp(state, "failed") == 0;
}

/* The common end of a message: every one of its updates in t is final.
 * Try to delete the message at once (one statement instead of an UPDATE
 * per recipient and a DELETE); sets c->finished for its updates when that
 * worked. */
static int finish_messages(struct store *st, struct apply_ctx *c)
{
	struct store_queue_txn *t = c->t;
	struct buf ids;
	int ret = STORE_OK;
	buf_init(&ids, 0);
	for (size_t i = 0; i < t->nupdates && ret == STORE_OK; i++) {
		uint64_t msg = t->updates[i].message_id;
		bool first = true, final = true;
		for (size_t k = 0; k < t->nupdates && final; k++) {
			if (t->updates[k].message_id != msg)
				continue;
			if (k < i)
				first = false;	/* seen already */
			final = final && final_state(t->updates[k].state);
		}
		if (!first || !final || msg == 0)
			continue;
		buf_reset(&ids);
		buf_append_str(&ids, "{");
		for (size_t k = i; k < t->nupdates; k++)
			if (t->updates[k].message_id == msg)
				buf_printf(&ids, "%s%" PRIu64, ids.data[ids.len - 1] == '{' ? "" : ",",
					   t->updates[k].rcpt_id);
		buf_append_str(&ids, "}");
		char id[24];
		snprintf(id, sizeof(id), "%" PRIu64, msg);
		PGresult *res;
		ret = store_exec_prepared(st, STMT_QUEUE_FINISH, &res, id, ids.data, c->node);
		if (ret != STORE_OK)
			break;
		bool gone = PQntuples(res) == 1;
		PQclear(res);
		for (size_t k = i; k < t->nupdates && gone; k++)
			if (t->updates[k].message_id == msg)
				c->finished[k] = true;
	}
	buf_free(&ids);
	return ret;
}

static int apply_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct apply_ctx *c = _ctx;
	struct store_queue_txn *t = c->t;
	struct buf list;
	int ret = STORE_OK;
	(void)error_r;
	buf_init(&list, 0);
	t->lost = 0;
	/* An outcome lost with the database (not with cairnd: the server
	 * still writes it) only means one more attempt, a possible duplicate
	 * as after any crash; so the runner does not wait for the WAL flush.
	 * The gateway's deliveries stay synchronous. */
	if (!c->async_set && !st->async_commit)
		ret = store_exec_trusted(st, "SET LOCAL synchronous_commit = off", NULL);
	c->failed_dsn = SIZE_MAX;
	/* store_tx may run this again: start over. */
	memset(c->finished, 0, (t->nupdates + 1) * sizeof(bool));
	if (ret == STORE_OK)
		ret = finish_messages(st, c);
	for (size_t i = 0; i < t->nupdates && ret == STORE_OK; i++) {
		const struct store_queue_update *u = &t->updates[i];
		if (c->finished[i])
			continue;
		char id[24], retry[24];
		snprintf(id, sizeof(id), "%" PRIu64, u->rcpt_id);
		snprintf(retry, sizeof(retry), "%" PRId64, u->retry_in_ms);
		const char *params[10] = {
			id, u->state, u->status, u->error, u->remote_host,
			u->retry_in_ms >= 0 ? retry : NULL, u->attempted ? "1" : "0",
			u->warned ? "true" : "false", u->dsn_sent ? "true" : "false", c->node,
		};
		PGresult *res;
		ret = store_exec_params(st, STMT_QUEUE_SET, params, &res);
		if (ret == STORE_OK) {
			if (strcmp(PQcmdTuples(res), "1") != 0)
				t->lost++;
			PQclear(res);
		}
	}
	if (ret == STORE_OK && t->ndot > 0) {
		char msg[24];
		snprintf(msg, sizeof(msg), "%" PRIu64, t->dot_message);
		id_list(&list, t->dot_ids, t->ndot);
		ret = store_exec_prepared(st, STMT_QUEUE_DOT, NULL, list.data, c->node, t->dot_host,
					  msg);
	}
	for (size_t i = 0; i < t->ndsns && ret == STORE_OK; i++) {
		const struct store_queue_dsn *d = &t->dsns[i];
		if (c->skip_dsn[i])
			continue;
		ret = d->mailbox_id != 0 ? dsn_local(st, d) : dsn_queue(st, d);
		if (ret == STORE_OVERQUOTA)
			c->failed_dsn = i;
	}
	for (size_t i = 0; i < t->ndkim && ret == STORE_OK; i++) {
		char id[24];
		snprintf(id, sizeof(id), "%" PRIu64, t->dkim_ids[i]);
		ret = store_exec_prepared(st, STMT_QUEUE_DKIM_SET, NULL, id, t->dkim_sigs[i]);
	}
	/* Messages gone with STMT_QUEUE_FINISH need no second look. */
	bool all_finished = true;
	for (size_t m = 0; m < t->nmessages && all_finished; m++) {
		bool gone = false;
		for (size_t i = 0; i < t->nupdates && !gone; i++)
			gone = c->finished[i] && t->updates[i].message_id == t->message_ids[m];
		all_finished = gone;
	}
	if (ret == STORE_OK && t->nmessages > 0 && !all_finished) {
		id_list(&list, t->message_ids, t->nmessages);
		ret = store_exec_prepared(st, STMT_QUEUE_MSG_DONE, NULL, list.data);
	}
	buf_free(&list);
	return ret;
}

int store_queue_apply(struct store *st, const char *node, struct store_queue_txn *t,
		      const char **error_r)
{
	struct apply_ctx c = { .node = node, .t = t };
	c.skip_dsn = xcalloc(t->ndsns + 1, sizeof(bool));
	c.finished = xcalloc(t->nupdates + 1, sizeof(bool));
	t->dsns_dropped = 0;
	int ret;
	for (;;) {
		ret = store_tx(st, apply_tx, &c, error_r);
		if (ret != STORE_OVERQUOTA || c.failed_dsn == SIZE_MAX)
			break;
		/* The sender's mailbox is full: the outcomes matter more. */
		log_warn("queue event=dsn-dropped to=<%s> reason=\"over quota\"",
			 t->dsns[c.failed_dsn].to);
		c.skip_dsn[c.failed_dsn] = true;
		t->dsns_dropped++;
	}
	free(c.skip_dsn);
	free(c.finished);
	return ret;
}

int store_queue_apply_begin(struct store *st, const char *node, struct store_queue_txn *t,
			    const char **error_r)
{
	if (st->in_tx)
		return mail_done(st, store_fail(st, STORE_ERROR, "apply_begin inside a transaction"),
				 error_r);
	struct apply_ctx c = { .node = node, .t = t, .async_set = true };
	c.skip_dsn = xcalloc(t->ndsns + 1, sizeof(bool));
	c.finished = xcalloc(t->nupdates + 1, sizeof(bool));
	t->dsns_dropped = 0;
	int ret;
	for (;;) {
		/* One round trip for both (the runners' connections are
		 * asynchronous already: store_set_async_commit). */
		ret = store_exec_trusted(st, st->async_commit ? "BEGIN" :
					 "BEGIN; SET LOCAL synchronous_commit = off", NULL);
		if (ret != STORE_OK)
			break;
		st->in_tx = true;
		const char *fn_error = NULL;
		ret = apply_tx(st, &c, &fn_error);
		if (ret == STORE_OK) {
			if (PQsendQuery(st->conn, "COMMIT") == 1)
				break;	/* st->in_tx stays set until _end */
			ret = store_fail(st, STORE_TEMPFAIL, "sending COMMIT: %s", PQerrorMessage(st->conn));
		}
		if (st->conn != NULL) {
			PGresult *res = PQexec(st->conn, "ROLLBACK");
			PQclear(res);
		}
		st->in_tx = false;
		if (ret != STORE_OVERQUOTA || c.failed_dsn == SIZE_MAX)
			break;
		log_warn("queue event=dsn-dropped to=<%s> reason=\"over quota\"",
			 t->dsns[c.failed_dsn].to);
		c.skip_dsn[c.failed_dsn] = true;
		t->dsns_dropped++;
	}
	free(c.skip_dsn);
	free(c.finished);
	return mail_done(st, ret, error_r);
}

int store_queue_apply_end(struct store *st, const char **error_r)
{
	int ret = STORE_OK;
	PGresult *res;
	if (st->conn == NULL || !st->in_tx)
		return mail_done(st, store_fail(st, STORE_ERROR, "apply_end without apply_begin"), error_r);
	while ((res = PQgetResult(st->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			ret = store_fail(st, STORE_TEMPFAIL, "COMMIT failed: %s", PQresultErrorMessage(res));
		else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0)
			ret = store_fail(st, STORE_ERROR, "transaction was rolled back");
		PQclear(res);
	}
	st->in_tx = false;
	if (PQstatus(st->conn) == CONNECTION_BAD) {
		PQfinish(st->conn);
		st->conn = NULL;
		memset(st->prepared, 0, sizeof(st->prepared));
		if (ret == STORE_OK)
			ret = store_fail(st, STORE_TEMPFAIL, "database connection lost during COMMIT");
	}
	return mail_done(st, ret, error_r);
}

int store_queue_stats(struct store *st, uint64_t *messages_r, uint64_t *rcpts_r,
		      uint64_t *oldest_s_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_STATS, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*messages_r = mail_u64(res, 0, 0);
	*rcpts_r = mail_u64(res, 0, 1);
	*oldest_s_r = mail_u64(res, 0, 2);
	PQclear(res);
	return STORE_OK;
}

int store_queue_sweep(struct store *st, size_t *deleted_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_SWEEP, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*deleted_r = (size_t)PQntuples(res);
	PQclear(res);
	return STORE_OK;
}

int store_queue_listen(struct store *st, const char **error_r)
{
	int ret = store_connect(st);
	if (ret == STORE_OK)
		ret = store_exec_trusted(st, "LISTEN cairn_queue", NULL);
	return mail_done(st, ret, error_r);
}

int store_queue_notify(struct store *st, const char **error_r)
{
	if (st->in_tx)
		return mail_done(st, store_fail(st, STORE_ERROR, "queue notify inside a transaction"),
				 error_r);
	/* A notification lost with a database crash costs one poll interval. */
	int ret = store_exec_trusted(st, "BEGIN; SET LOCAL synchronous_commit = off;"
				     " SELECT pg_notify('cairn_queue', ''); COMMIT", NULL);
	if (ret != STORE_OK && st->conn != NULL && PQtransactionStatus(st->conn) != PQTRANS_IDLE) {
		/* It failed inside the transaction block it opened. */
		PGresult *res = PQexec(st->conn, "ROLLBACK");
		PQclear(res);
	}
	return mail_done(st, ret, error_r);
}

int store_queue_wait(struct store *st, uint64_t timeout_ms, const char **error_r)
{
	if (st->conn == NULL)
		return mail_done(st, store_fail(st, STORE_TEMPFAIL, "not connected"), error_r);
	uint64_t deadline = store_now_ms() + timeout_ms;
	for (;;) {
		if (PQconsumeInput(st->conn) == 0) {
			store_fail(st, STORE_TEMPFAIL, "database connection lost: %s",
				   PQerrorMessage(st->conn));
			PQfinish(st->conn);
			st->conn = NULL;
			memset(st->prepared, 0, sizeof(st->prepared));
			return mail_done(st, STORE_TEMPFAIL, error_r);
		}
		PGnotify *n;
		bool got = false;
		while ((n = PQnotifies(st->conn)) != NULL) {
			got = true;
			PQfreemem(n);
		}
		if (got)
			return 1;
		uint64_t now = store_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd pfd = { .fd = PQsocket(st->conn), .events = POLLIN };
		int r = poll(&pfd, 1, (int)(deadline - now));
		if (r < 0 && errno != EINTR)
			return mail_done(st, store_fail(st, STORE_ERROR, "poll: %s", strerror(errno)),
					 error_r);
	}
}

int store_queue_list(struct store *st, uint64_t id,
		     void (*cb)(const struct store_queue_row *row, void *ctx), void *ctx,
		     const char **error_r)
{
	char idt[24];
	snprintf(idt, sizeof(idt), "%" PRIu64, id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_LIST, &res, id != 0 ? idt : NULL);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	for (int r = 0; r < PQntuples(res); r++) {
		struct store_queue_row row = {
			PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), PQgetvalue(res, r, 2),
			PQgetvalue(res, r, 3), PQgetvalue(res, r, 4), PQgetvalue(res, r, 5),
			PQgetvalue(res, r, 6), PQgetvalue(res, r, 7), PQgetvalue(res, r, 8),
			PQgetvalue(res, r, 9), PQgetvalue(res, r, 10), PQgetvalue(res, r, 11),
			PQgetvalue(res, r, 12), PQgetvalue(res, r, 13), PQgetvalue(res, r, 14),
			PQgetvalue(res, r, 15), PQgetvalue(res, r, 16), PQgetvalue(res, r, 17),
		};
		cb(&row, ctx);
	}
	bool none = PQntuples(res) == 0;
	PQclear(res);
	if (none && id != 0)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "no queued message %" PRIu64, id),
				 error_r);
	return STORE_OK;
}

int store_queue_flush(struct store *st, uint64_t id, uint64_t *count_r, const char **error_r)
{
	char idt[24];
	snprintf(idt, sizeof(idt), "%" PRIu64, id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_FLUSH, &res, id != 0 ? idt : NULL);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*count_r = mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

int store_queue_drop(struct store *st, uint64_t id, const char **error_r)
{
	char idt[24];
	snprintf(idt, sizeof(idt), "%" PRIu64, id);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_QUEUE_DROP, &res, idt);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	uint64_t deleted = mail_u64(res, 0, 0), busy = mail_u64(res, 0, 1);
	PQclear(res);
	if (deleted > 0)
		return STORE_OK;
	if (busy > 0)
		return mail_done(st, store_fail(st, STORE_CONFLICT,
						"message %" PRIu64 " is being sent right now; try again", id),
				 error_r);
	return mail_done(st, store_fail(st, STORE_NOTFOUND, "no queued message %" PRIu64, id),
			 error_r);
}
