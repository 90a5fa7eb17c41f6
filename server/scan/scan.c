/* The scan stage's core: the module registry, the run of the modules over
 * one message with their budgets and failure modes, and the result
 * helpers. The policy that turns a result into a verdict is scan-stage.c. */
#include "autoconf.h"
#include "scan.h"
#include "scan-private.h"
#include "scan-auth.h"
#include "config.h"
#include "dns.h"
#include "dns_packet.h"
#include "log.h"
#include "mime.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SCAN_MAX_MODULES 32

struct scan_slot {
	const struct scan_module *module;
	void *state;
	struct scan_module_settings settings;
	bool initialised;
};

static struct scan_slot slots[SCAN_MAX_MODULES];
static size_t nslots;
/* Runs hold it shared; reload and stop exclusively. */
static pthread_rwlock_t slots_lock = PTHREAD_RWLOCK_INITIALIZER;

/* The per-thread resolver of scan_msg_dns. */
static pthread_key_t dns_key;
static pthread_once_t dns_once = PTHREAD_ONCE_INIT;
static char dns_server[256];
static uint64_t dns_timeout_ms = 3000;

uint64_t scan_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t scan_remaining_ms(uint64_t deadline_ms)
{
	uint64_t now = scan_now_ms();
	return deadline_ms > now ? deadline_ms - now : 0;
}

const char *scan_action_name(enum scan_action action)
{
	switch (action) {
	case SCAN_ACTION_ACCEPT: return "accept";
	case SCAN_ACTION_TAG: return "tag";
	case SCAN_ACTION_JUNK: return "junk";
	case SCAN_ACTION_QUARANTINE: return "quarantine";
	case SCAN_ACTION_TEMPFAIL: return "tempfail";
	case SCAN_ACTION_REJECT: return "reject";
	}
	return "unknown";
}

const char *scan_mod_status_name(enum scan_mod_status status)
{
	switch (status) {
	case SCAN_MOD_OK: return "ok";
	case SCAN_MOD_SKIP: return "skip";
	case SCAN_MOD_ERROR: return "error";
	case SCAN_MOD_TIMEOUT: return "timeout";
	}
	return "unknown";
}

/* ---- the message context ---- */

const struct mime_message *scan_msg_mime(struct scan_msg *msg)
{
	if (msg->mime_ == NULL) {
		struct mime_limits limits = { .max_depth = 32, .max_parts = SCAN_MIME_MAX_PARTS };
		msg->mime_ = mime_parse(msg->raw, msg->size, &limits);
	}
	return msg->mime_;
}

static void dns_destroy(void *p)
{
	dns_resolver_free(p);
}

static void dns_key_init(void)
{
	if (pthread_key_create(&dns_key, dns_destroy) != 0)
		fatal("scan: pthread_key_create failed");
}

struct dns_resolver *scan_msg_dns(struct scan_msg *msg, uint64_t deadline_ms,
				  const char **error_r)
{
	static __thread char error[256];
	pthread_once(&dns_once, dns_key_init);
	struct dns_resolver *r = pthread_getspecific(dns_key);
	if (r == NULL) {
		r = dns_resolver_new(dns_server, dns_timeout_ms, error, sizeof(error));
		if (r == NULL) {
			*error_r = error;
			return NULL;
		}
		pthread_setspecific(dns_key, r);
	}
	uint64_t left = scan_remaining_ms(deadline_ms < msg->deadline_ms ? deadline_ms :
					  msg->deadline_ms);
	dns_resolver_set_timeout(r, left < dns_timeout_ms ? (left > 0 ? left : 1) : dns_timeout_ms);
	msg->dns_ = r;
	return r;
}

