/* Self-service for every user: the account and its quota, password change
 * (what POPPass did), and app passwords for mail and DAV clients (random,
 * shown once, stored hashed, revocable). */
#include "autoconf.h"
#include "wa.h"
#include "config.h"
#include "directory.h"
#include "password.h"
#include "store.h"
#include "store-directory.h"
#include "store-quota.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void account_source(const struct store_dir_account *a, void *ctx)
{
	struct wa_req *r = ctx;
	tpl_set(r->vars, "source", a->source);
	tpl_set(r->vars, "ldap", strcmp(a->source, "ldap") == 0 ? "1" : "");
}

static void app_row(const char *const *col, size_t n, void *ctx)
{
	struct wa_req *r = ctx;
	if (n < 4)
		return;
	struct tpl_vars *v = tpl_list_add(r->vars, "apps");
	tpl_set(v, "id", col[0]);
	tpl_set(v, "name", col[1]);
	tpl_set(v, "created", col[2]);
	tpl_set(v, "last_used", col[3][0] != '\0' ? col[3] : "never");
}

static int show_self(struct wa_req *r)
{
	const char *error = NULL;
	struct store_quota q;
	if (store_quota_account(r->st, r->sess.address, &q, &error) == STORE_OK) {
		char used[32], limit[32];
		wa_format_bytes(q.bytes, used, sizeof(used));
		tpl_set(r->vars, "used", used);
		tpl_setf(r->vars, "messages", "%" PRIu64, q.messages);
		if (q.limit_bytes > 0) {
			wa_format_bytes((uint64_t)q.limit_bytes, limit, sizeof(limit));
			tpl_set(r->vars, "quota", limit);
			uint64_t pct = q.bytes * 100 / (uint64_t)q.limit_bytes;
			tpl_setf(r->vars, "percent", "%" PRIu64, pct > 100 ? 100 : pct);
		}
	}
	store_dir_account_info(r->st, r->sess.address, account_source, r, &error);
	char secret[33];
	bool on = false;
	uint64_t last;
	if (store_wa_totp_get(r->st, r->sess.address, secret, &on, &last, &error) == STORE_OK) {
		if (on) {
			tpl_set(r->vars, "totp_on", "1");
		} else {
			/* Set up but not confirmed yet: show the secret again. */
			char *uri = xasprintf("otpauth://totp/Cairn:%s?secret=%s&issuer=Cairn",
					      r->sess.address, secret);
			struct buf svg;
			buf_init(&svg, 512 * 1024);
			wa_totp_qr_svg(uri, &svg);
			tpl_set(r->vars, "totp_pending", "1");
			tpl_set(r->vars, "totp_secret", secret);
			tpl_set(r->vars, "totp_uri", uri);
			tpl_set(r->vars, "totp_qr", svg.data != NULL ? svg.data : "");
			buf_free(&svg);
			free(uri);
		}
		explicit_bzero(secret, sizeof(secret));
	}
	int ret = store_wa_app_password_list(r->st, r->sess.address, app_row, r, &error);
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return wa_render(r, "self");
}

static int post_password(struct wa_req *r)
{
	const char *cur = wa_form(r, "current"), *next = wa_form(r, "new");
	const char *again = wa_form(r, "again");
	const char *error = NULL;
	struct dir_auth auth;
	if (strlen(next) < 8 || strlen(next) > 1024) {
		wa_fail(r, "The new password needs 8 to 1024 characters.");
	} else if (strcmp(next, again) != 0) {
		wa_fail(r, "The two new passwords differ.");
	} else if (dir_authenticate(r->dir, r->sess.address, cur, r->client_ip[0] ? r->client_ip : NULL,
				    &auth, &error) < 0 || auth.status == DIR_AUTH_TEMPFAIL) {
		r->status = 503;
		wa_fail(r, "The directory is unavailable; try again later.");
	} else if (auth.status != DIR_AUTH_OK) {
		wa_audit(r, "password-change-failed", r->sess.address, "wrong current password");
		wa_fail(r, "The current password is wrong.");
		r->status = 403;
	} else {
		char *hash = NULL;
		if (password_hash(next, &hash, &error) < 0) {
			wa_fail(r, "%s", error);
		} else {
			int ret = store_account_set_password(r->st, r->sess.address, hash, &error);
			free(hash);
			if (ret != STORE_OK) {
				wa_store_fail(r, ret, error);
			} else {
				store_wa_session_delete_others(r->st, r->sess.address, r->sid_hash, &error);
				wa_audit(r, "password-change", r->sess.address, NULL);
				wa_notice(r, "Password changed. Your other web sessions were ended.");
			}
		}
	}
	return show_self(r);
}

/* 20 random characters from an alphabet without look-alikes, in groups
 * of five: about 100 bits. */
