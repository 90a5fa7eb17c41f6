/* SMTP wire formats (RFC 5321 with SMTPUTF8 6531, 8BITMIME 6152, SIZE 1870,
 * DSN 3461, CHUNKING 3030, AUTH 4954, enhanced codes 2034/3463, LMTP 2033).
 * Pure: no sockets, no globals, no logging. Three parts:
 *  - smtp_command_parse(): one command line (CRLF already stripped by the
 *    reader) into a struct smtp_command, or an SMTP reply for the error;
 *  - struct smtp_data_reader: the incremental DATA/BDAT body reader that
 *    removes dot-stuffing and refuses SMTP smuggling (bare CR / bare LF);
 *  - reply formatting, EHLO keywords, xtext, address splitting.
 *
 * Liberal choices, all safe (documented here once):
 *  - trailing SP/HTAB on a command line is ignored;
 *  - runs of SP are accepted where the grammar has one SP (after the verb,
 *    between ESMTP parameters);
 *  - one SP between "FROM:"/"TO:" and "<" is accepted (as Postfix does);
 *    RFC 5321 4.1.2 allows none; two or more are refused;
 *  - HELO accepts an address literal like EHLO (RFC 5321 grammar: Domain);
 *  - verbs, "FROM:", "TO:", parameter keywords and the fixed parameter values
 *    (BODY, RET, NOTIFY, BDAT LAST) are case-insensitive (ABNF literals);
 *  - an AUTH mechanism name is upper-cased (RFC 4422 names are upper case);
 *  - NOOP and HELP take any printable argument (RFC 5321 4.1.1.9: ignored);
 *    VRFY and EXPN take any printable string (clients send "<a@b>").
 * Everything else follows the ABNF exactly. The caller's line limit (reader
 * max_line) must allow for the extensions: 512 (RFC 5321 4.5.3.1.4) plus
 * 26 (SIZE), 100+10 (ENVID, RET), 500+23 (ORCPT, NOTIFY), 500 (AUTH=), and
 * 12288 for an AUTH line (RFC 4954 4). */
#ifndef CAIRN_SMTP_PARSER_H
#define CAIRN_SMTP_PARSER_H

#include "util.h"

/* RFC 5321 4.5.3.1 size limits, in octets. */
#define SMTP_MAX_LOCAL_PART 64		/* local part as sent (quotes included) */
#define SMTP_MAX_DOMAIN 255
#define SMTP_MAX_PATH 256		/* "<" [route ":"] mailbox ">" */
#define SMTP_MAX_REPLY_LINE 512		/* reply line including CRLF */
#define SMTP_MAX_TEXT_LINE 998		/* DATA line without CRLF (4.5.3.1.6) */
/* RFC 3461 4.4 and 4.2: decoded ENVID and ORCPT address length. */
#define SMTP_MAX_ENVID 100
#define SMTP_MAX_ORCPT 500
/* RFC 4422 3.1: 1*20 mechanism characters. */
#define SMTP_MAX_SASL_MECH 20
/* MAIL takes at most 6 known parameters and RCPT 2; the 7th is always a
 * duplicate or unknown, so this is never a limit on a valid command. */
#define SMTP_MAX_PARAMS 8

enum smtp_verb {
	SMTP_VERB_UNKNOWN = 0,
	SMTP_VERB_HELO,
	SMTP_VERB_EHLO,
	SMTP_VERB_LHLO,		/* LMTP, RFC 2033; same syntax as EHLO */
	SMTP_VERB_MAIL,
	SMTP_VERB_RCPT,
	SMTP_VERB_DATA,
	SMTP_VERB_BDAT,
	SMTP_VERB_RSET,
	SMTP_VERB_NOOP,
	SMTP_VERB_QUIT,
	SMTP_VERB_VRFY,
	SMTP_VERB_EXPN,
	SMTP_VERB_HELP,
	SMTP_VERB_STARTTLS,
	SMTP_VERB_AUTH,
};

/* Extensions the server advertises. The parser answers 555 for a parameter
 * whose extension is not in struct smtp_parse_opts.extensions. */
