/* Messages: append (blob found or stored once by SHA-256 with its parsed
 * metadata, then the mailbox rows, quota and modseq in the same
 * transaction), delivery to an INBOX, copy/move sharing blobs, expunge with
 * tombstones, and the reads a FETCH, a sequence map or a resync needs.
 * Blob rows are locked FOR KEY SHARE before they are referenced, so the
 * refcount trigger cannot delete a blob an append is about to use. */
#include "autoconf.h"
#include "store-mail-private.h"
#include "store-mail-search.h"
#include "log.h"
#include "mime.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Text kept for full-text search, per message. */
#define MAIL_FTS_TEXT_MAX (256 * 1024)
/* Indexed header copies stay well below the btree row limit. */
#define MAIL_INDEXED_HEADER_MAX 900
#define MAIL_HEADER_MAX (64 * 1024)

/* Make b valid UTF-8 without NUL (PostgreSQL text): bad bytes become '?'. */
static void utf8_clean(struct buf *b, size_t max)
{
	if (b->len > max) {
		b->len = max;
		b->data[max] = '\0';
	}
	unsigned char *p = (unsigned char *)b->data;
	size_t i = 0;
	while (i < b->len) {
		unsigned char c = p[i];
		size_t n = 0;
		if (c == 0) {
			p[i++] = ' ';
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		bool ok = n > 0 && i + n <= b->len;
		for (size_t j = 1; ok && j < n; j++)
			ok = (p[i + j] & 0xc0) == 0x80;
		if (ok && n == 3) {
			/* overlongs and surrogates */
			ok = !(c == 0xe0 && p[i + 1] < 0xa0) && !(c == 0xed && p[i + 1] >= 0xa0);
		} else if (ok && n == 4) {
			ok = !(c == 0xf0 && p[i + 1] < 0x90) && !(c == 0xf4 && p[i + 1] >= 0x90);
		}
		if (!ok) {
			p[i++] = '?';
			continue;
		}
		i += n;
	}
}

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"
};

static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		do {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (*p != '\0' && depth > 0);
	}
}

static bool parse_num(const char **pp, int min_digits, int max_digits, int *value_r)
{
	const char *p = *pp;
	int v = 0, n = 0;
	while (isdigit((unsigned char)*p) && n < max_digits) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n < min_digits)
		return false;
	*value_r = v;
	*pp = p;
	return true;
}

/* An RFC 5322 date-time (with the obsolete forms seen in the wild: 2-digit
 * years, zone names). Returns 0 with *t_r in UTC, or -1. */
static int parse_rfc5322_date(const char *s, time_t *t_r)
{
	const char *p = skip_cfws(s);
	/* optional day-of-week */
	if (isalpha((unsigned char)p[0])) {
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_cfws(p);
		if (*p == ',')
			p = skip_cfws(p + 1);
	}
	int day, year, hour, min, sec = 0, mon = -1;
	if (!parse_num(&p, 1, 2, &day))
		return -1;
	p = skip_cfws(p);
	for (int i = 0; i < 12; i++)
		if (str_ncasecmp(p, month_names[i], 3) == 0)
			mon = i;
	if (mon < 0)
		return -1;
	p += 3;
	while (isalpha((unsigned char)*p))
		p++;
	p = skip_cfws(p);
	const char *ystart = p;
	if (!parse_num(&p, 2, 4, &year))
		return -1;
	if (p - ystart == 2)
		year += year < 50 ? 2000 : 1900;
	else if (p - ystart == 3)
		year += 1900;
	p = skip_cfws(p);
	if (!parse_num(&p, 1, 2, &hour))
		return -1;
	p = skip_cfws(p);
	if (*p++ != ':')
		return -1;
	p = skip_cfws(p);
	if (!parse_num(&p, 2, 2, &min))
		return -1;
	p = skip_cfws(p);
	if (*p == ':') {
		p = skip_cfws(p + 1);
		if (!parse_num(&p, 2, 2, &sec))
			return -1;
	}
	p = skip_cfws(p);
	int offset = 0;
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, z;
		p++;
		if (!parse_num(&p, 4, 4, &z))
			return -1;
		offset = sign * ((z / 100) * 60 + z % 100) * 60;
	} else {
		static const struct {
			const char *name;
			int hours;
		} zones[] = { { "EDT", -4 }, { "EST", -5 }, { "CDT", -5 }, { "CST", -6 },
			      { "MDT", -6 }, { "MST", -7 }, { "PDT", -7 }, { "PST", -8 } };
		for (size_t i = 0; i < ARRAY_SIZE(zones); i++)
			if (str_ncasecmp(p, zones[i].name, 3) == 0)
				offset = zones[i].hours * 3600;
	}
	if (day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60 || year < 1900 ||
	    year > 9999)
		return -1;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon, .tm_mday = day,
			 .tm_hour = hour, .tm_min = min, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*t_r = t - offset;
	return 0;
}

