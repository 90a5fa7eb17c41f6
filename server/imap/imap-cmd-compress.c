/* COMPRESS=DEFLATE (RFC 4978). The command only agrees or refuses; the
 * deflate layer itself is generic and lives in server/core/conn.c. The
 * switch happens after the session has consumed the command line, so bytes
 * the client pipelined after it are read as compressed data. */
#include "autoconf.h"
#include "imap-private.h"
#include "conn.h"
#include "log.h"

void imap_cmd_compress(struct imap_session *s, const struct imap_command *cmd)
{
	const char *mech;
	if (cmd->arg_count != 1 || !imap_arg_atom(&cmd->args[0], &mech)) {
		imap_bad(s, cmd->tag, "COMPRESS needs one mechanism");
		return;
	}
	/* RFC 4978 3: NO with COMPRESSIONACTIVE, saying which layer has it. */
	if (conn_is_compressed(s->conn) || s->compress_pending) {
		imap_reply(s, "%s NO [COMPRESSIONACTIVE] DEFLATE is already active (COMPRESS)",
			   cmd->tag);
		return;
	}
	if (str_casecmp(mech, "DEFLATE") != 0) {
		imap_bad(s, cmd->tag, "Unknown compression mechanism");
		return;
	}
	/* The OK itself is the last uncompressed response. */
	imap_reply(s, "%s OK DEFLATE active", cmd->tag);
	s->compress_pending = true;
}

void imap_compress_activate(struct imap_session *s)
{
	s->compress_pending = false;
	if (conn_compress_start(s->conn) < 0) {
		/* Cannot happen after the checks above; never leave the client
		 * compressing into a server that does not decompress. */
		log_warn("imap session=%s event=compress-failed", conn_id(s->conn));
		conn_abort(s->conn);
		return;
	}
	log_debug("imap session=%s user=%s event=compress mech=deflate tls=%s", conn_id(s->conn),
		  s->address[0] != '\0' ? s->address : "-", conn_is_tls(s->conn) ? "yes" : "no");
}
