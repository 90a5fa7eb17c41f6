/* libFuzzer target for proto/milter: a stream of milter replies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	size_t pos = 0;
	struct milter_packet p;
	size_t used;
	while (milter_parse_packet(copy + pos, size - pos, &p, &used) == 1) {
		struct milter_action a;
		const char *error;
		uint32_t v, ac, pr;
		if (p.cmd == SMFIR_OPTNEG)
			(void)milter_parse_optneg(&p, &v, &ac, &pr);
		else
			(void)milter_decode(&p, &a, &error);
		pos += used;
	}
	free(copy);
	return 0;
}
