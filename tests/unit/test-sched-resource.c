/* Unit tests of the resource booking policy (calendar/sched-resource-policy.c):
 * each rule of sched_resource_judge on made-up requests, and their order. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sched-resource.h"
#include "store-resource.h"

#define NOW 1800000000LL	/* 2027-01-15 08:00 UTC */
#define H 3600LL
#define D 86400LL

static char empty[] = "";
static char addr[] = "room1@example.test";
static char rname[] = "Room 1";
static char delegate[] = "boss@example.test";

static struct store_resource room(void)
{
	struct store_resource r;
	memset(&r, 0, sizeof(r));
	r.address = addr;
	r.display_name = rname;
	r.location = empty;
	r.delegate = empty;
	r.source = empty;
	r.kind = STORE_RES_ROOM;
	r.policy = STORE_RES_AUTO;
	r.everyone = true;
	r.enabled = true;
	return r;
}

static struct sched_res_period one[] = { { NOW + D, NOW + D + H } };

static struct sched_res_request request(void)
{
	struct sched_res_request q;
	memset(&q, 0, sizeof(q));
	q.now = NOW;
	q.instances = one;
	q.ninstances = 1;
	q.last_end = one[0].end;
	q.attendees = 3;
	q.requester_allowed = true;
	return q;
}

static void test_free_is_accepted(void **state)
{
	(void)state;
	char why[256];
	struct store_resource r = room();
	struct sched_res_request q = request();
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
	assert_non_null(strstr(why, "free"));
	assert_string_equal(sched_res_partstat(SCHED_RES_ACCEPT), "ACCEPTED");
	assert_string_equal(sched_res_partstat(SCHED_RES_DECLINE), "DECLINED");
	assert_string_equal(sched_res_partstat(SCHED_RES_MANUAL), "NEEDS-ACTION");
}

static void test_conflict(void **state)
{
	(void)state;
	char why[256];
	struct store_resource r = room();
	struct sched_res_request q = request();
	/* touching ends do not conflict */
	struct sched_res_period busy[] = { { NOW + D - H, NOW + D }, { NOW + D + H, NOW + D + 2 * H } };
	q.busy = busy;
	q.nbusy = 2;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
	/* one minute of overlap does */
	struct sched_res_period busy2[] = { { NOW + D - H, NOW + D + 60 } };
	q.busy = busy2;
	q.nbusy = 1;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "already booked"));
	/* a long booking that starts before a short one and covers a later instance */
	struct sched_res_period inst[] = { { NOW + D, NOW + D + H }, { NOW + 3 * D, NOW + 3 * D + H } };
	struct sched_res_period busy3[] = { { NOW, NOW + 4 * D }, { NOW + D / 2, NOW + D / 2 + H } };
	q.instances = inst;
	q.ninstances = 2;
	q.last_end = inst[1].end;
	q.busy = busy3;
	q.nbusy = 2;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	/* the second instance alone conflicts */
	struct sched_res_period busy4[] = { { NOW + 3 * D + H / 2, NOW + 3 * D + 2 * H } };
	q.busy = busy4;
	q.nbusy = 1;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "2027-01-18 08:00 UTC"));
}

static void test_window(void **state)
{
	(void)state;
	char why[256];
	struct store_resource r = room();
	struct sched_res_request q = request();
	r.window_days = 1;	/* the meeting ends 25 hours ahead */
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "at most 1 days ahead"));
	r.window_days = 2;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
	/* an endless recurrence passes any window */
	q.unbounded = true;
	q.last_end = INT64_MAX;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "without end"));
	r.window_days = 0;	/* no window: the first year is checked and free */
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
}

static void test_bookers_capacity_disabled(void **state)
{
	(void)state;
	char why[256];
	struct store_resource r = room();
	struct sched_res_request q = request();
	q.requester_allowed = false;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "may not book"));
	q.requester_allowed = true;
	r.capacity = 2;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "holds 2 people and the meeting has 3"));
	r.capacity = 3;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
	r.enabled = false;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_non_null(strstr(why, "out of service"));
}

static void test_manual_and_none(void **state)
{
	(void)state;
	char why[256];
	struct store_resource r = room();
	struct sched_res_request q = request();
	r.policy = STORE_RES_MANUAL;
	r.delegate = delegate;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_MANUAL);
	assert_non_null(strstr(why, "approval by boss@example.test"));
	/* manual mode still declines what the delegate could not approve */
	struct sched_res_period busy[] = { { NOW + D, NOW + D + H } };
	q.busy = busy;
	q.nbusy = 1;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	/* none: never answered, whatever the facts */
	r.policy = STORE_RES_NONE;
	q.requester_allowed = false;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_MANUAL);
	/* a cancelled meeting books nothing */
	r.policy = STORE_RES_AUTO;
	q.cancelled = true;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_ACCEPT);
}

static void test_small_why(void **state)
{
	(void)state;
	char why[8];
	struct store_resource r = room();
	struct sched_res_request q = request();
	q.requester_allowed = false;
	assert_int_equal(sched_resource_judge(&r, &q, why, sizeof(why)), SCHED_RES_DECLINE);
	assert_int_equal(strlen(why), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_is_accepted),
		cmocka_unit_test(test_conflict),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_bookers_capacity_disabled),
		cmocka_unit_test(test_manual_and_none),
		cmocka_unit_test(test_small_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
