/* Typed IMAP argument parsers over the imap_parser tree: sequence sets,
 * dates, flags, SEARCH programs (to an AST), FETCH attributes (sections in
 * the shape proto/mime.h wants), STORE, STATUS and LIST. Everything they
 * return lives in the caller's pool; nothing here keeps state. */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "imap_args.h"
#include "imap_quote.h"

#define NUMBER64_MAX ((uint64_t)INT64_MAX)

/* ---- numbers ---- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Digits from s[*pos]; no leading zero unless allow_zero and the number is
 * "0". Advances *pos. */
static int scan_number(const char *s, size_t *pos, uint64_t max, bool allow_zero, uint64_t *num_r)
{
	size_t i = *pos, start = i;
	uint64_t v = 0;

	while (is_digit(s[i])) {
		unsigned d = (unsigned)(s[i] - '0');

		if (v > (max - d) / 10 || d > max)
			return -1;
		v = v * 10 + d;
		i++;
	}
	if (i == start)
		return -1;
	if (s[start] == '0' && (i - start > 1 || !allow_zero))
		return -1;
	*pos = i;
	*num_r = v;
	return 0;
}

int imap_parse_nz_number(const char *s, uint32_t *num_r)
{
	size_t pos = 0;
	uint64_t v;

	if (scan_number(s, &pos, UINT32_MAX, false, &v) < 0 || s[pos] != '\0')
		return -1;
	*num_r = (uint32_t)v;
	return 0;
}

int imap_parse_number64(const char *s, uint64_t *num_r)
{
	size_t pos = 0;

	if (scan_number(s, &pos, NUMBER64_MAX, true, num_r) < 0 || s[pos] != '\0')
		return -1;
	return 0;
}

/* ---- sequence sets ---- */

static int scan_seq_number(const char *s, size_t *pos, uint32_t *num_r)
{
	uint64_t v;

	if (s[*pos] == '*') {
		(*pos)++;
		*num_r = 0;
		return 0;
	}
	if (scan_number(s, pos, UINT32_MAX, false, &v) < 0)
		return -1;
	*num_r = (uint32_t)v;
	return 0;
}

int imap_seqset_parse(struct imap_pool *pool, const char *s, bool allow_dollar, size_t max_ranges,
		      struct imap_seqset *set_r, const char **error_r)
{
	size_t n = 1, i, pos = 0;

	memset(set_r, 0, sizeof(*set_r));
	if (strcmp(s, "$") == 0) {
		if (!allow_dollar) {
			*error_r = "$ is not allowed here";
			return -1;
		}
		set_r->last_result = true;
		return 0;
	}
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ',')
			n++;
	}
	if (n > max_ranges) {
		*error_r = "Too many ranges in sequence set";
		return -1;
	}
	set_r->ranges = imap_pool_alloc(pool, n * sizeof(*set_r->ranges));
	for (i = 0; i < n; i++) {
		struct imap_seq_range *r = &set_r->ranges[i];

		if (scan_seq_number(s, &pos, &r->lo) < 0)
			goto bad;
		r->hi = r->lo;
		if (s[pos] == ':') {
			pos++;
			if (scan_seq_number(s, &pos, &r->hi) < 0)
				goto bad;
		}
		if (s[pos] != (i + 1 < n ? ',' : '\0'))
			goto bad;
		pos++;
	}
	set_r->count = n;
	return 0;
bad:
	*error_r = "Invalid sequence set";
	return -1;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return x->hi < y->hi ? -1 : (x->hi > y->hi);
}

void imap_seqset_resolve(struct imap_pool *pool, const struct imap_seqset *set, uint32_t star,
			 struct imap_seq_range **ranges_r, size_t *count_r)
{
	struct imap_seq_range *out;
	size_t i, n = 0, m = 0;

	out = imap_pool_alloc(pool, (set->count > 0 ? set->count : 1) * sizeof(*out));
	for (i = 0; i < set->count; i++) {
		uint32_t lo = set->ranges[i].lo, hi = set->ranges[i].hi;

		if ((lo == 0 || hi == 0) && star == 0)
			continue;
		if (lo == 0)
			lo = star;
		if (hi == 0)
			hi = star;
		if (lo > hi) {
			uint32_t t = lo;

			lo = hi;
			hi = t;
		}
		out[n].lo = lo;
		out[n].hi = hi;
		n++;
	}
	if (n > 1)
		qsort(out, n, sizeof(*out), range_cmp);
	for (i = 0; i < n; i++) {
		if (m > 0 && (out[m - 1].hi == UINT32_MAX || out[i].lo <= out[m - 1].hi + 1)) {
			if (out[i].hi > out[m - 1].hi)
				out[m - 1].hi = out[i].hi;
			continue;
		}
		out[m++] = out[i];
	}
	*ranges_r = out;
	*count_r = m;
}

uint32_t imap_seqset_max(const struct imap_seqset *set, uint32_t star)
{
	uint32_t max = 0;
	size_t i;

	for (i = 0; i < set->count; i++) {
		uint32_t lo = set->ranges[i].lo == 0 ? star : set->ranges[i].lo;
		uint32_t hi = set->ranges[i].hi == 0 ? star : set->ranges[i].hi;

		if (lo > max)
			max = lo;
		if (hi > max)
			max = hi;
	}
	return max;
}

/* ---- dates ---- */

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int parse_month(const char *s)
{
	int i;

	for (i = 0; i < 12; i++) {
		if (str_ncasecmp(s, month_names[i], 3) == 0)
			return i + 1;
	}
	return 0;
}

