/* calendar/ical-filter: the calendar-query filter tree (RFC 4791 9.7), its
 * collations (RFC 4790 i;octet and i;ascii-casemap, RFC 5051
 * i;unicode-casemap) and its evaluation over the instances of an object,
 * VALARM triggers included. */
#include <locale.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "ical-private.h"
#include "ical-nfd.h"
#include "util.h"

/* ---- builders -------------------------------------------------------- */

struct ical_comp_filter *ical_comp_filter_new(const char *name)
{
	struct ical_comp_filter *cf = xcalloc(1, sizeof(*cf));

	cf->name = xstrdup(name);
	return cf;
}

struct ical_comp_filter *ical_comp_filter_add_comp(struct ical_comp_filter *parent, const char *name)
{
	struct ical_comp_filter *cf = ical_comp_filter_new(name), **pp = &parent->comps;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = cf;
	return cf;
}

struct ical_prop_filter *ical_comp_filter_add_prop(struct ical_comp_filter *parent, const char *name)
{
	struct ical_prop_filter *pf = xcalloc(1, sizeof(*pf)), **pp = &parent->props;

	pf->name = xstrdup(name);
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = pf;
	return pf;
}

struct ical_param_filter *ical_prop_filter_add_param(struct ical_prop_filter *parent, const char *name)
{
	struct ical_param_filter *pf = xcalloc(1, sizeof(*pf)), **pp = &parent->params;

	pf->name = xstrdup(name);
	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = pf;
	return pf;
}

static void set_tr(struct ical_time_range **dst, const struct ical_time_range *tr)
{
	free(*dst);
	*dst = NULL;
	if (tr != NULL) {
		*dst = xmalloc(sizeof(**dst));
		**dst = *tr;
	}
}

static void set_tm(struct ical_text_match **dst, const char *text, enum ical_collation coll,
		   bool negate)
{
	if (*dst != NULL) {
		free((*dst)->text);
		free(*dst);
	}
	*dst = xcalloc(1, sizeof(**dst));
	(*dst)->text = xstrdup(text);
	(*dst)->collation = coll;
	(*dst)->negate = negate;
}

void ical_comp_filter_set_time_range(struct ical_comp_filter *cf, const struct ical_time_range *tr)
{
	set_tr(&cf->time_range, tr);
}

void ical_prop_filter_set_time_range(struct ical_prop_filter *pf, const struct ical_time_range *tr)
{
	set_tr(&pf->time_range, tr);
}

void ical_prop_filter_set_text_match(struct ical_prop_filter *pf, const char *text,
				     enum ical_collation collation, bool negate)
{
	set_tm(&pf->text_match, text, collation, negate);
}

void ical_param_filter_set_text_match(struct ical_param_filter *pf, const char *text,
				      enum ical_collation collation, bool negate)
{
	set_tm(&pf->text_match, text, collation, negate);
}

static void tm_free(struct ical_text_match *tm)
{
	if (tm != NULL) {
		free(tm->text);
		free(tm);
	}
}

static void prop_filters_free(struct ical_prop_filter *pf)
{
	while (pf != NULL) {
		struct ical_prop_filter *next = pf->next;
		struct ical_param_filter *par = pf->params;

		while (par != NULL) {
			struct ical_param_filter *pn = par->next;

			free(par->name);
			tm_free(par->text_match);
			free(par);
			par = pn;
		}
		free(pf->name);
		free(pf->time_range);
		tm_free(pf->text_match);
		free(pf);
		pf = next;
	}
}

void ical_comp_filter_free(struct ical_comp_filter **cfp)
{
	struct ical_comp_filter *cf = *cfp;

	*cfp = NULL;
	while (cf != NULL) {
		struct ical_comp_filter *next = cf->next;

		ical_comp_filter_free(&cf->comps);
		prop_filters_free(cf->props);
		free(cf->name);
		free(cf->time_range);
		free(cf);
		cf = next;
	}
}

/* ---- collations and time ranges ------------------------------------- */

