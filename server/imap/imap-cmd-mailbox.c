/* IMAP mailbox commands: LIST/LSUB (LIST-EXTENDED, LIST-STATUS,
 * SPECIAL-USE, CHILDREN), CREATE, DELETE, RENAME, (UN)SUBSCRIBE, STATUS,
 * SELECT/EXAMINE, APPEND (MULTIAPPEND, APPENDUID), CLOSE, UNSELECT,
 * EXPUNGE, UID EXPUNGE and NOOP/CHECK. Each runs as a store job. */
#include "autoconf.h"
#include "imap-private.h"
#include "store-mail-search.h"
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
	if (s->job != NULL)
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
	buf_free(&j->name);
	buf_free(&j->name2);
	conn_unref(&j->base.conn);
	buf_free(&j->base.out);
	buf_free(&j->base.tagged);
	buf_free(&j->base.sync.out);
	free(j->base.tag);
	free(j->base.cmd);
	free(j);
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

static void create_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	uint64_t id;
	(void)w;
	int r = store_mailbox_create(st, job->s->address, j->name.data, NULL, &id, &error);
	if (r == STORE_OK)
		imap_job_tagged(job, "OK CREATE completed");
	else
		imap_job_store_error(job, r, error);
}

void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd)
{
	struct name_job *j = name_job_new(s, cmd, create_run, 1);
	if (j != NULL)
		imap_job_submit(s, &j->base);
}

static void delete_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	(void)w;
	if (job->s->mbox != NULL && strcmp(job->s->mbox->name, j->name.data) == 0) {
		imap_job_tagged(job, "NO [INUSE] Cannot delete the selected mailbox");
		return;
	}
	int r = store_mailbox_delete(st, job->s->address, j->name.data, &error);
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

static void rename_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	(void)w;
	int r = store_mailbox_rename(st, job->s->address, j->name.data, j->name2.data, &error);
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
	(void)w;
	int r = store_mailbox_subscribe(st, job->s->address, j->name.data, j->flag, &error);
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

/* Render "* STATUS name (...)" for an open mailbox. */
static int status_render(struct imap_job *job, struct store *st, uint64_t id, const char *name,
			 unsigned items, struct buf *out, const char **error_r)
{
	struct store_mailbox_status stt;
	int r = store_mailbox_status(st, id, &stt, error_r);
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
	if (items & IMAP_STATUS_APPENDLIMIT)
		buf_printf(out, "%sAPPENDLIMIT %llu", sp,
			   (unsigned long long)job->s->ictx->cfg->imap.max_append);
	buf_append_str(out, ")\r\n");
	return STORE_OK;
}

static void status_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct name_job *j = (struct name_job *)job;
	const char *error = NULL;
	struct store_mailbox_info info;
	(void)w;
	int r = store_mailbox_open(st, job->s->address, j->name.data, &info, &error);
	if (r == STORE_OK && info.noselect)
		r = STORE_NOTFOUND;
	if (r == STORE_OK)
		r = status_render(job, st, info.id, info.name, j->items, &job->out, &error);
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
	j->boxes[j->count++].info = *info;
}

static void list_cleanup(struct imap_job *job)
{
	struct list_job *j = (struct list_job *)job;
	free(j->boxes);
	imap_pool_destroy(&j->pool);
}

static bool has_subscribed_child(const struct list_job *j, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < j->count; i++) {
		const char *n = j->boxes[i].info.name;
		if (strncmp(n, name, len) == 0 && n[len] == '/' && j->boxes[i].info.subscribed)
			return true;
	}
	return false;
}

