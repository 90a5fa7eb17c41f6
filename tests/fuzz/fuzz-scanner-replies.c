/* libFuzzer target for the scanner reply parsers: clamd and spamd. The
 * first byte picks the parser and whether the peer closed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clamd.h"
#include "spamc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned sel = data[0];
	const char *s = (const char *)data + 1;
	size_t n = size - 1;
	/* a heap copy so reads past the end are caught */
	char *copy = malloc(n ? n : 1);
	memcpy(copy, s, n);
	if (sel & 1) {
		enum clamd_verdict v;
		char name[32];
		(void)clamd_parse_reply(copy, n, &v, name, sizeof(name));
	} else {
		struct spamc_reply rep;
		const char *error;
		if (spamc_parse_reply(copy, n, (sel & 2) != 0, &rep, &error) == 1) {
			size_t pos = 0;
			const char *name;
			while (spamc_next_symbol(rep.body, rep.body_len, &pos, &name) > 0)
				;
		}
	}
	free(copy);
	return 0;
}
