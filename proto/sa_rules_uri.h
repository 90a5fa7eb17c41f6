/* The URLs of a message's text, for SpamAssassin "uri" rules and URIBL
 * lookups: absolute URLs in plain text (http, https, ftp, mailto), "www."
 * host names without a scheme (as http://), and in HTML the href/src/action
 * attribute values. Pure: no I/O. */
#ifndef CAIRN_SA_RULES_URI_H
#define CAIRN_SA_RULES_URI_H

#include "util.h"

#define SA_URI_MAX_LEN 2048

/* Called for each URL found (not NUL-terminated); return false to stop. */
typedef bool sa_uri_cb(void *ctx, const char *uri, size_t len);

/* Find the URLs in text[0..len); html says the text is HTML source (then
 * attribute values are read too, with &amp; decoded). Each URL is passed at
 * most SA_URI_MAX_LEN bytes long. */
void sa_uri_extract(const char *text, size_t len, bool html, sa_uri_cb *cb, void *ctx);

/* The host of an absolute URL (or of mailto:'s address), lower-cased into
 * host (NUL-terminated, at most hostlen - 1 bytes). Returns 0, or -1 when
 * there is none. */
int sa_uri_host(const char *uri, size_t len, char *host, size_t hostlen);

#endif
