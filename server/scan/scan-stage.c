/* The stage installed in the delivery pipeline: builds the message context
 * from the envelope, runs the modules (scan.c), applies the policy ([scan]
 * thresholds, per-domain and per-user overrides from the store) and turns
 * the result into the deliver_verdict: headers added (X-Spam-*, and the
 * Authentication-Results the sender-authentication modules produced, with
 * forged ones of our authserv-id removed), Junk, quarantine, reject or
 * tempfail. One log line per verdict; counters and histograms on /metrics. */
#include "autoconf.h"
#include "scan.h"
#include "scan-private.h"
#include "scan-policy.h"
#include "scan-auth.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "metrics.h"
#include "milter.h"
#include "store-scan.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The stage's configuration, replaced whole on reload (readers copy the
 * pointer under the lock). */
struct stage_conf {
	bool on[3];			/* by enum scan_listener */
	char authserv_id[256];
	struct scan_policy policy;	/* the [scan] defaults */
	uint64_t timeout_ms;
	bool report;
	bool policy_db;
};

static struct stage_conf *conf;
static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- metrics ---- */

static const uint64_t hist_bounds_ms[] = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
					   10000, 30000 };
#define NBOUNDS (sizeof(hist_bounds_ms) / sizeof(hist_bounds_ms[0]))

static struct {
	atomic_uint_fast64_t verdicts[SCAN_ACTION_REJECT + 1];
	atomic_uint_fast64_t viruses;
	atomic_uint_fast64_t unscannable;
	atomic_uint_fast64_t duration_bucket[NBOUNDS + 1];
	atomic_uint_fast64_t duration_sum_ms;
	atomic_uint_fast64_t duration_count;
	atomic_uint_fast64_t score_bucket[8];	/* <0, <2, <5, <10, <15, <20, <50, +Inf */
} m;

static const double score_bounds[] = { 0, 2, 5, 10, 15, 20, 50 };

static void metrics_writer(struct buf *out)
{
	buf_printf(out, "# HELP cairn_scan_verdicts_total Messages scanned, by the action taken.\n"
			"# TYPE cairn_scan_verdicts_total counter\n");
	for (int a = 0; a <= SCAN_ACTION_REJECT; a++)
		buf_printf(out, "cairn_scan_verdicts_total{action=\"%s\"} %llu\n",
			   scan_action_name((enum scan_action)a),
			   (unsigned long long)atomic_load(&m.verdicts[a]));
	buf_printf(out, "# HELP cairn_scan_viruses_total Messages in which a virus was found.\n"
			"# TYPE cairn_scan_viruses_total counter\n"
			"cairn_scan_viruses_total %llu\n",
		   (unsigned long long)atomic_load(&m.viruses));
	buf_printf(out, "# HELP cairn_scan_unscannable_total Messages that could not be scanned in time or by a fail-closed check.\n"
			"# TYPE cairn_scan_unscannable_total counter\n"
			"cairn_scan_unscannable_total %llu\n",
		   (unsigned long long)atomic_load(&m.unscannable));
	buf_printf(out, "# HELP cairn_scan_duration_seconds Time the scan stage added to a message.\n"
			"# TYPE cairn_scan_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (size_t i = 0; i < NBOUNDS; i++) {
		cum += atomic_load(&m.duration_bucket[i]);
		buf_printf(out, "cairn_scan_duration_seconds_bucket{le=\"%g\"} %llu\n",
			   (double)hist_bounds_ms[i] / 1000.0, (unsigned long long)cum);
	}
	cum += atomic_load(&m.duration_bucket[NBOUNDS]);
	buf_printf(out, "cairn_scan_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
			"cairn_scan_duration_seconds_sum %.3f\n"
			"cairn_scan_duration_seconds_count %llu\n",
		   (unsigned long long)cum, (double)atomic_load(&m.duration_sum_ms) / 1000.0,
		   (unsigned long long)atomic_load(&m.duration_count));
	buf_printf(out, "# HELP cairn_scan_score Spam scores of scanned messages.\n"
			"# TYPE cairn_scan_score histogram\n");
	cum = 0;
	for (size_t i = 0; i < 7; i++) {
		cum += atomic_load(&m.score_bucket[i]);
		buf_printf(out, "cairn_scan_score_bucket{le=\"%g\"} %llu\n", score_bounds[i],
			   (unsigned long long)cum);
	}
	cum += atomic_load(&m.score_bucket[7]);
	buf_printf(out, "cairn_scan_score_bucket{le=\"+Inf\"} %llu\ncairn_scan_score_count %llu\n",
		   (unsigned long long)cum, (unsigned long long)cum);
}

