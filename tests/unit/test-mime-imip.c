/* Unit tests for proto/mime-imip.c: finding the calendar part (top level,
 * nested alternatives, application/ics, never inside a forwarded message),
 * decoding it (base64, quoted-printable, a Latin-1 charset), the fields
 * that forbid automatic answers, and the encoders' line limits. */
#include "mime-imip.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define CAL "BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nEND:VCALENDAR\r\n"

static int find(const char *raw, struct imip_part *p, struct mime_message **m)
{
	*m = mime_parse(raw, strlen(raw), NULL);
	return imip_find_calendar(*m, p);
}

static void test_top_level(void **state)
{
	(void)state;
	struct imip_part p;
	struct mime_message *m;
	const char *raw = "From: a@x.test\r\nContent-Type: text/calendar; method=reply;"
			  " charset=UTF-8\r\n\r\n" CAL;
	assert_int_equal(find(raw, &p, &m), 0);
	assert_true(p.text_calendar);
	assert_string_equal(p.method, "REPLY");
	assert_int_equal(p.data.len, strlen(CAL));
	assert_memory_equal(p.data.data, CAL, strlen(CAL));
	imip_part_free(&p);
	mime_free(&m);
	/* plain text only: nothing */
	raw = "From: a@x.test\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
	assert_int_equal(find(raw, &p, &m), -1);
	assert_null(p.data.data);
	mime_free(&m);
	/* an empty calendar part is none */
	raw = "Content-Type: text/calendar; method=REQUEST\r\n\r\n";
	assert_int_equal(find(raw, &p, &m), -1);
	mime_free(&m);
}

static void test_nested_prefers_method(void **state)
{
	(void)state;
	struct imip_part p;
	struct mime_message *m;
	const char *raw =
		"Content-Type: multipart/mixed; boundary=o\r\n\r\n"
		"--o\r\nContent-Type: application/ics; name=invite.ics\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\n"
		"QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo=\r\n"
		"--o\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n"
		"--i\r\nContent-Type: text/plain\r\n\r\nYou are invited\r\n"
		"--i\r\nContent-Type: text/calendar; charset=utf-8; method=\"REQUEST\"\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
		"BEGIN:VCALENDAR\r\nSUMMARY:Caf=C3=A9 =\r\nmeeting\r\nEND:VCALENDAR\r\n"
		"--i--\r\n--o--\r\n";
	assert_int_equal(find(raw, &p, &m), 0);
	assert_true(p.text_calendar);
	assert_string_equal(p.method, "REQUEST");
	assert_non_null(strstr(p.data.data, "SUMMARY:Caf\xc3\xa9 meeting\r\n"));
	imip_part_free(&p);
	mime_free(&m);
	/* only the attachment: found, not text/calendar, no method */
	raw = "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
	      "--o\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n"
	      "--o\r\nContent-Type: application/ics\r\n"
	      "Content-Transfer-Encoding: base64\r\n\r\n"
	      "QkVHSU46VkNBTEVOREFSDQpFTkQ6VkNBTEVOREFSDQo=\r\n--o--\r\n";
	assert_int_equal(find(raw, &p, &m), 0);
	assert_false(p.text_calendar);
	assert_string_equal(p.method, "");
	assert_string_equal(p.data.data, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n");
	imip_part_free(&p);
	mime_free(&m);
}

static void test_forwarded_and_charset(void **state)
{
	(void)state;
	struct imip_part p;
	struct mime_message *m;
	/* an invitation forwarded as message/rfc822 is not for this recipient */
	const char *raw = "Content-Type: multipart/mixed; boundary=o\r\n\r\n"
			  "--o\r\nContent-Type: message/rfc822\r\n\r\n"
			  "From: x@y.test\r\nContent-Type: text/calendar; method=REQUEST\r\n\r\n"
			  CAL "--o--\r\n";
	assert_int_equal(find(raw, &p, &m), -1);
	mime_free(&m);
	/* Latin-1 converted to UTF-8 */
	raw = "Content-Type: text/calendar; method=REQUEST; charset=iso-8859-1\r\n"
	      "Content-Transfer-Encoding: 8bit\r\n\r\nSUMMARY:Caf\xe9\r\n";
	assert_int_equal(find(raw, &p, &m), 0);
	assert_string_equal(p.data.data, "SUMMARY:Caf\xc3\xa9\r\n");
	imip_part_free(&p);
	mime_free(&m);
	/* invalid UTF-8 claimed as UTF-8 is sanitised, not passed on */
	raw = "Content-Type: text/calendar; method=REQUEST\r\n\r\nA\xff\x00Z\r\n";
	m = mime_parse(raw, 52, NULL);
	assert_int_equal(imip_find_calendar(m, &p), 0);
	assert_null(memchr(p.data.data, '\0', p.data.len));
	assert_null(strchr(p.data.data, '\xff'));
	imip_part_free(&p);
	mime_free(&m);
}

static void test_no_auto_reply(void **state)
{
	(void)state;
	static const struct {
		const char *headers;
		bool refuse;
	} cases[] = {
		{ "Auto-Submitted: auto-replied\r\n", true },
		{ "Auto-Submitted: Auto-Generated (resource)\r\n", true },
		{ "Auto-Submitted: no\r\n", false },
		{ "Auto-Submitted: No ; comment\r\n", false },
		{ "List-Id: <team.x.test>\r\n", true },
		{ "List-Post: <mailto:team@x.test>\r\n", true },
		{ "Precedence: bulk\r\n", true },
		{ "Precedence: LIST\r\n", true },
		{ "Precedence: first-class\r\n", false },
		{ "X-Auto-Response-Suppress: DR, AutoReply\r\n", true },
		{ "X-Auto-Response-Suppress: DR\r\n", false },
		{ "", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char raw[512];
		snprintf(raw, sizeof(raw), "From: a@x.test\r\n%sSubject: s\r\n\r\nbody\r\n",
			 cases[i].headers);
		struct mime_message *m = mime_parse(raw, strlen(raw), NULL);
		const char *why = imip_no_auto_reply(m);
		if (cases[i].refuse)
			assert_non_null(why);
		else
			assert_null(why);
		mime_free(&m);
	}
}

/* Lines of b end in CRLF and are at most max long; returns the count. */
static size_t lines_ok(const struct buf *b, size_t max)
{
	size_t line = 0, n = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
			assert_true(line <= max);
			line = 0;
			n++;
			i++;
			continue;
		}
		assert_true(b->data[i] != '\n');
		line++;
	}
	assert_int_equal(line, 0);
	return n;
}

