/* SMTP command-line parser (RFC 5321 4.1 grammar plus the ESMTP parameters
 * of SIZE, 8BITMIME/BINARYMIME, SMTPUTF8, DSN and AUTH). Works on one line at
 * a time, copies what it keeps into cmd->storage, sized once per line so the
 * pointers handed out never move. Every error maps to a reply code, an
 * enhanced status code and a static text. */
#include "autoconf.h"
#include "smtp_parser.h"

#include <stdlib.h>
#include <string.h>

/* Reply for an error; texts are static. */
struct smtp_err {
	unsigned code;
	const char *enhanced;
	const char *text;
};

static const struct smtp_err E_UNRECOGNIZED = { 500, "5.5.2", "Command unrecognized" };
static const struct smtp_err E_BAD_CHAR = { 501, "5.5.2", "Invalid character in command" };
static const struct smtp_err E_NO_PARAMS = { 501, "5.5.4", "Syntax error (no parameters allowed)" };
static const struct smtp_err E_HELO_SYNTAX = { 501, "5.5.4", "Syntax: HELO domain" };
static const struct smtp_err E_EHLO_SYNTAX = { 501, "5.5.4", "Syntax: EHLO domain" };
static const struct smtp_err E_LHLO_SYNTAX = { 501, "5.5.4", "Syntax: LHLO domain" };
static const struct smtp_err E_HELO_DOMAIN = { 501, "5.5.4", "Invalid domain name or address literal" };
static const struct smtp_err E_MAIL_SYNTAX = { 501, "5.5.4", "Syntax: MAIL FROM:<address>" };
static const struct smtp_err E_RCPT_SYNTAX = { 501, "5.5.4", "Syntax: RCPT TO:<address>" };
static const struct smtp_err E_VRFY_SYNTAX = { 501, "5.5.4", "Syntax: VRFY string" };
static const struct smtp_err E_EXPN_SYNTAX = { 501, "5.5.4", "Syntax: EXPN string" };
static const struct smtp_err E_BDAT_SYNTAX = { 501, "5.5.4", "Syntax: BDAT size [LAST]" };
static const struct smtp_err E_AUTH_SYNTAX = { 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]" };
static const struct smtp_err E_AUTH_BASE64 = { 501, "5.5.2", "Cannot Base64-decode Client responses" };
static const struct smtp_err E_SENDER_SYNTAX = { 553, "5.1.7", "Bad sender address syntax" };
static const struct smtp_err E_RCPT_ADDR_SYNTAX = { 553, "5.1.3", "Bad recipient address syntax" };
static const struct smtp_err E_SENDER_LONG = { 501, "5.1.7", "Path too long" };
static const struct smtp_err E_RCPT_LONG = { 501, "5.1.3", "Path too long" };
static const struct smtp_err E_NON_ASCII = { 553, "5.6.7", "Non-ASCII address requires SMTPUTF8" };
static const struct smtp_err E_PARAM_SYNTAX = { 501, "5.5.4", "Syntax error in parameters" };
static const struct smtp_err E_PARAM_UNKNOWN = { 555, "5.5.4", "Unsupported parameter" };
static const struct smtp_err E_PARAM_DUP = { 501, "5.5.4", "Duplicate parameter" };
static const struct smtp_err E_PARAM_TOO_MANY = { 501, "5.5.4", "Too many parameters" };
static const struct smtp_err E_SIZE_VALUE = { 501, "5.5.4", "Invalid SIZE value" };
static const struct smtp_err E_BODY_VALUE = { 501, "5.5.4", "Invalid BODY value" };
static const struct smtp_err E_BODY_UNSUPPORTED = { 555, "5.5.4", "Unsupported BODY type" };
static const struct smtp_err E_SMTPUTF8_VALUE = { 501, "5.5.4", "SMTPUTF8 takes no value" };
static const struct smtp_err E_RET_VALUE = { 501, "5.5.4", "Invalid RET value" };
static const struct smtp_err E_ENVID_VALUE = { 501, "5.5.4", "Invalid ENVID value" };
static const struct smtp_err E_AUTH_VALUE = { 501, "5.5.4", "Invalid AUTH value" };
static const struct smtp_err E_NOTIFY_VALUE = { 501, "5.5.4", "Invalid NOTIFY value" };
static const struct smtp_err E_ORCPT_VALUE = { 501, "5.5.4", "Invalid ORCPT value" };

struct verb_def {
	const char *name;
	enum smtp_verb verb;
};

static const struct verb_def verbs[] = {
	{ "HELO", SMTP_VERB_HELO },
	{ "EHLO", SMTP_VERB_EHLO },
	{ "LHLO", SMTP_VERB_LHLO },
	{ "MAIL", SMTP_VERB_MAIL },
	{ "RCPT", SMTP_VERB_RCPT },
	{ "DATA", SMTP_VERB_DATA },
	{ "BDAT", SMTP_VERB_BDAT },
	{ "RSET", SMTP_VERB_RSET },
	{ "NOOP", SMTP_VERB_NOOP },
	{ "QUIT", SMTP_VERB_QUIT },
	{ "VRFY", SMTP_VERB_VRFY },
	{ "EXPN", SMTP_VERB_EXPN },
	{ "HELP", SMTP_VERB_HELP },
	{ "STARTTLS", SMTP_VERB_STARTTLS },
	{ "AUTH", SMTP_VERB_AUTH },
};

