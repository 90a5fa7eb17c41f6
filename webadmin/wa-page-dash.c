/* The dashboard (mail in and out per hour over 48 hours as an SVG chart
 * drawn here, the queue, storage per domain, logins and failed logins,
 * database and directory health) and the audit log (newest first, keyset
 * paged, searchable). "/" sends each role to its first page. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "directory.h"
#include "store.h"
#include "store-queue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOURS 48

struct hourly {
	time_t first;		/* the oldest hour shown */
	uint64_t in[HOURS], out[HOURS];
};

static void hourly_row(const char *const *col, size_t n, void *ctx)
{
	struct hourly *h = ctx;
	if (n < 3)
		return;
	time_t t = (time_t)strtoll(col[0], NULL, 10);
	if (t < h->first)
		return;
	uint64_t i = (uint64_t)(t - h->first) / 3600;
	if (i >= HOURS)
		return;
	uint64_t v = strtoull(col[2], NULL, 10);
	if (strcmp(col[1], "in") == 0)
		h->in[i] += v;
	else
		h->out[i] += v;
}

/* Bars for in and out per hour, a y axis with the maximum, hour marks
 * every 6 hours (UTC). Plain numbers and fixed words only, escaped anyway. */
static void draw_chart(const struct hourly *h, struct buf *svg)
{
	const int w = 960, ht = 240, left = 48, bottom = 24, top = 12;
	uint64_t max = 1;
	for (int i = 0; i < HOURS; i++) {
		if (h->in[i] > max)
			max = h->in[i];
		if (h->out[i] > max)
			max = h->out[i];
	}
	double plot_h = ht - bottom - top, slot = (double)(w - left) / HOURS;
	buf_printf(svg, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" "
			"aria-labelledby=\"chart-title\" xmlns=\"http://www.w3.org/2000/svg\">"
			"<title id=\"chart-title\">Messages per hour, last 48 hours: in and out</title>",
		   w, ht);
	buf_printf(svg, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>", left,
		   ht - bottom, w, ht - bottom);
	buf_printf(svg, "<text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">%" PRIu64
			"</text><text x=\"%d\" y=\"%d\" class=\"label\" text-anchor=\"end\">0</text>",
		   left - 4, top + 8, max, left - 4, ht - bottom);
	for (int i = 0; i < HOURS; i++) {
		double x = left + i * slot;
		double hin = plot_h * (double)h->in[i] / (double)max;
		double hout = plot_h * (double)h->out[i] / (double)max;
		time_t t = h->first + (time_t)i * 3600;
		struct tm tm;
		gmtime_r(&t, &tm);
		buf_printf(svg, "<rect class=\"in\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>%02d:00 UTC: %" PRIu64 " in</title></rect>",
			   x + 1, ht - bottom - hin, slot / 2 - 1, hin, tm.tm_hour, h->in[i]);
		buf_printf(svg, "<rect class=\"out\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\">"
				"<title>%02d:00 UTC: %" PRIu64 " out</title></rect>",
			   x + slot / 2, ht - bottom - hout, slot / 2 - 1, hout, tm.tm_hour, h->out[i]);
		if (tm.tm_hour % 6 == 0)
			buf_printf(svg, "<text x=\"%.1f\" y=\"%d\" class=\"label\">%02d:00</text>", x,
				   ht - 6, tm.tm_hour);
	}
	buf_append_str(svg, "</svg>");
}

static void storage_row(const char *const *col, size_t n, void *ctx)
{
	struct wa_req *r = ctx;
	if (n < 3)
		return;
	struct tpl_vars *v = tpl_list_add(r->vars, "storage");
	char size[32];
	wa_format_bytes(strtoull(col[1], NULL, 10), size, sizeof(size));
	tpl_set(v, "domain", col[0]);
	tpl_set(v, "size", size);
	tpl_set(v, "accounts", col[2]);
}

static void node_row(const char *const *col, size_t n, void *ctx)
{
	struct wa_req *r = ctx;
	if (n < 3)
		return;
	struct tpl_vars *v = tpl_list_add(r->vars, "nodes");
	tpl_set(v, "host", col[0]);
	tpl_set(v, "connections", col[1]);
	tpl_set(v, "since", col[2]);
}