static void metrics_note(enum scan_action action, const struct scan_result *r, uint64_t ms)
{
	metrics_inc(&m.verdicts[action]);
	if (r->virus)
		metrics_inc(&m.viruses);
	if (r->unscannable)
		metrics_inc(&m.unscannable);
	size_t b = 0;
	while (b < NBOUNDS && ms > hist_bounds_ms[b])
		b++;
	metrics_inc(&m.duration_bucket[b]);
	atomic_fetch_add(&m.duration_sum_ms, ms);
	metrics_inc(&m.duration_count);
	size_t s = 0;
	while (s < 7 && r->score >= score_bounds[s])
		s++;
	metrics_inc(&m.score_bucket[s]);
}

/* ---- configuration ---- */

static int conf_build(const struct config *cfg, struct stage_conf *c, const char **error_r)
{
	static char error[256];
	memset(c, 0, sizeof(*c));
	c->on[SCAN_LISTENER_MX] = cfg->scan.smtp;
	c->on[SCAN_LISTENER_LMTP] = cfg->scan.lmtp;
	c->on[SCAN_LISTENER_SUBMISSION] = cfg->scan.submission;
	snprintf(c->authserv_id, sizeof(c->authserv_id), "%s",
		 cfg->scan.authserv_id[0] != '\0' ? cfg->scan.authserv_id : cfg->server.hostname);
	c->timeout_ms = cfg->scan.timeout_ms;
	c->report = cfg->scan.report;
	c->policy_db = cfg->scan.policy_db;
	const char *why = NULL;
	if (scan_policy_from_config(cfg, &c->policy, &why) < 0) {
		snprintf(error, sizeof(error), "[scan] %s", why);
		*error_r = error;
		return -1;
	}
	return 0;
}

/* A copy of the current configuration; false when the stage is off. */
static bool conf_get(struct stage_conf *c_r)
{
	pthread_mutex_lock(&conf_lock);
	bool ok = conf != NULL;
	if (ok)
		*c_r = *conf;
	pthread_mutex_unlock(&conf_lock);
	return ok;
}

/* ---- the verdict ---- */

/* Whether the header field starting at p (length len) is named name. */
static bool field_is(const char *p, size_t len, const char *name)
{
	size_t n = strlen(name);
	return len > n && p[n] == ':' && strncasecmp(p, name, n) == 0;
}

