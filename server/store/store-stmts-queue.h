/* Prepared statements of the outbound queue runner and `cairnctl queue`
 * (store-queue.c), one X(id, sql, nparams) per statement; included by
 * store-private.h only. Lists of ids travel as one comma-separated text
 * parameter; lists of domains as one newline-separated text parameter. */
#ifndef CAIRN_STORE_STMTS_QUEUE_H
#define CAIRN_STORE_STMTS_QUEUE_H

/* Due: queued or deferred with next_attempt passed. */
#define QUEUE_DUE "state IN ('queued', 'deferred') AND next_attempt <= now()"
/* A lease that its holder gave up: expired, or held by an earlier process of
 * this node ($1 = host name, $2 = this process's "host/pid/" prefix). */
#define QUEUE_STALE                                                                     \
	"state = 'sending' AND (claimed_until < now() OR"                               \
	" (split_part(claimed_by, '/', 1) = $1 AND claimed_by NOT LIKE $2 || '%'))"

#define STORE_STATEMENTS_QUEUE(X)                                                       \
	X(STMT_QUEUE_CLAIM,                                                             \
	  "WITH c AS (SELECT r.id FROM queue_recipients r WHERE r." QUEUE_DUE           \
	  "  AND ($4::text IS NULL OR r.domain = $4)"                                   \
	  "  AND r.domain <> ALL (string_to_array($5, E'\\n'))"                         \
	  "  ORDER BY r.next_attempt, r.message_id, r.id LIMIT $2::int"                 \
	  "  FOR UPDATE SKIP LOCKED)"                                                   \
	  " UPDATE queue_recipients r SET state = 'sending', claimed_by = $1,"          \
	  "  claimed_until = now() + $3::bigint * interval '1 millisecond', dot_sent = NULL" \
	  " FROM c WHERE r.id = c.id"                                                   \
	  " RETURNING r.id, r.message_id, r.address, r.domain, r.dsn_notify,"           \
	  "  r.dsn_orcpt, r.attempts, r.warned", 5)                                      \
	/* The blob by its primary key, row by row (a subquery the planner does \
	 * not turn into a join): never a scan of message_blobs, whatever the  \
	 * statistics of a queue that churns say.                               */ \
	X(STMT_QUEUE_LOAD,                                                              \
	  "SELECT m.id::text, m.envelope_from, m.size::text, m.dsn_ret, m.dsn_envid,"   \
	  " m.body, m.smtputf8::text, extract(epoch FROM m.created)::bigint::text,"     \
	  " m.dkim_signature,"                                                          \
	  " (SELECT b.raw FROM message_blobs b WHERE b.id = m.blob_id)"                 \
	  " FROM queue_messages m"                                                      \
	  " WHERE m.id = ANY (string_to_array($1, ',')::bigint[])", 1)                  \
	X(STMT_QUEUE_RENEW,                                                             \
	  "UPDATE queue_recipients SET claimed_until = now() + $2::bigint * interval '1 millisecond'" \
	  " WHERE claimed_by = $1 AND state = 'sending'", 2)                             \
	X(STMT_QUEUE_RECLAIM,                                                           \
	  "UPDATE queue_recipients SET state = 'deferred', claimed_by = NULL,"         \
	  " claimed_until = NULL, next_attempt = now()"                                 \
	  " WHERE " QUEUE_STALE " AND dot_sent IS NULL RETURNING id", 2)                \
	X(STMT_QUEUE_PRESUME,                                                           \
	  "UPDATE queue_recipients SET state = 'delivered', claimed_by = NULL,"        \
	  " claimed_until = NULL, finished = now(), status = '2.0.0',"                  \
	  " last_error = 'presumed delivered: the data was sent but the reply was not recorded'" \
	  " WHERE " QUEUE_STALE " AND dot_sent IS NOT NULL RETURNING message_id::text", 2) \
	/* $4: the message of recipients $1. Here and in STMT_QUEUE_FINISH the  \
	 * rows are found through their message: "coalesce(state, '')" (state   \
	 * is NOT NULL) keeps the planner from scanning the partial index of     \
	 * every row being sent (queue_recipients_leased) instead, as it did    \
	 * whenever the statistics of this churning table were stale.           */ \
	X(STMT_QUEUE_DOT,                                                               \
	  "UPDATE queue_recipients SET dot_sent = now(), remote_host = $3"             \
	  " WHERE message_id = $4::bigint"                                              \
	  " AND id = ANY (string_to_array($1, ',')::bigint[]) AND claimed_by = $2"      \
	  " AND coalesce(state, '') = 'sending'", 4)                                    \
	X(STMT_QUEUE_SET,                                                               \
	  "UPDATE queue_recipients SET state = $2, status = coalesce($3, status),"     \
	  " last_error = coalesce($4, last_error),"                                     \
	  " remote_host = coalesce($5, remote_host),"                                   \
	  " next_attempt = CASE WHEN $6::bigint IS NULL THEN next_attempt"              \
	  "  ELSE now() + $6::bigint * interval '1 millisecond' END,"                   \
	  " attempts = attempts + $7::int,"                                             \
	  " last_attempt = CASE WHEN $7::int > 0 THEN now() ELSE last_attempt END,"     \
	  " warned = warned OR $8::boolean, dsn_sent = dsn_sent OR $9::boolean,"        \
	  " claimed_by = NULL, claimed_until = NULL, dot_sent = NULL,"                  \
	  " finished = CASE WHEN $2 IN ('delivered', 'failed') THEN now() END"          \
	  " WHERE id = $1::bigint AND claimed_by = $10 AND state = 'sending'", 10)       \
	/* A message whose recipients $2 (all of its recipients not final yet,  \
	 * still leased by $3) have just become final: deleted at once, without \
	 * recording outcomes that the cascade would delete with it. The rows   \
	 * are locked first, so a lease taken over meanwhile is seen (no row     \
	 * returned: the caller records the outcomes one by one instead).       */ \
	X(STMT_QUEUE_FINISH,                                                            \
	  "WITH mine AS (SELECT id FROM queue_recipients WHERE message_id = $1::bigint" \
	  "  AND id = ANY ($2::bigint[]) AND claimed_by = $3"                           \
	  "  AND coalesce(state, '') = 'sending' FOR UPDATE)"                           \
	  " DELETE FROM queue_messages m WHERE m.id = $1::bigint"                       \
	  " AND (SELECT count(*) FROM mine) = cardinality($2::bigint[])"                \
	  " AND NOT EXISTS (SELECT 1 FROM queue_recipients r WHERE r.message_id = m.id" \
	  "  AND r.state NOT IN ('delivered', 'failed') AND r.id <> ALL ($2::bigint[]))" \
	  " RETURNING m.id", 3)                                                         \
	X(STMT_QUEUE_MSG_DONE,                                                          \
	  "DELETE FROM queue_messages m"                                                \
	  " WHERE m.id = ANY (string_to_array($1, ',')::bigint[]) AND NOT EXISTS"       \
	  " (SELECT 1 FROM queue_recipients r WHERE r.message_id = m.id"                \
	  "  AND r.state NOT IN ('delivered', 'failed')) RETURNING m.id", 1)             \
	X(STMT_QUEUE_SWEEP,                                                             \
	  "DELETE FROM queue_messages m WHERE m.created < now() - interval '30 seconds'" \
	  " AND NOT EXISTS (SELECT 1 FROM queue_recipients r WHERE r.message_id = m.id" \
	  "  AND r.state NOT IN ('delivered', 'failed')) RETURNING m.id", 0)             \
	X(STMT_QUEUE_DKIM_SET,                                                          \
	  "UPDATE queue_messages SET dkim_signature = $2"                               \
	  " WHERE id = $1::bigint AND dkim_signature IS NULL", 2)                       \
	X(STMT_QUEUE_STATS,                                                             \
	  "SELECT count(DISTINCT r.message_id)::text, count(*)::text,"                  \
	  " coalesce(extract(epoch FROM now() - min(m.created)), 0)::bigint::text"      \
	  " FROM queue_recipients r JOIN queue_messages m ON m.id = r.message_id"       \
	  " WHERE r.state IN ('queued', 'deferred', 'sending')", 0)                     \
	X(STMT_QUEUE_LIST,                                                              \
	  "SELECT m.id::text, m.envelope_from, m.size::text,"                           \
	  " to_char(m.created AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"   \
	  " r.address, r.state, r.attempts::text,"                                      \
	  " to_char(r.next_attempt AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')," \
	  " coalesce(r.last_error, ''), coalesce(r.status, ''), coalesce(r.remote_host, '')," \
	  " coalesce(r.dsn_notify, ''), coalesce(r.dsn_orcpt, ''), coalesce(m.dsn_ret, '')," \
	  " coalesce(m.dsn_envid, ''), m.body, m.smtputf8::text, coalesce(r.claimed_by, '')" \
	  " FROM queue_messages m JOIN queue_recipients r ON r.message_id = m.id"       \
	  " WHERE $1::bigint IS NULL OR m.id = $1::bigint ORDER BY m.id, r.id", 1)        \
	X(STMT_QUEUE_FLUSH,                                                             \
	  "WITH u AS (UPDATE queue_recipients SET next_attempt = now()"                 \
	  "  WHERE state IN ('queued', 'deferred')"                                     \
	  "  AND ($1::bigint IS NULL OR message_id = $1::bigint) RETURNING 1)"          \
	  " SELECT (SELECT count(*) FROM u)::text, pg_notify('cairn_queue', '')", 1)     \
	X(STMT_QUEUE_DROP,                                                              \
	  "WITH busy AS (SELECT 1 FROM queue_recipients WHERE message_id = $1::bigint"  \
	  "  AND state = 'sending' AND claimed_until > now()),"                         \
	  " del AS (DELETE FROM queue_messages WHERE id = $1::bigint"                   \
	  "  AND NOT EXISTS (SELECT 1 FROM busy) RETURNING id)"                          \
	  " SELECT (SELECT count(*) FROM del)::text, (SELECT count(*) FROM busy)::text", 1)

#endif
