/* IMAP METADATA (RFC 5464) entries (migration 0011): per-server and
 * per-mailbox annotations, /shared ones common to everybody and /private
 * ones per user. Names given here are already checked and lower-cased
 * (proto/imap_metadata.c); the caller decides who may write what. The
 * mailbox entry /private/specialuse is the mailbox's special-use attribute
 * (mailboxes.special_use, RFC 6154 section 4), not a row of its own. */
#ifndef CAIRN_STORE_METADATA_H
#define CAIRN_STORE_METADATA_H

#include "store.h"

/* DEPTH infinity for store_metadata_get. */
#define STORE_METADATA_DEPTH_INFINITY (-1)
/* The entry that maps to the special-use attribute of a mailbox. */
#define STORE_METADATA_SPECIALUSE "/private/specialuse"

/* One SETMETADATA change. */
struct store_metadata_change {
	const char *name;	/* "/private/..." or "/shared/...", lower-case */
	const char *value;	/* NULL removes the entry */
	size_t len;
};

/* Call cb for every entry that user address sees on the server (mailbox_id
 * 0) or the mailbox which matches name at depth (0, 1 or
 * STORE_METADATA_DEPTH_INFINITY), in name order; value points into the
 * store's result and is valid during the call only. STORE_NOTFOUND for an
 * unknown account or mailbox. */
int store_metadata_get(struct store *st, const char *address, uint64_t mailbox_id,
		       const char *name, int depth,
		       void (*cb)(const char *name, const char *value, size_t len, void *ctx),
		       void *ctx, const char **error_r);
/* Apply changes for user address in one transaction. /private entries are
 * the user's own; /private/specialuse of a mailbox takes "" (none) or one
 * of "\All" "\Archive" "\Drafts" "\Flagged" "\Junk" "\Sent" "\Trash".
 * STORE_OVERQUOTA (nothing changed) when the entries the user sees there
 * would number more than max_entries; STORE_NOTFOUND for an unknown or
 * \Noselect mailbox. */
int store_metadata_set(struct store *st, const char *address, uint64_t mailbox_id,
		       const struct store_metadata_change *changes, size_t count,
		       uint64_t max_entries, const char **error_r);

#endif
