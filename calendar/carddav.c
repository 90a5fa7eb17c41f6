/* CardDAV (RFC 6352) as a kind of the WebDAV core: address book collections
 * in the "addressbooks" home (a default one made at first use), PUT
 * validation with the 6.3.2.1 preconditions, the collection properties,
 * address-data with property subsets and 3.0/4.0 conversion (also GET by
 * Accept), and the addressbook-query and addressbook-multiget reports.
 * vCard work is proto/vcard's; this file maps XML to its structures. A
 * query picks candidates by the searchable text kept with each object
 * (store_carddav_candidates) when its filter allows, and confirms each
 * with vcard_filter_match. The read-only GAL kind is in carddav-gal.c. */
#include "autoconf.h"
#include "carddav.h"
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

/* Version asked for by a media type with parameters ("text/vcard;
 * version=4.0"): 3, 4, 0 when none is named, -1 for another type or an
 * unsupported version. */
static int vcard_type_version(const char *type)
{
	while (*type == ' ' || *type == '\t')
		type++;
	size_t n = strcspn(type, ";, \t");
	if (!(n == 10 && str_ncasecmp(type, "text/vcard", 10) == 0) &&
	    !(n == 12 && str_ncasecmp(type, "text/x-vcard", 12) == 0))
		return -1;
	const char *p = type + n;
	int version = 0;
	while (*p == ';' || *p == ' ' || *p == '\t') {
		p++;
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (str_ncasecmp(p, "version=", 8) == 0) {
			const char *v = p + 8;
			if (*v == '"')
				v++;
			if (strncmp(v, "3.0", 3) == 0)
				version = 3;
			else if (strncmp(v, "4.0", 3) == 0)
				version = 4;
			else
				return -1;
		}
		p += strcspn(p, ";,");
		if (*p == ',')
			break;
	}
	return version;
}

/* The vCard version an Accept header prefers (highest q with a version
 * parameter on text/vcard), or 0 for no preference. */
static int accept_version(const char *accept)
{
	if (accept == NULL)
		return 0;
	int best = 0;
	double best_q = -1;
	const char *p = accept;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
		char *item = xstrndup(p, len);
		int v = vcard_type_version(item);
		double q = 1.0;
		const char *qp = strstr(item, "q=");
		if (qp != NULL)
			q = strtod(qp + 2, NULL);
		if (v > 0 && q > 0 && q > best_q) {
			best = v;
			best_q = q;
		}
		free(item);
		p += len;
		if (*p == ',')
			p++;
	}
	return best;
}

/* ---- PUT ---- */

struct carddav_put {
	char *uid;
	char *summary;
};

static int carddav_validate(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			    const char *name, const char *data, size_t len,
			    const char *content_type, struct dav_put *put)
{
	(void)coll;
	(void)name;
	struct vcard_limits lim;
	carddav_limits(dav_ctx_config(ctx), &lim);
	put->err_ns = DAV_NS_CARDDAV;
	if (content_type != NULL && content_type[0] != '\0' &&
	    vcard_type_version(content_type) < 0) {
		put->err_name = "supported-address-data";
		snprintf(put->err_text, sizeof(put->err_text),
			 "not text/vcard version 3.0 or 4.0: %.100s", content_type);
		return 403;
	}
	if (len > lim.max_size) {
		put->err_name = "max-resource-size";
		snprintf(put->err_text, sizeof(put->err_text), "%zu bytes", len);
		return 403;
	}
	struct vcard *c = NULL;
	struct vcard_error err = { NULL, 0 };
	if (vcard_parse(data, len, &lim, &c, &err) < 0) {
		/* a vCard of another version is data we do not support (6.3.2.1) */
		put->err_name = strstr(err.msg, "unsupported VERSION") != NULL ?
				"supported-address-data" : "valid-address-data";
		if (err.line > 0)
			snprintf(put->err_text, sizeof(put->err_text), "line %zu: %s", err.line,
				 err.msg);
		else
			snprintf(put->err_text, sizeof(put->err_text), "%s", err.msg);
		return 403;
	}
	const char *verr;
	if (vcard_validate(c, VCARD_VALIDATE_UID, &verr) < 0) {
		vcard_free(&c);
		put->err_name = "valid-address-data";
		snprintf(put->err_text, sizeof(put->err_text), "%s", verr);
		return 403;
	}
	struct vcard_index idx;
	vcard_index_build(c, &idx);
	struct carddav_put *cp = xcalloc(1, sizeof(*cp));
	cp->uid = idx.uid;
	idx.uid = NULL;
	cp->summary = carddav_summary(c);
	vcard_index_free(&idx);
	vcard_free(&c);
	if (strlen(cp->uid) > 255) {
		free(cp->uid);
		free(cp->summary);
		free(cp);
		put->err_name = "valid-address-data";
		snprintf(put->err_text, sizeof(put->err_text), "UID longer than 255 octets");
		return 403;
	}
	put->priv = cp;
	put->idx.uid = cp->uid;
	put->idx.comp = "VCARD";
	put->idx.summary = cp->summary;
	put->content_type = "text/vcard; charset=utf-8";
	return 0;
}

