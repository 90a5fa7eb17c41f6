/* libFuzzer target for proto/sa_rules: rule files and meta expressions. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sa_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const plugins[] = { "Mail::SpamAssassin::Plugin::Check", NULL };
	struct sa_ruleset *rs = sa_ruleset_new();
	char err[256];
	(void)sa_rules_parse(rs, "fuzz.cf", (const char *)data, size, plugins, 4.0, err, sizeof(err));
	double vals[64] = { 1, 0, 2, 1 };
	for (size_t i = 0; i < rs->count; i++) {
		if (rs->rules[i].type != SA_RULE_META)
			continue;
		const char *error;
		struct sa_meta *m = sa_meta_compile(rs->rules[i].meta, &error);
		if (m != NULL && sa_meta_name_count(m) <= 64)
			(void)sa_meta_eval(m, vals);
		sa_meta_free(&m);
	}
	sa_ruleset_free(&rs);
	return 0;
}
