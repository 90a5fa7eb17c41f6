/* Unit tests for proto/managesieve_parser.c: command names and argument
 * syntax of RFC 5804 4, literals across lines (whole and one byte at a
 * time), SASL responses, script-name rules (RFC 5804 1.6) and the string
 * writer. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "managesieve_parser.h"

/* Feed a whole command as the session would: lines split at CRLF, literal
 * bytes (chunked by chunk, 0 = whole) between them. Returns the last
 * result. */
static int feed(struct msieve_parser *p, const char *text, size_t chunk, const char **error)
{
	size_t len = strlen(text), pos = 0;
	bool too_big;
	for (;;) {
		const char *crlf = strstr(text + pos, "\r\n");
		size_t l = crlf != NULL ? (size_t)(crlf - (text + pos)) : len - pos;
		int ret = msieve_parser_line(p, text + pos, l, &too_big, error);
		pos += l + (crlf != NULL ? 2 : 0);
		if (ret != MSIEVE_LITERAL)
			return ret;
		size_t n = (size_t)p->literal_size;
		assert_true(pos + n <= len);
		size_t step = chunk == 0 ? n : chunk, done = 0;
		if (n == 0)
			msieve_parser_literal(p, "", 0, true);
		while (done < n) {
			size_t k = n - done < step ? n - done : step;
			msieve_parser_literal(p, text + pos + done, k, done + k == n);
			done += k;
		}
		pos += n;
	}
}

static void test_simple(void **state)
{
	(void)state;
	struct msieve_parser p;
	const char *e;
	msieve_parser_init(&p, 1000);
	assert_int_equal(feed(&p, "capability", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.cmd, MSIEVE_CMD_CAPABILITY);
	assert_string_equal(p.name, "CAPABILITY");
	msieve_parser_reset(&p, false);
	assert_int_equal(feed(&p, "LISTSCRIPTS", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.cmd, MSIEVE_CMD_LISTSCRIPTS);
	msieve_parser_reset(&p, false);
	assert_int_equal(feed(&p, "Noop \"tag\"", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.argc, 1);
	assert_string_equal(p.args[0].str, "tag");
	msieve_parser_reset(&p, false);
	assert_int_equal(feed(&p, "HAVESPACE \"my \\\"s\\\\\" 4294967295", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.argc, 2);
	assert_string_equal(p.args[0].str, "my \"s\\");
	assert_true(p.args[1].is_number);
	assert_int_equal(p.args[1].number, 4294967295u);
	msieve_parser_reset(&p, false);
	assert_int_equal(feed(&p, "XYZZY foo bar", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.cmd, MSIEVE_CMD_UNKNOWN);
	msieve_parser_free(&p);
}

static void test_errors(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"", " NOOP", "NOOP  \"x\"", "NOOP \"x\" ", "LOGOUT \"x\"", "GETSCRIPT",
		"GETSCRIPT 12", "HAVESPACE \"a\" \"b\"", "HAVESPACE \"a\" 4294967296",
		"PUTSCRIPT \"a\"", "GETSCRIPT \"a", "GETSCRIPT \"a\\n\"", "GETSCRIPT a",
		"GETSCRIPT \"a\"\"b\"", "PUTSCRIPT \"a\" {x+}", "PUTSCRIPT \"a\" {5+} x",
		"PUTSCRIPT \"a\" {+}", "NO0P", "GETSCRIPT \"\xff\"",
		"RENAMESCRIPT \"a\" \"b\" \"c\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct msieve_parser p;
		const char *e = NULL;
		msieve_parser_init(&p, 1000);
		int ret = feed(&p, bad[i], 0, &e);
		if (ret != MSIEVE_ERROR)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(e);
		msieve_parser_free(&p);
	}
	/* A quoted string of 1025 octets is too long (RFC 5804 4). */
	char line[1100] = "GETSCRIPT \"";
	memset(line + 11, 'a', 1025);
	strcpy(line + 11 + 1025, "\"");
	struct msieve_parser p;
	const char *e;
	msieve_parser_init(&p, 1000);
	assert_int_equal(feed(&p, line, 0, &e), MSIEVE_ERROR);
	msieve_parser_free(&p);
}

static void test_literals(void **state)
{
	(void)state;
	static const char cmd[] = "PUTSCRIPT {4+}\r\nname {21+}\r\nrequire \"fileinto\";\r\n\r\n";
	for (size_t chunk = 0; chunk < 4; chunk++) {
		struct msieve_parser p;
		const char *e;
		msieve_parser_init(&p, 1000);
		assert_int_equal(feed(&p, cmd, chunk, &e), MSIEVE_DONE);
		assert_int_equal(p.cmd, MSIEVE_CMD_PUTSCRIPT);
		assert_int_equal(p.argc, 2);
		assert_string_equal(p.args[0].str, "name");
		assert_int_equal(p.args[1].len, 21);
		assert_memory_equal(p.args[1].str, "require \"fileinto\";\r\n", 21);
		msieve_parser_free(&p);
	}
	/* A synchronising literal is accepted too, and an empty one. */
	struct msieve_parser p;
	const char *e;
	msieve_parser_init(&p, 1000);
	assert_int_equal(feed(&p, "CHECKSCRIPT {0}\r\n", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.args[0].len, 0);
	assert_true(p.literal_sync || p.argc == 1);
	msieve_parser_free(&p);
	/* Too large: refused before reading, with the size known. */
	msieve_parser_init(&p, 10);
	bool too_big;
	assert_int_equal(msieve_parser_line(&p, "PUTSCRIPT \"a\" {11+}", 19, &too_big, &e),
			 MSIEVE_ERROR);
	assert_true(too_big);
	assert_int_equal(p.literal_size, 11);
	msieve_parser_free(&p);
	/* Junk after a literal. */
	msieve_parser_init(&p, 100);
	assert_int_equal(feed(&p, "PUTSCRIPT \"a\" {1+}\r\nxjunk", 0, &e), MSIEVE_ERROR);
	msieve_parser_free(&p);
	/* More literals than any command takes. */
	msieve_parser_init(&p, 100);
	assert_int_equal(feed(&p, "NOOP {1+}\r\na {1+}\r\nb {1+}\r\nc {1+}\r\nd {1+}", 0, &e),
			 MSIEVE_ERROR);
	msieve_parser_free(&p);
}

static void test_sasl_response(void **state)
{
	(void)state;
	struct msieve_parser p;
	const char *e;
	msieve_parser_init(&p, 100);
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "\"dGVzdA==\"", 0, &e), MSIEVE_DONE);
	assert_int_equal(p.argc, 1);
	assert_string_equal(p.args[0].str, "dGVzdA==");
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "{4+}\r\nabcd", 0, &e), MSIEVE_DONE);
	assert_string_equal(p.args[0].str, "abcd");
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "*", 0, &e), MSIEVE_DONE);
	assert_true(p.cancelled);
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "\"a\" \"b\"", 0, &e), MSIEVE_ERROR);
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "", 0, &e), MSIEVE_ERROR);
	msieve_parser_reset(&p, true);
	assert_int_equal(feed(&p, "12", 0, &e), MSIEVE_ERROR);
	msieve_parser_free(&p);
}

