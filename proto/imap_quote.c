/* IMAP response writers: pick atom, quoted string or literal for a string
 * from its bytes, so a value can never break out of its place in a response
 * (no raw CR/LF, quotes escaped), and render flags, dates and sets. */
#include "autoconf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "imap_quote.h"

static bool can_quote(const char *s, size_t len, unsigned flags)
{
	bool eight = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\0' || c == '\r' || c == '\n')
			return false;
		if (c >= 0x80)
			eight = true;
	}
	if (!eight)
		return true;
	return (flags & IMAP_QUOTE_UTF8) != 0 && imap_utf8_valid(s, len);
}

int imap_write_literal(struct buf *out, const char *s, size_t len)
{
	if (buf_printf(out, "{%zu}\r\n", len) < 0)
		return -1;
	return buf_append(out, s, len);
}

int imap_write_literal8(struct buf *out, const char *s, size_t len)
{
	if (buf_printf(out, "~{%zu}\r\n", len) < 0)
		return -1;
	return buf_append(out, s, len);
}

int imap_write_string(struct buf *out, const char *s, size_t len, unsigned flags)
{
	size_t i, start;

	if (len > 0 && memchr(s, '\0', len) != NULL)
		return -1;
	if (!can_quote(s, len, flags))
		return imap_write_literal(out, s, len);
	if (buf_append(out, "\"", 1) < 0)
		return -1;
	for (i = start = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\') {
			if (buf_append(out, s + start, i - start) < 0 ||
			    buf_append(out, "\\", 1) < 0)
				return -1;
			start = i;
		}
	}
	if (buf_append(out, s + start, len - start) < 0)
		return -1;
	return buf_append(out, "\"", 1);
}

int imap_write_astring(struct buf *out, const char *s, size_t len, unsigned flags)
{
	size_t i;

	if (len == 0 || (len == 3 && str_ncasecmp(s, "NIL", 3) == 0))
		return imap_write_string(out, s, len, flags);
	for (i = 0; i < len; i++) {
		if (!imap_is_astring_char((unsigned char)s[i]))
			return imap_write_string(out, s, len, flags);
	}
	return buf_append(out, s, len);
}

int imap_write_nstring(struct buf *out, const char *s, size_t len, unsigned flags)
{
	if (s == NULL)
		return buf_append(out, "NIL", 3);
	return imap_write_string(out, s, len, flags);
}

int imap_write_flags(struct buf *out, unsigned system, const char *const *keywords, size_t count)
{
	static const struct { unsigned flag; const char *name; } names[] = {
		{ IMAP_FLAG_ANSWERED, "\\Answered" }, { IMAP_FLAG_FLAGGED, "\\Flagged" },
		{ IMAP_FLAG_DELETED, "\\Deleted" }, { IMAP_FLAG_SEEN, "\\Seen" },
		{ IMAP_FLAG_DRAFT, "\\Draft" }, { IMAP_FLAG_RECENT, "\\Recent" },
	};
	bool first = true;
	size_t i;
	int ret = buf_append(out, "(", 1);

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if ((system & names[i].flag) == 0)
			continue;
		ret |= buf_printf(out, "%s%s", first ? "" : " ", names[i].name);
		first = false;
	}
	for (i = 0; i < count; i++) {
		ret |= buf_printf(out, "%s%s", first ? "" : " ", keywords[i]);
		first = false;
	}
	ret |= buf_append(out, ")", 1);
	return ret < 0 ? -1 : 0;
}

/* Civil date of a day count since 1970-01-01 (Howard Hinnant). */
static void civil_from_days(int64_t z, int64_t *y_r, unsigned *m_r, unsigned *d_r)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d_r = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m_r = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y_r = yoe + era * 400 + (*m_r <= 2);
}

int imap_write_date_time(struct buf *out, time_t t, int zone_minutes)
{
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	int64_t local = (int64_t)t + (int64_t)zone_minutes * 60, days, secs, y;
	unsigned m, d;
	int z = zone_minutes < 0 ? -zone_minutes : zone_minutes;

	days = local / 86400;
	secs = local % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999 || z >= 24 * 60)
		return -1;
	return buf_printf(out, "\"%2u-%s-%04" PRId64 " %02" PRId64 ":%02" PRId64 ":%02" PRId64
			  " %c%02d%02d\"", d, months[m - 1], y, secs / 3600, secs / 60 % 60,
			  secs % 60, zone_minutes < 0 ? '-' : '+', z / 60, z % 60);
}

int imap_write_seqset(struct buf *out, const struct imap_seq_range *ranges, size_t count)
{
	size_t i;
	int ret = 0;

	for (i = 0; i < count; i++) {
		if (i > 0)
			ret |= buf_append(out, ",", 1);
		if (ranges[i].lo == 0)
			ret |= buf_append(out, "*", 1);
		else
			ret |= buf_printf(out, "%" PRIu32, ranges[i].lo);
		if (ranges[i].hi == ranges[i].lo)
			continue;
		if (ranges[i].hi == 0)
			ret |= buf_append(out, ":*", 2);
		else
			ret |= buf_printf(out, ":%" PRIu32, ranges[i].hi);
	}
	return ret < 0 ? -1 : 0;
}
