/* Shared between the files of the scan stage (not for modules). */
#ifndef CAIRN_SCAN_PRIVATE_H
#define CAIRN_SCAN_PRIVATE_H

#include "scan.h"

/* MIME parts split out of one message (the rest stays in the last part). */
#define SCAN_MIME_MAX_PARTS 1000
/* A module that returns this long after its deadline is counted as timed out. */
#define SCAN_OVERRUN_GRACE_MS 50

/* Unfold a header value (CR/LF dropped, ends trimmed), malloc'ed. */
char *scan_unfold(const char *v, size_t len);

/* Initialise the registered modules not yet initialised, then order them.
 * Returns 0, or -1 with *error_r (static). */
int scan_modules_init(const struct config *cfg, const char **error_r);
/* SIGHUP: reload each module, keeping the old state of one that fails. */
void scan_modules_reload(const struct config *cfg);
/* Free every module and empty the registry. */
void scan_modules_free(void);
/* Modules registered. */
size_t scan_modules_count(void);

#endif
