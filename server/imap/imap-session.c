/* One IMAP connection: the byte stream goes straight into the incremental
 * command parser (literals, APPEND streaming and {N+} smuggling are its
 * business), complete commands are looked up in a table of allowed states
 * and run; anything touching the directory or the store is a job on a
 * worker, with the conn paused so pipelined commands are answered in order.
 * This file has the session core and the any-state/not-authenticated
 * commands; mailbox and message commands live in imap-cmd-*.c. */
#include "autoconf.h"
#include "imap-private.h"
#include "config.h"
#include "conn.h"
#include "directory.h"
#include "log.h"
#include "metrics.h"
#include "mutf7.h"
#include "store-jobs.h"
#include "store.h"
#include "tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_PREAUTH_MAX_LITERAL 8192
#define IMAP_MAX_LITERAL (1024 * 1024)

/* ---- replies ---- */

void imap_reply(struct imap_session *s, const char *fmt, ...)
{
	struct buf b;
	buf_init(&b, 0);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	buf_append(&b, "\r\n", 2);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static bool plaintext_allowed(const struct imap_session *s)
{
	const struct config *cfg = s->ictx->cfg;
	return cfg->imap.plaintext_auth || conn_is_secure(s->conn, cfg->server.loopback_is_secure);
}

static void capabilities(const struct imap_session *s, struct buf *b)
{
	buf_append_str(b, "IMAP4rev1 IMAP4rev2");
	if (s->state == IMAP_STATE_NOTAUTH) {
		if (s->ictx->tls != NULL && !conn_is_tls(s->conn))
			buf_append_str(b, " STARTTLS");
		if (plaintext_allowed(s))
			buf_append_str(b, " AUTH=PLAIN AUTH=LOGIN");
		else
			buf_append_str(b, " LOGINDISABLED");
	}
	buf_printf(b, " SASL-IR LITERAL+ ENABLE IDLE UIDPLUS MOVE UNSELECT CHILDREN NAMESPACE ID"
		   " SPECIAL-USE CREATE-SPECIAL-USE LIST-EXTENDED LIST-STATUS ESEARCH STATUS=SIZE MULTIAPPEND"
		   " BINARY APPENDLIMIT=%llu UTF8=ACCEPT CONDSTORE QRESYNC SEARCHRES"
		   " SORT SORT=DISPLAY ESORT THREAD=ORDEREDSUBJECT THREAD=REFERENCES"
		   " CONTEXT=SEARCH CONTEXT=SORT",
		   (unsigned long long)s->ictx->cfg->imap.max_append);
	buf_append_str(b, " ACL RIGHTS=texk LIST-MYRIGHTS");
	buf_append_str(b, " PREVIEW");	/* RFC 8970 */
	buf_append_str(b, " WITHIN");	/* RFC 5032: SEARCH OLDER/YOUNGER */
	/* RFC 9208, RFC 5464, RFC 8474, RFC 8514 */
	buf_append_str(b, " QUOTA QUOTA=RES-STORAGE QUOTA=RES-MESSAGE QUOTASET"
		       " METADATA METADATA-SERVER OBJECTID SAVEDATE");
	if (s->state != IMAP_STATE_NOTAUTH && !conn_is_compressed(s->conn))
		buf_append_str(b, " COMPRESS=DEFLATE");
	buf_append_str(b, " NOTIFY");	/* RFC 5465 */
	buf_append_str(b, " CATENATE URLAUTH");	/* RFC 4469, RFC 4467 */
	buf_append_str(b, " UIDONLY");	/* RFC 9586 */
}

static void close_session(struct imap_session *s)
{
	s->closing = true;
	s->state = IMAP_STATE_LOGOUT;
	session_close(&s->rt);
}

void imap_bad(struct imap_session *s, const char *tag, const char *reason)
{
	imap_reply(s, "%s BAD %s", tag, reason);
	if (++s->bad_commands >= s->ictx->cfg->imap.max_bad_commands) {
		log_info("imap session=%s peer=%s event=too-many-bad-commands", conn_id(s->conn),
			 conn_peer_addr(s->conn));
		imap_reply(s, "* BYE Too many invalid commands");
		close_session(s);
	}
}

static void set_parser_flags(struct imap_session *s)
{
	unsigned flags = IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_BINARY;
	if (s->utf8)
		flags |= IMAP_PARSER_UTF8;
	imap_parser_set_flags(s->parser, flags);
}

static struct imap_parser *parser_new(const struct config *cfg, bool authenticated)
{
	struct imap_parser_limits lim = {
		.max_line = cfg->imap.max_line,
		.max_command = cfg->imap.max_line * 4 + (authenticated ? IMAP_MAX_LITERAL : 0),
		.max_literal = authenticated ? IMAP_MAX_LITERAL : IMAP_PREAUTH_MAX_LITERAL,
		.max_append = cfg->imap.max_append,
		.max_depth = 16,
		.max_args = authenticated ? 10000 : 64,
	};
	return imap_parser_create(&lim, IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_BINARY);
}

/* ---- mailbox names and views ---- */

void imap_write_mailbox(const struct imap_session *s, struct buf *out, const char *name)
{
	if (s->utf8) {
		imap_write_astring(out, name, strlen(name), IMAP_QUOTE_UTF8);
		return;
	}
	struct buf enc;
	buf_init(&enc, 0);
	const char *error;
	if (mutf7_from_utf8(name, strlen(name), &enc, &error) < 0)
		buf_append_str(&enc, name);
	imap_write_astring(out, enc.data != NULL ? enc.data : "", enc.len, 0);
	buf_free(&enc);
}

int imap_mailbox_decode(const struct imap_session *s, const char *name, struct buf *out,
			const char **error_r)
{
	name = imap_mailbox_normalize(name);
	if (s->utf8) {
		if (!imap_utf8_valid(name, strlen(name))) {
			*error_r = "Mailbox name is not valid UTF-8";
			return -1;
		}
		buf_append_str(out, name);
	} else if (mutf7_to_utf8(name, strlen(name), out, error_r) < 0) {
		return -1;
	}
	if (out->len == 0) {
		*error_r = "Empty mailbox name";
		return -1;
	}
	return 0;
}

void imap_mailbox_free(struct imap_session *s)
{
	if (s->mbox == NULL)
		return;
	store_notify_unsubscribe(s->ictx->notify, &s->sub);
	free(s->mbox->name);
	free(s->mbox->uids);
	free(s->mbox->recent);
	free(s->mbox->seen);
	if (s->mbox->keywords != NULL)
		buf_free(s->mbox->keywords);
	free(s->mbox->keywords);
	free(s->mbox);
	s->mbox = NULL;
	imap_searchres_save(s, NULL, 0);	/* "$" is per selection (RFC 5182 2.1) */
	imap_context_free_all(s);		/* updates end with the selection (RFC 5267 4.3) */
	if (s->state == IMAP_STATE_SELECTED)
		s->state = IMAP_STATE_AUTH;
}

bool imap_fetch_begin(const struct imap_session *s, struct buf *out, uint32_t seq, uint32_t uid,
		      bool uid_item, bool implied_uid)
{
	if (s->uidonly) {
		buf_printf(out, "* %u UIDFETCH (", uid);
		if (!uid_item)
			return false;
	} else {
		buf_printf(out, "* %u FETCH (", seq);
		if (!uid_item && !implied_uid)
			return false;
	}
	buf_printf(out, "UID %u", uid);
	return true;
}

bool imap_use_vanished(const struct imap_session *s)
{
	return s->qresync || s->uidonly;
}

uint32_t imap_seq_of(const struct imap_mailbox *m, uint32_t uid)
{
	return imap_uid_position(m->uids, m->count, uid);
}

static bool is_recent(const struct imap_mailbox *m, uint32_t uid)
{
	for (size_t i = 0; i < m->recent_count; i++)
		if (uid >= m->recent[i].lo && uid <= m->recent[i].hi)
			return true;
	return false;
}

unsigned imap_to_store_flags(unsigned f)
{
	unsigned r = 0;
	if (f & IMAP_FLAG_SEEN)
		r |= STORE_FLAG_SEEN;
	if (f & IMAP_FLAG_ANSWERED)
		r |= STORE_FLAG_ANSWERED;
	if (f & IMAP_FLAG_FLAGGED)
		r |= STORE_FLAG_FLAGGED;
	if (f & IMAP_FLAG_DELETED)
		r |= STORE_FLAG_DELETED;
	if (f & IMAP_FLAG_DRAFT)
		r |= STORE_FLAG_DRAFT;
	return r;
}

void imap_write_msg_flags(const struct imap_mailbox *m, struct buf *out, unsigned f,
			  const char *keywords, uint32_t uid)
{
	unsigned sys = 0;
	f = imap_acl_flags(m, uid, f);	/* a reader's own \Seen on a shared mailbox */
	if (f & STORE_FLAG_SEEN)
		sys |= IMAP_FLAG_SEEN;
	if (f & STORE_FLAG_ANSWERED)
		sys |= IMAP_FLAG_ANSWERED;
	if (f & STORE_FLAG_FLAGGED)
		sys |= IMAP_FLAG_FLAGGED;
	if (f & STORE_FLAG_DELETED)
		sys |= IMAP_FLAG_DELETED;
	if (f & STORE_FLAG_DRAFT)
		sys |= IMAP_FLAG_DRAFT;
	if (m != NULL && is_recent(m, uid))
		sys |= IMAP_FLAG_RECENT;
	const char *kw[256];
	size_t n = 0;
	char *copy = xstrdup(keywords != NULL ? keywords : "");
	for (char *save = NULL, *t = strtok_r(copy, " ", &save); t != NULL && n < 256;
	     t = strtok_r(NULL, " ", &save))
		kw[n++] = t;
	imap_write_flags(out, sys, kw, n);
	free(copy);
}

void imap_set_to_uids(const struct imap_mailbox *m, struct imap_pool *pool,
		      const struct imap_seqset *set, bool uid, struct store_uid_range **ranges_r,
		      size_t *count_r)
{
	struct imap_seq_range *r;
	size_t n;
	uint32_t star = uid ? (m->count > 0 ? m->uids[m->count - 1] : 0) : (uint32_t)m->count;
	imap_seqset_resolve(pool, set, star, &r, &n);
	struct store_uid_range *out = xcalloc(n + 1, sizeof(*out));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t lo = r[i].lo, hi = r[i].hi;
		if (uid) {
			if (m->count == 0 || lo > m->uids[m->count - 1])
				continue;
			if (hi > m->uids[m->count - 1])
				hi = m->uids[m->count - 1];
		} else {
			if (lo > m->count)
				continue;
			if (hi > m->count)
				hi = (uint32_t)m->count;
			lo = m->uids[lo - 1];
			hi = m->uids[hi - 1];
		}
		out[k].lo = lo;
		out[k].hi = hi;
		k++;
	}
	*ranges_r = out;
	*count_r = k;
}

