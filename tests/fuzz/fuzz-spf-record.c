/* libFuzzer target for proto/spf_record.c: any bytes as an SPF record, and
 * every domain-spec of a record that parses expanded with fixed macro
 * values. Terms must point into the input; expansions must fit and never
 * exceed 253 octets as domains. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spf_record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *txt = malloc(size > 0 ? size : 1);
	memcpy(txt, data, size);
	static struct spf_record rec;
	const char *err = NULL;
	struct spf_macro_ctx ctx = {
		.sender = "strong-bad@email.example.com", .local = "strong-bad",
		.sender_domain = "email.example.com", .domain = "email.example.com",
		.ip = "192.0.2.3", .ptr = "unknown", .helo = "mx.example.org",
		.client_ip = "192.0.2.3", .receiver = "mx.local.test", .now = 1,
	};
	if (spf_record_parse(txt, size, &rec, &err) == 0) {
		check(rec.nterms <= SPF_MAX_TERMS);
		for (size_t i = 0; i < rec.nterms; i++) {
			const struct spf_term *t = &rec.terms[i];
			check(t->cidr4 <= 32 && t->cidr6 <= 128);
			if (t->domain_len > 0) {
				check(t->domain >= txt && t->domain + t->domain_len <= txt + size);
				char out[600];
				int n = spf_macro_expand(t->domain, t->domain_len, &ctx, false, true, out,
							 sizeof(out), &err);
				check(n < 0 || ((size_t)n == strlen(out) && n <= SPF_DOMAIN_MAX));
			}
		}
	} else {
		check(err != NULL);
	}
	/* the whole input as an explanation string too */
	char out[2048];
	int n = spf_macro_expand(txt, size, &ctx, true, false, out, sizeof(out), &err);
	check(n < 0 || (size_t)n < sizeof(out));
	free(txt);
	return 0;
}
