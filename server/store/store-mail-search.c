/* SEARCH over the store (RFC 3501 6.4.4 / RFC 9051 6.4.4): one query
 * loads the metadata of every message of the mailbox (or of those that a
 * top-level text key matched, when it matched few); each text key runs
 * its own prepared statement (decoded header columns, the case-folded
 * decoded text of message_text for BODY/TEXT with its pg_trgm index, the
 * header block for HEADER) giving a uid set; the program tree is then
 * evaluated per message in C. Also the text extraction that fills
 * message_text (at append, by `cairnctl mail reindex`, or lazily here) and
 * FETCH PREVIEW's reads of it. */
#include "autoconf.h"
#include "store-mail-search.h"
#include "store-mail-private.h"
#include "mime.h"
#include "mime-text.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Up to this many uids, a narrowing key's set is passed to the metadata
 * query as an array; beyond, reading every row costs about the same. */
#define SEARCH_NARROW_MAX 20000

struct search_msg {
	uint32_t uid;
	uint32_t seq;		/* 0: not in the caller's view */
	unsigned flags;
	char *keywords;
	int64_t internaldate, sentdate;
	int64_t internal_local;	/* internaldate shifted into its own zone */
	int64_t savedate;	/* RFC 8514 */
	uint64_t size, modseq;
	uint64_t blob_id;	/* EMAILID (RFC 8474) */
};

struct key_uids {
	const struct store_search_node *key;
	uint32_t *uids;
	size_t count;
	struct key_uids *next;
};

struct search_ctx {
	struct store *st;
	uint64_t mailbox_id;
	const struct store_search_view *view;
	struct key_uids *sets;
	time_t now;
	bool text_ready;	/* the mailbox's pending blobs were extracted */
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

static int uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
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

static int header_key(struct search_ctx *c, const char *header, const struct store_search_node *key,
		      struct key_uids *k)
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
		/* RFC 3501 6.4.4: any occurrence of the field; "" matches every
		 * message that has the field at all. */
		for (size_t nth = 0; ; nth++) {
			buf_reset(&val);
			if (mime_header_decoded_nth(msg, &msg->root, header, nth, &val) < 0)
				break;
			if (ci_contains(val.data != NULL ? val.data : "", val.len, key->str,
					key->str_len)) {
				k->uids[k->count++] = (uint32_t)mail_u64(res, i, 0);
				break;
			}
		}
		mime_free(&msg);
	}
	buf_free(&raw);
	buf_free(&val);
	PQclear(res);
	return STORE_OK;
}

/* ---- message text (migration 0010) ---- */

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* The folded body and header text, the preview and completeness of a raw
 * message, with the body cut at body_max bytes. */
struct text_parts {
	struct buf body, headers, preview;
	bool complete;
};

static void text_parts_extract(const char *raw, size_t size, size_t body_max,
			       struct text_parts *tp)
{
	struct mime_message *msg = mime_parse(raw, size, NULL);
	struct mime_text t;
	mime_text_init(&t);
	mime_text_extract(msg, body_max, &t);
	buf_init(&tp->body, 0);
	buf_init(&tp->headers, 0);
	buf_init(&tp->preview, 0);
	mime_text_fold(t.body.data != NULL ? t.body.data : "", t.body.len, &tp->body);
	mime_text_fold(t.headers.data != NULL ? t.headers.data : "", t.headers.len, &tp->headers);
	mime_text_preview(t.body.data != NULL ? t.body.data : "", t.body.len,
			  MIME_TEXT_PREVIEW_CHARS, &tp->preview);
	/* Empty buffers own no memory: give them a "" to pass as text. */
	buf_append(&tp->body, "", 0);
	buf_append(&tp->headers, "", 0);
	buf_append(&tp->preview, "", 0);
	tp->complete = t.complete;
	mime_text_free(&t);
	mime_free(&msg);
}

static void text_parts_free(struct text_parts *tp)
{
	buf_free(&tp->body);
	buf_free(&tp->headers);
	buf_free(&tp->preview);
}

