/* One POP3 connection. AUTHORIZATION (USER/PASS, AUTH PLAIN/LOGIN, STLS,
 * CAPA) -> TRANSACTION on a snapshot of the INBOX taken at login, under a
 * maildrop lock held in PostgreSQL so a second POP3 session gets [IN-USE]
 * while IMAP keeps working -> UPDATE at QUIT, where every DELE takes effect
 * in one transaction. A connection that drops without QUIT deletes nothing.
 * Anything touching the directory or the store runs as a job; the conn is
 * paused meanwhile, so pipelined commands are answered in order. */
#include "autoconf.h"
#include "pop3-session.h"
#include "config.h"
#include "conn.h"
#include "directory.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "pop3_parser.h"
#include "reader.h"
#include "sasl.h"
#include "session.h"
#include "store-jobs.h"
#include "store-mail.h"
#include "store-pop3.h"
#include "store.h"
#include "tls.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum pop3_state {
	POP3_AUTHORIZATION,
	POP3_TRANSACTION,
	POP3_UPDATE,
};

struct pop3_msg {
	uint32_t uid;
	uint64_t size;		/* octets as stored; RFC 1939 allows an estimate */
	bool deleted;
	bool retrieved;		/* RETR'd: \Seen at QUIT */
};

/* RETR read-ahead: one job fetches the requested message and the next ones
 * (up to this many, and this many bytes), so a client downloading the whole
 * maildrop costs one database round trip per batch, not per message. */
#define POP3_READAHEAD 8
#define POP3_READAHEAD_BYTES (1024 * 1024)

struct pop3_cached {
	uint32_t uid;
	struct buf data;	/* the multi-line RETR body, dot-stuffed, with ".\r\n" */
};

enum pop3_job_kind {
	JOB_LOGIN,		/* authenticate, lock the maildrop, snapshot it */
	JOB_RETR,		/* RETR or TOP */
	JOB_QUIT,		/* UPDATE state: expunge DELE'd messages, unlock */
	JOB_UNLOCK,		/* connection lost: unlock, delete nothing */
	JOB_REFRESH,		/* extend the maildrop lock */
	JOB_PREFETCH,		/* read-ahead in the background (conn not paused) */
};

struct pop3_session;

struct pop3_job {
	struct session_job base;	/* first: the runtime's part */
	enum pop3_job_kind kind;
	struct pop3_context *pctx;
	/* inputs */
	char user[321];
	char *password;
	char client_ip[64];
	char holder[96];
	char address[321];
	uint64_t mailbox_id;
	uint32_t uid;
	long top_lines;			/* -1: RETR */
	uint32_t *uids;			/* JOB_QUIT: the DELE'd uids */
	size_t uid_count;
	uint32_t *seen_uids;		/* JOB_QUIT: the RETR'd ones */
	size_t seen_count;
	uint32_t ahead[POP3_READAHEAD];	/* JOB_RETR: uid first, then read-ahead */
	size_t ahead_count;
	size_t ahead_end;		/* maildrop index after the last one in ahead */
	struct pop3_cached fetched[POP3_READAHEAD];
	size_t fetched_count;
	/* outputs */
	int status;			/* store_result or dir_auth_status */
	bool too_soon;			/* refused by [pop3] login_delay */
	struct dir_auth auth;
	struct store_mailbox_info mailbox;
	struct pop3_msg *msgs;
	size_t msg_count;
	struct buf out;			/* RETR/TOP: the multi-line reply */
	char error[256];
};

struct pop3_session {
	struct session rt;		/* first: the runtime's part */
	struct conn *conn;		/* = rt.conn */
	struct pop3_context *pctx;
	struct reader reader;
	enum pop3_state state;
	char *user;			/* from USER, until PASS */
	struct sasl sasl;
	bool in_sasl;
	char address[321];
	uint64_t mailbox_id;
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t msg_count;
	char holder[96];
	uint64_t lock_refreshed;	/* loop_now() of the last lock refresh */
	unsigned bad_commands;
	struct pop3_cached cache[POP3_READAHEAD];	/* read-ahead RETR bodies */
	size_t cache_count;
	size_t ahead_next;		/* maildrop index where read-ahead goes on */
	struct pop3_job *prefetch;	/* background read-ahead in flight */
	bool waiting;			/* RETR waits for the read-ahead */
	uint32_t waiting_uid;
};

static uint64_t maildrop_lock_ttl(const struct config *cfg)
{
	/* Outlive the idle timeout: a live session refreshes it well before. */
	return cfg->pop3.idle_timeout_ms * 2 + 60000;
}

