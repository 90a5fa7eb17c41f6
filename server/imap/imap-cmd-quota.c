/* IMAP QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT and SETQUOTA, with the
 * STORAGE (units of 1024 octets) and MESSAGE resources. Every account is
 * one quota root; to its owner it is named "", to anybody else by the
 * owner's address, so a mailbox of another user's namespace reports the
 * root it really counts against (store_quota_mailbox). A root without any
 * limit does not exist (RFC 9208 5.1: a QUOTA response lists at least one
 * resource). Only administrators (accounts.is_admin) may change limits or
 * read another account's root; everybody else gets NO [NOPERM]. */
#include "autoconf.h"
#include "imap-private.h"
#include "store-quota.h"
#include "conn.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* STORAGE is counted in units of 1024 octets (RFC 9208 5.1). */
#define QUOTA_UNIT 1024

struct quota_job {
	struct imap_job base;
	struct buf name;		/* GETQUOTAROOT: the mailbox, UTF-8 */
	char *root;			/* GETQUOTA/SETQUOTA: the root as sent */
	bool set_storage, set_message;	/* SETQUOTA: which limits were given */
	int64_t storage, message;	/* in units of the resource */
};

/* Free what a quota job owns. */
static void quota_cleanup(struct imap_job *job)
{
	struct quota_job *j = (struct quota_job *)job;
	buf_free(&j->name);
	free(j->root);
}

/* Whether a root exists: it has at least one limit. */
static bool has_limit(const struct store_quota *q)
{
	return q->limit_bytes >= 0 || q->limit_messages >= 0;
}

/* The name of q's root as user sees it. */
static const char *root_name(const struct imap_session *s, const struct store_quota *q)
{
	return strcmp(q->owner, s->address) == 0 ? "" : q->owner;
}

/* "* QUOTA root (STORAGE used limit MESSAGE used limit)\r\n". */
static void write_quota(struct imap_job *job, const struct store_quota *q)
{
	struct buf *o = &job->out;
	const char *root = root_name(job->s, q);
	buf_append_str(o, "* QUOTA ");
	imap_write_astring(o, root, strlen(root), job->s->utf8 ? IMAP_QUOTE_UTF8 : 0);
	buf_append_str(o, " (");
	if (q->limit_bytes >= 0)
		buf_printf(o, "STORAGE %" PRIu64 " %" PRId64, (q->bytes + QUOTA_UNIT - 1) / QUOTA_UNIT,
			   q->limit_bytes / QUOTA_UNIT);
	if (q->limit_messages >= 0)
		buf_printf(o, "%sMESSAGE %" PRIu64 " %" PRId64, q->limit_bytes >= 0 ? " " : "",
			   q->messages, q->limit_messages);
	buf_append_str(o, ")\r\n");
}

/* Resolve a root name for GETQUOTA/SETQUOTA: "" is the user's own; any
 * other name is an account address, which only an admin may use
 * (*noperm_r set, STORE_OK returned, q untouched). */
static int resolve_root(struct imap_job *job, struct store *st, const char *root,
			struct store_quota *q, bool *noperm_r, const char **error_r)
{
	bool admin = false;
	*noperm_r = false;
	if (root[0] == '\0' || str_casecmp(root, job->s->address) == 0)
		return store_quota_account(st, job->s->address, q, error_r);
	int r = store_quota_is_admin(st, job->s->address, &admin, error_r);
	if (r != STORE_OK)
		return r;
	if (!admin) {
		*noperm_r = true;
		return STORE_OK;
	}
	return store_quota_account(st, root, q, error_r);
}

/* GETQUOTA on a worker: the root's QUOTA response. */
static void getquota_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct quota_job *j = (struct quota_job *)job;
	struct store_quota q;
	const char *error = NULL;
	bool noperm;
	(void)w;
	int r = resolve_root(job, st, j->root, &q, &noperm, &error);
	if (r == STORE_OK && noperm) {
		imap_job_tagged(job, "NO [NOPERM] Only administrators may read other users' quota roots");
		return;
	}
	if (r == STORE_NOTFOUND || (r == STORE_OK && !has_limit(&q))) {
		imap_job_tagged(job, "NO [NONEXISTENT] No such quota root");
		return;
	}
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	write_quota(job, &q);
	imap_job_tagged(job, "OK GETQUOTA completed");
}

/* GETQUOTAROOT on a worker: QUOTAROOT, then QUOTA of the root if any. */
static void getquotaroot_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct quota_job *j = (struct quota_job *)job;
	struct imap_acl_box box;
	struct store_quota q;
	const char *error = NULL;
	/* Any mailbox the user may look up, in any namespace: its root is
	 * its owner's. */
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !imap_acl_require(job, &box, IMAP_ACL_LOOKUP, false)) {
		imap_acl_box_free(&box);
		return;
	}
	if (r == STORE_OK && (!box.exists || box.sb->info.noselect))
		r = STORE_NOTFOUND;
	if (r == STORE_OK)
		r = store_quota_mailbox(st, box.sb->info.id, &q, &error);
	imap_acl_box_free(&box);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, r == STORE_NOTFOUND ? "No such mailbox" : error);
		return;
	}
	struct buf *o = &job->out;
	buf_append_str(o, "* QUOTAROOT ");
	imap_write_mailbox(job->s, o, j->name.data);
	if (has_limit(&q)) {
		const char *root = root_name(job->s, &q);
		buf_append_str(o, " ");
		imap_write_astring(o, root, strlen(root), job->s->utf8 ? IMAP_QUOTE_UTF8 : 0);
	}
	buf_append_str(o, "\r\n");
	if (has_limit(&q))
		write_quota(job, &q);
	imap_job_tagged(job, "OK GETQUOTAROOT completed");
}

