/* IMAP URL parser (RFC 5092 section 11 grammar, RFC 4467 section 9 URLAUTH
 * additions). One left-to-right pass over the input with an index; every
 * part is decoded into its own malloc'ed string. The order of the ";NAME="
 * parts is the grammar's: UIDVALIDITY, UID, SECTION, PARTIAL, EXPIRE,
 * URLAUTH, each at most once, with "/" before UID (after a mailbox),
 * SECTION and PARTIAL, and none before EXPIRE and URLAUTH. */
#include "imap_url.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* RFC 3986 unreserved. */
static bool is_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* RFC 5092 achar (uchar / "&" / "=" / "~") plus the sub-delims RFC 3986
 * allows in paths that RFC 5092 inherits ("!$'()*+,"); ';' and '?' and '/'
 * are separators and never part of an achar. */
static bool is_achar(unsigned char c)
{
	return is_unreserved(c) || c == '&' || c == '=' || c == '!' || c == '$' || c == '\'' ||
	       c == '(' || c == ')' || c == '*' || c == '+' || c == ',';
}

/* bchar = achar / ":" / "@" / "/" */
static bool is_bchar(unsigned char c)
{
	return is_achar(c) || c == ':' || c == '@' || c == '/';
}

/* The user of an access identifier ("user+" / "submit+"): an enc-user of
 * achars, plus a raw "@" as clients send a full address (RFC 4467 3 names
 * a userid; ":" still ends it, so the verifier stays unambiguous). */
static bool is_access_user_char(unsigned char c)
{
	return is_achar(c) || c == '@';
}

/* Scan a run of characters of class ok (with %XX escapes) from s[*pos];
 * returns the decoded copy (NULL on a bad escape or a decoded NUL) and
 * advances *pos. An empty run gives "". */
static char *scan_decode(const char *s, size_t len, size_t *pos, bool (*ok)(unsigned char),
			 const char **error_r)
{
	size_t i = *pos, n = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= len || str_hex_digit(s[i + 1]) < 0 ||
			    str_hex_digit(s[i + 2]) < 0) {
				*error_r = "Invalid percent-escape";
				return NULL;
			}
			if (str_hex_digit(s[i + 1]) == 0 && str_hex_digit(s[i + 2]) == 0) {
				*error_r = "NUL in URL";
				return NULL;
			}
			i += 3;
		} else if (ok(c)) {
			i++;
		} else {
			break;
		}
		n++;
	}
	char *out = xmalloc(n + 1);
	size_t o = 0;
	for (size_t j = *pos; j < i;) {
		if (s[j] == '%') {
			out[o++] = (char)(str_hex_digit(s[j + 1]) * 16 +
					  str_hex_digit(s[j + 2]));
			j += 3;
		} else {
			out[o++] = s[j++];
		}
	}
	out[o] = '\0';
	*pos = i;
	return out;
}

/* A decimal number of at most 32 bits; nz: no leading zero and not 0. */
static int scan_u32(const char *s, size_t len, size_t *pos, bool nz, uint32_t *v_r)
{
	size_t i = *pos;
	uint64_t v = 0;
	if (i >= len || s[i] < '0' || s[i] > '9')
		return -1;
	if (nz && s[i] == '0')
		return -1;
	while (i < len && s[i] >= '0' && s[i] <= '9') {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX)
			return -1;
		i++;
	}
	/* number = 1*DIGIT allows "007" only where nz is not required; a
	 * lone "0" is fine there. */
	*v_r = (uint32_t)v;
	*pos = i;
	return 0;
}

/* Case-insensitive "NAME=" at s[pos]. */
static bool match_param(const char *s, size_t len, size_t pos, const char *name)
{
	size_t n = strlen(name);
	return pos + n <= len && str_ncasecmp(s + pos, name, n) == 0;
}

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Howard Hinnant's algorithm: proleptic Gregorian, 1970-01-01 = 0. */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int digits(const char *s, size_t len, size_t pos, size_t n, unsigned *v_r)
{
	unsigned v = 0;
	if (pos + n > len)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[pos + i] < '0' || s[pos + i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[pos + i] - '0');
	}
	*v_r = v;
	return 0;
}