/* ---- replies ---- */

static void reply(struct pop3_session *s, const char *fmt, ...) ATTR_PRINTF(2, 3);

static void reply(struct pop3_session *s, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	conn_write(s->conn, line, (size_t)n);
}

static bool plaintext_allowed(const struct pop3_session *s)
{
	const struct config *cfg = s->pctx->cfg;
	return cfg->pop3.plaintext_auth || conn_is_secure(s->conn, cfg->server.loopback_is_secure);
}

static void bad_command(struct pop3_session *s, const char *text)
{
	reply(s, "-ERR %s", text);
	if (++s->bad_commands >= s->pctx->cfg->pop3.max_bad_commands) {
		log_info("pop3 session=%s peer=%s event=too-many-bad-commands", conn_id(s->conn),
			 conn_peer_addr(s->conn));
		reply(s, "-ERR Too many bad commands, closing");
		session_close(&s->rt);
	}
}

static void send_capa(struct pop3_session *s)
{
	const struct config *cfg = s->pctx->cfg;
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
			   "AUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (s->state == POP3_AUTHORIZATION) {
		if (plaintext_allowed(s))
			buf_append_str(&b, "USER\r\nSASL PLAIN LOGIN\r\n");
		if (s->pctx->tls != NULL && !conn_is_tls(s->conn))
			buf_append_str(&b, "STLS\r\n");
	}
	buf_printf(&b, "EXPIRE NEVER\r\nLOGIN-DELAY %llu\r\nIMPLEMENTATION Cairn\r\n.\r\n",
		   (unsigned long long)(cfg->pop3.login_delay_ms / 1000));
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

/* ---- jobs ---- */

static void msg_collect(const struct store_msg_meta *meta, void *ctx)
{
	struct pop3_job *j = ctx;
	j->msgs = xrealloc(j->msgs, (j->msg_count + 1) * sizeof(*j->msgs));
	j->msgs[j->msg_count].uid = meta->uid;
	j->msgs[j->msg_count].size = meta->size;
	j->msgs[j->msg_count].deleted = false;
	j->msgs[j->msg_count].retrieved = false;
	j->msg_count++;
}

static void job_login(struct pop3_job *j, struct worker *w)
{
	struct store *st = store_jobs_get(w);
	struct dir_handle *dh = dir_worker_handle(w, st);
	const char *error = NULL;

	if (dir_authenticate(dh, j->user, j->password, j->client_ip, &j->auth, &error) < 0) {
		j->auth.status = DIR_AUTH_TEMPFAIL;
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "directory error");
	}
	/* The password is not needed any more. */
	memset(j->password, 0, strlen(j->password));
	if (j->auth.status != DIR_AUTH_OK)
		return;
	snprintf(j->address, sizeof(j->address), "%s", j->auth.address);
	if (dir_provision(dh, j->address, &error) == DIR_TEMPFAIL) {
		j->status = STORE_TEMPFAIL;
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "provisioning");
		return;
	}
	j->status = store_pop3_lock(st, j->address, j->holder, maildrop_lock_ttl(j->pctx->cfg),
				    j->pctx->cfg->pop3.login_delay_ms, &j->too_soon, &error);
	if (j->status != STORE_OK) {
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "lock");
		return;
	}
	j->status = store_mailbox_open(st, j->address, "INBOX", &j->mailbox, &error);
	if (j->status == STORE_OK)
		j->status = store_fetch(st, j->mailbox.id, NULL, 0, 0, msg_collect, j, &error);
	if (j->status != STORE_OK) {
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "maildrop");
		store_pop3_unlock(st, j->address, j->holder, &error);
	}
}

static void retr_collect(uint32_t uid, const char *data, size_t size, void *ctx)
{
	struct pop3_job *j = ctx;
	if (j->fetched_count == POP3_READAHEAD)
		return;
	struct pop3_cached *c = &j->fetched[j->fetched_count++];
	c->uid = uid;
	buf_init(&c->data, 0);
	pop3_write_multiline(data, size, -1, &c->data);
}

