/* SPF records (RFC 7208): the parser of a "v=spf1 ..." TXT record into its
 * terms (section 4.6, 5, 6, 12 ABNF) and the macro expander (section 7).
 * Pure: no DNS, no I/O. The evaluation with DNS is server/scan/spf.c. */
#ifndef CAIRN_SPF_RECORD_H
#define CAIRN_SPF_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPF_MAX_TERMS 128	/* terms of one record (the DNS limits stop evaluation far earlier) */
#define SPF_DOMAIN_MAX 253	/* an expanded domain-spec is cut to this (7.3) */

enum spf_mech {
	SPF_MECH_ALL,
	SPF_MECH_INCLUDE,
	SPF_MECH_A,
	SPF_MECH_MX,
	SPF_MECH_PTR,
	SPF_MECH_IP4,
	SPF_MECH_IP6,
	SPF_MECH_EXISTS,
};

enum spf_qualifier {
	SPF_Q_PASS = '+',
	SPF_Q_FAIL = '-',
	SPF_Q_SOFTFAIL = '~',
	SPF_Q_NEUTRAL = '?',
};

struct spf_term {
	enum spf_mech mech;
	enum spf_qualifier qualifier;
	/* include, exists (required), a, mx, ptr (optional): the macro-string
	 * of the domain-spec, borrowed from the record text (NUL-free span). */
	const char *domain;
	size_t domain_len;		/* 0 = none given (the current domain) */
	unsigned cidr4, cidr6;		/* a, mx, ip4, ip6: prefix lengths (32/128 default) */
	unsigned char addr[16];		/* ip4 (4 bytes), ip6 (16 bytes) */
};

struct spf_record {
	struct spf_term terms[SPF_MAX_TERMS];
	size_t nterms;
	const char *redirect;		/* redirect= domain-spec, NULL if absent */
	size_t redirect_len;
	const char *exp;		/* exp= domain-spec, NULL if absent */
	size_t exp_len;
};

/* Whether a TXT string is an SPF record: "v=spf1" alone or followed by a
 * space (4.5; case-insensitive). */
bool spf_is_record(const char *txt, size_t len);
/* Parse the record text (starting with "v=spf1"). Returns 0, or -1 with
 * *error_r (static text) on a syntax error, which is a permerror (4.6).
 * rec borrows from txt. */
int spf_record_parse(const char *txt, size_t len, struct spf_record *rec, const char **error_r);

/* The values the macros stand for (7.2). Strings NUL-terminated. */
struct spf_macro_ctx {
	const char *sender;		/* s: the full <sender> (local-part@domain) */
	const char *local;		/* l */
	const char *sender_domain;	/* o */
	const char *domain;		/* d: the current domain */
	const char *ip;			/* i: dotted IPv4 or dot-separated nibbles of IPv6 */
	const char *ptr;		/* p: validated name or "unknown" */
	bool ipv6;			/* v: "ip6" or "in-addr" */
	const char *helo;		/* h */
	const char *client_ip;		/* c (exp only): the address as written */
	const char *receiver;		/* r (exp only) */
	uint64_t now;			/* t (exp only) */
};

/* Expand the macro-string spec[0,len) into out (NUL-terminated). exp:
 * the c, r and t macros are allowed (explanation strings only). domain:
 * the result is a domain name, cut from the left to SPF_DOMAIN_MAX (7.3).
 * Returns the length, or -1 with *error_r on a syntax error or when out is
 * too small. */
int spf_macro_expand(const char *spec, size_t len, const struct spf_macro_ctx *ctx, bool exp,
		     bool domain, char *out, size_t out_size, const char **error_r);

/* The "i" macro value of an address: "192.0.2.1" or the 32 nibbles of an
 * IPv6 address separated by dots (7.3). */
void spf_ip_macro(const unsigned char *addr, bool ipv6, char *out, size_t out_size);

#endif
