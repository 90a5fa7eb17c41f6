/* libFuzzer target for proto/mime*.c. The input is parsed as a message
 * (an exact-size heap copy, so ASan sees any read past the end) with small
 * limits; ENVELOPE, BODY and BODYSTRUCTURE of every part are rendered, a few
 * sections picked by the first input bytes are fetched, and the searchable
 * text is extracted (mime-text.c, which fuzz-html-text also fuzzes alone).
 * Every offset the parser reports must lie inside the message. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mime-text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mime_limits limits = { .max_depth = 12, .max_parts = 200 };

static void check(int cond)
{
	if (!cond)
		abort();
}

static void walk(const struct mime_message *msg, const struct mime_part *p, unsigned depth,
		 struct buf *out)
{
	check(depth <= limits.max_depth + 1);
	check(p->msg == msg);
	check(p->header_offset + p->header_len == p->body_offset);
	check(p->body_offset + p->body_len <= msg->size);
	check(p->type != NULL && p->subtype != NULL);
	for (size_t i = 0; i < p->header_count; i++) {
		check(p->headers[i].offset >= p->header_offset);
		check(p->headers[i].offset + p->headers[i].len <= p->body_offset);
	}
	if (p->child_count > 0 || p->message != NULL) {
		buf_reset(out);
		mime_bodystructure(p, true, out);
		check(out->len > 0 && out->data[0] == '(');
	}
	if (p->message != NULL) {
		buf_reset(out);
		mime_envelope(p->message, out);
		check(p->message->header_offset == p->body_offset);
		walk(msg, p->message, depth + 1, out);
	}
	for (size_t i = 0; i < p->child_count; i++) {
		check(p->children[i].header_offset >= p->body_offset);
		walk(msg, &p->children[i], depth + 1, out);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const fields[] = { "From", "subject", "Content-Type", "X-A" };
	char *raw = xmalloc(size);
	struct mime_message *msg;
	struct buf out;

	if (size > 0)
		memcpy(raw, data, size);
	msg = mime_parse(raw, size, &limits);
	buf_init(&out, 0);
	check(msg->root.header_offset == 0);
	check(msg->root.body_offset + msg->root.body_len == size);
	walk(msg, &msg->root, 0, &out);

	buf_reset(&out);
	mime_envelope(&msg->root, &out);
	check(out.len > 0 && out.data[0] == '(' && out.data[out.len - 1] == ')');
	buf_reset(&out);
	mime_bodystructure(&msg->root, false, &out);
	buf_reset(&out);
	mime_bodystructure(&msg->root, true, &out);

	/* Sections: each of the first 8 bytes picks one. */
	for (size_t i = 0; i < 8 && i < size; i++) {
		struct mime_section s;
		uint8_t b = data[i];

		memset(&s, 0, sizeof(s));
		s.kind = (enum mime_section_kind)(b % 6);
		s.path_len = (b >> 3) % 4;
		for (unsigned j = 0; j < s.path_len; j++)
			s.path[j] = (unsigned)((b >> j) % 4) + (j == 0);
		s.fields = fields;
		s.field_count = ARRAY_SIZE(fields);
		buf_reset(&out);
		int r = mime_section_fetch(msg, &s, &out);
		check(r == 0 || r == -1);
		if (r == 0 && s.kind != MIME_SECTION_HEADER_FIELDS &&
		    s.kind != MIME_SECTION_HEADER_FIELDS_NOT)
			check(out.len <= size);
		buf_reset(&out);
		r = mime_section_fetch_binary(msg, &s, &out);
		check(r >= -2 && r <= 0);
	}
	struct mime_text text;
	mime_text_init(&text);
	mime_text_extract(msg, 4096, &text);
	check(text.body.len <= 4096 && text.headers.len <= MIME_TEXT_HEADERS_MAX);
	mime_text_free(&text);
	buf_reset(&out);
	mime_header_decoded(msg, &msg->root, "Subject", &out);
	buf_reset(&out);
	mime_header_raw(msg, &msg->root, "To", &out);
	buf_free(&out);
	mime_free(&msg);
	check(msg == NULL);
	free(raw);
	return 0;
}
