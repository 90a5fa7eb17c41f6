/* calendar/dav-xml: the hardened parse (DTD, entities, depth, size), the
 * PROPFIND and PROPPATCH grammars, escaping, and dead-property serialisation
 * with its namespace declarations. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "dav-xml.h"

static const struct dav_xml_limits lim = { 4096, 16, 1000 };

static int parse(const char *s, xmlDocPtr *doc)
{
	const char *error = NULL;
	return dav_xml_parse(s, strlen(s), &lim, doc, &error);
}

static void test_propfind(void **state)
{
	(void)state;
	xmlDocPtr doc;
	assert_int_equal(parse("<?xml version=\"1.0\"?><D:propfind xmlns:D=\"DAV:\" "
			       "xmlns:C=\"urn:ietf:params:xml:ns:caldav\"><D:prop><D:getetag/>"
			       "<C:calendar-data/><x:y xmlns:x=\"urn:x\"/></D:prop></D:propfind>", &doc), 0);
	struct dav_propfind pf;
	const char *error;
	assert_int_equal(dav_propfind_parse(doc, &pf, &error), 0);
	assert_int_equal(pf.mode, DAV_PROPFIND_PROP);
	assert_int_equal(pf.count, 3);
	assert_string_equal(pf.props[0].ns, "DAV:");
	assert_string_equal(pf.props[0].name, "getetag");
	assert_string_equal(pf.props[1].ns, DAV_NS_CALDAV);
	assert_string_equal(pf.props[2].ns, "urn:x");
	assert_string_equal(pf.props[2].name, "y");
	dav_propfind_free(&pf);
	xmlFreeDoc(doc);

	assert_int_equal(parse("<propfind xmlns=\"DAV:\"><allprop/></propfind>", &doc), 0);
	assert_int_equal(dav_propfind_parse(doc, &pf, &error), 0);
	assert_int_equal(pf.mode, DAV_PROPFIND_ALLPROP);
	dav_propfind_free(&pf);
	xmlFreeDoc(doc);

	/* two of prop/propname/allprop, or another root: 400 */
	assert_int_equal(parse("<propfind xmlns=\"DAV:\"><allprop/><propname/></propfind>", &doc), 0);
	assert_int_equal(dav_propfind_parse(doc, &pf, &error), 400);
	xmlFreeDoc(doc);
	assert_int_equal(parse("<propfind xmlns=\"urn:not-dav\"><allprop/></propfind>", &doc), 0);
	assert_int_equal(dav_propfind_parse(doc, &pf, &error), 400);
	xmlFreeDoc(doc);
	/* no body: allprop */
	assert_int_equal(dav_propfind_parse(NULL, &pf, &error), 0);
	assert_int_equal(pf.mode, DAV_PROPFIND_ALLPROP);
}

static void test_refused(void **state)
{
	(void)state;
	xmlDocPtr doc;
	/* XXE */
	assert_int_equal(parse("<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x SYSTEM "
			       "\"file:///etc/passwd\">]><D:propfind xmlns:D=\"DAV:\">"
			       "<D:prop><D:getetag>&x;</D:getetag></D:prop></D:propfind>", &doc), 400);
	assert_null(doc);
	/* billion laughs */
	assert_int_equal(parse("<?xml version=\"1.0\"?><!DOCTYPE l [<!ENTITY a \"aaaaaaaa\">"
			       "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">]><l>&b;</l>", &doc), 400);
	/* any DTD at all, even an empty one */
	assert_int_equal(parse("<!DOCTYPE x><x/>", &doc), 400);
	/* an undeclared entity */
	assert_int_equal(parse("<x>&nope;</x>", &doc), 400);
	/* not namespace-well-formed: a prefix bound to "", an undeclared prefix */
	assert_int_equal(parse("<D:propfind xmlns:D=\"DAV:\"><D:prop><bar:foo xmlns:bar=\"\"/>"
			       "</D:prop></D:propfind>", &doc), 400);
	assert_null(doc);
	assert_int_equal(parse("<D:propfind xmlns:D=\"DAV:\"><D:prop><u:foo/></D:prop>"
			       "</D:propfind>", &doc), 400);
	/* the empty default namespace is fine */
	assert_int_equal(parse("<D:propfind xmlns:D=\"DAV:\"><D:prop><foo xmlns=\"\"/></D:prop>"
			       "</D:propfind>", &doc), 0);
	xmlFreeDoc(doc);
	/* too deep */
	char deep[2048] = "";
	for (int i = 0; i < 40; i++)
		strcat(deep, "<a>");
	for (int i = 0; i < 40; i++)
		strcat(deep, "</a>");
	assert_int_equal(parse(deep, &doc), 400);
	/* too large */
	char big[5000];
	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "<a>", 3);
	assert_int_equal(parse(big, &doc), 413);
	/* malformed */
	assert_int_equal(parse("<a><b></a>", &doc), 400);
	assert_int_equal(parse("", &doc), 400);
	/* the predefined entities and character references stay fine */
	assert_int_equal(parse("<a>&lt;&amp;&#233;</a>", &doc), 0);
	char *t = dav_xml_text(xmlDocGetRootElement(doc));
	assert_string_equal(t, "<&\xc3\xa9");
	xmlFree(t);
	xmlFreeDoc(doc);
}

static void test_proppatch_serialize(void **state)
{
	(void)state;
	xmlDocPtr doc;
	assert_int_equal(parse("<D:propertyupdate xmlns:D=\"DAV:\" xmlns:Z=\"http://ns.example.com/z/\">"
			       "<D:set><D:prop><Z:Authors><Z:Author>Jim &amp; Roy</Z:Author>"
			       "</Z:Authors></D:prop></D:set><D:remove><D:prop><Z:Copyright-Owner/>"
			       "</D:prop></D:remove></D:propertyupdate>", &doc), 0);
	struct dav_proppatch pp;
	const char *error;
	assert_int_equal(dav_proppatch_parse(doc, NULL, NULL, &pp, &error), 0);
	assert_int_equal(pp.count, 2);
	assert_false(pp.ops[0].remove);
	assert_string_equal(pp.ops[0].name, "Authors");
	assert_string_equal(pp.ops[0].ns, "http://ns.example.com/z/");
	assert_true(pp.ops[1].remove);
	struct buf out;
	buf_init(&out, 0);
	dav_xml_serialize(pp.ops[0].node, &out);
	/* the namespace is declared on the stored element itself */
	assert_string_equal(out.data, "<Z:Authors xmlns:Z=\"http://ns.example.com/z/\">"
				      "<Z:Author>Jim &amp; Roy</Z:Author></Z:Authors>");
	buf_free(&out);
	dav_proppatch_free(&pp);
	xmlFreeDoc(doc);

	assert_int_equal(parse("<D:propertyupdate xmlns:D=\"DAV:\"/>", &doc), 0);
	assert_int_equal(dav_proppatch_parse(doc, NULL, NULL, &pp, &error), 400);
	xmlFreeDoc(doc);
}

static void test_escape(void **state)
{
	(void)state;
	struct buf out;
	buf_init(&out, 0);
	dav_xml_escape(&out, "a<b>&\"c\r");
	assert_string_equal(out.data, "a&lt;b&gt;&amp;&quot;c&#13;");
	buf_reset(&out);
	dav_xml_empty_elem(&out, "DAV:", "getetag");
	dav_xml_empty_elem(&out, "urn:x", "y");
	dav_xml_empty_elem(&out, "", "z");
	assert_string_equal(out.data, "<D:getetag/><X:y xmlns:X=\"urn:x\"/><z xmlns=\"\"/>");
	buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_propfind),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_proppatch_serialize),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
