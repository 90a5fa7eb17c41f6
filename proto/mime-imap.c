/* What IMAP needs from a parsed message: ENVELOPE (with the RFC 5322
 * address-list parser, groups included), BODY and BODYSTRUCTURE per RFC 3501
 * 7.4.2 / RFC 9051 7.5.2, FETCH section addressing (RFC 3501 6.4.5) and
 * decoded header values. The readable text of a message for search and
 * PREVIEW is mime-text.c's. */
#include "autoconf.h"
#include "mime-private.h"

#include <string.h>

#define EMPTY_BODY "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0)"
/* The same with the extension data BODYSTRUCTURE carries (as Dovecot sends). */
#define EMPTY_BODY_EXT "(\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" 0 0 NIL NIL NIL NIL)"
#define EMPTY_ENVELOPE "(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)"

static inline bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* ---- IMAP strings ---- */

/* A quoted string when RFC 3501 allows one (7-bit, no CR/LF), else a
 * literal. NUL bytes, which IMAP cannot carry in either, are dropped. */
static void imap_string(struct buf *out, const char *s, size_t len)
{
	bool literal = false;
	size_t nuls = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n' || c >= 0x80)
			literal = true;
		else if (c == 0)
			nuls++;
	}
	if (literal) {
		buf_printf(out, "{%zu}\r\n", len - nuls);
		if (nuls == 0) {
			buf_append(out, s, len);
			return;
		}
		for (size_t i = 0; i < len; i++)
			if (s[i] != '\0')
				buf_append(out, &s[i], 1);
		return;
	}
	buf_append(out, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\0') {
			buf_append(out, s + run, i - run);
			if (s[i] != '\0') {
				buf_append(out, "\\", 1);
				buf_append(out, &s[i], 1);
			}
			run = i + 1;
		}
	}
	buf_append(out, s + run, len - run);
	buf_append(out, "\"", 1);
}

static void imap_cstring(struct buf *out, const char *s)
{
	imap_string(out, s, strlen(s));
}

static void imap_nstring(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_append_str(out, "NIL");
	else
		imap_cstring(out, s);
}

/* ---- addresses (RFC 5322 3.4, RFC 3501 envelope rules) ---- */

static bool is_atext(char c)
{
	unsigned char u = (unsigned char)c;

	if (u <= ' ' || u == 127)
		return false;
	/* '.' is allowed: obs-phrase, and dot-atoms read as one run. */
	return strchr("()<>[]:;@\\,\"", c) == NULL;
}

struct addr_ctx {
	struct buf name, route, local, domain, comment, word;
	struct buf *out;
	size_t count;
};

static void emit_addr(struct addr_ctx *c, const struct buf *name, const struct buf *route,
		      const char *local, size_t local_len, const char *domain, size_t domain_len,
		      bool group_end)
{
	buf_append(c->out, "(", 1);
	if (name != NULL && name->len > 0)
		imap_string(c->out, name->data, name->len);
	else
		buf_append_str(c->out, "NIL");
	buf_append(c->out, " ", 1);
	if (route != NULL && route->len > 0)
		imap_string(c->out, route->data, route->len);
	else
		buf_append_str(c->out, "NIL");
	buf_append(c->out, " ", 1);
	if (group_end)
		buf_append_str(c->out, "NIL");
	else
		imap_string(c->out, local, local_len);
	buf_append(c->out, " ", 1);
	if (domain != NULL)
		imap_string(c->out, domain, domain_len);
	else
		buf_append_str(c->out, "NIL");
	buf_append(c->out, ")", 1);
	c->count++;
}

/* Read words (atoms and quoted strings) into name (space-separated) and
 * local (concatenated, as a local-part). Returns how many. */
static size_t read_phrase(struct addr_ctx *c, const char **pp, const char *end,
			  struct buf *name)
{
	const char *p = *pp;
	size_t words = 0;

