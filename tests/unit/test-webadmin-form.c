/* Unit tests for webadmin/wa-form.c: urlencoded forms and queries,
 * cookies, multipart/form-data, and the text validation every value goes
 * through (UTF-8, no NUL or control bytes), with a byte-at-a-time pass
 * over truncations of each input that must never crash or succeed wrongly. */
#include "autoconf.h"
#include "wa-form.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static void test_urlencoded(void **state)
{
	(void)state;
	struct wa_params p = { .max = 10 };
	const char *error = NULL;
	const char *in = "a=1&b=x+y%20z&&c&d=%C3%A9&a=2";
	assert_int_equal(wa_parse_urlencoded(in, strlen(in), &p, &error), 0);
	assert_int_equal(p.n, 5);
	assert_string_equal(wa_param_get(&p, "a"), "1");
	assert_string_equal(wa_param_get(&p, "b"), "x y z");
	assert_string_equal(wa_param_get(&p, "c"), "");
	assert_string_equal(wa_param_get(&p, "d"), "\xc3\xa9");
	assert_null(wa_param_get(&p, "e"));
	assert_string_equal(p.v[4].value, "2");
	wa_params_free(&p);
}

static void bad_form(const char *in, const char *why)
{
	struct wa_params p = { .max = 4 };
	const char *error = NULL;
	assert_int_equal(wa_parse_urlencoded(in, strlen(in), &p, &error), -1);
	assert_non_null(error);
	if (strstr(error, why) == NULL)
		fail_msg("\"%s\": error \"%s\" lacks \"%s\"", in, error, why);
	wa_params_free(&p);
}

static void test_urlencoded_bad(void **state)
{
	(void)state;
	bad_form("a=%", "percent");
	bad_form("a=%4", "percent");
	bad_form("a=%zz", "percent");
	bad_form("a=%00", "UTF-8");
	bad_form("a=%01", "UTF-8");
	bad_form("a=%7F", "UTF-8");
	bad_form("a=%C3", "UTF-8");
	bad_form("a=%C0%AF", "UTF-8");		/* overlong '/' */
	bad_form("a=%ED%A0%80", "UTF-8");	/* a surrogate */
	bad_form("a=%F4%90%80%80", "UTF-8");	/* past U+10FFFF */
	bad_form("=1", "field name");
	bad_form("a%00b=1", "UTF-8");
	bad_form("a=1&b=2&c=3&d=4&e=5", "too many");
}

static void test_cookies(void **state)
{
	(void)state;
	struct wa_params p = { .max = 8 };
	const char *error = NULL;
	assert_int_equal(wa_parse_cookies("sid=abc; __Host-sid=\"q\";bad; x=1 2; =v; y=ok ", &p, &error), 0);
	assert_string_equal(wa_param_get(&p, "sid"), "abc");
	assert_string_equal(wa_param_get(&p, "__Host-sid"), "q");
	assert_null(wa_param_get(&p, "bad"));
	assert_null(wa_param_get(&p, "x"));	/* a space inside a value */
	assert_string_equal(wa_param_get(&p, "y"), "ok");
	assert_int_equal(p.n, 3);
	wa_params_free(&p);
	p.max = 2;
	assert_int_equal(wa_parse_cookies("a=1; b=2; c=3", &p, &error), -1);
	wa_params_free(&p);
}

static const char multipart[] =
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"csrf\"\r\n"
	"\r\n"
	"tok\r\n"
	"--XyZ\r\n"
	"Content-Disposition: form-data; name=\"key\"; filename=\"a.pem\"\r\n"
	"Content-Type: application/octet-stream\r\n"
	"\r\n"
	"\x00\x01--Xy\r\n"
	"--XyZ\r\n"
	"content-disposition: form-data; name=empty\r\n"
	"\r\n"
	"\r\n"
	"--XyZ--\r\n";

static void test_multipart(void **state)
{
	(void)state;
	char boundary[71];
	const char *error = NULL;
	assert_int_equal(wa_multipart_boundary("multipart/form-data; boundary=XyZ", boundary,
					       sizeof(boundary), &error), 0);
	assert_string_equal(boundary, "XyZ");
	assert_int_equal(wa_multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\"",
					       boundary, sizeof(boundary), &error), 0);
	assert_string_equal(boundary, "a b");
	assert_int_equal(wa_multipart_boundary("text/plain; boundary=a", boundary, sizeof(boundary),
					       &error), -1);
	assert_int_equal(wa_multipart_boundary("multipart/form-data", boundary, sizeof(boundary),
					       &error), -1);
	assert_int_equal(wa_multipart_boundary("multipart/form-data; boundary=\"abc", boundary,
					       sizeof(boundary), &error), -1);

	struct wa_params p = { .max = 8 };
	size_t len = sizeof(multipart) - 1;
	assert_int_equal(wa_parse_multipart(multipart, len, "XyZ", &p, &error), 0);
	assert_int_equal(p.n, 3);
	assert_string_equal(wa_param_get(&p, "csrf"), "tok");
	assert_int_equal(p.v[1].value_len, 6);
	assert_memory_equal(p.v[1].value, "\x00\x01--Xy", 6);
	assert_string_equal(p.v[1].filename, "a.pem");
	assert_string_equal(wa_param_get(&p, "empty"), "");
	wa_params_free(&p);

	/* Every truncation is refused (no closing delimiter), never misread. */
	for (size_t n = 0; n < len - 4; n++) {
		char *copy = xmalloc(n + 1);
		memcpy(copy, multipart, n);
		assert_int_equal(wa_parse_multipart(copy, n, "XyZ", &p, &error), -1);
		wa_params_free(&p);
		free(copy);
	}
	/* A text field with a NUL is refused. */
	static const char nul[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nx\0y\r\n--b--";
	assert_int_equal(wa_parse_multipart(nul, sizeof(nul) - 1, "b", &p, &error), -1);
	wa_params_free(&p);
	static const char noname[] = "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--";
	assert_int_equal(wa_parse_multipart(noname, sizeof(noname) - 1, "b", &p, &error), -1);
	wa_params_free(&p);
	p.max = 1;
	assert_int_equal(wa_parse_multipart(multipart, len, "XyZ", &p, &error), -1);
	assert_string_equal(error, "too many fields");
	wa_params_free(&p);
}

static void test_valid_text(void **state)
{
	(void)state;
	assert_true(wa_valid_text("a\tb\r\n\xe2\x82\xac\xf0\x9f\x98\x80", 12));
	assert_false(wa_valid_text("\xe2\x82", 2));
	assert_false(wa_valid_text("\x80", 1));
	assert_false(wa_valid_text("\xff", 1));
	assert_false(wa_valid_text("\x1b[0m", 4));
	assert_false(wa_valid_text("\xe0\x80\xaf", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urlencoded),
		cmocka_unit_test(test_urlencoded_bad),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_multipart),
		cmocka_unit_test(test_valid_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
