/* Blocking socket I/O with a deadline for the scanner clients (clamd,
 * spamd) on worker threads: connect to a unix path or host:port, send all,
 * receive what is there. Every wait is bounded by deadline_ms
 * (scan_now_ms() clock). */
#ifndef CAIRN_SCANNER_SOCK_H
#define CAIRN_SCANNER_SOCK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

#endif
