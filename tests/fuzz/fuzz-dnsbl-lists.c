/* libFuzzer target for the [dnsbl] lists option parser and query names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../server/scan/dnsbl-query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct dnsbl_list l[4];
	const char *error;
	int n = dnsbl_parse_lists(s, "DNSBL", l, 4, &error);
	char q[300];
	for (int i = 0; i < n; i++) {
		(void)dnsbl_ip_query("2001:db8::1", l[i].zone, q, sizeof(q));
		(void)dnsbl_domain_query("example.org", l[i].zone, q, sizeof(q));
	}
	(void)dnsbl_ip_query(s, "bl.example", q, sizeof(q));
	free(s);
	return 0;
}
