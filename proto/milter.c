/* Milter protocol packets and replies (see milter.h; the reference is
 * libmilter's mfdef.h and Postfix's milter8.c). */
#include "milter.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

int milter_packet(struct buf *out, char cmd, const void *data, size_t len)
{
	if (len + 1 > MILTER_PACKET_MAX)
		return -1;
	unsigned char hdr[5];
	put32(hdr, (uint32_t)(len + 1));
	hdr[4] = (unsigned char)cmd;
	if (buf_append(out, hdr, 5) < 0)
		return -1;
	return len > 0 ? buf_append(out, data, len) : 0;
}

int milter_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol)
{
	unsigned char d[12];
	put32(d, version);
	put32(d + 4, actions);
	put32(d + 8, protocol);
	return milter_packet(out, SMFIC_OPTNEG, d, sizeof(d));
}

int milter_connect(struct buf *out, const char *hostname, char family, uint16_t port,
		   const char *address)
{
	struct buf d;
	buf_init(&d, MILTER_PACKET_MAX);
	buf_append(&d, hostname, strlen(hostname) + 1);
	buf_append(&d, &family, 1);
	if (family != 'U') {
		unsigned char p[2] = { (unsigned char)(port >> 8), (unsigned char)port };
		buf_append(&d, p, 2);
		buf_append(&d, address, strlen(address) + 1);
	}
	int r = milter_packet(out, SMFIC_CONNECT, d.data, d.len);
	buf_free(&d);
	return r;
}

int milter_strings(struct buf *out, char cmd, const char *const *strs, size_t n)
{
	struct buf d;
	buf_init(&d, MILTER_PACKET_MAX);
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = buf_append(&d, strs[i], strlen(strs[i]) + 1);
	if (r == 0)
		r = milter_packet(out, cmd, d.data, d.len);
	buf_free(&d);
	return r;
}

int milter_macros(struct buf *out, char cmd, const char *const *pairs, size_t npairs)
{
	struct buf d;
	buf_init(&d, MILTER_PACKET_MAX);
	int r = buf_append(&d, &cmd, 1);
	for (size_t i = 0; i < 2 * npairs && r == 0; i++)
		r = buf_append(&d, pairs[i], strlen(pairs[i]) + 1);
	if (r == 0)
		r = milter_packet(out, SMFIC_MACRO, d.data, d.len);
	buf_free(&d);
	return r;
}

int milter_parse_packet(const char *in, size_t len, struct milter_packet *pkt, size_t *used_r)
{
	if (len < 4)
		return 0;
	uint32_t n = get32(in);
	if (n == 0 || n > MILTER_PACKET_MAX)
		return -1;
	if (len - 4 < n)
		return 0;
	pkt->cmd = in[4];
	pkt->data = in + 5;
	pkt->len = n - 1;
	*used_r = 4 + (size_t)n;
	return 1;
}

int milter_parse_optneg(const struct milter_packet *pkt, uint32_t *version_r, uint32_t *actions_r,
			uint32_t *protocol_r)
{
	if (pkt->cmd != SMFIR_OPTNEG || pkt->len < 12)
		return -1;
	*version_r = get32(pkt->data);
	*actions_r = get32(pkt->data + 4);
	*protocol_r = get32(pkt->data + 8);
	return 0;
}

/* The NUL-terminated string at d[*pos..len): its length, *pos past its NUL. */
static int take_string(const char *d, size_t len, size_t *pos, const char **s_r, size_t *len_r)
{
	if (*pos >= len)
		return -1;
	const char *nul = memchr(d + *pos, '\0', len - *pos);
	if (nul == NULL)
		return -1;
	*s_r = d + *pos;
	*len_r = (size_t)(nul - (d + *pos));
	*pos += *len_r + 1;
	return 0;
}

/* An RFC 5322 field name: printable US-ASCII but ':', at least one. */
static bool field_name_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 33 || (unsigned char)s[i] > 126 || s[i] == ':')
			return false;
	return len > 0;
}

int milter_decode(const struct milter_packet *pkt, struct milter_action *a, const char **error_r)
{
	memset(a, 0, sizeof(*a));
	a->cmd = pkt->cmd;
	const char *d = pkt->data;
	size_t len = pkt->len, pos = 0;
	switch (pkt->cmd) {
	case SMFIR_ACCEPT: case SMFIR_CONTINUE: case SMFIR_DISCARD: case SMFIR_PROGRESS:
	case SMFIR_REJECT: case SMFIR_TEMPFAIL: case SMFIR_SKIP:
		return 0;
	case SMFIR_REPLYCODE:
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0 || a->s1_len < 3 ||
		    (a->s1[0] != '4' && a->s1[0] != '5') || a->s1[1] < '0' || a->s1[1] > '9' ||
		    a->s1[2] < '0' || a->s1[2] > '9' || (a->s1_len > 3 && a->s1[3] != ' ' &&
							 a->s1[3] != '-')) {
			*error_r = "bad SMFIR_REPLYCODE (want \"4xx text\" or \"5xx text\")";
			return -1;
		}
		a->code = (unsigned)((a->s1[0] - '0') * 100 + (a->s1[1] - '0') * 10 + (a->s1[2] - '0'));
		return 0;
	case SMFIR_ADDHEADER:
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0 ||
		    take_string(d, len, &pos, &a->s2, &a->s2_len) < 0 ||
		    !field_name_ok(a->s1, a->s1_len)) {
			*error_r = "bad SMFIR_ADDHEADER";
			return -1;
		}
		return 0;
	case SMFIR_CHGHEADER:
	case SMFIR_INSHEADER:
		if (len < 4) {
			*error_r = "short SMFIR_CHGHEADER/INSHEADER";
			return -1;
		}
		a->index = get32(d);
		pos = 4;
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0 ||
		    take_string(d, len, &pos, &a->s2, &a->s2_len) < 0 ||
		    !field_name_ok(a->s1, a->s1_len)) {
			*error_r = "bad SMFIR_CHGHEADER/INSHEADER";
			return -1;
		}
		return 0;
	case SMFIR_REPLBODY:
		a->body = d;
		a->body_len = len;
		return 0;
	case SMFIR_QUARANTINE:
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0) {
			*error_r = "bad SMFIR_QUARANTINE";
			return -1;
		}
		return 0;
	case SMFIR_ADDRCPT: case SMFIR_DELRCPT:
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0) {
			*error_r = "bad SMFIR_ADDRCPT/DELRCPT";
			return -1;
		}
		return 0;
	case SMFIR_CHGFROM: case SMFIR_ADDRCPT_PAR:
		if (take_string(d, len, &pos, &a->s1, &a->s1_len) < 0) {
			*error_r = "bad SMFIR_CHGFROM/ADDRCPT_PAR";
			return -1;
		}
		if (pos < len && take_string(d, len, &pos, &a->s2, &a->s2_len) < 0) {
			*error_r = "bad SMFIR_CHGFROM/ADDRCPT_PAR arguments";
			return -1;
		}
		return 0;
	default:
		*error_r = "unknown milter reply";
		return -1;
	}
}

