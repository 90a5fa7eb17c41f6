/* Unit tests for webadmin/wa-tpl.c: escaping by context (text, attribute,
 * URL, URL part), refusal of placeholders in unsafe places, sections,
 * partials, and the attack strings a stored or reflected XSS would use. */
#include "autoconf.h"
#include "wa-tpl.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static char *loader(const char *name, size_t *len_r, void *ctx)
{
	(void)ctx;
	const char *text = NULL;
	if (strcmp(name, "head") == 0)
		text = "<h1>{{title}}</h1>";
	else if (strcmp(name, "loop") == 0)
		text = "{{> loop}}";
	else if (strcmp(name, "opentag") == 0)
		text = "<a href=\"";
	if (text == NULL)
		return NULL;
	*len_r = strlen(text);
	return xstrdup(text);
}

static char *render(const char *tmpl, struct tpl_vars *v)
{
	struct tpl *t = NULL;
	char *error = NULL;
	if (tpl_compile("t", tmpl, strlen(tmpl), loader, NULL, &t, &error) < 0)
		fail_msg("compile: %s", error);
	struct buf out;
	buf_init(&out, 0);
	assert_int_equal(tpl_render(t, v, &out), 0);
	tpl_free(&t);
	assert_null(t);
	char *s = xstrdup(out.data != NULL ? out.data : "");
	buf_free(&out);
	return s;
}

static void check(const char *tmpl, struct tpl_vars *v, const char *want)
{
	char *got = render(tmpl, v);
	assert_string_equal(got, want);
	free(got);
}

static void refused(const char *tmpl, const char *why)
{
	struct tpl *t = NULL;
	char *error = NULL;
	assert_int_equal(tpl_compile("t", tmpl, strlen(tmpl), loader, NULL, &t, &error), -1);
	assert_null(t);
	assert_non_null(error);
	if (strstr(error, why) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", error, why);
	free(error);
}

static void test_text(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "x", "<script>alert('x')&\"</script>");
	check("<p>{{x}}</p>", v, "<p>&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;</p>");
	check("<p>{{ x }}</p>", v, "<p>&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;</p>");
	check("<p>{{missing}}</p>", v, "<p></p>");
	check("{{! a comment }}ok", v, "ok");
	tpl_set(v, "h", "<b>bold</b>");
	check("<div>{{raw h}}</div>", v, "<div><b>bold</b></div>");
	tpl_vars_free(&v);
	assert_null(v);
}

static void test_attr(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "x", "\" onmouseover=\"alert(1)");
	check("<input value=\"{{x}}\">", v, "<input value=\"&quot; onmouseover=&quot;alert(1)\">");
	check("<input value='{{x}}'>", v, "<input value='&quot; onmouseover=&quot;alert(1)'>");
	tpl_set(v, "y", "a'b`c");
	check("<input title='{{y}}'>", v, "<input title='a&#39;b&#96;c'>");
	/* After a tag, text is text again. */
	check("<input value=\"{{y}}\">{{y}}", v, "<input value=\"a&#39;b&#96;c\">a&#39;b&#96;c");
	tpl_vars_free(&v);
}

static void test_url(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "u", "javascript:alert(1)");
	check("<a href=\"{{u}}\">x</a>", v, "<a href=\"#\">x</a>");
	tpl_set(v, "u", "JaVaScRiPt:alert(1)");
	check("<a href=\"{{u}}\">x</a>", v, "<a href=\"#\">x</a>");
	tpl_set(v, "u", "java\tscript:alert(1)");
	check("<a href=\"{{u}}\">x</a>", v, "<a href=\"#\">x</a>");
	tpl_set(v, "u", "data:text/html,<script>");
	check("<form action=\"{{u}}\"></form>", v, "<form action=\"#\"></form>");
	tpl_set(v, "u", "https://example.test/?a=1&b=\"2\"");
	check("<a href=\"{{u}}\">x</a>", v, "<a href=\"https://example.test/?a=1&amp;b=&quot;2&quot;\">x</a>");
	tpl_set(v, "u", "/users?q=a:b");
	check("<a href=\"{{u}}\">x</a>", v, "<a href=\"/users?q=a:b\">x</a>");
	/* Later in the value, a component: percent-encoded. */
	tpl_set(v, "q", "a&b=c\"><script>");
	check("<a href=\"/users?q={{q}}&amp;s=1\">x</a>", v,
	      "<a href=\"/users?q=a%26b%3Dc%22%3E%3Cscript%3E&amp;s=1\">x</a>");
	check("<a href=\"{{u}}&amp;x={{q}}\">x</a>", v,
	      "<a href=\"/users?q=a:b&amp;x=a%26b%3Dc%22%3E%3Cscript%3E\">x</a>");
	tpl_vars_free(&v);
}

