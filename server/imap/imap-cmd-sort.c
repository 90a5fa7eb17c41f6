/* SORT / UID SORT (RFC 5256, ESORT RFC 5267, SORT=DISPLAY RFC 5957) and
 * THREAD / UID THREAD (ORDEREDSUBJECT, REFERENCES). The search program is
 * evaluated by the store like SEARCH; the sort keys come precomputed from
 * message_sort_keys (store-mail-sort.c: base subject, casemapped address
 * keys, normalised message ids; never by re-parsing the messages), and the
 * ordering and threading are the pure ones of proto/imap_sort.c. */
#include "autoconf.h"
#include "imap-private.h"
#include "imap_sort.h"
#include "conn.h"
#include "store-mail-search.h"
#include "store-mail-sort.h"
#include "store.h"

#include <stdlib.h>
#include <string.h>

#define SORT_MAX_CRITERIA 16

struct sort_job {
	struct imap_job base;
	bool partial;			/* RETURN (PARTIAL lo:hi) */
	uint32_t partial_lo, partial_hi;
	bool update;			/* RETURN (UPDATE): an update context */
	bool noupdate;			/* refused: [NOUPDATE] after the answer */
	struct imap_pool *pool;
	struct imap_search_program *prog;
	bool uid;
	bool thread;
	enum imap_thread_alg alg;
	struct imap_sort_criterion crit[SORT_MAX_CRITERIA];
	size_t crit_count;
	bool esort;			/* RETURN (...) given: answer ESEARCH */
	unsigned ret;			/* IMAP_SEARCH_RETURN_* */
	uint32_t *save;			/* RETURN (SAVE): the new "$" */
	size_t save_count;
};

/* Rows of the mailbox that matched, with their computed keys. */
struct sort_collect {
	const uint32_t *match;		/* ascending */
	size_t match_count, pos;
	unsigned need;			/* which keys to compute */
	const struct imap_mailbox *m;	/* THREAD: numbers messages */
	bool uid;			/* THREAD: print uids */
	struct imap_sort_msg *msgs;	/* SORT */
	struct imap_thread_msg *tmsgs;	/* THREAD */
	size_t count;
};

#define NEED_SUBJECT 0x01
#define NEED_FROM 0x02
#define NEED_TO 0x04
#define NEED_CC 0x08
#define NEED_DISPLAYFROM 0x10
#define NEED_DISPLAYTO 0x20

static void sort_cleanup(struct imap_job *job)
{
	struct sort_job *j = (struct sort_job *)job;
	free(j->save);
	imap_context_free(&job->sync.creating);
	imap_pool_destroy(&j->pool);
}

static void sort_done(struct imap_job *job)
{
	struct sort_job *j = (struct sort_job *)job;
	if (j->ret & IMAP_SEARCH_RETURN_SAVE) {
		imap_searchres_save(job->s, j->save, j->save_count);
		j->save = NULL;
	}
	if (job->sync.creating != NULL) {
		imap_context_add(job->s, job->sync.creating);
		job->sync.creating = NULL;
	}
}

static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A string key: copied, or the shared "" when absent or not asked for. */
static const char empty[] = "";

static const char *key_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : empty;
}

static void sort_row(const struct store_sort_row *row, void *ctx)
{
	struct sort_collect *c = ctx;
	while (c->pos < c->match_count && c->match[c->pos] < row->uid)
		c->pos++;
	if (c->pos >= c->match_count || c->match[c->pos] != row->uid)
		return;
	if (c->tmsgs != NULL) {
		struct imap_thread_msg *t = &c->tmsgs[c->count++];
		t->id = c->uid ? row->uid : imap_seq_of(c->m, row->uid);
		t->seq = row->uid;	/* uid order is sequence order */
		t->date = row->sentdate;
		t->subject = xstrdup(row->base_subject != NULL ? row->base_subject : "");
		t->is_reply = row->is_reply;
		t->message_id = dup_or_null(row->message_id);
		t->references = dup_or_null(row->references);
		return;
	}
	struct imap_sort_msg *s = &c->msgs[c->count++];
	s->uid = row->uid;
	s->seq = row->uid;	/* the tie-break: uid order is sequence order */
	s->arrival = row->internaldate;
	s->date = row->sentdate;
	s->size = row->size;
	/* the string keys come casemapped from the store (RFC 5256 7) */
	s->subject = (c->need & NEED_SUBJECT) ? key_dup(row->subject_key) : empty;
	s->from = (c->need & NEED_FROM) ? key_dup(row->from_key) : empty;
	s->to = (c->need & NEED_TO) ? key_dup(row->to_key) : empty;
	s->cc = (c->need & NEED_CC) ? key_dup(row->cc_key) : empty;
	s->displayfrom = (c->need & NEED_DISPLAYFROM) ? key_dup(row->displayfrom_key) : empty;
	s->displayto = (c->need & NEED_DISPLAYTO) ? key_dup(row->displayto_key) : empty;
}

