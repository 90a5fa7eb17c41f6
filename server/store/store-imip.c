/* iMIP's store: the automatic answers' memory (migration 0029), one
 * INSERT ... ON CONFLICT ... WHERE expired per claim, which PostgreSQL
 * serialises on the row, so two nodes never both answer. */
#include "autoconf.h"
#include "store-imip.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>

/* Claims between two clean-ups of expired rows. */
#define IMIP_EXPIRE_EVERY 64

int store_imip_auto_claim(struct store *st, const char *sender, const char *recipient,
			  const char *handle, uint64_t seconds, bool *allowed_r,
			  const char **error_r)
{
	char secs[24];
	PGresult *res;
	*allowed_r = false;
	snprintf(secs, sizeof(secs), "%" PRIu64, seconds > 0 ? seconds : 1);
	static atomic_uint_fast64_t claims;
	if (atomic_fetch_add(&claims, 1) % IMIP_EXPIRE_EVERY == IMIP_EXPIRE_EVERY - 1) {
		int ret = store_exec_prepared(st, STMT_IMIP_AUTO_EXPIRE, NULL);
		if (ret != STORE_OK)
			return mail_done(st, ret, error_r);
	}
	int ret = store_exec_prepared(st, STMT_IMIP_AUTO_CLAIM, &res, sender, recipient, handle,
				      secs);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*allowed_r = PQntuples(res) > 0;
	PQclear(res);
	return STORE_OK;
}

int store_imip_queue_notify(struct store *st, const char **error_r)
{
	return mail_done(st, store_exec_prepared(st, STMT_IMIP_QUEUE_NOTIFY, NULL), error_r);
}
