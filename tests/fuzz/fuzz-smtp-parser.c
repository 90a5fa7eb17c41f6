/* libFuzzer target for proto/smtp_parser.c (command lines) and the xtext and
 * reply helpers. The first input byte picks the advertised extensions and
 * whether the transaction is SMTPUTF8; the rest is one command line. Every
 * result is checked against the limits and promises in smtp_parser.h, parsed
 * twice for determinism, and the error reply is formatted and re-checked. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtp_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static bool str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void check_same(const struct smtp_command *a, const struct smtp_command *b)
{
	size_t i;

	check(a->verb == b->verb);
	check(str_same(a->arg, b->arg));
	check(a->arg_literal == b->arg_literal);
	check(a->smtputf8 == b->smtputf8);
	check(a->path.null == b->path.null && a->path.postmaster == b->path.postmaster);
	check(a->path.source_route == b->path.source_route);
	check(str_same(a->path.raw, b->path.raw));
	check(str_same(a->path.mbox.local, b->path.mbox.local));
	check(str_same(a->path.mbox.domain, b->path.mbox.domain));
	check(a->param_count == b->param_count && a->params_seen == b->params_seen);
	for (i = 0; i < a->param_count; i++) {
		check(str_same(a->params[i].keyword, b->params[i].keyword));
		check(str_same(a->params[i].value, b->params[i].value));
		check(a->params[i].id == b->params[i].id);
	}
	check(a->size == b->size && a->body == b->body && a->ret == b->ret);
	check(str_same(a->envid, b->envid) && str_same(a->auth, b->auth));
	check(a->notify == b->notify);
	check(str_same(a->orcpt_type, b->orcpt_type) && str_same(a->orcpt, b->orcpt));
	check(a->bdat_last == b->bdat_last && str_same(a->auth_response, b->auth_response));
	check(a->error_code == b->error_code && str_same(a->error_enhanced, b->error_enhanced));
}

static void check_reply(unsigned code, const char *enhanced, const char *text)
{
	struct buf out;
	const char *p;

	buf_init(&out, 0);
	check(smtp_reply_format(&out, code, enhanced, text) == 0);
	for (p = out.data; *p != '\0';) {
		const char *crlf = strstr(p, "\r\n");

		check(crlf != NULL && crlf + 2 - p <= SMTP_MAX_REPLY_LINE);
		check(memchr(p, '\r', (size_t)(crlf - p)) == NULL);
		check(memchr(p, '\n', (size_t)(crlf - p)) == NULL);
		p = crlf + 2;
	}
	buf_free(&out);
}

static void check_success(const struct smtp_command *c, const char *line, size_t len)
{
	size_t i;

	check(c->verb != SMTP_VERB_UNKNOWN);
	check(c->error_code == 0 && c->error_enhanced == NULL);
	check(c->param_count <= SMTP_MAX_PARAMS);
	if (c->verb == SMTP_VERB_MAIL || c->verb == SMTP_VERB_RCPT) {
		check(c->path.raw != NULL && c->path.mbox.local != NULL);
		check(c->path.mbox.domain != NULL);
		check(strlen(c->path.raw) <= SMTP_MAX_PATH - 2);
		check(strlen(c->path.mbox.local) <= SMTP_MAX_LOCAL_PART);
		check(strlen(c->path.mbox.domain) <= SMTP_MAX_DOMAIN);
		check(!c->path.null || c->verb == SMTP_VERB_MAIL);
		check(!c->path.postmaster || c->verb == SMTP_VERB_RCPT);
		if (!c->path.null && !c->path.postmaster) {
			struct buf b;
			const char *local, *domain, *error;
			int r;

			/* the split helper must agree with the parser */
			buf_init(&b, 0);
			r = smtp_address_split(c->path.raw, strlen(c->path.raw), true, &b,
					       &local, &domain, &error);
			check(r == (c->path.mbox.literal == SMTP_LITERAL_NONE ? 1 : 0));
			check(strcmp(local, c->path.mbox.local) == 0);
			/* The same domain, only folded to lower case by split. */
			check(strlen(domain) == strlen(c->path.mbox.domain));
			check(strcasecmp(domain, c->path.mbox.domain) == 0);
			for (const char *d = domain; *d != '\0'; d++)
				check(!(*d >= 'A' && *d <= 'Z'));
			buf_free(&b);
		}
	}
	for (i = 0; i < c->param_count; i++)
		check(c->params[i].id != SMTP_PARAM_UNKNOWN);
	if ((c->notify & SMTP_NOTIFY_NEVER) != 0)
		check(c->notify == SMTP_NOTIFY_NEVER);
	if (c->envid != NULL)
		check(strlen(c->envid) <= SMTP_MAX_ENVID);
	if (c->orcpt != NULL)
		check(strlen(c->orcpt) <= SMTP_MAX_ORCPT && c->orcpt_type != NULL);
	if (c->verb == SMTP_VERB_AUTH) {
		check(c->arg != NULL && strlen(c->arg) <= SMTP_MAX_SASL_MECH);
		if (c->auth_response != NULL)
			check(strlen(c->auth_response) % 4 == 0);
	}
	(void)line;
	(void)len;
}