/* SETQUOTA on a worker: admin check, new limits, the QUOTA they give. */
static void setquota_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct quota_job *j = (struct quota_job *)job;
	struct store_quota q;
	const char *error = NULL;
	bool admin = false;
	(void)w;
	int r = store_quota_is_admin(st, job->s->address, &admin, &error);
	if (r == STORE_OK && !admin) {
		imap_job_tagged(job, "NO [NOPERM] Only administrators may change quotas");
		return;
	}
	bool noperm = false;
	if (r == STORE_OK)
		r = resolve_root(job, st, j->root, &q, &noperm, &error);
	if (r == STORE_OK && noperm) {	/* not after the admin check above */
		imap_job_tagged(job, "NO [NOPERM] Only administrators may change quotas");
		return;
	}
	/* RFC 9208 4.1.3: the new list replaces every earlier limit. */
	if (r == STORE_OK)
		r = store_quota_set(st, q.owner, j->set_storage ? j->storage * QUOTA_UNIT : -1,
				    j->set_message ? j->message : -1, &error);
	if (r == STORE_OK)
		r = store_quota_account(st, q.owner, &q, &error);
	if (r == STORE_NOTFOUND) {
		imap_job_tagged(job, "NO [NONEXISTENT] No such quota root");
		return;
	}
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	log_info("imap session=%s user=%s cmd=SETQUOTA root=%s storage=%" PRId64 " messages=%" PRId64,
		 conn_id(job->conn), job->s->address, q.owner, q.limit_bytes, q.limit_messages);
	if (has_limit(&q))
		write_quota(job, &q);
	imap_job_tagged(job, "OK SETQUOTA completed");
}

/* A quota job with the usual sync of a selected mailbox. */
static struct quota_job *quota_job_new(struct imap_session *s, const struct imap_command *cmd,
				       imap_job_run_fn *run)
{
	struct quota_job *j = imap_job_new(s, sizeof(*j), cmd, run,
					   s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = quota_cleanup;
	buf_init(&j->name, 0);
	return j;
}

/* The root argument (an astring without NUL, at most an address long). */
static bool root_arg(const struct imap_arg *arg, const char **root_r)
{
	size_t len;
	return imap_arg_astring(arg, root_r, &len) && strlen(*root_r) == len && len <= 320;
}

void imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root;
	if (cmd->arg_count != 1 || !root_arg(&cmd->args[0], &root)) {
		imap_bad(s, cmd->tag, "GETQUOTA quota-root");
		return;
	}
	struct quota_job *j = quota_job_new(s, cmd, getquota_run);
	j->root = xstrdup(root);
	imap_job_submit(s, &j->base);
}

void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name, *error = NULL;
	size_t len;
	if (cmd->arg_count != 1 || !imap_arg_astring(&cmd->args[0], &name, &len)) {
		imap_bad(s, cmd->tag, "GETQUOTAROOT mailbox");
		return;
	}
	struct quota_job *j = quota_job_new(s, cmd, getquotaroot_run);
	if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	imap_job_submit(s, &j->base);
}

void imap_cmd_setquota(struct imap_session *s, const struct imap_command *cmd)
{
	const char *root;
	const struct imap_arg *list;
	size_t n;
	if (cmd->arg_count != 2 || !root_arg(&cmd->args[0], &root) ||
	    !imap_arg_list(&cmd->args[1], &list, &n) || n % 2 != 0) {
		imap_bad(s, cmd->tag, "SETQUOTA quota-root (resource limit ...)");
		return;
	}
	bool storage = false, message = false;
	uint64_t sv = 0, mv = 0;
	for (size_t i = 0; i < n; i += 2) {
		const char *num;
		uint64_t v;
		if (!imap_arg_atom(&list[i + 1], &num) || imap_parse_number64(num, &v) < 0) {
			imap_bad(s, cmd->tag, "Quota limits are numbers");
			return;
		}
		if (imap_arg_atom_eq(&list[i], "STORAGE") && !storage) {
			if (v > (uint64_t)INT64_MAX / QUOTA_UNIT) {
				imap_bad(s, cmd->tag, "STORAGE limit too large");
				return;
			}
			storage = true;
			sv = v;
		} else if (imap_arg_atom_eq(&list[i], "MESSAGE") && !message) {
			message = true;
			mv = v;
		} else if (list[i].type == IMAP_ARG_ATOM && !imap_arg_atom_eq(&list[i], "STORAGE") &&
			   !imap_arg_atom_eq(&list[i], "MESSAGE")) {
			/* RFC 9208 4.1.3: an unsupported resource is refused. */
			imap_reply(s, "%s NO [CANNOT] Unsupported quota resource %s", cmd->tag,
				   list[i].str);
			return;
		} else {
			imap_bad(s, cmd->tag, "Repeated or malformed quota resource");
			return;
		}
	}
	struct quota_job *j = quota_job_new(s, cmd, setquota_run);
	j->root = xstrdup(root);
	j->set_storage = storage;
	j->set_message = message;
	j->storage = (int64_t)sv;
	j->message = (int64_t)mv;
	imap_job_submit(s, &j->base);
}
