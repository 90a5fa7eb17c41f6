/* DKIM signing keys in PostgreSQL (table dkim_keys), shared by every node:
 * cairnctl dkim manages them, the queue runner reads the active ones. */
#ifndef CAIRN_STORE_DKIM_H
#define CAIRN_STORE_DKIM_H

#include <stdbool.h>
#include <stddef.h>

struct store;

/* One key row. All strings malloc'ed; free with store_dkim_keys_free. */
struct store_dkim_key {
	char *domain;
	char *selector;
	char *algorithm;	/* "rsa-sha256" | "ed25519-sha256" */
	char *private_pem;
	char *created;
	bool active;
};

/* the active keys of domain (a domain may sign with both rsa and ed25519); caller frees with store_dkim_keys_free */
int store_dkim_keys_get(struct store *st, const char *domain, struct store_dkim_key **keys_r, size_t *count_r, char *error, size_t errlen);
void store_dkim_keys_free(struct store_dkim_key *keys, size_t count);
/* Free the strings of one key (the private key is wiped first). */
void store_dkim_key_clear(struct store_dkim_key *k);

/* Every function returns a store_result (STORE_OK = 0) and fills error
 * (naming the domain and selector) otherwise. Domains and selectors are
 * compared lower-cased. */

/* Store a new key. STORE_EXISTS when domain+selector is taken. */
int store_dkim_key_add(struct store *st, const char *domain, const char *selector, const char *algorithm, const char *private_pem, bool active, char *error, size_t errlen);
/* Every key (active or not) of domain, or of every domain when domain is NULL,
 * ordered by domain and selector. */
int store_dkim_keys_list(struct store *st, const char *domain, struct store_dkim_key **keys_r, size_t *count_r, char *error, size_t errlen);
/* One key by domain and selector into *key_r (free its strings with
 * store_dkim_key_clear). STORE_NOTFOUND if there is none. */
int store_dkim_key_find(struct store *st, const char *domain, const char *selector, struct store_dkim_key *key_r, char *error, size_t errlen);
/* Switch a key on or off (rotation). STORE_NOTFOUND if there is none. */
int store_dkim_key_set_active(struct store *st, const char *domain, const char *selector, bool active, char *error, size_t errlen);
/* Delete a key. STORE_NOTFOUND if there was none. */
int store_dkim_key_delete(struct store *st, const char *domain, const char *selector, char *error, size_t errlen);

#endif
