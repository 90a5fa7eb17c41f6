/* Incremental IMAP command parser (RFC 3501 / RFC 9051 section 9, with
 * LITERAL+/LITERAL- RFC 7888, BINARY literal8 RFC 3516, UTF8=ACCEPT RFC 6855).
 * It turns the client's byte stream into commands: a tag, a command name and
 * a tree of arguments. Pure: no I/O, no globals.
 *
 * Interface: the session feeds whatever bytes it has read (imap_parser_feed).
 * The parser finds lines itself because whether "{5}" at the end of a line
 * starts a literal, how big it may be and whether the rest of the line must
 * be skipped are syntax decisions; keeping them in one place is what stops a
 * literal being smuggled as commands. Lines complete in the caller's buffer
 * are tokenised in place (only tokens are copied into the command's pool);
 * APPEND message literals are never copied: they come back as chunks pointing
 * into the caller's input (IMAP_PARSER_LITERAL_DATA). */
#ifndef CAIRN_IMAP_PARSER_H
#define CAIRN_IMAP_PARSER_H

#include "util.h"

/* ---- a small arena: everything of one command lives in one ---- */

struct imap_pool;

/* Create an empty pool. Allocation failure aborts. */
struct imap_pool *imap_pool_create(void);
/* Free the pool and everything allocated from it; sets *pool to NULL. */
void imap_pool_destroy(struct imap_pool **pool);
/* Free everything allocated from the pool but keep its first block. */
void imap_pool_clear(struct imap_pool *pool);
/* Allocate size zeroed bytes, aligned for any type; lives until clear/destroy. */
void *imap_pool_alloc(struct imap_pool *pool, size_t size);
/* Copy len bytes plus a terminating NUL into the pool. */
char *imap_pool_strndup(struct imap_pool *pool, const char *s, size_t len);
/* printf into the pool (used for error messages with details). */
char *imap_pool_printf(struct imap_pool *pool, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* ---- the argument tree ---- */

enum imap_arg_type {
	IMAP_ARG_NIL,		/* the atom NIL (any case); str is the text as sent */
	IMAP_ARG_ATOM,		/* an atom, possibly with a [section]<partial> */
	IMAP_ARG_QUOTED,	/* a quoted string, unescaped */
	IMAP_ARG_LITERAL,	/* {N}, {N+} or ~{N}: the bytes are in str/len */
	IMAP_ARG_LITERAL_STREAM,/* an APPEND literal delivered as chunks: only
				   literal_size is set, str is "" */
	IMAP_ARG_LIST,		/* a parenthesised list */
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;		/* ~{N}: may contain NUL */
	bool nonsync;		/* {N+} */
	const char *str;	/* NUL-terminated (may contain NUL for literal8) */
	size_t len;
	uint64_t literal_size;	/* LITERAL and LITERAL_STREAM */
	const struct imap_arg *list;	/* LIST: its elements */
	size_t list_count;
};

struct imap_command {
	const char *tag;
	const char *name;	/* upper-cased; "UID FETCH" etc. for UID commands */
	const struct imap_arg *args;	/* the top-level arguments */
	size_t arg_count;
};

/* Typed accessors. They return true and set the result when arg has the
 * type; astring accepts atoms made of ASTRING-CHARs, NIL (as "NIL"), quoted
 * strings and literals; string accepts only quoted strings and literals;
 * nstring also NIL (*str_r = NULL). */
bool imap_arg_atom(const struct imap_arg *arg, const char **str_r);
bool imap_arg_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_string(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r);
bool imap_arg_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r);
/* True when arg is an atom equal to word, ASCII case-insensitively. */
bool imap_arg_atom_eq(const struct imap_arg *arg, const char *word);

/* Character classes of RFC 9051 section 9, for the typed parsers and writers. */
bool imap_is_atom_char(unsigned char c);	/* ATOM-CHAR */
bool imap_is_astring_char(unsigned char c);	/* ASTRING-CHAR = ATOM-CHAR / "]" */
bool imap_is_list_char(unsigned char c);	/* list-char: ASTRING-CHAR / "%" / "*" */
bool imap_is_tag_char(unsigned char c);	/* ASTRING-CHAR except "+" */
/* True when s[0..len) is valid, shortest-form UTF-8 without NUL, surrogates
 * or code points above U+10FFFF. */
bool imap_utf8_valid(const char *s, size_t len);

/* ---- the parser ---- */

struct imap_parser_limits {
	size_t max_line;	/* bytes in one line, without CRLF (e.g. 8192) */
	size_t max_command;	/* all lines plus inline literals of one command */
	uint64_t max_literal;	/* inline literal (everything but APPEND messages) */
	uint64_t max_append;	/* streamed APPEND literal (APPENDLIMIT) */
	unsigned max_depth;	/* parenthesised list nesting */
	unsigned max_args;	/* arguments at every depth, lists included */
};

