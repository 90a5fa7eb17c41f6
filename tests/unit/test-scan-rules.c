/* Unit tests for server/scan/rules.c: loading rule directories with PCRE2,
 * errors by FILE:LINE, and the header/body/rawbody/uri/full/meta checks
 * on parsed messages (the shipped rules/ set included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "mime.h"
#include "rules.h"

#ifndef TOP_SRCDIR
#error TOP_SRCDIR
#endif

static struct scan_rules *load(const char *dir)
{
	char err[512] = "";
	const char *dirs[] = { dir };
	struct scan_rules *r = scan_rules_load(dirs, 1, err, sizeof(err));
	if (r == NULL)
		fail_msg("load %s: %s", dir, err);
	return r;
}

static const struct scan_rules_hit *find_hit(const struct scan_rules_result *res, const char *name)
{
	for (size_t i = 0; i < res->count; i++)
		if (strcmp(res->hits[i].name, name) == 0)
			return &res->hits[i];
	return NULL;
}

static void run(const struct scan_rules *rules, const char *raw, const char *envfrom, unsigned set,
		struct scan_rules_result *res)
{
	struct mime_message *msg = mime_parse(raw, strlen(raw), NULL);
	scan_rules_run(rules, msg, envfrom, set, 0, res);
	mime_free(&msg);
}

static void test_header_rules(void **state)
{
	(void)state;
	struct scan_rules *rules = load(TEST_DATADIR "/scan-rules/good");
	struct scan_rules_result res;
	run(rules, "From: \"Spam King\" <spammer@example.test>\r\nSubject: =?UTF-8?Q?Hello_ab?=\r\n"
		   "X-Foo: yes\r\n\r\nnothing\r\n", "bounce@example.test", 2, &res);
	assert_non_null(find_hit(&res, "T_SUBJ_HELLO"));	/* decoded RFC 2047 */
	const struct scan_rules_hit *h = find_hit(&res, "T_FROM_ADDR");
	assert_non_null(h);
	assert_true(h->score == 3);				/* score set 2 */
	assert_non_null(find_hit(&res, "T_FROM_NAME"));
	assert_null(find_hit(&res, "T_NO_XFOO"));
	assert_non_null(find_hit(&res, "T_UNSET"));
	assert_non_null(find_hit(&res, "T_ENV"));
	assert_non_null(find_hit(&res, "T_META_AB"));
	assert_non_null(find_hit(&res, "T_FULL"));
	assert_null(find_hit(&res, "__T_A"));			/* never reported */
	assert_null(find_hit(&res, "T_NEVER"));
	assert_true(res.score == 2.5 + 3 + 0.5 + 0.125 + 0.0625 + 3 + 13);
	scan_rules_result_free(&res);
	/* the same without the fields */
	run(rules, "Subject: other\r\nX-Bar: x\r\n\r\nbody\r\n", NULL, 0, &res);
	assert_null(find_hit(&res, "T_SUBJ_HELLO"));
	assert_non_null(find_hit(&res, "T_NO_XFOO"));	/* !~ on an absent field */
	assert_null(find_hit(&res, "T_UNSET"));		/* present, not "dflt" */
	assert_null(find_hit(&res, "T_ENV"));
	assert_null(find_hit(&res, "T_META_AB"));
	scan_rules_result_free(&res);
	scan_rules_unref(&rules);
	assert_null(rules);
}

static void test_body_rules(void **state)
{
	(void)state;
	struct scan_rules *rules = load(TEST_DATADIR "/scan-rules/good");
	struct scan_rules_result res;
	run(rules,
	    "Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n"
	    "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	    "first line=\r\n\r\nsecond line\r\n\r\nword word word word word word\r\n"
	    "--b\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "PHA+PGI+Ym9sZDwvYj4gdGV4dCA8YSBocmVmPSJodHRwOi8vMTkyLjAuMi4xL3giPmxpbms8L2E+PC9wPg==\r\n"
	    "--b--\r\n", NULL, 0, &res);
	/* QP soft break joins "first line" + "second line"? no: the soft
	 * break ends "first line" without newline, so the paragraph is
	 * "first line" + CRLF "second line": one paragraph of two lines */
	assert_non_null(find_hit(&res, "T_PARA"));
	const struct scan_rules_hit *h = find_hit(&res, "T_WORDS");
	assert_non_null(h);
	assert_int_equal(h->count, 8);			/* maxhits 4, times 2 */
	assert_true(h->score == 4.0);
	assert_non_null(find_hit(&res, "T_RAW_TAG"));	/* <b>bold</b> in the decoded HTML */
	assert_non_null(find_hit(&res, "T_HTML_TEXT"));	/* "bold text" once rendered */
	assert_non_null(find_hit(&res, "T_URI_IP"));	/* href of the HTML part */
	assert_null(find_hit(&res, "T_NETRULE"));	/* tflags net, set 0: off */
	scan_rules_result_free(&res);
	run(rules, "Subject: x\r\n\r\nword\r\n", NULL, SCAN_RULES_SET_NET, &res);
	assert_non_null(find_hit(&res, "T_NETRULE"));	/* set 1: network tests on */
	scan_rules_result_free(&res);
	scan_rules_unref(&rules);
}