int imap_url_parse_datetime(const char *s, size_t len, int64_t *time_r)
{
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0;
	size_t i = 0;
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (digits(s, len, 0, 4, &y) < 0 || len < 20 || s[4] != '-' ||
	    digits(s, len, 5, 2, &mo) < 0 || s[7] != '-' || digits(s, len, 8, 2, &d) < 0 ||
	    (s[10] != 'T' && s[10] != 't') || digits(s, len, 11, 2, &h) < 0 || s[13] != ':' ||
	    digits(s, len, 14, 2, &mi) < 0 || s[16] != ':' || digits(s, len, 17, 2, &se) < 0)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	i = 19;
	if (i < len && s[i] == '.') {
		i++;
		size_t start = i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	int sign = 0;
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i < len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '+' ? 1 : -1;
		if (digits(s, len, i + 1, 2, &oh) < 0 || i + 3 >= len || s[i + 3] != ':' ||
		    digits(s, len, i + 4, 2, &om) < 0 || oh > 23 || om > 59)
			return -1;
		i += 6;
	} else {
		return -1;
	}
	if (i != len)
		return -1;
	int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se);
	t -= sign * (int64_t)(oh * 3600 + om * 60);
	*time_r = t;
	return 0;
}

void imap_url_free(struct imap_url *url)
{
	free(url->user);
	free(url->auth);
	free(url->host);
	free(url->mailbox);
	free(url->search);
	free(url->section);
	free(url->access_user);
	free(url->mechanism);
	free(url->token);
	memset(url, 0, sizeof(*url));
}

static bool is_host_char(unsigned char c)
{
	return is_unreserved(c) || c == '!' || c == '$' || c == '&' || c == '\'' || c == '(' ||
	       c == ')' || c == '*' || c == '+' || c == ',' || c == '=';
}

static bool is_mech_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* iserver = [iuserinfo "@"] host [":" port], up to "/" or the end. */
static int parse_server(const char *s, size_t len, size_t *pos, struct imap_url *url,
			const char **error_r)
{
	size_t end = *pos;
	while (end < len && s[end] != '/')
		end++;
	const char *at = NULL;
	for (size_t i = *pos; i < end; i++)
		if (s[i] == '@')
			at = s + i;
	size_t i = *pos;
	if (at != NULL) {
		size_t ulen = (size_t)(at - s);
		url->user = scan_decode(s, ulen, &i, is_achar, error_r);
		if (url->user == NULL)
			return -1;
		if (i < ulen && match_param(s, ulen, i, ";AUTH=")) {
			i += 6;
			if (i < ulen && s[i] == '*') {
				url->auth = xstrdup("*");
				i++;
			} else {
				url->auth = scan_decode(s, ulen, &i, is_achar, error_r);
				if (url->auth == NULL)
					return -1;
				if (url->auth[0] == '\0') {
					*error_r = "Empty ;AUTH= type";
					return -1;
				}
			}
		}
		if (i != ulen || (url->user[0] == '\0' && url->auth == NULL)) {
			*error_r = "Invalid user information";
			return -1;
		}
		if (url->user[0] == '\0') {
			free(url->user);
			url->user = NULL;
		}
		i++;	/* "@" */
	}
	size_t hstart = i;
	if (i < end && s[i] == '[') {
		while (i < end && s[i] != ']') {
			unsigned char c = (unsigned char)s[i];
			if (i > hstart && !(str_hex_digit((char)c) >= 0 || c == ':' || c == '.'))
				break;
			i++;
		}
		if (i >= end || s[i] != ']' || i == hstart + 1) {
			*error_r = "Invalid IPv6 host";
			return -1;
		}
		i++;
	} else {
		while (i < end && (is_host_char((unsigned char)s[i]) || s[i] == '%'))
			i++;
	}
	if (i == hstart) {
		*error_r = "Missing host";
		return -1;
	}
	url->host = xstrndup(s + hstart, i - hstart);
	if (i < end && s[i] == ':') {
		i++;
		uint32_t port;
		if (i == end) {
			url->port = 0;	/* "host:" is allowed by RFC 3986 */
		} else if (scan_u32(s, end, &i, false, &port) < 0 || port == 0 || port > 65535) {
			*error_r = "Invalid port";
			return -1;
		} else {
			url->port = port;
		}
	}
	if (i != end) {
		*error_r = "Invalid host";
		return -1;
	}
	*pos = end;
	return 0;
}

/* The parts after the server: mailbox, ;UIDVALIDITY=, ?search, and the
 * ;UID= ;SECTION= ;PARTIAL= ;EXPIRE= ;URLAUTH= chain. */
