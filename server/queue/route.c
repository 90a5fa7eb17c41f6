/* [routes] parsing and lookup. A route value is a host (name, IPv4 address,
 * or [IPv6] in brackets) with an optional :port, or "mx[:port]" (the
 * domain's MX hosts), then space-separated key=value settings. The same parser checks the file at load time (so
 * `cairnctl check-config` reports FILE:LINE) and fills struct route when
 * the runner looks a domain up. */
#include "autoconf.h"
#include "route.h"
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const tls_names[] = { "none", "may", "require", "verify" };

const char *route_tls_name(enum route_tls tls)
{
	return tls_names[tls];
}

/* A DNS name: letters, digits, '-' and '.', labels of 1..63. */
static bool valid_domain(const char *s)
{
	size_t len = strlen(s), label = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (label == 0 && !(c == '\0' && i > 0 && s[i - 1] == '.'))
				return false;
			if (label > 0 && s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (label == 0 && c == '-')
			return false;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_';
		if (!ok || ++label > 63)
			return false;
	}
	return true;
}

/* host[:port] or [v6][:port] into r. */
static int parse_hostport(const char *s, struct route *r, char *why, size_t why_size)
{
	const char *port = NULL;
	size_t hlen;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL) {
			snprintf(why, why_size, "missing ']' after the IPv6 address");
			return -1;
		}
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof(r->host)) {
			snprintf(why, why_size, "bad IPv6 address");
			return -1;
		}
		memcpy(r->host, s + 1, hlen);
		r->host[hlen] = '\0';
		struct in6_addr a6;
		if (inet_pton(AF_INET6, r->host, &a6) != 1) {
			snprintf(why, why_size, "'%s' is not an IPv6 address", r->host);
			return -1;
		}
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0') {
			snprintf(why, why_size, "unexpected text after ']'");
			return -1;
		}
	} else {
		const char *colon = strchr(s, ':');
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		if (hlen == 0 || hlen >= sizeof(r->host)) {
			snprintf(why, why_size, "missing or too long host");
			return -1;
		}
		memcpy(r->host, s, hlen);
		r->host[hlen] = '\0';
		if (colon != NULL)
			port = colon + 1;
		if (strchr(r->host, ':') != NULL) {
			snprintf(why, why_size, "an IPv6 address must be in brackets, as in [::1]:25");
			return -1;
		}
		struct in_addr a4;
		if (inet_pton(AF_INET, r->host, &a4) != 1 && !valid_domain(r->host)) {
			snprintf(why, why_size, "'%s' is not a host name or IP address", r->host);
			return -1;
		}
	}
	r->port = 25;
	if (port != NULL) {
		uint64_t p;
		if (str_to_u64(port, strlen(port), 65535, &p) < 0 || p == 0) {
			snprintf(why, why_size, "port must be a number from 1 to 65535");
			return -1;
		}
		r->port = (unsigned)p;
	}
	return 0;
}

static int parse_setting(const char *tok, struct route *r, char *why, size_t why_size)
{
	const char *eq = strchr(tok, '=');
	if (eq == NULL) {
		snprintf(why, why_size, "'%s': expected setting=value (tls=, auth=)", tok);
		return -1;
	}
	size_t klen = (size_t)(eq - tok);
	const char *v = eq + 1;
	if (klen == 3 && strncmp(tok, "tls", 3) == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(tls_names); i++) {
			if (strcmp(v, tls_names[i]) == 0) {
				r->tls = (enum route_tls)i;
				r->tls_set = true;
				return 0;
			}
		}
		snprintf(why, why_size, "tls=%s: expected none, may, require or verify", v);
		return -1;
	}
	if (klen == 4 && strncmp(tok, "auth", 4) == 0) {
		const char *colon = strchr(v, ':');
		if (colon == NULL || colon == v || colon[1] != '/') {
			snprintf(why, why_size, "auth= expects USER:/absolute/password-file");
			return -1;
		}
		size_t ulen = (size_t)(colon - v);
		if (ulen >= sizeof(r->auth_user) || strlen(colon + 1) >= sizeof(r->auth_password_file)) {
			snprintf(why, why_size, "auth= user or file name too long");
			return -1;
		}
		memcpy(r->auth_user, v, ulen);
		r->auth_user[ulen] = '\0';
		snprintf(r->auth_password_file, sizeof(r->auth_password_file), "%s", colon + 1);
		return 0;
	}
	snprintf(why, why_size, "unknown setting '%.*s' (expected tls= or auth=)", (int)klen, tok);
	return -1;
}

