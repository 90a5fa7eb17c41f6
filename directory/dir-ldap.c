/* The ldap directory backend over libldap. Each dir_handle keeps two
 * connections: one bound as the service account for searches, one for
 * checking passwords by binding as the user's DN (a hash is never read).
 * URIs are tried in order with failover; a connection that reports the
 * server gone is reopened and the call retried once, so a slapd restart
 * costs one reconnect, not an error. Every value from input goes into a
 * filter through ldap-escape.c; DNs are only ever the server's own. */
#include "autoconf.h"
#include "directory-private.h"
#include "config.h"
#include "ldap-escape.h"
#include "vcard_gal.h"
#include "log.h"

#include <ldap.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define LDAP_FILTER_MAX 8192
#define LDAP_PAGE_SIZE 500

struct ldap_conn {
	LDAP *ld;		/* NULL while disconnected */
	const char *what;	/* "service" or "auth", for the log */
};

struct ldap_state {
	struct ldap_conn svc, auth;
	size_t preferred;	/* index of the URI that last worked */
};

void dir_ldap_library_init(void)
{
	/* Any call with a NULL handle runs libldap's one-time global set-up
	 * here, on the main thread, instead of racing in the first workers. */
	int version;
	ldap_get_option(NULL, LDAP_OPT_PROTOCOL_VERSION, &version);
}

static const struct config *cfg_of(struct dir_handle *h)
{
	return h->dir->cfg;
}

static void *ldap_handle_init(struct dir_handle *h)
{
	struct ldap_state *s = xcalloc(1, sizeof(*s));
	s->svc.what = "service";
	s->auth.what = "auth";
	return s;
}

static void conn_drop(struct ldap_conn *c)
{
	if (c->ld != NULL)
		ldap_unbind_ext_s(c->ld, NULL, NULL);
	c->ld = NULL;
}

static void ldap_handle_deinit(void *state)
{
	struct ldap_state *s = state;
	if (s == NULL)
		return;
	conn_drop(&s->svc);
	conn_drop(&s->auth);
	free(s);
}

/* Result codes meaning "this server is gone or not answering": fail over. */
static bool rc_down(int rc)
{
	return rc == LDAP_SERVER_DOWN || rc == LDAP_CONNECT_ERROR || rc == LDAP_TIMEOUT ||
	       rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY;
}

static struct timeval tv_of(uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };
	return tv;
}

/* Open and bind one connection, trying every URI from the preferred one.
 * A service bind that is refused (wrong bind_password) is no reason to try
 * the next server but is still a temporary failure for mail. */
static int conn_open(struct dir_handle *h, struct ldap_conn *c, const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	struct timeval tv = tv_of(cfg->directory.timeout_ms);
	char last[256] = "no URI configured";

	for (size_t k = 0; k < h->dir->nuris; k++) {
		size_t i = (s->preferred + k) % h->dir->nuris;
		const char *uri = h->dir->uris[i];
		LDAP *ld = NULL;
		int rc = ldap_initialize(&ld, uri);
		if (rc != LDAP_SUCCESS) {
			snprintf(last, sizeof(last), "%s: %s", uri, ldap_err2string(rc));
			continue;
		}
		int version = LDAP_VERSION3;
		ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &version);
		ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv);
		ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv);
		ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF);
		ldap_set_option(ld, LDAP_OPT_RESTART, LDAP_OPT_ON);
		if (cfg->directory.ca_file[0] != '\0') {
			int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;
			ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE, cfg->directory.ca_file);
			ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand);
			ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
		}
		if (cfg->directory.start_tls && strncasecmp(uri, "ldaps://", 8) != 0 &&
		    strncasecmp(uri, "ldapi://", 8) != 0) {
			rc = ldap_start_tls_s(ld, NULL, NULL);
			if (rc != LDAP_SUCCESS) {
				snprintf(last, sizeof(last), "%s: StartTLS failed: %s", uri,
					 ldap_err2string(rc));
				ldap_unbind_ext_s(ld, NULL, NULL);
				log_warn("directory: ldap uri=%s status=starttls-failed: %s", uri,
					 ldap_err2string(rc));
				continue;
			}
		}
		struct berval cred = { strlen(cfg->directory.bind_password),
				       cfg->directory.bind_password };
		rc = ldap_sasl_bind_s(ld, cfg->directory.bind_dn[0] ? cfg->directory.bind_dn : NULL,
				      LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		if (rc == LDAP_SUCCESS) {
			if (i != s->preferred || k > 0)
				log_info("directory: ldap conn=%s uri=%s status=connected", c->what, uri);
			s->preferred = i;
			c->ld = ld;
			return DIR_OK;
		}
		snprintf(last, sizeof(last), "%s: bind as %s: %s", uri,
			 cfg->directory.bind_dn[0] ? cfg->directory.bind_dn : "(anonymous)",
			 ldap_err2string(rc));
		ldap_unbind_ext_s(ld, NULL, NULL);
		if (!rc_down(rc)) {
			log_err("directory: ldap %s", last);
			return dir_fail(h, DIR_TEMPFAIL, error_r, "LDAP service bind refused: %s", last);
		}
		log_warn("directory: ldap conn=%s status=unreachable: %s", c->what, last);
	}
	return dir_fail(h, DIR_TEMPFAIL, error_r, "no LDAP server reachable (%s)", last);
}

