/* cairnctl dkim: DKIM signing keys in the shared database. keygen makes a
 * key pair, stores the private key and prints the DNS record to publish;
 * show prints that record again; list, activate, deactivate and delete
 * manage rotation (a new selector per key, see docs/dkim.md). */
#include "autoconf.h"
#include "ctl.h"
#include "dkim.h"
#include "store.h"
#include "store-dkim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* TXT character-strings hold at most 255 octets (RFC 1035 3.3). */
#define TXT_CHUNK 255

/* The zone-file line: NAME. IN TXT ( "v=DKIM1; k=rsa; " "p=..." ... ). */
static void print_record(const char *domain, const char *selector, const char *txt)
{
	printf("%s._domainkey.%s. IN TXT (", selector, domain);
	const char *p = strstr(txt, "p=");
	size_t head = p != NULL ? (size_t)(p - txt) : 0;
	if (head > 0)
		printf(" \"%.*s\"", (int)head, txt);
	for (const char *c = txt + head; *c != '\0';) {
		size_t n = strlen(c);
		if (n > TXT_CHUNK)
			n = TXT_CHUNK;
		printf(" \"%.*s\"", (int)n, c);
		c += n;
	}
	printf(" )\n");
}

/* Load a stored key (to derive its public half) or say why not. */
static struct dkim_key *load_stored(const struct store_dkim_key *sk)
{
	char error[512];
	struct dkim_key *k = dkim_key_load(sk->domain, sk->selector, sk->private_pem, error,
					   sizeof(error));
	if (k == NULL)
		ctl_error("%s", error);
	return k;
}

static int cmd_keygen(struct ctl *ctl, int argc, char **argv)
{
	const char *selector = NULL, *algorithm = "rsa", *bits = NULL, *active = "yes", *pos[1];
	const struct ctl_opt opts[] = {
		{ "--selector", &selector }, { "--algorithm", &algorithm }, { "--bits", &bits },
		{ "--active", &active }, { NULL, NULL }
	};
	if (ctl_parse_args("dkim keygen", argc, argv, opts, pos, 1, 1) != 0)
		return CTL_USAGE;
	enum dkim_algo algo;
	if (dkim_algo_parse(algorithm, &algo) < 0)
		return ctl_usage("dkim keygen: --algorithm must be rsa or ed25519, not '%s'",
				 algorithm);
	uint64_t nbits = 0;
	if (bits != NULL) {
		if (algo != DKIM_RSA_SHA256)
			return ctl_usage("dkim keygen: --bits is for rsa keys only");
		if (str_to_u64(bits, strlen(bits), 8192, &nbits) < 0 || nbits < 1024)
			return ctl_usage("dkim keygen: --bits must be 1024..8192, not '%s'", bits);
	}
	if (strcmp(active, "yes") != 0 && strcmp(active, "no") != 0)
		return ctl_usage("dkim keygen: --active must be yes or no");
	char defsel[64];
	if (selector == NULL) {
		dkim_default_selector(algo, time(NULL), defsel, sizeof(defsel));
		selector = defsel;
	}
	char error[512];
	char *pem = NULL, *txt = NULL;
	if (dkim_keygen(algo, (unsigned)nbits, &pem, &txt, error, sizeof(error)) < 0) {
		ctl_error("dkim keygen: %s", error);
		return CTL_ERROR;
	}
	/* Check domain and selector the way the signer will. */
	struct dkim_key *k = dkim_key_load(pos[0], selector, pem, error, sizeof(error));
	if (k == NULL) {
		ctl_error("dkim keygen: %s", error);
		ctl_wipe_free(pem);
		free(txt);
		return CTL_ERROR;
	}
	dkim_key_free(k);
	int ret = CTL_ERROR;
	if (ctl_open(ctl) != CTL_OK)
		goto out;
	if (store_dkim_key_add(ctl->store, pos[0], selector, dkim_algo_name(algo), pem,
			       strcmp(active, "yes") == 0, error, sizeof(error)) != STORE_OK) {
		ret = ctl_store_failed(error);
		goto out;
	}
	char domain[256];
	snprintf(domain, sizeof(domain), "%s", pos[0]);
	for (char *c = domain; *c != '\0'; c++)
		*c = (*c >= 'A' && *c <= 'Z') ? (char)(*c + 32) : *c;
	char sel[256];
	snprintf(sel, sizeof(sel), "%s", selector);
	for (char *c = sel; *c != '\0'; c++)
		*c = (*c >= 'A' && *c <= 'Z') ? (char)(*c + 32) : *c;
	print_record(domain, sel, txt);
	ret = CTL_OK;
out:
	ctl_wipe_free(pem);
	free(txt);
	return ret;
}

