/* Unit tests for proto/http_parser.c. Golden requests under TEST_DATADIR/http
 * (NAME.in -> NAME.ref) are fed whole, one byte at a time and split at every
 * offset; explicit cases cover every limit, every error status, pipelining,
 * reset and the request-smuggling defences. Every feed goes through exact-size
 * heap copies so AddressSanitizer catches a read past len. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

#ifndef TEST_DATADIR
#error "TEST_DATADIR must name the tests/unit/data directory"
#endif

static const struct http_limits dflt = {
	.max_head = 8192, .max_target = 1024, .max_headers = 50, .max_body = 65536,
};

static struct http_limits lim(size_t head, size_t target, size_t headers, size_t body)
{
	struct http_limits l = {
		.max_head = head, .max_target = target,
		.max_headers = headers, .max_body = body,
	};
	return l;
}

/* One feed of a heap copy of exactly n bytes. */
static int feed_copy(struct http_parser *p, const char *data, size_t n, size_t *used_r)
{
	char *copy = xmalloc(n);
	int ret;

	if (n > 0)
		memcpy(copy, data, n);
	*used_r = (size_t)-1;
	ret = http_parser_feed(p, copy, n, used_r);
	free(copy);
	assert_true(*used_r <= n);
	if (ret == 0)
		assert_int_equal(*used_r, n);
	return ret;
}

/* Feed data in pieces at the given cut offsets (ascending, < len), stopping
 * at the first piece that finishes or fails. *consumed_r is the total. */
static int feed_cuts(struct http_parser *p, const char *data, size_t len,
		     const size_t *cuts, size_t ncuts, size_t *consumed_r)
{
	size_t off = 0, i, used;
	int ret = 0;

	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len;

		ret = feed_copy(p, data + off, end - off, &used);
		off += used;
		if (ret != 0)
			break;
	}
	*consumed_r = off;
	return ret;
}

/* Feed data in pieces of at most chunk bytes. */
static int feed_pieces(struct http_parser *p, const char *data, size_t len,
		       size_t chunk, size_t *consumed_r)
{
	size_t off = 0, used;
	int ret;

	do {
		size_t n = len - off < chunk ? len - off : chunk;

		ret = feed_copy(p, data + off, n, &used);
		off += used;
	} while (ret == 0 && off < len);
	*consumed_r = off;
	return ret;
}

static void dump_escaped(struct buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\')
			buf_append_str(out, "\\\\");
		else if (c == '\r')
			buf_append_str(out, "\\r");
		else if (c == '\n')
			buf_append_str(out, "\\n");
		else if (c == '\t')
			buf_append_str(out, "\\t");
		else if (c >= 0x20 && c < 0x7f)
			buf_append(out, &c, 1);
		else
			buf_printf(out, "\\x%02x", c);
	}
}

static void dump_str(struct buf *out, const char *label, const char *s)
{
	buf_printf(out, "%s: ", label);
	if (s == NULL)
		buf_append_str(out, "(none)");
	else
		dump_escaped(out, s, strlen(s));
	buf_append_str(out, "\n");
}

/* The .ref format: the outcome, then for a complete request every field. */
static char *dump_result(const struct http_parser *p, int ret, size_t consumed)
{
	const struct http_request *req = http_parser_request(p);
	struct buf out;
	size_t i;

	buf_init(&out, 0);
	if (ret < 0) {
		buf_printf(&out, "status: error %d\n", http_parser_error_status(p));
		return out.data;
	}
	if (ret == 0) {
		buf_append_str(&out, "status: incomplete\n");
		return out.data;
	}
	buf_printf(&out, "status: ok\nconsumed: %zu\n", consumed);
	dump_str(&out, "method", req->method);
	dump_str(&out, "target", req->target);
	dump_str(&out, "path", req->path);
	dump_str(&out, "query", req->query);
	buf_printf(&out, "version: HTTP/1.%d\n", req->version_minor);
	for (i = 0; i < req->header_count; i++) {
		buf_append_str(&out, "header: ");
		dump_escaped(&out, req->headers[i].name, strlen(req->headers[i].name));
		buf_append_str(&out, ": ");
		dump_escaped(&out, req->headers[i].value, strlen(req->headers[i].value));
		buf_append_str(&out, "\n");
	}
	buf_printf(&out, "keep_alive: %s\nexpect_continue: %s\n",
		   req->keep_alive ? "yes" : "no", req->expect_continue ? "yes" : "no");
	buf_printf(&out, "body_len: %zu\nbody: ", req->body_len);
	dump_escaped(&out, req->body, req->body_len);
	buf_append_str(&out, "\n");
	assert_int_equal(req->body[req->body_len], '\0');
	return out.data;
}

