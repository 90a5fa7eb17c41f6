/* Sieve interpreter (skeleton: the API compiles and links). */
#include "sieve-exec.h"
#include "util.h"

#include <stdlib.h>

int sieve_execute(const struct sieve_script *script, const struct sieve_exec_input *in,
		  struct sieve_result **result_r)
{
	return sieve_execute_multi(&script, 1, in, result_r);
}

int sieve_execute_multi(const struct sieve_script *const *scripts, size_t count,
			const struct sieve_exec_input *in, struct sieve_result **result_r)
{
	struct sieve_result *r = xcalloc(1, sizeof(*r));
	(void)scripts; (void)count; (void)in;
	r->actions = xcalloc(1, sizeof(*r->actions));
	r->action_count = 1;
	r->actions[0].kind = SIEVE_ACT_KEEP;
	r->actions[0].implicit = true;
	r->actions[0].mailbox = xstrdup("INBOX");
	r->error = xstrdup("not built yet");
	*result_r = r;
	return -1;
}

void sieve_result_free(struct sieve_result **result)
{
	struct sieve_result *r = *result;
	if (!r)
		return;
	for (size_t i = 0; i < r->action_count; i++)
		free(r->actions[i].mailbox);
	free(r->actions);
	free(r->error);
	free(r);
	*result = NULL;
}

char *sieve_result_describe(const struct sieve_result *result) { (void)result; return xstrdup("keep\n"); }
