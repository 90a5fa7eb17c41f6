/* ManageSieve command parser (RFC 5804 4): command names are atoms
 * (case-insensitive), arguments are quoted strings, literals or numbers.
 * A line announcing a literal returns MSIEVE_LITERAL; the literal's bytes
 * become the next argument and the following line continues the command. */
#include "autoconf.h"
#include "managesieve_parser.h"

#include <stdlib.h>
#include <string.h>

struct cmd_def {
	enum msieve_cmd cmd;
	const char *name;
	const char *args;	/* s = string, n = number; after '|' optional */
};

static const struct cmd_def commands[] = {
	{ MSIEVE_CMD_AUTHENTICATE, "AUTHENTICATE", "s|s" },
	{ MSIEVE_CMD_STARTTLS, "STARTTLS", "" },
	{ MSIEVE_CMD_LOGOUT, "LOGOUT", "" },
	{ MSIEVE_CMD_CAPABILITY, "CAPABILITY", "" },
	{ MSIEVE_CMD_HAVESPACE, "HAVESPACE", "sn" },
	{ MSIEVE_CMD_PUTSCRIPT, "PUTSCRIPT", "ss" },
	{ MSIEVE_CMD_LISTSCRIPTS, "LISTSCRIPTS", "" },
	{ MSIEVE_CMD_SETACTIVE, "SETACTIVE", "s" },
	{ MSIEVE_CMD_GETSCRIPT, "GETSCRIPT", "s" },
	{ MSIEVE_CMD_DELETESCRIPT, "DELETESCRIPT", "s" },
	{ MSIEVE_CMD_RENAMESCRIPT, "RENAMESCRIPT", "ss" },
	{ MSIEVE_CMD_CHECKSCRIPT, "CHECKSCRIPT", "s" },
	{ MSIEVE_CMD_NOOP, "NOOP", "|s" },
	{ MSIEVE_CMD_UNAUTHENTICATE, "UNAUTHENTICATE", "" },
};

const char *msieve_cmd_name(enum msieve_cmd cmd)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "";
}

void msieve_parser_init(struct msieve_parser *p, uint64_t max_literal)
{
	memset(p, 0, sizeof(*p));
	p->max_literal = max_literal;
	p->name = "";
	buf_init(&p->literal, 0);
}

void msieve_parser_reset(struct msieve_parser *p, bool response)
{
	for (unsigned i = 0; i < p->argc; i++) {
		if (p->args[i].str != NULL) {
			/* SASL responses and scripts may hold secrets. */
			memset(p->args[i].str, 0, p->args[i].len);
			free(p->args[i].str);
		}
	}
	memset(p->args, 0, sizeof(p->args));
	p->argc = 0;
	p->cmd = MSIEVE_CMD_UNKNOWN;
	p->name = "";
	p->started = false;
	p->response = response;
	p->cancelled = false;
	p->literal_size = 0;
	p->literal_sync = false;
	if (p->literal.data != NULL)
		memset(p->literal.data, 0, p->literal.len);
	buf_free(&p->literal);
}

void msieve_parser_free(struct msieve_parser *p)
{
	msieve_parser_reset(p, false);
}

bool msieve_utf8_valid(const char *data, size_t len)
{
	return str_utf8_valid(data, len);
}

bool msieve_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > MSIEVE_MAX_NAME || !msieve_utf8_valid(name, len))
		return false;
	const unsigned char *s = (const unsigned char *)name;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
		/* U+0080..U+009F are C2 80..C2 9F */
		if (s[i] == 0xc2 && i + 1 < len && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f)
			return false;
		/* U+2028, U+2029 are E2 80 A8, E2 80 A9 */
		if (s[i] == 0xe2 && i + 2 < len && s[i + 1] == 0x80 &&
		    (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))
			return false;
	}
	return true;
}

void msieve_write_string(struct buf *out, const char *data, size_t len)
{
	bool quoted = len <= MSIEVE_MAX_QUOTED;
	for (size_t i = 0; i < len && quoted; i++)
		if (data[i] == '\r' || data[i] == '\n' || data[i] == '\0')
			quoted = false;
	if (!quoted) {
		buf_printf(out, "{%zu}\r\n", len);
		buf_append(out, data, len);
		return;
	}
	buf_append(out, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '"' || data[i] == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, &data[i], 1);
	}
	buf_append(out, "\"", 1);
}

static int fail(const char **error_r, const char *msg)
{
	*error_r = msg;
	return MSIEVE_ERROR;
}

static int add_arg(struct msieve_parser *p, struct msieve_arg *a, const char **error_r)
{
	if (p->argc == MSIEVE_MAX_ARGS || (p->response && p->argc == 1)) {
		free(a->str);
		return fail(error_r, "Too many arguments");
	}
	p->args[p->argc++] = *a;
	return 0;
}

/* Check the complete command's arguments against its table entry. */
static int check_args(struct msieve_parser *p, const char **error_r)
{
	if (p->response)
		return p->argc == 1 || p->cancelled ? MSIEVE_DONE : fail(error_r, "Expected a string");
	const struct cmd_def *def = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].cmd == p->cmd)
			def = &commands[i];
	if (def == NULL)
		return MSIEVE_DONE;	/* unknown: the caller answers NO */
	unsigned i = 0;
	bool optional = false;
	for (const char *t = def->args; *t != '\0'; t++) {
		if (*t == '|') {
			optional = true;
			continue;
		}
		if (i >= p->argc) {
			if (optional)
				break;
			return fail(error_r, "Missing argument");
		}
		if ((*t == 'n') != p->args[i].is_number)
			return fail(error_r, *t == 'n' ? "Expected a number" : "Expected a string");
		i++;
	}
	if (i < p->argc)
		return fail(error_r, "Too many arguments");
	return MSIEVE_DONE;
}

