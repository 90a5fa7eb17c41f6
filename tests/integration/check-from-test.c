/* Submission's author check against a real directory: deliver_check_from()
 * for one account and the message on stdin. Usage: check-from-test CONFIG
 * ACCOUNT < MESSAGE. Prints "ok", "rejected" or "tempfail: REASON". Exit 0
 * (whatever the verdict) or 2 on a usage or setup error. Run by
 * test_smtp.py. */
#include "autoconf.h"
#include "config.h"
#include "deliver.h"
#include "directory.h"
#include "log.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	struct config *cfg;
	struct buf errors, msg;
	const char *error = NULL;
	if (argc != 3) {
		fprintf(stderr, "usage: check-from-test CONFIG ACCOUNT < MESSAGE\n");
		return 2;
	}
	log_open("check-from-test", false);
	log_set_level(LOG_LEVEL_ERR);
	buf_init(&errors, 0);
	if (config_load(argv[1], &cfg, &errors) < 0) {
		fprintf(stderr, "%s", errors.data);
		return 2;
	}
	buf_free(&errors);
	struct directory *dir = dir_create(cfg, &error);
	if (dir == NULL) {
		fprintf(stderr, "%s\n", error);
		return 2;
	}
	struct store *st = store_open(cfg);
	struct dir_handle *h = dir_handle_create(dir, st);
	buf_init(&msg, 0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		buf_append(&msg, chunk, n);
	enum deliver_status ret = deliver_check_from(h, msg.data != NULL ? msg.data : "", msg.len,
						     argv[2], &error);
	if (ret == DELIVER_OK)
		printf("ok\n");
	else if (ret == DELIVER_TEMPFAIL)
		printf("tempfail: %s\n", error != NULL ? error : "?");
	else
		printf("rejected\n");
	buf_free(&msg);
	dir_handle_destroy(&h);
	store_close(&st);
	dir_destroy(&dir);
	config_free(&cfg);
	return 0;
}
