/* IMAP STATUS (RFC 3501 6.3.10, RFC 9051 6.3.11): MESSAGES, RECENT, UIDNEXT,
 * UIDVALIDITY, UNSEEN, DELETED, SIZE, HIGHESTMODSEQ, APPENDLIMIT, MAILBOXID,
 * DELETED-STORAGE; imap_status_render also answers LIST-STATUS. */
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
int imap_status_render(struct imap_job *job, struct store *st, uint64_t id, uint64_t reader_id,
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
	struct imap_name_job *j = (struct imap_name_job *)job;
	const char *error = NULL;
	struct imap_acl_box box;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
	} else if (!imap_acl_require(job, &box, IMAP_ACL_READ, false)) {
		/* answered */
	} else if (!box.exists || box.sb->info.noselect) {
		imap_job_store_error(job, STORE_NOTFOUND, "No such mailbox");
	} else {
		r = imap_status_render(job, st, box.sb->info.id, box.sb->own ? 0 : box.sb->user_id,
				       j->name.data, j->items, &job->out, &error);
		if (r == STORE_OK)
			imap_job_tagged(job, "OK STATUS completed");
		else
			imap_job_store_error(job, r, error);
	}
	imap_acl_box_free(&box);
}

void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	unsigned items;
	const char *error = NULL;
	if (cmd->arg_count != 2 || imap_status_parse(&cmd->args[1], &items, &error) < 0) {
		imap_bad(s, cmd->tag, error != NULL ? error : "STATUS mailbox (items)");
		return;
	}
	struct imap_name_job *j = imap_name_job_new(s, cmd, status_run, 1);
	if (j == NULL)
		return;
	j->items = items;
	imap_job_submit(s, &j->base);
}
