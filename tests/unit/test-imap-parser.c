/* Unit tests for proto/imap_parser.c. Every input is rendered to a transcript
 * of events (commands with their argument trees, literal announcements,
 * streamed chunks merged, errors with tag and verdict) and compared with the
 * expected text; a corpus is also fed whole, one byte at a time and in odd
 * pieces, and every way must give the same transcript. Feeds go through
 * exact-size heap copies so AddressSanitizer catches a read past len. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parser.h"

static const struct imap_parser_limits dflt = {
	.max_line = 200, .max_command = 1000, .max_literal = 100, .max_append = 100000,
	.max_depth = 4, .max_args = 30,
};

#define ALLF (IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_BINARY)

static void render_arg(struct buf *o, const struct imap_arg *a)
{
	size_t i;

	switch (a->type) {
	case IMAP_ARG_NIL:
		buf_append_str(o, "NIL");
		break;
	case IMAP_ARG_ATOM:
		buf_printf(o, "A:%s", a->str);
		break;
	case IMAP_ARG_QUOTED:
		buf_printf(o, "Q:%s", a->str);
		break;
	case IMAP_ARG_LITERAL:
		buf_printf(o, "L%s%s:", a->literal8 ? "8" : "", a->nonsync ? "+" : "");
		for (i = 0; i < a->len; i++)
			buf_printf(o, a->str[i] >= 0x20 && a->str[i] < 0x7f ? "%c" : "\\%02x",
				   a->str[i] >= 0x20 && a->str[i] < 0x7f ? a->str[i] :
				   (unsigned char)a->str[i]);
		break;
	case IMAP_ARG_LITERAL_STREAM:
		buf_printf(o, "S%llu", (unsigned long long)a->literal_size);
		break;
	case IMAP_ARG_LIST:
		buf_append_str(o, "(");
		for (i = 0; i < a->list_count; i++) {
			if (i > 0)
				buf_append_str(o, " ");
			render_arg(o, &a->list[i]);
		}
		buf_append_str(o, ")");
		break;
	}
}

static void render_cmd(struct buf *o, const struct imap_command *c)
{
	size_t i;

	buf_printf(o, "%s %s", c->tag, c->name);
	for (i = 0; i < c->arg_count; i++) {
		buf_append_str(o, " ");
		render_arg(o, &c->args[i]);
	}
}

/* Handle one result; returns false to stop (disconnect). */
static bool handle(struct imap_parser *p, int r, struct buf *o, bool *in_data)
{
	const struct imap_literal *lit = imap_parser_literal(p);

	if (r != IMAP_PARSER_LITERAL_DATA && *in_data) {
		buf_append_str(o, "]");
		*in_data = false;
	}
	switch (r) {
	case IMAP_PARSER_COMMAND:
		buf_append_str(o, "CMD ");
		render_cmd(o, imap_parser_command(p));
		buf_append_str(o, "\n");
		break;
	case IMAP_PARSER_LITERAL:
		buf_printf(o, "LIT %llu%s%s%s |", (unsigned long long)lit->size,
			   lit->sync ? " sync" : "", lit->literal8 ? " bin" : "",
			   lit->stream ? " stream" : "");
		render_cmd(o, imap_parser_command(p));
		buf_append_str(o, "\n");
		break;
	case IMAP_PARSER_LITERAL_DATA:
		if (!*in_data)
			buf_append_str(o, "DATA[");
		*in_data = true;
		buf_append(o, lit->chunk, lit->chunk_len);
		if (lit->last) {
			buf_append_str(o, "]\n");
			*in_data = false;
		}
		break;
	case IMAP_PARSER_ERROR:
		buf_printf(o, "ERR %s %d %s%s\n", imap_parser_error_tag(p), imap_parser_error_code(p),
			   imap_parser_error_reason(p),
			   imap_parser_must_disconnect(p) ? " DISCONNECT" : "");
		if (imap_parser_must_disconnect(p))
			return false;
		break;
	default:
		fail_msg("unexpected result %d", r);
	}
	return true;
}

