/* cairnctl internals shared by its command files: the command table entry,
 * argument parsing, opening the config and the store, password prompts.
 * Each command family (ctl-directory.c, ctl-mail.c, ...) exports a table. */
#ifndef CAIRN_CTL_H
#define CAIRN_CTL_H

#include "util.h"

#define CTL_OK 0
#define CTL_ERROR 1
#define CTL_USAGE 2

struct config;
struct store;

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

/* One option a command takes; every option has a value. */
struct ctl_opt {
	const char *name;	/* "--password" */
	const char **value;
};

/* Command tables, each ended by an entry with name == NULL. */
extern const struct ctl_cmd ctl_directory_commands[];
extern const struct ctl_cmd ctl_mail_commands[];
extern const struct ctl_cmd ctl_dkim_commands[];
extern const struct ctl_cmd ctl_queue_commands[];
extern const struct ctl_cmd ctl_acl_commands[];
extern const struct ctl_cmd ctl_sieve_commands[];
extern const struct ctl_cmd ctl_scan_commands[];
extern const struct ctl_cmd ctl_spam_commands[];
extern const struct ctl_cmd ctl_dav_commands[];
extern const struct ctl_cmd ctl_carddav_commands[];
extern const struct ctl_cmd ctl_resource_commands[];

struct dir_handle;
/* Rewrite the global address list from the directory (ctl-carddav.c),
 * printing what changed. A dir_status, with *error_r unless DIR_OK. */
int ctl_gal_sync(struct ctl *ctl, struct dir_handle *h, const char **error_r);

/* Print "cairnctl: message" to stderr. */
void ctl_error(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* Print a usage error with a pointer to `cairnctl help`; returns CTL_USAGE. */
int ctl_usage(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* Split argv into the options in opts (NULL-terminated) and min_pos..max_pos
 * positionals (missing ones set to NULL). Accepts "--opt VALUE", "--opt=VALUE"
 * and "--". Returns 0 or CTL_USAGE after saying why. */
int ctl_parse_args(const char *cmd, int argc, char **argv, const struct ctl_opt *opts,
		   const char **pos, int min_pos, int max_pos);
/* Load ctl->config_path into ctl->cfg. Returns CTL_OK, or CTL_ERROR after
 * printing every error. */
int ctl_load_config(struct ctl *ctl);
/* Load the config and open the store (lazily connecting). Returns CTL_OK or
 * CTL_ERROR after printing the config errors. */
int ctl_open(struct ctl *ctl);
/* Print a store error; returns CTL_ERROR. */
int ctl_store_failed(const char *error);
/* The password from option (if not NULL), else asked twice on a terminal or
 * read as one line from stdin. malloc'ed; free with ctl_wipe_free. NULL after
 * saying why. */
char *ctl_get_password(const char *option);
/* ctl_get_password, then hash it (yescrypt). NULL after saying why. */
char *ctl_new_password_hash(const char *option);
/* Overwrite a secret with zeros, then free it. */
void ctl_wipe_free(char *s);

#endif