static void job_retr(struct pop3_job *j, struct worker *w)
{
	struct store *st = store_jobs_get(w);
	const char *error = NULL;
	if (j->top_lines < 0) {
		j->status = store_pop3_fetch_many(st, j->mailbox_id, j->ahead, j->ahead_count,
						  retr_collect, j, &error);
		if (j->status == STORE_OK && j->kind == JOB_RETR) {
			/* The requested message must be there; the rest may not. */
			j->status = STORE_NOTFOUND;
			for (size_t i = 0; i < j->fetched_count; i++) {
				if (j->fetched[i].uid == j->uid)
					j->status = STORE_OK;
			}
		} else if (j->status != STORE_OK) {
			snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "fetch");
		}
		return;
	}
	struct buf raw;
	buf_init(&raw, 0);
	j->status = store_fetch_raw(st, j->mailbox_id, j->uid, &raw, &error);
	if (j->status == STORE_OK)
		pop3_write_multiline(raw.data != NULL ? raw.data : "", raw.len, j->top_lines, &j->out);
	else
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "fetch");
	buf_free(&raw);
}

static void job_quit(struct pop3_job *j, struct worker *w)
{
	struct store *st = store_jobs_get(w);
	const char *error = NULL;
	j->status = store_pop3_commit(st, j->address, j->holder, j->mailbox_id, j->seen_uids,
				      j->seen_count, j->uids, j->uid_count, &error);
	if (j->status != STORE_OK)
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "update");
}

static void job_run(struct session_job *job, struct worker *w)
{
	struct pop3_job *j = (struct pop3_job *)job;
	const char *error = NULL;
	switch (j->kind) {
	case JOB_LOGIN:
		job_login(j, w);
		break;
	case JOB_RETR:
	case JOB_PREFETCH:
		job_retr(j, w);
		break;
	case JOB_QUIT:
		job_quit(j, w);
		break;
	case JOB_UNLOCK:
		j->status = store_pop3_unlock(store_jobs_get(w), j->address, j->holder, &error);
		break;
	case JOB_REFRESH:
		j->status = store_pop3_refresh(store_jobs_get(w), j->address, j->holder,
					       maildrop_lock_ttl(j->pctx->cfg), &error);
		break;
	}
	store_jobs_note(w);
	if (j->status == STORE_TEMPFAIL || j->auth.status == DIR_AUTH_TEMPFAIL)
		metrics_inc(&metrics.store_errors);
}

static void job_unlock_detached(struct pop3_context *pctx, const char *address,
				const char *holder);

static void job_free(struct session_job *job, bool orphaned)
{
	struct pop3_job *j = (struct pop3_job *)job;
	/* The conn went away while the login ran: the lock it took has no
	 * session to release it at QUIT or close, so release it now. */
	if (orphaned && j->kind == JOB_LOGIN && j->auth.status == DIR_AUTH_OK &&
	    j->status == STORE_OK)
		job_unlock_detached(j->pctx, j->address, j->holder);
	/* A failed UPDATE rolled back and kept the lock (only CONFLICT means
	 * it is gone): release it whether or not the session is still there. */
	if (j->kind == JOB_QUIT && j->status != STORE_OK && j->status != STORE_CONFLICT)
		job_unlock_detached(j->pctx, j->address, j->holder);
	if (j->password != NULL) {
		memset(j->password, 0, strlen(j->password));
		free(j->password);
	}
	free(j->msgs);
	free(j->uids);
	free(j->seen_uids);
	for (size_t i = 0; i < j->fetched_count; i++)
		buf_free(&j->fetched[i].data);
	buf_free(&j->out);
	free(j);
}

static void job_done(struct session *rt, struct session_job *job);

static struct pop3_job *job_new(struct pop3_session *s, enum pop3_job_kind kind)
{
	struct pop3_job *j = xcalloc(1, sizeof(*j));
	session_job_init(&j->base, job_run, job_done, job_free);
	j->kind = kind;
	j->pctx = s->pctx;
	buf_init(&j->out, 0);
	snprintf(j->holder, sizeof(j->holder), "%s", s->holder);
	snprintf(j->address, sizeof(j->address), "%s", s->address);
	snprintf(j->client_ip, sizeof(j->client_ip), "%s", conn_peer_addr(s->conn));
	j->mailbox_id = s->mailbox_id;
	j->top_lines = -1;
	return j;
}

static void job_submit(struct pop3_session *s, struct pop3_job *j)
{
	session_submit(&s->rt, &j->base);
}

/* Release a maildrop lock with no session left to wait for the answer. */
static void job_unlock_detached(struct pop3_context *pctx, const char *address,
				const char *holder)
{
	struct pop3_job *j = xcalloc(1, sizeof(*j));
	session_job_init(&j->base, job_run, NULL, job_free);
	j->kind = JOB_UNLOCK;
	j->pctx = pctx;
	buf_init(&j->out, 0);
	snprintf(j->address, sizeof(j->address), "%s", address);
	snprintf(j->holder, sizeof(j->holder), "%s", holder);
	session_submit_detached(pctx->pool, &j->base);
}

