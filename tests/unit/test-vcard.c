/* Unit tests for proto/vcard.c. Golden vCards under TEST_DATADIR/vcard in
 * the shapes Apple Contacts, Google, Thunderbird, CardBook and DAVx5 write:
 * each must round-trip byte for byte (bare LF becomes CRLF), parse the same
 * when trickled one byte at a time, and convert to 3.0 and 4.0 exactly as
 * its .v3/.v4 reference says, with the index fields of its .idx reference.
 * Set VCARD_REGEN=1 to rewrite the references (then read the diff). Then
 * bad input, limits, validation, escapes, folding, filters and subsets. */
#include "autoconf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "vcard.h"
#include "vcard_gal.h"

#ifndef TEST_DATADIR
#error "TEST_DATADIR must name the tests/unit/data directory"
#endif

static char *read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	char tmp[4096];
	size_t n;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(&b, tmp, n);
	fclose(f);
	buf_append(&b, "", 0);
	*len_r = b.len;
	return b.data;
}

static char *to_crlf(const char *s, size_t n, size_t *len_r)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
			buf_append(&b, "\r", 1);
		buf_append(&b, s + i, 1);
	}
	*len_r = b.len;
	return b.data;
}

static struct vcard *parse_ok(const char *s)
{
	struct vcard *c = NULL;
	struct vcard_error err = { 0 };
	if (vcard_parse(s, strlen(s), NULL, &c, &err) < 0)
		fail_msg("parse failed: %s (line %zu)\n%s", err.msg, err.line, s);
	return c;
}

static char *ser(const struct vcard *c)
{
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(vcard_serialize(c, &b), 0);
	return b.data;
}

static void index_text(const struct vcard *c, struct buf *out)
{
	struct vcard_index idx;
	vcard_index_build(c, &idx);
	buf_printf(out, "uid=%s\nfn=%s\nkind=%s\n", idx.uid != NULL ? idx.uid : "(none)", idx.fn,
		   idx.kind);
	for (size_t i = 0; i < idx.nemails; i++)
		buf_printf(out, "email=%s\n", idx.emails[i]);
	for (size_t i = 0; i < idx.ntels; i++)
		buf_printf(out, "tel=%s\n", idx.tels[i]);
	for (size_t i = 0; i < idx.nmembers; i++)
		buf_printf(out, "member=%s\n", idx.members[i]);
	vcard_index_free(&idx);
}

static void check_ref(const char *path, const char *got)
{
	if (getenv("VCARD_REGEN") != NULL) {
		FILE *f = fopen(path, "wb");
		assert_non_null(f);
		fputs(got, f);
		fclose(f);
		return;
	}
	size_t len;
	char *want = read_file(path, &len);
	if (want == NULL)
		fail_msg("missing reference %s (run with VCARD_REGEN=1)", path);
	if (strcmp(want, got) != 0)
		fail_msg("%s differs:\n--- got\n%s--- want\n%s", path, got, want);
	free(want);
}

static void golden_one(const char *dir, const char *name)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	size_t len;
	char *in = read_file(path, &len);
	assert_non_null(in);

	struct vcard *c = NULL;
	struct vcard_error err = { 0 };
	if (vcard_parse(in, len, NULL, &c, &err) < 0)
		fail_msg("%s: %s (line %zu)", name, err.msg, err.line);
	const char *verr = NULL;
	if (vcard_validate(c, 0, &verr) < 0)
		fail_msg("%s: invalid: %s", name, verr);

	/* unchanged: the same bytes, with CRLF line ends */
	size_t crlf_len;
	char *crlf = to_crlf(in, len, &crlf_len);
	char *out = ser(c);
	if (strcmp(out, crlf) != 0)
		fail_msg("%s: round trip differs:\n%s", name, out);

	/* trickle: one byte at a time gives the same card */
	struct vcard_parser *p = vcard_parser_new(NULL);
	for (size_t i = 0; i < len; i++)
		assert_int_equal(vcard_parser_feed(p, in + i, 1, &err), 0);
	struct vcard **cards;
	size_t n;
	assert_int_equal(vcard_parser_finish(p, &cards, &n, &err), 0);
	assert_int_equal(n, 1);
	char *out2 = ser(cards[0]);
	assert_string_equal(out, out2);
	free(out2);
	vcard_free_array(&cards, n);
	vcard_parser_free(&p);

	/* conversions, each re-parsed and valid */
	for (int v = 3; v <= 4; v++) {
		struct vcard *d = vcard_convert(c, (enum vcard_version)v);
		char *conv = ser(d);
		snprintf(path, sizeof(path), "%s/%.*s.v%d", dir, (int)(strlen(name) - 4), name, v);
		check_ref(path, conv);
		struct vcard *e = parse_ok(conv);
		assert_int_equal(e->version, v);
		if (vcard_validate(e, 0, &verr) < 0)
			fail_msg("%s converted to %d: invalid: %s", name, v, verr);
		char *again = ser(e);
		assert_string_equal(conv, again);	/* what we write reads back the same */
		/* converting back gives the same index fields */
		struct vcard *back = vcard_convert(e, c->version);
		struct buf i1, i2;
		buf_init(&i1, 0);
		buf_init(&i2, 0);
		index_text(c, &i1);
		index_text(back, &i2);
		assert_string_equal(i1.data, i2.data);
		buf_free(&i1);
		buf_free(&i2);
		vcard_free(&back);
		free(again);
		vcard_free(&e);
		free(conv);
		vcard_free(&d);
	}
	struct buf idx;
	buf_init(&idx, 0);
	index_text(c, &idx);
	snprintf(path, sizeof(path), "%s/%.*s.idx", dir, (int)(strlen(name) - 4), name);
	check_ref(path, idx.data);
	buf_free(&idx);

	free(out);
	free(crlf);
	free(in);
	vcard_free(&c);
}

