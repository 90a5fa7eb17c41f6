/* The mail store against a real PostgreSQL (CAIRN_TEST_CONNINFO, migrated):
 * quota exactness and uid/modseq order under concurrent appends from several
 * connections, dedup of one message in 500 mailboxes, rename/delete rules
 * (children, INBOX), copy/move sharing blobs, expunge tombstones, and
 * STORE UNCHANGEDSINCE. Run by tests/integration/test_mail_store.py. */
#include "autoconf.h"
#include "config.h"
#include "log.h"
#include "store.h"
#include "store-acl.h"
#include "store-mail.h"

#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static const char *conninfo;
static struct config *cfg;
static PGconn *db;	/* for checks the API does not offer */

static struct store *open_store(void)
{
	return store_open(cfg);
}

/* One-value query, as a malloc'ed string ("" for no row). */
static char *sql1v(const char *fmt, va_list ap) ATTR_PRINTF(1, 0);
static char *sql1v(const char *fmt, va_list ap)
{
	char *q = xvasprintf(fmt, ap);
	PGresult *res = PQexec(db, q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK && PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("%s: %s", q, PQresultErrorMessage(res));
	char *v = xstrdup(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0
				  ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	free(q);
	return v;
}

static char *sql1(const char *fmt, ...) ATTR_PRINTF(1, 2);
static char *sql1(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *v = sql1v(fmt, ap);
	va_end(ap);
	return v;
}

static long long sql_ll(const char *fmt, ...) ATTR_PRINTF(1, 2);
static long long sql_ll(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *v = sql1v(fmt, ap);
	va_end(ap);
	long long n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

/* A fresh account with the default mailboxes; returns its address. */
static char *new_account(struct store *st)
{
	static int counter;
	const char *error;
	char *addr = xasprintf("u%d-%d@mail.test", (int)getpid(), ++counter);
	assert_int_equal(store_account_add(st, addr, "*", "", &error), STORE_OK);
	assert_int_equal(store_mailbox_provision_defaults(st, addr, &error), STORE_OK);
	/* idempotent */
	assert_int_equal(store_mailbox_provision_defaults(st, addr, &error), STORE_OK);
	return addr;
}

static uint64_t mailbox_id(struct store *st, const char *addr, const char *name)
{
	struct store_mailbox_info info;
	const char *error;
	int ret = store_mailbox_open(st, addr, name, &info, &error);
	if (ret != STORE_OK)
		fail_msg("open %s: %s", name, error);
	return info.id;
}

static char *make_message(int n, size_t body)
{
	struct buf b;
	buf_init(&b, 0);
	buf_printf(&b, "From: Sender %d <s%d@example.org>\r\nTo: ann@mail.test\r\n"
		   "Subject: message =?UTF-8?Q?n=C2=B0?= %d\r\n"
		   "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\nMessage-ID: <%d.%d@example.org>\r\n\r\n",
		   n, n, n, n, (int)getpid());
	for (size_t i = 0; i < body; i += 64)
		buf_printf(&b, "line %zu of message %d, padding padding padding\r\n", i, n);
	return b.data;
}

struct fetched {
	int n;
	uint32_t uid[4];
	char kw[4][64];
	unsigned flags[4];
	uint64_t modseq[4];
	bool envelope;
};

static void fetched_cb(const struct store_msg_meta *meta, void *ctx)
{
	struct fetched *f = ctx;
	if (f->n >= 4)
		return;
	f->uid[f->n] = meta->uid;
	snprintf(f->kw[f->n], sizeof(f->kw[0]), "%s", meta->keywords);
	f->flags[f->n] = meta->flags;
	f->modseq[f->n] = meta->modseq;
	if (meta->envelope != NULL && strstr(meta->envelope, "\"Sender 1\"") != NULL)
		f->envelope = true;
	f->n++;
}

struct changes {
	int n;
	uint32_t uid[8];
};

static void changes_cb(const struct store_msg_meta *meta, void *ctx)
{
	struct changes *c = ctx;
	if (c->n < 8)
		c->uid[c->n++] = meta->uid;
}

static int setup(void **state)
{
	const char *error;
	conninfo = getenv("CAIRN_TEST_CONNINFO");
	if (conninfo == NULL) {
		fprintf(stderr, "CAIRN_TEST_CONNINFO is not set\n");
		return -1;
	}
	log_set_level(LOG_LEVEL_WARN);
	cfg = config_defaults();
	free(cfg->store.conninfo);
	cfg->store.conninfo = xstrdup(conninfo);
	db = PQconnectdb(conninfo);
	if (PQstatus(db) != CONNECTION_OK)
		return -1;
	struct store *st = open_store();
	int ret = store_domain_add(st, "mail.test", &error);
	store_close(&st);
	return ret == STORE_OK || ret == STORE_EXISTS ? 0 : -1;
}

static int teardown(void **state)
{
	PQfinish(db);
	config_free(&cfg);
	return 0;
}

static void test_append_fetch(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	uint64_t inbox = mailbox_id(st, addr, "inbox");
	char *m[3];
	struct store_append_msg msgs[3];
	const char *kw[] = { "$Forwarded", "work" };
	for (int i = 0; i < 3; i++) {
		m[i] = make_message(i, 100 * (size_t)i);
		msgs[i] = (struct store_append_msg){ .data = m[i], .size = strlen(m[i]),
						     .internaldate = 1000000000 + i,
						     .flags = i == 1 ? STORE_FLAG_SEEN : 0,
						     .keywords = kw, .keyword_count = i == 2 ? 2 : 0 };
	}
	uint32_t uidvalidity, uids[3];
	assert_int_equal(store_append(st, inbox, msgs, 3, &uidvalidity, uids, &error), STORE_OK);
	assert_int_equal(uids[0], 1);
	assert_int_equal(uids[1], 2);
	assert_int_equal(uids[2], 3);

	struct store_mailbox_status status;
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	assert_int_equal(status.messages, 3);
	assert_int_equal(status.unseen, 2);
	assert_int_equal(status.recent, 3);
	assert_int_equal(status.uidnext, 4);
	assert_int_equal(status.uidvalidity, uidvalidity);
	assert_int_equal(status.highestmodseq, 2);
	assert_int_equal(status.size, msgs[0].size + msgs[1].size + msgs[2].size);

	uint32_t first, next;
	assert_int_equal(store_mailbox_claim_recent(st, inbox, &first, &next, &error), STORE_OK);
	assert_int_equal(first, 1);
	assert_int_equal(next, 4);
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	assert_int_equal(status.recent, 0);

	struct buf raw;
	buf_init(&raw, 0);
	assert_int_equal(store_fetch_raw(st, inbox, 3, &raw, &error), STORE_OK);
	assert_int_equal(raw.len, msgs[2].size);
	assert_memory_equal(raw.data, m[2], raw.len);
	buf_free(&raw);
	assert_int_equal(store_fetch_raw(st, inbox, 9, &raw, &error), STORE_NOTFOUND);

	char *subject = sql1("SELECT b.hdr_subject || '|' || b.hdr_date || '|' || b.lines"
			     " || '|' || (t.body LIKE '%%padding%%')"
			     " FROM mailbox_messages mm JOIN message_blobs b ON b.id = mm.blob_id"
			     " JOIN message_text t ON t.blob_id = b.id"
			     " WHERE mm.mailbox_id = %" PRIu64 " AND mm.uid = 2", inbox);
	assert_string_equal(subject, "message n\xc2\xb0 1|2003-07-01 08:52:37+00|8|true");
	free(subject);

	struct store_uid_range range = { 2, 3 };
	struct fetched f = { 0 };
	assert_int_equal(store_fetch(st, inbox, &range, 1, STORE_FETCH_ENVELOPE, fetched_cb, &f, &error),
			 STORE_OK);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.uid[0], 2);
	assert_int_equal(f.flags[0], STORE_FLAG_SEEN);
	assert_string_equal(f.kw[1], "$Forwarded work");
	assert_int_equal(f.uid[1], 3);
	assert_true(f.envelope);

	/* a bad keyword is refused, nothing is appended */
	const char *bad[] = { "has space" };
	msgs[0].keywords = bad;
	msgs[0].keyword_count = 1;
	assert_int_equal(store_append(st, inbox, msgs, 1, NULL, uids, &error), STORE_INVALID);
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	assert_int_equal(status.messages, 3);

	/* deliver by address */
	uint64_t delivered_to;
	uint32_t uid;
	assert_int_equal(store_deliver(st, addr, &msgs[1], &delivered_to, &uid, &error), STORE_OK);
	assert_int_equal(delivered_to, inbox);
	assert_int_equal(uid, 4);
	for (int i = 0; i < 3; i++)
		free(m[i]);
	free(addr);
	store_close(&st);
}

#define THREADS 6
#define PER_THREAD 30

struct worker {
	pthread_t thread;
	const char *addr;
	uint64_t mailbox;
	int index;
	int ok, overquota, other;
	uint64_t bytes;		/* appended successfully */
	uint32_t uids[PER_THREAD * 4];
	int nuids;
	bool increasing;
	char error[256];
};

static void *append_worker(void *arg)
{
	struct worker *w = arg;
	struct store *st = open_store();
	const char *error;
	w->increasing = true;
	for (int i = 0; i < PER_THREAD; i++) {
		/* distinct content, varied sizes; every 5th message shared by all */
		int n = i % 5 == 0 ? i : 1000 * (w->index + 1) + i;
		char *m = make_message(n, (size_t)(i * 37 % 900));
		struct store_append_msg msg = { .data = m, .size = strlen(m) };
		uint32_t uid;
		int ret = store_append(st, w->mailbox, &msg, 1, NULL, &uid, &error);
		if (ret == STORE_OK) {
			w->ok++;
			w->bytes += msg.size;
			if (w->nuids > 0 && uid <= w->uids[w->nuids - 1])
				w->increasing = false;
			w->uids[w->nuids++] = uid;
		} else if (ret == STORE_OVERQUOTA) {
			w->overquota++;
		} else {
			w->other++;
			snprintf(w->error, sizeof(w->error), "%s", error);
		}
		free(m);
	}
	store_close(&st);
	return NULL;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static void run_workers(struct worker *w, const char *addr, uint64_t mailbox)
{
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].addr = addr;
		w[i].mailbox = mailbox;
		w[i].index = i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, append_worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i].thread, NULL);
}

