/* Unit tests for server/core/reader.c: lines, limits, literals, and the same
 * input fed whole and one byte at a time giving the same items. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "reader.h"

/* Feed input as a connection would (appending `step` bytes at a time to a
 * buffer and consuming what the reader says), and record what it reports as
 * text: "L:<line>" "l:<line>" (bare LF), "T" (too long), "C:<chunk>", "E:<chunk>". */
struct literal_at {
	const char *after_line;	/* begin a literal after this line */
	uint64_t size;
};

static void run(const char *input, size_t input_len, size_t max_line, size_t step,
		const struct literal_at *lit, struct buf *out)
{
	struct reader r;
	struct buf in;
	reader_init(&r, max_line);
	buf_init(&in, 0);
	size_t fed = 0;
	while (fed < input_len || in.len > 0) {
		if (fed < input_len) {
			size_t n = input_len - fed < step ? input_len - fed : step;
			buf_append(&in, input + fed, n);
			fed += n;
		}
		for (;;) {
			struct reader_item item;
			size_t consumed;
			int ret = reader_next(&r, in.data, in.len, &item, &consumed);
			switch (ret) {
			case READER_LINE:
				buf_printf(out, "%s:%.*s|", item.bare_lf ? "l" : "L", (int)item.len,
					   item.data);
				if (lit != NULL && strlen(lit->after_line) == item.len &&
				    memcmp(lit->after_line, item.data, item.len) == 0)
					reader_begin_literal(&r, lit->size);
				break;
			case READER_TOO_LONG:
				buf_append_str(out, "T|");
				break;
			case READER_LITERAL:
				buf_printf(out, "C:%.*s|", (int)item.len, item.data);
				break;
			case READER_LITERAL_END:
				buf_printf(out, "E:%.*s|", (int)item.len, item.data);
				break;
			default:
				break;
			}
			buf_consume(&in, consumed);
			if (ret == READER_MORE && consumed == 0)
				break;
		}
		if (fed >= input_len)
			break;
	}
	buf_free(&in);
}

/* Chunks differ by feed size; compare with chunks merged. */
static void merge_chunks(struct buf *b)
{
	struct buf m;
	buf_init(&m, 0);
	const char *p = b->data ? b->data : "";
	bool in_lit = false;
	while (*p != '\0') {
		const char *bar = strchr(p, '|');
		if (bar == NULL)
			break;
		if (p[0] == 'C' || p[0] == 'E') {
			if (!in_lit)
				buf_append_str(&m, "LIT:");
			buf_append(&m, p + 2, (size_t)(bar - p - 2));
			in_lit = p[0] == 'C';
			if (!in_lit)
				buf_append_str(&m, "|");
		} else {
			buf_append(&m, p, (size_t)(bar - p) + 1);
		}
		p = bar + 1;
	}
	buf_free(b);
	*b = m;
}

static void check(const char *input, size_t max_line, const struct literal_at *lit,
		  const char *expect_merged)
{
	struct buf whole, trickle;
	buf_init(&whole, 0);
	buf_init(&trickle, 0);
	run(input, strlen(input), max_line, strlen(input) + 1, lit, &whole);
	run(input, strlen(input), max_line, 1, lit, &trickle);
	merge_chunks(&whole);
	merge_chunks(&trickle);
	assert_string_equal(whole.data ? whole.data : "", expect_merged);
	assert_string_equal(trickle.data ? trickle.data : "", expect_merged);
	buf_free(&whole);
	buf_free(&trickle);
}

static void test_lines(void **state)
{
	check("a1 NOOP\r\nb2 LOGOUT\r\n", 100, NULL, "L:a1 NOOP|L:b2 LOGOUT|");
}

static void test_bare_lf_flagged(void **state)
{
	check("one\ntwo\r\n", 100, NULL, "l:one|L:two|");
}

static void test_empty_line_and_partial(void **state)
{
	check("\r\nabc", 100, NULL, "L:|");
}

