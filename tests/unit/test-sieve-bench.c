/* A benchmark, not a test: the cost of running a 50-rule Sieve script on a
 * typical message (compile once through the cache, then execute per
 * message), against parsing the message alone. Prints figures; asserts
 * nothing. Build and run: make tests/unit/test-sieve-bench &&
 * tests/unit/test-sieve-bench [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mime.h"
#include "sieve.h"
#include "sieve-exec.h"
#include "util.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 20000;
	struct buf script;
	buf_init(&script, 0);
	buf_append_str(&script, "require [\"fileinto\", \"imap4flags\", \"variables\", \"body\", \"envelope\", "
				"\"subaddress\", \"relational\", \"comparator-i;ascii-numeric\"];\n");
	/* 50 rules of the usual kinds: list sorting, sender rules, subject words,
	 * size, a few body searches and flagging */
	for (int i = 0; i < 50; i++) {
		switch (i % 10) {
		case 0: buf_printf(&script, "if header :contains \"list-id\" \"list%d.example.org\" { fileinto \"Lists/l%d\"; stop; }\n", i, i); break;
		case 1: buf_printf(&script, "if address :is :domain \"from\" \"vendor%d.example\" { fileinto \"Vendors\"; }\n", i); break;
		case 2: buf_printf(&script, "if header :matches \"subject\" \"*[ticket-%d]*\" { addflag \"$Ticket\"; }\n", i); break;
		case 3: buf_printf(&script, "if envelope :detail \"to\" \"tag%d\" { fileinto \"Tags/%d\"; }\n", i, i); break;
		case 4: buf_printf(&script, "if size :over %dM { fileinto \"Big\"; }\n", i + 1); break;
		case 5: buf_printf(&script, "if anyof (header :is \"x-priority\" \"%d\", header :contains \"importance\" \"high\") { addflag \"\\\\Flagged\"; }\n", i % 5 + 1); break;
		case 6: buf_printf(&script, "if allof (address :localpart \"to\" \"team%d\", not exists \"x-mailer\") { keep; }\n", i); break;
		case 7: buf_printf(&script, "if body :text :contains \"unsubscribe-%d\" { fileinto \"Newsletters\"; }\n", i); break;
		case 8: buf_printf(&script, "if header :value \"ge\" :comparator \"i;ascii-numeric\" \"x-spam-score\" \"%d\" { fileinto \"Junk\"; }\n", 10 + i); break;
		case 9: buf_printf(&script, "if address :matches \"from\" \"*@*.partner%d.example\" { set \"p\" \"${2}\"; fileinto \"Partners/${p}\"; }\n", i); break;
		}
	}
	static const char msg[] =
		"Return-Path: <sender@example.org>\r\n"
		"Received: from mail.example.org (mail.example.org [192.0.2.1]) by mx1.example.com; Tue, 14 Nov 2023 22:10:00 +0000\r\n"
		"Received: from client by mail.example.org; Tue, 14 Nov 2023 22:09:58 +0000\r\n"
		"From: Sam Sender <sender@example.org>\r\nTo: Ann <ann@example.com>, bob+lists@example.net\r\n"
		"Cc: \"Carol, C.\" <carol@example.com>\r\nSubject: Re: quarterly figures, second draft\r\n"
		"Date: Tue, 14 Nov 2023 23:05:10 +0100\r\nMessage-ID: <msg1@example.org>\r\n"
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		"Hello Ann,\r\n\r\nhere are the figures for the quarter. The totals are in the attached=\r\n"
		" sheet; the summary follows below.\r\n\r\nRevenue grew, costs fell, and the team did well.\r\n\r\nSam\r\n"
		"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello Ann,</p><p>here are the"
		" figures for the quarter.</p><p>Sam</p></body></html>\r\n--b--\r\n";
	struct sieve_cache *cache = sieve_cache_new(0, NULL);
	struct sieve_script *s;
	char *err;
	double t0 = now_s();
	if (sieve_cache_get(cache, "bench", script.data, script.len, &s, &err) < 0) {
		fprintf(stderr, "compile: %s\n", err);
		return 1;
	}
	double tcompile = now_s() - t0;
	sieve_script_unref(&s);

	/* baseline: parsing the message, which delivery does anyway */
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		struct mime_message *m = mime_parse(msg, sizeof(msg) - 1, NULL);
		mime_free(&m);
	}
	double tparse = now_s() - t0;

	struct sieve_exec_input in = {
		.message = msg, .message_size = sizeof(msg) - 1,
		.envelope = { .from = "sender@example.org", .to = "ann+work@example.com" },
	};
	unsigned steps = 0;
	size_t nact = 0;
	t0 = now_s();
	for (int i = 0; i < iters; i++) {
		struct sieve_result *r;
		if (sieve_cache_get(cache, "bench", script.data, script.len, &s, &err) < 0)
			return 1;
		sieve_execute(s, &in, &r);
		steps = r->cpu_steps;
		nact = r->action_count;
		sieve_result_free(&r);
		sieve_script_unref(&s);
	}
	double texec = now_s() - t0;
	printf("script: %zu bytes, 50 rules; compile %.1f us\n", script.len, tcompile * 1e6);
	printf("message: %zu bytes; %d runs\n", sizeof(msg) - 1, iters);
	printf("mime parse only:        %8.1f us/message\n", tparse / iters * 1e6);
	printf("cache lookup + execute: %8.1f us/message (%u steps, %zu actions)\n", texec / iters * 1e6,
	       steps, nact);
	printf("messages/s on one core: %8.0f\n", iters / texec);
	sieve_cache_free(&cache);
	buf_free(&script);
	return 0;
}
