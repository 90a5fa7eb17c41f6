/* SMTP replies (RFC 5321 4.2, enhanced codes RFC 2034/3463), the EHLO
 * keyword list and RFC 3461 xtext. Every writer appends to a caller's
 * struct buf and leaves it unchanged when its maximum would be passed. */
#include "autoconf.h"
#include "smtp_parser.h"

#include <inttypes.h>
#include <string.h>

/* class "." subject "." detail, class = the code's first digit (2, 4, 5),
 * subject and detail 1*3digit (RFC 3463 2). */
static bool enhanced_valid(const char *e, unsigned code)
{
	int part;

	if (e[0] != (char)('0' + code / 100) || e[1] != '.')
		return false;
	e += 2;
	for (part = 0; part < 2; part++) {
		int digits = 0;

		while (*e >= '0' && *e <= '9' && digits < 4) {
			e++;
			digits++;
		}
		if (digits < 1 || digits > 3)
			return false;
		if (part == 0 && *e++ != '.')
			return false;
	}
	return *e == '\0';
}

/* Walks the text as reply lines: one per '\n'-separated line (a final '\n'
 * adds none), each wrapped to max octets. */
struct segments {
	const char *p, *end;
	size_t max;
	bool done;
};

static void segment_next(struct segments *s, const char **start_r, size_t *len_r)
{
	const char *nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
	const char *le = nl != NULL ? nl : s->end;
	size_t n = (size_t)(le - s->p), cut;

	*start_r = s->p;
	if (n <= s->max) {
		*len_r = n;
		s->p = nl != NULL ? nl + 1 : s->end;
		s->done = nl == NULL || nl + 1 == s->end;
		return;
	}
	/* Too long: break at the last space that fits, else between two
	   UTF-8 characters. */
	for (cut = s->max; cut > 0 && s->p[cut] != ' '; cut--)
		;
	if (cut > 0) {
		*len_r = cut;
		s->p += cut + 1;
		return;
	}
	for (cut = s->max; cut > 0 && ((unsigned char)s->p[cut] & 0xc0) == 0x80; cut--)
		;
	if (cut == 0)
		cut = s->max;
	*len_r = cut;
	s->p += cut;
}

static int append_sanitized(struct buf *out, const char *s, size_t n)
{
	size_t i;

	if (buf_reserve(out, n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		out->data[out->len + i] = (char)(c < 32 || c == 127 ? '?' : c);
	}
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

int smtp_reply_format(struct buf *out, unsigned code, const char *enhanced, const char *text)
{
	size_t orig = out->len, prefix;
	struct segments s;
	int ret = 0;

	if (code < 200 || code > 599 || (enhanced != NULL && !enhanced_valid(enhanced, code)))
		return -1;
	if (text == NULL)
		text = "";
	prefix = 4 + (enhanced != NULL ? strlen(enhanced) + 1 : 0);
	s.p = text;
	s.end = text + strlen(text);
	s.max = SMTP_MAX_REPLY_LINE - 2 - prefix;
	s.done = false;
	while (!s.done && ret == 0) {
		const char *seg;
		size_t len;

		segment_next(&s, &seg, &len);
		/* Reply-code [ SP textstring ] CRLF: no SP before an empty end. */
		if (s.done && enhanced == NULL && len == 0)
			ret = buf_printf(out, "%03u", code);
		else
			ret = buf_printf(out, "%03u%c", code, s.done ? ' ' : '-');
		if (ret == 0 && enhanced != NULL) {
			ret = buf_append_str(out, enhanced);
			if (ret == 0 && len > 0)
				ret = buf_append(out, " ", 1);
		}
		if (ret == 0)
			ret = append_sanitized(out, seg, len);
		if (ret == 0)
			ret = buf_append(out, "\r\n", 2);
	}
	if (ret < 0) {
		out->len = orig;
		if (out->data != NULL)
			out->data[orig] = '\0';
	}
	return ret;
}

static const struct {
	unsigned ext;
	const char *keyword;
} ehlo_keywords[] = {
	{ SMTP_EXT_PIPELINING, "PIPELINING" },
	{ SMTP_EXT_SIZE, "SIZE" },
	{ SMTP_EXT_8BITMIME, "8BITMIME" },
	{ SMTP_EXT_BINARYMIME, "BINARYMIME" },
	{ SMTP_EXT_CHUNKING, "CHUNKING" },
	{ SMTP_EXT_SMTPUTF8, "SMTPUTF8" },
	{ SMTP_EXT_DSN, "DSN" },
	{ SMTP_EXT_ENHANCEDSTATUSCODES, "ENHANCEDSTATUSCODES" },
	{ SMTP_EXT_STARTTLS, "STARTTLS" },
	{ SMTP_EXT_AUTH, "AUTH" },
};

int smtp_ehlo_keywords(struct buf *out, unsigned extensions, uint64_t max_size,
		       const char *auth_mechs)
{
	size_t orig = out->len, i;
	int ret = 0;

	for (i = 0; i < ARRAY_SIZE(ehlo_keywords) && ret == 0; i++) {
		unsigned ext = ehlo_keywords[i].ext;

		if ((extensions & ext) == 0)
			continue;
		if (ext == SMTP_EXT_AUTH) {
			if (auth_mechs != NULL && auth_mechs[0] != '\0')
				ret = buf_printf(out, "\nAUTH %s", auth_mechs);
		} else if (ext == SMTP_EXT_SIZE && max_size > 0)
			ret = buf_printf(out, "\nSIZE %" PRIu64, max_size);
		else
			ret = buf_printf(out, "\n%s", ehlo_keywords[i].keyword);
	}
	if (ret < 0) {
		out->len = orig;
		if (out->data != NULL)
			out->data[orig] = '\0';
	}
	return ret;
}

static int upper_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int smtp_xtext_decode(const char *in, size_t len, struct buf *out, const char **error_r)
{
	size_t orig = out->len, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		char d;

		if (c == '+') {
			int hi, lo;

			if (len - i < 3 || (hi = upper_hex_value((unsigned char)in[i + 1])) < 0 ||
			    (lo = upper_hex_value((unsigned char)in[i + 2])) < 0) {
				*error_r = "xtext: '+' must be followed by two upper-case hex digits";
				goto fail;
			}
			d = (char)(hi * 16 + lo);
			if (d == '\0') {
				*error_r = "xtext: encoded NUL";
				goto fail;
			}
			i += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			*error_r = "xtext: invalid character";
			goto fail;
		} else
			d = (char)c;
		if (buf_append(out, &d, 1) < 0) {
			*error_r = "xtext: value too long";
			goto fail;
		}
	}
	if (out->data == NULL)
		(void)buf_reserve(out, 0);
	return 0;
fail:
	out->len = orig;
	if (out->data != NULL)
		out->data[orig] = '\0';
	return -1;
}

int smtp_xtext_encode(struct buf *out, const char *in, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t orig = out->len, i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		int ret;

		if (c >= 33 && c <= 126 && c != '+' && c != '=')
			ret = buf_append(out, &in[i], 1);
		else {
			char enc[3] = { '+', hex[c >> 4], hex[c & 15] };

			ret = buf_append(out, enc, 3);
		}
		if (ret < 0) {
			out->len = orig;
			if (out->data != NULL)
				out->data[orig] = '\0';
			return -1;
		}
	}
	if (out->data == NULL && buf_reserve(out, 0) < 0)
		return -1;
	return 0;
}