static void carddav_put_free(struct dav_put *put)
{
	struct carddav_put *cp = put->priv;
	if (cp != NULL) {
		free(cp->uid);
		free(cp->summary);
		free(cp);
	}
	put->priv = NULL;
}

/* ---- address-data ---- */

/* What an address-data element asks for. */
struct address_data {
	int version;			/* 0: as stored */
	bool all;			/* allprop, or no prop children */
	struct vcard_prop_sel *sel;
	size_t nsel;
	xmlChar **names;		/* owned strings behind sel */
};

static void address_data_free(struct address_data *ad)
{
	for (size_t i = 0; i < ad->nsel; i++)
		xmlFree(ad->names[i]);
	free(ad->names);
	free(ad->sel);
	memset(ad, 0, sizeof(*ad));
}

/* Read an address-data request element (NULL: everything as stored).
 * 0, or -1 for a type or version we cannot produce. */
static int address_data_of(xmlNode *node, struct address_data *ad)
{
	memset(ad, 0, sizeof(*ad));
	ad->all = true;
	if (node == NULL)
		return 0;
	xmlChar *ct = xmlGetProp(node, (const xmlChar *)"content-type");
	xmlChar *ver = xmlGetProp(node, (const xmlChar *)"version");
	int ret = 0;
	if (ct != NULL && vcard_type_version((const char *)ct) < 0)
		ret = -1;
	if (ver != NULL) {
		if (xmlStrcmp(ver, (const xmlChar *)"3.0") == 0)
			ad->version = 3;
		else if (xmlStrcmp(ver, (const xmlChar *)"4.0") == 0)
			ad->version = 4;
		else
			ret = -1;
	}
	xmlFree(ct);
	xmlFree(ver);
	if (ret < 0)
		return -1;
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CARDDAV, "allprop")) {
			ad->all = true;
			break;
		}
		if (!dav_xml_is(c, DAV_NS_CARDDAV, "prop"))
			continue;
		xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
		if (name == NULL)
			continue;
		xmlChar *nv = xmlGetProp(c, (const xmlChar *)"novalue");
		ad->all = false;
		ad->sel = xrealloc(ad->sel, (ad->nsel + 1) * sizeof(*ad->sel));
		ad->names = xrealloc(ad->names, (ad->nsel + 1) * sizeof(*ad->names));
		ad->names[ad->nsel] = name;
		ad->sel[ad->nsel].name = (const char *)name;
		ad->sel[ad->nsel].novalue = nv != NULL && xmlStrcmp(nv, (const xmlChar *)"yes") == 0;
		ad->nsel++;
		xmlFree(nv);
	}
	return 0;
}

/* The representation of stored vCard bytes that ad asks for, into out.
 * 0, or -1 when the stored data no longer parses. */
static int render(struct dav_ctx *ctx, const char *data, size_t len, const struct address_data *ad,
		  struct buf *out)
{
	struct vcard_limits lim;
	vcard_limits_default(&lim);
	(void)ctx;
	lim.max_size = len + 1;		/* stored: it passed the limits of its day */
	lim.max_line_len = len + 1;
	lim.max_params = lim.max_param_values = 1000;
	lim.max_props = lim.max_lines = len + 1;
	struct vcard *c = NULL;
	struct vcard_error err;
	if (vcard_parse(data, len, &lim, &c, &err) < 0)
		return -1;
	if (ad->version != 0 && (int)c->version != ad->version) {
		struct vcard *d = vcard_convert(c, (enum vcard_version)ad->version);
		vcard_free(&c);
		c = d;
	}
	if (!ad->all) {
		struct vcard *d = vcard_subset(c, ad->sel, ad->nsel);
		vcard_free(&c);
		c = d;
	}
	vcard_serialize(c, out);
	vcard_free(&c);
	return 0;
}

