/* Sendmail's milter protocol (version 6, as libmilter and Postfix speak
 * it): the MTA-side packets (option negotiation, connect, helo, envelope,
 * headers, end of headers, body chunks, end of message, macros, quit) and
 * the parser of the milter's replies and modification requests. A packet
 * is a 4-byte big-endian length (command byte included), the command byte
 * and its data. Pure: no I/O. */
#ifndef CAIRN_MILTER_H
#define CAIRN_MILTER_H

#include "util.h"

#define MILTER_VERSION 6
#define MILTER_CHUNK_MAX 65535		/* body chunk size (MILTER_CHUNK_SIZE) */
#define MILTER_PACKET_MAX (1u << 20)	/* larger replies are refused */

/* Commands (MTA to milter) */
#define SMFIC_ABORT 'A'
#define SMFIC_BODY 'B'
#define SMFIC_CONNECT 'C'
#define SMFIC_MACRO 'D'
#define SMFIC_BODYEOB 'E'
#define SMFIC_HELO 'H'
#define SMFIC_HEADER 'L'
#define SMFIC_MAIL 'M'
#define SMFIC_EOH 'N'
#define SMFIC_OPTNEG 'O'
#define SMFIC_QUIT 'Q'
#define SMFIC_RCPT 'R'
#define SMFIC_DATA 'T'

/* Replies and actions (milter to MTA) */
#define SMFIR_ADDRCPT '+'
#define SMFIR_DELRCPT '-'
#define SMFIR_ADDRCPT_PAR '2'
#define SMFIR_ACCEPT 'a'
#define SMFIR_REPLBODY 'b'
#define SMFIR_CONTINUE 'c'
#define SMFIR_DISCARD 'd'
#define SMFIR_CHGFROM 'e'
#define SMFIR_ADDHEADER 'h'
#define SMFIR_INSHEADER 'i'
#define SMFIR_CHGHEADER 'm'
#define SMFIR_PROGRESS 'p'
#define SMFIR_QUARANTINE 'q'
#define SMFIR_REJECT 'r'
#define SMFIR_SKIP 's'
#define SMFIR_TEMPFAIL 't'
#define SMFIR_REPLYCODE 'y'
#define SMFIR_OPTNEG 'O'

/* Actions the MTA allows (SMFIF_*) */
#define SMFIF_ADDHDRS 0x01u
#define SMFIF_CHGBODY 0x02u
#define SMFIF_ADDRCPT 0x04u
#define SMFIF_DELRCPT 0x08u
#define SMFIF_CHGHDRS 0x10u
#define SMFIF_QUARANTINE 0x20u
#define SMFIF_CHGFROM 0x40u
#define SMFIF_ADDRCPT_PAR 0x80u
#define SMFIF_SETSYMLIST 0x100u

/* Protocol steps the milter may leave out (SMFIP_*) */
#define SMFIP_NOCONNECT 0x01u
#define SMFIP_NOHELO 0x02u
#define SMFIP_NOMAIL 0x04u
#define SMFIP_NORCPT 0x08u
#define SMFIP_NOBODY 0x10u
#define SMFIP_NOHDRS 0x20u
#define SMFIP_NOEOH 0x40u
#define SMFIP_NR_HDR 0x80u
#define SMFIP_NOUNKNOWN 0x100u
#define SMFIP_NODATA 0x200u
#define SMFIP_SKIP 0x400u
#define SMFIP_RCPT_REJ 0x800u
#define SMFIP_NR_CONN 0x1000u
#define SMFIP_NR_HELO 0x2000u
#define SMFIP_NR_MAIL 0x4000u
#define SMFIP_NR_RCPT 0x8000u
#define SMFIP_NR_DATA 0x10000u
#define SMFIP_NR_UNKN 0x20000u
#define SMFIP_NR_EOH 0x40000u
#define SMFIP_NR_BODY 0x80000u
#define SMFIP_HDR_LEADSPC 0x100000u

