/* Unit tests for proto/imap_args.c and proto/imap_quote.c. Arguments come
 * from real command lines run through imap_parser, so the tests cover the
 * grammar the way a client writes it: sequence sets, dates, flags, STORE,
 * STATUS, SEARCH programs, FETCH attributes and sections, LIST, and the
 * response writers. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_args.h"
#include "imap_quote.h"

static const struct imap_parser_limits plim = {
	.max_line = 8192, .max_command = 65536, .max_literal = 4096, .max_append = 4096,
	.max_depth = 40, .max_args = 4000,
};
static const struct imap_search_limits slim = { .max_depth = 10, .max_ranges = 100 };

static struct imap_parser *parser;
static struct imap_pool *pool;

static int setup(void **state)
{
	parser = imap_parser_create(&plim, IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_UTF8);
	pool = imap_pool_create();
	return 0;
}

static int teardown(void **state)
{
	imap_parser_destroy(&parser);
	imap_pool_destroy(&pool);
	return 0;
}

/* Parse "T X <args>\r\n" and return the command. */
static const struct imap_command *cmd(const char *args)
{
	char *line = xasprintf("T X %s\r\n", args);
	size_t used;
	int r = imap_parser_feed(parser, line, strlen(line), &used);

	if (r != IMAP_PARSER_COMMAND)
		fail_msg("parse of '%s': %d %s", args, r, imap_parser_error_reason(parser));
	free(line);
	imap_pool_clear(pool);
	return imap_parser_command(parser);
}

/* ---- sequence sets ---- */

static char *resolved(const char *s, uint32_t star)
{
	struct imap_seqset set;
	struct imap_seq_range *r;
	size_t n;
	const char *error;
	struct buf b;
	char *ret;

	imap_pool_clear(pool);
	if (imap_seqset_parse(pool, s, true, 5, &set, &error) < 0)
		return xstrdup("ERR");
	imap_seqset_resolve(pool, &set, star, &r, &n);
	buf_init(&b, 0);
	buf_append_str(&b, "");
	assert_int_equal(imap_write_seqset(&b, r, n), 0);
	ret = xstrdup(b.data);
	buf_free(&b);
	return ret;
}

#define RESOLVES(s, star, want) do { char *_r = resolved(s, star); \
	assert_string_equal(_r, want); free(_r); } while (0)

static void test_seqset_valid(void **state)
{
	RESOLVES("1", 10, "1");
	RESOLVES("1:5", 10, "1:5");
	RESOLVES("5:1", 10, "1:5");
	RESOLVES("*", 10, "10");
	RESOLVES("*:1", 10, "1:10");
	RESOLVES("3:*", 2, "2:3");		/* n:* with n > max still names max */
	RESOLVES("4294967295", 10, "4294967295");
	RESOLVES("1:4294967295,3", 10, "1:4294967295");
	RESOLVES("7,1:3,4,9:8", 10, "1:4,7:9");
	RESOLVES("1:*,2", 0, "2");		/* empty mailbox: "*" ranges drop */
}

static void test_seqset_invalid(void **state)
{
	RESOLVES("0", 10, "ERR");
	RESOLVES("1:0", 10, "ERR");
	RESOLVES("01", 10, "ERR");
	RESOLVES("4294967296", 10, "ERR");
	RESOLVES("99999999999999999999999", 10, "ERR");
	RESOLVES("", 10, "ERR");
	RESOLVES("1,", 10, "ERR");
	RESOLVES(",1", 10, "ERR");
	RESOLVES("1,,2", 10, "ERR");
	RESOLVES("1:", 10, "ERR");
	RESOLVES(":1", 10, "ERR");
	RESOLVES("1:2:3", 10, "ERR");
	RESOLVES("**", 10, "ERR");
	RESOLVES("1 ", 10, "ERR");
	RESOLVES("-1", 10, "ERR");
	RESOLVES("$,1", 10, "ERR");
}

static void test_seqset_max_ranges(void **state)
{
	RESOLVES("1,2,3,4,5", 10, "1:5");
	RESOLVES("1,2,3,4,5,6", 10, "ERR");
}

static void test_seqset_dollar(void **state)
{
	struct imap_seqset set;
	const char *error;

	assert_int_equal(imap_seqset_parse(pool, "$", true, 5, &set, &error), 0);
	assert_true(set.last_result);
	assert_int_equal(set.count, 0);
	assert_int_equal(imap_seqset_parse(pool, "$", false, 5, &set, &error), -1);
}

static void test_seqset_max(void **state)
{
	struct imap_seqset set;
	const char *error;

	assert_int_equal(imap_seqset_parse(pool, "3:7,2", false, 5, &set, &error), 0);
	assert_int_equal(imap_seqset_max(&set, 100), 7);
	assert_int_equal(imap_seqset_parse(pool, "3:*", false, 5, &set, &error), 0);
	assert_int_equal(imap_seqset_max(&set, 100), 100);
	assert_int_equal(imap_seqset_max(&set, 2), 3);
}

