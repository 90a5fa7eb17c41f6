/* Internals shared by the IMAP session's files: the session and job
 * structs, the command table entry, the selected mailbox's view (sequence
 * number -> uid map kept exactly per RFC 3501 7.4.1) and reply helpers. */
#ifndef CAIRN_IMAP_PRIVATE_H
#define CAIRN_IMAP_PRIVATE_H

#include "imap-session.h"
#include <stddef.h>
#include "imap_args.h"
#include "imap_metadata.h"
#include "imap_parser.h"
#include "imap_quote.h"
#include "imap_sort.h"
#include "sasl.h"
#include "session.h"
#include "loop.h"
#include "store-notify.h"
#include "store-mail.h"
#include "store-acl.h"
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
	/* ACL (imap-cmd-acl.c): the user's rights on it; on a mailbox he does
	 * not own his \Seen is his own (seen, refreshed by every job). */
	unsigned rights;		/* IMAP_ACL_* */
	bool private_seen;
	uint64_t reader_id;		/* the user's account id when private_seen */
	struct store_uid_range *seen;	/* his \Seen uids, ascending ranges */
	size_t seen_count;
	/* Keywords the client was told of in FLAGS/PERMANENTFLAGS, as " kw1 kw2 ";
	 * a pointer so that the jobs, which see the view as const, add to it
	 * (the session is frozen while its job runs). */
	struct buf *keywords;
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
	/* CONTEXT (RFC 5267): the new result of each update context of the
	 * session, in list order, then of the one this job creates (if any);
	 * adopted by imap_sync_apply. */
	struct imap_update_ctx *creating;
	uint32_t **ctx_results;
	size_t *ctx_counts;
	size_t ctx_n;
};

/* An update context (RFC 5267 UPDATE): a search program and, for SORT,
 * its criteria, whose result changes are pushed as ADDTO/REMOVEFROM. */
struct imap_update_ctx {
	char *tag;			/* the correlator of the searching command */
	bool uid;			/* UID SEARCH/SORT: results are uids */
	bool sort;
	struct imap_pool *pool;		/* owns prog */
	struct imap_search_program *prog;	/* sequence sets turned into uids */
	struct imap_sort_criterion crit[16];
	size_t crit_count;
	uint32_t *results;		/* uids in the requested order */
	size_t count;
	struct imap_update_ctx *next;
};

#define IMAP_MAX_UPDATE_CONTEXTS 8

enum imap_sync_mode {
	IMAP_SYNC_NONE,
	IMAP_SYNC_FULL,			/* EXPUNGE allowed */
	IMAP_SYNC_NO_EXPUNGE,		/* FETCH/STORE/SEARCH: defer if anything vanished */
};

struct imap_job {
	struct session_job base;	/* first: the runtime's part */
	/* The session, frozen while the job runs: input is paused and the
	 * runtime keeps it allocated until the job is back (see
	 * ARCHITECTURE.md on IMAP jobs reading the selected mailbox). */
	struct imap_session *s;
	struct conn *conn;		/* for log lines; alive while s is */
	imap_job_run_fn *run;
	imap_job_done_fn *done;		/* optional, loop thread, before replies */
	void (*cleanup)(struct imap_job *j);	/* optional: free the derived fields */
	char *tag;			/* copies: LOGIN replaces the parser */
	char *cmd;
	unsigned cmd_flags;		/* IMAP_CMD_* of the command (0: a sync) */
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
	struct session rt;		/* first: the runtime's part */
	struct conn *conn;		/* = rt.conn */
	struct imap_context *ictx;
	struct imap_parser *parser;
	unsigned state;
	unsigned bad_commands;
	char address[321];
	bool utf8;			/* ENABLE UTF8=ACCEPT */
	bool rev2;			/* ENABLE IMAP4rev2 */
	bool condstore;			/* ENABLE CONDSTORE or a CONDSTORE command */
	bool qresync;			/* ENABLE QRESYNC: VANISHED instead of EXPUNGE */
	bool uidonly;			/* ENABLE UIDONLY (RFC 9586): no sequence
					   numbers, UIDFETCH and VANISHED */
	unsigned cmd_flags;		/* IMAP_CMD_* of the command being run */
	/* SEARCHRES (RFC 5182): the uids saved by SEARCH RETURN (SAVE), "$" */
	uint32_t *saved_uids;		/* ascending, malloc'ed */
	size_t saved_count;
	/* CONTEXT (RFC 5267): UPDATE contexts of the selected mailbox */
	struct imap_update_ctx *contexts;
	size_t context_count;
	/* AUTHENTICATE in progress */
	bool in_sasl;
	struct sasl sasl;
	char *sasl_tag;
	/* the selected mailbox, NULL in NOTAUTH/AUTH */
	struct imap_mailbox *mbox;
	struct store_notify_sub sub;
	/* IDLE */
	bool idling;
	char *idle_tag;
	bool idle_dirty;		/* a notification came while a job ran */
	/* APPEND literals being received */
	struct buf *append_msgs;
	size_t append_count;
	bool append_failed;
	uint64_t append_total;
	bool closing;
	struct imap_acl_cache *acl_cache;	/* directory groups of the user (imap-cmd-acl.c) */
	bool compress_pending;		/* COMPRESS agreed: switch after its line */
	/* NOTIFY (imap-cmd-notify.c): NULL when NONE */
	struct imap_notify *notify;
	bool mid_command;		/* the parser holds part of a command */
	bool literal_seen;		/* the current command has a literal: the
					   body bound applies to it, not the line's */
};

