/* IMAP APPEND with MULTIAPPEND (RFC 3502), APPENDUID (RFC 4315), BINARY
 * literal8 (RFC 3516) and UTF8 (RFC 6855), from the literals the session
 * streamed in. */
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
