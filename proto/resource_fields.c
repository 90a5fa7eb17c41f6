/* Checks of a resource's text fields (see resource_fields.h). Pure: the
 * store calls them before any SQL, unit tests and a fuzz target drive them. */
#include "autoconf.h"
#include "resource_fields.h"

#include <string.h>
#include <strings.h>

static bool is_atext(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

const char *res_address_why(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	if (at == NULL)
		return "no '@'";
	size_t n = (size_t)(at - s), dlen = len - n - 1;
	if (n == 0)
		return "empty local part";
	if (n > 64)
		return "local part longer than 64 characters";
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.') {
			if (i == 0 || i == n - 1 || s[i - 1] == '.')
				return "misplaced '.' in the local part";
		} else if (!is_atext(s[i])) {
			return "local part may only hold letters, digits, '.' and !#$%&'*+-/=?^_`{|}~";
		}
	}
	if (dlen == 0 || dlen > 255)
		return "bad domain length";
	size_t label = 0;
	for (size_t i = 0; i <= dlen; i++) {
		char c = i < dlen ? at[1 + i] : '.';
		if (c == '.') {
			/* at[i] is the label's last character (or the '@') */
			if (label == 0 || at[i] == '-')
				return "bad domain label";
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == '-') {
			if ((c == '-' && label == 0) || ++label > 63)
				return "bad domain label";
		} else {
			return "the domain may only hold letters, digits, '-' and '.'";
		}
	}
	return NULL;
}

bool res_parse_count(const char *s, unsigned max, unsigned *out)
{
	unsigned long v = 0;
	if (*s == '\0' || strlen(s) > 9)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return false;
	*out = (unsigned)v;
	return true;
}

static bool is_sep(char c)
{
	return c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';';
}

bool res_bookers_everyone(const char *list)
{
	while (*list == ' ')
		list++;
	return strncasecmp(list, "everyone", 8) == 0 && list[8 + strspn(list + 8, " ")] == '\0';
}

int res_bookers_each(const char *list, int (*cb)(const char *addr, size_t len, void *ctx),
		     void *ctx)
{
	const char *p = list;
	for (;;) {
		while (*p != '\0' && is_sep(*p))
			p++;
		if (*p == '\0')
			return 0;
		const char *s = p;
		while (*p != '\0' && !is_sep(*p))
			p++;
		if (p - s > 7 && strncasecmp(s, "mailto:", 7) == 0)
			s += 7;
		int ret = cb(s, (size_t)(p - s), ctx);
		if (ret != 0)
			return ret;
	}
}