struct param_def {
	const char *keyword;
	enum smtp_param_id id;
	enum smtp_verb verb;	/* the command that takes it */
	unsigned ext;		/* any of these extensions enables it */
};

static const struct param_def param_defs[] = {
	{ "SIZE", SMTP_PARAM_SIZE, SMTP_VERB_MAIL, SMTP_EXT_SIZE },
	{ "BODY", SMTP_PARAM_BODY, SMTP_VERB_MAIL, SMTP_EXT_8BITMIME | SMTP_EXT_BINARYMIME },
	{ "SMTPUTF8", SMTP_PARAM_SMTPUTF8, SMTP_VERB_MAIL, SMTP_EXT_SMTPUTF8 },
	{ "RET", SMTP_PARAM_RET, SMTP_VERB_MAIL, SMTP_EXT_DSN },
	{ "ENVID", SMTP_PARAM_ENVID, SMTP_VERB_MAIL, SMTP_EXT_DSN },
	{ "AUTH", SMTP_PARAM_AUTH, SMTP_VERB_MAIL, SMTP_EXT_AUTH },
	{ "NOTIFY", SMTP_PARAM_NOTIFY, SMTP_VERB_RCPT, SMTP_EXT_DSN },
	{ "ORCPT", SMTP_PARAM_ORCPT, SMTP_VERB_RCPT, SMTP_EXT_DSN },
};

/* Why a mailbox was refused; the caller picks the reply. */
enum mb_error {
	MB_OK = 0,
	MB_SYNTAX,
	MB_LENGTH,
	MB_NON_ASCII,
};

/* Where the pieces of a Mailbox are in the input. */
struct mb_span {
	const char *local, *local_end;
	const char *domain, *domain_end;
	bool quoted;
	bool utf8;
	enum smtp_literal literal;
};

struct parser {
	struct smtp_command *cmd;
	const struct smtp_parse_opts *opts;
	const struct smtp_err *err;
	bool utf8;		/* UTF-8 allowed in addresses and parameter values */
};

static int fail(struct parser *p, const struct smtp_err *err)
{
	p->err = err;
	return -1;
}

