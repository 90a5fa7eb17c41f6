/* IMAP METADATA (RFC 5464) argument parsing and value writing; see
 * imap_metadata.h. Everything here is pure and a fuzz target
 * (tests/fuzz/fuzz-imap-metadata.c). */
#include "autoconf.h"
#include "imap_metadata.h"
#include "imap_args.h"
#include "imap_quote.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

int imap_metadata_name_check(const char *name, size_t len, bool allow_root,
			     const char **error_r)
{
	if (len == 0 || name[0] != '/') {
		*error_r = "Entry names start with /private or /shared";
		return -1;
	}
	if (len > IMAP_METADATA_NAME_MAX) {
		*error_r = "Entry name too long";
		return -1;
	}
	if (!imap_utf8_valid(name, len)) {
		*error_r = "Entry name is not valid UTF-8";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c == 0x7f || c == '*' || c == '%') {
			*error_r = "Entry names may not contain *, %, spaces or control characters";
			return -1;
		}
		if (c == '/' && (i + 1 == len || name[i + 1] == '/')) {
			*error_r = "Entry names may not contain // or end with /";
			return -1;
		}
	}
	size_t first = 1;
	while (first < len && name[first] != '/')
		first++;
	/* name[1..first) is the first component */
	bool priv = first - 1 == 7 && str_ncasecmp(name + 1, "private", 7) == 0;
	bool shared = first - 1 == 6 && str_ncasecmp(name + 1, "shared", 6) == 0;
	if (!priv && !shared) {
		*error_r = "Entry names start with /private or /shared";
		return -1;
	}
	if (first == len && !allow_root) {
		*error_r = "Entry name needs a component after /private or /shared";
		return -1;
	}
	return 0;
}

/* Copy an entry name into the pool, checked and lower-cased (ASCII). */
static const char *entry_name(struct imap_pool *pool, const struct imap_arg *arg, bool allow_root,
			      const char **error_r)
{
	const char *s;
	size_t len;
	if (!imap_arg_astring(arg, &s, &len) || arg->literal8) {
		*error_r = "Entry name expected";
		return NULL;
	}
	if (imap_metadata_name_check(s, len, allow_root, error_r) < 0)
		return NULL;
	char *out = imap_pool_strndup(pool, s, len);
	for (char *p = out; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return out;
}

static int get_options(const struct imap_arg *list, size_t n, struct imap_metadata_get *get,
		       const char **error_r)
{
	bool have_depth = false;
	if (n == 0) {
		*error_r = "Empty GETMETADATA option list";
		return -1;
	}
	for (size_t i = 0; i < n; i += 2) {
		const char *v;
		if (i + 1 >= n || !imap_arg_atom(&list[i + 1], &v)) {
			*error_r = "GETMETADATA options are MAXSIZE n and DEPTH 0/1/infinity";
			return -1;
		}
		if (imap_arg_atom_eq(&list[i], "MAXSIZE") && !get->maxsize_set) {
			if (imap_parse_number64(v, &get->maxsize) < 0) {
				*error_r = "MAXSIZE needs a number";
				return -1;
			}
			get->maxsize_set = true;
		} else if (imap_arg_atom_eq(&list[i], "DEPTH") && !have_depth) {
			if (strcmp(v, "0") == 0)
				get->depth = 0;
			else if (strcmp(v, "1") == 0)
				get->depth = 1;
			else if (str_casecmp(v, "infinity") == 0)
				get->depth = IMAP_METADATA_DEPTH_INFINITY;
			else {
				*error_r = "DEPTH is 0, 1 or infinity";
				return -1;
			}
			have_depth = true;
		} else {
			*error_r = "Unknown or repeated GETMETADATA option";
			return -1;
		}
	}
	return 0;
}

int imap_metadata_get_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
			    struct imap_metadata_get *get_r, const char **error_r)
{
	size_t i = 0;
	const struct imap_arg *list;
	size_t n;
	memset(get_r, 0, sizeof(*get_r));
	if (count > 0 && imap_arg_list(&args[0], &list, &n)) {
		if (get_options(list, n, get_r, error_r) < 0)
			return -1;
		i++;
	}
	if (count != i + 2 || !imap_arg_astring(&args[i], &get_r->mailbox, &get_r->mailbox_len)) {
		*error_r = "GETMETADATA [(options)] mailbox entries";
		return -1;
	}
	const struct imap_arg *ents = &args[i + 1];
	size_t ent_count = 1;
	if (imap_arg_list(&args[i + 1], &list, &n)) {
		if (n == 0) {
			*error_r = "Empty entry list";
			return -1;
		}
		ents = list;
		ent_count = n;
	}
	get_r->entries = imap_pool_alloc(pool, ent_count * sizeof(*get_r->entries));
	for (size_t k = 0; k < ent_count; k++) {
		const char *name = entry_name(pool, &ents[k], true, error_r);
		if (name == NULL)
			return -1;
		bool dup = false;
		for (size_t d = 0; d < get_r->entry_count && !dup; d++)
			dup = strcmp(get_r->entries[d], name) == 0;
		if (!dup)
			get_r->entries[get_r->entry_count++] = name;
	}
	return 0;
}

