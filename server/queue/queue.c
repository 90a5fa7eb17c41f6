/* The queue runners. Each runner thread owns a store connection, a
 * directory handle and a DNS resolver, and loops: claim a batch of due
 * recipients of one destination (with this node's per-destination
 * concurrency and rate limits), open one connection, send every message of
 * the batch over it, and record outcomes as it goes.
 *
 * Crash safety: before the final dot of a message its recipients are marked
 * dot_sent in a committed transaction (together with the previous message's
 * outcome); the outcome itself is committed as soon as the reply arrives. A
 * runner killed at any point leaves rows that the next claim settles: no
 * dot_sent -> sent again, dot_sent -> presumed delivered. So a kill -9 sends
 * no message twice and loses none, except when the remote refused a message
 * after its data in the very moment cairnd died. DSNs are stored in the
 * same transaction as the outcome they report, so each is made once. */
#include "autoconf.h"
#include "queue.h"
#include "config.h"
#include "../deliver/deliver.h"
#include "directory.h"
#include "dkim.h"
#include "dns.h"
#include "dsn.h"
#include "log.h"
#include "metrics.h"
#include "route.h"
#include "smtp-client.h"
#include "smtp_parser.h"
#include "store-dkim.h"
#include "store-mail.h"
#include "store-queue.h"
#include "store-sieve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How often runner 0 settles stale leases and refreshes the gauges. */
#define HOUSEKEEPING_MS 5000
/* Domains tracked in the destination registry before idle ones are dropped. */
#define DEST_KEEP 256
/* Seconds the DKIM keys of a domain are cached by a runner. */
#define DKIM_CACHE_S 60

/* Per-destination state shared by the runners of this node. */
struct dest {
	char *domain;
	unsigned active;	/* runners working on it now */
	double tokens;		/* rate limit bucket (messages) */
	uint64_t refill_ms;
};

struct queue {
	const struct config *cfg;
	struct directory *dir;
	SSL_CTX *ssl;
	char host[256];
	char prefix[300];	/* "host/pid/": our leases */
	atomic_bool stop;
	atomic_bool stop_hard;	/* shutdown_timeout passed: stop waiting at all */
	pthread_mutex_t lock;		/* the destination registry; claims */
	/* Wake-ups: wake_seq counts them, wake_pending says a runner was
	 * signalled and has not claimed yet (its claim will take whatever was
	 * queued meanwhile, so no second runner is woken for it). */
	pthread_mutex_t wake_lock;
	pthread_cond_t wake;
	atomic_uint_fast64_t wake_seq;
	atomic_bool wake_pending;
	struct dest *dests;
	size_t ndests;
	pthread_t *threads;
	unsigned nthreads;
	pthread_t listener;
	bool listener_started;
};

/* Everything decided about the recipients of one message. */
struct outcome {
	struct store_queue_update *u;
	size_t n, cap;
	struct store_queue_dsn *dsns;
	size_t ndsns;
	char **strings;		/* owned texts the updates point to */
	size_t nstrings;
	uint64_t *msgs;
	size_t nmsgs;
	uint64_t *dkim_ids;	/* signatures made now, saved with the outcome */
	const char **dkim_sigs;	/* owned (in strings) */
	size_t ndkim;
	void **plans;		/* per DSN: the Sieve plan (dsns[i].sieve) or NULL */
};

static queue_dsn_sieve_fn *dsn_sieve_hook;
static queue_dsn_sieve_free_fn *dsn_sieve_free;

void queue_set_dsn_sieve_hook(queue_dsn_sieve_fn *fn, queue_dsn_sieve_free_fn *free_fn)
{
	dsn_sieve_hook = fn;
	dsn_sieve_free = free_fn;
}

/* Cached DKIM keys of one domain. */
struct dkim_cache {
	char domain[256];
	time_t loaded;
	struct dkim_key **keys;
	size_t nkeys;
};

struct runner {
	struct queue *q;
	unsigned index;
	char node[320];
	struct store *st;
	struct dir_handle *dh;
	struct dns_resolver *dns;
	uint64_t last_renew_ms;
	uint64_t last_housekeeping_ms;
	struct dkim_cache dkim;
	struct conn_state *cached;	/* an idle connection kept for the next batch */
	struct outcome carry;		/* outcomes waiting for the next transaction */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- destination registry: concurrency and rate per domain ---- */

/* The rate bucket holds one second's worth of messages (at least one), so
 * a limit of 600/minute means 10 per second, not 600 at once. */
static double dest_burst(const struct queue *q)
{
	double b = (double)q->cfg->queue.rate_per_destination / 60.0;
	return b < 1.0 ? 1.0 : b;
}

static struct dest *dest_get(struct queue *q, const char *domain)
{
	for (size_t i = 0; i < q->ndests; i++)
		if (strcmp(q->dests[i].domain, domain) == 0)
			return &q->dests[i];
	if (q->ndests >= DEST_KEEP) {
		/* Forget idle destinations with a full bucket. */
		size_t o = 0;
		for (size_t i = 0; i < q->ndests; i++) {
			if (q->dests[i].active == 0) {
				free(q->dests[i].domain);
				continue;
			}
			q->dests[o++] = q->dests[i];
		}
		q->ndests = o;
	}
	q->dests = xrealloc(q->dests, (q->ndests + 1) * sizeof(*q->dests));
	struct dest *d = &q->dests[q->ndests++];
	d->domain = xstrdup(domain);
	d->active = 0;
	d->tokens = dest_burst(q);
	d->refill_ms = mono_ms();
	return d;
}

static void dest_refill(struct queue *q, struct dest *d)
{
	uint64_t rate = q->cfg->queue.rate_per_destination;
	if (rate == 0)
		return;
	uint64_t now = mono_ms();
	d->tokens += (double)(now - d->refill_ms) * (double)rate / 60000.0;
	if (d->tokens > dest_burst(q))
		d->tokens = dest_burst(q);
	d->refill_ms = now;
}

/* Take one message's worth of the destination's rate. Caller holds no lock. */
static bool dest_take(struct queue *q, const char *domain)
{
	if (q->cfg->queue.rate_per_destination == 0)
		return true;
	pthread_mutex_lock(&q->lock);
	struct dest *d = dest_get(q, domain);
	dest_refill(q, d);
	bool ok = d->tokens >= 1.0;
	if (ok)
		d->tokens -= 1.0;
	pthread_mutex_unlock(&q->lock);
	return ok;
}

/* Destinations a claim must skip now, newline-separated. Caller holds lock. */
static void dest_exclude(struct queue *q, struct buf *out)
{
	buf_reset(out);
	for (size_t i = 0; i < q->ndests; i++) {
		struct dest *d = &q->dests[i];
		dest_refill(q, d);
		if (d->active >= q->cfg->queue.max_per_destination ||
		    (q->cfg->queue.rate_per_destination > 0 && d->tokens < 1.0))
			buf_printf(out, "%s%s", out->len > 0 ? "\n" : "", d->domain);
	}
	if (out->data == NULL)
		buf_append_str(out, "");
}

/* ---- outcomes ---- */


static const char *own(struct outcome *o, char *s)
{
	o->strings = xrealloc(o->strings, (o->nstrings + 1) * sizeof(*o->strings));
	o->strings[o->nstrings++] = s;
	return s;
}

static void outcome_clear(struct outcome *o)
{
	for (size_t i = 0; i < o->nstrings; i++)
		free(o->strings[i]);
	for (size_t i = 0; i < o->ndsns; i++) {
		free((char *)o->dsns[i].data);
		if (o->plans[i] != NULL && dsn_sieve_free != NULL)
			dsn_sieve_free(o->plans[i]);
	}
	free(o->plans);
	free(o->strings);
	free(o->u);
	free(o->dsns);
	free(o->msgs);
	free(o->dkim_ids);
	free(o->dkim_sigs);
	memset(o, 0, sizeof(*o));
}

static struct store_queue_update *outcome_add(struct outcome *o, uint64_t rcpt_id,
					       uint64_t message_id)
{
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->u = xrealloc(o->u, o->cap * sizeof(*o->u));
	}
	struct store_queue_update *u = &o->u[o->n++];
	memset(u, 0, sizeof(*u));
	u->rcpt_id = rcpt_id;
	u->message_id = message_id;
	u->retry_in_ms = -1;
	return u;
}

