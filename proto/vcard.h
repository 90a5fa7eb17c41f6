/* vCard 3.0 (RFC 2426) and 4.0 (RFC 6350): a push parser with hard limits,
 * a serializer that gives back every unchanged property byte for byte,
 * validation, conversion between the two versions, the fields CardDAV
 * indexes, and the addressbook-query filter and address-data subset of
 * RFC 6352 (10.4, 10.5). Pure: libc only. */
#ifndef CAIRN_VCARD_H
#define CAIRN_VCARD_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

enum vcard_version {
	VCARD_V3 = 3,
	VCARD_V4 = 4,
};

/* Hard limits; the parser refuses input past any of them. */
struct vcard_limits {
	size_t max_size;	/* bytes of input in all */
	size_t max_lines;	/* physical lines */
	size_t max_line_len;	/* one physical line, without its line end */
	size_t max_props;	/* content lines of one vCard */
	size_t max_params;	/* parameters of one property */
	size_t max_param_values;	/* values of one parameter */
	size_t max_cards;	/* vCards in one input (1 for a CardDAV resource) */
};

/* Safe defaults: 1 MiB, 20000 lines of up to 256 KiB, 5000 properties,
 * 32 parameters of 32 values, one vCard. */
void vcard_limits_default(struct vcard_limits *lim);

struct vcard_param {
	char *name;	/* as written; NULL for a bare value (TEL;WORK:) read as TYPE */
	char **values;	/* decoded: quotes removed, RFC 6868 ^-escapes undone in 4.0 */
	size_t nvalues;
};

struct vcard_prop {
	char *group;	/* NULL when there is none */
	char *name;	/* as written (compare with str_casecmp) */
	struct vcard_param *params;
	size_t nparams;
	char *value;	/* unfolded, escapes kept (use vcard_text_unescape) */
	char *raw;	/* the original lines with CRLF ends, NULL once changed */
	size_t raw_len;
};

struct vcard {
	enum vcard_version version;
	struct vcard_prop *props;	/* every content line between BEGIN and END */
	size_t nprops;
	size_t cap;
	char *begin_raw;	/* the original BEGIN and END lines, or NULL */
	char *end_raw;
};

struct vcard_error {
	const char *msg;	/* static text */
	size_t line;		/* physical line (1-based), 0 if not about one */
};

struct vcard_parser;

/* A parser for a stream of vCards, fed in pieces of any size. */
struct vcard_parser *vcard_parser_new(const struct vcard_limits *lim);
/* Feed more input. Returns 0, or -1 with *err filled (the parser stays failed). */
int vcard_parser_feed(struct vcard_parser *p, const void *data, size_t len,
		      struct vcard_error *err);
/* End of input. Returns 0 with the parsed vCards (the caller owns the array
 * and the cards), or -1 with *err. At least one vCard is required. */
int vcard_parser_finish(struct vcard_parser *p, struct vcard ***cards_r, size_t *count_r,
			struct vcard_error *err);
void vcard_parser_free(struct vcard_parser **p);

/* Parse exactly one vCard (a CardDAV address object resource). */
int vcard_parse(const void *data, size_t len, const struct vcard_limits *lim,
		struct vcard **card_r, struct vcard_error *err);
/* Parse one or more vCards (a .vcf file). */
int vcard_parse_multi(const void *data, size_t len, const struct vcard_limits *lim,
		      struct vcard ***cards_r, size_t *count_r, struct vcard_error *err);
void vcard_free(struct vcard **card);
void vcard_free_array(struct vcard ***cards, size_t count);
struct vcard *vcard_dup(const struct vcard *c);

#define VCARD_VALIDATE_UID 0x01	/* a UID is required (CardDAV) */

/* Semantic checks: exactly one VERSION, FN present, N present in 3.0, at
 * most one N, UID, KIND, BDAY, REV, PRODID, GENDER, ANNIVERSARY, UID if
 * asked, KIND values and MEMBER only with KIND:group in 4.0. Returns 0 or
 * -1 with *error_r (static text). */
int vcard_validate(const struct vcard *c, unsigned flags, const char **error_r);

/* Append the vCard to out: unchanged properties as they were read, changed
 * ones folded at 75 octets, all lines ending in CRLF. Returns 0, or -1
 * when out's maximum is reached. */
int vcard_serialize(const struct vcard *c, struct buf *out);

/* A copy converted to the other version (or a plain copy for the same one):
 * TYPE=PREF <-> PREF=1, inline ENCODING=b <-> data: URIs, VALUE=uri tel:,
 * X-ADDRESSBOOKSERVER-KIND/MEMBER <-> KIND/MEMBER, X-GENDER <-> GENDER,
 * X-ANNIVERSARY <-> ANNIVERSARY, BDAY date forms (X-APPLE-OMIT-YEAR), N
 * added for 3.0. Anything else is kept as it is. */
struct vcard *vcard_convert(const struct vcard *c, enum vcard_version to);

/* ---- properties ---- */

/* The index of the first property named name (case-insensitive, any group)
 * at or after start, or -1. */
