/* Incremental HTTP/1.1 request parser (RFC 9112). The head and all chunked
 * framing go through a byte-wise state machine, body data is copied in bulk;
 * every decision depends only on the bytes seen so far, so feeding one byte
 * at a time gives exactly the result of feeding everything at once. Every
 * copy goes into a struct buf whose maximum follows from struct http_limits. */
#include "autoconf.h"
#include "http_parser.h"

#include <stdlib.h>
#include <string.h>

enum http_state {
	ST_START,		/* before the request-line, skipping empty lines */
	ST_START_CR,
	ST_METHOD,
	ST_TARGET,
	ST_VERSION,
	ST_VERSION_CR,
	ST_FIELD_START,		/* at the start of a field line (or the end) */
	ST_FIELD_NAME,
	ST_FIELD_OWS,		/* after the colon, before the value */
	ST_FIELD_VALUE,
	ST_FIELD_CR,
	ST_END_CR,		/* CR of the empty line ending a section */
	ST_BODY,		/* Content-Length body data */
	ST_CHUNK_SIZE,
	ST_CHUNK_BWS,		/* whitespace between chunk-size and ';' */
	ST_CHUNK_EXT,
	ST_CHUNK_SIZE_CR,
	ST_CHUNK_DATA,
	ST_CHUNK_DATA_CR,
	ST_CHUNK_DATA_LF,
	ST_DONE,
	ST_ERROR,
};

/* Where a header's name and value start in the head buffer; turned into
 * pointers only when the head is complete, as the buffer may move. */
struct field_off {
	size_t name;
	size_t value;
};

struct http_parser {
	struct http_limits limits;
	enum http_state state;
	bool head_complete;
	bool trailers;		/* field states are skipping the trailer section */

	/* method\0target\0path\0[query\0] then name\0value\0 per header */
	struct buf head;
	struct buf fields;	/* struct field_off per header */
	struct http_header *headers;
	size_t headers_cap;
	struct buf body;

	size_t head_bytes;	/* raw head bytes, leading empty lines included */
	size_t meta_bytes;	/* chunk extensions, excess digits, trailers */
	size_t target_off;
	size_t target_len;
	size_t path_off;
	size_t query_off;	/* SIZE_MAX: no query */
	size_t name_off;
	size_t value_off;
	size_t value_end;	/* head.len after the last non-OWS value byte */
	size_t header_count;
	unsigned int version_idx;
	int version_major;
	int version_minor;

	uint64_t remaining;	/* Content-Length or current chunk bytes left */
	uint64_t chunk_size;
	unsigned int chunk_digits;

	int error_status;
	const char *error;
	struct http_request req;
};

/* Every head byte is stored at most once, and the target a second time as
 * path and query; a little slack covers the separating NULs. */
#define HEAD_SLACK 16
/* Bodies larger than this are freed on reset so an idle keep-alive
 * connection does not hold on to its last upload. */
#define BODY_KEEP_MAX 16384

static size_t size_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int fail(struct http_parser *p, int status, const char *error)
{
	p->state = ST_ERROR;
	p->error_status = status;
	p->error = error;
	return -1;
}

static int store(struct http_parser *p, const void *data, size_t n)
{
	/* Cannot happen while head_bytes stays under max_head; kept as a
	 * second wall in case the accounting above is ever wrong. */
	if (buf_append(&p->head, data, n) < 0)
		return fail(p, 431, "request head too large");
	return 0;
}

static int store_byte(struct http_parser *p, unsigned char c)
{
	return store(p, &c, 1);
}

static int store_nul(struct http_parser *p)
{
	return store(p, "", 1);
}

/* Count one byte of chunk framing or trailers against max_head. */
static int meta_byte(struct http_parser *p, int status, const char *error)
{
	if (p->meta_bytes >= p->limits.max_head)
		return fail(p, status, error);
	p->meta_bytes++;
	return 0;
}


static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_scheme_char(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '+' || c == '-' ||
	       c == '.';
}

/* The request-target is complete (RFC 9112 3.2): check its form and store
 * path and query after it. Absolute-form gets the path of its URI, so the
 * session routes it exactly like the equivalent origin-form request. */
