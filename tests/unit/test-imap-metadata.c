/* Unit tests for proto/imap_metadata.c: entry-name rules of RFC 5464
 * section 3.2, GETMETADATA options and entry lists, SETMETADATA pairs with
 * quoted, literal, literal8 and NIL values, the DEPTH matching, and values
 * written back; also the arguments of OBJECTID (RFC 8474) and SAVEDATE
 * (RFC 8514) that proto/imap_args.c parses for this extension set, and the
 * object ids themselves. Arguments come from real command lines run
 * through imap_parser, also fed one byte at a time. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_metadata.h"
#include "imap_args.h"

static const struct imap_parser_limits plim = {
	.max_line = 8192, .max_command = 65536, .max_literal = 4096, .max_append = 4096,
	.max_depth = 40, .max_args = 4000,
};

static struct imap_parser *parser;
static struct imap_pool *pool;

static int setup(void **state)
{
	(void)state;
	parser = imap_parser_create(&plim, IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_BINARY);
	pool = imap_pool_create();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_destroy(&parser);
	imap_pool_destroy(&pool);
	return 0;
}

/* Parse "T X <args>\r\n" (whole, or one byte at a time) into a command. */
static const struct imap_command *cmd_feed(const char *args, size_t args_len, bool trickle)
{
	struct buf line;
	buf_init(&line, 0);
	buf_append_str(&line, "T X ");
	buf_append(&line, args, args_len);
	buf_append_str(&line, "\r\n");
	imap_parser_reset(parser);
	size_t off = 0;
	int r = IMAP_PARSER_MORE;
	while (off < line.len) {
		size_t used = 0;
		size_t n = trickle ? 1 : line.len - off;
		r = imap_parser_feed(parser, line.data + off, n, &used);
		off += used;
		if (r == IMAP_PARSER_COMMAND || r == IMAP_PARSER_ERROR)
			break;
	}
	if (r != IMAP_PARSER_COMMAND)
		fail_msg("parse of '%s': %d %s", args, r, imap_parser_error_reason(parser));
	buf_free(&line);
	imap_pool_clear(pool);
	return imap_parser_command(parser);
}

static const struct imap_command *cmd(const char *args)
{
	return cmd_feed(args, strlen(args), false);
}

static int name_ok(const char *name, bool root)
{
	const char *error = NULL;
	return imap_metadata_name_check(name, strlen(name), root, &error);
}

