/* Global address list entries as vCard 4.0: a directory entry (an LDAP
 * entry or an SQL directory row, both seen as attributes with values) is
 * mapped through the configured attribute lists (first attribute with a
 * value wins for single fields, all values of all listed attributes for
 * EMAIL and TEL) into a vCard that the parser accepts and validates. Pure. */
#ifndef CAIRN_VCARD_GAL_H
#define CAIRN_VCARD_GAL_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct vcard_gal_value {
	const char *data;	/* not NUL-terminated (jpegPhoto is binary) */
	size_t len;
};

struct vcard_gal_attr {
	const char *name;	/* compared case-insensitively, as LDAP does */
	const struct vcard_gal_value *values;
	size_t nvalues;
};

/* Attribute names per vCard field, each a NULL-terminated list in order of
 * preference. A NULL list maps nothing. */
struct vcard_gal_map {
	const char *const *fn;
	const char *const *surname;
	const char *const *given_name;
	const char *const *email;
	const char *const *tel_work;
	const char *const *tel_cell;
	const char *const *photo;
	const char *const *org;
	const char *const *department;
	const char *const *title;
	/* resources only (KIND location/device): the location as ADR's
	 * extended address, the capacity (digits) as NOTE and X-CAIRN-CAPACITY */
	const char *const *location;
	const char *const *capacity;
	size_t max_photo;	/* photos above this many bytes are left out */
};

enum vcard_gal_kind {
	VCARD_GAL_USER,		/* KIND:individual */
	VCARD_GAL_GROUP,	/* KIND:group with MEMBERs */
	VCARD_GAL_LOCATION,	/* a room: KIND:location */
	VCARD_GAL_DEVICE,	/* equipment: KIND:device (RFC 6869) */
};

struct vcard_gal_src {
	const char *uid;	/* stable across syncs: entryUUID, or the SQL row */
	enum vcard_gal_kind kind;
	const struct vcard_gal_attr *attrs;
	size_t nattrs;
	const char *const *members;	/* MEMBER URIs (urn:uuid:..., mailto:...) */
	size_t nmembers;
};

/* Append the entry's vCard 4.0 to out. Returns 0, or -1 with *error_r when
 * the entry has nothing to name it by (no FN, name or address) or no UID.
 * Values that are not UTF-8 text are left out. */
int vcard_gal_build(const struct vcard_gal_map *map, const struct vcard_gal_src *src,
		    struct buf *out, const char **error_r);

/* A list of attribute names from a space- or comma-separated config value
 * (malloc'ed array and strings, NULL-terminated); free with vcard_gal_names_free. */
char **vcard_gal_names(const char *spec);
void vcard_gal_names_free(char ***names);

/* An object name for uid: the uid itself if it is made of [A-Za-z0-9._-]
 * (at most 200 octets), else its bytes in hex; ".vcf" appended. Malloc'ed. */
char *vcard_gal_object_name(const char *uid);

#endif
