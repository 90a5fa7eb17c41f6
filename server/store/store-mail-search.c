/* SEARCH over the store (RFC 3501 6.4.4 / RFC 9051 6.4.4): one query
 * loads the metadata of every message of the mailbox; each text key runs
 * its own prepared statement (decoded header columns, the full-text
 * tsvector for BODY/TEXT, the header block for HEADER) giving a uid set;
 * the program tree is then evaluated per message in C. */
#include "autoconf.h"
#include "store-mail-search.h"
#include "store-mail-private.h"
#include "mime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct search_msg {
	uint32_t uid;
	uint32_t seq;		/* 0: not in the caller's view */
	unsigned flags;
	char *keywords;
	int64_t internaldate, sentdate;
	uint64_t size, modseq;
};

struct key_uids {
	const struct imap_search_key *key;
	uint32_t *uids;
	size_t count;
	struct key_uids *next;
};

struct search_ctx {
	struct store *st;
	uint64_t mailbox_id;
	const struct store_search_view *view;
	struct imap_pool *pool;
	struct key_uids *sets;
	time_t now;
};

static bool uid_in(const uint32_t *a, size_t n, uint32_t v)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && a[lo] == v;
}

static bool ci_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (str_ncasecmp(hay + i, needle, nlen) == 0)
			return true;
	return false;
}

static int collect_uids(struct store *st, PGresult *res, struct key_uids *k)
{
	(void)st;
	int n = PQntuples(res);
	k->uids = xcalloc((size_t)n + 1, sizeof(*k->uids));
	for (int i = 0; i < n; i++)
		k->uids[k->count++] = (uint32_t)mail_u64(res, i, 0);
	return STORE_OK;
}

static int header_key(struct search_ctx *c, const struct imap_search_key *key, struct key_uids *k)
{
	char id[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->mailbox_id);
	PGresult *res;
	int r = store_exec_prepared(c->st, STMT_SEARCH_HEADERS, &res, id);
	if (r != STORE_OK)
		return r;
	int n = PQntuples(res);
	k->uids = xcalloc((size_t)n + 1, sizeof(*k->uids));
	struct buf raw, val;
	buf_init(&raw, 0);
	buf_init(&val, 0);
	for (int i = 0; i < n; i++) {
		buf_reset(&raw);
		buf_reset(&val);
		if (mail_unhex(PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), &raw) < 0)
			continue;
		struct mime_message *msg = mime_parse(raw.data != NULL ? raw.data : "", raw.len, NULL);
		if (mime_header_decoded(msg, &msg->root, key->header, &val) == 0 &&
		    ci_contains(val.data != NULL ? val.data : "", val.len, key->str, key->str_len))
			k->uids[k->count++] = (uint32_t)mail_u64(res, i, 0);
		mime_free(&msg);
	}
	buf_free(&raw);
	buf_free(&val);
	PQclear(res);
	return STORE_OK;
}

/* BODY: the full-text index finds candidates; the decoded text of the
 * body parts must then contain the string (headers do not count). */
static int body_verify(struct search_ctx *c, const struct imap_search_key *key, struct key_uids *k)
{
	size_t kept = 0;
	struct buf raw, text;
	buf_init(&raw, 0);
	buf_init(&text, 0);
	for (size_t i = 0; i < k->count; i++) {
		const char *error;
		buf_reset(&raw);
		buf_reset(&text);
		int r = store_fetch_raw(c->st, c->mailbox_id, k->uids[i], &raw, &error);
		if (r == STORE_NOTFOUND)
			continue;
		if (r != STORE_OK) {
			buf_free(&raw);
			buf_free(&text);
			return r;
		}
		struct mime_message *msg = mime_parse(raw.data != NULL ? raw.data : "", raw.len, NULL);
		mime_text(msg, 16 * 1024 * 1024, &text);
		if (ci_contains(text.data != NULL ? text.data : "", text.len, key->str, key->str_len))
			k->uids[kept++] = k->uids[i];
		mime_free(&msg);
	}
	k->count = kept;
	buf_free(&raw);
	buf_free(&text);
	return STORE_OK;
}

