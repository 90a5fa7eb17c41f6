/* Sieve interpreter tests: a corpus of cases under tests/unit/data/sieve/
 * (NAME.sieve, NAME.eml or default.eml, optional NAME.env, NAME.out with the
 * expected result as render_result() prints it), plus the cache, the
 * limits and multi-script runs. SIEVE_REGEN=1 rewrites the .out files
 * (then review them by hand). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <pthread.h>
#include <cmocka.h>

#include "sieve.h"
#include "sieve-exec.h"
#include "util.h"

#define DATA TEST_DATADIR "/sieve"

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	if (!b.data)
		buf_append_str(&b, "");
	if (len_r)
		*len_r = b.len;
	return b.data;
}

/* The test environment of one case (NAME.env, "key=value" lines). */
struct tenv {
	char from[256], to[256], orig_to[256], auth[256];
	char *addresses[8];
	char mailboxes[1024];	/* " A B C " */
	char *meta_keys[8], *meta_vals[8];
	size_t nmeta;
	char specialuse[256];	/* "\\Junk=Spam \\Sent=Sent" */
	struct sieve_scan_verdict scan;
	bool scanned;
	long long now;
	int zone;
	int answered;		/* vacation_answered returns this */
	int dup_seen;		/* duplicate_check returns this */
	char remote_ip[64];
	unsigned max_redirects, max_actions, max_cpu, max_include_depth;
};