static int new_app_password(char out[24])
{
	static const char alpha[] = "abcdefghjkmnpqrstuvwxyz23456789";
	char hex[41];
	if (wa_random_hex(hex, 20) < 0)
		return -1;
	size_t o = 0;
	for (size_t i = 0; i < 20; i++) {
		unsigned v = (unsigned)strtoul((char[]){ hex[2 * i], hex[2 * i + 1], '\0' }, NULL, 16);
		if (i > 0 && i % 5 == 0)
			out[o++] = '-';
		out[o++] = alpha[v % (sizeof(alpha) - 1)];
	}
	out[o] = '\0';
	return 0;
}

static int post_apps(struct wa_req *r)
{
	const char *action = wa_form(r, "action");
	const char *error = NULL;
	if (strcmp(action, "create") == 0) {
		const char *name = wa_form(r, "name");
		char pw[24];
		char *hash = NULL;
		uint64_t id;
		if (name[0] == '\0' || strlen(name) > 64) {
			wa_fail(r, "Name the app password (1 to 64 characters), e.g. \"phone\".");
		} else if (new_app_password(pw) < 0 || password_hash(pw, &hash, &error) < 0) {
			wa_fail(r, "Could not make a password.");
		} else {
			int ret = store_wa_app_password_add(r->st, r->sess.address, name, hash, &id,
							    &error);
			free(hash);
			if (ret != STORE_OK) {
				wa_store_fail(r, ret, error);
			} else {
				wa_audit(r, "app-password-add", r->sess.address, "name=%s", name);
				tpl_set(r->vars, "new_password", pw);
				tpl_set(r->vars, "new_name", name);
			}
			explicit_bzero(pw, sizeof(pw));
		}
	} else if (strcmp(action, "revoke") == 0) {
		uint64_t id;
		const char *ids = wa_form(r, "id");
		if (ids[0] == '\0' || str_to_u64(ids, strlen(ids), INT64_MAX, &id) < 0) {
			wa_fail(r, "No app password chosen.");
		} else {
			int ret = store_wa_app_password_del(r->st, r->sess.address, id, &error);
			if (ret != STORE_OK) {
				wa_store_fail(r, ret, error);
			} else {
				wa_audit(r, "app-password-revoke", r->sess.address, "id=%s", ids);
				wa_notice(r, "App password revoked.");
			}
		}
	} else {
		wa_fail(r, "Unknown action.");
	}
	return show_self(r);
}

static int post_totp(struct wa_req *r)
{
	const char *action = wa_form(r, "action"), *code = wa_form(r, "code");
	const char *error = NULL;
	char secret[33];
	bool on = false;
	uint64_t last, step;
	int ret = STORE_OK;
	if (strcmp(action, "begin") == 0) {
		if (wa_totp_new_secret(secret) < 0) {
			wa_fail(r, "Could not make a secret.");
		} else if ((ret = store_wa_totp_begin(r->st, r->sess.address, secret, &error)) ==
			   STORE_OK) {
			wa_notice(r, "Scan the QR code with your authenticator app, then enter a code to turn two-factor login on.");
		}
	} else if (strcmp(action, "confirm") == 0 || strcmp(action, "disable") == 0) {
		bool confirm = action[0] == 'c';
		ret = store_wa_totp_get(r->st, r->sess.address, secret, &on, &last, &error);
		if (ret == STORE_OK && (confirm ? on : !on)) {
			wa_fail(r, confirm ? "Two-factor login is on already." : "Two-factor login is not on.");
		} else if (ret == STORE_OK && (wa_totp_check(secret, code, &step) < 0 ||
					       store_wa_totp_use(r->st, r->sess.address, step,
								 &error) != STORE_OK)) {
			wa_fail(r, "Wrong or reused code.");
			r->status = 403;
		} else if (ret == STORE_OK && confirm) {
			wa_audit(r, "totp-on", r->sess.address, NULL);
			wa_notice(r, "Two-factor login is on: log in with your password and a code from now on.");
		} else if (ret == STORE_OK &&
			   (ret = store_wa_totp_delete(r->st, r->sess.address, &error)) == STORE_OK) {
			wa_audit(r, "totp-off", r->sess.address, NULL);
			wa_notice(r, "Two-factor login is off.");
		}
		explicit_bzero(secret, sizeof(secret));
	} else {
		wa_fail(r, "Unknown action.");
	}
	if (ret != STORE_OK)
		wa_store_fail(r, ret, error);
	return show_self(r);
}

const struct wa_route wa_routes_self[] = {
	{ "/self", "GET", WA_USER, show_self, "My account" },
	{ "/self/password", "POST", WA_USER, post_password, NULL },
	{ "/self/apps", "POST", WA_USER, post_apps, NULL },
	{ "/self/totp", "POST", WA_USER, post_totp, NULL },
	{ NULL, NULL, WA_ANON, NULL, NULL },
};
