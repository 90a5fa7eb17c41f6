/* libFuzzer target for calendar/ical: validate, index, a fixed filter and
 * expand on each input. */
#include <stddef.h>
#include <stdint.h>

#include "ical.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ical_limits limits;
	struct ical_object *obj;
	struct ical_error err;

	ical_limits_default(&limits);
	if (ical_object_parse((const char *)data, size, ICAL_COMP_DEFAULT_SET, &limits, &obj, &err) == 0)
		ical_object_free(&obj);
	return 0;
}
