/* cairnctl sieve: a user's Sieve scripts, as ManageSieve sees them (the
 * same store functions and the same checks: scripts are compiled with the
 * configured limits before they are stored, names follow RFC 5804 1.6).
 * check compiles a file without storing it. */
#include "autoconf.h"
#include "ctl.h"
#include "config.h"
#include "managesieve_parser.h"
#include "sieve.h"
#include "store.h"
#include "store-sieve.h"
#include "../deliver/deliver-sieve.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read a whole file ("-" or NULL: stdin) into out, at most max bytes. */
static int read_file(const char *path, uint64_t max, struct buf *out)
{
	FILE *f = path == NULL || strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (f == NULL) {
		ctl_error("%s: %s", path, strerror(errno));
		return -1;
	}
	char chunk[8192];
	size_t n;
	int ret = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (out->len + n > max) {
			ctl_error("%s: larger than [sieve] max_script_size (%llu bytes)",
				  path != NULL ? path : "stdin", (unsigned long long)max);
			ret = -1;
			break;
		}
		buf_append(out, chunk, n);
	}
	if (ret == 0 && ferror(f)) {
		ctl_error("%s: %s", path != NULL ? path : "stdin", strerror(errno));
		ret = -1;
	}
	if (f != stdin)
		fclose(f);
	return ret;
}

