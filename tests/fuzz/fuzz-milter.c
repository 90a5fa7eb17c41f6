/* libFuzzer target for proto/milter: a stream of milter replies; the
 * header changes (SMFIR_CHGHEADER) among them are applied to a fixed
 * header block and to the input itself, replacement bodies
 * (SMFIR_REPLBODY) go through the CRLF conversion. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "milter.h"

#define MAX_CHANGES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	size_t pos = 0;
	struct milter_packet p;
	size_t used;
	struct milter_header_change chg[MAX_CHANGES];
	size_t nchg = 0;
	struct buf out;
	buf_init(&out, 1u << 20);
	while (milter_parse_packet(copy + pos, size - pos, &p, &used) == 1) {
		struct milter_action a;
		const char *error;
		uint32_t v, ac, pr;
		if (p.cmd == SMFIR_OPTNEG) {
			(void)milter_parse_optneg(&p, &v, &ac, &pr);
		} else if (milter_decode(&p, &a, &error) == 0) {
			/* the strings are NUL-terminated inside the packet */
			if (a.cmd == SMFIR_CHGHEADER && nchg < MAX_CHANGES)
				chg[nchg++] = (struct milter_header_change){ a.s1, a.index, a.s2 };
			if (a.cmd == SMFIR_REPLBODY) {
				buf_reset(&out);
				(void)milter_body_crlf(a.body, a.body_len, &out);
			}
		}
		pos += used;
	}
	static const char hdr[] = "Received: by mx\r\nSubject: one\r\nX-A: 1\r\nx-a: 2\r\n cont\r\n\r\n";
	buf_reset(&out);
	(void)milter_apply_header_changes(hdr, sizeof(hdr) - 1, chg, nchg, &out);
	buf_reset(&out);
	(void)milter_apply_header_changes(copy, size, chg, nchg, &out);
	buf_free(&out);
	free(copy);
	return 0;
}
