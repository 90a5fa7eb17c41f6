/* POP3 command parsing and the multi-line response encoder (dot-stuffing and
 * CRLF normalisation for RETR/TOP). Keywords are case-insensitive (RFC 1939
 * 3); arguments are separated by single spaces but we accept runs of them. */
#include "autoconf.h"
#include "pop3_parser.h"

#include <string.h>

struct pop3_cmd_def {
	const char *name;
	enum pop3_cmd cmd;
	unsigned min_args, max_args;
	bool numeric;		/* first argument is a message number */
};

static const struct pop3_cmd_def cmd_defs[] = {
	{ "USER", POP3_CMD_USER, 1, 1, false },
	{ "PASS", POP3_CMD_PASS, 1, 1, false },
	{ "APOP", POP3_CMD_APOP, 2, 2, false },
	{ "AUTH", POP3_CMD_AUTH, 0, 2, false },
	{ "STAT", POP3_CMD_STAT, 0, 0, false },
	{ "LIST", POP3_CMD_LIST, 0, 1, true },
	{ "RETR", POP3_CMD_RETR, 1, 1, true },
	{ "DELE", POP3_CMD_DELE, 1, 1, true },
	{ "NOOP", POP3_CMD_NOOP, 0, 0, false },
	{ "RSET", POP3_CMD_RSET, 0, 0, false },
	{ "QUIT", POP3_CMD_QUIT, 0, 0, false },
	{ "TOP", POP3_CMD_TOP, 2, 2, true },
	{ "UIDL", POP3_CMD_UIDL, 0, 1, true },
	{ "CAPA", POP3_CMD_CAPA, 0, 0, false },
	{ "STLS", POP3_CMD_STLS, 0, 0, false },
	{ "UTF8", POP3_CMD_UTF8, 0, 0, false },
};

static int parse_number(const char *s, uint32_t *value_r)
{
	uint64_t v;
	if (str_to_u64(s, strlen(s), UINT32_MAX, &v) < 0)
		return -1;
	*value_r = (uint32_t)v;
	return 0;
}

int pop3_parse_command(char *line, size_t len, struct pop3_command *cmd_r,
		       const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	cmd_r->name = "";
	if (memchr(line, '\0', len) != NULL) {
		*error_r = "NUL in command line";
		return -1;
	}
	line[len] = '\0';
	/* The keyword: 3-4 printable characters (RFC 1939 3), then space or end. */
	size_t klen = strcspn(line, " ");
	if (klen == 0) {
		*error_r = "empty command";
		return -1;
	}
	const struct pop3_cmd_def *def = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
		if (strlen(cmd_defs[i].name) == klen && str_ncasecmp(line, cmd_defs[i].name, klen) == 0) {
			def = &cmd_defs[i];
			break;
		}
	}
	if (def == NULL)
		return 0;
	cmd_r->cmd = def->cmd;
	cmd_r->name = def->name;

	char *p = line + klen;
	if (def->cmd == POP3_CMD_PASS) {
		/* The password is everything after one space, spaces included. */
		if (*p != ' ' || p[1] == '\0') {
			*error_r = "PASS needs a password";
			return -1;
		}
		cmd_r->argv[0] = p + 1;
		cmd_r->argc = 1;
		return 0;
	}
	while (*p != '\0') {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (cmd_r->argc == def->max_args) {
			*error_r = "too many arguments";
			return -1;
		}
		cmd_r->argv[cmd_r->argc++] = p;
		p += strcspn(p, " ");
	}
	if (cmd_r->argc < def->min_args) {
		*error_r = "missing argument";
		return -1;
	}
	for (unsigned i = 0; i < cmd_r->argc; i++) {
		for (const char *q = cmd_r->argv[i]; *q != '\0'; q++) {
			if ((unsigned char)*q < 0x21 || *q == 0x7f) {
				*error_r = "control character in argument";
				return -1;
			}
		}
		if (strlen(cmd_r->argv[i]) > 40 && def->cmd != POP3_CMD_AUTH &&
		    def->cmd != POP3_CMD_USER && def->cmd != POP3_CMD_APOP) {
			*error_r = "argument too long";
			return -1;
		}
	}
	if (def->numeric && cmd_r->argc >= 1) {
		if (parse_number(cmd_r->argv[0], &cmd_r->number) < 0 || cmd_r->number == 0) {
			*error_r = "invalid message number";
			return -1;
		}
		cmd_r->has_number = true;
		if (def->cmd == POP3_CMD_TOP &&
		    parse_number(cmd_r->argv[1], &cmd_r->number2) < 0) {
			*error_r = "invalid line count";
			return -1;
		}
	}
	return 0;
}

void pop3_write_multiline(const char *data, size_t len, long max_body_lines, struct buf *out)
{
	size_t pos = 0;
	bool in_body = false;
	long body_lines = 0;
	/* Reserve once: the result is the input plus CRs, dots and ".\r\n". */
	buf_reserve(out, len + len / 32 + 16);
	while (pos < len) {
		if (in_body && max_body_lines >= 0 && body_lines >= max_body_lines)
			break;
		const char *start = data + pos;
		const char *lf = memchr(start, '\n', len - pos);
		size_t line_len = lf != NULL ? (size_t)(lf - start) : len - pos;
		size_t next = pos + line_len + (lf != NULL ? 1 : 0);
		if (line_len > 0 && start[line_len - 1] == '\r')
			line_len--;
		if (line_len > 0 && start[0] == '.')
			buf_append(out, ".", 1);
		buf_append(out, start, line_len);
		buf_append(out, "\r\n", 2);
		if (in_body)
			body_lines++;
		else if (line_len == 0)
			in_body = true;
		pos = next;
	}
	buf_append(out, ".\r\n", 3);
}
