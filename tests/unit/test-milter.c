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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_packets),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_decode),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
