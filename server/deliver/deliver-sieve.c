/* Sieve at delivery: deliver.c's store step when Sieve is configured. For
 * each local target the global-before script, the user's active script and
 * the global-after script run on the message (sieve-exec, scripts compiled
 * once and cached by hash); the actions of every target, the queue rows of
 * the remote targets and whatever the scripts send (redirects, vacation
 * replies, rejection notices) are then carried out by store_sieve_deliver
 * in ONE transaction. A script that fails to compile or run keeps the
 * message in INBOX and is logged. Redirects get X-Cairn-Loop: (loop
 * detection), count against a daily cap per user and get an SRS envelope
 * sender; bounces to SRS addresses are routed back (deliver_set_srs_hook). */
#include "autoconf.h"
#include "deliver-sieve.h"
#include "deliver.h"
#include "dsn.h"
#include "log.h"
#include "queue.h"
#include "sasl.h"
#include "sieve-exec.h"
#include "store-deliver.h"
#include "store-mail.h"
#include "store-sieve.h"
#include "store.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <openssl/hmac.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SIEVE_MAX_GLOBAL_SIZE (1024 * 1024)
/* Deliveries with scripts between two clean-ups of expired rows. */
#define SIEVE_EXPIRE_EVERY 1000

static struct {
	const struct config *cfg;
	struct sieve_limits limits;
	struct sieve_cache *cache;
	struct sieve_script *before, *after;
} g;

/* ---- SRS (Sender Rewriting Scheme, SRS0 form) ---- */

static const char base32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

static const char *srs_domain(void)
{
	return g.cfg->sieve.srs_domain[0] != '\0' ? g.cfg->sieve.srs_domain :
						    g.cfg->server.hostname;
}

/* The first 4 characters of base64(HMAC-SHA1(secret, lower(text))). */
static void srs_hash(const char *text, char out[5])
{
	char lower[700];
	size_t n = 0;
	for (; text[n] != '\0' && n < sizeof(lower) - 1; n++)
		lower[n] = (char)tolower((unsigned char)text[n]);
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	const char *key = g.cfg->sieve.srs_secret;
	HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)lower, n, mac, &mac_len);
	struct buf b;
	buf_init(&b, 0);
	base64_encode(mac, mac_len, &b);
	memcpy(out, b.data, 4);
	out[4] = '\0';
	buf_free(&b);
}

static unsigned srs_today(void)
{
	return (unsigned)((time(NULL) / 86400) % 1024);
}

/* SRS0=HHHH=TT=domain=local@srs_domain for from ("local@domain"), into out.
 * Returns 0, or -1 (out unchanged) when it does not apply. */
static int srs_forward(const char *from, char *out, size_t out_size)
{
	const char *at = strrchr(from, '@');
	if (g.cfg->sieve.srs_secret[0] == '\0' || at == NULL || at == from)
		return -1;
	unsigned t = srs_today();
	char tt[3] = { base32[(t >> 5) & 31], base32[t & 31], '\0' };
	char text[700], hash[5];
	snprintf(text, sizeof(text), "%s%s%.*s", tt, at + 1, (int)(at - from), from);
	srs_hash(text, hash);
	int n = snprintf(out, out_size, "SRS0=%s=%s=%s=%.*s@%s", hash, tt, at + 1, (int)(at - from),
			 from, srs_domain());
	return n > 0 && (size_t)n < out_size ? 0 : -1;
}

