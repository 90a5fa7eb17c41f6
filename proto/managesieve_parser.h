/* ManageSieve (RFC 5804) command parsing: a command line is split into its
 * name and its arguments (quoted strings, literals {n+} / {n}, numbers),
 * literal by literal, as the session's reader delivers lines and literal
 * chunks; each command's argument count and types are checked once it is
 * complete. Also the checks on script names (RFC 5804 1.6) and the writer
 * of strings in responses. Pure: no I/O, no globals. */
#ifndef CAIRN_MANAGESIEVE_PARSER_H
#define CAIRN_MANAGESIEVE_PARSER_H

#include "util.h"

#define MSIEVE_MAX_ARGS 4
#define MSIEVE_MAX_QUOTED 1024		/* RFC 5804 4: quoted strings */
#define MSIEVE_MAX_NAME 256		/* octets of a script name (our limit) */
#define MSIEVE_MAX_NUMBER 4294967295u	/* RFC 5804 4: number < 4294967296 */

enum msieve_cmd {
	MSIEVE_CMD_UNKNOWN = 0,
	MSIEVE_CMD_AUTHENTICATE, MSIEVE_CMD_STARTTLS, MSIEVE_CMD_LOGOUT,
	MSIEVE_CMD_CAPABILITY, MSIEVE_CMD_HAVESPACE, MSIEVE_CMD_PUTSCRIPT,
	MSIEVE_CMD_LISTSCRIPTS, MSIEVE_CMD_SETACTIVE, MSIEVE_CMD_GETSCRIPT,
	MSIEVE_CMD_DELETESCRIPT, MSIEVE_CMD_RENAMESCRIPT, MSIEVE_CMD_CHECKSCRIPT,
	MSIEVE_CMD_NOOP, MSIEVE_CMD_UNAUTHENTICATE,
};

enum msieve_result {
	MSIEVE_ERROR = -1,	/* syntax error: *error_r says why */
	MSIEVE_DONE = 1,	/* the command (or SASL response) is complete */
	MSIEVE_LITERAL = 2,	/* a literal of p->literal_size octets follows */
};

struct msieve_arg {
	bool is_number;
	uint64_t number;
	char *str;		/* malloc'ed, NUL-terminated (NUL may occur inside a literal) */
	size_t len;
};

struct msieve_parser {
	/* the command so far */
	enum msieve_cmd cmd;
	const char *name;	/* canonical name, "" when unknown */
	struct msieve_arg args[MSIEVE_MAX_ARGS];
	unsigned argc;
	bool started;		/* the command name was read */
	bool response;		/* parsing a SASL response: one string or "*" */
	bool cancelled;		/* the SASL response was "*" */
	/* the literal announced by the last line */
	uint64_t literal_size;
	bool literal_sync;	/* {n} rather than {n+} */
	uint64_t max_literal;	/* larger literals are refused (0: no limit) */
	struct buf literal;	/* chunks of the literal being read */
};

/* Initialise; max_literal bounds every literal (checked before reading). */
void msieve_parser_init(struct msieve_parser *p, uint64_t max_literal);
/* Forget the command parsed so far (frees its arguments). response: the
 * next line is a SASL response (a string, or "*" to cancel) instead of a
 * command. */
void msieve_parser_reset(struct msieve_parser *p, bool response);
/* Free everything. */
void msieve_parser_free(struct msieve_parser *p);
/* Parse one line (without CRLF): the start of a command, or what follows a
 * literal. MSIEVE_DONE (p->cmd and p->args set, checked), MSIEVE_LITERAL
 * (the line ended with a literal announcement within max_literal: feed its
 * bytes to msieve_parser_literal, then the next line here again), or
 * MSIEVE_ERROR with *error_r; when the error is an over-large literal,
 * p->literal_size is set and *too_big_r true (a {n+} literal is coming:
 * the caller must skip it or drop the connection). */
int msieve_parser_line(struct msieve_parser *p, const char *line, size_t len, bool *too_big_r,
		       const char **error_r);
/* Add a chunk of the announced literal; call with last once its last chunk
 * (possibly empty) was added. */
void msieve_parser_literal(struct msieve_parser *p, const char *data, size_t len, bool last);

/* Name of a command, "" for unknown. */
const char *msieve_cmd_name(enum msieve_cmd cmd);
/* A valid script name (RFC 5804 1.6): 1..MSIEVE_MAX_NAME octets of valid
 * UTF-8 with no control characters (0000-001F, 007F-009F) nor U+2028/2029. */
bool msieve_name_valid(const char *name, size_t len);
/* Whether data is valid UTF-8 (no overlongs, surrogates or > U+10FFFF). */
bool msieve_utf8_valid(const char *data, size_t len);
/* Append data as a ManageSieve string: quoted when short and free of CR,
 * LF and NUL (with \" and \\ escaped), else a literal {n}CRLF data. */
void msieve_write_string(struct buf *out, const char *data, size_t len);

#endif
