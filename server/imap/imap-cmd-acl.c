/* IMAP ACL (RFC 4314) and shared folders: the rights of the session's user
 * on a mailbox (union of the entries that match him: his address, anyone,
 * authenticated, "$group" through the directory; minus the negative
 * "-identifier" entries; the owner has every right), the checks every
 * mailbox command makes through imap_acl_require, SETACL, DELETEACL,
 * GETACL, LISTRIGHTS, MYRIGHTS and NAMESPACE, and the user's own \Seen on
 * a mailbox he does not own (kept by the store in mailbox_user_seen and
 * overlaid on the owner's flags wherever flags are shown or searched). */
#include "autoconf.h"
#include "imap-private.h"
#include "conn.h"
#include "directory.h"
#include "imap_acl.h"
#include "log.h"
#include "store-acl.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char acl_letters[] = IMAP_ACL_LETTERS;
_Static_assert(IMAP_ACL_ALL == IMAP_ACL_RIGHTS_ALL && IMAP_ACL_CREATE == 1u << 6 &&
	       IMAP_ACL_DELETE == 1u << 7 && IMAP_ACL_DELETED == 1u << 8 &&
	       IMAP_ACL_EXPUNGE == 1u << 9 && IMAP_ACL_ADMIN == 1u << 10,
	       "IMAP_ACL_* bits follow IMAP_ACL_LETTERS");

/* Directory groups the user is (not) in, asked once per session. */
struct imap_acl_group {
	char *address;
	bool member;
};

struct imap_acl_cache {
	struct imap_acl_group *groups;
	size_t count;
};

/* Bound on the groups remembered per session. */
#define IMAP_ACL_GROUPS_MAX 256

void imap_acl_session_free(struct imap_session *s)
{
	struct imap_acl_cache *c = s->acl_cache;
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->count; i++)
		free(c->groups[i].address);
	free(c->groups);
	free(c);
	s->acl_cache = NULL;
}

/* Is the user a member of group (an address)? 1 yes, 0 no, -1 unknown
 * (directory down: never cached). Runs on the job's worker while the
 * session is frozen, so the cache needs no lock. */
static int group_member(struct imap_session *s, struct worker *w, struct store *st,
			const char *group)
{
	if (s->acl_cache == NULL)
		s->acl_cache = xcalloc(1, sizeof(*s->acl_cache));
	struct imap_acl_cache *c = s->acl_cache;
	for (size_t i = 0; i < c->count; i++)
		if (strcmp(c->groups[i].address, group) == 0)
			return c->groups[i].member;
	struct dir_handle *dh = dir_worker_handle(w, st);
	struct dir_route route;
	const char *error = NULL;
	int r = dir_expand(dh, group, &route, &error);
	bool member = false;
	if (r == DIR_OK) {
		if (route.kind == DIR_KIND_GROUP)
			for (size_t i = 0; i < route.ntargets && !member; i++)
				member = str_casecmp(route.targets[i].address, s->address) == 0;
		dir_route_free(&route);
	} else if (r != DIR_NOTFOUND && r != DIR_NOTOURS) {
		log_warn("imap session=%s user=%s event=acl-group-unknown group=%s reason=\"%s\"",
			 conn_id(s->conn), s->address, group, error != NULL ? error : "");
		return -1;
	}
	if (c->count < IMAP_ACL_GROUPS_MAX) {
		c->groups = xrealloc(c->groups, (c->count + 1) * sizeof(*c->groups));
		c->groups[c->count].address = xstrdup(group);
		c->groups[c->count].member = member;
		c->count++;
	}
	return member;
}

void imap_acl_write_rights(struct buf *out, unsigned rights, bool obsolete)
{
	imap_acl_rights_write(out, rights, obsolete);
}

