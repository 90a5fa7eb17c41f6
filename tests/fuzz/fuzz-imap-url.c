/* libFuzzer target for proto/imap_url.c: any bytes as an IMAP URL (the
 * CATENATE/URLFETCH/BURL argument). A parsed URL's strings must be
 * NUL-terminated and its rump a prefix of the input. */
#include "imap_url.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_url u;
	const char *error = NULL;
	if (imap_url_parse((const char *)data, size, &u, &error) == 0) {
		if (u.mailbox != NULL)
			(void)strlen(u.mailbox);
		if (u.section != NULL)
			(void)strlen(u.section);
		if (u.rump_len > size)
			abort();
		if ((u.token != NULL) != (u.mechanism != NULL))
			abort();
		imap_url_free(&u);
	} else if (error == NULL) {
		abort();
	}
	int64_t t;
	(void)imap_url_parse_datetime((const char *)data, size, &t);
	return 0;
}
