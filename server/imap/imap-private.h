/* Internals shared by the IMAP session's files: the session and job
 * structs, the command table entry, the selected mailbox's view (sequence
 * number -> uid map kept exactly per RFC 3501 7.4.1) and reply helpers. */
#ifndef CAIRN_IMAP_PRIVATE_H
#define CAIRN_IMAP_PRIVATE_H

#include "imap-session.h"
#include "imap_args.h"
#include "imap_parser.h"
#include "imap_quote.h"
#include "sasl.h"
#include "loop.h"
#include "store-notify.h"
#include "store-mail.h"
#include "worker.h"

struct store;
struct dir_handle;

enum imap_state {
	IMAP_STATE_NOTAUTH = 1 << 0,
	IMAP_STATE_AUTH = 1 << 1,
	IMAP_STATE_SELECTED = 1 << 2,
	IMAP_STATE_LOGOUT = 1 << 3,
};

/* One uid range claimed as \Recent by this session. */
struct imap_recent {
	uint32_t lo, hi;
};

/* The selected mailbox as the client knows it. */
struct imap_mailbox {
	uint64_t id;
	char *name;			/* UTF-8 */
	bool readonly;
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t modseq;		/* highest modseq the client was told about */
	uint32_t *uids;			/* seq n -> uids[n-1], ascending */
	size_t count;
	struct imap_recent *recent;
	size_t recent_count;
};

struct imap_session;
struct imap_job;

typedef void imap_job_run_fn(struct imap_job *j, struct store *st, struct worker *w);
typedef void imap_job_done_fn(struct imap_job *j);

/* Result of synchronising the view with the store (computed on the worker). */
struct imap_sync {
	bool changed;
	uint32_t *uids;			/* the new view */
	size_t count;
	uint32_t uidnext;
	uint64_t modseq;
	struct imap_recent recent;	/* newly claimed, lo > hi: none */
	bool has_expunges;
	struct buf out;			/* untagged EXPUNGE/EXISTS/RECENT/FETCH */
};

enum imap_sync_mode {
	IMAP_SYNC_NONE,
	IMAP_SYNC_FULL,			/* EXPUNGE allowed */
	IMAP_SYNC_NO_EXPUNGE,		/* FETCH/STORE/SEARCH: defer if anything vanished */
};

struct imap_job {
	struct job job;
	struct imap_session *s;
	struct conn *conn;		/* referenced while the job runs */
	imap_job_run_fn *run;
	imap_job_done_fn *done;		/* optional, loop thread, before replies */
	void (*cleanup)(struct imap_job *j);	/* optional: free the derived fields */
	char *tag;			/* copies: LOGIN replaces the parser */
	char *cmd;
	enum imap_sync_mode sync_mode;
	struct imap_sync sync;
	const uint32_t *own_uids;	/* changed by this command: no echo in sync */
	size_t own_count;
	struct buf out;			/* untagged responses of the command */
	struct buf tagged;		/* "OK ..." / "NO ..." / "BAD ..." without tag/CRLF */
	char error[256];
	uint64_t started;
	/* Set by run when it stopped after a bounded batch: out is written,
	 * then run is called again (once the client has read most of it),
	 * and only the last round syncs and sends the tagged reply. */
	bool more;
};

struct imap_session {
	struct conn *conn;
	struct imap_context *ictx;
	struct imap_parser *parser;
	unsigned state;
	unsigned bad_commands;
	char address[321];
	bool utf8;			/* ENABLE UTF8=ACCEPT */
	bool rev2;			/* ENABLE IMAP4rev2 */
	bool condstore;			/* ENABLE CONDSTORE or a CONDSTORE command */
	/* AUTHENTICATE in progress */
	bool in_sasl;
	struct sasl sasl;
	char *sasl_tag;
	/* the selected mailbox, NULL in NOTAUTH/AUTH */
	struct imap_mailbox *mbox;
	struct store_notify_sub sub;
	/* a job in flight; the session is frozen meanwhile */
	struct imap_job *job;
	bool dead;			/* conn closed while a job was running */
	/* IDLE */
	bool idling;
	char *idle_tag;
	bool idle_dirty;		/* a notification came while a job ran */
	/* APPEND literals being received */
	struct buf *append_msgs;
	size_t append_count;
	bool append_failed;
	uint64_t append_total;
	/* a failed login's answer, held back */
	struct loop_timer delay_timer;
	/* a batched job waiting for the client to read its output */
	struct loop_timer more_timer;
	char *delayed_reply;
	bool closing;
};

/* A command: its name, the states it is allowed in, and its handler. */
struct imap_cmd_def {
	const char *name;
	unsigned states;
	void (*run)(struct imap_session *s, const struct imap_command *cmd);
};

