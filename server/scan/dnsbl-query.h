/* The pure parts of the DNS list checks: the query name of a client IP
 * under a DNSBL/DNSWL zone (IPv4 reversed octets, IPv6 reversed nibbles,
 * RFC 5782 section 2.1 and 2.4) or of a domain under a URIBL zone, and the
 * [dnsbl] lists option: "zone=weight, zone/127.0.0.2=weight, ...". */
#ifndef CAIRN_DNSBL_QUERY_H
#define CAIRN_DNSBL_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define DNSBL_MAX_LISTS 32

struct dnsbl_list {
	char zone[256];		/* lower-case, no trailing dot */
	double weight;		/* negative for a whitelist (DNSWL) */
	bool has_code;		/* only this answer counts */
	unsigned char code[4];
	char test[64];		/* the test name: PREFIX_ + zone in capitals, '.'/'-' as '_' */
};

/* Parse a comma-separated list of "zone[/a.b.c.d]=weight" into lists (at
 * most max); prefix is "DNSBL" or "URIBL" (test names). Returns the count,
 * or -1 with *error_r. An empty string gives 0. */
int dnsbl_parse_lists(const char *s, const char *prefix, struct dnsbl_list *lists, size_t max,
		      const char **error_r);

/* The query name for ip (text, IPv4 or IPv6) under zone, into out.
 * Returns 0, or -1 when ip is not an address (or out is too small). */
int dnsbl_ip_query(const char *ip, const char *zone, char *out, size_t outlen);

/* The query name for domain under zone. Returns 0, or -1 when too long. */
int dnsbl_domain_query(const char *domain, const char *zone, char *out, size_t outlen);

/* Whether an A answer (4 bytes) counts for list: 127.0.0.0/8 answers only
 * (RFC 5782 section 2.1), and the list's code when it has one; 127.0.0.1
 * and 127.255.255.x (query refused / error codes of some lists) never. */
bool dnsbl_answer_counts(const struct dnsbl_list *list, const unsigned char a[4]);

#endif
