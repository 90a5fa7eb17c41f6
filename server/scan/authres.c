/* The Authentication-Results header (RFC 8601) of the sender
 * authentication modules: "authserv-id; spf=...; dkim=...; dmarc=...;
 * arc=...", or "authserv-id; none" when no method ran. Fields of our
 * authserv-id already in the message are removed by the stage
 * (scan-stage.c, build_message). Runs after SPF, DKIM, ARC and DMARC. */
#include "autoconf.h"
#include "scan-auth.h"
#include "config.h"
#include "scan-policy.h"

#include <strings.h>

#include <stdio.h>
#include <string.h>

const char *dkim_result_name(enum dkim_result r)
{
	switch (r) {
	case DKIM_RESULT_NONE: return "none";
	case DKIM_RESULT_PASS: return "pass";
	case DKIM_RESULT_FAIL: return "fail";
	case DKIM_RESULT_NEUTRAL: return "neutral";
	case DKIM_RESULT_POLICY: return "policy";
	case DKIM_RESULT_TEMPERROR: return "temperror";
	case DKIM_RESULT_PERMERROR: return "permerror";
	}
	return "none";
}

const char *dmarc_result_name(enum dmarc_result r)
{
	switch (r) {
	case DMARC_RESULT_NONE: return "none";
	case DMARC_RESULT_PASS: return "pass";
	case DMARC_RESULT_FAIL: return "fail";
	case DMARC_RESULT_TEMPERROR: return "temperror";
	case DMARC_RESULT_PERMERROR: return "permerror";
	}
	return "none";
}

/* Append a comment "(text)" with only safe characters (no parentheses or
 * backslashes inside, so it cannot end early). */
static void comment(struct buf *out, const char *text)
{
	if (text == NULL || *text == '\0')
		return;
	buf_append(out, " (", 2);
	size_t n = 0;
	for (const char *p = text; *p != '\0' && n < 120; p++, n++) {
		char c = *p;
		if (c == '(' || c == ')' || c == '\\' || (unsigned char)c < 0x20 ||
		    (unsigned char)c > 0x7e)
			c = ' ';
		buf_append(out, &c, 1);
	}
	buf_append(out, ")", 1);
}

/* A property value: dot-atom text and '@' kept as is; anything else makes
 * it a quoted-string. */
static void pvalue(struct buf *out, const char *v)
{
	bool plain = *v != '\0';
	for (const char *p = v; *p != '\0' && plain; p++) {
		unsigned char c = (unsigned char)*p;
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			strchr("!#$%&'*+-/=?^_`{|}~.@", c) != NULL;
	}
	if (plain) {
		buf_append_str(out, v);
		return;
	}
	buf_append(out, "\"", 1);
	for (const char *p = v; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;
		if (c < 0x20 || c == 0x7f)
			continue;
		if (c == '"' || c == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, p, 1);
	}
	buf_append(out, "\"", 1);
}

/* Whether an Authentication-Results field value carries authserv_id
 * (RFC 8601 5: the authserv-id is the first token, before ';' or a
 * version number). Comments are skipped. */
bool scan_authres_is_ours(const char *value, size_t len, const char *authserv_id)
{
	size_t i = 0;
	for (;;) {
		while (i < len && (value[i] == ' ' || value[i] == '\t' || value[i] == '\r' ||
				   value[i] == '\n'))
			i++;
		if (i < len && value[i] == '(') {
			int depth = 0;
			for (; i < len; i++) {
				if (value[i] == '\\' && i + 1 < len) {
					i++;
					continue;
				}
				if (value[i] == '(')
					depth++;
				else if (value[i] == ')' && --depth == 0) {
					i++;
					break;
				}
			}
			continue;
		}
		break;
	}
	size_t start = i;
	while (i < len && value[i] != ';' && value[i] != ' ' && value[i] != '\t' &&
	       value[i] != '\r' && value[i] != '\n' && value[i] != '(')
		i++;
	size_t idlen = i - start;
	/* a quoted-string authserv-id */
	if (idlen >= 2 && value[start] == '"' && value[i - 1] == '"') {
		start++;
		idlen -= 2;
	}
	return idlen == strlen(authserv_id) && strncasecmp(value + start, authserv_id, idlen) == 0;
}