/* --- character classes --- */

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_let_dig(unsigned char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 5322 atext. */
static bool is_atext(unsigned char c)
{
	return is_let_dig(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* RFC 5321 qtextSMTP: %d32-33 / %d35-91 / %d93-126. */
static bool is_qtext(unsigned char c)
{
	return c >= 32 && c <= 126 && c != '"' && c != '\\';
}

/* RFC 5321 dcontent: %d33-90 / %d94-126. */
static bool is_dcontent(unsigned char c)
{
	return (c >= 33 && c <= 90) || (c >= 94 && c <= 126);
}

static unsigned char to_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

/* Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
 * surrogates, at most U+10FFFF) of a non-ASCII character at p, or 0. */
static size_t utf8_len(const char *p, const char *end)
{
	const unsigned char *s = (const unsigned char *)p;
	size_t avail = (size_t)(end - p), n, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (avail < n)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	}
	return n;
}

/* At a non-ASCII octet: step over one UTF-8 character if allowed. Returns
 * the length, or 0 with *err set. */
static size_t step_utf8(const char *p, const char *end, bool utf8, bool *seen,
			enum mb_error *err)
{
	size_t n;

	if (!utf8) {
		*err = MB_NON_ASCII;
		return 0;
	}
	n = utf8_len(p, end);
	if (n == 0)
		*err = MB_SYNTAX;
	else
		*seen = true;
	return n;
}

/* --- storage --- */

/* Copy n bytes plus a NUL into storage. The storage was reserved for the
 * whole line up front, so it never moves; running out is a bug. */
static const char *store(struct smtp_command *cmd, const char *s, size_t n)
{
	struct buf *b = &cmd->storage;
	char *dst;

	if (b->cap - b->len < n + 2)
		abort();
	dst = b->data + b->len;
	if (n > 0)
		memcpy(dst, s, n);
	dst[n] = '\0';
	b->len += n + 1;
	b->data[b->len] = '\0';
	return dst;
}

/* --- domains and address literals --- */

/* Snum 3("." Snum), Snum = 1*3DIGIT with a value of at most 255. */
static bool parse_ipv4(const char *p, const char *end)
{
	int part;

	for (part = 0; part < 4; part++) {
		unsigned value = 0, digits = 0;

		if (part > 0) {
			if (p == end || *p != '.')
				return false;
			p++;
		}
		while (p < end && is_digit((unsigned char)*p) && digits < 4) {
			value = value * 10 + (unsigned)(*p - '0');
			digits++;
			p++;
		}
		if (digits == 0 || digits > 3 || value > 255)
			return false;
	}
	return p == end;
}

/* IPv6-addr of RFC 5321 4.1.3: full, compressed ("::" standing for at least
 * two groups, so at most 6 explicit groups), and both with an IPv4 tail. */
static bool parse_ipv6(const char *p, const char *end)
{
	unsigned groups = 0;
	bool compressed = false, v4 = false;

	if (end - p >= 2 && p[0] == ':' && p[1] == ':') {
		compressed = true;
		p += 2;
	}
	while (p < end) {
		const char *t = p;
		bool dot = false;

		while (t < end && *t != ':') {
			if (*t == '.')
				dot = true;
			t++;
		}
		if (dot) {
			if (t != end || !parse_ipv4(p, end))
				return false;
			v4 = true;
			break;
		}
		if (t - p < 1 || t - p > 4)
			return false;
		for (; p < t; p++) {
			if (!is_hex((unsigned char)*p))
				return false;
		}
		if (++groups > 8)
			return false;
		if (p == end)
			break;
		/* at ':' */
		if (end - p >= 2 && p[1] == ':') {
			if (compressed)
				return false;
			compressed = true;
			p += 2;
		} else {
			p++;
			if (p == end)
				return false;
		}
	}
	if (!compressed)
		return v4 ? groups == 6 : groups == 8;
	return v4 ? groups <= 4 : groups <= 6;
}

/* Ldh-str = *( ALPHA / DIGIT / "-" ) Let-dig */
static bool is_ldh_str(const char *p, const char *end)
{
	if (p == end || !is_let_dig((unsigned char)end[-1]))
		return false;
	for (; p < end; p++) {
		if (!is_let_dig((unsigned char)*p) && *p != '-')
			return false;
	}
	return true;
}

/* address-literal = "[" ( IPv4 / "IPv6:" IPv6 / tag ":" 1*dcontent ) "]",
 * the whole of [p, end). */
static enum smtp_literal parse_literal(const char *p, const char *end)
{
	const char *colon;

	if (end - p < 3 || *p != '[' || end[-1] != ']')
		return SMTP_LITERAL_NONE;
	p++;
	end--;
	colon = memchr(p, ':', (size_t)(end - p));
	if (colon == NULL)
		return parse_ipv4(p, end) ? SMTP_LITERAL_IPV4 : SMTP_LITERAL_NONE;
	if (!is_ldh_str(p, colon))
		return SMTP_LITERAL_NONE;
	if (str_case_eq_n(p, (size_t)(colon - p), "IPv6"))
		return parse_ipv6(colon + 1, end) ? SMTP_LITERAL_IPV6 : SMTP_LITERAL_NONE;
	if (colon + 1 == end)
		return SMTP_LITERAL_NONE;
	for (p = colon + 1; p < end; p++) {
		if (!is_dcontent((unsigned char)*p))
			return SMTP_LITERAL_NONE;
	}
	return SMTP_LITERAL_GENERAL;
}

/* Domain = sub-domain *("." sub-domain), sub-domain = Let-dig [Ldh-str];
 * under SMTPUTF8 a sub-domain may be a U-label (RFC 6531 3.3), checked here
 * only for well-formed UTF-8 and the hyphen rules. The whole of [p, end). */
static enum mb_error parse_domain(const char *p, const char *end, bool utf8, bool *seen_utf8)
{
	enum mb_error err = MB_SYNTAX;

	if (p == end)
		return MB_SYNTAX;
	if (end - p > SMTP_MAX_DOMAIN)
		return MB_LENGTH;
	while (p < end) {
		const char *label = p;
		bool ascii = true;

		while (p < end && *p != '.') {
			unsigned char c = (unsigned char)*p;

			if (c >= 0x80) {
				size_t n = step_utf8(p, end, utf8, seen_utf8, &err);

				if (n == 0)
					return err;
				ascii = false;
				p += n;
			} else if (is_let_dig(c) || c == '-')
				p++;
			else
				return MB_SYNTAX;
		}
		if (p == label || *label == '-' || p[-1] == '-')
			return MB_SYNTAX;
		/* RFC 1035 2.3.4; a U-label's limit is on its A-label form. */
		if (ascii && p - label > 63)
			return MB_SYNTAX;
		if (p < end) {
			p++;	/* '.' */
			if (p == end)
				return MB_SYNTAX;
		}
	}
	return MB_OK;
}

/* --- mailboxes --- */

/* Mailbox = Local-part "@" ( Domain / address-literal ), the whole of
 * [p, end). Local-part = Dot-string / Quoted-string. */
static enum mb_error parse_mailbox(const char *p, const char *end, bool utf8, struct mb_span *m)
{
	enum mb_error err = MB_SYNTAX;

	memset(m, 0, sizeof(*m));
	m->local = p;
	if (p < end && *p == '"') {
		m->quoted = true;
		p++;
		while (p < end && *p != '"') {
			unsigned char c = (unsigned char)*p;

			if (c == '\\') {
				/* quoted-pairSMTP = %d92 %d32-126 */
				if (end - p < 2 || p[1] < 32 || p[1] > 126)
					return MB_SYNTAX;
				p += 2;
			} else if (c >= 0x80) {
				size_t n = step_utf8(p, end, utf8, &m->utf8, &err);

				if (n == 0)
					return err;
				p += n;
			} else if (is_qtext(c))
				p++;
			else
				return MB_SYNTAX;
		}
		if (p == end)
			return MB_SYNTAX;
		p++;
	} else {
		bool atom_empty = true;

		while (p < end && *p != '@') {
			unsigned char c = (unsigned char)*p;

			if (c == '.') {
				if (atom_empty)
					return MB_SYNTAX;
				atom_empty = true;
				p++;
			} else if (c >= 0x80) {
				size_t n = step_utf8(p, end, utf8, &m->utf8, &err);

				if (n == 0)
					return err;
				atom_empty = false;
				p += n;
			} else if (is_atext(c)) {
				atom_empty = false;
				p++;
			} else
				return MB_SYNTAX;
		}
		if (atom_empty)
			return MB_SYNTAX;
	}
	m->local_end = p;
	if (p == end || *p != '@')
		return MB_SYNTAX;
	if (m->local_end - m->local > SMTP_MAX_LOCAL_PART)
		return MB_LENGTH;
	p++;
	m->domain = p;
	m->domain_end = end;
	if (p < end && *p == '[') {
		if (end - p > SMTP_MAX_DOMAIN)
			return MB_LENGTH;
		m->literal = parse_literal(p, end);
		return m->literal == SMTP_LITERAL_NONE ? MB_SYNTAX : MB_OK;
	}
	return parse_domain(p, end, utf8, &m->utf8);
}

/* The local part without quotes and quoted-pair backslashes, into dst (which
 * has room for the raw local part). Returns the decoded length. */
static size_t decode_local(const struct mb_span *m, char *dst)
{
	const char *p = m->local, *end = m->local_end;
	size_t n = 0;

	if (!m->quoted) {
		memcpy(dst, p, (size_t)(end - p));
		return (size_t)(end - p);
	}
	for (p++, end--; p < end; p++) {
		if (*p == '\\')
			p++;
		dst[n++] = *p;
	}
	return n;
}

static const char *store_local(struct smtp_command *cmd, const struct mb_span *m)
{
	char tmp[SMTP_MAX_LOCAL_PART];
	size_t n = decode_local(m, tmp);

	return store(cmd, tmp, n);
}

/* --- the path of MAIL and RCPT --- */

/* Find the ">" closing a path that opens at p ("<"), skipping quoted
 * strings. Returns NULL if there is none. */
static const char *path_end(const char *p, const char *end)
{
	bool quoted = false;

	for (p++; p < end; p++) {
		if (quoted) {
			if (*p == '\\' && end - p > 1)
				p++;
			else if (*p == '"')
				quoted = false;
		} else if (*p == '"')
			quoted = true;
		else if (*p == '>')
			return p;
	}
	return NULL;
}

/* The inside of "<...>": [A-d-l ":"] Mailbox, "<>" or "<Postmaster>". */
static int parse_path(struct parser *ps, const char *p, const char *end, bool utf8)
{
	struct smtp_command *cmd = ps->cmd;
	bool mail = cmd->verb == SMTP_VERB_MAIL;
	const struct smtp_err *syntax = mail ? &E_SENDER_SYNTAX : &E_RCPT_ADDR_SYNTAX;
	const struct smtp_err *toolong = mail ? &E_SENDER_LONG : &E_RCPT_LONG;
	struct mb_span m;
	enum mb_error err;
	bool dummy = false;

	if (p == end) {
		if (!mail)
			return fail(ps, syntax);
		cmd->path.null = true;
		cmd->path.raw = "";
		cmd->path.mbox.local = "";
		cmd->path.mbox.domain = "";
		return 0;
	}
	if (!mail && str_case_eq_n(p, (size_t)(end - p), "Postmaster")) {
		cmd->path.postmaster = true;
		cmd->path.raw = store(cmd, p, (size_t)(end - p));
		cmd->path.mbox.local = cmd->path.raw;
		cmd->path.mbox.domain = "";
		return 0;
	}
	if (*p == '@') {
		/* A-d-l = At-domain *( "," At-domain ) ":" */
		for (;;) {
			const char *d = ++p;

			while (p < end && *p != ',' && *p != ':')
				p++;
			if (p == end)
				return fail(ps, syntax);
			err = parse_domain(d, p, utf8, &dummy);
			if (err == MB_NON_ASCII)
				return fail(ps, &E_NON_ASCII);
			if (err != MB_OK)
				return fail(ps, syntax);
			if (*p == ':')
				break;
			p++;	/* ',' */
			if (p == end || *p != '@')
				return fail(ps, syntax);
		}
		p++;
		cmd->path.source_route = true;
	}
	err = parse_mailbox(p, end, utf8, &m);
	if (err == MB_NON_ASCII)
		return fail(ps, &E_NON_ASCII);
	if (err == MB_LENGTH)
		return fail(ps, toolong);
	if (err != MB_OK)
		return fail(ps, syntax);
	cmd->path.raw = store(cmd, p, (size_t)(end - p));
	cmd->path.mbox.local = store_local(cmd, &m);
	cmd->path.mbox.domain = store(cmd, m.domain, (size_t)(m.domain_end - m.domain));
	cmd->path.mbox.local_quoted = m.quoted;
	cmd->path.mbox.literal = m.literal;
	cmd->path.mbox.utf8 = m.utf8;
	return 0;
}

/* --- ESMTP parameters --- */

static bool is_printable_ascii(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] < 32 || s[i] > 126)
			return false;
	}
	return true;
}

