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
	/* Even a hash of the empty string made elsewhere must not let "" in. */
	assert_false(password_verify("", "$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012"));
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
		cmocka_unit_test(test_long_password),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
