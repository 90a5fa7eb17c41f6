/* cairnctl: the admin command line. Reads cairn.conf, then runs one command
 * from the tables: config checks and migrations here, domains and users in
 * ctl-directory.c, mail in ctl-mail.c. Talks to PostgreSQL only through the
 * store. Exit codes: 0 ok, 1 error, 2 usage. */
#include "autoconf.h"
#include "ctl.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "../queue/route.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

static int cmd_check_config(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_parse_args("check-config", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_load_config(ctl) != CTL_OK)
		return CTL_ERROR;
	printf("%s: ok\n", ctl->config_path);
	return CTL_OK;
}

static int cmd_config_doc(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_parse_args("config-doc", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	struct buf doc;
	buf_init(&doc, 0);
	config_write_doc(&doc);
	if (doc.len > 0)
		fwrite(doc.data, 1, doc.len, stdout);
	buf_free(&doc);
	return CTL_OK;
}

static int cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	const char *dir = NULL;
	const struct ctl_opt opts[] = { { "--dir", &dir }, { NULL, NULL } };
	if (ctl_parse_args("migrate", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (dir == NULL)
		dir = ctl->cfg->store.migrations_dir;
	if (dir == NULL || *dir == '\0') {
		ctl_error("migrate: no migrations directory ([store] migrations_dir or --dir)");
		return CTL_ERROR;
	}
	char *error = NULL;
	if (store_migrate(ctl->store, dir, stdout, &error) < 0) {
		fflush(stdout);
		ctl_error("migrate: %s", error != NULL ? error : "failed");
		free(error);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static const struct ctl_cmd *const command_tables[12];

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: cairnctl [-c FILE] [-v] COMMAND [ARGS]\n"
		     "       cairnctl --help | --version\n\n"
		     "Options:\n"
		     "  -c, --config FILE   configuration file (default %s)\n"
		     "  -v, --verbose       log informational messages too\n\n"
		     "Commands:\n", CONFIG_DEFAULT_PATH);
	for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++) {
		for (const struct ctl_cmd *c = command_tables[t]; c->name != NULL; c++) {
			char words[96];
			snprintf(words, sizeof(words), "%s%s%s %s", c->name, c->sub ? " " : "",
				 c->sub ? c->sub : "", c->args);
			fprintf(out, "  %-46s %s\n", words, c->help);
		}
	}
	fprintf(out, "\nWithout --password, user add/passwd ask twice on a terminal, or read\n"
		     "one line from standard input otherwise.\n");
}

static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	print_usage(stdout);
	return CTL_OK;
}


static const struct ctl_cmd base_commands[] = {
	{ "check-config", NULL, "", cmd_check_config,
	  "validate the configuration file, print every error" },
	{ "config-doc", NULL, "", cmd_config_doc,
	  "print the reference of every option (Markdown)" },
	{ "migrate", NULL, "[--dir DIR]", cmd_migrate,
	  "apply pending database migrations" },
	{ "help", NULL, "", cmd_help, "show this help" },
	{ NULL, NULL, NULL, NULL, NULL }
};

static const struct ctl_cmd *const command_tables[12] = {
	base_commands, ctl_directory_commands, ctl_mail_commands, ctl_dkim_commands,
	ctl_queue_commands, ctl_acl_commands, ctl_dav_commands, ctl_carddav_commands,
	ctl_sieve_commands,
	ctl_scan_commands, ctl_spam_commands,
	ctl_resource_commands,
};

/* Find the command for argv[0] (and argv[1] for two-word commands). */
static const struct ctl_cmd *find_command(int argc, char **argv, int *words_r)
{
	bool known_name = false;
	for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++) {
		for (const struct ctl_cmd *c = command_tables[t]; c->name != NULL; c++) {
			if (strcmp(c->name, argv[0]) != 0)
				continue;
			known_name = true;
			if (c->sub == NULL) {
				*words_r = 1;
				return c;
			}
			if (argc > 1 && strcmp(c->sub, argv[1]) == 0) {
				*words_r = 2;
				return c;
			}
		}
	}
	if (!known_name)
		ctl_usage("unknown command '%s'", argv[0]);
	else if (argc < 2)
		ctl_usage("%s: missing subcommand", argv[0]);
	else
		ctl_usage("%s: unknown subcommand '%s'", argv[0], argv[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { CONFIG_DEFAULT_PATH, NULL, NULL };
	bool verbose = false;
	int i = 1;

	log_open("cairnctl", false);
	route_register_config();	/* [routes] errors with FILE:LINE in every command */
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			if (++i == argc)
				return ctl_usage("%s needs a file name", arg);
			ctl.config_path = argv[i];
		} else if (strncmp(arg, "--config=", 9) == 0) {
			ctl.config_path = arg + 9;
		} else if (strncmp(arg, "-c", 2) == 0) {
			ctl.config_path = arg + 2;
		} else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
			verbose = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_usage(stdout);
			return CTL_OK;
		} else if (strcmp(arg, "--version") == 0) {
			printf("cairnctl %s\n", PACKAGE_VERSION);
			return CTL_OK;
		} else {
			return ctl_usage("unknown option %s", arg);
		}
	}
	log_set_level(verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	if (i == argc)
		return ctl_usage("no command given");

	int words = 0;
	const struct ctl_cmd *cmd = find_command(argc - i, argv + i, &words);
	if (cmd == NULL)
		return CTL_USAGE;
	int ret = cmd->run(&ctl, argc - i - words, argv + i + words);
	store_close(&ctl.store);
	if (ctl.cfg != NULL)
		config_free(&ctl.cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_error("writing output: %s", strerror(errno));
		ret = CTL_ERROR;
	}
	return ret;
}
