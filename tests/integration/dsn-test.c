/* Builds a DSN with proto/dsn.c for test_dsn.py. Usage:
 *   dsn-test [--full] [--utf8] [--max N] [--envid ID] [--arrival T] [--now T]
 *            ORIGINAL-FILE|- RCPT...
 * where each RCPT is "address|orcpt|action|status|remote-mta|diagnostic|
 * last-attempt|will-retry-until" (empty fields are NULL or 0). The report
 * goes to stdout; on an error the message goes to stderr and the exit is 1. */
#include "dsn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Split s at '|' into at most n fields (NULL for empty ones). */
static void split(char *s, char **f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *bar = s != NULL ? strchr(s, '|') : NULL;
		if (bar != NULL)
			*bar = '\0';
		f[i] = s != NULL && *s != '\0' ? s : NULL;
		s = bar != NULL ? bar + 1 : NULL;
	}
}

int main(int argc, char **argv)
{
	struct dsn_report r = {
		.reporting_mta = "mx.cairn.test", .from = "MAILER-DAEMON@mx.cairn.test",
		.to = "sender@origin.test", .message_id = "<dsn.1@mx.cairn.test>",
		.arrival = 1700000000, .now = 1700003600,
	};
	int i = 1;
	for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--full") == 0)
			r.return_full = true;
		else if (strcmp(argv[i], "--utf8") == 0)
			r.utf8 = true;
		else if (i + 1 < argc && strcmp(argv[i], "--max") == 0)
			r.max_original = strtoull(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--envid") == 0)
			r.envid = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--to") == 0)
			r.to = argv[++i];
		else if (i + 1 < argc && strcmp(argv[i], "--arrival") == 0)
			r.arrival = (time_t)strtoll(argv[++i], NULL, 10);
		else if (i + 1 < argc && strcmp(argv[i], "--now") == 0)
			r.now = (time_t)strtoll(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "dsn-test: unknown option %s\n", argv[i]);
			return 2;
		}
	}
	if (argc - i < 2) {
		fprintf(stderr, "usage: dsn-test [options] ORIGINAL RCPT...\n");
		return 2;
	}
	struct buf orig, out;
	buf_init(&orig, 0);
	buf_init(&out, 0);
	FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "rb");
	if (f == NULL) {
		perror(argv[i]);
		return 2;
	}
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&orig, chunk, n);
	if (f != stdin)
		fclose(f);
	r.original = orig.data;
	r.original_len = orig.len;
	i++;
	r.nrcpts = (size_t)(argc - i);
	struct dsn_recipient *rc = xcalloc(r.nrcpts, sizeof(*rc));
	for (size_t k = 0; k < r.nrcpts; k++) {
		char *fld[8];
		split(argv[i + (int)k], fld, 8);
		rc[k].address = fld[0];
		rc[k].orcpt = fld[1];
		rc[k].action = fld[2];
		rc[k].status = fld[3];
		rc[k].remote_mta = fld[4];
		rc[k].diagnostic = fld[5];
		rc[k].last_attempt = fld[6] != NULL ? (time_t)strtoll(fld[6], NULL, 10) : 0;
		rc[k].will_retry_until = fld[7] != NULL ? (time_t)strtoll(fld[7], NULL, 10) : 0;
	}
	r.rcpts = rc;
	const char *error;
	int ret = dsn_build(&r, &out, &error);
	if (ret < 0)
		fprintf(stderr, "dsn-test: %s\n", error);
	else
		fwrite(out.data, 1, out.len, stdout);
	free(rc);
	buf_free(&orig);
	buf_free(&out);
	return ret < 0 ? 1 : 0;
}