/* Feed in pieces of at most piece bytes; returns the transcript (malloc'ed). */
static char *run(unsigned flags, const struct imap_parser_limits *lim, const char *in,
		 size_t len, size_t piece)
{
	struct imap_parser *p = imap_parser_create(lim, flags);
	struct buf o;
	size_t off = 0;
	bool in_data = false, go = true;
	char *ret;

	buf_init(&o, 0);
	buf_append_str(&o, "");
	while (go) {
		size_t n = len - off < piece ? len - off : piece, used = SIZE_MAX;
		char *copy = xmalloc(n > 0 ? n : 1);
		int r;

		if (n > 0)
			memcpy(copy, in + off, n);
		r = imap_parser_feed(p, copy, n, &used);
		assert_true(used <= n);
		off += used;
		if (r == IMAP_PARSER_MORE) {
			assert_int_equal(used, n);
			if (off == len)
				go = false;
		} else {
			go = handle(p, r, &o, &in_data);
		}
		free(copy);
	}
	if (in_data)
		buf_append_str(&o, "]");
	imap_parser_destroy(&p);
	assert_null(p);
	ret = xstrdup(o.data);
	buf_free(&o);
	return ret;
}

static void expect_n(unsigned flags, const struct imap_parser_limits *lim, const char *in,
		     size_t len, const char *want)
{
	static const size_t pieces[] = { 1, 2, 3, 7 };
	char *whole = run(flags, lim, in, len, len > 0 ? len : 1);
	size_t i;

	if (strcmp(whole, want) != 0)
		fail_msg("input:\n%s\ngot:\n%s\nwant:\n%s", in, whole, want);
	for (i = 0; i < ARRAY_SIZE(pieces); i++) {
		char *t = run(flags, lim, in, len, pieces[i]);

		if (strcmp(t, whole) != 0)
			fail_msg("piece %zu differs:\n%s\nvs whole:\n%s", pieces[i], t, whole);
		free(t);
	}
	free(whole);
}

static void expect_lim(unsigned flags, const struct imap_parser_limits *lim, const char *in,
		       const char *want)
{
	expect_n(flags, lim, in, strlen(in), want);
}

/* For inputs with NUL bytes: the length of a string constant. */
#define EXPECT0(flags, in, want) expect_n(flags, &dflt, in, sizeof(in) - 1, want)

static void expect(unsigned flags, const char *in, const char *want)
{
	expect_lim(flags, &dflt, in, want);
}

#define T(name) static void name(void **state)

