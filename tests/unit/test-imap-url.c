/* Tests for proto/imap_url.c: the RFC 5092 examples, the URLAUTH forms of
 * RFC 4467 (rump and full), relative forms, RFC 3339 dates, and refusals
 * (bad escapes, order of parts, missing "/", bad numbers), plus every
 * prefix of a full URL (must never crash, must parse or fail cleanly). */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "imap_url.h"

static void parse_ok(const char *s, struct imap_url *u)
{
	const char *error = NULL;
	if (imap_url_parse(s, strlen(s), u, &error) < 0)
		fail_msg("%s: %s", s, error);
}

static void parse_bad(const char *s)
{
	struct imap_url u;
	const char *error = NULL;
	if (imap_url_parse(s, strlen(s), &u, &error) == 0) {
		imap_url_free(&u);
		fail_msg("accepted: %s", s);
	}
	assert_non_null(error);
	/* A failed parse leaves nothing allocated. */
	assert_null(u.mailbox);
	assert_null(u.host);
}

static void test_rfc5092_examples(void **state)
{
	(void)state;
	struct imap_url u;
	parse_ok("imap://minbari.example.org/gray-council;UIDVALIDITY=385759045/;UID=20/;PARTIAL=0.1024",
		 &u);
	assert_int_equal(u.form, IMAP_URL_ABSOLUTE);
	assert_string_equal(u.host, "minbari.example.org");
	assert_string_equal(u.mailbox, "gray-council");
	assert_int_equal(u.uidvalidity, 385759045);
	assert_int_equal(u.uid, 20);
	assert_true(u.partial);
	assert_int_equal(u.partial_offset, 0);
	assert_int_equal(u.partial_length, 1024);
	assert_null(u.section);
	imap_url_free(&u);

	parse_ok("imap://psicorp.example.org/~peter/%E6%97%A5%E6%9C%AC%E8%AA%9E/%E5%8F%B0%E5%8C%97", &u);
	assert_string_equal(u.mailbox, "~peter/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E/\xE5\x8F\xB0\xE5\x8C\x97");
	assert_int_equal(u.uid, 0);
	imap_url_free(&u);

	parse_ok("imap://;AUTH=GSSAPI@minbari.example.org/gray-council/;uid=20/;section=1.2", &u);
	assert_null(u.user);
	assert_string_equal(u.auth, "GSSAPI");
	assert_string_equal(u.mailbox, "gray-council");
	assert_int_equal(u.uid, 20);
	assert_string_equal(u.section, "1.2");
	imap_url_free(&u);

	parse_ok("imap://michael@minbari.example.org/users.*", &u);
	assert_string_equal(u.user, "michael");
	assert_string_equal(u.mailbox, "users.*");
	imap_url_free(&u);

	parse_ok("imap://psicorp.example.org/~peter/%E6%97%A5?SUBJECT%20shadows", &u);
	assert_string_equal(u.search, "SUBJECT shadows");
	imap_url_free(&u);

	parse_ok("imap://joe;AUTH=*@[2001:db8::1]:1143/INBOX/;UID=7/;SECTION=HEADER.FIELDS%20(TO%20FROM)",
		 &u);
	assert_string_equal(u.user, "joe");
	assert_string_equal(u.auth, "*");
	assert_string_equal(u.host, "[2001:db8::1]");
	assert_int_equal(u.port, 1143);
	assert_string_equal(u.section, "HEADER.FIELDS (TO FROM)");
	imap_url_free(&u);

	parse_ok("imap://example.org", &u);
	assert_null(u.mailbox);
	imap_url_free(&u);
	parse_ok("imap://example.org/", &u);
	assert_null(u.mailbox);
	imap_url_free(&u);
}

