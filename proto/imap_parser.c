/* IMAP command parser: finds lines in the client's bytes, tokenises each one
 * into tag, command name and an argument tree, and drives literals (inline
 * ones are copied into the command's pool, APPEND messages are streamed back
 * to the session). Errors are reported only once the bad line has ended, so
 * the verdict "must disconnect" can look at how that line ended. */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parser.h"

/* ---- pool ---- */

#define POOL_ALIGN 16
#define POOL_BLOCK 4096

struct pool_block {
	struct pool_block *next;
	size_t size, used;
};

struct imap_pool {
	struct pool_block *blocks;	/* newest first; the last one is kept on clear */
};

static size_t block_header(void)
{
	return (sizeof(struct pool_block) + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
}

static struct pool_block *block_new(size_t size)
{
	struct pool_block *b = xmalloc(block_header() + size);

	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct imap_pool *imap_pool_create(void)
{
	struct imap_pool *pool = xcalloc(1, sizeof(*pool));

	pool->blocks = block_new(POOL_BLOCK);
	return pool;
}

void imap_pool_clear(struct imap_pool *pool)
{
	while (pool->blocks->next != NULL) {
		struct pool_block *b = pool->blocks;

		pool->blocks = b->next;
		free(b);
	}
	pool->blocks->used = 0;
}

void imap_pool_destroy(struct imap_pool **poolp)
{
	struct imap_pool *pool = *poolp;

	if (pool == NULL)
		return;
	imap_pool_clear(pool);
	free(pool->blocks);
	free(pool);
	*poolp = NULL;
}

void *imap_pool_alloc(struct imap_pool *pool, size_t size)
{
	struct pool_block *b = pool->blocks;
	size_t need = (size + POOL_ALIGN - 1) & ~(size_t)(POOL_ALIGN - 1);
	void *ret;

	if (need < size)
		abort();	/* size near SIZE_MAX: a bug, not input */
	if (need == 0)
		need = POOL_ALIGN;
	if (b->size - b->used < need) {
		struct pool_block *nb = block_new(need > POOL_BLOCK ? need : POOL_BLOCK);

		if (need > POOL_BLOCK && b->used > 0) {
			/* keep filling the current block: put the big one behind it */
			nb->next = b->next;
			b->next = nb;
			nb->used = need;
			ret = (char *)nb + block_header();
			memset(ret, 0, size);
			return ret;
		}
		nb->next = b;
		pool->blocks = b = nb;
	}
	ret = (char *)b + block_header() + b->used;
	b->used += need;
	memset(ret, 0, size);
	return ret;
}

char *imap_pool_strndup(struct imap_pool *pool, const char *s, size_t len)
{
	char *d = imap_pool_alloc(pool, len + 1);

	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

char *imap_pool_printf(struct imap_pool *pool, const char *fmt, ...)
{
	va_list ap;
	char *tmp, *ret;

	va_start(ap, fmt);
	tmp = xvasprintf(fmt, ap);
	va_end(ap);
	ret = imap_pool_strndup(pool, tmp, strlen(tmp));
	free(tmp);
	return ret;
}

/* ---- character classes (RFC 9051 section 9) ---- */

static bool is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

bool imap_is_atom_char(unsigned char c)
{
	if (c >= 0x80 || is_ctl(c))
		return false;
	return strchr("(){ %*\"\\]", c) == NULL;
}

bool imap_is_astring_char(unsigned char c)
{
	return c == ']' || imap_is_atom_char(c);
}

bool imap_is_list_char(unsigned char c)
{
	return c == '%' || c == '*' || imap_is_astring_char(c);
}

bool imap_is_tag_char(unsigned char c)
{
	return c != '+' && imap_is_astring_char(c);
}

/* What the tokeniser takes into an atom: CHAR except ( ) { SP CTL and DQUOTE;
 * "\" (flags), "%" "*" (patterns, sets) and "]" are left to typed parsers. */
static bool is_token_char(unsigned char c)
{
	if (c >= 0x80 || is_ctl(c))
		return false;
	return strchr("(){ \"", c) == NULL;
}

bool imap_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len)
		if (str_utf8_next(s, len, &i) <= 0)
			return false;
	return true;
}

/* ---- argument accessors ---- */

bool imap_arg_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	*str_r = arg->str;
	return true;
}

