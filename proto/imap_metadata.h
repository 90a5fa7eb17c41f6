/* IMAP METADATA (RFC 5464) arguments and values, and the OBJECTID (RFC
 * 8474) spelling of store ids. METADATA: entry names (checked and
 * lower-cased: the RFC makes them case-insensitive), the GETMETADATA
 * options (MAXSIZE, DEPTH) and entry list, the SETMETADATA entry/value
 * pairs (values are strings, literal8 or NIL), and writing a value back.
 * Pure: works on the argument tree of imap_parser, allocates from the
 * caller's pool, never touches a socket or the store. */
#ifndef CAIRN_IMAP_METADATA_H
#define CAIRN_IMAP_METADATA_H

#include "imap_parser.h"

/* Longest entry name accepted, in bytes. */
#define IMAP_METADATA_NAME_MAX 1024
/* DEPTH infinity. */
#define IMAP_METADATA_DEPTH_INFINITY (-1)

/* GETMETADATA [options] mailbox entries. */
struct imap_metadata_get {
	const char *mailbox;		/* as sent (mUTF-7 or UTF-8); "" = server */
	size_t mailbox_len;
	bool maxsize_set;
	uint64_t maxsize;		/* MAXSIZE: longer values are left out */
	int depth;			/* 0, 1 or IMAP_METADATA_DEPTH_INFINITY */
	const char **entries;		/* lower-cased, duplicates removed */
	size_t entry_count;
};

/* One SETMETADATA pair. */
struct imap_metadata_value {
	const char *name;		/* lower-cased */
	const char *value;		/* NULL: NIL, remove the entry */
	size_t len;			/* may contain NUL when sent as literal8 */
};

/* SETMETADATA mailbox (entry value ...). */
struct imap_metadata_set {
	const char *mailbox;
	size_t mailbox_len;
	struct imap_metadata_value *values;	/* a name given twice: the last wins */
	size_t count;
};

/* Check an entry name: "/private/..." or "/shared/..." with non-empty
 * components, no "*", "%", control characters or spaces, valid UTF-8, at
 * most IMAP_METADATA_NAME_MAX bytes. With allow_root, "/private" and
 * "/shared" alone pass too (GETMETADATA may ask for a whole tree). Returns
 * 0 or -1 with the reason. */
int imap_metadata_name_check(const char *name, size_t len, bool allow_root,
			     const char **error_r);
/* Parse GETMETADATA's arguments (after the command name). Returns 0 or -1
 * with a reason for BAD. */
int imap_metadata_get_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
			    struct imap_metadata_get *get_r, const char **error_r);
/* Parse SETMETADATA's arguments. At most max_values pairs. Returns 0 or -1
 * with a reason for BAD. */
int imap_metadata_set_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
			    size_t max_values, struct imap_metadata_set *set_r,
			    const char **error_r);
/* Whether entry (a stored, lower-case name) answers a GETMETADATA request
 * for req at depth: the entry itself, its children (depth 1) or every
 * descendant (infinity). */
bool imap_metadata_match(const char *req, int depth, const char *entry);
/* Append a value as the RFC's nstring / literal8: literal8 when it has a
 * NUL, else a quoted string or literal (utf8: UTF8=ACCEPT is on). Returns
 * 0, or -1 when out's maximum was reached. */
int imap_metadata_write_value(struct buf *out, const char *value, size_t len, bool utf8);

/* ---- OBJECTID ---- */

/* Room for any object id written here, with its NUL. */
#define IMAP_OBJECTID_MAX 24
/* MAILBOXID of a mailbox row: "F" and its id, so it follows the row
 * through RENAME and a new mailbox of the same name gets a new one. */
void imap_objectid_mailbox(uint64_t mailbox_id, char out[IMAP_OBJECTID_MAX]);
/* EMAILID of a message: "M" and the id of its content (the deduplicated
 * blob), so COPY and MOVE keep it and equal content shares it. */
void imap_objectid_email(uint64_t blob_id, char out[IMAP_OBJECTID_MAX]);

#endif
