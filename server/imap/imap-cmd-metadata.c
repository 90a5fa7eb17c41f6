/* IMAP METADATA (RFC 5464, also METADATA-SERVER) and the object ids of
 * OBJECTID (RFC 8474). GETMETADATA answers one METADATA response per
 * command with every entry found (NIL for an entry asked for that matched
 * nothing), leaving out values longer than MAXSIZE ([METADATA LONGENTRIES
 * n]). SETMETADATA applies all its pairs in one transaction or none:
 * values are limited by imap.metadata_max_value ([METADATA MAXSIZE n]) and
 * entries by imap.metadata_max_entries ([METADATA TOOMANY]). Server
 * /shared entries may be set by administrators only; /shared/admin comes
 * from imap.metadata_admin and is read-only; a mailbox's /private/specialuse
 * is its special-use attribute (RFC 6154 section 4), at most one. Mailboxes
 * are resolved in every namespace of the user (imap_acl_open): reading
 * needs the l and r rights, setting /shared entries w as well and the
 * special-use attribute a (RFC 5464 3.3). */
#include "autoconf.h"
#include "imap-private.h"
#include "imap_metadata.h"
#include "store-metadata.h"
#include "store-quota.h"
#include "config.h"
#include "conn.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define METADATA_ADMIN "/shared/admin"
/* Pairs one SETMETADATA may carry at all (imap.metadata_max_entries is at
 * most 100000; the parser's argument limit comes first anyway). */
#define METADATA_MAX_PAIRS 100000

/* ---- OBJECTID ---- */

struct imap_objectid imap_mailbox_objectid(uint64_t mailbox_id)
{
	struct imap_objectid o;
	imap_objectid_mailbox(mailbox_id, o.s);
	return o;
}

struct imap_objectid imap_email_objectid(uint64_t blob_id)
{
	struct imap_objectid o;
	imap_objectid_email(blob_id, o.s);
	return o;
}

/* ---- GETMETADATA ---- */

struct meta_job {
	struct imap_job base;
	struct imap_pool *pool;
	struct buf name;		/* the mailbox (UTF-8), empty = server */
	struct imap_metadata_get get;
	struct imap_metadata_set set;
	/* GETMETADATA output */
	struct buf entries;		/* " /name value" for each entry */
	size_t found;			/* entries matching the current request */
	uint64_t longest_skipped;	/* LONGENTRIES */
	/* Names already answered: overlapping requests ("/private" and
	 * "/private/x" at DEPTH infinity) show an entry once, so the answer
	 * stays within what the user can see. */
	char **emitted;
	size_t emitted_count;
};

/* Free what a metadata job owns. */
static void meta_cleanup(struct imap_job *job)
{
	struct meta_job *j = (struct meta_job *)job;
	imap_pool_destroy(&j->pool);
	buf_free(&j->name);
	buf_free(&j->entries);
	for (size_t i = 0; i < j->emitted_count; i++)
		free(j->emitted[i]);
	free(j->emitted);
}

/* One entry found: append it unless MAXSIZE leaves it out. */
static void meta_entry(const char *name, const char *value, size_t len, void *ctx)
{
	struct meta_job *j = ctx;
	j->found++;
	for (size_t i = 0; i < j->emitted_count; i++)
		if (strcmp(j->emitted[i], name) == 0)
			return;
	j->emitted = xrealloc(j->emitted, (j->emitted_count + 1) * sizeof(*j->emitted));
	j->emitted[j->emitted_count++] = xstrdup(name);
	if (j->get.maxsize_set && len > j->get.maxsize) {
		if (len > j->longest_skipped)
			j->longest_skipped = len;
		return;
	}
	if (j->entries.len > 0)
		buf_append_str(&j->entries, " ");
	imap_write_astring(&j->entries, name, strlen(name), j->base.s->utf8 ? IMAP_QUOTE_UTF8 : 0);
	buf_append_str(&j->entries, " ");
	imap_metadata_write_value(&j->entries, value, len, j->base.s->utf8);
}

/* meta_mailbox: the tagged reply is written already. */
#define META_ANSWERED 1

/* The mailbox id of the job's name (0 for the server), resolved in the
 * user's namespaces (shared folders too) when he has the rights in need
 * (RFC 5464 3.3); META_ANSWERED when he has not. */