static void fuzz_xtext(const char *in, size_t len)
{
	struct buf dec, enc, again;
	const char *error;

	buf_init(&dec, 0);
	buf_init(&enc, 0);
	buf_init(&again, 0);
	if (smtp_xtext_decode(in, len, &dec, &error) == 0) {
		check(smtp_xtext_encode(&enc, dec.data, dec.len) == 0);
		check(smtp_xtext_decode(enc.data, enc.len, &again, &error) == 0);
		check(again.len == dec.len && memcmp(again.data, dec.data, dec.len) == 0);
	}
	buf_reset(&enc);
	check(smtp_xtext_encode(&enc, in, len) == 0);
	buf_reset(&dec);
	if (memchr(in, '\0', len) == NULL) {
		check(smtp_xtext_decode(enc.data, enc.len, &dec, &error) == 0);
		check(dec.len == len && memcmp(dec.data, in, len) == 0);
	}
	buf_free(&dec);
	buf_free(&enc);
	buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_parse_opts opts;
	struct smtp_command a, b;
	const char *err_a = NULL, *err_b = NULL;
	char *line;
	size_t len;
	int ra, rb;

	if (size == 0)
		return 0;
	/* 0x80 set: every extension; else bits 0-6 pick a few */
	opts.extensions = (data[0] & 0x80) != 0 ? SMTP_EXT_ALL :
		((data[0] & 0x3fu) << 1) | ((data[0] & 0x3fu) << 4);
	opts.extensions &= SMTP_EXT_ALL;
	opts.utf8 = (data[0] & 0x40) != 0;
	len = size - 1;
	line = malloc(len > 0 ? len : 1);
	check(line != NULL);
	memcpy(line, data + 1, len);

	smtp_command_init(&a);
	smtp_command_init(&b);
	ra = smtp_command_parse(line, len, &opts, &a, &err_a);
	rb = smtp_command_parse(line, len, &opts, &b, &err_b);
	check(ra == rb && (ra == 0 || ra == -1));
	check_same(&a, &b);
	if (ra == 0)
		check_success(&a, line, len);
	else {
		unsigned c = a.error_code;

		check(err_a != NULL && err_a == err_b && err_a[0] != '\0');
		check(c == 500 || c == 501 || c == 553 || c == 555);
		check(a.error_enhanced != NULL && a.error_enhanced[0] == '5');
		check_reply(c, a.error_enhanced, err_a);
	}
	/* parse into a used command: same result as a fresh one */
	rb = smtp_command_parse(line, len, &opts, &b, &err_b);
	check(ra == rb);
	check_same(&a, &b);
	smtp_command_free(&a);
	smtp_command_free(&b);

	fuzz_xtext(line, len);
	{
		/* arbitrary text as reply text */
		char *text = malloc(len + 1);

		check(text != NULL);
		memcpy(text, line, len);
		text[len] = '\0';
		check_reply(250, "2.0.0", text);
		free(text);
	}
	free(line);
	return 0;
}
