/* calendar/ical: every iCalendar computation CalDAV needs, on libical.
 * Validation of calendar object resources (RFC 4791 4.1, 5.3.2.1), index
 * fields for the store, calendar-query filters (9.7) with time-range over
 * recurrences (9.9), calendar-data transformations (9.6), free-busy (7.10),
 * and .ics split/join for import/export.
 *
 * Pure: no SQL, no sockets, no logging. Thread-safe: any number of threads
 * may call it at once on different objects; libical's process-wide state
 * (error mode, UTC zone) is set up once under pthread_once, and builtin
 * (system) timezones are never used: every TZID resolves to a VTIMEZONE of
 * the same object, so no zone cache is shared between threads.
 * Every call is bounded by a struct ical_limits: a limit hit is an error
 * (ICAL_MAX_INSTANCES, ...), never a hang. */
#ifndef CAIRN_ICAL_H
#define CAIRN_ICAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Open ends of time ranges and of index bounds, in UTC seconds. */
#define ICAL_TIME_MIN INT64_MIN
#define ICAL_TIME_MAX INT64_MAX

/* Component types, as a bit set (supported-calendar-component-set). */
enum ical_comp {
	ICAL_COMP_VEVENT = 1u << 0,
	ICAL_COMP_VTODO = 1u << 1,
	ICAL_COMP_VJOURNAL = 1u << 2,
	ICAL_COMP_VFREEBUSY = 1u << 3,
};
#define ICAL_COMP_DEFAULT_SET (ICAL_COMP_VEVENT | ICAL_COMP_VTODO | ICAL_COMP_VJOURNAL)

/* Returns "VEVENT" etc. for one bit, NULL otherwise (static string). */
const char *ical_comp_name(enum ical_comp comp);
/* Returns the bit for a component name (case-insensitive), 0 if unknown. */
enum ical_comp ical_comp_from_name(const char *name);

/* The CalDAV precondition an error maps to (RFC 4791 5.3.2.1, 9.x). */
enum ical_precond {
	ICAL_PRECOND_NONE = 0,
	ICAL_VALID_CALENDAR_DATA,
	ICAL_VALID_CALENDAR_OBJECT_RESOURCE,
	ICAL_SUPPORTED_CALENDAR_COMPONENT,
	ICAL_MAX_RESOURCE_SIZE,
	ICAL_MIN_DATE_TIME,
	ICAL_MAX_DATE_TIME,
	ICAL_MAX_INSTANCES,
	ICAL_MAX_ATTENDEES_PER_INSTANCE,
	ICAL_VALID_FILTER,		/* a filter the caller built is malformed */
	ICAL_SUPPORTED_COLLATION,	/* text-match collation not supported */
};
/* Returns the precondition's element name ("valid-calendar-data"), or ""
 * for ICAL_PRECOND_NONE (static string). */
const char *ical_precond_name(enum ical_precond precond);

/* Error out-parameter of every fallible call: the precondition to name in
 * the 403/409 body and a human text naming the line or property. */
struct ical_error {
	enum ical_precond precond;
	char text[256];
};

/* Hard limits. ical_limits_default() fills safe defaults; the caller may
 * tighten or loosen each field (0 never means unlimited). */
struct ical_limits {
	size_t max_resource_size;	/* bytes of one object (max-resource-size) */
	unsigned max_components;	/* components in one object, VTIMEZONE parts included */
	unsigned max_properties;	/* properties in one object */
	unsigned max_depth;		/* component nesting (VCALENDAR=1) */
	size_t max_text_len;		/* bytes of one property value */
	size_t max_line_len;		/* bytes of one unfolded content line */
	unsigned max_vtimezone_props;	/* properties in one VTIMEZONE, its parts included */
	unsigned max_attendees;		/* ATTENDEE per component (max-attendees-per-instance) */
	unsigned max_instances;		/* instances produced per object per call (max-instances) */
	uint64_t max_recur_work;	/* recurrence steps per call (all objects of one call) */
	int64_t min_date_time;		/* earliest DTSTART/DUE/... accepted, UTC s (min-date-time) */
	int64_t max_date_time;		/* latest, UTC s (max-date-time) */
	size_t max_split_objects;	/* resources one .ics import may produce */
	size_t max_output;		/* bytes of one rendered output (calendar-data, free-busy, join) */
	unsigned max_rrule_probe_ms;	/* CPU ms libical may spend finding an RRULE's first
					   instances when an object is validated (max-instances) */
};
/* Fill safe defaults: 1 MiB objects, 1000 components, 10000 properties,
 * depth 4, 64 KiB values, 2000 VTIMEZONE properties, 1000 attendees, 5000
 * instances, 1000000 recurrence steps, 1900-01-01..2200-01-01, 100 ms of
 * RRULE probing. */
