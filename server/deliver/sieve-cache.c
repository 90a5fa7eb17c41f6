/* The :regex match type (PCRE2, with match and depth limits so that a
 * pathological pattern is bounded) and the thread-safe, bounded LRU cache of
 * compiled scripts keyed by the SHA-256 of their name and source. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "sieve-exec.h"
#include "sieve-private.h"
#include "util.h"

#include <openssl/evp.h>
#include <pcre2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- regex ---- */

struct rx_entry {
	char *pattern;
	bool icase;
	pcre2_code *code;	/* NULL: invalid */
};

struct sieve_regex_cache {
	struct rx_entry *v;
	size_t n;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
};

static pcre2_code *rx_compile(const char *pattern, bool icase, char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE eo;
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOTALL;
	if (icase)
		opts |= PCRE2_CASELESS;
	pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
	pcre2_set_max_pattern_length(cc, 64 * 1024);
	pcre2_set_parens_nest_limit(cc, 64);
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, cc);
	pcre2_compile_context_free(cc);
	if (!code && err) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)eo);
	}
	return code;
}

int sieve_regex_check(void *ctx, const char *pattern, bool icase, const char **error_r)
{
	static __thread char err[200];
	(void)ctx;
	pcre2_code *code = rx_compile(pattern, icase, err, sizeof(err));
	if (!code) {
		*error_r = err;
		return -1;
	}
	pcre2_code_free(code);
	return 0;
}

int sieve_regex_match(struct sieve_regex_cache **cachep, const char *pattern, bool icase,
		      const char *value, size_t vlen, struct sieve_captures *caps,
		      const struct sieve_limits *limits)
{
	struct sieve_regex_cache *c = *cachep;
	if (!c) {
		c = *cachep = xcalloc(1, sizeof(*c));
		c->md = pcre2_match_data_create(32, NULL);
		c->mctx = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(c->mctx, limits->regex_match_limit);
		pcre2_set_depth_limit(c->mctx, limits->regex_depth_limit);
		pcre2_set_heap_limit(c->mctx, 20 * 1024);	/* KiB */
	}
	struct rx_entry *e = NULL;
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].icase == icase && strcmp(c->v[i].pattern, pattern) == 0)
			e = &c->v[i];
	if (!e) {
		if (c->n >= 256)
			return 3;	/* too many distinct patterns in one run */
		c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
		e = &c->v[c->n++];
		e->pattern = xstrdup(pattern);
		e->icase = icase;
		e->code = rx_compile(pattern, icase, NULL, 0);
	}
	if (!e->code)
		return -1;
	int rc = pcre2_match(e->code, (PCRE2_SPTR)value, vlen, 0, 0, c->md, c->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return 2;
	if (rc < 0)
		return 0;
	if (caps) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(c->md);
		uint32_t pairs = pcre2_get_ovector_count(c->md);
		uint32_t groups = 0;
		pcre2_pattern_info(e->code, PCRE2_INFO_CAPTURECOUNT, &groups);
		size_t n = (size_t)groups + 1;
		sieve_captures_reset(caps, n);
		for (size_t i = 0; i < caps->n; i++) {
			buf_reset(&caps->v[i]);
			if (i < pairs && (int)i < rc && ov[2 * i] != PCRE2_UNSET && ov[2 * i + 1] >= ov[2 * i])
				buf_append(&caps->v[i], value + ov[2 * i], ov[2 * i + 1] - ov[2 * i]);
		}
	}
	return 1;
}

void sieve_regex_cache_free(struct sieve_regex_cache **cachep)
{
	struct sieve_regex_cache *c = *cachep;
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].pattern);
		pcre2_code_free(c->v[i].code);
	}
	free(c->v);
	pcre2_match_data_free(c->md);
	pcre2_match_context_free(c->mctx);
	free(c);
	*cachep = NULL;
}

/* ---- compiled-script cache ---- */

struct cache_entry {
	unsigned char key[32];
	struct sieve_script *script;
	struct cache_entry *prev, *next;	/* LRU list, most recent first */
};

struct sieve_cache {
	pthread_mutex_t lock;
	struct sieve_limits limits;
	size_t max, count;
	struct cache_entry *head, *tail;
	uint64_t hits, misses;
};

struct sieve_cache *sieve_cache_new(size_t max_entries, const struct sieve_limits *limits)
{
	struct sieve_cache *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	if (limits)
		c->limits = *limits;
	sieve_limits_fill(&c->limits);
	c->max = max_entries ? max_entries : 256;
	return c;
}

static void unlink_entry(struct sieve_cache *c, struct cache_entry *e)
{
	if (e->prev) e->prev->next = e->next; else c->head = e->next;
	if (e->next) e->next->prev = e->prev; else c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void push_front(struct sieve_cache *c, struct cache_entry *e)
{
	e->prev = NULL;
	e->next = c->head;
	if (c->head) c->head->prev = e; else c->tail = e;
	c->head = e;
}

void sieve_cache_free(struct sieve_cache **cachep)
{
	struct sieve_cache *c = *cachep;
	if (!c)
		return;
	while (c->head) {
		struct cache_entry *e = c->head;
		unlink_entry(c, e);
		sieve_script_unref(&e->script);
		free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c);
	*cachep = NULL;
}

static void cache_key(const char *name, const char *source, size_t len, unsigned char key[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int n = 0;
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, name ? name : "", name ? strlen(name) + 1 : 1);
	EVP_DigestUpdate(ctx, source, len);
	EVP_DigestFinal_ex(ctx, key, &n);
	EVP_MD_CTX_free(ctx);
}

static struct cache_entry *cache_find(struct sieve_cache *c, const unsigned char key[32])
{
	for (struct cache_entry *e = c->head; e; e = e->next)
		if (memcmp(e->key, key, 32) == 0)
			return e;
	return NULL;
}

int sieve_cache_get(struct sieve_cache *c, const char *name, const char *source, size_t len,
		    struct sieve_script **script_r, char **error_r)
{
	unsigned char key[32];
	*error_r = NULL;
	cache_key(name, source, len, key);
	pthread_mutex_lock(&c->lock);
	struct cache_entry *e = cache_find(c, key);
	if (e) {
		unlink_entry(c, e);
		push_front(c, e);
		*script_r = sieve_script_ref(e->script);
		c->hits++;
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	c->misses++;
	pthread_mutex_unlock(&c->lock);

	struct sieve_compile_params p = { .limits = &c->limits, .name = name,
					  .regex_check = sieve_regex_check };
	struct sieve_script *s;
	if (sieve_compile(source, len, &p, &s, error_r) < 0)
		return -1;

	pthread_mutex_lock(&c->lock);
	e = cache_find(c, key);
	if (e) {
		/* another thread compiled it meanwhile */
		sieve_script_unref(&s);
		*script_r = sieve_script_ref(e->script);
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	e = xcalloc(1, sizeof(*e));
	memcpy(e->key, key, 32);
	e->script = s;
	push_front(c, e);
	c->count++;
	while (c->count > c->max) {
		struct cache_entry *old = c->tail;
		unlink_entry(c, old);
		sieve_script_unref(&old->script);
		free(old);
		c->count--;
	}
	*script_r = sieve_script_ref(s);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void sieve_cache_stats(struct sieve_cache *c, size_t *entries_r, uint64_t *hits_r, uint64_t *misses_r)
{
	pthread_mutex_lock(&c->lock);
	*entries_r = c->count;
	*hits_r = c->hits;
	*misses_r = c->misses;
	pthread_mutex_unlock(&c->lock);
}
