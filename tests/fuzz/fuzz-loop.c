/* The real event loop (server/core/loop.c) on a virtual clock, for the
 * session fuzz targets: the harness steps it one iteration at a time
 * without ever blocking, and when nothing is left to do it moves the clock
 * to the next timer, so auth delays, idle, line and body timeouts fire at
 * once instead of after real seconds. Only the clock is replaced: the
 * epoll dispatch and the timer heap are loop.c's own code. */
#include <stdint.h>
#include <time.h>

static uint64_t fuzz_clock_ms = 1000000;

static int fuzz_clock_gettime(clockid_t id, struct timespec *ts)
{
	(void)id;
	ts->tv_sec = (time_t)(fuzz_clock_ms / 1000);
	ts->tv_nsec = (long)(fuzz_clock_ms % 1000) * 1000000L;
	return 0;
}

#define clock_gettime(id, ts) fuzz_clock_gettime(id, ts)
#include "../../server/core/loop.c"
#undef clock_gettime

#include "session-harness.h"

bool fuzz_loop_step(struct loop *loop)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	loop->now = monotonic_ms();
	int n = epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, 0);
	if (n < 0) {
		if (errno == EINTR)
			return true;
		panic("fuzz loop: epoll_wait: %s", strerror(errno));
	}
	for (int i = 0; i < n; i++) {
		struct loop_io *io = events[i].data.ptr;
		if (io->dead)
			continue;
		unsigned ev = 0;
		if (events[i].events & (EPOLLIN | EPOLLRDHUP))
			ev |= LOOP_READ;
		if (events[i].events & EPOLLOUT)
			ev |= LOOP_WRITE;
		if (events[i].events & (EPOLLERR | EPOLLHUP))
			ev |= LOOP_ERROR;
		io->cb(io->ctx, ev);
	}
	free_dead(loop);
	bool fired = loop->heap_len > 0 && loop->heap[1]->when <= loop->now;
	run_timers(loop);
	free_dead(loop);
	return n > 0 || fired;
}

bool fuzz_loop_advance(struct loop *loop, uint64_t max_ms)
{
	if (loop->heap_len == 0)
		return false;
	uint64_t when = loop->heap[1]->when;
	if (when > fuzz_clock_ms + max_ms)
		return false;
	if (when > fuzz_clock_ms)
		fuzz_clock_ms = when;
	return true;
}

void fuzz_clock_add(uint64_t ms)
{
	fuzz_clock_ms += ms;
}

unsigned fuzz_loop_timers(const struct loop *loop)
{
	return (unsigned)loop->heap_len;
}