void ical_limits_default(struct ical_limits *limits);

/* ---- timezones ------------------------------------------------------- */

/* A timezone for floating times: the CALDAV:calendar-timezone of a collection
 * or a query. Used by one thread at a time (libical caches DST changes
 * inside it); parse one per request. */
struct ical_tz;
/* Parse text that is a VCALENDAR holding exactly one VTIMEZONE (RFC 4791
 * 5.2.2). Returns 0 and a new zone the caller frees with ical_tz_free(), or
 * -1 with err_r (valid-calendar-data). */
int ical_tz_parse(const char *data, size_t len, const struct ical_limits *limits,
		  struct ical_tz **tz_r, struct ical_error *err_r);
/* Returns the zone's TZID (owned by tz). */
const char *ical_tz_id(const struct ical_tz *tz);
void ical_tz_free(struct ical_tz **tz);

/* ---- objects --------------------------------------------------------- */

/* One calendar object resource, parsed. Not shared between threads at once. */
struct ical_object;

/* Parse and validate a calendar object resource against RFC 4791 4.1 and
 * the limits: exactly one VCALENDAR with VERSION:2.0 and PRODID, no METHOD,
 * one component type among those in supported (plus VTIMEZONE), one UID on
 * every component, at most one master, overrides with distinct
 * RECURRENCE-ID, a VTIMEZONE for each TZID, dates within min/max, RRULEs
 * whose expansion is bounded. Returns 0 and a new object the caller frees
 * with ical_object_free(), or -1 with err_r naming the precondition. */
int ical_object_parse(const char *data, size_t len, unsigned supported,
		      const struct ical_limits *limits, struct ical_object **obj_r,
		      struct ical_error *err_r);
/* Load a resource that ical_object_parse() accepted before (the store's
 * copy): the text is scanned against the limits and parsed, but the costly
 * checks (RRULE probes, VTIMEZONE rules, dates) are skipped. Returns 0 and a
 * new object, or -1 with err_r if it is no longer a single-UID object. */
int ical_object_load(const char *data, size_t len, const struct ical_limits *limits,
		     struct ical_object **obj_r, struct ical_error *err_r);
/* Returns the object's UID and component type (owned by obj). */
const char *ical_object_uid(const struct ical_object *obj);
enum ical_comp ical_object_comp(const struct ical_object *obj);
/* Returns the object serialised by libical (CRLF lines, folded), malloc'ed,
 * its length in *len_r. */
char *ical_object_to_string(const struct ical_object *obj, size_t *len_r);
void ical_object_free(struct ical_object **obj);

/* Index fields for the store. Times are UTC seconds. [first_start,
 * last_end] is conservative: every time-range that matches the object
 * (9.9) touches it, so the store selects with the inclusive
 * "first_start <= range_end AND last_end >= range_start" (strict
 * comparisons would miss instants such as a VTODO with DTSTART only) and
 * confirms with ical_filter_match(). Floating and all-day times are widened
 * by 14 hours each way, since the zone of a query is unknown. Either bound
 * may be ICAL_TIME_MIN/ICAL_TIME_MAX (unbounded); first_start <= last_end. */
struct ical_index {
	char *uid;
	enum ical_comp comp;
	int64_t first_start;	/* ICAL_TIME_MIN when unbounded (VTODO without dates) */
	int64_t last_end;	/* ICAL_TIME_MAX when open-ended */
	bool recurs;		/* RRULE or RDATE on the master, or overrides */
	bool has_floating;	/* some time is floating or a DATE */
	char *summary;		/* master's SUMMARY (or the first one), NULL if none */
	char *organizer;	/* ORGANIZER value (calendar address), NULL if none */
	char **attendees;	/* distinct ATTENDEE values of all components */
	size_t attendee_count;
	/* VTODO only (ICAL_TIME_MIN when absent), from the master or first: */
	int64_t due;
	int64_t completed;
	int64_t created;
	int64_t dtstart;	/* master DTSTART (UTC, floating in UTC); any comp */
};
/* Compute the index. floating may be NULL (UTC). Returns 0, or -1 with
 * err_r when a limit is hit. The caller frees with ical_index_free(). */
int ical_object_index(struct ical_object *obj, const struct ical_tz *floating,
		      const struct ical_limits *limits, struct ical_index *index_r,
		      struct ical_error *err_r);
/* Free the fields (not the struct itself), leaving it zeroed. */
void ical_index_free(struct ical_index *index);

/* ---- calendar-query filters (RFC 4791 9.7) --------------------------- */