static void trim_nl(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static void load_env(const char *path, struct tenv *e)
{
	memset(e, 0, sizeof(*e));
	strcpy(e->from, "sender@example.org");
	strcpy(e->to, "ann@example.com");
	strcpy(e->mailboxes, " INBOX ");
	e->now = 1700000000;	/* 2023-11-14 22:13:20 UTC */
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	char line[1024];
	size_t na = 0;
	while (fgets(line, sizeof(line), f)) {
		trim_nl(line);
		char *eq = strchr(line, '=');
		if (!eq || line[0] == '#')
			continue;
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		if (!strcmp(k, "from")) snprintf(e->from, sizeof(e->from), "%s", v);
		else if (!strcmp(k, "to")) snprintf(e->to, sizeof(e->to), "%s", v);
		else if (!strcmp(k, "orig_to")) snprintf(e->orig_to, sizeof(e->orig_to), "%s", v);
		else if (!strcmp(k, "auth")) snprintf(e->auth, sizeof(e->auth), "%s", v);
		else if (!strcmp(k, "address") && na < 7) e->addresses[na++] = xstrdup(v);
		else if (!strcmp(k, "mailbox")) {
			strncat(e->mailboxes, v, sizeof(e->mailboxes) - strlen(e->mailboxes) - 2);
			strcat(e->mailboxes, " ");
		} else if (!strncmp(k, "meta:", 5) && e->nmeta < 8) {
			e->meta_keys[e->nmeta] = xstrdup(k + 5);
			e->meta_vals[e->nmeta++] = xstrdup(v);
		} else if (!strcmp(k, "specialuse")) snprintf(e->specialuse, sizeof(e->specialuse), "%s", v);
		else if (!strcmp(k, "spam")) {
			e->scan.spam_scanned = true;
			sscanf(v, "%lf/%lf", &e->scan.spam_score, &e->scan.spam_max);
			e->scanned = true;
		} else if (!strcmp(k, "virus")) {
			e->scan.virus_scanned = true;
			e->scan.virus_level = atoi(v);
			e->scanned = true;
		} else if (!strcmp(k, "now")) e->now = atoll(v);
		else if (!strcmp(k, "zone")) e->zone = atoi(v);
		else if (!strcmp(k, "answered")) e->answered = atoi(v);
		else if (!strcmp(k, "duplicate")) e->dup_seen = atoi(v);
		else if (!strcmp(k, "remote_ip")) snprintf(e->remote_ip, sizeof(e->remote_ip), "%s", v);
		else if (!strcmp(k, "max_redirects")) e->max_redirects = (unsigned)atoi(v);
		else if (!strcmp(k, "max_actions")) e->max_actions = (unsigned)atoi(v);
		else if (!strcmp(k, "max_cpu")) e->max_cpu = (unsigned)atoi(v);
		else if (!strcmp(k, "max_include_depth")) e->max_include_depth = (unsigned)atoi(v);
	}
	fclose(f);
}

static void free_env(struct tenv *e)
{
	for (size_t i = 0; i < 8; i++)
		free(e->addresses[i]);
	for (size_t i = 0; i < e->nmeta; i++) {
		free(e->meta_keys[i]);
		free(e->meta_vals[i]);
	}
}

static bool cb_mailbox_exists(void *ctx, const char *mb)
{
	struct tenv *e = ctx;
	char key[300];
	snprintf(key, sizeof(key), " %s ", mb);
	return strstr(e->mailboxes, key) != NULL;
}

static int cb_metadata(void *ctx, const char *mb, const char *entry, char **value_r)
{
	struct tenv *e = ctx;
	char key[300];
	snprintf(key, sizeof(key), "%s:%s", mb ? mb : "", entry);
	for (size_t i = 0; i < e->nmeta; i++)
		if (!strcmp(e->meta_keys[i], key)) {
			*value_r = xstrdup(e->meta_vals[i]);
			return 0;
		}
	return 1;
}

static char *cb_specialuse(void *ctx, const char *flag)
{
	struct tenv *e = ctx;
	char key[128];
	snprintf(key, sizeof(key), "%s=", flag);
	const char *p = strstr(e->specialuse, key);
	if (!p)
		return NULL;
	p += strlen(key);
	return xstrndup(p, strcspn(p, " "));
}

static int cb_duplicate(void *ctx, const char *id)
{
	(void)id;
	return ((struct tenv *)ctx)->dup_seen;
}

static int cb_vacation(void *ctx, const char *sender, const char *handle, uint64_t period)
{
	(void)sender; (void)handle; (void)period;
	return ((struct tenv *)ctx)->answered;
}

static time_t cb_now(void *ctx)
{
	return (time_t)((struct tenv *)ctx)->now;
}

static int cb_zone(void *ctx, time_t t)
{
	(void)t;
	return ((struct tenv *)ctx)->zone;
}

static int cb_include(void *ctx, enum sieve_include_location loc, const char *name,
		      char **source_r, size_t *len_r, const char **error_r)
{
	(void)ctx; (void)error_r;
	char path[512];
	snprintf(path, sizeof(path), DATA "/include/%s/%s.sieve",
		 loc == SIEVE_INCLUDE_GLOBAL ? "global" : "personal", name);
	*source_r = slurp(path, len_r);
	return *source_r ? 0 : 1;
}

static void render_list(struct buf *b, char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_printf(b, "%s%s", i ? " " : "", v[i]);
}

/* The result as the .out files show it. */
static char *render_result(const struct sieve_result *r)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < r->action_count; i++) {
		const struct sieve_action *a = &r->actions[i];
		switch (a->kind) {
		case SIEVE_ACT_KEEP: buf_printf(&b, "keep%s", a->implicit ? " (implicit)" : ""); break;
		case SIEVE_ACT_FILEINTO: buf_printf(&b, "fileinto \"%s\"", a->mailbox); break;
		case SIEVE_ACT_REDIRECT: buf_printf(&b, "redirect \"%s\"", a->address); break;
		case SIEVE_ACT_REJECT: buf_printf(&b, "reject \"%s\"", a->reason); break;
		case SIEVE_ACT_EREJECT: buf_printf(&b, "ereject \"%s\"", a->reason); break;
		case SIEVE_ACT_DISCARD: buf_printf(&b, "discard"); break;
		case SIEVE_ACT_VACATION: buf_printf(&b, "vacation"); break;
		}
		if (a->flags_set) {
			buf_append_str(&b, " flags=[");
			render_list(&b, a->flags, a->flag_count);
			buf_append_str(&b, "]");
		}
		if (a->copy) buf_append_str(&b, " :copy");
		if (a->create) buf_append_str(&b, " :create");
		if (a->specialuse) buf_printf(&b, " :specialuse %s", a->specialuse);
		buf_append_str(&b, "\n");
		if (a->vacation) {
			const struct sieve_vacation *v = a->vacation;
			if (v->suppressed)
				buf_printf(&b, "  suppressed: %s\n", v->why);
			buf_printf(&b, "  to: %s\n  from: %s\n  subject: %s\n  period: %llu\n", v->to, v->from,
				   v->subject, (unsigned long long)v->period);
			buf_printf(&b, "  handle: %s\n", v->handle);
			if (v->mime) buf_append_str(&b, "  mime\n");
			if (v->in_reply_to) buf_printf(&b, "  in-reply-to: %s\n", v->in_reply_to);
			if (v->references) buf_printf(&b, "  references: %s\n", v->references);
			if (v->fcc) {
				buf_printf(&b, "  fcc: %s%s%s%s flags=[", v->fcc, v->fcc_create ? " :create" : "",
					   v->fcc_specialuse ? " :specialuse " : "",
					   v->fcc_specialuse ? v->fcc_specialuse : "");
				render_list(&b, v->fcc_flags, v->fcc_flag_count);
				buf_append_str(&b, "]\n");
			}
			buf_append_str(&b, "  body: ");
			for (const char *p = v->body; *p; p++) {
				if (*p == '\r') continue;
				if (*p == '\n') buf_append_str(&b, "\\n");
				else buf_append(&b, p, 1);
			}
			buf_append_str(&b, "\n");
		}
	}
	if (r->edited_header) {
		buf_append_str(&b, "header:\n");
		for (size_t i = 0; i < r->edited_header_len; i++)
			if (r->edited_header[i] != '\r')
				buf_append(&b, r->edited_header + i, 1);
	}
	for (size_t i = 0; i < r->duplicate_count; i++)
		buf_printf(&b, "duplicate-record %.12s %llu\n", r->duplicates[i].id,
			   (unsigned long long)r->duplicates[i].period);
	for (size_t i = 0; i < r->warning_count; i++)
		buf_printf(&b, "warning: %s\n", r->warnings[i]);
	if (r->error)
		buf_printf(&b, "error: %s\n", r->error);
	if (!b.data)
		buf_append_str(&b, "");
	return b.data;
}

