/* Allocation wrappers, struct buf and locale-free string helpers, used by
 * every layer of Cairn. Out of memory is not an error anyone can handle, so
 * the x* functions abort with a message instead of returning NULL. */
#include "autoconf.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ATTR_NORETURN oom(size_t size)
{
	fprintf(stderr, "cairn: out of memory allocating %zu bytes\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		oom(size);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		oom(n * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);
	if (p == NULL)
		oom(size);
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	/* strndup semantics: n is a limit, the string may end sooner. */
	n = strnlen(s, n);
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom(0);
	char *p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->off = 0;
	b->lazy = false;
}

void buf_free(struct buf *b)
{
	if (b->data != NULL)
		free(b->data - b->off);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->off = 0;
}

size_t buf_room(const struct buf *b)
{
	if (b->max == 0)
		return SIZE_MAX;
	return b->max > b->len ? b->max - b->len : 0;
}

int buf_reserve(struct buf *b, size_t n)
{
	/* The second test keeps len + n + 1 from wrapping when unlimited. */
	if (n > buf_room(b) || n > SIZE_MAX - 1 - b->len)
		return -1;
	size_t need = b->len + n + 1;
	if (need <= b->cap - b->off)
		return 0;
	if (b->off > 0) {
		/* A lazy buffer: move what is left to the front first. */
		memmove(b->data - b->off, b->data, b->len + 1);
		b->data -= b->off;
		b->off = 0;
		if (need <= b->cap)
			return 0;
	}
	size_t cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (b->max != 0 && b->max < SIZE_MAX && cap > b->max + 1)
		cap = b->max + 1;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
	/* The data is a C string even before anything is appended. */
	b->data[b->len] = '\0';
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int ret = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return ret;
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	if (b->lazy) {
		/* O(1): a pipelined input consumed one command at a time
		 * would otherwise move the rest of the buffer every time. */
		b->data += n;
		b->off += n;
		b->len -= n;
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

static inline int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int str_casecmp(const char *a, const char *b)
{
	while (*a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return lower((unsigned char)*a) - lower((unsigned char)*b);
}

int str_ncasecmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int d = lower((unsigned char)a[i]) - lower((unsigned char)b[i]);
		if (d != 0 || a[i] == '\0')
			return d;
	}
	return 0;
}

bool str_case_eq_n(const char *a, size_t alen, const char *b)
{
	return strlen(b) == alen && str_ncasecmp(a, b, alen) == 0;
}

int str_to_u64(const char *s, size_t len, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;
	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (d > max || v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*value_r = v;
	return 0;
}

/* ASCII whitespace as isspace() has it in the C locale, \v and \f too. */
static inline bool is_ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

char *str_trim(char *s)
{
	while (is_ascii_space(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_ascii_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

int32_t str_utf8_next(const char *s, size_t len, size_t *i)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char c = u[*i];
	uint32_t cp;
	size_t n, k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 1;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 2;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 3;
		cp = c & 0x07;
	} else {
		return -1;
	}
	if (len - *i - 1 < n)
		return -1;
	for (k = 1; k <= n; k++) {
		if ((u[*i + k] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (u[*i + k] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += n + 1;
	return (int32_t)cp;
}

bool str_utf8_valid(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len)
		if (str_utf8_next(s, len, &i) < 0)
			return false;
	return true;
}

int str_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}
