/* Self-service Sieve: out-of-office (vacation with a date range, RFC 5230
 * and RFC 5260), forwarding (redirect, :copy to keep a copy) and simple
 * filter rules, written as one Sieve script the pages own ("webadmin"),
 * and a raw editor for any of the user's scripts. Every script goes
 * through what ManageSieve does: compiled by proto/sieve with the
 * configured limits and includes before store_sieve_put, never stored when
 * it does not compile (the errors, with line and column, are shown).
 *
 * The generated script keeps the form's settings in "#@" comment lines at
 * its top (percent-encoded), so the pages read back what they wrote and the
 * script stays the only copy. When it is activated while another script
 * of the user was active, it includes that one (include :personal
 * :optional), so the user's own rules keep running after the page's. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "deliver-sieve.h"
#include "managesieve_parser.h"
#include "sieve.h"
#include "store.h"
#include "store-sieve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WA_SIEVE_NAME "webadmin"
#define WA_SIEVE_MAX_RULES 50

struct wa_rule {
	char *field;	/* from to cc subject list-id size */
	char *op;	/* contains is (over under for size) */
	char *value;
	char *action;	/* fileinto markread discard keep */
	char *arg;	/* the folder of fileinto */
	bool stop;
};

struct wa_sieve {
	bool vac;
	char *vac_start, *vac_end, *vac_days, *vac_subject, *vac_message, *vac_addresses;
	char *fwd;
	bool fwd_keep;
	char *include;	/* the user's own script run after ours, "" none */
	struct wa_rule rules[WA_SIEVE_MAX_RULES];
	size_t nrules;
};

static void rule_free(struct wa_rule *r)
{
	free(r->field);
	free(r->op);
	free(r->value);
	free(r->action);
	free(r->arg);
	memset(r, 0, sizeof(*r));
}

static void settings_free(struct wa_sieve *s)
{
	free(s->vac_start);
	free(s->vac_end);
	free(s->vac_days);
	free(s->vac_subject);
	free(s->vac_message);
	free(s->vac_addresses);
	free(s->fwd);
	free(s->include);
	for (size_t i = 0; i < s->nrules; i++)
		rule_free(&s->rules[i]);
	memset(s, 0, sizeof(*s));
}

static void settings_init(struct wa_sieve *s)
{
	memset(s, 0, sizeof(*s));
	s->vac_start = xstrdup("");
	s->vac_end = xstrdup("");
	s->vac_days = xstrdup("7");
	s->vac_subject = xstrdup("Out of office");
	s->vac_message = xstrdup("");
	s->vac_addresses = xstrdup("");
	s->fwd = xstrdup("");
	s->include = xstrdup("");
}

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
}

/* "#@" lines: percent-encoding of everything but unreserved characters. */
static void enc(struct buf *out, const char *s)
{
	if (s[0] == '\0') {
		buf_append_str(out, "-");
		return;
	}
	tpl_escape_url_component(out, s, strlen(s));
}

static char *dec(const char *s, size_t len)
{
	if (len == 1 && s[0] == '-')
		return xstrdup("");
	struct wa_params p;
	memset(&p, 0, sizeof(p));
	p.max = 1;
	char *piece = xasprintf("v=%.*s", (int)len, s);
	const char *error;
	char *v = NULL;
	if (wa_parse_urlencoded(piece, strlen(piece), &p, &error) == 0 && p.n == 1)
		v = xstrdup(p.v[0].value);
	wa_params_free(&p);
	free(piece);
	return v != NULL ? v : xstrdup("");
}

/* The i-th space-separated word of line (len bytes), decoded. */
static char *word(const char *line, size_t len, unsigned i)
{
	const char *p = line, *end = line + len;
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		const char *w = p;
		while (p < end && *p != ' ')
			p++;
		if (w == p)
			return xstrdup("");
		if (i-- == 0)
			return dec(w, (size_t)(p - w));
	}
}

