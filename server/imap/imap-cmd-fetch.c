/* IMAP FETCH/UID FETCH (stored ENVELOPE/BODYSTRUCTURE, BODY[section]<partial>
 * and BINARY[] cut from the raw message by the MIME parser, \Seen set by
 * non-PEEK fetches), and the sequence-set argument of FETCH, STORE, COPY
 * and MOVE (imap_parse_msg_set). STORE is in imap-cmd-store.c, COPY/MOVE in
 * imap-cmd-copy.c. */
#include "autoconf.h"
#include "imap-private.h"
#include "conn.h"
#include "log.h"
#include "mime.h"
#include "store.h"
#include "store-mail-search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct meta_copy {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	char *keywords;
	time_t internaldate;
	time_t savedate;
	uint64_t blob_id;
	uint64_t size;
	char *envelope, *bodystructure, *body;
};

struct fetch_job {
	struct imap_job base;
	struct imap_pool *pool;
	struct imap_fetch fetch;
	struct store_uid_range *set;
	size_t set_count;
	struct meta_copy *metas;
	size_t meta_count;
	uint32_t *seen_uids;		/* \Seen set by this FETCH: FLAGS shown */
	size_t seen_count;
	/* FETCH runs in rounds of at most a batch of view messages, so a
	 * 100,000-message FETCH 1:* never holds more than one batch. */
	bool started;
	bool unknown_cte;
	size_t pos;			/* next view index to look at */
	struct store_uid_range *batch;	/* set clipped to the round's window */
	struct imap_seq_range *vanish;	/* the uid set as sent, for VANISHED */
	size_t vanish_count;
	struct fetch_preview *previews;	/* PREVIEW of this round, uid order */
	size_t preview_count;
};

/* RFC 8970 PREVIEW of one message; text NULL: not available (LAZY). */
struct fetch_preview {
	uint32_t uid;
	char *text;
};

static void preview_collect(uint32_t uid, const char *preview, void *ctx)
{
	struct fetch_job *j = ctx;
	j->previews = xrealloc(j->previews, (j->preview_count + 1) * sizeof(*j->previews));
	j->previews[j->preview_count].uid = uid;
	j->previews[j->preview_count++].text = preview != NULL ? xstrdup(preview) : NULL;
}

/* The preview of uid in this round (NULL: NIL). */
static const char *preview_of(const struct fetch_job *j, uint32_t uid)
{
	size_t lo = IMAP_LOWER_BOUND(j->previews, j->preview_count, uid, uid);
	return lo < j->preview_count && j->previews[lo].uid == uid ? j->previews[lo].text : NULL;
}

/* View messages per round: metadata only, or with raw messages parsed. */
#define FETCH_BATCH_META 500
#define FETCH_BATCH_RAW 32

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

static void meta_collect(const struct store_msg_meta *meta, void *ctx)
{
	struct fetch_job *j = ctx;
	j->metas = xrealloc(j->metas, (j->meta_count + 1) * sizeof(*j->metas));
	struct meta_copy *c = &j->metas[j->meta_count++];
	c->uid = meta->uid;
	c->modseq = meta->modseq;
	c->flags = meta->flags;
	c->keywords = xstrdup(meta->keywords != NULL ? meta->keywords : "");
	c->internaldate = meta->internaldate;
	c->savedate = meta->savedate;
	c->blob_id = meta->blob_id;
	c->size = meta->size;
	c->envelope = dup_or_null(meta->envelope);
	c->bodystructure = dup_or_null(meta->bodystructure);
	c->body = dup_or_null(meta->body);
}

static void metas_free(struct fetch_job *j)
{
	for (size_t i = 0; i < j->meta_count; i++) {
		free(j->metas[i].keywords);
		free(j->metas[i].envelope);
		free(j->metas[i].bodystructure);
		free(j->metas[i].body);
	}
	free(j->metas);
	j->metas = NULL;
	j->meta_count = 0;
	for (size_t i = 0; i < j->preview_count; i++)
		free(j->previews[i].text);
	free(j->previews);
	j->previews = NULL;
	j->preview_count = 0;
}