static void test_numbers(void **state)
{
	uint32_t n;
	uint64_t v;

	assert_int_equal(imap_parse_nz_number("4294967295", &n), 0);
	assert_int_equal(n, 4294967295u);
	assert_int_equal(imap_parse_nz_number("0", &n), -1);
	assert_int_equal(imap_parse_nz_number("4294967296", &n), -1);
	assert_int_equal(imap_parse_number64("0", &v), 0);
	assert_int_equal(imap_parse_number64("9223372036854775807", &v), 0);
	assert_true(v == 9223372036854775807ull);
	assert_int_equal(imap_parse_number64("9223372036854775808", &v), -1);
	assert_int_equal(imap_parse_number64("007", &v), -1);
	assert_int_equal(imap_parse_number64("", &v), -1);
}

/* ---- dates ---- */

static void test_date(void **state)
{
	time_t t;

	assert_int_equal(imap_parse_date("1-Feb-1994", &t), 0);
	assert_int_equal((long long)t, 760060800LL);
	assert_int_equal(imap_parse_date("01-feb-1994", &t), 0);
	assert_int_equal((long long)t, 760060800LL);
	assert_int_equal(imap_parse_date("1-Jan-1970", &t), 0);
	assert_int_equal((long long)t, 0);
	assert_int_equal(imap_parse_date("29-Feb-2000", &t), 0);
	assert_int_equal(imap_parse_date("29-Feb-1900", &t), -1);
	assert_int_equal(imap_parse_date("30-Feb-2024", &t), -1);
	assert_int_equal(imap_parse_date("31-Apr-2024", &t), -1);
	assert_int_equal(imap_parse_date("0-Jan-2024", &t), -1);
	assert_int_equal(imap_parse_date("1-Foo-2024", &t), -1);
	assert_int_equal(imap_parse_date("1-Jan-24", &t), -1);
	assert_int_equal(imap_parse_date("001-Jan-2024", &t), -1);
	assert_int_equal(imap_parse_date("1-Jan-2024x", &t), -1);
	assert_int_equal(imap_parse_date("", &t), -1);
}

static void test_date_time(void **state)
{
	time_t t;
	int zone;
	struct buf b;

	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:44:25 -0700", &t, &zone), 0);
	assert_int_equal((long long)t, 837596665LL);
	assert_int_equal(zone, -420);
	assert_int_equal(imap_parse_date_time(" 1-Feb-1994 00:00:00 +0130", &t, &zone), 0);
	assert_int_equal((long long)t, 760060800LL - 5400);
	assert_int_equal(zone, 90);
	assert_int_equal(imap_parse_date_time("1-Feb-1994 00:00:00 +0000", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 24:00:00 +0000", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:60:00 +0000", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:44:25 +0060", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:44:25 0700", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:44:25", &t, &zone), -1);
	assert_int_equal(imap_parse_date_time("17-Jul-1996 02:44:25 -0700 ", &t, &zone), -1);
	buf_init(&b, 0);
	assert_int_equal(imap_write_date_time(&b, 837596665, -420), 0);
	assert_string_equal(b.data, "\"17-Jul-1996 02:44:25 -0700\"");
	buf_reset(&b);
	assert_int_equal(imap_write_date_time(&b, 760060800, 0), 0);
	assert_string_equal(b.data, "\" 1-Feb-1994 00:00:00 +0000\"");
	buf_reset(&b);
	assert_int_equal(imap_write_date_time(&b, 0, 24 * 60), -1);
	buf_free(&b);
}

/* ---- flags and STORE ---- */

static void test_flags(void **state)
{
	const struct imap_command *c = cmd("\\Seen \\deleted $Junk \\SEEN $junk Work");
	struct imap_flags f;
	const char *error;

	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), 0);
	assert_int_equal(f.system, IMAP_FLAG_SEEN | IMAP_FLAG_DELETED);
	assert_int_equal(f.keyword_count, 2);
	assert_string_equal(f.keywords[0], "$Junk");
	assert_string_equal(f.keywords[1], "Work");
	c = cmd("\\Recent");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), -1);
	assert_string_equal(error, "\\Recent cannot be set");
	c = cmd("\\Foo");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), -1);
	c = cmd("a]b");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), -1);
	c = cmd("a%");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), -1);
	c = cmd("\"quoted\"");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), -1);
	/* RFC 3501 9: NIL is an atom, so it is a keyword like any other. */
	c = cmd("NIL \\Seen");
	assert_int_equal(imap_flags_parse(pool, c->args, c->arg_count, &f, &error), 0);
	assert_int_equal(f.keyword_count, 1);
	assert_string_equal(f.keywords[0], "NIL");
	assert_int_equal(imap_flag_from_name("\\draft"), IMAP_FLAG_DRAFT);
	assert_int_equal(imap_flag_from_name("Draft"), 0);
}

