/* The built-in content checks on a corpus, without SMTP or the store: each
 * message of an mbox is parsed (proto/mime), run through a rule set
 * (server/scan/rules.c) and tokenized for Bayes (server/scan/bayes.c), on
 * N threads, as the worker pool would. Prints messages per second and the
 * spam/ham split at a threshold. Built on demand:
 *   make tests/bench/scan-rules-bench
 *   tests/bench/scan-rules-bench [-t THREADS] [-s THRESHOLD] MBOX RULEDIR... */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bayes.h"
#include "mbox.h"
#include "mime.h"
#include "rules.h"

struct msg { char *data; size_t len; };

static struct msg *msgs;
static size_t nmsgs, next;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct scan_rules *rules;
static double threshold = 5.0;
static size_t nspam;

static void *worker(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&lock);
		size_t i = next++;
		pthread_mutex_unlock(&lock);
		if (i >= nmsgs)
			return NULL;
		struct mime_message *m = mime_parse(msgs[i].data, msgs[i].len, NULL);
		struct scan_rules_result res;
		scan_rules_run(rules, m, "sender@example.org", 0, 0, &res);
		int64_t *tokens;
		(void)bayes_tokenize(m, &tokens);
		free(tokens);
		if (res.score >= threshold) {
			pthread_mutex_lock(&lock);
			nspam++;
			pthread_mutex_unlock(&lock);
		}
		scan_rules_result_free(&res);
		mime_free(&m);
	}
}

int main(int argc, char **argv)
{
	int threads = 1, opt;
	while ((opt = getopt(argc, argv, "t:s:")) != -1) {
		if (opt == 't')
			threads = atoi(optarg);
		else if (opt == 's')
			threshold = atof(optarg);
		else
			return 2;
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: %s [-t THREADS] [-s THRESHOLD] MBOX RULEDIR...\n", argv[0]);
		return 2;
	}
	FILE *f = fopen(argv[optind], "rb");
	if (f == NULL) {
		perror(argv[optind]);
		return 1;
	}
	struct buf data;
	buf_init(&data, 0);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&data, chunk, n);
	fclose(f);
	size_t pos = 0;
	struct mbox_msg mm;
	while (mbox_next(data.data, data.len, &pos, &mm) == 1) {
		struct buf b;
		buf_init(&b, 0);
		mbox_unquote(mm.body, mm.body_len, &b);
		msgs = realloc(msgs, (nmsgs + 1) * sizeof(*msgs));
		msgs[nmsgs].data = b.data;
		msgs[nmsgs].len = b.len;
		nmsgs++;
	}
	char err[1024];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rules = scan_rules_load((const char *const *)argv + optind + 1, (size_t)(argc - optind - 1),
				err, sizeof(err));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rules == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	double load = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	pthread_t *tid = calloc((size_t)threads, sizeof(*tid));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < threads; i++)
		pthread_create(&tid[i], NULL, worker, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("messages=%zu rules=%zu skipped=%zu load_s=%.3f seconds=%.3f msgs_per_s=%.1f spam=%zu\n",
	       nmsgs, scan_rules_count(rules), scan_rules_skipped(rules), load, secs,
	       (double)nmsgs / secs, nspam);
	scan_rules_unref(&rules);
	for (size_t i = 0; i < nmsgs; i++)
		free(msgs[i].data);
	free(msgs);
	free(tid);
	buf_free(&data);
	return 0;
}
