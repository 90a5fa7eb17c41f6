/* Unit tests for server/scan/bayes.c: the tokenizer and the Robinson/Fisher
 * statistics (values checked against the formulas of SpamAssassin's
 * Bayes.pm and bogofilter). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "bayes.h"
#include "mime.h"

static bool has_line(const struct buf *b, const char *tok)
{
	size_t n = strlen(tok);
	const char *p = b->data;
	while (p != NULL && *p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && memcmp(p, tok, n) == 0)
			return true;
		p = e ? e + 1 : NULL;
	}
	return false;
}

static void test_tokenizer(void **state)
{
	(void)state;
	const char *raw = "From: Ann <ann@example.test>\r\nSubject: Cheap Watches\r\n"
			  "Content-Type: text/html\r\n\r\n"
			  "<p>Buy CHEAP watches now at <a href=\"http://www.shop.example/x\">"
			  "http://www.shop.example/x</a> it's a supercalifragilisticexpialidocious deal, ok "
			  "cheap cheap</p>\r\n";
	struct mime_message *msg = mime_parse(raw, strlen(raw), NULL);
	struct buf out;
	buf_init(&out, 0);
	bayes_tokenize_text(msg, &out);
	assert_true(has_line(&out, "H*s:cheap"));
	assert_true(has_line(&out, "H*s:watches"));
	assert_true(has_line(&out, "H*F:ann"));
	assert_true(has_line(&out, "cheap"));		/* lower-cased, once */
	assert_true(has_line(&out, "buy"));
	assert_true(has_line(&out, "it's"));
	assert_true(has_line(&out, "sk:superca:3"));	/* 34 bytes long */
	assert_true(has_line(&out, "U:www.shop.example"));
	assert_true(has_line(&out, "U:shop.example"));
	assert_false(has_line(&out, "ok"));		/* too short */
	assert_false(has_line(&out, "<p>"));		/* HTML is rendered */
	/* unique: "cheap" appears 4 times in the body, one token */
	size_t count = 0;
	for (const char *p = out.data; (p = strstr(p, "\ncheap\n")) != NULL; p++)
		count++;
	assert_int_equal(count, 1);
	int64_t *tokens;
	size_t n = bayes_tokenize(msg, &tokens);
	size_t lines = 0;
	for (size_t i = 0; i < out.len; i++)
		lines += out.data[i] == '\n';
	assert_int_equal(n, lines);
	assert_true(tokens[0] == bayes_token_hash("H*s:cheap", 9));
	free(tokens);
	buf_free(&out);
	mime_free(&msg);
}

static void test_token_prob(void **state)
{
	(void)state;
	/* never seen in ham: towards 1, never in spam: towards 0 */
	double p = bayes_token_prob(10, 0, 100, 100);
	assert_true(fabs(p - (0.16 * 0.538 + 10.0) / 10.16) < 1e-9);
	p = bayes_token_prob(0, 10, 100, 100);
	assert_true(fabs(p - (0.16 * 0.538) / 10.16) < 1e-9);
	/* the ratio counts, not the raw counts: 10/100 spam vs 10/1000 ham */
	p = bayes_token_prob(10, 10, 100, 1000);
	double pw = 0.1 / (0.1 + 0.01);
	assert_true(fabs(p - (0.16 * 0.538 + 20 * pw) / 20.16) < 1e-9);
	/* a hapax is pulled towards x more than a frequent token */
	assert_true(bayes_token_prob(1, 0, 100, 100) < bayes_token_prob(50, 0, 100, 100));
	assert_true(bayes_token_prob(0, 0, 100, 100) == 0.538);
}

static void test_chi2(void **state)
{
	(void)state;
	/* chi2Q(0, v) = 1; for v = 2 it is exp(-x/2) */
	assert_true(fabs(bayes_chi2q(0, 10) - 1.0) < 1e-12);
	assert_true(fabs(bayes_chi2q(3.0, 2) - exp(-1.5)) < 1e-12);
	/* v = 4: exp(-m)(1 + m) */
	assert_true(fabs(bayes_chi2q(5.0, 4) - exp(-2.5) * 3.5) < 1e-12);
}

static void test_combine(void **state)
{
	(void)state;
	double spammy[] = { 0.99, 0.98, 0.95, 0.97, 0.5, 0.51 };
	assert_true(bayes_combine(spammy, 6) > 0.99);
	double hammy[] = { 0.01, 0.02, 0.05, 0.03 };
	assert_true(bayes_combine(hammy, 4) < 0.01);
	double neutral[] = { 0.5, 0.6, 0.4 };	/* none significant */
	assert_true(bayes_combine(neutral, 3) == 0.5);
	double mixed[] = { 0.99, 0.01 };
	assert_true(fabs(bayes_combine(mixed, 2) - 0.5) < 1e-6);
	double score;
	assert_string_equal(bayes_test_name(0.0001, &score), "BAYES_00");
	assert_true(score < 0);
	assert_string_equal(bayes_test_name(0.5, &score), "BAYES_50");
	assert_string_equal(bayes_test_name(0.995, &score), "BAYES_99");
	assert_string_equal(bayes_test_name(0.9999, &score), "BAYES_999");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenizer),
		cmocka_unit_test(test_token_prob),
		cmocka_unit_test(test_chi2),
		cmocka_unit_test(test_combine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
