/* Helpers of the mail store shared by its files: name and keyword checks,
 * the mailbox lock every change starts with, exact quota accounting in the
 * caller's transaction, NOTIFY after a change, and the text encodings the
 * statements take (uid sets as int8multirange, bytea as hex). */
#include "autoconf.h"
#include "store-mail-private.h"
#include "log.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

int mail_done(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

uint64_t mail_u64(const PGresult *res, int row, int col)
{
	return strtoull(PQgetvalue(res, row, col), NULL, 10);
}

void store_mail_sha256(const void *data, size_t size, unsigned char out[32])
{
	unsigned int len = 32;
	if (EVP_Digest(data, size, out, &len, EVP_sha256(), NULL) != 1)
		fatal("store: SHA-256 failed");
}

int mail_account_id(struct store *st, const char *address, uint64_t *id_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_MAIL_ACCOUNT_ID, &res, address);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		char shown[80];
		snprintf(shown, sizeof(shown), "%s", address);
		for (char *p = shown; *p != '\0'; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		return store_fail(st, STORE_NOTFOUND, "unknown account %s", shown);
	}
	*id_r = mail_u64(res, 0, 0);
	PQclear(res);
	return STORE_OK;
}

/* Length of the UTF-8 sequence at p (at most len bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t len)
{
	size_t n;
	uint32_t cp;
	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int mail_name_normalize(struct store *st, const char *name, char out[STORE_MAILBOX_NAME_MAX + 1])
{
	size_t len = strlen(name);
	const char *why = NULL;
	if (len == 0)
		why = "empty";
	else if (len > STORE_MAILBOX_NAME_MAX)
		why = "longer than 512 bytes";
	else if (name[0] == '/' || name[len - 1] == '/' || strstr(name, "//") != NULL)
		why = "empty hierarchy level";
	for (size_t i = 0; i < len && why == NULL;) {
		unsigned char c = (unsigned char)name[i];
		size_t n = utf8_seq((const unsigned char *)name + i, len - i);
		if (n == 0)
			why = "not valid UTF-8";
		else if (c < 0x20 || c == 0x7f)
			why = "control characters are not allowed";
		else if (c == '*' || c == '%')
			why = "'*' and '%' are not allowed";
		i += n > 0 ? n : 1;
	}
	if (why != NULL)
		return store_fail(st, STORE_INVALID, "invalid mailbox name: %s", why);
	memcpy(out, name, len + 1);
	if (str_ncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
		memcpy(out, "INBOX", 5);
	return STORE_OK;
}

int mail_lock(struct store *st, uint64_t id, bool selectable, struct mail_lock *l)
{
	char idbuf[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, id);
	int ret = store_exec_prepared(st, STMT_MBOX_LOCK, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "mailbox %" PRIu64 " does not exist", id);
	}
	l->id = id;
	l->account_id = mail_u64(res, 0, 0);
	l->uidvalidity = (uint32_t)mail_u64(res, 0, 1);
	l->uidnext = mail_u64(res, 0, 2);
	l->highestmodseq = mail_u64(res, 0, 3);
	l->noselect = PQgetvalue(res, 0, 4)[0] == 't';
	PQclear(res);
	if (selectable && l->noselect)
		return store_fail(st, STORE_INVALID, "mailbox is \\Noselect");
	return STORE_OK;
}

int mail_advance(struct store *st, const struct mail_lock *l)
{
	char idbuf[24], uidnext[24], modseq[24], payload[64];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, l->id);
	snprintf(uidnext, sizeof(uidnext), "%" PRIu64, l->uidnext);
	snprintf(modseq, sizeof(modseq), "%" PRIu64, l->highestmodseq);
	int ret = store_exec_prepared(st, STMT_MBOX_ADVANCE, NULL, idbuf, uidnext, modseq);
	if (ret != STORE_OK)
		return ret;
	snprintf(payload, sizeof(payload), "%" PRIu64 ":%" PRIu64, l->id, l->highestmodseq);
	return store_exec_prepared(st, STMT_MBOX_NOTIFY, NULL, payload);
}

int mail_quota_add(struct store *st, uint64_t account_id, int64_t bytes, int64_t messages,
		   bool check)
{
	char idbuf[24], b[24], m[24];
	PGresult *res;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, account_id);
	snprintf(b, sizeof(b), "%" PRId64, bytes);
	snprintf(m, sizeof(m), "%" PRId64, messages);
	int ret = store_exec_prepared(st, STMT_QUOTA_ADD, &res, idbuf, b, m);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "account %" PRIu64 " has no usage row",
				  account_id);
	}
	int64_t used_b = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	int64_t used_m = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	int64_t lim_b = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	int64_t lim_m = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	PQclear(res);
	if (check && bytes > 0 && lim_b >= 0 && used_b > lim_b)
		return store_fail(st, STORE_OVERQUOTA,
				  "over quota: %" PRId64 " bytes would be used, the limit is %" PRId64,
				  used_b, lim_b);
	if (check && messages > 0 && lim_m >= 0 && used_m > lim_m)
		return store_fail(st, STORE_OVERQUOTA,
				  "over quota: %" PRId64 " messages would be stored, the limit is %"
				  PRId64, used_m, lim_m);
	return STORE_OK;
}

int mail_uidset(struct store *st, const struct store_uid_range *set, size_t count,
		struct buf *out, uint32_t *min_r, uint32_t *max_r)
{
	buf_reset(out);
	if (set == NULL) {
		buf_append_str(out, "{[1,4294967295]}");
		*min_r = 1;
		*max_r = UINT32_MAX;
		return STORE_OK;
	}
	if (count == 0)
		return store_fail(st, STORE_INVALID, "empty uid set");
	uint32_t min = UINT32_MAX, max = 0;
	buf_append_str(out, "{");
	for (size_t i = 0; i < count; i++) {
		uint32_t lo = set[i].lo, hi = set[i].hi;
		if (lo > hi) {
			uint32_t t = lo;
			lo = hi;
			hi = t;
		}
		if (lo == 0)
			return store_fail(st, STORE_INVALID, "uid 0 in a uid set");
		if (lo < min)
			min = lo;
		if (hi > max)
			max = hi;
		buf_printf(out, "%s[%" PRIu32 ",%" PRIu32 "]", i > 0 ? "," : "", lo, hi);
	}
	buf_append_str(out, "}");
	*min_r = min;
	*max_r = max;
	return STORE_OK;
}

int mail_keywords(struct store *st, const char *const *keywords, size_t count, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < count; i++) {
		const char *k = keywords[i];
		size_t len = strlen(k);
		if (len == 0 || len > STORE_KEYWORD_MAX)
			return store_fail(st, STORE_INVALID, "invalid keyword length");
		for (size_t j = 0; j < len; j++) {
			unsigned char c = (unsigned char)k[j];
			/* atom-specials of RFC 3501, and '\' (system flags) */
			if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
				return store_fail(st, STORE_INVALID, "invalid keyword");
		}
		if (i > 0)
			buf_append(out, " ", 1);
		buf_append(out, k, len);
	}
	return STORE_OK;
}

void mail_hex(struct buf *out, const void *data, size_t size)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	if (buf_reserve(out, 2 + size * 2) < 0)
		fatal("store: hex buffer limit");
	char *o = out->data + out->len;
	*o++ = '\\';
	*o++ = 'x';
	for (size_t i = 0; i < size; i++) {
		*o++ = digits[p[i] >> 4];
		*o++ = digits[p[i] & 15];
	}
	*o = '\0';
	out->len += 2 + size * 2;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int mail_unhex(const char *in, size_t len, struct buf *out)
{
	if (len < 2 || in[0] != '\\' || in[1] != 'x' || (len - 2) % 2 != 0)
		return -1;
	size_t n = (len - 2) / 2;
	if (buf_reserve(out, n) < 0)
		return -1;
	char *o = out->data + out->len;
	for (size_t i = 0; i < n; i++) {
		int h = hexval(in[2 + 2 * i]), l = hexval(in[3 + 2 * i]);
		if (h < 0 || l < 0)
			return -1;
		o[i] = (char)(h << 4 | l);
	}
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}
