/* IMAP SELECT and EXAMINE, with CONDSTORE and QRESYNC (RFC 7162): the
 * view of the mailbox is read, \Recent claimed, and the changes since the
 * client's modseq reported. */
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
	uint32_t first_unseen = 0;	/* uid */
	if (r == STORE_OK && !job->s->rev2 && !m->private_seen)
		r = store_search_first_unseen(st, info.id, &first_unseen, &error);
	for (size_t i = 0; r == STORE_OK && m->private_seen && !job->s->rev2 && i < m->count; i++) {
		if (!(imap_acl_flags(m, m->uids[i], 0) & STORE_FLAG_SEEN)) {
			first_unseen = m->uids[i];
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
		/* [UNSEEN n] is a sequence number: none under UIDONLY
		 * (RFC 9586 3: no message numbers in responses). */
		if (first_unseen != 0 && !job->s->uidonly)
			buf_printf(o, "* OK [UNSEEN %u] First unseen\r\n",
				   imap_seq_of(m, first_unseen));
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
