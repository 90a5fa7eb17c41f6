/* The metrics registry: one static struct of atomics and its Prometheus
 * rendering. Protocol sessions and the worker pool update it directly. */
#include "autoconf.h"
#include "metrics.h"

struct metrics metrics;

static const char *const proto_names[METRICS_PROTO_COUNT] = {
	"http", "smtp", "submission", "imap", "pop3",
};

const char *metrics_proto_name(enum metrics_proto proto)
{
	return proto_names[proto];
}

static uint64_t get(atomic_uint_fast64_t *m)
{
	return atomic_load_explicit(m, memory_order_relaxed);
}

static void one(struct buf *out, const char *name, const char *type, const char *help,
		atomic_uint_fast64_t *m)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		   (unsigned long long)get(m));
}

#define METRICS_MAX_WRITERS 8
static void (*writers[METRICS_MAX_WRITERS])(struct buf *out);
static size_t nwriters;

void metrics_add_writer(void (*fn)(struct buf *out))
{
	if (nwriters < METRICS_MAX_WRITERS)
		writers[nwriters++] = fn;
}

void metrics_write(struct buf *out)
{
	buf_printf(out, "# HELP cairn_connections Open client connections by protocol.\n"
			"# TYPE cairn_connections gauge\n");
	for (int i = 0; i < METRICS_PROTO_COUNT; i++)
		buf_printf(out, "cairn_connections{protocol=\"%s\"} %llu\n", proto_names[i],
			   (unsigned long long)get(&metrics.conn_current[i]));
	buf_printf(out, "# HELP cairn_connections_total Client connections accepted by protocol.\n"
			"# TYPE cairn_connections_total counter\n");
	for (int i = 0; i < METRICS_PROTO_COUNT; i++)
		buf_printf(out, "cairn_connections_total{protocol=\"%s\"} %llu\n", proto_names[i],
			   (unsigned long long)get(&metrics.conn_total[i]));
	one(out, "cairn_connections_refused_total", "counter",
	    "Connections refused by a connection limit.", &metrics.conn_refused);
	one(out, "cairn_tls_handshake_failures_total", "counter",
	    "TLS handshakes that failed.", &metrics.tls_handshake_failures);
	one(out, "cairn_output_pending_bytes", "gauge",
	    "Bytes queued for clients that have not read them yet, over all connections.",
	    &metrics.output_pending);
	one(out, "cairn_timeouts_total", "counter",
	    "Connections timed out (idle, slow command line, body or TLS handshake).",
	    &metrics.timeouts);
	one(out, "cairn_jobs_queued", "gauge", "Jobs waiting for a worker.", &metrics.jobs_queued);
	one(out, "cairn_jobs_running", "gauge", "Jobs running on workers.", &metrics.jobs_running);
	one(out, "cairn_jobs_total", "counter", "Jobs completed.", &metrics.jobs_total);
	one(out, "cairn_store_pool_size", "gauge",
	    "PostgreSQL connections in the pool (one per worker).", &metrics.workers);
	one(out, "cairn_store_pool_connected", "gauge",
	    "Pool connections currently established.", &metrics.store_connected);
	one(out, "cairn_store_pool_busy", "gauge",
	    "Pool connections in use by a running job.", &metrics.jobs_running);
	one(out, "cairn_store_errors_total", "counter",
	    "Store calls that failed (database down or error).", &metrics.store_errors);
	one(out, "cairn_messages_accepted_total", "counter",
	    "Messages accepted and committed to the store.", &metrics.messages_accepted);
	one(out, "cairn_http_requests_total", "counter", "HTTP requests served.",
	    &metrics.http_requests);
	one(out, "cairn_queue_messages", "gauge", "Messages in the outbound queue.",
	    &metrics.queue_messages);
	one(out, "cairn_queue_recipients", "gauge", "Recipients waiting in the outbound queue.",
	    &metrics.queue_recipients);
	one(out, "cairn_queue_oldest_seconds", "gauge",
	    "Age of the oldest message in the outbound queue.", &metrics.queue_oldest_seconds);
	one(out, "cairn_queue_delivered_total", "counter",
	    "Recipients delivered to a remote server by this node.", &metrics.queue_delivered);
	one(out, "cairn_queue_deferred_total", "counter",
	    "Delivery attempts that failed temporarily (will be retried).", &metrics.queue_deferred);
	one(out, "cairn_queue_bounced_total", "counter",
	    "Recipients that failed permanently or expired.", &metrics.queue_bounced);
	one(out, "cairn_queue_dsns_total", "counter",
	    "Delivery status notifications generated (bounces, delays, success).", &metrics.queue_dsns);
	one(out, "cairn_queue_connections_total", "counter",
	    "SMTP connections opened to remote servers.", &metrics.queue_connections);
	for (size_t i = 0; i < nwriters; i++)
		writers[i](out);
}