int ical_collation_parse(const char *name, enum ical_collation *coll_r)
{
	if (name == NULL || *name == '\0' || strcmp(name, "i;ascii-casemap") == 0)
		*coll_r = ICAL_COLLATION_ASCII_CASEMAP;
	else if (strcmp(name, "i;octet") == 0)
		*coll_r = ICAL_COLLATION_OCTET;
	else if (strcmp(name, "i;unicode-casemap") == 0)
		*coll_r = ICAL_COLLATION_UNICODE_CASEMAP;
	else
		return -1;
	return 0;
}

static int parse_utc(const char *s, int64_t *t_r)
{
	struct icaltimetype t;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (int i = 0; i < 15; i++)
		if (i != 8 && (s[i] < '0' || s[i] > '9'))
			return -1;
	t = icaltime_from_string(s);
	if (icaltime_is_null_time(t) || !icaltime_is_valid_time(t) || t.month < 1 || t.month > 12 ||
	    t.day < 1 || t.day > 31 || t.hour > 23 || t.minute > 59 || t.second > 60)
		return -1;
	*t_r = ical_time_utc(t, NULL);
	return 0;
}

int ical_time_range_parse(const char *start, const char *end, struct ical_time_range *tr,
			  struct ical_error *err_r)
{
	ical_lib_init();
	memset(tr, 0, sizeof(*tr));
	if (start == NULL && end == NULL) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "time-range without start or end");
		return -1;
	}
	if (start != NULL) {
		if (parse_utc(start, &tr->start) < 0) {
			ical_set_error(err_r, ICAL_VALID_FILTER, "time-range start %.40s is not a UTC date-time", start);
			return -1;
		}
		tr->has_start = true;
	}
	if (end != NULL) {
		if (parse_utc(end, &tr->end) < 0) {
			ical_set_error(err_r, ICAL_VALID_FILTER, "time-range end %.40s is not a UTC date-time", end);
			return -1;
		}
		tr->has_end = true;
	}
	if (tr->has_start && tr->has_end && tr->end <= tr->start) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "time-range end is not after its start");
		return -1;
	}
	return 0;
}

static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;
static locale_t utf8_locale;

static void utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/* Decode one UTF-8 code point (input already validated by the caller or
 * replaced by U+FFFD); advances *s. */
static uint32_t utf8_next(const unsigned char **s, const unsigned char *end)
{
	const unsigned char *p = *s;
	uint32_t cp;
	int n;

	if (*p < 0x80) { *s = p + 1; return *p; }
	if ((*p & 0xe0) == 0xc0) { cp = *p & 0x1f; n = 1; }
	else if ((*p & 0xf0) == 0xe0) { cp = *p & 0x0f; n = 2; }
	else if ((*p & 0xf8) == 0xf0) { cp = *p & 0x07; n = 3; }
	else { *s = p + 1; return 0xfffd; }
	if (end - p <= n) { *s = end; return 0xfffd; }
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) { *s = p + i; return 0xfffd; }
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	*s = p + n + 1;
	return cp;
}

static int nfd_cmp(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	const struct ical_nfd *e = elem;

	return cp < e->cp ? -1 : cp > e->cp;
}

/* Append the canonical decomposition of c (Hangul by algorithm). */
static void decompose(uint32_t c, uint32_t *out, size_t *n)
{
	const struct ical_nfd *e;

	if (c >= 0xAC00 && c <= 0xD7A3) {
		uint32_t s = c - 0xAC00;

		out[(*n)++] = 0x1100 + s / 588;
		out[(*n)++] = 0x1161 + (s % 588) / 28;
		if (s % 28 != 0)
			out[(*n)++] = 0x11A7 + s % 28;
		return;
	}
	e = c < 0x10000 ? bsearch(&c, ical_nfd_table, ARRAY_SIZE(ical_nfd_table),
				  sizeof(ical_nfd_table[0]), nfd_cmp) : NULL;
	if (e == NULL) {
		out[(*n)++] = c;
		return;
	}
	for (int i = 0; i < 4 && e->to[i] != 0; i++)
		out[(*n)++] = e->to[i];
}

