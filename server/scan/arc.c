/* ARC verification (RFC 8617 section 5.2): collect the ARC sets
 * (ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal with one
 * instance each, 1..N), check their structure and cv= chain, verify the
 * newest ARC-Message-Signature like a DKIM signature, then every ARC-Seal
 * from N down to 1 over the sets up to its own (relaxed header
 * canonicalisation, its own b= emptied). The chain validation result is
 * reported as arc= in Authentication-Results. No sealing. */
#include "autoconf.h"
#include "scan-auth.h"
#include "dkim-verify.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARC_MAX_INSTANCES 50

struct arc_set {
	size_t aar, ams, as;	/* field indexes, SIZE_MAX when absent */
};

/* The instance of an ARC-Authentication-Results value ("i=N; ..."), or -1. */
static int aar_instance(const struct dkim_field *f)
{
	const char *v = (const char *)memchr(f->text, ':', f->len) + 1;
	const char *end = f->text + f->len;
	while (v < end && (*v == ' ' || *v == '\t' || *v == '\r' || *v == '\n'))
		v++;
	if (end - v < 3 || v[0] != 'i')
		return -1;
	v++;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (v >= end || *v != '=')
		return -1;
	v++;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	int n = 0;
	bool digits = false;
	while (v < end && *v >= '0' && *v <= '9' && n <= ARC_MAX_INSTANCES) {
		n = n * 10 + (*v - '0');
		v++;
		digits = true;
	}
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	if (!digits || v >= end || *v != ';')
		return -1;
	return n;
}

/* The tag list of a field's value. */
static int field_tags(const struct dkim_field *f, struct dkim_tag_list *l)
{
	const char *v = (const char *)memchr(f->text, ':', f->len) + 1;
	size_t len = f->len - (size_t)(v - f->text);
	while (len > 0 && (v[len - 1] == '\n' || v[len - 1] == '\r'))
		len--;
	const char *err;
	return dkim_tag_list_parse(v, len, l, &err);
}

static int tag_uint(const struct dkim_tag_list *l, const char *name)
{
	const struct dkim_tag *t = dkim_tag_find(l, name);
	if (t == NULL || t->value_len == 0 || t->value_len > 3)
		return -1;
	int n = 0;
	for (size_t i = 0; i < t->value_len; i++) {
		if (t->value[i] < '0' || t->value[i] > '9')
			return -1;
		n = n * 10 + (t->value[i] - '0');
	}
	return n;
}

static bool tag_is(const struct dkim_tag_list *l, const char *name, const char *value)
{
	const struct dkim_tag *t = dkim_tag_find(l, name);
	return t != NULL && dkim_span_eq(t->value, t->value_len, value, strlen(value));
}

static enum arc_result fail(struct scan_auth *a, const char *why)
{
	snprintf(a->arc_reason, sizeof(a->arc_reason), "%s", why);
	return ARC_RESULT_FAIL;
}

/* Verify the ARC-Seal of instance i over sets[1..i]. */
static enum arc_result verify_seal(struct scan_msg *msg, struct scan_auth *a,
				   const struct dkim_field *fields, const struct arc_set *sets,
				   int i, uint64_t deadline_ms)
{
	const struct dkim_field *as = &fields[sets[i].as];
	struct dkim_tag_list *l = xmalloc(sizeof(*l));
	enum arc_result res = ARC_RESULT_FAIL;
	if (field_tags(as, l) < 0) {
		free(l);
		return fail(a, "ARC-Seal does not parse");
	}
	const struct dkim_tag *ta = dkim_tag_find(l, "a"), *td = dkim_tag_find(l, "d"),
			      *ts = dkim_tag_find(l, "s"), *tb = dkim_tag_find(l, "b");
	enum dkim_sig_algo algo;
	if (ta == NULL || td == NULL || ts == NULL || tb == NULL || td->value_len == 0 ||
	    ts->value_len == 0 || tb->value_len == 0 || dkim_tag_find(l, "h") != NULL) {
		free(l);
		return fail(a, "ARC-Seal lacks a=, d=, s= or b=, or has h=");
	}
	if (dkim_span_eq(ta->value, ta->value_len, "rsa-sha256", 10))
		algo = DKIM_SIG_RSA_SHA256;
	else if (dkim_span_eq(ta->value, ta->value_len, "ed25519-sha256", 14))
		algo = DKIM_SIG_ED25519_SHA256;
	else {
		free(l);
		return fail(a, "ARC-Seal with an unsupported algorithm");
	}
	struct buf data;
	buf_init(&data, 0);
	for (int k = 1; k <= i; k++) {
		const struct dkim_field *aar = &fields[sets[k].aar], *ams = &fields[sets[k].ams];
		dkim_canon_header_relaxed(aar->text, aar->len, true, &data);
		dkim_canon_header_relaxed(ams->text, ams->len, true, &data);
		if (k < i) {
			const struct dkim_field *s = &fields[sets[k].as];
			dkim_canon_header_relaxed(s->text, s->len, true, &data);
		}
	}
	/* the seal itself, b= emptied, without CRLF */
	struct buf self;
	buf_init(&self, 0);
	dkim_strip_b(as->text, as->len, tb->value, tb->value_len, &self);
	dkim_canon_header_relaxed(self.data, self.len, false, &data);
	buf_free(&self);
	EVP_PKEY *pkey = NULL;
	char reason[160];
	enum dkim_result kr = dkim_fetch_key(msg, td->value, td->value_len, ts->value,
					     ts->value_len, algo, deadline_ms, &pkey, reason,
					     sizeof(reason));
	if (kr != DKIM_RESULT_PASS) {
		snprintf(a->arc_reason, sizeof(a->arc_reason), "ARC-Seal i=%d: %.100s", i, reason);
	} else {
		unsigned char *sb = xmalloc(1024);
		long sl = dkim_base64_decode(tb->value, tb->value_len, sb, 1024);
		if (sl > 0 && dkim_verify_data(pkey, algo, data.data, data.len, sb, (size_t)sl) == 0)
			res = ARC_RESULT_PASS;
		else
			snprintf(a->arc_reason, sizeof(a->arc_reason),
				 "ARC-Seal i=%d did not verify", i);
		free(sb);
		EVP_PKEY_free(pkey);
	}
	buf_free(&data);
	free(l);
	return res;
}