static void test_golden(void **state)
{
	(void)state;
	const char *dir = TEST_DATADIR "/vcard";
	DIR *d = opendir(dir);
	assert_non_null(d);
	struct dirent *de;
	size_t count = 0;
	while ((de = readdir(d)) != NULL) {
		size_t n = strlen(de->d_name);
		if (n > 4 && strcmp(de->d_name + n - 4, ".vcf") == 0) {
			golden_one(dir, de->d_name);
			count++;
		}
	}
	closedir(d);
	assert_true(count >= 8);
}

static void bad(const char *in, const char *want)
{
	struct vcard *c = NULL;
	struct vcard_error err = { 0 };
	if (vcard_parse(in, strlen(in), NULL, &c, &err) == 0)
		fail_msg("accepted: %s", in);
	assert_null(c);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\", want \"%s\" for %s", err.msg, want, in);
}

#define CARD(body) "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nN:x;;;;\r\n" body "END:VCARD\r\n"

static void test_bad_input(void **state)
{
	(void)state;
	bad("", "no vCard");
	bad("\r\n\r\n", "no vCard");
	bad("FN:x\r\n", "outside");
	bad("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\n", "END:VCARD missing");
	bad("BEGIN:VCARD\r\nVERSION:3.0\r\nBEGIN:VCARD\r\nEND:VCARD\r\nEND:VCARD\r\n", "inside");
	bad("BEGIN:VCARD\r\nVERSION:3.0\r\nEND:VCALENDAR\r\n", "END does not match");
	bad("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "other than VCARD");
	bad("BEGIN:VCARD\r\nFN:x\r\nEND:VCARD\r\n", "VERSION missing");
	bad("BEGIN:VCARD\r\nVERSION:2.1\r\nFN:x\r\nEND:VCARD\r\n", "unsupported VERSION");
	bad("BEGIN:VCARD\r\nVERSION:3.0\r\nVERSION:3.0\r\nEND:VCARD\r\n", "twice");
	bad(" FN:x\r\nBEGIN:VCARD\r\n", "continuation");
	bad(CARD("TEL;TYPE=\"cell:+1\r\n"), "unterminated");
	bad(CARD("TEL;TYPE=a\"b:+1\r\n"), "quote inside");
	bad(CARD("TEL;=x:+1\r\n"), "parameter name");
	bad(CARD("TEL+1\r\n"), "missing ':'");
	bad(CARD(":value\r\n"), "property name");
	bad(CARD("item1.:value\r\n"), "after group");
	bad(CARD("NOTE:a\rb\r\n"), "bare CR");
	bad(CARD("NOTE:a\x01z\r\n"), "control character");
	bad(CARD("NOTE:caf\xe9\r\n"), "UTF-8");
	bad(CARD("NOTE:\xc0\xaf\r\n"), "UTF-8");	/* overlong */
	bad(CARD("NOTE:\xed\xa0\x80\r\n"), "UTF-8");	/* surrogate */
	bad(CARD("") CARD(""), "too many vCards");
	bad(CARD("") "NOTE:after\r\n", "outside");
	/* NUL inside a line */
	struct vcard *c = NULL;
	struct vcard_error err;
	static const char nul[] = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:a\0b\r\nEND:VCARD\r\n";
	assert_int_equal(vcard_parse(nul, sizeof(nul) - 1, NULL, &c, &err), -1);
	assert_non_null(strstr(err.msg, "control"));
	assert_int_equal(err.line, 3);
}

static void test_limits(void **state)
{
	(void)state;
	struct vcard_limits lim;
	vcard_limits_default(&lim);
	const char *ok = CARD("TEL;TYPE=a,b,c;X-A=1;X-B=2:+1\r\nNOTE:0123456789\r\n");
	struct vcard *c = NULL;
	struct vcard_error err;

	lim.max_size = strlen(ok) - 1;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "vCard data too large");
	vcard_limits_default(&lim);
	lim.max_lines = 6;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "too many lines");
	vcard_limits_default(&lim);
	lim.max_props = 4;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "too many properties");
	vcard_limits_default(&lim);
	lim.max_params = 2;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "too many parameters");
	vcard_limits_default(&lim);
	lim.max_param_values = 2;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "too many parameter values");
	vcard_limits_default(&lim);
	lim.max_line_len = strlen("TEL;TYPE=a,b,c;X-A=1;X-B=2:+1") - 1;
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), -1);
	assert_string_equal(err.msg, "line too long");
	assert_int_equal(err.line, 5);
	/* exactly at each limit is fine */
	vcard_limits_default(&lim);
	lim.max_size = strlen(ok);
	lim.max_lines = 7;
	lim.max_props = 5;
	lim.max_params = 3;
	lim.max_param_values = 3;
	lim.max_line_len = strlen("TEL;TYPE=a,b,c;X-A=1;X-B=2:+1");
	assert_int_equal(vcard_parse(ok, strlen(ok), &lim, &c, &err), 0);
	vcard_free(&c);
	/* a line too long is refused before it is all read: the limit holds
	 * even while the line never ends */
	vcard_limits_default(&lim);
	lim.max_line_len = 100;
	struct vcard_parser *p = vcard_parser_new(&lim);
	char chunk[64];
	memset(chunk, 'A', sizeof(chunk));
	assert_int_equal(vcard_parser_feed(p, chunk, sizeof(chunk), &err), 0);
	assert_int_equal(vcard_parser_feed(p, chunk, sizeof(chunk), &err), -1);
	assert_string_equal(err.msg, "line too long");
	assert_int_equal(vcard_parser_feed(p, "\n", 1, &err), -1);	/* stays failed */
	vcard_parser_free(&p);
}

