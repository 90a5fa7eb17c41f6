/* A blocking SMTP client for the queue runner threads: one connection to a
 * remote server, EHLO with our host name, opportunistic or required STARTTLS
 * (OpenSSL), AUTH PLAIN/LOGIN only over TLS, and transactions with
 * PIPELINING, SIZE, 8BITMIME, SMTPUTF8 and DSN parameters. Every wait is a
 * poll() with the RFC 5321 4.5.3.2 timeout of its step. */
#ifndef CAIRN_SMTP_CLIENT_H
#define CAIRN_SMTP_CLIENT_H

#include "util.h"

#include <openssl/ssl.h>
#include <stdatomic.h>
#include <sys/socket.h>

/* EHLO keywords we use. */
#define SMTPC_EXT_PIPELINING (1u << 0)
#define SMTPC_EXT_SIZE (1u << 1)
#define SMTPC_EXT_8BITMIME (1u << 2)
#define SMTPC_EXT_SMTPUTF8 (1u << 3)
#define SMTPC_EXT_DSN (1u << 4)
#define SMTPC_EXT_STARTTLS (1u << 5)
#define SMTPC_EXT_AUTH_PLAIN (1u << 6)
#define SMTPC_EXT_AUTH_LOGIN (1u << 7)
#define SMTPC_EXT_ENHANCED (1u << 8)

/* A server reply, or a local failure (code 0: connection, timeout, TLS). */
struct smtp_reply {
	int code;		/* 250, 451, ...; 0 for a local failure */
	char status[16];	/* RFC 3463 code from the reply (or ours), "" if none */
	char text[512];		/* the reply lines joined by spaces, or why we failed */
};

/* What a connection needs. Strings are borrowed for the connection's life. */
struct smtp_client_params {
	const char *helo;		/* our host name for EHLO */
	const char *server_name;	/* the remote host name: SNI, verification, logs */
	int tls;			/* enum route_tls */
	SSL_CTX *ssl_ctx;		/* client context; NULL = no TLS */
	const char *auth_user;		/* NULL = no AUTH */
	const char *auth_password;
	uint64_t connect_timeout_ms;
	uint64_t command_timeout_ms;	/* greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET */
	uint64_t data_init_timeout_ms;	/* 354 */
	uint64_t data_block_timeout_ms;	/* each write of data */
	uint64_t data_done_timeout_ms;	/* reply to the final dot */
	const atomic_bool *abort;	/* set: give up waiting (shutdown); NULL = never */
	const atomic_bool *abort_hard;	/* set: give up even on the reply to the dot */
};

struct smtp_client;

/* Connect to sa, read the greeting, EHLO (HELO if EHLO is refused), STARTTLS
 * as params->tls asks, EHLO again, AUTH. Returns 0 with *c_r, or -1 with
 * reply_r saying why (a 4xx/5xx the server sent, or code 0). */
int smtp_client_open(const struct sockaddr *sa, socklen_t salen, const struct smtp_client_params *p,
		     struct smtp_client **c_r, struct smtp_reply *reply_r);
/* SMTPC_EXT_* bits of the last EHLO. */
unsigned smtp_client_extensions(const struct smtp_client *c);
/* SIZE limit announced, 0 = none. */
uint64_t smtp_client_size_limit(const struct smtp_client *c);
/* True when the session runs over TLS. */
bool smtp_client_tls_active(const struct smtp_client *c);
/* "TLSv1.3" or "none", for logs. */
const char *smtp_client_tls_version(const struct smtp_client *c);

/* One recipient of a transaction. */
struct smtp_client_rcpt {
	const char *address;
	const char *params;		/* " NOTIFY=... ORCPT=..." or "" */
	struct smtp_reply reply;	/* out */
};

/* One message. */
struct smtp_client_txn {
	const char *from;		/* "" = <> */
	const char *mail_params;	/* " SIZE=... BODY=... RET=..." or "" */
	struct smtp_client_rcpt *rcpts;
	size_t nrcpts;
	const char *prefix;		/* sent before data (DKIM-Signature fields), may be NULL */
	size_t prefix_len;
	const char *data;		/* the message, CRLF, not dot-stuffed */
	size_t data_len;
	/* Called once the data is written and before the final dot; -1 aborts
	 * (the connection is closed without the dot). */
	int (*before_dot)(void *ctx);
	/* Called right after the final dot was written (or failed to be). */
	void (*after_dot)(void *ctx);
	void *ctx;
	struct smtp_reply mail_reply;	/* out */
	struct smtp_reply data_reply;	/* out: 354 stage or final reply */
	bool dot_sent;			/* out: the final dot was written */
};

/* Run one transaction. Returns 1 when the final reply to the data is in
 * data_reply (2xx: accepted for every rcpt whose reply was 2xx), 0 when it
 * ended before the data with the connection still usable (MAIL refused, no
 * recipient accepted, DATA refused), -1 when the connection broke or the
 * server closed it (replies hold what is known; the client must be closed). */
int smtp_client_send(struct smtp_client *c, struct smtp_client_txn *t);
/* True when c can carry another transaction: not broken, and the server
 * has sent nothing unasked (a 421 or a close while it sat idle). */
bool smtp_client_reusable(struct smtp_client *c);
/* QUIT (when quit and the connection is sound) and free; *c = NULL. */
void smtp_client_close(struct smtp_client **c, bool quit);

/* A client SSL_CTX with the system CAs (or ca_file), TLS 1.2 or later.
 * NULL with why filled on error. */
SSL_CTX *smtp_client_ssl_ctx(const char *ca_file, char *why, size_t why_size);

#endif