/* ---- finishing jobs on the loop thread ---- */

static void login_done(struct pop3_session *s, struct pop3_job *j)
{
	const char *id = conn_id(s->conn);
	switch (j->auth.status) {
	case DIR_AUTH_OK:
		break;
	case DIR_AUTH_FAIL:
		log_info("pop3 session=%s peer=%s user=%s event=auth-failed failures=%u", id,
			 conn_peer_addr(s->conn), j->user, j->auth.failures);
		if (j->auth.delay_ms > 0) {
			/* Hold the answer: slows down password guessing. */
			static const char failed[] = "-ERR [AUTH] Authentication failed\r\n";
			session_reply_later(&s->rt, failed, sizeof(failed) - 1, j->auth.delay_ms);
			return;
		}
		reply(s, "-ERR [AUTH] Authentication failed");
		return;
	case DIR_AUTH_LOCKED:
		log_info("pop3 session=%s peer=%s user=%s event=auth-locked retry_after_ms=%llu",
			 id, conn_peer_addr(s->conn), j->user,
			 (unsigned long long)j->auth.retry_after_ms);
		reply(s, "-ERR [AUTH] Too many failed logins; try again later");
		return;
	case DIR_AUTH_TEMPFAIL:
		log_warn("pop3 session=%s user=%s event=auth-tempfail reason=\"%s\"", id, j->user,
			 j->error);
		reply(s, "-ERR [SYS/TEMP] Authentication is temporarily unavailable");
		return;
	}
	if (j->status == STORE_CONFLICT && j->too_soon) {
		/* RFC 2449 8.1.1: logins more often than LOGIN-DELAY. */
		log_info("pop3 session=%s user=%s event=login-delay", id, j->address);
		reply(s, "-ERR [LOGIN-DELAY] Minimum time between logins not yet elapsed");
		return;
	}
	if (j->status == STORE_CONFLICT) {
		log_info("pop3 session=%s user=%s event=maildrop-in-use", id, j->address);
		reply(s, "-ERR [IN-USE] Maildrop is locked by another POP3 session");
		return;
	}
	if (j->status != STORE_OK) {
		log_warn("pop3 session=%s user=%s event=maildrop-failed reason=\"%s\"", id,
			 j->address, j->error);
		reply(s, "-ERR [SYS/TEMP] Maildrop unavailable, try again later");
		return;
	}
	snprintf(s->address, sizeof(s->address), "%s", j->address);
	s->mailbox_id = j->mailbox.id;
	s->uidvalidity = j->mailbox.uidvalidity;
	s->msgs = j->msgs;
	s->msg_count = j->msg_count;
	j->msgs = NULL;
	s->state = POP3_TRANSACTION;
	s->lock_refreshed = loop_now(conn_loop(s->conn));
	uint64_t octets = 0;
	for (size_t i = 0; i < s->msg_count; i++)
		octets += s->msgs[i].size;
	log_info("pop3 session=%s peer=%s user=%s event=login messages=%zu tls=%s", id,
		 conn_peer_addr(s->conn), s->address, s->msg_count,
		 conn_is_tls(s->conn) ? "yes" : "no");
	reply(s, "+OK Maildrop locked and ready, %zu messages (%llu octets)", s->msg_count,
	      (unsigned long long)octets);
}

static void cache_clear(struct pop3_session *s)
{
	for (size_t i = 0; i < s->cache_count; i++)
		buf_free(&s->cache[i].data);
	s->cache_count = 0;
}

/* Send RETR's reply from the read-ahead cache. Returns false if uid is not
 * cached. */
static bool send_cached(struct pop3_session *s, uint32_t uid)
{
	for (size_t i = 0; i < s->cache_count; i++) {
		if (s->cache[i].uid != uid)
			continue;
		conn_cork(s->conn, true);
		reply(s, "+OK");
		conn_write(s->conn, s->cache[i].data.data, s->cache[i].data.len);
		conn_cork(s->conn, false);
		buf_free(&s->cache[i].data);
		s->cache[i] = s->cache[--s->cache_count];
		/* RFC 1939 leaves it open; IMAP users expect a downloaded
		 * message to be \Seen: that is set at QUIT. */
		for (size_t k = 0; k < s->msg_count; k++) {
			if (s->msgs[k].uid == uid)
				s->msgs[k].retrieved = true;
		}
		return true;
	}
	return false;
}

static bool cached(const struct pop3_session *s, uint32_t uid)
{
	for (size_t i = 0; i < s->cache_count; i++) {
		if (s->cache[i].uid == uid)
			return true;
	}
	return false;
}