static void test_multi(void **state)
{
	(void)state;
	const char *two = "\r\n" CARD("UID:1\r\n") "\r\n" CARD("UID:2\r\n");
	struct vcard **cards;
	size_t n;
	struct vcard_error err;
	struct vcard_limits lim;
	vcard_limits_default(&lim);
	lim.max_cards = 10;
	assert_int_equal(vcard_parse_multi(two, strlen(two), &lim, &cards, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(cards[1]->props[vcard_find(cards[1], "UID", 0)].value, "2");
	vcard_free_array(&cards, n);
	lim.max_cards = 1;
	assert_int_equal(vcard_parse_multi(two, strlen(two), &lim, &cards, &n, &err), -1);
	/* a byte order mark before the first line is skipped */
	struct vcard *bom = parse_ok("\xef\xbb\xbf" "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n");
	vcard_free(&bom);
	bad(CARD("\xef\xbb\xbfNOTE:x\r\n"), "property name");
	/* lower-case BEGIN/END and no final line end round-trip too */
	const char *lc = "begin:vcard\nversion:4.0\nfn:x\nend:vcard";
	struct vcard *c = parse_ok(lc);
	char *s = ser(c);
	assert_string_equal(s, "begin:vcard\r\nversion:4.0\r\nfn:x\r\nend:vcard\r\n");
	free(s);
	vcard_free(&c);
}

static void test_params(void **state)
{
	(void)state;
	struct vcard *c = parse_ok(
		"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\n"
		"ADR;LABEL=\"a;b:c,d ^'q^' ^^ ^nz ^x\";TYPE=home,work;TYPE=\"x,y\":;;s;c\r\n"
		"X-EMPTY;X-P=:v\r\n"
		"END:VCARD\r\n");
	const struct vcard_prop *adr = &c->props[vcard_find(c, "ADR", 0)];
	const struct vcard_param *label = vcard_prop_param(adr, "label");
	assert_non_null(label);
	assert_int_equal(label->nvalues, 1);
	assert_string_equal(label->values[0], "a;b:c,d \"q\" ^ \nz ^x");
	assert_int_equal(adr->nparams, 3);
	assert_int_equal(adr->params[1].nvalues, 2);
	/* a quoted TYPE list is a list (RFC 6350 writes TYPE="work,voice") */
	assert_int_equal(adr->params[2].nvalues, 2);
	assert_string_equal(adr->params[2].values[1], "y");
	assert_true(vcard_prop_has_type(adr, "WORK"));
	assert_true(vcard_prop_has_type(adr, "x"));
	assert_false(vcard_prop_has_type(adr, "x,y"));
	assert_string_equal(adr->value, ";;s;c");
	const struct vcard_prop *e = &c->props[vcard_find(c, "X-EMPTY", 0)];
	assert_int_equal(e->params[0].nvalues, 1);
	assert_string_equal(e->params[0].values[0], "");

	/* a changed property is written again with RFC 6868 escapes */
	struct vcard_prop *m = &c->props[vcard_find(c, "ADR", 0)];
	vcard_prop_set_value(m, ";;t;c");
	char *s = ser(c);
	assert_non_null(strstr(s, "ADR;LABEL=\"a;b:c,d ^'q^' ^^ ^nz ^^x\";TYPE=home,work;"
				  "TYPE=x,y:;;t;c\r\n"));
	free(s);
	vcard_free(&c);

	/* 3.0 has no ^ escapes; bare values count as TYPE */
	c = parse_ok(CARD("TEL;WORK;VOICE;X-P=a^nb:+1\r\n"));
	const struct vcard_prop *tel = &c->props[vcard_find(c, "TEL", 0)];
	assert_true(vcard_prop_has_type(tel, "voice"));
	assert_string_equal(vcard_prop_param(tel, "X-P")->values[0], "a^nb");
	assert_null(tel->params[0].name);
	struct vcard *d = vcard_convert(c, VCARD_V4);
	s = ser(d);
	assert_non_null(strstr(s, "TEL;TYPE=WORK;TYPE=VOICE;X-P=a^^nb:+1\r\n"));
	free(s);
	vcard_free(&d);
	vcard_free(&c);
}

static void test_escapes(void **state)
{
	(void)state;
	char *u = vcard_text_unescape("a\\,b\\;c\\nd\\Ne\\\\f\\:g\\xh\\");
	assert_string_equal(u, "a,b;c\nd\ne\\f:g\\xh\\");
	struct buf b;
	buf_init(&b, 0);
	vcard_text_escape(&b, "a,b;c\nd\\e\r");
	assert_string_equal(b.data, "a\\,b\\;c\\nd\\\\e");
	char *back = vcard_text_unescape(b.data);
	assert_string_equal(back, "a,b;c\nd\\e");
	free(back);
	buf_free(&b);
	free(u);
}

static void test_fold(void **state)
{
	(void)state;
	struct vcard *c = parse_ok(CARD(""));
	struct buf v;
	buf_init(&v, 0);
	for (int i = 0; i < 100; i++)
		buf_append_str(&v, "\xc3\xa9x\xe2\x82\xac");	/* é x € : 2+1+3 octets */
	vcard_add(c, "g1", "NOTE", v.data);
	char *s = ser(c);
	/* every line at most 75 octets, no UTF-8 sequence cut */
	for (char *l = s; *l != '\0';) {
		char *e = strstr(l, "\r\n");
		assert_non_null(e);
		assert_true(e - l <= 75);
		if (l[0] == ' ')
			assert_true((l[1] & 0xc0) != 0x80);
		l = e + 2;
	}
	struct vcard *d = parse_ok(s);
	const struct vcard_prop *p = &d->props[vcard_find(d, "NOTE", 0)];
	assert_string_equal(p->value, v.data);
	assert_string_equal(p->group, "g1");
	vcard_free(&d);
	free(s);
	buf_free(&v);
	vcard_free(&c);
}

static void invalid(const char *in, unsigned flags, const char *want)
{
	struct vcard *c = parse_ok(in);
	const char *e = NULL;
	if (vcard_validate(c, flags, &e) == 0)
		fail_msg("valid: %s", in);
	if (strstr(e, want) == NULL)
		fail_msg("error \"%s\", want \"%s\"", e, want);
	vcard_free(&c);
}

static void valid(const char *in, unsigned flags)
{
	struct vcard *c = parse_ok(in);
	const char *e = NULL;
	if (vcard_validate(c, flags, &e) < 0)
		fail_msg("invalid (%s): %s", e, in);
	vcard_free(&c);
}

static void test_validate(void **state)
{
	(void)state;
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nN:x;;;;\r\nEND:VCARD\r\n", 0, "FN");
	invalid("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:x\r\nEND:VCARD\r\n", 0, "N is required");
	valid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n", 0);
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nEND:VCARD\r\n", VCARD_VALIDATE_UID, "UID");
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nUID:\r\nEND:VCARD\r\n", VCARD_VALIDATE_UID,
		"UID");
	valid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nUID:a\r\nEND:VCARD\r\n", VCARD_VALIDATE_UID);
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nUID:a\r\nuid:b\r\nEND:VCARD\r\n", 0,
		"more than once");
	invalid(CARD("N:y;;;;\r\n"), 0, "more than once");
	/* 4.0: the same N in two languages shares an ALTID */
	valid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nN;ALTID=1;LANGUAGE=en:Doe;J;;;\r\n"
	      "N;ALTID=1;LANGUAGE=ja:ドウ;;;;\r\nEND:VCARD\r\n",
	      0);
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nN;ALTID=1:a\r\nN;ALTID=2:b\r\nEND:VCARD\r\n",
		0, "more than once");
	invalid("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nMEMBER:urn:uuid:1\r\nEND:VCARD\r\n", 0,
		"KIND:group");
	valid("BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:Group\r\nFN:x\r\nMEMBER:urn:uuid:1\r\nEND:VCARD\r\n",
	      0);
	valid(CARD("EMAIL:a@x\r\nEMAIL:b@x\r\n"), 0);
}

