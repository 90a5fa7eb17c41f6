/* RFC 4515 filter-value and RFC 4514 DN-value escaping and filter template
 * expansion. Deliberately conservative: anything that is not plainly safe is
 * hex-escaped, which both RFCs allow for every octet of a filter value. */
#include "autoconf.h"
#include "ldap-escape.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";

static bool filter_safe(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '@' || c == '+';
}

static int append_hex(struct buf *out, unsigned char c)
{
	char esc[3] = { '\\', hex[c >> 4], hex[c & 0x0f] };
	return buf_append(out, esc, sizeof(esc));
}

int ldap_escape_filter_value(const char *value, size_t len, struct buf *out)
{
	size_t start = out->len;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)value[i];
		int ret = filter_safe(c) ? buf_append(out, &value[i], 1) : append_hex(out, c);
		if (ret < 0) {
			if (out->data != NULL) {
				out->len = start;
				out->data[start] = '\0';
			}
			return -1;
		}
	}
	/* An empty value still makes out a valid (NUL-terminated) string. */
	return buf_append(out, "", 0);
}

int ldap_escape_dn_value(const char *value, size_t len, struct buf *out)
{
	size_t start = out->len;
	int ret = 0;
	for (size_t i = 0; i < len && ret == 0; i++) {
		unsigned char c = (unsigned char)value[i];
		if (c < 0x20 || c == 0x7f) {
			ret = append_hex(out, c);
		} else if (strchr("\"+,;<>=\\", c) != NULL || (i == 0 && (c == '#' || c == ' ')) ||
			   (i == len - 1 && c == ' ')) {
			char esc[2] = { '\\', (char)c };
			ret = buf_append(out, esc, 2);
		} else {
			ret = buf_append(out, &value[i], 1);
		}
	}
	if (ret == 0)
		ret = buf_append(out, "", 0);
	if (ret < 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	return ret;
}

int ldap_filter_format(const char *template, const char *value, size_t len, struct buf *out,
		       const char **error_r)
{
	for (const char *p = template; *p != '\0'; p++) {
		int ret;
		if (*p != '%') {
			ret = buf_append(out, p, 1);
		} else if (p[1] == 's') {
			ret = ldap_escape_filter_value(value, len, out);
			p++;
		} else if (p[1] == '%') {
			ret = buf_append(out, "%", 1);
			p++;
		} else {
			*error_r = "filter template has a '%' not followed by 's' or '%'";
			return -1;
		}
		if (ret < 0) {
			*error_r = "filter too long";
			return -1;
		}
	}
	if (buf_append(out, "", 0) < 0) {
		*error_r = "filter too long";
		return -1;
	}
	return 0;
}

int ldap_filter_check(const char *filter, size_t len, const char **error_r)
{
	size_t depth = 0;
	if (len == 0 || filter[0] != '(') {
		*error_r = "filter must start with '('";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = filter[i];
		if (c == '\0') {
			*error_r = "filter contains a NUL byte";
			return -1;
		}
		if (c == '\\') {
			/* An escape is a backslash and two hex digits. */
			if (i + 2 >= len || strchr(hex, filter[i + 1] | 0x20) == NULL ||
			    strchr(hex, filter[i + 2] | 0x20) == NULL || filter[i + 1] == '\0' ||
			    filter[i + 2] == '\0') {
				*error_r = "bad escape in filter (expected \\XX)";
				return -1;
			}
			i += 2;
		} else if (c == '(') {
			depth++;
		} else if (c == ')') {
			if (depth == 0) {
				*error_r = "unbalanced ')' in filter";
				return -1;
			}
			if (--depth == 0 && i != len - 1) {
				*error_r = "text after the end of the filter";
				return -1;
			}
		}
	}
	if (depth != 0) {
		*error_r = "unbalanced '(' in filter";
		return -1;
	}
	return 0;
}
