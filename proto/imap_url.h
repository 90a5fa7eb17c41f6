/* IMAP URLs (RFC 5092) with the URLAUTH components of RFC 4467, as CATENATE
 * (RFC 4469), GENURLAUTH/URLFETCH (RFC 4467) and BURL (RFC 4468) use them:
 *
 *   imap://user;AUTH=*@host:143/INBOX;UIDVALIDITY=7/;UID=20/;SECTION=1.2
 *       /;PARTIAL=0.1024;EXPIRE=2026-12-01T00:00:00Z;URLAUTH=submit+user
 *       :INTERNAL:0123456789abcdef0123456789abcdef
 *
 * and the relative forms "//server/path", "/path" and ";UID=..." (relative
 * to the selected mailbox). Percent-escapes are decoded (mailbox names are
 * UTF-8 in URLs); the syntax and the order of the parts are checked; what
 * the parts mean (does the mailbox exist, is the section valid) is the
 * caller's business. Pure: no I/O, no globals. */
#ifndef CAIRN_IMAP_URL_H
#define CAIRN_IMAP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum imap_url_form {
	IMAP_URL_ABSOLUTE,	/* imap://server/... */
	IMAP_URL_NETWORK,	/* //server/...: the scheme is implied */
	IMAP_URL_PATH,		/* /mailbox...: same server */
	IMAP_URL_RELATIVE,	/* ;UID=... etc.: in the base (selected) mailbox */
	IMAP_URL_RELATIVE_MAILBOX,	/* mailbox/;UID=...: a path relative to the base */
};

enum imap_url_access {
	IMAP_URL_ACCESS_NONE,		/* no ;URLAUTH= */
	IMAP_URL_ACCESS_SUBMIT,		/* submit+<user> */
	IMAP_URL_ACCESS_USER,		/* user+<user> */
	IMAP_URL_ACCESS_AUTHUSER,	/* authuser */
	IMAP_URL_ACCESS_ANONYMOUS,	/* anonymous */
};

struct imap_url {
	enum imap_url_form form;
	char *user;		/* iuserinfo's user, decoded; NULL: none */
	char *auth;		/* ;AUTH= value ("*" or a mechanism); NULL: none */
	char *host;		/* ABSOLUTE/NETWORK: as written (IPv6 in []) */
	uint32_t port;		/* 0: not given */
	char *mailbox;		/* decoded UTF-8; NULL: none */
	uint32_t uidvalidity;	/* 0: not given */
	char *search;		/* ?enc-search, decoded; NULL: none */
	uint32_t uid;		/* 0: not given */
	char *section;		/* decoded section-spec; NULL: the whole message */
	bool partial;
	uint32_t partial_offset;
	uint32_t partial_length;	/* 0: up to the end */
	bool expire_set;
	int64_t expire;		/* ;EXPIRE= as seconds since the epoch (UTC) */
	enum imap_url_access access;
	char *access_user;	/* SUBMIT/USER: the user, decoded */
	char *mechanism;	/* ;URLAUTH=access:MECH:token; NULL without a verifier */
	char *token;		/* the hex verifier (enc-urlauth), as written */
	size_t rump_len;	/* with URLAUTH: bytes of the input up to and
				   including the access identifier (the "rump") */
};

/* Parse len bytes of s. Returns 0 and fills *url (free with imap_url_free),
 * or -1 with *error_r (static text) and *url empty. */
int imap_url_parse(const char *s, size_t len, struct imap_url *url, const char **error_r);
/* Free what imap_url_parse allocated; the struct is zeroed. */
void imap_url_free(struct imap_url *url);

/* RFC 3339 date-time ("2026-12-01T00:00:00Z", "...+02:00", fractions
 * ignored) to seconds since the epoch. Returns 0, or -1 when invalid. */
int imap_url_parse_datetime(const char *s, size_t len, int64_t *time_r);

#endif
