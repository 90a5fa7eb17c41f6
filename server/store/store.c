/* The store's connection handling: lazy connect with timeouts, session
 * settings, preparing the statement registry, mapping SQLSTATEs to
 * store_result codes, and transactions with retry. A lost database is never
 * fatal: calls fail with STORE_TEMPFAIL and the next call after
 * reconnect_interval tries again. */
#include "autoconf.h"
#include "store-private.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STORE_TX_MAX_RETRIES 5

const struct store_stmt store_stmts[STMT_COUNT] = {
#define STORE_STMT_TABLE(id, sql, nparams) [id] = { #id, sql, nparams },
	STORE_STATEMENTS(STORE_STMT_TABLE)
#undef STORE_STMT_TABLE
};

uint64_t store_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int store_fail(struct store *st, int result, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(st->error, sizeof(st->error), fmt, ap);
	va_end(ap);
	return result;
}

/* Copy a libpq message without its trailing newline(s). */
static void copy_message(char *dst, size_t size, const char *msg)
{
	if (msg == NULL || *msg == '\0')
		msg = "unknown error";
	/* libpq messages span lines and indent them; fold every run of
	 * whitespace into one space so the text fits on one log line. */
	size_t o = 0;
	bool space = false;
	for (const char *p = msg; *p != '\0' && o + 1 < size; p++) {
		if (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t') {
			space = o > 0;
			continue;
		}
		if (space && o + 2 < size)
			dst[o++] = ' ';
		space = false;
		dst[o++] = *p;
	}
	dst[o] = '\0';
}

/* Route server NOTICEs ("relation already exists, skipping") to the debug log
 * instead of libpq's default of printing them on stderr. */
static void notice_processor(void *arg, const char *message)
{
	char msg[512];
	copy_message(msg, sizeof(msg), message);
	log_debug("store: server notice: %s", msg);
}

/* Forget the connection after it broke; the next call reconnects. */
static void store_drop(struct store *st, const char *why)
{
	copy_message(st->conn_error, sizeof(st->conn_error), why);
	log_warn("store: connection lost: %s", st->conn_error);
	if (st->conn != NULL)
		PQfinish(st->conn);
	st->conn = NULL;
	memset(st->prepared, 0, sizeof(st->prepared));
}

/* Prepare every registered statement on a fresh connection. One that fails
 * (typically: its table does not exist before migrations ran) is left for
 * store_exec_params() to prepare on first use, which reports the real error. */