/* Append "name: value" folded at blanks near 78 columns, CRLF-terminated. */
static void append_folded(struct buf *out, const char *name, const char *value)
{
	size_t col = strlen(name) + 2;
	buf_printf(out, "%s:", name);
	const char *p = value;
	bool first = true;
	while (*p != '\0') {
		size_t word = strcspn(p, " \t");
		if (!first && col + 1 + word > 78) {
			buf_append(out, "\r\n\t", 3);
			col = 8;
		} else {
			buf_append(out, " ", 1);
			col++;
		}
		buf_append(out, p, word);
		col += word;
		first = false;
		p += word;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	buf_append(out, "\r\n", 2);
}

/* The tests hit as "NAME=score,NAME=score" (SpamAssassin's tests= list). */
static void tests_list(const struct scan_result *r, struct buf *out, const char *sep, bool scores)
{
	for (size_t i = 0; i < r->ntests; i++) {
		if (scores)
			buf_printf(out, "%s%s=%.3g", i > 0 ? sep : "", r->tests[i].name,
				   r->tests[i].score);
		else
			buf_printf(out, "%s%s", i > 0 ? sep : "", r->tests[i].name);
	}
	if (r->ntests == 0 && !scores)
		buf_append(out, "none", 4);
}

/* Build the message to store: our header fields, then the received
 * message without A-R fields of our authserv-id and without X-Spam-*
 * fields (a sender must not be able to pre-tag its mail). */
static void build_message(const struct stage_conf *c, const struct scan_msg *msg,
			  const struct scan_result *r, enum scan_action global, struct buf *out)
{
	const struct scan_policy *p = &c->policy;
	for (size_t i = 0; i < r->nheaders; i++)
		append_folded(out, r->headers[i].name, r->headers[i].value);
	bool spam = !isnan(p->tag) && r->score >= p->tag;
	char line[512];
	if (r->unscannable) {
		append_folded(out, "X-Spam-Status", "Unscanned (the scan did not complete)");
	} else {
		struct buf tests;
		buf_init(&tests, 0);
		tests_list(r, &tests, ",", false);
		snprintf(line, sizeof(line), "%s, score=%.1f required=%.1f tests=", spam ? "Yes" : "No",
			 r->score, isnan(p->tag) ? 0.0 : p->tag);
		struct buf v;
		buf_init(&v, 0);
		buf_printf(&v, "%s%s", line, tests.data);
		append_folded(out, "X-Spam-Status", v.data);
		buf_free(&v);
		buf_free(&tests);
		snprintf(line, sizeof(line), "%.1f", r->score);
		append_folded(out, "X-Spam-Score", line);
		if (spam) {
			append_folded(out, "X-Spam-Flag", "YES");
			if (c->report && r->ntests > 0) {
				struct buf rep;
				buf_init(&rep, 0);
				for (size_t i = 0; i < r->ntests; i++)
					buf_printf(&rep, "%s* %5.1f %s%s%s", i > 0 ? " " : "",
						   r->tests[i].score, r->tests[i].name,
						   r->tests[i].detail != NULL ? " " : "",
						   r->tests[i].detail != NULL ? r->tests[i].detail : "");
				/* keep the report one header of sane size */
				if (rep.len > 4000) {
					rep.len = 4000;
					rep.data[rep.len] = '\0';
				}
				for (size_t i = 0; i < rep.len; i++)
					if ((unsigned char)rep.data[i] < 0x20 ||
					    (unsigned char)rep.data[i] > 0x7e)
						rep.data[i] = '?';
				append_folded(out, "X-Spam-Report", rep.data);
				buf_free(&rep);
			}
		}
	}
	(void)global;
	/* the received header block, filtered */
	const char *raw = msg->raw, *end = msg->raw + msg->header_len;
	const char *pos = raw;
	while (pos < end) {
		const char *eol = memchr(pos, '\n', (size_t)(end - pos));
		const char *fe = eol != NULL ? eol + 1 : end;
		if (fe - pos <= 2 && (*pos == '\r' || *pos == '\n'))
			break;	/* the empty line */
		while (fe < end && (*fe == ' ' || *fe == '\t')) {
			eol = memchr(fe, '\n', (size_t)(end - fe));
			fe = eol != NULL ? eol + 1 : end;
		}
		size_t flen = (size_t)(fe - pos);
		bool drop = false;
		if (field_is(pos, flen, "Authentication-Results")) {
			const char *v = (const char *)memchr(pos, ':', flen) + 1;
			drop = scan_authres_is_ours(v, (size_t)(fe - v), c->authserv_id);
		} else if (field_is(pos, flen, "X-Spam-Status") || field_is(pos, flen, "X-Spam-Score") ||
			   field_is(pos, flen, "X-Spam-Flag") || field_is(pos, flen, "X-Spam-Report")) {
			drop = msg->listener != SCAN_LISTENER_SUBMISSION;
		}
		if (!drop)
			buf_append(out, pos, flen);
		pos = fe;
	}
	buf_append(out, pos, (size_t)(msg->raw + msg->size - pos));
}

/* Where the header block ends: the offset after the empty line (or the
 * whole message when there is none). */
static void split_header(const char *data, size_t size, size_t *header_len_r)
{
	size_t i = 0;
	while (i < size) {
		const char *eol = memchr(data + i, '\n', size - i);
		size_t next = eol != NULL ? (size_t)(eol - data) + 1 : size;
		size_t linelen = next - i;
		if (linelen == 1 || (linelen == 2 && data[i] == '\r')) {
			*header_len_r = next;
			return;
		}
		i = next;
	}
	*header_len_r = size;
}

/* The received message with the modules' header changes and replacement
 * body applied (milters), into out. */
static void apply_changes(const struct scan_msg *msg, const struct scan_result *r, struct buf *out)
{
	struct milter_header_change *chg = xcalloc(r->nedits > 0 ? r->nedits : 1, sizeof(*chg));
	for (size_t i = 0; i < r->nedits; i++) {
		chg[i].name = r->edits[i].name;
		chg[i].index = r->edits[i].index;
		chg[i].value = r->edits[i].value;
	}
	milter_apply_header_changes(msg->raw, msg->header_len, chg, r->nedits, out);
	free(chg);
	if (!r->body_replaced) {
		buf_append(out, msg->raw + msg->body_offset, msg->size - msg->body_offset);
		return;
	}
	/* the header block must end with its empty line before a new body */
	if (out->len > 0 && out->data[out->len - 1] != '\n')
		buf_append(out, "\r\n", 2);
	bool blank = out->len == 0 || (out->len == 1 && out->data[0] == '\n') ||
		     (out->len == 2 && memcmp(out->data, "\r\n", 2) == 0) ||
		     (out->len >= 2 && memcmp(out->data + out->len - 2, "\n\n", 2) == 0) ||
		     (out->len >= 3 && memcmp(out->data + out->len - 3, "\n\r\n", 3) == 0);
	if (!blank)
		buf_append(out, "\r\n", 2);
	buf_append(out, r->body, r->body_len);
}

static const char *domain_of(const char *address)
{
	const char *at = strrchr(address, '@');
	return at != NULL ? at + 1 : "";
}

static void log_verdict(const struct scan_msg *msg, const struct scan_result *r,
			enum scan_action action, const char *why, uint64_t ms)
{
	struct buf tests, timings;
	buf_init(&tests, 0);
	buf_init(&timings, 0);
	tests_list(r, &tests, ",", true);
	for (size_t i = 0; i < r->ntimings; i++)
		buf_printf(&timings, "%s%s:%llums%s%s", i > 0 ? "," : "", r->timings[i].module,
			   (unsigned long long)(r->timings[i].us / 1000),
			   r->timings[i].status == SCAN_MOD_OK ? "" : ":",
			   r->timings[i].status == SCAN_MOD_OK ? "" :
			   scan_mod_status_name(r->timings[i].status));
	char *mid = scan_msg_header(msg, "Message-ID", 0);
	if (mid != NULL)
		for (char *q = mid; *q != '\0'; q++)
			if (*q == '"' || *q == ' ' || (unsigned char)*q < 0x20)
				*q = '_';
	log_info("scan ip=%s from=<%s> rcpts=%zu msgid=%s size=%zu action=%s score=%.2f tests=%s "
		 "virus=%s unscannable=%s reason=\"%s\" ms=%llu timings=%s",
		 msg->client_ip, msg->mail_from, msg->nrcpts, mid != NULL ? mid : "-", msg->size,
		 scan_action_name(action), r->score, tests.data != NULL ? tests.data : "",
		 r->virus ? r->virus_name : "-", r->unscannable ? "yes" : "no", why,
		 (unsigned long long)ms, timings.data != NULL ? timings.data : "");
	free(mid);
	buf_free(&tests);
	buf_free(&timings);
}

static enum scan_listener listener_of(const struct deliver_envelope *env)
{
	switch (env->listener) {
	case DELIVER_LISTENER_SUBMISSION: return SCAN_LISTENER_SUBMISSION;
	case DELIVER_LISTENER_LMTP: return SCAN_LISTENER_LMTP;
	default: return SCAN_LISTENER_MX;
	}
}

static enum deliver_disposition disposition_of(enum scan_action a)
{
	return a == SCAN_ACTION_QUARANTINE ? DELIVER_TO_QUARANTINE :
	       a == SCAN_ACTION_JUNK ? DELIVER_TO_JUNK : DELIVER_TO_INBOX;
}

static void stage(struct store *st, struct dir_handle *dh, const struct deliver_envelope *env,
		  const char *data, size_t size, struct deliver_verdict *v)
{
	struct stage_conf cbuf, *c = &cbuf;
	enum scan_listener listener = listener_of(env);
	if (!conf_get(c) || !c->on[listener])
		return;
	uint64_t t0 = scan_now_ms();

	/* the recipients and their local accounts */
	struct scan_rcpt *rcpts = xcalloc(env->nrcpts > 0 ? env->nrcpts : 1, sizeof(*rcpts));
	const char **accounts = NULL;
	size_t naccounts = 0;
	for (size_t i = 0; i < env->nrcpts; i++) {
		const struct deliver_rcpt *dr = &env->rcpts[i];
		const char **acc = xcalloc(dr->ntargets > 0 ? dr->ntargets : 1, sizeof(*acc));
		size_t n = 0;
		for (size_t t = 0; t < dr->ntargets; t++) {
			if (!dr->target_local[t])
				continue;
			acc[n++] = dr->targets[t];
			bool seen = false;
			for (size_t k = 0; k < naccounts && !seen; k++)
				seen = strcmp(accounts[k], dr->targets[t]) == 0;
			if (!seen) {
				accounts = xrealloc(accounts, (naccounts + 1) * sizeof(*accounts));
				accounts[naccounts++] = dr->targets[t];
			}
		}
		rcpts[i].address = dr->address;
		rcpts[i].accounts = acc;
		rcpts[i].naccounts = n;
	}

	struct scan_msg msg;
	memset(&msg, 0, sizeof(msg));
	msg.listener = listener;
	msg.client_ip = env->client_ip;
	msg.helo = env->helo != NULL ? env->helo : "";
	msg.rdns = NULL;
	msg.mail_from = env->from != NULL ? env->from : "";
	msg.mail_domain = domain_of(msg.mail_from);
	msg.rcpts = rcpts;
	msg.nrcpts = env->nrcpts;
	msg.auth_user = env->auth_user;
	msg.authserv_id = c->authserv_id;
	msg.raw = data;
	msg.size = size;
	split_header(data, size, &msg.header_len);
	msg.body_offset = msg.header_len;
	msg.store = st;
	msg.dir = dh;
	msg.started_ms = t0;
	msg.deadline_ms = t0 + c->timeout_ms;

	struct scan_result r;
	memset(&r, 0, sizeof(r));
	scan_run(&msg, &r);

	/* The policy of each account: the [scan] defaults with the domain's
	 * and then the user's overrides from the store. */
	struct scan_policy *pol = xcalloc(naccounts > 0 ? naccounts : 1, sizeof(*pol));
	bool policy_failed = false;
	for (size_t i = 0; i < naccounts; i++) {
		pol[i] = c->policy;
		if (c->policy_db && !policy_failed) {
			const char *error = NULL;
			if (scan_policy_load(st, accounts[i], &pol[i], &error) < 0) {
				/* the defaults are a safe answer: no reason to refuse mail */
				log_warn("scan event=policy-unavailable account=%s reason=\"%s\"",
					 accounts[i], error != NULL ? error : "?");
				policy_failed = true;
				pol[i] = c->policy;
			}
		}
	}

	enum scan_action global = SCAN_ACTION_ACCEPT;
	const char *why = "";
	char whybuf[256];
	enum scan_action *acts = xcalloc(naccounts > 0 ? naccounts : 1, sizeof(*acts));
	if (r.virus) {
		/* each account's virus_action; refused only if every one refuses */
		global = naccounts == 0 && !c->policy.virus_quarantine ? SCAN_ACTION_REJECT :
			 naccounts == 0 ? SCAN_ACTION_QUARANTINE : SCAN_ACTION_REJECT;
		snprintf(whybuf, sizeof(whybuf), "virus %s", r.virus_name);
		why = whybuf;
		for (size_t i = 0; i < naccounts; i++) {
			acts[i] = pol[i].virus_quarantine ? SCAN_ACTION_QUARANTINE : SCAN_ACTION_REJECT;
			if (acts[i] < global)
				global = acts[i];
		}
	} else if (r.unscannable) {
		global = c->policy.on_unscannable;
		why = "message could not be scanned in time";
		for (size_t i = 0; i < naccounts; i++)
			acts[i] = global;
	} else {
		/* per account: its thresholds, the modules' hint, the most severe */
		enum scan_action all = SCAN_ACTION_REJECT;
		for (size_t i = 0; i < naccounts; i++) {
			acts[i] = pol[i].enabled ? scan_policy_action(&pol[i], r.score) : SCAN_ACTION_ACCEPT;
			if (pol[i].enabled && r.hint > acts[i])
				acts[i] = r.hint;
			if (acts[i] < all)
				all = acts[i];
		}
		if (naccounts == 0) {
			/* only remote recipients (an authenticated relay): the defaults */
			all = scan_policy_action(&c->policy, r.score);
			if (r.hint > all)
				all = r.hint;
		}
		global = all;
		if (r.hint_reason[0] != '\0' && r.hint >= global && r.hint > SCAN_ACTION_TAG) {
			snprintf(whybuf, sizeof(whybuf), "%s", r.hint_reason);
			why = whybuf;
		} else if (global >= SCAN_ACTION_JUNK) {
			snprintf(whybuf, sizeof(whybuf), "spam score %.1f", r.score);
			why = whybuf;
		}
	}

	/* The quarantine holds copies for local accounts only: a message a
	 * remote recipient would get is refused instead. */
	bool remote = false;
	for (size_t i = 0; i < env->nrcpts; i++)
		for (size_t t = 0; t < env->rcpts[i].ntargets; t++)
			remote = remote || !env->rcpts[i].target_local[t];
	if (global == SCAN_ACTION_QUARANTINE && remote)
		global = SCAN_ACTION_REJECT;

	if (global == SCAN_ACTION_REJECT) {
		v->reject = true;
		snprintf(v->reason, sizeof(v->reason), "%.120s", why);
	} else if (global == SCAN_ACTION_TEMPFAIL) {
		v->tempfail = true;
		snprintf(v->reason, sizeof(v->reason), "%.120s", why);
	} else {
		/* Accounts that asked for more than the message as a whole gets
		 * (a reject or tempfail the other recipients do not want) keep
		 * it in the quarantine; the rest get their own disposition. */
		v->disposition = disposition_of(global);
		for (size_t i = 0; i < naccounts; i++) {
			enum scan_action a = acts[i];
			if (a == SCAN_ACTION_REJECT || a == SCAN_ACTION_TEMPFAIL)
				a = SCAN_ACTION_QUARANTINE;
			if (disposition_of(a) == v->disposition)
				continue;
			v->targets = xrealloc(v->targets, (v->ntargets + 1) * sizeof(*v->targets));
			v->targets[v->ntargets].account = xstrdup(accounts[i]);
			v->targets[v->ntargets].disposition = disposition_of(a);
			v->ntargets++;
		}
		/* the message as the milters changed it, if they did */
		struct scan_msg changed = msg;
		struct buf edited;
		buf_init(&edited, 0);
		if (r.nedits > 0 || r.body_replaced) {
			apply_changes(&msg, &r, &edited);
			changed.raw = edited.data != NULL ? edited.data : "";
			changed.size = edited.len;
			split_header(changed.raw, changed.size, &changed.header_len);
			changed.body_offset = changed.header_len;
		}
		struct buf out;
		buf_init(&out, 0);
		build_message(c, &changed, &r, global, &out);
		v->size = out.len;
		v->data = xmalloc(out.len + 1);
		memcpy(v->data, out.data, out.len);
		v->data[out.len] = '\0';
		buf_free(&out);
		v->score = r.score;
		v->scanned = !r.unscannable;
		if (msg.priv_ != NULL && scan_auth_get(&msg)->dmarc_done) {
			/* for iMIP's sender check (deliver-imip.c) */
			const struct scan_auth *au = scan_auth_get(&msg);
			static const enum deliver_dmarc map[] = {
				[DMARC_RESULT_NONE] = DELIVER_DMARC_NONE,
				[DMARC_RESULT_PASS] = DELIVER_DMARC_PASS,
				[DMARC_RESULT_FAIL] = DELIVER_DMARC_FAIL,
				[DMARC_RESULT_TEMPERROR] = DELIVER_DMARC_TEMPERROR,
				[DMARC_RESULT_PERMERROR] = DELIVER_DMARC_PERMERROR,
			};
			v->dmarc = (unsigned)au->dmarc < sizeof(map) / sizeof(map[0]) ?
					   map[au->dmarc] : DELIVER_DMARC_PERMERROR;
			snprintf(v->dmarc_domain, sizeof(v->dmarc_domain), "%s", au->dmarc_from);
		}
		/* spamtest's "certainly spam": the reject threshold, else three
		 * times the tag threshold, else SpamAssassin's customary 15. */
		v->score_max = !isnan(c->policy.reject) && c->policy.reject > 0 ? c->policy.reject :
			       !isnan(c->policy.tag) && c->policy.tag > 0 ? 3 * c->policy.tag : 15.0;
		for (size_t i = 0; i < r.ntimings; i++)
			if (strcmp(r.timings[i].module, "clamd") == 0 &&
			    r.timings[i].status == SCAN_MOD_OK)
				v->virus_checked = true;
		struct buf sum;
		buf_init(&sum, 0);
		if (r.virus)
			buf_printf(&sum, "virus %s", r.virus_name);
		else
			tests_list(&r, &sum, ",", true);
		snprintf(v->summary, sizeof(v->summary), "%s", sum.data != NULL ? sum.data : "");
		char *subject = scan_msg_header(&changed, "Subject", 0);
		snprintf(v->subject, sizeof(v->subject), "%s", subject != NULL ? subject : "");
		free(subject);
		buf_free(&edited);
		buf_free(&sum);
		snprintf(v->reason, sizeof(v->reason), "%.120s", why);
	}

	uint64_t ms = scan_now_ms() - t0;
	log_verdict(&msg, &r, global, why, ms);
	metrics_note(global, &r, ms);

	scan_msg_done(&msg);
	scan_result_clear(&r);
	for (size_t i = 0; i < env->nrcpts; i++)
		free((void *)rcpts[i].accounts);
	free(rcpts);
	free(accounts);
	free(pol);
	free(acts);
}

/* The local copies the scan stage diverted: into the quarantine (one
 * transaction) and into each account's Junk. Their copy starts with
 * Return-Path: as an INBOX copy would. */
static enum deliver_status divert(struct store *st, const struct deliver_envelope *env,
				  const struct deliver_verdict *v, const char *data,
				  size_t size, const char *const *quarantine, size_t nq,
				  const char *const *junk, size_t nj, char *reason,
				  size_t reason_size)
{
	if (nq == 0 && nj == 0)
		return DELIVER_OK;
	struct buf copy;
	buf_init(&copy, size + 512);
	buf_printf(&copy, "Return-Path: <%s>\r\n", env->from != NULL ? env->from : "");
	buf_append(&copy, data, size);
	const char *error = NULL;
	int ret = STORE_OK;
	if (nq > 0) {
		struct store_quarantine_item meta = {
			.envelope_from = env->from, .client_ip = env->client_ip,
			.reason = v->reason, .score = v->score, .tests = v->summary,
			.subject = v->subject,
		};
		int64_t *ids = xcalloc(nq, sizeof(*ids));
		ret = store_scan_quarantine_add(st, quarantine, nq, copy.data, copy.len, &meta, ids,
						&error);
		for (size_t i = 0; i < nq && ret == STORE_OK; i++)
			log_info("deliver event=quarantined account=%s id=%lld from=<%s> reason=\"%s\"",
				 quarantine[i], (long long)ids[i], env->from, v->reason);
		free(ids);
	}
	for (size_t i = 0; i < nj && ret == STORE_OK; i++) {
		uint32_t uid = 0;
		ret = store_scan_deliver_junk(st, junk[i], copy.data, copy.len, &uid, &error);
	}
	buf_free(&copy);
	if (ret == STORE_OK)
		return DELIVER_OK;
	snprintf(reason, reason_size, "%s", error != NULL ? error : "store error");
	return ret == STORE_OVERQUOTA ? DELIVER_OVERQUOTA : DELIVER_TEMPFAIL;
}

/* ---- start, reload, stop ---- */

int scan_stage_start(const struct config *cfg, const char **error_r)
{
	struct stage_conf *c = xcalloc(1, sizeof(*c));
	if (conf_build(cfg, c, error_r) < 0) {
		free(c);
		return -1;
	}
	if (scan_modules_init(cfg, error_r) < 0) {
		free(c);
		return -1;
	}
	pthread_mutex_lock(&conf_lock);
	conf = c;
	pthread_mutex_unlock(&conf_lock);
	static bool metrics_added;
	if (!metrics_added) {
		metrics_add_writer(metrics_writer);
		metrics_added = true;
	}
	deliver_set_scan_stage(stage, divert);
	return 0;
}

void scan_stage_reload(const struct config *cfg)
{
	struct stage_conf *c = xcalloc(1, sizeof(*c));
	const char *error = NULL;
	if (conf_build(cfg, c, &error) < 0) {
		log_warn("scan event=reload-failed reason=\"%s\"", error);
		free(c);
	} else {
		pthread_mutex_lock(&conf_lock);
		struct stage_conf *old = conf;
		conf = c;
		pthread_mutex_unlock(&conf_lock);
		free(old);
	}
	scan_modules_reload(cfg);
}

void scan_stage_stop(void)
{
	deliver_set_scan_stage(NULL, NULL);
	scan_modules_free();
	pthread_mutex_lock(&conf_lock);
	free(conf);
	conf = NULL;
	pthread_mutex_unlock(&conf_lock);
}