/* ---- jobs ---- */

static void job_run_cb(struct session_job *job, struct worker *w)
{
	struct imap_job *j = (struct imap_job *)job;
	struct store *st = store_jobs_get(w);
	j->more = false;
	bool allowed = imap_acl_refresh(j, st, w);	/* rights on a shared mailbox */
	if (j->run != NULL && allowed)
		j->run(j, st, w);
	if (j->more) {
		store_jobs_note(w);
		return;
	}
	/* No news from a shared mailbox whose r right was taken away. */
	if (j->sync_mode != IMAP_SYNC_NONE && j->s->mbox != NULL &&
	    (j->s->mbox->rights & IMAP_ACL_READ)) {
		imap_acl_seen_refresh(j->s->mbox, st);
		imap_sync_run(j, st);
	}
	store_jobs_note(w);
}

static void job_free_cb(struct session_job *job, bool orphaned)
{
	struct imap_job *j = (struct imap_job *)job;
	(void)orphaned;
	if (j->cleanup != NULL)
		j->cleanup(j);
	imap_sync_free(&j->sync);
	buf_free(&j->out);
	buf_free(&j->tagged);
	free(j->tag);
	free(j->cmd);
	free(j);
}

static void job_done_cb(struct session *rt, struct session_job *job)
{
	struct imap_job *j = (struct imap_job *)job;
	struct imap_session *s = (struct imap_session *)rt;
	if (j->more && !conn_is_closing(s->conn)) {
		/* A bounded batch: send it; the runtime runs the next round
		 * once the client has read most of it. */
		if (j->out.len > 0)
			conn_write(s->conn, j->out.data, j->out.len);
		buf_reset(&j->out);
		session_job_again(rt, job);
		return;
	}
	if (j->done != NULL)
		j->done(j);
	if (!conn_is_closing(s->conn)) {
		if (j->out.len > 0)
			conn_write(s->conn, j->out.data, j->out.len);
		if (j->sync.changed && s->mbox != NULL &&
		    !(j->sync_mode == IMAP_SYNC_NO_EXPUNGE && j->sync.has_expunges)) {
			if (j->sync.out.len > 0)
				conn_write(s->conn, j->sync.out.data, j->sync.out.len);
			imap_sync_apply(s, &j->sync);
		}
		if (j->tagged.len > 0)
			imap_reply(s, "%s %s", j->tag, j->tagged.data);
	}
	if (j->tag != NULL)
		log_debug("imap session=%s user=%s cmd=%s status=%.3s ms=%llu", conn_id(s->conn),
			  s->address[0] != '\0' ? s->address : "-", j->cmd,
			  j->tagged.data != NULL ? j->tagged.data : "",
			  (unsigned long long)(loop_now(conn_loop(s->conn)) - j->started));
	if (s->rt.held != NULL || conn_is_closing(s->conn))
		return;		/* a held reply, or closing */
	/* A notification that came while the job ran. */
	if (s->idling && s->idle_dirty && s->mbox != NULL && !s->closing)
		imap_idle_sync(s);
	/* NOTIFY: what arrived while the command ran. */
	imap_notify_flush(s);
}

