/* net_key(): an address to the network it is counted under (IPv4 /N, IPv6
 * /N, v4-mapped IPv6 as IPv4). Used by login throttling (directory/) and the
 * per-IP connection limits (server/core/listener.c). */
#include "autoconf.h"
#include "netaddr.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int fallback(const char *addr, char *out, size_t out_len)
{
	if (out_len > 0) {
		size_t n = strnlen(addr, out_len - 1);
		memcpy(out, addr, n);
		out[n] = '\0';
	}
	return -1;
}

static void mask_bits(uint8_t *bytes, size_t nbytes, unsigned prefix)
{
	for (size_t i = 0; i < nbytes; i++) {
		unsigned bit = (unsigned)i * 8;
		if (prefix >= bit + 8)
			continue;
		if (prefix <= bit)
			bytes[i] = 0;
		else
			bytes[i] &= (uint8_t)(0xff << (8 - (prefix - bit)));
	}
}

static int key_v4(const uint8_t v4[4], unsigned prefix, char *out, size_t out_len)
{
	uint8_t b[4];
	char text[INET_ADDRSTRLEN];
	int n;

	memcpy(b, v4, 4);
	if (prefix > 32)
		prefix = 32;
	mask_bits(b, 4, prefix);
	if (inet_ntop(AF_INET, b, text, sizeof(text)) == NULL)
		return -1;
	if (prefix == 32)
		n = snprintf(out, out_len, "%s", text);
	else
		n = snprintf(out, out_len, "%s/%u", text, prefix);
	return n < 0 || (size_t)n >= out_len ? -1 : 0;
}

int net_key(const char *addr, unsigned v4_prefix, unsigned v6_prefix, char *out, size_t out_len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	uint8_t b[16];
	char text[INET6_ADDRSTRLEN];
	int n;

	if (out_len == 0)
		return -1;
	if (inet_pton(AF_INET, addr, b) == 1) {
		if (key_v4(b, v4_prefix, out, out_len) < 0)
			return fallback(addr, out, out_len);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, b) != 1)
		return fallback(addr, out, out_len);
	if (memcmp(b, mapped, sizeof(mapped)) == 0) {
		if (key_v4(b + 12, v4_prefix, out, out_len) < 0)
			return fallback(addr, out, out_len);
		return 0;
	}
	if (v6_prefix > 128)
		v6_prefix = 128;
	mask_bits(b, 16, v6_prefix);
	if (inet_ntop(AF_INET6, b, text, sizeof(text)) == NULL)
		return fallback(addr, out, out_len);
	n = snprintf(out, out_len, "%s/%u", text, v6_prefix);
	if (n < 0 || (size_t)n >= out_len)
		return fallback(addr, out, out_len);
	return 0;
}
