/* libFuzzer target for proto/dkim_canon.c: any bytes as a message. Header
 * splitting must account for every header byte, and the canonical forms must
 * be idempotent and keep the invariants RFC 6376 3.4 promises (no WSP runs,
 * no WSP at line ends, no empty lines at the end of a relaxed body). */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_canon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *msg = malloc(size > 0 ? size : 1);
	memcpy(msg, data, size);
	struct dkim_field fields[64];
	size_t count = 0, body = 0;
	const char *err;
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (dkim_split_header(msg, size, fields, 64, &count, &body, &err) == 0) {
		check(body <= size);
		size_t covered = 0;
		for (size_t i = 0; i < count; i++) {
			check(fields[i].text == msg + covered);
			check(fields[i].namelen > 0 && fields[i].namelen <= fields[i].len);
			covered += fields[i].len;
			buf_reset(&a);
			dkim_canon_header_relaxed(fields[i].text, fields[i].len, true, &a);
			check(a.len >= 3 && memchr(a.data, ':', a.len) != NULL);
			check(a.data[a.len - 2] == '\r' && a.data[a.len - 1] == '\n');
			for (size_t k = 0; k + 1 < a.len; k++)
				check(!(a.data[k] == ' ' && (a.data[k + 1] == ' ' || a.data[k + 1] == '\t')));
			buf_reset(&a);
			dkim_canon_header_simple(fields[i].text, fields[i].len, true, &a);
			check(a.len == fields[i].len);
		}
		/* The fields cover the header exactly; the empty line follows. */
		check(covered == body || covered + 2 == body);
		buf_reset(&a);
		dkim_canon_body_relaxed(msg + body, size - body, &a);
		if (a.len > 0) {
			check(a.len >= 2 && a.data[a.len - 2] == '\r' && a.data[a.len - 1] == '\n');
			/* No empty line at the end, so never an empty last line. */
			check(a.len > 2 && !(a.len >= 4 && memcmp(a.data + a.len - 4, "\r\n\r\n", 4) == 0));
		}
		buf_reset(&b);
		dkim_canon_body_relaxed(a.data != NULL ? a.data : "", a.len, &b);
		check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
		buf_reset(&a);
		dkim_canon_body_simple(msg + body, size - body, &a);
		check(a.len >= 2);
		buf_reset(&b);
		dkim_canon_body_simple(a.data, a.len, &b);
		check(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	}
	buf_free(&a);
	buf_free(&b);
	free(msg);
	return 0;
}
