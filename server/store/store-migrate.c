/* Schema migrations: migrations/NNNN_name.sql applied in order, each in its
 * own transaction together with its row in cairn_migrations (version, name,
 * SHA-256). An advisory lock serialises concurrent migrators; a file that
 * changed or vanished after it was applied stops everything. */
#include "autoconf.h"
#include "store-private.h"
#include "log.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define MIGRATION_MAX_SIZE (16 * 1024 * 1024)

struct migration {
	int version;
	char *name;		/* the file name, "0001_domains_accounts.sql" */
	char *sql;
	char sha256[EVP_MAX_MD_SIZE * 2 + 1];
	bool applied;
};

struct migration_set {
	struct migration *items;
	size_t count, cap;
};

static void migration_set_free(struct migration_set *set)
{
	for (size_t i = 0; i < set->count; i++) {
		free(set->items[i].name);
		free(set->items[i].sql);
	}
	free(set->items);
	set->items = NULL;
	set->count = set->cap = 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* NNNN_[a-z0-9_]+.sql with exactly four digits. Returns the version or -1. */
static int migration_name_version(const char *name)
{
	size_t len = strlen(name);
	if (len < 4 + 1 + 1 + 4)
		return -1;
	for (size_t i = 0; i < 4; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
	}
	if (name[4] != '_')
		return -1;
	for (size_t i = 5; i < len - 4; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
			return -1;
	}
	return (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 +
	       (name[3] - '0');
}

static int sha256_hex(const void *data, size_t len, char *hex, size_t hex_size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || hex_size < md_len * 2 + 1)
		return -1;
	static const char digits[] = "0123456789abcdef";
	for (unsigned int i = 0; i < md_len; i++) {
		hex[i * 2] = digits[md[i] >> 4];
		hex[i * 2 + 1] = digits[md[i] & 0xf];
	}
	hex[md_len * 2] = '\0';
	return 0;
}

/* Read one migration file whole; it must be text (no NUL bytes). */
static int read_migration(const char *dir, struct migration *m, char **error_r)
{
	char *path = xasprintf("%s/%s", dir, m->name);
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		*error_r = xasprintf("%s: cannot open: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	struct buf b;
	buf_init(&b, MIGRATION_MAX_SIZE);
	char chunk[8192];
	size_t n;
	int ret = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			*error_r = xasprintf("%s: larger than %d bytes", path, MIGRATION_MAX_SIZE);
			ret = -1;
			break;
		}
	}
	if (ret == 0 && ferror(f)) {
		*error_r = xasprintf("%s: read error: %s", path, strerror(errno));
		ret = -1;
	}
	fclose(f);
	if (ret == 0 && memchr(b.data != NULL ? b.data : "", '\0', b.len) != NULL) {
		*error_r = xasprintf("%s: contains a NUL byte", path);
		ret = -1;
	}
	if (ret == 0 && sha256_hex(b.data != NULL ? b.data : "", b.len, m->sha256,
				   sizeof(m->sha256)) < 0) {
		*error_r = xasprintf("%s: cannot compute SHA-256", path);
		ret = -1;
	}
	free(path);
	if (ret < 0) {
		buf_free(&b);
		return -1;
	}
	m->sql = b.data != NULL ? b.data : xstrdup("");
	return 0;
}