/* Everything stored with a new blob, computed by the MIME parser. */
enum blob_field {
	F_ENVELOPE, F_BODYSTRUCTURE, F_BODY, F_SUBJECT, F_FROM, F_TO, F_CC, F_BCC,
	F_MESSAGE_ID, F_IN_REPLY_TO, F_REFERENCES, F_TEXT, F_COUNT
};

/* queued: a blob for the outbound queue only, which no SEARCH or SORT
 * ever reads: it gets no message_text row and no SORT keys, so relaying
 * does not pay for indexes it never uses. If a mailbox later gets the same
 * content, blob_get stores the text then, and store_sort_load computes
 * missing keys by itself. */
static int blob_insert(struct store *st, const struct store_append_msg *msg, const char *shahex,
		       bool queued, uint64_t *id_r, uint64_t *size_r)
{
	struct buf f[F_COUNT], raw, datebuf;
	char lines[24], date[32];
	for (int i = 0; i < F_COUNT; i++)
		buf_init(&f[i], 0);
	buf_init(&raw, 0);
	buf_init(&datebuf, 0);

	struct mime_message *m = mime_parse(msg->data, msg->size, NULL);
	const struct mime_part *root = &m->root;
	mime_envelope(root, &f[F_ENVELOPE]);
	mime_bodystructure(root, true, &f[F_BODYSTRUCTURE]);
	mime_bodystructure(root, false, &f[F_BODY]);
	static const struct {
		enum blob_field field;
		const char *name;
		bool decoded;
	} headers[] = {
		{ F_SUBJECT, "Subject", true }, { F_FROM, "From", true }, { F_TO, "To", true },
		{ F_CC, "Cc", true }, { F_BCC, "Bcc", true },
		{ F_MESSAGE_ID, "Message-ID", false }, { F_IN_REPLY_TO, "In-Reply-To", false },
		{ F_REFERENCES, "References", false },
	};
	bool present[F_COUNT] = { true, true, true };
	present[F_TEXT] = true;
	for (size_t i = 0; i < ARRAY_SIZE(headers); i++) {
		struct buf *b = &f[headers[i].field];
		int r = headers[i].decoded ? mime_header_decoded(m, root, headers[i].name, b)
					   : mime_header_raw(m, root, headers[i].name, b);
		present[headers[i].field] = r == 0;
	}
	time_t t = 0;
	bool have_date = mime_header_raw(m, root, "Date", &datebuf) == 0 &&
			 parse_rfc5322_date(datebuf.data, &t) == 0;
	if (have_date)
		snprintf(date, sizeof(date), "%lld", (long long)t);
	/* The tsvector of 0002 is no longer searched: full-text SEARCH uses
	 * message_text (mail_text_store below, migration 0010). */
	snprintf(lines, sizeof(lines), "%zu", m->lines);
	mime_free(&m);

	for (int i = 0; i < F_COUNT; i++) {
		size_t max = SIZE_MAX;
		if (i == F_MESSAGE_ID || i == F_IN_REPLY_TO)
			max = MAIL_INDEXED_HEADER_MAX;
		else if (i >= F_SUBJECT && i <= F_REFERENCES)
			max = MAIL_HEADER_MAX;
		else if (i == F_TEXT)
			max = MAIL_FTS_TEXT_MAX;
		if (f[i].data == NULL)
			buf_append(&f[i], "", 0);
		utf8_clean(&f[i], max);
	}
	mail_hex(&raw, msg->data, msg->size);

#define FIELD(i) (present[i] ? f[i].data : NULL)
	const char *params[16] = {
		shahex, lines, raw.data, f[F_ENVELOPE].data, f[F_BODYSTRUCTURE].data,
		f[F_BODY].data, FIELD(F_SUBJECT), FIELD(F_FROM), FIELD(F_TO), FIELD(F_CC),
		FIELD(F_BCC), have_date ? date : NULL, FIELD(F_MESSAGE_ID),
		FIELD(F_IN_REPLY_TO), FIELD(F_REFERENCES), f[F_TEXT].data,
	};
#undef FIELD
	PGresult *res;
	int ret = store_exec_params(st, STMT_BLOB_INSERT, params, &res);
	if (ret == STORE_OK) {
		*id_r = mail_u64(res, 0, 0);
		*size_r = mail_u64(res, 0, 1);
		PQclear(res);
		if (!queued)
			ret = mail_text_store(st, *id_r, msg->data, msg->size);
	}
	if (ret == STORE_OK && !queued)	/* SORT/THREAD keys, from the same columns */
		ret = mail_sort_keys_store(st, *id_r, present[F_SUBJECT] ? f[F_SUBJECT].data : "",
					   f[F_ENVELOPE].data, have_date, have_date ? (int64_t)t : 0,
					   present[F_MESSAGE_ID] ? f[F_MESSAGE_ID].data : NULL,
					   present[F_IN_REPLY_TO] ? f[F_IN_REPLY_TO].data : NULL,
					   present[F_REFERENCES] ? f[F_REFERENCES].data : NULL);
	for (int i = 0; i < F_COUNT; i++)
		buf_free(&f[i]);
	buf_free(&raw);
	buf_free(&datebuf);
	return ret;
}

