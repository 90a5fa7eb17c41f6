/* The delivery pipeline: RCPT routing through the directory, the sender
 * ownership check of submission, and at end of data scan -> provision ->
 * one store transaction for every local and remote recipient. Runs on
 * worker threads only; the session turns the results into replies. */
#include "autoconf.h"
#include "deliver.h"
#include "directory.h"
#include "metrics.h"
#include "mime.h"
#include "log.h"
#include "store-deliver.h"
#include "store-queue.h"
#include "store.h"
#include "store-mail.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic(deliver_scan_fn *) scan_hook;

void deliver_set_scan_hook(deliver_scan_fn *fn)
{
	atomic_store(&scan_hook, fn);
}

static _Atomic(deliver_scan_stage_fn *) scan_stage;
static _Atomic(deliver_divert_fn *) divert_hook;

void deliver_set_scan_stage(deliver_scan_stage_fn *fn, deliver_divert_fn *divert)
{
	atomic_store(&divert_hook, divert);
	atomic_store(&scan_stage, fn);
}

void deliver_verdict_clear(struct deliver_verdict *v)
{
	free(v->data);
	for (size_t i = 0; i < v->ntargets; i++)
		free(v->targets[i].account);
	free(v->targets);
	memset(v, 0, sizeof(*v));
}

/* Where the scan stage sends the local copy of account. */
static enum deliver_disposition disposition_of(const struct deliver_verdict *v,
					       const char *account)
{
	for (size_t i = 0; i < v->ntargets; i++)
		if (strcmp(v->targets[i].account, account) == 0)
			return v->targets[i].disposition;
	return v->disposition;
}

static _Atomic(deliver_queued_fn *) queued_hook;

void deliver_set_queued_hook(deliver_queued_fn *fn)
{
	atomic_store(&queued_hook, fn);
}

/* Mail for remote recipients was committed: wake a runner. Not part of the
 * delivery transaction, whose commit must not take NOTIFY's lock (0013). */
static void wake_queue(struct store *st)
{
	deliver_queued_fn *fn = atomic_load(&queued_hook);
	if (fn != NULL) {
		fn();
		return;
	}
	const char *error = NULL;
	if (store_queue_notify(st, &error) != STORE_OK)	/* runners poll anyway */
		log_warn("deliver event=queue-notify-failed reason=\"%s\"", error != NULL ? error : "?");
}

static _Atomic(deliver_sieve_fn *) sieve_hook;

void deliver_set_sieve_hook(deliver_sieve_fn *fn)
{
	atomic_store(&sieve_hook, fn);
}

static _Atomic(deliver_imip_fn *) imip_hook;

void deliver_set_imip_hook(deliver_imip_fn *fn)
{
	atomic_store(&imip_hook, fn);
}

static _Atomic(deliver_srs_fn *) srs_hook;

void deliver_set_srs_hook(deliver_srs_fn *fn)
{
	atomic_store(&srs_hook, fn);
}

static void rcpt_add_target(struct deliver_rcpt *r, const char *address, bool local)
{
	r->targets = xrealloc(r->targets, (r->ntargets + 1) * sizeof(*r->targets));
	r->target_local = xrealloc(r->target_local, (r->ntargets + 1) * sizeof(*r->target_local));
	r->targets[r->ntargets] = xstrdup(address);
	r->target_local[r->ntargets] = local;
	r->ntargets++;
}

/* A bounce to one of our SRS addresses goes back to the original sender.
 * DELIVER_TEMPFAIL here means "not an SRS address". */
static enum deliver_status resolve_srs(const char *address, struct deliver_rcpt *r,
				       const char **error_r)
{
	deliver_srs_fn *fn = atomic_load(&srs_hook);
	char orig[321];
	int ret = fn != NULL ? fn(address, orig, sizeof(orig)) : 0;
	if (ret == 0)
		return DELIVER_TEMPFAIL;
	if (ret < 0) {
		*error_r = "invalid or expired SRS address";
		return DELIVER_NOTFOUND;
	}
	r->address = xstrdup(address);
	rcpt_add_target(r, orig, false);
	return DELIVER_OK;
}

