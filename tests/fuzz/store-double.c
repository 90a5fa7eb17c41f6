/* Store and directory double for the session fuzz targets: link-time
 * replacements of exactly the store_*, dir_* and store-jobs functions that
 * the gateways (and server/deliver/deliver.c, linked for real) call, over a
 * small in-memory model reset before every input:
 *   accounts u@fuzz.test (password "p", the one that can log in),
 *   o@fuzz.test (shares INBOX and Projects with u) and public@ (Shared/News);
 *   u's INBOX holds four messages, Sent, Drafts, Trash, Archive, Archive/2024.
 * Envelope and BODYSTRUCTURE come from the real proto/mime code, as the
 * real store computes them. Names containing "tempfail" (and every call
 * while failure injection is on) answer STORE_TEMPFAIL / DIR_TEMPFAIL;
 * unknown@ and full@ addresses give NOTFOUND and OVERQUOTA. Single-threaded
 * (the harness runs jobs on the loop thread), deterministic, bounded. */
#include "autoconf.h"
#include "session-harness.h"
#include "directory.h"
#include "mime.h"
#include "store-acl.h"
#include "store-deliver.h"
#include "store-jobs.h"
#include "store-mail-search.h"
#include "store-mail-sort.h"
#include "store-mail.h"
#include "store-metadata.h"
#include "store-notify.h"
#include "store-pop3.h"
#include "store-queue.h"
#include "store-quota.h"
#include "store-urlauth.h"
#include "store.h"
#include "imap_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BOXES 48
#define MAX_MSGS 48
#define MAX_GONE 128
#define MAX_ACL 6
#define MAX_META 32
#define MAX_BYTES (2 * 1024 * 1024)	/* all message data: then OVERQUOTA */

struct store { int unused; };
struct dir_handle { int unused; };
static struct store the_store;
static struct dir_handle the_dir;

static const char *const accounts[] = { NULL, "u@fuzz.test", "o@fuzz.test", "public@" };
#define NACCOUNTS 4

struct dmsg {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	bool reader_seen;	/* u's own \Seen on another's mailbox */
	char keywords[128];
	time_t idate;
	char *data;
	size_t size;
	char *envelope, *bodystructure, *body;	/* computed on first FETCH */
};

struct dacl {
	char id[64];
	char rights[16];
};

struct dbox {
	bool used;
	uint64_t id;
	unsigned owner;		/* index into accounts */
	char name[STORE_MAILBOX_NAME_MAX + 1];
	char special[16];
	bool subscribed;	/* by the owner */
	bool u_subscribed;	/* by u, when not the owner */
	bool noselect;
	uint32_t uidvalidity, uidnext, first_recent;
	uint64_t hms;
	struct dmsg msgs[MAX_MSGS];
	size_t n;
	struct { uint32_t uid; uint64_t modseq; } gone[MAX_GONE];
	size_t ngone;
	struct dacl acl[MAX_ACL];
	size_t nacl;
};

struct dmeta {
	uint64_t mailbox_id;
	char name[128];
	char *value;
	size_t len;
};

static struct dbox boxes[MAX_BOXES];
static uint64_t next_box_id;
static struct dmeta metas[MAX_META];
static size_t total_bytes;
static int64_t quota_limit_bytes[NACCOUNTS], quota_limit_msgs[NACCOUNTS];
static uint64_t auth_delay;
static unsigned auth_failures;
static bool failing;
static char pop3_holder[64];
static bool pop3_locked;
static bool pop3_commit_failed;	/* finding 1: the lock outlives a failed UPDATE */
static uint64_t pop3_last_login;

static const char msg1[] =
	"Return-Path: <ann@example.test>\r\n"
	"From: Ann Example <ann@example.test>\r\n"
	"To: u@fuzz.test\r\n"
	"Subject: Hello there\r\n"
	"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n"
	"Message-ID: <1@example.test>\r\n"
	"\r\n"
	"Hello,\r\n.leading dot\r\nbye\r\n";
static const char msg2[] =
	"From: =?UTF-8?B?QmrDtnJu?= <bjorn@example.test>\r\n"
	"To: u@fuzz.test, o@fuzz.test\r\n"
	"Cc: team@example.test\r\n"
	"Subject: =?ISO-8859-1?Q?R=E9union?= report\r\n"
	"Date: Tue, 8 Dec 2026 11:30:00 +0100\r\n"
	"Message-ID: <2@example.test>\r\n"
	"In-Reply-To: <1@example.test>\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
	"\r\n"
	"preamble\r\n"
	"--b1\r\n"
	"Content-Type: text/plain; charset=utf-8\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"caf=C3=A9 =\r\nsoft break\r\n"
	"--b1\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"From: inner@example.test\r\nSubject: inner\r\n\r\ninner body\r\n"
	"--b1\r\n"
	"Content-Type: application/octet-stream; name=\"a.bin\"\r\n"
	"Content-Disposition: attachment; filename=\"a.bin\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"AAECAwQFBgcICQ==\r\n"
	"--b1--\r\n"
	"epilogue\r\n";
static const char msg3[] =
	"From: carol@example.test\n"
	"To: u@fuzz.test\n"
	"Subject: LF only, 8bit: caf\xc3\xa9\n"
	"Date: Wed, 9 Dec 2026 12:00:00 -0500\n"
	"Content-Type: text/html; charset=utf-8\n"
	"\n"
	"<p>hi <b>there</b></p>\n";
static const char msg4[] =
	"From: dave@example.test\r\n"
	"Subject: Re: Hello there\r\n"
	"References: <1@example.test> <2@example.test>\r\n"
	"Content-Type: multipart/alternative; boundary=x\r\n"
	"\r\n"
	"--x\r\nContent-Type: text/plain\r\n\r\nplain\r\n"
	"--x\r\nContent-Type: text/html\r\n\r\n<i>html</i>\r\n"
	"--x--\r\n";

static int fail_with(const char **error_r, int r, const char *why)
{
	if (error_r != NULL)
		*error_r = why;
	return r;
}

#define TEMPFAIL(e) fail_with((e), STORE_TEMPFAIL, "fuzz double: database unavailable")

static bool tempfail_name(const char *s)
{
	if (failing)
		return true;
	if (s == NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++)
		if (str_ncasecmp(p, "tempfail", 8) == 0)
			return true;
	return false;
}

static unsigned account_index(const char *address)
{
	if (address == NULL)
		return 0;
	for (unsigned i = 1; i < NACCOUNTS; i++)
		if (str_casecmp(address, accounts[i]) == 0)
			return i;
	return 0;
}

/* ---- the model ---- */

