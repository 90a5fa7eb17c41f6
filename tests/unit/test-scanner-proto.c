/* Unit tests for the scanner wire formats: proto/clamd (INSTREAM) and
 * proto/spamc (SPAMC/SPAMD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clamd.h"
#include "spamc.h"
#include "rspamd.h"

static void test_clamd_request(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	size_t len = CLAMD_CHUNK_MAX + 10;
	char *msg = malloc(len);
	memset(msg, 'x', len);
	assert_int_equal(clamd_instream_request(msg, len, &b), 0);
	assert_int_equal(b.len, 10 + 4 + CLAMD_CHUNK_MAX + 4 + 10 + 4);
	assert_memory_equal(b.data, "zINSTREAM\0", 10);
	const unsigned char *u = (const unsigned char *)b.data + 10;
	assert_int_equal((u[0] << 24) | (u[1] << 16) | (u[2] << 8) | u[3], CLAMD_CHUNK_MAX);
	u += 4 + CLAMD_CHUNK_MAX;
	assert_int_equal((u[0] << 24) | (u[1] << 16) | (u[2] << 8) | u[3], 10);
	assert_memory_equal(b.data + b.len - 4, "\0\0\0\0", 4);
	buf_free(&b);
	/* an empty message is the command and the end chunk only */
	buf_init(&b, 0);
	assert_int_equal(clamd_instream_request("", 0, &b), 0);
	assert_int_equal(b.len, 14);
	buf_free(&b);
	/* a maximum is honoured */
	buf_init(&b, 100);
	assert_int_equal(clamd_instream_request(msg, len, &b), -1);
	buf_free(&b);
	free(msg);
}

static void test_clamd_reply(void **state)
{
	(void)state;
	enum clamd_verdict v;
	char name[64];
	assert_int_equal(clamd_parse_reply("stream: OK", 10, &v, name, sizeof(name)), 0);
	assert_int_equal(clamd_parse_reply("stream: OK", 11, &v, name, sizeof(name)), 1);
	assert_int_equal(v, CLAMD_CLEAN);
	const char *r = "stream: Win.Test.EICAR_HDB-1 FOUND";
	assert_int_equal(clamd_parse_reply(r, strlen(r) + 1, &v, name, sizeof(name)), 1);
	assert_int_equal(v, CLAMD_VIRUS);
	assert_string_equal(name, "Win.Test.EICAR_HDB-1");
	r = "1: stream: Cairn.Test.Body.UNOFFICIAL FOUND\n";
	assert_int_equal(clamd_parse_reply(r, strlen(r), &v, name, sizeof(name)), 1);
	assert_int_equal(v, CLAMD_VIRUS);
	assert_string_equal(name, "Cairn.Test.Body.UNOFFICIAL");
	r = "INSTREAM size limit exceeded. ERROR";
	assert_int_equal(clamd_parse_reply(r, strlen(r) + 1, &v, name, sizeof(name)), 1);
	assert_int_equal(v, CLAMD_ERROR);
	assert_string_equal(name, "INSTREAM size limit exceeded.");
	/* the name is truncated and made printable */
	r = "stream: A\x01" "BCDEFGHIJ FOUND";
	assert_int_equal(clamd_parse_reply(r, strlen(r) + 1, &v, name, 5), 1);
	assert_string_equal(name, "A?BC");
	assert_int_equal(clamd_parse_reply("HTTP/1.0 200 OK\r\n", 17, &v, name, sizeof(name)), -1);
	assert_int_equal(clamd_parse_reply("stream: maybe", 14, &v, name, sizeof(name)), -1);
	char big[CLAMD_REPLY_MAX + 2];
	memset(big, 'a', sizeof(big));
	assert_int_equal(clamd_parse_reply(big, sizeof(big), &v, name, sizeof(name)), -1);
}

static void test_spamc_request(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(spamc_request(SPAMC_SYMBOLS, "ann", "Subject: x\r\n\r\nhi\r\n", 18, &b), 0);
	assert_string_equal(b.data, "SYMBOLS SPAMC/1.5\r\nContent-length: 18\r\nUser: ann\r\n\r\n"
				    "Subject: x\r\n\r\nhi\r\n");
	buf_reset(&b);
	assert_int_equal(spamc_request(SPAMC_REPORT, NULL, "x", 1, &b), 0);
	assert_string_equal(b.data, "REPORT SPAMC/1.5\r\nContent-length: 1\r\n\r\nx");
	assert_int_equal(spamc_request(SPAMC_CHECK, "a\r\nUser: b", "x", 1, &b), -1);
	buf_free(&b);
}

