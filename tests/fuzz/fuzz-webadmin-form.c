/* libFuzzer target for webadmin/wa-form.c: the input is a form body, a
 * cookie header and a multipart body at once. Whatever parses must give
 * fields whose names and values pass the text check (multipart file
 * contents excepted) and whose lengths are right. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wa-form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void check_params(const struct wa_params *p, bool files)
{
	check(p->n <= p->max);
	for (size_t i = 0; i < p->n; i++) {
		check(p->v[i].name[0] != '\0');
		check(wa_valid_text(p->v[i].name, strlen(p->v[i].name)));
		if (!(files && p->v[i].filename != NULL)) {
			check(strlen(p->v[i].value) == p->v[i].value_len);
			check(wa_valid_text(p->v[i].value, p->v[i].value_len));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *error;
	struct wa_params p = { .max = 64 };

	if (wa_parse_urlencoded(s, size, &p, &error) == 0)
		check_params(&p, false);
	wa_params_free(&p);

	char *z = xmalloc(size + 1);
	memcpy(z, data, size);
	z[size] = '\0';
	if (wa_parse_cookies(z, &p, &error) == 0) {
		for (size_t i = 0; i < p.n; i++)
			check(strchr(p.v[i].value, ';') == NULL && strchr(p.v[i].value, ' ') == NULL);
	}
	wa_params_free(&p);

	char boundary[71];
	if (wa_multipart_boundary(z, boundary, sizeof(boundary), &error) == 0)
		check(strlen(boundary) >= 1 && strlen(boundary) <= 70);
	free(z);
	if (wa_parse_multipart(s, size, "b0undary", &p, &error) == 0)
		check_params(&p, true);
	wa_params_free(&p);
	return 0;
}