static void test_store(void **state)
{
	const struct imap_command *c;
	struct imap_store s;
	const char *error;

	c = cmd("+FLAGS.SILENT (\\Seen kw)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), 0);
	assert_int_equal(s.mode, IMAP_STORE_ADD);
	assert_true(s.silent);
	assert_int_equal(s.flags.system, IMAP_FLAG_SEEN);
	assert_int_equal(s.flags.keyword_count, 1);
	c = cmd("-flags \\Deleted \\Answered");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), 0);
	assert_int_equal(s.mode, IMAP_STORE_REMOVE);
	assert_false(s.silent);
	assert_int_equal(s.flags.system, IMAP_FLAG_DELETED | IMAP_FLAG_ANSWERED);
	c = cmd("(UNCHANGEDSINCE 12345) FLAGS ()");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), 0);
	assert_int_equal(s.mode, IMAP_STORE_REPLACE);
	assert_true(s.unchangedsince_set);
	assert_int_equal(s.unchangedsince, 12345);
	assert_int_equal(s.flags.system, 0);
	c = cmd("(UNCHANGEDSINCE 0) FLAGS \\Seen");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), 0);
	c = cmd("FLAGS");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("XFLAGS (\\Seen)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("+FLAGS.LOUD (\\Seen)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("(UNCHANGEDSINCE x) FLAGS (\\Seen)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("(UNCHANGEDSINCE 1 UNCHANGEDSINCE 2) FLAGS (\\Seen)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("FLAGS (\\Recent)");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
	c = cmd("FLAGS (\\Seen) extra");
	assert_int_equal(imap_store_parse(pool, c->args, c->arg_count, &s, &error), -1);
}

/* ---- STATUS ---- */

static void test_status(void **state)
{
	const struct imap_command *c;
	unsigned items;
	const char *error;

	c = cmd("(MESSAGES recent UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE HIGHESTMODSEQ)");
	assert_int_equal(imap_status_parse(&c->args[0], &items, &error), 0);
	assert_int_equal(items, 0xff);
	c = cmd("()");
	assert_int_equal(imap_status_parse(&c->args[0], &items, &error), -1);
	c = cmd("(MESSAGES BOGUS)");
	assert_int_equal(imap_status_parse(&c->args[0], &items, &error), -1);
	c = cmd("MESSAGES");
	assert_int_equal(imap_status_parse(&c->args[0], &items, &error), -1);
}

/* ---- SEARCH ---- */

static void render_key(struct buf *b, const struct imap_search_key *k)
{
	static const char *const names[] = {
		"ALL", "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN", "RECENT", "NEW", "OLD",
		"UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN", "KEYWORD", "UNKEYWORD",
		"BCC", "CC", "FROM", "TO", "SUBJECT", "BODY", "TEXT", "HEADER", "BEFORE", "ON",
		"SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "LARGER", "SMALLER", "OLDER",
		"YOUNGER", "MODSEQ", "SEQ", "UID", "NOT", "OR", "AND",
	};
	const struct imap_search_key *c;

	buf_printf(b, "%s", names[k->type]);
	if (k->header != NULL)
		buf_printf(b, "[%s]", k->header);
	if (k->str != NULL)
		buf_printf(b, "=%s", k->str);
	if (k->type >= IMAP_SEARCH_BEFORE && k->type <= IMAP_SEARCH_SENTSINCE)
		buf_printf(b, "=%lld", (long long)k->date);
	if (k->type >= IMAP_SEARCH_LARGER && k->type <= IMAP_SEARCH_MODSEQ)
		buf_printf(b, "=%llu", (unsigned long long)k->number);
	if (k->modseq_entry != NULL)
		buf_printf(b, "[%s,%d]", k->modseq_entry, (int)k->modseq_type);
	if (k->type == IMAP_SEARCH_SEQSET || k->type == IMAP_SEARCH_UIDSET) {
		buf_append_str(b, "=");
		if (k->set.last_result)
			buf_append_str(b, "$");
		else
			imap_write_seqset(b, k->set.ranges, k->set.count);
	}
	if (k->children != NULL) {
		buf_append_str(b, "(");
		for (c = k->children; c != NULL; c = c->next) {
			render_key(b, c);
			if (c->next != NULL)
				buf_append_str(b, " ");
		}
		buf_append_str(b, ")");
	}
}

/* "ERR" or "-2" on failure, else the rendered program. */
static char *search(const char *args)
{
	const struct imap_command *c = cmd(args);
	struct imap_search_program *prog;
	const char *error = NULL;
	struct buf b;
	char *ret;
	int r = imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error);

	if (r < 0) {
		assert_non_null(error);
		return xstrdup(r == -2 ? "BADCHARSET" : "ERR");
	}
	buf_init(&b, 0);
	if (prog->esearch)
		buf_printf(&b, "RET%u ", prog->return_opts);
	if (prog->charset != NULL)
		buf_printf(&b, "CS=%s ", prog->charset);
	if (prog->uses_modseq)
		buf_append_str(&b, "M ");
	if (prog->uses_last_result)
		buf_append_str(&b, "$ ");
	render_key(&b, &prog->root);
	ret = xstrdup(b.data);
	buf_free(&b);
	return ret;
}

#define SEARCH(args, want) do { char *_r = search(args); \
	if (strcmp(_r, want) != 0) fail_msg("%s: got %s want %s", args, _r, want); \
	free(_r); } while (0)