void *imap_job_new(struct imap_session *s, size_t size, const struct imap_command *cmd,
		   imap_job_run_fn *run, enum imap_sync_mode sync_mode)
{
	struct imap_job *j = xcalloc(1, size);
	session_job_init(&j->base, job_run_cb, job_done_cb, job_free_cb);
	j->s = s;
	j->conn = s->conn;
	j->run = run;
	j->tag = cmd != NULL ? xstrdup(cmd->tag) : NULL;
	j->cmd = xstrdup(cmd != NULL ? cmd->name : "SYNC");
	j->cmd_flags = cmd != NULL ? s->cmd_flags : 0;
	j->sync_mode = sync_mode;
	j->started = loop_now(conn_loop(s->conn));
	buf_init(&j->out, 0);
	buf_init(&j->tagged, 0);
	buf_init(&j->sync.out, 0);
	return j;
}

void imap_job_discard(struct imap_job *j)
{
	job_free_cb(&j->base, false);
}

void imap_job_submit(struct imap_session *s, struct imap_job *j)
{
	session_submit(&s->rt, &j->base);
}

void imap_job_tagged(struct imap_job *j, const char *fmt, ...)
{
	buf_reset(&j->tagged);
	va_list ap;
	va_start(ap, fmt);
	buf_vprintf(&j->tagged, fmt, ap);
	va_end(ap);
}

void imap_job_store_error(struct imap_job *j, int status, const char *error)
{
	switch (status) {
	case STORE_NOTFOUND:
		imap_job_tagged(j, "NO [NONEXISTENT] %s", error != NULL ? error : "No such mailbox");
		break;
	case STORE_EXISTS:
		imap_job_tagged(j, "NO [ALREADYEXISTS] %s", error != NULL ? error : "Already exists");
		break;
	case STORE_INVALID:
		imap_job_tagged(j, "NO [CANNOT] %s", error != NULL ? error : "Refused");
		break;
	case STORE_OVERQUOTA:
		imap_job_tagged(j, "NO [OVERQUOTA] Quota exceeded");
		break;
	case STORE_CONFLICT:
		imap_job_tagged(j, "NO [INUSE] Mailbox busy, try again");
		break;
	default:
		log_warn("imap user=%s cmd=%s status=%s reason=\"%s\"", j->s->address, j->cmd,
			 store_result_str(status), error != NULL ? error : "");
		imap_job_tagged(j, "NO [UNAVAILABLE] Temporary failure, try again");
		break;
	}
}

/* ---- LOGIN / AUTHENTICATE ---- */