static void test_concurrent_appends_quota(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	uint64_t inbox = mailbox_id(st, addr, "INBOX");
	struct worker w[THREADS];

	/* no limit: everything goes in, usage is the exact sum */
	run_workers(w, addr, inbox);
	uint64_t bytes = 0;
	uint32_t all[THREADS * PER_THREAD];
	int n = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_string_equal(w[i].error, "");
		assert_int_equal(w[i].ok, PER_THREAD);
		assert_true(w[i].increasing);
		bytes += w[i].bytes;
		memcpy(all + n, w[i].uids, sizeof(uint32_t) * (size_t)w[i].nuids);
		n += w[i].nuids;
	}
	qsort(all, (size_t)n, sizeof(all[0]), cmp_u32);
	for (int i = 0; i < n; i++)
		assert_int_equal(all[i], (uint32_t)i + 1);	/* distinct, no gaps */
	uint64_t used_b, used_m;
	int64_t lim_b, lim_m;
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lim_b, &lim_m, &error),
			 STORE_OK);
	assert_int_equal(used_b, bytes);
	assert_int_equal(used_m, THREADS * PER_THREAD);
	assert_int_equal(lim_b, -1);
	struct store_mailbox_status status;
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	assert_int_equal(status.highestmodseq, 1 + THREADS * PER_THREAD);
	/* modseq of each message is its own append's: unique and in uid order */
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, inbox);
	assert_int_equal(sql_ll("SELECT count(*) FROM (SELECT uid, modseq, lag(modseq) OVER"
				" (ORDER BY uid) AS prev FROM mailbox_messages WHERE mailbox_id = %s)"
				" s WHERE prev IS NOT NULL AND modseq <= prev", idbuf), 0);
	/* shared contents are stored once each */
	assert_int_equal(sql_ll("SELECT count(DISTINCT blob_id) FROM mailbox_messages m JOIN"
				" mailboxes x ON x.id = m.mailbox_id JOIN accounts a ON"
				" a.id = x.account_id WHERE a.address = '%s'", addr),
			 THREADS * (PER_THREAD - PER_THREAD / 5) + PER_THREAD / 5);

	/* with a limit: room for about a third more; usage never passes it */
	uint64_t limit = used_b + bytes / 3;
	free(sql1("UPDATE accounts SET quota_bytes = %" PRIu64 " WHERE address = '%s'", limit,
		  addr));
	run_workers(w, addr, inbox);
	int ok = 0, over = 0;
	uint64_t added = 0;
	for (int i = 0; i < THREADS; i++) {
		assert_string_equal(w[i].error, "");
		ok += w[i].ok;
		over += w[i].overquota;
		added += w[i].bytes;
	}
	assert_true(over > 0);
	assert_true(ok > 0);
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lim_b, &lim_m, &error),
			 STORE_OK);
	assert_int_equal(used_b, bytes + added);
	assert_true(used_b <= limit);
	assert_int_equal(used_m, THREADS * PER_THREAD + ok);
	assert_int_equal(lim_b, (int64_t)limit);
	char *sum = sql1("SELECT sum(size) FROM mailbox_messages WHERE mailbox_id = %" PRIu64, inbox);
	assert_int_equal(strtoull(sum, NULL, 10), used_b);
	free(sum);

	/* a message limit too */
	free(sql1("UPDATE accounts SET quota_bytes = NULL, quota_messages = %" PRIu64
		  " WHERE address = '%s'", used_m, addr));
	char *m = make_message(99999, 10);
	struct store_append_msg msg = { .data = m, .size = strlen(m) };
	uint32_t uid;
	assert_int_equal(store_append(st, inbox, &msg, 1, NULL, &uid, &error), STORE_OVERQUOTA);
	assert_non_null(strstr(error, "over quota"));
	free(m);
	free(addr);
	store_close(&st);
}