bool imap_arg_atom_eq(const struct imap_arg *arg, const char *word)
{
	return (arg->type == IMAP_ARG_ATOM || arg->type == IMAP_ARG_NIL) &&
		str_casecmp(arg->str, word) == 0;
}

bool imap_arg_string(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type != IMAP_ARG_QUOTED && arg->type != IMAP_ARG_LITERAL)
		return false;
	*str_r = arg->str;
	*len_r = arg->len;
	return true;
}

bool imap_arg_astring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	size_t i;

	if (imap_arg_string(arg, str_r, len_r))
		return true;
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	for (i = 0; i < arg->len; i++) {
		if (!imap_is_astring_char((unsigned char)arg->str[i]))
			return false;
	}
	*str_r = arg->str;
	*len_r = arg->len;
	return true;
}

bool imap_arg_nstring(const struct imap_arg *arg, const char **str_r, size_t *len_r)
{
	if (arg->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		*len_r = 0;
		return true;
	}
	return imap_arg_string(arg, str_r, len_r);
}

bool imap_arg_list(const struct imap_arg *arg, const struct imap_arg **list_r, size_t *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->list;
	*count_r = arg->list_count;
	return true;
}

/* ---- parser ---- */

#define LITERAL_MINUS_MAX 4096
#define TAIL_MAX 32

enum parser_state {
	ST_LINE,	/* collecting a line */
	ST_SKIP,	/* discarding the rest of a bad line; error pending */
	ST_LITERAL,	/* copying an inline literal */
	ST_STREAM,	/* handing out a streamed literal */
};

enum expect {
	EXP_SEP,		/* after a token: SP, ")" or end of line */
	EXP_TOKEN,		/* after SP: a token or "(" */
	EXP_TOKEN_OR_CLOSE,	/* after "(": a token, "(" or ")" */
};

struct frame {
	struct imap_arg *items;
	size_t count, cap;
};

struct imap_parser {
	struct imap_parser_limits lim;
	unsigned flags;
	struct imap_pool *pool;
	struct buf line;
	enum parser_state state;
	bool need_reset;

	/* the command being parsed */
	bool in_args;		/* tag and name done */
	struct imap_command cmd;
	struct frame *stack;	/* stack[0] is the top level */
	unsigned depth;
	enum expect expect;
	size_t nargs;
	size_t cmd_bytes;

	/* the current literal */
	struct imap_literal lit;
	uint64_t lit_left;
	char *lit_buf;
	size_t lit_pos;
	bool lit_announced;	/* LITERAL was just returned */

	/* error */
	enum imap_parser_error err;
	const char *reason;
	bool disconnect;
	char tail[TAIL_MAX];	/* last bytes of a line being skipped */
	size_t tail_len;
	uint64_t tail_total;	/* bytes passed through the tail */
};

struct imap_parser *imap_parser_create(const struct imap_parser_limits *limits, unsigned flags)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->lim = *limits;
	if (p->lim.max_line == 0)
		p->lim.max_line = 8192;
	p->flags = flags;
	p->pool = imap_pool_create();
	buf_init(&p->line, p->lim.max_line + 1);
	p->stack = xcalloc((size_t)p->lim.max_depth + 1, sizeof(*p->stack));
	p->need_reset = true;
	return p;
}

void imap_parser_destroy(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;
	unsigned i;

	if (p == NULL)
		return;
	for (i = 0; i <= p->lim.max_depth; i++)
		free(p->stack[i].items);
	free(p->stack);
	buf_free(&p->line);
	imap_pool_destroy(&p->pool);
	free(p);
	*pp = NULL;
}

void imap_parser_set_flags(struct imap_parser *p, unsigned flags)
{
	p->flags = flags;
}

static void reset_command(struct imap_parser *p)
{
	unsigned i;

	imap_pool_clear(p->pool);
	for (i = 0; i <= p->lim.max_depth; i++)
		p->stack[i].count = 0;
	p->depth = 0;
	p->in_args = false;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->expect = EXP_SEP;
	p->nargs = 0;
	p->cmd_bytes = 0;
	memset(&p->lit, 0, sizeof(p->lit));
	p->lit_left = 0;
	p->lit_buf = NULL;
	p->lit_pos = 0;
	p->lit_announced = false;
	p->err = IMAP_PARSER_ERR_NONE;
	p->reason = NULL;
	p->disconnect = false;
	p->tail_len = 0;
	p->tail_total = 0;
	p->need_reset = false;
}

