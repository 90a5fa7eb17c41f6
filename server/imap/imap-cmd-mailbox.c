/* IMAP mailbox commands by name: CREATE, DELETE, RENAME, (UN)SUBSCRIBE,
 * and on the selected mailbox CLOSE, UNSELECT, EXPUNGE, UID EXPUNGE and
 * NOOP/CHECK. Each runs as a store job. LIST/LSUB are in imap-cmd-list.c,
 * STATUS in imap-cmd-status.c, SELECT/EXAMINE in imap-cmd-select.c, APPEND
 * in imap-cmd-append.c. */
#include "autoconf.h"
#include "imap-private.h"
#include "store-mail-search.h"
#include "store-acl.h"
#include "store-quota.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "mutf7.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- NOOP / CHECK / IDLE sync ---- */

static void noop_run(struct imap_job *j, struct store *st, struct worker *w)
{
	(void)st;
	(void)w;
	imap_job_tagged(j, "OK %s completed", j->cmd);
}

void imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd)
{
	if (s->mbox == NULL) {
		imap_reply(s, "%s OK %s completed", cmd->tag, cmd->name);
		return;
	}
	imap_job_submit(s, imap_job_new(s, sizeof(struct imap_job), cmd, noop_run, IMAP_SYNC_FULL));
}

void imap_idle_sync(struct imap_session *s)
{
	s->idle_dirty = false;
	if (s->rt.job != NULL)
		return;
	imap_job_submit(s, imap_job_new(s, sizeof(struct imap_job), NULL, NULL, IMAP_SYNC_FULL));
}

/* ---- name-based commands ---- */

static void name_cleanup(struct imap_job *job)
{
	struct imap_name_job *j = (struct imap_name_job *)job;
	buf_free(&j->name);
	buf_free(&j->name2);
}

void imap_name_job_discard(struct imap_name_job *j)
{
	imap_job_discard(&j->base);
}

struct imap_name_job *imap_name_job_new(struct imap_session *s, const struct imap_command *cmd,
					imap_job_run_fn *run, size_t nargs)
{
	const char *name, *error = NULL;
	size_t len;
	if (cmd->arg_count < nargs || !imap_arg_astring(&cmd->args[0], &name, &len)) {
		imap_bad(s, cmd->tag, "Mailbox name expected");
		return NULL;
	}
	struct imap_name_job *j = imap_job_new(s, sizeof(*j), cmd, run,
					       s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = name_cleanup;
	buf_init(&j->name, 0);
	buf_init(&j->name2, 0);
	if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_reply(s, "%s NO [CANNOT] %s", cmd->tag, error != NULL ? error : "Bad name");
		imap_name_job_discard(j);
		return NULL;
	}
	if (nargs == 2) {
		const char *n2;
		if (!imap_arg_astring(&cmd->args[1], &n2, &len) || strlen(n2) != len ||
		    imap_mailbox_decode(s, n2, &j->name2, &error) < 0) {
			imap_reply(s, "%s NO [CANNOT] %s", cmd->tag, error != NULL ? error : "Bad name");
			imap_name_job_discard(j);
			return NULL;
		}
	}
	/* A trailing separator names the same mailbox (RFC 3501 CREATE). */
	while (j->name.len > 1 && j->name.data[j->name.len - 1] == '/')
		j->name.data[--j->name.len] = '\0';
	while (j->name2.len > 1 && j->name2.data[j->name2.len - 1] == '/')
		j->name2.data[--j->name2.len] = '\0';
	return j;
}

/* The parent of a (client-visible) name, "" at the top. */
static void parent_of(const char *name, struct buf *out)
{
	const char *slash = strrchr(name, '/');
	if (slash != NULL)
		buf_append(out, name, (size_t)(slash - name));
}

/* Resolve the parent of name for CREATE and RENAME: the user needs k on it
 * (RFC 4314 4); a mailbox of another owner's root level, or of the public
 * root, only cairnctl creates. On success *parent holds the parent (its
 * sb->exists false at the top); false after the tagged reply. */
static bool create_allowed(struct imap_job *job, struct store *st, struct worker *w,
			   const struct imap_acl_box *box, const char *name,
			   struct imap_acl_box *parent)
{
	const char *error = NULL;
	struct buf pn;
	buf_init(&pn, 0);
	parent_of(name, &pn);
	memset(parent, 0, sizeof(*parent));
	int r = STORE_OK;
	if (strchr(box->sb->name, '/') != NULL)
		r = imap_acl_open(job, st, w, pn.data, parent, &error);
	buf_free(&pn);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return false;
	}
	if (box->sb->own)
		return true;
	if (box->sb->owner_id == 0 || box->sb->name[0] == '\0') {
		imap_job_tagged(job, "NO [NOPERM] Mailboxes cannot be created here");
		return false;
	}
	if (parent->sb == NULL) {
		imap_job_tagged(job, "NO [NOPERM] Only an administrator creates mailboxes at the top"
				" of another namespace");
		return false;
	}
	return imap_acl_require(job, parent, IMAP_ACL_CREATE, false);
}