/* Fold a string to code points for a collation: ASCII upper-casing for
 * i;ascii-casemap; for i;unicode-casemap (RFC 5051) Unicode's simple
 * upper-casing (title case but for a few digraphs) then the canonical
 * decomposition. Returns a malloc'ed array. */
static uint32_t *fold(const char *s, enum ical_collation coll, size_t *n_r)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + strlen(s);
	uint32_t *out = xmalloc((size_t)(end - p + 1) * 4 * sizeof(uint32_t));
	size_t n = 0;

	if (coll == ICAL_COLLATION_UNICODE_CASEMAP)
		pthread_once(&utf8_once, utf8_locale_init);
	while (p < end) {
		uint32_t c = utf8_next(&p, end);

		if (coll == ICAL_COLLATION_ASCII_CASEMAP) {
			if (c >= 'a' && c <= 'z')
				c -= 32;
		} else {
			if (utf8_locale != (locale_t)0)
				c = (uint32_t)towupper_l((wint_t)c, utf8_locale);
			else if (c >= 'a' && c <= 'z')
				c -= 32;
			if (coll == ICAL_COLLATION_UNICODE_CASEMAP) {
				decompose(c, out, &n);
				continue;
			}
		}
		out[n++] = c;
	}
	*n_r = n;
	return out;
}

/* Substring match under a collation (RFC 4791 9.7.5: "contains"). */
static bool text_contains(const char *value, const struct ical_text_match *tm)
{
	uint32_t *h, *nd;
	size_t hn, nn;
	bool found = false;

	if (tm->collation == ICAL_COLLATION_OCTET)
		return strstr(value, tm->text) != NULL;
	h = fold(value, tm->collation, &hn);
	nd = fold(tm->text, tm->collation, &nn);
	if (nn == 0)
		found = true;
	for (size_t i = 0; !found && i + nn <= hn; i++)
		found = memcmp(h + i, nd, nn * sizeof(uint32_t)) == 0;
	free(h);
	free(nd);
	return found;
}

static bool text_match(const char *value, const struct ical_text_match *tm)
{
	bool r = text_contains(value ? value : "", tm);

	return tm->negate ? !r : r;
}

/* ---- check and hints ------------------------------------------------- */

static bool comp_has_times(const char *name)
{
	return str_casecmp(name, "VEVENT") == 0 || str_casecmp(name, "VTODO") == 0 ||
	       str_casecmp(name, "VJOURNAL") == 0 || str_casecmp(name, "VFREEBUSY") == 0 ||
	       str_casecmp(name, "VALARM") == 0;
}

static bool prop_is_time(const char *name)
{
	static const char *const names[] = {
		"DTSTART", "DTEND", "DUE", "COMPLETED", "CREATED", "DTSTAMP", "LAST-MODIFIED",
		"RECURRENCE-ID", "EXDATE", "RDATE", "TRIGGER",
	};

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (str_casecmp(name, names[i]) == 0)
			return true;
	return false;
}

static int check_comp(const struct ical_comp_filter *cf, unsigned depth, struct ical_error *err_r)
{
	if (depth > 8 || cf->name == NULL || *cf->name == '\0') {
		ical_set_error(err_r, ICAL_VALID_FILTER, "comp-filter nested too deep or unnamed");
		return -1;
	}
	if (cf->time_range != NULL && !comp_has_times(cf->name)) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "time-range on %.40s", cf->name);
		return -1;
	}
	if (depth == 0 && cf->time_range != NULL) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "time-range on VCALENDAR");
		return -1;
	}
	for (const struct ical_prop_filter *pf = cf->props; pf != NULL; pf = pf->next) {
		if (pf->name == NULL || *pf->name == '\0') {
			ical_set_error(err_r, ICAL_VALID_FILTER, "prop-filter without name");
			return -1;
		}
		if (pf->time_range != NULL && !prop_is_time(pf->name)) {
			ical_set_error(err_r, ICAL_VALID_FILTER, "time-range on property %.40s", pf->name);
			return -1;
		}
		for (const struct ical_param_filter *par = pf->params; par != NULL; par = par->next)
			if (par->name == NULL || *par->name == '\0') {
				ical_set_error(err_r, ICAL_VALID_FILTER, "param-filter without name");
				return -1;
			}
	}
	for (const struct ical_comp_filter *c = cf->comps; c != NULL; c = c->next)
		if (check_comp(c, depth + 1, err_r) < 0)
			return -1;
	return 0;
}

