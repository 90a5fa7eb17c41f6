/* cairnctl commands for mail: mailbox list/create/delete/rename for admins,
 * and import/export of mbox files (mboxrd) and Maildirs. Messages are stored
 * byte for byte as they are in the source (after mboxrd unquoting), so an
 * export gives back what was imported. An import can be rerun after an
 * interruption: a message whose content the mailbox already holds (as many
 * times as the source holds it so far) is skipped. */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"
#include "store-mail.h"
#include "store-mail-search.h"
#include "store-mail-sort.h"
#include "mbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

_Static_assert(MBOX_FLAG_SEEN == STORE_FLAG_SEEN && MBOX_FLAG_ANSWERED == STORE_FLAG_ANSWERED &&
	       MBOX_FLAG_FLAGGED == STORE_FLAG_FLAGGED && MBOX_FLAG_DELETED == STORE_FLAG_DELETED &&
	       MBOX_FLAG_DRAFT == STORE_FLAG_DRAFT, "mbox and store flag bits differ");

/* A transaction per batch: this many messages or bytes, whichever first. */
#define IMPORT_BATCH_MESSAGES 100
#define IMPORT_BATCH_BYTES (8 * 1024 * 1024)
#define IMPORT_PROGRESS_EVERY 500
/* A single message larger than this is refused (and reported). */
#define IMPORT_MESSAGE_MAX (256 * 1024 * 1024)

static void print_mailbox(const struct store_mailbox_info *info, void *ctx)
{
	printf("%s", info->name);
	if (info->special_use[0] != '\0')
		printf(" %s", info->special_use);
	if (info->noselect)
		printf(" \\Noselect");
	printf(info->has_children ? " \\HasChildren" : " \\HasNoChildren");
	if (info->subscribed)
		printf(" \\Subscribed");
	printf(" uidvalidity=%" PRIu32 " uidnext=%" PRIu32 " highestmodseq=%" PRIu64 "\n",
	       info->uidvalidity, info->uidnext, info->highestmodseq);
}