int mail_text_store(struct store *st, uint64_t blob_id, const char *raw, size_t size)
{
	struct text_parts tp;
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, blob_id);
	text_parts_extract(raw, size, STORE_TEXT_BODY_MAX, &tp);
	int r = store_exec_prepared(st, STMT_TEXT_STORE, NULL, id, tp.body.data, tp.headers.data,
				    tp.preview.data, tp.complete ? "true" : "false");
	text_parts_free(&tp);
	return r;
}

/* Extract and store the text of every blob in res (binary: id, raw);
 * returns the store result and counts the rows in *done. */
static int store_rows(struct store *st, PGresult *res, uint64_t *last_id, uint64_t *done)
{
	int n = PQntuples(res);
	for (int i = 0; i < n; i++) {
		if (PQgetlength(res, i, 0) != 8)
			return store_fail(st, STORE_ERROR, "blob id: unexpected binary length");
		uint64_t id = be64((const unsigned char *)PQgetvalue(res, i, 0));
		int r = mail_text_store(st, id, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1));
		if (r != STORE_OK)
			return r;
		*last_id = id;
		(*done)++;
	}
	return STORE_OK;
}

/* Blobs per query when extracting text outside an append: small, since each
 * row carries a whole message. */
#define TEXT_BATCH 32

/* Extract the text of the mailbox's blobs stored before migration 0010, so
 * that a SEARCH never misses them. One empty index probe when none is left. */
static int text_catch_up(struct search_ctx *c)
{
	char id[24], limit[16];
	snprintf(id, sizeof(id), "%" PRIu64, c->mailbox_id);
	snprintf(limit, sizeof(limit), "%d", TEXT_BATCH);
	const char *params[2] = { id, limit };
	for (;;) {
		PGresult *res;
		uint64_t last = 0, done = 0;
		int r = store_exec_binary(c->st, STMT_SEARCH_TEXT_PENDING, params, &res);
		if (r != STORE_OK)
			return r;
		int n = PQntuples(res);
		r = store_rows(c->st, res, &last, &done);
		PQclear(res);
		if (r != STORE_OK || n < TEXT_BATCH)
			return r;
	}
}

int store_text_reindex(struct store *st, bool all,
		       void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		       uint64_t *done_r, const char **error_r)
{
	PGresult *res;
	*done_r = 0;
	int r = STORE_OK;
	if (all)
		r = store_exec_prepared(st, STMT_TEXT_MARK_ALL, NULL);
	if (r == STORE_OK)
		r = store_exec_prepared(st, STMT_TEXT_PENDING_COUNT, &res);
	if (r != STORE_OK)
		return mail_done(st, r, error_r);
	uint64_t total = mail_u64(res, 0, 0);
	PQclear(res);
	uint64_t last = 0;
	char after[24], limit[16];
	snprintf(limit, sizeof(limit), "%d", TEXT_BATCH);
	if (progress != NULL)
		progress(0, total, ctx);
	for (;;) {
		snprintf(after, sizeof(after), "%" PRIu64, last);
		const char *params[2] = { after, limit };
		r = store_exec_binary(st, STMT_TEXT_REINDEX_NEXT, params, &res);
		if (r != STORE_OK)
			break;
		int n = PQntuples(res);
		r = store_rows(st, res, &last, done_r);
		PQclear(res);
		if (progress != NULL)
			progress(*done_r, total, ctx);
		if (r != STORE_OK || n < TEXT_BATCH)
			break;
	}
	return mail_done(st, r, error_r);
}

