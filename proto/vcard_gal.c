/* Directory entries as vCard 4.0 for the global address list (see
 * vcard_gal.h). The output is written in one canonical order so that an
 * unchanged entry gives the same bytes, hence the same ETag, at every sync. */
#include "vcard_gal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "vcard.h"

static const struct vcard_gal_attr *find_attr(const struct vcard_gal_src *src, const char *name)
{
	for (size_t i = 0; i < src->nattrs; i++)
		if (str_casecmp(src->attrs[i].name, name) == 0)
			return &src->attrs[i];
	return NULL;
}

/* Whether v is UTF-8 text without control characters (TAB and line ends
 * allowed: multi-line values are escaped as \n). */
static bool is_text(const struct vcard_gal_value *v)
{
	const unsigned char *s = (const unsigned char *)v->data;
	size_t i = 0, n = v->len;
	while (i < n) {
		unsigned char c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
				return false;
			i++;
			continue;
		}
		size_t len;
		uint32_t cp, min;
		if ((c & 0xe0) == 0xc0)
			len = 2, cp = c & 0x1f, min = 0x80;
		else if ((c & 0xf0) == 0xe0)
			len = 3, cp = c & 0x0f, min = 0x800;
		else if ((c & 0xf8) == 0xf0)
			len = 4, cp = c & 0x07, min = 0x10000;
		else
			return false;
		if (n - i < len)
			return false;
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

/* The first text value of the first listed attribute that has one, trimmed
 * (malloc'ed), or NULL. */
static char *first_text(const struct vcard_gal_src *src, const char *const *names)
{
	for (size_t k = 0; names != NULL && names[k] != NULL; k++) {
		const struct vcard_gal_attr *a = find_attr(src, names[k]);
		for (size_t i = 0; a != NULL && i < a->nvalues; i++) {
			if (!is_text(&a->values[i]))
				continue;
			char *s = xstrndup(a->values[i].data, a->values[i].len);
			char *t = str_trim(s);
			if (*t != '\0') {
				char *r = xstrdup(t);
				free(s);
				return r;
			}
			free(s);
		}
	}
	return NULL;
}

struct strset {
	char **v;
	size_t n;
};

static void strset_add(struct strset *s, char *x, bool fold)
{
	for (size_t i = 0; i < s->n; i++) {
		if (fold ? str_casecmp(s->v[i], x) == 0 : strcmp(s->v[i], x) == 0) {
			free(x);
			return;
		}
	}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(char *));
	s->v[s->n++] = x;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
}

/* Every text value of every listed attribute, each once. */
static void all_text(const struct vcard_gal_src *src, const char *const *names, bool fold,
		     struct strset *out)
{
	for (size_t k = 0; names != NULL && names[k] != NULL; k++) {
		const struct vcard_gal_attr *a = find_attr(src, names[k]);
		for (size_t i = 0; a != NULL && i < a->nvalues; i++) {
			if (!is_text(&a->values[i]))
				continue;
			char *s = xstrndup(a->values[i].data, a->values[i].len);
			char *t = str_trim(s);
			if (*t != '\0')
				strset_add(out, xstrdup(t), fold);
			free(s);
		}
	}
}

