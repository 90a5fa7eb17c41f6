/* libFuzzer target for the config loader: the input becomes a cairn.conf in a
 * memfd (one per process, rewritten each run) that config_load parses, and
 * also a NUL-terminated string for each value parser. ASan checks the loader
 * frees everything on both the success and the error paths. */
#include "autoconf.h"
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int fuzz_fd = -1;
static char fuzz_path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fuzz_fd < 0) {
		fuzz_fd = memfd_create("fuzz-config", MFD_CLOEXEC);
		if (fuzz_fd < 0)
			abort();
		snprintf(fuzz_path, sizeof(fuzz_path), "/proc/self/fd/%d", fuzz_fd);
	}
	/* Rewrite the whole file: config_load opens the path afresh each run. */
	if (ftruncate(fuzz_fd, 0) < 0 || pwrite(fuzz_fd, data, size, 0) != (ssize_t)size)
		abort();

	struct buf errors;
	struct config *cfg = NULL;
	buf_init(&errors, 0);
	int ret = config_load(fuzz_path, &cfg, &errors);
	/* Either a config and no text, or text and no config. */
	if ((ret == 0) != (cfg != NULL) || (ret == 0) != (errors.len == 0))
		abort();
	if (errors.data != NULL && strlen(errors.data) != errors.len)
		abort();
	config_free(&cfg);
	buf_free(&errors);

	char *s = xstrndup((const char *)data, size);
	bool b;
	uint64_t v;
	const char *error;
	struct config_listen_addr addrs[4];
	config_parse_bool(s, &b);
	config_parse_size(s, &v);
	config_parse_duration(s, &v);
	int n = config_parse_listen(s, addrs, 4, &error);
	for (int i = 0; i < n && i < 4; i++) {
		if (addrs[i].port == 0 || addrs[i].port > 65535 || strlen(addrs[i].host) >= sizeof(addrs[i].host))
			abort();
	}
	free(s);
	return 0;
}