static void test_search_simple(void **state)
{
	SEARCH("ALL", "AND(ALL)");
	SEARCH("answered deleted draft flagged new old recent seen unanswered undeleted undraft unflagged unseen",
	       "AND(ANSWERED DELETED DRAFT FLAGGED NEW OLD RECENT SEEN UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN)");
	SEARCH("FROM alice TO \"b c\" CC {1+}\r\nd BCC e SUBJECT f BODY g TEXT h",
	       "AND(FROM=alice TO=b c CC=d BCC=e SUBJECT=f BODY=g TEXT=h)");
	SEARCH("HEADER X-Spam yes KEYWORD $Junk UNKEYWORD Work",
	       "AND(HEADER[X-Spam]=yes KEYWORD=$Junk UNKEYWORD=Work)");
	SEARCH("HEADER Subject \"\"", "AND(HEADER[Subject]=)");
	SEARCH("BEFORE 1-Feb-1994 ON \"1-Jan-1970\" SINCE 2-Jan-1970 SENTBEFORE 1-Jan-1970 SENTON 1-Jan-1970 SENTSINCE 1-Jan-1970",
	       "AND(BEFORE=760060800 ON=0 SINCE=86400 SENTBEFORE=0 SENTON=0 SENTSINCE=0)");
	SEARCH("LARGER 100 SMALLER 9223372036854775807",
	       "AND(LARGER=100 SMALLER=9223372036854775807)");
	SEARCH("OLDER 60 YOUNGER 4294967295", "AND(OLDER=60 YOUNGER=4294967295)");
	SEARCH("1:3,* UID 5:*", "AND(SEQ=1:3,* UID=5:*)");
	SEARCH("$ UID $", "$ AND(SEQ=$ UID=$)");
}

static void test_search_nested(void **state)
{
	SEARCH("OR FROM a NOT (TO b CC c) SEEN",
	       "AND(OR(FROM=a NOT(AND(TO=b CC=c))) SEEN)");
	SEARCH("NOT NOT NOT ALL", "AND(NOT(NOT(NOT(ALL))))");
	SEARCH("OR OR A1 ALL SEEN ALL", "ERR");
	SEARCH("OR OR SEEN ALL DRAFT (ALL (DELETED))",
	       "AND(OR(OR(SEEN ALL) DRAFT) AND(ALL AND(DELETED)))");
}

static void test_search_depth(void **state)
{
	/* max_depth 10: ten NOTs nest to depth 10 */
	SEARCH("NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL",
	       "AND(NOT(NOT(NOT(NOT(NOT(NOT(NOT(NOT(NOT(NOT(ALL)))))))))))");
	SEARCH("NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT NOT ALL", "ERR");
	SEARCH("((((((((((ALL))))))))))", "AND(AND(AND(AND(AND(AND(AND(AND(AND(AND(AND(ALL)))))))))))");
	SEARCH("(((((((((((ALL)))))))))))", "ERR");
}

static void test_search_charset_return(void **state)
{
	SEARCH("CHARSET UTF-8 ALL", "CS=UTF-8 AND(ALL)");
	SEARCH("CHARSET us-ascii ALL", "CS=us-ascii AND(ALL)");
	SEARCH("CHARSET KOI8-R ALL", "BADCHARSET");
	SEARCH("CHARSET", "ERR");
	SEARCH("RETURN (MIN MAX COUNT) UNSEEN", "RET11 AND(UNSEEN)");
	SEARCH("RETURN () ALL", "RET4 AND(ALL)");
	SEARCH("RETURN (SAVE ALL) CHARSET UTF-8 SEEN", "RET20 CS=UTF-8 AND(SEEN)");
	SEARCH("RETURN (BOGUS) ALL", "ERR");
	SEARCH("RETURN ALL", "ERR");
	SEARCH("CHARSET UTF-8 RETURN (MIN) ALL", "ERR");
}

static void test_search_modseq(void **state)
{
	SEARCH("MODSEQ 5", "M AND(MODSEQ=5)");
	SEARCH("MODSEQ \"/flags/\\\\Seen\" priv 7", "M AND(MODSEQ=7[/flags/\\Seen,1])");
	SEARCH("MODSEQ \"/flags/$Junk\" all 0", "M AND(MODSEQ=0[/flags/$Junk,0])");
	SEARCH("MODSEQ \"/flags/\\\\Bogus\" all 7", "ERR");
	SEARCH("MODSEQ \"/other/x\" all 7", "ERR");
	SEARCH("MODSEQ \"/flags/x\" mine 7", "ERR");
	SEARCH("MODSEQ x", "ERR");
	SEARCH("MODSEQ 9223372036854775808", "ERR");
}