static int migration_cmp(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

/* List, validate, read and sort the directory's migration files. */
static int migrations_scan(const char *dir, struct migration_set *set, char **error_r)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		*error_r = xasprintf("%s: cannot open migrations directory: %s", dir, strerror(errno));
		return -1;
	}
	struct dirent *de;
	int ret = 0;
	while ((de = readdir(d)) != NULL) {
		if (!ends_with(de->d_name, ".sql"))
			continue;
		int version = migration_name_version(de->d_name);
		if (version < 0) {
			*error_r = xasprintf("%s/%s: bad migration file name (want NNNN_name.sql: "
					     "four digits, '_', then a-z 0-9 _)", dir, de->d_name);
			ret = -1;
			break;
		}
		if (set->count == set->cap) {
			set->cap = set->cap ? set->cap * 2 : 16;
			set->items = xrealloc(set->items, set->cap * sizeof(*set->items));
		}
		struct migration *m = &set->items[set->count++];
		memset(m, 0, sizeof(*m));
		m->version = version;
		m->name = xstrdup(de->d_name);
	}
	closedir(d);
	if (ret < 0)
		return -1;
	if (set->count > 0)
		qsort(set->items, set->count, sizeof(*set->items), migration_cmp);
	for (size_t i = 0; i < set->count; i++) {
		if (i > 0 && set->items[i].version == set->items[i - 1].version) {
			*error_r = xasprintf("%s and %s: two migrations with version %04d",
					     set->items[i - 1].name, set->items[i].name,
					     set->items[i].version);
			return -1;
		}
		if (read_migration(dir, &set->items[i], error_r) < 0)
			return -1;
	}
	return 0;
}

static struct migration *migration_find(struct migration_set *set, int version)
{
	for (size_t i = 0; i < set->count; i++) {
		if (set->items[i].version == version)
			return &set->items[i];
	}
	return NULL;
}

/* Compare what the database recorded with the files. Called with the advisory
 * lock held. Marks applied files; refuses changed, renamed, missing or
 * out-of-order ones. */
static int migrations_check(struct store *st, const char *dir, struct migration_set *set,
			    char **error_r)
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_MIGRATE_LIST, &res);
	if (ret != STORE_OK) {
		*error_r = xasprintf("reading cairn_migrations: %s", st->error);
		return -1;
	}
	int max_applied = -1;
	for (int row = 0; row < PQntuples(res); row++) {
		int version = atoi(PQgetvalue(res, row, 0));
		const char *name = PQgetvalue(res, row, 1);
		const char *sha = PQgetvalue(res, row, 2);
		struct migration *m = migration_find(set, version);
		if (m == NULL) {
			*error_r = xasprintf("%s: applied to the database but missing from %s",
					     name, dir);
			PQclear(res);
			return -1;
		}
		if (strcmp(m->name, name) != 0) {
			*error_r = xasprintf("%s: version %04d was applied as %s", m->name,
					     version, name);
			PQclear(res);
			return -1;
		}
		if (strcmp(m->sha256, sha) != 0) {
			*error_r = xasprintf("%s: changed after it was applied (sha256 %s in the "
					     "database, %s on disk)", m->name, sha, m->sha256);
			PQclear(res);
			return -1;
		}
		m->applied = true;
		if (version > max_applied)
			max_applied = version;
	}
	PQclear(res);
	for (size_t i = 0; i < set->count; i++) {
		struct migration *m = &set->items[i];
		if (!m->applied && m->version < max_applied) {
			*error_r = xasprintf("%s: not applied, but a later migration (%04d) already "
					     "is; add new migrations after the last one",
					     m->name, max_applied);
			return -1;
		}
	}
	return 0;
}

/* Line number of the server's 1-based error position, which counts
 * characters (UTF-8 sequences), not bytes. */
static unsigned line_of(const char *text, int pos)
{
	unsigned line = 1;
	int chars = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		if (++chars >= pos)
			break;
		if (*p == '\n')
			line++;
	}
	return line;
}

/* Apply one migration in its own transaction. Returns 1 applied, 0 already
 * applied by a concurrent migrator, -1 error. */