enum ical_collation {
	ICAL_COLLATION_ASCII_CASEMAP = 0,	/* i;ascii-casemap, the default */
	ICAL_COLLATION_OCTET,			/* i;octet */
	ICAL_COLLATION_UNICODE_CASEMAP,		/* i;unicode-casemap (RFC 5051) */
};
/* Parse a collation name. Returns 0, or -1 if unsupported. */
int ical_collation_parse(const char *name, enum ical_collation *coll_r);

/* A time range; has_start/has_end false means open on that side. */
struct ical_time_range {
	bool has_start, has_end;
	int64_t start, end;	/* UTC seconds */
};
/* Parse the start/end attributes of a CALDAV:time-range (either may be
 * NULL, not both): UTC date-time "YYYYMMDDTHHMMSSZ". Returns 0, or -1 with
 * err_r (valid-filter) when malformed, not UTC, or end <= start. */
int ical_time_range_parse(const char *start, const char *end,
			  struct ical_time_range *tr_r, struct ical_error *err_r);

struct ical_text_match {
	char *text;		/* UTF-8, owned */
	enum ical_collation collation;
	bool negate;
};

struct ical_param_filter {
	char *name;		/* owned, e.g. "PARTSTAT" */
	bool is_not_defined;
	struct ical_text_match *text_match;	/* NULL if none */
	struct ical_param_filter *next;
};

struct ical_prop_filter {
	char *name;		/* owned, e.g. "SUMMARY" */
	bool is_not_defined;
	struct ical_time_range *time_range;	/* NULL if none */
	struct ical_text_match *text_match;	/* NULL if none */
	struct ical_param_filter *params;
	struct ical_prop_filter *next;
};

struct ical_comp_filter {
	char *name;		/* owned, e.g. "VCALENDAR", "VEVENT", "VALARM" */
	bool is_not_defined;
	struct ical_time_range *time_range;	/* NULL if none */
	struct ical_prop_filter *props;
	struct ical_comp_filter *comps;
	struct ical_comp_filter *next;
};

/* Builders: each returns a new node owned by its parent (the root by the
 * caller), appended in order, with name copied. */
struct ical_comp_filter *ical_comp_filter_new(const char *name);
struct ical_comp_filter *ical_comp_filter_add_comp(struct ical_comp_filter *parent,
						   const char *name);
struct ical_prop_filter *ical_comp_filter_add_prop(struct ical_comp_filter *parent,
						   const char *name);
struct ical_param_filter *ical_prop_filter_add_param(struct ical_prop_filter *parent,
						     const char *name);
/* Set a node's time range / text match (replacing any); text copied. */
void ical_comp_filter_set_time_range(struct ical_comp_filter *cf,
				     const struct ical_time_range *tr);
void ical_prop_filter_set_time_range(struct ical_prop_filter *pf,
				     const struct ical_time_range *tr);
void ical_prop_filter_set_text_match(struct ical_prop_filter *pf, const char *text,
				     enum ical_collation collation, bool negate);
void ical_param_filter_set_text_match(struct ical_param_filter *pf, const char *text,
				      enum ical_collation collation, bool negate);
/* Free a whole tree and set *cf to NULL. */
void ical_comp_filter_free(struct ical_comp_filter **cf);

/* Check a filter tree: the root must be VCALENDAR, time-range only on
 * components that have times (VEVENT, VTODO, VJOURNAL, VFREEBUSY, VALARM)
 * and on date/time properties. Returns 0, or -1 with err_r (valid-filter). */
int ical_filter_check(const struct ical_comp_filter *root, struct ical_error *err_r);
/* Prefilter hints for the store: the component type the filter can match
 * (an ICAL_COMP_* bit, 0 = any) and the time range of its first first-level
 * comp-filter (all first-level comp-filters must match, and an object holds
 * one type; open ends when unconstrained). Never fails. */
void ical_filter_hints(const struct ical_comp_filter *root, unsigned *comps_r,
		       struct ical_time_range *tr_r);
/* Evaluate a checked filter on an object. floating (NULL = UTC) resolves
 * floating and all-day times. Returns 0 with *match_r, or -1 with err_r
 * when a limit is hit (max-instances). */
int ical_filter_match(const struct ical_comp_filter *root, struct ical_object *obj,
		      const struct ical_tz *floating, const struct ical_limits *limits,
		      bool *match_r, struct ical_error *err_r);

/* ---- calendar-data (RFC 4791 9.6) ------------------------------------ */

struct ical_prop_select {
	char *name;		/* owned */
	bool novalue;
	struct ical_prop_select *next;
};

struct ical_comp_select {
	char *name;		/* owned */
	bool allprop;		/* CALDAV:allprop (or no prop element at all) */
	bool allcomp;		/* CALDAV:allcomp (or no comp element at all) */
	struct ical_prop_select *props;
	struct ical_comp_select *comps;
	struct ical_comp_select *next;
};

