/* LISTEN "cairn_mailbox" for the whole process: one non-blocking libpq
 * connection owned by the loop thread, whose notifications ("<mailbox
 * id>:<highestmodseq>") are fanned out to the sessions that subscribed to
 * that mailbox (IMAP IDLE and pending-change detection). */
#ifndef CAIRN_STORE_NOTIFY_H
#define CAIRN_STORE_NOTIFY_H

#include "util.h"

struct config;
struct loop;
struct store_notify;

/* Called on the loop thread; modseq 0 means "changes may have been missed
 * (the LISTEN connection was re-established): check". */
typedef void store_notify_cb(uint64_t mailbox_id, uint64_t modseq, void *ctx);

/* A subscription lives inside its owner's struct; zero it before use. */
struct store_notify_sub {
	uint64_t mailbox_id;		/* or the account id when account */
	store_notify_cb *cb;
	void *ctx;
	struct store_notify_sub *prev, *next;
	bool linked;
	bool account;			/* an account's mailbox list (payload "a<id>") */
};

/* Start connecting (non-blocking) with cfg's conninfo; reconnects after
 * failures every [store] reconnect_interval. cfg must outlive it. */
struct store_notify *store_notify_create(struct loop *loop, const struct config *cfg);
/* LISTEN channel (a constant identifier) instead: cb(ctx) runs on the loop
 * thread once per batch of notifications read and each time the LISTEN is
 * (re)established (changes may have been missed). No subscribers. */
struct store_notify *store_notify_create_channel(struct loop *loop, const struct config *cfg,
						 const char *channel, void (*cb)(void *ctx),
						 void *ctx);
/* Close the connection, forget every subscription and set *n to NULL. */
void store_notify_destroy(struct store_notify **n);
/* Deliver notifications of mailbox_id to cb(ctx); sub stays the caller's. */
void store_notify_subscribe(struct store_notify *n, struct store_notify_sub *sub,
			    uint64_t mailbox_id, store_notify_cb *cb, void *ctx);
/* Deliver changes of account_id's mailbox list and subscriptions (the
 * payload "a<account id>", raised by store-mail-box.c in the transaction
 * that creates, renames or deletes a mailbox or (un)subscribes one) to
 * cb(account_id, 1, ctx); modseq 0 again means "anything may have changed". */
void store_notify_subscribe_account(struct store_notify *n, struct store_notify_sub *sub,
				    uint64_t account_id, store_notify_cb *cb, void *ctx);
/* Stop delivering to sub; harmless when it is not subscribed. */
void store_notify_unsubscribe(struct store_notify *n, struct store_notify_sub *sub);
/* True while the LISTEN is active (for tests and metrics). */
bool store_notify_listening(const struct store_notify *n);

#endif
