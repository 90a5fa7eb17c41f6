/* HTML to plain text (see html_text.h): a small tokenizer after the HTML
 * standard's ("13.2.5 Tokenization") outline: text runs, character
 * references, start and end tags with attributes (quotes honoured),
 * comments, bogus comments and raw-text elements. No tree is built: block
 * tags become line breaks, everything else disappears. */
#include "autoconf.h"
#include "html_text.h"

#include <string.h>

void html_append_codepoint(struct buf *out, uint32_t cp)
{
	char b[4];

	if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) {
		b[0] = (char)cp;
		buf_append(out, b, 1);
	} else if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		buf_append(out, b, 4);
	}
}

/* The named references that occur in mail (the full HTML list has 2,231;
 * an unknown name is left as written, which only costs search recall). */
static const struct {
	const char *name;
	uint32_t cp;
	bool legacy;		/* also recognised without the ';' */
} entities[] = {
	{ "amp", '&', true }, { "lt", '<', true }, { "gt", '>', true },
	{ "quot", '"', true }, { "apos", '\'', false }, { "nbsp", ' ', true },
	{ "copy", 0xA9, true }, { "reg", 0xAE, true }, { "trade", 0x2122, false },
	{ "hellip", 0x2026, false }, { "mdash", 0x2014, false }, { "ndash", 0x2013, false },
	{ "laquo", 0xAB, false }, { "raquo", 0xBB, false }, { "euro", 0x20AC, false },
	{ "pound", 0xA3, false }, { "yen", 0xA5, false }, { "cent", 0xA2, false },
	{ "sect", 0xA7, false }, { "para", 0xB6, false }, { "deg", 0xB0, false },
	{ "plusmn", 0xB1, false }, { "times", 0xD7, false }, { "divide", 0xF7, false },
	{ "lsquo", 0x2018, false }, { "rsquo", 0x2019, false }, { "sbquo", 0x201A, false },
	{ "ldquo", 0x201C, false }, { "rdquo", 0x201D, false }, { "bdquo", 0x201E, false },
	{ "bull", 0x2022, false }, { "middot", 0xB7, false }, { "iexcl", 0xA1, false },
	{ "iquest", 0xBF, false }, { "shy", 0xAD, false }, { "zwnj", 0x200C, false },
	{ "zwj", 0x200D, false }, { "ensp", 0x2002, false }, { "emsp", 0x2003, false },
	{ "thinsp", 0x2009, false },
	{ "Agrave", 0xC0, false }, { "Aacute", 0xC1, false }, { "Acirc", 0xC2, false },
	{ "Atilde", 0xC3, false }, { "Auml", 0xC4, false }, { "Aring", 0xC5, false },
	{ "AElig", 0xC6, false }, { "Ccedil", 0xC7, false }, { "Egrave", 0xC8, false },
	{ "Eacute", 0xC9, false }, { "Ecirc", 0xCA, false }, { "Euml", 0xCB, false },
	{ "Igrave", 0xCC, false }, { "Iacute", 0xCD, false }, { "Icirc", 0xCE, false },
	{ "Iuml", 0xCF, false }, { "Ntilde", 0xD1, false }, { "Ograve", 0xD2, false },
	{ "Oacute", 0xD3, false }, { "Ocirc", 0xD4, false }, { "Otilde", 0xD5, false },
	{ "Ouml", 0xD6, false }, { "Oslash", 0xD8, false }, { "Ugrave", 0xD9, false },
	{ "Uacute", 0xDA, false }, { "Ucirc", 0xDB, false }, { "Uuml", 0xDC, false },
	{ "Yacute", 0xDD, false }, { "szlig", 0xDF, false }, { "agrave", 0xE0, false },
	{ "aacute", 0xE1, false }, { "acirc", 0xE2, false }, { "atilde", 0xE3, false },
	{ "auml", 0xE4, false }, { "aring", 0xE5, false }, { "aelig", 0xE6, false },
	{ "ccedil", 0xE7, false }, { "egrave", 0xE8, false }, { "eacute", 0xE9, false },
	{ "ecirc", 0xEA, false }, { "euml", 0xEB, false }, { "igrave", 0xEC, false },
	{ "iacute", 0xED, false }, { "icirc", 0xEE, false }, { "iuml", 0xEF, false },
	{ "ntilde", 0xF1, false }, { "ograve", 0xF2, false }, { "oacute", 0xF3, false },
	{ "ocirc", 0xF4, false }, { "otilde", 0xF5, false }, { "ouml", 0xF6, false },
	{ "oslash", 0xF8, false }, { "ugrave", 0xF9, false }, { "uacute", 0xFA, false },
	{ "ucirc", 0xFB, false }, { "uuml", 0xFC, false }, { "yacute", 0xFD, false },
	{ "yuml", 0xFF, false }, { "OElig", 0x152, false }, { "oelig", 0x153, false },
	{ "Scaron", 0x160, false }, { "scaron", 0x161, false }, { "Yuml", 0x178, false },
};