static int digits(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "d-Mon-yyyy" or "dd-Mon-yyyy" (fixed: " d-" allowed too); *len_r is how
 * much was read. */
static int parse_date_part(const char *s, bool fixed, int *y_r, int *m_r, int *d_r, size_t *len_r)
{
	size_t i;
	int d, m, y;

	if (fixed) {
		if (s[0] == ' ' && is_digit(s[1]))
			d = s[1] - '0';
		else
			d = digits(s, 2);
		i = 2;
	} else if (is_digit(s[0]) && is_digit(s[1])) {
		d = digits(s, 2);
		i = 2;
	} else {
		d = digits(s, 1);
		i = 1;
	}
	if (d < 1 || s[i] != '-')
		return -1;
	i++;
	if (strlen(s + i) < 8 || s[i + 3] != '-')
		return -1;
	m = parse_month(s + i);
	i += 4;
	y = digits(s + i, 4);
	if (m == 0 || y < 0 || d > days_in_month(y, m))
		return -1;
	*y_r = y;
	*m_r = m;
	*d_r = d;
	*len_r = i + 4;
	return 0;
}

int imap_parse_date(const char *s, time_t *time_r)
{
	int y, m, d;
	size_t len;

	if (parse_date_part(s, false, &y, &m, &d, &len) < 0 || s[len] != '\0')
		return -1;
	*time_r = (time_t)(days_from_civil(y, m, d) * 86400);
	return 0;
}

int imap_parse_date_time(const char *s, time_t *time_r, int *zone_r)
{
	int y, mo, d, h, mi, sec, zh, zm, zone;
	size_t len;
	const char *t;

	if (parse_date_part(s, true, &y, &mo, &d, &len) < 0)
		return -1;
	t = s + len;
	/* " hh:mm:ss +zzzz" */
	if (strlen(t) != 15 || t[0] != ' ' || t[3] != ':' || t[6] != ':' || t[9] != ' ' ||
	    (t[10] != '+' && t[10] != '-'))
		return -1;
	h = digits(t + 1, 2);
	mi = digits(t + 4, 2);
	sec = digits(t + 7, 2);
	zh = digits(t + 11, 2);
	zm = digits(t + 13, 2);
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60 || zh < 0 || zm < 0 ||
	    zm > 59)
		return -1;
	zone = zh * 60 + zm;
	if (t[10] == '-')
		zone = -zone;
	*time_r = (time_t)(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
			   (int64_t)zone * 60);
	*zone_r = zone;
	return 0;
}

/* ---- flags ---- */

static const struct {
	const char *name;
	unsigned flag;
} system_flags[] = {
	{ "\\Answered", IMAP_FLAG_ANSWERED }, { "\\Flagged", IMAP_FLAG_FLAGGED },
	{ "\\Deleted", IMAP_FLAG_DELETED }, { "\\Seen", IMAP_FLAG_SEEN },
	{ "\\Draft", IMAP_FLAG_DRAFT }, { "\\Recent", IMAP_FLAG_RECENT },
};

unsigned imap_flag_from_name(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(system_flags); i++) {
		if (str_casecmp(name, system_flags[i].name) == 0)
			return system_flags[i].flag;
	}
	return 0;
}

static bool is_atom(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++) {
		if (!imap_is_atom_char((unsigned char)*s))
			return false;
	}
	return true;
}

int imap_flags_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		     struct imap_flags *flags_r, const char **error_r)
{
	size_t i, k;

	memset(flags_r, 0, sizeof(*flags_r));
	flags_r->keywords = imap_pool_alloc(pool, (count > 0 ? count : 1) * sizeof(char *));
	for (i = 0; i < count; i++) {
		const char *s;

		/* NIL is an atom here: the keyword NIL (RFC 3501 9, flag-keyword). */
		if (args[i].type != IMAP_ARG_ATOM && args[i].type != IMAP_ARG_NIL) {
			*error_r = "Flags must be atoms";
			return -1;
		}
		s = args[i].str;
		if (s[0] == '\\') {
			unsigned f = imap_flag_from_name(s);

			if (f == IMAP_FLAG_RECENT) {
				*error_r = "\\Recent cannot be set";
				return -1;
			}
			if (f == 0) {
				*error_r = "Invalid system flag";
				return -1;
			}
			flags_r->system |= f;
			continue;
		}
		if (!is_atom(s)) {
			*error_r = "Invalid keyword";
			return -1;
		}
		for (k = 0; k < flags_r->keyword_count; k++) {
			if (str_casecmp(flags_r->keywords[k], s) == 0)
				break;
		}
		if (k == flags_r->keyword_count)
			flags_r->keywords[flags_r->keyword_count++] = s;
	}
	return 0;
}

/* ---- SEARCH ---- */

enum key_arg {
	KA_NONE, KA_ASTRING, KA_DATE, KA_NUMBER64, KA_NZNUMBER, KA_KEYWORD, KA_HEADER,
	KA_UIDSET, KA_NOT, KA_OR, KA_MODSEQ, KA_OBJECTID,
};