	for (;;) {
		mime_skip_cfws(&p, end, &c->comment);
		if (p >= end)
			break;
		buf_reset(&c->word);
		if (*p == '"') {
			mime_read_quoted(&p, end, &c->word);
		} else if (is_atext(*p)) {
			const char *s = p;

			while (p < end && is_atext(*p))
				p++;
			buf_append(&c->word, s, (size_t)(p - s));
		} else {
			break;
		}
		if (name != NULL) {
			if (words > 0)
				buf_append(name, " ", 1);
			buf_append(name, c->word.data, c->word.len);
		}
		buf_append(&c->local, c->word.data, c->word.len);
		words++;
	}
	*pp = p;
	return words;
}

static void read_domain(struct addr_ctx *c, const char **pp, const char *end)
{
	const char *p = *pp;

	for (;;) {
		mime_skip_cfws(&p, end, &c->comment);
		if (p >= end)
			break;
		if (*p == '[') {
			const char *s = p;
			const char *e = memchr(p, ']', (size_t)(end - p));

			p = e != NULL ? e + 1 : end;
			for (; s < p; s++)
				if (!is_wsp(*s) && *s != '\r' && *s != '\n')
					buf_append(&c->domain, s, 1);
		} else if (is_atext(*p)) {
			const char *s = p;

			while (p < end && is_atext(*p))
				p++;
			buf_append(&c->domain, s, (size_t)(p - s));
		} else {
			break;
		}
	}
	*pp = p;
}

/* Skip to the next ',' (or ';' ending a group), over quoted strings. */
static void skip_to_separator(const char **pp, const char *end)
{
	const char *p = *pp;
	struct buf junk;

	buf_init(&junk, 1);
	while (p < end && *p != ',' && *p != ';') {
		if (*p == '"') {
			buf_reset(&junk);
			mime_read_quoted(&p, end, &junk);
		} else if (*p == '(') {
			mime_skip_cfws(&p, end, NULL);
		} else {
			p++;
		}
	}
	buf_free(&junk);
	*pp = p;
}

static void parse_angle(struct addr_ctx *c, const char **pp, const char *end)
{
	const char *p = *pp + 1;

	mime_skip_cfws(&p, end, NULL);
	if (p < end && *p == '@') {
		/* obs-route: "@a,@b:" */
		while (p < end && *p != ':' && *p != '>') {
			if (!is_wsp(*p) && *p != '\r' && *p != '\n')
				buf_append(&c->route, p, 1);
			p++;
		}
		if (p < end && *p == ':')
			p++;
	}
	read_phrase(c, &p, end, NULL);	/* the local part */
	mime_skip_cfws(&p, end, NULL);
	if (p < end && *p == '@') {
		p++;
		read_domain(c, &p, end);
	}
	while (p < end && *p != '>' && *p != ',' && *p != ';')
		p++;
	if (p < end && *p == '>')
		p++;
	*pp = p;
}

/* Render the address list in [p, end) as RFC 3501 address structures into
 * c->out; returns how many structures were written. */
static size_t render_addresses(struct addr_ctx *c, const char *p, const char *end)
{
	bool in_group = false;

	c->count = 0;
	while (p < end) {
		mime_skip_cfws(&p, end, NULL);
		if (p >= end)
			break;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == ';') {
			p++;
			if (in_group)
				emit_addr(c, NULL, NULL, NULL, 0, NULL, 0, true);
			in_group = false;
			continue;
		}
		buf_reset(&c->name);
		buf_reset(&c->route);
		buf_reset(&c->local);
		buf_reset(&c->domain);
		buf_reset(&c->comment);
		const char *before = p;
		size_t words = read_phrase(c, &p, end, &c->name);
		char ch = p < end ? *p : '\0';

		if (ch == ':' && !in_group) {
			p++;
			emit_addr(c, NULL, NULL, c->name.data ? c->name.data : "", c->name.len,
				  NULL, 0, false);
			in_group = true;
			continue;
		}
		if (ch == '<') {
			buf_reset(&c->local);
			parse_angle(c, &p, end);
			if (c->local.len > 0 || c->domain.len > 0 || c->name.len > 0)
				emit_addr(c, &c->name, &c->route,
					  c->local.data ? c->local.data : "", c->local.len,
					  c->domain.data ? c->domain.data : "", c->domain.len, false);
			skip_to_separator(&p, end);
			continue;
		}
		if (ch == '@') {
			p++;
			read_domain(c, &p, end);
			if (c->local.len > 0 || c->domain.len > 0)
				emit_addr(c, &c->comment, NULL, c->local.data ? c->local.data : "",
					  c->local.len, c->domain.data ? c->domain.data : "",
					  c->domain.len, false);
			skip_to_separator(&p, end);
			continue;
		}
		if (words > 0)
			emit_addr(c, &c->comment, NULL, c->local.data, c->local.len, "", 0, false);
		if (p < end && *p != ',' && *p != ';')
			skip_to_separator(&p, end);
		if (p == before && p < end && *p != ',' && *p != ';')
			p++;	/* never loop without progress */
	}
	if (in_group)
		emit_addr(c, NULL, NULL, NULL, 0, NULL, 0, true);
	return c->count;
}

