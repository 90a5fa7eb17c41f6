/* Unit tests of the scan stage's core (server/scan/scan.c): module order,
 * budgets and the stage deadline, fail-open and fail-closed, what a failed
 * module added being dropped, hints, tests replaced by name, header access;
 * and the policy thresholds and the Authentication-Results authserv-id
 * match. No database and no DNS: modules here are test doubles. */
#include "autoconf.h"
#include "scan.h"
#include "scan-private.h"
#include "scan-policy.h"
#include "config.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

static char order[64];

static int init_common(struct scan_module_settings *s, int ord, enum scan_failure_mode fm,
		       uint64_t budget)
{
	s->order = ord;
	s->failure = fm;
	if (budget > 0)
		s->budget_ms = budget;
	return 0;
}

static enum scan_mod_status run_a(void *st, struct scan_msg *m, struct scan_result *r, uint64_t d)
{
	(void)st; (void)m; (void)d;
	strcat(order, "a");
	scan_result_add_test(r, "A_TEST", 1.5, "from %s", "a");
	scan_result_hint(r, SCAN_ACTION_JUNK, "a wants junk");
	scan_result_change_header(r, "Subject", 1, "from a");
	scan_result_replace_body(r, "a body\r\n", 8);
	return SCAN_MOD_OK;
}

static int init_a(const struct config *c, struct scan_module_settings *s, void **st, const char **e)
{
	(void)c; (void)st; (void)e;
	return init_common(s, 300, SCAN_FAIL_OPEN, 0);
}

/* fails after adding things: they must be dropped */
static enum scan_mod_status run_b(void *st, struct scan_msg *m, struct scan_result *r, uint64_t d)
{
	(void)st; (void)m; (void)d;
	strcat(order, "b");
	scan_result_add_test(r, "B_TEST", 50, NULL);
	scan_result_add_header(r, "X-B", "1");
	scan_result_change_header(r, "X-Twice", 2, "");
	scan_result_replace_body(r, "b1", 2);
	scan_result_replace_body(r, "b2", 2);
	scan_result_hint(r, SCAN_ACTION_REJECT, "b says no");
	return SCAN_MOD_ERROR;
}

static int init_b(const struct config *c, struct scan_module_settings *s, void **st, const char **e)
{
	(void)c; (void)st; (void)e;
	return init_common(s, 100, SCAN_FAIL_OPEN, 0);
}

/* overruns its budget while claiming success */
static enum scan_mod_status run_c(void *st, struct scan_msg *m, struct scan_result *r, uint64_t d)
{
	(void)st; (void)m; (void)r;
	strcat(order, "c");
	scan_result_change_header(r, "Subject", 1, "from c");
	scan_result_replace_body(r, "c body", 6);
	while (scan_now_ms() < d + 120) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	scan_result_add_test(r, "C_TEST", 3, NULL);
	return SCAN_MOD_OK;
}

static bool c_closed;

static int init_c(const struct config *c, struct scan_module_settings *s, void **st, const char **e)
{
	(void)c; (void)st; (void)e;
	return init_common(s, 200, c_closed ? SCAN_FAIL_CLOSED : SCAN_FAIL_OPEN, 30);
}

static enum scan_mod_status run_d(void *st, struct scan_msg *m, struct scan_result *r, uint64_t d)
{
	(void)st; (void)d;
	strcat(order, "d");
	char *subj = scan_msg_header(m, "subject", 0);
	char *second = scan_msg_header(m, "X-Twice", 1);
	scan_result_add_test(r, "A_TEST", 0.5, "replaced");	/* same name: replaced */
	scan_result_add_test(r, "D_SUBJECT", 0, "%s|%s", subj != NULL ? subj : "-",
			     second != NULL ? second : "-");
	free(subj);
	free(second);
	/* replaces a's body, twice (the first replacement freed) */
	scan_result_replace_body(r, "d1", 2);
	scan_result_replace_body(r, "d body\r\n", 8);
	return SCAN_MOD_OK;
}

static int init_d(const struct config *c, struct scan_module_settings *s, void **st, const char **e)
{
	(void)c; (void)st; (void)e;
	return init_common(s, 400, SCAN_FAIL_OPEN, 0);
}

static const struct scan_module mod_a = { .name = "a", .init = init_a, .run = run_a };
static const struct scan_module mod_b = { .name = "b", .init = init_b, .run = run_b };
static const struct scan_module mod_c = { .name = "c", .init = init_c, .run = run_c };
static const struct scan_module mod_d = { .name = "d", .init = init_d, .run = run_d };

static struct config cfg;

