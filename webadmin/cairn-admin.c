/* cairn-admin.cgi: the web admin. One request at a time, as a CGI program
 * (environment and stdin, RFC 3875) or, when started by a FastCGI server,
 * as a FastCGI responder (libfcgi) with the same code. The cycle: read and
 * bound the request, find the session (PostgreSQL, cookie holds a 128-bit
 * random id, the table only its SHA-256), work out the role, refuse a state
 * change without the session's CSRF token or from another origin, run the
 * page from the route tables, and send it with strict security headers. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "directory.h"
#include "log.h"
#include "password.h"
#include "store.h"
#include "store-quota.h"

#include <errno.h>
#include <fcgiapp.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WA_MAX_QUERY 8192
#define WA_MAX_FIELDS 64
#define WA_MAX_COOKIE 8192
#define WA_MAX_PAGE (4 * 1024 * 1024)
#define WA_SID_BYTES 16		/* 128 bits */

static const struct wa_route *const route_tables[] = {
	wa_routes_dash, wa_routes_dir, wa_routes_mail, wa_routes_self, wa_routes_res, NULL,
};

/* How a request reaches us: CGI (env + stdio) or FastCGI (libfcgi). */
struct wa_io {
	FCGX_Stream *in, *out;	/* NULL for CGI */
	FCGX_ParamArray envp;
};

static const char *io_env(const struct wa_io *io, const char *name)
{
	const char *v = io->out != NULL ? FCGX_GetParam(name, io->envp) : getenv(name);
	return v != NULL ? v : "";
}

static size_t io_read(const struct wa_io *io, char *buf, size_t n)
{
	if (io->in != NULL) {
		int got = FCGX_GetStr(buf, (int)n, io->in);
		return got > 0 ? (size_t)got : 0;
	}
	size_t total = 0;
	while (total < n) {
		ssize_t got = read(STDIN_FILENO, buf + total, n - total);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		total += (size_t)got;
	}
	return total;
}

static void io_write(const struct wa_io *io, const char *data, size_t n)
{
	if (io->out != NULL) {
		FCGX_PutStr(data, (int)n, io->out);
		return;
	}
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, data, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		data += w;
		n -= (size_t)w;
	}
}

/* Helpers for pages. */

int wa_random_hex(char *out, size_t n)
{
	unsigned char raw[64];
	static const char hex[] = "0123456789abcdef";
	if (n > sizeof(raw) || RAND_bytes(raw, (int)n) != 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * n] = '\0';
	return 0;
}

static void sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	static const char hex[] = "0123456789abcdef";
	EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

static bool const_eq(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char d = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

const char *wa_form(const struct wa_req *r, const char *name)
{
	const char *v = wa_param_get(&r->form, name);
	return v != NULL ? v : "";
}

const char *wa_query(const struct wa_req *r, const char *name)
{
	const char *v = wa_param_get(&r->query, name);
	return v != NULL ? v : "";
}

void wa_notice(struct wa_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	tpl_set(r->vars, "notice", s);
	free(s);
}

void wa_fail(struct wa_req *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	tpl_set(r->vars, "error", s);
	free(s);
	if (r->status == 200)
		r->status = 400;
}

void wa_store_fail(struct wa_req *r, int ret, const char *error)
{
	if (ret == STORE_TEMPFAIL) {
		r->status = 503;
		wa_fail(r, "The database is unavailable; try again later.");
	} else {
		wa_fail(r, "%s", error != NULL ? error : store_result_str(ret));
		r->status = ret == STORE_NOTFOUND ? 404 : ret == STORE_EXISTS ? 409 : 400;
	}
}

bool wa_domain_allowed(const struct wa_req *r, const char *domain)
{
	if (r->role == WA_ADMIN)
		return true;
	if (r->role != WA_DOMAIN_ADMIN)
		return false;
	for (size_t i = 0; i < r->ndomains; i++)
		if (str_casecmp(r->domains[i], domain) == 0)
			return true;
	return false;
}

bool wa_address_allowed(const struct wa_req *r, const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL && at[1] != '\0' && wa_domain_allowed(r, at + 1);
}

const char *wa_scope(const struct wa_req *r)
{
	return r->role == WA_ADMIN ? "" : r->sess.address;
}

void wa_audit(struct wa_req *r, const char *action, const char *target, const char *fmt, ...)
{
	char *detail = NULL;
	if (fmt != NULL) {
		va_list ap;
		va_start(ap, fmt);
		detail = xvasprintf(fmt, ap);
		va_end(ap);
	}
	const char *error = NULL;
	const char *actor = r->sess.address[0] != '\0' ? r->sess.address : "-";
	if (store_wa_audit(r->st, actor, r->client_ip, action, target, detail, &error) != STORE_OK)
		log_warn("webadmin audit failed action=%s error=%s", action, error);
	free(detail);
}

bool wa_valid_domain(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len == 0 || len > 253 || s[0] == '.' || s[len - 1] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  (c == '-' && label > 0);
		if (!ok || ++label > 63)
			return false;
	}
	return true;
}

