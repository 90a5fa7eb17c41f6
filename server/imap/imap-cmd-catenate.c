/* CATENATE (RFC 4469): APPEND's message may be a list of TEXT literals and
 * URLs of messages or parts the user can read, joined on the worker into
 * the message that is stored. The literals arrive streamed like any APPEND
 * message (one session buffer each); imap_catenate_regroup turns those into
 * one buffer per message, so the APPEND code keeps its one-buffer-per-
 * message shape, and imap_catenate_resolve fills the buffers before the
 * append. A URL part is fetched by store_url_fetch_part, the same path as
 * FETCH BODY[section] (store_fetch_raw, the FETCH section parser,
 * mime_section_fetch). */
#include "autoconf.h"
#include "imap-private.h"
#include "config.h"
#include "conn.h"
#include "imap_url.h"
#include "log.h"
#include "mime.h"
#include "store.h"
#include "store-urlauth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One part of a CATENATE message: a literal's bytes or a URL. */
struct cat_part {
	struct buf text;	/* TEXT: taken over from the session */
	char *url;		/* URL: as the client sent it */
	bool is_url;
};

/* The parts of one message; NULL parts for a message sent as a literal. */
struct cat_msg {
	struct cat_part *parts;
	size_t count;
};

struct imap_catenate {
	struct cat_msg *msgs;	/* one per message of the APPEND */
	size_t count;
};

void imap_catenate_free(struct imap_catenate **catp)
{
	struct imap_catenate *cat = *catp;
	*catp = NULL;
	if (cat == NULL)
		return;
	for (size_t i = 0; i < cat->count; i++) {
		for (size_t p = 0; p < cat->msgs[i].count; p++) {
			buf_free(&cat->msgs[i].parts[p].text);
			free(cat->msgs[i].parts[p].url);
		}
		free(cat->msgs[i].parts);
	}
	free(cat->msgs);
	free(cat);
}

bool imap_catenate_is_message(const struct imap_catenate *cat, size_t k)
{
	return cat != NULL && k < cat->count && cat->msgs[k].parts != NULL;
}

bool imap_catenate_arg(const struct imap_command *cmd, size_t i)
{
	return i + 1 < cmd->arg_count && imap_arg_atom_eq(&cmd->args[i], "CATENATE") &&
	       cmd->args[i + 1].type == IMAP_ARG_LIST;
}