/* Decode an xtext value into storage, checking RFC 3461's rules for ENVID
 * and ORCPT: printable US-ASCII and at most max octets once decoded. */
static const char *store_xtext(struct smtp_command *cmd, const char *v, size_t n, size_t max)
{
	struct buf tmp;
	const char *error, *ret = NULL;

	buf_init(&tmp, max);
	if (smtp_xtext_decode(v, n, &tmp, &error) == 0 &&
	    is_printable_ascii(tmp.data != NULL ? tmp.data : "", tmp.len))
		ret = store(cmd, tmp.data != NULL ? tmp.data : "", tmp.len);
	buf_free(&tmp);
	return ret;
}

static bool value_is(const char *v, size_t n, const char *word)
{
	return v != NULL && str_case_eq_n(v, n, word);
}

static int param_size(struct parser *ps, const char *v, size_t n)
{
	uint64_t size;
	size_t i;

	/* size-value ::= 1*20DIGIT (RFC 1870); a value past 2^64-1 is kept as
	   UINT64_MAX so the session answers 552, not 501. */
	if (v == NULL || n == 0 || n > 20)
		return fail(ps, &E_SIZE_VALUE);
	for (i = 0; i < n; i++) {
		if (!is_digit((unsigned char)v[i]))
			return fail(ps, &E_SIZE_VALUE);
	}
	if (str_to_u64(v, n, UINT64_MAX, &size) < 0)
		size = UINT64_MAX;
	ps->cmd->size = size;
	return 0;
}

