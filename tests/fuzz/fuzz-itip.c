/* libFuzzer target for calendar/itip. The input is up to three NUL-
 * separated parts: an iTIP message, a stored object (the recipient's copy,
 * or the organizer's old object) and a second object (the new one). The
 * message is parsed and applied for its organizer and attendees; the
 * objects go through itip_organizer_changes(), itip_attendee_changes(),
 * the PARTSTAT reset and the builders. Every message itip produces must
 * parse again as iTIP (checked: a failure aborts). Limits are small so
 * that a slow input shows up as a timeout. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "itip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ical_limits limits;

static void check_outputs(const struct itip_out *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct itip_message *m;
		struct ical_error err;

		if (itip_parse(out[i].data, out[i].len, NULL, &m, &err) != 0) {
			fprintf(stderr, "itip produced a message it refuses: %s\n%s\n", err.text,
				out[i].data);
			abort();
		}
		if (itip_method(m) != out[i].method)
			abort();
		itip_free(&m);
	}
}

static void check_one(const struct itip_out *o)
{
	check_outputs(o, 1);
}

static struct ical_object *object(const char *p, size_t n)
{
	struct ical_object *obj = NULL;
	struct ical_error err;

	if (n == 0 || ical_object_parse(p, n, ICAL_COMP_DEFAULT_SET, &limits, &obj, &err) != 0)
		return NULL;
	return obj;
}

static void changes(const struct ical_object *old, const struct ical_object *new, const char *who)
{
	const struct ical_object *ref = new ? new : old;
	struct ical_index idx;
	struct itip_out *out, o;
	size_t n;
	struct ical_error err;

	if (ref == NULL)
		return;
	if (ical_object_index((struct ical_object *)ref, NULL, &limits, &idx, &err) != 0)
		return;
	if (idx.organizer != NULL) {
		if (itip_organizer_changes(old, new, idx.organizer, "deleg@example.com", &out, &n, &err) == 0) {
			check_outputs(out, n);
			itip_out_free(out, n);
		}
		for (size_t i = 0; i < idx.attendee_count && i < 3; i++) {
			if (itip_attendee_changes(old, new, idx.attendees[i], NULL, &out, &n, &err) == 0) {
				check_outputs(out, n);
				itip_out_free(out, n);
			}
			if (itip_build_request(ref, idx.attendees[i], NULL, &o, &err) == 0) {
				check_one(&o);
				itip_out_clear(&o);
			}
			if (itip_build_refresh(ref, idx.attendees[i], NULL, &o, &err) == 0) {
				check_one(&o);
				itip_out_clear(&o);
			}
		}
	}
	if (who != NULL && itip_attendee_changes(old, new, who, "x@example.com", &out, &n, &err) == 0) {
		check_outputs(out, n);
		itip_out_free(out, n);
	}
	(void)itip_needs_sequence_bump(old, new);
	ical_index_free(&idx);
}

static void apply_for(const struct ical_object *cur, const struct itip_message *m, const char *rcpt)
{
	char *out = NULL;
	size_t len;
	enum itip_apply_result res;
	struct ical_error err;

	if (itip_apply_ex(cur, m, rcpt, &out, &len, &res, &err) == 0 && out != NULL) {
		struct ical_object *obj = NULL;

		/* what apply returns is a valid object */
		if (ical_object_parse(out, len, ICAL_COMP_DEFAULT_SET, &limits, &obj, &err) != 0) {
			fprintf(stderr, "itip_apply made an invalid object: %s\n%s\n", err.text, out);
			abort();
		}
		changes(cur, obj, rcpt);
		ical_object_free(&obj);
		free(out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p[3] = { NULL, NULL, NULL };
	size_t n[3] = { 0, 0, 0 };
	const char *s = (const char *)data, *end = s + size;
	struct itip_message *m = NULL;
	struct ical_object *a, *b;
	struct ical_error err;

	ical_limits_default(&limits);
	limits.max_instances = 200;
	limits.max_recur_work = 5000;
	limits.max_resource_size = 32 * 1024;
	limits.max_attendees = 50;
	for (int i = 0; i < 3 && s <= end; i++) {
		const char *z = memchr(s, '\0', (size_t)(end - s));

		p[i] = s;
		n[i] = z ? (size_t)(z - s) : (size_t)(end - s);
		s += n[i] + 1;
	}
	a = object(p[1], n[1]);
	b = object(p[2], n[2]);
	if (itip_parse(p[0], n[0], &limits, &m, &err) == 0) {
		char *t;
		size_t len;
		int64_t ts;
		struct itip_out o;

		t = itip_to_string(m, &len);
		free(t);
		(void)itip_summary(m);
		(void)itip_dtstart(m, &ts);
		(void)itip_sequence(m);
		apply_for(a, m, itip_organizer(m));
		apply_for(NULL, m, itip_organizer(m));
		for (size_t i = 0; i < itip_attendee_count(m) && i < 3; i++) {
			apply_for(a, m, itip_attendee(m, i));
			apply_for(NULL, m, itip_attendee(m, i));
			if (itip_build_reply(m, itip_attendee(m, i), "ACCEPTED", NULL, "ok", &o, &err) == 0) {
				check_one(&o);
				itip_out_clear(&o);
			}
		}
		if (itip_build_declinecounter(m, itip_organizer(m), "no", &o, &err) == 0) {
			check_one(&o);
			itip_out_clear(&o);
		}
		itip_free(&m);
	}
	changes(a, b, NULL);
	changes(NULL, a, NULL);
	changes(a, NULL, NULL);
	if (a != NULL && b != NULL) {
		struct ical_index idx;

		if (ical_object_index(a, NULL, &limits, &idx, &err) == 0) {
			if (idx.organizer != NULL)
				(void)itip_reset_partstat(a, b, idx.organizer);
			if (idx.attendee_count > 0)
				(void)itip_set_schedule_status(b, idx.attendees[0], "2.0");
			ical_index_free(&idx);
		}
		itip_object_strip_force_send(b);
	}
	ical_object_free(&a);
	ical_object_free(&b);
	return 0;
}
