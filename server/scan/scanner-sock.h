/* Blocking socket I/O with a deadline for the scanner clients (clamd,
 * spamd) on worker threads: connect to a unix path or host:port, send all,
 * receive what is there. Every wait is bounded by deadline_ms
 * (scan_now_ms() clock). */
#ifndef CAIRN_SCANNER_SOCK_H
#define CAIRN_SCANNER_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

#define SCANNER_TIMEOUT (-2)

/* Connect to addr: "/path" or "unix:/path", or "host:port", "[v6]:port",
 * "tcp:host:port". Returns the (non-blocking) fd, -1 with *error_r, or
 * SCANNER_TIMEOUT. */
int scanner_connect(const char *addr, uint64_t deadline_ms, const char **error_r);
/* Send all of data. Returns 0, -1 with *error_r, or SCANNER_TIMEOUT. */
int scanner_send_all(int fd, const void *data, size_t len, uint64_t deadline_ms,
		     const char **error_r);
/* Receive up to len bytes. Returns the count, 0 at end of stream, -1 with
 * *error_r, or SCANNER_TIMEOUT. */
ssize_t scanner_recv(int fd, void *buf, size_t len, uint64_t deadline_ms, const char **error_r);

/* Parse what has come of a reply so far (eof: the scanner closed).
 * Returns 1 done, 0 need more, -1 with *error_r. */
typedef int scanner_parse_fn(const char *data, size_t len, bool eof, void *ctx,
			     const char **error_r);
/* One request/reply round trip: connect to addr, send io's contents, then
 * receive into io (emptied, its max set to reply_max) and call parse after
 * each read until it decides. too_long is the error when the reply passes
 * reply_max. Returns 1 (the parsed reply stays in io, owned by the caller),
 * -1 with *error_r, or SCANNER_TIMEOUT. */
int scanner_exchange(const char *addr, struct buf *io, size_t reply_max, const char *too_long,
		     scanner_parse_fn *parse, void *ctx, uint64_t deadline_ms,
		     const char **error_r);

#endif