void imap_parser_reset(struct imap_parser *p)
{
	buf_reset(&p->line);
	p->state = ST_LINE;
	reset_command(p);
}

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	return &p->cmd;
}

const struct imap_literal *imap_parser_literal(const struct imap_parser *p)
{
	return &p->lit;
}

enum imap_parser_error imap_parser_error_code(const struct imap_parser *p)
{
	return p->err;
}

const char *imap_parser_error_reason(const struct imap_parser *p)
{
	return p->reason != NULL ? p->reason : "";
}

const char *imap_parser_error_tag(const struct imap_parser *p)
{
	return p->cmd.tag != NULL ? p->cmd.tag : "*";
}

bool imap_parser_must_disconnect(const struct imap_parser *p)
{
	return p->disconnect;
}

int imap_parser_literal_reject(struct imap_parser *p)
{
	if (!p->lit_announced)
		return -1;
	p->lit_announced = false;
	if (!p->lit.sync)
		return -1;
	p->state = ST_LINE;
	p->need_reset = true;
	return 0;
}

static int fail(struct imap_parser *p, enum imap_parser_error code, const char *reason)
{
	p->err = code;
	p->reason = reason;
	return -1;
}

/* Does the line end in "{digits+}" (or "~{...+}")? With a truncated tail,
 * digits that reach its start count as a literal: better a disconnect than
 * a smuggled command. */
static bool ends_nonsync_literal(const char *s, size_t len, bool truncated)
{
	size_t i;

	if (len < 2 || s[len - 1] != '}' || s[len - 2] != '+')
		return false;
	i = len - 2;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == len - 2)
		return false;	/* no digits */
	if (i == 0)
		return truncated;
	return s[i - 1] == '{';
}

static void tail_add(struct imap_parser *p, const char *s, size_t n)
{
	p->tail_total += n;
	if (n >= TAIL_MAX) {
		memcpy(p->tail, s + n - TAIL_MAX, TAIL_MAX);
		p->tail_len = TAIL_MAX;
		return;
	}
	if (p->tail_len + n > TAIL_MAX) {
		size_t drop = p->tail_len + n - TAIL_MAX;

		memmove(p->tail, p->tail + drop, p->tail_len - drop);
		p->tail_len -= drop;
	}
	memcpy(p->tail + p->tail_len, s, n);
	p->tail_len += n;
}

static int add_arg(struct imap_parser *p, const struct imap_arg *arg)
{
	struct frame *f = &p->stack[p->depth];

	if (p->nargs >= p->lim.max_args)
		return fail(p, IMAP_PARSER_ERR_LIMIT, "Too many arguments");
	p->nargs++;
	if (f->count == f->cap) {
		f->cap = f->cap == 0 ? 8 : f->cap * 2;
		f->items = xrealloc(f->items, f->cap * sizeof(*f->items));
	}
	f->items[f->count++] = *arg;
	if (p->depth == 0) {
		p->cmd.args = f->items;
		p->cmd.arg_count = f->count;
	}
	return 0;
}

static int close_list(struct imap_parser *p)
{
	struct frame *f;
	struct imap_arg arg;
	struct imap_arg *items = NULL;

	if (p->depth == 0)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Unexpected ')'");
	f = &p->stack[p->depth];
	if (f->count > 0) {
		items = imap_pool_alloc(p->pool, f->count * sizeof(*items));
		memcpy(items, f->items, f->count * sizeof(*items));
	}
	memset(&arg, 0, sizeof(arg));
	arg.type = IMAP_ARG_LIST;
	arg.str = "";
	arg.list = items;
	arg.list_count = f->count;
	f->count = 0;
	p->depth--;
	p->nargs--;	/* counted when "(" was seen */
	return add_arg(p, &arg);
}

static bool is_section_prefix(const char *s, size_t len)
{
	static const char *const names[] = {
		"BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (strlen(names[i]) == len && str_ncasecmp(s, names[i], len) == 0)
			return true;
	}
	return false;
}