struct login_job {
	struct imap_job base;
	char user[321];
	char *password;
	char client_ip[64];
	struct dir_auth auth;
	int status;
};

static void login_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct login_job *j = (struct login_job *)job;
	struct dir_handle *dh = dir_worker_handle(w, st);
	const char *error = NULL;
	if (dir_authenticate(dh, j->user, j->password, j->client_ip, &j->auth, &error) < 0) {
		j->auth.status = DIR_AUTH_TEMPFAIL;
		snprintf(job->error, sizeof(job->error), "%s", error != NULL ? error : "directory");
	}
	memset(j->password, 0, strlen(j->password));
	if (j->auth.status != DIR_AUTH_OK)
		return;
	if (dir_provision(dh, j->auth.address, &error) == DIR_TEMPFAIL) {
		j->status = STORE_TEMPFAIL;
		snprintf(job->error, sizeof(job->error), "%s", error != NULL ? error : "provision");
	}
}

static void login_done(struct imap_job *job)
{
	struct login_job *j = (struct login_job *)job;
	struct imap_session *s = job->s;
	const char *id = conn_id(s->conn);
	switch (j->auth.status) {
	case DIR_AUTH_OK:
		break;
	case DIR_AUTH_FAIL:
		log_info("imap session=%s peer=%s user=%s cmd=LOGIN event=auth-failed failures=%u", id,
			 conn_peer_addr(s->conn), j->user, j->auth.failures);
		if (j->auth.delay_ms > 0) {
			char *held = xasprintf("%s NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
					       job->tag);
			session_reply_later(&s->rt, held, strlen(held), j->auth.delay_ms);
			free(held);
			return;
		}
		imap_job_tagged(job, "NO [AUTHENTICATIONFAILED] Authentication failed");
		return;
	case DIR_AUTH_LOCKED:
		log_info("imap session=%s peer=%s user=%s cmd=LOGIN event=auth-locked", id,
			 conn_peer_addr(s->conn), j->user);
		imap_job_tagged(job, "NO [AUTHENTICATIONFAILED] Too many failed logins; try later");
		return;
	default:
		log_warn("imap session=%s user=%s cmd=LOGIN event=auth-tempfail reason=\"%s\"", id,
			 j->user, job->error);
		imap_job_tagged(job, "NO [UNAVAILABLE] Authentication is temporarily unavailable");
		return;
	}
	if (j->status != STORE_OK) {
		log_warn("imap session=%s user=%s event=provision-failed reason=\"%s\"", id,
			 j->auth.address, job->error);
		imap_job_tagged(job, "NO [UNAVAILABLE] Mail store unavailable, try again");
		return;
	}
	snprintf(s->address, sizeof(s->address), "%s", j->auth.address);
	s->state = IMAP_STATE_AUTH;
	/* Looser limits once authenticated. */
	imap_parser_destroy(&s->parser);
	s->parser = parser_new(s->ictx->cfg, true);
	set_parser_flags(s);
	log_info("imap session=%s peer=%s user=%s event=login tls=%s", id, conn_peer_addr(s->conn),
		 s->address, conn_is_tls(s->conn) ? "yes" : "no");
	struct buf caps;
	buf_init(&caps, 0);
	capabilities(s, &caps);
	imap_job_tagged(job, "OK [CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

static void login_cleanup(struct imap_job *job)
{
	struct login_job *j = (struct login_job *)job;
	if (j->password != NULL) {
		memset(j->password, 0, strlen(j->password));
		free(j->password);
	}
}

static void start_login(struct imap_session *s, const struct imap_command *cmd,
			const char *user, const char *password)
{
	struct login_job *j = imap_job_new(s, sizeof(*j), cmd, login_run, IMAP_SYNC_NONE);
	if (cmd == NULL) {
		j->base.tag = xstrdup(s->sasl_tag);
		free(j->base.cmd);
		j->base.cmd = xstrdup("AUTHENTICATE");
	}
	j->base.done = login_done;
	j->base.cleanup = login_cleanup;
	snprintf(j->user, sizeof(j->user), "%s", user);
	j->password = xstrdup(password);
	snprintf(j->client_ip, sizeof(j->client_ip), "%s", conn_peer_addr(s->conn));
	imap_job_submit(s, &j->base);
}

static void cmd_login(struct imap_session *s, const struct imap_command *cmd)
{
	const char *user, *pass;
	size_t ul, pl;
	if (cmd->arg_count != 2 || !imap_arg_astring(&cmd->args[0], &user, &ul) ||
	    !imap_arg_astring(&cmd->args[1], &pass, &pl)) {
		imap_bad(s, cmd->tag, "LOGIN needs a user name and a password");
		return;
	}
	if (!plaintext_allowed(s)) {
		imap_reply(s, "%s NO [PRIVACYREQUIRED] Plaintext login disallowed; use STARTTLS",
			   cmd->tag);
		return;
	}
	if (ul >= 321 || strlen(user) != ul || strlen(pass) != pl) {
		imap_reply(s, "%s NO [AUTHENTICATIONFAILED] Authentication failed", cmd->tag);
		return;
	}
	start_login(s, cmd, user, pass);
}

static void sasl_finish(struct imap_session *s, int ret, struct buf *challenge, const char *error)
{
	if (ret == 0) {
		imap_reply(s, "+ %s", challenge->data != NULL ? challenge->data : "");
		return;
	}
	s->in_sasl = false;
	if (ret < 0) {
		sasl_reset(&s->sasl);
		imap_bad(s, s->sasl_tag, error != NULL ? error : "Invalid SASL response");
		free(s->sasl_tag);
		s->sasl_tag = NULL;
		return;
	}
	start_login(s, NULL, s->sasl.authcid, s->sasl.password);
	sasl_reset(&s->sasl);
}

static void cmd_authenticate(struct imap_session *s, const struct imap_command *cmd)
{
	const char *mech_name, *ir = NULL;
	enum sasl_mech mech;
	if (cmd->arg_count < 1 || cmd->arg_count > 2 || !imap_arg_atom(&cmd->args[0], &mech_name) ||
	    (cmd->arg_count == 2 && !imap_arg_atom(&cmd->args[1], &ir))) {
		imap_bad(s, cmd->tag, "AUTHENTICATE needs a mechanism");
		return;
	}
	if (sasl_mech_parse(mech_name, &mech) < 0) {
		imap_reply(s, "%s NO [CANNOT] Unsupported authentication mechanism", cmd->tag);
		return;
	}
	if (!plaintext_allowed(s)) {
		imap_reply(s, "%s NO [PRIVACYREQUIRED] Plaintext authentication disallowed; use STARTTLS",
			   cmd->tag);
		return;
	}
	free(s->sasl_tag);
	s->sasl_tag = xstrdup(cmd->tag);
	sasl_begin(&s->sasl, mech);
	s->in_sasl = true;
	struct buf ch;
	buf_init(&ch, 4096);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, ir, &ch, &error);
	sasl_finish(s, ret, &ch, error);
	buf_free(&ch);
}

static void sasl_line(struct imap_session *s, char *line)
{
	if (strcmp(line, "*") == 0) {
		s->in_sasl = false;
		sasl_reset(&s->sasl);
		imap_reply(s, "%s BAD Authentication cancelled", s->sasl_tag);
		return;
	}
	struct buf ch;
	buf_init(&ch, 4096);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, line, &ch, &error);
	sasl_finish(s, ret, &ch, error);
	buf_free(&ch);
}

