/* URLAUTH (RFC 4467): access keys (random bytes from OpenSSL, created on
 * first use with INSERT ... ON CONFLICT DO NOTHING and read back, so two
 * sessions racing to create one agree; reset by RESETKEY), the INTERNAL
 * verifier (HMAC-SHA256 over the URL rump), the checks URLFETCH and BURL
 * make before fetching, and the fetch of the bytes a URL names, shared
 * with CATENATE. */
#include "autoconf.h"
#include "store-urlauth.h"
#include "store-mail-private.h"

#include "imap_args.h"
#include "imap_parser.h"
#include "imap_url.h"
#include "mime.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int key_get(struct store *st, const char *id, unsigned char key_r[STORE_URLAUTH_KEY_LEN])
{
	PGresult *res;
	int ret = store_exec_prepared(st, STMT_URLAUTH_KEY_GET, &res, id);
	if (ret != STORE_OK)
		return ret;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return STORE_NOTFOUND;
	}
	const char *hex = PQgetvalue(res, 0, 0);
	if (strlen(hex) != 2 * STORE_URLAUTH_KEY_LEN) {
		PQclear(res);
		return store_fail(st, STORE_ERROR, "urlauth key of mailbox %s has the wrong length", id);
	}
	for (int i = 0; i < STORE_URLAUTH_KEY_LEN; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
		if (hi < 0 || lo < 0) {
			PQclear(res);
			return store_fail(st, STORE_ERROR, "urlauth key of mailbox %s is not hex", id);
		}
		key_r[i] = (unsigned char)(hi * 16 + lo);
	}
	PQclear(res);
	return STORE_OK;
}

