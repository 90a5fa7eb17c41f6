/* libFuzzer target for directory/ldap-escape.c. The input is an untrusted
 * value (an address from SMTP, a login name). Escaped into a filter template
 * it must always give a well-formed filter whose structure is the template's
 * own: the same parentheses, no '*' or unescaped byte from the value. The DN
 * escape must leave no unescaped special character. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ldap-escape.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static const char tmpl[] = "(&(objectClass=inetOrgPerson)(|(mail=%s)(mailAlternateAddress=%s)))";

static size_t count(const char *s, size_t len, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\') {
			i += 2;
			continue;
		}
		n += s[i] == c;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *value = (const char *)data;
	const char *error;
	struct buf b;

	/* Large enough for two copies of the worst case (3 bytes per byte). */
	if (size > 8192)
		return 0;
	buf_init(&b, 65536);
	check(ldap_filter_format(tmpl, value, size, &b, &error) == 0);
	check(strlen(b.data) == b.len);	/* no NUL inside */
	check(ldap_filter_check(b.data, b.len, &error) == 0);
	check(count(b.data, b.len, '(') == count(tmpl, sizeof(tmpl) - 1, '('));
	check(count(b.data, b.len, ')') == count(tmpl, sizeof(tmpl) - 1, ')'));
	check(count(b.data, b.len, '*') == 0);
	buf_free(&b);

	buf_init(&b, 65536);
	check(ldap_escape_dn_value(value, size, &b) == 0);
	check(strlen(b.data) == b.len);
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		if (c == '\\') {
			i++;
			check(i < b.len);
			continue;
		}
		check(strchr("\"+,;<>=", c) == NULL && c >= 0x20 && c != 0x7f);
	}
	buf_free(&b);

	/* The checker must not crash on arbitrary text either. */
	(void)ldap_filter_check(value, size, &error);
	return 0;
}
