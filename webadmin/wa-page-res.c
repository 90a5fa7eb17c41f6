/* Resources page (issue 15 item 4, issue 17): rooms and equipment that
 * meetings book, listed (paged, searchable, sortable), created, edited and
 * deleted through store-resource.c, as `cairnctl resource` does. A domain
 * administrator sees and changes only his domains' resources; every change
 * is checked for scope here again, whatever the form said. Resources from
 * LDAP are shown read-only: the directory owns them. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "store.h"
#include "store-dav.h"
#include "store-resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct res_list {
	struct wa_req *r;
	size_t rows;
};

static void bookers_text(const struct store_resource *res, struct buf *out)
{
	buf_init(out, 0);
	buf_append(out, "", 0);
	if (res->everyone) {
		buf_append_str(out, "everyone");
		return;
	}
	for (size_t i = 0; i < res->nbookers; i++)
		buf_printf(out, "%s%s", i > 0 ? ", " : "", res->bookers[i]);
}

static void res_row(const struct store_resource *res, void *ctx)
{
	struct res_list *c = ctx;
	if (++c->rows > c->r->cfg->webadmin.page_size)
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	tpl_set(v, "address", res->address);
	tpl_set(v, "name", res->display_name);
	tpl_set(v, "kind", store_res_kind_name(res->kind));
	if (res->capacity > 0)
		tpl_setf(v, "capacity", "%u", res->capacity);
	else
		tpl_set(v, "capacity", "any");
	tpl_set(v, "location", res->location);
	tpl_set(v, "policy", store_res_policy_name(res->policy));
	tpl_set(v, "enabled", res->enabled ? "1" : "");
	tpl_set(v, "local", strcmp(res->source, "local") == 0 ? "1" : "");
}

static const char *const sorts[] = { "address", "name", "location", "capacity", "kind" };

static int show_resources(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	/* more sort keys than the shared pager knows */
	enum store_res_sort sort = STORE_RES_SORT_ADDRESS;
	const char *s = wa_query(r, "sort");
	for (size_t i = 0; i < ARRAY_SIZE(sorts); i++)
		if (strcmp(s, sorts[i]) == 0)
			sort = (enum store_res_sort)i;
	tpl_set(r->vars, "sort", sorts[sort]);
	struct res_list c = { r, 0 };
	const char *error = NULL;
	const char *const *domains = NULL;
	size_t ndomains = 0;
	if (r->role != WA_ADMIN) {
		domains = (const char *const *)r->domains;
		ndomains = r->ndomains;
		if (domains == NULL) {
			static const char *const none[] = { "" };
			domains = none;	/* no domains: an empty list */
			ndomains = 1;
		}
	}
	unsigned total = 0;
	int ret = store_resource_list(r->st, domains, ndomains, page.query, sort, page.desc,
				      page.offset, page.limit, res_row, &c, &total, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	tpl_setf(r->vars, "total", "%u", total);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "resources");
}

/* The form's fields; empty optional numbers mean 0 (no limit). */
static void form_fields(struct wa_req *r, struct store_resource_fields *f)
{
	memset(f, 0, sizeof(*f));
	f->display_name = wa_form(r, "name");
	f->kind = wa_form(r, "kind");
	f->capacity = wa_form(r, "capacity")[0] != '\0' ? wa_form(r, "capacity") : "0";
	f->location = wa_form(r, "location");
	f->policy = wa_form(r, "policy");
	f->window = wa_form(r, "window")[0] != '\0' ? wa_form(r, "window") : "0";
	f->bookers = wa_form(r, "bookers")[0] != '\0' ? wa_form(r, "bookers") : "everyone";
	f->delegate = wa_form(r, "delegate");
}

/* Give the delegate read-write access to the resource's calendars (the
 * calendar-proxy-write group), taking it from the one before. */
static void delegate_sync(struct wa_req *r, const char *address, const char *old,
			  const char *new)
{
	const char *error;
	if (old[0] != '\0' && strcmp(old, new) != 0)
		(void)store_dav_proxy_set(r->st, address, old, STORE_DAV_PROXY_NONE, &error);
	if (new[0] != '\0' &&
	    store_dav_proxy_set(r->st, address, new, STORE_DAV_PROXY_WRITE, &error) != STORE_OK)
		wa_fail(r, "The delegate %s could not be given access to the calendars: %s", new,
			error);
}

