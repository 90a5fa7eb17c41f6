/* The clamd protocol (ClamAV's clamd(8), "INSTREAM"): the request framing
 * and the reply parser. A session is "zINSTREAM\0", then chunks of
 * <4-byte big-endian length><data>, then a zero-length chunk; clamd answers
 * one NUL-terminated line. Pure: no I/O. */
#ifndef CAIRN_CLAMD_H
#define CAIRN_CLAMD_H

#include "util.h"

/* The largest chunk clamd's default StreamMaxLength lets through in one
 * piece is far above this; smaller chunks keep the sends short. */
#define CLAMD_CHUNK_MAX 65536
/* A reply longer than this is not clamd talking. */
#define CLAMD_REPLY_MAX 4096

enum clamd_verdict {
	CLAMD_CLEAN,	/* "stream: OK" */
	CLAMD_VIRUS,	/* "stream: NAME FOUND" */
	CLAMD_ERROR,	/* "... ERROR" (size limit, read error, ...) */
};

/* Append the whole request for msg[0..len): command, chunks and the
 * terminating zero-length chunk. Returns 0, or -1 if out's maximum is hit. */
int clamd_instream_request(const char *msg, size_t len, struct buf *out);

/* Parse the reply in reply[0..len) (the bytes read so far). Returns 1 when
 * it is complete (a NUL, or a newline for clamd's "n" commands) with
 * *verdict_r and the virus name or error text in name (truncated to namelen),
 * 0 when more bytes are needed, -1 when it is not a clamd reply. */
int clamd_parse_reply(const char *reply, size_t len, enum clamd_verdict *verdict_r,
		      char *name, size_t namelen);

#endif
