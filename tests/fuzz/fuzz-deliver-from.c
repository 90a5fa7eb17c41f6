/* libFuzzer target for server/deliver/deliver-from.c: the From: and Sender:
 * fields of a submitted message, which decide whose address a message may
 * carry. Whatever the input: no crash, and on success every address is
 * non-empty, lower-case, holds an '@' and no space or control byte, and
 * deliver_header_from() agrees with the parse. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deliver.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_address(const char *a)
{
	check(a != NULL && a[0] != '\0' && strchr(a, '@') != NULL);
	check(strlen(a) <= DELIVER_FROM_ADDRESS_MAX);
	for (const char *p = a; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		check(c > 0x20 && c != 0x7f && !(c >= 'A' && c <= 'Z'));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct deliver_from f;
	char out[DELIVER_FROM_ADDRESS_MAX + 1];
	const char *msg = (const char *)data;

	if (size > 65536)
		return 0;
	int rc = deliver_from_parse(msg, size, &f);
	int one = deliver_header_from(msg, size, out, sizeof(out));
	if (rc < 0) {
		check(one < 0);
		return 0;
	}
	check(f.nfrom >= 1 && f.nfrom <= DELIVER_FROM_MAX);
	for (size_t i = 0; i < f.nfrom; i++)
		check_address(f.from[i]);
	if (f.nfrom > 1)
		check(f.sender != NULL);
	if (f.sender != NULL)
		check_address(f.sender);
	check((one == 0) == (f.nfrom == 1));
	if (one == 0)
		check(strcmp(out, f.from[0]) == 0);
	deliver_from_free(&f);
	return 0;
}