static int param_body(struct parser *ps, const char *v, size_t n)
{
	unsigned ext = ps->opts->extensions;

	if (value_is(v, n, "7BIT"))
		ps->cmd->body = SMTP_BODY_7BIT;
	else if (value_is(v, n, "8BITMIME")) {
		if ((ext & SMTP_EXT_8BITMIME) == 0)
			return fail(ps, &E_BODY_UNSUPPORTED);
		ps->cmd->body = SMTP_BODY_8BITMIME;
	} else if (value_is(v, n, "BINARYMIME")) {
		if ((ext & SMTP_EXT_BINARYMIME) == 0)
			return fail(ps, &E_BODY_UNSUPPORTED);
		ps->cmd->body = SMTP_BODY_BINARYMIME;
	} else
		return fail(ps, &E_BODY_VALUE);
	return 0;
}

static int param_ret(struct parser *ps, const char *v, size_t n)
{
	if (value_is(v, n, "FULL"))
		ps->cmd->ret = SMTP_RET_FULL;
	else if (value_is(v, n, "HDRS"))
		ps->cmd->ret = SMTP_RET_HDRS;
	else
		return fail(ps, &E_RET_VALUE);
	return 0;
}

static int param_envid(struct parser *ps, const char *v, size_t n)
{
	if (v == NULL)
		return fail(ps, &E_ENVID_VALUE);
	ps->cmd->envid = store_xtext(ps->cmd, v, n, SMTP_MAX_ENVID);
	return ps->cmd->envid == NULL ? fail(ps, &E_ENVID_VALUE) : 0;
}

/* AUTH=xtext of a mailbox or "<>" (RFC 4954 5). */
static int param_auth(struct parser *ps, const char *v, size_t n)
{
	struct smtp_command *cmd = ps->cmd;
	struct buf tmp;
	struct mb_span m;
	const char *error;
	int ret = -1;

	if (v == NULL)
		return fail(ps, &E_AUTH_VALUE);
	buf_init(&tmp, n);
	if (smtp_xtext_decode(v, n, &tmp, &error) == 0 && tmp.len > 0) {
		if ((tmp.len == 2 && memcmp(tmp.data, "<>", 2) == 0) ||
		    parse_mailbox(tmp.data, tmp.data + tmp.len, ps->utf8, &m) == MB_OK) {
			cmd->auth = store(cmd, tmp.data, tmp.len);
			ret = 0;
		}
	}
	buf_free(&tmp);
	return ret < 0 ? fail(ps, &E_AUTH_VALUE) : 0;
}

/* NOTIFY = "NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY") (RFC 3461 4.1). */
static int param_notify(struct parser *ps, const char *v, size_t n)
{
	/* NOTIFY without "=value": v is NULL, and NULL + 0 is undefined. */
	if (v == NULL)
		return fail(ps, &E_NOTIFY_VALUE);
	const char *end = v + n, *p = v;
	unsigned bits = 0;

	for (;;) {
		const char *e = p;

		while (e < end && *e != ',')
			e++;
		if (value_is(p, (size_t)(e - p), "NEVER"))
			bits |= SMTP_NOTIFY_NEVER;
		else if (value_is(p, (size_t)(e - p), "SUCCESS"))
			bits |= SMTP_NOTIFY_SUCCESS;
		else if (value_is(p, (size_t)(e - p), "FAILURE"))
			bits |= SMTP_NOTIFY_FAILURE;
		else if (value_is(p, (size_t)(e - p), "DELAY"))
			bits |= SMTP_NOTIFY_DELAY;
		else
			return fail(ps, &E_NOTIFY_VALUE);
		if (e == end)
			break;
		p = e + 1;
	}
	if ((bits & SMTP_NOTIFY_NEVER) != 0 && bits != SMTP_NOTIFY_NEVER)
		return fail(ps, &E_NOTIFY_VALUE);
	ps->cmd->notify = bits;
	return 0;
}

/* ORCPT = addr-type ";" xtext, addr-type = atom (RFC 3461 4.2). */
static int param_orcpt(struct parser *ps, const char *v, size_t n)
{
	const char *semi, *p;

	if (v == NULL || (semi = memchr(v, ';', n)) == NULL || semi == v)
		return fail(ps, &E_ORCPT_VALUE);
	for (p = v; p < semi; p++) {
		if (!is_atext((unsigned char)*p))
			return fail(ps, &E_ORCPT_VALUE);
	}
	ps->cmd->orcpt = store_xtext(ps->cmd, semi + 1, (size_t)(v + n - semi - 1),
				     SMTP_MAX_ORCPT);
	if (ps->cmd->orcpt == NULL || ps->cmd->orcpt[0] == '\0')
		return fail(ps, &E_ORCPT_VALUE);
	ps->cmd->orcpt_type = store(ps->cmd, v, (size_t)(semi - v));
	return 0;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool is_esmtp_keyword(const char *p, const char *end)
{
	if (p == end || !is_let_dig((unsigned char)*p))
		return false;
	for (p++; p < end; p++) {
		if (!is_let_dig((unsigned char)*p) && *p != '-')
			return false;
	}
	return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126), plus UTF8-non-ascii under SMTPUTF8
 * (RFC 6531 3.3). */
static bool is_esmtp_value(const char *p, const char *end, bool utf8)
{
	if (p == end)
		return false;
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x80) {
			size_t n = utf8 ? utf8_len(p, end) : 0;

			if (n == 0)
				return false;
			p += n;
		} else if (c < 33 || c > 126 || c == '=')
			return false;
		else
			p++;
	}
	return true;
}