/* Properties of a command, as Dovecot's command flags: the dispatcher and
 * the handlers test these instead of looking at the command's name. */
enum imap_cmd_flag {
	IMAP_CMD_UID = 1 << 0,		/* the UID form: numbers are uids */
	IMAP_CMD_SEQ = 1 << 1,		/* takes or answers message sequence
					   numbers: BAD [UIDREQUIRED] under
					   UIDONLY (RFC 9586 3) */
	IMAP_CMD_WRITE = 1 << 2,	/* changes the selected mailbox: NO on
					   a read-only (EXAMINEd) one */
	IMAP_CMD_NEEDS_READ = 1 << 3,	/* works on the selected mailbox's
					   messages: needs right r (RFC 4314) */
	IMAP_CMD_MOVE = 1 << 4,		/* MOVE / UID MOVE (RFC 6851) */
	IMAP_CMD_READONLY = 1 << 5,	/* EXAMINE: selects read-only */
	IMAP_CMD_STREAMS = 1 << 6,	/* takes the streamed APPEND literals */
};

/* A command: its name, the states it is allowed in, its properties
 * (IMAP_CMD_*) and its handler. */
struct imap_cmd_def {
	const char *name;
	unsigned states;
	unsigned flags;
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
/* Free a job that was never submitted (its command was answered already). */
void imap_job_discard(struct imap_job *j);
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
/* Open an untagged FETCH response of message (seq, uid) in out: "* seq
 * FETCH (" or, under UIDONLY, "* uid UIDFETCH (" (RFC 9586 3.3). With
 * uid_item the UID item follows; implied_uid adds it too except under
 * UIDONLY, where the uid leads the response already. Returns true when an
 * item was written (the next one needs a space before it). */
bool imap_fetch_begin(const struct imap_session *s, struct buf *out, uint32_t seq, uint32_t uid,
		      bool uid_item, bool implied_uid);
/* The expunged uids as "* VANISHED uids" (QRESYNC or UIDONLY). */
bool imap_use_vanished(const struct imap_session *s);
/* STORE_FLAG_* <-> IMAP_FLAG_*. */
unsigned imap_to_store_flags(unsigned imap_flags);

/* ---- imap-cmd-list.c ---- */
/* LIST with LIST-EXTENDED selection/return options and LIST-STATUS. */
void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd);
/* LSUB: subscribed mailboxes matching the pattern. */
void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-status.c ---- */
/* STATUS items incl. DELETED, SIZE, HIGHESTMODSEQ, APPENDLIMIT. */
void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd);
/* Render "* STATUS name (...)" of the open mailbox id into out (items:
 * IMAP_STATUS_*); reader_id != 0: the user does not own it, UNSEEN counts
 * his own \Seen. Also LIST-STATUS's answer. */
int imap_status_render(struct imap_job *job, struct store *st, uint64_t id, uint64_t reader_id,
		       const char *name, unsigned items, struct buf *out, const char **error_r);

