/* libFuzzer target: the If-Schedule-Tag-Match parser (calendar/sched-tag.c).
 * The input is the header value; it is matched against a fixed tag and
 * against its own first quoted string, and must never read out of bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched-tag.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* not NUL-terminated on purpose: the parser takes a length */
	char *v = malloc(size > 0 ? size : 1);
	if (v == NULL)
		return 0;
	memcpy(v, data, size);
	(void)sched_tag_listed(v, size, "\"s-1\"");
	char tag[64];
	const char *q = memchr(v, '"', size);
	if (q != NULL) {
		const char *e = memchr(q + 1, '"', size - (size_t)(q + 1 - v));
		if (e != NULL && (size_t)(e - q + 1) < sizeof(tag)) {
			memcpy(tag, q, (size_t)(e - q + 1));
			tag[e - q + 1] = '\0';
			(void)sched_tag_listed(v, size, tag);
		}
	}
	free(v);
	return 0;
}
