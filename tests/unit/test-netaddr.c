/* Unit tests for proto/netaddr.c: network keys for IPv4 and IPv6 clients,
 * v4-mapped addresses, canonical spelling, prefix clamping, bad input and
 * short output buffers. */
#include "netaddr.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

static void check(const char *addr, unsigned v4, unsigned v6, const char *want)
{
	char out[NET_KEY_MAX];
	assert_int_equal(net_key(addr, v4, v6, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_ipv4(void **state)
{
	(void)state;
	check("192.0.2.77", 32, 64, "192.0.2.77");
	check("192.0.2.77", 24, 64, "192.0.2.0/24");
	check("192.0.2.77", 16, 64, "192.0.0.0/16");
	check("192.0.2.77", 8, 64, "192.0.0.0/8");
	check("192.0.2.77", 30, 64, "192.0.2.76/30");
	check("192.0.2.77", 0, 64, "0.0.0.0/0");
	check("192.0.2.77", 99, 64, "192.0.2.77");	/* clamped to /32 */
}

static void test_ipv6(void **state)
{
	(void)state;
	check("2001:db8:1:2:3:4:5:6", 32, 64, "2001:db8:1:2::/64");
	/* Two addresses of one /64 share a key: the evasion the issue found. */
	check("2001:db8:1:2:ffff:ffff:ffff:ffff", 32, 64, "2001:db8:1:2::/64");
	check("2001:db8:1:2:3:4:5:6", 32, 48, "2001:db8:1::/48");
	check("2001:db8:1:2:3:4:5:6", 32, 56, "2001:db8:1::/56");
	check("2001:db8:1:2ff:3:4:5:6", 32, 56, "2001:db8:1:200::/56");
	check("2001:db8:1:2:3:4:5:6", 32, 128, "2001:db8:1:2:3:4:5:6/128");
	check("2001:db8:1:2:3:4:5:6", 32, 200, "2001:db8:1:2:3:4:5:6/128");
	check("2001:db8:1:2:3:4:5:6", 32, 0, "::/0");
	check("::1", 32, 64, "::/64");
	check("::1", 32, 128, "::1/128");
	/* Canonical form: upper case and leading zeros give the same key. */
	check("2001:0DB8:0001:0002::0009", 32, 64, "2001:db8:1:2::/64");
}

static void test_v4_mapped(void **state)
{
	(void)state;
	check("::ffff:192.0.2.77", 32, 64, "192.0.2.77");
	check("::ffff:192.0.2.77", 24, 64, "192.0.2.0/24");
	check("::FFFF:c000:024d", 32, 64, "192.0.2.77");
	/* Not mapped: IPv4-compatible (deprecated) is an IPv6 address. */
	check("::192.0.2.77", 32, 128, "::192.0.2.77/128");
	check("::192.0.2.77", 32, 64, "::/64");
}

static void test_bad(void **state)
{
	char out[NET_KEY_MAX];
	(void)state;
	const char *bad[] = { "", "localhost", "192.0.2", "192.0.2.256", "192.0.2.1/24",
		"[::1]", "fe80::1%eth0", "1:2:3:4:5:6:7:8:9", " 192.0.2.1", "192.0.2.1 " };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(net_key(bad[i], 32, 64, out, sizeof(out)), -1);
		assert_string_equal(out, bad[i]);
	}
	/* Unchanged but truncated to the buffer. */
	assert_int_equal(net_key("not-an-address", 32, 64, out, 5), -1);
	assert_string_equal(out, "not-");
}

static void test_short_output(void **state)
{
	char out[NET_KEY_MAX];
	(void)state;
	/* "192.0.2.0/24" needs 13 bytes. */
	assert_int_equal(net_key("192.0.2.7", 24, 64, out, 13), 0);
	assert_string_equal(out, "192.0.2.0/24");
	assert_int_equal(net_key("192.0.2.7", 24, 64, out, 12), -1);
	assert_string_equal(out, "192.0.2.7");
	assert_int_equal(net_key("2001:db8::1", 32, 64, out, 8), -1);
	assert_string_equal(out, "2001:db");
	memset(out, 'x', sizeof(out));
	assert_int_equal(net_key("192.0.2.7", 32, 64, out, 0), -1);
	assert_int_equal(out[0], 'x');
	/* The longest key fits in NET_KEY_MAX. */
	assert_int_equal(net_key("ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", 32, 128,
		out, sizeof(out)), 0);
	assert_string_equal(out, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/128");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_v4_mapped),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_short_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
