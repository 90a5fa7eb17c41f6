/* The outbound queue's DNS: MX lookup per RFC 5321 section 5.1 with a small
 * UDP/TCP stub resolver of our own, so the resolver address and port are
 * configurable (tests point it at a local dnsmasq). Packets are parsed by the
 * pure proto/dns_packet.c. */
#ifndef CAIRN_DNS_H
#define CAIRN_DNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DNS_MAX_HOSTS 16
#define DNS_MAX_ADDRS 8

/* The outcome of a lookup, mapped to what the queue does with it. */
enum dns_status {
	DNS_OK,		/* hosts[] filled, in the order to try */
	DNS_TEMPFAIL,	/* SERVFAIL, timeout, unreachable resolver: retry later (4.4.3) */
	DNS_NOTFOUND,	/* NXDOMAIN, or no MX and no A/AAAA: permanent (5.1.2) */
	DNS_NULLMX,	/* RFC 7505 "MX 0 .": permanent (5.1.10) */
};

/* One mail exchanger with its addresses: AAAA and A interleaved, IPv6
 * first, each with port 25 set (the caller may change it). */
struct dns_host {
	char name[256];
	unsigned preference;
	size_t naddrs;
	struct sockaddr_storage addrs[DNS_MAX_ADDRS];
	socklen_t addrlens[DNS_MAX_ADDRS];
};

/* The hosts to try for one domain, or why there are none. Big (about 20 KiB):
 * callers keep it on the heap or in a worker's stack frame. */
struct dns_result {
	enum dns_status status;
	char error[256];	/* why, naming the domain and the query type */
	size_t nhosts;
	struct dns_host hosts[DNS_MAX_HOSTS];
};

struct dns_resolver;

/* server: "127.0.0.1:5353", "[::1]:53", "127.0.0.1" (port 53), or NULL/"" = the
 * nameservers of /etc/resolv.conf. One resolver per thread (not thread-safe).
 * Returns NULL with error filled when the server string or resolv.conf is bad. */
struct dns_resolver *dns_resolver_new(const char *server, uint64_t timeout_ms, char *error, size_t errlen);
void dns_resolver_free(struct dns_resolver *r);
/* Change the limit on each further query (retries included), in ms (>= 1). */
void dns_resolver_set_timeout(struct dns_resolver *r, uint64_t timeout_ms);

/* RFC 5321 section 5.1: MX hosts in preference order, random order among equal
 * preferences, implicit MX (the domain's own A/AAAA) when there is no MX,
 * RFC 7505 null MX, each host's A and AAAA addresses (hosts without addresses are skipped). */
void dns_resolve_mail(struct dns_resolver *r, const char *domain, struct dns_result *res);
/* A/AAAA of one host name or an IP literal: one entry in hosts[]. */
void dns_resolve_host(struct dns_resolver *r, const char *host, struct dns_result *res);

/* One record of a dns_lookup. */
struct dns_record {
	uint16_t type;
	uint32_t ttl;
	unsigned preference;		/* MX */
	char name[256];			/* MX exchange, PTR/CNAME target */
	unsigned char addr[16];		/* A (4 bytes) / AAAA (16) */
	char *txt;			/* TXT: strings joined, NUL-terminated, malloc'ed */
	size_t txt_len;			/* (may hold NULs: the length is the truth) */
};

/* The records of qtype (DNS_TYPE_* of dns_packet.h) for name, CNAMEs
 * followed, at most max into recs. DNS_OK with *n_r = 0 is "no data";
 * DNS_NOTFOUND is NXDOMAIN (or a name that cannot be queried); DNS_TEMPFAIL
 * a timeout, SERVFAIL or the like; error says why. Free the TXT strings
 * with dns_records_free. Blocking: worker threads only. */
enum dns_status dns_lookup(struct dns_resolver *r, const char *name, uint16_t qtype,
			   struct dns_record *recs, size_t max, size_t *n_r, char *error,
			   size_t errlen);
void dns_records_free(struct dns_record *recs, size_t n);

/* "ok", "tempfail", "notfound", "nullmx": for logs. */
const char *dns_status_name(enum dns_status status);

#endif
