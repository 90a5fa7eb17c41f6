/* Greylisting triplets in PostgreSQL (migration 0023), shared by every node. */
#ifndef CAIRN_STORE_GREYLIST_H
#define CAIRN_STORE_GREYLIST_H

#include <stdbool.h>
#include <stdint.h>

struct store;

/* Record an attempt of (client_net, sender, recipient); *passed_r says
 * whether the triplet has passed (a retry came between delay_ms and
 * window_ms after the first attempt, now or earlier). */
int store_greylist_check(struct store *st, const char *client_net, const char *sender,
			 const char *recipient, uint64_t delay_ms, uint64_t window_ms,
			 bool *passed_r, const char **error_r);
/* Drop triplets not seen for max_age_ms. */
int store_greylist_expire(struct store *st, uint64_t max_age_ms, const char **error_r);

#endif
