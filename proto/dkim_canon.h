/* DKIM canonicalisation (RFC 6376 section 3.4): split a message's header
 * into fields, and the "simple" and "relaxed" forms of header fields and of
 * the body that signer and verifier hash. Pure: libc only, a fuzz target. */
#ifndef CAIRN_DKIM_CANON_H
#define CAIRN_DKIM_CANON_H

#include <stdbool.h>
#include <stddef.h>
#include "util.h"

/* One header field as it is in the message: from the first byte of its name
 * to and including the CRLF that ends its last (folded) line. */
struct dkim_field {
	const char *text;
	size_t len;
	size_t namelen;		/* the name, without WSP before the colon */
};

/* Split the header of msg (CRLF lines) into fields[0..max). *body_r is the
 * offset of the body (after the empty line; len when there is none).
 * Returns 0, or -1 with *error_r set when a line is not a field (no colon,
 * a name that is not RFC 5322 ftext, a continuation first, more than max
 * fields). */
int dkim_split_header(const char *msg, size_t len, struct dkim_field *fields, size_t max,
		      size_t *count_r, size_t *body_r, const char **error_r);

/* Relaxed header canonicalisation of one field (text as in dkim_field):
 * lower-case name, unfolded, WSP runs as one SP, no WSP around the colon or
 * at the end; appends "name:value" and, if crlf, CRLF. */
void dkim_canon_header_relaxed(const char *field, size_t len, bool crlf, struct buf *out);
/* Simple header canonicalisation: the field unchanged (without its final
 * CRLF unless crlf). */
void dkim_canon_header_simple(const char *field, size_t len, bool crlf, struct buf *out);

/* Body canonicalisation, appended to out. Relaxed: WSP runs as one SP, no WSP
 * at line ends, no empty lines at the end, an empty body stays empty. Simple:
 * no empty lines at the end, an empty body becomes one CRLF. Both end a
 * non-empty body with CRLF. */
void dkim_canon_body_relaxed(const char *body, size_t len, struct buf *out);
void dkim_canon_body_simple(const char *body, size_t len, struct buf *out);

/* Does field (as in dkim_field) have this name, ignoring ASCII case? */
bool dkim_field_is(const struct dkim_field *f, const char *name);

#endif
