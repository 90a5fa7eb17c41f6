/* iMIP in the store (migration 0029): the memory of automatic iMIP answers
 * that keeps two automatic responders from looping (deliver/imip.c). */
#ifndef CAIRN_STORE_IMIP_H
#define CAIRN_STORE_IMIP_H

#include "store.h"

/* Claim the right to send the automatic answer handle from sender to
 * recipient now: *allowed_r is true when none was sent within the last
 * period (the period then restarts and lasts seconds), false when one was.
 * Atomic across nodes. Runs inside the caller's transaction if there is
 * one. Now and then also forgets a few expired rows. */
int store_imip_auto_claim(struct store *st, const char *sender, const char *recipient,
			  const char *handle, uint64_t seconds, bool *allowed_r,
			  const char **error_r);

/* Wake the queue runners of every node when the caller's transaction
 * commits (NOTIFY is delivered at commit, dropped on rollback): for the
 * rare transactions that queue iMIP mail, where no code runs after the
 * commit to call store_queue_notify(). */
int store_imip_queue_notify(struct store *st, const char **error_r);

#endif
