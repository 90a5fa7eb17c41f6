/* Unit tests for proto/imap_notify.c: the NOTIFY grammar (RFC 5465 section
 * 8) and its rules (MessageNew and MessageExpunge together, FlagChange and
 * AnnotationChange only with them, fetch-att only for a selected filter,
 * one selected filter), from real command lines run through imap_parser,
 * also fed one byte at a time. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_notify.h"

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

/* Parse "T NOTIFY <args>" (whole or trickled) and run imap_notify_parse. */
static int parse(const char *args, bool trickle, struct imap_notify_cmd *nc)
{
	struct buf line;
	buf_init(&line, 0);
	buf_printf(&line, "T NOTIFY %s\r\n", args);
	imap_parser_reset(parser);
	size_t off = 0;
	int r = IMAP_PARSER_MORE;
	while (off < line.len) {
		size_t used = 0;
		r = imap_parser_feed(parser, line.data + off, trickle ? 1 : line.len - off, &used);
		off += used;
		if (r == IMAP_PARSER_COMMAND || r == IMAP_PARSER_ERROR)
			break;
	}
	buf_free(&line);
	if (r != IMAP_PARSER_COMMAND)
		fail_msg("parse of '%s': %d %s", args, r, imap_parser_error_reason(parser));
	imap_pool_clear(pool);
	const struct imap_command *c = imap_parser_command(parser);
	const char *error = NULL;
	int ret = imap_notify_parse(pool, c->args, c->arg_count, nc, &error);
	if (ret < 0)
		assert_non_null(error);
	return ret;
}

static void test_valid(void **state)
{
	(void)state;
	struct imap_notify_cmd nc;
	for (int t = 0; t < 2; t++) {
		assert_int_equal(parse("NONE", t, &nc), 0);
		assert_true(nc.none);
		assert_int_equal(parse("SET STATUS (selected (MessageNew (UID FLAGS ENVELOPE)"
				       " MessageExpunge FlagChange)) (personal (MailboxName"
				       " SubscriptionChange))", t, &nc), 0);
		assert_false(nc.none);
		assert_true(nc.status);
		assert_int_equal(nc.count, 2);
		assert_int_equal(nc.groups[0].filter, IMAP_NOTIFY_SELECTED);
		assert_true(nc.groups[0].has_fetch);
		assert_int_equal(nc.groups[0].fetch.items,
				 IMAP_FETCH_UID | IMAP_FETCH_FLAGS | IMAP_FETCH_ENVELOPE);
		assert_int_equal(nc.groups[0].events, IMAP_NOTIFY_MESSAGE_NEW |
				 IMAP_NOTIFY_MESSAGE_EXPUNGE | IMAP_NOTIFY_FLAG_CHANGE);
		assert_int_equal(nc.groups[1].filter, IMAP_NOTIFY_PERSONAL);
		assert_int_equal(nc.all_events, IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE |
				 IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_MAILBOX_NAME |
				 IMAP_NOTIFY_SUBSCRIPTION_CHANGE);
		assert_int_equal(parse("SET (subtree (INBOX \"a b\" {1+}\r\nc) (MessageNew"
				       " MessageExpunge)) (mailboxes Sent NONE) (SELECTED-DELAYED"
				       " (messagenew messageexpunge))", t, &nc), 0);
		assert_false(nc.status);
		assert_int_equal(nc.count, 3);
		assert_int_equal(nc.groups[0].filter, IMAP_NOTIFY_SUBTREE);
		assert_int_equal(nc.groups[0].name_count, 3);
		assert_string_equal(nc.groups[0].names[1], "a b");
		assert_string_equal(nc.groups[0].names[2], "c");
		assert_int_equal(nc.groups[1].filter, IMAP_NOTIFY_MAILBOXES);
		assert_int_equal(nc.groups[1].events, 0);
		assert_int_equal(nc.groups[2].filter, IMAP_NOTIFY_SELECTED_DELAYED);
		assert_false(nc.groups[2].has_fetch);
		/* unknown and unsupported events parse; the caller says BADEVENT */
		assert_int_equal(parse("SET (inboxes (FooBar)) (subscribed (MessageNew"
				       " MessageExpunge AnnotationChange))", t, &nc), 0);
		assert_true((nc.all_events & IMAP_NOTIFY_UNKNOWN) != 0);
		assert_true((nc.all_events & IMAP_NOTIFY_ANNOTATION_CHANGE) != 0);
	}
	assert_string_equal(imap_notify_event_name(IMAP_NOTIFY_SUBSCRIPTION_CHANGE),
			    "SubscriptionChange");
	assert_null(imap_notify_event_name(IMAP_NOTIFY_UNKNOWN));
}

static void test_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"SET",
		"SET STATUS",
		"NONE extra",
		"FOO (selected (MessageNew MessageExpunge))",
		"SET selected",
		"SET (selected)",
		"SET (nosuch (MessageNew MessageExpunge))",
		"SET (selected ())",
		"SET (selected (MessageNew))",				/* without MessageExpunge */
		"SET (personal (MessageExpunge))",
		"SET (personal (FlagChange))",				/* needs both */
		"SET (personal (MessageNew MessageExpunge) extra)",
		"SET (personal (MessageNew (UID) MessageExpunge))",	/* fetch-att: selected only */
		"SET (selected (MessageNew (NOSUCH) MessageExpunge))",
		"SET (selected (MessageNew (UID) MessageNew (FLAGS) MessageExpunge))",
		"SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew"
		" MessageExpunge))",					/* twice */
		"SET (subtree (MessageNew MessageExpunge))",		/* no names */
		"SET (subtree () (MessageNew MessageExpunge))",
		"SET (mailboxes (a (b)) (MessageNew MessageExpunge))",
		"SET (personal (\"MessageNew\" MessageExpunge))",
		"SET (personal NIL)",
	};
	struct imap_notify_cmd nc;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], false, &nc) == 0)
			fail_msg("accepted: NOTIFY %s", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
