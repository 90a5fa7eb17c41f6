/* Unit tests for proto/imap_sort.c: RFC 5256 base subjects (the tricky
 * leaders, blobs, trailers and [fwd: ] wrappers, encoded words decoded by
 * mime_decode_words first), ENVELOPE address extraction, multi-key SORT,
 * and ORDEREDSUBJECT/REFERENCES threading including missing parents,
 * duplicate ids, reference loops and subject merging. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_sort.h"
#include "mime.h"

static void base(const char *in, const char *want, bool want_reply)
{
	bool reply = !want_reply;
	char *got = imap_sort_base_subject(in, strlen(in), &reply);
	if (strcmp(got, want) != 0 || reply != want_reply)
		fail_msg("base subject of \"%s\": got \"%s\" reply=%d, want \"%s\" reply=%d", in, got,
			 reply, want, want_reply);
	free(got);
}

static void test_base_subject(void **state)
{
	(void)state;
	base("", "", false);
	base("foo", "foo", false);
	base("Re: foo", "foo", true);
	base("RE: Re: re: foo", "foo", true);
	base("Re:foo", "foo", true);
	base("Fwd: foo", "foo", true);
	base("FW: foo", "foo", true);
	base("fwd : foo", "foo", true);
	base("Re[2]: foo", "foo", true);
	base("Re [3] : foo", "foo", true);
	base("Rex: foo", "Rex: foo", false);
	base("Re foo", "Re foo", false);
	base("[list] foo", "foo", false);
	base("[list] Re: foo", "foo", true);
	base("Re: [list] foo", "foo", true);
	base("[a][b] Re: [c] Fwd: foo", "foo", true);
	base("[list]", "[list]", false);
	base("Re: [list]", "[list]", true);
	base("[list]   ", "[list]", false);
	base("foo (fwd)", "foo", true);
	base("foo (FWD) (fwd)  ", "foo", true);
	base("foo(fwd)", "foo", true);
	base("[Fwd: foo]", "foo", true);
	base("[fwd: Re: foo]", "foo", true);
	base("Re: [Fwd: [fwd: bar] ]", "bar", true);
	base("[fwd: foo", "[fwd: foo", false);
	base("  foo \t\r\n  bar  ", "foo bar", false);
	base("R\xc3\xa9: foo", "R\xc3\xa9: foo", false);
	base("Re: Caf\xc3\xa9", "Caf\xc3\xa9", true);
	base("(fwd)", "", true);
	base("Re:", "", true);
	base("[]", "[]", false);
	base("[] foo", "foo", false);
	base("Re: Re: ", "", true);
	base("[unclosed Re: foo", "[unclosed Re: foo", false);
}

/* Subjects as they come off the wire: RFC 2047 words decoded first. */
static void test_base_subject_encoded(void **state)
{
	(void)state;
	static const struct {
		const char *raw, *want;
		bool reply;
	} v[] = {
		{ "=?UTF-8?Q?Re=3A_Caf=C3=A9?=", "Caf\xc3\xa9", true },
		{ "Re: =?ISO-8859-1?Q?Fwd=3A_na=EFve?=", "na\xc3\xafve", true },
		{ "=?UTF-8?B?W2xpc3RdIFJlOiBoZWxsbw==?=", "hello", true },
		{ "=?utf-8?q?hello?= =?utf-8?q?_world?=", "hello world", false },
		{ "[list] =?UTF-8?Q?=E2=82=AC_price?= (fwd)", "\xe2\x82\xac price", true },
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf b;
		buf_init(&b, 0);
		mime_decode_words(v[i].raw, strlen(v[i].raw), &b);
		base(b.data != NULL ? b.data : "", v[i].want, v[i].reply);
		buf_free(&b);
	}
}

