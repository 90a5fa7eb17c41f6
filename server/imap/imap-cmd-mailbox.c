/* IMAP mailbox commands: LIST/LSUB (LIST-EXTENDED, LIST-STATUS,
 * SPECIAL-USE, CHILDREN), CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS,
 * SELECT/EXAMINE, APPEND (MULTIAPPEND, APPENDUID), CLOSE, UNSELECT,
 * EXPUNGE, UID EXPUNGE and NOOP/CHECK. Each runs as a store job. */
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

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

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

struct name_job {
	struct imap_job base;
	struct buf name, name2;
	bool flag;
	unsigned items;
	uint64_t max_append;
	char special_use[16];		/* CREATE (USE (...)), "" when none */
};

static void name_cleanup(struct imap_job *job)
{
	struct name_job *j = (struct name_job *)job;
	buf_free(&j->name);
	buf_free(&j->name2);
}

/* Drop a job that was never submitted (its command was answered already). */
static void name_job_discard(struct name_job *j)
{
	imap_job_discard(&j->base);
}

static struct name_job *name_job_new(struct imap_session *s, const struct imap_command *cmd,
				     imap_job_run_fn *run, size_t nargs)
{
	const char *name, *error = NULL;
	size_t len;
	if (cmd->arg_count < nargs || !imap_arg_astring(&cmd->args[0], &name, &len)) {
		imap_bad(s, cmd->tag, "Mailbox name expected");
		return NULL;
	}
	struct name_job *j = imap_job_new(s, sizeof(*j), cmd, run,
					  s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = name_cleanup;
	buf_init(&j->name, 0);
	buf_init(&j->name2, 0);
	if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_reply(s, "%s NO [CANNOT] %s", cmd->tag, error != NULL ? error : "Bad name");
		name_job_discard(j);
		return NULL;
	}
	if (nargs == 2) {
		const char *n2;
		if (!imap_arg_astring(&cmd->args[1], &n2, &len) || strlen(n2) != len ||
		    imap_mailbox_decode(s, n2, &j->name2, &error) < 0) {
			imap_reply(s, "%s NO [CANNOT] %s", cmd->tag, error != NULL ? error : "Bad name");
			name_job_discard(j);
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
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	uint64_t id;
	struct imap_acl_box box, parent = { 0 };
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !create_allowed(job, st, w, &box, j->name.data, &parent)) {
		imap_acl_box_free(&box);
		imap_acl_box_free(&parent);
		return;
	}
	if (r == STORE_OK)
		r = store_mailbox_create(st, box.sb->owner, box.sb->name,
					 j->special_use[0] != '\0' ? j->special_use : NULL, &id,
					 &error);
	if (r == STORE_INVALID && j->special_use[0] != '\0' && error != NULL &&
	    strstr(error, "special-use") != NULL) {
		/* RFC 6154 3: nothing created, and [USEATTR] says why. */
		imap_acl_box_free(&box);
		imap_acl_box_free(&parent);
		imap_job_tagged(job, "NO [USEATTR] %s", error != NULL ? error : "Bad USE");
		return;
	}
	if (r == STORE_OK)
		inherit_acl(st, &parent, id);
	imap_acl_box_free(&box);
	imap_acl_box_free(&parent);
	if (r == STORE_OK)
		imap_job_tagged(job, "OK [MAILBOXID (%s)] CREATE completed",
				imap_mailbox_objectid(id).s);
	else
		imap_job_store_error(job, r, error);
}

/* RFC 6154 3 CREATE-SPECIAL-USE: CREATE name (USE (attr ...)). Cairn keeps
 * one special-use attribute per mailbox: more than one is [USEATTR]. */
static bool create_use(struct imap_session *s, const struct imap_command *cmd,
		       struct name_job *j)
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
	struct name_job *j = name_job_new(s, cmd, create_run, 1);
	if (j == NULL)
		return;
	j->special_use[0] = '\0';
	if (!create_use(s, cmd, j)) {
		name_job_discard(j);
		return;
	}
	imap_job_submit(s, &j->base);
}

static void delete_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !imap_acl_require(job, &box, IMAP_ACL_DELETE, false)) {
		imap_acl_box_free(&box);
		return;
	}
	if (r == STORE_OK && box.exists && job->s->mbox != NULL &&
	    job->s->mbox->id == box.sb->info.id) {
		imap_acl_box_free(&box);
		imap_job_tagged(job, "NO [INUSE] Cannot delete the selected mailbox");
		return;
	}
	if (r == STORE_OK && box.sb->name[0] == '\0')
		r = STORE_NOTFOUND;	/* a namespace itself */
	if (r == STORE_OK)
		r = store_mailbox_delete(st, box.sb->owner, box.sb->name, &error);
	imap_acl_box_free(&box);
	if (r == STORE_OK)
		imap_job_tagged(job, "OK DELETE completed");
	else
		imap_job_store_error(job, r, error);
}

void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	struct name_job *j = name_job_new(s, cmd, delete_run, 1);
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
	struct name_job *j = (struct name_job *)job;
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
	struct name_job *j = name_job_new(s, cmd, rename_run, 2);
	if (j != NULL)
		imap_job_submit(s, &j->base);
}

static void subscribe_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
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
	struct name_job *j = name_job_new(s, cmd, subscribe_run, 1);
	if (j == NULL)
		return;
	j->flag = true;
	imap_job_submit(s, &j->base);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	struct name_job *j = name_job_new(s, cmd, subscribe_run, 1);
	if (j == NULL)
		return;
	j->flag = false;
	imap_job_submit(s, &j->base);
}