int ical_filter_check(const struct ical_comp_filter *root, struct ical_error *err_r)
{
	if (root == NULL || root->next != NULL || str_casecmp(root->name, "VCALENDAR") != 0) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "the filter must hold one comp-filter VCALENDAR");
		return -1;
	}
	return check_comp(root, 0, err_r);
}

void ical_filter_hints(const struct ical_comp_filter *root, unsigned *comps_r,
		       struct ical_time_range *tr_r)
{
	const struct ical_comp_filter *c;

	*comps_r = 0;
	memset(tr_r, 0, sizeof(*tr_r));
	if (root == NULL || root->is_not_defined || root->comps == NULL)
		return;
	/* Every first-level comp-filter must match, and an object holds one
	 * component type: the first one alone is a safe hint. */
	c = root->comps;
	if (c->is_not_defined || ical_comp_from_name(c->name) == 0)
		return;
	*comps_r = ical_comp_from_name(c->name);
	if (c->time_range != NULL)
		*tr_r = *c->time_range;
}

/* ---- evaluation ------------------------------------------------------ */

struct eval {
	struct ical_object *obj;
	icaltimezone *floating;
	const struct ical_limits *limits;
	uint64_t work;
	struct ical_error *err;
};

static bool name_is(const char *a, const char *b)
{
	return a != NULL && b != NULL && str_casecmp(a, b) == 0;
}

/* The text of a property value, TEXT values unescaped. */
static const char *prop_value_text(icalproperty *p)
{
	icalvalue *v = icalproperty_get_value(p);

	if (v != NULL && icalvalue_isa(v) == ICAL_TEXT_VALUE)
		return icalvalue_get_text(v);
	return icalproperty_get_value_as_string(p);
}

/* The value of a parameter without its name and quotes, in buf. */
static const char *param_value(icalparameter *par, char *buf, size_t size)
{
	const char *s = icalparameter_as_ical_string(par);
	const char *eq = s ? strchr(s, '=') : NULL;
	size_t n;

	if (eq == NULL)
		return "";
	eq++;
	n = strlen(eq);
	if (n >= 2 && eq[0] == '"' && eq[n - 1] == '"') {
		eq++;
		n -= 2;
	}
	if (n >= size)
		n = size - 1;
	memcpy(buf, eq, n);
	buf[n] = '\0';
	return buf;
}

static const char *param_name(icalparameter *par)
{
	if (icalparameter_isa(par) == ICAL_X_PARAMETER || icalparameter_isa(par) == ICAL_IANA_PARAMETER)
		return icalparameter_get_xname(par);
	return icalparameter_kind_to_string(icalparameter_isa(par));
}

static bool param_filter_match(const struct ical_param_filter *pf, icalproperty *p)
{
	for (icalparameter *par = icalproperty_get_first_parameter(p, ICAL_ANY_PARAMETER); par != NULL;
	     par = icalproperty_get_next_parameter(p, ICAL_ANY_PARAMETER)) {
		char buf[1024];

		if (!name_is(param_name(par), pf->name))
			continue;
		if (pf->is_not_defined)
			return false;
		if (pf->text_match == NULL)
			return true;
		if (text_match(param_value(par, buf, sizeof(buf)), pf->text_match))
			return true;
	}
	return pf->is_not_defined;
}

static bool prop_time_match(struct eval *ev, icalproperty *p, const struct ical_inst *inst,
			    const struct ical_time_range *tr)
{
	struct icaltimetype t = ical_prop_time(ev->obj, p);
	int64_t v, start = tr->has_start ? tr->start : ICAL_TIME_MIN;
	int64_t end = tr->has_end ? tr->end : ICAL_TIME_MAX;
	icalproperty_kind k = icalproperty_isa(p);

	if (icaltime_is_null_time(t))
		return false;
	v = ical_time_utc(t, ev->floating);
	if (inst != NULL && (k == ICAL_DTSTART_PROPERTY || k == ICAL_DTEND_PROPERTY || k == ICAL_DUE_PROPERTY))
		v += inst->shift;
	return start <= v && end > v;
}