static int parse_path(const char *s, size_t len, size_t pos, struct imap_url *url,
		      const char **error_r)
{
	size_t i = pos;
	bool slash = false;	/* a "/" separator precedes the next part */
	if (i < len && s[i] != ';' && s[i] != '?') {
		/* enc-mailbox: bchars up to ';', '?' or the end. A final "/"
		 * is the separator before ";UID=". */
		size_t start = i;
		while (i < len && (is_bchar((unsigned char)s[i]) || s[i] == '%'))
			i++;
		size_t mend = i;
		if (mend > start && s[mend - 1] == '/' && i < len && s[i] == ';') {
			mend--;
			slash = true;
		}
		if (mend == start) {
			*error_r = "Empty mailbox name";
			return -1;
		}
		size_t j = start;
		url->mailbox = scan_decode(s, mend, &j, is_bchar, error_r);
		if (url->mailbox == NULL)
			return -1;
		if (j != mend) {
			*error_r = "Invalid character in mailbox name";
			return -1;
		}
		if (!slash && match_param(s, len, i, ";UIDVALIDITY=")) {
			i += 13;
			if (scan_u32(s, len, &i, true, &url->uidvalidity) < 0) {
				*error_r = "Invalid UIDVALIDITY";
				return -1;
			}
		}
		if (i < len && s[i] == '?') {
			i++;
			url->search = scan_decode(s, len, &i, is_bchar, error_r);
			if (url->search == NULL)
				return -1;
			if (i != len) {
				*error_r = "Invalid character in search";
				return -1;
			}
			return 0;
		}
	}
	/* Part ranks, in grammar order. */
	enum { P_UID = 1, P_SECTION, P_PARTIAL, P_EXPIRE, P_URLAUTH };
	int last = 0;
	while (i < len) {
		if (s[i] == '/' && !slash) {
			slash = true;
			i++;
			continue;
		}
		if (s[i] != ';') {
			*error_r = "Unexpected character in URL";
			return -1;
		}
		int rank;
		if (match_param(s, len, i, ";UID="))
			rank = P_UID, i += 5;
		else if (match_param(s, len, i, ";SECTION="))
			rank = P_SECTION, i += 9;
		else if (match_param(s, len, i, ";PARTIAL="))
			rank = P_PARTIAL, i += 9;
		else if (match_param(s, len, i, ";EXPIRE="))
			rank = P_EXPIRE, i += 8;
		else if (match_param(s, len, i, ";URLAUTH="))
			rank = P_URLAUTH, i += 9;
		else {
			*error_r = "Unknown URL part";
			return -1;
		}
		if (rank <= last) {
			*error_r = "URL parts out of order or repeated";
			return -1;
		}
		/* "/" before UID (unless it starts a relative URL), SECTION,
		 * PARTIAL; never before EXPIRE/URLAUTH. */
		bool first = last == 0 && url->mailbox == NULL && i - (rank == P_UID ? 5 : 9) == pos;
		bool want_slash = rank <= P_PARTIAL && !first;
		if (slash != want_slash) {
			*error_r = want_slash ? "Missing \"/\" in URL" : "Unexpected \"/\" in URL";
			return -1;
		}
		slash = false;
		last = rank;
		switch (rank) {
		case P_UID:
			if (scan_u32(s, len, &i, true, &url->uid) < 0) {
				*error_r = "Invalid UID";
				return -1;
			}
			break;
		case P_SECTION: {
			url->section = scan_decode(s, len, &i, is_bchar, error_r);
			if (url->section == NULL)
				return -1;
			/* A "/" the section swallowed before ";PARTIAL=". */
			size_t sl = strlen(url->section);
			if (sl > 0 && url->section[sl - 1] == '/' && i < len && s[i] == ';' &&
			    s[i - 1] == '/') {
				url->section[--sl] = '\0';
				slash = true;
			}
			if (sl == 0) {
				*error_r = "Empty SECTION";
				return -1;
			}
			break;
		}
		case P_PARTIAL:
			if (scan_u32(s, len, &i, false, &url->partial_offset) < 0) {
				*error_r = "Invalid PARTIAL";
				return -1;
			}
			url->partial = true;
			if (i < len && s[i] == '.') {
				i++;
				if (scan_u32(s, len, &i, true, &url->partial_length) < 0) {
					*error_r = "Invalid PARTIAL length";
					return -1;
				}
			}
			break;
		case P_EXPIRE: {
			size_t start = i;
			while (i < len && s[i] != ';' && s[i] != '/')
				i++;
			if (imap_url_parse_datetime(s + start, i - start, &url->expire) < 0) {
				*error_r = "Invalid EXPIRE date-time";
				return -1;
			}
			url->expire_set = true;
			break;
		}
		case P_URLAUTH: {
			if (match_param(s, len, i, "submit+")) {
				url->access = IMAP_URL_ACCESS_SUBMIT;
				i += 7;
			} else if (match_param(s, len, i, "user+")) {
				url->access = IMAP_URL_ACCESS_USER;
				i += 5;
			} else if (match_param(s, len, i, "authuser")) {
				url->access = IMAP_URL_ACCESS_AUTHUSER;
				i += 8;
			} else if (match_param(s, len, i, "anonymous")) {
				url->access = IMAP_URL_ACCESS_ANONYMOUS;
				i += 9;
			} else {
				*error_r = "Invalid URLAUTH access identifier";
				return -1;
			}
			if (url->access == IMAP_URL_ACCESS_SUBMIT || url->access == IMAP_URL_ACCESS_USER) {
				url->access_user = scan_decode(s, len, &i, is_access_user_char,
							       error_r);
				if (url->access_user == NULL)
					return -1;
				if (url->access_user[0] == '\0') {
					*error_r = "Empty URLAUTH user";
					return -1;
				}
			}
			url->rump_len = i;
			if (i == len)
				break;	/* a rump: no verifier (GENURLAUTH input) */
			if (s[i] != ':') {
				*error_r = "Invalid URLAUTH access identifier";
				return -1;
			}
			size_t start = ++i;
			while (i < len && is_mech_char((unsigned char)s[i]))
				i++;
			if (i == start || i >= len || s[i] != ':') {
				*error_r = "Invalid URLAUTH mechanism";
				return -1;
			}
			url->mechanism = xstrndup(s + start, i - start);
			start = ++i;
			while (i < len && str_hex_digit(s[i]) >= 0)
				i++;
			if (i - start < 32 || i != len) {
				*error_r = "Invalid URLAUTH verifier";
				return -1;
			}
			url->token = xstrndup(s + start, i - start);
			break;
		}
		}
	}
	if (slash) {
		*error_r = "Trailing \"/\" in URL";
		return -1;
	}
	/* A relative URL may take its uid from the base URL. */
	if ((url->section != NULL || url->partial || url->access != IMAP_URL_ACCESS_NONE ||
	     url->expire_set) && url->uid == 0 && url->form != IMAP_URL_RELATIVE) {
		*error_r = "URL needs ;UID=";
		return -1;
	}
	if (url->expire_set && url->access == IMAP_URL_ACCESS_NONE) {
		*error_r = ";EXPIRE= without ;URLAUTH=";
		return -1;
	}
	return 0;
}