static void test_dedup_500_mailboxes(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	char *m = make_message(424242, 3000);
	struct store_append_msg msg = { .data = m, .size = strlen(m) };
	uint64_t ids[500];
	for (int i = 0; i < 500; i++) {
		char name[32];
		snprintf(name, sizeof(name), "Lists/l%03d", i);
		assert_int_equal(store_mailbox_create(st, addr, name, NULL, &ids[i], &error),
				 STORE_OK);
		uint32_t uid;
		assert_int_equal(store_append(st, ids[i], &msg, 1, NULL, &uid, &error), STORE_OK);
		assert_int_equal(uid, 1);
	}
	unsigned char sha[32];
	store_mail_sha256(m, msg.size, sha);
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sha[i]);
	assert_int_equal(sql_ll("SELECT count(*) FROM message_blobs WHERE sha256 = '\\x%s'", hex), 1);
	assert_int_equal(sql_ll("SELECT refcount FROM message_blobs WHERE sha256 = '\\x%s'", hex),
			 500);
	uint64_t n;
	assert_int_equal(store_mailbox_content_count(st, ids[7], sha, &n, &error), STORE_OK);
	assert_int_equal(n, 1);
	uint64_t used_b, used_m;
	int64_t lb, lm;
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_b, 500 * msg.size);	/* quota counts every copy */
	/* deleting the references one by one removes the blob with the last */
	for (int i = 0; i < 500; i++) {
		char name[32];
		snprintf(name, sizeof(name), "Lists/l%03d", i);
		assert_int_equal(store_mailbox_delete(st, addr, name, &error), STORE_OK);
		if (i == 498)
			assert_int_equal(sql_ll("SELECT refcount FROM message_blobs"
						" WHERE sha256 = '\\x%s'", hex), 1);
	}
	assert_int_equal(sql_ll("SELECT count(*) FROM message_blobs WHERE sha256 = '\\x%s'", hex), 0);
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_b, 0);
	assert_int_equal(used_m, 0);
	free(m);
	free(addr);
	store_close(&st);
}