static void test_search_invalid(void **state)
{
	{
		struct imap_search_program *prog;
		const char *error;

		assert_int_equal(imap_search_parse(pool, NULL, 0, &slim, &prog, &error), -1);
		assert_string_equal(error, "Missing search keys");
	}
	SEARCH("BOGUS", "ERR");
	SEARCH("FROM", "ERR");
	SEARCH("OR SEEN", "ERR");
	SEARCH("NOT", "ERR");
	SEARCH("()", "ERR");
	SEARCH("BEFORE 30-Feb-1994", "ERR");
	SEARCH("BEFORE (1-Feb-1994)", "ERR");
	SEARCH("LARGER -1", "ERR");
	SEARCH("LARGER 18446744073709551616", "ERR");
	SEARCH("OLDER 0", "ERR");
	SEARCH("UID 0", "ERR");
	SEARCH("0", "ERR");
	SEARCH("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63,64,65,66,67,68,69,70,71,72,73,74,75,76,77,78,79,80,81,82,83,84,85,86,87,88,89,90,91,92,93,94,95,96,97,98,99,100,101", "ERR");
	SEARCH("KEYWORD \\Seen", "ERR");
	/* NIL is an atom (RFC 3501 9): a keyword, and a string for SUBJECT. */
	SEARCH("KEYWORD NIL SUBJECT NIL", "AND(KEYWORD=NIL SUBJECT=NIL)");
	SEARCH("KEYWORD \"x\"", "ERR");
	SEARCH("HEADER \"\" x", "ERR");
	SEARCH("HEADER Subject", "ERR");
	SEARCH("FROM (a)", "ERR");
	SEARCH("FROM a%", "ERR");
}

/* RFC 9586 3: which programs hold message sequence numbers ("$" does not). */
static bool search_uses_seqset(const char *args)
{
	const struct imap_command *c = cmd(args);
	struct imap_search_program *prog;
	const char *error = NULL;
	assert_int_equal(imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error), 0);
	return prog->uses_seqset;
}

static void test_search_uses_seqset(void **state)
{
	(void)state;
	assert_false(search_uses_seqset("ALL"));
	assert_false(search_uses_seqset("UID 1:5 FLAGGED"));
	assert_false(search_uses_seqset("$"));
	assert_false(search_uses_seqset("UID $ NOT UID 3"));
	assert_true(search_uses_seqset("1:5"));
	assert_true(search_uses_seqset("*"));
	assert_true(search_uses_seqset("NOT 2"));
	assert_true(search_uses_seqset("OR SEEN (FLAGGED 3,4)"));
	assert_true(search_uses_seqset("RETURN (SAVE) UID 1 OR $ 1"));
}

/* ---- FETCH ---- */

static int fetch(const char *args, bool uid, struct imap_fetch *f)
{
	const struct imap_command *c = cmd(args);
	const char *error = NULL;
	int r = imap_fetch_parse(pool, &c->args[0], c->arg_count > 1 ? &c->args[1] : NULL, uid,
				 f, &error);

	if (r < 0)
		assert_non_null(error);
	return r;
}

/* UID FETCH adds UID to the items; uid_asked tells whether it was named
 * (the UIDFETCH response of RFC 9586 3.3 carries it only then). */
static void test_fetch_uid_asked(void **state)
{
	struct imap_fetch f;
	(void)state;
	assert_int_equal(fetch("FLAGS", true, &f), 0);
	assert_true(f.items & IMAP_FETCH_UID);
	assert_false(f.uid_asked);
	assert_int_equal(fetch("(FLAGS UID)", true, &f), 0);
	assert_true(f.uid_asked);
	assert_int_equal(fetch("UID", false, &f), 0);
	assert_true(f.uid_asked);
	assert_int_equal(fetch("FAST", false, &f), 0);
	assert_false(f.uid_asked);
	assert_false(f.items & IMAP_FETCH_UID);
}