enum deliver_status deliver_resolve(struct dir_handle *dh, const char *address, bool relay,
				    struct deliver_rcpt *r, const char **error_r)
{
	struct dir_route route;
	memset(&route, 0, sizeof(route));
	*error_r = NULL;
	if (resolve_srs(address, r, error_r) != DELIVER_TEMPFAIL)
		return r->ntargets > 0 ? DELIVER_OK : DELIVER_NOTFOUND;
	int ret = dir_resolve(dh, address, &route, error_r);
	switch (ret) {
	case DIR_OK:
		r->address = xstrdup(route.address != NULL ? route.address : address);
		for (size_t i = 0; i < route.ntargets; i++)
			rcpt_add_target(r, route.targets[i].address, route.targets[i].local);
		dir_route_free(&route);
		if (r->ntargets == 0) {
			/* An empty group: nobody to deliver to. */
			*error_r = "the address has no members";
			return DELIVER_NOTFOUND;
		}
		return DELIVER_OK;
	case DIR_NOTFOUND:
		return DELIVER_NOTFOUND;
	case DIR_NOTOURS:
		if (!relay)
			return DELIVER_RELAY_DENIED;
		r->address = xstrdup(address);
		rcpt_add_target(r, address, false);
		return DELIVER_OK;
	default:
		if (*error_r == NULL)
			*error_r = dir_status_str(ret);
		return DELIVER_TEMPFAIL;
	}
}

enum deliver_status deliver_rcpt_quota(struct store *st, const struct deliver_rcpt *r,
				       const char **error_r)
{
	*error_r = NULL;
	for (size_t i = 0; i < r->ntargets; i++) {
		if (!r->target_local[i])
			continue;
		uint64_t bytes, messages;
		int64_t limit_bytes, limit_messages;
		int ret = store_quota_get(st, r->targets[i], &bytes, &messages, &limit_bytes,
					  &limit_messages, error_r);
		if (ret == STORE_NOTFOUND) {
			*error_r = NULL;
			continue;	/* provisioned at delivery, empty then */
		}
		if (ret != STORE_OK)
			return DELIVER_TEMPFAIL;
		if ((limit_bytes >= 0 && bytes >= (uint64_t)limit_bytes) ||
		    (limit_messages >= 0 && messages >= (uint64_t)limit_messages))
			return DELIVER_OVERQUOTA;
	}
	return DELIVER_OK;
}

enum deliver_status deliver_sender_owned(struct dir_handle *dh, const char *address,
					 const char *account, const char **error_r)
{
	*error_r = NULL;
	if (strcmp(address, account) == 0)
		return DELIVER_OK;
	struct dir_route route;
	memset(&route, 0, sizeof(route));
	int ret = dir_resolve(dh, address, &route, error_r);
	if (ret == DIR_NOTFOUND || ret == DIR_NOTOURS)
		return DELIVER_NOTFOUND;
	if (ret != DIR_OK) {
		if (*error_r == NULL)
			*error_r = dir_status_str(ret);
		return DELIVER_TEMPFAIL;
	}
	/* An alias of the account itself; a group or a shared alias is not. */
	bool owned = (route.kind == DIR_KIND_USER || route.kind == DIR_KIND_ALIAS) &&
		     route.ntargets == 1 && route.targets[0].local &&
		     strcmp(route.targets[0].address, account) == 0;
	dir_route_free(&route);
	return owned ? DELIVER_OK : DELIVER_NOTFOUND;
}

enum deliver_status deliver_check_from(struct dir_handle *dh, const char *data, size_t size,
				       const char *account, const char **error_r)
{
	struct deliver_from f;
	*error_r = NULL;
	if (deliver_from_parse(data, size, &f) < 0)
		return DELIVER_REJECTED;
	enum deliver_status st = DELIVER_OK;
	for (size_t i = 0; i <= f.nfrom && st == DELIVER_OK; i++) {
		const char *a = i < f.nfrom ? f.from[i] : f.sender;
		if (a != NULL)
			st = deliver_sender_owned(dh, a, account, error_r);
	}
	deliver_from_free(&f);
	return st == DELIVER_OK || st == DELIVER_TEMPFAIL ? st : DELIVER_REJECTED;
}

static enum deliver_status status_of(int store_result)
{
	switch (store_result) {
	case STORE_OK:
		return DELIVER_OK;
	case STORE_OVERQUOTA:
		return DELIVER_OVERQUOTA;
	default:
		/* Database down, or an account removed since RCPT: try later. */
		return DELIVER_TEMPFAIL;
	}
}

/* A target refused by its Sieve script (an int beside the store_results). */
#define STORE_SIEVE_REJECTED 1