struct names {
	char list[64][STORE_MAILBOX_NAME_MAX + 1];
	bool noselect[64], children[64];
	uint32_t uidvalidity[64];
	int n;
};

static void collect_names(const struct store_mailbox_info *info, void *ctx)
{
	struct names *n = ctx;
	if (n->n < 64) {
		snprintf(n->list[n->n], sizeof(n->list[0]), "%s", info->name);
		n->noselect[n->n] = info->noselect;
		n->children[n->n] = info->has_children;
		n->uidvalidity[n->n] = info->uidvalidity;
		n->n++;
	}
}

static int find_name(const struct names *n, const char *name)
{
	for (int i = 0; i < n->n; i++)
		if (strcmp(n->list[i], name) == 0)
			return i;
	return -1;
}

static void test_rename_delete(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	uint64_t abc, a;
	assert_int_equal(store_mailbox_create(st, addr, "a/b/c", NULL, &abc, &error), STORE_OK);
	assert_int_equal(store_mailbox_create(st, addr, "a/b/c", NULL, NULL, &error), STORE_EXISTS);
	assert_int_equal(store_mailbox_create(st, addr, "bad//name", NULL, NULL, &error),
			 STORE_INVALID);
	assert_int_equal(store_mailbox_create(st, addr, "x", "\\Bogus", NULL, &error),
			 STORE_INVALID);
	a = mailbox_id(st, addr, "a");
	struct names before = { 0 }, after = { 0 };
	assert_int_equal(store_mailbox_list(st, addr, collect_names, &before, &error), STORE_OK);
	assert_true(before.children[find_name(&before, "a")]);
	assert_false(before.children[find_name(&before, "a/b/c")]);

	char *m = make_message(1, 10);
	struct store_append_msg msg = { .data = m, .size = strlen(m) };
	uint32_t uid;
	assert_int_equal(store_append(st, a, &msg, 1, NULL, &uid, &error), STORE_OK);

	/* rename keeps ids and uidvalidity, moves children; not under itself */
	assert_int_equal(store_mailbox_rename(st, addr, "a", "a/z", &error), STORE_INVALID);
	assert_int_equal(store_mailbox_rename(st, addr, "a", "Sent", &error), STORE_EXISTS);
	assert_int_equal(store_mailbox_rename(st, addr, "a", "x/y", &error), STORE_OK);
	assert_int_equal(store_mailbox_list(st, addr, collect_names, &after, &error), STORE_OK);
	assert_int_equal(find_name(&after, "a"), -1);
	assert_int_equal(find_name(&after, "a/b/c"), -1);
	assert_true(find_name(&after, "x") >= 0);	/* created parent */
	assert_int_equal(after.uidvalidity[find_name(&after, "x/y/b/c")],
			 before.uidvalidity[find_name(&before, "a/b/c")]);
	assert_int_equal(mailbox_id(st, addr, "x/y"), a);
	assert_int_equal(mailbox_id(st, addr, "x/y/b/c"), abc);

	/* delete with children: \Noselect, messages gone, quota back */
	assert_int_equal(store_mailbox_delete(st, addr, "x/y", &error), STORE_OK);
	struct store_mailbox_info info;
	assert_int_equal(store_mailbox_open(st, addr, "x/y", &info, &error), STORE_OK);
	assert_true(info.noselect);
	struct store_mailbox_status status;
	assert_int_equal(store_mailbox_status(st, a, &status, &error), STORE_OK);
	assert_int_equal(status.messages, 0);
	assert_int_equal(store_append(st, a, &msg, 1, NULL, &uid, &error), STORE_INVALID);
	uint64_t used_b, used_m;
	int64_t lb, lm;
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_m, 0);
	assert_int_equal(store_mailbox_delete(st, addr, "x/y", &error), STORE_INVALID);
	/* leaf delete, then the \Noselect parent without children goes too */
	assert_int_equal(store_mailbox_delete(st, addr, "x/y/b/c", &error), STORE_OK);
	assert_int_equal(store_mailbox_delete(st, addr, "x/y/b", &error), STORE_OK);
	assert_int_equal(store_mailbox_delete(st, addr, "x/y", &error), STORE_OK);
	assert_int_equal(store_mailbox_open(st, addr, "x/y", &info, &error), STORE_NOTFOUND);
	/* creating a \Noselect name again makes it selectable */
	assert_int_equal(store_mailbox_create(st, addr, "p/q", NULL, NULL, &error), STORE_OK);
	assert_int_equal(store_mailbox_delete(st, addr, "p", &error), STORE_OK);
	assert_int_equal(store_mailbox_create(st, addr, "p", NULL, NULL, &error), STORE_OK);
	assert_int_equal(store_mailbox_open(st, addr, "p", &info, &error), STORE_OK);
	assert_false(info.noselect);

	/* INBOX: cannot be deleted; renaming it moves its messages */
	assert_int_equal(store_mailbox_delete(st, addr, "Inbox", &error), STORE_INVALID);
	uint64_t inbox = mailbox_id(st, addr, "INBOX");
	assert_int_equal(store_mailbox_create(st, addr, "INBOX/keep", NULL, NULL, &error), STORE_OK);
	struct store_append_msg two[2] = { msg, msg };
	uint32_t uids[2];
	assert_int_equal(store_append(st, inbox, two, 2, NULL, uids, &error), STORE_OK);
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	uint32_t inbox_uidvalidity = status.uidvalidity;
	assert_int_equal(store_mailbox_rename(st, addr, "INBOX", "Old", &error), STORE_OK);
	assert_int_equal(mailbox_id(st, addr, "INBOX"), inbox);
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	assert_int_equal(status.messages, 0);
	assert_int_equal(status.uidvalidity, inbox_uidvalidity);
	uint64_t old = mailbox_id(st, addr, "Old");
	assert_int_equal(store_mailbox_status(st, old, &status, &error), STORE_OK);
	assert_int_equal(status.messages, 2);
	assert_int_equal(mailbox_id(st, addr, "INBOX/keep"), mailbox_id(st, addr, "inbox/keep"));
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_m, 2);

	/* subscriptions */
	assert_int_equal(store_mailbox_subscribe(st, addr, "Old", true, &error), STORE_OK);
	assert_int_equal(store_mailbox_open(st, addr, "Old", &info, &error), STORE_OK);
	assert_true(info.subscribed);
	assert_int_equal(store_mailbox_subscribe(st, addr, "Nope", true, &error), STORE_NOTFOUND);

	/* ACLs */
	assert_int_equal(store_acl_modify(st, old, "bob@mail.test", '=', "lrs", &error), STORE_OK);
	assert_int_equal(store_acl_modify(st, old, "bob@mail.test", '+', "wi", &error), STORE_OK);
	assert_int_equal(sql_ll("SELECT count(*) FROM mailbox_acl WHERE rights = '%s'", "lrswi"), 1);
	assert_int_equal(store_acl_modify(st, old, "bob@mail.test", '-', "lrswi", &error), STORE_OK);
	assert_int_equal(sql_ll("SELECT count(*) FROM mailbox_acl WHERE mailbox_id = %llu",
				(unsigned long long)old), 0);
	assert_int_equal(store_acl_delete(st, old, "bob@mail.test", &error), STORE_NOTFOUND);
	free(m);
	free(addr);
	store_close(&st);
}