static void free_key(const char *s)
{
	if (s != empty)
		free((char *)s);
}

static void collect_free(struct sort_collect *c)
{
	for (size_t i = 0; c->msgs != NULL && i < c->count; i++) {
		free_key(c->msgs[i].subject);
		free_key(c->msgs[i].from);
		free_key(c->msgs[i].to);
		free_key(c->msgs[i].cc);
		free_key(c->msgs[i].displayfrom);
		free_key(c->msgs[i].displayto);
	}
	for (size_t i = 0; c->tmsgs != NULL && i < c->count; i++) {
		free((char *)c->tmsgs[i].subject);
		free((char *)c->tmsgs[i].message_id);
		free((char *)c->tmsgs[i].references);
	}
	free(c->msgs);
	free(c->tmsgs);
}

static unsigned sort_needs(const struct imap_sort_criterion *crit, size_t n)
{
	unsigned need = 0;
	for (size_t i = 0; i < n; i++) {
		switch (crit[i].key) {
		case IMAP_SORT_FROM: need |= NEED_FROM; break;
		case IMAP_SORT_TO: need |= NEED_TO; break;
		case IMAP_SORT_CC: need |= NEED_CC; break;
		case IMAP_SORT_DISPLAYFROM: need |= NEED_DISPLAYFROM; break;
		case IMAP_SORT_DISPLAYTO: need |= NEED_DISPLAYTO; break;
		case IMAP_SORT_SUBJECT: need |= NEED_SUBJECT; break;
		default: break;
		}
	}
	return need;
}

int imap_sort_compute(struct store *st, uint64_t mailbox_id, const uint32_t *match,
		      size_t match_count, const struct imap_sort_criterion *crit,
		      size_t crit_count, uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	struct sort_collect c = { .match = match, .match_count = match_count };
	c.need = sort_needs(crit, crit_count);
	c.msgs = xcalloc(match_count + 1, sizeof(*c.msgs));
	int r = STORE_OK;
	if (match_count > 0)
		r = store_sort_load(st, mailbox_id, c.need != 0 ? STORE_SORT_KEYS : 0, sort_row,
				    &c, error_r);
	*uids_r = NULL;
	*count_r = 0;
	if (r == STORE_OK) {
		imap_sort_messages(c.msgs, c.count, crit, crit_count);
		uint32_t *out = xcalloc(c.count + 1, sizeof(*out));
		for (size_t i = 0; i < c.count; i++)
			out[i] = c.msgs[i].uid;
		*uids_r = out;
		*count_r = c.count;
	}
	collect_free(&c);
	return r;
}

void imap_write_partial(struct buf *o, uint32_t lo, uint32_t hi, const uint32_t *v, size_t n,
			bool ordered)
{
	if (lo > hi) {
		uint32_t t = lo;
		lo = hi;
		hi = t;
	}
	buf_printf(o, " PARTIAL (%u:%u ", lo, hi);
	if (lo > n) {
		buf_append_str(o, "NIL)");
		return;
	}
	size_t end = hi < n ? hi : n;
	if (ordered) {
		imap_write_uid_set(o, v + lo - 1, end - lo + 1);
	} else {
		struct imap_seq_range *rg = xcalloc(end - lo + 2, sizeof(*rg));
		size_t k = 0;
		for (size_t i = lo - 1; i < end; i++) {
			if (k > 0 && rg[k - 1].hi + 1 == v[i]) {
				rg[k - 1].hi = v[i];
			} else {
				rg[k].lo = rg[k].hi = v[i];
				k++;
			}
		}
		imap_write_seqset(o, rg, k);
		free(rg);
	}
	buf_append_str(o, ")");
}

