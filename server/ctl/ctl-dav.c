/* cairnctl commands for calendars (and any DAV collection): list a user's
 * collections with their sizes, shares and feeds; import an .ics into a
 * calendar (split into one resource per UID, each validated as a CalDAV PUT
 * would be, all in one transaction); export a calendar as one .ics; share a
 * collection; create and revoke read-only feed links; name calendar
 * delegates (the calendar-proxy principals, calendar/dav-proxy.c). */
#include "autoconf.h"
#include "caldav.h"
#include "config.h"
#include "ctl.h"
#include "ical.h"
#include "sched-fbindex.h"
#include "store.h"
#include "store-dav.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_share(const char *grantee, const char *access, const char *status, void *ctx)
{
	(void)ctx;
	printf("    shared with %s (%s%s)\n", grantee, access,
	       strcmp(status, "accepted") == 0 ? "" : ", declined");
}

static void print_feed(uint64_t id, const char *created, const char *last_used, void *ctx)
{
	(void)ctx;
	printf("    feed %" PRIu64 " created %s, last used %s\n", id, created,
	       last_used[0] != '\0' ? last_used : "never");
}

struct list_ctx {
	struct store *st;
	int ret;
};

static void print_coll(const struct store_dav_coll *c, void *vctx)
{
	struct list_ctx *l = vctx;
	uint64_t bytes = 0, count = 0;
	const char *error = NULL;
	if (store_dav_coll_usage(l->st, c->id, &bytes, &count, &error) != STORE_OK) {
		l->ret = ctl_store_failed(error);
		return;
	}
	printf("%s/%s  kind=%s objects=%" PRIu64 " bytes=%" PRIu64 " synctoken=%" PRIu64 "\n",
	       c->home, c->name, c->kind, count, bytes, c->synctoken);
	if (store_dav_shares(l->st, c->id, print_share, NULL, &error) != STORE_OK ||
	    store_dav_feeds(l->st, c->id, print_feed, NULL, &error) != STORE_OK)
		l->ret = ctl_store_failed(error);
}

static void print_delegate(const char *delegate, int mode, void *ctx)
{
	(void)ctx;
	printf("delegate %s (%s)\n", delegate, mode == STORE_DAV_PROXY_WRITE ? "write" : "read");
}