static int cmd_mailbox_list(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *error;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("mailbox list", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("mailbox list: --user is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_mailbox_list(ctl->store, user, print_mailbox, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_mailbox_create(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *special = NULL, *pos[1], *error;
	const struct ctl_opt opts[] = {
		{ "--user", &user }, { "--special-use", &special }, { NULL, NULL }
	};
	if (ctl_parse_args("mailbox create", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("mailbox create: --user is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_mailbox_create(ctl->store, user, pos[0], special, NULL, &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_mailbox_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *pos[1], *error;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("mailbox delete", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("mailbox delete: --user is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_mailbox_delete(ctl->store, user, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_mailbox_rename(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *pos[2], *error;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("mailbox rename", argc, argv, opts, pos, 2, 2) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("mailbox rename: --user is required");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_mailbox_rename(ctl->store, user, pos[0], pos[1], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

/* Open (creating if needed) the mailbox an import goes to. */
static int import_mailbox(struct ctl *ctl, const char *user, const char *name, uint64_t *id_r)
{
	struct store_mailbox_info info;
	const char *error;
	int ret = store_mailbox_open(ctl->store, user, name, &info, &error);
	if (ret == STORE_NOTFOUND) {
		ret = store_mailbox_provision_defaults(ctl->store, user, &error);
		if (ret == STORE_OK)
			ret = store_mailbox_create(ctl->store, user, name, NULL, NULL, &error);
		if (ret == STORE_EXISTS)
			ret = STORE_OK;
		if (ret == STORE_OK)
			ret = store_mailbox_open(ctl->store, user, name, &info, &error);
	}
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	*id_r = info.id;
	return CTL_OK;
}

/* How often each content has been seen so far in the source: SHA-256 ->
 * count, open addressing. */
struct seen {
	unsigned char (*keys)[32];
	uint32_t *counts;
	size_t cap, used;
};

static uint32_t seen_bump(struct seen *s, const unsigned char sha[32])
{
	if ((s->used + 1) * 2 > s->cap) {
		struct seen n = { .cap = s->cap ? s->cap * 2 : 1024 };
		n.keys = xcalloc(n.cap, 32);
		n.counts = xcalloc(n.cap, sizeof(uint32_t));
		for (size_t i = 0; i < s->cap; i++) {
			if (s->counts[i] == 0)
				continue;
			size_t h;
			memcpy(&h, s->keys[i], sizeof(h));
			for (h &= n.cap - 1; n.counts[h] != 0; h = (h + 1) & (n.cap - 1))
				;
			memcpy(n.keys[h], s->keys[i], 32);
			n.counts[h] = s->counts[i];
		}
		free(s->keys);
		free(s->counts);
		n.used = s->used;
		*s = n;
	}
	size_t h;
	memcpy(&h, sha, sizeof(h));
	for (h &= s->cap - 1; s->counts[h] != 0; h = (h + 1) & (s->cap - 1))
		if (memcmp(s->keys[h], sha, 32) == 0)
			return ++s->counts[h];
	memcpy(s->keys[h], sha, 32);
	s->used++;
	return s->counts[h] = 1;
}

struct import {
	struct ctl *ctl;
	uint64_t mailbox_id;
	struct seen seen;
	struct store_append_msg *batch;
	char **batch_data;
	size_t batch_count;
	size_t batch_bytes;
	size_t total;		/* messages in the source */
	size_t done;		/* messages looked at */
	size_t imported, skipped;
	uint64_t bytes;		/* of messages looked at */
	struct timespec start;
	const char *error;
};

static double elapsed(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int import_flush(struct import *im)
{
	if (im->batch_count == 0)
		return 0;
	uint32_t *uids = xmalloc(sizeof(uint32_t) * im->batch_count);
	int ret = store_append(im->ctl->store, im->mailbox_id, im->batch, im->batch_count, NULL,
			       uids, &im->error);
	free(uids);
	for (size_t i = 0; i < im->batch_count; i++)
		free(im->batch_data[i]);
	if (ret == STORE_OK)
		im->imported += im->batch_count;
	im->batch_count = 0;
	im->batch_bytes = 0;
	return ret == STORE_OK ? 0 : -1;
}

static void import_progress(struct import *im, bool last)
{
	double secs = elapsed(&im->start);
	double rate = secs > 0 ? (double)im->done / secs : 0;
	if (last)
		printf("import: done, %zu imported, %zu already present, %.1f MB in %.1f s "
		       "(%.0f msg/s)\n", im->imported, im->skipped, (double)im->bytes / 1e6, secs,
		       rate);
	else
		printf("import: %zu/%zu messages, %.1f MB, %.0f msg/s\n", im->done, im->total,
		       (double)im->bytes / 1e6, rate);
	fflush(stdout);
}

/* Take one message (data is malloc'ed and owned by the import from here). */
static int import_one(struct import *im, char *data, size_t size, unsigned flags, time_t date)
{
	unsigned char sha[32];
	uint64_t have;
	store_mail_sha256(data, size, sha);
	uint32_t nth = seen_bump(&im->seen, sha);
	im->done++;
	im->bytes += size;
	/* Rerun after an interruption: this content is already there (as often
	 * as the source has had it so far). */
	int ret = store_mailbox_content_count(im->ctl->store, im->mailbox_id, sha, &have,
					      &im->error);
	if (ret != STORE_OK) {
		free(data);
		return -1;
	}
	if (have >= nth) {
		im->skipped++;
		free(data);
	} else {
		struct store_append_msg *m = &im->batch[im->batch_count];
		memset(m, 0, sizeof(*m));
		m->data = data;
		m->size = size;
		m->flags = flags;
		m->internaldate = date;
		im->batch_data[im->batch_count++] = data;
		im->batch_bytes += size;
		if ((im->batch_count >= IMPORT_BATCH_MESSAGES ||
		     im->batch_bytes >= IMPORT_BATCH_BYTES) && import_flush(im) < 0)
			return -1;
	}
	if (im->done % IMPORT_PROGRESS_EVERY == 0)
		import_progress(im, false);
	return 0;
}

static int import_mbox(struct import *im, const char *path, int fd, size_t size)
{
	const char *data = "";
	if (size > 0) {
		data = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (data == MAP_FAILED) {
			ctl_error("%s: %s", path, strerror(errno));
			return -1;
		}
	}
	im->total = mbox_count(data, size);
	size_t pos = 0;
	struct mbox_msg msg;
	int r, ret = 0;
	while ((r = mbox_next(data, size, &pos, &msg)) == 1) {
		struct buf body;
		time_t date = 0;
		buf_init(&body, IMPORT_MESSAGE_MAX);
		if (mbox_unquote(msg.body, msg.body_len, &body) < 0) {
			ctl_error("%s: message at offset %zu is larger than %d bytes", path,
				  msg.offset, IMPORT_MESSAGE_MAX);
			buf_free(&body);
			ret = -1;
			break;
		}
		if (body.data == NULL)
			buf_append(&body, "", 0);
		(void)mbox_from_line_date(msg.from_line, msg.from_line_len, &date);
		if (import_one(im, body.data, body.len, 0, date) < 0) {
			ret = -1;
			break;
		}
	}
	if (r < 0) {
		ctl_error("%s: not an mbox file (no \"From \" line at offset %zu)", path, pos);
		ret = -1;
	}
	if (size > 0)
		munmap((void *)data, size);
	return ret;
}

struct maildir_file {
	char *path;
	const char *name;
};

static int maildir_cmp(const void *a, const void *b)
{
	const struct maildir_file *x = a, *y = b;
	return strcmp(x->name, y->name);
}

static int import_maildir(struct import *im, const char *path)
{
	struct maildir_file *files = NULL;
	size_t count = 0, cap = 0;
	static const char *const subdirs[] = { "cur", "new" };
	int ret = 0;
	for (size_t d = 0; d < ARRAY_SIZE(subdirs); d++) {
		char *dir = xasprintf("%s/%s", path, subdirs[d]);
		DIR *dh = opendir(dir);
		if (dh == NULL) {
			if (errno != ENOENT) {
				ctl_error("%s: %s", dir, strerror(errno));
				ret = -1;
			}
			free(dir);
			continue;
		}
		struct dirent *de;
		while ((de = readdir(dh)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (count == cap) {
				cap = cap ? cap * 2 : 256;
				files = xrealloc(files, cap * sizeof(*files));
			}
			files[count].path = xasprintf("%s/%s", dir, de->d_name);
			files[count].name = strrchr(files[count].path, '/') + 1;
			count++;
		}
		closedir(dh);
		free(dir);
	}
	/* Maildir names start with the delivery time: name order is the
	 * mailbox's order. */
	if (count > 0)
		qsort(files, count, sizeof(*files), maildir_cmp);
	im->total = count;
	for (size_t i = 0; i < count && ret == 0; i++) {
		int fd = open(files[i].path, O_RDONLY | O_CLOEXEC);
		struct stat sb;
		if (fd < 0 || fstat(fd, &sb) < 0) {
			ctl_error("%s: %s", files[i].path, strerror(errno));
			if (fd >= 0)
				close(fd);
			ret = -1;
			break;
		}
		if (!S_ISREG(sb.st_mode) || sb.st_size > IMPORT_MESSAGE_MAX) {
			ctl_error("%s: not a regular file or larger than %d bytes", files[i].path,
				  IMPORT_MESSAGE_MAX);
			close(fd);
			ret = -1;
			break;
		}
		size_t size = (size_t)sb.st_size, got = 0;
		char *data = xmalloc(size + 1);
		while (got < size) {
			ssize_t n = read(fd, data + got, size - got);
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				break;
			}
			got += (size_t)n;
		}
		close(fd);
		if (got != size) {
			ctl_error("%s: short read", files[i].path);
			free(data);
			ret = -1;
			break;
		}
		unsigned flags = 0;
		(void)mbox_maildir_flags(files[i].name, &flags);
		if (import_one(im, data, size, flags, sb.st_mtime) < 0)
			ret = -1;
	}
	for (size_t i = 0; i < count; i++)
		free(files[i].path);
	free(files);
	return ret;
}

static int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *mailbox = "INBOX", *pos[1];
	const struct ctl_opt opts[] = {
		{ "--user", &user }, { "--mailbox", &mailbox }, { NULL, NULL }
	};
	if (ctl_parse_args("import", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("import: --user is required");
	int fd = open(pos[0], O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		ctl_error("%s: %s", pos[0], strerror(errno));
		if (fd >= 0)
			close(fd);
		return CTL_ERROR;
	}
	struct import im = { .ctl = ctl };
	if (ctl_open(ctl) != CTL_OK || import_mailbox(ctl, user, mailbox, &im.mailbox_id) != CTL_OK) {
		close(fd);
		return CTL_ERROR;
	}
	im.batch = xcalloc(IMPORT_BATCH_MESSAGES, sizeof(*im.batch));
	im.batch_data = xcalloc(IMPORT_BATCH_MESSAGES, sizeof(*im.batch_data));
	clock_gettime(CLOCK_MONOTONIC, &im.start);
	int ret;
	if (S_ISDIR(sb.st_mode))
		ret = import_maildir(&im, pos[0]);
	else
		ret = import_mbox(&im, pos[0], fd, (size_t)sb.st_size);
	close(fd);
	if (ret == 0)
		ret = import_flush(&im);
	for (size_t i = 0; i < im.batch_count; i++)
		free(im.batch_data[i]);
	free(im.batch);
	free(im.batch_data);
	free(im.seen.keys);
	free(im.seen.counts);
	if (ret < 0) {
		if (im.error != NULL)
			ctl_error("import: %s", im.error);
		printf("import: stopped after %zu imported, %zu already present; rerun to "
		       "continue\n", im.imported, im.skipped);
		return CTL_ERROR;
	}
	import_progress(&im, true);
	return CTL_OK;
}

struct export_list {
	struct store_msg_meta *metas;
	size_t count, cap;
};

static void export_collect(const struct store_msg_meta *meta, void *ctx)
{
	struct export_list *l = ctx;
	if (l->count == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->metas = xrealloc(l->metas, l->cap * sizeof(*l->metas));
	}
	struct store_msg_meta *m = &l->metas[l->count++];
	*m = *meta;
	m->keywords = m->envelope = m->bodystructure = m->body = NULL;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

static int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *mailbox = "INBOX", *format = NULL, *pos[1], *error;
	const struct ctl_opt opts[] = {
		{ "--user", &user }, { "--mailbox", &mailbox }, { "--format", &format },
		{ NULL, NULL }
	};
	if (ctl_parse_args("export", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("export: --user is required");
	if (format == NULL || (strcmp(format, "mbox") != 0 && strcmp(format, "maildir") != 0))
		return ctl_usage("export: --format mbox or --format maildir is required");
	bool maildir = strcmp(format, "maildir") == 0;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_mailbox_info info;
	if (store_mailbox_open(ctl->store, user, mailbox, &info, &error) != STORE_OK)
		return ctl_store_failed(error);
	struct export_list list = { 0 };
	if (store_fetch(ctl->store, info.id, NULL, 0, 0, export_collect, &list, &error) != STORE_OK)
		return ctl_store_failed(error);

	int fd = -1, ret = CTL_OK;
	if (maildir) {
		static const char *const subdirs[] = { "", "/cur", "/new", "/tmp" };
		for (size_t i = 0; i < ARRAY_SIZE(subdirs) && ret == CTL_OK; i++) {
			char *dir = xasprintf("%s%s", pos[0], subdirs[i]);
			if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
				ctl_error("%s: %s", dir, strerror(errno));
				ret = CTL_ERROR;
			}
			free(dir);
		}
	} else {
		fd = open(pos[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			ctl_error("%s: %s", pos[0], strerror(errno));
			ret = CTL_ERROR;
		}
	}
	struct buf raw, out;
	uint64_t bytes = 0;
	buf_init(&raw, 0);
	buf_init(&out, 0);
	for (size_t i = 0; i < list.count && ret == CTL_OK; i++) {
		const struct store_msg_meta *m = &list.metas[i];
		buf_reset(&raw);
		int r = store_fetch_raw(ctl->store, info.id, m->uid, &raw, &error);
		if (r == STORE_NOTFOUND)
			continue;	/* expunged meanwhile */
		if (r != STORE_OK) {
			ret = ctl_store_failed(error);
			break;
		}
		if (raw.data == NULL)
			buf_append(&raw, "", 0);
		bytes += raw.len;
		if (!maildir) {
			buf_reset(&out);
			mbox_append_message("MAILER-DAEMON", m->internaldate, raw.data, raw.len,
					    &out);
			if (write_all(fd, out.data, out.len) < 0) {
				ctl_error("%s: %s", pos[0], strerror(errno));
				ret = CTL_ERROR;
			}
			continue;
		}
		/* uid first: name order is uid order, also for a re-import. */
		char suffix[16];
		mbox_maildir_suffix(m->flags, suffix, sizeof(suffix));
		char *base = xasprintf("%010" PRIu32 ".V%" PRIu32 ".cairn", m->uid,
				       info.uidvalidity);
		char *tmp = xasprintf("%s/tmp/%s", pos[0], base);
		char *cur = xasprintf("%s/cur/%s%s", pos[0], base, suffix);
		int mfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		struct timespec times[2] = { { m->internaldate, 0 }, { m->internaldate, 0 } };
		if (mfd < 0 || write_all(mfd, raw.data, raw.len) < 0 || futimens(mfd, times) < 0 ||
		    close(mfd) < 0 || rename(tmp, cur) < 0) {
			ctl_error("%s: %s", tmp, strerror(errno));
			ret = CTL_ERROR;
		}
		free(base);
		free(tmp);
		free(cur);
	}
	if (fd >= 0 && close(fd) < 0 && ret == CTL_OK) {
		ctl_error("%s: %s", pos[0], strerror(errno));
		ret = CTL_ERROR;
	}
	buf_free(&raw);
	buf_free(&out);
	free(list.metas);
	if (ret == CTL_OK)
		printf("export: %zu messages, %.1f MB\n", list.count, (double)bytes / 1e6);
	return ret;
}

/* Progress of `mail reindex`: a line per 1,000 blobs and at the end. */
static void reindex_progress(uint64_t done, uint64_t total, void *ctx)
{
	uint64_t *last = ctx;
	if (done == 0 || done / 1000 != *last / 1000 || done == total) {
		printf("reindex: %" PRIu64 " of %" PRIu64 " messages\n", done, total);
		fflush(stdout);
	}
	*last = done;
}

/* Extract the searchable text and preview of messages stored before
 * migration 0010 (or, with "all", of every message). SEARCH would do it
 * lazily per mailbox; this does it ahead, in batches, resumable. */
static int cmd_mail_reindex(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error;
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("mail reindex", argc, argv, opts, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (pos[0] != NULL && strcmp(pos[0], "all") != 0)
		return ctl_usage("mail reindex: the only argument is \"all\", not \"%s\"", pos[0]);
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	uint64_t done, last = 0;
	if (store_text_reindex(ctl->store, pos[0] != NULL, reindex_progress, &last, &done,
			       &error) != STORE_OK)
		return ctl_store_failed(error);
	printf("reindex: done, %" PRIu64 " messages indexed\n", done);
	return CTL_OK;
}

/* Progress of `mail reindex-sort`: a line per 1,000 blobs and at the end. */
static void reindex_sort_progress(uint64_t done, uint64_t total, void *ctx)
{
	uint64_t *last = ctx;
	if (done == 0 || done / 1000 != *last / 1000 || done == total) {
		printf("reindex-sort: %" PRIu64 " of %" PRIu64 " messages\n", done, total);
		fflush(stdout);
	}
	*last = done;
}

/* Compute again the SORT keys of messages whose keys were computed with an
 * older key scheme (message_sort_keys.key_version, migration 0032). SORT
 * and THREAD would do it lazily per mailbox; this does it ahead, in
 * batches, resumable. */
static int cmd_mail_reindex_sort(struct ctl *ctl, int argc, char **argv)
{
	const char *error;
	const struct ctl_opt opts[] = { { NULL, NULL } };
	if (ctl_parse_args("mail reindex-sort", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	uint64_t done, last = 0;
	if (store_sort_reindex(ctl->store, reindex_sort_progress, &last, &done, &error) !=
	    STORE_OK)
		return ctl_store_failed(error);
	printf("reindex-sort: done, %" PRIu64 " messages\n", done);
	return CTL_OK;
}

const struct ctl_cmd ctl_mail_commands[] = {
	{ "mail", "reindex", "[all]", cmd_mail_reindex,
	  "extract the search text of messages stored before it was kept (all: every message)" },
	{ "mail", "reindex-sort", "", cmd_mail_reindex_sort,
	  "compute again the SORT keys of messages sorted by an older key scheme" },
	{ "mailbox", "list", "--user ADDRESS", cmd_mailbox_list, "list an account's mailboxes" },
	{ "mailbox", "create", "--user ADDRESS [--special-use \\Sent] NAME", cmd_mailbox_create,
	  "create a mailbox (and missing parents)" },
	{ "mailbox", "delete", "--user ADDRESS NAME", cmd_mailbox_delete, "delete a mailbox" },
	{ "mailbox", "rename", "--user ADDRESS OLD NEW", cmd_mailbox_rename,
	  "rename a mailbox and its children" },
	{ "import", NULL, "--user ADDRESS [--mailbox NAME] PATH", cmd_import,
	  "import an mbox file or a Maildir (rerun to resume)" },
	{ "export", NULL, "--user ADDRESS [--mailbox NAME] --format mbox|maildir PATH",
	  cmd_export, "export a mailbox as mbox or Maildir" },
	{ NULL, NULL, NULL, NULL, NULL }
};
