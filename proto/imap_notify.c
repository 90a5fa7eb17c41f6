/* NOTIFY (RFC 5465) argument parsing. The grammar (section 8):
 *   notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
 *   event-group = "(" filter-mailboxes SP events ")"
 *   events = ( "(" event *(SP event) ")" ) / "NONE"
 * plus the rules that make an event set meaningful (section 5). */
#include "autoconf.h"
#include "imap_notify.h"

#include <string.h>

/* Mailbox names in one SUBTREE/MAILBOXES filter: a bound so that one
 * command cannot make the session watch an unbounded name list. */
#define NOTIFY_MAX_NAMES 100
#define NOTIFY_MAX_GROUPS 32

static const char *const event_names[] = {
	"MessageNew", "MessageExpunge", "FlagChange", "AnnotationChange",
	"MailboxName", "SubscriptionChange", "MailboxMetadataChange", "ServerMetadataChange",
};

const char *imap_notify_event_name(unsigned event)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (event == (1u << i))
			return event_names[i];
	return NULL;
}

/* One event atom as a bit (IMAP_NOTIFY_UNKNOWN for an event-ext). */
static unsigned event_bit(const char *name)
{
	for (size_t i = 0; i < sizeof(event_names) / sizeof(event_names[0]); i++)
		if (str_casecmp(name, event_names[i]) == 0)
			return 1u << i;
	return IMAP_NOTIFY_UNKNOWN;
}

static int parse_events(struct imap_pool *pool, const struct imap_arg *arg,
			struct imap_notify_group *g, const char **error_r)
{
	const struct imap_arg *list;
	size_t n;
	bool selected = g->filter == IMAP_NOTIFY_SELECTED ||
			g->filter == IMAP_NOTIFY_SELECTED_DELAYED;
	if (imap_arg_atom_eq(arg, "NONE")) {
		g->events = 0;
		return 0;
	}
	if (!imap_arg_list(arg, &list, &n) || n == 0) {
		*error_r = "NOTIFY events must be NONE or a non-empty list";
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name;
		if (!imap_arg_atom(&list[i], &name)) {
			*error_r = "NOTIFY event names are atoms";
			return -1;
		}
		unsigned bit = event_bit(name);
		g->events |= bit;
		if (bit != IMAP_NOTIFY_MESSAGE_NEW || i + 1 >= n || list[i + 1].type != IMAP_ARG_LIST)
			continue;
		/* MessageNew (fetch-att ...): only for the selected mailbox,
		 * since other mailboxes are reported with STATUS. */
		if (!selected) {
			*error_r = "MessageNew fetch attributes are only allowed for SELECTED";
			return -1;
		}
		if (g->has_fetch) {
			*error_r = "MessageNew given twice";
			return -1;
		}
		if (imap_fetch_parse(pool, &list[i + 1], NULL, false, &g->fetch, error_r) < 0)
			return -1;
		g->has_fetch = true;
		i++;
	}
	/* RFC 5465 5: MessageNew and MessageExpunge come together, and
	 * FlagChange or AnnotationChange need both. */
	unsigned ne = IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE;
	if ((g->events & ne) != 0 && (g->events & ne) != ne) {
		*error_r = "MessageNew and MessageExpunge must be given together";
		return -1;
	}
	if ((g->events & (IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)) != 0 &&
	    (g->events & ne) != ne) {
		*error_r = "FlagChange and AnnotationChange need MessageNew and MessageExpunge";
		return -1;
	}
	return 0;
}

/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
static int parse_names(struct imap_pool *pool, const struct imap_arg *arg,
		       struct imap_notify_group *g, const char **error_r)
{
	const struct imap_arg *list = arg;
	size_t n = 1;
	if (arg->type == IMAP_ARG_LIST && !imap_arg_list(arg, &list, &n))
		n = 0;
	if (n == 0 || n > NOTIFY_MAX_NAMES) {
		*error_r = "NOTIFY SUBTREE/MAILBOXES need 1 to 100 mailbox names";
		return -1;
	}
	g->names = imap_pool_alloc(pool, n * sizeof(*g->names));
	for (size_t i = 0; i < n; i++) {
		const char *name;
		size_t len;
		if (!imap_arg_astring(&list[i], &name, &len) || strlen(name) != len) {
			*error_r = "Mailbox name expected";
			return -1;
		}
		g->names[i] = name;
	}
	g->name_count = n;
	return 0;
}

