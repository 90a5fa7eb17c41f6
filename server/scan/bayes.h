/* The Bayes classifier's pure parts: the tokenizer (decoded text parts,
 * URLs' hosts and selected header fields of a parsed message) and the
 * statistics of SpamAssassin and bogofilter: Robinson's f(w) per token and
 * Fisher's chi-square combining of the most significant tokens. */
#ifndef CAIRN_SCAN_BAYES_H
#define CAIRN_SCAN_BAYES_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct mime_message;

/* Tokens kept per message (the first ones, in message order). */
#define BAYES_MAX_TOKENS 3000
/* Tokens used in combining: the most significant ones (SpamAssassin: 150). */
#define BAYES_MAX_SIGNIFICANT 150
/* Robinson's constants as SpamAssassin's Bayes.pm uses them with chi-square. */
#define BAYES_ROBINSON_S 0.160
#define BAYES_ROBINSON_X 0.538
#define BAYES_MIN_PROB_STRENGTH 0.346

/* The unique token hashes of msg, malloc'ed into *tokens_r. Returns the count. */
size_t bayes_tokenize(const struct mime_message *msg, int64_t **tokens_r);
/* Append each token's text (one per line) instead of its hash: for tests
 * and debugging. */
void bayes_tokenize_text(const struct mime_message *msg, struct buf *out);
/* The hash of one token text. */
int64_t bayes_token_hash(const char *s, size_t len);
/* The identity of a message for "already trained": a hash of its bytes. */
uint64_t bayes_msg_key(const char *raw, size_t size);

/* Robinson's f(w) for a token seen in tspam spam and tham ham messages of a
 * database trained with nspam and nham messages (both > 0). */
double bayes_token_prob(uint32_t tspam, uint32_t tham, uint32_t nspam, uint32_t nham);
/* Fisher/Robinson chi-square combining: the probability that the message is
 * spam from the f(w) of its tokens (those within min_strength of 0.5 and
 * past the BAYES_MAX_SIGNIFICANT strongest are left out; probs is
 * reordered). 0.5 when no token is significant. */
double bayes_combine(double *probs, size_t n);
/* chi2Q(x2, v): the probability that chi-square with v (even) degrees of
 * freedom exceeds x2. */
double bayes_chi2q(double x2, unsigned v);
/* The SpamAssassin test for a probability (BAYES_00 ... BAYES_99,
 * BAYES_999) and its score (SpamAssassin's score set 2/3 defaults). */
const char *bayes_test_name(double p, double *score_r);

#endif