static int meta_mailbox(struct meta_job *j, struct store *st, struct worker *w, unsigned need,
			uint64_t *id_r, const char **error_r)
{
	struct imap_acl_box box;
	*id_r = 0;
	if (j->name.len == 0)
		return STORE_OK;
	int r = imap_acl_open(&j->base, st, w, j->name.data, &box, error_r);
	if (r == STORE_OK && !imap_acl_require(&j->base, &box, need, false)) {
		imap_acl_box_free(&box);
		return META_ANSWERED;
	}
	if (r == STORE_OK && (!box.exists || box.sb->info.noselect)) {
		r = STORE_NOTFOUND;
		*error_r = "No such mailbox";
	}
	if (r == STORE_OK)
		*id_r = box.sb->info.id;
	imap_acl_box_free(&box);
	return r;
}

/* GETMETADATA on a worker: each requested entry with its matches. */
static void getmetadata_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct meta_job *j = (struct meta_job *)job;
	const char *error = NULL;
	const char *admin = job->s->ictx->cfg->imap.metadata_admin;
	uint64_t id;
	int r = meta_mailbox(j, st, w, IMAP_ACL_LOOKUP | IMAP_ACL_READ, &id, &error);
	if (r == META_ANSWERED)
		return;
	for (size_t i = 0; i < j->get.entry_count && r == STORE_OK; i++) {
		const char *req = j->get.entries[i];
		j->found = 0;
		/* /shared/admin sorts before every stored /shared/ entry but
		 * /shared/a..., which is close enough: order is not promised. */
		if (id == 0 && admin != NULL && admin[0] != '\0' &&
		    imap_metadata_match(req, j->get.depth, METADATA_ADMIN))
			meta_entry(METADATA_ADMIN, admin, strlen(admin), j);
		r = store_metadata_get(st, job->s->address, id, req, j->get.depth, meta_entry, j,
				       &error);
		if (r == STORE_OK && j->found == 0) {
			if (j->entries.len > 0)
				buf_append_str(&j->entries, " ");
			imap_write_astring(&j->entries, req, strlen(req),
					   job->s->utf8 ? IMAP_QUOTE_UTF8 : 0);
			buf_append_str(&j->entries, " NIL");
		}
	}
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	if (j->entries.len > 0) {
		buf_append_str(&job->out, "* METADATA ");
		imap_write_mailbox(job->s, &job->out, j->name.len > 0 ? j->name.data : "");
		buf_append_str(&job->out, " (");
		buf_append(&job->out, j->entries.data, j->entries.len);
		buf_append_str(&job->out, ")\r\n");
	}
	if (j->longest_skipped > 0)
		imap_job_tagged(job, "OK [METADATA LONGENTRIES %" PRIu64 "] GETMETADATA completed",
				j->longest_skipped);
	else
		imap_job_tagged(job, "OK GETMETADATA completed");
}

/* A metadata job for mailbox (as sent); NULL after answering NO. */
static struct meta_job *meta_job_new(struct imap_session *s, const struct imap_command *cmd,
				     imap_job_run_fn *run, struct imap_pool *pool,
				     const char *mailbox, size_t len)
{
	const char *error = NULL;
	struct meta_job *j = imap_job_new(s, sizeof(*j), cmd, run,
					  s->mbox != NULL ? IMAP_SYNC_FULL : IMAP_SYNC_NONE);
	j->base.cleanup = meta_cleanup;
	j->pool = pool;
	buf_init(&j->name, 0);
	buf_init(&j->entries, 0);
	if (len > 0 && (strlen(mailbox) != len || imap_mailbox_decode(s, mailbox, &j->name, &error) < 0)) {
		imap_job_tagged(&j->base, "NO [CANNOT] %s", error != NULL ? error : "Bad name");
		j->base.run = NULL;
	}
	return j;
}

void imap_cmd_getmetadata(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_pool *pool = imap_pool_create();
	struct imap_metadata_get get;
	const char *error = NULL;
	if (imap_metadata_get_parse(pool, cmd->args, cmd->arg_count, &get, &error) < 0) {
		imap_bad(s, cmd->tag, error);
		imap_pool_destroy(&pool);
		return;
	}
	struct meta_job *j = meta_job_new(s, cmd, getmetadata_run, pool, get.mailbox,
					  get.mailbox_len);
	j->get = get;
	imap_job_submit(s, &j->base);
}

/* ---- SETMETADATA ---- */

/* The canonical spelling of a special-use attribute, or NULL. */
static const char *special_use_name(const char *value, size_t len)
{
	static const char *const names[] = { "\\All", "\\Archive", "\\Drafts", "\\Flagged",
					     "\\Junk", "\\Sent", "\\Trash" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strlen(names[i]) == len && str_ncasecmp(names[i], value, len) == 0)
			return names[i];
	return NULL;
}

