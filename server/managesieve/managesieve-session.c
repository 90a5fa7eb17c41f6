/* One ManageSieve connection (RFC 5804): the capability greeting,
 * STARTTLS (capabilities again once TLS is up), AUTHENTICATE PLAIN/LOGIN
 * through the directory with its login throttling, then the script
 * commands on the user's scripts in the store. Commands are parsed by
 * proto/managesieve_parser, literal by literal, with every literal's size
 * checked before it is read; scripts are compiled (proto/sieve) on a worker
 * when uploaded or checked. Anything touching the directory or the store
 * runs as a job with the conn paused, so pipelined commands stay in order. */
#include "autoconf.h"
#include "managesieve-session.h"
#include "config.h"
#include "conn.h"
#include "../deliver/deliver-sieve.h"
#include "directory.h"
#include "log.h"
#include "managesieve_parser.h"
#include "metrics.h"
#include "reader.h"
#include "sasl.h"
#include "session.h"
#include "sieve.h"
#include "store-jobs.h"
#include "store-sieve.h"
#include "store.h"
#include "tls.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest command line (literals apart) and, before login, longest literal
 * (a SASL response): tighter than after it. */
#define MS_MAX_LINE 8192
#define MS_MAX_LITERAL_NONAUTH 8192
/* A literal refused as too large is still skipped when it is at most this
 * many times the script size limit; beyond, the client is dropped. */
#define MS_SKIP_FACTOR 4

enum ms_state {
	MS_NONAUTH,
	MS_AUTH,
};

enum ms_job_kind {
	JOB_LOGIN, JOB_LIST, JOB_GET, JOB_PUT, JOB_CHECK, JOB_HAVESPACE, JOB_SETACTIVE,
	JOB_DELETE, JOB_RENAME,
};

struct ms_job {
	struct session_job base;	/* first: the runtime's part */
	enum ms_job_kind kind;
	struct managesieve_context *mctx;
	/* inputs */
	char user[321];
	char *password;
	char client_ip[64];
	char address[321];
	char *name;
	char *name2;
	char *content;
	size_t len;
	uint64_t size;
	/* outputs */
	int status;			/* store_result; for JOB_PUT/CHECK also compile */
	struct dir_auth auth;
	struct buf out;
	char *compile_error;		/* malloc'ed "line L column C: ..." */
	char *warnings;			/* malloc'ed */
	char error[256];
};

struct ms_session {
	struct session rt;		/* first: the runtime's part */
	struct conn *conn;
	struct managesieve_context *mctx;
	struct reader reader;
	struct msieve_parser parser;
	enum ms_state state;
	char address[321];
	struct sasl sasl;
	bool in_sasl;
	bool in_literal;		/* the reader is delivering a literal */
	bool discard_literal;		/* ... which was refused: drop its bytes */
	bool skip_rest;			/* the line after a refused literal ends its command */
	bool tls_caps_pending;		/* send the capabilities once TLS is up */
	unsigned bad_commands;
};

/* ---- replies ---- */

/* OK/NO/BYE [(code)] ["text"] CRLF */
static void respond(struct ms_session *s, const char *status, const char *code, const char *text)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, status);
	if (code != NULL)
		buf_printf(&b, " (%s)", code);
	if (text != NULL) {
		buf_append(&b, " ", 1);
		msieve_write_string(&b, text, strlen(text));
	}
	buf_append(&b, "\r\n", 2);
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static bool plaintext_allowed(const struct ms_session *s)
{
	const struct config *cfg = s->mctx->cfg;
	return cfg->managesieve.plaintext_auth ||
	       conn_is_secure(s->conn, cfg->server.loopback_is_secure);
}

static bool starttls_offered(const struct ms_session *s)
{
	return s->mctx->tls != NULL && !conn_is_tls(s->conn);
}

