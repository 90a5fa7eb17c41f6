/* IMAP NOTIFY (RFC 5465) — owned by helper inotify.
 *
 * NOTIFY SET keeps, per session, the filters and a compact snapshot of the
 * user's mailboxes (id, name, subscribed/noselect/inbox bits, the MESSAGES
 * and UIDNEXT last reported). Changes come from store-notify's one LISTEN
 * connection: "id:modseq" for the watched mailboxes (one subscription each)
 * and "a<account id>" when the user's mailbox list or subscriptions change.
 * A callback only marks something dirty; when the session is between
 * commands (or in IDLE) one job on a worker turns the dirty marks into
 * STATUS, LIST and, for the selected mailbox, EXISTS/EXPUNGE/FETCH lines.
 * Nothing is polled: an idle watching session costs its snapshot only. */
#include "autoconf.h"
#include "imap-private.h"
#include "imap_notify.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Snapshot bits of a mailbox. */
#define NB_SUBSCRIBED 0x01
#define NB_NOSELECT 0x02
#define NB_INBOX 0x04		/* the INBOXES filter: INBOX and the \Junk mailbox */
#define NB_WATCHED 0x08		/* subscribed to its message notifications */

/* Events Cairn delivers; the others get NO [BADEVENT (these)]. */
#define NOTIFY_SUPPORTED (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
			  IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_MAILBOX_NAME | \
			  IMAP_NOTIFY_SUBSCRIPTION_CHANGE)
/* MessageNew fetch attributes answered from the stored metadata. */
#define NOTIFY_FETCH_ITEMS (IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE | \
			    IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE | \
			    IMAP_FETCH_UID | IMAP_FETCH_MODSEQ | IMAP_FETCH_SAVEDATE | \
			    IMAP_FETCH_EMAILID | IMAP_FETCH_THREADID)
/* STATUS of an unknown count: any status counts as a change. */
#define NB_UNKNOWN UINT32_MAX

/* One of the user's mailboxes as the session last saw it. */
struct notify_box {
	struct store_notify_sub sub;	/* message events, when NB_WATCHED */
	uint64_t id;
	uint64_t modseq;		/* HIGHESTMODSEQ as last seen */
	uint32_t name;			/* offset into the names block */
	uint32_t messages, uidnext;	/* as last reported */
	uint8_t flags;			/* NB_* */
	bool dirty;			/* a change arrived, not yet reported */
};

/* One non-selected event group with its names decoded to UTF-8. */
struct notify_filter {
	enum imap_notify_filter kind;
	unsigned events;
	uint32_t names;			/* offset into fnames: NUL-separated */
	uint32_t name_count;
};

/* The session's NOTIFY state (s->notify). Workers read it during a job;
 * the loop only flips dirty marks meanwhile and replaces it between jobs. */
struct imap_notify {
	/* what the client asked for; immutable once installed */
	struct notify_filter *filters;
	size_t filter_count;
	char *fnames;
	bool has_selected;		/* a SELECTED or SELECTED-DELAYED group */
	bool selected_delayed;
	unsigned sel_events;
	unsigned fetch_items;		/* MessageNew (fetch-att) of the selected mailbox */
	/* the user's mailboxes */
	uint64_t account_id;
	struct store_notify_sub account_sub;
	struct notify_box *boxes;	/* ascending id */
	size_t box_count;
	char *names;
	/* pending */
	bool list_dirty;
	bool sel_dirty;
	size_t dirty_count;
};

/* A snapshot being built on a worker. */
struct snapshot {
	struct notify_box *boxes;
	size_t count, cap;
	struct buf names;
};