static int address_data_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			     const struct store_dav_obj *obj, xmlNode *node, struct buf *out)
{
	struct address_data ad;
	if (address_data_of(node, &ad) < 0) {
		address_data_free(&ad);
		dav_ctx_note(ctx, "address-data: unsupported content-type or version");
		return 403;
	}
	struct store_dav_obj full;
	const struct store_dav_obj *o = obj;
	bool fetched = false;
	if (obj->data == NULL) {
		const char *error;
		if (store_dav_obj_get(dav_ctx_store(ctx), coll->id, obj->name, true, false, &full,
				      &error) != STORE_OK) {
			address_data_free(&ad);
			return 404;
		}
		o = &full;
		fetched = true;
	}
	int status = 200;
	if (ad.all && ad.version == 0) {
		buf_append_str(out, "<CR:address-data>");
		dav_xml_escape_n(out, o->data, o->len);
		buf_append_str(out, "</CR:address-data>");
	} else {
		struct buf card;
		buf_init(&card, 0);
		if (render(ctx, o->data, o->len, &ad, &card) == 0) {
			buf_append_str(out, "<CR:address-data>");
			dav_xml_escape_n(out, card.data, card.len);
			buf_append_str(out, "</CR:address-data>");
		} else {
			status = 500;
			dav_ctx_note(ctx, "stored vCard %s does not parse", o->name);
		}
		buf_free(&card);
	}
	if (fetched)
		store_dav_obj_clear(&full);
	address_data_free(&ad);
	return status;
}

/* ---- properties ---- */

static int carddav_prop(struct dav_ctx *ctx, enum dav_level level,
			const struct store_dav_coll *coll, const struct store_dav_obj *obj,
			const struct dav_propname *p, struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CARDDAV) != 0)
		return 404;
	if (level == DAV_LEVEL_OBJ) {
		if (strcmp(p->name, "address-data") == 0)
			return address_data_prop(ctx, coll, obj, p->node, out);
		return 404;
	}
	if (level != DAV_LEVEL_COLL)
		return 404;
	if (strcmp(p->name, "supported-address-data") == 0) {
		buf_append_str(out, "<CR:supported-address-data>"
				    "<CR:address-data-type content-type=\"text/vcard\" version=\"3.0\"/>"
				    "<CR:address-data-type content-type=\"text/vcard\" version=\"4.0\"/>"
				    "</CR:supported-address-data>");
		return 200;
	}
	if (strcmp(p->name, "max-resource-size") == 0) {
		buf_printf(out, "<CR:max-resource-size>%" PRIu64 "</CR:max-resource-size>",
			   dav_ctx_config(ctx)->http.dav_max_resource_size);
		return 200;
	}
	if (strcmp(p->name, "supported-collation-set") == 0) {
		buf_append_str(out, "<CR:supported-collation-set>"
				    "<CR:supported-collation>i;ascii-casemap</CR:supported-collation>"
				    "<CR:supported-collation>i;octet</CR:supported-collation>"
				    "<CR:supported-collation>i;unicode-casemap</CR:supported-collation>"
				    "</CR:supported-collation-set>");
		return 200;
	}
	return 404;
}

static int carddav_set_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			    const struct dav_propop *op, bool creating)
{
	(void)ctx;
	(void)coll;
	(void)creating;
	if (strcmp(op->ns, DAV_NS_CARDDAV) != 0)
		return 0;
	static const char *const protected_names[] = {
		"supported-address-data", "max-resource-size", "address-data",
		"supported-collation-set", NULL };
	for (size_t i = 0; protected_names[i] != NULL; i++) {
		if (strcmp(op->name, protected_names[i]) == 0)
			return 403;
	}
	return 0;	/* addressbook-description and others: dead properties */
}

/* ---- GET ---- */

static int carddav_get_body(struct dav_ctx *ctx, const struct store_dav_obj *obj, struct buf *body,
			    char *content_type, size_t size)
{
	buf_append_str(dav_ctx_headers(ctx), "Vary: Accept\r\n");
	int want = accept_version(dav_ctx_request(ctx)->accept);
	if (want == 0 || obj->data == NULL)
		return 0;
	struct address_data ad = { .version = want, .all = true };
	struct buf card;
	buf_init(&card, 0);
	if (render(ctx, obj->data, obj->len, &ad, &card) < 0) {
		buf_free(&card);
		return 0;	/* send it as it is stored */
	}
	buf_append(body, card.data, card.len);
	buf_free(&card);
	snprintf(content_type, size, "text/vcard; charset=utf-8; version=%d.0", want);
	return 1;
}