static int srs_reverse(const char *address, char *out, size_t out_size)
{
	if (g.cfg == NULL || g.cfg->sieve.srs_secret[0] == '\0' ||
	    str_ncasecmp(address, "SRS0=", 5) != 0)
		return 0;
	const char *at = strrchr(address, '@');
	if (at == NULL || str_casecmp(at + 1, srs_domain()) != 0)
		return 0;
	/* SRS0=HHHH=TT=domain=local */
	const char *p = address + 5;
	const char *e1 = memchr(p, '=', (size_t)(at - p));
	if (e1 == NULL || e1 - p != 4)
		return -1;
	const char *t = e1 + 1;
	const char *e2 = memchr(t, '=', (size_t)(at - t));
	if (e2 == NULL || e2 - t != 2)
		return -1;
	const char *dom = e2 + 1;
	const char *e3 = memchr(dom, '=', (size_t)(at - dom));
	if (e3 == NULL || e3 == dom || e3 + 1 >= at)
		return -1;
	const char *local = e3 + 1;
	char text[700], hash[5];
	snprintf(text, sizeof(text), "%.2s%.*s%.*s", t, (int)(e3 - dom), dom, (int)(at - local),
		 local);
	srs_hash(text, hash);
	if (str_ncasecmp(hash, p, 4) != 0)
		return -1;
	const char *c0 = strchr(base32, toupper((unsigned char)t[0]));
	const char *c1 = strchr(base32, toupper((unsigned char)t[1]));
	if (c0 == NULL || c1 == NULL)
		return -1;
	unsigned stamp = (unsigned)((c0 - base32) << 5 | (c1 - base32));
	unsigned age = (srs_today() + 1024 - stamp) % 1024;
	if ((uint64_t)age * 86400000 > g.cfg->sieve.srs_max_age_ms)
		return -1;
	int n = snprintf(out, out_size, "%.*s@%.*s", (int)(at - local), local, (int)(e3 - dom), dom);
	if (n <= 0 || (size_t)n >= out_size)
		return -1;
	for (char *c = out; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	return 1;
}

/* ---- one delivery ---- */

/* Everything allocated for one delivery, freed at its end. */
struct plan {
	struct store_sieve_txn txn;
	size_t cap_copies, cap_outs, cap_dups;
	void **owned;
	size_t nowned;
	struct buf **bufs;
	size_t nbufs;
};

static void *own(struct plan *p, void *ptr)
{
	p->owned = xrealloc(p->owned, (p->nowned + 1) * sizeof(*p->owned));
	p->owned[p->nowned++] = ptr;
	return ptr;
}

/* A buffer freed with the plan. */
static struct buf *own_buf(struct plan *p)
{
	struct buf *b = xcalloc(1, sizeof(*b));
	buf_init(b, 0);
	p->bufs = xrealloc(p->bufs, (p->nbufs + 1) * sizeof(*p->bufs));
	p->bufs[p->nbufs++] = b;
	return b;
}

static struct store_sieve_copy *add_copy(struct plan *p)
{
	struct store_sieve_txn *t = &p->txn;
	if (t->ncopies == p->cap_copies) {
		p->cap_copies = p->cap_copies * 2 + 4;
		t->copies = xrealloc(t->copies, p->cap_copies * sizeof(*t->copies));
	}
	struct store_sieve_copy *c = &t->copies[t->ncopies++];
	memset(c, 0, sizeof(*c));
	c->only_if_unsent = SIZE_MAX;
	return c;
}

static struct store_sieve_out *add_out(struct plan *p, size_t target)
{
	struct store_sieve_txn *t = &p->txn;
	if (t->nouts == p->cap_outs) {
		p->cap_outs = p->cap_outs * 2 + 4;
		t->outs = xrealloc(t->outs, p->cap_outs * sizeof(*t->outs));
	}
	struct store_sieve_out *o = &t->outs[t->nouts++];
	memset(o, 0, sizeof(*o));
	o->target = target;
	o->body = "8BITMIME";
	return o;
}

/* The per-target context the script's callbacks see. */
struct target_ctx {
	struct store *st;
	const char *account;
};

static bool cb_mailbox_exists(void *ctx, const char *mailbox)
{
	struct target_ctx *t = ctx;
	struct store_mailbox_info *info = xmalloc(sizeof(*info));
	const char *error;
	int ret = store_mailbox_open(t->st, t->account, mailbox, info, &error);
	bool exists = ret == STORE_OK && !info->noselect;
	free(info);
	return exists;
}

static int cb_duplicate_check(void *ctx, const char *id)
{
	struct target_ctx *t = ctx;
	bool seen = false;
	const char *error;
	if (store_sieve_duplicate_check(t->st, t->account, "", id, &seen, &error) != STORE_OK)
		return -1;
	return seen ? 1 : 0;
}

static int cb_vacation_answered(void *ctx, const char *sender, const char *handle,
				uint64_t period)
{
	struct target_ctx *t = ctx;
	bool answered = false;
	const char *error;
	(void)period;	/* the period is in the row: it ends at its "until" */
	if (store_sieve_vacation_answered(t->st, t->account, sender, handle, &answered, &error) !=
	    STORE_OK)
		return -1;
	return answered ? 1 : 0;
}

/* include (RFC 6609): :personal scripts are the user's other stored
 * scripts, :global ones files NAME.sieve in [sieve] global_dir. */
static int cb_include(void *ctx, enum sieve_include_location loc, const char *name,
		      char **source_r, size_t *len_r, const char **error_r)
{
	struct target_ctx *t = ctx;
	return deliver_sieve_include_load(t->st, g.cfg, g.limits.max_script_size, t->account, loc,
					  name, source_r, len_r, error_r);
}

/* The mailbox a fileinto/keep goes to: the named one (created when asked),
 * else INBOX. Returns 0 with *id_r, or a store_result for the database. */
static int resolve_mailbox(struct store *st, const char *account, const char *name, bool create,
			   uint64_t *id_r, const char **error_r)
{
	struct store_mailbox_info *info = xmalloc(sizeof(*info));
	int ret = store_mailbox_open(st, account, name, info, error_r);
	if (ret == STORE_NOTFOUND && create) {
		ret = store_mailbox_create(st, account, name, NULL, id_r, error_r);
		if (ret == STORE_EXISTS)	/* created meanwhile */
			ret = store_mailbox_open(st, account, name, info, error_r);
		else if (ret == STORE_OK) {
			free(info);
			log_info("sieve user=%s event=mailbox-created mailbox=\"%s\"", account, name);
			return STORE_OK;
		}
	}
	if (ret == STORE_OK && !info->noselect) {
		*id_r = info->id;
		free(info);
		return STORE_OK;
	}
	if (ret == STORE_TEMPFAIL || ret == STORE_ERROR) {
		free(info);
		return ret;
	}
	if (strcmp(name, "INBOX") != 0)
		log_info("sieve user=%s event=fileinto-fallback mailbox=\"%s\" reason=\"%s\"", account,
			 name, ret == STORE_OK ? "not selectable" : "no such mailbox");
	ret = store_mailbox_open(st, account, "INBOX", info, error_r);
	if (ret == STORE_NOTFOUND) {
		ret = store_mailbox_provision_defaults(st, account, error_r);
		if (ret == STORE_OK)
			ret = store_mailbox_open(st, account, "INBOX", info, error_r);
	}
	if (ret == STORE_OK)
		*id_r = info->id;
	free(info);
	return ret;
}

/* imap4flags -> system flags and keywords that are valid IMAP atoms. */
static void map_flags(struct plan *p, struct store_sieve_copy *c, char **flags, size_t n)
{
	const char **kw = own(p, xcalloc(n + 1, sizeof(*kw)));
	size_t nkw = 0;
	for (size_t i = 0; i < n; i++) {
		const char *f = flags[i];
		if (f[0] == '\\') {
			if (str_casecmp(f, "\\Seen") == 0)
				c->flags |= STORE_FLAG_SEEN;
			else if (str_casecmp(f, "\\Answered") == 0)
				c->flags |= STORE_FLAG_ANSWERED;
			else if (str_casecmp(f, "\\Flagged") == 0)
				c->flags |= STORE_FLAG_FLAGGED;
			else if (str_casecmp(f, "\\Deleted") == 0)
				c->flags |= STORE_FLAG_DELETED;
			else if (str_casecmp(f, "\\Draft") == 0)
				c->flags |= STORE_FLAG_DRAFT;
			continue;
		}
		bool atom = f[0] != '\0' && strlen(f) <= STORE_KEYWORD_MAX;
		for (const char *q = f; *q != '\0' && atom; q++)
			atom = *q > ' ' && *q < 0x7f && strchr("(){%*\"\\]", *q) == NULL;
		bool dup = false;
		for (size_t k = 0; k < nkw; k++)
			dup = dup || str_casecmp(kw[k], f) == 0;
		if (atom && !dup)
			kw[nkw++] = own(p, xstrdup(f));
	}
	c->keywords = kw;
	c->keyword_count = nkw;
}

/* Length of the header block of data (up to and including the empty line). */
static size_t header_len(const char *data, size_t size)
{
	for (size_t i = 0; i + 1 < size; i++) {
		if (data[i] == '\n' && data[i + 1] == '\n')
			return i + 2;
		if (data[i] == '\n' && data[i + 1] == '\r' && i + 2 < size && data[i + 2] == '\n')
			return i + 3;
	}
	return size;
}

/* X-Cairn-Loop: fields of the message: how many, and whether one names account. */
static unsigned loop_count(const char *data, size_t size, const char *account, bool *mine_r)
{
	size_t hl = header_len(data, size);
	unsigned n = 0;
	*mine_r = false;
	static const char name[] = "X-Cairn-Loop:";
	size_t alen = strlen(account);
	for (size_t i = 0; i < hl; i++) {
		if ((i != 0 && data[i - 1] != '\n') || hl - i < sizeof(name) - 1 ||
		    str_ncasecmp(data + i, name, sizeof(name) - 1) != 0)
			continue;
		n++;
		const char *v = data + i + sizeof(name) - 1;
		while (v < data + hl && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(data + hl - v) >= alen && str_ncasecmp(v, account, alen) == 0 &&
		    (v + alen == data + hl || v[alen] == '\r' || v[alen] == '\n' || v[alen] == ' '))
			*mine_r = true;
	}
	return n;
}

static char *make_message_id(const char *kind)
{
	static atomic_uint_fast64_t seq;
	return xasprintf("<%s.%lx.%lx.%lx@%s>", kind, (unsigned long)time(NULL), (unsigned long)getpid(),
			 (unsigned long)atomic_fetch_add(&seq, 1), g.cfg->server.hostname);
}

static void rfc5322_date(char *out, size_t size)
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(out, size, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* A header value with no CR/LF (folded input joined), RFC 2047-encoded when
 * not ASCII. */
static void header_value(struct buf *out, const char *v)
{
	bool ascii = true;
	for (const char *p = v; *p != '\0'; p++)
		ascii = ascii && (unsigned char)*p < 0x80;
	if (ascii) {
		for (const char *p = v; *p != '\0'; p++)
			buf_append(out, *p == '\r' || *p == '\n' ? " " : p, 1);
		return;
	}
	buf_append_str(out, "=?UTF-8?B?");
	base64_encode(v, strlen(v), out);
	buf_append_str(out, "?=");
}

/* The RFC 3834 auto-reply of a decided vacation action. */
static void build_vacation(const struct sieve_vacation *v, struct buf *out)
{
	char date[64];
	rfc5322_date(date, sizeof(date));
	char *msgid = make_message_id("vacation");
	buf_printf(out, "Date: %s\r\nFrom: ", date);
	const char *lt = strrchr(v->from, '<');
	if (lt != NULL && lt > v->from) {
		/* "Name <addr>": only the display name may need encoding. */
		char *name = xstrndup(v->from, (size_t)(lt - v->from));
		size_t n = strlen(name);
		while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
			name[--n] = '\0';
		header_value(out, name);
		buf_printf(out, " %s", lt);
		free(name);
	} else {
		header_value(out, v->from);
	}
	buf_printf(out, "\r\nTo: <%s>\r\nSubject: ", v->to);
	header_value(out, v->subject != NULL ? v->subject : "Auto: (no subject)");
	buf_printf(out, "\r\nMessage-ID: %s\r\n", msgid);
	free(msgid);
	if (v->in_reply_to != NULL) {
		buf_append_str(out, "In-Reply-To: ");
		header_value(out, v->in_reply_to);
		buf_append_str(out, "\r\n");
	}
	if (v->references != NULL) {
		buf_append_str(out, "References: ");
		header_value(out, v->references);
		buf_append_str(out, "\r\n");
	}
	buf_append_str(out, "Auto-Submitted: auto-replied (vacation)\r\nMIME-Version: 1.0\r\n");
	const char *body = v->body != NULL ? v->body : "";
	if (!v->mime)
		buf_append_str(out, "Content-Type: text/plain; charset=utf-8\r\n"
				    "Content-Transfer-Encoding: 8bit\r\n\r\n");
	/* Normalise line ends to CRLF (a :mime body carries its own headers). */
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			buf_append(out, "\r", 1);
		buf_append(out, p, 1);
	}
	if (out->len < 2 || memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_append_str(out, "\r\n");
}

/* A rejection notice (RFC 5429 2.1: a DSN when refusing in the protocol is
 * no longer possible). */
static void build_reject_dsn(const struct deliver_envelope *env, const char *rcpt,
			     const char *reason, const char *data, size_t size, struct buf *out)
{
	char from[300], diag[600];
	snprintf(from, sizeof(from), "MAILER-DAEMON@%s", g.cfg->server.hostname);
	snprintf(diag, sizeof(diag), "550 5.7.1 %s", reason);
	char *msgid = make_message_id("reject");
	struct dsn_recipient r = { .address = rcpt, .action = "failed", .status = "5.7.1",
				   .diagnostic = diag, .last_attempt = time(NULL) };
	struct dsn_report rep = {
		.reporting_mta = g.cfg->server.hostname, .from = from, .to = env->from,
		.envid = env->dsn_envid, .arrival = time(NULL), .now = time(NULL),
		.message_id = msgid, .return_full = false, .original = data, .original_len = size,
		.max_original = g.cfg->queue.max_bounce_size, .utf8 = env->smtputf8, .rcpts = &r,
		.nrcpts = 1,
	};
	const char *error = NULL;
	if (dsn_build(&rep, out, &error) < 0)
		log_err("sieve event=reject-dsn-failed reason=\"%s\"", error != NULL ? error : "?");
	free(msgid);
}

/* The RCPT address that led to a target (for envelope "to" and logs). */
static const char *orig_rcpt(const struct deliver_envelope *env, const char *account)
{
	for (size_t i = 0; i < env->nrcpts; i++)
		for (size_t t = 0; t < env->rcpts[i].ntargets; t++)
			if (env->rcpts[i].target_local[t] &&
			    strcmp(env->rcpts[i].targets[t], account) == 0)
				return env->rcpts[i].address;
	return account;
}

struct target_result {
	bool reject;
	char *reject_reason;
	bool scripted;		/* anything but the plain implicit keep */
};

/* Run the scripts for local target ti and add its actions to the plan. */
static int plan_target(struct store *st, const struct deliver_envelope *env,
		       const struct store_deliver_msg *msg, struct plan *p, size_t ti,
		       const char *account, const char *name, const struct buf *src,
		       struct target_result *tr, const char **error_r)
{
	const struct config *cfg = g.cfg;
	struct sieve_script *user = NULL;
	int ret;
	if (name != NULL) {
		char *cname = xasprintf("%s/%s", account, name);
		char *error = NULL;
		if (sieve_cache_get(g.cache, cname, src->data != NULL ? src->data : "", src->len,
				    &user, &error) < 0) {
			log_warn("sieve user=%s script=\"%s\" event=compile-failed reason=\"%s\"",
				 account, name, error != NULL ? error : "?");
			free(error);
			user = NULL;
		}
		free(cname);
	}
	const char *rcpt = orig_rcpt(env, account);
	struct store_sieve_copy *c;
	uint64_t inbox_id;
	if (user == NULL && g.before == NULL && g.after == NULL) {
		/* No script: the plain keep. */
		if ((ret = resolve_mailbox(st, account, "INBOX", false, &inbox_id, error_r)) != STORE_OK)
			return ret;
		c = add_copy(p);
		c->account = account;
		c->mailbox_id = inbox_id;
		c->target = ti;
		c->data = NULL;		/* filled with the Return-Path copy by the caller */
		return STORE_OK;
	}
	tr->scripted = true;

	const char *domain = strchr(account, '@');
	const char *addresses[3] = { account, strcmp(rcpt, account) != 0 ? rcpt : NULL, NULL };
	struct target_ctx tctx = { st, account };
	struct sieve_exec_callbacks cbs = {
		.ctx = &tctx, .mailbox_exists = cb_mailbox_exists,
		.duplicate_check = cb_duplicate_check, .vacation_answered = cb_vacation_answered,
		.include = cb_include,
	};
	struct sieve_scan_verdict scan = {
		.spam_scanned = env->scanned, .spam_score = env->scan_score,
		.spam_max = env->scan_score_max > 0 ? env->scan_score_max : 15.0,
		.virus_scanned = env->virus_checked, .virus_level = 1,
	};
	struct sieve_exec_input in = {
		.message = msg->data, .message_size = msg->size,
		.scan = env->scanned || env->virus_checked ? &scan : NULL,
		.envelope = { .from = env->from, .to = account, .orig_to = rcpt,
			      .auth_user = env->auth_user },
		.recipient = { .account = account, .addresses = addresses },
		.environment = { .domain = domain != NULL ? domain + 1 : NULL,
				 .host = cfg->server.hostname, .location = "MDA",
				 .phase = "during", .remote_ip = env->client_ip,
				 .version = PACKAGE_VERSION },
		.limits = &g.limits, .cb = &cbs, .cache = g.cache,
	};
	const struct sieve_script *scripts[3] = { g.before, user, g.after };
	struct sieve_result *res = NULL;
	sieve_execute_multi(scripts, 3, &in, &res);
	sieve_script_unref(&user);
	if (res->error != NULL)
		log_warn("sieve user=%s event=runtime-error reason=\"%s\" action=keep", account,
			 res->error);

	/* The message as the user's copies and redirects carry it. */
	const char *data = msg->data;
	size_t size = msg->size;
	if (res->edited_header != NULL) {
		size_t hl = header_len(msg->data, msg->size);
		struct buf *b = own_buf(p);
		buf_append(b, res->edited_header, res->edited_header_len);
		buf_append(b, msg->data + hl, msg->size - hl);
		data = b->data;
		size = b->len;
	}
	struct buf *local = own_buf(p);
	buf_printf(local, "Return-Path: <%s>\r\n", env->from);
	buf_append(local, data, size);

	char *desc = sieve_result_describe(res);
	log_info("sieve user=%s from=<%s> actions=\"%s\" steps=%u", account, env->from,
		 desc != NULL ? desc : "", res->cpu_steps);
	free(desc);

	size_t fallback_for = SIZE_MAX;	/* redirect whose refusal must keep */
	bool kept = false;
	ret = STORE_OK;
	for (size_t a = 0; a < res->action_count && ret == STORE_OK; a++) {
		struct sieve_action *act = &res->actions[a];
		switch (act->kind) {
		case SIEVE_ACT_KEEP:
		case SIEVE_ACT_FILEINTO: {
			uint64_t id;
			const char *mbox = act->kind == SIEVE_ACT_KEEP || act->mailbox == NULL ?
						   "INBOX" : act->mailbox;
			ret = resolve_mailbox(st, account, mbox, act->create, &id, error_r);
			if (ret != STORE_OK)
				break;
			bool dup = false;	/* one copy per mailbox (RFC 5228 4.1) */
			for (size_t k = 0; k < p->txn.ncopies; k++)
				dup = dup || (p->txn.copies[k].target == ti &&
					      p->txn.copies[k].mailbox_id == id &&
					      p->txn.copies[k].only_if_unsent == SIZE_MAX);
			if (dup)
				break;
			c = add_copy(p);
			c->account = account;
			c->mailbox_id = id;
			c->target = ti;
			c->data = local->data;
			c->size = local->len;
			if (act->flags_set)
				map_flags(p, c, act->flags, act->flag_count);
			kept = true;
			break;
		}
		case SIEVE_ACT_REDIRECT: {
			bool mine;
			unsigned hops = loop_count(data, size, account, &mine);
			const char *to = act->address;
			bool self = str_casecmp(to, account) == 0 || str_casecmp(to, rcpt) == 0;
			if (self || mine || hops >= cfg->sieve.max_loop_hops) {
				log_warn("sieve user=%s event=redirect-refused to=<%s> reason=\"%s\"",
					 account, to, self ? "redirect to self" : "mail loop");
				fallback_for = SIZE_MAX - 1;	/* keep unconditionally */
				break;
			}
			if (cfg->sieve.redirects_per_day == 0) {
				log_warn("sieve user=%s event=redirect-refused to=<%s> "
					 "reason=\"redirect disabled\"", account, to);
				fallback_for = SIZE_MAX - 1;
				break;
			}
			struct store_sieve_out *o = add_out(p, ti);
			struct buf *b = own_buf(p);
			buf_printf(b, "X-Cairn-Loop: %s\r\n", account);
			buf_append(b, data, size);
			o->data = b->data;
			o->size = b->len;
			char *srs = own(p, xmalloc(700));
			o->from = env->from[0] != '\0' && srs_forward(env->from, srs, 700) == 0 ? srs :
												env->from;
			struct store_deliver_rcpt *r = own(p, xcalloc(1, sizeof(*r)));
			r->address = own(p, xstrdup(to));
			o->rcpts = r;
			o->nrcpts = 1;
			o->count_redirect = true;
			o->redirect_cap = cfg->sieve.redirects_per_day;
			o->smtputf8 = msg->smtputf8;
			o->body = msg->body;
			if (!act->copy && fallback_for == SIZE_MAX)
				fallback_for = p->txn.nouts - 1;
			break;
		}
		case SIEVE_ACT_REJECT:
		case SIEVE_ACT_EREJECT:
			tr->reject = true;
			free(tr->reject_reason);
			tr->reject_reason = xstrdup(act->reason != NULL ? act->reason : "rejected");
			break;
		case SIEVE_ACT_DISCARD:
			break;
		case SIEVE_ACT_VACATION: {
			struct sieve_vacation *v = act->vacation;
			if (v == NULL)
				break;
			if (v->suppressed) {
				log_info("sieve user=%s event=vacation-suppressed reason=\"%s\"",
					 account, v->why != NULL ? v->why : "");
				break;
			}
			struct store_sieve_out *o = add_out(p, ti);
			struct buf *b = own_buf(p);
			build_vacation(v, b);
			o->data = b->data;
			o->size = b->len;
			o->from = "";
			struct store_deliver_rcpt *r = own(p, xcalloc(1, sizeof(*r)));
			r->address = own(p, xstrdup(v->to));
			o->rcpts = r;
			o->nrcpts = 1;
			o->claim_sender = own(p, xstrdup(v->to));
			o->claim_handle = own(p, xstrdup(v->handle != NULL ? v->handle : ""));
			o->claim_seconds = v->period;
			break;
		}
		}
	}
	if (ret == STORE_OK && !kept && !tr->reject && fallback_for != SIZE_MAX) {
		/* A refused redirect must not lose the message. */
		uint64_t id;
		ret = resolve_mailbox(st, account, "INBOX", false, &id, error_r);
		if (ret == STORE_OK) {
			c = add_copy(p);
			c->account = account;
			c->mailbox_id = id;
			c->target = ti;
			c->data = local->data;
			c->size = local->len;
			if (fallback_for != SIZE_MAX - 1)
				c->only_if_unsent = fallback_for;
		}
	}
	for (size_t d = 0; d < res->duplicate_count && ret == STORE_OK; d++) {
		if (p->txn.ndups == p->cap_dups) {
			p->cap_dups = p->cap_dups * 2 + 4;
			p->txn.dups = xrealloc(p->txn.dups, p->cap_dups * sizeof(*p->txn.dups));
		}
		p->txn.dups[p->txn.ndups++] = (struct store_sieve_dup){
			.handle = "", .id = own(p, xstrdup(res->duplicates[d].id)),
			.seconds = res->duplicates[d].period, .target = ti,
		};
	}
	/* A rejected message is stored for nobody and sends nothing else. */
	if (tr->reject) {
		size_t w = 0;
		for (size_t k = 0; k < p->txn.ncopies; k++)
			if (p->txn.copies[k].target != ti)
				p->txn.copies[w++] = p->txn.copies[k];
		p->txn.ncopies = w;
		w = 0;
		for (size_t k = 0; k < p->txn.nouts; k++)
			if (p->txn.outs[k].target != ti)
				p->txn.outs[w++] = p->txn.outs[k];
		p->txn.nouts = w;
	}
	sieve_result_free(&res);
	return ret;
}

static void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nowned; i++)
		free(p->owned[i]);
	free(p->owned);
	for (size_t i = 0; i < p->nbufs; i++) {
		buf_free(p->bufs[i]);
		free(p->bufs[i]);
	}
	free(p->bufs);
	free(p->txn.copies);
	free(p->txn.outs);
	free(p->txn.dups);
	free((void *)p->txn.accounts);
	free(p->txn.results);
}

