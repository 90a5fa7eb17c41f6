/* libFuzzer target: the WebDAV If header parser (calendar/dav-if.c). */
#include "dav-if.h"
#include "util.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);	/* a header value ends at a NUL */
	struct dav_if h;
	const char *error = NULL;
	if (dav_if_parse(s, &h, &error) == 0) {
		for (size_t i = 0; i < h.nlists; i++) {
			if (h.lists[i].nconds == 0 || h.lists[i].conds[0].value == NULL)
				__builtin_trap();
		}
	}
	dav_if_free(&h);
	free(s);
	return 0;
}
