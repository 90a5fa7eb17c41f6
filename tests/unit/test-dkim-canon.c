/* Unit tests for proto/dkim_canon.c: RFC 6376 section 3.4 canonicalisation
 * (the section 3.4.5 example, WSP runs, folded fields, empty and trailing
 * empty lines, bodies without a final CRLF) and header splitting. */
#include "autoconf.h"
#include "dkim_canon.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void check_hdr(const char *field, bool relaxed, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	if (relaxed)
		dkim_canon_header_relaxed(field, strlen(field), true, &out);
	else
		dkim_canon_header_simple(field, strlen(field), true, &out);
	assert_non_null(out.data);
	assert_string_equal(out.data, want);
	buf_free(&out);
}

static void check_body(const char *body, bool relaxed, const char *want)
{
	struct buf out;
	buf_init(&out, 0);
	if (relaxed)
		dkim_canon_body_relaxed(body, strlen(body), &out);
	else
		dkim_canon_body_simple(body, strlen(body), &out);
	assert_int_equal(out.len, strlen(want));
	if (out.len > 0)
		assert_memory_equal(out.data, want, out.len);
	buf_free(&out);
}

/* RFC 6376 section 3.4.5, header and body in both forms. */
static void test_rfc_example(void **state)
{
	(void)state;
	check_hdr("A: X\r\n", true, "a:X\r\n");
	check_hdr("B : Y\t\r\n\tZ  \r\n", true, "b:Y Z\r\n");
	check_hdr("A: X\r\n", false, "A: X\r\n");
	check_hdr("B : Y\t\r\n\tZ  \r\n", false, "B : Y\t\r\n\tZ  \r\n");
	const char *body = " C \r\nD \t E\r\n\r\n\r\n";
	check_body(body, true, " C\r\nD E\r\n");
	check_body(body, false, " C \r\nD \t E\r\n");
}

static void test_header_relaxed(void **state)
{
	(void)state;
	/* Case of the name only; value case kept. */
	check_hdr("SUBJECT: Hello World\r\n", true, "subject:Hello World\r\n");
	/* WSP runs inside, around the colon, at both ends. */
	check_hdr("To :  \t a@b.test ,\t  c@d.test \t\r\n", true, "to:a@b.test , c@d.test\r\n");
	/* Several folds, a fold right after the colon. */
	check_hdr("Subject:\r\n  one\r\n\ttwo\r\n three\r\n", true, "subject:one two three\r\n");
	/* Empty value. */
	check_hdr("X-Empty:\r\n", true, "x-empty:\r\n");
	check_hdr("X-Empty:   \r\n", true, "x-empty:\r\n");
	/* 8-bit bytes pass through. */
	check_hdr("Subject: Gr\xc3\xbc\xc3\x9f""e\r\n", true, "subject:Gr\xc3\xbc\xc3\x9f""e\r\n");
	/* Without the final CRLF requested. */
	struct buf out;
	buf_init(&out, 0);
	const char *sigf = "DKIM-Signature: a=1;\r\n\tb=";
	dkim_canon_header_relaxed(sigf, strlen(sigf), false, &out);
	assert_string_equal(out.data, "dkim-signature:a=1; b=");
	buf_free(&out);
}

static void test_body_relaxed(void **state)
{
	(void)state;
	/* Empty body stays empty (RFC 6376 3.4.4 and erratum 1384). */
	check_body("", true, "");
	check_body("\r\n", true, "");
	check_body("\r\n\r\n\r\n", true, "");
	/* Lines of only WSP are empty lines at the end. */
	check_body("text\r\n  \r\n\t\r\n", true, "text\r\n");
	/* Empty lines inside are kept. */
	check_body("a\r\n\r\n\r\nb\r\n", true, "a\r\n\r\n\r\nb\r\n");
	/* No final CRLF: one is added. */
	check_body("a  b", true, "a b\r\n");
	/* WSP runs and trailing WSP. */
	check_body("\t\tx \t y\t \r\n", true, " x y\r\n");
	/* A lone LF or CR is data, not a line end. */
	check_body("a\nb \r\n", true, "a\nb\r\n");
}

static void test_body_simple(void **state)
{
	(void)state;
	check_body("", false, "\r\n");
	check_body("\r\n\r\n", false, "\r\n");
	check_body("a\r\n\r\n", false, "a\r\n");
	check_body("a  \r\n \r\n", false, "a  \r\n \r\n");
	check_body("no newline", false, "no newline\r\n");
}

static void test_split(void **state)
{
	(void)state;
	const char *msg = "From: a@b.test\r\nSubject: one\r\n two\r\nTo : c@d.test\r\n\r\nbody\r\n";
	struct dkim_field f[8];
	size_t n, body;
	const char *err;
	assert_int_equal(dkim_split_header(msg, strlen(msg), f, 8, &n, &body, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(f[1].len, strlen("Subject: one\r\n two\r\n"));
	assert_true(dkim_field_is(&f[2], "to"));
	assert_int_equal(f[2].namelen, 2);
	assert_string_equal(msg + body, "body\r\n");

	/* No body at all, and a last line without CRLF. */
	const char *nobody = "From: x@y.test\r\nSubject: s";
	assert_int_equal(dkim_split_header(nobody, strlen(nobody), f, 8, &n, &body, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(body, strlen(nobody));
	assert_int_equal(f[1].len, strlen("Subject: s"));

	/* Refusals. */
	assert_int_equal(dkim_split_header(" cont\r\n\r\n", 9, f, 8, &n, &body, &err), -1);
	assert_int_equal(dkim_split_header("nocolon\r\n\r\n", 11, f, 8, &n, &body, &err), -1);
	assert_int_equal(dkim_split_header(": empty\r\n\r\n", 11, f, 8, &n, &body, &err), -1);
	assert_int_equal(dkim_split_header("Sub ject: x\r\n\r\n", 15, f, 8, &n, &body, &err), -1);
	assert_int_equal(dkim_split_header("\rX: x\r\n\r\n", 9, f, 8, &n, &body, &err), -1);
	assert_int_equal(dkim_split_header("Subject : x\r\n\r\n", 15, f, 8, &n, &body, &err), 0);
	const char *many = "A: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	assert_int_equal(dkim_split_header(many, strlen(many), f, 2, &n, &body, &err), -1);
}

/* Feeding the body in one piece or byte by byte prefix sums must agree: the
 * canonicaliser has no state across calls, so check instead that canon(canon(x))
 * == canon(x) (idempotence) over varied inputs. */
static void test_idempotent(void **state)
{
	(void)state;
	const char *bodies[] = { "", "x", " a \t b \r\n\r\n", "\r\n\r\nx\r\n\r\n", "a\r\n b\r\n",
				 "\xff\xfe \r\n" };
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		for (int relaxed = 0; relaxed < 2; relaxed++) {
			struct buf a, b;
			buf_init(&a, 0);
			buf_init(&b, 0);
			if (relaxed)
				dkim_canon_body_relaxed(bodies[i], strlen(bodies[i]), &a);
			else
				dkim_canon_body_simple(bodies[i], strlen(bodies[i]), &a);
			if (relaxed)
				dkim_canon_body_relaxed(a.data ? a.data : "", a.len, &b);
			else
				dkim_canon_body_simple(a.data ? a.data : "", a.len, &b);
			assert_int_equal(a.len, b.len);
			if (a.len > 0)
				assert_memory_equal(a.data, b.data, a.len);
			buf_free(&a);
			buf_free(&b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_header_relaxed),
		cmocka_unit_test(test_body_relaxed),
		cmocka_unit_test(test_body_simple),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