bool wa_valid_address(const char *s)
{
	const char *at = strrchr(s, '@');
	if (at == NULL || at == s || at - s > 64 || !wa_valid_domain(at + 1))
		return false;
	for (const char *c = s; c < at; c++) {
		unsigned char u = (unsigned char)*c;
		if (u <= 0x20 || u >= 0x7f || strchr("\"(),:;<>@[\\]", u) != NULL)
			return false;
	}
	return s[0] != '.' && at[-1] != '.' && strstr(s, "..") == NULL;
}

void wa_format_bytes(uint64_t n, char *out, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, size, "%llu B", (unsigned long long)n);
	else
		snprintf(out, size, "%.1f %s", v, units[u]);
}

void wa_page_setup(struct wa_req *r, struct store_wa_page *page)
{
	const char *q = wa_query(r, "q");
	const char *sort = wa_query(r, "sort");
	bool desc = strcmp(wa_query(r, "dir"), "desc") == 0;
	uint64_t p = 1;
	const char *ps = wa_query(r, "page");
	if (ps[0] != '\0' && (str_to_u64(ps, strlen(ps), 100000, &p) < 0 || p == 0))
		p = 1;
	if (strlen(q) > 200)
		q = "";
	memset(page, 0, sizeof(*page));
	page->query = q;
	page->sort = strcmp(sort, "name") == 0 ? "name" : "address";
	page->desc = desc;
	page->scope = wa_scope(r);
	page->limit = (unsigned)r->cfg->webadmin.page_size + 1;
	page->offset = (unsigned)((p - 1) * r->cfg->webadmin.page_size);
	tpl_set(r->vars, "q", q);
	tpl_set(r->vars, "sort", page->sort);
	tpl_set(r->vars, "dir", desc ? "desc" : "asc");
	/* The direction a click on a column heading gives. */
	tpl_set(r->vars, "flip", desc ? "asc" : "desc");
	tpl_setf(r->vars, "page", "%llu", (unsigned long long)p);
	tpl_setf(r->vars, "prev_page", "%llu", (unsigned long long)(p - 1));
	tpl_setf(r->vars, "next_page", "%llu", (unsigned long long)(p + 1));
}

void wa_page_done(struct wa_req *r, const struct store_wa_page *page, size_t rows)
{
	tpl_set(r->vars, "has_next", rows > r->cfg->webadmin.page_size ? "1" : "");
	tpl_set(r->vars, "has_prev", page->offset > 0 ? "1" : "");
}

/* Templates: files under [webadmin] templates, names [a-z0-9-] only. */
static char *read_template(const char *dir, const char *name, const char *ext, size_t *len_r)
{
	for (const char *c = name; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return NULL;
	char *path = xasprintf("%s/%s%s", dir, name, ext);
	FILE *f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 1024 * 1024);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			fclose(f);
			buf_free(&b);
			return NULL;
		}
	}
	fclose(f);
	*len_r = b.len;
	if (b.data == NULL)
		return xstrdup("");
	return b.data;
}

static char *partial_loader(const char *name, size_t *len_r, void *ctx)
{
	return read_template(ctx, name, ".html", len_r);
}

int wa_render(struct wa_req *r, const char *name)
{
	size_t len;
	const char *dir = r->cfg->webadmin.templates;
	char *text = read_template(dir, name, ".html", &len);
	if (text == NULL) {
		log_err("webadmin template missing name=%s dir=%s", name, dir);
		return wa_error(r, 500, "A page template is missing.");
	}
	struct tpl *t = NULL;
	char *error = NULL;
	int ret = tpl_compile(name, text, len, partial_loader, (void *)dir, &t, &error);
	free(text);
	if (ret < 0) {
		log_err("webadmin template error %s", error);
		free(error);
		return wa_error(r, 500, "A page template is broken.");
	}
	buf_reset(&r->body);
	if (tpl_render(t, r->vars, &r->body) < 0) {
		tpl_free(&t);
		return wa_error(r, 500, "The page is too large.");
	}
	tpl_free(&t);
	r->done = true;
	return 0;
}

