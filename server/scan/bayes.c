/* Bayes tokenizer and statistics (see bayes.h). The tokenizer follows
 * SpamAssassin's Bayes.pm in spirit: words of the decoded text (lower-case,
 * 3 to 15 bytes; longer words give a "sk:" token of their start), the
 * hosts of URLs ("U:"), and words of selected header fields prefixed with
 * the field ("H*s:" for Subject, ...); each token counts once per message. */
#include "autoconf.h"
#include "bayes.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "mime-text.h"
#include "sa_rules_uri.h"

#define BAYES_TEXT_MAX (256 * 1024)

int64_t bayes_token_hash(const char *s, size_t len)
{
	/* FNV-1a 64: a well-distributed hash; collisions between two of a
	 * database's tokens are negligible at 2^64 */
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return (int64_t)h;
}

uint64_t bayes_msg_key(const char *raw, size_t size)
{
	return (uint64_t)bayes_token_hash(raw, size);
}

struct tokset {
	int64_t *v;
	size_t n, cap;
	size_t *slots;		/* open addressing: index + 1 */
	size_t slot_cap;
	struct buf *text;	/* when not NULL, tokens' text too */
};

static void tok_add(struct tokset *t, const char *s, size_t len)
{
	if (t->n >= BAYES_MAX_TOKENS || len == 0)
		return;
	int64_t h = bayes_token_hash(s, len);
	size_t mask = t->slot_cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		if (t->slots[i] == 0) {
			t->slots[i] = t->n + 1;
			break;
		}
		if (t->v[t->slots[i] - 1] == h)
			return;
	}
	t->v[t->n++] = h;
	if (t->text != NULL) {
		buf_append(t->text, s, len);
		buf_append(t->text, "\n", 1);
	}
}

static bool word_byte(unsigned char c)
{
	return isalnum(c) || c >= 0x80 || c == '\'' || c == '$' || c == '-' || c == '_';
}

/* Words of s with prefix (may be ""). */
static void tok_words(struct tokset *t, const char *prefix, const char *s, size_t len)
{
	char tmp[64];
	size_t pl = strlen(prefix);
	size_t i = 0;
	while (i < len && t->n < BAYES_MAX_TOKENS) {
		while (i < len && !word_byte((unsigned char)s[i]))
			i++;
		size_t st = i;
		while (i < len && word_byte((unsigned char)s[i]))
			i++;
		size_t wl = i - st;
		/* trim quote and dash at the ends ("'hello'", "--") */
		while (wl > 0 && (s[st] == '\'' || s[st] == '-'))
			st++, wl--;
		while (wl > 0 && (s[st + wl - 1] == '\'' || s[st + wl - 1] == '-'))
			wl--;
		if (wl < 3)
			continue;
		memcpy(tmp, prefix, pl);
		size_t o = pl;
		if (wl > 15) {
			/* SpamAssassin: long words count by their start and length class */
			memcpy(tmp + o, "sk:", 3);
			o += 3;
			for (size_t k = 0; k < 7; k++)
				tmp[o++] = (char)tolower((unsigned char)s[st + k]);
			tmp[o++] = ':';
			tmp[o++] = (char)('0' + (wl / 10 > 9 ? 9 : wl / 10));
		} else {
			for (size_t k = 0; k < wl; k++)
				tmp[o++] = (char)tolower((unsigned char)s[st + k]);
		}
		tok_add(t, tmp, o);
	}
}

static bool uri_tok(void *ctx, const char *uri, size_t len)
{
	struct tokset *t = ctx;
	char host[256];
	if (sa_uri_host(uri, len, host, sizeof(host)) < 0)
		return true;
	char tmp[300];
	size_t hl = strlen(host);
	memcpy(tmp, "U:", 2);
	memcpy(tmp + 2, host, hl);
	tok_add(t, tmp, hl + 2);
	/* and each parent domain: "U:example.com" for "www.example.com" */
	for (size_t i = 0; i < hl; i++)
		if (host[i] == '.' && memchr(host + i + 1, '.', hl - i - 1) != NULL) {
			memcpy(tmp + 2, host + i + 1, hl - i - 1);
			tok_add(t, tmp, hl - i - 1 + 2);
		}
	return t->n < BAYES_MAX_TOKENS;
}

/* Header fields that tell spam from ham, with their token prefix. */
static const struct { const char *name, *prefix; } bayes_headers[] = {
	{ "Subject", "H*s:" }, { "From", "H*F:" }, { "Reply-To", "H*R:" }, { "To", "H*T:" },
	{ "Content-Type", "H*c:" }, { "X-Mailer", "H*x:" }, { "User-Agent", "H*u:" },
	{ "List-Id", "H*l:" }, { "Message-Id", "H*M:" },
};

