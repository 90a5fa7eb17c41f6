/* mbox splitting and mboxrd quoting, From_ line dates, and Maildir flag
 * suffixes. Messages are never changed beyond the quoting: what mbox_quote
 * adds, mbox_unquote removes, so import and export round-trip byte for byte
 * (for messages that end with a line end, as RFC 5322 messages do). */
#include "autoconf.h"
#include "mbox.h"

#include <stdio.h>
#include <string.h>

static const char weekdays[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static bool is_from_line(const char *p, size_t left)
{
	return left >= 5 && memcmp(p, "From ", 5) == 0;
}

/* Offset just after the line that starts at i (past its '\n'), or len. */
static size_t line_end(const char *data, size_t len, size_t i)
{
	const char *nl = memchr(data + i, '\n', len - i);
	return nl != NULL ? (size_t)(nl - data) + 1 : len;
}

static bool is_empty_line(const char *data, size_t start, size_t end)
{
	size_t n = end - start;
	return (n == 1 && data[start] == '\n') ||
	       (n == 2 && data[start] == '\r' && data[start + 1] == '\n');
}

int mbox_next(const char *data, size_t len, size_t *pos, struct mbox_msg *msg)
{
	size_t i = *pos;
	/* Empty lines before the first From_ line are tolerated. */
	while (i < len) {
		size_t e = line_end(data, len, i);
		if (!is_empty_line(data, i, e))
			break;
		i = e;
	}
	if (i >= len)
		return 0;
	if (!is_from_line(data + i, len - i))
		return -1;
	size_t from_end = line_end(data, len, i);
	msg->offset = i;
	msg->from_line = data + i;
	msg->from_line_len = from_end - i;
	while (msg->from_line_len > 0 && (msg->from_line[msg->from_line_len - 1] == '\n' ||
					  msg->from_line[msg->from_line_len - 1] == '\r'))
		msg->from_line_len--;

	size_t body = from_end, j = from_end, end = len;
	bool prev_empty = false;
	while (j < len) {
		size_t e = line_end(data, len, j);
		if (prev_empty && is_from_line(data + j, len - j)) {
			end = j;
			break;
		}
		prev_empty = is_empty_line(data, j, e);
		j = e;
	}
	*pos = end;
	/* Drop the empty line that separates messages. */
	size_t blen = end - body;
	const char *b = data + body;
	if (blen >= 2 && b[blen - 1] == '\n' && b[blen - 2] == '\n')
		blen -= 1;
	else if (blen >= 4 && memcmp(b + blen - 4, "\r\n\r\n", 4) == 0)
		blen -= 2;
	else if (blen == 1 && b[0] == '\n')
		blen = 0;
	msg->body = b;
	msg->body_len = blen;
	return 1;
}

size_t mbox_count(const char *data, size_t len)
{
	size_t pos = 0, n = 0;
	struct mbox_msg msg;
	while (mbox_next(data, len, &pos, &msg) == 1)
		n++;
	return n;
}

/* Lines matching ^>*From  (quoted == false: ^>+From ). */
static bool needs_quote_change(const char *p, size_t left, bool at_least_one)
{
	size_t k = 0;
	while (k < left && p[k] == '>')
		k++;
	if (at_least_one && k == 0)
		return false;
	return is_from_line(p + k, left - k);
}

int mbox_unquote(const char *in, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		size_t e = line_end(in, len, i);
		size_t skip = needs_quote_change(in + i, e - i, true) ? 1 : 0;
		if (buf_append(out, in + i + skip, e - i - skip) < 0)
			return -1;
		i = e;
	}
	return 0;
}

int mbox_quote(const char *in, size_t len, struct buf *out)
{
	size_t i = 0;
	while (i < len) {
		size_t e = line_end(in, len, i);
		if (needs_quote_change(in + i, e - i, false) && buf_append(out, ">", 1) < 0)
			return -1;
		if (buf_append(out, in + i, e - i) < 0)
			return -1;
		i = e;
	}
	return 0;
}

int mbox_append_message(const char *sender, time_t t, const char *body, size_t len,
			struct buf *out)
{
	if (mbox_from_line(sender, t, out) < 0 || mbox_quote(body, len, out) < 0)
		return -1;
	if (len > 0 && body[len - 1] != '\n' && buf_append(out, "\n", 1) < 0)
		return -1;
	return buf_append(out, "\n", 1);
}

