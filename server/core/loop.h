/* The event loop: one epoll instance, fd watches and millisecond timers kept
 * in a binary heap. Single-threaded: everything here runs on the loop thread
 * except loop_wakeup-style helpers built on eventfd elsewhere (worker.c). */
#ifndef CAIRN_LOOP_H
#define CAIRN_LOOP_H

#include "util.h"

#define LOOP_READ  0x1u
#define LOOP_WRITE 0x2u
#define LOOP_ERROR 0x4u	/* hang-up or socket error; always reported */

struct loop;
struct loop_io;

typedef void loop_io_cb(void *ctx, unsigned events);
typedef void loop_timer_cb(void *ctx);

/* A timer lives inside its owner's struct; zero-initialise it before use. */
struct loop_timer {
	uint64_t when;		/* loop_now() deadline */
	uint64_t seq;		/* arming order: ties run in it, and a timer armed
				   while timers run waits for the next iteration */
	size_t heap_idx;	/* 0 = not armed, else 1-based position in the heap */
	loop_timer_cb *cb;
	void *ctx;
};

/* Create a loop; fatal() if epoll cannot be created. */
struct loop *loop_create(void);
/* Free the loop (all ios must be removed first); sets *loop to NULL. */
void loop_destroy(struct loop **loop);

/* Watch fd for events (LOOP_READ/LOOP_WRITE); cb(ctx, events) runs on the
 * loop thread. Returns the watch, which the caller removes with loop_remove. */
struct loop_io *loop_add(struct loop *loop, int fd, unsigned events, loop_io_cb *cb, void *ctx);
/* Change the events watched. */
void loop_modify(struct loop_io *io, unsigned events);
/* Stop watching (does not close the fd) and set *io to NULL. Safe to call
 * from inside any callback, including the io's own. */
void loop_remove(struct loop_io **io);

/* Arm (or re-arm) t to call cb(ctx) after delay_ms. */
void loop_timer_set(struct loop *loop, struct loop_timer *t, uint64_t delay_ms,
		    loop_timer_cb *cb, void *ctx);
/* Disarm t; harmless if not armed. */
void loop_timer_cancel(struct loop *loop, struct loop_timer *t);
static inline bool loop_timer_armed(const struct loop_timer *t) { return t->heap_idx != 0; }

/* Monotonic milliseconds, cached per loop iteration. */
uint64_t loop_now(struct loop *loop);

/* Dispatch events until loop_stop is called. Returns 0. */
int loop_run(struct loop *loop);
/* Make loop_run return after the current iteration. */
void loop_stop(struct loop *loop);

#endif
