/* Sieve parser and compiler tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include "sieve.h"

static void test_placeholder(void **state)
{
	char *err = NULL;
	(void)state;
	assert_int_equal(sieve_check("keep;", 5, NULL, &err), -1);
	free(err);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_placeholder) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
