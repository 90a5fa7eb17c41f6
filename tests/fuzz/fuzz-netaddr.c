/* libFuzzer target for proto/netaddr.c. The input is a client address as
 * text plus two prefix lengths. net_key() must never write past out_len,
 * always NUL-terminate, and, when it succeeds, give a key that is stable:
 * feeding the key's address part back gives the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char addr[256], out[NET_KEY_MAX + 8], again[NET_KEY_MAX];
	unsigned v4, v6;
	size_t out_len;

	if (size < 3 || size - 3 >= sizeof(addr))
		return 0;
	v4 = data[0] % 40;	/* a little past the maxima: clamping */
	v6 = data[1] % 140;
	out_len = data[2] % (NET_KEY_MAX + 1);
	memcpy(addr, data + 3, size - 3);
	addr[size - 3] = '\0';

	memset(out, 'Z', sizeof(out));
	int rc = net_key(addr, v4, v6, out, out_len);
	for (size_t i = out_len; i < sizeof(out); i++)
		check(out[i] == 'Z');
	if (out_len == 0)
		return 0;
	check(memchr(out, '\0', out_len) != NULL);
	if (rc < 0) {
		check(strncmp(out, addr, out_len - 1) == 0);
		return 0;
	}
	/* Idempotent: the network address keys to itself. */
	char *slash = strchr(out, '/');
	if (slash)
		*slash = '\0';
	check(net_key(out, v4, v6, again, sizeof(again)) == 0);
	if (slash)
		*slash = '/';
	check(strcmp(out, again) == 0);
	return 0;
}
