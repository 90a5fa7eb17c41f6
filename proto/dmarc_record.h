/* DMARC policy records (RFC 7489 section 6.3 and 6.4): the tag-value list
 * of a _dmarc TXT record, checked. Pure: libc only; a fuzz target. */
#ifndef CAIRN_DMARC_RECORD_H
#define CAIRN_DMARC_RECORD_H

#include <stdbool.h>
#include <stddef.h>

enum dmarc_policy { DMARC_POLICY_NONE, DMARC_POLICY_QUARANTINE, DMARC_POLICY_REJECT };

struct dmarc_record {
	enum dmarc_policy p;
	bool has_sp;
	enum dmarc_policy sp;
	unsigned pct;			/* 0..100, default 100 */
	bool adkim_strict, aspf_strict;	/* default relaxed */
	bool has_rua;
};

/* Whether a TXT string starts a DMARC record ("v=DMARC1" then ';', blanks
 * or the end). */
bool dmarc_is_record(const char *txt, size_t len);
/* Parse a record. Unknown tags are ignored (6.3); a missing or bad p= is
 * p=none when rua= is present and an error otherwise (6.6.3). Returns 0,
 * or -1 with *error_r (static) when the record must be ignored. */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec,
		       const char **error_r);
/* "none", "quarantine", "reject". */
const char *dmarc_policy_name(enum dmarc_policy p);

#endif
