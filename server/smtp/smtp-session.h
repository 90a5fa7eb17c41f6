/* The SMTP gateway: inbound MX (RFC 5321), message submission with STARTTLS
 * and over implicit TLS (RFC 6409, 8314) and LMTP (RFC 2033), all one
 * session state machine over the delivery pipeline (server/deliver). */
#ifndef CAIRN_SMTP_SESSION_H
#define CAIRN_SMTP_SESSION_H

struct config;
struct conn;
struct directory;
struct tls_server;
struct worker_pool;

struct smtp_context {
	const struct config *cfg;
	struct worker_pool *pool;
	struct tls_server *tls;		/* NULL: no STARTTLS */
	struct directory *dir;
	char hostname[256];
};

/* listener_accept_cb for [smtp] listen (MX); ctx is a struct smtp_context
 * that outlives every session. */
void smtp_session_accept_mx(struct conn *c, void *ctx);
/* listener_accept_cb for [submission] listen and listen_tls: AUTH is
 * required before MAIL. */
void smtp_session_accept_submission(struct conn *c, void *ctx);
/* listener_accept_cb for [smtp] lmtp_listen: LHLO, one reply per recipient
 * after the data. */
void smtp_session_accept_lmtp(struct conn *c, void *ctx);

#endif
