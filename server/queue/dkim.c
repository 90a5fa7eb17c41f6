/* DKIM signing (RFC 6376) with rsa-sha256 and ed25519-sha256 (RFC 8463),
 * always c=relaxed/relaxed, and key generation for `cairnctl dkim keygen`.
 * Canonicalisation is proto/dkim_canon.c; this file chooses the header
 * fields, builds the DKIM-Signature field and does the cryptography. */
#include "autoconf.h"
#include "dkim.h"
#include "dkim_canon.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Header fields a message may carry at most for signing. */
#define DKIM_MAX_FIELDS 1000
/* DKIM-Signature lines are folded before this column. */
#define DKIM_LINE 76

struct dkim_key {
	char *domain;
	char *selector;
	enum dkim_algo algo;
	EVP_PKEY *pkey;
};

/* The fields signed when present, in h= order (RFC 6376 section 5.4.1's
 * recommendations plus the MIME and list fields whose change alters what a
 * reader sees). Each is listed as often as it occurs; From once more, so a
 * second From added in transit breaks the signature (section 8.15). */
static const char *const signed_fields[] = {
	"From", "Reply-To", "Subject", "Date", "To", "Cc", "Message-ID", "In-Reply-To",
	"References", "Sender", "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
	"Content-ID", "Content-Description", "Resent-Date", "Resent-From", "Resent-Sender",
	"Resent-To", "Resent-Cc", "Resent-Message-ID", "List-Id", "List-Help",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Subscribe", "List-Post",
	"List-Owner", "List-Archive",
};

const char *dkim_algo_name(enum dkim_algo algo)
{
	return algo == DKIM_ED25519_SHA256 ? "ed25519-sha256" : "rsa-sha256";
}

