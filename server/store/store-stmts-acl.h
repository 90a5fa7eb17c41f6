/* Prepared statements of shared and public folders (store-acl.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_ACL_H
#define CAIRN_STORE_STMTS_ACL_H

#define STORE_ACL_BOX_COLUMNS                                                           \
	"m.id, m.uidvalidity, m.uidnext, m.highestmodseq, coalesce(m.special_use, ''),"  \
	" m.subscribed, m.noselect, m.name, a.address, a.kind, a.id"

#define STORE_STATEMENTS_ACL(X)                                                         \
	X(STMT_ACL_ACCOUNT, "SELECT id, kind FROM accounts WHERE address = lower($1)", 1) \
	X(STMT_ACL_PUBLIC_ENSURE,                                                       \
	  "INSERT INTO accounts (domain_id, localpart, address, password_hash,"         \
	  " display_name, enabled, kind) VALUES (NULL, 'public', $1, '!',"              \
	  " 'Public folders', false, 'public') ON CONFLICT DO NOTHING", 1)              \
	/* $3: the user's id, for his own subscription to another's mailbox. */      \
	X(STMT_ACL_BOX,                                                                 \
	  "SELECT " STORE_ACL_BOX_COLUMNS ","                                           \
	  " EXISTS (SELECT 1 FROM mailbox_user_subscriptions s"                         \
	  "  WHERE s.mailbox_id = m.id AND s.account_id = $3::bigint)"                  \
	  " FROM mailboxes m JOIN accounts a ON a.id = m.account_id"                    \
	  " WHERE m.account_id = $1 AND m.name = $2", 3)                                \
	X(STMT_ACL_ENTRIES,                                                             \
	  "SELECT identifier, rights FROM mailbox_acl WHERE mailbox_id = $1"            \
	  " ORDER BY identifier COLLATE \"C\"", 1)                                      \
	X(STMT_ACL_ENTRY_LOCK,                                                          \
	  "SELECT rights FROM mailbox_acl WHERE mailbox_id = $1 AND identifier = $2"    \
	  " FOR UPDATE", 2)                                                             \
	X(STMT_ACL_MBOX_LOCK, "SELECT id FROM mailboxes WHERE id = $1 FOR SHARE", 1)    \
	X(STMT_ACL_ENTRY_SET,                                                           \
	  "INSERT INTO mailbox_acl (mailbox_id, identifier, rights) VALUES ($1, $2, $3)" \
	  " ON CONFLICT (mailbox_id, identifier) DO UPDATE SET rights = EXCLUDED.rights", 3) \
	X(STMT_ACL_ENTRY_DEL,                                                           \
	  "DELETE FROM mailbox_acl WHERE mailbox_id = $1 AND identifier = $2", 2)       \
	/* Mailboxes of other accounts with an entry that may concern $2: one   */    \
	/* row per entry, every entry of such a mailbox.                        */    \
	X(STMT_ACL_SHARED,                                                              \
	  "SELECT " STORE_ACL_BOX_COLUMNS ","                                           \
	  " EXISTS (SELECT 1 FROM mailbox_user_subscriptions s"                         \
	  "  WHERE s.mailbox_id = m.id AND s.account_id = $1::bigint),"                 \
	  " e.identifier, e.rights"                                                     \
	  " FROM mailboxes m JOIN accounts a ON a.id = m.account_id"                    \
	  " JOIN mailbox_acl e ON e.mailbox_id = m.id"                                  \
	  " WHERE m.account_id <> $1::bigint AND m.id IN (SELECT mailbox_id"            \
	  "  FROM mailbox_acl WHERE identifier IN ($2, 'anyone', 'authenticated')"      \
	  "  OR left(identifier, 1) = '$')"                                             \
	  " ORDER BY a.kind DESC, a.address, m.name COLLATE \"C\", m.id,"               \
	  " e.identifier COLLATE \"C\"", 2)                                             \
	X(STMT_ACL_ALL,                                                                 \
	  "SELECT " STORE_ACL_BOX_COLUMNS ", false, e.identifier, e.rights"             \
	  " FROM mailboxes m JOIN accounts a ON a.id = m.account_id"                    \
	  " JOIN mailbox_acl e ON e.mailbox_id = m.id"                                  \
	  " ORDER BY a.kind DESC, a.address, m.name COLLATE \"C\", m.id,"               \
	  " e.identifier COLLATE \"C\"", 0)                                             \
	X(STMT_ACL_SUBSCRIBE,                                                           \
	  "INSERT INTO mailbox_user_subscriptions (account_id, mailbox_id)"             \
	  " VALUES ($1, $2) ON CONFLICT DO NOTHING", 2)                                 \
	X(STMT_ACL_UNSUBSCRIBE,                                                         \
	  "DELETE FROM mailbox_user_subscriptions WHERE account_id = $1"                \
	  " AND mailbox_id = $2", 2)                                                    \
	/* A reader's \Seen: ranges [lo, hi] ascending. */                            \
	X(STMT_ACL_SEEN_GET,                                                            \
	  "SELECT lower(r), upper(r) - 1 FROM mailbox_user_seen s, unnest(s.seen) r"    \
	  " WHERE s.mailbox_id = $1 AND s.account_id = $2 ORDER BY 1", 2)               \
	X(STMT_ACL_UNSEEN,                                                              \
	  "SELECT count(*) FROM mailbox_messages mm WHERE mm.mailbox_id = $1"           \
	  " AND NOT mm.uid <@ coalesce((SELECT seen FROM mailbox_user_seen"             \
	  "  WHERE mailbox_id = $1 AND account_id = $2), '{}'::int8multirange)", 2)     \
	/* Messages of set $3 (modseq <= $5) whose \Seen for reader $2 is not */     \
	/* yet $4.                                                             */     \
	X(STMT_ACL_SEEN_DIFF,                                                           \
	  "SELECT mm.uid FROM mailbox_messages mm WHERE mm.mailbox_id = $1"             \
	  " AND mm.uid <@ $3::int8multirange AND mm.modseq <= $5::bigint"               \
	  " AND (mm.uid <@ coalesce((SELECT seen FROM mailbox_user_seen"                \
	  "  WHERE mailbox_id = $1 AND account_id = $2), '{}'::int8multirange))"        \
	  "  <> $4::boolean ORDER BY mm.uid", 5)                                        \
	X(STMT_ACL_SEEN_SET,                                                            \
	  "INSERT INTO mailbox_user_seen AS s (mailbox_id, account_id, seen)"           \
	  " VALUES ($1, $2, CASE WHEN $4::boolean THEN $3::int8multirange"              \
	  "  ELSE '{}'::int8multirange END)"                                            \
	  " ON CONFLICT (mailbox_id, account_id) DO UPDATE SET seen = CASE"             \
	  "  WHEN $4::boolean THEN s.seen + $3::int8multirange"                         \
	  "  ELSE s.seen - $3::int8multirange END", 4)                                  \
	X(STMT_ACL_MM_TOUCH,                                                            \
	  "UPDATE mailbox_messages SET modseq = $3::bigint WHERE mailbox_id = $1"       \
	  " AND uid <@ $2::int8multirange", 3)                                          \
	/* STMT_MM_FLAGS with $8: flag bits a FLAGS replace keeps as they are. */    \
	X(STMT_ACL_MM_FLAGS,                                                            \
	  "WITH c AS (SELECT uid, flags AS of, keywords AS ok,"                         \
	  "  CASE $3 WHEN '+' THEN flags | $4::integer"                                 \
	  "   WHEN '-' THEN flags & ~$4::integer"                                       \
	  "   ELSE ($4::integer & ~$8::integer) | (flags & $8::integer) END AS nf,"     \
	  "  CASE $3 WHEN '+' THEN ARRAY(SELECT DISTINCT k COLLATE \"C\" FROM"           \
	  "    unnest(keywords || string_to_array($5, ' ')) k ORDER BY 1)"              \
	  "   WHEN '-' THEN ARRAY(SELECT k FROM unnest(keywords) k"                     \
	  "    WHERE k <> ALL (string_to_array($5, ' ')) ORDER BY k COLLATE \"C\")"     \
	  "   ELSE ARRAY(SELECT DISTINCT k COLLATE \"C\""                                \
	  "    FROM unnest(string_to_array($5, ' ')) k ORDER BY 1) END AS nk"           \
	  "  FROM mailbox_messages WHERE mailbox_id = $1"                               \
	  "  AND uid <@ $2::int8multirange AND modseq <= $6::bigint)"                   \
	  " UPDATE mailbox_messages m SET flags = c.nf, keywords = c.nk,"               \
	  " modseq = $7::bigint FROM c WHERE m.mailbox_id = $1 AND m.uid = c.uid"       \
	  " AND (c.nf <> c.of OR c.nk <> c.ok) RETURNING m.uid", 8)

#endif
