/* Unit tests for proto/util.c: the allocation wrappers, struct buf (the hard
 * maximum, growth, NUL termination, consume and reserve) and the locale-free
 * string helpers. Run under ASan too: several cases are about memory bounds. */
#include "autoconf.h"
#include "util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

/* The invariants every buffer keeps after every call. */
static void assert_buf_ok(const struct buf *b)
{
	if (b->data == NULL) {
		assert_int_equal(b->len, 0);
		assert_int_equal(b->cap, 0);
		return;
	}
	assert_true(b->len < b->cap);
	assert_int_equal(b->data[b->len], '\0');
	if (b->max != 0)
		assert_true(b->len <= b->max);
	if (b->max != 0 && b->max < SIZE_MAX)
		assert_true(b->cap <= b->max + 1);
}

static void test_alloc(void **state)
{
	char *p = xmalloc(0);
	assert_non_null(p);
	free(p);

	unsigned char *z = xcalloc(16, 4);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(z[i], 0);
	z = xrealloc(z, 128);
	assert_int_equal(z[63], 0);
	free(z);

	p = xstrdup("hello");
	assert_string_equal(p, "hello");
	free(p);

	p = xstrndup("hello", 3);
	assert_string_equal(p, "hel");
	free(p);
	/* Like strndup: stops at the NUL even when n is larger. */
	static const char shortstr[] = "ab";
	p = xstrndup(shortstr, 100);
	assert_string_equal(p, "ab");
	free(p);

	p = xasprintf("%s-%d-%05.1f", "x", 42, 3.14159);
	assert_string_equal(p, "x-42-003.1");
	free(p);
	p = xasprintf("%s", "");
	assert_string_equal(p, "");
	free(p);
}

static void test_buf_reserve_terminates(void **state)
{
	/* A reserved but empty buffer is already "" (base64 of nothing...). */
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(buf_reserve(&b, 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void test_buf_init_free(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(buf_room(&b), SIZE_MAX);
	buf_reset(&b);		/* no memory yet: must not touch data */
	buf_consume(&b, 0);
	assert_buf_ok(&b);
	buf_free(&b);
	assert_null(b.data);

	buf_init(&b, 10);
	assert_int_equal(buf_room(&b), 10);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_int_equal(buf_room(&b), 7);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.max, 10);	/* still usable with the same limit */
	assert_int_equal(buf_append_str(&b, "0123456789"), 0);
	assert_int_equal(buf_append_str(&b, "x"), -1);
	buf_free(&b);
}

static void test_buf_append_max(void **state)
{
	struct buf b;

	buf_init(&b, 8);
	assert_int_equal(buf_append(&b, "abcde", 5), 0);
	assert_buf_ok(&b);
	assert_string_equal(b.data, "abcde");
	/* Past the maximum: refused whole, nothing appended. */
	assert_int_equal(buf_append(&b, "fghi", 4), -1);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "abcde");
	/* Exactly up to the maximum is fine. */
	assert_int_equal(buf_append(&b, "fgh", 3), 0);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.data, "abcdefgh");
	assert_int_equal(buf_room(&b), 0);
	assert_int_equal(buf_append(&b, "i", 1), -1);
	assert_int_equal(buf_append(&b, "", 0), 0);
	assert_buf_ok(&b);
	assert_int_equal(b.cap, 9);	/* never more than max + NUL */
	buf_free(&b);

	/* Binary data with NUL bytes is counted, not cut. */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, "a\0b", 3), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.data, "a\0b\0", 4);
	buf_free(&b);

	/* An empty append still gives a valid empty C string. */
	buf_init(&b, 0);
	assert_int_equal(buf_append(&b, NULL, 0), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, "");
	buf_free(&b);
}

static void test_buf_growth(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	for (int i = 0; i < 10000; i++) {
		char c = (char)('a' + i % 26);
		assert_int_equal(buf_append(&b, &c, 1), 0);
	}
	assert_buf_ok(&b);
	assert_int_equal(b.len, 10000);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + i % 26);
	buf_free(&b);

	/* A max that is not a power of two caps the capacity exactly. */
	buf_init(&b, 1000);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(buf_append(&b, "z", 1), 0);
	assert_int_equal(buf_append(&b, "z", 1), -1);
	assert_buf_ok(&b);
	assert_int_equal(b.cap, 1001);
	buf_free(&b);
}