/* HTML maps numeric references 0x80-0x9F as if they were windows-1252
 * (HTML standard 13.2.5.80); 0 marks the five undefined positions. */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_alnum(char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9');
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Decode the character reference at s[0] == '&' (n bytes available).
 * Returns the bytes consumed, or 0 when it is not one (the '&' is text). */
static size_t decode_reference(const char *s, size_t n, struct buf *out)
{
	size_t i = 1;

	if (n >= 3 && s[1] == '#') {
		bool hex = s[2] == 'x' || s[2] == 'X';
		uint32_t cp = 0;
		size_t digits = 0;

		i = hex ? 3 : 2;
		for (; i < n; i++, digits++) {
			char c = s[i];
			uint32_t d;

			if (c >= '0' && c <= '9')
				d = (uint32_t)(c - '0');
			else if (hex && c >= 'a' && c <= 'f')
				d = (uint32_t)(c - 'a' + 10);
			else if (hex && c >= 'A' && c <= 'F')
				d = (uint32_t)(c - 'A' + 10);
			else
				break;
			/* Saturate: any overlong number is out of range. */
			cp = cp > 0x10FFFF ? 0x110000 : cp * (hex ? 16 : 10) + d;
		}
		if (digits == 0)
			return 0;
		if (i < n && s[i] == ';')
			i++;
		if (cp >= 0x80 && cp <= 0x9F && cp1252_c1[cp - 0x80] != 0)
			cp = cp1252_c1[cp - 0x80];
		html_append_codepoint(out, cp);
		return i;
	}
	while (i < n && i <= 8 && is_alnum(s[i]))
		i++;
	size_t nlen = i - 1;
	bool semi = i < n && s[i] == ';';

	if (nlen == 0)
		return 0;
	for (size_t k = 0; k < ARRAY_SIZE(entities); k++) {
		size_t elen = strlen(entities[k].name);

		if (memcmp(entities[k].name, s + 1, elen < nlen ? elen : nlen) != 0)
			continue;
		if (elen == nlen && semi) {
			html_append_codepoint(out, entities[k].cp);
			return i + 1;
		}
		/* "&ampx" is "&" "x" for the legacy names (not inside a longer
		 * name that was ended by ';', like "&ampx;"). */
		if (entities[k].legacy && elen <= nlen && !(semi && elen < nlen)) {
			html_append_codepoint(out, entities[k].cp);
			return 1 + elen;
		}
	}
	return 0;
}

/* The length of the tag name at p (letters, digits, '-', ':'). */
static size_t tag_name_len(const char *p, const char *end)
{
	const char *n = p;

	while (n < end && (is_alnum(*n) || *n == '-' || *n == ':'))
		n++;
	return (size_t)(n - p);
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && str_ncasecmp(name, want, len) == 0;
}

/* Skip the attributes of a tag starting at p; returns the position after
 * its '>' (end if there is none). A '>' inside a quoted value does not end
 * the tag; quotes count only where an attribute value starts. */
static const char *skip_attributes(const char *p, const char *end)
{
	while (p < end) {
		char c = *p;

		if (c == '>')
			return p + 1;
		if (c != '=') {
			p++;
			continue;
		}
		p++;
		while (p < end && is_space(*p))
			p++;
		if (p < end && (*p == '"' || *p == '\'')) {
			const char *q = memchr(p + 1, *p, (size_t)(end - p - 1));

			p = q != NULL ? q + 1 : end;
		}
	}
	return end;
}

/* Find the end tag "</name" followed by space, '/' or '>' in [p, end);
 * returns its '<', or end. */
static const char *find_end_tag(const char *p, const char *end, const char *name)
{
	size_t nl = strlen(name);

	while (p < end) {
		const char *lt = memchr(p, '<', (size_t)(end - p));

		if (lt == NULL)
			return end;
		if ((size_t)(end - lt) >= nl + 2 && lt[1] == '/' &&
		    str_ncasecmp(lt + 2, name, nl) == 0 &&
		    (lt + 2 + nl == end || is_space(lt[2 + nl]) || lt[2 + nl] == '/' ||
		     lt[2 + nl] == '>'))
			return lt;
		p = lt + 1;
	}
	return end;
}

/* Elements whose content is not shown. */
static const char *const hidden[] = { "script", "style", "template", "noscript" };

/* Tags that break a line (start or end tag). */
static const char *const block[] = {
	"address", "article", "aside", "blockquote", "br", "center", "dd", "details",
	"dialog", "dir", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer",
	"form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "menu",
	"nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead",
	"title", "tr", "ul", "body", "html", "head",
};

static void tag_text(const char *name, size_t len, struct buf *out)
{
	if (name_is(name, len, "td") || name_is(name, len, "th")) {
		buf_append(out, "\t", 1);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(block); i++) {
		if (name_is(name, len, block[i])) {
			buf_append(out, "\n", 1);
			return;
		}
	}
}

void html_text(const char *s, size_t len, struct buf *out)
{
	const char *p = s, *end = s + len;

	while (p < end) {
		const char *run = p;

		while (p < end && *p != '<' && *p != '&')
			p++;
		buf_append(out, run, (size_t)(p - run));
		if (p >= end)
			break;
		size_t left = (size_t)(end - p);
		if (*p == '&') {
			size_t used = decode_reference(p, left, out);

			if (used == 0) {
				buf_append(out, "&", 1);
				used = 1;
			}
			p += used;
			continue;
		}
		/* '<' */
		if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
			/* "<!-->" and "<!--->" end at once (abrupt closing). */
			const void *e = memmem(p + 2, left - 2, "-->", 3);

			p = e != NULL ? (const char *)e + 3 : end;
			continue;
		}
		if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
			const void *e = memmem(p + 9, left - 9, "]]>", 3);

			p = e != NULL ? (const char *)e + 3 : end;
			continue;
		}
		if (left >= 2 && (p[1] == '!' || p[1] == '?' ||
				  (p[1] == '/' && left > 2 && !is_alpha(p[2])))) {
			/* Declarations, processing instructions, "</>", "</ x>":
			 * bogus comments up to the next '>'. */
			const char *gt = memchr(p + 1, '>', left - 1);

			p = gt != NULL ? gt + 1 : end;
			continue;
		}
		bool closing = left >= 2 && p[1] == '/';
		const char *name = p + (closing ? 2 : 1);
		if (name >= end || !is_alpha(*name)) {
			buf_append(out, "<", 1);	/* "a < b" */
			p++;
			continue;
		}
		size_t nlen = tag_name_len(name, end);
		p = skip_attributes(name + nlen, end);
		tag_text(name, nlen, out);
		if (closing)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(hidden); i++) {
			if (name_is(name, nlen, hidden[i])) {
				const char *c = find_end_tag(p, end, hidden[i]);

				p = c < end ? skip_attributes(c + 2, end) : end;
				break;
			}
		}
	}
}
