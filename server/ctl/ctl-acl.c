/* cairnctl commands for shared folders: public folders (mailboxes of the
 * organisation pseudo-account, seen by users as "Shared/<name>") and the
 * RFC 4314 ACLs of any mailbox, named "Shared/NAME", "Other Users/ADDRESS/
 * NAME" or, shorter, "ADDRESS:NAME". The same rules as IMAP SETACL apply
 * (identifiers anyone, authenticated, an address, $group@domain, each with
 * an optional "-" for negative rights; rights lrswipkxtea, c and d). */
#include "autoconf.h"
#include "ctl.h"
#include "imap_acl.h"
#include "store.h"
#include "store-acl.h"
#include "store-mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "ADDRESS:NAME" -> "Other Users/ADDRESS/NAME"; other forms as they are.
 * malloc'ed. */
static char *mailbox_spec(const char *spec)
{
	const char *colon = strchr(spec, ':');
	size_t olen = strlen(STORE_NS_OTHER), slen = strlen(STORE_NS_SHARED);
	bool named = (strncmp(spec, STORE_NS_OTHER, olen) == 0 && spec[olen] == '/') ||
		     (strncmp(spec, STORE_NS_SHARED, slen) == 0 && spec[slen] == '/');
	if (named || colon == NULL || strchr(spec, '@') == NULL || strchr(spec, '@') > colon)
		return xstrdup(spec);
	return xasprintf(STORE_NS_OTHER "/%.*s/%s", (int)(colon - spec), spec, colon + 1);
}

/* Resolve spec to an existing mailbox; prints why not. */
static int open_box(struct ctl *ctl, const char *spec, struct store_acl_box *box)
{
	const char *error = NULL;
	char *name = mailbox_spec(spec);
	int r = store_acl_lookup(ctl->store, NULL, name, box, &error);
	free(name);
	if (r != STORE_OK)
		return ctl_store_failed(error);
	if (!box->exists) {
		ctl_error("no such mailbox: %s (use Shared/NAME, ADDRESS:NAME or "
			  STORE_NS_OTHER "/ADDRESS/NAME)", spec);
		store_acl_box_free(box);
		return CTL_ERROR;
	}
	return CTL_OK;
}

/* The IMAP SETACL identifier rules (imap_acl.h), lower-casing into out. */
static bool identifier_ok(const char *in, char *out, size_t size)
{
	return imap_acl_identifier_parse(in, strlen(in), out, size) == 0;
}

/* [+-]letters with c = kx and d = et, into canonical letters. */
static bool rights_ok(const char *in, char *mode_r, char out[16])
{
	unsigned bits;
	if (imap_acl_rights_parse(in, mode_r, &bits) < 0)
		return false;
	struct buf b;
	buf_init(&b, 0);
	imap_acl_rights_write(&b, bits, false);
	snprintf(out, 16, "%s", b.data != NULL ? b.data : "");
	buf_free(&b);
	return true;
}

static int cmd_acl_set(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[3], *error = NULL;
	char id[STORE_ACL_IDENTIFIER_MAX + 1], rights[16], mode;
	if (ctl_parse_args("acl set", argc, argv, NULL, pos, 3, 3) != 0)
		return CTL_USAGE;
	if (!identifier_ok(pos[1], id, sizeof(id)))
		return ctl_usage("acl set: invalid identifier '%s' (anyone, authenticated, an "
				 "address or $group@domain, optionally preceded by -)", pos[1]);
	if (!rights_ok(pos[2], &mode, rights))
		return ctl_usage("acl set: invalid rights '%s' (letters of lrswipkxtea, c, d, "
				 "optionally preceded by + or -)", pos[2]);
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_acl_box box;
	if (open_box(ctl, pos[0], &box) != CTL_OK)
		return CTL_ERROR;
	const char *bare = id[0] == '-' ? id + 1 : id;
	int ret = CTL_OK;
	if (box.ns != STORE_NS_PUBLIC && strcmp(bare, box.owner) == 0) {
		ctl_error("acl set: %s owns %s and always has every right", box.owner, pos[0]);
		ret = CTL_ERROR;
	} else if (store_acl_modify(ctl->store, box.info.id, id, mode, rights, &error) !=
		   STORE_OK) {
		ret = ctl_store_failed(error);
	}
	store_acl_box_free(&box);
	return ret;
}