static void test_fetch_macros(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("ALL", false, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE);
	assert_int_equal(fetch("fast", false, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE);
	assert_int_equal(fetch("FULL", true, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
			 IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_UID);
	assert_int_equal(fetch("(ALL)", false, &f), -1);	/* macros stand alone */
	assert_int_equal(fetch("()", false, &f), -1);
	assert_int_equal(fetch("BOGUS", false, &f), -1);
	assert_int_equal(fetch("\"FLAGS\"", false, &f), -1);
}

static void test_fetch_simple(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("(FLAGS ENVELOPE INTERNALDATE RFC822 RFC822.HEADER RFC822.SIZE RFC822.TEXT BODY BODYSTRUCTURE UID MODSEQ)", false, &f), 0);
	assert_int_equal(f.items, 0x7ff);
	assert_int_equal(f.body_count, 0);
	assert_int_equal(fetch("uid", false, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_UID);
}

/* RFC 8970: PREVIEW, alone or with its modifier list (LAZY only). */
static void test_fetch_preview(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("PREVIEW", false, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_PREVIEW);
	assert_false(f.preview_lazy);
	assert_int_equal(fetch("(UID PREVIEW (LAZY) FLAGS)", false, &f), 0);
	assert_int_equal(f.items, IMAP_FETCH_UID | IMAP_FETCH_PREVIEW | IMAP_FETCH_FLAGS);
	assert_true(f.preview_lazy);
	assert_int_equal(fetch("(preview (lazy))", false, &f), 0);
	assert_true(f.preview_lazy);
	assert_int_equal(fetch("(PREVIEW ())", false, &f), -1);
	assert_int_equal(fetch("(PREVIEW (FUZZY))", false, &f), -1);
	assert_int_equal(fetch("(PREVIEW (LAZY \"x\"))", false, &f), -1);
	assert_int_equal(fetch("(PREVIEW LAZY)", false, &f), -1);
	assert_int_equal(fetch("(UID (LAZY))", false, &f), -1);
	assert_int_equal(fetch("((LAZY) PREVIEW)", false, &f), -1);
}

static void test_fetch_sections(void **state)
{
	struct imap_fetch f;
	const struct imap_fetch_body *b;

	assert_int_equal(fetch("(BODY[] BODY.PEEK[1.2.3] BODY[HEADER] BODY[2.TEXT] BODY[1.MIME] BINARY[1.2] BINARY.PEEK[] BINARY.SIZE[3])", false, &f), 0);
	assert_int_equal(f.body_count, 8);
	b = f.bodies;
	assert_int_equal(b[0].kind, IMAP_FETCH_BODY_SECTION);
	assert_int_equal(b[0].section.kind, MIME_SECTION_ALL);
	assert_int_equal(b[0].section.path_len, 0);
	assert_string_equal(b[0].reply_name, "BODY[]");
	assert_int_equal(b[1].kind, IMAP_FETCH_BODY_PEEK);
	assert_int_equal(b[1].section.path_len, 3);
	assert_int_equal(b[1].section.path[2], 3);
	assert_string_equal(b[1].reply_name, "BODY[1.2.3]");
	assert_int_equal(b[2].section.kind, MIME_SECTION_HEADER);
	assert_int_equal(b[3].section.kind, MIME_SECTION_TEXT);
	assert_int_equal(b[3].section.path[0], 2);
	assert_string_equal(b[3].reply_name, "BODY[2.TEXT]");
	assert_int_equal(b[4].section.kind, MIME_SECTION_MIME);
	assert_int_equal(b[5].kind, IMAP_FETCH_BINARY);
	assert_string_equal(b[5].reply_name, "BINARY[1.2]");
	assert_int_equal(b[6].kind, IMAP_FETCH_BINARY_PEEK);
	assert_string_equal(b[6].reply_name, "BINARY[]");
	assert_int_equal(b[7].kind, IMAP_FETCH_BINARY_SIZE);
	assert_string_equal(b[7].reply_name, "BINARY.SIZE[3]");
}

static void test_fetch_header_fields(void **state)
{
	struct imap_fetch f;
	const struct imap_fetch_body *b;

	assert_int_equal(fetch("BODY.PEEK[HEADER.FIELDS (From To \"X-My Hdr\")]<0.100>", false, &f), 0);
	b = &f.bodies[0];
	assert_int_equal(b->section.kind, MIME_SECTION_HEADER_FIELDS);
	assert_int_equal(b->section.field_count, 3);
	assert_string_equal(b->section.fields[0], "From");
	assert_string_equal(b->section.fields[2], "X-My Hdr");
	assert_true(b->partial);
	assert_int_equal(b->partial_offset, 0);
	assert_int_equal(b->partial_len, 100);
	assert_string_equal(b->reply_name, "BODY[HEADER.FIELDS (From To \"X-My Hdr\")]<0>");
	assert_int_equal(fetch("body[1.header.fields.not (received)]", false, &f), 0);
	b = &f.bodies[0];
	assert_int_equal(b->section.kind, MIME_SECTION_HEADER_FIELDS_NOT);
	assert_int_equal(b->section.path_len, 1);
	assert_string_equal(b->reply_name, "BODY[1.HEADER.FIELDS.NOT (received)]");
}

static void test_fetch_partial(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("BODY[]<0.4294967295>", false, &f), 0);
	assert_true(f.bodies[0].partial_len == 4294967295ull);
	assert_int_equal(fetch("BODY[]<4294967295.4294967295>", false, &f), 0);
	assert_string_equal(f.bodies[0].reply_name, "BODY[]<4294967295>");
	assert_int_equal(fetch("BINARY[1]<10.20>", false, &f), 0);
	assert_int_equal(f.bodies[0].partial_offset, 10);
	assert_int_equal(fetch("BODY[]<0.18446744073709551616>", false, &f), -1);
	assert_int_equal(fetch("BODY[]<18446744073709551616.1>", false, &f), -1);
	assert_int_equal(fetch("BODY[]<9223372036854775807.1>", false, &f), -1);	/* sum overflows */
	assert_int_equal(fetch("BODY[]<0.0>", false, &f), -1);
	assert_int_equal(fetch("BODY[]<0>", false, &f), -1);
	assert_int_equal(fetch("BODY[]<.5>", false, &f), -1);
	assert_int_equal(fetch("BINARY.SIZE[1]<0.5>", false, &f), -1);
}

static void test_fetch_bad_sections(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("BODY[MIME]", false, &f), -1);
	assert_int_equal(fetch("BODY[0]", false, &f), -1);
	assert_int_equal(fetch("BODY[1.0]", false, &f), -1);
	assert_int_equal(fetch("BODY[01]", false, &f), -1);
	assert_int_equal(fetch("BODY[1.]", false, &f), -1);
	assert_int_equal(fetch("BODY[4294967296]", false, &f), -1);
	assert_int_equal(fetch("BODY[HEADERS]", false, &f), -1);
	assert_int_equal(fetch("BODY[HEADER.FIELDS]", false, &f), -1);
	assert_int_equal(fetch("BODY[HEADER.FIELDS ()]", false, &f), -1);
	assert_int_equal(fetch("BODY[HEADER.FIELDS (a:b)]", false, &f), -1);
	assert_int_equal(fetch("BODY[TEXT.FOO]", false, &f), -1);
	assert_int_equal(fetch("BINARY[HEADER]", false, &f), -1);
	assert_int_equal(fetch("BINARY[1.MIME]", false, &f), -1);
	assert_int_equal(fetch("BODY.FOO[]", false, &f), -1);
	assert_int_equal(fetch("BODY.PEEK", false, &f), -1);
	assert_int_equal(fetch("BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32]", false, &f), 0);
	assert_int_equal(fetch("BODY[1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33]", false, &f), -1);
}

