/* IMAP STORE / UID STORE: flags and keywords, .SILENT, UNCHANGEDSINCE ->
 * [MODIFIED] (RFC 7162 3.1.3), the rights of RFC 4314 per flag. */
#include "autoconf.h"
#include "imap-private.h"
#include "conn.h"
#include "log.h"
#include "store.h"
#include "store-mail-search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- STORE ---- */

struct store_job {
	struct imap_job base;
	struct imap_pool *pool;
	struct imap_store st;
	struct store_uid_range *set;
	size_t set_count;
	struct store_flags_result fr;
	bool have_fr;
	bool uid;
	struct fetch_job *fj;
};

static void store_cleanup(struct imap_job *job)
{
	struct store_job *j = (struct store_job *)job;
	if (j->have_fr)
		store_flags_result_free(&j->fr);
	free(j->set);
	imap_pool_destroy(&j->pool);
}

static void store_flags_show(const struct store_msg_meta *meta, void *ctx)
{
	struct store_job *j = ctx;
	const struct imap_mailbox *m = j->base.s->mbox;
	uint32_t seq = imap_seq_of(m, meta->uid);
	if (seq == 0)
		return;
	if (j->st.silent && !imap_uid_in(j->fr.failed, j->fr.failed_count, meta->uid))
		return;
	if (!imap_uid_in(j->fr.modified, j->fr.modified_count, meta->uid) && !j->st.unchangedsince_set)
		return;
	struct buf *o = &j->base.out;
	imap_flags_announce(m, o, meta->keywords);
	if (imap_fetch_begin(j->base.s, o, seq, meta->uid, false, j->uid || j->base.s->qresync))
		buf_append_str(o, " ");
	buf_append_str(o, "FLAGS ");
	imap_write_msg_flags(m, o, meta->flags, meta->keywords, meta->uid);
	if (j->base.s->condstore)
		buf_printf(o, " MODSEQ (%llu)", (unsigned long long)meta->modseq);
	buf_append_str(o, ")\r\n");
}

static void store_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct store_job *j = (struct store_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	(void)w;
	/* RFC 4314: s for \Seen, t for \Deleted, w for the rest; a FLAGS
	 * replace needs w and leaves \Seen and \Deleted as they are when he
	 * may not change them (imap_acl_flags_update). */
	unsigned sys = j->st.flags.system, need = 0;
	if (sys & IMAP_FLAG_SEEN)
		need |= IMAP_ACL_SEEN;
	if (sys & IMAP_FLAG_DELETED)
		need |= IMAP_ACL_DELETED;
	if ((sys & (IMAP_FLAG_ANSWERED | IMAP_FLAG_FLAGGED | IMAP_FLAG_DRAFT)) ||
	    j->st.flags.keyword_count > 0 || j->st.mode == IMAP_STORE_REPLACE)
		need |= IMAP_ACL_WRITE;
	if ((m->rights & need) != need) {
		struct buf miss;
		buf_init(&miss, 0);
		imap_acl_write_rights(&miss, need & ~m->rights, false);
		imap_job_tagged(job, "NO [NOPERM] Permission denied (right %s needed)", miss.data);
		buf_free(&miss);
		return;
	}
	if ((job->cmd_flags & IMAP_CMD_WRITE) && m->readonly) {
		imap_job_tagged(job, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (j->set_count == 0) {
		imap_job_tagged(job, "OK %s completed", job->cmd);
		return;
	}
	enum store_flag_op op = j->st.mode == IMAP_STORE_ADD ? STORE_FLAGS_ADD :
				j->st.mode == IMAP_STORE_REMOVE ? STORE_FLAGS_REMOVE :
				STORE_FLAGS_REPLACE;
	int r = imap_acl_flags_update(m, st, j->set, j->set_count, op,
				   imap_to_store_flags(j->st.flags.system), j->st.flags.keywords,
				   j->st.flags.keyword_count,
				   j->st.unchangedsince_set ? j->st.unchangedsince : STORE_NO_UNCHANGEDSINCE,
				   &j->fr, &error);
	if (r != STORE_OK && r != STORE_NOTFOUND) {
		imap_job_store_error(job, r, error);
		return;
	}
	j->have_fr = r == STORE_OK;
	if (j->have_fr) {
		job->own_uids = j->fr.modified;
		job->own_count = j->fr.modified_count;
		r = store_fetch(st, m->id, j->set, j->set_count, 0, store_flags_show, j, &error);
	}
	if (j->have_fr && j->fr.failed_count > 0) {
		struct buf set;
		buf_init(&set, 0);
		for (size_t i = 0; i < j->fr.failed_count; i++) {
			uint32_t v = j->uid ? j->fr.failed[i] : imap_seq_of(m, j->fr.failed[i]);
			buf_printf(&set, "%s%u", i > 0 ? "," : "", v);
		}
		imap_job_tagged(job, "OK [MODIFIED %s] Conditional STORE failed", set.data);
		buf_free(&set);
		return;
	}
	imap_job_tagged(job, "OK %s completed", job->cmd);
}

void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct imap_pool *pool = imap_pool_create();
	struct store_uid_range *set;
	size_t count;
	if (!imap_parse_msg_set(s, cmd, pool, uid, &set, &count)) {
		imap_pool_destroy(&pool);
		return;
	}
	struct imap_store sto;
	const char *error = NULL;
	if (imap_store_parse(pool, &cmd->args[1], cmd->arg_count - 1, &sto, &error) < 0) {
		imap_bad(s, cmd->tag, error != NULL ? error : "Invalid STORE arguments");
		free(set);
		imap_pool_destroy(&pool);
		return;
	}
	struct store_job *j = imap_job_new(s, sizeof(*j), cmd, store_run,
					   uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	if (sto.unchangedsince_set)
		imap_condstore_enable(s, &j->base.out);
	j->base.cleanup = store_cleanup;
	j->pool = pool;
	j->st = sto;
	j->set = set;
	j->set_count = count;
	j->uid = uid;
	imap_job_submit(s, &j->base);
}