const char *scan_msg_rdns(struct scan_msg *msg, uint64_t deadline_ms)
{
	if (msg->rdns != NULL || msg->rdns_done_)
		return msg->rdns;
	msg->rdns_done_ = true;
	unsigned char ip[16];
	bool v6 = false;
	if (inet_pton(AF_INET, msg->client_ip, ip) != 1) {
		if (inet_pton(AF_INET6, msg->client_ip, ip) != 1)
			return NULL;
		v6 = true;
	}
	char rev[80];
	if (v6) {
		static const char hex[] = "0123456789abcdef";
		size_t n = 0;
		for (int i = 15; i >= 0; i--) {
			rev[n++] = hex[ip[i] & 15];
			rev[n++] = '.';
			rev[n++] = hex[ip[i] >> 4];
			rev[n++] = '.';
		}
		snprintf(rev + n, sizeof(rev) - n, "ip6.arpa");
	} else {
		snprintf(rev, sizeof(rev), "%u.%u.%u.%u.in-addr.arpa", ip[3], ip[2], ip[1], ip[0]);
	}
	const char *err;
	struct dns_resolver *r = scan_msg_dns(msg, deadline_ms, &err);
	if (r == NULL)
		return NULL;
	struct dns_record *ptr = xcalloc(10, sizeof(*ptr));
	size_t n = 0;
	char error[256];
	if (dns_lookup(r, rev, DNS_TYPE_PTR, ptr, 10, &n, error, sizeof(error)) == DNS_OK) {
		for (size_t i = 0; i < n && msg->rdns_ == NULL; i++) {
			if (ptr[i].type != DNS_TYPE_PTR || scan_remaining_ms(deadline_ms) == 0)
				continue;
			struct dns_record addrs[16];
			size_t na = 0;
			uint16_t type = v6 ? DNS_TYPE_AAAA : DNS_TYPE_A;
			if (dns_lookup(r, ptr[i].name, type, addrs, 16, &na, error, sizeof(error)) !=
			    DNS_OK)
				continue;
			for (size_t k = 0; k < na && msg->rdns_ == NULL; k++)
				if (addrs[k].type == type && memcmp(addrs[k].addr, ip, v6 ? 16 : 4) == 0)
					msg->rdns_ = xstrdup(ptr[i].name);
			dns_records_free(addrs, na);
		}
	}
	dns_records_free(ptr, n);
	free(ptr);
	msg->rdns = msg->rdns_;
	return msg->rdns;
}

char *scan_msg_header(const struct scan_msg *msg, const char *name, size_t nth)
{
	size_t nlen = strlen(name);
	const char *p = msg->raw, *end = msg->raw + msg->header_len;
	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *field_end = eol != NULL ? eol + 1 : end;
		/* the field continues on lines starting with WSP */
		while (field_end < end && (*field_end == ' ' || *field_end == '\t')) {
			eol = memchr(field_end, '\n', (size_t)(end - field_end));
			field_end = eol != NULL ? eol + 1 : end;
		}
		if ((size_t)(field_end - p) > nlen && p[nlen] == ':' &&
		    strncasecmp(p, name, nlen) == 0) {
			if (nth == 0)
				return scan_unfold(p + nlen + 1, (size_t)(field_end - p - nlen - 1));
			nth--;
		}
		p = field_end;
	}
	return NULL;
}

char *scan_unfold(const char *v, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n')
			continue;
		out[n++] = v[i];
	}
	out[n] = '\0';
	/* trim blanks at both ends */
	size_t start = 0;
	while (start < n && (out[start] == ' ' || out[start] == '\t'))
		start++;
	while (n > start && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		n--;
	memmove(out, out + start, n - start);
	out[n - start] = '\0';
	return out;
}

struct scan_auth *scan_auth_get(struct scan_msg *msg)
{
	if (msg->priv_ == NULL)
		msg->priv_ = xcalloc(1, sizeof(struct scan_auth));
	return msg->priv_;
}

void scan_auth_free(struct scan_msg *msg)
{
	free(msg->priv_);
	msg->priv_ = NULL;
}

void scan_msg_done(struct scan_msg *msg)
{
	scan_auth_free(msg);
	mime_free(&msg->mime_);
	if (msg->rdns == msg->rdns_)
		msg->rdns = NULL;
	free(msg->rdns_);
	msg->rdns_ = NULL;
	msg->rdns_done_ = false;
	msg->dns_ = NULL;
}

/* ---- results ---- */

