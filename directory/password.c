/* yescrypt password hashes through libxcrypt's reentrant crypt_rn() and
 * crypt_gensalt_rn(). struct crypt_data is ~32 KiB, so it lives on the heap
 * (worker stacks are small) and is wiped after use: it holds the password. */
#include "autoconf.h"
#include "password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

/* Compare without an early exit, so the time taken does not tell how many
 * leading bytes matched. Lengths are checked by the caller: they are public. */
static bool const_time_eq(const char *a, const char *b, size_t len)
{
	volatile unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i];
	return diff == 0;
}

int password_hash(const char *plain, char **hash_r, const char **error_r)
{
	*hash_r = NULL;
	if (plain == NULL || plain[0] == '\0') {
		*error_r = "empty password";
		return -1;
	}
	if (strlen(plain) >= CRYPT_MAX_PASSPHRASE_SIZE) {
		*error_r = "password too long (at most 511 bytes)";
		return -1;
	}
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	/* count 0 = libxcrypt's default cost; NULL random bytes = use the OS RNG. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL) {
		*error_r = "cannot generate a salt (crypt_gensalt_rn failed)";
		return -1;
	}
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *out = crypt_rn(plain, salt, data, sizeof(*data));
	int ret = 0;
	if (out == NULL || out[0] == '*') {
		*error_r = "password hashing failed (crypt_rn)";
		ret = -1;
	} else {
		*hash_r = xstrdup(out);
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ret;
}

bool password_verify(const char *plain, const char *hash)
{
	if (plain == NULL || plain[0] == '\0' || hash == NULL || hash[0] == '\0' ||
	    hash[0] == '*' || hash[0] == '!')
		return false;
	if (strlen(plain) >= CRYPT_MAX_PASSPHRASE_SIZE)
		return false;
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *out = crypt_rn(plain, hash, data, sizeof(*data));
	bool ok = false;
	if (out != NULL && out[0] != '*') {
		size_t len = strlen(hash);
		ok = strlen(out) == len && const_time_eq(out, hash, len);
	}
	explicit_bzero(data, sizeof(*data));
	free(data);
	return ok;
}