int store_fetch_previews(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
			 size_t set_count, bool lazy,
			 void (*cb)(uint32_t uid, const char *preview, void *ctx), void *ctx,
			 const char **error_r)
{
	struct buf uidset;
	uint32_t min, max;
	char id[24], lo[16], limit[16];
	buf_init(&uidset, 0);
	int r = mail_uidset(st, set, set_count, &uidset, &min, &max);
	snprintf(id, sizeof(id), "%" PRIu64, mailbox_id);
	snprintf(limit, sizeof(limit), "%d", 500);
	uint64_t next = min;
	while (r == STORE_OK && next <= max) {
		PGresult *res;
		snprintf(lo, sizeof(lo), "%" PRIu64, next);
		r = store_exec_prepared(st, STMT_TEXT_PREVIEWS, &res, id, uidset.data, lo, limit);
		if (r != STORE_OK)
			break;
		int n = PQntuples(res);
		for (int i = 0; i < n && r == STORE_OK; i++) {
			uint32_t uid = (uint32_t)mail_u64(res, i, 0);
			next = (uint64_t)uid + 1;
			if (!PQgetisnull(res, i, 1) || lazy) {
				cb(uid, PQgetisnull(res, i, 1) ? NULL : PQgetvalue(res, i, 1), ctx);
				continue;
			}
			/* Not extracted yet and the client wants it now. */
			uint64_t blob = mail_u64(res, i, 2);
			char bid[24];
			snprintf(bid, sizeof(bid), "%" PRIu64, blob);
			const char *params[1] = { bid };
			PGresult *rr;
			r = store_exec_binary(st, STMT_TEXT_BLOB_RAW, params, &rr);
			if (r != STORE_OK)
				break;
			if (PQntuples(rr) == 0) {
				PQclear(rr);
				continue;	/* expunged meanwhile */
			}
			struct text_parts tp;
			text_parts_extract(PQgetvalue(rr, 0, 0), (size_t)PQgetlength(rr, 0, 0),
					   STORE_TEXT_BODY_MAX, &tp);
			r = store_exec_prepared(st, STMT_TEXT_STORE, NULL, bid, tp.body.data,
						tp.headers.data, tp.preview.data,
						tp.complete ? "true" : "false");
			PQclear(rr);
			if (r == STORE_OK)
				cb(uid, tp.preview.data, ctx);
			text_parts_free(&tp);
		}
		PQclear(res);
		if (n < 500)
			break;
	}
	buf_free(&uidset);
	return r == STORE_OK ? STORE_OK : mail_done(st, r, error_r);
}

/* Add the uids of res (ascending) to k's set (ascending), keeping it
 * sorted and without duplicates. */
static void merge_uids(struct key_uids *k, PGresult *res)
{
	int n = PQntuples(res);
	if (n == 0)
		return;
	uint32_t *out = xcalloc(k->count + (size_t)n + 1, sizeof(*out));
	size_t i = 0, o = 0;
	int j = 0;
	while (i < k->count || j < n) {
		uint32_t b = j < n ? (uint32_t)mail_u64(res, j, 0) : UINT32_MAX;
		if (i < k->count && k->uids[i] <= b) {
			if (k->uids[i] == b)
				j++;
			out[o++] = k->uids[i++];
		} else {
			out[o++] = b;
			j++;
		}
	}
	free(k->uids);
	k->uids = out;
	k->count = o;
}

/* Whether the folded needle has a run of three characters that pg_trgm
 * makes a trigram of (letters and digits; any non-ASCII character counts
 * as a letter). Without one the GIN index cannot narrow anything down. */
static bool has_trigram(const char *s, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if ((ch & 0xC0) == 0x80)
			continue;	/* continuation byte: same character */
		bool word = ch >= 0x80 || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
		run = word ? run + 1 : 0;
		if (run >= 3)
			return true;
	}
	return false;
}

/* BODY/TEXT: the uids whose stored text contains the folded needle; then
 * the messages whose stored text was cut at its limit are decoded in full
 * and tested here, so the limit costs time, never answers. */