/* ---- STATUS ---- */

struct count_ctx {
	uint32_t deleted;
	uint32_t first_unseen;	/* uid */
};

static void count_cb(const struct store_msg_meta *meta, void *ctx)
{
	struct count_ctx *c = ctx;
	if (meta->flags & STORE_FLAG_DELETED)
		c->deleted++;
	if (!(meta->flags & STORE_FLAG_SEEN) && c->first_unseen == 0)
		c->first_unseen = meta->uid;
}

/* Render "* STATUS name (...)" for an open mailbox; reader_id != 0: the
 * user does not own it, UNSEEN counts his own \Seen. */
static int status_render(struct imap_job *job, struct store *st, uint64_t id, uint64_t reader_id,
			 const char *name, unsigned items, struct buf *out, const char **error_r)
{
	struct store_mailbox_status stt;
	int r = store_mailbox_status(st, id, &stt, error_r);
	if (r == STORE_OK && reader_id != 0 && (items & IMAP_STATUS_UNSEEN))
		r = store_acl_unseen_count(st, id, reader_id, &stt.unseen, error_r);
	if (r != STORE_OK)
		return r;
	struct count_ctx cc = { 0, 0 };
	if (items & IMAP_STATUS_DELETED) {
		r = store_fetch(st, id, NULL, 0, 0, count_cb, &cc, error_r);
		if (r != STORE_OK)
			return r;
	}
	buf_append_str(out, "* STATUS ");
	imap_write_mailbox(job->s, out, name);
	buf_append_str(out, " (");
	const char *sp = "";
	if (items & IMAP_STATUS_MESSAGES) {
		buf_printf(out, "%sMESSAGES %u", sp, stt.messages);
		sp = " ";
	}
	if (items & IMAP_STATUS_RECENT) {
		buf_printf(out, "%sRECENT %u", sp, stt.recent);
		sp = " ";
	}
	if (items & IMAP_STATUS_UIDNEXT) {
		buf_printf(out, "%sUIDNEXT %u", sp, stt.uidnext);
		sp = " ";
	}
	if (items & IMAP_STATUS_UIDVALIDITY) {
		buf_printf(out, "%sUIDVALIDITY %u", sp, stt.uidvalidity);
		sp = " ";
	}
	if (items & IMAP_STATUS_UNSEEN) {
		buf_printf(out, "%sUNSEEN %u", sp, stt.unseen);
		sp = " ";
	}
	if (items & IMAP_STATUS_DELETED) {
		buf_printf(out, "%sDELETED %u", sp, cc.deleted);
		sp = " ";
	}
	if (items & IMAP_STATUS_SIZE) {
		buf_printf(out, "%sSIZE %llu", sp, (unsigned long long)stt.size);
		sp = " ";
	}
	if (items & IMAP_STATUS_HIGHESTMODSEQ) {
		buf_printf(out, "%sHIGHESTMODSEQ %llu", sp, (unsigned long long)stt.highestmodseq);
		sp = " ";
	}
	if (items & IMAP_STATUS_APPENDLIMIT) {
		buf_printf(out, "%sAPPENDLIMIT %llu", sp,
			   (unsigned long long)job->s->ictx->cfg->imap.max_append);
		sp = " ";
	}
	if (items & IMAP_STATUS_DELETED_STORAGE) {
		/* RFC 9208 4.2, in the STORAGE unit (1024 octets), rounded up */
		uint64_t deleted = 0;
		r = store_quota_deleted_bytes(st, id, &deleted, error_r);
		if (r != STORE_OK)
			return r;
		buf_printf(out, "%sDELETED-STORAGE %llu", sp,
			   (unsigned long long)((deleted + 1023) / 1024));
		sp = " ";
	}
	if (items & IMAP_STATUS_MAILBOXID)
		buf_printf(out, "%sMAILBOXID (%s)", sp, imap_mailbox_objectid(id).s);
	buf_append_str(out, ")\r\n");
	return STORE_OK;
}

static void status_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !imap_acl_require(job, &box, IMAP_ACL_READ, false)) {
		imap_acl_box_free(&box);
		return;
	}
	if (r == STORE_OK && (!box.exists || box.sb->info.noselect)) {
		error = "No such mailbox";
		r = STORE_NOTFOUND;
	}
	if (r == STORE_OK)
		r = status_render(job, st, box.sb->info.id, box.sb->own ? 0 : box.sb->user_id,
				  j->name.data, j->items, &job->out, &error);
	imap_acl_box_free(&box);
	if (r == STORE_OK)
		imap_job_tagged(job, "OK STATUS completed");
	else
		imap_job_store_error(job, r, error);
}

void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	unsigned items;
	const char *error = NULL;
	if (cmd->arg_count != 2 || imap_status_parse(&cmd->args[1], &items, &error) < 0) {
		imap_bad(s, cmd->tag, error != NULL ? error : "STATUS mailbox (items)");
		return;
	}
	struct name_job *j = name_job_new(s, cmd, status_run, 1);
	if (j == NULL)
		return;
	j->items = items;
	imap_job_submit(s, &j->base);
}

/* ---- LIST / LSUB ---- */

struct list_entry {
	struct store_mailbox_info info;
	char *name;		/* as the client sees it (info.name is the owner's) */
	unsigned rights;	/* IMAP_ACL_*; 0 for a synthesized parent */
	uint64_t reader_id;	/* not his own: UNSEEN counts his own \Seen */
	bool nonexistent;	/* a kept subscription of a deleted mailbox */
};

struct list_job {
	struct imap_job base;
	struct imap_list_cmd lc;
	bool lsub;
	struct list_entry *boxes;
	size_t count;
	struct imap_pool *pool;
};

