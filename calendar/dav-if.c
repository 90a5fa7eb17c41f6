/* The WebDAV If header parser (RFC 4918 10.4.2):
 *   If = "If" ":" ( 1*No-tag-list | 1*Tagged-list )
 *   No-tag-list = List;  Tagged-list = Resource-Tag 1*List
 *   List = "(" 1*Condition ")";  Condition = ["Not"] (State-token | "[" entity-tag "]")
 *   Resource-Tag = "<" Simple-ref ">";  State-token = Coded-URL = "<" absolute-URI ">" */
#include "autoconf.h"
#include "dav-if.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

/* "<...>": a URI without spaces or angle brackets. */
static char *coded_url(const char **p)
{
	const char *s = *p + 1;
	const char *e = s;
	while (*e != '\0' && *e != '>' && *e != '<' && *e != ' ' && *e != '\t' &&
	       (unsigned char)*e > 0x20 && *e != 0x7f)
		e++;
	if (*e != '>' || e == s)
		return NULL;
	*p = e + 1;
	return xstrndup(s, (size_t)(e - s));
}

/* "[" entity-tag "]": [W/]"..." */
static char *entity_tag(const char **p)
{
	const char *s = *p + 1;
	const char *q = s;
	if (q[0] == 'W' && q[1] == '/')
		q += 2;
	if (*q != '"')
		return NULL;
	q++;
	while (*q != '\0' && *q != '"') {
		if ((unsigned char)*q < 0x21 && *q != ' ')
			return NULL;
		q++;
	}
	if (*q != '"' || q[1] != ']')
		return NULL;
	*p = q + 2;
	return xstrndup(s, (size_t)(q + 1 - s));
}

static int parse_list(const char **p, struct dav_if_list *l, const char **error_r)
{
	(*p)++;			/* "(" */
	for (;;) {
		skip_ws(p);
		if (**p == ')') {
			(*p)++;
			if (l->nconds == 0) {
				*error_r = "empty list in If";
				return -1;
			}
			return 0;
		}
		if (l->nconds == DAV_IF_MAX_CONDS) {
			*error_r = "too many conditions in If";
			return -1;
		}
		struct dav_if_cond c = { false, false, NULL };
		if (strncmp(*p, "Not", 3) == 0) {
			c.not = true;
			*p += 3;
			if (**p != ' ' && **p != '\t' && **p != '<' && **p != '[') {
				*error_r = "malformed Not in If";
				return -1;
			}
			skip_ws(p);
		}
		if (**p == '<') {
			c.value = coded_url(p);
		} else if (**p == '[') {
			c.etag = true;
			c.value = entity_tag(p);
		}
		if (c.value == NULL) {
			*error_r = "malformed condition in If";
			return -1;
		}
		l->conds = xrealloc(l->conds, (l->nconds + 1) * sizeof(*l->conds));
		l->conds[l->nconds++] = c;
	}
}

int dav_if_parse(const char *value, struct dav_if *if_r, const char **error_r)
{
	memset(if_r, 0, sizeof(*if_r));
	const char *p = value;
	int tagged = -1;	/* unknown yet */
	char *tag = NULL;
	for (;;) {
		skip_ws(&p);
		if (*p == '\0')
			break;
		if (*p == '<') {
			if (tagged == 0) {
				free(tag);
				*error_r = "tagged and untagged lists mixed in If";
				return -1;
			}
			tagged = 1;
			free(tag);
			tag = coded_url(&p);
			if (tag == NULL) {
				*error_r = "malformed resource tag in If";
				return -1;
			}
			skip_ws(&p);
			if (*p != '(') {
				free(tag);
				*error_r = "a resource tag without a list in If";
				return -1;
			}
			continue;
		}
		if (*p != '(') {
			free(tag);
			*error_r = "malformed If";
			return -1;
		}
		if (tagged == -1)
			tagged = 0;
		if (if_r->nlists == DAV_IF_MAX_LISTS) {
			free(tag);
			*error_r = "too many lists in If";
			return -1;
		}
		if_r->lists = xrealloc(if_r->lists, (if_r->nlists + 1) * sizeof(*if_r->lists));
		struct dav_if_list *l = &if_r->lists[if_r->nlists++];
		memset(l, 0, sizeof(*l));
		l->tag = tag != NULL ? xstrdup(tag) : NULL;
		if (parse_list(&p, l, error_r) < 0) {
			free(tag);
			return -1;
		}
	}
	free(tag);
	if (if_r->nlists == 0) {
		*error_r = "empty If";
		return -1;
	}
	return 0;
}

void dav_if_free(struct dav_if *ifh)
{
	for (size_t i = 0; i < ifh->nlists; i++) {
		for (size_t j = 0; j < ifh->lists[i].nconds; j++)
			free(ifh->lists[i].conds[j].value);
		free(ifh->lists[i].conds);
		free(ifh->lists[i].tag);
	}
	free(ifh->lists);
	ifh->lists = NULL;
	ifh->nlists = 0;
}