static void send_capabilities(struct ms_session *s)
{
	const struct config *cfg = s->mctx->cfg;
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "\"IMPLEMENTATION\" \"Cairn\"\r\n");
	/* RFC 5804 1.7: an empty SASL list while no mechanism may be used. */
	buf_printf(&b, "\"SASL\" \"%s\"\r\n",
		   s->state == MS_NONAUTH && plaintext_allowed(s) ? "PLAIN LOGIN" : "");
	buf_append_str(&b, "\"SIEVE\" ");
	const char *ext = sieve_extensions();
	msieve_write_string(&b, ext, strlen(ext));
	buf_append_str(&b, "\r\n");
	if (starttls_offered(s) && s->state == MS_NONAUTH)
		buf_append_str(&b, "\"STARTTLS\"\r\n");
	buf_printf(&b, "\"MAXREDIRECTS\" \"%llu\"\r\n",
		   (unsigned long long)cfg->sieve.max_redirects);
	if (s->state == MS_AUTH) {
		buf_append_str(&b, "\"OWNER\" ");
		msieve_write_string(&b, s->address, strlen(s->address));
		buf_append_str(&b, "\r\n");
	}
	if (cfg->managesieve.unauthenticate)
		buf_append_str(&b, "\"UNAUTHENTICATE\"\r\n");
	buf_append_str(&b, "\"VERSION\" \"1.0\"\r\nOK \"Cairn ManageSieve ready\"\r\n");
	conn_write(s->conn, b.data, b.len);
	buf_free(&b);
}

static void bad_command(struct ms_session *s, const char *text)
{
	respond(s, "NO", NULL, text);
	if (++s->bad_commands >= s->mctx->cfg->managesieve.max_bad_commands) {
		log_info("managesieve session=%s peer=%s event=too-many-bad-commands",
			 conn_id(s->conn), conn_peer_addr(s->conn));
		respond(s, "BYE", NULL, "Too many bad commands");
		session_close(&s->rt);
	}
}

static void tempfail(struct ms_session *s, const char *what, const char *error)
{
	log_warn("managesieve session=%s user=%s event=%s-failed reason=\"%s\"", conn_id(s->conn),
		 s->address, what, error);
	respond(s, "NO", "TRYLATER", "Service temporarily unavailable, try again later");
}

/* ---- jobs ---- */

/* Compile a script as delivery would, with the configured limits, its
 * includes resolved as at delivery (the user's stored scripts, [sieve]
 * global_dir). upload: a missing :personal include is only a warning (it
 * may be uploaded later, RFC 6609 3.2); activation refuses it.
 * Returns 0 (warnings in *warnings_r, malloc'ed or NULL) or -1. */
static int compile_check(const struct config *cfg, struct store *st, const char *address,
			 const char *name, const char *content, size_t len, bool upload,
			 char **error_r, char **warnings_r)
{
	struct sieve_limits lim;
	deliver_sieve_limits(cfg, &lim);
	struct deliver_sieve_include_ctx ictx = {
		.st = st, .cfg = cfg, .max_size = lim.max_script_size, .account = address,
	};
	struct sieve_compile_params params = {
		.limits = &lim, .name = name, .include = deliver_sieve_include_cb,
		.include_ctx = &ictx, .include_missing_personal_ok = upload,
	};
	struct sieve_script *script = NULL;
	*warnings_r = NULL;
	if (sieve_compile(content, len, &params, &script, error_r) < 0)
		return -1;
	const char *w = sieve_script_warnings(script);
	if (w != NULL && w[0] != '\0')
		*warnings_r = xstrdup(w);
	sieve_script_unref(&script);
	return 0;
}

static void list_cb(const char *name, bool active, uint64_t size, void *ctx)
{
	struct buf *out = ctx;
	(void)size;
	msieve_write_string(out, name, strlen(name));
	if (active)
		buf_append_str(out, " ACTIVE");
	buf_append_str(out, "\r\n");
}

static struct store_sieve_limits store_limits(const struct config *cfg)
{
	struct store_sieve_limits l = { cfg->sieve.max_scripts, cfg->sieve.max_total_size };
	return l;
}

static void job_login(struct ms_job *j, struct worker *w)
{
	struct store *st = store_jobs_get(w);
	struct dir_handle *dh = dir_worker_handle(w, st);
	const char *error = NULL;
	if (dir_authenticate(dh, j->user, j->password, j->client_ip, &j->auth, &error) < 0) {
		j->auth.status = DIR_AUTH_TEMPFAIL;
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "directory error");
	}
	memset(j->password, 0, strlen(j->password));
	if (j->auth.status != DIR_AUTH_OK)
		return;
	snprintf(j->address, sizeof(j->address), "%s", j->auth.address);
	if (dir_provision(dh, j->address, &error) == DIR_TEMPFAIL) {
		j->status = STORE_TEMPFAIL;
		snprintf(j->error, sizeof(j->error), "%s", error != NULL ? error : "provisioning");
	}
}