static const struct {
	const char *name;
	enum imap_search_type type;
	enum key_arg arg;
} search_keys[] = {
	{ "ALL", IMAP_SEARCH_ALL, KA_NONE },
	{ "ANSWERED", IMAP_SEARCH_ANSWERED, KA_NONE },
	{ "BCC", IMAP_SEARCH_BCC, KA_ASTRING },
	{ "BEFORE", IMAP_SEARCH_BEFORE, KA_DATE },
	{ "BODY", IMAP_SEARCH_BODY, KA_ASTRING },
	{ "CC", IMAP_SEARCH_CC, KA_ASTRING },
	{ "DELETED", IMAP_SEARCH_DELETED, KA_NONE },
	{ "DRAFT", IMAP_SEARCH_DRAFT, KA_NONE },
	{ "EMAILID", IMAP_SEARCH_EMAILID, KA_OBJECTID },
	{ "FLAGGED", IMAP_SEARCH_FLAGGED, KA_NONE },
	{ "FROM", IMAP_SEARCH_FROM, KA_ASTRING },
	{ "HEADER", IMAP_SEARCH_HEADER, KA_HEADER },
	{ "KEYWORD", IMAP_SEARCH_KEYWORD, KA_KEYWORD },
	{ "LARGER", IMAP_SEARCH_LARGER, KA_NUMBER64 },
	{ "MODSEQ", IMAP_SEARCH_MODSEQ, KA_MODSEQ },
	{ "NEW", IMAP_SEARCH_NEW, KA_NONE },
	{ "NOT", IMAP_SEARCH_NOT, KA_NOT },
	{ "OLD", IMAP_SEARCH_OLD, KA_NONE },
	{ "OLDER", IMAP_SEARCH_OLDER, KA_NZNUMBER },
	{ "ON", IMAP_SEARCH_ON, KA_DATE },
	{ "OR", IMAP_SEARCH_OR, KA_OR },
	{ "RECENT", IMAP_SEARCH_RECENT, KA_NONE },
	{ "SAVEDATESUPPORTED", IMAP_SEARCH_SAVEDATESUPPORTED, KA_NONE },
	{ "SAVEDBEFORE", IMAP_SEARCH_SAVEDBEFORE, KA_DATE },
	{ "SAVEDON", IMAP_SEARCH_SAVEDON, KA_DATE },
	{ "SAVEDSINCE", IMAP_SEARCH_SAVEDSINCE, KA_DATE },
	{ "SEEN", IMAP_SEARCH_SEEN, KA_NONE },
	{ "SENTBEFORE", IMAP_SEARCH_SENTBEFORE, KA_DATE },
	{ "SENTON", IMAP_SEARCH_SENTON, KA_DATE },
	{ "SENTSINCE", IMAP_SEARCH_SENTSINCE, KA_DATE },
	{ "SINCE", IMAP_SEARCH_SINCE, KA_DATE },
	{ "SMALLER", IMAP_SEARCH_SMALLER, KA_NUMBER64 },
	{ "SUBJECT", IMAP_SEARCH_SUBJECT, KA_ASTRING },
	{ "TEXT", IMAP_SEARCH_TEXT, KA_ASTRING },
	{ "THREADID", IMAP_SEARCH_THREADID, KA_OBJECTID },
	{ "TO", IMAP_SEARCH_TO, KA_ASTRING },
	{ "UID", IMAP_SEARCH_UIDSET, KA_UIDSET },
	{ "UNANSWERED", IMAP_SEARCH_UNANSWERED, KA_NONE },
	{ "UNDELETED", IMAP_SEARCH_UNDELETED, KA_NONE },
	{ "UNDRAFT", IMAP_SEARCH_UNDRAFT, KA_NONE },
	{ "UNFLAGGED", IMAP_SEARCH_UNFLAGGED, KA_NONE },
	{ "UNKEYWORD", IMAP_SEARCH_UNKEYWORD, KA_KEYWORD },
	{ "UNSEEN", IMAP_SEARCH_UNSEEN, KA_NONE },
	{ "YOUNGER", IMAP_SEARCH_YOUNGER, KA_NZNUMBER },
};

struct search_ctx {
	struct imap_pool *pool;
	const struct imap_search_limits *lim;
	struct imap_search_program *prog;
	const char *error;
};

static int search_fail(struct search_ctx *c, const char *error)
{
	c->error = error;
	return -1;
}

static int parse_keys(struct search_ctx *c, const struct imap_arg *args, size_t count,
		      unsigned depth, struct imap_search_key *parent);

