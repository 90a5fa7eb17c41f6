/* The busy-time index from the calendar layer (see sched-fbindex.h). The
 * rows of an object are what ical_busy_of_object() gives over the index
 * window; a lookup reads rows for all its users at once, so a 100-user
 * query is a handful of statements whatever the number of events, and only
 * objects reaching outside their window (or never indexed) meet libical. */
#include "autoconf.h"
#include "sched-fbindex.h"
#include "config.h"
#include "dav-xml.h"
#include "log.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Instances one object may produce for the index window. */
#define FB_INDEX_MAX_INSTANCES 100000

static void index_limits(const struct config *cfg, struct ical_limits *lim)
{
	ical_limits_default(lim);
	lim->max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	lim->max_instances = FB_INDEX_MAX_INSTANCES;
	lim->max_recur_work = 10u * FB_INDEX_MAX_INSTANCES;
}

static void query_limits(const struct config *cfg, struct ical_limits *lim)
{
	ical_limits_default(lim);
	lim->max_resource_size = (size_t)cfg->http.dav_max_resource_size;
	lim->max_instances = (unsigned)cfg->http.dav_max_instances;
}

struct strv {
	char **v;
	size_t n;
};

static void strv_add_cb(const char *s, void *ctx)
{
	struct strv *sv = ctx;

	sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
	sv->v[sv->n++] = xstrdup(s);
}

