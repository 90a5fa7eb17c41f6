/* The global address list: the directory's users, groups and resources as
 * one read-only address book (see the carddav_gal_kind in carddav.c), and
 * the searchable summary every address object keeps. carddav_gal_sync()
 * reads the directory outside any transaction (LDAP through dir_ldap_list
 * with the [directory] gal_* mapping, or the sql directory's accounts and
 * groups), builds each entry's vCard with proto/vcard_gal, then rewrites
 * the shared collection in one transaction: unchanged entries keep their
 * ETag, so a client's sync after `cairnctl directory sync` fetches only
 * what changed. No libxml2 here, so cairnctl links it alone. */
#include "autoconf.h"
#include "carddav.h"
#include "config.h"
#include "directory.h"
#include "store-resource.h"
#include "vcard_gal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUMMARY_MAX (16 * 1024)

static const char *const searchable[] = {
	"FN", "N", "NICKNAME", "EMAIL", "TEL", "ORG", "TITLE", "UID", NULL,
};

bool carddav_searchable(const char *name)
{
	for (size_t i = 0; searchable[i] != NULL; i++)
		if (str_casecmp(searchable[i], name) == 0)
			return true;
	return false;
}

char *carddav_summary(const struct vcard *c)
{
	struct buf b;
	buf_init(&b, SUMMARY_MAX);
	buf_append(&b, "", 0);
	for (size_t i = 0; i < c->nprops; i++) {
		if (!carddav_searchable(c->props[i].name))
			continue;
		char *u = vcard_text_unescape(c->props[i].value);
		char *f = vcard_collate(VCARD_COLL_UNICODE_CASEMAP, u);
		int ret = buf_append_str(&b, f);
		ret |= buf_append(&b, "\n", 1);
		free(f);
		free(u);
		if (ret != 0) {
			buf_free(&b);
			return NULL;
		}
	}
	return b.data;
}

void carddav_limits(const struct config *cfg, struct vcard_limits *lim)
{
	vcard_limits_default(lim);
	lim->max_size = (size_t)cfg->http.dav_max_resource_size;
	if (lim->max_line_len > lim->max_size)
		lim->max_line_len = lim->max_size;
	lim->max_cards = 1;
}

/* ---- one directory entry, copied out of the backend's callback ---- */

struct gal_value {
	char *data;
	size_t len;
};

struct gal_attr {
	char *name;
	struct gal_value *values;
	size_t nvalues;
};

struct gal_entry {
	char *key;		/* DN key (ldap) or address (sql) */
	char *uid;
	enum vcard_gal_kind kind;
	struct gal_attr *attrs;
	size_t nattrs;
	char **refs;		/* member DN keys (ldap) or addresses (sql) */
	size_t nrefs;
};

struct gal_list {
	struct gal_entry *v;
	size_t n;
	size_t *slots;		/* open addressing over v by key: index + 1, 0 free */
	size_t nslots;
	const struct config *cfg;
	enum vcard_gal_kind kind;	/* of the entries being listed */
	unsigned skipped;
	FILE *progress;
};

static void entry_free(struct gal_entry *e)
{
	free(e->key);
	free(e->uid);
	for (size_t i = 0; i < e->nattrs; i++) {
		for (size_t k = 0; k < e->attrs[i].nvalues; k++)
			free(e->attrs[i].values[k].data);
		free(e->attrs[i].values);
		free(e->attrs[i].name);
	}
	free(e->attrs);
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
}

static void entry_add_value(struct gal_entry *e, const char *name, const char *data, size_t len)
{
	struct gal_attr *a = NULL;
	for (size_t i = 0; i < e->nattrs; i++)
		if (str_casecmp(e->attrs[i].name, name) == 0)
			a = &e->attrs[i];
	if (a == NULL) {
		e->attrs = xrealloc(e->attrs, (e->nattrs + 1) * sizeof(*e->attrs));
		a = &e->attrs[e->nattrs++];
		memset(a, 0, sizeof(*a));
		a->name = xstrdup(name);
	}
	a->values = xrealloc(a->values, (a->nvalues + 1) * sizeof(*a->values));
	a->values[a->nvalues].data = xmalloc(len + 1);
	memcpy(a->values[a->nvalues].data, data, len);
	a->values[a->nvalues].data[len] = '\0';
	a->values[a->nvalues].len = len;
	a->nvalues++;
}