static void counters_row(const char *const *col, size_t n, void *ctx)
{
	struct wa_req *r = ctx;
	if (n < 6)
		return;
	tpl_set(r->vars, "logins", col[0]);
	tpl_set(r->vars, "web_failed", col[1]);
	tpl_set(r->vars, "failed", col[2]);
	tpl_set(r->vars, "sessions", col[3]);
	tpl_set(r->vars, "accounts", col[4]);
	tpl_set(r->vars, "disabled", col[5]);
}

static int show_dashboard(struct wa_req *r)
{
	if (r->role == WA_USER)
		return wa_redirect(r, "/self");
	if (r->role == WA_DOMAIN_ADMIN)
		return wa_redirect(r, "/users");
	const char *error = NULL;
	struct hourly h;
	memset(&h, 0, sizeof(h));
	time_t now = time(NULL);
	h.first = now - now % 3600 - (HOURS - 1) * 3600;
	int ret = store_wa_mail_hourly(r->st, hourly_row, &h, &error);
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		tpl_set(r->vars, "db", "unavailable");
	} else {
		tpl_set(r->vars, "db", "ok");
		tpl_set(r->vars, "db_ok", "1");
		struct buf svg;
		buf_init(&svg, 256 * 1024);
		draw_chart(&h, &svg);
		tpl_set(r->vars, "chart", svg.data);
		buf_free(&svg);
		uint64_t tin = 0, tout = 0;
		for (int i = 0; i < HOURS; i++) {
			tin += h.in[i];
			tout += h.out[i];
		}
		tpl_setf(r->vars, "total_in", "%" PRIu64, tin);
		tpl_setf(r->vars, "total_out", "%" PRIu64, tout);
	}
	uint64_t msgs = 0, rcpts = 0, oldest = 0;
	if (store_queue_stats(r->st, &msgs, &rcpts, &oldest, &error) == STORE_OK) {
		tpl_setf(r->vars, "queue_messages", "%" PRIu64, msgs);
		tpl_setf(r->vars, "queue_rcpts", "%" PRIu64, rcpts);
		tpl_setf(r->vars, "queue_oldest", "%" PRIu64 " h %02" PRIu64 " min", oldest / 3600,
			 oldest / 60 % 60);
	}
	store_wa_domain_storage(r->st, 20, storage_row, r, &error);
	store_wa_counters(r->st, counters_row, r, &error);
	store_wa_nodes(r->st, node_row, r, &error);
	/* The directory answers a lookup of the admin himself. */
	struct dir_user u;
	int d = dir_user_info(r->dir, r->sess.address, &u, &error);
	tpl_set(r->vars, "dir_backend", r->dir_backend);
	if (d == DIR_OK) {
		dir_user_free(&u);
		tpl_set(r->vars, "dir", "ok");
		tpl_set(r->vars, "dir_ok", "1");
	} else {
		tpl_set(r->vars, "dir", dir_status_str(d));
	}
	return wa_render(r, "dashboard");
}

struct audit_ctx {
	struct wa_req *r;
	size_t rows;
};

static void audit_row(const char *const *col, size_t n, void *ctx)
{
	struct audit_ctx *c = ctx;
	if (n < 7)
		return;
	c->rows++;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	tpl_set(v, "id", col[0]);
	tpl_set(v, "at", col[1]);
	tpl_set(v, "actor", col[2]);
	tpl_set(v, "ip", col[3]);
	tpl_set(v, "action", col[4]);
	tpl_set(v, "target", col[5]);
	tpl_set(v, "detail", col[6]);
	tpl_set(c->r->vars, "last_id", col[0]);
}

static int show_audit(struct wa_req *r)
{
	const char *q = wa_query(r, "q"), *before = wa_query(r, "before");
	uint64_t b = 0;
	if (before[0] != '\0' && str_to_u64(before, strlen(before), INT64_MAX, &b) < 0)
		b = 0;
	if (strlen(q) > 200)
		q = "";
	tpl_set(r->vars, "q", q);
	const char *error = NULL;
	unsigned limit = (unsigned)r->cfg->webadmin.page_size;
	struct audit_ctx c = { r, 0 };
	int ret = store_wa_audit_list(r->st, q, b, limit, audit_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	/* A full page: there may be older rows after the last one shown. */
	if (c.rows == limit)
		tpl_set(r->vars, "has_next", "1");
	if (b > 0)
		tpl_set(r->vars, "has_prev", "1");
	return wa_render(r, "audit");
}

const struct wa_route wa_routes_dash[] = {
	{ "/", "GET", WA_USER, show_dashboard, "Dashboard" },
	{ "/audit", "GET", WA_ADMIN, show_audit, "Audit log" },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