static int prepare_key(struct search_ctx *c, const struct imap_search_key *key)
{
	for (const struct imap_search_key *ch = key->children; ch != NULL; ch = ch->next) {
		int r = prepare_key(c, ch);
		if (r != STORE_OK)
			return r;
	}
	const char *field = NULL;
	switch (key->type) {
	case IMAP_SEARCH_FROM: field = "from"; break;
	case IMAP_SEARCH_TO: field = "to"; break;
	case IMAP_SEARCH_CC: field = "cc"; break;
	case IMAP_SEARCH_BCC: field = "bcc"; break;
	case IMAP_SEARCH_SUBJECT: field = "subject"; break;
	case IMAP_SEARCH_BODY: case IMAP_SEARCH_TEXT: case IMAP_SEARCH_HEADER: break;
	default: return STORE_OK;
	}
	if (key->str_len == 0 && key->type != IMAP_SEARCH_HEADER)
		return STORE_OK;	/* the empty string matches every message */
	if (strlen(key->str) != key->str_len)
		return store_fail(c->st, STORE_INVALID, "NUL in a search string");
	struct key_uids *k = xcalloc(1, sizeof(*k));
	k->key = key;
	k->next = c->sets;
	c->sets = k;
	if (key->type == IMAP_SEARCH_HEADER)
		return header_key(c, key, k);
	char id[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->mailbox_id);
	PGresult *res;
	int r = field != NULL ? store_exec_prepared(c->st, STMT_SEARCH_FIELD, &res, id, field, key->str)
			      : store_exec_prepared(c->st, STMT_SEARCH_FTS, &res, id, key->str);
	if (r != STORE_OK)
		return r;
	collect_uids(c->st, res, k);
	PQclear(res);
	if (key->type == IMAP_SEARCH_BODY)
		return body_verify(c, key, k);
	return STORE_OK;
}

static const struct key_uids *key_set(const struct search_ctx *c, const struct imap_search_key *key)
{
	for (const struct key_uids *k = c->sets; k != NULL; k = k->next)
		if (k->key == key)
			return k;
	return NULL;
}

static bool is_recent(const struct search_ctx *c, uint32_t uid)
{
	for (size_t i = 0; i < c->view->recent_count; i++)
		if (uid >= c->view->recent[i].lo && uid <= c->view->recent[i].hi)
			return true;
	return false;
}

static bool has_keyword(const char *list, const char *kw)
{
	size_t n = strlen(kw);
	for (const char *p = list; *p != '\0';) {
		const char *e = strchr(p, ' ');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == n && str_ncasecmp(p, kw, n) == 0)
			return true;
		p += len;
		while (*p == ' ')
			p++;
	}
	return false;
}

static bool in_set(const struct search_ctx *c, const struct imap_seqset *set, uint32_t v,
		   uint32_t star)
{
	struct imap_seq_range *r;
	size_t n;
	imap_seqset_resolve(c->pool, set, star, &r, &n);
	for (size_t i = 0; i < n; i++)
		if (v >= r[i].lo && v <= r[i].hi)
			return true;
	return false;
}

static bool eval(const struct search_ctx *c, const struct imap_search_key *key,
		 const struct search_msg *m)
{
	const struct key_uids *k;
	int64_t d = (int64_t)key->date;
	switch (key->type) {
	case IMAP_SEARCH_ALL: return true;
	case IMAP_SEARCH_ANSWERED: return m->flags & STORE_FLAG_ANSWERED;
	case IMAP_SEARCH_DELETED: return m->flags & STORE_FLAG_DELETED;
	case IMAP_SEARCH_DRAFT: return m->flags & STORE_FLAG_DRAFT;
	case IMAP_SEARCH_FLAGGED: return m->flags & STORE_FLAG_FLAGGED;
	case IMAP_SEARCH_SEEN: return m->flags & STORE_FLAG_SEEN;
	case IMAP_SEARCH_UNANSWERED: return !(m->flags & STORE_FLAG_ANSWERED);
	case IMAP_SEARCH_UNDELETED: return !(m->flags & STORE_FLAG_DELETED);
	case IMAP_SEARCH_UNDRAFT: return !(m->flags & STORE_FLAG_DRAFT);
	case IMAP_SEARCH_UNFLAGGED: return !(m->flags & STORE_FLAG_FLAGGED);
	case IMAP_SEARCH_UNSEEN: return !(m->flags & STORE_FLAG_SEEN);
	case IMAP_SEARCH_RECENT: return is_recent(c, m->uid);
	case IMAP_SEARCH_NEW: return is_recent(c, m->uid) && !(m->flags & STORE_FLAG_SEEN);
	case IMAP_SEARCH_OLD: return !is_recent(c, m->uid);
	case IMAP_SEARCH_KEYWORD: return has_keyword(m->keywords, key->str);
	case IMAP_SEARCH_UNKEYWORD: return !has_keyword(m->keywords, key->str);
	case IMAP_SEARCH_FROM: case IMAP_SEARCH_TO: case IMAP_SEARCH_CC: case IMAP_SEARCH_BCC:
	case IMAP_SEARCH_SUBJECT: case IMAP_SEARCH_BODY: case IMAP_SEARCH_TEXT:
	case IMAP_SEARCH_HEADER:
		k = key_set(c, key);
		return k == NULL || uid_in(k->uids, k->count, m->uid);
	case IMAP_SEARCH_BEFORE: return m->internaldate < d;
	case IMAP_SEARCH_ON: return m->internaldate >= d && m->internaldate < d + 86400;
	case IMAP_SEARCH_SINCE: return m->internaldate >= d;
	case IMAP_SEARCH_SENTBEFORE: return m->sentdate < d;
	case IMAP_SEARCH_SENTON: return m->sentdate >= d && m->sentdate < d + 86400;
	case IMAP_SEARCH_SENTSINCE: return m->sentdate >= d;
	case IMAP_SEARCH_LARGER: return m->size > key->number;
	case IMAP_SEARCH_SMALLER: return m->size < key->number;
	case IMAP_SEARCH_OLDER: return m->internaldate <= (int64_t)c->now - (int64_t)key->number;
	case IMAP_SEARCH_YOUNGER: return m->internaldate >= (int64_t)c->now - (int64_t)key->number;
	case IMAP_SEARCH_MODSEQ: return m->modseq >= key->number;
	case IMAP_SEARCH_SEQSET: return in_set(c, &key->set, m->seq, (uint32_t)c->view->count);
	case IMAP_SEARCH_UIDSET:
		return in_set(c, &key->set, m->uid,
			      c->view->count > 0 ? c->view->uids[c->view->count - 1] : 0);
	case IMAP_SEARCH_NOT: return key->children != NULL && !eval(c, key->children, m);
	case IMAP_SEARCH_OR:
		return key->children != NULL && key->children->next != NULL &&
		       (eval(c, key->children, m) || eval(c, key->children->next, m));
	case IMAP_SEARCH_AND:
		for (const struct imap_search_key *ch = key->children; ch != NULL; ch = ch->next)
			if (!eval(c, ch, m))
				return false;
		return true;
	}
	return false;
}