static void entry_add_ref(struct gal_entry *e, const char *ref)
{
	e->refs = xrealloc(e->refs, (e->nrefs + 1) * sizeof(char *));
	e->refs[e->nrefs++] = xstrdup(ref);
}

static uint64_t key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void slots_insert(struct gal_list *l, size_t idx)
{
	size_t mask = l->nslots - 1;
	for (size_t i = key_hash(l->v[idx].key) & mask;; i = (i + 1) & mask) {
		if (l->slots[i] == 0) {
			l->slots[i] = idx + 1;
			return;
		}
	}
}

/* A new entry whose key the caller sets, then indexes with list_index. */
static struct gal_entry *list_push(struct gal_list *l)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct gal_entry *e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

static void list_index(struct gal_list *l)
{
	if (2 * l->n > l->nslots) {
		free(l->slots);
		l->nslots = l->nslots == 0 ? 64 : l->nslots * 4;
		l->slots = xcalloc(l->nslots, sizeof(size_t));
		for (size_t i = 0; i < l->n; i++)
			slots_insert(l, i);
		return;
	}
	slots_insert(l, l->n - 1);
}

static void list_free(struct gal_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	free(l->slots);
	l->v = NULL;
	l->slots = NULL;
	l->n = l->nslots = 0;
}

static const struct gal_entry *list_find(const struct gal_list *l, const char *key)
{
	if (l->nslots == 0)
		return NULL;
	size_t mask = l->nslots - 1;
	for (size_t i = key_hash(key) & mask; l->slots[i] != 0; i = (i + 1) & mask)
		if (strcmp(l->v[l->slots[i] - 1].key, key) == 0)
			return &l->v[l->slots[i] - 1];
	return NULL;
}

/* ---- LDAP ---- */

static const struct vcard_gal_attr *raw_attr(const struct vcard_gal_attr *attrs, size_t n,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (str_casecmp(attrs[i].name, name) == 0)
			return &attrs[i];
	return NULL;
}

static bool has_value(const struct vcard_gal_attr *a, const char *v)
{
	for (size_t i = 0; a != NULL && i < a->nvalues; i++)
		if (a->values[i].len == strlen(v) && str_ncasecmp(a->values[i].data, v, a->values[i].len) == 0)
			return true;
	return false;
}

static void ldap_entry_cb(const char *dn_key, const struct vcard_gal_attr *attrs, size_t nattrs,
			  void *vctx)
{
	struct gal_list *l = vctx;
	const struct config *cfg = l->cfg;
	if (list_find(l, dn_key) != NULL)
		return;	/* matched by an earlier filter too: listed once */
	const struct vcard_gal_attr *en = raw_attr(attrs, nattrs, cfg->directory.attr_enabled);
	if (has_value(en, "FALSE"))
		return;
	const struct vcard_gal_attr *uuid = raw_attr(attrs, nattrs, "entryUUID");
	struct gal_entry *e = list_push(l);
	e->key = xstrdup(dn_key);
	list_index(l);
	if (uuid != NULL && uuid->nvalues > 0 && uuid->values[0].len > 0 &&
	    uuid->values[0].len < 100) {
		e->uid = xstrndup(uuid->values[0].data, uuid->values[0].len);
	} else {
		/* no entryUUID: a stable name from the DN */
		char *name = vcard_gal_object_name(dn_key);
		name[strlen(name) - 4] = '\0';
		e->uid = xasprintf("dn-%s", name);
		free(name);
	}
	e->kind = l->kind;
	if (l->kind == VCARD_GAL_DEVICE) {
		const struct vcard_gal_attr *rk = raw_attr(attrs, nattrs,
							   cfg->directory.attr_resource_kind);
		if (has_value(rk, "room") ||
		    (!has_value(rk, "equipment") &&
		     has_value(raw_attr(attrs, nattrs, "objectClass"), "room")))
			e->kind = VCARD_GAL_LOCATION;
	}
	const char *member_attrs[] = { cfg->directory.attr_member, cfg->directory.attr_unique_member };
	for (size_t i = 0; i < nattrs; i++) {
		bool member = false;
		for (size_t k = 0; k < ARRAY_SIZE(member_attrs); k++)
			member |= str_casecmp(attrs[i].name, member_attrs[k]) == 0;
		for (size_t k = 0; k < attrs[i].nvalues; k++) {
			if (member && l->kind == VCARD_GAL_GROUP) {
				/* uniqueMember may end in #'...'B: the DN is before it */
				char *dn = xstrndup(attrs[i].values[k].data, attrs[i].values[k].len);
				char *hash = strstr(dn, "#'");
				if (hash != NULL)
					*hash = '\0';
				char *key = dir_ldap_dn_key(dn);
				entry_add_ref(e, key);
				free(key);
				free(dn);
			} else if (!member) {
				entry_add_value(e, attrs[i].name, attrs[i].values[k].data,
						attrs[i].values[k].len);
			}
		}
	}
}