int store_connect(struct store *st)
{
	if (st->conn != NULL)
		return STORE_OK;
	if (st->in_tx) {
		return store_fail(st, STORE_TEMPFAIL, "database connection lost during a transaction: %s",
				  st->conn_error);
	}
	uint64_t now = store_now_ms();
	if (st->connect_tried && now - st->last_connect_ms < st->reconnect_interval_ms) {
		return store_fail(st, STORE_TEMPFAIL,
				  "database unavailable: %s (next reconnect in %llu ms)", st->conn_error,
				  (unsigned long long)(st->reconnect_interval_ms -
						       (now - st->last_connect_ms)));
	}
	st->connect_tried = true;
	st->last_connect_ms = now;

	/* application_name and keepalives come first so the conninfo may
	 * override them; the configured connect timeout comes after and wins.
	 * libpq counts whole seconds (minimum 2). TCP keepalives notice a
	 * vanished server even while we wait for a reply (no effect on Unix
	 * sockets). */
	char timeout[32];
	const char *keys[] = { "application_name", "keepalives_idle", "keepalives_interval",
			       "keepalives_count", "dbname", NULL, NULL };
	const char *values[] = { "cairnd", "30", "10", "3", st->conninfo, NULL, NULL };
	if (st->connect_timeout_ms > 0) {
		snprintf(timeout, sizeof(timeout), "%llu",
			 (unsigned long long)((st->connect_timeout_ms + 999) / 1000));
		keys[5] = "connect_timeout";
		values[5] = timeout;
	}
	PGconn *conn = PQconnectdbParams(keys, values, 1);
	if (conn == NULL) {
		snprintf(st->conn_error, sizeof(st->conn_error), "out of memory in libpq");
		return store_fail(st, STORE_TEMPFAIL, "database unavailable: %s", st->conn_error);
	}
	if (PQstatus(conn) != CONNECTION_OK) {
		copy_message(st->conn_error, sizeof(st->conn_error), PQerrorMessage(conn));
		PQfinish(conn);
		log_warn("store: cannot connect to the database: %s", st->conn_error);
		return store_fail(st, STORE_TEMPFAIL, "database unavailable: %s", st->conn_error);
	}
	PQsetNoticeProcessor(conn, notice_processor, NULL);

	/* Session settings, parameterised even though they come from the config. */
	char stimeout[32];
	snprintf(stimeout, sizeof(stimeout), "%llu", (unsigned long long)st->statement_timeout_ms);
	const char *params[1] = { stimeout };
	PGresult *res = PQexecParams(conn, store_stmts[STMT_SESSION_SETUP].sql, 1, NULL, params,
				     NULL, NULL, 0);
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		copy_message(st->conn_error, sizeof(st->conn_error),
			     res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
		PQclear(res);
		PQfinish(conn);
		log_warn("store: cannot set up the database session: %s", st->conn_error);
		return store_fail(st, STORE_TEMPFAIL, "database unavailable: %s", st->conn_error);
	}
	PQclear(res);
	if (st->async_commit) {
		res = PQexec(conn, "SET synchronous_commit = off");
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			copy_message(st->conn_error, sizeof(st->conn_error), PQresultErrorMessage(res));
			PQclear(res);
			PQfinish(conn);
			log_warn("store: cannot set up the database session: %s", st->conn_error);
			return store_fail(st, STORE_TEMPFAIL, "database unavailable: %s", st->conn_error);
		}
		PQclear(res);
	}

	st->conn = conn;
	/* Statements are prepared on first use on this connection: a new
	 * connection costs one round trip per statement it actually runs. */
	memset(st->prepared, 0, sizeof(st->prepared));
	if (st->conn_error[0] != '\0')
		log_info("store: connected to the database again");
	st->conn_error[0] = '\0';
	return STORE_OK;
}

static bool sqlstate_is(const char *state, const char *want)
{
	return strcmp(state, want) == 0;
}

/* Turn a libpq result into a store_result, dropping the connection when it is
 * gone. what names the statement for the log. Does not PQclear(res). */
static int store_check_result(struct store *st, PGresult *res, const char *what)
{
	ExecStatusType status = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	st->error_position = 0;
	if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
		if (PQstatus(st->conn) == CONNECTION_BAD) {
			store_drop(st, PQerrorMessage(st->conn));
			return store_fail(st, STORE_TEMPFAIL, "database connection lost: %s",
					  st->conn_error);
		}
		st->sqlstate[0] = '\0';
		return STORE_OK;
	}

	const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(st->conn);

	/* No SQLSTATE means libpq itself failed: the link is gone. 57P01-03 are
	 * admin/crash shutdown and "cannot connect now". */
	if (state == NULL || PQstatus(st->conn) == CONNECTION_BAD || strncmp(state, "08", 2) == 0 ||
	    sqlstate_is(state, "57P01") || sqlstate_is(state, "57P02") ||
	    sqlstate_is(state, "57P03")) {
		store_drop(st, msg);
		return store_fail(st, STORE_TEMPFAIL, "database connection lost: %s", st->conn_error);
	}

	snprintf(st->sqlstate, sizeof(st->sqlstate), "%s", state);
	const char *position = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	st->error_position = position != NULL ? atoi(position) : 0;
	char text[768];
	copy_message(text, sizeof(text), msg);
	int result;
	if (sqlstate_is(state, "40001") || sqlstate_is(state, "40P01"))
		result = STORE_CONFLICT;
	else if (sqlstate_is(state, "23505"))
		result = STORE_EXISTS;
	else if (sqlstate_is(state, "23503") || sqlstate_is(state, "23514") ||
		 sqlstate_is(state, "23502") || strncmp(state, "22", 2) == 0)
		result = STORE_INVALID;
	else if (sqlstate_is(state, "57014") || sqlstate_is(state, "55P03") ||
		 strncmp(state, "53", 2) == 0)
		result = STORE_TEMPFAIL;	/* timeout, lock wait, out of resources */
	else
		result = STORE_ERROR;
	/* Trusted SQL (what == NULL: BEGIN, a migration) is reported by its
	 * caller, which knows the file and line; do not log it twice. */
	if (result == STORE_ERROR && what != NULL)
		log_err("store: stmt=%s sqlstate=%s: %s", what, state, text);
	else if (result == STORE_TEMPFAIL)
		log_warn("store: stmt=%s sqlstate=%s: %s", what ? what : "exec", state, text);
	else
		log_debug("store: stmt=%s sqlstate=%s: %s", what ? what : "exec", state, text);
	return store_fail(st, result, "%s", text);
}

