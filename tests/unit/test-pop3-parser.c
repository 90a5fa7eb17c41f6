/* Unit tests for proto/pop3_parser.c: command syntax per RFC 1939/2449 and
 * the multi-line encoder's dot-stuffing, CRLF normalisation and TOP. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "pop3_parser.h"

static int parse(const char *text, struct pop3_command *cmd, const char **error)
{
	static char line[512];
	size_t len = strlen(text);
	memcpy(line, text, len + 1);
	*error = NULL;
	return pop3_parse_command(line, len, cmd, error);
}

static void test_simple_commands(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("STAT", &c, &e), 0);
	assert_int_equal(c.cmd, POP3_CMD_STAT);
	assert_int_equal(parse("quit", &c, &e), 0);
	assert_int_equal(c.cmd, POP3_CMD_QUIT);
	assert_string_equal(c.name, "QUIT");
	assert_int_equal(parse("CaPa", &c, &e), 0);
	assert_int_equal(c.cmd, POP3_CMD_CAPA);
	assert_int_equal(parse("NOOP ", &c, &e), 0);
	assert_int_equal(c.argc, 0);
}

static void test_unknown_and_empty(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("XTND XMIT", &c, &e), 0);
	assert_int_equal(c.cmd, POP3_CMD_UNKNOWN);
	assert_int_equal(parse("RETRIEVE 1", &c, &e), 0);
	assert_int_equal(c.cmd, POP3_CMD_UNKNOWN);
	assert_int_equal(parse("", &c, &e), -1);
	assert_int_equal(parse(" STAT", &c, &e), -1);
}

static void test_numbers(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("RETR 12", &c, &e), 0);
	assert_true(c.has_number);
	assert_int_equal(c.number, 12);
	assert_int_equal(parse("LIST", &c, &e), 0);
	assert_false(c.has_number);
	assert_int_equal(parse("UIDL 4294967295", &c, &e), 0);
	assert_int_equal(c.number, 4294967295u);
	assert_int_equal(parse("UIDL 4294967296", &c, &e), -1);
	assert_int_equal(parse("DELE 0", &c, &e), -1);
	assert_string_equal(e, "invalid message number");
	assert_int_equal(parse("DELE -1", &c, &e), -1);
	assert_int_equal(parse("DELE 1x", &c, &e), -1);
	assert_int_equal(parse("RETR", &c, &e), -1);
	assert_string_equal(e, "missing argument");
	assert_int_equal(parse("RETR 1 2", &c, &e), -1);
	assert_string_equal(e, "too many arguments");
	assert_int_equal(parse("TOP 3 0", &c, &e), 0);
	assert_int_equal(c.number, 3);
	assert_int_equal(c.number2, 0);
	assert_int_equal(parse("TOP 3", &c, &e), -1);
	assert_int_equal(parse("TOP 3 x", &c, &e), -1);
	assert_string_equal(e, "invalid line count");
}

static void test_user_pass(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("USER ann@example.test", &c, &e), 0);
	assert_string_equal(c.argv[0], "ann@example.test");
	/* The password keeps its spaces (RFC 1939 7). */
	assert_int_equal(parse("PASS  secret with spaces ", &c, &e), 0);
	assert_string_equal(c.argv[0], " secret with spaces ");
	assert_int_equal(parse("PASS", &c, &e), -1);
	assert_int_equal(parse("PASS ", &c, &e), -1);
	assert_int_equal(parse("USER a b", &c, &e), -1);
}

static void test_auth(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("AUTH", &c, &e), 0);
	assert_int_equal(c.argc, 0);
	assert_int_equal(parse("AUTH PLAIN AGFubgBzZWNyZXQ=", &c, &e), 0);
	assert_int_equal(c.argc, 2);
	assert_string_equal(c.argv[0], "PLAIN");
	assert_string_equal(c.argv[1], "AGFubgBzZWNyZXQ=");
	assert_int_equal(parse("AUTH PLAIN =", &c, &e), 0);
	assert_string_equal(c.argv[1], "=");
}

static void test_control_chars_refused(void **state)
{
	struct pop3_command c;
	const char *e;
	assert_int_equal(parse("USER a\tb", &c, &e), -1);
	char line[] = "USER a\0b";
	assert_int_equal(pop3_parse_command(line, 8, &c, &e), -1);
	assert_string_equal(e, "NUL in command line");
}

static void check_multiline(const char *in, long top, const char *expect)
{
	struct buf out;
	buf_init(&out, 0);
	pop3_write_multiline(in, strlen(in), top, &out);
	assert_string_equal(out.data, expect);
	buf_free(&out);
}

static void test_multiline_stuffing(void **state)
{
	check_multiline("Subject: x\r\n\r\n.hidden\r\n..two\r\nend\r\n", -1,
			"Subject: x\r\n\r\n..hidden\r\n...two\r\nend\r\n.\r\n");
	/* Bare LF line ends become CRLF; a final line without LF gets one. */
	check_multiline("A: b\n\nline\n.\nlast", -1, "A: b\r\n\r\nline\r\n..\r\nlast\r\n.\r\n");
	check_multiline("", -1, ".\r\n");
}

static void test_multiline_top(void **state)
{
	const char *msg = "From: a\r\nTo: b\r\n\r\none\r\ntwo\r\nthree\r\n";
	check_multiline(msg, 0, "From: a\r\nTo: b\r\n\r\n.\r\n");
	check_multiline(msg, 2, "From: a\r\nTo: b\r\n\r\none\r\ntwo\r\n.\r\n");
	check_multiline(msg, 99, "From: a\r\nTo: b\r\n\r\none\r\ntwo\r\nthree\r\n.\r\n");
	/* No body separator: everything is header. */
	check_multiline("A: b\r\n", 0, "A: b\r\n.\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_simple_commands),
		cmocka_unit_test(test_unknown_and_empty),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_user_pass),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_control_chars_refused),
		cmocka_unit_test(test_multiline_stuffing),
		cmocka_unit_test(test_multiline_top),
	};
	return cmocka_run_group_tests_name("pop3-parser", tests, NULL, NULL);
}
