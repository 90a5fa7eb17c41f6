/* RFC 6376 section 3.4 canonicalisation and header splitting for the DKIM
 * signer. Everything here works on the bytes of the message as it will be
 * sent (CRLF line ends); only CRLF ends a line, a lone CR or LF is data. */
#include "dkim_canon.h"

#include <string.h>

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* Offset of the CRLF at or after pos, or len. */
static size_t find_crlf(const char *s, size_t len, size_t pos)
{
	for (size_t i = pos; i + 1 < len; i++) {
		if (s[i] == '\r' && s[i + 1] == '\n')
			return i;
	}
	return len;
}

int dkim_split_header(const char *msg, size_t len, struct dkim_field *fields, size_t max,
		      size_t *count_r, size_t *body_r, const char **error_r)
{
	size_t pos = 0, count = 0;
	*count_r = 0;
	*body_r = len;
	while (pos < len) {
		size_t eol = find_crlf(msg, len, pos);
		if (eol == pos) {
			*body_r = pos + 2;	/* the empty line */
			break;
		}
		if (is_wsp(msg[pos])) {
			if (count == 0) {
				*error_r = "DKIM: the header starts with a continuation line";
				return -1;
			}
			/* A continuation line: the field grows. */
			struct dkim_field *f = &fields[count - 1];
			f->len = (eol < len ? eol + 2 : len) - (size_t)(f->text - msg);
			pos = eol < len ? eol + 2 : len;
			continue;
		}
		const char *colon = memchr(msg + pos, ':', eol - pos);
		if (colon == NULL) {
			*error_r = "DKIM: a header line that is neither a field nor a continuation";
			return -1;
		}
		if (count == max) {
			*error_r = "DKIM: too many header fields";
			return -1;
		}
		size_t namelen = (size_t)(colon - (msg + pos));
		while (namelen > 0 && is_wsp(msg[pos + namelen - 1]))
			namelen--;
		if (namelen == 0) {
			*error_r = "DKIM: a header field without a name";
			return -1;
		}
		/* RFC 5322 2.2: ftext is printable ASCII but ':'. */
		for (size_t i = 0; i < namelen; i++) {
			unsigned char c = (unsigned char)msg[pos + i];
			if (c < 33 || c > 126) {
				*error_r = "DKIM: a header field name with a character RFC 5322 forbids";
				return -1;
			}
		}
		fields[count].text = msg + pos;
		fields[count].namelen = namelen;
		fields[count].len = (eol < len ? eol + 2 : len) - pos;
		count++;
		pos = eol < len ? eol + 2 : len;
	}
	*count_r = count;
	return 0;
}

bool dkim_field_is(const struct dkim_field *f, const char *name)
{
	return str_case_eq_n(f->text, f->namelen, name);
}

/* field without its final CRLF. */
static size_t strip_crlf(const char *field, size_t len)
{
	if (len >= 2 && field[len - 2] == '\r' && field[len - 1] == '\n')
		return len - 2;
	return len;
}

void dkim_canon_header_relaxed(const char *field, size_t len, bool crlf, struct buf *out)
{
	len = strip_crlf(field, len);
	const char *colon = memchr(field, ':', len);
	size_t namelen = colon != NULL ? (size_t)(colon - field) : len;
	size_t end = namelen;
	while (end > 0 && is_wsp(field[end - 1]))
		end--;
	for (size_t i = 0; i < end; i++) {
		char c = field[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		buf_append(out, &c, 1);
	}
	buf_append(out, ":", 1);
	if (colon != NULL) {
		/* Unfold (drop CRLF), squeeze WSP, trim both ends. */
		bool space = false, started = false;
		for (size_t i = namelen + 1; i < len; i++) {
			char c = field[i];
			if (c == '\r' && i + 1 < len && field[i + 1] == '\n') {
				i++;
				continue;
			}
			if (is_wsp(c)) {
				space = started;
				continue;
			}
			if (space)
				buf_append(out, " ", 1);
			space = false;
			started = true;
			buf_append(out, &c, 1);
		}
	}
	if (crlf)
		buf_append(out, "\r\n", 2);
}

void dkim_canon_header_simple(const char *field, size_t len, bool crlf, struct buf *out)
{
	buf_append(out, field, crlf ? len : strip_crlf(field, len));
}

/* Both body forms: each line (possibly transformed) is written only once a
 * non-empty line follows, so trailing empty lines vanish. */
static void canon_body(const char *body, size_t len, bool relaxed, struct buf *out)
{
	size_t pending = 0, pos = 0;
	struct buf line;
	buf_init(&line, 0);
	while (pos < len) {
		size_t eol = find_crlf(body, len, pos);
		buf_reset(&line);
		if (relaxed) {
			bool space = false;
			for (size_t i = pos; i < eol; i++) {
				if (is_wsp(body[i])) {
					space = true;
					continue;
				}
				if (space)
					buf_append(&line, " ", 1);
				space = false;
				buf_append(&line, body + i, 1);
			}
			/* A trailing WSP run is simply not written. */
		} else {
			buf_append(&line, body + pos, eol - pos);
		}
		if (line.len == 0) {
			pending++;
		} else {
			for (; pending > 0; pending--)
				buf_append(out, "\r\n", 2);
			buf_append(out, line.data, line.len);
			buf_append(out, "\r\n", 2);
		}
		pos = eol < len ? eol + 2 : len;
	}
	buf_free(&line);
}

void dkim_canon_body_relaxed(const char *body, size_t len, struct buf *out)
{
	canon_body(body, len, true, out);
}

void dkim_canon_body_simple(const char *body, size_t len, struct buf *out)
{
	size_t before = out->len;
	canon_body(body, len, false, out);
	if (out->len == before)
		buf_append(out, "\r\n", 2);
}