static void fetch_cleanup(struct imap_job *job)
{
	struct fetch_job *j = (struct fetch_job *)job;
	metas_free(j);
	free(j->batch);
	free(j->set);
	free(j->seen_uids);
	imap_pool_destroy(&j->pool);
}

static void write_partial(struct buf *out, const struct imap_fetch_body *b, const char *data,
			  size_t len, bool binary)
{
	if (b->partial) {
		uint64_t off = b->partial_offset < len ? b->partial_offset : len;
		uint64_t n = len - off;
		if (n > b->partial_len)
			n = b->partial_len;
		data += off;
		len = (size_t)n;
	}
	if (binary && memchr(data, '\0', len) != NULL)
		imap_write_literal8(out, data, len);
	else
		imap_write_literal(out, data, len);
}

static int render_one(struct fetch_job *j, struct store *st, const struct meta_copy *c,
		      uint32_t seq, const char **error_r)
{
	const struct imap_fetch *f = &j->fetch;
	const struct imap_mailbox *m = j->base.s->mbox;
	struct buf *o = &j->base.out;
	bool need_raw = (f->items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER |
				     IMAP_FETCH_RFC822_TEXT)) != 0 || f->body_count > 0;
	struct buf raw;
	buf_init(&raw, 0);
	struct mime_message *msg = NULL;
	if (need_raw) {
		int r = store_fetch_raw(st, m->id, c->uid, &raw, error_r);
		if (r == STORE_NOTFOUND) {
			buf_free(&raw);
			return STORE_OK;	/* expunged meanwhile: nothing to show */
		}
		if (r != STORE_OK) {
			buf_free(&raw);
			return r;
		}
		msg = mime_parse(raw.data != NULL ? raw.data : "", raw.len, NULL);
	}
	if ((f->items & IMAP_FETCH_FLAGS) || imap_uid_in(j->seen_uids, j->seen_count, c->uid))
		imap_flags_announce(m, o, c->keywords);
	/* RFC 7162 3.2.4: with QRESYNC every FETCH carries UID; under
	 * UIDONLY the uid leads the UIDFETCH response (RFC 9586 3.3) and the
	 * UID item is there only when it was asked for. */
	const struct imap_session *ss = j->base.s;
	const char *sp = imap_fetch_begin(ss, o, seq, c->uid,
					  ss->uidonly ? j->fetch.uid_asked : (f->items & IMAP_FETCH_UID) != 0,
					  ss->qresync) ? " " : "";
	if ((f->items & IMAP_FETCH_FLAGS) || imap_uid_in(j->seen_uids, j->seen_count, c->uid)) {
		buf_printf(o, "%sFLAGS ", sp);
		imap_write_msg_flags(m, o, c->flags, c->keywords, c->uid);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_INTERNALDATE) {
		buf_printf(o, "%sINTERNALDATE ", sp);
		imap_write_date_time(o, c->internaldate, 0);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_RFC822_SIZE) {
		buf_printf(o, "%sRFC822.SIZE %llu", sp, (unsigned long long)c->size);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_SAVEDATE) {
		buf_printf(o, "%sSAVEDATE ", sp);	/* RFC 8514: every message has one */
		imap_write_date_time(o, c->savedate, 0);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_EMAILID) {
		buf_printf(o, "%sEMAILID (%s)", sp, imap_email_objectid(c->blob_id).s);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_THREADID) {
		/* RFC 8474 5.2: NIL when the server does not compute threads */
		buf_printf(o, "%sTHREADID NIL", sp);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_MODSEQ || j->base.s->condstore) {
		buf_printf(o, "%sMODSEQ (%llu)", sp, (unsigned long long)c->modseq);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_ENVELOPE) {
		buf_printf(o, "%sENVELOPE %s", sp, c->envelope != NULL ? c->envelope : "NIL");
		sp = " ";
	}
	if (f->items & IMAP_FETCH_BODYSTRUCTURE) {
		buf_printf(o, "%sBODYSTRUCTURE %s", sp, c->bodystructure != NULL ? c->bodystructure : "NIL");
		sp = " ";
	}
	if (f->items & IMAP_FETCH_BODY) {
		buf_printf(o, "%sBODY %s", sp, c->body != NULL ? c->body : "NIL");
		sp = " ";
	}
	if (f->items & IMAP_FETCH_PREVIEW) {
		const char *p = preview_of(j, c->uid);
		buf_printf(o, "%sPREVIEW ", sp);
		imap_write_nstring(o, p, p != NULL ? strlen(p) : 0, 0);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_RFC822) {
		buf_printf(o, "%sRFC822 ", sp);
		imap_write_literal(o, raw.data != NULL ? raw.data : "", raw.len);
		sp = " ";
	}
	struct buf part;
	buf_init(&part, 0);
	if (f->items & IMAP_FETCH_RFC822_HEADER) {
		struct mime_section sec = { .kind = MIME_SECTION_HEADER };
		mime_section_fetch(msg, &sec, &part);
		buf_printf(o, "%sRFC822.HEADER ", sp);
		imap_write_literal(o, part.data != NULL ? part.data : "", part.len);
		buf_reset(&part);
		sp = " ";
	}
	if (f->items & IMAP_FETCH_RFC822_TEXT) {
		struct mime_section sec = { .kind = MIME_SECTION_TEXT };
		mime_section_fetch(msg, &sec, &part);
		buf_printf(o, "%sRFC822.TEXT ", sp);
		imap_write_literal(o, part.data != NULL ? part.data : "", part.len);
		buf_reset(&part);
		sp = " ";
	}
	int ret = STORE_OK;
	for (size_t i = 0; i < f->body_count; i++) {
		const struct imap_fetch_body *b = &f->bodies[i];
		buf_reset(&part);
		buf_printf(o, "%s%s ", sp, b->reply_name);
		sp = " ";
		switch (b->kind) {
		case IMAP_FETCH_BODY_SECTION:
		case IMAP_FETCH_BODY_PEEK:
			mime_section_fetch(msg, &b->section, &part);
			write_partial(o, b, part.data != NULL ? part.data : "", part.len, false);
			break;
		case IMAP_FETCH_BINARY:
		case IMAP_FETCH_BINARY_PEEK:
		case IMAP_FETCH_BINARY_SIZE: {
			int r = mime_section_fetch_binary(msg, &b->section, &part);
			if (r == -2) {
				ret = -100;	/* UNKNOWN-CTE */
				buf_append_str(o, "NIL");
			} else if (b->kind == IMAP_FETCH_BINARY_SIZE) {
				buf_printf(o, "%zu", part.len);
			} else {
				write_partial(o, b, part.data != NULL ? part.data : "", part.len, true);
			}
			break;
		}
		}
	}
	buf_append_str(o, ")\r\n");
	buf_free(&part);
	mime_free(&msg);
	buf_free(&raw);
	return ret;
}

