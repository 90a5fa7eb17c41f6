/* Listening sockets for one protocol: bound from a [section] listen value
 * before privileges are dropped, then accepting on the loop with the global
 * and per-IP connection limits applied. */
#ifndef CAIRN_LISTENER_H
#define CAIRN_LISTENER_H

#include "util.h"
#include "metrics.h"

struct conn;
struct loop;
struct tls_server;
struct listener;

/* The connections one service (all the listeners of one config section)
 * may have open at once: its own room, which no other protocol's clients
 * can take. Owned by the caller; open is kept by the listeners. */
struct listener_limit {
	const char *option;		/* "[imap] max_connections", for log lines */
	unsigned max;			/* 0: no limit of its own */
	unsigned open;
};

/* A new connection: the session attaches itself with conn_set_ops and calls
 * conn_start. */
typedef void listener_accept_cb(struct conn *c, void *ctx);

struct listener_params {
	const char *option;		/* "[http] listen", for error messages */
	const char *listen;		/* the option's value */
	enum metrics_proto proto;
	struct tls_server *tls;		/* non-NULL: implicit TLS on these sockets */
	const char *busy_reply;		/* sent (plaintext only) when a limit refuses */
	struct listener_limit *limit;	/* shared by the service's listeners, or NULL */
	listener_accept_cb *accept;
	void *ctx;
};

/* Bind every address of params->listen. Returns 0 and appends the listener to
 * *list, or -1 with *error_r (malloc'ed) naming the option and address. */
int listener_bind(const struct listener_params *params, struct listener **list, char **error_r);
/* Start accepting on every listener of list. */
void listener_start_all(struct loop *loop, struct listener *list);
/* Close every listening socket of list and free it; sets *list NULL. */
void listener_close_all(struct listener **list);
/* Connection limits: max_total over all listeners, max_per_ip per client
 * network (0 = unlimited): an IPv4 address masked to v4_prefix bits, an
 * IPv6 address to v6_prefix bits (an attacker holds a whole /64). */
void listener_set_limits(unsigned max_total, unsigned max_per_ip, unsigned v4_prefix,
			 unsigned v6_prefix);

#endif
