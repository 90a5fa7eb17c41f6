/* RFC 5322 + MIME (RFC 2045-2049) message parser. It reads a raw message once
 * and builds its part tree with offsets into the raw bytes (nothing of the
 * body is copied), decoded header values (RFC 2047 encoded words, RFC 2231
 * parameters, charsets to UTF-8 via iconv), and renders what IMAP needs:
 * ENVELOPE, BODY/BODYSTRUCTURE and section contents. Pure: no I/O, no
 * globals. Malformed input is parsed best-effort, never out of bounds. */
#ifndef CAIRN_MIME_H
#define CAIRN_MIME_H

#include "util.h"

struct mime_limits {
	unsigned max_depth;	/* multipart/message nesting; deeper parts are leaves (default 32) */
	unsigned max_parts;	/* parts in all; further parts are not split out (default 10000) */
};

/* One header field as it appears in the raw message. */
struct mime_header {
	const char *name;	/* NUL-terminated copy, as sent */
	size_t offset;		/* of the field's first byte in the raw message */
	size_t len;		/* through its final CRLF/LF, folded lines included */
};

struct mime_param {
	char *name;		/* lower-cased */
	char *value;		/* decoded to UTF-8 (RFC 2231 continuations joined) */
};

struct mime_part {
	/* Offsets into the raw message. The header block includes the empty
	 * line that ends it (RFC 3501 HEADER / MIME); the body follows it. */
	size_t header_offset, header_len;
	size_t body_offset, body_len;
	size_t body_lines;		/* lines in the body (for BODYSTRUCTURE) */
	struct mime_header *headers;
	size_t header_count;
	char *type, *subtype;		/* lower-cased; "text"/"plain" when absent */
	struct mime_param *params;	/* Content-Type parameters */
	size_t param_count;
	char *id, *description, *encoding, *md5, *location;	/* NULL when absent */
	char *disposition;		/* lower-cased, NULL when absent */
	struct mime_param *disp_params;
	size_t disp_param_count;
	/* The same parameters as BODYSTRUCTURE shows them: RFC 2231 sections
	 * joined but still encoded, as "name*" "charset'lang'%XX...". */
	struct mime_param *imap_params, *imap_disp_params;
	size_t imap_param_count, imap_disp_param_count;
	char **languages;		/* Content-Language list */
	size_t language_count;
	struct mime_part *children;	/* multipart: its parts, in order */
	size_t child_count;
	struct mime_part *message;	/* message/rfc822 (and global): the nested message */
	const struct mime_message *msg;	/* the message whose raw bytes the offsets index */
};

struct mime_message {
	const char *raw;		/* borrowed: must outlive the struct */
	size_t size;
	size_t lines;			/* lines in the whole message */
	struct mime_part root;		/* the message's own header and body */
	/* ... the parser's private allocations follow in the .c file */
};

/* Parse raw[0..size). limits may be NULL for the defaults. raw is borrowed.
 * Never fails; free with mime_free. */
struct mime_message *mime_parse(const char *raw, size_t size, const struct mime_limits *limits);
/* Free a parsed message and set *msg to NULL. */
void mime_free(struct mime_message **msg);

/* Append the IMAP ENVELOPE of part (a message or a message/rfc822 part's
 * nested message), "(date subject from sender reply-to to cc bcc in-reply-to
 * message-id)", exactly as RFC 3501 7.4.2 / RFC 9051 7.5.2 define it. */
void mime_envelope(const struct mime_part *part, struct buf *out);
/* Append BODYSTRUCTURE (extended = true) or BODY (false) of part, as RFC
 * 3501 7.4.2 / RFC 9051 7.5.2 define them. */
void mime_bodystructure(const struct mime_part *part, bool extended, struct buf *out);

/* A section of an IMAP FETCH BODY[...] / BINARY[...]. */
enum mime_section_kind {
	MIME_SECTION_ALL,		/* BODY[] or BODY[1.2] (the part's content) */
	MIME_SECTION_HEADER,		/* HEADER */
	MIME_SECTION_HEADER_FIELDS,	/* HEADER.FIELDS (names) */
	MIME_SECTION_HEADER_FIELDS_NOT,	/* HEADER.FIELDS.NOT (names) */
	MIME_SECTION_TEXT,		/* TEXT */
	MIME_SECTION_MIME,		/* MIME (only with a part number) */
};

struct mime_section {
	unsigned path[32];		/* part numbers, 1-based; path_len 0 = the message */
	unsigned path_len;
	enum mime_section_kind kind;
	const char *const *fields;	/* HEADER.FIELDS names (case-insensitive) */
	size_t field_count;
};

/* Append the bytes of a section to out, exactly as IMAP returns them (before
 * any <partial>). Returns 0, or -1 when the path does not exist (IMAP then
 * returns an empty string for non-existent parts; the caller decides). */
int mime_section_fetch(const struct mime_message *msg, const struct mime_section *section,
		       struct buf *out);
/* The same decoded from its Content-Transfer-Encoding (for BINARY[]).
 * Returns 0, -1 for a missing part, -2 for an unknown encoding (IMAP
 * [UNKNOWN-CTE]). */
int mime_section_fetch_binary(const struct mime_message *msg, const struct mime_section *section,
			      struct buf *out);

/* Append the first field called name of part's header, unfolded and decoded to
 * UTF-8 (RFC 2047). Returns 0, or -1 when there is no such field. */
int mime_header_decoded(const struct mime_message *msg, const struct mime_part *part,
			const char *name, struct buf *out);
/* The same for the nth (0-based) field called name: SEARCH HEADER matches
 * any occurrence (RFC 3501 6.4.4). Returns 0, or -1 past the last one. */
int mime_header_decoded_nth(const struct mime_message *msg, const struct mime_part *part,
			    const char *name, size_t nth, struct buf *out);
/* Append the raw value of the first field called name (unfolded, not
 * decoded). Returns 0 or -1. */
int mime_header_raw(const struct mime_message *msg, const struct mime_part *part,
		    const char *name, struct buf *out);

/* Transfer decodings, also used by SMTP and the scan stage. Append decoded
 * bytes to out; invalid input is decoded best-effort (bad characters skipped). */
void mime_decode_base64(const char *in, size_t len, struct buf *out);
void mime_decode_qp(const char *in, size_t len, struct buf *out);
/* Convert from charset to UTF-8 (invalid sequences become U+FFFD). Returns 0,
 * or -1 for an unknown charset (the bytes are then appended as they are if
 * valid UTF-8, else with invalid bytes replaced). */
int mime_charset_to_utf8(const char *charset, const char *in, size_t len, struct buf *out);
/* Decode RFC 2047 encoded words in an unstructured header value to UTF-8. */
void mime_decode_words(const char *in, size_t len, struct buf *out);

#endif