unsigned imap_acl_rights(struct imap_job *j, struct worker *w, struct store *st,
			 const struct store_acl_box *sb)
{
	struct imap_session *s = j->s;
	if (sb->own)
		return IMAP_ACL_ALL;
	unsigned pos = 0, neg = 0;
	for (size_t i = 0; i < sb->acl_count; i++) {
		const char *id = sb->acl[i].identifier;
		bool negative = id[0] == '-';
		if (negative)
			id++;
		bool match;
		if (strcmp(id, "anyone") == 0 || strcmp(id, "authenticated") == 0) {
			match = true;
		} else if (id[0] == '$') {
			int m = group_member(s, w, st, id + 1);
			/* Unknown membership: grant nothing, deny everything. */
			match = m < 0 ? negative : m == 1;
		} else {
			match = str_casecmp(id, s->address) == 0;
		}
		if (!match)
			continue;
		if (negative)
			neg |= imap_acl_rights_bits(sb->acl[i].rights);
		else
			pos |= imap_acl_rights_bits(sb->acl[i].rights);
	}
	return pos & ~neg;
}

int imap_acl_open(struct imap_job *j, struct store *st, struct worker *w, const char *name,
		  struct imap_acl_box *box, const char **error_r)
{
	memset(box, 0, sizeof(*box));
	box->sb = xcalloc(1, sizeof(*box->sb));
	int r = store_acl_lookup(st, j->s->address, name, box->sb, error_r);
	if (r != STORE_OK)
		return r;
	box->exists = box->sb->exists;
	if (box->sb->own)
		box->rights = IMAP_ACL_ALL;
	else if (box->exists)
		box->rights = imap_acl_rights(j, w, st, box->sb);
	return STORE_OK;
}

void imap_acl_box_free(struct imap_acl_box *box)
{
	if (box->sb != NULL) {
		store_acl_box_free(box->sb);
		free(box->sb);
		box->sb = NULL;
	}
}

bool imap_acl_require(struct imap_job *j, const struct imap_acl_box *box, unsigned need,
		      bool trycreate)
{
	if (box->sb != NULL && box->sb->own)
		return true;	/* the store tells a missing mailbox itself */
	if (box->exists && (box->rights & need) == need)
		return true;
	if (!box->exists || (box->rights & (IMAP_ACL_LOOKUP | IMAP_ACL_READ)) == 0) {
		/* RFC 4314 6: do not reveal that it exists. */
		if (trycreate)
			imap_job_tagged(j, "NO [TRYCREATE] No such mailbox");
		else
			imap_job_tagged(j, "NO [NONEXISTENT] No such mailbox");
		return false;
	}
	struct buf missing;
	buf_init(&missing, 0);
	imap_acl_write_rights(&missing, need & ~box->rights, false);
	imap_job_tagged(j, "NO [NOPERM] Permission denied (right %s needed)", missing.data);
	buf_free(&missing);
	return false;
}

/* ---- the selected mailbox ---- */

void imap_acl_view_init(struct imap_mailbox *m, const struct imap_acl_box *box)
{
	m->rights = box->rights;
	m->private_seen = !box->sb->own;
	m->reader_id = box->sb->user_id;
}

void imap_acl_seen_refresh(struct imap_mailbox *m, struct store *st)
{
	if (m == NULL || !m->private_seen)
		return;
	struct store_uid_range *r = NULL;
	size_t n = 0;
	const char *error = NULL;
	if (store_acl_seen_get(st, m->id, m->reader_id, &r, &n, &error) != STORE_OK) {
		log_warn("imap event=acl-seen-failed mailbox_id=%llu reason=\"%s\"",
			 (unsigned long long)m->id, error != NULL ? error : "");
		return;		/* keep the last known set */
	}
	free(m->seen);
	m->seen = r;
	m->seen_count = n;
}


