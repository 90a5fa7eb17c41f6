/* Temporary: entry points not yet implemented fail cleanly. Replaced file by
 * file by ical-object.c, ical-filter.c, ical-render.c and ical-split.c. */
#include <stdlib.h>
#include "ical-private.h"
#include "util.h"
#define NI(err) do { ical_set_error(err, ICAL_VALID_CALENDAR_DATA, "not available yet"); return -1; } while (0)
int ical_tz_parse(const char *d, size_t l, const struct ical_limits *li, struct ical_tz **t, struct ical_error *e) { (void)d; (void)l; (void)li; *t = NULL; NI(e); }
const char *ical_tz_id(const struct ical_tz *tz) { return tz->tzid; }
void ical_tz_free(struct ical_tz **tz) { *tz = NULL; }
int ical_object_parse(const char *d, size_t l, unsigned s, const struct ical_limits *li, struct ical_object **o, struct ical_error *e) { (void)d; (void)l; (void)s; (void)li; *o = NULL; NI(e); }
const char *ical_object_uid(const struct ical_object *o) { return o->uid; }
enum ical_comp ical_object_comp(const struct ical_object *o) { return o->comp; }
char *ical_object_to_string(const struct ical_object *o, size_t *l) { (void)o; *l = 0; return xstrdup(""); }
void ical_object_free(struct ical_object **o) { *o = NULL; }
int ical_object_index(struct ical_object *o, const struct ical_tz *f, const struct ical_limits *li, struct ical_index *i, struct ical_error *e) { (void)o; (void)f; (void)li; (void)i; NI(e); }
void ical_index_free(struct ical_index *i) { (void)i; }
int ical_collation_parse(const char *n, enum ical_collation *c) { (void)n; (void)c; return -1; }
int ical_time_range_parse(const char *s, const char *en, struct ical_time_range *t, struct ical_error *e) { (void)s; (void)en; (void)t; NI(e); }
struct ical_comp_filter *ical_comp_filter_new(const char *n) { (void)n; return NULL; }
struct ical_comp_filter *ical_comp_filter_add_comp(struct ical_comp_filter *p, const char *n) { (void)p; (void)n; return NULL; }
struct ical_prop_filter *ical_comp_filter_add_prop(struct ical_comp_filter *p, const char *n) { (void)p; (void)n; return NULL; }
struct ical_param_filter *ical_prop_filter_add_param(struct ical_prop_filter *p, const char *n) { (void)p; (void)n; return NULL; }
void ical_comp_filter_set_time_range(struct ical_comp_filter *c, const struct ical_time_range *t) { (void)c; (void)t; }
void ical_prop_filter_set_time_range(struct ical_prop_filter *c, const struct ical_time_range *t) { (void)c; (void)t; }
void ical_prop_filter_set_text_match(struct ical_prop_filter *p, const char *t, enum ical_collation c, bool n) { (void)p; (void)t; (void)c; (void)n; }
void ical_param_filter_set_text_match(struct ical_param_filter *p, const char *t, enum ical_collation c, bool n) { (void)p; (void)t; (void)c; (void)n; }
void ical_comp_filter_free(struct ical_comp_filter **c) { *c = NULL; }
int ical_filter_check(const struct ical_comp_filter *r, struct ical_error *e) { (void)r; NI(e); }
void ical_filter_hints(const struct ical_comp_filter *r, unsigned *c, struct ical_time_range *t) { (void)r; *c = 0; t->has_start = t->has_end = false; }
int ical_filter_match(const struct ical_comp_filter *r, struct ical_object *o, const struct ical_tz *f, const struct ical_limits *l, bool *m, struct ical_error *e) { (void)r; (void)o; (void)f; (void)l; *m = false; NI(e); }
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
