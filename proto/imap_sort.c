/* SORT and THREAD algorithms of RFC 5256 (and RFC 5957 display names):
 * base subjects, ENVELOPE address extraction, a stable multi-key sort, and
 * the ORDEREDSUBJECT and REFERENCES threading with their response syntax.
 * Everything runs without recursion on message data, so a 50,000-deep
 * reference chain or a hostile envelope cannot exhaust a worker's stack. */
#include "autoconf.h"
#include "imap_sort.h"
#include "imap_unicase.h"

#include <stdlib.h>
#include <string.h>

/* ---- base subject ---- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static char ascii_upper(char c)
{
	return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* Length of a subj-blob ("[" *BLOBCHAR "]" *WSP) at s[0..n), or 0. */
static size_t blob_len(const char *s, size_t n)
{
	if (n == 0 || s[0] != '[')
		return 0;
	size_t i = 1;
	while (i < n && s[i] != '[' && s[i] != ']')
		i++;
	if (i >= n || s[i] != ']')
		return 0;
	i++;
	while (i < n && s[i] == ' ')
		i++;
	return i;
}

/* Length of a subj-refwd (("re" / "fw" ["d"]) *WSP [subj-blob] ":") at s,
 * or 0. */
static size_t refwd_len(const char *s, size_t n)
{
	static const char *const words[] = { "RE", "FWD", "FW" };
	for (size_t w = 0; w < 3; w++) {
		size_t wl = strlen(words[w]), i;
		if (n < wl)
			continue;
		for (i = 0; i < wl && ascii_upper(s[i]) == words[w][i]; i++)
			;
		if (i < wl)
			continue;
		while (i < n && s[i] == ' ')
			i++;
		i += blob_len(s + i, n - i);
		if (i < n && s[i] == ':')
			return i + 1;
	}
	return 0;
}

char *imap_sort_base_subject(const char *subject, size_t len, bool *is_reply_r)
{
	bool reply = false;
	/* (1) Whitespace runs (folding included) become one space. */
	char *s = xmalloc(len + 1);
	size_t n = 0;
	for (size_t i = 0; i < len; i++) {
		char c = subject[i];
		if (c == '\0')
			continue;
		if (is_wsp(c)) {
			if (n > 0 && s[n - 1] == ' ')
				continue;
			c = ' ';
		}
		s[n++] = c;
	}
	size_t start = 0, end = n;
	for (;;) {
		/* (2) Trailing "(fwd)" and whitespace. */
		for (;;) {
			if (end > start && s[end - 1] == ' ') {
				end--;
			} else if (end - start >= 5 && str_ncasecmp(s + end - 5, "(fwd)", 5) == 0) {
				end -= 5;
				reply = true;
			} else {
				break;
			}
		}
		/* (3)-(5) Leaders, then a leading blob if something remains. */
		bool changed = true;
		while (changed) {
			changed = false;
			for (;;) {
				if (start < end && s[start] == ' ') {
					start++;
					changed = true;
					continue;
				}
				size_t p = start, b;
				while ((b = blob_len(s + p, end - p)) > 0)
					p += b;
				size_t r = refwd_len(s + p, end - p);
				if (r == 0)
					break;
				start = p + r;
				reply = true;
				changed = true;
			}
			size_t b = blob_len(s + start, end - start);
			if (b > 0 && start + b < end) {
				start += b;
				changed = true;
			}
		}
		/* (6) "[fwd:" ... "]" wrapper: strip and start again. */
		if (end - start >= 6 && str_ncasecmp(s + start, "[fwd:", 5) == 0 && s[end - 1] == ']') {
			start += 5;
			end--;
			reply = true;
			continue;
		}
		break;
	}
	memmove(s, s + start, end - start);
	s[end - start] = '\0';
	if (is_reply_r != NULL)
		*is_reply_r = reply;
	return s;
}

/* ---- ENVELOPE ---- */

struct env_cur {
	const char *p, *end;
};

static void env_sp(struct env_cur *c)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
}

