/* libFuzzer target for proto/vcard.c. The first byte picks limits and a
 * filter; the rest is a .vcf stream. Whatever parses must serialize to
 * bytes that parse back to the same serialization (unchanged properties are
 * kept, changed ones rewritten), trickled input must give the same cards,
 * both conversions must give vCards that parse again, and the index,
 * validation, filter and subset must run cleanly on every card. */
#include "autoconf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vcard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static char *ser(const struct vcard *c)
{
	struct buf b;
	buf_init(&b, 0);
	check(vcard_serialize(c, &b) == 0);
	return b.data;
}

static struct vcard *reparse(const char *s)
{
	struct vcard *c = NULL;
	struct vcard_error err;
	struct vcard_limits lim;
	vcard_limits_default(&lim);
	lim.max_size = strlen(s) + 1;
	lim.max_line_len = lim.max_size;
	/* conversion may add a parameter or a value: what we write is not
	 * held to the input limits, only to being readable */
	lim.max_params = 1000;
	lim.max_param_values = 1000;
	if (vcard_parse(s, strlen(s), &lim, &c, &err) < 0) {
		fprintf(stderr, "re-parse failed: %s (line %zu)\n%s\n", err.msg, err.line, s);
		abort();
	}
	return c;
}

static struct vcard_filter *make_filter(uint8_t sel)
{
	static const char *const names[] = { "FN", "EMAIL", "TEL", "N", "UID", "X-A" };
	static const char *const texts[] = { "a", "", "\xc3\xa9", "@", "1" };
	struct vcard_filter *f = vcard_filter_new(sel & 1);
	for (unsigned i = 0; i < (sel >> 1 & 3u) + 1; i++) {
		struct vcard_prop_filter *pf =
			vcard_filter_add_prop(f, names[(sel + i) % ARRAY_SIZE(names)], sel & 8);
		pf->is_not_defined = (sel & 0x30) == 0x30;
		vcard_prop_filter_add_text_match(pf, texts[(sel >> 2) % ARRAY_SIZE(texts)],
						 (enum vcard_collation)(i % 3),
						 (enum vcard_match_type)((sel >> 4) % 4), sel & 0x40);
		vcard_prop_filter_add_param(pf, "TYPE", sel & 0x80, (sel & 2) ? "work" : NULL,
					    (enum vcard_collation)((i + 1) % 3),
					    (enum vcard_match_type)(i % 4), sel & 4);
	}
	return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 64 * 1024)
		return 0;
	uint8_t sel = data[0];
	const char *in = (const char *)data + 1;
	size_t len = size - 1;

	struct vcard_limits lim;
	vcard_limits_default(&lim);
	lim.max_cards = 8;
	if (sel & 0x80) {
		lim.max_line_len = 80;
		lim.max_params = 3;
		lim.max_param_values = 3;
	}
	struct vcard **cards = NULL;
	size_t n = 0;
	struct vcard_error err;
	if (vcard_parse_multi(in, len, &lim, &cards, &n, &err) < 0) {
		check(err.msg != NULL);
		return 0;
	}
	check(n >= 1 && n <= lim.max_cards);

	/* the same cards when trickled in uneven pieces */
	struct vcard_parser *p = vcard_parser_new(&lim);
	size_t step = (size_t)(sel % 7) + 1;
	for (size_t off = 0; off < len; off += step)
		check(vcard_parser_feed(p, in + off, len - off < step ? len - off : step, &err) == 0);
	struct vcard **cards2;
	size_t n2;
	check(vcard_parser_finish(p, &cards2, &n2, &err) == 0);
	check(n2 == n);
	vcard_parser_free(&p);

	struct vcard_filter *f = make_filter(sel);
	for (size_t i = 0; i < n; i++) {
		struct vcard *c = cards[i];
		char *s = ser(c);
		char *s2 = ser(cards2[i]);
		check(strcmp(s, s2) == 0);
		struct vcard *r = reparse(s);
		char *s3 = ser(r);
		check(strcmp(s, s3) == 0);
		check(r->nprops == c->nprops);

		const char *verr;
		bool valid = vcard_validate(c, 0, &verr) == 0;
		bool m = vcard_filter_match(f, c);
		check(m == vcard_filter_match(f, r));

		for (int v = 3; v <= 4; v++) {
			struct vcard *d = vcard_convert(c, (enum vcard_version)v);
			check(d->version == (enum vcard_version)v);
			char *ds = ser(d);
			struct vcard *e = reparse(ds);
			char *es = ser(e);
			check(strcmp(ds, es) == 0);
			/* VERSION's position aside, converting keeps a valid card valid */
			if (valid && v == 4)
				check(vcard_validate(e, 0, &verr) == 0 ||
				      strcmp(verr, "a property allowed once appears more than once") == 0 ||
				      strcmp(verr, "MEMBER requires KIND:group") == 0);
			struct vcard_index idx;
			vcard_index_build(e, &idx);
			vcard_index_free(&idx);
			free(es);
			vcard_free(&e);
			free(ds);
			vcard_free(&d);
		}
		const struct vcard_prop_sel psel[] = { { "FN", false }, { "EMAIL", true } };
		struct vcard *sub = vcard_subset(c, psel, ARRAY_SIZE(psel));
		char *ss = ser(sub);
		vcard_free(&sub);
		struct vcard *sr = reparse(ss);
		vcard_free(&sr);
		free(ss);
		free(s3);
		vcard_free(&r);
		free(s2);
		free(s);
	}
	vcard_filter_free(&f);
	vcard_free_array(&cards2, n2);
	vcard_free_array(&cards, n);
	return 0;
}
