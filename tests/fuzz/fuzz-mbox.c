/* libFuzzer target for proto/mbox.c. The input is split as an mbox; every
 * message must lie inside the input and the position must advance. Each
 * unquoted message that ends with a line end (or is empty) is written again
 * with mbox_append_message and must come back byte for byte, date included.
 * The input also goes through the From_ date and Maildir flag parsers. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void roundtrip(const struct buf *msg, time_t t)
{
	struct buf out, back;
	buf_init(&out, 0);
	buf_init(&back, 0);
	check(mbox_append_message("fuzz@example.test", t, msg->data ? msg->data : "", msg->len,
				  &out) == 0);
	size_t pos = 0;
	struct mbox_msg m;
	check(mbox_next(out.data, out.len, &pos, &m) == 1);
	check(mbox_unquote(m.body, m.body_len, &back) == 0);
	check(back.len == msg->len);
	check(msg->len == 0 || memcmp(back.data, msg->data, msg->len) == 0);
	time_t t2;
	check(mbox_from_line_date(m.from_line, m.from_line_len, &t2) == 0 && t2 == t);
	check(mbox_next(out.data, out.len, &pos, &m) == 0);
	buf_free(&out);
	buf_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy so ASan sees any read past the end */
	char *copy = xmalloc(size > 0 ? size : 1);
	memcpy(copy, data, size);
	size_t pos = 0, n = 0;
	struct mbox_msg m;
	int r;
	while ((r = mbox_next(copy, size, &pos, &m)) == 1) {
		check(m.from_line >= copy && m.from_line + m.from_line_len <= copy + size);
		check(m.body >= copy && m.body + m.body_len <= copy + size);
		check(pos <= size && pos > m.offset);
		n++;
		struct buf msg;
		buf_init(&msg, 0);
		check(mbox_unquote(m.body, m.body_len, &msg) == 0);
		time_t t;
		if (mbox_from_line_date(m.from_line, m.from_line_len, &t) < 0)
			t = 0;
		if (msg.len == 0 || msg.data[msg.len - 1] == '\n')
			roundtrip(&msg, t);
		buf_free(&msg);
	}
	check(n == mbox_count(copy, size));

	char *str = xmalloc(size + 1);
	memcpy(str, data, size);
	str[size] = '\0';
	unsigned flags;
	if (mbox_maildir_flags(str, &flags) == 0)
		check((flags & ~0x1fu) == 0);
	free(str);
	free(copy);
	return 0;
}
