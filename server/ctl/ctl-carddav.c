/* cairnctl commands for address books: list a user's books with their sizes,
 * import a .vcf file (every card checked first: nothing is stored unless all
 * are valid; a card with the UID of a stored one replaces it; cards without
 * a UID get one), export a book as one .vcf, and rewrite the global address
 * list from the directory (also run by `directory sync`). */
#include "autoconf.h"
#include "carddav.h"
#include "config.h"
#include "ctl.h"
#include "directory.h"
#include "log.h"
#include "store.h"
#include "vcard_gal.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOME "addressbooks"

int ctl_gal_sync(struct ctl *ctl, struct dir_handle *h, const char **error_r)
{
	struct store_carddav_gal_stats st;
	int ret = carddav_gal_sync(ctl->cfg, ctl->store, h, stdout, &st, error_r);
	if (ret != STORE_OK)
		return ret == STORE_TEMPFAIL ? DIR_TEMPFAIL : DIR_ERROR;
	printf("gal: %u entries: %u added, %u changed, %u removed\n",
	       st.added + st.changed + st.unchanged, st.added, st.changed, st.removed);
	fflush(stdout);
	return DIR_OK;
}

/* ---- list ---- */

struct list_row {
	struct store_dav_coll *v;
	size_t n;
};

static void list_cb(const struct store_dav_coll *coll, void *vctx)
{
	struct list_row *l = vctx;
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = *coll;
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL;
	const struct ctl_opt opts[] = { { "--user", &user }, { NULL, NULL } };
	if (ctl_parse_args("addressbook list", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("addressbook list needs --user ADDRESS");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct list_row l = { NULL, 0 };
	const char *error = NULL;
	int ret = store_dav_coll_list(ctl->store, user, HOME, list_cb, &l, &error);
	if (ret != STORE_OK) {
		free(l.v);
		return ctl_store_failed(error);
	}
	printf("name\tkind\tcards\tbytes\n");
	for (size_t i = 0; i < l.n; i++) {
		struct store_dav_coll c = l.v[i];
		if (strcmp(c.kind, "gal") == 0) {
			struct store_dav_coll shared;
			if (store_carddav_gal_coll(ctl->store, false, &shared, &error) == STORE_OK)
				c.id = shared.id;
		}
		uint64_t bytes = 0, count = 0;
		ret = store_dav_coll_usage(ctl->store, c.id, &bytes, &count, &error);
		if (ret != STORE_OK) {
			free(l.v);
			return ctl_store_failed(error);
		}
		printf("%s\t%s\t%" PRIu64 "\t%" PRIu64 "\n", c.name, c.kind, count, bytes);
	}
	free(l.v);
	return CTL_OK;
}

/* ---- import ---- */

static int read_all(const char *path, struct buf *out, size_t max)
{
	int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ctl_error("%s: cannot open", path);
		return -1;
	}
	buf_init(out, max);
	char tmp[65536];
	ssize_t n;
	int ret = 0;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0) {
		if (buf_append(out, tmp, (size_t)n) < 0) {
			ctl_error("%s: larger than %zu bytes", path, max);
			ret = -1;
			break;
		}
	}
	if (n < 0) {
		ctl_error("%s: read error", path);
		ret = -1;
	}
	if (fd != 0)
		close(fd);
	buf_append(out, "", 0);
	return ret;
}

/* A random (version 4) UUID for a card without a UID. */
static char *new_uuid(void)
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, sizeof(b)) != (ssize_t)sizeof(b))
		fatal("cairnctl: cannot read /dev/urandom");
	close(fd);
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	return xasprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
			 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11],
			 b[12], b[13], b[14], b[15]);
}

struct import_card {
	char *data;
	size_t len;
	char *uid;
	char *summary;
};

struct import_tx {
	const char *user;
	const char *book;
	struct import_card *cards;
	size_t n;
	unsigned added, replaced;
};