static char *read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	buf_init(&b, 0);
	buf_reserve(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len_r = b.len;
	return b.data;
}

/* --- golden files --- */

static void test_golden(void **state)
{
	const char *name = *state;
	char *path, *in, *ref, *got;
	size_t in_len, ref_len, consumed, k;
	struct http_parser *p;
	int ret;

	path = xasprintf("%s/http/%s.in", TEST_DATADIR, name);
	in = read_file(path, &in_len);
	free(path);
	path = xasprintf("%s/http/%s.ref", TEST_DATADIR, name);
	ref = read_file(path, &ref_len);
	free(path);

	p = http_parser_create(&dflt);
	/* whole */
	ret = feed_pieces(p, in, in_len, in_len > 0 ? in_len : 1, &consumed);
	got = dump_result(p, ret, consumed);
	assert_string_equal(got, ref);
	free(got);

	/* trickled one byte at a time */
	http_parser_reset(p);
	ret = feed_pieces(p, in, in_len, 1, &consumed);
	got = dump_result(p, ret, consumed);
	assert_string_equal(got, ref);
	free(got);

	/* split in two at every offset */
	for (k = 1; k < in_len; k++) {
		http_parser_reset(p);
		ret = feed_cuts(p, in, in_len, &k, 1, &consumed);
		got = dump_result(p, ret, consumed);
		if (strcmp(got, ref) != 0)
			fail_msg("%s split at %zu:\n%s", name, k, got);
		free(got);
	}
	http_parser_destroy(&p);
	assert_null(p);
	free(in);
	free(ref);
}

/* --- helpers for the explicit cases --- */

/* Parse whole and trickled; both runs must agree on everything. Returns the
 * result of the whole run, whose parser is left in *p_r. */
static int parse_both(const struct http_limits *l, const char *data, size_t len,
		      struct http_parser **p_r, size_t *consumed_r)
{
	struct http_parser *whole = http_parser_create(l);
	struct http_parser *trickle = http_parser_create(l);
	size_t c1, c2;
	int r1, r2;
	char *d1, *d2;

	r1 = feed_pieces(whole, data, len, len > 0 ? len : 1, &c1);
	r2 = feed_pieces(trickle, data, len, 1, &c2);
	assert_int_equal(r1, r2);
	assert_int_equal(c1, c2);
	d1 = dump_result(whole, r1, c1);
	d2 = dump_result(trickle, r2, c2);
	assert_string_equal(d1, d2);
	free(d1);
	free(d2);
	http_parser_destroy(&trickle);
	*p_r = whole;
	*consumed_r = c1;
	return r1;
}

/* want: 0 for a complete request, MORE for "need more", else the status */
#define MORE 1

static void check_status(const struct http_limits *l, const char *data, size_t len,
			 int want)
{
	struct http_parser *p;
	size_t consumed;
	int ret = parse_both(l, data, len, &p, &consumed);

	if (want == MORE) {
		if (ret != 0)
			fail_msg("expected need-more for [%.*s], got ret %d: %s", (int)len,
				 data, ret, http_parser_error(p));
		assert_int_equal(consumed, len);
	} else if (want == 0) {
		if (ret != 1)
			fail_msg("expected success for [%.*s]: %s", (int)len, data,
				 http_parser_error(p));
	} else {
		if (ret != -1 || http_parser_error_status(p) != want)
			fail_msg("expected %d for [%.*s], got ret %d status %d", want,
				 (int)len, data, ret, http_parser_error_status(p));
		assert_string_not_equal(http_parser_error(p), "no error");
		assert_false(http_parser_head_done(p));
	}
	http_parser_destroy(&p);
}

#define EXPECT(l, s, status) check_status((l), (s), sizeof(s) - 1, (status))

struct status_case {
	const char *data;
	int status;
};

static void check_cases(const struct http_limits *l, const struct status_case *cases,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		check_status(l, cases[i].data, strlen(cases[i].data), cases[i].status);
}