int wa_redirect(struct wa_req *r, const char *path)
{
	r->status = 303;
	buf_printf(&r->headers, "Location: %s%s\r\n", r->base, path);
	buf_reset(&r->body);
	r->done = true;
	return 0;
}

/* The bare error page, without templates (they may be what failed). */
int wa_error(struct wa_req *r, int status, const char *message)
{
	r->status = status;
	buf_reset(&r->body);
	buf_append_str(&r->body, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
				 "<title>Error</title></head><body><main><h1>Error</h1><p>");
	tpl_escape_html(&r->body, message, strlen(message));
	buf_printf(&r->body, "</p><p><a href=\"%s/\">Back</a></p></main></body></html>\n",
		   r->base);
	r->done = true;
	return 0;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 303: return "See Other";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static const char *cookie_name(const struct wa_req *r)
{
	/* __Host- binds the cookie to this host, path / and HTTPS only. */
	return r->secure ? "__Host-cairn_sid" : "cairn_sid";
}

static void set_cookie(struct wa_req *r, const char *name, const char *value, long max_age)
{
	buf_printf(&r->headers, "Set-Cookie: %s=%s; Path=/; HttpOnly; SameSite=Strict%s",
		   name, value, r->secure ? "; Secure" : "");
	if (max_age >= 0)
		buf_printf(&r->headers, "; Max-Age=%ld", max_age);
	buf_append_str(&r->headers, "\r\n");
}

/* Login, logout and the pre-login token (a double-submit cookie: the login
 * form has no session to hold a CSRF token). */
static const char *pre_cookie(const struct wa_req *r)
{
	return r->secure ? "__Host-cairn_pre" : "cairn_pre";
}

static int page_login_form(struct wa_req *r)
{
	if (r->role != WA_ANON)
		return wa_redirect(r, "/");
	char tok[33];
	const char *have = wa_param_get(&r->cookies, pre_cookie(r));
	if (have != NULL && strlen(have) == 32 && strspn(have, "0123456789abcdef") == 32) {
		snprintf(tok, sizeof(tok), "%s", have);
	} else {
		if (wa_random_hex(tok, 16) < 0)
			return wa_error(r, 500, "No randomness.");
		set_cookie(r, pre_cookie(r), tok, -1);
	}
	tpl_set(r->vars, "login_token", tok);
	return wa_render(r, "login");
}

static bool is_admin_by_group(const struct wa_req *r, const char *address)
{
	const char *group = r->cfg->webadmin.admin_group;
	if (group == NULL || group[0] == '\0')
		return false;
	char *gaddr;
	if (strchr(group, '@') != NULL)
		gaddr = xstrdup(group);
	else
		gaddr = xasprintf("%s%s", group, strrchr(address, '@'));
	struct dir_route route;
	const char *error = NULL;
	bool member = false;
	if (dir_expand(r->dir, gaddr, &route, &error) == DIR_OK) {
		for (size_t i = 0; i < route.ntargets; i++)
			if (str_casecmp(route.targets[i].address, address) == 0)
				member = true;
		dir_route_free(&route);
	}
	free(gaddr);
	return member;
}

bool wa_is_admin_group(const struct wa_req *r, const char *address)
{
	const char *group = r->cfg->webadmin.admin_group;
	const char *at = strrchr(address, '@');
	if (group == NULL || group[0] == '\0' || at == NULL)
		return false;
	if (strchr(group, '@') != NULL)
		return str_casecmp(group, address) == 0;
	return strlen(group) == (size_t)(at - address) && str_ncasecmp(group, address, strlen(group)) == 0;
}

static void count_domain(const char *domain, void *ctx)
{
	(void)domain;
	(*(size_t *)ctx)++;
}

bool wa_account_protected(struct wa_req *r, const char *address)
{
	if (r->role == WA_ADMIN)
		return false;
	bool admin = false;
	size_t domains = 0;
	const char *error = NULL;
	if (store_quota_is_admin(r->st, address, &admin, &error) != STORE_OK ||
	    store_wa_admin_domains(r->st, address, count_domain, &domains, &error) != STORE_OK)
		return true;	/* when in doubt, no */
	return admin || domains > 0 || is_admin_by_group(r, address);
}

static int page_login(struct wa_req *r)
{
	const char *tok = wa_param_get(&r->cookies, pre_cookie(r));
	if (tok == NULL || !const_eq(tok, wa_form(r, "login_token")))
		return wa_error(r, 403, "The login form expired; reload the page and try again.");
	const char *user = wa_form(r, "user");
	const char *pass = wa_form(r, "password");
	tpl_set(r->vars, "login_token", tok);
	tpl_set(r->vars, "user", user);
	if (strlen(user) > 320 || strlen(pass) > 1024 || user[0] == '\0' || pass[0] == '\0') {
		wa_fail(r, "Enter your address and password.");
		return wa_render(r, "login");
	}
	struct dir_auth auth;
	const char *error = NULL;
	if (dir_authenticate(r->dir, user, pass, r->client_ip[0] != '\0' ? r->client_ip : NULL,
			     &auth, &error) < 0 || auth.status == DIR_AUTH_TEMPFAIL) {
		r->status = 503;
		wa_fail(r, "The directory is unavailable; try again later.");
		r->status = 503;
		return wa_render(r, "login");
	}
	if (auth.status == DIR_AUTH_OK && dir_auth_was_app_password(r->dir)) {
		/* App passwords are for mail and calendar clients, not this. */
		wa_fail(r, "App passwords work in mail and calendar apps only; log in with your password.");
		r->status = 403;
		return wa_render(r, "login");
	}
	if (auth.status != DIR_AUTH_OK) {
		snprintf(r->sess.address, sizeof(r->sess.address), "%s", user);
		wa_audit(r, "login-failed", user, "%s",
			 auth.status == DIR_AUTH_LOCKED ? "locked" : "bad credentials");
		r->sess.address[0] = '\0';
		if (auth.status == DIR_AUTH_LOCKED) {
			wa_fail(r, "Too many failed logins; try again later.");
			r->status = 429;
		} else {
			/* The throttle's delay holds a wrong answer back. */
			if (auth.delay_ms > 0)
				usleep((useconds_t)(auth.delay_ms > 5000 ? 5000000 : auth.delay_ms * 1000));
			wa_fail(r, "Wrong address or password.");
			r->status = 403;
		}
		return wa_render(r, "login");
	}
	/* Two-factor login, when the account has it on: the code goes with
	 * the password, and each code works once. */
	char secret[33];
	bool totp_on = false;
	uint64_t last_step = 0;
	int t = store_wa_totp_get(r->st, auth.address, secret, &totp_on, &last_step, &error);
	if (t != STORE_OK && t != STORE_NOTFOUND) {
		wa_store_fail(r, t, error);
		return wa_render(r, "login");
	}
	if (t == STORE_OK && totp_on) {
		uint64_t step;
		const char *code = wa_form(r, "code");
		if (wa_totp_check(secret, code, &step) < 0 ||
		    store_wa_totp_use(r->st, auth.address, step, &error) != STORE_OK) {
			snprintf(r->sess.address, sizeof(r->sess.address), "%s", auth.address);
			wa_audit(r, "login-failed", auth.address, "%s",
				 code[0] != '\0' ? "wrong or reused code" : "no code");
			r->sess.address[0] = '\0';
			explicit_bzero(secret, sizeof(secret));
			wa_fail(r, "Enter the current code from your authenticator app with your password.");
			r->status = 403;
			return wa_render(r, "login");
		}
	}
	explicit_bzero(secret, sizeof(secret));
	/* A new id at every login (no fixation): whatever cookie came in is
	 * dropped, its session deleted. */
	if (r->sid_hash[0] != '\0')
		store_wa_session_delete(r->st, r->sid_hash, &error);
	char sid[2 * WA_SID_BYTES + 1], csrf[33], hash[65];
	if (wa_random_hex(sid, WA_SID_BYTES) < 0 || wa_random_hex(csrf, 16) < 0)
		return wa_error(r, 500, "No randomness.");
	sha256_hex(sid, hash);
	uint64_t ttl = r->cfg->webadmin.session_idle_ms / 1000;
	int ret = store_wa_session_create(r->st, hash, auth.address, csrf, ttl, r->client_ip, &error);
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return wa_render(r, "login");
	}
	snprintf(r->sess.address, sizeof(r->sess.address), "%s", auth.address);
	wa_audit(r, "login", auth.address, NULL);
	set_cookie(r, cookie_name(r), sid, -1);
	set_cookie(r, pre_cookie(r), "", 0);
	return wa_redirect(r, "/");
}