static void test_load_error(void **state)
{
	(void)state;
	char err[512] = "";
	const char *dirs[] = { TEST_DATADIR "/scan-rules/bad" };
	assert_null(scan_rules_load(dirs, 1, err, sizeof(err)));
	if (strstr(err, "scan-rules/bad/20_bad.cf:3: rule BROKEN") == NULL)
		fail_msg("error: %s", err);
	/* a missing directory is skipped */
	const char *none[] = { TEST_DATADIR "/scan-rules/none", TEST_DATADIR "/scan-rules/good" };
	struct scan_rules *r = scan_rules_load(none, 2, err, sizeof(err));
	assert_non_null(r);
	scan_rules_unref(&r);
}

static void test_meta_cycle(void **state)
{
	(void)state;
	char dir[] = "/tmp/cairn-rules-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/cycle.cf", dir);
	FILE *f = fopen(path, "w");
	fputs("meta A B && C\nmeta B !A\nbody C /x/\n", f);
	fclose(f);
	char err[512] = "";
	const char *dirs[] = { dir };
	assert_null(scan_rules_load(dirs, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "depends on itself"));
	unlink(path);
	rmdir(dir);
}

static void test_shipped_rules(void **state)
{
	(void)state;
	struct scan_rules *rules = load(TOP_SRCDIR "/rules");
	assert_true(scan_rules_count(rules) > 30);
	assert_true(scan_rules_required(rules, 99) == 5.0);
	struct scan_rules_result res;
	/* GTUBE, base64 inside multipart */
	run(rules,
	    "From: a@example.test\r\nTo: b@example.test\r\nSubject: test\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
	    "Message-Id: <1@example.test>\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\n"
	    "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	    "WEpTKkM0SkRCUUFETjEuTlNCTjMqMklETkVOKkdUVUJFLVNUQU5EQVJELUFOVEktVUJFLVRFU1QtRU1BSUwqQy4zNFg=\r\n"
	    "--zz--\r\n", NULL, 0, &res);
	assert_non_null(find_hit(&res, "GTUBE"));
	assert_true(res.score >= 1000);
	scan_rules_result_free(&res);
	/* an ordinary message scores low */
	run(rules,
	    "From: Ann <ann@example.test>\r\nTo: bob@example.test\r\nSubject: lunch tomorrow?\r\n"
	    "Date: Mon, 7 Dec 2026 10:00:00 +0000\r\nMessage-Id: <2@example.test>\r\n\r\n"
	    "Hi Bob, shall we meet at noon? See https://example.org/menu for the menu.\r\n", NULL, 0, &res);
	assert_true(res.score < 1.0);
	scan_rules_result_free(&res);
	/* a spammy one scores high */
	run(rules,
	    "From: winner2024@example.test\r\nSubject: YOU ARE A WINNER!!! CLAIM NOW\r\n\r\n"
	    "Congratulations, you have won! Buy now viagra at the lowest prices, 100% money back guarantee,"
	    " no risk. Verify your account at http://198.51.100.7/login/verify.php\r\n", NULL, 0, &res);
	assert_true(res.score >= 5.0);
	assert_non_null(find_hit(&res, "CAIRN_URI_NUMERIC_IP"));
	assert_non_null(find_hit(&res, "CAIRN_SPAMMY_COMBO"));
	assert_non_null(find_hit(&res, "CAIRN_NO_DATE"));
	scan_rules_result_free(&res);
	scan_rules_unref(&rules);
}

/* Debian's SpamAssassin rules (when installed) load: every regex compiles. */
static void test_debian_rules(void **state)
{
	(void)state;
	FILE *f = fopen("/usr/share/spamassassin/72_active.cf", "r");
	if (f == NULL)
		skip();
	fclose(f);
	struct scan_rules *rules = load("/usr/share/spamassassin");
	assert_true(scan_rules_count(rules) > 500);
	struct scan_rules_result res;
	run(rules, "From: a@example.test\r\nSubject: hi\r\n\r\nXJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n",
	    NULL, 0, &res);
	assert_non_null(find_hit(&res, "GTUBE"));
	scan_rules_result_free(&res);
	scan_rules_unref(&rules);
}

static void test_uris(void **state)
{
	(void)state;
	const char *raw = "Content-Type: text/html\r\n\r\n<a href=\"https://a.example/x?a=1&amp;b=2\">x</a> "
			  "see www.b.example/y, or mailto:c@c.example.\r\n";
	struct mime_message *msg = mime_parse(raw, strlen(raw), NULL);
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(scan_rules_message_uris(msg, 10, &out), 3);
	const char *p = out.data;
	assert_string_equal(p, "https://a.example/x?a=1&b=2");
	p += strlen(p) + 1;
	assert_string_equal(p, "http://www.b.example/y");
	p += strlen(p) + 1;
	assert_string_equal(p, "mailto:c@c.example");
	buf_free(&out);
	mime_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_body_rules),
		cmocka_unit_test(test_load_error),
		cmocka_unit_test(test_meta_cycle),
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_debian_rules),
		cmocka_unit_test(test_uris),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
