/* IMAP NOTIFY (RFC 5465) arguments: "NOTIFY NONE" and "NOTIFY SET [STATUS]
 * (filter events) ...", checked against the grammar and the rules of RFC
 * 5465 section 3.1 and 5 (MessageNew and MessageExpunge together,
 * FlagChange/AnnotationChange only with them, fetch-att only after
 * MessageNew of a selected filter, one selected filter at most). Pure:
 * works on the argument tree of imap_parser, allocates from the caller's
 * pool, never touches a socket or the store. */
#ifndef CAIRN_IMAP_NOTIFY_H
#define CAIRN_IMAP_NOTIFY_H

#include "imap_args.h"
#include "imap_parser.h"

/* Event names as bits, in the order of RFC 5465 section 8. */
#define IMAP_NOTIFY_MESSAGE_NEW (1u << 0)
#define IMAP_NOTIFY_MESSAGE_EXPUNGE (1u << 1)
#define IMAP_NOTIFY_FLAG_CHANGE (1u << 2)
#define IMAP_NOTIFY_ANNOTATION_CHANGE (1u << 3)
#define IMAP_NOTIFY_MAILBOX_NAME (1u << 4)
#define IMAP_NOTIFY_SUBSCRIPTION_CHANGE (1u << 5)
#define IMAP_NOTIFY_MAILBOX_METADATA_CHANGE (1u << 6)
#define IMAP_NOTIFY_SERVER_METADATA_CHANGE (1u << 7)
#define IMAP_NOTIFY_UNKNOWN (1u << 8)	/* an event-ext atom we do not know */
/* The message events (reported as STATUS for other mailboxes). */
#define IMAP_NOTIFY_MESSAGE_EVENTS (IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE | \
				    IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)

enum imap_notify_filter {
	IMAP_NOTIFY_SELECTED,
	IMAP_NOTIFY_SELECTED_DELAYED,
	IMAP_NOTIFY_INBOXES,
	IMAP_NOTIFY_PERSONAL,
	IMAP_NOTIFY_SUBSCRIBED,
	IMAP_NOTIFY_SUBTREE,
	IMAP_NOTIFY_MAILBOXES,
};

/* One event group: a filter, its mailbox names and its events. */
struct imap_notify_group {
	enum imap_notify_filter filter;
	const char **names;		/* SUBTREE/MAILBOXES: as sent (mUTF-7 or UTF-8) */
	size_t name_count;
	unsigned events;		/* IMAP_NOTIFY_*; 0 for NONE */
	bool has_fetch;			/* MessageNew (fetch-att ...), selected filters only */
	struct imap_fetch fetch;
};

struct imap_notify_cmd {
	bool none;			/* NOTIFY NONE */
	bool status;			/* the STATUS indicator */
	struct imap_notify_group *groups;
	size_t count;
	unsigned all_events;		/* union of every group's events */
};

/* Parse the arguments of NOTIFY. Returns 0, or -1 with the reason (the
 * command gets a tagged BAD). Unknown event atoms parse and set
 * IMAP_NOTIFY_UNKNOWN: the caller answers NO [BADEVENT ...] for them and
 * for the known events it does not support. */
int imap_notify_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		      struct imap_notify_cmd *cmd_r, const char **error_r);

/* The name of one IMAP_NOTIFY_* bit (NULL for UNKNOWN or several bits). */
const char *imap_notify_event_name(unsigned event);

#endif