static void test_name_copy(char *dst, const char *name)
{
	size_t i = 0;
	for (; name[i] != '\0' && i + 1 < SCAN_TEST_NAME_MAX; i++) {
		char c = name[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
			  c == '_' || c == '.' || c == '-';
		dst[i] = ok ? c : '_';
	}
	dst[i] = '\0';
}

void scan_result_add_test(struct scan_result *r, const char *name, double score,
			  const char *detail_fmt, ...)
{
	char clean[SCAN_TEST_NAME_MAX];
	test_name_copy(clean, name);
	char *detail = NULL;
	if (detail_fmt != NULL) {
		va_list ap;
		va_start(ap, detail_fmt);
		char buf[512];
		vsnprintf(buf, sizeof(buf), detail_fmt, ap);
		va_end(ap);
		detail = xstrdup(buf);
	}
	for (size_t i = 0; i < r->ntests; i++) {
		if (strcmp(r->tests[i].name, clean) == 0) {
			r->score += score - r->tests[i].score;
			r->tests[i].score = score;
			free(r->tests[i].detail);
			r->tests[i].detail = detail;
			return;
		}
	}
	r->score += score;
	if (r->ntests >= SCAN_MAX_TESTS) {
		r->tests_dropped++;
		free(detail);
		return;
	}
	r->tests = xrealloc(r->tests, (r->ntests + 1) * sizeof(*r->tests));
	struct scan_test *t = &r->tests[r->ntests++];
	memcpy(t->name, clean, sizeof(clean));
	t->score = score;
	t->detail = detail;
	t->module = r->current_module;
}

bool scan_result_has_test(const struct scan_result *r, const char *name, double *score_r)
{
	for (size_t i = 0; i < r->ntests; i++) {
		if (strcmp(r->tests[i].name, name) == 0) {
			if (score_r != NULL)
				*score_r = r->tests[i].score;
			return true;
		}
	}
	return false;
}

void scan_result_set_virus(struct scan_result *r, const char *name)
{
	r->virus = true;
	snprintf(r->virus_name, sizeof(r->virus_name), "%s", name != NULL && *name ? name : "unknown");
	/* only printable ASCII goes to logs and replies */
	for (char *p = r->virus_name; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"')
			*p = '_';
}

void scan_result_hint(struct scan_result *r, enum scan_action action, const char *reason_fmt, ...)
{
	/* the first module asking for the most severe action keeps its reason */
	if (action < r->hint || (action == r->hint && action != SCAN_ACTION_ACCEPT))
		return;
	r->hint = action;
	r->hint_module = r->current_module;
	r->hint_reason[0] = '\0';
	if (reason_fmt != NULL) {
		va_list ap;
		va_start(ap, reason_fmt);
		vsnprintf(r->hint_reason, sizeof(r->hint_reason), reason_fmt, ap);
		va_end(ap);
	}
	for (char *p = r->hint_reason; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			*p = ' ';
}

void scan_result_add_header(struct scan_result *r, const char *name, const char *value)
{
	r->headers = xrealloc(r->headers, (r->nheaders + 1) * sizeof(*r->headers));
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
}

void scan_result_change_header(struct scan_result *r, const char *name, uint32_t index,
			       const char *value)
{
	r->edits = xrealloc(r->edits, (r->nedits + 1) * sizeof(*r->edits));
	r->edits[r->nedits].name = xstrdup(name);
	r->edits[r->nedits].index = index;
	r->edits[r->nedits].value = xstrdup(value);
	r->nedits++;
}

void scan_result_replace_body(struct scan_result *r, const char *data, size_t len)
{
	/* the body from before the running module stays for scan_run to restore */
	if (r->body != r->body_before_)
		free(r->body);
	r->body = xmalloc(len + 1);
	if (len > 0)
		memcpy(r->body, data, len);
	r->body[len] = '\0';
	r->body_len = len;
	r->body_replaced = true;
}

void scan_result_clear(struct scan_result *r)
{
	for (size_t i = 0; i < r->ntests; i++)
		free(r->tests[i].detail);
	free(r->tests);
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	for (size_t i = 0; i < r->nedits; i++) {
		free(r->edits[i].name);
		free(r->edits[i].value);
	}
	free(r->edits);
	if (r->body_before_ != r->body)
		free(r->body_before_);
	free(r->body);
	free(r->timings);
	memset(r, 0, sizeof(*r));
}

/* ---- modules ---- */

int scan_register(const struct scan_module *module)
{
	if (nslots >= SCAN_MAX_MODULES)
		return -1;
	for (size_t i = 0; i < nslots; i++)
		if (strcmp(slots[i].module->name, module->name) == 0)
			return -1;
	slots[nslots].module = module;
	slots[nslots].initialised = false;
	nslots++;
	return 0;
}

static void settings_defaults(const struct config *cfg, struct scan_module_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->enabled = true;
	s->budget_ms = cfg->scan.step_timeout_ms;
	s->failure = SCAN_FAIL_OPEN;
	s->order = SCAN_ORDER_CONTENT;
	s->on_submission = false;
}

/* Stable sort of the slots by settings.order (insertion sort: few modules). */
static void sort_slots(void)
{
	for (size_t i = 1; i < nslots; i++) {
		struct scan_slot tmp = slots[i];
		size_t j = i;
		while (j > 0 && slots[j - 1].settings.order > tmp.settings.order) {
			slots[j] = slots[j - 1];
			j--;
		}
		slots[j] = tmp;
	}
}

/* Whether name is in the comma-separated list. */
static bool in_list(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		size_t l = strcspn(p, ", ");
		if (l == n && strncmp(p, name, n) == 0)
			return true;
		p += l;
	}
	return false;
}

/* The budget of name in "a:2s,b:300ms" (0 when not listed); -1 on bad syntax. */
static int64_t budget_of(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list;
	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		size_t l = strcspn(p, ", ");
		const char *colon = memchr(p, ':', l);
		if (colon == NULL)
			return -1;
		char *end;
		double v = strtod(colon + 1, &end);
		int64_t ms;
		if (end == colon + 1 || v <= 0)
			return -1;
		if (strncmp(end, "ms", 2) == 0 && end + 2 == p + l)
			ms = (int64_t)v;
		else if (*end == 's' && end + 1 == p + l)
			ms = (int64_t)(v * 1000);
		else
			return -1;
		if ((size_t)(colon - p) == n && strncmp(p, name, n) == 0)
			return ms > 0 ? ms : 1;
		p += l;
	}
	return 0;
}

/* The [scan] budgets/fail_closed/disable overrides of one module. */
static int settings_overrides(const struct config *cfg, const char *name,
			      struct scan_module_settings *s)
{
	int64_t b = budget_of(cfg->scan.budgets, name);
	if (b < 0)
		return -1;
	if (b > 0)
		s->budget_ms = (uint64_t)b;
	if (in_list(cfg->scan.fail_closed, name))
		s->failure = SCAN_FAIL_CLOSED;
	if (in_list(cfg->scan.disable, name))
		s->enabled = false;
	return 0;
}

int scan_modules_init(const struct config *cfg, const char **error_r)
{
	static char error[512];
	snprintf(dns_server, sizeof(dns_server), "%s", cfg->queue.resolver);
	dns_timeout_ms = cfg->scan.dns_timeout_ms;
	for (size_t i = 0; i < nslots; i++) {
		struct scan_slot *s = &slots[i];
		if (s->initialised)
			continue;
		settings_defaults(cfg, &s->settings);
		const char *why = NULL;
		s->state = NULL;
		if (s->module->init != NULL &&
		    s->module->init(cfg, &s->settings, &s->state, &why) < 0) {
			snprintf(error, sizeof(error), "scan module %s: %s", s->module->name,
				 why != NULL ? why : "init failed");
			*error_r = error;
			return -1;
		}
		s->initialised = true;
		if (settings_overrides(cfg, s->module->name, &s->settings) < 0) {
			snprintf(error, sizeof(error), "[scan] budgets: not \"module:duration,...\" "
				 "with durations like 2s or 500ms");
			*error_r = error;
			return -1;
		}
	}
	sort_slots();
	return 0;
}

void scan_modules_reload(const struct config *cfg)
{
	pthread_rwlock_wrlock(&slots_lock);
	snprintf(dns_server, sizeof(dns_server), "%s", cfg->queue.resolver);
	dns_timeout_ms = cfg->scan.dns_timeout_ms;
	for (size_t i = 0; i < nslots; i++) {
		struct scan_slot *s = &slots[i];
		if (!s->initialised || s->module->reload == NULL)
			continue;
		struct scan_module_settings next = s->settings;
		const char *why = NULL;
		if (s->module->reload(s->state, cfg, &next, &why) < 0) {
			log_warn("scan event=reload-failed module=%s reason=\"%s\"", s->module->name,
				 why != NULL ? why : "?");
			continue;
		}
		if (settings_overrides(cfg, s->module->name, &next) < 0) {
			log_warn("scan event=reload-failed module=%s reason=\"bad [scan] budgets\"",
				 s->module->name);
			continue;
		}
		s->settings = next;
		log_info("scan event=reloaded module=%s enabled=%s", s->module->name,
			 next.enabled ? "yes" : "no");
	}
	sort_slots();
	pthread_rwlock_unlock(&slots_lock);
}

void scan_modules_free(void)
{
	pthread_rwlock_wrlock(&slots_lock);
	for (size_t i = 0; i < nslots; i++) {
		struct scan_slot *s = &slots[i];
		if (s->initialised && s->module->free != NULL)
			s->module->free(s->state);
		s->state = NULL;
		s->initialised = false;
	}
	nslots = 0;
	pthread_rwlock_unlock(&slots_lock);
}

size_t scan_modules_count(void)
{
	return nslots;
}

void scan_run(struct scan_msg *msg, struct scan_result *result)
{
	pthread_rwlock_rdlock(&slots_lock);
	for (size_t i = 0; i < nslots; i++) {
		struct scan_slot *s = &slots[i];
		if (!s->initialised || !s->settings.enabled || s->module->run == NULL)
			continue;
		if (msg->listener == SCAN_LISTENER_SUBMISSION && !s->settings.on_submission)
			continue;
		/* A virus decides alone: nothing after it can change the verdict. */
		if (result->virus)
			break;
		uint64_t now = scan_now_ms();
		struct scan_timing t = { .module = s->module->name, .us = 0 };
		if (now >= msg->deadline_ms) {
			t.status = SCAN_MOD_TIMEOUT;
		} else {
			uint64_t deadline = now + s->settings.budget_ms;
			if (deadline > msg->deadline_ms)
				deadline = msg->deadline_ms;
			/* What a failing module added is not trusted: keep a
			 * copy of the counts and cut back to them. */
			size_t ntests = result->ntests, nheaders = result->nheaders;
			size_t nedits = result->nedits, body_len = result->body_len;
			bool body_replaced = result->body_replaced;
			result->body_before_ = result->body;
			double score = result->score;
			enum scan_action hint = result->hint;
			const char *hint_module = result->hint_module;
			char hint_reason[sizeof(result->hint_reason)];
			memcpy(hint_reason, result->hint_reason, sizeof(hint_reason));
			result->current_module = s->module->name;
			uint64_t t0 = now_us();
			t.status = s->module->run(s->state, msg, result, deadline);
			t.us = now_us() - t0;
			result->current_module = NULL;
			if (t.status == SCAN_MOD_OK && scan_now_ms() > deadline + SCAN_OVERRUN_GRACE_MS)
				t.status = SCAN_MOD_TIMEOUT;
			if (t.status == SCAN_MOD_ERROR || t.status == SCAN_MOD_TIMEOUT) {
				while (result->ntests > ntests) {
					struct scan_test *x = &result->tests[--result->ntests];
					free(x->detail);
				}
				while (result->nheaders > nheaders) {
					struct scan_header *h = &result->headers[--result->nheaders];
					free(h->name);
					free(h->value);
				}
				while (result->nedits > nedits) {
					struct scan_header_edit *e = &result->edits[--result->nedits];
					free(e->name);
					free(e->value);
				}
				if (result->body != result->body_before_) {
					free(result->body);
					result->body = result->body_before_;
					result->body_len = body_len;
					result->body_replaced = body_replaced;
				}
				result->score = score;
				result->hint = hint;
				result->hint_module = hint_module;
				memcpy(result->hint_reason, hint_reason, sizeof(hint_reason));
			} else if (result->body != result->body_before_) {
				free(result->body_before_);	/* replaced by this module */
			}
			result->body_before_ = NULL;
		}
		if ((t.status == SCAN_MOD_ERROR || t.status == SCAN_MOD_TIMEOUT) &&
		    s->settings.failure == SCAN_FAIL_CLOSED)
			result->unscannable = true;
		result->timings = xrealloc(result->timings,
					   (result->ntimings + 1) * sizeof(*result->timings));
		result->timings[result->ntimings++] = t;
	}
	pthread_rwlock_unlock(&slots_lock);
	if (scan_now_ms() > msg->deadline_ms)
		result->unscannable = true;
}