static void test_exact_max_line(void **state)
{
	check("12345\r\n123456\r\nok\r\n", 5, NULL, "L:12345|T|L:ok|");
}

static void test_too_long_skips_rest_of_line(void **state)
{
	/* The rest of the long line is never delivered as a line of its own. */
	check("xxxxxxxxxxxxxxxxxxxxxxxx\r\nnext\r\n", 4, NULL, "T|L:next|");
}

static void test_too_long_lf_only(void **state)
{
	check("abcdef\nok\n", 5, NULL, "T|l:ok|");
}

static void test_cr_not_line_end(void **state)
{
	check("a\rb\r\n", 100, NULL, "L:a\rb|");
}

static void test_literal(void **state)
{
	struct literal_at lit = { "A APPEND x {5}", 5 };
	check("A APPEND x {5}\r\nhello\r\nB NOOP\r\n", 100, &lit,
	      "L:A APPEND x {5}|LIT:hello|L:|L:B NOOP|");
}

static void test_literal_with_crlf_inside(void **state)
{
	struct literal_at lit = { "x {6}", 6 };
	check("x {6}\r\na\r\nb\r\n)\r\n", 5, &lit, "L:x {6}|LIT:a\r\nb\r\n|L:)|");
}

static void test_literal_longer_than_max_line(void **state)
{
	/* Literals are not lines: max_line does not apply to them. */
	struct literal_at lit = { "{20}", 20 };
	check("{20}\r\n01234567890123456789\r\n", 4, &lit, "L:{20}|LIT:01234567890123456789|L:|");
}

static void test_zero_literal(void **state)
{
	struct reader r;
	struct reader_item item;
	size_t consumed;
	reader_init(&r, 10);
	reader_begin_literal(&r, 0);
	assert_int_equal(reader_next(&r, "", 0, &item, &consumed), READER_LITERAL_END);
	assert_int_equal(consumed, 0);
	assert_int_equal(item.len, 0);
	assert_int_equal(reader_next(&r, "a\r\n", 3, &item, &consumed), READER_LINE);
}

static void test_never_consumes_past_limit_without_lf(void **state)
{
	/* A client sending 1 MB without a newline is refused after max_line + 2
	 * bytes: nothing more needs to be buffered. */
	struct reader r;
	struct reader_item item;
	size_t consumed;
	char big[1000];
	memset(big, 'x', sizeof(big));
	reader_init(&r, 100);
	assert_int_equal(reader_next(&r, big, 50, &item, &consumed), READER_MORE);
	assert_int_equal(consumed, 0);
	assert_int_equal(reader_next(&r, big, 102, &item, &consumed), READER_TOO_LONG);
	assert_int_equal(consumed, 102);
	assert_int_equal(reader_next(&r, big, sizeof(big), &item, &consumed), READER_MORE);
	assert_int_equal(consumed, sizeof(big));
}

static void test_reset(void **state)
{
	struct reader r;
	struct reader_item item;
	size_t consumed;
	reader_init(&r, 3);
	assert_int_equal(reader_next(&r, "abcdef", 6, &item, &consumed), READER_TOO_LONG);
	reader_reset(&r);
	assert_int_equal(r.max_line, 3);
	assert_int_equal(reader_next(&r, "ab\r\n", 4, &item, &consumed), READER_LINE);
	assert_int_equal(item.len, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_bare_lf_flagged),
		cmocka_unit_test(test_empty_line_and_partial),
		cmocka_unit_test(test_exact_max_line),
		cmocka_unit_test(test_too_long_skips_rest_of_line),
		cmocka_unit_test(test_too_long_lf_only),
		cmocka_unit_test(test_cr_not_line_end),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_literal_with_crlf_inside),
		cmocka_unit_test(test_literal_longer_than_max_line),
		cmocka_unit_test(test_zero_literal),
		cmocka_unit_test(test_never_consumes_past_limit_without_lf),
		cmocka_unit_test(test_reset),
	};
	return cmocka_run_group_tests_name("reader", tests, NULL, NULL);
}