/* One search-key from args[*pos], advancing *pos. */
static int parse_key(struct search_ctx *c, const struct imap_arg *args, size_t count,
		     size_t *pos, unsigned depth, struct imap_search_key **key_r)
{
	const struct imap_arg *arg = &args[(*pos)++];
	struct imap_search_key *key;
	const char *s;
	size_t i, len;

	if (depth > c->lim->max_depth)
		return search_fail(c, "Search program nested too deeply");
	key = imap_pool_alloc(c->pool, sizeof(*key));
	*key_r = key;
	if (arg->type == IMAP_ARG_LIST) {
		if (arg->list_count == 0)
			return search_fail(c, "Empty search group");
		key->type = IMAP_SEARCH_AND;
		return parse_keys(c, arg->list, arg->list_count, depth + 1, key);
	}
	if (arg->type != IMAP_ARG_ATOM)
		return search_fail(c, "Invalid search key");
	s = arg->str;
	if (is_digit(s[0]) || s[0] == '*' || s[0] == '$') {
		key->type = IMAP_SEARCH_SEQSET;
		if (imap_seqset_parse(c->pool, s, true, c->lim->max_ranges, &key->set, &c->error) < 0)
			return -1;
		if (key->set.last_result)
			c->prog->uses_last_result = true;
		else
			c->prog->uses_seqset = true;
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(search_keys); i++) {
		if (str_casecmp(s, search_keys[i].name) == 0)
			break;
	}
	if (i == ARRAY_SIZE(search_keys))
		return search_fail(c, "Unknown search key");
	key->type = search_keys[i].type;
	if (search_keys[i].arg == KA_NONE)
		return 0;
	if (*pos >= count)
		return search_fail(c, "Missing search key argument");
	arg = &args[*pos];
	switch (search_keys[i].arg) {
	case KA_NONE:
		break;
	case KA_ASTRING:
		if (!imap_arg_astring(arg, &key->str, &key->str_len))
			return search_fail(c, "Invalid search string");
		(*pos)++;
		break;
	case KA_HEADER:
		if (!imap_arg_astring(arg, &key->header, &len) || len == 0 ||
		    *pos + 1 >= count || !imap_arg_astring(&args[*pos + 1], &key->str, &key->str_len))
			return search_fail(c, "Invalid HEADER search");
		*pos += 2;
		break;
	case KA_KEYWORD:
		if ((arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL) || !is_atom(arg->str))
			return search_fail(c, "Invalid keyword");
		key->str = arg->str;
		key->str_len = arg->len;
		(*pos)++;
		break;
	case KA_DATE:
		if ((arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_QUOTED) ||
		    imap_parse_date(arg->str, &key->date) < 0)
			return search_fail(c, "Invalid search date");
		(*pos)++;
		break;
	case KA_NUMBER64:
		if (arg->type != IMAP_ARG_ATOM || imap_parse_number64(arg->str, &key->number) < 0)
			return search_fail(c, "Invalid search size");
		(*pos)++;
		break;
	case KA_NZNUMBER: {
		uint32_t n;

		if (arg->type != IMAP_ARG_ATOM || imap_parse_nz_number(arg->str, &n) < 0)
			return search_fail(c, "Invalid search interval");
		key->number = n;
		(*pos)++;
		break;
	}
	case KA_UIDSET:
		if (arg->type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(c->pool, arg->str, true, c->lim->max_ranges, &key->set,
				      &c->error) < 0)
			return c->error != NULL ? -1 : search_fail(c, "Invalid UID set");
		if (key->set.last_result)
			c->prog->uses_last_result = true;
		(*pos)++;
		break;
	case KA_MODSEQ:
		c->prog->uses_modseq = true;
		if (arg->type == IMAP_ARG_QUOTED) {
			const char *t;

			if (str_ncasecmp(arg->str, "/flags/", 7) != 0 || arg->str[7] == '\0' ||
			    *pos + 2 >= count || !imap_arg_atom(&args[*pos + 1], &t))
				return search_fail(c, "Invalid MODSEQ entry");
			if (arg->str[7] == '\\' ? imap_flag_from_name(arg->str + 7) == 0 :
			    !is_atom(arg->str + 7))
				return search_fail(c, "Invalid MODSEQ entry flag");
			key->modseq_entry = arg->str;
			if (str_casecmp(t, "priv") == 0)
				key->modseq_type = IMAP_MODSEQ_PRIV;
			else if (str_casecmp(t, "shared") == 0)
				key->modseq_type = IMAP_MODSEQ_SHARED;
			else if (str_casecmp(t, "all") == 0)
				key->modseq_type = IMAP_MODSEQ_ALL;
			else
				return search_fail(c, "Invalid MODSEQ entry type");
			*pos += 2;
			arg = &args[*pos];
		}
		if (arg->type != IMAP_ARG_ATOM || imap_parse_number64(arg->str, &key->number) < 0)
			return search_fail(c, "Invalid MODSEQ value");
		(*pos)++;
		break;
	case KA_OBJECTID: {
		/* RFC 8474: objectid = 1*255(ALPHA / DIGIT / "_" / "-") */
		size_t k;

		if (arg->type != IMAP_ARG_ATOM || arg->len == 0 || arg->len > 255)
			return search_fail(c, "Invalid object id");
		for (k = 0; k < arg->len; k++) {
			unsigned char ch = (unsigned char)arg->str[k];

			if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
			      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
				return search_fail(c, "Invalid object id");
		}
		key->str = arg->str;
		key->str_len = arg->len;
		(*pos)++;
		break;
	}
	case KA_NOT:
		return parse_key(c, args, count, pos, depth + 1, &key->children);
	case KA_OR:
		if (parse_key(c, args, count, pos, depth + 1, &key->children) < 0)
			return -1;
		if (*pos >= count)
			return search_fail(c, "OR needs two search keys");
		return parse_key(c, args, count, pos, depth + 1, &key->children->next);
	}
	return 0;
}

static int parse_keys(struct search_ctx *c, const struct imap_arg *args, size_t count,
		      unsigned depth, struct imap_search_key *parent)
{
	struct imap_search_key **tail = &parent->children;
	size_t pos = 0;

	while (pos < count) {
		if (parse_key(c, args, count, &pos, depth, tail) < 0)
			return -1;
		tail = &(*tail)->next;
	}
	return 0;
}

int imap_search_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		      const struct imap_search_limits *limits, struct imap_search_program **prog_r,
		      const char **error_r)
{
	struct imap_search_program *prog = imap_pool_alloc(pool, sizeof(*prog));
	struct search_ctx c = { .pool = pool, .lim = limits, .prog = prog };
	size_t pos = 0, i, n;
	const struct imap_arg *list;

	*prog_r = prog;
	prog->root.type = IMAP_SEARCH_AND;
	if (pos < count && imap_arg_atom_eq(&args[pos], "RETURN")) {
		if (pos + 1 >= count || !imap_arg_list(&args[pos + 1], &list, &n)) {
			*error_r = "RETURN needs a list of options";
			return -1;
		}
		prog->esearch = true;
		for (i = 0; i < n; i++) {
			static const struct { const char *name; unsigned opt; } opts[] = {
				{ "MIN", IMAP_SEARCH_RETURN_MIN }, { "MAX", IMAP_SEARCH_RETURN_MAX },
				{ "ALL", IMAP_SEARCH_RETURN_ALL }, { "COUNT", IMAP_SEARCH_RETURN_COUNT },
				{ "SAVE", IMAP_SEARCH_RETURN_SAVE },
			};
			size_t k;

			for (k = 0; k < ARRAY_SIZE(opts); k++) {
				if (imap_arg_atom_eq(&list[i], opts[k].name))
					break;
			}
			if (k == ARRAY_SIZE(opts)) {
				*error_r = "Unknown search RETURN option";
				return -1;
			}
			prog->return_opts |= opts[k].opt;
		}
		if (prog->return_opts == 0)
			prog->return_opts = IMAP_SEARCH_RETURN_ALL;
		pos += 2;
	}
	if (pos < count && imap_arg_atom_eq(&args[pos], "CHARSET")) {
		size_t len;

		if (pos + 1 >= count || !imap_arg_astring(&args[pos + 1], &prog->charset, &len)) {
			*error_r = "CHARSET needs a charset name";
			return -1;
		}
		if (str_casecmp(prog->charset, "UTF-8") != 0 &&
		    str_casecmp(prog->charset, "US-ASCII") != 0) {
			*error_r = "Unsupported charset";
			return -2;
		}
		pos += 2;
	}
	if (pos >= count) {
		*error_r = "Missing search keys";
		return -1;
	}
	if (parse_keys(&c, args + pos, count - pos, 0, &prog->root) < 0) {
		*error_r = c.error;
		return -1;
	}
	return 0;
}

