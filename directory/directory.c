/* The directory's common half: address checks, the domain test ("ours or
 * not"), resolution of an address through aliases and nested groups (each
 * recipient once, loop-safe, depth- and size-limited), the lookup cache,
 * authentication with per-user and per-IP throttling kept in PostgreSQL,
 * provisioning and sync. The backends only fetch entries. */
#include "autoconf.h"
#include "directory-private.h"
#include "netaddr.h"
#include "config.h"
#include "log.h"
#include "ldap-escape.h"
#include "store.h"
#include "store-directory.h"
#include "store-mail.h"
#include "store-dav.h"
#include "store-resource.h"
#include "worker.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DIR_ADDRESS_MAX 320
/* Purge stale failure counters once every this many failures. */
#define DIR_PURGE_EVERY 64

int dir_fail(struct dir_handle *h, int status, const char **error_r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(h->error, sizeof(h->error), fmt, ap);
	va_end(ap);
	*error_r = h->error;
	return status;
}

int dir_from_store(struct dir_handle *h, int store_ret, const char *store_error,
		   const char **error_r)
{
	switch (store_ret) {
	case STORE_OK:
		return DIR_OK;
	case STORE_NOTFOUND:
		return dir_fail(h, DIR_NOTFOUND, error_r, "%s", store_error);
	case STORE_TEMPFAIL:
	case STORE_CONFLICT:
		return dir_fail(h, DIR_TEMPFAIL, error_r, "%s", store_error);
	default:
		return dir_fail(h, DIR_ERROR, error_r, "%s", store_error);
	}
}

const char *dir_status_str(int status)
{
	switch (status) {
	case DIR_OK: return "ok";
	case DIR_NOTFOUND: return "not found";
	case DIR_NOTOURS: return "not ours";
	case DIR_TEMPFAIL: return "temporary failure";
	case DIR_ERROR: return "error";
	}
	return "unknown status";
}

void dir_entry_free(struct dir_entry *e)
{
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	free(e->key);
	free(e->address);
	memset(e, 0, sizeof(*e));
}

void dir_entry_add_ref(struct dir_entry *e, const char *ref)
{
	e->refs = xrealloc(e->refs, (e->nrefs + 1) * sizeof(*e->refs));
	e->refs[e->nrefs++] = xstrdup(ref);
}

void dir_route_free(struct dir_route *route)
{
	for (size_t i = 0; i < route->ntargets; i++)
		free(route->targets[i].address);
	free(route->targets);
	free(route->address);
	memset(route, 0, sizeof(*route));
}

void dir_user_free(struct dir_user *u)
{
	free(u->address);
	free(u->display_name);
	free(u->phone);
	free(u->department);
	free(u->title);
	memset(u, 0, sizeof(*u));
}

const char *dir_backend_name(const struct directory *dir)
{
	return dir->backend->name;
}

/* ---- a set of strings (loop detection, unique targets) ---- */

struct strset {
	char **slots;
	size_t cap, count;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Add s; returns false when it was already there. */
static bool strset_add(struct strset *set, const char *s)
{
	if (set->count * 2 >= set->cap) {
		struct strset bigger = { xcalloc(set->cap ? set->cap * 2 : 16, sizeof(char *)),
					 set->cap ? set->cap * 2 : 16, 0 };
		for (size_t i = 0; i < set->cap; i++) {
			if (set->slots[i] == NULL)
				continue;
			size_t j = str_hash(set->slots[i]) & (bigger.cap - 1);
			while (bigger.slots[j] != NULL)
				j = (j + 1) & (bigger.cap - 1);
			bigger.slots[j] = set->slots[i];
			bigger.count++;
		}
		free(set->slots);
		*set = bigger;
	}
	size_t j = str_hash(s) & (set->cap - 1);
	for (; set->slots[j] != NULL; j = (j + 1) & (set->cap - 1)) {
		if (strcmp(set->slots[j], s) == 0)
			return false;
	}
	set->slots[j] = xstrdup(s);
	set->count++;
	return true;
}

static void strset_free(struct strset *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
	memset(set, 0, sizeof(*set));
}

/* ---- address checks ---- */

/* Copy address lower-cased into out (DIR_ADDRESS_MAX + 1 bytes). Anything
 * that cannot be an address (no '@', empty parts, control bytes, too long)
 * is refused; what a backend may not see (filter metacharacters) is its own
 * business: dir-ldap.c escapes, dir-sql.c checks the full syntax. */
static bool address_normalise(const char *in, char *out)
{
	size_t len = strlen(in);
	const char *at = strrchr(in, '@');
	if (len == 0 || len > DIR_ADDRESS_MAX || at == NULL || at == in || at[1] == '\0')
		return false;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (i < len && (c < 0x21 || c == 0x7f))
			return false;
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
	}
	return true;
}

/* DIR_OK when the domain of address (checked) is ours, else DIR_NOTOURS. */
static int domain_ours(struct dir_handle *h, const char *address, const char **error_r)
{
	const char *error;
	if (h->store == NULL)
		return dir_fail(h, DIR_ERROR, error_r, "directory handle has no store");
	int ret = store_dir_domain_exists(h->store, strrchr(address, '@') + 1, &error);
	if (ret == STORE_NOTFOUND)
		return dir_fail(h, DIR_NOTOURS, error_r, "domain %s is not ours",
				strrchr(address, '@') + 1);
	return dir_from_store(h, ret, error, error_r);
}