/* ---- simple commands ---- */

static void cmd_capability(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "* CAPABILITY ");
	capabilities(s, &b);
	imap_reply(s, "%s", b.data);
	imap_reply(s, "%s OK CAPABILITY completed", cmd->tag);
	buf_free(&b);
}

static void cmd_logout(struct imap_session *s, const struct imap_command *cmd)
{
	imap_reply(s, "* BYE Cairn logging out");
	imap_reply(s, "%s OK LOGOUT completed", cmd->tag);
	log_info("imap session=%s user=%s cmd=LOGOUT event=logout", conn_id(s->conn),
		 s->address[0] != '\0' ? s->address : "-");
	close_session(s);
}

static void cmd_starttls(struct imap_session *s, const struct imap_command *cmd)
{
	if (s->ictx->tls == NULL || conn_is_tls(s->conn)) {
		imap_bad(s, cmd->tag, conn_is_tls(s->conn) ? "TLS already active" :
			 "STARTTLS not available");
		return;
	}
	imap_reply(s, "%s OK Begin TLS negotiation now", cmd->tag);
	conn_starttls(s->conn, tls_server_ctx(s->ictx->tls));
	/* Anything pipelined after STARTTLS was discarded by conn_starttls;
	 * the parser must forget any partial command as well. */
	imap_parser_reset(s->parser);
}

static void cmd_enable(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count == 0) {
		imap_bad(s, cmd->tag, "ENABLE needs capability names");
		return;
	}
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "* ENABLED");
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const char *name;
		if (!imap_arg_atom(&cmd->args[i], &name)) {
			buf_free(&b);
			imap_bad(s, cmd->tag, "ENABLE takes atoms");
			return;
		}
		if (str_casecmp(name, "IMAP4rev2") == 0 && !s->rev2) {
			s->rev2 = true;
			buf_append_str(&b, " IMAP4rev2");
		} else if (str_casecmp(name, "UTF8=ACCEPT") == 0 && !s->utf8) {
			s->utf8 = true;
			set_parser_flags(s);
			buf_append_str(&b, " UTF8=ACCEPT");
		} else if (str_casecmp(name, "CONDSTORE") == 0 && !s->condstore) {
			s->condstore = true;
			buf_append_str(&b, " CONDSTORE");
		} else if (str_casecmp(name, "QRESYNC") == 0 && !s->qresync) {
			/* RFC 7162 3.2.3: QRESYNC implies CONDSTORE. */
			s->qresync = true;
			s->condstore = true;
			buf_append_str(&b, " QRESYNC");
		} else if (str_casecmp(name, "UIDONLY") == 0 && !s->uidonly) {
			/* RFC 9586 3.1: from now on numbers are uids. */
			s->uidonly = true;
			buf_append_str(&b, " UIDONLY");
		}
	}
	imap_reply(s, "%s", b.data);
	imap_reply(s, "%s OK ENABLE completed", cmd->tag);
	buf_free(&b);
}

static void cmd_id(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *list;
	size_t n;
	if (cmd->arg_count != 1 || (cmd->args[0].type != IMAP_ARG_NIL &&
				    (!imap_arg_list(&cmd->args[0], &list, &n) || n % 2 != 0 || n > 60))) {
		imap_bad(s, cmd->tag, "ID takes NIL or a list of field/value pairs");
		return;
	}
	imap_reply(s, "* ID (\"name\" \"Cairn\" \"version\" \"%s\")", PACKAGE_VERSION);
	imap_reply(s, "%s OK ID completed", cmd->tag);
}

static void cmd_idle(struct imap_session *s, const struct imap_command *cmd)
{
	free(s->idle_tag);
	s->idle_tag = xstrdup(cmd->tag);
	s->idling = true;
	imap_reply(s, "+ idling");
	/* What changed before IDLE began is reported at once. */
	if (s->mbox != NULL)
		imap_idle_sync(s);
}

