/* Unit tests for proto/dkim_sig.c: RFC 6376 tag lists (3.2), the
 * DKIM-Signature checks of 3.5/6.1.1, key records (3.6.1) and base64 with
 * folding whitespace. */
#include "autoconf.h"
#include "dkim_sig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct dkim_signature sig;

static int parse_sig(const char *s, bool arc)
{
	const char *err = NULL;
	int r = dkim_signature_parse(s, strlen(s), arc, &sig, &err);
	if (r < 0)
		assert_non_null(err);
	return r;
}

static void test_tag_list(void **state)
{
	(void)state;
	struct dkim_tag_list l;
	const char *err;
	const char *s = " a = b c ;\r\n\tbb=x;c=;";
	assert_int_equal(dkim_tag_list_parse(s, strlen(s), &l, &err), 0);
	assert_int_equal(l.ntags, 3);
	const struct dkim_tag *t = dkim_tag_find(&l, "a");
	assert_non_null(t);
	assert_int_equal(t->value_len, 3);
	assert_memory_equal(t->value, "b c", 3);
	assert_int_equal(dkim_tag_find(&l, "c")->value_len, 0);
	assert_null(dkim_tag_find(&l, "A"));	/* names are case-sensitive */
	const char *dup = "a=1; a=2";
	assert_int_equal(dkim_tag_list_parse(dup, strlen(dup), &l, &err), -1);
	const char *empty = "a=1;; b=2";
	assert_int_equal(dkim_tag_list_parse(empty, strlen(empty), &l, &err), -1);
	const char *noeq = "a=1; b";
	assert_int_equal(dkim_tag_list_parse(noeq, strlen(noeq), &l, &err), -1);
}

#define GOOD "v=1; a=rsa-sha256; c=relaxed/simple; d=example.com; s=sel; " \
	"h=From : To:subject; bh=MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI=; b=abc\r\n def="

static void test_signature(void **state)
{
	(void)state;
	assert_int_equal(parse_sig(GOOD, false), 0);
	assert_int_equal(sig.algo, DKIM_SIG_RSA_SHA256);
	assert_int_equal(sig.header_canon, DKIM_CANON_RELAXED);
	assert_int_equal(sig.body_canon, DKIM_CANON_SIMPLE);
	assert_int_equal(sig.nh, 3);
	assert_int_equal(sig.h_len[0], 4);
	assert_memory_equal(sig.h[1], "To", 2);
	assert_memory_equal(sig.d, "example.com", 11);
	assert_false(sig.has_l);
	assert_int_equal(parse_sig("v=1; a=ed25519-sha256; d=example.com; s=s; h=from; bh=x; b=y; "
				   "c=relaxed; l=10; t=5; x=6; i=user@sub.example.com", false), 0);
	assert_int_equal(sig.algo, DKIM_SIG_ED25519_SHA256);
	assert_int_equal(sig.header_canon, DKIM_CANON_RELAXED);
	assert_int_equal(sig.body_canon, DKIM_CANON_SIMPLE);	/* c=relaxed alone */
	assert_true(sig.has_l && sig.l == 10);
	assert_non_null(sig.i);
}

static void test_signature_errors(void **state)
{
	(void)state;
	const char *bad[] = {
		"a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",	/* no v */
		"v=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",
		"v=1; a=rsa-md5; d=example.com; s=sel; h=from; bh=x; b=y",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=to:subject; bh=x; b=y",	/* no From */
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x",	/* no b */
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; x=1; t=2",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; i=a@other.com",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; i=a@badexample.com",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; l=abc",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; c=odd/simple",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y; q=http",
		"v=1; a=rsa-sha256; d=ex ample.com; s=sel; h=from; bh=x; b=y",
		"v=1; a=rsa-sha256; d=example.com; s=sel; h=from::to; bh=x; b=y",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse_sig(bad[i], false) != -1)
			fail_msg("accepted: %s", bad[i]);
	/* ARC-Message-Signature: no v=, i= is the instance */
	assert_int_equal(parse_sig("i=2; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",
				   true), 0);
	assert_int_equal(sig.arc_instance, 2);
	assert_int_equal(parse_sig("i=0; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",
				   true), -1);
	assert_int_equal(parse_sig("i=51; a=rsa-sha256; d=example.com; s=sel; h=from; bh=x; b=y",
				   true), -1);
}

static void test_key_record(void **state)
{
	(void)state;
	struct dkim_key_record k;
	const char *err;
	const char *s = "v=DKIM1; k=ed25519; t=y:s; h=sha256; p=abc";
	assert_int_equal(dkim_key_record_parse(s, strlen(s), &k, &err), 0);
	assert_true(k.ed25519 && k.testing && k.strict && k.sha256_allowed);
	assert_int_equal(k.p_len, 3);
	s = "p=";	/* revoked: parses, p_len 0 */
	assert_int_equal(dkim_key_record_parse(s, strlen(s), &k, &err), 0);
	assert_int_equal(k.p_len, 0);
	assert_false(k.ed25519);
	s = "k=rsa; h=sha1; p=abc";
	assert_int_equal(dkim_key_record_parse(s, strlen(s), &k, &err), 0);
	assert_false(k.sha256_allowed);
	const char *bad[] = { "k=rsa; v=DKIM1; p=abc", "v=DKIM2; p=abc", "k=dsa; p=abc",
			      "s=other; p=abc", "v=DKIM1; k=rsa" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dkim_key_record_parse(bad[i], strlen(bad[i]), &k, &err) != -1)
			fail_msg("accepted: %s", bad[i]);
	s = "s=email:*; p=abc";
	assert_int_equal(dkim_key_record_parse(s, strlen(s), &k, &err), 0);
}

static void test_base64(void **state)
{
	(void)state;
	unsigned char out[32];
	const char *s = "aGVs\r\n\tbG8=";
	assert_int_equal(dkim_base64_decode(s, strlen(s), out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(dkim_base64_decode("aGVsbG8", 7, out, sizeof(out)), 5);
	assert_int_equal(dkim_base64_decode("aG=Vs", 5, out, sizeof(out)), -1);
	assert_int_equal(dkim_base64_decode("a!b=", 4, out, sizeof(out)), -1);
	assert_int_equal(dkim_base64_decode("aGVsbG8=", 8, out, 4), -1);	/* no room */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tag_list),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_signature_errors),
		cmocka_unit_test(test_key_record),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