static int parse_quoted(const char *s, size_t len, size_t *pos, struct msieve_arg *a,
			const char **error_r)
{
	struct buf b;
	buf_init(&b, MSIEVE_MAX_QUOTED);
	size_t i = *pos + 1;
	for (;;) {
		if (i >= len) {
			buf_free(&b);
			return fail(error_r, "Unterminated quoted string");
		}
		char c = s[i++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (i >= len || (s[i] != '"' && s[i] != '\\')) {
				buf_free(&b);
				return fail(error_r, "Bad escape in quoted string");
			}
			c = s[i++];
		} else if (c == '\0' || c == '\r' || c == '\n') {
			buf_free(&b);
			return fail(error_r, "Bad character in quoted string");
		}
		if (buf_append(&b, &c, 1) < 0) {
			buf_free(&b);
			return fail(error_r, "Quoted string too long");
		}
	}
	if (!msieve_utf8_valid(b.data != NULL ? b.data : "", b.len)) {
		buf_free(&b);
		return fail(error_r, "Quoted string is not UTF-8");
	}
	a->len = b.len;
	a->str = b.data != NULL ? b.data : xstrdup("");
	*pos = i;
	return 0;
}

/* Parse the arguments in line[pos..len). */
static int parse_args(struct msieve_parser *p, const char *s, size_t len, size_t pos,
		      bool *too_big_r, const char **error_r)
{
	bool first = p->response && p->argc == 0 && pos == 0;
	for (;;) {
		if (pos == len)
			return check_args(p, error_r);
		if (!first) {
			if (s[pos] != ' ')
				return fail(error_r, "Expected a space between arguments");
			pos++;
			if (pos == len)
				return fail(error_r, "Trailing space");
		}
		first = false;
		struct msieve_arg a;
		memset(&a, 0, sizeof(a));
		char c = s[pos];
		if (c == '"') {
			if (parse_quoted(s, len, &pos, &a, error_r) < 0)
				return MSIEVE_ERROR;
		} else if (c == '{') {
			/* The literal announcement ends the line. */
			size_t end = len;
			if (s[end - 1] != '}')
				return fail(error_r, "Literal announcement must end the line");
			end--;
			bool sync = true;
			if (end > pos + 1 && s[end - 1] == '+') {
				sync = false;
				end--;
			}
			uint64_t n;
			if (str_to_u64(s + pos + 1, end - pos - 1, MSIEVE_MAX_NUMBER, &n) < 0)
				return fail(error_r, "Bad literal size");
			if (p->response ? p->argc > 0 : p->argc >= MSIEVE_MAX_ARGS)
				return fail(error_r, "Too many arguments");
			p->literal_size = n;
			p->literal_sync = sync;
			if (p->max_literal > 0 && n > p->max_literal) {
				*too_big_r = true;
				return fail(error_r, "Literal too large");
			}
			buf_free(&p->literal);
			buf_init(&p->literal, 0);
			return MSIEVE_LITERAL;
		} else if (c >= '0' && c <= '9') {
			size_t start = pos;
			while (pos < len && s[pos] >= '0' && s[pos] <= '9')
				pos++;
			if (p->response)
				return fail(error_r, "Expected a string");
			if (str_to_u64(s + start, pos - start, MSIEVE_MAX_NUMBER, &a.number) < 0)
				return fail(error_r, "Number too large");
			a.is_number = true;
		} else if (c == '*' && p->response && p->argc == 0 && pos + 1 == len) {
			p->cancelled = true;
			return MSIEVE_DONE;
		} else {
			return fail(error_r, "Expected a quoted string, a literal or a number");
		}
		if (pos < len && s[pos] != ' ') {
			free(a.str);
			return fail(error_r, "Expected a space between arguments");
		}
		if (add_arg(p, &a, error_r) < 0)
			return MSIEVE_ERROR;
	}
}

int msieve_parser_line(struct msieve_parser *p, const char *line, size_t len, bool *too_big_r,
		       const char **error_r)
{
	*too_big_r = false;
	*error_r = NULL;
	size_t pos = 0;
	if (!p->started && !p->response) {
		while (pos < len && ((line[pos] >= 'A' && line[pos] <= 'Z') ||
				     (line[pos] >= 'a' && line[pos] <= 'z')))
			pos++;
		if (pos == 0)
			return fail(error_r, "Expected a command name");
		if (pos < len && line[pos] != ' ')
			return fail(error_r, "Bad command name");
		p->started = true;
		p->cmd = MSIEVE_CMD_UNKNOWN;
		p->name = "";
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
			if (str_case_eq_n(line, pos, commands[i].name)) {
				p->cmd = commands[i].cmd;
				p->name = commands[i].name;
			}
		}
		if (p->cmd == MSIEVE_CMD_UNKNOWN)
			return MSIEVE_DONE;	/* arguments unknown: not parsed */
	} else if (p->response && p->argc == 0 && !p->started) {
		p->started = true;
		if (len == 0)
			return fail(error_r, "Expected a string");
	}
	return parse_args(p, line, len, pos, too_big_r, error_r);
}

void msieve_parser_literal(struct msieve_parser *p, const char *data, size_t len, bool last)
{
	buf_append(&p->literal, data, len);
	if (!last)
		return;
	struct msieve_arg a;
	memset(&a, 0, sizeof(a));
	a.len = p->literal.len;
	a.str = p->literal.data != NULL ? p->literal.data : xstrdup("");
	buf_init(&p->literal, 0);	/* ownership moved to the argument */
	p->args[p->argc++] = a;	/* room checked when the literal was announced */
	p->literal_size = 0;
}
