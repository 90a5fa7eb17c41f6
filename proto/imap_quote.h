/* Writing IMAP response data correctly: strings as atom, quoted string or
 * literal depending on their bytes, NIL, flag lists, date-times and
 * sequence sets (RFC 9051 section 9). Pure: appends to a struct buf. */
#ifndef CAIRN_IMAP_QUOTE_H
#define CAIRN_IMAP_QUOTE_H

#include <time.h>

#include "imap_args.h"

enum imap_quote_flags {
	IMAP_QUOTE_UTF8 = 1 << 0,	/* UTF8=ACCEPT: valid UTF-8 may be quoted */
};

/* Append s as a string: quoted (with " and \ escaped) when it has no NUL,
 * CR, LF or 8-bit byte (8-bit allowed as valid UTF-8 with IMAP_QUOTE_UTF8),
 * else as a literal. Returns 0, or -1 when s contains NUL (IMAP strings
 * cannot: use imap_write_literal8) or out's maximum was reached. */
int imap_write_string(struct buf *out, const char *s, size_t len, unsigned flags);
/* Like imap_write_string, but a non-empty run of ASTRING-CHARs other than
 * "NIL" is written bare as an atom. Returns 0 or -1. */
int imap_write_astring(struct buf *out, const char *s, size_t len, unsigned flags);
/* NIL when s is NULL, else imap_write_string. Returns 0 or -1. */
int imap_write_nstring(struct buf *out, const char *s, size_t len, unsigned flags);
/* "{len}\r\n" and the bytes. Returns 0 or -1. */
int imap_write_literal(struct buf *out, const char *s, size_t len);
/* "~{len}\r\n" and the bytes (BINARY; NUL allowed). Returns 0 or -1. */
int imap_write_literal8(struct buf *out, const char *s, size_t len);
/* "(\Answered ... kw1 kw2)": the IMAP_FLAG_* bits in a fixed order, then
 * the keywords as given. Returns 0 or -1. */
int imap_write_flags(struct buf *out, unsigned system, const char *const *keywords, size_t count);
/* "\"17-Jul-1996 02:44:25 -0700\"": t shown in the zone zone_minutes east of
 * UTC (|zone| < 24h). Returns 0 or -1. */
int imap_write_date_time(struct buf *out, time_t t, int zone_minutes);
/* "1:3,7,9:*"-style set of ascending, disjoint ranges (as from
 * imap_seqset_resolve; 0 is written as "*"). Returns 0 or -1. */
int imap_write_seqset(struct buf *out, const struct imap_seq_range *ranges, size_t count);

#endif
