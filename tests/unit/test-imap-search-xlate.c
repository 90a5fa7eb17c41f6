/* Unit tests for server/imap/imap-search-xlate.c: IMAP SEARCH programs, as
 * parsed from real command lines, turned into the store's search program
 * over a view (sequence numbers and "*" into uid ranges, \Recent, flags,
 * dates as days, EMAILID, nesting). The program is rendered as text. */
#include "autoconf.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap-private.h"
#include "store-mail-search.h"

static const struct imap_parser_limits plim = {
	.max_line = 8192, .max_command = 65536, .max_literal = 4096, .max_append = 4096,
	.max_depth = 40, .max_args = 4000,
};
static const struct imap_search_limits slim = { .max_depth = 10, .max_ranges = 100 };

static struct imap_parser *parser;
static struct imap_pool *pool;

/* The view: messages 1..5 are uids 3, 7, 8, 20, 31; 20 and 31 are recent. */
static const uint32_t view[] = { 3, 7, 8, 20, 31 };
static const struct store_uid_range recent[] = { { 20, 20 }, { 31, 31 } };

static int setup(void **state)
{
	(void)state;
	parser = imap_parser_create(&plim, IMAP_PARSER_LITERAL_PLUS | IMAP_PARSER_UTF8);
	pool = imap_pool_create();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	imap_parser_destroy(&parser);
	imap_pool_destroy(&pool);
	return 0;
}

static const char *const op_names[] = {
	[STORE_SEARCH_ALL] = "ALL", [STORE_SEARCH_NONE] = "NONE", [STORE_SEARCH_AND] = "AND",
	[STORE_SEARCH_OR] = "OR", [STORE_SEARCH_NOT] = "NOT", [STORE_SEARCH_FLAGS_SET] = "SET",
	[STORE_SEARCH_FLAGS_UNSET] = "UNSET", [STORE_SEARCH_KEYWORD] = "KW",
	[STORE_SEARCH_FIELD] = "FIELD", [STORE_SEARCH_HEADER] = "HDR", [STORE_SEARCH_BODY] = "BODY",
	[STORE_SEARCH_TEXT] = "TEXT", [STORE_SEARCH_DATE_BEFORE] = "BEFORE",
	[STORE_SEARCH_DATE_ON] = "ON", [STORE_SEARCH_DATE_SINCE] = "SINCE",
	[STORE_SEARCH_LARGER] = "LARGER", [STORE_SEARCH_SMALLER] = "SMALLER",
	[STORE_SEARCH_OLDER] = "OLDER", [STORE_SEARCH_YOUNGER] = "YOUNGER",
	[STORE_SEARCH_MODSEQ] = "MODSEQ", [STORE_SEARCH_UIDS] = "UIDS",
	[STORE_SEARCH_EMAILID] = "EMAILID",
};

static void render(struct buf *b, const struct store_search_node *n)
{
	buf_printf(b, "%s", op_names[n->op]);
	switch (n->op) {
	case STORE_SEARCH_FLAGS_SET: case STORE_SEARCH_FLAGS_UNSET:
		buf_printf(b, ":%u", n->flags);
		break;
	case STORE_SEARCH_FIELD:
		buf_printf(b, ":%d", (int)n->field);
		/* fall through */
	case STORE_SEARCH_KEYWORD: case STORE_SEARCH_BODY: case STORE_SEARCH_TEXT:
		buf_printf(b, "=%s", n->str);
		break;
	case STORE_SEARCH_HEADER:
		buf_printf(b, ":%s=%s", n->header, n->str);
		break;
	case STORE_SEARCH_DATE_BEFORE: case STORE_SEARCH_DATE_ON: case STORE_SEARCH_DATE_SINCE:
		buf_printf(b, ":%d:%" PRId64, (int)n->which, n->day);
		break;
	case STORE_SEARCH_LARGER: case STORE_SEARCH_SMALLER: case STORE_SEARCH_OLDER:
	case STORE_SEARCH_YOUNGER: case STORE_SEARCH_EMAILID:
		buf_printf(b, ":%" PRIu64, n->number);
		break;
	case STORE_SEARCH_MODSEQ:
		buf_printf(b, ":%" PRIu64 ":%s:%d", n->number,
			   n->modseq_entry != NULL ? n->modseq_entry : "-", (int)n->modseq_type);
		break;
	case STORE_SEARCH_UIDS:
		buf_printf(b, ":");
		for (size_t i = 0; i < n->range_count; i++)
			buf_printf(b, "%s%" PRIu32 "-%" PRIu32, i > 0 ? "," : "", n->ranges[i].lo,
				   n->ranges[i].hi);
		break;
	default:
		break;
	}
	if (n->children != NULL) {
		buf_printf(b, "(");
		for (const struct store_search_node *c = n->children; c != NULL; c = c->next) {
			render(b, c);
			if (c->next != NULL)
				buf_printf(b, " ");
		}
		buf_printf(b, ")");
	}
}

