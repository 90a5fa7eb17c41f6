/* The scan stage's pages: the quarantine (administrators see every message,
 * domain administrators those of their domains, every user his own; one
 * message's header and a text rendering of its body, never its HTML;
 * release and delete through the store functions cairnctl quarantine
 * uses), and the scan policy: the effective [scan] settings of cairn.conf
 * read-only, and the per-domain and per-user overrides kept in PostgreSQL
 * (cairnctl scan policy) editable. */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "mime.h"
#include "mime-text.h"
#include "store.h"
#include "store-scan.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WA_QUARANTINE_TEXT_MAX (256 * 1024)
#define WA_QUARANTINE_HEAD_MAX (64 * 1024)

struct list_ctx {
	struct wa_req *r;
	size_t rows;
};

static void quarantine_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 8 || ++c->rows > c->r->cfg->webadmin.page_size)
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	char size[32];
	wa_format_bytes(strtoull(col[7], NULL, 10), size, sizeof(size));
	tpl_set(v, "id", col[0]);
	tpl_set(v, "account", col[1]);
	tpl_set(v, "received", col[2]);
	tpl_set(v, "from", col[3][0] != '\0' ? col[3] : "<>");
	tpl_set(v, "reason", col[4]);
	tpl_setf(v, "score", "%.1f", strtod(col[5], NULL));
	tpl_set(v, "subject", col[6]);
	tpl_set(v, "size", size);
}

static const char *quarantine_sort(const char *s)
{
	static const char *const sorts[] = { "date", "from", "subject", "score", "rcpt" };
	for (size_t i = 0; i < sizeof(sorts) / sizeof(sorts[0]); i++)
		if (strcmp(s, sorts[i]) == 0)
			return sorts[i];
	return "date";
}

static int show_quarantine(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	/* Newest first unless asked otherwise. */
	const char *dir = wa_query(r, "dir");
	page.sort = quarantine_sort(wa_query(r, "sort"));
	page.desc = strcmp(dir, "asc") != 0;
	tpl_set(r->vars, "sort", page.sort);
	tpl_set(r->vars, "dir", page.desc ? "desc" : "asc");
	tpl_set(r->vars, "flip", page.desc ? "asc" : "desc");
	enum store_wa_list what = STORE_WA_QUARANTINE;
	if (r->role == WA_USER) {
		what = STORE_WA_MY_QUARANTINE;
		page.scope = r->sess.address;
	}
	tpl_set(r->vars, "all", r->role >= WA_DOMAIN_ADMIN ? "1" : "");
	struct list_ctx c = { r, 0 };
	const char *error = NULL;
	int ret = store_wa_list(r->st, what, &page, quarantine_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "quarantine");
}

static bool parse_id(const char *s, int64_t *id_r)
{
	uint64_t v;
	if (s[0] == '\0' || str_to_u64(s, strlen(s), INT64_MAX, &v) < 0 || v == 0)
		return false;
	*id_r = (int64_t)v;
	return true;
}

struct q_item {
	struct wa_req *r;
	char account[330];
	bool found;
};

static void item_cb(const struct store_quarantine_item *it, void *ctx)
{
	struct q_item *q = ctx;
	struct tpl_vars *v = q->r->vars;
	q->found = true;
	snprintf(q->account, sizeof(q->account), "%s", it->account);
	tpl_setf(v, "id", "%" PRId64, it->id);
	tpl_set(v, "account", it->account);
	tpl_set(v, "received", it->received);
	tpl_set(v, "from", it->envelope_from[0] != '\0' ? it->envelope_from : "<>");
	tpl_set(v, "client_ip", it->client_ip);
	tpl_set(v, "reason", it->reason);
	tpl_setf(v, "score", "%.2f", it->score);
	tpl_set(v, "tests", it->tests);
	tpl_set(v, "subject", it->subject);
	tpl_setf(v, "size", "%" PRIu64, it->size);
}