static int text_key(struct search_ctx *c, const struct store_search_node *key, struct key_uids *k)
{
	bool text = key->op == STORE_SEARCH_TEXT;
	struct buf needle, pattern;
	buf_init(&needle, 0);
	buf_init(&pattern, 0);
	mime_text_fold(key->str, key->str_len, &needle);
	buf_append(&needle, "", 0);
	bool trgm = has_trigram(needle.data, needle.len);
	/* A LIKE pattern "%needle%" (the escape character is '\\'), also for
	 * short needles: LIKE scans faster than strpos(). */
	buf_append(&pattern, "%", 1);
	for (size_t i = 0; i < needle.len; i++) {
		char ch = needle.data[i];
		if (ch == '%' || ch == '_' || ch == '\\')
			buf_append(&pattern, "\\", 1);
		buf_append(&pattern, &ch, 1);
	}
	buf_append(&pattern, "%", 1);
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, c->mailbox_id);
	PGresult *res;
	int r = store_exec_prepared(c->st, trgm ? STMT_SEARCH_BODY : STMT_SEARCH_BODY_SHORT, &res,
				    id, pattern.data);
	if (r == STORE_OK) {
		collect_uids(c->st, res, k);
		PQclear(res);
	}
	if (r == STORE_OK && text) {
		r = store_exec_prepared(c->st, trgm ? STMT_SEARCH_HEADER_LINES
						    : STMT_SEARCH_HEADER_LINES_SHORT,
					&res, id, pattern.data);
		if (r == STORE_OK) {
			merge_uids(k, res);
			PQclear(res);
		}
	}
	if (r == STORE_OK)
		r = store_exec_prepared(c->st, STMT_SEARCH_TEXT_INCOMPLETE, &res, id);
	if (r != STORE_OK) {
		buf_free(&needle);
		buf_free(&pattern);
		return r;
	}
	int n = PQntuples(res);
	size_t matched = k->count;
	for (int i = 0; i < n && r == STORE_OK; i++) {
		uint32_t uid = (uint32_t)mail_u64(res, i, 0);
		if (uid_in(k->uids, matched, uid))
			continue;
		const char *params[1] = { PQgetvalue(res, i, 1) };
		PGresult *rr;
		r = store_exec_binary(c->st, STMT_TEXT_BLOB_RAW, params, &rr);
		if (r != STORE_OK || PQntuples(rr) == 0) {
			if (r == STORE_OK)
				PQclear(rr);
			continue;
		}
		struct text_parts tp;
		text_parts_extract(PQgetvalue(rr, 0, 0), (size_t)PQgetlength(rr, 0, 0), SIZE_MAX, &tp);
		PQclear(rr);
		if (memmem(tp.body.data, tp.body.len, needle.data, needle.len) != NULL ||
		    (text && memmem(tp.headers.data, tp.headers.len, needle.data, needle.len) != NULL)) {
			k->uids = xrealloc(k->uids, (k->count + 1) * sizeof(*k->uids));
			k->uids[k->count++] = uid;
		}
		text_parts_free(&tp);
	}
	PQclear(res);
	buf_free(&needle);
	buf_free(&pattern);
	if (k->count > matched)
		qsort(k->uids, k->count, sizeof(*k->uids), uid_cmp);
	return r;
}

static const char *const field_columns[] = {
	[STORE_FIELD_FROM] = "from", [STORE_FIELD_TO] = "to", [STORE_FIELD_CC] = "cc",
	[STORE_FIELD_BCC] = "bcc", [STORE_FIELD_SUBJECT] = "subject",
};

static int prepare_key(struct search_ctx *c, const struct store_search_node *key)
{
	for (const struct store_search_node *ch = key->children; ch != NULL; ch = ch->next) {
		int r = prepare_key(c, ch);
		if (r != STORE_OK)
			return r;
	}
	const char *field = NULL;
	switch (key->op) {
	case STORE_SEARCH_FIELD:
		if ((unsigned)key->field >= sizeof(field_columns) / sizeof(field_columns[0]))
			return store_fail(c->st, STORE_INVALID, "bad search field");
		field = field_columns[key->field];
		break;
	case STORE_SEARCH_BODY: case STORE_SEARCH_TEXT: case STORE_SEARCH_HEADER: break;
	default: return STORE_OK;
	}
	const char *str = key->str != NULL ? key->str : "";
	bool address = key->op == STORE_SEARCH_FIELD && key->field != STORE_FIELD_SUBJECT;
	if (key->str_len == 0 && key->op != STORE_SEARCH_HEADER && !address)
		return STORE_OK;	/* the empty string matches every message */
	if (strlen(str) != key->str_len)
		return store_fail(c->st, STORE_INVALID, "NUL in a search string");
	if (key->op == STORE_SEARCH_HEADER && key->header == NULL)
		return store_fail(c->st, STORE_INVALID, "no header field name");
	struct key_uids *k = xcalloc(1, sizeof(*k));
	k->key = key;
	k->next = c->sets;
	c->sets = k;
	if (key->op == STORE_SEARCH_HEADER)
		return header_key(c, key->header, key, k);
	if (address && key->str_len == 0) {
		/* FROM "" etc.: the messages that have the field, as HEADER
		 * field "" (RFC 3501 6.4.4) and as Dovecot answers. */
		return header_key(c, field, key, k);
	}
	if (key->op == STORE_SEARCH_BODY || key->op == STORE_SEARCH_TEXT) {
		if (!c->text_ready) {
			int r = text_catch_up(c);
			if (r != STORE_OK)
				return r;
			c->text_ready = true;
		}
		return text_key(c, key, k);
	}
	char id[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)c->mailbox_id);
	PGresult *res;
	int r = store_exec_prepared(c->st, STMT_SEARCH_FIELD, &res, id, field, str);
	if (r != STORE_OK)
		return r;
	collect_uids(c->st, res, k);
	PQclear(res);
	return STORE_OK;
}

