/* Password hashing for the sql directory backend and cairnctl: new hashes are
 * yescrypt ("$y$...") via libxcrypt; verification accepts any crypt(3) hash
 * libxcrypt knows, and refuses locked ("!...") or disabled ("*...") entries.
 * Thread-safe: no static buffers. */
#ifndef CAIRN_PASSWORD_H
#define CAIRN_PASSWORD_H

#include "util.h"

/* Hash plain with yescrypt and a fresh random salt. Returns 0 and a malloc'ed
 * hash in *hash_r, or -1 with *error_r set (empty or over-long password). */
int password_hash(const char *plain, char **hash_r, const char **error_r);
/* True only when plain matches hash; false for an empty password and for
 * empty, "*" or "!" (locked/disabled) hashes. Compares in constant time. */
bool password_verify(const char *plain, const char *hash);

#endif