static void outcome_msg(struct outcome *o, uint64_t id)
{
	for (size_t i = 0; i < o->nmsgs; i++)
		if (o->msgs[i] == id)
			return;
	o->msgs = xrealloc(o->msgs, (o->nmsgs + 1) * sizeof(*o->msgs));
	o->msgs[o->nmsgs++] = id;
}

/* Whether NOTIFY allows a DSN of this kind ("SUCCESS", "FAILURE", "DELAY").
 * No NOTIFY means FAILURE,DELAY (RFC 3461 4.1 recommends it). */
static bool notify_allows(const char *notify, const char *kind)
{
	if (notify == NULL || notify[0] == '\0')
		return strcmp(kind, "SUCCESS") != 0;
	char copy[64];
	snprintf(copy, sizeof(copy), "%s", notify);
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save))
		if (str_casecmp(t, kind) == 0)
			return true;
	return false;
}

/* One recipient block of a DSN in the making. */
struct pending_dsn {
	const char *action;
	struct dsn_recipient *r;	/* room for every recipient of the call */
	size_t n;
};

/* Where the sender's DSNs go: local INBOX id, 0 = through the queue to
 * the address in to (the sender, or where its alias points), or -1 =
 * nowhere (logged). */
static int64_t dsn_target(struct runner *r, const char *sender, char *to, size_t to_size,
			  char *account_r, size_t account_size)
{
	snprintf(to, to_size, "%s", sender);
	account_r[0] = '\0';
	struct dir_route route;
	memset(&route, 0, sizeof(route));
	const char *error = NULL;
	int ret = dir_resolve(r->dh, sender, &route, &error);
	if (ret == DIR_NOTOURS)
		return 0;
	if (ret != DIR_OK) {
		log_warn("queue event=dsn-undeliverable to=<%s> reason=\"%s\"", sender,
			 ret == DIR_NOTFOUND ? "no such local address" : error != NULL ? error : dir_status_str(ret));
		return -1;
	}
	const char *account = NULL;
	for (size_t i = 0; i < route.ntargets && account == NULL; i++)
		if (route.targets[i].local)
			account = route.targets[i].address;
	int64_t result = 0;
	if (account != NULL) {
		struct store_mailbox_info *info = xmalloc(sizeof(*info));
		if (dir_provision(r->dh, account, &error) == DIR_TEMPFAIL)
			log_warn("queue event=dsn-provision to=<%s> reason=\"%s\"", account,
				 error != NULL ? error : "");
		ret = store_mailbox_open(r->st, account, "INBOX", info, &error);
		if (ret == STORE_NOTFOUND) {
			ret = store_mailbox_provision_defaults(r->st, account, &error);
			if (ret == STORE_OK)
				ret = store_mailbox_open(r->st, account, "INBOX", info, &error);
		}
		result = ret == STORE_OK ? (int64_t)info->id : -1;
		snprintf(account_r, account_size, "%s", account);
		if (ret != STORE_OK)
			log_warn("queue event=dsn-undeliverable to=<%s> reason=\"%s\"", account,
				 error != NULL ? error : "no INBOX");
		free(info);
	} else if (route.ntargets > 0) {
		/* An alias of ours pointing elsewhere: straight to its target. */
		snprintf(to, to_size, "%s", route.targets[0].address);
		result = 0;
	} else {
		result = -1;
	}
	dir_route_free(&route);
	return result;
}

/* Build the DSN of p for message m and add it to o. */
static void make_dsn(struct runner *r, struct outcome *o, const struct store_queue_msg *m,
		     struct pending_dsn *p)
{
	if (p->n == 0)
		return;
	const struct config *cfg = r->q->cfg;
	char to[512], account[512];
	int64_t target = dsn_target(r, m->envelope_from, to, sizeof(to), account, sizeof(account));
	if (target < 0)
		return;
	static atomic_uint_fast64_t seq;
	char msgid[400];
	snprintf(msgid, sizeof(msgid), "<dsn.%" PRIu64 ".%lx.%lx@%s>", m->id, (unsigned long)time(NULL),
		 (unsigned long)atomic_fetch_add(&seq, 1) ^ (unsigned long)getpid(), cfg->server.hostname);
	char from[300];
	snprintf(from, sizeof(from), "MAILER-DAEMON@%s", cfg->server.hostname);
	struct dsn_report rep = {
		.reporting_mta = cfg->server.hostname,
		.from = from,
		.to = m->envelope_from,
		.envid = m->dsn_envid,
		.arrival = m->created,
		.now = time(NULL),
		.message_id = msgid,
		.return_full = m->dsn_ret != NULL && strcmp(m->dsn_ret, "FULL") == 0,
		.original = m->data,
		.original_len = m->data_len,
		.max_original = cfg->queue.max_bounce_size,
		.utf8 = m->smtputf8,
		.rcpts = p->r,
		.nrcpts = p->n,
	};
	struct buf out;
	buf_init(&out, 0);
	if (target > 0)
		buf_append_str(&out, "Return-Path: <>\r\n");
	size_t rp_len = out.len;
	const char *error = NULL;
	if (dsn_build(&rep, &out, &error) < 0) {
		log_err("queue event=dsn-failed id=%" PRIu64 " reason=\"%s\"", m->id,
			error != NULL ? error : "?");
		buf_free(&out);
		return;
	}
	/* A local sender's scripts run on its DSN as on any delivery (the
	 * plan adds its own Return-Path: <>); without a plan, INBOX. */
	struct store_sieve_txn *sieve = NULL;
	void *plan = NULL;
	if (target > 0 && dsn_sieve_hook != NULL && account[0] != '\0' &&
	    dsn_sieve_hook(r->st, account, out.data + rp_len, out.len - rp_len, &sieve, &plan) < 0) {
		log_warn("queue event=dsn-sieve-failed id=%" PRIu64 " to=<%s> action=keep", m->id,
			 account);
		sieve = NULL;
		plan = NULL;
	}
	o->dsns = xrealloc(o->dsns, (o->ndsns + 1) * sizeof(*o->dsns));
	o->plans = xrealloc(o->plans, (o->ndsns + 1) * sizeof(*o->plans));
	o->plans[o->ndsns] = plan;
	o->dsns[o->ndsns++] = (struct store_queue_dsn){
		.data = out.data, .size = out.len, .to = own(o, xstrdup(to)),
		.mailbox_id = (uint64_t)target, .sieve = sieve,
	};
	metrics_inc(&metrics.queue_dsns);
	log_info("queue event=dsn id=%" PRIu64 " action=%s to=<%s> recipients=%zu%s", m->id, p->action,
		 m->envelope_from, p->n, target > 0 ? " local=yes" : "");
}