/* ---- REPORTs ---- */

static void report_error(struct dav_ctx *ctx, const char *precond, const char *why)
{
	dav_error(ctx, 403, DAV_NS_CARDDAV, precond, NULL);
	dav_ctx_note(ctx, "%s: %s", precond, why);
}

/* A text-match element's settings. 0, or -1 with *precond_r set. */
static int text_match_of(xmlNode *node, char **text_r, enum vcard_collation *coll_r,
			 enum vcard_match_type *match_r, bool *negate_r, const char **precond_r)
{
	*coll_r = VCARD_COLL_UNICODE_CASEMAP;
	*match_r = VCARD_MATCH_CONTAINS;
	*negate_r = false;
	*text_r = NULL;
	xmlChar *c = xmlGetProp(node, (const xmlChar *)"collation");
	xmlChar *m = xmlGetProp(node, (const xmlChar *)"match-type");
	xmlChar *n = xmlGetProp(node, (const xmlChar *)"negate-condition");
	int ret = 0;
	if (c != NULL) {
		int v = vcard_collation_from_name((const char *)c);
		if (v < 0) {
			*precond_r = "supported-collation";
			ret = -1;
		} else {
			*coll_r = (enum vcard_collation)v;
		}
	}
	if (ret == 0 && m != NULL) {
		int v = vcard_match_type_from_name((const char *)m);
		if (v < 0) {
			*precond_r = "supported-filter";
			ret = -1;
		} else {
			*match_r = (enum vcard_match_type)v;
		}
	}
	if (ret == 0 && n != NULL) {
		if (xmlStrcmp(n, (const xmlChar *)"yes") == 0) {
			*negate_r = true;
		} else if (xmlStrcmp(n, (const xmlChar *)"no") != 0) {
			*precond_r = "supported-filter";
			ret = -1;
		}
	}
	xmlFree(c);
	xmlFree(m);
	xmlFree(n);
	if (ret == 0) {
		/* the text as given: not trimmed, spaces can matter */
		xmlChar *t = xmlNodeGetContent(node);
		*text_r = xstrdup(t != NULL ? (const char *)t : "");
		xmlFree(t);
	}
	return ret;
}

/* test="anyof|allof": 0 anyof (also absent), 1 allof, -1 anything else. */
static int test_of(xmlNode *node)
{
	xmlChar *t = xmlGetProp(node, (const xmlChar *)"test");
	int r = 0;
	if (t != NULL && xmlStrcmp(t, (const xmlChar *)"allof") == 0)
		r = 1;
	else if (t != NULL && xmlStrcmp(t, (const xmlChar *)"anyof") != 0)
		r = -1;
	xmlFree(t);
	return r;
}

static int prop_filter_fill(xmlNode *node, struct vcard_filter *f, const char **precond_r)
{
	xmlChar *name = xmlGetProp(node, (const xmlChar *)"name");
	int allof = test_of(node);
	if (name == NULL || name[0] == '\0' || allof < 0) {
		xmlFree(name);
		*precond_r = "supported-filter";
		return -1;
	}
	struct vcard_prop_filter *pf = vcard_filter_add_prop(f, (const char *)name, allof == 1);
	xmlFree(name);
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CARDDAV, "is-not-defined")) {
			pf->is_not_defined = true;
		} else if (dav_xml_is(c, DAV_NS_CARDDAV, "text-match")) {
			char *text;
			enum vcard_collation coll;
			enum vcard_match_type m;
			bool neg;
			if (text_match_of(c, &text, &coll, &m, &neg, precond_r) < 0)
				return -1;
			vcard_prop_filter_add_text_match(pf, text, coll, m, neg);
			free(text);
		} else if (dav_xml_is(c, DAV_NS_CARDDAV, "param-filter")) {
			xmlChar *pname = xmlGetProp(c, (const xmlChar *)"name");
			if (pname == NULL || pname[0] == '\0') {
				xmlFree(pname);
				*precond_r = "supported-filter";
				return -1;
			}
			xmlNode *tm = dav_xml_child(c, DAV_NS_CARDDAV, "text-match");
			bool undef = dav_xml_child(c, DAV_NS_CARDDAV, "is-not-defined") != NULL;
			char *text = NULL;
			enum vcard_collation coll = VCARD_COLL_UNICODE_CASEMAP;
			enum vcard_match_type m = VCARD_MATCH_CONTAINS;
			bool neg = false;
			if ((tm != NULL && undef) ||
			    (tm != NULL && text_match_of(tm, &text, &coll, &m, &neg, precond_r) < 0)) {
				if (tm != NULL && undef)
					*precond_r = "supported-filter";
				xmlFree(pname);
				return -1;
			}
			vcard_prop_filter_add_param(pf, (const char *)pname, undef, text, coll, m, neg);
			free(text);
			xmlFree(pname);
		} else {
			*precond_r = "supported-filter";
			return -1;
		}
	}
	if (pf->is_not_defined && (pf->ntext_matches > 0 || pf->nparam_filters > 0)) {
		*precond_r = "supported-filter";
		return -1;
	}
	return 0;
}

