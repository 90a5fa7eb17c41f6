/* libFuzzer target for proto/sasl.c: the first byte picks the mechanism, the
 * rest is split into lines fed as responses. Also checks that strict base64
 * decoding of an encoding gives the input back. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct sasl s = { 0 };
	sasl_begin(&s, data[0] & 1 ? SASL_MECH_LOGIN : SASL_MECH_PLAIN);
	char *copy = malloc(size);
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = '\0';
	struct buf chal;
	buf_init(&chal, 0);
	char *p = copy;
	int ret = 0;
	for (int round = 0; round < 4 && ret == 0; round++) {
		char *nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		const char *err = NULL;
		buf_reset(&chal);
		ret = sasl_step(&s, round == 0 && (data[0] & 2) ? NULL : p, &chal, &err);
		if (ret < 0 && err == NULL)
			abort();
		if (ret == 1 && (s.authcid == NULL || s.password == NULL))
			abort();
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	sasl_reset(&s);
	buf_free(&chal);
	free(copy);

	struct buf enc, dec;
	buf_init(&enc, 0);
	buf_init(&dec, 0);
	base64_encode(data, size, &enc);
	if (base64_decode_strict(enc.data, enc.len, &dec) < 0 || dec.len != size ||
	    memcmp(dec.data, data, size) != 0)
		abort();
	buf_free(&enc);
	buf_free(&dec);
	return 0;
}
