/* libFuzzer target for proto/imap_notify.c. Input is parsed as IMAP
 * commands; the arguments of each go through the NOTIFY parser, whose
 * result must keep its promises: NONE alone, or 1 to 32 groups with at most
 * one selected filter, MessageNew and MessageExpunge together, FlagChange
 * only with them, fetch attributes only for a selected filter, names only
 * for SUBTREE/MAILBOXES. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_notify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_parser_limits limits = {
	.max_line = 1024, .max_command = 4096, .max_literal = 512, .max_append = 512,
	.max_depth = 8, .max_args = 128,
};

#define check(cond) do { if (!(cond)) { \
	fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); abort(); } } while (0)

static void check_cmd(const struct imap_notify_cmd *nc)
{
	const unsigned ne = IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE;
	unsigned all = 0;
	size_t selected = 0;
	if (nc->none) {
		check(nc->count == 0);
		return;
	}
	check(nc->count >= 1 && nc->count <= 32);
	for (size_t i = 0; i < nc->count; i++) {
		const struct imap_notify_group *g = &nc->groups[i];
		bool sel = g->filter == IMAP_NOTIFY_SELECTED || g->filter == IMAP_NOTIFY_SELECTED_DELAYED;
		bool named = g->filter == IMAP_NOTIFY_SUBTREE || g->filter == IMAP_NOTIFY_MAILBOXES;
		selected += sel;
		check((g->events & ne) == 0 || (g->events & ne) == ne);
		if (g->events & (IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE))
			check((g->events & ne) == ne);
		check(!g->has_fetch || (sel && (g->events & IMAP_NOTIFY_MESSAGE_NEW)));
		check(named ? (g->name_count >= 1 && g->name_count <= 100) : g->name_count == 0);
		for (size_t k = 0; k < g->name_count; k++)
			check(strlen(g->names[k]) < 4096);
		all |= g->events;
	}
	check(selected <= 1);
	check(all == nc->all_events);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser *p = imap_parser_create(&limits, IMAP_PARSER_LITERAL_PLUS |
						   IMAP_PARSER_BINARY | IMAP_PARSER_UTF8);
	struct imap_pool *pool = imap_pool_create();
	size_t off = 0;
	while (off < size) {
		size_t used = 0;
		int r = imap_parser_feed(p, (const char *)data + off, size - off, &used);
		if (used == 0 && r == IMAP_PARSER_MORE)
			break;
		off += used;
		if (r != IMAP_PARSER_COMMAND)
			continue;
		const struct imap_command *c = imap_parser_command(p);
		struct imap_notify_cmd nc;
		const char *error = NULL;
		imap_pool_clear(pool);
		if (imap_notify_parse(pool, c->args, c->arg_count, &nc, &error) == 0)
			check_cmd(&nc);
		else
			check(error != NULL);
	}
	imap_pool_destroy(&pool);
	imap_parser_destroy(&p);
	return 0;
}
