/* Binding and accepting. Per-network connection counts live in a small hash
 * table keyed by the peer address masked to its network (IPv4-mapped IPv6
 * folded to IPv4); each service has its own count too (struct
 * listener_limit). A conn gives its slots back through conn_set_release
 * when it is freed. */
#include "autoconf.h"
#include "listener.h"
#include "config.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IPTABLE_BUCKETS 4096

struct ip_entry {
	uint8_t addr[16];
	unsigned count;
	struct ip_entry *next;
};

struct listener {
	int fd;
	unsigned port;
	struct loop *loop;
	struct loop_io *io;
	struct listener_params params;
	char *busy_reply;
	char *addr_text;
	struct listener *next;
};

/* What a conn holds: its network's entry and its service's count. */
struct slot {
	struct ip_entry *entry;
	struct listener_limit *limit;
};

static struct ip_entry *iptable[IPTABLE_BUCKETS];
static unsigned limit_total, limit_per_ip;
static unsigned prefix_v4 = 32, prefix_v6 = 64;
static unsigned open_total;

void listener_set_limits(unsigned max_total, unsigned max_per_ip, unsigned v4_prefix,
			 unsigned v6_prefix)
{
	limit_total = max_total;
	limit_per_ip = max_per_ip;
	prefix_v4 = v4_prefix > 32 ? 32 : v4_prefix;
	prefix_v6 = v6_prefix > 128 ? 128 : v6_prefix;
}

/* Keep the first bits bits of the 16-byte key, starting at byte from. */
static void mask_bits(uint8_t key[16], unsigned from, unsigned bits)
{
	for (unsigned i = from; i < 16; i++) {
		unsigned have = (i - from) * 8;
		if (have >= bits)
			key[i] = 0;
		else if (bits - have < 8)
			key[i] &= (uint8_t)(0xff << (8 - (bits - have)));
	}
}

static void addr_key(const struct sockaddr_storage *ss, uint8_t key[16])
{
	memset(key, 0, 16);
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &sin->sin_addr, 4);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		memcpy(key, &sin6->sin6_addr, 16);
	}
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (memcmp(key, mapped, 12) == 0)
		mask_bits(key, 12, prefix_v4);
	else
		mask_bits(key, 0, prefix_v6);
}

static unsigned addr_hash(const uint8_t key[16])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < 16; i++)
		h = (h ^ key[i]) * 16777619u;
	return h % IPTABLE_BUCKETS;
}

static struct ip_entry *ip_lookup(const uint8_t key[16], bool create)
{
	struct ip_entry **pp = &iptable[addr_hash(key)];
	for (struct ip_entry *e = *pp; e != NULL; e = e->next) {
		if (memcmp(e->addr, key, 16) == 0)
			return e;
	}
	if (!create)
		return NULL;
	struct ip_entry *e = xcalloc(1, sizeof(*e));
	memcpy(e->addr, key, 16);
	e->next = *pp;
	*pp = e;
	return e;
}

static void ip_release(void *ctx)
{
	struct slot *slot = ctx;
	struct ip_entry *e = slot->entry;
	if (slot->limit != NULL)
		slot->limit->open--;
	free(slot);
	open_total--;
	if (--e->count > 0)
		return;
	struct ip_entry **pp = &iptable[addr_hash(e->addr)];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	free(e);
}

static void listener_accept(void *ctx, unsigned events)
{
	struct listener *l = ctx;

	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED)
				return;
			/* EMFILE and friends: log and let the loop come back. */
			log_err("listener %s addr=%s event=accept-error reason=\"%s\"",
				metrics_proto_name(l->params.proto), l->addr_text, strerror(errno));
			return;
		}
		uint8_t key[16];
		addr_key(&ss, key);
		struct ip_entry *e = ip_lookup(key, false);
		struct listener_limit *lim = l->params.limit;
		const char *reason = NULL;
		if (limit_total > 0 && open_total >= limit_total)
			reason = "[server] max_connections";
		else if (lim != NULL && lim->max > 0 && lim->open >= lim->max)
			reason = lim->option;
		else if (limit_per_ip > 0 && e != NULL && e->count >= limit_per_ip)
			reason = "[server] max_connections_per_ip";
		if (reason != NULL) {
			char peer[INET6_ADDRSTRLEN] = "?";
			if (ss.ss_family == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof(peer));
			else if (ss.ss_family == AF_INET6)
				inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, peer, sizeof(peer));
			log_warn("listener %s peer=%s event=refused limit=\"%s\"",
				 metrics_proto_name(l->params.proto), peer, reason);
			metrics_inc(&metrics.conn_refused);
			if (l->busy_reply != NULL && l->params.tls == NULL) {
				ssize_t ret = send(fd, l->busy_reply, strlen(l->busy_reply),
						   MSG_NOSIGNAL | MSG_DONTWAIT);
				(void)ret;
			}
			close(fd);
			continue;
		}
		int one = 1;
		if (ss.ss_family == AF_INET || ss.ss_family == AF_INET6)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		e = ip_lookup(key, true);
		e->count++;
		open_total++;
		struct slot *slot = xmalloc(sizeof(*slot));
		slot->entry = e;
		slot->limit = lim;
		if (lim != NULL)
			lim->open++;
		SSL_CTX *ssl_ctx = l->params.tls != NULL ? tls_server_ctx(l->params.tls) : NULL;
		struct conn *c = conn_create(l->loop, fd, (struct sockaddr *)&ss, len,
					     l->params.proto, ssl_ctx);
		conn_set_release(c, ip_release, slot);
		log_debug("conn session=%s proto=%s peer=%s event=accept tls=%s", conn_id(c),
			  metrics_proto_name(l->params.proto), conn_peer_addr(c),
			  ssl_ctx != NULL ? "implicit" : "no");
		l->params.accept(c, l->params.ctx);
	}
}