static void test_buf_printf(void **state)
{
	struct buf b;

	buf_init(&b, 12);
	assert_int_equal(buf_printf(&b, "%d-%s", 12, "ab"), 0);
	assert_string_equal(b.data, "12-ab");
	assert_int_equal(b.len, 5);
	assert_int_equal(buf_printf(&b, "%s", "123456"), 0);
	assert_string_equal(b.data, "12-ab123456");
	/* 11 + 2 > 12: refused and the content stays as it was. */
	assert_int_equal(buf_printf(&b, "%s", "xy"), -1);
	assert_string_equal(b.data, "12-ab123456");
	assert_int_equal(b.len, 11);
	assert_int_equal(buf_printf(&b, "%c", 'z'), 0);
	assert_string_equal(b.data, "12-ab123456z");
	assert_int_equal(buf_printf(&b, "%s", ""), 0);
	assert_buf_ok(&b);
	buf_free(&b);

	/* Output longer than the first allocation. */
	buf_init(&b, 0);
	assert_int_equal(buf_printf(&b, "%0600d|", 7), 0);
	assert_int_equal(b.len, 601);
	assert_int_equal(b.data[599], '7');
	assert_int_equal(b.data[600], '|');
	assert_buf_ok(&b);
	buf_free(&b);
}

static void test_buf_consume_reset(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "hello world");
	buf_consume(&b, 6);
	assert_int_equal(b.len, 5);
	assert_string_equal(b.data, "world");
	buf_consume(&b, 0);
	assert_string_equal(b.data, "world");
	buf_consume(&b, 5);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_append_str(&b, "abc");
	buf_consume(&b, 99);	/* more than len: just empties it */
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	buf_append_str(&b, "xyz");
	size_t cap = b.cap;
	buf_reset(&b);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.data, "");
	assert_int_equal(b.cap, cap);	/* memory kept */
	assert_buf_ok(&b);
	buf_free(&b);

	/* Consuming frees room under the maximum again. */
	buf_init(&b, 4);
	assert_int_equal(buf_append_str(&b, "abcd"), 0);
	assert_int_equal(buf_append_str(&b, "e"), -1);
	buf_consume(&b, 2);
	assert_int_equal(buf_append_str(&b, "ef"), 0);
	assert_string_equal(b.data, "cdef");
	buf_free(&b);
}

static void test_buf_reserve(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_reserve(&b, 100), 0);
	assert_int_equal(b.len, 0);
	assert_true(b.cap >= 101);
	/* The reserved room is writable, then committed by hand. */
	memset(b.data, 'q', 100);
	b.len = 100;
	b.data[b.len] = '\0';
	assert_buf_ok(&b);
	/* A request that would wrap size_t around is refused. */
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX - 100), -1);
	assert_int_equal(buf_append(&b, "x", SIZE_MAX - 50), -1);
	assert_int_equal(b.len, 100);
	buf_free(&b);

	buf_init(&b, 50);
	assert_int_equal(buf_reserve(&b, 50), 0);
	assert_int_equal(buf_reserve(&b, 51), -1);
	assert_true(b.cap <= 51);
	buf_append_str(&b, "0123456789");
	assert_int_equal(buf_reserve(&b, 40), 0);
	assert_int_equal(buf_reserve(&b, 41), -1);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -1);
	buf_free(&b);

	/* max = SIZE_MAX is as good as unlimited, and must not wrap max + 1. */
	buf_init(&b, SIZE_MAX);
	assert_int_equal(buf_append_str(&b, "abc"), 0);
	assert_string_equal(b.data, "abc");
	assert_true(b.cap >= 4);
	assert_buf_ok(&b);
	buf_free(&b);
}

