/* libFuzzer target for proto/managesieve_parser.c: the input is a stream of
 * lines and announced literals, fed as the session feeds them (SASL
 * response mode when the first byte is odd); every result must be
 * consistent (an error has a message, a complete command respects its
 * argument bounds), and names and strings go through the name check and
 * the string writer, whose quoted form must parse back to the input. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "managesieve_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const char *s, size_t len)
{
	struct buf b;
	buf_init(&b, 0);
	msieve_write_string(&b, s, len);
	if (b.data[0] == '"' && msieve_utf8_valid(s, len)) {
		struct buf line;
		buf_init(&line, 0);
		buf_append_str(&line, "GETSCRIPT ");
		buf_append(&line, b.data, b.len);
		struct msieve_parser p;
		const char *e;
		bool big;
		msieve_parser_init(&p, 0);
		if (msieve_parser_line(&p, line.data, line.len, &big, &e) != MSIEVE_DONE ||
		    p.args[0].len != len || memcmp(p.args[0].str, s, len) != 0)
			abort();
		msieve_parser_free(&p);
		buf_free(&line);
	}
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct msieve_parser p;
	msieve_parser_init(&p, 4096);
	msieve_parser_reset(&p, size > 0 && (data[0] & 1));
	size_t pos = size > 0 ? 1 : 0;
	while (pos < size) {
		const char *lf = memchr(s + pos, '\n', size - pos);
		size_t len = lf != NULL ? (size_t)(lf - (s + pos)) : size - pos;
		size_t l = len > 0 && s[pos + len - 1] == '\r' ? len - 1 : len;
		bool big;
		const char *error = NULL;
		int ret = msieve_parser_line(&p, s + pos, l, &big, &error);
		pos += len + (lf != NULL ? 1 : 0);
		if (ret == MSIEVE_ERROR) {
			if (error == NULL)
				abort();
			if (big && p.literal_size <= 4096)
				abort();
			msieve_parser_reset(&p, false);
			continue;
		}
		if (ret == MSIEVE_LITERAL) {
			if (p.literal_size > 4096)
				abort();
			size_t n = (size_t)p.literal_size;
			if (n > size - pos)
				n = size - pos;
			msieve_parser_literal(&p, s + pos, n / 2, false);
			msieve_parser_literal(&p, s + pos + n / 2, n - n / 2, true);
			pos += n;
			continue;
		}
		if (p.argc > MSIEVE_MAX_ARGS)
			abort();
		for (unsigned i = 0; i < p.argc; i++) {
			if (p.args[i].is_number)
				continue;
			(void)msieve_name_valid(p.args[i].str, p.args[i].len);
			roundtrip(p.args[i].str, p.args[i].len);
		}
		msieve_parser_reset(&p, false);
	}
	msieve_parser_free(&p);
	return 0;
}