/* Run a search on the service connection, reconnecting once if the server
 * went away. DIR_OK with *res_r (caller frees), DIR_NOTFOUND for a base
 * that does not exist, DIR_TEMPFAIL, DIR_ERROR. */
static int do_search(struct dir_handle *h, const char *base, int scope, const char *filter,
		     char **attrs, int sizelimit, LDAPControl **sctrls, LDAPMessage **res_r,
		     const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	struct timeval tv = tv_of(cfg_of(h)->directory.timeout_ms);
	*res_r = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->svc.ld == NULL) {
			int ret = conn_open(h, &s->svc, error_r);
			if (ret != DIR_OK)
				return ret;
		}
		LDAPMessage *res = NULL;
		int rc = ldap_search_ext_s(s->svc.ld, base, scope, filter, attrs, 0, sctrls, NULL,
					   &tv, sizelimit, &res);
		if (rc == LDAP_SUCCESS || (rc == LDAP_SIZELIMIT_EXCEEDED && res != NULL)) {
			*res_r = res;
			return DIR_OK;
		}
		ldap_msgfree(res);
		if (rc == LDAP_NO_SUCH_OBJECT)
			return dir_fail(h, DIR_NOTFOUND, error_r, "no such entry");
		if (rc_down(rc)) {
			log_warn("directory: ldap conn=service status=lost: %s", ldap_err2string(rc));
			conn_drop(&s->svc);
			continue;
		}
		if (rc == LDAP_TIMELIMIT_EXCEEDED || rc == LDAP_ADMINLIMIT_EXCEEDED)
			return dir_fail(h, DIR_TEMPFAIL, error_r, "LDAP search: %s", ldap_err2string(rc));
		log_err("directory: ldap search base=\"%s\" status=failed: %s", base,
			ldap_err2string(rc));
		return dir_fail(h, DIR_ERROR, error_r, "LDAP search failed: %s", ldap_err2string(rc));
	}
	return dir_fail(h, DIR_TEMPFAIL, error_r, "LDAP server went away: %s", h->error);
}

static void ascii_lower(char *s)
{
	for (; *s != '\0'; s++) {
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
	}
}

/* A DN in one canonical form (for loop detection): RFC 4514 string form as
 * libldap normalises it, lower-cased. */
static char *dn_key(const char *dn)
{
	char *out = NULL;
	char *key;
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &out, LDAP_DN_FORMAT_LDAPV3) ==
	    LDAP_SUCCESS && out != NULL) {
		key = xstrdup(out);
		ldap_memfree(out);
	} else {
		key = xstrdup(dn);
	}
	ascii_lower(key);
	return key;
}

/* First value of attr in entry m as a new string, or NULL. */
static char *first_value(LDAP *ld, LDAPMessage *m, const char *attr)
{
	struct berval **vals = ldap_get_values_len(ld, m, attr);
	char *v = NULL;
	if (vals != NULL && vals[0] != NULL)
		v = xstrndup(vals[0]->bv_val, vals[0]->bv_len);
	ldap_value_free_len(vals);
	return v;
}

static bool value_true(LDAP *ld, LDAPMessage *m, const char *attr, bool def)
{
	char *v = first_value(ld, m, attr);
	bool r = def;
	if (v != NULL)
		r = strcasecmp(v, "TRUE") == 0;
	free(v);
	return r;
}

static bool has_class(LDAP *ld, LDAPMessage *m, const char *cls)
{
	struct berval **vals = ldap_get_values_len(ld, m, "objectClass");
	bool found = false;
	for (size_t i = 0; vals != NULL && vals[i] != NULL && !found; i++)
		found = vals[i]->bv_len == strlen(cls) &&
			strncasecmp(vals[i]->bv_val, cls, vals[i]->bv_len) == 0;
	ldap_value_free_len(vals);
	return found;
}