static int parse_uint(const char **pp, const char *end, int max_digits, int *v_r)
{
	const char *p = *pp;
	int v = 0, n = 0;
	while (p < end && *p >= '0' && *p <= '9' && n < max_digits) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0)
		return -1;
	*v_r = v;
	*pp = p;
	return 0;
}

static const char *skip_spaces(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

int mbox_from_line_date(const char *line, size_t len, time_t *t_r)
{
	const char *end = line + len;
	if (!is_from_line(line, len))
		return -1;
	/* The date is the last part that looks like "Www Mmm", after the
	 * sender (which may itself hold spaces when quoted). */
	const char *p = NULL;
	for (const char *q = line + 5; q + 7 <= end; q++) {
		if (q[3] != ' ' || (q != line + 5 && q[-1] != ' '))
			continue;
		for (int d = 0; d < 7; d++) {
			if (memcmp(q, weekdays[d], 3) != 0)
				continue;
			for (int m = 0; m < 12; m++)
				if (q + 7 <= end && memcmp(q + 4, months[m], 3) == 0)
					p = q;
		}
	}
	if (p == NULL)
		return -1;
	int mon = -1, day, hour, min, sec = 0, year;
	for (int m = 0; m < 12; m++)
		if (memcmp(p + 4, months[m], 3) == 0)
			mon = m;
	p = skip_spaces(p + 7, end);
	if (parse_uint(&p, end, 2, &day) < 0)
		return -1;
	p = skip_spaces(p, end);
	if (parse_uint(&p, end, 2, &hour) < 0 || p >= end || *p++ != ':' ||
	    parse_uint(&p, end, 2, &min) < 0)
		return -1;
	if (p < end && *p == ':') {
		p++;
		if (parse_uint(&p, end, 2, &sec) < 0)
			return -1;
	}
	p = skip_spaces(p, end);
	/* Some writers put a zone name before the year ("... 12:00:00 UTC 2024"). */
	while (p < end && ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
		p++;
	p = skip_spaces(p, end);
	if (parse_uint(&p, end, 4, &year) < 0)
		return -1;
	if (year < 1970 || year > 9999 || day < 1 || day > 31 || hour > 23 || min > 59 ||
	    sec > 60)
		return -1;
	struct tm tm = { .tm_year = year - 1900, .tm_mon = mon, .tm_mday = day,
			 .tm_hour = hour, .tm_min = min, .tm_sec = sec };
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	*t_r = t;
	return 0;
}

int mbox_from_line(const char *sender, time_t t, struct buf *out)
{
	struct tm tm;
	if (gmtime_r(&t, &tm) == NULL) {
		t = 0;
		gmtime_r(&t, &tm);
	}
	return buf_printf(out, "From %s %s %s %2d %02d:%02d:%02d %d\n",
			  sender != NULL && sender[0] != '\0' ? sender : "MAILER-DAEMON",
			  weekdays[tm.tm_wday % 7], months[tm.tm_mon % 12], tm.tm_mday,
			  tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
}

static const struct {
	char letter;
	unsigned flag;
} maildir_letters[] = {
	/* ASCII order, as Maildir wants them written */
	{ 'D', MBOX_FLAG_DRAFT }, { 'F', MBOX_FLAG_FLAGGED }, { 'R', MBOX_FLAG_ANSWERED },
	{ 'S', MBOX_FLAG_SEEN }, { 'T', MBOX_FLAG_DELETED },
};

int mbox_maildir_flags(const char *filename, unsigned *flags_r)
{
	const char *info = NULL;
	for (const char *p = strstr(filename, ":2,"); p != NULL; p = strstr(p + 1, ":2,"))
		info = p;
	if (info == NULL)
		return -1;
	unsigned flags = 0;
	for (const char *p = info + 3; *p != '\0'; p++)
		for (size_t i = 0; i < ARRAY_SIZE(maildir_letters); i++)
			if (*p == maildir_letters[i].letter)
				flags |= maildir_letters[i].flag;
	*flags_r = flags;
	return 0;
}

size_t mbox_maildir_suffix(unsigned flags, char *out, size_t size)
{
	char tmp[16];
	size_t n = 0;
	memcpy(tmp, ":2,", 3);
	n = 3;
	for (size_t i = 0; i < ARRAY_SIZE(maildir_letters); i++)
		if ((flags & maildir_letters[i].flag) != 0)
			tmp[n++] = maildir_letters[i].letter;
	tmp[n] = '\0';
	if (size == 0)
		return n;
	snprintf(out, size, "%s", tmp);
	return n;
}