/* ---- filters ---- */

static const char *const filter_card =
	"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Dupont;\xc3\x89lodie;;;\r\n"
	"FN:\xc3\x89lodie Dupont\r\n"
	"EMAIL;TYPE=INTERNET,WORK:elodie@Example.COM\r\n"
	"EMAIL;TYPE=HOME:elo@home.example\r\n"
	"TEL;TYPE=CELL:+33 6 12 34 56 78\r\n"
	"NOTE:semi\\;colon\r\n"
	"UID:abc-123\r\nEND:VCARD\r\n";

static bool run(struct vcard_filter *f)
{
	struct vcard *c = parse_ok(filter_card);
	bool r = vcard_filter_match(f, c);
	vcard_free(&c);
	vcard_filter_free(&f);
	return r;
}

static bool one_text(const char *prop, const char *text, enum vcard_collation coll,
		     enum vcard_match_type m, bool negate)
{
	struct vcard_filter *f = vcard_filter_new(false);
	struct vcard_prop_filter *pf = vcard_filter_add_prop(f, prop, false);
	vcard_prop_filter_add_text_match(pf, text, coll, m, negate);
	return run(f);
}

static void test_filter_text(void **state)
{
	(void)state;
	enum vcard_collation U = VCARD_COLL_UNICODE_CASEMAP, A = VCARD_COLL_ASCII_CASEMAP,
			     O = VCARD_COLL_OCTET;
	assert_true(one_text("FN", "\xc3\xa9lodie", U, VCARD_MATCH_STARTS_WITH, false));
	assert_true(one_text("FN", "E\xcc\x81LODIE", U, VCARD_MATCH_STARTS_WITH, false));
	assert_false(one_text("FN", "\xc3\xa9lodie", A, VCARD_MATCH_STARTS_WITH, false));
	assert_true(one_text("FN", "\xc3\x89LODIE", A, VCARD_MATCH_STARTS_WITH, false));
	assert_true(one_text("FN", "dupont", A, VCARD_MATCH_ENDS_WITH, false));
	assert_false(one_text("FN", "dupont", O, VCARD_MATCH_ENDS_WITH, false));
	assert_true(one_text("FN", "Dupont", O, VCARD_MATCH_ENDS_WITH, false));
	assert_false(one_text("FN", "dupon", U, VCARD_MATCH_ENDS_WITH, false));
	assert_true(one_text("EMAIL", "example.com", U, VCARD_MATCH_CONTAINS, false));
	assert_true(one_text("EMAIL", "ELO@HOME.EXAMPLE", U, VCARD_MATCH_EQUALS, false));
	assert_false(one_text("EMAIL", "elo@home", U, VCARD_MATCH_EQUALS, false));
	/* negate applies to each EMAIL: the home one does not contain example.com */
	assert_true(one_text("EMAIL", "example.com", U, VCARD_MATCH_CONTAINS, true));
	assert_false(one_text("UID", "abc", U, VCARD_MATCH_STARTS_WITH, true));
	assert_true(one_text("NOTE", "semi;colon", O, VCARD_MATCH_EQUALS, false));
	assert_true(one_text("TEL", "12 34", U, VCARD_MATCH_CONTAINS, false));
	assert_false(one_text("TITLE", "", U, VCARD_MATCH_CONTAINS, true));
	assert_true(one_text("fn", "", U, VCARD_MATCH_CONTAINS, false));
	assert_int_equal(vcard_collation_from_name("i;unicode-casemap"), VCARD_COLL_UNICODE_CASEMAP);
	assert_int_equal(vcard_collation_from_name("i;ascii-casemap"), VCARD_COLL_ASCII_CASEMAP);
	assert_int_equal(vcard_collation_from_name("i;octet"), VCARD_COLL_OCTET);
	assert_int_equal(vcard_collation_from_name("i;ascii-numeric"), -1);
	assert_int_equal(vcard_match_type_from_name("starts-with"), VCARD_MATCH_STARTS_WITH);
	assert_int_equal(vcard_match_type_from_name("ends-with"), VCARD_MATCH_ENDS_WITH);
	assert_int_equal(vcard_match_type_from_name("equals"), VCARD_MATCH_EQUALS);
	assert_int_equal(vcard_match_type_from_name("contains"), VCARD_MATCH_CONTAINS);
	assert_int_equal(vcard_match_type_from_name("regex"), -1);
}