static int parse_param(struct parser *ps, const char *tok, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	const char *eq = memchr(tok, '=', (size_t)(end - tok));
	const char *kw_end = eq != NULL ? eq : end;
	const char *value = eq != NULL ? eq + 1 : NULL;
	size_t vlen = eq != NULL ? (size_t)(end - eq - 1) : 0;
	const struct param_def *def = NULL;
	struct smtp_param *param;
	size_t i;

	if (!is_esmtp_keyword(tok, kw_end) || (value != NULL && !is_esmtp_value(value, end, ps->utf8)))
		return fail(ps, &E_PARAM_SYNTAX);
	if (cmd->param_count >= SMTP_MAX_PARAMS)
		return fail(ps, &E_PARAM_TOO_MANY);
	param = &cmd->params[cmd->param_count++];
	param->keyword = store(cmd, tok, (size_t)(kw_end - tok));
	param->value = value != NULL ? store(cmd, value, vlen) : NULL;
	param->id = SMTP_PARAM_UNKNOWN;
	cmd->bad_param = param->keyword;

	for (i = 0; i < ARRAY_SIZE(param_defs); i++) {
		if (param_defs[i].verb == cmd->verb &&
		    str_case_eq_n(tok, (size_t)(kw_end - tok), param_defs[i].keyword)) {
			def = &param_defs[i];
			break;
		}
	}
	if (def == NULL || (ps->opts->extensions & def->ext) == 0)
		return fail(ps, &E_PARAM_UNKNOWN);
	param->id = def->id;
	if ((cmd->params_seen & (1u << def->id)) != 0)
		return fail(ps, &E_PARAM_DUP);
	cmd->params_seen |= 1u << def->id;

	switch (def->id) {
	case SMTP_PARAM_SIZE:
		return param_size(ps, value, vlen);
	case SMTP_PARAM_BODY:
		return param_body(ps, value, vlen);
	case SMTP_PARAM_SMTPUTF8:
		if (value != NULL)
			return fail(ps, &E_SMTPUTF8_VALUE);
		cmd->smtputf8 = true;
		return 0;
	case SMTP_PARAM_RET:
		return param_ret(ps, value, vlen);
	case SMTP_PARAM_ENVID:
		return param_envid(ps, value, vlen);
	case SMTP_PARAM_AUTH:
		return param_auth(ps, value, vlen);
	case SMTP_PARAM_NOTIFY:
		return param_notify(ps, value, vlen);
	case SMTP_PARAM_ORCPT:
		return param_orcpt(ps, value, vlen);
	case SMTP_PARAM_UNKNOWN:
		break;
	}
	return fail(ps, &E_PARAM_UNKNOWN);
}

/* Does the parameter list name SMTPUTF8 (enabled)? The MAIL path may carry
 * UTF-8 only then, and the path is checked before the parameters. */
static bool params_have_smtputf8(struct parser *ps, const char *p, const char *end)
{
	if ((ps->opts->extensions & SMTP_EXT_SMTPUTF8) == 0)
		return false;
	while (p < end) {
		const char *t;

		while (p < end && *p == ' ')
			p++;
		t = p;
		while (p < end && *p != ' ' && *p != '=')
			p++;
		if (str_case_eq_n(t, (size_t)(p - t), "SMTPUTF8"))
			return true;
		while (p < end && *p != ' ')
			p++;
	}
	return false;
}

/* MAIL FROM:<path> [SP params] / RCPT TO:<path> [SP params]. */
static int parse_mail_rcpt(struct parser *ps, const char *p, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	bool mail = cmd->verb == SMTP_VERB_MAIL;
	const char *prefix = mail ? "FROM:" : "TO:";
	size_t plen = strlen(prefix);
	const struct smtp_err *syntax = mail ? &E_MAIL_SYNTAX : &E_RCPT_SYNTAX;
	const char *lt, *gt, *params;

	if ((size_t)(end - p) < plen || str_ncasecmp(p, prefix, plen) != 0)
		return fail(ps, syntax);
	lt = p + plen;
	/* RFC 5321 has no space here; one is accepted, as Postfix does. */
	if (lt < end && *lt == ' ')
		lt++;
	if (lt == end || *lt != '<' || (gt = path_end(lt, end)) == NULL)
		return fail(ps, syntax);
	params = gt + 1;
	if (params < end && *params != ' ')
		return fail(ps, syntax);
	if (gt - lt + 1 > SMTP_MAX_PATH)
		return fail(ps, mail ? &E_SENDER_LONG : &E_RCPT_LONG);

	ps->utf8 = mail ? params_have_smtputf8(ps, params, end) : ps->opts->utf8;
	if (parse_path(ps, lt + 1, gt, ps->utf8) < 0)
		return -1;
	p = params;
	while (p < end) {
		const char *tok;

		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ')
			p++;
		if (tok < p && parse_param(ps, tok, p) < 0)
			return -1;
	}
	cmd->bad_param = NULL;
	return 0;
}