/* The filter of an addressbook-query. 0, or -1 with *precond_r. */
static int filter_of(xmlNode *node, struct vcard_filter **f_r, const char **precond_r)
{
	*f_r = NULL;
	if (node == NULL) {
		*precond_r = "supported-filter";
		return -1;
	}
	int allof = test_of(node);
	if (allof < 0) {
		*precond_r = "supported-filter";
		return -1;
	}
	struct vcard_filter *f = vcard_filter_new(allof == 1);
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (!dav_xml_is(c, DAV_NS_CARDDAV, "prop-filter") ||
		    prop_filter_fill(c, f, precond_r) < 0) {
			if (!dav_xml_is(c, DAV_NS_CARDDAV, "prop-filter"))
				*precond_r = "supported-filter";
			vcard_filter_free(&f);
			return -1;
		}
	}
	*f_r = f;
	return 0;
}

/* Strings every candidate's summary contains one of, when the filter
 * allows narrowing that way (see vcard_filter_match); false: all objects. */
static bool pf_needles(const struct vcard_prop_filter *pf, char ***v, size_t *n)
{
	if (!carddav_searchable(pf->name) || pf->is_not_defined || pf->ntext_matches == 0)
		return false;
	if (pf->allof) {
		/* every text-match must hold: any one positive one narrows */
		for (size_t i = 0; i < pf->ntext_matches; i++) {
			if (!pf->text_matches[i].negate) {
				*v = xrealloc(*v, (*n + 1) * sizeof(char *));
				(*v)[(*n)++] = vcard_collate(VCARD_COLL_UNICODE_CASEMAP,
							     pf->text_matches[i].text);
				return true;
			}
		}
		return false;
	}
	if (pf->nparam_filters > 0)
		return false;
	for (size_t i = 0; i < pf->ntext_matches; i++)
		if (pf->text_matches[i].negate)
			return false;
	for (size_t i = 0; i < pf->ntext_matches; i++) {
		*v = xrealloc(*v, (*n + 1) * sizeof(char *));
		(*v)[(*n)++] = vcard_collate(VCARD_COLL_UNICODE_CASEMAP, pf->text_matches[i].text);
	}
	return true;
}

static bool filter_needles(const struct vcard_filter *f, char ***v_r, size_t *n_r)
{
	*v_r = NULL;
	*n_r = 0;
	if (f->nprops == 0)
		return false;
	if (f->allof) {
		for (size_t i = 0; i < f->nprops; i++)
			if (pf_needles(&f->props[i], v_r, n_r))
				return true;
		return false;
	}
	for (size_t i = 0; i < f->nprops; i++) {
		if (!pf_needles(&f->props[i], v_r, n_r)) {
			for (size_t k = 0; k < *n_r; k++)
				free((*v_r)[k]);
			free(*v_r);
			*v_r = NULL;
			*n_r = 0;
			return false;
		}
	}
	return true;
}

struct query_ctx {
	struct dav_ctx *ctx;
	const struct store_dav_coll *coll;
	const struct dav_propfind *pf;
	const struct vcard_filter *filter;
	const char *only;		/* a query on one resource */
	uint64_t limit;			/* 0: none */
	uint64_t matched;
	bool truncated;
	struct vcard_limits lim;
};

static void query_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct query_ctx *q = vctx;
	if (q->truncated || (q->only != NULL && strcmp(q->only, obj->name) != 0))
		return;
	struct vcard *c = NULL;
	struct vcard_error err;
	if (vcard_parse(obj->data, obj->len, &q->lim, &c, &err) < 0) {
		dav_ctx_note(q->ctx, "skipped %s: %s", obj->name, err.msg);
		return;
	}
	bool match = vcard_filter_match(q->filter, c);
	vcard_free(&c);
	if (!match)
		return;
	if (q->limit > 0 && q->matched >= q->limit) {
		q->truncated = true;
		return;
	}
	q->matched++;
	dav_ms_object(q->ctx, q->coll, obj, q->pf);
}

