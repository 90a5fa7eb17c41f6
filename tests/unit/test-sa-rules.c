/* Unit tests for proto/sa_rules: SpamAssassin rule syntax, regex literals,
 * conditionals and meta expressions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sa_rules.h"

static const char *const plugins[] = { "Mail::SpamAssassin::Plugin::Known", NULL };

static struct sa_ruleset *parse_ok(const char *text)
{
	struct sa_ruleset *rs = sa_ruleset_new();
	char err[256] = "";
	int r = sa_rules_parse(rs, "t.cf", text, strlen(text), plugins, 4.000001, err, sizeof(err));
	if (r != 0)
		fail_msg("parse failed: %s", err);
	return rs;
}

static void parse_err(const char *text, const char *want)
{
	struct sa_ruleset *rs = sa_ruleset_new();
	char err[256] = "";
	assert_int_equal(sa_rules_parse(rs, "t.cf", text, strlen(text), plugins, 4.0, err, sizeof(err)), -1);
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' lacks '%s'", err, want);
	sa_ruleset_free(&rs);
}

static void test_header_rules(void **state)
{
	(void)state;
	struct sa_ruleset *rs = parse_ok(
		"# comment\n"
		"header SUBJ_FOO  Subject =~ /foo\\#bar/i  # trailing comment\n"
		"header FROM_ADDR From:addr =~ m{\\@example\\.test$}\n"
		"header NOT_X     X-Mailer:raw !~ /^ok/ [if-unset: ok]\n"
		"header HAS_S     exists:Sender\n"
		"header ANY       ALL =~ /^X-Spam-Flag: YES/m\n"
		"header EV        eval:check_for_faked_aol()\n"
		"header NR        From:name:raw:first =~ /x/\n"
		"header HOSTM     From:host =~ /x/\n");
	struct sa_rule *r = sa_ruleset_find(rs, "SUBJ_FOO");
	assert_non_null(r);
	assert_int_equal(r->type, SA_RULE_HEADER);
	assert_string_equal(r->header, "Subject");
	assert_string_equal(r->pattern, "foo#bar");
	assert_int_equal(r->re_flags, SA_RE_I);
	assert_false(r->negate);
	assert_int_equal(r->line, 2);
	r = sa_ruleset_find(rs, "FROM_ADDR");
	assert_int_equal(r->mod, SA_HMOD_ADDR);
	assert_string_equal(r->pattern, "\\@example\\.test$");
	r = sa_ruleset_find(rs, "NOT_X");
	assert_true(r->negate);
	assert_true(r->raw);
	assert_int_equal(r->mod, SA_HMOD_NONE);
	assert_string_equal(r->unset, "ok");
	r = sa_ruleset_find(rs, "HAS_S");
	assert_true(r->exists);
	assert_string_equal(r->header, "Sender");
	assert_null(r->pattern);
	r = sa_ruleset_find(rs, "ANY");
	assert_string_equal(r->header, "ALL");
	assert_int_equal(r->re_flags, SA_RE_M);
	assert_null(sa_ruleset_find(rs, "EV"));
	r = sa_ruleset_find(rs, "NR");
	assert_true(r->raw && r->mod == SA_HMOD_NAME && r->pick == SA_HPICK_FIRST);
	assert_null(sa_ruleset_find(rs, "HOSTM"));
	assert_int_equal(rs->unsupported, 2);
	sa_ruleset_free(&rs);
}

static void test_other_rules(void **state)
{
	(void)state;
	struct sa_ruleset *rs = parse_ok(
		"body GTUBE /XJS\\*C4JDBQADN1\\.NSBN3\\*2IDNEN\\*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL\\*C\\.34X/\n"
		"score GTUBE 1000\n"
		"describe GTUBE Generic Test for Unsolicited Bulk Email\n"
		"tflags GTUBE userconf noautolearn\n"
		"rawbody RB m!<font\\s+size=\"?7!six\n"
		"uri U_IP m{^https?://\\d+\\.\\d+\\.\\d+\\.\\d+}\n"
		"full F /^Received: .{0,40}\\(HELO x\\)/ms\n"
		"meta M (GTUBE && !U_IP) || RB + F > 1\n"
		"score M 1.0 2.0 (3.5) -4\n"
		"tflags M nice multiple maxhits=5\n"
		"score ONLY_SCORE 2\n"
		"required_score 6.5\n"
		"lang de describe GTUBE Deutsch\n");
	struct sa_rule *r = sa_ruleset_find(rs, "GTUBE");
	assert_int_equal(r->type, SA_RULE_BODY);
	assert_true(r->scored);
	assert_true(r->score[0] == 1000 && r->score[3] == 1000);
	assert_string_equal(r->describe, "Generic Test for Unsolicited Bulk Email");
	assert_int_equal(r->tflags, SA_TF_USERCONF | SA_TF_NOAUTOLEARN);
	r = sa_ruleset_find(rs, "RB");
	assert_int_equal(r->type, SA_RULE_RAWBODY);
	assert_string_equal(r->pattern, "<font\\s+size=\"?7");
	assert_int_equal(r->re_flags, SA_RE_S | SA_RE_I | SA_RE_X);
	r = sa_ruleset_find(rs, "U_IP");
	assert_int_equal(r->type, SA_RULE_URI);
	r = sa_ruleset_find(rs, "F");
	assert_int_equal(r->re_flags, SA_RE_M | SA_RE_S);
	r = sa_ruleset_find(rs, "M");
	assert_int_equal(r->type, SA_RULE_META);
	assert_true(r->score[0] == 1.0 && r->score[1] == 2.0 && r->score[2] == 3.5 && r->score[3] == -4);
	assert_int_equal(r->tflags, SA_TF_NICE | SA_TF_MULTIPLE);
	assert_int_equal(r->maxhits, 5);
	r = sa_ruleset_find(rs, "ONLY_SCORE");
	assert_int_equal(r->type, SA_RULE_NONE);
	assert_true(rs->has_required && rs->required_score == 6.5);
	sa_ruleset_free(&rs);
}

static void test_redefine(void **state)
{
	(void)state;
	struct sa_ruleset *rs = parse_ok("body A /x/\nscore A 3\nbody A /y/\n");
	struct sa_rule *r = sa_ruleset_find(rs, "A");
	assert_string_equal(r->pattern, "y");
	assert_true(r->scored && r->score[0] == 3);
	assert_int_equal(rs->count, 1);
	sa_ruleset_free(&rs);
}

static void test_conditionals(void **state)
{
	(void)state;
	struct sa_ruleset *rs = parse_ok(
		"ifplugin Mail::SpamAssassin::Plugin::Known\nbody K1 /a/\nendif\n"
		"ifplugin Mail::SpamAssassin::Plugin::Unknown\nbody U1 /a/\n"
		"  if (version >= 3.004000)\n  body U2 /a/\n  endif\nendif\n"
		"if (version >= 3.004000)\nbody V1 /a/\nendif\n"
		"if (version >= 4.001000)\nbody V2 /a/\nelse\nbody V3 /a/\nendif\n"
		"if can(Mail::SpamAssassin::Conf::feature_bug6558_free)\nbody C1 /a/\nendif\n"
		"if !can(Mail::SpamAssassin::Conf::feature_x)\nbody C2 /a/\nendif\n"
		"if !plugin(Mail::SpamAssassin::Plugin::Unknown)\nbody P1 /a/\nendif\n"
		"if plugin(Mail::SpamAssassin::Plugin::Known) && version > 3\nbody P2 /a/\nendif\n"
		"ifplugin Mail::SpamAssassin::Plugin::Unknown\nbody BAD /( unbalanced but skipped\nendif\n");
	assert_non_null(sa_ruleset_find(rs, "K1"));
	assert_null(sa_ruleset_find(rs, "U1"));
	assert_null(sa_ruleset_find(rs, "U2"));
	assert_non_null(sa_ruleset_find(rs, "V1"));
	assert_null(sa_ruleset_find(rs, "V2"));
	assert_non_null(sa_ruleset_find(rs, "V3"));
	assert_null(sa_ruleset_find(rs, "C1"));
	assert_non_null(sa_ruleset_find(rs, "C2"));
	assert_non_null(sa_ruleset_find(rs, "P1"));
	assert_non_null(sa_ruleset_find(rs, "P2"));
	sa_ruleset_free(&rs);
}

static void test_errors(void **state)
{
	(void)state;
	parse_err("body A /x/\nbody B /unterminated\n", "t.cf:2: unterminated regex");
	parse_err("body A x/\n", "t.cf:1: regex must start");
	parse_err("body A /x/q\n", "unknown regex flag");
	parse_err("header A Subject ~ /x/\n", "=~ or !~");
	parse_err("header A Subject:foo =~ /x/\n", "unknown header modifier");
	parse_err("meta M (A && \n", "t.cf:1:");
	parse_err("meta M A B\n", "operator expected");
	parse_err("score A 1 2\n", "1 or 4");
	parse_err("score A x\n", "bad score");
	parse_err("body BAD-NAME /x/\n", "name");
	parse_err("ifplugin X\nbody A /x/\n", "without endif");
	parse_err("endif\n", "endif without if");
	parse_err("if (frobnicate)\nendif\n", "cannot evaluate");
	parse_err("body A /(?{ system('x') })/\n", "Perl code");
	parse_err("body A /x/ junk\n", "junk after");
}

static void test_regex_split(void **state)
{
	(void)state;
	char *pat;
	unsigned flags;
	const char *end, *error;
	assert_int_equal(sa_regex_split("m{a{2}b\\}c}is rest", &pat, &flags, &end, &error), 0);
	assert_string_equal(pat, "a{2}b\\}c");
	assert_int_equal(flags, SA_RE_I | SA_RE_S);
	assert_string_equal(end, " rest");
	free(pat);
	assert_int_equal(sa_regex_split("/a\\/b/", &pat, &flags, &end, &error), 0);
	assert_string_equal(pat, "a\\/b");
	free(pat);
	assert_int_equal(sa_regex_split("m(a(b)c)", &pat, &flags, &end, &error), 0);
	assert_string_equal(pat, "a(b)c");
	free(pat);
	assert_int_equal(sa_regex_split("m/x", &pat, &flags, &end, &error), -1);
	assert_int_equal(sa_regex_split("//", &pat, &flags, &end, &error), -1);
	assert_int_equal(sa_regex_split("m", &pat, &flags, &end, &error), -1);
	assert_int_equal(sa_regex_split("/x\\", &pat, &flags, &end, &error), -1);
}

static double eval(const char *expr, const double *vals)
{
	const char *error = NULL;
	struct sa_meta *m = sa_meta_compile(expr, &error);
	if (m == NULL)
		fail_msg("%s: %s", expr, error);
	double v = sa_meta_eval(m, vals);
	sa_meta_free(&m);
	return v;
}

static void test_meta(void **state)
{
	(void)state;
	const char *error;
	struct sa_meta *m = sa_meta_compile("(__A + __B + C > 1) && !D", &error);
	assert_non_null(m);
	assert_int_equal(sa_meta_name_count(m), 4);
	assert_string_equal(sa_meta_name(m, 0), "__A");
	assert_string_equal(sa_meta_name(m, 3), "D");
	double v1[] = { 1, 1, 0, 0 };
	assert_true(sa_meta_eval(m, v1) == 1);
	double v2[] = { 1, 0, 0, 0 };
	assert_true(sa_meta_eval(m, v2) == 0);
	double v3[] = { 1, 1, 1, 1 };
	assert_true(sa_meta_eval(m, v3) == 0);
	sa_meta_free(&m);
	double a[] = { 2, 3, 4 };
	assert_true(eval("A + B * C", a) == 14);
	assert_true(eval("(A + B) * C", a) == 20);
	assert_true(eval("A - B - C", a) == -5);
	assert_true(eval("-A + B", a) == 1);
	assert_true(eval("A / 0", a) == 0);
	assert_true(eval("A || B && 0", a) == 1);
	assert_true(eval("!A || !B", a) == 0);
	assert_true(eval("A == 2 && B != 2 && C >= 4 && C <= 4 && A < B", a) == 1);
	assert_true(eval("!!A", a) == 1);
	assert_true(eval("1.5 * 2", a) == 3);
	assert_null(sa_meta_compile("", &error));
	assert_null(sa_meta_compile("A &&", &error));
	assert_null(sa_meta_compile("(A", &error));
	assert_null(sa_meta_compile("A)", &error));
	assert_null(sa_meta_compile("A $ B", &error));
	assert_null(sa_meta_compile("A B", &error));
	char deep[1200];
	memset(deep, '(', 600);
	strcpy(deep + 600, "A");
	assert_null(sa_meta_compile(deep, &error));
}

/* Every rule file Debian ships with spamassassin parses (when installed). */
static void test_debian_rules(void **state)
{
	(void)state;
	const char *files[] = { "/usr/share/spamassassin/20_drugs.cf",
				"/usr/share/spamassassin/20_head_tests.cf",
				"/usr/share/spamassassin/72_active.cf" };
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "rb");
		if (f == NULL)
			continue;
		char *text = malloc(4 << 20);
		size_t n = fread(text, 1, 4 << 20, f);
		fclose(f);
		struct sa_ruleset *rs = sa_ruleset_new();
		char err[256] = "";
		int r = sa_rules_parse(rs, files[i], text, n, NULL, 4.000001, err, sizeof(err));
		free(text);
		if (r != 0)
			fail_msg("%s", err);
		assert_true(rs->count > 10);
		sa_ruleset_free(&rs);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_other_rules),
		cmocka_unit_test(test_redefine),
		cmocka_unit_test(test_conditionals),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_regex_split),
		cmocka_unit_test(test_meta),
		cmocka_unit_test(test_debian_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