/* Take over a job's fetched bodies into the cache. */
static void cache_add(struct pop3_session *s, struct pop3_job *j)
{
	for (size_t i = 0; i < j->fetched_count; i++) {
		if (s->cache_count < POP3_READAHEAD && !cached(s, j->fetched[i].uid)) {
			s->cache[s->cache_count++] = j->fetched[i];
			buf_init(&j->fetched[i].data, 0);
		}
	}
}

/* Choose the messages to fetch, from maildrop index from on: the first one
 * always, then the next ones not yet retrieved, deleted or cached, within
 * the read-ahead limits. */
static void plan_ahead(struct pop3_session *s, struct pop3_job *j, size_t from)
{
	uint64_t bytes = 0;
	size_t i;
	for (i = from; i < s->msg_count; i++) {
		const struct pop3_msg *n = &s->msgs[i];
		if (j->ahead_count > 0 && (n->deleted || n->retrieved || cached(s, n->uid)))
			continue;
		if (j->ahead_count > 0 &&
		    (bytes + n->size > POP3_READAHEAD_BYTES ||
		     j->ahead_count + s->cache_count >= POP3_READAHEAD))
			break;
		j->ahead[j->ahead_count++] = n->uid;
		bytes += n->size;
	}
	j->ahead_end = i;
}

/* Keep the cache filled while the client downloads: when half of it is
 * used, fetch the next batch in the background, without pausing the conn. */
static void maybe_prefetch(struct pop3_session *s)
{
	if (s->prefetch != NULL || s->state != POP3_TRANSACTION || session_busy(&s->rt) ||
	    s->cache_count > POP3_READAHEAD / 2)
		return;
	size_t from = s->ahead_next;
	while (from < s->msg_count && (s->msgs[from].deleted || s->msgs[from].retrieved ||
				       cached(s, s->msgs[from].uid)))
		from++;
	s->ahead_next = from;
	if (from >= s->msg_count)
		return;
	struct pop3_job *j = job_new(s, JOB_PREFETCH);
	plan_ahead(s, j, from);
	s->ahead_next = j->ahead_end;
	s->prefetch = j;
	session_submit_background(&s->rt, &j->base);
}

static void prefetch_done(struct pop3_session *s, struct pop3_job *j)
{
	s->prefetch = NULL;
	if (j->status == STORE_OK)
		cache_add(s, j);
	if (s->waiting) {
		s->waiting = false;
		if (!send_cached(s, s->waiting_uid))
			reply(s, "-ERR Message was deleted by another session");
		session_wait(&s->rt, false);
	}
	maybe_prefetch(s);
}

static void job_done(struct session *rt, struct session_job *job)
{
	struct pop3_job *j = (struct pop3_job *)job;
	struct pop3_session *s = (struct pop3_session *)rt;
	switch (j->kind) {
	case JOB_LOGIN:
		login_done(s, j);
		break;
	case JOB_PREFETCH:
		prefetch_done(s, j);
		break;
	case JOB_RETR:
		if (j->status == STORE_OK && j->top_lines >= 0) {
			conn_cork(s->conn, true);
			reply(s, "+OK");
			conn_write(s->conn, j->out.data, j->out.len);
			conn_cork(s->conn, false);
		} else if (j->status == STORE_OK) {
			/* Keep the read-ahead, send the one asked for. */
			cache_add(s, j);
			if (j->ahead_end > s->ahead_next)
				s->ahead_next = j->ahead_end;
			send_cached(s, j->uid);
			maybe_prefetch(s);
		} else if (j->status == STORE_NOTFOUND) {
			reply(s, "-ERR Message was deleted by another session");
		} else {
			log_warn("pop3 session=%s user=%s uid=%u event=retr-failed reason=\"%s\"",
				 conn_id(s->conn), s->address, j->uid, j->error);
			reply(s, "-ERR [SYS/TEMP] Cannot read the message now, try again");
		}
		break;
	case JOB_QUIT:
		if (j->status == STORE_OK) {
			log_info("pop3 session=%s user=%s event=logout deleted=%zu",
				 conn_id(s->conn), s->address, j->uid_count);
			reply(s, "+OK Cairn POP3 server signing off (%zu messages deleted)",
			      j->uid_count);
		} else {
			log_warn("pop3 session=%s user=%s event=update-failed reason=\"%s\"",
				 conn_id(s->conn), s->address, j->error);
			reply(s, "-ERR [SYS/TEMP] Some deleted messages not removed");
		}
		/* The lock is gone: released by the commit, or by job_free
		 * after a failed one. */
		s->state = POP3_AUTHORIZATION;
		s->address[0] = '\0';
		session_close(&s->rt);
		break;
	case JOB_REFRESH:
		s->lock_refreshed = loop_now(conn_loop(s->conn));
		break;
	case JOB_UNLOCK:
		break;
	}
}

