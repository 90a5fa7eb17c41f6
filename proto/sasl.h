/* Server side of the SASL mechanisms Cairn offers over IMAP AUTHENTICATE,
 * POP3 AUTH and SMTP AUTH: PLAIN (RFC 4616) and LOGIN (the de-facto
 * draft-murchison-sasl-login), plus the strict base64 (RFC 4648) they are
 * wrapped in. Pure: no I/O. Passwords are wiped when the state is reset. */
#ifndef CAIRN_SASL_H
#define CAIRN_SASL_H

#include "util.h"

#define SASL_MAX_CREDENTIAL 1024	/* bytes of authcid, authzid or password */

enum sasl_mech {
	SASL_MECH_PLAIN,
	SASL_MECH_LOGIN,
};

struct sasl {
	enum sasl_mech mech;
	unsigned step;
	char *authzid;		/* NULL or the requested authorisation identity */
	char *authcid;		/* the user name */
	char *password;
};

/* Look a mechanism name up (case-insensitive). Returns 0 or -1 (unknown). */
int sasl_mech_parse(const char *name, enum sasl_mech *mech_r);
/* Start an exchange for mech. */
void sasl_begin(struct sasl *s, enum sasl_mech mech);
/* Feed one client response, base64 as sent on the wire ("=" is the empty
 * initial response, RFC 4954/5034/4959); response NULL means "no initial
 * response". Returns 1 when the credentials are complete (authcid, password
 * set; authzid NULL or equal to authcid), 0 when the next base64 challenge was
 * written to challenge (send it as "+ <challenge>" / "334 <challenge>"), or
 * -1 with *error_r (malformed base64, bad message, authzid != authcid). */
int sasl_step(struct sasl *s, const char *response, struct buf *challenge, const char **error_r);
/* Wipe and free the credentials; the struct can be reused. */
void sasl_reset(struct sasl *s);

/* Strict base64: the whole input must be valid, padded, without whitespace.
 * Returns 0 (decoded bytes appended to out), or -1. */
int base64_decode_strict(const char *in, size_t len, struct buf *out);
/* Append base64 of data to out. */
void base64_encode(const void *data, size_t len, struct buf *out);

#endif
