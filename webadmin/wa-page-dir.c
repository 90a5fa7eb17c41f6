/* Directory pages: domains, users (list, create, detail: quota, enable,
 * password reset, delete, domain administration), aliases and groups. A
 * domain administrator sees and changes only his domains' entries; every
 * change is checked for scope here, again, whatever the form said. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "directory.h"
#include "password.h"
#include "store.h"
#include "store-directory.h"
#include "store-quota.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct list_ctx {
	struct wa_req *r;
	size_t rows;
	const char *list;	/* the template list name */
};

static bool more_room(struct list_ctx *c)
{
	return ++c->rows <= c->r->cfg->webadmin.page_size;
}

/* Domains. */
static void domain_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 3 || !more_room(c))
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	char size[32];
	wa_format_bytes(strtoull(col[2], NULL, 10), size, sizeof(size));
	tpl_set(v, "name", col[0]);
	tpl_set(v, "accounts", col[1]);
	tpl_set(v, "size", size);
	tpl_set(v, "deletable", strcmp(col[1], "0") == 0 && c->r->role == WA_ADMIN ? "1" : "");
}

static int show_domains(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct list_ctx c = { r, 0, "rows" };
	const char *error = NULL;
	int ret = store_wa_list(r->st, STORE_WA_DOMAINS, &page, domain_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "domains");
}

static int post_domains(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *name = wa_form(r, "name");
	const char *error = NULL;
	if (r->role != WA_ADMIN) {
		return wa_error(r, 403, "Only administrators add or delete domains.");
	} else if (!wa_valid_domain(name)) {
		wa_fail(r, "Not a valid domain name.");
	} else if (strcmp(action, "add") == 0) {
		int ret = store_domain_add(r->st, name, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "domain-add", name, NULL);
			wa_notice(r, "Domain %s added.", name);
		}
	} else if (strcmp(action, "delete") == 0) {
		int ret = store_domain_del(r->st, name, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "domain-delete", name, NULL);
			wa_notice(r, "Domain %s deleted.", name);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	return show_domains(r);
}

/* Users. */
static void user_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 7 || !more_room(c))
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	char used[32], quota[32];
	wa_format_bytes(strtoull(col[6], NULL, 10), used, sizeof(used));
	uint64_t q = strtoull(col[5], NULL, 10);
	if (q > 0)
		wa_format_bytes(q, quota, sizeof(quota));
	else
		snprintf(quota, sizeof(quota), "none");
	tpl_set(v, "address", col[0]);
	tpl_set(v, "name", col[1]);
	tpl_set(v, "enabled", col[2][0] == 't' ? "1" : "");
	tpl_set(v, "admin", col[3][0] == 't' ? "1" : "");
	tpl_set(v, "source", col[4]);
	tpl_set(v, "quota", quota);
	tpl_set(v, "used", used);
}

static int show_users(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct list_ctx c = { r, 0, "rows" };
	const char *error = NULL;
	int ret = store_wa_list(r->st, STORE_WA_USERS, &page, user_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "users");
}

/* Parse a quota as typed: "", "0" or "none" = no quota; else a size. */
static int parse_quota(const char *s, int64_t *bytes_r)
{
	if (s[0] == '\0' || strcmp(s, "0") == 0 || strcmp(s, "none") == 0) {
		*bytes_r = -1;
		return 0;
	}
	uint64_t v = 0, mult = 1;
	size_t len = strlen(s);
	char last = s[len - 1];
	if (last == 'k' || last == 'K')
		mult = 1024;
	else if (last == 'm' || last == 'M')
		mult = 1024 * 1024;
	else if (last == 'g' || last == 'G')
		mult = 1024 * 1024 * 1024;
	if (mult > 1)
		len--;
	if (len == 0 || str_to_u64(s, len, UINT64_C(1) << 50, &v) < 0)
		return -1;
	*bytes_r = (int64_t)(v * mult);
	return 0;
}

