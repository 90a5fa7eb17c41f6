/* [routes]: the route value parser, the domain check, lookup with the "*"
 * smarthost and MX fallback, and the config loader's map section (FILE:LINE
 * errors for bad entries, duplicates, unknown settings). */
#include "autoconf.h"
#include "config.h"
#include "route.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

static void test_parse_hostport(void **state)
{
	struct route r;
	char why[256];
	(void)state;
	assert_int_equal(route_parse("127.0.0.1:2626", &r, why, sizeof(why)), 0);
	assert_string_equal(r.host, "127.0.0.1");
	assert_int_equal(r.port, 2626);
	assert_int_equal(r.tls, ROUTE_TLS_MAY);
	assert_false(r.mx);
	assert_int_equal(route_parse("mail.example.test", &r, why, sizeof(why)), 0);
	assert_string_equal(r.host, "mail.example.test");
	assert_int_equal(r.port, 25);
	assert_int_equal(route_parse("[::1]:587 tls=verify", &r, why, sizeof(why)), 0);
	assert_string_equal(r.host, "::1");
	assert_int_equal(r.port, 587);
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	assert_int_equal(route_parse("  relay.test:25   tls=none ", &r, why, sizeof(why)), 0);
	assert_int_equal(r.tls, ROUTE_TLS_NONE);
	/* "mx:PORT": the domain's own MX hosts on another port. */
	assert_int_equal(route_parse("mx:2525 tls=require", &r, why, sizeof(why)), 0);
	assert_true(r.mx);
	assert_int_equal(r.port, 2525);
	assert_int_equal(r.tls, ROUTE_TLS_REQUIRE);
	assert_int_equal(route_parse("MX", &r, why, sizeof(why)), 0);
	assert_true(r.mx);
	assert_int_equal(r.port, 25);
	assert_int_equal(route_parse("mx:0", &r, why, sizeof(why)), -1);
	assert_int_equal(route_parse("mx:", &r, why, sizeof(why)), -1);
	/* A host that merely starts with "mx" is a host. */
	assert_int_equal(route_parse("mx1.test:26", &r, why, sizeof(why)), 0);
	assert_false(r.mx);
	assert_string_equal(r.host, "mx1.test");
}

static void test_parse_auth(void **state)
{
	struct route r;
	char why[256];
	(void)state;
	/* auth= alone implies tls=verify: a password goes neither in clear nor
	 * to a server whose certificate was not checked (issue 18). */
	assert_int_equal(route_parse("smart.test:587 auth=relay:/etc/cairn/relay.pw", &r, why,
				     sizeof(why)), 0);
	assert_string_equal(r.auth_user, "relay");
	assert_string_equal(r.auth_password_file, "/etc/cairn/relay.pw");
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	assert_int_equal(route_parse("smart.test:587 tls=verify auth=relay:/x", &r, why,
				     sizeof(why)), 0);
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	assert_int_equal(route_parse("smart.test:587 auth=relay:/x tls=verify", &r, why,
				     sizeof(why)), 0);
	assert_int_equal(r.tls, ROUTE_TLS_VERIFY);
	const char *weak[] = { "none", "may", "require" };
	for (size_t i = 0; i < 3; i++) {
		char line[128];
		snprintf(line, sizeof(line), "smart.test:587 tls=%s auth=relay:/x", weak[i]);
		assert_int_equal(route_parse(line, &r, why, sizeof(why)), -1);
		assert_non_null(strstr(why, "tls=verify"));
		snprintf(line, sizeof(line), "smart.test:587 auth=relay:/x tls=%s", weak[i]);
		assert_int_equal(route_parse(line, &r, why, sizeof(why)), -1);
	}
	/* Without auth= nothing changes: tls=require stays what it says. */
	assert_int_equal(route_parse("smart.test:587 tls=require", &r, why, sizeof(why)), 0);
	assert_int_equal(r.tls, ROUTE_TLS_REQUIRE);
	assert_int_equal(route_parse("smart.test:587 auth=relay", &r, why, sizeof(why)), -1);
	assert_int_equal(route_parse("smart.test:587 auth=:/x", &r, why, sizeof(why)), -1);
	assert_int_equal(route_parse("smart.test:587 auth=u:relative", &r, why, sizeof(why)), -1);
}