/* A request with a padding header, so tests can size the head exactly. */
static char *padded_request(size_t pad, size_t *len_r)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ");
	for (i = 0; i < pad; i++)
		buf_append(&b, "p", 1);
	buf_append_str(&b, "\r\n\r\n");
	*len_r = b.len;
	return b.data;
}

/* --- limits --- */

static void test_limit_head(void **state)
{
	size_t len, consumed;
	char *req = padded_request(100, &len);
	struct http_limits l = lim(len, 1024, 50, 1024);
	struct http_parser *p;

	(void)state;

	/* exactly max_head bytes: fine; one more: 431 */
	check_status(&l, req, len, 0);
	l.max_head = len - 1;
	check_status(&l, req, len, 431);

	/* a head that never ends is cut at max_head, not buffered forever */
	l.max_head = 64;
	assert_int_equal(parse_both(&l, req, len, &p, &consumed), -1);
	assert_int_equal(http_parser_error_status(p), 431);
	assert_int_equal(consumed, 65);
	http_parser_destroy(&p);
	free(req);
}

static void test_limit_head_leading_lines(void **state)
{
	struct buf b;
	struct http_limits l = lim(64, 1024, 50, 1024);
	size_t i;

	(void)state;

	buf_init(&b, 0);
	for (i = 0; i < 40; i++)
		buf_append_str(&b, "\r\n");
	buf_append_str(&b, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	/* empty lines count towards max_head: 80 + 27 > 64 */
	check_status(&l, b.data, b.len, 431);
	l.max_head = b.len;
	check_status(&l, b.data, b.len, 0);
	buf_free(&b);
}

static void test_limit_target(void **state)
{
	struct http_limits l = lim(8192, 10, 50, 1024);

	(void)state;

	EXPECT(&l, "GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	EXPECT(&l, "GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", 414);
	/* the limit is the target as sent, query included */
	EXPECT(&l, "GET /12345?x=12 HTTP/1.1\r\nHost: a\r\n\r\n", 414);
	/* 414 comes as soon as the target passes the limit, before the line ends */
	EXPECT(&l, "GET /1234567890", 414);
}

static void test_limit_headers(void **state)
{
	struct http_limits l = lim(8192, 1024, 3, 1024);

	(void)state;

	EXPECT(&l, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 0);
	EXPECT(&l, "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431);
	l.max_headers = 0;
	EXPECT(&l, "GET / HTTP/1.0\r\n\r\n", 0);
	EXPECT(&l, "GET / HTTP/1.0\r\nA: 1\r\n\r\n", 431);
}

static void test_limit_body_content_length(void **state)
{
	static const char big[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n";
	struct http_limits l = lim(8192, 1024, 50, 10);
	struct http_parser *p;
	size_t consumed;

	(void)state;

	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789", 0);
	/* refused at the end of the head, before any body byte is taken */
	assert_int_equal(parse_both(&l, big, sizeof(big) - 1, &p, &consumed), -1);
	assert_int_equal(http_parser_error_status(p), 413);
	assert_int_equal(consumed, sizeof(big) - 1);
	http_parser_destroy(&p);

	l.max_body = 0;
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", 0);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", 413);
}

static void test_limit_body_content_length_overflow(void **state)
{
	(void)state;
	/* digits only, so well-formed, but larger than any limit */
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n", 413);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", 413);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 999999999999999999999999999999\r\n\r\n", 413);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 65537\r\n\r\n", 413);
}

static void test_limit_body_chunked(void **state)
{
	struct http_limits l = lim(8192, 1024, 50, 10);
	struct http_parser *p;
	size_t consumed;
	static const char ok[] = "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n";

	(void)state;

	assert_int_equal(parse_both(&l, ok, sizeof(ok) - 1, &p, &consumed), 1);
	assert_int_equal(http_parser_request(p)->body_len, 10);
	assert_string_equal(http_parser_request(p)->body, "0123456789");
	http_parser_destroy(&p);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "5\r\n01234\r\n5\r\n56789\r\n1\r\n", 413);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n", 413);
}

static void test_limit_trailers(void **state)
{
	struct http_limits l = lim(80, 1024, 50, 1024);

	(void)state;

	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\nx\r\n0\r\nT: 1\r\n\r\n", 0);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\nx\r\n0\r\nT: 0123456789012345678901234567890123456789"
	       "0123456789012345678901234567890123456789\r\n\r\n", 431);
}