/* "Name: value" with CRLF line ends; a line break not followed by a blank
 * gets a tab so that the field stays one field. */
static int put_field(struct buf *out, const char *name, const char *value)
{
	int r = buf_append_str(out, name);
	r |= buf_append(out, ": ", 2);
	size_t vlen = strlen(value);
	while (vlen > 0 && (value[vlen - 1] == '\n' || value[vlen - 1] == '\r'))
		vlen--;
	for (size_t i = 0; i < vlen && r == 0; i++) {
		if (value[i] == '\r')
			continue;
		if (value[i] == '\n') {
			r |= buf_append(out, "\r\n", 2);
			if (i + 1 < vlen && value[i + 1] != ' ' && value[i + 1] != '\t')
				r |= buf_append(out, "\t", 1);
			continue;
		}
		r |= buf_append(out, value + i, 1);
	}
	r |= buf_append(out, "\r\n", 2);
	return r < 0 ? -1 : 0;
}

static bool name_is(const char *field, size_t flen, const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || flen <= n || strncasecmp(field, name, n) != 0)
		return false;
	/* "Name:" or "Name :" (obsolete syntax) */
	size_t i = n;
	while (i < flen && (field[i] == ' ' || field[i] == '\t'))
		i++;
	return i < flen && field[i] == ':';
}

int milter_apply_header_changes(const char *hdr, size_t len, const struct milter_header_change *c,
				size_t n, struct buf *out)
{
	uint32_t *count = calloc(n > 0 ? n : 1, sizeof(*count));
	bool *done = calloc(n > 0 ? n : 1, sizeof(*done));
	int r = count != NULL && done != NULL ? 0 : -1;
	const char *pos = hdr, *end = hdr + len;
	while (r == 0 && pos < end) {
		const char *eol = memchr(pos, '\n', (size_t)(end - pos));
		const char *fe = eol != NULL ? eol + 1 : end;
		if ((fe - pos == 1 && *pos == '\n') || (fe - pos == 2 && pos[0] == '\r' && pos[1] == '\n'))
			break;	/* the empty line */
		while (fe < end && (*fe == ' ' || *fe == '\t')) {
			eol = memchr(fe, '\n', (size_t)(end - fe));
			fe = eol != NULL ? eol + 1 : end;
		}
		size_t flen = (size_t)(fe - pos);
		const struct milter_header_change *chg = NULL;
		for (size_t i = 0; i < n; i++) {
			if (!name_is(pos, flen, c[i].name))
				continue;
			count[i]++;
			if (count[i] == (c[i].index == 0 ? 1 : c[i].index)) {
				chg = &c[i];	/* the last request for this field wins */
				done[i] = true;
			}
		}
		if (chg == NULL)
			r = buf_append(out, pos, flen);
		else if (chg->value[0] != '\0')
			r = put_field(out, chg->name, chg->value);
		pos = fe;
	}
	/* requests past the last field of their name add it, in order; a
	 * later request for the same (name, index) replaces an earlier one */
	for (size_t i = 0; r == 0 && i < n; i++) {
		if (done[i] || c[i].value[0] == '\0')
			continue;
		bool later = false;
		for (size_t k = i + 1; k < n && !later; k++)
			later = strcasecmp(c[k].name, c[i].name) == 0 &&
				(c[k].index == 0 ? 1 : c[k].index) == (c[i].index == 0 ? 1 : c[i].index);
		if (!later)
			r = put_field(out, c[i].name, c[i].value);
	}
	if (r == 0 && pos < end)
		r = buf_append(out, pos, (size_t)(end - pos));
	free(count);
	free(done);
	return r;
}

int milter_body_crlf(const char *body, size_t len, struct buf *out)
{
	int r = 0;
	size_t start = 0;
	for (size_t i = 0; i < len && r == 0; i++) {
		if (body[i] != '\r' && body[i] != '\n')
			continue;
		r = buf_append(out, body + start, i - start);
		if (r == 0 && body[i] == '\n')
			r = buf_append(out, "\r\n", 2);
		else if (r == 0 && i + 1 < len && body[i + 1] == '\n')
			i++, r = buf_append(out, "\r\n", 2);
		start = i + 1;
	}
	if (r == 0)
		r = buf_append(out, body + start, len - start);
	return r < 0 ? -1 : 0;
}
