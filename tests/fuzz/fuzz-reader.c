/* libFuzzer target for server/core/reader.c. The first byte picks max_line;
 * the input is fed in chunks whose sizes come from the data, lines of the
 * form "{N}" start an N-byte literal. Checks that consumption never passes
 * the input, lines respect max_line, and literals deliver exactly N bytes. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t max_line = 1 + data[0] % 64;
	size_t step = 1 + data[1] % 17;
	data += 2;
	size -= 2;

	struct reader r;
	struct buf in;
	reader_init(&r, max_line);
	buf_init(&in, 0);
	uint64_t literal_expected = 0, literal_got = 0;
	bool literal = false;
	size_t fed = 0;
	while (fed < size) {
		size_t n = size - fed < step ? size - fed : step;
		buf_append(&in, data + fed, n);
		fed += n;
		for (;;) {
			struct reader_item item;
			size_t consumed;
			int ret = reader_next(&r, in.data, in.len, &item, &consumed);
			if (consumed > in.len)
				abort();
			if (ret == READER_LINE) {
				if (item.len > max_line || memchr(item.data, '\n', item.len) != NULL)
					abort();
				if (item.len >= 3 && item.data[0] == '{' && item.data[item.len - 1] == '}') {
					uint64_t v;
					if (str_to_u64(item.data + 1, item.len - 2, 100000, &v) == 0) {
						reader_begin_literal(&r, v);
						literal = true;
						literal_expected = v;
						literal_got = 0;
					}
				}
			} else if (ret == READER_LITERAL || ret == READER_LITERAL_END) {
				if (!literal)
					abort();
				literal_got += item.len;
				if (literal_got > literal_expected)
					abort();
				if (ret == READER_LITERAL_END) {
					if (literal_got != literal_expected)
						abort();
					literal = false;
				}
			}
			buf_consume(&in, consumed);
			if (ret == READER_MORE && consumed == 0)
				break;
			if (in.len == 0 && ret != READER_LITERAL_END && ret != READER_LINE)
				break;
		}
		/* Without an LF, the reader never lets more than max_line + 2 bytes pile up. */
		if (!literal && in.len > max_line + 2 + step)
			abort();
	}
	buf_free(&in);
	return 0;
}