static int end_target(struct http_parser *p)
{
	const char *t = p->head.data + p->target_off;
	size_t len = p->target_len;
	size_t path = 0, i, path_len, query = 0, query_len = 0;
	bool has_query = false;
	const char *q;

	if (t[0] == '/') {
		path = 0;
	} else if (len == 1 && t[0] == '*') {
		if (strcmp(p->head.data, "OPTIONS") != 0)
			return fail(p, 400, "asterisk-form request-target without OPTIONS");
		path = 0;
	} else {
		/* absolute-form: scheme "://" authority path-abempty ["?" query];
		 * authority-form (CONNECT) is not served. */
		if (!is_alpha((unsigned char)t[0]))
			return fail(p, 400, "invalid request-target");
		for (i = 1; i < len && is_scheme_char((unsigned char)t[i]); i++)
			;
		if (len - i < 3 || memcmp(t + i, "://", 3) != 0)
			return fail(p, 400, "invalid request-target");
		i += 3;
		if (i == len || t[i] == '/' || t[i] == '?')
			return fail(p, 400, "request-target without authority");
		while (i < len && t[i] != '/' && t[i] != '?')
			i++;
		path = i;
	}
	q = memchr(t + path, '?', len - path);
	path_len = q != NULL ? (size_t)(q - t) - path : len - path;
	if (q != NULL) {
		has_query = true;
		query = path + path_len + 1;
		query_len = len - query;
	}

	/* Reserve first: appending from our own buffer must not move it. */
	if (buf_reserve(&p->head, path_len + query_len + 3) < 0)
		return fail(p, 431, "request head too large");
	path += p->target_off;
	query += p->target_off;
	p->path_off = p->head.len;
	if (path_len == 0)
		buf_append(&p->head, "/", 1);
	else
		buf_append(&p->head, p->head.data + path, path_len);
	buf_append(&p->head, "", 1);
	p->query_off = SIZE_MAX;
	if (has_query) {
		p->query_off = p->head.len;
		buf_append(&p->head, p->head.data + query, query_len);
		buf_append(&p->head, "", 1);
	}
	return 0;
}

static int end_request_line(struct http_parser *p)
{
	if (p->version_major != 1 || p->version_minor > 1)
		return fail(p, 505, "HTTP version not supported");
	p->state = ST_FIELD_START;
	return 0;
}

static int end_field(struct http_parser *p)
{
	struct field_off off;

	p->state = ST_FIELD_START;
	if (p->trailers)
		return 0;
	/* Drop trailing OWS: it was stored, value_end stopped before it. */
	p->head.len = p->value_end;
	if (store_nul(p) < 0)
		return -1;
	off.name = p->name_off;
	off.value = p->value_off;
	if (buf_append(&p->fields, &off, sizeof(off)) < 0)
		return fail(p, 431, "too many header fields");
	p->header_count++;
	return 0;
}

/* Next element of a comma-separated list with OWS trimmed; empty elements
 * are returned too. *pos becomes NULL after the last one. */
static bool list_next(const char **pos, const char **elem_r, size_t *len_r)
{
	const char *s = *pos, *end, *a, *b;

	if (s == NULL)
		return false;
	end = strchr(s, ',');
	*pos = end != NULL ? end + 1 : NULL;
	if (end == NULL)
		end = s + strlen(s);
	for (a = s; a < end && is_ows(*a); a++)
		;
	for (b = end; b > a && is_ows(b[-1]); b--)
		;
	*elem_r = a;
	*len_r = (size_t)(b - a);
	return true;
}

static bool list_has_token(const char *value, const char *token)
{
	const char *pos = value, *e;
	size_t n;

	while (list_next(&pos, &e, &n)) {
		if (str_case_eq_n(e, n, token))
			return true;
	}
	return false;
}

/* Host = uri-host [ ":" port ] (RFC 9110 7.2); empty is allowed. */
static bool host_valid(const char *v)
{
	for (; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;
		if (is_alpha(c) || (c >= '0' && c <= '9'))
			continue;
		if (strchr("-._~!$&'()*+,;=:[]%", c) == NULL)
			return false;
	}
	return true;
}

struct framing {
	bool cl_seen;
	bool cl_huge;		/* digits only, but more than 64 bits */
	uint64_t cl;
	bool te_seen;
	bool te_bad;
	unsigned int codings;
	unsigned int chunked;
	bool last_chunked;
};

/* Content-Length: 1*DIGIT; "42, 42" and repeated fields are accepted only
 * when every value is the same (RFC 9110 8.6). Returns -1 otherwise. */
