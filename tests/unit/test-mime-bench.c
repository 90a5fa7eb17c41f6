/* Benchmark for proto/mime*.c, not a test: prints parse throughput on a
 * 10 MB message with 1000 parts (MB/s) and on a small typical message
 * (messages/s, parse + ENVELOPE + BODYSTRUCTURE). It asserts nothing. */
#include "autoconf.h"
#include "mime.h"
#include "mime-text.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
	struct buf big, small, out;
	double t0, t;
	int n;

	buf_init(&big, 0);
	buf_init(&small, 0);
	buf_init(&out, 0);
	buf_append_str(&big, "From: a@example.org\r\nTo: b@example.org\r\nSubject: big\r\n"
		       "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n");
	for (int i = 0; i < 1000; i++) {
		buf_printf(&big, "--=_b\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n"
			   "Content-Disposition: attachment; filename=\"f%d.bin\"\r\n\r\n",
			   i % 2 ? "application/octet-stream" : "text/plain; charset=utf-8", i);
		for (int l = 0; l < 135; l++)
			buf_append_str(&big, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n");
	}
	buf_append_str(&big, "--=_b--\r\n");

	buf_append_str(&small, "Return-Path: <alice@example.org>\r\nReceived: from mx.example.org by"
		       " mail.example.net; Tue, 1 Jul 2025 10:00:00 +0000\r\n"
		       "From: Alice <alice@example.org>\r\nTo: Bob <bob@example.net>, carol@example.net\r\n"
		       "Subject: =?utf-8?q?Caf=C3=A9?= meeting\r\nDate: Tue, 1 Jul 2025 10:00:00 +0000\r\n"
		       "Message-ID: <abc@example.org>\r\nMIME-Version: 1.0\r\n"
		       "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n"
		       "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
	for (int l = 0; l < 20; l++)
		buf_append_str(&small, "Hello Bob, let us meet at the cafe tomorrow at ten.\r\n");
	buf_append_str(&small, "--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>");
	for (int l = 0; l < 20; l++)
		buf_append_str(&small, "Hello Bob, let us meet at the <b>cafe</b> tomorrow.<br>\r\n");
	buf_append_str(&small, "</p>\r\n--alt--\r\n");

	n = 0;
	t0 = now();
	do {
		struct mime_message *m = mime_parse(big.data, big.len, NULL);

		buf_reset(&out);
		mime_bodystructure(&m->root, true, &out);
		mime_free(&m);
		n++;
	} while ((t = now() - t0) < 2.0);
	printf("big: %.1f MB, 1000 parts: %.1f ms/parse, %.0f MB/s (parse + BODYSTRUCTURE)\n",
	       (double)big.len / 1e6, t * 1000 / n, (double)big.len * n / 1e6 / t);

	n = 0;
	t0 = now();
	do {
		struct mime_message *m = mime_parse(small.data, small.len, NULL);

		buf_reset(&out);
		mime_envelope(&m->root, &out);
		mime_bodystructure(&m->root, true, &out);
		mime_free(&m);
		n++;
	} while ((t = now() - t0) < 2.0);
	printf("small: %zu bytes, 2 parts: %.0f messages/s (parse + ENVELOPE + BODYSTRUCTURE)\n",
	       small.len, n / t);

	n = 0;
	t0 = now();
	do {
		struct mime_message *m = mime_parse(small.data, small.len, NULL);
		struct mime_text text;

		mime_text_init(&text);
		mime_text_extract(m, 64 * 1024, &text);
		mime_text_free(&text);
		mime_free(&m);
		n++;
	} while ((t = now() - t0) < 2.0);
	printf("small: %.0f messages/s (parse + mime_text_extract)\n", n / t);
	buf_free(&big);
	buf_free(&small);
	buf_free(&out);
	return 0;
}