int store_search(struct store *st, uint64_t mailbox_id, const struct imap_search_program *prog,
		 const struct store_search_view *view, uint32_t **uids_r, size_t *count_r,
		 uint64_t *max_modseq_r, const char **error_r)
{
	struct search_ctx c = { st, mailbox_id, view, imap_pool_create(), NULL, time(NULL) };
	*uids_r = NULL;
	*count_r = 0;
	*max_modseq_r = 0;
	int r = prepare_key(&c, &prog->root);
	PGresult *res = NULL;
	char id[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)mailbox_id);
	if (r == STORE_OK)
		r = store_exec_prepared(st, STMT_SEARCH_META, &res, id);
	if (r == STORE_OK) {
		int n = PQntuples(res);
		uint32_t *out = xcalloc((size_t)n + 1, sizeof(*out));
		size_t k = 0;
		for (int i = 0; i < n; i++) {
			struct search_msg m;
			m.uid = (uint32_t)mail_u64(res, i, 0);
			uint32_t seq = 0;
			size_t lo = 0, hi = view->count;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (view->uids[mid] < m.uid)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < view->count && view->uids[lo] == m.uid)
				seq = (uint32_t)lo + 1;
			if (seq == 0)
				continue;	/* not announced to the client yet */
			m.seq = seq;
			m.flags = (unsigned)mail_u64(res, i, 1);
			m.keywords = PQgetvalue(res, i, 2);
			m.internaldate = strtoll(PQgetvalue(res, i, 3), NULL, 10);
			m.size = mail_u64(res, i, 4);
			m.modseq = mail_u64(res, i, 5);
			m.sentdate = strtoll(PQgetvalue(res, i, 6), NULL, 10);
			if (eval(&c, &prog->root, &m)) {
				out[k++] = m.uid;
				if (m.modseq > *max_modseq_r)
					*max_modseq_r = m.modseq;
			}
		}
		*uids_r = out;
		*count_r = k;
		PQclear(res);
	}
	while (c.sets != NULL) {
		struct key_uids *next = c.sets->next;
		free(c.sets->uids);
		free(c.sets);
		c.sets = next;
	}
	imap_pool_destroy(&c.pool);
	return mail_done(st, r, error_r);
}

int store_search_first_unseen(struct store *st, uint64_t mailbox_id, uint32_t *uid_r,
			      const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_SEARCH_FIRST_UNSEEN, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*uid_r = PQntuples(res) > 0 ? (uint32_t)mail_u64(res, 0, 0) : 0;
	PQclear(res);
	return STORE_OK;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int store_search_view_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r,
			   size_t *count_r, const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	const char *params[1] = { idbuf };
	int ret = store_exec_binary(st, STMT_SEARCH_VIEW_UIDS, params, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	/* Binary array: ndim, has-null flag, element oid, then per dimension
	 * its length and lower bound, then (length, int8) per element. */
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, 0, 0);
	size_t len = (size_t)PQgetlength(res, 0, 0);
	uint32_t *uids = NULL;
	size_t n = 0;
	if (len >= 12 && be32(p) == 1 && len >= 20) {
		n = be32(p + 12);
		if (len < 20 + n * 12) {
			PQclear(res);
			return mail_done(st, store_fail(st, STORE_ERROR, "short uid array"), error_r);
		}
		uids = n > 0 ? xmalloc(n * sizeof(*uids)) : NULL;
		const unsigned char *e = p + 20;
		for (size_t i = 0; i < n; i++, e += 12)
			uids[i] = be32(e + 8);	/* uid < 2^32: the low word */
	}
	PQclear(res);
	*uids_r = uids;
	*count_r = n;
	return STORE_OK;
}