/* ---- imap-cmd-select.c ---- */
/* SELECT and EXAMINE (read-only). */
void imap_cmd_select(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-append.c ---- */
/* APPEND/MULTIAPPEND from the literals the session streamed in. */
void imap_cmd_append(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-mailbox.c ---- */
/* A command on one or two mailbox names (CREATE, DELETE, RENAME,
 * (UN)SUBSCRIBE, STATUS): the names decoded to UTF-8. */
struct imap_name_job {
	struct imap_job base;
	struct buf name, name2;
	bool flag;
	unsigned items;
	uint64_t max_append;
	char special_use[16];		/* CREATE (USE (...)), "" when none */
};

/* Parse the nargs (1 or 2) mailbox names of cmd into a new job running
 * run; NULL when cmd was answered (BAD or NO [CANNOT]). */
struct imap_name_job *imap_name_job_new(struct imap_session *s, const struct imap_command *cmd,
					imap_job_run_fn *run, size_t nargs);
/* Drop a job that was never submitted (its command was answered already). */
void imap_name_job_discard(struct imap_name_job *j);
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
/* The message set (first argument) of FETCH/STORE/COPY/MOVE as store uid
 * ranges of the view (malloc'ed; "$" is the saved result); false after a
 * BAD reply. uid: a uid set, else sequence numbers. */
bool imap_parse_msg_set(struct imap_session *s, const struct imap_command *cmd,
			struct imap_pool *pool, bool uid, struct store_uid_range **set_r,
			size_t *count_r);

/* ---- imap-cmd-store.c ---- */
/* STORE and UID STORE (UNCHANGEDSINCE). */
void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-copy.c ---- */
/* COPY, UID COPY, MOVE and UID MOVE (COPYUID). */
void imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-search.c ---- */
/* SEARCH and UID SEARCH (ESEARCH RETURN options). */
void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-search-xlate.c ---- */
struct store_search_program;
/* prog (an AND of its top-level keys) as the store's search program over
 * the view uids[count] (ascending; message n is uids[n-1]) whose \Recent
 * messages are recent[recent_count]: sequence sets and "*" resolved there.
 * Free with store_search_program_free. */
struct store_search_program *imap_search_xlate(const struct imap_search_program *prog,
					       const uint32_t *uids, size_t count,
					       const struct store_uid_range *recent,
					       size_t recent_count);

/* ---- imap-cmd-quota.c ---- */
/* GETQUOTA quota-root (RFC 9208): "" is the user's own root. */
void imap_cmd_getquota(struct imap_session *s, const struct imap_command *cmd);
/* GETQUOTAROOT mailbox: the root the mailbox counts against (its owner's). */
void imap_cmd_getquotaroot(struct imap_session *s, const struct imap_command *cmd);
/* SETQUOTA quota-root (STORAGE n MESSAGE n): administrators only. */
void imap_cmd_setquota(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-metadata.c ---- */
/* GETMETADATA [(MAXSIZE n DEPTH d)] mailbox entries (RFC 5464). */
void imap_cmd_getmetadata(struct imap_session *s, const struct imap_command *cmd);
/* SETMETADATA mailbox (entry value ...). */
void imap_cmd_setmetadata(struct imap_session *s, const struct imap_command *cmd);
/* An RFC 8474 object id, as a value so it can be used inline in printf. */
struct imap_objectid {
	char s[IMAP_OBJECTID_MAX];
};
/* MAILBOXID of a mailbox: follows its id, so it survives RENAME. */
struct imap_objectid imap_mailbox_objectid(uint64_t mailbox_id);
/* EMAILID of a message: follows its blob (one per distinct content), so
 * COPY and MOVE keep it. */
struct imap_objectid imap_email_objectid(uint64_t blob_id);

/* ---- imap-cmd-sort.c ---- */
/* SORT / UID SORT (RFC 5256, ESORT RFC 5267, SORT=DISPLAY RFC 5957). */
void imap_cmd_sort(struct imap_session *s, const struct imap_command *cmd);
/* THREAD / UID THREAD (ORDEREDSUBJECT, REFERENCES). */
void imap_cmd_thread(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-catenate.c ---- */
struct imap_catenate;
#define IMAP_URL_BAD (-101)	/* a URL refused before reaching the store */
/* True when args[i] is CATENATE followed by its part list. */
bool imap_catenate_arg(const struct imap_command *cmd, size_t i);
/* APPEND with CATENATE: turn the streamed literals (*bufs, *count; taken
 * over) into one buffer per message; *cat_r keeps the parts (NULL when the
 * command has no CATENATE; *bufs and *count emptied when it is malformed). */
void imap_catenate_regroup(const struct imap_command *cmd, struct buf **bufs, size_t *count,
			   struct imap_catenate **cat_r);
/* Message k is a CATENATE one (its data comes from imap_catenate_resolve). */
bool imap_catenate_is_message(const struct imap_catenate *cat, size_t k);
/* On the worker: build the CATENATE messages into bufs[k] and point
 * msgs[k] at them. Returns 0, or -1 with the tagged NO ([BADURL], [TOOBIG]). */
int imap_catenate_resolve(struct imap_job *j, struct store *st, struct imap_catenate *cat,
			  struct buf *bufs, struct store_append_msg *msgs, size_t count);
void imap_catenate_free(struct imap_catenate **cat);
/* A client's URL as resp-text for [BADURL url]: no "]", no controls. */
void imap_write_badurl(struct buf *out, const char *url);

/* ---- imap-cmd-urlauth.c ---- */
/* GENURLAUTH rump INTERNAL ... (RFC 4467): sign rumps of own messages. */
void imap_cmd_genurlauth(struct imap_session *s, const struct imap_command *cmd);
/* RESETKEY [mailbox [INTERNAL]]: forget access keys. */
void imap_cmd_resetkey(struct imap_session *s, const struct imap_command *cmd);
/* URLFETCH url ...: what URLAUTH-authorized URLs name, NIL when refused. */
void imap_cmd_urlfetch(struct imap_session *s, const struct imap_command *cmd);

/* ---- imap-cmd-compress.c ---- */
/* COMPRESS DEFLATE (RFC 4978): agree (the switch follows) or refuse. */
void imap_cmd_compress(struct imap_session *s, const struct imap_command *cmd);
/* Turn compression on once the COMPRESS line is consumed. */
void imap_compress_activate(struct imap_session *s);

/* ---- imap-cmd-acl.c ---- */
/* RFC 4314 rights as bits, in the canonical order "lrswipkxtea". */
#define IMAP_ACL_LOOKUP (1u << 0)	/* l */
#define IMAP_ACL_READ (1u << 1)		/* r */
#define IMAP_ACL_SEEN (1u << 2)		/* s */
#define IMAP_ACL_WRITE (1u << 3)	/* w */
#define IMAP_ACL_INSERT (1u << 4)	/* i */
#define IMAP_ACL_POST (1u << 5)		/* p */
#define IMAP_ACL_CREATE (1u << 6)	/* k */
#define IMAP_ACL_DELETE (1u << 7)	/* x */
#define IMAP_ACL_DELETED (1u << 8)	/* t */
#define IMAP_ACL_EXPUNGE (1u << 9)	/* e */
#define IMAP_ACL_ADMIN (1u << 10)	/* a */
#define IMAP_ACL_ALL 0x7ffu
struct store_acl_box;
/* A mailbox name resolved for the session's user, with his rights. */
struct imap_acl_box {
	struct store_acl_box *sb;	/* owner, owner-relative name, ACL rows */
	unsigned rights;
	bool exists;			/* the mailbox exists (selectable or not) */
};
/* SETACL, DELETEACL, GETACL, LISTRIGHTS, MYRIGHTS (RFC 4314). */
void imap_cmd_setacl(struct imap_session *s, const struct imap_command *cmd);
void imap_cmd_deleteacl(struct imap_session *s, const struct imap_command *cmd);
void imap_cmd_getacl(struct imap_session *s, const struct imap_command *cmd);
void imap_cmd_listrights(struct imap_session *s, const struct imap_command *cmd);
void imap_cmd_myrights(struct imap_session *s, const struct imap_command *cmd);
/* NAMESPACE: personal "", "Other Users/" and "Shared/". */
void imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd);
/* On a worker: resolve a (decoded) mailbox name for the session's user and
 * compute his rights (groups through the directory, cached per session).
 * STORE_OK (box->exists tells) or an error; free with imap_acl_box_free. */
int imap_acl_open(struct imap_job *j, struct store *st, struct worker *w, const char *name,
		  struct imap_acl_box *box, const char **error_r);
/* Free what imap_acl_open allocated. */
void imap_acl_box_free(struct imap_acl_box *box);
/* True when box exists and the user has every right in need; otherwise
 * the job's tagged reply says why: [NONEXISTENT] (or [TRYCREATE] when
 * trycreate) if he may not even know it exists, else [NOPERM]. */
bool imap_acl_require(struct imap_job *j, const struct imap_acl_box *box, unsigned need,
		      bool trycreate);
/* Rights of the user on a store_acl_box (every right for the owner). */
unsigned imap_acl_rights(struct imap_job *j, struct worker *w, struct store *st,
			 const struct store_acl_box *sb);
/* The rights as letters (with c and d, RFC 4314 2.1.1) into out. */
void imap_acl_write_rights(struct buf *out, unsigned rights, bool obsolete);
/* Set up the ACL fields of a new view from box (SELECT/EXAMINE). */
void imap_acl_view_init(struct imap_mailbox *m, const struct imap_acl_box *box);
/* On a worker, before every command: when the selected mailbox is not
 * the user's, recompute his rights on it (the owner may have changed the
 * ACL meanwhile) and reload his \Seen. False, with the tagged NO set,
 * when a command on its messages may no longer run (r taken away). */
bool imap_acl_refresh(struct imap_job *j, struct store *st, struct worker *w);
/* On a worker: reload the user's own \Seen of the selected mailbox. */
void imap_acl_seen_refresh(struct imap_mailbox *m, struct store *st);
/* The \Seen bit of uid as this user sees it in m (flags from the store). */
unsigned imap_acl_flags(const struct imap_mailbox *m, uint32_t uid, unsigned store_flags);
/* STORE on the selected mailbox as the user: his own \Seen when he is not
 * the owner, store_flags_update otherwise. */
int imap_acl_flags_update(const struct imap_mailbox *m, struct store *st,
			  const struct store_uid_range *set, size_t set_count,
			  enum store_flag_op op, unsigned flags, const char *const *keywords,
			  size_t keyword_count, uint64_t unchangedsince,
			  struct store_flags_result *result_r, const char **error_r);
/* "* OK [PERMANENTFLAGS (...)]" for the rights of m into out. */
void imap_acl_permanentflags(const struct imap_mailbox *m, struct buf *out);
/* Free the session's group cache. */
void imap_acl_session_free(struct imap_session *s);
/* On a worker, after COPY/MOVE from m into dst: the copies get the user's
 * own \Seen (his private one on a mailbox he does not own), and flags he
 * has no right to set in dst are dropped. */
void imap_acl_copy_fixup(const struct imap_mailbox *m, struct store *st,
			 const struct imap_acl_box *dst, const struct store_copy_result *cr);
/* On a worker: make SEEN, UNSEEN and NEW of a search program mean the
 * user's own \Seen on a mailbox he does not own (after a refresh). */
void imap_acl_search_rewrite(const struct imap_mailbox *m, struct imap_pool *pool,
			     struct imap_search_key *key);

/* ---- imap-cmd-notify.c ---- */
struct imap_notify;
/* NOTIFY SET [STATUS] (filter events) ... / NOTIFY NONE (RFC 5465). */
void imap_cmd_notify(struct imap_session *s, const struct imap_command *cmd);
/* A change of the selected mailbox arrived: true when NOTIFY (SELECTED)
 * takes care of it (also in IDLE), false to let IDLE/commands do as usual. */
bool imap_notify_selected_changed(struct imap_session *s);
/* Send pending notifications (as a job) if the session is between
 * commands or in IDLE; cheap when nothing is pending. */
void imap_notify_flush(struct imap_session *s);
/* Stop receiving notifications (the connection closed). */
void imap_notify_unwatch(struct imap_session *s);
/* Forget the NOTIFY state (NOTIFY NONE, overflow, session end). */
void imap_notify_free(struct imap_session *s);

/* ---- imap-sync.c ---- */
/* On a worker: compare the view with the store and render what changed. */
void imap_sync_run(struct imap_job *j, struct store *st);
/* On the loop: adopt a computed sync into the session's view. */
void imap_sync_apply(struct imap_session *s, struct imap_sync *sync);
/* Free what a sync holds (its view, output and context results). */
void imap_sync_free(struct imap_sync *sync);
/* RFC 3501 7.2.6 / RFC 9051 7.3.5: before a FETCH response shows keywords
 * (space-separated) the client has not been told of, write the new
 * "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" into out and remember
 * them in m. Call it before the "* n FETCH" line. */
void imap_flags_announce(const struct imap_mailbox *m, struct buf *out, const char *keywords);
/* A CONDSTORE-enabling command (RFC 7162 3.1): turn CONDSTORE on; the first
 * one in a selected mailbox appends "* OK [HIGHESTMODSEQ n]" to out. */
void imap_condstore_enable(struct imap_session *s, struct buf *out);
/* The one sequence-set writer: numbers (uids or sequence numbers) as a
 * compact set into out, ascending runs of consecutive numbers as ranges,
 * in the order given ("1:3,7"; COPYUID's lists and ESORT's ALL too). */
void imap_write_uid_set(struct buf *out, const uint32_t *uids, size_t count);
/* The one binary search: the index of the first of count elements (each
 * size bytes, ascending by the uint32_t key at offset) whose key is >= key;
 * count when none. IMAP_LOWER_BOUND names the key by its field. */
size_t imap_lower_bound(const void *base, size_t count, size_t size, size_t offset,
			uint32_t key);
#define IMAP_LOWER_BOUND(arr, count, field, key) \
	imap_lower_bound((arr), (count), sizeof(*(arr)), offsetof(__typeof__(*(arr)), field), (key))
/* ... over an ascending uid array: the index of the first uid >= uid. */
size_t imap_uid_lower_bound(const uint32_t *uids, size_t count, uint32_t uid);
/* ... and the 1-based position of uid, 0 when absent (a sequence number
 * when uids is the view). */
uint32_t imap_uid_position(const uint32_t *uids, size_t count, uint32_t uid);
/* Is uid in the ascending array uids? */
static inline bool imap_uid_in(const uint32_t *uids, size_t count, uint32_t uid)
{
	return imap_uid_position(uids, count, uid) != 0;
}
/* QRESYNC: "* VANISHED (EARLIER) set" for the uids of mailbox m expunged
 * after modseq that lie in known (NULL: any uid). Nothing when none. */
int imap_sync_vanished_earlier(struct store *st, const struct imap_mailbox *m, uint64_t modseq,
			       const struct imap_seq_range *known, size_t known_count,
			       struct buf *out, const char **error_r);
/* SEARCHRES: replace s's saved result ("$") by uids (taken over). */
void imap_searchres_save(struct imap_session *s, uint32_t *uids, size_t count);
/* CONTEXT: the result of prog over the view uids[count] of m (recent from
 * m and extra), as uids in mailbox order or, with crit_count > 0, in sort
 * order (malloc'ed). */
int imap_context_eval(struct store *st, const struct imap_mailbox *m, const uint32_t *uids,
		      size_t count, const struct imap_recent *extra_recent,
		      const struct imap_search_program *prog, const struct imap_sort_criterion *crit,
		      size_t crit_count, uint32_t **result_r, size_t *result_count_r,
		      const char **error_r);
/* CONTEXT: turn the sequence-number sets of a program into uid sets of the
 * current view (they are evaluated when the command is received). */
void imap_context_fix_seqsets(const struct imap_session *s, struct imap_pool *pool,
			      struct imap_search_key *key);
/* CONTEXT: may a command tagged tag create an update context? -1: the tag
 * is in use by one (BAD), 0: too many ([NOUPDATE]), 1: yes. */
int imap_context_check(const struct imap_session *s, const char *tag);
/* Register ctx (created by a job) on the session. */
void imap_context_add(struct imap_session *s, struct imap_update_ctx *ctx);
/* Free one context / all of the session's. */
void imap_context_free(struct imap_update_ctx **ctx);
void imap_context_free_all(struct imap_session *s);
/* CANCELUPDATE "tag" ... */
void imap_cmd_cancelupdate(struct imap_session *s, const struct imap_command *cmd);
/* PARTIAL lo:hi of results[count] (requested order) as "PARTIAL (lo:hi set)". */
void imap_write_partial(struct buf *out, uint32_t lo, uint32_t hi, const uint32_t *v,
			size_t count, bool ordered);
/* SORT: the uids match[match_count] (ascending) of mailbox_id in the order
 * of the criteria, ties by uid (malloc'ed into *uids_r, *count_r of them). */
int imap_sort_compute(struct store *st, uint64_t mailbox_id, const uint32_t *match,
		      size_t match_count, const struct imap_sort_criterion *crit,
		      size_t crit_count, uint32_t **uids_r, size_t *count_r, const char **error_r);
/* SEARCHRES: turn every "$" set of a search program into the saved uids
 * (UIDSET), allocated from pool. */
void imap_searchres_substitute(const struct imap_session *s, struct imap_pool *pool,
			       struct imap_search_key *key);
/* SEARCHRES: the saved result restricted to the view as store uid ranges
 * (malloc'ed; *count_r may be 0). */
void imap_searchres_ranges(const struct imap_session *s, struct store_uid_range **ranges_r,
			   size_t *count_r);

#endif
