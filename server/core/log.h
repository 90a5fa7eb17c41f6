/* Logging for cairnd and cairnctl: levels, stderr or syslog, one line per
 * event with key=value fields ("imap session=7f3a user=ann cmd=FETCH ms=3").
 * Never log a password or a message body. Thread-safe. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include "util.h"

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERR };

/* Choose where lines go: to stderr (default) or syslog with the given ident. */
void log_open(const char *ident, bool use_syslog);
/* Lines below this level are dropped. */
void log_set_level(enum log_level level);
/* Parse "debug", "info", "warn", "error"; returns 0 or -1. */
int log_level_parse(const char *name, enum log_level *level_r);

void log_debug(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_info(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_warn(const char *fmt, ...) ATTR_PRINTF(1, 2);
void log_err(const char *fmt, ...) ATTR_PRINTF(1, 2);
/* A broken environment (cannot bind, cannot read the certificate): log, exit(1). */
void fatal(const char *fmt, ...) ATTR_PRINTF(1, 2) ATTR_NORETURN;
/* A bug: log and abort() for a core dump. */
void panic(const char *fmt, ...) ATTR_PRINTF(1, 2) ATTR_NORETURN;

#endif
