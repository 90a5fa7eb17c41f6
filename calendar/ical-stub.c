/* Temporary: entry points not yet implemented fail cleanly. Replaced file by
 * file by ical-object.c, ical-filter.c, ical-render.c and ical-split.c. */
#include <stdlib.h>
#include "ical-private.h"
#include "util.h"
#define NI(err) do { ical_set_error(err, ICAL_VALID_CALENDAR_DATA, "not available yet"); return -1; } while (0)
struct ical_comp_select *ical_comp_select_new(const char *n) { (void)n; return NULL; }
struct ical_comp_select *ical_comp_select_add_comp(struct ical_comp_select *p, const char *n) { (void)p; (void)n; return NULL; }
struct ical_prop_select *ical_comp_select_add_prop(struct ical_comp_select *p, const char *n, bool v) { (void)p; (void)n; (void)v; return NULL; }
void ical_comp_select_free(struct ical_comp_select **c) { *c = NULL; }
int ical_object_render(struct ical_object *o, const struct ical_calendar_data *cd, const struct ical_tz *f, const struct ical_limits *l, char **out, size_t *len, struct ical_error *e) { (void)o; (void)cd; (void)f; (void)l; *out = NULL; *len = 0; NI(e); }
struct ical_freebusy *ical_freebusy_new(const struct ical_time_range *r) { (void)r; return NULL; }
int ical_freebusy_add(struct ical_freebusy *fb, struct ical_object *o, const struct ical_tz *f, const struct ical_limits *l, struct ical_error *e) { (void)fb; (void)o; (void)f; (void)l; NI(e); }
void ical_freebusy_add_period(struct ical_freebusy *fb, int64_t s, int64_t en, enum ical_fbtype t) { (void)fb; (void)s; (void)en; (void)t; }
char *ical_freebusy_render(struct ical_freebusy *fb, int64_t d, size_t *l) { (void)fb; (void)d; *l = 0; return xstrdup(""); }
void ical_freebusy_free(struct ical_freebusy **fb) { *fb = NULL; }
int ical_split(const char *d, size_t l, unsigned s, const struct ical_limits *li, struct ical_split_item **i, size_t *c, struct ical_error *e) { (void)d; (void)l; (void)s; (void)li; *i = NULL; *c = 0; NI(e); }
void ical_split_free(struct ical_split_item *i, size_t c) { (void)i; (void)c; }
struct ical_join *ical_join_new(const char *p) { (void)p; return NULL; }
int ical_join_add(struct ical_join *j, const char *d, size_t l, const struct ical_limits *li, struct ical_error *e) { (void)j; (void)d; (void)l; (void)li; NI(e); }
char *ical_join_finish(struct ical_join **j, size_t *l) { *j = NULL; *l = 0; return xstrdup(""); }
void ical_join_free(struct ical_join **j) { *j = NULL; }
