/* Prepared statements of LISTEN/NOTIFY (store-notify.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_NOTIFY_H
#define CAIRN_STORE_STMTS_NOTIFY_H

#define STORE_STATEMENTS_NOTIFY(X)

#endif