static void test_filter_tree(void **state)
{
	(void)state;
	const enum vcard_collation U = VCARD_COLL_UNICODE_CASEMAP;
	struct vcard_filter *f;
	struct vcard_prop_filter *pf;

	/* empty filter: everything */
	assert_true(run(vcard_filter_new(false)));
	assert_true(run(vcard_filter_new(true)));
	/* existence and is-not-defined */
	f = vcard_filter_new(false);
	vcard_filter_add_prop(f, "EMAIL", false);
	assert_true(run(f));
	f = vcard_filter_new(false);
	vcard_filter_add_prop(f, "X-NOPE", false);
	assert_false(run(f));
	f = vcard_filter_new(false);
	vcard_filter_add_prop(f, "X-NOPE", false)->is_not_defined = true;
	assert_true(run(f));
	f = vcard_filter_new(false);
	vcard_filter_add_prop(f, "email", false)->is_not_defined = true;
	assert_false(run(f));
	/* filter anyof / allof */
	f = vcard_filter_new(false);
	vcard_filter_add_prop(f, "X-NOPE", false);
	vcard_filter_add_prop(f, "TEL", false);
	assert_true(run(f));
	f = vcard_filter_new(true);
	vcard_filter_add_prop(f, "X-NOPE", false);
	vcard_filter_add_prop(f, "TEL", false);
	assert_false(run(f));
	/* prop-filter allof is per property: the WORK email is not @home */
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "EMAIL", true);
	vcard_prop_filter_add_param(pf, "TYPE", false, "work", U, VCARD_MATCH_EQUALS, false);
	vcard_prop_filter_add_text_match(pf, "home", U, VCARD_MATCH_CONTAINS, false);
	assert_false(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "EMAIL", true);
	vcard_prop_filter_add_param(pf, "TYPE", false, "home", U, VCARD_MATCH_EQUALS, false);
	vcard_prop_filter_add_text_match(pf, "home", U, VCARD_MATCH_CONTAINS, false);
	assert_true(run(f));
	/* anyof inside a prop-filter */
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "EMAIL", false);
	vcard_prop_filter_add_text_match(pf, "nobody", U, VCARD_MATCH_CONTAINS, false);
	vcard_prop_filter_add_text_match(pf, "elodie@", U, VCARD_MATCH_STARTS_WITH, false);
	assert_true(run(f));
	/* param-filter forms */
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "TEL", false);
	vcard_prop_filter_add_param(pf, "TYPE", false, NULL, U, VCARD_MATCH_CONTAINS, false);
	assert_true(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "TEL", false);
	vcard_prop_filter_add_param(pf, "TYPE", true, NULL, U, VCARD_MATCH_CONTAINS, false);
	assert_false(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "FN", false);
	vcard_prop_filter_add_param(pf, "LANGUAGE", true, NULL, U, VCARD_MATCH_CONTAINS, false);
	assert_true(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "TEL", false);
	vcard_prop_filter_add_param(pf, "TYPE", false, "cell", U, VCARD_MATCH_EQUALS, true);
	assert_false(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "TEL", false);
	vcard_prop_filter_add_param(pf, "TYPE", false, "fax", U, VCARD_MATCH_EQUALS, true);
	assert_true(run(f));
	f = vcard_filter_new(false);
	pf = vcard_filter_add_prop(f, "FN", false);
	vcard_prop_filter_add_param(pf, "X-NONE", false, "a", U, VCARD_MATCH_EQUALS, true);
	assert_false(run(f));	/* an absent parameter does not match, even negated */
}