static int page_logout(struct wa_req *r)
{
	const char *error = NULL;
	store_wa_session_delete(r->st, r->sid_hash, &error);
	wa_audit(r, "logout", r->sess.address, NULL);
	set_cookie(r, cookie_name(r), "", 0);
	return wa_redirect(r, "/login");
}

static const struct wa_route core_routes[] = {
	{ "/login", "GET", WA_ANON, page_login_form, NULL },
	{ "/login", "POST", WA_ANON, page_login, NULL },
	{ "/logout", "POST", WA_USER, page_logout, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};

/* The stylesheet, served by the CGI itself so no web server needs an alias. */
static int serve_static(struct wa_req *r, const char *name, const char *type)
{
	size_t len;
	char *text = read_template(r->cfg->webadmin.templates, name, ".css", &len);
	if (text == NULL)
		return wa_error(r, 404, "No such file.");
	buf_reset(&r->body);
	buf_append(&r->body, text, len);
	free(text);
	buf_printf(&r->headers, "Content-Type: %s\r\nCache-Control: max-age=3600\r\n", type);
	r->done = true;
	return 1;
}

/* Session and role from the cookie. */
static void find_session(struct wa_req *r)
{
	const char *sid = wa_param_get(&r->cookies, cookie_name(r));
	if (sid == NULL || strlen(sid) != 2 * WA_SID_BYTES ||
	    strspn(sid, "0123456789abcdef") != 2 * WA_SID_BYTES)
		return;
	sha256_hex(sid, r->sid_hash);
	const char *error = NULL;
	int ret = store_wa_session_get(r->st, r->sid_hash, r->cfg->webadmin.session_idle_ms / 1000,
				       r->cfg->webadmin.session_max_ms / 1000, &r->sess, &error);
	if (ret != STORE_OK) {
		if (ret == STORE_TEMPFAIL)
			log_warn("webadmin session lookup failed: %s", error);
		r->sid_hash[0] = '\0';
		memset(&r->sess, 0, sizeof(r->sess));
		return;
	}
	r->role = WA_USER;
	if (r->sess.is_admin || is_admin_by_group(r, r->sess.address)) {
		r->role = WA_ADMIN;
		return;
	}
}

static void add_domain(const char *domain, void *ctx)
{
	struct wa_req *r = ctx;
	r->domains = xrealloc(r->domains, (r->ndomains + 1) * sizeof(char *));
	r->domains[r->ndomains++] = xstrdup(domain);
}

/* Origin check for state changes (RFC 6454 Origin; Referer as fallback). */
static bool same_origin(struct wa_req *r, const struct wa_io *io)
{
	char *want;
	if (r->cfg->webadmin.origin != NULL && r->cfg->webadmin.origin[0] != '\0')
		want = xstrdup(r->cfg->webadmin.origin);
	else
		want = xasprintf("%s://%s", r->secure ? "https" : "http", io_env(io, "HTTP_HOST"));
	const char *origin = io_env(io, "HTTP_ORIGIN");
	const char *referer = io_env(io, "HTTP_REFERER");
	bool ok;
	if (origin[0] != '\0') {
		ok = strcmp(origin, want) == 0;
	} else {
		size_t wl = strlen(want);
		ok = referer[0] != '\0' && strncmp(referer, want, wl) == 0 &&
		     (referer[wl] == '/' || referer[wl] == '\0');
	}
	free(want);
	return ok;
}

static const struct wa_route *find_route(const char *path, const char *method, bool *path_known)
{
	*path_known = false;
	for (size_t i = 0; i == 0 || route_tables[i - 1] != NULL; i++) {
		const struct wa_route *t = i == 0 ? core_routes : route_tables[i - 1];
		for (; t->path != NULL; t++) {
			if (strcmp(t->path, path) != 0)
				continue;
			*path_known = true;
			if (strcmp(t->method, method) == 0 ||
			    (strcmp(method, "HEAD") == 0 && strcmp(t->method, "GET") == 0))
				return t;
		}
	}
	return NULL;
}

/* The menu: pages with a title the role may see. */
static void fill_menu(struct wa_req *r)
{
	for (size_t i = 0; route_tables[i] != NULL; i++) {
		for (const struct wa_route *t = route_tables[i]; t->path != NULL; t++) {
			if (t->menu == NULL || strcmp(t->method, "GET") != 0 || t->role > r->role)
				continue;
			/* "/" is the dashboard for administrators only. */
			if (strcmp(t->path, "/") == 0 && r->role != WA_ADMIN)
				continue;
			struct tpl_vars *m = tpl_list_add(r->vars, "menu");
			tpl_setf(m, "href", "%s%s", r->base, t->path);
			tpl_set(m, "title", t->menu);
			if (strcmp(t->path, r->path) == 0)
				tpl_set(m, "current", "page");
		}
	}
}

static bool valid_path(const char *p)
{
	if (p[0] != '/' || strlen(p) > 200)
		return false;
	for (const char *c = p; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '/' ||
		      *c == '-' || *c == '.'))
			return false;
	return strstr(p, "..") == NULL;
}