static void test_limit_chunk_extensions(void **state)
{
	struct http_limits l = lim(80, 1024, 50, 1024);

	(void)state;

	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1;a=b\r\nx\r\n0;c=\"d\"\r\n\r\n", 0);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1;a=0123456789012345678901234567890123456789"
	       "0123456789012345678901234567890123456789\r\nx\r\n0\r\n\r\n", 413);
	/* the budget is per request, not per chunk */
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1;0123456789012345678901234567890\r\nx\r\n"
	       "1;0123456789012345678901234567890\r\nx\r\n"
	       "1;0123456789012345678901234567890\r\nx\r\n0\r\n\r\n", 413);
}

static void test_limit_chunk_leading_zeros(void **state)
{
	struct http_limits l = lim(60, 1024, 50, 1024);
	struct buf b;
	size_t i;

	(void)state;

	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "000000000000000000001\r\nx\r\n0\r\n\r\n", 0);
	buf_init(&b, 0);
	buf_append_str(&b, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (i = 0; i < 100; i++)
		buf_append(&b, "0", 1);
	buf_append_str(&b, "1\r\nx\r\n0\r\n\r\n");
	l.max_head = b.len;
	check_status(&l, b.data, b.len, 0);
	/* the head takes 56 bytes, the 84 extra zeros do not fit in 60 */
	l.max_head = 60;
	check_status(&l, b.data, b.len, 413);
	buf_free(&b);
}

/* --- error statuses --- */

static void test_status_400_request_line(void **state)
{
	static const struct status_case cases[] = {
		{ "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ " GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /\r\n\r\n", 400 },
		{ "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/11\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "CONNECT example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\rHost: a\r\n\r\n", 400 },
		{ "\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400 },
	};

	(void)state;

	check_cases(&dflt, cases, ARRAY_SIZE(cases));
}

static void test_status_400_fields(void **state)
{
	static const struct status_case cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\nX(y): 1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n: empty\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n\t2\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x01z\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\x7fz\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX: a\rz\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET / HTTP/1.0\r\nHost: a\r\nhost: a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
	};
	static const char nul[] = "GET / HTTP/1.1\r\nHost: a\r\nX: a\0z\r\n\r\n";
	static const char nul_name[] = "GET / HTTP/1.1\r\nHost: a\r\nX\0: z\r\n\r\n";

	(void)state;

	check_cases(&dflt, cases, ARRAY_SIZE(cases));
	/* NUL cannot go through strlen */
	check_status(&dflt, nul, sizeof(nul) - 1, 400);
	check_status(&dflt, nul_name, sizeof(nul_name) - 1, 400);
}

static void test_status_400_missing_host(void **state)
{
	(void)state;
	EXPECT(&dflt, "GET / HTTP/1.1\r\n\r\n", 400);
	/* absolute-form still needs Host in HTTP/1.1 (RFC 9112 3.2) */
	EXPECT(&dflt, "GET http://a/ HTTP/1.1\r\n\r\n", 400);
	EXPECT(&dflt, "GET / HTTP/1.0\r\n\r\n", 0);
	EXPECT(&dflt, "GET / HTTP/1.1\r\nHost:\r\n\r\n", 0);
	EXPECT(&dflt, "GET / HTTP/1.1\r\nHOST: [::1]:8080\r\n\r\n", 0);
}

static void test_status_501(void **state)
{
	(void)state;
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: deflate\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n", 501);
}

static void test_status_505(void **state)
{
	(void)state;
	EXPECT(&dflt, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
	EXPECT(&dflt, "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505);
	EXPECT(&dflt, "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505);
	EXPECT(&dflt, "GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
	EXPECT(&dflt, "GET / HTTP/1.0\r\n\r\n", 0);
	EXPECT(&dflt, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0);
}

/* --- request smuggling --- */

static void test_smuggle_cl_te(void **state)
{
	(void)state;
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Content-Length: 0\r\n\r\n0\r\n\r\n", 400);
}

static void test_smuggle_duplicate_cl(void **state)
{
	(void)state;
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	       "Content-Length: 6\r\n\r\nhello!", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\nhello!", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5,\r\n\r\nhello", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
	       "Content-Length: 5\r\n\r\nhello", 0);
}

static void test_smuggle_cl_syntax(void **state)
{
	static const struct status_case cases[] = {
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\nhello", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5.0\r\n\r\nhello", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \"5\"\r\n\r\nhello", 400 },
	};

	(void)state;

	check_cases(&dflt, cases, ARRAY_SIZE(cases));
}

static void test_smuggle_te_not_final(void **state)
{
	(void)state;
	/* RFC 9112 6.3: chunked not last -> length unknown -> 400 */
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
	       "0\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: identity\r\n\r\n0\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked;q=1\r\n\r\n", 400);
}

static void test_smuggle_te_malformed(void **state)
{
	(void)state;
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"
	       "0\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
	       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\x0b\r\n\r\n", 400);
	/* HTTP/1.0 has no chunked coding: framing faulty (RFC 9112 6.1) */
	EXPECT(&dflt, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400);
	/* what is allowed: case, OWS, empty list elements */
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  , CHUNKED \r\n\r\n"
	       "0\r\n\r\n", 0);
}

static void test_smuggle_bad_chunk_size(void **state)
{
	static const struct status_case cases[] = {
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\ng\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n;x\r\nhello\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\x01\r\nhello\r\n", 400 },
	};

	(void)state;

	check_cases(&dflt, cases, ARRAY_SIZE(cases));
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "5 \t; a = b\r\nhello\r\n0\r\n\r\n", 0);
}

static void test_smuggle_chunk_size_overflow(void **state)
{
	struct http_limits l = lim(8192, 1024, 50, SIZE_MAX);

	(void)state;

	/* 2^64 does not fit: overflow, not a huge valid size */
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "10000000000000000\r\n", 400);
	EXPECT(&l, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "fffffffffffffffff\r\n", 400);
	/* 2^64 - 1 fits, then is refused by the body limit */
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "ffffffffffffffff\r\n", 413);
	/* a second chunk may not push the total over max_body either */
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\nx\r\nffff\r\n", MORE);
	EXPECT(&dflt, "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	       "1\r\nx\r\n10000\r\n", 413);
}