bool imap_acl_refresh(struct imap_job *j, struct store *st, struct worker *w)
{
	struct imap_mailbox *m = j->s->mbox;
	if (m == NULL || !m->private_seen)
		return true;
	struct store_acl_box *sb = xcalloc(1, sizeof(*sb));
	const char *error = NULL;
	if (store_acl_entries(st, m->id, sb, &error) == STORE_OK) {
		sb->user_id = m->reader_id;
		m->rights = imap_acl_rights(j, w, st, sb);
	} else {
		log_warn("imap user=%s event=acl-refresh-failed mailbox_id=%llu reason=\"%s\"",
			 j->s->address, (unsigned long long)m->id, error != NULL ? error : "");
		m->rights = 0;	/* fail closed */
	}
	store_acl_box_free(sb);
	free(sb);
	imap_acl_seen_refresh(m, st);
	if (m->rights & IMAP_ACL_READ)
		return true;
	if (j->cmd_flags & IMAP_CMD_NEEDS_READ) {
		/* a command on the selected mailbox's messages needs r */
		imap_job_tagged(j, "NO [NOPERM] Permission denied (right r was taken away)");
		return false;
	}
	return true;
}

unsigned imap_acl_flags(const struct imap_mailbox *m, uint32_t uid, unsigned f)
{
	if (m == NULL || !m->private_seen)
		return f;
	f &= ~(unsigned)STORE_FLAG_SEEN;
	size_t lo = IMAP_LOWER_BOUND(m->seen, m->seen_count, hi, uid);
	if (lo < m->seen_count && m->seen[lo].lo <= uid)
		f |= STORE_FLAG_SEEN;
	return f;
}

int imap_acl_flags_update(const struct imap_mailbox *m, struct store *st,
			  const struct store_uid_range *set, size_t set_count,
			  enum store_flag_op op, unsigned flags, const char *const *keywords,
			  size_t keyword_count, uint64_t unchangedsince,
			  struct store_flags_result *result_r, const char **error_r)
{
	int r;
	if (!m->private_seen)
		return store_flags_update(st, m->id, set, set_count, op, flags, keywords,
					  keyword_count, unchangedsince, result_r, error_r);
	/* A FLAGS replace leaves what he may not change as it is. */
	unsigned keep = 0;
	if (!(m->rights & IMAP_ACL_SEEN))
		keep |= STORE_FLAG_SEEN;
	if (!(m->rights & IMAP_ACL_DELETED))
		keep |= STORE_FLAG_DELETED;
	r = store_acl_flags_update(st, m->id, m->reader_id, set, set_count, op, flags, keep,
				   keywords, keyword_count, unchangedsince, result_r, error_r);
	/* What he sees from now on, also in this command's own replies. */
	if (r == STORE_OK)
		imap_acl_seen_refresh((struct imap_mailbox *)m, st);
	return r;
}

void imap_acl_permanentflags(const struct imap_mailbox *m, struct buf *out)
{
	if (m->readonly) {
		buf_append_str(out, "* OK [PERMANENTFLAGS ()] No permanent flags permitted\r\n");
		return;
	}
	const char *sp = "";
	buf_append_str(out, "* OK [PERMANENTFLAGS (");
	if (m->rights & IMAP_ACL_WRITE) {
		buf_append_str(out, "\\Answered \\Flagged");
		sp = " ";
	}
	if (m->rights & IMAP_ACL_DELETED) {
		buf_printf(out, "%s\\Deleted", sp);
		sp = " ";
	}
	if (m->rights & IMAP_ACL_SEEN) {
		buf_printf(out, "%s\\Seen", sp);
		sp = " ";
	}
	if ((m->rights & IMAP_ACL_WRITE) && m->keywords != NULL && m->keywords->len > 2)
		buf_printf(out, "%s\\Draft %.*s \\*", sp, (int)(m->keywords->len - 2),
			   m->keywords->data + 1);
	else if (m->rights & IMAP_ACL_WRITE)
		buf_printf(out, "%s\\Draft \\*", sp);
	buf_append_str(out, ")] Flags permitted\r\n");
}

/* ---- NAMESPACE ---- */

void imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd)
{
	imap_reply(s, "* NAMESPACE ((\"\" \"/\")) ((\"" STORE_NS_OTHER "/\" \"/\"))"
		   " ((\"" STORE_NS_SHARED "/\" \"/\"))");
	imap_reply(s, "%s OK NAMESPACE completed", cmd->tag);
}

