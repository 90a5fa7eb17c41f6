/* Keeping a session's view of its selected mailbox in step with the store
 * (RFC 3501 7.4.1 / RFC 9051 7.5.1): on a worker, after a command ran, the
 * current uid list is compared with the view and the differences are
 * rendered as EXPUNGE (sequence numbers renumbered as they go), EXISTS,
 * RECENT and FETCH FLAGS; the loop thread then adopts the new view. */
#include "autoconf.h"
#include "imap-private.h"
#include "log.h"
#include "store.h"
#include "store-mail-search.h"
#include "store-mail-sort.h"

#include <stdlib.h>
#include <string.h>

struct flag_ctx {
	struct imap_job *j;
	const struct imap_mailbox *m;
	const uint32_t *uids;
	size_t count;
	struct imap_recent recent;
};

size_t imap_lower_bound(const void *base, size_t count, size_t size, size_t offset,
			uint32_t key)
{
	const unsigned char *b = base;
	size_t lo = 0, hi = count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k;
		memcpy(&k, b + mid * size + offset, sizeof(k));
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

size_t imap_uid_lower_bound(const uint32_t *uids, size_t count, uint32_t uid)
{
	return imap_lower_bound(uids, count, sizeof(*uids), 0, uid);
}

uint32_t imap_uid_position(const uint32_t *uids, size_t count, uint32_t uid)
{
	size_t lo = imap_uid_lower_bound(uids, count, uid);
	return lo < count && uids[lo] == uid ? (uint32_t)(lo + 1) : 0;
}

static void flag_change(const struct store_msg_meta *meta, void *ctx)
{
	struct flag_ctx *f = ctx;
	/* New messages are announced by EXISTS, not as flag changes. */
	if (imap_seq_of(f->m, meta->uid) == 0)
		return;
	if (imap_uid_position(f->j->own_uids, f->j->own_count, meta->uid) != 0)
		return;
	uint32_t seq = imap_uid_position(f->uids, f->count, meta->uid);
	if (seq == 0)
		return;
	struct buf *out = &f->j->sync.out;
	imap_flags_announce(f->m, out, meta->keywords);
	if (imap_fetch_begin(f->j->s, out, seq, meta->uid, false, true))
		buf_append_str(out, " ");
	buf_append_str(out, "FLAGS ");
	imap_write_msg_flags(f->m, out, meta->flags, meta->keywords, meta->uid);
	if (f->j->s->condstore)
		buf_printf(out, " MODSEQ (%llu)", (unsigned long long)meta->modseq);
	buf_append_str(out, ")\r\n");
}

/* ---- CONTEXT (RFC 5267) update contexts ---- */

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* A sorted copy of v for membership tests. */
static uint32_t *sorted_copy(const uint32_t *v, size_t n)
{
	uint32_t *c = xcalloc(n + 1, sizeof(*c));
	if (n > 0) {
		memcpy(c, v, n * sizeof(*c));
		qsort(c, n, sizeof(*c), u32_cmp);
	}
	return c;
}

/* "* ESEARCH (TAG "t") [UID] " for an update of context c. */
static void esearch_head(struct buf *o, const struct imap_update_ctx *c)
{
	buf_append_str(o, "* ESEARCH (TAG ");
	imap_write_string(o, c->tag, strlen(c->tag), 0);
	buf_append_str(o, c->uid ? ") UID " : ") ");
}

/* End one ADDTO or REMOVEFROM (RFC 5267 4.3): the numbers of a SEARCH
 * context as "0 set" (no positions), then the response if it has items;
 * items is emptied for the next one. */
static void ctx_update_write(struct buf *dst, const struct imap_update_ctx *c, const char *what,
			     struct buf *items, uint32_t *nums, size_t k)
{
	if (!c->sort && k > 0) {
		qsort(nums, k, sizeof(*nums), u32_cmp);
		buf_append_str(items, "0 ");
		imap_write_uid_set(items, nums, k);
	}
	if (items->len > 0) {
		esearch_head(dst, c);
		buf_printf(dst, "%s (%s)\r\n", what, items->data);
	}
	buf_reset(items);
}

/* The REMOVEFROM (into pre) and ADDTO (into post) turning c's result into
 * nr[nn]. Numbers are uids, or sequence numbers of the old view (m) for
 * removals and of the new view (nv) for additions. SEARCH contexts use
 * position 0 and a compact set, SORT contexts exact positions. */
static void context_diff(const struct imap_update_ctx *c, const struct imap_mailbox *m,
			 const uint32_t *nv, size_t nvn, const uint32_t *nr, size_t nn,
			 struct buf *pre, struct buf *post)
{
	uint32_t *old_s = sorted_copy(c->results, c->count), *new_s = sorted_copy(nr, nn);
	uint32_t *nums = xcalloc((c->count > nn ? c->count : nn) + 1, sizeof(*nums));
	size_t k = 0, pos = 1;
	struct buf items;
	buf_init(&items, 0);
	for (size_t i = 0; i < c->count; i++) {
		uint32_t u = c->results[i];
		if (bsearch(&u, new_s, nn, sizeof(*new_s), u32_cmp) != NULL) {
			pos++;
			continue;
		}
		uint32_t num = c->uid ? u : imap_seq_of(m, u);
		if (c->sort)
			buf_printf(&items, "%s%zu %u", items.len > 0 ? " " : "", pos, num);
		else
			nums[k++] = num;
	}
	ctx_update_write(pre, c, "REMOVEFROM", &items, nums, k);
	k = 0;
	for (size_t i = 0; i < nn; i++) {
		uint32_t u = nr[i];
		if (bsearch(&u, old_s, c->count, sizeof(*old_s), u32_cmp) != NULL)
			continue;
		uint32_t num = c->uid ? u : imap_uid_position(nv, nvn, u);
		if (c->sort)
			buf_printf(&items, "%s%zu %u", items.len > 0 ? " " : "", i + 1, num);
		else
			nums[k++] = num;
	}
	ctx_update_write(post, c, "ADDTO", &items, nums, k);
	buf_free(&items);
	free(nums);
	free(old_s);
	free(new_s);
}

/* Re-evaluate every update context (and the one this job creates) over
 * the new view and render what changed; the new results wait in the sync
 * for imap_sync_apply. */
static void contexts_update(struct imap_job *j, struct store *st, const uint32_t *nv, size_t nvn,
			    struct buf *pre, struct buf *post)
{
	struct imap_sync *sy = &j->sync;
	const struct imap_mailbox *m = j->s->mbox;
	size_t total = j->s->context_count + (sy->creating != NULL);
	if (total == 0)
		return;
	sy->ctx_results = xcalloc(total, sizeof(*sy->ctx_results));
	sy->ctx_counts = xcalloc(total, sizeof(*sy->ctx_counts));
	sy->ctx_n = total;
	struct imap_update_ctx *c = j->s->contexts;
	for (size_t i = 0; i < total; i++, c = c != NULL ? c->next : NULL) {
		struct imap_update_ctx *x = c != NULL ? c : sy->creating;
		const char *error = NULL;
		uint32_t *res = NULL;
		size_t rn = 0;
		if (imap_context_eval(st, m, nv, nvn, &sy->recent, x->prog, x->crit,
				      x->sort ? x->crit_count : 0, &res, &rn, &error) != STORE_OK) {
			log_warn("imap user=%s event=context-update-failed tag=%s reason=\"%s\"",
				 j->s->address, x->tag, error != NULL ? error : "");
			continue;
		}
		context_diff(x, m, nv, nvn, res, rn, pre, post);
		sy->ctx_results[i] = res;
		sy->ctx_counts[i] = rn;
	}
}

int imap_context_eval(struct store *st, const struct imap_mailbox *m, const uint32_t *uids,
		      size_t count, const struct imap_recent *extra_recent,
		      const struct imap_search_program *prog, const struct imap_sort_criterion *crit,
		      size_t crit_count, uint32_t **result_r, size_t *result_count_r,
		      const char **error_r)
{
	struct store_uid_range *recent = xcalloc(m->recent_count + 2, sizeof(*recent));
	size_t nr = 0;
	for (size_t i = 0; i < m->recent_count; i++, nr++) {
		recent[nr].lo = m->recent[i].lo;
		recent[nr].hi = m->recent[i].hi;
	}
	if (extra_recent != NULL && extra_recent->lo <= extra_recent->hi) {
		recent[nr].lo = extra_recent->lo;
		recent[nr].hi = extra_recent->hi;
		nr++;
	}
	struct store_search_view view = { uids, count };
	uint32_t *match = NULL;
	size_t n = 0;
	uint64_t max_modseq = 0;
	int r = STORE_OK;
	const struct imap_search_key *top = prog->root.children;
	if (top == NULL || (top->type == IMAP_SEARCH_ALL && top->next == NULL)) {
		/* ALL: the view itself, without reading every message */
		match = xcalloc(count + 1, sizeof(*match));
		if (count > 0)
			memcpy(match, uids, count * sizeof(*uids));
		n = count;
	} else {
		/* translated against this view at every run: an update
		 * context's program is re-run over newer views */
		struct store_search_program *sp = imap_search_xlate(prog, uids, count, recent, nr);
		r = store_search(st, m->id, sp, &view, &match, &n, &max_modseq, error_r);
		store_search_program_free(&sp);
	}
	free(recent);
	*result_r = NULL;
	*result_count_r = 0;
	if (r != STORE_OK)
		return r;
	if (crit_count == 0) {
		*result_r = match;
		*result_count_r = n;
		return STORE_OK;
	}
	r = imap_sort_compute(st, m->id, match, n, crit, crit_count, result_r, result_count_r,
			      error_r);
	free(match);
	return r;
}

void imap_context_fix_seqsets(const struct imap_session *s, struct imap_pool *pool,
			      struct imap_search_key *key)
{
	const struct imap_mailbox *m = s->mbox;
	for (; key != NULL; key = key->next) {
		if (key->type == IMAP_SEARCH_SEQSET && !key->set.last_result) {
			struct imap_seq_range *r;
			size_t n;
			imap_seqset_resolve(pool, &key->set, (uint32_t)m->count, &r, &n);
			struct imap_seq_range *u = imap_pool_alloc(pool, (n + 1) * sizeof(*u));
			size_t k = 0;
			for (size_t i = 0; i < n; i++) {
				if (r[i].lo > m->count)
					continue;
				uint32_t hi = r[i].hi < m->count ? r[i].hi : (uint32_t)m->count;
				u[k].lo = m->uids[r[i].lo - 1];
				u[k].hi = m->uids[hi - 1];
				k++;
			}
			key->type = IMAP_SEARCH_UIDSET;
			key->set.ranges = u;
			key->set.count = k;
			if (k == 0) {
				/* nothing: a range no uid can be in */
				key->set.ranges[0].lo = key->set.ranges[0].hi = UINT32_MAX;
				key->set.count = 1;
				key->type = IMAP_SEARCH_NOT;
				key->children = imap_pool_alloc(pool, sizeof(*key->children));
				memset(key->children, 0, sizeof(*key->children));
				key->children->type = IMAP_SEARCH_ALL;
			}
		}
		imap_context_fix_seqsets(s, pool, key->children);
	}
}

int imap_context_check(const struct imap_session *s, const char *tag)
{
	for (const struct imap_update_ctx *c = s->contexts; c != NULL; c = c->next)
		if (strcmp(c->tag, tag) == 0)
			return -1;
	return s->context_count >= IMAP_MAX_UPDATE_CONTEXTS ? 0 : 1;
}

void imap_context_add(struct imap_session *s, struct imap_update_ctx *ctx)
{
	struct imap_update_ctx **pp = &s->contexts;
	while (*pp != NULL)
		pp = &(*pp)->next;
	ctx->next = NULL;
	*pp = ctx;
	s->context_count++;
}

void imap_context_free(struct imap_update_ctx **ctxp)
{
	struct imap_update_ctx *c = *ctxp;
	if (c == NULL)
		return;
	free(c->tag);
	free(c->results);
	imap_pool_destroy(&c->pool);
	free(c);
	*ctxp = NULL;
}

void imap_context_free_all(struct imap_session *s)
{
	while (s->contexts != NULL) {
		struct imap_update_ctx *next = s->contexts->next;
		imap_context_free(&s->contexts);
		s->contexts = next;
	}
	s->context_count = 0;
}

void imap_cmd_cancelupdate(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->arg_count == 0) {
		imap_bad(s, cmd->tag, "CANCELUPDATE needs the tags of searching commands");
		return;
	}
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const char *tag;
		size_t len;
		if (!imap_arg_astring(&cmd->args[i], &tag, &len)) {
			imap_bad(s, cmd->tag, "CANCELUPDATE takes quoted tags");
			return;
		}
	}
	for (size_t i = 0; i < cmd->arg_count; i++) {
		const char *tag;
		size_t len;
		imap_arg_astring(&cmd->args[i], &tag, &len);
		for (struct imap_update_ctx **pp = &s->contexts; *pp != NULL; pp = &(*pp)->next) {
			if (strcmp((*pp)->tag, tag) == 0) {
				struct imap_update_ctx *next = (*pp)->next;
				imap_context_free(pp);
				*pp = next;
				s->context_count--;
				break;
			}
		}
	}
	imap_reply(s, "%s OK CANCELUPDATE completed, no further updates", cmd->tag);
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
	struct buf exp;
	buf_init(&exp, 0);
	/* With QRESYNC the expunged uids go out as one VANISHED (RFC 7162
	 * 3.2.10) instead of an EXPUNGE per message; so with UIDONLY
	 * (RFC 9586 3.4). */
	uint32_t *gone = imap_use_vanished(j->s) ? xcalloc(m->count + 1, sizeof(*gone)) : NULL;
	for (size_t i = 0; i < m->count; i++) {
		while (k < n && uids[k] < m->uids[i])
			k++;
		if (k < n && uids[k] == m->uids[i])
			continue;
		if (gone != NULL)
			gone[removed] = m->uids[i];
		else
			buf_printf(&exp, "* %zu EXPUNGE\r\n", i + 1 - removed);
		removed++;
		sy->has_expunges = true;
	}
	if (gone != NULL && removed > 0) {
		buf_append_str(&exp, "* VANISHED ");
		imap_write_uid_set(&exp, gone, removed);
		buf_append_str(&exp, "\r\n");
	}
	free(gone);
	if (sy->has_expunges && j->sync_mode == IMAP_SYNC_NO_EXPUNGE) {
		buf_free(&exp);
		return;		/* deferred to the next command that allows it */
	}
	if (n != m->count - removed)
		buf_printf(&sy->out, "* %zu EXISTS\r\n", n);
	if (stt.uidnext > m->uidnext) {
		uint32_t first = 0, next = 0;
		/* \Recent is the owner's: a reader of a shared one never claims. */
		if (!m->readonly && !m->private_seen &&
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
	/* RFC 5267 4.3: REMOVEFROM before the EXPUNGEs (old numbers), ADDTO
	 * after EXISTS and FETCH (new numbers). */
	struct buf pre, post, all;
	buf_init(&pre, 0);
	buf_init(&post, 0);
	buf_init(&all, 0);
	contexts_update(j, st, uids, n, &pre, &post);
	buf_append(&all, pre.data != NULL ? pre.data : "", pre.len);
	buf_append(&all, exp.data != NULL ? exp.data : "", exp.len);
	buf_append(&all, sy->out.data != NULL ? sy->out.data : "", sy->out.len);
	buf_append(&all, post.data != NULL ? post.data : "", post.len);
	buf_free(&sy->out);
	sy->out = all;
	buf_free(&pre);
	buf_free(&post);
	buf_free(&exp);
}

void imap_sync_free(struct imap_sync *sy)
{
	free(sy->uids);
	sy->uids = NULL;
	buf_free(&sy->out);
	for (size_t i = 0; i < sy->ctx_n; i++)
		free(sy->ctx_results[i]);
	free(sy->ctx_results);
	free(sy->ctx_counts);
	sy->ctx_results = NULL;
	sy->ctx_counts = NULL;
	sy->ctx_n = 0;
}

void imap_sync_apply(struct imap_session *s, struct imap_sync *sy)
{
	struct imap_mailbox *m = s->mbox;
	/* The contexts in the order the sync saw them (a new one last). */
	size_t i = 0;
	for (struct imap_update_ctx *c = s->contexts; c != NULL && i < sy->ctx_n; c = c->next, i++) {
		if (sy->ctx_results[i] == NULL)
			continue;	/* evaluation failed: left as it was */
		free(c->results);
		c->results = sy->ctx_results[i];
		c->count = sy->ctx_counts[i];
		sy->ctx_results[i] = NULL;
	}
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

static bool keyword_known(const struct buf *known, const char *kw, size_t len)
{
	const char *p = known->data;
	for (size_t i = 0; p != NULL && i + len + 1 < known->len; i++) {
		if (p[i] == ' ' && p[i + len + 1] == ' ' && str_ncasecmp(p + i + 1, kw, len) == 0)
			return true;
	}
	return false;
}

void imap_flags_announce(const struct imap_mailbox *m, struct buf *out, const char *keywords)
{
	if (m == NULL || m->keywords == NULL || keywords == NULL || keywords[0] == '\0')
		return;
	bool added = false;
	for (const char *p = keywords; *p != '\0';) {
		size_t len = strcspn(p, " ");
		if (len > 0 && !keyword_known(m->keywords, p, len)) {
			if (m->keywords->len == 0)
				buf_append_str(m->keywords, " ");
			buf_append(m->keywords, p, len);
			buf_append_str(m->keywords, " ");
			added = true;
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	if (!added)
		return;
	size_t kl = m->keywords->len;
	buf_printf(out, "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft %.*s)\r\n",
		   (int)(kl > 2 ? kl - 2 : 0), m->keywords->data + 1);
	imap_acl_permanentflags(m, out);
}

void imap_condstore_enable(struct imap_session *s, struct buf *out)
{
	if (s->condstore)
		return;
	s->condstore = true;
	/* RFC 7162 3.1: the server MUST send the HIGHESTMODSEQ response code
	 * once a CONDSTORE enabling command other than SELECT/EXAMINE turns
	 * CONDSTORE on in a selected mailbox. */
	if (s->mbox != NULL && out != NULL)
		buf_printf(out, "* OK [HIGHESTMODSEQ %" PRIu64 "] Highest\r\n", s->mbox->modseq);
}

void imap_write_uid_set(struct buf *out, const uint32_t *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k + 1 < n && v[k + 1] == v[k] + 1)
			k++;
		if (k > i)
			buf_printf(out, "%s%u:%u", i > 0 ? "," : "", v[i], v[k]);
		else
			buf_printf(out, "%s%u", i > 0 ? "," : "", v[i]);
		i = k + 1;
	}
}

static bool in_ranges(const struct imap_seq_range *r, size_t n, uint32_t v)
{
	size_t lo = IMAP_LOWER_BOUND(r, n, hi, v);
	return lo < n && r[lo].lo <= v && v <= r[lo].hi;
}

int imap_sync_vanished_earlier(struct store *st, const struct imap_mailbox *m, uint64_t modseq,
			       const struct imap_seq_range *known, size_t known_count,
			       struct buf *out, const char **error_r)
{
	uint32_t *gone = NULL;
	size_t n = 0;
	int r = store_vanished_since(st, m->id, modseq, &gone, &n, error_r);
	if (r != STORE_OK)
		return r;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		/* A uid still in the view was not expunged as the client sees it
		 * (only possible for a fallback answer); known restricts. */
		if (imap_seq_of(m, gone[i]) != 0)
			continue;
		if (known != NULL && !in_ranges(known, known_count, gone[i]))
			continue;
		gone[k++] = gone[i];
	}
	if (k > 0) {
		buf_append_str(out, "* VANISHED (EARLIER) ");
		imap_write_uid_set(out, gone, k);
		buf_append_str(out, "\r\n");
	}
	free(gone);
	return STORE_OK;
}

void imap_searchres_save(struct imap_session *s, uint32_t *uids, size_t count)
{
	free(s->saved_uids);
	s->saved_uids = uids;
	s->saved_count = count;
}

void imap_searchres_ranges(const struct imap_session *s, struct store_uid_range **ranges_r,
			   size_t *count_r)
{
	struct store_uid_range *r = xcalloc(s->saved_count + 1, sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < s->saved_count; i++) {
		uint32_t u = s->saved_uids[i];
		if (s->mbox == NULL || imap_seq_of(s->mbox, u) == 0)
			continue;	/* expunged since it was saved */
		if (k > 0 && r[k - 1].hi + 1 == u) {
			r[k - 1].hi = u;
		} else {
			r[k].lo = r[k].hi = u;
			k++;
		}
	}
	*ranges_r = r;
	*count_r = k;
}

void imap_searchres_substitute(const struct imap_session *s, struct imap_pool *pool,
			       struct imap_search_key *key)
{
	for (; key != NULL; key = key->next) {
		if ((key->type == IMAP_SEARCH_SEQSET || key->type == IMAP_SEARCH_UIDSET) &&
		    key->set.last_result) {
			struct imap_seq_range *r = imap_pool_alloc(pool, (s->saved_count + 1) *
								   sizeof(*r));
			size_t k = 0;
			for (size_t i = 0; i < s->saved_count; i++) {
				uint32_t u = s->saved_uids[i];
				if (k > 0 && r[k - 1].hi + 1 == u) {
					r[k - 1].hi = u;
				} else {
					r[k].lo = r[k].hi = u;
					k++;
				}
			}
			key->type = IMAP_SEARCH_UIDSET;
			key->set.last_result = false;
			key->set.ranges = r;
			key->set.count = k;
		}
		imap_searchres_substitute(s, pool, key->children);
	}
}