/* Append line folded at 75 octets, never inside a UTF-8 sequence. */
static void put_folded(struct buf *out, const struct buf *line)
{
	const char *s = line->data;
	size_t n = line->len, width = 75;
	while (n > width) {
		size_t cut = width;
		while (cut > 1 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
		buf_append(out, s, cut);
		buf_append(out, "\r\n ", 3);
		s += cut;
		n -= cut;
		width = 74;
	}
	buf_append(out, s, n);
	buf_append(out, "\r\n", 2);
}

/* NAME;params:text with text escaped. */
static void line_text(struct buf *out, const char *name, const char *params, const char *text)
{
	struct buf line;
	buf_init(&line, 0);
	buf_printf(&line, "%s%s:", name, params);
	vcard_text_escape(&line, text);
	put_folded(out, &line);
	buf_free(&line);
}

/* NAME:value with value already in its vCard form. */
static void line_raw(struct buf *out, const char *name, const char *value)
{
	struct buf line;
	buf_init(&line, 0);
	buf_printf(&line, "%s:%s", name, value);
	put_folded(out, &line);
	buf_free(&line);
}

static bool uri_ok(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int vcard_gal_build(const struct vcard_gal_map *map, const struct vcard_gal_src *src,
		    struct buf *out, const char **error_r)
{
	static const char *const kinds[] = { "individual", "group", "location", "device" };
	if (src->uid == NULL || !uri_ok(src->uid)) {
		*error_r = "entry without a usable UID";
		return -1;
	}
	char *fn = first_text(src, map->fn);
	char *sn = first_text(src, map->surname);
	char *gn = first_text(src, map->given_name);
	struct strset emails = { NULL, 0 };
	all_text(src, map->email, true, &emails);
	if (fn == NULL) {
		if (gn != NULL && sn != NULL)
			fn = xasprintf("%s %s", gn, sn);
		else if (sn != NULL || gn != NULL)
			fn = xstrdup(sn != NULL ? sn : gn);
		else if (emails.n > 0)
			fn = xstrdup(emails.v[0]);
	}
	if (fn == NULL) {
		free(sn);
		free(gn);
		strset_free(&emails);
		*error_r = "entry without a name or an address";
		return -1;
	}
	buf_append_str(out, "BEGIN:VCARD\r\nVERSION:4.0\r\nPRODID:-//Cairn//GAL//EN\r\n");
	line_raw(out, "UID", src->uid);
	line_raw(out, "KIND", kinds[src->kind]);
	line_text(out, "FN", "", fn);
	if (sn != NULL || gn != NULL) {
		struct buf n;
		buf_init(&n, 0);
		vcard_text_escape(&n, sn != NULL ? sn : "");
		buf_append(&n, ";", 1);
		vcard_text_escape(&n, gn != NULL ? gn : "");
		buf_append_str(&n, ";;;");
		line_raw(out, "N", n.data);
		buf_free(&n);
	}
	for (size_t i = 0; i < emails.n; i++)
		line_text(out, "EMAIL", i == 0 ? ";TYPE=work;PREF=1" : ";TYPE=work", emails.v[i]);
	struct strset tw = { NULL, 0 }, tc = { NULL, 0 };
	all_text(src, map->tel_work, false, &tw);
	all_text(src, map->tel_cell, false, &tc);
	for (size_t i = 0; i < tw.n; i++)
		line_text(out, "TEL", ";TYPE=work,voice", tw.v[i]);
	for (size_t i = 0; i < tc.n; i++)
		line_text(out, "TEL", ";TYPE=cell", tc.v[i]);
	char *org = first_text(src, map->org), *dept = first_text(src, map->department);
	if (org != NULL || dept != NULL) {
		struct buf o;
		buf_init(&o, 0);
		vcard_text_escape(&o, org != NULL ? org : "");
		if (dept != NULL) {
			buf_append(&o, ";", 1);
			vcard_text_escape(&o, dept);
		}
		line_raw(out, "ORG", o.data);
		buf_free(&o);
	}
	char *title = first_text(src, map->title);
	if (title != NULL)
		line_text(out, "TITLE", "", title);
	bool resource = src->kind == VCARD_GAL_LOCATION || src->kind == VCARD_GAL_DEVICE;
	char *loc = resource ? first_text(src, map->location) : NULL;
	if (loc != NULL) {
		struct buf a;
		buf_init(&a, 0);
		buf_append(&a, ";", 1);
		vcard_text_escape(&a, loc);
		buf_append_str(&a, ";;;;;");
		line_raw(out, "ADR;TYPE=work", a.data);
		buf_free(&a);
		free(loc);
	}
	char *cap = resource ? first_text(src, map->capacity) : NULL;
	if (cap != NULL && cap[0] != '\0' && strspn(cap, "0123456789") == strlen(cap) &&
	    strlen(cap) < 10 && strcmp(cap, "0") != 0) {
		struct buf nb;
		buf_init(&nb, 0);
		buf_printf(&nb, "Capacity: %s", cap);
		line_text(out, "NOTE", "", nb.data);
		buf_free(&nb);
		line_raw(out, "X-CAIRN-CAPACITY", cap);
	}
	free(cap);
	for (size_t k = 0; map->photo != NULL && map->photo[k] != NULL; k++) {
		const struct vcard_gal_attr *a = find_attr(src, map->photo[k]);
		if (a == NULL || a->nvalues == 0 || a->values[0].len == 0 ||
		    a->values[0].len > map->max_photo)
			continue;
		const struct vcard_gal_value *v = &a->values[0];
		const char *mt = "image/jpeg";
		if (v->len >= 8 && memcmp(v->data, "\x89PNG\r\n\x1a\n", 8) == 0)
			mt = "image/png";
		else if (v->len >= 6 && memcmp(v->data, "GIF8", 4) == 0)
			mt = "image/gif";
		struct buf p;
		buf_init(&p, 0);
		buf_printf(&p, "data:%s;base64,", mt);
		base64_encode(v->data, v->len, &p);
		line_raw(out, "PHOTO", p.data);
		buf_free(&p);
		break;
	}
	if (src->kind == VCARD_GAL_GROUP)
		for (size_t i = 0; i < src->nmembers; i++)
			if (uri_ok(src->members[i]))
				line_raw(out, "MEMBER", src->members[i]);
	buf_append_str(out, "END:VCARD\r\n");
	free(title);
	free(org);
	free(dept);
	strset_free(&tw);
	strset_free(&tc);
	strset_free(&emails);
	free(fn);
	free(sn);
	free(gn);
	return 0;
}

char **vcard_gal_names(const char *spec)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t n = 0;
	const char *s = spec != NULL ? spec : "";
	while (*s != '\0') {
		while (*s == ' ' || *s == ',' || *s == '\t')
			s++;
		const char *e = s;
		while (*e != '\0' && *e != ' ' && *e != ',' && *e != '\t')
			e++;
		if (e > s) {
			v = xrealloc(v, (n + 2) * sizeof(char *));
			v[n++] = xstrndup(s, (size_t)(e - s));
			v[n] = NULL;
		}
		s = e;
	}
	return v;
}

void vcard_gal_names_free(char ***names)
{
	if (*names == NULL)
		return;
	for (size_t i = 0; (*names)[i] != NULL; i++)
		free((*names)[i]);
	free(*names);
	*names = NULL;
}

char *vcard_gal_object_name(const char *uid)
{
	size_t n = strlen(uid);
	bool plain = n > 0 && n <= 200 && uid[0] != '.';
	for (size_t i = 0; plain && i < n; i++) {
		char c = uid[i];
		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '_' || c == '.';
	}
	if (plain)
		return xasprintf("%s.vcf", uid);
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n && i < 120; i++)
		buf_printf(&b, "%02x", (unsigned char)uid[i]);
	buf_append_str(&b, ".vcf");
	return b.data;
}
