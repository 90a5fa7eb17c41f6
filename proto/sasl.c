/* PLAIN and LOGIN exchanges and strict base64. The decoded credentials are
 * kept in malloc'ed strings that sasl_reset() overwrites before freeing. */
#include "autoconf.h"
#include "sasl.h"

#include <stdlib.h>
#include <string.h>

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode_strict(const char *in, size_t len, struct buf *out)
{
	if (len % 4 != 0)
		return -1;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		unsigned pad = 0;
		for (int j = 0; j < 4; j++) {
			unsigned char c = (unsigned char)in[i + j];
			if (c == '=' && i + 4 == len && j >= 2) {
				v[j] = 0;
				pad++;
				continue;
			}
			if (pad > 0)
				return -1;	/* data after '=' */
			v[j] = b64val(c);
			if (v[j] < 0)
				return -1;
		}
		unsigned char bytes[3] = {
			(unsigned char)((v[0] << 2) | (v[1] >> 4)),
			(unsigned char)(((v[1] & 0xf) << 4) | (v[2] >> 2)),
			(unsigned char)(((v[2] & 0x3) << 6) | v[3]),
		};
		/* Canonical form: the bits dropped by padding must be zero. */
		if ((pad == 1 && (v[2] & 0x3) != 0) || (pad == 2 && (v[1] & 0xf) != 0))
			return -1;
		if (buf_append(out, bytes, 3 - pad) < 0)
			return -1;
	}
	return 0;
}

void base64_encode(const void *data, size_t len, struct buf *out)
{
	const unsigned char *p = data;
	buf_reserve(out, (len + 2) / 3 * 4);
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		char q[4] = {
			b64chars[(v >> 18) & 63], b64chars[(v >> 12) & 63],
			i + 1 < len ? b64chars[(v >> 6) & 63] : '=',
			i + 2 < len ? b64chars[v & 63] : '=',
		};
		buf_append(out, q, 4);
	}
}

int sasl_mech_parse(const char *name, enum sasl_mech *mech_r)
{
	if (str_casecmp(name, "PLAIN") == 0) {
		*mech_r = SASL_MECH_PLAIN;
		return 0;
	}
	if (str_casecmp(name, "LOGIN") == 0) {
		*mech_r = SASL_MECH_LOGIN;
		return 0;
	}
	return -1;
}

void sasl_begin(struct sasl *s, enum sasl_mech mech)
{
	sasl_reset(s);
	s->mech = mech;
	s->step = 0;
}

static void wipe(char **p)
{
	if (*p != NULL) {
		volatile char *v = *p;
		for (size_t i = 0; v[i] != '\0'; i++)
			v[i] = '\0';
		free(*p);
		*p = NULL;
	}
}

void sasl_reset(struct sasl *s)
{
	wipe(&s->authzid);
	wipe(&s->authcid);
	wipe(&s->password);
	s->step = 0;
}

/* Decode a response into out (bounded). "=" is the empty response. */
static int decode_response(const char *response, struct buf *out, const char **error_r)
{
	if (strcmp(response, "=") == 0)
		return 0;
	if (base64_decode_strict(response, strlen(response), out) < 0) {
		*error_r = "invalid base64";
		return -1;
	}
	return 0;
}

static int valid_credential(const char *s, size_t len)
{
	if (len > SASL_MAX_CREDENTIAL)
		return 0;
	return memchr(s, '\0', len) == NULL;
}

static int plain_step(struct sasl *s, const char *response, struct buf *challenge,
		      const char **error_r)
{
	if (response == NULL) {
		/* No initial response: an empty challenge asks for it. */
		if (s->step++ > 0) {
			*error_r = "missing response";
			return -1;
		}
		return 0;
	}
	struct buf dec;
	buf_init(&dec, 3 * SASL_MAX_CREDENTIAL + 3);
	if (decode_response(response, &dec, error_r) < 0) {
		buf_free(&dec);
		return -1;
	}
	/* authzid NUL authcid NUL passwd */
	const char *p = dec.data != NULL ? dec.data : "";
	const char *nul1 = memchr(p, '\0', dec.len);
	const char *nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', dec.len - (size_t)(nul1 + 1 - p)) : NULL;
	int ret = -1;
	*error_r = "malformed PLAIN message";
	if (nul1 != NULL && nul2 != NULL) {
		size_t zlen = (size_t)(nul1 - p);
		size_t clen = (size_t)(nul2 - nul1 - 1);
		size_t plen = dec.len - (size_t)(nul2 + 1 - p);
		if (clen > 0 && plen > 0 && valid_credential(nul2 + 1, plen) &&
		    zlen <= SASL_MAX_CREDENTIAL && clen <= SASL_MAX_CREDENTIAL) {
			if (zlen > 0 && (zlen != clen || memcmp(p, nul1 + 1, clen) != 0)) {
				*error_r = "authorization identity must be empty or the user name";
			} else {
				s->authzid = zlen > 0 ? xstrndup(p, zlen) : NULL;
				s->authcid = xstrndup(nul1 + 1, clen);
				s->password = xstrndup(nul2 + 1, plen);
				ret = 1;
			}
		}
	}
	if (dec.data != NULL)
		memset(dec.data, 0, dec.len);
	buf_free(&dec);
	return ret;
}

static int login_step(struct sasl *s, const char *response, struct buf *challenge,
		      const char **error_r)
{
	if (response == NULL && s->step == 0) {
		s->step = 1;
		base64_encode("Username:", 9, challenge);
		return 0;
	}
	if (response == NULL) {
		*error_r = "missing response";
		return -1;
	}
	if (s->step == 0)
		s->step = 1;	/* initial response carries the user name */
	struct buf dec;
	buf_init(&dec, 3 * SASL_MAX_CREDENTIAL + 3);
	if (decode_response(response, &dec, error_r) < 0) {
		buf_free(&dec);
		return -1;
	}
	int ret;
	const char *data = dec.data != NULL ? dec.data : "";
	if (dec.len == 0 || !valid_credential(data, dec.len)) {
		*error_r = s->step == 1 ? "invalid user name" : "invalid password";
		ret = -1;
	} else if (s->step == 1) {
		s->authcid = xstrndup(data, dec.len);
		s->step = 2;
		base64_encode("Password:", 9, challenge);
		ret = 0;
	} else {
		s->password = xstrndup(data, dec.len);
		s->step = 3;
		ret = 1;
	}
	if (dec.data != NULL)
		memset(dec.data, 0, dec.len);
	buf_free(&dec);
	return ret;
}

int sasl_step(struct sasl *s, const char *response, struct buf *challenge, const char **error_r)
{
	if (response != NULL && strcmp(response, "*") == 0) {
		*error_r = "authentication cancelled";
		return -1;
	}
	switch (s->mech) {
	case SASL_MECH_PLAIN:
		return plain_step(s, response, challenge, error_r);
	case SASL_MECH_LOGIN:
		return login_step(s, response, challenge, error_r);
	}
	*error_r = "unknown mechanism";
	return -1;
}