static int blob_get(struct store *st, const struct store_append_msg *msg,
		    const unsigned char sha[32], bool queued, uint64_t *id_r, uint64_t *size_r)
{
	struct buf shahex;
	PGresult *res;
	buf_init(&shahex, 0);
	mail_hex(&shahex, sha, 32);
	int ret = store_exec_prepared(st, STMT_BLOB_FIND, &res, shahex.data);
	if (ret == STORE_OK) {
		bool found = PQntuples(res) > 0, textless = false;
		if (found) {
			*id_r = mail_u64(res, 0, 0);
			*size_r = mail_u64(res, 0, 1);
			textless = PQgetvalue(res, 0, 2)[0] == 't';
		}
		PQclear(res);
		if (!found)
			ret = blob_insert(st, msg, shahex.data, queued, id_r, size_r);
		else if (textless && !queued)	/* stored for the queue only so far */
			ret = mail_text_store(st, *id_r, msg->data, msg->size);
	}
	buf_free(&shahex);
	return ret;
}

int mail_blob_get(struct store *st, const struct store_append_msg *msg,
		  const unsigned char sha[32], uint64_t *id_r, uint64_t *size_r)
{
	return blob_get(st, msg, sha, false, id_r, size_r);
}

int mail_blob_get_queued(struct store *st, const struct store_append_msg *msg,
			 const unsigned char sha[32], uint64_t *id_r, uint64_t *size_r)
{
	return blob_get(st, msg, sha, true, id_r, size_r);
}

struct append_item {
	size_t index;		/* in the caller's array */
	unsigned char sha[32];
	uint64_t blob_id;
	uint64_t size;
};