/* Every attribute the backend reads. */
static char **attr_list(struct dir_handle *h, char *buf[16])
{
	const struct config *cfg = cfg_of(h);
	size_t n = 0;
	buf[n++] = (char *)"objectClass";
	buf[n++] = cfg->directory.attr_mail;
	buf[n++] = cfg->directory.attr_alternate;
	buf[n++] = cfg->directory.attr_name;
	buf[n++] = cfg->directory.attr_phone;
	buf[n++] = cfg->directory.attr_department;
	buf[n++] = cfg->directory.attr_title;
	buf[n++] = cfg->directory.attr_quota;
	buf[n++] = cfg->directory.attr_enabled;
	buf[n++] = cfg->directory.attr_admin;
	buf[n++] = cfg->directory.attr_member;
	buf[n++] = cfg->directory.attr_unique_member;
	buf[n++] = cfg->directory.attr_member_filter;
	buf[n] = NULL;
	return buf;
}

/* Add the DN values of attr to e's refs; uniqueMember values may carry an
 * optional "#'0101'B" UID, which is not part of the DN. */
static void add_dn_refs(LDAP *ld, LDAPMessage *m, const char *attr, struct dir_entry *e)
{
	struct berval **vals = ldap_get_values_len(ld, m, attr);
	for (size_t i = 0; vals != NULL && vals[i] != NULL; i++) {
		char *dn = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
		char *hash = strrchr(dn, '#');
		if (hash != NULL && hash[1] == '\'' && hash > dn && hash[-1] != '\\')
			*hash = '\0';
		if (dn[0] != '\0')
			dir_entry_add_ref(e, dn);
		free(dn);
	}
	ldap_value_free_len(vals);
}

/* The members of a dynamic group: entries under base_dn matching its
 * filter (data from the directory, checked before use). */
static int add_filter_refs(struct dir_handle *h, LDAP *ld, LDAPMessage *m, struct dir_entry *e,
			   const char **error_r)
{
	struct berval **vals = ldap_get_values_len(ld, m, cfg_of(h)->directory.attr_member_filter);
	int ret = DIR_OK;
	for (size_t i = 0; vals != NULL && vals[i] != NULL && ret == DIR_OK; i++) {
		char *filter = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
		const char *why;
		if (ldap_filter_check(vals[i]->bv_val, vals[i]->bv_len, &why) < 0) {
			log_warn("directory: ldap group=\"%s\" bad member filter: %s", e->key, why);
			free(filter);
			continue;
		}
		char *attrs[] = { (char *)LDAP_NO_ATTRS, NULL };
		LDAPMessage *res;
		ret = do_search(h, cfg_of(h)->directory.base_dn, LDAP_SCOPE_SUBTREE, filter, attrs,
				(int)cfg_of(h)->directory.max_expansion, NULL, &res, error_r);
		free(filter);
		if (ret == DIR_NOTFOUND) {
			ret = DIR_OK;
			continue;
		}
		if (ret != DIR_OK)
			break;
		struct ldap_state *s = h->backend_state;
		for (LDAPMessage *x = ldap_first_entry(s->svc.ld, res); x != NULL;
		     x = ldap_next_entry(s->svc.ld, x)) {
			char *dn = ldap_get_dn(s->svc.ld, x);
			if (dn != NULL)
				dir_entry_add_ref(e, dn);
			ldap_memfree(dn);
		}
		ldap_msgfree(res);
	}
	ldap_value_free_len(vals);
	return ret;
}

/* Turn one search result entry into a dir_entry. */
static int entry_from(struct dir_handle *h, LDAPMessage *m, struct dir_entry *e,
		      const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	LDAP *ld = s->svc.ld;
	memset(e, 0, sizeof(*e));
	char *dn = ldap_get_dn(ld, m);
	if (dn == NULL)
		return dir_fail(h, DIR_ERROR, error_r, "LDAP entry without a DN");
	e->key = dn_key(dn);
	ldap_memfree(dn);
	e->address = first_value(ld, m, cfg->directory.attr_mail);
	if (e->address != NULL)
		ascii_lower(e->address);
	e->enabled = value_true(ld, m, cfg->directory.attr_enabled, true);
	e->refs_are_dns = true;
	bool dynamic = has_class(ld, m, "cairnDynamicGroup");
	if (dynamic || has_class(ld, m, "groupOfNames") || has_class(ld, m, "groupOfUniqueNames")) {
		e->kind = DIR_ENTRY_GROUP;
		add_dn_refs(ld, m, cfg->directory.attr_member, e);
		add_dn_refs(ld, m, cfg->directory.attr_unique_member, e);
		if (dynamic) {
			/* The nested search reuses the connection; m stays valid. */
			int ret = add_filter_refs(h, ld, m, e, error_r);
			if (ret != DIR_OK) {
				dir_entry_free(e);
				return ret;
			}
		}
	} else {
		e->kind = DIR_ENTRY_USER;
	}
	return DIR_OK;
}

/* Search base_dn with template (its %s = address) for exactly one entry.
 * DIR_OK with *res_r and *entry_r pointing into it (caller frees res). */
