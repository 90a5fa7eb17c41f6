/* Unit tests for server/deliver/deliver-from.c: the From: and Sender:
 * mailboxes that submission's author check (deliver_check_from) holds
 * against the account, and deliver_header_from() for DKIM. The forgeries of
 * issue 18: a second From: header, several authors without a Sender:. */
#include "deliver.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static int parse(const char *msg, struct deliver_from *f)
{
	return deliver_from_parse(msg, strlen(msg), f);
}

static void test_one_author(void **state)
{
	struct deliver_from f;
	char out[64];
	(void)state;
	const char *msg = "From: \"Smith, Ann <boss@x.test>\" (not <bob@x.test>) <A.Smith@X.test>\r\n"
			  "Subject: hi\r\n\r\nbody\r\n";
	assert_int_equal(parse(msg, &f), 0);
	assert_int_equal(f.nfrom, 1);
	assert_string_equal(f.from[0], "a.smith@x.test");
	assert_null(f.sender);
	deliver_from_free(&f);
	assert_int_equal(deliver_header_from(msg, strlen(msg), out, sizeof(out)), 0);
	assert_string_equal(out, "a.smith@x.test");
	/* Too small for the address. */
	assert_int_equal(deliver_header_from(msg, strlen(msg), out, 10), -1);

	msg = "from:   ann@x.test  \r\nsender: Ann <ANN@x.test>\r\n\r\n";
	assert_int_equal(parse(msg, &f), 0);
	assert_int_equal(f.nfrom, 1);
	assert_string_equal(f.from[0], "ann@x.test");
	assert_string_equal(f.sender, "ann@x.test");
	deliver_from_free(&f);
}

static void test_two_from_fields(void **state)
{
	struct deliver_from f;
	char out[64];
	(void)state;
	/* The first used to be the only one checked; MUAs may show the second. */
	const char *msg[] = {
		"From: ann@x.test\r\nFrom: ceo@x.test\r\nSubject: x\r\n\r\nx\r\n",
		"From: ann@x.test\r\nSubject: x\r\nfrom: ceo@x.test\r\n\r\nx\r\n",
		"From: ann@x.test\r\nSender: ann@x.test\r\nSender: ceo@x.test\r\n\r\nx\r\n",
	};
	for (size_t i = 0; i < sizeof(msg) / sizeof(msg[0]); i++) {
		assert_int_equal(parse(msg[i], &f), -1);
		assert_null(f.from);
		assert_int_equal(deliver_header_from(msg[i], strlen(msg[i]), out, sizeof(out)), -1);
	}
}

static void test_several_authors(void **state)
{
	struct deliver_from f;
	char out[64];
	(void)state;
	/* RFC 5322 3.6.2: several From: mailboxes need a Sender:. */
	const char *msg = "From: ann@x.test, Bob <bob@x.test>\r\n\r\nx\r\n";
	assert_int_equal(parse(msg, &f), -1);
	msg = "From: ann@x.test, \"Jones, Bob\" <bob@x.test>\r\nSender: ann@x.test\r\n\r\nx\r\n";
	assert_int_equal(parse(msg, &f), 0);
	assert_int_equal(f.nfrom, 2);
	assert_string_equal(f.from[0], "ann@x.test");
	assert_string_equal(f.from[1], "bob@x.test");
	assert_string_equal(f.sender, "ann@x.test");
	deliver_from_free(&f);
	/* DKIM and the single-author callers still want one mailbox. */
	assert_int_equal(deliver_header_from(msg, strlen(msg), out, sizeof(out)), -1);
	/* Sender: is one mailbox. */
	msg = "From: ann@x.test, bob@x.test\r\nSender: ann@x.test, bob@x.test\r\n\r\nx\r\n";
	assert_int_equal(parse(msg, &f), -1);
}

static void test_malformed(void **state)
{
	struct deliver_from f;
	(void)state;
	const char *msg[] = {
		"Subject: no from\r\n\r\nx\r\n",
		"From:\r\n\r\nx\r\n",
		"From: ann\r\n\r\nx\r\n",
		"From: ann@x.test,\r\nSender: ann@x.test\r\n\r\nx\r\n",
		"From: , ann@x.test\r\nSender: ann@x.test\r\n\r\nx\r\n",
		"From: team: ann@x.test, ceo@x.test;\r\nSender: ann@x.test\r\n\r\nx\r\n",
		"From: <ann@x.test> ceo@x.test\r\n\r\nx\r\n",
		"From: <ann@x.test\r\n\r\nx\r\n",
		"From: ann@x.test>\r\n\r\nx\r\n",
		"From: ann@x.test (unclosed\r\n\r\nx\r\n",
		"From: \"unclosed <ceo@x.test>\r\n\r\nx\r\n",
		"From: ann @x.test\r\n\r\nx\r\n",
	};
	for (size_t i = 0; i < sizeof(msg) / sizeof(msg[0]); i++) {
		if (parse(msg[i], &f) != -1)
			fail_msg("accepted: %s", msg[i]);
	}
	/* More mailboxes than DELIVER_FROM_MAX. */
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "Sender: a@x.test\r\nFrom: a@x.test");
	for (int i = 0; i < DELIVER_FROM_MAX; i++)
		buf_printf(&b, ", a%d@x.test", i);
	buf_append_str(&b, "\r\n\r\nx\r\n");
	assert_int_equal(deliver_from_parse(b.data, b.len, &f), -1);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_author),
		cmocka_unit_test(test_two_from_fields),
		cmocka_unit_test(test_several_authors),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