static int parse_content_length(const char *v, struct framing *f)
{
	const char *pos = v, *e;
	size_t n, i;

	while (list_next(&pos, &e, &n)) {
		uint64_t val = 0;
		bool huge = false;

		if (n == 0)
			return -1;
		for (i = 0; i < n; i++) {
			if (e[i] < '0' || e[i] > '9')
				return -1;
		}
		if (str_to_u64(e, n, UINT64_MAX, &val) < 0)
			huge = true;
		if (f->cl_seen && (huge != f->cl_huge || val != f->cl))
			return -1;
		f->cl_seen = true;
		f->cl_huge = huge;
		f->cl = val;
	}
	return 0;
}

/* Transfer-Encoding: #transfer-coding, possibly over several fields. Only
 * the codings are collected here; end_head decides. */
static void parse_transfer_encoding(const char *v, struct framing *f)
{
	const char *pos = v, *e;
	size_t n, tok, i;

	f->te_seen = true;
	while (list_next(&pos, &e, &n)) {
		bool chunked;

		if (n == 0)
			continue;	/* RFC 9110 5.6.1: ignore empty elements */
		for (tok = 0; tok < n && is_tchar((unsigned char)e[tok]); tok++)
			;
		if (tok == 0) {
			f->te_bad = true;
			continue;
		}
		for (i = tok; i < n && is_ows(e[i]); i++)
			;
		if (i < n && e[i] != ';')
			f->te_bad = true;
		chunked = tok == n && str_case_eq_n(e, n, "chunked");
		f->codings++;
		if (chunked)
			f->chunked++;
		f->last_chunked = chunked;
	}
}

static void finish(struct http_parser *p)
{
	p->req.body = p->body.data != NULL ? p->body.data : "";
	p->req.body_len = p->body.len;
	p->state = ST_DONE;
}

/* The empty line after the header section: build the request and decide on
 * the message framing (RFC 9112 6.3). */
static int end_head(struct http_parser *p)
{
	struct http_request *req = &p->req;
	struct framing f;
	size_t i, n = p->header_count, hosts = 0;
	bool close = false, keep_alive = false, expect = false;

	memset(&f, 0, sizeof(f));
	if (n > p->headers_cap) {
		if (n > SIZE_MAX / sizeof(*p->headers))
			return fail(p, 431, "too many header fields");
		p->headers = xrealloc(p->headers, n * sizeof(*p->headers));
		p->headers_cap = n;
	}
	for (i = 0; i < n; i++) {
		struct field_off off;

		memcpy(&off, p->fields.data + i * sizeof(off), sizeof(off));
		p->headers[i].name = p->head.data + off.name;
		p->headers[i].value = p->head.data + off.value;
	}
	req->method = p->head.data;
	req->target = p->head.data + p->target_off;
	req->path = p->head.data + p->path_off;
	req->query = p->query_off != SIZE_MAX ? p->head.data + p->query_off : NULL;
	req->version_minor = p->version_minor;
	req->headers = p->headers;
	req->header_count = n;
	req->body = "";
	req->body_len = 0;
	p->head_complete = true;

	for (i = 0; i < n; i++) {
		const char *name = p->headers[i].name;
		const char *value = p->headers[i].value;

		if (str_casecmp(name, "Host") == 0) {
			hosts++;
			if (!host_valid(value))
				return fail(p, 400, "invalid Host header");
		} else if (str_casecmp(name, "Content-Length") == 0) {
			if (parse_content_length(value, &f) < 0)
				return fail(p, 400, "invalid Content-Length");
		} else if (str_casecmp(name, "Transfer-Encoding") == 0) {
			parse_transfer_encoding(value, &f);
		} else if (str_casecmp(name, "Connection") == 0) {
			if (list_has_token(value, "close"))
				close = true;
			if (list_has_token(value, "keep-alive"))
				keep_alive = true;
		} else if (str_casecmp(name, "Expect") == 0) {
			if (str_casecmp(value, "100-continue") == 0)
				expect = true;
		}
	}
	if (hosts > 1)
		return fail(p, 400, "more than one Host header");
	if (hosts == 0 && p->version_minor == 1)
		return fail(p, 400, "HTTP/1.1 request without Host");

	req->keep_alive = p->version_minor == 1 ? !close : keep_alive && !close;
	/* RFC 9110 10.1.1: ignore 100-continue in an HTTP/1.0 request. */
	req->expect_continue = expect && p->version_minor == 1;

	if (f.te_seen) {
		/* Anti-smuggling (RFC 9112 6.1, 6.3): never guess the framing. */
		if (f.cl_seen)
			return fail(p, 400, "both Content-Length and Transfer-Encoding");
		if (p->version_minor == 0)
			return fail(p, 400, "Transfer-Encoding in an HTTP/1.0 request");
		if (f.te_bad || f.codings == 0)
			return fail(p, 400, "invalid Transfer-Encoding");
		if (!f.last_chunked)
			return fail(p, 400, "chunked is not the final transfer coding");
		if (f.chunked > 1)
			return fail(p, 400, "chunked applied more than once");
		if (f.codings > 1)
			return fail(p, 501, "unsupported transfer coding");
		p->chunk_size = 0;
		p->chunk_digits = 0;
		p->state = ST_CHUNK_SIZE;
		return 0;
	}
	if (f.cl_seen) {
		if (f.cl_huge || f.cl > p->limits.max_body)
			return fail(p, 413, "request body too large");
		p->remaining = f.cl;
		if (p->remaining > 0) {
			p->state = ST_BODY;
			return 0;
		}
	}
	finish(p);
	return 0;
}