enum smtp_ext {
	SMTP_EXT_PIPELINING = 1 << 0,
	SMTP_EXT_SIZE = 1 << 1,
	SMTP_EXT_8BITMIME = 1 << 2,
	SMTP_EXT_BINARYMIME = 1 << 3,
	SMTP_EXT_CHUNKING = 1 << 4,
	SMTP_EXT_SMTPUTF8 = 1 << 5,
	SMTP_EXT_DSN = 1 << 6,
	SMTP_EXT_ENHANCEDSTATUSCODES = 1 << 7,
	SMTP_EXT_STARTTLS = 1 << 8,
	SMTP_EXT_AUTH = 1 << 9,
};
#define SMTP_EXT_ALL 0x3ffu

enum smtp_param_id {
	SMTP_PARAM_SIZE = 0,	/* MAIL, RFC 1870 */
	SMTP_PARAM_BODY,	/* MAIL, RFC 6152 / 3030 */
	SMTP_PARAM_SMTPUTF8,	/* MAIL, RFC 6531 */
	SMTP_PARAM_RET,		/* MAIL, RFC 3461 */
	SMTP_PARAM_ENVID,	/* MAIL, RFC 3461 */
	SMTP_PARAM_AUTH,	/* MAIL, RFC 4954 */
	SMTP_PARAM_NOTIFY,	/* RCPT, RFC 3461 */
	SMTP_PARAM_ORCPT,	/* RCPT, RFC 3461 */
	SMTP_PARAM_UNKNOWN,
};

enum smtp_body {
	SMTP_BODY_NONE = 0,	/* no BODY parameter */
	SMTP_BODY_7BIT,
	SMTP_BODY_8BITMIME,
	SMTP_BODY_BINARYMIME,
};

enum smtp_ret {
	SMTP_RET_NONE = 0,
	SMTP_RET_FULL,
	SMTP_RET_HDRS,
};

/* NOTIFY= bits; NEVER is never combined with the others. */
#define SMTP_NOTIFY_NEVER 0x1u
#define SMTP_NOTIFY_SUCCESS 0x2u
#define SMTP_NOTIFY_FAILURE 0x4u
#define SMTP_NOTIFY_DELAY 0x8u

enum smtp_literal {
	SMTP_LITERAL_NONE = 0,	/* a domain name */
	SMTP_LITERAL_IPV4,	/* [1.2.3.4] */
	SMTP_LITERAL_IPV6,	/* [IPv6:...] */
	SMTP_LITERAL_GENERAL,	/* [tag:content], tag not registered: policy decides */
};

struct smtp_mailbox {
	const char *local;	/* local part, quotes and quoted-pair backslashes removed */
	const char *domain;	/* domain as sent, or the address literal with its [] */
	bool local_quoted;	/* the local part was a Quoted-string: policy may refuse
				   it (relay tricks such as "a@b"@c) */
	enum smtp_literal literal;	/* kind of address literal, or NONE */
	bool utf8;		/* non-ASCII octets present (only under SMTPUTF8) */
};

struct smtp_path {
	bool null;		/* "<>" (MAIL only) */
	bool postmaster;	/* RCPT "<Postmaster>" without domain (RFC 5321 4.5.1);
				   mbox.local is "Postmaster" and mbox.domain "" */
	bool source_route;	/* "@a,@b:" was present; it is dropped (Appendix C)
				   and policy may refuse the command */
	const char *raw;	/* the mailbox as sent, without <> and route; "" if null */
	struct smtp_mailbox mbox;
};

struct smtp_param {
	enum smtp_param_id id;
	const char *keyword;	/* as sent */
	const char *value;	/* raw value as sent, or NULL when no "=" */
};

/* A parsed command. Strings are NUL-terminated and live in storage until the
 * next parse or smtp_command_free(). */
struct smtp_command {
	enum smtp_verb verb;	/* set even when parsing fails, if the verb was known */

