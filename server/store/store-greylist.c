/* Greylisting triplets (see store-greylist.h): one upsert per check. */
#include "autoconf.h"
#include "store-greylist.h"
#include "store-mail-private.h"

#include <inttypes.h>
#include <stdio.h>

int store_greylist_check(struct store *st, const char *client_net, const char *sender,
			 const char *recipient, uint64_t delay_ms, uint64_t window_ms,
			 bool *passed_r, const char **error_r)
{
	char d[24], w[24];
	snprintf(d, sizeof(d), "%" PRIu64, delay_ms);
	snprintf(w, sizeof(w), "%" PRIu64, window_ms);
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_GREYLIST_CHECK, &res, client_net, sender, recipient,
				      d, w);
	if (ret != STORE_OK)
		return mail_done(st, ret, error_r);
	*passed_r = PQntuples(res) > 0 && PQgetvalue(res, 0, 0)[0] == 't';
	PQclear(res);
	return STORE_OK;
}

int store_greylist_expire(struct store *st, uint64_t max_age_ms, const char **error_r)
{
	char a[24];
	snprintf(a, sizeof(a), "%" PRIu64, max_age_ms);
	return mail_done(st, store_exec_prepared(st, STMT_GREYLIST_EXPIRE, NULL, a), error_r);
}
