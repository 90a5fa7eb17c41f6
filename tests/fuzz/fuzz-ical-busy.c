/* libFuzzer target for calendar/ical-busy: each input is parsed as a
 * free/busy request, as a VAVAILABILITY (then evaluated over a month), and
 * as a calendar object whose busy time is computed for an owner and merged
 * into a reply. Limits are small so that a slow input shows as a timeout. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ical-busy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const self[] = { "bob@example.test" };
	struct ical_limits limits;
	struct ical_error err;
	struct ical_fbrequest req;
	struct ical_availability *av = NULL;
	struct ical_object *obj = NULL;
	struct ical_busy_list l = { NULL, 0, 0 };
	const char *text = (const char *)data;
	int64_t s = 1767225600, e = 1769904000;	/* 2026-01-01 .. 2026-02-01 */

	ical_limits_default(&limits);
	limits.max_instances = 200;
	limits.max_recur_work = 20000;
	limits.max_rrule_probe_ms = 20;
	if (ical_fbrequest_parse(text, size, &limits, &req, &err) == 0) {
		s = req.start;
		e = req.end;
		ical_fbrequest_clear(&req);
	}
	if (e - s > 400 * 86400)
		e = s + 400 * 86400;
	if (ical_availability_parse(text, size, &limits, &av, &err) == 0) {
		ical_availability_busy(av, s, e, &limits, &l, &err);
		ical_availability_free(&av);
	}
	if (ical_object_parse(text, size, ICAL_COMP_VEVENT | ICAL_COMP_VFREEBUSY, &limits, &obj,
			      &err) == 0) {
		ical_busy_of_object(obj, NULL, self, 1, s, e, &limits, &l, &err);
		ical_object_free(&obj);
	}
	ical_busy_clip(&l, s, e);
	ical_busy_merge(&l);
	size_t len;
	free(ical_busy_reply(&l, "uid", s, s, e, "alice@example.test", "bob@example.test", &len));
	ical_busy_clear(&l);
	return 0;
}
