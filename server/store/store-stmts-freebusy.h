/* Prepared statements of the free/busy store (store-freebusy.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_FREEBUSY_H
#define CAIRN_STORE_STMTS_FREEBUSY_H

/* An alias names an account when the account is its only target. */
#define STORE_FB_ALIAS_ACCOUNT                                                          \
	" FROM aliases l JOIN alias_targets t ON t.alias_id = l.id"                     \
	" JOIN accounts x ON x.address = t.target"                                      \
	" WHERE NOT EXISTS (SELECT 1 FROM alias_targets t2 WHERE t2.alias_id = l.id"    \
	" AND t2.target <> t.target)"

/* Calendars whose schedule-calendar-transp is transparent (RFC 6638 9.1)
 * add no busy time. */
#define STORE_FB_NOT_TRANSPARENT(col)                                                   \
	" AND " col " NOT IN (SELECT p.collection_id FROM dav_properties p"            \
	" WHERE p.object_name = '' AND p.ns = 'urn:ietf:params:xml:ns:caldav'"          \
	" AND p.name = 'schedule-calendar-transp' AND p.xml LIKE '%transparent%')"

#define STORE_FB_OBJ_COLUMNS                                                            \
	"SELECT o.id, o.collection_id, c.account_id, a.address, coalesce(o.uid, ''),"   \
	" o.data, (SELECT p.xml FROM dav_properties p WHERE p.collection_id = c.id"     \
	" AND p.object_name = '' AND p.ns = 'urn:ietf:params:xml:ns:caldav'"            \
	" AND p.name = 'calendar-timezone')"

