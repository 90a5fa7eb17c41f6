/* The content checks' registration point (owned by the content modules,
 * branch scanc14): scan_modules_register() calls this once at start; it
 * calls scan_register() for each content module (rules, Bayes, clamd, spamd,
 * rspamd, milter, DNS lists, greylisting). */
#include "autoconf.h"
#include "scan.h"

void scan_modules_register_content(void)
{
	/* scanc14 registers its modules here. */
}