/* An nstring into *out (malloc'ed; NULL for NIL). 0, or -1 on bad syntax. */
static int env_nstring(struct env_cur *c, char **out)
{
	*out = NULL;
	env_sp(c);
	if (c->end - c->p >= 3 && str_ncasecmp(c->p, "NIL", 3) == 0) {
		c->p += 3;
		return 0;
	}
	if (c->p < c->end && *c->p == '"') {
		struct buf b;
		buf_init(&b, 0);
		c->p++;
		while (c->p < c->end && *c->p != '"') {
			if (*c->p == '\\' && c->p + 1 < c->end)
				c->p++;
			buf_append(&b, c->p, 1);
			c->p++;
		}
		if (c->p >= c->end) {
			buf_free(&b);
			return -1;
		}
		c->p++;
		*out = b.data != NULL ? b.data : xstrdup("");
		return 0;
	}
	if (c->p < c->end && *c->p == '{') {
		uint64_t n = 0;
		c->p++;
		while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
			n = n * 10 + (uint64_t)(*c->p - '0');
			if (n > (uint64_t)(c->end - c->p))
				return -1;
			c->p++;
		}
		if (c->end - c->p < 3 || c->p[0] != '}' || c->p[1] != '\r' || c->p[2] != '\n')
			return -1;
		c->p += 3;
		if ((uint64_t)(c->end - c->p) < n)
			return -1;
		*out = xstrndup(c->p, (size_t)n);
		c->p += n;
		return 0;
	}
	return -1;
}

/* Skip one value: an nstring or a parenthesised list of values. */
static int env_skip(struct env_cur *c)
{
	size_t depth = 0;
	do {
		env_sp(c);
		if (c->p < c->end && *c->p == '(') {
			c->p++;
			depth++;
			continue;
		}
		if (c->p < c->end && *c->p == ')') {
			if (depth == 0)
				return -1;
			c->p++;
			depth--;
			continue;
		}
		char *s;
		if (env_nstring(c, &s) < 0)
			return -1;
		free(s);
	} while (depth > 0);
	return 0;
}

int imap_sort_envelope_addr(const char *env, size_t len, enum imap_env_field field,
			    struct imap_sort_addr *addr_r)
{
	struct env_cur c = { env, env + len };
	memset(addr_r, 0, sizeof(*addr_r));
	env_sp(&c);
	if (c.p >= c.end || *c.p != '(')
		return -1;
	c.p++;
	for (int i = 0; i < (int)field; i++)
		if (env_skip(&c) < 0)
			return -1;
	env_sp(&c);
	if (c.end - c.p >= 3 && str_ncasecmp(c.p, "NIL", 3) == 0)
		return 1;
	if (c.p >= c.end || *c.p != '(')
		return -1;
	c.p++;
	for (;;) {
		env_sp(&c);
		if (c.p < c.end && *c.p == ')')
			return 1;
		if (c.p >= c.end || *c.p != '(')
			return -1;
		c.p++;
		char *v[4] = { NULL, NULL, NULL, NULL };
		int r = 0;
		for (int k = 0; k < 4 && r == 0; k++)
			r = env_nstring(&c, &v[k]);
		env_sp(&c);
		if (r == 0 && (c.p >= c.end || *c.p != ')'))
			r = -1;
		c.p++;
		/* A group start marker (host NIL, mailbox the group name, RFC
		 * 3501 7.4.2) is the first address as much as a mailbox is:
		 * RFC 5256 3 sorts by "the addr-mailbox of the first ...
		 * address", and Dovecot takes the group name too. Only an end
		 * marker (mailbox NIL) is not an address. */
		if (r == 0 && v[2] != NULL) {
			addr_r->name = v[0];
			addr_r->mailbox = v[2];
			addr_r->host = v[3];
			free(v[1]);
			return 0;
		}
		for (int k = 0; k < 4; k++)
			free(v[k]);
		if (r < 0)
			return -1;
	}
}

void imap_sort_addr_free(struct imap_sort_addr *a)
{
	free(a->name);
	free(a->mailbox);
	free(a->host);
	memset(a, 0, sizeof(*a));
}

/* ---- SORT ---- */

/* One UTF-8 sequence at s[0..n): its code point and length, or -1 for
 * an invalid or overlong one. */
static int utf8_next(const unsigned char *s, size_t n, uint32_t *cp_r)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp, min;
	if (c < 0x80) {
		*cp_r = c;
		return 1;
	} else if ((c & 0xe0) == 0xc0) {
		len = 2, cp = c & 0x1f, min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3, cp = c & 0x0f, min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4, cp = c & 0x07, min = 0x10000;
	} else {
		return -1;
	}
	if (n < len)
		return -1;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*cp_r = cp;
	return (int)len;
}

