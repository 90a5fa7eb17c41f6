/* DKIM signing of outbound mail: RFC 6376 rsa-sha256 and RFC 8463
 * ed25519-sha256, c=relaxed/relaxed, with OpenSSL. Canonicalisation is the
 * pure proto/dkim_canon.c; keys come from the store (store-dkim.h). */
#ifndef CAIRN_DKIM_H
#define CAIRN_DKIM_H

#include <stddef.h>
#include <time.h>
#include "util.h"

enum dkim_algo { DKIM_RSA_SHA256, DKIM_ED25519_SHA256 };

struct dkim_key;	/* a parsed private key with its domain, selector and algorithm */

/* Parse a PEM private key (RSA or Ed25519; the algorithm follows the key).
 * Returns NULL with error filled on a bad key, domain or selector. */
struct dkim_key *dkim_key_load(const char *domain, const char *selector, const char *pem, char *error, size_t errlen);
void dkim_key_free(struct dkim_key *k);
enum dkim_algo dkim_key_algo(const struct dkim_key *k);

/* Sign msg (CRLF, as it will be sent) with c=relaxed/relaxed over the usual
 * header set present in the message (From oversigned, i.e. listed once more than
 * present); appends the folded "DKIM-Signature: ...\r\n" field to out.
 * Returns 0, or -1 with error filled. */
int dkim_sign(const struct dkim_key *k, const char *msg, size_t len, time_t now, struct buf *out, char *error, size_t errlen);

/* New key pair: PEM private key and the DNS TXT value ("v=DKIM1; k=rsa; p=..." / "k=ed25519").
 * rsa_bits is ignored for ed25519 (0 = 2048 for rsa). Both strings are malloc'ed
 * for the caller. Returns 0, or -1 with error filled. */
int dkim_keygen(enum dkim_algo algo, unsigned rsa_bits, char **pem_r, char **txt_r, char *error, size_t errlen);

/* The DNS TXT value of k's public key ("v=DKIM1; k=rsa; p=..."), malloc'ed;
 * NULL with error filled if OpenSSL fails. */
char *dkim_key_txt(const struct dkim_key *k, char *error, size_t errlen);
/* The key's domain and selector as loaded. */
const char *dkim_key_domain(const struct dkim_key *k);
const char *dkim_key_selector(const struct dkim_key *k);

/* "rsa-sha256" / "ed25519-sha256" (the a= tag and the store's algorithm column). */
const char *dkim_algo_name(enum dkim_algo algo);
/* Parse such a name (also "rsa", "ed25519"). Returns 0, or -1 when unknown. */
int dkim_algo_parse(const char *name, enum dkim_algo *algo_r);
/* The selector a new key gets when none is named: algorithm and UTC date
 * of now ("rsa-20260131"), so a rotation gets a new name. Written to buf. */
void dkim_default_selector(enum dkim_algo algo, time_t now, char *buf, size_t size);

#endif