static void thread_run(struct sort_job *j, struct store *st, const uint32_t *uids, size_t n)
{
	struct imap_job *job = &j->base;
	const char *error = NULL;
	struct sort_collect c = { .match = uids, .match_count = n, .m = job->s->mbox,
				  .uid = j->uid };
	c.tmsgs = xcalloc(n + 1, sizeof(*c.tmsgs));
	int r = STORE_OK;
	if (n > 0)
		r = store_sort_load(st, job->s->mbox->id, STORE_SORT_THREADING, sort_row, &c,
				    &error);
	if (r != STORE_OK) {
		collect_free(&c);
		imap_job_store_error(job, r, error);
		return;
	}
	buf_append_str(&job->out, "* THREAD");
	if (c.count > 0)
		buf_append_str(&job->out, " ");
	imap_thread(c.tmsgs, c.count, j->alg, &job->out);
	buf_append_str(&job->out, "\r\n");
	collect_free(&c);
	imap_job_tagged(job, "OK %s completed", job->cmd);
}

static void sort_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct sort_job *j = (struct sort_job *)job;
	const struct imap_mailbox *m = job->s->mbox;
	const char *error = NULL;
	(void)w;
	uint32_t *uids = NULL, *sorted = NULL;
	size_t n = 0, count = 0;
	imap_acl_search_rewrite(m, j->pool, &j->prog->root);	/* a reader's own \Seen */
	int r = imap_context_eval(st, m, m->uids, m->count, NULL, j->prog, NULL, 0, &uids, &n,
				  &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	if (j->thread) {
		thread_run(j, st, uids, n);
		free(uids);
		return;
	}
	r = imap_sort_compute(st, m->id, uids, n, j->crit, j->crit_count, &sorted, &count, &error);
	free(uids);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	if (j->ret & IMAP_SEARCH_RETURN_SAVE) {
		/* "$" keeps messages, not their order (RFC 5182 2.4): MIN
		 * and MAX are the first and last in sort order. */
		unsigned ro = j->ret;
		j->save = xcalloc(count + 1, sizeof(*j->save));
		bool only_ends = (ro & (IMAP_SEARCH_RETURN_ALL | IMAP_SEARCH_RETURN_COUNT)) == 0 &&
				 (ro & (IMAP_SEARCH_RETURN_MIN | IMAP_SEARCH_RETURN_MAX)) != 0;
		for (size_t i = 0; i < count; i++) {
			bool keep = !only_ends || ((ro & IMAP_SEARCH_RETURN_MIN) && i == 0) ||
				    ((ro & IMAP_SEARCH_RETURN_MAX) && i + 1 == count);
			if (keep)
				j->save[j->save_count++] = sorted[i];
		}
		/* ascending for imap_searchres_* */
		for (size_t a = 1; a < j->save_count; a++)
			for (size_t b = a; b > 0 && j->save[b - 1] > j->save[b]; b--) {
				uint32_t t = j->save[b];
				j->save[b] = j->save[b - 1];
				j->save[b - 1] = t;
			}
	}
	uint32_t *out = xcalloc(count + 1, sizeof(*out));
	for (size_t i = 0; i < count; i++)
		out[i] = j->uid ? sorted[i] : imap_seq_of(m, sorted[i]);
	struct buf *o = &job->out;
	if (!j->esort) {
		buf_append_str(o, "* SORT");
		for (size_t i = 0; i < count; i++)
			buf_printf(o, " %u", out[i]);
		buf_append_str(o, "\r\n");
	} else if (j->ret != IMAP_SEARCH_RETURN_SAVE || j->partial) {
		unsigned ro = j->ret;
		buf_append_str(o, "* ESEARCH (TAG ");
		imap_write_string(o, job->tag, strlen(job->tag), 0);
		buf_append_str(o, ")");
		if (j->uid)
			buf_append_str(o, " UID");
		if (count > 0 && (ro & IMAP_SEARCH_RETURN_MIN))
			buf_printf(o, " MIN %u", out[0]);
		if (count > 0 && (ro & IMAP_SEARCH_RETURN_MAX))
			buf_printf(o, " MAX %u", out[count - 1]);
		if (ro & IMAP_SEARCH_RETURN_COUNT)
			buf_printf(o, " COUNT %zu", count);
		if (count > 0 && (ro & IMAP_SEARCH_RETURN_ALL)) {
			buf_append_str(o, " ALL ");
			imap_write_uid_set(o, out, count);
		}
		if (j->partial)
			imap_write_partial(o, j->partial_lo, j->partial_hi, out, count, true);
		buf_append_str(o, "\r\n");
	}
	free(out);
	if (j->noupdate)
		buf_printf(o, "* NO [NOUPDATE \"%s\"] Too many update contexts\r\n", job->tag);
	if (j->update) {
		/* The context starts from this answer; this job's own sync
		 * brings it up to date with the view it announces. */
		struct imap_update_ctx *ctx = xcalloc(1, sizeof(*ctx));
		ctx->tag = xstrdup(job->tag);
		ctx->uid = j->uid;
		ctx->sort = true;
		ctx->pool = j->pool;
		j->pool = NULL;
		ctx->prog = j->prog;
		memcpy(ctx->crit, j->crit, sizeof(ctx->crit));
		ctx->crit_count = j->crit_count;
		ctx->results = sorted;
		ctx->count = count;
		sorted = NULL;
		job->sync.creating = ctx;
		imap_job_tagged(job, "OK %s completed, will notify", job->cmd);
	} else {
		imap_job_tagged(job, "OK %s completed", job->cmd);
	}
	free(sorted);
}