/* ---- FETCH ---- */

static const struct {
	const char *name;
	unsigned item;
} fetch_simple[] = {
	{ "FLAGS", IMAP_FETCH_FLAGS }, { "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE }, { "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODY", IMAP_FETCH_BODY }, { "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "UID", IMAP_FETCH_UID }, { "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "RFC822", IMAP_FETCH_RFC822 }, { "RFC822.HEADER", IMAP_FETCH_RFC822_HEADER },
	{ "RFC822.TEXT", IMAP_FETCH_RFC822_TEXT },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE }, { "EMAILID", IMAP_FETCH_EMAILID },
	{ "THREADID", IMAP_FETCH_THREADID }, { "PREVIEW", IMAP_FETCH_PREVIEW },
};

static const struct {
	const char *name;
	enum imap_fetch_body_kind kind;
	const char *reply;
} fetch_sections[] = {
	{ "BODY", IMAP_FETCH_BODY_SECTION, "BODY" },
	{ "BODY.PEEK", IMAP_FETCH_BODY_PEEK, "BODY" },
	{ "BINARY", IMAP_FETCH_BINARY, "BINARY" },
	{ "BINARY.PEEK", IMAP_FETCH_BINARY_PEEK, "BINARY" },
	{ "BINARY.SIZE", IMAP_FETCH_BINARY_SIZE, "BINARY.SIZE" },
};

#define SECTION_PATH_MAX ARRAY_SIZE(((struct mime_section *)0)->path)

static bool word_at(const char *s, size_t *pos, const char *word)
{
	size_t n = strlen(word);

	if (str_ncasecmp(s + *pos, word, n) != 0)
		return false;
	*pos += n;
	return true;
}

/* header-list: "(" header-fld-name *(SP header-fld-name) ")", each an
 * atom of ASTRING-CHARs or a quoted string; written canonically to out. */
static int parse_header_list(struct imap_pool *pool, const char *s, size_t *pos,
			     struct mime_section *sec, struct buf *out)
{
	const char **fields;
	size_t i = *pos, n = 0, max = 1, k;

	if (s[i] != '(')
		return -1;
	for (k = i; s[k] != '\0'; k++) {
		if (s[k] == ' ')
			max++;
	}
	fields = imap_pool_alloc(pool, max * sizeof(*fields));
	(void)buf_append_str(out, " (");
	i++;
	for (;;) {
		size_t start = i;
		char *name;
		size_t len = 0;

		if (s[i] == '"') {
			size_t end = i + 1;

			while (s[end] != '\0' && s[end] != '"')
				end += s[end] == '\\' && s[end + 1] != '\0' ? 2 : 1;
			name = imap_pool_alloc(pool, end - i);
			for (i++; s[i] != '"'; i++) {
				if (s[i] == '\0')
					return -1;
				if (s[i] == '\\')
					i++;
				if (s[i] == '\0')
					return -1;
				name[len++] = s[i];
			}
			i++;
		} else {
			while (s[i] != '\0' && imap_is_astring_char((unsigned char)s[i]) &&
			       !(s[i] == ']' && strchr(s + i + 1, ')') == NULL))
				i++;
			len = i - start;
			name = imap_pool_strndup(pool, s + start, len);
		}
		if (len == 0 || memchr(name, ':', len) != NULL)
			return -1;
		if (n > 0)
			(void)buf_append_str(out, " ");
		(void)imap_write_astring(out, name, len, IMAP_QUOTE_UTF8);
		fields[n++] = name;
		if (s[i] == ')')
			break;
		if (s[i] != ' ' || n >= max)
			return -1;
		i++;
	}
	(void)buf_append_str(out, ")");
	sec->fields = fields;
	sec->field_count = n;
	*pos = i + 1;
	return 0;
}

/* The text between "[" and "]" of BODY[...] (binary: BINARY[...], only a
 * part path). */
static int parse_section(struct imap_pool *pool, const char *s, size_t *pos, bool binary,
			 struct mime_section *sec, struct buf *out)
{
	size_t i = *pos;
	bool need_text = false;