static void print_delegate_for(const char *owner, int mode, void *ctx)
{
	(void)ctx;
	printf("delegate of %s (%s)\n", owner, mode == STORE_DAV_PROXY_WRITE ? "write" : "read");
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("calendar list", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("calendar list: --user ADDRESS is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct list_ctx l = { ctl->store, CTL_OK };
	const char *error = NULL;
	if (store_dav_coll_list(ctl->store, user, NULL, print_coll, &l, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (store_dav_proxies(ctl->store, user, STORE_DAV_PROXY_NONE, print_delegate, NULL,
			      &error) != STORE_OK ||
	    store_dav_proxy_for(ctl->store, user, print_delegate_for, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return l.ret;
}

static char *read_file(const char *path, size_t max, size_t *len_r)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		ctl_error("%s: cannot open", path);
		return NULL;
	}
	struct buf b;
	buf_init(&b, max);
	char chunk[65536];
	size_t n;
	bool too_big = false;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			too_big = true;
			break;
		}
	}
	if (f != stdin)
		fclose(f);
	if (too_big) {
		ctl_error("%s: larger than %zu bytes", path, max);
		buf_free(&b);
		return NULL;
	}
	buf_append(&b, "", 0);
	*len_r = b.len;
	return b.data != NULL ? b.data : xstrdup("");
}

/* Open (or create, with create) user's calendar name. */
static int open_calendar(struct store *st, const char *user, const char *name, bool create,
			 struct store_dav_coll *coll)
{
	const char *error = NULL;
	int ret = store_dav_coll_get(st, user, caldav_kind.home, name, true, coll, &error);
	if (ret == STORE_NOTFOUND && create)
		ret = store_dav_coll_create(st, user, caldav_kind.home, name, caldav_kind.name, coll,
					    &error);
	if (ret == STORE_NOTFOUND) {
		ctl_error("no calendar %s of %s", name, user);
		return CTL_ERROR;
	}
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	if (strcmp(coll->kind, caldav_kind.name) != 0) {
		ctl_error("%s of %s is not a calendar", name, user);
		return CTL_ERROR;
	}
	return CTL_OK;
}

struct import_ctx {
	const struct config *cfg;
	const char *user;
	const char *name;
	struct ical_split_item *items;
	size_t count;
	size_t added, replaced;
	bool create;
	char why[300];
};

static int import_tx(struct store *st, void *vctx, const char **error_r)
{
	struct import_ctx *im = vctx;
	struct store_dav_coll coll;
	im->added = im->replaced = 0;
	const char *error = NULL;
	int ret = store_dav_bulk_begin(st, &error);
	if (ret != STORE_OK) {
		*error_r = error;
		return ret;
	}
	ret = store_dav_coll_get(st, im->user, caldav_kind.home, im->name, true, &coll, &error);
	if (ret == STORE_NOTFOUND)
		ret = store_dav_coll_create(st, im->user, caldav_kind.home, im->name,
					    caldav_kind.name, &coll, &error);
	if (ret != STORE_OK) {
		*error_r = error;
		return ret;
	}
	int64_t delta = 0;
	for (size_t i = 0; i < im->count; i++) {
		const struct ical_split_item *it = &im->items[i];
		struct ical_object *obj = NULL;
		struct ical_error err = { ICAL_PRECOND_NONE, "" };
		struct ical_limits lim;
		ical_limits_default(&lim);
		struct ical_index ix;
		if (ical_object_parse(it->data, it->len, ICAL_COMP_DEFAULT_SET, &lim, &obj, &err) < 0 ||
		    ical_object_index(obj, NULL, &lim, &ix, &err) < 0) {
			ical_object_free(&obj);
			snprintf(im->why, sizeof(im->why), "UID %s: %s", it->uid, err.text);
			*error_r = im->why;
			return STORE_INVALID;
		}
		/* its busy-time rows (free/busy), written with it */
		struct sched_fbindex fi;
		memset(&fi, 0, sizeof(fi));
		bool busy = false;
		if (ix.comp == ICAL_COMP_VEVENT || ix.comp == ICAL_COMP_VFREEBUSY) {
			ret = sched_fbindex_compute(st, im->cfg, coll.owner, obj, NULL, &ix, &fi, &error);
			if (ret != STORE_OK) {
				ical_object_free(&obj);
				ical_index_free(&ix);
				*error_r = error;
				return ret;
			}
			busy = true;
		}
		ical_object_free(&obj);
		/* one resource per UID, named after it; an existing one is replaced */
		char name[STORE_DAV_NAME_MAX + 1];
		size_t k = 0;
		for (const char *p = it->uid; *p != '\0' && k + 5 < sizeof(name); p++)
			name[k++] = (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20) ? '_' : *p;
		name[k] = '\0';
		snprintf(name + k, sizeof(name) - k, ".ics");
		struct store_dav_obj old;
		bool exists = store_dav_obj_get(st, coll.id, name, false, true, &old, &error) ==
			      STORE_OK;
		struct store_dav_index idx = {
			.uid = ix.uid, .comp = ical_comp_name(ix.comp), .summary = ix.summary,
			.dtstart = ix.dtstart == ICAL_TIME_MIN ? STORE_DAV_NO_TIME : ix.dtstart,
			.dtend = STORE_DAV_NO_TIME,
			.rstart = ix.first_start == ICAL_TIME_MIN ? STORE_DAV_NO_TIME : ix.first_start,
			.rend = ix.last_end == ICAL_TIME_MAX ? STORE_DAV_NO_TIME : ix.last_end,
			.busy = busy ? &fi.rows : NULL,
		};
		char etag[80];
		uint64_t old_size;
		ret = store_dav_obj_put_bulk(st, &coll, name, "text/calendar; charset=utf-8",
					     it->data, it->len, &idx, etag, &old_size, &error);
		ical_index_free(&ix);
		sched_fbindex_free(&fi);
		if (ret != STORE_OK) {
			*error_r = error;
			return ret;
		}
		delta += (int64_t)it->len - (int64_t)old_size;
		if (exists)
			im->replaced++;
		else
			im->added++;
	}
	/* One UID per resource in the calendar (RFC 4791 5.3.2.1): checked
	 * once for the whole import rather than per object. */
	char dup[256];
	ret = store_dav_uid_duplicate(st, coll.id, dup, &error);
	if (ret == STORE_OK) {
		snprintf(im->why, sizeof(im->why), "UID %s would be in two resources", dup);
		*error_r = im->why;
		return STORE_INVALID;
	}
	if (ret != STORE_NOTFOUND) {
		*error_r = error;
		return ret;
	}
	ret = store_dav_bulk_finish(st, &coll, delta, &error);
	if (ret != STORE_OK)
		*error_r = error;
	return ret;
}

static int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *name = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { "--calendar", &name },
					{ NULL, NULL } };
	if (ctl_parse_args("calendar import", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL || name == NULL)
		return ctl_usage("calendar import: --user ADDRESS and --calendar NAME are required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	size_t len;
	char *data = read_file(pos[0], 256u * 1024 * 1024, &len);
	if (data == NULL)
		return CTL_ERROR;
	struct ical_limits lim;
	ical_limits_default(&lim);
	lim.max_resource_size = (size_t)ctl->cfg->http.dav_max_resource_size;
	lim.max_split_objects = 1000000;
	struct import_ctx im = { .cfg = ctl->cfg, .user = user, .name = name };
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	if (ical_split(data, len, ICAL_COMP_DEFAULT_SET, &lim, &im.items, &im.count, &err) < 0) {
		free(data);
		ctl_error("%s: %s (%s)", pos[0], err.text, ical_precond_name(err.precond));
		return CTL_ERROR;
	}
	free(data);
	const char *error = NULL;
	int ret = store_tx(ctl->store, import_tx, &im, &error);
	ical_split_free(im.items, im.count);
	if (ret != STORE_OK) {
		ctl_error("import into %s of %s failed, nothing stored: %s", name, user,
			  error != NULL ? error : store_result_str(ret));
		return CTL_ERROR;
	}
	printf("imported %zu new and %zu replaced objects into %s of %s\n", im.added, im.replaced,
	       name, user);
	return CTL_OK;
}

static int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *name = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { "--calendar", &name },
					{ NULL, NULL } };
	if (ctl_parse_args("calendar export", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (user == NULL || name == NULL)
		return ctl_usage("calendar export: --user ADDRESS and --calendar NAME are required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_dav_coll coll;
	if (open_calendar(ctl->store, user, name, false, &coll) != CTL_OK)
		return CTL_ERROR;
	struct buf out;
	buf_init(&out, 0);
	const char *ctype, *error = NULL;
	if (caldav_export(ctl->store, ctl->cfg, &coll, &out, &ctype, &error) < 0) {
		buf_free(&out);
		ctl_error("export failed: %s", error != NULL ? error : "error");
		return CTL_ERROR;
	}
	FILE *f = pos[0] == NULL || strcmp(pos[0], "-") == 0 ? stdout : fopen(pos[0], "wb");
	if (f == NULL) {
		buf_free(&out);
		ctl_error("%s: cannot create", pos[0]);
		return CTL_ERROR;
	}
	bool ok = fwrite(out.data != NULL ? out.data : "", 1, out.len, f) == out.len;
	if (f != stdout)
		ok = fclose(f) == 0 && ok;
	buf_free(&out);
	if (!ok) {
		ctl_error("write failed");
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int cmd_share(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *name = NULL, *with = NULL, *access = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { "--calendar", &name },
					{ "--with", &with }, { "--access", &access },
					{ NULL, NULL } };
	if (ctl_parse_args("calendar share", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL || name == NULL || with == NULL)
		return ctl_usage("calendar share: --user, --calendar and --with are required");
	if (access == NULL)
		access = "read";
	bool revoke = strcmp(access, "none") == 0;
	if (!revoke && strcmp(access, "read") != 0 && strcmp(access, "read-write") != 0)
		return ctl_usage("calendar share: --access read, read-write or none");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_dav_coll coll;
	if (open_calendar(ctl->store, user, name, false, &coll) != CTL_OK)
		return CTL_ERROR;
	int kind = 0;
	const char *error = NULL;
	if (store_dav_principal_kind(ctl->store, with, &kind, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (kind == 0 && !revoke) {
		ctl_error("%s is neither an account nor a group", with);
		return CTL_ERROR;
	}
	if (store_dav_share_set(ctl->store, coll.id, with, revoke ? NULL : access, NULL, &error) !=
	    STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_delegate(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[3];
	if (ctl_parse_args("calendar delegate", argc, argv, NULL, pos, 3, 3) != 0)
		return CTL_USAGE;
	int mode;
	if (strcmp(pos[2], "read") == 0)
		mode = STORE_DAV_PROXY_READ;
	else if (strcmp(pos[2], "write") == 0)
		mode = STORE_DAV_PROXY_WRITE;
	else if (strcmp(pos[2], "none") == 0)
		mode = STORE_DAV_PROXY_NONE;
	else
		return ctl_usage("calendar delegate: the mode is read, write or none");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	int ret = store_dav_proxy_set(ctl->store, pos[0], pos[1], mode, &error);
	if (ret == STORE_NOTFOUND || ret == STORE_INVALID) {
		ctl_error("calendar delegate: %s", error != NULL ? error : store_result_str(ret));
		return CTL_ERROR;
	}
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_feed(struct ctl *ctl, int argc, char **argv, bool revoke)
{
	const char *user = NULL, *name = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { "--calendar", &name },
					{ NULL, NULL } };
	if (ctl_parse_args(revoke ? "calendar feed-revoke" : "calendar feed", argc, argv, opts, NULL,
			   0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL || name == NULL)
		return ctl_usage("--user ADDRESS and --calendar NAME are required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_dav_coll coll;
	if (open_calendar(ctl->store, user, name, false, &coll) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	if (revoke) {
		if (store_dav_feed_revoke(ctl->store, coll.id, &error) != STORE_OK)
			return ctl_store_failed(error);
		return CTL_OK;
	}
	char token[65], hash[65];
	if (dav_feed_token(token, hash) < 0) {
		ctl_error("no randomness for a token");
		return CTL_ERROR;
	}
	if (store_dav_feed_add(ctl->store, coll.id, hash, &error) != STORE_OK)
		return ctl_store_failed(error);
	/* The token is shown once; only its hash is stored. */
	printf("/feeds/%s.ics\n", token);
	return CTL_OK;
}

static int cmd_feed_add(struct ctl *ctl, int argc, char **argv)
{
	return cmd_feed(ctl, argc, argv, false);
}

static int cmd_feed_revoke(struct ctl *ctl, int argc, char **argv)
{
	return cmd_feed(ctl, argc, argv, true);
}

static int cmd_reindex_busy(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1] = { NULL };
	if (ctl_parse_args("calendar reindex-busy", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (pos[0] != NULL && strcmp(pos[0], "all") != 0)
		return ctl_usage("calendar reindex-busy: the only argument is \"all\"");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	uint64_t done;
	const char *error = NULL;
	int ret = sched_fbindex_reindex(ctl->store, ctl->cfg, pos[0] != NULL, stdout, &done,
					&error);
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	printf("reindex-busy: %" PRIu64 " objects indexed\n", done);
	return CTL_OK;
}

const struct ctl_cmd ctl_dav_commands[] = {
	{ "calendar", "reindex-busy", "[all]", cmd_reindex_busy,
	  "fill the busy-time index of free/busy for events not indexed yet (all: every event again)" },
	{ "calendar", "list", "--user ADDRESS", cmd_list,
	  "list a user's calendars and DAV collections with sizes, shares and feeds" },
	{ "calendar", "import", "--user ADDRESS --calendar NAME FILE.ics", cmd_import,
	  "import an .ics (one resource per UID; the calendar is created if needed)" },
	{ "calendar", "export", "--user ADDRESS --calendar NAME [FILE.ics]", cmd_export,
	  "export a calendar as one .ics (stdout without FILE)" },
	{ "calendar", "share", "--user ADDRESS --calendar NAME --with ADDRESS [--access read|read-write|none]",
	  cmd_share, "share a calendar with a user or a group (none: stop sharing)" },
	{ "calendar", "delegate", "OWNER DELEGATE read|write|none", cmd_delegate,
	  "let a user or group read (read) or also write (write) every calendar of OWNER, "
	  "as CalDAV proxies (none: stop)" },
	{ "calendar", "feed", "--user ADDRESS --calendar NAME", cmd_feed_add,
	  "create a secret read-only .ics link (printed once)" },
	{ "calendar", "feed-revoke", "--user ADDRESS --calendar NAME", cmd_feed_revoke,
	  "revoke every feed link of a calendar" },
	{ NULL, NULL, NULL, NULL, NULL }
};