static int find_one(struct dir_handle *h, const char *template, const char *address,
		    char **attrs, LDAPMessage **res_r, LDAPMessage **entry_r, const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	struct buf filter;
	const char *why;
	*res_r = NULL;
	buf_init(&filter, LDAP_FILTER_MAX);
	if (ldap_filter_format(template, address, strlen(address), &filter, &why) < 0) {
		buf_free(&filter);
		return dir_fail(h, DIR_ERROR, error_r, "LDAP filter: %s", why);
	}
	int ret = do_search(h, cfg_of(h)->directory.base_dn, LDAP_SCOPE_SUBTREE, filter.data, attrs,
			    2, NULL, res_r, error_r);
	buf_free(&filter);
	if (ret == DIR_NOTFOUND)
		return dir_fail(h, DIR_ERROR, error_r, "[directory] base_dn %s does not exist",
				cfg_of(h)->directory.base_dn);
	if (ret != DIR_OK)
		return ret;
	int n = ldap_count_entries(s->svc.ld, *res_r);
	if (n == 1) {
		*entry_r = ldap_first_entry(s->svc.ld, *res_r);
		return DIR_OK;
	}
	ldap_msgfree(*res_r);
	*res_r = NULL;
	if (n == 0)
		return dir_fail(h, DIR_NOTFOUND, error_r, "no entry for %s", address);
	log_err("directory: ldap address=%s status=ambiguous: several entries match", address);
	return dir_fail(h, DIR_ERROR, error_r, "several LDAP entries claim %s", address);
}

static int ldap_lookup(struct dir_handle *h, const char *address, struct dir_entry *e_r,
		       const char **error_r)
{
	char *abuf[16];
	LDAPMessage *res, *m;
	memset(e_r, 0, sizeof(*e_r));
	char **attrs = attr_list(h, abuf);
	int ret = find_one(h, cfg_of(h)->directory.user_filter, address, attrs, &res, &m, error_r);
	if (ret == DIR_NOTFOUND)
		ret = find_one(h, cfg_of(h)->directory.group_filter, address, attrs, &res, &m,
			       error_r);
	if (ret != DIR_OK)
		return ret;
	ret = entry_from(h, m, e_r, error_r);
	ldap_msgfree(res);
	return ret;
}

static int ldap_lookup_ref(struct dir_handle *h, const char *dn, struct dir_entry *e_r,
			   const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	char *abuf[16];
	LDAPMessage *res;
	memset(e_r, 0, sizeof(*e_r));
	int ret = do_search(h, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attr_list(h, abuf), 1, NULL,
			    &res, error_r);
	if (ret != DIR_OK)
		return ret;
	LDAPMessage *m = ldap_first_entry(s->svc.ld, res);
	if (m == NULL)
		ret = dir_fail(h, DIR_NOTFOUND, error_r, "no entry %s", dn);
	else
		ret = entry_from(h, m, e_r, error_r);
	ldap_msgfree(res);
	return ret;
}