static void strv_free(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void sched_fbindex_free(struct sched_fbindex *fi)
{
	free(fi->start);
	free(fi->end);
	free(fi->type);
	memset(fi, 0, sizeof(*fi));
}

/* Rows from a computed list: clipped to the window, cut into pieces. */
static void rows_of(struct ical_busy_list *l, int64_t from, int64_t until,
		    struct sched_fbindex *out)
{
	size_t n = 0, cap = 0;

	ical_busy_clip(l, from, until);
	ical_busy_merge(l);
	for (size_t i = 0; i < l->n; i++) {
		for (int64_t s = l->p[i].start; s < l->p[i].end; s += STORE_FB_PIECE) {
			int64_t e = l->p[i].end - s > STORE_FB_PIECE ? s + STORE_FB_PIECE : l->p[i].end;

			if (n == cap) {
				cap = cap ? cap * 2 : 16;
				out->start = xrealloc(out->start, cap * sizeof(*out->start));
				out->end = xrealloc(out->end, cap * sizeof(*out->end));
				out->type = xrealloc(out->type, cap * sizeof(*out->type));
			}
			out->start[n] = s;
			out->end[n] = e;
			out->type[n++] = l->p[i].type;
		}
	}
	out->rows.start = out->start;
	out->rows.end = out->end;
	out->rows.type = out->type;
	out->rows.n = n;
}

static int compute_with_self(const struct config *cfg, const struct strv *self,
			     struct ical_object *obj, const struct ical_tz *tz,
			     const struct ical_index *ix, struct sched_fbindex *out)
{
	int64_t now = (int64_t)time(NULL);
	int64_t from = now - (int64_t)cfg->http.freebusy_index_past_days * 86400;
	int64_t until = now + (int64_t)cfg->http.freebusy_index_future_days * 86400;
	struct ical_limits lim;
	struct ical_busy_list l = { NULL, 0, 0 };
	struct ical_error err = { ICAL_PRECOND_NONE, "" };

	memset(out, 0, sizeof(*out));
	index_limits(cfg, &lim);
	if (ical_busy_of_object(obj, tz, (const char *const *)self->v, self->n, from, until, &lim,
				&l, &err) < 0) {
		/* too much to index: expanded per query, where the query's own
		 * limits apply */
		ical_busy_clear(&l);
		out->rows.from = out->rows.until = now;
		out->rows.before = out->rows.after = true;
		return 0;
	}
	out->rows.from = from;
	out->rows.until = until;
	out->rows.before = ix->first_start == ICAL_TIME_MIN || ix->first_start < from;
	out->rows.after = ix->last_end == ICAL_TIME_MAX || ix->last_end > until;
	rows_of(&l, from, until, out);
	ical_busy_clear(&l);
	return 0;
}

int sched_fbindex_compute(struct store *st, const struct config *cfg, const char *owner,
			  struct ical_object *obj, const struct ical_tz *tz,
			  const struct ical_index *ix, struct sched_fbindex *out,
			  const char **error_r)
{
	struct strv self = { NULL, 0 };
	int ret = store_fb_self_addresses(st, owner, strv_add_cb, &self, error_r);

	memset(out, 0, sizeof(*out));
	if (ret == STORE_OK)
		compute_with_self(cfg, &self, obj, tz, ix, out);
	strv_free(&self);
	return ret;
}

/* The zone of a calendar-timezone element (NULL: none or unusable). */
static struct ical_tz *tz_of_xml(const struct config *cfg, const char *xml)
{
	struct dav_xml_limits xl = { 1024 * 1024, 8, 10000 };
	struct ical_limits lim;
	struct ical_error err;
	struct ical_tz *tz = NULL;
	xmlDocPtr doc;
	const char *error;

	if (xml == NULL)
		return NULL;
	query_limits(cfg, &lim);
	if (dav_xml_parse(xml, strlen(xml), &xl, &doc, &error) == 0) {
		char *text = dav_xml_text(xmlDocGetRootElement(doc));

		if (ical_tz_parse(text, strlen(text), &lim, &tz, &err) < 0)
			tz = NULL;
		xmlFree(text);
		xmlFreeDoc(doc);
	}
	return tz;
}

/* ---- indexing pending objects ---------------------------------------- */

struct fill_ctx {
	struct store *st;
	const struct config *cfg;
	int ret;
	const char *error;
	uint64_t done;
	/* the owner addresses of the last account seen */
	uint64_t self_of;
	struct strv self;
};

static void fill_cb(const struct store_fb_obj *o, void *vctx)
{
	struct fill_ctx *f = vctx;
	struct ical_limits lim;
	struct ical_object *obj = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_index ix;
	struct ical_tz *tz;
	struct sched_fbindex fi;

	if (f->ret != STORE_OK)
		return;
	if (f->self_of != o->account_id) {
		strv_free(&f->self);
		f->ret = store_fb_self_addresses(f->st, o->account, strv_add_cb, &f->self, &f->error);
		if (f->ret != STORE_OK)
			return;
		f->self_of = o->account_id;
	}
	index_limits(f->cfg, &lim);
	tz = tz_of_xml(f->cfg, o->tz_xml);
	memset(&ix, 0, sizeof(ix));
	if (ical_object_load(o->data, o->len, &lim, &obj, &err) == 0 &&
	    ical_object_index(obj, tz, &lim, &ix, &err) == 0) {
		compute_with_self(f->cfg, &f->self, obj, tz, &ix, &fi);
	} else {
		/* not loadable any more (a limit was lowered): no busy time,
		 * like calendar-query, which skips it too */
		log_warn("freebusy object=%" PRIu64 " not indexed: %s", o->id, err.text);
		memset(&fi, 0, sizeof(fi));
		fi.rows.from = fi.rows.until = 0;
	}
	ical_index_free(&ix);
	ical_object_free(&obj);
	ical_tz_free(&tz);
	f->ret = store_fb_index_write(f->st, o->id, o->coll_id, o->account_id, &fi.rows, &f->error);
	sched_fbindex_free(&fi);
	f->done++;
}

struct reindex_ctx {
	const struct config *cfg;
	uint64_t batch, done;
};

static int reindex_batch(struct store *st, void *vctx, const char **error_r)
{
	struct reindex_ctx *r = vctx;
	struct fill_ctx f = { st, r->cfg, STORE_OK, NULL, 0, 0, { NULL, 0 } };
	int ret = store_fb_pending(st, NULL, 0, r->batch, fill_cb, &f, error_r);

	strv_free(&f.self);
	if (ret == STORE_OK && f.ret != STORE_OK) {
		*error_r = f.error;
		ret = f.ret;
	}
	r->done = f.done;
	return ret;
}

static int mark_all_tx(struct store *st, void *vctx, const char **error_r)
{
	(void)vctx;
	return store_fb_mark_all(st, error_r);
}

int sched_fbindex_reindex(struct store *st, const struct config *cfg, bool all, FILE *progress,
			  uint64_t *done_r, const char **error_r)
{
	struct reindex_ctx r = { cfg, 500, 0 };
	uint64_t total = 0;
	int ret = STORE_OK;

	*done_r = 0;
	if (all)
		ret = store_tx(st, mark_all_tx, NULL, error_r);
	if (ret == STORE_OK)
		ret = store_fb_pending_count(st, &total, error_r);
	while (ret == STORE_OK) {
		ret = store_tx(st, reindex_batch, &r, error_r);
		if (ret != STORE_OK || r.done == 0)
			break;
		*done_r += r.done;
		if (progress != NULL) {
			fprintf(progress, "reindex-busy: %" PRIu64 "/%" PRIu64 " objects\n", *done_r,
				total);
			fflush(progress);
		}
	}
	return ret;
}

/* ---- lookups ----------------------------------------------------------- */

struct acct {
	uint64_t id;
	size_t idx;
};

static int acct_cmp(const void *a, const void *b)
{
	const struct acct *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

struct lookup {
	struct store *st;
	const struct config *cfg;
	struct sched_fbq *q;
	struct acct *map;	/* sorted by id */
	size_t nmap;
	int ret;
	const char *error;
	uint64_t self_of;
	struct strv self;
	bool keep_declined;	/* the calendar's REPORT: declined instances are busy */
	struct ical_busy_list *only;	/* the REPORT: every period goes here */
};

static struct ical_busy_list *list_of(struct lookup *lk, uint64_t account_id, size_t *idx_r)
{
	struct acct key = { account_id, 0 }, *a;

	if (lk->only != NULL)
		return lk->only;
	a = bsearch(&key, lk->map, lk->nmap, sizeof(*lk->map), acct_cmp);
	if (a == NULL)
		return NULL;
	if (idx_r != NULL)
		*idx_r = a->idx;
	return &lk->q->busy[a->idx];
}

static void busy_row_cb(uint64_t account_id, int64_t start, int64_t end, int type,
			uint64_t object_id, void *vctx)
{
	struct lookup *lk = vctx;
	struct ical_busy_list *l = list_of(lk, account_id, NULL);

	(void)object_id;
	if (l != NULL)
		ical_busy_add(l, start, end, type);
}

/* An object with busy time outside its window: expand the part of the
 * query its rows do not cover. */
static void outside_cb(const struct store_fb_obj *o, void *vctx)
{
	struct lookup *lk = vctx;
	struct sched_fbq *q = lk->q;
	struct ical_busy_list *l = list_of(lk, o->account_id, NULL);
	struct ical_limits lim;
	struct ical_object *obj = NULL;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_tz *tz;
	int64_t parts[2][2];
	size_t np = 0;

	if (lk->ret != STORE_OK || l == NULL)
		return;
	if (q->except_uid != NULL && strcmp(o->uid, q->except_uid) == 0)
		return;
	if (o->before && o->win_from > q->start) {
		parts[np][0] = q->start;
		parts[np++][1] = o->win_from < q->end ? o->win_from : q->end;
	}
	if (o->after && o->win_until < q->end) {
		int64_t s = o->win_until > q->start ? o->win_until : q->start;

		if (np > 0 && s < parts[0][1])
			s = parts[0][1];	/* an empty window: one part */
		parts[np][0] = s;
		parts[np++][1] = q->end;
	}
	if (lk->self_of != o->account_id) {
		strv_free(&lk->self);
		lk->ret = store_fb_self_addresses(lk->st, o->account, strv_add_cb, &lk->self,
						  &lk->error);
		if (lk->ret != STORE_OK)
			return;
		lk->self_of = o->account_id;
	}
	query_limits(lk->cfg, &lim);
	tz = tz_of_xml(lk->cfg, o->tz_xml);
	if (ical_object_load(o->data, o->len, &lim, &obj, &err) == 0) {
		for (size_t i = 0; i < np; i++) {
			struct ical_busy_list part = { NULL, 0, 0 };

			if (parts[i][1] <= parts[i][0])
				continue;
			if (ical_busy_of_object(obj, tz, (const char *const *)lk->self.v, lk->self.n,
						parts[i][0], parts[i][1], &lim, &part, &err) < 0) {
				log_warn("freebusy object=%" PRIu64 " skipped: %s", o->id, err.text);
				ical_busy_clear(&part);
				break;
			}
			ical_busy_clip(&part, parts[i][0], parts[i][1]);
			if (!lk->keep_declined)
				ical_busy_drop_declined(&part);
			for (size_t k = 0; k < part.n; k++)
				ical_busy_add(l, part.p[k].start, part.p[k].end, part.p[k].type);
			ical_busy_clear(&part);
		}
	} else {
		log_warn("freebusy object=%" PRIu64 " skipped: %s", o->id, err.text);
	}
	ical_object_free(&obj);
	ical_tz_free(&tz);
}

static void availability_cb(uint64_t account_id, const char *xml, void *vctx)
{
	struct lookup *lk = vctx;
	struct ical_busy_list *l = list_of(lk, account_id, NULL);
	struct dav_xml_limits xl = { 1024 * 1024, 8, 10000 };
	struct ical_limits lim;
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_availability *av = NULL;
	xmlDocPtr doc;
	const char *error;

	if (l == NULL || dav_xml_parse(xml, strlen(xml), &xl, &doc, &error) != 0)
		return;
	char *text = dav_xml_text(xmlDocGetRootElement(doc));

	query_limits(lk->cfg, &lim);
	if (ical_availability_parse(text, strlen(text), &lim, &av, &err) == 0) {
		if (ical_availability_busy(av, lk->q->start, lk->q->end, &lim, l, &err) < 0)
			log_warn("freebusy account=%" PRIu64 " availability: %s", account_id,
				 err.text);
	} else {
		log_warn("freebusy account=%" PRIu64 " availability: %s", account_id, err.text);
	}
	ical_availability_free(&av);
	xmlFree(text);
	xmlFreeDoc(doc);
}

int sched_fbq_run(struct store *st, const struct config *cfg, struct sched_fbq *q,
		  const char **error_r)
{
	struct lookup lk = { st, cfg, q, NULL, 0, STORE_OK, NULL, 0, { NULL, 0 }, false, NULL };
	struct fill_ctx f = { st, cfg, STORE_OK, NULL, 0, 0, { NULL, 0 } };
	int ret;

	if (q->n == 0)
		return STORE_OK;
	lk.map = xcalloc(q->n, sizeof(*lk.map));
	for (size_t i = 0; i < q->n; i++) {
		lk.map[i].id = q->account_id[i];
		lk.map[i].idx = i;
	}
	qsort(lk.map, q->n, sizeof(*lk.map), acct_cmp);
	lk.nmap = q->n;
	/* lazy fill: objects never indexed get their rows now */
	ret = store_fb_pending(st, q->account_id, q->n, 0, fill_cb, &f, error_r);
	strv_free(&f.self);
	if (ret == STORE_OK && f.ret != STORE_OK) {
		ret = f.ret;
		*error_r = f.error;
	}
	if (ret == STORE_OK)
		ret = store_fb_outside(st, q->account_id, q->n, q->start, q->end, outside_cb, &lk,
				       error_r);
	if (ret == STORE_OK && lk.ret != STORE_OK) {
		ret = lk.ret;
		*error_r = lk.error;
	}
	if (ret == STORE_OK)
		ret = store_fb_busy(st, q->account_id, q->n, q->start, q->end, q->except_uid,
				    busy_row_cb, &lk, error_r);
	if (ret == STORE_OK)
		ret = store_fb_availability(st, q->account_id, q->n, availability_cb, &lk, error_r);
	for (size_t i = 0; i < q->n; i++) {
		ical_busy_clip(&q->busy[i], q->start, q->end);
		ical_busy_merge(&q->busy[i]);
	}
	strv_free(&lk.self);
	free(lk.map);
	return ret;
}

int sched_fbindex_report(struct store *st, const struct config *cfg,
			 const struct store_dav_coll *coll, int64_t start, int64_t end,
			 struct ical_freebusy *fb, const char **error_r)
{
	struct sched_fbq q = { .start = start, .end = end, .n = 1,
			       .account_id = &coll->account_id };
	struct ical_busy_list all = { NULL, 0, 0 };
	struct lookup lk = { st, cfg, &q, NULL, 0, STORE_OK, NULL, 0, { NULL, 0 }, true, &all };
	struct fill_ctx f = { st, cfg, STORE_OK, NULL, 0, 0, { NULL, 0 } };
	int ret;

	ret = store_fb_pending(st, &coll->account_id, 1, 0, fill_cb, &f, error_r);
	strv_free(&f.self);
	if (ret == STORE_OK && f.ret != STORE_OK) {
		ret = f.ret;
		*error_r = f.error;
	}
	if (ret == STORE_OK)
		ret = store_fb_coll_outside(st, coll->account_id, coll->id, start, end, outside_cb,
					    &lk, error_r);
	if (ret == STORE_OK && lk.ret != STORE_OK) {
		ret = lk.ret;
		*error_r = lk.error;
	}
	if (ret == STORE_OK)
		ret = store_fb_coll_busy(st, coll->account_id, coll->id, start, end, busy_row_cb,
					 &lk, error_r);
	for (size_t i = 0; ret == STORE_OK && i < all.n; i++) {
		int t = all.p[i].type;

		ical_freebusy_add_period(fb, all.p[i].start, all.p[i].end,
					 (enum ical_fbtype)(t >= ICAL_BUSY_DECLINED ?
							    t - ICAL_BUSY_DECLINED : t));
	}
	ical_busy_clear(&all);
	strv_free(&lk.self);
	return ret;
}
