/* Unit tests for server/core/config.c: each case writes a real file with
 * mkstemp, loads it, and checks the values or the exact "FILE:LINE: message"
 * errors. Value parsers and the listen list are also tested on their own. */
#include "autoconf.h"
#include "config.h"
#include "log.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

/* Most files disable HTTPS so that no certificate is needed. */
#define NO_TLS "[http]\nlisten_tls =\n"

struct loaded {
	char path[64];
	struct config *cfg;
	struct buf errors;
	int ret;
};

static void write_file(char *path, const void *data, size_t len)
{
	strcpy(path, "/tmp/cairn-test-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void load_bytes(struct loaded *l, const void *data, size_t len)
{
	write_file(l->path, data, len);
	buf_init(&l->errors, 0);
	l->cfg = NULL;
	l->ret = config_load(l->path, &l->cfg, &l->errors);
	/* Success and errors never come together. */
	if (l->ret == 0) {
		assert_non_null(l->cfg);
		assert_int_equal(l->errors.len, 0);
	} else {
		assert_int_equal(l->ret, -1);
		assert_null(l->cfg);
		assert_true(l->errors.len > 0);
	}
}

static void load_text(struct loaded *l, const char *text)
{
	load_bytes(l, text, strlen(text));
}

static void unload(struct loaded *l)
{
	config_free(&l->cfg);
	buf_free(&l->errors);
	unlink(l->path);
}

static size_t count_lines(const struct buf *b)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

/* The errors hold exactly this line, "PATH" replaced by the file name. */
static void ATTR_PRINTF(2, 3) assert_has_error(const struct loaded *l, const char *fmt, ...)
{
	char want[1024], line[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(want, sizeof(want), fmt, ap);
	va_end(ap);
	snprintf(line, sizeof(line), "%s%s\n", l->path, want);
	const char *data = l->errors.data ? l->errors.data : "";
	for (const char *p = data; (p = strstr(p, line)) != NULL; p++) {
		if (p == data || p[-1] == '\n')
			return;
	}
	fail_msg("expected error line:\n  %s\ngot:\n%s", line, data);
}

/* Load text that must fail with exactly one error, and check it. */
static void check_one_error(const char *text, const char *want)
{
	struct loaded l;
	load_text(&l, text);
	assert_int_equal(l.ret, -1);
	assert_has_error(&l, "%s", want);
	if (count_lines(&l.errors) != 1)
		fail_msg("expected one error, got:\n%s", l.errors.data);
	unload(&l);
}

static void check_ok(const char *text)
{
	struct loaded l;
	load_text(&l, text);
	if (l.ret != 0)
		fail_msg("expected success for:\n%s\ngot:\n%s", text, l.errors.data);
	unload(&l);
}

static void test_defaults(void **state)
{
	struct config *cfg = config_defaults();

	assert_null(cfg->path);
	assert_string_equal(cfg->server.hostname, "");
	assert_string_equal(cfg->server.user, "cairn");
	assert_string_equal(cfg->server.group, "");
	assert_int_equal(cfg->server.workers, 4);
	assert_int_equal(cfg->server.max_connections, 30000);
	assert_int_equal(cfg->server.max_connections_per_ip, 100);
	assert_int_equal(cfg->server.ipv4_prefix, 32);
	assert_int_equal(cfg->server.ipv6_prefix, 64);
	assert_string_equal(cfg->server.pid_file, "");
	assert_int_equal(cfg->server.log_target, CONFIG_LOG_STDERR);
	assert_int_equal(cfg->server.log_level, LOG_LEVEL_INFO);
	assert_int_equal(cfg->server.shutdown_timeout_ms, 10000);
	assert_false(cfg->server.loopback_is_secure);
	assert_string_equal(cfg->tls.cert_file, "");
	assert_string_equal(cfg->tls.key_file, "");
	assert_string_equal(cfg->tls.chain_file, "");
	assert_int_equal(cfg->tls.min_version, CONFIG_TLS_1_2);
	assert_string_equal(cfg->store.conninfo, "dbname=cairn");
	assert_non_null(strstr(cfg->store.migrations_dir, "/migrations"));
	assert_int_equal(cfg->store.connect_timeout_ms, 5000);
	assert_int_equal(cfg->store.statement_timeout_ms, 30000);
	assert_int_equal(cfg->store.reconnect_interval_ms, 1000);
	/* /metrics has no authentication: by default only loopback reaches it. */
	assert_string_equal(cfg->http.listen, "127.0.0.1:8080");
	{
		struct config_listen_addr a[4];
		const char *err;
		int n = config_parse_listen(cfg->http.listen, a, 4, &err);
		assert_true(n >= 1);
		for (int i = 0; i < n; i++)
			assert_true(strcmp(a[i].host, "127.0.0.1") == 0 || strcmp(a[i].host, "::1") == 0);
	}
	assert_string_equal(cfg->http.listen_tls, "");
	assert_int_equal(cfg->http.idle_timeout_ms, 60000);
	assert_int_equal(cfg->http.max_head, 16384);
	assert_int_equal(cfg->http.max_body, 10 * 1024 * 1024);
	assert_int_equal(cfg->http.max_requests, 1000);
	config_free(&cfg);
	assert_null(cfg);
	config_free(&cfg);	/* freeing NULL is a no-op */
}

/* The table itself: defaults in range, help present, offsets distinct. */
static void test_option_table(void **state)
{
	size_t n = 0;
	for (const struct config_option *o = config_options; o->name != NULL; o++, n++) {
		assert_non_null(o->section);
		assert_non_null(o->def);
		assert_non_null(o->help);
		assert_true(strlen(o->help) > 10);
		assert_int_equal(o->help[strlen(o->help) - 1], '.');
		/* Lower case, '_' and digits (ipv4_prefix), never a digit first. */
		assert_true(o->name[0] >= 'a' && o->name[0] <= 'z');
		for (const char *c = o->name; *c != '\0'; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_');
		if (o->type == CONFIG_UINT || o->type == CONFIG_SIZE || o->type == CONFIG_DURATION) {
			uint64_t v = 0;
			assert_true(o->min <= o->max);
			if (o->type == CONFIG_SIZE)
				assert_int_equal(config_parse_size(o->def, &v), 0);
			else if (o->type == CONFIG_DURATION)
				assert_int_equal(config_parse_duration(o->def, &v), 0);
			else
				assert_int_equal(str_to_u64(o->def, strlen(o->def), UINT64_MAX, &v), 0);
			assert_true(v >= o->min && v <= o->max);
		}
		if (o->type == CONFIG_ENUM)
			assert_non_null(o->enum_values);
		for (const struct config_option *p = config_options; p != o; p++) {
			assert_true(p->offset != o->offset);
			assert_false(strcmp(p->section, o->section) == 0 && strcmp(p->name, o->name) == 0);
		}
	}
	/* Update when options are added; docs/configuration.md is checked too. */
	assert_int_equal(n, 257);	/* 122 + [managesieve] 6 + [sieve] 15 + [scan] 24 + content checks 48 + [webadmin] 7 + [http] DAV 5 + GAL 14 + [directory] resources 8 + merged issue-15 branches 6 + GAL refresh 2 */
}

static void test_all_types(void **state)
{
	struct loaded l;
	load_text(&l,
		  "[server]\n"
		  "hostname = mail.example.test\n"
		  "user = mail\n"
		  "group = mailgrp\n"
		  "workers = 16\n"
		  "max_connections = 500\n"
		  "max_connections_per_ip = 0\n"
		  "pid_file = /run/cairn.pid\n"
		  "log_target = SYSLOG\n"
		  "log_level = error\n"
		  "shutdown_timeout = 1m\n"
		  "loopback_is_secure = On\n"
		  "[tls]\n"
		  "cert_file = /etc/cairn/cert.pem\n"
		  "key_file = /etc/cairn/key.pem\n"
		  "chain_file = /etc/cairn/chain.pem\n"
		  "min_version = 1.3\n"
		  "[store]\n"
		  "conninfo = host=db dbname=mail user=cairn\n"
		  "migrations_dir = /opt/cairn/migrations\n"
		  "connect_timeout = 2500ms\n"
		  "statement_timeout = 0\n"
		  "reconnect_interval = 100ms\n"
		  "[http]\n"
		  "listen = 127.0.0.1:8080, [::1]:8080\n"
		  "listen_tls = *:8443\n"
		  "idle_timeout = 1h\n"
		  "max_head = 64k\n"
		  "max_body = 1G\n"
		  "max_requests = 7\n");
	assert_int_equal(l.ret, 0);
	struct config *c = l.cfg;
	assert_string_equal(c->path, l.path);
	assert_string_equal(c->server.hostname, "mail.example.test");
	assert_string_equal(c->server.user, "mail");
	assert_string_equal(c->server.group, "mailgrp");
	assert_int_equal(c->server.workers, 16);
	assert_int_equal(c->server.max_connections, 500);
	assert_int_equal(c->server.max_connections_per_ip, 0);
	assert_string_equal(c->server.pid_file, "/run/cairn.pid");
	assert_int_equal(c->server.log_target, CONFIG_LOG_SYSLOG);
	assert_int_equal(c->server.log_level, LOG_LEVEL_ERR);
	assert_int_equal(c->server.shutdown_timeout_ms, 60000);
	assert_true(c->server.loopback_is_secure);
	assert_string_equal(c->tls.cert_file, "/etc/cairn/cert.pem");
	assert_string_equal(c->tls.key_file, "/etc/cairn/key.pem");
	assert_string_equal(c->tls.chain_file, "/etc/cairn/chain.pem");
	assert_int_equal(c->tls.min_version, CONFIG_TLS_1_3);
	assert_string_equal(c->store.conninfo, "host=db dbname=mail user=cairn");
	assert_string_equal(c->store.migrations_dir, "/opt/cairn/migrations");
	assert_int_equal(c->store.connect_timeout_ms, 2500);
	assert_int_equal(c->store.statement_timeout_ms, 0);
	assert_int_equal(c->store.reconnect_interval_ms, 100);
	assert_string_equal(c->http.listen, "127.0.0.1:8080, [::1]:8080");
	assert_string_equal(c->http.listen_tls, "*:8443");
	assert_int_equal(c->http.idle_timeout_ms, 3600000);
	assert_int_equal(c->http.max_head, 65536);
	assert_int_equal(c->http.max_body, 1073741824);
	assert_int_equal(c->http.max_requests, 7);
	unload(&l);
}

static void test_log_levels_match_log_module(void **state)
{
	static const struct { const char *name; enum log_level level; } cases[] = {
		{ "debug", LOG_LEVEL_DEBUG }, { "info", LOG_LEVEL_INFO },
		{ "warn", LOG_LEVEL_WARN }, { "ERROR", LOG_LEVEL_ERR },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char text[128];
		struct loaded l;
		snprintf(text, sizeof(text), "[server]\nlog_level = %s\n" NO_TLS, cases[i].name);
		load_text(&l, text);
		assert_int_equal(l.ret, 0);
		assert_int_equal(l.cfg->server.log_level, cases[i].level);
		unload(&l);
	}
}

static void test_hostname_from_system(void **state)
{
	char host[256] = "";
	struct loaded l;

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	load_text(&l, NO_TLS);
	assert_int_equal(l.ret, 0);
	assert_string_equal(l.cfg->server.hostname, host);
	unload(&l);
}

static void test_empty_file_needs_tls_or_no_https(void **state)
{
	/* Every option has a safe default: an empty file is a valid config. */
	check_ok("");
	check_one_error("[http]\nlisten_tls = *:443\n",
			": [http] listen_tls requires [tls] cert_file and key_file "
			"(or set 'listen_tls =' to serve without implicit TLS)");
	check_ok("[tls]\ncert_file = c.pem\nkey_file = k.pem\n");
	check_ok(NO_TLS);
}

static void test_comments_and_blank_lines(void **state)
{
	struct loaded l;
	load_text(&l,
		  "\xEF\xBB\xBF# leading comment after a BOM\n"
		  "; another comment\n"
		  "\n"
		  "   \t\n"
		  "[server]   ; comment after a section\n"
		  "  workers = 12   ; an inline comment\r\n"
		  "\tuser=nobody\n"
		  "pid_file = /run/a#b\n"
		  "[store]\n"
		  "conninfo = password=a;b\n"
		  "migrations_dir=/m\n"
		  NO_TLS
		  "# last line without newline");
	assert_int_equal(l.ret, 0);
	assert_int_equal(l.cfg->server.workers, 12);
	assert_string_equal(l.cfg->server.user, "nobody");
	assert_string_equal(l.cfg->server.pid_file, "/run/a#b");
	assert_string_equal(l.cfg->store.conninfo, "password=a;b");
	assert_string_equal(l.cfg->store.migrations_dir, "/m");
	unload(&l);
}

static void test_case_insensitive_names(void **state)
{
	struct loaded l;
	load_text(&l, "[SERVER]\nWorkers = 5\n[Http]\nLISTEN_TLS =\n");
	assert_int_equal(l.ret, 0);
	assert_int_equal(l.cfg->server.workers, 5);
	unload(&l);
}

/* Longer than inih's 200-byte line buffer: still one line, value intact. */
static void test_long_line(void **state)
{
	char value[600], text[800];
	struct loaded l;

	memset(value, 'x', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	memcpy(value, "host=", 5);
	snprintf(text, sizeof(text), "[store]\nconninfo =  %s   ; comment\n" NO_TLS "[server]\nworkers = 0\n", value);
	load_text(&l, text);
	assert_int_equal(l.ret, -1);
	/* The line after the long one still has the right number. */
	assert_has_error(&l, ":6: [server] workers: '0' is out of range (from 1 to 256)");
	assert_int_equal(count_lines(&l.errors), 1);
	unload(&l);

	snprintf(text, sizeof(text), "[store]\nconninfo =  %s   ; comment\n" NO_TLS, value);
	load_text(&l, text);
	assert_int_equal(l.ret, 0);
	assert_string_equal(l.cfg->store.conninfo, value);
	unload(&l);

	memset(value, 'y', 300);
	value[300] = '\0';
	snprintf(text, sizeof(text), "[store]\n%s = 1\n" NO_TLS, value);
	load_text(&l, text);
	assert_int_equal(l.ret, -1);
	assert_non_null(strstr(l.errors.data, ":2: unknown option 'yyyyyyyyyyyyyyyyyyyy"));
	assert_int_equal(count_lines(&l.errors), 1);
	unload(&l);
}

static void test_error_missing_file(void **state)
{
	struct buf errors;
	struct config *cfg = (struct config *)&errors;

	buf_init(&errors, 0);
	buf_append_str(&errors, "earlier\n");
	assert_int_equal(config_load("/nonexistent/cairn.conf", &cfg, &errors), -1);
	assert_null(cfg);
	assert_string_equal(errors.data,
			    "earlier\n/nonexistent/cairn.conf: cannot open: No such file or directory\n");
	buf_free(&errors);

	buf_init(&errors, 0);
	assert_int_equal(config_load("/", &cfg, &errors), -1);
	assert_string_equal(errors.data, "/: cannot read: Is a directory\n");
	buf_free(&errors);
}

static void test_error_unknown_section(void **state)
{
	check_one_error(NO_TLS "\n[foo]\nbar = 1\nbaz = 2\n", ":4: unknown section [foo]");
	check_one_error(NO_TLS "[srever]\n", ":3: unknown section [srever]; did you mean [server]?");
	check_one_error(NO_TLS "[]\n", ":3: unknown section []");
}

static void test_error_unknown_option(void **state)
{
	check_one_error("# c\n[http]\nlisten_tls =\nlsten = *:80\n",
			":4: unknown option 'lsten' in [http]; did you mean 'listen'?");
	check_one_error(NO_TLS "[server]\nworker = 2\n",
			":4: unknown option 'worker' in [server]; did you mean 'workers'?");
	check_one_error(NO_TLS "[server]\nWROKERS = 2\n",
			":4: unknown option 'WROKERS' in [server]; did you mean 'workers'?");
	/* Three edits away: no guess. */
	check_one_error(NO_TLS "[server]\nwkrs = 2\n", ":4: unknown option 'wkrs' in [server]");
	/* A real key, but in another section. */
	check_one_error(NO_TLS "[tls]\nlisten = *:80\n", ":4: unknown option 'listen' in [tls]");
}

static void test_error_bad_values(void **state)
{
	check_one_error(NO_TLS "[server]\nloopback_is_secure = maybe\n",
			":4: [server] loopback_is_secure: 'maybe' is not a boolean "
			"(expected yes/no, true/false, on/off or 1/0)");
	check_one_error(NO_TLS "[server]\nworkers = 4x\n",
			":4: [server] workers: '4x' is not a whole number (from 1 to 256)");
	check_one_error(NO_TLS "[server]\nworkers = -1\n",
			":4: [server] workers: '-1' is not a whole number (from 1 to 256)");
	check_one_error(NO_TLS "[server]\nworkers =\n",
			":4: [server] workers: '' is not a whole number (from 1 to 256)");
	check_one_error(NO_TLS "[server]\nlog_target = file\n",
			":4: [server] log_target: 'file' is not one of stderr, syslog");
	check_one_error(NO_TLS "[server]\nlog_level = verbose\n",
			":4: [server] log_level: 'verbose' is not one of debug, info, warn, error");
	check_one_error(NO_TLS "[tls]\nmin_version = 1.1\n",
			":4: [tls] min_version: '1.1' is not one of 1.2, 1.3");
	check_one_error(NO_TLS "[server]\nshutdown_timeout = 10 s\n",
			":4: [server] shutdown_timeout: '10 s' is not a duration such as 500ms, 10s, 5m, 1h "
			"or 2d (from 0s to 1h)");
	check_one_error("[http]\nlisten_tls=\nmax_head = 16kb\n",
			":3: [http] max_head: '16kb' is not a size such as 512, 16k, 10M or 1G (from 1k to 1M)");
	check_one_error(NO_TLS "[directory]\nauth_max_failures_ip = 5\n",
			":4: option 'auth_max_failures_ip' in [directory] is now 'auth_max_failures_net' "
			"(failures now count per client network, see [server] ipv4_prefix and ipv6_prefix)");
	check_one_error("[http]\nlisten_tls=\nlisten = *:80 mail:x\n",
			":3: [http] listen: bad address 'mail:x': port must be a number from 1 to 65535");
	check_one_error("[http]\nlisten_tls =\nlisten = [::1]\n",
			":3: [http] listen: bad address '[::1]': missing ':port' after ']'");
}

static void test_error_long_value_is_cut(void **state)
{
	char text[400], value[201];
	struct loaded l;

	memset(value, '9', 200);
	value[200] = '\0';
	value[0] = 'z';
	snprintf(text, sizeof(text), NO_TLS "[server]\nworkers = %s\n", value);
	load_text(&l, text);
	assert_int_equal(l.ret, -1);
	assert_non_null(strstr(l.errors.data, ":4: [server] workers: 'z9999"));
	assert_non_null(strstr(l.errors.data, "...' is not a whole number"));
	assert_true(l.errors.len < 200);
	unload(&l);
}

static void test_error_duplicate(void **state)
{
	check_one_error(NO_TLS "[server]\nworkers = 2\n\n[store]\n[server]\nWorkers = 3\n",
			":8: duplicate option 'workers' in [server] (already set on line 4)");
	/* Same name in different sections is fine. */
	check_ok("[tls]\ncert_file = c\nkey_file = k\n[http]\nlisten = *:81\n");
}

static void test_error_before_section(void **state)
{
	check_one_error("workers = 2\n" NO_TLS,
			":1: option 'workers' appears before any [section]; did you mean to put it under [server]?");
	check_one_error("\n# c\nfoo = 2\n" NO_TLS, ":3: option 'foo' appears before any [section]");
}

static void test_error_syntax(void **state)
{
	check_one_error(NO_TLS "[server]\ngarbage without equals\nworkers = 3\n",
			":4: syntax error: expected 'name = value' or '[section]'");
	check_one_error(NO_TLS "[server\nworkers = 0\n",
			":3: syntax error: missing ']' in section header");
	check_one_error(NO_TLS "[server]\n= 3\n", ":4: syntax error: missing option name before '='");
	check_one_error(NO_TLS "[server] junk\n", ":3: syntax error: unexpected text after [server]");
	/* An inline comment before the '=' leaves no '=' on the line. */
	check_one_error(NO_TLS "[server]\nworkers ; = 3\n",
			":4: syntax error: expected 'name = value' or '[section]'");
	/* A ';' inside the brackets after a space starts a comment, as in inih. */
	check_one_error(NO_TLS "[server ;x]\n", ":3: syntax error: missing ']' in section header");
	/* An indented line is not a continuation of the previous value. */
	check_one_error(NO_TLS "[server]\nuser = a\n   b\n", ":5: syntax error: expected 'name = value' or '[section]'");
}

static void test_error_nul_byte(void **state)
{
	static const char text[] = "[http]\nlisten_tls =\n[server]\nuser = a\0b\nworkers = 0\n";
	struct loaded l;

	load_bytes(&l, text, sizeof(text) - 1);
	assert_int_equal(l.ret, -1);
	assert_has_error(&l, ":4: syntax error: NUL byte in line");
	assert_has_error(&l, ":5: [server] workers: '0' is out of range (from 1 to 256)");
	assert_int_equal(count_lines(&l.errors), 2);
	unload(&l);
}

static void test_error_cross_field(void **state)
{
	check_one_error("[tls]\ncert_file = c.pem\n", ": [tls] key_file is required when cert_file is set");
	check_one_error(NO_TLS "[tls]\nkey_file = k.pem\n", ": [tls] cert_file is required when key_file is set");
	check_one_error(NO_TLS "[tls]\nchain_file = ch.pem\n",
			": [tls] cert_file is required when chain_file is set");
	check_one_error("[http]\nlisten_tls = *:8443\n",
			": [http] listen_tls requires [tls] cert_file and key_file "
			"(or set 'listen_tls =' to serve without implicit TLS)");
	check_one_error(NO_TLS "[server]\nuser =\ngroup = mail\n",
			": [server] group is set but user is empty (cairnd would not drop privileges)");
	check_ok(NO_TLS "[server]\nuser =\n");
}

static void test_error_duplicate_address(void **state)
{
	check_one_error("[http]\nlisten = *:8080 [::1]:80\nlisten_tls = [::1]:80\n"
			"[tls]\ncert_file = c\nkey_file = k\n",
			": address [::1]:80 is listed twice ([http] listen and [http] listen_tls)");
	check_one_error("[http]\nlisten = *:80,*:80\nlisten_tls =\n",
			": address *:80 is listed twice ([http] listen and [http] listen)");
	check_ok("[http]\nlisten = *:80, 127.0.0.1:80\nlisten_tls =\n");
	/* Across protocols too. */
	check_one_error("[http]\nlisten = *:2110\n[pop3]\nlisten = *:2110\n",
			": address *:2110 is listed twice ([http] listen and [pop3] listen)");
	check_one_error("[pop3]\nlisten_tls = *:995\n",
			": [pop3] listen_tls requires [tls] cert_file and key_file "
			"(or set 'listen_tls =' to serve without implicit TLS)");
}

static void test_multiple_errors(void **state)
{
	struct loaded l;
	load_text(&l,
		  "workers = 3\n"			/* 1 */
		  "[server]\n"				/* 2 */
		  "workers = 0\n"			/* 3 */
		  "garbage\n"				/* 4 */
		  "wrokers = 1\n"			/* 5 */
		  "[bogus]\n"				/* 6 */
		  "x = y\n"				/* 7: skipped, section reported */
		  "[tls]\n"				/* 8 */
		  "cert_file = c\n"			/* 9 */
		  "[http]\n"				/* 10 */
		  "max_body = 2G\n"			/* 11 */
		  "max_body = 1\n"			/* 12 */
		  "listen = 80\n");			/* 13 */
	assert_int_equal(l.ret, -1);
	assert_has_error(&l, ":1: option 'workers' appears before any [section]; did you mean to put it under [server]?");
	assert_has_error(&l, ":3: [server] workers: '0' is out of range (from 1 to 256)");
	assert_has_error(&l, ":4: syntax error: expected 'name = value' or '[section]'");
	assert_has_error(&l, ":5: unknown option 'wrokers' in [server]; did you mean 'workers'?");
	assert_has_error(&l, ":6: unknown section [bogus]");
	assert_has_error(&l, ":11: [http] max_body: '2G' is out of range (from 0 to 1G)");
	assert_has_error(&l, ":12: duplicate option 'max_body' in [http] (already set on line 11)");
	assert_has_error(&l, ":13: [http] listen: bad address '80': missing ':port' "
			 "(expected host:port, *:port or [ipv6]:port)");
	assert_has_error(&l, ": [tls] key_file is required when cert_file is set");
	assert_int_equal(count_lines(&l.errors), 9);
	/* In file order, cross-field checks last. */
	assert_true(strstr(l.errors.data, ":1: ") < strstr(l.errors.data, ":13: "));
	assert_true(strstr(l.errors.data, ":13: ") < strstr(l.errors.data, "key_file is required"));
	unload(&l);
}

static void test_too_many_errors(void **state)
{
	struct buf text;
	struct loaded l;

	buf_init(&text, 0);
	buf_append_str(&text, NO_TLS "[server]\n");
	for (int i = 0; i < 150; i++)
		buf_append_str(&text, "bad line\n");
	load_text(&l, text.data);
	assert_int_equal(l.ret, -1);
	assert_has_error(&l, ":4: syntax error: expected 'name = value' or '[section]'");
	assert_has_error(&l, ":103: syntax error: expected 'name = value' or '[section]'");
	assert_null(strstr(l.errors.data, ":104: "));
	assert_has_error(&l, ": too many errors, giving up");
	assert_int_equal(count_lines(&l.errors), 101);
	unload(&l);
	buf_free(&text);
}

/* One option at a value: accepted or refused as expected. */
static void check_bound(const char *section, const char *name, const char *value, bool ok)
{
	char text[256];
	struct loaded l;

	snprintf(text, sizeof(text), NO_TLS "[%s]\n%s = %s\n", section, name, value);
	load_text(&l, text);
	if (ok && l.ret != 0)
		fail_msg("[%s] %s = %s refused: %s", section, name, value, l.errors.data);
	if (!ok) {
		if (l.ret == 0)
			fail_msg("[%s] %s = %s accepted", section, name, value);
		assert_non_null(strstr(l.errors.data, "is out of range"));
		assert_non_null(strstr(l.errors.data, ":4: "));
	}
	unload(&l);
}

static void test_boundaries(void **state)
{
	check_bound("server", "workers", "1", true);
	check_bound("server", "workers", "256", true);
	check_bound("server", "workers", "0", false);
	check_bound("server", "workers", "257", false);
	check_bound("server", "max_connections", "1000000", true);
	check_bound("server", "max_connections", "1000001", false);
	check_bound("server", "max_connections_per_ip", "0", true);
	check_bound("server", "max_connections_per_ip", "1000001", false);
	check_bound("server", "ipv4_prefix", "8", true);
	check_bound("server", "ipv4_prefix", "7", false);
	check_bound("server", "ipv4_prefix", "33", false);
	check_bound("server", "ipv6_prefix", "16", true);
	check_bound("server", "ipv6_prefix", "128", true);
	check_bound("server", "ipv6_prefix", "15", false);
	check_bound("server", "ipv6_prefix", "129", false);
	check_bound("server", "shutdown_timeout", "0", true);
	check_bound("server", "shutdown_timeout", "1h", true);
	check_bound("server", "shutdown_timeout", "3600001ms", false);
	check_bound("store", "connect_timeout", "1s", true);
	check_bound("store", "connect_timeout", "999ms", false);
	check_bound("store", "connect_timeout", "5m", true);
	check_bound("store", "connect_timeout", "300001ms", false);
	check_bound("store", "statement_timeout", "60m", true);
	check_bound("store", "statement_timeout", "61m", false);
	check_bound("store", "reconnect_interval", "100ms", true);
	check_bound("store", "reconnect_interval", "99ms", false);
	check_bound("store", "reconnect_interval", "60", true);
	check_bound("store", "reconnect_interval", "1m1ms", false);
	check_bound("http", "idle_timeout", "1s", true);
	check_bound("http", "idle_timeout", "999ms", false);
	check_bound("http", "idle_timeout", "3600", true);
	check_bound("http", "idle_timeout", "3601", false);
	check_bound("http", "max_head", "1k", true);
	check_bound("http", "max_head", "1023", false);
	check_bound("http", "max_head", "1M", true);
	check_bound("http", "max_head", "1048577", false);
	check_bound("http", "max_body", "0", true);
	check_bound("http", "max_body", "1G", true);
	check_bound("http", "max_body", "1073741825", false);
	check_bound("http", "max_requests", "1", true);
	check_bound("http", "max_requests", "0", false);
	check_bound("http", "max_requests", "1000000", true);
	check_bound("http", "max_requests", "1000001", false);
	/* Overflowing numbers are out of range, not wrapped around. */
	check_bound("server", "workers", "18446744073709551617", false);
	check_bound("http", "max_body", "17179869184G", false);
	check_bound("http", "idle_timeout", "18446744073709552", false);
	check_bound("http", "idle_timeout", "213503982335d", false);
}

static void test_parse_bool(void **state)
{
	static const char *const yes[] = { "yes", "YES", "true", "True", "on", "ON", "1" };
	static const char *const no[] = { "no", "No", "false", "FALSE", "off", "Off", "0" };
	static const char *const bad[] = { "", "y", "n", "yess", "2", "on ", "enabled", "-1" };
	bool v;

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		v = false;
		assert_int_equal(config_parse_bool(yes[i], &v), 0);
		assert_true(v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(no); i++) {
		v = true;
		assert_int_equal(config_parse_bool(no[i], &v), 0);
		assert_false(v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = true;
		assert_int_equal(config_parse_bool(bad[i], &v), -1);
		assert_true(v);	/* untouched on error */
	}
}

static void test_parse_size(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "512", 512 }, { "16k", 16384 }, { "16K", 16384 },
		{ "10M", 10485760 }, { "10m", 10485760 }, { "1G", 1073741824 }, { "2T", 2199023255552ULL },
		{ "18446744073709551615", UINT64_MAX }, { "17179869183G", 17179869183ULL << 30 },
		{ "0000000000000000000000016k", 16384 },
	};
	static const char *const bad[] = {
		"", "k", "16 k", "16kb", "1.5M", "-1", "+1", "16x", " 16", "16 ", "0x10",
		"18446744073709551616", "17179869184G", "16777216T", "99999999999999999999999k",
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 1;
		if (config_parse_size(ok[i].s, &v) != 0)
			fail_msg("'%s' refused", ok[i].s);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 7;
		if (config_parse_size(bad[i], &v) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(v, 7);
	}
}

static void test_parse_duration(void **state)
{
	static const struct { const char *s; uint64_t v; } ok[] = {
		{ "0", 0 }, { "10", 10000 }, { "500ms", 500 }, { "10s", 10000 }, { "5m", 300000 },
		{ "1h", 3600000 }, { "2d", 172800000 }, { "1h30m", 5400000 }, { "1m1ms", 60001 },
		{ "0ms", 0 }, { "18446744073709551615ms", UINT64_MAX },
		{ "18446744073709551s", 18446744073709551000ULL }, { "213503982334d", 213503982334ULL * 86400000 },
	};
	static const char *const bad[] = {
		"", "s", "ms", "10x", "10 s", "1.5s", "-1s", "10S", "1M", "1h30", "h1", "5mss", "10sm",
		"18446744073709552", "18446744073709552s", "213503982335d", "18446744073709551615ms1ms",
		"99999999999999999999ms",
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		v = 1;
		if (config_parse_duration(ok[i].s, &v) != 0)
			fail_msg("'%s' refused", ok[i].s);
		assert_int_equal(v, ok[i].v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		v = 7;
		if (config_parse_duration(bad[i], &v) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_int_equal(v, 7);
	}
}

static void test_listen_valid(void **state)
{
	struct config_listen_addr a[8];
	const char *error = NULL;

	assert_int_equal(config_parse_listen("", a, 8, &error), 0);
	assert_int_equal(config_parse_listen("  \t ", a, 8, &error), 0);

	assert_int_equal(config_parse_listen("*:80", a, 8, &error), 1);
	assert_string_equal(a[0].host, "");
	assert_int_equal(a[0].port, 80);

	assert_int_equal(config_parse_listen("[::1]:143, 127.0.0.1:25,mail.example.com:587 *:1  host-1:65535",
					     a, 8, &error), 5);
	assert_string_equal(a[0].host, "::1");
	assert_int_equal(a[0].port, 143);
	assert_string_equal(a[1].host, "127.0.0.1");
	assert_int_equal(a[1].port, 25);
	assert_string_equal(a[2].host, "mail.example.com");
	assert_int_equal(a[2].port, 587);
	assert_string_equal(a[3].host, "");
	assert_int_equal(a[3].port, 1);
	assert_string_equal(a[4].host, "host-1");
	assert_int_equal(a[4].port, 65535);

	assert_int_equal(config_parse_listen("[fe80::1%eth0]:993 [::]:993 localhost:8080", a, 8, &error), 3);
	assert_string_equal(a[0].host, "fe80::1%eth0");
	assert_string_equal(a[1].host, "::");
	assert_string_equal(a[2].host, "localhost");

	/* More entries than room: all counted, only max written. */
	memset(a, 0x55, sizeof(a));
	assert_int_equal(config_parse_listen("a:1,b:2,c:3", a, 2, &error), 3);
	assert_string_equal(a[1].host, "b");
	assert_int_equal(a[2].port, 0x55555555);
	assert_int_equal(config_parse_listen("a:1,b:2,c:3", NULL, 0, &error), 3);
}

static void test_listen_invalid(void **state)
{
	static const struct { const char *value, *error; } cases[] = {
		{ "80", "'80': missing ':port' (expected host:port, *:port or [ipv6]:port)" },
		{ ":80", "':80': missing host (use *:port for every address)" },
		{ "*:0", "'*:0': port must be a number from 1 to 65535" },
		{ "*:65536", "'*:65536': port must be a number from 1 to 65535" },
		{ "*:", "'*:': port must be a number from 1 to 65535" },
		{ "*:8x", "'*:8x': port must be a number from 1 to 65535" },
		{ "*:+80", "'*:+80': port must be a number from 1 to 65535" },
		{ "*:80 ::1:80", "'::1:80': IPv6 address must be in brackets, as in [::1]:port" },
		{ "[::1]80", "'[::1]80': missing ':port' after ']'" },
		{ "[::1:80", "'[::1:80': missing ']' after IPv6 address" },
		{ "[zz::1]:80", "'[zz::1]:80': invalid IPv6 address" },
		{ "[]:80", "'[]:80': invalid IPv6 address" },
		{ "[127.0.0.1]:80", "'[127.0.0.1]:80': invalid IPv6 address" },
		{ "[fe80::1%]:80", "'[fe80::1%]:80': invalid IPv6 zone" },
		{ "host_name:80", "'host_name:80': invalid character in host name" },
		{ "-a.com:80", "'-a.com:80': host name label starts with '-'" },
		{ "a-.com:80", "'a-.com:80': host name label ends with '-'" },
		{ "a..com:80", "'a..com:80': empty label in host name" },
		{ "999.1.1.1:80", "'999.1.1.1:80': invalid IPv4 address" },
		{ "1.2.3:80", "'1.2.3:80': invalid IPv4 address" },
		{ "*:80,,*:81", "empty entry in the address list" },
		{ ",*:80", "empty entry in the address list" },
		{ "*:80,", "empty entry in the address list" },
		{ "*:80 , ", "empty entry in the address list" },
	};
	struct config_listen_addr a[4];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *error = NULL;
		if (config_parse_listen(cases[i].value, a, 4, &error) != -1)
			fail_msg("'%s' accepted", cases[i].value);
		assert_non_null(error);
		if (strcmp(error, cases[i].error) != 0)
			fail_msg("'%s': got \"%s\", want \"%s\"", cases[i].value, error, cases[i].error);
	}

	char label[80], host[300];
	const char *error;
	memset(label, 'a', 64);
	label[64] = '\0';
	snprintf(host, sizeof(host), "%s:80", label);
	assert_int_equal(config_parse_listen(host, a, 4, &error), -1);
	assert_non_null(strstr(error, "label longer than 63"));
	label[63] = '\0';
	snprintf(host, sizeof(host), "%s:80", label);
	assert_int_equal(config_parse_listen(host, a, 4, &error), 1);
}

static void test_write_doc(void **state)
{
	struct buf doc;

	buf_init(&doc, 0);
	config_write_doc(&doc);
	assert_non_null(doc.data);
	assert_int_equal(strncmp(doc.data, "# ", 2), 0);
	assert_non_null(strstr(doc.data, CONFIG_DEFAULT_PATH));
	assert_non_null(strstr(doc.data, "cairnctl check-config"));
	assert_non_null(strstr(doc.data, "| option | type | default | range/values | description |"));
	for (const struct config_option *o = config_options; o->name != NULL; o++) {
		char head[64], row[128];
		snprintf(head, sizeof(head), "\n## [%s]\n", o->section);
		assert_non_null(strstr(doc.data, head));
		snprintf(row, sizeof(row), "\n| `%s` | ", o->name);
		/* Under its own section: after its heading, before the next one. */
		const char *h = strstr(doc.data, head);
		const char *p = strstr(h, row);
		if (p == NULL)
			fail_msg("option [%s] %s missing from the doc", o->section, o->name);
		const char *next = strstr(h + 1, "\n## ");
		assert_true(next == NULL || p < next);
		/* The row carries the help text. */
		const char *eol = strchr(p + 1, '\n');
		assert_non_null(eol);
		assert_non_null(memmem(p, (size_t)(eol - p), o->help, strlen(o->help)));
	}
	assert_non_null(strstr(doc.data, "| `workers` | number | `4` | from 1 to 256 |"));
	assert_non_null(strstr(doc.data, "| `max_head` | size | `16k` | from 1k to 1M |"));
	assert_non_null(strstr(doc.data, "| `reconnect_interval` | duration | `1s` | from 100ms to 1m |"));
	assert_non_null(strstr(doc.data, "| `log_level` | enum | `info` | debug, info, warn, error |"));
	buf_free(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_option_table),
		cmocka_unit_test(test_all_types),
		cmocka_unit_test(test_log_levels_match_log_module),
		cmocka_unit_test(test_hostname_from_system),
		cmocka_unit_test(test_empty_file_needs_tls_or_no_https),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_case_insensitive_names),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_error_missing_file),
		cmocka_unit_test(test_error_unknown_section),
		cmocka_unit_test(test_error_unknown_option),
		cmocka_unit_test(test_error_bad_values),
		cmocka_unit_test(test_error_long_value_is_cut),
		cmocka_unit_test(test_error_duplicate),
		cmocka_unit_test(test_error_before_section),
		cmocka_unit_test(test_error_syntax),
		cmocka_unit_test(test_error_nul_byte),
		cmocka_unit_test(test_error_cross_field),
		cmocka_unit_test(test_error_duplicate_address),
		cmocka_unit_test(test_multiple_errors),
		cmocka_unit_test(test_too_many_errors),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_parse_bool),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_listen_valid),
		cmocka_unit_test(test_listen_invalid),
		cmocka_unit_test(test_write_doc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