static int exec_params_format(struct store *st, enum store_stmt_id id, const char *const *params,
			      PGresult **res_r, int result_format);

int store_exec_params(struct store *st, enum store_stmt_id id, const char *const *params,
		      PGresult **res_r)
{
	return exec_params_format(st, id, params, res_r, 0);
}

int store_exec_binary(struct store *st, enum store_stmt_id id, const char *const *params,
		      PGresult **res_r)
{
	return exec_params_format(st, id, params, res_r, 1);
}

static int exec_params_format(struct store *st, enum store_stmt_id id, const char *const *params,
			      PGresult **res_r, int result_format)
{
	if (res_r != NULL)
		*res_r = NULL;
	if ((unsigned)id >= STMT_COUNT)
		panic("store: bad statement id %d", (int)id);
	int ret = store_connect(st);
	if (ret != STORE_OK)
		return ret;

	const struct store_stmt *s = &store_stmts[id];
	if (!st->prepared[id]) {
		PGresult *res = PQprepare(st->conn, s->name, s->sql, s->nparams, NULL);
		ret = store_check_result(st, res, s->name);
		PQclear(res);
		if (ret != STORE_OK)
			return ret;
		st->prepared[id] = true;
	}
	PGresult *res = PQexecPrepared(st->conn, s->name, s->nparams, params, NULL, NULL,
				       result_format);
	ret = store_check_result(st, res, s->name);
	if (ret == STORE_OK && res_r != NULL)
		*res_r = res;
	else
		PQclear(res);
	return ret;
}

int store_exec_prepared(struct store *st, enum store_stmt_id id, PGresult **res_r, ...)
{
	const char *params[STORE_MAX_PARAMS];
	if ((unsigned)id >= STMT_COUNT || store_stmts[id].nparams > STORE_MAX_PARAMS)
		panic("store: bad statement id %d", (int)id);
	va_list ap;
	va_start(ap, res_r);
	for (int i = 0; i < store_stmts[id].nparams; i++)
		params[i] = va_arg(ap, const char *);
	va_end(ap);
	return store_exec_params(st, id, params, res_r);
}

int store_exec_trusted(struct store *st, const char *sql, PGresult **res_r)
{
	if (res_r != NULL)
		*res_r = NULL;
	int ret = store_connect(st);
	if (ret != STORE_OK)
		return ret;
	PGresult *res = PQexec(st->conn, sql);
	ret = store_check_result(st, res, NULL);
	if (ret == STORE_OK && res_r != NULL)
		*res_r = res;
	else
		PQclear(res);
	return ret;
}

struct store *store_open(const struct config *cfg)
{
	struct store *st = xcalloc(1, sizeof(*st));
	st->conninfo = xstrdup(cfg->store.conninfo != NULL ? cfg->store.conninfo : "");
	st->connect_timeout_ms = cfg->store.connect_timeout_ms;
	st->statement_timeout_ms = cfg->store.statement_timeout_ms;
	st->reconnect_interval_ms = cfg->store.reconnect_interval_ms;
	return st;
}

void store_set_async_commit(struct store *st)
{
	st->async_commit = true;
	if (st->conn != NULL && !st->in_tx) {
		PGresult *res = PQexec(st->conn, "SET synchronous_commit = off");
		if (PQresultStatus(res) != PGRES_COMMAND_OK)
			store_drop(st, PQresultErrorMessage(res));	/* set at the reconnect */
		PQclear(res);
	}
}