/* deliver_sieve_fn */
static int sieve_store(struct store *st, const struct deliver_envelope *env,
		       const struct store_deliver_msg *msg, struct store_deliver_rcpt *targets,
		       size_t n, bool partial, bool *rejected, bool *queued_r, char *reason,
		       size_t reason_size, const char **error_r)
{
	*queued_r = false;
	struct plan p;
	memset(&p, 0, sizeof(p));
	const char **accounts = xcalloc(n + 1, sizeof(*accounts));
	p.txn.accounts = accounts;
	p.txn.results = xcalloc(n + 1, sizeof(int));
	p.txn.ntargets = n;
	p.txn.partial = partial;
	p.txn.after = msg->after;
	p.txn.after_ctx = msg->after_ctx;
	struct target_result *tr = xcalloc(n + 1, sizeof(*tr));
	size_t nlocal = 0, nreject = 0, nremote = 0;
	int ret = STORE_OK;
	/* The active scripts first: without any (and without global ones)
	 * this is the plain delivery. */
	char **names = xcalloc(n + 1, sizeof(*names));
	struct buf *srcs = xcalloc(n + 1, sizeof(*srcs));
	bool any = g.before != NULL || g.after != NULL;
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		buf_init(&srcs[i], 0);
		if (!targets[i].local)
			continue;
		ret = store_sieve_get_active(st, targets[i].address, &names[i], &srcs[i], error_r);
		if (ret == STORE_NOTFOUND)
			ret = STORE_OK;
		any = any || names[i] != NULL;
	}
	if (ret != STORE_OK || !any) {
		for (size_t i = 0; i < n; i++) {
			free(names[i]);
			buf_free(&srcs[i]);
		}
		free(names);
		free(srcs);
		free(tr);
		plan_free(&p);
		if (ret != STORE_OK)
			return ret;
		ret = store_deliver_message(st, msg, targets, n, partial, error_r);
		for (size_t i = 0; i < n && ret == STORE_OK; i++)
			*queued_r = *queued_r || (!targets[i].local && targets[i].result == STORE_OK);
		return ret;
	}
	struct buf *plain = own_buf(&p);
	buf_printf(plain, "Return-Path: <%s>\r\n", msg->envelope_from);
	buf_append(plain, msg->data, msg->size);
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		if (!targets[i].local) {
			nremote++;
			continue;
		}
		accounts[i] = targets[i].address;
		nlocal++;
		bool seen = false;	/* the same account twice: one delivery */
		for (size_t k = 0; k < i; k++)
			seen = seen || (accounts[k] != NULL && strcmp(accounts[k], accounts[i]) == 0);
		if (seen)
			continue;
		ret = plan_target(st, env, msg, &p, i, accounts[i], names[i], &srcs[i], &tr[i],
				  error_r);
		if (ret == STORE_NOTFOUND && partial) {
			p.txn.results[i] = ret;
			accounts[i] = NULL;
			ret = STORE_OK;
		}
		if (tr[i].reject)
			nreject++;
	}
	for (size_t k = 0; k < p.txn.ncopies; k++) {
		if (p.txn.copies[k].data == NULL) {
			p.txn.copies[k].data = plain->data;
			p.txn.copies[k].size = plain->len;
		}
	}
	/* Refusal at the protocol level where possible (RFC 5429 2.1/2.2). */
	bool protocol_reject = partial || (nreject == nlocal && nremote == 0);
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		if (!tr[i].reject)
			continue;
		if (protocol_reject) {
			rejected[i] = true;
			snprintf(reason, reason_size, "%s", tr[i].reject_reason);
			continue;
		}
		if (env->from[0] == '\0')
			continue;	/* never a notice to <> */
		struct store_sieve_out *o = add_out(&p, i);
		struct buf *b = own_buf(&p);
		build_reject_dsn(env, orig_rcpt(env, accounts[i]), tr[i].reject_reason, msg->data,
				 msg->size, b);
		o->data = b->data;
		o->size = b->len;
		o->from = "";
		struct store_deliver_rcpt *r = own(&p, xcalloc(1, sizeof(*r)));
		r->address = env->from;
		o->rcpts = r;
		o->nrcpts = 1;
	}
	/* The remote targets: the original message, queued as it came. */
	struct store_deliver_rcpt *remote = NULL;
	if (ret == STORE_OK && nremote > 0) {
		remote = xcalloc(nremote, sizeof(*remote));
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!targets[i].local)
				remote[k++] = targets[i];
		struct store_sieve_out *o = add_out(&p, SIZE_MAX);
		o->from = msg->envelope_from;
		o->data = msg->data;
		o->size = msg->size;
		o->rcpts = remote;
		o->nrcpts = nremote;
		o->dsn_ret = msg->dsn_ret;
		o->dsn_envid = msg->dsn_envid;
		o->body = msg->body;
		o->smtputf8 = msg->smtputf8;
		o->auth_user = msg->auth_user;
		o->client_ip = msg->client_ip;
	}
	if (ret == STORE_OK) {
		/* A target rejected at the protocol level stores nothing. */
		for (size_t i = 0; i < n; i++)
			if (rejected[i])
				accounts[i] = NULL;
		ret = store_sieve_deliver(st, &p.txn, error_r);
	}
	if (ret == STORE_OK) {
		/* Now and then, forget expired vacation/duplicate/redirect rows
		 * (cheap, indexed; any node may do it). */
		static atomic_uint_fast64_t runs;
		if (atomic_fetch_add(&runs, 1) % SIEVE_EXPIRE_EVERY == SIEVE_EXPIRE_EVERY - 1) {
			const char *e = NULL;
			if (store_sieve_expire(st, &e) != STORE_OK)
				log_warn("sieve event=expire-failed reason=\"%s\"", e != NULL ? e : "?");
		}
		*queued_r = p.txn.queued;
		size_t k = 0;
		for (size_t i = 0; i < n; i++) {
			if (!targets[i].local) {
				targets[i].result = remote[k++].result;
				continue;
			}
			/* A duplicate account shares its first occurrence's result. */
			size_t first = i;
			for (size_t j = 0; j < i; j++)
				if (targets[j].local && strcmp(targets[j].address, targets[i].address) == 0) {
					first = j;
					break;
				}
			targets[i].result = p.txn.results[first];
			rejected[i] = rejected[first];
		}
	}
	for (size_t i = 0; i < n; i++) {
		free(tr[i].reject_reason);
		free(names[i]);
		buf_free(&srcs[i]);
	}
	free(names);
	free(srcs);
	free(tr);
	free(remote);
	plan_free(&p);
	return ret;
}