/* Read the body: bounded by [webadmin] max_body, exactly CONTENT_LENGTH. */
static int read_body(struct wa_req *r, const struct wa_io *io)
{
	const char *cl = io_env(io, "CONTENT_LENGTH");
	uint64_t len;
	if (cl[0] == '\0')
		return wa_error(r, 411, "A request body needs a Content-Length.");
	if (str_to_u64(cl, strlen(cl), UINT64_MAX, &len) < 0)
		return wa_error(r, 400, "Bad Content-Length.");
	if (len > r->cfg->webadmin.max_body)
		return wa_error(r, 413, "The request is too large.");
	char *body = xmalloc((size_t)len + 1);
	size_t got = io_read(io, body, (size_t)len);
	body[got] = '\0';
	if (got != len) {
		free(body);
		return wa_error(r, 400, "The request body is shorter than its Content-Length.");
	}
	const char *ct = io_env(io, "CONTENT_TYPE");
	const char *error = NULL;
	int ret;
	r->form.max = WA_MAX_FIELDS;
	if (str_ncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0 &&
	    (ct[33] == '\0' || ct[33] == ';')) {
		ret = wa_parse_urlencoded(body, got, &r->form, &error);
	} else if (str_ncasecmp(ct, "multipart/form-data", 19) == 0) {
		char boundary[71];
		ret = wa_multipart_boundary(ct, boundary, sizeof(boundary), &error);
		if (ret == 0)
			ret = wa_parse_multipart(body, got, boundary, &r->form, &error);
	} else {
		free(body);
		return wa_error(r, 415, "Forms only (application/x-www-form-urlencoded or multipart/form-data).");
	}
	free(body);
	if (ret < 0) {
		char msg[160];
		snprintf(msg, sizeof(msg), "Bad form data: %s.", error);
		return wa_error(r, 400, msg);
	}
	return 0;
}