struct append_ctx {
	uint64_t mailbox_id;
	const struct store_append_msg *msgs;
	size_t count;
	struct append_item *items;	/* in SHA-256 order: blobs are locked in that order */
	uint32_t uidvalidity;
	uint32_t *uids;
};

static int item_cmp(const void *a, const void *b)
{
	const struct append_item *x = a, *y = b;
	int c = memcmp(x->sha, y->sha, 32);
	return c != 0 ? c : (x->index < y->index ? -1 : x->index > y->index);
}

static int append_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct append_ctx *ctx = _ctx;
	int64_t bytes = 0;
	int ret = STORE_OK;

	/* Blobs first, before the mailbox lock: a big insert does not hold up
	 * other appends to the mailbox. */
	for (size_t i = 0; i < ctx->count && ret == STORE_OK; i++) {
		struct append_item *it = &ctx->items[i];
		ret = mail_blob_get(st, &ctx->msgs[it->index], it->sha, &it->blob_id, &it->size);
		bytes += (int64_t)it->size;
	}
	if (ret != STORE_OK)
		return ret;
	uint64_t *blob_of = xcalloc(ctx->count, sizeof(*blob_of));
	for (size_t i = 0; i < ctx->count; i++)
		blob_of[ctx->items[i].index] = ctx->items[i].blob_id;
	ret = mail_append_locked(st, ctx->mailbox_id, ctx->msgs, ctx->count, blob_of, bytes,
				 &ctx->uidvalidity, ctx->uids);
	free(blob_of);
	return ret;
}

int mail_append_locked(struct store *st, uint64_t mailbox_id, const struct store_append_msg *msgs,
		       size_t count, const uint64_t *blob_of, int64_t bytes,
		       uint32_t *uidvalidity_r, uint32_t *uids_r)
{
	struct mail_lock l;
	int ret = mail_lock(st, mailbox_id, true, &l);
	if (ret != STORE_OK)
		return ret;
	if (l.uidnext + count - 1 > UINT32_MAX)
		return store_fail(st, STORE_INVALID, "the mailbox has used up its uids");
	ret = mail_quota_add(st, l.account_id, bytes, (int64_t)count, true);
	if (ret != STORE_OK)
		return ret;

	struct buf uids, dates, flags, kws, blobs, kw, zones;
	buf_init(&zones, 0);
	buf_init(&uids, 0);
	buf_init(&dates, 0);
	buf_init(&flags, 0);
	buf_init(&kws, 0);
	buf_init(&blobs, 0);
	buf_init(&kw, 0);
	time_t now = time(NULL);
	for (size_t i = 0; i < count && ret == STORE_OK; i++) {
		const struct store_append_msg *msg = &msgs[i];
		const char *sep = i == 0 ? "{" : ",";
		uids_r[i] = (uint32_t)(l.uidnext + i);
		buf_printf(&uids, "%s%" PRIu32, sep, uids_r[i]);
		buf_printf(&dates, "%s%lld", sep,
			   (long long)(msg->internaldate != 0 ? msg->internaldate : now));
		buf_printf(&flags, "%s%u", sep, msg->flags & STORE_FLAGS_ALL);
		buf_printf(&zones, "%s%d", sep, msg->internaldate != 0 ? msg->internaldate_zone : 0);
		buf_printf(&blobs, "%s%" PRIu64, sep, blob_of[i]);
		ret = mail_keywords(st, msg->keywords, msg->keyword_count, &kw);
		buf_printf(&kws, "%s\"%s\"", sep, kw.data != NULL ? kw.data : "");
	}
	buf_append_str(&uids, "}");
	buf_append_str(&dates, "}");
	buf_append_str(&flags, "}");
	buf_append_str(&kws, "}");
	buf_append_str(&blobs, "}");
	buf_append_str(&zones, "}");
	char idbuf[24], modseq[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l.id);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, l.highestmodseq + 1);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_MM_INSERT, NULL, idbuf, modseq, uids.data,
					  dates.data, flags.data, kws.data, blobs.data, zones.data);
	buf_free(&uids);
	buf_free(&dates);
	buf_free(&flags);
	buf_free(&kws);
	buf_free(&blobs);
	buf_free(&kw);
	buf_free(&zones);
	if (ret != STORE_OK)
		return ret;
	l.uidnext += count;
	l.highestmodseq++;
	if (uidvalidity_r != NULL)
		*uidvalidity_r = l.uidvalidity;
	return mail_advance(st, &l);
}