static void settings_parse(struct wa_sieve *s, const char *src, size_t len)
{
	const char *p = src, *end = src + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl != NULL ? nl : end;
		size_t n = (size_t)(le - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 2 && p[0] == '#' && p[1] == '@') {
			const char *l = p + 2;
			size_t ln = n - 2;
			char *key = word(l, ln, 0);
			char *v = word(l, ln, 1);
			if (strcmp(key, "vacation") == 0)
				s->vac = strcmp(v, "on") == 0;
			else if (strcmp(key, "vac-start") == 0)
				set_str(&s->vac_start, v);
			else if (strcmp(key, "vac-end") == 0)
				set_str(&s->vac_end, v);
			else if (strcmp(key, "vac-days") == 0)
				set_str(&s->vac_days, v);
			else if (strcmp(key, "vac-subject") == 0)
				set_str(&s->vac_subject, v);
			else if (strcmp(key, "vac-message") == 0)
				set_str(&s->vac_message, v);
			else if (strcmp(key, "vac-addresses") == 0)
				set_str(&s->vac_addresses, v);
			else if (strcmp(key, "forward") == 0)
				set_str(&s->fwd, v);
			else if (strcmp(key, "forward-keep") == 0)
				s->fwd_keep = strcmp(v, "on") == 0;
			else if (strcmp(key, "include") == 0)
				set_str(&s->include, v);
			else if (strcmp(key, "rule") == 0 && s->nrules < WA_SIEVE_MAX_RULES) {
				struct wa_rule *r = &s->rules[s->nrules++];
				r->field = v;
				v = NULL;
				r->op = word(l, ln, 2);
				r->value = word(l, ln, 3);
				r->action = word(l, ln, 4);
				r->arg = word(l, ln, 5);
				char *st = word(l, ln, 6);
				r->stop = strcmp(st, "stop") == 0;
				free(st);
			}
			free(key);
			free(v);
		}
		p = nl != NULL ? nl + 1 : end;
	}
}

/* A Sieve quoted string (RFC 5228 2.4.2): '"' and '\' escaped. */
static void quote(struct buf *out, const char *s)
{
	buf_append_str(out, "\"");
	for (const char *c = s; *c != '\0'; c++) {
		if (*c == '\r')
			continue;
		if (*c == '"' || *c == '\\')
			buf_append_str(out, "\\");
		buf_append(out, c, 1);
	}
	buf_append_str(out, "\"");
}

static void quote_list(struct buf *out, const char *csv)
{
	buf_append_str(out, "[");
	bool first = true;
	const char *p = csv;
	while (*p != '\0') {
		size_t n = strcspn(p, ", \t\r\n");
		if (n > 0) {
			char *a = xstrndup(p, n);
			if (!first)
				buf_append_str(out, ", ");
			quote(out, a);
			free(a);
			first = false;
		}
		p += n;
		p += strspn(p, ", \t\r\n");
	}
	buf_append_str(out, "]");
}

