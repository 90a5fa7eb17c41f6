/* SORT/THREAD keys and QRESYNC tombstones (store-mail-sort.h). The keys
 * of a blob are computed once, with proto/imap_sort.c, from the columns
 * message_blobs got at append time (decoded subject, ENVELOPE, Date,
 * Message-ID/In-Reply-To/References) and kept in message_sort_keys; a SORT
 * then reads one narrow row per message and the IMAP layer only orders. */
#include "autoconf.h"
#include "store-mail-sort.h"
#include "store-mail-private.h"
#include "imap_parser.h"
#include "imap_sort.h"
#include "mime.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *nullable(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* The keys of one blob, as computed here (for blobs stored before 0009). */
struct sort_keys {
	uint64_t blob_id;
	bool has_sent;
	int64_t sent;
	bool reply;
	char *base, *subject, *from, *to, *cc, *dfrom, *dto, *msgid, *refs;
};

static void keys_free(struct sort_keys *k)
{
	free(k->base);
	free(k->subject);
	free(k->from);
	free(k->to);
	free(k->cc);
	free(k->dfrom);
	free(k->dto);
	free(k->msgid);
	free(k->refs);
}

/* Keys are text columns: anything that is not UTF-8 becomes '?'. */
static char *text_safe(char *s)
{
	if (!imap_utf8_valid(s, strlen(s)))
		for (char *p = s; *p != '\0'; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
	return s;
}

/* The addr-mailbox (or, display, the RFC 5957 display name, else
 * mailbox@host) of the first address of field, casemapped. */
static char *address_key(const char *env, enum imap_env_field field, bool display)
{
	struct imap_sort_addr a;
	if (env == NULL || imap_sort_envelope_addr(env, strlen(env), field, &a) != 0)
		return xstrdup("");	/* absent: the empty string sorts first */
	char *r;
	if (!display) {
		r = xstrdup(a.mailbox != NULL ? a.mailbox : "");
	} else {
		struct buf b;
		buf_init(&b, 0);
		if (a.name != NULL)
			mime_decode_words(a.name, strlen(a.name), &b);
		size_t i = 0;
		while (b.data != NULL && (b.data[i] == ' ' || b.data[i] == '\t'))
			i++;
		if (b.data != NULL && b.data[i] != '\0')
			r = xstrdup(b.data + i);
		else
			r = xasprintf("%s%s%s", a.mailbox != NULL ? a.mailbox : "",
				      a.host != NULL ? "@" : "", a.host != NULL ? a.host : "");
		buf_free(&b);
	}
	imap_sort_addr_free(&a);
	char *mapped = imap_sort_casemap(text_safe(r));
	free(r);
	return text_safe(mapped);
}

/* Normalised message ids of a raw header value as "<a> <b>" (NULL if none). */
static char *msgids(const char *value, size_t max)
{
	char *ids[256];
	size_t n = imap_thread_msgids(value, ids, max < 256 ? max : 256);
	if (n == 0)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&b, "%s<%s>", i > 0 ? " " : "", ids[i]);
		free(ids[i]);
	}
	return text_safe(b.data);
}

/* Compute the keys of a blob from its stored columns. */
static void keys_from(uint64_t blob_id, const char *subject, const char *env, bool has_sent,
		      int64_t sent, const char *msgid, const char *irt, const char *refs,
		      struct sort_keys *k)
{
	memset(k, 0, sizeof(*k));
	k->blob_id = blob_id;
	k->has_sent = has_sent;
	k->sent = sent;
	if (subject == NULL)
		subject = "";
	k->base = text_safe(imap_sort_base_subject(subject, strlen(subject), &k->reply));
	k->subject = text_safe(imap_sort_casemap(k->base));
	k->from = address_key(env, IMAP_ENV_FROM, false);
	k->to = address_key(env, IMAP_ENV_TO, false);
	k->cc = address_key(env, IMAP_ENV_CC, false);
	k->dfrom = address_key(env, IMAP_ENV_FROM, true);
	k->dto = address_key(env, IMAP_ENV_TO, true);
	k->msgid = msgids(msgid, 1);
	k->refs = msgids(refs, 256);
	if (k->refs == NULL)
		k->refs = msgids(irt, 1);	/* RFC 5256 3: In-Reply-To */
	if (k->refs == NULL)
		k->refs = xstrdup("");
}

