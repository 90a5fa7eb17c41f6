/* Unit tests for the scanner wire formats: proto/clamd (INSTREAM) and
 * proto/spamc (SPAMC/SPAMD). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "clamd.h"
#include "spamc.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clamd_request),
		cmocka_unit_test(test_clamd_reply),
		cmocka_unit_test(test_spamc_request),
		cmocka_unit_test(test_spamc_reply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