static void test_subset(void **state)
{
	(void)state;
	struct vcard *c = parse_ok(filter_card);
	const struct vcard_prop_sel sel[] = { { "fn", false }, { "EMAIL", true }, { "UID", false } };
	struct vcard *d = vcard_subset(c, sel, ARRAY_SIZE(sel));
	char *s = ser(d);
	assert_string_equal(s, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\xc3\x89lodie Dupont\r\n"
			       "EMAIL;TYPE=INTERNET,WORK:\r\nEMAIL;TYPE=HOME:\r\n"
			       "UID:abc-123\r\nEND:VCARD\r\n");
	free(s);
	vcard_free(&d);
	vcard_free(&c);
}

static void test_convert_details(void **state)
{
	(void)state;
	/* 4.0 without N gets an empty one in 3.0, right after FN */
	struct vcard *c = parse_ok("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Acme\r\nKIND:org\r\n"
				   "PHOTO:https://example.com/a.png\r\n"
				   "TEL;VALUE=uri;TYPE=work:tel:+1-555-0100;ext=12\r\n"
				   "GENDER:O;other\r\nEND:VCARD\r\n");
	struct vcard *d = vcard_convert(c, VCARD_V3);
	char *s = ser(d);
	assert_string_equal(s, "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Acme\r\nN:;;;;\r\n"
			       "X-ADDRESSBOOKSERVER-KIND:org\r\n"
			       "PHOTO;VALUE=uri:https://example.com/a.png\r\n"
			       "TEL;TYPE=work:+1-555-0100\r\n"
			       "GENDER:O;other\r\nEND:VCARD\r\n");
	const char *e;
	assert_int_equal(vcard_validate(d, 0, &e), 0);
	free(s);
	vcard_free(&d);
	vcard_free(&c);
	/* 3.0 with VERSION late: 4.0 puts it first */
	c = parse_ok("BEGIN:VCARD\r\nFN:x\r\nN:x;;;;\r\nVERSION:3.0\r\nEND:VCARD\r\n");
	d = vcard_convert(c, VCARD_V4);
	s = ser(d);
	assert_string_equal(s, "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\nN:x;;;;\r\nEND:VCARD\r\n");
	free(s);
	vcard_free(&d);
	/* the same version: an identical copy */
	d = vcard_convert(c, VCARD_V3);
	s = ser(d);
	assert_string_equal(s, "BEGIN:VCARD\r\nFN:x\r\nN:x;;;;\r\nVERSION:3.0\r\nEND:VCARD\r\n");
	free(s);
	vcard_free(&d);
	vcard_free(&c);
}

/* ---- the global address list ---- */

#define V(s) { s, sizeof(s) - 1 }

