/* Shared and public folders in the store (RFC 4314 ACLs, migration 0008):
 * how a user's mailbox name maps to an owner and a mailbox (personal
 * names, "Other Users/<address>/<name>", "Shared/<name>"), the ACL rows of
 * a mailbox, the mailboxes other accounts share, and a reader's own \Seen
 * on a mailbox he does not own (mailbox_user_seen) with the STORE that
 * keeps it apart from the owner's flags. The rights themselves (groups
 * from the directory, negative rights) are computed by the caller: the
 * store only hands out the rows. Public folders belong to the organisation
 * pseudo-account STORE_PUBLIC_OWNER, which cannot log in. */
#ifndef CAIRN_STORE_ACL_H
#define CAIRN_STORE_ACL_H

#include "store-mail.h"

/* Namespace prefixes (RFC 2342) and the organisation's pseudo-account. */
#define STORE_NS_OTHER "Other Users"
#define STORE_NS_SHARED "Shared"
#define STORE_PUBLIC_OWNER "public@"

/* Longest ACL identifier: "-$" and an address. */
#define STORE_ACL_IDENTIFIER_MAX 322

enum store_ns {
	STORE_NS_PERSONAL,	/* the user's own mailboxes */
	STORE_NS_OTHER_USERS,	/* "Other Users/<owner>/..." */
	STORE_NS_PUBLIC,	/* "Shared/...": the organisation's */
};

/* One ACL row (strings malloc'ed). */
struct store_acl_entry {
	char *identifier;
	char *rights;		/* canonical letters, lrswipkxtea order */
};

/* A mailbox as one user names it: free with store_acl_box_free. */
struct store_acl_box {
	enum store_ns ns;
	char owner[321];	/* the owner's address ("" when the name has none) */
	uint64_t owner_id;	/* 0: no such owner */
	uint64_t user_id;	/* the user's account id (0 for cairnctl) */
	bool own;		/* the owner is the user: every right, no ACL */
	char name[STORE_MAILBOX_NAME_MAX + 1];	/* owner-relative; "" = namespace root */
	bool exists;		/* info is filled */
	struct store_mailbox_info info;
	bool subscribed;	/* by the user (his own flag on a shared one) */
	struct store_acl_entry *acl;	/* when exists (also when own) */
	size_t acl_count;
};

/* Resolve name (UTF-8, as the client sent it) for user (NULL for the
 * admin: only "Other Users/..." and "Shared/..." then). STORE_OK with
 * box filled (exists false when the mailbox or its owner is missing),
 * STORE_INVALID for a bad name, or an error. */
int store_acl_lookup(struct store *st, const char *user, const char *name,
		     struct store_acl_box *box, const char **error_r);
/* Reload the ACL rows of mailbox_id into box (replacing box's), for a
 * session that keeps a mailbox selected while its owner changes them. */
int store_acl_entries(struct store *st, uint64_t mailbox_id, struct store_acl_box *box,
		      const char **error_r);
/* Free what a lookup allocated (box itself is the caller's). */
void store_acl_box_free(struct store_acl_box *box);
/* The client-visible name of an owner-relative mailbox name of box's
 * namespace and owner, into out (appended). */
void store_acl_external_name(const struct store_acl_box *box, const char *relname,
			     struct buf *out);

/* Change identifier's entry on mailbox_id: mode '=' replaces, '+' adds,
 * '-' removes letters; rights are canonical letters. An entry left empty
 * is deleted. The identifier's syntax is the caller's to check. */
int store_acl_modify(struct store *st, uint64_t mailbox_id, const char *identifier, char mode,
		     const char *rights, const char **error_r);
/* Delete identifier's entry; STORE_NOTFOUND if it had none. */
int store_acl_delete(struct store *st, uint64_t mailbox_id, const char *identifier,
		     const char **error_r);

/* Every mailbox of another account that has an ACL entry which might
 * concern user (his address, anyone, authenticated, a group, or a
 * negative one), with all its entries, ordered by owner and name; cb gets
 * a box filled like store_acl_lookup's. */
int store_acl_shared_list(struct store *st, const char *user,
			  void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx,
			  const char **error_r);
/* Every mailbox that has ACL entries (cairnctl acl list), owner order. */
int store_acl_list_all(struct store *st,
		       void (*cb)(const struct store_acl_box *box, void *ctx), void *ctx,
		       const char **error_r);
/* Create the organisation's pseudo-account STORE_PUBLIC_OWNER if it is
 * not there yet (the first public folder); idempotent. */
int store_acl_public_ensure(struct store *st, const char **error_r);
/* Subscribe the user to a mailbox he does not own (or unsubscribe). */
int store_acl_subscribe(struct store *st, uint64_t user_id, uint64_t mailbox_id, bool on,
			const char **error_r);

/* The uids reader_id has seen in mailbox_id (his own \Seen), as ascending
 * disjoint ranges (malloc'ed, NULL when none). */
int store_acl_seen_get(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
		       struct store_uid_range **ranges_r, size_t *count_r, const char **error_r);
/* How many messages of mailbox_id reader_id has not seen (STATUS UNSEEN). */
int store_acl_unseen_count(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   uint32_t *unseen_r, const char **error_r);
/* store_flags_update for a reader who does not own the mailbox: \Seen in
 * flags goes to his own seen set, everything else to the shared flags
 * (a FLAGS replace leaves the owner's \Seen alone, and the flags in keep:
 * those the reader has no right to change). Messages whose \Seen changed
 * for him get a new modseq too, so his other sessions hear it. */
int store_acl_flags_update(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
			   const struct store_uid_range *set, size_t set_count,
			   enum store_flag_op op, unsigned flags, unsigned keep,
			   const char *const *keywords,
			   size_t keyword_count, uint64_t unchangedsince,
			   struct store_flags_result *result_r, const char **error_r);

#endif