static int import_tx(struct store *st, void *vctx, const char **error_r)
{
	struct import_tx *t = vctx;
	t->added = t->replaced = 0;
	struct store_dav_coll coll;
	int ret = store_dav_coll_get(st, t->user, HOME, t->book, true, &coll, error_r);
	if (ret == STORE_NOTFOUND) {
		ret = store_dav_coll_create(st, t->user, HOME, t->book, "addressbook", &coll, error_r);
		if (ret == STORE_NOTFOUND) {
			*error_r = "no such account";
			return STORE_NOTFOUND;
		}
	}
	if (ret != STORE_OK)
		return ret;
	if (strcmp(coll.kind, "addressbook") != 0) {
		*error_r = "that collection is not an address book of the user's";
		return STORE_INVALID;
	}
	struct store_carddav_gal_obj *objs = xcalloc(t->n + 1, sizeof(*objs));
	char **names = xcalloc(t->n + 1, sizeof(char *));
	for (size_t i = 0; i < t->n && ret == STORE_OK; i++) {
		struct import_card *c = &t->cards[i];
		char existing[STORE_DAV_NAME_MAX + 1];
		ret = store_dav_obj_uid_taken(st, coll.id, c->uid, "", existing, error_r);
		if (ret == STORE_OK) {
			names[i] = xstrdup(existing);
			t->replaced++;
		} else if (ret == STORE_NOTFOUND) {
			names[i] = vcard_gal_object_name(c->uid);
			t->added++;
			ret = STORE_OK;
		}
		objs[i] = (struct store_carddav_gal_obj){ names[i], c->data, c->len, c->uid,
							  c->summary };
	}
	struct store_carddav_gal_stats stats;
	if (ret == STORE_OK)
		ret = store_carddav_put_many(st, &coll, objs, t->n, &stats, error_r);
	for (size_t i = 0; i < t->n; i++)
		free(names[i]);
	free(names);
	free(objs);
	return ret;
}

