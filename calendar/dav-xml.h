/* XML for WebDAV request bodies and responses, over libxml2, hardened: no
 * DTD at all (a document type declaration or entity declaration stops the
 * parse), no entity substitution, no network (XML_PARSE_NONET), a size limit
 * before parsing and depth and node-count limits during and after it. Also
 * the small request grammars built on it (PROPFIND, PROPPATCH bodies) and
 * the escaping used when writing multistatus responses. Pure: no store. */
#ifndef CAIRN_DAV_XML_H
#define CAIRN_DAV_XML_H

#include "util.h"

#include <libxml/tree.h>

#define DAV_NS "DAV:"
#define DAV_NS_CALDAV "urn:ietf:params:xml:ns:caldav"
#define DAV_NS_CARDDAV "urn:ietf:params:xml:ns:carddav"
#define DAV_NS_CS "http://calendarserver.org/ns/"
#define DAV_NS_APPLE "http://apple.com/ns/ical/"

struct dav_xml_limits {
	size_t max_bytes;	/* body size (413 past it) */
	unsigned max_depth;	/* element nesting */
	unsigned max_nodes;	/* elements + text nodes */
};

/* Parse an XML request body. Returns 0 with *doc_r (free with xmlFreeDoc),
 * or an HTTP status (400 malformed or forbidden construct, 413 too large)
 * with *error_r a static reason. */
int dav_xml_parse(const char *body, size_t len, const struct dav_xml_limits *limits,
		  xmlDocPtr *doc_r, const char **error_r);

/* node is an element named name in namespace ns. */
bool dav_xml_is(const xmlNode *node, const char *ns, const char *name);
/* The first child element of node named ns:name, or NULL. */
xmlNode *dav_xml_child(const xmlNode *node, const char *ns, const char *name);
/* Next element sibling from node (node included), or NULL. */
xmlNode *dav_xml_elem(xmlNode *node);
/* The namespace URI of an element ("" when none). */
const char *dav_xml_ns(const xmlNode *node);
/* The text content of node, trimmed, malloc'ed (free with xmlFree). */
char *dav_xml_text(const xmlNode *node);

/* Append s with &, <, >, " escaped (for text and attribute values). */
void dav_xml_escape(struct buf *out, const char *s);
void dav_xml_escape_n(struct buf *out, const char *s, size_t len);
/* Serialise element node with every namespace it uses declared on it, the
 * form a dead property is stored in and returned byte for byte. */
void dav_xml_serialize(const xmlNode *node, struct buf *out);
/* Append an empty element for a property named by ns and name, declaring
 * its namespace with a prefix of its own when it is not DAV:. */
void dav_xml_empty_elem(struct buf *out, const char *ns, const char *name);

/* A PROPFIND body (RFC 4918 14.20): allprop (with include), propname, or
 * prop with the names asked for. An empty body is allprop. */
enum dav_propfind_mode { DAV_PROPFIND_ALLPROP, DAV_PROPFIND_PROPNAME, DAV_PROPFIND_PROP };
struct dav_propname {
	const char *ns;		/* "" when none; points into the document */
	const char *name;
	xmlNode *node;		/* the request element (calendar-data may carry children) */
};
struct dav_propfind {
	enum dav_propfind_mode mode;
	struct dav_propname *props;	/* prop: asked for; allprop: include */
	size_t count;
};
/* Read a PROPFIND body from doc (NULL: empty body). 0, or 400 with *error_r. */
int dav_propfind_parse(xmlDocPtr doc, struct dav_propfind *pf_r, const char **error_r);
/* Read the DAV:prop child of node (a REPORT or MKCOL element) as a prop list;
 * allprop/propname children are honoured too. None: allprop. */
int dav_prop_list_parse(xmlNode *parent, struct dav_propfind *pf_r, const char **error_r);
void dav_propfind_free(struct dav_propfind *pf);

/* One instruction of a PROPPATCH (RFC 4918 14.19), in document order. */
struct dav_propop {
	bool remove;
	const char *ns;
	const char *name;
	xmlNode *node;		/* the property element (its value for set) */
};
struct dav_proppatch {
	struct dav_propop *ops;
	size_t count;
};
/* Read a PROPPATCH body (propertyupdate) or, with root_ns/root_name, an
 * extended MKCOL / MKCALENDAR body's set instructions. 0 or 400. */
int dav_proppatch_parse(xmlDocPtr doc, const char *root_ns, const char *root_name,
			struct dav_proppatch *pp_r, const char **error_r);
void dav_proppatch_free(struct dav_proppatch *pp);

#endif
