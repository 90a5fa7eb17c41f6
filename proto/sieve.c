/* Sieve (RFC 5228 and extensions) lexer, parser and compiler. The source is
 * tokenised and parsed in one pass into generic commands (identifier,
 * arguments, tests, block); each command is then validated against a table
 * of what it accepts (positional arguments, tags, the extension it needs) and
 * resolved into a struct sieve_node the interpreter runs. Every allocation of
 * a script lives in one arena freed with the script. Pure: libc only. */
#include "sieve.h"
#include "sieve-ast.h"
#include "util.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sieve_limits_fill(struct sieve_limits *l)
{
#define D(f, v) if (l->f == 0) l->f = (v)
	D(max_script_size, 1024 * 1024);
	D(max_string, 64 * 1024);
	D(max_nesting, 32);
	D(max_commands, 10000);
	D(max_include_depth, 10);
	D(max_includes, 32);
	D(max_cpu_steps, 1000000);
	D(max_actions, 32);
	D(max_redirects, 4);
	D(max_header_tests, 100000);
	D(max_variables, 255);
	D(max_variable_size, 4000);
	D(max_match_values, 32);
	D(max_header_size, 256 * 1024);
	D(vacation_min_period, 86400);
	D(vacation_max_period, 90 * 86400);
	D(vacation_default_period, 7 * 86400);
	D(duplicate_max_period, 7 * 86400);
	D(duplicate_default_period, 7 * 86400);
	D(regex_match_limit, 100000);
	D(regex_depth_limit, 1000);
#undef D
	if (l->vacation_default_period < l->vacation_min_period)
		l->vacation_default_period = l->vacation_min_period;
}

void sieve_limits_default(struct sieve_limits *l)
{
	memset(l, 0, sizeof(*l));
	sieve_limits_fill(l);
}

/* ---- extensions ---- */

static const char *const ext_names[SEXT_COUNT_] = {
	[SEXT_FILEINTO] = "fileinto", [SEXT_REJECT] = "reject", [SEXT_EREJECT] = "ereject",
	[SEXT_ENVELOPE] = "envelope", [SEXT_ENCODED_CHARACTER] = "encoded-character",
	[SEXT_IMAP4FLAGS] = "imap4flags", [SEXT_BODY] = "body", [SEXT_VARIABLES] = "variables",
	[SEXT_VACATION] = "vacation", [SEXT_VACATION_SECONDS] = "vacation-seconds",
	[SEXT_COPY] = "copy", [SEXT_RELATIONAL] = "relational", [SEXT_SUBADDRESS] = "subaddress",
	[SEXT_DATE] = "date", [SEXT_INDEX] = "index", [SEXT_MAILBOX] = "mailbox",
	[SEXT_MBOXMETADATA] = "mboxmetadata", [SEXT_SERVERMETADATA] = "servermetadata",
	[SEXT_INCLUDE] = "include", [SEXT_DUPLICATE] = "duplicate", [SEXT_EDITHEADER] = "editheader",
	[SEXT_SPAMTEST] = "spamtest", [SEXT_SPAMTESTPLUS] = "spamtestplus",
	[SEXT_VIRUSTEST] = "virustest", [SEXT_ENVIRONMENT] = "environment", [SEXT_REGEX] = "regex",
	[SEXT_FCC] = "fcc", [SEXT_SPECIAL_USE] = "special-use",
	[SEXT_NUMERIC] = "comparator-i;ascii-numeric",
};

const char *sieve_extensions(void)
{
	return "fileinto reject ereject envelope encoded-character imap4flags body variables "
	       "vacation vacation-seconds copy relational subaddress date index mailbox "
	       "mboxmetadata servermetadata include duplicate editheader spamtest spamtestplus "
	       "virustest environment regex fcc special-use comparator-i;ascii-numeric";
}

static int ext_lookup(const char *name)
{
	for (int i = 0; i < SEXT_COUNT_; i++)
		if (strcmp(ext_names[i], name) == 0)
			return i;
	return -1;
}

bool sieve_extension_supported(const char *ext)
{
	return ext_lookup(ext) >= 0 || strcmp(ext, "comparator-i;octet") == 0 ||
	       strcmp(ext, "comparator-i;ascii-casemap") == 0;
}

/* ---- arena ---- */

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct arena {
	struct arena_block *head;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!a->head || a->head->cap - a->head->used < n) {
		size_t cap = n > 8192 ? n : 8192;
		struct arena_block *b = xmalloc(sizeof(*b) + cap);
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	void *p = (char *)a->head->data + a->head->used;
	a->head->used += n;
	memset(p, 0, n);
	return p;
}

static char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
}

/* ---- lexer ---- */

enum tok_kind { T_EOF, T_IDENT, T_TAG, T_NUM, T_STR, T_LBRACKET, T_RBRACKET, T_LPAREN,
		T_RPAREN, T_LBRACE, T_RBRACE, T_COMMA, T_SEMI, T_ERROR };

struct token {
	enum tok_kind kind;
	unsigned line, column;
	const char *text;	/* identifier/tag: into the source */
	size_t len;
	struct buf str;		/* string value (T_STR) */
	uint64_t num;
	bool multiline;
};

struct include_seen {
	char **keys;
	size_t n;
};

struct compiler {
	const char *src;
	size_t len, pos;
	unsigned line;
	size_t line_start;
	struct token tok;	/* current token */
	bool have_tok;
	struct buf errors;
	unsigned nerrors;
	struct buf warnings;
	struct sieve_limits limits;
	const struct sieve_compile_params *params;
	struct arena *arena;
	struct sieve_script *script;
	unsigned commands;
	bool require_done;	/* a non-require command was seen */
	/* include check (compile time) */
	struct include_seen *seen;	/* scripts already checked in this compile */
	unsigned include_depth;
	const char **include_stack;
	size_t include_stack_len;
};

static void err_at(struct compiler *c, unsigned line, unsigned col, const char *fmt, ...)
	ATTR_PRINTF(4, 5);
static void err_at(struct compiler *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	if (c->nerrors++ >= 20)
		return;
	if (c->errors.len)
		buf_append_str(&c->errors, "\n");
	buf_printf(&c->errors, "line %u column %u: ", line, col);
	va_start(ap, fmt);
	buf_vprintf(&c->errors, fmt, ap);
	va_end(ap);
}

static void warn_at(struct compiler *c, unsigned line, unsigned col, const char *fmt, ...)
	ATTR_PRINTF(4, 5);
static void warn_at(struct compiler *c, unsigned line, unsigned col, const char *fmt, ...)
{
	va_list ap;
	if (c->warnings.len)
		buf_append_str(&c->warnings, "\n");
	buf_printf(&c->warnings, "line %u column %u: ", line, col);
	va_start(ap, fmt);
	buf_vprintf(&c->warnings, fmt, ap);
	va_end(ap);
}

static unsigned cur_col(const struct compiler *c)
{
	return (unsigned)(c->pos - c->line_start) + 1;
}

static void newline(struct compiler *c)
{
	c->line++;
	c->line_start = c->pos;
}

/* Skip whitespace and comments. Returns -1 on an unterminated comment. */
static int skip_ws(struct compiler *c)
{
	while (c->pos < c->len) {
		char ch = c->src[c->pos];
		if (ch == '\n') {
			c->pos++;
			newline(c);
		} else if (ch == ' ' || ch == '\t' || ch == '\r') {
			c->pos++;
		} else if (ch == '#') {
			while (c->pos < c->len && c->src[c->pos] != '\n')
				c->pos++;
		} else if (ch == '/' && c->pos + 1 < c->len && c->src[c->pos + 1] == '*') {
			unsigned l = c->line, col = cur_col(c);
			c->pos += 2;
			for (;;) {
				if (c->pos + 1 >= c->len) {
					c->pos = c->len;
					err_at(c, l, col, "unterminated comment");
					return -1;
				}
				if (c->src[c->pos] == '*' && c->src[c->pos + 1] == '/') {
					c->pos += 2;
					break;
				}
				if (c->src[c->pos] == '\n') {
					c->pos++;
					newline(c);
				} else {
					c->pos++;
				}
			}
		} else {
			break;
		}
	}
	return 0;
}

