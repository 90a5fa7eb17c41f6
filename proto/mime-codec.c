/* MIME codecs: base64 and quoted-printable transfer decodings, charset
 * conversion to UTF-8 through glibc iconv (invalid input becomes U+FFFD),
 * and RFC 2047 encoded words. Every decoder is best-effort and linear: bad
 * input is skipped or copied, never rejected. */
#include "autoconf.h"
#include "mime-private.h"

#include <errno.h>
#include <iconv.h>
#include <string.h>

static const char replacement[] = "\xEF\xBF\xBD";	/* U+FFFD */

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* ---- base64 ---- */

static signed char b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return (signed char)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (signed char)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (signed char)(c - '0' + 52);
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

void mime_decode_base64(const char *in, size_t len, struct buf *out)
{
	unsigned char chunk[3 * 1024];
	size_t n = 0;
	uint32_t acc = 0;
	unsigned bits = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		signed char v = b64val(c);

		if (v < 0) {
			if (c == '=') {
				/* Padding ends a group; a new block may follow. */
				acc = 0;
				bits = 0;
			}
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			chunk[n++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
			if (n == sizeof(chunk)) {
				buf_append(out, chunk, n);
				n = 0;
			}
		}
	}
	buf_append(out, chunk, n);
}

/* ---- quoted-printable ---- */

void mime_decode_qp(const char *in, size_t len, struct buf *out)
{
	const char *p = in, *end = in + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;	/* line content end */
		bool crlf = false;

		if (nl != NULL && le > p && le[-1] == '\r') {
			le--;
			crlf = true;
		}
		/* RFC 2045 6.7 (3): trailing whitespace is not data. */
		while (le > p && is_wsp(le[-1]))
			le--;
		bool soft = false;
		while (p < le) {
			const char *eq = memchr(p, '=', (size_t)(le - p));
			int h, l;

			if (eq == NULL) {
				buf_append(out, p, (size_t)(le - p));
				break;
			}
			buf_append(out, p, (size_t)(eq - p));
			p = eq;
			if (p + 1 == le) {
				soft = true;	/* "=" at the end: soft line break */
				break;
			}
			if (p + 2 < le && (h = hexval((unsigned char)p[1])) >= 0 &&
			    (l = hexval((unsigned char)p[2])) >= 0) {
				char c = (char)(h * 16 + l);

				buf_append(out, &c, 1);
				p += 3;
			} else {
				buf_append(out, "=", 1);	/* invalid: keep it */
				p++;
			}
		}
		if (nl == NULL)
			break;
		if (!soft)
			buf_append(out, crlf ? "\r\n" : "\n", crlf ? 2 : 1);
		p = nl + 1;
	}
}