static const struct key_uids *key_set(const struct search_ctx *c,
				      const struct store_search_node *key)
{
	for (const struct key_uids *k = c->sets; k != NULL; k = k->next)
		if (k->key == key)
			return k;
	return NULL;
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

static bool in_ranges(const struct store_search_node *key, uint32_t uid)
{
	for (size_t i = 0; i < key->range_count; i++)
		if (uid >= key->ranges[i].lo && uid <= key->ranges[i].hi)
			return true;
	return false;
}

static int64_t msg_date(const struct search_msg *m, enum store_search_date which)
{
	switch (which) {
	case STORE_DATE_INTERNAL: return m->internal_local;
	case STORE_DATE_SENT: return m->sentdate;
	case STORE_DATE_SAVED: return m->savedate;
	}
	return 0;
}

static bool eval(const struct search_ctx *c, const struct store_search_node *key,
		 const struct search_msg *m)
{
	const struct key_uids *k;
	/* RFC 3501 6.4.4: the internal date "disregarding time and timezone",
	 * i.e. as written in the zone it was given in (internal_local). */
	int64_t d = key->day * 86400;
	switch (key->op) {
	case STORE_SEARCH_ALL: return true;
	case STORE_SEARCH_NONE: return false;
	case STORE_SEARCH_FLAGS_SET: return (m->flags & key->flags) == key->flags;
	case STORE_SEARCH_FLAGS_UNSET: return (m->flags & key->flags) == 0;
	case STORE_SEARCH_KEYWORD: return key->str != NULL && has_keyword(m->keywords, key->str);
	case STORE_SEARCH_FIELD: case STORE_SEARCH_HEADER: case STORE_SEARCH_BODY:
	case STORE_SEARCH_TEXT:
		k = key_set(c, key);
		return k == NULL || uid_in(k->uids, k->count, m->uid);
	case STORE_SEARCH_DATE_BEFORE: return msg_date(m, key->which) < d;
	case STORE_SEARCH_DATE_ON:
		return msg_date(m, key->which) >= d && msg_date(m, key->which) < d + 86400;
	case STORE_SEARCH_DATE_SINCE: return msg_date(m, key->which) >= d;
	case STORE_SEARCH_EMAILID: return m->blob_id == key->number;
	case STORE_SEARCH_LARGER: return m->size > key->number;
	case STORE_SEARCH_SMALLER: return m->size < key->number;
	case STORE_SEARCH_OLDER: return m->internaldate <= (int64_t)c->now - (int64_t)key->number;
	case STORE_SEARCH_YOUNGER: return m->internaldate >= (int64_t)c->now - (int64_t)key->number;
	case STORE_SEARCH_MODSEQ: return m->modseq >= key->number;
	case STORE_SEARCH_UIDS: return in_ranges(key, m->uid);
	case STORE_SEARCH_NOT: return key->children != NULL && !eval(c, key->children, m);
	case STORE_SEARCH_OR:
		for (const struct store_search_node *ch = key->children; ch != NULL; ch = ch->next)
			if (eval(c, ch, m))
				return true;
		return false;
	case STORE_SEARCH_AND:
		for (const struct store_search_node *ch = key->children; ch != NULL; ch = ch->next)
			if (!eval(c, ch, m))
				return false;
		return true;
	}
	return false;
}

/* Whether an AND program needs nothing but the keys' uid sets: each of
 * its keys is a text key with a set, or a UID/sequence set. */
static bool sets_only(const struct search_ctx *c, const struct store_search_node *root)
{
	if (root->op != STORE_SEARCH_AND)
		return false;
	for (const struct store_search_node *ch = root->children; ch != NULL; ch = ch->next)
		if (key_set(c, ch) == NULL && ch->op != STORE_SEARCH_UIDS &&
		    ch->op != STORE_SEARCH_ALL)
			return false;
	return true;
}

/* The sequence number of uid in view (0: not in it). */
static uint32_t view_seq(const struct store_search_view *view, uint32_t uid)
{
	size_t lo = 0, hi = view->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (view->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < view->count && view->uids[lo] == uid ? (uint32_t)lo + 1 : 0;
}

int store_search(struct store *st, uint64_t mailbox_id, const struct store_search_program *prog,
		 const struct store_search_view *view, uint32_t **uids_r, size_t *count_r,
		 uint64_t *max_modseq_r, const char **error_r)
{
	struct search_ctx c = { st, mailbox_id, view, NULL, time(NULL), false };
	*uids_r = NULL;
	*count_r = 0;
	*max_modseq_r = 0;
	if (prog == NULL || prog->root == NULL)
		return mail_done(st, store_fail(st, STORE_INVALID, "no search program"), error_r);
	const struct store_search_node *root = prog->root;
	int r = prepare_key(&c, root);
	PGresult *res = NULL;
	char id[32];
	snprintf(id, sizeof(id), "%llu", (unsigned long long)mailbox_id);
	/* A top-level text key that matched few messages: only those can match
	 * the whole program (an AND), so only their rows are read. */
	const struct key_uids *narrow = NULL;
	if (root->op == STORE_SEARCH_AND) {
		for (const struct store_search_node *ch = root->children; ch != NULL;
		     ch = ch->next) {
			const struct key_uids *k = key_set(&c, ch);
			if (k != NULL && (narrow == NULL || k->count < narrow->count))
				narrow = k;
		}
	}
	if (r == STORE_OK && narrow != NULL && !prog->need_modseq && sets_only(&c, root)) {
		/* Every key is a uid set already (text keys, uid ranges):
		 * no per-message metadata is needed, and every candidate comes
		 * from the narrowest set, so it exists. */
		uint32_t *out = xcalloc(narrow->count + 1, sizeof(*out));
		size_t k = 0;
		for (size_t i = 0; i < narrow->count; i++) {
			struct search_msg m = { .uid = narrow->uids[i] };
			m.seq = view_seq(view, m.uid);
			if (m.seq != 0 && eval(&c, root, &m))
				out[k++] = m.uid;
		}
		*uids_r = out;
		*count_r = k;
	} else if (r == STORE_OK && narrow != NULL && narrow->count <= SEARCH_NARROW_MAX) {
		struct buf arr;
		buf_init(&arr, 0);
		buf_append(&arr, "{", 1);
		for (size_t i = 0; i < narrow->count; i++)
			buf_printf(&arr, "%s%" PRIu32, i > 0 ? "," : "", narrow->uids[i]);
		buf_append(&arr, "}", 1);
		r = store_exec_prepared(st, STMT_SEARCH_META_UIDS, &res, id, arr.data);
		buf_free(&arr);
	} else if (r == STORE_OK) {
		r = store_exec_prepared(st, STMT_SEARCH_META, &res, id);
	}
	if (r == STORE_OK && res != NULL) {
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
			m.savedate = strtoll(PQgetvalue(res, i, 7), NULL, 10);
			m.blob_id = mail_u64(res, i, 8);
			m.internal_local = strtoll(PQgetvalue(res, i, 9), NULL, 10);
			if (eval(&c, root, &m)) {
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