/* The store step: through the Sieve stage when there is one. */
static int store_step(struct store *st, const struct deliver_envelope *env,
		      const struct store_deliver_msg *m, struct store_deliver_rcpt *list, size_t n,
		      bool partial, bool *rejected, bool *queued_r, char *reason,
		      size_t reason_size, const char **error_r)
{
	deliver_sieve_fn *sieve = atomic_load(&sieve_hook);
	if (sieve != NULL)
		return sieve(st, env, m, list, n, partial, rejected, queued_r, reason, reason_size,
			     error_r);
	return store_deliver_message(st, m, list, n, partial, error_r);
}

/* Index of (address, local) in list, adding it if new. */
static size_t target_index(struct store_deliver_rcpt **list, size_t *n, const char *address,
			   bool local, const struct deliver_rcpt *r)
{
	for (size_t i = 0; i < *n; i++)
		if ((*list)[i].local == local && strcmp((*list)[i].address, address) == 0)
			return i;
	*list = xrealloc(*list, (*n + 1) * sizeof(**list));
	struct store_deliver_rcpt *t = &(*list)[*n];
	memset(t, 0, sizeof(*t));
	t->address = address;
	t->local = local;
	if (!local) {
		t->dsn_notify = r->dsn_notify;
		t->dsn_orcpt = r->dsn_orcpt;
	}
	return (*n)++;
}

