/* Unit tests for proto/html_text.c (HTML to text) and proto/mime-text.c (a
 * message's searchable text, the case fold, the RFC 8970 preview): tags,
 * comments, hidden elements, character references, malformed HTML, every
 * prefix of a document, charsets and transfer encodings of whole messages. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "mime-text.h"

#define BODY_MAX_TEST (1024 * 1024)

static void html_is(const char *html, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	html_text(html, strlen(html), &b);
	if (strcmp(b.data != NULL ? b.data : "", want) != 0)
		fail_msg("html_text(\"%s\") = \"%s\", want \"%s\"", html, b.data != NULL ? b.data : "",
			 want);
	buf_free(&b);
}

static void test_tags(void **state)
{
	(void)state;
	html_is("", "");
	html_is("plain", "plain");
	html_is("<b>bold</b> and <i>it</i>alic", "bold and italic");
	html_is("<p>one</p><p>two</p>", "\none\n\ntwo\n");
	html_is("a<br>b<br/>c<BR />d", "a\nb\nc\nd");
	html_is("<table><tr><td>x</td><td>y</td></tr></table>", "\n\n\tx\t\ty\t\n\n");
	html_is("<a href=\"x>y\" title='a>b'>link</a>", "link");
	html_is("<a title=don't>ok</a>", "ok");
	html_is("<img src=x alt=\"pic\">after", "after");
	html_is("<span\nclass=\"c\"\n>multi-line tag</span>", "multi-line tag");
}

static void test_hidden(void **state)
{
	(void)state;
	html_is("a<!-- hidden <b>x</b> -->b", "ab");
	html_is("a<!---->b<!-->c", "abc");
	html_is("<!DOCTYPE html>x", "x");
	html_is("<?xml version=\"1.0\"?>x", "x");
	html_is("a<![CDATA[ hidden ]]>b", "ab");
	html_is("<style>p { color: red }</style>text", "text");
	html_is("<script>if (a < b && c > d) x = '</p>';</script>after", "after");
	html_is("<SCRIPT type=x>var s = \"</scr\" + \"ipt>\";</SCRIPT >done", "done");
	html_is("<script>never closed", "");
	html_is("<template><p>t</p></template>shown", "shown");
	html_is("<scripts>not hidden</scripts>", "not hidden");
	html_is("a<!-- unterminated", "a");
}

static void test_references(void **state)
{
	(void)state;
	html_is("&amp;&lt;&gt;&quot;&apos;", "&<>\"'");
	html_is("caf&eacute; &Eacute;t&eacute;", "caf\xc3\xa9 \xc3\x89t\xc3\xa9");
	html_is("&euro;5 &copy; &trade;", "\xe2\x82\xac" "5 \xc2\xa9 \xe2\x84\xa2");
	html_is("a&nbsp;b", "a b");
	html_is("&#65;&#x42;&#X43;&#100", "ABCd");
	html_is("&#x20AC;&#8364;", "\xe2\x82\xac\xe2\x82\xac");
	html_is("&#150;", "\xe2\x80\x93");		/* windows-1252 en dash */
	html_is("&#0;&#xD800;&#x110000;&#99999999999999999999;",
		"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	html_is("&amp &lt x", "& < x");			/* legacy, no ';' */
	html_is("AT&T &unknown; &#; &#x; & x", "AT&T &unknown; &#; &#x; & x");
	html_is("&ampx;", "&ampx;");
}

static void test_malformed(void **state)
{
	(void)state;
	html_is("a < b and c > d", "a < b and c > d");
	html_is("1 <2", "1 <2");
	html_is("x <", "x <");
	html_is("x </", "x </");
	html_is("x </>y", "x y");
	html_is("x </ y>z", "x z");
	html_is("<b unterminated", "");
	html_is("<a href=\"never closed>text", "");
	html_is("<<b>>", "<>");
	html_is("&", "&");
	html_is("&#x", "&#x");
}

