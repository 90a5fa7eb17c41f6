/* cairn-admin.cgi internals shared by its page files: one request (what
 * came in, who is asking, what goes out), the route table entry every page
 * file exports, and the helpers pages use (render a template, read a form
 * field, check scope, write the audit log). The core (cairn-admin.c) owns
 * the request cycle: parse, authenticate, check CSRF and origin, dispatch. */
#ifndef CAIRN_WA_H
#define CAIRN_WA_H

#include "util.h"
#include "wa-form.h"
#include "wa-tpl.h"
#include "store-webadmin.h"

struct config;
struct store;
struct dir_handle;

enum wa_role {
	WA_ANON = 0,		/* not logged in: the login page only */
	WA_USER = 1,		/* self-service */
	WA_DOMAIN_ADMIN = 2,	/* users, aliases and groups of some domains */
	WA_ADMIN = 3,		/* everything */
};

struct wa_req {
	const struct config *cfg;
	struct store *st;
	struct dir_handle *dir;
	const char *dir_backend;	/* "sql" or "ldap" */

	/* What came in. */
	const char *method;	/* GET, HEAD or POST */
	char *path;		/* PATH_INFO, "/" when empty */
	char *base;		/* prefix for links: SCRIPT_NAME, or "" when rewritten */
	char *client_ip;
	bool secure;		/* HTTPS */
	struct wa_params query, form, cookies;

	/* Who asks. */
	enum wa_role role;
	struct store_wa_session sess;
	char sid_hash[65];
	char **domains;		/* a domain admin's domains */
	size_t ndomains;

	/* What goes out. */
	int status;
	struct buf headers;	/* extra header lines, CRLF-terminated */
	struct buf body;
	struct tpl_vars *vars;	/* the page's template variables */
	bool done;		/* a response (redirect, error) is set */
};

/* One page: path (exact match on PATH_INFO), method, the least role, the
 * handler (returns 0; sets r's response through the helpers), and a menu
 * title (NULL: not in the menu). */
struct wa_route {
	const char *path;
	const char *method;
	enum wa_role role;
	int (*run)(struct wa_req *r);
	const char *menu;
};

/* Route tables of the page files, each ended by an entry with path NULL.
 * A new page area adds a file with a table and one line in cairn-admin.c. */
extern const struct wa_route wa_routes_dir[];
extern const struct wa_route wa_routes_mail[];
extern const struct wa_route wa_routes_self[];
extern const struct wa_route wa_routes_dash[];
extern const struct wa_route wa_routes_res[];

/* Render template name (templates/name.html) with r->vars as the page. */
int wa_render(struct wa_req *r, const char *name);
/* A 303 redirect to base + path (path starts with '/'). */
int wa_redirect(struct wa_req *r, const char *path);
/* An error page with status (403, 404, ...) and a message. */
int wa_error(struct wa_req *r, int status, const char *message);
/* The form field (POST) or query parameter (GET), "" when absent. */
const char *wa_form(const struct wa_req *r, const char *name);
const char *wa_query(const struct wa_req *r, const char *name);
/* Set a notice or an error for the page being rendered. */
void wa_notice(struct wa_req *r, const char *fmt, ...) ATTR_PRINTF(2, 3);
void wa_fail(struct wa_req *r, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Whether r may manage things of domain (admin: all; domain admin: his). */
bool wa_domain_allowed(const struct wa_req *r, const char *domain);
/* The same for the domain of an address ("@domain" catch-alls too). */
bool wa_address_allowed(const struct wa_req *r, const char *address);
/* Whether address is the admin group ([webadmin] admin_group: that
 * address, or that local part in any domain): only administrators may
 * create or change such a group or alias, or a domain administrator could
 * make himself an administrator. */
bool wa_is_admin_group(const struct wa_req *r, const char *address);
/* For a domain administrator: whether the account address is out of his
 * reach though in his domain (an administrator, or a domain administrator
 * of any domain): changing its password would be an escalation. Always
 * false for administrators. */
bool wa_account_protected(struct wa_req *r, const char *address);
/* The scope for store_wa_list: "" for an admin, else the user's address. */
const char *wa_scope(const struct wa_req *r);
/* Record a change in the audit log (failures are logged, not fatal). */
void wa_audit(struct wa_req *r, const char *action, const char *target, const char *fmt, ...)
	ATTR_PRINTF(4, 5);
/* Fill the paging variables (q, sort, desc, page, prev/next) for a list
 * and the store_wa_page to fetch one more row than shown. */
void wa_page_setup(struct wa_req *r, struct store_wa_page *page);
/* After fetching: rows is how many came back; sets has_next/has_prev. */
void wa_page_done(struct wa_req *r, const struct store_wa_page *page, size_t rows);
/* Strict syntax checks for what forms carry. */
bool wa_valid_address(const char *s);
bool wa_valid_domain(const char *s);
/* A store error as a page message. */
void wa_store_fail(struct wa_req *r, int ret, const char *error);
/* Bytes as "12.3 MiB". */
void wa_format_bytes(uint64_t n, char *out, size_t size);
/* Fill out (at least 2*n+1) with n random bytes in hex; 0 or -1. */
int wa_random_hex(char *out, size_t n);

/* TOTP (wa-totp.c). A new 160-bit secret in base32 (32 characters). */
int wa_totp_new_secret(char b32[33]);
/* Whether code (6 digits) is valid now for the base32 secret, one step of
 * drift allowed; *step_r is the code's time step (for replay checks). */
int wa_totp_check(const char *b32, const char *code, uint64_t *step_r);
/* text (an otpauth:// URI) as an SVG QR code, appended to out. */
void wa_totp_qr_svg(const char *text, struct buf *out);

#endif