static void test_refused(void **state)
{
	(void)state;
	refused("<a {{x}}>", "inside a tag");
	refused("<{{x}}>", "inside a tag");
	refused("<a href={{x}}>", "unquoted");
	refused("<a onclick=\"{{x}}\">", "event handler");
	refused("<p style=\"{{x}}\">", "style");
	refused("<!-- {{x}} -->", "comment");
	refused("<script>var a = {{x}};</script>", "script");
	refused("<style>{{x}}</style>", "script or style");
	refused("<a title=\"{{raw x}}\">", "raw insertion");
	refused("{{#if x}}<a title=\"{{/if}}\">", "changes the HTML context");
	refused("<a href=\"{{#if x}}/a{{/if}}{{y}}\">", "changes the HTML context");
	refused("{{#if x}}a{{/each}}", "without its start");
	refused("{{#if x}}a", "not closed");
	refused("{{else}}", "else outside");
	refused("{{#each x}}{{else}}{{/each}}", "else outside");
	refused("{{x", "unterminated");
	refused("{{}}", "empty tag");
	refused("{{a b}}", "bad variable name");
	refused("{{#frob x}}{{/frob}}", "unknown section");
	refused("{{> nosuch}}", "no partial");
	refused("{{> loop}}", "too deep");
	refused("<p title=\"x", "ends inside");
	refused("{{> opentag}}", "ends inside");
	/* Script and style end only at their own end tag. */
	refused("<script></b>{{x}}</script>", "script");
	char nul[] = "a\0b";
	struct tpl *t = NULL;
	char *error = NULL;
	assert_int_equal(tpl_compile("t", nul, 3, NULL, NULL, &t, &error), -1);
	free(error);
}

static void test_allowed_places(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "x", "<");
	check("<script src=\"/s.js\"></script>{{x}}", v, "<script src=\"/s.js\"></script>&lt;");
	check("<!-- c -->{{x}}", v, "<!-- c -->&lt;");
	check("<option {{#if x}}selected{{/if}}>{{x}}</option>", v, "<option selected>&lt;</option>");
	check("<p class=\"a {{#if x}}b{{/if}}\">", v, "<p class=\"a b\">");
	tpl_vars_free(&v);
}

static void test_sections(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "yes", "1");
	tpl_set(v, "empty", "");
	tpl_set(v, "name", "outer");
	check("{{#if yes}}Y{{else}}N{{/if}}", v, "Y");
	check("{{#if empty}}Y{{else}}N{{/if}}", v, "N");
	check("{{#if nope}}Y{{/if}}.", v, ".");
	check("{{#unless nope}}U{{else}}X{{/unless}}", v, "U");
	check("{{#unless yes}}U{{/unless}}.", v, ".");
	tpl_vars_free(&v);
}