struct ical_calendar_data {
	struct ical_comp_select *comp;	/* NULL: the whole object */
	bool expand;			/* 9.6.5 */
	struct ical_time_range expand_range;
	bool limit_recurrence;		/* 9.6.6 */
	struct ical_time_range limit_recurrence_range;
	bool limit_freebusy;		/* 9.6.7 */
	struct ical_time_range limit_freebusy_range;
};

/* Builders for the comp/prop subset, like the filter ones. A new comp
 * select starts with allprop and allcomp true; adding a prop or comp child
 * clears the corresponding flag. */
struct ical_comp_select *ical_comp_select_new(const char *name);
struct ical_comp_select *ical_comp_select_add_comp(struct ical_comp_select *parent,
						   const char *name);
struct ical_prop_select *ical_comp_select_add_prop(struct ical_comp_select *parent,
						   const char *name, bool novalue);
void ical_comp_select_free(struct ical_comp_select **cs);

/* Render an object as requested by a calendar-data element (cd NULL: the
 * whole object). Returns 0 and the malloc'ed text (CRLF lines) in *out_r,
 * its length in *len_r; or -1 with err_r when a limit is hit. */
int ical_object_render(struct ical_object *obj, const struct ical_calendar_data *cd,
		       const struct ical_tz *floating, const struct ical_limits *limits,
		       char **out_r, size_t *len_r, struct ical_error *err_r);

/* ---- free-busy (RFC 4791 7.10) --------------------------------------- */

enum ical_fbtype {
	ICAL_FB_BUSY = 0,
	ICAL_FB_BUSY_TENTATIVE,
	ICAL_FB_BUSY_UNAVAILABLE,
	ICAL_FB_FREE,
};

/* Accumulates busy periods of many objects over one range. */
struct ical_freebusy;
/* Returns a new accumulator for [range) (both ends required by 7.10). */
struct ical_freebusy *ical_freebusy_new(const struct ical_time_range *range);
/* Add the busy time of one object: VEVENT instances (TRANSP:TRANSPARENT and
 * STATUS:CANCELLED skipped, TENTATIVE as BUSY-TENTATIVE) and VFREEBUSY
 * FREEBUSY periods with their FBTYPE, clipped to the range. Returns 0, or
 * -1 with err_r when a limit is hit (the object's periods are not added). */
int ical_freebusy_add(struct ical_freebusy *fb, struct ical_object *obj,
		      const struct ical_tz *floating, const struct ical_limits *limits,
		      struct ical_error *err_r);
/* Add one period directly (UTC seconds). */
void ical_freebusy_add_period(struct ical_freebusy *fb, int64_t start, int64_t end,
			      enum ical_fbtype type);
/* Render a VCALENDAR with one VFREEBUSY: DTSTAMP (dtstamp, UTC s), DTSTART,
 * DTEND, and FREEBUSY lines with periods merged per FBTYPE and sorted.
 * Returns the malloc'ed text, its length in *len_r. */
char *ical_freebusy_render(struct ical_freebusy *fb, int64_t dtstamp, size_t *len_r);
void ical_freebusy_free(struct ical_freebusy **fb);

/* ---- import / export ------------------------------------------------- */

/* One resource split out of an .ics file. */
struct ical_split_item {
	char *uid;		/* owned */
	enum ical_comp comp;
	char *data;		/* owned: a whole VCALENDAR (CRLF lines) */
	size_t len;
};
/* Split a VCALENDAR stream (one or more VCALENDARs, e.g. an export of
 * another server) into one resource per UID, each with the VTIMEZONEs its
 * components use, each validated as ical_object_parse() does with supported.
 * METHOD is dropped. Returns 0 with a malloc'ed array the caller frees with
 * ical_split_free(), or -1 with err_r (nothing returned) on the first error. */
int ical_split(const char *data, size_t len, unsigned supported,
	       const struct ical_limits *limits, struct ical_split_item **items_r,
	       size_t *count_r, struct ical_error *err_r);
void ical_split_free(struct ical_split_item *items, size_t count);

/* Joins resources into one VCALENDAR, each VTIMEZONE (by TZID) once. */
struct ical_join;
/* Returns a new joiner; prodid is the PRODID of the output (copied). */
struct ical_join *ical_join_new(const char *prodid);
/* Add one stored resource. Returns 0, or -1 with err_r if it does not parse
 * or the output would pass limits->max_output. */
int ical_join_add(struct ical_join *join, const char *data, size_t len,
		  const struct ical_limits *limits, struct ical_error *err_r);
/* Returns the malloc'ed VCALENDAR text and its length; frees the joiner and
 * sets *join to NULL. */
char *ical_join_finish(struct ical_join **join, size_t *len_r);
/* Free a joiner without output. */
void ical_join_free(struct ical_join **join);

#endif