static void list_collect(const struct store_mailbox_info *info, void *ctx)
{
	struct list_job *j = ctx;
	j->boxes = xrealloc(j->boxes, (j->count + 1) * sizeof(*j->boxes));
	struct list_entry *e = &j->boxes[j->count++];
	e->info = *info;
	e->name = xstrdup(info->name);
	e->rights = IMAP_ACL_ALL;
	e->reader_id = 0;
	e->nonexistent = false;
}

/* RFC 3501 6.3.6 / RFC 5258 3.1: a subscribed name without a mailbox. */
static void list_collect_kept(const char *name, void *ctx)
{
	struct list_job *j = ctx;
	j->boxes = xrealloc(j->boxes, (j->count + 1) * sizeof(*j->boxes));
	struct list_entry *e = &j->boxes[j->count++];
	memset(e, 0, sizeof(*e));
	snprintf(e->info.name, sizeof(e->info.name), "%s", name);
	e->info.subscribed = true;
	e->info.noselect = true;
	e->name = xstrdup(name);
	e->nonexistent = true;
}

/* Shared with the user: what he has l on, under its namespace name. */
struct shared_ctx {
	struct list_job *j;
	struct store *st;
	struct worker *w;
};

static void shared_collect(const struct store_acl_box *box, void *ctx)
{
	struct shared_ctx *c = ctx;
	struct list_job *j = c->j;
	unsigned rights = imap_acl_rights(&j->base, c->w, c->st, box);
	if (!(rights & IMAP_ACL_LOOKUP))
		return;
	struct buf name;
	buf_init(&name, 0);
	store_acl_external_name(box, box->name, &name);
	j->boxes = xrealloc(j->boxes, (j->count + 1) * sizeof(*j->boxes));
	struct list_entry *e = &j->boxes[j->count++];
	e->info = box->info;
	e->info.has_children = false;
	e->name = xstrdup(name.data);
	buf_free(&name);
	e->rights = rights;
	e->reader_id = box->user_id;
}

static bool list_has_name(const struct list_job *j, size_t from, const char *name, size_t len)
{
	for (size_t i = from; i < j->count; i++)
		if (strncmp(j->boxes[i].name, name, len) == 0 && j->boxes[i].name[len] == '\0')
			return true;
	return false;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct list_entry *)a)->name, ((const struct list_entry *)b)->name);
}

/* The entries from index from on are others' mailboxes: add their missing
 * ancestors ("Other Users", "Other Users/<owner>", ...) as \Noselect,
 * set \HasChildren from what the user may see, and sort them. */
static void shared_finish(struct list_job *j, size_t from)
{
	size_t end = j->count;
	for (size_t i = from; i < end; i++) {
		for (const char *p = strchr(j->boxes[i].name, '/'); p != NULL;
		     p = strchr(p + 1, '/')) {
			size_t len = (size_t)(p - j->boxes[i].name);
			if (list_has_name(j, from, j->boxes[i].name, len))
				continue;
			j->boxes = xrealloc(j->boxes, (j->count + 1) * sizeof(*j->boxes));
			struct list_entry *e = &j->boxes[j->count++];
			memset(e, 0, sizeof(*e));
			e->info.noselect = true;
			e->name = xstrndup(j->boxes[i].name, len);
		}
	}
	for (size_t i = from; i < j->count; i++) {
		size_t len = strlen(j->boxes[i].name);
		for (size_t k = from; k < j->count && !j->boxes[i].info.has_children; k++)
			j->boxes[i].info.has_children = strncmp(j->boxes[k].name, j->boxes[i].name,
								len) == 0 &&
							j->boxes[k].name[len] == '/';
	}
	if (j->count - from > 1)
		qsort(j->boxes + from, j->count - from, sizeof(*j->boxes), entry_cmp);
}

static void list_cleanup(struct imap_job *job)
{
	struct list_job *j = (struct list_job *)job;
	for (size_t i = 0; i < j->count; i++)
		free(j->boxes[i].name);
	free(j->boxes);
	imap_pool_destroy(&j->pool);
}

static bool has_subscribed_child(const struct list_job *j, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < j->count; i++) {
		const char *n = j->boxes[i].name;
		if (strncmp(n, name, len) == 0 && n[len] == '/' && j->boxes[i].info.subscribed)
			return true;
	}
	return false;
}

/* LSUB with "%" (RFC 3501 6.3.9): name is not subscribed but has a
 * subscribed descendant that no pattern matches itself, so the client
 * learns of it only through name, shown as \Noselect. */
static bool has_hidden_subscribed_child(const struct list_job *j, const char *name,
					char *const *pats, size_t pat_count)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < j->count; i++) {
		const char *n = j->boxes[i].name;
		if (strncmp(n, name, len) != 0 || n[len] != '/' || !j->boxes[i].info.subscribed)
			continue;
		bool match = false;
		for (size_t p = 0; p < pat_count && !match; p++)
			match = imap_list_match(pats[p], n, '/');
		if (!match)
			return true;
	}
	return false;
}

