/* One SMTP, submission or LMTP connection: greeting -> EHLO/LHLO ->
 * [STARTTLS] -> [AUTH] -> MAIL -> RCPT... -> DATA or BDAT... -> delivery.
 * Commands come from a command table (verb, listeners, needs EHLO); anything
 * that asks the directory or the store (AUTH, the submission sender check,
 * RCPT, VRFY, the delivery itself) runs as a job while the conn is paused,
 * so pipelined commands are answered in order. The reply to DATA/BDAT LAST
 * is sent only after the delivery transaction committed. */
#include "autoconf.h"
#include "smtp-session.h"
#include "../deliver/deliver.h"
#include "config.h"
#include "conn.h"
#include "directory.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "reader.h"
#include "sasl.h"
#include "session.h"
#include "smtp_parser.h"
#include "store-jobs.h"
#include "store-urlauth.h"
#include "tls.h"
#include "worker.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 5321 4.5.3.1.4 (512) plus every extension's allowance (SIZE 26,
 * ENVID/RET 110, ORCPT/NOTIFY 523, AUTH= 500), rounded up. */
#define SMTP_MAX_COMMAND_LINE 2048
/* RFC 4954 4: an AUTH line or SASL response may be 12288 octets. */
#define SMTP_MAX_AUTH_LINE 12288

enum smtp_kind { KIND_MX, KIND_SUBMISSION, KIND_LMTP };

enum smtp_mode {
	MODE_COMMAND,
	MODE_DATA,		/* reading DATA up to CRLF.CRLF */
	MODE_BDAT,		/* reading a BDAT chunk of chunk_left octets */
};

enum smtp_job_kind { JOB_AUTH, JOB_SENDER, JOB_RCPT, JOB_VRFY, JOB_DELIVER, JOB_BURL };

struct smtp_session;

struct smtp_job {
	struct session_job base;	/* first: the runtime's part */
	enum smtp_job_kind kind;
	struct smtp_context *sctx;
	/* inputs */
	char user[SASL_MAX_CREDENTIAL + 1];
	char *password;
	char client_ip[64];
	char address[600];		/* RCPT / VRFY / MAIL FROM, lower-cased */
	char account[321];		/* JOB_SENDER: the authenticated account */
	bool relay;
	bool partial;			/* LMTP delivery */
	bool check_from;		/* submission: From: must be the account's */
	struct deliver_envelope env;	/* JOB_DELIVER: moved from the session */
	struct buf body;		/* JOB_BURL: what the URL names */
	char *url;			/* JOB_BURL */
	bool burl_last;
	int burl_result;		/* a store_result or STORE_URL_TOOBIG */
	/* outputs */
	struct dir_auth auth;
	enum deliver_status status;
	struct deliver_rcpt rcpt;	/* JOB_RCPT: the resolved recipient */
	char error[256];
	uint64_t started;
};

struct smtp_session {
	struct session rt;		/* first: the runtime's part */
	struct conn *conn;		/* = rt.conn */
	struct smtp_context *sctx;
	enum smtp_kind kind;
	struct reader reader;
	struct smtp_command cmd;
	enum smtp_mode mode;
	/* session */
	bool helo_done;
	bool esmtp;		/* EHLO/LHLO: extensions and enhanced codes in use */
	unsigned extensions;	/* what the last EHLO advertised */
	char helo[SMTP_MAX_DOMAIN + 3];
	bool authenticated;
	char auth_user[321];
	struct sasl sasl;
	bool in_sasl;
	unsigned bad_commands;
	unsigned messages;	/* delivered on this connection */
	unsigned long txn_seq;
	/* transaction */
	bool in_mail;
	bool bdat_seen;
	struct deliver_envelope env;
	/* message body */
	struct smtp_data_reader data;
	struct buf body;
	uint64_t chunk_left;
	bool chunk_last;
	unsigned chunk_error;	/* BDAT refused: reply after consuming the chunk */
	const char *chunk_enhanced;
	const char *chunk_text;
};

static const char *kind_name(enum smtp_kind kind)
{
	return kind == KIND_LMTP ? "lmtp" : kind == KIND_SUBMISSION ? "submission" : "smtp";
}

/* ---- replies ---- */

static void reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt,
		  ...) ATTR_PRINTF(4, 5);

