/* The scan stage (issue 14): every inbound message, after DATA/BDAT and
 * before the reply, goes through an ordered list of named check modules on
 * the worker thread that delivers it. The stage gives each module the same
 * message context, collects one result (score, tests hit, virus, action
 * hints, headers to add, timings), and turns it into one verdict for
 * deliver_message(): tag, deliver to Junk, quarantine, reject 5xx at DATA
 * or tempfail 4xx. A reject is therefore a reply, never a bounce.
 *
 * How a module plugs in (content checks, scanner clients, sender
 * authentication are all modules):
 *
 *   static const struct scan_module clamd_module = {
 *       .name = "clamd", .init = clamd_init, .reload = clamd_reload,
 *       .run = clamd_run, .free = clamd_free,
 *   };
 *   ... scan_register(&clamd_module);   (from scan_modules_register(), before
 *                                        scan_stage_start(); see scan.c)
 *
 * - init(cfg, settings, state_r, error_r): once at start, on the main
 *   thread, before the workers start. The module reads its own options from
 *   cfg, fills settings (enabled, budget, failure mode, order; the defaults
 *   are preset from [scan]) and returns its state. -1 with *error_r stops
 *   cairnd at start (a broken configuration is fatal at start).
 * - reload(state, cfg, settings, error_r): on SIGHUP, on the main thread,
 *   while no run of this module is in progress (the stage takes a
 *   read/write lock around it). -1 with *error_r keeps the old state and
 *   settings (the module must leave them untouched then), and is logged.
 *   NULL = nothing to reload.
 * - run(state, msg, result, deadline_ms): on a worker thread, concurrently
 *   with other runs of the same module (state is shared: read-only, or
 *   locked by the module). deadline_ms (scan_now_ms() clock) is the earlier
 *   of the module's own budget and the stage deadline; the module passes it
 *   to every socket/DNS wait (scan_remaining_ms()) and gives up when it is
 *   reached. The stage cannot preempt a thread: the budget is cooperative,
 *   but a module that overruns is counted as timed out whatever it returns.
 *   Returns SCAN_MOD_OK (its findings are in result), SCAN_MOD_SKIP (not
 *   applicable to this message), SCAN_MOD_ERROR or SCAN_MOD_TIMEOUT (a
 *   scanner down or slow: nothing added to result is trusted, and the
 *   module's failure mode decides: fail-open ignores the module, fail-closed
 *   makes the message "unscannable" and the [scan] policy answers
 *   accept | tempfail | reject).
 * - free(state): at shutdown.
 *
 * Modules add to the result only with the scan_result_* functions below.
 * What a module that fails (ERROR/TIMEOUT) added is dropped again (tests,
 * score, headers, hint), except a virus, which is kept: a virus is never
 * delivered. A module reads its own options from its own config section
 * (struct config); [scan] budgets / fail_closed / disable override the
 * settings of any module by name after its init/reload. DNS: scan_msg_dns()
 * gives the thread's resolver, dns_lookup() (server/queue/dns.h) any record
 * type. Registration: scan_modules_register_content() in scan-content.c.
 * Everything here is thread-safe in the sense above; the message context
 * belongs to one worker thread for the duration of one scan. */
#ifndef CAIRN_SCAN_H
#define CAIRN_SCAN_H

#include "util.h"

#include <stdarg.h>

struct config;
struct store;
struct dir_handle;
struct dns_resolver;
struct mime_message;
struct deliver_envelope;
struct deliver_verdict;

/* ---- the message context ---- */

/* Which kind of listener received the message. */
enum scan_listener {
	SCAN_LISTENER_MX,		/* [smtp] listen: inbound MX */
	SCAN_LISTENER_SUBMISSION,	/* [submission]: authenticated users */
	SCAN_LISTENER_LMTP,		/* [smtp] lmtp_listen */
};

/* One accepted RCPT: the address as given and the local accounts it
 * resolves to (aliases and groups expanded; remote targets are not listed). */
struct scan_rcpt {
	const char *address;
	const char *const *accounts;
	size_t naccounts;
};

/* The message as given to every module. All pointers are borrowed for the
 * duration of the scan; modules never modify them. */
struct scan_msg {
	enum scan_listener listener;
	const char *client_ip;		/* "192.0.2.1" / "2001:db8::1" */
	const char *helo;		/* EHLO/HELO/LHLO argument, "" if none */
	const char *rdns;		/* the client's verified reverse name, NULL if unknown */
	const char *mail_from;		/* "" for the null reverse-path */
	const char *mail_domain;	/* domain of mail_from, "" for <> */
	const struct scan_rcpt *rcpts;
	size_t nrcpts;
	const char *auth_user;		/* authenticated account, NULL if none */
	const char *authserv_id;	/* [scan] authserv_id (the A-R header's id) */

	/* The raw message as received (CRLF line ends, with the Received:
	 * field the gateway added): header block [0, header_len) including
	 * the empty line that ends it, body [body_offset, size). */
	const char *raw;
	size_t size;
	size_t header_len;
	size_t body_offset;