static void test_names(void **state)
{
	(void)state;
	assert_int_equal(name_ok("/private/comment", false), 0);
	assert_int_equal(name_ok("/shared/vendor/cairn/x-y_z.1", false), 0);
	assert_int_equal(name_ok("/Shared/Comment", false), 0);
	assert_int_equal(name_ok("/shared/caf\xc3\xa9", false), 0);
	assert_int_equal(name_ok("/private", true), 0);
	assert_int_equal(name_ok("/private", false), -1);
	assert_int_equal(name_ok("/privatex/a", false), -1);
	assert_int_equal(name_ok("/other/comment", false), -1);
	assert_int_equal(name_ok("private/comment", false), -1);
	assert_int_equal(name_ok("/private/", false), -1);
	assert_int_equal(name_ok("/private//a", false), -1);
	assert_int_equal(name_ok("/private/a*", false), -1);
	assert_int_equal(name_ok("/private/a%", false), -1);
	assert_int_equal(name_ok("/private/a b", false), -1);
	assert_int_equal(name_ok("/private/a\x01", false), -1);
	assert_int_equal(name_ok("/private/a\x7f", false), -1);
	assert_int_equal(name_ok("/private/\xc3", false), -1);	/* truncated UTF-8 */
	assert_int_equal(name_ok("", false), -1);
	char longname[IMAP_METADATA_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memcpy(longname, "/shared/", 8);
	assert_int_equal(name_ok(longname, false), -1);
	longname[IMAP_METADATA_NAME_MAX] = '\0';
	assert_int_equal(name_ok(longname, false), 0);
}

static void test_get(void **state)
{
	(void)state;
	for (int trickle = 0; trickle < 2; trickle++) {
		const char *args = "(DEPTH infinity MAXSIZE 1024) INBOX (/Private/Comment /shared/X"
				   " /private/comment)";
		const struct imap_command *c = cmd_feed(args, strlen(args), trickle);
		struct imap_metadata_get g;
		const char *error = NULL;
		assert_int_equal(imap_metadata_get_parse(pool, c->args, c->arg_count, &g, &error), 0);
		assert_string_equal(g.mailbox, "INBOX");
		assert_true(g.maxsize_set);
		assert_int_equal(g.maxsize, 1024);
		assert_int_equal(g.depth, IMAP_METADATA_DEPTH_INFINITY);
		assert_int_equal(g.entry_count, 2);	/* duplicate dropped, lower-cased */
		assert_string_equal(g.entries[0], "/private/comment");
		assert_string_equal(g.entries[1], "/shared/x");
	}
	const struct imap_command *c = cmd("\"\" /shared");
	struct imap_metadata_get g;
	const char *error = NULL;
	assert_int_equal(imap_metadata_get_parse(pool, c->args, c->arg_count, &g, &error), 0);
	assert_int_equal(g.mailbox_len, 0);
	assert_int_equal(g.depth, 0);
	assert_false(g.maxsize_set);
	assert_int_equal(g.entry_count, 1);

	static const char *const bad[] = {
		"INBOX", "(DEPTH 2) INBOX /shared/a", "(DEPTH) INBOX /shared/a",
		"(MAXSIZE x) INBOX /shared/a", "(DEPTH 1 DEPTH 0) INBOX /shared/a",
		"(FOO 1) INBOX /shared/a", "() INBOX /shared/a", "INBOX ()",
		"INBOX /shared/a /shared/b", "INBOX (/shared/a*)", "INBOX NIL",
		"INBOX (/shared/a (/x))", "(MAXSIZE 99999999999999999999) INBOX /shared/a",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cmd(bad[i]);
		error = NULL;
		if (imap_metadata_get_parse(pool, c->args, c->arg_count, &g, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(error);
	}
}

static void test_set(void **state)
{
	(void)state;
	static const char args[] = "Work (/shared/comment \"a \\\"b\\\"\" /private/x {3+}\r\nl\ni"
				   " /private/y NIL /private/bin ~{3}\r\na\0b)";
	for (int trickle = 0; trickle < 2; trickle++) {
		const struct imap_command *c = cmd_feed(args, sizeof(args) - 1, trickle);
		struct imap_metadata_set st;
		const char *error = NULL;
		if (imap_metadata_set_parse(pool, c->args, c->arg_count, 10, &st, &error) < 0)
			fail_msg("set: %s", error);
		assert_string_equal(st.mailbox, "Work");
		assert_int_equal(st.count, 4);
		assert_string_equal(st.values[0].name, "/shared/comment");
		assert_int_equal(st.values[0].len, 5);
		assert_memory_equal(st.values[0].value, "a \"b\"", 5);
		assert_int_equal(st.values[1].len, 3);
		assert_memory_equal(st.values[1].value, "l\ni", 3);
		assert_null(st.values[2].value);
		assert_int_equal(st.values[3].len, 3);
		assert_memory_equal(st.values[3].value, "a\0b", 3);
	}
	static const char *const bad[] = {
		"Work", "Work ()", "Work (/shared/a)", "Work (/shared/a b c)",
		"Work (/shared/a atom)", "Work (/shared/a (x))", "Work (/private \"x\")",
		"Work (/vendor/a \"x\")", "Work (/shared/a \"x\") extra",
		"Work (/shared/a \"1\" /shared/b \"2\" /shared/c \"3\")",	/* over max_values 2 */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct imap_command *c = cmd(bad[i]);
		struct imap_metadata_set st;
		const char *error = NULL;
		if (imap_metadata_set_parse(pool, c->args, c->arg_count, 2, &st, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(error);
	}
}

static void test_match(void **state)
{
	(void)state;
	assert_true(imap_metadata_match("/shared/a", 0, "/shared/a"));
	assert_false(imap_metadata_match("/shared/a", 0, "/shared/a/b"));
	assert_true(imap_metadata_match("/shared/a", 1, "/shared/a/b"));
	assert_false(imap_metadata_match("/shared/a", 1, "/shared/a/b/c"));
	assert_true(imap_metadata_match("/shared/a", IMAP_METADATA_DEPTH_INFINITY, "/shared/a/b/c"));
	assert_false(imap_metadata_match("/shared/a", IMAP_METADATA_DEPTH_INFINITY, "/shared/ab"));
	assert_true(imap_metadata_match("/private", 1, "/private/specialuse"));
	assert_false(imap_metadata_match("/shared", 1, "/private/specialuse"));
}

static void test_write(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	imap_metadata_write_value(&b, "plain", 5, false);
	buf_append_str(&b, " ");
	imap_metadata_write_value(&b, "two\r\nlines", 10, false);
	buf_append_str(&b, " ");
	imap_metadata_write_value(&b, "a\0b", 3, false);
	buf_append_str(&b, " ");
	imap_metadata_write_value(&b, NULL, 0, false);
	buf_append_str(&b, " ");
	imap_metadata_write_value(&b, "caf\xc3\xa9", 5, true);
	assert_int_equal(b.len, strlen("\"plain\" {10}\r\ntwo\r\nlines ~{3}\r\na") + 1 +
				strlen("b NIL \"caf\xc3\xa9\""));
	assert_memory_equal(b.data, "\"plain\" {10}\r\ntwo\r\nlines ~{3}\r\na\0b NIL \"caf\xc3\xa9\"",
			    b.len);
	buf_free(&b);
}

static void test_objectid_savedate_args(void **state)
{
	(void)state;
	static const struct imap_search_limits slim = { .max_depth = 10, .max_ranges = 100 };
	const struct imap_command *c = cmd("SAVEDBEFORE 1-Feb-2020 SAVEDON \"2-Feb-2020\""
					   " SAVEDSINCE 3-Feb-2020 SAVEDATESUPPORTED EMAILID M12"
					   " THREADID T_1-x");
	struct imap_search_program *prog;
	const char *error = NULL;
	assert_int_equal(imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error), 0);
	const struct imap_search_key *k = prog->root.children;
	assert_int_equal(k->type, IMAP_SEARCH_SAVEDBEFORE);
	assert_int_equal(k->date, 1580515200);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_SAVEDON);
	assert_int_equal(k->date, 1580601600);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_SAVEDSINCE);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_SAVEDATESUPPORTED);
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_EMAILID);
	assert_string_equal(k->str, "M12");
	k = k->next;
	assert_int_equal(k->type, IMAP_SEARCH_THREADID);
	assert_string_equal(k->str, "T_1-x");
	assert_null(k->next);
	static const char *const bad[] = {
		"EMAILID", "EMAILID \"M1\"", "EMAILID M.1", "THREADID (T1)", "SAVEDON x",
		"SAVEDBEFORE",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = cmd(bad[i]);
		if (imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error) == 0)
			fail_msg("accepted: %s", bad[i]);
	}
	char longid[300];
	memset(longid, 'a', sizeof(longid));
	memcpy(longid, "EMAILID ", 8);
	longid[8 + 256] = '\0';	/* 256 characters: one too many */
	c = cmd(longid);
	assert_int_equal(imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error), -1);
	longid[8 + 255] = '\0';
	c = cmd(longid);
	assert_int_equal(imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error), 0);

	struct imap_fetch f;
	c = cmd("(SAVEDATE EMAILID THREADID)");
	assert_int_equal(imap_fetch_parse(pool, &c->args[0], NULL, false, &f, &error), 0);
	assert_int_equal(f.items, IMAP_FETCH_SAVEDATE | IMAP_FETCH_EMAILID | IMAP_FETCH_THREADID);
	unsigned items;
	c = cmd("(DELETED-STORAGE mailboxid)");
	assert_int_equal(imap_status_parse(&c->args[0], &items, &error), 0);
	assert_int_equal(items, IMAP_STATUS_DELETED_STORAGE | IMAP_STATUS_MAILBOXID);

	char id[IMAP_OBJECTID_MAX];
	imap_objectid_mailbox(UINT64_MAX, id);
	assert_string_equal(id, "F18446744073709551615");
	imap_objectid_email(7, id);
	assert_string_equal(id, "M7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set, setup, teardown),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_write),
		cmocka_unit_test_setup_teardown(test_objectid_savedate_args, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
