/* Prepared statements of store-webadmin.c, one X(id, sql, nparams) each;
 * included by store-private.h only. Lists take: $1 LIKE pattern, $2 scope
 * (a domain administrator's address, '' = every domain), $3 limit, $4 offset. */
#ifndef CAIRN_STORE_STMTS_WEBADMIN_H
#define CAIRN_STORE_STMTS_WEBADMIN_H

#define WA_SCOPE(dom)                                                                   \
	" AND ($2 = '' OR " dom " IN (SELECT da.domain_id FROM domain_admins da"         \
	" JOIN accounts x ON x.id = da.account_id WHERE x.address = lower($2)))"
#define WA_PAGE " LIMIT $3::int OFFSET $4::int"

#define WA_USERS_SELECT                                                                 \
	"SELECT a.address, a.display_name, a.enabled, a.is_admin, a.source,"           \
	" coalesce(a.quota_bytes, 0), coalesce(u.bytes, 0) FROM accounts a"             \
	" LEFT JOIN mail_usage u ON u.account_id = a.id"                                \
	" WHERE a.domain_id IS NOT NULL AND (a.address LIKE $1 OR a.display_name ILIKE $1)" \
	WA_SCOPE("a.domain_id")
#define WA_DOMAINS_SELECT                                                               \
	"SELECT d.name, (SELECT count(*) FROM accounts a WHERE a.domain_id = d.id),"   \
	" (SELECT coalesce(sum(u.bytes), 0) FROM accounts a JOIN mail_usage u"          \
	"  ON u.account_id = a.id WHERE a.domain_id = d.id)"                            \
	" FROM domains d WHERE d.name LIKE $1" WA_SCOPE("d.id")
#define WA_ALIASES_SELECT                                                               \
	"SELECT al.address, coalesce((SELECT string_agg(t.target, ', ' ORDER BY t.target)" \
	" FROM alias_targets t WHERE t.alias_id = al.id), '') FROM aliases al"          \
	" WHERE al.address LIKE $1" WA_SCOPE("al.domain_id")
#define WA_GROUPS_SELECT                                                                \
	"SELECT g.address, g.display_name, (SELECT count(*) FROM group_members m"       \
	" WHERE m.group_id = g.id) FROM groups g WHERE (g.address LIKE $1"              \
	" OR g.display_name ILIKE $1)" WA_SCOPE("g.domain_id")
/* The queue is an administrator's only: $2 is ignored but kept for the
 * common parameter list. */
#define WA_QUEUE_SELECT                                                                 \
	"SELECT m.id, m.envelope_from, m.size,"                                         \
	" to_char(m.created AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"              \
	" (SELECT count(*) FROM queue_recipients r WHERE r.message_id = m.id),"         \
	" coalesce((SELECT string_agg(r.address || ' (' || r.state || ')', ', '"        \
	"  ORDER BY r.id) FROM queue_recipients r WHERE r.message_id = m.id), ''),"     \
	" coalesce((SELECT max(r.last_error) FROM queue_recipients r"                   \
	"  WHERE r.message_id = m.id), '')"                                              \
	" FROM queue_messages m WHERE ($2::text IS NULL OR true) AND ($1 = '%%'"             \
	" OR m.envelope_from LIKE $1 OR EXISTS (SELECT 1 FROM queue_recipients r"       \
	"  WHERE r.message_id = m.id AND r.address LIKE $1))"

/* The quarantine (migration 0022's scan_quarantine): searched by sender,
 * recipient, subject and reason. WA_QUARANTINE_SELECT bounds by a domain
 * administrator's domains ($2 = '' for an administrator);
 * WA_MY_QUARANTINE_SELECT by one account ($2 its address). */
#define WA_QUARANTINE_COLS                                                              \
	"SELECT q.id, q.account, to_char(q.received AT TIME ZONE 'UTC',"                \
	" 'YYYY-MM-DD HH24:MI:SS'), q.envelope_from, q.reason, q.score, q.subject,"      \
	" q.size FROM scan_quarantine q WHERE ($1 = '%%' OR q.envelope_from LIKE $1"     \
	" OR q.account LIKE $1 OR q.subject ILIKE $1 OR q.reason ILIKE $1)"