static bool prop_filter_match(struct eval *ev, const struct ical_prop_filter *pf,
			      icalcomponent *c, const struct ical_inst *inst)
{
	icalproperty **found = NULL;
	size_t n = 0, cap = 0;
	bool any = false, result = false;

	/* Collect first: the tests below must not disturb c's iterator. */
	for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ANY_PROPERTY); p != NULL;
	     p = icalcomponent_get_next_property(c, ICAL_ANY_PROPERTY)) {
		if (!name_is(icalproperty_get_property_name(p), pf->name))
			continue;
		any = true;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			found = xrealloc(found, cap * sizeof(*found));
		}
		found[n++] = p;
	}
	if (pf->is_not_defined) {
		free(found);
		return !any;
	}
	for (size_t i = 0; i < n && !result; i++) {
		bool ok = true;

		if (pf->time_range != NULL && !prop_time_match(ev, found[i], inst, pf->time_range))
			ok = false;
		if (ok && pf->text_match != NULL && !text_match(prop_value_text(found[i]), pf->text_match))
			ok = false;
		for (const struct ical_param_filter *par = pf->params; ok && par != NULL; par = par->next)
			ok = param_filter_match(par, found[i]);
		result = ok;
	}
	free(found);
	return result;
}

/* Trigger times of an alarm for one instance (RFC 5545 3.8.6.3, with
 * REPEAT/DURATION); calls back until one is in tr. */
static bool alarm_in_range(struct eval *ev, icalcomponent *alarm, const struct ical_inst *inst,
			   const struct ical_time_range *tr)
{
	icalproperty *tp = icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY);
	icalproperty *rp = icalcomponent_get_first_property(alarm, ICAL_REPEAT_PROPERTY);
	icalproperty *dp = icalcomponent_get_first_property(alarm, ICAL_DURATION_PROPERTY);
	int64_t start = tr->has_start ? tr->start : ICAL_TIME_MIN;
	int64_t end = tr->has_end ? tr->end : ICAL_TIME_MAX;
	struct icaltriggertype trig;
	int64_t t, step = 0;
	int repeat = 0;

	if (tp == NULL)
		return false;
	trig = icalproperty_get_trigger(tp);
	if (!icaltime_is_null_time(trig.time)) {
		t = ical_time_utc(trig.time, ev->floating);
	} else {
		icalparameter *rel = icalproperty_get_first_parameter(tp, ICAL_RELATED_PARAMETER);
		bool has_end;
		int64_t base;

		if (inst == NULL)
			return false;
		if (rel != NULL && icalparameter_get_related(rel) == ICAL_RELATED_END) {
			base = ical_comp_end_utc(ev->obj, inst->comp, inst, ev->floating, &has_end);
			if (!has_end)
				base = inst->start_utc;
		} else {
			if (!inst->has_start)
				return false;
			base = inst->start_utc;
		}
		t = base + icaldurationtype_as_int(trig.duration);
	}
	if (rp != NULL && dp != NULL) {
		repeat = icalproperty_get_repeat(rp);
		step = icaldurationtype_as_int(icalproperty_get_duration(dp));
		if (repeat < 0 || step <= 0)
			repeat = 0;
		if (repeat > 1000)
			repeat = 1000;
	}
	for (int k = 0; k <= repeat; k++, t += step)
		if (start <= t && end > t)
			return true;
	return false;
}

static int comp_body_match(struct eval *ev, const struct ical_comp_filter *cf, icalcomponent *c,
			   const struct ical_inst *inst, bool *m);

/* A comp-filter on the children of c other than the object's own type
 * (VALARM, VTIMEZONE, X- components). */