#define STORE_STATEMENTS_FREEBUSY(X)                                                    \
	/* each address of $1 in order: account id and primary address, or a  \
	 * group (kind 2), or nothing (kind 0)                                 */ \
	X(STMT_FB_RESOLVE,                                                              \
	  "SELECT q.i, CASE WHEN coalesce(ac.id, al.id) IS NOT NULL THEN 1"             \
	  " WHEN EXISTS (SELECT 1 FROM groups g WHERE g.address = q.a) THEN 2 ELSE 0 END," \
	  " coalesce(ac.id, al.id), coalesce(ac.address, al.address)"                   \
	  " FROM unnest($1::text[]) WITH ORDINALITY q(a, i)"                             \
	  " LEFT JOIN accounts ac ON ac.address = q.a"                                  \
	  " LEFT JOIN LATERAL (SELECT x.id, x.address" STORE_FB_ALIAS_ACCOUNT           \
	  "  AND l.address = q.a LIMIT 1) al ON ac.id IS NULL ORDER BY q.i", 1)         \
	X(STMT_FB_GROUP_MEMBERS,                                                        \
	  "WITH RECURSIVE m(addr, depth) AS (SELECT lower($1), 0 UNION"                 \
	  " SELECT gm.member, m.depth + 1 FROM m JOIN groups g ON g.address = m.addr"   \
	  " JOIN group_members gm ON gm.group_id = g.id WHERE m.depth < 16)"            \
	  " SELECT DISTINCT addr FROM m WHERE NOT EXISTS"                               \
	  " (SELECT 1 FROM groups g WHERE g.address = m.addr) ORDER BY addr", 1)        \
	X(STMT_FB_SELF,                                                                 \
	  "SELECT address FROM accounts WHERE address = lower($1)"                      \
	  " UNION SELECT l.address" STORE_FB_ALIAS_ACCOUNT " AND x.address = lower($1)", 1) \
	X(STMT_FB_INDEX_CLEAR,                                                          \
	  "DELETE FROM dav_busy WHERE object_id = $1::bigint", 1)                       \
	X(STMT_FB_INDEX_ROWS,                                                           \
	  "INSERT INTO dav_busy (object_id, collection_id, account_id, start_at, end_at, fbtype)" \
	  " SELECT $1::bigint, $2::bigint, $3::bigint, s, e, t FROM"                    \
	  " unnest($4::bigint[], $5::bigint[], $6::smallint[]) r(s, e, t)", 6)          \
	X(STMT_FB_INDEX_META,                                                           \
	  "INSERT INTO dav_busy_objects (object_id, collection_id, account_id, win_from," \
	  " win_until, before, after) VALUES ($1::bigint, $2::bigint, $3::bigint,"      \
	  " $4::bigint, $5::bigint, $6::boolean, $7::boolean) ON CONFLICT (object_id)"  \
	  " DO UPDATE SET win_from = EXCLUDED.win_from, win_until = EXCLUDED.win_until," \
	  " before = EXCLUDED.before, after = EXCLUDED.after", 7)                       \
	X(STMT_FB_PENDING_CLEAR,                                                        \
	  "DELETE FROM dav_busy_pending WHERE object_id = $1::bigint", 1)               \
	/* objects of the accounts $1 whose rows are missing                   */ \
	X(STMT_FB_PENDING,                                                              \
	  STORE_FB_OBJ_COLUMNS " FROM dav_busy_pending b"                               \
	  " JOIN dav_objects o ON o.id = b.object_id"                                   \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " JOIN accounts a ON a.id = c.account_id"                                     \
	  " WHERE b.account_id = ANY ($1::bigint[]) ORDER BY o.id", 1)                  \
	/* the next $1 pending objects of anyone (cairnctl reindex-busy)        */ \
	X(STMT_FB_PENDING_ANY,                                                          \
	  STORE_FB_OBJ_COLUMNS " FROM dav_busy_pending b"                               \
	  " JOIN dav_objects o ON o.id = b.object_id"                                   \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " JOIN accounts a ON a.id = c.account_id ORDER BY b.object_id LIMIT $1::bigint", 1) \
	X(STMT_FB_PENDING_COUNT, "SELECT count(*) FROM dav_busy_pending", 0)           \
	X(STMT_FB_MARK_ALL,                                                             \
	  "INSERT INTO dav_busy_pending (object_id, account_id)"                        \
	  " SELECT o.id, c.account_id FROM dav_objects o"                               \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " WHERE c.kind = 'calendar' AND c.account_id IS NOT NULL"                     \
	  " AND o.comp IN ('VEVENT', 'VFREEBUSY') ON CONFLICT (object_id) DO NOTHING", 0) \
	/* indexed objects of $1 with busy time outside their window that      \
	 * [$2, $3) reaches                                                    */ \
	X(STMT_FB_OUTSIDE,                                                              \
	  STORE_FB_OBJ_COLUMNS ", m.win_from, m.win_until, m.before, m.after FROM dav_busy_objects m"                               \
	  " JOIN dav_objects o ON o.id = m.object_id"                                   \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " JOIN accounts a ON a.id = c.account_id"                                     \
	  " WHERE m.account_id = ANY ($1::bigint[])"                                    \
	  " AND ((m.before AND m.win_from > $2::bigint)"                                \
	  "  OR (m.after AND m.win_until < $3::bigint))"                                \
	  STORE_FB_NOT_TRANSPARENT("o.collection_id") " ORDER BY o.id", 3)              \
	/* busy rows of $1 meeting [$2, $3), except objects with UID $4,      \
	 * merged per account and FBTYPE in PostgreSQL (range_agg unites      \
	 * overlapping and touching periods, as ical_busy_merge does) so that \
	 * only the merged periods leave it                                    */ \
	X(STMT_FB_BUSY,                                                                 \
	  "SELECT m.account_id, lower(r), upper(r), m.fbtype FROM (SELECT b.account_id,"  \
	  " b.fbtype, range_agg(int8range(b.start_at, b.end_at)) AS u FROM dav_busy b"  \
	  " WHERE b.account_id = ANY ($1::bigint[]) AND b.start_at < $3::bigint"        \
	  " AND b.start_at > $2::bigint - 604800 AND b.end_at > $2::bigint"             \
	  " AND b.fbtype <= 2" STORE_FB_NOT_TRANSPARENT("b.collection_id")              \
	  " AND ($4::text IS NULL OR NOT EXISTS (SELECT 1 FROM dav_objects o"           \
	  " WHERE o.id = b.object_id AND o.uid = $4))"                                  \
	  " GROUP BY b.account_id, b.fbtype) m, unnest(m.u) r", 4)                      \
	/* the REPORT on one calendar $2 of account $1: its rows (declined     \
	 * ones too) and its objects reaching outside their window            */ \
	X(STMT_FB_COLL_BUSY,                                                            \
	  "SELECT b.account_id, b.start_at, b.end_at, b.fbtype, b.object_id FROM dav_busy b" \
	  " WHERE b.account_id = $1::bigint AND b.collection_id = $2::bigint"           \
	  " AND b.start_at < $4::bigint AND b.start_at > $3::bigint - 604800"           \
	  " AND b.end_at > $3::bigint", 4)                                              \
	X(STMT_FB_COLL_OUTSIDE,                                                         \
	  STORE_FB_OBJ_COLUMNS ", m.win_from, m.win_until, m.before, m.after FROM dav_busy_objects m" \
	  " JOIN dav_objects o ON o.id = m.object_id"                                   \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " JOIN accounts a ON a.id = c.account_id"                                     \
	  " WHERE m.account_id = $1::bigint AND m.collection_id = $2::bigint"           \
	  " AND ((m.before AND m.win_from > $3::bigint)"                                \
	  "  OR (m.after AND m.win_until < $4::bigint)) ORDER BY o.id", 4)              \
	/* CALDAV:calendar-availability on the scheduling inboxes of $1        */ \
	X(STMT_FB_AVAILABILITY,                                                         \
	  "SELECT c.account_id, p.xml FROM dav_collections c"                           \
	  " JOIN dav_properties p ON p.collection_id = c.id AND p.object_name = ''"     \
	  " AND p.ns = 'urn:ietf:params:xml:ns:caldav' AND p.name = 'calendar-availability'" \
	  " WHERE c.account_id = ANY ($1::bigint[]) AND c.kind = 'schedinbox'", 1)

#endif