#define WA_QUARANTINE_SELECT                                                            \
	WA_QUARANTINE_COLS " AND ($2 = '' OR split_part(q.account, '@', 2) IN"          \
	" (SELECT d.name FROM domain_admins da JOIN accounts x ON x.id = da.account_id"  \
	" JOIN domains d ON d.id = da.domain_id WHERE x.address = lower($2)))"
#define WA_MY_QUARANTINE_SELECT WA_QUARANTINE_COLS " AND q.account = lower($2)"
#define WA_Q_SORTS(X, id, sel)                                                          \
	X(id##_DATE_ASC, sel " ORDER BY q.id" WA_PAGE, 4)                               \
	X(id##_DATE_DESC, sel " ORDER BY q.id DESC" WA_PAGE, 4)                         \
	X(id##_FROM_ASC, sel " ORDER BY q.envelope_from, q.id" WA_PAGE, 4)              \
	X(id##_FROM_DESC, sel " ORDER BY q.envelope_from DESC, q.id DESC" WA_PAGE, 4)   \
	X(id##_SUBJECT_ASC, sel " ORDER BY q.subject, q.id" WA_PAGE, 4)                 \
	X(id##_SUBJECT_DESC, sel " ORDER BY q.subject DESC, q.id DESC" WA_PAGE, 4)      \
	X(id##_SCORE_ASC, sel " ORDER BY q.score, q.id" WA_PAGE, 4)                     \
	X(id##_SCORE_DESC, sel " ORDER BY q.score DESC, q.id DESC" WA_PAGE, 4)          \
	X(id##_RCPT_ASC, sel " ORDER BY q.account, q.id" WA_PAGE, 4)                    \
	X(id##_RCPT_DESC, sel " ORDER BY q.account DESC, q.id DESC" WA_PAGE, 4)

#define STORE_STATEMENTS_WEBADMIN(X)                                                    \
	X(STMT_WA_SESSION_PURGE, "DELETE FROM web_sessions WHERE expires_at < now()", 0) \
	X(STMT_WA_SESSION_CREATE,                                                       \
	  "INSERT INTO web_sessions (id_hash, account_id, csrf, expires_at, client_ip)"  \
	  " SELECT $1, id, $3, now() + make_interval(secs => $4::bigint), $5"           \
	  " FROM accounts WHERE address = lower($2) AND enabled RETURNING account_id", 5) \
	X(STMT_WA_SESSION_GET,                                                          \
	  "UPDATE web_sessions s SET last_seen = now(), expires_at = least("            \
	  " s.created_at + make_interval(secs => $3::bigint),"                          \
	  " now() + make_interval(secs => $2::bigint)) FROM accounts a"                 \
	  " WHERE s.id_hash = $1 AND s.expires_at > now() AND a.id = s.account_id"     \
	  " AND a.enabled RETURNING a.address, s.csrf, a.is_admin, a.display_name", 3)  \
	X(STMT_WA_SESSION_DELETE, "DELETE FROM web_sessions WHERE id_hash = $1", 1)     \
	X(STMT_WA_SESSION_DELETE_OTHERS,                                                \
	  "DELETE FROM web_sessions WHERE account_id = (SELECT id FROM accounts"        \
	  " WHERE address = lower($1)) AND id_hash <> $2", 2)                           \
	X(STMT_WA_ADMIN_DOMAINS,                                                        \
	  "SELECT d.name FROM domain_admins da JOIN accounts a ON a.id = da.account_id" \
	  " JOIN domains d ON d.id = da.domain_id WHERE a.address = lower($1)"          \
	  " ORDER BY d.name", 1)                                                        \
	X(STMT_WA_DOMAIN_ADMIN_ADD,                                                     \
	  "INSERT INTO domain_admins (account_id, domain_id) SELECT a.id, d.id"         \
	  " FROM accounts a, domains d WHERE a.address = lower($1) AND d.name = lower($2)" \
	  " ON CONFLICT DO NOTHING", 2)                                                 \
	X(STMT_WA_DOMAIN_ADMIN_EXISTS,                                                  \
	  "SELECT (SELECT count(*) FROM accounts WHERE address = lower($1)),"           \
	  " (SELECT count(*) FROM domains WHERE name = lower($2))", 2)                  \
	X(STMT_WA_DOMAIN_ADMIN_DEL,                                                     \
	  "DELETE FROM domain_admins da USING accounts a, domains d"                    \
	  " WHERE a.id = da.account_id AND d.id = da.domain_id"                         \
	  " AND a.address = lower($1) AND d.name = lower($2)", 2)                       \
	X(STMT_WA_IN_SCOPE,                                                             \
	  "SELECT 1 FROM domain_admins da JOIN accounts a ON a.id = da.account_id"      \
	  " JOIN domains d ON d.id = da.domain_id WHERE a.address = lower($1)"          \
	  " AND d.name = lower($2)", 2)                                                 \
	X(STMT_WA_DOMAINS_ASC, WA_DOMAINS_SELECT " ORDER BY d.name" WA_PAGE, 4)         \
	X(STMT_WA_DOMAINS_DESC, WA_DOMAINS_SELECT " ORDER BY d.name DESC" WA_PAGE, 4)   \
	X(STMT_WA_USERS_ASC, WA_USERS_SELECT " ORDER BY a.address" WA_PAGE, 4)          \
	X(STMT_WA_USERS_DESC, WA_USERS_SELECT " ORDER BY a.address DESC" WA_PAGE, 4)    \
	X(STMT_WA_USERS_NAME_ASC,                                                       \
	  WA_USERS_SELECT " ORDER BY a.display_name, a.address" WA_PAGE, 4)             \
	X(STMT_WA_USERS_NAME_DESC,                                                      \
	  WA_USERS_SELECT " ORDER BY a.display_name DESC, a.address DESC" WA_PAGE, 4)   \
	X(STMT_WA_ALIASES_ASC, WA_ALIASES_SELECT " ORDER BY al.address" WA_PAGE, 4)     \
	X(STMT_WA_ALIASES_DESC, WA_ALIASES_SELECT " ORDER BY al.address DESC" WA_PAGE, 4) \
	X(STMT_WA_GROUPS_ASC, WA_GROUPS_SELECT " ORDER BY g.address" WA_PAGE, 4)        \
	X(STMT_WA_GROUPS_DESC, WA_GROUPS_SELECT " ORDER BY g.address DESC" WA_PAGE, 4)  \
	X(STMT_WA_QUEUE_ASC, WA_QUEUE_SELECT " ORDER BY m.id" WA_PAGE, 4)               \
	X(STMT_WA_QUEUE_DESC, WA_QUEUE_SELECT " ORDER BY m.id DESC" WA_PAGE, 4)         \
	WA_Q_SORTS(X, STMT_WA_QUAR, WA_QUARANTINE_SELECT)                               \
	WA_Q_SORTS(X, STMT_WA_MYQUAR, WA_MY_QUARANTINE_SELECT)                          \
	X(STMT_WA_GROUP_MEMBERS,                                                        \
	  "SELECT m.member FROM group_members m JOIN groups g ON g.id = m.group_id"     \
	  " WHERE g.address = lower($1) ORDER BY m.member LIMIT $2::int OFFSET $3::int", 3) \
	X(STMT_WA_QUEUE_HEAD,                                                           \
	  "SELECT substring(b.raw FROM 1 FOR $2::int) FROM queue_messages m"            \
	  " JOIN message_blobs b ON b.id = m.blob_id WHERE m.id = $1::bigint", 2)       \
	X(STMT_WA_AUDIT_ADD,                                                            \
	  "INSERT INTO audit_log (actor, client_ip, action, target, detail)"            \
	  " VALUES (left($1, 320), left($2, 64), left($3, 64), left($4, 400), left($5, 1000))", 5) \
	X(STMT_WA_AUDIT_LIST,                                                           \
	  "SELECT id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), actor,"  \
	  " client_ip, action, target, detail FROM audit_log"                           \
	  " WHERE ($1 = '%%' OR actor LIKE $1 OR target LIKE $1 OR action LIKE $1)"     \
	  " AND ($2::bigint = 0 OR id < $2::bigint) ORDER BY id DESC LIMIT $3::int", 3) \
	X(STMT_WA_APP_PASSWORD_ADD,                                                     \
	  "INSERT INTO app_passwords (account_id, name, password_hash)"                 \
	  " SELECT id, $2, $3 FROM accounts WHERE address = lower($1)"                  \
	  " AND (SELECT count(*) FROM app_passwords p WHERE p.account_id = accounts.id) < 20" \
	  " RETURNING id", 3)                                                           \
	X(STMT_WA_APP_PASSWORD_HASHES,                                                  \
	  "SELECT p.id, p.password_hash FROM app_passwords p JOIN accounts a"           \
	  " ON a.id = p.account_id WHERE a.address = lower($1) AND a.enabled"           \
	  " ORDER BY p.id LIMIT 20", 1)                                                 \
	X(STMT_WA_APP_PASSWORD_USED,                                                    \
	  "UPDATE app_passwords SET last_used = now() WHERE id = $1::bigint", 1)        \
	X(STMT_WA_APP_PASSWORD_LIST,                                                    \
	  "SELECT p.id, p.name, to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"  \
	  " coalesce(to_char(p.last_used AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'), '')" \
	  " FROM app_passwords p JOIN accounts a ON a.id = p.account_id"                \
	  " WHERE a.address = lower($1) ORDER BY p.id", 1)                              \
	X(STMT_WA_APP_PASSWORD_DEL,                                                     \
	  "DELETE FROM app_passwords p USING accounts a WHERE a.id = p.account_id"      \
	  " AND a.address = lower($1) AND p.id = $2::bigint RETURNING p.id", 2)         \
	X(STMT_WA_TOTP_GET,                                                             \
	  "SELECT t.secret, t.enabled, t.last_step FROM totp_secrets t"                 \
	  " JOIN accounts a ON a.id = t.account_id WHERE a.address = lower($1)", 1)     \
	X(STMT_WA_TOTP_BEGIN,                                                           \
	  "INSERT INTO totp_secrets (account_id, secret) SELECT id, $2 FROM accounts"   \
	  " WHERE address = lower($1) ON CONFLICT (account_id) DO UPDATE"               \
	  " SET secret = EXCLUDED.secret, enabled = false, last_step = 0,"              \
	  " created_at = now() WHERE NOT totp_secrets.enabled RETURNING account_id", 2) \
	X(STMT_WA_TOTP_USE,                                                             \
	  "UPDATE totp_secrets t SET last_step = $2::bigint, enabled = true"            \
	  " FROM accounts a WHERE a.id = t.account_id AND a.address = lower($1)"        \
	  " AND t.last_step < $2::bigint RETURNING t.account_id", 2)                    \
	X(STMT_WA_TOTP_DELETE,                                                          \
	  "DELETE FROM totp_secrets t USING accounts a WHERE a.id = t.account_id"       \
	  " AND a.address = lower($1) RETURNING t.account_id", 1)                       \
	X(STMT_WA_MAIL_HOURLY,                                                          \
	  "SELECT extract(epoch FROM hour)::bigint, direction, sum(messages)"           \
	  " FROM mail_stats_hourly WHERE hour > now() - interval '48 hours'"            \
	  " GROUP BY hour, direction ORDER BY hour", 0)                                 \
	X(STMT_WA_DOMAIN_STORAGE,                                                       \
	  "SELECT d.name, coalesce(sum(u.bytes), 0), count(a.id) FROM domains d"        \
	  " LEFT JOIN accounts a ON a.domain_id = d.id"                                 \
	  " LEFT JOIN mail_usage u ON u.account_id = a.id"                              \
	  " GROUP BY d.name ORDER BY 2 DESC, d.name LIMIT $1::int", 1)                  \
	X(STMT_WA_NODES,                                                                \
	  "SELECT coalesce(host(client_addr), 'local socket'), count(*),"               \
	  " to_char(min(backend_start) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')"       \
	  " FROM pg_stat_activity WHERE application_name = 'cairnd'"                    \
	  " AND datname = current_database() GROUP BY 1 ORDER BY 1 LIMIT 100", 0)       \
	X(STMT_WA_COUNTERS,                                                             \
	  "SELECT (SELECT count(*) FROM audit_log WHERE action = 'login'"               \
	  "  AND at > now() - interval '24 hours'),"                                    \
	  " (SELECT count(*) FROM audit_log WHERE action = 'login-failed'"              \
	  "  AND at > now() - interval '24 hours'),"                                    \
	  " (SELECT coalesce(sum(failures), 0) FROM auth_failures WHERE kind = 'net'"   \
	  "  AND last_failure > now() - interval '24 hours'),"                          \
	  " (SELECT count(*) FROM web_sessions WHERE expires_at > now()),"              \
	  " (SELECT count(*) FROM accounts WHERE domain_id IS NOT NULL),"               \
	  " (SELECT count(*) FROM accounts WHERE domain_id IS NOT NULL AND NOT enabled)", 0)

#endif
