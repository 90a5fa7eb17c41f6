/* The Sieve script the web admin's Mail rules page owns (pure: libc only):
 * its settings (out of office, forwarding, filter rules), how they are kept
 * in the script itself ("#@" comment lines, percent-encoded), how they are
 * checked, and the Sieve they generate (RFC 5228 with vacation, date,
 * relational, copy, fileinto, mailbox, imap4flags and include). Settings
 * that pass the checks generate a script proto/sieve compiles; the parser
 * keeps only what passes them, whatever the script holds (the user may
 * edit it by hand). */
#ifndef CAIRN_WA_SIEVE_H
#define CAIRN_WA_SIEVE_H

#include "util.h"

#define WA_SIEVE_NAME "webadmin"
#define WA_SIEVE_MAX_RULES 50

struct wa_rule {
	char *field;	/* from to cc subject list-id size */
	char *op;	/* contains is, or over under for size */
	char *value;	/* text (1..500 bytes), or a size: digits with K, M or G */
	char *action;	/* fileinto markread discard keep */
	char *arg;	/* the folder of fileinto, else "" */
	bool stop;
};

struct wa_sieve {
	bool vac;
	char *vac_start, *vac_end;	/* YYYY-MM-DD or "" */
	char *vac_days;			/* 1..365 */
	char *vac_subject, *vac_message, *vac_addresses;
	char *fwd;			/* an address or "" */
	bool fwd_keep;
	char *include;			/* the user's own script run after ours, "" none */
	struct wa_rule rules[WA_SIEVE_MAX_RULES];
	size_t nrules;
};

/* Defaults: nothing on, 7 days, subject "Out of office". */
void wa_sieve_init(struct wa_sieve *s);
/* Free every string; s must be initialised again before reuse. */
void wa_sieve_free(struct wa_sieve *s);
/* Free one rule's strings and zero it. */
void wa_sieve_free_rule(struct wa_rule *r);
/* Replace *dst by a copy of v. */
void wa_sieve_set(char **dst, const char *v);
/* Read the "#@" lines of src (len bytes) into s (initialised): values that
 * fail the checks below keep their defaults, rules that fail are dropped. */
void wa_sieve_parse(struct wa_sieve *s, const char *src, size_t len);
/* Append the whole script for s: the "#@" lines, then the Sieve. */
void wa_sieve_generate(const struct wa_sieve *s, struct buf *out);

/* Checks of what the forms send; each returns NULL when v is fine, else
 * the reason (static text). */
const char *wa_sieve_check_date(const char *v);		/* "" or YYYY-MM-DD */
const char *wa_sieve_check_days(const char *v);		/* 1..365 */
const char *wa_sieve_check_text(const char *v, size_t max);	/* at most max bytes */
const char *wa_sieve_check_address(const char *v);	/* local@domain, printable */
const char *wa_sieve_check_addresses(const char *v);	/* comma/space-separated */
/* Whether the user's script name can be included from ours (not ours, a
 * valid name without '/'). */
bool wa_sieve_includable(const char *name);
const char *wa_sieve_check_rule(const char *field, const char *op, const char *value,
				const char *action, const char *arg);

#endif