/* charset and search keys from args[i]: the common tail of SORT and
 * THREAD. Returns false after answering the command. */
static bool parse_tail(struct imap_session *s, const struct imap_command *cmd, size_t i,
		       struct sort_job *j)
{
	const char *charset, *error = NULL;
	size_t len;
	if (i + 1 >= cmd->arg_count || !imap_arg_astring(&cmd->args[i], &charset, &len)) {
		imap_bad(s, cmd->tag, "Charset and search criteria expected");
		return false;
	}
	if (str_casecmp(charset, "UTF-8") != 0 && str_casecmp(charset, "US-ASCII") != 0) {
		imap_reply(s, "%s NO [BADCHARSET (US-ASCII UTF-8)] Unsupported charset", cmd->tag);
		return false;
	}
	struct imap_search_limits lim = { 32, 10000 };
	if (imap_search_parse(j->pool, &cmd->args[i + 1], cmd->arg_count - i - 1, &lim, &j->prog,
			      &error) != 0 || j->prog->esearch || j->prog->charset != NULL) {
		imap_bad(s, cmd->tag, error != NULL ? error : "Invalid search criteria");
		return false;
	}
	if (j->prog->uses_seqset && s->uidonly) {
		/* RFC 9586 3: no message sequence numbers in a search key. */
		imap_bad(s, cmd->tag, "[UIDREQUIRED] Message sequence numbers are not allowed"
			 " with UIDONLY; use UID set");
		return false;
	}
	if (j->prog->uses_last_result)
		imap_searchres_substitute(s, j->pool, &j->prog->root);
	if (j->prog->uses_modseq)
		imap_condstore_enable(s, &j->base.out);
	return true;
}

/* Free a job that was never submitted (its command was answered). */
static void sort_job_discard(struct sort_job *j)
{
	imap_job_discard(&j->base);
}

/* partial-range = nz-number ":" nz-number (either order, no "*"). */
static int parse_partial(const char *s, uint32_t *lo_r, uint32_t *hi_r)
{
	const char *colon = strchr(s, ':');
	if (colon == NULL || (size_t)(colon - s) >= 16)
		return -1;
	char a[16];
	memcpy(a, s, (size_t)(colon - s));
	a[colon - s] = '\0';
	uint32_t x, y;
	if (imap_parse_nz_number(a, &x) < 0 || imap_parse_nz_number(colon + 1, &y) < 0)
		return -1;
	*lo_r = x < y ? x : y;
	*hi_r = x < y ? y : x;
	return 0;
}