/* ---- commands ---- */

static void start_login(struct pop3_session *s, const char *user, const char *password)
{
	struct pop3_job *j = job_new(s, JOB_LOGIN);
	snprintf(j->user, sizeof(j->user), "%s", user);
	j->password = xstrdup(password);
	job_submit(s, j);
}

static struct pop3_msg *msg_get(struct pop3_session *s, uint32_t n)
{
	if (n == 0 || n > s->msg_count || s->msgs[n - 1].deleted)
		return NULL;
	return &s->msgs[n - 1];
}

static void cmd_stat(struct pop3_session *s)
{
	size_t count = 0;
	uint64_t octets = 0;
	for (size_t i = 0; i < s->msg_count; i++) {
		if (!s->msgs[i].deleted) {
			count++;
			octets += s->msgs[i].size;
		}
	}
	reply(s, "+OK %zu %llu", count, (unsigned long long)octets);
}

static void uidl_of(const struct pop3_session *s, const struct pop3_msg *m, char *out, size_t size)
{
	/* Stable forever and the same in every session: uidvalidity + uid. */
	snprintf(out, size, "%08x%08x", s->uidvalidity, m->uid);
}

static void cmd_list_or_uidl(struct pop3_session *s, const struct pop3_command *cmd, bool uidl)
{
	char id[32];
	if (cmd->has_number) {
		struct pop3_msg *m = msg_get(s, cmd->number);
		if (m == NULL) {
			reply(s, "-ERR No such message");
			return;
		}
		if (uidl) {
			uidl_of(s, m, id, sizeof(id));
			reply(s, "+OK %u %s", cmd->number, id);
		} else {
			reply(s, "+OK %u %llu", cmd->number, (unsigned long long)m->size);
		}
		return;
	}
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "+OK\r\n");
	for (size_t i = 0; i < s->msg_count; i++) {
		if (s->msgs[i].deleted)
			continue;
		if (uidl) {
			uidl_of(s, &s->msgs[i], id, sizeof(id));
			buf_printf(&b, "%zu %s\r\n", i + 1, id);
		} else {
			buf_printf(&b, "%zu %llu\r\n", i + 1, (unsigned long long)s->msgs[i].size);
		}
	}
	buf_append_str(&b, ".\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_command *cmd, long top_lines)
{
	struct pop3_msg *m = msg_get(s, cmd->number);
	if (m == NULL) {
		reply(s, "-ERR No such message");
		return;
	}
	if (top_lines < 0 && send_cached(s, m->uid)) {
		maybe_prefetch(s);
		return;
	}
	if (top_lines < 0 && s->prefetch != NULL) {
		for (size_t i = 0; i < s->prefetch->ahead_count; i++) {
			if (s->prefetch->ahead[i] == m->uid) {
				/* On its way: answer when the read-ahead lands. */
				s->waiting = true;
				s->waiting_uid = m->uid;
				session_wait(&s->rt, true);
				return;
			}
		}
	}
	struct pop3_job *j = job_new(s, JOB_RETR);
	j->uid = m->uid;
	j->top_lines = top_lines;
	if (top_lines < 0)
		plan_ahead(s, j, cmd->number - 1);
	job_submit(s, j);
}

static void cmd_quit(struct pop3_session *s)
{
	if (s->state != POP3_TRANSACTION) {
		reply(s, "+OK Cairn POP3 server signing off");
		session_close(&s->rt);
		return;
	}
	s->state = POP3_UPDATE;
	struct pop3_job *j = job_new(s, JOB_QUIT);
	j->uids = xmalloc((s->msg_count + 1) * sizeof(*j->uids));
	j->seen_uids = xmalloc((s->msg_count + 1) * sizeof(*j->seen_uids));
	for (size_t i = 0; i < s->msg_count; i++) {
		if (s->msgs[i].deleted)
			j->uids[j->uid_count++] = s->msgs[i].uid;
		else if (s->msgs[i].retrieved)
			j->seen_uids[j->seen_count++] = s->msgs[i].uid;
	}
	job_submit(s, j);
}

static void sasl_reply(struct pop3_session *s, int ret, struct buf *challenge, const char *error)
{
	if (ret == 0) {
		reply(s, "+ %s", challenge->data != NULL ? challenge->data : "");
		return;
	}
	s->in_sasl = false;
	if (ret < 0) {
		sasl_reset(&s->sasl);
		bad_command(s, error);
		return;
	}
	start_login(s, s->sasl.authcid, s->sasl.password);
	sasl_reset(&s->sasl);
}

static void cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->argc == 0) {
		/* RFC 1734 style mechanism list, still used by some clients. */
		if (plaintext_allowed(s))
			conn_printf(s->conn, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n");
		else
			conn_printf(s->conn, "+OK\r\n.\r\n");
		return;
	}
	enum sasl_mech mech;
	if (sasl_mech_parse(cmd->argv[0], &mech) < 0) {
		bad_command(s, "Unsupported authentication mechanism");
		return;
	}
	if (!plaintext_allowed(s)) {
		reply(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
		return;
	}
	sasl_begin(&s->sasl, mech);
	s->in_sasl = true;
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, cmd->argc > 1 ? cmd->argv[1] : NULL, &challenge, &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

static void sasl_continue(struct pop3_session *s, const char *line)
{
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, line, &challenge, &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

static void cmd_stls(struct pop3_session *s)
{
	if (s->pctx->tls == NULL) {
		bad_command(s, "STLS not available");
		return;
	}
	if (conn_is_tls(s->conn)) {
		bad_command(s, "Already using TLS");
		return;
	}
	reply(s, "+OK Begin TLS negotiation now");
	conn_starttls(s->conn, tls_server_ctx(s->pctx->tls));
	/* RFC 2595: the session starts over; nothing learned before counts. */
	free(s->user);
	s->user = NULL;
	reader_reset(&s->reader);
}

static void run_authorization(struct pop3_session *s, const struct pop3_command *cmd)
{
	switch (cmd->cmd) {
	case POP3_CMD_CAPA:
		send_capa(s);
		return;
	case POP3_CMD_QUIT:
		cmd_quit(s);
		return;
	case POP3_CMD_NOOP:
		reply(s, "+OK");	/* harmless; some clients probe with it */
		return;
	case POP3_CMD_STLS:
		cmd_stls(s);
		return;
	case POP3_CMD_USER:
		if (!plaintext_allowed(s)) {
			reply(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
			return;
		}
		free(s->user);
		s->user = xstrdup(cmd->argv[0]);
		reply(s, "+OK Send your password");
		return;
	case POP3_CMD_PASS:
		if (s->user == NULL) {
			bad_command(s, "USER first");
			return;
		}
		if (!plaintext_allowed(s)) {
			reply(s, "-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS");
			return;
		}
		start_login(s, s->user, cmd->argv[0]);
		free(s->user);
		s->user = NULL;
		return;
	case POP3_CMD_AUTH:
		cmd_auth(s, cmd);
		return;
	case POP3_CMD_APOP:
		/* Needs the plaintext password on the server: never offered. */
		bad_command(s, "APOP not supported");
		return;
	default:
		bad_command(s, "Not allowed before login");
		return;
	}
}

static void maybe_refresh_lock(struct pop3_session *s)
{
	uint64_t now = loop_now(conn_loop(s->conn));
	if (now - s->lock_refreshed < s->pctx->cfg->pop3.idle_timeout_ms / 2)
		return;
	job_submit(s, job_new(s, JOB_REFRESH));
}

static void run_transaction(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct pop3_msg *m;
	switch (cmd->cmd) {
	case POP3_CMD_STAT:
		cmd_stat(s);
		break;
	case POP3_CMD_LIST:
		cmd_list_or_uidl(s, cmd, false);
		break;
	case POP3_CMD_UIDL:
		cmd_list_or_uidl(s, cmd, true);
		break;
	case POP3_CMD_RETR:
		cmd_retr(s, cmd, -1);
		break;
	case POP3_CMD_TOP:
		cmd_retr(s, cmd, (long)cmd->number2);
		break;
	case POP3_CMD_DELE:
		m = msg_get(s, cmd->number);
		if (m == NULL) {
			reply(s, "-ERR No such message");
			break;
		}
		m->deleted = true;
		reply(s, "+OK Message %u deleted", cmd->number);
		break;
	case POP3_CMD_NOOP:
		reply(s, "+OK");
		break;
	case POP3_CMD_RSET:
		for (size_t i = 0; i < s->msg_count; i++)
			s->msgs[i].deleted = false;
		cmd_stat(s);
		break;
	case POP3_CMD_QUIT:
		cmd_quit(s);
		break;
	case POP3_CMD_CAPA:
		send_capa(s);
		break;
	default:
		bad_command(s, "Not allowed after login");
		break;
	}
}

static void run_line(struct pop3_session *s, char *line, size_t len)
{
	if (s->in_sasl) {
		line[len] = '\0';
		sasl_continue(s, line);
		return;
	}
	struct pop3_command cmd;
	const char *error = NULL;
	if (pop3_parse_command(line, len, &cmd, &error) < 0) {
		bad_command(s, error);
		return;
	}
	if (cmd.cmd == POP3_CMD_UNKNOWN) {
		bad_command(s, "Unknown command");
		return;
	}
	log_debug("pop3 session=%s cmd=%s", conn_id(s->conn), cmd.name);
	if (s->state == POP3_AUTHORIZATION)
		run_authorization(s, &cmd);
	else
		run_transaction(s, &cmd);
}

static void pop3_session_input(struct session *rt)
{
	struct pop3_session *s = (struct pop3_session *)rt;
	struct buf *in = conn_input(s->conn);

	while (in->len > 0 && !session_busy(&s->rt)) {
		/* A lock refresh, if due, goes first: it pauses the conn. */
		if (s->state == POP3_TRANSACTION) {
			maybe_refresh_lock(s);
			if (session_busy(&s->rt))
				return;
		}
		struct reader_item item;
		size_t consumed;
		s->reader.max_line = s->in_sasl ? POP3_MAX_AUTH_LINE : POP3_MAX_AUTH_LINE;
		int ret = reader_next(&s->reader, in->data, in->len, &item, &consumed);
		if (ret == READER_TOO_LONG) {
			buf_consume(in, consumed);
			bad_command(s, "Line too long");
			continue;
		}
		if (ret != READER_LINE) {
			buf_consume(in, consumed);
			if (consumed == 0)
				return;
			continue;
		}
		/* Commands are short (RFC 2449: 255 octets); only AUTH lines may
		 * carry a long initial response. */
		if (item.len > POP3_MAX_LINE - 2 && !s->in_sasl &&
		    str_ncasecmp(item.data, "AUTH ", 5) != 0) {
			buf_consume(in, consumed);
			bad_command(s, "Line too long");
			continue;
		}
		/* Parse in place: the byte after the line (CR or LF) becomes NUL. */
		char *line = (char *)item.data;
		run_line(s, line, item.len);
		buf_consume(in, consumed);
	}
}

static void pop3_session_timeout(struct session *rt, enum conn_timeout why)
{
	struct pop3_session *s = (struct pop3_session *)rt;
	reply(s, why == CONN_TIMEOUT_IDLE ? "-ERR Autologout; idle for too long" :
	      "-ERR Command not completed in time; closing");
	session_close(&s->rt);
}

static void pop3_session_shutdown(struct session *rt)
{
	struct pop3_session *s = (struct pop3_session *)rt;
	reply(s, "-ERR [SYS/TEMP] Server shutting down");
	session_close(&s->rt);
}

/* The conn is gone and no job is in flight. */
static void pop3_session_free(struct session *rt)
{
	struct pop3_session *s = (struct pop3_session *)rt;
	if (s->state == POP3_TRANSACTION) {
		/* No QUIT: release the maildrop and delete nothing (RFC 1939 6). */
		job_unlock_detached(s->pctx, s->address, s->holder);
	}
	sasl_reset(&s->sasl);
	cache_clear(s);
	free(s->user);
	free(s->msgs);
	free(s);
}

static const struct session_ops pop3_ops = {
	.input = pop3_session_input,
	.timeout = pop3_session_timeout,
	.shutdown = pop3_session_shutdown,
	.free = pop3_session_free,
};

void pop3_session_accept(struct conn *c, void *ctx)
{
	struct pop3_context *pctx = ctx;
	struct pop3_session *s = xcalloc(1, sizeof(*s));
	session_init(&s->rt, c, pctx->pool, &pop3_ops, "pop3");
	s->conn = c;
	s->pctx = pctx;
	s->state = POP3_AUTHORIZATION;
	reader_init(&s->reader, POP3_MAX_AUTH_LINE);
	snprintf(s->holder, sizeof(s->holder), "%.60s:%d:%.16s", pctx->hostname, (int)getpid(),
		 conn_id(c));
	conn_set_input_max(c, POP3_MAX_AUTH_LINE + 1024);
	conn_set_idle_timeout(c, pctx->cfg->pop3.idle_timeout_ms);
	conn_start(c);
	/* With implicit TLS this is queued until the handshake is done. */
	reply(s, "+OK Cairn POP3 server ready");
}
