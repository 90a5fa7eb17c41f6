/* iMIP's MIME helpers: the calendar part of a received message and the
 * loop-prevention header fields (inbound), the encoders of the composed
 * invitation (outbound). Pure. */
#include "autoconf.h"
#include "mime-imip.h"
#include "mime-private.h"
#include "sasl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- the calendar part ---- */

enum pick { PICK_NONE, PICK_ICS, PICK_CALENDAR, PICK_CALENDAR_METHOD };

static enum pick rank(const struct mime_part *p)
{
	if (p->type == NULL || p->subtype == NULL)
		return PICK_NONE;
	if (strcmp(p->type, "text") == 0 && strcmp(p->subtype, "calendar") == 0)
		return mime_param_get(p->params, p->param_count, "method") != NULL ?
			       PICK_CALENDAR_METHOD : PICK_CALENDAR;
	if (strcmp(p->type, "application") == 0 && strcmp(p->subtype, "ics") == 0)
		return PICK_ICS;
	return PICK_NONE;
}

/* Depth-first through multipart containers; message/rfc822 parts are not
 * entered (a forwarded invitation is not one for this recipient). */
static void walk(const struct mime_part *p, unsigned depth, const struct mime_part **best,
		 enum pick *best_rank)
{
	if (depth > MIME_HARD_MAX_DEPTH)
		return;
	if (p->type != NULL && strcmp(p->type, "multipart") == 0) {
		for (size_t i = 0; i < p->child_count && *best_rank != PICK_CALENDAR_METHOD; i++)
			walk(&p->children[i], depth + 1, best, best_rank);
		return;
	}
	enum pick r = rank(p);
	if (r > *best_rank) {
		*best = p;
		*best_rank = r;
	}
}

int imip_find_calendar(const struct mime_message *msg, struct imip_part *part_r)
{
	memset(part_r, 0, sizeof(*part_r));
	buf_init(&part_r->data, IMIP_MAX_CALENDAR);
	const struct mime_part *best = NULL;
	enum pick best_rank = PICK_NONE;
	walk(&msg->root, 0, &best, &best_rank);
	if (best == NULL)
		goto none;
	part_r->part = best;
	part_r->text_calendar = best_rank != PICK_ICS;
	const char *method = mime_param_get(best->params, best->param_count, "method");
	if (method != NULL && strlen(method) < sizeof(part_r->method)) {
		size_t i = 0;
		for (; method[i] != '\0'; i++)
			part_r->method[i] = (char)toupper((unsigned char)method[i]);
		part_r->method[i] = '\0';
	}
	if (best->body_len > 4 * (size_t)IMIP_MAX_CALENDAR)
		goto none;	/* no need to decode what cannot fit */
	struct buf raw;
	buf_init(&raw, 0);
	mime_decode_part_body(best, &raw);
	if (raw.len == 0 || raw.len > IMIP_MAX_CALENDAR) {
		buf_free(&raw);
		goto none;
	}
	const char *charset = mime_param_get(best->params, best->param_count, "charset");
	int ret;
	if (charset == NULL || str_casecmp(charset, "utf-8") == 0 ||
	    str_casecmp(charset, "us-ascii") == 0) {
		mime_append_utf8_sanitized(&part_r->data, raw.data, raw.len);
		ret = part_r->data.len == 0 ? -1 : 0;
	} else {
		ret = mime_charset_to_utf8(charset, raw.data, raw.len, &part_r->data);
		ret = part_r->data.len == 0 ? -1 : 0;	/* unknown charset: best effort */
	}
	buf_free(&raw);
	/* The buffer's maximum may have cut a conversion short. */
	if (ret < 0 || part_r->data.len >= IMIP_MAX_CALENDAR)
		goto none;
	return 0;
none:
	imip_part_free(part_r);
	return -1;
}

void imip_part_free(struct imip_part *part)
{
	buf_free(&part->data);
	memset(part, 0, sizeof(*part));
}

/* ---- loop prevention ---- */

/* The first word of the field's value, lower-cased, into out. */
static bool field_word(const struct mime_message *msg, const char *name, char *out,
		       size_t size)
{
	struct buf v;
	buf_init(&v, 0);
	if (mime_header_raw(msg, &msg->root, name, &v) < 0) {
		buf_free(&v);
		return false;
	}
	const char *p = v.data != NULL ? v.data : "";
	const char *end = p + v.len;
	mime_skip_cfws(&p, end, NULL);
	size_t n = 0;
	while (p < end && n + 1 < size && *p != ';' && *p != ' ' && *p != '\t' && *p != '(') {
		out[n++] = (char)tolower((unsigned char)*p);
		p++;
	}
	out[n] = '\0';
	buf_free(&v);
	return true;
}

