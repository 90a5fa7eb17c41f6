/* cairnctl commands for the directory: domains and user accounts. */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmd_domain_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("domain add", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_add(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_domain_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("domain del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_del(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static void print_domain(const char *name, void *ctx)
{
	printf("%s\n", name);
}

static int cmd_domain_list(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	if (ctl_parse_args("domain list", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_domain_list(ctl->store, print_domain, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* Terminal state to restore if we are interrupted with echo off. */
static int cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *name = "", *error;
	const struct ctl_opt opts[] = {
		{ "--password", &password }, { "--name", &name }, { NULL, NULL }
	};
	if (ctl_parse_args("user add", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char *hash = ctl_new_password_hash(password);
	if (hash == NULL)
		return CTL_ERROR;
	int ret = store_account_add(ctl->store, pos[0], hash, name, &error);
	free(hash);
	return ret == STORE_OK ? CTL_OK : ctl_store_failed(error);
}

static int cmd_user_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("user del", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_account_del(ctl->store, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_user_passwd(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *error;
	const struct ctl_opt opts[] = { { "--password", &password }, { NULL, NULL } };
	if (ctl_parse_args("user passwd", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char *hash = ctl_new_password_hash(password);
	if (hash == NULL)
		return CTL_ERROR;
	int ret = store_account_set_password(ctl->store, pos[0], hash, &error);
	free(hash);
	return ret == STORE_OK ? CTL_OK : ctl_store_failed(error);
}

static void print_user(const char *address, const char *display_name, void *ctx)
{
	if (display_name[0] != '\0')
		printf("%s\t%s\n", address, display_name);
	else
		printf("%s\n", address);
}

static int cmd_user_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (ctl_parse_args("user list", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_account_list(ctl->store, pos[0], print_user, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

const struct ctl_cmd ctl_directory_commands[] = {
	{ "domain", "add", "NAME", cmd_domain_add, "add a mail domain" },
	{ "domain", "del", "NAME", cmd_domain_del, "delete a domain without accounts" },
	{ "domain", "list", "", cmd_domain_list, "list domains" },
	{ "user", "add", "ADDRESS [--password PW] [--name NAME]", cmd_user_add,
	  "add an account" },
	{ "user", "del", "ADDRESS", cmd_user_del, "delete an account" },
	{ "user", "passwd", "ADDRESS [--password PW]", cmd_user_passwd,
	  "set an account's password" },
	{ "user", "list", "[DOMAIN]", cmd_user_list, "list accounts" },
	{ NULL, NULL, NULL, NULL, NULL }
};
