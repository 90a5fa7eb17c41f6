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
#include "wa-sieve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	wa_sieve_init(s);
	struct buf src;
	buf_init(&src, 0);
	const char *error = NULL;
	*exists_r = store_sieve_get(r->st, r->sess.address, WA_SIEVE_NAME, &src, NULL, &error) ==
		    STORE_OK;
	if (*exists_r)
		wa_sieve_parse(s, src.data != NULL ? src.data : "", src.len);
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
	wa_sieve_free(&s);
	return ret;
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
	if (l.active[0] != '\0' && strcmp(l.active, WA_SIEVE_NAME) != 0) {
		if (!wa_sieve_includable(l.active)) {
			wa_fail(r, "Your active script %s cannot be included (its name has a '/'); "
				   "rename it first.", l.active);
			r->status = 409;
			return -1;
		}
		wa_sieve_set(&s->include, l.active);
	}
	struct buf src;
	buf_init(&src, 0);
	wa_sieve_generate(s, &src);
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
		const char *msg = wa_form(r, "message"), *subject = wa_form(r, "subject");
		s.vac = strcmp(wa_form(r, "enabled"), "on") == 0;
		if ((bad = wa_sieve_check_date(wa_form(r, "start"))) == NULL &&
		    (bad = wa_sieve_check_date(wa_form(r, "end"))) == NULL &&
		    (bad = wa_sieve_check_days(wa_form(r, "days"))) == NULL &&
		    (bad = wa_sieve_check_text(msg, 8000)) == NULL &&
		    (bad = wa_sieve_check_addresses(wa_form(r, "addresses"))) == NULL) {
			if (wa_sieve_check_text(subject, 200) != NULL || strpbrk(subject, "\r\n"))
				bad = "The subject is one line of at most 200 bytes.";
			else if (s.vac && msg[0] == '\0')
				bad = "Write the message senders get while you are away.";
		}
		wa_sieve_set(&s.vac_start, wa_form(r, "start"));
		wa_sieve_set(&s.vac_end, wa_form(r, "end"));
		wa_sieve_set(&s.vac_days, wa_form(r, "days"));
		wa_sieve_set(&s.vac_subject, subject);
		wa_sieve_set(&s.vac_message, msg);
		wa_sieve_set(&s.vac_addresses, wa_form(r, "addresses"));
	} else if (strcmp(action, "forward") == 0) {
		const char *to = wa_form(r, "to");
		if (to[0] != '\0' && (!wa_valid_address(to) || wa_sieve_check_address(to) != NULL))
			bad = "Forward to one address, like ann@example.org (empty: no forwarding).";
		wa_sieve_set(&s.fwd, to);
		s.fwd_keep = strcmp(wa_form(r, "keep"), "on") == 0;
	} else if (strcmp(action, "add-rule") == 0) {
		const char *field = wa_form(r, "field"), *op = wa_form(r, "op");
		const char *value = wa_form(r, "value"), *act = wa_form(r, "then");
		const char *folder = strcmp(act, "fileinto") == 0 ? wa_form(r, "folder") : "";
		if (s.nrules >= WA_SIEVE_MAX_RULES)
			bad = "Too many rules.";
		else
			bad = wa_sieve_check_rule(field, op, value, act, folder);
		if (bad == NULL) {
			struct wa_rule *ru = &s.rules[s.nrules++];
			ru->field = xstrdup(field);
			ru->op = xstrdup(op);
			ru->value = xstrdup(value);
			ru->action = xstrdup(act);
			ru->arg = xstrdup(folder);
			ru->stop = strcmp(wa_form(r, "stop"), "on") == 0;
		}
	} else if (strcmp(action, "delete-rule") == 0) {
		const char *ix = wa_form(r, "index");
		uint64_t i;
		if (ix[0] == '\0' || str_to_u64(ix, strlen(ix), 1000, &i) < 0 || i >= s.nrules) {
			bad = "No such rule.";
		} else {
			struct wa_rule gone = s.rules[i];
			memmove(&s.rules[i], &s.rules[i + 1], (s.nrules - i - 1) * sizeof(s.rules[0]));
			s.rules[--s.nrules] = gone;
			wa_sieve_free_rule(&s.rules[s.nrules]);
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
	wa_sieve_free(&s);
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