static void test_qp(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	const char *in = "Caf\xc3\xa9 = ok \nline two\t\r\n";
	imip_qp_encode(in, strlen(in), &b);
	assert_string_equal(b.data, "Caf=C3=A9 =3D ok=20\r\nline two=09\r\n");
	buf_reset(&b);
	char long_line[300];
	memset(long_line, 'x', sizeof(long_line) - 1);
	long_line[sizeof(long_line) - 1] = '\0';
	imip_qp_encode(long_line, strlen(long_line), &b);
	assert_int_equal(lines_ok(&b, 76), 4);
	/* decoding gives the input back */
	struct buf d;
	buf_init(&d, 0);
	mime_decode_qp(b.data, b.len, &d);
	assert_int_equal(d.len, 299 + 2);	/* the final CRLF */
	assert_memory_equal(d.data, long_line, 299);
	buf_free(&d);
	buf_reset(&b);
	imip_base64_lines(long_line, strlen(long_line), &b);
	assert_int_equal(lines_ok(&b, 76), 6);
	buf_free(&b);
}

static void test_headers(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	imip_header("Subject", "Invitation: Weekly sync", &b);
	assert_string_equal(b.data, "Subject: Invitation: Weekly sync\r\n");
	buf_reset(&b);
	imip_header("Subject", "Invitation: evil\r\nBcc: x@y.test", &b);
	assert_string_equal(b.data, "Subject: Invitation: evil Bcc: x@y.test\r\n");
	buf_reset(&b);
	/* long non-ASCII: encoded words, each line <= 78 */
	struct buf v;
	buf_init(&v, 0);
	buf_append_str(&v, "Invitation: ");
	for (int i = 0; i < 40; i++)
		buf_append_str(&v, "R\xc3\xa9union ");
	v.data[--v.len] = '\0';	/* no trailing space: the value is trimmed */
	imip_header("Subject", v.data, &b);
	lines_ok(&b, 78);
	assert_non_null(strstr(b.data, "=?UTF-8?B?"));
	struct buf dec;
	buf_init(&dec, 0);
	mime_decode_words(b.data + 9, b.len - 11, &dec);
	assert_string_equal(dec.data, v.data);
	buf_free(&dec);
	buf_free(&v);
	buf_free(&b);
	buf_init(&b, 0);
	imip_header_mailbox("From", "Ann \"the\" Organizer", "ann@x.test", &b);
	assert_string_equal(b.data, "From: \"Ann \\\"the\\\" Organizer\" <ann@x.test>\r\n");
	buf_reset(&b);
	imip_header_mailbox("From", "Zo\xc3\xab", "zoe@x.test", &b);
	assert_string_equal(b.data, "From: =?UTF-8?B?Wm/Dqw==?= <zoe@x.test>\r\n");
	buf_reset(&b);
	imip_header_mailbox("To", NULL, "bob@y.test", &b);
	assert_string_equal(b.data, "To: bob@y.test\r\n");
	buf_free(&b);
	assert_true(imip_is_7bit("A\r\nB\nC", 6));
	assert_false(imip_is_7bit("Caf\xc3\xa9", 5));
	assert_false(imip_is_7bit("A\rB", 3));
	char big[1001];
	memset(big, 'a', 1000);
	big[1000] = '\0';
	assert_false(imip_is_7bit(big, 1000));
	assert_true(imip_is_7bit(big, 998));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_top_level),
		cmocka_unit_test(test_nested_prefers_method),
		cmocka_unit_test(test_forwarded_and_charset),
		cmocka_unit_test(test_no_auto_reply),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_headers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