int store_urlauth_key(struct store *st, uint64_t mailbox_id, bool create,
		      unsigned char key_r[STORE_URLAUTH_KEY_LEN], const char **error_r)
{
	char id[24];
	snprintf(id, sizeof(id), "%" PRIu64, mailbox_id);
	int ret = key_get(st, id, key_r);
	if (ret != STORE_NOTFOUND || !create)
		return mail_done(st, ret, error_r);
	unsigned char fresh[STORE_URLAUTH_KEY_LEN];
	char hex[2 * STORE_URLAUTH_KEY_LEN + 1];
	if (RAND_bytes(fresh, sizeof(fresh)) != 1)
		return mail_done(st, store_fail(st, STORE_ERROR, "RAND_bytes failed"), error_r);
	for (int i = 0; i < STORE_URLAUTH_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", fresh[i]);
	OPENSSL_cleanse(fresh, sizeof(fresh));
	ret = store_exec_prepared(st, STMT_URLAUTH_KEY_PUT, NULL, id, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	if (ret == STORE_OK)
		ret = key_get(st, id, key_r);
	return mail_done(st, ret, error_r);
}

int store_urlauth_reset(struct store *st, const char *address, uint64_t mailbox_id,
			const char **error_r)
{
	int ret;
	if (mailbox_id != 0) {
		char id[24];
		snprintf(id, sizeof(id), "%" PRIu64, mailbox_id);
		ret = store_exec_prepared(st, STMT_URLAUTH_RESET_ONE, NULL, id);
	} else {
		ret = store_exec_prepared(st, STMT_URLAUTH_RESET_ALL, NULL, address);
	}
	return mail_done(st, ret, error_r);
}

int store_url_fetch_part(struct store *st, uint64_t mailbox_id, const struct imap_url *u,
			 struct buf *out, const char **why_r)
{
	struct buf raw;
	buf_init(&raw, 0);
	const char *error = NULL;
	int r = store_fetch_raw(st, mailbox_id, u->uid, &raw, &error);
	if (r != STORE_OK) {
		buf_free(&raw);
		*why_r = r == STORE_NOTFOUND ? "No such message" : error != NULL ? error : "store failure";
		return r;
	}
	const char *data = raw.data != NULL ? raw.data : "";
	size_t len = raw.len;
	struct buf part;
	buf_init(&part, 0);
	struct mime_message *msg = NULL;
	struct imap_pool *pool = NULL;
	if (u->section != NULL) {
		/* The FETCH parser reads the section exactly as BODY[...]. */
		pool = imap_pool_create();
		char *att = imap_pool_printf(pool, "BODY.PEEK[%s]", u->section);
		struct imap_arg arg = { .type = IMAP_ARG_ATOM, .str = att, .len = strlen(att) };
		struct imap_fetch f;
		const char *perr = NULL;
		if (strchr(u->section, ']') != NULL ||
		    imap_fetch_parse(pool, &arg, NULL, false, &f, &perr) < 0 || f.body_count != 1) {
			*why_r = "Invalid section";
			r = STORE_INVALID;
			goto out;
		}
		msg = mime_parse(data, len, NULL);
		if (mime_section_fetch(msg, &f.bodies[0].section, &part) < 0) {
			*why_r = "No such section";
			r = STORE_NOTFOUND;
			goto out;
		}
		data = part.data != NULL ? part.data : "";
		len = part.len;
	}
	if (u->partial) {
		size_t off = u->partial_offset < len ? u->partial_offset : len;
		size_t n = len - off;
		if (u->partial_length != 0 && u->partial_length < n)
			n = u->partial_length;
		data += off;
		len = n;
	}
	if (buf_append(out, data, len) < 0) {
		*why_r = "Message too big";
		r = STORE_URL_TOOBIG;
	}
out:
	mime_free(&msg);
	imap_pool_destroy(&pool);
	buf_free(&part);
	buf_free(&raw);
	return r;
}

int store_urlauth_sign(struct store *st, uint64_t mailbox_id, bool create, const char *rump,
		       size_t rump_len, char token_r[65], const char **error_r)
{
	unsigned char key[STORE_URLAUTH_KEY_LEN], mac[EVP_MAX_MD_SIZE];
	unsigned mac_len = 0;
	int r = store_urlauth_key(st, mailbox_id, create, key, error_r);
	if (r != STORE_OK)
		return r;
	if (HMAC(EVP_sha256(), key, sizeof(key), (const unsigned char *)rump, rump_len, mac,
		 &mac_len) == NULL || mac_len != 32) {
		OPENSSL_cleanse(key, sizeof(key));
		return mail_done(st, store_fail(st, STORE_ERROR, "HMAC-SHA256 failed"), error_r);
	}
	OPENSSL_cleanse(key, sizeof(key));
	for (unsigned i = 0; i < 32; i++)
		snprintf(token_r + 2 * i, 3, "%02x", mac[i]);
	return STORE_OK;
}

int store_urlauth_fetch(struct store *st, const char *hostname, const char *url, size_t len,
			enum store_urlauth_role role, const char *requester, int64_t now,
			struct buf *out, const char **why_r)
{
	struct imap_url u;
	if (imap_url_parse(url, len, &u, why_r) < 0)
		return STORE_NOTFOUND;
	int r = STORE_NOTFOUND;
	bool allowed = false;
	switch (u.access) {
	case IMAP_URL_ACCESS_ANONYMOUS:
	case IMAP_URL_ACCESS_AUTHUSER:
		allowed = true;
		break;
	case IMAP_URL_ACCESS_USER:
		allowed = role == STORE_URLAUTH_USER && str_casecmp(u.access_user, requester) == 0;
		break;
	case IMAP_URL_ACCESS_SUBMIT:
		allowed = role == STORE_URLAUTH_SUBMIT && str_casecmp(u.access_user, requester) == 0;
		break;
	case IMAP_URL_ACCESS_NONE:
		break;
	}
	if (u.access == IMAP_URL_ACCESS_NONE || u.mechanism == NULL) {
		*why_r = "Not a URLAUTH-authorized URL";
	} else if (u.form != IMAP_URL_ABSOLUTE || u.user == NULL || u.mailbox == NULL || u.uid == 0) {
		*why_r = "URLAUTH URL must be absolute with a user, a mailbox and a UID";
	} else if (str_casecmp(u.host, hostname) != 0) {
		*why_r = "URL names another server";
	} else if (!allowed) {
		*why_r = "Access identifier does not allow this requester";
	} else if (u.expire_set && u.expire <= now) {
		*why_r = "URL expired";
	} else if (str_casecmp(u.mechanism, "INTERNAL") != 0) {
		*why_r = "Unknown URLAUTH mechanism";
	} else {
		struct store_mailbox_info info;
		const char *error = NULL;
		char want[65];
		r = store_mailbox_open(st, u.user, imap_mailbox_normalize(u.mailbox), &info, &error);
		if (r == STORE_OK && (info.noselect ||
				      (u.uidvalidity != 0 && u.uidvalidity != info.uidvalidity)))
			r = STORE_NOTFOUND;
		if (r == STORE_OK)
			r = store_urlauth_sign(st, info.id, false, url, u.rump_len, want, &error);
		if (r == STORE_OK) {
			char got[65];
			size_t tl = strlen(u.token);
			for (size_t i = 0; i < 64 && i < tl; i++)
				got[i] = (char)((u.token[i] >= 'A' && u.token[i] <= 'F') ?
						u.token[i] + 32 : u.token[i]);
			got[tl < 64 ? tl : 64] = '\0';
			if (tl != 64 || CRYPTO_memcmp(got, want, 64) != 0) {
				*why_r = "Verifier does not match";
				r = STORE_NOTFOUND;
			} else {
				r = store_url_fetch_part(st, info.id, &u, out, why_r);
				if (r == STORE_INVALID)
					r = STORE_NOTFOUND;
			}
		} else if (r == STORE_NOTFOUND) {
			*why_r = "No such mailbox or no key";
		} else {
			*why_r = error;
		}
	}
	imap_url_free(&u);
	return r;
}
