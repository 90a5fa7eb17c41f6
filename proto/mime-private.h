/* Internals shared by the files of the MIME module: the arena that holds a
 * parsed message, the private message struct, the RFC 822 lexer helpers and
 * the small decoders the renderers reuse. Not for use outside proto/mime*. */
#ifndef CAIRN_MIME_PRIVATE_H
#define CAIRN_MIME_PRIVATE_H

#include "mime.h"

#define MIME_DEFAULT_MAX_DEPTH 32
#define MIME_DEFAULT_MAX_PARTS 10000
/* Recursion is bounded by max_depth; this caps what a caller may ask for. */
#define MIME_HARD_MAX_DEPTH 256
/* Parameters kept per Content-Type/Disposition field (the rest is ignored). */
#define MIME_MAX_PARAMS 128
/* Boundaries longer than this (RFC 2046 allows 70) are not searched for. */
#define MIME_MAX_BOUNDARY 256

/* A chunk of arena memory; allocations are carved from the tail chunk. */
struct mime_chunk {
	struct mime_chunk *next;
	size_t used, size;
	max_align_t data[];
};

struct mime_arena {
	struct mime_chunk *chunks;
};

/* The allocation behind a struct mime_message (pub comes first). */
struct mime_message_priv {
	struct mime_message pub;
	struct mime_arena arena;
	struct mime_limits limits;
	size_t part_count;
};

/* Zeroed, aligned memory that lives until the arena is freed. */
void *mime_arena_alloc(struct mime_arena *a, size_t size);
/* A NUL-terminated copy of s[0..len) in the arena. */
char *mime_arena_strndup(struct mime_arena *a, const char *s, size_t len);
/* Free every chunk of the arena. */
void mime_arena_free(struct mime_arena *a);

/* The raw value of field h (after the colon), unfolded (CR/LF of folds
 * removed), leading and trailing whitespace trimmed, appended to out. */
void mime_field_value(const char *raw, const struct mime_header *h, struct buf *out);
/* The first header field of part called name (case-insensitive), or NULL. */
const struct mime_header *mime_find_header(const struct mime_part *part, const char *name);

/* RFC 822 lexer over [*pp, end): skip whitespace and (nested) comments.
 * When comment is not NULL, the text of the last comment replaces it. */
void mime_skip_cfws(const char **pp, const char *end, struct buf *comment);
/* Append a quoted-string's content (unescaped) and advance past it; *pp must
 * be at the opening quote. An unclosed string runs to end. */
void mime_read_quoted(const char **pp, const char *end, struct buf *out);

/* Append src with every invalid UTF-8 sequence replaced by U+FFFD and NUL
 * bytes dropped. */
void mime_append_utf8_sanitized(struct buf *out, const char *src, size_t len);
/* Decode the body of part from its transfer encoding into out. Returns 0, or
 * -2 for an unknown encoding (the raw bytes are then appended). */
int mime_decode_part_body(const struct mime_part *part, struct buf *out);
/* The value of parameter name in params, or NULL. */
const char *mime_param_get(const struct mime_param *params, size_t count, const char *name);

#endif