/* The user option as an account address (lower-cased in place). */
static const char *user_arg(const char *cmd, const char *user)
{
	if (user == NULL || strchr(user, '@') == NULL) {
		ctl_usage("%s: --user ADDRESS is required", cmd);
		return NULL;
	}
	for (char *p = (char *)user; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return user;
}

static int name_arg(const char *cmd, const char *name)
{
	if (name == NULL || !msieve_name_valid(name, strlen(name)))
		return ctl_usage("%s: '%s' is not a valid script name", cmd, name != NULL ? name : "");
	return 0;
}

/* Compile as delivery and ManageSieve do, includes resolved from user's
 * scripts (st NULL: none) and [sieve] global_dir; prints errors. upload: a
 * missing :personal include is only a warning (RFC 6609 3.2), else (the
 * script is to be active) an error. Returns 0 or -1. */
static int check_script(const struct config *cfg, struct store *st, const char *user,
			const char *name, const struct buf *src, bool upload)
{
	if (!msieve_utf8_valid(src->data != NULL ? src->data : "", src->len) ||
	    (src->len > 0 && memchr(src->data, '\0', src->len) != NULL)) {
		ctl_error("%s: a script must be UTF-8 text", name);
		return -1;
	}
	struct sieve_limits lim;
	deliver_sieve_limits(cfg, &lim);
	struct deliver_sieve_include_ctx ictx = {
		.st = st, .cfg = cfg, .max_size = lim.max_script_size, .account = user,
	};
	struct sieve_compile_params params = {
		.limits = &lim, .name = name, .include = deliver_sieve_include_cb,
		.include_ctx = &ictx, .include_missing_personal_ok = upload,
	};
	struct sieve_script *script = NULL;
	char *error = NULL;
	if (sieve_compile(src->data != NULL ? src->data : "", src->len, &params, &script,
			  &error) < 0) {
		fprintf(stderr, "%s: %s\n", name, error != NULL ? error : "invalid");
		free(error);
		return -1;
	}
	const char *w = sieve_script_warnings(script);
	if (w != NULL && w[0] != '\0')
		fprintf(stderr, "%s: warning: %s\n", name, w);
	sieve_script_unref(&script);
	return 0;
}

static void list_row(const char *name, bool active, uint64_t size, void *ctx)
{
	size_t *n = ctx;
	(*n)++;
	printf("%s%s  %llu bytes\n", name, active ? "  ACTIVE" : "", (unsigned long long)size);
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve list", argc, argv, opts, NULL, 0, 0) != 0 ||
	    user_arg("sieve list", user) == NULL)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	size_t n = 0;
	if (store_sieve_list(ctl->store, user, list_row, &n, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("%zu script%s\n", n, n == 1 ? "" : "s");
	return CTL_OK;
}

static int cmd_get(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve get", argc, argv, opts, pos, 1, 1) != 0 ||
	    user_arg("sieve get", user) == NULL)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct buf b;
	buf_init(&b, 0);
	int ret = store_sieve_get(ctl->store, user, pos[0], &b, NULL, &error);
	if (ret == STORE_OK)
		fwrite(b.data != NULL ? b.data : "", 1, b.len, stdout);
	buf_free(&b);
	return ret == STORE_OK ? CTL_OK : ctl_store_failed(error);
}

static int cmd_put(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *activate = NULL, *error = NULL, *pos[2];
	const struct ctl_opt opts[] = { { "--user", &user }, { "--activate", &activate },
					{ NULL, NULL } };
	if (ctl_parse_args("sieve put", argc, argv, opts, pos, 1, 2) != 0 ||
	    user_arg("sieve put", user) == NULL || name_arg("sieve put", pos[0]) != 0)
		return CTL_USAGE;
	if (activate != NULL && strcmp(activate, "yes") != 0 && strcmp(activate, "no") != 0)
		return ctl_usage("sieve put: --activate takes yes or no");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct buf src;
	buf_init(&src, 0);
	int ret = CTL_ERROR;
	if (read_file(pos[1], ctl->cfg->sieve.max_script_size, &src) == 0 &&
	    check_script(ctl->cfg, ctl->store, user, pos[0], &src,
			 activate == NULL || strcmp(activate, "yes") != 0) == 0) {
		struct store_sieve_limits lim = { ctl->cfg->sieve.max_scripts,
						  ctl->cfg->sieve.max_total_size };
		if (store_sieve_put(ctl->store, user, pos[0], src.data != NULL ? src.data : "",
				    src.len, &lim, &error) != STORE_OK ||
		    (activate != NULL && strcmp(activate, "yes") == 0 &&
		     store_sieve_activate(ctl->store, user, pos[0], &error) != STORE_OK))
			ret = ctl_store_failed(error);
		else
			ret = CTL_OK;
	}
	buf_free(&src);
	if (ret == CTL_OK)
		printf("stored %s for %s\n", pos[0], user);
	return ret;
}

static int cmd_activate(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve activate", argc, argv, opts, pos, 1, 1) != 0 ||
	    user_arg("sieve activate", user) == NULL)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	/* its includes must exist now (a :personal one may have been
	 * missing at upload) */
	struct buf src;
	buf_init(&src, 0);
	if (store_sieve_get(ctl->store, user, pos[0], &src, NULL, &error) != STORE_OK) {
		buf_free(&src);
		return ctl_store_failed(error);
	}
	int checked = check_script(ctl->cfg, ctl->store, user, pos[0], &src, false);
	buf_free(&src);
	if (checked < 0)
		return CTL_ERROR;
	if (store_sieve_activate(ctl->store, user, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("%s is the active script of %s\n", pos[0], user);
	return CTL_OK;
}

static int cmd_deactivate(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve deactivate", argc, argv, opts, NULL, 0, 0) != 0 ||
	    user_arg("sieve deactivate", user) == NULL)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_sieve_activate(ctl->store, user, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("no script of %s is active\n", user);
	return CTL_OK;
}

static int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve delete", argc, argv, opts, pos, 1, 1) != 0 ||
	    user_arg("sieve delete", user) == NULL)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_sieve_delete(ctl->store, user, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("deleted %s of %s\n", pos[0], user);
	return CTL_OK;
}

static int cmd_check(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error = NULL, *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("sieve check", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user != NULL && user_arg("sieve check", user) == NULL)
		return CTL_USAGE;
	struct buf src;
	buf_init(&src, 0);
	int ret = CTL_ERROR;
	if (user != NULL) {
		/* A stored script of the user, by name. */
		if (ctl_open(ctl) != CTL_OK)
			return CTL_ERROR;
		if (store_sieve_get(ctl->store, user, pos[0], &src, NULL, &error) != STORE_OK) {
			buf_free(&src);
			return ctl_store_failed(error);
		}
	} else {
		if (ctl_load_config(ctl) != CTL_OK)
			return CTL_ERROR;
		if (read_file(pos[0], ctl->cfg->sieve.max_script_size, &src) < 0) {
			buf_free(&src);
			return CTL_ERROR;
		}
	}
	/* a stored script is checked as for activation; a file as an upload */
	if (check_script(ctl->cfg, user != NULL ? ctl->store : NULL, user, pos[0], &src,
			 user == NULL) == 0) {
		printf("%s: ok\n", pos[0]);
		ret = CTL_OK;
	}
	buf_free(&src);
	return ret;
}

const struct ctl_cmd ctl_sieve_commands[] = {
	{ "sieve", "list", "--user ADDRESS", cmd_list, "list a user's Sieve scripts" },
	{ "sieve", "get", "--user ADDRESS NAME", cmd_get, "print a user's Sieve script" },
	{ "sieve", "put", "--user ADDRESS [--activate yes] NAME [FILE]", cmd_put,
	  "check and store a Sieve script (FILE or stdin)" },
	{ "sieve", "activate", "--user ADDRESS NAME", cmd_activate,
	  "make a script the user's active one" },
	{ "sieve", "deactivate", "--user ADDRESS", cmd_deactivate,
	  "leave the user without an active script" },
	{ "sieve", "delete", "--user ADDRESS NAME", cmd_delete,
	  "delete a script (not the active one)" },
	{ "sieve", "check", "[--user ADDRESS] FILE|NAME", cmd_check,
	  "compile a script file (or the user's stored script NAME) and print its errors" },
	{ NULL, NULL, NULL, NULL, NULL }
};
