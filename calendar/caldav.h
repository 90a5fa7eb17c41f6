/* CalDAV (RFC 4791): the "calendar" kind of the WebDAV core (dav.h), on the
 * calendar/ical library. Registered in dav-kinds.c. */
#ifndef CAIRN_CALDAV_H
#define CAIRN_CALDAV_H

#include "dav.h"

extern const struct dav_kind caldav_kind;

#endif
