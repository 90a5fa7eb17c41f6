/* WebDAV (RFC 4918) core for the HTTP gateway: one call, dav_handle(), runs
 * a whole request on a worker thread, inside one store transaction, and
 * fills a response. Resources:
 *
 *   /dav/                                   root (current-user-principal)
 *   /dav/principals/<user>/                 principal
 *   /dav/<home>/<user>/                     a home: "calendars", "addressbooks", "files"
 *   /dav/<home>/<user>/<collection>/        a collection of the home's kind
 *   /dav/<home>/<user>/<collection>/<name>  an object (resource)
 *
 * Per-kind interface. Every collection has a kind (dav_collections.kind);
 * each kind is a struct dav_kind registered in dav-kinds.c (one line:
 * `&caldav_kind,`). The core does everything generic: path resolution,
 * rights, PROPFIND/PROPPATCH with dead properties, GET/HEAD/PUT/DELETE,
 * COPY/MOVE, MKCOL, sync-collection, quota, ETags and preconditions. A kind
 * adds:
 *   - validate(): check a PUT body (or a COPY/MOVE source) and compute the
 *     indexed fields (UID, component, time bounds, summary) stored with it;
 *     failure is an HTTP status with a named precondition (dav_put.err_*).
 *   - prop(): its live properties on its home, collections and objects
 *     (calendar-data, supported-calendar-component-set, ...), listed in
 *     props[] for allprop/propname.
 *   - set_prop(): PROPPATCH/MKCOL of its own properties (protected ones
 *     refused, values checked); anything it does not claim is a dead property.
 *   - report(): its REPORTs (calendar-query, multiget, free-busy...); the
 *     core answers sync-collection and expand-property itself.
 *   - principal_prop(): principal properties of its own (calendar-user-
 *     address-set...), and home_set naming its home on the principal.
 * Kind code builds responses with the dav_ms_* helpers below and never
 * speaks SQL except through store-dav.h. */
#ifndef CAIRN_DAV_H
#define CAIRN_DAV_H

#include "dav-xml.h"
#include "store-dav.h"
#include "util.h"

struct config;
struct store;

struct dav_request {
	const char *method;
	const char *path;	/* as sent (percent-encoded), starts with "/dav" */
	const char *user;	/* the authenticated principal, lower-case address */
	const char *depth;	/* headers, NULL when absent */
	const char *destination;
	const char *overwrite;
	const char *if_match;
	const char *if_none_match;
	const char *content_type;
	const char *prefer;
	const char *brief;
	const char *accept;
	const char *if_schedule_tag_match;	/* RFC 6638 8.3 */
	const char *schedule_reply;		/* RFC 6638 8.1: "F" sends no reply */
	const char *body;
	size_t body_len;
	bool head;		/* HEAD: answer like GET, the session drops the body */
};

struct dav_response {
	int status;
	struct buf headers;	/* extra header lines, each CRLF-terminated */
	struct buf body;
	char content_type[128];	/* "" when there is no body */
};

struct dav_ctx;

/* What a kind's validate() returns about a body about to be stored. */
struct dav_put {
	struct store_dav_index idx;	/* strings owned by the kind (freed by put_free) */
	const char *content_type;	/* to store; NULL: the request's */
	void *priv;			/* the kind's own state, freed by put_free */
	/* on failure: the precondition element and its namespace, a text, and
	 * an href to put inside it (no-uid-conflict) or "" */
	const char *err_ns;
	const char *err_name;
	char err_text[256];
	char err_href[512];
};

/* A property a kind answers (for allprop and propname). allprop: also
 * listed by allprop (expensive or large ones are not). */
struct dav_propdef {
	const char *ns;
	const char *name;
	bool allprop;
};

enum dav_level { DAV_LEVEL_HOME, DAV_LEVEL_COLL, DAV_LEVEL_OBJ };

struct dav_kind {
	const char *name;		/* dav_collections.kind */
	const char *home;		/* URL segment of its home */
	const char *ns;			/* namespace of its resourcetype element */
	const char *type;		/* its resourcetype element, NULL: plain collection */
	const char *home_set;		/* principal property in ns naming the home, or NULL */
	const char *mkcol_method;	/* e.g. "MKCALENDAR", or NULL */
	const char *dav_class;		/* for the DAV: header of OPTIONS, or NULL */
	const char *content_type;	/* default media type of objects */
	const char *reports;		/* <D:supported-report> elements it adds */
	const struct dav_propdef *props;	/* NULL-terminated by name */
	/* PUT (or COPY/MOVE into coll): 0 with *put filled, or an HTTP status
	 * (403, 409, 415, 507...) with the err_* fields set. */
	int (*validate)(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
			const char *data, size_t len, const char *content_type, struct dav_put *put);
	void (*put_free)(struct dav_put *put);
	/* A live property at a level (coll NULL at DAV_LEVEL_HOME, obj NULL
	 * unless DAV_LEVEL_OBJ): 200 with the whole element appended to out,
	 * 404 when the kind has no such property there, or another status for
	 * the propstat (an error element may be appended for 403). */
	int (*prop)(struct dav_ctx *ctx, enum dav_level level, const struct store_dav_coll *coll,
		    const struct store_dav_obj *obj, const struct dav_propname *p, struct buf *out);
	/* PROPPATCH/MKCOL set or remove of a property on a collection: 0 not
	 * the kind's (a dead property), 200 handled (stored as a dead property
	 * by the core unless handled fully), 403 protected, 409 bad value. */
	int (*set_prop)(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			const struct dav_propop *op, bool creating);
	/* A REPORT on the request's resource: 0 when answered (response
	 * filled), 1 when it is not one of the kind's reports. */
	int (*report)(struct dav_ctx *ctx, xmlNode *root);
	/* The whole collection as one document (a calendar's .ics feed and
	 * export): 0 with out and content type filled, -1 with *error_r.
	 * NULL: the kind has no such form. */
	int (*export)(struct store *st, const struct config *cfg, const struct store_dav_coll *coll,
		      struct buf *out, const char **ctype_r, const char **error_r);
	/* A principal property of the kind: 200 appended, 404 not the kind's. */
	int (*principal_prop)(struct dav_ctx *ctx, const char *principal,
			      const struct dav_propname *p, struct buf *out);
	/* Optional hooks (CardDAV, the global address list): */
	/* read-only: its collections and objects refuse every write (403
	 * DAV:need-privileges), and it is never picked by MKCOL. */
	bool readonly;
	/* A collection of this kind stands for another one: replace coll's id
	 * and synctoken with the collection actually read (owner, home and name
	 * stay, so hrefs stay in the user's namespace). 0, or -1 (500). */
	int (*resolve)(struct dav_ctx *ctx, struct store_dav_coll *coll);
	/* Create the user's default collections in this kind's home; called
	 * when the home is asked for, or a collection of it is missing. A
	 * store_result. */
	int (*provision)(struct dav_ctx *ctx, const char *user);
	/* GET of an object: fill body and content_type (size bytes) with another
	 * representation (content negotiation on the request's Accept), 1;
	 * or 0 to send the stored bytes. */
	int (*get_body)(struct dav_ctx *ctx, const struct store_dav_obj *obj, struct buf *body,
			char *content_type, size_t size);
};

