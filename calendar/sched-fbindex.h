/* The busy-time index seen from the calendar layer (see store-freebusy.h):
 * computing an object's rows over the index window (at PUT, import, lazy
 * fill and reindex), and the batch lookup behind free/busy: pending objects
 * indexed first, rows read for all users in one query, objects with busy
 * time outside their window expanded for just that part, working hours
 * added. Runs inside the caller's store transaction. */
#ifndef CAIRN_SCHED_FBINDEX_H
#define CAIRN_SCHED_FBINDEX_H

#include "ical-busy.h"
#include "store-freebusy.h"
#include "store-dav.h"

#include <stdio.h>

struct config;
struct store;

/* An object's rows; free with sched_fbindex_free. */
struct sched_fbindex {
	struct store_fb_rows rows;
	int64_t *start, *end;
	int *type;
};
/* Compute the rows obj gives owner over the configured window around now.
 * ix: the object's index (bounds); tz: its calendar's zone for floating
 * times (NULL: UTC). STORE_OK, or a store_result from reading the owner's
 * addresses. An object whose expansion passes the limits gets no rows and
 * a window that every query falls outside of (so it is expanded, and
 * reported, per query). */
int sched_fbindex_compute(struct store *st, const struct config *cfg, const char *owner,
			  struct ical_object *obj, const struct ical_tz *tz,
			  const struct ical_index *ix, struct sched_fbindex *out,
			  const char **error_r);
void sched_fbindex_free(struct sched_fbindex *fi);

/* Index every pending object (cairnctl calendar reindex-busy), in batches
 * of one transaction each, printing progress to progress (may be NULL);
 * with all, mark every calendar object pending first. *done_r: objects
 * indexed. STORE_OK or a store_result. */
int sched_fbindex_reindex(struct store *st, const struct config *cfg, bool all, FILE *progress,
			  uint64_t *done_r, const char **error_r);

/* A batch lookup: the busy time of n accounts over [start, end). */
struct sched_fbq {
	int64_t start, end;
	const char *except_uid;		/* NULL: none */
	size_t n;
	const uint64_t *account_id;	/* [n] */
	const char *const *account;	/* [n] primary addresses */
	struct ical_busy_list *busy;	/* [n], filled: merged and sorted */
};
/* Fill q->busy. STORE_OK or a store_result with *error_r. */
int sched_fbq_run(struct store *st, const struct config *cfg, struct sched_fbq *q,
		  const char **error_r);

/* The CalDAV free-busy-query REPORT (RFC 4791 7.10) of one calendar from
 * the index: every period of the calendar's events over [start, end) added
 * to fb (declined instances busy too, transparency of the calendar not
 * applied), pending objects of its owner indexed first. STORE_OK or a
 * store_result. */
int sched_fbindex_report(struct store *st, const struct config *cfg,
			 const struct store_dav_coll *coll, int64_t start, int64_t end,
			 struct ical_freebusy *fb, const char **error_r);

#endif