static void idle_line(struct imap_session *s, const char *line)
{
	s->idling = false;
	if (str_casecmp(line, "DONE") != 0) {
		imap_bad(s, s->idle_tag, "Expected DONE");
	} else {
		imap_reply(s, "%s OK IDLE terminated", s->idle_tag);
	}
	free(s->idle_tag);
	s->idle_tag = NULL;
}

static void notify_cb(uint64_t mailbox_id, uint64_t modseq, void *ctx)
{
	struct imap_session *s = ctx;
	(void)mailbox_id;
	if (s->mbox == NULL || (modseq != 0 && modseq <= s->mbox->modseq))
		return;
	if (imap_notify_selected_changed(s))
		return;		/* NOTIFY SELECTED: pushed between commands */
	if (s->rt.job != NULL || !s->idling) {
		s->idle_dirty = true;
		return;
	}
	if (conn_output_blocked(s->conn)) {
		/* The client is not reading: one sync when it has caught up,
		 * not output piling up with every delivery. */
		s->idle_dirty = true;
		session_notify_writable(&s->rt);
		return;
	}
	imap_idle_sync(s);
}

/* The client read what was queued: a sync that waited for it. */
static void imap_session_writable(struct session *rt)
{
	struct imap_session *s = (struct imap_session *)rt;
	if (s->idling && s->idle_dirty && s->mbox != NULL && !s->closing && s->rt.job == NULL)
		imap_idle_sync(s);
}

/* ---- the command table ---- */

#define ANY (IMAP_STATE_NOTAUTH | IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define AUTHD (IMAP_STATE_AUTH | IMAP_STATE_SELECTED)
#define SEL IMAP_STATE_SELECTED

static const struct imap_cmd_def commands[] = {
	{ "CAPABILITY", ANY, 0, cmd_capability },
	{ "NOOP", ANY, 0, imap_cmd_noop },
	{ "LOGOUT", ANY, 0, cmd_logout },
	{ "ID", ANY, 0, cmd_id },
	{ "STARTTLS", IMAP_STATE_NOTAUTH, 0, cmd_starttls },
	{ "LOGIN", IMAP_STATE_NOTAUTH, 0, cmd_login },
	{ "AUTHENTICATE", IMAP_STATE_NOTAUTH, 0, cmd_authenticate },
	{ "ENABLE", AUTHD, 0, cmd_enable },
	{ "NAMESPACE", AUTHD, 0, imap_cmd_namespace },
	{ "IDLE", AUTHD, 0, cmd_idle },
	{ "SELECT", AUTHD, 0, imap_cmd_select },
	{ "EXAMINE", AUTHD, IMAP_CMD_READONLY, imap_cmd_select },
	{ "CREATE", AUTHD, 0, imap_cmd_create },
	{ "DELETE", AUTHD, 0, imap_cmd_delete },
	{ "RENAME", AUTHD, 0, imap_cmd_rename },
	{ "SUBSCRIBE", AUTHD, 0, imap_cmd_subscribe },
	{ "UNSUBSCRIBE", AUTHD, 0, imap_cmd_unsubscribe },
	{ "LIST", AUTHD, 0, imap_cmd_list },
	{ "LSUB", AUTHD, 0, imap_cmd_lsub },
	{ "STATUS", AUTHD, 0, imap_cmd_status },
	{ "APPEND", AUTHD, IMAP_CMD_STREAMS, imap_cmd_append },
	{ "SETACL", AUTHD, 0, imap_cmd_setacl },
	{ "DELETEACL", AUTHD, 0, imap_cmd_deleteacl },
	{ "GETACL", AUTHD, 0, imap_cmd_getacl },
	{ "LISTRIGHTS", AUTHD, 0, imap_cmd_listrights },
	{ "MYRIGHTS", AUTHD, 0, imap_cmd_myrights },
	{ "GETQUOTA", AUTHD, 0, imap_cmd_getquota },
	{ "GETQUOTAROOT", AUTHD, 0, imap_cmd_getquotaroot },
	{ "SETQUOTA", AUTHD, 0, imap_cmd_setquota },
	{ "GETMETADATA", AUTHD, 0, imap_cmd_getmetadata },
	{ "SETMETADATA", AUTHD, 0, imap_cmd_setmetadata },
	{ "COMPRESS", AUTHD, 0, imap_cmd_compress },
	{ "GENURLAUTH", AUTHD, 0, imap_cmd_genurlauth },
	{ "RESETKEY", AUTHD, 0, imap_cmd_resetkey },
	{ "URLFETCH", AUTHD, 0, imap_cmd_urlfetch },
	{ "NOTIFY", AUTHD, 0, imap_cmd_notify },
	{ "CHECK", SEL, 0, imap_cmd_noop },
	{ "CLOSE", SEL, 0, imap_cmd_close },
	{ "UNSELECT", SEL, 0, imap_cmd_unselect },
	{ "EXPUNGE", SEL, IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ, imap_cmd_expunge },
	{ "UID EXPUNGE", SEL, IMAP_CMD_UID | IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ, imap_cmd_expunge },
	{ "SEARCH", SEL, IMAP_CMD_SEQ | IMAP_CMD_NEEDS_READ, imap_cmd_search },
	{ "UID SEARCH", SEL, IMAP_CMD_UID | IMAP_CMD_NEEDS_READ, imap_cmd_search },
	{ "SORT", SEL, IMAP_CMD_SEQ | IMAP_CMD_NEEDS_READ, imap_cmd_sort },
	{ "UID SORT", SEL, IMAP_CMD_UID | IMAP_CMD_NEEDS_READ, imap_cmd_sort },
	{ "THREAD", SEL, IMAP_CMD_SEQ | IMAP_CMD_NEEDS_READ, imap_cmd_thread },
	{ "UID THREAD", SEL, IMAP_CMD_UID | IMAP_CMD_NEEDS_READ, imap_cmd_thread },
	{ "CANCELUPDATE", SEL, 0, imap_cmd_cancelupdate },
	{ "FETCH", SEL, IMAP_CMD_SEQ | IMAP_CMD_NEEDS_READ, imap_cmd_fetch },
	{ "UID FETCH", SEL, IMAP_CMD_UID | IMAP_CMD_NEEDS_READ, imap_cmd_fetch },
	{ "STORE", SEL, IMAP_CMD_SEQ | IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ, imap_cmd_store },
	{ "UID STORE", SEL, IMAP_CMD_UID | IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ, imap_cmd_store },
	{ "COPY", SEL, IMAP_CMD_SEQ | IMAP_CMD_NEEDS_READ, imap_cmd_copy },
	{ "UID COPY", SEL, IMAP_CMD_UID | IMAP_CMD_NEEDS_READ, imap_cmd_copy },
	{ "MOVE", SEL, IMAP_CMD_SEQ | IMAP_CMD_MOVE | IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ,
	  imap_cmd_copy },
	{ "UID MOVE", SEL, IMAP_CMD_UID | IMAP_CMD_MOVE | IMAP_CMD_WRITE | IMAP_CMD_NEEDS_READ,
	  imap_cmd_copy },
};

