/* Sieve (RFC 5228 and its extensions): the lexer, parser and compiler. A
 * script's source is checked once (on upload, and on first use) and turned
 * into a compiled script, an immutable tree that server/deliver/sieve-exec
 * runs on each message. Pure: libc only, no I/O, no globals. Errors are
 * reported as "line L column C: message". */
#ifndef CAIRN_SIEVE_H
#define CAIRN_SIEVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hard limits. sieve_limits_default() fills safe defaults; a limit of 0
 * means the default, not "unlimited". Static limits are checked when a
 * script is compiled, the others when it runs (the caller then keeps). */
struct sieve_limits {
	size_t max_script_size;		/* source bytes (default 1 MiB) */
	size_t max_string;		/* one string literal or expanded string (default 64 KiB) */
	unsigned max_nesting;		/* nested blocks and tests (default 32) */
	unsigned max_commands;		/* commands + tests in one script (default 10000) */
	unsigned max_include_depth;	/* include nesting at run time (default 10) */
	unsigned max_includes;		/* distinct included scripts in one run (default 32) */
	unsigned max_cpu_steps;		/* commands, tests and match comparisons per run (default 1000000) */
	unsigned max_actions;		/* actions in the result (default 32) */
	unsigned max_redirects;		/* redirect actions in the result (default 4) */
	unsigned max_header_tests;	/* header fields examined per run (default 100000) */
	unsigned max_variables;		/* variables per script scope (default 255) */
	size_t max_variable_size;	/* bytes in one variable value (default 4000, RFC 5229 5) */
	size_t max_match_values;	/* match variables ${0}..${n} kept (default 32) */
	size_t max_header_size;		/* edited header block (default 256 KiB) */
	uint64_t vacation_min_period;	/* seconds (default 1 day; RFC 5230 4.1, RFC 6131) */
	uint64_t vacation_max_period;	/* seconds (default 90 days) */
	uint64_t vacation_default_period; /* seconds (default 7 days) */
	uint64_t duplicate_max_period;	/* seconds (default 7 days) */
	uint64_t duplicate_default_period; /* seconds (default 7 days, RFC 7352 3.5 suggests) */
	unsigned regex_match_limit;	/* PCRE2 match limit (default 100000) */
	unsigned regex_depth_limit;	/* PCRE2 depth limit (default 1000) */
};

/* Fill l with the defaults. */
void sieve_limits_default(struct sieve_limits *l);
/* Replace zero fields of l with the defaults (callers set only what they configure). */
void sieve_limits_fill(struct sieve_limits *l);

/* Where an included script lives (RFC 6609 :personal / :global). */
enum sieve_include_location {
	SIEVE_INCLUDE_PERSONAL = 0,
	SIEVE_INCLUDE_GLOBAL = 1,
};

/* Include resolver: fetch the source of script name at loc. Returns 0 with
 * *source_r (malloc'ed, the caller of the resolver frees it) and *len_r, 1
 * when no such script exists, -1 on an error (then *error_r, static or owned
 * by ctx). Used at run time by sieve-exec, and at compile time when
 * sieve_compile_params.include is set (upload check). */
typedef int sieve_include_fn(void *ctx, enum sieve_include_location loc, const char *name,
			     char **source_r, size_t *len_r, const char **error_r);

/* Regex validator for the :regex match type (proto has no regex engine;
 * sieve-exec provides sieve_regex_check()). Returns 0, or -1 with a message
 * in *error_r (static or owned by ctx). */
typedef int sieve_regex_check_fn(void *ctx, const char *pattern, bool icase, const char **error_r);

struct sieve_compile_params {
	const struct sieve_limits *limits;	/* NULL: defaults */
	const char *name;			/* script name, for messages and include loops */
	/* Optional: check included scripts when compiling (upload). Missing
	 * non-optional scripts are reported as errors; loops are refused. */
	sieve_include_fn *include;
	void *include_ctx;
	/* With include: a missing :personal script (not :optional) is only a
	 * warning, as it may be uploaded later (RFC 6609 3.2; ManageSieve
	 * PUTSCRIPT). Activation compiles without it. The script's own name
	 * is the root of the include loop check (a :personal script). */
	bool include_missing_personal_ok;
	/* Optional: validate constant :regex keys. Without it :regex is
	 * still accepted and bad patterns fail at run time. */
	sieve_regex_check_fn *regex_check;
	void *regex_ctx;
	/* Extension names not to offer (NULL-terminated list), e.g. to
	 * disable "vacation" for an account. */
	const char *const *disabled_extensions;
};

struct sieve_script;

/* Compile source[0..len). Returns 0 with *script_r (free with
 * sieve_script_unref), or -1 with *error_r, a malloc'ed "line L column C:
 * message" (several errors are separated by "\n"). Warnings of a compiled
 * script are in sieve_script_warnings(). */
int sieve_compile(const char *source, size_t len, const struct sieve_compile_params *params,
		  struct sieve_script **script_r, char **error_r);
/* Check only: 0 or -1 with *error_r as sieve_compile. */
int sieve_check(const char *source, size_t len, const struct sieve_compile_params *params,
		char **error_r);

/* Scripts are reference-counted (the cache shares them between threads). */
struct sieve_script *sieve_script_ref(struct sieve_script *script);
/* Drop a reference and set *script to NULL; the last one frees it. */
void sieve_script_unref(struct sieve_script **script);
/* The name given at compile time ("" when none). */
const char *sieve_script_name(const struct sieve_script *script);
/* Non-fatal remarks ("line L column C: ...", "\n"-separated) or NULL. */
const char *sieve_script_warnings(const struct sieve_script *script);
/* Does the script require ext (e.g. "vacation")? */
bool sieve_script_requires(const struct sieve_script *script, const char *ext);

/* The extensions this implementation supports, space-separated, for the
 * ManageSieve SIEVE capability (RFC 5804 1.7). Static string. */
const char *sieve_extensions(void);
/* Is ext supported? */
bool sieve_extension_supported(const char *ext);

/* RFC 5228 2.7.2 address parts and RFC 5233 subaddress, for callers that
 * compare addresses the way scripts do. Splits addr ("local@domain") into a
 * malloc'ed part; part is "localpart", "domain", "all", "user", "detail".
 * Returns NULL when the part does not exist (e.g. :detail without a
 * separator). sep is the detail separator ("+" by default). */
char *sieve_address_part(const char *addr, const char *part, const char *sep);

#endif
