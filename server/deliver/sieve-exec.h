/* Sieve execution: run a compiled script (proto/sieve.h) on one message for
 * one recipient and decide the actions. Nothing here delivers, sends or
 * stores: the caller (deliver.c) performs the result inside its delivery
 * transaction, and answers the questions the script asks (does a mailbox
 * exist, was this message seen before, was this sender answered) through
 * callbacks. Also the :regex engine (PCRE2, bounded) and a thread-safe,
 * bounded cache of compiled scripts keyed by the SHA-256 of their source. */
#ifndef CAIRN_SIEVE_EXEC_H
#define CAIRN_SIEVE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sieve.h"

/* The SMTP/LMTP envelope of the message for this recipient. */
struct sieve_envelope {
	const char *from;		/* reverse path without <>, "" for <> */
	const char *to;			/* this recipient, after aliases */
	const char *orig_to;		/* as the client gave it (ORCPT or RCPT), NULL = to */
	const char *auth_user;		/* submitting account, NULL when none */
};

/* The scan stage's verdict for spamtest/spamtestplus/virustest (RFC 5235). */
struct sieve_scan_verdict {
	bool spam_scanned;		/* false: spamtest is 0 ("not tested") */
	double spam_score;		/* e.g. SpamAssassin's score */
	double spam_max;		/* the score that means "certainly spam" (> 0) */
	bool virus_scanned;		/* false: virustest is 0 */
	int virus_level;		/* RFC 5235 3.2: 1 clean .. 5 infected, not curable */
};

/* Environment items (RFC 5183 4.1 and the "vnd.cairn" ones); NULL = unknown. */
struct sieve_environment {
	const char *domain;		/* primary DNS domain of the server */
	const char *host;		/* FQDN of this node */
	const char *location;		/* "MTA", "MDA", "MS", "MUA" (default "MDA") */
	const char *phase;		/* "pre", "during", "post" (default "during") */
	const char *remote_host;	/* client's host name */
	const char *remote_ip;		/* client's IP address */
	const char *version;		/* product version */
};

/* Questions the script may ask; every callback is optional (NULL: the
 * documented default). All receive ctx. They are called synchronously from
 * sieve_execute, which itself runs on a worker. */
struct sieve_exec_callbacks {
	void *ctx;
	/* Does the recipient's mailbox exist? (mailboxexists, fileinto :create
	 * decisions are the caller's.) Default: only "INBOX". */
	bool (*mailbox_exists)(void *ctx, const char *mailbox);
	/* Value of a metadata entry (RFC 5464) of mailbox, or of the server
	 * when mailbox is NULL (RFC 5490 3.3/3.4). Returns 0 with *value_r
	 * (malloc'ed), 1 when there is none, -1 on error. Default: none. */
	int (*metadata)(void *ctx, const char *mailbox, const char *entry, char **value_r);
	/* Which of the recipient's mailboxes carries the special-use flag
	 * (RFC 8579 specialuse_exists)? Returns its name (malloc'ed) or NULL
	 * when none does. Default: none. (fileinto :specialuse is resolved by
	 * the caller from the action's specialuse field.) */
	char *(*specialuse_mailbox)(void *ctx, const char *flag);
	/* RFC 7352: was id (already hashed with the handle) recorded and not
	 * expired? Returns 1 seen, 0 not seen, -1 error. Default: 0. The
	 * records to make are returned in the result, for after delivery. */
	int (*duplicate_check)(void *ctx, const char *id);
	/* RFC 5230 4.2: was sender answered with this handle (for this
	 * recipient) within period seconds? 1 yes, 0 no, -1 error. The caller
	 * stores the answer when it sends the reply (vacation result). */
	int (*vacation_answered)(void *ctx, const char *sender, const char *handle,
				 uint64_t period);
	/* Current time; default time(NULL). */
	time_t (*now)(void *ctx);
	/* Local time zone offset in minutes east of UTC for t; default the
	 * process's (localtime_r). */
	int (*zone_offset)(void *ctx, time_t t);
	/* Included scripts (RFC 6609); default: none exist. */
	sieve_include_fn *include;
};

/* Who the message is delivered to. */
struct sieve_recipient {
	const char *account;		/* account name (the login) */
	const char *const *addresses;	/* all the recipient's addresses (NULL-terminated),
					   for vacation (RFC 5230 4.5) and self-redirect checks */
	const char *detail_separator;	/* subaddress separator, default "+" */
	const char *from_address;	/* From of vacation replies when :from is absent; NULL = envelope to */
};

struct sieve_exec_input {
	const char *message;		/* raw RFC 5322 bytes (CRLF or LF) */
	size_t message_size;
	struct sieve_envelope envelope;
	struct sieve_recipient recipient;
	struct sieve_environment environment;
	const struct sieve_scan_verdict *scan;	/* NULL: not scanned */
	const struct sieve_limits *limits;	/* NULL: defaults */
	const struct sieve_exec_callbacks *cb;	/* NULL: all defaults */
	struct sieve_cache *cache;		/* for included scripts; NULL: compile each time */
};

enum sieve_action_kind {
	SIEVE_ACT_KEEP,		/* store in INBOX (explicit or implicit keep) */
	SIEVE_ACT_FILEINTO,	/* store in mailbox */
	SIEVE_ACT_REDIRECT,	/* resend to address (through the queue) */
	SIEVE_ACT_REJECT,	/* refuse (RFC 5429): at SMTP time, or an MDN-style DSN */
	SIEVE_ACT_EREJECT,	/* refuse at the protocol level when possible */
	SIEVE_ACT_DISCARD,	/* drop silently (only ever reported, never with others) */
	SIEVE_ACT_VACATION,	/* send (or not: suppressed) an auto-reply */
};