/* Scan "[...]" and an optional "<...>" after a fetch attribute name. */
static int scan_section(struct imap_parser *p, const char *line, size_t len, size_t *pos)
{
	size_t j = *pos + 1;
	bool in_paren = false;

	for (;;) {
		unsigned char c;

		if (j >= len)
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing ']' in section");
		c = (unsigned char)line[j];
		if (c == ']' && !in_paren) {
			j++;
			break;
		}
		if (c == '(') {
			if (in_paren)
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Nested list in section");
			in_paren = true;
		} else if (c == ')') {
			if (!in_paren)
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Unexpected ')' in section");
			in_paren = false;
		} else if (c == '"') {
			for (j++; j < len && line[j] != '"'; j++) {
				if (!is_token_char((unsigned char)line[j]) && line[j] != ' ' &&
				    line[j] != '(' && line[j] != ')' && line[j] != '{')
					return fail(p, IMAP_PARSER_ERR_SYNTAX,
						    "Invalid characters in section");
				if (line[j] == '\\')
					j++;
			}
			if (j >= len)
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing '\"' in section");
		} else if (c != ' ' && !is_token_char(c)) {
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid characters in section");
		} else if (c == '[') {
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid '[' in section");
		}
		j++;
	}
	if (j < len && line[j] == '<') {
		for (j++; j < len && ((line[j] >= '0' && line[j] <= '9') || line[j] == '.'); j++)
			;
		if (j >= len || line[j] != '>')
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid partial");
		j++;
	}
	if (j < len && line[j] != ' ' && line[j] != ')')
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid characters after section");
	*pos = j;
	return 0;
}

static int parse_atom(struct imap_parser *p, const char *line, size_t len, size_t *pos)
{
	size_t i = *pos, j = i;
	struct imap_arg arg;

	while (j < len) {
		unsigned char c = (unsigned char)line[j];

		if (c == '[' && is_section_prefix(line + i, j - i)) {
			if (scan_section(p, line, len, &j) < 0)
				return -1;
			break;
		}
		if (!is_token_char(c))
			break;
		j++;
	}
	if (j < len && line[j] != ' ' && line[j] != ')')
		return fail(p, IMAP_PARSER_ERR_SYNTAX,
			    (unsigned char)line[j] >= 0x80 ? "8-bit characters in atom" :
			    "Invalid characters in atom");
	memset(&arg, 0, sizeof(arg));
	arg.str = imap_pool_strndup(p->pool, line + i, j - i);
	arg.len = j - i;
	arg.type = str_casecmp(arg.str, "NIL") == 0 ? IMAP_ARG_NIL : IMAP_ARG_ATOM;
	*pos = j;
	return add_arg(p, &arg);
}

static int parse_quoted(struct imap_parser *p, const char *line, size_t len, size_t *pos)
{
	size_t j = *pos + 1, o = 0, end;
	char *out;
	bool eight = false;
	struct imap_arg arg;

	/* size the copy to this string, not to the rest of the line */
	for (end = j; end < len && line[end] != '"'; end++) {
		if (line[end] == '\\' && end + 1 < len)
			end++;
	}
	out = imap_pool_alloc(p->pool, end - j + 1);

	for (;;) {
		unsigned char c;

		if (j >= len)
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing '\"'");
		c = (unsigned char)line[j++];
		if (c == '"')
			break;
		if (c == '\\') {
			if (j >= len || (line[j] != '"' && line[j] != '\\'))
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid escape in quoted string");
			c = (unsigned char)line[j++];
		} else if (c == 0 || c == '\r' || c == '\n') {
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid characters in quoted string");
		} else if (c >= 0x80) {
			if ((p->flags & IMAP_PARSER_UTF8) == 0)
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "8-bit characters in quoted string");
			eight = true;
		}
		out[o++] = (char)c;
	}
	out[o] = '\0';
	if (eight && !imap_utf8_valid(out, o))
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid UTF-8 in quoted string");
	if (j < len && line[j] != ' ' && line[j] != ')')
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing space after quoted string");
	memset(&arg, 0, sizeof(arg));
	arg.type = IMAP_ARG_QUOTED;
	arg.str = out;
	arg.len = o;
	*pos = j;
	return add_arg(p, &arg);
}

/* A literal marker, which must end the line. Returns 0 for a silent inline
 * literal, IMAP_PARSER_LITERAL to report it, -1 on error. */
