/* Two-factor login for the web admin: TOTP (RFC 6238, 30 s steps, 6
 * digits, HMAC-SHA-1: what authenticator apps do) through liboath, and the
 * otpauth:// URI of a new secret as a QR code (libqrencode) drawn as an
 * inline SVG. Secrets are 160 random bits, stored base32. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "store.h"

#include <liboath/oath.h>
#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOTP_STEP 30

int wa_totp_new_secret(char b32[33])
{
	char hex[41], raw[20];
	if (wa_random_hex(hex, 20) < 0)
		return -1;
	for (size_t i = 0; i < 20; i++) {
		char pair[3] = { hex[2 * i], hex[2 * i + 1], '\0' };
		raw[i] = (char)strtoul(pair, NULL, 16);
	}
	char *out = NULL;
	size_t outlen = 0;
	if (oath_init() != OATH_OK || oath_base32_encode(raw, sizeof(raw), &out, &outlen) != OATH_OK ||
	    outlen < 32) {
		free(out);
		return -1;
	}
	memcpy(b32, out, 32);
	b32[32] = '\0';
	explicit_bzero(raw, sizeof(raw));
	free(out);
	return 0;
}

int wa_totp_check(const char *b32, const char *code, uint64_t *step_r)
{
	if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
		return -1;
	char *raw = NULL;
	size_t rawlen = 0;
	if (oath_init() != OATH_OK || oath_base32_decode(b32, strlen(b32), &raw, &rawlen) != OATH_OK)
		return -1;
	time_t now = time(NULL);
	int pos = 0;
	/* One step either side for clock drift. */
	int r = oath_totp_validate2(raw, rawlen, now, TOTP_STEP, 0, 1, &pos, code);
	explicit_bzero(raw, rawlen);
	free(raw);
	if (r < 0)
		return -1;
	*step_r = (uint64_t)(now / TOTP_STEP + pos);
	return 0;
}

void wa_totp_qr_svg(const char *text, struct buf *out)
{
	QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	if (qr == NULL)
		return;
	int w = qr->width, margin = 4;
	buf_printf(out, "<svg class=\"qr\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
			"role=\"img\" aria-label=\"QR code of the two-factor secret\" "
			"xmlns=\"http://www.w3.org/2000/svg\"><rect width=\"100%%\" height=\"100%%\" "
			"fill=\"#fff\"/><path fill=\"#000\" d=\"",
		   w + 2 * margin, w + 2 * margin, (w + 2 * margin) * 5, (w + 2 * margin) * 5);
	for (int y = 0; y < w; y++)
		for (int x = 0; x < w; x++)
			if (qr->data[y * w + x] & 1)
				buf_printf(out, "M%d %dh1v1h-1z", x + margin, y + margin);
	buf_append_str(out, "\"/></svg>");
	QRcode_free(qr);
}
