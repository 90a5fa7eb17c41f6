/* Prepared statements of the mail store (mailboxes, messages, flags, quota),
 * one X(id, sql, nparams) per statement; included by store-private.h only. */
#ifndef CAIRN_STORE_STMTS_MAIL_H
#define CAIRN_STORE_STMTS_MAIL_H

#define STORE_STATEMENTS_MAIL(X)

#endif