static void test_copy_move_expunge(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	uint64_t inbox = mailbox_id(st, addr, "INBOX"), trash = mailbox_id(st, addr, "Trash");
	char *m[5];
	struct store_append_msg msgs[5];
	uint64_t total = 0;
	for (int i = 0; i < 5; i++) {
		m[i] = make_message(500 + i, 50 * (size_t)i);
		msgs[i] = (struct store_append_msg){ .data = m[i], .size = strlen(m[i]) };
		total += msgs[i].size;
	}
	uint32_t uids[5];
	assert_int_equal(store_append(st, inbox, msgs, 5, NULL, uids, &error), STORE_OK);

	struct store_uid_range set[2] = { { 2, 3 }, { 5, 5 } };
	struct store_copy_result copy;
	assert_int_equal(store_copy(st, inbox, trash, set, 2, false, &copy, &error), STORE_OK);
	assert_int_equal(copy.count, 3);
	assert_int_equal(copy.src[0], 2);
	assert_int_equal(copy.src[2], 5);
	assert_int_equal(copy.dst[0], 1);
	assert_int_equal(copy.dst[2], 3);
	store_copy_result_free(&copy);
	char idbuf[24];
	snprintf(idbuf, sizeof(idbuf), "%" PRIu64, inbox);
	assert_int_equal(sql_ll("SELECT count(*) FROM message_blobs b JOIN mailbox_messages mm"
				" ON mm.blob_id = b.id WHERE mm.mailbox_id = %s AND b.refcount = 2",
				idbuf), 3);
	uint64_t used_b, used_m;
	int64_t lb, lm;
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_m, 8);
	assert_int_equal(used_b, total + msgs[1].size + msgs[2].size + msgs[4].size);

	/* move: no quota change, tombstones in the source */
	struct store_mailbox_status status;
	assert_int_equal(store_mailbox_status(st, inbox, &status, &error), STORE_OK);
	uint64_t before_move = status.highestmodseq;
	struct store_uid_range one = { 1, 1 };
	assert_int_equal(store_copy(st, inbox, trash, &one, 1, true, &copy, &error), STORE_OK);
	assert_int_equal(copy.count, 1);
	assert_int_equal(copy.dst[0], 4);
	store_copy_result_free(&copy);
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_m, 8);
	/* RFC 6851 3.3 (issue 13): a MOVE into the same mailbox is allowed; uid 1
	 * is gone from INBOX by now, so nothing moves and nothing changes. */
	assert_int_equal(store_copy(st, inbox, inbox, &one, 1, true, &copy, &error), STORE_OK);
	assert_int_equal(copy.count, 0);
	store_copy_result_free(&copy);

	struct changes ch = { 0 };
	uint32_t *vanished;
	size_t nv;
	assert_int_equal(store_changes_since(st, inbox, before_move, changes_cb, &ch, &vanished, &nv,
					     &error), STORE_OK);
	assert_int_equal(ch.n, 0);
	assert_int_equal(nv, 1);
	assert_int_equal(vanished[0], 1);
	free(vanished);

	/* expunge only takes \Deleted messages */
	struct store_flags_result fr;
	struct store_uid_range del = { 2, 4 };
	assert_int_equal(store_flags_update(st, inbox, &del, 1, STORE_FLAGS_ADD, STORE_FLAG_DELETED,
					    NULL, 0, STORE_NO_UNCHANGEDSINCE, &fr, &error), STORE_OK);
	assert_int_equal(fr.modified_count, 3);
	uint64_t flagged_at = fr.modseq;
	store_flags_result_free(&fr);
	uint32_t *gone;
	size_t ngone;
	struct store_uid_range some = { 3, 5 };
	assert_int_equal(store_expunge(st, inbox, &some, 1, &gone, &ngone, &error), STORE_OK);
	assert_int_equal(ngone, 2);
	assert_int_equal(gone[0], 3);
	assert_int_equal(gone[1], 4);
	free(gone);
	assert_int_equal(store_expunge(st, inbox, NULL, 0, &gone, &ngone, &error), STORE_OK);
	assert_int_equal(ngone, 1);
	assert_int_equal(gone[0], 2);
	free(gone);
	assert_int_equal(store_expunge(st, inbox, NULL, 0, &gone, &ngone, &error), STORE_OK);
	assert_int_equal(ngone, 0);
	assert_int_equal(store_quota_get(st, addr, &used_b, &used_m, &lb, &lm, &error), STORE_OK);
	assert_int_equal(used_m, 5);
	ch.n = 0;
	assert_int_equal(store_changes_since(st, inbox, flagged_at, changes_cb, &ch, &vanished, &nv,
					     &error), STORE_OK);
	assert_int_equal(nv, 3);
	assert_int_equal(vanished[0], 2);
	assert_int_equal(vanished[2], 4);
	free(vanished);
	uint32_t *left;
	size_t nleft;
	assert_int_equal(store_uids(st, inbox, &left, &nleft, &error), STORE_OK);
	assert_int_equal(nleft, 1);
	assert_int_equal(left[0], 5);
	free(left);
	for (int i = 0; i < 5; i++)
		free(m[i]);
	free(addr);
	store_close(&st);
}