static void list_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct list_job *j = (struct list_job *)job;
	const struct imap_list_cmd *lc = &j->lc;
	const char *error = NULL;
	const char *verb = j->lsub ? "LSUB" : "LIST";
	/* LIST "" "": the hierarchy separator. */
	if (lc->pattern_count == 1 && lc->patterns[0][0] == '\0' && !lc->extended) {
		buf_printf(&job->out, "* %s (\\Noselect) \"/\" \"\"\r\n", verb);
		imap_job_tagged(job, "OK %s completed", verb);
		return;
	}
	int r = store_mailbox_list(st, job->s->address, list_collect, j, &error);
	if (r == STORE_OK && (j->lsub || (j->lc.select & IMAP_LIST_SEL_SUBSCRIBED)))
		r = store_subscriptions_kept(st, job->s->address, list_collect_kept, j, &error);
	size_t own_count = j->count;
	struct shared_ctx sc = { j, st, w };
	if (r == STORE_OK)
		r = store_acl_shared_list(st, job->s->address, shared_collect, &sc, &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	shared_finish(j, own_count);
	/* Patterns are in the client's encoding: decode reference + pattern. */
	char **pats = xcalloc(lc->pattern_count + 1, sizeof(*pats));
	for (size_t p = 0; p < lc->pattern_count; p++) {
		struct buf full, dec;
		buf_init(&full, 0);
		buf_init(&dec, 0);
		buf_printf(&full, "%s%s", lc->reference, lc->patterns[p]);
		const char *e;
		const char *src = imap_mailbox_normalize(full.data);
		if (str_ncasecmp(src, "INBOX/", 6) == 0) {
			buf_append_str(&dec, "INBOX");
			src += 5;
		}
		if (job->s->utf8)
			buf_append_str(&dec, src);
		else if (mutf7_to_utf8(src, strlen(src), &dec, &e) < 0)
			buf_append_str(&dec, "\x01");	/* matches nothing */
		pats[p] = xstrdup(dec.data != NULL ? dec.data : "");
		buf_free(&full);
		buf_free(&dec);
	}
	bool sel_sub = j->lsub || (lc->select & IMAP_LIST_SEL_SUBSCRIBED);
	bool recursive = (lc->select & IMAP_LIST_SEL_RECURSIVEMATCH) != 0;
	for (size_t i = 0; i < j->count; i++) {
		const struct list_entry *e = &j->boxes[i];
		const struct store_mailbox_info *in = &e->info;
		bool match = false;
		for (size_t p = 0; p < lc->pattern_count && !match; p++)
			match = imap_list_match(pats[p], e->name, '/');
		if (!match)
			continue;
		bool childinfo = false, lsub_parent = false;
		if (j->lsub && !in->subscribed) {
			if (!has_hidden_subscribed_child(j, e->name, pats, lc->pattern_count))
				continue;
			lsub_parent = true;
		} else if (sel_sub && !in->subscribed) {
			if (!recursive || !has_subscribed_child(j, e->name))
				continue;
			childinfo = true;
		}
		if ((lc->select & IMAP_LIST_SEL_SPECIAL_USE) && in->special_use[0] == '\0')
			continue;
		buf_printf(&job->out, "* %s (", verb);
		const char *sp = "";
		if (e->nonexistent) {
			/* LSUB: as Dovecot, no attribute; LIST (SUBSCRIBED):
			 * \Subscribed \NonExistent (RFC 5258 3.1, 3.4). */
			if (!j->lsub)
				buf_append_str(&job->out, "\\Subscribed \\NonExistent");
			buf_append_str(&job->out, ") \"/\" ");
			imap_write_mailbox(job->s, &job->out, e->name);
			buf_append_str(&job->out, "\r\n");
			continue;
		}
		if (in->noselect || lsub_parent) {
			buf_append_str(&job->out, "\\Noselect");
			sp = " ";
		}
		if (!j->lsub) {
			buf_printf(&job->out, "%s%s", sp,
				   in->has_children ? "\\HasChildren" : "\\HasNoChildren");
			sp = " ";
		}
		if ((lc->ret & IMAP_LIST_RET_SUBSCRIBED || (sel_sub && !j->lsub)) && in->subscribed) {
			buf_printf(&job->out, "%s\\Subscribed", sp);
			sp = " ";
		}
		if (in->special_use[0] != '\0' && !j->lsub)
			buf_printf(&job->out, "%s%s", sp, in->special_use);
		buf_append_str(&job->out, ") \"/\" ");
		imap_write_mailbox(job->s, &job->out, e->name);
		if (childinfo)
			buf_append_str(&job->out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		buf_append_str(&job->out, "\r\n");
		/* LIST-STATUS needs r (RFC 4314 4), like STATUS. */
		if ((lc->ret & IMAP_LIST_RET_STATUS) && !in->noselect &&
		    (e->rights & IMAP_ACL_READ)) {
			r = status_render(job, st, in->id, e->reader_id, e->name, lc->status_items,
					  &job->out, &error);
			if (r != STORE_OK)
				break;
		}
		/* RFC 8440: the user's rights right after the mailbox. */
		if ((lc->ret & IMAP_LIST_RET_MYRIGHTS) && e->rights != 0) {
			struct buf rb;
			buf_init(&rb, 0);
			imap_acl_write_rights(&rb, e->rights, true);
			buf_append_str(&job->out, "* MYRIGHTS ");
			imap_write_mailbox(job->s, &job->out, e->name);
			buf_append_str(&job->out, " ");
			imap_write_astring(&job->out, rb.data, rb.len, 0);
			buf_append_str(&job->out, "\r\n");
			buf_free(&rb);
		}
	}
	for (size_t p = 0; p < lc->pattern_count; p++)
		free(pats[p]);
	free(pats);
	if (r != STORE_OK)
		imap_job_store_error(job, r, error);
	else
		imap_job_tagged(job, "OK %s completed", verb);
}

static void list_common(struct imap_session *s, const struct imap_command *cmd, bool lsub)
{
	struct imap_pool *pool = imap_pool_create();
	struct imap_list_cmd lc;
	const char *error = NULL;
	if (imap_list_parse(pool, cmd->args, cmd->arg_count, &lc, &error) < 0 ||
	    (lsub && lc.extended)) {
		imap_bad(s, cmd->tag, error != NULL ? error : "LSUB reference pattern");
		imap_pool_destroy(&pool);
		return;
	}
	/* The parsed strings live in pool or the command (valid while the job
	 * runs: the parser is not fed meanwhile); the pool goes with the job. */
	struct list_job *j = imap_job_new(s, sizeof(*j), cmd, list_run,
					  s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = list_cleanup;
	j->lc = lc;
	j->lsub = lsub;
	j->pool = pool;
	imap_job_submit(s, &j->base);
}

void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd)
{
	list_common(s, cmd, false);
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd)
{
	list_common(s, cmd, true);
}

/* ---- SELECT / EXAMINE ---- */

struct select_job {
	struct imap_job base;
	struct buf name;
	bool readonly;
	bool condstore;
	struct imap_mailbox *mbox;	/* the new view, handed to the session */
	/* QRESYNC (uidvalidity modseq [known-uids]) (RFC 7162 3.2.5) */
	bool qresync;
	uint32_t q_uidvalidity;
	uint64_t q_modseq;
	struct imap_seq_range *q_known;	/* resolved, NULL: every uid */
	size_t q_known_count;
	struct imap_pool *pool;
	struct buf q_fetch;		/* FETCH of changed messages */
};

static void select_cleanup(struct imap_job *job)
{
	struct select_job *j = (struct select_job *)job;
	buf_free(&j->name);
	buf_free(&j->q_fetch);
	imap_pool_destroy(&j->pool);
	if (j->mbox != NULL) {
		free(j->mbox->name);
		free(j->mbox->uids);
		free(j->mbox->recent);
		free(j->mbox->seen);
		if (j->mbox->keywords != NULL)
			buf_free(j->mbox->keywords);
		free(j->mbox->keywords);
		free(j->mbox);
	}
}

/* A message changed since the client's modseq: FETCH (UID FLAGS MODSEQ). */
static void qresync_changed(const struct store_msg_meta *meta, void *ctx)
{
	struct select_job *j = ctx;
	uint32_t seq = imap_seq_of(j->mbox, meta->uid);
	if (seq == 0)
		return;		/* appended after the view was read */
	imap_flags_announce(j->mbox, &j->q_fetch, meta->keywords);
	if (imap_fetch_begin(j->base.s, &j->q_fetch, seq, meta->uid, false, true))
		buf_append_str(&j->q_fetch, " ");
	buf_append_str(&j->q_fetch, "FLAGS ");
	imap_write_msg_flags(j->mbox, &j->q_fetch, meta->flags, meta->keywords, meta->uid);
	buf_printf(&j->q_fetch, " MODSEQ (%llu))\r\n", (unsigned long long)meta->modseq);
}

static bool known_has(const struct select_job *j, uint32_t uid)
{
	if (j->q_known == NULL)
		return true;
	for (size_t i = 0; i < j->q_known_count; i++)
		if (uid >= j->q_known[i].lo && uid <= j->q_known[i].hi)
			return true;
	return false;
}

/* VANISHED (EARLIER) for the known uids expunged after the client's modseq
 * (the tombstones are never older than that: mailbox_expunged keeps them
 * all), then the FETCH of every message changed or added since. */
static int qresync_render(struct select_job *j, struct store *st, const struct imap_mailbox *m,
			  const char **error_r)
{
	uint32_t *gone = NULL;
	size_t n = 0, k = 0;
	buf_init(&j->q_fetch, 0);
	int r = store_changes_since(st, m->id, j->q_modseq, qresync_changed, j, &gone, &n, error_r);
	if (r != STORE_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if (known_has(j, gone[i]) && imap_seq_of(m, gone[i]) == 0)
			gone[k++] = gone[i];
	if (k > 0) {
		buf_append_str(&j->base.out, "* VANISHED (EARLIER) ");
		imap_write_uid_set(&j->base.out, gone, k);
		buf_append_str(&j->base.out, "\r\n");
	}
	free(gone);
	if (j->q_fetch.len > 0)
		buf_append(&j->base.out, j->q_fetch.data, j->q_fetch.len);
	return STORE_OK;
}

/* Parse the list after "QRESYNC": (uidvalidity modseq [known-uids
 * [(seq-match-data)]]); false on bad syntax;
 * seq-match-data is checked but not needed: every tombstone is kept, so
 * VANISHED (EARLIER) is always exact. */
static bool qresync_parse(struct select_job *j, const struct imap_arg *arg)
{
	const struct imap_arg *l;
	size_t n;
	const char *a;
	if (!imap_arg_list(arg, &l, &n) || n < 2 || n > 4)
		return false;
	if (!imap_arg_atom(&l[0], &a) || imap_parse_nz_number(a, &j->q_uidvalidity) < 0)
		return false;
	if (!imap_arg_atom(&l[1], &a) || imap_parse_number64(a, &j->q_modseq) < 0)
		return false;
	j->pool = imap_pool_create();
	if (n >= 3) {
		struct imap_seqset set;
		const char *e = NULL;
		if (!imap_arg_atom(&l[2], &a) ||
		    imap_seqset_parse(j->pool, a, false, 10000, &set, &e) < 0)
			return false;
		imap_seqset_resolve(j->pool, &set, UINT32_MAX, &j->q_known, &j->q_known_count);
	}
	if (n == 4) {
		const struct imap_arg *sm;
		size_t smn;
		struct imap_seqset s1, s2;
		const char *e = NULL, *b, *c;
		if (!imap_arg_list(&l[3], &sm, &smn) || smn != 2 || !imap_arg_atom(&sm[0], &b) ||
		    !imap_arg_atom(&sm[1], &c) ||
		    imap_seqset_parse(j->pool, b, false, 10000, &s1, &e) < 0 ||
		    imap_seqset_parse(j->pool, c, false, 10000, &s2, &e) < 0)
			return false;
	}
	j->qresync = true;
	return true;
}

static void select_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct select_job *j = (struct select_job *)job;
	const char *error = NULL;
	struct store_mailbox_info info;
	struct store_mailbox_status stt;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !imap_acl_require(job, &box, IMAP_ACL_READ, false)) {
		imap_acl_box_free(&box);
		return;
	}
	if (r == STORE_OK && (!box.exists || box.sb->info.noselect)) {
		error = "No such mailbox";
		r = STORE_NOTFOUND;
	}
	if (r == STORE_OK)
		info = box.sb->info;
	/* Without any right to change it, a mailbox opens read-only. */
	if (r == STORE_OK && (box.rights & (IMAP_ACL_SEEN | IMAP_ACL_WRITE | IMAP_ACL_DELETED |
					    IMAP_ACL_EXPUNGE)) == 0)
		j->readonly = true;
	uint32_t first = 0, next = 0;
	/* \Recent is the owner's: a reader of another's mailbox never claims it. */
	if (r == STORE_OK && !j->readonly && box.sb->own)
		r = store_mailbox_claim_recent(st, info.id, &first, &next, &error);
	if (r == STORE_OK)
		r = store_mailbox_status(st, info.id, &stt, &error);
	struct imap_mailbox *m = xcalloc(1, sizeof(*m));
	j->mbox = m;
	m->keywords = xcalloc(1, sizeof(*m->keywords));
	buf_init(m->keywords, 0);
	struct buf ext;
	buf_init(&ext, 0);
	if (r == STORE_OK)
		store_acl_external_name(box.sb, box.sb->name, &ext);
	m->name = xstrdup(ext.data != NULL ? ext.data : j->name.data);
	buf_free(&ext);
	if (r == STORE_OK) {
		imap_acl_view_init(m, &box);
		imap_acl_seen_refresh(m, st);
	}
	imap_acl_box_free(&box);
	if (r == STORE_OK)
		r = store_search_view_uids(st, info.id, &m->uids, &m->count, &error);
	struct count_ctx cc = { 0, 0 };
	if (r == STORE_OK && !job->s->rev2 && !m->private_seen)
		r = store_search_first_unseen(st, info.id, &cc.first_unseen, &error);
	for (size_t i = 0; r == STORE_OK && m->private_seen && !job->s->rev2 && i < m->count; i++) {
		if (!(imap_acl_flags(m, m->uids[i], 0) & STORE_FLAG_SEEN)) {
			cc.first_unseen = m->uids[i];
			break;
		}
	}
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	m->id = info.id;
	m->readonly = j->readonly;
	m->uidvalidity = stt.uidvalidity;
	m->uidnext = stt.uidnext;
	m->modseq = stt.highestmodseq;
	if (first < next) {
		m->recent = xcalloc(1, sizeof(*m->recent));
		m->recent[0].lo = first;
		m->recent[0].hi = next - 1;
		m->recent_count = 1;
	}
	struct buf *o = &job->out;
	buf_append_str(o, "* FLAGS (" SYSTEM_FLAGS ")\r\n");
	imap_acl_permanentflags(m, o);	/* what his rights let him change */
	buf_printf(o, "* %zu EXISTS\r\n", m->count);
	if (!job->s->rev2) {
		size_t recent = 0;
		for (size_t i = 0; i < m->count; i++)
			recent += m->recent_count > 0 && m->uids[i] >= first;
		buf_printf(o, "* %zu RECENT\r\n", j->readonly ? (size_t)stt.recent : recent);
		if (cc.first_unseen != 0)
			buf_printf(o, "* OK [UNSEEN %u] First unseen\r\n",
				   imap_seq_of(m, cc.first_unseen));
	}
	buf_printf(o, "* OK [UIDVALIDITY %u] UIDs valid\r\n", stt.uidvalidity);
	buf_printf(o, "* OK [UIDNEXT %u] Predicted next UID\r\n", stt.uidnext);
	buf_printf(o, "* OK [HIGHESTMODSEQ %llu] Highest\r\n", (unsigned long long)stt.highestmodseq);
	buf_printf(o, "* OK [MAILBOXID (%s)] Ok\r\n", imap_mailbox_objectid(info.id).s);
	if (job->s->rev2) {
		buf_append_str(o, "* LIST () \"/\" ");
		imap_write_mailbox(job->s, o, m->name);
		buf_append_str(o, "\r\n");
	}
	/* QRESYNC with the right UIDVALIDITY: what vanished and what changed
	 * since the client's modseq; another UIDVALIDITY means the client must
	 * start over, so the parameter is ignored (RFC 7162 3.2.5). */
	if (j->qresync && j->q_uidvalidity == stt.uidvalidity && j->q_modseq < stt.highestmodseq) {
		r = qresync_render(j, st, m, &error);
		if (r != STORE_OK) {
			imap_job_store_error(job, r, error);
			return;
		}
	}
	imap_job_tagged(job, "OK [%s] %s completed", j->readonly ? "READ-ONLY" : "READ-WRITE",
			job->cmd);
}