/* May r see and act on a message held for account? Its owner, an
 * administrator, or a domain administrator of its domain. */
static bool quarantine_allowed(const struct wa_req *r, const char *account)
{
	if (r->role == WA_ADMIN || str_casecmp(account, r->sess.address) == 0)
		return true;
	return r->role == WA_DOMAIN_ADMIN && wa_address_allowed(r, account);
}

/* Text safe to put in a page: valid UTF-8 kept, other bytes and controls
 * but tab and newline replaced by '?'. */
static void sanitize(struct buf *out, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r')
			continue;
		if (c >= 0x80) {
			size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
			if (n > 0 && i + n <= len && wa_valid_text(s + i, n)) {
				buf_append(out, s + i, n);
				i += n - 1;
				continue;
			}
			buf_append(out, "?", 1);
		} else if (c < 0x20 && c != '\t' && c != '\n') {
			buf_append(out, "?", 1);
		} else {
			buf_append(out, s + i, 1);
		}
	}
	buf_append(out, "", 0);
}

static int show_quarantined(struct wa_req *r, int64_t id)
{
	struct q_item q = { .r = r };
	struct buf raw;
	buf_init(&raw, 0);
	const char *error = NULL;
	int ret = store_scan_quarantine_get(r->st, id, item_cb, &q, &raw, &error);
	if (ret == STORE_NOTFOUND || (ret == STORE_OK && !quarantine_allowed(r, q.account))) {
		buf_free(&raw);
		/* The same answer for another user's message as for none: ids
		 * tell nothing. */
		return wa_error(r, 404, "No such quarantined message (released or deleted since?).");
	}
	if (ret != STORE_OK) {
		buf_free(&raw);
		wa_store_fail(r, ret, error);
		return wa_render(r, "quarantine-message");
	}
	const char *data = raw.data != NULL ? raw.data : "";
	/* The header as it came, up to the first empty line. */
	const char *end = strstr(data, "\r\n\r\n");
	size_t hlen = end != NULL ? (size_t)(end - data) : raw.len;
	if (hlen > WA_QUARANTINE_HEAD_MAX)
		hlen = WA_QUARANTINE_HEAD_MAX;
	struct buf head;
	buf_init(&head, 0);
	sanitize(&head, data, hlen);
	tpl_set(r->vars, "headers", head.data);
	buf_free(&head);
	/* The body as text: text/plain parts decoded, HTML reduced to its
	 * text (mime_text_extract): no markup, image or link of the message
	 * ever reaches the browser as HTML. */
	struct mime_message *msg = mime_parse(data, raw.len, NULL);
	if (msg != NULL) {
		struct mime_text t;
		mime_text_init(&t);
		mime_text_extract(msg, WA_QUARANTINE_TEXT_MAX, &t);
		struct buf body;
		buf_init(&body, 0);
		sanitize(&body, t.body.data != NULL ? t.body.data : "", t.body.len);
		tpl_set(r->vars, "body", body.data);
		tpl_set(r->vars, "cut", t.complete ? "" : "1");
		buf_free(&body);
		mime_text_free(&t);
		mime_free(&msg);
	}
	buf_free(&raw);
	tpl_set(r->vars, "can_delete", "1");
	return wa_render(r, "quarantine-message");
}

static int get_quarantined(struct wa_req *r)
{
	int64_t id;
	if (!parse_id(wa_query(r, "id"), &id))
		return wa_error(r, 404, "No such quarantined message.");
	return show_quarantined(r, id);
}