/* Append an env-address field: "(" 1*address ")" or NIL. Returns whether
 * any address was written. */
static bool envelope_addresses(const struct mime_part *part, const char *name, struct buf *out)
{
	const struct mime_header *h = mime_find_header(part, name);
	struct addr_ctx c;
	struct buf value, list;
	size_t n;

	if (h == NULL)
		return false;
	memset(&c, 0, sizeof(c));
	buf_init(&value, 0);
	buf_init(&list, 0);
	mime_field_value(part->msg->raw, h, &value);
	c.out = &list;
	n = render_addresses(&c, value.data ? value.data : "", (value.data ? value.data : "") + value.len);
	if (n > 0) {
		buf_append(out, "(", 1);
		buf_append(out, list.data, list.len);
		buf_append(out, ")", 1);
	}
	buf_free(&c.name);
	buf_free(&c.route);
	buf_free(&c.local);
	buf_free(&c.domain);
	buf_free(&c.comment);
	buf_free(&c.word);
	buf_free(&value);
	buf_free(&list);
	return n > 0;
}

static void envelope_string(const struct mime_part *part, const char *name, struct buf *out)
{
	const struct mime_header *h = mime_find_header(part, name);
	struct buf v;

	if (h == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_init(&v, 0);
	mime_field_value(part->msg->raw, h, &v);
	imap_string(out, v.data ? v.data : "", v.len);
	buf_free(&v);
}

void mime_envelope(const struct mime_part *part, struct buf *out)
{
	static const char *const addr_fields[] = { "To", "Cc", "Bcc" };

	buf_append(out, "(", 1);
	envelope_string(part, "Date", out);
	buf_append(out, " ", 1);
	envelope_string(part, "Subject", out);
	buf_append(out, " ", 1);
	size_t from_at = out->len;
	bool have_from = envelope_addresses(part, "From", out);
	size_t from_len = out->len - from_at;
	if (!have_from)
		buf_append_str(out, "NIL");
	/* RFC 3501: absent or empty Sender and Reply-To default to From. */
	for (int i = 0; i < 2; i++) {
		buf_append(out, " ", 1);
		if (envelope_addresses(part, i == 0 ? "Sender" : "Reply-To", out))
			continue;
		if (have_from) {
			/* out may move while growing: copy by offset. */
			buf_reserve(out, from_len);
			buf_append(out, out->data + from_at, from_len);
		} else {
			buf_append_str(out, "NIL");
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(addr_fields); i++) {
		buf_append(out, " ", 1);
		if (!envelope_addresses(part, addr_fields[i], out))
			buf_append_str(out, "NIL");
	}
	buf_append(out, " ", 1);
	envelope_string(part, "In-Reply-To", out);
	buf_append(out, " ", 1);
	envelope_string(part, "Message-ID", out);
	buf_append(out, ")", 1);
}

/* ---- BODY / BODYSTRUCTURE ---- */

static void write_params(struct buf *out, const struct mime_param *params, size_t count)
{
	if (count == 0) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append(out, "(", 1);
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			buf_append(out, " ", 1);
		imap_cstring(out, params[i].name);
		buf_append(out, " ", 1);
		imap_cstring(out, params[i].value);
	}
	buf_append(out, ")", 1);
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void write_ext_tail(struct buf *out, const struct mime_part *part)
{
	buf_append(out, " ", 1);
	if (part->disposition == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_append(out, "(", 1);
		imap_cstring(out, part->disposition);
		buf_append(out, " ", 1);
		write_params(out, part->imap_disp_params, part->imap_disp_param_count);
		buf_append(out, ")", 1);
	}
	buf_append(out, " ", 1);
	if (part->language_count == 0) {
		buf_append_str(out, "NIL");
	} else {
		buf_append(out, "(", 1);
		for (size_t i = 0; i < part->language_count; i++) {
			if (i > 0)
				buf_append(out, " ", 1);
			imap_cstring(out, part->languages[i]);
		}
		buf_append(out, ")", 1);
	}
	buf_append(out, " ", 1);
	imap_nstring(out, part->location);
}

static bool is_message(const struct mime_part *part)
{
	return strcmp(part->type, "message") == 0 &&
		(strcmp(part->subtype, "rfc822") == 0 || strcmp(part->subtype, "global") == 0);
}

static void write_body(const struct mime_part *part, bool ext, struct buf *out)
{
	buf_append(out, "(", 1);
	if (strcmp(part->type, "multipart") == 0) {
		if (part->child_count == 0)
			buf_append_str(out, ext ? EMPTY_BODY_EXT : EMPTY_BODY);	/* 1*body */
		for (size_t i = 0; i < part->child_count; i++)
			write_body(&part->children[i], ext, out);
		buf_append(out, " ", 1);
		imap_cstring(out, part->subtype);
		if (ext) {
			buf_append(out, " ", 1);
			write_params(out, part->imap_params, part->imap_param_count);
			write_ext_tail(out, part);
		}
		buf_append(out, ")", 1);
		return;
	}
	imap_cstring(out, part->type);
	buf_append(out, " ", 1);
	imap_cstring(out, part->subtype);
	buf_append(out, " ", 1);
	write_params(out, part->imap_params, part->imap_param_count);
	buf_append(out, " ", 1);
	imap_nstring(out, part->id);
	buf_append(out, " ", 1);
	imap_nstring(out, part->description);
	buf_append(out, " ", 1);
	imap_cstring(out, part->encoding != NULL ? part->encoding : "7bit");
	buf_printf(out, " %zu", part->body_len);
	if (strcmp(part->type, "text") == 0) {
		buf_printf(out, " %zu", part->body_lines);
	} else if (is_message(part)) {
		buf_append(out, " ", 1);
		if (part->message != NULL) {
			mime_envelope(part->message, out);
			buf_append(out, " ", 1);
			write_body(part->message, ext, out);
		} else {
			buf_append_str(out, ext ? EMPTY_ENVELOPE " " EMPTY_BODY_EXT :
					   EMPTY_ENVELOPE " " EMPTY_BODY);
		}
		buf_printf(out, " %zu", part->body_lines);
	}
	if (ext) {
		buf_append(out, " ", 1);
		imap_nstring(out, part->md5);
		write_ext_tail(out, part);
	}
	buf_append(out, ")", 1);
}

void mime_bodystructure(const struct mime_part *part, bool extended, struct buf *out)
{
	write_body(part, extended, out);
}

/* ---- sections (RFC 3501 6.4.5) ---- */

static const struct mime_part *multipart_child(const struct mime_part *p, unsigned n)
{
	return n >= 1 && n <= p->child_count ? &p->children[n - 1] : NULL;
}

/* Part n of a message: its body's parts, or part 1 = the body itself. */
static const struct mime_part *message_child(const struct mime_part *m, unsigned n)
{
	if (strcmp(m->type, "multipart") == 0)
		return multipart_child(m, n);
	return n == 1 ? m : NULL;
}

static const struct mime_part *resolve(const struct mime_message *msg,
				       const struct mime_section *s)
{
	const struct mime_part *p = &msg->root;

	if (s->path_len > ARRAY_SIZE(s->path))
		return NULL;
	for (unsigned i = 0; i < s->path_len && p != NULL; i++) {
		if (i == 0)
			p = message_child(p, s->path[i]);
		else if (strcmp(p->type, "multipart") == 0)
			p = multipart_child(p, s->path[i]);
		else if (p->message != NULL)
			p = message_child(p->message, s->path[i]);
		else
			p = NULL;
	}
	return p;
}

static bool field_listed(const struct mime_section *s, const char *name)
{
	for (size_t i = 0; i < s->field_count; i++) {
		if (s->fields[i] != NULL && str_casecmp(s->fields[i], name) == 0)
			return true;
	}
	return false;
}

static void append_fields(const struct mime_message *msg, const struct mime_part *m,
			  const struct mime_section *s, struct buf *out)
{
	bool not = s->kind == MIME_SECTION_HEADER_FIELDS_NOT;
	const char *eol = "\r\n";
	const char *hdr = msg->raw + m->header_offset;

	if (m->header_len > 0 && hdr[m->header_len - 1] == '\n' &&
	    (m->header_len < 2 || hdr[m->header_len - 2] != '\r'))
		eol = "\n";
	for (size_t i = 0; i < m->header_count; i++) {
		const struct mime_header *h = &m->headers[i];

		if (field_listed(s, h->name) == not)
			continue;
		buf_append(out, msg->raw + h->offset, h->len);
		if (h->len == 0 || msg->raw[h->offset + h->len - 1] != '\n')
			buf_append_str(out, eol);
	}
	buf_append_str(out, eol);
}

int mime_section_fetch(const struct mime_message *msg, const struct mime_section *section,
		       struct buf *out)
{
	const struct mime_part *p = resolve(msg, section);

	if (p == NULL)
		return -1;
	const struct mime_part *m = p->message != NULL && section->path_len > 0 ? p->message : p;
	switch (section->kind) {
	case MIME_SECTION_ALL:
		if (section->path_len == 0)
			buf_append(out, msg->raw, msg->size);
		else
			buf_append(out, msg->raw + p->body_offset, p->body_len);
		return 0;
	case MIME_SECTION_MIME:
		if (section->path_len == 0)
			return -1;
		buf_append(out, msg->raw + p->header_offset, p->header_len);
		return 0;
	case MIME_SECTION_HEADER:
		buf_append(out, msg->raw + m->header_offset, m->header_len);
		return 0;
	case MIME_SECTION_TEXT:
		buf_append(out, msg->raw + m->body_offset, m->body_len);
		return 0;
	case MIME_SECTION_HEADER_FIELDS:
	case MIME_SECTION_HEADER_FIELDS_NOT:
		append_fields(msg, m, section, out);
		return 0;
	}
	return -1;
}

int mime_section_fetch_binary(const struct mime_message *msg, const struct mime_section *section,
			      struct buf *out)
{
	if (section->kind != MIME_SECTION_ALL || section->path_len == 0)
		return mime_section_fetch(msg, section, out);
	const struct mime_part *p = resolve(msg, section);
	if (p == NULL)
		return -1;
	return mime_decode_part_body(p, out) < 0 ? -2 : 0;
}

/* ---- header values ---- */

int mime_header_raw(const struct mime_message *msg, const struct mime_part *part,
		    const char *name, struct buf *out)
{
	const struct mime_header *h = mime_find_header(part, name);

	if (h == NULL)
		return -1;
	mime_field_value(msg->raw, h, out);
	return 0;
}

int mime_header_decoded_nth(const struct mime_message *msg, const struct mime_part *part,
			    const char *name, size_t nth, struct buf *out)
{
	for (size_t i = 0; i < part->header_count; i++) {
		if (str_casecmp(part->headers[i].name, name) != 0 || nth-- > 0)
			continue;
		struct buf raw;
		buf_init(&raw, 0);
		mime_field_value(msg->raw, &part->headers[i], &raw);
		mime_decode_words(raw.data ? raw.data : "", raw.len, out);
		buf_free(&raw);
		return 0;
	}
	return -1;
}

int mime_header_decoded(const struct mime_message *msg, const struct mime_part *part,
			const char *name, struct buf *out)
{
	const struct mime_header *h = mime_find_header(part, name);
	struct buf raw;

	if (h == NULL)
		return -1;
	buf_init(&raw, 0);
	mime_field_value(msg->raw, h, &raw);
	mime_decode_words(raw.data ? raw.data : "", raw.len, out);
	buf_free(&raw);
	return 0;
}