/* Run one case; returns the rendering (or the compile error). */
static char *run_case(const char *name)
{
	char path[512];
	size_t slen, mlen;
	snprintf(path, sizeof(path), DATA "/%s.sieve", name);
	char *src = slurp(path, &slen);
	assert_non_null(src);
	snprintf(path, sizeof(path), DATA "/%s.eml", name);
	char *msg = slurp(path, &mlen);
	if (!msg)
		msg = slurp(DATA "/default.eml", &mlen);
	assert_non_null(msg);
	struct tenv e;
	snprintf(path, sizeof(path), DATA "/%s.env", name);
	load_env(path, &e);

	struct sieve_limits lim;
	sieve_limits_default(&lim);
	if (e.max_redirects) lim.max_redirects = e.max_redirects;
	if (e.max_actions) lim.max_actions = e.max_actions;
	if (e.max_cpu) lim.max_cpu_steps = e.max_cpu;
	if (e.max_include_depth) lim.max_include_depth = e.max_include_depth;
	struct sieve_compile_params p = { .limits = &lim, .name = name, .regex_check = sieve_regex_check };
	struct sieve_script *s = NULL;
	char *err = NULL, *out;
	if (sieve_compile(src, slen, &p, &s, &err) < 0) {
		out = xasprintf("compile error: %s\n", err);
		free(err);
	} else {
		struct sieve_exec_callbacks cb = {
			.ctx = &e, .mailbox_exists = cb_mailbox_exists, .metadata = cb_metadata,
			.specialuse_mailbox = cb_specialuse, .duplicate_check = cb_duplicate,
			.vacation_answered = cb_vacation, .now = cb_now, .zone_offset = cb_zone,
			.include = cb_include,
		};
		struct sieve_exec_input in = {
			.message = msg, .message_size = mlen,
			.envelope = { .from = e.from, .to = e.to, .orig_to = e.orig_to[0] ? e.orig_to : NULL,
				      .auth_user = e.auth[0] ? e.auth : NULL },
			.recipient = { .account = "ann", .addresses = (const char *const *)e.addresses },
			.environment = { .domain = "example.com", .host = "mx1.example.com",
					 .remote_ip = e.remote_ip[0] ? e.remote_ip : NULL, .version = "0.1.0" },
			.scan = e.scanned ? &e.scan : NULL,
			.limits = &lim,
			.cb = &cb,
		};
		struct sieve_result *r = NULL;
		sieve_execute(s, &in, &r);
		out = render_result(r);
		sieve_result_free(&r);
		sieve_script_unref(&s);
	}
	free_env(&e);
	free(src);
	free(msg);
	return out;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_corpus(void **state)
{
	(void)state;
	DIR *d = opendir(DATA);
	assert_non_null(d);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 6 && !strcmp(de->d_name + l - 6, ".sieve")) {
			names = xrealloc(names, (n + 1) * sizeof(char *));
			names[n++] = xstrndup(de->d_name, l - 6);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(char *), cmpstr);
	assert_true(n >= 60);
	bool regen = getenv("SIEVE_REGEN") != NULL;
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		char *got = run_case(names[i]);
		char path[512];
		snprintf(path, sizeof(path), DATA "/%s.out", names[i]);
		if (regen) {
			FILE *f = fopen(path, "w");
			assert_non_null(f);
			fputs(got, f);
			fclose(f);
		} else {
			char *want = slurp(path, NULL);
			if (!want || strcmp(want, got) != 0) {
				fprintf(stderr, "case %s:\n--- want\n%s--- got\n%s", names[i], want ? want : "(no .out)\n",
					got);
				failed++;
			}
			free(want);
		}
		free(got);
		free(names[i]);
	}
	free(names);
	assert_int_equal(failed, 0);
}