static void select_done(struct imap_job *job)
{
	struct select_job *j = (struct select_job *)job;
	struct imap_session *s = job->s;
	if (s->mbox != NULL) {
		imap_mailbox_free(s);
		if (s->condstore || s->rev2)
			imap_reply(s, "* OK [CLOSED] Previous mailbox closed");
	}
	if (j->mbox == NULL || j->mbox->id == 0)
		return;
	s->mbox = j->mbox;
	j->mbox = NULL;
	s->state = IMAP_STATE_SELECTED;
	if (j->condstore)
		s->condstore = true;
	imap_session_subscribe(s);
}

void imap_cmd_select(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name, *error = NULL;
	size_t len;
	bool condstore = false;
	if (cmd->arg_count < 1 || cmd->arg_count > 2 ||
	    !imap_arg_astring(&cmd->args[0], &name, &len)) {
		imap_bad(s, cmd->tag, "Mailbox name expected");
		return;
	}
	struct select_job *j = imap_job_new(s, sizeof(*j), cmd, select_run, IMAP_SYNC_NONE);
	j->base.done = select_done;
	j->base.cleanup = select_cleanup;
	if (cmd->arg_count == 2) {
		const struct imap_arg *list;
		size_t n;
		const char *bad = NULL;
		if (!imap_arg_list(&cmd->args[1], &list, &n) || n == 0)
			bad = "Unsupported SELECT parameter";
		for (size_t i = 0; bad == NULL && i < n; i++) {
			if (imap_arg_atom_eq(&list[i], "CONDSTORE")) {
				condstore = true;
			} else if (imap_arg_atom_eq(&list[i], "QRESYNC") && !j->qresync &&
				   i + 1 < n) {
				/* RFC 7162 3.2.5: only after ENABLE QRESYNC. */
				if (!s->qresync)
					bad = "QRESYNC is not enabled";
				else if (!qresync_parse(j, &list[++i]))
					bad = "QRESYNC (uidvalidity modseq [known-uids"
					      " [(seq-match-data)]])";
				else if (s->uidonly && list[i].type == IMAP_ARG_LIST &&
					 list[i].list_count == 4)
					/* RFC 9586 3: seq-match-data holds message
					 * sequence numbers. */
					bad = "[UIDREQUIRED] seq-match-data has message sequence"
					      " numbers (UIDONLY)";
			} else {
				bad = "Unsupported SELECT parameter";
			}
		}
		if (bad != NULL) {
			/* Answered through the job so it is freed in one place;
			 * a BAD SELECT leaves the current selection alone. */
			imap_job_tagged(&j->base, "BAD %s", bad);
			j->base.run = NULL;
			j->base.done = NULL;
			imap_job_submit(s, &j->base);
			return;
		}
	}
	j->readonly = (s->cmd_flags & IMAP_CMD_READONLY) != 0;
	j->condstore = condstore;
	buf_init(&j->name, 0);
	if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	imap_job_submit(s, &j->base);
}