int store_append(struct store *st, uint64_t mailbox_id, const struct store_append_msg *msgs,
		 size_t count, uint32_t *uidvalidity_r, uint32_t *uids_r, const char **error_r)
{
	if (count == 0)
		return mail_done(st, store_fail(st, STORE_INVALID, "nothing to append"), error_r);
	struct append_ctx ctx = {
		.mailbox_id = mailbox_id, .msgs = msgs, .count = count, .uids = uids_r,
		.items = xcalloc(count, sizeof(struct append_item)),
	};
	for (size_t i = 0; i < count; i++) {
		ctx.items[i].index = i;
		store_mail_sha256(msgs[i].data, msgs[i].size, ctx.items[i].sha);
	}
	qsort(ctx.items, count, sizeof(*ctx.items), item_cmp);
	int ret = store_tx(st, append_tx, &ctx, error_r);
	free(ctx.items);
	if (ret == STORE_OK && uidvalidity_r != NULL)
		*uidvalidity_r = ctx.uidvalidity;
	return ret;
}

int store_deliver(struct store *st, const char *address, const struct store_append_msg *msg,
		  uint64_t *mailbox_id_r, uint32_t *uid_r, const char **error_r)
{
	struct store_mailbox_info *info = xmalloc(sizeof(*info));
	int ret = store_mailbox_open(st, address, "INBOX", info, error_r);
	if (ret == STORE_NOTFOUND) {
		ret = store_mailbox_provision_defaults(st, address, error_r);
		if (ret == STORE_OK)
			ret = store_mailbox_open(st, address, "INBOX", info, error_r);
	}
	uint64_t id = info->id;
	free(info);
	if (ret != STORE_OK)
		return ret;
	ret = store_append(st, id, msg, 1, NULL, uid_r, error_r);
	if (ret == STORE_OK && mailbox_id_r != NULL)
		*mailbox_id_r = id;
	return ret;
}

int mail_expunge_locked(struct store *st, struct mail_lock *l, const char *uidset,
			bool only_deleted, bool quota, uint32_t **uids_r, size_t *count_r)
{
	char idbuf[24], modseq[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l->id);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, l->highestmodseq + 1);
	int ret = store_exec_prepared(st, STMT_MM_EXPUNGE, &res, idbuf, uidset,
				      only_deleted ? "true" : "false", modseq);
	if (ret != STORE_OK)
		return ret;
	int n = PQntuples(res);
	int64_t bytes = 0;
	uint32_t *uids = n > 0 ? xmalloc(sizeof(*uids) * (size_t)n) : NULL;
	for (int i = 0; i < n; i++) {
		uids[i] = (uint32_t)mail_u64(res, i, 0);
		bytes += (int64_t)mail_u64(res, i, 1);
	}
	PQclear(res);
	if (n > 0 && quota)
		ret = mail_quota_add(st, l->account_id, -bytes, -(int64_t)n, false);
	if (n > 0 && ret == STORE_OK) {
		l->highestmodseq++;
		ret = mail_advance(st, l);
	}
	if (ret == STORE_OK && uids_r != NULL) {
		*uids_r = uids;
		*count_r = (size_t)n;
	} else {
		free(uids);
	}
	return ret;
}

struct expunge_ctx {
	uint64_t mailbox_id;
	const char *uidset;
	uint32_t *uids;
	size_t count;
};