static void test_smuggle_chunk_line_endings(void **state)
{
	static const struct status_case cases[] = {
		/* bare LF after the size */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", 400 },
		/* more data than the size said */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", 400 },
		/* bare LF after the data */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n\n0\r\n\r\n", 400 },
		/* bare CR after the data */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r0\r\n\r\n", 400 },
		/* bare LF ending the last chunk or the trailer section */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\n", 400 },
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\n\r\n", 400 },
		/* bare CR in an extension */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a\rb\r\nhello\r\n", 400 },
		/* folded trailer */
		{ "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: 1\r\n 2\r\n\r\n", 400 },
	};

	(void)state;

	check_cases(&dflt, cases, ARRAY_SIZE(cases));
}

/* --- pipelining, reset, 100-continue --- */

#define PIPE_ONE "POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
#define PIPE_TWO "GET /two?x HTTP/1.1\r\nHost: b\r\n\r\n"
#define PIPE_THREE "GET /three"

static void test_pipelining(void **state)
{
	static const char two[] = PIPE_ONE PIPE_TWO PIPE_THREE;
	const size_t len1 = sizeof(PIPE_ONE) - 1, len2 = sizeof(PIPE_TWO) - 1;
	struct http_parser *p;
	const struct http_request *req;
	size_t consumed;

	(void)state;
	assert_int_equal(parse_both(&dflt, two, sizeof(two) - 1, &p, &consumed), 1);
	assert_int_equal(consumed, len1);
	req = http_parser_request(p);
	assert_string_equal(req->path, "/one");
	assert_string_equal(req->body, "hello");

	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, two + len1, sizeof(two) - 1 - len1, &consumed), 1);
	assert_int_equal(consumed, len2);
	req = http_parser_request(p);
	assert_string_equal(req->path, "/two");
	assert_string_equal(req->query, "x");
	assert_string_equal(http_request_header(req, "host"), "b");
	assert_int_equal(req->body_len, 0);

	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, two + len1 + len2, sizeof(PIPE_THREE) - 1,
					  &consumed), 0);
	assert_int_equal(consumed, sizeof(PIPE_THREE) - 1);
	http_parser_destroy(&p);
}

