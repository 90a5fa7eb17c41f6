/* The ManageSieve gateway (RFC 5804): sessions on the [managesieve]
 * listener, where users' mail clients upload, list, check and activate
 * their Sieve scripts (stored by store-sieve, compiled by proto/sieve). */
#ifndef CAIRN_MANAGESIEVE_SESSION_H
#define CAIRN_MANAGESIEVE_SESSION_H

struct config;
struct conn;
struct directory;
struct tls_server;
struct worker_pool;

struct managesieve_context {
	const struct config *cfg;
	struct worker_pool *pool;
	struct tls_server *tls;		/* NULL: no STARTTLS */
	struct directory *dir;
	char hostname[256];
};

/* listener_accept_cb for ManageSieve listeners; ctx is a struct
 * managesieve_context that outlives every session. */
void managesieve_session_accept(struct conn *c, void *ctx);

#endif
