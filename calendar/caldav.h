/* CalDAV (RFC 4791): the "calendar" kind of the WebDAV core (dav.h), on the
 * calendar/ical library. Registered in dav-kinds.c. */
#ifndef CAIRN_CALDAV_H
#define CAIRN_CALDAV_H

#include "dav.h"

extern const struct dav_kind caldav_kind;

/* Every object of a calendar joined into one VCALENDAR (each VTIMEZONE
 * once) appended to out: the feed and cairnctl export. 0, or -1 with
 * *error_r (static text). */
int caldav_export(struct store *st, const struct config *cfg, const struct store_dav_coll *coll,
		  struct buf *out, const char **ctype_r, const char **error_r);

#endif
