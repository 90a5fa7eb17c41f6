/* Durable delivery of one received message (SMTP/LMTP): one INBOX row per
 * distinct local account (the copy with Return-Path:, stored once) and one
 * outbound queue row per remote recipient, all in ONE transaction, so the gateway's 250 (sent after
 * this returns STORE_OK) means every copy is committed. */
#ifndef CAIRN_STORE_DELIVER_H
#define CAIRN_STORE_DELIVER_H

#include "store.h"

struct store;
typedef int store_deliver_after_fn(struct store *st, void *ctx, const char *const *accounts,
				   size_t n);

/* The message and its envelope; strings borrowed for the call. */
struct store_deliver_msg {
	const char *data;		/* the message with Received:; local copies get
					 * Return-Path: <envelope_from> prepended */
	size_t size;
	const char *envelope_from;	/* "" for the null reverse-path */
	const char *dsn_ret;		/* "FULL", "HDRS" or NULL */
	const char *dsn_envid;		/* decoded ENVID or NULL */
	const char *body;		/* "7BIT", "8BITMIME", "BINARYMIME" */
	bool smtputf8;
	const char *auth_user;		/* submitting account or NULL */
	const char *client_ip;
	/* Work to do in the same transaction once the copies are stored (iMIP
	 * into the recipients' calendars, deliver-imip.c): called with the
	 * accounts that got a copy, inside a savepoint, so its failure is rolled
	 * back to there and logged while the delivery still commits. A retried
	 * transaction calls it again. NULL: nothing. */
	store_deliver_after_fn *after;
	void *after_ctx;
};

/* One recipient: a local account (by primary address) or a remote address. */
struct store_deliver_rcpt {
	const char *address;
	bool local;
	const char *dsn_notify;		/* remote: "SUCCESS,FAILURE", "NEVER" or NULL */
	const char *dsn_orcpt;		/* remote: "rfc822;addr" or NULL */
	int result;			/* out: STORE_OK, STORE_OVERQUOTA, STORE_NOTFOUND ... */
	uint32_t uid;			/* out: local, the INBOX uid */
};

/* Store msg for every recipient in one transaction (local rows: one blob
 * "Return-Path: <from>" + data; queue row: data as is). Local accounts without
 * mailboxes get their defaults first. A local address listed twice is
 * stored once (both entries report the same result). With partial (LMTP),
 * a recipient refused by its quota or gone from the store keeps that result
 * in rcpts[i].result and the others are still committed; without it any
 * such refusal rolls everything back and is returned. Returns STORE_OK once
 * committed, or a store_result (STORE_TEMPFAIL: database down) with
 * *error_r set. */
int store_deliver_message(struct store *st, const struct store_deliver_msg *msg,
			  struct store_deliver_rcpt *rcpts, size_t count, bool partial,
			  const char **error_r);

/* Run after(ctx, accounts[0..n)) inside a savepoint of the current
 * transaction (see store_deliver_msg.after): returns STORE_OK when it
 * succeeded or was rolled back to the savepoint, a store_result only when
 * the transaction itself is lost. */
int store_deliver_run_after(struct store *st, store_deliver_after_fn *after, void *ctx,
			    const char *const *accounts, size_t n);

#endif