static void test_flags_unchangedsince(void **state)
{
	struct store *st = open_store();
	const char *error;
	char *addr = new_account(st);
	uint64_t inbox = mailbox_id(st, addr, "INBOX");
	char *m = make_message(7, 10);
	struct store_append_msg msgs[3];
	for (int i = 0; i < 3; i++)
		msgs[i] = (struct store_append_msg){ .data = m, .size = strlen(m) };
	uint32_t uids[3];
	assert_int_equal(store_append(st, inbox, msgs, 3, NULL, uids, &error), STORE_OK);
	struct store_flags_result fr;
	const char *kw[] = { "b", "a", "b" };
	struct store_uid_range one = { 1, 1 };
	assert_int_equal(store_flags_update(st, inbox, &one, 1, STORE_FLAGS_ADD,
					    STORE_FLAG_FLAGGED, kw, 3, STORE_NO_UNCHANGEDSINCE, &fr,
					    &error), STORE_OK);
	assert_int_equal(fr.modified_count, 1);
	assert_int_equal(fr.modseq, 3);
	store_flags_result_free(&fr);
	/* no change: no new modseq */
	assert_int_equal(store_flags_update(st, inbox, &one, 1, STORE_FLAGS_ADD,
					    STORE_FLAG_FLAGGED, kw, 1, STORE_NO_UNCHANGEDSINCE, &fr,
					    &error), STORE_OK);
	assert_int_equal(fr.modified_count, 0);
	assert_int_equal(fr.modseq, 3);
	store_flags_result_free(&fr);
	/* UNCHANGEDSINCE 2: uid 1 (modseq 3) fails, 2 and 3 change */
	assert_int_equal(store_flags_update(st, inbox, NULL, 0, STORE_FLAGS_ADD, STORE_FLAG_SEEN,
					    NULL, 0, 2, &fr, &error), STORE_OK);
	assert_int_equal(fr.modified_count, 2);
	assert_int_equal(fr.modified[0], 2);
	assert_int_equal(fr.modified[1], 3);
	assert_int_equal(fr.failed_count, 1);
	assert_int_equal(fr.failed[0], 1);
	assert_int_equal(fr.modseq, 4);
	store_flags_result_free(&fr);
	/* -FLAGS and FLAGS on keywords */
	const char *rm[] = { "b" };
	assert_int_equal(store_flags_update(st, inbox, &one, 1, STORE_FLAGS_REMOVE, 0, rm, 1,
					    STORE_NO_UNCHANGEDSINCE, &fr, &error), STORE_OK);
	assert_int_equal(fr.modified_count, 1);
	store_flags_result_free(&fr);
	struct fetched r = { 0 };
	assert_int_equal(store_fetch(st, inbox, &one, 1, 0, fetched_cb, &r, &error), STORE_OK);
	assert_string_equal(r.kw[0], "a");
	assert_int_equal(r.flags[0], STORE_FLAG_FLAGGED);
	assert_int_equal(r.modseq[0], 5);
	const char *set[] = { "z", "y" };
	assert_int_equal(store_flags_update(st, inbox, &one, 1, STORE_FLAGS_REPLACE,
					    STORE_FLAG_SEEN | STORE_FLAG_ANSWERED, set, 2,
					    STORE_NO_UNCHANGEDSINCE, &fr, &error), STORE_OK);
	store_flags_result_free(&fr);
	r.n = 0;
	assert_int_equal(store_fetch(st, inbox, &one, 1, 0, fetched_cb, &r, &error), STORE_OK);
	assert_string_equal(r.kw[0], "y z");
	assert_int_equal(r.flags[0], STORE_FLAG_SEEN | STORE_FLAG_ANSWERED);
	free(m);
	free(addr);
	store_close(&st);
}

