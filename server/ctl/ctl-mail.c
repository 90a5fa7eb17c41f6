/* cairnctl commands for mail: mailboxes, import and export. */
#include "autoconf.h"
#include "ctl.h"
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ctl_cmd ctl_mail_commands[] = {
	{ NULL, NULL, NULL, NULL, NULL }
};