static void handle(struct wa_req *r, const struct wa_io *io)
{
	r->status = 200;
	r->method = io_env(io, "REQUEST_METHOD");
	const char *pi = io_env(io, "PATH_INFO");
	r->path = xstrdup(pi[0] != '\0' ? pi : "/");
	const char *https = io_env(io, "HTTPS");
	r->secure = str_casecmp(https, "on") == 0 || strcmp(https, "1") == 0 ||
		    strcmp(io_env(io, "REQUEST_SCHEME"), "https") == 0;
	const char *ra = io_env(io, "REMOTE_ADDR");
	r->client_ip = xstrndup(ra, strspn(ra, "0123456789abcdefABCDEF.:") > 64 ? 64 :
				       strspn(ra, "0123456789abcdefABCDEF.:"));
	/* Links carry SCRIPT_NAME unless the server rewrote pretty URLs onto
	 * the script (REQUEST_URI then does not start with it). */
	const char *sn = io_env(io, "SCRIPT_NAME"), *uri = io_env(io, "REQUEST_URI");
	size_t snl = strlen(sn);
	bool direct = snl > 0 && strncmp(uri, sn, snl) == 0 && (uri[snl] == '/' ||
			uri[snl] == '?' || uri[snl] == '\0');
	r->base = xstrdup(direct && valid_path(sn) ? sn : "");
	r->vars = tpl_vars_new();
	tpl_set(r->vars, "base", r->base);

	if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0 &&
	    strcmp(r->method, "POST") != 0) {
		buf_append_str(&r->headers, "Allow: GET, HEAD, POST\r\n");
		wa_error(r, 405, "Method not allowed.");
		return;
	}
	if (!valid_path(r->path)) {
		wa_error(r, 404, "No such page.");
		return;
	}
	const char *qs = io_env(io, "QUERY_STRING");
	const char *error = NULL;
	r->query.max = WA_MAX_FIELDS;
	if (strlen(qs) > WA_MAX_QUERY || wa_parse_urlencoded(qs, strlen(qs), &r->query, &error) < 0) {
		wa_error(r, 400, "Bad query string.");
		return;
	}
	const char *ck = io_env(io, "HTTP_COOKIE");
	r->cookies.max = 32;
	if (strlen(ck) > WA_MAX_COOKIE || wa_parse_cookies(ck, &r->cookies, &error) < 0) {
		wa_error(r, 400, "Too many cookies.");
		return;
	}
	if (strcmp(r->path, "/static/admin.css") == 0) {
		serve_static(r, "admin", "text/css; charset=utf-8");
		return;
	}

	find_session(r);
	if (r->role == WA_USER) {
		if (store_wa_admin_domains(r->st, r->sess.address, add_domain, r, &error) != STORE_OK) {
			wa_error(r, 503, "The database is unavailable; try again later.");
			return;
		}
		if (r->ndomains > 0)
			r->role = WA_DOMAIN_ADMIN;
	}

	bool path_known;
	const struct wa_route *route = find_route(r->path, r->method, &path_known);
	if (route == NULL) {
		if (path_known) {
			buf_append_str(&r->headers, "Allow: GET, HEAD, POST\r\n");
			wa_error(r, 405, "Method not allowed here.");
		} else {
			wa_error(r, 404, "No such page.");
		}
		return;
	}
	if (strcmp(r->method, "POST") == 0) {
		/* Every state change: same origin, bounded body, CSRF token. */
		if (!same_origin(r, io)) {
			wa_error(r, 403, "Refused: the request did not come from this site.");
			return;
		}
		if (read_body(r, io) < 0 || r->done)
			return;
		if (route->role > WA_ANON && (r->role == WA_ANON ||
		    !const_eq(wa_form(r, "csrf"), r->sess.csrf))) {
			wa_error(r, 403, "Refused: the form's security token is missing or stale. Reload the page.");
			return;
		}
	}
	if (route->role > WA_ANON && r->role == WA_ANON) {
		wa_redirect(r, "/login");
		return;
	}
	if (route->role > r->role) {
		wa_error(r, 403, "You are not allowed to see this page.");
		return;
	}
	if (r->role > WA_ANON) {
		tpl_set(r->vars, "csrf", r->sess.csrf);
		tpl_set(r->vars, "me", r->sess.address);
		tpl_set(r->vars, "me_name", r->sess.display_name);
		tpl_set(r->vars, "is_admin", r->role == WA_ADMIN ? "1" : "");
		tpl_set(r->vars, "is_domain_admin", r->role >= WA_DOMAIN_ADMIN ? "1" : "");
		tpl_set(r->vars, "role_name", r->role == WA_ADMIN ? "administrator" :
			r->role == WA_DOMAIN_ADMIN ? "domain administrator" : "user");
		fill_menu(r);
	}
	route->run(r);
	if (!r->done)
		wa_error(r, 500, "The page produced nothing.");
}

