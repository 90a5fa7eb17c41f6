/* IMAP COPY / UID COPY and MOVE / UID MOVE (RFC 6851) with COPYUID (RFC
 * 4315); the expunges of MOVE are reported by the view sync. */
#include "autoconf.h"
#include "imap-private.h"
#include "conn.h"
#include "log.h"
#include "store.h"
#include "store-mail-search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- COPY / MOVE ---- */

struct copy_job {
	struct imap_job base;
	struct buf name;
	struct store_uid_range *set;
	size_t set_count;
	bool move;
};

static void copy_cleanup(struct imap_job *job)
{
	struct copy_job *j = (struct copy_job *)job;
	buf_free(&j->name);
	free(j->set);
}

static void copy_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct copy_job *j = (struct copy_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	struct store_mailbox_info info;
	struct imap_acl_box box;
	/* RFC 4314 / RFC 6851: MOVE out needs t and e, into needs i. */
	if (j->move && (m->rights & (IMAP_ACL_DELETED | IMAP_ACL_EXPUNGE)) !=
	    (IMAP_ACL_DELETED | IMAP_ACL_EXPUNGE)) {
		imap_job_tagged(job, "NO [NOPERM] Permission denied (rights t and e needed)");
		return;
	}
	if ((job->cmd_flags & IMAP_CMD_WRITE) && m->readonly) {
		imap_job_tagged(job, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
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
	if (r == STORE_OK)
		info = box.sb->info;
	if (r == STORE_OK && j->set_count == 0) {
		imap_acl_box_free(&box);
		imap_job_tagged(job, "OK %s completed", job->cmd);
		return;
	}
	struct store_copy_result cr = { 0 };
	if (r == STORE_OK)
		r = store_copy(st, m->id, info.id, j->set, j->set_count, j->move, &cr, &error);
	if (r == STORE_OK)
		imap_acl_copy_fixup(m, st, &box, &cr);
	imap_acl_box_free(&box);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	if (cr.count == 0) {
		imap_job_tagged(job, "OK %s completed", job->cmd);
		store_copy_result_free(&cr);
		return;
	}
	struct buf src, dst;
	buf_init(&src, 0);
	buf_init(&dst, 0);
	imap_write_uid_set(&src, cr.src, cr.count);
	imap_write_uid_set(&dst, cr.dst, cr.count);
	if (j->move) {
		/* RFC 6851: COPYUID in an untagged OK before the expunges. */
		buf_printf(&job->out, "* OK [COPYUID %u %s %s] Moved\r\n", cr.uidvalidity, src.data,
			   dst.data);
		imap_job_tagged(job, "OK %s completed", job->cmd);
	} else {
		imap_job_tagged(job, "OK [COPYUID %u %s %s] %s completed", cr.uidvalidity, src.data,
				dst.data, job->cmd);
	}
	buf_free(&src);
	buf_free(&dst);
	store_copy_result_free(&cr);
}

void imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	bool move = (s->cmd_flags & IMAP_CMD_MOVE) != 0;
	struct imap_pool *pool = imap_pool_create();
	struct store_uid_range *set;
	size_t count;
	const char *name, *error = NULL;
	size_t len;
	if (!imap_parse_msg_set(s, cmd, pool, uid, &set, &count)) {
		imap_pool_destroy(&pool);
		return;
	}
	imap_pool_destroy(&pool);
	if (cmd->arg_count != 2 || !imap_arg_astring(&cmd->args[1], &name, &len)) {
		free(set);
		imap_bad(s, cmd->tag, "Mailbox name expected");
		return;
	}
	struct copy_job *j = imap_job_new(s, sizeof(*j), cmd, copy_run,
					  move || uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	j->base.cleanup = copy_cleanup;
	buf_init(&j->name, 0);
	j->set = set;
	j->set_count = count;
	j->move = move;
	if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	imap_job_submit(s, &j->base);
}
