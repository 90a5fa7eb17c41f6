/* SEARCH / UID SEARCH (RFC 3501, RFC 9051 with ESEARCH RFC 4731 and
 * CONDSTORE MODSEQ): the program is parsed here and evaluated by the store
 * (store-mail-search.c) against the session's view, so sequence numbers
 * and \Recent are the client's. */
#include "autoconf.h"
#include "imap-private.h"
#include "store-mail-search.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

struct search_job {
	struct imap_job base;
	struct imap_pool *pool;
	struct imap_search_program *prog;
	bool uid;
	uint32_t *save;			/* RETURN (SAVE): the new "$" (RFC 5182) */
	size_t save_count;
	/* CONTEXT=SEARCH (RFC 5267) return options */
	bool ctx_only;			/* RETURN had only CONTEXT/UPDATE/PARTIAL */
	bool partial;
	uint32_t partial_lo, partial_hi;
	bool update;
	bool noupdate;			/* refused: [NOUPDATE] after the answer */
};

static void max_modseq_cb(const struct store_msg_meta *meta, void *ctx)
{
	uint64_t *ms = ctx;
	if (meta->modseq > *ms)
		*ms = meta->modseq;
}

static void search_cleanup(struct imap_job *job)
{
	struct search_job *j = (struct search_job *)job;
	free(j->save);
	imap_context_free(&job->sync.creating);
	imap_pool_destroy(&j->pool);
}

/* On the loop: RETURN (SAVE) replaces "$", also by nothing when the
 * search failed (RFC 5182 2.1). */
static void search_done(struct imap_job *job)
{
	struct search_job *j = (struct search_job *)job;
	if (j->prog->return_opts & IMAP_SEARCH_RETURN_SAVE) {
		imap_searchres_save(job->s, j->save, j->save_count);
		j->save = NULL;
	}
	if (job->sync.creating != NULL) {	/* RETURN (UPDATE) */
		imap_context_add(job->s, job->sync.creating);
		job->sync.creating = NULL;
	}
}

/* What RETURN (SAVE) keeps: MIN and/or MAX alone keep those, anything else
 * every match (RFC 5182 2.1). uids are ascending. */
static void search_keep(struct search_job *j, const uint32_t *uids, size_t n)
{
	unsigned ro = j->prog->return_opts;
	j->save = xcalloc(n + 1, sizeof(*j->save));
	j->save_count = 0;
	if (n == 0)
		return;
	if ((ro & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT)) == 0 &&
	    (ro & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX)) != 0) {
		if (ro & IMAP_SEARCH_RETURN_MIN)
			j->save[j->save_count++] = uids[0];
		if ((ro & IMAP_SEARCH_RETURN_MAX) && (j->save_count == 0 || uids[n - 1] != uids[0]))
			j->save[j->save_count++] = uids[n - 1];
		return;
	}
	memcpy(j->save, uids, n * sizeof(*uids));
	j->save_count = n;
}

