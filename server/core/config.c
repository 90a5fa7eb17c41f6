/* cairn.conf: the option table, the loader and the value parsers. libinih
 * splits "name = value" lines; our own line reader in front of it counts
 * lines, owns the [section] state and finds the syntax errors inih would only
 * report one of, so every problem comes out as "FILE:LINE: message" in one
 * pass. The table also generates docs/configuration.md. */
#include "autoconf.h"
#include "config.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef CAIRN_DATADIR
#define CAIRN_DATADIR "/usr/local/share/cairn"
#endif

#define MS_SECOND UINT64_C(1000)
#define MS_MINUTE (60 * MS_SECOND)
#define MS_HOUR (60 * MS_MINUTE)
#define MS_DAY (24 * MS_HOUR)
#define KIB UINT64_C(1024)
#define MIB (1024 * KIB)
#define GIB (1024 * MIB)

/* Past this many a broken file only buries the first, useful errors. */
#define CONFIG_MAX_ERRORS 100
/* Addresses one listen option may name; more is a typo, not a deployment. */
#define CONFIG_MAX_LISTEN 64

static const char *const log_target_values[] = { "stderr", "syslog", NULL };
static const char *const log_level_values[] = { "debug", "info", "warn", "error", NULL };
static const char *const tls_min_values[] = { "1.2", "1.3", NULL };
static const char *const dir_backend_values[] = { "sql", "ldap", NULL };
static const char *const scan_answer_values[] = { "accept", "tempfail", "reject", NULL };
static const char *const scan_virus_values[] = { "reject", "quarantine", NULL };
static const char *const scan_fail_values[] = { "open", "closed", NULL };
static const char *const spamd_mode_values[] = { "add", "alone", NULL };
static const char *const scan_dmarc_values[] = { "reject", "quarantine", "junk", "tag", NULL };