static const char default_msg[] =
	"From: Bob <bob@example.org>\r\nTo: ann@example.com\r\nSubject: hello\r\n"
	"Message-ID: <1@example.org>\r\n\r\nbody\r\n";

static void run_src(const char *src, struct sieve_result **r, const struct sieve_limits *lim)
{
	struct sieve_script *s;
	char *err = NULL;
	struct sieve_compile_params p = { .limits = lim };
	if (sieve_compile(src, strlen(src), &p, &s, &err) < 0)
		fail_msg("compile: %s", err);
	struct sieve_exec_input in = {
		.message = default_msg, .message_size = strlen(default_msg),
		.envelope = { .from = "bob@example.org", .to = "ann@example.com" },
		.limits = lim,
	};
	sieve_execute(s, &in, r);
	sieve_script_unref(&s);
}

static void test_cpu_limit(void **state)
{
	(void)state;
	struct sieve_limits lim;
	sieve_limits_default(&lim);
	lim.max_cpu_steps = 500;
	struct sieve_result *r;
	/* a :matches with many stars on a long header is bounded */
	run_src("require \"fileinto\";\n"
		"if header :matches \"subject\" \"*a*a*a*a*a*a*a*a*a*b\" { fileinto \"x\"; }\n", &r, &lim);
	/* the short subject matches fast or not: either way within the limit */
	assert_int_equal(r->actions[0].kind, SIEVE_ACT_KEEP);
	sieve_result_free(&r);
	/* 400 tests exceed 500 steps with their commands */
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "require \"fileinto\";\n");
	for (int i = 0; i < 400; i++)
		buf_append_str(&b, "if anyof(false, false) { stop; }\n");
	buf_append_str(&b, "fileinto \"never\";\n");
	run_src(b.data, &r, &lim);
	assert_non_null(r->error);
	assert_non_null(strstr(r->error, "CPU limit"));
	assert_int_equal(r->action_count, 1);
	assert_true(r->actions[0].implicit);
	sieve_result_free(&r);
	buf_free(&b);
}

