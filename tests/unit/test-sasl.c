/* Unit tests for proto/sasl.c: strict base64 (RFC 4648 test vectors and
 * malformed input), PLAIN (RFC 4616) and LOGIN exchanges. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sasl.h"

static void test_base64_vectors(void **state)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	for (size_t i = 0; i < ARRAY_SIZE(plain); i++) {
		struct buf b;
		buf_init(&b, 0);
		base64_encode(plain[i], strlen(plain[i]), &b);
		assert_string_equal(b.data ? b.data : "", enc[i]);
		buf_reset(&b);
		assert_int_equal(base64_decode_strict(enc[i], strlen(enc[i]), &b), 0);
		assert_int_equal(b.len, strlen(plain[i]));
		assert_memory_equal(b.data ? b.data : "", plain[i], b.len);
		buf_free(&b);
	}
}

static void test_base64_strict(void **state)
{
	static const char *const bad[] = { "Zg", "Zg=", "Z===", "Zm9v\r\n", "Zm 9v", "Zh==", "Zm9=",
					   "=Zm9", "Zg==Zg==", "Zm9v!", "Zm8=Zm8=" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct buf b;
		buf_init(&b, 0);
		assert_int_equal(base64_decode_strict(bad[i], strlen(bad[i]), &b), -1);
		buf_free(&b);
	}
}

static int step(struct sasl *s, const char *resp_plain, bool encode, struct buf *chal,
		const char **err)
{
	struct buf enc;
	buf_init(&enc, 0);
	const char *resp = resp_plain;
	if (resp_plain != NULL && encode) {
		/* resp_plain may contain NULs written as '|'. */
		char tmp[256];
		size_t n = strlen(resp_plain);
		memcpy(tmp, resp_plain, n);
		for (size_t i = 0; i < n; i++)
			if (tmp[i] == '|')
				tmp[i] = '\0';
		base64_encode(tmp, n, &enc);
		resp = enc.data ? enc.data : "=";
	}
	buf_reset(chal);
	int ret = sasl_step(s, resp, chal, err);
	buf_free(&enc);
	return ret;
}

static void test_plain(void **state)
{
	struct sasl s = { 0 };
	struct buf chal;
	const char *err;
	buf_init(&chal, 0);

	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "|ann@example.test|secret pw", true, &chal, &err), 1);
	assert_null(s.authzid);
	assert_string_equal(s.authcid, "ann@example.test");
	assert_string_equal(s.password, "secret pw");

	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "ann|ann|pw", true, &chal, &err), 1);
	assert_string_equal(s.authzid, "ann");

	/* Proxy authorisation is not offered. */
	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "admin|ann|pw", true, &chal, &err), -1);

	/* No initial response: an empty challenge, then the message. */
	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, NULL, false, &chal, &err), 0);
	assert_int_equal(chal.len, 0);
	assert_int_equal(step(&s, "|bob|x", true, &chal, &err), 1);
	assert_string_equal(s.authcid, "bob");

	static const char *const bad[] = { "|ann", "ann|pw", "||pw", "|ann|", "|a|b|c" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		sasl_begin(&s, SASL_MECH_PLAIN);
		assert_int_equal(step(&s, bad[i], true, &chal, &err), -1);
	}
	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "not base64!", false, &chal, &err), -1);
	assert_string_equal(err, "invalid base64");
	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "=", false, &chal, &err), -1);
	sasl_begin(&s, SASL_MECH_PLAIN);
	assert_int_equal(step(&s, "*", false, &chal, &err), -1);
	assert_string_equal(err, "authentication cancelled");
	sasl_reset(&s);
	buf_free(&chal);
}

static void test_login(void **state)
{
	struct sasl s = { 0 };
	struct buf chal;
	const char *err;
	buf_init(&chal, 0);

	sasl_begin(&s, SASL_MECH_LOGIN);
	assert_int_equal(step(&s, NULL, false, &chal, &err), 0);
	assert_string_equal(chal.data, "VXNlcm5hbWU6");	/* "Username:" */
	assert_int_equal(step(&s, "ann", true, &chal, &err), 0);
	assert_string_equal(chal.data, "UGFzc3dvcmQ6");	/* "Password:" */
	assert_int_equal(step(&s, "pw", true, &chal, &err), 1);
	assert_string_equal(s.authcid, "ann");
	assert_string_equal(s.password, "pw");

	/* Initial response carries the user name (RFC 4954 style clients). */
	sasl_begin(&s, SASL_MECH_LOGIN);
	assert_int_equal(step(&s, "bob", true, &chal, &err), 0);
	assert_string_equal(chal.data, "UGFzc3dvcmQ6");
	assert_int_equal(step(&s, "x", true, &chal, &err), 1);
	assert_string_equal(s.authcid, "bob");

	sasl_begin(&s, SASL_MECH_LOGIN);
	assert_int_equal(step(&s, NULL, false, &chal, &err), 0);
	assert_int_equal(step(&s, "=", false, &chal, &err), -1);
	sasl_begin(&s, SASL_MECH_LOGIN);
	assert_int_equal(step(&s, "a|b", true, &chal, &err), -1);
	sasl_reset(&s);
	buf_free(&chal);
}

static void test_mech_names(void **state)
{
	enum sasl_mech m;
	assert_int_equal(sasl_mech_parse("plain", &m), 0);
	assert_int_equal(m, SASL_MECH_PLAIN);
	assert_int_equal(sasl_mech_parse("LOGIN", &m), 0);
	assert_int_equal(m, SASL_MECH_LOGIN);
	assert_int_equal(sasl_mech_parse("CRAM-MD5", &m), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_vectors),
		cmocka_unit_test(test_base64_strict),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_login),
		cmocka_unit_test(test_mech_names),
	};
	return cmocka_run_group_tests_name("sasl", tests, NULL, NULL);
}