#define CHUNKED_ONE "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" \
	"3\r\nabc\r\n0\r\n\r\n"
#define CL_ZERO "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n"
#define NEXT_REQ "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n"

static void test_pipelining_after_chunked(void **state)
{
	/* what follows the last chunk, or an empty body, is the next request */
	static const char two[] = CHUNKED_ONE NEXT_REQ;
	static const char zero[] = CL_ZERO NEXT_REQ;
	struct http_parser *p;
	size_t consumed;

	(void)state;
	assert_int_equal(parse_both(&dflt, two, sizeof(two) - 1, &p, &consumed), 1);
	assert_int_equal(consumed, sizeof(CHUNKED_ONE) - 1);
	assert_string_equal(http_parser_request(p)->body, "abc");
	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, two + consumed, sizeof(NEXT_REQ) - 1, &consumed), 1);
	assert_int_equal(consumed, sizeof(NEXT_REQ) - 1);
	assert_string_equal(http_parser_request(p)->path, "/smuggled");
	http_parser_destroy(&p);

	assert_int_equal(parse_both(&dflt, zero, sizeof(zero) - 1, &p, &consumed), 1);
	assert_int_equal(consumed, sizeof(CL_ZERO) - 1);
	assert_int_equal(http_parser_request(p)->body_len, 0);
	http_parser_destroy(&p);
}

static void test_reset_reuse(void **state)
{
	static const char first[] = "PUT /a?q=1 HTTP/1.1\r\nHost: a\r\nX-One: 1\r\n"
		"Expect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
	static const char second[] = "GET /b HTTP/1.0\r\n\r\n";
	struct http_parser *p = http_parser_create(&dflt);
	const struct http_request *req;
	struct buf big;
	size_t consumed, i;

	(void)state;

	assert_int_equal(http_parser_feed(p, first, sizeof(first) - 1, &consumed), 1);
	http_parser_reset(p);
	assert_false(http_parser_head_done(p));
	assert_int_equal(http_parser_feed(p, second, sizeof(second) - 1, &consumed), 1);
	req = http_parser_request(p);
	assert_string_equal(req->method, "GET");
	assert_string_equal(req->path, "/b");
	assert_null(req->query);
	assert_int_equal(req->version_minor, 0);
	assert_int_equal(req->header_count, 0);
	assert_null(http_request_header(req, "X-One"));
	assert_int_equal(req->body_len, 0);
	assert_string_equal(req->body, "");
	assert_false(req->expect_continue);
	assert_false(req->keep_alive);

	/* a reset clears an error too */
	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, "BAD\x01", 4, &consumed), -1);
	assert_int_equal(http_parser_error_status(p), 400);
	http_parser_reset(p);
	assert_int_equal(http_parser_error_status(p), 0);
	assert_string_equal(http_parser_error(p), "no error");
	assert_int_equal(http_parser_feed(p, second, sizeof(second) - 1, &consumed), 1);

	/* a large body, then a small request on the same parser */
	buf_init(&big, 0);
	buf_append_str(&big, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 40000\r\n\r\n");
	for (i = 0; i < 40000; i++)
		buf_append(&big, "z", 1);
	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, big.data, big.len, &consumed), 1);
	assert_int_equal(http_parser_request(p)->body_len, 40000);
	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, first, sizeof(first) - 1, &consumed), 1);
	assert_string_equal(http_parser_request(p)->body, "abc");
	assert_string_equal(http_parser_request(p)->query, "q=1");
	buf_free(&big);
	http_parser_destroy(&p);
}

static void test_100_continue(void **state)
{
	static const char head[] = "PUT /f HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
		"Content-Length: 4\r\n\r\n";
	struct http_parser *p = http_parser_create(&dflt);
	const struct http_request *req;
	size_t consumed, i;

	(void)state;

	/* the head byte by byte: head_done only once the empty line is in */
	for (i = 0; i < sizeof(head) - 1; i++) {
		assert_false(http_parser_head_done(p));
		assert_int_equal(feed_copy(p, head + i, 1, &consumed), 0);
	}
	assert_true(http_parser_head_done(p));
	req = http_parser_request(p);
	assert_true(req->expect_continue);
	assert_string_equal(req->method, "PUT");
	assert_string_equal(req->path, "/f");
	assert_int_equal(feed_copy(p, "da", 2, &consumed), 0);
	assert_true(http_parser_head_done(p));
	assert_int_equal(feed_copy(p, "ta", 2, &consumed), 1);
	assert_false(http_parser_head_done(p));
	assert_string_equal(http_parser_request(p)->body, "data");
	http_parser_destroy(&p);
}