/* Bind as dn with password on the auth connection. */
static int bind_as(struct dir_handle *h, const char *dn, const char *password,
		   const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	for (int attempt = 0; attempt < 2; attempt++) {
		if (s->auth.ld == NULL) {
			int ret = conn_open(h, &s->auth, error_r);
			if (ret != DIR_OK)
				return ret;
		}
		struct berval cred = { strlen(password), (char *)password };
		int rc = ldap_sasl_bind_s(s->auth.ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		if (rc == LDAP_SUCCESS)
			return DIR_OK;
		if (rc == LDAP_INVALID_CREDENTIALS || rc == LDAP_INAPPROPRIATE_AUTH ||
		    rc == LDAP_UNWILLING_TO_PERFORM || rc == LDAP_INVALID_DN_SYNTAX ||
		    rc == LDAP_NO_SUCH_OBJECT)
			return dir_fail(h, DIR_NOTFOUND, error_r, "bad credentials");
		if (rc_down(rc)) {
			log_warn("directory: ldap conn=auth status=lost: %s", ldap_err2string(rc));
			conn_drop(&s->auth);
			continue;
		}
		/* A connection in an unknown state is not reused. */
		conn_drop(&s->auth);
		return dir_fail(h, DIR_TEMPFAIL, error_r, "LDAP bind: %s", ldap_err2string(rc));
	}
	return dir_fail(h, DIR_TEMPFAIL, error_r, "LDAP server went away: %s", h->error);
}

/* A bind that cannot succeed, for logins that find no usable entry: the
 * server does the same round trip as for a wrong password. */
static int dummy_bind(struct dir_handle *h, const char *password, const char **error_r)
{
	h->auth_check = "dummy-bind";
	char *dn = xasprintf("cn=cairn-no-such-user,%s", cfg_of(h)->directory.base_dn);
	int ret = bind_as(h, dn, password, error_r);
	free(dn);
	if (ret == DIR_TEMPFAIL || ret == DIR_ERROR)
		return ret;
	return dir_fail(h, DIR_NOTFOUND, error_r, "bad credentials");
}

static int ldap_verify(struct dir_handle *h, const char *user, const char *password,
		       dir_auth_gate_fn *gate, void *gate_ctx, char **address_r,
		       const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	char *abuf[16];
	LDAPMessage *res, *m;
	*address_r = NULL;
	h->auth_check = "none";
	/* An empty password would be an unauthenticated bind, which succeeds. */
	if (password == NULL || password[0] == '\0')
		return dir_fail(h, DIR_NOTFOUND, error_r, "bad credentials");
	int ret = find_one(h, cfg_of(h)->directory.user_filter, user, attr_list(h, abuf), &res, &m,
			   error_r);
	if (ret == DIR_NOTFOUND) {
		ret = gate(gate_ctx, user);
		return ret != DIR_OK ? ret : dummy_bind(h, password, error_r);
	}
	if (ret != DIR_OK)
		return ret;
	char *dn = ldap_get_dn(s->svc.ld, m);
	char *mail = first_value(s->svc.ld, m, cfg_of(h)->directory.attr_mail);
	bool enabled = value_true(s->svc.ld, m, cfg_of(h)->directory.attr_enabled, true);
	bool group = has_class(s->svc.ld, m, "groupOfNames") ||
		     has_class(s->svc.ld, m, "groupOfUniqueNames");
	ldap_msgfree(res);
	if (mail != NULL)
		ascii_lower(mail);
	/* Failures count against the entry's account, whichever of its
	 * addresses (mail, mailAlternateAddress) was typed. */
	ret = gate(gate_ctx, mail != NULL ? mail : user);
	if (ret != DIR_OK) {
		/* refused before any password check */
	} else if (dn == NULL || mail == NULL || !enabled || group) {
		ret = dummy_bind(h, password, error_r);
	} else {
		h->auth_check = "bind";
		ret = bind_as(h, dn, password, error_r);
		if (ret == DIR_OK) {
			*address_r = mail;
			mail = NULL;
		}
	}
	ldap_memfree(dn);
	free(mail);
	return ret;
}

static char *value_or_empty(LDAP *ld, LDAPMessage *m, const char *attr)
{
	char *v = first_value(ld, m, attr);
	return v != NULL ? v : xstrdup("");
}

static void user_from(struct dir_handle *h, LDAPMessage *m, struct dir_user *u)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	LDAP *ld = s->svc.ld;
	u->address = value_or_empty(ld, m, cfg->directory.attr_mail);
	ascii_lower(u->address);
	u->display_name = value_or_empty(ld, m, cfg->directory.attr_name);
	u->phone = value_or_empty(ld, m, cfg->directory.attr_phone);
	u->department = value_or_empty(ld, m, cfg->directory.attr_department);
	u->title = value_or_empty(ld, m, cfg->directory.attr_title);
	char *quota = first_value(ld, m, cfg->directory.attr_quota);
	uint64_t q = 0;
	if (quota != NULL && str_to_u64(quota, strlen(quota), INT64_MAX, &q) < 0)
		q = 0;
	free(quota);
	u->quota_bytes = q;
	u->enabled = value_true(ld, m, cfg->directory.attr_enabled, true);
	u->is_admin = value_true(ld, m, cfg->directory.attr_admin, false);
}

static int ldap_user_info(struct dir_handle *h, const char *address, struct dir_user *u_r,
			  const char **error_r)
{
	char *abuf[16];
	LDAPMessage *res, *m;
	int ret = find_one(h, cfg_of(h)->directory.user_filter, address, attr_list(h, abuf), &res,
			   &m, error_r);
	if (ret != DIR_OK)
		return ret;
	user_from(h, m, u_r);
	ldap_msgfree(res);
	if (u_r->address[0] == '\0') {
		dir_user_free(u_r);
		return dir_fail(h, DIR_NOTFOUND, error_r, "entry for %s has no mail", address);
	}
	return DIR_OK;
}

static int user_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dir_user *)a)->address, ((const struct dir_user *)b)->address);
}