static void respond(struct wa_req *r, const struct wa_io *io)
{
	struct buf out;
	buf_init(&out, 0);
	buf_printf(&out, "Status: %d %s\r\n", r->status, status_text(r->status));
	if (strstr(r->headers.data != NULL ? r->headers.data : "", "Content-Type:") == NULL)
		buf_append_str(&out, "Content-Type: text/html; charset=utf-8\r\n"
				     "Cache-Control: no-store\r\n");
	buf_append_str(&out,
		"Content-Security-Policy: default-src 'none'; style-src 'self'; img-src 'self' data:; "
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'\r\n"
		"X-Frame-Options: DENY\r\n"
		"X-Content-Type-Options: nosniff\r\n"
		"Referrer-Policy: same-origin\r\n"
		"Cross-Origin-Opener-Policy: same-origin\r\n");
	if (r->secure)
		buf_append_str(&out, "Strict-Transport-Security: max-age=31536000\r\n");
	if (r->headers.len > 0)
		buf_append(&out, r->headers.data, r->headers.len);
	buf_printf(&out, "Content-Length: %zu\r\n\r\n", strcmp(r->method != NULL ? r->method : "",
		   "HEAD") == 0 ? (size_t)0 : r->body.len);
	io_write(io, out.data, out.len);
	if (r->method == NULL || strcmp(r->method, "HEAD") != 0)
		io_write(io, r->body.data != NULL ? r->body.data : "", r->body.len);
	buf_free(&out);
}

