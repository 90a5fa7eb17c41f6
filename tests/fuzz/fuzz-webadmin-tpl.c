/* libFuzzer target for webadmin/wa-tpl.c. The first part of the input
 * (up to a NUL byte) is a template, the rest a value. Any template either
 * compiles or is refused with an error; one that compiles renders with the
 * value set for every name, and the value's '<' never reaches the output
 * unescaped unless the template asked for raw insertion. */
#include "autoconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wa-tpl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static char *loader(const char *name, size_t *len_r, void *ctx)
{
	*(bool *)ctx = true;
	if (strcmp(name, "p") != 0)
		return NULL;
	*len_r = strlen("<b>{{v}}</b>");
	return xstrdup("<b>{{v}}</b>");
}

static size_t count(const char *s, size_t len, char c)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const char *s = (const char *)data;
	size_t tlen = 0;
	while (tlen < size && s[tlen] != '\0')
		tlen++;
	const char *value = tlen < size ? s + tlen + 1 : "";
	size_t vlen = tlen < size ? size - tlen - 1 : 0;
	char *v = xstrndup(value, vlen);

	struct tpl *t = NULL;
	char *error = NULL;
	bool partial = false;
	if (tpl_compile("fuzz", s, tlen, loader, &partial, &t, &error) < 0) {
		check(error != NULL && t == NULL);
		free(error);
		free(v);
		return 0;
	}
	struct tpl_vars *vars = tpl_vars_new();
	/* Every plausible name gets the value, and lists get two items. */
	static const char *const names[] = { "a", "b", "v", "x", "rows", "raw" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		tpl_set(vars, names[i], v);
	struct tpl_vars *item = tpl_list_add(vars, "rows");
	tpl_set(item, "a", v);
	tpl_list_add(vars, "rows");
	struct buf out;
	buf_init(&out, 1024 * 1024);
	if (tpl_render(t, vars, &out) == 0 && memmem(s, tlen, "raw", 3) == NULL) {
		/* No '<' comes from the value. */
		if (strchr(v, '<') != NULL && count(s, tlen, '<') == 0 && !partial)
			check(count(out.data != NULL ? out.data : "", out.len, '<') == 0);
	}
	buf_free(&out);
	tpl_vars_free(&vars);
	tpl_free(&t);
	free(v);
	return 0;
}