static int cmd_import(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *book = "default", *pos[1];
	const struct ctl_opt opts[] = { { "--user", &user }, { "--book", &book }, { NULL, NULL } };
	if (ctl_parse_args("addressbook import", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("addressbook import needs --user ADDRESS");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct buf in;
	if (read_all(pos[0], &in, 1024 * 1024 * 1024) < 0) {
		buf_free(&in);
		return CTL_ERROR;
	}
	struct vcard_limits lim;
	carddav_limits(ctl->cfg, &lim);
	lim.max_size = in.len + 1;
	lim.max_lines = in.len + 1;
	lim.max_cards = in.len + 1;
	struct vcard **cards = NULL;
	size_t n = 0;
	struct vcard_error err;
	if (vcard_parse_multi(in.data, in.len, &lim, &cards, &n, &err) < 0) {
		ctl_error("%s: line %zu: %s (nothing imported)", pos[0], err.line, err.msg);
		buf_free(&in);
		return CTL_ERROR;
	}
	buf_free(&in);
	struct import_tx t = { user, book, xcalloc(n, sizeof(struct import_card)), n, 0, 0 };
	int bad = 0;
	size_t max = (size_t)ctl->cfg->http.dav_max_resource_size;
	for (size_t i = 0; i < n; i++) {
		struct vcard *c = cards[i];
		const char *verr;
		if (vcard_validate(c, 0, &verr) < 0) {
			ctl_error("%s: card %zu: %s", pos[0], i + 1, verr);
			bad++;
			continue;
		}
		long u = vcard_find(c, "UID", 0);
		if (u < 0 || c->props[u].value[0] == '\0') {
			char *uuid = new_uuid();
			if (u >= 0)
				vcard_prop_set_value(&c->props[u], uuid);
			else
				vcard_add(c, NULL, "UID", uuid);
			free(uuid);
		}
		struct vcard_index idx;
		vcard_index_build(c, &idx);
		struct buf b;
		buf_init(&b, 0);
		vcard_serialize(c, &b);
		if (b.len > max || strlen(idx.uid) > 255) {
			ctl_error("%s: card %zu: larger than [http] dav_max_resource_size or UID too long",
				  pos[0], i + 1);
			bad++;
			buf_free(&b);
			vcard_index_free(&idx);
			continue;
		}
		for (size_t k = 0; k < i; k++) {
			if (t.cards[k].uid != NULL && strcmp(t.cards[k].uid, idx.uid) == 0) {
				ctl_error("%s: card %zu: UID %s given twice", pos[0], i + 1, idx.uid);
				bad++;
				break;
			}
		}
		t.cards[i].data = b.data;
		t.cards[i].len = b.len;
		t.cards[i].uid = idx.uid;
		idx.uid = NULL;
		t.cards[i].summary = carddav_summary(c);
		vcard_index_free(&idx);
	}
	vcard_free_array(&cards, n);
	int ret = CTL_ERROR;
	if (bad > 0) {
		ctl_error("%d of %zu cards refused: nothing imported", bad, n);
	} else {
		const char *error = NULL;
		int sret = store_tx(ctl->store, import_tx, &t, &error);
		if (sret == STORE_OK) {
			printf("imported %zu cards into %s: %u added, %u replaced\n", n, book, t.added,
			       t.replaced);
			ret = CTL_OK;
		} else {
			ctl_store_failed(error);
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(t.cards[i].data);
		free(t.cards[i].uid);
		free(t.cards[i].summary);
	}
	free(t.cards);
	return ret;
}

/* ---- export ---- */

static void export_cb(const struct store_dav_obj *obj, void *vctx)
{
	(void)vctx;
	fwrite(obj->data, 1, obj->len, stdout);
	if (obj->len > 0 && obj->data[obj->len - 1] != '\n')
		fputs("\r\n", stdout);
}

static int cmd_export(struct ctl *ctl, int argc, char **argv)
{
	const char *user = NULL, *book = "default";
	const struct ctl_opt opts[] = { { "--user", &user }, { "--book", &book }, { NULL, NULL } };
	if (ctl_parse_args("addressbook export", argc, argv, opts, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (user == NULL)
		return ctl_usage("addressbook export needs --user ADDRESS");
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_dav_coll coll;
	const char *error = NULL;
	int ret = store_dav_coll_get(ctl->store, user, HOME, book, false, &coll, &error);
	if (ret == STORE_NOTFOUND) {
		ctl_error("%s has no address book %s", user, book);
		return CTL_ERROR;
	}
	if (ret == STORE_OK && strcmp(coll.kind, "gal") == 0) {
		struct store_dav_coll shared;
		ret = store_carddav_gal_coll(ctl->store, false, &shared, &error);
		coll.id = shared.id;
	}
	if (ret == STORE_OK)
		ret = store_dav_obj_list(ctl->store, coll.id, NULL, 0, true, export_cb, NULL, &error);
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	return fflush(stdout) == 0 ? CTL_OK : CTL_ERROR;
}

/* ---- the GAL ---- */

static int cmd_gal_sync(struct ctl *ctl, int argc, char **argv)
{
	if (ctl_parse_args("addressbook gal-sync", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	const char *error = NULL;
	struct directory *dir = dir_create(ctl->cfg, &error);
	if (dir == NULL) {
		ctl_error("%s", error);
		return CTL_ERROR;
	}
	struct dir_handle *h = dir_handle_create(dir, ctl->store);
	int ret = ctl_gal_sync(ctl, h, &error);
	dir_handle_destroy(&h);
	dir_destroy(&dir);
	if (ret == DIR_OK)
		return CTL_OK;
	ctl_error("%s", error != NULL ? error : "GAL sync failed");
	return ret == DIR_TEMPFAIL ? 75 : CTL_ERROR;
}

const struct ctl_cmd ctl_carddav_commands[] = {
	{ "addressbook", "list", "--user ADDRESS", cmd_list,
	  "list a user's address books with their cards and bytes" },
	{ "addressbook", "import", "--user ADDRESS [--book NAME] FILE.vcf|-", cmd_import,
	  "import vCards (3.0/4.0) into a book (default \"default\"); same UID replaces" },
	{ "addressbook", "export", "--user ADDRESS [--book NAME]", cmd_export,
	  "write a book's vCards to stdout as one .vcf" },
	{ "addressbook", "gal-sync", "", cmd_gal_sync,
	  "rewrite the global address list from the directory" },
	{ NULL, NULL, NULL, NULL, NULL }
};