enum deliver_status deliver_message(struct store *st, struct dir_handle *dh,
				    struct deliver_envelope *env, const char *data, size_t size,
				    bool partial, char *reason, size_t reason_size)
{
	reason[0] = '\0';
	struct deliver_verdict v;
	memset(&v, 0, sizeof(v));
	env->dmarc = DELIVER_DMARC_UNKNOWN;
	env->dmarc_domain[0] = '\0';
	deliver_scan_stage_fn *stage = atomic_load(&scan_stage);
	deliver_scan_fn *scan = atomic_load(&scan_hook);
	if (stage != NULL || scan != NULL) {
		if (stage != NULL)
			stage(st, dh, env, data, size, &v);
		else
			scan(env, data, size, &v);
		snprintf(reason, reason_size, "%s", v.reason);
		if (v.reject || v.tempfail) {
			for (size_t i = 0; i < env->nrcpts; i++)
				env->rcpts[i].result = v.reject ? DELIVER_REJECTED : DELIVER_POLICY_TEMPFAIL;
			enum deliver_status refused = v.reject ? DELIVER_REJECTED : DELIVER_POLICY_TEMPFAIL;
			deliver_verdict_clear(&v);
			return refused;
		}
		reason[0] = '\0';
		env->scanned = v.scanned;
		env->scan_score = v.score;
		env->scan_score_max = v.score_max;
		env->virus_checked = v.virus_checked;
		env->dmarc = v.dmarc;
		snprintf(env->dmarc_domain, sizeof(env->dmarc_domain), "%s", v.dmarc_domain);
		if (v.data != NULL) {
			data = v.data;
			size = v.size;
		}
	}

	/* Every account and remote address once, whatever the RCPTs overlap;
	 * the local copies the scan stage diverts go to their own lists. */
	struct store_deliver_rcpt *list = NULL;
	size_t n = 0;
	const char **quarantine = NULL, **junk = NULL;
	size_t nq = 0, nj = 0;
	for (size_t i = 0; i < env->nrcpts; i++) {
		struct deliver_rcpt *r = &env->rcpts[i];
		for (size_t t = 0; t < r->ntargets; t++)
			target_index(&list, &n, r->targets[t], r->target_local[t], r);
	}
	enum deliver_status result = DELIVER_OK;
	const char *error = NULL;
	for (size_t i = 0; i < n && result == DELIVER_OK; i++) {
		if (list[i].local && dir_provision(dh, list[i].address, &error) == DIR_TEMPFAIL) {
			snprintf(reason, reason_size, "provisioning %s: %s", list[i].address,
				 error != NULL ? error : "directory unavailable");
			result = DELIVER_TEMPFAIL;
		}
	}
	/* What the verdict diverts leaves the main list (kept in order). */
	size_t kept = 0;
	for (size_t i = 0; i < n; i++) {
		enum deliver_disposition d = list[i].local ? disposition_of(&v, list[i].address) :
				  DELIVER_TO_INBOX;
		if (d == DELIVER_TO_QUARANTINE) {
			quarantine = xrealloc(quarantine, (nq + 1) * sizeof(*quarantine));
			quarantine[nq++] = list[i].address;
		} else if (d == DELIVER_TO_JUNK) {
			junk = xrealloc(junk, (nj + 1) * sizeof(*junk));
			junk[nj++] = list[i].address;
		} else {
			list[kept++] = list[i];
		}
	}
	n = kept;
	deliver_divert_fn *divert = atomic_load(&divert_hook);
	if (result == DELIVER_OK && (nq > 0 || nj > 0)) {
		if (divert != NULL) {
			result = divert(st, env, &v, data, size, quarantine, nq, junk, nj, reason,
					reason_size);
		} else {
			snprintf(reason, reason_size, "no quarantine or Junk delivery installed");
			result = DELIVER_TEMPFAIL;
		}
	}
	if (result == DELIVER_OK && n > 0) {
		struct store_deliver_msg m = {
			.data = data, .size = size, .envelope_from = env->from,
			.dsn_ret = env->dsn_ret, .dsn_envid = env->dsn_envid, .body = env->body,
			.smtputf8 = env->smtputf8, .auth_user = env->auth_user,
			.client_ip = env->client_ip,
		};
		/* iTIP carried by the message goes to the calendars in the
		 * same transaction (deliver-imip.c). */
		deliver_imip_fn *imip = atomic_load(&imip_hook);
		void *imip_ctx = NULL;
		void (*imip_free)(void *) = NULL;
		deliver_after_fn *after = NULL;
		bool any_local = false;
		for (size_t i = 0; i < n; i++)
			any_local = any_local || list[i].local;
		if (imip != NULL && any_local &&
		    imip(dh, env, data, size, &after, &imip_ctx, &imip_free)) {
			m.after = after;
			m.after_ctx = imip_ctx;
		}
		bool *rejected = xcalloc(n + 1, sizeof(bool));
		bool queued = false;
		int ret = store_step(st, env, &m, list, n, partial, rejected, &queued, reason,
				     reason_size, &error);
		if (imip_free != NULL)
			imip_free(imip_ctx);
		for (size_t i = 0; i < n && ret == STORE_OK; i++)
			if (rejected[i])
				list[i].result = STORE_SIEVE_REJECTED;
		free(rejected);
		if (ret != STORE_OK) {
			snprintf(reason, reason_size, "%s", error != NULL ? error : "store error");
			result = status_of(ret);
		}
		for (size_t i = 0; i < n && ret == STORE_OK; i++)
			queued = queued || (!list[i].local && list[i].result == STORE_OK);
		if (queued)
			wake_queue(st);
	}
	/* The diverted copies count as delivered (their store calls succeeded
	 * or result is already an error): give them an OK entry back. */
	for (size_t i = 0; i < nq + nj; i++) {
		const char *a = i < nq ? quarantine[i] : junk[i - nq];
		list = xrealloc(list, (n + 1) * sizeof(*list));
		memset(&list[n], 0, sizeof(list[n]));
		list[n].address = a;
		list[n].local = true;
		list[n].result = STORE_OK;
		n++;
	}
	bool any_ok = false;
	for (size_t i = 0; i < env->nrcpts; i++) {
		struct deliver_rcpt *r = &env->rcpts[i];
		r->result = result;
		if (result != DELIVER_OK)
			continue;
		/* A RCPT fails if any of its targets failed: a retry is safer
		 * than a silent loss (LMTP only; otherwise all or nothing). */
		for (size_t t = 0; t < r->ntargets && r->result == DELIVER_OK; t++) {
			size_t k = target_index(&list, &n, r->targets[t], r->target_local[t], r);
			r->result = list[k].result == STORE_SIEVE_REJECTED ? DELIVER_REJECTED :
				    status_of(list[k].result);
		}
		if (r->result == DELIVER_REJECTED && !partial)
			result = DELIVER_REJECTED;	/* the hook refused every target */
		any_ok = any_ok || r->result == DELIVER_OK;
	}
	free(list);
	free(quarantine);
	free(junk);
	deliver_verdict_clear(&v);
	if (any_ok)
		metrics_inc(&metrics.messages_accepted);
	return result;
}

void deliver_rcpt_free(struct deliver_rcpt *r)
{
	free(r->address);
	for (size_t i = 0; i < r->ntargets; i++)
		free(r->targets[i]);
	free(r->targets);
	free(r->target_local);
	free(r->dsn_notify);
	free(r->dsn_orcpt);
	memset(r, 0, sizeof(*r));
}

void deliver_envelope_clear(struct deliver_envelope *env)
{
	free(env->from);
	free(env->dsn_ret);
	free(env->dsn_envid);
	free(env->auth_user);
	free(env->helo);
	for (size_t i = 0; i < env->nrcpts; i++)
		deliver_rcpt_free(&env->rcpts[i]);
	free(env->rcpts);
	memset(env, 0, sizeof(*env));
}