int route_parse(const char *value, struct route *r, char *why, size_t why_size)
{
	memset(r, 0, sizeof(*r));
	r->tls = ROUTE_TLS_MAY;
	char *copy = xstrdup(value);
	char *save = NULL;
	int ret = 0;
	char *tok = strtok_r(copy, " \t", &save);
	if (tok == NULL) {
		snprintf(why, why_size, "empty route (expected host:port)");
		ret = -1;
	} else if (str_ncasecmp(tok, "mx", 2) == 0 && (tok[2] == '\0' || tok[2] == ':')) {
		/* "mx" or "mx:PORT": the domain's own MX hosts, maybe on
		 * another port (like Postfix's smtp:domain:port). */
		r->mx = true;
		r->port = 25;
		uint64_t p;
		if (tok[2] == ':' && (str_to_u64(tok + 3, strlen(tok + 3), 65535, &p) < 0 || p == 0)) {
			snprintf(why, why_size, "port must be a number from 1 to 65535");
			ret = -1;
		} else if (tok[2] == ':') {
			r->port = (unsigned)p;
		}
	} else {
		ret = parse_hostport(tok, r, why, why_size);
	}
	while (ret == 0 && (tok = strtok_r(NULL, " \t", &save)) != NULL)
		ret = parse_setting(tok, r, why, why_size);
	/* AUTH is only ever sent to a server whose certificate was verified:
	 * over tls=require anyone on the path could present a certificate of
	 * their own and collect the password. auth= implies tls=verify. */
	if (ret == 0 && r->auth_user[0] != '\0' && r->tls_set && r->tls != ROUTE_TLS_VERIFY) {
		snprintf(why, why_size, "auth= sends a password and needs tls=verify (the default "
			 "with auth=; a private smarthost's CA goes in [queue] tls_ca_file)");
		ret = -1;
	}
	if (ret == 0 && r->auth_user[0] != '\0' && !r->tls_set)
		r->tls = ROUTE_TLS_VERIFY;
	free(copy);
	return ret;
}

int route_check(const char *key, const char *value, char *why, size_t why_size)
{
	if (strcmp(key, "*") != 0 && !valid_domain(key)) {
		snprintf(why, why_size, "'%s' is not a domain name (or * for a smarthost)", key);
		return -1;
	}
	struct route r;
	return route_parse(value, &r, why, why_size);
}

void route_register_config(void)
{
	config_set_map_check("routes", route_check);
}

void route_find(const struct config *cfg, const char *domain, struct route *r)
{
	const char *v = config_map_get(&cfg->routes, domain);
	if (v == NULL)
		v = config_map_get(&cfg->routes, "*");
	char why[256];
	if (v != NULL && route_parse(v, r, why, sizeof(why)) == 0)
		return;
	memset(r, 0, sizeof(*r));
	r->mx = true;
	r->port = 25;
	r->tls = ROUTE_TLS_MAY;
}

char *route_read_password(const struct route *r, char *why, size_t why_size)
{
	FILE *f = fopen(r->auth_password_file, "re");
	if (f == NULL) {
		snprintf(why, why_size, "cannot open the password file %s: %s", r->auth_password_file,
			 strerror(errno));
		return NULL;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		snprintf(why, why_size, "the password file %s is empty", r->auth_password_file);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}
