/* The web admin's template engine (pure: libc only). A template is HTML with
 * placeholders; every insertion is escaped for the context the compiler
 * finds it in by following the HTML around it: element text, a quoted
 * attribute value, or a URL attribute (href, src, action, formaction) whose
 * scheme is checked and whose later parts are percent-encoded. Placeholders
 * anywhere else (tag names, unquoted values, comments, script, style) are
 * refused when the template is compiled, as is a section that would leave
 * the context different from where it started. Raw insertion is explicit:
 * {{raw name}}.
 *
 * Syntax: {{name}} {{raw name}} {{#if name}} {{#unless name}} {{else}}
 * {{/if}} {{/unless}} {{#each name}} {{/each}} {{> partial}} {{! comment}}.
 * Names are [A-Za-z0-9_.-]. Inside {{#each}} names resolve in the current
 * item first, then outwards. A name is true when set to a non-empty string
 * or a non-empty list. */
#ifndef CAIRN_WA_TPL_H
#define CAIRN_WA_TPL_H

#include "util.h"

struct tpl;
struct tpl_vars;

/* Returns the text of partial name (malloc'ed, *len_r set) or NULL. */
typedef char *tpl_loader_fn(const char *name, size_t *len_r, void *ctx);

/* Compile text (len bytes, name used in errors). Partials come from loader
 * (may be NULL: then any partial is an error), nested at most 8 deep.
 * Returns 0 and *tpl_r, or -1 with a malloc'ed *error_r. */
int tpl_compile(const char *name, const char *text, size_t len, tpl_loader_fn *loader,
		void *loader_ctx, struct tpl **tpl_r, char **error_r);
/* Free a compiled template; sets *tpl to NULL. */
void tpl_free(struct tpl **tpl);
/* Render t with vars into out (appended). Returns 0, or -1 when out's
 * maximum was reached. */
int tpl_render(const struct tpl *t, const struct tpl_vars *vars, struct buf *out);

/* A set of variables: strings and lists of nested sets. */
struct tpl_vars *tpl_vars_new(void);
void tpl_vars_free(struct tpl_vars **v);
/* Set key to a copy of value (NULL removes nothing: sets ""). A later set
 * of the same key replaces the earlier value. */
void tpl_set(struct tpl_vars *v, const char *key, const char *value);
void tpl_setf(struct tpl_vars *v, const char *key, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* Append a new item to list key and return it (owned by v). */
struct tpl_vars *tpl_list_add(struct tpl_vars *v, const char *key);
/* The string value of key in v itself, or NULL. */
const char *tpl_get(const struct tpl_vars *v, const char *key);

/* The escapers the renderer uses, for code that writes HTML itself (the
 * SVG chart). Each appends to out; -1 when out is full. */
int tpl_escape_html(struct buf *out, const char *s, size_t len);
/* Percent-encode everything but RFC 3986 unreserved characters. */
int tpl_escape_url_component(struct buf *out, const char *s, size_t len);
/* A whole URL for an attribute: relative, or http/https/mailto; anything
 * else (javascript:, data:, ...) becomes "#". HTML-escaped. */
int tpl_escape_url(struct buf *out, const char *s, size_t len);

#endif
