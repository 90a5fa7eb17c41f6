/* The SPAMC/SPAMD protocol of SpamAssassin's spamd (spamd/PROTOCOL in the
 * SpamAssassin source): the request a client sends and the parser of the
 * reply. Pure: no I/O. */
#ifndef CAIRN_SPAMC_H
#define CAIRN_SPAMC_H

#include "util.h"

#define SPAMC_REPLY_MAX (1024 * 1024)

enum spamc_command {
	SPAMC_SYMBOLS,	/* the score and the names of the tests hit */
	SPAMC_REPORT,	/* the score and the report text */
	SPAMC_CHECK,	/* the score only */
};

/* Append a SPAMC/1.5 request for msg[0..len). user (may be NULL) names the
 * spamd user whose preferences apply; it must not contain CR or LF
 * (returns -1 then). Returns 0, or -1 if out's maximum is hit. */
int spamc_request(enum spamc_command cmd, const char *user, const char *msg, size_t len,
		  struct buf *out);

struct spamc_reply {
	int code;		/* the EX_ code: 0 = EX_OK */
	bool spam;		/* Spam: True / Yes */
	double score, threshold;
	const char *body;	/* points into the parsed buffer: symbols or report */
	size_t body_len;
};

/* Parse the reply in r[0..len), which holds everything read so far; eof
 * says the server closed the connection. Returns 1 with *reply_r filled,
 * 0 when more bytes are needed, or -1 with *error_r for a malformed or
 * failed reply (a code other than EX_OK counts as failed: *error_r then
 * quotes the message). */
int spamc_parse_reply(const char *r, size_t len, bool eof, struct spamc_reply *reply_r,
		      const char **error_r);

/* Iterate the comma-separated test names of a SYMBOLS body: returns the
 * next name's length and sets *name_r, or 0 at the end; *pos starts at 0. */
size_t spamc_next_symbol(const char *body, size_t len, size_t *pos, const char **name_r);

#endif
