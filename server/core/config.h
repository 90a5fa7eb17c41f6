/* cairn.conf: one declarative table of options (section, name, type, default,
 * limits, help) drives parsing, validation, `cairnctl check-config` and the
 * generated docs/configuration.md. The file is INI: [section] then
 * "name = value" lines, '#' or ';' comments. Unknown sections and keys and bad
 * values are errors reported as "FILE:LINE: message". */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include "util.h"

#define CONFIG_DEFAULT_PATH "/etc/cairn/cairn.conf"

enum config_type {
	CONFIG_STRING,		/* any text; stored as char * */
	CONFIG_BOOL,		/* yes/no, true/false, on/off, 1/0; stored as bool */
	CONFIG_UINT,		/* decimal within [min,max]; stored as uint64_t */
	CONFIG_SIZE,		/* bytes with optional k/M/G suffix (1024-based); uint64_t */
	CONFIG_DURATION,	/* ms/s/m/h/d suffix, bare number = seconds; stored as uint64_t milliseconds */
	CONFIG_ENUM,		/* one of enum_values; stored as unsigned index */
	CONFIG_LISTEN,		/* comma-separated "host:port" list, "*:port", "[v6]:port"; char * (validated) */
};

enum config_log_target { CONFIG_LOG_STDERR, CONFIG_LOG_SYSLOG };
enum config_tls_min { CONFIG_TLS_1_2, CONFIG_TLS_1_3 };
enum config_dir_backend { CONFIG_DIR_SQL, CONFIG_DIR_LDAP };
enum config_scan_fail { CONFIG_SCAN_FAIL_OPEN, CONFIG_SCAN_FAIL_CLOSED };
enum config_spamd_mode { CONFIG_SPAMD_ADD, CONFIG_SPAMD_ALONE };
enum config_scan_answer { CONFIG_SCAN_ACCEPT, CONFIG_SCAN_TEMPFAIL, CONFIG_SCAN_REJECT };
enum config_scan_virus { CONFIG_SCAN_VIRUS_REJECT, CONFIG_SCAN_VIRUS_QUARANTINE };
enum config_scan_dmarc { CONFIG_SCAN_DMARC_REJECT, CONFIG_SCAN_DMARC_QUARANTINE,
			 CONFIG_SCAN_DMARC_JUNK, CONFIG_SCAN_DMARC_TAG };

/* One "key = value" line of a map section (such as [routes]), whose keys are
 * not fixed options but data: kept in file order with their line. */
struct config_map_entry {
	char *key;
	char *value;
	int line;
};

struct config_map {
	struct config_map_entry *entries;
	size_t count;
};