/* Append one packet: command and data. Returns 0, or -1 past out's max. */
int milter_packet(struct buf *out, char cmd, const void *data, size_t len);
/* SMFIC_OPTNEG with our version, the actions we allow and the protocol
 * steps we can leave out. */
int milter_optneg(struct buf *out, uint32_t version, uint32_t actions, uint32_t protocol);
/* SMFIC_CONNECT: host name, family '4'/'6'/'U' (unknown: 'U' and no
 * port/address), port, address text. */
int milter_connect(struct buf *out, const char *hostname, char family, uint16_t port,
		   const char *address);
/* A command whose data is NUL-terminated strings (HELO, MAIL, RCPT:
 * "<addr>" then ESMTP args; HEADER: name, value). */
int milter_strings(struct buf *out, char cmd, const char *const *strs, size_t n);
/* SMFIC_MACRO for command cmd: name/value pairs. */
int milter_macros(struct buf *out, char cmd, const char *const *pairs, size_t npairs);

/* One packet received. */
struct milter_packet {
	char cmd;
	const char *data;	/* into the caller's buffer */
	size_t len;
};

/* Take the first packet from in[0..len): 1 with *pkt and *used_r, 0 when
 * more bytes are needed, -1 for a length of 0 or past MILTER_PACKET_MAX. */
int milter_parse_packet(const char *in, size_t len, struct milter_packet *pkt, size_t *used_r);

/* The milter's SMFIC_OPTNEG reply: its version, actions and protocol
 * flags. Returns 0 or -1 for a short packet. */
int milter_parse_optneg(const struct milter_packet *pkt, uint32_t *version_r, uint32_t *actions_r,
			uint32_t *protocol_r);

/* A reply or modification, decoded and checked. */
struct milter_action {
	char cmd;		/* SMFIR_* */
	uint32_t index;		/* CHGHEADER/INSHEADER: 1-based occurrence / position */
	const char *s1;		/* header name, reply text, quarantine reason, address */
	size_t s1_len;
	const char *s2;		/* header value, ESMTP args */
	size_t s2_len;
	const char *body;	/* REPLBODY chunk */
	size_t body_len;
	unsigned code;		/* REPLYCODE: 4xx or 5xx */
};

/* Decode pkt into *a: the strings must be NUL-terminated inside the
 * packet, a header name (ADD/INS/CHGHEADER) a valid field name (printable
 * ASCII, no ':'), a REPLYCODE must start with a 4xx/5xx code. Returns 0, or -1
 * with *error_r for a malformed or unknown reply. */
int milter_decode(const struct milter_packet *pkt, struct milter_action *a, const char **error_r);

/* One SMFIR_CHGHEADER request: change the index-th field (1-based, among
 * the fields of that name, case-insensitive, counted in the header as the
 * milter was given it; 0 counts as 1, as Sendmail and Postfix do) to
 * value, or delete it when value is empty. A non-empty value for an index
 * past the last field of that name adds the field at the end of the
 * header. Later requests for the same field win. */
struct milter_header_change {
	const char *name;
	uint32_t index;
	const char *value;	/* without the leading space; "\n" (or "\r\n") folds */
};

/* Rewrite the header block hdr[0..len) (CRLF lines, with or without the
 * empty line that ends it, which is copied) with the n changes into out.
 * A changed field is written "Name: value" with the milter's line breaks
 * as CRLF plus a blank where the next line would not start with one.
 * Returns 0, or -1 past out's max. */
int milter_apply_header_changes(const char *hdr, size_t len, const struct milter_header_change *c,
				size_t n, struct buf *out);
/* Append a replacement body (SMFIR_REPLBODY chunks, joined) to out with
 * every line break as CRLF (a bare LF becomes CRLF, a bare CR is
 * dropped). Returns 0, or -1 past out's max. */
int milter_body_crlf(const char *body, size_t len, struct buf *out);

#endif