static void test_str_to_u64(void **state)
{
	uint64_t v;

	assert_int_equal(str_to_u64("0", 1, UINT64_MAX, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_to_u64("18446744073709551615", 20, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("000018446744073709551615", 24, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);

	v = 77;
	assert_int_equal(str_to_u64("18446744073709551616", 20, UINT64_MAX, &v), -1);
	assert_int_equal(str_to_u64("99999999999999999999", 20, UINT64_MAX, &v), -1);
	assert_int_equal(str_to_u64("184467440737095516150", 21, UINT64_MAX, &v), -1);
	assert_int_equal(v, 77);	/* untouched on error */

	assert_int_equal(str_to_u64("255", 3, 255, &v), 0);
	assert_int_equal(v, 255);
	assert_int_equal(str_to_u64("256", 3, 255, &v), -1);
	assert_int_equal(str_to_u64("260", 3, 255, &v), -1);
	assert_int_equal(str_to_u64("1000", 4, 255, &v), -1);
	assert_int_equal(str_to_u64("0", 1, 0, &v), 0);
	assert_int_equal(str_to_u64("1", 1, 0, &v), -1);
	assert_int_equal(str_to_u64("9", 1, 5, &v), -1);

	static const char *const junk[] = { "-1", "+1", " 1", "1 ", "12a", "0x1", "1.5", "1e3", "\xd9\xa1" };
	for (size_t i = 0; i < ARRAY_SIZE(junk); i++)
		assert_int_equal(str_to_u64(junk[i], strlen(junk[i]), UINT64_MAX, &v), -1);
	assert_int_equal(str_to_u64("", 0, UINT64_MAX, &v), -1);
	assert_int_equal(str_to_u64(NULL, 0, UINT64_MAX, &v), -1);

	/* Only len bytes are looked at: parsing inside a larger line. */
	assert_int_equal(str_to_u64("123abc", 3, UINT64_MAX, &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(str_to_u64("123abc", 4, UINT64_MAX, &v), -1);
}

static void test_str_trim(void **state)
{
	char a[] = "  a b \t\r\n";
	assert_string_equal(str_trim(a), "a b");
	char b[] = "";
	assert_string_equal(str_trim(b), "");
	char c[] = " \t \r\n ";
	assert_string_equal(str_trim(c), "");
	char d[] = "x";
	assert_ptr_equal(str_trim(d), d);
	assert_string_equal(d, "x");
	char e[] = "\v\fvalue\f\v";
	assert_string_equal(str_trim(e), "value");
	char f[] = "\xa0x\xa0";	/* not ASCII whitespace: kept */
	assert_string_equal(str_trim(f), "\xa0x\xa0");
	char g[] = "  in  side  ";
	char *t = str_trim(g);
	assert_ptr_equal(t, g + 2);
	assert_string_equal(t, "in  side");
}

static void test_str_case(void **state)
{
	assert_int_equal(str_casecmp("Hello", "hELLO"), 0);
	assert_int_equal(str_casecmp("", ""), 0);
	assert_true(str_casecmp("abc", "ABD") < 0);
	assert_true(str_casecmp("ABD", "abc") > 0);
	assert_true(str_casecmp("abc", "abcd") < 0);
	assert_true(str_casecmp("abcd", "ABC") > 0);
	/* Only ASCII folds: Latin-1 and UTF-8 bytes compare as they are. */
	assert_true(str_casecmp("\xc4", "\xe4") != 0);
	assert_true(str_casecmp("\xc3\x84", "\xc3\xa4") != 0);
	/* '[' sits between 'Z' and 'a': no folding of punctuation. */
	assert_true(str_casecmp("[", "{") != 0);
	assert_true(str_casecmp("@", "`") != 0);
	/* Ordering is by lowercased value, so mixed case sorts consistently. */
	assert_true(str_casecmp("a", "B") < 0);
	assert_true(str_casecmp("B", "a") > 0);

	assert_int_equal(str_ncasecmp("INBOX.sub", "inbox.other", 6), 0);
	assert_true(str_ncasecmp("INBOX.sub", "inbox.other", 7) > 0);
	assert_int_equal(str_ncasecmp("abc", "ABC", 10), 0);	/* stops at the NUL */
	assert_true(str_ncasecmp("ab", "abc", 10) < 0);
	assert_int_equal(str_ncasecmp("x", "y", 0), 0);

	assert_true(str_case_eq_n("HELLOworld", 5, "hello"));
	assert_false(str_case_eq_n("HELLOworld", 6, "hello"));
	assert_false(str_case_eq_n("HELL", 4, "hello"));
	assert_true(str_case_eq_n("", 0, ""));
	assert_false(str_case_eq_n("x", 1, ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc),
		cmocka_unit_test(test_buf_init_free),
		cmocka_unit_test(test_buf_reserve_terminates),
		cmocka_unit_test(test_buf_append_max),
		cmocka_unit_test(test_buf_growth),
		cmocka_unit_test(test_buf_printf),
		cmocka_unit_test(test_buf_consume_reset),
		cmocka_unit_test(test_buf_reserve),
		cmocka_unit_test(test_str_to_u64),
		cmocka_unit_test(test_str_trim),
		cmocka_unit_test(test_str_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
