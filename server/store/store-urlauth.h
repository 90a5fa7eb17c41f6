/* URLAUTH access keys (RFC 4467, migration 0012): a random 32-byte secret
 * per mailbox, made on first use and forgotten by RESETKEY. The IMAP and
 * SMTP gateways compute and check the INTERNAL verifiers from it. */
#ifndef CAIRN_STORE_URLAUTH_H
#define CAIRN_STORE_URLAUTH_H

#include "store.h"

#include <stdbool.h>
#include <stdint.h>

#define STORE_URLAUTH_KEY_LEN 32

/* The access key of a mailbox into key_r. With create, a missing key is
 * made (concurrent callers agree on one); without, STORE_NOTFOUND. */
int store_urlauth_key(struct store *st, uint64_t mailbox_id, bool create,
		      unsigned char key_r[STORE_URLAUTH_KEY_LEN], const char **error_r);
/* Forget the key of one mailbox, or with mailbox_id 0 the keys of every
 * mailbox of address: URLs made with them stop working. */
int store_urlauth_reset(struct store *st, const char *address, uint64_t mailbox_id,
			const char **error_r);

struct imap_url;
struct buf;

/* store_url_fetch_part: the data would pass out's maximum. */
#define STORE_URL_TOOBIG (-100)

/* Append the bytes an IMAP URL names in a mailbox (;UID=, with ;SECTION=
 * read exactly as FETCH BODY[section] reads it, and ;PARTIAL=) to out, with
 * no flag change. Returns STORE_OK, STORE_NOTFOUND (no such message or
 * section) or STORE_INVALID (a bad section) with *why_r, STORE_URL_TOOBIG,
 * or a store failure. */
int store_url_fetch_part(struct store *st, uint64_t mailbox_id, const struct imap_url *u,
			 struct buf *out, const char **why_r);

/* The INTERNAL verifier of a URL rump for a mailbox: 64 lowercase hex
 * digits of HMAC-SHA256(mailbox key, rump) into token_r. With create, the
 * mailbox gets a key if it has none. */
int store_urlauth_sign(struct store *st, uint64_t mailbox_id, bool create, const char *rump,
		       size_t rump_len, char token_r[65], const char **error_r);

/* Who fetches through a URLAUTH URL: an IMAP user (URLFETCH) or the
 * submission server on behalf of its authenticated user (BURL). */
enum store_urlauth_role {
	STORE_URLAUTH_USER,
	STORE_URLAUTH_SUBMIT,
};

/* URLFETCH/BURL: check a URLAUTH-authorized URL (absolute, on hostname,
 * access identifier allowing requester in role, not expired at now, the
 * INTERNAL verifier matching the owner's mailbox key) and append the data
 * it names to out. Returns STORE_OK; STORE_NOTFOUND for every refusal
 * (*why_r says why, for the log only); STORE_URL_TOOBIG; or a store failure. */
int store_urlauth_fetch(struct store *st, const char *hostname, const char *url, size_t len,
			enum store_urlauth_role role, const char *requester, int64_t now,
			struct buf *out, const char **why_r);

#endif