/* A 4 MB message with a body test and many header tests stays within the
 * default limits (the limits bound abuse, not ordinary mail). */
static void test_big_message(void **state)
{
	(void)state;
	struct buf m;
	buf_init(&m, 0);
	buf_append_str(&m, "From: a@example.org\r\nTo: ann@example.com\r\nSubject: big\r\n\r\n");
	for (int i = 0; i < 4 * 1024 * 16; i++)
		buf_append_str(&m, "lorem ipsum dolor sit amet, consectetur adipiscing elit sed do eiu\r\n");
	buf_append_str(&m, "the needle\r\n");
	const char *src = "require [\"body\", \"fileinto\"];\n"
			  "if body :contains \"needle\" { fileinto \"found\"; }\n"
			  "if body :matches \"*needle*\" { fileinto \"glob\"; }\n";
	struct sieve_script *s;
	char *err;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &err), 0);
	struct sieve_exec_input in = { .message = m.data, .message_size = m.len,
				       .envelope = { .from = "a@example.org", .to = "ann@example.com" } };
	struct sieve_result *r;
	assert_int_equal(sieve_execute(s, &in, &r), 0);
	assert_int_equal(r->action_count, 2);
	assert_string_equal(r->actions[0].mailbox, "found");
	assert_string_equal(r->actions[1].mailbox, "glob");
	fprintf(stderr, "4 MB message: %u steps\n", r->cpu_steps);
	assert_true(r->cpu_steps < 1000000);
	sieve_result_free(&r);
	sieve_script_unref(&s);
	buf_free(&m);
}

static void test_multi(void **state)
{
	(void)state;
	struct sieve_script *s[3];
	char *err;
	const char *src[3] = {
		"require [\"imap4flags\"]; addflag \"\\\\Flagged\";",
		"require \"fileinto\"; if header :contains \"subject\" \"hello\" { fileinto \"Hello\"; }",
		"discard;",
	};
	for (int i = 0; i < 3; i++)
		assert_int_equal(sieve_compile(src[i], strlen(src[i]), NULL, &s[i], &err), 0);
	struct sieve_exec_input in = {
		.message = default_msg, .message_size = strlen(default_msg),
		.envelope = { .from = "bob@example.org", .to = "ann@example.com" },
	};
	struct sieve_result *r;
	/* the user's fileinto cancels the implicit keep: the after script does not run */
	assert_int_equal(sieve_execute_multi((const struct sieve_script *const *)s, 3, &in, &r), 0);
	assert_int_equal(r->action_count, 1);
	assert_int_equal(r->actions[0].kind, SIEVE_ACT_FILEINTO);
	assert_string_equal(r->actions[0].mailbox, "Hello");
	sieve_result_free(&r);
	for (int i = 0; i < 3; i++)
		sieve_script_unref(&s[i]);
}