static void job_run(struct session_job *job, struct worker *w)
{
	struct ms_job *j = (struct ms_job *)job;
	const struct config *cfg = j->mctx->cfg;
	struct store *st = store_jobs_get(w);
	struct store_sieve_limits lim = store_limits(cfg);
	const char *error = NULL;
	switch (j->kind) {
	case JOB_LOGIN:
		job_login(j, w);
		break;
	case JOB_LIST:
		j->status = store_sieve_list(st, j->address, list_cb, &j->out, &error);
		break;
	case JOB_GET:
		j->status = store_sieve_get(st, j->address, j->name, &j->out, NULL, &error);
		break;
	case JOB_CHECK:
	case JOB_PUT:
		if (compile_check(cfg, st, j->address, j->name != NULL ? j->name : "", j->content,
				  j->len, true, &j->compile_error, &j->warnings) < 0) {
			j->status = STORE_INVALID;
			break;
		}
		if (j->kind == JOB_PUT)
			j->status = store_sieve_put(st, j->address, j->name, j->content, j->len,
						    &lim, &error);
		break;
	case JOB_HAVESPACE:
		j->status = store_sieve_havespace(st, j->address, j->name, j->size, &lim, &error);
		break;
	case JOB_SETACTIVE:
		/* the includes must exist now (RFC 6609 3.2: a :personal one
		 * may have been missing at upload) */
		if (j->name[0] != '\0') {
			struct buf src;
			buf_init(&src, 0);
			j->status = store_sieve_get(st, j->address, j->name, &src, NULL, &error);
			if (j->status == STORE_OK &&
			    compile_check(cfg, st, j->address, j->name,
					  src.data != NULL ? src.data : "", src.len, false,
					  &j->compile_error, &j->warnings) < 0)
				j->status = STORE_INVALID;
			buf_free(&src);
			if (j->status != STORE_OK)
				break;
			free(j->warnings);
			j->warnings = NULL;
		}
		j->status = store_sieve_activate(st, j->address, j->name, &error);
		break;
	case JOB_DELETE:
		j->status = store_sieve_delete(st, j->address, j->name, &error);
		break;
	case JOB_RENAME:
		j->status = store_sieve_rename(st, j->address, j->name, j->name2, &error);
		break;
	}
	if (j->status != STORE_OK && error != NULL)
		snprintf(j->error, sizeof(j->error), "%s", error);
	store_jobs_note(w);
	if (j->status == STORE_TEMPFAIL || j->status == STORE_ERROR ||
	    j->auth.status == DIR_AUTH_TEMPFAIL)
		metrics_inc(&metrics.store_errors);
}

static void job_free(struct session_job *job, bool orphaned)
{
	struct ms_job *j = (struct ms_job *)job;
	(void)orphaned;
	if (j->password != NULL) {
		memset(j->password, 0, strlen(j->password));
		free(j->password);
	}
	free(j->name);
	free(j->name2);
	free(j->content);
	free(j->compile_error);
	free(j->warnings);
	buf_free(&j->out);
	free(j);
}

static void job_done(struct session *rt, struct session_job *job);

static struct ms_job *job_new(struct ms_session *s, enum ms_job_kind kind)
{
	struct ms_job *j = xcalloc(1, sizeof(*j));
	session_job_init(&j->base, job_run, job_done, job_free);
	j->kind = kind;
	j->mctx = s->mctx;
	buf_init(&j->out, 0);
	snprintf(j->address, sizeof(j->address), "%s", s->address);
	snprintf(j->client_ip, sizeof(j->client_ip), "%s", conn_peer_addr(s->conn));
	return j;
}

/* ---- finishing jobs on the loop thread ---- */