struct config {
	char *path;		/* the file it came from */
	struct {
		char *hostname;
		char *user;
		char *group;
		uint64_t workers;
		uint64_t max_connections;
		uint64_t max_connections_per_ip;
		uint64_t ipv4_prefix;	/* client networks (net_key()): IPv4 /N */
		uint64_t ipv6_prefix;	/* and IPv6 /N */
		uint64_t max_output;
		uint64_t max_output_total;
		uint64_t tls_handshake_timeout_ms;
		uint64_t line_timeout_ms;
		uint64_t body_timeout_ms;
		char *pid_file;
		unsigned log_target;	/* enum config_log_target */
		unsigned log_level;	/* enum log_level */
		uint64_t shutdown_timeout_ms;
		bool loopback_is_secure;
	} server;
	struct {
		char *cert_file;
		char *key_file;
		char *chain_file;
		unsigned min_version;	/* enum config_tls_min */
	} tls;
	struct {
		char *conninfo;
		char *migrations_dir;
		uint64_t connect_timeout_ms;
		uint64_t statement_timeout_ms;
		uint64_t reconnect_interval_ms;
	} store;
	struct {
		unsigned backend;	/* enum config_dir_backend */
		char *uri;		/* space-separated, tried in order */
		char *bind_dn;
		char *bind_password;
		char *base_dn;
		char *user_filter;	/* %s = the escaped address */
		char *user_list_filter;
		char *group_filter;	/* %s = the escaped address */
		bool start_tls;
		char *ca_file;
		uint64_t timeout_ms;
		uint64_t cache_ttl_ms;
		uint64_t cache_size;
		uint64_t max_group_depth;
		uint64_t max_expansion;
		char *attr_mail;
		char *attr_alternate;
		char *attr_name;
		char *attr_phone;
		char *attr_department;
		char *attr_title;
		char *attr_quota;
		char *attr_enabled;
		char *attr_admin;
		char *attr_member;
		char *attr_unique_member;
		char *attr_member_filter;
		uint64_t auth_max_failures;
		uint64_t auth_max_failures_net;
		uint64_t auth_failure_window_ms;
		uint64_t auth_lockout_ms;
		uint64_t auth_delay_ms;
		uint64_t auth_max_delay_ms;
		bool gal;
		char *gal_attr_fn;
		char *gal_attr_surname;
		char *gal_attr_given_name;
		char *gal_attr_email;
		char *gal_attr_phone;
		char *gal_attr_mobile;
		char *gal_attr_photo;
		char *gal_attr_org;
		char *gal_attr_department;
		char *gal_attr_title;
		char *gal_group_filter;
		char *gal_resource_filter;
		char *resource_list_filter;
		char *attr_resource_kind;
		char *attr_resource_capacity;
		char *attr_resource_location;
		char *attr_booking_policy;
		char *attr_booking_window;
		char *attr_resource_booker;
		char *attr_resource_delegate;
		uint64_t gal_max_photo_size;
		uint64_t gal_refresh_interval_ms;
		uint64_t gal_refresh_delay_ms;
	} directory;
	struct {
		char *listen;
		char *listen_tls;
		bool plaintext_auth;
		uint64_t idle_timeout_ms;
		uint64_t max_bad_commands;
		uint64_t login_delay_ms;
		uint64_t max_connections;
	} pop3;
	struct {
		char *listen;
		char *listen_tls;
		bool plaintext_auth;
		uint64_t idle_timeout_ms;
		uint64_t max_bad_commands;
		uint64_t max_line;
		uint64_t max_append;
		uint64_t metadata_max_value;
		uint64_t metadata_max_entries;
		char *metadata_admin;
		uint64_t notify_max_queued;
		uint64_t max_connections;
	} imap;
	struct {
		char *listen;
		char *lmtp_listen;
		uint64_t max_message_size;
		uint64_t max_recipients;
		uint64_t max_messages;
		uint64_t max_bad_commands;
		uint64_t command_timeout_ms;
		uint64_t data_timeout_ms;
		bool vrfy;
		bool auth_without_tls;
		uint64_t max_connections;
	} smtp;
	struct {
		char *listen;
		char *listen_tls;
		bool check_sender;
		bool check_from;
		uint64_t max_connections;
	} submission;
	struct {
		char *listen;
		char *listen_tls;
		uint64_t idle_timeout_ms;
		uint64_t max_head;
		uint64_t max_body;
		uint64_t max_requests;
		uint64_t max_connections;
		bool plaintext_auth;
		uint64_t dav_max_xml;
		uint64_t dav_xml_depth;
		uint64_t dav_max_resource_size;
		uint64_t dav_max_instances;
		uint64_t freebusy_index_past_days;
		uint64_t freebusy_index_future_days;
	} http;
	struct {
		uint64_t runners;
		uint64_t batch;
		uint64_t lifetime_ms;
		uint64_t retry_min_ms;
		uint64_t retry_max_ms;
		uint64_t delay_warning_ms;
		uint64_t lease_ms;
		uint64_t poll_interval_ms;
		uint64_t max_per_destination;
		uint64_t rate_per_destination;
		char *resolver;
		uint64_t dns_timeout_ms;
		uint64_t connect_timeout_ms;
		uint64_t command_timeout_ms;
		uint64_t data_init_timeout_ms;
		uint64_t data_block_timeout_ms;
		uint64_t data_done_timeout_ms;
		uint64_t max_bounce_size;
		char *tls_ca_file;
		bool dkim;
	} queue;
	struct {
		char *listen;
		bool plaintext_auth;
		uint64_t idle_timeout_ms;
		uint64_t max_bad_commands;
		uint64_t max_connections;
		bool unauthenticate;
	} managesieve;
	struct {
		uint64_t max_scripts;
		uint64_t max_script_size;
		uint64_t max_total_size;
		uint64_t max_redirects;
		uint64_t redirects_per_day;
		char *global_before;
		char *global_after;
		char *global_dir;
		uint64_t vacation_min_period_ms;
		uint64_t vacation_max_period_ms;
		uint64_t vacation_default_period_ms;
		char *srs_secret;
		char *srs_domain;
		uint64_t srs_max_age_ms;
		uint64_t max_loop_hops;
	} sieve;
	/* [scan]: the scan stage (server/scan/scan.h). The content modules keep
	 * their options in their own sections/structs. */
	struct {
		bool smtp;		/* scan MX (port 25) mail */
		bool lmtp;
		bool submission;
		char *authserv_id;	/* "" = [server] hostname */
		char *tag_threshold;	/* decimal scores, or "off" (checked by scan.c) */
		char *junk_threshold;
		char *quarantine_threshold;
		char *reject_threshold;
		uint64_t timeout_ms;
		uint64_t step_timeout_ms;
		uint64_t dns_timeout_ms;
		unsigned on_timeout;	/* enum config_scan_answer */
		unsigned virus_action;	/* enum config_scan_virus */
		bool report;		/* X-Spam-Report header */
		bool spf;
		bool dkim;
		bool dmarc;
		bool arc;
		unsigned dmarc_reject;	/* enum config_scan_dmarc */
		unsigned dmarc_quarantine;	/* enum config_scan_dmarc */
		bool policy_db;		/* per-domain/per-user overrides from PostgreSQL */
		char *budgets;		/* "module:duration,..." per-module budgets */
		char *fail_closed;	/* "module,..." that make a message unscannable on failure */
		char *disable;		/* "module,..." not run */
	} scan;
	/* [rules]: SpamAssassin-syntax rules (server/scan/rules.c). */
	struct {
		bool enabled;
		char *dir;		/* shipped rules */
		char *local_dir;	/* the admin's files, read after dir */
		uint64_t score_set;	/* 0-3: SpamAssassin's score set */
		uint64_t budget_ms;
	} rules;
	/* [clamd]: ClamAV's clamd over INSTREAM (server/scan/clamd-client.c). */
	struct {
		bool enabled;
		char *socket;		/* "/path", "unix:/path" or "host:port" */
		uint64_t timeout_ms;
		unsigned failure;	/* enum config_scan_fail */
		uint64_t max_size;
	} clamd;
	/* [spamd]: SpamAssassin's spamd over SPAMC (server/scan/spamd-client.c). */
	struct {
		bool enabled;
		char *socket;
		char *user;
		uint64_t timeout_ms;
		unsigned failure;	/* enum config_scan_fail */
		unsigned mode;		/* enum config_spamd_mode */
		uint64_t max_size;
	} spamd;
	/* [bayes]: the Bayes classifier (server/scan/bayes*.c). */
	struct {
		bool enabled;
		bool per_user;
		uint64_t min_spam;
		uint64_t min_ham;
		uint64_t hapax_expire_days;
		uint64_t token_expire_days;
		uint64_t train_interval_ms;
		uint64_t train_batch;
		uint64_t budget_ms;
	} bayes;
	/* [dnsbl]: DNS lists (server/scan/dnsbl.c). */
	struct {
		bool enabled;
		char *lists;		/* "zone[/127.0.0.N]=weight, ..." for the client IP */
		char *uribl;		/* the same for the domains of body URLs */
		uint64_t max_uri_domains;
		uint64_t budget_ms;
	} dnsbl;
	/* [greylist]: greylisting (server/scan/greylist.c). */
	struct {
		bool enabled;
		char *domains;		/* recipient domains greylisted; "" = all */
		uint64_t delay_ms;
		uint64_t window_ms;
		uint64_t expire_ms;
		uint64_t ipv4_prefix;
		uint64_t ipv6_prefix;
	} greylist;
	/* [milter]: one milter (server/scan/milter-client.c). */
	struct {
		bool enabled;
		char *socket;		/* "unix:/path", "/path", "inet:host:port", "host:port" */
		uint64_t timeout_ms;
		unsigned failure;	/* enum config_scan_fail */
	} milter;
	/* [rspamd]: rspamd over HTTP (server/scan/rspamd-client.c). */
	struct {
		bool enabled;
		char *socket;
		uint64_t timeout_ms;
		unsigned failure;	/* enum config_scan_fail */
		bool use_action;
		uint64_t max_size;
	} rspamd;
	/* [webadmin]: cairn-admin.cgi (webadmin/). */
	struct {
		char *templates;
		char *admin_group;
		uint64_t session_idle_ms;
		uint64_t session_max_ms;
		uint64_t max_body;
		uint64_t page_size;
		char *origin;
	} webadmin;
	/* [imip]: iTIP by mail (server/deliver/imip.c, deliver-imip.c). */
	struct {
		bool inbound;
		bool require_dmarc_pass;
		uint64_t auto_reply_period_ms;
	} imip;
	/* [sched]: CalDAV scheduling (calendar/sched*.c). */
	struct {
		uint64_t max_attendees;
	} sched;
	/* [routes]: "domain = value" lines kept as written, checked by the
	 * section's map checker (config_set_map_check). */
	struct config_map routes;
};