/* Index of the first view uid >= uid. */
static size_t view_lower_bound(const struct imap_mailbox *m, uint32_t uid)
{
	return imap_uid_lower_bound(m->uids, m->count, uid);
}

/* The next window of view messages that the set touches, as the set clipped
 * to it in j->batch. Returns the number of ranges (0: nothing left) and
 * advances j->pos past the window. */
static size_t next_window(struct fetch_job *j, const struct imap_mailbox *m, size_t batch)
{
	while (j->pos < m->count) {
		size_t end = j->pos + batch < m->count ? j->pos + batch : m->count;
		uint32_t lo = m->uids[j->pos], hi = m->uids[end - 1];
		size_t n = 0;
		uint64_t next_lo = UINT64_MAX;
		for (size_t i = 0; i < j->set_count; i++) {
			uint32_t a = j->set[i].lo, b = j->set[i].hi;
			if (a > b) {
				uint32_t t = a;
				a = b;
				b = t;
			}
			if (a > hi) {
				if (a < next_lo)
					next_lo = a;
				continue;
			}
			if (b < lo)
				continue;
			j->batch[n].lo = a > lo ? a : lo;
			j->batch[n].hi = b < hi ? b : hi;
			n++;
			if (b > hi)
				next_lo = (uint64_t)hi + 1 < next_lo ? (uint64_t)hi + 1 : next_lo;
		}
		if (n > 0) {
			j->pos = end;
			return n;
		}
		if (next_lo == UINT64_MAX) {
			j->pos = m->count;
			break;
		}
		j->pos = view_lower_bound(m, (uint32_t)next_lo);	/* skip a gap */
	}
	return 0;
}