	/* HELO/EHLO/LHLO domain or literal; VRFY/EXPN/HELP/NOOP argument (NULL
	   if none for HELP/NOOP); AUTH mechanism, upper-cased. */
	const char *arg;
	enum smtp_literal arg_literal;	/* HELO/EHLO/LHLO: argument is a literal */
	bool smtputf8;		/* MAIL SMTPUTF8 parameter, or VRFY/EXPN "SMTPUTF8" */

	struct smtp_path path;	/* MAIL, RCPT */
	struct smtp_param params[SMTP_MAX_PARAMS];
	size_t param_count;
	unsigned params_seen;	/* bit (1u << enum smtp_param_id) per parameter present */
	uint64_t size;		/* SIZE= (UINT64_MAX if it overflowed: "too big");
				   BDAT chunk size */
	enum smtp_body body;
	enum smtp_ret ret;
	const char *envid;	/* ENVID, xtext-decoded, or NULL */
	const char *auth;	/* MAIL AUTH=, xtext-decoded: "<>" or a mailbox, or NULL */
	unsigned notify;	/* SMTP_NOTIFY_* bits, 0 if absent */
	const char *orcpt_type;	/* ORCPT addr-type as sent (e.g. "rfc822"), or NULL */
	const char *orcpt;	/* ORCPT address, xtext-decoded, or NULL */
	bool bdat_last;		/* BDAT ... LAST */
	const char *auth_response;	/* AUTH initial response (base64 text, "" for
					   "="), or NULL when absent */

	/* After -1: the reply to send. */
	unsigned error_code;		/* 500, 501, 504, 553 or 555 */
	const char *error_enhanced;	/* e.g. "5.5.4" */
	const char *bad_param;	/* the offending parameter keyword, or NULL */

	struct buf storage;
};

struct smtp_parse_opts {
	unsigned extensions;	/* enum smtp_ext bits the server advertised */
	bool utf8;		/* the transaction's MAIL had SMTPUTF8: RCPT may
				   carry UTF-8 (MAIL decides from its own line) */
};

/* Prepare an empty command (no memory held). */
void smtp_command_init(struct smtp_command *cmd);
/* Free the command's strings; it stays usable. Parsing keeps about 3x the
 * longest line seen, so an idle session should call this between commands. */
void smtp_command_free(struct smtp_command *cmd);

/* Parse one command line (without CRLF; may contain NULs, which are refused).
 * opts NULL means every extension and no SMTPUTF8 transaction.
 * Returns 0 with *cmd filled, or -1 with cmd->verb (if known),
 * cmd->error_code, cmd->error_enhanced and *error_r (static text) set. */
int smtp_command_parse(const char *line, size_t len, const struct smtp_parse_opts *opts,
		       struct smtp_command *cmd, const char **error_r);
/* The verb's name ("MAIL"), or "UNKNOWN". */
const char *smtp_verb_name(enum smtp_verb verb);

/* --- DATA / BDAT body reader --- */

/* Body violations and facts, as bits. */
#define SMTP_DATA_BARE_LF 0x01u		/* LF not preceded by CR: smuggling attempt */
#define SMTP_DATA_BARE_CR 0x02u		/* CR not followed by LF: smuggling attempt */
#define SMTP_DATA_NUL 0x04u		/* a NUL octet */
#define SMTP_DATA_LONG_LINE 0x08u	/* a line over 998 octets without CRLF */
#define SMTP_DATA_TOO_BIG 0x10u		/* past max_size or the output buffer's max */
#define SMTP_DATA_8BIT 0x20u		/* an octet >= 0x80 (for 8BITMIME checks) */
#define SMTP_DATA_SMUGGLING (SMTP_DATA_BARE_LF | SMTP_DATA_BARE_CR)

/* Embedded in the session; fields are private, use the functions. */
struct smtp_data_reader {
	int state;
	bool chunk_mode;	/* BDAT: no dot-stuffing and no end marker */
	bool discard;		/* output stopped (violation or too big) */
	unsigned flags;
	uint64_t max_size;
	uint64_t size;
	size_t line_len;
};

/* Start reading a body of at most max_size message octets (0 = unlimited).
 * chunk_mode is for BDAT: bytes are taken as they are (no dot handling, no
 * end marker); the session counts the chunk size itself. */