static void reply(struct smtp_session *s, unsigned code, const char *enhanced, const char *fmt,
		  ...)
{
	char text[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	struct buf b;
	buf_init(&b, 0);
	/* RFC 2034: enhanced codes only once EHLO advertised them. */
	if (smtp_reply_format(&b, code, s->esmtp ? enhanced : NULL, text) < 0)
		smtp_reply_format(&b, 451, NULL, "Internal error");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void close_with(struct smtp_session *s, unsigned code, const char *enhanced,
		       const char *text)
{
	reply(s, code, enhanced, "%s %s", s->sctx->hostname, text);
	session_close(&s->rt);
}

/* A client error: counted, and past [smtp] max_bad_commands the end. */
static void bad_command(struct smtp_session *s, unsigned code, const char *enhanced,
			const char *text)
{
	reply(s, code, enhanced, "%s", text);
	if (++s->bad_commands >= s->sctx->cfg->smtp.max_bad_commands) {
		log_info("%s session=%s peer=%s event=too-many-bad-commands", kind_name(s->kind),
			 conn_id(s->conn), conn_peer_addr(s->conn));
		close_with(s, 421, "4.7.0", "Error: too many errors, closing connection");
	}
}

/* AUTH is offered under TLS only, or from loopback with [smtp]
 * auth_without_tls; [server] loopback_is_secure never applies to SMTP. */
static bool auth_allowed(const struct smtp_session *s)
{
	const struct config *cfg = s->sctx->cfg;
	if (s->kind == KIND_LMTP)
		return false;
	return conn_is_tls(s->conn) || (cfg->smtp.auth_without_tls && conn_is_loopback(s->conn));
}

/* ---- transaction state ---- */

static void transaction_reset(struct smtp_session *s)
{
	deliver_envelope_clear(&s->env);
	snprintf(s->env.client_ip, sizeof(s->env.client_ip), "%s", conn_peer_addr(s->conn));
	s->in_mail = false;
	s->bdat_seen = false;
	buf_free(&s->body);
	buf_init(&s->body, 0);
}

static void session_reset(struct smtp_session *s)
{
	transaction_reset(s);
	s->helo_done = false;
	s->esmtp = false;
	s->extensions = 0;
	s->helo[0] = '\0';
	s->in_sasl = false;
	sasl_reset(&s->sasl);
}

static void set_command_mode(struct smtp_session *s)
{
	s->mode = MODE_COMMAND;
	conn_set_idle_timeout(s->conn, s->sctx->cfg->smtp.command_timeout_ms);
	session_body_deadline(&s->rt, false);
}

static void set_data_mode(struct smtp_session *s, enum smtp_mode mode)
{
	s->mode = mode;
	conn_set_idle_timeout(s->conn, s->sctx->cfg->smtp.data_timeout_ms);
	/* However slowly it trickles in, a body has [server] body_timeout. */
	session_body_deadline(&s->rt, true);
}

/* ---- jobs ---- */

static void job_run(struct session_job *job, struct worker *w)
{
	struct smtp_job *j = (struct smtp_job *)job;
	struct store *st = store_jobs_get(w);
	struct dir_handle *dh = dir_worker_handle(w, st);
	const char *error = NULL;

	switch (j->kind) {
	case JOB_AUTH:
		if (dir_authenticate(dh, j->user, j->password, j->client_ip, &j->auth, &error) < 0) {
			j->auth.status = DIR_AUTH_TEMPFAIL;
			snprintf(j->error, sizeof(j->error), "%s",
				 error != NULL ? error : "directory error");
		}
		memset(j->password, 0, strlen(j->password));
		if (j->auth.status == DIR_AUTH_OK &&
		    dir_provision(dh, j->auth.address, &error) == DIR_TEMPFAIL) {
			j->auth.status = DIR_AUTH_TEMPFAIL;
			snprintf(j->error, sizeof(j->error), "%s",
				 error != NULL ? error : "provisioning");
		}
		if (j->auth.status == DIR_AUTH_TEMPFAIL)
			metrics_inc(&metrics.store_errors);
		break;
	case JOB_SENDER:
		j->status = deliver_sender_owned(dh, j->address, j->account, &error);
		break;
	case JOB_RCPT:
	case JOB_VRFY:
		j->status = deliver_resolve(dh, j->address, j->relay, &j->rcpt, &error);
		if (j->kind == JOB_RCPT && j->status == DELIVER_OK)
			j->status = deliver_rcpt_quota(st, &j->rcpt, &error);
		break;
	case JOB_DELIVER:
		if (j->check_from) {
			/* Every author (and the Sender:) must be the account's;
			 * two From: fields are refused (RFC 5322 3.6). */
			const char *data = j->body.data != NULL ? j->body.data : "";
			j->status = deliver_check_from(dh, data, j->body.len, j->account, &error);
			if (j->status != DELIVER_OK) {
				if (j->status != DELIVER_TEMPFAIL)
					j->status = DELIVER_REJECTED;
				snprintf(j->error, sizeof(j->error),
					 "From:/Sender: not owned by user %.200s, or malformed",
					 j->account);
				break;
			}
		}
		j->status = deliver_message(st, dh, &j->env, j->body.data != NULL ? j->body.data : "",
					    j->body.len, j->partial, j->error, sizeof(j->error));
		break;
	case JOB_BURL:
		/* RFC 4468: the URL must be URLAUTH-authorized for submit+user;
		 * the reason for a refusal is for the log only. */
		j->burl_result = store_urlauth_fetch(st, j->sctx->hostname, j->url, strlen(j->url),
						     STORE_URLAUTH_SUBMIT, j->account,
						     (int64_t)time(NULL), &j->body, &error);
		j->status = j->burl_result == STORE_OK || j->burl_result == STORE_NOTFOUND ||
			    j->burl_result == STORE_URL_TOOBIG ? DELIVER_OK : DELIVER_TEMPFAIL;
		break;
	}
	if (error != NULL && j->error[0] == '\0')
		snprintf(j->error, sizeof(j->error), "%s", error);
	if (j->kind != JOB_AUTH && j->status == DELIVER_TEMPFAIL)
		metrics_inc(&metrics.store_errors);
	store_jobs_note(w);
}

static void job_free(struct session_job *job, bool orphaned)
{
	struct smtp_job *j = (struct smtp_job *)job;
	(void)orphaned;		/* nothing to undo: no job holds a lock */
	if (j->password != NULL) {
		memset(j->password, 0, strlen(j->password));
		free(j->password);
	}
	deliver_envelope_clear(&j->env);
	deliver_rcpt_free(&j->rcpt);
	buf_free(&j->body);
	free(j->url);
	free(j);
}

static void job_done(struct session *rt, struct session_job *job);

static struct smtp_job *job_new(struct smtp_session *s, enum smtp_job_kind kind)
{
	struct smtp_job *j = xcalloc(1, sizeof(*j));
	session_job_init(&j->base, job_run, job_done, job_free);
	j->kind = kind;
	j->sctx = s->sctx;
	buf_init(&j->body, 0);
	snprintf(j->client_ip, sizeof(j->client_ip), "%s", conn_peer_addr(s->conn));
	j->started = loop_now(conn_loop(s->conn));
	return j;
}

static void job_submit(struct smtp_session *s, struct smtp_job *j)
{
	session_submit(&s->rt, &j->base);
}

static void auth_done(struct smtp_session *s, struct smtp_job *j)
{
	const char *id = conn_id(s->conn), *peer = conn_peer_addr(s->conn);
	switch (j->auth.status) {
	case DIR_AUTH_OK:
		s->authenticated = true;
		snprintf(s->auth_user, sizeof(s->auth_user), "%s", j->auth.address);
		log_info("%s session=%s peer=%s user=%s event=auth status=ok tls=%s",
			 kind_name(s->kind), id, peer, s->auth_user,
			 conn_is_tls(s->conn) ? "yes" : "no");
		reply(s, 235, "2.7.0", "Authentication successful");
		break;
	case DIR_AUTH_FAIL:
		log_info("%s session=%s peer=%s user=%s event=auth status=failed failures=%u",
			 kind_name(s->kind), id, peer, j->user, j->auth.failures);
		if (j->auth.delay_ms > 0) {
			/* Hold the answer: slows down password guessing. */
			struct buf b;
			buf_init(&b, 0);
			smtp_reply_format(&b, 535, "5.7.8", "Authentication credentials invalid");
			session_reply_later(&s->rt, b.data, b.len, j->auth.delay_ms);
			buf_free(&b);
			return;
		}
		reply(s, 535, "5.7.8", "Authentication credentials invalid");
		break;
	case DIR_AUTH_LOCKED:
		log_info("%s session=%s peer=%s user=%s event=auth status=locked", kind_name(s->kind),
			 id, peer, j->user);
		reply(s, 454, "4.7.0", "Too many failed authentications, try again later");
		break;
	case DIR_AUTH_TEMPFAIL:
		log_warn("%s session=%s peer=%s user=%s event=auth status=tempfail reason=\"%s\"",
			 kind_name(s->kind), id, peer, j->user, j->error);
		reply(s, 454, "4.7.0", "Temporary authentication failure");
		break;
	}
}

static void sender_done(struct smtp_session *s, struct smtp_job *j)
{
	if (j->status == DELIVER_OK) {
		s->in_mail = true;
		reply(s, 250, "2.1.0", "Ok");
	} else if (j->status == DELIVER_TEMPFAIL) {
		log_warn("%s session=%s peer=%s from=%s status=tempfail reason=\"%s\"",
			 kind_name(s->kind), conn_id(s->conn), conn_peer_addr(s->conn), j->address,
			 j->error);
		transaction_reset(s);
		reply(s, 451, "4.4.3", "Directory temporarily unavailable, try again later");
	} else {
		log_info("%s session=%s peer=%s user=%s from=%s status=rejected reason=sender-not-owned",
			 kind_name(s->kind), conn_id(s->conn), conn_peer_addr(s->conn), s->auth_user,
			 j->address);
		transaction_reset(s);
		reply(s, 553, "5.7.1", "<%s>: Sender address rejected: not owned by user %s",
		      j->address, s->auth_user);
	}
}

static void rcpt_done(struct smtp_session *s, struct smtp_job *j)
{
	const char *id = conn_id(s->conn), *peer = conn_peer_addr(s->conn);
	const char *from = s->env.from != NULL ? s->env.from : "";
	switch (j->status) {
	case DELIVER_OK:
		s->env.rcpts = xrealloc(s->env.rcpts, (s->env.nrcpts + 1) * sizeof(*s->env.rcpts));
		s->env.rcpts[s->env.nrcpts++] = j->rcpt;
		memset(&j->rcpt, 0, sizeof(j->rcpt));
		reply(s, 250, "2.1.5", "Ok");
		break;
	case DELIVER_NOTFOUND:
		log_info("%s session=%s peer=%s from=<%s> to=<%s> status=rejected reason=unknown-user",
			 kind_name(s->kind), id, peer, from, j->address);
		reply(s, 550, "5.1.1", "<%s>: Recipient address rejected: User unknown", j->address);
		break;
	case DELIVER_RELAY_DENIED:
		log_info("%s session=%s peer=%s from=<%s> to=<%s> status=rejected reason=relay-denied",
			 kind_name(s->kind), id, peer, from, j->address);
		reply(s, 554, "5.7.1", "<%s>: Relay access denied", j->address);
		break;
	case DELIVER_OVERQUOTA:
		/* Already full: temporary, the user may make room (RFC 3463 4.2.2). */
		log_info("%s session=%s peer=%s from=<%s> to=<%s> status=rejected reason=overquota",
			 kind_name(s->kind), id, peer, from, j->address);
		reply(s, 452, "4.2.2", "<%s>: Mailbox full, try again later", j->address);
		break;
	default:
		log_warn("%s session=%s peer=%s from=<%s> to=<%s> status=tempfail reason=\"%s\"",
			 kind_name(s->kind), id, peer, from, j->address, j->error);
		reply(s, 451, "4.4.3", "<%s>: Directory temporarily unavailable, try again later",
		      j->address);
		break;
	}
}

static void vrfy_done(struct smtp_session *s, struct smtp_job *j)
{
	if (j->status == DELIVER_OK)
		reply(s, 250, "2.1.5", "<%s>", j->address);
	else if (j->status == DELIVER_NOTFOUND || j->status == DELIVER_RELAY_DENIED)
		reply(s, 550, "5.1.1", "<%s>: User unknown", j->address);
	else
		reply(s, 451, "4.4.3", "Directory temporarily unavailable");
}

static void rcpt_reply(struct smtp_session *s, const struct deliver_rcpt *r, const char *reason)
{
	switch (r->result) {
	case DELIVER_OK:
		reply(s, 250, "2.1.5", "<%s> Ok", r->address);
		break;
	case DELIVER_OVERQUOTA:
		reply(s, 552, "5.2.2", "<%s> Message exceeds the mailbox quota", r->address);
		break;
	case DELIVER_NOTFOUND:
		reply(s, 550, "5.1.1", "<%s> User unknown", r->address);
		break;
	case DELIVER_REJECTED:
		reply(s, 554, "5.7.1", "<%s> Message rejected: %s", r->address, reason);
		break;
	case DELIVER_POLICY_TEMPFAIL:
		reply(s, 451, "4.7.1", "<%s> Try again later: %s", r->address, reason);
		break;
	default:
		reply(s, 451, "4.3.0", "<%s> Temporary failure, try again later", r->address);
		break;
	}
}

static void deliver_done(struct smtp_session *s, struct smtp_job *j)
{
	const char *id = conn_id(s->conn), *peer = conn_peer_addr(s->conn);
	struct buf to;
	buf_init(&to, 0);
	for (size_t i = 0; i < j->env.nrcpts; i++)
		buf_printf(&to, "%s%s", i > 0 ? "," : "", j->env.rcpts[i].address);
	uint64_t ms = loop_now(conn_loop(s->conn)) - j->started;
	const char *status = j->status == DELIVER_OK ? "sent" :
			     j->status == DELIVER_REJECTED ? "rejected" :
			     j->status == DELIVER_OVERQUOTA ? "overquota" : "tempfail";
	if (j->status == DELIVER_OK || j->status == DELIVER_REJECTED)
		log_info("%s session=%s peer=%s user=%s from=<%s> to=%s size=%zu status=%s ms=%llu",
			 kind_name(s->kind), id, peer,
			 j->env.auth_user != NULL ? j->env.auth_user : "-", j->env.from,
			 to.data != NULL ? to.data : "", j->body.len, status, (unsigned long long)ms);
	else
		log_warn("%s session=%s peer=%s from=<%s> to=%s size=%zu status=%s reason=\"%s\"",
			 kind_name(s->kind), id, peer, j->env.from, to.data != NULL ? to.data : "",
			 j->body.len, status, j->error);
	buf_free(&to);

	if (s->kind == KIND_LMTP) {
		for (size_t i = 0; i < j->env.nrcpts; i++)
			rcpt_reply(s, &j->env.rcpts[i], j->error);
	} else {
		switch (j->status) {
		case DELIVER_OK:
			reply(s, 250, "2.0.0", "Ok: queued as %s-%lu", id, s->txn_seq);
			break;
		case DELIVER_OVERQUOTA:
			/* This message would pass a quota: RFC 5321 4.5.3.1.10 allows
			 * 552 at end of data for a per-recipient storage limit. */
			reply(s, 552, "5.2.2", "Message exceeds a recipient's mailbox quota");
			break;
		case DELIVER_REJECTED:
			reply(s, 554, "5.7.1", "Message rejected: %s", j->error);
			break;
		case DELIVER_POLICY_TEMPFAIL:
			reply(s, 451, "4.7.1", "Message not accepted now, try again later: %s", j->error);
			break;
		default:
			reply(s, 451, "4.3.0", "Temporary failure, message not accepted, try again later");
			break;
		}
	}
	if (j->status == DELIVER_OK)
		s->messages++;
}

static void burl_done(struct smtp_session *s, struct smtp_job *j);

static void job_done(struct session *rt, struct session_job *job)
{
	struct smtp_job *j = (struct smtp_job *)job;
	struct smtp_session *s = (struct smtp_session *)rt;
	switch (j->kind) {
	case JOB_AUTH:
		auth_done(s, j);
		break;
	case JOB_SENDER:
		sender_done(s, j);
		break;
	case JOB_RCPT:
		rcpt_done(s, j);
		break;
	case JOB_VRFY:
		vrfy_done(s, j);
		break;
	case JOB_DELIVER:
		deliver_done(s, j);
		break;
	case JOB_BURL:
		burl_done(s, j);
		break;
	}
}

/* ---- commands ---- */

static void cmd_ehlo(struct smtp_session *s, const struct smtp_command *cmd)
{
	const struct config *cfg = s->sctx->cfg;
	bool lmtp = s->kind == KIND_LMTP;
	if (lmtp != (cmd->verb == SMTP_VERB_LHLO)) {
		bad_command(s, 500, "5.5.1", lmtp ? "Error: use LHLO (RFC 2033)" :
			    "Error: command not recognized");
		return;
	}
	/* RFC 5321 4.1.4: EHLO/HELO also reset the transaction. */
	transaction_reset(s);
	snprintf(s->helo, sizeof(s->helo), "%s", cmd->arg);
	s->helo_done = true;
	if (cmd->verb == SMTP_VERB_HELO) {
		s->esmtp = false;
		s->extensions = 0;
		reply(s, 250, NULL, "%s", s->sctx->hostname);
		return;
	}
	s->esmtp = true;
	unsigned ext = SMTP_EXT_PIPELINING | SMTP_EXT_SIZE | SMTP_EXT_8BITMIME |
		       SMTP_EXT_SMTPUTF8 | SMTP_EXT_ENHANCEDSTATUSCODES | SMTP_EXT_CHUNKING |
		       SMTP_EXT_DSN;
	if (!lmtp && s->sctx->tls != NULL && !conn_is_tls(s->conn))
		ext |= SMTP_EXT_STARTTLS;
	if (auth_allowed(s) && !s->authenticated)
		ext |= SMTP_EXT_AUTH;
	/* MAIL AUTH= is accepted (and ignored, RFC 4954 5) once AUTH exists. */
	s->extensions = ext | (s->authenticated ? SMTP_EXT_AUTH : 0);
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "%s", s->sctx->hostname);
	smtp_ehlo_keywords(&b, ext, cfg->smtp.max_message_size, "PLAIN LOGIN");
	if (s->kind == KIND_SUBMISSION)
		buf_append_str(&b, "\nBURL imap");	/* RFC 4468 */
	reply(s, 250, NULL, "%s", b.data);
	buf_free(&b);
}

static void cmd_starttls(struct smtp_session *s)
{
	if (s->kind == KIND_LMTP || s->sctx->tls == NULL) {
		bad_command(s, 502, "5.5.1", "Error: STARTTLS not available");
		return;
	}
	if (conn_is_tls(s->conn)) {
		bad_command(s, 503, "5.5.1", "Error: TLS already active");
		return;
	}
	reply(s, 220, "2.0.0", "Ready to start TLS");
	/* Discards whatever the client pipelined after the command. */
	conn_starttls(s->conn, tls_server_ctx(s->sctx->tls));
	/* RFC 3207 4.2: forget everything learned before TLS. */
	session_reset(s);
	s->authenticated = false;
	s->auth_user[0] = '\0';
	reader_reset(&s->reader);
}

static void sasl_reply(struct smtp_session *s, int ret, struct buf *challenge, const char *error)
{
	if (ret == 0) {
		reply(s, 334, NULL, "%s", challenge->data != NULL ? challenge->data : "");
		return;
	}
	s->in_sasl = false;
	if (ret < 0) {
		sasl_reset(&s->sasl);
		bad_command(s, 501, "5.5.2", error != NULL ? error : "Error: bad SASL response");
		return;
	}
	struct smtp_job *j = job_new(s, JOB_AUTH);
	snprintf(j->user, sizeof(j->user), "%s", s->sasl.authcid);
	j->password = xstrdup(s->sasl.password);
	sasl_reset(&s->sasl);
	job_submit(s, j);
}

static void sasl_continue(struct smtp_session *s, const char *line)
{
	if (strcmp(line, "*") == 0) {
		/* RFC 4954 4: the client cancelled. */
		s->in_sasl = false;
		sasl_reset(&s->sasl);
		reply(s, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, line, &challenge, &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

static void cmd_auth(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->kind == KIND_LMTP) {
		bad_command(s, 502, "5.5.1", "Error: AUTH not available");
		return;
	}
	if (!s->esmtp) {
		bad_command(s, 503, "5.5.1", "Error: send EHLO first");
		return;
	}
	if (s->authenticated) {
		bad_command(s, 503, "5.5.1", "Error: already authenticated");
		return;
	}
	if (s->in_mail) {
		bad_command(s, 503, "5.5.1", "Error: AUTH not allowed during a mail transaction");
		return;
	}
	if (!auth_allowed(s)) {
		reply(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
		return;
	}
	enum sasl_mech mech;
	if (sasl_mech_parse(cmd->arg, &mech) < 0) {
		bad_command(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	sasl_begin(&s->sasl, mech);
	s->in_sasl = true;
	const char *initial = cmd->auth_response;
	if (initial != NULL && initial[0] == '\0')
		initial = "=";	/* the empty initial response (RFC 4954 4) */
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, initial, &challenge, &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

/* Lower-cased "local@domain" of a parsed mailbox into out (size bytes).
 * Returns 1 for a domain name, 0 for an address literal, -1 on bad syntax. */
static int mailbox_address(const struct smtp_path *path, bool utf8, char *out, size_t size,
			   const char **local_r)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	const char *local, *domain, *error;
	int ret = smtp_address_split(path->raw, strlen(path->raw), utf8, &tmp, &local, &domain,
				     &error);
	if (ret >= 0) {
		snprintf(out, size, "%s@%s", local, domain);
		if (local_r != NULL)
			*local_r = strchr(local, '@') != NULL || strchr(local, '%') != NULL ||
				   strchr(local, '!') != NULL ? "routing" : NULL;
	}
	buf_free(&tmp);
	return ret;
}

static void cmd_mail(struct smtp_session *s, struct smtp_command *cmd)
{
	const struct config *cfg = s->sctx->cfg;
	if (s->in_mail) {
		bad_command(s, 503, "5.5.1", "Error: nested MAIL command");
		return;
	}
	if (s->kind == KIND_SUBMISSION && !s->authenticated) {
		reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (s->messages >= cfg->smtp.max_messages) {
		close_with(s, 421, "4.7.0", "Error: too many messages in one session, reconnect");
		return;
	}
	if ((cmd->params_seen & (1u << SMTP_PARAM_SIZE)) && cmd->size > cfg->smtp.max_message_size) {
		reply(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
		return;
	}
	transaction_reset(s);
	s->env.from = xstrdup(cmd->path.null ? "" : cmd->path.raw);
	s->env.smtputf8 = cmd->smtputf8;
	s->env.body = cmd->body == SMTP_BODY_8BITMIME ? "8BITMIME" : "7BIT";
	if (cmd->ret != SMTP_RET_NONE)
		s->env.dsn_ret = xstrdup(cmd->ret == SMTP_RET_FULL ? "FULL" : "HDRS");
	if (cmd->envid != NULL)
		s->env.dsn_envid = xstrdup(cmd->envid);
	if (s->authenticated)
		s->env.auth_user = xstrdup(s->auth_user);
	s->env.helo = xstrdup(s->helo);
	s->env.listener = s->kind == KIND_LMTP ? DELIVER_LISTENER_LMTP :
			  s->kind == KIND_SUBMISSION ? DELIVER_LISTENER_SUBMISSION :
			  DELIVER_LISTENER_MX;
	s->txn_seq++;

	/* Authenticated on the MX port too: the same checks as submission, or
	 * AUTH there would be a way around them. */
	/* The null reverse-path (RFC 5321 4.5.5: notifications) names nobody,
	 * so there is no one to impersonate: allowed, as Postfix's
	 * reject_sender_login_mismatch allows it. */
	if ((s->kind == KIND_SUBMISSION || s->authenticated) && cfg->submission.check_sender &&
	    !cmd->path.null) {
		char address[600];
		if (mailbox_address(&cmd->path, cmd->smtputf8, address, sizeof(address), NULL) != 1) {
			transaction_reset(s);
			reply(s, 553, "5.7.1", "Sender address rejected: not owned by user %s",
			      s->auth_user);
			return;
		}
		struct smtp_job *j = job_new(s, JOB_SENDER);
		snprintf(j->address, sizeof(j->address), "%s", address);
		snprintf(j->account, sizeof(j->account), "%s", s->auth_user);
		job_submit(s, j);
		return;
	}
	s->in_mail = true;
	reply(s, 250, "2.1.0", "Ok");
}

static char *notify_text(unsigned notify)
{
	if (notify == 0)
		return NULL;
	if (notify & SMTP_NOTIFY_NEVER)
		return xstrdup("NEVER");
	struct buf b;
	buf_init(&b, 0);
	if (notify & SMTP_NOTIFY_SUCCESS)
		buf_append_str(&b, "SUCCESS,");
	if (notify & SMTP_NOTIFY_FAILURE)
		buf_append_str(&b, "FAILURE,");
	if (notify & SMTP_NOTIFY_DELAY)
		buf_append_str(&b, "DELAY,");
	b.data[b.len - 1] = '\0';
	return b.data;
}

static void cmd_rcpt(struct smtp_session *s, const struct smtp_command *cmd)
{
	const struct config *cfg = s->sctx->cfg;
	if (!s->in_mail) {
		bad_command(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->env.nrcpts >= cfg->smtp.max_recipients) {
		reply(s, 452, "4.5.3", "Error: too many recipients");
		return;
	}
	bool relay = s->authenticated && s->kind != KIND_LMTP;
	char address[600];
	const char *routing = NULL;
	int kind;
	if (cmd->path.postmaster) {
		/* RFC 5321 4.5.1: <Postmaster> without domain always works. */
		snprintf(address, sizeof(address), "postmaster@%s", s->sctx->hostname);
		kind = 1;
	} else {
		kind = mailbox_address(&cmd->path, s->env.smtputf8, address, sizeof(address),
				       &routing);
	}
	if (kind < 0) {
		bad_command(s, 501, "5.1.3", "Error: bad recipient address syntax");
		return;
	}
	/* Never relay for an unauthenticated client: an address literal is
	 * never local, and a local part that routes ('@', '%', '!' inside
	 * quotes) could be forwarded by something downstream. A source route
	 * was dropped by the parser (RFC 5321 Appendix C). */
	if (!relay && (kind == 0 || routing != NULL)) {
		log_info("%s session=%s peer=%s from=<%s> to=<%s> status=rejected reason=relay-denied",
			 kind_name(s->kind), conn_id(s->conn), conn_peer_addr(s->conn), s->env.from,
			 cmd->path.raw);
		reply(s, 554, "5.7.1", "<%s>: Relay access denied", cmd->path.raw);
		return;
	}
	struct smtp_job *j = job_new(s, JOB_RCPT);
	snprintf(j->address, sizeof(j->address), "%s", address);
	j->relay = relay;
	j->rcpt.dsn_notify = notify_text(cmd->notify);
	if (cmd->orcpt != NULL)
		j->rcpt.dsn_orcpt = xasprintf("%s;%s", cmd->orcpt_type != NULL ? cmd->orcpt_type :
						"rfc822", cmd->orcpt);
	job_submit(s, j);
}

static void received_header(struct smtp_session *s, struct buf *out)
{
	bool tls = conn_is_tls(s->conn);
	char with[16];
	snprintf(with, sizeof(with), "%s%s%s",
		 s->kind == KIND_LMTP ? "LMTP" : s->env.smtputf8 ? "UTF8SMTP" :
		 s->esmtp ? "ESMTP" : "SMTP",
		 tls ? "S" : "", s->authenticated ? "A" : "");
	const char *ip = conn_peer_addr(s->conn);
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "Received: from %s ([%s%s])\r\n\tby %s (Cairn) with %s id %s-%lu",
		   s->helo[0] != '\0' ? s->helo : "unknown", strchr(ip, ':') != NULL ? "IPv6:" : "",
		   ip, s->sctx->hostname, with, conn_id(s->conn), s->txn_seq);
	if (tls)
		buf_append_str(out, "\r\n\t(using TLS)");
	if (s->env.nrcpts == 1)
		buf_printf(out, "\r\n\tfor <%s>", s->env.rcpts[0].address);
	buf_printf(out, ";\r\n\t%s\r\n", date);
}

static void body_begin(struct smtp_session *s, bool chunked)
{
	buf_free(&s->body);
	buf_init(&s->body, 0);
	received_header(s, &s->body);
	smtp_data_init(&s->data, s->sctx->cfg->smtp.max_message_size, chunked);
}

/* The body is complete: refuse it by its flags, or hand it to delivery. */
static void body_end(struct smtp_session *s)
{
	unsigned flags = smtp_data_flags(&s->data);
	/* 8-bit data is fine when declared (RFC 6152) or under SMTPUTF8. */
	if (strcmp(s->env.body, "8BITMIME") == 0 || s->env.smtputf8)
		flags &= ~SMTP_DATA_8BIT;
	unsigned code;
	const char *enhanced, *text;
	if (smtp_data_reply(flags, &code, &enhanced, &text) < 0) {
		log_info("%s session=%s peer=%s from=<%s> status=rejected reason=\"%s\" flags=0x%x",
			 kind_name(s->kind), conn_id(s->conn), conn_peer_addr(s->conn), s->env.from,
			 text, flags);
		reply(s, code, enhanced, "%s", text);
		transaction_reset(s);
		return;
	}
	struct smtp_job *j = job_new(s, JOB_DELIVER);
	j->env = s->env;
	memset(&s->env, 0, sizeof(s->env));
	j->body = s->body;
	buf_init(&s->body, 0);
	j->partial = s->kind == KIND_LMTP;
	if ((s->kind == KIND_SUBMISSION || s->authenticated) && s->sctx->cfg->submission.check_from) {
		j->check_from = true;
		snprintf(j->account, sizeof(j->account), "%s", s->auth_user);
	}
	transaction_reset(s);
	job_submit(s, j);
}

static void cmd_data(struct smtp_session *s)
{
	if (!s->in_mail) {
		bad_command(s, 503, "5.5.1", "Error: need MAIL command");
		return;
	}
	if (s->bdat_seen) {
		bad_command(s, 503, "5.5.1", "Error: DATA after BDAT");
		return;
	}
	if (s->env.nrcpts == 0) {
		bad_command(s, 554, "5.5.1", "Error: no valid recipients");
		return;
	}
	body_begin(s, false);
	set_data_mode(s, MODE_DATA);
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

static void bdat_chunk_end(struct smtp_session *s)
{
	set_command_mode(s);
	if (s->chunk_error != 0) {
		reply(s, s->chunk_error, s->chunk_enhanced, "%s", s->chunk_text);
		s->chunk_error = 0;
		if (++s->bad_commands >= s->sctx->cfg->smtp.max_bad_commands)
			close_with(s, 421, "4.7.0", "Error: too many errors, closing connection");
		return;
	}
	if (s->chunk_last) {
		smtp_data_finish(&s->data);
		body_end(s);
		return;
	}
	/* Refuse early what can never be accepted (too big, bare CR/LF). */
	unsigned code, flags = smtp_data_flags(&s->data) & ~SMTP_DATA_8BIT;
	const char *enhanced, *text;
	if (smtp_data_reply(flags, &code, &enhanced, &text) < 0) {
		reply(s, code, enhanced, "%s", text);
		transaction_reset(s);
		return;
	}
	reply(s, 250, "2.0.0", "%llu octets received",
	      (unsigned long long)smtp_data_size(&s->data));
}

static void cmd_bdat(struct smtp_session *s, const struct smtp_command *cmd)
{
	/* The chunk is always read, refused or not, so that it is never taken
	 * for commands (RFC 3030 2). */
	s->chunk_left = cmd->size;
	s->chunk_last = cmd->bdat_last;
	s->chunk_error = 0;
	if (!s->in_mail) {
		s->chunk_error = 503;
		s->chunk_enhanced = "5.5.1";
		s->chunk_text = "Error: need MAIL command";
	} else if (s->env.nrcpts == 0) {
		s->chunk_error = 554;
		s->chunk_enhanced = "5.5.1";
		s->chunk_text = "Error: no valid recipients";
		transaction_reset(s);
	} else if (!s->bdat_seen) {
		s->bdat_seen = true;
		body_begin(s, true);
	}
	set_data_mode(s, MODE_BDAT);
	if (s->chunk_left == 0)
		bdat_chunk_end(s);
}

/* BURL url [LAST] (RFC 4468): like a BDAT chunk whose bytes come from a
 * URLAUTH-authorized IMAP URL, fetched on a worker through the store. */
static void cmd_burl(struct smtp_session *s, const char *arg, size_t len)
{
	const char *sp = memchr(arg, ' ', len);
	size_t ulen = sp != NULL ? (size_t)(sp - arg) : len;
	bool last = sp != NULL && (size_t)(arg + len - sp) == 5 && str_ncasecmp(sp, " LAST", 5) == 0;
	if (!s->helo_done) {
		bad_command(s, 503, "5.5.1", "Error: send HELO/EHLO first");
	} else if (!s->authenticated) {
		bad_command(s, 530, "5.7.0", "Error: authentication required");
	} else if (ulen == 0 || (sp != NULL && !last)) {
		bad_command(s, 501, "5.5.4", "Error: syntax: BURL imap-url [LAST]");
	} else if (!s->in_mail) {
		bad_command(s, 503, "5.5.1", "Error: need MAIL command");
	} else if (s->env.nrcpts == 0) {
		bad_command(s, 554, "5.5.1", "Error: no valid recipients");
	} else if (ulen < 7 || str_ncasecmp(arg, "imap://", 7) != 0) {
		reply(s, 554, "5.6.9", "Error: BURL supports imap URLs only");
	} else {
		struct smtp_job *j = job_new(s, JOB_BURL);
		j->url = xstrndup(arg, ulen);
		j->burl_last = last;
		snprintf(j->account, sizeof(j->account), "%s", s->auth_user);
		uint64_t max = s->sctx->cfg->smtp.max_message_size;
		buf_init(&j->body, max > 0 ? (size_t)max : 0);
		job_submit(s, j);
	}
}

static void burl_done(struct smtp_session *s, struct smtp_job *j)
{
	if (j->burl_result != STORE_OK) {
		log_info("submission session=%s user=%s event=burl-failed status=%s reason=\"%s\"",
			 conn_id(s->conn), s->auth_user, store_result_str(j->burl_result), j->error);
		if (j->burl_result == STORE_URL_TOOBIG)
			reply(s, 552, "5.3.4", "Error: message too big");
		else if (j->burl_result == STORE_NOTFOUND)
			reply(s, 554, "5.6.6", "Error: BURL URL cannot be resolved or is not authorized");
		else
			reply(s, 451, "4.4.0", "Error: mail store unavailable, try again later");
		transaction_reset(s);
		return;
	}
	if (!s->bdat_seen) {
		s->bdat_seen = true;
		body_begin(s, true);
	}
	size_t consumed = 0;
	smtp_data_feed(&s->data, j->body.data != NULL ? j->body.data : "", j->body.len, &s->body,
		       &consumed);
	if (j->burl_last) {
		smtp_data_finish(&s->data);
		body_end(s);
		return;
	}
	reply(s, 250, "2.5.0", "%zu octets added", j->body.len);
}

static void cmd_vrfy(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (!s->sctx->cfg->smtp.vrfy || s->kind == KIND_LMTP) {
		reply(s, 252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
		return;
	}
	const char *a = cmd->arg;
	size_t len = strlen(a);
	if (len >= 2 && a[0] == '<' && a[len - 1] == '>') {
		a++;
		len -= 2;
	}
	struct buf tmp;
	buf_init(&tmp, 0);
	const char *local, *domain, *error;
	if (smtp_address_split(a, len, cmd->smtputf8, &tmp, &local, &domain, &error) != 1) {
		buf_free(&tmp);
		reply(s, 252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
		return;
	}
	struct smtp_job *j = job_new(s, JOB_VRFY);
	snprintf(j->address, sizeof(j->address), "%s@%s", local, domain);
	buf_free(&tmp);
	job_submit(s, j);
}

static void cmd_quit(struct smtp_session *s)
{
	reply(s, 221, "2.0.0", "Bye");
	session_close(&s->rt);
}

/* The command table: which listeners take a verb and whether it needs a
 * greeting first (RFC 5321 4.1.4). */
struct smtp_cmd_def {
	enum smtp_verb verb;
	bool needs_helo;
	bool lmtp;		/* allowed on LMTP */
};

static const struct smtp_cmd_def smtp_commands[] = {
	{ SMTP_VERB_HELO, false, true }, { SMTP_VERB_EHLO, false, true },
	{ SMTP_VERB_LHLO, false, true }, { SMTP_VERB_MAIL, true, true },
	{ SMTP_VERB_RCPT, true, true }, { SMTP_VERB_DATA, true, true },
	{ SMTP_VERB_BDAT, true, true }, { SMTP_VERB_RSET, false, true },
	{ SMTP_VERB_NOOP, false, true }, { SMTP_VERB_QUIT, false, true },
	{ SMTP_VERB_VRFY, false, true }, { SMTP_VERB_EXPN, false, true },
	{ SMTP_VERB_HELP, false, true }, { SMTP_VERB_STARTTLS, false, false },
	{ SMTP_VERB_AUTH, true, false },
};

static void run_command(struct smtp_session *s, struct smtp_command *cmd)
{
	const struct smtp_cmd_def *def = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(smtp_commands); i++)
		if (smtp_commands[i].verb == cmd->verb)
			def = &smtp_commands[i];
	if (def == NULL || (s->kind == KIND_LMTP && !def->lmtp)) {
		bad_command(s, 502, "5.5.1", "Error: command not implemented");
		return;
	}
	if (def->needs_helo && !s->helo_done) {
		bad_command(s, 503, "5.5.1", s->kind == KIND_LMTP ? "Error: send LHLO first" :
			    "Error: send HELO/EHLO first");
		return;
	}
	switch (cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
	case SMTP_VERB_LHLO:
		cmd_ehlo(s, cmd);
		break;
	case SMTP_VERB_MAIL:
		cmd_mail(s, cmd);
		break;
	case SMTP_VERB_RCPT:
		cmd_rcpt(s, cmd);
		break;
	case SMTP_VERB_DATA:
		cmd_data(s);
		break;
	case SMTP_VERB_BDAT:
		cmd_bdat(s, cmd);
		break;
	case SMTP_VERB_RSET:
		transaction_reset(s);
		reply(s, 250, "2.0.0", "Ok");
		break;
	case SMTP_VERB_NOOP:
		reply(s, 250, "2.0.0", "Ok");
		break;
	case SMTP_VERB_QUIT:
		cmd_quit(s);
		break;
	case SMTP_VERB_VRFY:
		cmd_vrfy(s, cmd);
		break;
	case SMTP_VERB_EXPN:
		reply(s, 502, "5.5.1", "Error: EXPN not available");
		break;
	case SMTP_VERB_HELP:
		reply(s, 214, "2.0.0", "Cairn: see RFC 5321; commands: EHLO HELO MAIL RCPT DATA BDAT "
		      "RSET NOOP QUIT VRFY HELP STARTTLS AUTH");
		break;
	case SMTP_VERB_STARTTLS:
		cmd_starttls(s);
		break;
	case SMTP_VERB_AUTH:
		cmd_auth(s, cmd);
		break;
	default:
		bad_command(s, 502, "5.5.1", "Error: command not implemented");
		break;
	}
}

static void run_line(struct smtp_session *s, char *line, size_t len)
{
	if (s->in_sasl) {
		line[len] = '\0';
		sasl_continue(s, line);
		return;
	}
	struct smtp_parse_opts opts = {
		.extensions = s->esmtp ? s->extensions : 0,
		.utf8 = s->in_mail && s->env.smtputf8,
	};
	const char *error = NULL;
	if (s->kind == KIND_SUBMISSION && len > 5 && str_ncasecmp(line, "BURL ", 5) == 0) {
		cmd_burl(s, line + 5, len - 5);
		return;
	}
	if (smtp_command_parse(line, len, &opts, &s->cmd, &error) < 0) {
		if (s->cmd.verb == SMTP_VERB_UNKNOWN && s->cmd.error_code == 500)
			bad_command(s, 500, "5.5.1", "Error: command not recognized");
		else
			bad_command(s, s->cmd.error_code, s->cmd.error_enhanced,
				    error != NULL ? error : "Error: syntax error");
		return;
	}
	log_debug("%s session=%s cmd=%s", kind_name(s->kind), conn_id(s->conn),
		  smtp_verb_name(s->cmd.verb));
	run_command(s, &s->cmd);
}

static void smtp_session_input(struct session *rt)
{
	struct smtp_session *s = (struct smtp_session *)rt;
	struct buf *in = conn_input(s->conn);

	while (in->len > 0 && !session_busy(&s->rt)) {
		size_t consumed = 0;
		if (s->mode == MODE_DATA) {
			int ret = smtp_data_feed(&s->data, in->data, in->len, &s->body, &consumed);
			buf_consume(in, consumed);
			if (ret == 1) {
				set_command_mode(s);
				body_end(s);
			}
			continue;
		}
		if (s->mode == MODE_BDAT) {
			size_t n = in->len < s->chunk_left ? in->len : (size_t)s->chunk_left;
			if (s->chunk_error == 0 && s->in_mail)
				smtp_data_feed(&s->data, in->data, n, &s->body, &consumed);
			buf_consume(in, n);
			s->chunk_left -= n;
			if (s->chunk_left == 0)
				bdat_chunk_end(s);
			continue;
		}
		struct reader_item item;
		int ret = reader_next(&s->reader, in->data, in->len, &item, &consumed);
		if (ret == READER_TOO_LONG) {
			buf_consume(in, consumed);
			bad_command(s, 500, "5.5.2", "Error: line too long");
			continue;
		}
		if (ret != READER_LINE) {
			buf_consume(in, consumed);
			if (consumed == 0)
				return;
			continue;
		}
		if (item.bare_lf) {
			/* RFC 5321 2.3.8: lines end in CRLF. */
			buf_consume(in, consumed);
			bad_command(s, 500, "5.5.2", "Error: bare LF in command line");
			continue;
		}
		/* Only AUTH and SASL responses may be long (RFC 4954 4). */
		if (item.len > SMTP_MAX_COMMAND_LINE && !s->in_sasl &&
		    str_ncasecmp(item.data, "AUTH ", 5) != 0) {
			buf_consume(in, consumed);
			bad_command(s, 500, "5.5.2", "Error: line too long");
			continue;
		}
		run_line(s, (char *)item.data, item.len);
		/* After STARTTLS the buffer is already empty: consuming is a no-op. */
		buf_consume(in, consumed);
	}
	if (s->rt.job == NULL && s->mode == MODE_COMMAND && in->len == 0)
		smtp_command_free(&s->cmd);
}

static void smtp_session_timeout(struct session *rt, enum conn_timeout why)
{
	struct smtp_session *s = (struct smtp_session *)rt;
	(void)why;
	close_with(s, 421, "4.4.2", "Error: timeout exceeded");
}

static void smtp_session_shutdown(struct session *rt)
{
	close_with((struct smtp_session *)rt, 421, "4.3.2",
		   "Service shutting down, closing connection");
}

static void smtp_session_free(struct session *rt)
{
	struct smtp_session *s = (struct smtp_session *)rt;
	sasl_reset(&s->sasl);
	deliver_envelope_clear(&s->env);
	buf_free(&s->body);
	smtp_command_free(&s->cmd);
	free(s);
}

static const struct session_ops smtp_ops = {
	.input = smtp_session_input,
	.timeout = smtp_session_timeout,
	.shutdown = smtp_session_shutdown,
	.free = smtp_session_free,
};

static void session_start(struct conn *c, struct smtp_context *sctx, enum smtp_kind kind)
{
	struct smtp_session *s = xcalloc(1, sizeof(*s));
	session_init(&s->rt, c, sctx->pool, &smtp_ops, kind_name(kind));
	s->conn = c;
	s->sctx = sctx;
	s->kind = kind;
	reader_init(&s->reader, SMTP_MAX_AUTH_LINE);
	smtp_command_init(&s->cmd);
	buf_init(&s->body, 0);
	transaction_reset(s);
	conn_set_input_max(c, SMTP_MAX_AUTH_LINE + 64 * 1024);
	set_command_mode(s);
	conn_start(c);
	/* With implicit TLS this is queued until the handshake is done. */
	reply(s, 220, NULL, "%s %s", sctx->hostname,
	      kind == KIND_LMTP ? "Cairn LMTP ready" : "Cairn ESMTP ready");
}

void smtp_session_accept_mx(struct conn *c, void *ctx)
{
	session_start(c, ctx, KIND_MX);
}

void smtp_session_accept_submission(struct conn *c, void *ctx)
{
	session_start(c, ctx, KIND_SUBMISSION);
}

void smtp_session_accept_lmtp(struct conn *c, void *ctx)
{
	session_start(c, ctx, KIND_LMTP);
}
