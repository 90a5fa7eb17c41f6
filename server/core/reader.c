/* Incremental line/literal splitter. Lines are searched for LF only over
 * bytes not searched before (r->scanned), so input trickling in one byte at a
 * time costs O(n), and a line longer than max_line is refused as soon as
 * max_line + 2 bytes are seen without an LF: nothing is buffered beyond that. */
#include "autoconf.h"
#include "reader.h"

#include <string.h>

void reader_init(struct reader *r, size_t max_line)
{
	memset(r, 0, sizeof(*r));
	r->max_line = max_line;
}

void reader_reset(struct reader *r)
{
	size_t max = r->max_line;
	reader_init(r, max);
}

void reader_begin_literal(struct reader *r, uint64_t literal_size)
{
	r->in_literal = true;
	r->literal_left = literal_size;
	r->scanned = 0;
}

static int next_literal(struct reader *r, const char *data, size_t len,
			struct reader_item *item, size_t *consumed_r)
{
	size_t n = len;
	if ((uint64_t)n > r->literal_left)
		n = (size_t)r->literal_left;
	item->data = data;
	item->len = n;
	item->bare_lf = false;
	*consumed_r = n;
	r->literal_left -= n;
	if (r->literal_left == 0) {
		r->in_literal = false;
		return READER_LITERAL_END;
	}
	if (n == 0)
		return READER_MORE;
	return READER_LITERAL;
}

int reader_next(struct reader *r, const char *data, size_t len, struct reader_item *item,
		size_t *consumed_r)
{
	*consumed_r = 0;
	item->data = data;
	item->len = 0;
	item->bare_lf = false;

	if (r->in_literal)
		return next_literal(r, data, len, item, consumed_r);

	if (r->skipping) {
		const char *lf = memchr(data, '\n', len);
		if (lf == NULL) {
			*consumed_r = len;
			return READER_MORE;
		}
		r->skipping = false;
		r->scanned = 0;
		/* Drop the skipped tail and go on with what follows it. */
		size_t skip = (size_t)(lf - data) + 1;
		int ret = reader_next(r, data + skip, len - skip, item, consumed_r);
		*consumed_r += skip;
		return ret;
	}

	/* A line of max_line bytes may be followed by CR LF. */
	size_t limit = r->max_line + 2;
	size_t from = r->scanned < len ? r->scanned : len;
	size_t upto = len < limit ? len : limit;
	const char *lf = from < upto ? memchr(data + from, '\n', upto - from) : NULL;
	if (lf == NULL) {
		if (len >= limit) {
			/* Refuse now; drop what we saw and skip to the end of the line. */
			r->skipping = true;
			r->scanned = 0;
			*consumed_r = limit;
			return READER_TOO_LONG;
		}
		r->scanned = len;
		return READER_MORE;
	}
	size_t line_len = (size_t)(lf - data);
	*consumed_r = line_len + 1;
	r->scanned = 0;
	if (line_len > 0 && data[line_len - 1] == '\r')
		line_len--;
	else
		item->bare_lf = true;
	if (line_len > r->max_line) {
		/* max_line + 1 bytes and an LF with no CR: too long as well. */
		return READER_TOO_LONG;
	}
	item->len = line_len;
	return READER_LINE;
}
