/* libFuzzer target for proto/dmarc_record.c: any bytes as a DMARC record. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmarc_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size > 0 ? size : 1);
	memcpy(in, data, size);
	struct dmarc_record rec;
	const char *err = NULL;
	if (dmarc_record_parse(in, size, &rec, &err) == 0) {
		if (rec.pct > 100 || !dmarc_is_record(in, size))
			abort();
	} else if (err == NULL) {
		abort();
	}
	free(in);
	return 0;
}