static void msg_clear(struct dmsg *m)
{
	free(m->data);
	free(m->envelope);
	free(m->bodystructure);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

static struct dbox *box_by_id(uint64_t id)
{
	for (size_t i = 0; i < MAX_BOXES; i++)
		if (boxes[i].used && boxes[i].id == id)
			return &boxes[i];
	return NULL;
}

static struct dbox *box_by_name(unsigned owner, const char *name)
{
	for (size_t i = 0; i < MAX_BOXES; i++)
		if (boxes[i].used && boxes[i].owner == owner && strcmp(boxes[i].name, name) == 0)
			return &boxes[i];
	return NULL;
}

static struct dbox *box_new(unsigned owner, const char *name, const char *special)
{
	for (size_t i = 0; i < MAX_BOXES; i++) {
		struct dbox *b = &boxes[i];
		if (b->used)
			continue;
		memset(b, 0, sizeof(*b));
		b->used = true;
		b->id = ++next_box_id;
		b->owner = owner;
		snprintf(b->name, sizeof(b->name), "%s", name);
		snprintf(b->special, sizeof(b->special), "%s", special != NULL ? special : "");
		b->subscribed = true;
		b->uidvalidity = 1000 + (uint32_t)b->id;
		b->uidnext = 1;
		b->first_recent = 1;
		b->hms = 1;
		return b;
	}
	return NULL;
}

static void box_free(struct dbox *b)
{
	for (size_t i = 0; i < b->n; i++) {
		total_bytes -= b->msgs[i].size;
		msg_clear(&b->msgs[i]);
	}
	b->n = 0;
	b->used = false;
}

static int box_add(struct dbox *b, const char *data, size_t size, unsigned flags,
		   const char *keywords, time_t idate, uint32_t *uid_r)
{
	if (b->n >= MAX_MSGS || total_bytes + size > MAX_BYTES)
		return STORE_OVERQUOTA;
	struct dmsg *m = &b->msgs[b->n++];
	memset(m, 0, sizeof(*m));
	m->uid = b->uidnext++;
	m->modseq = ++b->hms;
	m->flags = flags & STORE_FLAGS_ALL;
	snprintf(m->keywords, sizeof(m->keywords), "%s", keywords != NULL ? keywords : "");
	m->idate = idate != 0 ? idate : 1796600000 + (time_t)m->uid * 3600;
	m->data = xmalloc(size + 1);
	memcpy(m->data, data, size);
	m->data[size] = '\0';
	m->size = size;
	total_bytes += size;
	if (uid_r != NULL)
		*uid_r = m->uid;
	return STORE_OK;
}

static void acl_set(struct dbox *b, const char *id, const char *rights)
{
	for (size_t i = 0; i < b->nacl; i++)
		if (strcmp(b->acl[i].id, id) == 0) {
			snprintf(b->acl[i].rights, sizeof(b->acl[i].rights), "%s", rights);
			return;
		}
	if (b->nacl < MAX_ACL) {
		snprintf(b->acl[b->nacl].id, sizeof(b->acl[0].id), "%s", id);
		snprintf(b->acl[b->nacl].rights, sizeof(b->acl[0].rights), "%s", rights);
		b->nacl++;
	}
}

void store_double_clear(void)
{
	for (size_t i = 0; i < MAX_BOXES; i++)
		if (boxes[i].used)
			box_free(&boxes[i]);
	for (size_t i = 0; i < MAX_META; i++) {
		free(metas[i].value);
		memset(&metas[i], 0, sizeof(metas[i]));
	}
}

void store_double_reset(void)
{
	store_double_clear();
	next_box_id = 0;
	total_bytes = 0;
	auth_failures = 0;
	failing = false;
	pop3_locked = false;
	pop3_commit_failed = false;
	pop3_holder[0] = '\0';
	pop3_last_login = 0;
	for (unsigned i = 0; i < NACCOUNTS; i++) {
		quota_limit_bytes[i] = i == 1 ? 1024 * 1024 : -1;
		quota_limit_msgs[i] = -1;
	}
	struct dbox *in = box_new(1, "INBOX", NULL);
	box_add(in, msg1, sizeof(msg1) - 1, STORE_FLAG_SEEN, "", 0, NULL);
	box_add(in, msg2, sizeof(msg2) - 1, STORE_FLAG_FLAGGED, "$Forwarded work", 0, NULL);
	box_add(in, msg3, sizeof(msg3) - 1, 0, "", 0, NULL);
	box_add(in, msg4, sizeof(msg4) - 1, STORE_FLAG_DELETED, "", 0, NULL);
	in->first_recent = 3;
	struct dbox *sent = box_new(1, "Sent", "\\Sent");
	box_add(sent, msg1, sizeof(msg1) - 1, STORE_FLAG_SEEN, "", 0, NULL);
	box_new(1, "Drafts", "\\Drafts");
	box_new(1, "Trash", "\\Trash");
	box_new(1, "Archive", "\\Archive");
	struct dbox *arch = box_new(1, "Archive/2024", NULL);
	box_add(arch, msg4, sizeof(msg4) - 1, STORE_FLAG_SEEN | STORE_FLAG_ANSWERED, "", 0, NULL);
	struct dbox *oin = box_new(2, "INBOX", NULL);
	box_add(oin, msg2, sizeof(msg2) - 1, 0, "", 0, NULL);
	acl_set(oin, "u@fuzz.test", "lrswi");
	struct dbox *proj = box_new(2, "Projects", NULL);
	box_add(proj, msg3, sizeof(msg3) - 1, STORE_FLAG_SEEN, "", 0, NULL);
	acl_set(proj, "anyone", "lr");
	acl_set(proj, "-u@fuzz.test", "r");
	struct dbox *news = box_new(3, "News", NULL);
	box_add(news, msg1, sizeof(msg1) - 1, 0, "", 0, NULL);
	acl_set(news, "anyone", "lrs");
	acl_set(news, "u@fuzz.test", "lrswipkxtea");
}

void store_double_set_auth_delay(uint64_t ms)
{
	auth_delay = ms;
}

void store_double_set_failing(bool on)
{
	failing = on;
}

/* ---- notifications ---- */

struct store_notify {
	struct store_notify_sub *subs;
};
static struct store_notify the_notify;

struct store_notify *store_double_notify(void)
{
	return &the_notify;
}

static void sub_link(struct store_notify *n, struct store_notify_sub *sub)
{
	if (sub->linked)
		store_notify_unsubscribe(n, sub);
	sub->prev = NULL;
	sub->next = n->subs;
	if (n->subs != NULL)
		n->subs->prev = sub;
	n->subs = sub;
	sub->linked = true;
}

void store_notify_subscribe(struct store_notify *n, struct store_notify_sub *sub,
			    uint64_t mailbox_id, store_notify_cb *cb, void *ctx)
{
	sub->mailbox_id = mailbox_id;
	sub->cb = cb;
	sub->ctx = ctx;
	sub->account = false;
	sub_link(n, sub);
}

void store_notify_subscribe_account(struct store_notify *n, struct store_notify_sub *sub,
				    uint64_t account_id, store_notify_cb *cb, void *ctx)
{
	sub->mailbox_id = account_id;
	sub->cb = cb;
	sub->ctx = ctx;
	sub->account = true;
	sub_link(n, sub);
}

void store_notify_unsubscribe(struct store_notify *n, struct store_notify_sub *sub)
{
	if (!sub->linked)
		return;
	if (sub->prev != NULL)
		sub->prev->next = sub->next;
	else
		n->subs = sub->next;
	if (sub->next != NULL)
		sub->next->prev = sub->prev;
	sub->prev = sub->next = NULL;
	sub->linked = false;
}

void store_double_external_change(unsigned kind)
{
	/* What another session or a delivery would do meanwhile. */
	struct dbox *in = box_by_name(1, "INBOX");
	if (in == NULL)
		return;
	switch (kind % 4) {
	case 0:
		box_add(in, msg3, sizeof(msg3) - 1, 0, "", 0, NULL);
		break;
	case 1:
		if (in->n > 0) {
			in->msgs[0].flags ^= STORE_FLAG_FLAGGED;
			in->msgs[0].modseq = ++in->hms;
		}
		break;
	case 2:
		if (in->n > 0) {
			struct dmsg *m = &in->msgs[in->n - 1];
			in->hms++;
			if (in->ngone < MAX_GONE) {
				in->gone[in->ngone].uid = m->uid;
				in->gone[in->ngone].modseq = in->hms;
				in->ngone++;
			}
			total_bytes -= m->size;
			msg_clear(m);
			in->n--;
		}
		break;
	default: {
		struct dbox *ext = box_by_name(1, "Ext");
		if (ext != NULL)
			box_free(ext);
		else
			box_new(1, "Ext", NULL);
		break;
	}
	}
}

void store_double_notify_fire(struct store_notify *n)
{
	/* Like a notification arriving from PostgreSQL: every subscriber of
	 * a mailbox hears its current modseq, account subscribers hear "1".
	 * A callback may unsubscribe (itself or others): collect first. */
	struct { uint64_t id; bool account; } targets[16];
	size_t count = 0;
	for (struct store_notify_sub *s = n->subs; s != NULL && count < 16; s = s->next) {
		targets[count].id = s->mailbox_id;
		targets[count].account = s->account;
		count++;
	}
	for (size_t i = 0; i < count; i++) {
		for (struct store_notify_sub *s = n->subs; s != NULL; s = s->next) {
			if (s->mailbox_id != targets[i].id || s->account != targets[i].account)
				continue;
			struct dbox *b = s->account ? NULL : box_by_id(s->mailbox_id);
			s->cb(s->mailbox_id, s->account ? 1 : b != NULL ? b->hms : 0, s->ctx);
			break;
		}
	}
}

bool store_double_clean(void)
{
	/* A freed session must not stay subscribed; a POP3 lock must be gone,
	 * except after a failed UPDATE (finding 1 of the session fuzzing,
	 * tests/fuzz/crashes/: reported, not fixed here), which would
	 * otherwise stop every run at once. */
	if (pop3_locked && pop3_commit_failed && getenv("FUZZ_SESSION_STRICT") == NULL)
		pop3_locked = false;
	return the_notify.subs == NULL && !pop3_locked;
}

/* ---- store.h / store-jobs.h ---- */

struct store *store_jobs_get(struct worker *worker)
{
	(void)worker;
	return &the_store;
}

void store_jobs_note(struct worker *worker)
{
	(void)worker;
}

const char *store_result_str(int result)
{
	switch (result) {
	case STORE_OK: return "ok";
	case STORE_ERROR: return "error";
	case STORE_NOTFOUND: return "not found";
	case STORE_EXISTS: return "exists";
	case STORE_CONFLICT: return "conflict";
	case STORE_TEMPFAIL: return "temporary failure";
	case STORE_INVALID: return "invalid";
	case STORE_OVERQUOTA: return "over quota";
	}
	return "unknown";
}

int store_ping(struct store *st, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	return STORE_OK;
}

int store_queue_notify(struct store *st, const char **error_r)
{
	(void)st;
	(void)error_r;
	return STORE_OK;
}

/* ---- directory ---- */

struct dir_handle *dir_worker_handle(struct worker *worker, struct store *st)
{
	(void)worker;
	(void)st;
	return &the_dir;
}

const char *dir_status_str(int status)
{
	switch (status) {
	case DIR_OK: return "ok";
	case DIR_NOTFOUND: return "not found";
	case DIR_NOTOURS: return "not ours";
	case DIR_TEMPFAIL: return "temporary failure";
	case DIR_ERROR: return "error";
	}
	return "unknown";
}

int dir_authenticate(struct dir_handle *h, const char *user, const char *password,
		     const char *client_ip, struct dir_auth *result_r, const char **error_r)
{
	(void)h;
	(void)client_ip;
	memset(result_r, 0, sizeof(*result_r));
	if (tempfail_name(user)) {
		result_r->status = DIR_AUTH_TEMPFAIL;
		*error_r = "fuzz double: directory unavailable";
		return 0;
	}
	if (str_casecmp(user, "u@fuzz.test") == 0 && strcmp(password, "p") == 0) {
		result_r->status = DIR_AUTH_OK;
		snprintf(result_r->address, sizeof(result_r->address), "u@fuzz.test");
		return 0;
	}
	if (++auth_failures > 6) {
		result_r->status = DIR_AUTH_LOCKED;
		result_r->retry_after_ms = 15 * 60 * 1000;
		return 0;
	}
	result_r->status = DIR_AUTH_FAIL;
	result_r->delay_ms = auth_delay * auth_failures;
	result_r->failures = auth_failures;
	return 0;
}

int dir_provision(struct dir_handle *h, const char *address, const char **error_r)
{
	(void)h;
	if (tempfail_name(address))
		return fail_with(error_r, DIR_TEMPFAIL, "fuzz double: directory unavailable");
	return account_index(address) != 0 ? DIR_OK
					    : fail_with(error_r, DIR_NOTFOUND, "no such user");
}

static void route_add(struct dir_route *r, const char *address, bool local)
{
	r->targets = xrealloc(r->targets, (r->ntargets + 1) * sizeof(*r->targets));
	r->targets[r->ntargets].address = xstrdup(address);
	r->targets[r->ntargets].local = local;
	r->ntargets++;
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "";
}

int dir_resolve(struct dir_handle *h, const char *address, struct dir_route *route_r,
		const char **error_r)
{
	(void)h;
	memset(route_r, 0, sizeof(*route_r));
	if (tempfail_name(address))
		return fail_with(error_r, DIR_TEMPFAIL, "fuzz double: directory unavailable");
	if (str_casecmp(domain_of(address), "fuzz.test") != 0)
		return fail_with(error_r, DIR_NOTOURS, "not a local domain");
	char lower[321];
	snprintf(lower, sizeof(lower), "%s", address);
	for (char *p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (account_index(lower) != 0 || strcmp(lower, "full@fuzz.test") == 0) {
		route_r->kind = DIR_KIND_USER;
		route_r->address = xstrdup(lower);
		route_add(route_r, lower, true);
		return DIR_OK;
	}
	if (strcmp(lower, "team@fuzz.test") == 0) {
		route_r->kind = DIR_KIND_GROUP;
		route_r->address = xstrdup(lower);
		route_add(route_r, "u@fuzz.test", true);
		route_add(route_r, "o@fuzz.test", true);
		route_add(route_r, "ext@example.test", false);
		return DIR_OK;
	}
	if (strcmp(lower, "alias@fuzz.test") == 0 || strcmp(lower, "postmaster@fuzz.test") == 0) {
		route_r->kind = DIR_KIND_ALIAS;
		route_r->address = xstrdup(lower);
		route_add(route_r, "u@fuzz.test", true);
		return DIR_OK;
	}
	return fail_with(error_r, DIR_NOTFOUND, "no such address");
}

void dir_route_free(struct dir_route *route)
{
	for (size_t i = 0; i < route->ntargets; i++)
		free(route->targets[i].address);
	free(route->targets);
	free(route->address);
	memset(route, 0, sizeof(*route));
}

int dir_expand(struct dir_handle *h, const char *address, struct dir_route *route_r,
	       const char **error_r)
{
	int r = dir_resolve(h, address, route_r, error_r);
	if (r == DIR_OK && route_r->kind == DIR_KIND_USER) {
		dir_route_free(route_r);
		return fail_with(error_r, DIR_NOTFOUND, "a user, not a group");
	}
	return r;
}

/* ---- quota and delivery ---- */

static void usage(unsigned acc, uint64_t *bytes_r, uint64_t *msgs_r)
{
	*bytes_r = 0;
	*msgs_r = 0;
	for (size_t i = 0; i < MAX_BOXES; i++) {
		if (!boxes[i].used || boxes[i].owner != acc)
			continue;
		for (size_t k = 0; k < boxes[i].n; k++)
			*bytes_r += boxes[i].msgs[k].size;
		*msgs_r += boxes[i].n;
	}
}

int store_quota_get(struct store *st, const char *address, uint64_t *bytes_r,
		    uint64_t *messages_r, int64_t *limit_bytes_r, int64_t *limit_messages_r,
		    const char **error_r)
{
	(void)st;
	if (tempfail_name(address))
		return TEMPFAIL(error_r);
	if (str_casecmp(address, "full@fuzz.test") == 0) {
		*bytes_r = 100;
		*messages_r = 1;
		*limit_bytes_r = 100;
		*limit_messages_r = 1;
		return STORE_OK;
	}
	unsigned acc = account_index(address);
	if (acc == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	usage(acc, bytes_r, messages_r);
	*limit_bytes_r = quota_limit_bytes[acc];
	*limit_messages_r = quota_limit_msgs[acc];
	return STORE_OK;
}

int store_deliver_message(struct store *st, const struct store_deliver_msg *msg,
			  struct store_deliver_rcpt *rcpts, size_t count, bool partial,
			  const char **error_r)
{
	(void)st;
	if (failing || tempfail_name(msg->envelope_from))
		return TEMPFAIL(error_r);
	for (size_t i = 0; i < count; i++) {
		rcpts[i].result = STORE_OK;
		rcpts[i].uid = 0;
		if (!rcpts[i].local)
			continue;
		struct dbox *in = box_by_name(account_index(rcpts[i].address), "INBOX");
		int r = in != NULL ? box_add(in, msg->data, msg->size, 0, "", 0, &rcpts[i].uid)
				   : STORE_OVERQUOTA;
		if (r != STORE_OK) {
			if (!partial)
				return fail_with(error_r, r, "fuzz double: mailbox full");
			rcpts[i].result = r;
		}
	}
	return STORE_OK;
}

int store_quota_account(struct store *st, const char *address, struct store_quota *q_r,
			const char **error_r)
{
	(void)st;
	if (tempfail_name(address))
		return TEMPFAIL(error_r);
	unsigned acc = account_index(address);
	if (acc == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	memset(q_r, 0, sizeof(*q_r));
	snprintf(q_r->owner, sizeof(q_r->owner), "%s", accounts[acc]);
	usage(acc, &q_r->bytes, &q_r->messages);
	q_r->limit_bytes = quota_limit_bytes[acc];
	q_r->limit_messages = quota_limit_msgs[acc];
	return STORE_OK;
}

int store_quota_mailbox(struct store *st, uint64_t mailbox_id, struct store_quota *q_r,
			const char **error_r)
{
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	return store_quota_account(st, accounts[b->owner], q_r, error_r);
}

int store_quota_set(struct store *st, const char *address, int64_t limit_bytes,
		    int64_t limit_messages, const char **error_r)
{
	(void)st;
	if (tempfail_name(address))
		return TEMPFAIL(error_r);
	unsigned acc = account_index(address);
	if (acc == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	if (limit_bytes != STORE_QUOTA_KEEP)
		quota_limit_bytes[acc] = limit_bytes;
	if (limit_messages != STORE_QUOTA_KEEP)
		quota_limit_msgs[acc] = limit_messages;
	return STORE_OK;
}

int store_quota_is_admin(struct store *st, const char *address, bool *admin_r,
			 const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	/* u is an admin: SETQUOTA and server METADATA reach their real code. */
	*admin_r = account_index(address) == 1;
	return STORE_OK;
}

int store_quota_deleted_bytes(struct store *st, uint64_t mailbox_id, uint64_t *bytes_r,
			      const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	*bytes_r = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->msgs[i].flags & STORE_FLAG_DELETED)
			*bytes_r += b->msgs[i].size;
	return STORE_OK;
}

/* ---- mailboxes ---- */

static int normalize(const char *name, char out[STORE_MAILBOX_NAME_MAX + 1], const char **error_r)
{
	size_t len = strlen(name);
	if (len == 0 || len > STORE_MAILBOX_NAME_MAX || name[0] == '/' || name[len - 1] == '/' ||
	    strstr(name, "//") != NULL || strpbrk(name, "*%") != NULL)
		return fail_with(error_r, STORE_INVALID, "invalid mailbox name");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return fail_with(error_r, STORE_INVALID, "invalid mailbox name");
	memcpy(out, name, len + 1);
	if (str_ncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
		memcpy(out, "INBOX", 5);
	return STORE_OK;
}

static void info_of(const struct dbox *b, struct store_mailbox_info *info, bool for_u)
{
	memset(info, 0, sizeof(*info));
	info->id = b->id;
	snprintf(info->name, sizeof(info->name), "%s", b->name);
	info->uidvalidity = b->uidvalidity;
	info->uidnext = b->uidnext;
	info->highestmodseq = b->hms;
	snprintf(info->special_use, sizeof(info->special_use), "%s", b->special);
	info->subscribed = for_u && b->owner != 1 ? b->u_subscribed : b->subscribed;
	info->noselect = b->noselect;
	size_t len = strlen(b->name);
	for (size_t i = 0; i < MAX_BOXES; i++)
		if (boxes[i].used && boxes[i].owner == b->owner &&
		    strncmp(boxes[i].name, b->name, len) == 0 && boxes[i].name[len] == '/')
			info->has_children = true;
}

int store_mailbox_open(struct store *st, const char *address, const char *name,
		       struct store_mailbox_info *info_r, const char **error_r)
{
	(void)st;
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	if (tempfail_name(name) || tempfail_name(address))
		return TEMPFAIL(error_r);
	int r = normalize(name, norm, error_r);
	if (r != STORE_OK)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	struct dbox *b = box_by_name(account_index(address), norm);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	info_of(b, info_r, false);
	return STORE_OK;
}

int store_mailbox_create(struct store *st, const char *address, const char *name,
			 const char *special_use, uint64_t *id_r, const char **error_r)
{
	(void)st;
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	if (tempfail_name(name))
		return TEMPFAIL(error_r);
	unsigned acc = account_index(address);
	if (acc == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	int r = normalize(name, norm, error_r);
	if (r != STORE_OK)
		return r;
	struct dbox *b = box_by_name(acc, norm);
	if (b != NULL && !b->noselect)
		return fail_with(error_r, STORE_EXISTS, "mailbox exists");
	if (b != NULL) {
		b->noselect = false;
		*id_r = b->id;
		return STORE_OK;
	}
	/* Parents first, as the real store does. */
	for (char *p = strchr(norm, '/'); p != NULL; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (box_by_name(acc, norm) == NULL && box_new(acc, norm, NULL) == NULL) {
			*p = '/';
			return fail_with(error_r, STORE_OVERQUOTA, "too many mailboxes");
		}
		*p = '/';
	}
	b = box_new(acc, norm, special_use);
	if (b == NULL)
		return fail_with(error_r, STORE_OVERQUOTA, "too many mailboxes");
	*id_r = b->id;
	return STORE_OK;
}

int store_mailbox_rename(struct store *st, const char *address, const char *from,
			 const char *to, const char **error_r)
{
	(void)st;
	char f[STORE_MAILBOX_NAME_MAX + 1], t[STORE_MAILBOX_NAME_MAX + 1];
	if (tempfail_name(from) || tempfail_name(to))
		return TEMPFAIL(error_r);
	unsigned acc = account_index(address);
	int r = normalize(from, f, error_r);
	if (r == STORE_OK)
		r = normalize(to, t, error_r);
	if (r != STORE_OK)
		return r;
	struct dbox *src = box_by_name(acc, f);
	if (src == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	if (box_by_name(acc, t) != NULL)
		return fail_with(error_r, STORE_EXISTS, "mailbox exists");
	size_t flen = strlen(f);
	if (strncmp(t, f, flen) == 0 && t[flen] == '/')
		return fail_with(error_r, STORE_INVALID, "cannot move under itself");
	if (strcmp(f, "INBOX") == 0) {
		struct dbox *nb = box_new(acc, t, NULL);
		if (nb == NULL)
			return fail_with(error_r, STORE_OVERQUOTA, "too many mailboxes");
		/* The messages move, INBOX stays (empty). */
		memcpy(nb->msgs, src->msgs, sizeof(src->msgs));
		nb->n = src->n;
		nb->uidnext = src->uidnext;
		nb->hms = src->hms;
		src->n = 0;
		memset(src->msgs, 0, sizeof(src->msgs));
		src->hms++;
		return STORE_OK;
	}
	for (size_t i = 0; i < MAX_BOXES; i++) {
		struct dbox *b = &boxes[i];
		if (!b->used || b->owner != acc)
			continue;
		if (strcmp(b->name, f) == 0) {
			snprintf(b->name, sizeof(b->name), "%s", t);
		} else if (strncmp(b->name, f, flen) == 0 && b->name[flen] == '/') {
			char nn[2 * STORE_MAILBOX_NAME_MAX + 2];
			snprintf(nn, sizeof(nn), "%s%s", t, b->name + flen);
			if (strlen(nn) > STORE_MAILBOX_NAME_MAX)
				return fail_with(error_r, STORE_INVALID, "name too long");
			snprintf(b->name, sizeof(b->name), "%s", nn);
		}
	}
	return STORE_OK;
}

int store_mailbox_delete(struct store *st, const char *address, const char *name,
			 const char **error_r)
{
	(void)st;
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	if (tempfail_name(name))
		return TEMPFAIL(error_r);
	int r = normalize(name, norm, error_r);
	if (r != STORE_OK)
		return r;
	if (strcmp(norm, "INBOX") == 0)
		return fail_with(error_r, STORE_INVALID, "INBOX cannot be deleted");
	unsigned acc = account_index(address);
	struct dbox *b = box_by_name(acc, norm);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	struct store_mailbox_info info;
	info_of(b, &info, false);
	if (info.has_children) {
		if (b->noselect)
			return fail_with(error_r, STORE_EXISTS, "has children");
		for (size_t i = 0; i < b->n; i++) {
			total_bytes -= b->msgs[i].size;
			msg_clear(&b->msgs[i]);
		}
		b->n = 0;
		b->noselect = true;
		b->hms++;
		return STORE_OK;
	}
	box_free(b);
	return STORE_OK;
}

/* Subscriptions whose mailbox is gone (RFC 3501 6.3.6): the double drops a
 * subscription with its mailbox, so there are none to report. */
int store_subscriptions_kept(struct store *st, const char *address,
			     void (*cb)(const char *name, void *ctx), void *ctx,
			     const char **error_r)
{
	(void)st;
	(void)cb;
	(void)ctx;
	if (tempfail_name(address))
		return TEMPFAIL(error_r);
	return STORE_OK;
}

int store_mailbox_list(struct store *st, const char *address,
		       void (*cb)(const struct store_mailbox_info *info, void *ctx), void *ctx,
		       const char **error_r)
{
	(void)st;
	if (tempfail_name(address))
		return TEMPFAIL(error_r);
	unsigned acc = account_index(address);
	/* Name order, as the real store gives them. */
	const struct dbox *sorted[MAX_BOXES];
	size_t n = 0;
	for (size_t i = 0; i < MAX_BOXES; i++)
		if (boxes[i].used && boxes[i].owner == acc && acc != 0)
			sorted[n++] = &boxes[i];
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && strcmp(sorted[k]->name, sorted[k - 1]->name) < 0; k--) {
			const struct dbox *t = sorted[k];
			sorted[k] = sorted[k - 1];
			sorted[k - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		struct store_mailbox_info info;
		info_of(sorted[i], &info, false);
		cb(&info, ctx);
	}
	return STORE_OK;
}

int store_mailbox_subscribe(struct store *st, const char *address, const char *name,
			    bool subscribed, const char **error_r)
{
	(void)st;
	char norm[STORE_MAILBOX_NAME_MAX + 1];
	if (tempfail_name(name))
		return TEMPFAIL(error_r);
	int r = normalize(name, norm, error_r);
	if (r != STORE_OK)
		return r;
	struct dbox *b = box_by_name(account_index(address), norm);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	b->subscribed = subscribed;
	return STORE_OK;
}

static bool is_recent(const struct dbox *b, uint32_t uid)
{
	return uid >= b->first_recent;
}

int store_mailbox_status(struct store *st, uint64_t mailbox_id,
			 struct store_mailbox_status *status_r, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	memset(status_r, 0, sizeof(*status_r));
	status_r->messages = (uint32_t)b->n;
	for (size_t i = 0; i < b->n; i++) {
		if (is_recent(b, b->msgs[i].uid))
			status_r->recent++;
		if (!(b->msgs[i].flags & STORE_FLAG_SEEN))
			status_r->unseen++;
		status_r->size += b->msgs[i].size;
	}
	status_r->uidnext = b->uidnext;
	status_r->uidvalidity = b->uidvalidity;
	status_r->highestmodseq = b->hms;
	return STORE_OK;
}

int store_mailbox_claim_recent(struct store *st, uint64_t mailbox_id, uint32_t *first_recent_r,
			       uint32_t *uidnext_r, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	*first_recent_r = b->first_recent;
	*uidnext_r = b->uidnext;
	b->first_recent = b->uidnext;
	return STORE_OK;
}

/* ---- messages ---- */

static bool in_set(uint32_t uid, const struct store_uid_range *set, size_t count)
{
	if (set == NULL)
		return true;
	for (size_t i = 0; i < count; i++)
		if (uid >= set[i].lo && uid <= set[i].hi)
			return true;
	return false;
}

static struct dmsg *msg_by_uid(struct dbox *b, uint32_t uid)
{
	for (size_t i = 0; i < b->n; i++)
		if (b->msgs[i].uid == uid)
			return &b->msgs[i];
	return NULL;
}

static void msg_meta(struct dmsg *m, unsigned what, struct store_msg_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->uid = m->uid;
	meta->modseq = m->modseq;
	meta->flags = m->flags;
	meta->keywords = m->keywords;
	meta->internaldate = m->idate;
	meta->savedate = m->idate;
	meta->size = m->size;
	for (size_t i = 0; i < m->size; i++)
		if (m->data[i] == '\n')
			meta->lines++;
	meta->blob_id = 7000 + m->uid;
	if (what & (STORE_FETCH_ENVELOPE | STORE_FETCH_BODYSTRUCTURE)) {
		if (m->envelope == NULL) {
			struct mime_message *mm = mime_parse(m->data, m->size, NULL);
			struct buf e, bs, bd;
			buf_init(&e, 0);
			buf_init(&bs, 0);
			buf_init(&bd, 0);
			mime_envelope(&mm->root, &e);
			mime_bodystructure(&mm->root, true, &bs);
			mime_bodystructure(&mm->root, false, &bd);
			m->envelope = xstrdup(e.data != NULL ? e.data : "NIL");
			m->bodystructure = xstrdup(bs.data != NULL ? bs.data : "NIL");
			m->body = xstrdup(bd.data != NULL ? bd.data : "NIL");
			buf_free(&e);
			buf_free(&bs);
			buf_free(&bd);
			mime_free(&mm);
		}
		if (what & STORE_FETCH_ENVELOPE)
			meta->envelope = m->envelope;
		if (what & STORE_FETCH_BODYSTRUCTURE) {
			meta->bodystructure = m->bodystructure;
			meta->body = m->body;
		}
	}
}

int store_fetch(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		size_t set_count, unsigned what,
		void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
		const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->n; i++) {
		if (!in_set(b->msgs[i].uid, set, set_count))
			continue;
		struct store_msg_meta meta;
		msg_meta(&b->msgs[i], what, &meta);
		cb(&meta, ctx);
	}
	return STORE_OK;
}

int store_fetch_raw(struct store *st, uint64_t mailbox_id, uint32_t uid, struct buf *out,
		    const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	struct dmsg *m = b != NULL ? msg_by_uid(b, uid) : NULL;
	if (m == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such message");
	if (buf_append(out, m->data, m->size) < 0)
		return fail_with(error_r, STORE_INVALID, "message too big");
	return STORE_OK;
}

static int uids_of(struct dbox *b, uint32_t **uids_r, size_t *count_r)
{
	*uids_r = NULL;
	*count_r = b->n;
	if (b->n == 0)
		return STORE_OK;
	*uids_r = xmalloc(b->n * sizeof(**uids_r));
	for (size_t i = 0; i < b->n; i++)
		(*uids_r)[i] = b->msgs[i].uid;
	return STORE_OK;
}

int store_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r, size_t *count_r,
	       const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	return uids_of(b, uids_r, count_r);
}

int store_search_view_uids(struct store *st, uint64_t mailbox_id, uint32_t **uids_r,
			   size_t *count_r, const char **error_r)
{
	return store_uids(st, mailbox_id, uids_r, count_r, error_r);
}

int store_search_first_unseen(struct store *st, uint64_t mailbox_id, uint32_t *uid_r,
			      const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	*uid_r = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!(b->msgs[i].flags & STORE_FLAG_SEEN)) {
			*uid_r = b->msgs[i].uid;
			break;
		}
	return STORE_OK;
}

int store_append(struct store *st, uint64_t mailbox_id, const struct store_append_msg *msgs,
		 size_t count, uint32_t *uidvalidity_r, uint32_t *uids_r, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL || b->noselect)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	size_t bytes = 0;
	for (size_t i = 0; i < count; i++)
		bytes += msgs[i].size;
	if (b->n + count > MAX_MSGS || total_bytes + bytes > MAX_BYTES)
		return fail_with(error_r, STORE_OVERQUOTA, "fuzz double: quota");
	for (size_t i = 0; i < count; i++) {
		char kw[128] = "";
		size_t used = 0;
		for (size_t k = 0; k < msgs[i].keyword_count; k++) {
			int w = snprintf(kw + used, sizeof(kw) - used, "%s%s", used > 0 ? " " : "",
					 msgs[i].keywords[k]);
			if (w < 0 || (size_t)w >= sizeof(kw) - used)
				break;
			used += (size_t)w;
		}
		box_add(b, msgs[i].data, msgs[i].size, msgs[i].flags, kw, msgs[i].internaldate,
			&uids_r[i]);
	}
	*uidvalidity_r = b->uidvalidity;
	return STORE_OK;
}

int store_copy(struct store *st, uint64_t src_id, uint64_t dst_id,
	       const struct store_uid_range *set, size_t set_count, bool move,
	       struct store_copy_result *result_r, const char **error_r)
{
	(void)st;
	memset(result_r, 0, sizeof(*result_r));
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *src = box_by_id(src_id), *dst = box_by_id(dst_id);
	if (src == NULL || dst == NULL || dst->noselect)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	size_t n = 0, bytes = 0;
	for (size_t i = 0; i < src->n; i++)
		if (in_set(src->msgs[i].uid, set, set_count)) {
			n++;
			bytes += src->msgs[i].size;
		}
	if (dst->n + n > MAX_MSGS || total_bytes + bytes > MAX_BYTES)
		return fail_with(error_r, STORE_OVERQUOTA, "fuzz double: quota");
	if (src == dst && move)
		return STORE_OK;
	result_r->uidvalidity = dst->uidvalidity;
	result_r->src = n > 0 ? xmalloc(n * sizeof(uint32_t)) : NULL;
	result_r->dst = n > 0 ? xmalloc(n * sizeof(uint32_t)) : NULL;
	size_t srcn = src->n;
	for (size_t i = 0; i < srcn; i++) {
		struct dmsg *m = &src->msgs[i];
		if (!in_set(m->uid, set, set_count))
			continue;
		uint32_t uid;
		box_add(dst, m->data, m->size, m->flags, m->keywords, m->idate, &uid);
		result_r->src[result_r->count] = m->uid;
		result_r->dst[result_r->count] = uid;
		result_r->count++;
	}
	if (move) {
		size_t k = 0;
		for (size_t i = 0; i < src->n; i++) {
			struct dmsg *m = &src->msgs[i];
			if (in_set(m->uid, set, set_count)) {
				if (src->ngone < MAX_GONE) {
					src->gone[src->ngone].uid = m->uid;
					src->gone[src->ngone].modseq = src->hms + 1;
					src->ngone++;
				}
				total_bytes -= m->size;
				msg_clear(m);
			} else {
				src->msgs[k++] = *m;
			}
		}
		src->n = k;
		src->hms++;
	}
	return STORE_OK;
}

void store_copy_result_free(struct store_copy_result *result)
{
	free(result->src);
	free(result->dst);
	result->src = result->dst = NULL;
	result->count = 0;
}

static bool kw_has(const char *list, const char *kw)
{
	size_t len = strlen(kw);
	for (const char *p = list; *p != '\0';) {
		const char *e = strchr(p, ' ');
		size_t n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == len && str_ncasecmp(p, kw, len) == 0)
			return true;
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

static void kw_apply(char list[128], enum store_flag_op op, const char *const *kws, size_t n)
{
	char out[128] = "";
	size_t used = 0;
	/* Keep the old ones that stay, then add the new ones. */
	for (const char *p = list; *p != '\0' && op != STORE_FLAGS_REPLACE;) {
		const char *e = strchr(p, ' ');
		size_t len = e != NULL ? (size_t)(e - p) : strlen(p);
		bool removed = false;
		for (size_t i = 0; i < n && op == STORE_FLAGS_REMOVE; i++)
			if (strlen(kws[i]) == len && str_ncasecmp(kws[i], p, len) == 0)
				removed = true;
		if (!removed && len > 0 && used + len + 2 < sizeof(out)) {
			if (used > 0)
				out[used++] = ' ';
			memcpy(out + used, p, len);
			used += len;
			out[used] = '\0';
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	for (size_t i = 0; i < n && op != STORE_FLAGS_REMOVE; i++) {
		size_t len = strlen(kws[i]);
		if (len == 0 || kw_has(out, kws[i]) || used + len + 2 >= sizeof(out))
			continue;
		if (used > 0)
			out[used++] = ' ';
		memcpy(out + used, kws[i], len);
		used += len;
		out[used] = '\0';
	}
	memcpy(list, out, sizeof(out));
}

static void push_uid(uint32_t **arr, size_t *n, uint32_t uid)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof(**arr));
	(*arr)[(*n)++] = uid;
}

static int flags_update(uint64_t mailbox_id, bool reader, const struct store_uid_range *set,
			size_t set_count, enum store_flag_op op, unsigned flags, unsigned keep,
			const char *const *keywords, size_t keyword_count,
			uint64_t unchangedsince, struct store_flags_result *result_r,
			const char **error_r)
{
	memset(result_r, 0, sizeof(*result_r));
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	uint64_t modseq = b->hms + 1;
	bool any = false;
	for (size_t i = 0; i < b->n; i++) {
		struct dmsg *m = &b->msgs[i];
		if (!in_set(m->uid, set, set_count))
			continue;
		if (unchangedsince != STORE_NO_UNCHANGEDSINCE && m->modseq > unchangedsince) {
			push_uid(&result_r->failed, &result_r->failed_count, m->uid);
			continue;
		}
		unsigned old = m->flags;
		bool old_rseen = m->reader_seen;
		char oldkw[128];
		memcpy(oldkw, m->keywords, sizeof(oldkw));
		unsigned f = flags & STORE_FLAGS_ALL;
		if (reader) {
			bool seen = (f & STORE_FLAG_SEEN) != 0;
			if (op == STORE_FLAGS_ADD && seen)
				m->reader_seen = true;
			else if (op == STORE_FLAGS_REMOVE && seen)
				m->reader_seen = false;
			else if (op == STORE_FLAGS_REPLACE)
				m->reader_seen = seen;
			f &= ~(unsigned)STORE_FLAG_SEEN;
		}
		unsigned mask = reader ? ~(keep | STORE_FLAG_SEEN) : ~keep;
		if (op == STORE_FLAGS_ADD)
			m->flags |= f & mask;
		else if (op == STORE_FLAGS_REMOVE)
			m->flags &= ~(f & mask);
		else
			m->flags = (m->flags & ~mask) | (f & mask);
		kw_apply(m->keywords, op, keywords, keyword_count);
		if (m->flags != old || m->reader_seen != old_rseen || strcmp(oldkw, m->keywords) != 0) {
			m->modseq = modseq;
			any = true;
			push_uid(&result_r->modified, &result_r->modified_count, m->uid);
		}
	}
	if (any)
		b->hms = modseq;
	result_r->modseq = b->hms;
	return STORE_OK;
}

int store_flags_update(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		       size_t set_count, enum store_flag_op op, unsigned flags,
		       const char *const *keywords, size_t keyword_count, uint64_t unchangedsince,
		       struct store_flags_result *result_r, const char **error_r)
{
	(void)st;
	return flags_update(mailbox_id, false, set, set_count, op, flags, 0, keywords,
			    keyword_count, unchangedsince, result_r, error_r);
}

int store_acl_flags_update(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   const struct store_uid_range *set, size_t set_count,
			   enum store_flag_op op, unsigned flags, unsigned keep,
			   const char *const *keywords, size_t keyword_count, uint64_t unchangedsince,
			   struct store_flags_result *result_r, const char **error_r)
{
	(void)st;
	(void)reader_id;
	return flags_update(mailbox_id, true, set, set_count, op, flags, keep, keywords,
			    keyword_count, unchangedsince, result_r, error_r);
}

void store_flags_result_free(struct store_flags_result *result)
{
	free(result->modified);
	free(result->failed);
	memset(result, 0, sizeof(*result));
}

int store_expunge(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
		  size_t set_count, uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	(void)st;
	*uids_r = NULL;
	*count_r = 0;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	size_t k = 0;
	uint64_t modseq = b->hms + 1;
	for (size_t i = 0; i < b->n; i++) {
		struct dmsg *m = &b->msgs[i];
		if ((m->flags & STORE_FLAG_DELETED) && in_set(m->uid, set, set_count)) {
			push_uid(uids_r, count_r, m->uid);
			if (b->ngone < MAX_GONE) {
				b->gone[b->ngone].uid = m->uid;
				b->gone[b->ngone].modseq = modseq;
				b->ngone++;
			}
			total_bytes -= m->size;
			msg_clear(m);
		} else {
			b->msgs[k++] = *m;
		}
	}
	if (k != b->n)
		b->hms = modseq;
	b->n = k;
	return STORE_OK;
}

int store_changes_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			void (*cb)(const struct store_msg_meta *meta, void *ctx), void *ctx,
			uint32_t **vanished_r, size_t *vanished_count_r, const char **error_r)
{
	(void)st;
	*vanished_r = NULL;
	*vanished_count_r = 0;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->n; i++) {
		if (b->msgs[i].modseq <= modseq)
			continue;
		struct store_msg_meta meta;
		msg_meta(&b->msgs[i], 0, &meta);
		cb(&meta, ctx);
	}
	for (size_t i = 0; i < b->ngone; i++)
		if (b->gone[i].modseq > modseq)
			push_uid(vanished_r, vanished_count_r, b->gone[i].uid);
	return STORE_OK;
}

int store_vanished_since(struct store *st, uint64_t mailbox_id, uint64_t modseq,
			 uint32_t **uids_r, size_t *count_r, const char **error_r)
{
	(void)st;
	*uids_r = NULL;
	*count_r = 0;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->ngone; i++)
		if (b->gone[i].modseq > modseq)
			push_uid(uids_r, count_r, b->gone[i].uid);
	return STORE_OK;
}

int store_search(struct store *st, uint64_t mailbox_id, const struct store_search_program *prog,
		 const struct store_search_view *view, uint32_t **uids_r, size_t *count_r,
		 uint64_t *max_modseq_r, const char **error_r)
{
	(void)st;
	(void)prog;
	*uids_r = NULL;
	*count_r = 0;
	*max_modseq_r = 0;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	/* The program is not evaluated: every other message of the view
	 * matches, which still drives the real result formatting (ALL, MIN,
	 * MAX, COUNT, SAVE, ESEARCH, sequence numbers vs uids). */
	for (size_t i = 0; i < view->count; i++) {
		struct dmsg *m = msg_by_uid(b, view->uids[i]);
		if (m == NULL || (m->uid % 2) == 0)
			continue;
		push_uid(uids_r, count_r, m->uid);
		if (m->modseq > *max_modseq_r)
			*max_modseq_r = m->modseq;
	}
	return STORE_OK;
}

int store_fetch_previews(struct store *st, uint64_t mailbox_id, const struct store_uid_range *set,
			 size_t set_count, bool lazy,
			 void (*cb)(uint32_t uid, const char *preview, void *ctx), void *ctx,
			 const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->n; i++) {
		if (!in_set(b->msgs[i].uid, set, set_count))
			continue;
		cb(b->msgs[i].uid, lazy && (b->msgs[i].uid % 3) == 0 ? NULL : "a short preview \"quoted\"",
		   ctx);
	}
	return STORE_OK;
}

int store_sort_load(struct store *st, uint64_t mailbox_id, unsigned what,
		    void (*cb)(const struct store_sort_row *row, void *ctx), void *ctx,
		    const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	static const char *const subjects[] = { "hello there", "reunion report", "lf only" };
	for (size_t i = 0; i < b->n; i++) {
		struct dmsg *m = &b->msgs[i];
		char mid[32], refs[64];
		snprintf(mid, sizeof(mid), "<%u@fuzz>", m->uid % 4);
		refs[0] = '\0';
		if (m->uid > 1)
			snprintf(refs, sizeof(refs), "<%u@fuzz>", (m->uid - 1) % 4);
		struct store_sort_row row;
		memset(&row, 0, sizeof(row));
		row.uid = m->uid;
		row.internaldate = m->idate;
		row.sentdate = m->idate - (int64_t)(m->uid % 3) * 7200;
		row.size = m->size;
		if (what & STORE_SORT_THREADING) {
			row.base_subject = subjects[m->uid % 3];
			row.is_reply = (m->uid % 2) == 0;
			row.message_id = (m->uid % 5) == 0 ? NULL : mid;
			row.references = refs;
		}
		if (what & STORE_SORT_KEYS) {
			row.subject_key = subjects[m->uid % 3];
			row.from_key = (m->uid % 2) ? "ann@example.test" : "bob@example.test";
			row.to_key = "u@fuzz.test";
			row.cc_key = "";
			row.displayfrom_key = (m->uid % 2) ? "ann" : "";
			row.displayto_key = "";
		}
		cb(&row, ctx);
	}
	return STORE_OK;
}

/* ---- ACL and namespaces ---- */

static void box_fill(struct store_acl_box *box, const struct dbox *b)
{
	box->exists = true;
	info_of(b, &box->info, true);
	box->subscribed = box->own ? b->subscribed : b->u_subscribed;
	box->acl = b->nacl > 0 ? xcalloc(b->nacl, sizeof(*box->acl)) : NULL;
	box->acl_count = b->nacl;
	for (size_t i = 0; i < b->nacl; i++) {
		box->acl[i].identifier = xstrdup(b->acl[i].id);
		box->acl[i].rights = xstrdup(b->acl[i].rights);
	}
}

int store_acl_lookup(struct store *st, const char *user, const char *name,
		     struct store_acl_box *box, const char **error_r)
{
	(void)st;
	memset(box, 0, sizeof(*box));
	if (tempfail_name(name))
		return TEMPFAIL(error_r);
	const char *rest;
	size_t olen = strlen(STORE_NS_OTHER), slen = strlen(STORE_NS_SHARED);
	if (strncmp(name, STORE_NS_OTHER, olen) == 0 && (name[olen] == '\0' || name[olen] == '/')) {
		box->ns = STORE_NS_OTHER_USERS;
		const char *p = name[olen] == '/' ? name + olen + 1 : name + olen;
		const char *slash = strchr(p, '/');
		size_t alen = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (alen >= sizeof(box->owner))
			return fail_with(error_r, STORE_INVALID, "owner too long");
		memcpy(box->owner, p, alen);
		box->owner[alen] = '\0';
		for (char *c = box->owner; *c != '\0'; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		rest = slash != NULL ? slash + 1 : p + alen;
	} else if (strncmp(name, STORE_NS_SHARED, slen) == 0 &&
		   (name[slen] == '\0' || name[slen] == '/')) {
		box->ns = STORE_NS_PUBLIC;
		snprintf(box->owner, sizeof(box->owner), "%s", STORE_PUBLIC_OWNER);
		rest = name[slen] == '/' ? name + slen + 1 : name + slen;
	} else {
		if (user == NULL)
			return fail_with(error_r, STORE_INVALID, "no namespace");
		box->ns = STORE_NS_PERSONAL;
		snprintf(box->owner, sizeof(box->owner), "%s", user);
		rest = name;
	}
	box->user_id = account_index(user);
	unsigned owner = account_index(box->owner);
	box->owner_id = owner;
	if (owner != 0 && (owner == 3) != (box->ns == STORE_NS_PUBLIC))
		box->owner_id = 0;
	box->own = box->owner_id != 0 && box->owner_id == box->user_id;
	if (rest[0] == '\0' || box->owner_id == 0)
		return STORE_OK;
	int r = normalize(rest, box->name, error_r);
	if (r != STORE_OK)
		return r;
	struct dbox *b = box_by_name(owner, box->name);
	if (b != NULL)
		box_fill(box, b);
	return STORE_OK;
}

void store_acl_box_free(struct store_acl_box *box)
{
	for (size_t i = 0; i < box->acl_count; i++) {
		free(box->acl[i].identifier);
		free(box->acl[i].rights);
	}
	free(box->acl);
	box->acl = NULL;
	box->acl_count = 0;
}

int store_acl_entries(struct store *st, uint64_t mailbox_id, struct store_acl_box *box,
		      const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	store_acl_box_free(box);
	box->acl = b->nacl > 0 ? xcalloc(b->nacl, sizeof(*box->acl)) : NULL;
	box->acl_count = b->nacl;
	for (size_t i = 0; i < b->nacl; i++) {
		box->acl[i].identifier = xstrdup(b->acl[i].id);
		box->acl[i].rights = xstrdup(b->acl[i].rights);
	}
	return STORE_OK;
}

void store_acl_external_name(const struct store_acl_box *box, const char *relname,
			     struct buf *out)
{
	switch (box->ns) {
	case STORE_NS_PERSONAL:
		buf_append_str(out, relname);
		return;
	case STORE_NS_OTHER_USERS:
		buf_printf(out, STORE_NS_OTHER "/%s", box->owner);
		break;
	case STORE_NS_PUBLIC:
		buf_append_str(out, STORE_NS_SHARED);
		break;
	}
	if (relname[0] != '\0')
		buf_printf(out, "/%s", relname);
}

int store_acl_modify(struct store *st, uint64_t mailbox_id, const char *identifier, char mode,
		     const char *rights, const char **error_r)
{
	(void)st;
	if (failing || tempfail_name(identifier))
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	static const char order[] = "lrswipkxtea";
	const char *now = "";
	size_t idx = b->nacl;
	for (size_t i = 0; i < b->nacl; i++)
		if (strcmp(b->acl[i].id, identifier) == 0) {
			now = b->acl[i].rights;
			idx = i;
		}
	char out[sizeof(order)];
	size_t n = 0;
	for (const char *o = order; *o != '\0'; o++) {
		bool had = strchr(now, *o) != NULL, named = strchr(rights, *o) != NULL;
		if (mode == '+' ? had || named : mode == '-' ? had && !named : named)
			out[n++] = *o;
	}
	out[n] = '\0';
	if (n == 0) {
		if (idx < b->nacl) {
			b->acl[idx] = b->acl[b->nacl - 1];
			b->nacl--;
		}
		return STORE_OK;
	}
	if (idx == b->nacl && b->nacl >= MAX_ACL)
		return fail_with(error_r, STORE_OVERQUOTA, "too many ACL entries");
	acl_set(b, identifier, out);
	return STORE_OK;
}

int store_acl_delete(struct store *st, uint64_t mailbox_id, const char *identifier,
		     const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->nacl; i++)
		if (strcmp(b->acl[i].id, identifier) == 0) {
			b->acl[i] = b->acl[b->nacl - 1];
			b->nacl--;
			return STORE_OK;
		}
	return fail_with(error_r, STORE_NOTFOUND, "no such entry");
}

int store_acl_shared_list(struct store *st, const char *user,
			  void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx,
			  const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	unsigned me = account_index(user);
	for (unsigned owner = 1; owner < NACCOUNTS; owner++) {
		if (owner == me)
			continue;
		for (size_t i = 0; i < MAX_BOXES; i++) {
			struct dbox *b = &boxes[i];
			if (!b->used || b->owner != owner || b->nacl == 0)
				continue;
			struct store_acl_box box;
			memset(&box, 0, sizeof(box));
			box.ns = owner == 3 ? STORE_NS_PUBLIC : STORE_NS_OTHER_USERS;
			snprintf(box.owner, sizeof(box.owner), "%s", accounts[owner]);
			box.owner_id = owner;
			box.user_id = me;
			snprintf(box.name, sizeof(box.name), "%s", b->name);
			box_fill(&box, b);
			cb(&box, ctx);
			store_acl_box_free(&box);
		}
	}
	return STORE_OK;
}

int store_acl_subscribe(struct store *st, uint64_t user_id, uint64_t mailbox_id, bool on,
			const char **error_r)
{
	(void)st;
	(void)user_id;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	b->u_subscribed = on;
	return STORE_OK;
}

int store_acl_seen_get(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
		       struct store_uid_range **ranges_r, size_t *count_r, const char **error_r)
{
	(void)st;
	(void)reader_id;
	*ranges_r = NULL;
	*count_r = 0;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	for (size_t i = 0; i < b->n; i++) {
		if (!b->msgs[i].reader_seen)
			continue;
		uint32_t uid = b->msgs[i].uid;
		if (*count_r > 0 && (*ranges_r)[*count_r - 1].hi + 1 == uid) {
			(*ranges_r)[*count_r - 1].hi = uid;
			continue;
		}
		*ranges_r = xrealloc(*ranges_r, (*count_r + 1) * sizeof(**ranges_r));
		(*ranges_r)[*count_r].lo = (*ranges_r)[*count_r].hi = uid;
		(*count_r)++;
	}
	return STORE_OK;
}

int store_acl_unseen_count(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   uint32_t *unseen_r, const char **error_r)
{
	(void)st;
	(void)reader_id;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	*unseen_r = 0;
	for (size_t i = 0; i < b->n; i++)
		if (!b->msgs[i].reader_seen)
			(*unseen_r)++;
	return STORE_OK;
}

/* ---- METADATA ---- */

int store_metadata_get(struct store *st, const char *address, uint64_t mailbox_id,
		       const char *name, int depth,
		       void (*cb)(const char *name, const char *value, size_t len, void *ctx),
		       void *ctx, const char **error_r)
{
	(void)st;
	if (failing || tempfail_name(name))
		return TEMPFAIL(error_r);
	if (account_index(address) == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	struct dbox *b = mailbox_id != 0 ? box_by_id(mailbox_id) : NULL;
	if (mailbox_id != 0 && b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	size_t nlen = strlen(name);
	if (b != NULL && strcmp(name, STORE_METADATA_SPECIALUSE) == 0 && b->special[0] != '\0')
		cb(name, b->special, strlen(b->special), ctx);
	for (size_t i = 0; i < MAX_META; i++) {
		struct dmeta *m = &metas[i];
		if (m->name[0] == '\0' || m->mailbox_id != mailbox_id)
			continue;
		bool match = strcmp(m->name, name) == 0;
		if (!match && depth != 0 && strncmp(m->name, name, nlen) == 0 && m->name[nlen] == '/')
			match = depth == STORE_METADATA_DEPTH_INFINITY ||
				strchr(m->name + nlen + 1, '/') == NULL;
		if (match)
			cb(m->name, m->value, m->len, ctx);
	}
	return STORE_OK;
}

int store_metadata_set(struct store *st, const char *address, uint64_t mailbox_id,
		       const struct store_metadata_change *changes, size_t count,
		       uint64_t max_entries, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	if (account_index(address) == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	struct dbox *b = mailbox_id != 0 ? box_by_id(mailbox_id) : NULL;
	if (mailbox_id != 0 && (b == NULL || b->noselect))
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	size_t used = 0;
	for (size_t i = 0; i < MAX_META; i++)
		if (metas[i].name[0] != '\0' && metas[i].mailbox_id == mailbox_id)
			used++;
	if (used + count > max_entries || used + count > MAX_META / 2)
		return fail_with(error_r, STORE_OVERQUOTA, "too many entries");
	for (size_t c = 0; c < count; c++) {
		if (b != NULL && strcmp(changes[c].name, STORE_METADATA_SPECIALUSE) == 0) {
			snprintf(b->special, sizeof(b->special), "%.*s",
				 (int)(changes[c].value != NULL ? changes[c].len : 0),
				 changes[c].value != NULL ? changes[c].value : "");
			continue;
		}
		struct dmeta *slot = NULL;
		for (size_t i = 0; i < MAX_META; i++)
			if (metas[i].name[0] != '\0' && metas[i].mailbox_id == mailbox_id &&
			    strcmp(metas[i].name, changes[c].name) == 0)
				slot = &metas[i];
		if (changes[c].value == NULL) {
			if (slot != NULL) {
				free(slot->value);
				memset(slot, 0, sizeof(*slot));
			}
			continue;
		}
		for (size_t i = 0; i < MAX_META && slot == NULL; i++)
			if (metas[i].name[0] == '\0')
				slot = &metas[i];
		if (slot == NULL || strlen(changes[c].name) >= sizeof(slot->name))
			return fail_with(error_r, STORE_OVERQUOTA, "too many entries");
		free(slot->value);
		slot->mailbox_id = mailbox_id;
		snprintf(slot->name, sizeof(slot->name), "%s", changes[c].name);
		slot->value = xmalloc(changes[c].len + 1);
		memcpy(slot->value, changes[c].value, changes[c].len);
		slot->value[changes[c].len] = '\0';
		slot->len = changes[c].len;
	}
	return STORE_OK;
}

/* ---- URLAUTH ---- */

int store_urlauth_reset(struct store *st, const char *address, uint64_t mailbox_id,
			const char **error_r)
{
	(void)st;
	(void)address;
	(void)mailbox_id;
	if (failing)
		return TEMPFAIL(error_r);
	return STORE_OK;
}

int store_urlauth_sign(struct store *st, uint64_t mailbox_id, bool create, const char *rump,
		       size_t rump_len, char token_r[65], const char **error_r)
{
	(void)st;
	(void)create;
	if (failing)
		return TEMPFAIL(error_r);
	if (box_by_id(mailbox_id) == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	/* Not an HMAC: a deterministic stand-in of the right shape. */
	uint64_t h = 1469598103934665603ull ^ mailbox_id;
	for (size_t i = 0; i < rump_len; i++)
		h = (h ^ (unsigned char)rump[i]) * 1099511628211ull;
	for (int i = 0; i < 4; i++)
		snprintf(token_r + i * 16, 17, "%016llx", (unsigned long long)(h + (uint64_t)i));
	return STORE_OK;
}

int store_url_fetch_part(struct store *st, uint64_t mailbox_id, const struct imap_url *u,
			 struct buf *out, const char **why_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(why_r);
	struct dbox *b = box_by_id(mailbox_id);
	struct dmsg *m = b != NULL ? msg_by_uid(b, u->uid) : NULL;
	if (m == NULL)
		return fail_with(why_r, STORE_NOTFOUND, "no such message");
	if (u->section != NULL && u->section[0] != '\0')
		return fail_with(why_r, STORE_NOTFOUND, "fuzz double: no sections");
	size_t off = u->partial ? u->partial_offset : 0;
	size_t len = m->size > off ? m->size - off : 0;
	if (u->partial && u->partial_length > 0 && u->partial_length < len)
		len = u->partial_length;
	if (out->max > 0 && out->len + len > out->max)
		return STORE_URL_TOOBIG;
	buf_append(out, m->data + (m->size > off ? off : m->size), len);
	return STORE_OK;
}

int store_urlauth_fetch(struct store *st, const char *hostname, const char *url, size_t len,
			enum store_urlauth_role role, const char *requester, int64_t now,
			struct buf *out, const char **why_r)
{
	(void)st;
	(void)hostname;
	(void)role;
	(void)requester;
	(void)now;
	(void)out;
	if (failing)
		return TEMPFAIL(why_r);
	/* "tempfail" anywhere in the URL: a store failure; else refused. */
	for (size_t i = 0; i + 8 <= len; i++)
		if (str_ncasecmp(url + i, "tempfail", 8) == 0)
			return TEMPFAIL(why_r);
	return fail_with(why_r, STORE_NOTFOUND, "fuzz double: no URLAUTH keys");
}

/* ---- POP3 ---- */

int store_pop3_lock(struct store *st, const char *address, const char *holder, uint64_t ttl_ms,
		    uint64_t login_delay_ms, bool *too_soon_r, const char **error_r)
{
	(void)st;
	(void)ttl_ms;
	(void)login_delay_ms;
	*too_soon_r = false;
	if (failing || tempfail_name(address))
		return TEMPFAIL(error_r);
	if (account_index(address) == 0)
		return fail_with(error_r, STORE_NOTFOUND, "no such account");
	if (pop3_locked && strcmp(pop3_holder, holder) != 0)
		return fail_with(error_r, STORE_CONFLICT, "maildrop locked");
	pop3_locked = true;
	snprintf(pop3_holder, sizeof(pop3_holder), "%s", holder);
	pop3_last_login++;
	return STORE_OK;
}

int store_pop3_refresh(struct store *st, const char *address, const char *holder,
		       uint64_t ttl_ms, const char **error_r)
{
	(void)st;
	(void)address;
	(void)ttl_ms;
	if (failing)
		return TEMPFAIL(error_r);
	if (!pop3_locked || strcmp(pop3_holder, holder) != 0)
		return fail_with(error_r, STORE_CONFLICT, "lock lost");
	return STORE_OK;
}

int store_pop3_unlock(struct store *st, const char *address, const char *holder,
		      const char **error_r)
{
	(void)st;
	(void)address;
	/* Even while "failing": an unlock that never happens would only
	 * expire with its TTL, which the double does not model. */
	(void)error_r;
	if (pop3_locked && strcmp(pop3_holder, holder) == 0) {
		pop3_locked = false;
		pop3_holder[0] = '\0';
	}
	return STORE_OK;
}

int store_pop3_fetch_many(struct store *st, uint64_t mailbox_id, const uint32_t *uids,
			  size_t count,
			  void (*cb)(uint32_t uid, const char *data, size_t size, void *ctx),
			  void *ctx, const char **error_r)
{
	(void)st;
	if (failing)
		return TEMPFAIL(error_r);
	struct dbox *b = box_by_id(mailbox_id);
	if (b == NULL)
		return fail_with(error_r, STORE_NOTFOUND, "no such mailbox");
	/* In no particular order, as documented: backwards. */
	for (size_t i = count; i-- > 0;) {
		struct dmsg *m = msg_by_uid(b, uids[i]);
		if (m != NULL)
			cb(m->uid, m->data, m->size, ctx);
	}
	return STORE_OK;
}

int store_pop3_commit(struct store *st, const char *address, const char *holder,
		      uint64_t mailbox_id, const uint32_t *seen, size_t seen_count,
		      const uint32_t *deleted, size_t deleted_count, const char **error_r)
{
	(void)st;
	(void)address;
	if (failing) {
		pop3_commit_failed = true;
		return TEMPFAIL(error_r);
	}
	if (!pop3_locked || strcmp(pop3_holder, holder) != 0)
		return fail_with(error_r, STORE_CONFLICT, "lock lost");
	struct dbox *b = box_by_id(mailbox_id);
	if (b != NULL) {
		for (size_t i = 0; i < seen_count; i++) {
			struct dmsg *m = msg_by_uid(b, seen[i]);
			if (m != NULL)
				m->flags |= STORE_FLAG_SEEN;
		}
		size_t k = 0;
		for (size_t i = 0; i < b->n; i++) {
			bool del = false;
			for (size_t d = 0; d < deleted_count; d++)
				if (deleted[d] == b->msgs[i].uid)
					del = true;
			if (del) {
				total_bytes -= b->msgs[i].size;
				msg_clear(&b->msgs[i]);
			} else {
				b->msgs[k++] = b->msgs[i];
			}
		}
		b->n = k;
		b->hms++;
	}
	pop3_locked = false;
	pop3_holder[0] = '\0';
	return STORE_OK;
}
