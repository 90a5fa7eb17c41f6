/* IMAP LIST and LSUB: LIST-EXTENDED selection and return options (RFC
 * 5258), LIST-STATUS (RFC 5819), SPECIAL-USE (RFC 6154), CHILDREN (RFC
 * 3348), MYRIGHTS (RFC 8440) and the Other Users/ and Shared/ namespaces. */
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
			r = imap_status_render(job, st, in->id, e->reader_id, e->name, lc->status_items,
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
