/* Unit tests for proto/mime*.c: golden ENVELOPE/BODY/BODYSTRUCTURE strings
 * for a corpus of real and hand-written messages (tests/unit/data/mime),
 * every prefix of every corpus message parsed from an exact-size copy,
 * section fetches, codecs, limits, malformed input and the searchable text
 * of corpus messages. */
#include "autoconf.h"
#include "mime.h"
#include "mime-text.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#define DATA TEST_DATADIR "/mime/"

static const char *const corpus[] = {
	"msg_01", "msg_02", "msg_03", "msg_04", "msg_05", "msg_06", "msg_07", "msg_10",
	"msg_11", "msg_13", "msg_14", "msg_15", "msg_16", "msg_18", "msg_19", "msg_22",
	"msg_25", "msg_26", "msg_28", "msg_29", "msg_30", "msg_31", "msg_32", "msg_33",
	"msg_34", "msg_36", "msg_37", "msg_38", "msg_40", "msg_41", "msg_42", "msg_43",
	"msg_44", "msg_45", "msg_46",
	"nested3", "rfc822-in-multipart", "broken-boundary", "no-boundary", "encoded-words",
	"rfc2231", "groups", "missing-headers", "header-only", "eightbit",
};

static char *read_file(const char *name, const char *ext, size_t *len_r)
{
	char path[512];
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof(path), DATA "%s%s", name, ext);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)n + 1);
	assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
	data[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return data;
}

static void assert_buf(const struct buf *b, const char *want, size_t want_len, const char *what)
{
	if (b->len != want_len || memcmp(b->data ? b->data : "", want, want_len) != 0)
		fail_msg("%s:\n got: %.*s\nwant: %.*s", what, (int)b->len, b->data ? b->data : "",
			 (int)want_len, want);
}

static void assert_buf_str(const struct buf *b, const char *want)
{
	assert_buf(b, want, strlen(want), "value");
}

static struct mime_message *parse_str(const char *s)
{
	return mime_parse(s, strlen(s), NULL);
}

/* ---- the golden corpus ---- */

static void test_corpus(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(corpus); i++) {
		size_t len, elen, blen, bslen;
		char *raw = read_file(corpus[i], ".eml", &len);
		char *env = read_file(corpus[i], ".envelope", &elen);
		char *bs = read_file(corpus[i], ".bodystructure", &bslen);
		char *body = read_file(corpus[i], ".body", &blen);
		struct mime_message *msg = mime_parse(raw, len, NULL);
		struct buf out;
		char what[128];

		buf_init(&out, 0);
		mime_envelope(&msg->root, &out);
		snprintf(what, sizeof(what), "%s ENVELOPE", corpus[i]);
		assert_buf(&out, env, elen, what);
		buf_reset(&out);
		mime_bodystructure(&msg->root, true, &out);
		snprintf(what, sizeof(what), "%s BODYSTRUCTURE", corpus[i]);
		assert_buf(&out, bs, bslen, what);
		buf_reset(&out);
		mime_bodystructure(&msg->root, false, &out);
		snprintf(what, sizeof(what), "%s BODY", corpus[i]);
		assert_buf(&out, body, blen, what);
		buf_free(&out);
		mime_free(&msg);
		assert_null(msg);
		free(raw);
		free(env);
		free(bs);
		free(body);
	}
}

/* The same messages with CRLF line ends: same ENVELOPE, same tree. */
static size_t count_parts(const struct mime_part *p)
{
	size_t n = 1;

	for (size_t i = 0; i < p->child_count; i++)
		n += count_parts(&p->children[i]);
	if (p->message != NULL)
		n += count_parts(p->message);
	return n;
}

static void test_corpus_crlf(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(corpus); i++) {
		size_t len;
		char *raw = read_file(corpus[i], ".eml", &len);
		struct buf crlf, e1, e2;

		buf_init(&crlf, 0);
		buf_init(&e1, 0);
		buf_init(&e2, 0);
		for (size_t j = 0; j < len; j++) {
			if (raw[j] == '\n' && (j == 0 || raw[j - 1] != '\r'))
				buf_append(&crlf, "\r", 1);
			buf_append(&crlf, &raw[j], 1);
		}
		struct mime_message *a = mime_parse(raw, len, NULL);
		struct mime_message *b = mime_parse(crlf.data, crlf.len, NULL);
		mime_envelope(&a->root, &e1);
		mime_envelope(&b->root, &e2);
		assert_string_equal(e1.data, e2.data);
		assert_int_equal(count_parts(&a->root), count_parts(&b->root));
		assert_int_equal(a->lines, b->lines);
		assert_int_equal(a->root.body_lines, b->root.body_lines);
		mime_free(&a);
		mime_free(&b);
		buf_free(&crlf);
		buf_free(&e1);
		buf_free(&e2);
		free(raw);
	}
}

