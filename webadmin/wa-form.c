/* Form, query, cookie and multipart parsers (wa-form.h). Inputs come from
 * anyone on the network: every length is checked before copying, and a
 * field is only ever added complete and validated. */
#include "autoconf.h"
#include "wa-form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool wa_valid_text(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		int32_t cp = str_utf8_next(s, len, &i);
		if (cp < 0 || (cp < 0x20 && cp != '\t' && cp != '\r' && cp != '\n') || cp == 0x7f)
			return false;
	}
	return true;
}

static int add(struct wa_params *p, char *name, char *value, size_t value_len, char *filename,
	       const char **error_r)
{
	if (p->max > 0 && p->n >= p->max) {
		free(name);
		free(value);
		free(filename);
		*error_r = "too many fields";
		return -1;
	}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	p->v[p->n].name = name;
	p->v[p->n].value = value;
	p->v[p->n].value_len = value_len;
	p->v[p->n].filename = filename;
	p->n++;
	return 0;
}

/* Decode s[0..len) ('+' is a space) into a new string; NULL on a bad escape
 * or text that is not valid. */
static char *decode(const char *s, size_t len, size_t *len_r, const char **error_r)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int h = i + 2 < len ? str_hex_digit(s[i + 1]) : -1;
			int l = h >= 0 ? str_hex_digit(s[i + 2]) : -1;
			if (h < 0 || l < 0) {
				free(out);
				*error_r = "bad percent escape";
				return NULL;
			}
			out[o++] = (char)(h * 16 + l);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	if (!wa_valid_text(out, o)) {
		free(out);
		*error_r = "a field is not valid UTF-8 text";
		return NULL;
	}
	*len_r = o;
	return out;
}

int wa_parse_urlencoded(const char *s, size_t len, struct wa_params *p, const char **error_r)
{
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '&')
			end++;
		if (end > i) {
			size_t eq = i;
			while (eq < end && s[eq] != '=')
				eq++;
			size_t nlen, vlen;
			char *name = decode(s + i, eq - i, &nlen, error_r);
			if (name == NULL)
				return -1;
			if (strlen(name) != nlen || nlen == 0) {
				free(name);
				*error_r = "bad field name";
				return -1;
			}
			char *value = eq < end ? decode(s + eq + 1, end - eq - 1, &vlen, error_r)
					       : decode("", 0, &vlen, error_r);
			if (value == NULL) {
				free(name);
				return -1;
			}
			if (add(p, name, value, vlen, NULL, error_r) < 0)
				return -1;
		}
		i = end + 1;
	}
	return 0;
}

