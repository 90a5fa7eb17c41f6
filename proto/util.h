/* Small shared helpers for every layer: allocation that aborts on failure,
 * growable byte buffers with a hard maximum, and string helpers.
 * Pure: libc only, no globals but the out-of-memory handler. */
#ifndef CAIRN_UTIL_H
#define CAIRN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#if defined(__GNUC__)
#define ATTR_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ATTR_NORETURN __attribute__((noreturn))
#else
#define ATTR_PRINTF(f, a)
#define ATTR_NORETURN
#endif

/* Allocation failure is fatal: these print a message and abort. */
void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a malloc'ed formatted string. */
char *xasprintf(const char *fmt, ...) ATTR_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) ATTR_PRINTF(1, 0);

/* A growable byte buffer that refuses to grow past max. The data is always
 * NUL-terminated (the NUL is not counted in len) so text can be used as a C
 * string. A buffer with data == NULL owns no memory (idle connections). */
struct buf {
	char *data;
	size_t len;	/* bytes in use, from data[0] */
	size_t cap;	/* allocated bytes (from data - off), including room for the NUL */
	size_t max;	/* hard limit on len; 0 = unlimited */
	size_t off;	/* consumed bytes still before data (lazy buffers only) */
	bool lazy;	/* buf_consume moves data forward instead of the bytes;
			   never hand such a buffer's data to free() or realloc() */
};

/* Initialise an empty buffer with the given maximum (0 = unlimited). */
void buf_init(struct buf *b, size_t max);
/* Free the memory; the buffer stays usable and empty. */
void buf_free(struct buf *b);
/* Make room for n more bytes. Returns 0, or -1 when len + n would pass max. */
int buf_reserve(struct buf *b, size_t n);
/* Append bytes. Returns 0, or -1 (nothing appended) past the maximum. */
int buf_append(struct buf *b, const void *data, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) ATTR_PRINTF(2, 0);
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Empty the buffer, keeping its memory. */
static inline void buf_reset(struct buf *b) { b->len = 0; if (b->data) b->data[0] = '\0'; }
/* Room left before max (SIZE_MAX when unlimited). */
size_t buf_room(const struct buf *b);

/* Case-insensitive ASCII comparisons, independent of the locale. */
int str_casecmp(const char *a, const char *b);
int str_ncasecmp(const char *a, const char *b, size_t n);
bool str_case_eq_n(const char *a, size_t alen, const char *b);
/* Parse a whole decimal string as an unsigned number <= max.
 * Returns 0, or -1 on empty input, junk, or overflow. */
int str_to_u64(const char *s, size_t len, uint64_t max, uint64_t *value_r);
/* Strip leading and trailing ASCII whitespace in place; returns s advanced. */
char *str_trim(char *s);
/* Decode the strict UTF-8 code point at s[*i] (i < len; no overlongs, no
 * surrogates, nothing past U+10FFFF) and advance *i past it. Returns the
 * code point, or -1 with *i unchanged. */
int32_t str_utf8_next(const char *s, size_t len, size_t *i);
/* True if s[0..len) is all strict UTF-8 (NUL bytes allowed). */
bool str_utf8_valid(const char *s, size_t len);
/* The value of hex digit c (either case), or -1. */
int str_hex_digit(char c);

#endif