static void test_urlauth(void **state)
{
	(void)state;
	struct imap_url u;
	/* RFC 4467 section 7 example. */
	const char *full = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred:"
			   "internal:91354a473744909de610943775f92038";
	parse_ok(full, &u);
	assert_string_equal(u.user, "joe");
	assert_int_equal(u.uid, 20);
	assert_string_equal(u.section, "1.2");
	assert_int_equal(u.access, IMAP_URL_ACCESS_SUBMIT);
	assert_string_equal(u.access_user, "fred");
	assert_string_equal(u.mechanism, "internal");
	assert_string_equal(u.token, "91354a473744909de610943775f92038");
	assert_int_equal(u.rump_len, strlen(full) - strlen(":internal:91354a473744909de610943775f92038"));
	imap_url_free(&u);

	const char *rump = "imap://joe@example.com/INBOX/;uid=20/;section=1.2;urlauth=submit+fred";
	parse_ok(rump, &u);
	assert_int_equal(u.rump_len, strlen(rump));
	assert_null(u.mechanism);
	assert_null(u.token);
	imap_url_free(&u);

	parse_ok("imap://joe@example.com/INBOX/;UID=20;EXPIRE=2026-12-01T10:00:00+02:00;URLAUTH=anonymous",
		 &u);
	assert_true(u.expire_set);
	assert_int_equal(u.expire, 1796112000);	/* 2026-12-01T08:00:00Z */
	assert_int_equal(u.access, IMAP_URL_ACCESS_ANONYMOUS);
	imap_url_free(&u);

	parse_ok("imap://joe@example.com/INBOX/;UID=20;URLAUTH=authuser", &u);
	assert_int_equal(u.access, IMAP_URL_ACCESS_AUTHUSER);
	imap_url_free(&u);
	parse_ok("imap://joe@example.com/INBOX/;UID=20;URLAUTH=user+a%40b.test", &u);
	assert_int_equal(u.access, IMAP_URL_ACCESS_USER);
	assert_string_equal(u.access_user, "a@b.test");
	imap_url_free(&u);
	/* RFC 4467 3: the userid as clients send it, a full address. */
	parse_ok("imap://joe@example.com/INBOX/;UID=20;URLAUTH=user+a@b.test", &u);
	assert_int_equal(u.access, IMAP_URL_ACCESS_USER);
	assert_string_equal(u.access_user, "a@b.test");
	assert_int_equal(u.rump_len, strlen("imap://joe@example.com/INBOX/;UID=20;URLAUTH=user+a@b.test"));
	imap_url_free(&u);

	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=everyone");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=submit+");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=anonymous:INTERNAL:abcd");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=anonymous:INTERNAL:"
		  "91354a473744909de610943775f9203z");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=anonymous::91354a473744909de610943775f92038");
	parse_bad("imap://joe@example.com/INBOX/;UID=20/;URLAUTH=anonymous");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;EXPIRE=2026-13-01T00:00:00Z;URLAUTH=anonymous");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;EXPIRE=2026-12-01T00:00:00Z");
	parse_bad("imap://joe@example.com/INBOX;URLAUTH=anonymous");
	parse_bad("imap://joe@example.com/INBOX/;UID=20;URLAUTH=anonymous;EXPIRE=2026-12-01T00:00:00Z");
}

static void test_relative(void **state)
{
	(void)state;
	struct imap_url u;
	parse_ok(";UID=20/;SECTION=1.2", &u);
	assert_int_equal(u.form, IMAP_URL_RELATIVE);
	assert_null(u.mailbox);
	assert_int_equal(u.uid, 20);
	assert_string_equal(u.section, "1.2");
	imap_url_free(&u);
	parse_ok("/Drafts/Old;UIDVALIDITY=9/;UID=3", &u);
	assert_int_equal(u.form, IMAP_URL_PATH);
	assert_string_equal(u.mailbox, "Drafts/Old");
	assert_int_equal(u.uidvalidity, 9);
	imap_url_free(&u);
	parse_ok("//joe@host/INBOX/;UID=3", &u);
	assert_int_equal(u.form, IMAP_URL_NETWORK);
	assert_string_equal(u.host, "host");
	imap_url_free(&u);
	parse_ok("Sent/;UID=3/;PARTIAL=10", &u);
	assert_int_equal(u.form, IMAP_URL_RELATIVE_MAILBOX);
	assert_string_equal(u.mailbox, "Sent");
	assert_true(u.partial);
	assert_int_equal(u.partial_offset, 10);
	assert_int_equal(u.partial_length, 0);
	imap_url_free(&u);
	parse_ok(";SECTION=TEXT", &u);
	assert_string_equal(u.section, "TEXT");
	imap_url_free(&u);
}

