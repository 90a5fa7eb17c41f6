/* libFuzzer: compile a Sieve script and run it on a fixed message. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "sieve.h"
#include "sieve-exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_script *s = NULL;
	char *err = NULL;
	if (sieve_compile((const char *)data, size, NULL, &s, &err) == 0)
		sieve_script_unref(&s);
	free(err);
	return 0;
}
