/* Static routes of the outbound queue: the [routes] section of cairn.conf,
 * one "domain = host[:port] [tls=MODE] [auth=USER:PASSWORD-FILE]" line per
 * domain, "*" for a smarthost that takes every other domain; the host "mx"
 * or "mx:PORT" means the domain's MX hosts (on PORT). A domain with
 * no route (and no "*") goes by MX (dns.h). Parsing is pure; the config
 * loader calls route_check for FILE:LINE errors. */
#ifndef CAIRN_ROUTE_H
#define CAIRN_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* How STARTTLS is used towards a destination. */
enum route_tls {
	ROUTE_TLS_NONE,		/* never STARTTLS */
	ROUTE_TLS_MAY,		/* STARTTLS when offered, no verification (the default) */
	ROUTE_TLS_REQUIRE,	/* STARTTLS or do not send; no verification */
	ROUTE_TLS_VERIFY,	/* STARTTLS with a verified certificate for the host name */
};

/* One parsed route. */
struct route {
	char host[256];		/* host name or IP address (no brackets) */
	unsigned port;		/* 25 unless given */
	bool mx;		/* no static host: look up the domain's MX */
	enum route_tls tls;
	bool tls_set;		/* tls= was given (else MAY) */
	char auth_user[256];	/* "" = no AUTH */
	char auth_password_file[1024];
};

/* Parse a route value. Returns 0, or -1 with the reason in why. */
int route_parse(const char *value, struct route *r, char *why, size_t why_size);
/* config_map_check_fn for [routes]: the key is a domain or "*". */
int route_check(const char *key, const char *value, char *why, size_t why_size);
/* Register route_check with the config loader (before config_load). */
void route_register_config(void);
/* The route for domain: its own line, else "*", else MX with tls=may.
 * Values were checked at load time. */
void route_find(const struct config *cfg, const char *domain, struct route *r);
/* Read the password file of a route with auth=: the first line, malloc'ed;
 * NULL with why filled when unreadable. */
char *route_read_password(const struct route *r, char *why, size_t why_size);
/* "none", "may", "require", "verify". */
const char *route_tls_name(enum route_tls tls);

#endif