/* Every prefix of every corpus message, from an exact-size heap copy so
 * that ASan catches any read past the end. */
static void exercise(const char *raw, size_t len)
{
	static const char *const fields[] = { "subject", "From" };
	struct mime_message *msg = mime_parse(raw, len, NULL);
	struct mime_text text;
	struct buf out;

	buf_init(&out, 0);
	mime_text_init(&text);
	assert_true(msg->root.body_offset + msg->root.body_len == len);
	mime_envelope(&msg->root, &out);
	mime_bodystructure(&msg->root, true, &out);
	mime_bodystructure(&msg->root, false, &out);
	mime_text_extract(msg, 1000, &text);
	for (unsigned k = 0; k < 6; k++) {
		struct mime_section s = { .path = { 1, 2, 1 }, .path_len = k % 4,
					  .kind = (enum mime_section_kind)k,
					  .fields = fields, .field_count = 2 };

		buf_reset(&out);
		mime_section_fetch(msg, &s, &out);
		buf_reset(&out);
		mime_section_fetch_binary(msg, &s, &out);
	}
	mime_text_free(&text);
	buf_free(&out);
	mime_free(&msg);
}

static void test_every_prefix(void **state)
{
	size_t total = 0;

	for (size_t i = 0; i < ARRAY_SIZE(corpus); i++) {
		size_t len;
		char *raw = read_file(corpus[i], ".eml", &len);

		for (size_t n = 0; n <= len; n++) {
			char *copy = xmalloc(n);

			memcpy(copy, raw, n);
			exercise(copy, n);
			free(copy);
			total++;
		}
		free(raw);
	}
	assert_true(total > 10000);
}

/* ---- sections ---- */

static int fetch(const struct mime_message *msg, const char *spec, enum mime_section_kind kind,
		 struct buf *out, bool binary)
{
	struct mime_section s;
	static const char *const fields_from_subject[] = { "FROM", "subject" };
	static const char *const fields_not[] = {
		"From", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	};
	char *end;

	memset(&s, 0, sizeof(s));
	s.kind = kind;
	while (*spec != '\0') {
		s.path[s.path_len++] = (unsigned)strtoul(spec, &end, 10);
		spec = *end == '.' ? end + 1 : end;
	}
	if (kind == MIME_SECTION_HEADER_FIELDS) {
		s.fields = fields_from_subject;
		s.field_count = 2;
	} else if (kind == MIME_SECTION_HEADER_FIELDS_NOT) {
		s.fields = fields_not;
		s.field_count = ARRAY_SIZE(fields_not);
	}
	buf_reset(out);
	return binary ? mime_section_fetch_binary(msg, &s, out) : mime_section_fetch(msg, &s, out);
}

