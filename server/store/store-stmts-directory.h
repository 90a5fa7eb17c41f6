/* Prepared statements of the sql directory backend (aliases, groups,
 * memberships), one X(id, sql, nparams) per statement; included by
 * store-private.h only. */
#ifndef CAIRN_STORE_STMTS_DIRECTORY_H
#define CAIRN_STORE_STMTS_DIRECTORY_H

#define STORE_STATEMENTS_DIRECTORY(X)

#endif