/* tests/bench/bench-import.py: one message delivered to n mailboxes, one
 * transaction each (like n local recipients delivered one by one). Prints
 * figures, asserts nothing. */
static int bench_dedup(int n)
{
	const char *error;
	if (setup(NULL) < 0)
		return 1;
	struct store *st = open_store();
	char *addr = new_account(st);
	uint64_t *ids = xcalloc((size_t)n, sizeof(*ids));
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "bench/%05d", i);
		if (store_mailbox_create(st, addr, name, NULL, &ids[i], &error) != STORE_OK) {
			fprintf(stderr, "create: %s\n", error);
			return 1;
		}
	}
	char *m = make_message(777, 20000);
	struct store_append_msg msg = { .data = m, .size = strlen(m) };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		uint32_t uid;
		if (store_append(st, ids[i], &msg, 1, NULL, &uid, &error) != STORE_OK) {
			fprintf(stderr, "append: %s\n", error);
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	char *blobs = sql1("SELECT count(DISTINCT b.id) || ' ' || max(b.refcount) FROM message_blobs b"
			   " JOIN mailbox_messages mm ON mm.blob_id = b.id JOIN mailboxes x"
			   " ON x.id = mm.mailbox_id JOIN accounts a ON a.id = x.account_id"
			   " WHERE a.address = '%s'", addr);
	printf("dedup: 1 message of %zu bytes to %d mailboxes in %.2f s: %.0f msg/s;"
	       " blob rows, refcount: %s\n", msg.size, n, secs, n / secs, blobs);
	free(blobs);
	free(m);
	free(ids);
	free(addr);
	store_close(&st);
	teardown(NULL);
	return 0;
}

/* argv[1], if given, runs only the tests whose name matches it (cmocka
 * filter syntax), so pytest can report each test on its own;
 * "--bench-dedup N" runs the benchmark above instead. */
int main(int argc, char **argv)
{
	if (argc > 2 && strcmp(argv[1], "--bench-dedup") == 0)
		return bench_dedup(atoi(argv[2]) > 0 ? atoi(argv[2]) : 1000);
	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_fetch),
		cmocka_unit_test(test_concurrent_appends_quota),
		cmocka_unit_test(test_dedup_500_mailboxes),
		cmocka_unit_test(test_rename_delete),
		cmocka_unit_test(test_copy_move_expunge),
		cmocka_unit_test(test_flags_unchangedsince),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
