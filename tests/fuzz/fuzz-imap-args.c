/* libFuzzer target for proto/imap_args.c and proto/imap_quote.c. Input is
 * parsed as IMAP commands; the arguments of every command go through each
 * typed parser (SEARCH, FETCH, STORE, STATUS, LIST, sequence sets, dates),
 * whose results must satisfy their documented invariants; every string is
 * written back with imap_write_astring and must parse to the same bytes. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_args.h"
#include "imap_quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_parser_limits limits = {
	.max_line = 512, .max_command = 2048, .max_literal = 256, .max_append = 256,
	.max_depth = 8, .max_args = 128,
};
/* for writing back: room for any string the first parse can produce */
static const struct imap_parser_limits rt_limits = {
	.max_line = 4096, .max_command = 8192, .max_literal = 4096, .max_append = 4096,
	.max_depth = 8, .max_args = 128,
};
static const struct imap_search_limits slimits = { .max_depth = 6, .max_ranges = 16 };

#define check(cond) do { if (!(cond)) { \
	fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); abort(); } } while (0)

static unsigned key_depth(const struct imap_search_key *k)
{
	unsigned max = 0;
	const struct imap_search_key *c;

	for (c = k->children; c != NULL; c = c->next) {
		unsigned d = key_depth(c);

		if (d > max)
			max = d;
	}
	if (k->type == IMAP_SEARCH_NOT)
		check(k->children != NULL && k->children->next == NULL);
	if (k->type == IMAP_SEARCH_OR)
		check(k->children != NULL && k->children->next != NULL &&
		      k->children->next->next == NULL);
	if (k->type == IMAP_SEARCH_SEQSET || k->type == IMAP_SEARCH_UIDSET)
		check(k->set.last_result || (k->set.count >= 1 && k->set.count <= slimits.max_ranges));
	return max + 1;
}

/* Write s as an astring, parse it back, compare. */
static void roundtrip(const char *s, size_t len)
{
	struct imap_parser *p;
	struct buf out;
	size_t used;
	int r;
	const struct imap_command *c;
	const char *got;
	size_t glen;

	buf_init(&out, 0);
	(void)buf_append_str(&out, "T X ");
	if (imap_write_astring(&out, s, len, IMAP_QUOTE_UTF8) < 0) {
		check(memchr(s, '\0', len) != NULL);
		buf_free(&out);
		return;
	}
	(void)buf_append_str(&out, "\r\n");
	p = imap_parser_create(&rt_limits, IMAP_PARSER_UTF8);
	r = imap_parser_feed(p, out.data, out.len, &used);
	if (r == IMAP_PARSER_LITERAL)
		r = imap_parser_feed(p, out.data + used, out.len - used, &used);
	check(r == IMAP_PARSER_COMMAND);
	c = imap_parser_command(p);
	check(c->arg_count == 1 && imap_arg_astring(&c->args[0], &got, &glen));
	check(glen == len && memcmp(got, s, len) == 0);
	imap_parser_destroy(&p);
	buf_free(&out);
}