void dkim_default_selector(enum dkim_algo algo, time_t now, char *buf, size_t size)
{
	struct tm tm;
	gmtime_r(&now, &tm);
	snprintf(buf, size, "%s-%04d%02d%02d", algo == DKIM_RSA_SHA256 ? "rsa" : "ed25519",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

int dkim_algo_parse(const char *name, enum dkim_algo *algo_r)
{
	if (str_casecmp(name, "rsa") == 0 || str_casecmp(name, "rsa-sha256") == 0)
		*algo_r = DKIM_RSA_SHA256;
	else if (str_casecmp(name, "ed25519") == 0 || str_casecmp(name, "ed25519-sha256") == 0)
		*algo_r = DKIM_ED25519_SHA256;
	else
		return -1;
	return 0;
}

/* Format error with OpenSSL's last error appended (and drain its queue). */
static void ssl_error(char *error, size_t errlen, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void ssl_error(char *error, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(error, errlen, fmt, ap);
	va_end(ap);
	unsigned long e = ERR_get_error();
	if (e != 0 && n >= 0 && (size_t)n < errlen) {
		char text[256];
		ERR_error_string_n(e, text, sizeof(text));
		snprintf(error + n, errlen - (size_t)n, ": %s", text);
	}
	ERR_clear_error();
}

/* A DNS name of LDH labels (RFC 6376 sub-domain): what d= and s= may hold,
 * so nothing can break out of the tag list. */
static bool dns_name_ok(const char *name)
{
	size_t len = strlen(name), label = 0;
	if (len == 0 || len > 253)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		if (c == '.') {
			if (label == 0 || name[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && !(c == '-' && label > 0))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0 && name[len - 1] != '-';
}

struct dkim_key *dkim_key_load(const char *domain, const char *selector, const char *pem,
			       char *error, size_t errlen)
{
	if (!dns_name_ok(domain)) {
		snprintf(error, errlen, "DKIM domain '%s' is not a valid domain name", domain);
		return NULL;
	}
	if (!dns_name_ok(selector)) {
		snprintf(error, errlen, "DKIM selector '%s' is not a valid selector", selector);
		return NULL;
	}
	BIO *bio = BIO_new_mem_buf(pem, -1);
	if (bio == NULL) {
		ssl_error(error, errlen, "DKIM key %s._domainkey.%s", selector, domain);
		return NULL;
	}
	EVP_PKEY *pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (pkey == NULL) {
		ssl_error(error, errlen, "DKIM key %s._domainkey.%s: not a PEM private key",
			  selector, domain);
		return NULL;
	}
	enum dkim_algo algo;
	int id = EVP_PKEY_get_base_id(pkey);
	if (id == EVP_PKEY_RSA) {
		algo = DKIM_RSA_SHA256;
		/* RFC 8301 section 3.2: signers MUST use at least 1024 bits. */
		if (EVP_PKEY_get_bits(pkey) < 1024) {
			snprintf(error, errlen, "DKIM key %s._domainkey.%s: RSA key of %d bits, "
				 "at least 1024 are required", selector, domain, EVP_PKEY_get_bits(pkey));
			EVP_PKEY_free(pkey);
			return NULL;
		}
	} else if (id == EVP_PKEY_ED25519) {
		algo = DKIM_ED25519_SHA256;
	} else {
		snprintf(error, errlen, "DKIM key %s._domainkey.%s: neither RSA nor Ed25519",
			 selector, domain);
		EVP_PKEY_free(pkey);
		return NULL;
	}
	struct dkim_key *k = xcalloc(1, sizeof(*k));
	k->domain = xstrdup(domain);
	k->selector = xstrdup(selector);
	k->algo = algo;
	k->pkey = pkey;
	return k;
}

void dkim_key_free(struct dkim_key *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k->domain);
	free(k->selector);
	free(k);
}

enum dkim_algo dkim_key_algo(const struct dkim_key *k)
{
	return k->algo;
}

/* Base64 of data, malloc'ed. */
static char *base64(const unsigned char *data, size_t len)
{
	char *out = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

/* Appends tags to the DKIM-Signature field, folding between tags (and
 * inside long values at safe places) so lines stay under DKIM_LINE. */
struct folder {
	struct buf *out;
	size_t col;
};

static void fold(struct folder *f)
{
	buf_append_str(f->out, "\r\n\t");
	f->col = 8;
}

/* One "tag=value;" with a space before it, or a fold when it does not fit.
 * breaks: characters after which the value may be folded (h= at ':'). */
static void put_tag(struct folder *f, const char *tag, const char *value, char brk, bool last)
{
	size_t need = strlen(tag) + 1 + strlen(value) + 2;
	if (f->col + need > DKIM_LINE)
		fold(f);
	else {
		buf_append_str(f->out, " ");
		f->col++;
	}
	buf_printf(f->out, "%s=", tag);
	f->col += strlen(tag) + 1;
	const char *p = value;
	while (*p != '\0') {
		/* The next piece: up to and including the next break char. */
		size_t n = strlen(p);
		if (brk != '\0') {
			const char *b = strchr(p, brk);
			if (b != NULL)
				n = (size_t)(b - p) + 1;
		}
		if (f->col + n > DKIM_LINE && f->col > 8 + strlen(tag) + 1)
			fold(f);
		buf_append(f->out, p, n);
		f->col += n;
		p += n;
	}
	if (!last) {
		buf_append_str(f->out, ";");
		f->col++;
	}
}

int dkim_sign(const struct dkim_key *k, const char *msg, size_t len, time_t now, struct buf *out,
	      char *error, size_t errlen)
{
	struct dkim_field *fields = xmalloc(DKIM_MAX_FIELDS * sizeof(*fields));
	bool *used = xcalloc(DKIM_MAX_FIELDS, sizeof(*used));
	struct buf data, hlist, sig;
	buf_init(&data, 0);
	buf_init(&hlist, 0);
	buf_init(&sig, 0);
	EVP_MD_CTX *md = NULL;
	char *bh = NULL, *b = NULL;
	unsigned char *sigbytes = NULL;
	int ret = -1;
	size_t count, body;
	const char *perr;

	if (dkim_split_header(msg, len, fields, DKIM_MAX_FIELDS, &count, &body, &perr) < 0) {
		snprintf(error, errlen, "%s", perr);
		goto out;
	}

	/* bh=: the relaxed body's SHA-256. */
	dkim_canon_body_relaxed(msg + body, len - body, &data);
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned int hashlen = 0;
	if (EVP_Digest(data.data != NULL ? data.data : "", data.len, hash, &hashlen, EVP_sha256(),
		       NULL) != 1) {
		ssl_error(error, errlen, "DKIM: body hash");
		goto out;
	}
	bh = base64(hash, hashlen);

	/* h= and the header data, each name's instances from the bottom up
	 * (RFC 6376 section 5.4.2). */
	buf_reset(&data);
	for (size_t s = 0; s < ARRAY_SIZE(signed_fields); s++) {
		size_t n = 0;
		for (size_t i = 0; i < count; i++)
			n += dkim_field_is(&fields[i], signed_fields[s]);
		bool is_from = s == 0;
		if (is_from && n == 0) {
			snprintf(error, errlen, "DKIM: the message has no From field (RFC 6376 5.4)");
			goto out;
		}
		size_t times = n + (is_from ? 1 : 0);
		for (size_t t = 0; t < times; t++) {
			buf_printf(&hlist, "%s%s", hlist.len > 0 ? ":" : "", signed_fields[s]);
			for (size_t i = count; i-- > 0;) {
				if (!used[i] && dkim_field_is(&fields[i], signed_fields[s])) {
					used[i] = true;
					dkim_canon_header_relaxed(fields[i].text, fields[i].len, true,
								  &data);
					break;
				}
			}
		}
	}

	/* The field with an empty b=, exactly as it will be sent. */
	char tbuf[24];
	snprintf(tbuf, sizeof(tbuf), "%" PRId64, (int64_t)now);
	buf_append_str(&sig, "DKIM-Signature:");
	struct folder f = { &sig, strlen("DKIM-Signature:") };
	put_tag(&f, "v", "1", '\0', false);
	put_tag(&f, "a", dkim_algo_name(k->algo), '\0', false);
	put_tag(&f, "c", "relaxed/relaxed", '\0', false);
	put_tag(&f, "d", k->domain, '\0', false);
	put_tag(&f, "s", k->selector, '\0', false);
	put_tag(&f, "t", tbuf, '\0', false);
	put_tag(&f, "h", hlist.data, ':', false);
	put_tag(&f, "bh", bh, '\0', false);
	fold(&f);
	buf_append_str(&sig, "b=");
	f.col += 2;
	dkim_canon_header_relaxed(sig.data, sig.len, false, &data);

	md = EVP_MD_CTX_new();
	if (md == NULL) {
		ssl_error(error, errlen, "DKIM: EVP_MD_CTX_new");
		goto out;
	}
	size_t siglen = 0;
	const unsigned char *tbs = (const unsigned char *)data.data;
	size_t tbslen = data.len;
	unsigned char hhash[32];
	const EVP_MD *mdtype = EVP_sha256();
	if (k->algo == DKIM_ED25519_SHA256) {
		/* RFC 8463 section 3: Ed25519 (pure) over the SHA-256 of the data. */
		unsigned int hl = 0;
		if (EVP_Digest(tbs, tbslen, hhash, &hl, EVP_sha256(), NULL) != 1) {
			ssl_error(error, errlen, "DKIM: header hash");
			goto out;
		}
		tbs = hhash;
		tbslen = sizeof(hhash);
		mdtype = NULL;
	}
	if (EVP_DigestSignInit(md, NULL, mdtype, NULL, k->pkey) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, tbs, tbslen) != 1) {
		ssl_error(error, errlen, "DKIM: signing with %s._domainkey.%s", k->selector,
			  k->domain);
		goto out;
	}
	sigbytes = xmalloc(siglen);
	if (EVP_DigestSign(md, sigbytes, &siglen, tbs, tbslen) != 1) {
		ssl_error(error, errlen, "DKIM: signing with %s._domainkey.%s", k->selector,
			  k->domain);
		goto out;
	}
	b = base64(sigbytes, siglen);
	/* b= folded at the line width; verifiers drop FWS inside it. */
	for (const char *p = b; *p != '\0';) {
		size_t room = f.col < DKIM_LINE ? DKIM_LINE - f.col : 0;
		if (room == 0) {
			buf_append_str(&sig, "\r\n\t ");
			f.col = 9;
			continue;
		}
		size_t n = strlen(p);
		if (n > room)
			n = room;
		buf_append(&sig, p, n);
		f.col += n;
		p += n;
	}
	buf_append_str(&sig, "\r\n");
	if (buf_append(out, sig.data, sig.len) < 0) {
		snprintf(error, errlen, "DKIM: the signature does not fit in the output buffer");
		goto out;
	}
	ret = 0;
out:
	EVP_MD_CTX_free(md);
	free(sigbytes);
	free(b);
	free(bh);
	buf_free(&data);
	buf_free(&hlist);
	buf_free(&sig);
	free(used);
	free(fields);
	return ret;
}

const char *dkim_key_domain(const struct dkim_key *k)
{
	return k->domain;
}

const char *dkim_key_selector(const struct dkim_key *k)
{
	return k->selector;
}

/* The p= value for pkey: SubjectPublicKeyInfo DER for RSA (RFC 6376 3.6.1),
 * the raw 32 bytes for Ed25519 (RFC 8463 section 4.2). */
static char *txt_of(EVP_PKEY *pkey, enum dkim_algo algo, char *error, size_t errlen)
{
	char *p64 = NULL;
	if (algo == DKIM_RSA_SHA256) {
		unsigned char *der = NULL;
		int derlen = i2d_PUBKEY(pkey, &der);
		if (derlen <= 0) {
			ssl_error(error, errlen, "DKIM: encoding the public key");
			return NULL;
		}
		p64 = base64(der, (size_t)derlen);
		OPENSSL_free(der);
	} else {
		unsigned char raw[32];
		size_t rawlen = sizeof(raw);
		if (EVP_PKEY_get_raw_public_key(pkey, raw, &rawlen) != 1) {
			ssl_error(error, errlen, "DKIM: encoding the public key");
			return NULL;
		}
		p64 = base64(raw, rawlen);
	}
	char *txt = xasprintf("v=DKIM1; k=%s; p=%s", algo == DKIM_RSA_SHA256 ? "rsa" : "ed25519",
			      p64);
	free(p64);
	return txt;
}

char *dkim_key_txt(const struct dkim_key *k, char *error, size_t errlen)
{
	return txt_of(k->pkey, k->algo, error, errlen);
}

int dkim_keygen(enum dkim_algo algo, unsigned rsa_bits, char **pem_r, char **txt_r, char *error,
		size_t errlen)
{
	*pem_r = *txt_r = NULL;
	if (algo == DKIM_RSA_SHA256) {
		if (rsa_bits == 0)
			rsa_bits = 2048;
		if (rsa_bits < 1024 || rsa_bits > 8192) {
			snprintf(error, errlen, "DKIM: RSA key size %u out of range 1024..8192",
				 rsa_bits);
			return -1;
		}
	}
	EVP_PKEY *pkey = algo == DKIM_RSA_SHA256 ? EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits)
						 : EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (pkey == NULL) {
		ssl_error(error, errlen, "DKIM: generating a %s key", dkim_algo_name(algo));
		return -1;
	}
	int ret = -1;
	BIO *bio = BIO_new(BIO_s_mem());
	if (bio == NULL || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		ssl_error(error, errlen, "DKIM: writing the private key");
		goto out;
	}
	char *mem;
	long memlen = BIO_get_mem_data(bio, &mem);
	*txt_r = txt_of(pkey, algo, error, errlen);
	if (*txt_r == NULL)
		goto out;
	*pem_r = xstrndup(mem, (size_t)memlen);
	ret = 0;
out:
	BIO_free(bio);
	EVP_PKEY_free(pkey);
	return ret;
}
