/* libFuzzer target for proto/dns_packet.c: any bytes as a DNS response. The
 * parser must return 0 or -1 without reading past the input (an exact-size
 * heap copy lets ASan see it), and what it returns must respect the header's
 * limits. The first name is also fed back as a query name. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_packet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_message m;
	unsigned char *copy = malloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	const char *err = NULL;
	int ret = dns_packet_parse(copy, size, &m, &err);
	check(ret == 0 || ret == -1);
	if (ret < 0) {
		check(err != NULL);
	} else {
		check(m.nrrs <= DNS_PACKET_MAX_RRS);
		check(strlen(m.qname) < DNS_NAME_MAX);
		for (size_t i = 0; i < m.nrrs; i++) {
			check(strlen(m.rrs[i].owner) < DNS_NAME_MAX);
			check(strlen(m.rrs[i].target) < DNS_NAME_MAX);
			/* Presentation names never carry raw bytes that could
			 * be confused for syntax. */
			for (const char *c = m.rrs[i].target; *c != '\0'; c++)
				check(*c > ' ' && *c < 0x7f);
		}
		if (m.qname[0] != '\0') {
			unsigned char q[512];
			int n = dns_packet_query(m.id, m.qname, m.qtype, q, sizeof(q), &err);
			if (n > 0) {
				struct dns_message *back = malloc(sizeof(*back));
				q[2] |= 0x80;
				check(dns_packet_parse(q, (size_t)n, back, &err) == 0);
				check(dns_name_eq(back->qname, m.qname));
				free(back);
			}
		}
	}
	free(copy);
	return 0;
}
