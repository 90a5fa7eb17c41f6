/* A milter client as a scan module ("milter"): the message goes through
 * one milter ([milter] socket) with Sendmail's milter protocol version 6 -
 * option negotiation, connect, helo, envelope, headers, end of headers,
 * body chunks, end of message - and the milter's answers become the
 * stage's: reject (5xx, SMFIR_REPLYCODE text kept), tempfail (4xx),
 * quarantine, discard (kept in the quarantine: never silently lost),
 * accept. Its modifications at end of message are carried in the scan
 * result and applied by the stage to the delivered message: headers added
 * (SMFIR_ADDHEADER, SMFIR_INSHEADER), changed or deleted
 * (SMFIR_CHGHEADER, by occurrence index) and the body replaced
 * (SMFIR_REPLBODY, the chunks joined). Recipient and sender changes
 * (ADDRCPT, DELRCPT, CHGFROM) are not offered in the negotiation and are
 * ignored when sent anyway. */
#include "autoconf.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "milter.h"
#include "scan.h"
#include "scanner-sock.h"

#define MILTER_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGBODY | SMFIF_QUARANTINE)
#define MILTER_BODY_MAX_DEFAULT (64u << 20)	/* a replacement body, when no SMTP limit */
#define MILTER_PROTOCOL (SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL | SMFIP_NORCPT |         \
			 SMFIP_NOBODY | SMFIP_NOHDRS | SMFIP_NOEOH | SMFIP_NR_HDR | SMFIP_NOUNKNOWN | \
			 SMFIP_NODATA | SMFIP_SKIP | SMFIP_NR_CONN | SMFIP_NR_HELO |                \
			 SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA | SMFIP_NR_UNKN |            \
			 SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_HDR_LEADSPC)

struct milter_state {
	char *socket;
	char *name;		/* the {daemon_name}/j macro: [server] hostname */
	size_t body_max;	/* largest replacement body: [smtp] max_message_size */
};

struct milter_conn {
	int fd;
	uint64_t deadline;
	struct buf in;
	const char *error;
	enum scan_mod_status status;	/* on failure */
	uint32_t protocol;
	char final;		/* the last final reply (SMFIR_*) */
	char reply[256];	/* REPLYCODE text */
	unsigned code;
	bool skip_body;
	bool replbody;		/* SMFIR_REPLBODY seen: body holds the new body */
	size_t nadded, nchanged;	/* header fields added / changed or deleted */
	struct buf body;
};

static void milter_settings(const struct config *cfg, struct scan_module_settings *settings)
{
	settings->enabled = cfg->milter.enabled;
	settings->budget_ms = cfg->milter.timeout_ms;
	settings->failure = cfg->milter.failure == CONFIG_SCAN_FAIL_CLOSED ? SCAN_FAIL_CLOSED
									   : SCAN_FAIL_OPEN;
	settings->order = SCAN_ORDER_EXTERNAL + 20;
}

static size_t body_max_of(const struct config *cfg)
{
	return cfg->smtp.max_message_size > 0 && cfg->smtp.max_message_size < SIZE_MAX / 2
	       ? (size_t)cfg->smtp.max_message_size : MILTER_BODY_MAX_DEFAULT;
}

/* A header value from the milter as the stage keeps it: one leading space
 * dropped (HDR_LEADSPC), CR removed, line breaks kept as "\n". */
static char *header_value(const char *s, size_t len)
{
	if (len > 0 && s[0] == ' ')
		s++, len--;
	char *v = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\r')
			v[n++] = s[i];
	v[n] = '\0';
	return v;
}

static int milter_init(const struct config *cfg, struct scan_module_settings *settings,
		       void **state_r, const char **error_r)
{
	if (cfg->milter.enabled && *cfg->milter.socket == '\0') {
		*error_r = "[milter] socket is empty";
		return -1;
	}
	struct milter_state *st = xcalloc(1, sizeof(*st));
	st->socket = xstrdup(cfg->milter.socket);
	st->name = xstrdup(*cfg->server.hostname ? cfg->server.hostname : "localhost");
	st->body_max = body_max_of(cfg);
	milter_settings(cfg, settings);
	*state_r = st;
	return 0;
}

static int milter_reload(void *state, const struct config *cfg, struct scan_module_settings *settings,
			 const char **error_r)
{
	struct milter_state *st = state;
	if (cfg->milter.enabled && *cfg->milter.socket == '\0') {
		*error_r = "[milter] socket is empty";
		return -1;
	}
	free(st->socket);
	st->socket = xstrdup(cfg->milter.socket);
	st->body_max = body_max_of(cfg);
	milter_settings(cfg, settings);
	return 0;
}

