/* Hardened libxml2 parsing of DAV request bodies and the PROPFIND/PROPPATCH
 * grammars; escaping and dead-property serialisation for responses. A DTD
 * is refused outright: its internalSubset SAX callback stops the parser, so
 * no entity is ever declared (XXE, billion laughs) and nothing is loaded. */
#include "autoconf.h"
#include "dav-xml.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct parse_state {
	bool dtd;
};

/* Allocation failure is fatal, as with xmalloc. */
static void out_of_memory(void)
{
	fputs("dav-xml: out of memory\n", stderr);
	abort();
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

static void refuse_dtd(void *ctx, const xmlChar *name, const xmlChar *external_id,
		       const xmlChar *system_id)
{
	(void)name;
	(void)external_id;
	(void)system_id;
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *ps = ctxt->_private;
	ps->dtd = true;
	xmlStopParser(ctxt);
}

static void refuse_entity(void *ctx, const xmlChar *name, int type, const xmlChar *public_id,
			  const xmlChar *system_id, xmlChar *content)
{
	(void)name;
	(void)type;
	(void)public_id;
	(void)system_id;
	(void)content;
	xmlParserCtxtPtr ctxt = ctx;
	struct parse_state *ps = ctxt->_private;
	ps->dtd = true;
	xmlStopParser(ctxt);
}

/* Depth and node count of the tree; false past a limit. */
static bool within_limits(const xmlNode *node, unsigned depth, const struct dav_xml_limits *lim,
			  unsigned *nodes)
{
	for (; node != NULL; node = node->next) {
		if (++*nodes > lim->max_nodes)
			return false;
		if (node->type == XML_ENTITY_REF_NODE || node->type == XML_ENTITY_DECL ||
		    node->type == XML_DTD_NODE)
			return false;
		if (node->type == XML_ELEMENT_NODE) {
			if (depth + 1 > lim->max_depth)
				return false;
			if (!within_limits(node->children, depth + 1, lim, nodes))
				return false;
		}
	}
	return true;
}

int dav_xml_parse(const char *body, size_t len, const struct dav_xml_limits *limits,
		  xmlDocPtr *doc_r, const char **error_r)
{
	*doc_r = NULL;
	if (len > limits->max_bytes || len > INT32_MAX) {
		*error_r = "XML body too large";
		return 413;
	}
	pthread_once(&xml_once, xml_init);
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		out_of_memory();
	struct parse_state ps = { false };
	ctxt->_private = &ps;
	ctxt->sax->internalSubset = refuse_dtd;
	ctxt->sax->externalSubset = refuse_dtd;
	ctxt->sax->entityDecl = refuse_entity;
	xmlDocPtr doc = xmlCtxtReadMemory(ctxt, body, (int)len, NULL, NULL,
					  XML_PARSE_NONET | XML_PARSE_NOERROR |
					  XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	/* namespace-well-formed too (RFC 4918 17): no undeclared prefix, no
	 * prefix bound to the empty name (xmlns:p="") */
	bool well_formed = ctxt->wellFormed != 0 && ctxt->nsWellFormed != 0;
	xmlFreeParserCtxt(ctxt);
	if (ps.dtd) {
		xmlFreeDoc(doc);
		*error_r = "document type declarations are not allowed";
		return 400;
	}
	if (doc == NULL || !well_formed || xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		*error_r = "malformed XML";
		return 400;
	}
	unsigned nodes = 0;
	if (doc->intSubset != NULL || doc->extSubset != NULL ||
	    !within_limits(xmlDocGetRootElement(doc), 0, limits, &nodes)) {
		xmlFreeDoc(doc);
		*error_r = "XML too deep, too large or with entities";
		return 400;
	}
	*doc_r = doc;
	return 0;
}

const char *dav_xml_ns(const xmlNode *node)
{
	return node->ns != NULL && node->ns->href != NULL ? (const char *)node->ns->href : "";
}

bool dav_xml_is(const xmlNode *node, const char *ns, const char *name)
{
	return node != NULL && node->type == XML_ELEMENT_NODE &&
	       strcmp((const char *)node->name, name) == 0 && strcmp(dav_xml_ns(node), ns) == 0;
}

xmlNode *dav_xml_elem(xmlNode *node)
{
	while (node != NULL && node->type != XML_ELEMENT_NODE)
		node = node->next;
	return node;
}

xmlNode *dav_xml_child(const xmlNode *node, const char *ns, const char *name)
{
	if (node == NULL)
		return NULL;
	for (xmlNode *c = node->children; c != NULL; c = c->next) {
		if (dav_xml_is(c, ns, name))
			return c;
	}
	return NULL;
}

char *dav_xml_text(const xmlNode *node)
{
	xmlChar *t = xmlNodeGetContent(node);
	if (t == NULL)
		return (char *)xmlStrdup((const xmlChar *)"");
	char *s = (char *)t;
	size_t n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]) != NULL)
		s[--n] = '\0';
	size_t skip = strspn(s, " \t\r\n");
	memmove(s, s + skip, n - skip + 1);
	return s;
}

void dav_xml_escape_n(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		const char *rep = NULL;
		switch (s[i]) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\r': rep = "&#13;"; break;
		default: break;
		}
		if (rep != NULL) {
			buf_append(out, s + start, i - start);
			buf_append_str(out, rep);
			start = i + 1;
		}
	}
	buf_append(out, s + start, len - start);
}