static int expunge_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct expunge_ctx *ctx = _ctx;
	struct mail_lock l;
	free(ctx->uids);
	ctx->uids = NULL;
	ctx->count = 0;
	int ret = mail_lock(st, ctx->mailbox_id, false, &l);
	if (ret == STORE_OK)
		ret = mail_expunge_locked(st, &l, ctx->uidset, true, true, &ctx->uids, &ctx->count);
	return ret;
}

int store_expunge(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		  size_t set_count, uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	struct buf uidset;
	uint32_t min, max;
	buf_init(&uidset, 0);
	int ret = mail_uidset(st, set, set_count, &uidset, &min, &max);
	if (ret != STORE_OK) {
		buf_free(&uidset);
		return mail_done(st, ret, error_r);
	}
	struct expunge_ctx ctx = { .mailbox_id = mailbox_id, .uidset = uidset.data };
	ret = store_tx(st, expunge_tx, &ctx, error_r);
	buf_free(&uidset);
	if (ret == STORE_OK && uids_r != NULL) {
		*uids_r = ctx.uids;
		*count_r = ctx.count;
	} else {
		free(ctx.uids);
	}
	return ret;
}

int mail_copy_locked(struct store *st, struct mail_lock *src, struct mail_lock *dst,
		     const char *uidset, bool move, struct store_copy_result *result)
{
	char srcid[24], dstid[24], uidnext[24], modseq[24];
	PGresult *res;
	snprintf(srcid, sizeof(srcid), "%" PRIu64, src->id);
	snprintf(dstid, sizeof(dstid), "%" PRIu64, dst->id);
	snprintf(uidnext, sizeof(uidnext), "%" PRIu64, dst->uidnext);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, dst->highestmodseq + 1);
	int ret = store_exec_prepared(st, STMT_MM_COPY, &res, srcid, uidset, dstid, uidnext,
				      modseq);
	if (ret != STORE_OK)
		return ret;
	size_t n = (size_t)PQntuples(res);
	int64_t bytes = 0;
	result->uidvalidity = dst->uidvalidity;
	result->count = n;
	result->src = n > 0 ? xmalloc(sizeof(uint32_t) * n) : NULL;
	result->dst = n > 0 ? xmalloc(sizeof(uint32_t) * n) : NULL;
	for (size_t i = 0; i < n; i++) {
		result->src[i] = (uint32_t)mail_u64(res, (int)i, 0);
		result->dst[i] = (uint32_t)mail_u64(res, (int)i, 1);
		bytes += (int64_t)mail_u64(res, (int)i, 2);
	}
	PQclear(res);
	if (n == 0)
		return STORE_OK;
	/* A move inside one account leaves its usage as it is. */
	bool same_account = src->account_id == dst->account_id;
	if (!(move && same_account))
		ret = mail_quota_add(st, dst->account_id, bytes, (int64_t)n, true);
	if (ret != STORE_OK)
		return ret;
	dst->uidnext += n;
	dst->highestmodseq++;
	ret = mail_advance(st, dst);
	if (ret == STORE_OK && move)
		ret = mail_expunge_locked(st, src, uidset, false, !same_account, NULL, NULL);
	return ret;
}

struct copy_ctx {
	uint64_t src_id, dst_id;
	const char *uidset;
	bool move;
	struct store_copy_result result;
};

