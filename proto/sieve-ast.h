/* The compiled form of a Sieve script, shared by the compiler (proto/sieve.c),
 * the matcher (proto/sieve-match.c) and the interpreter
 * (server/deliver/sieve-exec.c). Not a public API: it may change freely.
 * A script is a tree of nodes whose arguments were validated and resolved
 * (tags to fields, constant strings decoded); strings that reference
 * variables are marked and expanded at run time. */
#ifndef CAIRN_SIEVE_AST_H
#define CAIRN_SIEVE_AST_H

#include "sieve.h"
#include "util.h"

enum sieve_op {
	/* commands */
	SOP_IF, SOP_ELSIF, SOP_ELSE, SOP_STOP, SOP_KEEP, SOP_DISCARD, SOP_REDIRECT,
	SOP_FILEINTO, SOP_REJECT, SOP_EREJECT, SOP_SETFLAG, SOP_ADDFLAG, SOP_REMOVEFLAG,
	SOP_SET, SOP_VACATION, SOP_INCLUDE, SOP_RETURN, SOP_GLOBAL, SOP_ADDHEADER,
	SOP_DELETEHEADER,
	/* tests */
	SOP_ADDRESS, SOP_ALLOF, SOP_ANYOF, SOP_ENVELOPE, SOP_EXISTS, SOP_FALSE, SOP_HEADER,
	SOP_NOT, SOP_SIZE, SOP_TRUE, SOP_HASFLAG, SOP_BODY, SOP_STRING, SOP_DATE,
	SOP_CURRENTDATE, SOP_MAILBOXEXISTS, SOP_METADATA, SOP_METADATAEXISTS,
	SOP_SERVERMETADATA, SOP_SERVERMETADATAEXISTS, SOP_DUPLICATE, SOP_SPAMTEST,
	SOP_VIRUSTEST, SOP_ENVIRONMENT, SOP_SPECIALUSE_EXISTS,
	SOP_COUNT_
};

enum sieve_comparator { SCMP_OCTET, SCMP_CASEMAP, SCMP_NUMERIC };
enum sieve_match_type { SMT_IS, SMT_CONTAINS, SMT_MATCHES, SMT_REGEX, SMT_VALUE, SMT_COUNT };
enum sieve_relop { SREL_NONE, SREL_GT, SREL_GE, SREL_LT, SREL_LE, SREL_EQ, SREL_NE };
enum sieve_addrpart { SAP_ALL, SAP_LOCALPART, SAP_DOMAIN, SAP_USER, SAP_DETAIL };
enum sieve_body_transform { SBT_TEXT, SBT_RAW, SBT_CONTENT };

/* Extensions, as bits in sieve_script.exts. */
enum sieve_ext {
	SEXT_FILEINTO, SEXT_REJECT, SEXT_EREJECT, SEXT_ENVELOPE, SEXT_ENCODED_CHARACTER,
	SEXT_IMAP4FLAGS, SEXT_BODY, SEXT_VARIABLES, SEXT_VACATION, SEXT_VACATION_SECONDS,
	SEXT_COPY, SEXT_RELATIONAL, SEXT_SUBADDRESS, SEXT_DATE, SEXT_INDEX, SEXT_MAILBOX,
	SEXT_MBOXMETADATA, SEXT_SERVERMETADATA, SEXT_INCLUDE, SEXT_DUPLICATE, SEXT_EDITHEADER,
	SEXT_SPAMTEST, SEXT_SPAMTESTPLUS, SEXT_VIRUSTEST, SEXT_ENVIRONMENT, SEXT_REGEX,
	SEXT_FCC, SEXT_SPECIAL_USE, SEXT_NUMERIC, SEXT_COUNT_
};

/* Flags of a node (its tags without arguments). */
#define SNF_OVER	(1u << 0)
#define SNF_UNDER	(1u << 1)
#define SNF_COPY	(1u << 2)
#define SNF_CREATE	(1u << 3)
#define SNF_MIME	(1u << 4)
#define SNF_ONCE	(1u << 5)
#define SNF_OPTIONAL	(1u << 6)
#define SNF_GLOBAL	(1u << 7)	/* include :global */
#define SNF_LAST	(1u << 8)
#define SNF_PERCENT	(1u << 9)
#define SNF_ORIGINALZONE (1u << 10)
#define SNF_HAS_INDEX	(1u << 11)
#define SNF_HAS_FLAGS	(1u << 12)	/* :flags given */
#define SNF_HAS_DAYS	(1u << 13)
#define SNF_HAS_SECONDS	(1u << 14)
#define SNF_HAS_ZONE	(1u << 15)

