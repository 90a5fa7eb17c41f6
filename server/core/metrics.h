/* Process-wide counters and gauges, updated with relaxed atomics from any
 * thread and rendered in Prometheus text format for GET /metrics. */
#ifndef CAIRN_METRICS_H
#define CAIRN_METRICS_H

#include "util.h"
#include <stdatomic.h>

enum metrics_proto {
	METRICS_HTTP,
	METRICS_SMTP,
	METRICS_SUBMISSION,
	METRICS_IMAP,
	METRICS_POP3,
	METRICS_PROTO_COUNT
};

struct metrics {
	atomic_uint_fast64_t conn_current[METRICS_PROTO_COUNT];
	atomic_uint_fast64_t conn_total[METRICS_PROTO_COUNT];
	atomic_uint_fast64_t conn_refused;	/* over a connection limit */
	atomic_uint_fast64_t tls_handshake_failures;
	atomic_uint_fast64_t output_pending;	/* bytes queued for clients, all conns */
	atomic_uint_fast64_t timeouts;		/* idle, line, body and TLS handshake timeouts */
	atomic_uint_fast64_t jobs_queued;	/* waiting for a worker */
	atomic_uint_fast64_t jobs_running;
	atomic_uint_fast64_t jobs_total;
	atomic_uint_fast64_t workers;		/* pool size = store connections wanted */
	atomic_uint_fast64_t store_connected;	/* workers holding a live connection */
	atomic_uint_fast64_t store_errors;	/* calls that failed TEMPFAIL/ERROR */
	atomic_uint_fast64_t messages_accepted;
	atomic_uint_fast64_t http_requests;
	/* The outbound queue: gauges refreshed by a runner, counters per recipient. */
	atomic_uint_fast64_t queue_messages;
	atomic_uint_fast64_t queue_recipients;
	atomic_uint_fast64_t queue_oldest_seconds;
	atomic_uint_fast64_t queue_delivered;
	atomic_uint_fast64_t queue_deferred;
	atomic_uint_fast64_t queue_bounced;
	atomic_uint_fast64_t queue_dsns;
	atomic_uint_fast64_t queue_connections;
};

extern struct metrics metrics;

static inline void metrics_inc(atomic_uint_fast64_t *m) { atomic_fetch_add_explicit(m, 1, memory_order_relaxed); }
static inline void metrics_dec(atomic_uint_fast64_t *m) { atomic_fetch_sub_explicit(m, 1, memory_order_relaxed); }

/* Name of a protocol as used in metric labels and logs ("http", "imap", ...). */
const char *metrics_proto_name(enum metrics_proto proto);
/* Append every metric in Prometheus text exposition format 0.0.4. */
void metrics_write(struct buf *out);
/* Register a writer for a module's own metrics (the scan stage...), called
 * at the end of metrics_write; at most 8, main thread, before serving. */
void metrics_add_writer(void (*fn)(struct buf *out));

#endif