enum imap_parser_flags {
	IMAP_PARSER_UTF8 = 1 << 0,		/* UTF8=ACCEPT: UTF-8 in quoted strings */
	IMAP_PARSER_LITERAL_PLUS = 1 << 1,	/* {N+} of any size (up to the limits) */
	IMAP_PARSER_LITERAL_MINUS = 1 << 2,	/* {N+} only up to 4096 octets */
	IMAP_PARSER_BINARY = 1 << 3,		/* ~{N} literal8 accepted */
};

/* The result of imap_parser_feed. */
enum imap_parser_result {
	IMAP_PARSER_ERROR = -1,		/* bad command: see imap_parser_error_*;
					   its line has been skipped */
	IMAP_PARSER_MORE = 0,		/* all input used, need more */
	IMAP_PARSER_COMMAND = 1,	/* a complete command: imap_parser_command */
	IMAP_PARSER_LITERAL = 2,	/* a literal was announced (see below) */
	IMAP_PARSER_LITERAL_DATA = 3,	/* a chunk of a streamed literal */
};

/* What went wrong, so the session can choose the response. */
enum imap_parser_error {
	IMAP_PARSER_ERR_NONE,
	IMAP_PARSER_ERR_SYNTAX,		/* tagged BAD */
	IMAP_PARSER_ERR_LINE_TOO_LONG,	/* tagged BAD (or BYE) */
	IMAP_PARSER_ERR_LIMIT,		/* depth, args, command size: BAD */
	IMAP_PARSER_ERR_LITERAL_TOO_BIG,/* literal over max: NO [TOOBIG] for APPEND */
};

/* A literal announcement or streamed chunk (valid after LITERAL / LITERAL_DATA). */
struct imap_literal {
	uint64_t size;		/* announced size */
	bool sync;		/* {N}: the session must send "+ ..." before feeding on */
	bool literal8;		/* ~{N} */
	bool stream;		/* APPEND message: data comes as LITERAL_DATA chunks */
	const char *chunk;	/* LITERAL_DATA: points into the input just fed */
	size_t chunk_len;
	bool last;		/* LITERAL_DATA: this chunk ends the literal */
};

struct imap_parser;

/* Create a parser with the given limits (copied) and IMAP_PARSER_* flags. */
struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits, unsigned flags);
/* Free the parser and set *p to NULL. */
void imap_parser_destroy(struct imap_parser **p);
/* Change the flags (after ENABLE UTF8=ACCEPT, say); takes effect at once. */
void imap_parser_set_flags(struct imap_parser *p, unsigned flags);

/* Feed up to len bytes. *consumed_r is how many were used; the caller drops
 * them after handling the result (LITERAL_DATA chunks point into them). The
 * command and its arguments stay valid until the next feed or reset.
 *  - COMMAND: a whole command is ready; feed the rest for the next one.
 *  - LITERAL: a synchronising literal ({N} or ~{N}) or any streamed APPEND
 *    literal was announced. Its size is already within the limits. If
 *    literal->sync, send "+ Ready for literal data" (or reject it with
 *    imap_parser_literal_reject) and then go on feeding. imap_parser_command
 *    shows the tag, name and top-level arguments so far.
 *  - LITERAL_DATA: literal->chunk holds the next bytes of a streamed literal;
 *    literal->last marks its end (an empty literal gives one empty last chunk).
 *  - ERROR: reply "tag BAD reason" (imap_parser_error_tag/_reason); then, if
 *    imap_parser_must_disconnect, close the connection. Non-synchronising
 *    literals inline are consumed without any event. */
int imap_parser_feed(struct imap_parser *p, const char *data, size_t len, size_t *consumed_r);
/* The command being parsed (complete after COMMAND, partial after LITERAL). */
const struct imap_command *imap_parser_command(const struct imap_parser *p);
/* The current literal (after LITERAL or LITERAL_DATA). */
const struct imap_literal *imap_parser_literal(const struct imap_parser *p);
/* Refuse the literal just announced (the session answers NO/BAD itself) and
 * forget the command. Returns 0 when the connection can go on (it was {N}),
 * -1 when the client is sending the bytes anyway ({N+}): disconnect. */
int imap_parser_literal_reject(struct imap_parser *p);

/* After ERROR: the kind of error, its human reason, the tag to answer with
 * (the command's tag, or "*" when none was parsed), and whether the session
 * must close the connection (the bad line ended in {N+}, or a {N+} broke
 * the LITERAL- or limit rules, so its bytes would be read as commands). */
enum imap_parser_error imap_parser_error_code(const struct imap_parser *p);
const char *imap_parser_error_reason(const struct imap_parser *p);
const char *imap_parser_error_tag(const struct imap_parser *p);
bool imap_parser_must_disconnect(const struct imap_parser *p);

/* Forget any partial command (e.g. at STARTTLS, when input is discarded). */
void imap_parser_reset(struct imap_parser *p);

#endif
