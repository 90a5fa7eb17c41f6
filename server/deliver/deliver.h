/* The delivery pipeline behind SMTP, submission and LMTP: route (the
 * directory decides where each recipient's mail goes) -> scan (a hook; the
 * scan stage of issue 6 plugs in here) -> store or queue (one PostgreSQL
 * transaction: local INBOX rows plus outbound queue rows, which the queue
 * runner of issue 9 picks up). Every function here blocks: call it from a
 * worker job. */
#ifndef CAIRN_DELIVER_H
#define CAIRN_DELIVER_H

#include "util.h"

struct dir_handle;
struct store;
struct store_deliver_msg;
struct store_deliver_rcpt;

enum deliver_status {
	DELIVER_OK = 0,
	DELIVER_NOTFOUND,	/* a local domain, no such address: 550 5.1.1 */
	DELIVER_RELAY_DENIED,	/* not ours, and the client may not relay: 554 5.7.1 */
	DELIVER_OVERQUOTA,	/* at RCPT a mailbox is already full: 452 4.2.2;
				 * at DATA the message would pass a quota: 552 5.2.2 */
	DELIVER_REJECTED,	/* the scan stage refused the message: 554 5.7.1 */
	DELIVER_TEMPFAIL,	/* directory or database unavailable: 451 */
	DELIVER_POLICY_TEMPFAIL,	/* the scan stage asks to try later (greylisting,
					 * a fail-closed scanner down): 451 4.7.1 with the reason */
};

/* One accepted RCPT and where it goes. */
struct deliver_rcpt {
	char *address;		/* as resolved, lower-cased */
	char **targets;		/* accounts (local) or remote addresses */
	bool *target_local;
	size_t ntargets;
	char *dsn_notify;	/* "SUCCESS,FAILURE" / "NEVER" or NULL */
	char *dsn_orcpt;	/* "rfc822;addr" or NULL */
	enum deliver_status result;	/* after deliver_message */
};

/* A DMARC result as the scan stage found it (RFC 7489). */
enum deliver_dmarc {
	DELIVER_DMARC_UNKNOWN = 0,	/* not evaluated */
	DELIVER_DMARC_NONE,		/* no DMARC record */
	DELIVER_DMARC_PASS,
	DELIVER_DMARC_FAIL,
	DELIVER_DMARC_TEMPERROR,
	DELIVER_DMARC_PERMERROR,
};

/* The envelope of one transaction (MAIL + the accepted RCPTs). */
struct deliver_envelope {
	char *from;		/* "" for <> */
	char *dsn_ret;		/* "FULL" / "HDRS" or NULL */
	char *dsn_envid;
	const char *body;	/* "7BIT", "8BITMIME" (static) */
	bool smtputf8;
	char *auth_user;	/* submitting account or NULL */
	char client_ip[64];
	struct deliver_rcpt *rcpts;
	size_t nrcpts;
	/* For the scan stage (issue 14): */
	char *helo;		/* EHLO/HELO/LHLO argument or NULL */
	enum deliver_listener {
		DELIVER_LISTENER_MX = 0, DELIVER_LISTENER_SUBMISSION, DELIVER_LISTENER_LMTP,
	} listener;
	/* The scan stage's verdict, set by deliver_message for Sieve's spamtest
	 * and virustest (RFC 5235); all false/0 when the message was not scanned. */
	bool scanned;		/* the spam checks ran to a score */
	double scan_score;
	double scan_score_max;	/* the score that means certainly spam (> 0) */
	bool virus_checked;	/* a virus scanner looked at it (and found none:
				 * a message with a virus is never delivered) */
	/* The scan stage's DMARC result for the From: domain (iMIP's sender
	 * check, deliver-imip.c); DELIVER_DMARC_UNKNOWN when it did not run. */
	enum deliver_dmarc dmarc;
	char dmarc_domain[256];	/* the From: domain it evaluated */
};

/* Where the scan stage sends a local copy. */
enum deliver_disposition {
	DELIVER_TO_INBOX = 0,
	DELIVER_TO_JUNK,	/* the account's \Junk mailbox (created as "Junk" if missing) */
	DELIVER_TO_QUARANTINE,	/* the quarantine (store-scan.h): invisible to the user */
};

/* A per-account disposition that differs from the verdict's default. */
struct deliver_target_verdict {
	char *account;
	enum deliver_disposition disposition;
};