static enum arc_result validate(struct scan_msg *msg, struct scan_auth *a, uint64_t deadline_ms)
{
	struct dkim_field *fields;
	size_t n, body;
	const char *err;
	if (dkim_fields_split(msg->raw, msg->size, &fields, &n, &body, &err) < 0)
		return ARC_RESULT_NONE;
	struct arc_set sets[ARC_MAX_INSTANCES + 1];
	memset(sets, 0xff, sizeof(sets));
	int max = 0;
	bool any = false, broken = false;
	struct dkim_tag_list *l = xmalloc(sizeof(*l));
	for (size_t i = 0; i < n && !broken; i++) {
		size_t *slot = NULL;
		int inst = -1;
		if (dkim_field_is(&fields[i], "ARC-Authentication-Results")) {
			inst = aar_instance(&fields[i]);
			if (inst >= 1 && inst <= ARC_MAX_INSTANCES)
				slot = &sets[inst].aar;
		} else if (dkim_field_is(&fields[i], "ARC-Message-Signature") ||
			   dkim_field_is(&fields[i], "ARC-Seal")) {
			bool seal = dkim_field_is(&fields[i], "ARC-Seal");
			if (field_tags(&fields[i], l) == 0)
				inst = tag_uint(l, "i");
			if (inst >= 1 && inst <= ARC_MAX_INSTANCES)
				slot = seal ? &sets[inst].as : &sets[inst].ams;
		} else {
			continue;
		}
		any = true;
		if (slot == NULL || *slot != SIZE_MAX) {
			broken = true;	/* bad instance or a duplicate */
			break;
		}
		*slot = i;
		if (inst > max)
			max = inst;
	}
	enum arc_result res = ARC_RESULT_NONE;
	if (!any)
		goto out;
	a->arc_instances = (unsigned)max;
	if (broken) {
		res = fail(a, "ARC header with a bad or repeated instance");
		goto out;
	}
	/* every set complete, cv= none at 1 and pass above */
	for (int i = 1; i <= max; i++) {
		if (sets[i].aar == SIZE_MAX || sets[i].ams == SIZE_MAX || sets[i].as == SIZE_MAX) {
			res = fail(a, "incomplete ARC set");
			goto out;
		}
		if (field_tags(&fields[sets[i].as], l) < 0) {
			res = fail(a, "ARC-Seal does not parse");
			goto out;
		}
		if (i == max && tag_is(l, "cv", "fail")) {
			res = fail(a, "the newest ARC-Seal says cv=fail");
			goto out;
		}
		if (!tag_is(l, "cv", i == 1 ? "none" : "pass")) {
			res = fail(a, "ARC-Seal cv= does not chain");
			goto out;
		}
	}
	/* the newest ARC-Message-Signature */
	struct dkim_signature *sig = xmalloc(sizeof(*sig));
	struct scan_dkim_sig out;
	enum dkim_result r = dkim_verify_field(msg, fields, n, sets[max].ams, msg->raw + body,
					       msg->size - body, true, deadline_ms, &out, sig);
	free(sig);
	if (r != DKIM_RESULT_PASS) {
		snprintf(a->arc_reason, sizeof(a->arc_reason), "ARC-Message-Signature i=%d: %.100s",
			 max, out.reason);
		res = ARC_RESULT_FAIL;
		goto out;
	}
	for (int i = max; i >= 1; i--) {
		res = verify_seal(msg, a, fields, sets, i, deadline_ms);
		if (res != ARC_RESULT_PASS)
			goto out;
	}
	snprintf(a->arc_reason, sizeof(a->arc_reason), "i=%d", max);
	res = ARC_RESULT_PASS;
out:
	free(l);
	free(fields);
	return res;
}

static int arc_init(const struct config *cfg, struct scan_module_settings *settings,
		    void **state_r, const char **error_r)
{
	(void)error_r;
	settings->enabled = cfg->scan.arc;
	settings->order = SCAN_ORDER_AUTH + 20;
	*state_r = NULL;
	return 0;
}

static int arc_reload(void *state, const struct config *cfg,
		      struct scan_module_settings *settings, const char **error_r)
{
	void *unused;
	(void)state;
	return arc_init(cfg, settings, &unused, error_r);
}

static enum scan_mod_status arc_run(void *state, struct scan_msg *msg, struct scan_result *result,
				    uint64_t deadline_ms)
{
	(void)state;
	struct scan_auth *a = scan_auth_get(msg);
	a->arc = validate(msg, a, deadline_ms);
	a->arc_done = true;
	if (a->arc == ARC_RESULT_PASS)
		scan_result_add_test(result, "ARC_VALID", -0.1, "%u instances", a->arc_instances);
	else if (a->arc == ARC_RESULT_FAIL)
		scan_result_add_test(result, "ARC_INVALID", 0.1, "%s", a->arc_reason);
	return SCAN_MOD_OK;
}

const struct scan_module scan_module_arc = {
	.name = "arc", .init = arc_init, .reload = arc_reload, .run = arc_run, .free = NULL,
};
