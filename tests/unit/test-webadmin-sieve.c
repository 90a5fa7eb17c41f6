/* Unit tests for webadmin/wa-sieve.c: the Mail rules page's script. Settings
 * round-trip through their "#@" lines, generate the Sieve expected (golden
 * text), and compile with proto/sieve; hand-edited or hostile "#@" lines
 * are checked like form input (bad values fall back, bad rules are
 * dropped), so what they generate still compiles; a byte-at-a-time pass
 * over truncations never crashes. */
#include "autoconf.h"
#include "wa-sieve.h"
#include "sieve.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void compiles(const struct buf *b)
{
	char *error = NULL;
	if (sieve_check(b->data, b->len, NULL, &error) < 0)
		fail_msg("does not compile: %s\n%s", error, b->data);
}

static void add_rule(struct wa_sieve *s, const char *f, const char *op, const char *v,
		     const char *a, const char *arg, bool stop)
{
	assert_null(wa_sieve_check_rule(f, op, v, a, arg));
	struct wa_rule *r = &s->rules[s->nrules++];
	r->field = xstrdup(f);
	r->op = xstrdup(op);
	r->value = xstrdup(v);
	r->action = xstrdup(a);
	r->arg = xstrdup(arg);
	r->stop = stop;
}

static void full(struct wa_sieve *s)
{
	wa_sieve_init(s);
	s->vac = true;
	wa_sieve_set(&s->vac_start, "2026-12-20");
	wa_sieve_set(&s->vac_end, "2027-01-06");
	wa_sieve_set(&s->vac_days, "3");
	wa_sieve_set(&s->vac_subject, "Away \"now\" \\ back");
	wa_sieve_set(&s->vac_message, "Line 1\r\nLine 2 é");
	wa_sieve_set(&s->vac_addresses, "a@x.test, b@x.test");
	wa_sieve_set(&s->fwd, "me@else.test");
	s->fwd_keep = true;
	wa_sieve_set(&s->include, "mine");
	add_rule(s, "subject", "contains", "[list]", "fileinto", "Lists/Dev", true);
	add_rule(s, "from", "is", "boss@x.test", "markread", "", false);
	add_rule(s, "size", "over", "5M", "discard", "", false);
	add_rule(s, "list-id", "contains", "\"q\" & \\", "keep", "", false);
}

static void test_generate_golden(void **state)
{
	(void)state;
	struct wa_sieve s;
	full(&s);
	struct buf b;
	buf_init(&b, 0);
	wa_sieve_generate(&s, &b);
	const char *sieve = strstr(b.data, "require [");
	assert_non_null(sieve);
	assert_string_equal(sieve,
		"require [\"vacation\", \"date\", \"relational\", \"copy\", \"fileinto\", \"mailbox\","
		" \"imap4flags\", \"include\"];\n"
		"if allof(currentdate :value \"ge\" \"date\" \"2026-12-20\", currentdate :value \"le\""
		" \"date\" \"2027-01-06\") {\n"
		"  vacation :days 3 :subject \"Away \\\"now\\\" \\\\ back\" :addresses [\"a@x.test\","
		" \"b@x.test\"] \"Line 1\nLine 2 é\";\n"
		"}\n"
		"redirect :copy \"me@else.test\";\n"
		"if header :contains \"subject\" \"[list]\" {\n  fileinto :create \"Lists/Dev\";\n"
		"  stop;\n}\n"
		"if address :is \"from\" \"boss@x.test\" {\n  addflag \"\\\\Seen\";\n}\n"
		"if size :over 5M {\n  discard;\n}\n"
		"if header :contains \"list-id\" \"\\\"q\\\" & \\\\\" {\n  keep;\n}\n"
		"include :personal :optional \"mine\";\n");
	compiles(&b);
	buf_free(&b);
	wa_sieve_free(&s);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct wa_sieve s, t;
	full(&s);
	struct buf b, c;
	buf_init(&b, 0);
	buf_init(&c, 0);
	wa_sieve_generate(&s, &b);
	wa_sieve_init(&t);
	wa_sieve_parse(&t, b.data, b.len);
	assert_true(t.vac && t.fwd_keep);
	assert_string_equal(t.vac_message, "Line 1\r\nLine 2 é");
	assert_string_equal(t.vac_subject, "Away \"now\" \\ back");
	assert_int_equal(t.nrules, 4);
	assert_true(t.rules[0].stop && !t.rules[1].stop);
	assert_string_equal(t.rules[3].value, "\"q\" & \\");
	wa_sieve_generate(&t, &c);
	assert_string_equal(b.data, c.data);
	buf_free(&b);
	buf_free(&c);
	wa_sieve_free(&s);
	wa_sieve_free(&t);
}

