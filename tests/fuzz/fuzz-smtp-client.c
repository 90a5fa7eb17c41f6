/* libFuzzer target for the queue's SMTP client: the input is everything a
 * remote server says (greeting, EHLO reply, replies to a pipelined
 * transaction), fed through a socketpair to the real reply reader, EHLO
 * keyword parser and transaction logic. Must never crash, hang or leak,
 * whatever the server sends. */
#include "../../server/queue/smtp-client.c"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 100000)
		return 0;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(sv[1], data + done, size - done);
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	shutdown(sv[1], SHUT_WR);
	fcntl(sv[0], F_SETFL, O_NONBLOCK);

	struct smtp_client_params p = {
		.helo = "fuzz.test", .server_name = "remote.test", .tls = ROUTE_TLS_NONE,
		.connect_timeout_ms = 50, .command_timeout_ms = 50, .data_init_timeout_ms = 50,
		.data_block_timeout_ms = 50, .data_done_timeout_ms = 50,
	};
	struct smtp_client *c = xcalloc(1, sizeof(*c));
	c->p = &p;
	c->fd = sv[0];
	c->tls = ROUTE_TLS_NONE;
	buf_init(&c->out, 0);
	struct smtp_reply r;
	if (read_reply(c, 50, &r, false) == 0 && r.code == 220 && ehlo(c, &r) == 0) {
		for (int round = 0; round < 2 && !c->broken; round++) {
			struct smtp_client_rcpt rc[2] = {
				{ .address = "a@remote.test", .params = "" },
				{ .address = "b@remote.test", .params = " NOTIFY=NEVER" },
			};
			static const char msg[] = "Subject: fuzz\r\n\r\n.leading dot\r\nend";
			struct smtp_client_txn t = {
				.from = round == 0 ? "s@local.test" : "", .mail_params = " BODY=8BITMIME",
				.rcpts = rc, .nrcpts = 2, .prefix = "DKIM-Signature: x\r\n", .prefix_len = 19,
				.data = msg, .data_len = sizeof(msg) - 1,
			};
			(void)smtp_client_send(c, &t);
		}
	}
	smtp_client_close(&c, true);
	close(sv[1]);
	return 0;
}
