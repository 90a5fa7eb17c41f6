/* Unit tests for proto/mutf7.c: the RFC 3501 example, known vectors both
 * ways, round trips over many code points, and every kind of invalid or
 * non-canonical input in both directions. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mutf7.h"

static void both(const char *mutf7, const char *utf8)
{
	struct buf b;
	const char *error;

	buf_init(&b, 0);
	assert_int_equal(mutf7_to_utf8(mutf7, strlen(mutf7), &b, &error), 0);
	assert_string_equal(b.data != NULL ? b.data : "", utf8);
	buf_reset(&b);
	assert_int_equal(mutf7_from_utf8(utf8, strlen(utf8), &b, &error), 0);
	assert_string_equal(b.data != NULL ? b.data : "", mutf7);
	assert_true(mutf7_is_valid(mutf7, strlen(mutf7)));
	buf_free(&b);
}

static void bad_mutf7(const char *in, size_t len, const char *why)
{
	struct buf b;
	const char *error = NULL;

	buf_init(&b, 0);
	assert_int_equal(mutf7_to_utf8(in, len, &b, &error), -1);
	assert_non_null(error);
	if (why != NULL && strcmp(error, why) != 0)
		fail_msg("%s: got '%s', want '%s'", in, error, why);
	assert_false(mutf7_is_valid(in, len));
	buf_free(&b);
}

static void bad_utf8(const char *in, size_t len)
{
	struct buf b;
	const char *error = NULL;

	buf_init(&b, 0);
	assert_int_equal(mutf7_from_utf8(in, len, &b, &error), -1);
	assert_non_null(error);
	buf_free(&b);
}

static void test_rfc3501_example(void **state)
{
	both("~peter/mail/&U,BTFw-/&ZeVnLIqe-",
	     "~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
}

static void test_ascii(void **state)
{
	both("", "");
	both("INBOX", "INBOX");
	both(" !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", " !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~");
}

static void test_ampersand(void **state)
{
	both("&-", "&");
	both("a&-b&-&-", "a&b&&");
	both("&AOQ-&-", "\xc3\xa4&");
}

static void test_vectors(void **state)
{
	both("&AOQ-", "\xc3\xa4");			/* 1 unit: 3 chars */
	both("&AOQA5A-", "\xc3\xa4\xc3\xa4");		/* 2 units: 6 chars */
	both("&AOQA5ADk-", "\xc3\xa4\xc3\xa4\xc3\xa4");	/* 3 units: 8 chars */
	both("Entw&APw-rfe", "Entw\xc3\xbcrfe");
	both("&2D3eAA-", "\xf0\x9f\x98\x80");		/* U+1F600 via surrogates */
	both("&AB8-", "\x1f");				/* control characters are encoded */
	both("&AH8-", "\x7f");
	both("&,,8-", "\xef\xbf\xbf");			/* U+FFFF */
}

static void test_roundtrip_many(void **state)
{
	uint32_t cp;
	struct buf u, m, back;
	const char *error;

	buf_init(&u, 0);
	buf_init(&m, 0);
	buf_init(&back, 0);
	for (cp = 1; cp <= 0x10ffff; cp += (cp < 0x800 ? 1 : 97)) {
		char s[8];
		size_t n;

		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		if (cp < 0x80) {
			s[0] = (char)cp;
			n = 1;
		} else if (cp < 0x800) {
			s[0] = (char)(0xc0 | (cp >> 6));
			s[1] = (char)(0x80 | (cp & 0x3f));
			n = 2;
		} else if (cp < 0x10000) {
			s[0] = (char)(0xe0 | (cp >> 12));
			s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
			s[2] = (char)(0x80 | (cp & 0x3f));
			n = 3;
		} else {
			s[0] = (char)(0xf0 | (cp >> 18));
			s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
			s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
			s[3] = (char)(0x80 | (cp & 0x3f));
			n = 4;
		}
		/* the character between two ASCII letters, and twice in a row */
		buf_reset(&u);
		buf_append(&u, "a", 1);
		buf_append(&u, s, n);
		buf_append(&u, "b", 1);
		buf_append(&u, s, n);
		buf_append(&u, s, n);
		buf_reset(&m);
		buf_reset(&back);
		assert_int_equal(mutf7_from_utf8(u.data, u.len, &m, &error), 0);
		assert_int_equal(mutf7_to_utf8(m.data, m.len, &back, &error), 0);
		assert_int_equal(back.len, u.len);
		assert_memory_equal(back.data, u.data, u.len);
	}
	buf_free(&u);
	buf_free(&m);
	buf_free(&back);
}

