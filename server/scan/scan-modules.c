/* The built-in modules' registration: sender authentication (SPF, DKIM,
 * ARC, DMARC, then the Authentication-Results header), then the content
 * modules of scan-content.c. */
#include "autoconf.h"
#include "scan.h"
#include "scan-auth.h"
#include "log.h"

void scan_modules_register(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	const struct scan_module *builtin[] = {
		&scan_module_iprev, &scan_module_spf, &scan_module_dkim, &scan_module_arc, &scan_module_dmarc,
		&scan_module_authres,
	};
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (scan_register(builtin[i]) < 0)
			panic("scan: cannot register module %s", builtin[i]->name);
	scan_modules_register_content();
}
