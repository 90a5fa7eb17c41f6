/* The outbound queue's stub resolver: UDP queries with one retry, TCP when
 * the answer is truncated, to the configured server or /etc/resolv.conf's.
 * On top of it the RFC 5321 section 5.1 MX logic (preference order, random
 * among equals, implicit MX, RFC 7505 null MX). Blocking: it runs on a queue
 * worker thread, one resolver per thread. */
#include "autoconf.h"
#include "dns.h"
#include "dns_packet.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DNS_MAX_SERVERS 3
/* CNAME hops followed for one name before giving up (loops end here too). */
#define DNS_MAX_CNAME 16
/* MX records considered before the cut to DNS_MAX_HOSTS. */
#define DNS_MAX_MX 64
#define RESOLV_CONF "/etc/resolv.conf"

struct dns_resolver {
	struct sockaddr_storage servers[DNS_MAX_SERVERS];
	socklen_t lens[DNS_MAX_SERVERS];
	size_t nservers;
	uint64_t timeout_ms;
};

/* What one query came back with. */
enum query_result { Q_OK, Q_NXDOMAIN, Q_TEMPFAIL, Q_BADNAME };

const char *dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_OK: return "ok";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_NOTFOUND: return "notfound";
	case DNS_NULLMX: return "nullmx";
	}
	return "unknown";
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Unpredictable bits for query ids (spoofing) and the shuffle among equal
 * MX preferences. getrandom never fails for small reads after boot. */
static uint32_t random_u32(void)
{
	uint32_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
		v = (uint32_t)now_ms() ^ (uint32_t)getpid();
	return v;
}

/* Parse "1.2.3.4", "1.2.3.4:53", "[::1]:53", "::1" into ss with port 53. */
static int parse_server(const char *spec, struct sockaddr_storage *ss, socklen_t *len_r)
{
	char host[INET6_ADDRSTRLEN + 16];
	const char *port = "53";
	size_t n = strlen(spec);
	if (n == 0 || n >= sizeof(host))
		return -1;
	if (spec[0] == '[') {
		const char *close = strchr(spec, ']');
		if (close == NULL || (size_t)(close - spec - 1) >= sizeof(host))
			return -1;
		memcpy(host, spec + 1, (size_t)(close - spec - 1));
		host[close - spec - 1] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return -1;
	} else {
		memcpy(host, spec, n + 1);
		char *colon = strchr(host, ':');
		/* One colon: host:port. More: a bare IPv6 address. */
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			*colon = '\0';
			port = spec + (colon - host) + 1;
		}
	}
	uint64_t portnum;
	if (str_to_u64(port, strlen(port), 65535, &portnum) < 0 || portnum == 0)
		return -1;
	struct addrinfo hints, *ai;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_DGRAM;
	char portbuf[8];
	snprintf(portbuf, sizeof(portbuf), "%u", (unsigned)portnum);
	if (getaddrinfo(host, portbuf, &hints, &ai) != 0)
		return -1;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len_r = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* The nameserver lines of resolv.conf, as glibc reads them (at most 3). */
