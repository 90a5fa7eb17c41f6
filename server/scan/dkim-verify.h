/* DKIM verification internals shared with ARC (arc.c). */
#ifndef CAIRN_DKIM_VERIFY_H
#define CAIRN_DKIM_VERIFY_H

#include "scan-auth.h"
#include "dkim_canon.h"
#include "dkim_sig.h"

#include <openssl/evp.h>

/* Split raw's header into fields (malloc'ed array, free()). -1 with
 * *error_r when it cannot be split. */
int dkim_fields_split(const char *raw, size_t size, struct dkim_field **fields_r, size_t *n_r,
		      size_t *body_r, const char **error_r);
/* Append the field text[0,len) with the b= value bval[0,blen) and all the
 * whitespace around it removed (RFC 6376 3.7), for the header hash. */
void dkim_strip_b(const char *text, size_t len, const char *bval, size_t blen, struct buf *out);
/* SHA-256 of the canonical body (cut to l when has_l). -1 when l is longer
 * than the canonical body. */
int dkim_body_hash(const char *body, size_t len, enum dkim_canon canon, bool has_l, uint64_t l,
		   unsigned char hash[32]);
/* Verify sigbytes over data with pkey (rsa-sha256, or ed25519-sha256 over
 * the SHA-256 of data). 0 when it verifies. */
int dkim_verify_data(EVP_PKEY *pkey, enum dkim_sig_algo algo, const char *data, size_t len,
		     const unsigned char *sigbytes, size_t siglen);
/* The public key of selector s at domain d for algo, from DNS. PASS with
 * *pkey_r (EVP_PKEY_free it), else the error result and reason. */
enum dkim_result dkim_fetch_key(struct scan_msg *msg, const char *d, size_t d_len, const char *s,
				size_t s_len, enum dkim_sig_algo algo, uint64_t deadline_ms,
				EVP_PKEY **pkey_r, char *reason, size_t rsize);
/* Verify the signature field fields[sigfield] (a DKIM-Signature, or with
 * arc an ARC-Message-Signature): fills out (result, d, s, reason) and the
 * parsed sig; returns out->result. */
enum dkim_result dkim_verify_field(struct scan_msg *msg, const struct dkim_field *fields,
				   size_t nfields, size_t sigfield, const char *body,
				   size_t body_len, bool arc, uint64_t deadline_ms,
				   struct scan_dkim_sig *out, struct dkim_signature *sig);

#endif