static void tokenize(const struct mime_message *msg, struct tokset *t)
{
	t->cap = BAYES_MAX_TOKENS;
	t->v = xmalloc(t->cap * sizeof(*t->v));
	t->slot_cap = 8192;
	t->slots = xcalloc(t->slot_cap, sizeof(*t->slots));
	struct buf v;
	buf_init(&v, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bayes_headers); i++) {
		buf_reset(&v);
		if (mime_header_decoded(msg, &msg->root, bayes_headers[i].name, &v) == 0)
			tok_words(t, bayes_headers[i].prefix, v.data ? v.data : "", v.len);
	}
	buf_free(&v);
	struct mime_text mt;
	mime_text_init(&mt);
	mime_text_extract(msg, BAYES_TEXT_MAX, &mt);
	const char *body = mt.body.data ? mt.body.data : "";
	tok_words(t, "", body, mt.body.len);
	sa_uri_extract(body, mt.body.len, false, uri_tok, t);
	mime_text_free(&mt);
}

size_t bayes_tokenize(const struct mime_message *msg, int64_t **tokens_r)
{
	struct tokset t;
	memset(&t, 0, sizeof(t));
	tokenize(msg, &t);
	free(t.slots);
	*tokens_r = t.v;
	return t.n;
}

void bayes_tokenize_text(const struct mime_message *msg, struct buf *out)
{
	struct tokset t;
	memset(&t, 0, sizeof(t));
	t.text = out;
	tokenize(msg, &t);
	free(t.slots);
	free(t.v);
}

double bayes_token_prob(uint32_t tspam, uint32_t tham, uint32_t nspam, uint32_t nham)
{
	double rs = nspam ? (double)tspam / nspam : 0.0;
	double rh = nham ? (double)tham / nham : 0.0;
	double n = (double)tspam + (double)tham;
	if (rs + rh == 0.0)
		return BAYES_ROBINSON_X;
	double p = rs / (rs + rh);
	return (BAYES_ROBINSON_S * BAYES_ROBINSON_X + n * p) / (BAYES_ROBINSON_S + n);
}

double bayes_chi2q(double x2, unsigned v)
{
	double m = x2 / 2.0;
	double sum, term;
	sum = term = exp(-m);
	for (unsigned i = 1; i < v / 2; i++) {
		term *= m / i;
		sum += term;
	}
	return sum < 1.0 ? sum : 1.0;
}

static int strength_cmp(const void *a, const void *b)
{
	double sa = fabs(*(const double *)a - 0.5), sb = fabs(*(const double *)b - 0.5);
	return sa < sb ? 1 : sa > sb ? -1 : 0;
}

double bayes_combine(double *probs, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (fabs(probs[i] - 0.5) >= BAYES_MIN_PROB_STRENGTH)
			probs[k++] = probs[i];
	if (k == 0)
		return 0.5;
	qsort(probs, k, sizeof(double), strength_cmp);
	if (k > BAYES_MAX_SIGNIFICANT)
		k = BAYES_MAX_SIGNIFICANT;
	double ls = 0.0, lh = 0.0;
	for (size_t i = 0; i < k; i++) {
		double p = probs[i];
		if (p < 1e-10) p = 1e-10;
		if (p > 1 - 1e-10) p = 1 - 1e-10;
		ls += log(1.0 - p);
		lh += log(p);
	}
	double s = 1.0 - bayes_chi2q(-2.0 * ls, 2 * (unsigned)k);
	double h = 1.0 - bayes_chi2q(-2.0 * lh, 2 * (unsigned)k);
	return (1.0 + s - h) / 2.0;
}

const char *bayes_test_name(double p, double *score_r)
{
	static const struct { double upto; const char *name; double score; } table[] = {
		{ 0.01, "BAYES_00", -1.9 }, { 0.05, "BAYES_05", -0.5 }, { 0.20, "BAYES_20", -0.001 },
		{ 0.40, "BAYES_40", -0.001 }, { 0.60, "BAYES_50", 0.8 }, { 0.80, "BAYES_60", 1.5 },
		{ 0.95, "BAYES_80", 2.0 }, { 0.99, "BAYES_95", 3.0 }, { 0.999, "BAYES_99", 3.5 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (p < table[i].upto) {
			*score_r = table[i].score;
			return table[i].name;
		}
	/* BAYES_999 is BAYES_99 plus 0.2 in SpamAssassin: one test here */
	*score_r = 3.7;
	return "BAYES_999";
}