static void test_envelope(void **state)
{
	(void)state;
	static const char env[] =
		"(\"Mon, 1 Jan 2024 00:00:00 +0000\" \"subj\" "
		"((\"=?UTF-8?Q?J=C3=B6rg?=\" NIL \"joerg\" \"example.com\")(NIL NIL \"b\" \"c\")) "
		"((NIL NIL \"s\" \"h\")) NIL "
		"((NIL NIL \"undisclosed\" NIL)(NIL NIL NIL NIL)) "
		"((NIL NIL \"team\" NIL)(\"Q \\\"x\\\"\" NIL \"ann\" \"ex.org\")(NIL NIL NIL NIL)) "
		"NIL NIL \"<id@x>\")";
	struct imap_sort_addr a;
	assert_int_equal(imap_sort_envelope_addr(env, strlen(env), IMAP_ENV_FROM, &a), 0);
	assert_string_equal(a.name, "=?UTF-8?Q?J=C3=B6rg?=");
	assert_string_equal(a.mailbox, "joerg");
	assert_string_equal(a.host, "example.com");
	imap_sort_addr_free(&a);
	assert_int_equal(imap_sort_envelope_addr(env, strlen(env), IMAP_ENV_SENDER, &a), 0);
	assert_null(a.name);
	assert_string_equal(a.mailbox, "s");
	imap_sort_addr_free(&a);
	assert_int_equal(imap_sort_envelope_addr(env, strlen(env), IMAP_ENV_REPLY_TO, &a), 1);
	/* Group start markers are the first address: the group name as
	 * mailbox, no host (what Dovecot sorts by too). */
	assert_int_equal(imap_sort_envelope_addr(env, strlen(env), IMAP_ENV_TO, &a), 0);
	assert_null(a.name);
	assert_string_equal(a.mailbox, "undisclosed");
	assert_null(a.host);
	imap_sort_addr_free(&a);
	assert_int_equal(imap_sort_envelope_addr(env, strlen(env), IMAP_ENV_CC, &a), 0);
	assert_null(a.name);
	assert_string_equal(a.mailbox, "team");
	assert_null(a.host);
	imap_sort_addr_free(&a);
	static const char endfirst[] =
		"(NIL NIL ((NIL NIL NIL NIL)(NIL NIL \"m\" \"h\")) NIL NIL NIL NIL NIL NIL NIL)";
	assert_int_equal(imap_sort_envelope_addr(endfirst, strlen(endfirst), IMAP_ENV_FROM, &a), 0);
	assert_string_equal(a.mailbox, "m");
	imap_sort_addr_free(&a);
	static const char onlyend[] = "(NIL NIL ((NIL NIL NIL NIL)) NIL NIL NIL NIL NIL NIL NIL)";
	assert_int_equal(imap_sort_envelope_addr(onlyend, strlen(onlyend), IMAP_ENV_FROM, &a), 1);
	static const char lit[] = "(NIL NIL (({5}\r\nA) B NIL \"x\" \"y\")) NIL NIL NIL NIL NIL NIL NIL)";
	assert_int_equal(imap_sort_envelope_addr(lit, strlen(lit), IMAP_ENV_FROM, &a), 0);
	assert_string_equal(a.name, "A) B ");
	imap_sort_addr_free(&a);
	static const char *const bad[] = {
		"", "NIL", "(", "(\"a", "(NIL NIL ((NIL NIL \"x\"", "(NIL NIL ((NIL NIL \"x\" \"y\" \"z\")))",
		"(NIL NIL (({99}\r\nab NIL \"x\" \"y\")))", "(NIL NIL (({5}ab NIL \"x\" \"y\")))",
		"(NIL NIL x)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = imap_sort_envelope_addr(bad[i], strlen(bad[i]), IMAP_ENV_FROM, &a);
		if (r == 0)
			fail_msg("malformed envelope accepted: %s", bad[i]);
		imap_sort_addr_free(&a);
	}
}