static int copy_tx(struct store *st, void *_ctx, const char **error_r)
{
	struct copy_ctx *ctx = _ctx;
	struct mail_lock src, dst;
	store_copy_result_free(&ctx->result);
	int ret;
	if (ctx->src_id == ctx->dst_id) {
		ret = mail_lock(st, ctx->src_id, true, &src);
		if (ret == STORE_OK)
			ret = mail_copy_locked(st, &src, &src, ctx->uidset, ctx->move,
					       &ctx->result);
		return ret;
	}
	/* Two mailboxes are always locked in id order (no deadlock between a
	 * move A->B and a move B->A). */
	bool src_first = ctx->src_id < ctx->dst_id;
	ret = mail_lock(st, src_first ? ctx->src_id : ctx->dst_id, !src_first,
			src_first ? &src : &dst);
	if (ret == STORE_OK)
		ret = mail_lock(st, src_first ? ctx->dst_id : ctx->src_id, src_first,
				src_first ? &dst : &src);
	if (ret == STORE_OK)
		ret = mail_copy_locked(st, &src, &dst, ctx->uidset, ctx->move, &ctx->result);
	return ret;
}

int store_copy(struct store *st, uint64_t src_id, uint64_t dst_id,
	       const struct store_uid_range *set, size_t set_count, bool move,
	       struct store_copy_result *result_r, const char **error_r)
{
	struct buf uidset;
	uint32_t min, max;
	/* A MOVE into the same mailbox is allowed (RFC 6851 3.3): the copies
	 * get new uids and the originals are expunged. */
	memset(result_r, 0, sizeof(*result_r));
	buf_init(&uidset, 0);
	int ret = mail_uidset(st, set, set_count, &uidset, &min, &max);
	if (ret != STORE_OK) {
		buf_free(&uidset);
		return mail_done(st, ret, error_r);
	}
	struct copy_ctx ctx = { .src_id = src_id, .dst_id = dst_id, .uidset = uidset.data,
				.move = move };
	ret = store_tx(st, copy_tx, &ctx, error_r);
	buf_free(&uidset);
	if (ret == STORE_OK)
		*result_r = ctx.result;
	else
		store_copy_result_free(&ctx.result);
	return ret;
}

void store_copy_result_free(struct store_copy_result *result)
{
	free(result->src);
	free(result->dst);
	result->src = result->dst = NULL;
	result->count = 0;
}

static void meta_from_row(const PGresult *res, int row, bool full, struct store_msg_meta *m)
{
	memset(m, 0, sizeof(*m));
	m->uid = (uint32_t)mail_u64(res, row, 0);
	m->modseq = mail_u64(res, row, 1);
	m->flags = (unsigned)mail_u64(res, row, 2);
	m->keywords = PQgetvalue(res, row, 3);
	m->internaldate = (time_t)strtoll(PQgetvalue(res, row, 4), NULL, 10);
	m->savedate = (time_t)strtoll(PQgetvalue(res, row, 5), NULL, 10);
	m->size = mail_u64(res, row, 6);
	m->internaldate_zone = (int)strtol(PQgetvalue(res, row, full ? 12 : 7), NULL, 10);
	if (!full)
		return;
	m->lines = mail_u64(res, row, 7);
	m->envelope = PQgetisnull(res, row, 8) ? NULL : PQgetvalue(res, row, 8);
	m->bodystructure = PQgetisnull(res, row, 9) ? NULL : PQgetvalue(res, row, 9);
	m->body = PQgetisnull(res, row, 10) ? NULL : PQgetvalue(res, row, 10);
	m->blob_id = mail_u64(res, row, 11);
}

/* Rows per query of store_fetch: the result set of a 100,000-message
 * mailbox is read in keyset batches (uid > the last one seen) so that only
 * one batch is ever held in memory, and the callback may itself use the
 * store between batches. */
#define STORE_FETCH_BATCH 500

