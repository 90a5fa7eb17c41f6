/* Prepared statements of SMTP delivery and the outbound queue hand-off (store-deliver.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_DELIVER_H
#define CAIRN_STORE_STMTS_DELIVER_H

#define STORE_STATEMENTS_DELIVER(X)                                                     \
	X(STMT_QUEUE_MSG_INSERT,                                                        \
	  "INSERT INTO queue_messages (blob_id, envelope_from, size, dsn_ret, dsn_envid," \
	  " body, smtputf8, auth_user, client_ip)"                                      \
	  " VALUES ($1::bigint, $2, $3::bigint, $4, $5, $6, $7::boolean, $8, $9)"        \
	  " RETURNING id", 9)                                                           \
	X(STMT_QUEUE_RCPT_INSERT,                                                       \
	  "INSERT INTO queue_recipients (message_id, address, dsn_notify, dsn_orcpt)"   \
	  " VALUES ($1::bigint, $2, $3, $4)", 4)

#endif