static void login_done(struct ms_session *s, struct ms_job *j)
{
	const char *id = conn_id(s->conn);
	switch (j->auth.status) {
	case DIR_AUTH_OK:
		break;
	case DIR_AUTH_FAIL:
		log_info("managesieve session=%s peer=%s user=%s event=auth-failed failures=%u", id,
			 conn_peer_addr(s->conn), j->user, j->auth.failures);
		if (j->auth.delay_ms > 0) {
			/* Hold the answer: slows down password guessing. */
			static const char failed[] = "NO \"Authentication failed\"\r\n";
			session_reply_later(&s->rt, failed, sizeof(failed) - 1, j->auth.delay_ms);
			return;
		}
		respond(s, "NO", NULL, "Authentication failed");
		return;
	case DIR_AUTH_LOCKED:
		log_info("managesieve session=%s peer=%s user=%s event=auth-locked "
			 "retry_after_ms=%llu", id, conn_peer_addr(s->conn), j->user,
			 (unsigned long long)j->auth.retry_after_ms);
		respond(s, "NO", "TRYLATER", "Too many failed logins; try again later");
		return;
	case DIR_AUTH_TEMPFAIL:
		log_warn("managesieve session=%s user=%s event=auth-tempfail reason=\"%s\"", id,
			 j->user, j->error);
		respond(s, "NO", "TRYLATER", "Authentication is temporarily unavailable");
		return;
	}
	if (j->status != STORE_OK) {
		tempfail(s, "provision", j->error);
		return;
	}
	snprintf(s->address, sizeof(s->address), "%s", j->address);
	s->state = MS_AUTH;
	s->parser.max_literal = s->mctx->cfg->sieve.max_script_size;
	log_info("managesieve session=%s peer=%s user=%s event=login tls=%s", id,
		 conn_peer_addr(s->conn), s->address, conn_is_tls(s->conn) ? "yes" : "no");
	respond(s, "OK", NULL, "Logged in");
}

/* The common answers to a store result that is not STORE_OK. */
static void store_failed(struct ms_session *s, struct ms_job *j, const char *what)
{
	switch (j->status) {
	case STORE_NOTFOUND:
		respond(s, "NO", "NONEXISTENT", "There is no script by that name");
		break;
	case STORE_EXISTS:
		respond(s, "NO", "ALREADYEXISTS", "A script by that name already exists");
		break;
	case STORE_CONFLICT:
		respond(s, "NO", "ACTIVE", "The active script cannot be deleted; deactivate it first");
		break;
	case STORE_OVERQUOTA:
		respond(s, "NO", strstr(j->error, "scripts allowed") != NULL ? "QUOTA/MAXSCRIPTS" :
			"QUOTA", j->error);
		break;
	case STORE_INVALID:
		respond(s, "NO", NULL, j->error[0] != '\0' ? j->error : "Refused");
		break;
	default:
		tempfail(s, what, j->error);
		break;
	}
}

static void script_done(struct ms_session *s, struct ms_job *j)
{
	if (j->compile_error != NULL) {
		log_info("managesieve session=%s user=%s event=script-invalid name=\"%s\"",
			 conn_id(s->conn), s->address, j->name != NULL ? j->name : "");
		respond(s, "NO", NULL, j->compile_error);
		return;
	}
	if (j->status != STORE_OK) {
		store_failed(s, j, "putscript");
		return;
	}
	if (j->kind == JOB_PUT)
		log_info("managesieve session=%s user=%s event=putscript name=\"%s\" size=%zu",
			 conn_id(s->conn), s->address, j->name, j->len);
	if (j->warnings != NULL)
		respond(s, "OK", "WARNINGS", j->warnings);
	else
		respond(s, "OK", NULL, j->kind == JOB_PUT ? "Script stored" : "Script is valid");
}