static int cmd_acl_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[2], *error = NULL;
	char id[STORE_ACL_IDENTIFIER_MAX + 1];
	if (ctl_parse_args("acl delete", argc, argv, NULL, pos, 2, 2) != 0)
		return CTL_USAGE;
	if (!identifier_ok(pos[1], id, sizeof(id)))
		return ctl_usage("acl delete: invalid identifier '%s'", pos[1]);
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	struct store_acl_box box;
	if (open_box(ctl, pos[0], &box) != CTL_OK)
		return CTL_ERROR;
	int ret = CTL_OK;
	if (store_acl_delete(ctl->store, box.info.id, id, &error) != STORE_OK)
		ret = ctl_store_failed(error);
	store_acl_box_free(&box);
	return ret;
}

/* "NAME IDENTIFIER RIGHTS" lines. */
static void print_box(const struct store_acl_box *box, void *ctx)
{
	struct buf name;
	(void)ctx;
	buf_init(&name, 0);
	store_acl_external_name(box, box->name, &name);
	for (size_t i = 0; i < box->acl_count; i++)
		printf("%s\t%s\t%s\n", name.data, box->acl[i].identifier, box->acl[i].rights);
	buf_free(&name);
}

static int cmd_acl_list(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	if (ctl_parse_args("acl list", argc, argv, NULL, pos, 0, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (pos[0] == NULL) {
		if (store_acl_list_all(ctl->store, print_box, NULL, &error) != STORE_OK)
			return ctl_store_failed(error);
		return CTL_OK;
	}
	struct store_acl_box box;
	if (open_box(ctl, pos[0], &box) != CTL_OK)
		return CTL_ERROR;
	print_box(&box, NULL);
	store_acl_box_free(&box);
	return CTL_OK;
}

static int cmd_public_create(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	uint64_t id;
	if (ctl_parse_args("public create", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_acl_public_ensure(ctl->store, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (store_mailbox_create(ctl->store, STORE_PUBLIC_OWNER, pos[0], NULL, &id, &error) !=
	    STORE_OK)
		return ctl_store_failed(error);
	printf("created " STORE_NS_SHARED "/%s\n", pos[0]);
	return CTL_OK;
}

static void print_public(const struct store_mailbox_info *info, void *ctx)
{
	(void)ctx;
	printf(STORE_NS_SHARED "/%s%s uidnext=%" PRIu32 "\n", info->name,
	       info->noselect ? " \\Noselect" : "", info->uidnext);
}

static int cmd_public_list(struct ctl *ctl, int argc, char **argv)
{
	const char *error = NULL;
	if (ctl_parse_args("public list", argc, argv, NULL, NULL, 0, 0) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_acl_public_ensure(ctl->store, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (store_mailbox_list(ctl->store, STORE_PUBLIC_OWNER, print_public, NULL, &error) !=
	    STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

static int cmd_public_delete(struct ctl *ctl, int argc, char **argv)
{
	const char *pos[1], *error = NULL;
	if (ctl_parse_args("public delete", argc, argv, NULL, pos, 1, 1) != 0)
		return CTL_USAGE;
	if (ctl_open(ctl) != CTL_OK)
		return CTL_ERROR;
	if (store_acl_public_ensure(ctl->store, &error) != STORE_OK)
		return ctl_store_failed(error);
	if (store_mailbox_delete(ctl->store, STORE_PUBLIC_OWNER, pos[0], &error) != STORE_OK)
		return ctl_store_failed(error);
	return CTL_OK;
}

const struct ctl_cmd ctl_acl_commands[] = {
	{ "public", "create", "NAME", cmd_public_create,
	  "create a public folder (Shared/NAME; parents too)" },
	{ "public", "list", "", cmd_public_list, "list the public folders" },
	{ "public", "delete", "NAME", cmd_public_delete, "delete a public folder" },
	{ "acl", "set", "MAILBOX IDENTIFIER [+|-]RIGHTS", cmd_acl_set,
	  "set rights (MAILBOX: Shared/NAME or ADDRESS:NAME)" },
	{ "acl", "delete", "MAILBOX IDENTIFIER", cmd_acl_delete, "remove an ACL entry" },
	{ "acl", "list", "[MAILBOX]", cmd_acl_list, "list ACL entries (all mailboxes if none)" },
	{ NULL, NULL, NULL, NULL, NULL }
};