static int parse_literal(struct imap_parser *p, const char *line, size_t len, size_t pos)
{
	size_t j = pos;
	uint64_t size = 0, limit;
	bool literal8 = false, nonsync = false, overflow = false, digits = false;
	bool stream;

	if (line[j] == '~') {
		literal8 = true;
		j++;
	}
	j++;	/* "{" */
	for (; j < len && line[j] >= '0' && line[j] <= '9'; j++) {
		unsigned d = (unsigned)(line[j] - '0');

		digits = true;
		if (size > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			size = size * 10 + d;
	}
	if (j < len && line[j] == '+') {
		nonsync = true;
		j++;
	}
	if (!digits || j >= len || line[j] != '}')
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid literal");
	if (j + 1 != len)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Literal must end the line");
	if (nonsync)
		p->disconnect = true;	/* any failure from here on */
	if (literal8 && (p->flags & IMAP_PARSER_BINARY) == 0)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "literal8 not allowed");
	if (nonsync && (p->flags & (IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_LITERAL_MINUS)) == 0)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Non-synchronizing literals not allowed");
	stream = str_casecmp(p->cmd.name, "APPEND") == 0 &&
		!(p->depth == 0 && p->stack[0].count == 0);
	limit = stream ? p->lim.max_append : p->lim.max_literal;
	if (nonsync && (p->flags & IMAP_PARSER_LITERAL_PLUS) == 0 && (overflow || size > LITERAL_MINUS_MAX))
		return fail(p, IMAP_PARSER_ERR_LITERAL_TOO_BIG,
			    "Non-synchronizing literal larger than 4096 octets");
	if (overflow || size > limit)
		return fail(p, IMAP_PARSER_ERR_LITERAL_TOO_BIG, "Literal too large");
	if (!stream && size > p->lim.max_command - p->cmd_bytes)
		return fail(p, IMAP_PARSER_ERR_LITERAL_TOO_BIG, "Command too large");
	if (p->nargs >= p->lim.max_args)
		return fail(p, IMAP_PARSER_ERR_LIMIT, "Too many arguments");
	p->disconnect = false;

	memset(&p->lit, 0, sizeof(p->lit));
	p->lit.size = size;
	p->lit.sync = !nonsync;
	p->lit.literal8 = literal8;
	p->lit.stream = stream;
	p->lit_left = size;
	p->expect = EXP_SEP;
	if (stream) {
		struct imap_arg arg;

		memset(&arg, 0, sizeof(arg));
		arg.type = IMAP_ARG_LITERAL_STREAM;
		arg.str = "";
		arg.literal8 = literal8;
		arg.nonsync = nonsync;
		arg.literal_size = size;
		if (add_arg(p, &arg) < 0)
			return -1;
		p->state = ST_STREAM;
		p->lit_announced = true;
		return IMAP_PARSER_LITERAL;
	}
	p->cmd_bytes += (size_t)size;
	p->lit_buf = imap_pool_alloc(p->pool, (size_t)size + 1);
	p->lit_pos = 0;
	p->state = ST_LITERAL;
	p->lit_announced = !nonsync;
	return nonsync ? 0 : IMAP_PARSER_LITERAL;
}

static int finish_literal(struct imap_parser *p)
{
	struct imap_arg arg;

	p->state = ST_LINE;
	if (!p->lit.literal8 && memchr(p->lit_buf, '\0', (size_t)p->lit.size) != NULL)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "NUL in literal");
	memset(&arg, 0, sizeof(arg));
	arg.type = IMAP_ARG_LITERAL;
	arg.str = p->lit_buf;
	arg.len = (size_t)p->lit.size;
	arg.literal8 = p->lit.literal8;
	arg.nonsync = !p->lit.sync;
	arg.literal_size = p->lit.size;
	p->lit_buf[arg.len] = '\0';
	return add_arg(p, &arg);
}

/* The tag and command name at the start of a command's first line. */
static int parse_head(struct imap_parser *p, const char *line, size_t len, size_t *pos)
{
	size_t i = 0, j;
	char *name;

	while (i < len && imap_is_tag_char((unsigned char)line[i]))
		i++;
	if (i == 0)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing or invalid tag");
	if (i == len || line[i] != ' ')
		return fail(p, IMAP_PARSER_ERR_SYNTAX, i == len ? "Missing command" : "Invalid tag");
	p->cmd.tag = imap_pool_strndup(p->pool, line, i);
	j = ++i;
	while (j < len && imap_is_atom_char((unsigned char)line[j]))
		j++;
	if (j == i || (j < len && line[j] != ' '))
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid command name");
	if (j - i == 3 && str_ncasecmp(line + i, "UID", 3) == 0) {
		size_t k = j + 1;

		if (j == len)
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing UID command");
		while (k < len && imap_is_atom_char((unsigned char)line[k]))
			k++;
		if (k == j + 1 || (k < len && line[k] != ' '))
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Invalid UID command");
		j = k;
	}
	name = imap_pool_strndup(p->pool, line + i, j - i);
	for (i = 0; name[i] != '\0'; i++) {
		if (name[i] >= 'a' && name[i] <= 'z')
			name[i] = (char)(name[i] - 'a' + 'A');
	}
	p->cmd.name = name;
	p->in_args = true;
	*pos = j;
	if (j < len) {
		/* the space before the first argument */
		*pos = j + 1;
		p->expect = EXP_TOKEN;
	} else {
		p->expect = EXP_SEP;
	}
	return 0;
}