/* A new mailbox starts with its parent's ACL (as Cyrus and Dovecot do), so
 * what is shared stays shared below. */
static void inherit_acl(struct store *st, const struct imap_acl_box *parent, uint64_t id)
{
	if (parent->sb == NULL || !parent->exists)
		return;
	for (size_t i = 0; i < parent->sb->acl_count; i++) {
		const char *error = NULL;
		if (store_acl_modify(st, id, parent->sb->acl[i].identifier, '=',
				     parent->sb->acl[i].rights, &error) != STORE_OK)
			log_warn("imap event=acl-inherit-failed mailbox_id=%llu reason=\"%s\"",
				 (unsigned long long)id, error != NULL ? error : "");
	}
}

static void create_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct imap_name_job *j = (struct imap_name_job *)job;
	const char *error = NULL;
	uint64_t id;
	struct imap_acl_box box, parent = { 0 };
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r != STORE_OK)
		goto fail;
	if (!create_allowed(job, st, w, &box, j->name.data, &parent))
		goto out;	/* answered */
	r = store_mailbox_create(st, box.sb->owner, box.sb->name,
				 j->special_use[0] != '\0' ? j->special_use : NULL, &id, &error);
	if (r == STORE_INVALID && j->special_use[0] != '\0' && error != NULL &&
	    strstr(error, "special-use") != NULL) {
		/* RFC 6154 3: nothing created, and [USEATTR] says why. */
		imap_job_tagged(job, "NO [USEATTR] %s", error);
		goto out;
	}
	if (r != STORE_OK)
		goto fail;
	inherit_acl(st, &parent, id);
	imap_job_tagged(job, "OK [MAILBOXID (%s)] CREATE completed", imap_mailbox_objectid(id).s);
	goto out;
fail:
	imap_job_store_error(job, r, error);
out:
	imap_acl_box_free(&box);
	imap_acl_box_free(&parent);
}

/* RFC 6154 3 CREATE-SPECIAL-USE: CREATE name (USE (attr ...)). Cairn keeps
 * one special-use attribute per mailbox: more than one is [USEATTR]. */
static bool create_use(struct imap_session *s, const struct imap_command *cmd,
		       struct imap_name_job *j)
{
	const struct imap_arg *l, *use;
	size_t n, un;
	if (cmd->arg_count == 1)
		return true;
	if (cmd->arg_count != 2 || !imap_arg_list(&cmd->args[1], &l, &n) || n != 2 ||
	    !imap_arg_atom_eq(&l[0], "USE") || !imap_arg_list(&l[1], &use, &un)) {
		imap_bad(s, cmd->tag, "CREATE name [(USE (attributes))]");
		return false;
	}
	const char *a;
	for (size_t i = 0; i < un; i++) {
		if (!imap_arg_atom(&use[i], &a) || a[0] != '\\') {
			imap_bad(s, cmd->tag, "USE takes \\attributes");
			return false;
		}
	}
	if (un > 1 || (un == 1 && strlen(use[0].str) >= sizeof(j->special_use))) {
		imap_reply(s, "%s NO [USEATTR] One special-use attribute per mailbox", cmd->tag);
		return false;
	}
	if (un == 1)
		snprintf(j->special_use, sizeof(j->special_use), "%s", use[0].str);
	return true;
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_name_job *j = imap_name_job_new(s, cmd, create_run, 1);
	if (j == NULL)
		return;
	j->special_use[0] = '\0';
	if (!create_use(s, cmd, j)) {
		imap_name_job_discard(j);
		return;
	}
	imap_job_submit(s, &j->base);
}

static void delete_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct imap_name_job *j = (struct imap_name_job *)job;
	const char *error = NULL;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r != STORE_OK)
		goto fail;
	if (!imap_acl_require(job, &box, IMAP_ACL_DELETE, false))
		goto out;	/* answered */
	if (box.exists && job->s->mbox != NULL && job->s->mbox->id == box.sb->info.id) {
		imap_job_tagged(job, "NO [INUSE] Cannot delete the selected mailbox");
		goto out;
	}
	if (box.sb->name[0] == '\0')
		r = STORE_NOTFOUND;	/* a namespace itself */
	else
		r = store_mailbox_delete(st, box.sb->owner, box.sb->name, &error);
	if (r != STORE_OK)
		goto fail;
	imap_job_tagged(job, "OK DELETE completed");
	goto out;
fail:
	imap_job_store_error(job, r, error);
