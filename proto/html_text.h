/* HTML to plain text for full-text SEARCH and PREVIEW (RFC 8970): what a
 * reader of an HTML mail part sees, without markup. Pure and total: any byte
 * string is accepted (malformed HTML is read best-effort, like a browser's
 * tokenizer), nothing is read out of bounds, the output never grows past the
 * input by more than a small constant per input byte. */
#ifndef CAIRN_HTML_TEXT_H
#define CAIRN_HTML_TEXT_H

#include "util.h"

/* Append the text of the HTML document s[0..len) (UTF-8) to out:
 * - tags are removed (quoted attribute values may contain '>'), comments,
 *   <!DOCTYPE ...>, <?...?> and CDATA sections are dropped, and so is the
 *   content of <script>, <style>, <template> and <noscript>;
 * - block-level tags (p, div, br, li, tr, h1-h6, ...) become a line break,
 *   table cells a tab, inline tags (b, span, a, ...) nothing;
 * - character references are decoded: &#NN; &#xNN; and the named
 *   references mail uses (amp, lt, nbsp, eacute, euro, ...), also the
 *   legacy ones without ';' (&amp &lt &gt &quot &nbsp); &nbsp; gives a
 *   plain space; unknown references stay as written;
 * - a '<' that does not start a tag (as in "a < b") is text.
 * Other whitespace is kept as written. */
void html_text(const char *s, size_t len, struct buf *out);

/* Append the UTF-8 encoding of code point cp (U+FFFD for NUL, surrogates and
 * values past U+10FFFF). */
void html_append_codepoint(struct buf *out, uint32_t cp);

#endif