/* Tokenise one complete line (without its line end). Returns 0 to go on
 * reading (a silent literal, an ignored empty line), IMAP_PARSER_COMMAND,
 * IMAP_PARSER_LITERAL or -1. */
static int parse_line(struct imap_parser *p, const char *line, size_t len)
{
	size_t i = 0;

	if (!p->in_args && len == 0)
		return 0;
	if (len + 2 > p->lim.max_command - p->cmd_bytes)
		return fail(p, IMAP_PARSER_ERR_LIMIT, "Command too large");
	p->cmd_bytes += len + 2;
	if (memchr(line, '\0', len) != NULL)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "NUL in command line");
	if (!p->in_args && parse_head(p, line, len, &i) < 0)
		return -1;

	while (i < len) {
		unsigned char c = (unsigned char)line[i];

		if (p->expect == EXP_SEP) {
			if (c == ' ') {
				p->expect = EXP_TOKEN;
				i++;
			} else if (c == ')') {
				if (close_list(p) < 0)
					return -1;
				i++;
			} else {
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing space between arguments");
			}
			continue;
		}
		if (c == ')') {
			if (p->expect != EXP_TOKEN_OR_CLOSE)
				return fail(p, IMAP_PARSER_ERR_SYNTAX, "Unexpected space before ')'");
			if (close_list(p) < 0)
				return -1;
			p->expect = EXP_SEP;
			i++;
		} else if (c == '(') {
			if (p->depth >= p->lim.max_depth)
				return fail(p, IMAP_PARSER_ERR_LIMIT, "Lists nested too deeply");
			if (p->nargs >= p->lim.max_args)
				return fail(p, IMAP_PARSER_ERR_LIMIT, "Too many arguments");
			p->nargs++;
			p->depth++;
			p->stack[p->depth].count = 0;
			p->expect = EXP_TOKEN_OR_CLOSE;
			i++;
		} else if (c == '"') {
			if (parse_quoted(p, line, len, &i) < 0)
				return -1;
			p->expect = EXP_SEP;
		} else if (c == '{' || (c == '~' && i + 1 < len && line[i + 1] == '{')) {
			return parse_literal(p, line, len, i);
		} else if (c == ' ') {
			return fail(p, IMAP_PARSER_ERR_SYNTAX, "Unexpected space");
		} else {
			if (parse_atom(p, line, len, &i) < 0)
				return -1;
			p->expect = EXP_SEP;
		}
	}
	if (p->expect == EXP_TOKEN)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Unexpected space at end of line");
	if (p->depth > 0)
		return fail(p, IMAP_PARSER_ERR_SYNTAX, "Missing ')'");
	return IMAP_PARSER_COMMAND;
}

/* The tag of a line too long to keep, from its first max_line + 1 bytes. */
static void tag_from_prefix(struct imap_parser *p, const char *s, size_t n)
{
	size_t i = 0;

	if (p->in_args)
		return;
	while (i < n && imap_is_tag_char((unsigned char)s[i]))
		i++;
	if (i > 0 && i < n && s[i] == ' ')
		p->cmd.tag = imap_pool_strndup(p->pool, s, i);
}

/* The bad line has ended: decide on disconnecting and get ready for the
 * next command. line/len is the whole line when it was kept, else NULL. */
static int report_error(struct imap_parser *p, const char *line, size_t len)
{
	if (line != NULL) {
		if (ends_nonsync_literal(line, len, false))
			p->disconnect = true;
	} else {
		size_t n = p->tail_len;

		if (n > 0 && p->tail[n - 1] == '\r')
			n--;
		if (ends_nonsync_literal(p->tail, n, p->tail_total > TAIL_MAX))
			p->disconnect = true;
	}
	p->state = ST_LINE;
	p->need_reset = true;
	buf_reset(&p->line);
	return IMAP_PARSER_ERROR;
}