static void test_sort(void **state)
{
	(void)state;
	struct imap_sort_msg m[5] = {
		{ .uid = 10, .seq = 1, .arrival = 5, .date = 100, .size = 30, .subject = "b",
		  .from = "zed", .to = "", .cc = "", .displayfrom = "Zed", .displayto = "" },
		{ .uid = 11, .seq = 2, .arrival = 4, .date = 100, .size = 10, .subject = "A",
		  .from = "amy", .to = "x", .cc = "", .displayfrom = "amy@h", .displayto = "" },
		{ .uid = 12, .seq = 3, .arrival = 3, .date = 50, .size = 20, .subject = "a",
		  .from = "Bob", .to = "", .cc = "c", .displayfrom = "bob", .displayto = "" },
		{ .uid = 13, .seq = 4, .arrival = 2, .date = 200, .size = 20, .subject = "",
		  .from = "", .to = "", .cc = "", .displayfrom = "", .displayto = "" },
		{ .uid = 14, .seq = 5, .arrival = 1, .date = 50, .size = 40, .subject = "b",
		  .from = "AMY", .to = "", .cc = "", .displayfrom = "Amy", .displayto = "" },
	};
	struct imap_sort_msg w[5];
	struct {
		struct imap_sort_criterion c[3];
		size_t n;
		uint32_t want[5];
	} cases[] = {
		{ { { IMAP_SORT_ARRIVAL, false } }, 1, { 14, 13, 12, 11, 10 } },
		{ { { IMAP_SORT_DATE, false } }, 1, { 12, 14, 10, 11, 13 } },
		{ { { IMAP_SORT_DATE, true } }, 1, { 13, 10, 11, 12, 14 } },
		{ { { IMAP_SORT_SUBJECT, false }, { IMAP_SORT_SIZE, true } }, 2, { 13, 12, 11, 14, 10 } },
		{ { { IMAP_SORT_FROM, false } }, 1, { 13, 11, 14, 12, 10 } },
		{ { { IMAP_SORT_DISPLAYFROM, false } }, 1, { 13, 14, 11, 12, 10 } },
		{ { { IMAP_SORT_SIZE, false } }, 1, { 11, 12, 13, 10, 14 } },
		{ { { IMAP_SORT_CC, true }, { IMAP_SORT_ARRIVAL, false } }, 2, { 12, 14, 13, 11, 10 } },
	};
	/* keys as callers pass them: casemapped */
	char *keep[5][6];
	for (size_t i = 0; i < 5; i++) {
		const char **f[6] = { &m[i].subject, &m[i].from, &m[i].to, &m[i].cc,
				      &m[i].displayfrom, &m[i].displayto };
		for (size_t q = 0; q < 6; q++)
			*f[q] = keep[i][q] = imap_sort_casemap(*f[q]);
	}
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		memcpy(w, m, sizeof(m));
		imap_sort_messages(w, 5, cases[k].c, cases[k].n);
		for (size_t i = 0; i < 5; i++)
			if (w[i].uid != cases[k].want[i])
				fail_msg("case %zu position %zu: uid %u, want %u", k, i, w[i].uid,
					 cases[k].want[i]);
	}
	for (size_t i = 0; i < 5; i++)
		for (size_t q = 0; q < 6; q++)
			free(keep[i][q]);
	assert_int_equal(imap_sort_key_from_name("displayFrom"), IMAP_SORT_DISPLAYFROM);
	/* i;unicode-casemap (RFC 5051): titlecase, then canonical decomposition */
	static const struct {
		const char *in, *out;
	} cm[] = {
		{ "abc", "ABC" }, { "\xc3\xa9t\xc3\xa9", "E\xcc\x81TE\xcc\x81" },	/* été */
		{ "\xc3\x89T\xc3\x89", "E\xcc\x81TE\xcc\x81" },			/* ÉTÉ */
		{ "\xc3\x9f", "\xc3\x9f" },	/* ß: no one-character titlecase */
		{ "\xc7\x86", "\xc7\x85" },	/* dž -> Dž (titlecase, not upper) */
		{ "\xea\xb0\x81", "\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8" },	/* Hangul */
		{ "\xce\xb1\xce\xac", "\xce\x91\xce\x91\xcc\x81" },	/* Greek */
		{ "\xd0\xb6", "\xd0\x96" },	/* Cyrillic */
		{ "a\xff\xc3", "A\xff\xc3" },	/* not UTF-8: kept */
		{ "\xe0\x80\x80", "\xe0\x80\x80" },	/* overlong: kept */
	};
	for (size_t i = 0; i < sizeof(cm) / sizeof(cm[0]); i++) {
		char *got = imap_sort_casemap(cm[i].in);
		assert_string_equal(got, cm[i].out);
		free(got);
	}
	assert_true(imap_sort_casecmp("\xc3\xa9mile", "\xc3\x89MILE") == 0);
	assert_true(imap_sort_casecmp("\xc3\x89mile", "Ezra") > 0);	/* E U+0301 > E Z */
	assert_int_equal(imap_sort_key_from_name("REVERSE"), -1);
	assert_true(imap_sort_casecmp("abc", "ABC") == 0);
	assert_true(imap_sort_casecmp("a", "B") < 0);
	assert_true(imap_sort_casecmp("\xc3\xa9", "z") < 0);	/* E\xcc\x81 < Z */
}

struct tm_in {
	const char *subject, *message_id, *in_reply_to, *references;
	int64_t date;
};

