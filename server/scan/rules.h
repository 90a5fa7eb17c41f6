/* The rules check of the scan stage: SpamAssassin-syntax rule files
 * (proto/sa_rules) compiled with PCRE2 (JIT where available) into an
 * immutable, reference-counted set that worker threads share; reload
 * builds a new set and swaps it in only when every file compiled. */
#ifndef CAIRN_SCAN_RULES_H
#define CAIRN_SCAN_RULES_H

#include <stdint.h>
#include "util.h"
#include "mime.h"

struct scan_rules;

/* Load every *.cf file of each directory in dirs (in that order; the files
 * of one directory in name order, as SpamAssassin does); a directory that
 * does not exist is skipped. Returns the set, or NULL with "FILE:LINE:
 * reason" in err (a parse error, a regex PCRE2 rejects, a meta cycle). */
struct scan_rules *scan_rules_load(const char *const *dirs, size_t ndirs, char *err, size_t errlen);
/* Reference counting (thread-safe). unref sets *rules to NULL. */
struct scan_rules *scan_rules_ref(struct scan_rules *rules);
void scan_rules_unref(struct scan_rules **rules);
/* How many rules the set runs, and how many lines it skipped (eval:
 * rules and directives of SpamAssassin plugins). */
size_t scan_rules_count(const struct scan_rules *rules);
size_t scan_rules_skipped(const struct scan_rules *rules);
/* required_score from the rule files, or def when none set it. */
double scan_rules_required(const struct scan_rules *rules, double def);

struct scan_rules_hit {
	const char *name;	/* owned by the rule set */
	const char *describe;	/* may be NULL */
	double score;
	unsigned count;		/* matches counted (tflags multiple) */
};

struct scan_rules_result {
	struct scan_rules_hit *hits;	/* reported hits only (not __ rules, score != 0) */
	size_t count;
	double score;
	bool timed_out;		/* the budget ran out: the hits are those found so far */
	unsigned regex_errors;	/* matches PCRE2 aborted (match limit, JIT stack) */
};

/* Score set index (SpamAssassin): bit 0 = network tests on, bit 1 = Bayes on. */
#define SCAN_RULES_SET_NET 1u
#define SCAN_RULES_SET_BAYES 2u

/* Run the rules on msg (parsed from its raw bytes). envelope_from is the
 * MAIL FROM address (may be NULL) for EnvelopeFrom rules. budget_ms bounds
 * the time (0 = none). The result must be freed with
 * scan_rules_result_free; the hit names live as long as rules. */
void scan_rules_run(const struct scan_rules *rules, const struct mime_message *msg,
		    const char *envelope_from, unsigned score_set, uint64_t budget_ms,
		    struct scan_rules_result *res);
void scan_rules_result_free(struct scan_rules_result *res);

/* The URLs of msg's text parts (as uri rules see them), each appended
 * NUL-terminated to out, at most max of them. Returns the count. */
size_t scan_rules_message_uris(const struct mime_message *msg, size_t max, struct buf *out);

#endif