static void test_spamc_reply(void **state)
{
	(void)state;
	struct spamc_reply rep;
	const char *error;
	const char *r = "SPAMD/1.1 0 EX_OK\r\nContent-length: 18\r\nSpam: True ; 1004.2 / 5.0\r\n\r\n"
			"GTUBE,MISSING_DATE";
	size_t n = strlen(r);
	/* every prefix needs more */
	for (size_t i = 0; i < n; i++)
		assert_int_equal(spamc_parse_reply(r, i, false, &rep, &error), 0);
	assert_int_equal(spamc_parse_reply(r, n, false, &rep, &error), 1);
	assert_int_equal(rep.code, 0);
	assert_true(rep.spam);
	assert_true(rep.score > 1004.19 && rep.score < 1004.21);
	assert_true(rep.threshold == 5.0);
	assert_int_equal(rep.body_len, 18);
	size_t pos = 0;
	const char *name;
	size_t l = spamc_next_symbol(rep.body, rep.body_len, &pos, &name);
	assert_int_equal(l, 5);
	assert_memory_equal(name, "GTUBE", 5);
	l = spamc_next_symbol(rep.body, rep.body_len, &pos, &name);
	assert_int_equal(l, 12);
	assert_memory_equal(name, "MISSING_DATE", 12);
	assert_int_equal(spamc_next_symbol(rep.body, rep.body_len, &pos, &name), 0);
	/* cut short at EOF */
	assert_int_equal(spamc_parse_reply(r, n - 1, true, &rep, &error), -1);
	/* ham, no length: the body runs to EOF */
	r = "SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.5 / 5.0\r\n\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), false, &rep, &error), 0);
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), 1);
	assert_false(rep.spam);
	assert_true(rep.score == -0.5);
	/* errors */
	r = "SPAMD/1.0 76 Bad header line: x\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), -1);
	assert_int_equal(rep.code, 76);
	r = "HTTP/1.1 200 OK\r\n\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), false, &rep, &error), -1);
	r = "SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 1 / 5\r\n\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), -1);
	r = "SPAMD/1.1 0 EX_OK\r\nSpam: True ; 1 / \r\n\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), -1);
	r = "SPAMD/1.1 0 EX_OK\r\nContent-length: 1\r\n\r\nx";
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), -1);
	r = "SPAMD/1.1 0 EX_OK\r\nContent-length: 99999999999\r\nSpam: True ; 1 / 5\r\n\r\n";
	assert_int_equal(spamc_parse_reply(r, strlen(r), true, &rep, &error), -1);
}

static void test_rspamd_request(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char *rcpts[] = { "ann@example.test", "bob@example.test" };
	struct rspamd_request req = { .ip = "192.0.2.1", .helo = "mx.example", .from = "a@b.example",
				      .rcpts = rcpts, .nrcpts = 2, .user = NULL };
	assert_int_equal(rspamd_request(&req, "Subject: x\r\n\r\nhi\r\n", 18, &b), 0);
	assert_string_equal(b.data, "POST /checkv2 HTTP/1.0\r\nContent-Length: 18\r\nConnection: close\r\n"
				    "IP: 192.0.2.1\r\nHelo: mx.example\r\nFrom: <a@b.example>\r\n"
				    "Rcpt: <ann@example.test>\r\nRcpt: <bob@example.test>\r\n\r\n"
				    "Subject: x\r\n\r\nhi\r\n");
	req.helo = "evil\r\nX-Injected: 1";
	assert_int_equal(rspamd_request(&req, "x", 1, &b), -1);
	buf_free(&b);
}