static void thread(enum imap_thread_alg alg, const struct tm_in *in, size_t n, const char *want)
{
	struct imap_thread_msg *m = calloc(n, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].id = (uint32_t)i + 1;
		m[i].seq = (uint32_t)i + 1;
		m[i].date = in[i].date;
		m[i].subject = imap_sort_base_subject(in[i].subject, strlen(in[i].subject),
						      &m[i].is_reply);
		m[i].message_id = in[i].message_id;
		m[i].in_reply_to = in[i].in_reply_to;
		m[i].references = in[i].references;
	}
	struct buf b;
	buf_init(&b, 0);
	imap_thread(m, n, alg, &b);
	if (strcmp(b.data != NULL ? b.data : "", want) != 0)
		fail_msg("thread: got \"%s\", want \"%s\"", b.data != NULL ? b.data : "", want);
	buf_free(&b);
	for (size_t i = 0; i < n; i++)
		free((char *)m[i].subject);
	free(m);
}

static void test_orderedsubject(void **state)
{
	(void)state;
	const struct tm_in a[] = {
		{ "A", NULL, NULL, NULL, 3 }, { "Re: A", NULL, NULL, NULL, 1 },
		{ "B", NULL, NULL, NULL, 2 }, { "re: a", NULL, NULL, NULL, 4 },
		{ "[x] A (fwd)", NULL, NULL, NULL, 5 }, { "C", NULL, NULL, NULL, 0 },
		{ "Fwd: c", NULL, NULL, NULL, 9 },
	};
	thread(IMAP_THREAD_ORDEREDSUBJECT, a, 7, "(6 7)(2 (1)(4)(5))(3)");
	thread(IMAP_THREAD_ORDEREDSUBJECT, a, 0, "");
	/* equal dates: sequence order */
	const struct tm_in b[] = { { "x", NULL, NULL, NULL, 1 }, { "x", NULL, NULL, NULL, 1 },
				   { "y", NULL, NULL, NULL, 1 } };
	thread(IMAP_THREAD_ORDEREDSUBJECT, b, 3, "(1 2)(3)");
}

static void test_references(void **state)
{
	(void)state;
	/* a chain, a branch */
	const struct tm_in chain[] = {
		{ "s", "<a@x>", NULL, NULL, 1 },
		{ "Re: s", "<b@x>", NULL, "<a@x>", 2 },
		{ "Re: s", "<c@x>", NULL, "<a@x> <b@x>", 3 },
	};
	thread(IMAP_THREAD_REFERENCES, chain, 3, "(1 2 3)");
	const struct tm_in branch[] = {
		{ "s", "<a@x>", NULL, NULL, 1 },
		{ "Re: s", "<b@x>", NULL, "<a@x>", 3 },
		{ "Re: s", "<c@x>", "<a@x>", NULL, 2 },	/* In-Reply-To only */
	};
	thread(IMAP_THREAD_REFERENCES, branch, 3, "(1 (3)(2))");
	/* a missing parent with two children: a dummy at the root */
	const struct tm_in missing[] = {
		{ "p", "<b@x>", NULL, "<gone@x>", 2 },
		{ "q", "<c@x>", NULL, "<gone@x>", 1 },
		{ "r", "<d@x>", NULL, "<other@x>", 3 },
	};
	thread(IMAP_THREAD_REFERENCES, missing, 3, "((2)(1))(3)");
	/* a missing grandparent between two messages is spliced out */
	const struct tm_in gap[] = {
		{ "s", "<a@x>", NULL, NULL, 1 },
		{ "Re: s", "<c@x>", NULL, "<a@x> <gone@x>", 2 },
	};
	thread(IMAP_THREAD_REFERENCES, gap, 2, "(1 2)");
	/* loops: mutual references, a self reference, a long cycle */
	const struct tm_in loop[] = {
		{ "s", "<a@x>", NULL, "<b@x>", 1 },
		{ "t", "<b@x>", NULL, "<a@x>", 2 },
		{ "u", "<c@x>", NULL, "<c@x>", 3 },
		{ "v", "<d@x>", NULL, "<f@x> <e@x> <d@x> <f@x>", 4 },
	};
	thread(IMAP_THREAD_REFERENCES, loop, 4, "(2 1)(3)(4)");
	/* (1B): b's own header (no references) wins over c's claim that b
	 * follows a; quoted and plain forms of one id are the same */
	const struct tm_in own[] = {
		{ "a", "<a@x>", NULL, NULL, 1 },
		{ "c", "<c@x>", NULL, "<a@x> <\"b\"@x>", 3 },
		{ "b", "<b@x>", NULL, NULL, 2 },
	};
	thread(IMAP_THREAD_REFERENCES, own, 3, "(1)(3 2)");
	/* duplicate Message-IDs and none at all: each its own message */
	const struct tm_in dup[] = {
		{ "s", "<a@x>", NULL, NULL, 1 },
		{ "t", "<a@x>", NULL, NULL, 2 },
		{ "u", NULL, NULL, NULL, 3 },
		{ "w", "garbage", NULL, "no brackets", 4 },
	};
	thread(IMAP_THREAD_REFERENCES, dup, 4, "(1)(2)(3)(4)");
	/* subject merging: a reply without references joins its original;
	 * two originals with one subject get a dummy parent */
	const struct tm_in subj[] = {
		{ "Hello", "<a@x>", NULL, NULL, 1 },
		{ "Re: hello", "<b@x>", NULL, NULL, 2 },
		{ "World", "<c@x>", NULL, NULL, 3 },
		{ "world", "<d@x>", NULL, NULL, 4 },
		{ "", "<e@x>", NULL, NULL, 5 },
		{ "", "<f@x>", NULL, NULL, 6 },
	};
	thread(IMAP_THREAD_REFERENCES, subj, 6, "(1 2)((3)(4))(5)(6)");
	/* a dummy root's children whose subject matches another thread */
	const struct tm_in dsub[] = {
		{ "Re: x", "<b@x>", NULL, "<gone@x>", 3 },
		{ "Re: x", "<c@x>", NULL, "<gone@x>", 2 },
		{ "x", "<d@x>", NULL, NULL, 1 },
	};
	thread(IMAP_THREAD_REFERENCES, dsub, 3, "((3)(2)(1))");
}