static void test_fetch_modifiers(void **state)
{
	struct imap_fetch f;

	assert_int_equal(fetch("FLAGS (CHANGEDSINCE 12345)", false, &f), 0);
	assert_true(f.changedsince_set);
	assert_int_equal(f.changedsince, 12345);
	assert_true((f.items & IMAP_FETCH_MODSEQ) != 0);
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE 5 VANISHED)", true, &f), 0);
	assert_true(f.vanished);
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE 5 VANISHED)", false, &f), -1);
	assert_int_equal(fetch("FLAGS (VANISHED)", true, &f), -1);
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE 0)", false, &f), -1);
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE)", false, &f), -1);
	assert_int_equal(fetch("FLAGS (CHANGEDSINCE 1 CHANGEDSINCE 2)", false, &f), -1);
	assert_int_equal(fetch("FLAGS (BOGUS)", false, &f), -1);
	assert_int_equal(fetch("FLAGS ()", false, &f), -1);
}

/* ---- LIST ---- */

static void test_list_basic(void **state)
{
	const struct imap_command *c = cmd("\"\" %");
	struct imap_list_cmd l;
	const char *error;

	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), 0);
	assert_false(l.extended);
	assert_string_equal(l.reference, "");
	assert_int_equal(l.pattern_count, 1);
	assert_string_equal(l.patterns[0], "%");
	c = cmd("~/Mail/ foo/*");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), 0);
	assert_string_equal(l.reference, "~/Mail/");
	assert_string_equal(l.patterns[0], "foo/*");
	c = cmd("\"\"");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("a% b");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("\"\" a\\b");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
}

static void test_list_extended(void **state)
{
	const struct imap_command *c;
	struct imap_list_cmd l;
	const char *error;

	c = cmd("(SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"Sent Items\" %) RETURN (CHILDREN STATUS (MESSAGES UNSEEN) SPECIAL-USE)");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), 0);
	assert_true(l.extended);
	assert_int_equal(l.select, IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_RECURSIVEMATCH);
	assert_int_equal(l.pattern_count, 3);
	assert_string_equal(l.patterns[1], "Sent Items");
	assert_int_equal(l.ret, IMAP_LIST_RET_CHILDREN | IMAP_LIST_RET_STATUS | IMAP_LIST_RET_SPECIAL_USE);
	assert_int_equal(l.status_items, IMAP_STATUS_MESSAGES | IMAP_STATUS_UNSEEN);
	c = cmd("() \"\" * RETURN ()");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), 0);
	assert_true(l.extended);
	c = cmd("(RECURSIVEMATCH) \"\" *");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("(REMOTE RECURSIVEMATCH) \"\" *");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("(BOGUS) \"\" *");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("\"\" ()");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("\"\" * RETURN (STATUS)");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("\"\" * RETURN (BOGUS)");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
	c = cmd("\"\" * RETURN");
	assert_int_equal(imap_list_parse(pool, c->args, c->arg_count, &l, &error), -1);
}

static void test_list_match(void **state)
{
	assert_true(imap_list_match("*", "a/b/c", '/'));
	assert_true(imap_list_match("%", "abc", '/'));
	assert_false(imap_list_match("%", "a/b", '/'));
	assert_true(imap_list_match("a/%", "a/b", '/'));
	assert_false(imap_list_match("a/%", "a/b/c", '/'));
	assert_true(imap_list_match("a*c", "a/b/c", '/'));
	assert_true(imap_list_match("a%c", "abbc", '/'));
	assert_false(imap_list_match("a%c", "ab/c", '/'));
	assert_true(imap_list_match("", "", '/'));
	assert_false(imap_list_match("", "a", '/'));
	assert_false(imap_list_match("INBOX", "inbox", '/'));
	/* a pathological pattern stays fast (no backtracking explosion) */
	assert_false(imap_list_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
				     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", '/'));
	assert_string_equal(imap_mailbox_normalize("iNbOx"), "INBOX");
	assert_string_equal(imap_mailbox_normalize("INBOX/x"), "INBOX/x");
	assert_string_equal(imap_mailbox_normalize("Inbox2"), "Inbox2");
}

/* ---- response writers ---- */

#define WRITES(call, want) do { struct buf _b; buf_init(&_b, 0); buf_append_str(&_b, ""); \
	assert_int_equal(call, 0); assert_string_equal(_b.data, want); buf_free(&_b); } while (0)
#define WRITE_FAILS(call) do { struct buf _b; buf_init(&_b, 0); \
	assert_int_equal(call, -1); buf_free(&_b); } while (0)

