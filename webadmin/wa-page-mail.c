/* Mail pages for administrators: the outbound queue (list, one message's
 * headers and recipients, retry, drop: the store functions cairnctl queue
 * uses), DKIM keys with the DNS records to publish, and shared and public
 * folders with their RFC 4314 ACLs (the imap_acl rules IMAP SETACL uses). */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "dkim.h"
#include "imap_acl.h"
#include "store.h"
#include "store-acl.h"
#include "store-dkim.h"
#include "store-mail.h"
#include "store-queue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WA_QUEUE_HEAD_MAX 65536

struct list_ctx {
	struct wa_req *r;
	size_t rows;
};

/* Queue. */
static void queue_row(const char *const *col, size_t n, void *ctx)
{
	struct list_ctx *c = ctx;
	if (n < 7 || ++c->rows > c->r->cfg->webadmin.page_size)
		return;
	struct tpl_vars *v = tpl_list_add(c->r->vars, "rows");
	char size[32];
	wa_format_bytes(strtoull(col[2], NULL, 10), size, sizeof(size));
	tpl_set(v, "id", col[0]);
	tpl_set(v, "from", col[1][0] != '\0' ? col[1] : "<>");
	tpl_set(v, "size", size);
	tpl_set(v, "created", col[3]);
	tpl_set(v, "count", col[4]);
	tpl_set(v, "rcpts", col[5]);
	tpl_set(v, "error", col[6]);
}

