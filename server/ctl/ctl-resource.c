/* cairnctl resource add|set|list|show|del: rooms and equipment in the sql
 * directory (store-resource.c). Errors name the option they refuse. A
 * delegate gets read-write access to the resource's calendars
 * (calendar-proxy-write), so it can approve bookings in manual mode. */
#include "autoconf.h"
#include "config.h"
#include "ctl.h"
#include "store-dav.h"
#include "store-resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The option a store error is about: the store names the field first. */
static int res_failed(const char *error)
{
	static const char *const fields[] = { "name", "kind", "capacity", "location", "policy",
					      "window", "bookers", "delegate", "enabled" };
	for (size_t i = 0; error != NULL && i < ARRAY_SIZE(fields); i++) {
		size_t n = strlen(fields[i]);
		if (strncmp(error, fields[i], n) == 0 && (error[n] == ' ' || error[n] == ':')) {
			ctl_error("--%s", error);
			return CTL_ERROR;
		}
	}
	return ctl_store_failed(error);
}

#define RES_FIELD_OPTS(f, enabled)                                                      \
	{ "--name", &(f).display_name }, { "--kind", &(f).kind },                       \
	{ "--capacity", &(f).capacity }, { "--location", &(f).location },               \
	{ "--policy", &(f).policy }, { "--window", &(f).window },                       \
	{ "--bookers", &(f).bookers }, { "--delegate", &(f).delegate },                 \
	{ "--enabled", &(enabled) }

static int enabled_option(const char *value, const char **out)
{
	bool b;
	*out = NULL;
	if (value == NULL)
		return 0;
	if (config_parse_bool(value, &b) < 0) {
		ctl_usage("--enabled: '%s' is not yes or no", value);
		return -1;
	}
	*out = b ? "true" : "false";
	return 0;
}

/* Give the delegate read-write access to the resource's calendars and take
 * it from the one before (old, "" = none). */
static int delegate_sync(struct ctl *ctl, const char *address, const char *old, const char *new)
{
	const char *error;
	/* the old delegate may be gone from the directory: nothing to take */
	if (old[0] != '\0' && strcmp(old, new) != 0 &&
	    store_dav_proxy_set(ctl->store, address, old, STORE_DAV_PROXY_NONE, &error) != STORE_OK)
		fprintf(stderr, "cairnctl: warning: removing %s's access: %s\n", old, error);
	if (new[0] != '\0' &&
	    store_dav_proxy_set(ctl->store, address, new, STORE_DAV_PROXY_WRITE, &error) != STORE_OK) {
		ctl_error("--delegate %s: cannot give it access to the calendars: %s", new, error);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int cmd_res_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error, *enabled = NULL;
	struct store_resource_fields f = { 0 };
	const struct ctl_opt opts[] = { RES_FIELD_OPTS(f, enabled), { NULL, NULL } };
	if (ctl_parse_args("resource add", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (enabled_option(enabled, &f.enabled) < 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_resource_add(ctl->store, pos[0], &f, &error) != STORE_OK)
		return res_failed(error);
	struct store_resource r;
	if (store_resource_get(ctl->store, pos[0], &r, &error) != STORE_OK)
		return res_failed(error);
	int ret = delegate_sync(ctl, r.address, "", r.delegate);
	store_resource_free(&r);
	return ret;
}

static int cmd_res_set(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error, *enabled = NULL;
	struct store_resource_fields f = { 0 };
	const struct ctl_opt opts[] = { RES_FIELD_OPTS(f, enabled), { NULL, NULL } };
	if (ctl_parse_args("resource set", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (enabled_option(enabled, &f.enabled) < 0)
		return CTL_USAGE;
	if (f.display_name == NULL && f.kind == NULL && f.capacity == NULL && f.location == NULL &&
	    f.policy == NULL && f.window == NULL && f.bookers == NULL && f.delegate == NULL &&
	    f.enabled == NULL)
		return ctl_usage("resource set: nothing to change (give --name, --kind, --capacity, "
				 "--location, --policy, --window, --bookers, --delegate or --enabled)");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_resource before, after;
	if (store_resource_get(ctl->store, pos[0], &before, &error) != STORE_OK)
		return res_failed(error);
	int ret = CTL_OK;
	if (store_resource_update(ctl->store, pos[0], &f, &error) != STORE_OK) {
		ret = res_failed(error);
	} else if (store_resource_get(ctl->store, pos[0], &after, &error) != STORE_OK) {
		ret = res_failed(error);
	} else {
		if (f.delegate != NULL)
			ret = delegate_sync(ctl, after.address, before.delegate, after.delegate);
		store_resource_free(&after);
	}
	store_resource_free(&before);
	return ret;
}

static int cmd_res_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("resource del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_resource_del(ctl->store, pos[0], &error) != STORE_OK)
		return res_failed(error);
	return CTL_OK;
}

static void print_bookers(const struct store_resource *r, FILE *out)
{
	if (r->everyone) {
		fputs("everyone", out);
		return;
	}
	if (r->nbookers == 0)
		fputs("nobody", out);
	for (size_t i = 0; i < r->nbookers; i++)
		fprintf(out, "%s%s", i > 0 ? "," : "", r->bookers[i]);
}

static void print_row(const struct store_resource *r, void *ctx)
{
	(void)ctx;
	printf("%s\t%s\t%u\t%s\t%s\t%s%s\n", r->address, store_res_kind_name(r->kind), r->capacity,
	       store_res_policy_name(r->policy), r->location, r->display_name,
	       r->enabled ? "" : "\t(disabled)");
}

static int cmd_res_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error, *search = "";
	unsigned total;
	const struct ctl_opt opts[] = { { "--search", &search }, { NULL, NULL } };
	if (ctl_parse_args("resource list", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *domains[1] = { pos[0] };
	if (store_resource_list(ctl->store, pos[0] != NULL ? domains : NULL, 1, search,
				STORE_RES_SORT_ADDRESS, false, 0, 100000, print_row, NULL, &total,
				&error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_res_show(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	struct store_resource r;
	if (ctl_parse_args("resource show", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_resource_get(ctl->store, pos[0], &r, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("address: %s\nname: %s\nkind: %s\ncapacity: %u\nlocation: %s\npolicy: %s\n"
	       "window: %u\nbookers: ", r.address, r.display_name, store_res_kind_name(r.kind),
	       r.capacity, r.location, store_res_policy_name(r.policy), r.window_days);
	print_bookers(&r, stdout);
	printf("\ndelegate: %s\nenabled: %s\nsource: %s\n", r.delegate, r.enabled ? "yes" : "no",
	       r.source);
	store_resource_free(&r);
	return CTL_OK;
}

const struct ctl_cmd ctl_resource_commands[] = {
	{ "resource", "add",
	  "ADDRESS [--name|--kind|--capacity|--location|--policy|--window|--bookers|--delegate V]",
	  cmd_res_add, "add a room or equipment (--kind room|equipment, --policy auto|manual|none, "
	  "--window DAYS, --bookers everyone|ADDR,...)" },
	{ "resource", "set", "ADDRESS [the options of add] [--enabled yes|no]", cmd_res_set,
	  "change a resource (--capacity 0 and --window 0: no limit, --delegate '': none)" },
	{ "resource", "list", "[DOMAIN] [--search TEXT]", cmd_res_list,
	  "list resources: address, kind, capacity, policy, location, name" },
	{ "resource", "show", "ADDRESS", cmd_res_show, "show a resource's settings" },
	{ "resource", "del", "ADDRESS", cmd_res_del, "delete a resource with its calendars" },
	{ NULL, NULL, NULL, NULL, NULL }
};