static void utf8_put(struct buf *out, uint32_t cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6), b[1] = (char)(0x80 | (cp & 0x3f)), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12), b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f)), n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18), b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f)), b[3] = (char)(0x80 | (cp & 0x3f)), n = 4;
	}
	buf_append(out, b, n);
}

char *imap_sort_casemap(const char *s)
{
	struct buf out;
	buf_init(&out, 0);
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);
	while (n > 0) {
		uint32_t cp;
		int len = utf8_next(p, n, &cp);
		if (len < 0) {
			buf_append(&out, p, 1);	/* not UTF-8: the octet as it is */
			p++, n--;
			continue;
		}
		p += len;
		n -= (size_t)len;
		if (cp >= 0xac00 && cp <= 0xd7a3) {
			/* Hangul syllable: L V [T] jamo (Unicode 3.12) */
			uint32_t si = cp - 0xac00;
			utf8_put(&out, 0x1100 + si / 588);
			utf8_put(&out, 0x1161 + si % 588 / 28);
			if (si % 28 != 0)
				utf8_put(&out, 0x11a7 + si % 28);
			continue;
		}
		size_t lo = 0, hi = sizeof(imap_unicase_map) / sizeof(imap_unicase_map[0]);
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (imap_unicase_map[mid].cp < cp)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < sizeof(imap_unicase_map) / sizeof(imap_unicase_map[0]) &&
		    imap_unicase_map[lo].cp == cp)
			buf_append(&out, imap_unicase_pool + imap_unicase_map[lo].off,
				   imap_unicase_map[lo].len);
		else
			utf8_put(&out, cp);
	}
	return out.data != NULL ? out.data : xstrdup("");
}

int imap_sort_casecmp(const char *a, const char *b)
{
	char *x = imap_sort_casemap(a), *y = imap_sort_casemap(b);
	int c = strcmp(x, y);
	free(x);
	free(y);
	return c < 0 ? -1 : c > 0;
}

