/* Unit tests for calendar/ical. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "ical.h"

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(ical_precond_name(ICAL_MAX_INSTANCES), "max-instances");
	assert_int_equal(ical_comp_from_name("vtodo"), ICAL_COMP_VTODO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