static bool cookie_octet(unsigned char c)
{
	/* RFC 6265 cookie-octet. */
	return c == 0x21 || (c >= 0x23 && c <= 0x2b) || (c >= 0x2d && c <= 0x3a) ||
	       (c >= 0x3c && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

static bool token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

int wa_parse_cookies(const char *h, struct wa_params *p, const char **error_r)
{
	size_t len = strlen(h);
	size_t i = 0;
	while (i < len) {
		while (i < len && (h[i] == ' ' || h[i] == '\t'))
			i++;
		size_t end = i;
		while (end < len && h[end] != ';')
			end++;
		size_t eq = i;
		while (eq < end && h[eq] != '=')
			eq++;
		bool ok = eq < end && eq > i;
		for (size_t k = i; ok && k < eq; k++)
			ok = token_char((unsigned char)h[k]);
		size_t vs = eq + 1, ve = end;
		while (ok && ve > vs && (h[ve - 1] == ' ' || h[ve - 1] == '\t'))
			ve--;
		if (ok && ve - vs >= 2 && h[vs] == '"' && h[ve - 1] == '"') {
			vs++;
			ve--;
		}
		for (size_t k = vs; ok && k < ve; k++)
			ok = cookie_octet((unsigned char)h[k]);
		if (ok && add(p, xstrndup(h + i, eq - i), xstrndup(h + vs, ve - vs), ve - vs, NULL,
			      error_r) < 0)
			return -1;
		i = end + 1;
	}
	return 0;
}

int wa_multipart_boundary(const char *ct, char *boundary_r, size_t size, const char **error_r)
{
	if (str_ncasecmp(ct, "multipart/form-data", 19) != 0) {
		*error_r = "not multipart/form-data";
		return -1;
	}
	const char *p = ct + 19;
	while (*p != '\0') {
		while (*p == ';' || *p == ' ' || *p == '\t')
			p++;
		if (str_ncasecmp(p, "boundary=", 9) == 0) {
			p += 9;
			bool quoted = *p == '"';
			if (quoted)
				p++;
			size_t n = 0;
			while (p[n] != '\0' && (quoted ? p[n] != '"' : (p[n] != ';' && p[n] != ' ')))
				n++;
			if (quoted && p[n] != '"') {
				*error_r = "unterminated boundary";
				return -1;
			}
			/* RFC 2046: 1 to 70 characters from bchars. */
			if (n == 0 || n > 70 || n + 1 > size) {
				*error_r = "bad boundary length";
				return -1;
			}
			for (size_t k = 0; k < n; k++) {
				unsigned char c = (unsigned char)p[k];
				if (!(c >= 0x20 && c < 0x7f) || c == '"' || c == '\\') {
					*error_r = "bad boundary character";
					return -1;
				}
			}
			memcpy(boundary_r, p, n);
			boundary_r[n] = '\0';
			return 0;
		}
		while (*p != '\0' && *p != ';')
			p++;
	}
	*error_r = "no boundary";
	return -1;
}

static const char *memfind(const char *h, size_t hlen, const char *n, size_t nlen)
{
	if (nlen == 0 || hlen < nlen)
		return NULL;
	for (size_t i = 0; i + nlen <= hlen; i++)
		if (h[i] == n[0] && memcmp(h + i, n, nlen) == 0)
			return h + i;
	return NULL;
}

/* The value of param (name= or filename=) in a Content-Disposition value
 * (line, len bytes): a quoted string (browsers escape '"' as %22) or a
 * token. NULL if absent. */
static char *disposition_param(const char *line, size_t len, const char *param)
{
	size_t plen = strlen(param);
	for (size_t i = 0; i + plen < len; i++) {
		if ((i == 0 || line[i - 1] == ';' || line[i - 1] == ' ') &&
		    str_ncasecmp(line + i, param, plen) == 0 && line[i + plen] == '=') {
			const char *v = line + i + plen + 1;
			size_t rest = len - (i + plen + 1);
			size_t n = 0;
			if (rest > 0 && v[0] == '"') {
				v++;
				rest--;
				while (n < rest && v[n] != '"')
					n++;
				if (n == rest)
					return NULL;
			} else {
				while (n < rest && v[n] != ';' && v[n] != ' ')
					n++;
			}
			return xstrndup(v, n);
		}
	}
	return NULL;
}

int wa_parse_multipart(const char *body, size_t len, const char *boundary, struct wa_params *p,
		       const char **error_r)
{
	char delim[80];
	size_t blen = strlen(boundary);
	if (blen == 0 || blen > 70) {
		*error_r = "bad boundary";
		return -1;
	}
	/* The first delimiter may start the body; later ones follow a CRLF. */
	snprintf(delim, sizeof(delim), "\r\n--%s", boundary);
	size_t dlen = blen + 4;
	const char *pos;
	if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0)
		pos = body + dlen - 2;
	else if ((pos = memfind(body, len, delim, dlen)) != NULL)
		pos += dlen;
	else {
		*error_r = "no multipart delimiter";
		return -1;
	}
	const char *end = body + len;
	for (;;) {
		/* After a delimiter: "--" ends the body, else CRLF and a part. */
		if (end - pos >= 2 && pos[0] == '-' && pos[1] == '-')
			return 0;
		while (pos < end && (*pos == ' ' || *pos == '\t'))
			pos++;
		if (end - pos < 2 || pos[0] != '\r' || pos[1] != '\n') {
			*error_r = "bad multipart delimiter line";
			return -1;
		}
		pos += 2;
		const char *next = memfind(pos, (size_t)(end - pos), delim, dlen);
		if (next == NULL) {
			*error_r = "multipart body not terminated";
			return -1;
		}
		const char *hend = memfind(pos, (size_t)(next - pos), "\r\n\r\n", 4);
		const char *data;
		if (next - pos >= 2 && pos[0] == '\r' && pos[1] == '\n') {
			hend = pos;	/* no headers at all */
			data = pos + 2;
		} else if (hend == NULL) {
			*error_r = "multipart part without header end";
			return -1;
		} else {
			data = hend + 4;
		}
		char *name = NULL, *filename = NULL;
		for (const char *l = pos; l < hend;) {
			const char *le = memfind(l, (size_t)(hend - l), "\r\n", 2);
			if (le == NULL)
				le = hend;
			size_t ll = (size_t)(le - l);
			if (ll > 20 && str_ncasecmp(l, "content-disposition:", 20) == 0 && name == NULL) {
				const char *v = l + 20;
				size_t vl = ll - 20;
				while (vl > 0 && *v == ' ') {
					v++;
					vl--;
				}
				if (vl >= 9 && str_ncasecmp(v, "form-data", 9) == 0) {
					name = disposition_param(v, vl, "name");
					filename = disposition_param(v, vl, "filename");
				}
			}
			l = le + 2;
		}
		if (name == NULL || name[0] == '\0' || !wa_valid_text(name, strlen(name)) ||
		    (filename != NULL && !wa_valid_text(filename, strlen(filename)))) {
			free(name);
			free(filename);
			*error_r = "multipart part without a valid form-data name";
			return -1;
		}
		size_t vlen = (size_t)(next - data);
		if (filename == NULL && !wa_valid_text(data, vlen)) {
			free(name);
			*error_r = "a field is not valid UTF-8 text";
			return -1;
		}
		char *value = xmalloc(vlen + 1);
		memcpy(value, data, vlen);
		value[vlen] = '\0';
		if (add(p, name, value, vlen, filename, error_r) < 0)
			return -1;
		pos = next + dlen;
	}
}

const char *wa_param_get(const struct wa_params *p, const char *name)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) == 0)
			return p->v[i].value;
	return NULL;
}

void wa_params_free(struct wa_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].name);
		free(p->v[i].value);
		free(p->v[i].filename);
	}
	free(p->v);
	p->v = NULL;
	p->n = p->cap = 0;
}
