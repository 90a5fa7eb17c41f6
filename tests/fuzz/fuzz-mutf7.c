/* libFuzzer target for proto/mutf7.c. Decoding must be the exact inverse of
 * encoding: whatever decodes must re-encode to the same bytes (one canonical
 * form), and whatever UTF-8 encodes must decode back to itself as valid
 * UTF-8. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_parser.h"
#include "mutf7.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data, *error;
	struct buf u, m;

	buf_init(&u, 0);
	buf_init(&m, 0);
	if (mutf7_to_utf8(in, size, &u, &error) == 0) {
		check(mutf7_is_valid(in, size));
		check(imap_utf8_valid(u.data != NULL ? u.data : "", u.len));
		check(mutf7_from_utf8(u.data != NULL ? u.data : "", u.len, &m, &error) == 0);
		check(m.len == size && (size == 0 || memcmp(m.data, in, size) == 0));
	} else {
		check(!mutf7_is_valid(in, size));
	}
	buf_reset(&u);
	buf_reset(&m);
	if (mutf7_from_utf8(in, size, &m, &error) == 0) {
		size_t i;

		check(imap_utf8_valid(in, size));
		for (i = 0; i < m.len; i++)
			check(m.data[i] >= 0x20 && m.data[i] <= 0x7e);
		check(mutf7_to_utf8(m.data != NULL ? m.data : "", m.len, &u, &error) == 0);
		check(u.len == size && (size == 0 || memcmp(u.data, in, size) == 0));
	} else {
		check(!imap_utf8_valid(in, size));
	}
	buf_free(&u);
	buf_free(&m);
	return 0;
}
