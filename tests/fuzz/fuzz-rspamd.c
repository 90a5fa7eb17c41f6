/* libFuzzer target for proto/rspamd: HTTP replies with JSON bodies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rspamd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	static struct rspamd_reply rep;
	const char *error;
	(void)rspamd_parse_reply(copy, size, true, &rep, &error);
	(void)rspamd_parse_json(copy, size, &rep, &error);
	free(copy);
	return 0;
}
