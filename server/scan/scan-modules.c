/* The built-in modules' registration: sender authentication (SPF, DKIM,
 * ARC, DMARC, then the Authentication-Results header), then the content
 * modules of scan-content.c. */
#include "autoconf.h"
#include "scan.h"

void scan_modules_register(void)
{
	static bool done;
	if (done)
		return;
	done = true;
	scan_modules_register_content();
}
