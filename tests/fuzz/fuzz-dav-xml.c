/* libFuzzer target: DAV XML request bodies through the hardened parser and
 * the PROPFIND / PROPPATCH / extended MKCOL grammars, with small limits so
 * that the depth, size and node-count refusals are within reach. */
#include "dav-xml.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct dav_xml_limits lim = { 64 * 1024, 24, 4000 };
	xmlDocPtr doc;
	const char *error = NULL;
	if (dav_xml_parse((const char *)data, size, &lim, &doc, &error) != 0)
		return 0;
	struct dav_propfind pf;
	if (dav_propfind_parse(doc, &pf, &error) == 0)
		dav_propfind_free(&pf);
	struct dav_proppatch pp;
	if (dav_proppatch_parse(doc, NULL, NULL, &pp, &error) == 0) {
		struct buf out;
		buf_init(&out, 0);
		for (size_t i = 0; i < pp.count; i++)
			dav_xml_serialize(pp.ops[i].node, &out);
		buf_free(&out);
		dav_proppatch_free(&pp);
	}
	if (dav_proppatch_parse(doc, DAV_NS, "mkcol", &pp, &error) == 0)
		dav_proppatch_free(&pp);
	xmlNode *root = xmlDocGetRootElement(doc);
	if (dav_prop_list_parse(root, &pf, &error) == 0)
		dav_propfind_free(&pf);
	xmlFreeDoc(doc);
	return 0;
}