T(test_simple) { expect(0, "A1 NOOP\r\n", "CMD A1 NOOP\n"); }
T(test_lower_name) { expect(0, "a1 noop\r\n", "CMD a1 NOOP\n"); }
T(test_bare_lf) { expect(0, "A1 NOOP\n", "CMD A1 NOOP\n"); }
T(test_empty_lines) { expect(0, "\r\n\r\nA1 NOOP\r\n", "CMD A1 NOOP\n"); }
T(test_atoms) { expect(0, "A2 LOGIN bob secret\r\n", "CMD A2 LOGIN A:bob A:secret\n"); }
T(test_uid) { expect(0, "A3 uid fetch 1:* FLAGS\r\n", "CMD A3 UID FETCH A:1:* A:FLAGS\n"); }
T(test_uid_missing) { expect(0, "A3 UID\r\n", "ERR A3 1 Missing UID command\n"); }
T(test_nil) { expect(0, "A X nil NIL \"NIL\"\r\n", "CMD A X NIL NIL Q:NIL\n"); }
T(test_list)
{
	expect(0, "A X (a (b c) () \"d\") e\r\n", "CMD A X (A:a (A:b A:c) () Q:d) A:e\n");
}
T(test_quoted_escapes)
{
	expect(0, "A X \"a\\\"b\\\\c\" \"\"\r\n", "CMD A X Q:a\"b\\c Q:\n");
}
T(test_quoted_bad_escape) { expect(0, "A X \"a\\b\"\r\n", "ERR A 1 Invalid escape in quoted string\n"); }
T(test_quoted_unterminated) { expect(0, "A X \"abc\r\n", "ERR A 1 Missing '\"'\n"); }
T(test_quoted_8bit) { expect(0, "A X \"\xc3\xa4\"\r\n", "ERR A 1 8-bit characters in quoted string\n"); }
T(test_quoted_utf8) { expect(IMAP_PARSER_UTF8, "A X \"\xc3\xa4\"\r\n", "CMD A X Q:\xc3\xa4\n"); }
T(test_quoted_bad_utf8)
{
	expect(IMAP_PARSER_UTF8, "A X \"\xc0\x80\"\r\n", "ERR A 1 Invalid UTF-8 in quoted string\n");
	expect(IMAP_PARSER_UTF8, "A X \"\xed\xa0\x80\"\r\n", "ERR A 1 Invalid UTF-8 in quoted string\n");
}
T(test_quoted_then_atom) { expect(0, "A X \"a\"b\r\n", "ERR A 1 Missing space after quoted string\n"); }
T(test_atom_8bit) { expect(IMAP_PARSER_UTF8, "A X ab\xc3\xa4\r\n", "ERR A 1 8-bit characters in atom\n"); }
T(test_flags_atoms) { expect(0, "A STORE 1 +FLAGS (\\Seen $Junk)\r\n", "CMD A STORE A:1 A:+FLAGS (A:\\Seen A:$Junk)\n"); }
T(test_sync_literal)
{
	expect(0, "A LOGIN {3}\r\nbob {6}\r\nsecret\r\n",
	       "LIT 3 sync |A LOGIN\nLIT 6 sync |A LOGIN L:bob\nCMD A LOGIN L:bob L:secret\n");
}
T(test_literal_in_list)
{
	expect(0, "A X (a {2}\r\nbc d)\r\n", "LIT 2 sync |A X\nCMD A X (A:a L:bc A:d)\n");
}
T(test_literal_empty) { expect(0, "A X {0}\r\n\r\n", "LIT 0 sync |A X\nCMD A X L:\n"); }
T(test_literal_crlf_inside)
{
	expect(0, "A X {4}\r\n\r\n\r\n\r\n", "LIT 4 sync |A X\nCMD A X L:\\0d\\0a\\0d\\0a\n");
}
T(test_nonsync_plus)
{
	expect(IMAP_PARSER_LITERAL_PLUS, "A LOGIN {3+}\r\nbob {3+}\r\npwd\r\n",
	       "CMD A LOGIN L+:bob L+:pwd\n");
}
T(test_nonsync_not_allowed)
{
	expect(0, "A LOGIN {3+}\r\nbob\r\nB NOOP\r\n",
	       "ERR A 1 Non-synchronizing literals not allowed DISCONNECT\n");
}
T(test_literal_minus_boundary)
{
	struct imap_parser_limits l = dflt;
	char *in = xmalloc(5000);

	l.max_literal = 10000;
	l.max_command = 20000;
	memcpy(in, "A X {4096+}\r\n", 13);
	memset(in + 13, 'x', 4096);
	memcpy(in + 13 + 4096, "\r\n", 3);
	{
		char *t = run(IMAP_PARSER_LITERAL_MINUS, &l, in, strlen(in), 4000);

		assert_non_null(strstr(t, "CMD A X L+:xxx"));
		free(t);
	}
	expect_lim(IMAP_PARSER_LITERAL_MINUS, &l, "A X {4097+}\r\nxxxx\r\n",
		   "ERR A 4 Non-synchronizing literal larger than 4096 octets DISCONNECT\n");
	/* a synchronising literal is not limited by LITERAL- */
	expect_lim(IMAP_PARSER_LITERAL_MINUS, &l, "A X {4097}\r\n", "LIT 4097 sync |A X\n");
	free(in);
}
T(test_literal_too_big_sync)
{
	expect(0, "A X {101}\r\nB NOOP\r\n", "ERR A 4 Literal too large\nCMD B NOOP\n");
	expect(0, "A X {100}\r\n", "LIT 100 sync |A X\n");
}
T(test_literal_too_big_nonsync)
{
	expect(ALLF, "A X {101+}\r\nB NOOP\r\n", "ERR A 4 Literal too large DISCONNECT\n");
}
T(test_literal_overflow)
{
	expect(0, "A X {99999999999999999999999}\r\nB NOOP\r\n", "ERR A 4 Literal too large\nCMD B NOOP\n");
	expect(0, "A X {18446744073709551616}\r\n", "ERR A 4 Literal too large\n");
}
T(test_literal_not_at_end) { expect(0, "A X {3} a\r\n", "ERR A 1 Literal must end the line\n"); }
T(test_literal_bad)
{
	expect(0, "A X {}\r\n", "ERR A 1 Invalid literal\n");
	expect(0, "A X {1a}\r\n", "ERR A 1 Invalid literal\n");
	expect(0, "A X {-1}\r\n", "ERR A 1 Invalid literal\n");
}
T(test_literal_nul)
{
	EXPECT0(0, "A X {3}\r\na\0b rest\r\nB NOOP\r\n", "LIT 3 sync |A X\nERR A 1 NUL in literal\nCMD B NOOP\n");
}
T(test_literal_nul_nonsync_tail)
{
	/* the skipped rest of the line ends in {N+}: disconnect */
	EXPECT0(ALLF, "A X {3+}\r\na\0b {5+}\r\nB NOO\r\n", "ERR A 1 NUL in literal DISCONNECT\n");
}
T(test_literal8)
{
	expect(0, "A X ~{3}\r\n", "ERR A 1 literal8 not allowed\n");
	EXPECT0(IMAP_PARSER_BINARY, "A X ~{3}\r\na\0b\r\n", "LIT 3 sync bin |A X\nCMD A X L8:a\\00b\n");
}
T(test_append_stream)
{
	expect(0, "A APPEND INBOX (\\Seen) {10}\r\n0123456789\r\n",
	       "LIT 10 sync stream |A APPEND A:INBOX (A:\\Seen) S10\nDATA[0123456789]\nCMD A APPEND A:INBOX (A:\\Seen) S10\n");
}
T(test_append_mailbox_literal)
{
	expect(ALLF, "A append {5+}\r\nINBOX {3+}\r\nabc\r\n",
	       "LIT 3 stream |A APPEND L+:INBOX S3\nDATA[abc]\nCMD A APPEND L+:INBOX S3\n");
}
T(test_append_multi)
{
	expect(ALLF, "A APPEND X {2+}\r\nab ~{1+}\r\nc\r\n",
	       "LIT 2 stream |A APPEND A:X S2\nDATA[ab]\nLIT 1 bin stream |A APPEND A:X S2 S1\nDATA[c]\nCMD A APPEND A:X S2 S1\n");
}
T(test_append_empty)
{
	expect(ALLF, "A APPEND X {0+}\r\n\r\n", "LIT 0 stream |A APPEND A:X S0\nDATA[]\nCMD A APPEND A:X S0\n");
}
T(test_append_too_big)
{
	expect(0, "A APPEND X {100001}\r\nB NOOP\r\n", "ERR A 4 Literal too large\nCMD B NOOP\n");
	expect(0, "A APPEND X {100000}\r\n", "LIT 100000 sync stream |A APPEND A:X S100000\n");
	expect(ALLF, "A APPEND X {100001+}\r\n", "ERR A 4 Literal too large DISCONNECT\n");
}
T(test_append_catenate)
{
	expect(ALLF, "A APPEND X CATENATE (TEXT {2+}\r\nhi URL \"/a\")\r\n",
	       "LIT 2 stream |A APPEND A:X A:CATENATE\nDATA[hi]\nCMD A APPEND A:X A:CATENATE (A:TEXT S2 A:URL Q:/a)\n");
}
T(test_section_atom)
{
	expect(0, "A FETCH 1 (BODY[HEADER.FIELDS (From To)]<0.100> BODY.PEEK[1.2.MIME] BINARY[]) \r\n",
	       "ERR A 1 Unexpected space at end of line\n");
	expect(0, "A FETCH 1 (BODY[HEADER.FIELDS (From \"To\")]<0.100> BODY.PEEK[1.2.MIME] BINARY.SIZE[])\r\n",
	       "CMD A FETCH A:1 (A:BODY[HEADER.FIELDS (From \"To\")]<0.100> A:BODY.PEEK[1.2.MIME] A:BINARY.SIZE[])\n");
}
T(test_section_errors)
{
	expect(0, "A FETCH 1 BODY[HEADER\r\n", "ERR A 1 Missing ']' in section\n");
	expect(0, "A FETCH 1 BODY[]<0\r\n", "ERR A 1 Invalid partial\n");
	expect(0, "A FETCH 1 BODY[]x\r\n", "ERR A 1 Invalid characters after section\n");
	expect(0, "A FETCH 1 BODY[((a))]\r\n", "ERR A 1 Nested list in section\n");
	expect(IMAP_PARSER_UTF8, "A FETCH 1 BODY[HEADER.FIELDS (\"\xc3\xa4\")]\r\n",
	       "ERR A 1 Invalid characters in section\n");
}
T(test_bracket_plain_atom)
{
	/* "[" is an ordinary atom character outside fetch attributes */
	expect(0, "A LIST \"\" foo[bar baz]\r\n", "CMD A LIST Q: A:foo[bar A:baz]\n");
}
T(test_missing_tag) { expect(0, " NOOP\r\nB NOOP\r\n", "ERR * 1 Missing or invalid tag\nCMD B NOOP\n"); }
T(test_bad_tag)
{
	expect(0, "A+1 NOOP\r\n", "ERR * 1 Invalid tag\n");
	expect(0, "* NOOP\r\n", "ERR * 1 Missing or invalid tag\n");
	expect(0, "A1\r\n", "ERR * 1 Missing command\n");
}
T(test_bad_name) { expect(0, "A1 NO(OP\r\n", "ERR A1 1 Invalid command name\n"); }
T(test_trailing_space) { expect(0, "A1 NOOP \r\n", "ERR A1 1 Unexpected space at end of line\n"); }
T(test_double_space) { expect(0, "A1 X a  b\r\n", "ERR A1 1 Unexpected space\n"); }
T(test_list_errors)
{
	expect(0, "A X (a\r\n", "ERR A 1 Missing ')'\n");
	expect(0, "A X a)\r\n", "ERR A 1 Unexpected ')'\n");
	expect(0, "A X ( )\r\n", "ERR A 1 Unexpected space\n");
	expect(0, "A X (a )\r\n", "ERR A 1 Unexpected space before ')'\n");
	expect(0, "A X (a)(b)\r\n", "ERR A 1 Missing space between arguments\n");
}
T(test_ctl_in_line)
{
	expect(0, "A X a\rb\r\n", "ERR A 1 Invalid characters in atom\n");
	EXPECT0(0, "A X a\0b\r\n", "ERR * 1 NUL in command line\n");
}
T(test_depth_boundary)
{
	expect(0, "A X ((((a))))\r\n", "CMD A X ((((A:a))))\n");
	expect(0, "A X (((((a)))))\r\n", "ERR A 3 Lists nested too deeply\n");
}
T(test_args_boundary)
{
	struct imap_parser_limits l = dflt;

	l.max_args = 3;
	expect_lim(0, &l, "A X a (b)\r\n", "CMD A X A:a (A:b)\n");
	expect_lim(0, &l, "A X a b c\r\n", "CMD A X A:a A:b A:c\n");
	expect_lim(0, &l, "A X a b c d\r\n", "ERR A 3 Too many arguments\n");
	expect_lim(0, &l, "A X (a b c)\r\n", "ERR A 3 Too many arguments\n");
	expect_lim(ALLF, &l, "A X a b c {1+}\r\nd\r\n", "ERR A 3 Too many arguments DISCONNECT\n");
}
T(test_line_boundary)
{
	struct imap_parser_limits l = dflt;
	char in[64];

	l.max_line = 20;
	/* exactly 20 bytes without CRLF */
	strcpy(in, "A X 0123456789abcdef\r\nB NOOP\r\n");
	expect_lim(0, &l, in, "CMD A X A:0123456789abcdef\nCMD B NOOP\n");
	strcpy(in, "A X 0123456789abcdef\nB NOOP\r\n");
	expect_lim(0, &l, in, "CMD A X A:0123456789abcdef\nCMD B NOOP\n");
	strcpy(in, "A X 0123456789abcdefg\r\nB NOOP\r\n");
	expect_lim(0, &l, in, "ERR A 2 Line too long\nCMD B NOOP\n");
	strcpy(in, "A X 0123456789abcdefg\nB NOOP\r\n");
	expect_lim(0, &l, in, "ERR A 2 Line too long\nCMD B NOOP\n");
	strcpy(in, "Averyveryverylongtagxx X\r\nB NOOP\r\n");
	expect_lim(0, &l, in, "ERR * 2 Line too long\nCMD B NOOP\n");
}
T(test_long_line_literal_verdict)
{
	struct imap_parser_limits l = dflt;

	l.max_line = 20;
	expect_lim(ALLF, &l, "A X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {5+}\r\nB NOOP\r\n",
		   "ERR A 2 Line too long DISCONNECT\n");
	expect_lim(ALLF, &l, "A X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {5}\r\nB NOOP\r\n",
		   "ERR A 2 Line too long\nCMD B NOOP\n");
	/* a literal marker longer than the kept tail still counts */
	expect_lim(ALLF, &l, "A X aaaaaaaaaaaaaaaaaaaaaaaaa {0000000000000000000000000000000000000005+}\r\nB NOOP\r\n",
		   "ERR A 2 Line too long DISCONNECT\n");
}
T(test_bad_line_nonsync_disconnect)
{
	/* the {5+} bytes would otherwise be read as a command */
	expect(ALLF, "A X \"a\\b\" {13+}\r\nB DELETE foo\r\n", "ERR A 1 Invalid escape in quoted string DISCONNECT\n");
	expect(ALLF, "A X \"a\\b\" {13}\r\nB NOOP\r\n", "ERR A 1 Invalid escape in quoted string\nCMD B NOOP\n");
	expect(ALLF, "A X \x01 {000000000000000000000000000000000000000013+}\r\nB NOOP\r\n",
	       "ERR A 1 Invalid characters in atom DISCONNECT\n");
}
T(test_command_limit)
{
	struct imap_parser_limits l = dflt;

	l.max_command = 40;
	expect_lim(0, &l, "A X {10}\r\n0123456789 {20}\r\n",
		   "LIT 10 sync |A X\nERR A 4 Command too large\n");
	expect_lim(ALLF, &l, "A X {10+}\r\n0123456789 {20+}\r\n0123",
		   "ERR A 4 Command too large DISCONNECT\n");
	expect_lim(0, &l, "A X {10}\r\n0123456789 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nB NOOP\r\n",
		   "LIT 10 sync |A X\nERR A 3 Command too large\nCMD B NOOP\n");
}
T(test_pipeline)
{
	expect(IMAP_PARSER_LITERAL_PLUS, "A NOOP\r\nB LOGIN {1+}\r\nx y\r\nC LOGOUT\r\n",
	       "CMD A NOOP\nCMD B LOGIN L+:x A:y\nCMD C LOGOUT\n");
}
T(test_recovery_after_error)
{
	expect(0, "A X (\r\nB X \"q\r\nC NOOP\r\n", "ERR A 1 Missing ')'\nERR B 1 Missing '\"'\nCMD C NOOP\n");
}

