/* Sieve compiled-script cache and :regex engine (skeleton). */
#include "sieve-exec.h"
#include "util.h"

#include <stdlib.h>

struct sieve_cache { int unused; };

int sieve_regex_check(void *ctx, const char *pattern, bool icase, const char **error_r)
{ (void)ctx; (void)pattern; (void)icase; *error_r = "not built yet"; return -1; }
struct sieve_cache *sieve_cache_new(size_t max_entries, const struct sieve_limits *limits)
{ (void)max_entries; (void)limits; return xcalloc(1, sizeof(struct sieve_cache)); }
void sieve_cache_free(struct sieve_cache **cache) { free(*cache); *cache = NULL; }
int sieve_cache_get(struct sieve_cache *cache, const char *name, const char *source, size_t len,
		    struct sieve_script **script_r, char **error_r)
{ (void)cache; return sieve_compile(source, len, &(struct sieve_compile_params){ .name = name }, script_r, error_r); }
void sieve_cache_stats(struct sieve_cache *cache, size_t *entries_r, uint64_t *hits_r, uint64_t *misses_r)
{ (void)cache; *entries_r = 0; *hits_r = 0; *misses_r = 0; }