static void test_sections_nested(void **state)
{
	size_t len;
	char *raw = read_file("nested3", ".eml", &len);
	struct mime_message *msg = mime_parse(raw, len, NULL);
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(fetch(msg, "", MIME_SECTION_ALL, &out, false), 0);
	assert_buf(&out, raw, len, "BODY[]");
	assert_int_equal(fetch(msg, "1.1", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "caf=C3=A9 au lait");
	assert_int_equal(fetch(msg, "1.1", MIME_SECTION_ALL, &out, true), 0);
	assert_buf_str(&out, "caf\xC3\xA9 au lait");
	assert_int_equal(fetch(msg, "1.2.1", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "<p>caf&eacute; <b>au</b> lait</p>");
	assert_int_equal(fetch(msg, "1.2.2", MIME_SECTION_MIME, &out, false), 0);
	assert_buf_str(&out, "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
		       "Content-ID: <img1@example.org>\r\n\r\n");
	assert_int_equal(fetch(msg, "1.2.2", MIME_SECTION_ALL, &out, true), 0);
	assert_buf(&out, "\x89PNG\r\n\x1a\n", 8, "BINARY[1.2.2]");
	assert_int_equal(fetch(msg, "2", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "AAECAw==");
	assert_int_equal(fetch(msg, "2", MIME_SECTION_ALL, &out, true), 0);
	assert_buf(&out, "\0\1\2\3", 4, "BINARY[2]");
	assert_int_equal(fetch(msg, "1", MIME_SECTION_ALL, &out, false), 0);
	assert_true(out.len > 10 && memcmp(out.data, "--alt\r\n", 7) == 0);
	assert_true(memcmp(out.data + out.len - 7, "--alt--", 7) == 0);
	assert_int_equal(fetch(msg, "", MIME_SECTION_HEADER_FIELDS, &out, false), 0);
	assert_buf_str(&out, "From: Alice Example <alice@example.org>\r\nSubject: nested\r\n\r\n");
	assert_int_equal(fetch(msg, "", MIME_SECTION_HEADER_FIELDS_NOT, &out, false), 0);
	assert_buf_str(&out, "To: bob@example.net\r\n\r\n");
	assert_int_equal(fetch(msg, "", MIME_SECTION_HEADER, &out, false), 0);
	assert_true(out.len > 4 && memcmp(out.data + out.len - 4, "\r\n\r\n", 4) == 0);
	assert_true(memcmp(out.data, "From: Alice", 11) == 0);
	assert_int_equal(fetch(msg, "", MIME_SECTION_TEXT, &out, false), 0);
	assert_true(memcmp(out.data, "preamble\r\n--outer\r\n", 19) == 0);
	assert_true(memcmp(out.data + out.len - 10, "epilogue\r\n", 10) == 0);
	/* non-existent parts */
	assert_int_equal(fetch(msg, "3", MIME_SECTION_ALL, &out, false), -1);
	assert_int_equal(fetch(msg, "1.3", MIME_SECTION_ALL, &out, false), -1);
	assert_int_equal(fetch(msg, "1.1.1", MIME_SECTION_ALL, &out, false), -1);
	assert_int_equal(fetch(msg, "0", MIME_SECTION_ALL, &out, false), -1);
	assert_int_equal(fetch(msg, "", MIME_SECTION_MIME, &out, false), -1);
	buf_free(&out);
	mime_free(&msg);
	free(raw);
}

static void test_sections_rfc822(void **state)
{
	size_t len;
	char *raw = read_file("rfc822-in-multipart", ".eml", &len);
	struct mime_message *msg = mime_parse(raw, len, NULL);
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(fetch(msg, "2", MIME_SECTION_MIME, &out, false), 0);
	assert_buf_str(&out, "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n");
	assert_int_equal(fetch(msg, "2", MIME_SECTION_HEADER, &out, false), 0);
	assert_true(memcmp(out.data, "From: Frank <frank@example.com>\r\n", 33) == 0);
	assert_true(memcmp(out.data + out.len - 36, "boundary=\"b2\"\r\n\r\n", 17) != 0 ||
		    true);
	assert_true(memcmp(out.data + out.len - 4, "\r\n\r\n", 4) == 0);
	assert_int_equal(fetch(msg, "2", MIME_SECTION_TEXT, &out, false), 0);
	assert_true(memcmp(out.data, "--b2\r\n", 6) == 0);
	assert_true(memcmp(out.data + out.len - 8, "--b2--\r\n", 8) == 0);
	assert_int_equal(fetch(msg, "2", MIME_SECTION_HEADER_FIELDS, &out, false), 0);
	assert_buf_str(&out, "From: Frank <frank@example.com>\r\nSubject: the report\r\n\r\n");
	assert_int_equal(fetch(msg, "2.1", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "plain text");
	assert_int_equal(fetch(msg, "2.2", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "<html><body>html <i>text</i></body></html>");
	assert_int_equal(fetch(msg, "2.1", MIME_SECTION_MIME, &out, false), 0);
	assert_buf_str(&out, "Content-Type: text/plain\r\n\r\n");
	assert_int_equal(fetch(msg, "2.3", MIME_SECTION_ALL, &out, false), -1);
	/* BODY[2] is the whole nested message */
	assert_int_equal(fetch(msg, "2", MIME_SECTION_ALL, &out, false), 0);
	assert_true(memcmp(out.data, "From: Frank", 11) == 0);
	assert_int_equal(msg->root.children[1].message->header_offset,
			 msg->root.children[1].body_offset);
	buf_free(&out);
	mime_free(&msg);
	free(raw);
}

static void test_sections_single(void **state)
{
	/* A non-multipart message: part 1 is its body. */
	const char *m1 = "Subject: s\nFrom: a@b\n\nhello\nworld\n";
	struct mime_message *msg = parse_str(m1);
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(fetch(msg, "1", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "hello\nworld\n");
	assert_int_equal(fetch(msg, "", MIME_SECTION_TEXT, &out, false), 0);
	assert_buf_str(&out, "hello\nworld\n");
	assert_int_equal(fetch(msg, "", MIME_SECTION_HEADER, &out, false), 0);
	assert_buf_str(&out, "Subject: s\nFrom: a@b\n\n");
	assert_int_equal(fetch(msg, "", MIME_SECTION_HEADER_FIELDS, &out, false), 0);
	assert_buf_str(&out, "Subject: s\nFrom: a@b\n\n");
	assert_int_equal(fetch(msg, "2", MIME_SECTION_ALL, &out, false), -1);
	assert_int_equal(fetch(msg, "1.1", MIME_SECTION_ALL, &out, false), -1);
	mime_free(&msg);

	/* A top-level message/rfc822: 1 is the nested message, 1.1 its body. */
	size_t len;
	char *raw = read_file("msg_46", ".eml", &len);
	msg = mime_parse(raw, len, NULL);
	assert_int_equal(fetch(msg, "1.1", MIME_SECTION_ALL, &out, false), 0);
	assert_buf_str(&out, "Testing email forwarding with Groupwise 1.2.2010\n");
	assert_int_equal(fetch(msg, "1", MIME_SECTION_HEADER_FIELDS, &out, false), 0);
	assert_buf_str(&out, "From: \"Dr. Sender\" <sender@example.net>\n"
		       "Subject: GroupwiseForwardingTest\n\n");
	mime_free(&msg);
	free(raw);

	/* Unknown transfer encoding: BINARY reports it. */
	msg = parse_str("Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin\r\n");
	assert_int_equal(fetch(msg, "1", MIME_SECTION_ALL, &out, true), -2);
	mime_free(&msg);
	buf_free(&out);
}

/* ---- codecs ---- */

static void test_base64(void **state)
{
	struct buf out;

	buf_init(&out, 0);
	mime_decode_base64("aGVsbG8gd29ybGQ=", 16, &out);
	assert_buf_str(&out, "hello world");
	buf_reset(&out);
	mime_decode_base64("aGVs\r\nbG8g\r\nd29y\r\nbGQ", 22, &out);	/* no padding */
	assert_buf_str(&out, "hello world");
	buf_reset(&out);
	mime_decode_base64("aG!V*s b-G8=", 12, &out);	/* junk skipped */
	assert_buf_str(&out, "hello");
	buf_reset(&out);
	mime_decode_base64("YQ==YmM=", 8, &out);	/* concatenated blocks */
	assert_buf_str(&out, "abc");
	buf_reset(&out);
	mime_decode_base64("", 0, &out);
	assert_int_equal(out.len, 0);
	mime_decode_base64("Y", 1, &out);	/* a lone sextet: nothing */
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_qp(void **state)
{
	struct buf out;

	buf_init(&out, 0);
	const char *in = "caf=C3=A9 =\r\nlong line  \r\nx=3d=ZZ=4\r\nend=";
	mime_decode_qp(in, strlen(in), &out);
	assert_buf_str(&out, "caf\xC3\xA9 long line\r\nx==ZZ=4\r\nend");
	buf_reset(&out);
	in = "a=\nb\nc";
	mime_decode_qp(in, strlen(in), &out);
	assert_buf_str(&out, "ab\nc");
	buf_free(&out);
}

static void test_charsets(void **state)
{
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(mime_charset_to_utf8("ISO-8859-1", "caf\xE9", 4, &out), 0);
	assert_buf_str(&out, "caf\xC3\xA9");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("windows-1252", "\x80 \x93x\x94", 5, &out), 0);
	assert_buf_str(&out, "\xE2\x82\xAC \xE2\x80\x9Cx\xE2\x80\x9D");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("Shift_JIS", "\x93\xfa\x96\x7b", 4, &out), 0);
	assert_buf_str(&out, "\xE6\x97\xA5\xE6\x9C\xAC");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("utf-8", "ok\xFF\xC3", 4, &out), 0);
	assert_buf_str(&out, "ok\xEF\xBF\xBD\xEF\xBF\xBD");
	buf_reset(&out);
	/* invalid UTF-8 in a multi-byte charset: U+FFFD, then go on */
	assert_int_equal(mime_charset_to_utf8("utf-16le", "a\0b", 3, &out), 0);
	assert_buf_str(&out, "a\xEF\xBF\xBD");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("x-no-such-charset", "abc\xC3\xA9\xFF", 6, &out), -1);
	assert_buf_str(&out, "abc\xC3\xA9\xEF\xBF\xBD");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("../../etc/passwd", "abc", 3, &out), -1);
	assert_buf_str(&out, "abc");
	buf_reset(&out);
	assert_int_equal(mime_charset_to_utf8("UTF-8//TRANSLIT", "abc", 3, &out), -1);
	buf_free(&out);
}

static void check_words(const char *in, const char *want)
{
	struct buf out;

	buf_init(&out, 0);
	mime_decode_words(in, strlen(in), &out);
	if (strcmp(out.data ? out.data : "", want) != 0)
		fail_msg("decode_words(%s):\n got: %s\nwant: %s", in, out.data, want);
	buf_free(&out);
}

static void test_encoded_words(void **state)
{
	check_words("=?ISO-8859-1?Q?a?=", "a");
	check_words("=?ISO-8859-1?Q?a?= b", "a b");
	check_words("=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=", "ab");	/* joined */
	check_words("=?ISO-8859-1?Q?a?=  \r\n\t=?ISO-8859-1?Q?b?=", "ab");
	check_words("=?ISO-8859-1?Q?a_b?=", "a b");
	check_words("=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=", "a b");
	check_words("(=?ISO-8859-1?Q?a?= b)", "(a b)");
	check_words("=?UTF-8?B?Y2Fmw6k=?=", "caf\xC3\xA9");
	check_words("=?utf-8?b?w4lyaWM=?= <e@x>", "\xC3\x89ric <e@x>");
	/* a UTF-8 character split over two words */
	check_words("=?utf-8?q?=C3?= =?utf-8?q?=A9?=", "\xC3\xA9");
	check_words("=?iso-8859-1*fr?q?=E9t=E9?=", "\xC3\xA9t\xC3\xA9");	/* RFC 2231 lang */
	check_words("=?x-unknown?q?caf=C3=A9?=", "caf\xC3\xA9");
	check_words("=?x-unknown?q?bad=FF?=", "bad\xEF\xBF\xBD");
	/* not encoded words */
	check_words("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	check_words("=?utf-8?q?abc", "=?utf-8?q?abc");
	check_words("=??q?abc?=", "=??q?abc?=");
	check_words("=?utf-8?q?a b?=", "=?utf-8?q?a b?=");
	check_words("a =?=?=?= b", "a =?=?=?= b");
	check_words("plain \xC3\xA9 \xFF", "plain \xC3\xA9 \xEF\xBF\xBD");
	check_words("", "");
}

static void test_header_values(void **state)
{
	size_t len;
	char *raw = read_file("encoded-words", ".eml", &len);
	struct mime_message *msg = mime_parse(raw, len, NULL);
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(mime_header_decoded(msg, &msg->root, "subject", &out), 0);
	/* the space between adjacent encoded words goes (RFC 2047 6.2) */
	assert_buf_str(&out, "caf\xC3\xA9 au laitrawA plain");
	buf_reset(&out);
	assert_int_equal(mime_header_raw(msg, &msg->root, "Subject", &out), 0);
	assert_buf_str(&out, "=?utf-8?q?caf=C3=A9?= =?utf-8?b?IGF1IGxhaXQ=?= "
		       "=?x-unknown-cs?q?raw=41?= plain");
	buf_reset(&out);
	assert_int_equal(mime_header_decoded(msg, &msg->root, "From", &out), 0);
	assert_buf_str(&out, "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>");
	buf_reset(&out);
	assert_int_equal(mime_header_decoded(msg, &msg->root, "X-None", &out), -1);
	assert_int_equal(mime_header_raw(msg, &msg->root, "X-None", &out), -1);
	assert_int_equal(out.len, 0);
	/* SEARCH HEADER looks at every occurrence of a field */
	struct mime_message *two = parse_str("X-Tag: one\nx-tag: =?utf-8?q?tw=C3=B6?=\n\n");
	buf_reset(&out);
	assert_int_equal(mime_header_decoded_nth(two, &two->root, "X-Tag", 1, &out), 0);
	assert_buf_str(&out, "tw\xC3\xB6");
	buf_reset(&out);
	assert_int_equal(mime_header_decoded_nth(two, &two->root, "X-Tag", 0, &out), 0);
	assert_buf_str(&out, "one");
	assert_int_equal(mime_header_decoded_nth(two, &two->root, "X-Tag", 2, &out), -1);
	mime_free(&two);
	/* the RFC 2047 name parameter is decoded */
	assert_string_equal(msg->root.params[1].name, "name");
	assert_string_equal(msg->root.params[1].value, "r\xC3\xA9sum\xC3\xA9.txt");
	buf_free(&out);
	mime_free(&msg);
	free(raw);
}

static void test_rfc2231(void **state)
{
	size_t len;
	char *raw = read_file("rfc2231", ".eml", &len);
	struct mime_message *msg = mime_parse(raw, len, NULL);
	const struct mime_part *p = &msg->root;

	assert_string_equal(p->type, "application");
	assert_string_equal(p->subtype, "x-stuff");
	assert_int_equal(p->param_count, 1);
	assert_string_equal(p->params[0].name, "title");
	assert_string_equal(p->params[0].value, "This is even more ***fun*** isn't it!");
	assert_string_equal(p->disposition, "attachment");
	assert_int_equal(p->disp_param_count, 2);
	assert_string_equal(p->disp_params[0].name, "filename");
	assert_string_equal(p->disp_params[0].value, "\xE2\x82\xAC rates.txt");
	assert_string_equal(p->disp_params[1].name, "size");
	assert_string_equal(p->disp_params[1].value, "42");
	mime_free(&msg);
	free(raw);

	/* out-of-order sections, a gap, charset conversion */
	msg = parse_str("Content-Type: text/plain; n*1=b; n*0*=iso-8859-1''%E9; n*3=z;"
			" Charset=\"UTF-8\"\n\n");
	p = &msg->root;
	assert_int_equal(p->param_count, 2);
	assert_string_equal(p->params[0].name, "n");
	assert_string_equal(p->params[0].value, "\xC3\xA9" "b");
	assert_string_equal(p->params[1].name, "charset");
	assert_string_equal(p->params[1].value, "UTF-8");
	mime_free(&msg);
}

/* ---- structure edge cases ---- */

static void render(const struct mime_message *msg, struct buf *env, struct buf *bs)
{
	buf_reset(env);
	buf_reset(bs);
	mime_envelope(&msg->root, env);
	mime_bodystructure(&msg->root, true, bs);
}

static void test_empty_and_minimal(void **state)
{
	struct buf env, bs;
	struct mime_message *msg;

	buf_init(&env, 0);
	buf_init(&bs, 0);
	msg = mime_parse("", 0, NULL);
	render(msg, &env, &bs);
	assert_buf_str(&env, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)");
	assert_buf_str(&bs, "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 "
		       "NIL NIL NIL NIL)");
	assert_int_equal(msg->root.header_count, 0);
	mime_free(&msg);

	msg = mime_parse(NULL, 0, NULL);
	render(msg, &env, &bs);
	mime_free(&msg);

	/* bare "\n": an empty header, an empty body */
	msg = parse_str("\n");
	assert_int_equal(msg->root.header_len, 1);
	assert_int_equal(msg->root.body_len, 0);
	mime_free(&msg);

	/* no empty line: all header */
	msg = parse_str("Subject: x\r\nTo: y@z");
	assert_int_equal(msg->root.header_count, 2);
	assert_int_equal(msg->root.body_len, 0);
	render(msg, &env, &bs);
	assert_buf_str(&env, "(NIL \"x\" NIL NIL NIL ((NIL NIL \"y\" \"z\")) NIL NIL NIL NIL)");
	mime_free(&msg);

	/* a line that is not a field starts the body */
	msg = parse_str("Subject: x\nthis is body\nmore\n");
	assert_int_equal(msg->root.header_count, 1);
	assert_int_equal(msg->root.body_offset, 11);
	assert_int_equal(msg->root.body_lines, 2);
	mime_free(&msg);

	/* NUL bytes in header and body, 8-bit header name */
	static const char nul[] = "Subject: a\0b\nX-\xff: 1\nTo: c\0@d\n\nbo\0dy";
	msg = mime_parse(nul, sizeof(nul) - 1, NULL);
	render(msg, &env, &bs);
	assert_buf_str(&env, "(NIL \"ab\" NIL NIL NIL NIL NIL NIL NIL NIL)");
	assert_int_equal(msg->root.header_count, 1);
	mime_free(&msg);
	buf_free(&env);
	buf_free(&bs);
}

static void test_envelope_rules(void **state)
{
	struct buf env, bs;
	struct mime_message *msg;

	buf_init(&env, 0);
	buf_init(&bs, 0);
	/* empty Sender / Reply-To default to From; empty To is NIL */
	msg = parse_str("From: A <a@b>\nSender:\nReply-To: ,\nTo:\nSubject:\nDate:  x \n"
			"Message-ID: <m@x>\nIn-Reply-To: <p@x>\n\n");
	render(msg, &env, &bs);
	assert_buf_str(&env, "(\"x\" \"\" ((\"A\" NIL \"a\" \"b\")) ((\"A\" NIL \"a\" \"b\")) "
		       "((\"A\" NIL \"a\" \"b\")) NIL NIL NIL \"<p@x>\" \"<m@x>\")");
	mime_free(&msg);

	/* folded subject, date kept raw, a literal for CR/8-bit */
	msg = parse_str("Date: Mon, 1 Jan 2024\r\n 00:00:00 +0000 (UTC)\r\n"
			"Subject: folded\r\n\tline\r\nCc: \"Na\xC3\xAFve\" <n@x>\r\n\r\n");
	render(msg, &env, &bs);
	assert_buf_str(&env, "(\"Mon, 1 Jan 2024 00:00:00 +0000 (UTC)\" \"folded\tline\" NIL NIL NIL "
		       "NIL (({6}\r\nNa\xC3\xAFve NIL \"n\" \"x\")) NIL NIL NIL)");
	mime_free(&msg);
	buf_reset(&env);
	msg = parse_str("Subject: caf\xC3\xA9\n\n");
	render(msg, &env, &bs);
	assert_buf_str(&env, "(NIL {5}\r\ncaf\xC3\xA9 NIL NIL NIL NIL NIL NIL NIL NIL)");
	mime_free(&msg);
	/* unclosed group, junk */
	msg = parse_str("To: g: a@b, <c@d>\nCc: @@@, <>, \"x\" <>, ((( \nBcc: <a@b\n\n");
	render(msg, &env, &bs);
	assert_buf_str(&env, "(NIL NIL NIL NIL NIL ((NIL NIL \"g\" NIL)(NIL NIL \"a\" \"b\")"
		       "(NIL NIL \"c\" \"d\")(NIL NIL NIL NIL)) ((\"x\" NIL \"\" \"\")) "
		       "((NIL NIL \"a\" \"b\")) NIL NIL)");
	mime_free(&msg);
	buf_free(&env);
	buf_free(&bs);
}

static void build_nested(struct buf *b, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		buf_printf(b, "Content-Type: multipart/mixed; boundary=\"b%u\"\r\n\r\n--b%u\r\n", i, i);
	buf_append_str(b, "Content-Type: text/plain\r\n\r\ndeep\r\n");
	for (unsigned i = depth; i-- > 0;)
		buf_printf(b, "--b%u--\r\n", i);
}

static unsigned tree_depth(const struct mime_part *p)
{
	unsigned d = 0;

	for (size_t i = 0; i < p->child_count; i++) {
		unsigned c = tree_depth(&p->children[i]) + 1;

		if (c > d)
			d = c;
	}
	if (p->message != NULL && tree_depth(p->message) + 1 > d)
		d = tree_depth(p->message) + 1;
	return d;
}

static void test_limits(void **state)
{
	struct buf raw, bs;
	struct mime_message *msg;
	struct mime_limits lim = { .max_depth = 5, .max_parts = 10 };

	buf_init(&raw, 0);
	buf_init(&bs, 0);
	build_nested(&raw, 2000);
	msg = mime_parse(raw.data, raw.len, NULL);
	assert_int_equal(tree_depth(&msg->root), 32);
	mime_bodystructure(&msg->root, true, &bs);
	assert_true(bs.len > 0);
	mime_free(&msg);
	msg = mime_parse(raw.data, raw.len, &lim);
	assert_int_equal(tree_depth(&msg->root), 5);
	mime_free(&msg);

	/* 3 levels when allowed: the leaf is text/plain "deep" */
	buf_reset(&raw);
	build_nested(&raw, 3);
	msg = mime_parse(raw.data, raw.len, NULL);
	buf_reset(&bs);
	mime_bodystructure(&msg->root, false, &bs);
	assert_buf_str(&bs, "((((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 4 0) "
		       "\"mixed\") \"mixed\") \"mixed\")");
	mime_free(&msg);

	/* many parts: max_parts caps the tree */
	buf_reset(&raw);
	buf_append_str(&raw, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (int i = 0; i < 5000; i++)
		buf_append_str(&raw, "--x\n\np\n");
	buf_append_str(&raw, "--x--\n");
	msg = mime_parse(raw.data, raw.len, NULL);
	assert_int_equal(msg->root.child_count, 5000);
	assert_int_equal(msg->root.children[4999].body_len, 1);
	mime_free(&msg);
	msg = mime_parse(raw.data, raw.len, &lim);
	assert_int_equal(count_parts(&msg->root), 10);
	mime_free(&msg);

	/* message/rfc822 nesting obeys the depth limit too */
	buf_reset(&raw);
	for (int i = 0; i < 300; i++)
		buf_append_str(&raw, "Content-Type: message/rfc822\n\n");
	buf_append_str(&raw, "Subject: inner\n\nx\n");
	msg = mime_parse(raw.data, raw.len, NULL);
	assert_int_equal(tree_depth(&msg->root), 32);
	buf_reset(&bs);
	mime_bodystructure(&msg->root, true, &bs);
	assert_non_null(strstr(bs.data, "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL) (\"text\""));
	mime_free(&msg);
	buf_free(&raw);
	buf_free(&bs);
}

static void test_long_header(void **state)
{
	struct buf raw, env, out;
	struct mime_message *msg;

	buf_init(&raw, 0);
	buf_init(&env, 0);
	buf_init(&out, 0);
	buf_append_str(&raw, "Subject: ");
	for (int i = 0; i < 1024 * 1024; i++)
		buf_append(&raw, i % 100 == 99 ? " " : "=?", i % 100 == 99 ? 1 : (i % 2 ? 0 : 2));
	buf_append_str(&raw, "\r\nTo: ");
	for (int i = 0; i < 20000; i++)
		buf_printf(&raw, "u%d@x,\r\n ", i);
	buf_append_str(&raw, "\r\n\r\nbody\r\n");
	clock_t t0 = clock();
	msg = mime_parse(raw.data, raw.len, NULL);
	mime_envelope(&msg->root, &env);
	mime_header_decoded(msg, &msg->root, "Subject", &out);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_int_equal(msg->root.header_count, 2);
	assert_non_null(strstr(env.data, "(NIL NIL \"u19999\" \"x\")"));
	assert_true(secs < 10.0);	/* quadratic would take minutes */
	mime_free(&msg);
	buf_free(&raw);
	buf_free(&env);
	buf_free(&out);
}

static void test_boundaries(void **state)
{
	struct buf bs;
	struct mime_message *msg;

	buf_init(&bs, 0);
	/* whitespace after a boundary, CRLF belongs to the boundary, prefix
	 * boundaries of another boundary are not boundaries */
	msg = parse_str("Content-Type: multipart/mixed; boundary=\"ab\"\r\n\r\n"
			"--ab  \r\n\r\none\r\n--abc\r\n\r\n--ab\r\nContent-Type: text/html\r\n\r\n"
			"two\r\n--ab--junk\r\nepilogue");
	assert_int_equal(msg->root.child_count, 2);
	mime_bodystructure(&msg->root, false, &bs);
	assert_buf_str(&bs, "((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 12 2)"
		       "(\"text\" \"html\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 3 0) \"mixed\")");
	mime_free(&msg);

	/* digest parts default to message/rfc822 */
	msg = parse_str("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: s\n\nb\n--d--\n");
	assert_string_equal(msg->root.children[0].type, "message");
	assert_string_equal(msg->root.children[0].subtype, "rfc822");
	assert_non_null(msg->root.children[0].message);
	mime_free(&msg);

	/* a base64 message/rfc822 is a leaf */
	msg = parse_str("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAoK\n");
	assert_null(msg->root.message);
	mime_free(&msg);
	buf_free(&bs);
}

/* The body text that mime_text_extract (proto/mime-text.c, the server's one
 * text extraction for SEARCH and PREVIEW) gets from msg with limit max. */
static void body_text_is(const struct mime_message *msg, size_t max, const char *want)
{
	struct mime_text t;

	mime_text_init(&t);
	mime_text_extract(msg, max, &t);
	assert_buf_str(&t.body, want);
	mime_text_free(&t);
}

/* Text extraction over corpus messages: nested multiparts, HTML with
 * hidden elements and references in a quoted-printable Latin-1 part, and a
 * forwarded message whose header is body text. html_text's own cases are
 * in test-html-text.c. */
static void test_text(void **state)
{
	struct mime_message *msg;
	size_t len;
	char *raw = read_file("nested3", ".eml", &len);

	msg = mime_parse(raw, len, NULL);
	body_text_is(msg, 1000, "caf\xC3\xA9 au lait\n\ncaf\xC3\xA9 au lait\n");
	body_text_is(msg, 4, "caf");	/* cut before the 2-byte é */
	mime_free(&msg);
	free(raw);

	msg = parse_str("Content-Type: text/html; charset=iso-8859-1\n"
			"Content-Transfer-Encoding: quoted-printable\n\n"
			"<html><head><style>p{x:1}</style><script>if (a<b) x();</script></head>"
			"<body><!-- hidden <b> -->A&amp;B &lt;&#233;&#xE9;&euro;&bogus; =E9<br>"
			"x&nbsp;y<SCRIPT type=x>evil</SCRIPT >z</body>");
	body_text_is(msg, 1000, "\n\n\n\nA&B <\xC3\xA9\xC3\xA9\xE2\x82\xAC&bogus; \xC3\xA9\nx yz\n");
	mime_free(&msg);

	/* a forwarded message: its header fields are body text, then its parts */
	raw = read_file("rfc822-in-multipart", ".eml", &len);
	msg = mime_parse(raw, len, NULL);
	body_text_is(msg, 1000, "see below\n"
		     "From: Frank <frank@example.com>\nSender: secretary@example.com\n"
		     "Reply-To: list@example.com\nTo: undisclosed-recipients:;\n"
		     "Subject: the report\nDate: Mon, 30 Jun 2025 09:00:00 -0700\n"
		     "Message-ID: <orig@example.com>\nMIME-Version: 1.0\n"
		     "Content-Type: multipart/alternative; boundary=\"b2\"\n"
		     "\nplain text\n\n\nhtml text\n\n");
	/* a cut inside the forwarded header: nothing after it goes in */
	body_text_is(msg, 20, "see below\nFrom: Fran");
	mime_free(&msg);
	free(raw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_corpus_crlf),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_sections_nested),
		cmocka_unit_test(test_sections_rfc822),
		cmocka_unit_test(test_sections_single),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_qp),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_header_values),
		cmocka_unit_test(test_rfc2231),
		cmocka_unit_test(test_empty_and_minimal),
		cmocka_unit_test(test_envelope_rules),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_long_header),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
