/* Unit tests for proto/spf_record.c: RFC 7208 record syntax (mechanisms,
 * qualifiers, CIDR lengths, modifiers, the errors that make a permerror)
 * and the macro examples of section 7.4. */
#include "autoconf.h"
#include "spf_record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static struct spf_record rec;

static int parse(const char *s)
{
	const char *err = NULL;
	int r = spf_record_parse(s, strlen(s), &rec, &err);
	if (r < 0)
		assert_non_null(err);
	return r;
}

static void test_is_record(void **state)
{
	(void)state;
	assert_true(spf_is_record("v=spf1", 6));
	assert_true(spf_is_record("v=spf1 -all", 11));
	assert_true(spf_is_record("V=SPF1 -all", 11));
	assert_false(spf_is_record("v=spf10 -all", 12));
	assert_false(spf_is_record("v=spf1-all", 10));
	assert_false(spf_is_record("spf1", 4));
}

static void test_mechanisms(void **state)
{
	(void)state;
	assert_int_equal(parse("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a mx:mail.example.org/24//64"
			       " ptr include:_spf.example.com exists:%{i}.x.example.com ~all"), 0);
	assert_int_equal(rec.nterms, 8);
	assert_int_equal(rec.terms[0].mech, SPF_MECH_IP4);
	assert_int_equal(rec.terms[0].cidr4, 24);
	assert_int_equal(rec.terms[0].addr[0], 192);
	assert_int_equal(rec.terms[1].mech, SPF_MECH_IP6);
	assert_int_equal(rec.terms[1].cidr6, 32);
	assert_int_equal(rec.terms[2].mech, SPF_MECH_A);
	assert_int_equal(rec.terms[2].domain_len, 0);
	assert_int_equal(rec.terms[2].cidr4, 32);
	assert_int_equal(rec.terms[2].cidr6, 128);
	assert_int_equal(rec.terms[3].mech, SPF_MECH_MX);
	assert_int_equal(rec.terms[3].cidr4, 24);
	assert_int_equal(rec.terms[3].cidr6, 64);
	assert_memory_equal(rec.terms[3].domain, "mail.example.org", 16);
	assert_int_equal(rec.terms[3].domain_len, 16);
	assert_int_equal(rec.terms[5].mech, SPF_MECH_INCLUDE);
	assert_int_equal(rec.terms[7].mech, SPF_MECH_ALL);
	assert_int_equal(rec.terms[7].qualifier, SPF_Q_SOFTFAIL);
	assert_int_equal(rec.terms[0].qualifier, SPF_Q_PASS);
	/* a//64: only the IPv6 length */
	assert_int_equal(parse("v=spf1 a//64 -all"), 0);
	assert_int_equal(rec.terms[0].cidr4, 32);
	assert_int_equal(rec.terms[0].cidr6, 64);
	/* names are case-insensitive, extra spaces allowed */
	assert_int_equal(parse("v=spf1  IP4:10.0.0.1   -ALL "), 0);
	assert_int_equal(rec.nterms, 2);
}

static void test_modifiers(void **state)
{
	(void)state;
	assert_int_equal(parse("v=spf1 redirect=_spf.example.com exp=explain.example.com"), 0);
	assert_non_null(rec.redirect);
	assert_int_equal(rec.redirect_len, 16);
	assert_non_null(rec.exp);
	/* unknown modifiers are ignored, but must have a valid macro-string */
	assert_int_equal(parse("v=spf1 foo=bar -all"), 0);
	assert_int_equal(rec.nterms, 1);
	assert_int_equal(parse("v=spf1 redirect=a.example redirect=b.example"), -1);
	assert_int_equal(parse("v=spf1 exp=a.example exp=b.example"), -1);
	assert_int_equal(parse("v=spf1 foo=%{z}"), -1);
}

static void test_errors(void **state)
{
	(void)state;
	const char *bad[] = {
		"v=spf1 ip4:300.1.1.1",
		"v=spf1 ip4:192.0.2.1/33",
		"v=spf1 ip6:2001:db8::/129",
		"v=spf1 ip4:192.0.2.1/024",
		"v=spf1 all:foo",
		"v=spf1 include",
		"v=spf1 include:",
		"v=spf1 frobnicate",
		"v=spf1 a:example.123",
		"v=spf1 a:%{q}.example.com",
		"v=spf1 mx:example.com/",
		"v=spf1 a:%",
		"v=spf1 -exists:foo%example.com",
		"v=spf1 +-all",
		"v=spf1\t-all",
		"v=spf2 -all",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i]) != -1)
			fail_msg("accepted: %s", bad[i]);
	}
}

