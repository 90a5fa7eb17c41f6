/* Incremental SMTP DATA/BDAT body reader. A small state machine at line
 * starts and around CR; text between CR/LF is copied in runs, so any
 * chunking of the input gives the same output and flags in linear time.
 * End of data is only CRLF "." CRLF (RFC 5321 4.1.1.4, 4.5.2); a bare CR or
 * LF never starts or ends a line here, which is what defeats SMTP smuggling. */
#include "autoconf.h"
#include "smtp_parser.h"

#include <string.h>

enum data_state {
	ST_BOL = 0,	/* at a line start (after CRLF, or the first line) */
	ST_DOT,		/* BOL "." seen (dropped: stuffing or end marker) */
	ST_DOT_CR,	/* BOL "." CR seen */
	ST_TEXT,	/* inside a line */
	ST_CR,		/* CR seen inside a line, LF not yet */
	ST_DONE,
};

void smtp_data_init(struct smtp_data_reader *r, uint64_t max_size, bool chunk_mode)
{
	memset(r, 0, sizeof(*r));
	r->state = ST_BOL;
	r->max_size = max_size;
	r->chunk_mode = chunk_mode;
}

/* Count n message octets and append them unless output has stopped. Past
 * the limit only the part that fits is appended (so the output does not
 * depend on how the input was split), then output stops. */
static void emit(struct smtp_data_reader *r, struct buf *out, const char *s, size_t n)
{
	uint64_t fit = n;
	size_t room;

	if (r->max_size != 0 && (r->size > r->max_size || n > r->max_size - r->size)) {
		fit = r->size < r->max_size ? r->max_size - r->size : 0;
		r->flags |= SMTP_DATA_TOO_BIG;
	}
	r->size = n > UINT64_MAX - r->size ? UINT64_MAX : r->size + n;
	if (r->discard)
		return;
	room = buf_room(out);
	if (fit > room) {
		fit = room;
		r->flags |= SMTP_DATA_TOO_BIG;
	}
	if (fit > 0 && buf_append(out, s, (size_t)fit) < 0)
		r->flags |= SMTP_DATA_TOO_BIG;
	if ((r->flags & SMTP_DATA_TOO_BIG) != 0)
		r->discard = true;
}

static void violation(struct smtp_data_reader *r, unsigned flag)
{
	r->flags |= flag;
	r->discard = true;
}

static void line_grow(struct smtp_data_reader *r, size_t n)
{
	r->line_len = n > SIZE_MAX - r->line_len ? SIZE_MAX : r->line_len + n;
	if (r->line_len > SMTP_MAX_TEXT_LINE)
		r->flags |= SMTP_DATA_LONG_LINE;
}

/* A CR that was not followed by LF. */
static void bare_cr(struct smtp_data_reader *r, struct buf *out)
{
	violation(r, SMTP_DATA_BARE_CR);
	emit(r, out, "\r", 1);
	line_grow(r, 1);
}

/* Copy text up to the next CR or LF; returns where it stopped. */
static size_t text_run(struct smtp_data_reader *r, const char *data, size_t i, size_t len,
		       struct buf *out)
{
	size_t start = i;

	for (; i < len; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == '\r' || c == '\n')
			break;
		if (c == '\0')
			r->flags |= SMTP_DATA_NUL;
		else if (c >= 0x80)
			r->flags |= SMTP_DATA_8BIT;
	}
	if (i > start) {
		emit(r, out, data + start, i - start);
		line_grow(r, i - start);
	}
	return i;
}

int smtp_data_feed(struct smtp_data_reader *r, const char *data, size_t len,
		   struct buf *out, size_t *consumed_r)
{
	size_t i = 0;

	*consumed_r = 0;
	if (r->state == ST_DONE)
		return 1;
	while (i < len) {
		unsigned char c = (unsigned char)data[i];

		switch ((enum data_state)r->state) {
		case ST_BOL:
			if (c == '.' && !r->chunk_mode) {
				r->state = ST_DOT;
				i++;
			} else
				r->state = ST_TEXT;
			break;
		case ST_DOT:
			if (c == '\r') {
				r->state = ST_DOT_CR;
				i++;
			} else
				r->state = ST_TEXT;	/* the stuffing dot is gone */
			break;
		case ST_DOT_CR:
			if (c == '\n') {
				r->state = ST_DONE;
				*consumed_r = i + 1;
				return 1;
			}
			bare_cr(r, out);
			r->state = ST_TEXT;
			break;
		case ST_TEXT:
			i = text_run(r, data, i, len, out);
			if (i == len)
				break;
			if (data[i] == '\r')
				r->state = ST_CR;
			else {
				/* Bare LF: not a line end, so a following
				   ".\r\n" cannot end the data. */
				violation(r, SMTP_DATA_BARE_LF);
				emit(r, out, "\n", 1);
				r->line_len = 0;
			}
			i++;
			break;
		case ST_CR:
			if (c == '\n') {
				emit(r, out, "\r\n", 2);
				r->line_len = 0;
				r->state = ST_BOL;
				i++;
			} else {
				bare_cr(r, out);
				r->state = ST_TEXT;
			}
			break;
		case ST_DONE:
			*consumed_r = i;
			return 1;
		}
	}
	*consumed_r = len;
	return 0;
}

void smtp_data_finish(struct smtp_data_reader *r)
{
	if (r->state == ST_CR || r->state == ST_DOT_CR) {
		violation(r, SMTP_DATA_BARE_CR);
		r->state = ST_TEXT;
	}
}

unsigned smtp_data_flags(const struct smtp_data_reader *r)
{
	return r->flags;
}

uint64_t smtp_data_size(const struct smtp_data_reader *r)
{
	return r->size;
}

int smtp_data_reply(unsigned flags, unsigned *code_r, const char **enhanced_r,
		    const char **text_r)
{
	if ((flags & SMTP_DATA_SMUGGLING) != 0) {
		*code_r = 554;
		*enhanced_r = "5.6.0";
		*text_r = (flags & SMTP_DATA_BARE_LF) != 0 ?
			"Message refused: bare LF (RFC 5321 2.3.8)" :
			"Message refused: bare CR (RFC 5321 2.3.8)";
	} else if ((flags & SMTP_DATA_TOO_BIG) != 0) {
		*code_r = 552;
		*enhanced_r = "5.3.4";
		*text_r = "Message size exceeds fixed maximum message size";
	} else if ((flags & SMTP_DATA_NUL) != 0) {
		*code_r = 554;
		*enhanced_r = "5.6.0";
		*text_r = "Message refused: NUL octet";
	} else if ((flags & SMTP_DATA_LONG_LINE) != 0) {
		*code_r = 554;
		*enhanced_r = "5.6.0";
		*text_r = "Message refused: line longer than 998 octets";
	} else if ((flags & SMTP_DATA_8BIT) != 0) {
		*code_r = 554;
		*enhanced_r = "5.6.1";
		*text_r = "Message refused: 8-bit data without BODY=8BITMIME";
	} else
		return 0;
	return -1;
}