/* The scan stage's answer for a message. */
struct deliver_verdict {
	bool reject;		/* refuse with 554 5.7.1 */
	bool tempfail;		/* a required scanner is down: 451 4.7.1 */
	char reason[128];
	/* The actions of the scan stage (deliver_set_scan_stage); all zero
	 * means deliver the message as received to every INBOX. */
	char *data;		/* malloc'ed: the message to store instead (headers
				 * added or removed), freed by deliver; NULL = unchanged */
	size_t size;
	enum deliver_disposition disposition;	/* of local copies without an override */
	struct deliver_target_verdict *targets;	/* malloc'ed overrides, freed by deliver */
	size_t ntargets;
	double score;		/* for the quarantine's listing and Sieve's spamtest */
	bool scanned;		/* score is a real verdict (not unscannable) */
	double score_max;	/* the score that means certainly spam, for spamtest */
	bool virus_checked;	/* a virus scanner ran to completion */
	char summary[256];	/* tests hit / virus, for the quarantine's listing */
	char subject[160];	/* the Subject:, for the quarantine's listing */
	enum deliver_dmarc dmarc;	/* DMARC for the From: domain, for iMIP */
	char dmarc_domain[256];
};
/* Free what a verdict holds (data, targets) and zero it. */
void deliver_verdict_clear(struct deliver_verdict *v);

/* Scan hook: inspect the message before it is stored. NULL (the default)
 * accepts everything; issue 6 registers the real stage at startup. */
typedef void deliver_scan_fn(const struct deliver_envelope *env, const char *data, size_t size,
			     struct deliver_verdict *verdict_r);
/* Install the scan stage (before the worker pool starts). */
void deliver_set_scan_hook(deliver_scan_fn *fn);
/* The full scan stage (server/scan/): also gets the worker's store and
 * directory handles, and may fill the actions of the verdict. When set it
 * runs instead of the scan hook. */
typedef void deliver_scan_stage_fn(struct store *st, struct dir_handle *dh,
				   const struct deliver_envelope *env, const char *data, size_t size,
				   struct deliver_verdict *verdict_r);
/* Store the local copies a verdict diverts: quarantine[nq] and junk[nj] are
 * accounts (provisioned); data is the message to store (without
 * Return-Path:). DELIVER_OK, _OVERQUOTA or _TEMPFAIL with reason. Runs
 * before the main transaction (so a failure here stores nothing else). */
typedef enum deliver_status deliver_divert_fn(struct store *st, const struct deliver_envelope *env,
					      const struct deliver_verdict *v, const char *data,
					      size_t size, const char *const *quarantine, size_t nq,
					      const char *const *junk, size_t nj, char *reason,
					      size_t reason_size);
void deliver_set_scan_stage(deliver_scan_stage_fn *fn, deliver_divert_fn *divert);

/* Queued hook: called (on the worker thread) after a message with remote
 * recipients is committed, to wake this node's queue runners. Without one
 * (this node runs no runners), deliver_message sends a NOTIFY instead so
 * the runners of other nodes start at once. Must stay callable for the
 * whole process lifetime once installed. */
typedef void deliver_queued_fn(void);
void deliver_set_queued_hook(deliver_queued_fn *fn);

/* Sieve stage (deliver-sieve.c): instead of store_deliver_message, store
 * msg for targets[0..n) (local accounts and remote addresses) running each
 * local account's scripts, in one transaction. rejected[i] is set for a
 * local target whose script refused the message where the protocol can say
 * so (LMTP, or SMTP when every target refused it); nothing is stored for
 * it. *queued_r tells whether anything went to the outbound queue.
 * Returns a store_result as store_deliver_message does. */
typedef int deliver_sieve_fn(struct store *st, const struct deliver_envelope *env,
			     const struct store_deliver_msg *msg, struct store_deliver_rcpt *targets,
			     size_t n, bool partial, bool *rejected, bool *queued_r, char *reason,
			     size_t reason_size, const char **error_r);
void deliver_set_sieve_hook(deliver_sieve_fn *fn);
/* iMIP hook (deliver-imip.c): look at a message before it is stored
 * (outside any transaction: MIME parsing, directory lookups). Returns true
 * with *after_r and *ctx_r set when the message carries iTIP to apply: *after_r
 * then runs inside the delivery transaction for the accounts that got a
 * copy (store_deliver_msg.after), and free_fn(*ctx_r) is called after the
 * delivery, committed or not. */
struct store_deliver_msg;
typedef int deliver_after_fn(struct store *st, void *ctx, const char *const *accounts,
			     size_t n);