out:
	imap_acl_box_free(&box);
}

void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_name_job *j = imap_name_job_new(s, cmd, delete_run, 1);
	if (j != NULL)
		imap_job_submit(s, &j->base);
}

/* The owner-relative names below a mailbox (RENAME's inferiors). */
struct inferiors {
	const char *prefix;	/* "name/" */
	size_t len;
	char **names;
	size_t count;
};

static void inferiors_collect(const struct store_mailbox_info *info, void *ctx)
{
	struct inferiors *c = ctx;
	if (strncmp(info->name, c->prefix, c->len) != 0)
		return;
	c->names = xrealloc(c->names, (c->count + 1) * sizeof(*c->names));
	c->names[c->count++] = xstrdup(info->name);
}

/* RENAME moves the inferiors too (RFC 3501 6.3.5), so on another owner's
 * mailbox the user needs x on each of them as well: otherwise he would
 * rename mailboxes he has no right on, even ones hidden from him (RFC 4314
 * 4). INBOX's inferiors stay where they are. True when he may; false
 * after the tagged reply. */
static bool inferiors_allowed(struct imap_job *job, struct store *st, struct worker *w,
			      const struct imap_acl_box *from)
{
	if (from->sb->own || strcmp(from->sb->name, "INBOX") == 0)
		return true;
	struct buf prefix;
	buf_init(&prefix, 0);
	buf_printf(&prefix, "%s/", from->sb->name);
	struct inferiors c = { prefix.data, prefix.len, NULL, 0 };
	const char *error = NULL;
	int r = store_mailbox_list(st, from->sb->owner, inferiors_collect, &c, &error);
	bool ok = r == STORE_OK;
	if (!ok)
		imap_job_store_error(job, r, error);
	for (size_t i = 0; i < c.count && ok; i++) {
		struct buf ext;
		buf_init(&ext, 0);
		store_acl_external_name(from->sb, c.names[i], &ext);
		struct imap_acl_box child;
		r = imap_acl_open(job, st, w, ext.data, &child, &error);
		if (r != STORE_OK) {
			imap_job_store_error(job, r, error);
			ok = false;
		} else if (!child.exists || !(child.rights & IMAP_ACL_DELETE)) {
			imap_job_tagged(job, "NO [NOPERM] Permission denied (right x needed on every"
					" mailbox below it)");
			ok = false;
		}
		imap_acl_box_free(&child);
		buf_free(&ext);
	}
	for (size_t i = 0; i < c.count; i++)
		free(c.names[i]);
	free(c.names);
	buf_free(&prefix);
	return ok;
}

static void rename_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct imap_name_job *j = (struct imap_name_job *)job;
	const char *error = NULL;
	struct imap_acl_box from, to, parent = { 0 };
	int r = imap_acl_open(job, st, w, j->name.data, &from, &error);
	if (r != STORE_OK) {
		imap_acl_box_free(&from);
		imap_job_store_error(job, r, error);
		return;
	}
	r = imap_acl_open(job, st, w, j->name2.data, &to, &error);
	/* RFC 4314 4: x on the old name, k on the new one's parent. */
	bool ok = r == STORE_OK && imap_acl_require(job, &from, IMAP_ACL_DELETE, false) &&
		  create_allowed(job, st, w, &to, j->name2.data, &parent);
	if (ok && (from.sb->owner_id != to.sb->owner_id || from.sb->name[0] == '\0' ||
		   to.sb->name[0] == '\0')) {
		imap_job_tagged(job, "NO [CANNOT] Cannot rename into another namespace or owner");
		ok = false;
	}
	if (ok)
		ok = inferiors_allowed(job, st, w, &from);
	if (ok)
		r = store_mailbox_rename(st, from.sb->owner, from.sb->name, to.sb->name, &error);
	imap_acl_box_free(&from);
	imap_acl_box_free(&to);
	imap_acl_box_free(&parent);
	if (!ok && r == STORE_OK)
		return;		/* answered */
	if (r == STORE_OK)
		imap_job_tagged(job, "OK RENAME completed");
	else
		imap_job_store_error(job, r, error);
}

void imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_name_job *j = imap_name_job_new(s, cmd, rename_run, 2);
	if (j != NULL)
		imap_job_submit(s, &j->base);
}