static void test_cache(void **state)
{
	(void)state;
	struct sieve_cache *c = sieve_cache_new(2, NULL);
	struct sieve_script *a, *b, *a2;
	char *err;
	assert_int_equal(sieve_cache_get(c, "a", "keep;", 5, &a, &err), 0);
	assert_int_equal(sieve_cache_get(c, "a", "keep;", 5, &a2, &err), 0);
	assert_ptr_equal(a, a2);
	assert_int_equal(sieve_cache_get(c, "b", "discard;", 8, &b, &err), 0);
	assert_ptr_not_equal(a, b);
	/* the same name with another source is another entry */
	struct sieve_script *a3;
	assert_int_equal(sieve_cache_get(c, "a", "stop;", 5, &a3, &err), 0);
	assert_ptr_not_equal(a, a3);
	size_t n;
	uint64_t hits, misses;
	sieve_cache_stats(c, &n, &hits, &misses);
	assert_int_equal(n, 2);	/* bounded: "a"/"keep;" was evicted */
	assert_int_equal(hits, 1);
	assert_int_equal(misses, 3);
	assert_int_equal(sieve_cache_get(c, "bad", "keep", 4, &b, &err), -1);
	assert_non_null(strstr(err, "line 1"));
	free(err);
	/* evicted scripts stay valid while referenced */
	sieve_script_unref(&a);
	sieve_script_unref(&a2);
	sieve_script_unref(&a3);
	assert_int_equal(sieve_cache_get(c, "b", "discard;", 8, &a, &err), 0);
	sieve_script_unref(&a);
	sieve_script_unref(&b);
	sieve_cache_free(&c);
	assert_null(c);
}

static void *cache_worker(void *arg)
{
	struct sieve_cache *c = arg;
	for (int i = 0; i < 200; i++) {
		char src[64], name[16];
		snprintf(name, sizeof(name), "s%d", i % 7);
		snprintf(src, sizeof(src), "if size :over %dK { discard; }", i % 7);
		struct sieve_script *s;
		char *err;
		if (sieve_cache_get(c, name, src, strlen(src), &s, &err) != 0)
			return (void *)1;
		if (strcmp(sieve_script_name(s), name) != 0)
			return (void *)1;
		sieve_script_unref(&s);
	}
	return NULL;
}

/* Several threads share one small cache (entries evicted while others
 * hold them); under ASan this catches use-after-free and double frees. */
static void test_cache_threads(void **state)
{
	(void)state;
	struct sieve_cache *c = sieve_cache_new(3, NULL);
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, cache_worker, c), 0);
	for (int i = 0; i < 4; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		assert_null(rv);
	}
	size_t n;
	uint64_t hits, misses;
	sieve_cache_stats(c, &n, &hits, &misses);
	assert_true(n <= 3);
	assert_int_equal(hits + misses, 800);
	sieve_cache_free(&c);
}

static void test_regex_bomb(void **state)
{
	(void)state;
	const char *err = NULL;
	assert_int_equal(sieve_regex_check(NULL, "(a+)+$", false, &err), 0);
	assert_int_equal(sieve_regex_check(NULL, "(unclosed", false, &err), -1);
	assert_non_null(err);
	static const char bomb_msg[] =
		"From: x@example.org\r\nSubject: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab!\r\n\r\n";
	const char *src = "require [\"regex\", \"fileinto\"];\n"
			  "if header :regex \"subject\" \"^(a|aa)+$\" { fileinto \"x\"; }\n";
	struct sieve_script *s;
	char *cerr;
	assert_int_equal(sieve_compile(src, strlen(src), NULL, &s, &cerr), 0);
	struct sieve_exec_input in = { .message = bomb_msg, .message_size = strlen(bomb_msg),
				       .envelope = { .from = "x@example.org", .to = "ann@example.com" } };
	struct sieve_result *r;
	sieve_execute(s, &in, &r);
	assert_non_null(r->error);
	assert_non_null(strstr(r->error, "match limit"));
	assert_true(r->actions[0].implicit);
	sieve_result_free(&r);
	sieve_script_unref(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus),
		cmocka_unit_test(test_cpu_limit),
		cmocka_unit_test(test_big_message),
		cmocka_unit_test(test_multi),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_threads),
		cmocka_unit_test(test_regex_bomb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
