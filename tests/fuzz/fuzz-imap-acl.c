/* libFuzzer target for proto/imap_acl.c: any bytes as SETACL rights and as
 * an identifier. Accepted rights must write back to canonical letters that
 * parse to the same bits; an accepted identifier is lower-case, has no
 * space or control byte, and is accepted again unchanged. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_acl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';
	char mode, mode2;
	unsigned bits, bits2;
	if (imap_acl_rights_parse(in, &mode, &bits) == 0) {
		check(mode == '=' || mode == '+' || mode == '-');
		check((bits & ~IMAP_ACL_RIGHTS_ALL) == 0);
		struct buf b;
		buf_init(&b, 0);
		imap_acl_rights_write(&b, bits, true);
		const char *w = b.data != NULL ? b.data : "";
		check(imap_acl_rights_parse(w, &mode2, &bits2) == 0);
		check(mode2 == '=' && bits2 == bits);
		check(imap_acl_rights_bits(w) == (bits & IMAP_ACL_RIGHTS_ALL));
		buf_free(&b);
	}
	char out[IMAP_ACL_IDENTIFIER_MAX + 1], out2[IMAP_ACL_IDENTIFIER_MAX + 1];
	if (imap_acl_identifier_parse((const char *)data, size, out, sizeof(out)) == 0) {
		size_t n = strlen(out);
		check(n == size);
		for (size_t i = 0; i < n; i++)
			check((unsigned char)out[i] > 0x20 && out[i] != 0x7f &&
			      !(out[i] >= 'A' && out[i] <= 'Z'));
		check(imap_acl_identifier_parse(out, n, out2, sizeof(out2)) == 0);
		check(strcmp(out, out2) == 0);
	}
	free(in);
	return 0;
}