static int send_buf(struct milter_conn *c, struct buf *b)
{
	int r = scanner_send_all(c->fd, b->data, b->len, c->deadline, &c->error);
	buf_reset(b);
	if (r < 0) {
		c->status = r == SCANNER_TIMEOUT ? SCAN_MOD_TIMEOUT : SCAN_MOD_ERROR;
		return -1;
	}
	return 0;
}

/* Read one packet. 0 with *pkt (valid until the next read), or -1. */
static int read_packet(struct milter_conn *c, struct milter_packet *pkt, size_t *used)
{
	for (;;) {
		int r = milter_parse_packet(c->in.data ? c->in.data : "", c->in.len, pkt, used);
		if (r > 0)
			return 0;
		if (r < 0) {
			c->error = "bad packet length from the milter";
			c->status = SCAN_MOD_ERROR;
			return -1;
		}
		char chunk[8192];
		ssize_t n = scanner_recv(c->fd, chunk, sizeof(chunk), c->deadline, &c->error);
		if (n <= 0) {
			if (n == 0)
				c->error = "the milter closed the connection";
			c->status = n == SCANNER_TIMEOUT ? SCAN_MOD_TIMEOUT : SCAN_MOD_ERROR;
			return -1;
		}
		buf_append(&c->in, chunk, (size_t)n);
	}
}

/* Read replies until a final one (modifications are applied on the way,
 * only after end of message). Returns 0 with c->final, or -1. */
static int read_reply(struct milter_conn *c, struct scan_result *result, bool eom)
{
	for (;;) {
		struct milter_packet pkt;
		size_t used;
		if (read_packet(c, &pkt, &used) < 0)
			return -1;
		struct milter_action a;
		const char *error;
		if (milter_decode(&pkt, &a, &error) < 0) {
			c->error = error;
			c->status = SCAN_MOD_ERROR;
			return -1;
		}
		bool final = true;
		switch (a.cmd) {
		case SMFIR_PROGRESS:
			final = false;
			break;
		case SMFIR_ADDHEADER:
		case SMFIR_INSHEADER:
			final = false;
			if (eom) {
				char *name = xstrndup(a.s1, a.s1_len);
				char *value = header_value(a.s2, a.s2_len);
				/* the stage folds added fields itself: unfold */
				size_t n = 0;
				for (size_t i = 0; value[i] != '\0'; i++)
					if (value[i] != '\n')
						value[n++] = value[i];
				value[n] = '\0';
				scan_result_add_header(result, name, value);
				c->nadded++;
				free(name);
				free(value);
			}
			break;
		case SMFIR_CHGHEADER:
			final = false;
			if (eom) {
				char *name = xstrndup(a.s1, a.s1_len);
				char *value = header_value(a.s2, a.s2_len);
				scan_result_change_header(result, name, a.index, value);
				c->nchanged++;
				free(name);
				free(value);
			}
			break;
		case SMFIR_REPLBODY:
			final = false;
			if (eom) {
				/* the first chunk starts the new body, the next ones
				 * are appended (libmilter's smfi_replacebody) */
				c->replbody = true;
				if (buf_append(&c->body, a.body, a.body_len) < 0) {
					c->error = "replacement body too large";
					c->status = SCAN_MOD_ERROR;
					return -1;
				}
			}
			break;
		case SMFIR_QUARANTINE:
			final = false;
			if (eom)
				scan_result_hint(result, SCAN_ACTION_QUARANTINE, "milter quarantine: %.*s",
						 (int)(a.s1_len > 200 ? 200 : a.s1_len), a.s1);
			break;
		case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_CHGFROM: case SMFIR_ADDRCPT_PAR:
			/* not offered in the negotiation: a milter that sends it anyway
			 * is told nothing, and the change is not made */
			final = false;
			log_warn("scan milter action=%c status=ignored reason=\"not negotiated\"", a.cmd);
			break;
		case SMFIR_REPLYCODE:
			snprintf(c->reply, sizeof(c->reply), "%.*s",
				 (int)(a.s1_len > 200 ? 200 : a.s1_len), a.s1);
			c->code = a.code;
			break;
		default:
			break;
		}
		c->final = a.cmd;
		buf_consume(&c->in, used);
		if (final)
			return 0;
	}
}

/* Send one step and, unless the milter asked for no reply, read it.
 * Returns 1 to go on, 0 when the milter's reply ends the conversation
 * (accept, reject, tempfail, discard), -1 on failure. */
static int step(struct milter_conn *c, struct buf *out, uint32_t noreply_flag,
		struct scan_result *result, bool eom)
{
	if (send_buf(c, out) < 0)
		return -1;
	if (noreply_flag != 0 && (c->protocol & noreply_flag))
		return 1;
	if (read_reply(c, result, eom) < 0)
		return -1;
	switch (c->final) {
	case SMFIR_CONTINUE:
		return 1;
	case SMFIR_SKIP:
		c->skip_body = true;
		return 1;
	default:
		return 0;
	}
}