static int post_quarantine(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *ids = wa_form(r, "id");
	const char *error = NULL;
	int64_t id;
	if (!parse_id(ids, &id)) {
		wa_fail(r, "No message chosen.");
		return show_quarantine(r);
	}
	struct q_item q = { .r = r };
	int ret = store_scan_quarantine_get(r->st, id, item_cb, &q, NULL, &error);
	if (ret == STORE_NOTFOUND || (ret == STORE_OK && !quarantine_allowed(r, q.account)))
		return wa_error(r, 404, "No such quarantined message (released or deleted since?).");
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return show_quarantine(r);
	}
	if (strcmp(action, "release") == 0) {
		/* What cairnctl quarantine release does: the store delivers it
		 * into the account's INBOX under a claim on the row. */
		char account[330];
		uint32_t uid = 0;
		ret = store_scan_quarantine_release(r->st, id, account, sizeof(account), &uid, &error);
		if (ret == STORE_OK) {
			wa_audit(r, "quarantine-release", account, "id=%s uid=%u", ids, uid);
			wa_notice(r, "Message %s released into the INBOX of %s.", ids, account);
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_scan_quarantine_delete(r->st, id, &error);
		if (ret == STORE_OK) {
			wa_audit(r, "quarantine-delete", q.account, "id=%s", ids);
			wa_notice(r, "Message %s deleted.", ids);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_quarantine(r);
}

/* Scan policy. */

static void effective_settings(struct wa_req *r)
{
	static const char *const sections[] = { "scan", "greylist", "dnsbl", "rules", "bayes",
						"clamd", "spamd", "rspamd", "milter", NULL };
	for (size_t s = 0; sections[s] != NULL; s++) {
		struct tpl_vars *sec = tpl_list_add(r->vars, "sections");
		tpl_set(sec, "name", sections[s]);
		for (const struct config_option *o = config_options; o->name != NULL; o++) {
			if (strcmp(o->section, sections[s]) != 0)
				continue;
			const char *p = (const char *)r->cfg + o->offset;
			struct tpl_vars *v = tpl_list_add(sec, "options");
			tpl_set(v, "name", o->name);
			tpl_set(v, "help", o->help);
			switch (o->type) {
			case CONFIG_STRING:
			case CONFIG_LISTEN: {
				const char *str = *(char *const *)(const void *)p;
				tpl_set(v, "value", str != NULL ? str : "");
				break;
			}
			case CONFIG_BOOL:
				tpl_set(v, "value", *(const bool *)(const void *)p ? "yes" : "no");
				break;
			case CONFIG_UINT:
			case CONFIG_SIZE:
				tpl_setf(v, "value", "%" PRIu64, *(const uint64_t *)(const void *)p);
				break;
			case CONFIG_DURATION:
				tpl_setf(v, "value", "%" PRIu64 "ms", *(const uint64_t *)(const void *)p);
				break;
			case CONFIG_ENUM: {
				unsigned i = *(const unsigned *)(const void *)p;
				tpl_set(v, "value", o->enum_values != NULL ? o->enum_values[i] : "");
				break;
			}
			}
		}
	}
}

static void threshold_text(double v, char *out, size_t size)
{
	if (isnan(v))
		snprintf(out, size, "%s", "");
	else if (isinf(v))
		snprintf(out, size, "off");
	else
		snprintf(out, size, "%g", v);
}

static void policy_row(const struct store_scan_policy *p, void *ctx)
{
	struct wa_req *r = ctx;
	if (!wa_address_allowed(r, p->target) && !wa_domain_allowed(r, p->target))
		return;
	struct tpl_vars *v = tpl_list_add(r->vars, "policies");
	char b[4][32];
	threshold_text(p->tag, b[0], sizeof(b[0]));
	threshold_text(p->junk, b[1], sizeof(b[1]));
	threshold_text(p->quarantine, b[2], sizeof(b[2]));
	threshold_text(p->reject, b[3], sizeof(b[3]));
	tpl_set(v, "target", p->target);
	tpl_set(v, "enabled", p->enabled < 0 ? "" : p->enabled ? "yes" : "no");
	tpl_set(v, "tag", b[0]);
	tpl_set(v, "junk", b[1]);
	tpl_set(v, "quarantine", b[2]);
	tpl_set(v, "reject", b[3]);
	tpl_set(v, "virus", p->virus_quarantine < 0 ? "" : p->virus_quarantine ? "quarantine" :
		"reject");
}

static int show_policy(struct wa_req *r)
{
	/* cairn.conf (socket paths, budgets) is an administrator's to see. */
	if (r->role == WA_ADMIN)
		effective_settings(r);
	tpl_set(r->vars, "policy_db", r->cfg->scan.policy_db ? "1" : "");
	const char *error = NULL;
	int ret = store_scan_policy_list(r->st, policy_row, r, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return wa_render(r, "scan-policy");
}

/* "" inherits (NAN), "off" never (INFINITY), else a score. */
static bool parse_threshold(const char *s, double *v)
{
	if (s[0] == '\0') {
		*v = NAN;
		return true;
	}
	if (strcmp(s, "off") == 0) {
		*v = INFINITY;
		return true;
	}
	char *end;
	double d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d) || d < -1000 || d > 1000)
		return false;
	*v = d;
	return true;
}

static int post_policy(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *target = wa_form(r, "target");
	const char *error = NULL;
	int ret = STORE_OK;
	bool domain = strchr(target, '@') == NULL;
	if (domain ? !wa_valid_domain(target) : !wa_valid_address(target)) {
		wa_fail(r, "Name a domain (example.org) or an address (ann@example.org).");
		return show_policy(r);
	}
	if (domain ? !wa_domain_allowed(r, target) : !wa_address_allowed(r, target))
		return wa_error(r, 403, "That domain is not yours to manage.");
	if (strcmp(action, "set") == 0) {
		struct store_scan_policy p;
		store_scan_policy_init(&p);
		snprintf(p.target, sizeof(p.target), "%s", target);
		const char *en = wa_form(r, "enabled"), *virus = wa_form(r, "virus");
		p.enabled = strcmp(en, "yes") == 0 ? 1 : strcmp(en, "no") == 0 ? 0 : -1;
		p.virus_quarantine = strcmp(virus, "quarantine") == 0 ? 1 :
				     strcmp(virus, "reject") == 0 ? 0 : -1;
		if ((en[0] != '\0' && p.enabled < 0) || (virus[0] != '\0' && p.virus_quarantine < 0) ||
		    !parse_threshold(wa_form(r, "tag"), &p.tag) ||
		    !parse_threshold(wa_form(r, "junk"), &p.junk) ||
		    !parse_threshold(wa_form(r, "quarantine"), &p.quarantine) ||
		    !parse_threshold(wa_form(r, "reject"), &p.reject)) {
			wa_fail(r, "A threshold is a score (-1000 to 1000), off, or empty to inherit.");
			return show_policy(r);
		}
		ret = store_scan_policy_set(r->st, &p, &error);
		if (ret == STORE_OK) {
			wa_audit(r, "scan-policy-set", target, "tag=%s junk=%s quarantine=%s reject=%s",
				 wa_form(r, "tag"), wa_form(r, "junk"), wa_form(r, "quarantine"),
				 wa_form(r, "reject"));
			wa_notice(r, "Scan policy of %s saved.", target);
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_scan_policy_delete(r->st, target, &error);
		if (ret == STORE_OK) {
			wa_audit(r, "scan-policy-delete", target, NULL);
			wa_notice(r, "Overrides of %s removed: it follows the wider settings again.",
				  target);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_policy(r);
}

const struct wa_route wa_routes_scan[] = {
	{ "/quarantine", "GET", WA_USER, show_quarantine, "Quarantine" },
	{ "/quarantine", "POST", WA_USER, post_quarantine, NULL },
	{ "/quarantine/message", "GET", WA_USER, get_quarantined, NULL },
	{ "/scan", "GET", WA_DOMAIN_ADMIN, show_policy, "Scan policy" },
	{ "/scan", "POST", WA_DOMAIN_ADMIN, post_policy, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
