/* cairnctl spam: train the Bayes filter from an mbox file, a Maildir or a
 * directory of message files (`spam train --spam|--ham --user U PATH`),
 * and show how much a database has learned (`spam status`). Training goes
 * into the user's database and the global one, like training over IMAP. */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"
#include "store-bayes.h"
#include "bayes-trainer.h"
#include "mbox.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAM_FILE_MAX (1ull << 30)	/* an mbox of up to 1 GiB */
#define SPAM_MSG_MAX (64ull << 20)

struct train {
	struct store *st;
	uint64_t account_id;
	bool spam;
	size_t total, done, learned, already, failed;
	bool tty;
};

static void progress(struct train *t, bool last)
{
	if (!last && t->done % 200 != 0)
		return;
	if (t->tty)
		fprintf(stderr, "\rtrained %zu/%zu: %zu learned, %zu already known, %zu failed%s",
			t->done, t->total, t->learned, t->already, t->failed, last ? "\n" : "");
	else if (last || t->done % 1000 == 0)
		fprintf(stderr, "trained %zu/%zu: %zu learned, %zu already known, %zu failed\n",
			t->done, t->total, t->learned, t->already, t->failed);
}

static void train_one(struct train *t, const char *raw, size_t size)
{
	enum store_bayes_learned r;
	const char *error;
	t->done++;
	if (bayes_train_message(t->st, t->account_id, t->spam, raw, size, &r, &error) < 0) {
		t->failed++;
		ctl_error("message %zu: %s", t->done, error);
	} else if (r == STORE_BAYES_ALREADY) {
		t->already++;
	} else {
		t->learned++;
	}
	progress(t, false);
}

static int read_file(const char *path, uint64_t max, struct buf *out)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char chunk[65536];
	size_t n;
	buf_init(out, (size_t)max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(out, chunk, n) < 0) {
			fclose(f);
			buf_free(out);
			errno = EFBIG;
			return -1;
		}
	fclose(f);
	return 0;
}

static int train_mbox(struct train *t, const char *path)
{
	struct buf data;
	if (read_file(path, SPAM_FILE_MAX, &data) < 0) {
		ctl_error("%s: %s", path, strerror(errno));
		return CTL_ERROR;
	}
	const char *d = data.data ? data.data : "";
	t->total = mbox_count(d, data.len);
	size_t pos = 0;
	struct mbox_msg m;
	int r;
	struct buf msg;
	buf_init(&msg, 0);
	while ((r = mbox_next(d, data.len, &pos, &m)) == 1) {
		buf_reset(&msg);
		mbox_unquote(m.body, m.body_len, &msg);
		train_one(t, msg.data ? msg.data : "", msg.len);
	}
	buf_free(&msg);
	buf_free(&data);
	if (r < 0) {
		ctl_error("%s: not an mbox file (no From_ line)", path);
		return CTL_ERROR;
	}
	return CTL_OK;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The message files of a directory (Maildir: its cur/ and new/). */
static void list_dir(const char *dir, char ***files, size_t *n)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *p = xasprintf("%s/%s", dir, de->d_name);
		struct stat sb;
		if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode)) {
			*files = xrealloc(*files, (*n + 1) * sizeof(**files));
			(*files)[(*n)++] = p;
		} else {
			free(p);
		}
	}
	closedir(d);
}

static int train_dir(struct train *t, const char *path)
{
	char **files = NULL;
	size_t n = 0;
	char *cur = xasprintf("%s/cur", path), *new_ = xasprintf("%s/new", path);
	struct stat sb;
	if (stat(cur, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		list_dir(cur, &files, &n);
		list_dir(new_, &files, &n);
	} else {
		list_dir(path, &files, &n);
	}
	free(cur);
	free(new_);
	if (n > 1)
		qsort(files, n, sizeof(*files), name_cmp);
	t->total = n;
	for (size_t i = 0; i < n; i++) {
		struct buf msg;
		if (read_file(files[i], SPAM_MSG_MAX, &msg) < 0) {
			ctl_error("%s: %s", files[i], strerror(errno));
			t->done++;
			t->failed++;
		} else {
			train_one(t, msg.data ? msg.data : "", msg.len);
			buf_free(&msg);
		}
		free(files[i]);
	}
	free(files);
	return CTL_OK;
}

static int cmd_spam_train(struct ctl *ctl, int argc, char **argv)
{
	int klass = -1;
	const char *user = NULL, *path = NULL;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--spam") == 0 || strcmp(argv[i], "--ham") == 0) {
			if (klass >= 0)
				return ctl_usage("spam train: give one of --spam and --ham");
			klass = argv[i][2] == 's';
		} else if (strcmp(argv[i], "--user") == 0 && i + 1 < argc) {
			user = argv[++i];
		} else if (strncmp(argv[i], "--user=", 7) == 0) {
			user = argv[i] + 7;
		} else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			return ctl_usage("spam train: unknown option %s", argv[i]);
		} else if (path == NULL) {
			path = argv[i];
		} else {
			return ctl_usage("spam train: one PATH only");
		}
	}
	if (klass < 0 || user == NULL || path == NULL)
		return ctl_usage("spam train: usage: spam train --spam|--ham --user ADDRESS PATH");
	struct stat sb;
	if (stat(path, &sb) < 0) {
		ctl_error("%s: %s", path, strerror(errno));
		return CTL_ERROR;
	}
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct train t;
	memset(&t, 0, sizeof(t));
	t.st = ctl->store;
	t.spam = klass == 1;
	t.tty = isatty(2);
	const char *error;
	if (store_bayes_account(ctl->store, user, &t.account_id, &error) != STORE_OK)
		return ctl_store_failed(error);
	int ret = S_ISDIR(sb.st_mode) ? train_dir(&t, path) : train_mbox(&t, path);
	progress(&t, true);
	printf("%s: %zu messages trained as %s for %s (%zu new, %zu already known, %zu failed)\n",
	       path, t.done, t.spam ? "spam" : "ham", user, t.learned, t.already, t.failed);
	return ret == CTL_OK && t.failed == 0 ? CTL_OK : CTL_ERROR;
}

static int cmd_spam_status(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL;
	struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("spam status", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error;
	uint64_t id = STORE_BAYES_GLOBAL;
	if (user != NULL && store_bayes_account(ctl->store, user, &id, &error) != STORE_OK)
		return ctl_store_failed(error);
	uint32_t us, uh, gs, gh;
	if (store_bayes_vars(ctl->store, id, &us, &uh, &gs, &gh, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (user != NULL)
		printf("%s: %" PRIu32 " spam, %" PRIu32 " ham\n", user, us, uh);
	printf("global: %" PRIu32 " spam, %" PRIu32 " ham\n", gs, gh);
	return CTL_OK;
}

const struct ctl_cmd ctl_spam_commands[] = {
	{ "spam", "train", "--spam|--ham --user ADDRESS PATH", cmd_spam_train,
	  "train the Bayes filter with an mbox file, a Maildir or a directory of messages" },
	{ "spam", "status", "[--user ADDRESS]", cmd_spam_status,
	  "show how many messages the Bayes databases learned" },
	{ NULL, NULL, NULL, NULL, NULL }
};
