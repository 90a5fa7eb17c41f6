/* libFuzzer target for proto/http_parser.c. The first input byte picks a
 * piece size; the rest is parsed once whole and once fed in pieces of that
 * size (each an exact-size heap copy, so ASan sees any read past len). Both
 * runs must agree on every result, request by request through a pipeline,
 * and every result must respect the limits the header promises. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Small limits, so the fuzzer reaches every one of them. */
static const struct http_limits limits = {
	.max_head = 512, .max_target = 128, .max_headers = 8, .max_body = 1024,
};

#define MAX_REQUESTS 16

static void check(int cond)
{
	if (!cond)
		abort();
}

static bool str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static int feed_copy(struct http_parser *p, const char *data, size_t n, size_t *used_r)
{
	char *copy = xmalloc(n);
	int ret;

	if (n > 0)
		memcpy(copy, data, n);
	*used_r = SIZE_MAX;
	ret = http_parser_feed(p, copy, n, used_r);
	free(copy);
	check(*used_r <= n);
	check(ret >= -1 && ret <= 1);
	if (ret == 0)
		check(*used_r == n);
	return ret;
}

/* Feed data in pieces until a piece completes or fails the request. */
static int feed_pieces(struct http_parser *p, const char *data, size_t len,
		       size_t piece, size_t *consumed_r)
{
	size_t off = 0, used;
	int ret;

	do {
		size_t n = len - off < piece ? len - off : piece;

		ret = feed_copy(p, data + off, n, &used);
		off += used;
	} while (ret == 0 && off < len);
	*consumed_r = off;
	return ret;
}

static void check_request(const struct http_request *r)
{
	size_t i;

	check(r->method != NULL && r->method[0] != '\0');
	check(r->target != NULL && r->path != NULL);
	check(strlen(r->target) <= limits.max_target);
	check(r->version_minor == 0 || r->version_minor == 1);
	check(r->header_count <= limits.max_headers);
	for (i = 0; i < r->header_count; i++) {
		check(r->headers[i].name[0] != '\0');
		check(strchr(r->headers[i].value, '\r') == NULL);
		check(strchr(r->headers[i].value, '\n') == NULL);
	}
	check(r->body != NULL);
	check(r->body_len <= limits.max_body);
	check(r->body[r->body_len] == '\0');
}

static void check_same(const struct http_request *a, const struct http_request *b)
{
	size_t i;

	check(str_same(a->method, b->method));
	check(str_same(a->target, b->target));
	check(str_same(a->path, b->path));
	check(str_same(a->query, b->query));
	check(a->version_minor == b->version_minor);
	check(a->header_count == b->header_count);
	for (i = 0; i < a->header_count; i++) {
		check(strcmp(a->headers[i].name, b->headers[i].name) == 0);
		check(strcmp(a->headers[i].value, b->headers[i].value) == 0);
	}
	check(a->body_len == b->body_len);
	check(memcmp(a->body, b->body, a->body_len) == 0);
	check(a->keep_alive == b->keep_alive);
	check(a->expect_continue == b->expect_continue);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_parser *whole, *pieces;
	const char *in;
	size_t len, piece, off = 0;
	int n;

	if (size == 0)
		return 0;
	piece = (size_t)(data[0] % 32) + 1;
	in = (const char *)data + 1;
	len = size - 1;

	whole = http_parser_create(&limits);
	pieces = http_parser_create(&limits);
	for (n = 0; n < MAX_REQUESTS; n++) {
		size_t c1, c2;
		int r1 = feed_pieces(whole, in + off, len - off, len - off > 0 ? len - off : 1, &c1);
		int r2 = feed_pieces(pieces, in + off, len - off, piece, &c2);

		check(r1 == r2);
		check(c1 == c2);
		check(c1 <= len - off);
		check(http_parser_head_done(whole) == http_parser_head_done(pieces));
		if (r1 < 0) {
			int st = http_parser_error_status(whole);

			check(st == http_parser_error_status(pieces));
			check(st == 400 || st == 413 || st == 414 || st == 431 ||
			      st == 501 || st == 505);
			check(!http_parser_head_done(whole));
			check(strcmp(http_parser_error(whole), http_parser_error(pieces)) == 0);
			break;
		}
		if (r1 == 0) {
			if (http_parser_head_done(whole)) {
				check_request(http_parser_request(whole));
				check_same(http_parser_request(whole), http_parser_request(pieces));
			}
			break;
		}
		check(!http_parser_head_done(whole));
		check_request(http_parser_request(whole));
		check_same(http_parser_request(whole), http_parser_request(pieces));
		off += c1;
		http_parser_reset(whole);
		http_parser_reset(pieces);
		if (off == len)
			break;
	}
	http_parser_destroy(&whole);
	http_parser_destroy(&pieces);
	check(whole == NULL && pieces == NULL);
	return 0;
}