/* The keys of the blob in row i of a STMT_SORT_KEYS_SOURCE result. */
static void keys_compute(const PGresult *res, int i, struct sort_keys *k)
{
	bool has_sent = !PQgetisnull(res, i, 3);
	keys_from(mail_u64(res, i, 0), PQgetvalue(res, i, 1), nullable(res, i, 2), has_sent,
		  has_sent ? strtoll(PQgetvalue(res, i, 3), NULL, 10) : 0, nullable(res, i, 4),
		  nullable(res, i, 5), nullable(res, i, 6), k);
}

/* Append one element to a PostgreSQL array literal being built. */
static void array_add(struct buf *a, const char *v)
{
	buf_append_str(a, a->len > 1 ? "," : "");
	if (v == NULL) {
		buf_append_str(a, "NULL");
		return;
	}
	buf_append_str(a, "\"");
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_append(a, "\\", 1);
		buf_append(a, p, 1);
	}
	buf_append_str(a, "\"");
}

/* Store keys[n] (one INSERT, a column per array; an existing row wins). */
static int keys_insert(struct store *st, const struct sort_keys *keys, size_t n)
{
	struct buf col[12];
	char version[8];
	snprintf(version, sizeof(version), "%d", STORE_SORT_KEY_VERSION);
	for (int c = 0; c < 12; c++) {
		buf_init(&col[c], 0);
		buf_append_str(&col[c], "{");
	}
	for (size_t k = 0; k < n; k++) {
		const struct sort_keys *x = &keys[k];
		char id[24], sent[24];
		snprintf(id, sizeof(id), "%" PRIu64, x->blob_id);
		snprintf(sent, sizeof(sent), "%lld", (long long)x->sent);
		const char *v[12] = { id, x->has_sent ? sent : NULL, x->base, x->reply ? "t" : "f",
				      x->subject, x->from, x->to, x->cc, x->dfrom, x->dto, x->msgid,
				      x->refs };
		for (int c = 0; c < 12; c++)
			array_add(&col[c], v[c]);
	}
	const char *params[13];
	for (int c = 0; c < 12; c++) {
		buf_append_str(&col[c], "}");
		params[c] = col[c].data;
	}
	params[12] = version;
	int ret = n > 0 ? store_exec_params(st, STMT_SORT_KEYS_INSERT, params, NULL) : STORE_OK;
	for (int c = 0; c < 12; c++)
		buf_free(&col[c]);
	return ret;
}

/* Compute and store the keys of blobs ids[n], appending them to keys[]
 * at *count_r (the caller sorts). */
static int keys_backfill(struct store *st, const uint64_t *ids, size_t n, struct sort_keys *keys,
			 size_t *count_r)
{
	struct buf idarr;
	buf_init(&idarr, 0);
	buf_append_str(&idarr, "{");
	for (size_t i = 0; i < n; i++)
		buf_printf(&idarr, "%s%" PRIu64, i > 0 ? "," : "", ids[i]);
	buf_append_str(&idarr, "}");
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_SORT_KEYS_SOURCE, &res, idarr.data);
	buf_free(&idarr);
	if (ret != STORE_OK)
		return ret;
	size_t k = 0;
	for (int i = 0; i < PQntuples(res); i++, k++)
		keys_compute(res, i, &keys[*count_r + k]);
	PQclear(res);
	ret = keys_insert(st, keys + *count_r, k);
	*count_r += k;
	return ret;
}

int mail_sort_keys_store(struct store *st, uint64_t blob_id, const char *subject,
			 const char *envelope, bool has_date, int64_t date, const char *message_id,
			 const char *in_reply_to, const char *references)
{
	struct sort_keys k;
	keys_from(blob_id, subject, envelope, has_date, date, message_id, in_reply_to, references,
		  &k);
	int ret = keys_insert(st, &k, 1);
	keys_free(&k);
	return ret;
}