static void search_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct search_job *j = (struct search_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	(void)w;
	struct store_uid_range *recent = xcalloc(m->recent_count + 1, sizeof(*recent));
	for (size_t i = 0; i < m->recent_count; i++) {
		recent[i].lo = m->recent[i].lo;
		recent[i].hi = m->recent[i].hi;
	}
	struct store_search_view view = { m->uids, m->count };
	uint32_t *uids = NULL;
	size_t n = 0;
	uint64_t max_modseq = 0;
	imap_acl_search_rewrite(m, j->pool, &j->prog->root);	/* a reader's own \Seen */
	struct store_search_program *sp =
		imap_search_xlate(j->prog, m->uids, m->count, recent, m->recent_count);
	int r = store_search(st, m->id, sp, &view, &uids, &n, &max_modseq, &error);
	store_search_program_free(&sp);
	free(recent);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	if (j->prog->return_opts & IMAP_SEARCH_RETURN_SAVE)
		search_keep(j, uids, n);
	if (j->update) {
		/* The update context starts from this answer (RFC 5267 4.3). */
		struct imap_update_ctx *ctx = xcalloc(1, sizeof(*ctx));
		ctx->tag = xstrdup(job->tag);
		ctx->uid = j->uid;
		ctx->results = xcalloc(n + 1, sizeof(*ctx->results));
		if (n > 0)
			memcpy(ctx->results, uids, n * sizeof(*uids));
		ctx->count = n;
		ctx->prog = j->prog;
		ctx->pool = j->pool;
		j->pool = NULL;
		job->sync.creating = ctx;
	}
	/* RFC 4731 3.2 / RFC 7162 3.1.5: MODSEQ is the highest mod-sequence
	 * of the messages returned; RETURN (MIN) / (MAX) return one message
	 * each, not the whole set. */
	unsigned mro = j->prog->return_opts & ~IMAP_SEARCH_RETURN_SAVE;
	if (n > 0 && j->prog->uses_modseq && j->prog->esearch && !j->partial && mro != 0 &&
	    (mro & ~(IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX)) == 0) {
		struct store_uid_range ends[2] = { { uids[0], uids[0] }, { uids[n - 1], uids[n - 1] } };
		size_t k = 0;
		if (mro & IMAP_SEARCH_RETURN_MIN)
			k++;
		if (mro & IMAP_SEARCH_RETURN_MAX)
			ends[k++] = ends[1];
		if (k == 2 && ends[0].lo == ends[1].lo)
			k = 1;
		uint64_t ms = 0;
		r = store_fetch(st, m->id, ends, k, 0, max_modseq_cb, &ms, &error);
		if (r != STORE_OK) {
			free(uids);
			imap_job_store_error(job, r, error);
			return;
		}
		max_modseq = ms;
	}
	/* Results as the client numbers them. */
	for (size_t i = 0; i < n && !j->uid; i++)
		uids[i] = imap_seq_of(m, uids[i]);
	struct buf *o = &job->out;
	if (j->prog->esearch && j->prog->return_opts == IMAP_SEARCH_RETURN_SAVE && !j->partial) {
		/* RETURN (SAVE) alone: no ESEARCH response (RFC 5182 2.1). */
	} else if (j->prog->esearch) {
		unsigned ro = j->prog->return_opts;
		if ((ro & ~IMAP_SEARCH_RETURN_SAVE) == 0 && !j->ctx_only)
			ro |= IMAP_SEARCH_RETURN_ALL;
		buf_printf(o, "* ESEARCH (TAG ");
		imap_write_string(o, job->tag, strlen(job->tag), 0);
		buf_append_str(o, ")");
		if (j->uid)
			buf_append_str(o, " UID");
		if (n > 0 && (ro & IMAP_SEARCH_RETURN_MIN))
			buf_printf(o, " MIN %u", uids[0]);
		if (n > 0 && (ro & IMAP_SEARCH_RETURN_MAX))
			buf_printf(o, " MAX %u", uids[n - 1]);
		if (ro & IMAP_SEARCH_RETURN_COUNT)
			buf_printf(o, " COUNT %zu", n);
		if (n > 0 && (ro & IMAP_SEARCH_RETURN_ALL)) {
			struct imap_seq_range *rg = xcalloc(n, sizeof(*rg));
			size_t k = 0;
			for (size_t i = 0; i < n; i++) {
				if (k > 0 && rg[k - 1].hi + 1 == uids[i]) {
					rg[k - 1].hi = uids[i];
				} else {
					rg[k].lo = rg[k].hi = uids[i];
					k++;
				}
			}
			buf_append_str(o, " ALL ");
			imap_write_seqset(o, rg, k);
			free(rg);
		}
		if (j->partial)
			imap_write_partial(o, j->partial_lo, j->partial_hi, uids, n, false);
		if (n > 0 && j->prog->uses_modseq)
			buf_printf(o, " MODSEQ %llu", (unsigned long long)max_modseq);
		buf_append_str(o, "\r\n");
	} else {
		buf_append_str(o, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(o, " %u", uids[i]);
		if (n > 0 && j->prog->uses_modseq)
			buf_printf(o, " (MODSEQ %llu)", (unsigned long long)max_modseq);
		buf_append_str(o, "\r\n");
	}
	free(uids);
	if (j->noupdate)	/* RFC 5267 4.3.1: the rest was honoured */
		buf_printf(o, "* NO [NOUPDATE \"%s\"] Too many update contexts\r\n", job->tag);
	imap_job_tagged(job, j->update ? "OK %s completed, will notify" : "OK %s completed",
			job->cmd);
}

/* The RFC 5267 return options the generic parser does not know: CONTEXT,
 * UPDATE and PARTIAL n:m are taken out of a copy of the RETURN list
 * (into *args_r) and noted in ro. Returns false with the reason. */
struct ctx_opts {
	bool any, only, update, partial;
	uint32_t lo, hi;
};

static bool take_context_opts(struct imap_pool *pool, const struct imap_command *cmd,
			      const struct imap_arg **args_r, struct ctx_opts *o, const char **error_r)
{
	const struct imap_arg *l;
	size_t n;
	*args_r = cmd->args;
	memset(o, 0, sizeof(*o));
	if (cmd->arg_count < 2 || !imap_arg_atom_eq(&cmd->args[0], "RETURN") ||
	    !imap_arg_list(&cmd->args[1], &l, &n))
		return true;
	struct imap_arg *args = imap_pool_alloc(pool, cmd->arg_count * sizeof(*args));
	memcpy(args, cmd->args, cmd->arg_count * sizeof(*args));
	struct imap_arg *kept = imap_pool_alloc(pool, (n + 1) * sizeof(*kept));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const char *range;
		if (imap_arg_atom_eq(&l[i], "CONTEXT")) {
			o->any = true;	/* a hint (RFC 5267 4.2) */
		} else if (imap_arg_atom_eq(&l[i], "UPDATE")) {
			o->any = o->update = true;
		} else if (imap_arg_atom_eq(&l[i], "PARTIAL")) {
			const char *colon;
			char a[16];
			if (o->partial || i + 1 >= n || !imap_arg_atom(&l[i + 1], &range) ||
			    (colon = strchr(range, ':')) == NULL || (size_t)(colon - range) >= sizeof(a)) {
				*error_r = "PARTIAL needs one range n:m";
				return false;
			}
			memcpy(a, range, (size_t)(colon - range));
			a[colon - range] = '\0';
			if (imap_parse_nz_number(a, &o->lo) < 0 ||
			    imap_parse_nz_number(colon + 1, &o->hi) < 0) {
				*error_r = "PARTIAL needs one range n:m";
				return false;
			}
			o->any = o->partial = true;
			i++;
		} else {
			kept[k++] = l[i];
		}
	}
	o->only = o->any && k == 0;
	args[1].list = kept;
	args[1].list_count = k;
	*args_r = args;
	return true;
}