static void drop_appends(struct imap_session *s)
{
	for (size_t i = 0; i < s->append_count; i++)
		buf_free(&s->append_msgs[i]);
	free(s->append_msgs);
	s->append_msgs = NULL;
	s->append_count = 0;
	s->append_failed = false;
	s->append_total = 0;
}

static void run_command(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_cmd_def *def = NULL;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd->name) == 0) {
			def = &commands[i];
			break;
		}
	}
	if (def == NULL) {
		drop_appends(s);
		imap_bad(s, cmd->tag, "Unknown command");
		return;
	}
	if ((def->states & s->state) == 0) {
		drop_appends(s);
		imap_bad(s, cmd->tag, s->state == IMAP_STATE_NOTAUTH ? "Log in first" :
			 s->state == IMAP_STATE_AUTH ? "No mailbox selected" :
			 "Not allowed after login");
		return;
	}
	if ((def->flags & IMAP_CMD_SEQ) && s->uidonly) {
		/* RFC 9586 3: once UIDONLY is enabled, a command that takes or
		 * answers message sequence numbers is BAD [UIDREQUIRED]. */
		drop_appends(s);
		imap_bad(s, cmd->tag, "[UIDREQUIRED] Message sequence numbers are not allowed"
			 " with UIDONLY; use the UID command");
		return;
	}
	log_debug("imap session=%s user=%s cmd=%s", conn_id(s->conn),
		  s->address[0] != '\0' ? s->address : "-", cmd->name);
	unsigned bad_before = s->bad_commands;
	s->cmd_flags = def->flags;
	def->run(s, cmd);
	s->cmd_flags = 0;
	if (s->bad_commands == bad_before)
		s->bad_commands = 0;	/* only consecutive BADs count */
	if (!(def->flags & IMAP_CMD_STREAMS))
		drop_appends(s);
}

/* Read one CRLF line for IDLE/AUTHENTICATE; returns bytes used or 0. */
static size_t take_line(struct imap_session *s, struct buf *in, char *line, size_t size)
{
	char *nl = memchr(in->data, '\n', in->len);
	if (nl == NULL) {
		if (in->len > s->ictx->cfg->imap.max_line) {
			imap_reply(s, "* BYE Line too long");
			close_session(s);
		}
		return 0;
	}
	size_t used = (size_t)(nl - in->data) + 1;
	size_t len = used - 1;
	if (len > 0 && in->data[len - 1] == '\r')
		len--;
	if (len >= size)
		len = size - 1;
	memcpy(line, in->data, len);
	line[len] = '\0';
	return used;
}

static void literal_event(struct imap_session *s)
{
	const struct imap_literal *lit = imap_parser_literal(s->parser);
	const struct imap_command *cmd = imap_parser_command(s->parser);
	if (lit->stream) {
		if ((s->state & AUTHD) == 0) {
			drop_appends(s);
			if (imap_parser_literal_reject(s->parser) < 0) {
				imap_reply(s, "* BYE Literal refused");
				close_session(s);
				return;
			}
			imap_bad(s, cmd->tag != NULL ? cmd->tag : "*", "Log in first");
			return;
		}
		/* MULTIAPPEND: APPENDLIMIT bounds the whole command too. */
		s->append_total += lit->size;
		if (s->append_total > s->ictx->cfg->imap.max_append) {
			drop_appends(s);
			if (imap_parser_literal_reject(s->parser) < 0) {
				imap_reply(s, "* BYE [TOOBIG] APPEND over the limit");
				close_session(s);
				return;
			}
			imap_reply(s, "%s NO [TOOBIG] APPEND over the limit", cmd->tag);
			return;
		}
		s->append_msgs = xrealloc(s->append_msgs,
					  (s->append_count + 1) * sizeof(*s->append_msgs));
		buf_init(&s->append_msgs[s->append_count], 0);
		buf_reserve(&s->append_msgs[s->append_count], (size_t)lit->size + 1);
		s->append_count++;
	}
	if (lit->sync)
		imap_reply(s, "+ Ready for literal data");
}

