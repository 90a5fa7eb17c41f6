/* mbox and Maildir formats for import and export: splitting an mbox into
 * messages, mboxrd From_ quoting and unquoting (reversible, so an export of
 * an import gives back the same bytes), From_ line dates, and Maildir
 * ":2,FLAGS" file name suffixes. Pure: no I/O, no globals. */
#ifndef CAIRN_MBOX_H
#define CAIRN_MBOX_H

#include "util.h"

#include <time.h>

/* Maildir flag letters as bits (the same values as the store's flags). */
#define MBOX_FLAG_SEEN 0x01	/* S */
#define MBOX_FLAG_ANSWERED 0x02	/* R */
#define MBOX_FLAG_FLAGGED 0x04	/* F */
#define MBOX_FLAG_DELETED 0x08	/* T */
#define MBOX_FLAG_DRAFT 0x10	/* D */

/* One message of an mbox, pointing into the caller's data. */
struct mbox_msg {
	const char *from_line;	/* "From ..." without its line end */
	size_t from_line_len;
	const char *body;	/* still mboxrd-quoted; the separating empty line removed */
	size_t body_len;
	size_t offset;		/* of the From_ line in data */
};

/* Find the message that starts at *pos (which must be at a From_ line, or
 * before empty lines that precede one) and advance *pos past it. A message
 * ends at a line starting "From " that follows an empty line, or at the end.
 * Returns 1 with *msg set, 0 at the end of data, -1 when data at *pos is not
 * an mbox (no From_ line). */
int mbox_next(const char *data, size_t len, size_t *pos, struct mbox_msg *msg);
/* Count the messages mbox_next would return (for progress reports). */
size_t mbox_count(const char *data, size_t len);
/* Append in to out with mboxrd unquoting: one '>' is removed from every line
 * matching ^>+From . Returns 0, or -1 past out's maximum. */
int mbox_unquote(const char *in, size_t len, struct buf *out);
/* Append in to out with mboxrd quoting: one '>' is added to every line
 * matching ^>*From . Returns 0, or -1 past out's maximum. */
int mbox_quote(const char *in, size_t len, struct buf *out);
/* Append one whole message to an mbox in out: From_ line, quoted body, a
 * line end if the body lacks one, and the separating empty line. */
int mbox_append_message(const char *sender, time_t t, const char *body, size_t len,
			struct buf *out);
/* Parse the asctime date of a From_ line ("From ann@x Sat Jan  3 01:05:34
 * 1996", read as UTC). Returns 0 with *t_r, or -1. */
int mbox_from_line_date(const char *line, size_t len, time_t *t_r);
/* Append "From <sender> <asctime of t in UTC>\n" to out. */
int mbox_from_line(const char *sender, time_t t, struct buf *out);
/* Parse the flags of a Maildir file name ("...:2,FRS"). Returns 0 with the
 * MBOX_FLAG_* bits (unknown letters ignored), or -1 when it has no ":2,". */
int mbox_maildir_flags(const char *filename, unsigned *flags_r);
/* Write ":2," and the flag letters in ASCII order into out (at least 9
 * bytes); returns its length. */
size_t mbox_maildir_suffix(unsigned flags, char *out, size_t size);

#endif
