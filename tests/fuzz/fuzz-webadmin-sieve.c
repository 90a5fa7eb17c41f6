/* libFuzzer target for webadmin/wa-sieve.c: the input is a script whose
 * "#@" lines the Mail rules page reads back (a user can write any script
 * under that name). Whatever they hold, the settings kept must generate a
 * script that proto/sieve compiles, and generating again from the
 * generated script must give the same text (a fixed point). */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "wa-sieve.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64 * 1024)
		return 0;
	struct wa_sieve s, t;
	wa_sieve_init(&s);
	wa_sieve_parse(&s, (const char *)data, size);
	struct buf a, b;
	buf_init(&a, 0);
	buf_init(&b, 0);
	wa_sieve_generate(&s, &a);
	char *error = NULL;
	if (sieve_check(a.data, a.len, NULL, &error) < 0) {
		fprintf(stderr, "generated script does not compile: %s\n%s\n", error, a.data);
		abort();
	}
	wa_sieve_init(&t);
	wa_sieve_parse(&t, a.data, a.len);
	wa_sieve_generate(&t, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	buf_free(&a);
	buf_free(&b);
	wa_sieve_free(&s);
	wa_sieve_free(&t);
	return 0;
}