static void test_gal_user(void **state)
{
	(void)state;
	char **fn = vcard_gal_names("displayName cn"), **sn = vcard_gal_names("sn"),
	     **gn = vcard_gal_names("givenName"), **mail = vcard_gal_names("mail, mailAlternateAddress"),
	     **tw = vcard_gal_names("telephoneNumber"), **tc = vcard_gal_names("mobile"),
	     **photo = vcard_gal_names("jpegPhoto"), **org = vcard_gal_names("o"),
	     **ou = vcard_gal_names("ou"), **title = vcard_gal_names("title");
	assert_string_equal(mail[1], "mailAlternateAddress");
	assert_null(mail[2]);
	struct vcard_gal_map map = { (const char *const *)fn, (const char *const *)sn,
				     (const char *const *)gn, (const char *const *)mail,
				     (const char *const *)tw, (const char *const *)tc,
				     (const char *const *)photo, (const char *const *)org,
				     (const char *const *)ou, (const char *const *)title, NULL, NULL,
				     1024 };
	static const struct vcard_gal_value cn[] = { V("  "), V("Ann \xc3\x85kesson, PhD") };
	static const struct vcard_gal_value bad_dn[] = { V("Ann\xff") };
	static const struct vcard_gal_value s1[] = { V("\xc3\x85kesson") };
	static const struct vcard_gal_value g1[] = { V("Ann") };
	static const struct vcard_gal_value m1[] = { V("ann@example.test") };
	static const struct vcard_gal_value m2[] = { V("ANN@example.test"), V("a.akesson@example.test") };
	static const struct vcard_gal_value t1[] = { V("+46 8 123 456") };
	static const struct vcard_gal_value c1[] = { V("+46 70 123 45 67") };
	static const struct vcard_gal_value p1[] = { V("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01") };
	static const struct vcard_gal_value o1[] = { V("Example; Inc") };
	static const struct vcard_gal_value ou1[] = { V("R&D") };
	static const struct vcard_gal_value ti[] = { V("Chief\nEngineer") };
	const struct vcard_gal_attr attrs[] = {
		{ "displayname", bad_dn, 1 }, { "CN", cn, 2 }, { "sn", s1, 1 }, { "givenName", g1, 1 },
		{ "mail", m1, 1 }, { "mailAlternateAddress", m2, 2 }, { "telephoneNumber", t1, 1 },
		{ "mobile", c1, 1 }, { "jpegPhoto", p1, 1 }, { "o", o1, 1 }, { "ou", ou1, 1 },
		{ "title", ti, 1 },
	};
	struct vcard_gal_src src = { "5e0f4c2a-1111-4f00-8000-000000000001", VCARD_GAL_USER,
				     attrs, ARRAY_SIZE(attrs), NULL, 0 };
	struct buf out;
	buf_init(&out, 0);
	const char *err = NULL;
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_string_equal(out.data,
		"BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:-//Cairn//GAL//EN\r\n"
		"UID:5e0f4c2a-1111-4f00-8000-000000000001\r\nKIND:individual\r\n"
		"FN:Ann \xc3\x85kesson\\, PhD\r\nN:\xc3\x85kesson;Ann;;;\r\n"
		"EMAIL;TYPE=work;PREF=1:ann@example.test\r\n"
		"EMAIL;TYPE=work:a.akesson@example.test\r\n"
		"TEL;TYPE=work,voice:+46 8 123 456\r\nTEL;TYPE=cell:+46 70 123 45 67\r\n"
		"ORG:Example\\; Inc;R&D\r\nTITLE:Chief\\nEngineer\r\n"
		"PHOTO:data:image/jpeg;base64,/9j/4AAQSkZJRgAB\r\nEND:VCARD\r\n");
	struct vcard *c = parse_ok(out.data);
	assert_int_equal(vcard_validate(c, VCARD_VALIDATE_UID, &err), 0);
	struct vcard_index idx;
	vcard_index_build(c, &idx);
	assert_int_equal(idx.nemails, 2);
	assert_int_equal(idx.ntels, 2);
	assert_string_equal(idx.tels[1], "+46701234567");
	vcard_index_free(&idx);
	/* and as 3.0 for old clients */
	struct vcard *d = vcard_convert(c, VCARD_V3);
	assert_int_equal(vcard_validate(d, VCARD_VALIDATE_UID, &err), 0);
	vcard_free(&d);
	vcard_free(&c);

	/* a photo over the limit is left out; no name at all falls back to the address */
	map.max_photo = 4;
	const struct vcard_gal_attr only_mail[] = { { "mail", m1, 1 }, { "jpegPhoto", p1, 1 } };
	src.attrs = only_mail;
	src.nattrs = 2;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_non_null(strstr(out.data, "FN:ann@example.test\r\n"));
	assert_null(strstr(out.data, "PHOTO"));
	assert_null(strstr(out.data, "\r\nN:"));
	/* nothing to name it by, or no UID */
	src.nattrs = 0;
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), -1);
	src.nattrs = 2;
	src.uid = "has space";
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), -1);
	buf_free(&out);
	vcard_gal_names_free(&fn);
	vcard_gal_names_free(&sn);
	vcard_gal_names_free(&gn);
	vcard_gal_names_free(&mail);
	vcard_gal_names_free(&tw);
	vcard_gal_names_free(&tc);
	vcard_gal_names_free(&photo);
	vcard_gal_names_free(&org);
	vcard_gal_names_free(&ou);
	vcard_gal_names_free(&title);
	assert_null(fn);
}