/* ---- the queue's DSNs to local senders (queue_dsn_sieve_fn) ---- */

struct dsn_plan {
	struct plan p;
	struct target_result tr;
};

static void dsn_plan_free(void *ptr)
{
	struct dsn_plan *d = ptr;
	plan_free(&d->p);
	free(d->tr.reject_reason);
	free(d);
}

/* The sender's scripts on a DSN from <>: as sieve_store for one local
 * target, but carried out by the queue in its outcome's transaction. A
 * script error keeps the DSN (the implicit keep); vacation never answers
 * <> and a redirect keeps the null sender, so no DSN can start a loop. */
static int dsn_sieve(struct store *st, const char *account, const char *data, size_t size,
		     struct store_sieve_txn **txn_r, void **plan_r)
{
	*txn_r = NULL;
	*plan_r = NULL;
	char *name = NULL;
	struct buf src;
	buf_init(&src, 0);
	const char *error = NULL;
	int ret = store_sieve_get_active(st, account, &name, &src, &error);
	if (ret == STORE_NOTFOUND)
		ret = STORE_OK;
	if (ret != STORE_OK || (name == NULL && g.before == NULL && g.after == NULL)) {
		if (ret != STORE_OK)
			log_warn("sieve user=%s event=dsn-script-failed reason=\"%s\"", account,
				 error != NULL ? error : "?");
		free(name);
		buf_free(&src);
		return ret == STORE_OK ? 0 : -1;
	}
	static char empty[] = "";
	struct deliver_envelope env;
	memset(&env, 0, sizeof(env));
	env.from = empty;
	env.body = "8BITMIME";
	struct store_deliver_msg msg = {
		.data = data, .size = size, .envelope_from = "", .body = "8BITMIME",
	};
	struct dsn_plan *d = xcalloc(1, sizeof(*d));
	const char **accounts = xcalloc(2, sizeof(*accounts));
	d->p.txn.accounts = accounts;
	d->p.txn.results = xcalloc(2, sizeof(int));
	d->p.txn.ntargets = 1;
	accounts[0] = own(&d->p, xstrdup(account));
	ret = plan_target(st, &env, &msg, &d->p, 0, accounts[0], name, &src, &d->tr, &error);
	free(name);
	buf_free(&src);
	if (ret != STORE_OK) {
		log_warn("sieve user=%s event=dsn-script-failed reason=\"%s\"", account,
			 error != NULL ? error : "?");
		dsn_plan_free(d);
		return -1;
	}
	struct buf *plain = own_buf(&d->p);
	buf_append_str(plain, "Return-Path: <>\r\n");
	buf_append(plain, data, size);
	for (size_t k = 0; k < d->p.txn.ncopies; k++) {
		if (d->p.txn.copies[k].data == NULL) {
			d->p.txn.copies[k].data = plain->data;
			d->p.txn.copies[k].size = plain->len;
		}
	}
	if (d->tr.reject) {
		/* never a notice to <>: a rejected DSN is dropped */
		log_info("sieve user=%s event=dsn-rejected reason=\"%s\"", account,
			 d->tr.reject_reason != NULL ? d->tr.reject_reason : "");
		accounts[0] = NULL;
	}
	*txn_r = &d->p.txn;
	*plan_r = d;
	return 0;
}