int imap_sort_key_from_name(const char *name)
{
	static const struct {
		const char *name;
		enum imap_sort_key key;
	} keys[] = {
		{ "ARRIVAL", IMAP_SORT_ARRIVAL }, { "CC", IMAP_SORT_CC },
		{ "DATE", IMAP_SORT_DATE }, { "FROM", IMAP_SORT_FROM },
		{ "SIZE", IMAP_SORT_SIZE }, { "SUBJECT", IMAP_SORT_SUBJECT },
		{ "TO", IMAP_SORT_TO }, { "DISPLAYFROM", IMAP_SORT_DISPLAYFROM },
		{ "DISPLAYTO", IMAP_SORT_DISPLAYTO },
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (str_casecmp(name, keys[i].name) == 0)
			return (int)keys[i].key;
	return -1;
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int sort_cmp(const struct imap_sort_msg *a, const struct imap_sort_msg *b,
		    const struct imap_sort_criterion *crit, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = 0;
		switch (crit[i].key) {
		case IMAP_SORT_ARRIVAL: c = cmp_i64(a->arrival, b->arrival); break;
		case IMAP_SORT_DATE: c = cmp_i64(a->date, b->date); break;
		case IMAP_SORT_SIZE: c = a->size < b->size ? -1 : a->size > b->size; break;
		case IMAP_SORT_SUBJECT: c = strcmp(a->subject, b->subject); break;
		case IMAP_SORT_FROM: c = strcmp(a->from, b->from); break;
		case IMAP_SORT_TO: c = strcmp(a->to, b->to); break;
		case IMAP_SORT_CC: c = strcmp(a->cc, b->cc); break;
		case IMAP_SORT_DISPLAYFROM: c = strcmp(a->displayfrom, b->displayfrom); break;
		case IMAP_SORT_DISPLAYTO: c = strcmp(a->displayto, b->displayto); break;
		}
		c = c < 0 ? -1 : c > 0;
		if (c != 0)
			return crit[i].reverse ? -c : c;
	}
	/* Equal by every criterion: sequence order (RFC 5256 3). */
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void imap_sort_messages(struct imap_sort_msg *msgs, size_t count,
			const struct imap_sort_criterion *crit, size_t crit_count)
{
	/* Bottom-up merge sort: stable, O(n log n), no recursion. */
	struct imap_sort_msg *tmp = xcalloc(count + 1, sizeof(*tmp));
	for (size_t width = 1; width < count; width *= 2) {
		for (size_t lo = 0; lo < count; lo += 2 * width) {
			size_t mid = lo + width < count ? lo + width : count;
			size_t hi = lo + 2 * width < count ? lo + 2 * width : count;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi)
				tmp[k++] = sort_cmp(&msgs[j], &msgs[i], crit, crit_count) < 0 ? msgs[j++]
											   : msgs[i++];
			while (i < mid)
				tmp[k++] = msgs[i++];
			while (j < hi)
				tmp[k++] = msgs[j++];
		}
		memcpy(msgs, tmp, count * sizeof(*msgs));
	}
	free(tmp);
}

/* ---- THREAD ---- */

size_t imap_thread_msgids(const char *value, char **ids, size_t max)
{
	size_t n = 0;
	if (value == NULL)
		return 0;
	for (const char *p = value; *p != '\0' && n < max;) {
		const char *lt = strchr(p, '<');
		if (lt == NULL)
			break;
		const char *gt = strchr(lt + 1, '>');
		if (gt == NULL)
			break;
		const char *next_lt = strchr(lt + 1, '<');
		if (next_lt != NULL && next_lt < gt) {
			p = next_lt;	/* "<a <b@c>": the inner one */
			continue;
		}
		/* Normalised (RFC 5256 3): <"a b"@c> is <a b@c>: quotes,
		 * quoting backslashes and folding whitespace go. */
		char *id = xmalloc((size_t)(gt - lt));
		size_t k = 0;
		for (const char *q = lt + 1; q < gt; q++) {
			if (*q == '\\' && q + 1 < gt) {
				id[k++] = *++q;
				continue;
			}
			if (!is_wsp(*q) && *q != '"')
				id[k++] = *q;
		}
		id[k] = '\0';
		if (k > 0)
			ids[n++] = id;
		else
			free(id);
		p = gt + 1;
	}
	return n;
}

/* A thread tree node: a message or a dummy (msg < 0). */
struct node {
	long msg;
	long parent, child, last;	/* first and last child; -1: none */
	long prev, next;		/* siblings; -1: none */
};

struct tctx {
	const struct imap_thread_msg *msgs;
	char **subj;			/* casemapped base subjects, per message */
	struct node *nodes;
	size_t count, cap;
	/* message id -> node, open addressing */
	char **keys;
	long *vals;
	size_t hcap, hused;
};

static long node_new(struct tctx *t, long msg)
{
	if (t->count == t->cap) {
		t->cap = t->cap * 2 + 16;
		t->nodes = xrealloc(t->nodes, t->cap * sizeof(*t->nodes));
	}
	struct node *n = &t->nodes[t->count];
	n->msg = msg;
	n->parent = n->child = n->last = n->prev = n->next = -1;
	return (long)t->count++;
}

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Double the id table when half full. */
static void id_grow(struct tctx *t)
{
	size_t ncap = t->hcap * 2, used = 0;
	char **keys = xcalloc(ncap, sizeof(*keys));
	long *vals = xcalloc(ncap, sizeof(*vals));
	for (size_t k = 0; k < t->hcap; k++) {
		if (t->keys[k] == NULL)
			continue;
		size_t i = (size_t)(hash_str(t->keys[k]) & (ncap - 1));
		while (keys[i] != NULL)
			i = (i + 1) & (ncap - 1);
		keys[i] = t->keys[k];
		vals[i] = t->vals[k];
		used++;
	}
	free(t->keys);
	free(t->vals);
	t->keys = keys;
	t->vals = vals;
	t->hcap = ncap;
	t->hused = used;
}

/* The node of message id (taking ownership of id), created as a dummy. */
static long id_node(struct tctx *t, char *id, bool *created_r)
{
	if (2 * (t->hused + 1) > t->hcap)
		id_grow(t);
	size_t i = (size_t)(hash_str(id) & (t->hcap - 1));
	while (t->keys[i] != NULL) {
		if (strcmp(t->keys[i], id) == 0) {
			free(id);
			if (created_r != NULL)
				*created_r = false;
			return t->vals[i];
		}
		i = (i + 1) & (t->hcap - 1);
	}
	t->keys[i] = id;
	t->vals[i] = node_new(t, -1);
	t->hused++;
	if (created_r != NULL)
		*created_r = true;
	return t->vals[i];
}

static bool is_ancestor(const struct tctx *t, long anc, long n)
{
	for (long p = n; p >= 0; p = t->nodes[p].parent)
		if (p == anc)
			return true;
	return false;
}

/* Take n out of its parent's children (O(1): the list is doubly linked,
 * so a 50,000-message fan costs no quadratic time). */
static void unlink_node(struct tctx *t, long n)
{
	struct node *x = &t->nodes[n];
	long p = x->parent;
	if (p < 0)
		return;
	if (x->prev >= 0)
		t->nodes[x->prev].next = x->next;
	else
		t->nodes[p].child = x->next;
	if (x->next >= 0)
		t->nodes[x->next].prev = x->prev;
	else
		t->nodes[p].last = x->prev;
	x->parent = x->prev = x->next = -1;
}

/* Make c (unlinked) the last child of p. */
static void link_node(struct tctx *t, long p, long c)
{
	struct node *x = &t->nodes[c];
	x->parent = p;
	x->next = -1;
	x->prev = t->nodes[p].last;
	if (x->prev >= 0)
		t->nodes[x->prev].next = c;
	else
		t->nodes[p].child = c;
	t->nodes[p].last = c;
}

/* Put c (unlinked) just before b among b's siblings. */
static void insert_before(struct tctx *t, long b, long c)
{
	struct node *x = &t->nodes[c];
	long p = t->nodes[b].parent;
	x->parent = p;
	x->next = b;
	x->prev = t->nodes[b].prev;
	if (x->prev >= 0)
		t->nodes[x->prev].next = c;
	else
		t->nodes[p].child = c;
	t->nodes[b].prev = c;
}

/* c takes o's place among the root's children; o becomes c's last child. */
static void take_place(struct tctx *t, long o, long c)
{
	insert_before(t, o, c);
	unlink_node(t, o);
	link_node(t, c, o);
}

/* The message a node sorts by: itself, or for a dummy its earliest
 * descendant message (its first child once children are sorted). */
static long sort_msg(const struct tctx *t, long n)
{
	while (n >= 0 && t->nodes[n].msg < 0) {
		long best = -1;
		for (long c = t->nodes[n].child; c >= 0; c = t->nodes[c].next) {
			long m = c;
			while (m >= 0 && t->nodes[m].msg < 0)
				m = t->nodes[m].child;	/* nested dummies: rare */
			if (m < 0)
				continue;
			const struct imap_thread_msg *a = &t->msgs[t->nodes[m].msg];
			if (best < 0 || a->date < t->msgs[t->nodes[best].msg].date ||
			    (a->date == t->msgs[t->nodes[best].msg].date &&
			     a->seq < t->msgs[t->nodes[best].msg].seq))
				best = m;
		}
		return best;
	}
	return n;
}

/* Order of two key messages: sent date, then sequence. */
static int msg_cmp(const struct tctx *t, long ma, long mb)
{
	if (ma < 0 || mb < 0)
		return (ma < 0) - (mb < 0);
	const struct imap_thread_msg *x = &t->msgs[t->nodes[ma].msg];
	const struct imap_thread_msg *y = &t->msgs[t->nodes[mb].msg];
	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the children of p by sent date (stable merge sort on their key
 * messages, each found once). arr/arr_cap: scratch space, grown here. */
static void sort_children(struct tctx *t, long p, long **arr, size_t *arr_cap)
{
	size_t n = 0;
	for (long c = t->nodes[p].child; c >= 0; c = t->nodes[c].next) {
		if (2 * (n + 1) > *arr_cap) {
			*arr_cap = *arr_cap * 2 + 32;
			*arr = xrealloc(*arr, *arr_cap * sizeof(**arr));
		}
		(*arr)[2 * n] = c;
		(*arr)[2 * n + 1] = sort_msg(t, c);
		n++;
	}
	if (n < 2)
		return;
	long *a = *arr, *tmp = xmalloc(2 * n * sizeof(*tmp));
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				size_t from = msg_cmp(t, a[2 * j + 1], a[2 * i + 1]) < 0 ? j++ : i++;
				tmp[2 * k] = a[2 * from];
				tmp[2 * k + 1] = a[2 * from + 1];
				k++;
			}
			for (; i < mid; i++, k++) {
				tmp[2 * k] = a[2 * i];
				tmp[2 * k + 1] = a[2 * i + 1];
			}
			for (; j < hi; j++, k++) {
				tmp[2 * k] = a[2 * j];
				tmp[2 * k + 1] = a[2 * j + 1];
			}
		}
		memcpy(a, tmp, 2 * n * sizeof(*a));
	}
	free(tmp);
	t->nodes[p].child = a[0];
	t->nodes[p].last = a[2 * (n - 1)];
	for (size_t i = 0; i < n; i++) {
		t->nodes[a[2 * i]].prev = i > 0 ? a[2 * (i - 1)] : -1;
		t->nodes[a[2 * i]].next = i + 1 < n ? a[2 * (i + 1)] : -1;
	}
}