static void req_free(struct wa_req *r)
{
	free(r->path);
	free(r->base);
	free(r->client_ip);
	wa_params_free(&r->query);
	wa_params_free(&r->form);
	wa_params_free(&r->cookies);
	for (size_t i = 0; i < r->ndomains; i++)
		free(r->domains[i]);
	free(r->domains);
	buf_free(&r->headers);
	buf_free(&r->body);
	tpl_vars_free(&r->vars);
}

static void serve(const struct config *cfg, struct store *st, struct directory *d,
		  struct dir_handle *dir, const struct wa_io *io)
{
	struct wa_req r;
	memset(&r, 0, sizeof(r));
	r.cfg = cfg;
	r.st = st;
	r.dir = dir;
	r.dir_backend = dir_backend_name(d);
	buf_init(&r.headers, 64 * 1024);
	buf_init(&r.body, WA_MAX_PAGE);
	handle(&r, io);
	respond(&r, io);
	req_free(&r);
}

int main(void)
{
	/* httpoxy: a client's "Proxy:" header arrives as HTTP_PROXY; nothing
	 * here may take it for a proxy setting. */
	unsetenv("HTTP_PROXY");
	unsetenv("http_proxy");
	log_open("cairn-admin.cgi", false);
	const char *path = getenv("CAIRN_CONF");
	if (path == NULL || path[0] == '\0')
		path = CAIRN_SYSCONFDIR "/cairn.conf";
	struct config *cfg = NULL;
	struct buf errors;
	buf_init(&errors, 64 * 1024);
	bool ok = config_load(path, &cfg, &errors) == 0;
	struct wa_io io;
	memset(&io, 0, sizeof(io));
	if (!ok) {
		fprintf(stderr, "cairn-admin.cgi: %s\n", errors.data != NULL ? errors.data : path);
		static const char msg[] = "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n"
					  "cairn-admin.cgi: the configuration cannot be loaded (see the server's error log).\n";
		io_write(&io, msg, sizeof(msg) - 1);
		buf_free(&errors);
		return 1;
	}
	buf_free(&errors);
	/* Dev and tests run from the source tree: a web server's environment
	 * may point at the templates there instead of the installed ones. */
	const char *tdir = getenv("CAIRN_WEBADMIN_TEMPLATES");
	if (tdir != NULL && tdir[0] != '\0') {
		free(cfg->webadmin.templates);
		cfg->webadmin.templates = xstrdup(tdir);
	}
	const char *error = NULL;
	struct directory *d = dir_create(cfg, &error);
	if (d == NULL) {
		fprintf(stderr, "cairn-admin.cgi: directory: %s\n", error);
		static const char msg[] = "Status: 500 Internal Server Error\r\nContent-Type: text/plain\r\n\r\n"
					  "cairn-admin.cgi: the directory configuration is unusable.\n";
		io_write(&io, msg, sizeof(msg) - 1);
		config_free(&cfg);
		return 1;
	}
	struct store *st = store_open(cfg);
	struct dir_handle *dh = dir_handle_create(d, st);

	if (FCGX_IsCGI()) {
		serve(cfg, st, d, dh, &io);
	} else {
		FCGX_Request req;
		FCGX_Init();
		FCGX_InitRequest(&req, 0, 0);
		while (FCGX_Accept_r(&req) >= 0) {
			io.in = req.in;
			io.out = req.out;
			io.envp = req.envp;
			serve(cfg, st, d, dh, &io);
			FCGX_Finish_r(&req);
		}
	}
	dir_handle_destroy(&dh);
	store_close(&st);
	dir_destroy(&d);
	config_free(&cfg);
	return 0;
}