/* The RFC 3463 code of a reply, or one made from its class. */
static const char *reply_status(const struct smtp_reply *rep, char *buf, size_t size)
{
	if (rep->status[0] != '\0' && rep->status[0] == (char)('0' + rep->code / 100))
		return rep->status;
	if (rep->status[0] != '\0' && rep->code == 0)
		return rep->status;
	snprintf(buf, size, "%d.0.0", rep->code / 100 == 5 ? 5 : 4);
	return buf;
}

/* The decision for one recipient after an attempt (or without one). */
struct verdict {
	int kind;		/* 'd' delivered, 'f' failed, 't' deferred, 'r' released */
	struct smtp_reply reply;
	bool attempted;
	bool relayed;		/* delivered to a server without DSN: success DSN if asked */
	int64_t retry_ms;	/* released: when to try again */
};

/* Turn verdicts for the recipients rc[0..n) of message m into updates and
 * DSNs in o. */
static void decide(struct runner *r, struct outcome *o, const struct store_queue_msg *m,
		   struct store_queue_rcpt *const *rc, const struct verdict *v, size_t n,
		   const char *remote)
{
	const struct config *cfg = r->q->cfg;
	time_t now = time(NULL);
	bool null_sender = m->envelope_from[0] == '\0';
	struct pending_dsn *fail = xcalloc(1, sizeof(*fail)), *delay = xcalloc(1, sizeof(*delay)),
			   *relay = xcalloc(1, sizeof(*relay));
	fail->action = "failed";
	delay->action = "delayed";
	relay->action = "relayed";
	fail->r = xcalloc(n, sizeof(*fail->r));
	delay->r = xcalloc(n, sizeof(*delay->r));
	relay->r = xcalloc(n, sizeof(*relay->r));
	for (size_t i = 0; i < n; i++) {
		struct store_queue_update *u = outcome_add(o, rc[i]->id, m->id);
		u->remote_host = remote != NULL ? own(o, xstrdup(remote)) : NULL;
		u->attempted = v[i].attempted;
		char sbuf[16];
		const char *status = v[i].kind == 'd' ? "2.0.0" : reply_status(&v[i].reply, sbuf, sizeof(sbuf));
		u->status = own(o, xstrdup(status));
		char *diag = v[i].reply.code > 0
				     ? xasprintf("%s", v[i].reply.text)
				     : xasprintf("%s", v[i].reply.text[0] ? v[i].reply.text : "no reply");
		u->error = own(o, diag);
		int kind = v[i].kind;
		uint64_t expiry = (uint64_t)m->created * 1000 + cfg->queue.lifetime_ms;
		uint64_t now_ms = (uint64_t)now * 1000;
		if (kind == 't' && now_ms >= expiry) {
			kind = 'f';	/* expired: the last temporary error is the reason */
			char *why = xasprintf("delivery time expired after %u attempts; last error: %s",
					      rc[i]->attempts + 1, diag);
			u->error = own(o, why);
			if (status[0] != '4')
				u->status = "4.4.7";
		}
		struct pending_dsn *p = NULL;
		switch (kind) {
		case 'd':
			u->state = "delivered";
			metrics_inc(&metrics.queue_delivered);
			if (v[i].relayed && !null_sender && notify_allows(rc[i]->dsn_notify, "SUCCESS"))
				p = relay;
			break;
		case 'f':
			u->state = "failed";
			metrics_inc(&metrics.queue_bounced);
			if (!null_sender && notify_allows(rc[i]->dsn_notify, "FAILURE"))
				p = fail;
			u->dsn_sent = true;
			break;
		case 't': {
			u->state = "deferred";
			metrics_inc(&metrics.queue_deferred);
			unsigned a = rc[i]->attempts + 1;
			uint64_t delay_ms = cfg->queue.retry_min_ms;
			for (unsigned k = 1; k < a && delay_ms < cfg->queue.retry_max_ms; k++)
				delay_ms *= 2;
			if (delay_ms > cfg->queue.retry_max_ms)
				delay_ms = cfg->queue.retry_max_ms;
			/* One last attempt right at the end of the lifetime. */
			if (now_ms + delay_ms > expiry)
				delay_ms = expiry > now_ms ? expiry - now_ms : 0;
			u->retry_in_ms = (int64_t)delay_ms;
			if (!rc[i]->warned && !null_sender && cfg->queue.delay_warning_ms > 0 &&
			    now_ms >= (uint64_t)m->created * 1000 + cfg->queue.delay_warning_ms &&
			    notify_allows(rc[i]->dsn_notify, "DELAY")) {
				p = delay;
				u->warned = true;
			}
			break;
		}
		default:
			u->state = "queued";
			u->retry_in_ms = v[i].retry_ms;
			u->status = NULL;
			u->error = NULL;
			break;
		}
		if (p != NULL) {
			struct dsn_recipient *d = &p->r[p->n++];
			d->address = rc[i]->address;
			d->orcpt = rc[i]->dsn_orcpt;
			d->action = p->action;
			d->status = u->status;
			d->remote_mta = remote;
			d->diagnostic = v[i].reply.code > 0 ? u->error : NULL;
			d->last_attempt = v[i].attempted ? now : 0;
			d->will_retry_until = p == delay ? (time_t)(expiry / 1000) : 0;
		}
		log_info("queue event=%s id=%" PRIu64 " rcpt=<%s> relay=%s attempts=%u status=%s reason=\"%s\"",
			 u->state, m->id, rc[i]->address, remote != NULL ? remote : "none",
			 rc[i]->attempts + (v[i].attempted ? 1 : 0), u->status != NULL ? u->status : "-",
			 u->error != NULL ? u->error : "");
	}
	make_dsn(r, o, m, fail);
	make_dsn(r, o, m, delay);
	make_dsn(r, o, m, relay);
	free(fail->r);
	free(delay->r);
	free(relay->r);
	free(fail);
	free(delay);
	free(relay);
	outcome_msg(o, m->id);
}

/* Commit o (with dot marks if any); keeps trying while the database is
 * down, since the outcome must not be lost. */
static void commit(struct runner *r, struct outcome *o, uint64_t dot_msg, const uint64_t *dot,
		   size_t ndot, const char *host)
{
	if (o->n == 0 && ndot == 0 && o->nmsgs == 0 && o->ndkim == 0)
		return;
	struct store_queue_txn t = {
		.updates = o->u, .nupdates = o->n, .dot_message = dot_msg, .dot_ids = dot, .ndot = ndot,
		.dot_host = host,
		.dsns = o->dsns, .ndsns = o->ndsns, .message_ids = o->msgs, .nmessages = o->nmsgs,
		.dkim_ids = o->dkim_ids, .dkim_sigs = o->dkim_sigs, .ndkim = o->ndkim,
	};
	const char *error = NULL;
	for (unsigned tries = 0;; tries++) {
		int ret = store_queue_apply(r->st, r->node, &t, &error);
		if (ret == STORE_OK)
			break;
		log_err("queue event=commit-failed runner=%u reason=\"%s\" retry=%u", r->index,
			error != NULL ? error : store_result_str(ret), tries);
		if (ret != STORE_TEMPFAIL && ret != STORE_CONFLICT) {
			/* A bug or bad data: the lease expires and the rows are
			 * settled again; never loop forever. */
			break;
		}
		usleep(200 * 1000);
		if (tries > 50)
			break;
	}
	if (t.lost > 0)
		log_warn("queue event=lease-lost runner=%u rows=%zu", r->index, t.lost);
	/* a script's redirect of a DSN: send it without waiting for a poll */
	for (size_t i = 0; i < o->ndsns; i++)
		if (o->dsns[i].sieve != NULL && o->dsns[i].sieve->queued) {
			queue_wake();
			break;
		}
	outcome_clear(o);
}

