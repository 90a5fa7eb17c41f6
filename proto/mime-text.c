/* Searchable text of a message (see mime-text.h): a walk over the part tree
 * that decodes text/ parts (transfer encoding, then charset via iconv, HTML
 * via html_text), the decoded header fields, a case fold for substring
 * search and the RFC 8970 preview. */
#include "autoconf.h"
#include "mime-text.h"
#include "mime-private.h"
#include "html_text.h"

#include <string.h>

void mime_text_init(struct mime_text *t)
{
	buf_init(&t->body, 0);
	buf_init(&t->headers, 0);
	t->complete = true;
}

void mime_text_free(struct mime_text *t)
{
	buf_free(&t->body);
	buf_free(&t->headers);
}

/* Append s[0..len) to out without letting out pass max bytes; a cut falls
 * on a UTF-8 character boundary and clears *complete. */
static void append_bounded(struct buf *out, size_t max, const char *s, size_t len,
			   bool *complete)
{
	size_t room = out->len < max ? max - out->len : 0;

	if (len > room) {
		len = room;
		while (len > 0 && ((unsigned char)s[len] & 0xC0) == 0x80)
			len--;
		*complete = false;
	}
	buf_append(out, s, len);
}

/* "Name: value\n" for every field of part's header, values unfolded and
 * RFC 2047-decoded, appended to out (bounded by max; after a cut no later
 * field is added, and *complete is cleared). */
static void header_text(const struct mime_message *msg, const struct mime_part *part,
			struct buf *out, size_t max, bool *complete)
{
	struct buf raw, dec, line;
	bool whole = true;

	buf_init(&raw, 0);
	buf_init(&dec, 0);
	buf_init(&line, 0);
	for (size_t i = 0; i < part->header_count && out->len < max && whole; i++) {
		const struct mime_header *h = &part->headers[i];

		buf_reset(&raw);
		buf_reset(&dec);
		buf_reset(&line);
		mime_field_value(msg->raw, h, &raw);
		mime_decode_words(raw.data != NULL ? raw.data : "", raw.len, &dec);
		mime_append_utf8_sanitized(&line, h->name, strlen(h->name));
		buf_append(&line, ": ", 2);
		mime_append_utf8_sanitized(&line, dec.data != NULL ? dec.data : "", dec.len);
		buf_append(&line, "\n", 1);
		append_bounded(out, max, line.data, line.len, &whole);
	}
	if (!whole)
		*complete = false;
	buf_free(&raw);
	buf_free(&dec);
	buf_free(&line);
}

struct walk {
	const struct mime_message *msg;
	struct mime_text *t;
	size_t max;
	bool any;
	bool cut;	/* the body reached its limit: nothing more goes in, so
			 * the body stays a prefix of the whole text */
};

/* Append s[0..len) to the body, bounded by the walk's limit. */
static void body_append(struct walk *w, const char *s, size_t len)
{
	bool whole = true;

	if (w->cut)
		return;
	append_bounded(&w->t->body, w->max, s, len, &whole);
	if (!whole) {
		w->cut = true;
		w->t->complete = false;
	}
}

static void walk_part(struct walk *w, const struct mime_part *part, unsigned depth)
{
	struct mime_text *t = w->t;

	/* A full body is not yet cut: only a part that adds text cuts it
	 * (and clears complete); parts that add nothing leave it whole. */
	if (w->cut || depth > MIME_HARD_MAX_DEPTH)
		return;
	if (part->child_count > 0) {
		for (size_t i = 0; i < part->child_count; i++)
			walk_part(w, &part->children[i], depth + 1);
		return;
	}
	if (part->message != NULL) {
		/* A forwarded message: its header is part of our body. */
		bool whole = true;

		if (w->any)
			body_append(w, "\n", 1);
		if (!w->cut)
			header_text(part->message->msg, part->message, &t->body, w->max, &whole);
		if (!whole) {
			w->cut = true;
			t->complete = false;
		}
		w->any = true;
		walk_part(w, part->message, depth + 1);
		return;
	}
	if (strcmp(part->type, "text") != 0)
		return;
	struct buf dec, utf8, plain;
	buf_init(&dec, 0);
	buf_init(&utf8, 0);
	buf_init(&plain, 0);
	mime_decode_part_body(part, &dec);
	const char *cs = mime_param_get(part->params, part->param_count, "charset");
	mime_charset_to_utf8(cs != NULL ? cs : "us-ascii", dec.data != NULL ? dec.data : "",
			     dec.len, &utf8);
	const struct buf *txt = &utf8;
	if (strcmp(part->subtype, "html") == 0) {
		html_text(utf8.data != NULL ? utf8.data : "", utf8.len, &plain);
		txt = &plain;
	}
	if (w->any)
		body_append(w, "\n", 1);
	/* NUL is not text (and PostgreSQL text cannot hold it). */
	const char *p = txt->data != NULL ? txt->data : "", *end = p + txt->len;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);

		body_append(w, p, n);
		p += n + (nul != NULL);
	}
	w->any = true;
	buf_free(&dec);
	buf_free(&utf8);
	buf_free(&plain);
}

