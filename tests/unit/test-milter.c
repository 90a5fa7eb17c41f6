/* Unit tests for proto/milter: packets as libmilter expects them and the
 * decoding of a milter's replies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "milter.h"

static void test_packets(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(milter_optneg(&b, 6, SMFIF_ADDHDRS, SMFIP_NR_HDR), 0);
	assert_int_equal(b.len, 17);
	assert_memory_equal(b.data, "\0\0\0\x0dO\0\0\0\x06\0\0\0\x01\0\0\0\x80", 17);
	buf_reset(&b);
	assert_int_equal(milter_connect(&b, "mx.example", '4', 25, "192.0.2.1"), 0);
	assert_memory_equal(b.data, "\0\0\0\x19" "Cmx.example\0" "4\0\x19" "192.0.2.1\0", 29);
	buf_reset(&b);
	assert_int_equal(milter_connect(&b, "unknown", 'U', 0, NULL), 0);
	assert_memory_equal(b.data, "\0\0\0\x0a" "Cunknown\0U", 14);
	buf_reset(&b);
	const char *hv[] = { "Subject", "hi there" };
	assert_int_equal(milter_strings(&b, SMFIC_HEADER, hv, 2), 0);
	assert_memory_equal(b.data, "\0\0\0\x12LSubject\0hi there\0", 22);
	buf_reset(&b);
	const char *m[] = { "i", "Q1", "{mail_addr}", "a@b" };
	assert_int_equal(milter_macros(&b, SMFIC_MAIL, m, 2), 0);
	assert_memory_equal(b.data, "\0\0\0\x17" "DMi\0Q1\0{mail_addr}\0a@b\0", 27);
	buf_reset(&b);
	assert_int_equal(milter_packet(&b, SMFIC_BODYEOB, NULL, 0), 0);
	assert_memory_equal(b.data, "\0\0\0\x01" "E", 5);
	buf_free(&b);
}

static void test_parse(void **state)
{
	(void)state;
	struct milter_packet p;
	size_t used;
	const char *in = "\0\0\0\x0dO\0\0\0\x06\0\0\0\x21\0\0\0\xff" "\0\0\0\x01" "c";
	for (size_t i = 0; i < 17; i++)
		assert_int_equal(milter_parse_packet(in, i, &p, &used), 0);
	assert_int_equal(milter_parse_packet(in, 22, &p, &used), 1);
	assert_int_equal(used, 17);
	uint32_t v, a, pr;
	assert_int_equal(milter_parse_optneg(&p, &v, &a, &pr), 0);
	assert_int_equal(v, 6);
	assert_int_equal(a, 0x21);
	assert_int_equal(pr, 0xff);
	assert_int_equal(milter_parse_packet(in + used, 5, &p, &used), 1);
	assert_int_equal(p.cmd, 'c');
	assert_int_equal(p.len, 0);
	assert_int_equal(milter_parse_packet("\0\0\0\0x", 5, &p, &used), -1);
	assert_int_equal(milter_parse_packet("\x7f\0\0\0x", 5, &p, &used), -1);
}

static int decode(const char *data, size_t len, struct milter_action *a)
{
	struct milter_packet p = { .cmd = data[0], .data = data + 1, .len = len - 1 };
	const char *error;
	return milter_decode(&p, a, &error);
}

static void test_decode(void **state)
{
	(void)state;
	struct milter_action a;
	assert_int_equal(decode("hX-Spam\0yes\0", 12, &a), 0);
	assert_int_equal(a.cmd, 'h');
	assert_memory_equal(a.s1, "X-Spam", a.s1_len);
	assert_memory_equal(a.s2, "yes", a.s2_len);
	assert_int_equal(decode("m\0\0\0\x02Subject\0new\0", 17, &a), 0);
	assert_int_equal(a.index, 2);
	assert_int_equal(decode("i\0\0\0\x00X-A\0b\0", 11, &a), 0);
	assert_int_equal(decode("y550 5.7.1 no thanks\0", 21, &a), 0);
	assert_int_equal(a.code, 550);
	assert_int_equal(decode("y451 4.7.1 later\0", 17, &a), 0);
	assert_int_equal(a.code, 451);
	assert_int_equal(decode("qspam\0", 6, &a), 0);
	assert_memory_equal(a.s1, "spam", 4);
	assert_int_equal(decode("bnew body", 9, &a), 0);
	assert_int_equal(a.body_len, 8);
	assert_int_equal(decode("e<a@b>\0", 7, &a), 0);
	assert_int_equal(decode("a", 1, &a), 0);
	assert_int_equal(decode("r", 1, &a), 0);
	/* malformed */
	assert_int_equal(decode("hX-Spam\0yes", 11, &a), -1);	/* no NUL */
	assert_int_equal(decode("h\0yes\0", 6, &a), -1);	/* empty name */
	assert_int_equal(decode("y250 ok\0", 8, &a), -1);	/* not 4xx/5xx */
	assert_int_equal(decode("y55\0", 4, &a), -1);
	assert_int_equal(decode("y550x\0", 6, &a), -1);
	assert_int_equal(decode("m\0\0", 3, &a), -1);
	assert_int_equal(decode("Z", 1, &a), -1);
}