static int cmd_show(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2];
	if (ctl_parse_args("dkim show", argc, argv, NULL, pos, 2, 2) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char error[512];
	struct store_dkim_key sk;
	if (store_dkim_key_find(ctl->store, pos[0], pos[1], &sk, error, sizeof(error)) != STORE_OK)
		return ctl_store_failed(error);
	int ret = CTL_ERROR;
	struct dkim_key *k = load_stored(&sk);
	if (k != NULL) {
		char *txt = dkim_key_txt(k, error, sizeof(error));
		if (txt == NULL) {
			ctl_error("dkim show: %s", error);
		} else {
			print_record(sk.domain, sk.selector, txt);
			ret = CTL_OK;
		}
		free(txt);
		dkim_key_free(k);
	}
	store_dkim_key_clear(&sk);
	return ret;
}

static int cmd_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1];
	if (ctl_parse_args("dkim list", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char error[512];
	struct store_dkim_key *keys;
	size_t n;
	if (store_dkim_keys_list(ctl->store, pos[0], &keys, &n, error, sizeof(error)) != STORE_OK)
		return ctl_store_failed(error);
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s %s %s\n", keys[i].domain, keys[i].selector, keys[i].algorithm,
		       keys[i].created, keys[i].active ? "active" : "inactive");
	store_dkim_keys_free(keys, n);
	return CTL_OK;
}

/* activate, deactivate and delete: one key by domain and selector. */
static int one_key(struct ctl *ctl, const char *cmd, int argc, char **argv, int what)
{
	const char *pos[2];
	if (ctl_parse_args(cmd, argc, argv, NULL, pos, 2, 2) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	char error[512];
	int ret = what < 0 ? store_dkim_key_delete(ctl->store, pos[0], pos[1], error, sizeof(error))
			   : store_dkim_key_set_active(ctl->store, pos[0], pos[1], what == 1, error,
						       sizeof(error));
	if (ret != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_delete(struct ctl *ctl, int argc, char **argv)
{
	return one_key(ctl, "dkim delete", argc, argv, -1);
}

static int cmd_activate(struct ctl *ctl, int argc, char **argv)
{
	return one_key(ctl, "dkim activate", argc, argv, 1);
}

static int cmd_deactivate(struct ctl *ctl, int argc, char **argv)
{
	return one_key(ctl, "dkim deactivate", argc, argv, 0);
}

const struct ctl_cmd ctl_dkim_commands[] = {
	{ "dkim", "keygen",
	  "DOMAIN [--selector S] [--algorithm A] [--bits N] [--active yes|no]",
	  cmd_keygen, "make and store a DKIM key, print its DNS record" },
	{ "dkim", "list", "[DOMAIN]", cmd_list, "list DKIM keys" },
	{ "dkim", "show", "DOMAIN SELECTOR", cmd_show, "print a key's DNS TXT record" },
	{ "dkim", "activate", "DOMAIN SELECTOR", cmd_activate, "sign with this key" },
	{ "dkim", "deactivate", "DOMAIN SELECTOR", cmd_deactivate,
	  "stop signing with this key (keep it)" },
	{ "dkim", "delete", "DOMAIN SELECTOR", cmd_delete, "delete a DKIM key" },
	{ NULL, NULL, NULL, NULL, NULL }
};