static size_t child_count(const struct tctx *t, long p)
{
	size_t n = 0;
	for (long c = t->nodes[p].child; c >= 0; c = t->nodes[c].next)
		n++;
	return n;
}

/* Write the thread of node n (RFC 5256 5, thread-list) without recursion:
 * a chain of only children is a run of numbers, a branch a run of
 * parenthesised sub-threads. */
static void write_thread(const struct tctx *t, long root, struct buf *out)
{
	long *stack = NULL;	/* the next sibling to write at each open branch */
	size_t depth = 0, cap = 0;
	long n = root;
	for (;;) {
		/* One thread-list: "(" chain [branch] ")". */
		buf_append_str(out, "(");
		bool first = true;
		for (;;) {
			if (t->nodes[n].msg >= 0) {
				buf_printf(out, "%s%u", first ? "" : " ", t->msgs[t->nodes[n].msg].id);
				first = false;
			}
			size_t k = child_count(t, n);
			if (k == 0) {
				n = -1;
				break;
			}
			if (k == 1) {
				n = t->nodes[n].child;
				continue;
			}
			if (!first)
				buf_append_str(out, " ");
			n = t->nodes[n].child;	/* first branch: opened below */
			break;
		}
		if (n >= 0) {
			if (depth == cap) {
				cap = cap * 2 + 16;
				stack = xrealloc(stack, cap * sizeof(*stack));
			}
			stack[depth++] = t->nodes[n].next;
			continue;
		}
		buf_append_str(out, ")");
		/* Close finished branches, open the next sibling if any. */
		while (depth > 0 && stack[depth - 1] < 0) {
			depth--;
			buf_append_str(out, ")");
		}
		if (depth == 0)
			break;
		n = stack[depth - 1];
		stack[depth - 1] = t->nodes[n].next;
	}
	free(stack);
}