const char *imip_no_auto_reply(const struct mime_message *msg)
{
	char w[64];
	if (field_word(msg, "Auto-Submitted", w, sizeof(w)) && strcmp(w, "no") != 0)
		return "Auto-Submitted";
	if (mime_find_header(&msg->root, "List-Id") != NULL ||
	    mime_find_header(&msg->root, "List-Post") != NULL)
		return "mailing list";
	if (field_word(msg, "Precedence", w, sizeof(w)) &&
	    (strcmp(w, "bulk") == 0 || strcmp(w, "list") == 0 || strcmp(w, "junk") == 0))
		return "Precedence";
	struct buf v;
	buf_init(&v, 0);
	bool suppress = false;
	if (mime_header_raw(msg, &msg->root, "X-Auto-Response-Suppress", &v) == 0 && v.data != NULL) {
		/* Exchange's field: All, AutoReply, OOF ... */
		for (const char *p = v.data; *p != '\0' && !suppress; p++)
			suppress = (p == v.data || p[-1] == ' ' || p[-1] == ',') &&
				   (str_ncasecmp(p, "all", 3) == 0 ||
				    str_ncasecmp(p, "autoreply", 9) == 0);
	}
	buf_free(&v);
	return suppress ? "X-Auto-Response-Suppress" : NULL;
}

/* ---- encoders ---- */

void imip_qp_encode(const char *in, size_t len, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '\r' && i + 1 < len && in[i + 1] == '\n')
			continue;	/* the LF makes the break */
		if (c == '\n') {
			buf_append(out, "\r\n", 2);
			col = 0;
			continue;
		}
		bool at_eol = i + 1 == len || in[i + 1] == '\n' ||
			      (in[i + 1] == '\r' && i + 2 < len && in[i + 2] == '\n');
		bool plain = (c >= 33 && c <= 126 && c != '=') || ((c == ' ' || c == '\t') && !at_eol);
		size_t w = plain ? 1 : 3;
		/* A soft break leaves room for "=" (76 with it). */
		if (col + w > 75) {
			buf_append(out, "=\r\n", 3);
			col = 0;
		}
		if (plain) {
			buf_append(out, (const char *)&c, 1);
		} else {
			char e[3] = { '=', hex[c >> 4], hex[c & 15] };
			buf_append(out, e, 3);
		}
		col += w;
	}
	if (col > 0)
		buf_append(out, "\r\n", 2);
}

void imip_base64_lines(const void *in, size_t len, struct buf *out)
{
	const unsigned char *p = in;
	for (size_t off = 0; off < len; off += 57) {
		size_t n = len - off < 57 ? len - off : 57;
		base64_encode(p + off, n, out);
		buf_append(out, "\r\n", 2);
	}
}

static bool printable_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x7f || ((unsigned char)*s < 0x20 && *s != '\t' &&
						  *s != '\r' && *s != '\n'))
			return false;
	return true;
}

/* Length of the UTF-8 sequence starting with c (1 for a stray byte). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xf0 && c < 0xf8 ? 4 : c >= 0xe0 ? (c < 0xf0 ? 3 : 1) : c >= 0xc0 ? 2 : 1;
}

/* RFC 2047 B words for value, each at most 75 characters ("=?UTF-8?B?" +
 * 4*15 + "?=" = 72), separated by CRLF SP; col is the current column. */