/* The bytes of b as an exactly sized malloc'ed block; b is left empty. */
static char *buf_take(struct buf *b)
{
	char *d = b->data != NULL ? xrealloc(b->data, b->len + 1) : xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

/* ---- filters ---- */

/* Events the filters ask for on a mailbox of that name and those bits. */
static unsigned box_events(const struct imap_notify *n, const char *name, unsigned flags)
{
	unsigned ev = 0;
	size_t len = strlen(name);
	for (size_t i = 0; i < n->filter_count; i++) {
		const struct notify_filter *f = &n->filters[i];
		bool match = false;
		switch (f->kind) {
		case IMAP_NOTIFY_PERSONAL:
			match = true;	/* the snapshot holds his own mailboxes only */
			break;
		case IMAP_NOTIFY_INBOXES:
			match = (flags & NB_INBOX) != 0;
			break;
		case IMAP_NOTIFY_SUBSCRIBED:
			match = (flags & NB_SUBSCRIBED) != 0;
			break;
		case IMAP_NOTIFY_SUBTREE:
		case IMAP_NOTIFY_MAILBOXES: {
			const char *p = n->fnames + f->names;
			for (uint32_t k = 0; k < f->name_count && !match; k++, p += strlen(p) + 1) {
				size_t pl = strlen(p);
				if (strcmp(p, name) == 0)
					match = true;
				else if (f->kind == IMAP_NOTIFY_SUBTREE && len > pl &&
					 strncmp(p, name, pl) == 0 && name[pl] == '/')
					match = true;
			}
			break;
		}
		default:
			break;
		}
		if (match)
			ev |= f->events;
	}
	return ev;
}

/* The name of a snapshot mailbox. */
static const char *box_name(const struct imap_notify *n, const struct notify_box *b)
{
	return n->names + b->name;
}

/* The box with that id in a sorted array, or NULL. */
static struct notify_box *box_find(struct notify_box *boxes, size_t count, uint64_t id)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (boxes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && boxes[lo].id == id ? &boxes[lo] : NULL;
}

/* ---- state ---- */

/* Unsubscribe everything n subscribed (before it is freed or replaced). */
static void unwatch(struct imap_session *s, struct imap_notify *n)
{
	struct store_notify *sn = s->ictx->notify;
	store_notify_unsubscribe(sn, &n->account_sub);
	for (size_t i = 0; i < n->box_count; i++)
		store_notify_unsubscribe(sn, &n->boxes[i].sub);
}

/* Free a NOTIFY state and set *np to NULL. */
static void state_free(struct imap_session *s, struct imap_notify **np)
{
	struct imap_notify *n = *np;
	if (n == NULL)
		return;
	unwatch(s, n);
	free(n->filters);
	free(n->fnames);
	free(n->boxes);
	free(n->names);
	free(n);
	*np = NULL;
}

void imap_notify_unwatch(struct imap_session *s)
{
	if (s->notify != NULL)
		unwatch(s, s->notify);
}

void imap_notify_free(struct imap_session *s)
{
	state_free(s, &s->notify);
}

/* store-notify: a watched mailbox changed; its STATUS is due. */
static void box_cb(uint64_t mailbox_id, uint64_t modseq, void *ctx)
{
	struct imap_session *s = ctx;
	struct imap_notify *n = s->notify;
	struct notify_box *b = box_find(n->boxes, n->box_count, mailbox_id);
	if (b != NULL && !b->dirty) {
		b->dirty = true;
		n->dirty_count++;
	}
	(void)modseq;
	imap_notify_flush(s);
}

/* store-notify: the user's mailbox list or subscriptions changed. */
static void account_cb(uint64_t account_id, uint64_t modseq, void *ctx)
{
	struct imap_session *s = ctx;
	struct imap_notify *n = s->notify;
	(void)account_id;
	n->list_dirty = true;
	if (modseq == 0) {
		/* The LISTEN connection came back: anything may have changed. */
		for (size_t i = 0; i < n->box_count; i++) {
			if ((n->boxes[i].flags & NB_WATCHED) && !n->boxes[i].dirty) {
				n->boxes[i].dirty = true;
				n->dirty_count++;
			}
		}
		n->sel_dirty = n->has_selected;
	}
	imap_notify_flush(s);
}

/* Subscribe the watched boxes (message events) and the account. */
static void watch(struct imap_session *s, struct imap_notify *n)
{
	struct store_notify *sn = s->ictx->notify;
	if (sn == NULL || n->filter_count == 0)
		return;
	store_notify_subscribe_account(sn, &n->account_sub, n->account_id, account_cb, s);
	for (size_t i = 0; i < n->box_count; i++) {
		struct notify_box *b = &n->boxes[i];
		if (b->flags & NB_WATCHED)
			store_notify_subscribe(sn, &b->sub, b->id, box_cb, s);
	}
}

bool imap_notify_selected_changed(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	if (n == NULL || !n->has_selected || n->sel_events == 0)
		return false;
	/* Also in IDLE, so that MessageNew's FETCH goes out there too. */
	n->sel_dirty = true;
	imap_notify_flush(s);
	return true;
}

/* ---- snapshots (worker) ---- */

/* Append one mailbox of the store's list to the snapshot. */
static void snap_add(struct snapshot *sn, const struct store_mailbox_info *info)
{
	if (sn->count == sn->cap) {
		sn->cap = sn->cap == 0 ? 16 : sn->cap * 2;
		sn->boxes = xrealloc(sn->boxes, sn->cap * sizeof(*sn->boxes));
	}
	struct notify_box *b = &sn->boxes[sn->count++];
	memset(b, 0, sizeof(*b));
	b->id = info->id;
	b->name = (uint32_t)sn->names.len;
	buf_append(&sn->names, info->name, strlen(info->name) + 1);
	b->messages = NB_UNKNOWN;
	b->uidnext = info->uidnext;
	b->modseq = info->highestmodseq;
	if (info->subscribed)
		b->flags |= NB_SUBSCRIBED;
	if (info->noselect)
		b->flags |= NB_NOSELECT;
	if (strcmp(info->name, "INBOX") == 0 || str_casecmp(info->special_use, "\\Junk") == 0)
		b->flags |= NB_INBOX;
}

/* store_mailbox_list callback. */
static void snap_collect(const struct store_mailbox_info *info, void *ctx)
{
	snap_add(ctx, info);
}

/* qsort by id: box_find bisects. */
static int box_cmp(const void *a, const void *b)
{
	const struct notify_box *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* Load the user's mailboxes into sn, sorted by id; mark those to watch. */
static int snap_load(struct imap_job *j, struct store *st, const struct imap_notify *n,
		     struct snapshot *sn, const char **error_r)
{
	memset(sn, 0, sizeof(*sn));
	buf_init(&sn->names, 0);
	int r = store_mailbox_list(st, j->s->address, snap_collect, sn, error_r);
	if (r != STORE_OK)
		return r;
	if (sn->count > 1)
		qsort(sn->boxes, sn->count, sizeof(*sn->boxes), box_cmp);
	for (size_t i = 0; i < sn->count; i++) {
		struct notify_box *b = &sn->boxes[i];
		unsigned ev = box_events(n, sn->names.data + b->name, b->flags);
		if ((ev & IMAP_NOTIFY_MESSAGE_EVENTS) != 0 && !(b->flags & NB_NOSELECT))
			b->flags |= NB_WATCHED;
	}
	return STORE_OK;
}

/* Free a snapshot that was not adopted. */
static void snap_free(struct snapshot *sn)
{
	free(sn->boxes);
	buf_free(&sn->names);
	sn->boxes = NULL;
	sn->count = 0;
}

/* ---- responses ---- */

/* "* STATUS name (MESSAGES UIDNEXT UIDVALIDITY [HIGHESTMODSEQ])": what RFC
 * 5465 5.2-5.3 ask for (HIGHESTMODSEQ once CONDSTORE is on). */
static void write_status(struct imap_job *j, struct buf *out, const char *name,
			 const struct store_mailbox_status *stt)
{
	buf_append_str(out, "* STATUS ");
	imap_write_mailbox(j->s, out, name);
	buf_printf(out, " (MESSAGES %u UIDNEXT %u UIDVALIDITY %u", stt->messages, stt->uidnext,
		   stt->uidvalidity);
	if (j->s->condstore)
		buf_printf(out, " HIGHESTMODSEQ %llu", (unsigned long long)stt->highestmodseq);
	buf_append_str(out, ")\r\n");
}

/* "* LIST (attrs) "/" name [("OLDNAME" (old))]" (RFC 5465 5.4, 5.5). */
static void write_list(struct imap_job *j, struct buf *out, const char *name, unsigned flags,
		       bool gone, const char *oldname)
{
	buf_append_str(out, "* LIST (");
	const char *sp = "";
	if (gone) {
		buf_append_str(out, "\\NonExistent");
		sp = " ";
	} else if (flags & NB_NOSELECT) {
		buf_append_str(out, "\\Noselect");
		sp = " ";
	}
	if (!gone && (flags & NB_SUBSCRIBED))
		buf_printf(out, "%s\\Subscribed", sp);
	buf_append_str(out, ") \"/\" ");
	imap_write_mailbox(j->s, out, name);
	if (oldname != NULL) {
		buf_append_str(out, " (\"OLDNAME\" (");
		imap_write_mailbox(j->s, out, oldname);
		buf_append_str(out, "))");
	}
	buf_append_str(out, "\r\n");
}

/* ---- NOTIFY SET / NONE ---- */

/* NOTIFY SET: resolve the account, load the snapshot and the baselines. */
struct set_job {
	struct imap_job base;
	struct imap_notify *n;		/* the new state, installed by set_done */
	bool status;			/* the STATUS indicator */
	int status_code;
	struct snapshot snap;
};

/* Free what a set job still owns (all of it when NOTIFY failed). */
static void set_cleanup(struct imap_job *job)
{
	struct set_job *j = (struct set_job *)job;
	state_free(job->s, &j->n);
	snap_free(&j->snap);
}

static void set_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct set_job *j = (struct set_job *)job;
	const char *error = NULL;
	struct imap_acl_box inbox;
	int r = imap_acl_open(job, st, w, "INBOX", &inbox, &error);
	if (r == STORE_OK) {
		j->n->account_id = inbox.sb->user_id;
		if (j->n->account_id == 0) {
			r = STORE_TEMPFAIL;
			error = "no account id";
		}
	}
	imap_acl_box_free(&inbox);
	/* Only the selected mailbox: no list to keep. */
	if (r == STORE_OK && j->n->filter_count > 0)
		r = snap_load(job, st, j->n, &j->snap, &error);
	/* The baseline of every watched mailbox, and the STATUS indicator's
	 * responses (RFC 5465 3.1; never for the selected mailbox). */
	for (size_t i = 0; i < j->snap.count && r == STORE_OK; i++) {
		struct notify_box *b = &j->snap.boxes[i];
		if (!(b->flags & NB_WATCHED))
			continue;
		struct store_mailbox_status stt;
		r = store_mailbox_status(st, b->id, &stt, &error);
		if (r == STORE_NOTFOUND) {
			r = STORE_OK;	/* deleted meanwhile: the list event follows */
			continue;
		}
		if (r != STORE_OK)
			break;
		b->messages = stt.messages;
		b->uidnext = stt.uidnext;
		b->modseq = stt.highestmodseq;
		if (j->status && (job->s->mbox == NULL || job->s->mbox->id != b->id))
			write_status(job, &job->out, j->snap.names.data + b->name, &stt);
	}
	if (r != STORE_OK) {
		buf_reset(&job->out);
		imap_job_store_error(job, r, error);
		return;
	}
	imap_job_tagged(job, "OK NOTIFY completed");
}

/* On the loop: replace the session's NOTIFY state by the new one. */
static void set_done(struct imap_job *job)
{
	struct set_job *j = (struct set_job *)job;
	struct imap_session *s = job->s;
	if (job->tagged.len < 2 || strncmp(job->tagged.data, "OK", 2) != 0)
		return;
	struct imap_notify *n = j->n;
	j->n = NULL;
	n->box_count = j->snap.count;
	n->boxes = n->box_count > 0 ? xrealloc(j->snap.boxes, n->box_count * sizeof(*n->boxes)) :
		   j->snap.boxes;
	n->names = buf_take(&j->snap.names);
	j->snap.boxes = NULL;
	j->snap.count = 0;
	state_free(s, &s->notify);
	s->notify = n;
	watch(s, n);
	/* A change between the baseline and watch() sent its notification
	 * to nobody: one look at every watched mailbox closes that window
	 * (the modseq baseline keeps it silent when nothing changed). */
	for (size_t i = 0; i < n->box_count; i++) {
		if (n->boxes[i].flags & NB_WATCHED) {
			n->boxes[i].dirty = true;
			n->dirty_count++;
		}
	}
	log_debug("imap session=%s user=%s cmd=NOTIFY mailboxes=%zu filters=%zu", conn_id(s->conn),
		  s->address, n->box_count, n->filter_count);
}

/* NO [BADEVENT (supported events)] when an event is not supported. */
static bool check_events(struct imap_session *s, const struct imap_command *cmd,
			 unsigned events)
{
	if ((events & ~NOTIFY_SUPPORTED) == 0)
		return true;
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "NO [BADEVENT (");
	const char *sp = "";
	for (unsigned bit = 1; bit < IMAP_NOTIFY_UNKNOWN; bit <<= 1) {
		if (NOTIFY_SUPPORTED & bit) {
			buf_printf(&b, "%s%s", sp, imap_notify_event_name(bit));
			sp = " ";
		}
	}
	buf_append_str(&b, ")] Unsupported NOTIFY event");
	imap_reply(s, "%s %s", cmd->tag, b.data);
	buf_free(&b);
	return false;
}