/* One byte of a field value, leading OWS already skipped. */
static int field_value_byte(struct http_parser *p, unsigned char c)
{
	if (c == '\r') {
		p->state = ST_FIELD_CR;
		return 0;
	}
	if (c == '\n') {
		if (p->trailers)
			return fail(p, 400, "bare LF in chunked body");
		return end_field(p);
	}
	/* RFC 9110 5.5: no NUL, CR or LF; no other CTL either */
	if ((c < 0x20 && c != '\t') || c == 0x7f)
		return fail(p, 400, "invalid character in header value");
	if (p->trailers)
		return 0;
	if (store_byte(p, c) < 0)
		return -1;
	if (!is_ows((char)c))
		p->value_end = p->head.len;
	return 0;
}

/* One byte of the head, or of the trailer section. */
static int step_head(struct http_parser *p, unsigned char c)
{
	if (p->trailers) {
		if (meta_byte(p, 431, "trailer section too large") < 0)
			return -1;
	} else {
		if (p->head_bytes >= p->limits.max_head)
			return fail(p, 431, "request head too large");
		p->head_bytes++;
	}

	switch (p->state) {
	case ST_START:
		if (c == '\r') {
			p->state = ST_START_CR;
		} else if (c == '\n') {
			/* RFC 9112 2.2: ignore empty lines before the request */
		} else if (is_tchar(c)) {
			p->state = ST_METHOD;
			return store_byte(p, c);
		} else {
			return fail(p, 400, "invalid method");
		}
		return 0;
	case ST_START_CR:
		if (c != '\n')
			return fail(p, 400, "bare CR");
		p->state = ST_START;
		return 0;
	case ST_METHOD:
		if (is_tchar(c))
			return store_byte(p, c);
		if (c != ' ')
			return fail(p, 400, "invalid method");
		if (store_nul(p) < 0)
			return -1;
		p->target_off = p->head.len;
		p->target_len = 0;
		p->state = ST_TARGET;
		return 0;
	case ST_TARGET:
		if (c == ' ') {
			if (p->target_len == 0)
				return fail(p, 400, "empty request-target");
			if (store_nul(p) < 0 || end_target(p) < 0)
				return -1;
			p->version_idx = 0;
			p->state = ST_VERSION;
			return 0;
		}
		if (c <= 0x20 || c >= 0x7f)
			return fail(p, 400, "invalid character in request-target");
		if (p->target_len >= p->limits.max_target)
			return fail(p, 414, "request-target too long");
		p->target_len++;
		return store_byte(p, c);
	case ST_VERSION:
		/* HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive */
		switch (p->version_idx++) {
		case 0: case 1: case 2: case 3: case 4:
			if (c != (unsigned char)"HTTP/"[p->version_idx - 1])
				return fail(p, 400, "invalid HTTP version");
			return 0;
		case 5:
		case 7:
			if (c < '0' || c > '9')
				return fail(p, 400, "invalid HTTP version");
			if (p->version_idx == 6)
				p->version_major = c - '0';
			else
				p->version_minor = c - '0';
			return 0;
		case 6:
			if (c != '.')
				return fail(p, 400, "invalid HTTP version");
			return 0;
		default:
			if (c == '\r') {
				p->state = ST_VERSION_CR;
				return 0;
			}
			if (c == '\n')
				return end_request_line(p);
			return fail(p, 400, "invalid request-line");
		}
	case ST_VERSION_CR:
		if (c != '\n')
			return fail(p, 400, "bare CR");
		return end_request_line(p);
	case ST_FIELD_START:
		if (c == '\r') {
			p->state = ST_END_CR;
			return 0;
		}
		if (c == '\n') {
			/* RFC 9112 2.2 allows a bare LF in the head; chunked
			 * framing, trailers included, requires CRLF. */
			if (p->trailers)
				return fail(p, 400, "bare LF in chunked body");
			return end_head(p);
		}
		if (c == ' ' || c == '\t')
			return fail(p, 400, "obsolete line folding");
		if (!is_tchar(c))
			return fail(p, 400, "invalid header field name");
		p->state = ST_FIELD_NAME;
		if (p->trailers)
			return 0;
		if (p->header_count >= p->limits.max_headers)
			return fail(p, 431, "too many header fields");
		p->name_off = p->head.len;
		return store_byte(p, c);
	case ST_FIELD_NAME:
		if (is_tchar(c))
			return p->trailers ? 0 : store_byte(p, c);
		if (c == ' ' || c == '\t')
			return fail(p, 400, "whitespace before colon");
		if (c != ':')
			return fail(p, 400, "invalid header field name");
		p->state = ST_FIELD_OWS;
		if (p->trailers)
			return 0;
		if (store_nul(p) < 0)
			return -1;
		p->value_off = p->value_end = p->head.len;
		return 0;
	case ST_FIELD_OWS:
		if (c == ' ' || c == '\t')
			return 0;
		p->state = ST_FIELD_VALUE;
		return field_value_byte(p, c);
	case ST_FIELD_VALUE:
		return field_value_byte(p, c);
	case ST_FIELD_CR:
		if (c != '\n')
			return fail(p, 400, "bare CR");
		return end_field(p);
	case ST_END_CR:
		if (c != '\n')
			return fail(p, 400, "bare CR");
		if (p->trailers) {
			finish(p);
			return 0;
		}
		return end_head(p);
	default:
		return fail(p, 400, "internal parser state");
	}
}