static int read_resolv_conf(struct dns_resolver *r, char *error, size_t errlen)
{
	FILE *f = fopen(RESOLV_CONF, "r");
	if (f == NULL) {
		/* No file: glibc's default is the local host. */
		parse_server("127.0.0.1", &r->servers[0], &r->lens[0]);
		r->nservers = 1;
		return 0;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL && r->nservers < DNS_MAX_SERVERS) {
		char *p = str_trim(line);
		if (strncmp(p, "nameserver", 10) != 0 || (p[10] != ' ' && p[10] != '\t'))
			continue;
		p = str_trim(p + 10);
		char *end = p + strcspn(p, " \t#;");
		*end = '\0';
		/* A bare address here: never a port; IPv6 may carry %scope. */
		struct addrinfo hints, *ai;
		memset(&hints, 0, sizeof(hints));
		hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
		hints.ai_socktype = SOCK_DGRAM;
		if (getaddrinfo(p, "53", &hints, &ai) != 0)
			continue;
		memcpy(&r->servers[r->nservers], ai->ai_addr, ai->ai_addrlen);
		r->lens[r->nservers++] = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	fclose(f);
	if (r->nservers == 0) {
		parse_server("127.0.0.1", &r->servers[0], &r->lens[0]);
		r->nservers = 1;
	}
	(void)error;
	(void)errlen;
	return 0;
}

struct dns_resolver *dns_resolver_new(const char *server, uint64_t timeout_ms, char *error,
				      size_t errlen)
{
	struct dns_resolver *r = xcalloc(1, sizeof(*r));
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 5000;
	if (server != NULL && *server != '\0') {
		if (parse_server(server, &r->servers[0], &r->lens[0]) < 0) {
			snprintf(error, errlen,
				 "DNS server '%s': not an IP address with optional :port", server);
			free(r);
			return NULL;
		}
		r->nservers = 1;
	} else if (read_resolv_conf(r, error, errlen) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

void dns_resolver_free(struct dns_resolver *r)
{
	free(r);
}

void dns_resolver_set_timeout(struct dns_resolver *r, uint64_t timeout_ms)
{
	r->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
}

/* Whether a parsed message answers our query: the id guards against stale and
 * (blind) forged datagrams, the question against a confused server. */
static bool answers(const struct dns_message *m, uint16_t id, const char *name, uint16_t qtype)
{
	if (m->id != id || !m->qr || m->opcode != 0)
		return false;
	if (m->qdcount == 0)
		return m->tc;	/* truncated without the question: TCP will check */
	return m->qclass == DNS_CLASS_IN && m->qtype == qtype && dns_name_eq(m->qname, name);
}

/* Wait until fd is ready for events or the deadline passes. 1 ready, 0 timeout,
 * -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = events };
		int n = poll(&pfd, 1, (int)(deadline - now > 60000 ? 60000 : deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n > 0)
			return 1;
	}
}

/* One UDP attempt: send, then read datagrams until one answers the query or
 * the deadline passes. 1 answered (m filled), 0 timeout, -1 network error. */
static int udp_exchange(const struct dns_resolver *r, size_t srv, const unsigned char *q,
			size_t qlen, uint16_t id, const char *name, uint16_t qtype,
			struct dns_message *m, uint64_t deadline, char *why, size_t whylen)
{
	int fd = socket(r->servers[srv].ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	/* connect(): the kernel drops datagrams from other addresses, and an
	 * ICMP port unreachable comes back as ECONNREFUSED. */
	if (connect(fd, (const struct sockaddr *)&r->servers[srv], r->lens[srv]) < 0 ||
	    send(fd, q, qlen, 0) != (ssize_t)qlen) {
		snprintf(why, whylen, "sending to the DNS server: %s", strerror(errno));
		close(fd);
		return -1;
	}
	unsigned char buf[4096];
	int ret = 0;
	for (;;) {
		int w = wait_fd(fd, POLLIN, deadline);
		if (w <= 0) {
			if (w < 0)
				snprintf(why, whylen, "poll: %s", strerror(errno));
			ret = w;
			break;
		}
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			snprintf(why, whylen, "DNS server: %s", strerror(errno));
			ret = -1;
			break;
		}
		const char *perr;
		if (dns_packet_parse(buf, (size_t)n, m, &perr) < 0)
			continue;	/* garbage or forged: keep waiting */
		if (answers(m, id, name, qtype)) {
			ret = 1;
			break;
		}
	}
	close(fd);
	return ret;
}

/* Write all of data to a non-blocking stream socket by the deadline. */
static int write_all(int fd, const unsigned char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read exactly len bytes by the deadline. */
static int read_all(int fd, unsigned char *data, size_t len, uint64_t deadline)
{
	while (len > 0) {
		ssize_t n = read(fd, data, len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLIN, deadline) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The same query over TCP (RFC 1035 4.2.2, RFC 7766), after a truncated UDP
 * answer. 1 answered, -1 failed (why says so). */
static int tcp_exchange(const struct dns_resolver *r, size_t srv, const unsigned char *q,
			size_t qlen, uint16_t id, const char *name, uint16_t qtype,
			struct dns_message *m, uint64_t deadline, char *why, size_t whylen)
{
	int fd = socket(r->servers[srv].ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	int ret = -1;
	unsigned char *buf = NULL;
	if (connect(fd, (const struct sockaddr *)&r->servers[srv], r->lens[srv]) < 0) {
		if (errno != EINPROGRESS || wait_fd(fd, POLLOUT, deadline) <= 0) {
			snprintf(why, whylen, "TCP connect to the DNS server failed or timed out");
			goto out;
		}
		int err = 0;
		socklen_t elen = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0) {
			snprintf(why, whylen, "TCP connect to the DNS server: %s", strerror(err));
			goto out;
		}
	}
	unsigned char hdr[2] = { (unsigned char)(qlen >> 8), (unsigned char)qlen };
	if (write_all(fd, hdr, 2, deadline) < 0 || write_all(fd, q, qlen, deadline) < 0) {
		snprintf(why, whylen, "sending the TCP query to the DNS server failed");
		goto out;
	}
	if (read_all(fd, hdr, 2, deadline) < 0) {
		snprintf(why, whylen, "reading the TCP answer of the DNS server failed");
		goto out;
	}
	size_t rlen = ((size_t)hdr[0] << 8) | hdr[1];
	buf = xmalloc(rlen > 0 ? rlen : 1);
	const char *perr = NULL;
	if (read_all(fd, buf, rlen, deadline) < 0) {
		snprintf(why, whylen, "reading the TCP answer of the DNS server failed");
		goto out;
	}
	if (dns_packet_parse(buf, rlen, m, &perr) < 0 || m->qdcount != 1 ||
	    !answers(m, id, name, qtype)) {
		snprintf(why, whylen, "bad TCP answer from the DNS server: %s",
			 perr != NULL ? perr : "not an answer to the query");
		goto out;
	}
	ret = 1;
out:
	free(buf);
	close(fd);
	return ret;
}

/* Ask the servers in turn, each twice, for name/qtype. NOERROR and NXDOMAIN
 * are answers; SERVFAIL, REFUSED, timeouts and network errors move on to the
 * next try and end as Q_TEMPFAIL with why describing the last one. */
static enum query_result query(const struct dns_resolver *r, const char *name, uint16_t qtype,
			       struct dns_message *m, char *why, size_t whylen)
{
	unsigned char q[512];
	const char *err;
	uint16_t id = (uint16_t)random_u32();
	int qlen = dns_packet_query(id, name, qtype, q, sizeof(q), &err);
	if (qlen < 0) {
		snprintf(why, whylen, "%s", err);
		return Q_BADNAME;
	}
	snprintf(why, whylen, "no DNS server answered");
	for (size_t srv = 0; srv < r->nservers; srv++) {
		for (int attempt = 0; attempt < 2; attempt++) {
			uint64_t deadline = now_ms() + r->timeout_ms;
			int ret = udp_exchange(r, srv, q, (size_t)qlen, id, name, qtype, m, deadline,
					       why, whylen);
			if (ret == 0) {
				snprintf(why, whylen, "DNS server timed out after %llu ms",
					 (unsigned long long)r->timeout_ms);
				continue;
			}
			if (ret < 0)
				break;	/* unreachable: a retry will not help */
			if (m->tc && tcp_exchange(r, srv, q, (size_t)qlen, id, name, qtype, m,
						  now_ms() + r->timeout_ms, why, whylen) < 0)
				break;
			if (m->rcode == DNS_RCODE_NOERROR)
				return Q_OK;
			if (m->rcode == DNS_RCODE_NXDOMAIN)
				return Q_NXDOMAIN;
			snprintf(why, whylen, "DNS server answered %s",
				 m->rcode == DNS_RCODE_SERVFAIL ? "SERVFAIL" :
				 m->rcode == DNS_RCODE_FORMERR ? "FORMERR" :
				 m->rcode == 5 ? "REFUSED" : "an error");
			break;
		}
	}
	return Q_TEMPFAIL;
}

/* Records of qtype for name, following CNAMEs inside answers and, when a
 * chain ends without the records, by asking for its last name again. rrs
 * gets at most max records; *n_r = 0 with Q_OK is "no data". */
static enum query_result lookup(const struct dns_resolver *r, const char *name, uint16_t qtype,
				struct dns_message *m, struct dns_rr *rrs, size_t max,
				size_t *n_r, char *why, size_t whylen)
{
	char cur[DNS_NAME_MAX];
	snprintf(cur, sizeof(cur), "%s", name);
	*n_r = 0;
	unsigned hops = 0;
	for (;;) {
		enum query_result qr = query(r, cur, qtype, m, why, whylen);
		if (qr != Q_OK)
			return qr;
		bool requery = false;
		for (;;) {
			for (size_t i = 0; i < m->nrrs; i++) {
				if (m->rrs[i].type == qtype && dns_name_eq(m->rrs[i].owner, cur) &&
				    *n_r < max)
					rrs[(*n_r)++] = m->rrs[i];
			}
			if (*n_r > 0)
				return Q_OK;
			size_t i;
			for (i = 0; i < m->nrrs; i++) {
				if (m->rrs[i].type == DNS_TYPE_CNAME && dns_name_eq(m->rrs[i].owner, cur))
					break;
			}
			if (i == m->nrrs)
				break;
			if (++hops > DNS_MAX_CNAME) {
				snprintf(why, whylen, "CNAME chain longer than %d names", DNS_MAX_CNAME);
				return Q_TEMPFAIL;
			}
			snprintf(cur, sizeof(cur), "%s", m->rrs[i].target);
			requery = true;
		}
		/* The chain's end had no records in this answer: ask for it. An
		 * answer that merely ends where we asked is "no data". */
		if (!requery || dns_name_eq(cur, m->qname))
			return Q_OK;
	}
}

/* Fill res with a formatted error and status. */
static void fail(struct dns_result *res, enum dns_status status, const char *fmt, ...)
	ATTR_PRINTF(3, 4);
static void fail(struct dns_result *res, enum dns_status status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->error, sizeof(res->error), fmt, ap);
	va_end(ap);
	res->status = status;
	res->nhosts = 0;
}

/* Add one address to h (port 25: the caller may change it). */
static void host_add_addr(struct dns_host *h, int family, const unsigned char *addr)
{
	if (h->naddrs >= DNS_MAX_ADDRS)
		return;
	struct sockaddr_storage *ss = &h->addrs[h->naddrs];
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
		memcpy(&sin->sin_addr, addr, 4);
		h->addrlens[h->naddrs++] = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
		memcpy(&sin6->sin6_addr, addr, 16);
		h->addrlens[h->naddrs++] = sizeof(*sin6);
	}
}

/* The AAAA and A addresses of name into h, interleaved IPv6 first so a
 * client that walks the list falls back between families early. Returns
 * DNS_OK (naddrs > 0), DNS_NOTFOUND or DNS_TEMPFAIL with why set. */
static enum dns_status host_addrs(const struct dns_resolver *r, const char *name,
				  struct dns_host *h, struct dns_message *m, char *why,
				  size_t whylen)
{
	struct dns_rr v6[DNS_MAX_ADDRS], v4[DNS_MAX_ADDRS];
	size_t n6 = 0, n4 = 0;
	char why6[200], why4[200];
	enum query_result r6 = lookup(r, name, DNS_TYPE_AAAA, m, v6, DNS_MAX_ADDRS, &n6, why6,
				      sizeof(why6));
	enum query_result r4 = r6 == Q_NXDOMAIN || r6 == Q_BADNAME ? r6 :
		lookup(r, name, DNS_TYPE_A, m, v4, DNS_MAX_ADDRS, &n4, why4, sizeof(why4));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->naddrs = 0;
	for (size_t i = 0; i < n6 || i < n4; i++) {
		if (i < n6)
			host_add_addr(h, AF_INET6, v6[i].addr);
		if (i < n4)
			host_add_addr(h, AF_INET, v4[i].addr);
	}
	if (h->naddrs > 0)
		return DNS_OK;
	if (r6 == Q_TEMPFAIL || r4 == Q_TEMPFAIL) {
		snprintf(why, whylen, "%s: %s lookup: %s", name, r6 == Q_TEMPFAIL ? "AAAA" : "A",
			 r6 == Q_TEMPFAIL ? why6 : why4);
		return DNS_TEMPFAIL;
	}
	if (r6 == Q_BADNAME) {
		snprintf(why, whylen, "%s: not a valid host name: %s", name, why6);
		return DNS_NOTFOUND;
	}
	if (r6 == Q_NXDOMAIN || r4 == Q_NXDOMAIN)
		snprintf(why, whylen, "%s: host not found (A/AAAA lookup: NXDOMAIN)", name);
	else
		snprintf(why, whylen, "%s: no A or AAAA record", name);
	return DNS_NOTFOUND;
}

/* An address literal: "1.2.3.4", "::1", "[1.2.3.4]", "[IPv6:::1]". */
static bool ip_literal(const char *host, struct dns_host *h)
{
	char text[INET6_ADDRSTRLEN + 8];
	size_t n = strlen(host);
	if (n >= sizeof(text) + 2)
		return false;
	if (host[0] == '[') {
		if (n < 3 || host[n - 1] != ']')
			return false;
		memcpy(text, host + 1, n - 2);
		text[n - 2] = '\0';
	} else {
		memcpy(text, host, n + 1);
	}
	unsigned char addr[16];
	const char *a = text;
	int family = AF_INET;
	if (str_ncasecmp(text, "IPv6:", 5) == 0) {
		a = text + 5;
		family = AF_INET6;
	} else if (strchr(text, ':') != NULL) {
		if (host[0] == '[')
			return false;	/* RFC 5321 4.1.3 wants the IPv6: tag */
		family = AF_INET6;
	}
	if (inet_pton(family, a, addr) != 1)
		return false;
	snprintf(h->name, sizeof(h->name), "%s", host);
	h->preference = 0;
	h->naddrs = 0;
	host_add_addr(h, family, addr);
	return true;
}

void dns_resolve_host(struct dns_resolver *r, const char *host, struct dns_result *res)
{
	res->status = DNS_OK;
	res->error[0] = '\0';
	res->nhosts = 0;
	if (ip_literal(host, &res->hosts[0])) {
		res->nhosts = 1;
		return;
	}
	struct dns_message *m = xmalloc(sizeof(*m));
	char why[sizeof(res->error)];
	enum dns_status st = host_addrs(r, host, &res->hosts[0], m, why, sizeof(why));
	free(m);
	if (st != DNS_OK) {
		fail(res, st, "%s", why);
		return;
	}
	res->hosts[0].preference = 0;
	res->nhosts = 1;
}

/* Sort by preference (insertion sort: at most DNS_MAX_MX), then shuffle each
 * run of equal preferences (Fisher-Yates), as RFC 5321 5.1 asks. */
static void order_mx(struct dns_rr *mx, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct dns_rr tmp = mx[i];
		size_t j = i;
		for (; j > 0 && mx[j - 1].preference > tmp.preference; j--)
			mx[j] = mx[j - 1];
		mx[j] = tmp;
	}
	for (size_t start = 0; start < n;) {
		size_t end = start + 1;
		while (end < n && mx[end].preference == mx[start].preference)
			end++;
		for (size_t i = end - 1; i > start; i--) {
			size_t j = start + random_u32() % (i - start + 1);
			struct dns_rr tmp = mx[i];
			mx[i] = mx[j];
			mx[j] = tmp;
		}
		start = end;
	}
}

void dns_resolve_mail(struct dns_resolver *r, const char *domain, struct dns_result *res)
{
	res->status = DNS_OK;
	res->error[0] = '\0';
	res->nhosts = 0;
	if (domain[0] == '[') {
		dns_resolve_host(r, domain, res);
		return;
	}
	struct dns_message *m = xmalloc(sizeof(*m));
	struct dns_rr *mx = xmalloc(DNS_MAX_MX * sizeof(*mx));
	char why[200];
	size_t nmx = 0;
	enum query_result qr = lookup(r, domain, DNS_TYPE_MX, m, mx, DNS_MAX_MX, &nmx, why,
				      sizeof(why));
	switch (qr) {
	case Q_BADNAME:
		fail(res, DNS_NOTFOUND, "%s: not a valid domain name: %s", domain, why);
		goto out;
	case Q_NXDOMAIN:
		fail(res, DNS_NOTFOUND, "%s: domain not found (MX lookup: NXDOMAIN)", domain);
		goto out;
	case Q_TEMPFAIL:
		fail(res, DNS_TEMPFAIL, "%s: MX lookup: %s", domain, why);
		goto out;
	case Q_OK:
		break;
	}
	if (nmx == 0) {
		/* RFC 5321 5.1: no MX, the domain itself is the implicit MX. */
		char hwhy[sizeof(res->error)];
		enum dns_status st = host_addrs(r, domain, &res->hosts[0], m, hwhy, sizeof(hwhy));
		if (st == DNS_OK) {
			res->hosts[0].preference = 0;
			res->nhosts = 1;
		} else if (st == DNS_TEMPFAIL) {
			fail(res, st, "%s: no MX record, and the implicit MX: %s", domain, hwhy);
		} else {
			fail(res, st, "%s: no MX record and no A/AAAA record", domain);
		}
		goto out;
	}
	/* RFC 7505: a lone "MX 0 ." says the domain takes no mail. A "." among
	 * real exchangers is a misconfiguration: skip it, use the others. */
	if (nmx == 1 && mx[0].target[0] == '\0') {
		fail(res, DNS_NULLMX, "%s: null MX (RFC 7505): the domain accepts no mail", domain);
		goto out;
	}
	order_mx(mx, nmx);
	bool tempfail = false;
	char last[sizeof(res->error)] = "";
	for (size_t i = 0; i < nmx && res->nhosts < DNS_MAX_HOSTS; i++) {
		if (mx[i].target[0] == '\0')
			continue;
		bool dup = false;
		for (size_t k = 0; k < res->nhosts; k++)
			dup = dup || dns_name_eq(res->hosts[k].name, mx[i].target);
		if (dup)
			continue;
		struct dns_host *h = &res->hosts[res->nhosts];
		enum dns_status st = host_addrs(r, mx[i].target, h, m, last, sizeof(last));
		if (st == DNS_OK) {
			h->preference = mx[i].preference;
			res->nhosts++;
		} else if (st == DNS_TEMPFAIL) {
			tempfail = true;
		}
	}
	if (res->nhosts == 0)
		fail(res, tempfail ? DNS_TEMPFAIL : DNS_NOTFOUND,
		     "%s: no MX host has an address: %s", domain, last);
out:
	free(mx);
	free(m);
}

/* ---- record lookups for the scan stage (SPF, DKIM, DMARC, DNS lists) ---- */

enum dns_status dns_lookup(struct dns_resolver *r, const char *name, uint16_t qtype,
			   struct dns_record *recs, size_t max, size_t *n_r, char *error,
			   size_t errlen)
{
	*n_r = 0;
	struct dns_message *m = xmalloc(sizeof(*m));
	struct dns_rr *rrs = xcalloc(max > 0 ? max : 1, sizeof(*rrs));
	char why[256];
	size_t n = 0;
	enum query_result qr = lookup(r, name, qtype, m, rrs, max, &n, why, sizeof(why));
	enum dns_status st = DNS_OK;
	if (qr == Q_NXDOMAIN) {
		snprintf(error, errlen, "%s: no such domain", name);
		st = DNS_NOTFOUND;
	} else if (qr == Q_BADNAME) {
		snprintf(error, errlen, "%s: %s", name, why);
		st = DNS_NOTFOUND;
	} else if (qr != Q_OK) {
		snprintf(error, errlen, "%s: %s", name, why);
		st = DNS_TEMPFAIL;
	} else {
		for (size_t i = 0; i < n; i++) {
			struct dns_record *rec = &recs[i];
			memset(rec, 0, sizeof(*rec));
			rec->type = rrs[i].type;
			rec->ttl = rrs[i].ttl;
			rec->preference = rrs[i].preference;
			memcpy(rec->name, rrs[i].target, sizeof(rec->name));
			memcpy(rec->addr, rrs[i].addr, sizeof(rec->addr));
			if (rrs[i].type == DNS_TYPE_TXT) {
				/* The TXT bytes live in the message that produced the rr:
				 * lookup() may have asked again for a CNAME's end, but
				 * the records it kept all come from the last answer. */
				rec->txt = xmalloc(rrs[i].txt_len + 1);
				memcpy(rec->txt, m->txt + rrs[i].txt_off, rrs[i].txt_len);
				rec->txt[rrs[i].txt_len] = '\0';
				rec->txt_len = rrs[i].txt_len;
			}
		}
		*n_r = n;
	}
	free(rrs);
	free(m);
	return st;
}

void dns_records_free(struct dns_record *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(recs[i].txt);
		recs[i].txt = NULL;
	}
}
