/* Builds the OpenSSL server context from the [tls] options. The files are
 * re-read on reload into a fresh SSL_CTX which replaces the old one; SSL
 * objects hold their own reference, so established sessions are untouched. */
#include "autoconf.h"
#include "tls.h"
#include "config.h"
#include "log.h"

#include <errno.h>
#include <openssl/pem.h>

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

struct tls_server {
	char *cert_file, *key_file, *chain_file;
	int min_version;
	SSL_CTX *ctx;
};

static char *ssl_error(const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown error";
	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return xasprintf("%s %s: %s", what, file, reason);
}

static SSL_CTX *build_ctx(const struct tls_server *tls, char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		*error_r = ssl_error("cannot create TLS context for", tls->cert_file);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, tls->min_version);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				 SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
	if (SSL_CTX_use_certificate_chain_file(ctx, tls->cert_file) != 1) {
		*error_r = ssl_error("[tls] cert_file", tls->cert_file);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, tls->key_file, SSL_FILETYPE_PEM) != 1) {
		*error_r = ssl_error("[tls] key_file", tls->key_file);
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		*error_r = ssl_error("[tls] key_file does not match cert_file:", tls->key_file);
		goto fail;
	}
	if (tls->chain_file[0] != '\0') {
		/* Extra intermediates beyond those in cert_file. */
		FILE *f = fopen(tls->chain_file, "r");
		if (f == NULL) {
			*error_r = xasprintf("[tls] chain_file %s: %s", tls->chain_file,
					     strerror(errno));
			goto fail;
		}
		X509 *x;
		while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
			if (SSL_CTX_add_extra_chain_cert(ctx, x) != 1) {
				X509_free(x);
				fclose(f);
				*error_r = ssl_error("[tls] chain_file", tls->chain_file);
				goto fail;
			}
		}
		fclose(f);
		ERR_clear_error();
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

struct tls_server *tls_server_create(const struct config *cfg, char **error_r)
{
	if (cfg->tls.cert_file[0] == '\0' || cfg->tls.key_file[0] == '\0') {
		*error_r = xstrdup("[tls] cert_file and key_file must be set for TLS listeners");
		return NULL;
	}
	struct tls_server *tls = xcalloc(1, sizeof(*tls));
	tls->cert_file = xstrdup(cfg->tls.cert_file);
	tls->key_file = xstrdup(cfg->tls.key_file);
	tls->chain_file = xstrdup(cfg->tls.chain_file);
	tls->min_version = cfg->tls.min_version == CONFIG_TLS_1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
	tls->ctx = build_ctx(tls, error_r);
	if (tls->ctx == NULL) {
		tls_server_destroy(&tls);
		return NULL;
	}
	return tls;
}

void tls_server_destroy(struct tls_server **tlsp)
{
	struct tls_server *tls = *tlsp;
	if (tls == NULL)
		return;
	SSL_CTX_free(tls->ctx);
	free(tls->cert_file);
	free(tls->key_file);
	free(tls->chain_file);
	free(tls);
	*tlsp = NULL;
}

int tls_server_reload(struct tls_server *tls, char **error_r)
{
	SSL_CTX *ctx = build_ctx(tls, error_r);
	if (ctx == NULL)
		return -1;
	SSL_CTX_free(tls->ctx);
	tls->ctx = ctx;
	return 0;
}

SSL_CTX *tls_server_ctx(struct tls_server *tls)
{
	return tls->ctx;
}
