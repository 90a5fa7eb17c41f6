/* libFuzzer target for proto/imap_metadata.c. Input is parsed as IMAP
 * commands; the arguments of each go through the GETMETADATA and
 * SETMETADATA parsers, whose results must keep their promises: every entry
 * name passes the name check and is lower-case, depth is 0, 1 or infinity,
 * at most max_values pairs; every value written back must parse again as
 * the same bytes. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imap_metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct imap_parser_limits limits = {
	.max_line = 1024, .max_command = 4096, .max_literal = 512, .max_append = 512,
	.max_depth = 8, .max_args = 128,
};
static const struct imap_parser_limits rt_limits = {
	.max_line = 4096, .max_command = 8192, .max_literal = 4096, .max_append = 4096,
	.max_depth = 8, .max_args = 16,
};

#define check(cond) do { if (!(cond)) { \
	fprintf(stderr, "check failed at line %d: %s\n", __LINE__, #cond); abort(); } } while (0)

static void check_name(const char *name, bool root)
{
	const char *error;
	check(imap_metadata_name_check(name, strlen(name), root, &error) == 0);
	for (const char *p = name; *p != '\0'; p++)
		check(!(*p >= 'A' && *p <= 'Z'));
}

/* Write value as the server would and parse it back as a SETMETADATA value. */
static void roundtrip(const char *value, size_t len)
{
	struct buf line;
	buf_init(&line, 0);
	buf_append_str(&line, "T SETMETADATA x (/shared/a ");
	check(imap_metadata_write_value(&line, value, len, true) == 0);
	buf_append_str(&line, ")\r\n");
	struct imap_parser *p = imap_parser_create(&rt_limits, IMAP_PARSER_LITERAL_PLUS |
						   IMAP_PARSER_BINARY | IMAP_PARSER_UTF8);
	size_t off = 0;
	int r = IMAP_PARSER_MORE;
	while (off < line.len) {
		size_t used = 0;
		r = imap_parser_feed(p, line.data + off, line.len - off, &used);
		off += used;
		if (r == IMAP_PARSER_COMMAND || r == IMAP_PARSER_ERROR)
			break;
	}
	check(r == IMAP_PARSER_COMMAND);
	struct imap_pool *pool = imap_pool_create();
	struct imap_metadata_set set;
	const char *error;
	const struct imap_command *c = imap_parser_command(p);
	check(imap_metadata_set_parse(pool, c->args, c->arg_count, 1, &set, &error) == 0);
	check(set.count == 1 && set.values[0].value != NULL && set.values[0].len == len);
	check(memcmp(set.values[0].value, value, len) == 0);
	imap_pool_destroy(&pool);
	imap_parser_destroy(&p);
	buf_free(&line);
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
		struct imap_metadata_get get;
		struct imap_metadata_set set;
		const char *error;
		imap_pool_clear(pool);
		if (imap_metadata_get_parse(pool, c->args, c->arg_count, &get, &error) == 0) {
			check(get.depth == 0 || get.depth == 1 ||
			      get.depth == IMAP_METADATA_DEPTH_INFINITY);
			check(get.entry_count > 0);
			for (size_t i = 0; i < get.entry_count; i++)
				check_name(get.entries[i], true);
		}
		if (imap_metadata_set_parse(pool, c->args, c->arg_count, 8, &set, &error) == 0) {
			check(set.count > 0 && set.count <= 8);
			for (size_t i = 0; i < set.count; i++) {
				check_name(set.values[i].name, false);
				if (set.values[i].value != NULL)
					roundtrip(set.values[i].value, set.values[i].len);
			}
		}
	}
	imap_pool_destroy(&pool);
	imap_parser_destroy(&p);
	return 0;
}
