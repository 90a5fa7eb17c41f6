/* CalDAV request elements to calendar/ical structures (see caldav-filter.h). */
#include "autoconf.h"
#include "caldav-filter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The component set of a supported-calendar-component-set element; 0 when
 * it names none or one we do not know. */
unsigned caldav_comp_set_of(xmlNode *node)
{
	unsigned set = 0;
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (!dav_xml_is(c, DAV_NS_CALDAV, "comp"))
			continue;
		xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
		enum ical_comp bit = name != NULL ? ical_comp_from_name((const char *)name) : 0;
		xmlFree(name);
		if (bit == 0)
			return 0;
		set |= bit;
	}
	return set;
}

/* A time-range element's attributes. 0, or -1 (valid-filter). */
int caldav_time_range_of(xmlNode *node, struct ical_time_range *tr, struct ical_error *err)
{
	xmlChar *start = xmlGetProp(node, (const xmlChar *)"start");
	xmlChar *end = xmlGetProp(node, (const xmlChar *)"end");
	int ret = ical_time_range_parse((const char *)start, (const char *)end, tr, err);
	xmlFree(start);
	xmlFree(end);
	return ret;
}

/* ---- calendar-data requests (9.6) ---- */

static int comp_select_fill(xmlNode *node, struct ical_comp_select *cs)
{
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CALDAV, "prop")) {
			xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
			xmlChar *novalue = xmlGetProp(c, (const xmlChar *)"novalue");
			if (name == NULL) {
				xmlFree(novalue);
				return -1;
			}
			ical_comp_select_add_prop(cs, (const char *)name,
						  novalue != NULL && strcmp((char *)novalue, "yes") == 0);
			xmlFree(name);
			xmlFree(novalue);
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "comp")) {
			xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
			if (name == NULL)
				return -1;
			struct ical_comp_select *sub = ical_comp_select_add_comp(cs, (const char *)name);
			xmlFree(name);
			if (comp_select_fill(c, sub) < 0)
				return -1;
		}
	}
	/* allprop/allcomp elements keep the flags the builders left */
	if (dav_xml_child(node, DAV_NS_CALDAV, "allprop") != NULL)
		cs->allprop = true;
	if (dav_xml_child(node, DAV_NS_CALDAV, "allcomp") != NULL)
		cs->allcomp = true;
	return 0;
}

/* Read a calendar-data request element. 0 (cd filled; plain: nothing
 * asked beyond the whole object), or -1 with err. */
int caldav_calendar_data_of(xmlNode *node, struct ical_calendar_data *cd, bool *plain_r,
			    struct ical_error *err)
{
	memset(cd, 0, sizeof(*cd));
	*plain_r = true;
	if (node == NULL)
		return 0;
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CALDAV, "comp")) {
			xmlChar *name = xmlGetProp(c, (const xmlChar *)"name");
			if (name == NULL || cd->comp != NULL)
				goto bad;
			cd->comp = ical_comp_select_new((const char *)name);
			xmlFree(name);
			if (comp_select_fill(c, cd->comp) < 0)
				goto bad;
			*plain_r = false;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "expand")) {
			if (caldav_time_range_of(c, &cd->expand_range, err) < 0 ||
			    !cd->expand_range.has_start || !cd->expand_range.has_end)
				goto bad;
			cd->expand = true;
			*plain_r = false;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "limit-recurrence-set")) {
			if (caldav_time_range_of(c, &cd->limit_recurrence_range, err) < 0)
				goto bad;
			cd->limit_recurrence = true;
			*plain_r = false;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "limit-freebusy-set")) {
			if (caldav_time_range_of(c, &cd->limit_freebusy_range, err) < 0)
				goto bad;
			cd->limit_freebusy = true;
			*plain_r = false;
		}
	}
	return 0;
bad:
	ical_comp_select_free(&cd->comp);
	err->precond = ICAL_VALID_FILTER;
	snprintf(err->text, sizeof(err->text), "malformed calendar-data request");
	return -1;
}

static int text_match_of(xmlNode *node, char **text_r, enum ical_collation *coll_r,
			 bool *negate_r, struct ical_error *err)
{
	xmlChar *collation = xmlGetProp(node, (const xmlChar *)"collation");
	xmlChar *negate = xmlGetProp(node, (const xmlChar *)"negate-condition");
	*coll_r = ICAL_COLLATION_ASCII_CASEMAP;
	int ret = 0;
	if (collation != NULL && ical_collation_parse((const char *)collation, coll_r) < 0) {
		err->precond = ICAL_SUPPORTED_COLLATION;
		snprintf(err->text, sizeof(err->text), "collation %.100s", (const char *)collation);
		ret = -1;
	}
	*negate_r = negate != NULL && strcmp((const char *)negate, "yes") == 0;
	xmlFree(collation);
	xmlFree(negate);
	if (ret == 0) {
		xmlChar *t = xmlNodeGetContent(node);
		*text_r = xstrdup(t != NULL ? (const char *)t : "");
		xmlFree(t);
	}
	return ret;
}