/* One round: \Seen first (once), then the next window of the view. */
static void fetch_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct fetch_job *j = (struct fetch_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	(void)w;
	if (j->set_count == 0 && !j->fetch.vanished) {
		imap_job_tagged(job, "OK %s completed", job->cmd);
		return;
	}
	bool need_raw = (j->fetch.items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_HEADER |
					   IMAP_FETCH_RFC822_TEXT)) != 0 || j->fetch.body_count > 0;
	if (!j->started) {
		j->started = true;
		/* UID FETCH (CHANGEDSINCE n VANISHED): the uids of the set
		 * expunged since n come first (RFC 7162 3.2.6). */
		if (j->fetch.vanished) {
			int r = imap_sync_vanished_earlier(st, m, j->fetch.changedsince, j->vanish,
							   j->vanish_count, &job->out, &error);
			if (r != STORE_OK) {
				imap_job_store_error(job, r, error);
				return;
			}
		}
		j->batch = xcalloc(j->set_count, sizeof(*j->batch));
		bool sets_seen = false;
		for (size_t i = 0; i < j->fetch.body_count; i++)
			sets_seen |= j->fetch.bodies[i].kind == IMAP_FETCH_BODY_SECTION ||
				     j->fetch.bodies[i].kind == IMAP_FETCH_BINARY;
		sets_seen |= (j->fetch.items & (IMAP_FETCH_RFC822 | IMAP_FETCH_RFC822_TEXT)) != 0;
		/* Without the s right (RFC 4314) the fetch just does not set it. */
		if (sets_seen && !m->readonly && (m->rights & IMAP_ACL_SEEN)) {
			struct store_flags_result fr;
			int r = imap_acl_flags_update(m, st, j->set, j->set_count, STORE_FLAGS_ADD,
						      STORE_FLAG_SEEN, NULL, 0, STORE_NO_UNCHANGEDSINCE,
						      &fr, &error);
			if (r == STORE_OK) {
				j->seen_uids = fr.modified;
				j->seen_count = fr.modified_count;
				fr.modified = NULL;
				job->own_uids = j->seen_uids;
				job->own_count = j->seen_count;
				store_flags_result_free(&fr);
			} else if (r != STORE_NOTFOUND) {
				imap_job_store_error(job, r, error);
				return;
			}
		}
		uint32_t min = UINT32_MAX;
		for (size_t i = 0; i < j->set_count; i++) {
			uint32_t a = j->set[i].lo < j->set[i].hi ? j->set[i].lo : j->set[i].hi;
			if (a < min)
				min = a;
		}
		j->pos = view_lower_bound(m, min);
	}
	size_t n = next_window(j, m, need_raw ? FETCH_BATCH_RAW : FETCH_BATCH_META);
	if (n > 0) {
		unsigned what = 0;
		if (j->fetch.items & IMAP_FETCH_ENVELOPE)
			what |= STORE_FETCH_ENVELOPE;
		if (j->fetch.items & (IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_BODY))
			what |= STORE_FETCH_BODYSTRUCTURE;
		int r = store_fetch(st, m->id, j->batch, n, what, meta_collect, j, &error);
		if (r == STORE_OK && (j->fetch.items & IMAP_FETCH_PREVIEW))
			r = store_fetch_previews(st, m->id, j->batch, n, j->fetch.preview_lazy,
						 preview_collect, j, &error);
		if (r != STORE_OK && r != STORE_NOTFOUND) {
			metas_free(j);
			imap_job_store_error(job, r, error);
			return;
		}
		for (size_t i = 0; i < j->meta_count; i++) {
			const struct meta_copy *c = &j->metas[i];
			if (j->fetch.changedsince_set && c->modseq <= j->fetch.changedsince)
				continue;
			uint32_t seq = imap_seq_of(m, c->uid);
			if (seq == 0)
				continue;
			r = render_one(j, st, c, seq, &error);
			if (r == -100) {
				j->unknown_cte = true;
			} else if (r != STORE_OK) {
				metas_free(j);
				imap_job_store_error(job, r, error);
				return;
			}
		}
		metas_free(j);
		if (j->pos < m->count) {
			job->more = true;	/* the next window after this one is sent */
			return;
		}
	}
	if (j->unknown_cte)
		imap_job_tagged(job, "NO [UNKNOWN-CTE] Unknown content transfer encoding");
	else
		imap_job_tagged(job, "OK %s completed", job->cmd);
}