/* --- the other commands --- */

static int parse_helo(struct parser *ps, const char *p, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	const struct smtp_err *syntax = cmd->verb == SMTP_VERB_HELO ? &E_HELO_SYNTAX :
		cmd->verb == SMTP_VERB_EHLO ? &E_EHLO_SYNTAX : &E_LHLO_SYNTAX;
	bool dummy = false;

	if (p == end)
		return fail(ps, syntax);
	/* EHLO domain is ASCII even under SMTPUTF8 (RFC 6531 3.7.1: A-labels). */
	if (*p == '[') {
		if (end - p > SMTP_MAX_DOMAIN)
			return fail(ps, &E_HELO_DOMAIN);
		cmd->arg_literal = parse_literal(p, end);
		if (cmd->arg_literal == SMTP_LITERAL_NONE)
			return fail(ps, &E_HELO_DOMAIN);
	} else if (parse_domain(p, end, false, &dummy) != MB_OK)
		return fail(ps, &E_HELO_DOMAIN);
	cmd->arg = store(cmd, p, (size_t)(end - p));
	return 0;
}

/* Printable ASCII, or well-formed UTF-8 when utf8. */
static bool is_text(const char *p, const char *end, bool utf8)
{
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x80) {
			size_t n = utf8 ? utf8_len(p, end) : 0;

			if (n == 0)
				return false;
			p += n;
		} else if (c < 32 || c > 126)
			return false;
		else
			p++;
	}
	return true;
}

/* VRFY/EXPN String [SP "SMTPUTF8"] (RFC 6531 3.7.4.2). */
static int parse_vrfy(struct parser *ps, const char *p, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	const struct smtp_err *syntax = cmd->verb == SMTP_VERB_VRFY ? &E_VRFY_SYNTAX :
		&E_EXPN_SYNTAX;
	const char *last = end;

	while (last > p && last[-1] != ' ')
		last--;
	if (last > p && (ps->opts->extensions & SMTP_EXT_SMTPUTF8) != 0 &&
	    str_case_eq_n(last, (size_t)(end - last), "SMTPUTF8")) {
		cmd->smtputf8 = true;
		end = last;
		while (end > p && end[-1] == ' ')
			end--;
	}
	if (p == end)
		return fail(ps, syntax);
	if (!is_text(p, end, cmd->smtputf8))
		return fail(ps, is_text(p, end, true) ? &E_NON_ASCII : syntax);
	cmd->arg = store(cmd, p, (size_t)(end - p));
	return 0;
}

static int parse_optional_text(struct parser *ps, const char *p, const char *end)
{
	if (p == end)
		return 0;
	if (!is_text(p, end, true))
		return fail(ps, &E_BAD_CHAR);
	ps->cmd->arg = store(ps->cmd, p, (size_t)(end - p));
	return 0;
}

/* bdat-cmd = "BDAT" SP chunk-size [ SP end-marker ], chunk-size = 1*DIGIT */
static int parse_bdat(struct parser *ps, const char *p, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	const char *d = p;

	while (p < end && is_digit((unsigned char)*p))
		p++;
	if (str_to_u64(d, (size_t)(p - d), UINT64_MAX, &cmd->size) < 0)
		return fail(ps, &E_BDAT_SYNTAX);
	if (p == end)
		return 0;
	if (*p != ' ')
		return fail(ps, &E_BDAT_SYNTAX);
	while (p < end && *p == ' ')
		p++;
	if (!str_case_eq_n(p, (size_t)(end - p), "LAST"))
		return fail(ps, &E_BDAT_SYNTAX);
	cmd->bdat_last = true;
	return 0;
}

static bool is_base64_char(unsigned char c)
{
	return is_let_dig(c) || c == '+' || c == '/';
}

/* RFC 4648 base64 with padding, non-empty. */
static bool is_base64(const char *p, const char *end)
{
	size_t n = (size_t)(end - p), pad = 0, i;

	if (n == 0 || n % 4 != 0)
		return false;
	if (end[-1] == '=')
		pad = end[-2] == '=' ? 2 : 1;
	for (i = 0; i < n - pad; i++) {
		if (!is_base64_char((unsigned char)p[i]))
			return false;
	}
	return true;
}

/* AUTH SP sasl-mech [SP initial-response], initial-response = base64 / "=" */
static int parse_auth(struct parser *ps, const char *p, const char *end)
{
	struct smtp_command *cmd = ps->cmd;
	char mech[SMTP_MAX_SASL_MECH];
	const char *m = p;
	size_t n = 0;

	while (p < end && *p != ' ') {
		unsigned char c = (unsigned char)*p++;

		if (n == sizeof(mech) || !(is_let_dig(c) || c == '-' || c == '_'))
			return fail(ps, &E_AUTH_SYNTAX);
		mech[n++] = (char)to_upper(c);
	}
	if (p == m)
		return fail(ps, &E_AUTH_SYNTAX);
	cmd->arg = store(cmd, mech, n);
	while (p < end && *p == ' ')
		p++;
	if (p == end)
		return 0;
	if (memchr(p, ' ', (size_t)(end - p)) != NULL)
		return fail(ps, &E_AUTH_SYNTAX);
	if (end - p == 1 && *p == '=') {
		cmd->auth_response = store(cmd, "", 0);
		return 0;
	}
	if (!is_base64(p, end))
		return fail(ps, &E_AUTH_BASE64);
	cmd->auth_response = store(cmd, p, (size_t)(end - p));
	return 0;
}

