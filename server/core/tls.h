/* Server-side TLS context: certificate, key and chain from [tls], TLS 1.2 or
 * newer only, reloadable on SIGHUP. Connections take a reference to the
 * SSL_CTX current when they start TLS, so a reload never disturbs them. */
#ifndef CAIRN_TLS_H
#define CAIRN_TLS_H

#include "util.h"
#include <openssl/ssl.h>

struct config;
struct tls_server;

/* Load the certificate/key named in cfg. Returns NULL with *error_r (malloc'ed,
 * naming the file and OpenSSL's reason) on failure. */
struct tls_server *tls_server_create(const struct config *cfg, char **error_r);
/* Free the server context (live connections keep their own reference). */
void tls_server_destroy(struct tls_server **tls);
/* Re-read the files; on failure keep the old context and return -1 with
 * *error_r set (malloc'ed). */
int tls_server_reload(struct tls_server *tls, char **error_r);
/* The current SSL_CTX (borrowed). */
SSL_CTX *tls_server_ctx(struct tls_server *tls);

#endif
