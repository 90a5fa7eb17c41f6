/* libFuzzer target for proto/resource_fields.c. The input is an untrusted
 * bookers list (a form field, an LDAP value, a cairnctl option): every entry
 * it yields lies inside the input, is not empty and holds no separator; the
 * address check and the count parser never read past what they are given,
 * and an accepted address has exactly one '@' with a valid domain. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resource_fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

struct ctx {
	const char *base;
	size_t size;
	unsigned n;
};

static int entry(const char *addr, size_t len, void *vctx)
{
	struct ctx *c = vctx;
	check(len > 0 && addr >= c->base && addr + len <= c->base + c->size);
	for (size_t i = 0; i < len; i++)
		check(strchr(",; \t\r\n", addr[i]) == NULL && addr[i] != '\0');
	/* a copy exactly len long: ASan catches any read past it */
	char *copy = malloc(len);
	memcpy(copy, addr, len);
	if (res_address_why(copy, len) == NULL) {
		const char *at = memchr(copy, '@', len);
		check(at != NULL && memchr(at + 1, '@', len - (size_t)(at - copy) - 1) == NULL);
		check(at > copy && at < copy + len - 1 && at[1] != '.' && copy[len - 1] != '.');
	}
	free(copy);
	c->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	struct ctx c = { s, strlen(s), 0 };
	check(res_bookers_each(s, entry, &c) == 0);
	(void)res_bookers_everyone(s);
	unsigned n;
	if (res_parse_count(s, 100000, &n))
		check(n <= 100000 && strlen(s) <= 9 && strspn(s, "0123456789") == strlen(s));
	free(s);
	return 0;
}