static int ldap_search(struct dir_handle *h, const char *query, unsigned limit,
		       void (*cb)(const struct dir_user *u, void *ctx), void *ctx,
		       const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	struct buf filter;
	char *abuf[16];
	LDAPMessage *res;
	buf_init(&filter, LDAP_FILTER_MAX);
	int fret = 0;
	if (query[0] == '\0') {
		fret = buf_append_str(&filter, cfg->directory.user_list_filter);
	} else {
		const char *attrs[] = { cfg->directory.attr_name, cfg->directory.attr_mail,
					cfg->directory.attr_department, cfg->directory.attr_title };
		fret |= buf_printf(&filter, "(&%s(|", cfg->directory.user_list_filter);
		for (size_t i = 0; i < ARRAY_SIZE(attrs); i++) {
			fret |= buf_printf(&filter, "(%s=*", attrs[i]);
			fret |= ldap_escape_filter_value(query, strlen(query), &filter);
			fret |= buf_append_str(&filter, "*)");
		}
		fret |= buf_append_str(&filter, "))");
	}
	if (fret != 0) {
		buf_free(&filter);
		return dir_fail(h, DIR_NOTFOUND, error_r, "query too long");
	}
	int ret = do_search(h, cfg->directory.base_dn, LDAP_SCOPE_SUBTREE, filter.data,
			    attr_list(h, abuf), (int)limit, NULL, &res, error_r);
	buf_free(&filter);
	if (ret != DIR_OK)
		return ret;
	size_t n = 0;
	struct dir_user *users = xcalloc((size_t)ldap_count_entries(s->svc.ld, res) + 1,
					 sizeof(*users));
	for (LDAPMessage *m = ldap_first_entry(s->svc.ld, res); m != NULL;
	     m = ldap_next_entry(s->svc.ld, m)) {
		user_from(h, m, &users[n]);
		if (users[n].address[0] == '\0' || !users[n].enabled)
			dir_user_free(&users[n]);
		else
			n++;
	}
	ldap_msgfree(res);
	qsort(users, n, sizeof(*users), user_cmp);
	for (size_t i = 0; i < n; i++) {
		cb(&users[i], ctx);
		dir_user_free(&users[i]);
	}
	free(users);
	return DIR_OK;
}

static int ldap_list_users(struct dir_handle *h,
			   void (*cb)(const struct dir_user *u, char *const *alt, void *ctx),
			   void *ctx, const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	struct berval cookie = { 0, NULL };
	char *abuf[16];
	int ret = DIR_OK;
	/* Paged results (RFC 2696) so a server size limit does not cut the list. */
	for (;;) {
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
		LDAPMessage *res;
		if (s->svc.ld == NULL && (ret = conn_open(h, &s->svc, error_r)) != DIR_OK)
			break;
		if (ldap_create_page_control(s->svc.ld, LDAP_PAGE_SIZE, &cookie, 1, &page) !=
		    LDAP_SUCCESS) {
			ret = dir_fail(h, DIR_ERROR, error_r, "cannot create an LDAP paging control");
			break;
		}
		ctrls[0] = page;
		ret = do_search(h, cfg->directory.base_dn, LDAP_SCOPE_SUBTREE,
				cfg->directory.user_list_filter, attr_list(h, abuf), 0, ctrls, &res,
				error_r);
		ldap_control_free(page);
		if (ret == DIR_NOTFOUND)
			ret = dir_fail(h, DIR_ERROR, error_r, "[directory] base_dn %s does not exist",
				       cfg->directory.base_dn);
		if (ret != DIR_OK)
			break;
		for (LDAPMessage *m = ldap_first_entry(s->svc.ld, res); m != NULL;
		     m = ldap_next_entry(s->svc.ld, m)) {
			struct dir_user u;
			memset(&u, 0, sizeof(u));
			user_from(h, m, &u);
			struct berval **vals = ldap_get_values_len(s->svc.ld, m,
								   cfg->directory.attr_alternate);
			size_t nalt = vals != NULL ? (size_t)ldap_count_values_len(vals) : 0;
			char **alt = xcalloc(nalt + 1, sizeof(*alt));
			for (size_t i = 0; i < nalt; i++) {
				alt[i] = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
				ascii_lower(alt[i]);
			}
			ldap_value_free_len(vals);
			if (u.address[0] != '\0')
				cb(&u, alt, ctx);
			for (size_t i = 0; i < nalt; i++)
				free(alt[i]);
			free(alt);
			dir_user_free(&u);
		}
		/* The cookie for the next page; empty at the end. */
		LDAPControl **rctrls = NULL;
		int err = 0;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (ldap_parse_result(s->svc.ld, res, &err, NULL, NULL, NULL, &rctrls, 0) ==
		    LDAP_SUCCESS && rctrls != NULL) {
			LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
			ber_int_t count;
			if (c != NULL)
				ldap_parse_pageresponse_control(s->svc.ld, c, &count, &cookie);
			ldap_controls_free(rctrls);
		}
		ldap_msgfree(res);
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
	ber_memfree(cookie.bv_val);
	return ret;
}

/* The resources found so far: copied out of the search results, handed to
 * the callback once the search is over (its lookups of bookers and the
 * delegate may reconnect, which frees the results). */
struct res_found {
	struct dir_resource *v;
	size_t n;
};

static void res_found_free(struct res_found *f)
{
	for (size_t i = 0; i < f->n; i++) {
		struct dir_resource *r = &f->v[i];
		for (size_t k = 0; r->bookers[k] != NULL; k++)
			free(r->bookers[k]);
		free(r->bookers);
		free((char *)r->address);
		free((char *)r->display_name);
		free((char *)r->kind);
		free((char *)r->capacity);
		free((char *)r->location);
		free((char *)r->policy);
		free((char *)r->window);
		free((char *)r->delegate);
	}
	free(f->v);
}

/* One resource entry for sync. */
static void resource_from(struct dir_handle *h, LDAPMessage *m, struct res_found *f)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	LDAP *ld = s->svc.ld;
	char *mail = first_value(ld, m, cfg->directory.attr_mail);
	if (mail == NULL)
		return;
	ascii_lower(mail);
	char *kind = first_value(ld, m, cfg->directory.attr_resource_kind);
	if (kind == NULL)
		kind = xstrdup(has_class(ld, m, "room") || !has_class(ld, m, "device") ? "room" :
			       "equipment");
	struct berval **vals = ldap_get_values_len(ld, m, cfg->directory.attr_resource_booker);
	size_t nb = vals != NULL ? (size_t)ldap_count_values_len(vals) : 0;
	char **bookers = xcalloc(nb + 1, sizeof(char *));
	for (size_t i = 0; i < nb; i++)
		bookers[i] = xstrndup(vals[i]->bv_val, vals[i]->bv_len);
	ldap_value_free_len(vals);
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	f->v[f->n++] = (struct dir_resource){
		.address = mail, .display_name = first_value(ld, m, cfg->directory.attr_name),
		.enabled = value_true(ld, m, cfg->directory.attr_enabled, true),
		.kind = kind,
		.capacity = first_value(ld, m, cfg->directory.attr_resource_capacity),
		.location = first_value(ld, m, cfg->directory.attr_resource_location),
		.policy = first_value(ld, m, cfg->directory.attr_booking_policy),
		.window = first_value(ld, m, cfg->directory.attr_booking_window),
		.bookers = bookers,
		.delegate = first_value(ld, m, cfg->directory.attr_resource_delegate),
	};
}

