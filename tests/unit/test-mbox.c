/* Unit tests for proto/mbox.c: splitting (LF and CRLF files, leading empty
 * lines, "From " inside bodies), mboxrd quoting that round-trips, From_ line
 * dates, and Maildir flag suffixes. */
#include "autoconf.h"
#include "mbox.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void assert_body(const struct mbox_msg *m, const char *want)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mbox_unquote(m->body, m->body_len, &b), 0);
	assert_int_equal(b.len, strlen(want));
	if (b.len > 0)
		assert_memory_equal(b.data, want, b.len);
	buf_free(&b);
}

static void test_split(void **state)
{
	const char *data = "\n"
			   "From ann@x Sat Jan  3 01:05:34 1996\n"
			   "Subject: one\n\nbody\n>From quoted\nFrom not-separator (no empty line)\n\n"
			   "From bob@y Sun Jan  4 02:00:00 1996\n"
			   "Subject: two\n\n>>From twice\n\n\n"
			   "From c Mon Jan  5 03:00:00 1996\n"
			   "Subject: three\n\nlast\n\n";
	size_t pos = 0, len = strlen(data);
	struct mbox_msg m;
	assert_int_equal(mbox_count(data, len), 3);
	assert_int_equal(mbox_next(data, len, &pos, &m), 1);
	assert_int_equal(m.from_line_len, strlen("From ann@x Sat Jan  3 01:05:34 1996"));
	assert_int_equal(m.offset, 1);
	assert_body(&m, "Subject: one\n\nbody\nFrom quoted\nFrom not-separator (no empty line)\n");
	assert_int_equal(mbox_next(data, len, &pos, &m), 1);
	/* the message itself ended with an empty line: kept */
	assert_body(&m, "Subject: two\n\n>From twice\n\n");
	assert_int_equal(mbox_next(data, len, &pos, &m), 1);
	assert_body(&m, "Subject: three\n\nlast\n");
	assert_int_equal(mbox_next(data, len, &pos, &m), 0);
	assert_int_equal(pos, len);

	pos = 0;
	assert_int_equal(mbox_next("Subject: x\n", 11, &pos, &m), -1);
	pos = 0;
	assert_int_equal(mbox_next("", 0, &pos, &m), 0);
	pos = 0;
	assert_int_equal(mbox_next("\n\n", 2, &pos, &m), 0);
}

static void test_split_crlf(void **state)
{
	/* a foreign CRLF mbox: the separator is an empty CRLF line */
	const char *data = "From a Sat Jan  3 01:05:34 1996\r\nX: 1\r\n\r\nbody\r\n\r\n"
			   "From b Sat Jan  3 01:05:34 1996\r\nX: 2\r\n\r\nbody2\r\n\r\n";
	size_t pos = 0, len = strlen(data);
	struct mbox_msg m;
	assert_int_equal(mbox_next(data, len, &pos, &m), 1);
	assert_body(&m, "X: 1\r\n\r\nbody\r\n");
	assert_int_equal(mbox_next(data, len, &pos, &m), 1);
	assert_body(&m, "X: 2\r\n\r\nbody2\r\n");
	assert_int_equal(mbox_next(data, len, &pos, &m), 0);
}

/* What mbox_append_message writes, mbox_next + mbox_unquote give back. */
static void roundtrip(const char *const *msgs, size_t n)
{
	struct buf out;
	buf_init(&out, 0);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(mbox_append_message("a@b", 86400 * (time_t)i, msgs[i],
						     strlen(msgs[i]), &out), 0);
	size_t pos = 0;
	struct mbox_msg m;
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(mbox_next(out.data, out.len, &pos, &m), 1);
		assert_body(&m, msgs[i]);
		time_t t;
		assert_int_equal(mbox_from_line_date(m.from_line, m.from_line_len, &t), 0);
		assert_int_equal(t, 86400 * (time_t)i);
	}
	assert_int_equal(mbox_next(out.data, out.len, &pos, &m), 0);
	buf_free(&out);
}

