/* libFuzzer target for proto/smtp_data.c. The first input byte picks the
 * piece size, DATA or BDAT mode and a size limit; the rest is fed once whole
 * and once in pieces (exact-size heap copies), and both runs must agree on
 * the result, the bytes consumed, the flags, the size and the output. A clean
 * DATA message is re-stuffed and read again: it must come back unchanged. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	int ret;
	size_t consumed;
	unsigned flags;
	uint64_t size;
	struct buf out;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static void run(struct run *r, const char *in, size_t len, size_t piece, uint64_t max,
		bool chunk)
{
	struct smtp_data_reader rd;
	size_t off = 0;

	smtp_data_init(&rd, max, chunk);
	buf_init(&r->out, 4096);
	r->ret = 0;
	do {
		size_t n = len - off < piece ? len - off : piece, used = SIZE_MAX;
		char *copy = malloc(n > 0 ? n : 1);

		check(copy != NULL);
		memcpy(copy, in + off, n);
		r->ret = smtp_data_feed(&rd, copy, n, &r->out, &used);
		free(copy);
		check(used <= n);
		check(r->ret == 0 || r->ret == 1);
		if (r->ret == 0)
			check(used == n);
		off += used;
	} while (r->ret == 0 && off < len);
	if (chunk)
		smtp_data_finish(&rd);
	r->consumed = off;
	r->flags = smtp_data_flags(&rd);
	r->size = smtp_data_size(&rd);
}

/* Dot-stuff a message and add the end marker. */
static void stuff(struct buf *dst, const char *msg, size_t len)
{
	size_t i;
	bool bol = true;

	for (i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			check(buf_append(dst, ".", 1) == 0);
		check(buf_append(dst, &msg[i], 1) == 0);
		bol = msg[i] == '\n';
	}
	check(buf_append(dst, ".\r\n", 3) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t maxes[4] = { 0, 16, 200, 100000 };
	struct run whole, pieces;
	const char *in;
	size_t len, piece;
	uint64_t max;
	bool chunk;

	if (size == 0)
		return 0;
	piece = (size_t)(data[0] % 16) + 1;
	chunk = (data[0] & 0x40) != 0;
	max = maxes[(data[0] >> 4) & 3];
	in = (const char *)data + 1;
	len = size - 1;

	run(&whole, in, len, len > 0 ? len : 1, max, chunk);
	run(&pieces, in, len, piece, max, chunk);
	check(whole.ret == pieces.ret);
	check(whole.consumed == pieces.consumed);
	check(whole.flags == pieces.flags);
	check(whole.size == pieces.size);
	check(whole.out.len == pieces.out.len);
	check(whole.out.len == 0 || memcmp(whole.out.data, pieces.out.data, whole.out.len) == 0);
	check(whole.out.len <= whole.size);
	if (max != 0)
		check(whole.out.len <= max);
	if (chunk)
		check(whole.ret == 0 && whole.consumed == len);
	if (whole.ret == 1) {
		/* the data ended exactly at CRLF "." CRLF */
		check(whole.consumed >= 3);
		check(memcmp(in + whole.consumed - 3, ".\r\n", 3) == 0);
		check(whole.consumed == 3 || in[whole.consumed - 4] == '\n');
	}
	if ((whole.flags & (SMTP_DATA_SMUGGLING | SMTP_DATA_TOO_BIG)) == 0) {
		const char *o = whole.out.data != NULL ? whole.out.data : "";
		size_t i;

		check(whole.out.len == whole.size);
		/* clean output has CR and LF only as CRLF pairs */
		for (i = 0; i < whole.out.len; i++) {
			if (o[i] == '\r')
				check(i + 1 < whole.out.len && o[i + 1] == '\n');
			if (o[i] == '\n')
				check(i > 0 && o[i - 1] == '\r');
		}
		if (whole.ret == 1) {
			struct buf st;
			struct run again;

			buf_init(&st, 0);
			stuff(&st, o, whole.out.len);
			run(&again, st.data, st.len, piece, max, false);
			check(again.ret == 1 && again.consumed == st.len);
			check(again.out.len == whole.out.len);
			check(again.out.len == 0 ||
			      memcmp(again.out.data, o, again.out.len) == 0);
			buf_free(&again.out);
			buf_free(&st);
		}
	}
	if ((whole.flags & ~SMTP_DATA_8BIT) != 0) {
		unsigned code;
		const char *enh, *text;

		check(smtp_data_reply(whole.flags, &code, &enh, &text) == -1);
		check(code == 552 || code == 554);
	}
	buf_free(&whole.out);
	buf_free(&pieces.out);
	return 0;
}