int imap_metadata_set_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
			    size_t max_values, struct imap_metadata_set *set_r,
			    const char **error_r)
{
	const struct imap_arg *list;
	size_t n;
	memset(set_r, 0, sizeof(*set_r));
	if (count != 2 || !imap_arg_astring(&args[0], &set_r->mailbox, &set_r->mailbox_len) ||
	    !imap_arg_list(&args[1], &list, &n)) {
		*error_r = "SETMETADATA mailbox (entry value ...)";
		return -1;
	}
	if (n == 0 || n % 2 != 0) {
		*error_r = "SETMETADATA needs entry/value pairs";
		return -1;
	}
	if (n / 2 > max_values) {
		*error_r = "Too many entries in one SETMETADATA";
		return -1;
	}
	set_r->values = imap_pool_alloc(pool, (n / 2) * sizeof(*set_r->values));
	for (size_t k = 0; k < n; k += 2) {
		struct imap_metadata_value *v = &set_r->values[set_r->count++];
		v->name = entry_name(pool, &list[k], false, error_r);
		if (v->name == NULL)
			return -1;
		const struct imap_arg *a = &list[k + 1];
		if (a->type == IMAP_ARG_NIL) {
			v->value = NULL;
			v->len = 0;
		} else if (a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL) {
			v->value = a->str;
			v->len = a->len;
		} else {
			*error_r = "Metadata values are strings, literals or NIL";
			return -1;
		}
	}
	return 0;
}

bool imap_metadata_match(const char *req, int depth, const char *entry)
{
	size_t rl = strlen(req);
	if (strcmp(req, entry) == 0)
		return true;
	if (depth == 0 || strncmp(req, entry, rl) != 0 || entry[rl] != '/')
		return false;
	return depth == IMAP_METADATA_DEPTH_INFINITY || strchr(entry + rl + 1, '/') == NULL;
}

int imap_metadata_write_value(struct buf *out, const char *value, size_t len, bool utf8)
{
	if (value == NULL)
		return imap_write_nstring(out, NULL, 0, 0);
	if (memchr(value, '\0', len) != NULL)
		return imap_write_literal8(out, value, len);
	return imap_write_string(out, value, len, utf8 ? IMAP_QUOTE_UTF8 : 0);
}

void imap_objectid_mailbox(uint64_t mailbox_id, char out[IMAP_OBJECTID_MAX])
{
	snprintf(out, IMAP_OBJECTID_MAX, "F%" PRIu64, mailbox_id);
}

void imap_objectid_email(uint64_t blob_id, char out[IMAP_OBJECTID_MAX])
{
	snprintf(out, IMAP_OBJECTID_MAX, "M%" PRIu64, blob_id);
}
