/* URLAUTH (RFC 4467): GENURLAUTH signs URL rumps of the user's own messages
 * with the INTERNAL mechanism (HMAC-SHA256 with a per-mailbox key), RESETKEY
 * forgets keys so that every URL made with them stops working, URLFETCH
 * returns what authorized URLs name. The checks and the fetch are in
 * server/store/store-urlauth.c, shared with SMTP BURL (RFC 4468). */
#include "autoconf.h"
#include "imap-private.h"
#include "config.h"
#include "conn.h"
#include "imap_url.h"
#include "log.h"
#include "store.h"
#include "store-urlauth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- GENURLAUTH ---- */

static void badurl_reply(struct imap_job *job, const char *url, const char *why)
{
	struct buf b;
	buf_init(&b, 0);
	imap_write_badurl(&b, url);
	imap_job_tagged(job, "NO [BADURL %s] %s", b.data, why != NULL ? why : "Invalid URL");
	buf_free(&b);
}

struct genurlauth_job {
	struct imap_job base;
	char **rumps;
	size_t count;
};

static void genurlauth_cleanup(struct imap_job *job)
{
	struct genurlauth_job *j = (struct genurlauth_job *)job;
	for (size_t i = 0; i < j->count; i++)
		free(j->rumps[i]);
	free(j->rumps);
}

static void genurlauth_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct genurlauth_job *j = (struct genurlauth_job *)job;
	struct imap_session *s = job->s;
	(void)w;
	struct buf line;
	buf_init(&line, 0);
	buf_append_str(&line, "* GENURLAUTH");
	for (size_t i = 0; i < j->count; i++) {
		const char *rump = j->rumps[i], *why = NULL, *error = NULL;
		struct imap_url u;
		if (imap_url_parse(rump, strlen(rump), &u, &why) < 0) {
			badurl_reply(job, rump, why);
			goto out;
		}
		int r = STORE_NOTFOUND;
		if (u.form != IMAP_URL_ABSOLUTE || u.user == NULL || u.mailbox == NULL || u.uid == 0)
			why = "URL must be absolute with a user, a mailbox and a UID";
		else if (u.access == IMAP_URL_ACCESS_NONE || u.mechanism != NULL)
			why = "URL must end with ;URLAUTH=<access> and no verifier";
		else if (str_casecmp(u.user, s->address) != 0)
			why = "URL names another user";
		else if (str_casecmp(u.host, s->ictx->hostname) != 0)
			why = "URL names another server";
		else if (u.rump_len != strlen(rump))
			why = "Invalid URL rump";
		else {
			struct store_mailbox_info info;
			r = store_mailbox_open(st, s->address, imap_mailbox_normalize(u.mailbox), &info,
					       &error);
			if (r == STORE_OK && info.noselect)
				r = STORE_NOTFOUND;
			if (r == STORE_OK && u.uidvalidity != 0 && u.uidvalidity != info.uidvalidity) {
				r = STORE_NOTFOUND;
				why = "UIDVALIDITY mismatch";
			}
			char token[65];
			if (r == STORE_OK)
				r = store_urlauth_sign(st, info.id, true, rump, strlen(rump), token, &error);
			if (r == STORE_OK) {
				struct buf full;
				buf_init(&full, 0);
				buf_printf(&full, "%s:INTERNAL:%s", rump, token);
				buf_append_str(&line, " ");
				imap_write_astring(&line, full.data, full.len, 0);
				buf_free(&full);
			} else if (r == STORE_NOTFOUND && why == NULL) {
				why = "No such mailbox";
			} else if (r != STORE_NOTFOUND) {
				imap_url_free(&u);
				imap_job_store_error(job, r, error);
				goto out;
			}
		}
		imap_url_free(&u);
		if (r != STORE_OK) {
			badurl_reply(job, rump, why);
			goto out;
		}
	}
	buf_append_str(&line, "\r\n");
	buf_append(&job->out, line.data, line.len);
	imap_job_tagged(job, "OK GENURLAUTH completed");
	log_info("imap session=%s user=%s cmd=GENURLAUTH urls=%zu", conn_id(job->conn), s->address,
		 j->count);
out:
	buf_free(&line);
}

void imap_cmd_genurlauth(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count == 0 || cmd->arg_count % 2 != 0) {
		imap_bad(s, cmd->tag, "GENURLAUTH url-rump mechanism ...");
		return;
	}
	for (size_t i = 0; i < cmd->arg_count; i += 2) {
		const char *url, *mech;
		size_t len;
		if (!imap_arg_astring(&cmd->args[i], &url, &len) || strlen(url) != len ||
		    !imap_arg_atom(&cmd->args[i + 1], &mech)) {
			imap_bad(s, cmd->tag, "GENURLAUTH url-rump mechanism ...");
			return;
		}
		if (str_casecmp(mech, "INTERNAL") != 0) {
			imap_reply(s, "%s NO Unknown URLAUTH mechanism; only INTERNAL", cmd->tag);
			return;
		}
	}
	struct genurlauth_job *j = imap_job_new(s, sizeof(*j), cmd, genurlauth_run, IMAP_SYNC_NONE);
	j->base.cleanup = genurlauth_cleanup;
	j->count = cmd->arg_count / 2;
	j->rumps = xcalloc(j->count, sizeof(*j->rumps));
	for (size_t i = 0; i < j->count; i++) {
		const char *url;
		size_t len;
		imap_arg_astring(&cmd->args[2 * i], &url, &len);
		j->rumps[i] = xstrdup(url);
	}
	imap_job_submit(s, &j->base);
}