/* ---- imap-session.c ---- */

/* Write a line (CRLF added) to the client. */
void imap_reply(struct imap_session *s, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Tagged BAD that counts towards max_bad_commands (may close the conn). */
void imap_bad(struct imap_session *s, const char *tag, const char *reason);
/* A new job of size bytes (a derived struct starting with struct imap_job). */
void *imap_job_new(struct imap_session *s, size_t size, const struct imap_command *cmd,
		   imap_job_run_fn *run, enum imap_sync_mode sync_mode);
/* Pause the conn and run j on a worker; replies go out when it is done. */
void imap_job_submit(struct imap_session *s, struct imap_job *j);
/* Tagged reply text of a job, printf-style (no tag, no CRLF). */
void imap_job_tagged(struct imap_job *j, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Set the tagged reply for a store failure (NO [..] text) and log it. */
void imap_job_store_error(struct imap_job *j, int status, const char *error);
/* Forget the selected mailbox (CLOSE/UNSELECT/SELECT). */
void imap_mailbox_free(struct imap_session *s);
/* Encode a UTF-8 mailbox name for the client (mUTF-7 unless UTF8=ACCEPT)
 * as an astring into out. */
void imap_write_mailbox(const struct imap_session *s, struct buf *out, const char *name);
/* Decode a client mailbox name into UTF-8 (normalising INBOX). Returns 0,
 * or -1 with the reason. */
int imap_mailbox_decode(const struct imap_session *s, const char *name, struct buf *out,
			const char **error_r);
/* Flags as "(\Seen kw)" with \Recent when uid is recent to this session. */
void imap_write_msg_flags(const struct imap_mailbox *m, struct buf *out, unsigned store_flags,
			  const char *keywords, uint32_t uid);
/* The sequence number of uid in the view, or 0. */
uint32_t imap_seq_of(const struct imap_mailbox *m, uint32_t uid);
/* Turn a sequence set or uid set into store uid ranges restricted to the
 * view (malloc'ed; *count_r may be 0). */
void imap_set_to_uids(const struct imap_mailbox *m, struct imap_pool *pool,
		      const struct imap_seqset *set, bool uid, struct store_uid_range **ranges_r,
		      size_t *count_r);
/* STORE_FLAG_* <-> IMAP_FLAG_*. */
unsigned imap_to_store_flags(unsigned imap_flags);

/* ---- imap-cmd-mailbox.c ---- */
/* LIST with LIST-EXTENDED selection/return options and LIST-STATUS. */
void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd);
/* LSUB: subscribed mailboxes matching the pattern. */
void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd);
/* CREATE (parents are created too). */
void imap_cmd_create(struct imap_session *s, const struct imap_command *cmd);
/* DELETE (one with children becomes \Noselect). */
void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd);
/* RENAME with children (INBOX: its messages move). */
void imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd);
/* SUBSCRIBE an existing mailbox. */
void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd);
/* UNSUBSCRIBE. */
void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd);
/* STATUS items incl. DELETED, SIZE, HIGHESTMODSEQ, APPENDLIMIT. */
void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd);
/* SELECT and EXAMINE (read-only). */
void imap_cmd_select(struct imap_session *s, const struct imap_command *cmd);
/* APPEND/MULTIAPPEND from the literals the session streamed in. */
void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd);
/* CLOSE: silent expunge of \Deleted (read-write), then deselect. */
void imap_cmd_close(struct imap_session *s, const struct imap_command *cmd);
/* UNSELECT: deselect without expunging. */
void imap_cmd_unselect(struct imap_session *s, const struct imap_command *cmd);
/* EXPUNGE and UID EXPUNGE; the responses come from the view sync. */
void imap_cmd_expunge(struct imap_session *s, const struct imap_command *cmd);
/* NOOP and CHECK: report pending changes of the selected mailbox. */
void imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd);
/* Subscribe the session to notifications of its selected mailbox. */
void imap_session_subscribe(struct imap_session *s);
/* Start an IDLE-time sync job (a notification arrived). */
void imap_idle_sync(struct imap_session *s);

/* ---- imap-cmd-fetch.c ---- */
/* FETCH and UID FETCH. */
void imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd);
/* STORE and UID STORE (UNCHANGEDSINCE). */
void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd);
/* COPY, UID COPY, MOVE and UID MOVE (COPYUID). */
void imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-search.c ---- */
/* SEARCH and UID SEARCH (ESEARCH RETURN options). */
void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-sync.c ---- */
/* On a worker: compare the view with the store and render what changed. */
void imap_sync_run(struct imap_job *j, struct store *st);
/* On the loop: adopt a computed sync into the session's view. */
void imap_sync_apply(struct imap_session *s, struct imap_sync *sync);

#endif