void store_close(struct store **_st)
{
	struct store *st = *_st;
	if (st == NULL)
		return;
	*_st = NULL;
	if (st->conn != NULL)
		PQfinish(st->conn);
	free(st->conninfo);
	free(st);
}

bool store_connected(const struct store *st)
{
	return st->conn != NULL && PQstatus(st->conn) == CONNECTION_OK;
}

int store_ping(struct store *st, const char **error_r)
{
	if (st->in_tx) {
		*error_r = "store_ping called inside a transaction";
		return STORE_ERROR;
	}
	int ret = store_exec_prepared(st, STMT_PING, NULL);
	if (ret != STORE_OK) {
		*error_r = st->error;
		/* Whatever the server said, a failed SELECT 1 means "not usable now". */
		return STORE_TEMPFAIL;
	}
	return STORE_OK;
}

/* Roll back after fn failed, keeping st->error (the reason) intact. */
static void store_rollback(struct store *st)
{
	if (st->conn == NULL)
		return;
	PGresult *res = PQexec(st->conn, "ROLLBACK");
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK || PQstatus(st->conn) == CONNECTION_BAD) {
		char saved[sizeof(st->error)];
		memcpy(saved, st->error, sizeof(saved));
		(void)store_check_result(st, res, "ROLLBACK");
		memcpy(st->error, saved, sizeof(saved));
	}
	PQclear(res);
}

/* COMMIT, noticing the case where the server turned it into a ROLLBACK
 * because an earlier statement of the transaction had failed. */
static int store_commit(struct store *st)
{
	PGresult *res = NULL;
	int ret = store_exec_trusted(st, "COMMIT", &res);
	if (ret == STORE_TEMPFAIL && st->conn == NULL)
		return store_fail(st, STORE_TEMPFAIL,
				  "database connection lost during COMMIT; the change may or may not "
				  "have been saved: %s", st->conn_error);
	if (ret != STORE_OK)
		return ret;
	bool rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
	PQclear(res);
	if (rolled_back) {
		log_err("store: COMMIT rolled back: a statement failed but the transaction went on");
		return store_fail(st, STORE_ERROR, "transaction was rolled back");
	}
	return STORE_OK;
}

static void tx_backoff(int attempt)
{
	/* 10, 20, 40, 80, 160 ms plus up to 10 ms of jitter so two retrying
	 * workers do not collide again in lockstep. */
	uint64_t ms = (10ULL << attempt) + (uint64_t)(rand() % 10);
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int store_tx(struct store *st, int (*fn)(struct store *st, void *ctx, const char **error_r),
	     void *ctx, const char **error_r)
{
	if (st->in_tx) {
		*error_r = "store_tx: nested transaction";
		log_err("store: nested store_tx call");
		return STORE_ERROR;
	}
	int ret;
	for (int attempt = 0;; attempt++) {
		const char *fn_error = NULL;
		ret = store_exec_trusted(st, "BEGIN", NULL);
		if (ret != STORE_OK) {
			*error_r = st->error;
			return ret;
		}
		st->in_tx = true;
		ret = fn(st, ctx, &fn_error);
		if (ret == STORE_OK) {
			ret = store_commit(st);
			fn_error = st->error;
		} else {
			if (fn_error == NULL)
				fn_error = st->error;
			store_rollback(st);
		}
		st->in_tx = false;
		if (ret == STORE_CONFLICT && attempt < STORE_TX_MAX_RETRIES) {
			log_info("store: tx retry=%d sqlstate=%s", attempt + 1, st->sqlstate);
			tx_backoff(attempt);
			continue;
		}
		if (ret != STORE_OK)
			*error_r = fn_error;
		return ret;
	}
}

const char *store_result_str(int result)
{
	switch (result) {
	case STORE_OK:
		return "ok";
	case STORE_ERROR:
		return "internal error";
	case STORE_NOTFOUND:
		return "not found";
	case STORE_EXISTS:
		return "already exists";
	case STORE_CONFLICT:
		return "conflict";
	case STORE_TEMPFAIL:
		return "temporarily unavailable";
	case STORE_INVALID:
		return "invalid";
	case STORE_OVERQUOTA:
		return "over quota";
	}
	return "unknown result";
}