static void job_done(struct session *rt, struct session_job *job)
{
	struct ms_job *j = (struct ms_job *)job;
	struct ms_session *s = (struct ms_session *)rt;
	switch (j->kind) {
	case JOB_LOGIN:
		login_done(s, j);
		return;
	case JOB_PUT:
	case JOB_CHECK:
		script_done(s, j);
		return;
	default:
		break;
	}
	if (j->kind == JOB_SETACTIVE && j->compile_error != NULL) {
		log_info("managesieve session=%s user=%s event=setactive-invalid name=\"%s\"",
			 conn_id(s->conn), s->address, j->name);
		respond(s, "NO", NULL, j->compile_error);
		return;
	}
	if (j->status != STORE_OK) {
		store_failed(s, j, "script");
		return;
	}
	switch (j->kind) {
	case JOB_LIST:
		conn_write(s->conn, j->out.data != NULL ? j->out.data : "", j->out.len);
		respond(s, "OK", NULL, "Listscripts completed");
		break;
	case JOB_GET: {
		struct buf b;
		buf_init(&b, 0);
		/* Always a literal: scripts hold CRLFs (RFC 5804 2.9). */
		buf_printf(&b, "{%zu}\r\n", j->out.len);
		buf_append(&b, j->out.data != NULL ? j->out.data : "", j->out.len);
		buf_append_str(&b, "\r\n");
		conn_write(s->conn, b.data, b.len);
		buf_free(&b);
		respond(s, "OK", NULL, "Getscript completed");
		break;
	}
	case JOB_HAVESPACE:
		respond(s, "OK", NULL, "Putscript would succeed");
		break;
	case JOB_SETACTIVE:
		log_info("managesieve session=%s user=%s event=setactive name=\"%s\"",
			 conn_id(s->conn), s->address, j->name);
		respond(s, "OK", NULL, j->name[0] != '\0' ? "Script activated" :
			"No script is active now");
		break;
	case JOB_DELETE:
		log_info("managesieve session=%s user=%s event=deletescript name=\"%s\"",
			 conn_id(s->conn), s->address, j->name);
		respond(s, "OK", NULL, "Script deleted");
		break;
	case JOB_RENAME:
		respond(s, "OK", NULL, "Script renamed");
		break;
	default:
		break;
	}
}

/* ---- commands ---- */

static char *arg_dup(const struct msieve_arg *a)
{
	char *p = xmalloc(a->len + 1);
	memcpy(p, a->str, a->len);
	p[a->len] = '\0';
	return p;
}

/* Take a script name argument: NULL (after answering NO) if invalid. */
static char *take_name(struct ms_session *s, const struct msieve_arg *a, bool empty_ok)
{
	if ((empty_ok && a->len == 0) || msieve_name_valid(a->str, a->len))
		return arg_dup(a);
	bad_command(s, "Invalid script name");
	return NULL;
}

static void start_login(struct ms_session *s, const char *user, const char *password)
{
	struct ms_job *j = job_new(s, JOB_LOGIN);
	snprintf(j->user, sizeof(j->user), "%s", user);
	j->password = xstrdup(password);
	session_submit(&s->rt, &j->base);
}