/* ---- the lookup cache ---- */

struct cache_item {
	struct cache_item *next;
	char *address;
	int status;
	struct dir_route route;
	uint64_t expires_ms;
};

struct dir_cache {
	pthread_mutex_t lock;
	struct cache_item **buckets;
	size_t nbuckets, count, max;
	uint64_t ttl_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void route_copy(struct dir_route *dst, const struct dir_route *src)
{
	dst->kind = src->kind;
	dst->address = src->address ? xstrdup(src->address) : NULL;
	dst->ntargets = src->ntargets;
	dst->targets = src->ntargets ? xcalloc(src->ntargets, sizeof(*dst->targets)) : NULL;
	for (size_t i = 0; i < src->ntargets; i++) {
		dst->targets[i].address = xstrdup(src->targets[i].address);
		dst->targets[i].local = src->targets[i].local;
	}
}

static struct dir_cache *cache_create(uint64_t ttl_ms, uint64_t max)
{
	struct dir_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->nbuckets = 64;
	while (c->nbuckets < max && c->nbuckets < (1u << 20))
		c->nbuckets *= 2;
	c->buckets = xcalloc(c->nbuckets, sizeof(*c->buckets));
	c->max = max;
	c->ttl_ms = ttl_ms;
	return c;
}

static void cache_item_free(struct cache_item *it)
{
	dir_route_free(&it->route);
	free(it->address);
	free(it);
}

/* Drop expired items, or every item when all is set. Lock held. */
static void cache_sweep(struct dir_cache *c, bool all)
{
	uint64_t now = now_ms();
	for (size_t b = 0; b < c->nbuckets; b++) {
		struct cache_item **p = &c->buckets[b];
		while (*p != NULL) {
			struct cache_item *it = *p;
			if (all || it->expires_ms <= now) {
				*p = it->next;
				cache_item_free(it);
				c->count--;
			} else {
				p = &it->next;
			}
		}
	}
}

static void cache_destroy(struct dir_cache **_c)
{
	struct dir_cache *c = *_c;
	if (c == NULL)
		return;
	*_c = NULL;
	cache_sweep(c, true);
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* True and a copy in *route_r (when DIR_OK) if address is cached and fresh. */
static bool cache_get(struct dir_cache *c, const char *address, int *status_r,
		      struct dir_route *route_r)
{
	bool hit = false;
	if (c == NULL)
		return false;
	pthread_mutex_lock(&c->lock);
	uint64_t now = now_ms();
	for (struct cache_item *it = c->buckets[str_hash(address) & (c->nbuckets - 1)];
	     it != NULL; it = it->next) {
		if (strcmp(it->address, address) != 0 || it->expires_ms <= now)
			continue;
		*status_r = it->status;
		if (it->status == DIR_OK)
			route_copy(route_r, &it->route);
		hit = true;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

/* Remember a definite answer (never a failure). */
static void cache_put(struct dir_cache *c, const char *address, int status,
		      const struct dir_route *route)
{
	if (c == NULL || (status != DIR_OK && status != DIR_NOTFOUND && status != DIR_NOTOURS))
		return;
	struct cache_item *it = xcalloc(1, sizeof(*it));
	it->address = xstrdup(address);
	it->status = status;
	if (status == DIR_OK)
		route_copy(&it->route, route);
	pthread_mutex_lock(&c->lock);
	if (c->count >= c->max)
		cache_sweep(c, false);
	if (c->count >= c->max)
		cache_sweep(c, true);
	it->expires_ms = now_ms() + c->ttl_ms;
	size_t b = str_hash(address) & (c->nbuckets - 1);
	it->next = c->buckets[b];
	c->buckets[b] = it;
	c->count++;
	pthread_mutex_unlock(&c->lock);
}

/* ---- creation, handles, worker hook ---- */

/* An LDAP attribute description from the config: letters, digits, '-', ';'. */
static bool attr_name_ok(const char *s)
{
	if (s[0] == '\0' || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == ';'))
			return false;
	}
	return true;
}

struct directory *dir_create(const struct config *cfg, const char **error_r)
{
	static __thread char errbuf[256];
	const struct config_option *opt;
	const char *why;

	if (cfg->directory.backend == CONFIG_DIR_LDAP) {
		const char *filters[] = { cfg->directory.user_filter, cfg->directory.user_list_filter,
					  cfg->directory.group_filter };
		const char *names[] = { "user_filter", "user_list_filter", "group_filter" };
		for (size_t i = 0; i < ARRAY_SIZE(filters); i++) {
			struct buf b;
			buf_init(&b, 4096);
			int ret = ldap_filter_format(filters[i], "x", 1, &b, &why);
			if (ret == 0)
				ret = ldap_filter_check(b.data, b.len, &why);
			buf_free(&b);
			if (ret < 0) {
				snprintf(errbuf, sizeof(errbuf), "[directory] %s: %s", names[i], why);
				*error_r = errbuf;
				return NULL;
			}
		}
		for (opt = config_options; opt->name != NULL; opt++) {
			if (strcmp(opt->section, "directory") != 0 || strncmp(opt->name, "attr_", 5) != 0)
				continue;
			const char *value = *(char *const *)((const char *)cfg + opt->offset);
			if (!attr_name_ok(value)) {
				snprintf(errbuf, sizeof(errbuf),
					 "[directory] %s: '%.64s' is not an LDAP attribute name", opt->name,
					 value);
				*error_r = errbuf;
				return NULL;
			}
		}
	}
	if (cfg->directory.backend == CONFIG_DIR_LDAP)
		dir_ldap_library_init();
	struct directory *dir = xcalloc(1, sizeof(*dir));
	dir->cfg = cfg;
	dir->backend = cfg->directory.backend == CONFIG_DIR_LDAP ? &dir_backend_ldap : &dir_backend_sql;
	char *uris = xstrdup(cfg->directory.uri);
	char *save = NULL;
	for (char *u = strtok_r(uris, " \t,", &save); u != NULL; u = strtok_r(NULL, " \t,", &save)) {
		dir->uris = xrealloc(dir->uris, (dir->nuris + 1) * sizeof(*dir->uris));
		dir->uris[dir->nuris++] = xstrdup(u);
	}
	free(uris);
	if (cfg->directory.backend == CONFIG_DIR_LDAP && dir->nuris == 0) {
		dir_destroy(&dir);
		*error_r = "[directory] backend = ldap requires uri";
		return NULL;
	}
	/* "uri = ldap://a ldap://b  # comment" would make '#', 'comment', ...
	 * URIs of their own: only ';' starts a comment after a value. */
	for (size_t i = 0; cfg->directory.backend == CONFIG_DIR_LDAP && i < dir->nuris; i++) {
		const char *u = dir->uris[i];
		if (str_ncasecmp(u, "ldap://", 7) != 0 && str_ncasecmp(u, "ldaps://", 8) != 0 &&
		    str_ncasecmp(u, "ldapi://", 8) != 0) {
			snprintf(errbuf, sizeof(errbuf),
				 "[directory] uri: '%.64s' is not an ldap://, ldaps:// or ldapi:// URI%s",
				 u, u[0] == '#' ? " (only ';' starts a comment after a value)" : "");
			dir_destroy(&dir);
			*error_r = errbuf;
			return NULL;
		}
	}
	if (cfg->directory.cache_ttl_ms > 0)
		dir->cache = cache_create(cfg->directory.cache_ttl_ms, cfg->directory.cache_size);
	return dir;
}

void dir_destroy(struct directory **_dir)
{
	struct directory *dir = *_dir;
	if (dir == NULL)
		return;
	*_dir = NULL;
	for (size_t i = 0; i < dir->nuris; i++)
		free(dir->uris[i]);
	free(dir->uris);
	cache_destroy(&dir->cache);
	free(dir);
}

struct dir_handle *dir_handle_create(struct directory *dir, struct store *st)
{
	struct dir_handle *h = xcalloc(1, sizeof(*h));
	h->dir = dir;
	h->store = st;
	if (dir->backend->handle_init != NULL)
		h->backend_state = dir->backend->handle_init(h);
	return h;
}

void dir_handle_destroy(struct dir_handle **_h)
{
	struct dir_handle *h = *_h;
	if (h == NULL)
		return;
	*_h = NULL;
	if (h->dir->backend->handle_deinit != NULL)
		h->dir->backend->handle_deinit(h->backend_state);
	free(h);
}

void dir_handle_set_store(struct dir_handle *h, struct store *st)
{
	h->store = st;
}

/* The worker hook has no context argument: one directory per process. */
static struct directory *worker_dir;
static int worker_slot = -1;

static void *dir_worker_init(struct worker *worker)
{
	return dir_handle_create(worker_dir, NULL);
}

static void dir_worker_deinit(void *state)
{
	struct dir_handle *h = state;
	dir_handle_destroy(&h);
}

int dir_worker_register(struct directory *dir)
{
	worker_dir = dir;
	worker_slot = worker_hook_add(dir_worker_init, dir_worker_deinit);
	return worker_slot < 0 ? -1 : 0;
}

struct dir_handle *dir_worker_handle(struct worker *worker, struct store *st)
{
	if (worker_slot < 0)
		panic("directory: dir_worker_handle before dir_worker_register");
	struct dir_handle *h = worker->slots[worker_slot];
	h->store = st;
	return h;
}

/* ---- resolution ---- */

struct expansion {
	struct dir_handle *h;
	struct strset seen;	/* entry keys and bare addresses visited */
	struct strset targets;	/* target addresses added */
	struct dir_route *route;
	unsigned max_depth;
	size_t max_targets;
};

static int add_target(struct expansion *x, const char *address, bool local,
		      const char **error_r)
{
	if (!strset_add(&x->targets, address))
		return DIR_OK;
	if (x->route->ntargets >= x->max_targets)
		return dir_fail(x->h, DIR_TEMPFAIL, error_r,
				"%s expands to more than %zu recipients ([directory] max_expansion)",
				x->route->address, x->max_targets);
	struct dir_route *r = x->route;
	r->targets = xrealloc(r->targets, (r->ntargets + 1) * sizeof(*r->targets));
	r->targets[r->ntargets].address = xstrdup(address);
	r->targets[r->ntargets].local = local;
	r->ntargets++;
	return DIR_OK;
}

static int expand_entry(struct expansion *x, const struct dir_entry *e, unsigned depth,
			const char **error_r);

/* One group member or alias target. */
static int expand_ref(struct expansion *x, const struct dir_entry *parent, const char *ref,
		      unsigned depth, const char **error_r)
{
	struct dir_handle *h = x->h;
	struct dir_entry sub;
	char addr[DIR_ADDRESS_MAX + 1];
	memset(&sub, 0, sizeof(sub));
	if (!parent->refs_are_dns) {
		if (!address_normalise(ref, addr)) {
			log_warn("directory: entry=%s skipping bad member address", parent->key);
			return DIR_OK;
		}
		ref = addr;
	}
	int ret = h->dir->backend->lookup_ref(h, ref, &sub, error_r);
	if (ret == DIR_NOTFOUND && !parent->refs_are_dns) {
		/* An address nobody here owns: remote if its domain is not ours. */
		ret = domain_ours(h, ref, error_r);
		if (ret == DIR_NOTOURS)
			return add_target(x, ref, false, error_r);
		if (ret == DIR_OK)
			log_warn("directory: entry=%s member=%s status=unknown-local-address",
				 parent->key, ref);
		return ret == DIR_OK ? DIR_OK : ret;
	}
	if (ret == DIR_NOTFOUND) {
		log_warn("directory: entry=%s member=%s status=member-not-found", parent->key, ref);
		return DIR_OK;
	}
	if (ret != DIR_OK)
		return ret;
	ret = expand_entry(x, &sub, depth + 1, error_r);
	dir_entry_free(&sub);
	return ret;
}

static int expand_entry(struct expansion *x, const struct dir_entry *e, unsigned depth,
			const char **error_r)
{
	/* Each entry once: this is what breaks loops and duplicates. */
	if (!strset_add(&x->seen, e->key))
		return DIR_OK;
	if (e->kind == DIR_ENTRY_USER) {
		if (!e->enabled || e->address == NULL)
			return DIR_OK;
		return add_target(x, e->address, true, error_r);
	}
	if (depth >= x->max_depth) {
		log_warn("directory: entry=%s depth=%u status=too-deep ([directory] max_group_depth)",
			 e->key, depth);
		return DIR_OK;
	}
	for (size_t i = 0; i < e->nrefs; i++) {
		int ret = expand_ref(x, e, e->refs[i], depth, error_r);
		if (ret != DIR_OK)
			return ret;
	}
	return DIR_OK;
}

static int expand(struct dir_handle *h, const struct dir_entry *e, struct dir_route *route,
		  const char **error_r)
{
	struct expansion x = { .h = h, .route = route,
			       .max_depth = (unsigned)h->dir->cfg->directory.max_group_depth,
			       .max_targets = (size_t)h->dir->cfg->directory.max_expansion };
	int ret = expand_entry(&x, e, 0, error_r);
	strset_free(&x.seen);
	strset_free(&x.targets);
	return ret;
}

/* Look up address (checked) and fill route; no cache, no domain check. */
static int resolve_entry(struct dir_handle *h, const char *address, bool groups_only,
			 struct dir_route *route, const char **error_r)
{
	struct dir_entry e;
	memset(&e, 0, sizeof(e));
	memset(route, 0, sizeof(*route));
	const struct dir_backend *be = h->dir->backend;
	bool catchall = false;
	int ret = be->lookup(h, address, &e, error_r);
	if (ret == DIR_NOTFOUND && !groups_only) {
		/* The domain's catch-all, written "@domain". */
		ret = be->lookup(h, strrchr(address, '@'), &e, error_r);
		catchall = ret == DIR_OK;
		if (ret == DIR_NOTFOUND)
			ret = dir_fail(h, DIR_NOTFOUND, error_r, "no such address %s", address);
	}
	if (ret != DIR_OK)
		return ret;
	if (e.kind == DIR_ENTRY_USER && (groups_only || !e.enabled)) {
		ret = dir_fail(h, DIR_NOTFOUND, error_r, "%s is %s", address,
			       groups_only ? "a user, not a group or alias" : "disabled");
		dir_entry_free(&e);
		return ret;
	}
	route->kind = catchall ? DIR_KIND_CATCHALL :
		      e.kind == DIR_ENTRY_GROUP ? DIR_KIND_GROUP :
		      e.kind == DIR_ENTRY_ALIAS ? DIR_KIND_ALIAS :
		      e.address != NULL && strcmp(e.address, address) == 0 ? DIR_KIND_USER :
		      DIR_KIND_ALIAS;
	route->address = xstrdup(address);
	ret = expand(h, &e, route, error_r);
	dir_entry_free(&e);
	if (ret != DIR_OK)
		dir_route_free(route);
	return ret;
}

int dir_resolve(struct dir_handle *h, const char *address, struct dir_route *route_r,
		const char **error_r)
{
	char addr[DIR_ADDRESS_MAX + 1];
	int ret;
	memset(route_r, 0, sizeof(*route_r));
	if (!address_normalise(address, addr))
		return dir_fail(h, DIR_NOTFOUND, error_r, "not a valid address");
	if (cache_get(h->dir->cache, addr, &ret, route_r)) {
		if (ret != DIR_OK)
			return dir_fail(h, ret, error_r, "%s: %s (cached)", addr, dir_status_str(ret));
		return DIR_OK;
	}
	ret = domain_ours(h, addr, error_r);
	if (ret == DIR_OK)
		ret = resolve_entry(h, addr, false, route_r, error_r);
	cache_put(h->dir->cache, addr, ret, route_r);
	if (ret == DIR_TEMPFAIL || ret == DIR_ERROR)
		log_warn("directory: resolve address=%s status=%s: %s", addr, dir_status_str(ret),
			 *error_r);
	return ret;
}

int dir_expand(struct dir_handle *h, const char *address, struct dir_route *route_r,
	       const char **error_r)
{
	char addr[DIR_ADDRESS_MAX + 1];
	memset(route_r, 0, sizeof(*route_r));
	if (!address_normalise(address, addr))
		return dir_fail(h, DIR_NOTFOUND, error_r, "not a valid address");
	int ret = domain_ours(h, addr, error_r);
	if (ret == DIR_OK)
		ret = resolve_entry(h, addr, true, route_r, error_r);
	return ret;
}

/* ---- authentication ---- */

/* Delay after the n-th failure: auth_delay doubled per failure, capped. */
static uint64_t auth_delay(const struct config *cfg, unsigned failures)
{
	uint64_t d = cfg->directory.auth_delay_ms;
	for (unsigned i = 1; i < failures && d < cfg->directory.auth_max_delay_ms; i++)
		d *= 2;
	return d < cfg->directory.auth_max_delay_ms ? d : cfg->directory.auth_max_delay_ms;
}

/* Login throttling, Dovecot auth-penalty style: failures are counted per
 * (account, client network) and per client network, never per account alone,
 * so nobody can lock an account out for everyone by failing on purpose. */
struct auth_gate {
	struct dir_handle *h;
	const char *net;	/* net_key() of the client, or "local" */
	char key[DIR_ADDRESS_MAX + NET_KEY_MAX + 2];	/* "account net" */
	char account[DIR_ADDRESS_MAX + 1];
	uint64_t retry_ms;
	const char *serror;	/* store failure */
};

static void gate_set_account(struct auth_gate *g, const char *account)
{
	snprintf(g->account, sizeof(g->account), "%s", account);
	snprintf(g->key, sizeof(g->key), "%s %s", g->account, g->net);
}

/* dir_auth_gate_fn: is the resolved account locked for this network? */
static int auth_gate(void *ctx, const char *account)
{
	struct auth_gate *g = ctx;
	const char *kind;
	gate_set_account(g, account);
	int ret = store_dir_auth_locked(g->h->store, g->key, "", &g->retry_ms, &kind, &g->serror);
	if (ret != STORE_OK)
		return DIR_TEMPFAIL;
	return g->retry_ms > 0 ? DIR_GATED : DIR_OK;
}

int dir_authenticate(struct dir_handle *h, const char *user, const char *password,
		     const char *client_ip, struct dir_auth *result_r, const char **error_r)
{
	const struct config *cfg = h->dir->cfg;
	char addr[DIR_ADDRESS_MAX + 1], net[NET_KEY_MAX];
	const char *serror, *locked_kind, *ip = client_ip != NULL ? client_ip : "";
	uint64_t retry_ms;
	memset(result_r, 0, sizeof(*result_r));
	if (h->store == NULL)
		return dir_fail(h, -1, error_r, "directory handle has no store");
	/* The gateways pass a numeric address; anything else would end up in
	 * the log and the counters verbatim. */
	if (strlen(ip) > 64 || strspn(ip, "0123456789abcdefABCDEF:.%") != strlen(ip))
		return dir_fail(h, -1, error_r, "client IP address is not numeric");
	/* The client's network ([server] ipv4_prefix/ipv6_prefix): an IPv6
	 * client owns a /64, a fresh address per attempt must not help. */
	if (ip[0] == '\0')
		snprintf(net, sizeof(net), "local");
	else
		(void)net_key(ip, (unsigned)cfg->server.ipv4_prefix, (unsigned)cfg->server.ipv6_prefix,
			      net, sizeof(net));
	/* Until the backend resolves it, the account is what the client typed
	 * (lower-cased), so garbage login names are counted and throttled too. */
	bool valid = address_normalise(user, addr);
	if (!valid) {
		size_t n = strnlen(user, DIR_ADDRESS_MAX);
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)user[i];
			addr[i] = (c < 0x20 || c == 0x7f || c == ' ') ? '?' :
				  (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
		}
		addr[n] = '\0';
		if (n == 0)
			strcpy(addr, "?");
	}
	struct auth_gate g = { .h = h, .net = net };
	gate_set_account(&g, addr);

	/* The network first: a locked network costs no directory lookup. */
	int ret = store_dir_auth_locked(h->store, "", net, &retry_ms, &locked_kind, &serror);
	char *primary = NULL;
	const char *verror = "bad credentials";
	h->auth_check = "none";
	if (ret != STORE_OK) {
		ret = DIR_TEMPFAIL;
		verror = serror;
	} else if (retry_ms > 0) {
		ret = DIR_GATED;
		g.retry_ms = retry_ms;
		locked_kind = "net";
	} else if (valid && password != NULL && password[0] != '\0') {
		locked_kind = "account";
		ret = h->dir->backend->verify(h, addr, password, auth_gate, &g, &primary, &verror);
		if (ret == DIR_TEMPFAIL && g.serror != NULL)
			verror = g.serror;
	} else {
		locked_kind = "account";
		ret = auth_gate(&g, addr);
		if (ret == DIR_OK)
			ret = DIR_NOTFOUND;
		else if (ret == DIR_TEMPFAIL)
			verror = g.serror;
	}
	if (ret == DIR_GATED) {
		free(primary);
		log_warn("directory: auth user=%s account=%s ip=%s net=%s status=locked locked=%s "
			 "retry_after_ms=%llu", addr, g.account, ip, net, locked_kind,
			 (unsigned long long)g.retry_ms);
		result_r->status = DIR_AUTH_LOCKED;
		result_r->retry_after_ms = g.retry_ms;
		dir_fail(h, 0, error_r, "too many failed logins; locked for %llu more seconds",
			 (unsigned long long)((g.retry_ms + 999) / 1000));
		return 0;
	}
	if (ret == DIR_OK) {
		snprintf(result_r->address, sizeof(result_r->address), "%s", primary);
		free(primary);
		result_r->status = DIR_AUTH_OK;
		if (store_dir_auth_reset(h->store, "account", g.key, &serror) != STORE_OK)
			log_warn("directory: auth user=%s: cannot reset failures: %s", addr, serror);
		log_info("directory: auth user=%s account=%s ip=%s status=ok", addr,
			 result_r->address, ip);
		return 0;
	}
	free(primary);
	if (ret != DIR_NOTFOUND) {
		log_warn("directory: auth user=%s ip=%s status=tempfail: %s", addr, ip, verror);
		result_r->status = DIR_AUTH_TEMPFAIL;
		dir_fail(h, 0, error_r, "%s", verror);
		return 0;
	}

	/* Bad credentials: count them for (account, network) and the network. */
	unsigned failures = 0, net_failures = 0;
	uint64_t locked_ms = 0, net_locked_ms = 0;
	ret = store_dir_auth_failed(h->store, "account", g.key,
				    (unsigned)cfg->directory.auth_max_failures,
				    cfg->directory.auth_failure_window_ms, cfg->directory.auth_lockout_ms,
				    &failures, &locked_ms, &serror);
	if (ret == STORE_OK && ip[0] != '\0')
		ret = store_dir_auth_failed(h->store, "net", net,
					    (unsigned)cfg->directory.auth_max_failures_net,
					    cfg->directory.auth_failure_window_ms,
					    cfg->directory.auth_lockout_ms, &net_failures,
					    &net_locked_ms, &serror);
	if (ret != STORE_OK)
		log_warn("directory: auth user=%s ip=%s: cannot count the failure: %s", addr, ip,
			 serror);
	log_warn("directory: auth user=%s account=%s ip=%s net=%s status=failed check=%s "
		 "failures=%u net_failures=%u%s%s", addr, g.account, ip, net,
		 h->auth_check != NULL ? h->auth_check : "none", failures, net_failures,
		 locked_ms > 0 ? " locked=account" : "", net_locked_ms > 0 ? " locked=net" : "");
	if ((__atomic_add_fetch(&h->dir->auth_count, 1, __ATOMIC_RELAXED) % DIR_PURGE_EVERY) == 0 &&
	    store_dir_auth_purge(h->store, cfg->directory.auth_failure_window_ms, &serror) != STORE_OK)
		log_warn("directory: cannot purge old login failures: %s", serror);
	result_r->status = DIR_AUTH_FAIL;
	result_r->failures = failures;
	result_r->delay_ms = auth_delay(cfg, failures > net_failures ? failures : net_failures);
	dir_fail(h, 0, error_r, "bad credentials");
	return 0;
}

/* ---- users, address book ---- */

int dir_user_info(struct dir_handle *h, const char *address, struct dir_user *user_r,
		  const char **error_r)
{
	char addr[DIR_ADDRESS_MAX + 1];
	memset(user_r, 0, sizeof(*user_r));
	if (!address_normalise(address, addr))
		return dir_fail(h, DIR_NOTFOUND, error_r, "not a valid address");
	return h->dir->backend->user_info(h, addr, user_r, error_r);
}

int dir_search(struct dir_handle *h, const char *query, unsigned limit,
	       void (*cb)(const struct dir_user *user, void *ctx), void *ctx,
	       const char **error_r)
{
	if (query == NULL)
		query = "";
	for (const char *p = query; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return dir_fail(h, DIR_NOTFOUND, error_r, "query holds control characters");
	}
	if (strlen(query) > 256)
		return dir_fail(h, DIR_NOTFOUND, error_r, "query longer than 256 characters");
	return h->dir->backend->search(h, query, limit, cb, ctx, error_r);
}

/* ---- provisioning and sync ---- */

/* The account's default mailboxes (INBOX, Sent, ...), created where missing. */
static int provision_mailboxes(struct dir_handle *h, const char *address, const char **error_r)
{
	const char *serror;
	int ret = store_mailbox_provision_defaults(h->store, address, &serror);
	return dir_from_store(h, ret, ret == STORE_OK ? "" : serror, error_r);
}

static void fields_from_user(const struct dir_user *u, struct store_dir_account_fields *f,
			     char quota[24])
{
	memset(f, 0, sizeof(*f));
	snprintf(quota, 24, "%llu", (unsigned long long)u->quota_bytes);
	f->display_name = u->display_name;
	f->phone = u->phone;
	f->department = u->department;
	f->title = u->title;
	f->quota = quota;
	f->is_admin = u->is_admin ? "true" : "false";
}

int dir_provision(struct dir_handle *h, const char *address, const char **error_r)
{
	struct dir_user u;
	int ret = dir_user_info(h, address, &u, error_r);
	if (ret != DIR_OK)
		return ret;
	if (!u.enabled) {
		ret = dir_fail(h, DIR_NOTFOUND, error_r, "%s is disabled", u.address);
		dir_user_free(&u);
		return ret;
	}
	if (h->dir->backend->list_users != NULL) {
		struct store_dir_account_fields f;
		char quota[24];
		const char *serror;
		int created;
		fields_from_user(&u, &f, quota);
		int sret = store_dir_account_provision(h->store, u.address, &f, &created, &serror);
		if (sret == STORE_EXISTS) {
			/* A local account of that address: it is already provisioned. */
			sret = STORE_OK;
		}
		ret = dir_from_store(h, sret, sret == STORE_OK ? "" : serror, error_r);
		if (ret == DIR_OK && created != 0)
			log_info("directory: account=%s status=%s", u.address,
				 created == 1 ? "provisioned" : "enabled");
	}
	if (ret == DIR_OK)
		ret = provision_mailboxes(h, u.address, error_r);
	dir_user_free(&u);
	return ret;
}

struct sync_ctx {
	struct dir_handle *h;
	FILE *progress;
	struct dir_sync_stats *stats;
	struct strset seen;
	int status;
	const char *error;
	char **stale;		/* enabled ldap accounts missing from the directory */
	size_t nstale;
};

static void sync_user(const struct dir_user *u, char *const *alt, void *_ctx)
{
	struct sync_ctx *c = _ctx;
	struct store_dir_account_fields f;
	char quota[24];
	const char *serror;
	int created;

	if (c->status != DIR_OK)
		return;
	c->stats->users++;
	/* Domains of alternate addresses are ours too (catch-alls included). */
	for (size_t i = 0; alt != NULL && alt[i] != NULL; i++) {
		const char *at = strrchr(alt[i], '@');
		if (at != NULL && store_dir_domain_ensure(c->h->store, at + 1, &serror) != STORE_OK)
			fprintf(c->progress, "sync: %s: alternate address %s: %s\n", u->address, alt[i],
				serror);
	}
	/* A user disabled in the directory is not "seen": the account of it
	 * is disabled below like one that is gone. */
	if (!u->enabled) {
		c->stats->skipped++;
		return;
	}
	strset_add(&c->seen, u->address);
	fields_from_user(u, &f, quota);
	int ret = store_dir_account_provision(c->h->store, u->address, &f, &created, &serror);
	if (ret == STORE_TEMPFAIL) {
		c->status = dir_fail(c->h, DIR_TEMPFAIL, &c->error, "%s", serror);
		return;
	}
	if (ret == STORE_EXISTS) {
		c->stats->skipped++;
		fprintf(c->progress, "sync: %s: skipped: %s\n", u->address, serror);
		return;
	}
	if (ret != STORE_OK) {
		c->stats->errors++;
		fprintf(c->progress, "sync: %s: error: %s\n", u->address, serror);
		return;
	}
	const char *err2;
	if (created != 0 && provision_mailboxes(c->h, u->address, &err2) != DIR_OK)
		fprintf(c->progress, "sync: %s: mailboxes: %s\n", u->address, err2);
	if (created == 1) {
		c->stats->created++;
		fprintf(c->progress, "sync: %s: created\n", u->address);
	} else if (created == 2) {
		c->stats->enabled++;
		fprintf(c->progress, "sync: %s: enabled again\n", u->address);
	} else {
		c->stats->updated++;
	}
}

static void sync_account(const char *address, bool enabled, void *_ctx)
{
	struct sync_ctx *c = _ctx;
	if (!enabled || !strset_add(&c->seen, address))
		return;
	c->stale = xrealloc(c->stale, (c->nstale + 1) * sizeof(*c->stale));
	c->stale[c->nstale++] = xstrdup(address);
}

/* Append the address(es) a booker value names to out (comma-separated):
 * an address, or a DN; a group (by address or DN) gives its members. */
static void booker_resolve(struct dir_handle *h, const char *value, struct buf *out,
			   FILE *progress, const char *resource)
{
	const char *error;
	char *address = NULL;
	if (strchr(value, '@') != NULL && strchr(value, '=') == NULL) {
		address = xstrdup(value);
		for (char *p = address; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	} else {
		struct dir_entry e;
		int ret = h->dir->backend->lookup_ref(h, value, &e, &error);
		if (ret != DIR_OK) {
			fprintf(progress, "sync: %s: booker %s: %s\n", resource, value,
				ret == DIR_NOTFOUND ? "no such entry" : error);
			return;
		}
		if (e.address != NULL)
			address = xstrdup(e.address);
		else
			fprintf(progress, "sync: %s: booker %s has no address\n", resource, value);
		dir_entry_free(&e);
	}
	if (address == NULL)
		return;
	struct dir_route route;
	if (dir_expand(h, address, &route, &error) == DIR_OK) {
		for (size_t i = 0; i < route.ntargets; i++)
			buf_printf(out, "%s%s", out->len > 0 ? "," : "", route.targets[i].address);
		dir_route_free(&route);
	} else {
		buf_printf(out, "%s%s", out->len > 0 ? "," : "", address);
	}
	free(address);
}

static void sync_resource(const struct dir_resource *r, void *_ctx)
{
	struct sync_ctx *c = _ctx;
	const char *serror;
	int created;
	if (c->status != DIR_OK)
		return;
	c->stats->resources++;
	if (!r->enabled)
		return;	/* not seen: disabled below like one that is gone */
	strset_add(&c->seen, r->address);
	struct buf bookers;
	buf_init(&bookers, 0);
	buf_append(&bookers, "", 0);
	for (size_t i = 0; r->bookers[i] != NULL; i++)
		booker_resolve(c->h, r->bookers[i], &bookers, c->progress, r->address);
	char *delegate = NULL;
	if (r->delegate != NULL) {
		struct buf d;
		buf_init(&d, 0);
		buf_append(&d, "", 0);
		struct dir_entry e;
		if (strchr(r->delegate, '=') == NULL)
			buf_append_str(&d, r->delegate);
		else if (c->h->dir->backend->lookup_ref(c->h, r->delegate, &e, &serror) == DIR_OK) {
			if (e.address != NULL)
				buf_append_str(&d, e.address);
			dir_entry_free(&e);
		} else {
			fprintf(c->progress, "sync: %s: delegate %s: no such entry\n", r->address,
				r->delegate);
		}
		delegate = d.data;
	}
	struct store_resource_fields f = {
		.display_name = r->display_name != NULL ? r->display_name : "",
		.kind = r->kind, .capacity = r->capacity != NULL ? r->capacity : "0",
		.location = r->location != NULL ? r->location : "",
		.policy = r->policy != NULL ? r->policy : "auto",
		.window = r->window != NULL ? r->window : "0",
		.bookers = r->bookers[0] == NULL ? "everyone" : bookers.data,
		.delegate = delegate != NULL ? delegate : "",
	};
	struct store_resource old;
	bool had = store_resource_get(c->h->store, r->address, &old, &serror) == STORE_OK;
	int ret = store_resource_provision(c->h->store, r->address, &f, &created, &serror);
	if (ret == STORE_TEMPFAIL) {
		c->status = dir_fail(c->h, DIR_TEMPFAIL, &c->error, "%s", serror);
	} else if (ret == STORE_EXISTS) {
		fprintf(c->progress, "sync: %s: skipped: %s\n", r->address, serror);
	} else if (ret != STORE_OK) {
		c->stats->res_errors++;
		fprintf(c->progress, "sync: %s: error: %s\n", r->address, serror);
	} else {
		if (created == 1) {
			c->stats->res_created++;
			fprintf(c->progress, "sync: %s: resource created\n", r->address);
		} else if (created == 2) {
			fprintf(c->progress, "sync: %s: resource enabled again\n", r->address);
		}
		/* the delegate approves in the resource's calendars */
		const char *old_delegate = had ? old.delegate : "";
		if (old_delegate[0] != '\0' && strcmp(old_delegate, f.delegate) != 0)
			(void)store_dav_proxy_set(c->h->store, r->address, old_delegate,
						  STORE_DAV_PROXY_NONE, &serror);
		if (f.delegate[0] != '\0' &&
		    store_dav_proxy_set(c->h->store, r->address, f.delegate, STORE_DAV_PROXY_WRITE,
					&serror) != STORE_OK)
			fprintf(c->progress, "sync: %s: delegate %s: %s\n", r->address, f.delegate,
				serror);
	}
	if (had)
		store_resource_free(&old);
	free(delegate);
	buf_free(&bookers);
}

int dir_sync(struct dir_handle *h, FILE *progress, struct dir_sync_stats *stats,
	     const char **error_r)
{
	struct sync_ctx c = { .h = h, .progress = progress, .stats = stats, .status = DIR_OK };
	const char *serror;
	memset(stats, 0, sizeof(*stats));
	if (h->dir->backend->list_users == NULL)
		return dir_fail(h, DIR_ERROR, error_r,
				"nothing to sync: the %s backend keeps its accounts itself",
				h->dir->backend->name);
	int ret = h->dir->backend->list_users(h, sync_user, &c, error_r);
	if (ret == DIR_OK && c.status == DIR_OK && h->dir->backend->list_resources != NULL)
		ret = h->dir->backend->list_resources(h, sync_resource, &c, error_r);
	if (ret == DIR_OK && c.status != DIR_OK) {
		ret = c.status;
		*error_r = c.error;
	}
	if (ret == DIR_OK) {
		int sret = store_dir_account_list_source(h->store, "ldap", sync_account, &c, &serror);
		ret = dir_from_store(h, sret, sret == STORE_OK ? "" : serror, error_r);
	}
	/* A directory that suddenly lists nobody is far more likely broken
	 * (wrong base_dn, filter, ACL) than empty: keep everyone enabled. */
	if (ret == DIR_OK && stats->users == 0 && c.nstale > 0)
		ret = dir_fail(h, DIR_ERROR, error_r,
			       "the directory lists no users; refusing to disable %zu accounts",
			       c.nstale);
	for (size_t i = 0; i < c.nstale; i++) {
		if (ret == DIR_OK) {
			int sret = store_dir_account_disable(h->store, c.stale[i], &serror);
			if (sret == STORE_OK) {
				stats->disabled++;
				fprintf(progress, "sync: %s: disabled (gone from the directory)\n",
					c.stale[i]);
			} else if (sret != STORE_NOTFOUND) {
				ret = dir_from_store(h, sret, serror, error_r);
			}
		}
		free(c.stale[i]);
	}
	free(c.stale);
	strset_free(&c.seen);
	return ret;
}

bool dir_auth_was_app_password(const struct dir_handle *h)
{
	return h->auth_check != NULL && strcmp(h->auth_check, "app-password") == 0;
}