void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct imap_pool *pool = imap_pool_create();
	struct imap_search_limits lim = { 32, 10000 };
	struct imap_search_program *prog = NULL;
	const char *error = NULL;
	const struct imap_arg *args;
	struct ctx_opts co;
	int r = take_context_opts(pool, cmd, &args, &co, &error) ?
		imap_search_parse(pool, args, cmd->arg_count, &lim, &prog, &error) : -1;
	if (r == 0 && co.only)
		prog->return_opts = 0;	/* no ALL implied by RETURN (UPDATE) etc. */
	if (r == 0 && co.partial && (prog->return_opts & IMAP_SEARCH_RETURN_ALL) && !co.only) {
		r = -1;
		error = "PARTIAL and ALL cannot be used together";
	}
	if (r == -2) {
		imap_reply(s, "%s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset", cmd->tag);
		imap_pool_destroy(&pool);
		return;
	}
	if (r == 0 && prog->uses_seqset && s->uidonly) {
		/* RFC 9586 3: no message sequence numbers in a search key. */
		imap_bad(s, cmd->tag, "[UIDREQUIRED] Message sequence numbers are not allowed"
			 " with UIDONLY; use UID set");
		imap_pool_destroy(&pool);
		return;
	}
	if (r < 0) {
		/* A failed SEARCH RETURN (SAVE ...) empties "$" (RFC 5182 2.1). */
		const struct imap_arg *l;
		size_t ln;
		if (cmd->arg_count >= 2 && imap_arg_atom_eq(&cmd->args[0], "RETURN") &&
		    imap_arg_list(&cmd->args[1], &l, &ln))
			for (size_t i = 0; i < ln; i++)
				if (imap_arg_atom_eq(&l[i], "SAVE"))
					imap_searchres_save(s, NULL, 0);
		imap_bad(s, cmd->tag, error != NULL ? error : "Invalid SEARCH");
		imap_pool_destroy(&pool);
		return;
	}
	if (prog->uses_last_result)
		imap_searchres_substitute(s, pool, &prog->root);
	bool update = false, noupdate = false;
	if (co.update) {
		int ok = imap_context_check(s, cmd->tag);
		if (ok < 0) {
			imap_bad(s, cmd->tag, "Tag reuse: an update context has this tag");
			imap_pool_destroy(&pool);
			return;
		}
		if (ok > 0)
			imap_context_fix_seqsets(s, pool, &prog->root);
		update = ok > 0;
		noupdate = ok == 0;
	}
	struct search_job *j = imap_job_new(s, sizeof(*j), cmd, search_run,
					    uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	j->base.cleanup = search_cleanup;
	j->base.done = search_done;
	if (prog->uses_modseq)
		imap_condstore_enable(s, &j->base.out);
	j->pool = pool;
	j->prog = prog;
	j->uid = uid;
	j->ctx_only = co.only;
	j->partial = co.partial;
	j->partial_lo = co.lo < co.hi ? co.lo : co.hi;
	j->partial_hi = co.lo < co.hi ? co.hi : co.lo;
	j->update = update;
	j->noupdate = noupdate;
	imap_job_submit(s, &j->base);
}
