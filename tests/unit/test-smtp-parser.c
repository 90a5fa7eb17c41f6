/* Unit tests for proto/smtp_parser.c, smtp_data.c and smtp_reply.c: every
 * command's valid and invalid forms with the exact reply codes, every ESMTP
 * parameter, address syntax and length limits at their boundaries, the DATA
 * reader fed whole, one byte at a time and split at every offset (smuggling
 * variants included), replies, EHLO keywords and xtext. Inputs go through
 * exact-size heap copies so AddressSanitizer sees any read past the end. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_parser.h"

static const struct smtp_parse_opts all = { .extensions = SMTP_EXT_ALL, .utf8 = false };
static const struct smtp_parse_opts all_utf8 = { .extensions = SMTP_EXT_ALL, .utf8 = true };
static const struct smtp_parse_opts none = { .extensions = 0, .utf8 = false };

/* --- command helpers --- */

static int parse_n(struct smtp_command *cmd, const char *line, size_t len,
		   const struct smtp_parse_opts *o, const char **error_r)
{
	char *copy = xmalloc(len > 0 ? len : 1);
	int ret;

	memcpy(copy, line, len);
	*error_r = NULL;
	ret = smtp_command_parse(copy, len, o, cmd, error_r);
	/* Poison the input: the result must not point into it. */
	memset(copy, 'Z', len);
	free(copy);
	return ret;
}

static void ok_n(struct smtp_command *cmd, const char *line, size_t len,
		 const struct smtp_parse_opts *o)
{
	const char *error;

	if (parse_n(cmd, line, len, o, &error) != 0)
		fail_msg("expected success for [%.*s], got %u %s %s", (int)len, line,
			 cmd->error_code, cmd->error_enhanced, error);
}

#define OK(cmd, line) ok_n((cmd), (line), strlen(line), &all)
#define OK_O(cmd, line, o) ok_n((cmd), (line), strlen(line), (o))

static void err_n(const char *line, size_t len, const struct smtp_parse_opts *o,
		  unsigned code, const char *enhanced)
{
	struct smtp_command cmd;
	const char *error;
	int ret;

	smtp_command_init(&cmd);
	ret = parse_n(&cmd, line, len, o, &error);
	if (ret != -1 || cmd.error_code != code || strcmp(cmd.error_enhanced, enhanced) != 0)
		fail_msg("expected %u %s for [%.*s], got ret %d %u %s %s", code, enhanced,
			 (int)len, line, ret, cmd.error_code,
			 cmd.error_enhanced != NULL ? cmd.error_enhanced : "-",
			 error != NULL ? error : "-");
	assert_non_null(error);
	assert_true(error[0] != '\0');
	smtp_command_free(&cmd);
}

#define ERR(line, code, enh) err_n((line), strlen(line), &all, (code), (enh))
#define ERR_O(line, o, code, enh) err_n((line), strlen(line), (o), (code), (enh))

/* --- verbs --- */

static void test_verbs(void **state)
{
	static const struct {
		const char *line;
		enum smtp_verb verb;
	} cases[] = {
		{ "HELO x", SMTP_VERB_HELO }, { "helo x", SMTP_VERB_HELO },
		{ "EhLo x", SMTP_VERB_EHLO }, { "lhlo x", SMTP_VERB_LHLO },
		{ "mail FROM:<a@b>", SMTP_VERB_MAIL }, { "Rcpt to:<a@b>", SMTP_VERB_RCPT },
		{ "data", SMTP_VERB_DATA }, { "bdat 1", SMTP_VERB_BDAT },
		{ "RSET", SMTP_VERB_RSET }, { "noop", SMTP_VERB_NOOP },
		{ "QUIT", SMTP_VERB_QUIT }, { "vrfy x", SMTP_VERB_VRFY },
		{ "expn x", SMTP_VERB_EXPN }, { "help", SMTP_VERB_HELP },
		{ "StartTLS", SMTP_VERB_STARTTLS }, { "auth plain", SMTP_VERB_AUTH },
	};
	struct smtp_command cmd;
	size_t i;

	(void)state;
	smtp_command_init(&cmd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		OK(&cmd, cases[i].line);
		assert_int_equal(cmd.verb, cases[i].verb);
	}
	smtp_command_free(&cmd);
}

static void test_verb_names(void **state)
{
	(void)state;
	assert_string_equal(smtp_verb_name(SMTP_VERB_MAIL), "MAIL");
	assert_string_equal(smtp_verb_name(SMTP_VERB_STARTTLS), "STARTTLS");
	assert_string_equal(smtp_verb_name(SMTP_VERB_LHLO), "LHLO");
	assert_string_equal(smtp_verb_name(SMTP_VERB_UNKNOWN), "UNKNOWN");
}

static void test_unknown_verb(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	ERR("FOO", 500, "5.5.2");
	ERR("", 500, "5.5.2");
	ERR("   ", 500, "5.5.2");
	ERR("MAILFROM:<a@b>", 500, "5.5.2");
	ERR("EHLOx", 500, "5.5.2");
	ERR("HELO\tx", 500, "5.5.2");
	ERR("STARTTL", 500, "5.5.2");
	ERR("STARTTLSX", 500, "5.5.2");
	err_n("DATA\0", 5, &all, 500, "5.5.2");
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "XYZZY", 5, &all, &error), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_UNKNOWN);
	assert_string_equal(error, "Command unrecognized");
	smtp_command_free(&cmd);
}

static void test_trailing_whitespace(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "QUIT  ");
	assert_int_equal(cmd.verb, SMTP_VERB_QUIT);
	OK(&cmd, "DATA\t");
	OK(&cmd, "EHLO example.com \t ");
	assert_string_equal(cmd.arg, "example.com");
	OK(&cmd, "MAIL   FROM:<a@b>   SIZE=1   BODY=7BIT  ");
	assert_int_equal(cmd.param_count, 2);
	smtp_command_free(&cmd);
}

static void test_no_param_commands(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	ERR("DATA x", 501, "5.5.4");
	ERR("RSET now", 501, "5.5.4");
	ERR("QUIT bye", 501, "5.5.4");
	ERR("STARTTLS x", 501, "5.5.4");
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "STARTTLS now", 12, &all, &error), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_STARTTLS);
	assert_string_equal(error, "Syntax error (no parameters allowed)");
	smtp_command_free(&cmd);
}

static void test_control_chars(void **state)
{
	(void)state;
	ERR("NOOP a\x01z", 501, "5.5.2");
	ERR("HELO a\x7f", 501, "5.5.2");
	err_n("MAIL FROM:<a@b>\0", 16, &all, 501, "5.5.2");
	err_n("RCPT TO:<a\0@b>", 14, &all, 501, "5.5.2");
	ERR("MAIL FROM:<a@b>\rSIZE=1", 501, "5.5.2");
	ERR("VRFY a\tb", 501, "5.5.2");
}

/* --- HELO / EHLO / LHLO --- */

static void test_helo_domain(void **state)
{
	static const char *good[] = {
		"HELO mail.example.com", "EHLO a", "EHLO a-b.c", "EHLO 1.2.3.4",
		"LHLO lmtp.example", "EHLO xn--bcher-kva.example", "EHLO A--B.EXAMPLE",
		"EHLO 0", "EHLO 9a.b9",
	};
	struct smtp_command cmd;
	size_t i;

	(void)state;
	smtp_command_init(&cmd);
	for (i = 0; i < ARRAY_SIZE(good); i++) {
		OK(&cmd, good[i]);
		assert_string_equal(cmd.arg, strchr(good[i], ' ') + 1);
		assert_int_equal(cmd.arg_literal, SMTP_LITERAL_NONE);
	}
	smtp_command_free(&cmd);
}

static void test_helo_invalid(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	ERR("EHLO", 501, "5.5.4");
	ERR("HELO", 501, "5.5.4");
	ERR("LHLO   ", 501, "5.5.4");
	ERR("EHLO -a.com", 501, "5.5.4");
	ERR("EHLO a-.com", 501, "5.5.4");
	ERR("EHLO a..b", 501, "5.5.4");
	ERR("EHLO .a", 501, "5.5.4");
	ERR("EHLO a.", 501, "5.5.4");
	ERR("EHLO a_b.com", 501, "5.5.4");
	ERR("EHLO a b", 501, "5.5.4");
	ERR("EHLO a@b", 501, "5.5.4");
	ERR("EHLO ex\xc3\xa4mple.com", 501, "5.5.4");
	ERR_O("EHLO ex\xc3\xa4mple.com", &all_utf8, 501, "5.5.4");
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "EHLO", 4, &all, &error), -1);
	assert_string_equal(error, "Syntax: EHLO domain");
	assert_int_equal(parse_n(&cmd, "LHLO", 4, &all, &error), -1);
	assert_string_equal(error, "Syntax: LHLO domain");
	smtp_command_free(&cmd);
}

