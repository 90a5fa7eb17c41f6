/* Internals shared by sieve-exec.c and sieve-cache.c: the :regex engine. */
#ifndef CAIRN_SIEVE_PRIVATE_H
#define CAIRN_SIEVE_PRIVATE_H

#include "sieve-ast.h"

struct sieve_regex_cache;

/* Match value against pattern (compiled once per run and cached in *cache).
 * caps, when non-NULL, receives ${0} (the match) and the groups. Returns 1
 * match, 0 no match, 2 the match limit was hit, -1 invalid pattern. */
int sieve_regex_match(struct sieve_regex_cache **cache, const char *pattern, bool icase,
		      const char *value, size_t vlen, struct sieve_captures *caps,
		      const struct sieve_limits *limits);
void sieve_regex_cache_free(struct sieve_regex_cache **cache);

#endif
