/* Unit tests for proto/dsn.c: the three parts of a bounce, delay and
 * success report, RET=FULL vs HDRS and the size cut, the RFC 6533 types,
 * folding and the 998-octet limit, and the refusals (header injection,
 * bad status codes, the null sender). test_dsn.py parses the same output
 * with Python's email package. */
#include "autoconf.h"
#include "dsn.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char original[] =
	"From: Ann <ann@origin.test>\r\n"
	"To: bob@remote.test\r\n"
	"Subject: hello\r\n"
	"Message-ID: <orig.1@origin.test>\r\n"
	"\r\n"
	"The body line.\r\n"
	"SECRET-BODY-MARKER\r\n";

static struct dsn_recipient rcpt_failed = {
	.address = "bob@remote.test", .orcpt = "rfc822;Bob@Remote.test", .action = "failed",
	.status = "5.1.1", .remote_mta = "mx.remote.test",
	.diagnostic = "550 5.1.1 <bob@remote.test>: no such user", .last_attempt = 1700003000,
};

static void base_report(struct dsn_report *r, const struct dsn_recipient *rc, size_t n)
{
	memset(r, 0, sizeof(*r));
	r->reporting_mta = "mx.cairn.test";
	r->from = "MAILER-DAEMON@mx.cairn.test";
	r->to = "ann@origin.test";
	r->envid = "env-42";
	r->arrival = 1700000000;
	r->now = 1700003600;
	r->message_id = "<dsn.1@mx.cairn.test>";
	r->original = original;
	r->original_len = strlen(original);
	r->rcpts = rc;
	r->nrcpts = n;
}

static char *build_ok(const struct dsn_report *r)
{
	struct buf out;
	buf_init(&out, 0);
	const char *err = NULL;
	int ret = dsn_build(r, &out, &err);
	if (ret != 0)
		fail_msg("dsn_build: %s", err);
	/* Every line ends in CRLF and is at most 998 octets. */
	size_t line = 0;
	for (size_t i = 0; i < out.len; i++) {
		if (out.data[i] == '\n') {
			assert_true(i > 0 && out.data[i - 1] == '\r');
			line = 0;
		} else if (out.data[i] != '\r') {
			assert_true(++line <= 998);
		} else {
			assert_true(i + 1 < out.len && out.data[i + 1] == '\n');
		}
	}
	return out.data;
}

/* The boundary parameter's value. */
static void boundary_of(const char *msg, char *out, size_t outlen)
{
	const char *b = strstr(msg, "boundary=\"");
	assert_non_null(b);
	b += 10;
	const char *e = strchr(b, '"');
	assert_non_null(e);
	assert_true((size_t)(e - b) < outlen);
	memcpy(out, b, (size_t)(e - b));
	out[e - b] = '\0';
}

