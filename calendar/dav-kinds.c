/* The registry of collection kinds (see the interface in dav.h). A new kind
 * adds one line to the list below (and its extern). Order matters only for
 * homes shared by several kinds: the first one is a plain MKCOL's kind. */
#include "autoconf.h"
#include "dav.h"

extern const struct dav_kind caldav_kind;
extern const struct dav_kind carddav_kind;
extern const struct dav_kind carddav_gal_kind;
extern const struct dav_kind dav_plain_kind;
extern const struct dav_kind sched_inbox_kind;
extern const struct dav_kind sched_outbox_kind;

const struct dav_kind *const dav_kinds[] = {
	&caldav_kind,
	&carddav_kind,
	&carddav_gal_kind,	/* after carddav_kind: the addressbooks home's first kind */
	&dav_plain_kind,
	&sched_inbox_kind,	/* RFC 6638 scheduling inbox and outbox (calendars home) */
	&sched_outbox_kind,
	NULL,
};
