/* Escaping of untrusted values for LDAP: RFC 4515 filter assertion values
 * and RFC 4514 DN attribute values, plus expansion of a filter template's
 * %s placeholders. Pure (libc and proto/util only) so it is unit-tested and
 * fuzzed; dir-ldap.c puts nothing from input into a filter or DN any other
 * way. */
#ifndef CAIRN_LDAP_ESCAPE_H
#define CAIRN_LDAP_ESCAPE_H

#include "util.h"

/* Append value[0..len) to out escaped for a filter assertion value (RFC 4515):
 * every byte other than ASCII letters, digits and "-._@+" becomes \XX, so
 * '*', '(', ')', '\', NUL and any non-ASCII byte can never change the
 * filter. Returns 0, or -1 when out's maximum would be exceeded. */
int ldap_escape_filter_value(const char *value, size_t len, struct buf *out);

/* Append value[0..len) to out escaped as a DN attribute value (RFC 4514):
 * '"', '+', ',', ';', '<', '>', '=', '\' get a backslash, a leading '#' or
 * space and a trailing space too; control bytes, DEL and NUL become \XX.
 * Returns 0, or -1 when out's maximum would be exceeded. */
int ldap_escape_dn_value(const char *value, size_t len, struct buf *out);

/* Expand template into out: each "%s" becomes value escaped with
 * ldap_escape_filter_value(), "%%" a literal '%'. Returns 0, or -1 with
 * *error_r set for any other '%' sequence or when out's maximum would be
 * exceeded. */
int ldap_filter_format(const char *template, const char *value, size_t len, struct buf *out,
		       const char **error_r);

/* Check that filter is a balanced parenthesised LDAP filter: starts with '(',
 * parentheses nest and close exactly at the end, and no byte is NUL.
 * Returns 0 or -1 with *error_r set. For config checks and fuzzing. */
int ldap_filter_check(const char *filter, size_t len, const char **error_r);

#endif