int imap_parser_feed(struct imap_parser *p, const char *data, size_t len, size_t *consumed_r)
{
	size_t off = 0;

	if (p->need_reset)
		reset_command(p);
	p->lit_announced = false;
	for (;;) {
		switch (p->state) {
		case ST_STREAM: {
			size_t n = len - off;

			if (p->lit_left > 0 && n == 0)
				goto more;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			p->lit.chunk = n > 0 ? data + off : "";
			p->lit.chunk_len = n;
			p->lit_left -= n;
			p->lit.last = p->lit_left == 0;
			off += n;
			if (p->lit.last)
				p->state = ST_LINE;
			*consumed_r = off;
			return IMAP_PARSER_LITERAL_DATA;
		}
		case ST_LITERAL: {
			size_t n = len - off;

			if (p->lit_left > 0 && n == 0)
				goto more;
			if (n > p->lit_left)
				n = (size_t)p->lit_left;
			if (n > 0)
				memcpy(p->lit_buf + p->lit_pos, data + off, n);
			p->lit_pos += n;
			p->lit_left -= n;
			off += n;
			if (p->lit_left == 0 && finish_literal(p) < 0) {
				p->tail_len = 0;
				p->tail_total = 0;
				p->state = ST_SKIP;
			}
			continue;
		}
		case ST_SKIP: {
			const char *lf;

			if (off == len)
				goto more;
			lf = memchr(data + off, '\n', len - off);
			if (lf == NULL) {
				tail_add(p, data + off, len - off);
				off = len;
				goto more;
			}
			tail_add(p, data + off, (size_t)(lf - (data + off)));
			off = (size_t)(lf - data) + 1;
			*consumed_r = off;
			return report_error(p, NULL, 0);
		}
		case ST_LINE: {
			const char *lf, *line;
			size_t seg, ll, max = p->lim.max_line + 1;
			int ret;

			if (off == len)
				goto more;
			lf = memchr(data + off, '\n', len - off);
			seg = lf != NULL ? (size_t)(lf - (data + off)) : len - off;
			if (p->line.len + seg > max ||
			    (lf != NULL && p->line.len + seg == max &&
			     (seg > 0 ? data[off + seg - 1] : p->line.data[p->line.len - 1]) != '\r')) {
				/* too long: keep nothing but the tag and the tail */
				size_t take = max - p->line.len;

				if (take > seg)
					take = seg;
				p->tail_len = 0;
				p->tail_total = 0;
				if (p->line.len > 0) {
					(void)buf_append(&p->line, data + off, take);
					tag_from_prefix(p, p->line.data, p->line.len);
					tail_add(p, p->line.data, p->line.len);
					tail_add(p, data + off + take, seg - take);
				} else {
					tag_from_prefix(p, data + off, take);
					tail_add(p, data + off, seg);
				}
				buf_reset(&p->line);
				fail(p, IMAP_PARSER_ERR_LINE_TOO_LONG, "Line too long");
				p->state = ST_SKIP;
				off += seg;
				if (lf == NULL)
					goto more;
				off++;
				*consumed_r = off;
				return report_error(p, NULL, 0);
			}
			if (lf == NULL) {
				(void)buf_append(&p->line, data + off, seg);
				off = len;
				goto more;
			}
			if (p->line.len == 0) {
				line = data + off;
				ll = seg;
			} else {
				(void)buf_append(&p->line, data + off, seg);
				line = p->line.data;
				ll = p->line.len;
			}
			off += seg + 1;
			if (ll > 0 && line[ll - 1] == '\r')
				ll--;
			ret = parse_line(p, line, ll);
			if (ret < 0) {
				*consumed_r = off;
				return report_error(p, line, ll);
			}
			buf_reset(&p->line);
			if (ret == IMAP_PARSER_COMMAND) {
				p->need_reset = true;
				*consumed_r = off;
				return ret;
			}
			if (ret == IMAP_PARSER_LITERAL) {
				*consumed_r = off;
				return ret;
			}
			continue;
		}
		}
	}
more:
	*consumed_r = off;
	return IMAP_PARSER_MORE;
}