/* ---- ACL commands ---- */

enum acl_cmd { ACL_SET, ACL_DELETE, ACL_GET, ACL_LISTRIGHTS, ACL_MYRIGHTS };

struct acl_job {
	struct imap_job base;
	enum acl_cmd kind;
	struct buf name;		/* decoded */
	char identifier[STORE_ACL_IDENTIFIER_MAX + 1];
	char mode;			/* SETACL: '=', '+', '-' */
	char rights[16];		/* SETACL: canonical letters */
};

static void acl_cleanup(struct imap_job *job)
{
	buf_free(&((struct acl_job *)job)->name);
}

/* The identifier without its "-": is it the owner of box? */
static bool is_owner_identifier(const struct store_acl_box *sb, const char *identifier)
{
	if (identifier[0] == '-')
		identifier++;
	return sb->ns != STORE_NS_PUBLIC && str_casecmp(identifier, sb->owner) == 0;
}

static void write_entry(struct buf *o, const char *identifier, unsigned rights)
{
	buf_append_str(o, " ");
	imap_write_astring(o, identifier, strlen(identifier), IMAP_QUOTE_UTF8);
	buf_append_str(o, " ");
	struct buf r;
	buf_init(&r, 0);
	imap_acl_write_rights(&r, rights, true);
	imap_write_astring(o, r.data != NULL ? r.data : "", r.len, 0);
	buf_free(&r);
}

static void acl_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct acl_job *j = (struct acl_job *)job;
	struct imap_acl_box box;
	const char *error = NULL;
	int r = imap_acl_open(job, st, w, j->name.data, &box, &error);
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		imap_acl_box_free(&box);
		return;
	}
	const struct store_acl_box *sb = box.sb;
	unsigned need = j->kind == ACL_MYRIGHTS ? 0 : IMAP_ACL_ADMIN;
	if (!imap_acl_require(job, &box, need, false))
		goto out;
	if (!box.exists || (j->kind == ACL_MYRIGHTS && box.rights == 0)) {
		imap_job_tagged(job, "NO [NONEXISTENT] No such mailbox");
		goto out;
	}
	struct buf *o = &job->out;
	switch (j->kind) {
	case ACL_SET:
	case ACL_DELETE:
		if (is_owner_identifier(sb, j->identifier)) {
			imap_job_tagged(job, "NO [CANNOT] The owner always has every right");
			goto out;
		}
		if (j->kind == ACL_SET)
			r = store_acl_modify(st, sb->info.id, j->identifier, j->mode, j->rights,
					     &error);
		else
			r = store_acl_delete(st, sb->info.id, j->identifier, &error);
		if (r != STORE_OK && !(r == STORE_NOTFOUND && j->kind == ACL_DELETE)) {
			imap_job_store_error(job, r, error);
			goto out;
		}
		log_info("imap session=%s user=%s cmd=%s mailbox_id=%llu identifier=%s rights=%c%s",
			 conn_id(job->conn), job->s->address, job->cmd,
			 (unsigned long long)sb->info.id, j->identifier, j->mode, j->rights);
		break;
	case ACL_GET:
		buf_append_str(o, "* ACL ");
		imap_write_mailbox(job->s, o, j->name.data);
		if (sb->ns != STORE_NS_PUBLIC)
			write_entry(o, sb->owner, IMAP_ACL_ALL);
		for (size_t i = 0; i < sb->acl_count; i++)
			if (!is_owner_identifier(sb, sb->acl[i].identifier))
				write_entry(o, sb->acl[i].identifier,
					    imap_acl_rights_bits(sb->acl[i].rights));
		buf_append_str(o, "\r\n");
		break;
	case ACL_LISTRIGHTS:
		buf_append_str(o, "* LISTRIGHTS ");
		imap_write_mailbox(job->s, o, j->name.data);
		buf_append_str(o, " ");
		imap_write_astring(o, j->identifier, strlen(j->identifier), IMAP_QUOTE_UTF8);
		if (is_owner_identifier(sb, j->identifier) && j->identifier[0] != '-') {
			buf_append_str(o, " lrswipkxtea");
		} else {
			buf_append_str(o, " \"\"");
			for (size_t i = 0; acl_letters[i] != '\0'; i++)
				buf_printf(o, " %c", acl_letters[i]);
		}
		buf_append_str(o, "\r\n");
		break;
	case ACL_MYRIGHTS: {
		buf_append_str(o, "* MYRIGHTS ");
		imap_write_mailbox(job->s, o, j->name.data);
		struct buf rb;
		buf_init(&rb, 0);
		imap_acl_write_rights(&rb, box.rights, true);
		buf_append_str(o, " ");
		imap_write_astring(o, rb.data, rb.len, 0);
		buf_free(&rb);
		buf_append_str(o, "\r\n");
		break;
	}
	}
	imap_job_tagged(job, "OK %s completed", job->cmd);