static void encoded_words(const char *value, size_t col, struct buf *out)
{
	size_t len = strlen(value);
	size_t i = 0;
	bool first = true;
	while (i < len) {
		/* what fits: the first word on the current line, the others
		 * on a line of their own */
		size_t max = 45;
		if (first) {
			max = col + 12 + 4 < 78 ? (78 - col - 12) / 4 * 3 : 0;
			if (max < 6) {
				buf_append(out, "\r\n ", 3);
				col = 1;
				max = 45;
			}
			max = max > 45 ? 45 : max;
		} else {
			buf_append(out, "\r\n ", 3);
			col = 1;
		}
		size_t n = 0;
		while (i + n < len) {
			size_t c = utf8_len((unsigned char)value[i + n]);
			if (i + n + c > len)
				c = len - i - n;
			if (n + c > max)
				break;
			n += c;
		}
		if (n == 0)
			n = len - i < max ? len - i : max;
		/* the chunk's encoded size: 12 + 4 * ceil(n / 3) */
		size_t w = 12 + 4 * ((n + 2) / 3);
		buf_append_str(out, "=?UTF-8?B?");
		struct buf b;
		buf_init(&b, 0);
		/* CR/LF never belong in a header value */
		char chunk[48];
		memcpy(chunk, value + i, n);
		for (size_t k = 0; k < n; k++)
			if (chunk[k] == '\r' || chunk[k] == '\n')
				chunk[k] = ' ';
		base64_encode(chunk, n, &b);
		if (b.data != NULL)
			buf_append(out, b.data, b.len);
		buf_free(&b);
		buf_append_str(out, "?=");
		col += w;
		i += n;
		first = false;
	}
}

/* Printable ASCII folded at spaces so lines stay short where possible. */
static void plain_value(const char *value, size_t col, struct buf *out)
{
	const char *p = value;
	while (*p != '\0') {
		const char *sp = p;
		while (*sp != '\0' && *sp != ' ')
			sp++;
		size_t word = (size_t)(sp - p);
		if (col + word > 78 && col > 1 && p != value && p[-1] == ' ') {
			/* fold before this word: the space that preceded it was
			 * already written, turn it into the fold */
			out->len--;
			buf_append(out, "\r\n ", 3);
			col = 1;
		}
		for (const char *q = p; q < sp; q++)
			buf_append(out, *q == '\r' || *q == '\n' ? " " : q, 1);
		col += word;
		if (*sp == ' ') {
			buf_append(out, " ", 1);
			col++;
			sp++;
		}
		p = sp;
	}
}

void imip_header(const char *name, const char *value, struct buf *out)
{
	buf_printf(out, "%s: ", name);
	size_t col = strlen(name) + 2;
	/* CR, LF and TAB become spaces, runs of spaces one, none at the ends:
	 * a header value is one line of words */
	size_t len = strlen(value);
	char *v = xmalloc(len + 1);
	size_t n = 0;
	for (const char *p = value; *p != '\0'; p++) {
		char c = *p == '\r' || *p == '\n' || *p == '\t' ? ' ' : *p;
		if (c == ' ' && (n == 0 || v[n - 1] == ' '))
			continue;
		v[n++] = c;
	}
	while (n > 0 && v[n - 1] == ' ')
		n--;
	v[n] = '\0';
	size_t run = 0, longest = 0;
	for (const char *p = v; *p != '\0'; p++) {
		run = *p == ' ' ? 0 : run + 1;
		longest = run > longest ? run : longest;
	}
	if (printable_ascii(v) && longest < 900)
		plain_value(v, col, out);
	else
		encoded_words(v, col, out);
	free(v);
	buf_append(out, "\r\n", 2);
}

void imip_header_mailbox(const char *name, const char *display, const char *address,
			 struct buf *out)
{
	buf_printf(out, "%s: ", name);
	size_t col = strlen(name) + 2;
	if (display != NULL && display[0] != '\0') {
		if (printable_ascii(display) && strlen(display) < 200) {
			buf_append(out, "\"", 1);
			for (const char *p = display; *p != '\0'; p++) {
				if (*p == '"' || *p == '\\')
					buf_append(out, "\\", 1);
				buf_append(out, *p == '\r' || *p == '\n' ? " " : p, 1);
			}
			buf_append(out, "\"", 1);
			col += strlen(display) + 2;
		} else {
			size_t before = out->len;
			encoded_words(display, col, out);
			/* the column after the last fold */
			col = 0;
			for (size_t i = out->len; i > before && out->data[i - 1] != '\n'; i--)
				col++;
		}
		if (col + strlen(address) + 3 > 78)
			buf_append(out, "\r\n", 2);
		buf_printf(out, " <%s>\r\n", address);
		return;
	}
	buf_printf(out, "%s\r\n", address);
}

bool imip_is_7bit(const char *data, size_t len)
{
	size_t line = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)data[i];
		if (c == 0 || c >= 0x80)
			return false;
		if (c == '\n') {
			line = 0;
			continue;
		}
		if (c == '\r' && i + 1 < len && data[i + 1] == '\n')
			continue;
		if (c == '\r')
			return false;	/* a bare CR */
		if (++line > 998)
			return false;
	}
	return true;
}
