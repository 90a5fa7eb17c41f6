/* Signs a message with the queue's DKIM signer for test_dkim.py. Usage:
 *   dkim-sign-test DOMAIN SELECTOR KEY.pem MESSAGE [UNIXTIME]
 * MESSAGE is read as bytes (CRLF expected); the DKIM-Signature field is
 * printed to stdout. Exit 0, 1 on a signing error, 2 on usage. */
#include "autoconf.h"
#include "dkim.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The whole file in b, or -1. */
static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return -1;
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	int ret = ferror(f) ? -1 : 0;
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: dkim-sign-test DOMAIN SELECTOR KEY.pem MESSAGE [UNIXTIME]\n");
		return 2;
	}
	struct buf pem, msg, out;
	buf_init(&pem, 0);
	buf_init(&msg, 0);
	buf_init(&out, 0);
	if (read_file(argv[3], &pem) < 0 || read_file(argv[4], &msg) < 0) {
		perror("dkim-sign-test: reading input");
		return 2;
	}
	char error[512];
	struct dkim_key *k = dkim_key_load(argv[1], argv[2], pem.data != NULL ? pem.data : "",
					   error, sizeof(error));
	if (k == NULL) {
		fprintf(stderr, "dkim-sign-test: %s\n", error);
		return 1;
	}
	time_t now = argc == 6 ? (time_t)strtoll(argv[5], NULL, 10) : time(NULL);
	int ret = dkim_sign(k, msg.data != NULL ? msg.data : "", msg.len, now, &out, error,
			    sizeof(error));
	if (ret < 0)
		fprintf(stderr, "dkim-sign-test: %s\n", error);
	else
		fwrite(out.data, 1, out.len, stdout);
	dkim_key_free(k);
	buf_free(&pem);
	buf_free(&msg);
	buf_free(&out);
	return ret < 0 ? 1 : 0;
}