/* One byte of chunked framing (RFC 9112 7.1); the data is copied by feed. */
static int step_chunk(struct http_parser *p, unsigned char c)
{
	int d;

	switch (p->state) {
	case ST_CHUNK_SIZE:
		d = hex_value(c);
		if (d >= 0) {
			/* 16 digits fill 64 bits; any more are leading zeros
			 * and count against the framing budget. */
			if (p->chunk_digits >= 16 &&
			    meta_byte(p, 413, "chunk size line too long") < 0)
				return -1;
			if (p->chunk_size > (UINT64_MAX >> 4))
				return fail(p, 400, "chunk size overflow");
			p->chunk_size = (p->chunk_size << 4) | (uint64_t)d;
			p->chunk_digits++;
			return 0;
		}
		if (p->chunk_digits == 0)
			return fail(p, 400, "invalid chunk size");
		if (c == '\r') {
			p->state = ST_CHUNK_SIZE_CR;
			return 0;
		}
		if (c == ';')
			p->state = ST_CHUNK_EXT;
		else if (c == ' ' || c == '\t')
			p->state = ST_CHUNK_BWS;
		else
			return fail(p, 400, "invalid chunk size");
		return meta_byte(p, 413, "chunk extensions too long");
	case ST_CHUNK_BWS:
		if (meta_byte(p, 413, "chunk extensions too long") < 0)
			return -1;
		if (c == ';')
			p->state = ST_CHUNK_EXT;
		else if (c != ' ' && c != '\t')
			return fail(p, 400, "invalid chunk extension");
		return 0;
	case ST_CHUNK_EXT:
		/* extensions are ignored, but bounded and free of CTLs */
		if (c == '\r') {
			p->state = ST_CHUNK_SIZE_CR;
			return 0;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return fail(p, 400, "invalid chunk extension");
		return meta_byte(p, 413, "chunk extensions too long");
	case ST_CHUNK_SIZE_CR:
		if (c != '\n')
			return fail(p, 400, "bare CR in chunked body");
		if (p->chunk_size == 0) {
			p->trailers = true;
			p->state = ST_FIELD_START;
			return 0;
		}
		if (p->chunk_size > p->limits.max_body - p->body.len)
			return fail(p, 413, "request body too large");
		p->remaining = p->chunk_size;
		p->state = ST_CHUNK_DATA;
		return 0;
	case ST_CHUNK_DATA_CR:
		if (c != '\r')
			return fail(p, 400, "missing CRLF after chunk data");
		p->state = ST_CHUNK_DATA_LF;
		return 0;
	case ST_CHUNK_DATA_LF:
		if (c != '\n')
			return fail(p, 400, "missing CRLF after chunk data");
		p->chunk_size = 0;
		p->chunk_digits = 0;
		p->state = ST_CHUNK_SIZE;
		return 0;
	default:
		return fail(p, 400, "internal parser state");
	}
}

struct http_parser *http_parser_create(const struct http_limits *limits)
{
	struct http_parser *p = xcalloc(1, sizeof(*p));
	size_t fields_max;

	p->limits = *limits;
	buf_init(&p->head, size_add(size_add(limits->max_head,
		limits->max_target < limits->max_head ? limits->max_target :
		limits->max_head), HEAD_SLACK));
	/* buf max 0 would mean unlimited: keep at least one entry's room,
	 * header_count guards the real limit */
	fields_max = limits->max_headers > SIZE_MAX / sizeof(struct field_off) ?
		SIZE_MAX : limits->max_headers * sizeof(struct field_off);
	buf_init(&p->fields, fields_max != 0 ? fields_max : sizeof(struct field_off));
	buf_init(&p->body, limits->max_body != 0 ? limits->max_body : 1);
	http_parser_reset(p);
	return p;
}

void http_parser_destroy(struct http_parser **pp)
{
	struct http_parser *p = *pp;

	if (p == NULL)
		return;
	buf_free(&p->head);
	buf_free(&p->fields);
	buf_free(&p->body);
	free(p->headers);
	free(p);
	*pp = NULL;
}

void http_parser_reset(struct http_parser *p)
{
	buf_reset(&p->head);
	buf_reset(&p->fields);
	if (p->body.cap > BODY_KEEP_MAX)
		buf_free(&p->body);
	else
		buf_reset(&p->body);
	p->state = ST_START;
	p->head_complete = false;
	p->trailers = false;
	p->head_bytes = 0;
	p->meta_bytes = 0;
	p->target_off = p->target_len = 0;
	p->path_off = 0;
	p->query_off = SIZE_MAX;
	p->name_off = p->value_off = p->value_end = 0;
	p->header_count = 0;
	p->version_idx = 0;
	p->version_major = p->version_minor = 0;
	p->remaining = 0;
	p->chunk_size = 0;
	p->chunk_digits = 0;
	p->error_status = 0;
	p->error = NULL;
	memset(&p->req, 0, sizeof(p->req));
	p->req.body = "";
}

int http_parser_feed(struct http_parser *p, const char *data, size_t len,
		     size_t *consumed_r)
{
	size_t i = 0;

	while (i < len && p->state != ST_DONE && p->state != ST_ERROR) {
		unsigned char c;

		if (p->state == ST_BODY || p->state == ST_CHUNK_DATA) {
			size_t n = len - i;

			if (n > p->remaining)
				n = (size_t)p->remaining;
			/* the size was checked against max_body before */
			if (buf_append(&p->body, data + i, n) < 0) {
				fail(p, 413, "request body too large");
				break;
			}
			i += n;
			p->remaining -= n;
			if (p->remaining == 0) {
				if (p->state == ST_BODY)
					finish(p);
				else
					p->state = ST_CHUNK_DATA_CR;
			}
			continue;
		}
		c = (unsigned char)data[i++];
		if (p->state >= ST_CHUNK_SIZE && p->state <= ST_CHUNK_DATA_LF)
			step_chunk(p, c);
		else
			step_head(p, c);
	}
	*consumed_r = i;
	if (p->state == ST_DONE)
		return 1;
	if (p->state == ST_ERROR)
		return -1;
	return 0;
}

bool http_parser_head_done(const struct http_parser *p)
{
	return p->head_complete && p->state != ST_DONE && p->state != ST_ERROR;
}

const struct http_request *http_parser_request(const struct http_parser *p)
{
	return &p->req;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->header_count; i++) {
		if (str_casecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}

int http_parser_error_status(const struct http_parser *p)
{
	return p->error_status;
}

const char *http_parser_error(const struct http_parser *p)
{
	return p->error != NULL ? p->error : "no error";
}
