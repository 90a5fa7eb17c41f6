/* DKIM verification (RFC 6376 section 6; rsa-sha256 and RFC 8463
 * ed25519-sha256) with OpenSSL: every DKIM-Signature of the message (up to
 * SCAN_AUTH_MAX_SIGS), its key from DNS (selector._domainkey.domain), the
 * body hash over the canonical body (l= honoured), the header hash over the
 * h= fields picked from the bottom up and the signature field with b=
 * emptied. Canonicalisation is the signer's proto/dkim_canon.c; tag parsing
 * proto/dkim_sig.c. ARC (arc.c) reuses dkim_verify_fields(). */
#include "autoconf.h"
#include "scan-auth.h"
#include "dkim-verify.h"
#include "config.h"
#include "dkim_canon.h"
#include "dkim_sig.h"
#include "dns.h"
#include "dns_packet.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DKIM_MAX_FIELDS 2000
#define DKIM_KEY_MAX 2048	/* decoded public key bytes (RSA 8192 fits) */
#define DKIM_SIG_MAX 1024	/* decoded signature bytes */

int dkim_fields_split(const char *raw, size_t size, struct dkim_field **fields_r, size_t *n_r,
		      size_t *body_r, const char **error_r)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof(*f));
	if (dkim_split_header(raw, size, f, DKIM_MAX_FIELDS, n_r, body_r, error_r) < 0) {
		free(f);
		*fields_r = NULL;
		return -1;
	}
	*fields_r = f;
	return 0;
}

/* The value of a field (after the colon) as a span. */
static void field_value(const struct dkim_field *f, const char **v, size_t *len)
{
	const char *colon = memchr(f->text, ':', f->len);
	*v = colon + 1;
	*len = f->len - (size_t)(*v - f->text);
	/* without the final CRLF */
	while (*len > 0 && ((*v)[*len - 1] == '\n' || (*v)[*len - 1] == '\r'))
		(*len)--;
}

static enum dkim_result fetch_key(struct scan_msg *msg, const struct dkim_signature *sig,
				  uint64_t deadline_ms, EVP_PKEY **pkey_r, bool *testing_r,
				  char *reason, size_t rsize);

enum dkim_result dkim_fetch_key(struct scan_msg *msg, const char *d, size_t d_len, const char *s,
				size_t s_len, enum dkim_sig_algo algo, uint64_t deadline_ms,
				EVP_PKEY **pkey_r, char *reason, size_t rsize)
{
	struct dkim_signature *sig = xcalloc(1, sizeof(*sig));
	sig->d = d;
	sig->d_len = d_len;
	sig->s = s;
	sig->s_len = s_len;
	sig->algo = algo;
	bool testing = false;
	enum dkim_result r = fetch_key(msg, sig, deadline_ms, pkey_r, &testing, reason, rsize);
	free(sig);
	return r;
}

