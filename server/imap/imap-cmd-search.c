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
};

static void search_cleanup(struct imap_job *job)
{
	imap_pool_destroy(&((struct search_job *)job)->pool);
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
	struct store_search_view view = { m->uids, m->count, recent, m->recent_count };
	uint32_t *uids = NULL;
	size_t n = 0;
	uint64_t max_modseq = 0;
	int r = store_search(st, m->id, j->prog, &view, &uids, &n, &max_modseq, &error);
	free(recent);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	/* Results as the client numbers them. */
	for (size_t i = 0; i < n && !j->uid; i++)
		uids[i] = imap_seq_of(m, uids[i]);
	struct buf *o = &job->out;
	if (j->prog->esearch) {
		unsigned ro = j->prog->return_opts;
		if ((ro & ~IMAP_SEARCH_RETURN_SAVE) == 0)
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
	imap_job_tagged(job, "OK %s completed", job->cmd);
}

void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = strcmp(cmd->name, "UID SEARCH") == 0;
	struct imap_pool *pool = imap_pool_create();
	struct imap_search_limits lim = { 32, 10000 };
	struct imap_search_program *prog = NULL;
	const char *error = NULL;
	int r = imap_search_parse(pool, cmd->args, cmd->arg_count, &lim, &prog, &error);
	if (r == -2) {
		imap_reply(s, "%s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset", cmd->tag);
		imap_pool_destroy(&pool);
		return;
	}
	if (r < 0 || prog->uses_last_result) {
		imap_bad(s, cmd->tag, error != NULL ? error : "SEARCHRES ($) is not supported");
		imap_pool_destroy(&pool);
		return;
	}
	if (prog->uses_modseq)
		s->condstore = true;
	struct search_job *j = imap_job_new(s, sizeof(*j), cmd, search_run,
					    uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	j->base.cleanup = search_cleanup;
	j->pool = pool;
	j->prog = prog;
	j->uid = uid;
	imap_job_submit(s, &j->base);
}