static void list_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct list_job *j = (struct list_job *)job;
	const struct imap_list_cmd *lc = &j->lc;
	const char *error = NULL;
	(void)w;
	const char *verb = j->lsub ? "LSUB" : "LIST";
	/* LIST "" "": the hierarchy separator. */
	if (lc->pattern_count == 1 && lc->patterns[0][0] == '\0' && !lc->extended) {
		buf_printf(&job->out, "* %s (\\Noselect) \"/\" \"\"\r\n", verb);
		imap_job_tagged(job, "OK %s completed", verb);
		return;
	}
	int r = store_mailbox_list(st, job->s->address, list_collect, j, &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
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
		const struct store_mailbox_info *in = &j->boxes[i].info;
		bool match = false;
		for (size_t p = 0; p < lc->pattern_count && !match; p++)
			match = imap_list_match(pats[p], in->name, '/');
		if (!match)
			continue;
		bool childinfo = false;
		if (sel_sub && !in->subscribed) {
			if (!recursive || !has_subscribed_child(j, in->name))
				continue;
			childinfo = true;
		}
		if ((lc->select & IMAP_LIST_SEL_SPECIAL_USE) && in->special_use[0] == '\0')
			continue;
		buf_printf(&job->out, "* %s (", verb);
		const char *sp = "";
		if (in->noselect) {
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
		imap_write_mailbox(job->s, &job->out, in->name);
		if (childinfo)
			buf_append_str(&job->out, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
		buf_append_str(&job->out, "\r\n");
		if ((lc->ret & IMAP_LIST_RET_STATUS) && !in->noselect) {
			r = status_render(job, st, in->id, in->name, lc->status_items, &job->out,
					  &error);
			if (r != STORE_OK)
				break;
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
};

static void select_cleanup(struct imap_job *job)
{
	struct select_job *j = (struct select_job *)job;
	buf_free(&j->name);
	if (j->mbox != NULL) {
		free(j->mbox->name);
		free(j->mbox->uids);
		free(j->mbox->recent);
		free(j->mbox);
	}
}

static void select_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct select_job *j = (struct select_job *)job;
	const char *error = NULL;
	struct store_mailbox_info info;
	struct store_mailbox_status stt;
	(void)w;
	int r = store_mailbox_open(st, job->s->address, j->name.data, &info, &error);
	if (r == STORE_OK && info.noselect)
		r = STORE_NOTFOUND;
	uint32_t first = 0, next = 0;
	if (r == STORE_OK && !j->readonly)
		r = store_mailbox_claim_recent(st, info.id, &first, &next, &error);
	if (r == STORE_OK)
		r = store_mailbox_status(st, info.id, &stt, &error);
	struct imap_mailbox *m = xcalloc(1, sizeof(*m));
	j->mbox = m;
	m->name = xstrdup(info.name);
	if (r == STORE_OK)
		r = store_search_view_uids(st, info.id, &m->uids, &m->count, &error);
	struct count_ctx cc = { 0, 0 };
	if (r == STORE_OK && !job->s->rev2)
		r = store_search_first_unseen(st, info.id, &cc.first_unseen, &error);
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
	if (j->readonly)
		buf_append_str(o, "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n");
	else
		buf_append_str(o, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS " \\*)] Flags permitted\r\n");
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
	if (job->s->rev2) {
		buf_append_str(o, "* LIST () \"/\" ");
		imap_write_mailbox(job->s, o, info.name);
		buf_append_str(o, "\r\n");
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
	if (cmd->arg_count == 2) {
		const struct imap_arg *list;
		size_t n;
		if (!imap_arg_list(&cmd->args[1], &list, &n) || n != 1 ||
		    !imap_arg_atom_eq(&list[0], "CONDSTORE")) {
			imap_bad(s, cmd->tag, "Unsupported SELECT parameter");
			return;
		}
		condstore = true;
	}
	struct select_job *j = imap_job_new(s, sizeof(*j), cmd, select_run, IMAP_SYNC_NONE);
	j->base.done = select_done;
	j->base.cleanup = select_cleanup;
	j->readonly = strcmp(cmd->name, "EXAMINE") == 0;
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
};

static void append_cleanup(struct imap_job *job)
{
	struct append_job *j = (struct append_job *)job;
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
	(void)w;
	int r = store_mailbox_open(st, job->s->address, j->name.data, &info, &error);
	if (r == STORE_NOTFOUND || (r == STORE_OK && info.noselect)) {
		imap_job_tagged(job, "NO [TRYCREATE] No such mailbox");
		return;
	}
	uint32_t uidvalidity = 0;
	uint32_t *uids = xcalloc(j->count + 1, sizeof(*uids));
	if (r == STORE_OK)
		r = store_append(st, info.id, j->msgs, j->count, &uidvalidity, uids, &error);
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
		if (j->msgs[i].size == 0) {
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
	/* Silently: no EXPUNGE responses for CLOSE (RFC 3501 6.4.2). */
	if (!m->readonly) {
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
	if (m->readonly) {
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
	bool uid = strcmp(cmd->name, "UID EXPUNGE") == 0;
	struct expunge_job *j;
	if (uid) {
		const char *text, *error = NULL;
		struct imap_seqset set;
		struct imap_pool *pool = imap_pool_create();
		if (cmd->arg_count != 1 || !imap_arg_atom(&cmd->args[0], &text) ||
		    imap_seqset_parse(pool, text, false, 10000, &set, &error) < 0) {
			imap_bad(s, cmd->tag, error != NULL ? error : "UID EXPUNGE uid-set");
			imap_pool_destroy(&pool);
			return;
		}
		j = imap_job_new(s, sizeof(*j), cmd, expunge_run, IMAP_SYNC_FULL);
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