/* ---- UTF-8 and charsets ---- */

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return left >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
		    (s[3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[1] < 0x90)
			return 0;
		if (c == 0xF4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

void mime_append_utf8_sanitized(struct buf *out, const char *src, size_t len)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, run = 0;

	while (i < len) {
		if (s[i] >= 0x80 || s[i] == 0) {
			size_t n = s[i] == 0 ? 0 : utf8_seq(s + i, len - i);

			if (n > 0) {
				i += n;
				continue;
			}
			buf_append(out, src + run, i - run);
			if (s[i] != 0)
				buf_append(out, replacement, 3);
			i++;
			run = i;
		} else {
			i++;
		}
	}
	buf_append(out, src + run, i - run);
}

static const struct {
	const char *alias, *name;
} charset_aliases[] = {
	{ "ks_c_5601-1987", "CP949" },
	{ "ks_c_5601", "CP949" },
	{ "iso-8859-8-i", "ISO-8859-8" },
	{ "iso-8859-6-i", "ISO-8859-6" },
	{ "x-sjis", "SHIFT_JIS" },
	{ "gb2312", "GBK" },
	{ "x-gbk", "GBK" },
	{ "x-mac-roman", "MACINTOSH" },
	{ "x-user-defined", "CP1252" },
};

static bool charset_is_utf8(const char *cs)
{
	return str_casecmp(cs, "utf-8") == 0 || str_casecmp(cs, "utf8") == 0 ||
		str_casecmp(cs, "us-ascii") == 0 || str_casecmp(cs, "ascii") == 0 ||
		str_casecmp(cs, "ansi_x3.4-1968") == 0;
}

int mime_charset_to_utf8(const char *charset, const char *in, size_t len, struct buf *out)
{
	char name[64];
	size_t cl = charset != NULL ? strlen(charset) : 0;

	if (charset != NULL && charset_is_utf8(charset)) {
		mime_append_utf8_sanitized(out, in, len);
		return 0;
	}
	/* Only plain names reach iconv: no "//" suffixes, no paths. */
	bool ok = cl > 0 && cl < sizeof(name);
	for (size_t i = 0; ok && i < cl; i++) {
		char c = charset[i];

		ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.' || c == ':';
	}
	if (!ok) {
		mime_append_utf8_sanitized(out, in, len);
		return -1;
	}
	memcpy(name, charset, cl + 1);
	for (size_t i = 0; i < ARRAY_SIZE(charset_aliases); i++) {
		if (str_casecmp(name, charset_aliases[i].alias) == 0) {
			strcpy(name, charset_aliases[i].name);
			break;
		}
	}
	iconv_t cd = iconv_open("UTF-8", name);
	if (cd == (iconv_t)-1) {
		mime_append_utf8_sanitized(out, in, len);
		return -1;
	}
	char obuf[4096];
	char *ip = (char *)in;
	size_t ileft = len;
	while (ileft > 0) {
		char *op = obuf;
		size_t oleft = sizeof(obuf);
		size_t r = iconv(cd, &ip, &ileft, &op, &oleft);

		buf_append(out, obuf, (size_t)(op - obuf));
		if (r != (size_t)-1)
			continue;
		if (errno == E2BIG)
			continue;
		buf_append(out, replacement, 3);
		if (errno != EILSEQ)
			break;	/* EINVAL: a truncated sequence at the end */
		ip++;
		ileft--;
	}
	char *op = obuf;
	size_t oleft = sizeof(obuf);
	iconv(cd, NULL, NULL, &op, &oleft);
	buf_append(out, obuf, (size_t)(op - obuf));
	iconv_close(cd);
	return 0;
}

/* ---- RFC 2047 encoded words ---- */

/* Parse "=?charset?e?text?=" at p. Returns the end of the word or NULL. */
static const char *parse_word(const char *p, const char *end, const char **cs, size_t *cs_len,
			      char *enc, const char **text, size_t *text_len)
{
	const char *q = p + 2, *c0 = q;

	while (q < end && *q != '?' && !is_wsp(*q) && *q != '\r' && *q != '\n' &&
	       (size_t)(q - c0) < 64)
		q++;
	if (q >= end || *q != '?' || q == c0)
		return NULL;
	*cs = c0;
	*cs_len = (size_t)(q - c0);
	if (q + 2 >= end || q[2] != '?')
		return NULL;
	*enc = q[1];
	if (*enc != 'B' && *enc != 'b' && *enc != 'Q' && *enc != 'q')
		return NULL;
	const char *t = q + 3, *e = t;
	while (e < end && *e != '?' && !is_wsp(*e) && *e != '\r' && *e != '\n')
		e++;
	if (e + 1 >= end || e[0] != '?' || e[1] != '=')
		return NULL;
	*text = t;
	*text_len = (size_t)(e - t);
	return e + 2;
}

static void decode_q(const char *s, size_t len, struct buf *out)
{
	for (size_t i = 0; i < len; i++) {
		int h, l;

		if (s[i] == '_') {
			buf_append(out, " ", 1);
		} else if (s[i] == '=' && i + 2 < len &&
			   (h = hexval((unsigned char)s[i + 1])) >= 0 &&
			   (l = hexval((unsigned char)s[i + 2])) >= 0) {
			char c = (char)(h * 16 + l);

			buf_append(out, &c, 1);
			i += 2;
		} else {
			buf_append(out, &s[i], 1);
		}
	}
}

static void flush_words(struct buf *out, char *charset, struct buf *pending)
{
	if (pending->len > 0)
		mime_charset_to_utf8(charset, pending->data, pending->len, out);
	buf_reset(pending);
	charset[0] = '\0';
}

void mime_decode_words(const char *in, size_t len, struct buf *out)
{
	const char *p = in, *end = in + len;
	struct buf pending;
	char charset[65] = "";
	bool last_word = false;

	buf_init(&pending, 0);
	while (p < end) {
		const char *w = memmem(p, (size_t)(end - p), "=?", 2);

		if (w == NULL)
			break;
		const char *cs, *text;
		size_t cs_len, text_len;
		char enc;
		const char *we = parse_word(w, end, &cs, &cs_len, &enc, &text, &text_len);

		if (we == NULL) {
			flush_words(out, charset, &pending);
			mime_append_utf8_sanitized(out, p, (size_t)(w + 2 - p));
			p = w + 2;
			last_word = false;
			continue;
		}
		/* Whitespace between two encoded words is dropped (6.2). */
		bool only_ws = true;
		for (const char *g = p; g < w && only_ws; g++)
			only_ws = is_wsp(*g) || *g == '\r' || *g == '\n';
		if (!(last_word && only_ws)) {
			flush_words(out, charset, &pending);
			mime_append_utf8_sanitized(out, p, (size_t)(w - p));
		}
		/* RFC 2231 section 5: charset*language */
		const char *star = memchr(cs, '*', cs_len);
		if (star != NULL)
			cs_len = (size_t)(star - cs);
		char wcs[65];
		memcpy(wcs, cs, cs_len);
		wcs[cs_len] = '\0';
		if (str_casecmp(wcs, charset) != 0) {
			flush_words(out, charset, &pending);
			memcpy(charset, wcs, cs_len + 1);
		}
		if (enc == 'B' || enc == 'b')
			mime_decode_base64(text, text_len, &pending);
		else
			decode_q(text, text_len, &pending);
		p = we;
		last_word = true;
	}
	flush_words(out, charset, &pending);
	if (p < end)
		mime_append_utf8_sanitized(out, p, (size_t)(end - p));
	buf_free(&pending);
}

int mime_decode_part_body(const struct mime_part *part, struct buf *out)
{
	const char *body = part->msg->raw + part->body_offset;
	const char *enc = part->encoding;

	if (enc == NULL || str_casecmp(enc, "7bit") == 0 || str_casecmp(enc, "8bit") == 0 ||
	    str_casecmp(enc, "binary") == 0) {
		buf_append(out, body, part->body_len);
		return 0;
	}
	if (str_casecmp(enc, "base64") == 0) {
		mime_decode_base64(body, part->body_len, out);
		return 0;
	}
	if (str_casecmp(enc, "quoted-printable") == 0) {
		mime_decode_qp(body, part->body_len, out);
		return 0;
	}
	buf_append(out, body, part->body_len);
	return -2;
}