static void generate(const struct wa_sieve *s, struct buf *out)
{
	buf_append_str(out,
		"# Generated by the Cairn web admin (Mail rules page): saving that page\n"
		"# replaces this script. Write rules of your own in another script; the\n"
		"# line \"include\" at the end runs it after these.\n");
	buf_printf(out, "#@vacation %s\n", s->vac ? "on" : "off");
	const char *const vk[] = { "vac-start", "vac-end", "vac-days", "vac-subject", "vac-message",
				   "vac-addresses", "forward", "include" };
	const char *const vv[] = { s->vac_start, s->vac_end, s->vac_days, s->vac_subject,
				   s->vac_message, s->vac_addresses, s->fwd, s->include };
	for (size_t i = 0; i < sizeof(vk) / sizeof(vk[0]); i++) {
		buf_printf(out, "#@%s ", vk[i]);
		enc(out, vv[i]);
		buf_append_str(out, "\n");
	}
	buf_printf(out, "#@forward-keep %s\n", s->fwd_keep ? "on" : "off");
	for (size_t i = 0; i < s->nrules; i++) {
		const struct wa_rule *r = &s->rules[i];
		buf_append_str(out, "#@rule ");
		const char *const w[] = { r->field, r->op, r->value, r->action, r->arg };
		for (size_t k = 0; k < 5; k++) {
			enc(out, w[k]);
			buf_append_str(out, " ");
		}
		buf_append_str(out, r->stop ? "stop\n" : "go\n");
	}
	buf_append_str(out, "require [\"vacation\", \"date\", \"relational\", \"copy\", \"fileinto\","
			    " \"mailbox\", \"imap4flags\", \"include\"];\n");
	if (s->vac) {
		bool range = s->vac_start[0] != '\0' || s->vac_end[0] != '\0';
		if (range) {
			buf_append_str(out, "if allof(");
			if (s->vac_start[0] != '\0') {
				buf_append_str(out, "currentdate :value \"ge\" \"date\" ");
				quote(out, s->vac_start);
			}
			if (s->vac_end[0] != '\0') {
				if (s->vac_start[0] != '\0')
					buf_append_str(out, ", ");
				buf_append_str(out, "currentdate :value \"le\" \"date\" ");
				quote(out, s->vac_end);
			}
			buf_append_str(out, ") {\n  ");
		}
		buf_printf(out, "vacation :days %s :subject ", s->vac_days);
		quote(out, s->vac_subject);
		if (s->vac_addresses[0] != '\0') {
			buf_append_str(out, " :addresses ");
			quote_list(out, s->vac_addresses);
		}
		buf_append_str(out, " ");
		quote(out, s->vac_message);
		buf_append_str(out, range ? ";\n}\n" : ";\n");
	}
	if (s->fwd[0] != '\0') {
		buf_append_str(out, s->fwd_keep ? "redirect :copy " : "redirect ");
		quote(out, s->fwd);
		buf_append_str(out, ";\n");
	}
	for (size_t i = 0; i < s->nrules; i++) {
		const struct wa_rule *r = &s->rules[i];
		if (strcmp(r->field, "size") == 0) {
			buf_printf(out, "if size :%s %s {\n", strcmp(r->op, "under") == 0 ? "under" :
				   "over", r->value);
		} else {
			bool addr = strcmp(r->field, "from") == 0 || strcmp(r->field, "to") == 0 ||
				    strcmp(r->field, "cc") == 0;
			buf_printf(out, "if %s :%s ", addr ? "address" : "header",
				   strcmp(r->op, "is") == 0 ? "is" : "contains");
			quote(out, r->field);
			buf_append_str(out, " ");
			quote(out, r->value);
			buf_append_str(out, " {\n");
		}
		if (strcmp(r->action, "fileinto") == 0) {
			buf_append_str(out, "  fileinto :create ");
			quote(out, r->arg);
			buf_append_str(out, ";\n");
		} else if (strcmp(r->action, "markread") == 0) {
			buf_append_str(out, "  addflag \"\\\\Seen\";\n");
		} else if (strcmp(r->action, "discard") == 0) {
			buf_append_str(out, "  discard;\n");
		} else {
			buf_append_str(out, "  keep;\n");
		}
		if (r->stop)
			buf_append_str(out, "  stop;\n");
		buf_append_str(out, "}\n");
	}
	if (s->include[0] != '\0') {
		buf_append_str(out, "include :personal :optional ");
		quote(out, s->include);
		buf_append_str(out, ";\n");
	}
}

/* Compile as ManageSieve PUTSCRIPT does (limits, includes from the user's
 * scripts and [sieve] global_dir): 0, or -1 with a malloc'ed *error_r
 * ("line L column C: ..."). */
static int compile_check(struct wa_req *r, const char *name, const char *src, size_t len,
			 char **error_r)
{
	if (!msieve_utf8_valid(src, len) || memchr(src, '\0', len) != NULL) {
		*error_r = xstrdup("a script must be UTF-8 text");
		return -1;
	}
	struct sieve_limits lim;
	deliver_sieve_limits(r->cfg, &lim);
	struct deliver_sieve_include_ctx ictx = {
		.st = r->st, .cfg = r->cfg, .max_size = lim.max_script_size,
		.account = r->sess.address,
	};
	struct sieve_compile_params params = {
		.limits = &lim, .name = name, .include = deliver_sieve_include_cb,
		.include_ctx = &ictx, .include_missing_personal_ok = true,
	};
	struct sieve_script *script = NULL;
	*error_r = NULL;
	if (sieve_compile(src, len, &params, &script, error_r) < 0) {
		if (*error_r == NULL)
			*error_r = xstrdup("the script does not compile");
		return -1;
	}
	sieve_script_unref(&script);
	return 0;
}

