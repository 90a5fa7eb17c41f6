/* Unit tests for directory/password.c: yescrypt hashing with a random salt,
 * verification, and refusal of empty passwords and locked/disabled hashes.
 * yescrypt is deliberately slow, so each test hashes only a few times. */
#include "autoconf.h"
#include "password.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <crypt.h>

/* A known-answer vector: yescrypt at libxcrypt's default cost, made once
 * outside Cairn (libxcrypt 4.4.33 via Python's crypt.crypt() on Debian 12)
 * and pasted here, so that verification is checked against a fixed hash
 * that no code under test produced. */
#define KAT_PASSWORD "Tr0ub4dor&3 Cairn"
#define KAT_HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$26jRcyferPHvdwcBuNZf/TmIbn3.xw5n4gsylknCA/A"

static void test_hash_and_verify(void **state)
{
	char *hash = NULL;
	const char *error = NULL;
	assert_int_equal(password_hash("correct horse", &hash, &error), 0);
	assert_non_null(hash);
	assert_true(strncmp(hash, "$y$", 3) == 0);
	assert_null(strstr(hash, "correct horse"));
	assert_true(password_verify("correct horse", hash));
	free(hash);
}

static void test_wrong_password(void **state)
{
	char *hash = NULL;
	const char *error = NULL;
	assert_int_equal(password_hash("secret", &hash, &error), 0);
	assert_false(password_verify("Secret", hash));
	assert_false(password_verify("secret ", hash));
	assert_false(password_verify("secre", hash));
	assert_false(password_verify("", hash));
	free(hash);
}

static void test_salted(void **state)
{
	char *h1 = NULL, *h2 = NULL;
	const char *error = NULL;
	assert_int_equal(password_hash("same", &h1, &error), 0);
	assert_int_equal(password_hash("same", &h2, &error), 0);
	assert_string_not_equal(h1, h2);
	assert_true(password_verify("same", h1));
	assert_true(password_verify("same", h2));
	free(h1);
	free(h2);
}

static void test_disabled_hashes(void **state)
{
	char *hash = NULL;
	const char *error = NULL;
	assert_int_equal(password_hash("pw", &hash, &error), 0);
	/* A locked account keeps its hash behind a '!': it must not verify. */
	char *locked = malloc(strlen(hash) + 2);
	assert_non_null(locked);
	locked[0] = '!';
	strcpy(locked + 1, hash);
	assert_false(password_verify("pw", locked));
	assert_false(password_verify("pw", "*"));
	assert_false(password_verify("pw", "!"));
	assert_false(password_verify("pw", "*LK*"));
	assert_false(password_verify("pw", ""));
	assert_false(password_verify("pw", NULL));
	/* Garbage that is not a crypt(3) setting. */
	assert_false(password_verify("pw", "$y$"));
	assert_false(password_verify("pw", "pw"));
	free(locked);
	free(hash);
}

static void test_empty_password(void **state)
{
	char *hash = (char *)"untouched";
	const char *error = NULL;
	assert_int_equal(password_hash("", &hash, &error), -1);
	assert_null(hash);
	assert_non_null(error);
	assert_non_null(strstr(error, "empty"));
	/* Even a real hash of the empty string, made with crypt() and the
	 * same setting password_hash uses, must not let "" in. */
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	assert_non_null(crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)));
	struct crypt_data *data = calloc(1, sizeof(*data));
	assert_non_null(data);
	const char *empty = crypt_rn("", setting, data, sizeof(*data));
	assert_non_null(empty);
	assert_true(strncmp(empty, "$y$", 3) == 0);
	/* crypt() itself accepts it: only password_verify's rule refuses it. */
	struct crypt_data *again = calloc(1, sizeof(*again));
	assert_non_null(again);
	assert_string_equal(crypt_rn("", empty, again, sizeof(*again)), empty);
	assert_false(password_verify("", empty));
	free(again);
	free(data);
}

static void test_known_answer(void **state)
{
	assert_true(password_verify(KAT_PASSWORD, KAT_HASH));
	assert_false(password_verify("Tr0ub4dor&3 cairn", KAT_HASH));
	assert_false(password_verify("Tr0ub4dor&3 Cairn ", KAT_HASH));
	assert_false(password_verify("Tr0ub4dor&3", KAT_HASH));
	/* One character of the hash changed: no longer the same hash. */
	char bad[] = KAT_HASH;
	bad[sizeof(bad) - 2] = bad[sizeof(bad) - 2] == 'A' ? 'B' : 'A';
	assert_false(password_verify(KAT_PASSWORD, bad));
}

static void test_long_password(void **state)
{
	char plain[600];
	memset(plain, 'a', sizeof(plain) - 1);
	plain[sizeof(plain) - 1] = '\0';
	char *hash = NULL;
	const char *error = NULL;
	assert_int_equal(password_hash(plain, &hash, &error), -1);
	assert_null(hash);
	assert_non_null(error);
	/* The longest accepted one round-trips. */
	plain[511] = '\0';
	assert_int_equal(password_hash(plain, &hash, &error), 0);
	assert_true(password_verify(plain, hash));
	plain[510] = '\0';
	assert_false(password_verify(plain, hash));
	free(hash);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_and_verify),
		cmocka_unit_test(test_wrong_password),
		cmocka_unit_test(test_salted),
		cmocka_unit_test(test_disabled_hashes),
		cmocka_unit_test(test_empty_password),
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_long_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