static int child_filter_match(struct eval *ev, const struct ical_comp_filter *cf, icalcomponent *c,
			      const struct ical_inst *inst, bool *m)
{
	icalcomponent_kind k = icalcomponent_string_to_kind(cf->name);
	icalcomponent **kids = NULL;
	size_t n = 0, cap = 0;
	icalcompiter it;
	int ret = 0;

	*m = false;
	for (it = icalcomponent_begin_component(c, ICAL_ANY_COMPONENT); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it)) {
		icalcomponent *kid = icalcompiter_deref(&it);
		icalcomponent_kind kk = icalcomponent_isa(kid);

		if (k == ICAL_NO_COMPONENT || k == ICAL_X_COMPONENT) {
			/* libical 3.0 keeps no name for X- components: any X-
			 * comp-filter matches any of them. */
			if (kk != ICAL_X_COMPONENT || str_ncasecmp(cf->name, "X-", 2) != 0)
				continue;
		} else if (kk != k) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			kids = xrealloc(kids, cap * sizeof(*kids));
		}
		kids[n++] = kid;
	}
	if (cf->is_not_defined) {
		*m = n == 0;
		free(kids);
		return 0;
	}
	for (size_t i = 0; i < n && !*m; i++) {
		bool ok;

		if (cf->time_range != NULL &&
		    (k != ICAL_VALARM_COMPONENT || !alarm_in_range(ev, kids[i], inst, cf->time_range)))
			continue;
		if (comp_body_match(ev, cf, kids[i], inst, &ok) < 0) {
			ret = -1;
			break;
		}
		*m = ok;
	}
	free(kids);
	return ret;
}

static int comp_body_match(struct eval *ev, const struct ical_comp_filter *cf, icalcomponent *c,
			   const struct ical_inst *inst, bool *m)
{
	*m = false;
	for (const struct ical_prop_filter *pf = cf->props; pf != NULL; pf = pf->next)
		if (!prop_filter_match(ev, pf, c, inst))
			return 0;
	for (const struct ical_comp_filter *sub = cf->comps; sub != NULL; sub = sub->next) {
		bool ok;

		if (child_filter_match(ev, sub, c, inst, &ok) < 0)
			return -1;
		if (!ok)
			return 0;
	}
	*m = true;
	return 0;
}

static bool subtree_has_alarm_range(const struct ical_comp_filter *cf)
{
	for (const struct ical_comp_filter *c = cf->comps; c != NULL; c = c->next)
		if ((c->time_range != NULL && name_is(c->name, "VALARM")) || subtree_has_alarm_range(c))
			return true;
	return false;
}

/* Widest distance between an instance and its alarms' triggers. */
static int64_t alarm_reach(icalcomponent *vcal, icalcomponent_kind kind)
{
	int64_t reach = 0;
	icalcompiter it, jt;

	for (it = icalcomponent_begin_component(vcal, kind); icalcompiter_deref(&it) != NULL;
	     icalcompiter_next(&it))
		for (jt = icalcomponent_begin_component(icalcompiter_deref(&it), ICAL_VALARM_COMPONENT);
		     icalcompiter_deref(&jt) != NULL; icalcompiter_next(&jt)) {
			icalcomponent *a = icalcompiter_deref(&jt);
			icalproperty *tp = icalcomponent_get_first_property(a, ICAL_TRIGGER_PROPERTY);
			icalproperty *rp = icalcomponent_get_first_property(a, ICAL_REPEAT_PROPERTY);
			icalproperty *dp = icalcomponent_get_first_property(a, ICAL_DURATION_PROPERTY);
			int64_t r = 0;

			if (tp != NULL)
				r = llabs((long long)icaldurationtype_as_int(icalproperty_get_trigger(tp).duration));
			if (rp != NULL && dp != NULL) {
				int rep = icalproperty_get_repeat(rp);

				r += (int64_t)(rep > 1000 ? 1000 : rep < 0 ? 0 : rep) *
				     llabs((long long)icaldurationtype_as_int(icalproperty_get_duration(dp)));
			}
			if (r > reach)
				reach = r;
		}
	return reach;
}