static struct store_sieve_limits store_limits(const struct config *cfg)
{
	struct store_sieve_limits l = { cfg->sieve.max_scripts, cfg->sieve.max_total_size };
	return l;
}

/* Compile, then store: -1 (with the page's error set) when it does not
 * compile or the store refuses it. */
static int save_script(struct wa_req *r, const char *name, const char *src, size_t len)
{
	char *cerr = NULL;
	if (compile_check(r, name, src, len, &cerr) < 0) {
		wa_fail(r, "Not saved: the script has errors.");
		tpl_set(r->vars, "compile_errors", cerr);
		free(cerr);
		r->status = 422;
		return -1;
	}
	const char *error = NULL;
	struct store_sieve_limits lim = store_limits(r->cfg);
	int ret = store_sieve_put(r->st, r->sess.address, name, src, len, &lim, &error);
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return -1;
	}
	return 0;
}

static void load_settings(struct wa_req *r, struct wa_sieve *s, bool *exists_r)
{
	settings_init(s);
	struct buf src;
	buf_init(&src, 0);
	const char *error = NULL;
	*exists_r = store_sieve_get(r->st, r->sess.address, WA_SIEVE_NAME, &src, NULL, &error) ==
		    STORE_OK;
	if (*exists_r)
		settings_parse(s, src.data != NULL ? src.data : "", src.len);
	buf_free(&src);
}

struct script_list {
	struct wa_req *r;
	char active[256];
};

static void script_row(const char *name, bool active, uint64_t size, void *ctx)
{
	struct script_list *l = ctx;
	struct tpl_vars *v = tpl_list_add(l->r->vars, "scripts");
	tpl_set(v, "name", name);
	tpl_set(v, "active", active ? "1" : "");
	tpl_setf(v, "size", "%llu", (unsigned long long)size);
	tpl_set(v, "generated", strcmp(name, WA_SIEVE_NAME) == 0 ? "1" : "");
	if (active)
		snprintf(l->active, sizeof(l->active), "%s", name);
}

