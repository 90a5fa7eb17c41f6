/* Line and literal reader with hard limits, shared by the line-based
 * protocols (SMTP, IMAP, POP3). It works on the connection's input bytes in
 * place and never copies: it only says where the next line or literal chunk
 * is and how many bytes to consume. Pure (no I/O), so it is unit-tested and
 * fuzzed directly. */
#ifndef CAIRN_READER_H
#define CAIRN_READER_H

#include "util.h"

enum reader_result {
	READER_TOO_LONG = -1,	/* a line passed max_line: reported once, then its
				   rest is skipped up to and including its LF */
	READER_MORE = 0,	/* need more input */
	READER_LINE = 1,	/* a complete line (without its CRLF or LF) */
	READER_LITERAL = 2,	/* a chunk of the current literal */
	READER_LITERAL_END = 3,	/* the last chunk of the current literal (may be empty) */
};

struct reader {
	size_t max_line;	/* longest line accepted, without the line end */
	uint64_t literal_left;	/* bytes of literal still to deliver */
	bool in_literal;
	bool skipping;		/* discarding the rest of an over-long line */
	size_t scanned;		/* bytes already searched for LF (no rescans) */
};

struct reader_item {
	const char *data;	/* points into the caller's input */
	size_t len;		/* line length without terminator, or chunk length */
	bool bare_lf;		/* the line ended in LF without CR before it */
};

/* Initialise a reader for lines of at most max_line bytes. */
void reader_init(struct reader *r, size_t max_line);
/* Deliver the next literal_size bytes as literal chunks instead of lines. */
void reader_begin_literal(struct reader *r, uint64_t literal_size);
/* Drop any partial state (used when the input buffer is discarded, e.g. at
 * STARTTLS). */
void reader_reset(struct reader *r);

/* Look at data[0..len) and find the next item. Always sets *consumed_r to the
 * number of bytes the caller must drop from its input after using the item
 * (item data stays valid until then). Returns an enum reader_result. */
int reader_next(struct reader *r, const char *data, size_t len, struct reader_item *item,
		size_t *consumed_r);

#endif
