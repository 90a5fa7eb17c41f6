/* libFuzzer target for proto/imap_sort.c. The input is used three ways: as
 * a subject (the base subject is never longer than its input; its
 * casemapped form is bounded), as an
 * ENVELOPE (every field extracted without reading past the end), and as a
 * mailbox whose lines are "Message-ID|References|subject" records, threaded
 * with both algorithms: every message must appear exactly once in a
 * balanced thread list, whatever loops or duplicates the ids hold. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "imap_sort.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

#define MAX_MSGS 64

static void check_threads(const struct buf *b, size_t n)
{
	unsigned seen[MAX_MSGS + 1] = { 0 };
	long depth = 0;
	for (size_t i = 0; i < b->len; i++) {
		char c = b->data[i];
		if (c == '(') {
			depth++;
		} else if (c == ')') {
			depth--;
			check(depth >= 0);
		} else if (c >= '0' && c <= '9') {
			unsigned long v = strtoul(b->data + i, NULL, 10);
			check(v >= 1 && v <= n);
			seen[v]++;
			while (i + 1 < b->len && b->data[i + 1] >= '0' && b->data[i + 1] <= '9')
				i++;
		} else {
			check(c == ' ');
		}
	}
	check(depth == 0);
	for (size_t k = 1; k <= n; k++)
		check(seen[k] == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = '\0';

	bool reply;
	char *b = imap_sort_base_subject(in, size, &reply);
	check(strlen(b) <= size);
	/* casemapping: no character's form is more than three times its
	 * UTF-8 length (Unicode 14), and a string equals itself */
	char *c = imap_sort_casemap(b);
	check(strlen(c) <= 3 * strlen(b));
	check(imap_sort_casecmp(b, b) == 0);
	free(c);
	free(b);

	for (int f = IMAP_ENV_FROM; f <= IMAP_ENV_BCC; f++) {
		struct imap_sort_addr a;
		if (imap_sort_envelope_addr(in, size, (enum imap_env_field)f, &a) == 0)
			check(a.mailbox != NULL);	/* a group start marker has no host */
		imap_sort_addr_free(&a);
	}

	struct imap_thread_msg m[MAX_MSGS];
	char *fields[MAX_MSGS][3];
	size_t n = 0;
	for (char *line = in, *next; line != NULL && n < MAX_MSGS; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		char *p1 = strchr(line, '|'), *p2 = p1 != NULL ? strchr(p1 + 1, '|') : NULL;
		if (p2 == NULL)
			continue;
		*p1 = *p2 = '\0';
		fields[n][0] = line;
		fields[n][1] = p1 + 1;
		fields[n][2] = imap_sort_base_subject(p2 + 1, strlen(p2 + 1), &reply);
		m[n] = (struct imap_thread_msg){ .id = (uint32_t)n + 1, .seq = (uint32_t)n + 1,
						 .date = (int64_t)(line[0] % 4), .subject = fields[n][2],
						 .is_reply = reply, .message_id = fields[n][0],
						 .references = fields[n][1],
						 .in_reply_to = fields[n][1] };
		n++;
	}
	for (int alg = 0; alg < 2; alg++) {
		struct buf out;
		buf_init(&out, 0);
		imap_thread(m, n, alg == 0 ? IMAP_THREAD_ORDEREDSUBJECT : IMAP_THREAD_REFERENCES, &out);
		check_threads(&out, n);
		buf_free(&out);
	}
	for (size_t i = 0; i < n; i++)
		free(fields[i][2]);
	free(in);
	return 0;
}
