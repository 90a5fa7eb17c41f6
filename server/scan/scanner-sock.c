/* Deadline-bounded socket I/O for the scanner clients. The sockets are
 * non-blocking and every wait is a poll() with the time left, so a scanner
 * that accepts and then never answers costs at most the module's budget. */
#include "scanner-sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "scan.h"

static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t left = scan_remaining_ms(deadline_ms);
		if (left == 0)
			return SCANNER_TIMEOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

static int connect_addr(const struct sockaddr *sa, socklen_t len, uint64_t deadline_ms,
			const char **error_r)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = "socket() failed";
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*error_r = errno == ENOENT ? "no such socket" :
			   errno == ECONNREFUSED ? "connection refused" : "connect failed";
		close(fd);
		return -1;
	}
	int w = wait_fd(fd, POLLOUT, deadline_ms);
	if (w == SCANNER_TIMEOUT) {
		*error_r = "connect timed out";
		close(fd);
		return SCANNER_TIMEOUT;
	}
	int err = 0;
	socklen_t el = sizeof(err);
	if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err != 0) {
		*error_r = err == ECONNREFUSED ? "connection refused" : "connect failed";
		close(fd);
		return -1;
	}
	return fd;
}

int scanner_connect(const char *addr, uint64_t deadline_ms, const char **error_r)
{
	if (strncmp(addr, "unix:", 5) == 0)
		addr += 5;
	if (addr[0] == '/') {
		struct sockaddr_un un;
		memset(&un, 0, sizeof(un));
		un.sun_family = AF_UNIX;
		if (strlen(addr) >= sizeof(un.sun_path)) {
			*error_r = "socket path too long";
			return -1;
		}
		strcpy(un.sun_path, addr);
		return connect_addr((struct sockaddr *)&un, sizeof(un), deadline_ms, error_r);
	}
	if (strncmp(addr, "tcp:", 4) == 0)
		addr += 4;
	char host[256];
	const char *port;
	if (addr[0] == '[') {
		const char *close_b = strchr(addr, ']');
		if (close_b == NULL || close_b[1] != ':' || (size_t)(close_b - addr - 1) >= sizeof(host)) {
			*error_r = "bad address (want [v6]:port)";
			return -1;
		}
		memcpy(host, addr + 1, (size_t)(close_b - addr - 1));
		host[close_b - addr - 1] = '\0';
		port = close_b + 2;
	} else {
		const char *colon = strrchr(addr, ':');
		if (colon == NULL || (size_t)(colon - addr) >= sizeof(host)) {
			*error_r = "bad address (want host:port or a socket path)";
			return -1;
		}
		memcpy(host, addr, (size_t)(colon - addr));
		host[colon - addr] = '\0';
		port = colon + 1;
	}
	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0 || res == NULL) {
		*error_r = "cannot resolve the scanner's address";
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		fd = connect_addr(ai->ai_addr, ai->ai_addrlen, deadline_ms, error_r);
		if (fd >= 0 || fd == SCANNER_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	return fd;
}

int scanner_send_all(int fd, const void *data, size_t len, uint64_t deadline_ms,
		     const char **error_r)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int w = wait_fd(fd, POLLOUT, deadline_ms);
			if (w == SCANNER_TIMEOUT) {
				*error_r = "send timed out";
				return SCANNER_TIMEOUT;
			}
			if (w < 0) {
				*error_r = "poll failed";
				return -1;
			}
			continue;
		}
		*error_r = "send failed (the scanner closed the connection)";
		return -1;
	}
	return 0;
}

ssize_t scanner_recv(int fd, void *buf, size_t len, uint64_t deadline_ms, const char **error_r)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			*error_r = errno == ECONNRESET ? "connection reset by the scanner" : "recv failed";
			return -1;
		}
		int w = wait_fd(fd, POLLIN, deadline_ms);
		if (w == SCANNER_TIMEOUT) {
			*error_r = "the scanner did not answer in time";
			return SCANNER_TIMEOUT;
		}
		if (w < 0) {
			*error_r = "poll failed";
			return -1;
		}
	}
}

int scanner_exchange(const char *addr, struct buf *io, size_t reply_max, const char *too_long,
		     scanner_parse_fn *parse, void *ctx, uint64_t deadline_ms,
		     const char **error_r)
{
	int fd = scanner_connect(addr, deadline_ms, error_r);
	if (fd < 0)
		return fd;
	int sent = scanner_send_all(fd, io->data, io->len, deadline_ms, error_r);
	buf_reset(io);
	io->max = reply_max;
	int ret = sent;
	if (sent == 0) {
		char chunk[8192];
		for (;;) {
			ssize_t n = scanner_recv(fd, chunk, sizeof(chunk), deadline_ms, error_r);
			if (n < 0) {
				ret = (int)n;
				break;
			}
			if (n > 0 && buf_append(io, chunk, (size_t)n) < 0) {
				*error_r = too_long;
				ret = -1;
				break;
			}
			ret = parse(io->data ? io->data : "", io->len, n == 0, ctx, error_r);
			if (ret != 0)
				break;
		}
	}
	close(fd);
	return ret;
}