static void sasl_reply(struct ms_session *s, int ret, struct buf *challenge, const char *error)
{
	if (ret == 0) {
		/* RFC 5804 2.1: the challenge is a string; the response too. */
		struct buf b;
		buf_init(&b, 0);
		msieve_write_string(&b, challenge->data != NULL ? challenge->data : "",
				    challenge->len);
		buf_append_str(&b, "\r\n");
		conn_write(s->conn, b.data, b.len);
		buf_free(&b);
		s->in_sasl = true;
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

static void cmd_authenticate(struct ms_session *s, const struct msieve_parser *p)
{
	enum sasl_mech mech;
	if (s->state == MS_AUTH) {
		bad_command(s, "Already authenticated");
		return;
	}
	if (!plaintext_allowed(s)) {
		respond(s, "NO", "ENCRYPT-NEEDED", "Use STARTTLS before authenticating");
		return;
	}
	if (sasl_mech_parse(p->args[0].str, &mech) < 0) {
		bad_command(s, "Unsupported authentication mechanism");
		return;
	}
	sasl_begin(&s->sasl, mech);
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	/* An empty initial response is "" here; sasl.c spells it "=". */
	const char *initial = NULL;
	if (p->argc > 1)
		initial = p->args[1].len == 0 ? "=" : p->args[1].str;
	int ret = sasl_step(&s->sasl, initial, &challenge, &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

static void sasl_continue(struct ms_session *s, const struct msieve_parser *p)
{
	if (p->cancelled) {
		s->in_sasl = false;
		sasl_reset(&s->sasl);
		respond(s, "NO", NULL, "Authentication cancelled");
		return;
	}
	struct buf challenge;
	buf_init(&challenge, 1024);
	const char *error = NULL;
	int ret = sasl_step(&s->sasl, p->args[0].len == 0 ? "=" : p->args[0].str, &challenge,
			    &error);
	sasl_reply(s, ret, &challenge, error);
	buf_free(&challenge);
}

static void cmd_starttls(struct ms_session *s)
{
	if (!starttls_offered(s) || s->state != MS_NONAUTH) {
		bad_command(s, "STARTTLS not available");
		return;
	}
	respond(s, "OK", NULL, "Begin TLS negotiation now");
	conn_starttls(s->conn, tls_server_ctx(s->mctx->tls));
	reader_reset(&s->reader);
	/* RFC 5804 2.2: the capabilities again, over TLS, once it is up. */
	s->tls_caps_pending = true;
	session_notify_writable(&s->rt);
}

static void cmd_noop(struct ms_session *s, const struct msieve_parser *p)
{
	if (p->argc == 0) {
		respond(s, "OK", NULL, "Done");
		return;
	}
	/* RFC 5804 2.13: echo the tag. */
	struct buf code;
	buf_init(&code, 0);
	buf_append_str(&code, "TAG ");
	msieve_write_string(&code, p->args[0].str, p->args[0].len);
	respond(s, "OK", code.data, "Done");
	buf_free(&code);
}

static void run_authenticated(struct ms_session *s, const struct msieve_parser *p)
{
	const struct config *cfg = s->mctx->cfg;
	struct ms_job *j = NULL;
	char *name = NULL, *name2 = NULL;
	switch (p->cmd) {
	case MSIEVE_CMD_LISTSCRIPTS:
		j = job_new(s, JOB_LIST);
		break;
	case MSIEVE_CMD_GETSCRIPT:
	case MSIEVE_CMD_DELETESCRIPT:
		if ((name = take_name(s, &p->args[0], false)) == NULL)
			return;
		j = job_new(s, p->cmd == MSIEVE_CMD_GETSCRIPT ? JOB_GET : JOB_DELETE);
		break;
	case MSIEVE_CMD_SETACTIVE:
		if ((name = take_name(s, &p->args[0], true)) == NULL)
			return;
		j = job_new(s, JOB_SETACTIVE);
		break;
	case MSIEVE_CMD_RENAMESCRIPT:
		if ((name = take_name(s, &p->args[0], false)) == NULL)
			return;
		if ((name2 = take_name(s, &p->args[1], false)) == NULL) {
			free(name);
			return;
		}
		j = job_new(s, JOB_RENAME);
		break;
	case MSIEVE_CMD_HAVESPACE:
		if ((name = take_name(s, &p->args[0], false)) == NULL)
			return;
		if (p->args[1].number > cfg->sieve.max_script_size) {
			free(name);
			respond(s, "NO", "QUOTA/MAXSIZE", "Script too large");
			return;
		}
		j = job_new(s, JOB_HAVESPACE);
		j->size = p->args[1].number;
		break;
	case MSIEVE_CMD_PUTSCRIPT:
	case MSIEVE_CMD_CHECKSCRIPT: {
		const struct msieve_arg *script = &p->args[p->cmd == MSIEVE_CMD_PUTSCRIPT ? 1 : 0];
		if (p->cmd == MSIEVE_CMD_PUTSCRIPT &&
		    (name = take_name(s, &p->args[0], false)) == NULL)
			return;
		if (script->len > cfg->sieve.max_script_size) {
			free(name);
			respond(s, "NO", "QUOTA/MAXSIZE", "Script too large");
			return;
		}
		if (!msieve_utf8_valid(script->str, script->len) ||
		    memchr(script->str, '\0', script->len) != NULL) {
			free(name);
			respond(s, "NO", NULL, "Scripts must be UTF-8 text");
			return;
		}
		j = job_new(s, p->cmd == MSIEVE_CMD_PUTSCRIPT ? JOB_PUT : JOB_CHECK);
		j->content = arg_dup(script);
		j->len = script->len;
		break;
	}
	case MSIEVE_CMD_UNAUTHENTICATE:
		if (!cfg->managesieve.unauthenticate) {
			bad_command(s, "UNAUTHENTICATE not available");
			return;
		}
		log_info("managesieve session=%s user=%s event=unauthenticate", conn_id(s->conn),
			 s->address);
		s->state = MS_NONAUTH;
		s->address[0] = '\0';
		s->parser.max_literal = MS_MAX_LITERAL_NONAUTH;
		respond(s, "OK", NULL, "Unauthenticated");
		return;
	case MSIEVE_CMD_AUTHENTICATE:
		bad_command(s, "Already authenticated");
		return;
	case MSIEVE_CMD_STARTTLS:
		bad_command(s, "STARTTLS only before authentication");
		return;
	default:
		bad_command(s, "Unknown command");
		return;
	}
	j->name = name;
	j->name2 = name2;
	session_submit(&s->rt, &j->base);
}

static void run_command(struct ms_session *s, const struct msieve_parser *p)
{
	log_debug("managesieve session=%s cmd=%s", conn_id(s->conn), p->name);
	switch (p->cmd) {
	case MSIEVE_CMD_CAPABILITY:
		send_capabilities(s);
		return;
	case MSIEVE_CMD_LOGOUT:
		respond(s, "OK", NULL, "Logout completed");
		session_close(&s->rt);
		return;
	case MSIEVE_CMD_NOOP:
		cmd_noop(s, p);
		return;
	case MSIEVE_CMD_UNKNOWN:
		bad_command(s, "Unknown command");
		return;
	default:
		break;
	}
	if (s->state == MS_AUTH) {
		run_authenticated(s, p);
		return;
	}
	switch (p->cmd) {
	case MSIEVE_CMD_STARTTLS:
		cmd_starttls(s);
		return;
	case MSIEVE_CMD_AUTHENTICATE:
		cmd_authenticate(s, p);
		return;
	default:
		bad_command(s, "Authenticate first");
		return;
	}
}

/* A complete command (or SASL response) is in the parser: run it. */
static void command_complete(struct ms_session *s)
{
	if (s->in_sasl)
		sasl_continue(s, &s->parser);
	else
		run_command(s, &s->parser);
	msieve_parser_reset(&s->parser, s->in_sasl);
}

static void literal_refused(struct ms_session *s)
{
	uint64_t size = s->parser.literal_size;
	const struct config *cfg = s->mctx->cfg;
	bool script = s->state == MS_AUTH && (s->parser.cmd == MSIEVE_CMD_PUTSCRIPT ||
					      s->parser.cmd == MSIEVE_CMD_CHECKSCRIPT);
	msieve_parser_reset(&s->parser, false);
	if (s->in_sasl) {
		s->in_sasl = false;
		sasl_reset(&s->sasl);
	}
	uint64_t skip_max = s->state == MS_AUTH ? cfg->sieve.max_script_size * MS_SKIP_FACTOR :
						  MS_MAX_LITERAL_NONAUTH;
	if (size > skip_max) {
		log_info("managesieve session=%s peer=%s event=literal-too-large size=%llu",
			 conn_id(s->conn), conn_peer_addr(s->conn), (unsigned long long)size);
		respond(s, "BYE", NULL, "Literal too large");
		session_close(&s->rt);
		return;
	}
	if (script)
		respond(s, "NO", "QUOTA/MAXSIZE", "Script too large");
	else
		bad_command(s, "Literal too large");
	/* The client sends it anyway ({n+}): read and drop it. */
	s->discard_literal = true;
	if (size == 0) {
		s->discard_literal = false;
		s->skip_rest = true;
		return;
	}
	s->in_literal = true;
	reader_begin_literal(&s->reader, size);
	session_body_deadline(&s->rt, true);
}

static void handle_line(struct ms_session *s, const char *line, size_t len)
{
	if (s->skip_rest) {
		/* The rest of a command whose literal was refused. */
		s->skip_rest = false;
		if (len > 0 && line[len - 1] == '}') {
			respond(s, "BYE", NULL, "Protocol error");
			session_close(&s->rt);
		}
		return;
	}
	bool too_big = false;
	const char *error = NULL;
	int ret = msieve_parser_line(&s->parser, line, len, &too_big, &error);
	if (ret == MSIEVE_LITERAL) {
		if (s->parser.literal_size == 0) {
			msieve_parser_literal(&s->parser, "", 0, true);
			return;
		}
		s->in_literal = true;
		s->discard_literal = false;
		reader_begin_literal(&s->reader, s->parser.literal_size);
		session_body_deadline(&s->rt, true);
		return;
	}
	if (ret == MSIEVE_DONE) {
		command_complete(s);
		return;
	}
	if (too_big) {
		literal_refused(s);
		return;
	}
	msieve_parser_reset(&s->parser, false);
	if (s->in_sasl) {
		s->in_sasl = false;
		sasl_reset(&s->sasl);
	}
	/* A literal announced on a bad line would be read as commands. */
	if (len > 1 && line[len - 1] == '}' && memchr(line, '{', len) != NULL) {
		respond(s, "BYE", NULL, error);
		session_close(&s->rt);
		return;
	}
	bad_command(s, error);
}

static void ms_session_input(struct session *rt)
{
	struct ms_session *s = (struct ms_session *)rt;
	struct buf *in = conn_input(s->conn);
	while (in->len > 0 && !session_busy(&s->rt)) {
		struct reader_item item;
		size_t consumed;
		int ret = reader_next(&s->reader, in->data, in->len, &item, &consumed);
		if (ret == READER_LITERAL || ret == READER_LITERAL_END) {
			bool last = ret == READER_LITERAL_END;
			if (!s->discard_literal)
				msieve_parser_literal(&s->parser, item.data, item.len, last);
			buf_consume(in, consumed);
			if (last) {
				s->in_literal = false;
				session_body_deadline(&s->rt, false);
				if (s->discard_literal) {
					s->discard_literal = false;
					s->skip_rest = true;
				}
			}
			continue;
		}
		if (ret == READER_TOO_LONG) {
			buf_consume(in, consumed);
			msieve_parser_reset(&s->parser, s->in_sasl);
			bad_command(s, "Line too long");
			continue;
		}
		if (ret != READER_LINE) {
			buf_consume(in, consumed);
			if (consumed == 0)
				return;
			continue;
		}
		handle_line(s, item.data, item.len);
		buf_consume(in, consumed);
	}
}

static void ms_session_writable(struct session *rt)
{
	struct ms_session *s = (struct ms_session *)rt;
	if (!s->tls_caps_pending)
		return;
	if (!conn_is_tls(s->conn)) {
		/* The handshake has not started yet. */
		session_notify_writable(&s->rt);
		return;
	}
	s->tls_caps_pending = false;
	send_capabilities(s);
}

static void ms_session_timeout(struct session *rt, enum conn_timeout why)
{
	struct ms_session *s = (struct ms_session *)rt;
	respond(s, "BYE", NULL, why == CONN_TIMEOUT_IDLE ? "Disconnected for inactivity" :
		"Command not completed in time");
	session_close(&s->rt);
}

static void ms_session_shutdown(struct session *rt)
{
	struct ms_session *s = (struct ms_session *)rt;
	respond(s, "BYE", "TRYLATER", "Server shutting down");
	session_close(&s->rt);
}

static void ms_session_free(struct session *rt)
{
	struct ms_session *s = (struct ms_session *)rt;
	sasl_reset(&s->sasl);
	msieve_parser_free(&s->parser);
	free(s);
}

static const struct session_ops ms_ops = {
	.input = ms_session_input,
	.timeout = ms_session_timeout,
	.shutdown = ms_session_shutdown,
	.writable = ms_session_writable,
	.free = ms_session_free,
};

void managesieve_session_accept(struct conn *c, void *ctx)
{
	struct managesieve_context *mctx = ctx;
	struct ms_session *s = xcalloc(1, sizeof(*s));
	session_init(&s->rt, c, mctx->pool, &ms_ops, "managesieve");
	s->conn = c;
	s->mctx = mctx;
	s->state = MS_NONAUTH;
	reader_init(&s->reader, MS_MAX_LINE);
	msieve_parser_init(&s->parser, MS_MAX_LITERAL_NONAUTH);
	conn_set_input_max(c, MS_MAX_LINE + 1024);
	conn_set_idle_timeout(c, mctx->cfg->managesieve.idle_timeout_ms);
	conn_start(c);
	send_capabilities(s);
}
