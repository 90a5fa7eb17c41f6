/* Prepared statements of IMAP SEARCH/SORT/THREAD queries (store-mail-search.c),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_SEARCH_H
#define CAIRN_STORE_STMTS_SEARCH_H

#define STORE_STATEMENTS_SEARCH(X)

#endif