static void subscribe_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct imap_name_job *j = (struct imap_name_job *)job;
	const char *error = NULL;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && box.sb->own) {
		r = store_mailbox_subscribe(st, box.sb->owner, box.sb->name, j->flag, &error);
	} else if (r == STORE_OK) {
		/* Another's mailbox: the user's own subscription, if he may
		 * know it exists (RFC 4314 6). */
		if (!imap_acl_require(job, &box, 0, false) ||
		    (box.rights & (IMAP_ACL_LOOKUP | IMAP_ACL_READ)) == 0) {
			if (job->tagged.len == 0)
				imap_job_tagged(job, "NO [NONEXISTENT] No such mailbox");
			imap_acl_box_free(&box);
			return;
		}
		r = store_acl_subscribe(st, box.sb->user_id, box.sb->info.id, j->flag, &error);
	}
	imap_acl_box_free(&box);
	if (r == STORE_OK)
		imap_job_tagged(job, "OK %s completed", job->cmd);
	else
		imap_job_store_error(job, r, error);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_name_job *j = imap_name_job_new(s, cmd, subscribe_run, 1);
	if (j == NULL)
		return;
	j->flag = true;
	imap_job_submit(s, &j->base);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_name_job *j = imap_name_job_new(s, cmd, subscribe_run, 1);
	if (j == NULL)
		return;
	j->flag = false;
	imap_job_submit(s, &j->base);
}

/* ---- CLOSE / UNSELECT / EXPUNGE ---- */

static void close_run(struct imap_job *job, struct store *st, struct worker *w)
{
	(void)w;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	/* Silently: no EXPUNGE responses for CLOSE (RFC 3501 6.4.2); without
	 * the e right (RFC 4314 4) CLOSE just deselects. */
	if (!m->readonly && (m->rights & IMAP_ACL_EXPUNGE)) {
		struct store_uid_range all = { 1, UINT32_MAX };
		int r = store_expunge(st, m->id, &all, 1, &uids, &n, &error);
		if (r != STORE_OK && r != STORE_NOTFOUND) {
			imap_job_store_error(job, r, error);
			return;
		}
		free(uids);
	}
	imap_job_tagged(job, "OK CLOSE completed");
}

static void close_done(struct imap_job *job)
{
	imap_mailbox_free(job->s);
}

void imap_cmd_close(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_job *j = imap_job_new(s, sizeof(*j), cmd, close_run, IMAP_SYNC_NONE);
	j->done = close_done;
	imap_job_submit(s, j);
}

void imap_cmd_unselect(struct imap_session *s, const struct imap_command *cmd)
{
	imap_mailbox_free(s);
	imap_reply(s, "%s OK UNSELECT completed", cmd->tag);
}

struct expunge_job {
	struct imap_job base;
	struct store_uid_range *set;
	size_t count;
	bool uid;
};

static void expunge_cleanup(struct imap_job *job)
{
	free(((struct expunge_job *)job)->set);
}

static void expunge_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct expunge_job *j = (struct expunge_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	(void)w;
	if (!(m->rights & IMAP_ACL_EXPUNGE)) {
		imap_job_tagged(job, "NO [NOPERM] Permission denied (right e needed)");
		return;
	}
	if ((job->cmd_flags & IMAP_CMD_WRITE) && m->readonly) {
		imap_job_tagged(job, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (j->uid && j->count == 0) {
		imap_job_tagged(job, "OK UID EXPUNGE completed");
		return;
	}
	struct store_uid_range all = { 1, UINT32_MAX };
	int r = j->uid ? store_expunge(st, m->id, j->set, j->count, &uids, &n, &error) :
		store_expunge(st, m->id, &all, 1, &uids, &n, &error);
	free(uids);
	if (r != STORE_OK && r != STORE_NOTFOUND)
		imap_job_store_error(job, r, error);
	else
		imap_job_tagged(job, "OK %s completed", job->cmd);
}

void imap_cmd_expunge(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct expunge_job *j;
	if (uid) {
		const char *text, *error = NULL;
		struct imap_seqset set;
		struct imap_pool *pool = imap_pool_create();
		if (cmd->arg_count != 1 || !imap_arg_atom(&cmd->args[0], &text) ||
		    imap_seqset_parse(pool, text, true, 10000, &set, &error) < 0) {
			imap_bad(s, cmd->tag, error != NULL ? error : "UID EXPUNGE uid-set");
			imap_pool_destroy(&pool);
			return;
		}
		j = imap_job_new(s, sizeof(*j), cmd, expunge_run, IMAP_SYNC_FULL);
		if (set.last_result)	/* "$" (RFC 5182) */
			imap_searchres_ranges(s, &j->set, &j->count);
		else
			imap_set_to_uids(s->mbox, pool, &set, true, &j->set, &j->count);
		imap_pool_destroy(&pool);
	} else {
		if (cmd->arg_count != 0) {
			imap_bad(s, cmd->tag, "EXPUNGE takes no arguments");
			return;
		}
		j = imap_job_new(s, sizeof(*j), cmd, expunge_run, IMAP_SYNC_FULL);
	}
	j->uid = uid;
	j->base.cleanup = expunge_cleanup;
	imap_job_submit(s, &j->base);
}
