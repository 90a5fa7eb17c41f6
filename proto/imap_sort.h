/* The pure parts of IMAP SORT and THREAD (RFC 5256, SORT=DISPLAY RFC 5957):
 * base-subject extraction (section 2.1), the first address of an ENVELOPE
 * field, ordering messages by a list of sort criteria, and the
 * ORDEREDSUBJECT and REFERENCES threading algorithms with their response
 * syntax. No I/O, no database: the caller loads the stored metadata and
 * decodes RFC 2047 words; everything here is a fuzz and unit-test subject. */
#ifndef CAIRN_IMAP_SORT_H
#define CAIRN_IMAP_SORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* ---- base subject (RFC 5256 2.1) ---- */

/* The base subject of subject (UTF-8, encoded words already decoded):
 * whitespace collapsed, "(fwd)" trailers, "Re:"/"Fw:"/"Fwd:" leaders with
 * their "[blob]"s, a leading "[blob]" and "[fwd: ...]" wrappers removed.
 * Returns a malloc'ed string; *is_reply_r (may be NULL) tells whether a
 * reply or forward marker was removed (for THREAD=REFERENCES step 6). */
char *imap_sort_base_subject(const char *subject, size_t len, bool *is_reply_r);

/* ---- ENVELOPE addresses ---- */

/* The address lists of an IMAP ENVELOPE, by position. */
enum imap_env_field {
	IMAP_ENV_FROM = 2,
	IMAP_ENV_SENDER = 3,
	IMAP_ENV_REPLY_TO = 4,
	IMAP_ENV_TO = 5,
	IMAP_ENV_CC = 6,
	IMAP_ENV_BCC = 7,
};

/* One address; the strings are malloc'ed, NULL for NIL. */
struct imap_sort_addr {
	char *name;		/* raw display name (may hold RFC 2047 words) */
	char *mailbox;		/* local part */
	char *host;
};

/* The first address of field in the ENVELOPE text env; a group start
 * marker counts (mailbox: the group name, host NULL), an end marker does
 * not. Returns 0 with *addr_r filled, 1 when the field has no address,
 * -1 when env is not a well-formed envelope. */
int imap_sort_envelope_addr(const char *env, size_t len, enum imap_env_field field,
			    struct imap_sort_addr *addr_r);
/* Free the strings of an address. */
void imap_sort_addr_free(struct imap_sort_addr *addr);

/* ---- SORT ---- */

enum imap_sort_key {
	IMAP_SORT_ARRIVAL,
	IMAP_SORT_CC,
	IMAP_SORT_DATE,
	IMAP_SORT_FROM,
	IMAP_SORT_SIZE,
	IMAP_SORT_SUBJECT,
	IMAP_SORT_TO,
	IMAP_SORT_DISPLAYFROM,
	IMAP_SORT_DISPLAYTO,
};

struct imap_sort_criterion {
	enum imap_sort_key key;
	bool reverse;
};

/* What one message is compared by; strings are never NULL ("" if absent)
 * and already casemapped (imap_sort_casemap): they compare octet by octet. */
struct imap_sort_msg {
	uint32_t uid;
	uint32_t seq;		/* final tie-break (RFC 5256 3) */
	int64_t arrival;	/* internal date */
	int64_t date;		/* sent date, else the internal date */
	uint64_t size;
	const char *subject;	/* base subject */
	const char *from;	/* addr-mailbox of the first From address */
	const char *to;
	const char *cc;
	const char *displayfrom;	/* decoded display name, else mailbox@host */
	const char *displayto;
};

/* The key named by name (case-insensitive), or -1 if none. */
int imap_sort_key_from_name(const char *name);
/* Order msgs by the criteria (stable; equal messages by seq). */
void imap_sort_messages(struct imap_sort_msg *msgs, size_t count,
			const struct imap_sort_criterion *crit, size_t crit_count);
/* The i;unicode-casemap form of a UTF-8 string (RFC 5051, required by
 * RFC 5256 7): every character's simple titlecase mapping, canonically
 * decomposed; octets that are not UTF-8 are kept. Two strings collate as
 * the octets of their forms. Returns a malloc'ed string. */
char *imap_sort_casemap(const char *s);
/* Compare a and b by i;unicode-casemap: <0, 0, >0. */
int imap_sort_casecmp(const char *a, const char *b);

/* ---- THREAD ---- */

enum imap_thread_alg {
	IMAP_THREAD_ORDEREDSUBJECT,
	IMAP_THREAD_REFERENCES,
};

/* One message as the threading algorithms see it. */
struct imap_thread_msg {
	uint32_t id;		/* the number printed: uid or sequence number */
	uint32_t seq;		/* tie-break for equal dates */
	int64_t date;		/* sent date, else the internal date */
	const char *subject;	/* base subject */
	bool is_reply;		/* the subject had a reply/forward marker */
	const char *message_id;	/* raw header values, NULL if absent */
	const char *in_reply_to;
	const char *references;
};

/* The message ids ("<...>" contents, whitespace dropped) of a raw
 * Message-ID/In-Reply-To/References value, up to max of them, each
 * malloc'ed into ids[]. Returns how many were stored. */
size_t imap_thread_msgids(const char *value, char **ids, size_t max);
/* Thread msgs (in mailbox order) with alg and append the thread list of
 * the THREAD response ("(1 2)(3 (4)(5))") to out. */
void imap_thread(const struct imap_thread_msg *msgs, size_t count, enum imap_thread_alg alg,
		 struct buf *out);

#endif
