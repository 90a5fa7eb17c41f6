/* Client network keys: the unit that per-IP limits and login throttling
 * count by. An IPv6 client usually owns a whole /64, so counting by full
 * address would let it take a fresh address per attempt; counting by network
 * closes that. Pure: libc only, no I/O, no globals. */
#ifndef CAIRN_NETADDR_H
#define CAIRN_NETADDR_H

#include <stddef.h>

/* Room for any key net_key() writes ("ffff:...:ffff/128" and NUL). */
#define NET_KEY_MAX 64

/* Writes the network key of a textual IPv4/IPv6 address into out: the address itself for IPv4 when v4_prefix == 32, else "a.b.c.0/N"; for IPv6 the address masked to v6_prefix bits followed by "/N" (v4-mapped IPv6 is treated as IPv4). Returns 0, or -1 if addr does not parse (out then holds addr unchanged, truncated). */
/* Prefixes above 32 (IPv4) or 128 (IPv6) are clamped to those; 0 is allowed
 * (one key for the whole family). The key is canonical (inet_ntop form), so
 * two spellings of one address give one key. -1 also when out_len is below
 * what the key needs (NET_KEY_MAX is always enough); out_len == 0 writes
 * nothing. */
int net_key(const char *addr, unsigned v4_prefix, unsigned v6_prefix, char *out, size_t out_len);

#endif