/* ---- APPEND ---- */

struct append_job {
	struct imap_job base;
	struct buf name;
	struct buf *bufs;
	size_t count;
	struct store_append_msg *msgs;
	struct imap_pool *pool;
	struct imap_catenate *cat;	/* CATENATE parts (RFC 4469), NULL if none */
};

static void append_cleanup(struct imap_job *job)
{
	struct append_job *j = (struct append_job *)job;
	imap_catenate_free(&j->cat);
	buf_free(&j->name);
	for (size_t i = 0; i < j->count; i++)
		buf_free(&j->bufs[i]);
	free(j->bufs);
	free(j->msgs);
	imap_pool_destroy(&j->pool);
}

static void append_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct append_job *j = (struct append_job *)job;
	const char *error = NULL;
	struct store_mailbox_info info;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r == STORE_OK && !imap_acl_require(job, &box, IMAP_ACL_INSERT, true)) {
		imap_acl_box_free(&box);
		return;
	}
	if (r == STORE_NOTFOUND || (r == STORE_OK && (!box.exists || box.sb->info.noselect))) {
		imap_acl_box_free(&box);
		imap_job_tagged(job, "NO [TRYCREATE] No such mailbox");
		return;
	}
	/* RFC 4469 5: the destination is checked before any URL is resolved,
	 * so a missing mailbox answers [TRYCREATE], not [BADURL]. */
	if (r == STORE_OK && j->cat != NULL &&
	    imap_catenate_resolve(job, st, j->cat, j->bufs, j->msgs, j->count) < 0) {
		imap_acl_box_free(&box);
		return;
	}
	bool private_seen = false;
	uint64_t reader_id = 0;
	if (r == STORE_OK) {
		info = box.sb->info;
		/* RFC 4314 4: flags he may not set are dropped; \Seen on
		 * another's mailbox is his own, set after the append. */
		unsigned drop = 0;
		if (!(box.rights & IMAP_ACL_WRITE))
			drop |= STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT;
		if (!(box.rights & IMAP_ACL_DELETED))
			drop |= STORE_FLAG_DELETED;
		if (!(box.rights & IMAP_ACL_SEEN))
			drop |= STORE_FLAG_SEEN;
		private_seen = !box.sb->own;
		reader_id = box.sb->user_id;
		for (size_t i = 0; i < j->count; i++) {
			j->msgs[i].flags &= ~drop;
			if (!(box.rights & IMAP_ACL_WRITE))
				j->msgs[i].keyword_count = 0;
		}
	}
	imap_acl_box_free(&box);
	bool *seen = xcalloc(j->count + 1, sizeof(*seen));
	for (size_t i = 0; private_seen && i < j->count; i++) {
		seen[i] = (j->msgs[i].flags & STORE_FLAG_SEEN) != 0;
		j->msgs[i].flags &= ~(unsigned)STORE_FLAG_SEEN;
	}
	uint32_t uidvalidity = 0;
	uint32_t *uids = xcalloc(j->count + 1, sizeof(*uids));
	if (r == STORE_OK)
		r = store_append(st, info.id, j->msgs, j->count, &uidvalidity, uids, &error);
	if (r == STORE_OK && private_seen) {
		struct store_uid_range *set = xcalloc(j->count + 1, sizeof(*set));
		size_t n = 0;
		for (size_t i = 0; i < j->count; i++)
			if (seen[i])
				set[n].lo = set[n].hi = uids[i], n++;
		struct store_flags_result fr;
		const char *e2 = NULL;
		if (n > 0 && store_acl_flags_update(st, info.id, reader_id, set, n, STORE_FLAGS_ADD,
						    STORE_FLAG_SEEN, 0, NULL, 0,
						    STORE_NO_UNCHANGEDSINCE, &fr, &e2) == STORE_OK)
			store_flags_result_free(&fr);
		else if (n > 0)
			log_warn("imap user=%s cmd=APPEND event=acl-seen-failed reason=\"%s\"",
				 job->s->address, e2 != NULL ? e2 : "");
		free(set);
	}
	free(seen);
	if (r == STORE_OK) {
		if (j->count == 1)
			imap_job_tagged(job, "OK [APPENDUID %u %u] APPEND completed", uidvalidity,
					uids[0]);
		else
			imap_job_tagged(job, "OK [APPENDUID %u %u:%u] APPEND completed", uidvalidity,
					uids[0], uids[j->count - 1]);
		log_info("imap session=%s user=%s cmd=APPEND mailbox_id=%llu messages=%zu",
			 conn_id(job->conn), job->s->address, (unsigned long long)info.id, j->count);
	} else {
		imap_job_store_error(job, r, error);
	}
	free(uids);
}

