/* Parsers for what a browser sends the web admin (pure: libc only): query
 * strings and application/x-www-form-urlencoded bodies, the Cookie header,
 * and multipart/form-data bodies (RFC 7578). Every value must be UTF-8
 * without NUL or other C0 controls but tab, CR and LF; the number of fields
 * is bounded by the caller. Parsed fields are kept in order. */
#ifndef CAIRN_WA_FORM_H
#define CAIRN_WA_FORM_H

#include "util.h"

struct wa_param {
	char *name;
	char *value;		/* NUL-terminated; value_len excludes the NUL */
	size_t value_len;
	char *filename;		/* multipart file parts, else NULL */
};

struct wa_params {
	struct wa_param *v;
	size_t n, cap;
	size_t max;		/* most fields accepted; set before parsing */
};

/* Parse "a=1&b=x+y%20z" (len bytes) into p (appended). Returns 0, or -1 with
 * *error_r (static text) for bad escapes, bad UTF-8, controls, or too many
 * fields. Empty pieces ("a&&b") are skipped; a piece without '=' has "". */
int wa_parse_urlencoded(const char *s, size_t len, struct wa_params *p, const char **error_r);
/* Parse a Cookie header ("a=1; b=2", RFC 6265 section 4.2) into p. Values
 * are kept as sent (no decoding; surrounding quotes removed). A malformed
 * pair is skipped, as browsers do. Returns 0 or -1 (too many cookies). */
int wa_parse_cookies(const char *header, struct wa_params *p, const char **error_r);
/* The boundary parameter of a multipart/form-data Content-Type into
 * boundary_r (size at least 71). Returns 0 or -1. */
int wa_multipart_boundary(const char *content_type, char *boundary_r, size_t size,
			  const char **error_r);
/* Parse a multipart/form-data body with the given boundary into p. Returns
 * 0 or -1 with *error_r. Text fields are checked like urlencoded values;
 * file parts (a filename) may hold any bytes. */
int wa_parse_multipart(const char *body, size_t len, const char *boundary, struct wa_params *p,
		       const char **error_r);
/* The first value of name, or NULL. */
const char *wa_param_get(const struct wa_params *p, const char *name);
/* Free every field; p can be reused. */
void wa_params_free(struct wa_params *p);
/* True when s (len bytes) is well-formed UTF-8 with no NUL and no C0
 * control but tab, CR and LF (and no DEL). */
bool wa_valid_text(const char *s, size_t len);

#endif
