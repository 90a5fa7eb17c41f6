/* Modified UTF-7 (RFC 3501 section 5.1.3) <-> UTF-8. The decoder accepts
 * only the one canonical encoding of each name, so two different byte
 * strings never name the same mailbox. */
#include "autoconf.h"

#include <string.h>

#include "mutf7.h"

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

static int append_utf8(struct buf *out, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | (cp >> 6));
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | (cp >> 12));
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | (cp >> 18));
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, s, n);
}

static int fail(const char **error_r, const char *reason)
{
	*error_r = reason;
	return -1;
}

int mutf7_to_utf8(const char *in, size_t len, struct buf *out, const char **error_r)
{
	size_t i = 0, run_end = (size_t)-1;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];
		uint32_t bits = 0, high = 0;
		unsigned nbits = 0, units = 0;

		if (c < 0x20 || c > 0x7e)
			return fail(error_r, "Invalid character in mailbox name");
		if (c != '&') {
			if (buf_append(out, &in[i], 1) < 0)
				return fail(error_r, "Mailbox name too long");
			i++;
			continue;
		}
		if (i + 1 < len && in[i + 1] == '-') {
			if (buf_append(out, "&", 1) < 0)
				return fail(error_r, "Mailbox name too long");
			i += 2;
			continue;
		}
		if (run_end == i)
			return fail(error_r, "Null shift between encoded runs");
		for (i++; i < len && in[i] != '-'; i++) {
			int v = b64val((unsigned char)in[i]);
			uint32_t u;

			if (v < 0)
				return fail(error_r, "Invalid modified base64 character");
			bits = (bits << 6) | (uint32_t)v;
			nbits += 6;
			if (nbits < 16)
				continue;
			nbits -= 16;
			u = (bits >> nbits) & 0xffff;
			bits &= (1u << nbits) - 1;
			units++;
			if (high != 0) {
				if (u < 0xdc00 || u > 0xdfff)
					return fail(error_r, "High surrogate without low surrogate");
				u = 0x10000 + ((high - 0xd800) << 10) + (u - 0xdc00);
				high = 0;
			} else if (u >= 0xd800 && u <= 0xdbff) {
				high = u;
				continue;
			} else if (u >= 0xdc00 && u <= 0xdfff) {
				return fail(error_r, "Low surrogate without high surrogate");
			}
			if (u >= 0x20 && u <= 0x7e)
				return fail(error_r, "Printable ASCII encoded in base64");
			if (u == 0)
				return fail(error_r, "NUL in mailbox name");
			if (append_utf8(out, u) < 0)
				return fail(error_r, "Mailbox name too long");
		}
		if (i == len)
			return fail(error_r, "Unterminated encoded run");
		if (units == 0 || nbits >= 6 || bits != 0)
			return fail(error_r, "Invalid length or padding of encoded run");
		if (high != 0)
			return fail(error_r, "High surrogate without low surrogate");
		i++;
		run_end = i;
	}
	return 0;
}

int mutf7_from_utf8(const char *in, size_t len, struct buf *out, const char **error_r)
{
	size_t i = 0;
	bool in_run = false;
	uint32_t bits = 0;
	unsigned nbits = 0;
	int ret = 0;

	while (i < len) {
		int32_t cp = str_utf8_next(in, len, &i);
		uint32_t units[2];
		size_t nu, k;

		if (cp < 0)
			return fail(error_r, "Invalid UTF-8 in mailbox name");
		if (cp == 0)
			return fail(error_r, "NUL in mailbox name");
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_run) {
				if (nbits > 0)
					ret |= buf_append(out, &b64chars[(bits << (6 - nbits)) & 0x3f], 1);
				ret |= buf_append(out, "-", 1);
				in_run = false;
				bits = nbits = 0;
			}
			ret |= cp == '&' ? buf_append(out, "&-", 2) : buf_append(out, &in[i - 1], 1);
			continue;
		}
		if (!in_run) {
			ret |= buf_append(out, "&", 1);
			in_run = true;
		}
		if (cp >= 0x10000) {
			units[0] = 0xd800 + (((uint32_t)cp - 0x10000) >> 10);
			units[1] = 0xdc00 + (((uint32_t)cp - 0x10000) & 0x3ff);
			nu = 2;
		} else {
			units[0] = (uint32_t)cp;
			nu = 1;
		}
		for (k = 0; k < nu; k++) {
			bits = (bits << 16) | units[k];
			nbits += 16;
			while (nbits >= 6) {
				nbits -= 6;
				ret |= buf_append(out, &b64chars[(bits >> nbits) & 0x3f], 1);
			}
			bits &= (1u << nbits) - 1;
		}
	}
	if (in_run) {
		if (nbits > 0)
			ret |= buf_append(out, &b64chars[(bits << (6 - nbits)) & 0x3f], 1);
		ret |= buf_append(out, "-", 1);
	}
	if (ret != 0)
		return fail(error_r, "Mailbox name too long");
	return 0;
}

bool mutf7_is_valid(const char *in, size_t len)
{
	struct buf tmp;
	const char *error;
	int ret;

	buf_init(&tmp, 0);
	ret = mutf7_to_utf8(in, len, &tmp, &error);
	buf_free(&tmp);
	return ret == 0;
}