static void feed_all(struct imap_parser *p, const char *s, int want)
{
	size_t used;

	assert_int_equal(imap_parser_feed(p, s, strlen(s), &used), want);
	assert_int_equal(used, strlen(s));
}

T(test_reject_sync)
{
	struct imap_parser *p = imap_parser_create(&dflt, ALLF);

	feed_all(p, "A APPEND X {50}\r\n", IMAP_PARSER_LITERAL);
	assert_int_equal(imap_parser_literal_reject(p), 0);
	feed_all(p, "B NOOP\r\n", IMAP_PARSER_COMMAND);
	assert_string_equal(imap_parser_command(p)->tag, "B");
	feed_all(p, "C APPEND X {5+}\r\n", IMAP_PARSER_LITERAL);
	assert_false(imap_parser_literal(p)->sync);
	assert_int_equal(imap_parser_literal_reject(p), -1);
	imap_parser_destroy(&p);
}
T(test_reject_needs_announcement)
{
	struct imap_parser *p = imap_parser_create(&dflt, ALLF);

	feed_all(p, "A NOOP\r\n", IMAP_PARSER_COMMAND);
	assert_int_equal(imap_parser_literal_reject(p), -1);
	imap_parser_destroy(&p);
}
T(test_stream_zero_copy)
{
	struct imap_parser *p = imap_parser_create(&dflt, ALLF);
	const char *in = "A APPEND X {5+}\r\nhello\r\n";
	size_t used, off;

	assert_int_equal(imap_parser_feed(p, in, strlen(in), &used), IMAP_PARSER_LITERAL);
	off = used;
	assert_int_equal(imap_parser_feed(p, in + off, strlen(in) - off, &used), IMAP_PARSER_LITERAL_DATA);
	/* the chunk points into the caller's buffer */
	assert_ptr_equal(imap_parser_literal(p)->chunk, in + off);
	assert_int_equal(imap_parser_literal(p)->chunk_len, 5);
	assert_true(imap_parser_literal(p)->last);
	off += used;
	assert_int_equal(imap_parser_feed(p, in + off, strlen(in) - off, &used), IMAP_PARSER_COMMAND);
	imap_parser_destroy(&p);
}
T(test_reset)
{
	struct imap_parser *p = imap_parser_create(&dflt, 0);
	size_t used;

	assert_int_equal(imap_parser_feed(p, "A X (a", 6, &used), IMAP_PARSER_MORE);
	imap_parser_reset(p);
	feed_all(p, "B NOOP\r\n", IMAP_PARSER_COMMAND);
	assert_string_equal(imap_parser_command(p)->name, "NOOP");
	imap_parser_destroy(&p);
}
T(test_set_flags)
{
	struct imap_parser *p = imap_parser_create(&dflt, 0);

	feed_all(p, "A X \"\xc3\xa4\"\r\n", IMAP_PARSER_ERROR);
	imap_parser_set_flags(p, IMAP_PARSER_UTF8);
	feed_all(p, "A X \"\xc3\xa4\"\r\n", IMAP_PARSER_COMMAND);
	imap_parser_destroy(&p);
}
T(test_accessors)
{
	struct imap_parser *p = imap_parser_create(&dflt, 0);
	const struct imap_command *c;
	const char *s;
	size_t len;
	const struct imap_arg *l;

	feed_all(p, "A X a%b NIL \"q\" (x) b]\r\n", IMAP_PARSER_COMMAND);
	c = imap_parser_command(p);
	assert_int_equal(c->arg_count, 5);
	assert_false(imap_arg_astring(&c->args[0], &s, &len));	/* % is not ASTRING-CHAR */
	assert_true(imap_arg_atom(&c->args[0], &s));
	assert_true(imap_arg_astring(&c->args[1], &s, &len));
	assert_string_equal(s, "NIL");
	assert_true(imap_arg_nstring(&c->args[1], &s, &len));
	assert_null(s);
	assert_true(imap_arg_string(&c->args[2], &s, &len));
	assert_false(imap_arg_string(&c->args[4], &s, &len));
	assert_true(imap_arg_astring(&c->args[4], &s, &len));
	assert_true(imap_arg_list(&c->args[3], &l, &len));
	assert_int_equal(len, 1);
	assert_true(imap_arg_atom_eq(&l[0], "X"));
	imap_parser_destroy(&p);
}
T(test_trickle_corpus)
{
	static const char *const corpus[] = {
		"A1 LOGIN {3}\r\nbob {6}\r\nsecret\r\nA2 SELECT INBOX\r\n",
		"A APPEND INBOX (\\Seen) \" 1-Feb-1994 01:02:03 +0000\" {12}\r\nHello\r\nWorld\r\nB NOOP\r\n",
		"A APPEND X {3+}\r\nabc ~{2+}\r\n\0\1 {0+}\r\n\r\n",
		"A FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.1024>)\r\nB X (({2+}\r\nab))\r\n",
		"A X \"unterminated\r\nB SEARCH OR (FROM a) NOT TO {1+}\r\nb\r\n",
		"A X {3+}\r\nab\0\r\nC NOOP\r\n",
		"A X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\nB NOOP\r\n",
		"\r\n\n\nA NOOP\nB NOOP\r\n",
	};
	static const size_t lens[] = { 0, 0, 33, 0, 0, 22, 0, 0 };
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(corpus); i++) {
		size_t len = lens[i] != 0 ? lens[i] : strlen(corpus[i]);
		char *whole = run(ALLF, &dflt, corpus[i], len, len);

		assert_null(strstr(whole, "unexpected"));
		for (k = 1; k <= 13; k++) {
			char *t = run(ALLF, &dflt, corpus[i], len, k);

			if (strcmp(t, whole) != 0)
				fail_msg("corpus %zu piece %zu:\n%s\nvs\n%s", i, k, t, whole);
			free(t);
		}
		free(whole);
	}
}
T(test_utf8_valid)
{
	assert_true(imap_utf8_valid("a\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80", 10));
	assert_false(imap_utf8_valid("\xc3", 1));
	assert_false(imap_utf8_valid("\xe0\x80\x80", 3));	/* overlong */
	assert_false(imap_utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	assert_false(imap_utf8_valid("\xed\xb0\x80", 3));	/* surrogate */
	assert_false(imap_utf8_valid("a\0", 2));
}

#define U(t) cmocka_unit_test(t)
int main(void)
{
	const struct CMUnitTest tests[] = {
		U(test_simple), U(test_lower_name), U(test_bare_lf), U(test_empty_lines),
		U(test_atoms), U(test_uid), U(test_uid_missing), U(test_nil), U(test_list),
		U(test_quoted_escapes), U(test_quoted_bad_escape), U(test_quoted_unterminated),
		U(test_quoted_8bit), U(test_quoted_utf8), U(test_quoted_bad_utf8),
		U(test_quoted_then_atom), U(test_atom_8bit), U(test_flags_atoms),
		U(test_sync_literal), U(test_literal_in_list), U(test_literal_empty),
		U(test_literal_crlf_inside), U(test_nonsync_plus), U(test_nonsync_not_allowed),
		U(test_literal_minus_boundary), U(test_literal_too_big_sync),
		U(test_literal_too_big_nonsync), U(test_literal_overflow), U(test_literal_not_at_end),
		U(test_literal_bad), U(test_literal_nul), U(test_literal_nul_nonsync_tail),
		U(test_literal8), U(test_append_stream), U(test_append_mailbox_literal),
		U(test_append_multi), U(test_append_empty), U(test_append_too_big),
		U(test_append_catenate), U(test_section_atom), U(test_section_errors),
		U(test_bracket_plain_atom), U(test_missing_tag), U(test_bad_tag), U(test_bad_name),
		U(test_trailing_space), U(test_double_space), U(test_list_errors),
		U(test_ctl_in_line), U(test_depth_boundary), U(test_args_boundary),
		U(test_line_boundary), U(test_long_line_literal_verdict),
		U(test_bad_line_nonsync_disconnect), U(test_command_limit), U(test_pipeline),
		U(test_recovery_after_error), U(test_reject_sync), U(test_reject_needs_announcement),
		U(test_stream_zero_copy), U(test_reset), U(test_set_flags), U(test_accessors),
		U(test_trickle_corpus), U(test_utf8_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