static int show_queue(struct wa_req *r)
{
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct list_ctx c = { r, 0 };
	const char *error = NULL;
	uint64_t msgs = 0, rcpts = 0, oldest = 0;
	if (store_queue_stats(r->st, &msgs, &rcpts, &oldest, &error) == STORE_OK) {
		tpl_setf(r->vars, "messages", "%" PRIu64, msgs);
		tpl_setf(r->vars, "recipients", "%" PRIu64, rcpts);
		tpl_setf(r->vars, "oldest", "%" PRIu64 " min", oldest / 60);
	}
	int ret = store_wa_list(r->st, STORE_WA_QUEUE, &page, queue_row, &c, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	wa_page_done(r, &page, c.rows);
	return wa_render(r, "queue");
}

static void rcpt_row(const struct store_queue_row *row, void *ctx)
{
	struct wa_req *r = ctx;
	struct tpl_vars *v = tpl_list_add(r->vars, "rcpts");
	tpl_set(v, "rcpt", row->rcpt);
	tpl_set(v, "state", row->state);
	tpl_set(v, "attempts", row->attempts);
	tpl_set(v, "next", row->next_attempt);
	tpl_set(v, "error", row->last_error);
	tpl_set(r->vars, "from", row->from[0] != '\0' ? row->from : "<>");
	tpl_set(r->vars, "created", row->created);
	tpl_set(r->vars, "size", row->size);
}

static int show_message(struct wa_req *r, uint64_t id)
{
	const char *error = NULL;
	tpl_setf(r->vars, "id", "%" PRIu64, id);
	char *head = NULL;
	size_t len = 0;
	int ret = store_wa_queue_head(r->st, id, WA_QUEUE_HEAD_MAX, &head, &len, &error);
	if (ret == STORE_NOTFOUND)
		return wa_error(r, 404, "No such queued message (delivered or dropped since?).");
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return wa_render(r, "queue-message");
	}
	/* The header only: up to the first empty line. Not valid UTF-8?
	 * Replace what is not, so the page stays well-formed. */
	char *end = strstr(head, "\r\n\r\n");
	if (end != NULL)
		*end = '\0';
	for (char *c = head; *c != '\0'; c++)
		if ((unsigned char)*c >= 0x80 || ((unsigned char)*c < 0x20 && *c != '\r' && *c != '\n' &&
						 *c != '\t'))
			*c = '?';
	tpl_set(r->vars, "headers", head);
	free(head);
	ret = store_queue_list(r->st, id, rcpt_row, r, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return wa_render(r, "queue-message");
}

static bool parse_id(const char *s, uint64_t *id_r)
{
	return s[0] != '\0' && str_to_u64(s, strlen(s), INT64_MAX, id_r) == 0 && *id_r > 0;
}

static int get_message(struct wa_req *r)
{
	uint64_t id;
	if (!parse_id(wa_query(r, "id"), &id))
		return wa_error(r, 404, "No such queued message.");
	return show_message(r, id);
}

static int post_queue(struct wa_req *r)
{
	const char *action = wa_form(r, "action");
	const char *error = NULL;
	uint64_t id;
	if (!parse_id(wa_form(r, "id"), &id)) {
		wa_fail(r, "No message chosen.");
		return show_queue(r);
	}
	if (strcmp(action, "retry") == 0) {
		uint64_t count = 0;
		int ret = store_queue_flush(r->st, id, &count, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "queue-retry", wa_form(r, "id"), "recipients=%" PRIu64, count);
			wa_notice(r, "Message %" PRIu64 ": %" PRIu64 " recipients due now.", id, count);
		}
		return show_message(r, id);
	} else if (strcmp(action, "drop") == 0) {
		int ret = store_queue_drop(r->st, id, &error);
		if (ret != STORE_OK) {
			wa_store_fail(r, ret, error);
		} else {
			wa_audit(r, "queue-drop", wa_form(r, "id"), NULL);
			wa_notice(r, "Message %" PRIu64 " dropped without a bounce.", id);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	return show_queue(r);
}

/* DKIM. TXT character-strings hold at most 255 octets (RFC 1035 3.3). */
static void dns_record(struct buf *out, const char *domain, const char *selector, const char *txt)
{
	buf_printf(out, "%s._domainkey.%s. IN TXT (", selector, domain);
	for (const char *c = txt; *c != '\0';) {
		size_t n = strlen(c) > 255 ? 255 : strlen(c);
		buf_printf(out, " \"%.*s\"", (int)n, c);
		c += n;
	}
	buf_append_str(out, " )");
}

static int show_dkim(struct wa_req *r)
{
	struct store_dkim_key *keys = NULL;
	size_t count = 0;
	char error[512];
	int ret = store_dkim_keys_list(r->st, NULL, &keys, &count, error, sizeof(error));
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return wa_render(r, "dkim");
	}
	for (size_t i = 0; i < count; i++) {
		struct tpl_vars *v = tpl_list_add(r->vars, "keys");
		tpl_set(v, "domain", keys[i].domain);
		tpl_set(v, "selector", keys[i].selector);
		tpl_set(v, "algorithm", keys[i].algorithm);
		tpl_set(v, "created", keys[i].created);
		tpl_set(v, "active", keys[i].active ? "1" : "");
		struct dkim_key *k = dkim_key_load(keys[i].domain, keys[i].selector,
						   keys[i].private_pem, error, sizeof(error));
		char *txt = k != NULL ? dkim_key_txt(k, error, sizeof(error)) : NULL;
		if (txt != NULL) {
			struct buf b;
			buf_init(&b, 0);
			dns_record(&b, keys[i].domain, keys[i].selector, txt);
			tpl_set(v, "record", b.data);
			buf_free(&b);
			free(txt);
		} else {
			tpl_set(v, "record_error", error);
		}
		dkim_key_free(k);
	}
	store_dkim_keys_free(keys, count);
	return wa_render(r, "dkim");
}

static bool valid_selector(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (const char *c = s; *c != '\0'; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '-'))
			return false;
	return true;
}

