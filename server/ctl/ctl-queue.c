/* cairnctl queue: look at and steer the outbound queue that the runners in
 * cairnd work on. list/show read; flush and retry make recipients due now
 * and wake the runners through NOTIFY; drop deletes a message without a
 * DSN (refused while a runner is sending it). */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"
#include "store-queue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A message id argument: a positive decimal number. */
static int parse_id(const char *cmd, const char *s, uint64_t *id_r)
{
	if (str_to_u64(s, strlen(s), INT64_MAX, id_r) < 0 || *id_r == 0)
		return ctl_usage("%s: '%s' is not a queue id (see cairnctl queue list)", cmd, s);
	return 0;
}

struct list_ctx {
	char last_id[24];
	size_t messages;
};

static void print_row(const struct store_queue_row *row, void *ctx)
{
	struct list_ctx *l = ctx;
	if (strcmp(l->last_id, row->id) != 0) {
		snprintf(l->last_id, sizeof(l->last_id), "%s", row->id);
		l->messages++;
		printf("%s  %s  %s bytes  from <%s>\n", row->id, row->created, row->size, row->from);
	}
	printf("    <%s> %s attempts=%s next=%s%s%s\n", row->rcpt, row->state, row->attempts,
	       row->next_attempt, row->last_error[0] ? " error=" : "", row->last_error);
}

static int cmd_queue_list(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	if (ctl_parse_args("queue list", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct list_ctx l = { "", 0 };
	if (store_queue_list(ctl->store, 0, print_row, &l, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("%zu message%s queued\n", l.messages, l.messages == 1 ? "" : "s");
	return CTL_OK;
}

static void show_row(const struct store_queue_row *row, void *ctx)
{
	bool *first = ctx;
	if (*first) {
		*first = false;
		printf("id: %s\nreceived: %s\nsize: %s\nfrom: <%s>\nbody: %s\nsmtputf8: %s\n", row->id,
		       row->created, row->size, row->from, row->body, row->smtputf8);
		if (row->ret[0])
			printf("ret: %s\n", row->ret);
		if (row->envid[0])
			printf("envid: %s\n", row->envid);
	}
	printf("recipient: <%s>\n  state: %s\n  attempts: %s\n  next attempt: %s\n", row->rcpt,
	       row->state, row->attempts, row->next_attempt);
	if (row->notify[0])
		printf("  notify: %s\n", row->notify);
	if (row->orcpt[0])
		printf("  orcpt: %s\n", row->orcpt);
	if (row->remote_host[0])
		printf("  remote host: %s\n", row->remote_host);
	if (row->status[0])
		printf("  status: %s\n", row->status);
	if (row->last_error[0])
		printf("  last error: %s\n", row->last_error);
	if (row->claimed_by[0])
		printf("  claimed by: %s\n", row->claimed_by);
}

static int cmd_queue_show(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	uint64_t id;
	if (ctl_parse_args("queue show", argc, argv, NULL, pos, 1, 1) != 0 ||
	    parse_id("queue show", pos[0], &id) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	bool first = true;
	if (store_queue_list(ctl->store, id, show_row, &first, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_queue_flush(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	uint64_t count;
	if (ctl_parse_args("queue flush", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_queue_flush(ctl->store, 0, &count, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("%" PRIu64 " recipient%s due now\n", count, count == 1 ? "" : "s");
	return CTL_OK;
}

static int cmd_queue_retry(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	uint64_t id, count;
	if (ctl_parse_args("queue retry", argc, argv, NULL, pos, 1, 1) != 0 ||
	    parse_id("queue retry", pos[0], &id) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_queue_flush(ctl->store, id, &count, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (count == 0) {
		ctl_error("queue retry: message %" PRIu64 " has no recipient waiting for a retry", id);
		return CTL_ERROR;
	}
	printf("%" PRIu64 " recipient%s due now\n", count, count == 1 ? "" : "s");
	return CTL_OK;
}

static int cmd_queue_drop(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	uint64_t id;
	if (ctl_parse_args("queue drop", argc, argv, NULL, pos, 1, 1) != 0 ||
	    parse_id("queue drop", pos[0], &id) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_queue_drop(ctl->store, id, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("message %" PRIu64 " dropped\n", id);
	return CTL_OK;
}

const struct ctl_cmd ctl_queue_commands[] = {
	{ "queue", "list", "", cmd_queue_list, "list queued messages and their recipients" },
	{ "queue", "show", "ID", cmd_queue_show, "show one queued message in detail" },
	{ "queue", "flush", "", cmd_queue_flush, "make every waiting recipient due now" },
	{ "queue", "retry", "ID", cmd_queue_retry, "make the recipients of one message due now" },
	{ "queue", "drop", "ID", cmd_queue_drop, "delete a queued message without a bounce" },
	{ NULL, NULL, NULL, NULL, NULL }
};