int store_fetch(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		size_t set_count, unsigned what,
		void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
		const char **error_r)
{
	struct buf uidset;
	uint32_t min, max;
	char idbuf[24], lo[16], hi[16], limit[16];
	buf_init(&uidset, 0);
	int ret = mail_uidset(st, set, set_count, &uidset, &min, &max);
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(hi, sizeof(hi), "%" PRIu32, max);
	snprintf(limit, sizeof(limit), "%d", STORE_FETCH_BATCH);
	uint64_t next = min;
	while (ret == STORE_OK && next <= max) {
		PGresult *res = NULL;
		snprintf(lo, sizeof(lo), "%" PRIu64, next);
		ret = store_exec_prepared(st, STMT_MM_FETCH, &res, idbuf, uidset.data,
					  (what & STORE_FETCH_ENVELOPE) ? "true" : "false",
					  (what & STORE_FETCH_BODYSTRUCTURE) ? "true" : "false", lo,
					  hi, limit);
		if (ret != STORE_OK)
			break;
		int rows = PQntuples(res);
		struct store_msg_meta m;
		for (int i = 0; i < rows; i++) {
			meta_from_row(res, i, true, &m);
			next = (uint64_t)m.uid + 1;
			cb(&m, ctx);
		}
		PQclear(res);
		if (rows < STORE_FETCH_BATCH)
			break;
	}
	buf_free(&uidset);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	return STORE_OK;
}

int store_fetch_raw(struct store *st, uint64_t mailbox_id, uint32_t uid, struct buf *out,
		    const char **error_r)
{
	char idbuf[24], uidbuf[16];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(uidbuf, sizeof(uidbuf), "%" PRIu32, uid);
	const char *params[2] = { idbuf, uidbuf };
	/* Binary result: the bytea arrives as the message's bytes. */
	int ret = store_exec_binary(st, STMT_MM_RAW, params, &res);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	if (PQntuples(res) == 0)
		ret = store_fail(st, STORE_NOTFOUND, "no message with uid %" PRIu32, uid);
	else if (buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0)) < 0)
		ret = store_fail(st, STORE_INVALID, "message uid %" PRIu32
				 " does not fit the buffer", uid);
	PQclear(res);
	return mail_done(st, ret, error_r);
}

/* Rows of a one-column uid query into a malloc'ed array. */
static void uid_array(const PGresult *res, uint32_t **uids_r, size_t *count_r)
{
	size_t n = (size_t)PQntuples(res);
	uint32_t *uids = n > 0 ? xmalloc(sizeof(*uids) * n) : NULL;
	for (size_t i = 0; i < n; i++)
		uids[i] = (uint32_t)mail_u64(res, (int)i, 0);
	*uids_r = uids;
	*count_r = n;
}

int store_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r, size_t *count_r,
	       const char **error_r)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	int ret = store_exec_prepared(st, STMT_MM_UIDS, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	uid_array(res, uids_r, count_r);
	PQclear(res);
	return STORE_OK;
}

int store_changes_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
			uint32_t **vanished_r, size_t *vanished_count_r, const char **error_r)
{
	char idbuf[24], ms[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(ms, sizeof(ms), "%" PRIu64, modseq);
	int ret = store_exec_prepared(st, STMT_MBOX_EXISTS, &res, idbuf);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	bool exists = PQntuples(res) > 0;
	PQclear(res);
	if (!exists)
		return mail_done(st, store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64
						" does not exist", mailbox_id), error_r);
	ret = store_exec_prepared(st, STMT_MM_CHANGED, &res, idbuf, ms);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	struct store_msg_meta m;
	for (int i = 0; i < PQntuples(res); i++) {
		meta_from_row(res, i, false, &m);
		cb(&m, ctx);
	}
	PQclear(res);
	ret = store_exec_prepared(st, STMT_MM_VANISHED, &res, idbuf, ms);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	uid_array(res, vanished_r, vanished_count_r);
	PQclear(res);
	return STORE_OK;
}

int store_mailbox_content_count(struct store *st, uint64_t mailbox_id,
				const unsigned char sha256[32], uint64_t *count_r,
				const char **error_r)
{
	char idbuf[24];
	struct buf shahex;
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	buf_init(&shahex, 0);
	mail_hex(&shahex, sha256, 32);
	int ret = store_exec_prepared(st, STMT_MM_CONTENT_COUNT, &res, idbuf, shahex.data);
	buf_free(&shahex);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*count_r = mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}