int deliver_sieve_setup(const struct config *cfg, char **error_r)
{
	g.cfg = cfg;
	deliver_sieve_limits(cfg, &g.limits);
	g.cache = sieve_cache_new(0, &g.limits);
	const char *paths[2] = { cfg->sieve.global_before, cfg->sieve.global_after };
	struct sieve_script **scripts[2] = { &g.before, &g.after };
	for (int i = 0; i < 2; i++) {
		if (paths[i][0] == '\0')
			continue;
		FILE *f = fopen(paths[i], "rb");
		if (f == NULL) {
			*error_r = xasprintf("[sieve] %s %s: %s", i == 0 ? "global_before" :
					     "global_after", paths[i], strerror(errno));
			return -1;
		}
		struct buf src;
		buf_init(&src, SIEVE_MAX_GLOBAL_SIZE);
		char chunk[8192];
		size_t r;
		bool too_big = false;
		while ((r = fread(chunk, 1, sizeof(chunk), f)) > 0)
			too_big = too_big || buf_append(&src, chunk, r) < 0;
		fclose(f);
		char *error = NULL;
		struct sieve_compile_params params = { .limits = &g.limits,
						       .name = i == 0 ? "global_before" :
								"global_after" };
		if (too_big || sieve_compile(src.data != NULL ? src.data : "", src.len, &params,
					     scripts[i], &error) < 0) {
			*error_r = xasprintf("[sieve] %s %s: %s", params.name, paths[i],
					     too_big ? "too large" : error != NULL ? error : "invalid");
			free(error);
			buf_free(&src);
			return -1;
		}
		buf_free(&src);
	}
	deliver_set_sieve_hook(sieve_store);
	deliver_set_srs_hook(srs_reverse);
	queue_set_dsn_sieve_hook(dsn_sieve, dsn_plan_free);
	return 0;
}

void deliver_sieve_cleanup(void)
{
	deliver_set_sieve_hook(NULL);
	deliver_set_srs_hook(NULL);
	queue_set_dsn_sieve_hook(NULL, NULL);
	sieve_script_unref(&g.before);
	sieve_script_unref(&g.after);
	sieve_cache_free(&g.cache);
}
