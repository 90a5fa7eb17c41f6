/* Unit tests for proto/dmarc_record.c: RFC 7489 6.3 records, defaults,
 * the rules for a missing or bad p= (6.6.3) and v= placement. */
#include "autoconf.h"
#include "dmarc_record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct dmarc_record rec;

static int parse(const char *s)
{
	const char *err = NULL;
	int r = dmarc_record_parse(s, strlen(s), &rec, &err);
	if (r < 0)
		assert_non_null(err);
	return r;
}

static void test_records(void **state)
{
	(void)state;
	assert_int_equal(parse("v=DMARC1; p=reject"), 0);
	assert_int_equal(rec.p, DMARC_POLICY_REJECT);
	assert_int_equal(rec.pct, 100);
	assert_false(rec.has_sp || rec.adkim_strict || rec.aspf_strict);
	assert_int_equal(parse("v=DMARC1 ;p = quarantine ; sp=none; pct=25; adkim=s; aspf=s; "
			       "rua=mailto:a@example.com; fo=1; unknown=yes;"), 0);
	assert_int_equal(rec.p, DMARC_POLICY_QUARANTINE);
	assert_true(rec.has_sp);
	assert_int_equal(rec.sp, DMARC_POLICY_NONE);
	assert_int_equal(rec.pct, 25);
	assert_true(rec.adkim_strict && rec.aspf_strict && rec.has_rua);
	/* bad pct is ignored (default), bad p with rua is none */
	assert_int_equal(parse("v=DMARC1; p=bogus; rua=mailto:a@example.com; pct=500"), 0);
	assert_int_equal(rec.p, DMARC_POLICY_NONE);
	assert_int_equal(rec.pct, 100);
}

static void test_errors(void **state)
{
	(void)state;
	const char *bad[] = {
		"v=DMARC1", "v=DMARC1; p=bogus", "p=reject; v=DMARC1", "v=DMARC2; p=reject",
		"v=dmarc1; p=reject", "v=DMARC1; p", "", "v=DMARC1x; p=none",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
	assert_true(dmarc_is_record("v=DMARC1", 8));
	assert_true(dmarc_is_record("v=DMARC1 ; p=none", 17));
	assert_false(dmarc_is_record("v=DMARC10; p=none", 17));
	assert_string_equal(dmarc_policy_name(DMARC_POLICY_QUARANTINE), "quarantine");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
