/* Helpers shared by cairnctl's command files: messages, argument parsing,
 * loading the config and opening the store, and reading passwords without
 * echo. */
#include "autoconf.h"
#include "ctl.h"
#include "config.h"
#include "log.h"
#include "password.h"
#include "store.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void ctl_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cairnctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int ctl_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("cairnctl: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\nTry 'cairnctl help'.\n", stderr);
	va_end(ap);
	return CTL_USAGE;
}

/* Split argv (after the command words) into options and positionals. Accepts
 * "--opt VALUE" and "--opt=VALUE"; "--" ends the options. Returns 0 or
 * CTL_USAGE after saying why. */
int ctl_parse_args(const char *cmd, int argc, char **argv, const struct ctl_opt *opts,
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
				return ctl_usage("%s: unknown option %s", cmd, arg);
			if (arg[len] == '=') {
				*o->value = arg + len + 1;
			} else if (i + 1 < argc) {
				*o->value = argv[++i];
			} else {
				return ctl_usage("%s: option %s needs a value", cmd, o->name);
			}
			continue;
		}
		if (npos == max_pos)
			return ctl_usage("%s: unexpected argument '%s'", cmd, arg);
		pos[npos++] = arg;
	}
	if (npos < min_pos)
		return ctl_usage("%s: missing argument", cmd);
	for (int i = npos; i < max_pos; i++)
		pos[i] = NULL;
	return 0;
}

int ctl_load_config(struct ctl *ctl)
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
			ctl_error("%s: invalid configuration", ctl->config_path);
		}
	}
	buf_free(&errors);
	return ret < 0 ? CTL_ERROR : CTL_OK;
}

/* Load the config and open the store; called after a command has checked its
 * arguments, so usage errors never depend on the config or the database. */
int ctl_open(struct ctl *ctl)
{
	if (ctl->store != NULL)
		return CTL_OK;
	if (ctl_load_config(ctl) != CTL_OK)
		return CTL_ERROR;
	ctl->store = store_open(ctl->cfg);
	return CTL_OK;
}

int ctl_store_failed(const char *error)
{
	ctl_error("%s", error != NULL ? error : "database error");
	return CTL_ERROR;
}

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

void ctl_wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The new password: --password, else typed twice on a terminal, else one
 * line of stdin (for scripts). Returns a malloc'ed string or NULL. */
char *ctl_get_password(const char *option)
{
	if (option != NULL)
		return xstrdup(option);
	if (!isatty(STDIN_FILENO)) {
		char *pw = read_line(NULL);
		if (pw == NULL)
			ctl_error("no password on standard input");
		return pw;
	}
	char *pw = read_line("Password: ");
	char *again = pw != NULL ? read_line("Retype password: ") : NULL;
	if (pw == NULL || again == NULL) {
		ctl_error("no password entered");
		ctl_wipe_free(pw);
		ctl_wipe_free(again);
		return NULL;
	}
	bool same = strcmp(pw, again) == 0;
	ctl_wipe_free(again);
	if (!same) {
		ctl_error("the passwords do not match");
		ctl_wipe_free(pw);
		return NULL;
	}
	return pw;
}

/* Hash the password from ctl_get_password(); NULL after saying why. */
char *ctl_new_password_hash(const char *option)
{
	char *pw = ctl_get_password(option);
	if (pw == NULL)
		return NULL;
	char *hash = NULL;
	const char *error;
	if (password_hash(pw, &hash, &error) < 0)
		ctl_error("%s", error);
	ctl_wipe_free(pw);
	return hash;
}

