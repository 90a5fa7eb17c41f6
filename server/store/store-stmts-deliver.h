/* Prepared statements of SMTP delivery and the outbound queue hand-off (store-deliver.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_DELIVER_H
#define CAIRN_STORE_STMTS_DELIVER_H

#define STORE_STATEMENTS_DELIVER(X)

#endif