static void test_gal_group(void **state)
{
	(void)state;
	static const char *const cn[] = { "cn", NULL };
	static const char *const mail[] = { "mail", NULL };
	struct vcard_gal_map map = { .fn = cn, .email = mail, .max_photo = 0 };
	static const struct vcard_gal_value n[] = { V("Sales") };
	static const struct vcard_gal_value m[] = { V("sales@example.test") };
	const struct vcard_gal_attr attrs[] = { { "cn", n, 1 }, { "mail", m, 1 } };
	static const char *const members[] = { "urn:uuid:1", "mailto:x@remote.test", "bad uri" };
	struct vcard_gal_src src = { "cairn-group-7", VCARD_GAL_GROUP, attrs, 2, members, 3 };
	struct buf out;
	buf_init(&out, 0);
	const char *err;
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	struct vcard *c = parse_ok(out.data);
	assert_int_equal(vcard_validate(c, VCARD_VALIDATE_UID, &err), 0);
	struct vcard_index idx;
	vcard_index_build(c, &idx);
	assert_string_equal(idx.kind, "group");
	assert_int_equal(idx.nmembers, 2);
	assert_string_equal(idx.members[1], "mailto:x@remote.test");
	vcard_index_free(&idx);
	struct vcard *d = vcard_convert(c, VCARD_V3);
	char *s = ser(d);
	assert_non_null(strstr(s, "X-ADDRESSBOOKSERVER-KIND:group\r\n"));
	assert_non_null(strstr(s, "X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:1\r\n"));
	free(s);
	vcard_free(&d);
	vcard_free(&c);
	/* rooms and equipment */
	src.kind = VCARD_GAL_LOCATION;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_non_null(strstr(out.data, "KIND:location\r\n"));
	assert_null(strstr(out.data, "MEMBER"));
	/* with a location and a capacity (resources only; "0" and junk are
	 * no capacity) */
	static const char *const loc_names[] = { "location", NULL };
	static const char *const cap_names[] = { "capacity", NULL };
	map.location = loc_names;
	map.capacity = cap_names;
	static const struct vcard_gal_value loc[] = { V("Floor 2; east, left") };
	static const struct vcard_gal_value cap[] = { V("12") };
	static const struct vcard_gal_value cap0[] = { V("0") };
	static const struct vcard_gal_value capx[] = { V("12 people") };
	struct vcard_gal_attr rattrs[] = { { "cn", n, 1 }, { "mail", m, 1 },
					   { "location", loc, 1 }, { "capacity", cap, 1 } };
	src.attrs = rattrs;
	src.nattrs = 4;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_non_null(strstr(out.data, "ADR;TYPE=work:;Floor 2\\; east\\, left;;;;;\r\n"));
	assert_non_null(strstr(out.data, "NOTE:Capacity: 12\r\n"));
	assert_non_null(strstr(out.data, "X-CAIRN-CAPACITY:12\r\n"));
	vcard_free(&c);
	c = parse_ok(out.data);
	assert_int_equal(vcard_validate(c, VCARD_VALIDATE_UID, &err), 0);
	vcard_free(&c);
	rattrs[3].values = cap0;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_null(strstr(out.data, "CAPACITY"));
	rattrs[3].values = capx;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_null(strstr(out.data, "CAPACITY"));
	/* a user never gets them */
	src.kind = VCARD_GAL_USER;
	rattrs[3].values = cap;
	buf_reset(&out);
	assert_int_equal(vcard_gal_build(&map, &src, &out, &err), 0);
	assert_null(strstr(out.data, "ADR") );
	assert_null(strstr(out.data, "CAPACITY"));
	buf_free(&out);

	char *name = vcard_gal_object_name("cairn-group-7");
	assert_string_equal(name, "cairn-group-7.vcf");
	free(name);
	name = vcard_gal_object_name("a/b");
	assert_string_equal(name, "612f62.vcf");
	free(name);
	name = vcard_gal_object_name("..");
	assert_string_equal(name, "2e2e.vcf");
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden),	      cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_limits),	      cmocka_unit_test(test_multi),
		cmocka_unit_test(test_params),	      cmocka_unit_test(test_escapes),
		cmocka_unit_test(test_fold),	      cmocka_unit_test(test_validate),
		cmocka_unit_test(test_filter_text),   cmocka_unit_test(test_filter_tree),
		cmocka_unit_test(test_subset),	      cmocka_unit_test(test_convert_details),
		cmocka_unit_test(test_gal_user),      cmocka_unit_test(test_gal_group),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