void imap_catenate_regroup(const struct imap_command *cmd, struct buf **bufs, size_t *count,
			   struct imap_catenate **cat_r)
{
	*cat_r = NULL;
	bool any = false;
	for (size_t i = 1; i < cmd->arg_count; i++)
		if (imap_catenate_arg(cmd, i))
			any = true;
	if (!any)
		return;
	/* Walk the messages as APPEND does: [flags] [date] data. */
	struct imap_catenate *cat = xcalloc(1, sizeof(*cat));
	struct buf *out = xcalloc(cmd->arg_count + 1, sizeof(*out));
	size_t k = 0, n = 0;
	bool ok = true;
	for (size_t i = 1; i < cmd->arg_count && ok;) {
		const struct imap_arg *a = &cmd->args[i];
		if (a->type == IMAP_ARG_LIST)
			a = i + 1 < cmd->arg_count ? &cmd->args[++i] : NULL;
		if (a != NULL && a->type == IMAP_ARG_QUOTED)
			a = i + 1 < cmd->arg_count ? &cmd->args[++i] : NULL;
		if (a == NULL) {
			ok = false;
			break;
		}
		cat->msgs = xrealloc(cat->msgs, (n + 1) * sizeof(*cat->msgs));
		memset(&cat->msgs[n], 0, sizeof(cat->msgs[n]));
		buf_init(&out[n], 0);
		if (imap_catenate_arg(cmd, i)) {
			const struct imap_arg *l = cmd->args[i + 1].list;
			size_t lc = cmd->args[i + 1].list_count;
			struct cat_msg *m = &cat->msgs[n];
			m->parts = xcalloc(lc + 1, sizeof(*m->parts));
			for (size_t p = 0; p + 1 < lc + 1 && ok; p += 2) {
				struct cat_part *part = &m->parts[m->count];
				const char *url;
				size_t ulen;
				if (p + 1 < lc && imap_arg_atom_eq(&l[p], "TEXT") &&
				    l[p + 1].type == IMAP_ARG_LITERAL_STREAM && k < *count) {
					part->text = (*bufs)[k];
					buf_init(&(*bufs)[k], 0);
					k++;
				} else if (p + 1 < lc && imap_arg_atom_eq(&l[p], "URL") &&
					   imap_arg_astring(&l[p + 1], &url, &ulen) && strlen(url) == ulen) {
					part->url = xstrdup(url);
					part->is_url = true;
				} else {
					ok = false;
				}
				m->count++;
			}
			if (m->count == 0)
				ok = false;
			i += 2;
		} else {
			if (imap_arg_atom_eq(a, "UTF8") && i + 1 < cmd->arg_count &&
			    cmd->args[i + 1].type == IMAP_ARG_LIST)
				i++;
			if (k < *count) {
				out[n] = (*bufs)[k];
				buf_init(&(*bufs)[k], 0);
				k++;
			}
			i++;
		}
		n++;
	}
	cat->count = n;
	/* Whatever was not taken (a malformed command) stays owned here and
	 * is freed; APPEND then answers BAD because the shapes disagree. */
	for (size_t i = 0; i < *count; i++)
		buf_free(&(*bufs)[i]);
	free(*bufs);
	if (!ok) {
		for (size_t i = 0; i < n; i++)
			buf_free(&out[i]);
		free(out);
		*bufs = NULL;
		*count = 0;
		imap_catenate_free(&cat);
		return;
	}
	*bufs = out;
	*count = n;
	*cat_r = cat;
}

void imap_write_badurl(struct buf *out, const char *url)
{
	size_t start = out->len;
	for (const char *p = url; *p != '\0' && out->len - start < 1024; p++) {
		unsigned char c = (unsigned char)*p;
		buf_append(out, c > 0x20 && c < 0x7f && c != ']' ? p : "_", 1);
	}
	if (out->len == start)
		buf_append_str(out, "_");
}

/* Refuse url: the client reads why; the log gets the real reason when that
 * must not go to the client (logwhy, NULL for the same). */
static void badurl(struct imap_job *j, const char *url, const char *why, const char *logwhy)
{
	struct buf b;
	buf_init(&b, 0);
	imap_write_badurl(&b, url);
	imap_job_tagged(j, "NO [BADURL %s] %s", b.data, why);
	log_info("imap session=%s user=%s cmd=%s event=badurl reason=\"%s\"", conn_id(j->conn),
		 j->s->address, j->cmd, logwhy != NULL ? logwhy : why);
	buf_free(&b);
}

/* The one answer for a URLAUTH URL that does not give a message: whether
 * another user's mailbox exists, whether the verifier or the key is wrong,
 * is not the requester's business (URLFETCH answers NIL for all of them). */
#define URLAUTH_REFUSED "URL not valid or not accessible"

/* The mailbox a CATENATE URL names, for the session's own account. */
static int url_mailbox(struct imap_job *j, const struct imap_url *u, const char **name_r,
		       const char **why_r)
{
	struct imap_session *s = j->s;
	switch (u->form) {
	case IMAP_URL_ABSOLUTE:
	case IMAP_URL_NETWORK:
		if (str_casecmp(u->host, s->ictx->hostname) != 0) {
			*why_r = "URL names another server";
			return -1;
		}
		if (u->user != NULL && str_casecmp(u->user, s->address) != 0) {
			*why_r = "URL names another user";
			return -1;
		}
		/* fall through */
	case IMAP_URL_PATH:
		if (u->mailbox == NULL) {
			*why_r = "URL has no mailbox";
			return -1;
		}
		*name_r = imap_mailbox_normalize(u->mailbox);
		return 0;
	case IMAP_URL_RELATIVE:
		if (s->mbox == NULL) {
			*why_r = "Relative URL without a selected mailbox";
			return -1;
		}
		*name_r = s->mbox->name;
		return 0;
	default:
		*why_r = "Relative mailbox paths are not supported";
		return -1;
	}
}

