/* CardDAV (RFC 6352) on the WebDAV core: the address book kind, the global
 * address list kind and its sync from the directory. See docs/carddav.md. */
#ifndef CAIRN_CARDDAV_H
#define CAIRN_CARDDAV_H

#include <stdio.h>

#include "dav.h"
#include "store-carddav.h"
#include "vcard.h"

struct config;
struct dir_handle;

extern const struct dav_kind carddav_kind;
extern const struct dav_kind carddav_gal_kind;

/* The searchable text of a vCard kept in dav_objects.summary: the
 * i;unicode-casemap form of its FN, N, NICKNAME, EMAIL, TEL, ORG, TITLE and
 * UID values, one per line; NULL when that passes 16 KiB (such an object is
 * always a query candidate). Malloc'ed. */
char *carddav_summary(const struct vcard *c);

/* Whether addressbook-query candidates can be picked by the summary for a
 * prop-filter on this property. */
bool carddav_searchable(const char *name);

/* The vCard limits for config (max-resource-size from [http]). */
void carddav_limits(const struct config *cfg, struct vcard_limits *lim);

/* Rewrite the global address list from the directory behind dh (its sql
 * or ldap backend, mapped through the [directory] gal_* options), in one
 * transaction of st. Prints one line per skipped entry to progress (may be
 * NULL). Returns a store_result (STORE_TEMPFAIL when the directory is
 * unreachable) with *error_r set unless STORE_OK. */
int carddav_gal_sync(const struct config *cfg, struct store *st, struct dir_handle *dh,
		     FILE *progress, struct store_carddav_gal_stats *stats_r,
		     const char **error_r);

#endif
