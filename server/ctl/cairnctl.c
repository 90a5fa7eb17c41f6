/* cairnctl: the admin command line. Reads cairn.conf, then runs one command
 * from the table below: config checks, schema migrations, domains and users.
 * Talks to PostgreSQL only through the store. Exit codes: 0 ok, 1 error,
 * 2 usage. */
#include "autoconf.h"
#include "config.h"
#include "log.h"
#include "password.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_USAGE 2

struct ctl {
	const char *config_path;
	struct config *cfg;
	struct store *store;
};

struct ctl_cmd {
	const char *name;
	const char *sub;	/* second word ("domain add"), NULL if none */
	const char *args;	/* for the usage text */
	int (*run)(struct ctl *ctl, int argc, char **argv);
	const char *help;
};

static const struct ctl_cmd commands[];

static void ATTR_PRINTF(1, 2) say_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cairnctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int ATTR_PRINTF(1, 2) usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cairnctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'cairnctl help'.\n", stderr);
	va_end(ap);
	return EXIT_USAGE;
}

/* One option a command takes; every option has a value. */
struct ctl_opt {
	const char *name;	/* "--password" */
	const char **value;
};

/* Split argv (after the command words) into options and positionals. Accepts
 * "--opt VALUE" and "--opt=VALUE"; "--" ends the options. Returns 0 or
 * EXIT_USAGE after saying why. */
static int parse_args(const char *cmd, int argc, char **argv, const struct ctl_opt *opts,
		      const char **pos, int min_pos, int max_pos)
{
	int npos = 0;
	bool only_pos = false;
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		if (!only_pos && strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (!only_pos && arg[0] == '-' && arg[1] != '\0') {
			const struct ctl_opt *o = opts;
			size_t len = strcspn(arg, "=");
			for (; o != NULL && o->name != NULL; o++) {
				if (strlen(o->name) == len && strncmp(arg, o->name, len) == 0)
					break;
			}
			if (o == NULL || o->name == NULL)
				return usage_error("%s: unknown option %s", cmd, arg);
			if (arg[len] == '=') {
				*o->value = arg + len + 1;
			} else if (i + 1 < argc) {
				*o->value = argv[++i];
			} else {
				return usage_error("%s: option %s needs a value", cmd, o->name);
			}
			continue;
		}
		if (npos == max_pos)
			return usage_error("%s: unexpected argument '%s'", cmd, arg);
		pos[npos++] = arg;
	}
	if (npos < min_pos)
		return usage_error("%s: missing argument", cmd);
	for (int i = npos; i < max_pos; i++)
		pos[i] = NULL;
	return 0;
}

static int load_config(struct ctl *ctl)
{
	struct buf errors;
	buf_init(&errors, 1024 * 1024);
	int ret = config_load(ctl->config_path, &ctl->cfg, &errors);
	if (ret < 0) {
		if (errors.len > 0) {
			fputs(errors.data, stderr);
			if (errors.data[errors.len - 1] != '\n')
				fputc('\n', stderr);
		} else {
			say_error("%s: invalid configuration", ctl->config_path);
		}
	}
	buf_free(&errors);
	return ret < 0 ? EXIT_ERROR : EXIT_OK;
}

/* Load the config and open the store; called after a command has checked its
 * arguments, so usage errors never depend on the config or the database. */
static int ctl_open(struct ctl *ctl)
{
	if (ctl->store != NULL)
		return EXIT_OK;
	if (load_config(ctl) != EXIT_OK)
		return EXIT_ERROR;
	ctl->store = store_open(ctl->cfg);
	return EXIT_OK;
}

static int cmd_check_config(struct ctl *ctl, int argc, char **argv)
{
	if (parse_args("check-config", argc, argv, NULL, NULL, 0, 0) != 0)
		return EXIT_USAGE;
	if (load_config(ctl) != EXIT_OK)
		return EXIT_ERROR;
	printf("%s: ok\n", ctl->config_path);
	return EXIT_OK;
}

static int cmd_config_doc(struct ctl *ctl, int argc, char **argv)
{
	if (parse_args("config-doc", argc, argv, NULL, NULL, 0, 0) != 0)
		return EXIT_USAGE;
	struct buf doc;
	buf_init(&doc, 0);
	config_write_doc(&doc);
	if (doc.len > 0)
		fwrite(doc.data, 1, doc.len, stdout);
	buf_free(&doc);
	return EXIT_OK;
}