bool imap_parse_msg_set(struct imap_session *s, const struct imap_command *cmd,
			struct imap_pool *pool, bool uid, struct store_uid_range **set_r,
			size_t *count_r)
{
	const char *text, *error = NULL;
	struct imap_seqset set;
	if (cmd->arg_count < 2 || !imap_arg_atom(&cmd->args[0], &text) ||
	    imap_seqset_parse(pool, text, true, 10000, &set, &error) < 0) {
		imap_bad(s, cmd->tag, error != NULL ? error : "Sequence set expected");
		return false;
	}
	if (set.last_result) {
		/* "$" (RFC 5182): the saved messages still in the view. */
		imap_searchres_ranges(s, set_r, count_r);
		return true;
	}
	if (!uid && imap_seqset_max(&set, (uint32_t)s->mbox->count) > s->mbox->count) {
		imap_bad(s, cmd->tag, "Invalid message sequence number");
		return false;
	}
	imap_set_to_uids(s->mbox, pool, &set, uid, set_r, count_r);
	return true;
}

void imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct imap_pool *pool = imap_pool_create();
	struct store_uid_range *set;
	size_t count;
	if (!imap_parse_msg_set(s, cmd, pool, uid, &set, &count)) {
		imap_pool_destroy(&pool);
		return;
	}
	struct imap_fetch fetch;
	const char *error = NULL;
	if (cmd->arg_count > 3 ||
	    imap_fetch_parse(pool, &cmd->args[1], cmd->arg_count == 3 ? &cmd->args[2] : NULL, uid,
			     &fetch, &error) < 0) {
		imap_bad(s, cmd->tag, error != NULL ? error : "Invalid FETCH attributes");
		free(set);
		imap_pool_destroy(&pool);
		return;
	}
	if (fetch.vanished && !s->qresync) {
		imap_bad(s, cmd->tag, "VANISHED needs ENABLE QRESYNC");
		free(set);
		imap_pool_destroy(&pool);
		return;
	}
	struct fetch_job *j = imap_job_new(s, sizeof(*j), cmd, fetch_run,
					   uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	if (fetch.changedsince_set || (fetch.items & IMAP_FETCH_MODSEQ))
		imap_condstore_enable(s, &j->base.out);
	j->base.cleanup = fetch_cleanup;
	if (fetch.vanished) {
		/* The set as sent ("*" as far as uids go): expunged uids above
		 * the last message still count. "$" names saved uids. */
		struct imap_seqset vs;
		const char *text, *e = NULL;
		if (imap_arg_atom(&cmd->args[0], &text) &&
		    imap_seqset_parse(pool, text, true, 10000, &vs, &e) == 0) {
			if (vs.last_result) {
				vs.ranges = imap_pool_alloc(pool, (s->saved_count + 1) *
							    sizeof(*vs.ranges));
				for (size_t i = 0; i < s->saved_count; i++)
					vs.ranges[i].lo = vs.ranges[i].hi = s->saved_uids[i];
				vs.count = s->saved_count;
				vs.last_result = false;
			}
			imap_seqset_resolve(pool, &vs, UINT32_MAX, &j->vanish, &j->vanish_count);
		}
	}
	j->pool = pool;
	j->fetch = fetch;
	j->set = set;
	j->set_count = count;
	imap_job_submit(s, &j->base);
}