/* ---- DKIM ---- */

static void dkim_cache_clear(struct dkim_cache *c)
{
	for (size_t i = 0; i < c->nkeys; i++)
		dkim_key_free(c->keys[i]);
	free(c->keys);
	memset(c, 0, sizeof(*c));
}

/* The DKIM-Signature fields for m ("" when its From: domain has no key). */
static char *dkim_signature(struct runner *r, const struct store_queue_msg *m)
{
	char from[512];
	if (deliver_header_from(m->data, m->data_len, from, sizeof(from)) < 0)
		return xstrdup("");
	const char *domain = strrchr(from, '@') + 1;
	time_t now = time(NULL);
	struct dkim_cache *c = &r->dkim;
	if (strcmp(c->domain, domain) != 0 || now - c->loaded > DKIM_CACHE_S) {
		dkim_cache_clear(c);
		struct store_dkim_key *keys = NULL;
		size_t count = 0;
		char error[256] = "";
		if (store_dkim_keys_get(r->st, domain, &keys, &count, error, sizeof(error)) < 0) {
			log_warn("queue event=dkim-keys domain=%s reason=\"%s\"", domain, error);
			return NULL;	/* try again at the next attempt */
		}
		c->keys = xcalloc(count + 1, sizeof(*c->keys));
		for (size_t i = 0; i < count; i++) {
			struct dkim_key *k = dkim_key_load(keys[i].domain, keys[i].selector,
							   keys[i].private_pem, error, sizeof(error));
			if (k == NULL)
				log_err("queue event=dkim-bad-key domain=%s selector=%s reason=\"%s\"",
					keys[i].domain, keys[i].selector, error);
			else
				c->keys[c->nkeys++] = k;
		}
		store_dkim_keys_free(keys, count);
		snprintf(c->domain, sizeof(c->domain), "%s", domain);
		c->loaded = now;
	}
	struct buf out;
	buf_init(&out, 0);
	buf_append_str(&out, "");
	for (size_t i = 0; i < c->nkeys; i++) {
		char error[256];
		if (dkim_sign(c->keys[i], m->data, m->data_len, now, &out, error, sizeof(error)) < 0)
			log_err("queue event=dkim-sign-failed id=%" PRIu64 " domain=%s reason=\"%s\"", m->id,
				domain, error);
	}
	return out.data;
}

/* ---- sending ---- */

/* Where to connect for a destination. */
struct target {
	struct route route;
	struct dns_result *dns;	/* hosts in order */
};

/* Fill t for domain; on failure, v says what happens to the recipients. */
static int resolve(struct runner *r, const char *domain, struct target *t, struct verdict *v)
{
	memset(v, 0, sizeof(*v));
	route_find(r->q->cfg, domain, &t->route);
	t->dns = xcalloc(1, sizeof(*t->dns));
	struct dns_result *res = t->dns;
	const char *name = t->route.mx ? domain : t->route.host;
	struct in_addr a4;
	struct in6_addr a6;
	/* A recipient at an address literal (RFC 5321 4.1.3): that host, no
	 * MX, unless a route for it says otherwise. */
	char literal[INET6_ADDRSTRLEN + 8];
	size_t dlen = strlen(domain);
	if (t->route.mx && dlen > 2 && domain[0] == '[' && domain[dlen - 1] == ']' &&
	    dlen - 2 < sizeof(literal)) {
		const char *in = domain + 1;
		size_t len = dlen - 2;
		if (len > 5 && str_ncasecmp(in, "IPv6:", 5) == 0) {
			in += 5;
			len -= 5;
		}
		memcpy(literal, in, len);
		literal[len] = '\0';
		if (inet_pton(AF_INET, literal, &a4) == 1 || (in != domain + 1 && inet_pton(AF_INET6, literal, &a6) == 1)) {
			name = literal;
			t->route.mx = false;
		}
	}
	if (!t->route.mx && (inet_pton(AF_INET, name, &a4) == 1 || inet_pton(AF_INET6, name, &a6) == 1)) {
		/* An address literal needs no DNS. */
		res->status = DNS_OK;
		res->nhosts = 1;
		struct dns_host *h = &res->hosts[0];
		snprintf(h->name, sizeof(h->name), "%s", name);
		h->naddrs = 1;
		if (inet_pton(AF_INET, name, &a4) == 1) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&h->addrs[0];
			sin->sin_family = AF_INET;
			sin->sin_addr = a4;
			h->addrlens[0] = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->addrs[0];
			sin6->sin6_family = AF_INET6;
			sin6->sin6_addr = a6;
			h->addrlens[0] = sizeof(*sin6);
		}
	} else {
		if (r->dns == NULL) {
			char error[256];
			r->dns = dns_resolver_new(r->q->cfg->queue.resolver, r->q->cfg->queue.dns_timeout_ms,
						  error, sizeof(error));
			if (r->dns == NULL) {
				v->kind = 't';
				v->reply.code = 0;
				snprintf(v->reply.status, sizeof(v->reply.status), "4.4.3");
				snprintf(v->reply.text, sizeof(v->reply.text), "DNS resolver: %s", error);
				return -1;
			}
		}
		if (t->route.mx)
			dns_resolve_mail(r->dns, name, res);
		else
			dns_resolve_host(r->dns, name, res);
	}
	switch (res->status) {
	case DNS_OK:
		break;
	case DNS_NULLMX:
		v->kind = 'f';
		v->reply.code = 556;
		snprintf(v->reply.status, sizeof(v->reply.status), "5.1.10");
		snprintf(v->reply.text, sizeof(v->reply.text),
			 "556 5.1.10 %s does not accept mail (null MX, RFC 7505)", domain);
		return -1;
	case DNS_NOTFOUND:
		v->kind = 'f';
		v->reply.code = 550;
		snprintf(v->reply.status, sizeof(v->reply.status), "5.1.2");
		snprintf(v->reply.text, sizeof(v->reply.text), "550 5.1.2 %s", res->error);
		return -1;
	default:
		v->kind = 't';
		snprintf(v->reply.status, sizeof(v->reply.status), "4.4.3");
		snprintf(v->reply.text, sizeof(v->reply.text), "%s", res->error);
		return -1;
	}
	/* Port: a static route's, else 25 (routes may override for tests). */
	for (size_t i = 0; i < res->nhosts; i++) {
		for (size_t k = 0; k < res->hosts[i].naddrs; k++) {
			struct sockaddr_storage *ss = &res->hosts[i].addrs[k];
			if (ss->ss_family == AF_INET)
				((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)t->route.port);
			else if (ss->ss_family == AF_INET6)
				((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)t->route.port);
		}
	}
	return 0;
}

/* A connection for t: tries every host and address in order. */
struct conn_state {
	struct smtp_client *c;
	struct smtp_client_params p;	/* c points to it: cs never moves */
	char server_name[256];
	char host[300];		/* "name[addr]:port" for logs and DSNs */
	char key[600];		/* host + TLS mode + AUTH user: what may reuse it */
	char *password;
	size_t next_host, next_addr;
	uint64_t idle_since_ms;
};

/* A connection is kept open this long after its batch, for the next batch
 * to the same host (Postfix's connection cache does the same). */
#define CONN_CACHE_MS 2000

