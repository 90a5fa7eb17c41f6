/* URL extraction from text and HTML for uri rules and URIBL: a scanner for
 * the schemes spam uses, not a full RFC 3986 parser. */
#include "sa_rules_uri.h"

#include <ctype.h>
#include <string.h>

static bool uri_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '"' && c != '\'' && c != '<' && c != '>' &&
	       c != '`' && c != '{' && c != '}' && c != '|' && c != '\\' && c != '^';
}

static bool has_prefix_ci(const char *s, size_t len, const char *p)
{
	size_t n = strlen(p);
	return len >= n && str_ncasecmp(s, p, n) == 0;
}

/* Emit u[0..n) with trailing punctuation trimmed and &amp; decoded in HTML;
 * "www." gets "http://" in front. */
static bool emit(const char *u, size_t n, bool html, bool add_scheme, sa_uri_cb *cb, void *ctx)
{
	while (n > 0 && strchr(".,;:!?)]", u[n - 1]) != NULL)
		n--;
	if (n == 0)
		return true;
	char tmp[SA_URI_MAX_LEN];
	size_t o = 0;
	if (add_scheme) {
		memcpy(tmp, "http://", 7);
		o = 7;
	}
	for (size_t i = 0; i < n && o < sizeof(tmp); i++) {
		if (html && u[i] == '&' && n - i >= 5 && memcmp(u + i, "&amp;", 5) == 0) {
			tmp[o++] = '&';
			i += 4;
			continue;
		}
		tmp[o++] = u[i];
	}
	return cb(ctx, tmp, o);
}

static const char *const schemes[] = { "http://", "https://", "ftp://", "mailto:" };

void sa_uri_extract(const char *text, size_t len, bool html, sa_uri_cb *cb, void *ctx)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)text[i];
		/* a word start: not preceded by a letter, digit or '.' */
		bool word_start = i == 0 || !(isalnum((unsigned char)text[i - 1]) || text[i - 1] == '.');
		if (html && (c == 'h' || c == 'H' || c == 's' || c == 'S' || c == 'a' || c == 'A') &&
		    i > 0 && isspace((unsigned char)text[i - 1])) {
			size_t skip = 0;
			if (has_prefix_ci(text + i, len - i, "href")) skip = 4;
			else if (has_prefix_ci(text + i, len - i, "src")) skip = 3;
			else if (has_prefix_ci(text + i, len - i, "action")) skip = 6;
			if (skip) {
				size_t j = i + skip;
				while (j < len && isspace((unsigned char)text[j]))
					j++;
				if (j < len && text[j] == '=') {
					j++;
					while (j < len && isspace((unsigned char)text[j]))
						j++;
					char q = j < len && (text[j] == '"' || text[j] == '\'') ? text[j] : 0;
					if (q)
						j++;
					size_t s = j;
					while (j < len && (q ? text[j] != q : !isspace((unsigned char)text[j]) &&
							       text[j] != '>'))
						j++;
					/* only absolute URLs: relative ones name no host */
					const char *v = text + s;
					size_t vn = j - s;
					while (vn > 0 && isspace((unsigned char)*v))
						v++, vn--;
					for (size_t k = 0; k < ARRAY_SIZE(schemes); k++)
						if (has_prefix_ci(v, vn, schemes[k])) {
							if (!emit(v, vn, true, false, cb, ctx))
								return;
							break;
						}
					i = j;
					continue;
				}
			}
		}
		if (word_start && (c == 'h' || c == 'H' || c == 'f' || c == 'F' || c == 'm' || c == 'M' ||
				   c == 'w' || c == 'W')) {
			bool found = false, www = false;
			for (size_t k = 0; k < ARRAY_SIZE(schemes); k++)
				if (has_prefix_ci(text + i, len - i, schemes[k])) {
					found = true;
					break;
				}
			if (!found && has_prefix_ci(text + i, len - i, "www.") && len - i > 4 &&
			    isalnum((unsigned char)text[i + 4])) {
				found = www = true;
			}
			if (found) {
				size_t j = i;
				while (j < len && uri_char((unsigned char)text[j]))
					j++;
				if (!emit(text + i, j - i, html, www, cb, ctx))
					return;
				i = j;
				continue;
			}
		}
		i++;
	}
}

int sa_uri_host(const char *uri, size_t len, char *host, size_t hostlen)
{
	const char *p = uri, *end = uri + len;
	if (has_prefix_ci(p, len, "mailto:")) {
		const char *at = memchr(p, '@', len);
		if (at == NULL)
			return -1;
		p = at + 1;
	} else {
		const char *s = NULL;
		for (const char *q = p; q + 2 < end; q++)
			if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
				s = q + 3;
				break;
			}
		if (s == NULL)
			return -1;
		p = s;
		/* userinfo@ */
		const char *stop = p;
		while (stop < end && *stop != '/' && *stop != '?' && *stop != '#')
			stop++;
		const char *at = NULL;
		for (const char *q = p; q < stop; q++)
			if (*q == '@')
				at = q;
		if (at != NULL)
			p = at + 1;
	}
	size_t n = 0;
	while (p < end && *p != '/' && *p != '?' && *p != '#' && *p != ':' && *p != '&' &&
	       *p != '>' && !isspace((unsigned char)*p)) {
		if (n + 1 >= hostlen)
			return -1;
		host[n++] = (char)tolower((unsigned char)*p);
		p++;
	}
	while (n > 0 && host[n - 1] == '.')
		n--;
	if (n == 0)
		return -1;
	host[n] = '\0';
	return 0;
}