static int parse_group(struct imap_pool *pool, const struct imap_arg *arg,
		       struct imap_notify_group *g, const char **error_r)
{
	static const struct {
		const char *name;
		enum imap_notify_filter filter;
	} filters[] = {
		{ "SELECTED", IMAP_NOTIFY_SELECTED },
		{ "SELECTED-DELAYED", IMAP_NOTIFY_SELECTED_DELAYED },
		{ "INBOXES", IMAP_NOTIFY_INBOXES },
		{ "PERSONAL", IMAP_NOTIFY_PERSONAL },
		{ "SUBSCRIBED", IMAP_NOTIFY_SUBSCRIBED },
		{ "SUBTREE", IMAP_NOTIFY_SUBTREE },
		{ "MAILBOXES", IMAP_NOTIFY_MAILBOXES },
	};
	const struct imap_arg *list;
	size_t n;
	const char *name;
	memset(g, 0, sizeof(*g));
	if (!imap_arg_list(arg, &list, &n) || n < 2 || !imap_arg_atom(&list[0], &name)) {
		*error_r = "NOTIFY event group expected: (filter events)";
		return -1;
	}
	size_t f;
	for (f = 0; f < sizeof(filters) / sizeof(filters[0]); f++)
		if (str_casecmp(name, filters[f].name) == 0)
			break;
	if (f == sizeof(filters) / sizeof(filters[0])) {
		*error_r = "Unknown NOTIFY filter";
		return -1;
	}
	g->filter = filters[f].filter;
	size_t ev = 1;
	if (g->filter == IMAP_NOTIFY_SUBTREE || g->filter == IMAP_NOTIFY_MAILBOXES) {
		if (parse_names(pool, &list[1], g, error_r) < 0)
			return -1;
		ev = 2;
	}
	if (n != ev + 1) {
		*error_r = "NOTIFY event group expected: (filter events)";
		return -1;
	}
	return parse_events(pool, &list[ev], g, error_r);
}

int imap_notify_parse(struct imap_pool *pool, const struct imap_arg *args, size_t count,
		      struct imap_notify_cmd *cmd_r, const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (count == 1 && imap_arg_atom_eq(&args[0], "NONE")) {
		cmd_r->none = true;
		return 0;
	}
	if (count < 2 || !imap_arg_atom_eq(&args[0], "SET")) {
		*error_r = "NOTIFY NONE or NOTIFY SET [STATUS] (filter events) ...";
		return -1;
	}
	size_t i = 1;
	if (imap_arg_atom_eq(&args[1], "STATUS")) {
		cmd_r->status = true;
		i = 2;
	}
	if (i >= count || count - i > NOTIFY_MAX_GROUPS) {
		*error_r = "NOTIFY SET needs 1 to 32 event groups";
		return -1;
	}
	cmd_r->groups = imap_pool_alloc(pool, (count - i) * sizeof(*cmd_r->groups));
	bool selected = false;
	for (; i < count; i++) {
		struct imap_notify_group *g = &cmd_r->groups[cmd_r->count];
		if (parse_group(pool, &args[i], g, error_r) < 0)
			return -1;
		if (g->filter == IMAP_NOTIFY_SELECTED || g->filter == IMAP_NOTIFY_SELECTED_DELAYED) {
			if (selected) {
				*error_r = "SELECTED or SELECTED-DELAYED may be given only once";
				return -1;
			}
			selected = true;
		}
		cmd_r->all_events |= g->events;
		cmd_r->count++;
	}
	return 0;
}