static char *repeat(char c, size_t n)
{
	char *s = xmalloc(n + 1);

	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_helo_lengths(void **state)
{
	char *l63 = repeat('a', 63), *l64 = repeat('a', 64), *l62 = repeat('b', 62);
	char *line;
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	line = xasprintf("EHLO %s.example", l63);
	OK(&cmd, line);
	free(line);
	line = xasprintf("EHLO %s.example", l64);
	ERR(line, 501, "5.5.4");
	free(line);
	/* 4 * 63 + 3 dots = 255 octets */
	line = xasprintf("EHLO %s.%s.%s.%s", l63, l63, l63, l63);
	OK(&cmd, line);
	assert_int_equal(strlen(cmd.arg), 255);
	free(line);
	line = xasprintf("EHLO %s.%s.%s.%s.a", l63, l63, l63, l62);
	assert_int_equal(strlen(line) - 5, 256);
	ERR(line, 501, "5.5.4");
	free(line);
	smtp_command_free(&cmd);
	free(l63);
	free(l64);
	free(l62);
}

static void test_helo_literals(void **state)
{
	static const struct {
		const char *line;
		enum smtp_literal kind;
	} cases[] = {
		{ "EHLO [1.2.3.4]", SMTP_LITERAL_IPV4 },
		{ "EHLO [255.255.255.255]", SMTP_LITERAL_IPV4 },
		{ "EHLO [001.0.00.9]", SMTP_LITERAL_IPV4 },
		{ "HELO [10.0.0.1]", SMTP_LITERAL_IPV4 },
		{ "EHLO [IPv6:::1]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:::]", SMTP_LITERAL_IPV6 },
		{ "EHLO [ipv6:2001:DB8::1]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:1:2:3:4:5:6:7:8]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:1:2:3:4:5:6::]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:::1:2:3:4:5:6]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:1:2:3:4:5:6:1.2.3.4]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:::ffff:1.2.3.4]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:1:2:3:4::1.2.3.4]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:::1.2.3.4]", SMTP_LITERAL_IPV6 },
		{ "EHLO [IPv6:ffff:FFFF::abcd]", SMTP_LITERAL_IPV6 },
		{ "EHLO [x-tag:some+content]", SMTP_LITERAL_GENERAL },
		{ "LHLO [1.2.3.4]", SMTP_LITERAL_IPV4 },
	};
	struct smtp_command cmd;
	size_t i;

	(void)state;
	smtp_command_init(&cmd);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		OK(&cmd, cases[i].line);
		if (cmd.arg_literal != cases[i].kind)
			fail_msg("%s: kind %d", cases[i].line, cmd.arg_literal);
		assert_string_equal(cmd.arg, cases[i].line + 5);
	}
	smtp_command_free(&cmd);
}

static void test_literals_invalid(void **state)
{
	static const char *bad[] = {
		"[1.2.3]", "[1.2.3.256]", "[1.2.3.4.5]", "[1234.1.1.1]", "[]", "[1.2.3.4",
		"1.2.3.4]", "[.1.2.3]", "[1..2.3]", "[1.2.3.4.]",
		"[IPv6:1:2:3:4:5:6:7]", "[IPv6:1:2:3:4:5:6:7:8:9]", "[IPv6:1::2::3]",
		"[IPv6:1:2:3:4:5:6:7::]", "[IPv6:::1:2:3:4:5:6:7]", "[IPv6:12345::]",
		"[IPv6:g::]", "[IPv6:1:2:3:4:5::1.2.3.4]", "[IPv6:::1.2.3]",
		"[IPv6:1:2:3:4:5:6:7:1.2.3.4]", "[IPv6:zzz]", "[IPv6:1:]", "[IPv6::1]",
		"[IPv6:]", "[IPv6:1.2.3.4::]", "[IPv6:::1.2.3.4:1]", "[IPv6::::]",
		"[x-:abc]", "[x:]", "[x:a[b]", "[x:a\\b]", "[x:a b]", "[:abc]",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		char *line = xasprintf("EHLO %s", bad[i]);

		ERR(line, 501, "5.5.4");
		free(line);
		line = xasprintf("RCPT TO:<u@%s>", bad[i]);
		ERR(line, 553, "5.1.3");
		free(line);
	}
}

/* --- MAIL / RCPT --- */

static void test_mail_basic(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<user.name+tag@Example.COM>");
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
	assert_false(cmd.path.null);
	assert_false(cmd.path.postmaster);
	assert_false(cmd.path.source_route);
	assert_string_equal(cmd.path.raw, "user.name+tag@Example.COM");
	assert_string_equal(cmd.path.mbox.local, "user.name+tag");
	assert_string_equal(cmd.path.mbox.domain, "Example.COM");
	assert_false(cmd.path.mbox.local_quoted);
	assert_int_equal(cmd.path.mbox.literal, SMTP_LITERAL_NONE);
	assert_false(cmd.path.mbox.utf8);
	assert_int_equal(cmd.param_count, 0);
	assert_int_equal(cmd.params_seen, 0);
	OK(&cmd, "MAIL FROM:<!#$%&'*+-/=?^_`{|}~@x.y>");
	assert_string_equal(cmd.path.mbox.local, "!#$%&'*+-/=?^_`{|}~");
	OK(&cmd, "MAIL FROM:<a@[192.0.2.1]>");
	assert_int_equal(cmd.path.mbox.literal, SMTP_LITERAL_IPV4);
	assert_string_equal(cmd.path.mbox.domain, "[192.0.2.1]");
	OK(&cmd, "MAIL FROM:<a@[IPv6:2001:db8::1]>");
	assert_int_equal(cmd.path.mbox.literal, SMTP_LITERAL_IPV6);
	smtp_command_free(&cmd);
}

static void test_mail_null(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<>");
	assert_true(cmd.path.null);
	assert_string_equal(cmd.path.raw, "");
	assert_string_equal(cmd.path.mbox.local, "");
	assert_string_equal(cmd.path.mbox.domain, "");
	OK(&cmd, "MAIL FROM:<> SIZE=10");
	assert_true(cmd.path.null);
	assert_int_equal(cmd.size, 10);
	ERR("RCPT TO:<>", 553, "5.1.3");
	ERR("MAIL FROM:< >", 553, "5.1.7");
	smtp_command_free(&cmd);
}

static void test_mail_space_after_colon(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM: <a@b>");
	assert_string_equal(cmd.path.raw, "a@b");
	OK(&cmd, "RCPT TO: <a@b>");
	OK(&cmd, "MAIL  FROM:<a@b>");
	OK(&cmd, "mail from:<a@b>");
	ERR("MAIL FROM:  <a@b>", 501, "5.5.4");
	ERR("MAIL FROM : <a@b>", 501, "5.5.4");
	ERR("MAIL FROM :<a@b>", 501, "5.5.4");
	ERR("RCPT TO:\t<a@b>", 501, "5.5.2");
	smtp_command_free(&cmd);
}

static void test_mail_syntax(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	ERR("MAIL", 501, "5.5.4");
	ERR("MAIL FROM", 501, "5.5.4");
	ERR("MAIL FROM:", 501, "5.5.4");
	ERR("MAIL FROM:a@b", 501, "5.5.4");
	ERR("MAIL FROM:<a@b", 501, "5.5.4");
	ERR("MAIL FROM:<a@b>x", 501, "5.5.4");
	ERR("MAIL FROM:<a@b><c@d>", 501, "5.5.4");
	ERR("MAIL TO:<a@b>", 501, "5.5.4");
	ERR("RCPT FROM:<a@b>", 501, "5.5.4");
	ERR("RCPT TO:a@b", 501, "5.5.4");
	ERR("RCPT", 501, "5.5.4");
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "MAIL FROM:x", 11, &all, &error), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_MAIL);
	assert_string_equal(error, "Syntax: MAIL FROM:<address>");
	assert_int_equal(parse_n(&cmd, "RCPT TO:x", 9, &all, &error), -1);
	assert_int_equal(cmd.verb, SMTP_VERB_RCPT);
	assert_string_equal(error, "Syntax: RCPT TO:<address>");
	smtp_command_free(&cmd);
}

static const char *bad_mailboxes[] = {
	"a", "@", "a@", "@b", "a..b@c", ".a@c", "a.@c", "a b@c", "a@b..c", "a@-b",
	"a@b-", "a@b@c", "a@.b", "a@b.", "a(b)@c", "a,b@c", "a@b_c", "a@[1.2.3.4",
	"\"a\"b@c", "\"a\".\"b\"@c", "a.\"b\"@c", "a\\b@c", "a@\"b\"",
	"a@b c", "a@",
};

static void test_mail_bad_address(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_mailboxes); i++) {
		char *line = xasprintf("MAIL FROM:<%s>", bad_mailboxes[i]);

		ERR(line, 553, "5.1.7");
		free(line);
	}
	ERR("MAIL FROM:<Postmaster>", 553, "5.1.7");
	/* an unterminated quoted string hides the closing ">" */
	ERR("MAIL FROM:<\"abc@x>", 501, "5.5.4");
	ERR("RCPT TO:<\"abc@x>", 501, "5.5.4");
	ERR("RCPT TO:<\"a\\\"@b>", 501, "5.5.4");
}

static void test_rcpt_bad_address(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_mailboxes); i++) {
		char *line = xasprintf("RCPT TO:<%s>", bad_mailboxes[i]);

		ERR(line, 553, "5.1.3");
		free(line);
	}
}

static void test_rcpt_postmaster(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "RCPT TO:<Postmaster>");
	assert_true(cmd.path.postmaster);
	assert_string_equal(cmd.path.mbox.local, "Postmaster");
	assert_string_equal(cmd.path.mbox.domain, "");
	OK(&cmd, "RCPT TO:<postMASTER>");
	assert_true(cmd.path.postmaster);
	assert_string_equal(cmd.path.mbox.local, "postMASTER");
	OK(&cmd, "RCPT TO:<postmaster@example.com>");
	assert_false(cmd.path.postmaster);
	assert_string_equal(cmd.path.mbox.local, "postmaster");
	assert_string_equal(cmd.path.mbox.domain, "example.com");
	OK(&cmd, "RCPT TO:<Postmaster> NOTIFY=NEVER");
	assert_true(cmd.path.postmaster);
	ERR("RCPT TO:<Postmaste>", 553, "5.1.3");
	ERR("RCPT TO:<\"Postmaster\">", 553, "5.1.3");
	smtp_command_free(&cmd);
}

static void test_source_route(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "RCPT TO:<@a.example,@b.example:user@c.example>");
	assert_true(cmd.path.source_route);
	assert_string_equal(cmd.path.raw, "user@c.example");
	assert_string_equal(cmd.path.mbox.local, "user");
	assert_string_equal(cmd.path.mbox.domain, "c.example");
	OK(&cmd, "MAIL FROM:<@a:u@c>");
	assert_true(cmd.path.source_route);
	assert_string_equal(cmd.path.raw, "u@c");
	OK(&cmd, "MAIL FROM:<u@c>");
	assert_false(cmd.path.source_route);
	ERR("RCPT TO:<@a.example:>", 553, "5.1.3");
	ERR("RCPT TO:<@a.example user@c>", 553, "5.1.3");
	ERR("RCPT TO:<@:u@c>", 553, "5.1.3");
	ERR("RCPT TO:<@a,b:u@c>", 553, "5.1.3");
	ERR("RCPT TO:<@a,:u@c>", 553, "5.1.3");
	ERR("RCPT TO:<@a.,@b:u@c>", 553, "5.1.3");
	ERR("RCPT TO:<@[1.2.3.4]:u@c>", 553, "5.1.3");
	ERR("RCPT TO:<@a:@b:u@c>", 553, "5.1.3");
	ERR("MAIL FROM:<@a>", 553, "5.1.7");
	ERR_O("RCPT TO:<@\xc3\xa4.example:u@c>", &all, 553, "5.6.7");
	smtp_command_free(&cmd);
}