static const char *node_subject(const struct tctx *t, long n, bool *reply_r)
{
	if (t->nodes[n].msg < 0)
		n = t->nodes[n].child;
	if (n < 0 || t->nodes[n].msg < 0) {
		*reply_r = false;
		return "";
	}
	*reply_r = t->msgs[t->nodes[n].msg].is_reply;
	return t->subj[t->nodes[n].msg];
}

#define MAX_REFS 256

/* RFC 5256 REFERENCES over the n messages of t; returns the virtual root
 * whose children are the threads in order. */
static long thread_references(struct tctx *t, size_t n)
{
	char *ids[MAX_REFS];
	/* (1) Link messages and their references. */
	for (size_t i = 0; i < n; i++) {
		const struct imap_thread_msg *m = &t->msgs[i];
		char *mid[1];
		long self = -1;
		if (imap_thread_msgids(m->message_id, mid, 1) == 1) {
			bool created;
			self = id_node(t, mid[0], &created);
			if (t->nodes[self].msg >= 0)
				self = -1;	/* a duplicate id: unique node below */
		}
		if (self < 0)
			self = node_new(t, -1);
		t->nodes[self].msg = (long)i;
		size_t k = imap_thread_msgids(m->references, ids, MAX_REFS);
		if (k == 0)
			k = imap_thread_msgids(m->in_reply_to, ids, 1);
		long prev = -1;
		for (size_t r = 0; r < k; r++) {
			long c = id_node(t, ids[r], NULL);
			/* (1A) link consecutive references unless already
			 * linked or a loop would result. */
			/* (a childless node is nobody's ancestor: no walk) */
			if (prev >= 0 && c != prev && t->nodes[c].parent < 0 &&
			    (t->nodes[c].child < 0 || !is_ancestor(t, c, prev)))
				link_node(t, prev, c);
			prev = c;
		}
		/* (1B) the last reference becomes the parent, replacing an
		 * earlier guess, unless that makes a loop; without references
		 * the message has no parent. */
		unlink_node(t, self);
		if (prev >= 0 && prev != self &&
		    (t->nodes[self].child < 0 || !is_ancestor(t, self, prev)))
			link_node(t, prev, self);
	}
	/* (2) The root set: nodes without a parent, under a virtual root. */
	size_t total = t->count;
	long root = node_new(t, -1);
	for (size_t i = 0; i < total; i++)
		if (t->nodes[i].parent < 0)
			link_node(t, root, (long)i);
	/* (3) Prune dummies, level by level with an explicit work list. */
	long *work = xmalloc((t->count + 1) * sizeof(*work));
	size_t wn = 0;
	work[wn++] = root;
	while (wn > 0) {
		long p = work[--wn];
		for (long c = t->nodes[p].child, next; c >= 0; c = next) {
			next = t->nodes[c].next;
			if (t->nodes[c].msg >= 0 || (p == root && child_count(t, c) > 1)) {
				work[wn++] = c;
				continue;
			}
			if (t->nodes[c].child >= 0) {
				/* splice the children in its place and look at
				 * them again: they may be dummies too */
				next = t->nodes[c].child;
				while (t->nodes[c].child >= 0) {
					long x = t->nodes[c].child;
					unlink_node(t, x);
					insert_before(t, c, x);
				}
			}
			unlink_node(t, c);	/* an empty or spliced dummy */
		}
	}
	free(work);
	/* (4) Sort the root set by date (a dummy by its first child). */
	long *arr = NULL;
	size_t arr_cap = 0;
	for (long c = t->nodes[root].child; c >= 0; c = t->nodes[c].next)
		if (t->nodes[c].msg < 0)
			sort_children(t, c, &arr, &arr_cap);
	sort_children(t, root, &arr, &arr_cap);
	/* (5) Merge threads with the same base subject. */
	size_t hcap = 16;
	while (hcap < 2 * (total + 1))
		hcap *= 2;
	const char **skeys = xcalloc(hcap, sizeof(*skeys));
	long *svals = xcalloc(hcap, sizeof(*svals));
	for (long c = t->nodes[root].child; c >= 0; c = t->nodes[c].next) {
		bool reply;
		const char *subj = node_subject(t, c, &reply);
		if (*subj == '\0')
			continue;
		size_t h = 0;
		for (const char *q = subj; *q != '\0'; q++)
			h = h * 31 + (unsigned char)*q;
		h &= hcap - 1;
		while (skeys[h] != NULL && strcmp(skeys[h], subj) != 0)
			h = (h + 1) & (hcap - 1);
		if (skeys[h] == NULL) {
			skeys[h] = subj;
			svals[h] = c;
			continue;
		}
		long o = svals[h];
		bool oreply;
		node_subject(t, o, &oreply);
		if ((t->nodes[c].msg < 0 && t->nodes[o].msg >= 0) ||
		    (t->nodes[c].msg >= 0 && t->nodes[o].msg >= 0 && oreply && !reply))
			svals[h] = c;	/* (5B) prefer a dummy, then a non-reply */
	}
	for (long c = t->nodes[root].child, next; c >= 0; c = next) {
		next = t->nodes[c].next;
		bool reply;
		const char *subj = node_subject(t, c, &reply);
		if (*subj == '\0')
			continue;
		size_t h = 0;
		for (const char *q = subj; *q != '\0'; q++)
			h = h * 31 + (unsigned char)*q;
		h &= hcap - 1;
		while (skeys[h] != NULL && strcmp(skeys[h], subj) != 0)
			h = (h + 1) & (hcap - 1);
		long o = svals[h];
		if (skeys[h] == NULL || o == c)
			continue;
		bool oreply;
		node_subject(t, o, &oreply);
		bool cd = t->nodes[c].msg < 0, od = t->nodes[o].msg < 0;
		unlink_node(t, c);
		if (cd && od) {
			/* both dummies: the children join the table's */
			while (t->nodes[c].child >= 0) {
				long x = t->nodes[c].child;
				unlink_node(t, x);
				link_node(t, o, x);
			}
		} else if (od) {
			link_node(t, o, c);
		} else if (cd) {
			/* (cannot follow from 5B) this dummy takes the table
			 * message's place and gets it as a child */
			take_place(t, o, c);
			svals[h] = c;
		} else if (!oreply && reply) {
			link_node(t, o, c);
		} else {
			/* a new dummy takes the table entry's place */
			long d = node_new(t, -1);
			take_place(t, o, d);
			link_node(t, d, c);
			svals[h] = d;
		}
		if (next == o && t->nodes[o].parent != root)
			next = t->nodes[o].parent;	/* what took o's place */
	}
	free(skeys);
	free(svals);
	/* (6) Sort every set of siblings by date: deepest first, so a dummy
	 * is placed by its already-sorted first child. */
	long *order = xmalloc((t->count + 1) * sizeof(*order));
	size_t on = 0, head = 0;
	order[on++] = root;
	while (head < on) {
		long p = order[head++];
		for (long c = t->nodes[p].child; c >= 0; c = t->nodes[c].next)
			order[on++] = c;
	}
	for (size_t i = on; i-- > 0;)
		if (t->nodes[order[i]].child >= 0)
			sort_children(t, order[i], &arr, &arr_cap);
	free(order);
	free(arr);
	return root;
}

