/* Prepared statements of the URLAUTH access keys (store-urlauth.c), one
 * X(id, sql, nparams) per statement; included by store-private.h only.
 * Keys travel as hex text. */
#ifndef CAIRN_STORE_STMTS_URLAUTH_H
#define CAIRN_STORE_STMTS_URLAUTH_H

#define STORE_STATEMENTS_URLAUTH(X)                                                     \
	X(STMT_URLAUTH_KEY_GET,                                                         \
	  "SELECT encode(key, 'hex') FROM urlauth_keys WHERE mailbox_id = $1", 1)       \
	X(STMT_URLAUTH_KEY_PUT,                                                         \
	  "INSERT INTO urlauth_keys (mailbox_id, key) VALUES ($1, decode($2, 'hex'))"   \
	  " ON CONFLICT (mailbox_id) DO NOTHING", 2)                                    \
	X(STMT_URLAUTH_RESET_ONE, "DELETE FROM urlauth_keys WHERE mailbox_id = $1", 1)  \
	X(STMT_URLAUTH_RESET_ALL,                                                       \
	  "DELETE FROM urlauth_keys WHERE mailbox_id IN (SELECT m.id FROM mailboxes m"  \
	  " JOIN accounts a ON a.id = m.account_id WHERE a.address = lower($1))", 1)

#endif
