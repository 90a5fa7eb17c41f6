/* The IMAP gateway (IMAP4rev1 RFC 3501, IMAP4rev2 RFC 9051): sessions on
 * the IMAP (STARTTLS) and IMAPS listeners, on top of the store, the
 * directory and the LISTEN/NOTIFY fan-out of store-notify. */
#ifndef CAIRN_IMAP_SESSION_H
#define CAIRN_IMAP_SESSION_H

struct config;
struct conn;
struct directory;
struct store_notify;
struct tls_server;
struct worker_pool;

struct imap_context {
	const struct config *cfg;
	struct worker_pool *pool;
	struct tls_server *tls;		/* NULL: no STARTTLS */
	struct directory *dir;
	struct store_notify *notify;	/* NULL: changes are seen at the next command */
	char hostname[256];
};

/* listener_accept_cb for IMAP listeners; ctx is a struct imap_context that
 * outlives every session. */
void imap_session_accept(struct conn *c, void *ctx);

#endif