static void conn_state_free(struct conn_state **csp, bool quit)
{
	struct conn_state *cs = *csp;
	if (cs == NULL)
		return;
	smtp_client_close(&cs->c, quit);
	if (cs->password != NULL) {
		memset(cs->password, 0, strlen(cs->password));
		free(cs->password);
	}
	free(cs);
	*csp = NULL;
}

/* "name[addr]:port" of one candidate address. */
static void host_label(const struct dns_host *h, size_t k, unsigned port, char *out, size_t size)
{
	char addr[INET6_ADDRSTRLEN] = "?";
	const struct sockaddr_storage *ss = &h->addrs[k];
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, addr, sizeof(addr));
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, addr, sizeof(addr));
	snprintf(out, size, "%s[%s]:%u", h->name, addr, port);
}

static void conn_key(const struct target *t, const char *host, char *out, size_t size)
{
	snprintf(out, size, "%s tls=%s auth=%s", host, route_tls_name(t->route.tls),
		 t->route.auth_user);
}

static int open_conn(struct runner *r, struct target *t, struct conn_state *cs, struct smtp_reply *last)
{
	const struct config *cfg = r->q->cfg;
	memset(last, 0, sizeof(*last));
	snprintf(last->status, sizeof(last->status), "4.4.1");
	snprintf(last->text, sizeof(last->text), "no address to connect to");
	for (; cs->next_host < t->dns->nhosts; cs->next_host++, cs->next_addr = 0) {
		struct dns_host *h = &t->dns->hosts[cs->next_host];
		for (; cs->next_addr < h->naddrs; cs->next_addr++) {
			if (atomic_load(&r->q->stop))
				return -1;
			struct sockaddr_storage *ss = &h->addrs[cs->next_addr];
			host_label(h, cs->next_addr, t->route.port, cs->host, sizeof(cs->host));
			conn_key(t, cs->host, cs->key, sizeof(cs->key));
			snprintf(cs->server_name, sizeof(cs->server_name), "%s", h->name);
			cs->p = (struct smtp_client_params){
				.helo = cfg->server.hostname,
				.server_name = cs->server_name,
				.tls = (int)t->route.tls,
				.ssl_ctx = r->q->ssl,
				.auth_user = t->route.auth_user[0] != '\0' ? t->route.auth_user : NULL,
				.auth_password = cs->password,
				.connect_timeout_ms = cfg->queue.connect_timeout_ms,
				.command_timeout_ms = cfg->queue.command_timeout_ms,
				.data_init_timeout_ms = cfg->queue.data_init_timeout_ms,
				.data_block_timeout_ms = cfg->queue.data_block_timeout_ms,
				.data_done_timeout_ms = cfg->queue.data_done_timeout_ms,
				.abort = &r->q->stop,
				.abort_hard = &r->q->stop_hard,
			};
			metrics_inc(&metrics.queue_connections);
			if (smtp_client_open((struct sockaddr *)ss, h->addrlens[cs->next_addr], &cs->p, &cs->c,
					     last) == 0) {
				log_debug("queue event=connected runner=%u host=%s tls=%s", r->index, cs->host,
					  smtp_client_tls_version(cs->c));
				cs->next_addr++;
				return 0;
			}
			log_info("queue event=connect-failed runner=%u host=%s reason=\"%s\"", r->index,
				 cs->host, last->text);
		}
	}
	return -1;
}

/* Append " KEY=xtext(value)" to out. */
static void xparam(struct buf *out, const char *key, const char *value)
{
	buf_printf(out, " %s=", key);
	smtp_xtext_encode(out, value, strlen(value));
}

/* Lease renewal when a third of it has passed. */
static void maybe_renew(struct runner *r)
{
	uint64_t now = mono_ms();
	if (now - r->last_renew_ms < r->q->cfg->queue.lease_ms / 3)
		return;
	const char *error = NULL;
	if (store_queue_renew(r->st, r->node, r->q->cfg->queue.lease_ms, &error) == STORE_OK)
		r->last_renew_ms = now;
	else
		log_warn("queue event=renew-failed runner=%u reason=\"%s\"", r->index, error);
}

/* What the before-dot hook commits. */
struct dot_ctx {
	struct runner *r;
	struct outcome *o;	/* previous outcomes, committed with the mark */
	struct store_queue_rcpt **rc;
	struct smtp_client_txn *t;
	uint64_t *ids;
	size_t nids;
	const char *host;
	bool pending;		/* a COMMIT was sent and not yet waited for */
};

/* Mark the recipients the server accepted (only those: one refused at RCPT
 * must be retried after a crash, not presumed delivered), together with
 * the previous outcomes; the COMMIT goes out right before the dot. */
static int before_dot(void *ctx)
{
	struct dot_ctx *d = ctx;
	d->nids = 0;
	for (size_t i = 0; i < d->t->nrcpts; i++)
		if (d->t->mail_reply.code / 100 == 2 && d->t->rcpts[i].reply.code / 100 == 2)
			d->ids[d->nids++] = d->rc[i]->id;
	struct store_queue_txn t = {
		.updates = d->o->u, .nupdates = d->o->n, .dot_message = d->rc[0]->message_id,
		.dot_ids = d->ids, .ndot = d->nids,
		.dot_host = d->host, .dsns = d->o->dsns, .ndsns = d->o->ndsns,
		.message_ids = d->o->msgs, .nmessages = d->o->nmsgs,
		.dkim_ids = d->o->dkim_ids, .dkim_sigs = d->o->dkim_sigs, .ndkim = d->o->ndkim,
	};
	const char *error = NULL;
	d->pending = store_queue_apply_begin(d->r->st, d->r->node, &t, &error) == STORE_OK;
	if (!d->pending) {
		log_warn("queue event=mark-failed runner=%u reason=\"%s\"", d->r->index, error);
		commit(d->r, d->o, d->rc[0]->message_id, d->ids, d->nids, d->host);	/* waiting */
	}
	return 0;
}

static void after_dot(void *ctx)
{
	struct dot_ctx *d = ctx;
	if (!d->pending)
		return;
	d->pending = false;
	const char *error = NULL;
	if (store_queue_apply_end(d->r->st, &error) == STORE_OK) {
		outcome_clear(d->o);
		return;
	}
	/* Nothing was applied: apply it again, waiting this time. */
	log_warn("queue event=mark-failed runner=%u reason=\"%s\"", d->r->index, error);
	commit(d->r, d->o, d->rc[0]->message_id, d->ids, d->nids, d->host);
}

/* Verdicts for everyone in rc[0..n) alike. */
static void decide_all(struct runner *r, struct outcome *o, struct store_queue_batch *b, size_t from,
		       size_t to, const struct verdict *v, const char *remote)
{
	for (size_t i = from; i < to;) {
		size_t j = i;
		while (j < to && b->rcpts[j].message_id == b->rcpts[i].message_id)
			j++;
		struct store_queue_msg *m = store_queue_batch_msg(b, b->rcpts[i].message_id);
		struct store_queue_rcpt **rc = xcalloc(j - i, sizeof(*rc));
		struct verdict *vs = xcalloc(j - i, sizeof(*vs));
		for (size_t k = i; k < j; k++) {
			rc[k - i] = &b->rcpts[k];
			vs[k - i] = *v;
		}
		if (m != NULL)
			decide(r, o, m, rc, vs, j - i, remote);
		free(rc);
		free(vs);
		i = j;
	}
}

/* Send message m to its recipients rc[0..n) over cs. Returns the
 * smtp_client_send result (-1: the connection is gone). */