static void test_quote_roundtrip(void **state)
{
	const char *const msgs[] = {
		"Subject: a\n\nFrom the start\n>From one\n>>From two\n",
		"Subject: crlf\r\n\r\nFrom x\r\n\r\nFrom y\r\n",
		"Subject: empty body\n\n",
		"From: header that looks like a separator\n\n\n\n",
		"Subject: trailing empty lines\n\nx\n\n\n",
		"Subject: >From only\n\n>From\n>From \nFrom\n",
	};
	roundtrip(msgs, ARRAY_SIZE(msgs));

	struct buf b;
	buf_init(&b, 0);
	const char *plain = "From a\n>From b\nFromage\n>>From c";
	assert_int_equal(mbox_quote(plain, strlen(plain), &b), 0);
	assert_string_equal(b.data, ">From a\n>>From b\nFromage\n>>>From c");
	buf_reset(&b);
	const char *quoted = ">From a\n>>From b\nFromage\n>x\n";
	assert_int_equal(mbox_unquote(quoted, strlen(quoted), &b), 0);
	assert_string_equal(b.data, "From a\n>From b\nFromage\n>x\n");
	buf_free(&b);

	/* a buffer maximum is honoured */
	struct buf small;
	buf_init(&small, 4);
	assert_int_equal(mbox_quote("From x\n", 7, &small), -1);
	buf_free(&small);
}

static void test_from_line_dates(void **state)
{
	time_t t;
	const char *ok[] = {
		"From ann@x Sat Jan  3 01:05:34 1996",
		"From ann@x  Sat Jan 3 01:05:34 1996",
		"From \"a b\"@x Sat Jan  3 01:05:34 1996",
		"From ann@x Sat Jan  3 01:05:34 UTC 1996",
		"From ann@x Sat Jan  3 01:05:34 1996 remote from y",
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		assert_int_equal(mbox_from_line_date(ok[i], strlen(ok[i]), &t), 0);
		assert_int_equal(t, 820631134);
	}
	assert_int_equal(mbox_from_line_date("From ann@x Sat Jan  3 01:05 1996", 32, &t), 0);
	assert_int_equal(t, 820631100);
	const char *bad[] = {
		"From ann@x", "From ann@x Sat Foo  3 01:05:34 1996", "Subject: x",
		"From ann@x Sat Jan 33 01:05:34 1996", "From ann@x Sat Jan  3 01:05:34",
		"From ann@x Sat Jan", "From a Sat Jan  3 25:00:00 1996",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(mbox_from_line_date(bad[i], strlen(bad[i]), &t), -1);

	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(mbox_from_line(NULL, 820631134, &b), 0);
	assert_string_equal(b.data, "From MAILER-DAEMON Wed Jan  3 01:05:34 1996\n");
	buf_free(&b);
}

static void test_maildir_flags(void **state)
{
	unsigned flags;
	assert_int_equal(mbox_maildir_flags("1700000000.M1P2.host:2,FRS", &flags), 0);
	assert_int_equal(flags, MBOX_FLAG_FLAGGED | MBOX_FLAG_ANSWERED | MBOX_FLAG_SEEN);
	assert_int_equal(mbox_maildir_flags("x:2,DT", &flags), 0);
	assert_int_equal(flags, MBOX_FLAG_DRAFT | MBOX_FLAG_DELETED);
	assert_int_equal(mbox_maildir_flags("x:2,", &flags), 0);
	assert_int_equal(flags, 0);
	assert_int_equal(mbox_maildir_flags("x:2,Pabc", &flags), 0);	/* passed, keywords */
	assert_int_equal(flags, 0);
	assert_int_equal(mbox_maildir_flags("x:2,S:2,F", &flags), 0);	/* the last info wins */
	assert_int_equal(flags, MBOX_FLAG_FLAGGED);
	assert_int_equal(mbox_maildir_flags("1700000000.M1P2.host", &flags), -1);

	char s[16];
	assert_int_equal(mbox_maildir_suffix(0, s, sizeof(s)), 3);
	assert_string_equal(s, ":2,");
	assert_int_equal(mbox_maildir_suffix(0x1f, s, sizeof(s)), 8);
	assert_string_equal(s, ":2,DFRST");
	assert_int_equal(mbox_maildir_suffix(MBOX_FLAG_SEEN | MBOX_FLAG_DRAFT, s, 4), 5);
	assert_string_equal(s, ":2,");	/* truncated, still terminated */
	for (unsigned f = 0; f < 32; f++) {
		unsigned back;
		mbox_maildir_suffix(f, s, sizeof(s));
		assert_int_equal(mbox_maildir_flags(s, &back), 0);
		assert_int_equal(back, f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_split_crlf),
		cmocka_unit_test(test_quote_roundtrip),
		cmocka_unit_test(test_from_line_dates),
		cmocka_unit_test(test_maildir_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
