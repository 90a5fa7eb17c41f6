/* Sieve lexer, parser and compiler (skeleton: the API compiles and links). */
#include "sieve.h"
#include "sieve-ast.h"
#include "util.h"

#include <string.h>

void sieve_limits_default(struct sieve_limits *l)
{
	memset(l, 0, sizeof(*l));
	sieve_limits_fill(l);
}

void sieve_limits_fill(struct sieve_limits *l)
{
	(void)l;
}

int sieve_compile(const char *source, size_t len, const struct sieve_compile_params *params,
		  struct sieve_script **script_r, char **error_r)
{
	(void)source; (void)len; (void)params;
	*script_r = NULL;
	*error_r = xstrdup("line 1 column 1: not built yet");
	return -1;
}

int sieve_check(const char *source, size_t len, const struct sieve_compile_params *params,
		char **error_r)
{
	struct sieve_script *s;
	return sieve_compile(source, len, params, &s, error_r);
}

struct sieve_script *sieve_script_ref(struct sieve_script *script) { return script; }
void sieve_script_unref(struct sieve_script **script) { *script = NULL; }
const char *sieve_script_name(const struct sieve_script *script) { (void)script; return ""; }
const char *sieve_script_warnings(const struct sieve_script *script) { (void)script; return NULL; }
bool sieve_script_requires(const struct sieve_script *script, const char *ext) { (void)script; (void)ext; return false; }
const char *sieve_extensions(void) { return ""; }
bool sieve_extension_supported(const char *ext) { (void)ext; return false; }
char *sieve_address_part(const char *addr, const char *part, const char *sep) { (void)addr; (void)part; (void)sep; return NULL; }