static int send_one(struct runner *r, struct outcome *o, struct conn_state *cs,
		    struct store_queue_msg *m, struct store_queue_rcpt **rc, size_t n, bool reused)
{
	const struct config *cfg = r->q->cfg;
	unsigned ext = smtp_client_extensions(cs->c);
	struct verdict *v = xcalloc(n, sizeof(*v));
	int ret = 0;

	/* Requirements the server cannot meet: bounce now (RFC 6531 3.5,
	 * RFC 6152 3, RFC 1870 6.1). */
	const char *refuse = NULL, *status = NULL;
	uint64_t limit = smtp_client_size_limit(cs->c);
	if (m->smtputf8 && !(ext & SMTPC_EXT_SMTPUTF8)) {
		refuse = "the remote server does not support SMTPUTF8";
		status = "5.6.7";
	} else if (strcmp(m->body, "8BITMIME") == 0 && !(ext & SMTPC_EXT_8BITMIME)) {
		refuse = "the remote server does not support 8BITMIME and the message cannot be converted";
		status = "5.6.3";
	} else if ((ext & SMTPC_EXT_SIZE) && limit > 0 && m->data_len > limit) {
		refuse = "the message is larger than the remote server accepts";
		status = "5.3.4";
	}
	if (refuse != NULL) {
		for (size_t i = 0; i < n; i++) {
			v[i].kind = 'f';
			v[i].attempted = true;
			v[i].reply.code = 554;
			snprintf(v[i].reply.status, sizeof(v[i].reply.status), "%s", status);
			snprintf(v[i].reply.text, sizeof(v[i].reply.text), "554 %s %s (%s)", status, refuse,
				 cs->host);
		}
		decide(r, o, m, rc, v, n, cs->host);
		free(v);
		return 0;
	}

	/* DKIM: made once, kept with the message (saved with the next outcome
	 * transaction, no commit of its own) so a retry sends the same bytes. */
	if (cfg->queue.dkim && m->dkim_signature == NULL) {
		m->dkim_signature = dkim_signature(r, m);
		if (m->dkim_signature != NULL) {
			o->dkim_ids = xrealloc(o->dkim_ids, (o->ndkim + 1) * sizeof(*o->dkim_ids));
			o->dkim_sigs = xrealloc(o->dkim_sigs, (o->ndkim + 1) * sizeof(*o->dkim_sigs));
			o->dkim_ids[o->ndkim] = m->id;
			o->dkim_sigs[o->ndkim] = own(o, xstrdup(m->dkim_signature));
			o->ndkim++;
		}
	}

	struct buf mp;
	buf_init(&mp, 0);
	buf_append_str(&mp, "");
	if (ext & SMTPC_EXT_SIZE)
		buf_printf(&mp, " SIZE=%zu", m->data_len + (m->dkim_signature ? strlen(m->dkim_signature) : 0));
	if (strcmp(m->body, "8BITMIME") == 0)
		buf_append_str(&mp, " BODY=8BITMIME");
	if (m->smtputf8)
		buf_append_str(&mp, " SMTPUTF8");
	bool dsn = (ext & SMTPC_EXT_DSN) != 0;
	if (dsn && m->dsn_ret != NULL)
		buf_printf(&mp, " RET=%s", m->dsn_ret);
	if (dsn && m->dsn_envid != NULL)
		xparam(&mp, "ENVID", m->dsn_envid);
	struct smtp_client_rcpt *cr = xcalloc(n, sizeof(*cr));
	struct buf *rp = xcalloc(n, sizeof(*rp));
	for (size_t i = 0; i < n; i++) {
		buf_init(&rp[i], 0);
		buf_append_str(&rp[i], "");
		if (dsn && rc[i]->dsn_notify != NULL)
			buf_printf(&rp[i], " NOTIFY=%s", rc[i]->dsn_notify);
		if (dsn && rc[i]->dsn_orcpt != NULL) {
			const char *semi = strchr(rc[i]->dsn_orcpt, ';');
			if (semi != NULL) {
				buf_printf(&rp[i], " ORCPT=%.*s;", (int)(semi - rc[i]->dsn_orcpt), rc[i]->dsn_orcpt);
				smtp_xtext_encode(&rp[i], semi + 1, strlen(semi + 1));
			}
		}
		cr[i].address = rc[i]->address;
		cr[i].params = rp[i].data;
	}
	uint64_t *ids = xcalloc(n, sizeof(*ids));
	struct smtp_client_txn t = {
		.from = m->envelope_from, .mail_params = mp.data, .rcpts = cr, .nrcpts = n,
		.prefix = m->dkim_signature, .prefix_len = m->dkim_signature ? strlen(m->dkim_signature) : 0,
		.data = m->data, .data_len = m->data_len, .before_dot = before_dot,
		.after_dot = after_dot,
	};
	struct dot_ctx dctx = { .r = r, .o = o, .rc = rc, .t = &t, .ids = ids, .host = cs->host };
	t.ctx = &dctx;
	ret = smtp_client_send(cs->c, &t);

	for (size_t i = 0; i < n; i++) {
		const struct smtp_reply *rr = &cr[i].reply;
		v[i].attempted = true;
		if (ret < 0 && reused && t.mail_reply.code == 0) {
			/* A kept connection the server had dropped: not an
			 * attempt; due again at once. */
			v[i].kind = 'r';
			v[i].attempted = false;
			v[i].retry_ms = 0;
		} else if (t.mail_reply.code / 100 != 2) {
			v[i].reply = t.mail_reply;
			v[i].kind = t.mail_reply.code / 100 == 5 ? 'f' : 't';
		} else if (rr->code / 100 != 2) {
			v[i].reply = *rr;
			v[i].kind = rr->code / 100 == 5 ? 'f' : 't';
		} else if (ret == 1 && t.data_reply.code / 100 == 2) {
			v[i].reply = t.data_reply;
			v[i].kind = 'd';
			v[i].relayed = !dsn;
		} else {
			/* Refused at DATA or after it, or the connection broke:
			 * retry (a lost reply after the dot is a possible
			 * duplicate, RFC 5321 6.1, never a loss). */
			v[i].reply = t.data_reply;
			v[i].kind = t.data_reply.code / 100 == 5 ? 'f' : 't';
		}
	}
	decide(r, o, m, rc, v, n, cs->host);
	for (size_t i = 0; i < n; i++)
		buf_free(&rp[i]);
	free(rp);
	free(cr);
	free(ids);
	buf_free(&mp);
	free(v);
	return ret;
}