	/* The worker's handles (blocking calls are fine: this is a worker). */
	struct store *store;
	struct dir_handle *dir;

	uint64_t started_ms;		/* scan_now_ms() when the scan began */
	uint64_t deadline_ms;		/* the whole stage's deadline */

	/* private to scan.c */
	struct mime_message *mime_;
	struct dns_resolver *dns_;
	void *priv_;
	char *rdns_;		/* scan_msg_rdns's answer */
	bool rdns_done_;
};

/* Monotonic milliseconds, the clock of every deadline here. */
uint64_t scan_now_ms(void);
/* Milliseconds left until deadline_ms (0 when past). */
uint64_t scan_remaining_ms(uint64_t deadline_ms);
/* The message's MIME tree, parsed on first use (proto/mime, default limits
 * with at most 1,000 parts split out). Never NULL; owned by the context. */
const struct mime_message *scan_msg_mime(struct scan_msg *msg);
/* The worker thread's DNS resolver ([queue] resolver; [scan] dns_timeout per
 * query, never past deadline_ms), created on first use. NULL with *error_r
 * when it cannot be created. */
struct dns_resolver *scan_msg_dns(struct scan_msg *msg, uint64_t deadline_ms,
				  const char **error_r);
/* The client's forward-confirmed reverse name (a PTR name of client_ip
 * whose A/AAAA records include client_ip; the first of at most 10), looked
 * up on first use within deadline_ms and kept in msg->rdns; NULL when there
 * is none or DNS fails. */
const char *scan_msg_rdns(struct scan_msg *msg, uint64_t deadline_ms);
/* The first header field name (case-insensitive) of the top-level header,
 * unfolded value with leading blanks removed, malloc'ed; NULL when absent.
 * nth counts from 0 among the fields of that name. */
char *scan_msg_header(const struct scan_msg *msg, const char *name, size_t nth);

/* ---- the result ---- */

/* What a module or the policy asks for, in increasing severity: the stage
 * applies the most severe of the hints and the thresholds. */
enum scan_action {
	SCAN_ACTION_ACCEPT = 0,		/* deliver as is (with the headers to add) */
	SCAN_ACTION_TAG,		/* add X-Spam-* headers, deliver to INBOX */
	SCAN_ACTION_JUNK,		/* tag and deliver to the recipient's Junk */
	SCAN_ACTION_QUARANTINE,		/* keep in the quarantine, invisible to the user */
	SCAN_ACTION_TEMPFAIL,		/* 451 4.7.1 at DATA */
	SCAN_ACTION_REJECT,		/* 550/554 5.7.1 at DATA */
};

#define SCAN_TEST_NAME_MAX 64
#define SCAN_MAX_TESTS 256	/* more hits are counted in the score, not listed */

/* One test that hit: "SPF_FAIL", "GTUBE", "BAYES_99", "DNSBL_ZEN"... */
struct scan_test {
	char name[SCAN_TEST_NAME_MAX];	/* [A-Za-z0-9_.-]; other bytes become '_' */
	double score;
	char *detail;			/* short text for X-Spam-Report and logs, or NULL */
	const char *module;		/* the module that added it (static) */
};

/* A header field to add to the delivered message (prepended, in order). */
struct scan_header {
	char *name;
	char *value;			/* unfolded; the stage folds long values */
};

/* A change to a header field of the received message (a milter's
 * SMFIR_CHGHEADER): the index-th field of that name (1-based, among the
 * received header's fields as the milter saw them; 0 counts as 1) gets
 * value, or is deleted when value is "". A value for an index past the
 * last field of that name adds the field at the end of the header. */
struct scan_header_edit {
	char *name;
	uint32_t index;
	char *value;			/* "\n" + blank folds; "" deletes */
};

/* How one module's run went. */
enum scan_mod_status {
	SCAN_MOD_OK = 0,
	SCAN_MOD_SKIP,
	SCAN_MOD_ERROR,
	SCAN_MOD_TIMEOUT,
};

struct scan_timing {
	const char *module;		/* static name */
	uint64_t us;			/* wall time of its run */
	enum scan_mod_status status;
};

struct scan_result {
	double score;			/* sum of the tests' scores (kept by scan_result_add_test) */
	struct scan_test *tests;
	size_t ntests;
	size_t tests_dropped;		/* hits past SCAN_MAX_TESTS */
	bool virus;			/* a virus was found: never delivered */
	char virus_name[128];
	enum scan_action hint;		/* the most severe action a module asked for */
	char hint_reason[256];		/* that module's reason (for the reply and log) */
	const char *hint_module;
	struct scan_header *headers;
	size_t nheaders;
	struct scan_timing *timings;
	size_t ntimings;
	bool unscannable;		/* a fail-closed module failed or the deadline passed */
	/* Set by the stage while a module runs, so its additions carry its name. */
	const char *current_module;
	/* Header changes and a replacement body (milters): applied to the
	 * delivered message by the stage; dropped like the other additions
	 * when the module that made them fails. */
	struct scan_header_edit *edits;
	size_t nedits;
	bool body_replaced;
	char *body;			/* the new body (CRLF), owned by the result */
	size_t body_len;
	char *body_before_;		/* private to scan.c: the body before the running module */
};