/* The registered kinds (dav-kinds.c), NULL-terminated. */
extern const struct dav_kind *const dav_kinds[];
/* The kind named name (dav_collections.kind), or NULL. */
const struct dav_kind *dav_kind_by_name(const char *name);

/* Run one DAV request as user (st is the worker's store). resp is
 * initialised here; free it with dav_response_free. */
void dav_handle(struct store *st, const struct config *cfg, const struct dav_request *req,
		struct dav_response *resp);
void dav_response_free(struct dav_response *resp);
/* Serve a read-only feed (GET /feeds/<token>, no authentication): the
 * token's SHA-256 is looked up, its use recorded, and the collection
 * exported by its kind. resp is initialised here. */
void dav_feed(struct store *st, const struct config *cfg, const char *token,
	      struct dav_response *resp);
/* A new feed token for a collection: 64 hex digits into token_r (65 bytes)
 * and the SHA-256 to store (hex) into hash_r (65 bytes). -1 if the system
 * has no randomness. */
int dav_feed_token(char *token_r, char *hash_r);
/* The HTTP methods of the DAV resources, for Allow and OPTIONS. */
extern const char dav_allow_methods[];
/* The DAV: header of OPTIONS. */
void dav_options_header(struct buf *out);

/* ---- for kinds ---- */

/* The request, its store, config and target. */
const struct dav_request *dav_ctx_request(const struct dav_ctx *ctx);
struct store *dav_ctx_store(const struct dav_ctx *ctx);
const struct config *dav_ctx_config(const struct dav_ctx *ctx);
/* The collection the request addresses (or that holds its object), NULL
 * at the home. */
const struct store_dav_coll *dav_ctx_coll(const struct dav_ctx *ctx);
/* The object name the request addresses, NULL when it is not an object. */
const char *dav_ctx_object(const struct dav_ctx *ctx);
/* The parsed request body, NULL without one. */
xmlDocPtr dav_ctx_doc(const struct dav_ctx *ctx);
/* Record why the request failed for the log (first call wins). */
void dav_ctx_note(struct dav_ctx *ctx, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* Append the percent-encoded href of a collection (name NULL) or object. */
void dav_href(struct buf *out, const struct store_dav_coll *coll, const char *name);
/* Resolve an href from a request body (absolute URL or path) to a
 * collection of the user's and an object name: 0, or 404/403/400. */
int dav_resolve_href(struct dav_ctx *ctx, const char *href, struct store_dav_coll *coll_r,
		     char name_r[STORE_DAV_NAME_MAX + 1]);

/* Answer status with a DAV:error body holding <ns:name> (RFC 4918 16);
 * inner (may be NULL) goes inside that element, already XML. */
void dav_error(struct dav_ctx *ctx, int status, const char *ns, const char *name,
	       const char *inner);
/* Start a 207 multistatus body / close it. */
void dav_ms_begin(struct dav_ctx *ctx);
void dav_ms_end(struct dav_ctx *ctx);
/* One <D:response> for an object of coll with the properties of pf (the
 * kind's prop() included): what multiget and query reports return. */
void dav_ms_object(struct dav_ctx *ctx, const struct store_dav_coll *coll,
		   const struct store_dav_obj *obj, const struct dav_propfind *pf);
/* One <D:response> with just a status for href (a missing multiget member). */
void dav_ms_status(struct dav_ctx *ctx, const char *href, int status);
/* The response being built (a kind answering a REPORT with another body). */
struct dav_response *dav_ctx_response(struct dav_ctx *ctx);
/* The body buffer being written (for kinds adding their own elements). */
struct buf *dav_ctx_body(struct dav_ctx *ctx);
/* The extra response header lines (each CRLF-terminated). */
struct buf *dav_ctx_headers(struct dav_ctx *ctx);
/* Answer status with a short text/plain body. */
void dav_text(struct dav_ctx *ctx, int status, const char *text);
/* "HTTP/1.1 200 OK" style status line text for a code. */
const char *dav_status_line(int status);

#endif
