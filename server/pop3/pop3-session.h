/* The POP3 gateway (RFC 1939, 2449, 2595, 3206, 5034): sessions on the POP3
 * and POP3S listeners, serving the INBOX of the authenticated user as the
 * maildrop it was at login. */
#ifndef CAIRN_POP3_SESSION_H
#define CAIRN_POP3_SESSION_H

struct config;
struct conn;
struct directory;
struct tls_server;
struct worker_pool;

struct pop3_context {
	const struct config *cfg;
	struct worker_pool *pool;
	struct tls_server *tls;		/* NULL: no STLS */
	struct directory *dir;
	char hostname[256];
};

/* listener_accept_cb for POP3 listeners; ctx is a struct pop3_context that
 * outlives every session. */
void pop3_session_accept(struct conn *c, void *ctx);

#endif
