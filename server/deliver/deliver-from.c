/* The author fields of a submitted message (RFC 5322 3.6.2): From: and
 * Sender: as lists of bare addresses, for the submission sender check and
 * the DKIM signing domain. Pure apart from the MIME parser: no store, no
 * directory, so the unit tests run it directly. */
#include "autoconf.h"
#include "deliver.h"
#include "mime.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Number of header fields called name in the message's own header. */
static size_t header_count(const struct mime_message *m, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < m->root.header_count; i++)
		n += str_casecmp(m->root.headers[i].name, name) == 0;
	return n;
}

/* One mailbox of a list: the address inside <...>, or the whole piece;
 * lower-cased into a new string, or NULL when it is not a plain address. */
static char *mailbox_address(const char *s, size_t len)
{
	const char *end = s + len;
	const char *lt = memchr(s, '<', len);
	const char *start = s;
	if (lt != NULL) {
		const char *gt = memchr(lt, '>', (size_t)(end - lt));
		if (gt == NULL || memchr(gt + 1, '<', (size_t)(end - gt - 1)) != NULL ||
		    memchr(gt + 1, '>', (size_t)(end - gt - 1)) != NULL)
			return NULL;
		for (const char *p = gt + 1; p < end; p++) {
			if (!isspace((unsigned char)*p))
				return NULL;	/* text after the angle address */
		}
		start = lt + 1;
		end = gt;
	} else if (memchr(s, '>', len) != NULL) {
		return NULL;
	}
	while (start < end && isspace((unsigned char)*start))
		start++;
	while (end > start && isspace((unsigned char)end[-1]))
		end--;
	size_t n = (size_t)(end - start);
	if (n == 0 || n > DELIVER_FROM_ADDRESS_MAX || memchr(start, '@', n) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)start[i];
		if (isspace(c) || c < 0x20 || c == 0x7f || c == '<' || c == ':' || c == ';')
			return NULL;
	}
	char *a = xstrndup(start, n);
	for (char *p = a; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return a;
}

/* Split a mailbox-list at top-level commas into bare addresses. Comments
 * and quoted strings are dropped first (a display name may hold '<', ',',
 * '@' or ':'). Group syntax and empty members are refused: a submission
 * client has no reason to send them in From: or Sender:. 0 or -1. */
static int mailbox_list(const char *raw, char ***list_r, size_t *n_r)
{
	struct buf v;
	buf_init(&v, 0);
	int depth = 0;
	bool quoted = false;
	for (const char *p = raw; *p != '\0'; p++) {
		if (*p == '\\' && (quoted || depth > 0) && p[1] != '\0') {
			p++;
			continue;
		}
		if (depth == 0 && *p == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && *p == '(') {
			depth++;
			continue;
		}
		if (!quoted && depth > 0 && *p == ')') {
			depth--;
			continue;
		}
		if (!quoted && depth == 0)
			buf_append(&v, p, 1);
	}
	const char *s = v.data != NULL ? v.data : "";
	int ret = 0;
	if (quoted || depth != 0 || strchr(s, ':') != NULL || strchr(s, ';') != NULL)
		ret = -1;
	*list_r = NULL;
	*n_r = 0;
	while (ret == 0) {
		/* A comma inside <...> (an obsolete route) does not split. */
		const char *p = s;
		bool angle = false;
		for (; *p != '\0' && (angle || *p != ','); p++)
			angle = *p == '<' ? true : *p == '>' ? false : angle;
		char *a = mailbox_address(s, (size_t)(p - s));
		if (a == NULL || *n_r >= DELIVER_FROM_MAX) {
			free(a);
			ret = -1;
			break;
		}
		*list_r = xrealloc(*list_r, (*n_r + 1) * sizeof(**list_r));
		(*list_r)[(*n_r)++] = a;
		if (*p == '\0')
			break;
		s = p + 1;
	}
	buf_free(&v);
	if (ret < 0) {
		for (size_t i = 0; i < *n_r; i++)
			free((*list_r)[i]);
		free(*list_r);
		*list_r = NULL;
		*n_r = 0;
	}
	return ret;
}

/* The mailboxes of the only field called name: 1 found, 0 absent, -1 when
 * the field is repeated or does not parse. */
static int field_mailboxes(const struct mime_message *m, const char *name, char ***list_r,
			   size_t *n_r)
{
	*list_r = NULL;
	*n_r = 0;
	size_t count = header_count(m, name);
	if (count == 0)
		return 0;
	if (count > 1)
		return -1;	/* RFC 5322 3.6: at most one From: and one Sender: */
	struct buf raw;
	buf_init(&raw, 64 * 1024);
	int ret = mime_header_raw(m, &m->root, name, &raw);
	if (ret == 0)
		ret = mailbox_list(raw.data != NULL ? raw.data : "", list_r, n_r) == 0 ? 1 : -1;
	buf_free(&raw);
	return ret;
}

void deliver_from_free(struct deliver_from *f)
{
	for (size_t i = 0; i < f->nfrom; i++)
		free(f->from[i]);
	free(f->from);
	free(f->sender);
	memset(f, 0, sizeof(*f));
}

int deliver_from_parse(const char *data, size_t size, struct deliver_from *f_r)
{
	memset(f_r, 0, sizeof(*f_r));
	struct mime_message *m = mime_parse(data, size, NULL);
	char **sender = NULL;
	size_t nsender = 0;
	int ret = field_mailboxes(m, "From", &f_r->from, &f_r->nfrom);
	if (ret == 1)
		ret = field_mailboxes(m, "Sender", &sender, &nsender);
	else if (ret == 0)
		ret = -1;	/* From: is required */
	if (ret == 1 && nsender != 1)
		ret = -1;	/* Sender: is one mailbox */
	if (ret == 1)
		f_r->sender = sender[0];
	else
		for (size_t i = 0; i < nsender; i++)
			free(sender[i]);
	free(sender);
	/* More than one author needs a Sender: (RFC 5322 3.6.2 MUST). */
	if (ret >= 0 && f_r->nfrom > 1 && f_r->sender == NULL)
		ret = -1;
	mime_free(&m);
	if (ret < 0) {
		deliver_from_free(f_r);
		return -1;
	}
	return 0;
}

int deliver_header_from(const char *data, size_t size, char *out, size_t out_size)
{
	struct deliver_from f;
	if (deliver_from_parse(data, size, &f) < 0)
		return -1;
	int ret = -1;
	if (f.nfrom == 1 && strlen(f.from[0]) < out_size) {
		strcpy(out, f.from[0]);
		ret = 0;
	}
	deliver_from_free(&f);
	return ret;
}