/* Deliver a claimed batch (one domain). */
static void run_batch(struct runner *r, struct store_queue_batch *b)
{
	const char *domain = b->rcpts[0].domain;
	/* Outcomes not committed yet, possibly from the previous batch (see
	 * the end of this function). */
	struct outcome *o = &r->carry;
	struct target t;
	struct verdict v;
	memset(&t, 0, sizeof(t));
	if (resolve(r, domain, &t, &v) < 0) {
		v.attempted = true;
		decide_all(r, o, b, 0, b->nrcpts, &v, NULL);
		commit(r, o, 0, NULL, 0, NULL);
		free(t.dns);
		return;
	}
	struct conn_state *cs = xcalloc(1, sizeof(*cs));
	if (t.route.auth_user[0] != '\0') {
		char why[300];
		cs->password = route_read_password(&t.route, why, sizeof(why));
		if (cs->password == NULL) {
			memset(&v, 0, sizeof(v));
			v.kind = 't';
			v.attempted = true;
			snprintf(v.reply.status, sizeof(v.reply.status), "4.7.0");
			snprintf(v.reply.text, sizeof(v.reply.text), "route for %s: %s", domain, why);
			decide_all(r, o, b, 0, b->nrcpts, &v, NULL);
			commit(r, o, 0, NULL, 0, NULL);
			free(t.dns);
			conn_state_free(&cs, false);
			return;
		}
	}
	struct smtp_reply last;
	memset(&last, 0, sizeof(last));
	bool reopened = false, reused = false;
	size_t i = 0;
	/* The connection the previous batch left open, if it goes to the
	 * first host we would try and the server has not closed it. */
	char key[600], first[300];
	key[0] = '\0';
	if (t.dns->nhosts > 0 && t.dns->hosts[0].naddrs > 0) {
		host_label(&t.dns->hosts[0], 0, t.route.port, first, sizeof(first));
		conn_key(&t, first, key, sizeof(key));
	}
	struct conn_state *cached = r->cached;
	r->cached = NULL;
	if (cached != NULL && strcmp(cached->key, key) == 0 &&
	    mono_ms() - cached->idle_since_ms < CONN_CACHE_MS && smtp_client_reusable(cached->c)) {
		conn_state_free(&cs, false);
		cs = cached;
		cs->next_host = 0;
		cs->next_addr = 1;
		reused = true;
		log_debug("queue event=connection-reused runner=%u host=%s", r->index, cs->host);
	} else {
		conn_state_free(&cached, true);
		if (open_conn(r, &t, cs, &last) < 0)
			goto rest;
	}
	while (i < b->nrcpts) {
		size_t j = i;
		while (j < b->nrcpts && b->rcpts[j].message_id == b->rcpts[i].message_id)
			j++;
		struct store_queue_msg *m = store_queue_batch_msg(b, b->rcpts[i].message_id);
		if (atomic_load(&r->q->stop))
			break;
		if (!dest_take(r->q, domain)) {
			/* Rate limit reached: the rest waits for new tokens. */
			memset(&v, 0, sizeof(v));
			v.kind = 'r';
			v.retry_ms = (int64_t)(60000 / r->q->cfg->queue.rate_per_destination) + 1;
			decide_all(r, o, b, i, b->nrcpts, &v, NULL);
			i = b->nrcpts;
			break;
		}
		maybe_renew(r);
		struct store_queue_rcpt **rc = xcalloc(j - i, sizeof(*rc));
		for (size_t k = i; k < j; k++)
			rc[k - i] = &b->rcpts[k];
		int ret = m != NULL ? send_one(r, o, cs, m, rc, j - i, reused) : 0;
		free(rc);
		i = j;
		reused = false;
		if (ret < 0) {
			smtp_client_close(&cs->c, false);
			/* One new connection (maybe the server limits messages per
			 * connection); if that fails, the rest is deferred. */
			commit(r, o, 0, NULL, 0, NULL);
			if (reopened || atomic_load(&r->q->stop))
				break;
			reopened = true;
			cs->next_host = 0;
			cs->next_addr = 0;
			if (open_conn(r, &t, cs, &last) < 0)
				break;
		}
	}
rest:
	if (i < b->nrcpts) {
		memset(&v, 0, sizeof(v));
		if (atomic_load(&r->q->stop)) {
			v.kind = 'r';	/* not tried: due again at once after restart */
			v.retry_ms = 0;
		} else {
			v.kind = 't';	/* no server reachable: retry */
			v.attempted = true;
			v.reply = last;
		}
		decide_all(r, o, b, i, b->nrcpts, &v, cs->host[0] ? cs->host : NULL);
	}
	if (cs->c != NULL && smtp_client_reusable(cs->c) && !atomic_load(&r->q->stop)) {
		/* The connection waits for the next batch to this host, and so
		 * do the outcomes: the next message's dot transaction commits
		 * them (the last message is marked dot_sent already, so a crash
		 * meanwhile loses nothing); an idle runner commits them first. */
		cs->idle_since_ms = mono_ms();
		r->cached = cs;
	} else {
		commit(r, o, 0, NULL, 0, NULL);
		conn_state_free(&cs, true);
	}
	free(t.dns);
}

/* ---- threads ---- */

/* Work was added: wake one sleeping runner, unless one is on its way. */
static void wake_one(struct queue *q)
{
	atomic_fetch_add(&q->wake_seq, 1);
	if (atomic_exchange(&q->wake_pending, true))
		return;
	pthread_mutex_lock(&q->wake_lock);
	pthread_cond_signal(&q->wake);
	pthread_mutex_unlock(&q->wake_lock);
}

/* The running queue for queue_wake, which workers call without a handle;
 * cleared (under the lock) before the queue is freed. */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queue *running;

void queue_wake(void)
{
	pthread_mutex_lock(&running_lock);
	struct queue *q = running;
	if (q != NULL)
		wake_one(q);
	pthread_mutex_unlock(&running_lock);
}

