/* libFuzzer target for proto/imap_parser.c. The first input byte picks the
 * parser flags and a piece size; the rest is parsed once whole and once fed
 * in pieces (exact-size heap copies, so ASan sees any read past len). Both
 * runs must produce the same transcript of commands, literal announcements,
 * streamed bytes and errors, and every result must respect the limits. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_parser_limits limits = {
	.max_line = 64, .max_command = 256, .max_literal = 32, .max_append = 200,
	.max_depth = 3, .max_args = 12,
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static void render_arg(struct buf *o, const struct imap_arg *a, unsigned depth, size_t *nargs)
{
	size_t i;

	check(depth <= limits.max_depth);
	(*nargs)++;
	check(a->str != NULL && a->str[a->len] == '\0');
	(void)buf_printf(o, "%d:%zu:", (int)a->type, a->len);
	(void)buf_append(o, a->str, a->len);
	if (a->type == IMAP_ARG_LITERAL) {
		check(a->len <= limits.max_literal);
		check(a->literal8 || memchr(a->str, '\0', a->len) == NULL);
	}
	if (a->type == IMAP_ARG_LITERAL_STREAM)
		check(a->literal_size <= limits.max_append);
	if (a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_ATOM)
		check(memchr(a->str, '\r', a->len) == NULL && memchr(a->str, '\n', a->len) == NULL);
	if (a->type == IMAP_ARG_LIST) {
		(void)buf_append(o, "(", 1);
		for (i = 0; i < a->list_count; i++)
			render_arg(o, &a->list[i], depth + 1, nargs);
		(void)buf_append(o, ")", 1);
	}
}

static void render_cmd(struct buf *o, const struct imap_command *c)
{
	size_t i, nargs = 0;

	(void)buf_printf(o, "%s|%s|", c->tag, c->name);
	for (i = 0; i < c->arg_count; i++)
		render_arg(o, &c->args[i], 0, &nargs);
	check(nargs <= limits.max_args);
}

static void run(const char *in, size_t len, size_t piece, unsigned flags, struct buf *o)
{
	struct imap_parser *p = imap_parser_create(&limits, flags);
	size_t off = 0;
	int rounds = 0;

	for (;;) {
		size_t n = len - off < piece ? len - off : piece, used = SIZE_MAX;
		char *copy = xmalloc(n > 0 ? n : 1);
		int r;

		if (n > 0)
			memcpy(copy, in + off, n);
		r = imap_parser_feed(p, copy, n, &used);
		check(used <= n);
		off += used;
		if (r == IMAP_PARSER_LITERAL_DATA) {
			const struct imap_literal *l = imap_parser_literal(p);

			check(l->stream);
			check(l->chunk_len == 0 || (l->chunk >= copy && l->chunk + l->chunk_len <= copy + n));
			(void)buf_append(o, l->chunk, l->chunk_len);
			if (l->last)
				(void)buf_append(o, "<END>", 5);
		} else if (r != IMAP_PARSER_MORE) {
			(void)buf_append(o, "\n", 1);
		}
		free(copy);
		switch (r) {
		case IMAP_PARSER_MORE:
			check(used == n);
			if (off == len)
				goto out;
			break;
		case IMAP_PARSER_COMMAND:
			(void)buf_append(o, "CMD ", 4);
			render_cmd(o, imap_parser_command(p));
			break;
		case IMAP_PARSER_LITERAL: {
			const struct imap_literal *l = imap_parser_literal(p);

			check(l->size <= (l->stream ? limits.max_append : limits.max_literal));
			check(l->sync || l->stream);
			(void)buf_printf(o, "LIT %llu %d %d %d ", (unsigned long long)l->size,
					 l->sync, l->literal8, l->stream);
			render_cmd(o, imap_parser_command(p));
			/* sometimes refuse a synchronising literal */
			if (l->sync && l->size % 3 == 1)
				check(imap_parser_literal_reject(p) == 0);
			break;
		}
		case IMAP_PARSER_LITERAL_DATA:
			break;
		case IMAP_PARSER_ERROR:
			check(imap_parser_error_code(p) != IMAP_PARSER_ERR_NONE);
			check(imap_parser_error_reason(p)[0] != '\0');
			(void)buf_printf(o, "ERR %s %d %s %d", imap_parser_error_tag(p),
					 (int)imap_parser_error_code(p), imap_parser_error_reason(p),
					 imap_parser_must_disconnect(p));
			if (imap_parser_must_disconnect(p))
				goto out;
			break;
		default:
			check(0);
		}
		check(++rounds < 100000);
	}
out:
	imap_parser_destroy(&p);
	check(p == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a, b;
	unsigned flags;
	size_t piece;

	if (size == 0)
		return 0;
	flags = data[0] & 0x0f;
	piece = (size_t)(data[0] >> 4) + 1;
	buf_init(&a, 0);
	buf_init(&b, 0);
	run((const char *)data + 1, size - 1, size, flags, &a);
	run((const char *)data + 1, size - 1, piece, flags, &b);
	check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	return 0;
}
