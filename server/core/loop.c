/* epoll event loop with a binary-heap timer queue. Removing a watch from
 * inside a callback is safe: removed watches are only marked dead and freed
 * after the current batch of epoll events has been dispatched. */
#include "autoconf.h"
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 256

struct loop_io {
	struct loop *loop;
	int fd;
	unsigned events;
	bool dead;
	loop_io_cb *cb;
	void *ctx;
	struct loop_io *next_dead;
};

struct loop {
	int epfd;
	bool stop;
	uint64_t now;
	struct loop_timer **heap;	/* 1-based; heap[0] unused */
	size_t heap_len, heap_cap;
	uint64_t timer_seq;		/* last seq handed out by loop_timer_set */
	struct loop_io *dead;
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *loop_create(void)
{
	struct loop *loop = xcalloc(1, sizeof(*loop));
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		fatal("loop: epoll_create1: %s", strerror(errno));
	loop->now = monotonic_ms();
	loop->heap_cap = 64;
	loop->heap = xcalloc(loop->heap_cap, sizeof(*loop->heap));
	return loop;
}

static void free_dead(struct loop *loop)
{
	while (loop->dead != NULL) {
		struct loop_io *io = loop->dead;
		loop->dead = io->next_dead;
		free(io);
	}
}

void loop_destroy(struct loop **loopp)
{
	struct loop *loop = *loopp;
	if (loop == NULL)
		return;
	free_dead(loop);
	close(loop->epfd);
	free(loop->heap);
	free(loop);
	*loopp = NULL;
}

static uint32_t to_epoll(unsigned events)
{
	uint32_t ev = 0;
	if (events & LOOP_READ)
		ev |= EPOLLIN | EPOLLRDHUP;
	if (events & LOOP_WRITE)
		ev |= EPOLLOUT;
	return ev;
}

struct loop_io *loop_add(struct loop *loop, int fd, unsigned events, loop_io_cb *cb, void *ctx)
{
	struct loop_io *io = xcalloc(1, sizeof(*io));
	io->loop = loop;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->ctx = ctx;
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = io };
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		panic("loop: epoll_ctl(ADD, fd=%d): %s", fd, strerror(errno));
	return io;
}

void loop_modify(struct loop_io *io, unsigned events)
{
	if (io->events == events)
		return;
	io->events = events;
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = io };
	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		panic("loop: epoll_ctl(MOD, fd=%d): %s", io->fd, strerror(errno));
}

void loop_remove(struct loop_io **iop)
{
	struct loop_io *io = *iop;
	if (io == NULL)
		return;
	*iop = NULL;
	/* The fd may already be closed by its owner; ignore the error then. */
	epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->dead = true;
	io->next_dead = io->loop->dead;
	io->loop->dead = io;
}

/* ---- timers: a binary min-heap keyed on (when, seq) ---- */

static bool earlier(const struct loop_timer *a, const struct loop_timer *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static void heap_set(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_idx = i;
}

static void heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	while (i > 1 && earlier(t, loop->heap[i / 2])) {
		heap_set(loop, i, loop->heap[i / 2]);
		i /= 2;
	}
	heap_set(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	for (;;) {
		size_t c = i * 2;
		if (c > loop->heap_len)
			break;
		if (c + 1 <= loop->heap_len && earlier(loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!earlier(loop->heap[c], t))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, t);
}

void loop_timer_cancel(struct loop *loop, struct loop_timer *t)
{
	size_t i = t->heap_idx;
	if (i == 0)
		return;
	struct loop_timer *last = loop->heap[loop->heap_len--];
	t->heap_idx = 0;
	if (last == t)
		return;
	heap_set(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_idx);
}

void loop_timer_set(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
		    loop_timer_cb *cb, void *ctx)
{
	loop_timer_cancel(loop, t);
	t->when = loop->now + delay_ms;
	t->seq = ++loop->timer_seq;
	t->cb = cb;
	t->ctx = ctx;
	if (loop->heap_len + 1 >= loop->heap_cap) {
		loop->heap_cap *= 2;
		loop->heap = xrealloc(loop->heap, loop->heap_cap * sizeof(*loop->heap));
	}
	loop->heap_len++;
	heap_set(loop, loop->heap_len, t);
	heap_up(loop, loop->heap_len);
}

uint64_t loop_now(struct loop *loop)
{
	return loop->now;
}

/* Run the timers that are due and were armed before this call: one that a
 * callback arms again with no delay (a conn's kick) runs in the next
 * iteration, after epoll, so it cannot starve everything else. */
static void run_timers(struct loop *loop)
{
	uint64_t limit = loop->timer_seq;
	while (loop->heap_len > 0 && loop->heap[1]->when <= loop->now &&
	       loop->heap[1]->seq <= limit) {
		struct loop_timer *t = loop->heap[1];
		loop_timer_cancel(loop, t);
		t->cb(t->ctx);
	}
}

void loop_stop(struct loop *loop)
{
	loop->stop = true;
}

/* One iteration: wait up to timeout_ms (-1: until the next timer) for
 * events, dispatch them, then run the timers that are due. Returns the
 * number of events dispatched. */
static int loop_iterate(struct loop *loop, int timeout_ms)
{
	struct epoll_event events[LOOP_MAX_EVENTS];

	loop->now = monotonic_ms();
	int timeout = timeout_ms;
	if (timeout < 0 && loop->heap_len > 0) {
		uint64_t when = loop->heap[1]->when;
		timeout = when <= loop->now ? 0 :
			  (when - loop->now > 60000 ? 60000 : (int)(when - loop->now));
	}
	int n = epoll_wait(loop->epfd, events, LOOP_MAX_EVENTS, timeout);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		panic("loop: epoll_wait: %s", strerror(errno));
	}
	loop->now = monotonic_ms();
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
	run_timers(loop);
	free_dead(loop);
	return n;
}

int loop_run(struct loop *loop)
{
	loop->stop = false;
	while (!loop->stop)
		loop_iterate(loop, -1);
	return 0;
}