static int post_dkim(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *domain = wa_form(r, "domain");
	const char *selector = wa_form(r, "selector");
	char error[512];
	int ret = STORE_OK;
	if (!wa_valid_domain(domain)) {
		wa_fail(r, "Not a valid domain name.");
		return show_dkim(r);
	}
	if (strcmp(action, "generate") == 0) {
		enum dkim_algo algo;
		char defsel[64];
		if (dkim_algo_parse(wa_form(r, "algorithm"), &algo) < 0) {
			wa_fail(r, "Choose rsa or ed25519.");
			return show_dkim(r);
		}
		if (selector[0] == '\0') {
			dkim_default_selector(algo, time(NULL), defsel, sizeof(defsel));
			selector = defsel;
		}
		if (!valid_selector(selector)) {
			wa_fail(r, "A selector is lower-case letters, digits and '-'.");
			return show_dkim(r);
		}
		char *pem = NULL, *txt = NULL;
		if (dkim_keygen(algo, 0, &pem, &txt, error, sizeof(error)) < 0) {
			wa_fail(r, "%s", error);
			return show_dkim(r);
		}
		ret = store_dkim_key_add(r->st, domain, selector, dkim_algo_name(algo), pem, true,
					 error, sizeof(error));
		explicit_bzero(pem, strlen(pem));
		free(pem);
		free(txt);
		if (ret == STORE_OK) {
			wa_audit(r, "dkim-generate", domain, "selector=%s", selector);
			wa_notice(r, "Key %s for %s generated: publish its record below.", selector, domain);
		}
	} else if (!valid_selector(selector)) {
		wa_fail(r, "Not a valid selector.");
	} else if (strcmp(action, "activate") == 0 || strcmp(action, "deactivate") == 0) {
		bool on = action[0] == 'a';
		ret = store_dkim_key_set_active(r->st, domain, selector, on, error, sizeof(error));
		if (ret == STORE_OK) {
			wa_audit(r, on ? "dkim-activate" : "dkim-deactivate", domain, "selector=%s",
				 selector);
			wa_notice(r, "Key %s %s.", selector, on ? "activated" : "deactivated");
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_dkim_key_delete(r->st, domain, selector, error, sizeof(error));
		if (ret == STORE_OK) {
			wa_audit(r, "dkim-delete", domain, "selector=%s", selector);
			wa_notice(r, "Key %s deleted.", selector);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_dkim(r);
}

/* Shared folders. The list of rights given is paged by entry (the page
 * shows page_size ACL entries; store_acl_list_all reads them all in one
 * statement, which is cheap next to rendering them). */
struct folder_page {
	struct wa_req *r;
	uint64_t skip, seen, shown, limit;
};

static void folder_row(const struct store_acl_box *box, void *ctx)
{
	struct folder_page *fp = ctx;
	struct wa_req *r = fp->r;
	uint64_t first = fp->seen;
	fp->seen += box->acl_count;
	if (box->acl_count == 0 || fp->seen <= fp->skip || fp->shown >= fp->limit)
		return;
	struct tpl_vars *v = tpl_list_add(r->vars, "folders");
	struct buf name;
	buf_init(&name, 0);
	store_acl_external_name(box, box->name, &name);
	tpl_set(v, "mailbox", name.data);
	buf_free(&name);
	for (size_t i = 0; i < box->acl_count; i++) {
		if (first + i < fp->skip || fp->shown >= fp->limit)
			continue;
		fp->shown++;
		struct tpl_vars *e = tpl_list_add(v, "acl");
		tpl_set(e, "identifier", box->acl[i].identifier);
		tpl_set(e, "rights", box->acl[i].rights);
	}
}

static void public_row(const struct store_mailbox_info *info, void *ctx)
{
	struct wa_req *r = ctx;
	struct tpl_vars *v = tpl_list_add(r->vars, "public");
	tpl_setf(v, "mailbox", STORE_NS_SHARED "/%s", info->name);
}

static int show_folders(struct wa_req *r)
{
	const char *error = NULL;
	int ret = store_acl_public_ensure(r->st, &error);
	if (ret == STORE_OK)
		ret = store_mailbox_list(r->st, STORE_PUBLIC_OWNER, public_row, r, &error);
	struct store_wa_page page;
	wa_page_setup(r, &page);
	struct folder_page fp = { r, page.offset, 0, 0, r->cfg->webadmin.page_size };
	if (ret == STORE_OK)
		ret = store_acl_list_all(r->st, folder_row, &fp, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	tpl_set(r->vars, "has_next", fp.seen > fp.skip + fp.shown ? "1" : "");
	tpl_set(r->vars, "has_prev", page.offset > 0 ? "1" : "");
	return wa_render(r, "folders");
}

/* The folder as the form names it: "Shared/NAME" or "Other Users/ADDRESS/
 * NAME", resolved like cairnctl acl does (as the admin: no user). */
static int open_folder(struct wa_req *r, const char *mailbox, struct store_acl_box *box)
{
	const char *error = NULL;
	if (mailbox[0] == '\0' || strlen(mailbox) > 1000) {
		wa_fail(r, "Name a folder: Shared/NAME or Other Users/ADDRESS/NAME.");
		return -1;
	}
	int ret = store_acl_lookup(r->st, NULL, mailbox, box, &error);
	if (ret != STORE_OK) {
		wa_store_fail(r, ret, error);
		return -1;
	}
	if (!box->exists) {
		store_acl_box_free(box);
		wa_fail(r, "No such folder (use Shared/NAME or Other Users/ADDRESS/NAME).");
		r->status = 404;
		return -1;
	}
	return 0;
}

static int post_folders(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *mailbox = wa_form(r, "mailbox");
	const char *error = NULL;
	int ret = STORE_OK;
	if (strcmp(action, "create") == 0) {
		const char *name = wa_form(r, "name");
		uint64_t id;
		if (name[0] == '\0' || strlen(name) > 200 || strchr(name, '/') == name) {
			wa_fail(r, "Name the public folder.");
		} else if ((ret = store_acl_public_ensure(r->st, &error)) == STORE_OK &&
			   (ret = store_mailbox_create(r->st, STORE_PUBLIC_OWNER, name, NULL, &id,
						       &error)) == STORE_OK) {
			wa_audit(r, "folder-create", name, NULL);
			wa_notice(r, "Public folder Shared/%s created.", name);
		}
		if (ret != STORE_OK)
			wa_store_fail(r, ret, error);
		return show_folders(r);
	}
	char id[STORE_ACL_IDENTIFIER_MAX + 1];
	const char *ident = wa_form(r, "identifier");
	if (imap_acl_identifier_parse(ident, strlen(ident), id, sizeof(id)) < 0) {
		wa_fail(r, "Not a valid identifier: anyone, authenticated, an address or "
			   "$group@domain, optionally preceded by -.");
		return show_folders(r);
	}
	struct store_acl_box box;
	if (open_folder(r, mailbox, &box) < 0)
		return show_folders(r);
	if (strcmp(action, "set") == 0) {
		char mode;
		unsigned bits;
		const char *rights = wa_form(r, "rights");
		const char *bare = id[0] == '-' ? id + 1 : id;
		if (imap_acl_rights_parse(rights, &mode, &bits) < 0) {
			wa_fail(r, "Not valid rights: letters of lrswipkxtea (c, d), optionally after + or -.");
		} else if (box.ns != STORE_NS_PUBLIC && strcmp(bare, box.owner) == 0) {
			wa_fail(r, "%s owns this folder and always has every right.", box.owner);
		} else {
			struct buf letters;
			buf_init(&letters, 0);
			imap_acl_rights_write(&letters, bits, false);
			ret = store_acl_modify(r->st, box.info.id, id, mode,
					       letters.data != NULL ? letters.data : "", &error);
			buf_free(&letters);
			if (ret == STORE_OK) {
				wa_audit(r, "acl-set", mailbox, "%s %s", id, rights);
				wa_notice(r, "Rights of %s on %s changed.", id, mailbox);
			}
		}
	} else if (strcmp(action, "delete") == 0) {
		ret = store_acl_delete(r->st, box.info.id, id, &error);
		if (ret == STORE_OK) {
			wa_audit(r, "acl-delete", mailbox, "%s", id);
			wa_notice(r, "Entry of %s on %s removed.", id, mailbox);
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	store_acl_box_free(&box);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_folders(r);
}

const struct wa_route wa_routes_mail[] = {
	{ "/folders", "GET", WA_ADMIN, show_folders, "Shared folders" },
	{ "/folders", "POST", WA_ADMIN, post_folders, NULL },
	{ "/queue", "GET", WA_ADMIN, show_queue, "Queue" },
	{ "/queue", "POST", WA_ADMIN, post_queue, NULL },
	{ "/queue/message", "GET", WA_ADMIN, get_message, NULL },
	{ "/dkim", "GET", WA_ADMIN, show_dkim, "DKIM" },
	{ "/dkim", "POST", WA_ADMIN, post_dkim, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
