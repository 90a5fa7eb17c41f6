/* Prepared statements of the WebDAV store (store-dav.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only.
 * Times are passed and returned as seconds since the epoch. */
#ifndef CAIRN_STORE_STMTS_DAV_H
#define CAIRN_STORE_STMTS_DAV_H

#define STORE_DAV_COLL_COLUMNS                                                          \
	"SELECT c.id, a.address, c.home, c.name, c.kind, c.synctoken, c.account_id"      \
	" FROM dav_collections c JOIN accounts a ON a.id = c.account_id"

#define STORE_DAV_OBJ_COLUMNS                                                           \
	"SELECT o.id, o.name, o.content_type, o.etag, o.size, o.modseq, o.uid, o.comp,"  \
	" CASE WHEN $2::boolean THEN o.data END,"                                        \
	" extract(epoch FROM o.updated_at)::bigint FROM dav_objects o"

#define STORE_STATEMENTS_DAV(X)                                                         \
	X(STMT_DAV_COLL_GET,                                                            \
	  STORE_DAV_COLL_COLUMNS " WHERE a.address = lower($1) AND c.home = $2"         \
	  " AND c.name = $3", 3)                                                        \
	X(STMT_DAV_COLL_GET_LOCK,                                                       \
	  STORE_DAV_COLL_COLUMNS " WHERE a.address = lower($1) AND c.home = $2"         \
	  " AND c.name = $3 FOR UPDATE OF c", 3)                                        \
	X(STMT_DAV_COLL_BY_ID, STORE_DAV_COLL_COLUMNS " WHERE c.id = $1::bigint", 1)    \
	X(STMT_DAV_COLL_LIST,                                                           \
	  STORE_DAV_COLL_COLUMNS " WHERE a.address = lower($1) AND c.home = $2"         \
	  " ORDER BY c.name", 2)                                                        \
	X(STMT_DAV_COLL_LIST_ALL,                                                       \
	  STORE_DAV_COLL_COLUMNS " WHERE a.address = lower($1) ORDER BY c.home, c.name", 1) \
	X(STMT_DAV_COLL_CREATE,                                                         \
	  "INSERT INTO dav_collections (account_id, home, name, kind)"                  \
	  " SELECT id, $2, $3, $4 FROM accounts WHERE address = lower($1)"              \
	  " RETURNING id", 4)                                                           \
	X(STMT_DAV_COLL_DELETE,                                                         \
	  "DELETE FROM dav_collections WHERE id = $1::bigint", 1)                       \
	X(STMT_DAV_COLL_RENAME,                                                         \
	  "UPDATE dav_collections SET name = $2 WHERE id = $1::bigint", 2)              \
	/* Nested collections (0030): the descendants of collection $3 of     \
	 * account $1 in home $2 are those named "$3/..."; $4 false: only the  \
	 * children (no further '/').                                          */ \
	X(STMT_DAV_COLL_DESCENDANTS,                                                    \
	  STORE_DAV_COLL_COLUMNS " WHERE c.account_id = $1::bigint AND c.home = $2"     \
	  " AND left(c.name, length($3) + 1) = $3 || '/'"                               \
	  " AND ($4::boolean OR position('/' IN substr(c.name, length($3) + 2)) = 0)"   \
	  " ORDER BY c.name", 4)                                                        \
	X(STMT_DAV_COLL_TREE_BYTES,                                                     \
	  "SELECT coalesce(sum(o.size), 0) FROM dav_objects o"                          \
	  " JOIN dav_collections c ON c.id = o.collection_id"                           \
	  " WHERE c.account_id = $1::bigint AND c.home = $2"                            \
	  " AND left(c.name, length($3) + 1) = $3 || '/'", 3)                           \
	X(STMT_DAV_COLL_TREE_DELETE,                                                    \
	  "DELETE FROM dav_collections WHERE account_id = $1::bigint AND home = $2"     \
	  " AND left(name, length($3) + 1) = $3 || '/'", 3)                             \
	X(STMT_DAV_COLL_TREE_RENAME,                                                    \
	  "UPDATE dav_collections SET name = $4 || substr(name, length($3) + 1)"        \
	  " WHERE account_id = $1::bigint AND home = $2"                                \
	  " AND left(name, length($3) + 1) = $3 || '/'", 4)                             \
	X(STMT_DAV_COLL_BYTES,                                                          \
	  "SELECT coalesce(sum(size), 0), count(*) FROM dav_objects"                    \
	  " WHERE collection_id = $1::bigint", 1)                                       \
	X(STMT_DAV_COLL_BUMP,                                                           \
	  "UPDATE dav_collections SET synctoken = synctoken + 1 WHERE id = $1::bigint"  \
	  " RETURNING synctoken", 1)                                                    \
	X(STMT_DAV_NOTIFY, "SELECT pg_notify('cairn_dav', $1)", 1)                      \
	X(STMT_DAV_COLL_SET_TOKEN,                                                      \
	  "UPDATE dav_collections SET synctoken = $2::bigint WHERE id = $1::bigint", 2)  \
	X(STMT_DAV_OBJ_GET,                                                             \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint AND o.name = $3", 3) \
	X(STMT_DAV_OBJ_GET_LOCK,                                                        \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint AND o.name = $3"   \
	  " FOR UPDATE", 3)                                                             \
	X(STMT_DAV_OBJ_LIST,                                                            \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint ORDER BY o.name", 2) \
	X(STMT_DAV_OBJ_NAMES,                                                           \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint"                   \
	  " AND o.name = ANY ($3::text[]) ORDER BY o.name", 3)                          \
	/* Candidates of a time-range query: every object whose instance bounds \
	 * (NULL = unknown or open) may meet [$4, $5); comp $3 NULL = any.      */ \
	X(STMT_DAV_OBJ_RANGE,                                                           \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint"                   \
	  " AND ($3::text IS NULL OR o.comp = $3)"                                      \
	  " AND (o.rstart IS NULL OR $5::bigint IS NULL"                                \
	  "      OR o.rstart <= to_timestamp($5::bigint))"                              \
	  " AND (o.rend IS NULL OR $4::bigint IS NULL"                                  \
	  "      OR o.rend >= to_timestamp($4::bigint))"                                \
	  " ORDER BY o.name", 5)                                                        \
	X(STMT_DAV_OBJ_BY_UID,                                                          \
	  "SELECT name FROM dav_objects WHERE collection_id = $1::bigint AND uid = $2"  \
	  " AND name <> $3 LIMIT 1", 3)                                                 \
	/* Bulk writes: plan each statement for the table as it grows in the  \
	 * transaction, not once for the empty one (a cached generic plan     \
	 * would scan the whole table per object).                            */ \
	X(STMT_DAV_BULK_BEGIN,                                                          \
	  "SELECT set_config('plan_cache_mode', 'force_custom_plan', true)", 0)         \
	X(STMT_DAV_UID_DUPLICATE,                                                       \
	  "SELECT uid FROM dav_objects WHERE collection_id = $1::bigint AND uid IS NOT NULL" \
	  " GROUP BY uid HAVING count(*) > 1 LIMIT 1", 1)                               \
	X(STMT_DAV_OBJ_INSERT,                                                          \
	  "INSERT INTO dav_objects (collection_id, name, content_type, etag, data,"     \
	  " size, uid, comp, dtstart, dtend, rstart, rend, summary, modseq)"            \
	  " VALUES ($1::bigint, $2, $3, $4, $5::bytea, $6::bigint, $7, $8,"             \
	  " to_timestamp($9::bigint), to_timestamp($10::bigint),"                       \
	  " to_timestamp($11::bigint), to_timestamp($12::bigint), $13, $14::bigint)"    \
	  " ON CONFLICT (collection_id, name) DO UPDATE SET"                            \
	  " content_type = EXCLUDED.content_type, etag = EXCLUDED.etag,"                \
	  " data = EXCLUDED.data, size = EXCLUDED.size, uid = EXCLUDED.uid,"            \
	  " comp = EXCLUDED.comp, dtstart = EXCLUDED.dtstart, dtend = EXCLUDED.dtend,"  \
	  " rstart = EXCLUDED.rstart, rend = EXCLUDED.rend,"                            \
	  " summary = EXCLUDED.summary, modseq = EXCLUDED.modseq, updated_at = now()"   \
	  " RETURNING id", 14)                                                          \
	X(STMT_DAV_OBJ_DELETE,                                                          \
	  "DELETE FROM dav_objects WHERE collection_id = $1::bigint AND name = $2"      \
	  " RETURNING size", 2)                                                         \
	X(STMT_DAV_CHANGE,                                                              \
	  "INSERT INTO dav_changes (collection_id, name, modseq, deleted)"              \
	  " VALUES ($1::bigint, $2, $3::bigint, $4::boolean)"                           \
	  " ON CONFLICT (collection_id, name) DO UPDATE SET modseq = EXCLUDED.modseq,"  \
	  " deleted = EXCLUDED.deleted", 4)                                             \
	X(STMT_DAV_CHANGES,                                                             \
	  "SELECT name, deleted, modseq FROM dav_changes WHERE collection_id = $1::bigint" \
	  " AND modseq > $2::bigint ORDER BY modseq", 2)                                \
	/* Pages of sync-collection (RFC 6578 3.6): in (modseq, name) order  \
	 * after position ($2, $3) ($3 NULL: after change $2), at most $4    \
	 * (NULL: all).                                                       */ \
	X(STMT_DAV_CHANGES_PAGE,                                                        \
	  "SELECT name, deleted, modseq FROM dav_changes WHERE collection_id = $1::bigint" \
	  " AND (modseq > $2::bigint OR (modseq = $2::bigint AND name > $3))"          \
	  " ORDER BY modseq, name LIMIT $4::bigint", 4)                                 \
	X(STMT_DAV_OBJ_PAGE,                                                            \
	  STORE_DAV_OBJ_COLUMNS " WHERE o.collection_id = $1::bigint"                   \
	  " AND (o.modseq > $3::bigint OR (o.modseq = $3::bigint AND o.name > $4))"     \
	  " ORDER BY o.modseq, o.name LIMIT $5::bigint", 5)                             \
	X(STMT_DAV_PROPS,                                                               \
	  "SELECT ns, name, xml FROM dav_properties WHERE collection_id = $1::bigint"   \
	  " AND object_name = $2 ORDER BY ns, name", 2)                                 \
	X(STMT_DAV_PROP_SET,                                                            \
	  "INSERT INTO dav_properties (collection_id, object_name, ns, name, xml)"      \
	  " VALUES ($1::bigint, $2, $3, $4, $5) ON CONFLICT"                            \
	  " (collection_id, object_name, ns, name) DO UPDATE SET xml = EXCLUDED.xml", 5) \
	X(STMT_DAV_PROP_DEL,                                                            \
	  "DELETE FROM dav_properties WHERE collection_id = $1::bigint"                 \
	  " AND object_name = $2 AND ns = $3 AND name = $4", 4)                         \
	X(STMT_DAV_PROPS_DROP,                                                          \
	  "DELETE FROM dav_properties WHERE collection_id = $1::bigint"                 \
	  " AND object_name = $2", 2)                                                   \
	X(STMT_DAV_PROPS_COPY,                                                          \
	  "INSERT INTO dav_properties (collection_id, object_name, ns, name, xml)"      \
	  " SELECT $3::bigint, $4, ns, name, xml FROM dav_properties"                   \
	  " WHERE collection_id = $1::bigint AND object_name = $2", 4)                  \
	/* Sharing (0019): the best access user has to a collection, directly \
	 * or through a (SQL directory) group it is a member of.              */ \
	X(STMT_DAV_SHARE_ACCESS,                                                        \
	  "SELECT max(CASE s.access WHEN 'read-write' THEN 2 ELSE 1 END)"               \
	  " FROM dav_shares s WHERE s.collection_id = $1::bigint AND s.status = 'accepted'" \
	  " AND (s.grantee = lower($2) OR s.grantee IN (SELECT g.address FROM groups g" \
	  "  JOIN group_members m ON m.group_id = g.id WHERE m.member = lower($2)))", 2) \
	X(STMT_DAV_SHARES,                                                              \
	  "SELECT grantee, access, status, summary FROM dav_shares"                     \
	  " WHERE collection_id = $1::bigint ORDER BY grantee", 1)                      \
	X(STMT_DAV_SHARE_SET,                                                           \
	  "INSERT INTO dav_shares (collection_id, grantee, access, summary)"            \
	  " VALUES ($1::bigint, lower($2), $3, $4) ON CONFLICT (collection_id, grantee)" \
	  " DO UPDATE SET access = EXCLUDED.access, summary = EXCLUDED.summary", 4)     \
	X(STMT_DAV_SHARE_DEL,                                                           \
	  "DELETE FROM dav_shares WHERE collection_id = $1::bigint AND grantee = lower($2)", 2) \
	X(STMT_DAV_SHARES_CLEAR,                                                        \
	  "DELETE FROM dav_shares WHERE collection_id = $1::bigint", 1)                 \
	X(STMT_DAV_SHARE_REPLY,                                                         \
	  "UPDATE dav_shares SET status = $3 WHERE collection_id = $1::bigint"          \
	  " AND grantee = lower($2) RETURNING 1", 3)                                    \
	X(STMT_DAV_SHARED_COLLS,                                                        \
	  "SELECT c.id, a.address, c.home, c.name, c.kind, c.synctoken, c.account_id,"  \
	  " max(CASE s.access WHEN 'read-write' THEN 2 ELSE 1 END)"                     \
	  " FROM dav_shares s JOIN dav_collections c ON c.id = s.collection_id"         \
	  " JOIN accounts a ON a.id = c.account_id"                                     \
	  " WHERE c.home = $2 AND s.status = 'accepted' AND a.address <> lower($1)"     \
	  " AND (s.grantee = lower($1) OR s.grantee IN (SELECT g.address FROM groups g" \
	  "  JOIN group_members m ON m.group_id = g.id WHERE m.member = lower($1)))"    \
	  " GROUP BY c.id, a.address ORDER BY a.address, c.name", 2)                    \
	X(STMT_DAV_PRINCIPAL_KIND,                                                      \
	  "SELECT CASE WHEN EXISTS (SELECT 1 FROM accounts WHERE address = lower($1))"  \
	  " THEN 1 WHEN EXISTS (SELECT 1 FROM groups WHERE address = lower($1))"        \
	  " THEN 2 ELSE 0 END", 1)                                                      \
	X(STMT_DAV_FEED_ADD,                                                            \
	  "INSERT INTO dav_feeds (collection_id, token_sha256)"                         \
	  " VALUES ($1::bigint, decode($2, 'hex'))", 2)                                 \
	X(STMT_DAV_FEED_USE,                                                            \
	  "UPDATE dav_feeds SET last_used = now() WHERE token_sha256 = decode($1, 'hex')" \
	  " RETURNING collection_id", 1)                                                \
	X(STMT_DAV_FEED_REVOKE,                                                         \
	  "DELETE FROM dav_feeds WHERE collection_id = $1::bigint", 1)                  \
	X(STMT_DAV_FEEDS,                                                               \
	  "SELECT id, created_at, coalesce(last_used::text, '') FROM dav_feeds"         \
	  " WHERE collection_id = $1::bigint ORDER BY id", 1)                           \
	/* Locks (0030): those of owner's home $2 that cover path $3 (its own, \
	 * a depth-infinity one of an ancestor collection), with $4 those     \
	 * below it too, and the one of path $5 (the parent, '' for none).    */ \
	X(STMT_DAV_LOCKS_COVER,                                                         \
	  "SELECT l.token, l.path, l.depth_infinity, l.exclusive, l.owner_xml,"         \
	  " l.principal, l.timeout_s,"                                                  \
	  " greatest(1, ceil(extract(epoch FROM l.expires - now())))::bigint"           \
	  " FROM dav_locks l JOIN accounts a ON a.id = l.account_id"                    \
	  " WHERE a.address = lower($1) AND l.home = $2 AND l.expires > now()"          \
	  " AND (l.path = $3 OR (l.depth_infinity AND right(l.path, 1) = '/'"           \
	  "      AND left($3, length(l.path)) = l.path)"                                \
	  "   OR ($4::boolean AND left(l.path, length($3)) = $3) OR l.path = $5)"       \
	  " ORDER BY l.path, l.token", 5)                                               \
	X(STMT_DAV_LOCK_INSERT,                                                         \
	  "INSERT INTO dav_locks (token, account_id, home, path, depth_infinity,"       \
	  " exclusive, owner_xml, principal, timeout_s, expires)"                       \
	  " SELECT $1, id, $3, $4, $5::boolean, $6::boolean, $7, lower($8),"            \
	  " $9::integer, now() + make_interval(secs => $9::integer)"                    \
	  " FROM accounts WHERE address = lower($2) RETURNING 1", 9)                    \
	X(STMT_DAV_LOCK_REFRESH,                                                        \
	  "UPDATE dav_locks SET timeout_s = $2::integer,"                               \
	  " expires = now() + make_interval(secs => $2::integer) WHERE token = $1", 2)  \
	X(STMT_DAV_LOCK_DELETE, "DELETE FROM dav_locks WHERE token = $1", 1)            \
	X(STMT_DAV_LOCKS_DROP,                                                          \
	  "DELETE FROM dav_locks l USING accounts a WHERE a.id = l.account_id"          \
	  " AND a.address = lower($1) AND l.home = $2"                                  \
	  " AND (l.path = $3 OR ($4::boolean AND left(l.path, length($3)) = $3))", 4)   \
	X(STMT_DAV_LOCKS_EXPIRE,                                                        \
	  "DELETE FROM dav_locks WHERE expires < now() - interval '1 minute'", 0)       \
	/* principal-property-search (RFC 3744 9.4): accounts whose display   \
	 * name or address contains $1, whose address contains $2 (NULL: no  \
	 * such test); $3 anyof (else allof); at most $4.                     */ \
	/* accounts (resources: ROOM or RESOURCE) and groups; $1 name, $2    \
	 * address, $5 calendar-user-type, each NULL when not searched       */ \
	X(STMT_DAV_PRINCIPAL_SEARCH,                                                    \
	  "SELECT address FROM (SELECT a.address, a.display_name,"                      \
	  " CASE r.kind WHEN 'room' THEN 'ROOM' WHEN 'equipment' THEN 'RESOURCE'"       \
	  " ELSE 'INDIVIDUAL' END AS cutype FROM accounts a"                            \
	  " LEFT JOIN resources r ON r.account_id = a.id"                               \
	  " UNION ALL SELECT address, display_name, 'GROUP' FROM groups) p"             \
	  " WHERE CASE WHEN $3::boolean THEN"                                           \
	  " (($1::text IS NOT NULL AND (strpos(lower(display_name), lower($1)) > 0"     \
	  "   OR strpos(address, lower($1)) > 0))"                                      \
	  "  OR ($2::text IS NOT NULL AND strpos(address, lower($2)) > 0)"              \
	  "  OR ($5::text IS NOT NULL AND cutype = upper($5)))"                         \
	  " ELSE (($1::text IS NULL OR strpos(lower(display_name), lower($1)) > 0"      \
	  "   OR strpos(address, lower($1)) > 0)"                                       \
	  "  AND ($2::text IS NULL OR strpos(address, lower($2)) > 0)"                  \
	  "  AND ($5::text IS NULL OR cutype = upper($5))) END"                         \
	  " ORDER BY address LIMIT $4::bigint", 5)                                      \
	X(STMT_DAV_QUOTA,                                                               \
	  "SELECT a.id, u.bytes, coalesce(a.quota_bytes, -1) FROM accounts a"           \
	  " JOIN mail_usage u ON u.account_id = a.id WHERE a.address = lower($1)", 1)

#endif
