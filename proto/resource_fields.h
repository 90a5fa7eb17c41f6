/* The text fields of a resource (rooms, equipment; server/store/
 * store-resource.c) as cairnctl options, web admin forms and LDAP attributes
 * give them: addresses, bounded counts and the bookers list. Pure. */
#ifndef CAIRN_RESOURCE_FIELDS_H
#define CAIRN_RESOURCE_FIELDS_H

#include <stdbool.h>
#include <stddef.h>

/* NULL when s (len bytes, no NUL needed) is localpart@domain (dot-atom
 * local part of at most 64 octets, LDH domain labels of at most 63, the
 * domain at most 255), else why not (static text). */
const char *res_address_why(const char *s, size_t len);
/* A number in [0, max] written in decimal digits only (at most 9). */
bool res_parse_count(const char *s, unsigned max, unsigned *out);
/* Whether a bookers list is "everyone" (any case, spaces around). */
bool res_bookers_everyone(const char *list);
/* Call cb for each entry of a bookers list (separated by ',', ';' or white
 * space; a "mailto:" prefix dropped), stopping at the first nonzero return,
 * which is returned; 0 at the end. */
int res_bookers_each(const char *list, int (*cb)(const char *addr, size_t len, void *ctx),
		     void *ctx);

#endif