static void test_quoted_local(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "RCPT TO:<\"john doe\"@example.com>");
	assert_string_equal(cmd.path.mbox.local, "john doe");
	assert_true(cmd.path.mbox.local_quoted);
	assert_string_equal(cmd.path.raw, "\"john doe\"@example.com");
	OK(&cmd, "RCPT TO:<\"a\\\"b\\\\c\"@x>");
	assert_string_equal(cmd.path.mbox.local, "a\"b\\c");
	OK(&cmd, "RCPT TO:<\"a@b\"@c>");
	assert_string_equal(cmd.path.mbox.local, "a@b");
	assert_string_equal(cmd.path.mbox.domain, "c");
	assert_true(cmd.path.mbox.local_quoted);
	OK(&cmd, "RCPT TO:<\"a>b\"@c> NOTIFY=NEVER");
	assert_string_equal(cmd.path.mbox.local, "a>b");
	assert_int_equal(cmd.notify, SMTP_NOTIFY_NEVER);
	OK(&cmd, "RCPT TO:<\"\"@x>");
	assert_string_equal(cmd.path.mbox.local, "");
	assert_true(cmd.path.mbox.local_quoted);
	OK(&cmd, "MAIL FROM:<\"\\a\\ b\"@x>");
	assert_string_equal(cmd.path.mbox.local, "a b");
	OK(&cmd, "MAIL FROM:<\"user\"@x>");
	assert_string_equal(cmd.path.mbox.local, "user");
	assert_true(cmd.path.mbox.local_quoted);
	/* quoted-pairSMTP is ASCII only, even under SMTPUTF8 */
	ERR("MAIL FROM:<\"\\\xc3\xa4\"@x> SMTPUTF8", 553, "5.1.7");
	smtp_command_free(&cmd);
}

/* "<" + local + "@" + domain + ">" */
static char *make_path_line(const char *verb, size_t local_len, bool quoted, size_t domain_len)
{
	struct buf b;
	char *s;

	buf_init(&b, 0);
	buf_printf(&b, "%s:<", verb);
	if (quoted) {
		s = repeat('q', local_len - 2);
		buf_printf(&b, "\"%s\"", s);
	} else {
		s = repeat('l', local_len);
		buf_append_str(&b, s);
	}
	free(s);
	buf_append_str(&b, "@");
	while (domain_len > 0) {
		size_t n = domain_len > 63 ? 63 : domain_len;

		/* never leave a 1-octet tail that would need an empty label */
		if (domain_len > 63 && domain_len - 63 < 2)
			n = 61;
		s = repeat('d', n);
		buf_append_str(&b, s);
		free(s);
		domain_len -= n;
		if (domain_len > 0) {
			buf_append_str(&b, ".");
			domain_len--;
		}
	}
	buf_append_str(&b, ">");
	return b.data;
}

static void test_address_lengths(void **state)
{
	struct smtp_command cmd;
	char *line;

	(void)state;
	smtp_command_init(&cmd);
	line = make_path_line("RCPT TO", 64, false, 20);
	OK(&cmd, line);
	assert_int_equal(strlen(cmd.path.mbox.local), 64);
	free(line);
	line = make_path_line("RCPT TO", 65, false, 20);
	ERR(line, 501, "5.1.3");
	free(line);
	line = make_path_line("MAIL FROM", 65, false, 20);
	ERR(line, 501, "5.1.7");
	free(line);
	line = make_path_line("RCPT TO", 64, true, 20);
	OK(&cmd, line);
	assert_int_equal(strlen(cmd.path.mbox.local), 62);
	free(line);
	line = make_path_line("RCPT TO", 65, true, 20);
	ERR(line, 501, "5.1.3");
	free(line);
	/* path: 1 + 64 + 1 + 189 + 1 = 256 */
	line = make_path_line("RCPT TO", 64, false, 189);
	assert_int_equal(strlen(strchr(line, '<')), 256);
	OK(&cmd, line);
	free(line);
	line = make_path_line("RCPT TO", 64, false, 190);
	assert_int_equal(strlen(strchr(line, '<')), 257);
	ERR(line, 501, "5.1.3");
	free(line);
	line = make_path_line("MAIL FROM", 10, false, 244);
	assert_int_equal(strlen(strchr(line, '<')), 257);
	ERR(line, 501, "5.1.7");
	free(line);
	smtp_command_free(&cmd);
}

static void test_utf8_addresses(void **state)
{
	struct smtp_command cmd;
	struct smtp_parse_opts no_utf8_ext = { .extensions = SMTP_EXT_ALL & ~SMTP_EXT_SMTPUTF8 };

	(void)state;
	smtp_command_init(&cmd);
	ERR("MAIL FROM:<j\xc3\xb6s@example.com>", 553, "5.6.7");
	ERR("MAIL FROM:<jos@ex\xc3\xa4mple.com>", 553, "5.6.7");
	OK(&cmd, "MAIL FROM:<j\xc3\xb6s@ex\xc3\xa4mple.com> SMTPUTF8");
	assert_true(cmd.smtputf8);
	assert_true(cmd.path.mbox.utf8);
	assert_string_equal(cmd.path.mbox.local, "j\xc3\xb6s");
	assert_string_equal(cmd.path.mbox.domain, "ex\xc3\xa4mple.com");
	OK(&cmd, "MAIL FROM:<ascii@example.com> smtputf8");
	assert_true(cmd.smtputf8);
	assert_false(cmd.path.mbox.utf8);
	OK(&cmd, "MAIL FROM:<\"\xe2\x82\xac uro\"@x> SIZE=1 SMTPUTF8");
	assert_string_equal(cmd.path.mbox.local, "\xe2\x82\xac uro");
	OK(&cmd, "MAIL FROM:<\xf0\x9f\x98\x80@x> SMTPUTF8");
	OK_O(&cmd, "RCPT TO:<\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\x85\xac\xe5\x8f\xb8>",
	     &all_utf8);
	assert_true(cmd.path.mbox.utf8);
	ERR("RCPT TO:<\xe7\x94\xa8@x>", 553, "5.6.7");
	/* SMTPUTF8 not advertised: the parameter does not enable UTF-8 */
	ERR_O("MAIL FROM:<j\xc3\xb6s@x> SMTPUTF8", &no_utf8_ext, 553, "5.6.7");
	ERR_O("MAIL FROM:<jos@x> SMTPUTF8", &no_utf8_ext, 555, "5.5.4");
	/* malformed UTF-8 is a syntax error even under SMTPUTF8 */
	ERR("MAIL FROM:<j\xc3(s@x> SMTPUTF8", 553, "5.1.7");
	ERR("MAIL FROM:<j\xc0\xafs@x> SMTPUTF8", 553, "5.1.7");
	ERR("MAIL FROM:<j\xed\xa0\x80s@x> SMTPUTF8", 553, "5.1.7");
	ERR("MAIL FROM:<j\xf4\x90\x80\x80s@x> SMTPUTF8", 553, "5.1.7");
	ERR("MAIL FROM:<j\xe2\x82@x> SMTPUTF8", 553, "5.1.7");
	ERR("MAIL FROM:<j\xc3> SMTPUTF8", 553, "5.1.7");
	ERR_O("RCPT TO:<a@-\xc3\xa4>", &all_utf8, 553, "5.1.3");
	ERR_O("RCPT TO:<a@\xc3\xa4->", &all_utf8, 553, "5.1.3");
	smtp_command_free(&cmd);
}

/* --- ESMTP parameters --- */

static void test_params_list(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=100 body=8BITMIME SMTPUTF8");
	assert_int_equal(cmd.param_count, 3);
	assert_string_equal(cmd.params[0].keyword, "SIZE");
	assert_string_equal(cmd.params[0].value, "100");
	assert_int_equal(cmd.params[0].id, SMTP_PARAM_SIZE);
	assert_string_equal(cmd.params[1].keyword, "body");
	assert_string_equal(cmd.params[1].value, "8BITMIME");
	assert_int_equal(cmd.params[1].id, SMTP_PARAM_BODY);
	assert_string_equal(cmd.params[2].keyword, "SMTPUTF8");
	assert_null(cmd.params[2].value);
	assert_int_equal(cmd.params_seen, (1u << SMTP_PARAM_SIZE) | (1u << SMTP_PARAM_BODY) |
			 (1u << SMTP_PARAM_SMTPUTF8));
	assert_null(cmd.bad_param);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=1 BODY=7BIT SMTPUTF8 RET=FULL ENVID=x AUTH=<>");
	assert_int_equal(cmd.param_count, 6);
	OK(&cmd, "RCPT TO:<a@b> NOTIFY=SUCCESS ORCPT=rfc822;a@b");
	assert_int_equal(cmd.param_count, 2);
	assert_int_equal(cmd.params_seen, (1u << SMTP_PARAM_NOTIFY) | (1u << SMTP_PARAM_ORCPT));
	smtp_command_free(&cmd);
}

