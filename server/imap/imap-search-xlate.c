/* The parsed IMAP SEARCH program (proto/imap_args.h) turned into the
 * store's protocol-neutral one (store-mail-search.h) against the session's
 * view: message sequence numbers and "*" become uid ranges of that view,
 * \Recent becomes the session's recent uid ranges, the system-flag keys a
 * flag bit set, dates calendar days, EMAILID the content id. The IMAP side
 * keeps its own program and translates it again at every evaluation (the
 * update contexts of RFC 5267 and NOTIFY re-run it over a newer view:
 * their sequence sets were already fixed to uids when the command came,
 * imap_context_fix_seqsets, and "$" substituted, imap_searchres_substitute). */
#include "autoconf.h"
#include "imap-private.h"
#include "store-mail-search.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct xlate {
	struct imap_pool *pool;
	const uint32_t *uids;
	size_t count;
	const struct store_uid_range *recent;
	size_t recent_count;
};

static char *dup_len(const char *s, size_t len)
{
	char *d = xmalloc(len + 1);
	if (len > 0)
		memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

static void set_str(struct store_search_node *n, const struct imap_search_key *key)
{
	const char *s = key->str != NULL ? key->str : "";
	n->str = dup_len(s, key->str != NULL ? key->str_len : 0);
	n->str_len = key->str != NULL ? key->str_len : 0;
}

static struct store_search_node *flags_node(struct store_search_node *parent, bool set,
					    unsigned flags)
{
	struct store_search_node *n =
		store_search_node_new(parent, set ? STORE_SEARCH_FLAGS_SET : STORE_SEARCH_FLAGS_UNSET);
	n->flags = flags;
	return n;
}

static struct store_search_node *recent_node(const struct xlate *x, struct store_search_node *parent)
{
	struct store_search_node *n = store_search_node_new(parent, STORE_SEARCH_UIDS);
	n->ranges = xcalloc(x->recent_count + 1, sizeof(*n->ranges));
	for (size_t i = 0; i < x->recent_count; i++)
		n->ranges[i] = x->recent[i];
	n->range_count = x->recent_count;
	return n;
}

/* A set of sequence numbers (seq) or uids: uid ranges of the view. Message
 * numbers n..m are the view's uids[n-1..m-1]; only messages of the view can
 * match, so the uid range from the first to the last of them is exact. */
static void set_node(const struct xlate *x, struct store_search_node *n,
		     const struct imap_seqset *set, bool seq)
{
	struct imap_seq_range *r = NULL;
	size_t nr = 0;
	uint32_t star = seq ? (uint32_t)x->count : x->count > 0 ? x->uids[x->count - 1] : 0;
	if (!set->last_result)
		imap_seqset_resolve(x->pool, set, star, &r, &nr);
	n->op = STORE_SEARCH_UIDS;
	n->ranges = xcalloc(nr + 1, sizeof(*n->ranges));
	n->range_count = 0;
	for (size_t i = 0; i < nr; i++) {
		uint32_t lo = r[i].lo, hi = r[i].hi;
		if (seq) {
			if (lo == 0)
				lo = 1;
			if (hi > x->count)
				hi = (uint32_t)x->count;
			if (lo > hi)
				continue;
			lo = x->uids[lo - 1];
			hi = x->uids[hi - 1];
		}
		n->ranges[n->range_count].lo = lo;
		n->ranges[n->range_count].hi = hi;
		n->range_count++;
	}
}

/* "M" and the decimal blob id exactly as imap_objectid_email writes it;
 * false for anything else (it then names no message). */
static bool parse_emailid(const char *s, size_t len, uint64_t *id_r)
{
	if (s == NULL || len < 2 || len >= IMAP_OBJECTID_MAX || s[0] != 'M')
		return false;
	uint64_t v = 0;
	for (size_t i = 1; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	char canon[IMAP_OBJECTID_MAX];
	imap_objectid_email(v, canon);
	if (strlen(canon) != len || memcmp(canon, s, len) != 0)
		return false;	/* leading zeros */
	*id_r = v;
	return true;
}

static void date_node(struct store_search_node *n, enum store_search_op op,
		      enum store_search_date which, time_t date)
{
	n->op = op;
	n->which = which;
	/* date is midnight UTC of the day: a whole number of days */
	int64_t t = (int64_t)date;
	n->day = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
}

static void xlate_key(const struct xlate *x, const struct imap_search_key *key,
		      struct store_search_node *parent)
{
	struct store_search_node *n = store_search_node_new(parent, STORE_SEARCH_NONE);
	switch (key->type) {
	case IMAP_SEARCH_ALL: n->op = STORE_SEARCH_ALL; break;
	case IMAP_SEARCH_ANSWERED:
	case IMAP_SEARCH_UNANSWERED:
		n->op = key->type == IMAP_SEARCH_ANSWERED ? STORE_SEARCH_FLAGS_SET
							  : STORE_SEARCH_FLAGS_UNSET;
		n->flags = STORE_FLAG_ANSWERED;
		break;
	case IMAP_SEARCH_DELETED:
	case IMAP_SEARCH_UNDELETED:
		n->op = key->type == IMAP_SEARCH_DELETED ? STORE_SEARCH_FLAGS_SET
							 : STORE_SEARCH_FLAGS_UNSET;
		n->flags = STORE_FLAG_DELETED;
		break;
	case IMAP_SEARCH_DRAFT:
	case IMAP_SEARCH_UNDRAFT:
		n->op = key->type == IMAP_SEARCH_DRAFT ? STORE_SEARCH_FLAGS_SET
						       : STORE_SEARCH_FLAGS_UNSET;
		n->flags = STORE_FLAG_DRAFT;
		break;
	case IMAP_SEARCH_FLAGGED:
	case IMAP_SEARCH_UNFLAGGED:
		n->op = key->type == IMAP_SEARCH_FLAGGED ? STORE_SEARCH_FLAGS_SET
							 : STORE_SEARCH_FLAGS_UNSET;
		n->flags = STORE_FLAG_FLAGGED;
		break;
	case IMAP_SEARCH_SEEN:
	case IMAP_SEARCH_UNSEEN:
		n->op = key->type == IMAP_SEARCH_SEEN ? STORE_SEARCH_FLAGS_SET
						      : STORE_SEARCH_FLAGS_UNSET;
		n->flags = STORE_FLAG_SEEN;
		break;
	case IMAP_SEARCH_RECENT:
		n->op = STORE_SEARCH_AND;
		recent_node(x, n);
		break;
	case IMAP_SEARCH_NEW:		/* RECENT UNSEEN */
		n->op = STORE_SEARCH_AND;
		recent_node(x, n);
		flags_node(n, false, STORE_FLAG_SEEN);
		break;
	case IMAP_SEARCH_OLD:		/* NOT RECENT */
		n->op = STORE_SEARCH_NOT;
		recent_node(x, n);
		break;
	case IMAP_SEARCH_KEYWORD:
	case IMAP_SEARCH_UNKEYWORD: {
		struct store_search_node *kw = n;
		if (key->type == IMAP_SEARCH_UNKEYWORD) {
			n->op = STORE_SEARCH_NOT;
			kw = store_search_node_new(n, STORE_SEARCH_KEYWORD);
		}
		kw->op = STORE_SEARCH_KEYWORD;
		set_str(kw, key);
		break;
	}
	case IMAP_SEARCH_FROM: n->op = STORE_SEARCH_FIELD; n->field = STORE_FIELD_FROM; set_str(n, key); break;
	case IMAP_SEARCH_TO: n->op = STORE_SEARCH_FIELD; n->field = STORE_FIELD_TO; set_str(n, key); break;
	case IMAP_SEARCH_CC: n->op = STORE_SEARCH_FIELD; n->field = STORE_FIELD_CC; set_str(n, key); break;
	case IMAP_SEARCH_BCC: n->op = STORE_SEARCH_FIELD; n->field = STORE_FIELD_BCC; set_str(n, key); break;
	case IMAP_SEARCH_SUBJECT:
		n->op = STORE_SEARCH_FIELD;
		n->field = STORE_FIELD_SUBJECT;
		set_str(n, key);
		break;
	case IMAP_SEARCH_BODY: n->op = STORE_SEARCH_BODY; set_str(n, key); break;
	case IMAP_SEARCH_TEXT: n->op = STORE_SEARCH_TEXT; set_str(n, key); break;
	case IMAP_SEARCH_HEADER:
		n->op = STORE_SEARCH_HEADER;
		n->header = xstrdup(key->header != NULL ? key->header : "");
		set_str(n, key);
		break;
	case IMAP_SEARCH_BEFORE: date_node(n, STORE_SEARCH_DATE_BEFORE, STORE_DATE_INTERNAL, key->date); break;
	case IMAP_SEARCH_ON: date_node(n, STORE_SEARCH_DATE_ON, STORE_DATE_INTERNAL, key->date); break;
	case IMAP_SEARCH_SINCE: date_node(n, STORE_SEARCH_DATE_SINCE, STORE_DATE_INTERNAL, key->date); break;
	case IMAP_SEARCH_SENTBEFORE: date_node(n, STORE_SEARCH_DATE_BEFORE, STORE_DATE_SENT, key->date); break;
	case IMAP_SEARCH_SENTON: date_node(n, STORE_SEARCH_DATE_ON, STORE_DATE_SENT, key->date); break;
	case IMAP_SEARCH_SENTSINCE: date_node(n, STORE_SEARCH_DATE_SINCE, STORE_DATE_SENT, key->date); break;
	case IMAP_SEARCH_SAVEDBEFORE: date_node(n, STORE_SEARCH_DATE_BEFORE, STORE_DATE_SAVED, key->date); break;
	case IMAP_SEARCH_SAVEDON: date_node(n, STORE_SEARCH_DATE_ON, STORE_DATE_SAVED, key->date); break;
	case IMAP_SEARCH_SAVEDSINCE: date_node(n, STORE_SEARCH_DATE_SINCE, STORE_DATE_SAVED, key->date); break;
	case IMAP_SEARCH_SAVEDATESUPPORTED: n->op = STORE_SEARCH_ALL; break;	/* RFC 8514 */
	case IMAP_SEARCH_EMAILID: {
		uint64_t id;
		if (parse_emailid(key->str, key->str_len, &id)) {
			n->op = STORE_SEARCH_EMAILID;
			n->number = id;
		}			/* else NONE: no message has that id */
		break;
	}
	case IMAP_SEARCH_THREADID: break;	/* THREADID is NIL (RFC 8474 5.2): NONE */
	case IMAP_SEARCH_LARGER: n->op = STORE_SEARCH_LARGER; n->number = key->number; break;
	case IMAP_SEARCH_SMALLER: n->op = STORE_SEARCH_SMALLER; n->number = key->number; break;
	case IMAP_SEARCH_OLDER: n->op = STORE_SEARCH_OLDER; n->number = key->number; break;
	case IMAP_SEARCH_YOUNGER: n->op = STORE_SEARCH_YOUNGER; n->number = key->number; break;
	case IMAP_SEARCH_MODSEQ:
		n->op = STORE_SEARCH_MODSEQ;
		n->number = key->number;
		n->modseq_entry = key->modseq_entry != NULL ? xstrdup(key->modseq_entry) : NULL;
		n->modseq_type = key->modseq_type == IMAP_MODSEQ_PRIV     ? STORE_MODSEQ_PRIV
				 : key->modseq_type == IMAP_MODSEQ_SHARED ? STORE_MODSEQ_SHARED
									  : STORE_MODSEQ_ALL;
		break;
	case IMAP_SEARCH_SEQSET: set_node(x, n, &key->set, true); break;
	case IMAP_SEARCH_UIDSET: set_node(x, n, &key->set, false); break;
	case IMAP_SEARCH_NOT:
		/* one child; the parser never makes one without */
		if (key->children != NULL) {
			n->op = STORE_SEARCH_NOT;
			xlate_key(x, key->children, n);
		}
		break;
	case IMAP_SEARCH_OR:
		if (key->children != NULL && key->children->next != NULL) {
			n->op = STORE_SEARCH_OR;
			xlate_key(x, key->children, n);
			xlate_key(x, key->children->next, n);
		}
		break;
	case IMAP_SEARCH_AND:
		n->op = STORE_SEARCH_AND;
		for (const struct imap_search_key *ch = key->children; ch != NULL; ch = ch->next)
			xlate_key(x, ch, n);
		break;
	}
}

struct store_search_program *imap_search_xlate(const struct imap_search_program *prog,
					       const uint32_t *uids, size_t count,
					       const struct store_uid_range *recent,
					       size_t recent_count)
{
	struct xlate x = { imap_pool_create(), uids, count, recent, recent_count };
	struct store_search_program *sp = xcalloc(1, sizeof(*sp));
	sp->need_modseq = prog->uses_modseq;
	sp->root = store_search_node_new(NULL, STORE_SEARCH_AND);
	for (const struct imap_search_key *ch = prog->root.children; ch != NULL; ch = ch->next)
		xlate_key(&x, ch, sp->root);
	imap_pool_destroy(&x.pool);
	return sp;
}