void mime_text_extract(const struct mime_message *msg, size_t body_max, struct mime_text *t)
{
	struct walk w = { msg, t, t->body.len + body_max, false, false };

	header_text(msg, &msg->root, &t->headers, t->headers.len + MIME_TEXT_HEADERS_MAX,
		    &t->complete);
	walk_part(&w, &msg->root, 0);
}

/* Decode one UTF-8 character at s (n > 0 bytes); returns its length and the
 * code point in *cp (U+FFFD and length 1 for an invalid sequence). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		v = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		v = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		v = c & 0x07;
		min = 0x10000;
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (len > n) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80) {
			*cp = 0xFFFD;
			return 1;
		}
		v = v << 6 | (s[i] & 0x3F);
	}
	if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) {
		*cp = 0xFFFD;
		return 1;
	}
	*cp = v;
	return len;
}

/* Simple case folding (Unicode CaseFolding.txt, status C and S) for the
 * scripts mail is mostly written in; other code points are their own fold. */
static uint32_t fold_cp(uint32_t c)
{
	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
		return c + 32;
	if (c == 0xB5)
		return 0x3BC;			/* micro sign -> mu */
	if (c >= 0x100 && c <= 0x17F) {
		if (c == 0x130)
			return 'i';		/* I with dot */
		if (c == 0x178)
			return 0xFF;
		if (c == 0x17F)
			return 's';		/* long s */
		if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
			return c & 1 ? c + 1 : c;
		if (c == 0x131 || c == 0x138 || c == 0x149)
			return c;
		return c & 1 ? c : c + 1;
	}
	if (c >= 0x370 && c <= 0x3FF) {
		if (c == 0x386)
			return 0x3AC;
		if (c >= 0x388 && c <= 0x38A)
			return c + 37;
		if (c == 0x38C)
			return 0x3CC;
		if (c == 0x38E || c == 0x38F)
			return c + 63;
		if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
			return c + 32;
		if (c == 0x3C2)
			return 0x3C3;		/* final sigma */
		return c;
	}
	if (c >= 0x400 && c <= 0x40F)
		return c + 80;
	if (c >= 0x410 && c <= 0x42F)
		return c + 32;
	if ((c >= 0x460 && c <= 0x481) || (c >= 0x48A && c <= 0x4BF) ||
	    (c >= 0x4D0 && c <= 0x52F))
		return c & 1 ? c : c + 1;
	if (c >= 0x531 && c <= 0x556)
		return c + 48;		/* Armenian */
	if ((c >= 0x1E00 && c <= 0x1E95) || (c >= 0x1EA0 && c <= 0x1EFF))
		return c & 1 ? c : c + 1;	/* Latin Extended Additional (Vietnamese) */
	if (c == 0x1E9E)
		return 0xDF;		/* capital sharp s */
	if (c == 0x212A)
		return 'k';		/* Kelvin sign */
	if (c == 0x212B)
		return 0xE5;		/* Angstrom sign */
	if (c >= 0xFF21 && c <= 0xFF3A)
		return c + 32;		/* fullwidth Latin */
	return c;
}

void mime_text_fold(const char *s, size_t len, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	buf_reserve(out, len);
	while (p < end) {
		/* ASCII runs are the common case: copy them folded at once. */
		const unsigned char *run = p;

		while (p < end && *p < 0x80 && *p != 0 && !(*p >= 'A' && *p <= 'Z'))
			p++;
		buf_append(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		uint32_t cp;
		size_t n = utf8_next(p, (size_t)(end - p), &cp);

		p += n;
		if (cp != 0)
			html_append_codepoint(out, fold_cp(cp));
	}
}

static bool is_preview_space(uint32_t cp)
{
	return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' ||
	       cp == '\v' || cp == 0xA0 || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x2000 && cp <= 0x200A) || cp == 0x3000 || cp == 0x202F;
}

void mime_text_preview(const char *s, size_t len, size_t max_chars, struct buf *out)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	size_t chars = 0;
	bool space = false;

	while (p < end && chars < max_chars) {
		uint32_t cp;
		size_t n = utf8_next(p, (size_t)(end - p), &cp);

		p += n;
		if (is_preview_space(cp)) {
			space = chars > 0;
			continue;
		}
		/* Controls and invisible formatting characters carry no text. */
		if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xAD ||
		    cp == 0x200B || cp == 0x200C || cp == 0x200D || cp == 0xFEFF)
			continue;
		if (space) {
			if (chars + 1 >= max_chars)
				break;
			buf_append(out, " ", 1);
			chars++;
			space = false;
		}
		html_append_codepoint(out, cp);
		chars++;
	}
}