/* SETMETADATA on a worker: rights, special-use check, one transaction. */
static void setmetadata_run(struct imap_job *job, struct store *st, struct worker *w)
{
	struct meta_job *j = (struct meta_job *)job;
	const struct config *cfg = job->s->ictx->cfg;
	const char *error = NULL;
	uint64_t id;
	/* /private entries need lr, /shared ones w too, and the special-use
	 * attribute (everybody's) a. */
	unsigned need = IMAP_ACL_LOOKUP | IMAP_ACL_READ;
	for (size_t i = 0; i < j->set.count; i++) {
		if (strncmp(j->set.values[i].name, "/shared/", 8) == 0)
			need |= IMAP_ACL_WRITE;
		else if (strcmp(j->set.values[i].name, STORE_METADATA_SPECIALUSE) == 0)
			need |= IMAP_ACL_ADMIN;
	}
	int r = meta_mailbox(j, st, w, need, &id, &error);
	if (r == META_ANSWERED)
		return;
	if (r != STORE_OK) {
		imap_job_store_error(job, r, error);
		return;
	}
	struct store_metadata_change *ch = xcalloc(j->set.count + 1, sizeof(*ch));
	bool shared_server = false;
	for (size_t i = 0; i < j->set.count; i++) {
		const struct imap_metadata_value *v = &j->set.values[i];
		ch[i].name = v->name;
		ch[i].value = v->value;
		ch[i].len = v->len;
		if (id == 0 && strncmp(v->name, "/shared/", 8) == 0)
			shared_server = true;
		if (id != 0 && strcmp(v->name, STORE_METADATA_SPECIALUSE) == 0 && v->value != NULL) {
			/* One attribute (mailboxes have one); "" clears it. */
			const char *su = v->len == 0 ? "" : special_use_name(v->value, v->len);
			if (su == NULL) {
				imap_job_tagged(job, "NO [USEATTR] Only one of \\All \\Archive \\Drafts"
						" \\Flagged \\Junk \\Sent \\Trash can be set");
				free(ch);
				return;
			}
			ch[i].value = su;
			ch[i].len = strlen(su);
		}
	}
	if (shared_server) {
		bool admin = false;
		r = store_quota_is_admin(st, job->s->address, &admin, &error);
		if (r == STORE_OK && !admin) {
			imap_job_tagged(job, "NO [NOPERM] Only administrators may set server /shared entries");
			free(ch);
			return;
		}
	}
	if (r == STORE_OK)
		r = store_metadata_set(st, job->s->address, id, ch, j->set.count,
				       cfg->imap.metadata_max_entries, &error);
	free(ch);
	if (r == STORE_OVERQUOTA)
		imap_job_tagged(job, "NO [METADATA TOOMANY] Too many metadata entries");
	else if (r != STORE_OK)
		imap_job_store_error(job, r, error);
	else
		imap_job_tagged(job, "OK SETMETADATA completed");
}

void imap_cmd_setmetadata(struct imap_session *s, const struct imap_command *cmd)
{
	const struct config *cfg = s->ictx->cfg;
	struct imap_pool *pool = imap_pool_create();
	struct imap_metadata_set set;
	const char *error = NULL;
	if (imap_metadata_set_parse(pool, cmd->args, cmd->arg_count, METADATA_MAX_PAIRS, &set,
				    &error) < 0) {
		imap_bad(s, cmd->tag, error);
		imap_pool_destroy(&pool);
		return;
	}
	if (set.count > cfg->imap.metadata_max_entries) {
		imap_reply(s, "%s NO [METADATA TOOMANY] Too many metadata entries", cmd->tag);
		imap_pool_destroy(&pool);
		return;
	}
	for (size_t i = 0; i < set.count; i++) {
		if (set.values[i].value != NULL && set.values[i].len > cfg->imap.metadata_max_value) {
			imap_reply(s, "%s NO [METADATA MAXSIZE %llu] Metadata value too large", cmd->tag,
				   (unsigned long long)cfg->imap.metadata_max_value);
			imap_pool_destroy(&pool);
			return;
		}
		if (set.mailbox_len == 0 && strcmp(set.values[i].name, METADATA_ADMIN) == 0) {
			imap_reply(s, "%s NO [NOPERM] /shared/admin is set in the server configuration",
				   cmd->tag);
			imap_pool_destroy(&pool);
			return;
		}
	}
	struct meta_job *j = meta_job_new(s, cmd, setmetadata_run, pool, set.mailbox,
					  set.mailbox_len);
	j->set = set;
	imap_job_submit(s, &j->base);
}