static void setup_modules(bool closed)
{
	scan_modules_free();
	c_closed = closed;
	memset(&cfg, 0, sizeof(cfg));
	cfg.scan.step_timeout_ms = 1000;
	cfg.scan.dns_timeout_ms = 100;
	cfg.queue.resolver = (char *)"127.0.0.1:9";
	assert_int_equal(scan_register(&mod_a), 0);
	assert_int_equal(scan_register(&mod_b), 0);
	assert_int_equal(scan_register(&mod_c), 0);
	assert_int_equal(scan_register(&mod_d), 0);
	assert_int_equal(scan_register(&mod_d), -1);	/* a name once */
	const char *err = NULL;
	assert_int_equal(scan_modules_init(&cfg, &err), 0);
	assert_int_equal(scan_modules_count(), 4);
}

static const char raw[] = "Subject: hi\r\n there\r\nX-Twice: 1\r\nx-twice: 2\r\n\r\nbody\r\n";

static void msg_init(struct scan_msg *m, uint64_t budget)
{
	memset(m, 0, sizeof(*m));
	m->listener = SCAN_LISTENER_MX;
	m->client_ip = "192.0.2.1";
	m->helo = "h";
	m->mail_from = "a@b.example";
	m->raw = raw;
	m->size = sizeof(raw) - 1;
	m->header_len = strstr(raw, "\r\n\r\n") + 4 - raw;
	m->body_offset = m->header_len;
	m->started_ms = scan_now_ms();
	m->deadline_ms = m->started_ms + budget;
}

static void test_run_order_and_failures(void **state)
{
	(void)state;
	setup_modules(false);
	struct scan_msg m;
	msg_init(&m, 5000);
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	order[0] = '\0';
	scan_run(&m, &r);
	assert_string_equal(order, "bcad");
	/* b failed: its test, header and hint are gone; c overran: dropped */
	assert_false(scan_result_has_test(&r, "B_TEST", NULL));
	assert_false(scan_result_has_test(&r, "C_TEST", NULL));
	assert_int_equal(r.nheaders, 0);
	/* and so are their header changes and bodies: a's change stays, d's
	 * body replaced a's */
	assert_int_equal(r.nedits, 1);
	assert_string_equal(r.edits[0].name, "Subject");
	assert_int_equal(r.edits[0].index, 1);
	assert_string_equal(r.edits[0].value, "from a");
	assert_true(r.body_replaced);
	assert_int_equal(r.body_len, 8);
	assert_memory_equal(r.body, "d body\r\n", 8);
	double s;
	assert_true(scan_result_has_test(&r, "A_TEST", &s));
	assert_true(fabs(s - 0.5) < 1e-9);
	assert_true(fabs(r.score - 0.5) < 1e-9);
	assert_int_equal(r.hint, SCAN_ACTION_JUNK);
	assert_string_equal(r.hint_reason, "a wants junk");
	assert_string_equal(r.hint_module, "a");
	assert_false(r.unscannable);	/* both failures were fail-open */
	assert_int_equal(r.ntimings, 4);
	assert_int_equal(r.timings[0].status, SCAN_MOD_ERROR);
	assert_int_equal(r.timings[1].status, SCAN_MOD_TIMEOUT);
	assert_int_equal(r.timings[2].status, SCAN_MOD_OK);
	assert_true(scan_result_has_test(&r, "D_SUBJECT", NULL));
	for (size_t i = 0; i < r.ntests; i++)
		if (strcmp(r.tests[i].name, "D_SUBJECT") == 0)
			assert_string_equal(r.tests[i].detail, "hi there|2");
	scan_result_clear(&r);
	scan_msg_done(&m);
}

static void test_fail_closed_and_deadline(void **state)
{
	(void)state;
	setup_modules(true);
	struct scan_msg m;
	msg_init(&m, 5000);
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	scan_run(&m, &r);
	assert_true(r.unscannable);	/* c is fail-closed and overran */
	scan_result_clear(&r);
	/* a stage deadline already past: nothing runs, every module timed out */
	setup_modules(false);
	msg_init(&m, 0);
	m.deadline_ms = scan_now_ms() - 1;
	order[0] = '\0';
	memset(&r, 0, sizeof(r));
	scan_run(&m, &r);
	assert_string_equal(order, "");
	assert_true(r.unscannable);
	for (size_t i = 0; i < r.ntimings; i++)
		assert_int_equal(r.timings[i].status, SCAN_MOD_TIMEOUT);
	scan_result_clear(&r);
	/* submission: modules that do not opt in are skipped */
	msg_init(&m, 5000);
	m.listener = SCAN_LISTENER_SUBMISSION;
	order[0] = '\0';
	memset(&r, 0, sizeof(r));
	scan_run(&m, &r);
	assert_string_equal(order, "");
	scan_result_clear(&r);
	scan_modules_free();
}