/* Parse "T SEARCH <args>", translate over view[count], render. */
static char *xlate(const char *args, size_t count)
{
	char *line = xasprintf("T SEARCH %s\r\n", args);
	size_t used;
	int r = imap_parser_feed(parser, line, strlen(line), &used);
	if (r != IMAP_PARSER_COMMAND)
		fail_msg("parse of '%s': %d %s", args, r, imap_parser_error_reason(parser));
	free(line);
	imap_pool_clear(pool);
	const struct imap_command *c = imap_parser_command(parser);
	struct imap_search_program *prog;
	const char *error = NULL;
	if (imap_search_parse(pool, c->args, c->arg_count, &slim, &prog, &error) < 0)
		fail_msg("search parse of '%s': %s", args, error);
	struct store_search_program *sp = imap_search_xlate(prog, view, count, recent, 2);
	struct buf b;
	buf_init(&b, 0);
	if (sp->need_modseq)
		buf_printf(&b, "M ");
	render(&b, sp->root);
	char *ret = xstrdup(b.data);
	buf_free(&b);
	store_search_program_free(&sp);
	assert_null(sp);
	return ret;
}

#define XLATE(args, count, want) do { char *_r = xlate(args, count); \
	if (strcmp(_r, want) != 0) fail_msg("%s: got %s want %s", args, _r, want); \
	free(_r); } while (0)

static void test_flags(void **state)
{
	(void)state;
	XLATE("ALL", 5, "AND(ALL)");
	XLATE("SEEN UNANSWERED DELETED UNDRAFT FLAGGED", 5,
	      "AND(SET:1 UNSET:2 SET:8 UNSET:16 SET:4)");
	XLATE("KEYWORD $Junk UNKEYWORD foo", 5, "AND(KW=$Junk NOT(KW=foo))");
}

static void test_recent(void **state)
{
	(void)state;
	XLATE("RECENT", 5, "AND(AND(UIDS:20-20,31-31))");
	XLATE("NEW", 5, "AND(AND(UIDS:20-20,31-31 UNSET:1))");
	XLATE("OLD", 5, "AND(NOT(UIDS:20-20,31-31))");
}

static void test_sets(void **state)
{
	(void)state;
	/* message numbers into the view's uids; "*" is the last message */
	XLATE("2:3", 5, "AND(UIDS:7-8)");
	XLATE("4:*", 5, "AND(UIDS:20-31)");
	XLATE("*", 5, "AND(UIDS:31-31)");
	XLATE("1,5", 5, "AND(UIDS:3-3,31-31)");
	XLATE("3:9", 5, "AND(UIDS:8-31)");	/* past the end: clipped */
	XLATE("6:9", 5, "AND(UIDS:)");		/* no such messages */
	XLATE("2:*", 3, "AND(UIDS:7-8)");	/* "*" of a shorter view */
	XLATE("1:*", 0, "AND(UIDS:)");		/* empty view */
	/* uid sets: "*" is the highest uid of the view */
	XLATE("UID 5:*", 5, "AND(UIDS:5-31)");
	XLATE("UID 40:*", 5, "AND(UIDS:31-40)");
	XLATE("UID 1:4", 0, "AND(UIDS:1-4)");
}

static void test_strings_dates(void **state)
{
	(void)state;
	XLATE("FROM alice TO \"\" CC c BCC d SUBJECT hello", 5,
	      "AND(FIELD:0=alice FIELD:1= FIELD:2=c FIELD:3=d FIELD:4=hello)");
	XLATE("BODY x TEXT y HEADER X-Spam \"\"", 5, "AND(BODY=x TEXT=y HDR:X-Spam=)");
	XLATE("BEFORE 1-Jan-1970 ON 2-Jan-1970 SINCE 1-Feb-2024", 5,
	      "AND(BEFORE:0:0 ON:0:1 SINCE:0:19754)");
	XLATE("SENTON 31-Dec-1969 SAVEDSINCE 1-Jan-2000", 5, "AND(ON:1:-1 SINCE:2:10957)");
	XLATE("LARGER 100 SMALLER 5 OLDER 60 YOUNGER 7", 5,
	      "AND(LARGER:100 SMALLER:5 OLDER:60 YOUNGER:7)");
}

static void test_objectids_modseq(void **state)
{
	(void)state;
	XLATE("EMAILID M42", 5, "AND(EMAILID:42)");
	XLATE("EMAILID M042", 5, "AND(NONE)");	/* not as written by FETCH */
	XLATE("EMAILID F42", 5, "AND(NONE)");
	XLATE("EMAILID M99999999999999999999", 5, "AND(NONE)");
	XLATE("THREADID T1", 5, "AND(NONE)");
	XLATE("SAVEDATESUPPORTED", 5, "AND(ALL)");
	XLATE("MODSEQ 7", 5, "M AND(MODSEQ:7:-:0)");
	XLATE("MODSEQ \"/flags/\\\\draft\" priv 9", 5, "M AND(MODSEQ:9:/flags/\\draft:1)");
}

static void test_nesting(void **state)
{
	(void)state;
	XLATE("OR SEEN (FLAGGED NOT 2) NOT OR 1 RECENT", 5,
	      "AND(OR(SET:1 AND(SET:4 NOT(UIDS:7-7))) NOT(OR(UIDS:3-3 AND(UIDS:20-20,31-31))))");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_recent),
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_strings_dates),
		cmocka_unit_test(test_objectids_modseq),
		cmocka_unit_test(test_nesting),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