static const char *milter_addr(const char *s)
{
	return strncmp(s, "inet:", 5) == 0 ? s + 5 : s;
}

static enum scan_mod_status milter_run(void *state, struct scan_msg *msg, struct scan_result *result,
				       uint64_t deadline_ms)
{
	struct milter_state *st = state;
	struct milter_conn c;
	memset(&c, 0, sizeof(c));
	c.deadline = deadline_ms;
	c.status = SCAN_MOD_ERROR;
	c.error = "?";
	buf_init(&c.in, MILTER_PACKET_MAX + 8);
	buf_init(&c.body, st->body_max);
	c.fd = scanner_connect(milter_addr(st->socket), deadline_ms, &c.error);
	if (c.fd < 0) {
		c.status = c.fd == SCANNER_TIMEOUT ? SCAN_MOD_TIMEOUT : SCAN_MOD_ERROR;
		goto fail;
	}
	struct buf out;
	buf_init(&out, 0);
	int go = -1;
	milter_optneg(&out, MILTER_VERSION, MILTER_ACTIONS, MILTER_PROTOCOL);
	if (send_buf(&c, &out) < 0)
		goto done;
	struct milter_packet pkt;
	size_t used;
	uint32_t version, actions;
	if (read_packet(&c, &pkt, &used) < 0)
		goto done;
	if (milter_parse_optneg(&pkt, &version, &actions, &c.protocol) < 0 || version < 2) {
		c.error = "bad option negotiation reply";
		goto done;
	}
	buf_consume(&c.in, used);
	c.protocol &= MILTER_PROTOCOL;	/* only what we offered */

	/* connect: macros j (our name), _ (client), then the client */
	const char *conn_macros[] = { "j", st->name, "{daemon_name}", st->name,
				      "_", msg->client_ip };
	milter_macros(&out, SMFIC_CONNECT, conn_macros, 3);
	go = 1;
	if (!(c.protocol & SMFIP_NOCONNECT)) {
		unsigned char tmp[16];
		char family = inet_pton(AF_INET, msg->client_ip, tmp) == 1 ? '4' :
			      inet_pton(AF_INET6, msg->client_ip, tmp) == 1 ? '6' : 'U';
		milter_connect(&out, msg->rdns ? msg->rdns : msg->client_ip, family, 0,
			       msg->client_ip);
		go = step(&c, &out, SMFIP_NR_CONN, result, false);
	}
	if (go == 1 && !(c.protocol & SMFIP_NOHELO)) {
		const char *h[] = { msg->helo };
		milter_strings(&out, SMFIC_HELO, h, 1);
		go = step(&c, &out, SMFIP_NR_HELO, result, false);
	}
	char addr[1100];
	if (go == 1 && !(c.protocol & SMFIP_NOMAIL)) {
		const char *mm[] = { "{mail_addr}", msg->mail_from, "i", "cairn" };
		if (msg->auth_user == NULL)
			milter_macros(&out, SMFIC_MAIL, mm, 2);
		else {
			const char *am[] = { "{mail_addr}", msg->mail_from, "i", "cairn",
					     "{auth_authen}", msg->auth_user };
			milter_macros(&out, SMFIC_MAIL, am, 3);
		}
		snprintf(addr, sizeof(addr), "<%s>", msg->mail_from);
		const char *a[] = { addr };
		milter_strings(&out, SMFIC_MAIL, a, 1);
		go = step(&c, &out, SMFIP_NR_MAIL, result, false);
	}
	for (size_t i = 0; go == 1 && !(c.protocol & SMFIP_NORCPT) && i < msg->nrcpts; i++) {
		snprintf(addr, sizeof(addr), "<%s>", msg->rcpts[i].address);
		const char *rm[] = { "{rcpt_addr}", msg->rcpts[i].address };
		milter_macros(&out, SMFIC_RCPT, rm, 1);
		const char *a[] = { addr };
		milter_strings(&out, SMFIC_RCPT, a, 1);
		go = step(&c, &out, SMFIP_NR_RCPT, result, false);
	}
	if (go == 1 && !(c.protocol & SMFIP_NODATA)) {
		milter_packet(&out, SMFIC_DATA, NULL, 0);
		go = step(&c, &out, SMFIP_NR_DATA, result, false);
	}
	/* headers, as received: the value unfolded into lines joined by \n */
	const char *h = msg->raw, *hend = msg->raw + msg->header_len;
	while (go == 1 && !(c.protocol & SMFIP_NOHDRS) && h < hend) {
		const char *e = h;
		do {
			const char *nl = memchr(e, '\n', (size_t)(hend - e));
			e = nl ? nl + 1 : hend;
		} while (e < hend && (*e == ' ' || *e == '\t'));
		const char *colon = memchr(h, ':', (size_t)(e - h));
		if (colon == NULL) {	/* the empty line that ends the header */
			h = e;
			continue;
		}
		char *name = xstrndup(h, (size_t)(colon - h));
		const char *v = colon + 1;
		if (!(c.protocol & SMFIP_HDR_LEADSPC) && v < e && *v == ' ')
			v++;
		struct buf val;
		buf_init(&val, 0);
		for (const char *p = v; p < e; p++)
			if (*p != '\r')
				buf_append(&val, p, 1);
		while (val.len > 0 && val.data[val.len - 1] == '\n')
			val.data[--val.len] = '\0';
		const char *hv[] = { name, val.data ? val.data : "" };
		milter_strings(&out, SMFIC_HEADER, hv, 2);
		free(name);
		buf_free(&val);
		go = step(&c, &out, SMFIP_NR_HDR, result, false);
		h = e;
	}
	if (go == 1 && !(c.protocol & SMFIP_NOEOH)) {
		milter_packet(&out, SMFIC_EOH, NULL, 0);
		go = step(&c, &out, SMFIP_NR_EOH, result, false);
	}
	for (size_t off = msg->body_offset; go == 1 && !(c.protocol & SMFIP_NOBODY) && !c.skip_body &&
					    off < msg->size;) {
		size_t n = msg->size - off > MILTER_CHUNK_MAX ? MILTER_CHUNK_MAX : msg->size - off;
		milter_packet(&out, SMFIC_BODY, msg->raw + off, n);
		go = step(&c, &out, SMFIP_NR_BODY, result, false);
		off += n;
	}
	if (go == 1) {
		milter_packet(&out, SMFIC_BODYEOB, NULL, 0);
		go = step(&c, &out, 0, result, true);
	}
	if (go >= 0) {
		milter_packet(&out, SMFIC_QUIT, NULL, 0);
		(void)scanner_send_all(c.fd, out.data, out.len, c.deadline, &c.error);
	}
done:
	buf_free(&out);
	close(c.fd);
	if (go < 0)
		goto fail;
	switch (c.final) {
	case SMFIR_REJECT:
		scan_result_hint(result, SCAN_ACTION_REJECT, "rejected by the milter");
		break;
	case SMFIR_TEMPFAIL:
		scan_result_hint(result, SCAN_ACTION_TEMPFAIL, "milter tempfail");
		break;
	case SMFIR_REPLYCODE:
		scan_result_hint(result, c.code >= 500 ? SCAN_ACTION_REJECT : SCAN_ACTION_TEMPFAIL,
				 "milter: %s", c.reply);
		break;
	case SMFIR_DISCARD:
		/* a discard keeps the message where an admin can see it */
		scan_result_hint(result, SCAN_ACTION_QUARANTINE, "discarded by the milter");
		break;
	default:
		break;
	}
	if (c.final == SMFIR_REJECT || c.final == SMFIR_TEMPFAIL || c.final == SMFIR_REPLYCODE ||
	    c.final == SMFIR_DISCARD)
		scan_result_add_test(result, "MILTER", 0.0, "milter answered '%c'%s%s", c.final,
				     c.reply[0] ? ": " : "", c.reply);
	if (c.nadded > 0 || c.nchanged > 0 || c.replbody)
		log_info("scan milter event=modified headers_added=%zu headers_changed=%zu body=%s",
			 c.nadded, c.nchanged, c.replbody ? "replaced" : "kept");
	if (c.replbody) {
		struct buf crlf;
		buf_init(&crlf, 0);
		milter_body_crlf(c.body.data != NULL ? c.body.data : "", c.body.len, &crlf);
		scan_result_replace_body(result, crlf.data != NULL ? crlf.data : "", crlf.len);
		buf_free(&crlf);
	}
	buf_free(&c.in);
	buf_free(&c.body);
	return SCAN_MOD_OK;
fail:
	buf_free(&c.in);
	buf_free(&c.body);
	log_warn("scan milter socket=%s status=%s error=\"%s\"", st->socket,
		 c.status == SCAN_MOD_TIMEOUT ? "timeout" : "error", c.error);
	return c.status;
}

static void milter_free(void *state)
{
	struct milter_state *st = state;
	free(st->socket);
	free(st->name);
	free(st);
}

const struct scan_module scan_milter_module = {
	.name = "milter",
	.init = milter_init,
	.reload = milter_reload,
	.run = milter_run,
	.free = milter_free,
};
