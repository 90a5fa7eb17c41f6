/* RFC 4314 rights and identifiers as text: see imap_acl.h. */
#include "autoconf.h"
#include "imap_acl.h"

#include <string.h>

int imap_acl_rights_parse(const char *in, char *mode_r, unsigned *bits_r)
{
	unsigned bits = 0;
	*mode_r = '=';
	if (*in == '+' || *in == '-')
		*mode_r = *in++;
	for (; *in != '\0'; in++) {
		const char *p = strchr(IMAP_ACL_LETTERS, *in);
		if (*in == 'c')
			bits |= 1u << 6 | 1u << 7;	/* k x */
		else if (*in == 'd')
			bits |= 1u << 8 | 1u << 9;	/* t e */
		else if (p != NULL)
			bits |= 1u << (p - IMAP_ACL_LETTERS);
		else
			return -1;
	}
	*bits_r = bits;
	return 0;
}

unsigned imap_acl_rights_bits(const char *letters)
{
	unsigned bits = 0;
	for (; *letters != '\0'; letters++) {
		const char *p = strchr(IMAP_ACL_LETTERS, *letters);
		if (p != NULL)
			bits |= 1u << (p - IMAP_ACL_LETTERS);
	}
	return bits;
}

void imap_acl_rights_write(struct buf *out, unsigned bits, bool obsolete)
{
	static const char letters[] = IMAP_ACL_LETTERS;
	for (size_t i = 0; letters[i] != '\0'; i++)
		if (bits & (1u << i))
			buf_append(out, &letters[i], 1);
	if (obsolete && (bits & (1u << 6 | 1u << 7)) == (1u << 6 | 1u << 7))
		buf_append_str(out, "c");
	if (obsolete && (bits & (1u << 8 | 1u << 9)) == (1u << 8 | 1u << 9))
		buf_append_str(out, "d");
}

int imap_acl_identifier_parse(const char *in, size_t len, char *out, size_t size)
{
	if (len == 0 || len >= size || len > IMAP_ACL_IDENTIFIER_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c <= 0x20 || c == 0x7f || c == '"' || c == '\\')
			return -1;
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	out[len] = '\0';
	const char *p = out[0] == '-' ? out + 1 : out;
	if (strcmp(p, "anyone") == 0 || strcmp(p, "authenticated") == 0)
		return 0;
	if (*p == '$')
		p++;
	const char *at = strrchr(p, '@');
	if (at == NULL || at == p || at[1] == '\0' || *p == '-' || *p == '$' ||
	    strchr(p, '@') != at || strlen(p) > 320)
		return -1;
	return 0;
}