/* Append the names of a space-separated option to v (no duplicates). */
static void add_names(const char ***v, size_t *n, char ***owned, size_t *nowned, const char *spec)
{
	char **names = vcard_gal_names(spec);
	for (size_t i = 0; names[i] != NULL; i++) {
		bool dup = false;
		for (size_t k = 0; k < *n; k++)
			dup |= str_casecmp((*v)[k], names[i]) == 0;
		*owned = xrealloc(*owned, (*nowned + 1) * sizeof(char *));
		(*owned)[(*nowned)++] = names[i];
		if (dup)
			continue;
		*v = xrealloc(*v, (*n + 2) * sizeof(char *));
		(*v)[(*n)++] = names[i];
		(*v)[*n] = NULL;
	}
	free(names);
}

static int read_ldap(const struct config *cfg, struct dir_handle *dh, struct gal_list *l,
		     const char **error_r)
{
	const struct config *c = cfg;
	const char **attrs = xcalloc(1, sizeof(char *));
	size_t n = 0, nowned = 0;
	char **owned = NULL;
	const char *specs[] = {
		"entryUUID objectClass", c->directory.attr_mail, c->directory.attr_enabled,
		c->directory.attr_member, c->directory.attr_unique_member, c->directory.gal_attr_fn,
		c->directory.gal_attr_surname, c->directory.gal_attr_given_name,
		c->directory.gal_attr_email, c->directory.gal_attr_phone, c->directory.gal_attr_mobile,
		c->directory.gal_attr_photo, c->directory.gal_attr_org, c->directory.gal_attr_department,
		c->directory.gal_attr_title, c->directory.attr_resource_kind,
		c->directory.attr_resource_location, c->directory.attr_resource_capacity,
	};
	for (size_t i = 0; i < ARRAY_SIZE(specs); i++)
		add_names(&attrs, &n, &owned, &nowned, specs[i]);
	struct {
		const char *filter;
		enum vcard_gal_kind kind;
	} passes[] = {
		{ c->directory.user_list_filter, VCARD_GAL_USER },
		{ c->directory.gal_group_filter, VCARD_GAL_GROUP },
		{ c->directory.gal_resource_filter, VCARD_GAL_DEVICE },
	};
	int ret = DIR_OK;
	for (size_t i = 0; i < ARRAY_SIZE(passes) && ret == DIR_OK; i++) {
		if (passes[i].filter[0] == '\0')
			continue;
		l->kind = passes[i].kind;
		ret = dir_ldap_list(dh, passes[i].filter, attrs, ldap_entry_cb, l, error_r);
	}
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(owned);
	free(attrs);
	return ret;
}

/* ---- sql ---- */

static void sql_account_cb(uint64_t id, const char *address, const char *name, const char *phone,
			   const char *department, const char *title, void *vctx)
{
	struct gal_list *l = vctx;
	struct gal_entry *e = list_push(l);
	e->key = xstrdup(address);
	list_index(l);
	e->uid = xasprintf("cafe0000-0000-4000-8000-%012" PRIx64, id);
	e->kind = VCARD_GAL_USER;
	const char *pairs[][2] = { { "cn", name }, { "mail", address }, { "telephoneNumber", phone },
				   { "ou", department }, { "title", title } };
	for (size_t i = 0; i < ARRAY_SIZE(pairs); i++)
		if (pairs[i][1][0] != '\0')
			entry_add_value(e, pairs[i][0], pairs[i][1], strlen(pairs[i][1]));
}

static void sql_group_cb(uint64_t id, const char *address, const char *name,
			 const char *const *members, void *vctx)
{
	struct gal_list *l = vctx;
	struct gal_entry *e = list_push(l);
	e->key = xstrdup(address);
	list_index(l);
	e->uid = xasprintf("cafe0001-0000-4000-8000-%012" PRIx64, id);
	e->kind = VCARD_GAL_GROUP;
	entry_add_value(e, "cn", name[0] != '\0' ? name : address,
			strlen(name[0] != '\0' ? name : address));
	entry_add_value(e, "mail", address, strlen(address));
	for (size_t i = 0; members[i] != NULL; i++)
		entry_add_ref(e, members[i]);
}