void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd)
{
	const char *name, *error = NULL;
	size_t len;
	if (cmd->arg_count < 2 || !imap_arg_astring(&cmd->args[0], &name, &len)) {
		imap_bad(s, cmd->tag, "APPEND mailbox [flags] [date-time] literal");
		return;
	}
	struct append_job *j = imap_job_new(s, sizeof(*j), cmd, append_run,
					    s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = append_cleanup;
	buf_init(&j->name, 0);
	j->pool = imap_pool_create();
	j->bufs = s->append_msgs;
	j->count = s->append_count;
	s->append_msgs = NULL;
	s->append_count = 0;
	imap_catenate_regroup(cmd, &j->bufs, &j->count, &j->cat);
	j->msgs = xcalloc(j->count + 1, sizeof(*j->msgs));
	size_t k = 0;
	const char *bad = NULL;
	for (size_t i = 1; i < cmd->arg_count && bad == NULL;) {
		struct store_append_msg *m = &j->msgs[k];
		const struct imap_arg *a = &cmd->args[i];
		if (a->type == IMAP_ARG_LIST) {
			struct imap_flags fl;
			if (imap_flags_parse(j->pool, a->list, a->list_count, &fl, &error) < 0) {
				bad = error;
				break;
			}
			m->flags = imap_to_store_flags(fl.system);
			m->keywords = fl.keywords;
			m->keyword_count = fl.keyword_count;
			a = &cmd->args[++i];
			if (i >= cmd->arg_count)
				break;
		}
		if (a->type == IMAP_ARG_QUOTED) {
			int zone;
			if (imap_parse_date_time(a->str, &m->internaldate, &zone) < 0) {
				bad = "Invalid date-time";
				break;
			}
			m->internaldate_zone = zone;	/* kept: FETCH and SEARCH use it */
			a = &cmd->args[++i];
			if (i >= cmd->arg_count)
				break;
		}
		if (imap_arg_atom_eq(a, "UTF8")) {
			/* RFC 6855 4: "UTF8 (" literal8 ")" carries a message
			 * with UTF-8 headers; it is stored as it is. */
			if (!s->utf8) {
				bad = "UTF8 APPEND needs ENABLE UTF8=ACCEPT";
				break;
			}
			if (i + 1 >= cmd->arg_count || cmd->args[i + 1].type != IMAP_ARG_LIST ||
			    cmd->args[i + 1].list_count != 1) {
				bad = "UTF8 expects (literal8)";
				break;
			}
			a = &cmd->args[++i].list[0];
		}
		if (imap_catenate_is_message(j->cat, k) && imap_catenate_arg(cmd, i)) {
			k++;		/* built on the worker */
			i += 2;
			continue;
		}
		if (a->type != IMAP_ARG_LITERAL_STREAM || k >= j->count) {
			bad = "Message literal expected";
			break;
		}
		m->data = j->bufs[k].data != NULL ? j->bufs[k].data : "";
		m->size = j->bufs[k].len;
		k++;
		i++;
	}
	if (bad == NULL && (k != j->count || k == 0))
		bad = "Message literal expected";
	if (bad == NULL && (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0)) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	if (bad != NULL) {
		imap_job_tagged(&j->base, "BAD %s", bad);
		j->base.run = NULL;
		j->base.sync_mode = IMAP_SYNC_NONE;
	}
	for (size_t i = 0; i < j->count && j->base.run != NULL; i++) {
		if (j->msgs[i].size == 0 && !imap_catenate_is_message(j->cat, i)) {
			imap_job_tagged(&j->base, "NO Empty message refused");
			j->base.run = NULL;
		}
	}
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