static void test_write_astring(void **state)
{
	WRITES(imap_write_astring(&_b, "INBOX", 5, 0), "INBOX");
	WRITES(imap_write_astring(&_b, "a]b", 3, 0), "a]b");
	WRITES(imap_write_astring(&_b, "", 0, 0), "\"\"");
	WRITES(imap_write_astring(&_b, "nil", 3, 0), "\"nil\"");
	WRITES(imap_write_astring(&_b, "a b", 3, 0), "\"a b\"");
	WRITES(imap_write_astring(&_b, "a%", 2, 0), "\"a%\"");
	WRITES(imap_write_astring(&_b, "a\"b\\c", 5, 0), "\"a\\\"b\\\\c\"");
	WRITES(imap_write_astring(&_b, "a\r\nb", 4, 0), "{4}\r\na\r\nb");
	WRITES(imap_write_astring(&_b, "\xc3\xa4", 2, 0), "{2}\r\n\xc3\xa4");
	WRITES(imap_write_astring(&_b, "\xc3\xa4", 2, IMAP_QUOTE_UTF8), "\"\xc3\xa4\"");
	WRITES(imap_write_astring(&_b, "\xc3", 1, IMAP_QUOTE_UTF8), "{1}\r\n\xc3");
	WRITE_FAILS(imap_write_astring(&_b, "a\0b", 3, 0));
}

static void test_write_string(void **state)
{
	WRITES(imap_write_string(&_b, "INBOX", 5, 0), "\"INBOX\"");
	WRITES(imap_write_string(&_b, "a\tb", 3, 0), "\"a\tb\"");
	WRITES(imap_write_nstring(&_b, NULL, 0, 0), "NIL");
	WRITES(imap_write_nstring(&_b, "NIL", 3, 0), "\"NIL\"");
	WRITES(imap_write_literal(&_b, "ab", 2), "{2}\r\nab");
	WRITES(imap_write_literal8(&_b, "a\0", 2), "~{2}\r\na");
	{
		struct buf b;

		buf_init(&b, 4);
		assert_int_equal(imap_write_string(&b, "abcdef", 6, 0), -1);
		buf_free(&b);
	}
}

static void test_write_flags(void **state)
{
	static const char *const kw[] = { "$Junk", "Work" };

	WRITES(imap_write_flags(&_b, 0, NULL, 0), "()");
	WRITES(imap_write_flags(&_b, IMAP_FLAG_SEEN | IMAP_FLAG_ANSWERED | IMAP_FLAG_RECENT, kw, 2),
	       "(\\Answered \\Seen \\Recent $Junk Work)");
	WRITES(imap_write_flags(&_b, 0, kw, 1), "($Junk)");
}

static void test_write_seqset(void **state)
{
	static const struct imap_seq_range r[] = { { 1, 3 }, { 7, 7 }, { 9, 0 } };

	WRITES(imap_write_seqset(&_b, r, 3), "1:3,7,9:*");
	WRITES(imap_write_seqset(&_b, r, 0), "");
}

/* Every string a writer produces parses back to the same bytes. */
static void test_write_roundtrip(void **state)
{
	static const char *const strs[] = {
		"INBOX", "", "NIL", "a b", "a\"b", "\\", "a\r\nb", "x]", "{5}", "(a)", "*", "%",
		"\xc3\xa4", "tab\there",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(strs); i++) {
		struct buf b;
		const struct imap_command *c;
		const char *s;
		size_t len, used, off = 0;
		int r;

		buf_init(&b, 0);
		buf_append_str(&b, "T X ");
		assert_int_equal(imap_write_astring(&b, strs[i], strlen(strs[i]), 0), 0);
		buf_append_str(&b, "\r\n");
		while ((r = imap_parser_feed(parser, b.data + off, b.len - off, &used)) == IMAP_PARSER_LITERAL)
			off += used;
		assert_int_equal(r, IMAP_PARSER_COMMAND);
		c = imap_parser_command(parser);
		assert_int_equal(c->arg_count, 1);
		assert_true(imap_arg_astring(&c->args[0], &s, &len));
		assert_int_equal(len, strlen(strs[i]));
		assert_memory_equal(s, strs[i], len);
		buf_free(&b);
	}
}

#define U(t) cmocka_unit_test(t)
int main(void)
{
	const struct CMUnitTest tests[] = {
		U(test_seqset_valid), U(test_seqset_invalid), U(test_seqset_max_ranges),
		U(test_seqset_dollar), U(test_seqset_max), U(test_numbers), U(test_date),
		U(test_date_time), U(test_flags), U(test_store), U(test_status),
		U(test_search_simple), U(test_search_nested), U(test_search_depth),
		U(test_search_charset_return), U(test_search_modseq), U(test_search_invalid),
		U(test_search_uses_seqset), U(test_fetch_uid_asked),
		U(test_fetch_macros), U(test_fetch_simple), U(test_fetch_sections), U(test_fetch_preview),
		U(test_fetch_header_fields), U(test_fetch_partial), U(test_fetch_bad_sections),
		U(test_fetch_modifiers), U(test_list_basic), U(test_list_extended),
		U(test_list_match), U(test_write_astring), U(test_write_string),
		U(test_write_flags), U(test_write_seqset), U(test_write_roundtrip),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