static void test_failed_headers_only(void **state)
{
	(void)state;
	struct dsn_report r;
	base_report(&r, &rcpt_failed, 1);
	char *msg = build_ok(&r);
	assert_non_null(strstr(msg, "Subject: Undelivered Mail Returned to Sender\r\n"));
	assert_non_null(strstr(msg, "Auto-Submitted: auto-replied\r\n"));
	assert_non_null(strstr(msg, "To: <ann@origin.test>\r\n"));
	assert_non_null(strstr(msg, "Date: Tue, 14 Nov 2023 23:13:20 +0000\r\n"));
	assert_non_null(strstr(msg, "Content-Type: multipart/report; report-type=delivery-status;"));
	assert_non_null(strstr(msg, "Content-Type: message/delivery-status\r\n"));
	assert_non_null(strstr(msg, "Reporting-MTA: dns; mx.cairn.test\r\n"));
	assert_non_null(strstr(msg, "Original-Envelope-Id: env-42\r\n"));
	assert_non_null(strstr(msg, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"));
	assert_non_null(strstr(msg, "Original-Recipient: rfc822;Bob@Remote.test\r\n"));
	assert_non_null(strstr(msg, "Final-Recipient: rfc822; bob@remote.test\r\n"));
	assert_non_null(strstr(msg, "Action: failed\r\nStatus: 5.1.1\r\n"));
	assert_non_null(strstr(msg, "Remote-MTA: dns; mx.remote.test\r\n"));
	assert_non_null(strstr(msg, "Diagnostic-Code: smtp; 550 5.1.1 <bob@remote.test>:"));
	assert_non_null(strstr(msg, "Last-Attempt-Date: "));
	assert_null(strstr(msg, "Will-Retry-Until"));
	/* RET=HDRS: the header, not the body. */
	assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\r\n"));
	assert_non_null(strstr(msg, "Subject: hello\r\n"));
	assert_null(strstr(msg, "SECRET-BODY-MARKER"));
	char b[80];
	boundary_of(msg, b, sizeof(b));
	assert_null(strstr(original, b));
	char end[100];
	snprintf(end, sizeof(end), "--%s--\r\n", b);
	assert_non_null(strstr(msg, end));
	/* Human text names the recipient and the remote reply. */
	assert_non_null(strstr(msg, "<bob@remote.test>: delivery failed permanently"));
	free(msg);
}

static void test_full_and_cut(void **state)
{
	(void)state;
	struct dsn_report r;
	base_report(&r, &rcpt_failed, 1);
	r.return_full = true;
	char *msg = build_ok(&r);
	assert_non_null(strstr(msg, "Content-Type: message/rfc822\r\n"));
	assert_non_null(strstr(msg, "SECRET-BODY-MARKER"));
	free(msg);
	/* Larger than max_original: headers only. */
	r.max_original = 40;
	msg = build_ok(&r);
	assert_non_null(strstr(msg, "Content-Type: text/rfc822-headers\r\n"));
	assert_null(strstr(msg, "SECRET-BODY-MARKER"));
	free(msg);
	/* A body line over 998 octets cannot be returned whole. */
	size_t n = strlen(original) + 1200;
	char *big = malloc(n + 1);
	snprintf(big, n + 1, "%s", original);
	memset(big + strlen(original), 'x', 1200);
	big[n - 2] = '\r';
	big[n - 1] = '\n';
	big[n] = '\0';
	r.original = big;
	r.original_len = n;
	r.max_original = 0;
	msg = build_ok(&r);
	assert_null(strstr(msg, "SECRET-BODY-MARKER"));
	free(msg);
	free(big);
	/* No original at all: two parts. */
	r.original = NULL;
	r.original_len = 0;
	msg = build_ok(&r);
	assert_null(strstr(msg, "rfc822-headers"));
	assert_null(strstr(msg, "message/rfc822"));
	free(msg);
}

static void test_delayed_and_success(void **state)
{
	(void)state;
	struct dsn_recipient rc[2] = {
		{ .address = "c@remote.test", .action = "delayed", .status = "4.4.1",
		  .diagnostic = "connect timed out", .will_retry_until = 1700400000 },
		{ .address = "d@remote.test", .action = "relayed", .status = "2.0.0" },
	};
	struct dsn_report r;
	base_report(&r, rc, 2);
	char *msg = build_ok(&r);
	assert_non_null(strstr(msg, "Subject: Delayed Mail (still being retried)\r\n"));
	assert_non_null(strstr(msg, "Will-Retry-Until: "));
	assert_non_null(strstr(msg, "Action: relayed\r\nStatus: 2.0.0\r\n"));
	free(msg);
	base_report(&r, rc + 1, 1);
	msg = build_ok(&r);
	assert_non_null(strstr(msg, "Subject: Successful Mail Delivery Report\r\n"));
	free(msg);
	/* Failed wins over delayed for the subject. */
	struct dsn_recipient mixed[2] = { rc[0], rcpt_failed };
	base_report(&r, mixed, 2);
	msg = build_ok(&r);
	assert_non_null(strstr(msg, "Subject: Undelivered Mail Returned to Sender\r\n"));
	free(msg);
}

static void test_utf8(void **state)
{
	(void)state;
	struct dsn_recipient rc = rcpt_failed;
	rc.address = "j\xc3\xb6rg@b\xc3\xbc" "cher.test";
	rc.orcpt = "utf-8;j\xc3\xb6rg@b\xc3\xbc" "cher.test";
	rc.diagnostic = "550 5.1.1 unbekannter Empf\xc3\xa4nger";
	struct dsn_report r;
	base_report(&r, &rc, 1);
	/* Non-ASCII needs the RFC 6533 form. */
	struct buf out;
	buf_init(&out, 0);
	const char *err;
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	buf_free(&out);
	r.utf8 = true;
	r.return_full = true;
	char *msg = build_ok(&r);
	assert_non_null(strstr(msg, "report-type=global-delivery-status"));
	assert_non_null(strstr(msg, "Content-Type: message/global-delivery-status\r\n"));
	assert_non_null(strstr(msg, "Content-Type: message/global\r\n"));
	assert_non_null(strstr(msg, "Final-Recipient: utf-8; j\xc3\xb6rg@"));
	assert_non_null(strstr(msg, "Empf\xc3\xa4nger"));
	free(msg);
	/* An 8-bit diagnostic in an ASCII report is made safe, not refused. */
	rc.address = "x@remote.test";
	rc.orcpt = NULL;
	r.utf8 = false;
	msg = build_ok(&r);
	assert_non_null(strstr(msg, "Empf??nger"));
	free(msg);
}

static void test_folding_and_injection(void **state)
{
	(void)state;
	char diag[2000];
	size_t n = 0;
	n += (size_t)snprintf(diag, sizeof(diag), "550-5.7.1 first line\r\n550 5.7.1");
	while (n + 8 < sizeof(diag) - 1) {
		memcpy(diag + n, " word", 5);
		n += 5;
	}
	diag[n] = '\0';
	struct dsn_recipient rc = rcpt_failed;
	rc.diagnostic = diag;
	struct dsn_report r;
	base_report(&r, &rc, 1);
	char *msg = build_ok(&r);	/* checks 998 and CRLF */
	assert_non_null(strstr(msg, "550-5.7.1 first line 550 5.7.1 word"));
	assert_null(strstr(msg, "line\r\n550"));
	free(msg);

	struct buf out;
	buf_init(&out, 0);
	const char *err;
	rc = rcpt_failed;
	rc.address = "evil@x.test\r\nBcc: victim@y.test";
	base_report(&r, &rc, 1);
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	rc = rcpt_failed;
	rc.status = "5.1";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	rc.status = "3.1.1";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	rc.status = "5.1.1000";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	rc = rcpt_failed;
	rc.action = "exploded";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	rc = rcpt_failed;
	r.to = "";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	base_report(&r, &rc, 0);
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	base_report(&r, &rc, 1);
	r.message_id = "<a\r\n>";
	assert_int_equal(dsn_build(&r, &out, &err), -1);
	assert_int_equal(out.len, 0);	/* nothing appended on failure */
	/* A limited output buffer gets all or nothing. */
	struct buf small;
	buf_init(&small, 100);
	base_report(&r, &rc, 1);
	assert_int_equal(dsn_build(&r, &small, &err), -1);
	assert_int_equal(small.len, 0);
	buf_free(&small);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failed_headers_only),
		cmocka_unit_test(test_full_and_cut),
		cmocka_unit_test(test_delayed_and_success),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_folding_and_injection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