static int bad_filter(struct ical_error *err, const char *what)
{
	err->precond = ICAL_VALID_FILTER;
	snprintf(err->text, sizeof(err->text), "%s", what);
	return -1;
}

static xmlChar *name_attr(xmlNode *node)
{
	return xmlGetProp(node, (const xmlChar *)"name");
}

static int prop_filter_fill(xmlNode *node, struct ical_prop_filter *pf, struct ical_error *err)
{
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CALDAV, "is-not-defined")) {
			pf->is_not_defined = true;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "time-range")) {
			struct ical_time_range tr;
			if (caldav_time_range_of(c, &tr, err) < 0)
				return -1;
			ical_prop_filter_set_time_range(pf, &tr);
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "text-match")) {
			char *text;
			enum ical_collation coll;
			bool negate;
			if (text_match_of(c, &text, &coll, &negate, err) < 0)
				return -1;
			ical_prop_filter_set_text_match(pf, text, coll, negate);
			free(text);
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "param-filter")) {
			xmlChar *name = name_attr(c);
			if (name == NULL)
				return bad_filter(err, "param-filter without a name");
			struct ical_param_filter *pa = ical_prop_filter_add_param(pf, (const char *)name);
			xmlFree(name);
			for (xmlNode *d = dav_xml_elem(c->children); d != NULL; d = dav_xml_elem(d->next)) {
				if (dav_xml_is(d, DAV_NS_CALDAV, "is-not-defined")) {
					pa->is_not_defined = true;
				} else if (dav_xml_is(d, DAV_NS_CALDAV, "text-match")) {
					char *text;
					enum ical_collation coll;
					bool negate;
					if (text_match_of(d, &text, &coll, &negate, err) < 0)
						return -1;
					ical_param_filter_set_text_match(pa, text, coll, negate);
					free(text);
				}
			}
		}
	}
	return 0;
}

static int comp_filter_fill(xmlNode *node, struct ical_comp_filter *cf, struct ical_error *err)
{
	for (xmlNode *c = dav_xml_elem(node->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS_CALDAV, "is-not-defined")) {
			cf->is_not_defined = true;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "time-range")) {
			struct ical_time_range tr;
			if (caldav_time_range_of(c, &tr, err) < 0)
				return -1;
			ical_comp_filter_set_time_range(cf, &tr);
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "prop-filter")) {
			xmlChar *name = name_attr(c);
			if (name == NULL)
				return bad_filter(err, "prop-filter without a name");
			struct ical_prop_filter *pf = ical_comp_filter_add_prop(cf, (const char *)name);
			xmlFree(name);
			if (prop_filter_fill(c, pf, err) < 0)
				return -1;
		} else if (dav_xml_is(c, DAV_NS_CALDAV, "comp-filter")) {
			xmlChar *name = name_attr(c);
			if (name == NULL)
				return bad_filter(err, "comp-filter without a name");
			struct ical_comp_filter *sub = ical_comp_filter_add_comp(cf, (const char *)name);
			xmlFree(name);
			if (comp_filter_fill(c, sub, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* Build the filter tree of a CALDAV:filter element. */
int caldav_filter_of(xmlNode *filter, struct ical_comp_filter **root_r, struct ical_error *err)
{
	*root_r = NULL;
	xmlNode *top = filter != NULL ? dav_xml_child(filter, DAV_NS_CALDAV, "comp-filter") : NULL;
	if (top == NULL)
		return bad_filter(err, "calendar-query needs a filter with one comp-filter");
	xmlChar *name = name_attr(top);
	if (name == NULL)
		return bad_filter(err, "comp-filter without a name");
	struct ical_comp_filter *root = ical_comp_filter_new((const char *)name);
	xmlFree(name);
	if (comp_filter_fill(top, root, err) < 0 || ical_filter_check(root, err) < 0) {
		if (err->precond == ICAL_PRECOND_NONE)
			err->precond = ICAL_VALID_FILTER;
		ical_comp_filter_free(&root);
		return -1;
	}
	*root_r = root;
	return 0;
}

