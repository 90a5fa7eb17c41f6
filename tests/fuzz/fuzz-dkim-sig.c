/* libFuzzer target for proto/dkim_sig.c: any bytes as a DKIM-Signature
 * value, an ARC-Message-Signature value, a key record and base64. Every
 * span handed out must lie inside the input. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void inside(const char *p, size_t len, const char *buf, size_t size)
{
	check(p == NULL || (p >= buf && p + len <= buf + size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size > 0 ? size : 1);
	memcpy(in, data, size);
	static struct dkim_signature sig;
	const char *err = NULL;
	for (int arc = 0; arc < 2; arc++) {
		if (dkim_signature_parse(in, size, arc, &sig, &err) == 0) {
			inside(sig.b, sig.b_len, in, size);
			inside(sig.bh, sig.bh_len, in, size);
			inside(sig.d, sig.d_len, in, size);
			inside(sig.s, sig.s_len, in, size);
			inside(sig.i, sig.i_len, in, size);
			check(sig.nh >= 1 && sig.nh <= DKIM_MAX_SIGNED_HEADERS);
			for (size_t i = 0; i < sig.nh; i++)
				inside(sig.h[i], sig.h_len[i], in, size);
			check(!sig.has_x || !sig.has_t || sig.x >= sig.t);
			check(!arc || (sig.arc_instance >= 1 && sig.arc_instance <= 50));
		}
	}
	static struct dkim_key_record key;
	if (dkim_key_record_parse(in, size, &key, &err) == 0)
		inside(key.p, key.p_len, in, size);
	unsigned char out[512];
	long n = dkim_base64_decode(in, size, out, sizeof(out));
	check(n < 0 || (size_t)n <= sizeof(out));
	free(in);
	return 0;
}