void imap_cmd_sort(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct sort_job *j = imap_job_new(s, sizeof(*j), cmd, sort_run,
					  uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	j->base.cleanup = sort_cleanup;
	j->pool = imap_pool_create();
	j->uid = uid;
	size_t i = 0;
	const char *bad = NULL;
	const struct imap_arg *l;
	size_t n;
	if (cmd->arg_count > 0 && imap_arg_atom_eq(&cmd->args[0], "RETURN")) {
		static const struct {
			const char *name;
			unsigned opt;
		} opts[] = {
			{ "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
			{ "ALL", IMAP_SEARCH_RETURN_ALL }, { "COUNT", IMAP_SEARCH_RETURN_COUNT },
			{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
		};
		j->esort = true;
		if (cmd->arg_count < 2 || !imap_arg_list(&cmd->args[1], &l, &n))
			bad = "RETURN needs a list of options";
		for (size_t k = 0; bad == NULL && k < n; k++) {
			const char *range;
			if (imap_arg_atom_eq(&l[k], "CONTEXT"))
				continue;	/* a hint (RFC 5267 4.2) */
			if (imap_arg_atom_eq(&l[k], "UPDATE")) {
				j->update = true;
				continue;
			}
			if (imap_arg_atom_eq(&l[k], "PARTIAL")) {
				if (j->partial || k + 1 >= n || !imap_arg_atom(&l[k + 1], &range) ||
				    parse_partial(range, &j->partial_lo, &j->partial_hi) < 0)
					bad = "PARTIAL needs one range n:m";
				j->partial = true;
				k++;
				continue;
			}
			size_t o = 0;
			while (o < sizeof(opts) / sizeof(opts[0]) && !imap_arg_atom_eq(&l[k], opts[o].name))
				o++;
			if (o == sizeof(opts) / sizeof(opts[0]))
				bad = "Unknown SORT RETURN option";
			else
				j->ret |= opts[o].opt;
		}
		i = 2;
		if (bad == NULL && j->partial && (j->ret & IMAP_SEARCH_RETURN_ALL))
			bad = "PARTIAL and ALL cannot be used together";
		if (bad == NULL && n == 0)
			j->ret = IMAP_SEARCH_RETURN_ALL;	/* RETURN () */
	}
	if (bad == NULL && (i >= cmd->arg_count || !imap_arg_list(&cmd->args[i], &l, &n) || n == 0))
		bad = "SORT needs a list of sort criteria";
	for (size_t k = 0; bad == NULL && k < n; k++) {
		const char *name;
		bool reverse = false;
		if (imap_arg_atom_eq(&l[k], "REVERSE")) {
			reverse = true;
			k++;
		}
		int key = k < n && imap_arg_atom(&l[k], &name) ? imap_sort_key_from_name(name) : -1;
		if (key < 0)
			bad = "Unknown sort criterion";
		else if (j->crit_count == SORT_MAX_CRITERIA)
			bad = "Too many sort criteria";
		else
			j->crit[j->crit_count++] = (struct imap_sort_criterion){
				(enum imap_sort_key)key, reverse };
	}
	if (bad != NULL) {
		if (j->ret & IMAP_SEARCH_RETURN_SAVE)
			imap_searchres_save(s, NULL, 0);
		sort_job_discard(j);
		imap_bad(s, cmd->tag, bad);
		return;
	}
	if (!parse_tail(s, cmd, i + 1, j)) {
		if (j->ret & IMAP_SEARCH_RETURN_SAVE)
			imap_searchres_save(s, NULL, 0);
		sort_job_discard(j);
		return;
	}
	if (j->update) {
		int ok = imap_context_check(s, cmd->tag);
		if (ok < 0) {
			sort_job_discard(j);
			imap_bad(s, cmd->tag, "Tag reuse: an update context has this tag");
			return;
		}
		if (ok == 0) {
			/* RFC 5267 4.3.1: the rest of the command is honoured */
			j->update = false;
			j->noupdate = true;
		} else {
			imap_context_fix_seqsets(s, j->pool, &j->prog->root);
		}
	}
	j->base.done = sort_done;
	imap_job_submit(s, &j->base);
}

void imap_cmd_thread(struct imap_session *s, const struct imap_command *cmd)
{
	bool uid = (s->cmd_flags & IMAP_CMD_UID) != 0;
	struct sort_job *j = imap_job_new(s, sizeof(*j), cmd, sort_run,
					  uid ? IMAP_SYNC_FULL : IMAP_SYNC_NO_EXPUNGE);
	j->base.cleanup = sort_cleanup;
	j->pool = imap_pool_create();
	j->uid = uid;
	j->thread = true;
	if (cmd->arg_count > 0 && imap_arg_atom_eq(&cmd->args[0], "ORDEREDSUBJECT")) {
		j->alg = IMAP_THREAD_ORDEREDSUBJECT;
	} else if (cmd->arg_count > 0 && imap_arg_atom_eq(&cmd->args[0], "REFERENCES")) {
		j->alg = IMAP_THREAD_REFERENCES;
	} else {
		sort_job_discard(j);
		imap_bad(s, cmd->tag, "Unknown threading algorithm");
		return;
	}
	if (!parse_tail(s, cmd, 1, j)) {
		sort_job_discard(j);
		return;
	}
	imap_job_submit(s, &j->base);
}
