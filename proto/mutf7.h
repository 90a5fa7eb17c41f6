/* Modified UTF-7 (RFC 3501 section 5.1.3), the IMAP4rev1 encoding of
 * mailbox names, to and from UTF-8. Both directions validate strictly, so a
 * name has exactly one encoded form. Pure: appends to a struct buf. */
#ifndef CAIRN_MUTF7_H
#define CAIRN_MUTF7_H

#include "util.h"

/* Decode modified UTF-7 to UTF-8, appending to out. Rejects bytes outside
 * printable US-ASCII, printable ASCII inside &...-, "&" runs not ended by
 * "-", base64 not ending on a UTF-16 unit or with non-zero spare bits, null
 * shifts ("&AGE-&AGE-"), lone or reversed surrogates and U+0000. Returns 0,
 * or -1 with a reason (out may then hold a partial result). */
int mutf7_to_utf8(const char *in, size_t len, struct buf *out, const char **error_r);
/* Encode UTF-8 as modified UTF-7, appending to out. Rejects invalid UTF-8
 * (overlong forms, surrogates, > U+10FFFF) and NUL. Returns 0 or -1. */
int mutf7_from_utf8(const char *in, size_t len, struct buf *out, const char **error_r);
/* True when in[0..len) is valid, canonical modified UTF-7. */
bool mutf7_is_valid(const char *in, size_t len);

#endif