static int cmd_migrate(struct ctl *ctl, int argc, char **argv)
{
	const char *dir = NULL;
	const struct ctl_opt opts[] = { { "--dir", &dir }, { NULL, NULL } };
	if (parse_args("migrate", argc, argv, opts, NULL, 0, 0) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (dir == NULL)
		dir = ctl->cfg->store.migrations_dir;
	if (dir == NULL || *dir == '\0') {
		say_error("migrate: no migrations directory ([store] migrations_dir or --dir)");
		return EXIT_ERROR;
	}
	char *error = NULL;
	if (store_migrate(ctl->store, dir, stdout, &error) < 0) {
		fflush(stdout);
		say_error("migrate: %s", error != NULL ? error : "failed");
		free(error);
		return EXIT_ERROR;
	}
	return EXIT_OK;
}

/* Report a store failure the way every command does. */
static int store_failed(const char *error)
{
	say_error("%s", error != NULL ? error : "database error");
	return EXIT_ERROR;
}

static int cmd_domain_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (parse_args("domain add", argc, argv, NULL, pos, 1, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (store_domain_add(ctl->store, pos[0], &error) != STORE_OK)
		return store_failed(error);
	return EXIT_OK;
}

static int cmd_domain_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (parse_args("domain del", argc, argv, NULL, pos, 1, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (store_domain_del(ctl->store, pos[0], &error) != STORE_OK)
		return store_failed(error);
	return EXIT_OK;
}

static void print_domain(const char *name, void *ctx)
{
	printf("%s\n", name);
}

static int cmd_domain_list(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	if (parse_args("domain list", argc, argv, NULL, NULL, 0, 0) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (store_domain_list(ctl->store, print_domain, NULL, &error) != STORE_OK)
		return store_failed(error);
	return EXIT_OK;
}

/* Terminal state to restore if we are interrupted with echo off. */
static struct termios saved_termios;
static volatile sig_atomic_t echo_off;

static void restore_echo(int sig)
{
	if (echo_off)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Read one line from stdin without its line ending; NULL on EOF. With echo
 * off when prompt is set (stdin is a terminal). The caller wipes and frees. */
static char *read_line(const char *prompt)
{
	struct sigaction sa, old_int, old_term;
	if (prompt != NULL) {
		/* Echo goes off before the prompt appears: TCSAFLUSH drops input
		 * typed ahead, which must not include the password. */
		if (tcgetattr(STDIN_FILENO, &saved_termios) == 0) {
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = restore_echo;
			sigaction(SIGINT, &sa, &old_int);
			sigaction(SIGTERM, &sa, &old_term);
			struct termios t = saved_termios;
			t.c_lflag &= ~(tcflag_t)ECHO;
			t.c_lflag |= ECHONL;
			echo_off = tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0;
		}
		fputs(prompt, stderr);
		fflush(stderr);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (echo_off) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
		echo_off = 0;
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

static void wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The new password: --password, else typed twice on a terminal, else one
 * line of stdin (for scripts). Returns a malloc'ed string or NULL. */
static char *get_password(const char *option)
{
	if (option != NULL)
		return xstrdup(option);
	if (!isatty(STDIN_FILENO)) {
		char *pw = read_line(NULL);
		if (pw == NULL)
			say_error("no password on standard input");
		return pw;
	}
	char *pw = read_line("Password: ");
	char *again = pw != NULL ? read_line("Retype password: ") : NULL;
	if (pw == NULL || again == NULL) {
		say_error("no password entered");
		wipe_free(pw);
		wipe_free(again);
		return NULL;
	}
	bool same = strcmp(pw, again) == 0;
	wipe_free(again);
	if (!same) {
		say_error("the passwords do not match");
		wipe_free(pw);
		return NULL;
	}
	return pw;
}

/* Hash the password from get_password(); NULL after saying why. */
static char *new_password_hash(const char *option)
{
	char *pw = get_password(option);
	if (pw == NULL)
		return NULL;
	char *hash = NULL;
	const char *error;
	if (password_hash(pw, &hash, &error) < 0)
		say_error("%s", error);
	wipe_free(pw);
	return hash;
}

static int cmd_user_add(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *name = "", *error;
	const struct ctl_opt opts[] = {
		{ "--password", &password }, { "--name", &name }, { NULL, NULL }
	};
	if (parse_args("user add", argc, argv, opts, pos, 1, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	char *hash = new_password_hash(password);
	if (hash == NULL)
		return EXIT_ERROR;
	int ret = store_account_add(ctl->store, pos[0], hash, name, &error);
	free(hash);
	return ret == STORE_OK ? EXIT_OK : store_failed(error);
}

static int cmd_user_del(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	if (parse_args("user del", argc, argv, NULL, pos, 1, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (store_account_del(ctl->store, pos[0], &error) != STORE_OK)
		return store_failed(error);
	return EXIT_OK;
}

static int cmd_user_passwd(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *password = NULL, *error;
	const struct ctl_opt opts[] = { { "--password", &password }, { NULL, NULL } };
	if (parse_args("user passwd", argc, argv, opts, pos, 1, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	char *hash = new_password_hash(password);
	if (hash == NULL)
		return EXIT_ERROR;
	int ret = store_account_set_password(ctl->store, pos[0], hash, &error);
	free(hash);
	return ret == STORE_OK ? EXIT_OK : store_failed(error);
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
	if (parse_args("user list", argc, argv, NULL, pos, 0, 1) != 0)
		return EXIT_USAGE;
	if (ctl_open(ctl) != EXIT_OK)
		return EXIT_ERROR;
	if (store_account_list(ctl->store, pos[0], print_user, NULL, &error) != STORE_OK)
		return store_failed(error);
	return EXIT_OK;
}

static void print_usage(FILE *out)
{
	fprintf(out, "Usage: cairnctl [-c FILE] [-v] COMMAND [ARGS]\n"
		     "       cairnctl --help | --version\n\n"
		     "Options:\n"
		     "  -c, --config FILE   configuration file (default %s)\n"
		     "  -v, --verbose       log informational messages too\n\n"
		     "Commands:\n", CONFIG_DEFAULT_PATH);
	for (const struct ctl_cmd *c = commands; c->name != NULL; c++) {
		char words[64];
		snprintf(words, sizeof(words), "%s%s%s %s", c->name, c->sub ? " " : "",
			 c->sub ? c->sub : "", c->args);
		fprintf(out, "  %-46s %s\n", words, c->help);
	}
	fprintf(out, "\nWithout --password, user add/passwd ask twice on a terminal, or read\n"
		     "one line from standard input otherwise.\n");
}

static int cmd_help(struct ctl *ctl, int argc, char **argv)
{
	print_usage(stdout);
	return EXIT_OK;
}

static const struct ctl_cmd commands[] = {
	{ "check-config", NULL, "", cmd_check_config,
	  "validate the configuration file, print every error" },
	{ "config-doc", NULL, "", cmd_config_doc,
	  "print the reference of every option (Markdown)" },
	{ "migrate", NULL, "[--dir DIR]", cmd_migrate,
	  "apply pending database migrations" },
	{ "domain", "add", "NAME", cmd_domain_add, "add a mail domain" },
	{ "domain", "del", "NAME", cmd_domain_del, "delete a domain without accounts" },
	{ "domain", "list", "", cmd_domain_list, "list domains" },
	{ "user", "add", "ADDRESS [--password PW] [--name NAME]", cmd_user_add,
	  "add an account" },
	{ "user", "del", "ADDRESS", cmd_user_del, "delete an account" },
	{ "user", "passwd", "ADDRESS [--password PW]", cmd_user_passwd,
	  "set an account's password" },
	{ "user", "list", "[DOMAIN]", cmd_user_list, "list accounts" },
	{ "help", NULL, "", cmd_help, "show this help" },
	{ NULL, NULL, NULL, NULL, NULL }
};

/* Find the command for argv[0] (and argv[1] for two-word commands). */
static const struct ctl_cmd *find_command(int argc, char **argv, int *words_r)
{
	bool known_name = false;
	for (const struct ctl_cmd *c = commands; c->name != NULL; c++) {
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
	if (!known_name)
		usage_error("unknown command '%s'", argv[0]);
	else if (argc < 2)
		usage_error("%s: missing subcommand", argv[0]);
	else
		usage_error("%s: unknown subcommand '%s'", argv[0], argv[1]);
	return NULL;
}

int main(int argc, char **argv)
{
	struct ctl ctl = { CONFIG_DEFAULT_PATH, NULL, NULL };
	bool verbose = false;
	int i = 1;

	log_open("cairnctl", false);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *arg = argv[i];
		if (strcmp(arg, "-c") == 0 || strcmp(arg, "--config") == 0) {
			if (++i == argc)
				return usage_error("%s needs a file name", arg);
			ctl.config_path = argv[i];
		} else if (strncmp(arg, "--config=", 9) == 0) {
			ctl.config_path = arg + 9;
		} else if (strncmp(arg, "-c", 2) == 0) {
			ctl.config_path = arg + 2;
		} else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
			verbose = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			print_usage(stdout);
			return EXIT_OK;
		} else if (strcmp(arg, "--version") == 0) {
			printf("cairnctl %s\n", PACKAGE_VERSION);
			return EXIT_OK;
		} else {
			return usage_error("unknown option %s", arg);
		}
	}
	log_set_level(verbose ? LOG_LEVEL_INFO : LOG_LEVEL_WARN);
	if (i == argc)
		return usage_error("no command given");

	int words = 0;
	const struct ctl_cmd *cmd = find_command(argc - i, argv + i, &words);
	if (cmd == NULL)
		return EXIT_USAGE;
	int ret = cmd->run(&ctl, argc - i - words, argv + i + words);
	store_close(&ctl.store);
	if (ctl.cfg != NULL)
		config_free(&ctl.cfg);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		say_error("writing output: %s", strerror(errno));
		ret = EXIT_ERROR;
	}
	return ret;
}