static void test_decode_changes(void **state)
{
	(void)state;
	struct milter_action a;
	/* CHGHEADER: index, name, value; an empty value is a deletion */
	assert_int_equal(decode("m\0\0\x01\x02X-Old\0\0", 12, &a), 0);
	assert_int_equal(a.cmd, SMFIR_CHGHEADER);
	assert_int_equal(a.index, 258);
	assert_int_equal(a.s1_len, 5);
	assert_memory_equal(a.s1, "X-Old", 5);
	assert_int_equal(a.s2_len, 0);
	assert_int_equal(decode("m\0\0\0\0Subject\0 a\n\tb\0", 19, &a), 0);
	assert_int_equal(a.index, 0);
	assert_int_equal(a.s2_len, 5);
	assert_memory_equal(a.s2, " a\n\tb", 5);
	assert_int_equal(decode("m\0\0\0\x01Subject\0new", 16, &a), -1);	/* value unterminated */
	assert_int_equal(decode("m\0\0\0\x01Subject\0", 13, &a), -1);	/* no value */
	assert_int_equal(decode("m\0\0\0\x01\0v\0", 8, &a), -1);		/* empty name */
	/* a name that would forge other fields or break the header */
	assert_int_equal(decode("m\0\0\0\x01X\r\nBcc\0v\0", 14, &a), -1);
	assert_int_equal(decode("m\0\0\0\x01X-A:\0v\0", 12, &a), -1);
	assert_int_equal(decode("hX A\0v\0", 7, &a), -1);
	assert_int_equal(decode("i\0\0\0\x01X\x80\0v\0", 10, &a), -1);
	/* REPLBODY: the chunk as is, NUL bytes included; an empty chunk too */
	assert_int_equal(decode("ba\0b\r\n", 6, &a), 0);
	assert_int_equal(a.cmd, SMFIR_REPLBODY);
	assert_int_equal(a.body_len, 5);
	assert_memory_equal(a.body, "a\0b\r\n", 5);
	assert_int_equal(decode("b", 1, &a), 0);
	assert_int_equal(a.body_len, 0);
}

static void changes(const char *hdr, const struct milter_header_change *c, size_t n,
		    const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(milter_apply_header_changes(hdr, strlen(hdr), c, n, &out), 0);
	assert_string_equal(out.data != NULL ? out.data : "", want);
	buf_free(&out);
}

static void test_header_changes(void **state)
{
	(void)state;
	const char *hdr = "Received: by mx\r\nSubject: one\r\nX-Del: 1\r\n"
			  "x-del: 2\r\n  cont\r\nTo: b\r\n\r\n";
	/* no change: the block as is */
	changes(hdr, NULL, 0, hdr);
	/* change the first Subject, delete the second X-Del (with its
	 * continuation line), case-insensitively */
	const struct milter_header_change c1[] = {
		{ "Subject", 1, "two" }, { "X-DEL", 2, "" },
	};
	changes(hdr, c1, 2, "Received: by mx\r\nSubject: two\r\nX-Del: 1\r\nTo: b\r\n\r\n");
	/* index 0 counts as 1; the later request for a field wins */
	const struct milter_header_change c2[] = {
		{ "X-Del", 0, "zero" }, { "x-del", 1, "one" },
	};
	changes(hdr, c2, 2, "Received: by mx\r\nSubject: one\r\nx-del: one\r\n"
			   "x-del: 2\r\n  cont\r\nTo: b\r\n\r\n");
	/* past the last field: added at the end (once per name and index),
	 * a deletion there does nothing; the milter's line breaks become
	 * CRLF continuation lines */
	const struct milter_header_change c3[] = {
		{ "Subject", 2, "" }, { "X-New", 1, "first" }, { "X-New", 1, "a\nb\n\tc\n" },
		{ "X-Del", 3, "three" },
	};
	changes(hdr, c3, 4, "Received: by mx\r\nSubject: one\r\nX-Del: 1\r\n"
			   "x-del: 2\r\n  cont\r\nTo: b\r\n"
			   "X-New: a\r\n\tb\r\n\tc\r\nX-Del: three\r\n\r\n");
	/* a prefix of a name is not that name; "Name :" is */
	const struct milter_header_change c4[] = { { "X-De", 1, "no" }, { "To", 1, "" } };
	changes("X-Del: 1\r\nTo : b\r\n\r\n", c4, 2, "X-Del: 1\r\nX-De: no\r\n\r\n");
	/* a header block without its empty line */
	const struct milter_header_change c5[] = { { "A", 1, "z" } };
	changes("A: x\r\nB: y", c5, 1, "A: z\r\nB: y");
	/* out of room: -1 */
	struct buf small;
	buf_init(&small, 8);
	assert_int_equal(milter_apply_header_changes(hdr, strlen(hdr), c1, 2, &small), -1);
	buf_free(&small);
}

static void test_body_crlf(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(milter_body_crlf("a\nb\r\nc\rd\n\n", 10, &out), 0);
	assert_int_equal(out.len, 12);
	assert_memory_equal(out.data, "a\r\nb\r\ncd\r\n\r\n", 12);
	buf_reset(&out);
	assert_int_equal(milter_body_crlf("no line end", 11, &out), 0);
	assert_string_equal(out.data, "no line end");
	buf_reset(&out);
	assert_int_equal(milter_body_crlf("", 0, &out), 0);
	assert_int_equal(out.len, 0);
	buf_free(&out);
	buf_init(&out, 4);
	assert_int_equal(milter_body_crlf("a\n\n\n", 4, &out), -1);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_decode),
		cmocka_unit_test(test_decode_changes),
		cmocka_unit_test(test_header_changes),
		cmocka_unit_test(test_body_crlf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
