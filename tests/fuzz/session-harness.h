/* Shared harness of the session fuzz targets (fuzz-session-*.c): one real
 * gateway session on a socketpair, driven by the real loop (on a virtual
 * clock, fuzz-loop.c), conn and session runtime, with the store, the
 * directory and the worker pool replaced by deterministic doubles
 * (store-double.c, and the same-thread pool here).
 *
 * An input is a 4-byte header and the bytes the client sends:
 *   h[0] bit 0: send the target's login prelude first (post-login states)
 *        bit 1: the client reads nothing until the end (back-pressure)
 *        bit 2: small socket buffers
 *        bits 3-5: how it ends: 0 half-close, 1 close, 2 idle timeout,
 *             3 server shutdown, 4 shutdown(RDWR), 5 half-close + close
 *             at once, 6 close with the output unread, 7 like 0
 *        bit 6: failed logins are answered after a held delay
 *        bit 7: let the clock run to the next timer after every chunk
 *   h[1] bits 0-2: the data is sent in 1-8 chunks
 *        bits 3-4: 0: run to quiescence after each chunk, else only 1-3
 *             loop iterations (so the next chunk or the end meets a job
 *             in flight, a held reply, a pending close)
 *        bit 5: after every chunk, a change by "another session" (new
 *             mail, a flag, an expunge, a mailbox) and its notification
 *        bit 6: store failures (TEMPFAIL) after the first chunk
 *   h[2], h[3]: seed of the chunk split points; h[3] also picks the
 *        target's variant (listener kind) */
#ifndef CAIRN_FUZZ_SESSION_HARNESS_H
#define CAIRN_FUZZ_SESSION_HARNESS_H

#include "util.h"
#include "metrics.h"

#include <stddef.h>
#include <stdint.h>

struct conn;
struct config;
struct loop;
struct worker_pool;
struct store_notify;

/* One way of accepting a connection (MX / submission / LMTP ...). */
struct fuzz_variant {
	const char *name;
	enum metrics_proto metrics;
	void (*accept)(struct conn *c, void *ctx);
	void *ctx;
	const char *login;	/* prelude for h[0] bit 0, or NULL */
};

/* What every target shares, made once per process by fuzz_env_get. */
struct fuzz_env {
	struct config *cfg;
	struct loop *loop;
	struct worker_pool *pool;
	struct store_notify *notify;
};

/* The process-wide environment: config_defaults() with the fuzz tweaks
 * (no TLS, plaintext logins allowed, small limits), a loop, the fake pool. */
struct fuzz_env *fuzz_env_get(void);
/* Run one input against one of the variants (h[3] picks it). Aborts on a
 * hang (no quiescence, a session that never goes away). Returns 0. */
int fuzz_session_run(struct fuzz_env *env, const struct fuzz_variant *variants, size_t count,
		     const uint8_t *data, size_t size);

/* fuzz-loop.c: one non-blocking loop iteration (true if anything ran);
 * move the virtual clock to the next timer if it is at most max_ms away
 * (true if there is one); move the clock; count armed timers. */
bool fuzz_loop_step(struct loop *loop);
bool fuzz_loop_advance(struct loop *loop, uint64_t max_ms);
void fuzz_clock_add(uint64_t ms);
unsigned fuzz_loop_timers(const struct loop *loop);

/* store-double.c: back to the initial mailboxes and accounts; the delay
 * of a failed login's answer; store failure injection; notifications. */
void store_double_reset(void);
/* Free everything the model holds (after an input: LeakSanitizer then sees
 * exactly what the session itself left behind). */
void store_double_clear(void);
void store_double_set_auth_delay(uint64_t ms);
void store_double_set_failing(bool failing);
struct store_notify *store_double_notify(void);
/* Change u's mailboxes behind the session's back, as another session or a
 * delivery would: kind % 4 = new message in INBOX, flag change, expunge of
 * the last message, create or delete a mailbox. */
void store_double_external_change(unsigned kind);
void store_double_notify_fire(struct store_notify *n);
bool store_double_clean(void);

#endif