void smtp_data_init(struct smtp_data_reader *r, uint64_t max_size, bool chunk_mode);
/* Feed received bytes; the message (dot-stuffing removed, CRLF kept, the final
 * ".\r\n" dropped) is appended to out. Returns 1 when CRLF "." CRLF ended the
 * data (bytes after it are not consumed: they are the next command), else 0
 * with everything consumed. *consumed_r is always set. After a bare CR/LF or
 * too-big condition the reader keeps consuming but appends nothing more, and
 * what out holds must be discarded. Identical results for any chunking. */
int smtp_data_feed(struct smtp_data_reader *r, const char *data, size_t len,
		   struct buf *out, size_t *consumed_r);
/* BDAT LAST (or connection end): a CR still waiting for its LF is bare. */
void smtp_data_finish(struct smtp_data_reader *r);
/* SMTP_DATA_* bits seen so far. */
unsigned smtp_data_flags(const struct smtp_data_reader *r);
/* Message octets seen so far (after unstuffing), counted even when discarded. */
uint64_t smtp_data_size(const struct smtp_data_reader *r);
/* The reply for the worst condition in flags (mask out what policy allows,
 * e.g. 8BIT with BODY=8BITMIME, bare CR/LF with BODY=BINARYMIME). Returns 0
 * if nothing in flags calls for a rejection, else -1 and sets the reply:
 *  smuggling   554 5.6.0 (RFC 5321 2.3.8; the session may also disconnect)
 *  too big     552 5.3.4 (RFC 1870 6.3)
 *  NUL         554 5.6.0
 *  long line   554 5.6.0 (RFC 5321 4.5.3.1.6 is a line limit, not size: 5.3.4
 *              is about the whole message, so X.6.0 "media error")
 *  8BIT        554 5.6.1 (only when passed: RFC 6152 data without BODY=8BITMIME) */
int smtp_data_reply(unsigned flags, unsigned *code_r, const char **enhanced_r,
		    const char **text_r);

/* --- replies, EHLO, xtext, addresses --- */

/* Append a reply: one line per '\n'-separated line of text ("250-a\r\n250 b\r\n"),
 * each at most 512 octets with CRLF (longer text is wrapped, at a space if
 * possible); control characters in text become '?'. enhanced (NULL for none)
 * must be class.subject.detail with the class of code. Returns 0, or -1 for a
 * bad code/enhanced code or past out's max (out is then left unchanged). */
int smtp_reply_format(struct buf *out, unsigned code, const char *enhanced, const char *text);
/* Append EHLO keyword lines for the extensions bits, '\n'-separated with a
 * leading '\n' each, so "host\n..." can go to smtp_reply_format(out, 250,
 * NULL, ...). SIZE carries max_size (0 = no fixed limit); AUTH lists
 * auth_mechs (space-separated; AUTH is left out if NULL or empty).
 * Returns 0 or -1 past out's max. */
int smtp_ehlo_keywords(struct buf *out, unsigned extensions, uint64_t max_size,
		       const char *auth_mechs);

/* Decode RFC 3461 xtext, appending to out. Returns 0, or -1 with *error_r on
 * bad syntax (octets outside 33..126, a literal '=', '+' not followed by two
 * upper-case hex digits), a decoded NUL, or out's max. */
int smtp_xtext_decode(const char *in, size_t len, struct buf *out, const char **error_r);
/* Encode as xtext, appending to out. Returns 0 or -1 past out's max. */
int smtp_xtext_encode(struct buf *out, const char *in, size_t len);

/* Split a Mailbox "local@domain" (RFC 5321 4.1.2; UTF-8 only if utf8) for a
 * directory lookup: *local_r gets the decoded local part and *domain_r the
 * domain, ASCII letters lower-cased, both stored in out (reset first).
 * Returns 1 for a domain name (may be one of ours), 0 for an address literal
 * (never a local domain), -1 with *error_r on bad syntax or length. */
int smtp_address_split(const char *addr, size_t len, bool utf8, struct buf *out,
		       const char **local_r, const char **domain_r, const char **error_r);

#endif