static void test_param_size(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=0");
	assert_int_equal(cmd.size, 0);
	assert_true((cmd.params_seen & (1u << SMTP_PARAM_SIZE)) != 0);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=12345");
	assert_int_equal(cmd.size, 12345);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=18446744073709551615");
	assert_true(cmd.size == UINT64_MAX);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=18446744073709551614");
	assert_true(cmd.size == UINT64_MAX - 1);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=18446744073709551616");
	assert_true(cmd.size == UINT64_MAX);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=99999999999999999999");
	assert_true(cmd.size == UINT64_MAX);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=00000000000000000007");
	assert_int_equal(cmd.size, 7);
	ERR("MAIL FROM:<a@b> SIZE=123456789012345678901", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=-1", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=1a", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=+1", 501, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_body(void **state)
{
	struct smtp_command cmd;
	struct smtp_parse_opts only8 = { .extensions = SMTP_EXT_8BITMIME };
	struct smtp_parse_opts onlybin = { .extensions = SMTP_EXT_BINARYMIME | SMTP_EXT_CHUNKING };

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> BODY=7BIT");
	assert_int_equal(cmd.body, SMTP_BODY_7BIT);
	OK(&cmd, "MAIL FROM:<a@b> BODY=8bitmime");
	assert_int_equal(cmd.body, SMTP_BODY_8BITMIME);
	OK(&cmd, "MAIL FROM:<a@b> BODY=BINARYMIME");
	assert_int_equal(cmd.body, SMTP_BODY_BINARYMIME);
	OK(&cmd, "MAIL FROM:<a@b>");
	assert_int_equal(cmd.body, SMTP_BODY_NONE);
	OK_O(&cmd, "MAIL FROM:<a@b> BODY=8BITMIME", &only8);
	OK_O(&cmd, "MAIL FROM:<a@b> BODY=7BIT", &onlybin);
	ERR_O("MAIL FROM:<a@b> BODY=BINARYMIME", &only8, 555, "5.5.4");
	ERR_O("MAIL FROM:<a@b> BODY=8BITMIME", &onlybin, 555, "5.5.4");
	ERR_O("MAIL FROM:<a@b> BODY=7BIT", &none, 555, "5.5.4");
	ERR("MAIL FROM:<a@b> BODY=FOO", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> BODY=8BIT", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> BODY", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> BODY=", 501, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_smtputf8(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> SMTPUTF8");
	assert_true(cmd.smtputf8);
	OK(&cmd, "MAIL FROM:<a@b>");
	assert_false(cmd.smtputf8);
	ERR("MAIL FROM:<a@b> SMTPUTF8=yes", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SMTPUTF8 SMTPUTF8", 501, "5.5.4");
	ERR("RCPT TO:<a@b> SMTPUTF8", 555, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_ret(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> RET=FULL");
	assert_int_equal(cmd.ret, SMTP_RET_FULL);
	OK(&cmd, "MAIL FROM:<a@b> ret=hdrs");
	assert_int_equal(cmd.ret, SMTP_RET_HDRS);
	ERR("MAIL FROM:<a@b> RET=X", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> RET", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> RET=FULLY", 501, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_envid(void **state)
{
	struct smtp_command cmd;
	char *v, *line;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> ENVID=QQ314159");
	assert_string_equal(cmd.envid, "QQ314159");
	OK(&cmd, "MAIL FROM:<a@b> ENVID=a+2Bb+3Dc+20d");
	assert_string_equal(cmd.envid, "a+b=c d");
	assert_string_equal(cmd.params[0].value, "a+2Bb+3Dc+20d");
	ERR("MAIL FROM:<a@b> ENVID=a+2b", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID=a+2", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID=a+00", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID=a+0A", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID=a+C3+A4", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID", 501, "5.5.4");
	v = repeat('e', SMTP_MAX_ENVID);
	line = xasprintf("MAIL FROM:<a@b> ENVID=%s", v);
	OK(&cmd, line);
	assert_int_equal(strlen(cmd.envid), SMTP_MAX_ENVID);
	free(line);
	line = xasprintf("MAIL FROM:<a@b> ENVID=%se", v);
	ERR(line, 501, "5.5.4");
	free(line);
	/* the limit is on the decoded value */
	line = xasprintf("MAIL FROM:<a@b> ENVID=%.*s+2B", SMTP_MAX_ENVID - 1, v);
	OK(&cmd, line);
	free(line);
	free(v);
	smtp_command_free(&cmd);
}

static void test_param_auth(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> AUTH=<>");
	assert_string_equal(cmd.auth, "<>");
	OK(&cmd, "MAIL FROM:<a@b> AUTH=e+3Dmc2@example.com");
	assert_string_equal(cmd.auth, "e=mc2@example.com");
	OK(&cmd, "MAIL FROM:<a@b> AUTH=+22a+20b+22@x");
	assert_string_equal(cmd.auth, "\"a b\"@x");
	ERR("MAIL FROM:<a@b> AUTH=notanaddress", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH=a@b+20c", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH=+3C+3E+3C+3E", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH=a+40", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH=j+C3+B6@x", 501, "5.5.4");
	OK(&cmd, "MAIL FROM:<a@b> AUTH=j+C3+B6@x SMTPUTF8");
	assert_string_equal(cmd.auth, "j\xc3\xb6@x");
	ERR_O("MAIL FROM:<a@b> AUTH=<>", &none, 555, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_notify(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "RCPT TO:<a@b> NOTIFY=NEVER");
	assert_int_equal(cmd.notify, SMTP_NOTIFY_NEVER);
	OK(&cmd, "RCPT TO:<a@b> NOTIFY=SUCCESS");
	assert_int_equal(cmd.notify, SMTP_NOTIFY_SUCCESS);
	OK(&cmd, "RCPT TO:<a@b> NOTIFY=SUCCESS,FAILURE,DELAY");
	assert_int_equal(cmd.notify, SMTP_NOTIFY_SUCCESS | SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	OK(&cmd, "RCPT TO:<a@b> notify=delay,failure");
	assert_int_equal(cmd.notify, SMTP_NOTIFY_FAILURE | SMTP_NOTIFY_DELAY);
	OK(&cmd, "RCPT TO:<a@b>");
	assert_int_equal(cmd.notify, 0);
	ERR("RCPT TO:<a@b> NOTIFY=NEVER,SUCCESS", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=FAILURE,NEVER", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=SUCCESS,,DELAY", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=SUCCESS,", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=,SUCCESS", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=FOO", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> NOTIFY=NEVER", 555, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_param_orcpt(void **state)
{
	struct smtp_command cmd;
	char *v, *line;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "RCPT TO:<a@b> ORCPT=rfc822;user@example.com");
	assert_string_equal(cmd.orcpt_type, "rfc822");
	assert_string_equal(cmd.orcpt, "user@example.com");
	OK(&cmd, "RCPT TO:<a@b> ORCPT=rfc822;a+2Bb+20c@x");
	assert_string_equal(cmd.orcpt, "a+b c@x");
	OK(&cmd, "RCPT TO:<a@b> ORCPT=x-local;anything;goes");
	assert_string_equal(cmd.orcpt_type, "x-local");
	assert_string_equal(cmd.orcpt, "anything;goes");
	ERR("RCPT TO:<a@b> ORCPT=rfc822", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=;a@b", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=rfc822;", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=rf(c;a", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=rfc822;a+0Db", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=rfc822;a+zz", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT", 501, "5.5.4");
	ERR("RCPT TO:<a@b> ORCPT=rfc822;a ORCPT=rfc822;b", 501, "5.5.4");
	v = repeat('o', SMTP_MAX_ORCPT);
	line = xasprintf("RCPT TO:<a@b> ORCPT=rfc822;%s", v);
	OK(&cmd, line);
	assert_int_equal(strlen(cmd.orcpt), SMTP_MAX_ORCPT);
	free(line);
	line = xasprintf("RCPT TO:<a@b> ORCPT=rfc822;%so", v);
	ERR(line, 501, "5.5.4");
	free(line);
	free(v);
	smtp_command_free(&cmd);
}

static void test_param_duplicates(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	ERR("MAIL FROM:<a@b> SIZE=1 SIZE=2", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> size=1 SIZE=1", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> BODY=7BIT BODY=8BITMIME", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> RET=FULL RET=HDRS", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> ENVID=a ENVID=a", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> AUTH=<> AUTH=<>", 501, "5.5.4");
	ERR("RCPT TO:<a@b> NOTIFY=NEVER NOTIFY=NEVER", 501, "5.5.4");
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "MAIL FROM:<a@b> SIZE=1 Size=2", 29, &all, &error), -1);
	assert_string_equal(error, "Duplicate parameter");
	assert_string_equal(cmd.bad_param, "Size");
	smtp_command_free(&cmd);
}

static void test_param_unknown(void **state)
{
	struct smtp_command cmd;
	const char *error;
	struct smtp_parse_opts nodsn = { .extensions = SMTP_EXT_ALL & ~SMTP_EXT_DSN };

	(void)state;
	smtp_command_init(&cmd);
	assert_int_equal(parse_n(&cmd, "MAIL FROM:<a@b> FOO=bar", 23, &all, &error), -1);
	assert_int_equal(cmd.error_code, 555);
	assert_string_equal(cmd.error_enhanced, "5.5.4");
	assert_string_equal(error, "Unsupported parameter");
	assert_string_equal(cmd.bad_param, "FOO");
	assert_int_equal(cmd.params[0].id, SMTP_PARAM_UNKNOWN);
	smtp_command_free(&cmd);
	ERR("MAIL FROM:<a@b> X-FOO", 555, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=1 MT-PRIORITY=3", 555, "5.5.4");
	ERR("RCPT TO:<a@b> SIZE=1", 555, "5.5.4");
	ERR("RCPT TO:<a@b> BODY=8BITMIME", 555, "5.5.4");
	ERR("MAIL FROM:<a@b> ORCPT=rfc822;a@b", 555, "5.5.4");
	ERR_O("MAIL FROM:<a@b> RET=FULL", &nodsn, 555, "5.5.4");
	ERR_O("RCPT TO:<a@b> NOTIFY=NEVER", &nodsn, 555, "5.5.4");
	ERR_O("MAIL FROM:<a@b> SIZE=1", &none, 555, "5.5.4");
	ERR_O("MAIL FROM:<a@b> SMTPUTF8", &none, 555, "5.5.4");
}

static void test_param_syntax(void **state)
{
	struct smtp_command cmd;

	(void)state;
	ERR("MAIL FROM:<a@b> =x", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> -X=1", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> X_Y=1", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> X=a=b", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> X=", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> X=\xc3\xa4", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=1 X=\xc3\xa4 SMTPUTF8", 555, "5.5.4");
	ERR("MAIL FROM:<a@b> SMTPUTF8 X=\xc3(", 501, "5.5.4");
	ERR("MAIL FROM:<a@b> SIZE=\xc3\xa4 SMTPUTF8", 501, "5.5.4");
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b>    SIZE=1     BODY=7BIT");
	assert_int_equal(cmd.param_count, 2);
	smtp_command_free(&cmd);
}

/* --- BDAT, AUTH, VRFY/EXPN, NOOP/HELP --- */

static void test_bdat(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "BDAT 0 LAST");
	assert_int_equal(cmd.size, 0);
	assert_true(cmd.bdat_last);
	OK(&cmd, "BDAT 1000");
	assert_int_equal(cmd.size, 1000);
	assert_false(cmd.bdat_last);
	OK(&cmd, "bdat 5 last");
	assert_true(cmd.bdat_last);
	OK(&cmd, "BDAT 5  LAST ");
	assert_true(cmd.bdat_last);
	OK(&cmd, "BDAT 18446744073709551615");
	assert_true(cmd.size == UINT64_MAX);
	ERR("BDAT", 501, "5.5.4");
	ERR("BDAT x", 501, "5.5.4");
	ERR("BDAT 1 FIRST", 501, "5.5.4");
	ERR("BDAT 1LAST", 501, "5.5.4");
	ERR("BDAT -1", 501, "5.5.4");
	ERR("BDAT 18446744073709551616", 501, "5.5.4");
	ERR("BDAT 1 LAST x", 501, "5.5.4");
	ERR("BDAT LAST", 501, "5.5.4");
	smtp_command_free(&cmd);
}

static void test_auth_command(void **state)
{
	struct smtp_command cmd;
	char *line;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "AUTH PLAIN");
	assert_string_equal(cmd.arg, "PLAIN");
	assert_null(cmd.auth_response);
	OK(&cmd, "auth login");
	assert_string_equal(cmd.arg, "LOGIN");
	OK(&cmd, "AUTH PLAIN =");
	assert_string_equal(cmd.auth_response, "");
	OK(&cmd, "AUTH PLAIN AGFsaWNlAHNlY3JldA==");
	assert_string_equal(cmd.auth_response, "AGFsaWNlAHNlY3JldA==");
	OK(&cmd, "AUTH PLAIN YWJj");
	OK(&cmd, "AUTH PLAIN YWI=");
	OK(&cmd, "AUTH SCRAM-SHA-256");
	assert_string_equal(cmd.arg, "SCRAM-SHA-256");
	OK(&cmd, "AUTH X_Y");
	line = xasprintf("AUTH %s", "ABCDEFGHIJ0123456789");
	OK(&cmd, line);
	free(line);
	ERR("AUTH ABCDEFGHIJ0123456789X", 501, "5.5.4");
	ERR("AUTH", 501, "5.5.4");
	ERR("AUTH PL@IN", 501, "5.5.4");
	ERR("AUTH PLAIN abc", 501, "5.5.2");
	ERR("AUTH PLAIN a=bc", 501, "5.5.2");
	ERR("AUTH PLAIN ====", 501, "5.5.2");
	ERR("AUTH PLAIN ab=c", 501, "5.5.2");
	ERR("AUTH PLAIN a===", 501, "5.5.2");
	ERR("AUTH PLAIN ab-_", 501, "5.5.2");
	ERR("AUTH PLAIN ==", 501, "5.5.2");
	ERR("AUTH PLAIN abc= d", 501, "5.5.4");
	ERR("AUTH PLAIN \xc3\xa4", 501, "5.5.2");
	smtp_command_free(&cmd);
}

static void test_vrfy_expn(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "VRFY user");
	assert_string_equal(cmd.arg, "user");
	assert_false(cmd.smtputf8);
	OK(&cmd, "VRFY <a@b>");
	assert_string_equal(cmd.arg, "<a@b>");
	OK(&cmd, "EXPN staff list");
	assert_string_equal(cmd.arg, "staff list");
	OK(&cmd, "VRFY j\xc3\xb6s SMTPUTF8");
	assert_string_equal(cmd.arg, "j\xc3\xb6s");
	assert_true(cmd.smtputf8);
	OK(&cmd, "EXPN list  smtputf8");
	assert_string_equal(cmd.arg, "list");
	assert_true(cmd.smtputf8);
	OK(&cmd, "VRFY SMTPUTF8");
	assert_string_equal(cmd.arg, "SMTPUTF8");
	assert_false(cmd.smtputf8);
	ERR("VRFY", 501, "5.5.4");
	ERR("EXPN", 501, "5.5.4");
	ERR("VRFY j\xc3\xb6s", 553, "5.6.7");
	ERR("VRFY j\xc3(s SMTPUTF8", 501, "5.5.4");
	ERR_O("VRFY j\xc3\xb6s SMTPUTF8", &none, 553, "5.6.7");
	smtp_command_free(&cmd);
}

static void test_noop_help(void **state)
{
	struct smtp_command cmd;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "NOOP");
	assert_null(cmd.arg);
	OK(&cmd, "NOOP anything at all <> \"\"");
	assert_string_equal(cmd.arg, "anything at all <> \"\"");
	OK(&cmd, "HELP");
	assert_null(cmd.arg);
	OK(&cmd, "HELP MAIL");
	assert_string_equal(cmd.arg, "MAIL");
	OK(&cmd, "NOOP \xc3\xa4");
	ERR("NOOP \xc3", 501, "5.5.2");
	smtp_command_free(&cmd);
}

static void test_command_reuse(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	smtp_command_init(&cmd);
	OK(&cmd, "MAIL FROM:<a@b> SIZE=5 BODY=8BITMIME RET=HDRS ENVID=e AUTH=<>");
	OK(&cmd, "RCPT TO:<c@d>");
	assert_int_equal(cmd.size, 0);
	assert_int_equal(cmd.body, SMTP_BODY_NONE);
	assert_int_equal(cmd.ret, SMTP_RET_NONE);
	assert_null(cmd.envid);
	assert_null(cmd.auth);
	assert_int_equal(cmd.param_count, 0);
	assert_string_equal(cmd.path.raw, "c@d");
	assert_int_equal(parse_n(&cmd, "MAIL FROM:<x", 12, &all, &error), -1);
	OK(&cmd, "QUIT");
	assert_int_equal(cmd.error_code, 0);
	assert_null(cmd.error_enhanced);
	assert_null(cmd.path.raw);
	smtp_command_free(&cmd);
	/* usable again after free */
	OK(&cmd, "NOOP");
	smtp_command_free(&cmd);
}

static void test_opts_null(void **state)
{
	struct smtp_command cmd;
	const char *error;

	(void)state;
	smtp_command_init(&cmd);
	assert_int_equal(smtp_command_parse("MAIL FROM:<a@b> SIZE=1 RET=FULL", 31, NULL, &cmd,
					    &error), 0);
	assert_int_equal(cmd.size, 1);
	assert_int_equal(smtp_command_parse("RCPT TO:<\xc3\xa4@b>", 14, NULL, &cmd, &error), -1);
	assert_int_equal(cmd.error_code, 553);
	smtp_command_free(&cmd);
}

/* --- DATA reader --- */

struct data_result {
	int ret;
	size_t consumed;
	unsigned flags;
	uint64_t size;
	char *out;
	size_t out_len;
};

/* Feed in pieces ending at the given cut offsets until the end is found. */
static struct data_result data_run(const char *in, size_t len, const size_t *cuts, size_t ncuts,
				   uint64_t max, size_t out_max, bool chunk, bool finish)
{
	struct smtp_data_reader r;
	struct data_result res;
	struct buf out;
	size_t off = 0, i;
	int ret = 0;

	smtp_data_init(&r, max, chunk);
	buf_init(&out, out_max);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : len, used = (size_t)-1;
		char *copy = xmalloc(end - off + 1);

		memcpy(copy, in + off, end - off);
		ret = smtp_data_feed(&r, copy, end - off, &out, &used);
		free(copy);
		assert_true(used <= end - off);
		if (ret == 0)
			assert_int_equal(used, end - off);
		off += used;
		if (ret == 1)
			break;
	}
	if (finish)
		smtp_data_finish(&r);
	res.ret = ret;
	res.consumed = off;
	res.flags = smtp_data_flags(&r);
	res.size = smtp_data_size(&r);
	res.out_len = out.len;
	res.out = xmalloc(out.len + 1);
	memcpy(res.out, out.data != NULL ? out.data : "", out.len);
	res.out[out.len] = '\0';
	buf_free(&out);
	return res;
}

static void data_same(const struct data_result *a, const struct data_result *b, const char *how)
{
	if (a->ret != b->ret || a->consumed != b->consumed || a->flags != b->flags ||
	    a->size != b->size || a->out_len != b->out_len ||
	    memcmp(a->out, b->out, a->out_len) != 0)
		fail_msg("%s differs: ret %d/%d consumed %zu/%zu flags %x/%x size %llu/%llu "
			 "out %zu/%zu", how, a->ret, b->ret, a->consumed, b->consumed,
			 a->flags, b->flags, (unsigned long long)a->size,
			 (unsigned long long)b->size, a->out_len, b->out_len);
}

/* Whole, trickled, split in two at every offset and in three at many. */
static void data_check(const char *in, size_t len, uint64_t max, size_t out_max, bool chunk,
		       int want_ret, size_t want_consumed, const char *want_out,
		       size_t want_out_len, unsigned want_flags)
{
	struct data_result whole = data_run(in, len, NULL, 0, max, out_max, chunk, false);
	size_t *cuts = xcalloc(len + 1, sizeof(size_t)), i, j;

	if (whole.ret != want_ret || whole.consumed != want_consumed ||
	    whole.flags != want_flags || whole.out_len != want_out_len ||
	    memcmp(whole.out, want_out, want_out_len) != 0)
		fail_msg("[%.*s]: ret %d consumed %zu flags %x out [%s] (want %d %zu %x [%.*s])",
			 (int)len, in, whole.ret, whole.consumed, whole.flags, whole.out,
			 want_ret, want_consumed, want_flags, (int)want_out_len, want_out);
	for (i = 1; i < len; i++)
		cuts[i - 1] = i;
	if (len > 1) {
		struct data_result t = data_run(in, len, cuts, len - 1, max, out_max, chunk, false);

		data_same(&whole, &t, "trickle");
		free(t.out);
	}
	for (i = 1; i < len; i++) {
		struct data_result t = data_run(in, len, &i, 1, max, out_max, chunk, false);

		data_same(&whole, &t, "split");
		free(t.out);
	}
	for (i = 1; i < len && len <= 80; i++) {
		for (j = i + 1; j < len; j++) {
			size_t two[2] = { i, j };
			struct data_result t = data_run(in, len, two, 2, max, out_max, chunk, false);

			data_same(&whole, &t, "split3");
			free(t.out);
		}
	}
	free(cuts);
	free(whole.out);
}

#define S(s) (s), sizeof(s) - 1
#define DATA_OK(in, out) data_check(S(in), 0, 0, false, 1, sizeof(in) - 1, S(out), 0)

static void test_data_simple(void **state)
{
	(void)state;
	DATA_OK("Hello\r\n.\r\n", "Hello\r\n");
	DATA_OK("Subject: x\r\n\r\nbody\r\nline 2\r\n.\r\n", "Subject: x\r\n\r\nbody\r\nline 2\r\n");
	DATA_OK("\r\n.\r\n", "\r\n");
}

static void test_data_first_line_dot(void **state)
{
	(void)state;
	DATA_OK(".\r\n", "");
	data_check(S("."), 0, 0, false, 0, 1, S(""), 0);
	data_check(S(".\r"), 0, 0, false, 0, 2, S(""), 0);
}

static void test_data_dot_stuffing(void **state)
{
	(void)state;
	DATA_OK("..abc\r\n..\r\n.\r\n", ".abc\r\n.\r\n");
	DATA_OK("a\r\n...\r\n.\r\n", "a\r\n..\r\n");
	DATA_OK("a.\r\n.b\r\n.\r\n", "a.\r\nb\r\n");
	DATA_OK("a\r\n. \r\n.\r\n", "a\r\n \r\n");
	data_check(S("x\r\n.\r.\r\n.\r\n"), 0, 0, false, 1, 11, S("x\r\n"), SMTP_DATA_BARE_CR);
}

static void test_data_pipelined(void **state)
{
	(void)state;
	data_check(S("a\r\n.\r\nQUIT\r\n"), 0, 0, false, 1, 6, S("a\r\n"), 0);
	data_check(S(".\r\nRSET\r\n"), 0, 0, false, 1, 3, S(""), 0);
	data_check(S("a\r\n.\r\n.\r\n"), 0, 0, false, 1, 6, S("a\r\n"), 0);
}

static void test_data_incomplete(void **state)
{
	(void)state;
	data_check(S("a\r\n"), 0, 0, false, 0, 3, S("a\r\n"), 0);
	data_check(S("a\r\n.\r"), 0, 0, false, 0, 5, S("a\r\n"), 0);
	data_check(S("a\r\n."), 0, 0, false, 0, 4, S("a\r\n"), 0);
	data_check(S("a\r"), 0, 0, false, 0, 2, S("a"), 0);
	data_check(S(""), 0, 0, false, 0, 0, S(""), 0);
}

static void test_data_bare_lf_before_dot(void **state)
{
	(void)state;
	/* "\n.\r\n" does not end the data; the real CRLF.CRLF does */
	data_check(S("a\n.\r\nb\r\n.\r\n"), 0, 0, false, 1, 11, S("a"), SMTP_DATA_BARE_LF);
	data_check(S("a\r\nb\n.\r\nMAIL FROM:<x@y>\r\n.\r\nX"), 0, 0, false, 1, 28,
		   S("a\r\nb"), SMTP_DATA_BARE_LF);
	data_check(S("\n.\r\n"), 0, 0, false, 0, 4, S(""), SMTP_DATA_BARE_LF);
}

static void test_data_dot_bare_lf(void **state)
{
	(void)state;
	/* "\r\n.\n" does not end the data either */
	data_check(S("a\r\n.\nb\r\n.\r\n"), 0, 0, false, 1, 11, S("a\r\n"), SMTP_DATA_BARE_LF);
	data_check(S(".\n.\r\n"), 0, 0, false, 0, 5, S(""), SMTP_DATA_BARE_LF);
	data_check(S("a\n.\n"), 0, 0, false, 0, 4, S("a"), SMTP_DATA_BARE_LF);
	data_check(S("a\r\n.\n\r\n.\r\n"), 0, 0, false, 1, 10, S("a\r\n"), SMTP_DATA_BARE_LF);
}

static void test_data_bare_cr(void **state)
{
	(void)state;
	data_check(S("a\rb\r\n.\r\n"), 0, 0, false, 1, 8, S("a"), SMTP_DATA_BARE_CR);
	data_check(S("a\r.\r\n"), 0, 0, false, 0, 5, S("a"), SMTP_DATA_BARE_CR);
	data_check(S("a\r\n.\r.\r\n"), 0, 0, false, 0, 8, S("a\r\n"), SMTP_DATA_BARE_CR);
	data_check(S("x\r\n.\r.\r\n.\r\n"), 0, 0, false, 1, 11, S("x\r\n"), SMTP_DATA_BARE_CR);
	/* CR CR LF: the first CR is bare, the second ends the line */
	data_check(S("a\r\r\n.\r\n"), 0, 0, false, 1, 7, S("a"), SMTP_DATA_BARE_CR);
	data_check(S("a\r\n\r.\r\n"), 0, 0, false, 0, 7, S("a\r\n"), SMTP_DATA_BARE_CR);
	data_check(S("a\r\n.\r\r\n.\r\n"), 0, 0, false, 1, 10, S("a\r\n"), SMTP_DATA_BARE_CR);
}

static void test_data_mixed_smuggling(void **state)
{
	(void)state;
	data_check(S("a\rb\nc\r\n.\r\n"), 0, 0, false, 1, 10, S("a"),
		   SMTP_DATA_BARE_CR | SMTP_DATA_BARE_LF);
	data_check(S("a\n\r\n.\r\n"), 0, 0, false, 1, 7, S("a"), SMTP_DATA_BARE_LF);
	/* the CRLF after the bare CR is real, so the next ".\r\n" ends */
	data_check(S("a\n\r.\r\n.\r\n"), 0, 0, false, 1, 9, S("a"),
		   SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR);
}

static void test_data_long_line(void **state)
{
	char *line998 = repeat('x', 998), *in, *want;

	(void)state;
	in = xasprintf("%s\r\n.\r\n", line998);
	want = xasprintf("%s\r\n", line998);
	data_check(in, strlen(in), 0, 0, false, 1, strlen(in), want, strlen(want), 0);
	free(in);
	free(want);
	in = xasprintf("%sy\r\n.\r\n", line998);
	want = xasprintf("%sy\r\n", line998);
	data_check(in, strlen(in), 0, 0, false, 1, strlen(in), want, strlen(want),
		   SMTP_DATA_LONG_LINE);
	free(in);
	free(want);
	/* the stuffing dot does not count (RFC 5321 4.5.3.1.6) */
	in = xasprintf(".%s\r\n.\r\n", line998);
	want = xasprintf("%s\r\n", line998);
	data_check(in, strlen(in), 0, 0, false, 1, strlen(in), want, strlen(want), 0);
	free(in);
	free(want);
	/* 998 on each of two lines is fine: the count restarts at CRLF */
	in = xasprintf("%s\r\n%s\r\n.\r\n", line998, line998);
	want = xasprintf("%s\r\n%s\r\n", line998, line998);
	data_check(in, strlen(in), 0, 0, false, 1, strlen(in), want, strlen(want), 0);
	free(in);
	free(want);
	free(line998);
}

static void test_data_nul(void **state)
{
	(void)state;
	data_check(S("a\0b\r\n.\r\n"), 0, 0, false, 1, 8, S("a\0b\r\n"), SMTP_DATA_NUL);
	data_check(S("\0\r\n.\r\n"), 0, 0, false, 1, 6, S("\0\r\n"), SMTP_DATA_NUL);
}

static void test_data_8bit(void **state)
{
	(void)state;
	data_check(S("caf\xc3\xa9\r\n.\r\n"), 0, 0, false, 1, 10, S("caf\xc3\xa9\r\n"),
		   SMTP_DATA_8BIT);
	data_check(S(".\xff\r\n.\r\n"), 0, 0, false, 1, 7, S("\xff\r\n"), SMTP_DATA_8BIT);
}

static void test_data_too_big(void **state)
{
	struct data_result r;

	(void)state;
	/* exactly max message octets: fine */
	data_check(S("123456789\r\n.\r\n"), 11, 0, false, 1, 14, S("123456789\r\n"), 0);
	/* one more: flagged, output cut at max, data still read to its end */
	data_check(S("1234567890\r\n.\r\n"), 11, 0, false, 1, 15, S("1234567890\r"),
		   SMTP_DATA_TOO_BIG);
	data_check(S("abcdef\r\nghijkl\r\n.\r\nNEXT"), 4, 0, false, 1, 19, S("abcd"),
		   SMTP_DATA_TOO_BIG);
	/* dot-stuffing is not counted */
	data_check(S("..\r\n.\r\n"), 3, 0, false, 1, 7, S(".\r\n"), 0);
	r = data_run(S("abcdef\r\nghijkl\r\n.\r\n"), NULL, 0, 4, 0, false, false);
	assert_int_equal(r.size, 16);
	free(r.out);
	/* the output buffer's own maximum counts the same way */
	data_check(S("abcdef\r\n.\r\n"), 0, 3, false, 1, 11, S("abc"), SMTP_DATA_TOO_BIG);
	data_check(S("abc\r\n.\r\n"), 0, 5, false, 1, 8, S("abc\r\n"), 0);
}

static void test_data_done_sticky(void **state)
{
	struct smtp_data_reader r;
	struct buf out;
	size_t used;

	(void)state;
	smtp_data_init(&r, 0, false);
	buf_init(&out, 0);
	assert_int_equal(smtp_data_feed(&r, ".\r\nabc", 6, &out, &used), 1);
	assert_int_equal(used, 3);
	assert_int_equal(smtp_data_feed(&r, "abc", 3, &out, &used), 1);
	assert_int_equal(used, 0);
	assert_int_equal(out.len, 0);
	assert_int_equal(smtp_data_size(&r), 0);
	buf_free(&out);
}

static void test_data_chunk_mode(void **state)
{
	struct smtp_data_reader r;
	struct buf out;
	size_t used;

	(void)state;
	/* BDAT: no dot handling, no end marker, everything consumed */
	data_check(S(".\r\n..\r\n"), 0, 0, true, 0, 7, S(".\r\n..\r\n"), 0);
	data_check(S("a\nb"), 0, 0, true, 0, 3, S("a"), SMTP_DATA_BARE_LF);
	data_check(S("a\rb"), 0, 0, true, 0, 3, S("a"), SMTP_DATA_BARE_CR);
	data_check(S("\xff\0"), 0, 0, true, 0, 2, S("\xff\0"), SMTP_DATA_8BIT | SMTP_DATA_NUL);
	data_check(S("123456"), 4, 0, true, 0, 6, S("1234"), SMTP_DATA_TOO_BIG);

	/* CR at the end of one chunk, LF at the start of the next */
	smtp_data_init(&r, 0, true);
	buf_init(&out, 0);
	assert_int_equal(smtp_data_feed(&r, "a\r", 2, &out, &used), 0);
	assert_int_equal(smtp_data_feed(&r, "\nb\r\n", 4, &out, &used), 0);
	smtp_data_finish(&r);
	assert_int_equal(smtp_data_flags(&r), 0);
	assert_int_equal(out.len, 6);
	assert_memory_equal(out.data, "a\r\nb\r\n", 6);
	buf_free(&out);

	/* a CR still pending at LAST is bare */
	smtp_data_init(&r, 0, true);
	buf_init(&out, 0);
	assert_int_equal(smtp_data_feed(&r, "a\r", 2, &out, &used), 0);
	smtp_data_finish(&r);
	assert_int_equal(smtp_data_flags(&r), SMTP_DATA_BARE_CR);
	buf_free(&out);
}

static void test_data_reply(void **state)
{
	unsigned code;
	const char *enh, *text;

	(void)state;
	assert_int_equal(smtp_data_reply(0, &code, &enh, &text), 0);
	assert_int_equal(smtp_data_reply(SMTP_DATA_BARE_LF | SMTP_DATA_TOO_BIG, &code, &enh,
					 &text), -1);
	assert_int_equal(code, 554);
	assert_string_equal(enh, "5.6.0");
	assert_non_null(strstr(text, "bare LF"));
	assert_int_equal(smtp_data_reply(SMTP_DATA_BARE_CR, &code, &enh, &text), -1);
	assert_non_null(strstr(text, "bare CR"));
	assert_int_equal(smtp_data_reply(SMTP_DATA_TOO_BIG | SMTP_DATA_NUL, &code, &enh, &text), -1);
	assert_int_equal(code, 552);
	assert_string_equal(enh, "5.3.4");
	assert_int_equal(smtp_data_reply(SMTP_DATA_NUL | SMTP_DATA_LONG_LINE, &code, &enh, &text),
			 -1);
	assert_int_equal(code, 554);
	assert_non_null(strstr(text, "NUL"));
	assert_int_equal(smtp_data_reply(SMTP_DATA_LONG_LINE, &code, &enh, &text), -1);
	assert_non_null(strstr(text, "998"));
	assert_int_equal(smtp_data_reply(SMTP_DATA_8BIT, &code, &enh, &text), -1);
	assert_string_equal(enh, "5.6.1");
}

/* A large message trickled in must give the same bytes as fed whole. */
static void test_data_large_message(void **state)
{
	struct buf in, want;
	struct data_result whole, pieces;
	size_t cuts[64], i;

	(void)state;
	buf_init(&in, 0);
	buf_init(&want, 0);
	for (i = 0; i < 2000; i++) {
		const char *line = i % 7 == 0 ? "." : i % 5 == 0 ? ".." : "text line";

		buf_printf(&in, "%s%s %zu\r\n", line[0] == '.' ? "." : "", line, i);
		buf_printf(&want, "%s %zu\r\n", line, i);
	}
	buf_append_str(&in, ".\r\n");
	whole = data_run(in.data, in.len, NULL, 0, 0, 0, false, false);
	assert_int_equal(whole.ret, 1);
	assert_int_equal(whole.consumed, in.len);
	assert_int_equal(whole.out_len, want.len);
	assert_memory_equal(whole.out, want.data, want.len);
	for (i = 0; i < ARRAY_SIZE(cuts); i++)
		cuts[i] = (i + 1) * (in.len / (ARRAY_SIZE(cuts) + 1)) + i % 3;
	pieces = data_run(in.data, in.len, cuts, ARRAY_SIZE(cuts), 0, 0, false, false);
	data_same(&whole, &pieces, "pieces");
	free(whole.out);
	free(pieces.out);
	buf_free(&in);
	buf_free(&want);
}

/* --- replies --- */

static void reply_is(unsigned code, const char *enh, const char *text, const char *want)
{
	struct buf out;

	buf_init(&out, 0);
	assert_int_equal(smtp_reply_format(&out, code, enh, text), 0);
	assert_string_equal(out.data, want);
	buf_free(&out);
}

static void test_reply_single(void **state)
{
	(void)state;
	reply_is(250, NULL, "OK", "250 OK\r\n");
	reply_is(250, "2.0.0", "OK", "250 2.0.0 OK\r\n");
	reply_is(550, "5.1.1", "No such user", "550 5.1.1 No such user\r\n");
	reply_is(421, "4.4.2", "Timeout", "421 4.4.2 Timeout\r\n");
	reply_is(250, "2.1.10", "x", "250 2.1.10 x\r\n");
	reply_is(250, "2.100.999", "x", "250 2.100.999 x\r\n");
}

static void test_reply_multi(void **state)
{
	(void)state;
	reply_is(250, NULL, "a\nb\nc", "250-a\r\n250-b\r\n250 c\r\n");
	reply_is(250, NULL, "a\nb\n", "250-a\r\n250 b\r\n");
	reply_is(214, "2.0.0", "one\ntwo", "214-2.0.0 one\r\n214 2.0.0 two\r\n");
	reply_is(250, NULL, "a\n\nb", "250-a\r\n250-\r\n250 b\r\n");
}

static void test_reply_empty(void **state)
{
	(void)state;
	reply_is(354, NULL, "", "354\r\n");
	reply_is(354, NULL, NULL, "354\r\n");
	reply_is(250, "2.0.0", "", "250 2.0.0\r\n");
	reply_is(250, NULL, "\n", "250\r\n");
}

static void check_reply_lines(const char *reply, unsigned code)
{
	const char *p = reply;
	char prefix[8];

	snprintf(prefix, sizeof(prefix), "%03u", code);
	while (*p != '\0') {
		const char *crlf = strstr(p, "\r\n");

		assert_non_null(crlf);
		assert_true(crlf + 2 - p <= SMTP_MAX_REPLY_LINE);
		assert_memory_equal(p, prefix, 3);
		assert_true(p[3] == '-' || p[3] == ' ');
		if (crlf[2] == '\0')
			assert_int_equal(p[3], ' ');
		else
			assert_int_equal(p[3], '-');
		p = crlf + 2;
	}
}

static void test_reply_wrap(void **state)
{
	struct buf out, text, joined;
	const char *p;
	size_t i;

	(void)state;
	/* words: wrapped at spaces, nothing lost */
	buf_init(&text, 0);
	for (i = 0; i < 300; i++)
		buf_printf(&text, "%sword%zu", i > 0 ? " " : "", i);
	buf_init(&out, 0);
	assert_int_equal(smtp_reply_format(&out, 250, "2.0.0", text.data), 0);
	check_reply_lines(out.data, 250);
	buf_init(&joined, 0);
	for (p = out.data; *p != '\0';) {
		const char *crlf = strstr(p, "\r\n");

		if (joined.len > 0)
			buf_append_str(&joined, " ");
		buf_append(&joined, p + 10, (size_t)(crlf - p - 10));
		p = crlf + 2;
	}
	assert_string_equal(joined.data, text.data);
	buf_free(&joined);
	buf_free(&out);
	buf_free(&text);

	/* no spaces: hard split, exactly 512 octets per full line */
	buf_init(&text, 0);
	for (i = 0; i < 1200; i++)
		buf_append(&text, "x", 1);
	buf_init(&out, 0);
	assert_int_equal(smtp_reply_format(&out, 250, NULL, text.data), 0);
	check_reply_lines(out.data, 250);
	assert_int_equal(strstr(out.data, "\r\n") + 2 - out.data, 512);
	assert_int_equal(out.len, 1200 + 3 * 6);
	buf_free(&out);
	buf_free(&text);

	/* UTF-8 text is never cut inside a character */
	buf_init(&text, 0);
	for (i = 0; i < 400; i++)
		buf_append_str(&text, "\xe2\x82\xac");
	buf_init(&out, 0);
	assert_int_equal(smtp_reply_format(&out, 250, NULL, text.data), 0);
	check_reply_lines(out.data, 250);
	for (p = out.data; *p != '\0';) {
		const char *crlf = strstr(p, "\r\n");

		assert_int_equal((crlf - p - 4) % 3, 0);
		p = crlf + 2;
	}
	buf_free(&out);
	buf_free(&text);
}

static void test_reply_sanitize(void **state)
{
	(void)state;
	reply_is(250, NULL, "a\rb\tc\x01" "d\x7f", "250 a?b?c?d?\r\n");
	reply_is(550, "5.7.1", "x\r\n550 forged", "550-5.7.1 x?\r\n550 5.7.1 550 forged\r\n");
}

static void test_reply_invalid(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	buf_append_str(&out, "keep");
	assert_int_equal(smtp_reply_format(&out, 199, NULL, "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 600, NULL, "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "4.0.0", "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "2.0", "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "2.1000.0", "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "2.0.0.", "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "2..0", "x"), -1);
	assert_int_equal(smtp_reply_format(&out, 250, "", "x"), -1);
	assert_string_equal(out.data, "keep");
	buf_free(&out);

	buf_init(&out, 20);
	buf_append_str(&out, "keep");
	assert_int_equal(smtp_reply_format(&out, 250, NULL, "a\nbcdefghijklmnop"), -1);
	assert_int_equal(out.len, 4);
	assert_string_equal(out.data, "keep");
	buf_free(&out);
}

static void test_ehlo_keywords(void **state)
{
	struct buf text, out;

	(void)state;
	buf_init(&text, 0);
	buf_append_str(&text, "mail.example.com Hello");
	assert_int_equal(smtp_ehlo_keywords(&text, SMTP_EXT_ALL, 10485760, "PLAIN LOGIN"), 0);
	buf_init(&out, 0);
	assert_int_equal(smtp_reply_format(&out, 250, NULL, text.data), 0);
	assert_string_equal(out.data,
			    "250-mail.example.com Hello\r\n"
			    "250-PIPELINING\r\n"
			    "250-SIZE 10485760\r\n"
			    "250-8BITMIME\r\n"
			    "250-BINARYMIME\r\n"
			    "250-CHUNKING\r\n"
			    "250-SMTPUTF8\r\n"
			    "250-DSN\r\n"
			    "250-ENHANCEDSTATUSCODES\r\n"
			    "250-STARTTLS\r\n"
			    "250 AUTH PLAIN LOGIN\r\n");
	buf_free(&out);
	buf_reset(&text);
	assert_int_equal(smtp_ehlo_keywords(&text, SMTP_EXT_SIZE | SMTP_EXT_AUTH, 0, NULL), 0);
	assert_string_equal(text.data, "\nSIZE");
	buf_free(&text);
	buf_init(&text, 8);
	assert_int_equal(smtp_ehlo_keywords(&text, SMTP_EXT_ALL, 0, ""), -1);
	assert_int_equal(text.len, 0);
	buf_free(&text);
}

/* --- xtext and addresses --- */

static void test_xtext_encode(void **state)
{
	struct buf out;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(smtp_xtext_encode(&out, "a+b=c d", 7), 0);
	assert_string_equal(out.data, "a+2Bb+3Dc+20d");
	buf_reset(&out);
	assert_int_equal(smtp_xtext_encode(&out, "\xc3\xa4\x7f~!", 5), 0);
	assert_string_equal(out.data, "+C3+A4+7F~!");
	buf_reset(&out);
	assert_int_equal(smtp_xtext_encode(&out, "", 0), 0);
	assert_string_equal(out.data, "");
	buf_free(&out);
	buf_init(&out, 4);
	assert_int_equal(smtp_xtext_encode(&out, "ab=", 3), -1);
	assert_int_equal(out.len, 0);
	buf_free(&out);
}

static void test_xtext_roundtrip(void **state)
{
	struct buf enc, dec;
	char all_bytes[255];
	const char *error;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(all_bytes); i++)
		all_bytes[i] = (char)(i + 1);
	buf_init(&enc, 0);
	buf_init(&dec, 0);
	assert_int_equal(smtp_xtext_encode(&enc, all_bytes, sizeof(all_bytes)), 0);
	for (i = 0; i < enc.len; i++)
		assert_true(enc.data[i] >= 33 && enc.data[i] <= 126 && enc.data[i] != '=');
	assert_int_equal(smtp_xtext_decode(enc.data, enc.len, &dec, &error), 0);
	assert_int_equal(dec.len, sizeof(all_bytes));
	assert_memory_equal(dec.data, all_bytes, sizeof(all_bytes));
	buf_free(&enc);
	buf_free(&dec);
}

static void test_xtext_decode_errors(void **state)
{
	static const char *bad[] = { "+4", "+", "+4g", "+4a", "a=b", "a b", "\x80", "+00", "x+2" };
	struct buf out;
	const char *error;
	size_t i;

	(void)state;
	buf_init(&out, 0);
	buf_append_str(&out, "pre");
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		error = NULL;
		if (smtp_xtext_decode(bad[i], strlen(bad[i]), &out, &error) != -1)
			fail_msg("xtext [%s] accepted", bad[i]);
		assert_non_null(error);
		assert_string_equal(out.data, "pre");
	}
	assert_int_equal(smtp_xtext_decode("a+2Bb", 5, &out, &error), 0);
	assert_string_equal(out.data, "prea+b");
	buf_free(&out);
	buf_init(&out, 2);
	assert_int_equal(smtp_xtext_decode("abc", 3, &out, &error), -1);
	assert_int_equal(out.len, 0);
	assert_int_equal(smtp_xtext_decode("+41+42", 6, &out, &error), 0);
	assert_string_equal(out.data, "AB");
	buf_free(&out);
}

static void test_address_split(void **state)
{
	struct buf out;
	const char *local, *domain, *error;
	char *l65, *addr;

	(void)state;
	buf_init(&out, 0);
	assert_int_equal(smtp_address_split(S("User.Name@Example.COM"), false, &out, &local,
					    &domain, &error), 1);
	assert_string_equal(local, "User.Name");
	assert_string_equal(domain, "example.com");
	assert_int_equal(smtp_address_split(S("\"a b\"@X.Org"), false, &out, &local, &domain,
					    &error), 1);
	assert_string_equal(local, "a b");
	assert_string_equal(domain, "x.org");
	assert_int_equal(smtp_address_split(S("a@[1.2.3.4]"), false, &out, &local, &domain,
					    &error), 0);
	assert_string_equal(domain, "[1.2.3.4]");
	assert_int_equal(smtp_address_split(S("a@[IPv6:::1]"), false, &out, &local, &domain,
					    &error), 0);
	assert_string_equal(domain, "[ipv6:::1]");
	assert_int_equal(smtp_address_split(S("J\xc3\x96s@\xc3\x84.EXAMPLE"), true, &out, &local,
					    &domain, &error), 1);
	assert_string_equal(local, "J\xc3\x96s");
	assert_string_equal(domain, "\xc3\x84.example");
	assert_int_equal(smtp_address_split(S("j\xc3\xb6s@x"), false, &out, &local, &domain,
					    &error), -1);
	assert_non_null(strstr(error, "SMTPUTF8"));
	assert_int_equal(smtp_address_split(S("bad"), false, &out, &local, &domain, &error), -1);
	assert_int_equal(smtp_address_split(S("a@b c"), false, &out, &local, &domain, &error), -1);
	assert_int_equal(smtp_address_split(S("<a@b>"), false, &out, &local, &domain, &error), -1);
	l65 = repeat('l', 65);
	addr = xasprintf("%s@x", l65);
	assert_int_equal(smtp_address_split(addr, strlen(addr), false, &out, &local, &domain,
					    &error), -1);
	free(addr);
	free(l65);
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_verb_names),
		cmocka_unit_test(test_unknown_verb),
		cmocka_unit_test(test_trailing_whitespace),
		cmocka_unit_test(test_no_param_commands),
		cmocka_unit_test(test_control_chars),
		cmocka_unit_test(test_helo_domain),
		cmocka_unit_test(test_helo_invalid),
		cmocka_unit_test(test_helo_lengths),
		cmocka_unit_test(test_helo_literals),
		cmocka_unit_test(test_literals_invalid),
		cmocka_unit_test(test_mail_basic),
		cmocka_unit_test(test_mail_null),
		cmocka_unit_test(test_mail_space_after_colon),
		cmocka_unit_test(test_mail_syntax),
		cmocka_unit_test(test_mail_bad_address),
		cmocka_unit_test(test_rcpt_bad_address),
		cmocka_unit_test(test_rcpt_postmaster),
		cmocka_unit_test(test_source_route),
		cmocka_unit_test(test_quoted_local),
		cmocka_unit_test(test_address_lengths),
		cmocka_unit_test(test_utf8_addresses),
		cmocka_unit_test(test_params_list),
		cmocka_unit_test(test_param_size),
		cmocka_unit_test(test_param_body),
		cmocka_unit_test(test_param_smtputf8),
		cmocka_unit_test(test_param_ret),
		cmocka_unit_test(test_param_envid),
		cmocka_unit_test(test_param_auth),
		cmocka_unit_test(test_param_notify),
		cmocka_unit_test(test_param_orcpt),
		cmocka_unit_test(test_param_duplicates),
		cmocka_unit_test(test_param_unknown),
		cmocka_unit_test(test_param_syntax),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_auth_command),
		cmocka_unit_test(test_vrfy_expn),
		cmocka_unit_test(test_noop_help),
		cmocka_unit_test(test_command_reuse),
		cmocka_unit_test(test_opts_null),
		cmocka_unit_test(test_data_simple),
		cmocka_unit_test(test_data_first_line_dot),
		cmocka_unit_test(test_data_dot_stuffing),
		cmocka_unit_test(test_data_pipelined),
		cmocka_unit_test(test_data_incomplete),
		cmocka_unit_test(test_data_bare_lf_before_dot),
		cmocka_unit_test(test_data_dot_bare_lf),
		cmocka_unit_test(test_data_bare_cr),
		cmocka_unit_test(test_data_mixed_smuggling),
		cmocka_unit_test(test_data_long_line),
		cmocka_unit_test(test_data_nul),
		cmocka_unit_test(test_data_8bit),
		cmocka_unit_test(test_data_too_big),
		cmocka_unit_test(test_data_done_sticky),
		cmocka_unit_test(test_data_chunk_mode),
		cmocka_unit_test(test_data_reply),
		cmocka_unit_test(test_data_large_message),
		cmocka_unit_test(test_reply_single),
		cmocka_unit_test(test_reply_multi),
		cmocka_unit_test(test_reply_empty),
		cmocka_unit_test(test_reply_wrap),
		cmocka_unit_test(test_reply_sanitize),
		cmocka_unit_test(test_reply_invalid),
		cmocka_unit_test(test_ehlo_keywords),
		cmocka_unit_test(test_xtext_encode),
		cmocka_unit_test(test_xtext_roundtrip),
		cmocka_unit_test(test_xtext_decode_errors),
		cmocka_unit_test(test_address_split),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