/* ORDEREDSUBJECT: messages sorted by base subject then sent date; each
 * run of one subject is a thread whose first message is the parent of the
 * others; threads in the order of their first message's date. */
static long thread_orderedsubject(struct tctx *t, size_t n)
{
	long *idx = xcalloc(n + 1, sizeof(*idx));
	long *tmp = xcalloc(n + 1, sizeof(*tmp));
	for (size_t i = 0; i < n; i++)
		idx[i] = (long)i;
	for (size_t w = 1; w < n; w *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * w) {
			size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
			size_t i = lo, j = mid, k = lo;
			while (i < mid && j < hi) {
				const struct imap_thread_msg *a = &t->msgs[idx[i]], *b = &t->msgs[idx[j]];
				int c = strcmp(t->subj[idx[j]], t->subj[idx[i]]);
				if (c == 0)
					c = b->date < a->date ? -1 : b->date > a->date ? 1 :
					    (b->seq < a->seq ? -1 : 0);
				tmp[k++] = c < 0 ? idx[j++] : idx[i++];
			}
			while (i < mid)
				tmp[k++] = idx[i++];
			while (j < hi)
				tmp[k++] = idx[j++];
		}
		memcpy(idx, tmp, n * sizeof(*idx));
	}
	free(tmp);
	for (size_t i = 0; i < n; i++)
		node_new(t, (long)i);
	long root = node_new(t, -1);
	long parent = -1;
	const char *subj = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *si = t->subj[idx[i]];
		if (parent < 0 || strcmp(si, subj) != 0) {
			parent = idx[i];
			subj = si;
			link_node(t, root, parent);
		} else {
			link_node(t, parent, idx[i]);
		}
	}
	free(idx);
	long *arr = NULL;
	size_t arr_cap = 0;
	sort_children(t, root, &arr, &arr_cap);
	free(arr);
	return root;
}

void imap_thread(const struct imap_thread_msg *msgs, size_t count, enum imap_thread_alg alg,
		 struct buf *out)
{
	struct tctx t = { .msgs = msgs };
	t.hcap = 16;
	while (t.hcap < 2 * (count + 16))
		t.hcap *= 2;
	t.keys = xcalloc(t.hcap, sizeof(*t.keys));
	t.vals = xcalloc(t.hcap, sizeof(*t.vals));
	/* Subjects compare by i;unicode-casemap (RFC 5256 7). */
	t.subj = xcalloc(count + 1, sizeof(*t.subj));
	for (size_t i = 0; i < count; i++)
		t.subj[i] = imap_sort_casemap(msgs[i].subject != NULL ? msgs[i].subject : "");
	long root = alg == IMAP_THREAD_REFERENCES ? thread_references(&t, count)
						   : thread_orderedsubject(&t, count);
	for (long c = t.nodes[root].child; c >= 0; c = t.nodes[c].next)
		write_thread(&t, c, out);
	for (size_t i = 0; i < t.hcap; i++)
		free(t.keys[i]);
	free(t.keys);
	free(t.vals);
	free(t.nodes);
	for (size_t i = 0; i < count; i++)
		free(t.subj[i]);
	free(t.subj);
}