/* A resource of the sql directory: its account's entry becomes a location
 * (room) or device (equipment) with its location and capacity. */
static void sql_resource_cb(const struct store_resource *res, void *vctx)
{
	struct gal_list *l = vctx;
	const struct gal_entry *found = list_find(l, res->address);
	if (found == NULL)
		return;	/* disabled */
	struct gal_entry *e = &l->v[found - l->v];
	e->kind = res->kind == STORE_RES_ROOM ? VCARD_GAL_LOCATION : VCARD_GAL_DEVICE;
	if (res->location[0] != '\0')
		entry_add_value(e, "location", res->location, strlen(res->location));
	if (res->capacity > 0) {
		char cap[16];
		snprintf(cap, sizeof(cap), "%u", res->capacity);
		entry_add_value(e, "capacity", cap, strlen(cap));
	}
}

/* ---- building and storing ---- */

struct built {
	struct store_carddav_gal_obj *v;
	size_t n;
};

static void built_free(struct built *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free((char *)b->v[i].name);
		free((char *)b->v[i].data);
		free((char *)b->v[i].uid);
		free((char *)b->v[i].summary);
	}
	free(b->v);
}

static int build_all(const struct vcard_gal_map *map, const struct gal_list *l, bool sql,
		     struct built *out, FILE *progress, unsigned *skipped)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct gal_entry *e = &l->v[i];
		struct vcard_gal_attr *attrs = xcalloc(e->nattrs + 1, sizeof(*attrs));
		struct vcard_gal_value **vals = xcalloc(e->nattrs + 1, sizeof(*vals));
		for (size_t k = 0; k < e->nattrs; k++) {
			vals[k] = xcalloc(e->attrs[k].nvalues + 1, sizeof(**vals));
			for (size_t j = 0; j < e->attrs[k].nvalues; j++) {
				vals[k][j].data = e->attrs[k].values[j].data;
				vals[k][j].len = e->attrs[k].values[j].len;
			}
			attrs[k].name = e->attrs[k].name;
			attrs[k].values = vals[k];
			attrs[k].nvalues = e->attrs[k].nvalues;
		}
		/* members: entries of the list by their uid, others as mailto: (sql) */
		char **members = xcalloc(e->nrefs + 1, sizeof(char *));
		size_t nm = 0;
		for (size_t k = 0; k < e->nrefs; k++) {
			const struct gal_entry *m = list_find(l, e->refs[k]);
			if (m != NULL)
				members[nm++] = xasprintf("urn:uuid:%s", m->uid);
			else if (sql)
				members[nm++] = xasprintf("mailto:%s", e->refs[k]);
		}
		struct vcard_gal_src src = { e->uid, e->kind, attrs, e->nattrs,
					     (const char *const *)members, nm };
		struct buf card;
		buf_init(&card, 0);
		const char *err = NULL;
		int ret = vcard_gal_build(map, &src, &card, &err);
		for (size_t k = 0; k < nm; k++)
			free(members[k]);
		free(members);
		for (size_t k = 0; k < e->nattrs; k++)
			free(vals[k]);
		free(vals);
		free(attrs);
		struct vcard *c = NULL;
		struct vcard_error perr;
		struct vcard_limits lim;
		vcard_limits_default(&lim);
		lim.max_size = lim.max_line_len = card.len + 1;
		if (ret == 0 && vcard_parse(card.data, card.len, &lim, &c, &perr) < 0) {
			err = perr.msg;
			ret = -1;
		}
		if (ret < 0) {
			(*skipped)++;
			if (progress != NULL)
				fprintf(progress, "gal: skipped %s: %s\n", e->key, err);
			buf_free(&card);
			continue;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
		struct store_carddav_gal_obj *o = &out->v[out->n++];
		o->name = vcard_gal_object_name(e->uid);
		o->data = card.data;
		o->len = card.len;
		o->uid = xstrdup(e->uid);
		o->summary = carddav_summary(c);
		vcard_free(&c);
	}
	return 0;
}

struct gal_tx {
	const struct built *b;
	struct store_carddav_gal_stats *stats;
};