static int bind_one(const struct listener_params *p, const char *text, struct sockaddr *sa,
		    socklen_t salen, bool dual_stack, struct listener **list, char **error_r)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = xasprintf("%s: %s: socket: %s", p->option, text, strerror(errno));
		return -1;
	}
	int one = 1, zero = 0;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (sa->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, dual_stack ? &zero : &one, sizeof(int));
	if (bind(fd, sa, salen) < 0 || listen(fd, 1024) < 0) {
		*error_r = xasprintf("%s: cannot listen on %s: %s", p->option, text, strerror(errno));
		close(fd);
		return -1;
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	unsigned port = 0;
	if (getsockname(fd, (struct sockaddr *)&bound, &blen) == 0) {
		port = bound.ss_family == AF_INET ?
			       ntohs(((struct sockaddr_in *)&bound)->sin_port) :
			       ntohs(((struct sockaddr_in6 *)&bound)->sin6_port);
	}
	struct listener *l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->port = port;
	l->params = *p;
	l->busy_reply = p->busy_reply != NULL ? xstrdup(p->busy_reply) : NULL;
	l->params.busy_reply = l->busy_reply;
	l->addr_text = xstrdup(text);
	l->params.option = NULL;
	l->params.listen = NULL;
	/* Keep the list in bind order. */
	while (*list != NULL)
		list = &(*list)->next;
	*list = l;
	log_info("listener %s addr=%s port=%u tls=%s", metrics_proto_name(p->proto), text, port,
		 p->tls != NULL ? "implicit" : "no");
	return 0;
}

int listener_bind(const struct listener_params *p, struct listener **list, char **error_r)
{
	struct config_listen_addr addrs[32];
	const char *err;
	int n = config_parse_listen(p->listen, addrs, ARRAY_SIZE(addrs), &err);
	if (n < 0) {
		*error_r = xasprintf("%s: %s", p->option, err);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char text[300];
		snprintf(text, sizeof(text), "%.255s:%u", addrs[i].host[0] ? addrs[i].host : "*",
			 addrs[i].port & 0xffffu);
		if (addrs[i].host[0] == '\0') {
			/* "*": one dual-stack socket, or IPv4 only where IPv6 is off. */
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
						     .sin6_port = htons(addrs[i].port),
						     .sin6_addr = IN6ADDR_ANY_INIT };
			char *e6 = NULL;
			if (bind_one(p, text, (struct sockaddr *)&sin6, sizeof(sin6), true, list,
				     &e6) == 0)
				continue;
			struct sockaddr_in sin = { .sin_family = AF_INET,
						   .sin_port = htons(addrs[i].port),
						   .sin_addr.s_addr = htonl(INADDR_ANY) };
			if (bind_one(p, text, (struct sockaddr *)&sin, sizeof(sin), false, list,
				     error_r) < 0) {
				free(e6);
				return -1;
			}
			free(e6);
			continue;
		}
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
		struct addrinfo *res;
		char port[16];
		snprintf(port, sizeof(port), "%u", addrs[i].port);
		int gai = getaddrinfo(addrs[i].host, port, &hints, &res);
		if (gai != 0) {
			*error_r = xasprintf("%s: cannot resolve %s: %s", p->option, text,
					     gai_strerror(gai));
			return -1;
		}
		for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
			if (bind_one(p, text, ai->ai_addr, ai->ai_addrlen, false, list, error_r) < 0) {
				freeaddrinfo(res);
				return -1;
			}
		}
		freeaddrinfo(res);
	}
	return 0;
}

void listener_start_all(struct loop *loop, struct listener *list)
{
	for (struct listener *l = list; l != NULL; l = l->next) {
		l->loop = loop;
		l->io = loop_add(loop, l->fd, LOOP_READ, listener_accept, l);
	}
}

void listener_close_all(struct listener **listp)
{
	struct listener *l = *listp;
	while (l != NULL) {
		struct listener *next = l->next;
		loop_remove(&l->io);
		close(l->fd);
		free(l->busy_reply);
		free(l->addr_text);
		free(l);
		l = next;
	}
	*listp = NULL;
}