void dav_xml_escape(struct buf *out, const char *s)
{
	dav_xml_escape_n(out, s, strlen(s));
}

void dav_xml_serialize(const xmlNode *node, struct buf *out)
{
	xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
	xmlNodePtr copy = xmlDocCopyNode((xmlNodePtr)node, doc, 1);
	if (doc == NULL || copy == NULL)
		out_of_memory();
	xmlDocSetRootElement(doc, copy);
	xmlReconciliateNs(doc, copy);
	xmlBufferPtr xb = xmlBufferCreate();
	xmlNodeDump(xb, doc, copy, 0, 0);
	buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb));
	xmlBufferFree(xb);
	xmlFreeDoc(doc);
}

void dav_xml_empty_elem(struct buf *out, const char *ns, const char *name)
{
	if (strcmp(ns, DAV_NS) == 0) {
		buf_printf(out, "<D:%s/>", name);
	} else if (ns[0] == '\0') {
		buf_printf(out, "<%s xmlns=\"\"/>", name);
	} else {
		buf_printf(out, "<X:%s xmlns:X=\"", name);
		dav_xml_escape(out, ns);
		buf_append_str(out, "\"/>");
	}
}

static void props_add(struct dav_propfind *pf, xmlNode *node)
{
	pf->props = xrealloc(pf->props, (pf->count + 1) * sizeof(*pf->props));
	pf->props[pf->count].ns = dav_xml_ns(node);
	pf->props[pf->count].name = (const char *)node->name;
	pf->props[pf->count].node = node;
	pf->count++;
}

int dav_prop_list_parse(xmlNode *parent, struct dav_propfind *pf_r, const char **error_r)
{
	memset(pf_r, 0, sizeof(*pf_r));
	pf_r->mode = DAV_PROPFIND_ALLPROP;
	for (xmlNode *c = dav_xml_elem(parent->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS, "propname")) {
			pf_r->mode = DAV_PROPFIND_PROPNAME;
		} else if (dav_xml_is(c, DAV_NS, "prop")) {
			pf_r->mode = DAV_PROPFIND_PROP;
			for (xmlNode *p = dav_xml_elem(c->children); p != NULL;
			     p = dav_xml_elem(p->next))
				props_add(pf_r, p);
		} else if (dav_xml_is(c, DAV_NS, "include")) {
			for (xmlNode *p = dav_xml_elem(c->children); p != NULL;
			     p = dav_xml_elem(p->next))
				props_add(pf_r, p);
		}
	}
	(void)error_r;
	return 0;
}

int dav_propfind_parse(xmlDocPtr doc, struct dav_propfind *pf_r, const char **error_r)
{
	memset(pf_r, 0, sizeof(*pf_r));
	if (doc == NULL)
		return 0;
	xmlNode *root = xmlDocGetRootElement(doc);
	if (!dav_xml_is(root, DAV_NS, "propfind")) {
		*error_r = "the body is not a DAV:propfind";
		return 400;
	}
	unsigned kinds = 0;
	for (xmlNode *c = dav_xml_elem(root->children); c != NULL; c = dav_xml_elem(c->next)) {
		if (dav_xml_is(c, DAV_NS, "prop") || dav_xml_is(c, DAV_NS, "propname") ||
		    dav_xml_is(c, DAV_NS, "allprop"))
			kinds++;
	}
	if (kinds != 1) {
		*error_r = "DAV:propfind needs exactly one of prop, propname, allprop";
		return 400;
	}
	return dav_prop_list_parse(root, pf_r, error_r);
}

void dav_propfind_free(struct dav_propfind *pf)
{
	free(pf->props);
	pf->props = NULL;
	pf->count = 0;
}

int dav_proppatch_parse(xmlDocPtr doc, const char *root_ns, const char *root_name,
			struct dav_proppatch *pp_r, const char **error_r)
{
	memset(pp_r, 0, sizeof(*pp_r));
	xmlNode *root = xmlDocGetRootElement(doc);
	if (root_ns == NULL) {
		root_ns = DAV_NS;
		root_name = "propertyupdate";
	}
	if (!dav_xml_is(root, root_ns, root_name)) {
		*error_r = "unexpected root element";
		return 400;
	}
	for (xmlNode *c = dav_xml_elem(root->children); c != NULL; c = dav_xml_elem(c->next)) {
		bool remove = dav_xml_is(c, DAV_NS, "remove");
		if (!remove && !dav_xml_is(c, DAV_NS, "set"))
			continue;
		for (xmlNode *p = dav_xml_elem(c->children); p != NULL; p = dav_xml_elem(p->next)) {
			if (!dav_xml_is(p, DAV_NS, "prop"))
				continue;
			for (xmlNode *q = dav_xml_elem(p->children); q != NULL;
			     q = dav_xml_elem(q->next)) {
				pp_r->ops = xrealloc(pp_r->ops, (pp_r->count + 1) * sizeof(*pp_r->ops));
				pp_r->ops[pp_r->count] = (struct dav_propop){
					remove, dav_xml_ns(q), (const char *)q->name, q };
				pp_r->count++;
			}
		}
	}
	if (pp_r->count == 0 && root_name != NULL && strcmp(root_name, "propertyupdate") == 0) {
		*error_r = "DAV:propertyupdate without any property";
		return 400;
	}
	return 0;
}

void dav_proppatch_free(struct dav_proppatch *pp)
{
	free(pp->ops);
	pp->ops = NULL;
	pp->count = 0;
}