static int keys_cmp(const void *a, const void *b)
{
	const struct sort_keys *x = a, *y = b;
	return x->blob_id < y->blob_id ? -1 : x->blob_id > y->blob_id;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

#define SORT_BACKFILL_BATCH 500

/* Row numbers of a result ordered by the uid in column 0. */
struct uid_row {
	uint32_t uid;
	int row;
};

static int uid_row_cmp(const void *a, const void *b)
{
	const struct uid_row *x = a, *y = b;
	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int store_sort_load(struct store *st, uint64_t mailbox_id, unsigned what,
		    void (*cb)(const struct store_sort_row *row, void *ctx), void *ctx,
		    const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	bool thread = (what & STORE_SORT_THREADING) != 0, strings = (what & STORE_SORT_KEYS) != 0;
	char version[8];
	snprintf(version, sizeof(version), "%d", STORE_SORT_KEY_VERSION);
	int ret = store_exec_prepared(st, STMT_SORT_META, &res, idbuf, thread ? "t" : "f",
				      strings ? "t" : "f", version);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	int rows = PQntuples(res);
	/* Blobs without keys yet (stored before 0009) or with keys of an
	 * older scheme (0032): compute them now. */
	uint64_t *missing = NULL;
	size_t nmissing = 0, nkeys = 0;
	for (int i = 0; i < rows; i++) {
		if (PQgetvalue(res, i, 5)[0] != 't')
			continue;
		if (nmissing == 0)
			missing = xcalloc((size_t)rows, sizeof(*missing));
		missing[nmissing++] = mail_u64(res, i, 4);
	}
	struct sort_keys *keys = nmissing > 0 ? xcalloc(nmissing, sizeof(*keys)) : NULL;
	if (nmissing > 0) {
		qsort(missing, nmissing, sizeof(*missing), u64_cmp);
		size_t u = 0;
		for (size_t i = 0; i < nmissing; i++)	/* one blob, many messages */
			if (u == 0 || missing[u - 1] != missing[i])
				missing[u++] = missing[i];
		nmissing = u;
		for (size_t i = 0; i < nmissing && ret == STORE_OK; i += SORT_BACKFILL_BATCH)
			ret = keys_backfill(st, missing + i, nmissing - i < SORT_BACKFILL_BATCH ?
					    nmissing - i : SORT_BACKFILL_BATCH, keys, &nkeys);
		qsort(keys, nkeys, sizeof(*keys), keys_cmp);
	}
	struct uid_row *order = xcalloc((size_t)rows + 1, sizeof(*order));
	for (int i = 0; i < rows; i++) {
		order[i].uid = (uint32_t)mail_u64(res, i, 0);
		order[i].row = i;
	}
	qsort(order, (size_t)rows, sizeof(*order), uid_row_cmp);
	for (int o = 0; o < rows && ret == STORE_OK; o++) {
		int i = order[o].row;
		struct store_sort_row r = {
			.uid = (uint32_t)mail_u64(res, i, 0),
			.internaldate = strtoll(PQgetvalue(res, i, 1), NULL, 10),
			.sentdate = strtoll(PQgetvalue(res, i, 2), NULL, 10),
			.size = mail_u64(res, i, 3),
			.base_subject = nullable(res, i, 6),
			.is_reply = PQgetvalue(res, i, 7)[0] == 't',
			.subject_key = nullable(res, i, 8),
			.from_key = nullable(res, i, 9),
			.to_key = nullable(res, i, 10),
			.cc_key = nullable(res, i, 11),
			.displayfrom_key = nullable(res, i, 12),
			.displayto_key = nullable(res, i, 13),
			.message_id = nullable(res, i, 14),
			.references = nullable(res, i, 15),
		};
		if (PQgetvalue(res, i, 5)[0] == 't') {
			struct sort_keys probe = { .blob_id = mail_u64(res, i, 4) };
			const struct sort_keys *k = bsearch(&probe, keys, nkeys, sizeof(*keys),
							    keys_cmp);
			if (k == NULL)
				continue;	/* the blob went away meanwhile */
			if (k->has_sent)
				r.sentdate = k->sent;
			if (thread) {
				r.base_subject = k->base;
				r.is_reply = k->reply;
				r.message_id = k->msgid;
				r.references = k->refs;
			}
			if (strings) {
				r.subject_key = k->subject;
				r.from_key = k->from;
				r.to_key = k->to;
				r.cc_key = k->cc;
				r.displayfrom_key = k->dfrom;
				r.displayto_key = k->dto;
			}
		}
		cb(&r, ctx);
	}
	free(order);
	for (size_t i = 0; i < nkeys; i++)
		keys_free(&keys[i]);
	free(keys);
	free(missing);
	PQclear(res);
	return mail_done(st, ret, error_r);
}

#define SORT_REINDEX_BATCH 500

int store_sort_reindex(struct store *st,
		       void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		       uint64_t *done_r, const char **error_r)
{
	PGresult *res;
	char version[8], after[24], limit[16];
	snprintf(version, sizeof(version), "%d", STORE_SORT_KEY_VERSION);
	snprintf(limit, sizeof(limit), "%d", SORT_REINDEX_BATCH);
	*done_r = 0;
	int ret = store_exec_prepared(st, STMT_SORT_KEYS_STALE_COUNT, &res, version);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	uint64_t total = mail_u64(res, 0, 0);
	PQclear(res);
	if (progress != NULL)
		progress(0, total, ctx);
	uint64_t last = 0;
	uint64_t ids[SORT_REINDEX_BATCH];
	struct sort_keys *keys = xcalloc(SORT_REINDEX_BATCH, sizeof(*keys));
	for (;;) {
		snprintf(after, sizeof(after), "%" PRIu64, last);
		ret = store_exec_prepared(st, STMT_SORT_KEYS_STALE_NEXT, &res, version, after,
					  limit);
		if (ret != STORE_OK)
			break;
		size_t n = (size_t)PQntuples(res);
		for (size_t i = 0; i < n; i++)
			ids[i] = mail_u64(res, (int)i, 0);
		PQclear(res);
		if (n == 0)
			break;
		last = ids[n - 1];
		size_t nkeys = 0;
		ret = keys_backfill(st, ids, n, keys, &nkeys);
		for (size_t i = 0; i < nkeys; i++)
			keys_free(&keys[i]);
		if (ret != STORE_OK)
			break;
		*done_r += n;
		if (progress != NULL)
			progress(*done_r, total, ctx);
	}
	free(keys);
	return mail_done(st, ret, error_r);
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int store_vanished_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			 uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	char idbuf[24], ms[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(ms, sizeof(ms), "%" PRIu64, modseq);
	const char *params[2] = { idbuf, ms };
	*uids_r = NULL;
	*count_r = 0;
	int ret = store_exec_binary(st, STMT_SORT_VANISHED, params, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	/* Binary int8[]: ndim, has-null, oid, then per dimension length and
	 * lower bound, then (length, value) per element. */
	const unsigned char *p = (const unsigned char *)PQgetvalue(res, 0, 0);
	size_t len = (size_t)PQgetlength(res, 0, 0);
	if (len >= 20 && be32(p) == 1) {
		size_t n = be32(p + 12);
		if (len < 20 + n * 12) {
			PQclear(res);
			return mail_done(st, store_fail(st, STORE_ERROR, "short tombstone array"),
					 error_r);
		}
		uint32_t *uids = n > 0 ? xmalloc(n * sizeof(*uids)) : NULL;
		for (size_t i = 0; i < n; i++)
			uids[i] = be32(p + 20 + i * 12 + 8);
		*uids_r = uids;
		*count_r = n;
	}
	PQclear(res);
	return STORE_OK;
}