/* Turn the parsed groups into the session's compact filter list. */
static bool build_filters(struct imap_session *s, const struct imap_command *cmd,
			  const struct imap_notify_cmd *nc, struct imap_notify *n)
{
	struct buf names;
	buf_init(&names, 0);
	n->filters = xcalloc(nc->count + 1, sizeof(*n->filters));
	for (size_t i = 0; i < nc->count; i++) {
		const struct imap_notify_group *g = &nc->groups[i];
		if (g->filter == IMAP_NOTIFY_SELECTED || g->filter == IMAP_NOTIFY_SELECTED_DELAYED) {
			n->has_selected = true;
			n->selected_delayed = g->filter == IMAP_NOTIFY_SELECTED_DELAYED;
			n->sel_events = g->events;
			if (g->has_fetch) {
				if (g->fetch.body_count > 0 || (g->fetch.items & ~NOTIFY_FETCH_ITEMS)) {
					buf_free(&names);
					imap_bad(s, cmd->tag, "NOTIFY MessageNew fetch attributes are"
						 " limited to FLAGS INTERNALDATE RFC822.SIZE ENVELOPE"
						 " BODY BODYSTRUCTURE UID MODSEQ SAVEDATE EMAILID THREADID");
					return false;
				}
				n->fetch_items = g->fetch.items;
			}
			continue;
		}
		if (g->events == 0)
			continue;	/* NONE: the default */
		struct notify_filter *f = &n->filters[n->filter_count++];
		f->kind = g->filter;
		f->events = g->events;
		f->names = (uint32_t)names.len;
		f->name_count = (uint32_t)g->name_count;
		for (size_t k = 0; k < g->name_count; k++) {
			const char *error = NULL;
			struct buf dec;
			buf_init(&dec, 0);
			if (imap_mailbox_decode(s, g->names[k], &dec, &error) < 0) {
				buf_free(&dec);
				buf_free(&names);
				imap_bad(s, cmd->tag, error != NULL ? error : "Bad mailbox name");
				return false;
			}
			/* A trailing separator names the same mailbox. */
			while (dec.len > 1 && dec.data[dec.len - 1] == '/')
				dec.data[--dec.len] = '\0';
			buf_append(&names, dec.data, dec.len + 1);
			buf_free(&dec);
		}
	}
	buf_append(&names, "", 1);
	n->fnames = buf_take(&names);
	return true;
}

