/* POP3 command lines (RFC 1939, RFC 2449, RFC 5034): split one line (CRLF
 * already removed by the reader) into a command and its arguments, checking
 * the argument count and syntax of each command. Pure: no I/O, no globals. */
#ifndef CAIRN_POP3_PARSER_H
#define CAIRN_POP3_PARSER_H

#include "util.h"

/* RFC 2449 4: a command line is at most 255 octets including CRLF; AUTH
 * initial responses may be longer (RFC 5034 4), up to this many octets. */
#define POP3_MAX_LINE 255
#define POP3_MAX_AUTH_LINE 8192

enum pop3_cmd {
	POP3_CMD_UNKNOWN = 0,
	POP3_CMD_USER, POP3_CMD_PASS, POP3_CMD_APOP, POP3_CMD_AUTH,
	POP3_CMD_STAT, POP3_CMD_LIST, POP3_CMD_RETR, POP3_CMD_DELE,
	POP3_CMD_NOOP, POP3_CMD_RSET, POP3_CMD_QUIT, POP3_CMD_TOP,
	POP3_CMD_UIDL, POP3_CMD_CAPA, POP3_CMD_STLS, POP3_CMD_UTF8,
};

struct pop3_command {
	enum pop3_cmd cmd;
	const char *name;	/* canonical upper-case name, "" when unknown */
	unsigned argc;
	/* Arguments point into the caller's line copy (NUL-terminated there).
	 * PASS keeps its whole remainder, spaces included (RFC 1939 7). */
	const char *argv[2];
	/* Message numbers for RETR/DELE/TOP/LIST/UIDL (1-based); TOP's line
	 * count in number2. has_number is false for LIST/UIDL without one. */
	bool has_number;
	uint32_t number;
	uint32_t number2;
};

/* Parse line[0..len) in place: separators become NUL and line[len] is set
 * to NUL, so the buffer must have room for it (the reader's CR or LF). Returns 0 and fills *cmd_r, or -1 with *error_r describing the
 * syntax problem (for the -ERR reply). An unknown command returns 0 with
 * cmd == POP3_CMD_UNKNOWN so the caller can count it. */
int pop3_parse_command(char *line, size_t len, struct pop3_command *cmd_r, const char **error_r);

/* Append data (a message as stored, CRLF or LF line ends) to out as a POP3
 * multi-line body: every line ends in CRLF, lines starting with '.' get
 * another '.', and the terminating ".\r\n" is appended. With max_body_lines
 * >= 0 (TOP), only the header, the empty line and that many body lines are
 * sent. */
void pop3_write_multiline(const char *data, size_t len, long max_body_lines, struct buf *out);

#endif
