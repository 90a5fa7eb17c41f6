/* calendar/ical-tzcache: a per-thread cache of expanded VTIMEZONEs. libical
 * expands a zone's DST rules on its first conversion (milliseconds for a
 * zone starting in 1970, more for 1601), and every object of a calendar
 * carries the same zones. Entries are keyed by the exact raw text, live
 * until the thread exits and are never shared between threads, so libical's
 * lazy expansion inside a zone never races. An object resolves through the
 * cache only on the thread that parsed it; elsewhere it uses its own zones. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ical-private.h"
#include "util.h"

#define TZC_ENTRIES 32

struct tzc_entry {
	char *text;
	size_t len;
	icaltimezone *zone;
};

struct tzc {
	uint64_t id;
	unsigned n;
	struct tzc_entry e[TZC_ENTRIES];
};

static pthread_key_t tzc_key;
static pthread_once_t tzc_once = PTHREAD_ONCE_INIT;
static uint64_t tzc_next_id;	/* atomic */

static void tzc_destroy(void *p)
{
	struct tzc *c = p;

	for (unsigned i = 0; i < c->n; i++) {
		icaltimezone_free(c->e[i].zone, 1);
		free(c->e[i].text);
	}
	free(c);
}

static void tzc_init(void)
{
	pthread_key_create(&tzc_key, tzc_destroy);
}

static struct tzc *tzc_get(void)
{
	struct tzc *c;

	pthread_once(&tzc_once, tzc_init);
	c = pthread_getspecific(tzc_key);
	if (c == NULL) {
		c = xcalloc(1, sizeof(*c));
		c->id = __atomic_add_fetch(&tzc_next_id, 1, __ATOMIC_RELAXED);
		pthread_setspecific(tzc_key, c);
	}
	return c;
}

static icaltimezone *tzc_find(struct tzc *c, const char *text, size_t len, icalcomponent *vtz)
{
	struct tzc_entry *e;

	for (unsigned i = 0; i < c->n; i++)
		if (c->e[i].len == len && memcmp(c->e[i].text, text, len) == 0)
			return c->e[i].zone;
	if (c->n == TZC_ENTRIES)
		return NULL;	/* full: the object keeps its own zone */
	e = &c->e[c->n];
	e->zone = icaltimezone_new();
	if (e->zone == NULL || !icaltimezone_set_component(e->zone, icalcomponent_new_clone(vtz))) {
		if (e->zone != NULL)
			icaltimezone_free(e->zone, 1);
		e->zone = NULL;
		return NULL;
	}
	e->text = xstrndup(text, len);
	e->len = len;
	c->n++;
	return e->zone;
}

void ical_tzcache_attach(struct ical_object *obj, const char *data, const struct ical_scan *scan)
{
	struct tzc *c = tzc_get();
	icalcompiter it;
	unsigned i = 0;

	obj->nzones = 0;
	obj->cache_id = c->id;
	for (it = icalcomponent_begin_component(obj->vcal, ICAL_VTIMEZONE_COMPONENT);
	     icalcompiter_deref(&it) != NULL && i < scan->ntz; icalcompiter_next(&it), i++) {
		icalcomponent *vtz = icalcompiter_deref(&it);
		icalproperty *p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY);
		icaltimezone *z;

		if (p == NULL || icalproperty_get_tzid(p) == NULL)
			continue;
		z = tzc_find(c, data + scan->tz_off[i], scan->tz_len[i], vtz);
		if (z == NULL)
			continue;
		obj->zones[obj->nzones].tzid = icalproperty_get_tzid(p);
		obj->zones[obj->nzones++].zone = z;
	}
}

icaltimezone *ical_tzcache_lookup(const struct ical_object *obj, const char *tzid)
{
	struct tzc *c;

	if (obj->cache_id == 0 || obj->nzones == 0)
		return NULL;
	c = pthread_getspecific(tzc_key);
	if (c == NULL || c->id != obj->cache_id)
		return NULL;
	for (unsigned i = 0; i < obj->nzones; i++)
		if (strcmp(obj->zones[i].tzid, tzid) == 0)
			return obj->zones[i].zone;
	return NULL;
}