out:
	imap_acl_box_free(&box);
}

/* SETACL rights into canonical letters (out: 16 bytes); false for an
 * unknown letter. */
static bool rights_parse(const char *in, char *mode_r, char *out, size_t size)
{
	unsigned bits;
	if (imap_acl_rights_parse(in, mode_r, &bits) < 0)
		return false;
	struct buf b;
	buf_init(&b, 0);
	imap_acl_rights_write(&b, bits, false);
	snprintf(out, size, "%s", b.data != NULL ? b.data : "");
	buf_free(&b);
	return true;
}

static void acl_command(struct imap_session *s, const struct imap_command *cmd, enum acl_cmd kind,
			size_t nargs)
{
	const char *name, *id = NULL, *rights = NULL, *error = NULL;
	size_t len, idlen = 0, rlen = 0;
	if (cmd->arg_count != nargs || !imap_arg_astring(&cmd->args[0], &name, &len) ||
	    (nargs >= 2 && !imap_arg_astring(&cmd->args[1], &id, &idlen)) ||
	    (nargs >= 3 && !imap_arg_astring(&cmd->args[2], &rights, &rlen))) {
		imap_bad(s, cmd->tag, kind == ACL_SET ? "SETACL mailbox identifier rights" :
			 kind == ACL_DELETE ? "DELETEACL mailbox identifier" :
			 kind == ACL_LISTRIGHTS ? "LISTRIGHTS mailbox identifier" :
			 "Mailbox name expected");
		return;
	}
	char mode = '=', letters[16] = "";
	if (rights != NULL && (strlen(rights) != rlen ||
			       !rights_parse(rights, &mode, letters, sizeof(letters)))) {
		imap_bad(s, cmd->tag, "Unknown right (RFC 4314 rights are lrswipkxtea, c and d)");
		return;
	}
	struct acl_job *j = imap_job_new(s, sizeof(*j), cmd, acl_run,
					 s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = acl_cleanup;
	j->kind = kind;
	j->mode = mode;
	memcpy(j->rights, letters, sizeof(j->rights));
	buf_init(&j->name, 0);
	if (id != NULL &&
		   (strlen(id) != idlen ||
		    imap_acl_identifier_parse(id, idlen, j->identifier, sizeof(j->identifier)) < 0)) {
		imap_job_tagged(&j->base, "NO [CANNOT] Invalid identifier: anyone, authenticated,"
				" an address or $group@domain, optionally preceded by -");
		j->base.run = NULL;
	} else if (strlen(name) != len || imap_mailbox_decode(s, name, &j->name, &error) < 0) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	imap_job_submit(s, &j->base);
}

void imap_cmd_setacl(struct imap_session *s, const struct imap_command *cmd)
{
	acl_command(s, cmd, ACL_SET, 3);
}

void imap_cmd_deleteacl(struct imap_session *s, const struct imap_command *cmd)
{
	acl_command(s, cmd, ACL_DELETE, 2);
}

void imap_cmd_getacl(struct imap_session *s, const struct imap_command *cmd)
{
	acl_command(s, cmd, ACL_GET, 1);
}

void imap_cmd_listrights(struct imap_session *s, const struct imap_command *cmd)
{
	acl_command(s, cmd, ACL_LISTRIGHTS, 2);
}

void imap_cmd_myrights(struct imap_session *s, const struct imap_command *cmd)
{
	acl_command(s, cmd, ACL_MYRIGHTS, 1);
}

/* ---- SEARCH with a reader's own \Seen ---- */

/* A UIDSET key matching the user's \Seen uids of m. */
static void seen_key(const struct imap_mailbox *m, struct imap_pool *pool,
		     struct imap_search_key *k)
{
	memset(k, 0, sizeof(*k));
	k->type = IMAP_SEARCH_UIDSET;
	k->set.count = m->seen_count;
	k->set.ranges = imap_pool_alloc(pool, (m->seen_count > 0 ? m->seen_count : 1) *
					sizeof(*k->set.ranges));
	for (size_t i = 0; i < m->seen_count; i++) {
		k->set.ranges[i].lo = m->seen[i].lo;
		k->set.ranges[i].hi = m->seen[i].hi;
	}
}

void imap_acl_search_rewrite(const struct imap_mailbox *m, struct imap_pool *pool,
			     struct imap_search_key *key)
{
	if (m == NULL || !m->private_seen)
		return;
	for (; key != NULL; key = key->next) {
		struct imap_search_key *next = key->next;
		switch (key->type) {
		case IMAP_SEARCH_SEEN:
			seen_key(m, pool, key);
			break;
		case IMAP_SEARCH_UNSEEN: {
			struct imap_search_key *child = imap_pool_alloc(pool, sizeof(*child));
			seen_key(m, pool, child);
			memset(key, 0, sizeof(*key));
			key->type = IMAP_SEARCH_NOT;
			key->children = child;
			break;
		}
		case IMAP_SEARCH_NEW: {
			/* NEW is RECENT UNSEEN. */
			struct imap_search_key *recent = imap_pool_alloc(pool, sizeof(*recent));
			struct imap_search_key *not = imap_pool_alloc(pool, sizeof(*not));
			struct imap_search_key *child = imap_pool_alloc(pool, sizeof(*child));
			seen_key(m, pool, child);
			memset(recent, 0, sizeof(*recent));
			recent->type = IMAP_SEARCH_RECENT;
			memset(not, 0, sizeof(*not));
			not->type = IMAP_SEARCH_NOT;
			not->children = child;
			recent->next = not;
			memset(key, 0, sizeof(*key));
			key->type = IMAP_SEARCH_AND;
			key->children = recent;
			break;
		}
		default:
			imap_acl_search_rewrite(m, pool, key->children);
			break;
		}
		key->next = next;
	}
}

/* ---- COPY / MOVE / APPEND into a mailbox ---- */

/* Run a flag change on the uids of list that pass keep (all when keep is
 * NULL), logging a failure: the messages are in place already. */
static void fix_flags(struct store *st, uint64_t mailbox_id, uint64_t reader_id,
		      const uint32_t *uids, const bool *keep, size_t n, enum store_flag_op op,
		      unsigned flags, unsigned keep_flags)
{
	struct store_uid_range *r = xcalloc(n + 1, sizeof(*r));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (keep != NULL && !keep[i])
			continue;
		r[k].lo = r[k].hi = uids[i];
		k++;
	}
	struct store_flags_result fr;
	const char *error = NULL;
	int ret = STORE_OK;
	if (k > 0 && reader_id != 0)
		ret = store_acl_flags_update(st, mailbox_id, reader_id, r, k, op, flags, keep_flags,
					     NULL, 0,
					     STORE_NO_UNCHANGEDSINCE, &fr, &error);
	else if (k > 0)
		ret = store_flags_update(st, mailbox_id, r, k, op, flags, NULL, 0,
					 STORE_NO_UNCHANGEDSINCE, &fr, &error);
	if (k > 0 && ret == STORE_OK)
		store_flags_result_free(&fr);
	else if (k > 0)
		log_warn("imap event=acl-copy-flags-failed mailbox_id=%llu reason=\"%s\"",
			 (unsigned long long)mailbox_id, error != NULL ? error : "");
	free(r);
}

