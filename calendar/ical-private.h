/* calendar/ical internals shared by ical*.c: the parsed object, libical
 * set-up, time conversion and the instance iterator. */
#ifndef CAIRN_ICAL_PRIVATE_H
#define CAIRN_ICAL_PRIVATE_H

#include <libical/ical.h>

#include "ical.h"

#define ICAL_FLOAT_SLOP (14 * 3600)	/* widest UTC offset, each way */

struct ical_tz {
	icalcomponent *vcal;	/* the VCALENDAR that owns the VTIMEZONE */
	icaltimezone *zone;	/* the zone of its VTIMEZONE */
	char *tzid;
};

/* Structure of a text before libical sees it: counts, depth, line lengths. */
#define ICAL_SCAN_TZ 16
struct ical_scan {
	unsigned calendars;	/* top-level VCALENDARs */
	unsigned components;
	unsigned properties;
	/* raw text of the first VTIMEZONEs of the first VCALENDAR, the key of
	 * the per-thread zone cache */
	unsigned ntz;
	size_t tz_off[ICAL_SCAN_TZ], tz_len[ICAL_SCAN_TZ];
};
/* A VTIMEZONE of an object resolved to a zone of the calling thread's
 * cache, which libical has already expanded. */
struct ical_zone_ref {
	const char *tzid;	/* owned by the object's VTIMEZONE */
	icaltimezone *zone;
};

struct ical_object {
	icalcomponent *vcal;
	enum ical_comp comp;
	icalcomponent_kind kind;
	char *uid;
	int64_t probe_ns;	/* CPU spent probing RRULEs while validating */
	uint64_t cache_id;	/* the thread cache the refs belong to; 0 = none */
	unsigned nzones;
	struct ical_zone_ref zones[ICAL_SCAN_TZ];
};

/* Resolve obj's VTIMEZONEs through the calling thread's cache of expanded
 * zones, keyed by their raw text (libical's expansion of a zone costs
 * milliseconds; the same zones recur in every object of a calendar). */
void ical_tzcache_attach(struct ical_object *obj, const char *data, const struct ical_scan *scan);
/* The cached zone for tzid when obj was attached on this thread, else NULL. */
icaltimezone *ical_tzcache_lookup(const struct ical_object *obj, const char *tzid);

/* Once per process: libical errors non-fatal, UTC zone initialised. */
void ical_lib_init(void);
void ical_set_error(struct ical_error *err, enum ical_precond precond,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
icalcomponent_kind ical_comp_kind(enum ical_comp comp);
enum ical_comp ical_kind_comp(icalcomponent_kind kind);

/* Check the text against the limits line by line (BEGIN/END balance, depth,
 * counts, line and VTIMEZONE sizes; a stream of many objects skips the
 * per-object counts). Returns 0, or -1 with err_r naming the line. */
int ical_scan_text(const char *data, size_t len, const struct ical_limits *limits,
		   bool stream, struct ical_scan *scan_r, struct ical_error *err_r);
/* Parse a scanned text with libical. Returns the root or NULL with err_r
 * (valid-calendar-data, with libical's first X-LIC-ERROR). */
icalcomponent *ical_parse_root(const char *data, size_t len, struct ical_error *err_r);

/* The time of a DATE/DATE-TIME property with its TZID resolved in vcal
 * (t.zone set; UTC when 'Z'; floating/date with zone NULL). */
struct icaltimetype ical_prop_time(const struct ical_object *obj, icalproperty *prop);
/* UTC seconds of a time; floating and DATE resolve in floating (NULL: UTC). */
int64_t ical_time_utc(struct icaltimetype t, icaltimezone *floating);
/* Whether a time is floating or a DATE. */
bool ical_time_floating(struct icaltimetype t);
/* Format UTC seconds as "YYYYMMDDTHHMMSSZ" into buf (>= 17 bytes). */
void ical_format_utc(int64_t t, char *buf, size_t size);
/* icaltimetype in UTC for UTC seconds. */
struct icaltimetype ical_utc_time(int64_t t);

/* Check a VTIMEZONE is expandable within bounds (TZID, STANDARD/DAYLIGHT
 * parts, bounded YEARLY rules). Returns 0, or -1 with err_r. */
int ical_vtimezone_check(icalcomponent *tz, const struct ical_limits *limits,
			int64_t *spent_ns, struct ical_error *err_r);

/* Check an RRULE can be expanded within the limits (see docs/
 * dav-calendar-data.md). Returns 0, or -1 with err_r (max-instances). */
int ical_rrule_screen(const struct icalrecurrencetype *rule, struct icaltimetype dtstart,
		      bool in_vtimezone, struct ical_error *err_r);

/* Run libical's iterator for the first instances of a screened rule and
 * measure the thread's CPU time: a rule whose matches libical must search
 * for (impossible or very sparse BYxxx combinations) is refused with
 * max-instances when the time of all probes of one object (*spent_ns)
 * passes limits->max_rrule_probe_ms. Returns 0 or -1. */
int ical_rrule_probe(const struct icalrecurrencetype *rule, struct icaltimetype dtstart,
		     const struct ical_limits *limits, int64_t *spent_ns,
		     struct ical_error *err_r);

/* One instance of an object's recurrence set. */
struct ical_inst {
	icalcomponent *comp;		/* master or override defining it */
	bool is_override;
	bool recurring;			/* part of a recurrence set (not a lone component) */
	bool has_start;			/* comp has DTSTART */
	struct icaltimetype start;	/* local start (zone set) */
	struct icaltimetype rid;	/* recurrence-id (original start), local */
	int64_t start_utc;
	int64_t shift;			/* seconds added to comp's DTSTART (and DTEND/DUE) */
	bool has_period_end;		/* an RDATE PERIOD gives this instance its own end */
	int64_t period_end;
};

/* Walk the instances of obj's components whose start may fall in
 * [range_start - slop, range_end + slop] (ICAL_TIME_MIN/MAX for all).
 * cb returns 1 to stop, 0 to go on. Counts steps against limits (per object:
 * max_instances; per call: *work against max_recur_work). Returns 0, or -1
 * with err_r (max-instances, or an invalid rule). */
typedef int ical_inst_cb(const struct ical_inst *inst, void *ctx);
int ical_foreach_instance(struct ical_object *obj, icaltimezone *floating,
			  int64_t range_start, int64_t range_end,
			  const struct ical_limits *limits, uint64_t *work,
			  ical_inst_cb *cb, void *ctx, struct ical_error *err_r);

/* Time span of an instance for time-range purposes, by component type per
 * RFC 4791 9.9. Returns true when it overlaps tr. */
bool ical_inst_in_range(const struct ical_inst *inst, const struct ical_object *obj,
			icaltimezone *floating, const struct ical_time_range *tr);
/* Duration of comp in seconds from DTSTART to DTEND/DUE/DURATION; sets
 * *has_r false when it has none. Nominal DURATION days resolve at start. */
int64_t ical_comp_end_utc(const struct ical_object *obj, icalcomponent *comp, const struct ical_inst *inst,
			  icaltimezone *floating, bool *has_r);

#endif