/* ---- RESETKEY ---- */

struct resetkey_job {
	struct imap_job base;
	struct buf name;	/* UTF-8; empty: every mailbox */
};

static void resetkey_cleanup(struct imap_job *job)
{
	buf_free(&((struct resetkey_job *)job)->name);
}

static void resetkey_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct resetkey_job *j = (struct resetkey_job *)job;
	(void)w;
	const char *error = NULL;
	uint64_t id = 0;
	int r = STORE_OK;
	if (j->name.len > 0) {
		struct store_mailbox_info info;
		r = store_mailbox_open(st, job->s->address, j->name.data, &info, &error);
		if (r == STORE_OK && info.noselect)
			r = STORE_NOTFOUND;
		if (r == STORE_OK)
			id = info.id;
	}
	if (r == STORE_OK)
		r = store_urlauth_reset(st, job->s->address, id, &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, r == STORE_NOTFOUND ? "No such mailbox" : error);
		return;
	}
	log_info("imap session=%s user=%s cmd=RESETKEY mailbox=%s", conn_id(job->conn),
		 job->s->address, j->name.len > 0 ? j->name.data : "*");
	imap_job_tagged(job, "OK [URLMECH INTERNAL] RESETKEY completed");
}

void imap_cmd_resetkey(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name = NULL, *error = NULL;
	size_t len = 0;
	if (cmd->arg_count >= 1 && (!imap_arg_astring(&cmd->args[0], &name, &len) || strlen(name) != len)) {
		imap_bad(s, cmd->tag, "RESETKEY [mailbox [mechanism ...]]");
		return;
	}
	for (size_t i = 1; i < cmd->arg_count; i++) {
		const char *mech;
		if (!imap_arg_atom(&cmd->args[i], &mech)) {
			imap_bad(s, cmd->tag, "RESETKEY [mailbox [mechanism ...]]");
			return;
		}
		if (str_casecmp(mech, "INTERNAL") != 0) {
			imap_reply(s, "%s NO Unknown URLAUTH mechanism; only INTERNAL", cmd->tag);
			return;
		}
	}
	struct resetkey_job *j = imap_job_new(s, sizeof(*j), cmd, resetkey_run, IMAP_SYNC_NONE);
	j->base.cleanup = resetkey_cleanup;
	buf_init(&j->name, 0);
	if (name != NULL && imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error);
		j->base.run = NULL;
	}
	imap_job_submit(s, &j->base);
}

/* ---- URLFETCH ---- */

struct urlfetch_job {
	struct imap_job base;
	char **urls;
	size_t count;
};

static void urlfetch_cleanup(struct imap_job *job)
{
	struct urlfetch_job *j = (struct urlfetch_job *)job;
	for (size_t i = 0; i < j->count; i++)
		free(j->urls[i]);
	free(j->urls);
}

static void urlfetch_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct urlfetch_job *j = (struct urlfetch_job *)job;
	struct imap_session *s = job->s;
	(void)w;
	uint64_t max = s->ictx->cfg->imap.max_append;
	buf_append_str(&job->out, "* URLFETCH");
	for (size_t i = 0; i < j->count; i++) {
		const char *why = NULL;
		struct buf data;
		buf_init(&data, (size_t)max);
		int r = store_urlauth_fetch(st, s->ictx->hostname, j->urls[i], strlen(j->urls[i]),
					    STORE_URLAUTH_USER, s->address, (int64_t)time(NULL), &data,
					    &why);
		buf_append_str(&job->out, " ");
		imap_write_astring(&job->out, j->urls[i], strlen(j->urls[i]), 0);
		if (r == STORE_OK) {
			buf_append_str(&job->out, " ");
			imap_write_literal(&job->out, data.data != NULL ? data.data : "", data.len);
		} else {
			/* RFC 4467 6: NIL whatever the reason; the log has it. */
			buf_append_str(&job->out, " NIL");
			if (r != STORE_NOTFOUND && r != STORE_URL_TOOBIG)
				log_warn("imap session=%s user=%s cmd=URLFETCH status=%s reason=\"%s\"",
					 conn_id(job->conn), s->address, store_result_str(r),
					 why != NULL ? why : "");
			else
				log_info("imap session=%s user=%s cmd=URLFETCH event=refused reason=\"%s\"",
					 conn_id(job->conn), s->address, why != NULL ? why : "");
		}
		buf_free(&data);
	}
	buf_append_str(&job->out, "\r\n");
	imap_job_tagged(job, "OK URLFETCH completed");
}

void imap_cmd_urlfetch(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count == 0) {
		imap_bad(s, cmd->tag, "URLFETCH url ...");
		return;
	}
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const char *url;
		size_t len;
		if (!imap_arg_astring(&cmd->args[i], &url, &len) || strlen(url) != len) {
			imap_bad(s, cmd->tag, "URLFETCH url ...");
			return;
		}
	}
	struct urlfetch_job *j = imap_job_new(s, sizeof(*j), cmd, urlfetch_run, IMAP_SYNC_NONE);
	j->base.cleanup = urlfetch_cleanup;
	j->count = cmd->arg_count;
	j->urls = xcalloc(j->count, sizeof(*j->urls));
	for (size_t i = 0; i < j->count; i++) {
		const char *url;
		size_t len;
		imap_arg_astring(&cmd->args[i], &url, &len);
		j->urls[i] = xstrdup(url);
	}
	imap_job_submit(s, &j->base);
}