static void test_refused(void **state)
{
	(void)state;
	parse_bad("");
	parse_bad("http://example.com/INBOX");
	parse_bad("mailto:joe@example.com");
	parse_bad("imap://");
	parse_bad("imap:///INBOX");
	parse_bad("imap://host:0/INBOX");
	parse_bad("imap://host:65536/INBOX");
	parse_bad("imap://host:12x/INBOX");
	parse_bad("imap://ho st/INBOX");
	parse_bad("imap://host/INBOX;UID=20");		/* needs "/" */
	parse_bad("imap://host/INBOX/;UID=0");
	parse_bad("imap://host/INBOX/;UID=007");
	parse_bad("imap://host/INBOX/;UID=4294967296");
	parse_bad("imap://host/INBOX/;UID=20;SECTION=1");	/* needs "/" */
	parse_bad("imap://host/INBOX/;SECTION=1/;UID=20");	/* order */
	parse_bad("imap://host/INBOX/;UID=1/;UID=2");
	parse_bad("imap://host/INBOX/;UID=1/;SECTION=");
	parse_bad("imap://host/INBOX/;UID=1/;PARTIAL=1.0");
	parse_bad("imap://host/INBOX/;UID=1/;PARTIAL=.5");
	parse_bad("imap://host/INBOX/;UID=1/");
	parse_bad("imap://host/INBOX/;UID=1/;FOO=2");
	parse_bad("imap://host/IN%ZZBOX");
	parse_bad("imap://host/IN%4");
	parse_bad("imap://host/IN%00BOX");
	parse_bad("imap://host/INBOX;UIDVALIDITY=0");
	parse_bad("imap://host/IN BOX");
	parse_bad("imap://host/;UID=1");
	parse_bad("imap://@host/INBOX");
	parse_bad("imap://[::1/INBOX");
	parse_bad("/;UID=1");
	parse_bad(";UID=1/;SECTION=1.2/;PARTIAL=1/");
	parse_bad(";PARTIAL=1/;SECTION=1");
	const char nul[] = "imap://host/IN\0BOX";
	struct imap_url u;
	const char *error;
	assert_int_equal(imap_url_parse(nul, sizeof(nul) - 1, &u, &error), -1);
}

static void test_datetime(void **state)
{
	(void)state;
	int64_t t;
	const char *ok[] = { "1970-01-01T00:00:00Z", "2000-02-29T12:00:00.123Z",
			     "2026-11-29T14:00:00-05:30", "1999-12-31t23:59:60z" };
	int64_t want[] = { 0, 951825600, 1796047200 + 5 * 3600 + 1800 - 86400 * 2 + 2 * 86400,
			   946684799 };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (imap_url_parse_datetime(ok[i], strlen(ok[i]), &t) < 0)
			fail_msg("refused %s", ok[i]);
		if (i != 2)
			assert_int_equal(t, want[i]);
	}
	/* 2026-11-29T14:00:00-05:30 = 2026-11-29T19:30:00Z */
	assert_int_equal(imap_url_parse_datetime(ok[2], strlen(ok[2]), &t), 0);
	int64_t z;
	assert_int_equal(imap_url_parse_datetime("2026-11-29T19:30:00Z", 20, &z), 0);
	assert_int_equal(t, z);
	const char *bad[] = { "2001-02-29T00:00:00Z", "2026-11-29 14:00:00Z", "2026-11-29T14:00:00",
			      "2026-11-29T24:00:00Z", "2026-11-29T14:00:00+0530", "2026-11-29T14:00:00.Z",
			      "2026-11-29T14:00:00Zjunk", "26-11-29T14:00:00Z" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (imap_url_parse_datetime(bad[i], strlen(bad[i]), &t) == 0)
			fail_msg("accepted %s", bad[i]);
}

/* Every prefix of a rich URL parses or fails cleanly (ASan checks reads). */
static void test_every_prefix(void **state)
{
	(void)state;
	const char *full = "imap://joe;AUTH=*@[2001:db8::1]:1143/Drafts%20x;UIDVALIDITY=7/;UID=20"
			   "/;SECTION=1.2.MIME/;PARTIAL=5.100;EXPIRE=2026-12-01T00:00:00Z;URLAUTH="
			   "submit+fred%40x:INTERNAL:0123456789abcdef0123456789abcdef";
	size_t len = strlen(full);
	for (size_t n = 0; n <= len; n++) {
		char *copy = malloc(n + 1);
		memcpy(copy, full, n);
		copy[n] = '\0';
		struct imap_url u;
		const char *error;
		if (imap_url_parse(copy, n, &u, &error) == 0)
			imap_url_free(&u);
		free(copy);
	}
	struct imap_url u;
	parse_ok(full, &u);
	assert_string_equal(u.mailbox, "Drafts x");
	assert_string_equal(u.section, "1.2.MIME");
	assert_int_equal(u.partial_offset, 5);
	assert_int_equal(u.partial_length, 100);
	assert_string_equal(u.access_user, "fred@x");
	imap_url_free(&u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5092_examples),
		cmocka_unit_test(test_urlauth),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_datetime),
		cmocka_unit_test(test_every_prefix),
	};
	return cmocka_run_group_tests_name("imap-url", tests, NULL, NULL);
}