/* set modifiers (RFC 5229 4.1, :quoteregex from the regex draft) */
#define SMOD_LOWER	(1u << 0)
#define SMOD_UPPER	(1u << 1)
#define SMOD_LOWERFIRST	(1u << 2)
#define SMOD_UPPERFIRST	(1u << 3)
#define SMOD_QUOTEWILDCARD (1u << 4)
#define SMOD_QUOTEREGEX	(1u << 5)
#define SMOD_LENGTH	(1u << 6)
#define SMOD_ENCODEURL	(1u << 7)

struct sieve_str {
	char *s;		/* NUL-terminated (may contain NUL via encoded-character: len rules) */
	size_t len;
	bool var;		/* has variable references to expand at run time */
};

struct sieve_list {
	struct sieve_str *v;
	size_t n;
};

struct sieve_node {
	enum sieve_op op;
	unsigned line, column;
	uint32_t flags;		/* SNF_* */
	/* match options (tests, deleteheader) */
	enum sieve_comparator comparator;
	enum sieve_match_type match;
	enum sieve_relop relop;
	enum sieve_addrpart addrpart;
	enum sieve_body_transform transform;
	struct sieve_list content_types;	/* body :content */
	int64_t index;		/* :index (1-based) */
	/* positional arguments, in order; numbers in num */
	struct sieve_list args[3];
	size_t nargs;
	uint64_t num;		/* size limit */
	/* tagged arguments */
	struct sieve_str from, subject, handle, specialuse, fcc, dup_header, uniqueid, zone;
	struct sieve_list addresses, flaglist;
	uint64_t days;		/* vacation :days or :seconds (in seconds); duplicate :seconds */
	uint32_t modifiers;	/* set: SMOD_* */
	/* tests (allof/anyof/not: several; if/elsif: one) */
	struct sieve_node **tests;
	size_t ntests;
	/* block (if/elsif/else) */
	struct sieve_node **block;
	size_t nblock;
	/* global: resolved; set/string/...: nothing else */
};

struct sieve_script {
	int refs;		/* atomic */
	char *name;
	char *warnings;
	uint64_t exts;		/* bit per enum sieve_ext required */
	struct sieve_node **cmds;
	size_t ncmds;
	struct sieve_limits limits;
	/* arena of every allocation of the script */
	void *arena;
};

static inline bool sieve_has_ext(const struct sieve_script *s, enum sieve_ext e)
{
	return (s->exts >> e) & 1;
}

/* ---- matching (proto/sieve-match.c) ---- */

/* Captured substrings of a :matches or :regex match (${0} .. ${n-1}). */
struct sieve_captures {
	struct buf *v;
	size_t n, max;
};

/* Compare value to key with comparator cmp and match type mt (not
 * SMT_REGEX/SMT_COUNT; SMT_VALUE uses relop). caps, when non-NULL, receives
 * ${0}.. for :matches. *steps is increased by the work done; the matcher gives
 * up (no match) once it passes step_limit. Returns true on a match. */
bool sieve_match(enum sieve_comparator cmp, enum sieve_match_type mt, enum sieve_relop relop,
		 const char *value, size_t vlen, const char *key, size_t klen,
		 struct sieve_captures *caps, uint64_t *steps, uint64_t step_limit);
/* Relational comparison of two values with comparator cmp (RFC 5231). */
bool sieve_relational(enum sieve_comparator cmp, enum sieve_relop op,
		      const char *a, size_t alen, const char *b, size_t blen);
/* Free the capture buffers. */
void sieve_captures_free(struct sieve_captures *caps);
void sieve_captures_reset(struct sieve_captures *caps, size_t n);

/* One address from an RFC 5322 address list. */
struct sieve_address {
	char *local;		/* local part, unquoted; NULL for an unparseable item */
	char *domain;		/* NULL when none */
	char *all;		/* local@domain, or the raw text when unparseable */
};
/* Parse an address-list header value (groups, comments, display names,
 * route addresses). Returns the number of addresses in *addrs_r (malloc'ed;
 * free with sieve_addresses_free). */
size_t sieve_parse_addresses(const char *value, size_t len, struct sieve_address **addrs_r);
void sieve_addresses_free(struct sieve_address *addrs, size_t n);
/* Is s a syntactically valid addr-spec (for redirect/vacation :from)? */
bool sieve_valid_address(const char *s, size_t len);

/* Parse an RFC 5322 date-time. Returns 0 with the UTC time and the zone
 * offset in minutes east, or -1. */
int sieve_parse_date(const char *s, size_t len, int64_t *utc_r, int *zone_r);

#endif