/* A 20,000-message reply chain and a 20,000-wide fan: no recursion. */
static void test_references_deep(void **state)
{
	(void)state;
	size_t n = 20000;
	struct imap_thread_msg *m = calloc(n, sizeof(*m));
	char **ids = calloc(n, sizeof(*ids)), **refs = calloc(n, sizeof(*refs));
	for (int fan = 0; fan < 2; fan++) {
		for (size_t i = 0; i < n; i++) {
			ids[i] = xasprintf("<m%zu@x>", i);
			refs[i] = i == 0 ? NULL : xasprintf("<m%zu@x>", fan ? (size_t)0 : i - 1);
			m[i] = (struct imap_thread_msg){ .id = (uint32_t)i + 1, .seq = (uint32_t)i + 1,
							 .date = (int64_t)i, .subject = "s",
							 .message_id = ids[i], .references = refs[i] };
		}
		struct buf b;
		buf_init(&b, 0);
		imap_thread(m, n, IMAP_THREAD_REFERENCES, &b);
		assert_true(b.len > n * 2);
		assert_int_equal(b.data[0], '(');
		assert_int_equal(b.data[1], '1');
		size_t open = 0, close = 0;
		for (size_t i = 0; i < b.len; i++) {
			open += b.data[i] == '(';
			close += b.data[i] == ')';
		}
		assert_int_equal(open, close);
		assert_int_equal(open, fan ? n : 1);
		buf_free(&b);
		for (size_t i = 0; i < n; i++) {
			free(ids[i]);
			free(refs[i]);
		}
	}
	free(ids);
	free(refs);
	free(m);
}

static void test_msgids(void **state)
{
	(void)state;
	char *ids[4];
	size_t n = imap_thread_msgids(" <a@b>\r\n\t<c @d> junk <e@f", ids, 4);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "a@b");
	assert_string_equal(ids[1], "c@d");
	free(ids[0]);
	free(ids[1]);
	n = imap_thread_msgids("<\"01KF8JCEOCBS0045PS\"@xxx.yyy.com> <a\\\"b@c>", ids, 4);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "01KF8JCEOCBS0045PS@xxx.yyy.com");
	assert_string_equal(ids[1], "a\"b@c");
	free(ids[0]);
	free(ids[1]);
	n = imap_thread_msgids("<x <y@z> <>", ids, 4);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "y@z");
	free(ids[0]);
	assert_int_equal(imap_thread_msgids(NULL, ids, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base_subject), cmocka_unit_test(test_base_subject_encoded),
		cmocka_unit_test(test_envelope), cmocka_unit_test(test_sort),
		cmocka_unit_test(test_orderedsubject), cmocka_unit_test(test_references),
		cmocka_unit_test(test_references_deep), cmocka_unit_test(test_msgids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
