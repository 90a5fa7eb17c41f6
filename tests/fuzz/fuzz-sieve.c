/* libFuzzer: compile a Sieve script (with the regex check and an include
 * resolver), and when it compiles run it on a MIME message with stub
 * callbacks for every question a script can ask. The message is a fixed
 * one, or what follows a line "#MSG" in the input (so that messages are
 * fuzzed too; the line is a comment for the script). */
#define _GNU_SOURCE	/* memmem */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sieve.h"
#include "sieve-exec.h"
#include "util.h"

static const char msg[] =
	"Received: from a by b; Tue, 14 Nov 2023 22:10:00 +0000\r\n"
	"From: =?UTF-8?Q?Sam_S=C3=A9nder?= <sender@example.org>\r\n"
	"To: Ann <ann@example.com>, grp: bob+lists@example.net;\r\n"
	"Subject: =?UTF-8?B?VmllbGUgR3LDvMOfZQ==?= status\r\n"
	"Date: Tue, 14 Nov 2023 23:05:10 +0100\r\nMessage-ID: <m@example.org>\r\n"
	"List-Id: <dev.example.org>\r\nX-Tag: one\r\nX-Tag: two\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=b\r\n\r\npro\r\n--b\r\n"
	"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
	"Z=C3=BCrich money\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi <b>there</b></p>\r\n--b--\r\n";

static bool mbx(void *ctx, const char *m) { (void)ctx; return strcmp(m, "Lists") == 0; }
static int meta(void *ctx, const char *m, const char *e, char **v)
{
	(void)ctx; (void)m;
	if (strcmp(e, "/private/comment") != 0)
		return 1;
	*v = xstrdup("vip");
	return 0;
}
static char *su(void *ctx, const char *f) { (void)ctx; return strcmp(f, "\\Junk") ? NULL : xstrdup("Junk"); }
static int dup(void *ctx, const char *id) { (void)ctx; return id[0] < '8'; }
static int vac(void *ctx, const char *s, const char *h, uint64_t p) { (void)ctx; (void)s; (void)p; return h[0] == 'x'; }
static time_t now(void *ctx) { (void)ctx; return 1700000000; }
static int zone(void *ctx, time_t t) { (void)ctx; (void)t; return 60; }
static int inc(void *ctx, enum sieve_include_location loc, const char *name, char **src, size_t *len,
	       const char **err)
{
	(void)ctx; (void)err;
	const char *s = NULL;
	if (!strcmp(name, "self"))
		s = "require \"include\"; include \"self\";";
	else if (!strcmp(name, "vars"))
		s = "require [\"include\", \"variables\"]; global \"g\"; set \"g\" \"${g}x\"; return;";
	else if (loc == SIEVE_INCLUDE_GLOBAL)
		s = "require \"fileinto\"; if header :contains \"subject\" \"status\" { fileinto \"G\"; }";
	if (!s)
		return 1;
	*src = xstrdup(s);
	*len = strlen(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 20000;
	lim.regex_match_limit = 10000;
	struct sieve_compile_params p = { .limits = &lim, .name = "fuzz", .regex_check = sieve_regex_check,
					  .include = inc };
	const char *message = msg;
	size_t message_size = sizeof(msg) - 1;
	const char *sep = memmem(data, size, "\n#MSG\n", 6);
	if (sep) {
		message = sep + 6;
		message_size = size - (size_t)(message - (const char *)data);
		size = (size_t)(sep - (const char *)data) + 1;
	}
	struct sieve_script *s = NULL;
	char *err = NULL;
	if (sieve_compile((const char *)data, size, &p, &s, &err) < 0) {
		free(err);
		/* compile again without the include check: run-time include paths */
		p.include = NULL;
		if (sieve_compile((const char *)data, size, &p, &s, &err) < 0) {
			free(err);
			return 0;
		}
	}
	struct sieve_exec_callbacks cb = { .mailbox_exists = mbx, .metadata = meta, .specialuse_mailbox = su,
					   .duplicate_check = dup, .vacation_answered = vac, .now = now,
					   .zone_offset = zone, .include = inc };
	static const char *const addrs[] = { "ann@example.com", "a@example.com", NULL };
	struct sieve_scan_verdict scan = { .spam_scanned = true, .spam_score = 3.5, .spam_max = 5,
					   .virus_scanned = true, .virus_level = 1 };
	struct sieve_exec_input in = {
		.message = message, .message_size = message_size,
		.envelope = { .from = "sender@example.org", .to = "ann+x@example.com", .auth_user = "ann" },
		.recipient = { .account = "ann", .addresses = addrs },
		.environment = { .domain = "example.com", .host = "mx.example.com" },
		.scan = &scan, .limits = &lim, .cb = &cb,
	};
	struct sieve_result *r = NULL;
	sieve_execute(s, &in, &r);
	char *d = sieve_result_describe(r);
	free(d);
	sieve_result_free(&r);
	sieve_script_unref(&s);
	return 0;
}
