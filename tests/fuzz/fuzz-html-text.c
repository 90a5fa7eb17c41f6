/* libFuzzer target for proto/html_text.c and proto/mime-text.c. The input
 * is read twice: as an HTML document (the text may never be longer than the
 * input), and as a whole message whose searchable text is extracted, folded
 * and previewed (all of it valid UTF-8 without NUL, within its limits). */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "html_text.h"
#include "mime-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Valid UTF-8 (no overlongs, surrogates or values past U+10FFFF), no NUL. */
static size_t utf8_chars(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, chars = 0;

	while (i < len) {
		unsigned char c = p[i];
		size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 :
			   c >= 0xF0 && c <= 0xF4 ? 4 : 0;

		check(c != 0 && n > 0 && i + n <= len);
		for (size_t k = 1; k < n; k++)
			check((p[i + k] & 0xC0) == 0x80);
		if (n == 3) {
			check(!(c == 0xE0 && p[i + 1] < 0xA0));
			check(!(c == 0xED && p[i + 1] >= 0xA0));
		}
		if (n == 4) {
			check(!(c == 0xF0 && p[i + 1] < 0x90));
			check(!(c == 0xF4 && p[i + 1] >= 0x90));
		}
		i += n;
		chars++;
	}
	return chars;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf b, f, p;

	buf_init(&b, 0);
	html_text(in, size, &b);
	check(b.len <= size);
	buf_free(&b);

	struct mime_message *msg = mime_parse(in, size, NULL);
	struct mime_text t;
	mime_text_init(&t);
	mime_text_extract(msg, 4096, &t);
	check(t.body.len <= 4096 && t.headers.len <= MIME_TEXT_HEADERS_MAX);
	utf8_chars(t.body.data, t.body.len);
	utf8_chars(t.headers.data, t.headers.len);
	buf_init(&f, 0);
	buf_init(&p, 0);
	mime_text_fold(t.body.data != NULL ? t.body.data : "", t.body.len, &f);
	check(f.len <= t.body.len);
	utf8_chars(f.data, f.len);
	mime_text_preview(t.body.data != NULL ? t.body.data : "", t.body.len, 256, &p);
	check(utf8_chars(p.data, p.len) <= 256);
	check(p.len == 0 || (p.data[0] != ' ' && p.data[p.len - 1] != ' '));
	buf_reset(&f);
	mime_text_fold(in, size, &f);	/* arbitrary bytes */
	utf8_chars(f.data, f.len);
	buf_free(&f);
	buf_free(&p);
	mime_text_free(&t);
	mime_free(&msg);
	return 0;
}