#define OPT(sec, field, type, def, min, max, enums, help) \
	{ #sec, #field, type, def, min, max, enums, offsetof(struct config, sec.field), help }
#define OPT_MS(sec, name, field, def, min, max, help) \
	{ #sec, #name, CONFIG_DURATION, def, min, max, NULL, offsetof(struct config, sec.field), help }

const struct config_option config_options[] = {
	OPT(server, hostname, CONFIG_STRING, "", 0, 0, NULL,
	    "Name cairnd uses for itself in greetings, Received headers and bounces; empty means the system host name."),
	OPT(server, user, CONFIG_STRING, "cairn", 0, 0, NULL,
	    "User cairnd switches to after binding its listening sockets; empty means it does not drop privileges."),
	OPT(server, group, CONFIG_STRING, "", 0, 0, NULL,
	    "Group cairnd switches to with the user; empty means the user's primary group."),
	OPT(server, workers, CONFIG_UINT, "4", 1, 256, NULL,
	    "Worker threads that run database, directory and scanner jobs, each with its own PostgreSQL connection."),
	OPT(server, max_connections, CONFIG_UINT, "30000", 1, 1000000, NULL,
	    "Client connections open at once over all listeners; new ones are refused beyond it. Keep it at least the sum of the listeners' own max_connections, so that one protocol's clients cannot use up the others' room."),
	OPT(server, max_connections_per_ip, CONFIG_UINT, "100", 0, 1000000, NULL,
	    "Client connections open at once from one client network ([server] ipv4_prefix, ipv6_prefix: an IPv4 address, an IPv6 /64 by default); 0 means unlimited."),
	OPT(server, ipv4_prefix, CONFIG_UINT, "32", 8, 32, NULL,
	    "Prefix length that groups IPv4 clients into one network for per-IP connection limits and login throttling; 32 counts each address."),
	OPT(server, ipv6_prefix, CONFIG_UINT, "64", 16, 128, NULL,
	    "Prefix length that groups IPv6 clients into one network for per-IP connection limits and login throttling; "
	    "64 because one subscriber usually holds a whole /64."),
	OPT(server, max_output, CONFIG_SIZE, "256k", 4 * KIB, 64 * MIB, NULL,
	    "Output a client may leave unread before cairnd stops reading its commands (back-pressure); a client that never reads then ends at the idle timeout, having cost at most about this much."),
	OPT(server, max_output_total, CONFIG_SIZE, "1G", 0, 64 * GIB, NULL,
	    "Unread output over all connections above which every connection with output waiting stops being read; 0 means no total limit."),
	OPT_MS(server, tls_handshake_timeout, tls_handshake_timeout_ms, "30s", MS_SECOND, 10 * MS_MINUTE,
	       "Time a TLS handshake (implicit TLS or after STARTTLS) may take, however slowly its bytes arrive."),
	OPT_MS(server, line_timeout, line_timeout_ms, "60s", MS_SECOND, MS_HOUR,
	       "Time a client may take to finish a command line (or an HTTP request head) once it has begun sending it, however slowly its bytes arrive."),
	OPT_MS(server, body_timeout, body_timeout_ms, "30m", MS_SECOND, 24 * MS_HOUR,
	       "Time a client may take to send a message body (SMTP DATA, one BDAT chunk), an IMAP literal or an HTTP request body, however slowly its bytes arrive."),
	OPT(server, pid_file, CONFIG_STRING, "", 0, 0, NULL,
	    "File cairnd writes its process id to at start; empty means none."),
	OPT(server, log_target, CONFIG_ENUM, "stderr", 0, 0, log_target_values,
	    "Where log lines go: stderr, or syslog with facility mail."),
	OPT(server, log_level, CONFIG_ENUM, "info", 0, 0, log_level_values,
	    "Least severe level that is logged."),
	OPT_MS(server, shutdown_timeout, shutdown_timeout_ms, "10s", 0, MS_HOUR,
	       "How long a stopping cairnd waits for sessions and jobs to finish before it closes them."),
	OPT(server, loopback_is_secure, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Treat connections from 127.0.0.0/8 and ::1 as secure for IMAP and POP3 plaintext LOGIN and USER/PASS, "
	    "like Dovecot's login_trusted_networks; it never applies to SMTP AUTH."),

	OPT(tls, cert_file, CONFIG_STRING, "", 0, 0, NULL,
	    "PEM certificate for implicit TLS and STARTTLS; empty disables TLS."),
	OPT(tls, key_file, CONFIG_STRING, "", 0, 0, NULL,
	    "PEM private key of cert_file; required when cert_file is set."),
	OPT(tls, chain_file, CONFIG_STRING, "", 0, 0, NULL,
	    "PEM intermediate certificates sent after cert_file; empty means cert_file already holds the chain."),
	OPT(tls, min_version, CONFIG_ENUM, "1.2", 0, 0, tls_min_values,
	    "Oldest TLS protocol version accepted from clients."),

	OPT(store, conninfo, CONFIG_STRING, "dbname=cairn", 0, 0, NULL,
	    "libpq connection string for the PostgreSQL store, such as \"host=db dbname=cairn user=cairn\"."),
	OPT(store, migrations_dir, CONFIG_STRING, CAIRN_DATADIR "/migrations", 0, 0, NULL,
	    "Directory of NNNN_name.sql files that cairnctl migrate applies in order."),
	OPT_MS(store, connect_timeout, connect_timeout_ms, "5s", MS_SECOND, 5 * MS_MINUTE,
	       "How long opening one PostgreSQL connection may take."),
	OPT_MS(store, statement_timeout, statement_timeout_ms, "30s", 0, MS_HOUR,
	       "PostgreSQL statement_timeout set on every store connection; 0 means no limit."),
	OPT_MS(store, reconnect_interval, reconnect_interval_ms, "1s", 100, MS_MINUTE,
	       "Pause between attempts to reopen a lost PostgreSQL connection."),

	OPT(directory, backend, CONFIG_ENUM, "sql", 0, 0, dir_backend_values,
	    "Where users, aliases and groups come from: sql (the PostgreSQL store, managed with cairnctl) or ldap (an LDAP server such as OpenLDAP)."),
	OPT(directory, uri, CONFIG_STRING, "", 0, 0, NULL,
	    "LDAP server URIs separated by spaces (ldap://, ldaps://), tried in order; a failed server hands over to the next."),
	OPT(directory, bind_dn, CONFIG_STRING, "", 0, 0, NULL,
	    "DN of the service account cairnd binds as for searches; empty means an anonymous bind."),
	OPT(directory, bind_password, CONFIG_STRING, "", 0, 0, NULL,
	    "Password of bind_dn; keep the file readable by cairnd only."),
	OPT(directory, base_dn, CONFIG_STRING, "", 0, 0, NULL,
	    "Subtree searched for users and groups, such as \"dc=example,dc=test\"; required with backend = ldap."),
	OPT(directory, user_filter, CONFIG_STRING,
	    "(&(objectClass=inetOrgPerson)(|(mail=%s)(mailAlternateAddress=%s)))", 0, 0, NULL,
	    "LDAP filter finding the user who owns an address; each %s becomes the address, escaped per RFC 4515."),
	OPT(directory, user_list_filter, CONFIG_STRING, "(&(objectClass=inetOrgPerson)(mail=*))", 0, 0, NULL,
	    "LDAP filter matching every mail user, for directory sync and the address book."),
	OPT(directory, group_filter, CONFIG_STRING,
	    "(&(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=cairnDynamicGroup))"
	    "(|(mail=%s)(mailAlternateAddress=%s)))", 0, 0, NULL,
	    "LDAP filter finding the distribution list that owns an address; each %s becomes the address, escaped per RFC 4515."),
	OPT(directory, start_tls, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Send StartTLS on ldap:// connections and refuse to go on without TLS."),
	OPT(directory, ca_file, CONFIG_STRING, "", 0, 0, NULL,
	    "PEM CA certificates that verify the LDAP server for ldaps:// and StartTLS; empty means the system default."),
	OPT_MS(directory, timeout, timeout_ms, "5s", 100, 5 * MS_MINUTE,
	       "Limit on connecting to an LDAP server and on every LDAP operation."),
	OPT_MS(directory, cache_ttl, cache_ttl_ms, "60s", 0, MS_DAY,
	       "How long address lookups are cached in cairnd; 0 disables the cache. Authentication is never cached."),
	OPT(directory, cache_size, CONFIG_UINT, "10000", 1, 10000000, NULL,
	    "Address lookups kept in the cache at most."),
	OPT(directory, max_group_depth, CONFIG_UINT, "8", 1, 64, NULL,
	    "How deep nested groups and aliases are followed; deeper members are ignored and logged."),
	OPT(directory, max_expansion, CONFIG_UINT, "10000", 1, 1000000, NULL,
	    "Recipients one address may expand to at most; a larger group is a temporary failure."),
	OPT(directory, attr_mail, CONFIG_STRING, "mail", 0, 0, NULL,
	    "LDAP attribute holding the primary mail address."),
	OPT(directory, attr_alternate, CONFIG_STRING, "mailAlternateAddress", 0, 0, NULL,
	    "LDAP attribute holding further addresses (aliases) that route to the entry."),
	OPT(directory, attr_name, CONFIG_STRING, "cn", 0, 0, NULL,
	    "LDAP attribute holding the display name."),
	OPT(directory, attr_phone, CONFIG_STRING, "telephoneNumber", 0, 0, NULL,
	    "LDAP attribute holding the phone number shown in the address book."),
	OPT(directory, attr_department, CONFIG_STRING, "ou", 0, 0, NULL,
	    "LDAP attribute holding the department shown in the address book."),
	OPT(directory, attr_title, CONFIG_STRING, "title", 0, 0, NULL,
	    "LDAP attribute holding the job title shown in the address book."),
	OPT(directory, attr_quota, CONFIG_STRING, "cairnMailQuota", 0, 0, NULL,
	    "LDAP attribute holding the mailbox quota in bytes."),
	OPT(directory, attr_enabled, CONFIG_STRING, "cairnMailEnabled", 0, 0, NULL,
	    "LDAP boolean attribute; FALSE disables login and delivery for the entry."),
	OPT(directory, attr_admin, CONFIG_STRING, "cairnAdmin", 0, 0, NULL,
	    "LDAP boolean attribute; TRUE gives the user the administrator role."),
	OPT(directory, attr_member, CONFIG_STRING, "member", 0, 0, NULL,
	    "LDAP attribute listing the member DNs of a groupOfNames."),
	OPT(directory, attr_unique_member, CONFIG_STRING, "uniqueMember", 0, 0, NULL,
	    "LDAP attribute listing the member DNs of a groupOfUniqueNames."),
	OPT(directory, attr_member_filter, CONFIG_STRING, "cairnMemberFilter", 0, 0, NULL,
	    "LDAP attribute holding the filter of a dynamic group; matching entries under base_dn are its members."),
	OPT(directory, auth_max_failures, CONFIG_UINT, "5", 1, 1000, NULL,
	    "Failed logins for one account from one client network (see [server] ipv4_prefix, ipv6_prefix) within auth_failure_window "
	    "before that account is refused from that network only, for auth_lockout; other networks can still log in to it."),
	OPT(directory, auth_max_failures_net, CONFIG_UINT, "50", 1, 100000, NULL,
	    "Failed logins from one client network, over all names tried, within auth_failure_window before that network is refused for auth_lockout."),
	OPT_MS(directory, auth_failure_window, auth_failure_window_ms, "15m", MS_SECOND, MS_DAY,
	       "How long a failed login is remembered; the count starts again after a quiet window."),
	OPT_MS(directory, auth_lockout, auth_lockout_ms, "15m", MS_SECOND, MS_DAY,
	       "How long a locked-out account (from one network) or network is refused, even with the right password."),
	OPT_MS(directory, auth_delay, auth_delay_ms, "1s", 0, MS_MINUTE,
	       "Delay before answering a failed login; it doubles with each further failure."),
	OPT_MS(directory, auth_max_delay, auth_max_delay_ms, "15s", 0, 5 * MS_MINUTE,
	       "Upper limit of the doubling failed-login delay."),
	OPT(directory, gal, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Serve the directory's users, groups and resources as a read-only CardDAV address book, the global address list, in every user's address book home (kept current by cairnd: see gal_refresh_delay and gal_refresh_interval)."),
	OPT(directory, gal_attr_fn, CONFIG_STRING, "displayName cn", 0, 0, NULL,
	    "LDAP attributes for a GAL entry's full name (FN), the first with a value wins; separated by spaces."),
	OPT(directory, gal_attr_surname, CONFIG_STRING, "sn", 0, 0, NULL,
	    "LDAP attributes for the family name in N."),
	OPT(directory, gal_attr_given_name, CONFIG_STRING, "givenName", 0, 0, NULL,
	    "LDAP attributes for the given name in N."),
	OPT(directory, gal_attr_email, CONFIG_STRING, "mail mailAlternateAddress", 0, 0, NULL,
	    "LDAP attributes whose every value becomes an EMAIL of the GAL entry (the first one preferred)."),
	OPT(directory, gal_attr_phone, CONFIG_STRING, "telephoneNumber", 0, 0, NULL,
	    "LDAP attributes whose values become work telephone numbers (TEL;TYPE=work,voice)."),
	OPT(directory, gal_attr_mobile, CONFIG_STRING, "mobile", 0, 0, NULL,
	    "LDAP attributes whose values become mobile numbers (TEL;TYPE=cell)."),
	OPT(directory, gal_attr_photo, CONFIG_STRING, "jpegPhoto", 0, 0, NULL,
	    "LDAP attributes holding a photo (JPEG, PNG or GIF bytes), served inline as PHOTO."),
	OPT(directory, gal_attr_org, CONFIG_STRING, "o", 0, 0, NULL,
	    "LDAP attributes for the organization in ORG."),
	OPT(directory, gal_attr_department, CONFIG_STRING, "ou departmentNumber", 0, 0, NULL,
	    "LDAP attributes for the department (ORG's second part)."),
	OPT(directory, gal_attr_title, CONFIG_STRING, "title", 0, 0, NULL,
	    "LDAP attributes for the job title (TITLE)."),
	OPT(directory, gal_group_filter, CONFIG_STRING,
	    "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))", 0, 0, NULL,
	    "LDAP filter matching the groups listed in the GAL (KIND:group, members from [directory] attr_member and attr_unique_member); empty lists none."),
	OPT(directory, gal_resource_filter, CONFIG_STRING,
	    "(|(objectClass=room)(objectClass=device)(objectClass=cairnResource))", 0, 0, NULL,
	    "LDAP filter matching the resources listed in the GAL: entries of objectClass room, or whose attr_resource_kind is room, become KIND:location, others KIND:device; empty lists none."),
	OPT(directory, resource_list_filter, CONFIG_STRING, "(&(objectClass=cairnResource)(mail=*))", 0, 0, NULL,
	    "LDAP filter matching the bookable resources (rooms, equipment) that `cairnctl directory sync` makes resource accounts of; empty syncs none."),
	OPT(directory, attr_resource_kind, CONFIG_STRING, "cairnResourceKind", 0, 0, NULL,
	    "LDAP attribute saying what a resource is: room or equipment (absent: room for objectClass room or no device, else equipment)."),
	OPT(directory, attr_resource_capacity, CONFIG_STRING, "cairnResourceCapacity", 0, 0, NULL,
	    "LDAP attribute holding how many people a resource holds; absent or 0 means no limit."),
	OPT(directory, attr_resource_location, CONFIG_STRING, "cairnResourceLocation", 0, 0, NULL,
	    "LDAP attribute holding where a resource is (shown in the GAL and the web admin)."),
	OPT(directory, attr_booking_policy, CONFIG_STRING, "cairnBookingPolicy", 0, 0, NULL,
	    "LDAP attribute holding a resource's booking policy: auto (accept if free), manual (the delegate approves) or none (never answered); absent means auto."),
	OPT(directory, attr_booking_window, CONFIG_STRING, "cairnBookingWindow", 0, 0, NULL,
	    "LDAP attribute holding how many days ahead a resource may be booked; absent or 0 means no limit."),
	OPT(directory, attr_resource_booker, CONFIG_STRING, "cairnResourceBooker", 0, 0, NULL,
	    "LDAP attribute listing who may book a resource: DNs or addresses of users and groups (groups are expanded at sync); absent means everyone."),
	OPT(directory, attr_resource_delegate, CONFIG_STRING, "cairnResourceDelegate", 0, 0, NULL,
	    "LDAP attribute naming a resource's delegate (a DN or an address), who approves bookings in manual mode."),
	OPT(directory, gal_max_photo_size, CONFIG_SIZE, "256k", 0, 16 * MIB, NULL,
	    "Largest photo put into a GAL entry; larger ones are left out."),
	OPT_MS(directory, gal_refresh_interval, gal_refresh_interval_ms, "15m", 0, MS_DAY,
	       "With backend = ldap, how often cairnd rereads the directory into the global address list (the GAL part of `cairnctl directory sync`, incremental); 0 turns it off. Not used with backend = sql, whose changes refresh the GAL at once (see gal_refresh_delay)."),
	OPT_MS(directory, gal_refresh_delay, gal_refresh_delay_ms, "5s", 0, MS_HOUR,
	       "With backend = sql, cairnd refreshes the global address list after every directory change (accounts, groups, aliases, resources; NOTIFY cairn_gal), at most once per this time: changes made meanwhile are folded into the next refresh."),

	OPT(http, listen, CONFIG_LISTEN, "127.0.0.1:8080", 0, 0, NULL,
	    "Addresses for plain HTTP (/healthz, /metrics; later CalDAV, CardDAV), as host:port separated by commas; empty disables it. "
	    "Loopback by default because /metrics has no authentication: expose it only to the network that scrapes it."),
	OPT(http, listen_tls, CONFIG_LISTEN, "", 0, 0, NULL,
	    "Addresses for HTTPS, as host:port separated by commas (\"*:443\" in production); needs [tls] cert_file; empty disables it."),
	OPT_MS(http, idle_timeout, idle_timeout_ms, "60s", MS_SECOND, MS_HOUR,
	       "How long a connection may sit idle between requests before it is closed."),
	OPT(http, max_head, CONFIG_SIZE, "16k", KIB, MIB, NULL,
	    "Largest request line plus headers accepted; larger requests get 431."),
	OPT(http, max_body, CONFIG_SIZE, "10M", 0, GIB, NULL,
	    "Largest request body accepted; larger requests get 413, 0 refuses every body."),
	OPT(http, max_requests, CONFIG_UINT, "1000", 1, 1000000, NULL,
	    "Requests served on one keep-alive connection before it is closed."),
	OPT(http, max_connections, CONFIG_UINT, "2000", 1, 1000000, NULL,
	    "HTTP and HTTPS connections open at once; more are refused (503) without touching the other protocols' room."),
	OPT(http, plaintext_auth, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Accept CalDAV/CardDAV credentials (HTTP Basic) on the plain HTTP listener; otherwise only over HTTPS (see also [server] loopback_is_secure)."),
	OPT(http, dav_max_xml, CONFIG_SIZE, "1M", KIB, 64 * MIB, NULL,
	    "Largest XML request body of a WebDAV method (PROPFIND, REPORT...); larger ones get 413."),
	OPT(http, dav_xml_depth, CONFIG_UINT, "32", 4, 200, NULL,
	    "Deepest element nesting accepted in a WebDAV XML request body."),
	OPT(http, dav_max_resource_size, CONFIG_SIZE, "1M", KIB, GIB, NULL,
	    "Largest calendar object or contact stored (CALDAV:max-resource-size); other WebDAV files are bounded by max_body."),
	OPT(http, dav_max_instances, CONFIG_UINT, "5000", 10, 1000000, NULL,
	    "Most recurrence instances one calendar object may produce in one query or expansion (CALDAV:max-instances)."),
	OPT(http, freebusy_index_past_days, CONFIG_UINT, "366", 1, 36600, NULL,
	    "Days before now that the busy-time index expands recurring events into (free/busy before that expands them per query)."),
	OPT(http, freebusy_index_future_days, CONFIG_UINT, "731", 1, 36600, NULL,
	    "Days after now that the busy-time index expands recurring events into (free/busy after that expands them per query)."),

	OPT(pop3, listen, CONFIG_LISTEN, "*:110", 0, 0, NULL,
	    "Addresses for POP3 with STLS, as host:port separated by commas; empty disables it."),
	OPT(pop3, listen_tls, CONFIG_LISTEN, "", 0, 0, NULL,
	    "Addresses for POP3S (implicit TLS, \"*:995\" in production); needs [tls] cert_file; empty disables it."),
	OPT(pop3, plaintext_auth, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Allow USER/PASS and AUTH PLAIN/LOGIN without TLS from any address (see also [server] loopback_is_secure)."),
	OPT_MS(pop3, idle_timeout, idle_timeout_ms, "10m", MS_SECOND, 24 * MS_HOUR,
	       "Idle time before a session is closed (RFC 1939 asks for at least 10 minutes)."),
	OPT(pop3, max_bad_commands, CONFIG_UINT, "10", 1, 1000, NULL,
	    "Unknown or malformed commands before the server hangs up."),
	OPT(pop3, max_connections, CONFIG_UINT, "2000", 1, 1000000, NULL,
	    "POP3 and POP3S connections open at once; more are refused without touching the other protocols' room."),
	OPT_MS(pop3, login_delay, login_delay_ms, "0s", 0, 24 * MS_HOUR,
	       "Minimum time between logins announced in CAPA LOGIN-DELAY (RFC 2449)."),

	OPT(imap, listen, CONFIG_LISTEN, "*:143", 0, 0, NULL,
	    "Addresses for IMAP with STARTTLS, as host:port separated by commas; empty disables it."),
	OPT(imap, listen_tls, CONFIG_LISTEN, "", 0, 0, NULL,
	    "Addresses for IMAPS (implicit TLS, \"*:993\" in production); needs [tls] cert_file; empty disables it."),
	OPT(imap, plaintext_auth, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Allow LOGIN and AUTHENTICATE PLAIN/LOGIN without TLS from any address (otherwise LOGINDISABLED until STARTTLS)."),
	OPT_MS(imap, idle_timeout, idle_timeout_ms, "30m", MS_SECOND, 24 * MS_HOUR,
	       "Idle time before a session is logged out (RFC 9051 asks for at least 30 minutes)."),
	OPT(imap, max_connections, CONFIG_UINT, "20000", 1, 1000000, NULL,
	    "IMAP and IMAPS connections open at once (each IDLE client holds one); more are refused without touching the other protocols' room."),
	OPT(imap, max_bad_commands, CONFIG_UINT, "10", 1, 1000, NULL,
	    "Consecutive malformed commands before the server says BYE."),
	OPT(imap, max_line, CONFIG_SIZE, "64k", KIB, 16 * MIB, NULL,
	    "Longest command line (without literals) accepted."),
	OPT(imap, max_append, CONFIG_SIZE, "50M", KIB, 2 * GIB, NULL,
	    "Largest message accepted by APPEND (advertised as APPENDLIMIT)."),
	OPT(imap, metadata_max_value, CONFIG_SIZE, "64k", 1, MIB, NULL,
	    "Largest METADATA value a client may set (RFC 5464 MAXSIZE)."),
	OPT(imap, metadata_max_entries, CONFIG_UINT, "200", 1, 100000, NULL,
	    "METADATA entries one user may see on the server or on one mailbox (shared ones and his own private ones); more get [METADATA TOOMANY]."),
	OPT(imap, notify_max_queued, CONFIG_SIZE, "256k", KIB, 64 * MIB, NULL,
	    "NOTIFY (RFC 5465): output a session may leave unread before its notifications stop with [NOTIFICATIONOVERFLOW]."),
	OPT(imap, metadata_admin, CONFIG_STRING, "", 0, 0, NULL,
	    "The server's /shared/admin METADATA entry, a URI to reach the administrator (\"mailto:postmaster@example.com\"); empty leaves it unset."),

	OPT(smtp, listen, CONFIG_LISTEN, "*:25", 0, 0, NULL,
	    "Addresses for inbound SMTP (MX) with STARTTLS; empty disables it."),
	OPT(smtp, lmtp_listen, CONFIG_LISTEN, "", 0, 0, NULL,
	    "Addresses for LMTP (RFC 2033), for use behind another MTA; empty disables it."),
	OPT(smtp, max_message_size, CONFIG_SIZE, "50M", KIB, 2 * GIB, NULL,
	    "Largest message accepted (advertised in SIZE)."),
	OPT(smtp, max_recipients, CONFIG_UINT, "1000", 1, 100000, NULL,
	    "Recipients accepted per message; more get 452."),
	OPT(smtp, max_messages, CONFIG_UINT, "100", 1, 100000, NULL,
	    "Messages accepted per connection."),
	OPT(smtp, max_connections, CONFIG_UINT, "2000", 1, 1000000, NULL,
	    "Inbound SMTP (MX) and LMTP connections open at once; more get 421 without touching the other protocols' room."),
	OPT(smtp, max_bad_commands, CONFIG_UINT, "10", 1, 1000, NULL,
	    "Bad commands before the server hangs up (421)."),
	OPT_MS(smtp, command_timeout, command_timeout_ms, "5m", MS_SECOND, MS_HOUR,
	       "Idle time allowed between commands (RFC 5321 4.5.3.2.7: at least 5 minutes)."),
	OPT_MS(smtp, data_timeout, data_timeout_ms, "10m", MS_SECOND, MS_HOUR,
	       "Idle time allowed while receiving DATA/BDAT."),
	OPT(smtp, vrfy, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Answer VRFY with the result of a lookup; off answers 252 without revealing anything."),
	OPT(smtp, auth_without_tls, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Offer AUTH before STARTTLS (never from non-loopback clients in production)."),

	OPT(submission, listen, CONFIG_LISTEN, "*:587", 0, 0, NULL,
	    "Addresses for message submission (RFC 6409) with STARTTLS; empty disables it."),
	OPT(submission, listen_tls, CONFIG_LISTEN, "", 0, 0, NULL,
	    "Addresses for submission over implicit TLS (RFC 8314, \"*:465\" in production); empty disables it."),
	OPT(submission, max_connections, CONFIG_UINT, "2000", 1, 1000000, NULL,
	    "Submission connections (STARTTLS and implicit TLS) open at once; more get 421 without touching the other protocols' room."),
	OPT(submission, check_sender, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Refuse MAIL FROM addresses that do not belong to the authenticated user, on submission and on an authenticated MX session alike (the null sender <> is allowed)."),
	OPT(submission, check_from, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Also refuse messages whose From: (every author) or Sender: is not the authenticated user's, or that carry two From: fields; on submission and authenticated MX sessions."),

	OPT(queue, runners, CONFIG_UINT, "4", 0, 256, NULL,
	    "Outbound queue runner threads, each with its own PostgreSQL connection; 0 means this node sends no outbound mail."),
	OPT(queue, batch, CONFIG_UINT, "100", 1, 10000, NULL,
	    "Recipients of one destination a runner claims at once and sends over one connection."),
	OPT_MS(queue, lifetime, lifetime_ms, "5d", MS_SECOND, 60 * MS_DAY,
	       "How long a message is retried before it is bounced as expired."),
	OPT_MS(queue, retry_min, retry_min_ms, "5m", 100, MS_DAY,
	       "Delay before the first retry after a temporary failure; it doubles with each further failure."),
	OPT_MS(queue, retry_max, retry_max_ms, "1h", 100, 7 * MS_DAY,
	       "Upper limit of the doubling retry delay."),
	OPT_MS(queue, delay_warning, delay_warning_ms, "4h", 0, 60 * MS_DAY,
	       "Age of a still undelivered message at which its sender gets one delay DSN (if NOTIFY allows); 0 means never."),
	OPT_MS(queue, lease, lease_ms, "10m", MS_SECOND, MS_DAY,
	       "How long a runner's claim on recipients lasts without renewal; another node takes over work whose lease has run out."),
	OPT_MS(queue, poll_interval, poll_interval_ms, "1s", 50, MS_HOUR,
	       "How often an idle runner looks for due retries (new mail wakes it at once through NOTIFY)."),
	OPT(queue, max_per_destination, CONFIG_UINT, "8", 1, 1000, NULL,
	    "Connections this node opens at once to one destination domain."),
	OPT(queue, rate_per_destination, CONFIG_UINT, "0", 0, 1000000, NULL,
	    "Messages per minute this node sends to one destination domain; 0 means no limit."),
	OPT(queue, resolver, CONFIG_STRING, "", 0, 0, NULL,
	    "DNS server for MX lookups as address or address:port (\"127.0.0.1:5353\"); empty means the nameservers of /etc/resolv.conf."),
	OPT_MS(queue, dns_timeout, dns_timeout_ms, "5s", 100, MS_MINUTE,
	       "Limit on one DNS query, retries included."),
	OPT_MS(queue, connect_timeout, connect_timeout_ms, "30s", 100, 10 * MS_MINUTE,
	       "Limit on opening a TCP connection to a remote mail server."),
	OPT_MS(queue, command_timeout, command_timeout_ms, "5m", 100, MS_HOUR,
	       "Wait for the greeting and the replies to EHLO, STARTTLS, AUTH, MAIL and RCPT (RFC 5321 4.5.3.2: 5 minutes)."),
	OPT_MS(queue, data_init_timeout, data_init_timeout_ms, "2m", 100, MS_HOUR,
	       "Wait for the 354 reply to DATA (RFC 5321 4.5.3.2.4: 2 minutes)."),
	OPT_MS(queue, data_block_timeout, data_block_timeout_ms, "3m", 100, MS_HOUR,
	       "Limit on each write of message data (RFC 5321 4.5.3.2.5: 3 minutes)."),
	OPT_MS(queue, data_done_timeout, data_done_timeout_ms, "10m", 100, MS_HOUR,
	       "Wait for the reply to the final dot of DATA (RFC 5321 4.5.3.2.6: 10 minutes)."),
	OPT(queue, max_bounce_size, CONFIG_SIZE, "256k", 0, GIB, NULL,
	    "Largest original message returned whole in a DSN (RET=FULL); a larger one is returned as headers only."),
	OPT(queue, tls_ca_file, CONFIG_STRING, "", 0, 0, NULL,
	    "PEM CA certificates that verify remote servers on routes with tls=verify; empty means the system default."),
	OPT(queue, dkim, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Sign outgoing mail with every active DKIM key of its From: domain (cairnctl dkim)."),

	OPT(managesieve, listen, CONFIG_LISTEN, "*:4190", 0, 0, NULL,
	    "Addresses for ManageSieve (RFC 5804) with STARTTLS, as host:port separated by commas; empty disables it."),
	OPT(managesieve, plaintext_auth, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Allow AUTHENTICATE PLAIN/LOGIN without TLS from any address (see also [server] loopback_is_secure)."),
	OPT_MS(managesieve, idle_timeout, idle_timeout_ms, "30m", MS_SECOND, 24 * MS_HOUR,
	       "Idle time before a ManageSieve session is closed."),
	OPT(managesieve, max_bad_commands, CONFIG_UINT, "10", 1, 1000, NULL,
	    "Unknown or malformed commands before the server says BYE."),
	OPT(managesieve, max_connections, CONFIG_UINT, "1000", 1, 1000000, NULL,
	    "ManageSieve connections open at once; more are refused without touching the other protocols' room."),
	OPT(managesieve, unauthenticate, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Offer UNAUTHENTICATE (RFC 5804 2.14.1), which returns an authenticated session to the non-authenticated state."),

	OPT(sieve, max_scripts, CONFIG_UINT, "20", 1, 10000, NULL,
	    "Sieve scripts one user may store (ManageSieve QUOTA/MAXSCRIPTS)."),
	OPT(sieve, max_script_size, CONFIG_SIZE, "64k", KIB, 16 * MIB, NULL,
	    "Largest Sieve script accepted (ManageSieve QUOTA/MAXSIZE); larger uploads are refused before they are read."),
	OPT(sieve, max_total_size, CONFIG_SIZE, "1M", KIB, GIB, NULL,
	    "Octets all of one user's Sieve scripts may use together (ManageSieve QUOTA)."),
	OPT(sieve, max_redirects, CONFIG_UINT, "4", 1, 100, NULL,
	    "redirect actions one script run may perform (announced as MAXREDIRECTS); more are a runtime error."),
	OPT(sieve, redirects_per_day, CONFIG_UINT, "200", 0, 1000000, NULL,
	    "Messages one user's scripts may redirect per day (UTC); past it redirects are dropped, the message is kept and the refusal logged. 0 forbids redirect."),
	OPT(sieve, global_before, CONFIG_STRING, "", 0, 0, NULL,
	    "Path of a Sieve script run before every user's own script at every local delivery; empty means none."),
	OPT(sieve, global_after, CONFIG_STRING, "", 0, 0, NULL,
	    "Path of a Sieve script run after every user's own script (unless it stopped) at every local delivery; empty means none."),
	OPT(sieve, global_dir, CONFIG_STRING, "", 0, 0, NULL,
	    "Directory of the scripts users may include with include :global \"NAME\" (RFC 6609), each a file NAME.sieve; empty means none exist."),
	OPT_MS(sieve, vacation_min_period, vacation_min_period_ms, "1d", MS_SECOND, 365 * MS_DAY,
	       "Shortest period between two vacation replies to one sender; shorter :days/:seconds are raised to it (RFC 5230 4.1, RFC 6131)."),
	OPT_MS(sieve, vacation_max_period, vacation_max_period_ms, "90d", MS_SECOND, 365 * MS_DAY,
	       "Longest period between two vacation replies to one sender; longer ones are lowered to it."),
	OPT_MS(sieve, vacation_default_period, vacation_default_period_ms, "7d", MS_SECOND, 365 * MS_DAY,
	       "Period between two vacation replies to one sender when the script gives neither :days nor :seconds."),
	OPT(sieve, srs_secret, CONFIG_STRING, "", 0, 0, NULL,
	    "Secret key of the Sender Rewriting Scheme applied to redirected mail (SRS0 with a keyed hash); empty keeps the original envelope sender, which breaks SPF at the destination."),
	OPT(sieve, srs_domain, CONFIG_STRING, "", 0, 0, NULL,
	    "Domain of SRS addresses (one of ours, whose SPF allows this server); empty means [server] hostname."),
	OPT_MS(sieve, srs_max_age, srs_max_age_ms, "21d", MS_DAY, 365 * MS_DAY,
	       "How long a bounce to an SRS address is accepted after the redirect; older ones are refused."),
	OPT(sieve, max_loop_hops, CONFIG_UINT, "5", 1, 100, NULL,
	    "Messages already carrying this many X-Cairn-Loop: headers for the recipient are not redirected again (loop detection)."),
	OPT(scan, smtp, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Scan mail received on the MX listener ([smtp] listen)."),
	OPT(scan, lmtp, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Scan mail received over LMTP ([smtp] lmtp_listen)."),
	OPT(scan, submission, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Scan mail of authenticated users on the submission listeners (only the modules that opt in run there)."),
	OPT(scan, authserv_id, CONFIG_STRING, "", 0, 0, NULL,
	    "The authserv-id of the Authentication-Results header (RFC 8601); existing headers with this id are removed. Empty means [server] hostname."),
	OPT(scan, tag_threshold, CONFIG_STRING, "5.0", 0, 0, NULL,
	    "Score from which a message is marked as spam (X-Spam-Status: Yes, X-Spam-Flag: YES); \"off\" never."),
	OPT(scan, junk_threshold, CONFIG_STRING, "5.0", 0, 0, NULL,
	    "Score from which a message goes to each recipient's Junk mailbox; \"off\" never."),
	OPT(scan, quarantine_threshold, CONFIG_STRING, "off", 0, 0, NULL,
	    "Score from which a message is quarantined (cairnctl quarantine) instead of delivered; \"off\" never."),
	OPT(scan, reject_threshold, CONFIG_STRING, "15.0", 0, 0, NULL,
	    "Score from which a message is refused with 550 5.7.1 at the end of DATA; \"off\" never."),
	OPT_MS(scan, timeout, timeout_ms, "30s", 100, 10 * MS_MINUTE,
	       "Limit on the whole scan of one message; past it the on_timeout answer is given."),
	OPT_MS(scan, step_timeout, step_timeout_ms, "10s", 10, 10 * MS_MINUTE,
	       "Default time budget of each check module per message (a module may set its own)."),
	OPT_MS(scan, dns_timeout, dns_timeout_ms, "3s", 10, MS_MINUTE,
	       "Limit on one DNS query of the checks (SPF, DKIM keys, DMARC, DNS lists), never past the step budget. The server is [queue] resolver."),
	OPT(scan, on_timeout, CONFIG_ENUM, "tempfail", 0, 0, scan_answer_values,
	    "The answer for a message that cannot be scanned (timeout, or a fail-closed check failed): accept it unscanned, tempfail (451 4.7.1) or reject (554 5.7.1)."),
	OPT(scan, virus_action, CONFIG_ENUM, "reject", 0, 0, scan_virus_values,
	    "A message with a virus is refused at DATA, or kept in the quarantine; it is never delivered."),
	OPT(scan, report, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Add X-Spam-Report (the tests hit, with scores) to messages at or above tag_threshold."),
	OPT(scan, spf, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Check SPF (RFC 7208) of the HELO and MAIL FROM identities."),
	OPT(scan, dkim, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Verify DKIM signatures (RFC 6376; rsa-sha256 and ed25519-sha256)."),
	OPT(scan, dmarc, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Evaluate DMARC (RFC 7489) of the From: domain (needs spf and dkim)."),
	OPT(scan, arc, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Validate ARC chains (RFC 8617) and report them as arc= in Authentication-Results."),
	OPT(scan, dmarc_reject, CONFIG_ENUM, "reject", 0, 0, scan_dmarc_values,
	    "What a DMARC failure under p=reject does: reject at DATA, quarantine, deliver to Junk, or only tag."),
	OPT(scan, dmarc_quarantine, CONFIG_ENUM, "junk", 0, 0, scan_dmarc_values,
	    "What a DMARC failure under p=quarantine does: reject, quarantine, deliver to Junk, or only tag."),
	OPT(scan, policy_db, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Apply the per-domain and per-user overrides kept in PostgreSQL (cairnctl scan policy)."),
	OPT(scan, budgets, CONFIG_STRING, "", 0, 0, NULL,
	    "Time budgets of single check modules, overriding step_timeout and the module's own: \"spf:2s,clamd:20s\" (ms or s)."),
	OPT(scan, fail_closed, CONFIG_STRING, "", 0, 0, NULL,
	    "Check modules whose failure or timeout makes a message unscannable (see on_timeout), comma-separated: \"clamd,dkim\". Others fail open."),
	OPT(scan, disable, CONFIG_STRING, "", 0, 0, NULL,
	    "Check modules not to run, comma-separated (module names as in the scan log's timings)."),

	OPT(rules, enabled, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Run the SpamAssassin-syntax rules (header, body, rawbody, uri, full, meta) of dir and local_dir (see docs/scan-content.md)."),
	OPT(rules, dir, CONFIG_STRING, CAIRN_DATADIR "/rules", 0, 0, NULL,
	    "Directory of the shipped rule files (*.cf, read in name order); empty means none."),
	OPT(rules, local_dir, CONFIG_STRING, "/etc/cairn/rules.d", 0, 0, NULL,
	    "Directory of the administrator's rule files, read after dir (a rule defined again replaces the shipped one); SpamAssassin .cf files can be dropped here. A missing directory is skipped."),
	OPT(rules, score_set, CONFIG_UINT, "0", 0, 3, NULL,
	    "Which of a 4-score rule's scores applies (SpamAssassin's sets: 0 no Bayes and no network tests, 1 network, 2 Bayes, 3 both)."),
	OPT_MS(rules, budget, budget_ms, "5s", 10, 10 * MS_MINUTE,
	       "Time budget of the rules per message; past it the hits found so far count and the module reports a timeout."),

	OPT(clamd, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Scan every message with ClamAV's clamd (INSTREAM)."),
	OPT(clamd, socket, CONFIG_STRING, "/run/clamav/clamd.ctl", 0, 0, NULL,
	    "clamd's socket: a path (or unix:PATH) for its LocalSocket, or host:port ([v6]:port) for its TCPSocket."),
	OPT_MS(clamd, timeout, timeout_ms, "20s", 10, 10 * MS_MINUTE,
	       "Limit on one scan by clamd (connect, send, answer), never past the stage's deadline."),
	OPT(clamd, failure, CONFIG_ENUM, "closed", 0, 0, scan_fail_values,
	    "When clamd is down, slow or answers an error: open delivers without the virus check, closed makes the message unscannable ([scan] on_timeout answers)."),
	OPT(clamd, max_size, CONFIG_SIZE, "25M", 0, 4 * GIB, NULL,
	    "Larger messages are not sent to clamd (keep it at most clamd's StreamMaxLength); 0 means no limit."),

	OPT(spamd, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Ask SpamAssassin's spamd for its score (SPAMC protocol, SYMBOLS)."),
	OPT(spamd, socket, CONFIG_STRING, "127.0.0.1:783", 0, 0, NULL,
	    "spamd's address: host:port ([v6]:port), or a path (unix:PATH) for spamd --socketpath."),
	OPT(spamd, user, CONFIG_STRING, "", 0, 0, NULL,
	    "The User: spamd runs the check as (its per-user preferences); empty sends none."),
	OPT_MS(spamd, timeout, timeout_ms, "20s", 10, 10 * MS_MINUTE,
	       "Limit on one check by spamd, never past the stage's deadline."),
	OPT(spamd, failure, CONFIG_ENUM, "open", 0, 0, scan_fail_values,
	    "When spamd is down, slow or answers an error: open ignores it, closed makes the message unscannable."),
	OPT(spamd, mode, CONFIG_ENUM, "add", 0, 0, spamd_mode_values,
	    "add: spamd's score is added to Cairn's as test SPAMD; alone: spamd's score replaces the content score of the other checks (SPAMD then carries the difference)."),
	OPT(spamd, max_size, CONFIG_SIZE, "1M", 0, GIB, NULL,
	    "Larger messages are not sent to spamd (spamc's default limit is 500k); 0 means no limit."),

	OPT(bayes, enabled, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Classify messages with the Bayes filter (test BAYES_00 ... BAYES_999) once it has been trained enough, and train it from the users' Junk actions over IMAP."),
	OPT(bayes, per_user, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Use a single recipient's own token database when it is trained enough; otherwise (and for several recipients) the global one that every training also feeds."),
	OPT(bayes, min_spam, CONFIG_UINT, "200", 1, 1000000, NULL,
	    "Spam messages a database must have learned before it classifies (SpamAssassin's bayes_min_spam_num)."),
	OPT(bayes, min_ham, CONFIG_UINT, "200", 1, 1000000, NULL,
	    "Ham messages a database must have learned before it classifies (bayes_min_ham_num)."),
	OPT(bayes, hapax_expire_days, CONFIG_UINT, "21", 1, 36500, NULL,
	    "Tokens seen in one message only (hapaxes) are dropped after this many days without use."),
	OPT(bayes, token_expire_days, CONFIG_UINT, "180", 1, 36500, NULL,
	    "Any token is dropped after this many days without use."),
	OPT_MS(bayes, train_interval, train_interval_ms, "2s", 50, MS_HOUR,
	       "How often cairnd looks for trainings asked for over IMAP (moves into or out of Junk, $Junk/$NotJunk)."),
	OPT(bayes, train_batch, CONFIG_UINT, "50", 1, 10000, NULL,
	    "Trainings done per background job."),
	OPT_MS(bayes, budget, budget_ms, "5s", 10, 10 * MS_MINUTE,
	       "Time budget of the classification per message."),

	OPT(dnsbl, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Look the client IP up in the lists and the domains of the message's URLs in the uribl lists (the resolver is [queue] resolver)."),
	OPT(dnsbl, lists, CONFIG_STRING, "", 0, 0, NULL,
	    "DNSBL/DNSWL zones for the client IP (IPv4 and IPv6), comma-separated \"zone=weight\" or \"zone/127.0.0.N=weight\" (only that answer counts); a negative weight makes a whitelist. Each listing adds test DNSBL_<ZONE> with its weight."),
	OPT(dnsbl, uribl, CONFIG_STRING, "", 0, 0, NULL,
	    "URIBL zones for the registrable domains (Public Suffix List) of the URLs in the text, in the same form; test URIBL_<ZONE>."),
	OPT(dnsbl, max_uri_domains, CONFIG_UINT, "20", 1, 1000, NULL,
	    "Distinct URL domains of one message looked up in the uribl zones."),
	OPT_MS(dnsbl, budget, budget_ms, "5s", 10, 10 * MS_MINUTE,
	       "Time budget of the DNS list lookups per message."),

	OPT(greylist, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Greylist: answer 451 4.7.1 at DATA to the first message of a new (client network, sender, recipient) triplet; a retry after delay passes it. Triplets are kept in PostgreSQL and shared by every node."),
	OPT(greylist, domains, CONFIG_STRING, "", 0, 0, NULL,
	    "Comma-separated recipient domains that are greylisted; empty means all local domains."),
	OPT_MS(greylist, delay, delay_ms, "5m", 0, MS_DAY,
	       "How long a new triplet is refused."),
	OPT_MS(greylist, window, window_ms, "2d", MS_MINUTE, 30 * MS_DAY,
	       "A retry must come within this time after the first attempt; later ones start over."),
	OPT_MS(greylist, expire, expire_ms, "35d", MS_HOUR, 365 * MS_DAY,
	       "Triplets not seen for this long are forgotten."),
	OPT(greylist, ipv4_prefix, CONFIG_UINT, "24", 8, 32, NULL,
	    "The client network of a triplet: IPv4 addresses by this prefix (a sender's pool of outgoing servers retries from another address)."),
	OPT(greylist, ipv6_prefix, CONFIG_UINT, "64", 16, 128, NULL,
	    "The client network of a triplet for IPv6 addresses."),

	OPT(milter, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Pass every message through a milter (Sendmail milter protocol 6): rspamd, clamav-milter, OpenDKIM, OpenDMARC..."),
	OPT(milter, socket, CONFIG_STRING, "", 0, 0, NULL,
	    "The milter's socket, as in Postfix: unix:/path (or a path), inet:host:port (or host:port)."),
	OPT_MS(milter, timeout, timeout_ms, "30s", 10, 10 * MS_MINUTE,
	       "Limit on the whole conversation with the milter for one message."),
	OPT(milter, failure, CONFIG_ENUM, "open", 0, 0, scan_fail_values,
	    "When the milter is down, slow or speaks garbage: open ignores it, closed makes the message unscannable."),

	OPT(rspamd, enabled, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Ask rspamd (its normal worker, HTTP POST /checkv2) for its score and action."),
	OPT(rspamd, socket, CONFIG_STRING, "127.0.0.1:11333", 0, 0, NULL,
	    "rspamd's normal worker: host:port ([v6]:port) or a unix socket path."),
	OPT_MS(rspamd, timeout, timeout_ms, "20s", 10, 10 * MS_MINUTE,
	       "Limit on one check by rspamd."),
	OPT(rspamd, failure, CONFIG_ENUM, "open", 0, 0, scan_fail_values,
	    "When rspamd is down, slow or answers an error: open ignores it, closed makes the message unscannable."),
	OPT(rspamd, use_action, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Follow rspamd's action: reject refuses at DATA, soft reject tempfails, add header and rewrite subject deliver to Junk (greylist is left to [greylist]). Its score is added as test RSPAMD either way."),
	OPT(rspamd, max_size, CONFIG_SIZE, "20M", 0, GIB, NULL,
	    "Larger messages are not sent to rspamd; 0 means no limit."),
	OPT(webadmin, templates, CONFIG_STRING, CAIRN_DATADIR "/webadmin/templates", 0, 0, NULL,
	    "Directory of cairn-admin.cgi's HTML templates and stylesheet."),
	OPT(webadmin, admin_group, CONFIG_STRING, "cairn-admins", 0, 0, NULL,
	    "Members of this directory group are administrators: a group address, or a local part looked up in the user's own domain. accounts.is_admin makes an administrator too."),
	OPT_MS(webadmin, session_idle, session_idle_ms, "30m", MS_MINUTE, MS_DAY,
	       "A web admin session ends after this long without a request."),
	OPT_MS(webadmin, session_max, session_max_ms, "12h", MS_MINUTE, 30 * MS_DAY,
	       "A web admin session ends this long after login, however busy."),
	OPT(webadmin, max_body, CONFIG_SIZE, "1m", 1024, 64 * MIB, NULL,
	    "Largest request body (CONTENT_LENGTH) cairn-admin.cgi reads; larger requests get 413."),
	OPT(webadmin, page_size, CONFIG_UINT, "50", 5, 500, NULL,
	    "Rows per page in the web admin's lists."),
	OPT(webadmin, origin, CONFIG_STRING, "", 0, 0, NULL,
	    "The admin's origin as browsers send it (https://admin.example.com); empty means the scheme and Host of each request. State changes from any other Origin or Referer are refused."),
	OPT(imip, inbound, CONFIG_BOOL, "yes", 0, 0, NULL,
	    "Apply the iTIP message (RFC 6047 iMIP: text/calendar with a METHOD) of mail delivered to a local user to their calendars and scheduling inbox, after the sender checks of docs/scheduling-imip.md; the mail itself lands in INBOX either way."),
	OPT(imip, require_dmarc_pass, CONFIG_BOOL, "no", 0, 0, NULL,
	    "Apply inbound iMIP only when the scan stage's DMARC check passed for the From: domain. With no, a DMARC fail (or temperror/permerror) still refuses it, but mail from a domain without a DMARC record, or not scanned, is applied as unverified."),
	OPT_MS(imip, auto_reply_period, auto_reply_period_ms, "1d", MS_SECOND, 365 * MS_DAY,
	       "An automatic iMIP answer (a resource's REPLY) goes at most once per sender, recipient, UID, SEQUENCE and method within this period, so two automatic systems cannot loop."),

	OPT(sched, max_attendees, CONFIG_UINT, "500", 1, 100000, NULL,
	    "Most ATTENDEEs one component of a scheduled event may have (CALDAV:max-attendees-per-instance); a larger meeting is refused with 403."),

	{ NULL, NULL, CONFIG_STRING, NULL, 0, 0, NULL, 0, NULL },
};

static const struct {
	const char *name;
	const char *intro;
} config_sections[] = {
	{ "server", "The cairnd process: identity, privileges, connection limits and logging." },
	{ "tls", "Certificates for implicit TLS and STARTTLS on every protocol." },
	{ "store", "The PostgreSQL store." },
	{ "directory", "Users, aliases and groups: the embedded sql backend or an LDAP server, and login throttling." },
	{ "http", "The CalDAV/CardDAV HTTP listener." },
	{ "pop3", "The POP3 gateway (RFC 1939) for download clients." },
	{ "imap", "The IMAP gateway (IMAP4rev1 and IMAP4rev2)." },
	{ "smtp", "Inbound SMTP (MX) and LMTP: delivery of mail to local users." },
	{ "submission", "Authenticated message submission from users' mail clients." },
	{ "queue", "The outbound queue: runners, retries, bounces and the remote SMTP client (see docs/queue.md)." },
	{ "managesieve", "The ManageSieve gateway (RFC 5804) where users' mail clients upload their Sieve scripts (see docs/sieve.md)." },
	{ "sieve", "Sieve filtering at delivery: script quotas, global scripts, vacation, redirect limits and SRS (see docs/sieve.md)." },
	{ "scan", "The scan stage: sender authentication, spam and virus checks before the reply to DATA (see docs/scan.md)." },
	{ "rules", "SpamAssassin-syntax rules of the scan stage (see docs/scan-content.md)." },
	{ "clamd", "The ClamAV clamd virus scanner client of the scan stage (see docs/scan-content.md)." },
	{ "spamd", "The SpamAssassin spamd client of the scan stage (see docs/scan-content.md)." },
	{ "bayes", "The Bayes classifier of the scan stage and its training (see docs/scan-content.md)." },
	{ "dnsbl", "DNS blocklists and whitelists of the scan stage: the client IP and the domains of URLs (see docs/scan-content.md)." },
	{ "greylist", "Greylisting of the scan stage (see docs/scan-content.md)." },
	{ "milter", "A milter client of the scan stage (see docs/scan-content.md)." },
	{ "rspamd", "The rspamd client of the scan stage (see docs/scan-content.md)." },
	{ "webadmin", "cairn-admin.cgi, the web admin (see docs/webadmin.md)." },
	{ "sched", "CalDAV scheduling between calendar users: implicit scheduling, the scheduling inbox and outbox (see docs/scheduling.md)." },
	{ "imip", "iTIP by mail with the outside world: invitations out through the queue, replies and invitations in through delivery (see docs/scheduling-imip.md)." },
	{ "routes", "Static routes of the outbound queue, one `domain = host:port [tls=...] [auth=...]` line per domain, "
		    "`*` for a smarthost; domains without a route go by MX (see docs/queue.md)." },
};

/* Map sections: their keys are data (a domain per line), not options, kept
 * in a struct config_map and checked by the owning module's checker. */
static const struct {
	const char *section;
	size_t offset;		/* of the struct config_map */
} config_map_sections[] = {
	{ "routes", offsetof(struct config, routes) },
};

/* Reader state meaning "keys here were already reported or belong nowhere". */
#define SECTION_NONE (-1)
#define SECTION_SKIP (-2)

#define NUM_OPTIONS (ARRAY_SIZE(config_options) - 1)

/* Checkers of map sections, indexed like config_map_sections[]. */
static config_map_check_fn *map_checks[ARRAY_SIZE(config_map_sections)];

/* Index into config_map_sections[] of a section name, or -1. */
static int map_index(const char *section)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_map_sections); i++)
		if (strcmp(config_map_sections[i].section, section) == 0)
			return (int)i;
	return -1;
}

void config_set_map_check(const char *section, config_map_check_fn *fn)
{
	int idx = map_index(section);
	if (idx < 0) {
		fprintf(stderr, "cairn: config_set_map_check: [%s] is not a map section\n", section);
		abort();
	}
	map_checks[idx] = fn;
}

const char *config_map_get(const struct config_map *map, const char *key)
{
	for (size_t i = 0; i < map->count; i++)
		if (str_casecmp(map->entries[i].key, key) == 0)
			return map->entries[i].value;
	return NULL;
}

static struct config_map *section_map(struct config *cfg, int idx)
{
	return (struct config_map *)((char *)cfg + config_map_sections[idx].offset);
}

struct loader {
	const char *path;
	FILE *fp;
	struct config *cfg;
	struct buf *errors;
	unsigned nerrors;
	int lineno;
	int read_errno;		/* getline failed with this */
	char *line;		/* the current physical line, for our own scan */
	size_t line_cap;
	int section;		/* index into config_sections[] or SECTION_* */
	/* A line too long for inih's buffer: the handler takes these instead. */
	bool long_line;
	char *long_name, *long_value;
	int set_line[NUM_OPTIONS];	/* where each option was set, 0 = not */
};

static void ATTR_PRINTF(3, 4) load_error(struct loader *ld, int lineno, const char *fmt, ...)
{
	va_list ap;

	if (++ld->nerrors > CONFIG_MAX_ERRORS) {
		if (ld->nerrors == CONFIG_MAX_ERRORS + 1)
			buf_printf(ld->errors, "%s: too many errors, giving up\n", ld->path);
		return;
	}
	if (lineno > 0) {
		buf_printf(ld->errors, "%s:%d: ", ld->path, lineno);
	} else {
		buf_printf(ld->errors, "%s: ", ld->path);
	}
	va_start(ap, fmt);
	buf_vprintf(ld->errors, fmt, ap);
	va_end(ap);
	buf_append_str(ld->errors, "\n");
}

/* A value quoted in a message: short enough to read, marked when cut. */
static const char *quote(const char *s, char *out, size_t size)
{
	size_t n = strlen(s);
	if (n < size)
		return s;
	snprintf(out, size, "%.*s...", (int)(size - 4), s);
	return out;
}

static void *opt_field(struct config *cfg, const struct config_option *opt)
{
	return (char *)cfg + opt->offset;
}

/* ---- value parsers ---- */

int config_parse_bool(const char *s, bool *value_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (str_casecmp(s, yes[i]) == 0) {
			*value_r = true;
			return 0;
		}
		if (str_casecmp(s, no[i]) == 0) {
			*value_r = false;
			return 0;
		}
	}
	return -1;
}

/* Multiply with a check instead of wrapping around to a small number. */
static int mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b != 0 && a > UINT64_MAX / b)
		return -1;
	*r = a * b;
	return 0;
}

static size_t count_digits(const char *s)
{
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

/* The parsers below set *overflow_r when the text is well formed but the
 * number does not fit, so messages can say "out of range" instead. */
static int parse_uint(const char *s, uint64_t *v_r, bool *overflow_r)
{
	size_t n = count_digits(s);

	*overflow_r = false;
	if (n == 0 || s[n] != '\0')
		return -1;
	if (str_to_u64(s, n, UINT64_MAX, v_r) < 0) {
		*overflow_r = true;
		return -1;
	}
	return 0;
}

static int parse_size(const char *s, uint64_t *bytes_r, bool *overflow_r)
{
	size_t n = count_digits(s);
	uint64_t v, mult;

	*overflow_r = false;
	if (n == 0)
		return -1;
	switch (s[n]) {
	case '\0': mult = 1; break;
	case 'k': case 'K': mult = KIB; break;
	case 'm': case 'M': mult = MIB; break;
	case 'g': case 'G': mult = GIB; break;
	case 't': case 'T': mult = 1024 * GIB; break;
	default: return -1;
	}
	if (mult != 1 && s[n + 1] != '\0')
		return -1;
	/* Only digits were counted, so a failure here is an overflow. */
	if (str_to_u64(s, n, UINT64_MAX, &v) < 0 || mul_u64(v, mult, bytes_r) < 0) {
		*overflow_r = true;
		return -1;
	}
	return 0;
}

static int parse_duration(const char *s, uint64_t *ms_r, bool *overflow_r)
{
	uint64_t total = 0;
	bool overflow = false;

	*overflow_r = false;
	/* A bare number is seconds; otherwise a sequence such as "1h30m". */
	size_t n = count_digits(s);
	if (n == 0)
		return -1;
	if (s[n] == '\0') {
		uint64_t v;
		if (str_to_u64(s, n, UINT64_MAX, &v) < 0 || mul_u64(v, MS_SECOND, ms_r) < 0) {
			*overflow_r = true;
			return -1;
		}
		return 0;
	}
	while (*s != '\0') {
		uint64_t v = 0, mult, part;
		n = count_digits(s);
		if (n == 0)
			return -1;
		/* Keep checking the syntax after an overflow: junk wins. */
		if (str_to_u64(s, n, UINT64_MAX, &v) < 0)
			overflow = true;
		s += n;
		if (s[0] == 'm' && s[1] == 's') {
			mult = 1;
			s += 2;
		} else {
			switch (*s) {
			case 's': mult = MS_SECOND; break;
			case 'm': mult = MS_MINUTE; break;
			case 'h': mult = MS_HOUR; break;
			case 'd': mult = MS_DAY; break;
			default: return -1;
			}
			s++;
		}
		if (mul_u64(v, mult, &part) < 0 || part > UINT64_MAX - total)
			overflow = true;
		else
			total += part;
	}
	if (overflow) {
		*overflow_r = true;
		return -1;
	}
	*ms_r = total;
	return 0;
}

int config_parse_size(const char *s, uint64_t *bytes_r)
{
	bool overflow;
	return parse_size(s, bytes_r, &overflow);
}

int config_parse_duration(const char *s, uint64_t *ms_r)
{
	bool overflow;
	return parse_duration(s, ms_r, &overflow);
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* A DNS name: labels of 1..63 letters, digits and inner hyphens. */
static const char *check_hostname(const char *h)
{
	size_t len = strlen(h), label = 0;
	bool numeric = true;

	if (len > 253)
		return "host name longer than 253 characters";
	for (size_t i = 0; i <= len; i++) {
		char c = h[i];
		if (c == '.' || c == '\0') {
			if (label == 0)
				return "empty label in host name";
			if (h[i - 1] == '-')
				return "host name label ends with '-'";
			label = 0;
			continue;
		}
		if (!is_host_char(c))
			return "invalid character in host name";
		if (label == 0 && c == '-')
			return "host name label starts with '-'";
		if (++label > 63)
			return "host name label longer than 63 characters";
		if (c < '0' || c > '9')
			numeric = false;
	}
	/* "10.0.0.300" is a mistyped address, not a name. */
	if (numeric)
		return "invalid IPv4 address";
	return NULL;
}

/* Parse one "host:port" entry; returns NULL or the reason it is bad. */
static const char *parse_listen_entry(const char *ent, struct config_listen_addr *addr)
{
	const char *port;
	char host[256];
	size_t hlen;

	if (ent[0] == '[') {
		const char *close = strchr(ent, ']');
		if (close == NULL)
			return "missing ']' after IPv6 address";
		if (close[1] != ':')
			return "missing ':port' after ']'";
		hlen = (size_t)(close - ent - 1);
		if (hlen == 0 || hlen >= sizeof(host))
			return "invalid IPv6 address";
		memcpy(host, ent + 1, hlen);
		host[hlen] = '\0';
		port = close + 2;
		/* A link-local address may carry a zone: [fe80::1%eth0]. */
		char *zone = strchr(host, '%');
		if (zone != NULL) {
			*zone = '\0';
			if (zone[1] == '\0' || strspn(zone + 1, "abcdefghijklmnopqrstuvwxyz"
							      "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
						       != strlen(zone + 1))
				return "invalid IPv6 zone";
		}
		struct in6_addr a6;
		if (inet_pton(AF_INET6, host, &a6) != 1)
			return "invalid IPv6 address";
		if (zone != NULL)
			*zone = '%';
	} else {
		const char *colon = strrchr(ent, ':');
		if (colon == NULL)
			return "missing ':port' (expected host:port, *:port or [ipv6]:port)";
		hlen = (size_t)(colon - ent);
		if (memchr(ent, ':', hlen) != NULL)
			return "IPv6 address must be in brackets, as in [::1]:port";
		if (hlen == 0)
			return "missing host (use *:port for every address)";
		if (hlen >= sizeof(host))
			return "host name longer than 253 characters";
		memcpy(host, ent, hlen);
		host[hlen] = '\0';
		port = colon + 1;
		if (strcmp(host, "*") == 0) {
			host[0] = '\0';
		} else {
			struct in_addr a4;
			const char *why;
			if (inet_pton(AF_INET, host, &a4) != 1 && (why = check_hostname(host)) != NULL)
				return why;
		}
	}
	uint64_t p;
	if (str_to_u64(port, strlen(port), 65535, &p) < 0 || p == 0)
		return "port must be a number from 1 to 65535";
	if (addr != NULL) {
		memcpy(addr->host, host, sizeof(host));
		addr->port = (unsigned)p;
	}
	return NULL;
}

static bool is_listen_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* error_r points into a per-thread buffer, valid until the next call. */
int config_parse_listen(const char *value, struct config_listen_addr *addrs, size_t max,
			const char **error_r)
{
	static __thread char errbuf[384];
	const char *p = value;
	size_t count = 0;
	bool need_entry = false;

	for (;;) {
		while (is_listen_space(*p))
			p++;
		if (*p == '\0' || *p == ',') {
			if (need_entry || *p == ',') {
				*error_r = "empty entry in the address list";
				return -1;
			}
			break;
		}
		size_t len = 0;
		while (p[len] != '\0' && p[len] != ',' && !is_listen_space(p[len]))
			len++;
		char ent[300];
		if (len >= sizeof(ent)) {
			snprintf(errbuf, sizeof(errbuf), "'%.40s...': entry too long", p);
			*error_r = errbuf;
			return -1;
		}
		memcpy(ent, p, len);
		ent[len] = '\0';
		p += len;

		const char *why = parse_listen_entry(ent, count < max ? &addrs[count] : NULL);
		if (why != NULL) {
			snprintf(errbuf, sizeof(errbuf), "'%.64s%s': %s", ent, len > 64 ? "..." : "", why);
			*error_r = errbuf;
			return -1;
		}
		count++;
		while (is_listen_space(*p))
			p++;
		need_entry = *p == ',';
		if (need_entry)
			p++;
	}
	if (count > INT32_MAX) {
		*error_r = "too many addresses";
		return -1;
	}
	return (int)count;
}

/* ---- formatting values for messages and docs ---- */

static void format_size(uint64_t v, char *out, size_t size)
{
	if (v != 0 && v % GIB == 0)
		snprintf(out, size, "%" PRIu64 "G", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(out, size, "%" PRIu64 "M", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(out, size, "%" PRIu64 "k", v / KIB);
	else
		snprintf(out, size, "%" PRIu64, v);
}

static void format_duration(uint64_t ms, char *out, size_t size)
{
	if (ms != 0 && ms % MS_DAY == 0)
		snprintf(out, size, "%" PRIu64 "d", ms / MS_DAY);
	else if (ms != 0 && ms % MS_HOUR == 0)
		snprintf(out, size, "%" PRIu64 "h", ms / MS_HOUR);
	else if (ms != 0 && ms % MS_MINUTE == 0)
		snprintf(out, size, "%" PRIu64 "m", ms / MS_MINUTE);
	else if (ms % MS_SECOND == 0)
		snprintf(out, size, "%" PRIu64 "s", ms / MS_SECOND);
	else
		snprintf(out, size, "%" PRIu64 "ms", ms);
}

static void format_number(const struct config_option *opt, uint64_t v, char *out, size_t size)
{
	if (opt->type == CONFIG_SIZE)
		format_size(v, out, size);
	else if (opt->type == CONFIG_DURATION)
		format_duration(v, out, size);
	else
		snprintf(out, size, "%" PRIu64, v);
}

static void format_enum_values(const struct config_option *opt, const char *sep, struct buf *out)
{
	for (size_t i = 0; opt->enum_values[i] != NULL; i++)
		buf_printf(out, "%s%s", i > 0 ? sep : "", opt->enum_values[i]);
}

/* "from 1 to 256", "from 1k to 1M": the range, in the file's own units. */
static void format_range(const struct config_option *opt, char *out, size_t size)
{
	char lo[32], hi[32];
	format_number(opt, opt->min, lo, sizeof(lo));
	format_number(opt, opt->max, hi, sizeof(hi));
	snprintf(out, size, "from %s to %s", lo, hi);
}

static const char *type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_STRING: return "string";
	case CONFIG_BOOL: return "boolean";
	case CONFIG_UINT: return "number";
	case CONFIG_SIZE: return "size";
	case CONFIG_DURATION: return "duration";
	case CONFIG_ENUM: return "enum";
	case CONFIG_LISTEN: return "address list";
	}
	return "?";
}

/* ---- setting options ---- */

static int parse_enum(const struct config_option *opt, const char *value, unsigned *index_r)
{
	/* log.c owns the level names; the table only repeats them for docs. */
	if (opt->enum_values == log_level_values) {
		enum log_level level;
		if (log_level_parse(value, &level) < 0)
			return -1;
		*index_r = (unsigned)level;
		return 0;
	}
	for (unsigned i = 0; opt->enum_values[i] != NULL; i++) {
		if (str_casecmp(value, opt->enum_values[i]) == 0) {
			*index_r = i;
			return 0;
		}
	}
	return -1;
}

/* Store value into cfg. Returns 0, or -1 with the reason in why (without the
 * option name or line, which the caller adds). */
static int set_option(struct config *cfg, const struct config_option *opt, const char *value,
		      char *why, size_t why_size)
{
	void *field = opt_field(cfg, opt);
	char range[96], q[72];
	uint64_t v;
	bool overflow;
	int ret;

	switch (opt->type) {
	case CONFIG_STRING:
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	case CONFIG_LISTEN: {
		const char *error;
		if (config_parse_listen(value, NULL, 0, &error) < 0) {
			snprintf(why, why_size, "bad address %s", error);
			return -1;
		}
		free(*(char **)field);
		*(char **)field = xstrdup(value);
		return 0;
	}
	case CONFIG_BOOL:
		if (config_parse_bool(value, (bool *)field) < 0) {
			snprintf(why, why_size, "'%s' is not a boolean (expected yes/no, true/false, on/off or 1/0)",
				 quote(value, q, sizeof(q)));
			return -1;
		}
		return 0;
	case CONFIG_ENUM: {
		struct buf vals;
		if (parse_enum(opt, value, (unsigned *)field) == 0)
			return 0;
		buf_init(&vals, 0);
		format_enum_values(opt, ", ", &vals);
		snprintf(why, why_size, "'%s' is not one of %s", quote(value, q, sizeof(q)), vals.data);
		buf_free(&vals);
		return -1;
	}
	case CONFIG_UINT:
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		format_range(opt, range, sizeof(range));
		if (opt->type == CONFIG_UINT)
			ret = parse_uint(value, &v, &overflow);
		else if (opt->type == CONFIG_SIZE)
			ret = parse_size(value, &v, &overflow);
		else
			ret = parse_duration(value, &v, &overflow);
		if (ret < 0) {
			if (overflow)
				snprintf(why, why_size, "'%s' is out of range (%s)", quote(value, q, sizeof(q)), range);
			else if (opt->type == CONFIG_UINT)
				snprintf(why, why_size, "'%s' is not a whole number (%s)", quote(value, q, sizeof(q)), range);
			else if (opt->type == CONFIG_SIZE)
				snprintf(why, why_size, "'%s' is not a size such as 512, 16k, 10M or 1G (%s)",
					 quote(value, q, sizeof(q)), range);
			else
				snprintf(why, why_size, "'%s' is not a duration such as 500ms, 10s, 5m, 1h or 2d (%s)",
					 quote(value, q, sizeof(q)), range);
			return -1;
		}
		if (v < opt->min || v > opt->max) {
			snprintf(why, why_size, "'%s' is out of range (%s)", quote(value, q, sizeof(q)), range);
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	}
	snprintf(why, why_size, "unknown option type");
	return -1;
}

struct config *config_defaults(void)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	char why[256];

	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		/* The table's defaults are checked by the unit tests; a bad one is a bug. */
		if (set_option(cfg, opt, opt->def, why, sizeof(why)) < 0) {
			fprintf(stderr, "cairn: bad default for [%s] %s: %s\n", opt->section, opt->name, why);
			abort();
		}
	}
	return cfg;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = *cfgp;

	if (cfg == NULL)
		return;
	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		if (opt->type == CONFIG_STRING || opt->type == CONFIG_LISTEN)
			free(*(char **)opt_field(cfg, opt));
	}
	for (size_t s = 0; s < ARRAY_SIZE(config_map_sections); s++) {
		struct config_map *map = section_map(cfg, (int)s);
		for (size_t i = 0; i < map->count; i++) {
			free(map->entries[i].key);
			free(map->entries[i].value);
		}
		free(map->entries);
	}
	free(cfg->path);
	free(cfg);
	*cfgp = NULL;
}

/* ---- did you mean ---- */

/* Levenshtein distance, case-insensitive; long names just count as far. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[65];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t cost = str_ncasecmp(a + i - 1, b + j - 1, 1) == 0 ? 0 : 1;
			size_t best = diag + cost;
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Options that were renamed because their meaning changed: an old file gets
 * told what to write instead, not a bare "unknown option". */
static const struct {
	const char *section, *name, *now, *why;
} renamed_options[] = {
	{ "directory", "auth_max_failures_ip", "auth_max_failures_net",
	  "failures now count per client network, see [server] ipv4_prefix and ipv6_prefix" },
};

static const char *suggest_option(const char *section, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		if (strcmp(opt->section, section) != 0)
			continue;
		size_t d = edit_distance(name, opt->name);
		if (d < best_d) {
			best_d = d;
			best = opt->name;
		}
	}
	return best;
}

static const char *suggest_section(const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; i < ARRAY_SIZE(config_sections); i++) {
		size_t d = edit_distance(name, config_sections[i].name);
		if (d < best_d) {
			best_d = d;
			best = config_sections[i].name;
		}
	}
	return best;
}

/* ---- the loader ---- */

/* isspace() in the C locale, which is what inih uses. */
static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* inih's rule: ';' starts a comment only after whitespace. Returns a pointer
 * to the first of chars or the comment, or the end of s. */
static char *find_chars_or_comment(char *s, const char *chars)
{
	bool was_space = false;
	while (*s != '\0' && (chars == NULL || strchr(chars, *s) == NULL) &&
	       !(was_space && *s == ';')) {
		was_space = is_space(*s);
		s++;
	}
	return s;
}

static void rstrip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && is_space(s[n - 1]))
		s[--n] = '\0';
}

static char *lskip(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

static int find_section(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(config_sections); i++) {
		if (str_casecmp(name, config_sections[i].name) == 0)
			return (int)i;
	}
	return SECTION_NONE;
}

/* A "[name]" line: switch sections or report why we cannot. */
static void reader_section(struct loader *ld, char *start)
{
	char *end = find_chars_or_comment(start + 1, "]");
	char q[72];

	if (*end != ']') {
		load_error(ld, ld->lineno, "syntax error: missing ']' in section header");
		ld->section = SECTION_SKIP;
		return;
	}
	*end = '\0';
	char *rest = lskip(end + 1);
	char *name = lskip(start + 1);
	rstrip(name);
	int idx = find_section(name);
	if (idx < 0) {
		const char *hint = suggest_section(name);
		load_error(ld, ld->lineno, "unknown section [%s]%s%s%s", quote(name, q, sizeof(q)),
			   hint ? "; did you mean [" : "", hint ? hint : "", hint ? "]?" : "");
		ld->section = SECTION_SKIP;
		return;
	}
	if (*rest != '\0' && *rest != ';' && *rest != '#')
		load_error(ld, ld->lineno, "syntax error: unexpected text after [%s]", name);
	ld->section = idx;
}

/* ini_reader: hand inih one line at a time, so lineno is the handler's line.
 * Lines we have already judged bad (or that inih would cut) go in as blank. */
static char *config_reader(char *str, int num, void *stream)
{
	struct loader *ld = stream;
	ssize_t n = getline(&ld->line, &ld->line_cap, ld->fp);

	if (n < 0) {
		if (ferror(ld->fp))
			ld->read_errno = errno;
		return NULL;
	}
	ld->lineno++;
	ld->long_line = false;
	if (num < 4)
		return NULL;
	str[0] = '\n';
	str[1] = '\0';
	if (memchr(ld->line, '\0', (size_t)n) != NULL) {
		load_error(ld, ld->lineno, "syntax error: NUL byte in line");
		return str;
	}
	char *start = ld->line;
	if (ld->lineno == 1 && n >= 3 && memcmp(start, "\xEF\xBB\xBF", 3) == 0)
		start += 3;
	/* No leading space reaches inih, so it never sees a continuation line:
	 * an indented "name = value" is just an option. */
	start = lskip(start);
	rstrip(start);
	if (*start == '\0' || *start == '#' || *start == ';')
		return str;
	if (*start == '[') {
		reader_section(ld, start);
		return str;
	}
	char *sep = find_chars_or_comment(start, "=:");
	if (*sep != '=' && *sep != ':') {
		load_error(ld, ld->lineno, "syntax error: expected 'name = value' or '[section]'");
		return str;
	}
	if (sep == start) {
		load_error(ld, ld->lineno, "syntax error: missing option name before '%c'", *sep);
		return str;
	}
	size_t len = strlen(start);
	if (len + 2 <= (size_t)num) {
		memcpy(str, start, len);
		str[len] = '\n';
		str[len + 1] = '\0';
		return str;
	}
	/* Too long for inih's line buffer: split it ourselves, the same way. */
	*sep = '\0';
	rstrip(start);
	char *value = lskip(sep + 1);
	*find_chars_or_comment(value, NULL) = '\0';
	rstrip(value);
	ld->long_line = true;
	ld->long_name = start;
	ld->long_value = value;
	snprintf(str, (size_t)num, "x=\n");
	return str;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *ld = user;
	char q[72], why[512];

	(void)section;	/* the reader tracks sections; inih cuts long names */
	if (ld->long_line) {
		name = ld->long_name;
		value = ld->long_value;
	}
	if (ld->section == SECTION_SKIP)
		return 1;
	if (ld->section == SECTION_NONE) {
		const char *home = NULL;
		for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
			if (str_casecmp(opt->name, name) == 0) {
				home = opt->section;
				break;
			}
		}
		load_error(ld, ld->lineno, "option '%s' appears before any [section]%s%s%s",
			   quote(name, q, sizeof(q)), home ? "; did you mean to put it under [" : "",
			   home ? home : "", home ? "]?" : "");
		return 1;
	}
	const char *sec = config_sections[ld->section].name;
	int midx = map_index(sec);
	if (midx >= 0) {
		/* A map section: the key is data; one entry per key. */
		struct config_map *map = section_map(ld->cfg, midx);
		for (size_t k = 0; k < map->count; k++) {
			if (str_casecmp(map->entries[k].key, name) == 0) {
				load_error(ld, ld->lineno, "duplicate entry '%s' in [%s] (already set on line %d)",
					   quote(name, q, sizeof(q)), sec, map->entries[k].line);
				return 1;
			}
		}
		config_map_check_fn *check = map_checks[midx];
		if (check != NULL && check(name, value, why, sizeof(why)) < 0) {
			load_error(ld, ld->lineno, "[%s] %s: %s", sec, quote(name, q, sizeof(q)), why);
			return 1;
		}
		map->entries = xrealloc(map->entries, (map->count + 1) * sizeof(*map->entries));
		map->entries[map->count].key = xstrdup(name);
		map->entries[map->count].value = xstrdup(value);
		map->entries[map->count].line = ld->lineno;
		map->count++;
		return 1;
	}
	size_t i;
	for (i = 0; i < NUM_OPTIONS; i++) {
		if (strcmp(config_options[i].section, sec) == 0 &&
		    str_casecmp(config_options[i].name, name) == 0)
			break;
	}
	for (size_t r = 0; i == NUM_OPTIONS && r < sizeof(renamed_options) / sizeof(renamed_options[0]); r++) {
		if (strcmp(renamed_options[r].section, sec) == 0 &&
		    str_casecmp(renamed_options[r].name, name) == 0) {
			load_error(ld, ld->lineno, "option '%s' in [%s] is now '%s' (%s)",
				   renamed_options[r].name, sec, renamed_options[r].now,
				   renamed_options[r].why);
			return 1;
		}
	}
	if (i == NUM_OPTIONS) {
		const char *hint = suggest_option(sec, name);
		load_error(ld, ld->lineno, "unknown option '%s' in [%s]%s%s%s", quote(name, q, sizeof(q)), sec,
			   hint ? "; did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
		return 1;
	}
	const struct config_option *opt = &config_options[i];
	if (ld->set_line[i] != 0) {
		load_error(ld, ld->lineno, "duplicate option '%s' in [%s] (already set on line %d)",
			   opt->name, sec, ld->set_line[i]);
		return 1;
	}
	ld->set_line[i] = ld->lineno;
	if (set_option(ld->cfg, opt, value, why, sizeof(why)) < 0)
		load_error(ld, ld->lineno, "[%s] %s: %s", sec, opt->name, why);
	return 1;
}

/* Parse one listen option into addrs; returns the count or -1 (already
 * reported at load time, so quietly here). */
static int cross_listen(const char *value, struct config_listen_addr *addrs)
{
	const char *error;
	int n = config_parse_listen(value, addrs, CONFIG_MAX_LISTEN, &error);
	return n > CONFIG_MAX_LISTEN ? CONFIG_MAX_LISTEN : n;
}

/* Rules that involve more than one option, checked once the file is read. */
static void cross_check(struct loader *ld)
{
	struct config *cfg = ld->cfg;
	const char *error;

	if (cfg->tls.cert_file[0] != '\0' && cfg->tls.key_file[0] == '\0')
		load_error(ld, 0, "[tls] key_file is required when cert_file is set");
	if (cfg->tls.key_file[0] != '\0' && cfg->tls.cert_file[0] == '\0')
		load_error(ld, 0, "[tls] cert_file is required when key_file is set");
	if (cfg->tls.chain_file[0] != '\0' && cfg->tls.cert_file[0] == '\0')
		load_error(ld, 0, "[tls] cert_file is required when chain_file is set");
	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		if (strcmp(opt->name, "listen_tls") != 0 || cfg->tls.cert_file[0] != '\0')
			continue;
		const char *value = *(char **)opt_field(cfg, opt);
		if (value[0] != '\0' && config_parse_listen(value, NULL, 0, &error) > 0)
			load_error(ld, 0, "[%s] listen_tls requires [tls] cert_file and key_file "
				   "(or set 'listen_tls =' to serve without implicit TLS)", opt->section);
	}
	if (cfg->directory.backend == CONFIG_DIR_LDAP && cfg->directory.uri[0] == '\0')
		load_error(ld, 0, "[directory] backend = ldap requires uri");
	if (cfg->directory.backend == CONFIG_DIR_LDAP && cfg->directory.base_dn[0] == '\0')
		load_error(ld, 0, "[directory] backend = ldap requires base_dn");
	if (cfg->server.group[0] != '\0' && cfg->server.user[0] == '\0')
		load_error(ld, 0, "[server] group is set but user is empty (cairnd would not drop privileges)");

	/* The same address twice (in any listen option) would fail at bind with
	 * a less helpful error. */
	size_t nlisten = 0;
	for (const struct config_option *opt = config_options; opt->name != NULL; opt++)
		nlisten += opt->type == CONFIG_LISTEN;
	struct config_listen_addr *addrs = xcalloc(nlisten * CONFIG_MAX_LISTEN, sizeof(*addrs));
	const struct config_option **owner = xcalloc(nlisten * CONFIG_MAX_LISTEN, sizeof(*owner));
	int total = 0;
	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		if (opt->type != CONFIG_LISTEN)
			continue;
		int n = cross_listen(*(char **)opt_field(cfg, opt), addrs + total);
		for (int i = 0; i < n; i++)
			owner[total + i] = opt;
		total += n > 0 ? n : 0;
	}
	bool reported = false;
	for (int i = 0; i < total && !reported; i++) {
		for (int j = i + 1; j < total; j++) {
			if (addrs[i].port == addrs[j].port && strcmp(addrs[i].host, addrs[j].host) == 0) {
				load_error(ld, 0, "address %s%s%s:%u is listed twice ([%s] %s and [%s] %s)",
					   strchr(addrs[i].host, ':') ? "[" : "",
					   addrs[i].host[0] ? addrs[i].host : "*",
					   strchr(addrs[i].host, ':') ? "]" : "", addrs[i].port,
					   owner[i]->section, owner[i]->name, owner[j]->section,
					   owner[j]->name);
				reported = true;
				break;
			}
		}
	}
	free(owner);
	free(addrs);
	for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
		if (opt->type != CONFIG_LISTEN)
			continue;
		int n = config_parse_listen(*(char **)opt_field(cfg, opt), NULL, 0, &error);
		if (n > CONFIG_MAX_LISTEN)
			load_error(ld, 0, "[%s] %s names %d addresses; at most %d are allowed",
				   opt->section, opt->name, n, CONFIG_MAX_LISTEN);
	}

	if (cfg->server.hostname[0] == '\0') {
		char host[256];
		if (gethostname(host, sizeof(host)) < 0 || host[0] == '\0') {
			load_error(ld, 0, "[server] hostname is not set and gethostname failed: %s",
				   strerror(errno));
		} else {
			host[sizeof(host) - 1] = '\0';
			free(cfg->server.hostname);
			cfg->server.hostname = xstrdup(host);
		}
	}
}

int config_load(const char *path, struct config **cfg_r, struct buf *errors)
{
	struct loader ld;

	*cfg_r = NULL;
	memset(&ld, 0, sizeof(ld));
	ld.path = path;
	ld.errors = errors;
	ld.section = SECTION_NONE;
	ld.fp = fopen(path, "re");
	if (ld.fp == NULL) {
		buf_printf(errors, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	ld.cfg = config_defaults();
	ld.cfg->path = xstrdup(path);

	int ret = ini_parse_stream(config_reader, &ld, config_handler, &ld);
	if (ld.read_errno != 0)
		load_error(&ld, 0, "cannot read: %s", strerror(ld.read_errno));
	else if (ret > 0)
		load_error(&ld, ret, "syntax error");	/* inih only gets lines we checked */
	else if (ret < 0)
		load_error(&ld, 0, "cannot parse (error %d)", ret);
	fclose(ld.fp);
	free(ld.line);

	if (ld.read_errno == 0)
		cross_check(&ld);
	if (ld.nerrors > 0) {
		config_free(&ld.cfg);
		return -1;
	}
	*cfg_r = ld.cfg;
	return 0;
}

/* ---- documentation ---- */

/* A table cell: '|' would end the cell, a newline the row. */
static void md_cell(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '|')
			buf_append_str(out, "\\|");
		else if (*s == '\n')
			buf_append_str(out, " ");
		else
			buf_append(out, s, 1);
	}
}

void config_write_doc(struct buf *out)
{
	buf_append_str(out,
		"# Cairn configuration\n"
		"\n"
		"<!-- Generated from the option table in server/core/config.c by\n"
		"     `cairnctl config-doc`; edit the table, not this file. -->\n"
		"\n"
		"cairnd and cairnctl read `" CONFIG_DEFAULT_PATH "` unless given another file.\n"
		"It is an INI file: a `[section]` line, then `name = value` lines. Lines that\n"
		"start with `#` or `;` are comments, and so is the rest of a line after a `;`\n"
		"that follows whitespace. Unknown sections and options, repeated options and\n"
		"bad values are errors, each reported with its line number; run\n"
		"`cairnctl check-config` to validate a file before you restart cairnd.\n"
		"\n"
		"Value types:\n"
		"\n"
		"- **boolean**: `yes`/`no`, `true`/`false`, `on`/`off` or `1`/`0`.\n"
		"- **number**: a whole decimal number.\n"
		"- **size**: bytes, or a number with `k`, `M`, `G` or `T` (powers of 1024), as in `16k`.\n"
		"- **duration**: a number with `ms`, `s`, `m`, `h` or `d`, as in `500ms` or `1h30m`;\n"
		"  a bare number is seconds.\n"
		"- **address list**: `host:port` entries separated by commas or spaces; the host\n"
		"  is a name, an IPv4 address, `[IPv6]` in brackets, or `*` for every address.\n"
		"- **enum**: one of the listed words.\n"
		"- **string**: the rest of the line, without surrounding whitespace.\n");

	for (size_t s = 0; s < ARRAY_SIZE(config_sections); s++) {
		buf_printf(out, "\n## [%s]\n\n%s\n\n", config_sections[s].name, config_sections[s].intro);
		if (map_index(config_sections[s].name) >= 0)
			continue;	/* entries are data, not options */
		buf_append_str(out, "| option | type | default | range/values | description |\n"
				    "|---|---|---|---|---|\n");
		for (const struct config_option *opt = config_options; opt->name != NULL; opt++) {
			if (strcmp(opt->section, config_sections[s].name) != 0)
				continue;
			char range[96];
			buf_printf(out, "| `%s` | %s | ", opt->name, type_name(opt->type));
			if (strncmp(opt->def, CAIRN_DATADIR, strlen(CAIRN_DATADIR)) == 0) {
				/* Depends on --prefix/--datadir: name it, not this build's value. */
				buf_append_str(out, "`$(pkgdatadir)");
				md_cell(out, opt->def + strlen(CAIRN_DATADIR));
				buf_append_str(out, "` (`/usr/local/share/cairn` unless configured otherwise)");
			} else if (opt->def[0] != '\0') {
				buf_append_str(out, "`");
				md_cell(out, opt->def);
				buf_append_str(out, "`");
			} else {
				buf_append_str(out, "(empty)");
			}
			buf_append_str(out, " | ");
			switch (opt->type) {
			case CONFIG_UINT:
			case CONFIG_SIZE:
			case CONFIG_DURATION:
				format_range(opt, range, sizeof(range));
				buf_append_str(out, range);
				break;
			case CONFIG_ENUM:
				format_enum_values(opt, ", ", out);
				break;
			case CONFIG_BOOL:
				buf_append_str(out, "yes, no");
				break;
			case CONFIG_LISTEN:
				buf_append_str(out, "host:port, ...");
				break;
			case CONFIG_STRING:
				buf_append_str(out, "text");
				break;
			}
			buf_append_str(out, " | ");
			md_cell(out, opt->help);
			buf_append_str(out, " |\n");
		}
	}
}
