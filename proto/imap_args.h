/* Typed parsers for IMAP command arguments, working on the tree that
 * imap_parser produces: sequence sets, dates, flag lists, SEARCH programs,
 * FETCH attributes, STORE, STATUS items and LIST options (RFC 3501, RFC
 * 9051, with CONDSTORE/QRESYNC RFC 7162, ESEARCH RFC 4731, SEARCHRES RFC
 * 5182, WITHIN RFC 5032, LIST-EXTENDED RFC 5258, BINARY RFC 3516). Results
 * are allocated from the caller's pool; errors are human reasons for BAD. */
#ifndef CAIRN_IMAP_ARGS_H
#define CAIRN_IMAP_ARGS_H

#include <time.h>

#include "imap_parser.h"
#include "mime.h"

/* ---- sequence sets ---- */

/* One range as sent. 0 stands for "*" (0 itself is never a valid number). */
struct imap_seq_range {
	uint32_t lo, hi;
};

struct imap_seqset {
	bool last_result;		/* "$" (SEARCHRES): no ranges */
	struct imap_seq_range *ranges;
	size_t count;
};

/* Parse a sequence-set ("1,3:5,7:*" or "$" when allow_dollar). At most
 * max_ranges ranges. Returns 0 or -1. */
int imap_seqset_parse(struct imap_pool *pool, const char *s, bool allow_dollar, size_t max_ranges,
		      struct imap_seqset *set_r, const char **error_r);
/* Resolve "*" to star (the highest number in use; 0 for an empty mailbox,
 * which drops the ranges that mention "*"), order every range, sort and
 * merge. The result (pool-allocated) is ascending and disjoint. */
void imap_seqset_resolve(struct imap_pool *pool, const struct imap_seqset *set, uint32_t star,
			 struct imap_seq_range **ranges_r, size_t *count_r);
/* Largest number the set names once "*" is star (for "no such message"). */
uint32_t imap_seqset_max(const struct imap_seqset *set, uint32_t star);

/* ---- numbers, dates ---- */

/* nz-number (1..4294967295, no leading zero). Returns 0 or -1. */
int imap_parse_nz_number(const char *s, uint32_t *num_r);
/* number64 / mod-sequence-value (0..2^63-1). Returns 0 or -1. */
int imap_parse_number64(const char *s, uint64_t *num_r);
/* date ("1-Feb-1994", month case-insensitive) to midnight UTC of that day.
 * Returns 0 or -1. */
int imap_parse_date(const char *s, time_t *time_r);
/* date-time ("17-Jul-1996 02:44:25 -0700", without the quotes) to UTC; the
 * zone, in minutes east of UTC, goes to *zone_r. Returns 0 or -1. */
int imap_parse_date_time(const char *s, time_t *time_r, int *zone_r);

/* ---- flags ---- */

enum imap_flag {
	IMAP_FLAG_ANSWERED = 1 << 0,
	IMAP_FLAG_FLAGGED = 1 << 1,
	IMAP_FLAG_DELETED = 1 << 2,
	IMAP_FLAG_SEEN = 1 << 3,
	IMAP_FLAG_DRAFT = 1 << 4,
	IMAP_FLAG_RECENT = 1 << 5,	/* never settable by a client */
};

struct imap_flags {
	unsigned system;		/* IMAP_FLAG_* */
	const char **keywords;		/* atoms as sent, duplicates (any case) removed */
	size_t keyword_count;
};

/* The IMAP_FLAG_* for "\Seen" etc. (case-insensitive), or 0. */
unsigned imap_flag_from_name(const char *name);
/* Parse flags for STORE/APPEND: either the elements of a flag-list or loose
 * flag atoms. \Recent and unknown \-flags are refused. Returns 0 or -1. */
int imap_flags_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		     struct imap_flags *flags_r, const char **error_r);

/* ---- SEARCH ---- */