static void test_rspamd_reply(void **state)
{
	(void)state;
	static struct rspamd_reply rep;
	const char *error;
	const char *json = "{\"is_skipped\": false, \"score\": 16.5, \"required_score\": 15.0,"
			   " \"action\": \"reject\", \"thresholds\": {\"reject\": 15.0, \"add header\": 6.0},"
			   " \"symbols\": {\"GTUBE\": {\"name\": \"GTUBE\", \"score\": 0.0,"
			   " \"metric_score\": 0.0, \"options\": [\"a\", \"b\\u00e9\"]},"
			   " \"MISSING_DATE\": {\"name\": \"MISSING_DATE\", \"score\": 1.5}},"
			   " \"messages\": {\"smtp_message\": \"Gtube pattern\"}, \"message-id\": \"x@y\","
			   " \"milter\": {\"add_headers\": {}}, \"n\": null, \"t\": true}";
	char http[2048];
	snprintf(http, sizeof(http), "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		 "Content-Length: %zu\r\n\r\n%s", strlen(json), json);
	size_t n = strlen(http);
	for (size_t i = 0; i < n; i += 7)
		assert_int_equal(rspamd_parse_reply(http, i, false, &rep, &error), 0);
	assert_int_equal(rspamd_parse_reply(http, n, false, &rep, &error), 1);
	assert_int_equal(rep.http_status, 200);
	assert_true(rep.score == 16.5 && rep.required_score == 15.0);
	assert_string_equal(rep.action, "reject");
	assert_string_equal(rep.smtp_message, "Gtube pattern");
	assert_int_equal(rep.nsymbols, 2);
	assert_string_equal(rep.symbols[1].name, "MISSING_DATE");
	assert_true(rep.symbols[1].score == 1.5);
	/* errors */
	const char *bad[] = { "{\"score\": }", "{\"score\": 1,}", "{\"score\": 1", "[1]",
			      "{\"action\": \"x}", "{\"a\": tru}", "{}", "{\"score\": 1} x",
			      "{\"score\": 1e999}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rspamd_parse_json(bad[i], strlen(bad[i]), &rep, &error), -1);
	char deep[200];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"x\":", 5);
	assert_int_equal(rspamd_parse_json(deep, sizeof(deep), &rep, &error), -1);
	const char *e500 = "HTTP/1.1 500 Internal\r\nContent-Length: 2\r\n\r\n{}";
	assert_int_equal(rspamd_parse_reply(e500, strlen(e500), false, &rep, &error), -1);
	const char *cut = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n{\"score\": 1}";
	assert_int_equal(rspamd_parse_reply(cut, strlen(cut), true, &rep, &error), -1);
	const char *noclen = "HTTP/1.0 200 OK\r\n\r\n{\"score\": 2, \"action\": \"no action\"}";
	assert_int_equal(rspamd_parse_reply(noclen, strlen(noclen), false, &rep, &error), 0);
	assert_int_equal(rspamd_parse_reply(noclen, strlen(noclen), true, &rep, &error), 1);
	assert_true(rep.score == 2);
}

/* Replies of the real rspamd 3.4 (Debian), saved from /checkv2. */
static void test_rspamd_real(void **state)
{
	(void)state;
	static struct rspamd_reply rep;
	const char *error;
	char buf[65536];
	FILE *f = fopen(TEST_DATADIR "/rspamd/gtube-3.4.json", "rb");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(rspamd_parse_json(buf, n, &rep, &error), 0);
	assert_true(rep.skipped);
	assert_true(rep.score == 15.0);
	assert_string_equal(rep.action, "reject");
	assert_string_equal(rep.smtp_message, "Gtube pattern");
	assert_string_equal(rep.symbols[0].name, "GTUBE");
	f = fopen(TEST_DATADIR "/rspamd/ham-3.4.json", "rb");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	assert_int_equal(rspamd_parse_json(buf, n, &rep, &error), 0);
	assert_false(rep.skipped);
	assert_true(rep.score > 5.29 && rep.score < 5.31);
	assert_true(rep.nsymbols > 10);
	assert_string_equal(rep.symbols[0].name, "HFILTER_HOSTNAME_UNKNOWN");
	assert_true(rep.symbols[0].score == 2.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clamd_request),
		cmocka_unit_test(test_clamd_reply),
		cmocka_unit_test(test_spamc_request),
		cmocka_unit_test(test_spamc_reply),
		cmocka_unit_test(test_rspamd_request),
		cmocka_unit_test(test_rspamd_reply),
		cmocka_unit_test(test_rspamd_real),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
