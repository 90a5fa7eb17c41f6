/* DNS wire format (RFC 1035) for the outbound queue's stub resolver: build a
 * query, parse a response's header, question and answer section. Pure: libc
 * only, every read bounds-checked, compression pointers may only point
 * backwards (so a pointer loop cannot exist). A fuzz target's subject. */
#ifndef CAIRN_DNS_PACKET_H
#define CAIRN_DNS_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_TYPE_A 1
#define DNS_TYPE_CNAME 5
#define DNS_TYPE_PTR 12
#define DNS_TYPE_TXT 16
#define DNS_TYPE_MX 15
#define DNS_TYPE_AAAA 28
#define DNS_CLASS_IN 1

#define DNS_RCODE_NOERROR 0
#define DNS_RCODE_FORMERR 1
#define DNS_RCODE_SERVFAIL 2
#define DNS_RCODE_NXDOMAIN 3

/* A name in presentation form: labels joined by '.', no trailing dot, the root
 * is "". Bytes other than letters, digits, '-' and '_' are written \DDD, so a
 * name never contains a raw '.', '\\', control character or space inside a
 * label. */
#define DNS_NAME_MAX 256
/* A message larger than this is refused (TCP may carry up to 65535). */
#define DNS_PACKET_MAX 65535
/* Answer records kept; the rest of a (hostile) answer section is skipped. */
#define DNS_PACKET_MAX_RRS 64

/* One answer record of a type we use; others are skipped while parsing. */
struct dns_rr {
	char owner[DNS_NAME_MAX];
	uint16_t type;
	uint32_t ttl;
	uint16_t preference;		/* MX */
	char target[DNS_NAME_MAX];	/* MX exchange, CNAME canonical name */
	unsigned char addr[16];		/* A: 4 bytes, AAAA: 16 */
	/* PTR: the name is in target. TXT: the character-strings joined
	 * (RFC 7208 3.3, RFC 6376 3.6.2.2) are txt[txt_off, +txt_len) of the
	 * message; they may hold any byte, NUL included. */
	uint32_t txt_off, txt_len;
};

/* Bytes of TXT data kept from one message (a longer answer is refused). */
#define DNS_TXT_MAX 16384

/* A parsed response. Big (about 33 KiB): keep it on the heap. */
struct dns_message {
	uint16_t id;
	bool qr;		/* a response */
	bool tc;		/* truncated: ask again over TCP */
	uint8_t opcode;
	uint8_t rcode;
	uint16_t qdcount;
	char qname[DNS_NAME_MAX];	/* the first question */
	uint16_t qtype;
	uint16_t qclass;
	size_t nrrs;
	struct dns_rr rrs[DNS_PACKET_MAX_RRS];
	size_t txt_used;
	char txt[DNS_TXT_MAX];
};

/* Write a recursive query for name (letters, digits, '-' and '_' in labels;
 * a trailing dot is allowed, escapes are not) into out. Returns the length, or -1 with *error_r
 * set when the name is not a valid DNS name or out is too small. */
int dns_packet_query(uint16_t id, const char *name, uint16_t qtype, unsigned char *out,
		     size_t outlen, const char **error_r);

/* Parse a response: header, question (exactly one is required, unless the
 * packet is truncated and has none), and the A, AAAA, MX, CNAME, PTR and TXT records of
 * the answer section of class IN. Returns 0, or -1 with *error_r set (static
 * text) when the packet is malformed. */
int dns_packet_parse(const unsigned char *p, size_t len, struct dns_message *m,
		     const char **error_r);

/* Compare two presentation names ignoring ASCII case (DNS names are case
 * insensitive) and a trailing dot. */
bool dns_name_eq(const char *a, const char *b);

#endif