/* The CARDDAV:limit's nresults: 0 none, >0 the limit, -1 malformed. */
static int64_t limit_of(xmlNode *root)
{
	xmlNode *limit = dav_xml_child(root, DAV_NS_CARDDAV, "limit");
	if (limit == NULL)
		return 0;
	xmlNode *nr = dav_xml_child(limit, DAV_NS_CARDDAV, "nresults");
	if (nr == NULL)
		return -1;
	char *t = dav_xml_text(nr);
	uint64_t v;
	int ret = str_to_u64(t, strlen(t), 1000000000, &v);
	xmlFree(t);
	return ret < 0 || v == 0 ? -1 : (int64_t)v;
}

static int addressbook_query(struct dav_ctx *ctx, xmlNode *root)
{
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	if (coll == NULL) {
		dav_error(ctx, 403, DAV_NS, "supported-report", NULL);
		return 0;
	}
	struct vcard_filter *filter = NULL;
	const char *precond = NULL;
	if (filter_of(dav_xml_child(root, DAV_NS_CARDDAV, "filter"), &filter, &precond) < 0) {
		report_error(ctx, precond, "bad filter");
		return 0;
	}
	int64_t limit = limit_of(root);
	if (limit < 0) {
		vcard_filter_free(&filter);
		dav_text(ctx, 400, "bad CARDDAV:limit");
		return 0;
	}
	struct dav_propfind pf;
	const char *perr;
	if (dav_prop_list_parse(root, &pf, &perr) != 0) {
		vcard_filter_free(&filter);
		dav_text(ctx, 400, perr);
		return 0;
	}
	struct query_ctx q = { .ctx = ctx, .coll = coll, .pf = &pf, .filter = filter,
			       .only = dav_ctx_object(ctx), .limit = (uint64_t)limit };
	carddav_limits(dav_ctx_config(ctx), &q.lim);
	q.lim.max_size = SIZE_MAX / 2;	/* stored: it passed the limits of its day */
	q.lim.max_line_len = SIZE_MAX / 2;
	char **needles;
	size_t nneedles;
	bool narrow = filter_needles(filter, &needles, &nneedles);
	dav_ms_begin(ctx);
	const char *serr;
	int ret;
	if (narrow)
		ret = store_carddav_candidates(dav_ctx_store(ctx), coll->id,
					       (const char *const *)needles, nneedles, true, query_cb,
					       &q, &serr);
	else
		ret = store_dav_obj_list(dav_ctx_store(ctx), coll->id, NULL, 0, true, query_cb, &q,
					 &serr);
	for (size_t i = 0; i < nneedles; i++)
		free(needles[i]);
	free(needles);
	if (ret == STORE_OK && q.truncated) {
		/* RFC 6352 8.6.1: the request-URI with 507 and the reason */
		struct buf *b = dav_ctx_body(ctx);
		buf_append_str(b, "<D:response><D:href>");
		dav_xml_escape(b, dav_ctx_request(ctx)->path);
		buf_append_str(b, "</D:href><D:status>HTTP/1.1 507 Insufficient Storage</D:status>"
				  "<D:error><D:number-of-matches-within-limits/></D:error>"
				  "</D:response>\n");
	}
	dav_ms_end(ctx);
	dav_propfind_free(&pf);
	vcard_filter_free(&filter);
	if (ret != STORE_OK) {
		dav_error(ctx, 500, DAV_NS, "internal-error", NULL);
		dav_ctx_note(ctx, "store: %s", serr);
		return 0;
	}
	return 0;
}

struct multiget {
	struct dav_ctx *ctx;
	const struct store_dav_coll *coll;
	const struct dav_propfind *pf;
	char **names;
	bool *found;
	size_t n;
};

static void multiget_cb(const struct store_dav_obj *obj, void *vctx)
{
	struct multiget *mg = vctx;
	for (size_t i = 0; i < mg->n; i++) {
		if (strcmp(mg->names[i], obj->name) == 0)
			mg->found[i] = true;
	}
	dav_ms_object(mg->ctx, mg->coll, obj, mg->pf);
}