enum imap_search_type {
	IMAP_SEARCH_ALL, IMAP_SEARCH_ANSWERED, IMAP_SEARCH_DELETED, IMAP_SEARCH_DRAFT,
	IMAP_SEARCH_FLAGGED, IMAP_SEARCH_SEEN, IMAP_SEARCH_RECENT, IMAP_SEARCH_NEW,
	IMAP_SEARCH_OLD, IMAP_SEARCH_UNANSWERED, IMAP_SEARCH_UNDELETED, IMAP_SEARCH_UNDRAFT,
	IMAP_SEARCH_UNFLAGGED, IMAP_SEARCH_UNSEEN,
	IMAP_SEARCH_KEYWORD, IMAP_SEARCH_UNKEYWORD,	/* str = the keyword */
	IMAP_SEARCH_BCC, IMAP_SEARCH_CC, IMAP_SEARCH_FROM, IMAP_SEARCH_TO,
	IMAP_SEARCH_SUBJECT, IMAP_SEARCH_BODY, IMAP_SEARCH_TEXT,	/* str */
	IMAP_SEARCH_HEADER,				/* header, str */
	IMAP_SEARCH_BEFORE, IMAP_SEARCH_ON, IMAP_SEARCH_SINCE,		/* date */
	IMAP_SEARCH_SENTBEFORE, IMAP_SEARCH_SENTON, IMAP_SEARCH_SENTSINCE,
	IMAP_SEARCH_LARGER, IMAP_SEARCH_SMALLER,	/* number */
	IMAP_SEARCH_OLDER, IMAP_SEARCH_YOUNGER,		/* number (seconds) */
	IMAP_SEARCH_MODSEQ,				/* number, modseq_entry/_type */
	IMAP_SEARCH_SEQSET, IMAP_SEARCH_UIDSET,		/* set */
	IMAP_SEARCH_NOT,				/* one child */
	IMAP_SEARCH_OR,					/* two children */
	IMAP_SEARCH_AND,				/* children: a parenthesised group */
	IMAP_SEARCH_SAVEDBEFORE, IMAP_SEARCH_SAVEDON, IMAP_SEARCH_SAVEDSINCE,	/* date (RFC 8514) */
	IMAP_SEARCH_SAVEDATESUPPORTED,			/* RFC 8514: every message */
	IMAP_SEARCH_EMAILID, IMAP_SEARCH_THREADID,	/* str: an objectid (RFC 8474) */
};

enum imap_modseq_type { IMAP_MODSEQ_ALL, IMAP_MODSEQ_PRIV, IMAP_MODSEQ_SHARED };

struct imap_search_key {
	enum imap_search_type type;
	const char *str;		/* strings and keywords */
	size_t str_len;
	const char *header;		/* HEADER field name */
	time_t date;			/* midnight UTC of the day */
	uint64_t number;
	struct imap_seqset set;
	const char *modseq_entry;	/* "/flags/\\Seen", or NULL */
	enum imap_modseq_type modseq_type;
	struct imap_search_key *children;	/* first child */
	struct imap_search_key *next;		/* next sibling */
};

enum imap_search_return {
	IMAP_SEARCH_RETURN_MIN = 1 << 0,
	IMAP_SEARCH_RETURN_MAX = 1 << 1,
	IMAP_SEARCH_RETURN_ALL = 1 << 2,
	IMAP_SEARCH_RETURN_COUNT = 1 << 3,
	IMAP_SEARCH_RETURN_SAVE = 1 << 4,
};

struct imap_search_program {
	bool esearch;			/* RETURN (...) was given: answer ESEARCH */
	unsigned return_opts;		/* IMAP_SEARCH_RETURN_*; RETURN () means ALL */
	const char *charset;		/* as sent, or NULL */
	struct imap_search_key root;	/* an AND of the top-level keys */
	bool uses_modseq;		/* MODSEQ appears (CONDSTORE, MODSEQ in reply) */
	bool uses_last_result;		/* "$" appears */
	bool uses_seqset;		/* a message sequence set other than "$"
					   appears (refused under UIDONLY, RFC 9586 3) */
};

struct imap_search_limits {
	unsigned max_depth;		/* NOT/OR/group nesting */
	size_t max_ranges;		/* per sequence set */
};

/* Parse the arguments of SEARCH (or UID SEARCH) after the command name.
 * Returns 0, -1 (syntax: BAD), or -2 for a charset other than UTF-8 and
 * US-ASCII (NO [BADCHARSET (US-ASCII UTF-8)]). */
int imap_search_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		      const struct imap_search_limits *limits, struct imap_search_program **prog_r,
		      const char **error_r);

/* ---- FETCH ---- */

enum imap_fetch_item {
	IMAP_FETCH_FLAGS = 1 << 0,
	IMAP_FETCH_INTERNALDATE = 1 << 1,
	IMAP_FETCH_RFC822_SIZE = 1 << 2,
	IMAP_FETCH_ENVELOPE = 1 << 3,
	IMAP_FETCH_BODY = 1 << 4,		/* BODY (non-extensible structure) */
	IMAP_FETCH_BODYSTRUCTURE = 1 << 5,
	IMAP_FETCH_UID = 1 << 6,
	IMAP_FETCH_MODSEQ = 1 << 7,
	IMAP_FETCH_RFC822 = 1 << 8,		/* sets \Seen */
	IMAP_FETCH_RFC822_HEADER = 1 << 9,
	IMAP_FETCH_RFC822_TEXT = 1 << 10,	/* sets \Seen */
	IMAP_FETCH_SAVEDATE = 1 << 11,		/* RFC 8514 */
	IMAP_FETCH_EMAILID = 1 << 12,		/* RFC 8474 */
	IMAP_FETCH_THREADID = 1 << 13,		/* RFC 8474 */
	IMAP_FETCH_PREVIEW = 1 << 14,		/* RFC 8970 */
};