static void housekeeping(struct runner *r)
{
	uint64_t now = mono_ms();
	if (r->index != 0 || (r->last_housekeeping_ms != 0 && now - r->last_housekeeping_ms < HOUSEKEEPING_MS))
		return;
	r->last_housekeeping_ms = now;
	size_t reclaimed = 0, presumed = 0;
	const char *error = NULL;
	if (store_queue_reclaim(r->st, r->q->host, r->q->prefix, &reclaimed, &presumed, &error) != STORE_OK) {
		log_warn("queue event=reclaim-failed reason=\"%s\"", error);
		return;
	}
	if (reclaimed > 0 || presumed > 0)
		log_info("queue event=reclaimed rows=%zu presumed-delivered=%zu", reclaimed, presumed);
	size_t swept = 0;
	if (store_queue_sweep(r->st, &swept, &error) != STORE_OK)
		log_warn("queue event=sweep-failed reason=\"%s\"", error);
	else if (swept > 0)
		log_info("queue event=swept messages=%zu", swept);
	uint64_t msgs, rcpts, oldest;
	if (store_queue_stats(r->st, &msgs, &rcpts, &oldest, &error) == STORE_OK) {
		atomic_store(&metrics.queue_messages, msgs);
		atomic_store(&metrics.queue_recipients, rcpts);
		atomic_store(&metrics.queue_oldest_seconds, oldest);
	}
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;
	struct queue *q = r->q;
	struct buf exclude;
	buf_init(&exclude, 0);
	r->st = store_open(q->cfg);
	/* Every runner transaction may be lost with a database crash and
	 * redone (see the top of this file); none acknowledges mail. */
	store_set_async_commit(r->st);
	r->dh = dir_handle_create(q->dir, r->st);
	while (!atomic_load(&q->stop)) {
		housekeeping(r);
		/* This claim takes everything queued before a wake-up from now
		 * on: a later one must wake someone again. */
		atomic_store(&q->wake_pending, false);
		uint64_t seq = atomic_load(&q->wake_seq);
		pthread_mutex_lock(&q->lock);
		dest_exclude(q, &exclude);
		struct store_queue_batch b;
		const char *error = NULL;
		int ret = store_queue_claim(r->st, r->node, NULL, exclude.data, (unsigned)q->cfg->queue.batch,
					    q->cfg->queue.lease_ms, &b, &error);
		if (ret == STORE_OK && b.nrcpts > 0) {
			for (size_t i = 0; i < b.nrcpts; i++)
				if (i == 0 || strcmp(b.rcpts[i].domain, b.rcpts[i - 1].domain) != 0)
					dest_get(q, b.rcpts[i].domain)->active++;
		}
		pthread_mutex_unlock(&q->lock);
		if (ret == STORE_OK && b.nrcpts >= q->cfg->queue.batch)
			wake_one(q);	/* a full batch: there may be more */
		if (ret != STORE_OK || b.nrcpts == 0) {
			if (ret != STORE_OK)
				log_warn("queue event=claim-failed runner=%u reason=\"%s\"", r->index, error);
			/* Idle: commit what waits, close a kept connection
			 * nobody wants, then wait for a NOTIFY or the poll
			 * interval. */
			bool again = false;
			if (r->carry.n > 0 || r->carry.nmsgs > 0 || r->carry.ndkim > 0 ||
			    (r->cached != NULL && mono_ms() - r->cached->idle_since_ms >= CONN_CACHE_MS)) {
				commit(r, &r->carry, 0, NULL, 0, NULL);
				if (r->cached != NULL &&
				    mono_ms() - r->cached->idle_since_ms >= CONN_CACHE_MS)
					conn_state_free(&r->cached, true);
				again = true;	/* look again before sleeping */
			}
			pthread_mutex_lock(&q->wake_lock);
			if (!again && seq == atomic_load(&q->wake_seq) && !atomic_load(&q->stop)) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				uint64_t ns = (uint64_t)ts.tv_nsec + q->cfg->queue.poll_interval_ms * 1000000;
				ts.tv_sec += (time_t)(ns / 1000000000);
				ts.tv_nsec = (long)(ns % 1000000000);
				pthread_cond_timedwait(&q->wake, &q->wake_lock, &ts);
			}
			pthread_mutex_unlock(&q->wake_lock);
			store_queue_batch_free(&b);
			continue;
		}
		r->last_renew_ms = mono_ms();
		log_debug("queue event=claimed runner=%u recipients=%zu messages=%zu", r->index,
			  b.nrcpts, b.nmsgs);
		/* Domain by domain (the claim sorted them), each over its own
		 * route; a kept connection serves the next domain on the same
		 * host. */
		for (size_t i = 0; i < b.nrcpts;) {
			size_t j = i;
			while (j < b.nrcpts && strcmp(b.rcpts[j].domain, b.rcpts[i].domain) == 0)
				j++;
			struct store_queue_batch sub = {
				.rcpts = b.rcpts + i, .nrcpts = j - i, .msgs = b.msgs, .nmsgs = b.nmsgs,
			};
			run_batch(r, &sub);
			pthread_mutex_lock(&q->lock);
			dest_get(q, b.rcpts[i].domain)->active--;
			pthread_mutex_unlock(&q->lock);
			i = j;
		}
		store_queue_batch_free(&b);
	}
	buf_free(&exclude);
	commit(r, &r->carry, 0, NULL, 0, NULL);
	conn_state_free(&r->cached, true);
	dkim_cache_clear(&r->dkim);
	if (r->dns != NULL)
		dns_resolver_free(r->dns);
	dir_handle_destroy(&r->dh);
	store_close(&r->st);
	free(r);
	return NULL;
}

/* LISTEN cairn_queue and wake the runners when mail is queued. */
static void *listener_main(void *arg)
{
	struct queue *q = arg;
	struct store *st = store_open(q->cfg);
	bool listening = false;
	while (!atomic_load(&q->stop)) {
		const char *error = NULL;
		if (!listening) {
			if (store_queue_listen(st, &error) != STORE_OK) {
				usleep(500 * 1000);
				continue;
			}
			listening = true;
		}
		int ret = store_queue_wait(st, 500, &error);
		if (ret == 1) {
			/* One runner; it wakes the next if it finds a full batch,
			 * so a single new message costs one claim, not one per
			 * runner. */
			wake_one(q);
		} else if (ret < 0) {
			log_warn("queue event=listen-lost reason=\"%s\"", error);
			listening = false;
		}
	}
	store_close(&st);
	return NULL;
}

struct queue *queue_start(const struct config *cfg, struct directory *dir)
{
	if (cfg->queue.runners == 0) {
		log_info("queue event=disabled reason=\"[queue] runners = 0\"");
		return NULL;
	}
	struct queue *q = xcalloc(1, sizeof(*q));
	q->cfg = cfg;
	q->dir = dir;
	char why[256];
	q->ssl = smtp_client_ssl_ctx(cfg->queue.tls_ca_file, why, sizeof(why));
	if (q->ssl == NULL)
		fatal("%s: [queue] tls_ca_file: %s", cfg->path, why);
	snprintf(q->host, sizeof(q->host), "%s", cfg->server.hostname);
	snprintf(q->prefix, sizeof(q->prefix), "%s/%d/", q->host, (int)getpid());
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->wake_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_cond_init(&q->wake, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&q->listener, NULL, listener_main, q) != 0)
		fatal("queue: cannot start the listener thread");
	q->listener_started = true;
	q->nthreads = (unsigned)cfg->queue.runners;
	q->threads = xcalloc(q->nthreads, sizeof(*q->threads));
	for (unsigned i = 0; i < q->nthreads; i++) {
		struct runner *r = xcalloc(1, sizeof(*r));
		r->q = q;
		r->index = i;
		snprintf(r->node, sizeof(r->node), "%s%u", q->prefix, i);
		if (pthread_create(&q->threads[i], NULL, runner_main, r) != 0)
			fatal("queue: cannot start runner thread %u", i);
	}
	log_info("queue event=started runners=%u node=%s routes=%zu", q->nthreads, q->prefix,
		 cfg->routes.count);
	pthread_mutex_lock(&running_lock);
	running = q;
	pthread_mutex_unlock(&running_lock);
	return q;
}

void queue_stop(struct queue *q)
{
	if (q == NULL)
		return;
	atomic_store(&q->stop, true);
	pthread_mutex_lock(&q->wake_lock);
	pthread_cond_broadcast(&q->wake);
	pthread_mutex_unlock(&q->wake_lock);
}

void queue_destroy(struct queue **qp)
{
	struct queue *q = *qp;
	if (q == NULL)
		return;
	pthread_mutex_lock(&running_lock);
	if (running == q)
		running = NULL;
	pthread_mutex_unlock(&running_lock);
	queue_stop(q);
	/* A runner waiting for the reply to a dot gets shutdown_timeout; after
	 * that it gives up (the recipients are presumed delivered at the next
	 * start, see the top of this file). */
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	uint64_t ns = (uint64_t)deadline.tv_nsec + q->cfg->server.shutdown_timeout_ms * 1000000;
	deadline.tv_sec += (time_t)(ns / 1000000000);
	deadline.tv_nsec = (long)(ns % 1000000000);
	for (unsigned i = 0; i < q->nthreads; i++) {
		if (pthread_timedjoin_np(q->threads[i], NULL, &deadline) != 0) {
			log_warn("queue event=shutdown-timeout runner=%u", i);
			atomic_store(&q->stop_hard, true);
			pthread_join(q->threads[i], NULL);
		}
	}
	if (q->listener_started)
		pthread_join(q->listener, NULL);
	for (size_t i = 0; i < q->ndests; i++)
		free(q->dests[i].domain);
	free(q->dests);
	free(q->threads);
	SSL_CTX_free(q->ssl);
	pthread_cond_destroy(&q->wake);
	pthread_mutex_destroy(&q->wake_lock);
	pthread_mutex_destroy(&q->lock);
	free(q);
	*qp = NULL;
	log_info("queue event=stopped");
}