static void try_all(struct imap_pool *pool, const struct imap_command *c)
{
	const char *error = NULL;
	struct imap_search_program *prog;
	struct imap_fetch fetch;
	struct imap_store store;
	struct imap_list_cmd list;
	unsigned items;
	size_t i, k;

	if (imap_search_parse(pool, c->args, c->arg_count, &slimits, &prog, &error) == 0)
		check(key_depth(&prog->root) <= slimits.max_depth + 2);
	else
		check(error != NULL);
	if (c->arg_count >= 1 &&
	    imap_fetch_parse(pool, &c->args[0], c->arg_count >= 2 ? &c->args[1] : NULL,
			     c->name[0] == 'U', &fetch, &error) == 0) {
		for (i = 0; i < fetch.body_count; i++) {
			const struct imap_fetch_body *b = &fetch.bodies[i];

			check(b->reply_name != NULL && strchr(b->reply_name, '[') != NULL);
			check(b->section.path_len <= ARRAY_SIZE(b->section.path));
			for (k = 0; k < b->section.path_len; k++)
				check(b->section.path[k] != 0);
			check(b->section.kind != MIME_SECTION_MIME || b->section.path_len > 0);
			check(!b->partial || b->partial_len > 0);
			for (k = 0; k < b->section.field_count; k++)
				check(b->section.fields[k][0] != '\0');
		}
		check(!fetch.vanished || fetch.changedsince_set);
	}
	if (imap_store_parse(pool, c->args, c->arg_count, &store, &error) == 0)
		check((store.flags.system & IMAP_FLAG_RECENT) == 0);
	if (c->arg_count >= 1)
		(void)imap_status_parse(&c->args[0], &items, &error);
	if (imap_list_parse(pool, c->args, c->arg_count, &list, &error) == 0) {
		check(list.pattern_count >= 1);
		for (k = 0; k < list.pattern_count; k++)
			(void)imap_list_match(list.patterns[k], "INBOX/a/b%c", '/');
	}
	for (i = 0; i < c->arg_count; i++) {
		const struct imap_arg *a = &c->args[i];
		struct imap_seqset set;
		time_t t;
		int zone;

		if (a->type != IMAP_ARG_LIST && a->type != IMAP_ARG_LITERAL_STREAM)
			roundtrip(a->str, a->len);
		if (a->type == IMAP_ARG_ATOM &&
		    imap_seqset_parse(pool, a->str, true, 16, &set, &error) == 0 && !set.last_result) {
			struct imap_seq_range *r;
			size_t n;
			struct buf out;

			imap_seqset_resolve(pool, &set, 100, &r, &n);
			for (k = 0; k < n; k++) {
				check(r[k].lo >= 1 && r[k].lo <= r[k].hi);
				check(k == 0 || r[k].lo > r[k - 1].hi + 1);
			}
			/* written back and parsed again, it names the same numbers */
			buf_init(&out, 0);
			check(imap_write_seqset(&out, set.ranges, set.count) == 0);
			{
				struct imap_seqset set2;
				struct imap_seq_range *r2;
				size_t n2;

				check(imap_seqset_parse(pool, out.data, false, 16, &set2, &error) == 0);
				imap_seqset_resolve(pool, &set2, 100, &r2, &n2);
				check(n2 == n && memcmp(r2, r, n * sizeof(*r)) == 0);
			}
			buf_free(&out);
		}
		if (imap_parse_date_time(a->str, &t, &zone) == 0) {
			struct buf out;
			time_t t2;
			int zone2;

			buf_init(&out, 0);
			if (imap_write_date_time(&out, t, zone) == 0) {
				check(out.len == 28);
				out.data[27] = '\0';
				check(imap_parse_date_time(out.data + 1, &t2, &zone2) == 0);
				check(zone2 == zone && (t2 == t || a->str[18] == '6'));
			}
			buf_free(&out);
		}
		(void)imap_parse_date(a->str, &t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_create(&limits, IMAP_PARSER_LITERAL_PLUS |
						   IMAP_PARSER_BINARY | IMAP_PARSER_UTF8);
	struct imap_pool *pool = imap_pool_create();
	size_t off = 0, used;
	int r, rounds = 0;

	while (off < size && rounds++ < 1000) {
		r = imap_parser_feed(p, (const char *)data + off, size - off, &used);
		off += used;
		if (r == IMAP_PARSER_COMMAND) {
			try_all(pool, imap_parser_command(p));
			imap_pool_clear(pool);
		} else if (r == IMAP_PARSER_ERROR && imap_parser_must_disconnect(p)) {
			break;
		} else if (r == IMAP_PARSER_MORE) {
			break;
		}
	}
	imap_parser_destroy(&p);
	imap_pool_destroy(&pool);
	return 0;
}