enum imap_fetch_body_kind {
	IMAP_FETCH_BODY_SECTION,	/* BODY[...]: sets \Seen */
	IMAP_FETCH_BODY_PEEK,		/* BODY.PEEK[...] */
	IMAP_FETCH_BINARY,		/* BINARY[...]: sets \Seen */
	IMAP_FETCH_BINARY_PEEK,		/* BINARY.PEEK[...] */
	IMAP_FETCH_BINARY_SIZE,		/* BINARY.SIZE[...] */
};

struct imap_fetch_body {
	enum imap_fetch_body_kind kind;
	struct mime_section section;	/* ready for mime_section_fetch() */
	bool partial;
	uint64_t partial_offset, partial_len;
	const char *reply_name;		/* e.g. "BODY[HEADER.FIELDS (From)]<0>" */
};

struct imap_fetch {
	unsigned items;			/* IMAP_FETCH_* */
	struct imap_fetch_body *bodies;
	size_t body_count;
	bool changedsince_set;
	uint64_t changedsince;		/* CHANGEDSINCE modifier */
	bool vanished;			/* VANISHED modifier (UID FETCH only) */
	bool preview_lazy;		/* PREVIEW (LAZY), RFC 8970 */
	bool uid_asked;			/* UID was named (UID FETCH adds it to items) */
};

/* Parse the fetch attributes (one arg: a macro, an attribute or a list) and
 * the optional modifier list (NULL if none). uid: UID FETCH (VANISHED is
 * allowed; UID is added to items). Returns 0 or -1. */
int imap_fetch_parse(struct imap_pool *pool, const struct imap_arg *atts,
		     const struct imap_arg *modifiers, bool uid, struct imap_fetch *fetch_r,
		     const char **error_r);

/* ---- STORE ---- */

enum imap_store_mode { IMAP_STORE_REPLACE, IMAP_STORE_ADD, IMAP_STORE_REMOVE };

struct imap_store {
	enum imap_store_mode mode;
	bool silent;
	bool unchangedsince_set;
	uint64_t unchangedsince;
	struct imap_flags flags;
};

/* Parse STORE arguments after the sequence set: [(UNCHANGEDSINCE n)]
 * [+-]FLAGS[.SILENT] then a flag list or loose flags. Returns 0 or -1. */
int imap_store_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		     struct imap_store *store_r, const char **error_r);

/* ---- STATUS ---- */

enum imap_status_item {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_RECENT = 1 << 1,
	IMAP_STATUS_UIDNEXT = 1 << 2,
	IMAP_STATUS_UIDVALIDITY = 1 << 3,
	IMAP_STATUS_UNSEEN = 1 << 4,
	IMAP_STATUS_DELETED = 1 << 5,
	IMAP_STATUS_SIZE = 1 << 6,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7,
	IMAP_STATUS_APPENDLIMIT = 1 << 8,
	IMAP_STATUS_DELETED_STORAGE = 1 << 9,	/* RFC 9208 4.2 */
	IMAP_STATUS_MAILBOXID = 1 << 10,	/* RFC 8474 4.3 */
};

/* Parse a status-att list (a list argument, not empty). Returns 0 or -1. */
int imap_status_parse(const struct imap_arg *list, unsigned *items_r, const char **error_r);

/* ---- LIST ---- */

enum imap_list_select {
	IMAP_LIST_SEL_SUBSCRIBED = 1 << 0,
	IMAP_LIST_SEL_REMOTE = 1 << 1,
	IMAP_LIST_SEL_RECURSIVEMATCH = 1 << 2,
	IMAP_LIST_SEL_SPECIAL_USE = 1 << 3,
};

enum imap_list_return {
	IMAP_LIST_RET_SUBSCRIBED = 1 << 0,
	IMAP_LIST_RET_CHILDREN = 1 << 1,
	IMAP_LIST_RET_SPECIAL_USE = 1 << 2,
	IMAP_LIST_RET_STATUS = 1 << 3,
	IMAP_LIST_RET_MYRIGHTS = 1 << 4,	/* RFC 8440 LIST-MYRIGHTS */
};

struct imap_list_cmd {
	bool extended;			/* selection or return options were given */
	unsigned select;		/* IMAP_LIST_SEL_* */
	unsigned ret;			/* IMAP_LIST_RET_* */
	unsigned status_items;		/* with RETURN (STATUS (...)) */
	const char *reference;
	const char **patterns;		/* one or more (a list in LIST-EXTENDED) */
	size_t pattern_count;
};

/* Parse LIST arguments after the command name. Returns 0 or -1. */
int imap_list_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		    struct imap_list_cmd *list_r, const char **error_r);
/* Match a mailbox name against a LIST pattern: "*" matches anything, "%"
 * anything but sep. Polynomial time whatever the pattern. */
bool imap_list_match(const char *pattern, const char *name, char sep);
/* "INBOX" for any case of inbox, else name itself. */
const char *imap_mailbox_normalize(const char *name);

#endif