/* Add a test hit with its score and an optional printf detail. A test of the
 * same name already present is replaced (score adjusted). */
void scan_result_add_test(struct scan_result *r, const char *name, double score,
			  const char *detail_fmt, ...) ATTR_PRINTF(4, 5);
/* Whether a test of that name hit (exact, case-sensitive); its score to *score_r. */
bool scan_result_has_test(const struct scan_result *r, const char *name, double *score_r);
/* Record a virus (name as the scanner reported it). */
void scan_result_set_virus(struct scan_result *r, const char *name);
/* Ask for an action (a milter's reject, DMARC p=reject...): kept when more
 * severe than the current hint. */
void scan_result_hint(struct scan_result *r, enum scan_action action, const char *reason_fmt,
		      ...) ATTR_PRINTF(3, 4);
/* Add a header field to the delivered message (name without ':'). */
void scan_result_add_header(struct scan_result *r, const char *name, const char *value);
/* Change or delete (value "") a header field of the received message. */
void scan_result_change_header(struct scan_result *r, const char *name, uint32_t index,
			       const char *value);
/* Replace the message body by data[0..len) (CRLF line ends). */
void scan_result_replace_body(struct scan_result *r, const char *data, size_t len);
/* Free everything in r and zero it. */
void scan_result_clear(struct scan_result *r);

/* ---- modules ---- */

enum scan_failure_mode {
	SCAN_FAIL_OPEN,			/* on error/timeout: ignore the module */
	SCAN_FAIL_CLOSED,		/* on error/timeout: the message is unscannable */
};

/* Per-module settings, preset by the stage from [scan] (enabled, budget =
 * step_timeout, fail-open) and adjusted by the module's init/reload. */
struct scan_module_settings {
	bool enabled;
	uint64_t budget_ms;		/* its own time budget per message */
	enum scan_failure_mode failure;
	int order;			/* lower runs first; ties in registration order */
	bool on_submission;		/* also run for authenticated submission (default no) */
};

/* Module ordering conventions (settings.order defaults): */
#define SCAN_ORDER_AUTH 100		/* SPF, DKIM, ARC, DMARC (sender authentication) */
#define SCAN_ORDER_REPUTATION 200	/* DNSBL/DNSWL/URIBL, greylisting */
#define SCAN_ORDER_CONTENT 300		/* rules, Bayes */
#define SCAN_ORDER_EXTERNAL 400		/* clamd, spamd, rspamd, milters */

struct scan_module {
	const char *name;		/* [a-z0-9_-], unique; used in logs, metrics, timings */
	int (*init)(const struct config *cfg, struct scan_module_settings *settings,
		    void **state_r, const char **error_r);
	int (*reload)(void *state, const struct config *cfg, struct scan_module_settings *settings,
		      const char **error_r);
	enum scan_mod_status (*run)(void *state, struct scan_msg *msg, struct scan_result *result,
				    uint64_t deadline_ms);
	void (*free)(void *state);
};

/* Register a module (main thread, before scan_stage_start). The struct must
 * stay valid for the process lifetime. Returns 0, or -1 when the name is
 * taken or the table is full. */
int scan_register(const struct scan_module *module);

/* ---- the stage ---- */

/* Register the built-in modules: sender authentication, then
 * scan_modules_register_content(). Main thread, once, before
 * scan_stage_start. */
void scan_modules_register(void);
/* The content modules' registrations (server/scan/scan-content.c, owned by
 * the content checks). */
void scan_modules_register_content(void);
/* Initialise every registered module from cfg and install the stage with
 * deliver_set_scan_stage(). Returns 0, or -1 with *error_r (static or
 * pointing into a buffer that lives until the next call). */
int scan_stage_start(const struct config *cfg, const char **error_r);
/* SIGHUP: reload every module (each keeps its old state on error, which is
 * logged). The [scan] options themselves are taken from cfg too. */
void scan_stage_reload(const struct config *cfg);
/* Free the modules (after the worker pool has stopped). */
void scan_stage_stop(void);

/* Scan one message: run the modules in order against msg and fill result
 * (caller clears it). Used by the stage, `cairnctl scan` style tools and
 * tests. */
void scan_run(struct scan_msg *msg, struct scan_result *result);
/* Free the lazily built parts of msg (MIME tree). The resolver is the
 * thread's and stays. */
void scan_msg_done(struct scan_msg *msg);

/* Name of an action / module status, for logs ("accept", "tag", ...). */
const char *scan_action_name(enum scan_action action);
const char *scan_mod_status_name(enum scan_mod_status status);

#endif