	memset(sec, 0, sizeof(*sec));
	sec->kind = MIME_SECTION_ALL;
	while (is_digit(s[i])) {
		uint64_t v;
		size_t start = i;

		if (sec->path_len >= SECTION_PATH_MAX ||
		    scan_number(s, &i, UINT32_MAX, false, &v) < 0)
			return -1;
		sec->path[sec->path_len++] = (unsigned)v;
		(void)buf_append(out, s + start, i - start);
		if (s[i] != '.')
			break;
		if (!is_digit(s[i + 1])) {
			if (binary)
				return -1;
			i++;
			(void)buf_append_str(out, ".");
			need_text = true;
			break;
		}
		(void)buf_append_str(out, ".");
		i++;
	}
	if (s[i] != ']' || need_text) {
		if (binary)
			return -1;
		if (word_at(s, &i, "HEADER.FIELDS.NOT ")) {
			sec->kind = MIME_SECTION_HEADER_FIELDS_NOT;
			(void)buf_append_str(out, "HEADER.FIELDS.NOT");
			if (parse_header_list(pool, s, &i, sec, out) < 0)
				return -1;
		} else if (word_at(s, &i, "HEADER.FIELDS ")) {
			sec->kind = MIME_SECTION_HEADER_FIELDS;
			(void)buf_append_str(out, "HEADER.FIELDS");
			if (parse_header_list(pool, s, &i, sec, out) < 0)
				return -1;
		} else if (word_at(s, &i, "HEADER")) {
			sec->kind = MIME_SECTION_HEADER;
			(void)buf_append_str(out, "HEADER");
		} else if (word_at(s, &i, "TEXT")) {
			sec->kind = MIME_SECTION_TEXT;
			(void)buf_append_str(out, "TEXT");
		} else if (sec->path_len > 0 && word_at(s, &i, "MIME")) {
			sec->kind = MIME_SECTION_MIME;
			(void)buf_append_str(out, "MIME");
		} else {
			return -1;
		}
	}
	if (s[i] != ']')
		return -1;
	*pos = i + 1;
	return 0;
}

static int parse_fetch_att(struct imap_pool *pool, const char *s, struct imap_fetch *f,
			   struct imap_fetch_body *bodies, const char **error_r)
{
	const char *bracket = strchr(s, '[');
	struct imap_fetch_body *b;
	struct buf name;
	size_t i, pos, nlen;

	if (bracket == NULL) {
		for (i = 0; i < ARRAY_SIZE(fetch_simple); i++) {
			if (str_casecmp(s, fetch_simple[i].name) == 0) {
				f->items |= fetch_simple[i].item;
				return 0;
			}
		}
		*error_r = "Unknown fetch attribute";
		return -1;
	}
	nlen = (size_t)(bracket - s);
	for (i = 0; i < ARRAY_SIZE(fetch_sections); i++) {
		if (strlen(fetch_sections[i].name) == nlen &&
		    str_ncasecmp(s, fetch_sections[i].name, nlen) == 0)
			break;
	}
	if (i == ARRAY_SIZE(fetch_sections)) {
		*error_r = "Unknown fetch attribute";
		return -1;
	}
	b = &bodies[f->body_count];
	memset(b, 0, sizeof(*b));
	b->kind = fetch_sections[i].kind;
	buf_init(&name, 0);
	(void)buf_printf(&name, "%s[", fetch_sections[i].reply);
	pos = nlen + 1;
	if (parse_section(pool, s, &pos, b->kind >= IMAP_FETCH_BINARY, &b->section, &name) < 0) {
		buf_free(&name);
		*error_r = "Invalid fetch section";
		return -1;
	}
	(void)buf_append_str(&name, "]");
	if (s[pos] == '<') {
		pos++;
		if (b->kind == IMAP_FETCH_BINARY_SIZE ||
		    scan_number(s, &pos, NUMBER64_MAX, true, &b->partial_offset) < 0 ||
		    s[pos++] != '.' ||
		    scan_number(s, &pos, NUMBER64_MAX, false, &b->partial_len) < 0 ||
		    s[pos++] != '>' || b->partial_len > NUMBER64_MAX - b->partial_offset) {
			buf_free(&name);
			*error_r = "Invalid fetch partial";
			return -1;
		}
		b->partial = true;
		(void)buf_printf(&name, "<%llu>", (unsigned long long)b->partial_offset);
	}
	if (s[pos] != '\0') {
		buf_free(&name);
		*error_r = "Invalid characters after fetch section";
		return -1;
	}
	b->reply_name = imap_pool_strndup(pool, name.data, name.len);
	buf_free(&name);
	f->body_count++;
	return 0;
}

/* RFC 8970: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"], with
 * preview-mod = "LAZY" the only one defined. */
static int parse_preview_mods(const struct imap_arg *arg, struct imap_fetch *f,
			      const char **error_r)
{
	const struct imap_arg *mods;
	size_t n;

	if (!imap_arg_list(arg, &mods, &n) || n == 0) {
		*error_r = "Invalid PREVIEW modifiers";
		return -1;
	}
	for (size_t k = 0; k < n; k++) {
		if (!imap_arg_atom_eq(&mods[k], "LAZY")) {
			*error_r = "Unknown PREVIEW modifier";
			return -1;
		}
	}
	f->preview_lazy = true;
	return 0;
}