/* Which copies carry \Seen (from the source owner's flags). */
struct seen_scan {
	const struct store_copy_result *cr;
	bool *seen;
};

static void seen_scan_cb(const struct store_msg_meta *meta, void *ctx)
{
	struct seen_scan *sc = ctx;
	for (size_t i = 0; i < sc->cr->count; i++)
		if (sc->cr->dst[i] == meta->uid)
			sc->seen[i] = (meta->flags & STORE_FLAG_SEEN) != 0;
}

void imap_acl_copy_fixup(const struct imap_mailbox *m, struct store *st,
			 const struct imap_acl_box *dst, const struct store_copy_result *cr)
{
	if (cr->count == 0 || (!m->private_seen && dst->sb->own))
		return;
	uint64_t dst_id = dst->sb->info.id;
	/* The \Seen the user had on each source message. */
	bool *seen = xcalloc(cr->count, sizeof(*seen));
	bool *unseen = xcalloc(cr->count, sizeof(*unseen));
	if (m->private_seen) {
		for (size_t i = 0; i < cr->count; i++)
			seen[i] = (imap_acl_flags(m, cr->src[i], 0) & STORE_FLAG_SEEN) != 0;
	} else {
		/* From his own mailbox: the copies carry his \Seen. */
		struct store_uid_range *r = xcalloc(cr->count, sizeof(*r));
		for (size_t i = 0; i < cr->count; i++)
			r[i].lo = r[i].hi = cr->dst[i];
		struct seen_scan sc = { cr, seen };
		const char *error = NULL;
		if (store_fetch(st, dst_id, r, cr->count, 0, seen_scan_cb, &sc, &error) != STORE_OK)
			log_warn("imap event=acl-copy-seen-failed mailbox_id=%llu reason=\"%s\"",
				 (unsigned long long)dst_id, error != NULL ? error : "");
		free(r);
	}
	if (dst->sb->own) {
		/* Into his own mailbox: the owner's \Seen is his. */
		for (size_t i = 0; i < cr->count; i++)
			unseen[i] = !seen[i];
		fix_flags(st, dst_id, 0, cr->dst, seen, cr->count, STORE_FLAGS_ADD,
			  STORE_FLAG_SEEN, 0);
		fix_flags(st, dst_id, 0, cr->dst, unseen, cr->count, STORE_FLAGS_REMOVE,
			  STORE_FLAG_SEEN, 0);
	} else {
		/* Into another's mailbox: the owner has not seen them; the user
		 * keeps his own \Seen when he may set it; flags he has no right
		 * to set are dropped (RFC 4314 4: COPY). */
		unsigned drop = STORE_FLAG_SEEN;
		if (!(dst->rights & IMAP_ACL_WRITE))
			drop |= STORE_FLAG_ANSWERED | STORE_FLAG_FLAGGED | STORE_FLAG_DRAFT;
		if (!(dst->rights & IMAP_ACL_DELETED))
			drop |= STORE_FLAG_DELETED;
		fix_flags(st, dst_id, 0, cr->dst, NULL, cr->count, STORE_FLAGS_REMOVE, drop, 0);
		/* Without w no keywords either: an empty FLAGS replace that
		 * keeps every system flag. */
		if (!(dst->rights & IMAP_ACL_WRITE))
			fix_flags(st, dst_id, dst->sb->user_id, cr->dst, NULL, cr->count,
				  STORE_FLAGS_REPLACE, 0, STORE_FLAGS_ALL);
		if (dst->rights & IMAP_ACL_SEEN)
			fix_flags(st, dst_id, dst->sb->user_id, cr->dst, seen, cr->count,
				  STORE_FLAGS_ADD, STORE_FLAG_SEEN, 0);
	}
	free(seen);
	free(unseen);
}
