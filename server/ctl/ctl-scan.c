/* cairnctl quarantine and cairnctl scan policy: the messages the scan stage
 * held back (list, show, release into the INBOX, delete, expire), and the
 * per-domain and per-user policy overrides of the scan stage (migration
 * 0022). */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"
#include "store-scan.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int parse_id(const char *s, int64_t *id_r)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0)
		return ctl_usage("'%s' is not a quarantine id", s);
	*id_r = v;
	return CTL_OK;
}

static void print_item(const struct store_quarantine_item *it, void *ctx)
{
	(void)ctx;
	printf("%" PRId64 "\t%s\t%s\t<%s>\t%s\t%.1f\t%" PRIu64 "\t%s\t%s\n", it->id, it->received,
	       it->account, it->envelope_from, it->client_ip, it->score, it->size, it->reason,
	       it->subject);
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("quarantine list", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	if (store_scan_quarantine_list(ctl->store, pos[0], print_item, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static void print_details(const struct store_quarantine_item *it, void *ctx)
{
	(void)ctx;
	printf("Id: %" PRId64 "\nAccount: %s\nReceived: %s\nFrom: <%s>\nClient: %s\n"
	       "Reason: %s\nScore: %.2f\nTests: %s\nSubject: %s\nSize: %" PRIu64 "\n\n",
	       it->id, it->account, it->received, it->envelope_from, it->client_ip, it->reason,
	       it->score, it->tests, it->subject, it->size);
}

static int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *raw = "no";
	const struct ctl_opt opts[] = { { "--raw", &raw }, { NULL, NULL } };
	if (ctl_parse_args("quarantine show", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	int64_t id = 0;
	if (parse_id(pos[0], &id) != CTL_OK)
		return CTL_USAGE;
	bool only_raw = strcmp(raw, "yes") == 0;
	if (!only_raw && strcmp(raw, "no") != 0)
		return ctl_usage("quarantine show: --raw takes yes or no");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct buf msg;
	buf_init(&msg, 0);
	const char *error = NULL;
	int ret = store_scan_quarantine_get(ctl->store, id, only_raw ? NULL : print_details, NULL,
					    &msg, &error);
	if (ret != STORE_OK) {
		buf_free(&msg);
		return ctl_store_failed(error);
	}
	fflush(stdout);
	if (msg.len > 0 && write(STDOUT_FILENO, msg.data, msg.len) != (ssize_t)msg.len) {
		buf_free(&msg);
		ctl_error("writing the message failed");
		return CTL_ERROR;
	}
	buf_free(&msg);
	return CTL_OK;
}

static int cmd_release(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("quarantine release", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	int64_t id = 0;
	if (parse_id(pos[0], &id) != CTL_OK)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char account[330];
	uint32_t uid = 0;
	const char *error = NULL;
	int ret = store_scan_quarantine_release(ctl->store, id, account, sizeof(account), &uid,
						&error);
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	printf("released %" PRId64 " to %s INBOX uid %u\n", id, account, uid);
	return CTL_OK;
}

static int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("quarantine delete", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	int64_t id = 0;
	if (parse_id(pos[0], &id) != CTL_OK)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	if (store_scan_quarantine_delete(ctl->store, id, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_expire(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *days = NULL;
	const struct ctl_opt opts[] = { { "--days", &days }, { NULL, NULL } };
	if (ctl_parse_args("quarantine expire", argc, argv, opts, pos, 0, 0) != 0)
		return CTL_USAGE;
	char *end;
	unsigned long long d = days != NULL ? strtoull(days, &end, 10) : 0;
	if (days == NULL || *days == '\0' || *end != '\0' || d == 0 || d > 36500)
		return ctl_usage("quarantine expire: --days N (1..36500) is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	uint64_t n = 0;
	const char *error = NULL;
	if (store_scan_quarantine_expire(ctl->store, (uint64_t)d * 86400, &n, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("deleted %" PRIu64 " messages older than %llu days\n", n, d);
	return CTL_OK;
}

/* ---- scan policy ---- */

static void print_threshold(const char *name, double v)
{
	if (isnan(v))
		return;
	if (isinf(v))
		printf(" %s=off", name);
	else
		printf(" %s=%g", name, v);
}

static void print_policy(const struct store_scan_policy *p, void *ctx)
{
	(void)ctx;
	printf("%s", p->target);
	if (p->enabled >= 0)
		printf(" enabled=%s", p->enabled ? "yes" : "no");
	print_threshold("tag", p->tag);
	print_threshold("junk", p->junk);
	print_threshold("quarantine", p->quarantine);
	print_threshold("reject", p->reject);
	if (p->virus_quarantine >= 0)
		printf(" virus=%s", p->virus_quarantine ? "quarantine" : "reject");
	printf("\n");
}

static int cmd_policy_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("scan policy", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	if (pos[0] != NULL) {
		struct store_scan_policy p;
		int ret = store_scan_policy_get(ctl->store, pos[0], &p, &error);
		if (ret == STORE_NOTFOUND) {
			ctl_error("no scan policy for %s", pos[0]);
			return CTL_ERROR;
		}
		if (ret != STORE_OK)
			return ctl_store_failed(error);
		print_policy(&p, NULL);
		return CTL_OK;
	}
	if (store_scan_policy_list(ctl->store, print_policy, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* "N", "off" (INFINITY) or "inherit" (NAN). */
static int parse_threshold(const char *name, const char *s, double *v)
{
	if (strcasecmp(s, "inherit") == 0) {
		*v = NAN;
		return 0;
	}
	if (strcasecmp(s, "off") == 0) {
		*v = INFINITY;
		return 0;
	}
	char *end;
	double d = strtod(s, &end);
	if (*s == '\0' || *end != '\0' || !isfinite(d) || d < -1000 || d > 1000)
		return ctl_usage("scan policy set: %s=%s: a score, off or inherit", name, s);
	*v = d;
	return 0;
}

static int cmd_policy_set(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2)
		return ctl_usage("scan policy-set: TARGET KEY=VALUE...");
	argc++;	/* argv[0] is TARGET: index the keys from 2 as in the loop below */
	argv--;
	struct store_scan_policy p;
	store_scan_policy_init(&p);
	snprintf(p.target, sizeof(p.target), "%s", argv[1]);
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	/* start from the existing row: set changes only what it names */
	const char *error = NULL;
	struct store_scan_policy old;
	int ret = store_scan_policy_get(ctl->store, argv[1], &old, &error);
	if (ret == STORE_OK)
		p = old;
	else if (ret != STORE_NOTFOUND)
		return ctl_store_failed(error);
	for (int i = 2; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		if (eq == NULL)
			return ctl_usage("scan policy set: '%s' is not KEY=VALUE", argv[i]);
		size_t kl = (size_t)(eq - argv[i]);
		const char *v = eq + 1;
		char key[32];
		snprintf(key, sizeof(key), "%.*s", (int)(kl < 31 ? kl : 31), argv[i]);
		if (strcmp(key, "enabled") == 0) {
			if (strcmp(v, "yes") == 0)
				p.enabled = 1;
			else if (strcmp(v, "no") == 0)
				p.enabled = 0;
			else if (strcmp(v, "inherit") == 0)
				p.enabled = -1;
			else
				return ctl_usage("scan policy set: enabled=yes|no|inherit");
		} else if (strcmp(key, "tag") == 0) {
			if (parse_threshold(key, v, &p.tag) != 0)
				return CTL_USAGE;
		} else if (strcmp(key, "junk") == 0) {
			if (parse_threshold(key, v, &p.junk) != 0)
				return CTL_USAGE;
		} else if (strcmp(key, "quarantine") == 0) {
			if (parse_threshold(key, v, &p.quarantine) != 0)
				return CTL_USAGE;
		} else if (strcmp(key, "reject") == 0) {
			if (parse_threshold(key, v, &p.reject) != 0)
				return CTL_USAGE;
		} else if (strcmp(key, "virus") == 0) {
			if (strcmp(v, "reject") == 0)
				p.virus_quarantine = 0;
			else if (strcmp(v, "quarantine") == 0)
				p.virus_quarantine = 1;
			else if (strcmp(v, "inherit") == 0)
				p.virus_quarantine = -1;
			else
				return ctl_usage("scan policy set: virus=reject|quarantine|inherit");
		} else {
			return ctl_usage("scan policy set: unknown key '%s' (enabled tag junk "
					 "quarantine reject virus)", key);
		}
	}
	if (store_scan_policy_set(ctl->store, &p, &error) != STORE_OK)
		return ctl_store_failed(error);
	print_policy(&p, NULL);
	return CTL_OK;
}

static int cmd_policy_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("scan policy-delete", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	if (store_scan_policy_delete(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

const struct ctl_cmd ctl_scan_commands[] = {
	{ "quarantine", "list", "[ACCOUNT]", cmd_list,
	  "list quarantined messages: id, received, account, sender, client, score, size, reason, subject" },
	{ "quarantine", "show", "ID [--raw yes]", cmd_show,
	  "print a quarantined message with its details (--raw yes: the message only)" },
	{ "quarantine", "release", "ID", cmd_release,
	  "deliver a quarantined message to its account's INBOX" },
	{ "quarantine", "delete", "ID", cmd_delete, "delete a quarantined message" },
	{ "quarantine", "expire", "--days N", cmd_expire,
	  "delete quarantined messages older than N days" },
	{ "scan", "policy", "[TARGET]", cmd_policy_list,
	  "show the scan policy overrides (of one domain or address)" },
	{ "scan", "policy-set", "TARGET KEY=VALUE...", cmd_policy_set,
	  "set overrides of a domain or address: enabled=yes|no tag|junk|quarantine|reject=SCORE|off "
	  "virus=reject|quarantine; any =inherit" },
	{ "scan", "policy-delete", "TARGET", cmd_policy_delete,
	  "remove the overrides of a domain or address" },
	{ NULL, NULL, NULL, NULL, NULL }
};