int imap_url_parse(const char *s, size_t len, struct imap_url *url, const char **error_r)
{
	memset(url, 0, sizeof(*url));
	size_t i = 0;
	int ret;
	if (len == 0) {
		*error_r = "Empty URL";
		return -1;
	}
	if (memchr(s, '\0', len) != NULL) {
		*error_r = "NUL in URL";
		return -1;
	}
	if (len >= 7 && str_ncasecmp(s, "imap://", 7) == 0) {
		url->form = IMAP_URL_ABSOLUTE;
		i = 7;
	} else if (len >= 2 && s[0] == '/' && s[1] == '/') {
		url->form = IMAP_URL_NETWORK;
		i = 2;
	} else if (s[0] == '/') {
		url->form = IMAP_URL_PATH;
	} else if (s[0] == ';') {
		url->form = IMAP_URL_RELATIVE;
	} else {
		/* A scheme other than imap: is not ours. */
		for (size_t j = 0; j < len && s[j] != '/' && s[j] != ';' && s[j] != '?'; j++) {
			if (s[j] == ':') {
				*error_r = "Not an IMAP URL";
				return -1;
			}
		}
		url->form = IMAP_URL_RELATIVE_MAILBOX;
	}
	if (url->form == IMAP_URL_ABSOLUTE || url->form == IMAP_URL_NETWORK) {
		if (parse_server(s, len, &i, url, error_r) < 0)
			goto fail;
		if (i == len)
			return 0;	/* the server only */
		i++;	/* "/" */
		if (i == len)
			return 0;
	} else if (url->form == IMAP_URL_PATH) {
		i = 1;
		if (i == len)
			return 0;
	}
	if (url->form == IMAP_URL_RELATIVE) {
		ret = parse_path(s, len, i, url, error_r);
	} else {
		if (s[i] == ';' || s[i] == '?') {
			*error_r = "Missing mailbox name";
			goto fail;
		}
		ret = parse_path(s, len, i, url, error_r);
	}
	if (ret < 0)
		goto fail;
	return 0;
fail:
	imap_url_free(url);
	return -1;
}