/* Every prefix of a document is handled and never produces more bytes
 * than it has (html_text.h promises no growth past the input). */
static void test_prefixes(void **state)
{
	(void)state;
	const char *doc = "<html><head><style>x{}</style></head><body><p class=\"a>b\">Caf&eacute;"
			  " &#x1F600; <!-- c --> <a href='u'>l</a> &amp &lt;<br>&#150;</p></body>";
	size_t n = strlen(doc);

	for (size_t i = 0; i <= n; i++) {
		struct buf b;

		buf_init(&b, 0);
		html_text(doc, i, &b);
		assert_true(b.len <= i);
		buf_free(&b);
	}
}

static void fold_is(const char *in, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	mime_text_fold(in, strlen(in), &b);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void test_fold(void **state)
{
	(void)state;
	fold_is("Hello WORLD 123", "hello world 123");
	fold_is("\xc3\x84\xc3\x96\xc3\x9c \xc3\x89T\xc3\x89", "\xc3\xa4\xc3\xb6\xc3\xbc \xc3\xa9t\xc3\xa9");
	fold_is("\xc3\x97", "\xc3\x97");				/* multiplication sign */
	fold_is("\xc5\x81\xc3\x93" "D\xc5\xb9", "\xc5\x82\xc3\xb3" "d" "\xc5\xba");	/* ŁÓDŹ */
	fold_is("\xc5\xb8", "\xc3\xbf");				/* Ÿ */
	fold_is("\xce\xa3\xce\x9f\xce\xa6\xce\x99\xce\x91 \xcf\x82",
		"\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1 \xcf\x83");	/* ΣΟΦΙΑ ς */
	fold_is("\xd0\x9c\xd0\x9e\xd0\xa1\xd0\x9a\xd0\x92\xd0\x90 \xd0\x81",
		"\xd0\xbc\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 \xd1\x91");	/* МОСКВА Ё */
	fold_is("\xe1\xba\x9e", "\xc3\x9f");				/* capital sharp s */
	fold_is("bad \xff\xfe end", "bad \xef\xbf\xbd\xef\xbf\xbd end");
	/* Valid UTF-8 never grows when folded (the stored text's limit holds). */
	const char *all = "AZ\xc3\x80\xc3\x9e\xc4\xb0\xc5\xbf\xe1\xba\x9e\xe2\x84\xaa\xe2\x84\xab"
			  "\xef\xbc\xa1\xce\x86\xd0\x80\xd4\xb1\xc2\xb5";
	struct buf b;
	buf_init(&b, 0);
	mime_text_fold(all, strlen(all), &b);
	assert_true(b.len <= strlen(all));
	buf_free(&b);
}

static void test_fold_invalid(void **state)
{
	(void)state;
	struct buf b;

	buf_init(&b, 0);
	mime_text_fold("a\0B\xc3", 4, &b);
	assert_int_equal(b.len, 5);
	assert_memory_equal(b.data, "ab\xef\xbf\xbd", 5);
	buf_free(&b);
}

static void preview_is(const char *in, size_t max, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	mime_text_preview(in, strlen(in), max, &b);
	assert_string_equal(b.data != NULL ? b.data : "", want);
	buf_free(&b);
}

static void test_preview(void **state)
{
	(void)state;
	preview_is("  Hello,\r\n\r\n  world\t!  ", 256, "Hello, world !");
	preview_is("a\xc2\xa0\xc2\xa0" "b", 256, "a b");
	preview_is("\x01\x02x\xe2\x80\x8by", 256, "xy");
	preview_is("abcdef", 3, "abc");
	preview_is("ab cdef", 3, "ab");
	preview_is("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 2, "\xc3\xa9\xc3\xa9");	/* characters, not bytes */
	preview_is("", 256, "");
	preview_is(" \r\n ", 256, "");
}

static void extract(const char *msg, size_t max, struct mime_text *t)
{
	struct mime_message *m = mime_parse(msg, strlen(msg), NULL);

	mime_text_init(t);
	mime_text_extract(m, max, t);
	mime_free(&m);
}

static void test_extract(void **state)
{
	(void)state;
	struct mime_text t;

	extract("Subject: =?ISO-8859-1?Q?Caf=E9?= au lait\r\nFrom: a@b\r\n"
		"Content-Type: multipart/mixed; boundary=X\r\n\r\n"
		"--X\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nna=EFve\r\n"
		"--X\r\nContent-Type: text/html; charset=utf-8\r\n"
		"Content-Transfer-Encoding: base64\r\n\r\nPGI+SMOpbGxvPC9iPg==\r\n"
		"--X\r\nContent-Type: application/octet-stream\r\n\r\nsecretbinary\r\n"
		"--X\r\nContent-Type: text/csv; name=a.csv\r\nContent-Disposition: attachment\r\n\r\n"
		"x,y\r\n"
		"--X\r\nContent-Type: text/plain; charset=windows-1252\r\n\r\n\x93q\x94 \x80\r\n"
		"--X--\r\n", BODY_MAX_TEST, &t);
	assert_non_null(strstr(t.headers.data, "Subject: Caf\xc3\xa9 au lait\n"));
	assert_non_null(strstr(t.headers.data, "From: a@b\n"));
	assert_non_null(strstr(t.body.data, "na\xc3\xafve"));
	assert_non_null(strstr(t.body.data, "H\xc3\xa9llo"));
	assert_null(strstr(t.body.data, "secretbinary"));
	assert_non_null(strstr(t.body.data, "x,y"));
	assert_non_null(strstr(t.body.data, "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac"));
	assert_null(strstr(t.body.data, "Subject"));
	assert_true(t.complete);
	mime_text_free(&t);

	/* A forwarded message's header is body text of the outer message. */
	extract("Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner subject\r\n\r\ninner body\r\n", BODY_MAX_TEST, &t);
	assert_non_null(strstr(t.body.data, "Subject: inner subject"));
	assert_non_null(strstr(t.body.data, "inner body"));
	assert_null(strstr(t.headers.data, "inner"));
	mime_text_free(&t);

	/* The body limit cuts on a character boundary and says so. */
	extract("Content-Type: text/plain; charset=utf-8\r\n\r\n\xc3\xa9\xc3\xa9\xc3\xa9", 5, &t);
	assert_int_equal(t.body.len, 4);
	assert_false(t.complete);
	mime_text_free(&t);
}

/* Whatever the limit, the body is a prefix of the whole body: nothing (not
 * even a part separator) goes in after a cut. */
static void test_extract_prefix(void **state)
{
	(void)state;
	const char *msg = "Content-Type: multipart/mixed; boundary=X\r\n\r\n"
			  "--X\r\nContent-Type: text/plain; charset=utf-8\r\n\r\ncaf\xc3\xa9\r\n"
			  "--X\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nx\r\n"
			  "--X\r\nContent-Type: text/html\r\n\r\n<p>a&eacute;b</p>\r\n--X--\r\n";
	struct mime_text all, t;

	extract(msg, BODY_MAX_TEST, &all);
	assert_true(all.complete);
	for (size_t max = 0; max <= all.body.len; max++) {
		extract(msg, max, &t);
		assert_true(t.body.len <= max && max - t.body.len < 4);
		assert_memory_equal(t.body.data != NULL ? t.body.data : "", all.body.data, t.body.len);
		assert_true(t.complete == (max == all.body.len));
		mime_text_free(&t);
	}
	mime_text_free(&all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tags), cmocka_unit_test(test_hidden),
		cmocka_unit_test(test_references), cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_prefixes), cmocka_unit_test(test_fold),
		cmocka_unit_test(test_fold_invalid), cmocka_unit_test(test_preview),
		cmocka_unit_test(test_extract), cmocka_unit_test(test_extract_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
