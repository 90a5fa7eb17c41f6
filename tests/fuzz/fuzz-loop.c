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
	/* On the virtual clock "now" only moves when the harness moves it. */
	loop->now = monotonic_ms();
	bool due = loop->heap_len > 0 && loop->heap[1]->when <= loop->now;
	int n = loop_iterate(loop, 0);
	return n > 0 || due;
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
