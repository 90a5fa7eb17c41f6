/* Sender authentication inside the scan stage: the results SPF, DKIM, ARC
 * and DMARC leave for each other and for the Authentication-Results header
 * (RFC 8601), kept with the message context (scan_auth_get). */
#ifndef CAIRN_SCAN_AUTH_H
#define CAIRN_SCAN_AUTH_H

#include "scan.h"

struct dns_resolver;

enum spf_result {
	SPF_RESULT_NONE = 0,
	SPF_RESULT_NEUTRAL,
	SPF_RESULT_PASS,
	SPF_RESULT_FAIL,
	SPF_RESULT_SOFTFAIL,
	SPF_RESULT_TEMPERROR,
	SPF_RESULT_PERMERROR,
};

/* RFC 8601 result names: "pass", "fail", ... */
const char *spf_result_name(enum spf_result r);

/* check_host() of RFC 7208 section 4: ip as text, domain and sender
 * (local@domain), helo for %{h}. Every DNS query is bounded by deadline_ms.
 * reason gets a short explanation. */
enum spf_result spf_check_host(struct scan_msg *msg, const char *ip, const char *domain,
			       const char *sender, const char *helo, uint64_t deadline_ms,
			       char *reason, size_t reason_size);

enum dkim_result {
	DKIM_RESULT_NONE = 0,
	DKIM_RESULT_PASS,
	DKIM_RESULT_FAIL,
	DKIM_RESULT_NEUTRAL,
	DKIM_RESULT_POLICY,
	DKIM_RESULT_TEMPERROR,
	DKIM_RESULT_PERMERROR,
};
const char *dkim_result_name(enum dkim_result r);

#define SCAN_AUTH_MAX_SIGS 8

struct scan_dkim_sig {
	enum dkim_result result;
	char domain[256];		/* d= */
	char selector[128];		/* s= */
	char algorithm[32];		/* a= */
	char b_prefix[12];		/* the first 8 characters of b= (header.b, RFC 6008) */
	char reason[160];
};

enum dmarc_result {
	DMARC_RESULT_NONE = 0,
	DMARC_RESULT_PASS,
	DMARC_RESULT_FAIL,
	DMARC_RESULT_TEMPERROR,
	DMARC_RESULT_PERMERROR,
};
const char *dmarc_result_name(enum dmarc_result r);

enum arc_result {
	ARC_RESULT_NONE = 0,
	ARC_RESULT_PASS,
	ARC_RESULT_FAIL,
};

struct scan_auth {
	bool iprev_done;
	bool iprev_pass;
	char iprev_name[256];

	bool spf_done;
	enum spf_result spf;
	char spf_domain[256];		/* the MAIL FROM (or HELO) domain checked */
	char spf_identity[400];		/* smtp.mailfrom / smtp.helo value */
	bool spf_helo;			/* the identity was the HELO (null sender) */
	char spf_reason[200];

	bool dkim_done;
	struct scan_dkim_sig sigs[SCAN_AUTH_MAX_SIGS];
	size_t nsigs;

	bool arc_done;
	enum arc_result arc;
	unsigned arc_instances;
	char arc_reason[160];

	bool dmarc_done;
	enum dmarc_result dmarc;
	char dmarc_from[256];		/* header.from */
	char dmarc_policy[16];		/* the policy applied: none/quarantine/reject */
	char dmarc_reason[200];
};

/* The message's authentication results, created on first use (freed by
 * scan_msg_done). */
struct scan_auth *scan_auth_get(struct scan_msg *msg);
/* Free msg's results (scan_msg_done calls it). */
void scan_auth_free(struct scan_msg *msg);

/* The Authentication-Results value (after "Authentication-Results:") for
 * msg's results, appended to out. */
void scan_authres_value(struct scan_msg *msg, struct buf *out);

/* The built-in modules (registered by scan_modules_register). */
extern const struct scan_module scan_module_iprev;
extern const struct scan_module scan_module_spf;
extern const struct scan_module scan_module_dkim;
extern const struct scan_module scan_module_arc;
extern const struct scan_module scan_module_dmarc;
extern const struct scan_module scan_module_authres;

#endif