/* A vacation reply, fully decided: the caller only builds the message with
 * RFC 3834 headers (Auto-Submitted: auto-replied), queues and records it. */
struct sieve_vacation {
	bool suppressed;	/* true: do not send; why says why */
	char *why;		/* "sender is <>", "mailing list (List-Id)", ... or NULL */
	char *to;		/* the envelope sender the reply goes to */
	char *from;		/* From of the reply (an address or "Name <addr>") */
	char *subject;		/* "Auto: " + original subject unless :subject */
	char *body;		/* text (UTF-8), or a whole MIME entity when mime */
	bool mime;		/* :mime: body is headers + body of a MIME entity */
	char *handle;		/* :handle, or a hash of the reason/subject/from/mime */
	uint64_t period;	/* seconds between two replies to the same sender */
	char *in_reply_to;	/* Message-ID of the original, or NULL */
	char *references;	/* its References plus Message-ID, or NULL */
	char *fcc;		/* RFC 8580 :fcc mailbox, or NULL */
	char **fcc_flags;	/* with :flags */
	size_t fcc_flag_count;
	bool fcc_create;
	char *fcc_specialuse;	/* RFC 8580 with RFC 8579: :specialuse, or NULL */
};

struct sieve_action {
	enum sieve_action_kind kind;
	bool implicit;		/* the implicit keep (RFC 5228 2.10.2) */
	char *mailbox;		/* FILEINTO: target (UTF-8 name); KEEP: "INBOX" */
	char **flags;		/* KEEP/FILEINTO: IMAP flags to set (imap4flags) */
	size_t flag_count;
	bool flags_set;		/* flags given (possibly empty), else default */
	bool create;		/* FILEINTO :create (RFC 5490) */
	bool copy;		/* FILEINTO/REDIRECT :copy (RFC 3894) */
	char *specialuse;	/* FILEINTO :specialuse (RFC 8579) or NULL */
	char *mailboxid;	/* reserved for :mailboxid (RFC 9042, not offered yet): NULL */
	char *address;		/* REDIRECT: target address */
	char *reason;		/* REJECT/EREJECT: text */
	struct sieve_vacation *vacation;	/* VACATION */
	unsigned line;		/* script line of the command (0 for implicit) */
};

/* A duplicate-tracking record to store once delivery succeeded (RFC 7352 3). */
struct sieve_duplicate_record {
	char *id;		/* hex SHA-256 of handle + unique id */
	uint64_t period;	/* seconds to remember it */
};

struct sieve_result {
	struct sieve_action *actions;
	size_t action_count;
	/* editheader changed the header: the whole new header block (with the
	 * final empty line) to use instead of the original one, for keep and
	 * fileinto (redirect sends it too). NULL when unchanged. */
	char *edited_header;
	size_t edited_header_len;
	struct sieve_duplicate_record *duplicates;
	size_t duplicate_count;
	/* A runtime error or limit: the actions are then only the implicit
	 * keep, and error says what happened ("line L column C: ..."). */
	char *error;
	char **warnings;	/* "line L: ..." */
	size_t warning_count;
	unsigned cpu_steps;	/* steps used (for logs and limits tuning) */
};

/* Run script on in. Always returns a result (free with sieve_result_free):
 * on a runtime error it is the implicit keep with result->error set.
 * Returns 0, or -1 when result->error is set. */
int sieve_execute(const struct sieve_script *script, const struct sieve_exec_input *in,
		  struct sieve_result **result_r);
/* Run several scripts in sequence as one (the admin's before script, the
 * user's, the admin's after script, as Pigeonhole's sieve_before/after):
 * each next script runs only while the implicit keep is still in effect;
 * their actions join in one result. NULL entries are skipped. */
int sieve_execute_multi(const struct sieve_script *const *scripts, size_t count,
			const struct sieve_exec_input *in, struct sieve_result **result_r);
/* Free a result and set *result to NULL. */
void sieve_result_free(struct sieve_result **result);
/* Render a result for logs and tests: one action per line, e.g.
 * "fileinto \"Lists\" flags=\\Seen :copy". Appends to a malloc'ed string. */
char *sieve_result_describe(const struct sieve_result *result);

/* The :regex engine: validate pattern (a sieve_regex_check_fn for
 * sieve_compile_params.regex_check; ctx may be NULL). */
int sieve_regex_check(void *ctx, const char *pattern, bool icase, const char **error_r);

/* A bounded, thread-safe cache of compiled scripts. */
struct sieve_cache;
/* max_entries 0 = 256. limits NULL = defaults (used for every compile). */
struct sieve_cache *sieve_cache_new(size_t max_entries, const struct sieve_limits *limits);
void sieve_cache_free(struct sieve_cache **cache);
/* The compiled script for (name, source): from the cache when the SHA-256 of
 * name and source is there, else compiled and added (least recently used
 * entries are dropped past max_entries). Returns 0 with a reference in
 * *script_r (sieve_script_unref it), or -1 with *error_r (malloc'ed). */
int sieve_cache_get(struct sieve_cache *cache, const char *name, const char *source, size_t len,
		    struct sieve_script **script_r, char **error_r);
/* Entries, hits and misses so far (for metrics and tests). */
void sieve_cache_stats(struct sieve_cache *cache, size_t *entries_r, uint64_t *hits_r,
		       uint64_t *misses_r);

#endif