static int create_user(struct wa_req *r)
{
	const char *address = wa_form(r, "address"), *name = wa_form(r, "name");
	const char *pass = wa_form(r, "password"), *quota = wa_form(r, "quota");
	const char *error = NULL;
	int64_t qbytes;
	char *lower = xstrdup(address);
	for (char *c = lower; *c != '\0'; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	if (!wa_valid_address(lower)) {
		wa_fail(r, "Not a valid address.");
	} else if (!wa_address_allowed(r, lower)) {
		free(lower);
		return wa_error(r, 403, "That domain is not yours to manage.");
	} else if (strlen(name) > 256) {
		wa_fail(r, "The name is too long.");
	} else if (strlen(pass) < 8) {
		wa_fail(r, "The password needs at least 8 characters.");
	} else if (parse_quota(quota, &qbytes) < 0) {
		wa_fail(r, "Not a valid quota (bytes, or a number with k, M or G).");
	} else {
		char *hash = NULL;
		if (password_hash(pass, &hash, &error) < 0) {
			wa_fail(r, "%s", error);
		} else {
			int ret = store_account_add(r->st, lower, hash, name, &error);
			free(hash);
			if (ret == STORE_OK && qbytes >= 0)
				ret = store_quota_set(r->st, lower, qbytes, STORE_QUOTA_KEEP, &error);
			if (ret != STORE_OK) {
				wa_store_fail(r, ret, error);
			} else {
				wa_audit(r, "user-add", lower, "quota=%s", quota[0] ? quota : "none");
				wa_notice(r, "User %s created.", lower);
			}
		}
	}
	free(lower);
	return show_users(r);
}

struct account_ctx {
	struct wa_req *r;
	bool found;
};

static void account_info(const struct store_dir_account *a, void *ctx)
{
	struct account_ctx *c = ctx;
	struct tpl_vars *v = c->r->vars;
	c->found = true;
	tpl_set(v, "address", a->address);
	tpl_set(v, "name", a->display_name);
	tpl_set(v, "enabled", a->enabled ? "1" : "");
	tpl_set(v, "admin", a->is_admin ? "1" : "");
	tpl_set(v, "source", a->source);
	tpl_set(v, "ldap", strcmp(a->source, "ldap") == 0 ? "1" : "");
	tpl_set(v, "phone", a->phone);
	tpl_set(v, "department", a->department);
	tpl_set(v, "title", a->title);
}

static void admin_domain(const char *domain, void *ctx)
{
	struct wa_req *r = ctx;
	struct tpl_vars *v = tpl_list_add(r->vars, "admin_domains");
	tpl_set(v, "domain", domain);
}

static int show_user(struct wa_req *r, const char *address)
{
	if (!wa_address_allowed(r, address))
		return wa_error(r, 403, "That user is not yours to manage.");
	struct account_ctx c = { r, false };
	const char *error = NULL;
	int ret = store_dir_account_info(r->st, address, account_info, &c, &error);
	if (ret != STORE_OK || !c.found) {
		if (ret == STORE_NOTFOUND || (ret == STORE_OK && !c.found))
			return wa_error(r, 404, "No such user.");
		wa_store_fail(r, ret, error);
		return wa_render(r, "user");
	}
	struct store_quota q;
	if (store_quota_account(r->st, address, &q, &error) == STORE_OK) {
		char used[32], limit[32];
		wa_format_bytes(q.bytes, used, sizeof(used));
		tpl_set(r->vars, "used", used);
		tpl_setf(r->vars, "messages", "%" PRIu64, q.messages);
		if (q.limit_bytes >= 0) {
			wa_format_bytes((uint64_t)q.limit_bytes, limit, sizeof(limit));
			tpl_set(r->vars, "quota", limit);
			tpl_setf(r->vars, "quota_raw", "%" PRId64, q.limit_bytes);
		}
	}
	store_wa_admin_domains(r->st, address, admin_domain, r, &error);
	return wa_render(r, "user");
}

static int get_user(struct wa_req *r)
{
	return show_user(r, wa_query(r, "a"));
}

static int post_user(struct wa_req *r)
{
	const char *action = wa_form(r, "action");
	if (strcmp(action, "create") == 0)
		return create_user(r);
	const char *address = wa_form(r, "address");
	const char *error = NULL;
	int ret = STORE_OK;
	if (!wa_valid_address(address))
		return wa_error(r, 400, "Not a valid address.");
	if (!wa_address_allowed(r, address))
		return wa_error(r, 403, "That user is not yours to manage.");
	bool self = str_casecmp(address, r->sess.address) == 0;
	if (!self && wa_account_protected(r, address))
		return wa_error(r, 403, "Only administrators change administrators' accounts.");
	if (strcmp(action, "quota") == 0) {
		int64_t q;
		if (parse_quota(wa_form(r, "quota"), &q) < 0) {
			wa_fail(r, "Not a valid quota (bytes, or a number with k, M or G).");
		} else if ((ret = store_quota_set(r->st, address, q, STORE_QUOTA_KEEP, &error)) == STORE_OK) {
			wa_audit(r, "user-quota", address, "quota=%s", wa_form(r, "quota"));
			wa_notice(r, "Quota changed.");
		}
	} else if (strcmp(action, "disable") == 0 || strcmp(action, "enable") == 0) {
		bool on = action[0] == 'e';
		struct store_dir_account_fields f = { .enabled = on ? "true" : "false" };
		if (self && !on) {
			wa_fail(r, "You cannot disable your own account.");
		} else if ((ret = store_dir_account_update(r->st, address, &f, &error)) == STORE_OK) {
			wa_audit(r, on ? "user-enable" : "user-disable", address, NULL);
			wa_notice(r, "User %s.", on ? "enabled" : "disabled");
		}
	} else if (strcmp(action, "name") == 0) {
		const char *name = wa_form(r, "name");
		struct store_dir_account_fields f = { .display_name = name };
		if (strlen(name) > 256) {
			wa_fail(r, "The name is too long.");
		} else if ((ret = store_dir_account_update(r->st, address, &f, &error)) == STORE_OK) {
			wa_audit(r, "user-rename", address, NULL);
			wa_notice(r, "Name changed.");
		}
	} else if (strcmp(action, "password") == 0) {
		const char *pass = wa_form(r, "password");
		char *hash = NULL;
		if (strlen(pass) < 8) {
			wa_fail(r, "The password needs at least 8 characters.");
		} else if (password_hash(pass, &hash, &error) < 0) {
			wa_fail(r, "%s", error);
		} else {
			ret = store_account_set_password(r->st, address, hash, &error);
			free(hash);
			if (ret == STORE_OK) {
				store_wa_session_delete_others(r->st, address, self ? r->sid_hash : "", &error);
				wa_audit(r, "user-password-reset", address, NULL);
				wa_notice(r, "Password reset; the user's other web sessions were ended.");
			}
		}
	} else if (strcmp(action, "delete") == 0) {
		if (self) {
			wa_fail(r, "You cannot delete your own account.");
		} else if ((ret = store_account_del(r->st, address, &error)) == STORE_OK) {
			wa_audit(r, "user-delete", address, NULL);
			wa_notice(r, "User %s deleted.", address);
			return show_users(r);
		}
	} else if (strcmp(action, "admin") == 0 || strcmp(action, "unadmin") == 0) {
		bool on = strcmp(action, "admin") == 0;
		struct store_dir_account_fields f = { .is_admin = on ? "true" : "false" };
		if (r->role != WA_ADMIN)
			return wa_error(r, 403, "Only administrators make administrators.");
		if (self && !on) {
			wa_fail(r, "You cannot remove your own administrator flag.");
		} else if ((ret = store_dir_account_update(r->st, address, &f, &error)) == STORE_OK) {
			wa_audit(r, on ? "user-admin" : "user-unadmin", address, NULL);
			wa_notice(r, "Administrator flag %s.", on ? "set" : "removed");
		}
	} else if (strcmp(action, "domain-admin") == 0 || strcmp(action, "domain-unadmin") == 0) {
		bool on = strcmp(action, "domain-admin") == 0;
		const char *domain = wa_form(r, "domain");
		if (r->role != WA_ADMIN)
			return wa_error(r, 403, "Only administrators appoint domain administrators.");
		if (!wa_valid_domain(domain)) {
			wa_fail(r, "Not a valid domain name.");
		} else if ((ret = store_wa_domain_admin_set(r->st, address, domain, on, &error)) ==
			   STORE_OK) {
			wa_audit(r, on ? "domain-admin-add" : "domain-admin-remove", address, "domain=%s",
				 domain);
			wa_notice(r, "Domain administration changed.");
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_user(r, address);
}

/* Aliases. */
static void alias_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 2 || !more_room(c))
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	tpl_set(v, "address", col[0]);
	/* One row per target so each can be removed on its own. */
	char *targets = xstrdup(col[1]);
	char *save = NULL;
	for (char *t = strtok_r(targets, ", ", &save); t != NULL; t = strtok_r(NULL, ", ", &save)) {
		struct tpl_vars *tv = tpl_list_add(v, "targets");
		tpl_set(tv, "target", t);
	}
	free(targets);
}

static int show_aliases(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct list_ctx c = { r, 0, "rows" };
	const char *error = NULL;
	int ret = store_wa_list(r->st, STORE_WA_ALIASES, &page, alias_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "aliases");
}

static int post_aliases(struct wa_req *r)
{
	const char *action = wa_form(r, "action");
	const char *alias = wa_form(r, "alias"), *target = wa_form(r, "target");
	const char *error = NULL;
	bool catchall = alias[0] == '@' && wa_valid_domain(alias + 1);
	if (!catchall && !wa_valid_address(alias))
		wa_fail(r, "Not a valid alias address (or @domain for a catch-all).");
	else if (!wa_address_allowed(r, alias))
		return wa_error(r, 403, "That domain is not yours to manage.");
	else if (r->role != WA_ADMIN && wa_is_admin_group(r, alias))
		return wa_error(r, 403, "Only administrators manage the administrators' group.");
	else if (target[0] != '\0' && !wa_valid_address(target))
		wa_fail(r, "Not a valid target address.");
	else if (strcmp(action, "add") == 0) {
		int ret = store_dir_alias_add(r->st, alias, target, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "alias-add", alias, "target=%s", target);
			wa_notice(r, "%s now goes to %s.", alias, target);
		}
	} else if (strcmp(action, "delete") == 0) {
		int ret = store_dir_alias_del(r->st, alias, target[0] ? target : NULL, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "alias-delete", alias, "target=%s", target[0] ? target : "*");
			wa_notice(r, "Alias removed.");
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	return show_aliases(r);
}

/* Groups. */
static void group_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 3 || !more_room(c))
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	tpl_set(v, "address", col[0]);
	tpl_set(v, "name", col[1]);
	tpl_set(v, "members", col[2]);
}

