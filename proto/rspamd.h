/* rspamd's HTTP protocol (https://rspamd.com/doc/developers/protocol.html):
 * the POST /checkv2 request with the envelope in headers, and the parser of
 * the JSON reply (score, required_score, action, symbols with scores, the
 * SMTP message). Pure: no I/O; the JSON reader is a small strict one. */
#ifndef CAIRN_RSPAMD_H
#define CAIRN_RSPAMD_H

#include "util.h"

#define RSPAMD_REPLY_MAX (4u << 20)
#define RSPAMD_MAX_SYMBOLS 128

struct rspamd_request {
	const char *ip;		/* client IP, or NULL */
	const char *helo;
	const char *from;	/* MAIL FROM address ("" = null sender) */
	const char *const *rcpts;
	size_t nrcpts;
	const char *hostname;	/* the client's verified name, or NULL */
	const char *user;	/* authenticated user, or NULL */
	const char *queue_id;	/* or NULL */
};

/* Append the request for msg[0..len). Header values with CR or LF are
 * refused (-1). */
int rspamd_request(const struct rspamd_request *req, const char *msg, size_t len,
		   struct buf *out);

struct rspamd_symbol {
	char name[64];
	double score;
};

struct rspamd_reply {
	int http_status;
	double score, required_score;
	bool has_score;
	char action[32];		/* "no action", "greylist", "add header", "rewrite subject",
					 * "soft reject", "reject" */
	char smtp_message[256];		/* messages.smtp_message, or "" */
	struct rspamd_symbol symbols[RSPAMD_MAX_SYMBOLS];
	size_t nsymbols;
	bool skipped;			/* is_skipped */
};

/* Parse the HTTP reply in r[0..len) (eof: the server closed). Returns 1
 * with *rep filled, 0 when more bytes are needed, -1 with *error_r. */
int rspamd_parse_reply(const char *r, size_t len, bool eof, struct rspamd_reply *rep,
		       const char **error_r);
/* Parse just the JSON body. Returns 0 or -1 with *error_r. */
int rspamd_parse_json(const char *s, size_t len, struct rspamd_reply *rep, const char **error_r);

#endif