static void expand(const char *spec, bool exp, const char *want)
{
	struct spf_macro_ctx ctx = {
		.sender = "strong-bad@email.example.com", .local = "strong-bad",
		.sender_domain = "email.example.com", .domain = "email.example.com",
		.ip = "192.0.2.3", .ptr = "unknown", .helo = "mx.example.org",
		.client_ip = "192.0.2.3", .receiver = "mx.local.test", .now = 1234,
	};
	char out[512];
	const char *err = NULL;
	int n = spf_macro_expand(spec, strlen(spec), &ctx, exp, false, out, sizeof(out), &err);
	if (n < 0)
		fail_msg("%s: %s", spec, err);
	assert_string_equal(out, want);
}

static void test_macros_rfc_examples(void **state)
{
	(void)state;
	/* RFC 7208 7.4 */
	expand("%{s}", false, "strong-bad@email.example.com");
	expand("%{o}", false, "email.example.com");
	expand("%{d}", false, "email.example.com");
	expand("%{d4}", false, "email.example.com");
	expand("%{d3}", false, "email.example.com");
	expand("%{d2}", false, "example.com");
	expand("%{d1}", false, "com");
	expand("%{dr}", false, "com.example.email");
	expand("%{d2r}", false, "example.email");
	expand("%{l}", false, "strong-bad");
	expand("%{l-}", false, "strong.bad");
	expand("%{lr}", false, "strong-bad");
	expand("%{lr-}", false, "bad.strong");
	expand("%{l1r-}", false, "strong");
	expand("%{ir}.%{v}._spf.%{d2}", false, "3.2.0.192.in-addr._spf.example.com");
	expand("%{lr-}.lp._spf.%{d2}", false, "bad.strong.lp._spf.example.com");
	expand("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", false,
	       "bad.strong.lp.3.2.0.192.in-addr._spf.example.com");
	expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", false,
	       "3.2.0.192.in-addr.strong.lp._spf.example.com");
	expand("%{d2}.trusted-domains.example.net", false, "example.com.trusted-domains.example.net");
	expand("%%%_%-", false, "% %20");
	expand("%{S}", false, "strong-bad%40email.example.com");
	expand("%{c} %{r} %{t}", true, "192.0.2.3 mx.local.test 1234");
}

static void test_macros_ipv6_and_limits(void **state)
{
	(void)state;
	unsigned char a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0xcb };
	char ip[80];
	spf_ip_macro(a6, true, ip, sizeof(ip));
	assert_string_equal(ip, "2.0.0.1.0.d.b.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.c.b");
	/* c, r, t outside explanations are errors */
	char out[64];
	const char *err;
	struct spf_macro_ctx ctx = { .sender = "", .local = "", .sender_domain = "", .domain = "d",
				     .ip = "1.2.3.4", .helo = "" };
	assert_int_equal(spf_macro_expand("%{c}", 4, &ctx, false, false, out, sizeof(out), &err), -1);
	/* a domain is cut from the left to 253 octets */
	char longd[400];
	memset(longd, 0, sizeof(longd));
	for (int i = 0; i < 60; i++)
		strcat(longd, "abcde.");
	strcat(longd, "example");
	char big[600];
	struct spf_macro_ctx c2 = ctx;
	c2.domain = longd;
	int n = spf_macro_expand("%{d}", 4, &c2, false, true, big, sizeof(big), &err);
	assert_true(n > 0 && n <= 253);
	assert_string_equal(big + n - 8, ".example");
	/* no room: an error, never an overflow */
	assert_int_equal(spf_macro_expand("%{d}", 4, &c2, false, false, out, sizeof(out), &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_record),
		cmocka_unit_test(test_mechanisms),
		cmocka_unit_test(test_modifiers),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_macros_rfc_examples),
		cmocka_unit_test(test_macros_ipv6_and_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
