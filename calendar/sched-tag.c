/* If-Schedule-Tag-Match (RFC 6638 8.3): see sched-tag.h. */
#include "autoconf.h"
#include "sched-tag.h"

#include <string.h>

static bool ows(char c)
{
	return c == ' ' || c == '\t';
}

/* etagc = %x21 / %x23-7E / obs-text (RFC 9110 8.8.3) */
static bool etagc(unsigned char c)
{
	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80;
}

bool sched_tag_listed(const char *value, size_t len, const char *tag)
{
	size_t tlen = strlen(tag);
	bool found = false;
	size_t i = 0;
	for (;;) {
		while (i < len && (ows(value[i]) || value[i] == ','))
			i++;
		if (i >= len)
			return found;
		bool weak = false;
		if (len - i >= 2 && value[i] == 'W' && value[i + 1] == '/') {
			weak = true;
			i += 2;
		}
		if (i >= len || value[i] != '"')
			return false;
		size_t start = i++;
		while (i < len && value[i] != '"') {
			if (!etagc((unsigned char)value[i]))
				return false;
			i++;
		}
		if (i >= len)
			return false;	/* unterminated */
		i++;
		size_t n = i - start;
		if (!weak && n == tlen && memcmp(value + start, tag, n) == 0)
			found = true;
		while (i < len && ows(value[i]))
			i++;
		if (i < len && value[i] != ',')
			return false;
	}
}
