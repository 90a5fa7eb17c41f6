/* Keeping a session's view of its selected mailbox in step with the store
 * (RFC 3501 7.4.1 / RFC 9051 7.5.1): on a worker, after a command ran, the
 * current uid list is compared with the view and the differences are
 * rendered as EXPUNGE (sequence numbers renumbered as they go), EXISTS,
 * RECENT and FETCH FLAGS; the loop thread then adopts the new view. */
#include "autoconf.h"
#include "imap-private.h"
#include "log.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

struct flag_ctx {
	struct imap_job *j;
	const struct imap_mailbox *m;
	const uint32_t *uids;
	size_t count;
	struct imap_recent recent;
};

static uint32_t seq_in(const uint32_t *uids, size_t count, uint32_t uid)
{
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < count && uids[lo] == uid ? (uint32_t)(lo + 1) : 0;
}

static void flag_change(const struct store_msg_meta *meta, void *ctx)
{
	struct flag_ctx *f = ctx;
	/* New messages are announced by EXISTS, not as flag changes. */
	if (imap_seq_of(f->m, meta->uid) == 0)
		return;
	if (seq_in(f->j->own_uids, f->j->own_count, meta->uid) != 0)
		return;
	uint32_t seq = seq_in(f->uids, f->count, meta->uid);
	if (seq == 0)
		return;
	struct buf *out = &f->j->sync.out;
	buf_printf(out, "* %u FETCH (UID %u FLAGS ", seq, meta->uid);
	imap_write_msg_flags(f->m, out, meta->flags, meta->keywords, meta->uid);
	if (f->j->s->condstore)
		buf_printf(out, " MODSEQ (%llu)", (unsigned long long)meta->modseq);
	buf_append_str(out, ")\r\n");
}

void imap_sync_run(struct imap_job *j, struct store *st)
{
	const struct imap_mailbox *m = j->s->mbox;
	struct imap_sync *sy = &j->sync;
	struct store_mailbox_status stt;
	const char *error = NULL;
	sy->recent.lo = 1;
	sy->recent.hi = 0;
	if (store_mailbox_status(st, m->id, &stt, &error) != STORE_OK)
		return;
	if (stt.highestmodseq == m->modseq && stt.uidnext == m->uidnext)
		return;
	uint32_t *uids = NULL;
	size_t n = 0;
	if (store_uids(st, m->id, &uids, &n, &error) != STORE_OK)
		return;
	sy->changed = true;
	sy->uids = uids;
	sy->count = n;
	sy->uidnext = stt.uidnext;
	sy->modseq = stt.highestmodseq;

	size_t removed = 0, k = 0;
	for (size_t i = 0; i < m->count; i++) {
		while (k < n && uids[k] < m->uids[i])
			k++;
		if (k < n && uids[k] == m->uids[i])
			continue;
		buf_printf(&sy->out, "* %zu EXPUNGE\r\n", i + 1 - removed);
		removed++;
		sy->has_expunges = true;
	}
	if (sy->has_expunges && j->sync_mode == IMAP_SYNC_NO_EXPUNGE)
		return;		/* deferred to the next command that allows it */
	if (n != m->count - removed)
		buf_printf(&sy->out, "* %zu EXISTS\r\n", n);
	if (stt.uidnext > m->uidnext) {
		uint32_t first = 0, next = 0;
		if (!m->readonly &&
		    store_mailbox_claim_recent(st, m->id, &first, &next, &error) == STORE_OK &&
		    first < next) {
			sy->recent.lo = first;
			sy->recent.hi = next - 1;
		}
		if (!j->s->rev2) {
			size_t recent = 0;
			for (size_t i = 0; i < n; i++) {
				bool r = uids[i] >= sy->recent.lo && uids[i] <= sy->recent.hi;
				for (size_t q = 0; !r && q < m->recent_count; q++)
					r = uids[i] >= m->recent[q].lo && uids[i] <= m->recent[q].hi;
				recent += r;
			}
			buf_printf(&sy->out, "* %zu RECENT\r\n", recent);
		}
	}
	struct flag_ctx f = { j, m, uids, n, sy->recent };
	uint32_t *vanished = NULL;
	size_t vcount = 0;
	if (store_changes_since(st, m->id, m->modseq, flag_change, &f, &vanished, &vcount,
				&error) != STORE_OK)
		log_warn("imap user=%s event=changes-failed reason=\"%s\"", j->s->address,
			 error != NULL ? error : "");
	free(vanished);
}

void imap_sync_apply(struct imap_session *s, struct imap_sync *sy)
{
	struct imap_mailbox *m = s->mbox;
	free(m->uids);
	m->uids = sy->uids;
	m->count = sy->count;
	sy->uids = NULL;
	m->uidnext = sy->uidnext;
	m->modseq = sy->modseq;
	if (sy->recent.lo <= sy->recent.hi) {
		m->recent = xrealloc(m->recent, (m->recent_count + 1) * sizeof(*m->recent));
		m->recent[m->recent_count++] = sy->recent;
	}
}
