/* METADATA entries (store-metadata.h): reads that merge the user's private
 * rows, the shared rows and the special-use attribute, and writes that run
 * in one transaction with the user's account row locked, so the entry
 * limit holds against concurrent sessions of that user. */
#include "autoconf.h"
#include "store-private.h"
#include "store-metadata.h"
#include "imap_metadata.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Hand out st->error through error_r when ret is not STORE_OK. */
static int meta_done(struct store *st, int ret, const char **error_r)
{
	if (ret != STORE_OK)
		*error_r = st->error;
	return ret;
}

/* The account id (decimal) of address, with the statement stmt (which may
 * lock the row). */
static int meta_account(struct store *st, enum store_stmt_id stmt, const char *address,
			char id_r[24])
{
	PGresult *res;
	int ret = store_exec_prepared(st, stmt, &res, address);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "account %s does not exist", address);
	}
	snprintf(id_r, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

/* The special-use attribute of mailbox idbuf into su_r ("" when none);
 * STORE_NOTFOUND when the mailbox is gone or \Noselect. */
static int meta_mailbox(struct store *st, const char *idbuf, char su_r[16])
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_META_MAILBOX, &res, idbuf);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) == 0 || strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		PQclear(res);
		return store_fail(st, STORE_NOTFOUND, "mailbox %s does not exist", idbuf);
	}
	snprintf(su_r, 16, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return STORE_OK;
}

int store_metadata_get(struct store *st, const char *address, uint64_t mailbox_id,
		       const char *name, int depth,
		       void (*cb)(const char *name, const char *value, size_t len, void *ctx),
		       void *ctx, const char **error_r)
{
	char acct[24], idbuf[24], depthbuf[8], su[16] = "";
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, mailbox_id);
	snprintf(depthbuf, sizeof(depthbuf), "%d", depth < 0 ? -1 : depth > 0 ? 1 : 0);
	int ret = meta_account(st, STMT_META_ACCOUNT, address, acct);
	if (ret == STORE_OK && mailbox_id != 0)
		ret = meta_mailbox(st, idbuf, su);
	if (ret != STORE_OK)
		return meta_done(st, ret, error_r);
	const char *params[] = { idbuf, acct, name, depthbuf };
	PGresult *res;
	ret = store_exec_binary(st, STMT_META_GET, params, &res);
	if (ret != STORE_OK)
		return meta_done(st, ret, error_r);
	/* The special-use entry, in its place in name order. */
	bool su_due = mailbox_id != 0 && su[0] != '\0' &&
		      imap_metadata_match(name, depth, STORE_METADATA_SPECIALUSE);
	for (int i = 0; i < PQntuples(res); i++) {
		const char *n = PQgetvalue(res, i, 0);
		if (su_due && strcmp(n, STORE_METADATA_SPECIALUSE) >= 0) {
			cb(STORE_METADATA_SPECIALUSE, su, strlen(su), ctx);
			su_due = false;
			if (strcmp(n, STORE_METADATA_SPECIALUSE) == 0)
				continue;	/* a stale row never shadows the attribute */
		}
		cb(n, PQgetvalue(res, i, 1), (size_t)PQgetlength(res, i, 1), ctx);
	}
	if (su_due)
		cb(STORE_METADATA_SPECIALUSE, su, strlen(su), ctx);
	PQclear(res);
	return STORE_OK;
}

/* What store_metadata_set hands its transaction. */
struct meta_set_ctx {
	const char *address;
	uint64_t mailbox_id;
	const struct store_metadata_change *changes;
	size_t count;
	uint64_t max_entries;
};

static const char hexdigits[] = "0123456789abcdef";

/* "\x" and the hex of a value (bytea text input). */
static char *meta_hex(const char *data, size_t len)
{
	char *out = xmalloc(len * 2 + 3);
	out[0] = '\\';
	out[1] = 'x';
	for (size_t i = 0; i < len; i++) {
		out[2 + 2 * i] = hexdigits[(unsigned char)data[i] >> 4];
		out[3 + 2 * i] = hexdigits[(unsigned char)data[i] & 0x0f];
	}
	out[len * 2 + 2] = '\0';
	return out;
}

/* The transaction of store_metadata_set (retried on serialization failure). */
static int meta_set_tx(struct store *st, void *vctx, const char **error_r)
{
	struct meta_set_ctx *c = vctx;
	char acct[24], idbuf[24], su[16];
	(void)error_r;
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, c->mailbox_id);
	int ret = meta_account(st, STMT_META_LOCK_ACCOUNT, c->address, acct);
	if (ret == STORE_OK && c->mailbox_id != 0)
		ret = meta_mailbox(st, idbuf, su);
	bool grew = false;
	for (size_t i = 0; i < c->count && ret == STORE_OK; i++) {
		const struct store_metadata_change *ch = &c->changes[i];
		bool priv = strncmp(ch->name, "/private/", 9) == 0;
		if (c->mailbox_id != 0 && strcmp(ch->name, STORE_METADATA_SPECIALUSE) == 0) {
			char *v = xstrndup(ch->value != NULL ? ch->value : "", ch->len);
			ret = store_exec_prepared(st, STMT_META_SET_SPECIALUSE, NULL, idbuf, v);
			if (ret == STORE_INVALID)
				ret = store_fail(st, STORE_INVALID, "'%s' is not a special-use attribute",
						 v);
			free(v);
			continue;
		}
		if (ch->value == NULL) {
			ret = store_exec_prepared(st, STMT_META_DEL, NULL, idbuf, priv ? acct : NULL,
						  ch->name);
			continue;
		}
		char *hex = meta_hex(ch->value, ch->len);
		ret = store_exec_prepared(st, STMT_META_SET, NULL, idbuf, priv ? acct : NULL, ch->name,
					  hex);
		free(hex);
		grew = true;
	}
	if (ret == STORE_OK && grew) {
		PGresult *res;
		ret = store_exec_prepared(st, STMT_META_COUNT, &res, idbuf, acct);
		if (ret != STORE_OK)
			return ret;
		uint64_t n = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		PQclear(res);
		if (n > c->max_entries)
			ret = store_fail(st, STORE_OVERQUOTA,
					 "%" PRIu64 " metadata entries would be set, the limit is %" PRIu64,
					 n, c->max_entries);
	}
	return ret;
}

int store_metadata_set(struct store *st, const char *address, uint64_t mailbox_id,
		       const struct store_metadata_change *changes, size_t count,
		       uint64_t max_entries, const char **error_r)
{
	struct meta_set_ctx c = { .address = address, .mailbox_id = mailbox_id,
				  .changes = changes, .count = count, .max_entries = max_entries };
	return store_tx(st, meta_set_tx, &c, error_r);
}