struct inst_match {
	struct eval *ev;
	const struct ical_comp_filter *cf;
	bool matched;
	int failed;
};

static int inst_match_cb(const struct ical_inst *inst, void *ctx)
{
	struct inst_match *im = ctx;
	bool ok;

	if (im->cf->time_range != NULL &&
	    !ical_inst_in_range(inst, im->ev->obj, im->ev->floating, im->cf->time_range))
		return 0;
	if (comp_body_match(im->ev, im->cf, inst->comp, inst, &ok) < 0) {
		im->failed = 1;
		return 1;
	}
	if (ok) {
		im->matched = true;
		return 1;
	}
	return 0;
}

/* A first-level comp-filter (VEVENT, VTODO, ...) against the object. */
static int object_comp_match(struct eval *ev, const struct ical_comp_filter *cf, bool *m)
{
	icalcomponent_kind k = icalcomponent_string_to_kind(cf->name);
	bool present = k == ev->obj->kind;

	*m = false;
	if (!present && k != ICAL_VTIMEZONE_COMPONENT)
		present = false;
	if (k == ICAL_VTIMEZONE_COMPONENT || (k != ev->obj->kind && !cf->is_not_defined)) {
		if (k != ICAL_VTIMEZONE_COMPONENT)
			return 0;
		return child_filter_match(ev, cf, ev->obj->vcal, NULL, m);
	}
	if (cf->is_not_defined) {
		*m = !present;
		return 0;
	}
	if (cf->time_range == NULL && !subtree_has_alarm_range(cf)) {
		icalcompiter it;

		for (it = icalcomponent_begin_component(ev->obj->vcal, k); icalcompiter_deref(&it) != NULL;
		     icalcompiter_next(&it)) {
			if (comp_body_match(ev, cf, icalcompiter_deref(&it), NULL, m) < 0)
				return -1;
			if (*m)
				return 0;
		}
		return 0;
	}
	{
		struct inst_match im = { ev, cf, false, 0 };
		int64_t lo = ICAL_TIME_MIN, hi = ICAL_TIME_MAX;

		if (cf->time_range != NULL) {
			if (cf->time_range->has_start)
				lo = cf->time_range->start;
			if (cf->time_range->has_end)
				hi = cf->time_range->end;
		} else {
			/* only alarms carry a range: instances within their reach */
			int64_t reach = alarm_reach(ev->obj->vcal, k);
			const struct ical_comp_filter *a;

			for (a = cf->comps; a != NULL; a = a->next)
				if (a->time_range != NULL && name_is(a->name, "VALARM"))
					break;
			if (a != NULL) {
				if (a->time_range->has_start)
					lo = a->time_range->start - reach;
				if (a->time_range->has_end)
					hi = a->time_range->end + reach;
			}
		}
		if (ical_foreach_instance(ev->obj, ev->floating, lo, hi, ev->limits, &ev->work,
					  inst_match_cb, &im, ev->err) < 0)
			return -1;
		if (im.failed)
			return -1;
		*m = im.matched;
	}
	return 0;
}

int ical_filter_match(const struct ical_comp_filter *root, struct ical_object *obj,
		      const struct ical_tz *floating, const struct ical_limits *limits,
		      bool *match_r, struct ical_error *err_r)
{
	struct eval ev = { obj, floating ? floating->zone : NULL, limits, 0, err_r };

	*match_r = false;
	if (root == NULL || !name_is(root->name, "VCALENDAR")) {
		ical_set_error(err_r, ICAL_VALID_FILTER, "the filter must start with VCALENDAR");
		return -1;
	}
	if (root->is_not_defined)
		return 0;
	for (const struct ical_prop_filter *pf = root->props; pf != NULL; pf = pf->next)
		if (!prop_filter_match(&ev, pf, obj->vcal, NULL))
			return 0;
	for (const struct ical_comp_filter *cf = root->comps; cf != NULL; cf = cf->next) {
		bool ok;

		if (object_comp_match(&ev, cf, &ok) < 0)
			return -1;
		if (!ok)
			return 0;
	}
	*match_r = true;
	return 0;
}