/* Fetch and parse the key of d/s. DKIM_RESULT_PASS when usable. */
static enum dkim_result fetch_key(struct scan_msg *msg, const struct dkim_signature *sig,
				  uint64_t deadline_ms, EVP_PKEY **pkey_r, bool *testing_r,
				  char *reason, size_t rsize)
{
	*pkey_r = NULL;
	char name[600];
	snprintf(name, sizeof(name), "%.*s._domainkey.%.*s", (int)sig->s_len, sig->s,
		 (int)sig->d_len, sig->d);
	const char *err = NULL;
	struct dns_resolver *dns = scan_msg_dns(msg, deadline_ms, &err);
	if (dns == NULL) {
		snprintf(reason, rsize, "%s", err);
		return DKIM_RESULT_TEMPERROR;
	}
	struct dns_record recs[16];
	size_t n = 0;
	char error[256];
	enum dns_status st = dns_lookup(dns, name, DNS_TYPE_TXT, recs, 16, &n, error, sizeof(error));
	if (st == DNS_TEMPFAIL) {
		snprintf(reason, rsize, "key lookup: %.120s", error);
		return DKIM_RESULT_TEMPERROR;
	}
	enum dkim_result res = DKIM_RESULT_PERMERROR;
	snprintf(reason, rsize, "no key for signature");
	for (size_t i = 0; i < n; i++) {
		if (recs[i].type != DNS_TYPE_TXT)
			continue;
		struct dkim_key_record *key = xmalloc(sizeof(*key));
		const char *perr;
		if (memchr(recs[i].txt, '\0', recs[i].txt_len) != NULL ||
		    dkim_key_record_parse(recs[i].txt, recs[i].txt_len, key, &perr) < 0) {
			snprintf(reason, rsize, "bad key record");
			free(key);
			continue;
		}
		if (key->p_len == 0) {
			snprintf(reason, rsize, "key revoked");
			free(key);
			break;
		}
		if (key->ed25519 != (sig->algo == DKIM_SIG_ED25519_SHA256)) {
			snprintf(reason, rsize, "key type does not match a=");
			free(key);
			break;
		}
		if (!key->sha256_allowed) {
			snprintf(reason, rsize, "key does not allow sha256");
			free(key);
			break;
		}
		if (key->strict && sig->i != NULL) {
			const char *at = memchr(sig->i, '@', sig->i_len);
			size_t dl = sig->i_len - (size_t)(at + 1 - sig->i);
			if (!dkim_span_eq(at + 1, dl, sig->d, sig->d_len)) {
				snprintf(reason, rsize, "key t=s but i= is a subdomain of d=");
				free(key);
				break;
			}
		}
		unsigned char *der = xmalloc(DKIM_KEY_MAX);
		long dlen = dkim_base64_decode(key->p, key->p_len, der, DKIM_KEY_MAX);
		EVP_PKEY *pkey = NULL;
		if (dlen > 0 && key->ed25519) {
			if (dlen == 32)
				pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, 32);
		} else if (dlen > 0) {
			const unsigned char *p = der;
			pkey = d2i_PUBKEY(NULL, &p, dlen);
			if (pkey == NULL) {
				p = der;
				pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, dlen);
			}
			if (pkey != NULL && (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA ||
					     EVP_PKEY_get_bits(pkey) < 1024)) {
				snprintf(reason, rsize, "RSA key shorter than 1024 bits or not RSA");
				EVP_PKEY_free(pkey);
				pkey = NULL;
				free(der);
				*testing_r = key->testing;
				free(key);
				break;
			}
		}
		free(der);
		*testing_r = key->testing;
		free(key);
		if (pkey == NULL) {
			snprintf(reason, rsize, "unusable public key");
			break;
		}
		*pkey_r = pkey;
		res = DKIM_RESULT_PASS;
		break;
	}
	dns_records_free(recs, n);
	return res;
}

/* The canonical data of the header hash: the h= fields picked bottom-up,
 * then the signature field (index sigfield) with b= emptied and no CRLF. */
static void header_data(const struct dkim_field *fields, size_t nfields, size_t sigfield,
			const struct dkim_signature *sig, struct buf *out)
{
	bool *used = xcalloc(nfields > 0 ? nfields : 1, sizeof(*used));
	for (size_t h = 0; h < sig->nh; h++) {
		for (size_t k = nfields; k-- > 0;) {
			if (used[k] || fields[k].namelen != sig->h_len[h] ||
			    strncasecmp(fields[k].text, sig->h[h], sig->h_len[h]) != 0)
				continue;
			used[k] = true;
			if (sig->header_canon == DKIM_CANON_RELAXED)
				dkim_canon_header_relaxed(fields[k].text, fields[k].len, true, out);
			else
				dkim_canon_header_simple(fields[k].text, fields[k].len, true, out);
			break;
		}
	}
	free(used);
	/* the signature field, its b= value removed */
	const struct dkim_field *sf = &fields[sigfield];
	struct buf f;
	buf_init(&f, 0);
	dkim_strip_b(sf->text, sf->len, sig->b, sig->b_len, &f);
	if (sig->header_canon == DKIM_CANON_RELAXED)
		dkim_canon_header_relaxed(f.data, f.len, false, out);
	else
		dkim_canon_header_simple(f.data, f.len, false, out);
	buf_free(&f);
}