static void imap_session_input(struct session *rt)
{
	struct imap_session *s = (struct imap_session *)rt;
	struct conn *c = s->conn;
	struct buf *in = conn_input(c);
	char line[8192];

	while (in->len > 0 && !session_busy(&s->rt)) {
		if (s->idling || s->in_sasl) {
			size_t used = take_line(s, in, line, sizeof(line));
			if (used == 0)
				return;
			buf_consume(in, used);
			if (s->idling)
				idle_line(s, line);
			else
				sasl_line(s, line);
			continue;
		}
		size_t consumed = 0;
		int ret = imap_parser_feed(s->parser, in->data, in->len, &consumed);
		switch (ret) {
		case IMAP_PARSER_MORE:
			buf_consume(in, consumed);
			s->mid_command = true;
			/* The parser keeps the partial line: it must still
			 * complete within [server] line_timeout. */
			conn_set_partial(c, !s->literal_seen);
			return;
		case IMAP_PARSER_ERROR: {
			s->mid_command = false;
			s->literal_seen = false;
			conn_set_partial(c, false);
			session_body_deadline(&s->rt, false);
			drop_appends(s);
			const char *tag = imap_parser_error_tag(s->parser);
			if (imap_parser_error_code(s->parser) == IMAP_PARSER_ERR_LITERAL_TOO_BIG)
				imap_reply(s, "%s NO [TOOBIG] %s", tag, imap_parser_error_reason(s->parser));
			else
				imap_bad(s, tag, imap_parser_error_reason(s->parser));
			if (imap_parser_must_disconnect(s->parser) && !s->closing) {
				log_info("imap session=%s peer=%s event=literal-smuggling-refused",
					 conn_id(c), conn_peer_addr(c));
				imap_reply(s, "* BYE Invalid literal; closing");
				close_session(s);
			}
			buf_consume(in, consumed);
			break;
		}
		case IMAP_PARSER_LITERAL:
			s->mid_command = true;
			s->literal_seen = true;
			conn_set_partial(c, false);
			/* However slowly it comes, a literal has the body bound. */
			session_body_deadline(&s->rt, true);
			literal_event(s);
			buf_consume(in, consumed);
			break;
		case IMAP_PARSER_LITERAL_DATA: {
			const struct imap_literal *lit = imap_parser_literal(s->parser);
			if (s->append_count > 0)
				buf_append(&s->append_msgs[s->append_count - 1], lit->chunk,
					   lit->chunk_len);
			buf_consume(in, consumed);
			break;
		}
		case IMAP_PARSER_COMMAND:
			s->mid_command = false;
			s->literal_seen = false;
			conn_set_partial(c, false);
			session_body_deadline(&s->rt, false);
			run_command(s, imap_parser_command(s->parser));
			buf_consume(in, consumed);
			if (s->compress_pending)
				imap_compress_activate(s);
			break;
		default:
			buf_consume(in, consumed);
			return;
		}
	}
	/* Every complete command is answered: NOTIFY may speak (RFC 5465 3). */
	imap_notify_flush(s);
}

/* ---- runtime ops ---- */

static void imap_session_timeout(struct session *rt, enum conn_timeout why)
{
	struct imap_session *s = (struct imap_session *)rt;
	imap_reply(s, why == CONN_TIMEOUT_IDLE ? "* BYE Autologout; idle for too long" :
		   "* BYE Command not completed in time");
	close_session(s);
}

static void imap_session_shutdown(struct session *rt)
{
	struct imap_session *s = (struct imap_session *)rt;
	imap_reply(s, "* BYE [UNAVAILABLE] Server shutting down");
	close_session(s);
}

/* The conn is gone and no job is in flight. */
static void imap_session_free(struct session *rt)
{
	struct imap_session *s = (struct imap_session *)rt;
	store_notify_unsubscribe(s->ictx->notify, &s->sub);
	imap_notify_unwatch(s);
	imap_mailbox_free(s);
	imap_acl_session_free(s);
	imap_notify_free(s);
	free(s->saved_uids);
	imap_context_free_all(s);
	drop_appends(s);
	sasl_reset(&s->sasl);
	imap_parser_destroy(&s->parser);
	free(s->sasl_tag);
	free(s->idle_tag);
	free(s);
}

static const struct session_ops imap_ops = {
	.input = imap_session_input,
	.timeout = imap_session_timeout,
	.shutdown = imap_session_shutdown,
	.writable = imap_session_writable,
	.free = imap_session_free,
};

void imap_session_subscribe(struct imap_session *s)
{
	if (s->ictx->notify != NULL && s->mbox != NULL)
		store_notify_subscribe(s->ictx->notify, &s->sub, s->mbox->id, notify_cb, s);
}

void imap_session_accept(struct conn *c, void *ctx)
{
	struct imap_context *ictx = ctx;
	struct imap_session *s = xcalloc(1, sizeof(*s));
	session_init(&s->rt, c, ictx->pool, &imap_ops, "imap");
	s->conn = c;
	s->ictx = ictx;
	s->state = IMAP_STATE_NOTAUTH;
	s->parser = parser_new(ictx->cfg, false);
	conn_set_input_max(c, ictx->cfg->imap.max_line + 65536);
	conn_set_idle_timeout(c, ictx->cfg->imap.idle_timeout_ms);
	conn_start(c);
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "* OK [CAPABILITY ");
	capabilities(s, &b);
	buf_append_str(&b, "] Cairn ready");
	imap_reply(s, "%s", b.data);
	buf_free(&b);
}