static int migration_apply(struct store *st, const char *dir, struct migration_set *set,
			   struct migration *m, char **error_r)
{
	PGresult *res = NULL;
	int ret = store_exec_trusted(st, "BEGIN", NULL);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_MIGRATE_LOCK, NULL);
	if (ret != STORE_OK) {
		*error_r = xasprintf("%s: %s", m->name, st->error);
		goto fail;
	}
	/* Someone may have applied it between our check and this lock. */
	for (size_t i = 0; i < set->count; i++)
		set->items[i].applied = false;
	if (migrations_check(st, dir, set, error_r) < 0)
		goto fail;
	if (m->applied) {
		store_exec_trusted(st, "ROLLBACK", NULL);
		return 0;
	}
	ret = store_exec_prepared(st, STMT_MIGRATE_NO_TIMEOUT, NULL);
	if (ret != STORE_OK) {
		*error_r = xasprintf("%s: %s", m->name, st->error);
		goto fail;
	}
	ret = store_exec_trusted(st, m->sql, NULL);
	if (ret != STORE_OK) {
		/* Name the line when the server told us where it choked. */
		if (st->error_position > 0)
			*error_r = xasprintf("%s:%u: %s", m->name,
					     line_of(m->sql, st->error_position), st->error);
		else
			*error_r = xasprintf("%s: %s", m->name, st->error);
		goto fail;
	}
	/* A COMMIT or ROLLBACK inside the file would break "all or nothing". */
	if (PQtransactionStatus(st->conn) != PQTRANS_INTRANS) {
		*error_r = xasprintf("%s: must not end the transaction itself (COMMIT, ROLLBACK "
				     "or a statement that cannot run in a transaction)", m->name);
		goto fail;
	}
	char version[16];
	snprintf(version, sizeof(version), "%d", m->version);
	ret = store_exec_prepared(st, STMT_MIGRATE_INSERT, NULL, version, m->name, m->sha256);
	if (ret == STORE_OK)
		ret = store_exec_trusted(st, "COMMIT", &res);
	if (ret != STORE_OK) {
		*error_r = xasprintf("%s: recording it: %s", m->name, st->error);
		goto fail;
	}
	bool rolled_back = strcmp(PQcmdStatus(res), "ROLLBACK") == 0;
	PQclear(res);
	if (rolled_back) {
		*error_r = xasprintf("%s: the transaction was rolled back", m->name);
		return -1;
	}
	m->applied = true;
	return 1;
fail:
	if (st->conn != NULL) {
		PGresult *r = PQexec(st->conn, "ROLLBACK");
		PQclear(r);
	}
	return -1;
}

int store_migrate(struct store *st, const char *dir, FILE *progress, char **error_r)
{
	struct migration_set set = { NULL, 0, 0 };
	*error_r = NULL;
	if (migrations_scan(dir, &set, error_r) < 0) {
		migration_set_free(&set);
		return -1;
	}

	/* Create the bookkeeping table and check the history under the lock. */
	int ret = store_exec_trusted(st, "BEGIN", NULL);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_MIGRATE_LOCK, NULL);
	if (ret == STORE_OK)
		ret = store_exec_prepared(st, STMT_MIGRATE_CREATE, NULL);
	if (ret != STORE_OK) {
		*error_r = xasprintf("%s", st->error);
		goto fail;
	}
	if (migrations_check(st, dir, &set, error_r) < 0)
		goto fail;
	ret = store_exec_trusted(st, "COMMIT", NULL);
	if (ret != STORE_OK) {
		*error_r = xasprintf("%s", st->error);
		goto fail;
	}

	int applied = 0, current = 0;
	for (size_t i = 0; i < set.count; i++) {
		struct migration *m = &set.items[i];
		if (m->applied) {
			current++;
			continue;
		}
		if (progress != NULL) {
			fprintf(progress, "migrate: applying %s ... ", m->name);
			fflush(progress);
		}
		uint64_t start = store_now_ms();
		int r = migration_apply(st, dir, &set, m, error_r);
		if (r < 0) {
			if (progress != NULL)
				fprintf(progress, "failed\n");
			migration_set_free(&set);
			return -1;
		}
		if (r == 0) {
			current++;
			if (progress != NULL)
				fprintf(progress, "already applied by someone else\n");
			continue;
		}
		applied++;
		log_info("store: migration=%s status=applied", m->name);
		if (progress != NULL)
			fprintf(progress, "ok (%llu ms)\n",
				(unsigned long long)(store_now_ms() - start));
	}
	if (progress != NULL) {
		fprintf(progress, "migrate: %d applied, %d already current\n", applied, current);
		fflush(progress);
	}
	migration_set_free(&set);
	return applied;
fail:
	if (st->conn != NULL) {
		PGresult *r = PQexec(st->conn, "ROLLBACK");
		PQclear(r);
	}
	migration_set_free(&set);
	return -1;
}