static int addressbook_multiget(struct dav_ctx *ctx, xmlNode *root)
{
	const struct store_dav_coll *coll = dav_ctx_coll(ctx);
	if (coll == NULL) {
		dav_error(ctx, 403, DAV_NS, "supported-report", NULL);
		return 0;
	}
	struct dav_propfind pf;
	const char *perr;
	if (dav_prop_list_parse(root, &pf, &perr) != 0) {
		dav_text(ctx, 400, perr);
		return 0;
	}
	dav_ms_begin(ctx);
	char **names = NULL;
	size_t n = 0;
	for (xmlNode *h = dav_xml_elem(root->children); h != NULL; h = dav_xml_elem(h->next)) {
		if (!dav_xml_is(h, DAV_NS, "href"))
			continue;
		char *href = dav_xml_text(h);
		struct store_dav_coll hc;
		char name[STORE_DAV_NAME_MAX + 1];
		int st = dav_resolve_href(ctx, href, &hc, name);
		if (st == 0 && hc.id != coll->id)
			st = 404;
		if (st != 0) {
			dav_ms_status(ctx, href, st == 400 ? 404 : st);
		} else {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(name);
		}
		xmlFree(href);
	}
	int ret = STORE_OK;
	const char *serr = NULL;
	if (n > 0) {
		bool *found = xcalloc(n, sizeof(bool));
		struct multiget mg = { ctx, coll, &pf, names, found, n };
		ret = store_dav_obj_list(dav_ctx_store(ctx), coll->id, (const char *const *)names, n,
					 true, multiget_cb, &mg, &serr);
		for (size_t i = 0; i < n && ret == STORE_OK; i++) {
			if (!found[i]) {
				struct buf href;
				buf_init(&href, 0);
				dav_href(&href, coll, names[i]);
				dav_ms_status(ctx, href.data, 404);
				buf_free(&href);
			}
		}
		free(found);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	dav_ms_end(ctx);
	dav_propfind_free(&pf);
	if (ret != STORE_OK) {
		dav_error(ctx, 500, DAV_NS, "internal-error", NULL);
		dav_ctx_note(ctx, "store: %s", serr);
	}
	return 0;
}

static int carddav_report(struct dav_ctx *ctx, xmlNode *root)
{
	if (dav_xml_is(root, DAV_NS_CARDDAV, "addressbook-query"))
		return addressbook_query(ctx, root);
	if (dav_xml_is(root, DAV_NS_CARDDAV, "addressbook-multiget"))
		return addressbook_multiget(ctx, root);
	return 1;
}

/* ---- the default address book ---- */

static void has_book_cb(const struct store_dav_coll *coll, void *vctx)
{
	bool *has = vctx;
	if (strcmp(coll->kind, "addressbook") == 0)
		*has = true;
}

static int carddav_provision(struct dav_ctx *ctx, const char *user)
{
	struct store *st = dav_ctx_store(ctx);
	const struct config *cfg = dav_ctx_config(ctx);
	struct store_dav_coll c;
	const char *error;
	/* the GAL's entry marks a provisioned home; without a GAL, any book does */
	if (cfg->directory.gal) {
		int ret = store_dav_coll_get(st, user, "addressbooks", "gal", false, &c, &error);
		if (ret == STORE_OK)
			return STORE_OK;
		if (ret != STORE_NOTFOUND)
			return ret;
	}
	bool has = false;
	int ret = store_dav_coll_list(st, user, "addressbooks", has_book_cb, &has, &error);
	if (ret != STORE_OK)
		return ret;
	if (!has) {
		ret = store_dav_coll_create(st, user, "addressbooks", "default", "addressbook", &c,
					    &error);
		if (ret == STORE_OK)
			ret = store_dav_prop_set(st, c.id, "", DAV_NS, "displayname",
						 "<D:displayname xmlns:D=\"DAV:\">Contacts"
						 "</D:displayname>", &error);
		if (ret == STORE_EXISTS)
			ret = STORE_OK;	/* "default" is taken by another kind */
		if (ret != STORE_OK)
			return ret;
	}
	if (cfg->directory.gal) {
		ret = store_dav_coll_create(st, user, "addressbooks", "gal", "gal", &c, &error);
		if (ret == STORE_EXISTS)
			ret = STORE_OK;
	}
	return ret;
}

static const struct dav_propdef carddav_props[] = {
	{ DAV_NS_CARDDAV, "supported-address-data", false },
	{ DAV_NS_CARDDAV, "max-resource-size", false },
	{ DAV_NS_CARDDAV, "supported-collation-set", false },
	{ DAV_NS_CARDDAV, "address-data", false },
	{ NULL, NULL, false },
};

#define CARDDAV_REPORTS                                                                       \
	"<D:supported-report><D:report><CR:addressbook-query/></D:report></D:supported-report>" \
	"<D:supported-report><D:report><CR:addressbook-multiget/></D:report></D:supported-report>"

/* CARDDAV:principal-address (RFC 6352 7.1.2): the global address list's
 * card for the principal (the card with its address as an EMAIL), in the
 * requester's view of the GAL; absent (404) when there is none. */
static int carddav_principal_prop(struct dav_ctx *ctx, const char *principal,
				  const struct dav_propname *p, struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CARDDAV) != 0 || strcmp(p->name, "principal-address") != 0)
		return 404;
	if (!dav_ctx_config(ctx)->directory.gal)
		return 404;
	char *key = vcard_collate(VCARD_COLL_UNICODE_CASEMAP, principal);
	char name[STORE_DAV_NAME_MAX + 1];
	const char *error = NULL;
	int ret = store_carddav_gal_card_of(dav_ctx_store(ctx), key, name, &error);
	free(key);
	if (ret == STORE_NOTFOUND)
		return 404;
	if (ret != STORE_OK) {
		dav_ctx_note(ctx, "GAL: %s", error != NULL ? error : "error");
		return 500;
	}
	struct store_dav_coll gal = { .id = 0 };
	snprintf(gal.owner, sizeof(gal.owner), "%s", dav_ctx_request(ctx)->user);
	snprintf(gal.home, sizeof(gal.home), "addressbooks");
	snprintf(gal.name, sizeof(gal.name), "gal");
	buf_append_str(out, "<CR:principal-address><D:href>");
	struct buf href;
	buf_init(&href, 0);
	dav_href(&href, &gal, name);
	dav_xml_escape(out, href.data);
	buf_free(&href);
	buf_append_str(out, "</D:href></CR:principal-address>");
	return 200;
}