void imap_cmd_notify(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_pool *pool = imap_pool_create();
	struct imap_notify_cmd nc;
	const char *error = NULL;
	if (imap_notify_parse(pool, cmd->args, cmd->arg_count, &nc, &error) < 0) {
		imap_pool_destroy(&pool);
		imap_bad(s, cmd->tag, error != NULL ? error : "Invalid NOTIFY");
		return;
	}
	if (nc.none) {
		imap_pool_destroy(&pool);
		imap_notify_free(s);
		imap_reply(s, "%s OK NOTIFY NONE completed", cmd->tag);
		return;
	}
	if (!check_events(s, cmd, nc.all_events)) {
		imap_pool_destroy(&pool);
		return;
	}
	struct imap_notify *n = xcalloc(1, sizeof(*n));
	bool ok = build_filters(s, cmd, &nc, n);
	imap_pool_destroy(&pool);
	if (!ok) {
		state_free(s, &n);
		return;
	}
	struct set_job *j = imap_job_new(s, sizeof(*j), cmd, set_run,
					 s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = set_cleanup;
	j->base.done = set_done;
	j->n = n;
	j->status = nc.status;
	imap_job_submit(s, &j->base);
}

/* ---- delivering notifications ---- */

/* A dirty mailbox as the job sees it. */
struct dirty_box {
	uint64_t id;
	struct store_mailbox_status stt;
	bool have;			/* stt is filled: record it */
};

/* One delivery of pending notifications (no tag: untagged lines only). */
struct flush_job {
	struct imap_job base;
	bool reload;
	struct snapshot snap;		/* the new list when reload */
	struct dirty_box *dirty;
	size_t dirty_count;
	bool sync;			/* the selected mailbox changed */
};

/* Free what a flush job still owns. */
static void flush_cleanup(struct imap_job *job)
{
	struct flush_job *j = (struct flush_job *)job;
	snap_free(&j->snap);
	free(j->dirty);
}

/* LIST responses for what differs between the old and the new list. */
static void list_diff(struct flush_job *j, const struct imap_notify *n)
{
	struct imap_job *job = &j->base;
	struct buf *out = &job->out;
	const unsigned name_ev = IMAP_NOTIFY_MAILBOX_NAME, sub_ev = IMAP_NOTIFY_SUBSCRIPTION_CHANGE;
	size_t i = 0, k = 0;
	while (i < n->box_count || k < j->snap.count) {
		const struct notify_box *o = i < n->box_count ? &n->boxes[i] : NULL;
		const struct notify_box *b = k < j->snap.count ? &j->snap.boxes[k] : NULL;
		if (b == NULL || (o != NULL && o->id < b->id)) {
			/* deleted */
			if (box_events(n, box_name(n, o), o->flags) & name_ev)
				write_list(job, out, box_name(n, o), o->flags, true, NULL);
			i++;
			continue;
		}
		const char *name = j->snap.names.data + b->name;
		if (o == NULL || b->id < o->id) {
			/* created */
			if (box_events(n, name, b->flags) & name_ev)
				write_list(job, out, name, b->flags, false, NULL);
			k++;
			continue;
		}
		unsigned ev = box_events(n, name, b->flags) | box_events(n, box_name(n, o), o->flags);
		if (strcmp(name, box_name(n, o)) != 0) {
			if (ev & name_ev)
				write_list(job, out, name, b->flags, false, box_name(n, o));
		} else if (((o->flags ^ b->flags) & NB_NOSELECT) && (ev & name_ev)) {
			write_list(job, out, name, b->flags, false, NULL);
		} else if (((o->flags ^ b->flags) & NB_SUBSCRIBED) && (ev & sub_ev)) {
			write_list(job, out, name, b->flags, false, NULL);
		}
		i++;
		k++;
	}
}

/* MessageNew (fetch-att): FETCH of the messages the sync added. */
struct new_fetch {
	struct imap_job *job;
	const uint32_t *uids;
	size_t count;
	unsigned items;
	struct buf *out;
};

static void new_fetch_cb(const struct store_msg_meta *meta, void *ctx)
{
	struct new_fetch *f = ctx;
	const struct imap_mailbox *m = f->job->s->mbox;
	size_t lo = imap_uid_lower_bound(f->uids, f->count, meta->uid);
	if (lo >= f->count || f->uids[lo] != meta->uid)
		return;
	struct buf *o = f->out;
	if (f->items & IMAP_FETCH_FLAGS)
		imap_flags_announce(m, o, meta->keywords);
	/* RFC 5465 5.2 names UID among the items: it is there in the
	 * UIDFETCH form too (RFC 9586 3.3), so the items below follow it. */
	(void)imap_fetch_begin(f->job->s, o, (uint32_t)(lo + 1), meta->uid, true, true);
	if (f->items & IMAP_FETCH_FLAGS) {
		buf_append_str(o, " FLAGS ");
		imap_write_msg_flags(m, o, meta->flags, meta->keywords, meta->uid);
	}
	if (f->items & IMAP_FETCH_INTERNALDATE) {
		buf_append_str(o, " INTERNALDATE ");
		imap_write_date_time(o, meta->internaldate, 0);
	}
	if (f->items & IMAP_FETCH_RFC822_SIZE)
		buf_printf(o, " RFC822.SIZE %llu", (unsigned long long)meta->size);
	if (f->items & IMAP_FETCH_SAVEDATE) {
		buf_append_str(o, " SAVEDATE ");
		imap_write_date_time(o, meta->savedate, 0);
	}
	if (f->items & IMAP_FETCH_EMAILID)
		buf_printf(o, " EMAILID (%s)", imap_email_objectid(meta->blob_id).s);
	if (f->items & IMAP_FETCH_THREADID)
		buf_append_str(o, " THREADID NIL");
	if ((f->items & IMAP_FETCH_MODSEQ) || f->job->s->condstore)
		buf_printf(o, " MODSEQ (%llu)", (unsigned long long)meta->modseq);
	if (f->items & IMAP_FETCH_ENVELOPE)
		buf_printf(o, " ENVELOPE %s", meta->envelope != NULL ? meta->envelope : "NIL");
	if (f->items & IMAP_FETCH_BODYSTRUCTURE)
		buf_printf(o, " BODYSTRUCTURE %s",
			   meta->bodystructure != NULL ? meta->bodystructure : "NIL");
	if (f->items & IMAP_FETCH_BODY)
		buf_printf(o, " BODY %s", meta->body != NULL ? meta->body : "NIL");
	buf_append_str(o, ")\r\n");
}

/* The selected mailbox: the view sync (EXISTS, EXPUNGE or VANISHED, FETCH
 * FLAGS), then MessageNew's FETCH of the new messages. */
static void sync_selected(struct flush_job *j, struct store *st, const struct imap_notify *n)
{
	struct imap_job *job = &j->base;
	const struct imap_mailbox *m = job->s->mbox;
	uint32_t old_last = m->count > 0 ? m->uids[m->count - 1] : 0;
	job->sync_mode = n->selected_delayed ? IMAP_SYNC_NO_EXPUNGE : IMAP_SYNC_FULL;
	imap_sync_run(job, st);
	job->sync_mode = IMAP_SYNC_NONE;
	struct imap_sync *sy = &job->sync;
	if (sy->changed && sy->has_expunges && n->selected_delayed) {
		/* SELECTED-DELAYED: expunges wait for a command that allows
		 * them; the whole update waits with them. */
		sy->changed = false;
		return;
	}
	if (!sy->changed || n->fetch_items == 0 || !(n->sel_events & IMAP_NOTIFY_MESSAGE_NEW))
		return;
	size_t first = sy->count;
	while (first > 0 && sy->uids[first - 1] > old_last)
		first--;
	if (first == sy->count)
		return;
	struct store_uid_range range = { sy->uids[first], sy->uids[sy->count - 1] };
	unsigned what = 0;
	if (n->fetch_items & IMAP_FETCH_ENVELOPE)
		what |= STORE_FETCH_ENVELOPE;
	if (n->fetch_items & (IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_BODY))
		what |= STORE_FETCH_BODYSTRUCTURE;
	struct new_fetch f = { job, sy->uids, sy->count, n->fetch_items, &sy->out };
	const char *error = NULL;
	if (store_fetch(st, m->id, &range, 1, what, new_fetch_cb, &f, &error) != STORE_OK)
		log_warn("imap user=%s cmd=NOTIFY event=fetch-failed reason=\"%s\"", job->s->address,
			 error != NULL ? error : "");
}

/* On a worker: LIST lines for list changes, STATUS for the dirty
 * mailboxes whose change the filters ask for, then the selected view. */
static void flush_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct flush_job *j = (struct flush_job *)job;
	const struct imap_notify *n = job->s->notify;
	const char *error = NULL;
	(void)w;
	if (n == NULL)
		return;
	if (j->reload) {
		if (snap_load(job, st, n, &j->snap, &error) != STORE_OK) {
			log_warn("imap user=%s cmd=NOTIFY event=list-failed reason=\"%s\"",
				 job->s->address, error != NULL ? error : "");
			snap_free(&j->snap);
			j->reload = false;
		} else {
			list_diff(j, n);
		}
	}
	for (size_t i = 0; i < j->dirty_count; i++) {
		struct dirty_box *d = &j->dirty[i];
		const struct notify_box *b = box_find(n->boxes, n->box_count, d->id);
		const struct notify_box *nb = j->reload ?
			box_find(j->snap.boxes, j->snap.count, d->id) : b;
		if (b == NULL || nb == NULL || (nb->flags & NB_NOSELECT))
			continue;	/* deleted: the LIST said so */
		if (job->s->mbox != NULL && job->s->mbox->id == d->id)
			continue;	/* the selected one is reported as EXISTS etc. */
		const char *name = j->reload ? j->snap.names.data + nb->name : box_name(n, nb);
		unsigned ev = box_events(n, name, nb->flags);
		if ((ev & IMAP_NOTIFY_MESSAGE_EVENTS) == 0)
			continue;
		if (store_mailbox_status(st, d->id, &d->stt, &error) != STORE_OK)
			continue;
		d->have = true;
		/* New or expunged messages change the counts; a change that
		 * leaves them and moves HIGHESTMODSEQ is a flag change. */
		bool counts = d->stt.messages != b->messages || d->stt.uidnext != b->uidnext;
		bool flags = d->stt.highestmodseq != b->modseq;
		if ((counts && (ev & (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE))) ||
		    (!counts && flags && (ev & IMAP_NOTIFY_FLAG_CHANGE)))
			write_status(job, &job->out, name, &d->stt);
	}
	/* No news from a shared mailbox whose r right was taken away: the
	 * rights were refreshed before this job ran, as for every sync. */
	if (j->sync && job->s->mbox != NULL && (job->s->mbox->rights & IMAP_ACL_READ))
		sync_selected(j, st, n);
}

