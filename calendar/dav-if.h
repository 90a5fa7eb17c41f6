/* The WebDAV If header (RFC 4918 10.4): lists of conditions, each list
 * optionally tagged with the resource it applies to. A pure parser (libc
 * only), fuzzed by tests/fuzz/fuzz-dav-if.c. */
#ifndef CAIRN_DAV_IF_H
#define CAIRN_DAV_IF_H

#include <stdbool.h>
#include <stddef.h>

/* Bounds of a header the parser accepts (400 past them). */
#define DAV_IF_MAX_LISTS 32
#define DAV_IF_MAX_CONDS 32

struct dav_if_cond {
	bool not;		/* "Not" */
	bool etag;		/* an entity tag ([...]); else a state token (<...>) */
	char *value;		/* the token's URI, or the entity tag with its quotes (W/ kept) */
};

struct dav_if_list {
	char *tag;		/* the Resource-Tag's URL, NULL for an untagged list */
	struct dav_if_cond *conds;
	size_t nconds;
};

struct dav_if {
	struct dav_if_list *lists;
	size_t nlists;
};

/* Parse an If header value into if_r: 0, or -1 with *error_r when it is
 * malformed (both tagged and untagged lists, an empty list, a bad token or
 * entity tag, past the bounds above). Free with dav_if_free in both cases. */
int dav_if_parse(const char *value, struct dav_if *if_r, const char **error_r);
void dav_if_free(struct dav_if *ifh);

#endif