struct config_option {
	const char *section;
	const char *name;
	enum config_type type;
	const char *def;		/* default, as it would be written in the file */
	uint64_t min, max;		/* CONFIG_UINT/SIZE/DURATION(ms) bounds */
	const char *const *enum_values;	/* CONFIG_ENUM, NULL-terminated */
	size_t offset;			/* into struct config */
	const char *help;
};

/* The option table, terminated by an entry with name == NULL. */
extern const struct config_option config_options[];

/* Load and validate path. Returns 0 and a new config in *cfg_r, or -1 with
 * every problem appended to errors, one "FILE:LINE: message" per line (a
 * missing file is "FILE: cannot open: reason"). */
int config_load(const char *path, struct config **cfg_r, struct buf *errors);
/* A config holding only the defaults (for tools and tests). */
struct config *config_defaults(void);
/* Free a config and set *cfg to NULL. */
void config_free(struct config **cfg);

/* Parse helpers, exported for unit tests and other modules. Each returns 0 or -1. */
int config_parse_bool(const char *s, bool *value_r);
int config_parse_size(const char *s, uint64_t *bytes_r);
int config_parse_duration(const char *s, uint64_t *ms_r);

/* One listen address parsed from a CONFIG_LISTEN value. */
struct config_listen_addr {
	char host[256];		/* "" means any address ("*") */
	unsigned port;
};
/* Split a listen list; returns the number of addresses (0 for ""), or -1 with
 * *error_r set. At most max entries are written. */
int config_parse_listen(const char *value, struct config_listen_addr *addrs, size_t max,
			const char **error_r);

/* Checks one entry of a map section: returns 0, or -1 with the reason in why
 * (reported as "FILE:LINE: [section] key: why"). */
typedef int config_map_check_fn(const char *key, const char *value, char *why, size_t why_size);
/* Install the checker of a map section ("routes") before config_load; the
 * module that owns the section's syntax provides it (core knows no routes).
 * Without one, entries are kept unchecked. Not thread-safe: call at start. */
void config_set_map_check(const char *section, config_map_check_fn *fn);
/* The value of key in map (case-insensitive key), or NULL. */
const char *config_map_get(const struct config_map *map, const char *key);

/* Write docs/configuration.md's content (Markdown) for the option table. */
void config_write_doc(struct buf *out);

#endif