int imap_fetch_parse(struct imap_pool *pool, const struct imap_arg *atts,
		     const struct imap_arg *modifiers, bool uid, struct imap_fetch *fetch_r,
		     const char **error_r)
{
	const struct imap_arg *list;
	size_t n, i;

	memset(fetch_r, 0, sizeof(*fetch_r));
	if (atts->type == IMAP_ARG_ATOM) {
		if (str_casecmp(atts->str, "ALL") == 0) {
			fetch_r->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE;
		} else if (str_casecmp(atts->str, "FAST") == 0) {
			fetch_r->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				IMAP_FETCH_RFC822_SIZE;
		} else if (str_casecmp(atts->str, "FULL") == 0) {
			fetch_r->items = IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE |
				IMAP_FETCH_RFC822_SIZE | IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY;
		} else {
			fetch_r->bodies = imap_pool_alloc(pool, sizeof(*fetch_r->bodies));
			if (parse_fetch_att(pool, atts->str, fetch_r, fetch_r->bodies, error_r) < 0)
				return -1;
		}
	} else if (imap_arg_list(atts, &list, &n)) {
		if (n == 0) {
			*error_r = "Empty fetch attribute list";
			return -1;
		}
		fetch_r->bodies = imap_pool_alloc(pool, n * sizeof(*fetch_r->bodies));
		for (i = 0; i < n; i++) {
			if (list[i].type == IMAP_ARG_LIST && i > 0 &&
			    imap_arg_atom_eq(&list[i - 1], "PREVIEW")) {
				if (parse_preview_mods(&list[i], fetch_r, error_r) < 0)
					return -1;
				continue;
			}
			if (list[i].type != IMAP_ARG_ATOM) {
				*error_r = "Invalid fetch attribute";
				return -1;
			}
			if (parse_fetch_att(pool, list[i].str, fetch_r, fetch_r->bodies, error_r) < 0)
				return -1;
		}
	} else {
		*error_r = "Invalid fetch attributes";
		return -1;
	}
	fetch_r->uid_asked = (fetch_r->items & IMAP_FETCH_UID) != 0;
	if (uid)
		fetch_r->items |= IMAP_FETCH_UID;
	if (modifiers == NULL)
		return 0;
	if (!imap_arg_list(modifiers, &list, &n) || n == 0) {
		*error_r = "Invalid fetch modifiers";
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (imap_arg_atom_eq(&list[i], "CHANGEDSINCE") && !fetch_r->changedsince_set) {
			if (i + 1 >= n || list[i + 1].type != IMAP_ARG_ATOM ||
			    imap_parse_number64(list[i + 1].str, &fetch_r->changedsince) < 0 ||
			    fetch_r->changedsince == 0) {
				*error_r = "Invalid CHANGEDSINCE value";
				return -1;
			}
			fetch_r->changedsince_set = true;
			fetch_r->items |= IMAP_FETCH_MODSEQ;
			i++;
		} else if (imap_arg_atom_eq(&list[i], "VANISHED") && !fetch_r->vanished) {
			if (!uid) {
				*error_r = "VANISHED requires UID FETCH";
				return -1;
			}
			fetch_r->vanished = true;
		} else {
			*error_r = "Unknown or repeated fetch modifier";
			return -1;
		}
	}
	if (fetch_r->vanished && !fetch_r->changedsince_set) {
		*error_r = "VANISHED requires CHANGEDSINCE";
		return -1;
	}
	return 0;
}

/* ---- STORE ---- */

int imap_store_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		     struct imap_store *store_r, const char **error_r)
{
	const struct imap_arg *list;
	size_t i = 0, n;
	const char *s;

	memset(store_r, 0, sizeof(*store_r));
	if (i < count && imap_arg_list(&args[i], &list, &n)) {
		size_t k;

		if (n == 0) {
			*error_r = "Empty store modifier list";
			return -1;
		}
		for (k = 0; k < n; k += 2) {
			if (!imap_arg_atom_eq(&list[k], "UNCHANGEDSINCE") || store_r->unchangedsince_set ||
			    k + 1 >= n || list[k + 1].type != IMAP_ARG_ATOM ||
			    imap_parse_number64(list[k + 1].str, &store_r->unchangedsince) < 0) {
				*error_r = "Invalid store modifier";
				return -1;
			}
			store_r->unchangedsince_set = true;
		}
		i++;
	}
	if (i >= count || !imap_arg_atom(&args[i], &s)) {
		*error_r = "Missing store data item";
		return -1;
	}
	if (*s == '+') {
		store_r->mode = IMAP_STORE_ADD;
		s++;
	} else if (*s == '-') {
		store_r->mode = IMAP_STORE_REMOVE;
		s++;
	}
	if (str_casecmp(s, "FLAGS.SILENT") == 0) {
		store_r->silent = true;
	} else if (str_casecmp(s, "FLAGS") != 0) {
		*error_r = "Invalid store data item";
		return -1;
	}
	i++;
	if (i + 1 == count && imap_arg_list(&args[i], &list, &n))
		return imap_flags_parse(pool, list, n, &store_r->flags, error_r);
	if (i >= count) {
		*error_r = "Missing flags";
		return -1;
	}
	return imap_flags_parse(pool, args + i, count - i, &store_r->flags, error_r);
}

/* ---- STATUS ---- */