static void test_names(void **state)
{
	(void)state;
	assert_true(msieve_name_valid("vacation", 8));
	assert_true(msieve_name_valid("r\xc3\xa8gles \"x\"", 11));
	assert_false(msieve_name_valid("", 0));
	assert_false(msieve_name_valid("a\tb", 3));
	assert_false(msieve_name_valid("a\x7f", 2));
	assert_false(msieve_name_valid("a\xc2\x85", 3));		/* U+0085 */
	assert_false(msieve_name_valid("a\xe2\x80\xa8", 4));	/* U+2028 */
	assert_false(msieve_name_valid("a\xc3", 2));		/* truncated */
	assert_false(msieve_name_valid("\xc0\xaf", 2));		/* overlong */
	assert_false(msieve_name_valid("\xed\xa0\x80", 3));	/* surrogate */
	char longname[MSIEVE_MAX_NAME + 2];
	memset(longname, 'a', sizeof(longname));
	assert_true(msieve_name_valid(longname, MSIEVE_MAX_NAME));
	assert_false(msieve_name_valid(longname, MSIEVE_MAX_NAME + 1));
}

static void test_write_string(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	msieve_write_string(&b, "a\"b\\c", 5);
	assert_string_equal(b.data, "\"a\\\"b\\\\c\"");
	buf_reset(&b);
	msieve_write_string(&b, "x\r\ny", 4);
	assert_string_equal(b.data, "{4}\r\nx\r\ny");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_sasl_response),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_write_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