void dkim_strip_b(const char *text, size_t len, const char *bval, size_t blen, struct buf *out)
{
	/* RFC 6376 3.7: the b= value "including all surrounding whitespace"
	 * is deleted: from just after '=' to the next ';' or the field's end
	 * (its final line break kept for the canonicalisation to drop) */
	const char *start = bval, *end = bval + blen, *stop = text + len;
	while (start > text && start[-1] != '=')
		start--;
	while (end < stop && *end != ';')
		end++;
	if (end == stop) {
		while (end > bval + blen && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
	}
	buf_append(out, text, (size_t)(start - text));
	buf_append(out, end, (size_t)(stop - end));
}

int dkim_body_hash(const char *body, size_t len, enum dkim_canon canon, bool has_l, uint64_t l,
		   unsigned char hash[32])
{
	struct buf c;
	buf_init(&c, 0);
	if (canon == DKIM_CANON_RELAXED)
		dkim_canon_body_relaxed(body, len, &c);
	else
		dkim_canon_body_simple(body, len, &c);
	size_t n = c.len;
	if (has_l) {
		if (l > n) {
			buf_free(&c);
			return -1;
		}
		n = (size_t)l;
	}
	unsigned int hl = 0;
	EVP_Digest(c.data != NULL ? c.data : "", n, hash, &hl, EVP_sha256(), NULL);
	buf_free(&c);
	return 0;
}

int dkim_verify_data(EVP_PKEY *pkey, enum dkim_sig_algo algo, const char *data, size_t len,
		     const unsigned char *sigbytes, size_t siglen)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;
	if (algo == DKIM_SIG_ED25519_SHA256) {
		/* RFC 8463: PureEdDSA over the SHA-256 of the data */
		unsigned char h[32];
		unsigned int hl = 0;
		EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL);
		ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
		     EVP_DigestVerify(ctx, sigbytes, siglen, h, sizeof(h)) == 1;
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1 &&
		     EVP_DigestVerifyUpdate(ctx, data, len) == 1 &&
		     EVP_DigestVerifyFinal(ctx, sigbytes, siglen) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

enum dkim_result dkim_verify_field(struct scan_msg *msg, const struct dkim_field *fields,
				   size_t nfields, size_t sigfield, const char *body,
				   size_t body_len, bool arc, uint64_t deadline_ms,
				   struct scan_dkim_sig *out, struct dkim_signature *sig)
{
	memset(out, 0, sizeof(*out));
	const char *v;
	size_t vlen;
	field_value(&fields[sigfield], &v, &vlen);
	const char *perr;
	if (dkim_signature_parse(v, vlen, arc, sig, &perr) < 0) {
		snprintf(out->reason, sizeof(out->reason), "%s", perr);
		return out->result = DKIM_RESULT_NEUTRAL;
	}
	snprintf(out->domain, sizeof(out->domain), "%.*s", (int)sig->d_len, sig->d);
	for (char *p = out->domain; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
	snprintf(out->selector, sizeof(out->selector), "%.*s", (int)sig->s_len, sig->s);
	snprintf(out->algorithm, sizeof(out->algorithm), "%s",
		 sig->algo == DKIM_SIG_RSA_SHA256 ? "rsa-sha256" :
		 sig->algo == DKIM_SIG_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha1");
	size_t bp = 0;
	for (size_t i = 0; i < sig->b_len && bp < 8; i++) {
		char c = sig->b[i];
		if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '"' && c != '\\')
			out->b_prefix[bp++] = c;
	}
	out->b_prefix[bp] = '\0';
	if (sig->algo == DKIM_SIG_RSA_SHA1) {
		snprintf(out->reason, sizeof(out->reason), "rsa-sha1 is not accepted (RFC 8301)");
		return out->result = DKIM_RESULT_PERMERROR;
	}
	if (sig->has_x && (uint64_t)time(NULL) > sig->x) {
		snprintf(out->reason, sizeof(out->reason), "signature expired");
		return out->result = DKIM_RESULT_FAIL;
	}
	unsigned char bh[64], want[32];
	long bhl = dkim_base64_decode(sig->bh, sig->bh_len, bh, sizeof(bh));
	if (bhl != 32) {
		snprintf(out->reason, sizeof(out->reason), "bad bh=");
		return out->result = DKIM_RESULT_NEUTRAL;
	}
	if (dkim_body_hash(body, body_len, sig->body_canon, sig->has_l, sig->l, want) < 0) {
		snprintf(out->reason, sizeof(out->reason), "l= longer than the body");
		return out->result = DKIM_RESULT_FAIL;
	}
	if (memcmp(bh, want, 32) != 0) {
		snprintf(out->reason, sizeof(out->reason), "body hash mismatch");
		return out->result = DKIM_RESULT_FAIL;
	}
	EVP_PKEY *pkey = NULL;
	bool testing = false;
	enum dkim_result kr = fetch_key(msg, sig, deadline_ms, &pkey, &testing, out->reason,
					sizeof(out->reason));
	if (kr != DKIM_RESULT_PASS)
		return out->result = kr;
	unsigned char *sb = xmalloc(DKIM_SIG_MAX);
	long sl = dkim_base64_decode(sig->b, sig->b_len, sb, DKIM_SIG_MAX);
	struct buf data;
	buf_init(&data, 0);
	header_data(fields, nfields, sigfield, sig, &data);
	int ok = sl > 0 ? dkim_verify_data(pkey, sig->algo, data.data != NULL ? data.data : "",
					   data.len, sb, (size_t)sl) : -1;
	buf_free(&data);
	free(sb);
	EVP_PKEY_free(pkey);
	if (ok < 0) {
		snprintf(out->reason, sizeof(out->reason), "signature did not verify%s",
			 testing ? " (key in test mode)" : "");
		return out->result = DKIM_RESULT_FAIL;
	}
	snprintf(out->reason, sizeof(out->reason), "%s", testing ? "key in test mode" : "");
	return out->result = DKIM_RESULT_PASS;
}

/* ---- the module ---- */

static int dkim_init(const struct config *cfg, struct scan_module_settings *settings,
		     void **state_r, const char **error_r)
{
	(void)error_r;
	settings->enabled = cfg->scan.dkim || cfg->scan.dmarc;
	settings->order = SCAN_ORDER_AUTH + 10;
	*state_r = NULL;
	return 0;
}

static int dkim_reload(void *state, const struct config *cfg,
		       struct scan_module_settings *settings, const char **error_r)
{
	void *unused;
	(void)state;
	return dkim_init(cfg, settings, &unused, error_r);
}

static enum scan_mod_status dkim_run(void *state, struct scan_msg *msg, struct scan_result *result,
				     uint64_t deadline_ms)
{
	(void)state;
	struct scan_auth *a = scan_auth_get(msg);
	struct dkim_field *fields;
	size_t n, body;
	const char *err;
	a->dkim_done = true;
	if (dkim_fields_split(msg->raw, msg->size, &fields, &n, &body, &err) < 0) {
		/* a header DKIM cannot split: no signature can verify */
		a->nsigs = 0;
		return SCAN_MOD_OK;
	}
	struct dkim_signature *sig = xmalloc(sizeof(*sig));
	bool pass = false, fail = false, temp = false;
	for (size_t i = 0; i < n && a->nsigs < SCAN_AUTH_MAX_SIGS; i++) {
		if (!dkim_field_is(&fields[i], "DKIM-Signature"))
			continue;
		struct scan_dkim_sig *s = &a->sigs[a->nsigs++];
		dkim_verify_field(msg, fields, n, i, msg->raw + body, msg->size - body, false,
				  deadline_ms, s, sig);
		pass = pass || s->result == DKIM_RESULT_PASS;
		fail = fail || s->result == DKIM_RESULT_FAIL;
		temp = temp || s->result == DKIM_RESULT_TEMPERROR;
	}
	free(sig);
	free(fields);
	if (a->nsigs > 0)
		scan_result_add_test(result, "DKIM_SIGNED", 0.1, NULL);
	if (pass)
		scan_result_add_test(result, "DKIM_VALID", -0.1, "%s", a->sigs[0].domain);
	else if (fail)
		scan_result_add_test(result, "DKIM_INVALID", 0.1, NULL);
	if (temp && scan_remaining_ms(deadline_ms) == 0)
		return SCAN_MOD_TIMEOUT;
	return SCAN_MOD_OK;
}

const struct scan_module scan_module_dkim = {
	.name = "dkim", .init = dkim_init, .reload = dkim_reload, .run = dkim_run, .free = NULL,
};
