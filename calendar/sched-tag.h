/* The If-Schedule-Tag-Match header of RFC 6638 8.3 (pure, libc only). */
#ifndef CAIRN_SCHED_TAG_H
#define CAIRN_SCHED_TAG_H

#include <stdbool.h>
#include <stddef.h>

/* Whether tag (a quoted opaque tag, e.g. "\"s-1a2b\"") is one of the
 * entity-tags of an If-Schedule-Tag-Match value: 1#entity-tag separated by
 * commas and optional whitespace (RFC 9110 list rules, empty elements
 * allowed). A weak tag (W/"...") never matches: schedule tags are strong.
 * A malformed value matches nothing (the request then fails with 412). */
bool sched_tag_listed(const char *value, size_t len, const char *tag);

#endif
