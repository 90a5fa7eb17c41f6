/* Training one message into the Bayes databases: tokenize, then
 * store_bayes_learn. Shared by cairnd's trainer and cairnctl spam train. */
#include "autoconf.h"
#include "bayes-trainer.h"

#include <stdlib.h>

#include "bayes.h"
#include "mime.h"
#include "store-bayes.h"

int bayes_train_message(struct store *st, uint64_t account_id, bool spam, const char *raw,
			size_t size, enum store_bayes_learned *result_r, const char **error_r)
{
	struct mime_message *msg = mime_parse(raw, size, NULL);
	int64_t *tokens;
	size_t n = bayes_tokenize(msg, &tokens);
	mime_free(&msg);
	int ret = store_bayes_learn(st, account_id, bayes_msg_key(raw, size), spam, tokens, n,
				    result_r, error_r);
	free(tokens);
	return ret == 0 ? 0 : -1;
}
