/* cairnctl commands for the directory: domains, user accounts, aliases and
 * catch-alls, groups (sql backend), and `directory ...` to test resolution,
 * passwords and the address book against the configured backend and to sync
 * accounts from LDAP. The directory commands exit 0 found/ok, 1 not found or
 * bad password, 75 (EX_TEMPFAIL) when the directory or database is down. */
#include "autoconf.h"
#include "ctl.h"
#include "config.h"
#include "directory.h"
#include "store.h"
#include "store-directory.h"
#include "store-quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

static int cmd_domain_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("domain add", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_add(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_domain_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("domain del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_del(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static void print_domain(const char *name, void *ctx)
{
	printf("%s\n", name);
}

static int cmd_domain_list(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	if (ctl_parse_args("domain list", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_list(ctl->store, print_domain, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* Terminal state to restore if we are interrupted with echo off. */
/* "yes"/"no" (and the other config spellings) to "true"/"false"; NULL
 * stays NULL. Returns -1 after saying why. */
static int bool_option(const char *name, const char *value, const char **out)
{
	bool b;
	*out = NULL;
	if (value == NULL)
		return 0;
	if (config_parse_bool(value, &b) < 0) {
		ctl_usage("%s: '%s' is not yes or no", name, value);
		return -1;
	}
	*out = b ? "true" : "false";
	return 0;
}

/* The address-book and role options shared by user add and user set. */
#define USER_FIELD_OPTS(f, admin, enabled, qmsg)                                               \
	{ "--phone", &(f).phone }, { "--department", &(f).department },                 \
	{ "--title", &(f).title }, { "--quota", &(f).quota }, { "--admin", &(admin) },  \
	{ "--enabled", &(enabled) }, { "--quota-messages", &(qmsg) }

static bool fields_set(const struct store_dir_account_fields *f)
{
	return f->display_name || f->phone || f->department || f->title || f->quota ||
	       f->is_admin || f->enabled;
}

/* --quota-messages: the message-count limit (accounts.quota_messages), "0"
 * for none like --quota; kept apart from the directory fields because LDAP
 * sync carries only the byte quota. Returns CTL_OK or after saying why. */
static int quota_messages_option(const char *value, int64_t *limit_r)
{
	uint64_t n;
	*limit_r = STORE_QUOTA_KEEP;
	if (value == NULL)
		return CTL_OK;
	if (str_to_u64(value, strlen(value), INT64_MAX, &n) < 0)
		return ctl_usage("--quota-messages: '%s' is not a number of messages", value);
	*limit_r = n == 0 ? -1 : (int64_t)n;
	return CTL_OK;
}

static int cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *name = "", *error, *admin = NULL, *enabled = NULL;
	const char *qmsg = NULL;
	int64_t qmsg_limit;
	struct store_dir_account_fields f = { 0 };
	const struct ctl_opt opts[] = {
		{ "--password", &password }, { "--name", &name },
		USER_FIELD_OPTS(f, admin, enabled, qmsg), { NULL, NULL }
	};
	if (ctl_parse_args("user add", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (bool_option("--admin", admin, &f.is_admin) < 0 ||
	    bool_option("--enabled", enabled, &f.enabled) < 0 ||
	    quota_messages_option(qmsg, &qmsg_limit) != CTL_OK)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char *hash = ctl_new_password_hash(password);
	if (hash == NULL)
		return CTL_ERROR;
	int ret = store_account_add(ctl->store, pos[0], hash, name, &error);
	free(hash);
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	if (fields_set(&f) && store_dir_account_update(ctl->store, pos[0], &f, &error) != STORE_OK) {
		ctl_error("account %s was added, but: %s", pos[0], error);
		return CTL_ERROR;
	}
	if (qmsg != NULL && store_quota_set(ctl->store, pos[0], STORE_QUOTA_KEEP, qmsg_limit,
					    &error) != STORE_OK) {
		ctl_error("account %s was added, but: %s", pos[0], error);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int cmd_user_set(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error, *admin = NULL, *enabled = NULL, *qmsg = NULL;
	int64_t qmsg_limit;
	struct store_dir_account_fields f = { 0 };
	const struct ctl_opt opts[] = {
		{ "--name", &f.display_name }, USER_FIELD_OPTS(f, admin, enabled, qmsg),
		{ NULL, NULL }
	};
	if (ctl_parse_args("user set", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (bool_option("--admin", admin, &f.is_admin) < 0 ||
	    bool_option("--enabled", enabled, &f.enabled) < 0 ||
	    quota_messages_option(qmsg, &qmsg_limit) != CTL_OK)
		return CTL_USAGE;
	if (!fields_set(&f) && qmsg == NULL)
		return ctl_usage("user set: nothing to change (give --name, --phone, --department, "
				 "--title, --quota, --quota-messages, --admin or --enabled)");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (fields_set(&f) && store_dir_account_update(ctl->store, pos[0], &f, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (qmsg != NULL && store_quota_set(ctl->store, pos[0], STORE_QUOTA_KEEP, qmsg_limit,
					    &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_user_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("user del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_account_del(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_user_passwd(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *error;
	const struct ctl_opt opts[] = { { "--password", &password }, { NULL, NULL } };
	if (ctl_parse_args("user passwd", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char *hash = ctl_new_password_hash(password);
	if (hash == NULL)
		return CTL_ERROR;
	int ret = store_account_set_password(ctl->store, pos[0], hash, &error);
	free(hash);
	return ret == STORE_OK ? CTL_OK : ctl_store_failed(error);
}

static void print_user(const char *address, const char *display_name, void *ctx)
{
	if (display_name[0] != '\0')
		printf("%s\t%s\n", address, display_name);
	else
		printf("%s\n", address);
}

static void print_user_long(const struct store_dir_account *a, void *ctx)
{
	char quota[24] = "-";
	if (a->quota_bytes > 0)
		snprintf(quota, sizeof(quota), "%llu", (unsigned long long)a->quota_bytes);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a->address,
	       a->enabled ? "enabled" : "disabled", a->is_admin ? "admin" : "user", a->source,
	       quota, a->display_name, a->phone, a->department, a->title);
}

static int cmd_user_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error, *lng = NULL;
	const struct ctl_opt opts[] = { { "--long", &lng }, { NULL, NULL } };
	if (ctl_parse_args("user list", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	bool long_form = false;
	if (lng != NULL && config_parse_bool(lng, &long_form) < 0)
		return ctl_usage("user list: --long takes yes or no");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	int ret;
	if (long_form) {
		printf("# address\tstatus\trole\tsource\tquota\tname\tphone\tdepartment\ttitle\n");
		ret = store_dir_account_search(ctl->store, pos[0], "", 1000000, print_user_long, NULL,
					       &error);
	} else {
		ret = store_account_list(ctl->store, pos[0], print_user, NULL, &error);
	}
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* ---- aliases ---- */

static int cmd_alias_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2], *error;
	if (ctl_parse_args("alias add", argc, argv, NULL, pos, 2, 2) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_alias_add(ctl->store, pos[0], pos[1], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_alias_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2], *error;
	if (ctl_parse_args("alias del", argc, argv, NULL, pos, 1, 2) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_alias_del(ctl->store, pos[0], pos[1], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static void print_alias(const char *alias, const char *target, void *ctx)
{
	printf("%s\t%s\n", alias, target);
}

static int cmd_alias_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("alias list", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_alias_list(ctl->store, pos[0], print_alias, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* ---- groups ---- */

static int cmd_group_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *name = "", *error;
	const struct ctl_opt opts[] = { { "--name", &name }, { NULL, NULL } };
	if (ctl_parse_args("group add", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_group_add(ctl->store, pos[0], name, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_group_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("group del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_group_del(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static void print_group(const char *address, const char *name, unsigned members, void *ctx)
{
	printf("%s\t%u member%s%s%s\n", address, members, members == 1 ? "" : "s",
	       name[0] ? "\t" : "", name);
}

static int cmd_group_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("group list", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_dir_group_list(ctl->store, pos[0], print_group, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* "group member add|del GROUP MEMBER", and "group member list GROUP". */
static int cmd_group_member(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[3], *error;
	if (ctl_parse_args("group member", argc, argv, NULL, pos, 2, 3) != 0)
		return CTL_USAGE;
	bool add = strcmp(pos[0], "add") == 0, del = strcmp(pos[0], "del") == 0;
	bool list = strcmp(pos[0], "list") == 0;
	if (!add && !del && !list)
		return ctl_usage("group member: unknown subcommand '%s' (add, del or list)", pos[0]);
	if ((list && pos[2] != NULL) || (!list && pos[2] == NULL))
		return ctl_usage(list ? "group member list takes GROUP" :
					"group member %s takes GROUP MEMBER", pos[0]);
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	int ret;
	if (list) {
		struct store_dir_entry e;
		ret = store_dir_lookup(ctl->store, pos[1], &e, &error);
		if (ret == STORE_OK && e.kind != STORE_DIR_GROUP) {
			store_dir_entry_free(&e);
			ctl_error("%s is not a group", pos[1]);
			return CTL_ERROR;
		}
		if (ret == STORE_NOTFOUND) {
			ctl_error("unknown group %s", pos[1]);
			return CTL_ERROR;
		}
		if (ret == STORE_OK) {
			for (size_t i = 0; i < e.nrefs; i++)
				printf("%s\n", e.refs[i]);
			store_dir_entry_free(&e);
		}
	} else if (add) {
		ret = store_dir_group_member_add(ctl->store, pos[1], pos[2], &error);
	} else {
		ret = store_dir_group_member_del(ctl->store, pos[1], pos[2], &error);
	}
	return ret == STORE_OK ? CTL_OK : ctl_store_failed(error);
}

/* ---- directory: resolution, passwords, address book, sync ---- */

struct ctl_dir {
	struct directory *dir;
	struct dir_handle *h;
};

static int dir_open(struct ctl *ctl, struct ctl_dir *d)
{
	const char *error;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	d->dir = dir_create(ctl->cfg, &error);
	if (d->dir == NULL) {
		ctl_error("%s", error);
		return CTL_ERROR;
	}
	d->h = dir_handle_create(d->dir, ctl->store);
	return CTL_OK;
}

static void dir_close(struct ctl_dir *d)
{
	dir_handle_destroy(&d->h);
	dir_destroy(&d->dir);
}

/* Exit code of a dir_status. */
static int dir_exit(int status, const char *address, const char *error)
{
	switch (status) {
	case DIR_OK:
		return CTL_OK;
	case DIR_NOTFOUND:
	case DIR_NOTOURS:
		printf("%s: %s\n", dir_status_str(status), address);
		return CTL_ERROR;
	case DIR_TEMPFAIL:
		ctl_error("temporary failure: %s", error);
		return EX_TEMPFAIL;
	default:
		ctl_error("%s", error);
		return CTL_ERROR;
	}
}

static const char *kind_name(enum dir_kind kind)
{
	switch (kind) {
	case DIR_KIND_USER: return "user";
	case DIR_KIND_ALIAS: return "alias";
	case DIR_KIND_GROUP: return "group";
	case DIR_KIND_CATCHALL: return "catch-all";
	}
	return "?";
}

static void print_route(const struct dir_route *r)
{
	printf("%s %s\n", kind_name(r->kind), r->address);
	for (size_t i = 0; i < r->ntargets; i++)
		printf("%s %s\n", r->targets[i].local ? "local" : "remote", r->targets[i].address);
}

/* The address argument, or with --stdin one line read raw from standard
 * input, so tests can hand over bytes no shell argument can hold. */
static int address_arg(const char *pos, const char *use_stdin, char **address_r)
{
	*address_r = NULL;
	if (use_stdin == NULL) {
		if (pos == NULL)
			return ctl_usage("an ADDRESS or --stdin yes is required");
		*address_r = xstrdup(pos);
		return CTL_OK;
	}
	char data[1024];
	size_t n = fread(data, 1, sizeof(data) - 1, stdin);
	while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r'))
		n--;
	data[n] = '\0';
	if (memchr(data, '\0', n) != NULL) {
		/* A C string would silently end at the NUL: refuse instead. */
		printf("not found: address contains a NUL byte\n");
		return CTL_ERROR;
	}
	*address_r = xstrdup(data);
	return CTL_OK;
}

static int cmd_dir_lookup(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL, *use_stdin = NULL;
	const struct ctl_opt opts[] = { { "--stdin", &use_stdin }, { NULL, NULL } };
	struct ctl_dir d;
	struct dir_route route;
	char *address;
	if (ctl_parse_args("directory lookup", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	int ret = address_arg(pos[0], use_stdin, &address);
	if (ret != CTL_OK)
		return ret;
	if (dir_open(ctl, &d) != CTL_OK) {
		free(address);
		return CTL_ERROR;
	}
	ret = dir_resolve(d.h, address, &route, &error);
	if (ret == DIR_OK) {
		print_route(&route);
		dir_route_free(&route);
	}
	ret = dir_exit(ret, address, error);
	free(address);
	dir_close(&d);
	return ret;
}

static int cmd_dir_expand(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	struct ctl_dir d;
	struct dir_route route;
	if (ctl_parse_args("directory expand", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	int ret = dir_expand(d.h, pos[0], &route, &error);
	if (ret == DIR_OK) {
		print_route(&route);
		dir_route_free(&route);
	}
	ret = dir_exit(ret, pos[0], error);
	dir_close(&d);
	return ret;
}

static int cmd_dir_auth(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL, *password = NULL, *ip = NULL;
	const struct ctl_opt opts[] = { { "--password", &password }, { "--ip", &ip },
					{ NULL, NULL } };
	struct ctl_dir d;
	struct dir_auth result;
	if (ctl_parse_args("directory auth", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	char *pw = ctl_get_password(password);
	if (pw == NULL)
		return CTL_ERROR;
	if (dir_open(ctl, &d) != CTL_OK) {
		ctl_wipe_free(pw);
		return CTL_ERROR;
	}
	int ret = dir_authenticate(d.h, pos[0], pw, ip, &result, &error);
	ctl_wipe_free(pw);
	if (ret < 0) {
		ctl_error("%s", error);
		ret = CTL_ERROR;
	} else if (result.status == DIR_AUTH_OK) {
		printf("ok %s\n", result.address);
		ret = CTL_OK;
	} else if (result.status == DIR_AUTH_FAIL) {
		printf("failed: bad credentials (failures=%u delay_ms=%llu)\n", result.failures,
		       (unsigned long long)result.delay_ms);
		ret = CTL_ERROR;
	} else if (result.status == DIR_AUTH_LOCKED) {
		printf("locked: too many failed logins (retry_after=%llus)\n",
		       (unsigned long long)((result.retry_after_ms + 999) / 1000));
		ret = CTL_ERROR;
	} else {
		ctl_error("temporary failure: %s", error);
		ret = EX_TEMPFAIL;
	}
	dir_close(&d);
	return ret;
}

static int cmd_dir_user(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	struct ctl_dir d;
	struct dir_user u;
	if (ctl_parse_args("directory user", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	int ret = dir_user_info(d.h, pos[0], &u, &error);
	if (ret == DIR_OK) {
		printf("address: %s\nname: %s\nphone: %s\ndepartment: %s\ntitle: %s\n"
		       "quota: %llu\nenabled: %s\nadmin: %s\n", u.address, u.display_name, u.phone,
		       u.department, u.title, (unsigned long long)u.quota_bytes,
		       u.enabled ? "yes" : "no", u.is_admin ? "yes" : "no");
		dir_user_free(&u);
	}
	ret = dir_exit(ret, pos[0], error);
	dir_close(&d);
	return ret;
}

static void print_book(const struct dir_user *u, void *ctx)
{
	printf("%s\t%s\t%s\t%s\t%s\n", u->address, u->display_name, u->phone, u->department,
	       u->title);
}

static int cmd_dir_search(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL, *limit = "1000";
	const struct ctl_opt opts[] = { { "--limit", &limit }, { NULL, NULL } };
	struct ctl_dir d;
	uint64_t n;
	if (ctl_parse_args("directory search", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (str_to_u64(limit, strlen(limit), 100000, &n) < 0 || n == 0)
		return ctl_usage("directory search: --limit must be 1 to 100000");
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	int ret = dir_search(d.h, pos[0] != NULL ? pos[0] : "", (unsigned)n, print_book, NULL,
			     &error);
	ret = dir_exit(ret, pos[0] != NULL ? pos[0] : "", error);
	dir_close(&d);
	return ret;
}

static int cmd_dir_provision(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	struct ctl_dir d;
	if (ctl_parse_args("directory provision", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	int ret = dir_provision(d.h, pos[0], &error);
	if (ret == DIR_OK)
		printf("provisioned %s\n", pos[0]);
	ret = dir_exit(ret, pos[0], error);
	dir_close(&d);
	return ret;
}

/* One word per dir_status, for batch output. */
static const char *status_word(int status)
{
	switch (status) {
	case DIR_OK: return "ok";
	case DIR_NOTFOUND: return "notfound";
	case DIR_NOTOURS: return "notours";
	case DIR_TEMPFAIL: return "tempfail";
	default: return "error";
	}
}

/* Commands from standard input, one per line, all through ONE handle (as a
 * cairnd worker would use it): "lookup ADDRESS", "expand ADDRESS",
 * "auth ADDRESS PASSWORD [IP]". One answer line each, flushed at once, so a
 * test can restart the LDAP server between two lines. */
static int cmd_dir_batch(struct ctl *ctl, int argc, char **argv)
{
	struct ctl_dir d;
	char line[2048];
	if (ctl_parse_args("directory batch", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	while (fgets(line, sizeof(line), stdin) != NULL) {
		const char *error = "";
		char *save = NULL;
		char *cmd = strtok_r(line, " \t\r\n", &save);
		char *arg = strtok_r(NULL, " \t\r\n", &save);
		if (cmd == NULL)
			continue;
		if (arg == NULL) {
			printf("error missing argument\n");
		} else if (strcmp(cmd, "lookup") == 0 || strcmp(cmd, "expand") == 0) {
			struct dir_route r;
			int ret = cmd[0] == 'l' ? dir_resolve(d.h, arg, &r, &error) :
						  dir_expand(d.h, arg, &r, &error);
			printf("%s", status_word(ret));
			if (ret == DIR_OK) {
				printf(" %s", kind_name(r.kind));
				for (size_t i = 0; i < r.ntargets; i++)
					printf(" %s:%s", r.targets[i].local ? "local" : "remote",
					       r.targets[i].address);
				dir_route_free(&r);
			}
			printf("\n");
		} else if (strcmp(cmd, "auth") == 0) {
			char *pw = strtok_r(NULL, " \t\r\n", &save);
			char *ip = strtok_r(NULL, " \t\r\n", &save);
			struct dir_auth a;
			if (dir_authenticate(d.h, arg, pw != NULL ? pw : "", ip, &a, &error) < 0)
				printf("error %s\n", error);
			else
				printf("%s\n", a.status == DIR_AUTH_OK ? "ok" :
						a.status == DIR_AUTH_FAIL ? "failed" :
						a.status == DIR_AUTH_LOCKED ? "locked" : "tempfail");
		} else {
			printf("error unknown command %s\n", cmd);
		}
		fflush(stdout);
	}
	dir_close(&d);
	return CTL_OK;
}

static int cmd_dir_sync(struct ctl *ctl, int argc, char **argv)
{
	const char *error = NULL;
	struct ctl_dir d;
	struct dir_sync_stats st;
	if (ctl_parse_args("directory sync", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (dir_open(ctl, &d) != CTL_OK)
		return CTL_ERROR;
	if (ctl->cfg->directory.backend == CONFIG_DIR_SQL) {
		/* Its accounts are the store's own: nothing to copy, but the
		 * GAL is refreshed like after an LDAP sync. */
		printf("sync: nothing to sync: the sql backend keeps its accounts itself\n");
		fflush(stdout);
		int sret = ctl->cfg->directory.gal ? ctl_gal_sync(ctl, d.h, &error) : DIR_OK;
		sret = dir_exit(sret, "", error);
		dir_close(&d);
		return sret;
	}
	int ret = dir_sync(d.h, stdout, &st, &error);
	printf("sync: %u users in the directory: %u created, %u enabled again, %u updated, "
	       "%u disabled, %u skipped, %u errors\n", st.users, st.created, st.enabled, st.updated,
	       st.disabled, st.skipped, st.errors);
	if (st.resources > 0)
		printf("sync: %u resources in the directory: %u created, %u errors\n", st.resources,
		       st.res_created, st.res_errors);
	fflush(stdout);
	if (ret == DIR_OK && st.errors + st.res_errors > 0)
		ret = DIR_ERROR, error = "some users could not be synced (see above)";
	if (ret == DIR_OK && ctl->cfg->directory.gal)
		ret = ctl_gal_sync(ctl, d.h, &error);
	ret = dir_exit(ret, "", error);
	dir_close(&d);
	return ret;
}

const struct ctl_cmd ctl_directory_commands[] = {
	{ "domain", "add", "NAME", cmd_domain_add, "add a mail domain" },
	{ "domain", "del", "NAME", cmd_domain_del, "delete a domain without accounts" },
	{ "domain", "list", "", cmd_domain_list, "list domains" },
	{ "user", "add", "ADDRESS [--password PW] [--name NAME]", cmd_user_add,
	  "add an account" },
	{ "user", "del", "ADDRESS", cmd_user_del, "delete an account" },
	{ "user", "passwd", "ADDRESS [--password PW]", cmd_user_passwd,
	  "set an account's password" },
	{ "user", "set", "ADDRESS [--name|--phone|--title|--quota|--quota-messages|--admin|...]",
	  cmd_user_set, "change an account's attributes (--quota bytes, --quota-messages count; 0 = none)" },
	{ "user", "list", "[DOMAIN] [--long yes]", cmd_user_list, "list accounts" },
	{ "alias", "add", "ALIAS|@DOMAIN TARGET", cmd_alias_add,
	  "route an alias (or a domain's catch-all) to an address" },
	{ "alias", "del", "ALIAS [TARGET]", cmd_alias_del, "remove one target or the whole alias" },
	{ "alias", "list", "[DOMAIN]", cmd_alias_list, "list aliases and their targets" },
	{ "group", "add", "ADDRESS [--name NAME]", cmd_group_add, "add a distribution list" },
	{ "group", "del", "ADDRESS", cmd_group_del, "delete a distribution list" },
	{ "group", "list", "[DOMAIN]", cmd_group_list, "list distribution lists" },
	{ "group", "member", "add|del GROUP MEMBER | list GROUP", cmd_group_member,
	  "change or show a list's members" },
	{ "directory", "lookup", "ADDRESS | --stdin yes", cmd_dir_lookup,
	  "show where mail for an address goes (exit 0/1/75)" },
	{ "directory", "expand", "GROUP", cmd_dir_expand, "list a group's recipients" },
	{ "directory", "auth", "ADDRESS [--password PW] [--ip IP]", cmd_dir_auth,
	  "check a password, counting failures (exit 0/1/75)" },
	{ "directory", "user", "ADDRESS", cmd_dir_user, "show a user's attributes" },
	{ "directory", "search", "[QUERY] [--limit N]", cmd_dir_search, "search the address book" },
	{ "directory", "provision", "ADDRESS", cmd_dir_provision,
	  "create a directory user's account and mailboxes" },
	{ "directory", "batch", "", cmd_dir_batch,
	  "read lookup/expand/auth lines from stdin, one handle" },
	{ "directory", "sync", "", cmd_dir_sync,
	  "create accounts for LDAP users, disable those gone" },
	{ NULL, NULL, NULL, NULL, NULL }
};