static int ldap_list_resources(struct dir_handle *h,
			       void (*cb)(const struct dir_resource *r, void *ctx), void *ctx,
			       const char **error_r)
{
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	struct berval cookie = { 0, NULL };
	char *attrs[] = {
		(char *)"objectClass", cfg->directory.attr_mail, cfg->directory.attr_name,
		cfg->directory.attr_enabled, cfg->directory.attr_resource_kind,
		cfg->directory.attr_resource_capacity, cfg->directory.attr_resource_location,
		cfg->directory.attr_booking_policy, cfg->directory.attr_booking_window,
		cfg->directory.attr_resource_booker, cfg->directory.attr_resource_delegate, NULL,
	};
	int ret = DIR_OK;
	struct res_found found = { NULL, 0 };
	if (cfg->directory.resource_list_filter[0] == '\0')
		return DIR_OK;
	/* Paged like ldap_list_users. */
	for (;;) {
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
		LDAPMessage *res;
		if (s->svc.ld == NULL && (ret = conn_open(h, &s->svc, error_r)) != DIR_OK)
			break;
		if (ldap_create_page_control(s->svc.ld, LDAP_PAGE_SIZE, &cookie, 1, &page) !=
		    LDAP_SUCCESS) {
			ret = dir_fail(h, DIR_ERROR, error_r, "cannot create an LDAP paging control");
			break;
		}
		ctrls[0] = page;
		ret = do_search(h, cfg->directory.base_dn, LDAP_SCOPE_SUBTREE,
				cfg->directory.resource_list_filter, attrs, 0, ctrls, &res, error_r);
		ldap_control_free(page);
		if (ret == DIR_NOTFOUND)
			ret = dir_fail(h, DIR_ERROR, error_r, "[directory] base_dn %s does not exist",
				       cfg->directory.base_dn);
		if (ret != DIR_OK)
			break;
		LDAP *ld = s->svc.ld;
		for (LDAPMessage *m = ldap_first_entry(ld, res); m != NULL; m = ldap_next_entry(ld, m))
			resource_from(h, m, &found);
		LDAPControl **rctrls = NULL;
		int err = 0;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (ldap_parse_result(ld, res, &err, NULL, NULL, NULL, &rctrls, 0) ==
		    LDAP_SUCCESS && rctrls != NULL) {
			LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
			ber_int_t count;
			if (c != NULL)
				ldap_parse_pageresponse_control(ld, c, &count, &cookie);
			ldap_controls_free(rctrls);
		}
		ldap_msgfree(res);
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
	ber_memfree(cookie.bv_val);
	for (size_t i = 0; ret == DIR_OK && i < found.n; i++)
		cb(&found.v[i], ctx);
	res_found_free(&found);
	return ret;
}

char *dir_ldap_dn_key(const char *dn)
{
	return dn_key(dn);
}

/* The global address list's view of the directory (calendar/carddav-gal.c):
 * every entry matching filter with the values of attrs, paged like
 * ldap_list_users. Values are handed over as they are (binary safe). */
int dir_ldap_list(struct dir_handle *h, const char *filter, const char *const *attrs,
		  void (*cb)(const char *dn_key, const struct vcard_gal_attr *attrs, size_t nattrs,
			     void *ctx),
		  void *ctx, const char **error_r)
{
	if (h->dir->backend != &dir_backend_ldap)
		return dir_fail(h, DIR_ERROR, error_r, "not an LDAP directory");
	struct ldap_state *s = h->backend_state;
	const struct config *cfg = cfg_of(h);
	size_t nattrs = 0;
	while (attrs[nattrs] != NULL)
		nattrs++;
	char **alist = xcalloc(nattrs + 1, sizeof(char *));
	for (size_t i = 0; i < nattrs; i++)
		alist[i] = (char *)attrs[i];
	struct vcard_gal_attr *out = xcalloc(nattrs + 1, sizeof(*out));
	struct berval ***vals = xcalloc(nattrs + 1, sizeof(*vals));
	struct berval cookie = { 0, NULL };
	int ret = DIR_OK;
	for (;;) {
		LDAPControl *page = NULL, *ctrls[2] = { NULL, NULL };
		LDAPMessage *res;
		if (s->svc.ld == NULL && (ret = conn_open(h, &s->svc, error_r)) != DIR_OK)
			break;
		if (ldap_create_page_control(s->svc.ld, LDAP_PAGE_SIZE, &cookie, 1, &page) !=
		    LDAP_SUCCESS) {
			ret = dir_fail(h, DIR_ERROR, error_r, "cannot create an LDAP paging control");
			break;
		}
		ctrls[0] = page;
		ret = do_search(h, cfg->directory.base_dn, LDAP_SCOPE_SUBTREE, filter, alist, 0,
				ctrls, &res, error_r);
		ldap_control_free(page);
		if (ret == DIR_NOTFOUND)
			ret = dir_fail(h, DIR_ERROR, error_r, "[directory] base_dn %s does not exist",
				       cfg->directory.base_dn);
		if (ret != DIR_OK)
			break;
		for (LDAPMessage *m = ldap_first_entry(s->svc.ld, res); m != NULL;
		     m = ldap_next_entry(s->svc.ld, m)) {
			for (size_t i = 0; i < nattrs; i++) {
				vals[i] = ldap_get_values_len(s->svc.ld, m, attrs[i]);
				size_t n = vals[i] != NULL ? (size_t)ldap_count_values_len(vals[i]) : 0;
				struct vcard_gal_value *v = xcalloc(n + 1, sizeof(*v));
				for (size_t k = 0; k < n; k++) {
					v[k].data = vals[i][k]->bv_val;
					v[k].len = vals[i][k]->bv_len;
				}
				out[i].name = attrs[i];
				out[i].values = v;
				out[i].nvalues = n;
			}
			char *dn = ldap_get_dn(s->svc.ld, m);
			char *key = dn_key(dn != NULL ? dn : "");
			ldap_memfree(dn);
			cb(key, out, nattrs, ctx);
			free(key);
			for (size_t i = 0; i < nattrs; i++) {
				free((void *)out[i].values);
				ldap_value_free_len(vals[i]);
			}
		}
		LDAPControl **rctrls = NULL;
		int err = 0;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		if (ldap_parse_result(s->svc.ld, res, &err, NULL, NULL, NULL, &rctrls, 0) ==
		    LDAP_SUCCESS && rctrls != NULL) {
			LDAPControl *c = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
			ber_int_t count;
			if (c != NULL)
				ldap_parse_pageresponse_control(s->svc.ld, c, &count, &cookie);
			ldap_controls_free(rctrls);
		}
		ldap_msgfree(res);
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
	ber_memfree(cookie.bv_val);
	free(vals);
	free(out);
	free(alist);
	return ret;
}

const struct dir_backend dir_backend_ldap = {
	.name = "ldap",
	.handle_init = ldap_handle_init,
	.handle_deinit = ldap_handle_deinit,
	.lookup = ldap_lookup,
	.lookup_ref = ldap_lookup_ref,
	.verify = ldap_verify,
	.user_info = ldap_user_info,
	.search = ldap_search,
	.list_users = ldap_list_users,
	.list_resources = ldap_list_resources,
};
