/* SpamAssassin rule files (Mail::SpamAssassin::Conf): the syntax of
 * header, body, rawbody, uri, full and meta rules, score, describe, tflags,
 * and the ifplugin/if/else/endif conditionals, parsed into a rule set that
 * server/scan/rules.c compiles with PCRE2. Also the Perl regex literal
 * (/.../flags, m{...}flags) and the meta expression language (boolean and
 * arithmetic over rule names). Pure: no I/O, no globals. */
#ifndef CAIRN_SA_RULES_H
#define CAIRN_SA_RULES_H

#include "util.h"

enum sa_rule_type {
	SA_RULE_NONE,		/* only score/describe/tflags seen so far */
	SA_RULE_HEADER,
	SA_RULE_BODY,
	SA_RULE_RAWBODY,
	SA_RULE_URI,
	SA_RULE_FULL,
	SA_RULE_META,
};

/* Header rule modifiers ("From:addr"), as Mail::SpamAssassin::Conf defines them. */
enum sa_header_mod {
	SA_HMOD_NONE,		/* the whole value */
	SA_HMOD_ADDR,		/* the first address (addr-spec) */
	SA_HMOD_NAME,		/* the first display name */
};

/* Which occurrences of a repeated header field a rule sees. */
enum sa_header_pick {
	SA_HPICK_ALL,		/* every occurrence, joined by newlines */
	SA_HPICK_FIRST,		/* :first */
	SA_HPICK_LAST,		/* :last */
};

/* Regex flags from the Perl literal. */
#define SA_RE_I 0x01u
#define SA_RE_M 0x02u
#define SA_RE_S 0x04u
#define SA_RE_X 0x08u

/* tflags */
#define SA_TF_NICE	0x01u	/* a negative score is expected */
#define SA_TF_NET	0x02u	/* needs the network */
#define SA_TF_MULTIPLE	0x04u	/* count every match (up to maxhits) */
#define SA_TF_LEARN	0x08u
#define SA_TF_USERCONF	0x10u
#define SA_TF_NOAUTOLEARN 0x20u

struct sa_rule {
	char *name;
	enum sa_rule_type type;
	/* header rules: the field name, or "ALL", "ToCc", "MESSAGEID",
	 * "EnvelopeFrom"; NULL otherwise */
	char *header;
	enum sa_header_mod mod;
	enum sa_header_pick pick;
	bool raw;		/* :raw: as sent, not decoded (RFC 2047) */
	bool exists;		/* header NAME exists:Field */
	bool negate;		/* !~ */
	char *pattern;		/* the regex body, for PCRE2 (NULL for meta/exists) */
	unsigned re_flags;	/* SA_RE_* */
	char *unset;		/* [if-unset: STRING], or NULL */
	char *meta;		/* meta: the expression */
	double score[4];	/* score sets 0-3 (no Bayes/no net, net, Bayes, both) */
	bool scored;		/* a score line was seen */
	char *describe;
	unsigned tflags;
	unsigned maxhits;	/* 0 = unlimited */
	char *file;		/* where the rule was defined */
	unsigned line;
};

struct sa_ruleset {
	struct sa_rule *rules;	/* in definition order */
	size_t count, cap;
	size_t *hash;		/* open addressing: index + 1, 0 = empty */
	size_t hash_cap;
	double required_score;	/* required_score / required_hits, if given */
	bool has_required;
	size_t unsupported;	/* eval: rules and other directives not handled */
};

/* An empty rule set; free with sa_ruleset_free. */
struct sa_ruleset *sa_ruleset_new(void);
void sa_ruleset_free(struct sa_ruleset **rs);

/* Parse one rule file's text into rs (later definitions of the same name
 * replace earlier ones, as in SpamAssassin). plugins is a NULL-terminated
 * list of plugin names that ifplugin/if plugin() treat as loaded (others
 * are not, so their blocks are skipped); version is the SpamAssassin
 * version to claim for "if (version >= X)" (e.g. 4.000001). Directives
 * other than rules are ignored. Returns 0, or -1 with "FILE:LINE: reason"
 * in err for a malformed rule line or unbalanced conditionals. */
int sa_rules_parse(struct sa_ruleset *rs, const char *file, const char *text, size_t len,
		   const char *const *plugins, double version, char *err, size_t errlen);

/* The rule called name, or NULL. */
struct sa_rule *sa_ruleset_find(const struct sa_ruleset *rs, const char *name);

/* Split a Perl regex literal at s: "/re/flags" or "m<delim>re<delim>flags"
 * (with {} () [] <> as pairs). Sets *pattern_r (malloc'ed, the text between
 * the delimiters with escaped delimiters kept as "\d"), *flags_r (SA_RE_*;
 * g and o are accepted and ignored), and *end_r to the first byte after the
 * flags. Returns 0, or -1 with *error_r set. */
int sa_regex_split(const char *s, char **pattern_r, unsigned *flags_r, const char **end_r,
		   const char **error_r);

/* A compiled meta expression: names, numbers, ( ) ! unary -, * /, + -,
 * < <= > >=, == !=, && || with C precedence. */
struct sa_meta;

/* Compile expr. Returns the expression, or NULL with *error_r set. */
struct sa_meta *sa_meta_compile(const char *expr, const char **error_r);
void sa_meta_free(struct sa_meta **m);
/* The rule names the expression refers to (index i = 0 .. count-1). */
size_t sa_meta_name_count(const struct sa_meta *m);
const char *sa_meta_name(const struct sa_meta *m, size_t i);
/* Evaluate with values[i] the value of name i (a rule's hit count, 0 when
 * it did not hit). Division by zero gives 0. */
double sa_meta_eval(const struct sa_meta *m, const double *values);

#endif