int imap_catenate_resolve(struct imap_job *j, struct store *st, struct imap_catenate *cat,
			  struct buf *bufs, struct store_append_msg *msgs, size_t count)
{
	uint64_t max = j->s->ictx->cfg->imap.max_append;
	for (size_t k = 0; k < count && k < cat->count; k++) {
		struct cat_msg *m = &cat->msgs[k];
		if (m->parts == NULL)
			continue;
		struct buf *out = &bufs[k];
		buf_free(out);
		buf_init(out, (size_t)max);
		for (size_t p = 0; p < m->count; p++) {
			struct cat_part *part = &m->parts[p];
			if (!part->is_url) {
				if (buf_append(out, part->text.data != NULL ? part->text.data : "",
					       part->text.len) < 0) {
					imap_job_tagged(j, "NO [TOOBIG] Message over the APPEND limit");
					return -1;
				}
				continue;
			}
			struct imap_url u;
			const char *why = NULL, *name = NULL;
			if (imap_url_parse(part->url, strlen(part->url), &u, &why) < 0) {
				badurl(j, part->url, why, NULL);
				return -1;
			}
			int r = IMAP_URL_BAD;
			if (u.mechanism != NULL) {
				/* RFC 4469 5: a URLAUTH-authorized URL may name
				 * another user's message; URLFETCH's checks apply. */
				r = store_urlauth_fetch(st, j->s->ictx->hostname, part->url,
							strlen(part->url), STORE_URLAUTH_USER,
							j->s->address, (int64_t)time(NULL), out, &why);
				if (r == STORE_NOTFOUND || r == STORE_INVALID) {
					badurl(j, part->url, URLAUTH_REFUSED, why);
					imap_url_free(&u);
					return -1;
				}
			} else if (u.access != IMAP_URL_ACCESS_NONE) {
				why = "URLAUTH rump without a verifier";
			} else if (u.search != NULL || u.uid == 0) {
				why = "URL does not name a message";
			} else if (url_mailbox(j, &u, &name, &why) == 0) {
				struct store_mailbox_info info;
				const char *error = NULL;
				r = store_mailbox_open(st, j->s->address, name, &info, &error);
				if (r == STORE_OK && info.noselect)
					r = STORE_NOTFOUND;
				if (r == STORE_OK && u.uidvalidity != 0 && u.uidvalidity != info.uidvalidity) {
					why = "UIDVALIDITY mismatch";
					r = STORE_NOTFOUND;
				} else if (r == STORE_OK) {
					r = store_url_fetch_part(st, info.id, &u, out, &why);
				} else if (r == STORE_NOTFOUND) {
					why = "No such mailbox";
				} else {
					why = error;
				}
			}
			if (r == STORE_URL_TOOBIG) {
				imap_url_free(&u);
				imap_job_tagged(j, "NO [TOOBIG] Message over the APPEND limit");
				return -1;
			}
			if (r != STORE_OK && r != STORE_NOTFOUND && r != STORE_INVALID && r != IMAP_URL_BAD) {
				imap_url_free(&u);
				imap_job_store_error(j, r, why);
				return -1;
			}
			if (r != STORE_OK) {
				badurl(j, part->url, why != NULL ? why : "Invalid URL", NULL);
				imap_url_free(&u);
				return -1;
			}
			imap_url_free(&u);
		}
		if (out->len == 0) {
			imap_job_tagged(j, "NO Empty message refused");
			return -1;
		}
		msgs[k].data = out->data;
		msgs[k].size = out->len;
	}
	return 0;
}
