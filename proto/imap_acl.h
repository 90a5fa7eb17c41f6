/* RFC 4314 ACL syntax, pure: rights strings (with the obsolete c and d of
 * section 2.1.1 and SETACL's + and - modifiers) to bits and back, and the
 * identifiers Cairn accepts (anyone, authenticated, an address, "$" and a
 * group address, each optionally preceded by "-" for negative rights).
 * Used by the IMAP ACL commands and by cairnctl acl. */
#ifndef CAIRN_IMAP_ACL_H
#define CAIRN_IMAP_ACL_H

#include "util.h"

/* The rights in canonical order; bit i of a rights mask is letter i. */
#define IMAP_ACL_LETTERS "lrswipkxtea"
#define IMAP_ACL_RIGHTS_ALL 0x7ffu
/* Longest identifier: "-$" and a 320-byte address. */
#define IMAP_ACL_IDENTIFIER_MAX 322

/* Parse SETACL rights: an optional '+' or '-' (into *mode_r, else '='),
 * then letters of IMAP_ACL_LETTERS, c (= k x) or d (= e t), in any order,
 * repeats allowed. Returns 0 with *bits_r, or -1 for any other byte. */
int imap_acl_rights_parse(const char *in, char *mode_r, unsigned *bits_r);
/* The bits of canonical letters (unknown bytes ignored: stored data). */
unsigned imap_acl_rights_bits(const char *letters);
/* Append the letters of bits in canonical order to out; with obsolete, also
 * "c" when both k and x are set and "d" when both e and t are. */
void imap_acl_rights_write(struct buf *out, unsigned bits, bool obsolete);
/* Check an identifier of len bytes and write it lower-cased and
 * NUL-terminated into out (size bytes). Returns 0, or -1 when it is not
 * one of the accepted forms (or does not fit). */
int imap_acl_identifier_parse(const char *in, size_t len, char *out, size_t size);

#endif