/* The header value for msg's results. */
void scan_authres_value(struct scan_msg *msg, struct buf *out)
{
	struct scan_auth *a = scan_auth_get(msg);
	buf_append_str(out, msg->authserv_id);
	size_t methods = 0;
	if (a->iprev_done) {
		buf_printf(out, "; iprev=%s", a->iprev_pass ? "pass" : "fail");
		comment(out, a->iprev_pass ? a->iprev_name : "no forward-confirmed name");
		buf_append_str(out, " policy.iprev=");
		pvalue(out, msg->client_ip);
		methods++;
	}
	if (a->spf_done) {
		buf_printf(out, "; spf=%s", spf_result_name(a->spf));
		comment(out, a->spf_reason);
		buf_append_str(out, a->spf_helo ? " smtp.helo=" : " smtp.mailfrom=");
		pvalue(out, a->spf_identity);
		methods++;
	}
	if (a->dkim_done) {
		if (a->nsigs == 0) {
			buf_append_str(out, "; dkim=none");
		}
		for (size_t i = 0; i < a->nsigs; i++) {
			const struct scan_dkim_sig *s = &a->sigs[i];
			buf_printf(out, "; dkim=%s", dkim_result_name(s->result));
			comment(out, s->reason);
			if (s->domain[0] != '\0') {
				buf_append_str(out, " header.d=");
				pvalue(out, s->domain);
			}
			if (s->selector[0] != '\0') {
				buf_append_str(out, " header.s=");
				pvalue(out, s->selector);
			}
			if (s->algorithm[0] != '\0') {
				buf_append_str(out, " header.a=");
				pvalue(out, s->algorithm);
			}
			if (s->b_prefix[0] != '\0') {
				buf_append_str(out, " header.b=");
				pvalue(out, s->b_prefix);
			}
		}
		methods++;
	}
	if (a->dmarc_done) {
		buf_printf(out, "; dmarc=%s", dmarc_result_name(a->dmarc));
		comment(out, a->dmarc_reason);
		if (a->dmarc_from[0] != '\0') {
			buf_append_str(out, " header.from=");
			pvalue(out, a->dmarc_from);
		}
		methods++;
	}
	if (a->arc_done) {
		buf_printf(out, "; arc=%s", a->arc == ARC_RESULT_PASS ? "pass" :
					    a->arc == ARC_RESULT_FAIL ? "fail" : "none");
		comment(out, a->arc_reason);
		methods++;
	}
	if (methods == 0)
		buf_append_str(out, "; none");
}

static int authres_init(const struct config *cfg, struct scan_module_settings *settings,
			void **state_r, const char **error_r)
{
	(void)error_r;
	settings->enabled = cfg->scan.spf || cfg->scan.dkim || cfg->scan.dmarc || cfg->scan.arc;
	settings->order = SCAN_ORDER_AUTH + 50;
	*state_r = NULL;
	return 0;
}

static int authres_reload(void *state, const struct config *cfg,
			  struct scan_module_settings *settings, const char **error_r)
{
	void *unused;
	(void)state;
	return authres_init(cfg, settings, &unused, error_r);
}

static enum scan_mod_status authres_run(void *state, struct scan_msg *msg,
					struct scan_result *result, uint64_t deadline_ms)
{
	(void)state;
	(void)deadline_ms;
	struct buf v;
	buf_init(&v, 0);
	scan_authres_value(msg, &v);
	scan_result_add_header(result, "Authentication-Results", v.data);
	buf_free(&v);
	return SCAN_MOD_OK;
}

const struct scan_module scan_module_authres = {
	.name = "authres", .init = authres_init, .reload = authres_reload, .run = authres_run,
	.free = NULL,
};