static void test_config_overrides(void **state)
{
	(void)state;
	scan_modules_free();
	memset(&cfg, 0, sizeof(cfg));
	cfg.scan.step_timeout_ms = 1000;
	cfg.queue.resolver = (char *)"";
	cfg.scan.disable = (char *)"b, c";
	cfg.scan.budgets = (char *)"a:2s,d:250ms";
	assert_int_equal(scan_register(&mod_a), 0);
	assert_int_equal(scan_register(&mod_b), 0);
	assert_int_equal(scan_register(&mod_c), 0);
	assert_int_equal(scan_register(&mod_d), 0);
	const char *err = NULL;
	assert_int_equal(scan_modules_init(&cfg, &err), 0);
	struct scan_msg m;
	msg_init(&m, 5000);
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	order[0] = '\0';
	scan_run(&m, &r);
	assert_string_equal(order, "ad");
	scan_result_clear(&r);
	scan_modules_free();
	cfg.scan.budgets = (char *)"a=2s";
	assert_int_equal(scan_register(&mod_a), 0);
	assert_int_equal(scan_modules_init(&cfg, &err), -1);
	assert_non_null(strstr(err, "budgets"));
	scan_modules_free();
}

static void test_results(void **state)
{
	(void)state;
	struct scan_result r;
	memset(&r, 0, sizeof(r));
	scan_result_add_test(&r, "BAD NAME\n!", 1, NULL);
	assert_string_equal(r.tests[0].name, "BAD_NAME__");
	for (int i = 0; i < SCAN_MAX_TESTS + 5; i++) {
		char n[16];
		snprintf(n, sizeof(n), "T%d", i);
		scan_result_add_test(&r, n, 1, NULL);
	}
	assert_int_equal(r.ntests, SCAN_MAX_TESTS);
	assert_int_equal(r.tests_dropped, 6);
	assert_true(fabs(r.score - (SCAN_MAX_TESTS + 6)) < 1e-9);	/* counted anyway */
	scan_result_set_virus(&r, "Eicar\"Test\n");
	assert_true(r.virus);
	assert_string_equal(r.virus_name, "Eicar_Test_");
	scan_result_hint(&r, SCAN_ACTION_QUARANTINE, "first");
	scan_result_hint(&r, SCAN_ACTION_JUNK, "milder");
	scan_result_hint(&r, SCAN_ACTION_QUARANTINE, "second");
	assert_string_equal(r.hint_reason, "first");
	scan_result_hint(&r, SCAN_ACTION_REJECT, "worse\r\n");
	assert_string_equal(r.hint_reason, "worse  ");
	scan_result_clear(&r);
	assert_int_equal(r.ntests, 0);
}

static void test_policy(void **state)
{
	(void)state;
	double v;
	assert_int_equal(scan_threshold_parse("off", &v), 0);
	assert_true(isnan(v));
	assert_int_equal(scan_threshold_parse("-2.5", &v), 0);
	assert_true(v == -2.5);
	assert_int_equal(scan_threshold_parse("5x", &v), -1);
	assert_int_equal(scan_threshold_parse("", &v), -1);
	assert_int_equal(scan_threshold_parse("nan", &v), -1);
	struct scan_policy p = { .enabled = true, .tag = 3, .junk = 5, .quarantine = NAN,
				 .reject = 10 };
	assert_int_equal(scan_policy_action(&p, 1), SCAN_ACTION_ACCEPT);
	assert_int_equal(scan_policy_action(&p, 3), SCAN_ACTION_TAG);
	assert_int_equal(scan_policy_action(&p, 7), SCAN_ACTION_JUNK);
	assert_int_equal(scan_policy_action(&p, 10), SCAN_ACTION_REJECT);
	p.quarantine = 8;
	assert_int_equal(scan_policy_action(&p, 9), SCAN_ACTION_QUARANTINE);
}

static void test_authres_ours(void **state)
{
	(void)state;
	const char *id = "mx.example.org";
	struct { const char *v; bool ours; } cases[] = {
		{ " mx.example.org; spf=pass", true },
		{ " MX.Example.ORG; none", true },
		{ " (comment (nested)) mx.example.org 1; dkim=pass", true },
		{ " \"mx.example.org\"; none", true },
		{ "\r\n\tmx.example.org;spf=fail", true },
		{ " mx.example.org.evil; spf=pass", false },
		{ " other.example; spf=pass smtp.mailfrom=mx.example.org", false },
		{ " mx.example.or; none", false },
		{ " (unterminated mx.example.org; none", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (scan_authres_is_ours(cases[i].v, strlen(cases[i].v), id) != cases[i].ours)
			fail_msg("%s", cases[i].v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_order_and_failures),
		cmocka_unit_test(test_fail_closed_and_deadline),
		cmocka_unit_test(test_config_overrides),
		cmocka_unit_test(test_results),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_authres_ours),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