static void test_parse_errors(void **state)
{
	struct route r;
	char why[256];
	(void)state;
	const char *bad[] = {
		"", "   ", "host:0", "host:65536", "host:x", "::1:25", "[::1", "[zz]:25", "[::1]x",
		"bad_host!:25", "host:25 tls=maybe", "host:25 speed=fast", "host:25 tls",
		"-lead.test:25", "trail-.test:25", "a..b:25", ".lead.test:25",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (route_parse(bad[i], &r, why, sizeof(why)) != -1)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(why[0] != '\0');
	}
	assert_int_equal(route_check("remote.test", "127.0.0.1:2626", why, sizeof(why)), 0);
	assert_int_equal(route_check("*", "smart.test:25", why, sizeof(why)), 0);
	assert_int_equal(route_check("bad domain", "127.0.0.1:25", why, sizeof(why)), -1);
	assert_int_equal(route_check("x@y", "127.0.0.1:25", why, sizeof(why)), -1);
}

/* Write text to a temporary file and load it. */
static int load(const char *text, struct config **cfg_r, struct buf *errors, char *path, size_t size)
{
	snprintf(path, size, "/tmp/cairn-test-route-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	buf_init(errors, 0);
	int ret = config_load(path, cfg_r, errors);
	unlink(path);
	return ret;
}

static void test_config_map(void **state)
{
	struct config *cfg;
	struct buf errors;
	char path[64];
	(void)state;
	route_register_config();
	assert_int_equal(load("[server]\nhostname = mx.test\n[routes]\n"
			      "remote.test = 127.0.0.1:2626\n"
			      "Other.Test = [::1]:25 tls=require\n"
			      "* = smart.test:587\n"
			      "[queue]\nrunners = 2\nlifetime = 1h\n",
			      &cfg, &errors, path, sizeof(path)), 0);
	buf_free(&errors);
	assert_int_equal(cfg->routes.count, 3);
	assert_string_equal(cfg->routes.entries[0].key, "remote.test");
	assert_int_equal(cfg->routes.entries[0].line, 4);
	assert_int_equal(cfg->queue.runners, 2);
	assert_int_equal(cfg->queue.lifetime_ms, 3600 * 1000);
	struct route r;
	route_find(cfg, "remote.test", &r);
	assert_false(r.mx);
	assert_int_equal(r.port, 2626);
	route_find(cfg, "other.test", &r);	/* keys are case-insensitive */
	assert_int_equal(r.tls, ROUTE_TLS_REQUIRE);
	route_find(cfg, "elsewhere.test", &r);	/* the smarthost */
	assert_string_equal(r.host, "smart.test");
	config_free(&cfg);

	/* Without "*", an unrouted domain goes by MX. */
	assert_int_equal(load("[routes]\nremote.test = 127.0.0.1:2626\n", &cfg, &errors, path,
			      sizeof(path)), 0);
	buf_free(&errors);
	route_find(cfg, "elsewhere.test", &r);
	assert_true(r.mx);
	assert_int_equal(r.port, 25);
	config_free(&cfg);
}

static void test_config_map_errors(void **state)
{
	struct config *cfg;
	struct buf errors;
	char path[64], expect[256];
	(void)state;
	route_register_config();
	assert_int_equal(load("[routes]\n"
			      "remote.test = 127.0.0.1:0\n"
			      "ok.test = 127.0.0.1:25\n"
			      "OK.test = 127.0.0.1:26\n"
			      "bad domain = 127.0.0.1:25\n"
			      "x.test = host:25 tls=sometimes\n",
			      &cfg, &errors, path, sizeof(path)), -1);
	assert_null(cfg);
	snprintf(expect, sizeof(expect), "%s:2: [routes] remote.test: port must be", path);
	assert_non_null(strstr(errors.data, expect));
	snprintf(expect, sizeof(expect), "%s:4: duplicate entry 'OK.test' in [routes] (already set on line 3)", path);
	assert_non_null(strstr(errors.data, expect));
	snprintf(expect, sizeof(expect), "%s:5: [routes] bad domain: ", path);
	assert_non_null(strstr(errors.data, expect));
	snprintf(expect, sizeof(expect), "%s:6: [routes] x.test: tls=sometimes", path);
	assert_non_null(strstr(errors.data, expect));
	buf_free(&errors);

	assert_int_equal(load("[queue]\nretry_min = soon\n", &cfg, &errors, path, sizeof(path)), -1);
	snprintf(expect, sizeof(expect), "%s:2: [queue] retry_min:", path);
	assert_non_null(strstr(errors.data, expect));
	buf_free(&errors);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_hostport),
		cmocka_unit_test(test_parse_auth),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_config_map),
		cmocka_unit_test(test_config_map_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