static int show_groups(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct list_ctx c = { r, 0, "rows" };
	const char *error = NULL;
	int ret = store_wa_list(r->st, STORE_WA_GROUPS, &page, group_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "groups");
}

static void member_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 1 || !more_room(c))
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	tpl_set(v, "member", col[0]);
}

static int show_group(struct wa_req *r, const char *group)
{
	if (!wa_valid_address(group))
		return wa_error(r, 404, "No such group.");
	if (!wa_address_allowed(r, group))
		return wa_error(r, 403, "That group is not yours to manage.");
	struct store_wa_page page;
	wa_page_setup(r, &page);
	tpl_set(r->vars, "group", group);
	struct list_ctx c = { r, 0, "rows" };
	const char *error = NULL;
	int ret = store_wa_group_members(r->st, group, page.limit, page.offset, member_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "group");
}

static int get_group(struct wa_req *r)
{
	return show_group(r, wa_query(r, "a"));
}

static int post_groups(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *group = wa_form(r, "group");
	const char *error = NULL;
	int ret = STORE_OK;
	if (!wa_valid_address(group)) {
		wa_fail(r, "Not a valid group address.");
		return show_groups(r);
	}
	if (!wa_address_allowed(r, group))
		return wa_error(r, 403, "That domain is not yours to manage.");
	if (r->role != WA_ADMIN && wa_is_admin_group(r, group))
		return wa_error(r, 403, "Only administrators manage the administrators' group.");
	if (strcmp(action, "add") == 0) {
		const char *name = wa_form(r, "name");
		if (strlen(name) > 256) {
			wa_fail(r, "The name is too long.");
		} else if ((ret = store_dir_group_add(r->st, group, name, &error)) == STORE_OK) {
			wa_audit(r, "group-add", group, NULL);
			wa_notice(r, "Group %s created.", group);
		}
	} else if (strcmp(action, "delete") == 0) {
		if ((ret = store_dir_group_del(r->st, group, &error)) == STORE_OK) {
			wa_audit(r, "group-delete", group, NULL);
			wa_notice(r, "Group %s deleted.", group);
		}
	} else if (strcmp(action, "member-add") == 0 || strcmp(action, "member-delete") == 0) {
		const char *member = wa_form(r, "member");
		bool add = strcmp(action, "member-add") == 0;
		if (!wa_valid_address(member)) {
			wa_fail(r, "Not a valid member address.");
		} else if ((ret = add ? store_dir_group_member_add(r->st, group, member, &error)
				      : store_dir_group_member_del(r->st, group, member, &error)) ==
			   STORE_OK) {
			wa_audit(r, add ? "group-member-add" : "group-member-delete", group, "member=%s",
				 member);
			wa_notice(r, "Member %s %s.", member, add ? "added" : "removed");
		}
		if (ret != STORE_OK)
			wa_store_fail(r, ret, error);
		return show_group(r, group);
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_groups(r);
}

const struct wa_route wa_routes_dir[] = {
	{ "/domains", "GET", WA_DOMAIN_ADMIN, show_domains, "Domains" },
	{ "/domains", "POST", WA_ADMIN, post_domains, NULL },
	{ "/users", "GET", WA_DOMAIN_ADMIN, show_users, "Users" },
	{ "/users", "POST", WA_DOMAIN_ADMIN, post_user, NULL },
	{ "/user", "GET", WA_DOMAIN_ADMIN, get_user, NULL },
	{ "/user", "POST", WA_DOMAIN_ADMIN, post_user, NULL },
	{ "/aliases", "GET", WA_DOMAIN_ADMIN, show_aliases, "Aliases" },
	{ "/aliases", "POST", WA_DOMAIN_ADMIN, post_aliases, NULL },
	{ "/groups", "GET", WA_DOMAIN_ADMIN, show_groups, "Groups" },
	{ "/groups", "POST", WA_DOMAIN_ADMIN, post_groups, NULL },
	{ "/group", "GET", WA_DOMAIN_ADMIN, get_group, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
