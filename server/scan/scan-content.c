/* The content checks' registration point (owned by the content modules,
 * branch scanc14): scan_modules_register() calls this once at start; it
 * calls scan_register() for each content module (rules, Bayes, clamd, spamd,
 * rspamd, milter, DNS lists, greylisting). */
#include "autoconf.h"
#include "scan.h"

extern const struct scan_module scan_rules_module;
extern const struct scan_module scan_clamd_module;
extern const struct scan_module scan_spamd_module;
extern const struct scan_module scan_bayes_module;
extern const struct scan_module scan_dnsbl_module;
extern const struct scan_module scan_greylist_module;
extern const struct scan_module scan_milter_module;
extern const struct scan_module scan_rspamd_module;

void scan_modules_register_content(void)
{
	scan_register(&scan_dnsbl_module);
	scan_register(&scan_greylist_module);
	scan_register(&scan_rules_module);
	scan_register(&scan_bayes_module);
	scan_register(&scan_clamd_module);
	scan_register(&scan_spamd_module);
	scan_register(&scan_rspamd_module);
	scan_register(&scan_milter_module);
}
