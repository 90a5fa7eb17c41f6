/* The searchable text of a message, for IMAP SEARCH BODY/TEXT and FETCH
 * PREVIEW (RFC 8970): text parts decoded from their transfer encoding and
 * charset, HTML reduced to text, header fields decoded (RFC 2047), all in
 * UTF-8; a Unicode case fold so that substring matching can be done on
 * folded text; and the preview. Pure: no I/O, no globals. */
#ifndef CAIRN_MIME_TEXT_H
#define CAIRN_MIME_TEXT_H

#include "mime.h"

/* RFC 8970 3: a preview is at most 256 characters. */
#define MIME_TEXT_PREVIEW_CHARS 256
/* The decoded header block kept for SEARCH TEXT (bytes). */
#define MIME_TEXT_HEADERS_MAX (64 * 1024)

/* The text of one message. Initialise with mime_text_init. */
struct mime_text {
	struct buf body;	/* text of every text/ part (HTML stripped) and of
				 * nested messages' headers: what BODY searches */
	struct buf headers;	/* "Name: decoded value\n" per header field of the
				 * message: what TEXT searches besides body */
	bool complete;		/* false: body or headers were cut at their limit */
};

void mime_text_init(struct mime_text *t);
void mime_text_free(struct mime_text *t);

/* Fill t (appending) from msg: body at most body_max bytes, headers at most
 * MIME_TEXT_HEADERS_MAX bytes, both cut on a character boundary (and
 * nothing added after a cut: each is a prefix of the whole text). Parts that
 * are not text/ (images, application/pdf, ...) add nothing, whatever their
 * disposition; text/ attachments do count. Parts are separated by "\n".
 * The output is valid UTF-8 without NUL bytes. */
void mime_text_extract(const struct mime_message *msg, size_t body_max, struct mime_text *t);

/* Append s[0..len) case-folded: every code point replaced by its simple
 * Unicode case folding for Latin, Greek, Cyrillic and Armenian scripts
 * (ASCII, Latin-1, Latin Extended-A/B in part, final sigma to sigma, ...),
 * invalid UTF-8 by U+FFFD, NUL dropped. Substring search is then byte
 * comparison of folded text with a folded needle. */
void mime_text_fold(const char *s, size_t len, struct buf *out);

/* Append the RFC 8970 preview of text: whitespace runs (including U+00A0
 * and line breaks) collapsed to one space, trimmed, control characters
 * dropped, at most max_chars characters. Valid UTF-8 out. */
void mime_text_preview(const char *s, size_t len, size_t max_chars, struct buf *out);

#endif