typedef bool deliver_imip_fn(struct dir_handle *dh, const struct deliver_envelope *env,
			     const char *data, size_t size, deliver_after_fn **after_r,
			     void **ctx_r, void (**free_r)(void *ctx));
void deliver_set_imip_hook(deliver_imip_fn *fn);
/* Reverse SRS hook: 1 with the original address in out when address is a
 * valid SRS address of ours, -1 when it looks like one but is forged or
 * expired, 0 when it is not one. */
typedef int deliver_srs_fn(const char *address, char *out, size_t out_size);
void deliver_set_srs_hook(deliver_srs_fn *fn);

/* Resolve a RCPT address (NUL-free, split and lower-cased by the caller):
 * fills r (address, targets) on DELIVER_OK. relay: the client may send to
 * remote domains (authenticated), which then become one remote target.
 * Returns DELIVER_OK, _NOTFOUND, _RELAY_DENIED or _TEMPFAIL (*error_r). */
enum deliver_status deliver_resolve(struct dir_handle *dh, const char *address, bool relay,
				    struct deliver_rcpt *r, const char **error_r);
/* RCPT-time quota check of a resolved recipient: DELIVER_OVERQUOTA when a
 * local target's account already uses all of its byte or message quota (no
 * message can fit), DELIVER_OK otherwise (also for accounts not provisioned
 * yet), DELIVER_TEMPFAIL (*error_r) when the store is down. */
enum deliver_status deliver_rcpt_quota(struct store *st, const struct deliver_rcpt *r,
				       const char **error_r);
/* Whether address may be used as envelope sender by account (its primary
 * address, or an address that resolves to it alone). DELIVER_OK,
 * DELIVER_NOTFOUND (not owned) or DELIVER_TEMPFAIL. */
enum deliver_status deliver_sender_owned(struct dir_handle *dh, const char *address,
					 const char *account, const char **error_r);
/* The author fields of a message (deliver-from.c): the From: mailboxes and
 * the Sender: mailbox, bare addresses, ASCII lower-cased. */
#define DELIVER_FROM_MAX 16		/* From: mailboxes accepted */
#define DELIVER_FROM_ADDRESS_MAX 320
struct deliver_from {
	char **from;
	size_t nfrom;		/* >= 1 */
	char *sender;		/* NULL without Sender:; always set when nfrom > 1 */
};
/* Parse From: and Sender:. Returns 0, or -1 (nothing to free) when From: is
 * missing, either field appears more than once (RFC 5322 3.6 allows one),
 * a mailbox is not a plain address (groups, garbage), Sender: holds more
 * than one mailbox, or From: holds several without a Sender: (3.6.2). */
int deliver_from_parse(const char *data, size_t size, struct deliver_from *f_r);
/* Free the strings of f. */
void deliver_from_free(struct deliver_from *f);
/* The one address of the message's From: header (RFC 5322 3.6.2), comments
 * and display name removed, ASCII lower-cased, into out. Returns 0, or -1
 * when deliver_from_parse() fails, From: holds more than one mailbox, or the
 * address does not fit. */
int deliver_header_from(const char *data, size_t size, char *out, size_t out_size);
/* Submission's author check for account (its primary address): every From:
 * mailbox and the Sender: mailbox, if any, must be owned by the account
 * (deliver_sender_owned), and the fields must parse (deliver_from_parse:
 * one From:, several authors only with a Sender:). DELIVER_OK,
 * DELIVER_REJECTED (not owned or malformed) or DELIVER_TEMPFAIL (*error_r). */
enum deliver_status deliver_check_from(struct dir_handle *dh, const char *data, size_t size,
				       const char *account, const char **error_r);
/* Scan, provision first-time directory users and store/queue the message
 * for every recipient in one transaction. partial (LMTP): per-recipient
 * results in env->rcpts[i].result and DELIVER_OK if the transaction
 * committed; otherwise one result for all. DELIVER_OK only after COMMIT. */
enum deliver_status deliver_message(struct store *st, struct dir_handle *dh,
				    struct deliver_envelope *env, const char *data, size_t size,
				    bool partial, char *reason, size_t reason_size);
/* Free a recipient's strings (the struct itself is the caller's). */
void deliver_rcpt_free(struct deliver_rcpt *r);
/* Free the envelope's strings and recipients; it can be reused. */
void deliver_envelope_clear(struct deliver_envelope *env);

#endif
