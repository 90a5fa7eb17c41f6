/* clamd INSTREAM framing and reply parsing (see clamd(8), "INSTREAM"). */
#include "clamd.h"

#include <string.h>

int clamd_instream_request(const char *msg, size_t len, struct buf *out)
{
	if (buf_append(out, "zINSTREAM", 10) < 0)	/* with its NUL */
		return -1;
	size_t off = 0;
	while (off < len) {
		size_t n = len - off > CLAMD_CHUNK_MAX ? CLAMD_CHUNK_MAX : len - off;
		unsigned char hdr[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
					 (unsigned char)(n >> 8), (unsigned char)n };
		if (buf_append(out, hdr, 4) < 0 || buf_append(out, msg + off, n) < 0)
			return -1;
		off += n;
	}
	static const unsigned char end[4] = { 0, 0, 0, 0 };
	return buf_append(out, end, 4);
}

static void copy_out(char *dst, size_t dstlen, const char *s, size_t n)
{
	if (dstlen == 0)
		return;
	if (n >= dstlen)
		n = dstlen - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[n] = '\0';
}

int clamd_parse_reply(const char *reply, size_t len, enum clamd_verdict *verdict_r,
		      char *name, size_t namelen)
{
	size_t end;
	for (end = 0; end < len; end++)
		if (reply[end] == '\0' || reply[end] == '\n')
			break;
	if (end == len)
		return len > CLAMD_REPLY_MAX ? -1 : 0;
	/* "stream: OK", "stream: Eicar-Test-Signature FOUND",
	 * "INSTREAM size limit exceeded. ERROR"; with IDSESSION a "N: " id
	 * comes first. The path part ends at the last ": " before the result. */
	const char *s = reply;
	size_t n = end;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n >= 6 && memcmp(s + n - 6, " ERROR", 6) == 0) {
		*verdict_r = CLAMD_ERROR;
		copy_out(name, namelen, s, n - 6);
		return 1;
	}
	const char *colon = NULL;
	for (size_t i = 0; i + 1 < n; i++)
		if (s[i] == ':' && s[i + 1] == ' ')
			colon = s + i;
	if (colon == NULL)
		return -1;
	const char *r = colon + 2;
	size_t rn = n - (size_t)(r - s);
	if (rn == 2 && memcmp(r, "OK", 2) == 0) {
		*verdict_r = CLAMD_CLEAN;
		copy_out(name, namelen, "", 0);
		return 1;
	}
	if (rn > 6 && memcmp(r + rn - 6, " FOUND", 6) == 0) {
		*verdict_r = CLAMD_VIRUS;
		copy_out(name, namelen, r, rn - 6);
		return 1;
	}
	return -1;
}
