/* Prepared statements of the CardDAV store (store-carddav.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_CARDDAV_H
#define CAIRN_STORE_STMTS_CARDDAV_H

#define STORE_STATEMENTS_CARDDAV(X)                                                     \
	X(STMT_CARDDAV_GAL_GET,                                                         \
	  "SELECT id, home, name, kind, synctoken FROM dav_collections"                 \
	  " WHERE account_id IS NULL AND home = 'addressbooks' AND name = 'gal'", 0)    \
	X(STMT_CARDDAV_GAL_CREATE,                                                      \
	  "INSERT INTO dav_collections (account_id, home, name, kind)"                  \
	  " VALUES (NULL, 'addressbooks', 'gal', 'galshared') ON CONFLICT DO NOTHING", 0) \
	/* Write one object unless it is there with the same bytes; returns  \
	 * a row only when something was written.                           */ \
	X(STMT_CARDDAV_GAL_PUT,                                                         \
	  "INSERT INTO dav_objects (collection_id, name, content_type, etag, data,"     \
	  " size, uid, comp, summary, modseq)"                                          \
	  " VALUES ($1::bigint, $2, 'text/vcard; charset=utf-8',"                       \
	  " '\"' || left(encode(sha256($3::bytea), 'hex'), 40) || '\"', $3::bytea,"     \
	  " length($3::bytea), $4, 'VCARD', $5, $6::bigint)"                            \
	  " ON CONFLICT (collection_id, name) DO UPDATE SET"                            \
	  " etag = EXCLUDED.etag, data = EXCLUDED.data, size = EXCLUDED.size,"          \
	  " uid = EXCLUDED.uid, summary = EXCLUDED.summary, modseq = EXCLUDED.modseq,"  \
	  " updated_at = now() WHERE dav_objects.etag <> EXCLUDED.etag"                 \
	  " RETURNING (xmax = 0)", 6)                                                   \
	X(STMT_CARDDAV_GAL_PRUNE,                                                       \
	  "DELETE FROM dav_objects WHERE collection_id = $1::bigint"                    \
	  " AND NOT (name = ANY ($2::text[])) RETURNING name", 2)                       \
	X(STMT_CARDDAV_CHANGE,                                                          \
	  "INSERT INTO dav_changes (collection_id, name, modseq, deleted)"              \
	  " VALUES ($1::bigint, $2, $3::bigint, $4::boolean)"                           \
	  " ON CONFLICT (collection_id, name) DO UPDATE SET modseq = EXCLUDED.modseq,"  \
	  " deleted = EXCLUDED.deleted", 4)                                             \
	X(STMT_CARDDAV_LOCK,                                                            \
	  "SELECT synctoken, account_id FROM dav_collections WHERE id = $1::bigint"      \
	  " FOR UPDATE", 1)                                                             \
	X(STMT_CARDDAV_BYTES,                                                           \
	  "SELECT coalesce(sum(size), 0) FROM dav_objects WHERE collection_id = $1::bigint", 1) \
	X(STMT_CARDDAV_SET_TOKEN,                                                       \
	  "UPDATE dav_collections SET synctoken = $2::bigint WHERE id = $1::bigint", 2) \
	X(STMT_CARDDAV_NOTIFY, "SELECT pg_notify('cairn_dav', $1)", 1)                  \
	X(STMT_CARDDAV_DIR_ACCOUNTS,                                                    \
	  "SELECT id, address, display_name, phone, department, title FROM accounts"    \
	  " WHERE enabled ORDER BY address", 0)                                         \
	/* one row per group and member (member NULL for an empty group) */       \
	X(STMT_CARDDAV_DIR_GROUPS,                                                      \
	  "SELECT g.id, g.address, g.display_name, m.member"                            \
	  " FROM groups g LEFT JOIN group_members m ON m.group_id = g.id"               \
	  " ORDER BY g.address, m.member", 0)                                           \
	/* the GAL card with $1 (casemapped) as a line of its search summary */ \
	X(STMT_CARDDAV_GAL_CARD_OF,                                                     \
	  "SELECT o.name FROM dav_objects o JOIN dav_collections c"                     \
	  " ON c.id = o.collection_id WHERE c.account_id IS NULL"                       \
	  " AND c.home = 'addressbooks' AND c.name = 'gal'"                             \
	  " AND position(E'\\n' || $1 || E'\\n' IN E'\\n' || o.summary) > 0"    \
	  " ORDER BY o.name LIMIT 1", 1)                                                \
	X(STMT_CARDDAV_CANDIDATES,                                                      \
	  "SELECT o.id, o.name, o.content_type, o.etag, o.size, o.modseq, o.uid, o.comp," \
	  " CASE WHEN $2::boolean THEN o.data END FROM dav_objects o"                   \
	  " WHERE o.collection_id = $1::bigint"                                         \
	  " AND (o.summary IS NULL OR o.summary LIKE ANY ($3::text[])) ORDER BY o.name", 3)

#endif