/* On the loop: adopt the new list and the reported figures. */
static void flush_done(struct imap_job *job)
{
	struct flush_job *j = (struct flush_job *)job;
	struct imap_session *s = job->s;
	struct imap_notify *n = s->notify;
	if (n == NULL)
		return;
	if (j->reload) {
		/* Adopt the new list, keeping what the old one knew. */
		for (size_t k = 0; k < j->snap.count; k++) {
			struct notify_box *b = &j->snap.boxes[k];
			const struct notify_box *o = box_find(n->boxes, n->box_count, b->id);
			if (o == NULL)
				continue;
			b->messages = o->messages;
			b->uidnext = o->uidnext;
			b->modseq = o->modseq;
			b->dirty = o->dirty;
		}
		unwatch(s, n);
		free(n->boxes);
		free(n->names);
		n->box_count = j->snap.count;
		n->boxes = n->box_count > 0 ?
			   xrealloc(j->snap.boxes, n->box_count * sizeof(*n->boxes)) : j->snap.boxes;
		n->names = buf_take(&j->snap.names);
		j->snap.boxes = NULL;
		j->snap.count = 0;
		n->dirty_count = 0;
		for (size_t k = 0; k < n->box_count; k++)
			n->dirty_count += n->boxes[k].dirty;
		watch(s, n);
	}
	for (size_t i = 0; i < j->dirty_count; i++) {
		struct notify_box *b = box_find(n->boxes, n->box_count, j->dirty[i].id);
		if (b != NULL && j->dirty[i].have) {
			b->messages = j->dirty[i].stt.messages;
			b->uidnext = j->dirty[i].stt.uidnext;
			b->modseq = j->dirty[i].stt.highestmodseq;
		}
	}
}