static void test_each(void **state)
{
	(void)state;
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "title", "T");
	check("<ul>{{#each rows}}<li>{{n}}</li>{{/each}}</ul>{{#if rows}}!{{/if}}", v, "<ul></ul>");
	for (int i = 0; i < 3; i++) {
		struct tpl_vars *r = tpl_list_add(v, "rows");
		tpl_setf(r, "n", "<%d>", i);
		if (i == 1)
			tpl_list_add(r, "sub");
	}
	check("<ul>{{#each rows}}<li>{{n}}{{title}}{{#if sub}}*{{/if}}</li>{{/each}}</ul>{{#if rows}}!{{/if}}",
	      v, "<ul><li>&lt;0&gt;T</li><li>&lt;1&gt;T*</li><li>&lt;2&gt;T</li></ul>!");
	check("{{> head}}", v, "<h1>T</h1>");
	assert_string_equal(tpl_get(v, "title"), "T");
	assert_null(tpl_get(v, "nope"));
	tpl_set(v, "title", "U");
	check("{{title}}", v, "U");
	tpl_vars_free(&v);
}

static void test_output_limit(void **state)
{
	(void)state;
	struct tpl *t = NULL;
	char *error = NULL;
	const char *tmpl = "{{x}}{{x}}";
	assert_int_equal(tpl_compile("t", tmpl, strlen(tmpl), NULL, NULL, &t, &error), 0);
	struct tpl_vars *v = tpl_vars_new();
	tpl_set(v, "x", "<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<<");
	struct buf out;
	buf_init(&out, 100);
	assert_int_equal(tpl_render(t, v, &out), -1);
	buf_free(&out);
	tpl_vars_free(&v);
	tpl_free(&t);
}

static void test_escapers(void **state)
{
	(void)state;
	struct buf b;
	buf_init(&b, 0);
	assert_int_equal(tpl_escape_url_component(&b, "a b/é~", 7), 0);
	assert_string_equal(b.data, "a%20b%2F%C3%A9~");
	buf_reset(&b);
	assert_int_equal(tpl_escape_url(&b, "mailto:a@b", 10), 0);
	assert_string_equal(b.data, "mailto:a@b");
	buf_reset(&b);
	assert_int_equal(tpl_escape_url(&b, "vbscript:x", 10), 0);
	assert_string_equal(b.data, "#");
	buf_reset(&b);
	assert_int_equal(tpl_escape_html(&b, "a\0b", 3), 0);
	assert_string_equal(b.data, "a\xef\xbf\xbd" "b");
	buf_free(&b);
}

/* Every shipped template compiles: no placeholder in an unsafe place. */
static char *file_loader(const char *name, size_t *len_r, void *ctx)
{
	char *path = xasprintf("%s/%s.html", (const char *)ctx, name);
	FILE *f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return NULL;
	struct buf b;
	buf_init(&b, 0);
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	*len_r = b.len;
	return b.data != NULL ? b.data : xstrdup("");
}

static void test_shipped_templates(void **state)
{
	(void)state;
	static const char *const pages[] = {
		"login", "dashboard", "domains", "users", "user", "aliases", "groups", "group",
		"queue", "queue-message", "dkim", "folders", "audit", "self",
	};
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		size_t len;
		char *text = file_loader(pages[i], &len, (void *)WEBADMIN_TEMPLATES);
		assert_non_null(text);
		struct tpl *t = NULL;
		char *error = NULL;
		if (tpl_compile(pages[i], text, len, file_loader, (void *)WEBADMIN_TEMPLATES, &t,
				&error) < 0)
			fail_msg("%s", error);
		/* Rendered with hostile values everywhere, no tag comes from them. */
		struct tpl_vars *v = tpl_vars_new();
		static const char *const names[] = { "q", "me", "name", "address", "error", "notice",
						     "headers", "record", "mailbox", "target" };
		for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			tpl_set(v, names[k], "<x-evil>");
		struct buf out;
		buf_init(&out, 0);
		assert_int_equal(tpl_render(t, v, &out), 0);
		assert_null(strstr(out.data, "<x-evil>"));
		buf_free(&out);
		tpl_vars_free(&v);
		tpl_free(&t);
		free(text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text),
		cmocka_unit_test(test_attr),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_allowed_places),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_each),
		cmocka_unit_test(test_output_limit),
		cmocka_unit_test(test_escapers),
		cmocka_unit_test(test_shipped_templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