static void test_nothing_on(void **state)
{
	(void)state;
	struct wa_sieve s;
	wa_sieve_init(&s);
	struct buf b;
	buf_init(&b, 0);
	wa_sieve_generate(&s, &b);
	compiles(&b);
	assert_null(strstr(b.data, "vacation :"));
	assert_null(strstr(b.data, "redirect"));
	buf_free(&b);
	wa_sieve_free(&s);
}

/* Hand-edited "#@" lines: checked like form input. */
static void test_hostile_lines(void **state)
{
	(void)state;
	const char *src =
		"#@vacation on\n"
		"#@vac-days 1%3B%20discard\n"
		"#@vac-start 2026-99-01\n"
		"#@vac-message Hi\n"
		"#@vac-addresses a%22b@x\n"
		"#@forward x%22%3B%20discard%3B%20%22@y\n"
		"#@include webadmin\n"
		"#@rule size over 1%3B%20discard keep - go\n"
		"#@rule body contains x keep - go\n"
		"#@rule subject contains ok fileinto Inbox%0Ax stop\n"
		"#@rule subject contains fine discard - go\n"
		"#@rule\n#@\n#@@ @\n";
	struct wa_sieve s;
	wa_sieve_init(&s);
	wa_sieve_parse(&s, src, strlen(src));
	assert_true(s.vac);
	assert_string_equal(s.vac_days, "7");
	assert_string_equal(s.vac_start, "");
	assert_string_equal(s.vac_addresses, "");
	assert_string_equal(s.fwd, "");
	assert_string_equal(s.include, "");
	assert_int_equal(s.nrules, 1);
	assert_string_equal(s.rules[0].value, "fine");
	struct buf b;
	buf_init(&b, 0);
	wa_sieve_generate(&s, &b);
	compiles(&b);
	assert_null(strstr(b.data, "; discard"));
	buf_free(&b);
	wa_sieve_free(&s);
}

static void test_checks(void **state)
{
	(void)state;
	assert_null(wa_sieve_check_date(""));
	assert_null(wa_sieve_check_date("2026-02-28"));
	assert_non_null(wa_sieve_check_date("2026-2-28"));
	assert_non_null(wa_sieve_check_date("2026-00-10"));
	assert_null(wa_sieve_check_days("365"));
	assert_non_null(wa_sieve_check_days("366"));
	assert_non_null(wa_sieve_check_days("0"));
	assert_non_null(wa_sieve_check_days("07"));
	assert_null(wa_sieve_check_address("ann@example.org"));
	assert_non_null(wa_sieve_check_address("ann@@example.org"));
	assert_non_null(wa_sieve_check_address("a\"b@example.org"));
	assert_non_null(wa_sieve_check_address("ann@"));
	assert_null(wa_sieve_check_addresses("a@x.test b@y.test,c@z.test"));
	assert_non_null(wa_sieve_check_addresses("a@x.test, nope"));
	assert_non_null(wa_sieve_check_rule("size", "over", "5 M", "discard", ""));
	assert_non_null(wa_sieve_check_rule("size", "contains", "5M", "discard", ""));
	assert_non_null(wa_sieve_check_rule("subject", "contains", "", "keep", ""));
	assert_non_null(wa_sieve_check_rule("subject", "contains", "x", "fileinto", ""));
	assert_non_null(wa_sieve_check_rule("subject", "contains", "x", "keep", "Folder"));
	assert_non_null(wa_sieve_check_rule("subject", "regex", "x", "keep", ""));
	assert_null(wa_sieve_check_rule("cc", "is", "x@y", "fileinto", "A"));
}

/* Every prefix, fed whole: never a crash, always a script that compiles. */
static void test_truncations(void **state)
{
	(void)state;
	struct wa_sieve s;
	full(&s);
	struct buf b;
	buf_init(&b, 0);
	wa_sieve_generate(&s, &b);
	wa_sieve_free(&s);
	for (size_t n = 0; n <= b.len; n++) {
		struct wa_sieve t;
		wa_sieve_init(&t);
		wa_sieve_parse(&t, b.data, n);
		struct buf g;
		buf_init(&g, 0);
		wa_sieve_generate(&t, &g);
		compiles(&g);
		buf_free(&g);
		wa_sieve_free(&t);
	}
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generate_golden),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_nothing_on),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_truncations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