/* --- entry points --- */

void smtp_command_init(struct smtp_command *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	buf_init(&cmd->storage, 0);
}

void smtp_command_free(struct smtp_command *cmd)
{
	struct buf storage = cmd->storage;

	buf_free(&storage);
	smtp_command_init(cmd);
}

const char *smtp_verb_name(enum smtp_verb verb)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (verbs[i].verb == verb)
			return verbs[i].name;
	}
	return "UNKNOWN";
}

/* Clear the previous result but keep the storage memory. */
static void command_reset(struct smtp_command *cmd)
{
	struct buf storage = cmd->storage;

	memset(cmd, 0, sizeof(*cmd));
	cmd->storage = storage;
	buf_reset(&cmd->storage);
}

static int dispatch(struct parser *ps, const char *p, const char *end)
{
	switch (ps->cmd->verb) {
	case SMTP_VERB_HELO:
	case SMTP_VERB_EHLO:
	case SMTP_VERB_LHLO:
		return parse_helo(ps, p, end);
	case SMTP_VERB_MAIL:
	case SMTP_VERB_RCPT:
		return parse_mail_rcpt(ps, p, end);
	case SMTP_VERB_DATA:
	case SMTP_VERB_RSET:
	case SMTP_VERB_QUIT:
	case SMTP_VERB_STARTTLS:
		return p == end ? 0 : fail(ps, &E_NO_PARAMS);
	case SMTP_VERB_NOOP:
	case SMTP_VERB_HELP:
		return parse_optional_text(ps, p, end);
	case SMTP_VERB_VRFY:
	case SMTP_VERB_EXPN:
		return parse_vrfy(ps, p, end);
	case SMTP_VERB_BDAT:
		return p == end ? fail(ps, &E_BDAT_SYNTAX) : parse_bdat(ps, p, end);
	case SMTP_VERB_AUTH:
		return parse_auth(ps, p, end);
	case SMTP_VERB_UNKNOWN:
		break;
	}
	return fail(ps, &E_UNRECOGNIZED);
}

int smtp_command_parse(const char *line, size_t len, const struct smtp_parse_opts *opts,
		       struct smtp_command *cmd, const char **error_r)
{
	static const struct smtp_parse_opts all = { .extensions = SMTP_EXT_ALL, .utf8 = false };
	struct parser ps = { .cmd = cmd, .opts = opts != NULL ? opts : &all, .err = NULL };
	const char *p = line, *end = line + len, *verb_end, *q;
	size_t i;

	command_reset(cmd);
	/* Every stored string is a piece of the line, each piece stored at
	   most twice (raw and decoded), plus a NUL per string. */
	if (len > (SIZE_MAX - 256) / 3 || buf_reserve(&cmd->storage, 3 * len + 256) < 0)
		abort();

	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	verb_end = p;
	while (verb_end < end && *verb_end != ' ')
		verb_end++;
	for (i = 0; i < ARRAY_SIZE(verbs); i++) {
		if (str_case_eq_n(p, (size_t)(verb_end - p), verbs[i].name)) {
			cmd->verb = verbs[i].verb;
			break;
		}
	}
	if (cmd->verb == SMTP_VERB_UNKNOWN)
		fail(&ps, &E_UNRECOGNIZED);
	else {
		for (q = verb_end; q < end; q++) {
			unsigned char c = (unsigned char)*q;

			if (c < 32 || c == 127)
				break;
		}
		p = verb_end;
		while (p < end && *p == ' ')
			p++;
		if (q < end)
			fail(&ps, &E_BAD_CHAR);
		else
			dispatch(&ps, p, end);
	}
	if (ps.err != NULL) {
		cmd->error_code = ps.err->code;
		cmd->error_enhanced = ps.err->enhanced;
		*error_r = ps.err->text;
		return -1;
	}
	return 0;
}

int smtp_address_split(const char *addr, size_t len, bool utf8, struct buf *out,
		       const char **local_r, const char **domain_r, const char **error_r)
{
	char local[SMTP_MAX_LOCAL_PART];
	struct mb_span m;
	size_t n, domain_off, i;

	if (len > SMTP_MAX_PATH - 2) {
		*error_r = "Address too long";
		return -1;
	}
	switch (parse_mailbox(addr, addr + len, utf8, &m)) {
	case MB_OK:
		break;
	case MB_LENGTH:
		*error_r = "Address too long";
		return -1;
	case MB_NON_ASCII:
		*error_r = "Non-ASCII address requires SMTPUTF8";
		return -1;
	case MB_SYNTAX:
	default:
		*error_r = "Bad address syntax";
		return -1;
	}
	buf_reset(out);
	if (buf_reserve(out, len + 2) < 0) {
		*error_r = "Address too long";
		return -1;
	}
	n = decode_local(&m, local);
	buf_append(out, local, n);
	buf_append(out, "", 1);
	domain_off = out->len;
	buf_append(out, m.domain, (size_t)(m.domain_end - m.domain));
	for (i = domain_off; i < out->len; i++) {
		if (out->data[i] >= 'A' && out->data[i] <= 'Z')
			out->data[i] = (char)(out->data[i] + 32);
	}
	*local_r = out->data;
	*domain_r = out->data + domain_off;
	return m.literal == SMTP_LITERAL_NONE ? 1 : 0;
}
