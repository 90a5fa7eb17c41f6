/* libFuzzer target for proto/pop3_parser.c: every input line goes through the
 * command parser; the whole input through the multi-line encoder, whose
 * output must end in ".\r\n" and contain no bare LF and no line starting
 * with a single '.' other than the terminator. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pop3_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1);
	memcpy(copy, data, size);
	copy[size] = '\0';
	size_t pos = 0;
	while (pos < size) {
		char *lf = memchr(copy + pos, '\n', size - pos);
		size_t len = lf != NULL ? (size_t)(lf - (copy + pos)) : size - pos;
		struct pop3_command cmd;
		const char *error = NULL;
		if (len <= POP3_MAX_AUTH_LINE) {
			int ret = pop3_parse_command(copy + pos, len, &cmd, &error);
			if (ret < 0 && error == NULL)
				abort();
			if (ret == 0 && cmd.argc > 2)
				abort();
		}
		pos += len + 1;
	}
	free(copy);

	long top = size > 0 ? (long)(data[0] % 4) - 1 : -1;
	struct buf out;
	buf_init(&out, 0);
	pop3_write_multiline((const char *)data, size, top, &out);
	if (out.len < 3 || memcmp(out.data + out.len - 3, ".\r\n", 3) != 0)
		abort();
	for (size_t i = 0; i < out.len; i++) {
		if (out.data[i] == '\n' && (i == 0 || out.data[i - 1] != '\r'))
			abort();
		bool line_start = i == 0 || out.data[i - 1] == '\n';
		if (line_start && out.data[i] == '.' && i + 3 != out.len &&
		    !(i + 1 < out.len && out.data[i + 1] == '.'))
			abort();
	}
	buf_free(&out);
	return 0;
}