static int show_rules_with(struct wa_req *r, const struct wa_sieve *s)
{
	tpl_set(r->vars, "vac", s->vac ? "1" : "");
	tpl_set(r->vars, "vac_start", s->vac_start);
	tpl_set(r->vars, "vac_end", s->vac_end);
	tpl_set(r->vars, "vac_days", s->vac_days);
	tpl_set(r->vars, "vac_subject", s->vac_subject);
	tpl_set(r->vars, "vac_message", s->vac_message);
	tpl_set(r->vars, "vac_addresses", s->vac_addresses);
	tpl_set(r->vars, "fwd", s->fwd);
	tpl_set(r->vars, "fwd_keep", s->fwd_keep ? "1" : "");
	tpl_set(r->vars, "include", s->include);
	for (size_t i = 0; i < s->nrules; i++) {
		struct tpl_vars *v = tpl_list_add(r->vars, "rules");
		const struct wa_rule *ru = &s->rules[i];
		tpl_setf(v, "index", "%zu", i);
		tpl_set(v, "field", ru->field);
		tpl_set(v, "op", ru->op);
		tpl_set(v, "value", ru->value);
		tpl_set(v, "action", ru->action);
		tpl_set(v, "arg", ru->arg);
		tpl_set(v, "stop", ru->stop ? "1" : "");
	}
	struct script_list l = { r, "" };
	const char *error = NULL;
	int ret = store_sieve_list(r->st, r->sess.address, script_row, &l, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	tpl_set(r->vars, "active", l.active);
	tpl_set(r->vars, "ours_active", strcmp(l.active, WA_SIEVE_NAME) == 0 ? "1" : "");
	return wa_render(r, "sieve");
}

static int show_rules(struct wa_req *r)
{
	struct wa_sieve s;
	bool exists;
	load_settings(r, &s, &exists);
	int ret = show_rules_with(r, &s);
	settings_free(&s);
	return ret;
}

static bool valid_date(const char *d)
{
	if (d[0] == '\0')
		return true;
	if (strlen(d) != 10 || d[4] != '-' || d[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (d[i] < '0' || d[i] > '9'))
			return false;
	int m = (d[5] - '0') * 10 + d[6] - '0', day = (d[8] - '0') * 10 + d[9] - '0';
	return m >= 1 && m <= 12 && day >= 1 && day <= 31;
}

static bool valid_size(const char *v)
{
	size_t n = strspn(v, "0123456789");
	return n > 0 && n <= 12 && (v[n] == '\0' || ((v[n] == 'K' || v[n] == 'M' || v[n] == 'G') &&
						      v[n + 1] == '\0'));
}

/* Store the generated script and make it the active one, including the
 * script that was active before (if another). */
static int regenerate(struct wa_req *r, struct wa_sieve *s)
{
	struct script_list l = { r, "" };
	const char *error = NULL;
	struct tpl_vars *saved = r->vars;
	/* store_sieve_list's rows are for the page; here only the active name. */
	r->vars = tpl_vars_new();
	int ret = store_sieve_list(r->st, r->sess.address, script_row, &l, &error);
	tpl_vars_free(&r->vars);
	r->vars = saved;
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return -1;
	}
	if (l.active[0] != '\0' && strcmp(l.active, WA_SIEVE_NAME) != 0)
		set_str(&s->include, l.active);
	struct buf src;
	buf_init(&src, 0);
	generate(s, &src);
	int rc = save_script(r, WA_SIEVE_NAME, src.data, src.len);
	buf_free(&src);
	if (rc < 0)
		return -1;
	if (strcmp(l.active, WA_SIEVE_NAME) != 0) {
		ret = store_sieve_activate(r->st, r->sess.address, WA_SIEVE_NAME, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
			return -1;
		}
	}
	return 0;
}

static int post_rules(struct wa_req *r)
{
	const char *action = wa_form(r, "action");
	struct wa_sieve s;
	bool exists;
	load_settings(r, &s, &exists);
	const char *bad = NULL;
	if (strcmp(action, "vacation") == 0) {
		const char *days = wa_form(r, "days");
		uint64_t d;
		s.vac = strcmp(wa_form(r, "enabled"), "on") == 0;
		if (!valid_date(wa_form(r, "start")) || !valid_date(wa_form(r, "end")))
			bad = "Dates are YYYY-MM-DD.";
		else if (str_to_u64(days, strlen(days), 365, &d) < 0 || d == 0)
			bad = "Answer each sender at most once in 1 to 365 days.";
		else if (strlen(wa_form(r, "message")) > 8000 || strlen(wa_form(r, "subject")) > 200 ||
			 strlen(wa_form(r, "addresses")) > 2000)
			bad = "The message is too long.";
		else if (s.vac && wa_form(r, "message")[0] == '\0')
			bad = "Write the message senders get while you are away.";
		set_str(&s.vac_start, wa_form(r, "start"));
		set_str(&s.vac_end, wa_form(r, "end"));
		set_str(&s.vac_days, days);
		set_str(&s.vac_subject, wa_form(r, "subject"));
		set_str(&s.vac_message, wa_form(r, "message"));
		set_str(&s.vac_addresses, wa_form(r, "addresses"));
	} else if (strcmp(action, "forward") == 0) {
		const char *to = wa_form(r, "to");
		if (to[0] != '\0' && !wa_valid_address(to))
			bad = "Forward to one address, like ann@example.org (empty: no forwarding).";
		set_str(&s.fwd, to);
		s.fwd_keep = strcmp(wa_form(r, "keep"), "on") == 0;
	} else if (strcmp(action, "add-rule") == 0) {
		const char *field = wa_form(r, "field"), *op = wa_form(r, "op");
		const char *value = wa_form(r, "value"), *act = wa_form(r, "then");
		const char *folder = wa_form(r, "folder");
		bool size = strcmp(field, "size") == 0;
		if (s.nrules >= WA_SIEVE_MAX_RULES)
			bad = "Too many rules.";
		else if (strcmp(field, "from") != 0 && strcmp(field, "to") != 0 &&
			 strcmp(field, "cc") != 0 && strcmp(field, "subject") != 0 &&
			 strcmp(field, "list-id") != 0 && !size)
			bad = "Choose what the rule looks at.";
		else if (size ? (strcmp(op, "over") != 0 && strcmp(op, "under") != 0) :
				(strcmp(op, "contains") != 0 && strcmp(op, "is") != 0))
			bad = size ? "A size is over or under a number (like 5M)." :
				     "Choose contains or is.";
		else if (size ? !valid_size(value) : (value[0] == '\0' || strlen(value) > 500))
			bad = size ? "A size is a number with K, M or G, like 5M." : "Give the text to look for.";
		else if (strcmp(act, "fileinto") != 0 && strcmp(act, "markread") != 0 &&
			 strcmp(act, "discard") != 0 && strcmp(act, "keep") != 0)
			bad = "Choose what the rule does.";
		else if (strcmp(act, "fileinto") == 0 && (folder[0] == '\0' || strlen(folder) > 200))
			bad = "Name the folder to move the message to.";
		if (bad == NULL) {
			struct wa_rule *ru = &s.rules[s.nrules++];
			ru->field = xstrdup(field);
			ru->op = xstrdup(op);
			ru->value = xstrdup(value);
			ru->action = xstrdup(act);
			ru->arg = xstrdup(strcmp(act, "fileinto") == 0 ? folder : "");
			ru->stop = strcmp(wa_form(r, "stop"), "on") == 0;
		}
	} else if (strcmp(action, "delete-rule") == 0) {
		const char *ix = wa_form(r, "index");
		uint64_t i;
		if (ix[0] == '\0' || str_to_u64(ix, strlen(ix), 1000, &i) < 0 || i >= s.nrules) {
			bad = "No such rule.";
		} else {
			rule_free(&s.rules[i]);
			memmove(&s.rules[i], &s.rules[i + 1], (s.nrules - i - 1) * sizeof(s.rules[0]));
			memset(&s.rules[--s.nrules], 0, sizeof(s.rules[0]));
		}
	} else {
		bad = "Unknown action.";
	}
	if (bad != NULL) {
		wa_fail(r, "%s", bad);
		r->status = 400;
	} else if (regenerate(r, &s) == 0) {
		wa_audit(r, "sieve-rules", r->sess.address, "%s", action);
		wa_notice(r, "Saved. Your mail rules are active.");
	}
	int ret = show_rules_with(r, &s);
	settings_free(&s);
	return ret;
}

/* The raw editor. */

static bool valid_name(const char *name)
{
	return name[0] != '\0' && msieve_name_valid(name, strlen(name));
}

static int show_edit_with(struct wa_req *r, const char *name, const char *content)
{
	tpl_set(r->vars, "name", name);
	tpl_set(r->vars, "content", content);
	tpl_set(r->vars, "generated", strcmp(name, WA_SIEVE_NAME) == 0 ? "1" : "");
	struct script_list l = { r, "" };
	const char *error = NULL;
	int ret = store_sieve_list(r->st, r->sess.address, script_row, &l, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	tpl_set(r->vars, "active", l.active);
	tpl_set(r->vars, "is_active", name[0] != '\0' && strcmp(l.active, name) == 0 ? "1" : "");
	return wa_render(r, "sieve-edit");
}

/* The editor with name's stored content. */
static int show_edit_stored(struct wa_req *r, const char *name)
{
	struct buf src;
	buf_init(&src, 0);
	const char *error = NULL;
	int ret = store_sieve_get(r->st, r->sess.address, name, &src, NULL, &error);
	if (ret == STORE_NOTFOUND) {
		buf_free(&src);
		return wa_error(r, 404, "No such script.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	buf_append(&src, "", 0);
	ret = show_edit_with(r, name, src.data);
	buf_free(&src);
	return ret;
}

static int show_edit(struct wa_req *r)
{
	const char *name = wa_query(r, "name");
	if (name[0] == '\0')
		return show_edit_with(r, "", "require [\"fileinto\"];\n");
	if (!valid_name(name))
		return wa_error(r, 404, "No such script.");
	return show_edit_stored(r, name);
}

static int post_edit(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *name = wa_form(r, "name");
	const char *content = wa_form(r, "content");
	const char *error = NULL;
	int ret = STORE_OK;
	if (!valid_name(name)) {
		wa_fail(r, "A script name is 1 to 128 characters, no control characters or '/'.");
		r->status = 400;
		return show_edit_with(r, "", content);
	}
	if (strcmp(action, "save") == 0) {
		/* Browsers send CRLF; scripts are stored as typed. */
		if (save_script(r, name, content, strlen(content)) == 0) {
			wa_audit(r, "sieve-save", r->sess.address, "script=%s", name);
			wa_notice(r, "Script %s saved.", name);
		}
		return show_edit_with(r, name, content);
	} else if (strcmp(action, "activate") == 0) {
		/* As ManageSieve SETACTIVE: the includes must exist now. */
		struct buf src;
		buf_init(&src, 0);
		ret = store_sieve_get(r->st, r->sess.address, name, &src, NULL, &error);
		char *cerr = NULL;
		if (ret == STORE_OK) {
			struct sieve_limits lim;
			deliver_sieve_limits(r->cfg, &lim);
			struct deliver_sieve_include_ctx ictx = {
				.st = r->st, .cfg = r->cfg, .max_size = lim.max_script_size,
				.account = r->sess.address,
			};
			struct sieve_compile_params params = {
				.limits = &lim, .name = name, .include = deliver_sieve_include_cb,
				.include_ctx = &ictx,
			};
			struct sieve_script *script = NULL;
			if (sieve_compile(src.data != NULL ? src.data : "", src.len, &params, &script,
					  &cerr) < 0) {
				wa_fail(r, "Not activated: the script has errors.");
				tpl_set(r->vars, "compile_errors", cerr != NULL ? cerr : "invalid");
				free(cerr);
				buf_free(&src);
				return show_edit_stored(r, name);
			}
			sieve_script_unref(&script);
			ret = store_sieve_activate(r->st, r->sess.address, name, &error);
		}
		buf_free(&src);
		if (ret == STORE_OK) {
			wa_audit(r, "sieve-activate", r->sess.address, "script=%s", name);
			wa_notice(r, "Script %s is the active one now.", name);
		}
	} else if (strcmp(action, "deactivate") == 0) {
		ret = store_sieve_activate(r->st, r->sess.address, "", &error);
		if (ret == STORE_OK) {
			wa_audit(r, "sieve-deactivate", r->sess.address, NULL);
			wa_notice(r, "No script is active now.");
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_sieve_delete(r->st, r->sess.address, name, &error);
		if (ret == STORE_CONFLICT) {
			wa_fail(r, "Deactivate the script before you delete it.");
			r->status = 409;
			return show_edit_stored(r, name);
		}
		if (ret == STORE_OK) {
			wa_audit(r, "sieve-delete", r->sess.address, "script=%s", name);
			wa_notice(r, "Script %s deleted.", name);
			return show_edit_with(r, "", "");
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return show_edit_with(r, name, content);
	}
	return show_edit_stored(r, name);
}

const struct wa_route wa_routes_sieve[] = {
	{ "/sieve", "GET", WA_USER, show_rules, "Mail rules" },
	{ "/sieve", "POST", WA_USER, post_rules, NULL },
	{ "/sieve/edit", "GET", WA_USER, show_edit, NULL },
	{ "/sieve/edit", "POST", WA_USER, post_edit, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