static bool is_ident_start(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

static bool is_ident_char(char ch)
{
	return is_ident_start(ch) || (ch >= '0' && ch <= '9');
}

static void lex_string_add(struct compiler *c, struct token *t, const char *p, size_t n)
{
	if (buf_append(&t->str, p, n) < 0 && t->kind != T_ERROR) {
		err_at(c, t->line, t->column, "string longer than %zu bytes", c->limits.max_string);
		t->kind = T_ERROR;
	}
}

/* Read the next token into c->tok. */
static void lex(struct compiler *c)
{
	struct token *t = &c->tok;
	buf_reset(&t->str);
	t->multiline = false;
	if (skip_ws(c) < 0) {
		t->kind = T_ERROR;
		return;
	}
	t->line = c->line;
	t->column = cur_col(c);
	if (c->pos >= c->len) {
		t->kind = T_EOF;
		return;
	}
	char ch = c->src[c->pos];
	switch (ch) {
	case '[': t->kind = T_LBRACKET; c->pos++; return;
	case ']': t->kind = T_RBRACKET; c->pos++; return;
	case '(': t->kind = T_LPAREN; c->pos++; return;
	case ')': t->kind = T_RPAREN; c->pos++; return;
	case '{': t->kind = T_LBRACE; c->pos++; return;
	case '}': t->kind = T_RBRACE; c->pos++; return;
	case ',': t->kind = T_COMMA; c->pos++; return;
	case ';': t->kind = T_SEMI; c->pos++; return;
	default: break;
	}
	if (ch == ':') {
		c->pos++;
		if (c->pos >= c->len || !is_ident_start(c->src[c->pos])) {
			err_at(c, t->line, t->column, "expected a tag name after ':'");
			t->kind = T_ERROR;
			return;
		}
		t->text = c->src + c->pos;
		while (c->pos < c->len && is_ident_char(c->src[c->pos]))
			c->pos++;
		t->len = (size_t)(c->src + c->pos - t->text);
		t->kind = T_TAG;
		return;
	}
	if (ch >= '0' && ch <= '9') {
		uint64_t v = 0;
		bool over = false;
		while (c->pos < c->len && c->src[c->pos] >= '0' && c->src[c->pos] <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				over = true;
			else
				v = v * 10 + (uint64_t)(c->src[c->pos] - '0');
			c->pos++;
		}
		uint64_t mult = 1;
		if (c->pos < c->len) {
			switch (c->src[c->pos]) {
			case 'K': case 'k': mult = 1024; c->pos++; break;
			case 'M': case 'm': mult = 1024 * 1024; c->pos++; break;
			case 'G': case 'g': mult = 1024ULL * 1024 * 1024; c->pos++; break;
			default: break;
			}
		}
		if (c->pos < c->len && is_ident_char(c->src[c->pos])) {
			err_at(c, t->line, t->column, "invalid character '%c' in a number", c->src[c->pos]);
			t->kind = T_ERROR;
			return;
		}
		if (over || v > INT64_MAX / mult) {
			err_at(c, t->line, t->column, "number too large");
			t->kind = T_ERROR;
			return;
		}
		t->num = v * mult;
		t->kind = T_NUM;
		return;
	}
	if (ch == '"') {
		t->kind = T_STR;
		c->pos++;
		size_t run = c->pos;
		for (;;) {
			if (c->pos >= c->len) {
				err_at(c, t->line, t->column, "unterminated string");
				t->kind = T_ERROR;
				return;
			}
			char d = c->src[c->pos];
			if (d == '"') {
				lex_string_add(c, t, c->src + run, c->pos - run);
				c->pos++;
				break;
			}
			if (d == '\\') {
				lex_string_add(c, t, c->src + run, c->pos - run);
				c->pos++;
				if (c->pos >= c->len)
					continue;
				d = c->src[c->pos];
				/* RFC 5228 2.4.2: "\" before any character stands for it */
				run = c->pos;
				if (d == '\n') {
					c->pos++;
					newline(c);
				} else {
					c->pos++;
				}
				continue;
			}
			if (d == '\n') {
				c->pos++;
				newline(c);
				continue;
			}
			c->pos++;
		}
		return;
	}
	if (is_ident_start(ch)) {
		t->text = c->src + c->pos;
		while (c->pos < c->len && is_ident_char(c->src[c->pos]))
			c->pos++;
		t->len = (size_t)(c->src + c->pos - t->text);
		/* multi-line string: "text:" *(SP / HTAB) (hash-comment / CRLF) */
		if (t->len == 4 && str_ncasecmp(t->text, "text", 4) == 0 && c->pos < c->len &&
		    c->src[c->pos] == ':') {
			c->pos++;
			while (c->pos < c->len && (c->src[c->pos] == ' ' || c->src[c->pos] == '\t'))
				c->pos++;
			if (c->pos < c->len && c->src[c->pos] == '#') {
				while (c->pos < c->len && c->src[c->pos] != '\n')
					c->pos++;
			}
			if (c->pos < c->len && c->src[c->pos] == '\r')
				c->pos++;
			if (c->pos >= c->len || c->src[c->pos] != '\n') {
				err_at(c, c->line, cur_col(c), "expected end of line after 'text:'");
				t->kind = T_ERROR;
				return;
			}
			c->pos++;
			newline(c);
			t->kind = T_STR;
			t->multiline = true;
			for (;;) {
				if (c->pos >= c->len) {
					err_at(c, t->line, t->column,
					       "unterminated multi-line string (missing '.' line)");
					t->kind = T_ERROR;
					return;
				}
				const char *ls = c->src + c->pos;
				const char *nl = memchr(ls, '\n', c->len - c->pos);
				size_t ll = nl ? (size_t)(nl - ls) : c->len - c->pos;
				size_t content = ll;
				if (content > 0 && ls[content - 1] == '\r')
					content--;
				if (content == 1 && ls[0] == '.') {
					c->pos += ll + (nl ? 1 : 0);
					if (nl)
						newline(c);
					break;
				}
				const char *p = ls;
				size_t n = content;
				if (n > 0 && p[0] == '.') {	/* dot-stuffing */
					p++;
					n--;
				}
				lex_string_add(c, t, p, n);
				lex_string_add(c, t, "\r\n", 2);
				c->pos += ll + (nl ? 1 : 0);
				if (nl)
					newline(c);
				else {
					err_at(c, t->line, t->column,
					       "unterminated multi-line string (missing '.' line)");
					t->kind = T_ERROR;
					return;
				}
			}
			return;
		}
		t->kind = T_IDENT;
		return;
	}
	if ((unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f)
		err_at(c, t->line, t->column, "unexpected character 0x%02x", (unsigned char)ch);
	else
		err_at(c, t->line, t->column, "unexpected character '%c'", ch);
	t->kind = T_ERROR;
	c->pos++;
}

/* ---- generic parse tree ---- */

enum garg_kind { GA_TAG, GA_NUM, GA_LIST };

struct garg {
	enum garg_kind kind;
	unsigned line, column;
	char tag[32];
	uint64_t num;
	struct sieve_list list;
	bool single;		/* a string, not a [list] */
	bool used;
};

struct gcmd {
	char name[40];
	unsigned line, column;
	struct garg *args;
	size_t nargs;
	struct gcmd *tests;	/* test list or the single test */
	size_t ntests;
	bool test_list;		/* written with ( ) */
	bool has_block;
	struct gcmd *block;	/* commands */
	size_t nblock;
};

static void gcmd_free(struct gcmd *g)
{
	for (size_t i = 0; i < g->ntests; i++)
		gcmd_free(&g->tests[i]);
	for (size_t i = 0; i < g->nblock; i++)
		gcmd_free(&g->block[i]);
	free(g->tests);
	free(g->block);
	free(g->args);
}

static struct sieve_str make_str(struct compiler *c, const struct buf *b)
{
	struct sieve_str s = { 0 };
	s.s = arena_strndup(c->arena, b->data ? b->data : "", b->len);
	s.len = b->len;
	return s;
}

static int parse_test(struct compiler *c, struct gcmd *g, unsigned depth);

static void add_arg(struct garg **args, size_t *n, const struct garg *a)
{
	*args = xrealloc(*args, (*n + 1) * sizeof(**args));
	(*args)[(*n)++] = *a;
}

/* Parse arguments until a test, '{', ';' or the end of a test. */
static int parse_args(struct compiler *c, struct gcmd *g)
{
	for (;;) {
		struct token *t = &c->tok;
		struct garg a;
		memset(&a, 0, sizeof(a));
		a.line = t->line;
		a.column = t->column;
		if (t->kind == T_TAG) {
			a.kind = GA_TAG;
			if (t->len >= sizeof(a.tag)) {
				err_at(c, t->line, t->column, "unknown tag ':%.*s'", 40, t->text);
				return -1;
			}
			for (size_t k = 0; k < t->len; k++)
				a.tag[k] = (char)tolower((unsigned char)t->text[k]);
			a.tag[t->len] = '\0';
			lex(c);
		} else if (t->kind == T_NUM) {
			a.kind = GA_NUM;
			a.num = t->num;
			lex(c);
		} else if (t->kind == T_STR) {
			a.kind = GA_LIST;
			a.single = true;
			a.list.v = arena_alloc(c->arena, sizeof(struct sieve_str));
			a.list.v[0] = make_str(c, &t->str);
			a.list.n = 1;
			lex(c);
		} else if (t->kind == T_LBRACKET) {
			a.kind = GA_LIST;
			size_t cap = 0;
			struct sieve_str *v = NULL;
			lex(c);
			for (;;) {
				if (t->kind != T_STR) {
					err_at(c, t->line, t->column, "expected a string in the string list");
					free(v);
					return -1;
				}
				if (a.list.n == cap) {
					cap = cap ? cap * 2 : 4;
					v = xrealloc(v, cap * sizeof(*v));
				}
				v[a.list.n++] = make_str(c, &t->str);
				lex(c);
				if (t->kind == T_COMMA) {
					lex(c);
					continue;
				}
				if (t->kind == T_RBRACKET) {
					lex(c);
					break;
				}
				err_at(c, t->line, t->column, "expected ',' or ']' in the string list");
				free(v);
				return -1;
			}
			a.list.v = arena_alloc(c->arena, a.list.n * sizeof(*v));
			memcpy(a.list.v, v, a.list.n * sizeof(*v));
			free(v);
		} else {
			return t->kind == T_ERROR ? -1 : 0;
		}
		add_arg(&g->args, &g->nargs, &a);
		if (g->nargs > 64) {
			err_at(c, a.line, a.column, "too many arguments");
			return -1;
		}
	}
}

static int parse_ident(struct compiler *c, struct gcmd *g)
{
	struct token *t = &c->tok;
	if (t->kind != T_IDENT) {
		if (t->kind != T_ERROR)
			err_at(c, t->line, t->column, "expected a command or test name");
		return -1;
	}
	size_t n = t->len < sizeof(g->name) - 1 ? t->len : sizeof(g->name) - 1;
	memcpy(g->name, t->text, n);
	g->name[n] = '\0';
	for (size_t i = 0; i < n; i++)
		g->name[i] = (char)tolower((unsigned char)g->name[i]);
	g->line = t->line;
	g->column = t->column;
	if (++c->commands > c->limits.max_commands) {
		err_at(c, t->line, t->column, "too many commands and tests (limit %u)",
		       c->limits.max_commands);
		return -1;
	}
	lex(c);
	return 0;
}

static int parse_test(struct compiler *c, struct gcmd *g, unsigned depth)
{
	struct token *t = &c->tok;
	if (depth > c->limits.max_nesting) {
		err_at(c, t->line, t->column, "tests nested too deeply (limit %u)", c->limits.max_nesting);
		return -1;
	}
	if (parse_ident(c, g) < 0 || parse_args(c, g) < 0)
		return -1;
	if (t->kind == T_LPAREN) {
		g->test_list = true;
		lex(c);
		for (;;) {
			g->tests = xrealloc(g->tests, (g->ntests + 1) * sizeof(*g->tests));
			memset(&g->tests[g->ntests], 0, sizeof(*g->tests));
			g->ntests++;
			if (parse_test(c, &g->tests[g->ntests - 1], depth + 1) < 0)
				return -1;
			if (t->kind == T_COMMA) {
				lex(c);
				continue;
			}
			if (t->kind == T_RPAREN) {
				lex(c);
				break;
			}
			if (t->kind != T_ERROR)
				err_at(c, t->line, t->column, "expected ',' or ')' in the test list");
			return -1;
		}
	} else if (t->kind == T_IDENT) {
		g->tests = xcalloc(1, sizeof(*g->tests));
		g->ntests = 1;
		if (parse_test(c, &g->tests[0], depth + 1) < 0)
			return -1;
	}
	return 0;
}

static int parse_commands(struct compiler *c, struct gcmd **cmds, size_t *n, unsigned depth,
			  bool block);

static int parse_command(struct compiler *c, struct gcmd *g, unsigned depth)
{
	struct token *t = &c->tok;
	if (parse_ident(c, g) < 0 || parse_args(c, g) < 0)
		return -1;
	if (t->kind == T_LPAREN || t->kind == T_IDENT) {
		/* a test list or a single test */
		if (t->kind == T_LPAREN) {
			g->test_list = true;
			lex(c);
			for (;;) {
				g->tests = xrealloc(g->tests, (g->ntests + 1) * sizeof(*g->tests));
				memset(&g->tests[g->ntests], 0, sizeof(*g->tests));
				g->ntests++;
				if (parse_test(c, &g->tests[g->ntests - 1], depth + 1) < 0)
					return -1;
				if (t->kind == T_COMMA) {
					lex(c);
					continue;
				}
				if (t->kind == T_RPAREN) {
					lex(c);
					break;
				}
				if (t->kind != T_ERROR)
					err_at(c, t->line, t->column, "expected ',' or ')' in the test list");
				return -1;
			}
		} else {
			g->tests = xcalloc(1, sizeof(*g->tests));
			g->ntests = 1;
			if (parse_test(c, &g->tests[0], depth + 1) < 0)
				return -1;
		}
	}
	if (t->kind == T_SEMI) {
		lex(c);
		return 0;
	}
	if (t->kind == T_LBRACE) {
		if (depth + 1 > c->limits.max_nesting) {
			err_at(c, t->line, t->column, "blocks nested too deeply (limit %u)",
			       c->limits.max_nesting);
			return -1;
		}
		lex(c);
		g->has_block = true;
		if (parse_commands(c, &g->block, &g->nblock, depth + 1, true) < 0)
			return -1;
		if (t->kind != T_RBRACE) {
			if (t->kind != T_ERROR)
				err_at(c, t->line, t->column, "expected '}'");
			return -1;
		}
		lex(c);
		return 0;
	}
	if (t->kind != T_ERROR) {
		if (t->kind == T_EOF)
			err_at(c, t->line, t->column, "expected ';' after '%s' (end of script)", g->name);
		else
			err_at(c, t->line, t->column, "expected ';' or '{' after '%s'", g->name);
	}
	return -1;
}

static int parse_commands(struct compiler *c, struct gcmd **cmds, size_t *n, unsigned depth,
			  bool block)
{
	struct token *t = &c->tok;
	while (t->kind != T_EOF && !(block && t->kind == T_RBRACE)) {
		if (t->kind == T_ERROR)
			return -1;
		*cmds = xrealloc(*cmds, (*n + 1) * sizeof(**cmds));
		memset(&(*cmds)[*n], 0, sizeof(**cmds));
		(*n)++;
		if (parse_command(c, &(*cmds)[*n - 1], depth) < 0)
			return -1;
	}
	return 0;
}

/* ---- validation ---- */

enum targ { TA_NONE, TA_STR, TA_LIST, TA_NUM };

struct tag_spec {
	const char *name;
	enum targ arg;
};

/* What a command or test accepts. pos: positional arguments, 's' string,
 * 'l' string list, 'n' number, '?' marks the rest optional. tags: names
 * separated by spaces (the groups are checked by the code). */
struct cmd_spec {
	const char *name;
	enum sieve_op op;
	bool test;
	int ext;		/* -1: core */
	const char *pos;
	const char *tags;
	int tests;		/* 0 none, 1 one test, 2 test list */
	bool block;
};

static const struct cmd_spec cmd_specs[] = {
	{ "if", SOP_IF, false, -1, "", "", 1, true },
	{ "elsif", SOP_ELSIF, false, -1, "", "", 1, true },
	{ "else", SOP_ELSE, false, -1, "", "", 0, true },
	{ "stop", SOP_STOP, false, -1, "", "", 0, false },
	{ "keep", SOP_KEEP, false, -1, "", "flags", 0, false },
	{ "discard", SOP_DISCARD, false, -1, "", "", 0, false },
	{ "redirect", SOP_REDIRECT, false, -1, "s", "copy", 0, false },
	{ "fileinto", SOP_FILEINTO, false, SEXT_FILEINTO, "s", "flags copy create specialuse", 0, false },
	{ "reject", SOP_REJECT, false, SEXT_REJECT, "s", "", 0, false },
	{ "ereject", SOP_EREJECT, false, SEXT_EREJECT, "s", "", 0, false },
	{ "setflag", SOP_SETFLAG, false, SEXT_IMAP4FLAGS, "l?l", "", 0, false },
	{ "addflag", SOP_ADDFLAG, false, SEXT_IMAP4FLAGS, "l?l", "", 0, false },
	{ "removeflag", SOP_REMOVEFLAG, false, SEXT_IMAP4FLAGS, "l?l", "", 0, false },
	{ "set", SOP_SET, false, SEXT_VARIABLES, "ss",
	  "lower upper lowerfirst upperfirst quotewildcard quoteregex length encodeurl", 0, false },
	{ "vacation", SOP_VACATION, false, SEXT_VACATION, "s",
	  "days seconds subject from addresses mime handle fcc flags create specialuse", 0, false },
	{ "include", SOP_INCLUDE, false, SEXT_INCLUDE, "s", "personal global once optional", 0, false },
	{ "return", SOP_RETURN, false, SEXT_INCLUDE, "", "", 0, false },
	{ "global", SOP_GLOBAL, false, SEXT_INCLUDE, "l", "", 0, false },
	{ "addheader", SOP_ADDHEADER, false, SEXT_EDITHEADER, "ss", "last", 0, false },
	{ "deleteheader", SOP_DELETEHEADER, false, SEXT_EDITHEADER, "s?l",
	  "index last comparator is contains matches regex value count", 0, false },
	{ "address", SOP_ADDRESS, true, -1, "ll",
	  "comparator is contains matches regex value count all localpart domain user detail index last", 0, false },
	{ "allof", SOP_ALLOF, true, -1, "", "", 2, false },
	{ "anyof", SOP_ANYOF, true, -1, "", "", 2, false },
	{ "envelope", SOP_ENVELOPE, true, SEXT_ENVELOPE, "ll",
	  "comparator is contains matches regex value count all localpart domain user detail", 0, false },
	{ "exists", SOP_EXISTS, true, -1, "l", "", 0, false },
	{ "false", SOP_FALSE, true, -1, "", "", 0, false },
	{ "header", SOP_HEADER, true, -1, "ll",
	  "comparator is contains matches regex value count index last", 0, false },
	{ "not", SOP_NOT, true, -1, "", "", 1, false },
	{ "size", SOP_SIZE, true, -1, "n", "over under", 0, false },
	{ "true", SOP_TRUE, true, -1, "", "", 0, false },
	{ "hasflag", SOP_HASFLAG, true, SEXT_IMAP4FLAGS, "l?l",
	  "comparator is contains matches regex value count", 0, false },
	{ "body", SOP_BODY, true, SEXT_BODY, "l",
	  "comparator is contains matches regex value count raw content text", 0, false },
	{ "string", SOP_STRING, true, SEXT_VARIABLES, "ll",
	  "comparator is contains matches regex value count", 0, false },
	{ "date", SOP_DATE, true, SEXT_DATE, "ssl",
	  "comparator is contains matches regex value count zone originalzone index last", 0, false },
	{ "currentdate", SOP_CURRENTDATE, true, SEXT_DATE, "sl",
	  "comparator is contains matches regex value count zone", 0, false },
	{ "mailboxexists", SOP_MAILBOXEXISTS, true, SEXT_MAILBOX, "l", "", 0, false },
	{ "metadata", SOP_METADATA, true, SEXT_MBOXMETADATA, "ssl",
	  "comparator is contains matches regex value count", 0, false },
	{ "metadataexists", SOP_METADATAEXISTS, true, SEXT_MBOXMETADATA, "sl", "", 0, false },
	{ "servermetadata", SOP_SERVERMETADATA, true, SEXT_SERVERMETADATA, "sl",
	  "comparator is contains matches regex value count", 0, false },
	{ "servermetadataexists", SOP_SERVERMETADATAEXISTS, true, SEXT_SERVERMETADATA, "l", "", 0, false },
	{ "duplicate", SOP_DUPLICATE, true, SEXT_DUPLICATE, "",
	  "handle header uniqueid seconds last", 0, false },
	{ "spamtest", SOP_SPAMTEST, true, SEXT_SPAMTEST, "s",
	  "comparator is contains matches regex value count percent", 0, false },
	{ "virustest", SOP_VIRUSTEST, true, SEXT_VIRUSTEST, "s",
	  "comparator is contains matches regex value count", 0, false },
	{ "environment", SOP_ENVIRONMENT, true, SEXT_ENVIRONMENT, "sl",
	  "comparator is contains matches regex value count", 0, false },
	{ "specialuse_exists", SOP_SPECIALUSE_EXISTS, true, SEXT_SPECIAL_USE, "l?l", "", 0, false },
};

static const struct tag_spec tag_specs[] = {
	{ "comparator", TA_STR }, { "is", TA_NONE }, { "contains", TA_NONE }, { "matches", TA_NONE },
	{ "regex", TA_NONE }, { "value", TA_STR }, { "count", TA_STR }, { "all", TA_NONE },
	{ "localpart", TA_NONE }, { "domain", TA_NONE }, { "user", TA_NONE }, { "detail", TA_NONE },
	{ "index", TA_NUM }, { "last", TA_NONE }, { "over", TA_NONE }, { "under", TA_NONE },
	{ "copy", TA_NONE }, { "create", TA_NONE }, { "flags", TA_LIST }, { "specialuse", TA_STR },
	{ "days", TA_NUM }, { "seconds", TA_NUM }, { "subject", TA_STR }, { "from", TA_STR },
	{ "addresses", TA_LIST }, { "mime", TA_NONE }, { "handle", TA_STR }, { "fcc", TA_STR },
	{ "personal", TA_NONE }, { "global", TA_NONE }, { "once", TA_NONE }, { "optional", TA_NONE },
	{ "raw", TA_NONE }, { "content", TA_LIST }, { "text", TA_NONE }, { "zone", TA_STR },
	{ "originalzone", TA_NONE }, { "percent", TA_NONE }, { "header", TA_STR },
	{ "uniqueid", TA_STR }, { "lower", TA_NONE }, { "upper", TA_NONE },
	{ "lowerfirst", TA_NONE }, { "upperfirst", TA_NONE }, { "quotewildcard", TA_NONE },
	{ "quoteregex", TA_NONE }, { "length", TA_NONE }, { "encodeurl", TA_NONE },
};

static bool word_in(const char *words, const char *w)
{
	size_t n = strlen(w);
	const char *p = words;
	while ((p = strstr(p, w)) != NULL) {
		if ((p == words || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
		p += n;
	}
	return false;
}

static bool need_ext(struct compiler *c, int ext, unsigned line, unsigned col, const char *what)
{
	if (ext < 0 || sieve_has_ext(c->script, (enum sieve_ext)ext))
		return true;
	err_at(c, line, col, "%s requires the extension \"%s\" (require \"%s\";)", what,
	       ext_names[ext], ext_names[ext]);
	return false;
}

/* Is name a valid variable name (RFC 5229 3: identifier or num-variable,
 * with an optional namespace prefix like "global.")? */
static bool valid_var_name(const char *s, size_t n, bool allow_num)
{
	if (n == 0)
		return false;
	if (s[0] >= '0' && s[0] <= '9') {
		if (!allow_num)
			return false;
		for (size_t i = 0; i < n; i++)
			if (s[i] < '0' || s[i] > '9')
				return false;
		return true;
	}
	bool start = true;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (start)
				return false;
			start = true;
			continue;
		}
		if (start ? !is_ident_start(s[i]) : !is_ident_char(s[i]))
			return false;
		start = false;
	}
	return !start;
}

/* Does s contain a variable reference "${name}"? */
static bool has_var_ref(const char *s, size_t n)
{
	for (size_t i = 0; i + 3 < n + 1; i++) {
		if (s[i] == '$' && i + 1 < n && s[i + 1] == '{') {
			size_t j = i + 2;
			while (j < n && s[j] != '}' && s[j] != '$')
				j++;
			if (j < n && s[j] == '}' && valid_var_name(s + i + 2, j - i - 2, true))
				return true;
		}
	}
	return false;
}

/* The namespace of a qualified variable name ("global.x"): only "global"
 * exists, and it needs "include" (RFC 5229 3, RFC 6609 3.5). Reports an
 * unknown one; returns false then. */
static bool check_namespace(struct compiler *c, const char *name, size_t n, unsigned line, unsigned col)
{
	const char *dot = memchr(name, '.', n);
	if (!dot)
		return true;
	size_t nl = (size_t)(dot - name);
	if (nl == 6 && str_ncasecmp(name, "global", 6) == 0) {
		if (sieve_has_ext(c->script, SEXT_INCLUDE) && !memchr(dot + 1, '.', n - nl - 1))
			return true;
		if (!sieve_has_ext(c->script, SEXT_INCLUDE)) {
			err_at(c, line, col, "the variable namespace \"global\" requires \"include\"");
			return false;
		}
	}
	err_at(c, line, col, "unknown variable namespace in \"%.*s\"", (int)(n > 64 ? 64 : n), name);
	return false;
}

/* Check the namespaces of the variable references in s. */
static void check_var_refs(struct compiler *c, const char *s, size_t n, unsigned line, unsigned col)
{
	for (size_t i = 0; i + 1 < n; i++) {
		if (s[i] != '$' || s[i + 1] != '{')
			continue;
		size_t j = i + 2;
		while (j < n && s[j] != '}' && s[j] != '$')
			j++;
		if (j < n && s[j] == '}' && valid_var_name(s + i + 2, j - i - 2, true) &&
		    !check_namespace(c, s + i + 2, j - i - 2, line, col))
			return;
	}
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static void put_utf8(struct buf *b, uint32_t cp)
{
	char u[4];
	size_t n;
	if (cp < 0x80) { u[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { u[0] = (char)(0xc0 | (cp >> 6)); u[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
	else if (cp < 0x10000) { u[0] = (char)(0xe0 | (cp >> 12)); u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f)); n = 3; }
	else { u[0] = (char)(0xf0 | (cp >> 18)); u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); u[3] = (char)(0x80 | (cp & 0x3f)); n = 4; }
	buf_append(b, u, n);
}

/* Decode one "${hex:...}" / "${unicode:...}" body (RFC 5228 2.4.2.4) into
 * out. Returns 0, or -1 when it is not a valid encoding (left as is). */
static int decode_encoded(const char *p, size_t n, bool unicode, struct buf *out, bool *bad_cp)
{
	struct buf tmp;
	buf_init(&tmp, 0);
	size_t i = 0;
	bool any = false;
	while (i < n) {
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
			i++;
		if (i >= n)
			break;
		size_t j = i;
		uint32_t v = 0;
		while (j < n && hexval(p[j]) >= 0) {
			if (v > 0x10ffff)
				break;
			v = v * 16 + (uint32_t)hexval(p[j]);
			j++;
		}
		if (j == i || (j < n && p[j] != ' ' && p[j] != '\t' && p[j] != '\r' && p[j] != '\n')) {
			buf_free(&tmp);
			return -1;
		}
		if (unicode) {
			if (v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) {
				*bad_cp = true;
				buf_free(&tmp);
				return -1;
			}
			put_utf8(&tmp, v);
		} else {
			if (j - i > 2 && v > 0xff) {
				buf_free(&tmp);
				return -1;
			}
			char ch = (char)v;
			buf_append(&tmp, &ch, 1);
		}
		any = true;
		i = j;
	}
	(void)any;
	buf_append(out, tmp.data ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return 0;
}

/* Apply encoded-character decoding to s. */
static void apply_encoded(struct compiler *c, struct sieve_str *s, unsigned line, unsigned col)
{
	if (!memchr(s->s, '$', s->len))
		return;
	struct buf out;
	buf_init(&out, 0);
	size_t i = 0;
	while (i < s->len) {
		if (s->s[i] == '$' && i + 1 < s->len && s->s[i + 1] == '{') {
			size_t k = i + 2;
			bool unicode = false;
			size_t plen = 0;
			if (s->len - k >= 4 && str_ncasecmp(s->s + k, "hex:", 4) == 0)
				plen = 4;
			else if (s->len - k >= 8 && str_ncasecmp(s->s + k, "unicode:", 8) == 0) {
				plen = 8;
				unicode = true;
			}
			if (plen) {
				const char *end = memchr(s->s + k + plen, '}', s->len - k - plen);
				bool bad = false;
				if (end && decode_encoded(s->s + k + plen, (size_t)(end - s->s - k - plen),
							  unicode, &out, &bad) == 0) {
					i = (size_t)(end - s->s) + 1;
					continue;
				}
				if (bad)
					err_at(c, line, col, "invalid Unicode character in encoded-character");
			}
		}
		buf_append(&out, s->s + i, 1);
		i++;
	}
	s->s = arena_strndup(c->arena, out.data ? out.data : "", out.len);
	s->len = out.len;
	buf_free(&out);
}

static void fix_list(struct compiler *c, struct sieve_list *l, unsigned line, unsigned col)
{
	for (size_t i = 0; i < l->n; i++) {
		if (sieve_has_ext(c->script, SEXT_ENCODED_CHARACTER))
			apply_encoded(c, &l->v[i], line, col);
		if (sieve_has_ext(c->script, SEXT_VARIABLES)) {
			l->v[i].var = has_var_ref(l->v[i].s, l->v[i].len);
			if (l->v[i].var)
				check_var_refs(c, l->v[i].s, l->v[i].len, line, col);
		}
	}
}

static struct sieve_str list_str(const struct sieve_list *l)
{
	return l->v[0];
}

static const char *const date_parts[] = {
	"year", "month", "day", "date", "julian", "hour", "minute", "second", "time",
	"iso8601", "std11", "zone", "weekday", NULL
};

static bool valid_zone(const char *z, size_t n)
{
	if (n != 5 || (z[0] != '+' && z[0] != '-'))
		return false;
	for (int i = 1; i < 5; i++)
		if (z[i] < '0' || z[i] > '9')
			return false;
	return (z[3] - '0') * 10 + (z[4] - '0') < 60;
}

/* Headers that hold addresses (RFC 5228 5.1: the address test is
 * restricted to them; the list Pigeonhole also accepts). */
static bool address_header(const char *s)
{
	static const char *const h[] = {
		"from", "sender", "reply-to", "to", "cc", "bcc", "resent-from", "resent-sender",
		"resent-reply-to", "resent-to", "resent-cc", "resent-bcc", "return-path",
		"return-receipt-to", "disposition-notification-to", "errors-to", "delivered-to",
		"x-original-to", "envelope-to", "x-envelope-to", "mail-followup-to", "mail-reply-to",
		"original-recipient", "x-delivered-to", "apparently-to", "x-beenthere",
	};
	for (size_t i = 0; i < ARRAY_SIZE(h); i++)
		if (str_casecmp(s, h[i]) == 0)
			return true;
	return false;
}

static bool valid_header_name(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch <= 32 || ch >= 127 || ch == ':')
			return false;
	}
	return true;
}

static struct sieve_node *compile_cmd(struct compiler *c, struct gcmd *g, bool test);

static void check_string_constant(struct compiler *c, const struct sieve_str *s, const char *what,
				  unsigned line, unsigned col)
{
	if (s->var)
		err_at(c, line, col, "%s must be a constant string (no variables)", what);
}

/* Validate one command/test g and build its node; NULL on error. */
static struct sieve_node *compile_cmd(struct compiler *c, struct gcmd *g, bool test)
{
	const struct cmd_spec *spec = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(cmd_specs); i++)
		if (strcmp(cmd_specs[i].name, g->name) == 0) {
			spec = &cmd_specs[i];
			break;
		}
	if (!spec || spec->test != test) {
		if (strcmp(g->name, "require") == 0)
			err_at(c, g->line, g->column, "require must come before any other command");
		else if (spec)
			err_at(c, g->line, g->column, "'%s' is a %s, not a %s", g->name,
			       spec->test ? "test" : "command", test ? "test" : "command");
		else
			err_at(c, g->line, g->column, "unknown %s '%s'", test ? "test" : "command", g->name);
		return NULL;
	}
	if (!need_ext(c, spec->ext, g->line, g->column, g->name))
		return NULL;
	struct sieve_node *n = arena_alloc(c->arena, sizeof(*n));
	n->op = spec->op;
	n->line = g->line;
	n->column = g->column;
	n->comparator = SCMP_CASEMAP;
	n->match = SMT_IS;
	n->addrpart = SAP_ALL;
	n->transform = SBT_TEXT;
	int errs = (int)c->nerrors;
	bool have_cmp = false, have_match = false, have_ap = false, have_transform = false;
	unsigned match_line = 0, match_col = 0;

	/* tags: before the positional arguments */
	size_t ai = 0;
	for (; ai < g->nargs && g->args[ai].kind == GA_TAG; ai++) {
		struct garg *a = &g->args[ai];
		const struct tag_spec *ts = NULL;
		for (size_t k = 0; k < ARRAY_SIZE(tag_specs); k++)
			if (strcmp(tag_specs[k].name, a->tag) == 0)
				ts = &tag_specs[k];
		if (!ts || !word_in(spec->tags, a->tag)) {
			err_at(c, a->line, a->column, "'%s' does not accept the tag ':%s'", g->name, a->tag);
			return NULL;
		}
		struct garg *v = NULL;
		if (ts->arg != TA_NONE) {
			if (ai + 1 >= g->nargs || g->args[ai + 1].kind == GA_TAG ||
			    (ts->arg == TA_NUM) != (g->args[ai + 1].kind == GA_NUM) ||
			    (ts->arg == TA_STR && !g->args[ai + 1].single)) {
				err_at(c, a->line, a->column, "the tag ':%s' needs a %s argument", a->tag,
				       ts->arg == TA_NUM ? "number" : ts->arg == TA_STR ? "string" : "string list");
				return NULL;
			}
			v = &g->args[++ai];
			if (v->kind == GA_LIST)
				fix_list(c, &v->list, v->line, v->column);
		}
		const char *t = a->tag;
		unsigned L = a->line, C = a->column;
#define DUP(cond) do { if (cond) { err_at(c, L, C, "the tag ':%s' conflicts with an earlier one", t); return NULL; } } while (0)
		if (!strcmp(t, "comparator")) {
			DUP(have_cmp);
			have_cmp = true;
			const struct sieve_str s = list_str(&v->list);
			check_string_constant(c, &s, "the comparator name", L, C);
			if (!strcmp(s.s, "i;octet"))
				n->comparator = SCMP_OCTET;
			else if (!strcmp(s.s, "i;ascii-casemap"))
				n->comparator = SCMP_CASEMAP;
			else if (!strcmp(s.s, "i;ascii-numeric")) {
				n->comparator = SCMP_NUMERIC;
				if (!sieve_has_ext(c->script, SEXT_NUMERIC))
					err_at(c, L, C, "the comparator \"i;ascii-numeric\" requires "
					       "require \"comparator-i;ascii-numeric\"");
			} else
				err_at(c, L, C, "unknown comparator \"%s\"", s.s);
		} else if (!strcmp(t, "is") || !strcmp(t, "contains") || !strcmp(t, "matches") ||
			   !strcmp(t, "regex") || !strcmp(t, "value") || !strcmp(t, "count")) {
			DUP(have_match);
			have_match = true;
			match_line = L;
			match_col = C;
			if (!strcmp(t, "is")) n->match = SMT_IS;
			else if (!strcmp(t, "contains")) n->match = SMT_CONTAINS;
			else if (!strcmp(t, "matches")) n->match = SMT_MATCHES;
			else if (!strcmp(t, "regex")) {
				n->match = SMT_REGEX;
				need_ext(c, SEXT_REGEX, L, C, ":regex");
			} else {
				n->match = !strcmp(t, "value") ? SMT_VALUE : SMT_COUNT;
				need_ext(c, SEXT_RELATIONAL, L, C, t[0] == 'v' ? ":value" : ":count");
				const struct sieve_str s = list_str(&v->list);
				check_string_constant(c, &s, "the relational operator", L, C);
				static const char *const ops[] = { "gt", "ge", "lt", "le", "eq", "ne" };
				for (int k = 0; k < 6; k++)
					if (str_casecmp(s.s, ops[k]) == 0)
						n->relop = (enum sieve_relop)(SREL_GT + k);
				if (n->relop == SREL_NONE)
					err_at(c, L, C, "invalid relational operator \"%s\" "
					       "(gt, ge, lt, le, eq or ne)", s.s);
			}
		} else if (!strcmp(t, "all") || !strcmp(t, "localpart") || !strcmp(t, "domain") ||
			   !strcmp(t, "user") || !strcmp(t, "detail")) {
			DUP(have_ap);
			have_ap = true;
			if (!strcmp(t, "all")) n->addrpart = SAP_ALL;
			else if (!strcmp(t, "localpart")) n->addrpart = SAP_LOCALPART;
			else if (!strcmp(t, "domain")) n->addrpart = SAP_DOMAIN;
			else {
				n->addrpart = t[0] == 'u' ? SAP_USER : SAP_DETAIL;
				need_ext(c, SEXT_SUBADDRESS, L, C, t[0] == 'u' ? ":user" : ":detail");
			}
		} else if (!strcmp(t, "index")) {
			DUP(n->flags & SNF_HAS_INDEX);
			if (n->op != SOP_DELETEHEADER)
				need_ext(c, SEXT_INDEX, L, C, ":index");
			if (v->num == 0)
				err_at(c, L, C, "the :index must be 1 or more");
			n->flags |= SNF_HAS_INDEX;
			n->index = (int64_t)v->num;
		} else if (!strcmp(t, "last")) {
			DUP(n->flags & SNF_LAST);
			if (n->op != SOP_DELETEHEADER && n->op != SOP_ADDHEADER && n->op != SOP_DUPLICATE)
				need_ext(c, SEXT_INDEX, L, C, ":last");
			n->flags |= SNF_LAST;
		} else if (!strcmp(t, "over") || !strcmp(t, "under")) {
			DUP(n->flags & (SNF_OVER | SNF_UNDER));
			n->flags |= t[0] == 'o' ? SNF_OVER : SNF_UNDER;
		} else if (!strcmp(t, "copy")) {
			DUP(n->flags & SNF_COPY);
			need_ext(c, SEXT_COPY, L, C, ":copy");
			n->flags |= SNF_COPY;
		} else if (!strcmp(t, "create")) {
			DUP(n->flags & SNF_CREATE);
			/* RFC 8580 3: with :fcc, :create comes from "mailbox" too */
			need_ext(c, SEXT_MAILBOX, L, C, ":create");
			n->flags |= SNF_CREATE;
		} else if (!strcmp(t, "flags")) {
			DUP(n->flags & SNF_HAS_FLAGS);
			need_ext(c, n->op == SOP_VACATION ? SEXT_FCC : SEXT_IMAP4FLAGS, L, C, ":flags");
			if (n->op == SOP_VACATION)
				need_ext(c, SEXT_IMAP4FLAGS, L, C, ":flags");
			n->flags |= SNF_HAS_FLAGS;
			n->flaglist = v->list;
		} else if (!strcmp(t, "specialuse")) {
			DUP(n->specialuse.s);
			need_ext(c, SEXT_SPECIAL_USE, L, C, ":specialuse");
			n->specialuse = list_str(&v->list);
		} else if (!strcmp(t, "days") || !strcmp(t, "seconds")) {
			DUP(n->flags & (SNF_HAS_DAYS | SNF_HAS_SECONDS));
			if (t[0] == 'd') {
				n->flags |= SNF_HAS_DAYS;
				n->days = v->num > UINT64_MAX / 86400 ? UINT64_MAX : v->num * 86400;
			} else {
				if (n->op == SOP_VACATION)
					need_ext(c, SEXT_VACATION_SECONDS, L, C, ":seconds");
				n->flags |= SNF_HAS_SECONDS;
				n->days = v->num;
			}
		} else if (!strcmp(t, "subject")) {
			DUP(n->subject.s);
			n->subject = list_str(&v->list);
		} else if (!strcmp(t, "from")) {
			DUP(n->from.s);
			n->from = list_str(&v->list);
		} else if (!strcmp(t, "addresses")) {
			DUP(n->addresses.v);
			n->addresses = v->list;
		} else if (!strcmp(t, "mime")) {
			DUP(n->flags & SNF_MIME);
			n->flags |= SNF_MIME;
		} else if (!strcmp(t, "handle")) {
			DUP(n->handle.s);
			n->handle = list_str(&v->list);
		} else if (!strcmp(t, "fcc")) {
			DUP(n->fcc.s);
			need_ext(c, SEXT_FCC, L, C, ":fcc");
			n->fcc = list_str(&v->list);
		} else if (!strcmp(t, "personal") || !strcmp(t, "global")) {
			DUP(n->flags & SNF_HAS_ZONE);	/* location given (reuses the bit) */
			n->flags |= SNF_HAS_ZONE;
			if (t[0] == 'g')
				n->flags |= SNF_GLOBAL;
		} else if (!strcmp(t, "once")) {
			DUP(n->flags & SNF_ONCE);
			n->flags |= SNF_ONCE;
		} else if (!strcmp(t, "optional")) {
			DUP(n->flags & SNF_OPTIONAL);
			n->flags |= SNF_OPTIONAL;
		} else if (!strcmp(t, "raw") || !strcmp(t, "content") || !strcmp(t, "text")) {
			DUP(have_transform);
			have_transform = true;
			n->transform = t[0] == 'r' ? SBT_RAW : t[0] == 'c' ? SBT_CONTENT : SBT_TEXT;
			if (v)
				n->content_types = v->list;
		} else if (!strcmp(t, "zone") || !strcmp(t, "originalzone")) {
			DUP(n->flags & (SNF_HAS_ZONE | SNF_ORIGINALZONE));
			if (t[0] == 'z') {
				n->flags |= SNF_HAS_ZONE;
				n->zone = list_str(&v->list);
				if (!n->zone.var && !valid_zone(n->zone.s, n->zone.len))
					err_at(c, L, C, "invalid time zone \"%s\" (expected +hhmm or -hhmm)",
					       n->zone.s);
			} else {
				n->flags |= SNF_ORIGINALZONE;
			}
		} else if (!strcmp(t, "percent")) {
			need_ext(c, SEXT_SPAMTESTPLUS, L, C, ":percent");
			n->flags |= SNF_PERCENT;
		} else if (!strcmp(t, "header") || !strcmp(t, "uniqueid")) {
			DUP(n->dup_header.s || n->uniqueid.s);
			if (t[0] == 'h')
				n->dup_header = list_str(&v->list);
			else
				n->uniqueid = list_str(&v->list);
		} else {
			/* set modifiers */
			static const char *const mods[] = { "lower", "upper", "lowerfirst", "upperfirst",
							    "quotewildcard", "quoteregex", "length", "encodeurl" };
			for (unsigned k = 0; k < ARRAY_SIZE(mods); k++) {
				if (strcmp(t, mods[k]) == 0) {
					DUP(n->modifiers & (1u << k));
					if (k == 5)
						need_ext(c, SEXT_REGEX, L, C, ":quoteregex");
					if (k == 7) {
						err_at(c, L, C, ":encodeurl requires the extension \"enotify\", which is not supported");
					}
					n->modifiers |= 1u << k;
				}
			}
			/* two modifiers of the same precedence (RFC 5229 4.1) */
			if (((n->modifiers & SMOD_LOWER) && (n->modifiers & SMOD_UPPER)) ||
			    ((n->modifiers & SMOD_LOWERFIRST) && (n->modifiers & SMOD_UPPERFIRST)) ||
			    ((n->modifiers & SMOD_QUOTEWILDCARD) && (n->modifiers & SMOD_QUOTEREGEX)))
				err_at(c, L, C, "the modifier ':%s' has the same precedence as another one", t);
		}
#undef DUP
	}

	/* positional arguments */
	const char *pat = spec->pos;
	bool optional = false;
	size_t npos = 0;
	for (; *pat; pat++) {
		if (*pat == '?') {
			optional = true;
			continue;
		}
		npos++;
	}
	size_t given = 0;
	for (size_t k = ai; k < g->nargs; k++) {
		if (g->args[k].kind == GA_TAG) {
			err_at(c, g->args[k].line, g->args[k].column,
			       "tag ':%s' after a positional argument of '%s' (tags come first)",
			       g->args[k].tag, g->name);
			return NULL;
		}
		given++;
	}
	size_t nreq = 0;
	for (pat = spec->pos; *pat && *pat != '?'; pat++)
		nreq++;
	(void)optional;
	/* with an optional leading argument (setflag [var] list; hasflag
	 * [vars] keys; specialuse_exists [mailbox] flags; deleteheader name
	 * [values]), the pattern "l?l" means 1 or 2 */
	if (given < nreq || given > npos) {
		err_at(c, g->line, g->column, "'%s' takes %zu%s positional argument%s, %zu given", g->name,
		       nreq, npos > nreq ? " or more" : "", npos == 1 ? "" : "s", given);
		return NULL;
	}
	const char *types = spec->pos;
	size_t ti = 0;
	for (size_t k = ai; k < g->nargs; k++) {
		struct garg *a = &g->args[k];
		while (types[ti] == '?')
			ti++;
		char ty = types[ti++];
		if (ty == 'n') {
			if (a->kind != GA_NUM) {
				err_at(c, a->line, a->column, "'%s' expects a number here", g->name);
				return NULL;
			}
			n->num = a->num;
			continue;
		}
		if (a->kind != GA_LIST) {
			err_at(c, a->line, a->column, "'%s' expects a %s here", g->name,
			       ty == 's' ? "string" : "string list");
			return NULL;
		}
		if (ty == 's' && !a->single) {
			err_at(c, a->line, a->column, "'%s' expects a single string here, not a list", g->name);
			return NULL;
		}
		fix_list(c, &a->list, a->line, a->column);
		n->args[n->nargs++] = a->list;
	}

	/* tests and block */
	if (spec->tests == 0 && g->ntests) {
		err_at(c, g->tests[0].line, g->tests[0].column, "'%s' takes no test", g->name);
		return NULL;
	}
	if (spec->tests == 1 && (g->ntests != 1 || g->test_list)) {
		err_at(c, g->line, g->column, "'%s' needs exactly one test", g->name);
		return NULL;
	}
	if (spec->tests == 2 && (!g->test_list || g->ntests == 0)) {
		err_at(c, g->line, g->column, "'%s' needs a test list: %s(test, ...)", g->name, g->name);
		return NULL;
	}
	if (spec->block != g->has_block) {
		err_at(c, g->line, g->column, spec->block ? "'%s' needs a block { ... }" :
		       "'%s' does not take a block", g->name);
		return NULL;
	}
	if (g->ntests) {
		n->tests = arena_alloc(c->arena, g->ntests * sizeof(*n->tests));
		n->ntests = g->ntests;
		for (size_t k = 0; k < g->ntests; k++)
			if (!(n->tests[k] = compile_cmd(c, &g->tests[k], true)))
				return NULL;
	}

	/* per command checks */
	if (n->comparator == SCMP_NUMERIC && (n->match == SMT_CONTAINS || n->match == SMT_MATCHES ||
					       n->match == SMT_REGEX))
		err_at(c, match_line, match_col, "the comparator \"i;ascii-numeric\" does not support "
		       "substring matches (:contains, :matches, :regex)");
	if (n->match == SMT_REGEX && c->params && c->params->regex_check) {
		const struct sieve_list *keys = n->nargs ? &n->args[n->nargs - 1] : NULL;
		for (size_t k = 0; keys && k < keys->n; k++) {
			const char *rerr = NULL;
			if (keys->v[k].var)
				continue;
			if (c->params->regex_check(c->params->regex_ctx, keys->v[k].s,
						   n->comparator == SCMP_CASEMAP, &rerr) < 0)
				err_at(c, match_line, match_col, "invalid regular expression \"%s\": %s",
				       keys->v[k].s, rerr ? rerr : "error");
		}
	}
	switch (n->op) {
	case SOP_SIZE:
		if (!(n->flags & (SNF_OVER | SNF_UNDER)))
			err_at(c, g->line, g->column, "size needs :over or :under");
		break;
	case SOP_REDIRECT: {
		const struct sieve_str *a = &n->args[0].v[0];
		if (!a->var && !sieve_valid_address(a->s, a->len))
			err_at(c, g->line, g->column, "redirect: invalid address \"%s\"", a->s);
		break;
	}
	case SOP_FILEINTO:
		if (!n->args[0].v[0].var && n->args[0].v[0].len == 0)
			err_at(c, g->line, g->column, "fileinto: empty mailbox name");
		break;
	case SOP_SET: {
		const struct sieve_str *a = &n->args[0].v[0];
		check_string_constant(c, a, "the variable name", g->line, g->column);
		if (!valid_var_name(a->s, a->len, false))
			err_at(c, g->line, g->column, "set: invalid variable name \"%s\"", a->s);
		else
			check_namespace(c, a->s, a->len, g->line, g->column);
		break;
	}
	case SOP_SETFLAG: case SOP_ADDFLAG: case SOP_REMOVEFLAG: case SOP_HASFLAG:
		if (n->nargs == 2) {
			if (n->op != SOP_HASFLAG && n->args[0].n != 1) {
				err_at(c, g->line, g->column, "%s: the variable name must be one string", g->name);
				break;
			}
			if (!sieve_has_ext(c->script, SEXT_VARIABLES))
				err_at(c, g->line, g->column, "%s with a variable name requires \"variables\"",
				       g->name);
			for (size_t k = 0; k < n->args[0].n; k++) {
				if (!valid_var_name(n->args[0].v[k].s, n->args[0].v[k].len, false))
					err_at(c, g->line, g->column, "%s: invalid variable name \"%s\"",
					       g->name, n->args[0].v[k].s);
				else
					check_namespace(c, n->args[0].v[k].s, n->args[0].v[k].len, g->line,
							g->column);
			}
		}
		break;
	case SOP_STRING:
		break;
	case SOP_VACATION:
		if (n->from.s && !n->from.var) {
			struct sieve_address *ad = NULL;
			size_t na = sieve_parse_addresses(n->from.s, n->from.len, &ad);
			if (na != 1 || !ad[0].domain)
				err_at(c, g->line, g->column, "vacation: invalid :from address \"%s\"", n->from.s);
			sieve_addresses_free(ad, na);
		}
		for (size_t k = 0; k < n->addresses.n; k++)
			if (!n->addresses.v[k].var &&
			    !sieve_valid_address(n->addresses.v[k].s, n->addresses.v[k].len))
				err_at(c, g->line, g->column, "vacation: invalid address \"%s\" in :addresses",
				       n->addresses.v[k].s);
		if ((n->flags & (SNF_HAS_FLAGS | SNF_CREATE) || n->specialuse.s) && !n->fcc.s)
			err_at(c, g->line, g->column, "vacation: :flags, :create and :specialuse need :fcc");
		if (n->handle.s && n->handle.len == 0)
			warn_at(c, g->line, g->column, "vacation: empty :handle");
		break;
	case SOP_INCLUDE: {
		const struct sieve_str *a = &n->args[0].v[0];
		check_string_constant(c, a, "the included script name", g->line, g->column);
		if (a->len == 0 || memchr(a->s, '/', a->len) || memchr(a->s, '\0', a->len))
			err_at(c, g->line, g->column, "include: invalid script name \"%s\"", a->s);
		break;
	}
	case SOP_GLOBAL:
		if (!sieve_has_ext(c->script, SEXT_VARIABLES))
			err_at(c, g->line, g->column, "global requires \"variables\"");
		for (size_t k = 0; k < n->args[0].n; k++) {
			check_string_constant(c, &n->args[0].v[k], "the global variable name", g->line, g->column);
			if (!valid_var_name(n->args[0].v[k].s, n->args[0].v[k].len, false) ||
			    memchr(n->args[0].v[k].s, '.', n->args[0].v[k].len))
				err_at(c, g->line, g->column, "global: invalid variable name \"%s\"",
				       n->args[0].v[k].s);
		}
		break;
	case SOP_ADDHEADER: case SOP_DELETEHEADER: {
		const struct sieve_str *a = &n->args[0].v[0];
		if (!a->var && !valid_header_name(a->s, a->len))
			err_at(c, g->line, g->column, "%s: invalid header field name \"%s\"", g->name, a->s);
		if (n->op == SOP_DELETEHEADER && (n->flags & SNF_LAST) && !(n->flags & SNF_HAS_INDEX))
			err_at(c, g->line, g->column, "deleteheader: :last needs :index");
		break;
	}
	case SOP_HEADER: case SOP_ADDRESS: case SOP_DATE:
		if ((n->flags & SNF_LAST) && !(n->flags & SNF_HAS_INDEX))
			err_at(c, g->line, g->column, "%s: :last needs :index", g->name);
		if (n->op == SOP_DATE) {
			const struct sieve_str *dp = &n->args[1].v[0];
			bool ok = dp->var;
			for (int k = 0; !ok && date_parts[k]; k++)
				ok = str_casecmp(dp->s, date_parts[k]) == 0;
			if (!ok)
				err_at(c, g->line, g->column, "date: unknown date part \"%s\"", dp->s);
		}
		if (n->op == SOP_ADDRESS) {
			for (size_t k = 0; k < n->args[0].n; k++)
				if (!n->args[0].v[k].var && !address_header(n->args[0].v[k].s))
					err_at(c, g->line, g->column, "address: the header \"%s\" holds no "
					       "addresses (RFC 5228 5.1)", n->args[0].v[k].s);
		}
		break;
	case SOP_CURRENTDATE: {
		const struct sieve_str *dp = &n->args[0].v[0];
		bool ok = dp->var;
		for (int k = 0; !ok && date_parts[k]; k++)
			ok = str_casecmp(dp->s, date_parts[k]) == 0;
		if (!ok)
			err_at(c, g->line, g->column, "currentdate: unknown date part \"%s\"", dp->s);
		break;
	}
	case SOP_ENVELOPE:
		for (size_t k = 0; k < n->args[0].n; k++) {
			const struct sieve_str *p = &n->args[0].v[k];
			if (!p->var && str_casecmp(p->s, "from") && str_casecmp(p->s, "to") &&
			    str_casecmp(p->s, "auth") && str_casecmp(p->s, "orcpt"))
				err_at(c, g->line, g->column, "envelope: unknown envelope part \"%s\"", p->s);
		}
		break;
	case SOP_BODY:
		if (n->transform == SBT_CONTENT)
			for (size_t k = 0; k < n->content_types.n; k++)
				if (memchr(n->content_types.v[k].s, ';', n->content_types.v[k].len))
					err_at(c, g->line, g->column, "body :content: a type may not have parameters");
		break;
	case SOP_DUPLICATE:
		if (n->dup_header.s && !n->dup_header.var &&
		    !valid_header_name(n->dup_header.s, n->dup_header.len))
			err_at(c, g->line, g->column, "duplicate: invalid header name \"%s\"", n->dup_header.s);
		break;
	default:
		break;
	}
	if (n->op == SOP_FILEINTO && n->specialuse.s && n->specialuse.len == 0)
		err_at(c, g->line, g->column, "fileinto: empty :specialuse flag");
	if ((int)c->nerrors != errs)
		return NULL;
	if (g->nblock) {
		n->block = arena_alloc(c->arena, g->nblock * sizeof(*n->block));
		n->nblock = g->nblock;
	}
	return n;
}

static int compile_block(struct compiler *c, struct gcmd *cmds, size_t ncmds,
			 struct sieve_node ***out_r, size_t *nout_r, bool top);

static int compile_block(struct compiler *c, struct gcmd *cmds, size_t ncmds,
			 struct sieve_node ***out_r, size_t *nout_r, bool top)
{
	struct sieve_node **out = arena_alloc(c->arena, (ncmds ? ncmds : 1) * sizeof(*out));
	size_t nout = 0;
	enum sieve_op prev = SOP_COUNT_;
	for (size_t i = 0; i < ncmds; i++) {
		struct gcmd *g = &cmds[i];
		if (strcmp(g->name, "require") == 0) {
			if (!top || c->require_done) {
				err_at(c, g->line, g->column, "require must come before any other command");
				continue;
			}
			if (g->nargs != 1 || g->args[0].kind != GA_LIST || g->ntests || g->has_block) {
				err_at(c, g->line, g->column, "require takes one string or string list");
				continue;
			}
			for (size_t k = 0; k < g->args[0].list.n; k++) {
				const char *e = g->args[0].list.v[k].s;
				int id = ext_lookup(e);
				bool disabled = false;
				for (const char *const *d = c->params ? c->params->disabled_extensions : NULL;
				     d && *d; d++)
					if (strcmp(*d, e) == 0)
						disabled = true;
				if (disabled || (id < 0 && strcmp(e, "comparator-i;octet") &&
						 strcmp(e, "comparator-i;ascii-casemap")))
					err_at(c, g->args[0].line, g->args[0].column,
					       "unsupported extension \"%s\"", e);
				else if (id >= 0)
					c->script->exts |= 1ULL << id;
			}
			/* implied extensions */
			if (sieve_has_ext(c->script, SEXT_SPAMTESTPLUS))
				c->script->exts |= 1ULL << SEXT_SPAMTEST;
			if (sieve_has_ext(c->script, SEXT_VACATION_SECONDS))
				c->script->exts |= 1ULL << SEXT_VACATION;
			if (sieve_has_ext(c->script, SEXT_MBOXMETADATA) ||
			    sieve_has_ext(c->script, SEXT_SERVERMETADATA))
				c->script->exts |= 0;
			continue;
		}
		c->require_done = true;
		struct sieve_node *n = compile_cmd(c, g, false);
		if (!n) {
			prev = SOP_COUNT_;
			continue;
		}
		if ((n->op == SOP_ELSIF || n->op == SOP_ELSE) && prev != SOP_IF && prev != SOP_ELSIF) {
			err_at(c, g->line, g->column, "'%s' without a preceding 'if'", g->name);
			continue;
		}
		if (compile_block(c, g->block, g->nblock, &n->block, &n->nblock, false) < 0)
			continue;
		prev = n->op;
		out[nout++] = n;
	}
	*out_r = out;
	*nout_r = nout;
	return 0;
}

static int compile_internal(const char *source, size_t len, const struct sieve_compile_params *params,
			    const char **stack, size_t stack_len, unsigned depth,
			    struct include_seen *seen, struct sieve_script **script_r, char **error_r);

/* Compile-time include checking (when a resolver is given). */
static void check_includes(struct compiler *c, struct sieve_node **cmds, size_t n);

static void check_include(struct compiler *c, struct sieve_node *nd)
{
	const struct sieve_compile_params *p = c->params;
	const char *name = nd->args[0].v[0].s;
	enum sieve_include_location loc = (nd->flags & SNF_GLOBAL) ? SIEVE_INCLUDE_GLOBAL :
		SIEVE_INCLUDE_PERSONAL;
	char key[300];
	snprintf(key, sizeof(key), "%c:%s", loc == SIEVE_INCLUDE_GLOBAL ? 'g' : 'p', name);
	for (size_t i = 0; i < c->include_stack_len; i++)
		if (strcmp(c->include_stack[i], key) == 0) {
			if (!(nd->flags & SNF_ONCE))
				err_at(c, nd->line, nd->column, "include: loop (script \"%s\" includes itself)", name);
			return;
		}
	if (c->include_depth + 1 > c->limits.max_include_depth) {
		err_at(c, nd->line, nd->column, "include: nested too deeply (limit %u)",
		       c->limits.max_include_depth);
		return;
	}
	/* each script is checked once per compile (a diamond of includes
	 * must not cost an exponential number of compiles) */
	for (size_t i = 0; i < c->seen->n; i++)
		if (strcmp(c->seen->keys[i], key) == 0)
			return;
	if (c->seen->n >= c->limits.max_includes) {
		err_at(c, nd->line, nd->column, "include: too many included scripts (limit %u)",
		       c->limits.max_includes);
		return;
	}
	c->seen->keys = xrealloc(c->seen->keys, (c->seen->n + 1) * sizeof(char *));
	c->seen->keys[c->seen->n++] = xstrdup(key);
	char *src = NULL;
	size_t len = 0;
	const char *rerr = NULL;
	int r = p->include(p->include_ctx, loc, name, &src, &len, &rerr);
	if (r == 1) {
		if (nd->flags & SNF_OPTIONAL)
			return;
		if (loc == SIEVE_INCLUDE_PERSONAL && p->include_missing_personal_ok)
			warn_at(c, nd->line, nd->column,
				"include: script \"%s\" not found (it must exist before this script is activated)",
				name);
		else
			err_at(c, nd->line, nd->column, "include: script \"%s\" not found", name);
		return;
	}
	if (r < 0) {
		err_at(c, nd->line, nd->column, "include: cannot read \"%s\": %s", name, rerr ? rerr : "error");
		return;
	}
	/* compile the included script with the same stack */
	struct sieve_compile_params sub = *p;
	sub.name = name;
	const char **stack = xmalloc((c->include_stack_len + 1) * sizeof(*stack));
	if (c->include_stack_len)
		memcpy(stack, c->include_stack, c->include_stack_len * sizeof(*stack));
	stack[c->include_stack_len] = key;
	char *suberr = NULL;
	struct sieve_script *subs = NULL;
	if (compile_internal(src, len, &sub, stack, c->include_stack_len + 1, c->include_depth + 1,
			     c->seen, &subs, &suberr) < 0) {
		err_at(c, nd->line, nd->column, "include \"%s\": %s", name, suberr);
		free(suberr);
	}
	sieve_script_unref(&subs);
	free(stack);
	free(src);
}

static void check_includes(struct compiler *c, struct sieve_node **cmds, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (cmds[i]->op == SOP_INCLUDE)
			check_include(c, cmds[i]);
		check_includes(c, cmds[i]->block, cmds[i]->nblock);
	}
}

static int compile_internal(const char *source, size_t len, const struct sieve_compile_params *params,
			    const char **stack, size_t stack_len, unsigned depth,
			    struct include_seen *seen, struct sieve_script **script_r, char **error_r)
{
	struct compiler c;
	memset(&c, 0, sizeof(c));
	c.seen = seen;
	if (params && params->limits)
		c.limits = *params->limits;
	sieve_limits_fill(&c.limits);
	c.params = params;
	c.src = source;
	c.len = len;
	c.line = 1;
	c.include_stack = stack;
	c.include_stack_len = stack_len;
	c.include_depth = depth;
	buf_init(&c.errors, 64 * 1024);
	buf_init(&c.warnings, 64 * 1024);
	buf_init(&c.tok.str, c.limits.max_string);
	*script_r = NULL;
	*error_r = NULL;
	if (len > c.limits.max_script_size) {
		*error_r = xasprintf("line 1 column 1: script too large (%zu bytes, limit %zu)", len,
				     c.limits.max_script_size);
		buf_free(&c.errors);
		buf_free(&c.warnings);
		buf_free(&c.tok.str);
		return -1;
	}
	struct arena *arena = xcalloc(1, sizeof(*arena));
	c.arena = arena;
	struct sieve_script *s = arena_alloc(arena, sizeof(*s));
	s->arena = arena;
	s->refs = 1;
	s->limits = c.limits;
	s->name = arena_strndup(arena, params && params->name ? params->name : "",
				params && params->name ? strlen(params->name) : 0);
	c.script = s;

	struct gcmd *cmds = NULL;
	size_t ncmds = 0;
	lex(&c);
	if (memchr(source, '\0', len))
		err_at(&c, 1, 1, "the script contains a NUL byte");
	else if (parse_commands(&c, &cmds, &ncmds, 0, false) == 0 && c.nerrors == 0) {
		if (c.tok.kind == T_RBRACE)
			err_at(&c, c.tok.line, c.tok.column, "unexpected '}'");
		else
			compile_block(&c, cmds, ncmds, &s->cmds, &s->ncmds, true);
	} else if (c.nerrors == 0) {
		err_at(&c, c.tok.line, c.tok.column, "syntax error");
	}
	for (size_t i = 0; i < ncmds; i++)
		gcmd_free(&cmds[i]);
	free(cmds);
	if (c.nerrors == 0 && params && params->include)
		check_includes(&c, s->cmds, s->ncmds);
	buf_free(&c.tok.str);
	if (c.nerrors) {
		if (c.nerrors > 20)
			buf_printf(&c.errors, "\n(%u more errors)", c.nerrors - 20);
		*error_r = xstrdup(c.errors.data ? c.errors.data : "error");
		buf_free(&c.errors);
		buf_free(&c.warnings);
		arena_free(arena);
		free(arena);
		return -1;
	}
	if (c.warnings.len)
		s->warnings = arena_strndup(arena, c.warnings.data, c.warnings.len);
	buf_free(&c.errors);
	buf_free(&c.warnings);
	*script_r = s;
	return 0;
}

int sieve_compile(const char *source, size_t len, const struct sieve_compile_params *params,
		  struct sieve_script **script_r, char **error_r)
{
	struct include_seen seen = { 0 };
	/* the script itself is the root of the include chain: a stored script
	 * that includes it back is a loop */
	char root[300];
	const char *stack[1] = { root };
	size_t stack_len = 0;
	if (params && params->include && params->name && params->name[0] != '\0') {
		snprintf(root, sizeof(root), "p:%s", params->name);
		stack_len = 1;
	}
	int r = compile_internal(source, len, params, stack_len ? stack : NULL, stack_len, 0, &seen,
				 script_r, error_r);
	for (size_t i = 0; i < seen.n; i++)
		free(seen.keys[i]);
	free(seen.keys);
	return r;
}

int sieve_check(const char *source, size_t len, const struct sieve_compile_params *params,
		char **error_r)
{
	struct sieve_script *s;
	if (sieve_compile(source, len, params, &s, error_r) < 0)
		return -1;
	sieve_script_unref(&s);
	return 0;
}

struct sieve_script *sieve_script_ref(struct sieve_script *script)
{
	__atomic_add_fetch(&script->refs, 1, __ATOMIC_RELAXED);
	return script;
}

void sieve_script_unref(struct sieve_script **script)
{
	struct sieve_script *s = *script;
	if (!s)
		return;
	*script = NULL;
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	struct arena *a = s->arena;
	arena_free(a);
	free(a);
}

const char *sieve_script_name(const struct sieve_script *script)
{
	return script->name;
}

const char *sieve_script_warnings(const struct sieve_script *script)
{
	return script->warnings;
}

bool sieve_script_requires(const struct sieve_script *script, const char *ext)
{
	int id = ext_lookup(ext);
	return id >= 0 && sieve_has_ext(script, (enum sieve_ext)id);
}

char *sieve_address_part(const char *addr, const char *part, const char *sep)
{
	const char *at = strrchr(addr, '@');
	size_t llen = at ? (size_t)(at - addr) : strlen(addr);
	if (!sep || !*sep)
		sep = "+";
	if (strcmp(part, "all") == 0)
		return xstrdup(addr);
	if (strcmp(part, "localpart") == 0)
		return xstrndup(addr, llen);
	if (strcmp(part, "domain") == 0)
		return at ? xstrdup(at + 1) : NULL;
	const char *s = NULL;
	for (const char *p = addr; p < addr + llen; p++)
		if (strchr(sep, *p)) {
			s = p;
			break;
		}
	if (strcmp(part, "user") == 0)
		return xstrndup(addr, s ? (size_t)(s - addr) : llen);
	if (strcmp(part, "detail") == 0)
		return s ? xstrndup(s + 1, (size_t)(addr + llen - s - 1)) : NULL;
	return NULL;
}