/* True when nothing of a command is in progress (RFC 5465 3: the server
 * sends notifications only then), or the session is in IDLE. */
static bool between_commands(struct imap_session *s)
{
	if (s->rt.job != NULL || s->rt.held != NULL || conn_is_closing(s->conn) || s->closing ||
	    s->in_sasl || s->append_count > 0 ||
	    (s->state & IMAP_STATE_LOGOUT))
		return false;
	if (s->idling)
		return true;
	return !s->mid_command && conn_input(s->conn)->len == 0;
}

void imap_notify_flush(struct imap_session *s)
{
	struct imap_notify *n = s->notify;
	if (n == NULL || !between_commands(s))
		return;
	bool sync = n->sel_dirty && s->mbox != NULL && n->has_selected && n->sel_events != 0;
	if (!n->list_dirty && n->dirty_count == 0 && !sync)
		return;
	if (conn_output_pending(s->conn) > s->ictx->cfg->imap.notify_max_queued) {
		/* The client does not read: stop instead of queueing without
		 * bound (RFC 5465 5.8); NOTIFY NONE is in effect now. */
		log_info("imap session=%s user=%s event=notify-overflow queued=%zu", conn_id(s->conn),
			 s->address, conn_output_pending(s->conn));
		imap_notify_free(s);
		imap_reply(s, "* OK [NOTIFICATIONOVERFLOW] Too many notifications; NOTIFY NONE is"
			   " in effect");
		return;
	}
	struct flush_job *j = imap_job_new(s, sizeof(*j), NULL, flush_run, IMAP_SYNC_NONE);
	j->base.cleanup = flush_cleanup;
	j->base.done = flush_done;
	free(j->base.cmd);
	j->base.cmd = xstrdup("NOTIFY");
	j->reload = n->list_dirty;
	j->sync = sync;
	n->list_dirty = false;
	n->sel_dirty = false;
	if (n->dirty_count > 0) {
		j->dirty = xcalloc(n->dirty_count, sizeof(*j->dirty));
		for (size_t i = 0; i < n->box_count; i++) {
			if (n->boxes[i].dirty && j->dirty_count < n->dirty_count)
				j->dirty[j->dirty_count++].id = n->boxes[i].id;
			n->boxes[i].dirty = false;
		}
		n->dirty_count = 0;
	}
	imap_job_submit(s, &j->base);
}
