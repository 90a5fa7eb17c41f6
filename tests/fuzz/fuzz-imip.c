/* libFuzzer target for proto/mime-imip.c: the input is parsed as a message
 * (an exact-size heap copy), its calendar part found and decoded, the
 * loop-prevention fields read; then the decoded calendar and a prefix of
 * the input go through every encoder, whose output must respect the line
 * limits they promise (QP and base64 lines <= 76, headers <= 78 when the
 * value has no long unbreakable ASCII run) and contain no bare CR or LF. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mime-imip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mime_limits limits = { .max_depth = 12, .max_parts = 200 };

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Every line ends in CRLF and is at most max characters long. */
static void check_lines(const struct buf *b, size_t max)
{
	size_t line = 0;
	for (size_t i = 0; i < b->len; i++) {
		if (b->data[i] == '\r') {
			check(i + 1 < b->len && b->data[i + 1] == '\n');
			line = 0;
			i++;
			continue;
		}
		check(b->data[i] != '\n');
		check(++line <= max);
	}
	check(b->len == 0 || line == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	struct mime_message *m = mime_parse(copy, size, &limits);
	struct imip_part part;
	if (imip_find_calendar(m, &part) == 0) {
		check(part.data.len > 0 && part.data.len < IMIP_MAX_CALENDAR);
		check(part.part != NULL);
		struct buf q;
		buf_init(&q, 0);
		imip_qp_encode(part.data.data, part.data.len, &q);
		check_lines(&q, 76);
		buf_free(&q);
		imip_part_free(&part);
	}
	(void)imip_no_auto_reply(m);
	mime_free(&m);

	size_t n = size < 4096 ? size : 4096;
	char *s = malloc(n + 1);
	memcpy(s, data, n);
	s[n] = '\0';
	struct buf b;
	buf_init(&b, 0);
	imip_qp_encode(s, n, &b);
	check_lines(&b, 76);
	buf_reset(&b);
	imip_base64_lines(s, n, &b);
	check_lines(&b, 76);
	buf_reset(&b);
	imip_header("Subject", s, &b);
	size_t run = 0, longest = 0;
	for (size_t i = 0; s[i] != '\0'; i++) {
		run = s[i] == ' ' ? 0 : run + 1;
		longest = run > longest ? run : longest;
	}
	if (longest < 60)
		check_lines(&b, 78);
	else
		check_lines(&b, 998);
	buf_reset(&b);
	imip_header_mailbox("From", s, "a@b.test", &b);
	check_lines(&b, 998);
	(void)imip_is_7bit(s, n);
	buf_free(&b);
	free(s);
	free(copy);
	return 0;
}