static void test_100_continue_chunked(void **state)
{
	static const char head[] = "PUT /f HTTP/1.1\r\nHost: a\r\nEXPECT:  100-CONTINUE \r\n"
		"Transfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "2\r\nok\r\n0\r\nT: x\r\n";
	struct http_parser *p = http_parser_create(&dflt);
	size_t consumed;

	(void)state;

	assert_int_equal(feed_copy(p, head, sizeof(head) - 1, &consumed), 0);
	assert_true(http_parser_head_done(p));
	assert_true(http_parser_request(p)->expect_continue);
	assert_int_equal(feed_copy(p, body, sizeof(body) - 1, &consumed), 0);
	assert_true(http_parser_head_done(p));
	assert_int_equal(feed_copy(p, "\r\n", 2, &consumed), 1);
	assert_false(http_parser_head_done(p));
	assert_string_equal(http_parser_request(p)->body, "ok");
	http_parser_destroy(&p);
}

static void test_expect_ignored(void **state)
{
	struct http_parser *p;
	size_t consumed;
	static const char v10[] = "PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n";
	static const char other[] = "PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continued\r\n"
		"Content-Length: 1\r\n\r\n";

	(void)state;

	/* RFC 9110 10.1.1: a server MUST ignore 100-continue from HTTP/1.0 */
	assert_int_equal(parse_both(&dflt, v10, sizeof(v10) - 1, &p, &consumed), 0);
	assert_true(http_parser_head_done(p));
	assert_false(http_parser_request(p)->expect_continue);
	http_parser_destroy(&p);
	assert_int_equal(parse_both(&dflt, other, sizeof(other) - 1, &p, &consumed), 0);
	assert_false(http_parser_request(p)->expect_continue);
	http_parser_destroy(&p);
}

static void test_final_states_sticky(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	struct http_parser *p = http_parser_create(&dflt);
	size_t consumed = 99;

	(void)state;

	assert_int_equal(http_parser_feed(p, req, sizeof(req) - 1, &consumed), 1);
	assert_false(http_parser_head_done(p));
	assert_int_equal(http_parser_feed(p, req, sizeof(req) - 1, &consumed), 1);
	assert_int_equal(consumed, 0);
	assert_string_equal(http_parser_request(p)->path, "/");

	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, "GET / HTTP/1.1\r\nX : y\r\n", 24, &consumed), -1);
	/* stops right at the space before the colon */
	assert_int_equal(consumed, 18);
	assert_int_equal(http_parser_feed(p, req, sizeof(req) - 1, &consumed), -1);
	assert_int_equal(consumed, 0);
	assert_int_equal(http_parser_error_status(p), 400);

	http_parser_reset(p);
	assert_int_equal(http_parser_feed(p, NULL, 0, &consumed), 0);
	assert_int_equal(consumed, 0);
	http_parser_destroy(&p);
}

static void test_keep_alive(void **state)
{
	static const struct {
		const char *data;
		bool keep_alive;
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: a\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nConnection: CLOSE\r\n\r\n", false },
		{ "GET / HTTP/1.1\r\nHost: a\r\nConnection: closed\r\n\r\n", true },
		{ "GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: te,  KEEP-ALIVE \r\n\r\n", true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive-ish\r\n\r\n", false },
	};
	size_t i, consumed;

	(void)state;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_parser *p;

		assert_int_equal(parse_both(&dflt, cases[i].data, strlen(cases[i].data),
					    &p, &consumed), 1);
		if (http_parser_request(p)->keep_alive != cases[i].keep_alive)
			fail_msg("keep_alive wrong for %s", cases[i].data);
		http_parser_destroy(&p);
	}
}

