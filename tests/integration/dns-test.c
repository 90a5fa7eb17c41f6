/* Drives the queue's resolver for test_dns.py. Usage:
 *   dns-test [--server ADDR[:PORT]] [--timeout MS] [--repeat N] mail|host NAME
 * Prints per run "status STATUS" (and "error TEXT" unless ok), then one line
 * per host "host NAME PREF ADDR..." and a blank line. Exit 0, or 2 on usage. */
#include "autoconf.h"
#include "dns.h"
#include "util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_result(const struct dns_result *res)
{
	printf("status %s\n", dns_status_name(res->status));
	if (res->status != DNS_OK)
		printf("error %s\n", res->error);
	for (size_t i = 0; i < res->nhosts; i++) {
		const struct dns_host *h = &res->hosts[i];
		printf("host %s %u", h->name, h->preference);
		for (size_t k = 0; k < h->naddrs; k++) {
			char text[INET6_ADDRSTRLEN];
			const struct sockaddr_storage *ss = &h->addrs[k];
			if (ss->ss_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, text,
					  sizeof(text));
			else
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, text,
					  sizeof(text));
			printf(" %s", text);
		}
		printf("\n");
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *server = NULL;
	uint64_t timeout = 2000, repeat = 1;
	int i = 1;
	for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (strcmp(argv[i], "--server") == 0)
			server = argv[i + 1];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout = strtoull(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--repeat") == 0)
			repeat = strtoull(argv[i + 1], NULL, 10);
		else
			break;
	}
	if (argc - i != 2 || (strcmp(argv[i], "mail") != 0 && strcmp(argv[i], "host") != 0)) {
		fprintf(stderr, "usage: dns-test [--server S] [--timeout MS] [--repeat N] mail|host NAME\n");
		return 2;
	}
	char error[256];
	struct dns_resolver *r = dns_resolver_new(server, timeout, error, sizeof(error));
	if (r == NULL) {
		fprintf(stderr, "dns-test: %s\n", error);
		return 2;
	}
	struct dns_result *res = xmalloc(sizeof(*res));
	for (uint64_t n = 0; n < repeat; n++) {
		if (strcmp(argv[i], "mail") == 0)
			dns_resolve_mail(r, argv[i + 1], res);
		else
			dns_resolve_host(r, argv[i + 1], res);
		print_result(res);
	}
	free(res);
	dns_resolver_free(r);
	return 0;
}