static int gal_tx(struct store *st, void *vctx, const char **error_r)
{
	struct gal_tx *t = vctx;
	struct store_dav_coll coll;
	int ret = store_carddav_gal_coll(st, true, &coll, error_r);
	if (ret == STORE_OK)
		ret = store_dav_prop_set(st, coll.id, "", DAV_NS, "displayname",
					 "<D:displayname xmlns:D=\"DAV:\">Global Address List"
					 "</D:displayname>", error_r);
	if (ret == STORE_OK)
		ret = store_carddav_gal_replace(st, &coll, t->b->v, t->b->n, t->stats, error_r);
	return ret;
}

static const char *const sql_fn[] = { "cn", NULL };
static const char *const sql_mail[] = { "mail", NULL };
static const char *const sql_phone[] = { "telephoneNumber", NULL };
static const char *const sql_ou[] = { "ou", NULL };
static const char *const sql_title[] = { "title", NULL };
static const char *const sql_location[] = { "location", NULL };
static const char *const sql_capacity[] = { "capacity", NULL };

int carddav_gal_sync(const struct config *cfg, struct store *st, struct dir_handle *dh,
		     FILE *progress, struct store_carddav_gal_stats *stats_r,
		     const char **error_r)
{
	memset(stats_r, 0, sizeof(*stats_r));
	struct gal_list l = { .cfg = cfg, .progress = progress };
	bool sql = cfg->directory.backend == CONFIG_DIR_SQL;
	int ret;
	if (sql) {
		ret = store_carddav_dir_accounts(st, sql_account_cb, &l, error_r);
		if (ret == STORE_OK)
			ret = store_carddav_dir_groups(st, sql_group_cb, &l, error_r);
		if (ret == STORE_OK)
			ret = store_resource_list(st, NULL, 0, "", STORE_RES_SORT_ADDRESS, false, 0,
						  UINT32_MAX, sql_resource_cb, &l, NULL, error_r);
	} else {
		ret = read_ldap(cfg, dh, &l, error_r);
		ret = ret == DIR_OK ? STORE_OK : ret == DIR_TEMPFAIL ? STORE_TEMPFAIL : STORE_ERROR;
	}
	if (ret != STORE_OK) {
		list_free(&l);
		return ret;
	}
	char **fn = vcard_gal_names(cfg->directory.gal_attr_fn),
	     **sn = vcard_gal_names(cfg->directory.gal_attr_surname),
	     **gn = vcard_gal_names(cfg->directory.gal_attr_given_name),
	     **mail = vcard_gal_names(cfg->directory.gal_attr_email),
	     **tel = vcard_gal_names(cfg->directory.gal_attr_phone),
	     **cell = vcard_gal_names(cfg->directory.gal_attr_mobile),
	     **photo = vcard_gal_names(cfg->directory.gal_attr_photo),
	     **org = vcard_gal_names(cfg->directory.gal_attr_org),
	     **dept = vcard_gal_names(cfg->directory.gal_attr_department),
	     **title = vcard_gal_names(cfg->directory.gal_attr_title),
	     **location = vcard_gal_names(cfg->directory.attr_resource_location),
	     **capacity = vcard_gal_names(cfg->directory.attr_resource_capacity);
	struct vcard_gal_map map = {
		.fn = sql ? sql_fn : (const char *const *)fn,
		.surname = sql ? NULL : (const char *const *)sn,
		.given_name = sql ? NULL : (const char *const *)gn,
		.email = sql ? sql_mail : (const char *const *)mail,
		.tel_work = sql ? sql_phone : (const char *const *)tel,
		.tel_cell = sql ? NULL : (const char *const *)cell,
		.photo = sql ? NULL : (const char *const *)photo,
		.org = sql ? NULL : (const char *const *)org,
		.department = sql ? sql_ou : (const char *const *)dept,
		.title = sql ? sql_title : (const char *const *)title,
		.location = sql ? sql_location : (const char *const *)location,
		.capacity = sql ? sql_capacity : (const char *const *)capacity,
		.max_photo = (size_t)cfg->directory.gal_max_photo_size,
	};
	struct built b = { NULL, 0 };
	unsigned skipped = 0;
	build_all(&map, &l, sql, &b, progress, &skipped);
	list_free(&l);
	char **lists[] = { fn, sn, gn, mail, tel, cell, photo, org, dept, title, location, capacity };
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		vcard_gal_names_free(&lists[i]);
	struct gal_tx t = { &b, stats_r };
	ret = store_tx(st, gal_tx, &t, error_r);
	built_free(&b);
	return ret;
}