static int post_resources(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *address = wa_form(r, "resource");
	const char *error = NULL;
	if (!wa_valid_address(address)) {
		wa_fail(r, "Not a valid resource address.");
		return show_resources(r);
	}
	if (!wa_address_allowed(r, address))
		return wa_error(r, 403, "That domain is not yours to manage.");
	int ret;
	if (strcmp(action, "add") == 0) {
		struct store_resource_fields f;
		form_fields(r, &f);
		if (f.delegate[0] != '\0' && !wa_address_allowed(r, f.delegate))
			return wa_error(r, 403, "The delegate must be in one of your domains.");
		ret = store_resource_add(r->st, address, &f, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			delegate_sync(r, address, "", f.delegate);
			wa_audit(r, "resource-add", address, "kind=%s capacity=%s policy=%s", f.kind,
				 f.capacity, f.policy);
			wa_notice(r, "Resource %s created.", address);
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_resource_del(r->st, address, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "resource-delete", address, NULL);
			wa_notice(r, "Resource %s deleted.", address);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	return show_resources(r);
}

static void set_choice(struct wa_req *r, const char *prefix, const char *value)
{
	char name[64];
	snprintf(name, sizeof(name), "%s_%s", prefix, value);
	tpl_set(r->vars, name, "1");
}

static int show_resource(struct wa_req *r, const char *address)
{
	struct store_resource res;
	const char *error = NULL;
	if (!wa_valid_address(address))
		return wa_error(r, 404, "No such resource.");
	if (!wa_address_allowed(r, address))
		return wa_error(r, 403, "That resource is not yours to manage.");
	int ret = store_resource_get(r->st, address, &res, &error);
	if (ret == STORE_NOTFOUND)
		return wa_error(r, 404, "No such resource.");
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return wa_render(r, "resource");
	}
	struct buf b;
	bookers_text(&res, &b);
	tpl_set(r->vars, "address", res.address);
	tpl_set(r->vars, "name", res.display_name);
	set_choice(r, "kind", store_res_kind_name(res.kind));
	set_choice(r, "policy", store_res_policy_name(res.policy));
	tpl_setf(r->vars, "capacity", "%u", res.capacity);
	tpl_set(r->vars, "location", res.location);
	tpl_setf(r->vars, "window", "%u", res.window_days);
	tpl_set(r->vars, "bookers", b.data);
	tpl_set(r->vars, "delegate", res.delegate);
	tpl_set(r->vars, "enabled", res.enabled ? "1" : "");
	tpl_set(r->vars, "ldap", strcmp(res.source, "ldap") == 0 ? "1" : "");
	buf_free(&b);
	store_resource_free(&res);
	return wa_render(r, "resource");
}

static int get_resource(struct wa_req *r)
{
	return show_resource(r, wa_query(r, "a"));
}

static int post_resource(struct wa_req *r)
{
	const char *address = wa_form(r, "resource"), *error = NULL;
	if (!wa_valid_address(address))
		return wa_error(r, 404, "No such resource.");
	if (!wa_address_allowed(r, address))
		return wa_error(r, 403, "That resource is not yours to manage.");
	struct store_resource before;
	int ret = store_resource_get(r->st, address, &before, &error);
	if (ret == STORE_NOTFOUND)
		return wa_error(r, 404, "No such resource.");
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return show_resource(r, address);
	}
	if (strcmp(before.source, "local") != 0) {
		store_resource_free(&before);
		return wa_error(r, 403, "This resource comes from the LDAP directory: change it "
				"there.");
	}
	struct store_resource_fields f;
	form_fields(r, &f);
	f.enabled = strcmp(wa_form(r, "enabled"), "1") == 0 ? "true" : "false";
	if (f.delegate[0] != '\0' && strcmp(f.delegate, before.delegate) != 0 &&
	    !wa_address_allowed(r, f.delegate)) {
		store_resource_free(&before);
		return wa_error(r, 403, "The delegate must be in one of your domains.");
	}
	ret = store_resource_update(r->st, address, &f, &error);
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
	} else {
		delegate_sync(r, before.address, before.delegate, f.delegate);
		wa_audit(r, "resource-change", address, "capacity=%s policy=%s window=%s", f.capacity,
			 f.policy, f.window);
		wa_notice(r, "Resource %s saved.", address);
	}
	store_resource_free(&before);
	return show_resource(r, address);
}

const struct wa_route wa_routes_res[] = {
	{ "/resources", "GET", WA_DOMAIN_ADMIN, show_resources, "Resources" },
	{ "/resources", "POST", WA_DOMAIN_ADMIN, post_resources, NULL },
	{ "/resource", "GET", WA_DOMAIN_ADMIN, get_resource, NULL },
	{ "/resource", "POST", WA_DOMAIN_ADMIN, post_resource, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