static int status_items(const struct imap_arg *list, size_t n, unsigned *items_r,
			const char **error_r)
{
	static const struct { const char *name; unsigned item; } names[] = {
		{ "MESSAGES", IMAP_STATUS_MESSAGES }, { "RECENT", IMAP_STATUS_RECENT },
		{ "UIDNEXT", IMAP_STATUS_UIDNEXT }, { "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
		{ "UNSEEN", IMAP_STATUS_UNSEEN }, { "DELETED", IMAP_STATUS_DELETED },
		{ "SIZE", IMAP_STATUS_SIZE }, { "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
		{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
		{ "DELETED-STORAGE", IMAP_STATUS_DELETED_STORAGE },
		{ "MAILBOXID", IMAP_STATUS_MAILBOXID },
	};
	size_t i, k;

	*items_r = 0;
	if (n == 0) {
		*error_r = "Empty status item list";
		return -1;
	}
	for (i = 0; i < n; i++) {
		for (k = 0; k < ARRAY_SIZE(names); k++) {
			if (imap_arg_atom_eq(&list[i], names[k].name))
				break;
		}
		if (k == ARRAY_SIZE(names)) {
			*error_r = "Unknown status item";
			return -1;
		}
		*items_r |= names[k].item;
	}
	return 0;
}

int imap_status_parse(const struct imap_arg *list, unsigned *items_r, const char **error_r)
{
	const struct imap_arg *items;
	size_t n;

	if (!imap_arg_list(list, &items, &n)) {
		*error_r = "Status items must be a list";
		return -1;
	}
	return status_items(items, n, items_r, error_r);
}

/* ---- LIST ---- */

static bool list_mailbox(const struct imap_arg *arg, const char **str_r)
{
	size_t len, i;

	if (imap_arg_string(arg, str_r, &len))
		return true;
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	for (i = 0; i < arg->len; i++) {
		if (!imap_is_list_char((unsigned char)arg->str[i]))
			return false;
	}
	*str_r = arg->str;
	return true;
}

int imap_list_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		    struct imap_list_cmd *list_r, const char **error_r)
{
	const struct imap_arg *list;
	size_t i = 0, n, k, len;

	memset(list_r, 0, sizeof(*list_r));
	if (i < count && imap_arg_list(&args[i], &list, &n)) {
		static const struct { const char *name; unsigned opt; } sel[] = {
			{ "SUBSCRIBED", IMAP_LIST_SEL_SUBSCRIBED }, { "REMOTE", IMAP_LIST_SEL_REMOTE },
			{ "RECURSIVEMATCH", IMAP_LIST_SEL_RECURSIVEMATCH },
			{ "SPECIAL-USE", IMAP_LIST_SEL_SPECIAL_USE },
		};

		list_r->extended = true;
		for (k = 0; k < n; k++) {
			size_t m;

			for (m = 0; m < ARRAY_SIZE(sel); m++) {
				if (imap_arg_atom_eq(&list[k], sel[m].name))
					break;
			}
			if (m == ARRAY_SIZE(sel)) {
				*error_r = "Unknown LIST selection option";
				return -1;
			}
			list_r->select |= sel[m].opt;
		}
		if ((list_r->select & IMAP_LIST_SEL_RECURSIVEMATCH) != 0 &&
		    (list_r->select & (IMAP_LIST_SEL_SUBSCRIBED | IMAP_LIST_SEL_SPECIAL_USE)) == 0) {
			*error_r = "RECURSIVEMATCH needs another selection option";
			return -1;
		}
		i++;
	}
	if (i + 2 > count || !imap_arg_astring(&args[i], &list_r->reference, &len)) {
		*error_r = "Invalid LIST reference";
		return -1;
	}
	i++;
	if (imap_arg_list(&args[i], &list, &n)) {
		if (n == 0) {
			*error_r = "Empty pattern list";
			return -1;
		}
		list_r->extended = true;
	} else {
		list = &args[i];
		n = 1;
	}
	list_r->patterns = imap_pool_alloc(pool, n * sizeof(char *));
	for (k = 0; k < n; k++) {
		if (!list_mailbox(&list[k], &list_r->patterns[k])) {
			*error_r = "Invalid LIST pattern";
			return -1;
		}
	}
	list_r->pattern_count = n;
	i++;
	if (i == count)
		return 0;
	if (i + 2 != count || !imap_arg_atom_eq(&args[i], "RETURN") ||
	    !imap_arg_list(&args[i + 1], &list, &n)) {
		*error_r = "Invalid LIST return options";
		return -1;
	}
	list_r->extended = true;
	for (k = 0; k < n; k++) {
		if (imap_arg_atom_eq(&list[k], "SUBSCRIBED")) {
			list_r->ret |= IMAP_LIST_RET_SUBSCRIBED;
		} else if (imap_arg_atom_eq(&list[k], "CHILDREN")) {
			list_r->ret |= IMAP_LIST_RET_CHILDREN;
		} else if (imap_arg_atom_eq(&list[k], "SPECIAL-USE")) {
			list_r->ret |= IMAP_LIST_RET_SPECIAL_USE;
		} else if (imap_arg_atom_eq(&list[k], "MYRIGHTS")) {
			list_r->ret |= IMAP_LIST_RET_MYRIGHTS;
		} else if (imap_arg_atom_eq(&list[k], "STATUS") && k + 1 < n &&
			   (list_r->ret & IMAP_LIST_RET_STATUS) == 0) {
			if (imap_status_parse(&list[k + 1], &list_r->status_items, error_r) < 0)
				return -1;
			list_r->ret |= IMAP_LIST_RET_STATUS;
			k++;
		} else {
			*error_r = "Unknown LIST return option";
			return -1;
		}
	}
	return 0;
}

bool imap_list_match(const char *pattern, const char *name, char sep)
{
	size_t m = strlen(pattern), n = strlen(name), i, j;
	bool *prev, *cur, ret;

	/* prev[j]: pattern[0..i) matches name[0..j) */
	prev = xcalloc(n + 1, sizeof(bool));
	cur = xcalloc(n + 1, sizeof(bool));
	prev[0] = true;
	for (i = 0; i < m; i++) {
		char pc = pattern[i];

		cur[0] = (pc == '*' || pc == '%') && prev[0];
		for (j = 1; j <= n; j++) {
			if (pc == '*')
				cur[j] = prev[j] || cur[j - 1];
			else if (pc == '%')
				cur[j] = prev[j] || (cur[j - 1] && name[j - 1] != sep);
			else
				cur[j] = prev[j - 1] && name[j - 1] == pc;
		}
		memcpy(prev, cur, (n + 1) * sizeof(bool));
	}
	ret = prev[n];
	free(prev);
	free(cur);
	return ret;
}

const char *imap_mailbox_normalize(const char *name)
{
	return str_casecmp(name, "INBOX") == 0 ? "INBOX" : name;
}