static void test_invalid_mutf7(void **state)
{
	bad_mutf7("&U,BTFw", 7, "Unterminated encoded run");
	bad_mutf7("&", 1, "Unterminated encoded run");
	bad_mutf7("a&AGE-", 6, "Printable ASCII encoded in base64");	/* "a" encoded */
	bad_mutf7("&ACY-", 5, "Printable ASCII encoded in base64");	/* "&" encoded */
	bad_mutf7("&AOQ-&AOQ-", 10, "Null shift between encoded runs");
	bad_mutf7("&AOR-", 5, "Invalid length or padding of encoded run");	/* spare bits */
	bad_mutf7("&AO-", 4, "Invalid length or padding of encoded run");
	bad_mutf7("&AOQA-", 6, "Invalid length or padding of encoded run");
	bad_mutf7("&AOQA5ADkA-", 11, "Invalid length or padding of encoded run");
	bad_mutf7("&U/BTFw-", 8, "Invalid modified base64 character");	/* "/" is UTF-7, not mUTF-7 */
	bad_mutf7("&U=-", 4, "Invalid modified base64 character");
	bad_mutf7("&2D0-", 5, "High surrogate without low surrogate");
	bad_mutf7("&2D3YPQ-", 8, "High surrogate without low surrogate");
	bad_mutf7("&3gA-", 5, "Low surrogate without high surrogate");
	bad_mutf7("&3gDYPQ-", 8, "Low surrogate without high surrogate");
	bad_mutf7("&AAA-", 5, "NUL in mailbox name");
	bad_mutf7("caf\xc3\xa9", 5, "Invalid character in mailbox name");	/* raw 8-bit */
	bad_mutf7("a\tb", 3, "Invalid character in mailbox name");
	bad_mutf7("a\0b", 3, "Invalid character in mailbox name");
	bad_mutf7("\x7f", 1, "Invalid character in mailbox name");
}

static void test_invalid_utf8(void **state)
{
	bad_utf8("\xc3", 1);			/* truncated */
	bad_utf8("\xc0\x80", 2);		/* overlong NUL */
	bad_utf8("\xe0\x80\xaf", 3);		/* overlong "/" */
	bad_utf8("\xed\xa0\x80", 3);		/* surrogate */
	bad_utf8("\xf4\x90\x80\x80", 4);	/* > U+10FFFF */
	bad_utf8("\xff", 1);
	bad_utf8("\x80", 1);
	bad_utf8("a\0b", 3);
}

static void test_max(void **state)
{
	struct buf b;
	const char *error;

	buf_init(&b, 4);
	assert_int_equal(mutf7_to_utf8("&AOQA5A-", 8, &b, &error), 0);	/* 4 bytes of UTF-8 fit */
	buf_reset(&b);
	assert_int_equal(mutf7_to_utf8("&AOQA5A-x", 9, &b, &error), -1);
	assert_string_equal(error, "Mailbox name too long");
	buf_reset(&b);
	assert_int_equal(mutf7_from_utf8("\xc3\xa4", 2, &b, &error), -1);	/* "&AOQ-" is 5 */
	buf_free(&b);
	buf_init(&b, 5);
	assert_int_equal(mutf7_from_utf8("\xc3\xa4", 2, &b, &error), 0);
	assert_string_equal(b.data, "&AOQ-");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3501_example), cmocka_unit_test(test_ascii),
		cmocka_unit_test(test_ampersand), cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_roundtrip_many), cmocka_unit_test(test_invalid_mutf7),
		cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_max),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