const struct dav_kind carddav_kind = {
	.name = "addressbook",
	.home = "addressbooks",
	.ns = DAV_NS_CARDDAV,
	.type = "addressbook",
	.home_set = "addressbook-home-set",
	.mkcol_method = NULL,
	.dav_class = "addressbook",
	.content_type = "text/vcard; charset=utf-8",
	.reports = CARDDAV_REPORTS,
	.props = carddav_props,
	.validate = carddav_validate,
	.put_free = carddav_put_free,
	.prop = carddav_prop,
	.set_prop = carddav_set_prop,
	.report = carddav_report,
	.principal_prop = carddav_principal_prop,
	.provision = carddav_provision,
	.get_body = carddav_get_body,
};

/* ---- the GAL kind: the same reads, no writes ---- */

static int gal_validate(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
			const char *data, size_t len, const char *content_type,
			struct dav_put *put)
{
	(void)ctx, (void)coll, (void)name, (void)data, (void)len, (void)content_type;
	put->err_ns = DAV_NS;
	put->err_name = "need-privileges";
	snprintf(put->err_text, sizeof(put->err_text), "the global address list is read-only");
	return 403;
}

static int gal_set_prop(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			const struct dav_propop *op, bool creating)
{
	(void)ctx, (void)coll, (void)op, (void)creating;
	return 403;
}

static int gal_resolve(struct dav_ctx *ctx, struct store_dav_coll *coll)
{
	struct store_dav_coll shared;
	const char *error;
	int ret = store_carddav_gal_coll(dav_ctx_store(ctx), false, &shared, &error);
	if (ret == STORE_NOTFOUND)
		return 0;	/* never synced: the user's own empty collection */
	if (ret != STORE_OK) {
		dav_ctx_note(ctx, "GAL: %s", error);
		return -1;
	}
	coll->id = shared.id;
	coll->synctoken = shared.synctoken;
	return 0;
}

const struct dav_kind carddav_gal_kind = {
	.name = "gal",
	.home = "addressbooks",
	.ns = DAV_NS_CARDDAV,
	.type = "addressbook",
	.home_set = NULL,
	.mkcol_method = NULL,
	.dav_class = NULL,
	.content_type = "text/vcard; charset=utf-8",
	.reports = CARDDAV_REPORTS,
	.props = carddav_props,
	.validate = gal_validate,
	.put_free = carddav_put_free,
	.prop = carddav_prop,
	.set_prop = gal_set_prop,
	.report = carddav_report,
	.principal_prop = NULL,
	.readonly = true,
	.resolve = gal_resolve,
	.get_body = carddav_get_body,
};
