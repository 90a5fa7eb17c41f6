/* DKIM tag lists (RFC 6376 section 3.2): the DKIM-Signature header field
 * (3.5) and the key record in DNS (3.6.1), parsed and checked. Also used
 * for ARC-Seal and ARC-Message-Signature (RFC 8617), which share the
 * syntax. Pure: libc only; a fuzz target. Values borrow from the input. */
#ifndef CAIRN_DKIM_SIG_H
#define CAIRN_DKIM_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DKIM_MAX_TAGS 64
#define DKIM_MAX_SIGNED_HEADERS 64

struct dkim_tag {
	const char *name;
	size_t name_len;
	const char *value;	/* FWS around it removed; inner FWS kept */
	size_t value_len;
};

struct dkim_tag_list {
	struct dkim_tag tags[DKIM_MAX_TAGS];
	size_t ntags;
};

/* Parse tag-list = tag-spec *( ";" tag-spec ) [ ";" ]. Returns 0, or -1
 * with *error_r (static) on a syntax error or a tag given twice. */
int dkim_tag_list_parse(const char *s, size_t len, struct dkim_tag_list *list,
			const char **error_r);
/* The tag of that name (case-sensitive, as 3.2 says), or NULL. */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag_list *list, const char *name);

enum dkim_canon { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };
enum dkim_sig_algo { DKIM_SIG_RSA_SHA256, DKIM_SIG_ED25519_SHA256, DKIM_SIG_RSA_SHA1 };

/* A DKIM-Signature (or ARC-Message-Signature) as far as verification
 * needs it. Strings are spans of the field's value. */
struct dkim_signature {
	struct dkim_tag_list tags;
	enum dkim_sig_algo algo;
	enum dkim_canon header_canon, body_canon;
	const char *b, *bh;		/* base64 with FWS inside */
	size_t b_len, bh_len;
	const char *d, *s, *i;		/* i NULL when absent */
	size_t d_len, s_len, i_len;
	const char *h[DKIM_MAX_SIGNED_HEADERS];	/* the signed header names */
	size_t h_len[DKIM_MAX_SIGNED_HEADERS];
	size_t nh;
	bool has_l;
	uint64_t l;
	bool has_t, has_x;
	uint64_t t, x;
	unsigned arc_instance;		/* i= of an ARC-Message-Signature (arc mode) */
};

/* Parse a DKIM-Signature value (after the colon). arc: parse an
 * ARC-Message-Signature instead (i= is the instance number, no v=).
 * Checks 3.5 and 6.1.1: required tags, v=1, a known algorithm (rsa-sha1 is
 * parsed but the caller refuses it), h= holds From, i= within d=, x >= t.
 * Returns 0, or -1 with *error_r (a permerror). */
int dkim_signature_parse(const char *value, size_t len, bool arc, struct dkim_signature *sig,
			 const char **error_r);

/* A key record (3.6.1). */
struct dkim_key_record {
	struct dkim_tag_list tags;
	bool ed25519;			/* k=ed25519, else rsa */
	const char *p;			/* base64 public key, FWS inside; p_len 0 = revoked */
	size_t p_len;
	bool testing;			/* t=y */
	bool strict;			/* t=s: i= must be d= exactly */
	bool sha256_allowed;		/* h= absent or listing sha256 */
};

/* Parse a key record. Returns 0, or -1 with *error_r: a syntax error, a
 * v= other than DKIM1, an unknown k=, or s= not allowing email. */
int dkim_key_record_parse(const char *txt, size_t len, struct dkim_key_record *key,
			  const char **error_r);

/* Decode base64 with FWS ignored into out (out_size bytes). Returns the
 * length, or -1 on bad input or no room. */
long dkim_base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size);

/* Whether two spans are equal ignoring ASCII case. */
bool dkim_span_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