static void test_header_lookup(void **state)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\nX-Dup: first\r\n"
		"x-dup: second\r\nX-Empty:\r\n\r\n";
	struct http_parser *p;
	const struct http_request *r;
	size_t consumed;

	(void)state;

	assert_int_equal(parse_both(&dflt, req, sizeof(req) - 1, &p, &consumed), 1);
	r = http_parser_request(p);
	assert_int_equal(r->header_count, 4);
	assert_string_equal(http_request_header(r, "x-DUP"), "first");
	assert_string_equal(r->headers[2].name, "x-dup");
	assert_string_equal(r->headers[2].value, "second");
	assert_string_equal(http_request_header(r, "X-Empty"), "");
	assert_null(http_request_header(r, "X-Missing"));
	assert_null(http_request_header(r, "X-Du"));
	http_parser_destroy(&p);
}

static void test_every_prefix_needs_more(void **state)
{
	/* a complete request is complete only at its last byte */
	static const char req[] = "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		"3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n";
	size_t n, consumed;

	(void)state;
	for (n = 0; n < sizeof(req) - 1; n++) {
		struct http_parser *p = http_parser_create(&dflt);

		assert_int_equal(feed_copy(p, req, n, &consumed), 0);
		assert_int_equal(consumed, n);
		http_parser_destroy(&p);
	}
}

#define GOLDEN(n) { .name = "golden/" n, .test_func = test_golden, .initial_state = (void *)(n) }

int main(void)
{
	const struct CMUnitTest tests[] = {
		GOLDEN("get-simple"),
		GOLDEN("get-query"),
		GOLDEN("get-empty-query"),
		GOLDEN("post-content-length"),
		GOLDEN("post-chunked"),
		GOLDEN("chunked-case"),
		GOLDEN("http10-default"),
		GOLDEN("http10-keepalive"),
		GOLDEN("connection-close"),
		GOLDEN("absolute-form"),
		GOLDEN("absolute-form-nopath"),
		GOLDEN("asterisk-options"),
		GOLDEN("bare-lf"),
		GOLDEN("leading-empty-lines"),
		GOLDEN("ows-trim"),
		GOLDEN("expect-continue"),
		GOLDEN("pipelined"),
		GOLDEN("duplicate-cl-same"),
		GOLDEN("binary-body"),
		GOLDEN("obs-text-value"),
		GOLDEN("obs-fold"),
		GOLDEN("space-before-colon"),
		GOLDEN("version-20"),
		GOLDEN("version-lowercase"),
		GOLDEN("cl-te"),
		GOLDEN("te-gzip-chunked"),
		GOLDEN("bare-cr"),
		GOLDEN("missing-host"),
		GOLDEN("header-nul"),
		GOLDEN("target-too-long"),
		cmocka_unit_test(test_limit_head),
		cmocka_unit_test(test_limit_head_leading_lines),
		cmocka_unit_test(test_limit_target),
		cmocka_unit_test(test_limit_headers),
		cmocka_unit_test(test_limit_body_content_length),
		cmocka_unit_test(test_limit_body_content_length_overflow),
		cmocka_unit_test(test_limit_body_chunked),
		cmocka_unit_test(test_limit_trailers),
		cmocka_unit_test(test_limit_chunk_extensions),
		cmocka_unit_test(test_limit_chunk_leading_zeros),
		cmocka_unit_test(test_status_400_request_line),
		cmocka_unit_test(test_status_400_fields),
		cmocka_unit_test(test_status_400_missing_host),
		cmocka_unit_test(test_status_501),
		cmocka_unit_test(test_status_505),
		cmocka_unit_test(test_smuggle_cl_te),
		cmocka_unit_test(test_smuggle_duplicate_cl),
		cmocka_unit_test(test_smuggle_cl_syntax),
		cmocka_unit_test(test_smuggle_te_not_final),
		cmocka_unit_test(test_smuggle_te_malformed),
		cmocka_unit_test(test_smuggle_bad_chunk_size),
		cmocka_unit_test(test_smuggle_chunk_size_overflow),
		cmocka_unit_test(test_smuggle_chunk_line_endings),
		cmocka_unit_test(test_pipelining),
		cmocka_unit_test(test_pipelining_after_chunked),
		cmocka_unit_test(test_reset_reuse),
		cmocka_unit_test(test_100_continue),
		cmocka_unit_test(test_100_continue_chunked),
		cmocka_unit_test(test_expect_ignored),
		cmocka_unit_test(test_final_states_sticky),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_header_lookup),
		cmocka_unit_test(test_every_prefix_needs_more),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