long vcard_find(const struct vcard *c, const char *name, size_t start);
/* The first parameter named name (case-insensitive) of p, or NULL. Bare
 * values count as TYPE. */
const struct vcard_param *vcard_prop_param(const struct vcard_prop *p, const char *name);
/* Whether p has a TYPE value equal (case-insensitive) to type. */
bool vcard_prop_has_type(const struct vcard_prop *p, const char *type);
/* Append a property (value raw, already escaped); returns it. */
struct vcard_prop *vcard_add(struct vcard *c, const char *group, const char *name,
			     const char *value);
/* Replace the (escaped) value; the property is re-serialized from then on. */
void vcard_prop_set_value(struct vcard_prop *p, const char *value);
/* Append one value to parameter name (created if missing). */
void vcard_prop_add_param(struct vcard_prop *p, const char *name, const char *value);
/* Remove every parameter named name. */
void vcard_prop_del_param(struct vcard_prop *p, const char *name);
/* Remove the property at index i. */
void vcard_remove(struct vcard *c, size_t i);

/* Undo text escapes (\\ \n \N \, \; and \: of some 3.0 writers); other
 * backslashes are kept. Returns a malloc'ed string. */
char *vcard_text_unescape(const char *s);
/* Append s escaped as a TEXT value (\\, \n, \, and \;). */
void vcard_text_escape(struct buf *out, const char *s);

/* ---- index ---- */

/* What the store indexes and the GAL fills. Strings are malloc'ed and
 * unescaped; emails are lower-cased, telephone numbers keep their digits
 * and a leading '+', members keep their URIs. */
struct vcard_index {
	char *uid;	/* NULL if none */
	char *fn;
	char *kind;	/* lower-case; "individual" when absent */
	char **emails;
	size_t nemails;
	char **tels;
	size_t ntels;
	char **members;
	size_t nmembers;
};

void vcard_index_build(const struct vcard *c, struct vcard_index *idx);
void vcard_index_free(struct vcard_index *idx);

/* ---- addressbook-query (RFC 6352 10.5) ---- */

enum vcard_collation {
	VCARD_COLL_UNICODE_CASEMAP,	/* i;unicode-casemap, the default */
	VCARD_COLL_ASCII_CASEMAP,	/* i;ascii-casemap */
	VCARD_COLL_OCTET,		/* i;octet */
};

enum vcard_match_type {
	VCARD_MATCH_EQUALS,
	VCARD_MATCH_CONTAINS,	/* the default */
	VCARD_MATCH_STARTS_WITH,
	VCARD_MATCH_ENDS_WITH,
};

struct vcard_text_match {
	char *text;		/* as given */
	char *folded;		/* text under the collation */
	enum vcard_collation collation;
	enum vcard_match_type match;
	bool negate;
};

struct vcard_param_filter {
	char *name;
	bool is_not_defined;
	struct vcard_text_match *text_match;	/* NULL: defined is enough */
};

struct vcard_prop_filter {
	char *name;
	bool allof;		/* test="allof"; anyof by default */
	bool is_not_defined;
	struct vcard_text_match *text_matches;
	size_t ntext_matches;
	struct vcard_param_filter *param_filters;
	size_t nparam_filters;
};

struct vcard_filter {
	bool allof;		/* test="allof"; anyof by default */
	struct vcard_prop_filter *props;
	size_t nprops;
};

/* Collation and match-type names; -1 if unknown (the caller answers
 * CARDDAV:supported-collation or CARDDAV:supported-filter). */
int vcard_collation_from_name(const char *name);
int vcard_match_type_from_name(const char *name);

struct vcard_filter *vcard_filter_new(bool allof);
void vcard_filter_free(struct vcard_filter **f);
struct vcard_prop_filter *vcard_filter_add_prop(struct vcard_filter *f, const char *name,
						bool allof);
void vcard_prop_filter_add_text_match(struct vcard_prop_filter *pf, const char *text,
				      enum vcard_collation coll, enum vcard_match_type match,
				      bool negate);
/* A param-filter; text may be NULL (defined or, with is_not_defined, absent). */
void vcard_prop_filter_add_param(struct vcard_prop_filter *pf, const char *name,
				 bool is_not_defined, const char *text, enum vcard_collation coll,
				 enum vcard_match_type match, bool negate);
/* Whether the vCard matches. A filter without prop-filters matches every
 * vCard. A prop-filter matches when one property of that name (any group)
 * meets its param-filters and text-matches together (anyof/allof). */
bool vcard_filter_match(const struct vcard_filter *f, const struct vcard *c);
/* Whether s matches tm (s is an unescaped value). */
bool vcard_text_match(const struct vcard_text_match *tm, const char *s);
/* The collation form of s (malloc'ed). */
char *vcard_collate(enum vcard_collation coll, const char *s);

/* ---- address-data (RFC 6352 10.4) ---- */

struct vcard_prop_sel {
	const char *name;
	bool novalue;
};

/* A copy holding only VERSION and the selected properties, those with
 * novalue set having an empty value. */
struct vcard *vcard_subset(const struct vcard *c, const struct vcard_prop_sel *sel, size_t n);

#endif
