/* cairnd: reads cairn.conf, binds every listener, drops root, starts the
 * worker pool and runs the event loop until SIGTERM/SIGINT, then drains:
 * listeners close, sessions finish their current work, workers finish their
 * jobs, and the process exits 0. SIGHUP reloads the TLS certificates. */
#include "autoconf.h"
#include "config.h"
#include "carddav-gal-refresh.h"
#include "conn.h"
#include "deliver/deliver.h"
#include "deliver/deliver-sieve.h"
#include "deliver/deliver-imip.h"
#include "directory.h"
#include "http-session.h"
#include "imap/imap-session.h"
#include "listener.h"
#include "log.h"
#include "session.h"
#include "loop.h"
#include "managesieve/managesieve-session.h"
#include "pop3/pop3-session.h"
#include "queue/queue.h"
#include "queue/route.h"
#include "smtp/smtp-session.h"
#include "store-jobs.h"
#include "scan/scan.h"
#include "scan/bayes-trainer.h"
#include "store-notify.h"
#include "tls.h"
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

struct daemon {
	struct config *cfg;
	struct loop *loop;
	struct tls_server *tls;
	struct listener *listeners;
	struct worker_pool *pool;
	struct directory *dir;
	struct http_context http;
	struct pop3_context pop3;
	struct managesieve_context managesieve;
	struct imap_context imap;
	struct smtp_context smtp;
	struct queue *queue;		/* outbound runners, NULL if [queue] runners = 0 */
	struct loop_io *sig_io;
	int sigfd;
	bool draining;
	uint64_t drain_deadline;
	struct loop_timer drain_timer;
	bool pid_written;
	int pid_fd;		/* the pid file, kept open to empty it at exit */
	/* each service's own room (per-listener connection limits) */
	struct listener_limit lim_http, lim_pop3, lim_imap, lim_smtp, lim_submission;
	struct listener_limit lim_managesieve;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: cairnd [-c FILE] [-t] [-V]\n"
		   "  -c FILE  configuration file (default " CONFIG_DEFAULT_PATH ")\n"
		   "  -t       check the configuration and the TLS files, then exit\n"
		   "  -V       print the version and exit\n"
		   "cairnd runs in the foreground and logs to stderr or syslog ([server] log_target).\n");
}

/* TLS is loaded whenever a certificate is configured (STARTTLS, STLS) and
 * required when an implicit-TLS listener is (config.c checks that). */
static bool need_tls(const struct config *cfg)
{
	return cfg->tls.cert_file[0] != '\0';
}

static void drop_privileges(const struct config *cfg)
{
	if (geteuid() != 0) {
		if (cfg->server.user[0] != '\0')
			log_info("cairnd event=no-privilege-drop reason=\"not started as root\" uid=%u",
				 (unsigned)geteuid());
		return;
	}
	if (cfg->server.user[0] == '\0') {
		log_warn("cairnd event=running-as-root reason=\"[server] user is empty\"");
		return;
	}
	struct passwd *pw = getpwnam(cfg->server.user);
	if (pw == NULL)
		fatal("%s: [server] user: no such user '%s'", cfg->path, cfg->server.user);
	gid_t gid = pw->pw_gid;
	if (cfg->server.group[0] != '\0') {
		struct group *gr = getgrnam(cfg->server.group);
		if (gr == NULL)
			fatal("%s: [server] group: no such group '%s'", cfg->path, cfg->server.group);
		gid = gr->gr_gid;
	}
	if (pw->pw_uid == 0)
		fatal("%s: [server] user '%s' is root; name an unprivileged user", cfg->path,
		      cfg->server.user);
	if (initgroups(pw->pw_name, gid) < 0 || setgid(gid) < 0 || setuid(pw->pw_uid) < 0)
		fatal("cairnd: cannot drop privileges to %s: %s", cfg->server.user, strerror(errno));
	if (setuid(0) == 0)
		panic("cairnd: regained root after dropping privileges");
	/* setuid cleared it; keep core dumps possible for debugging. */
	prctl(PR_SET_DUMPABLE, 1);
	log_info("cairnd event=privileges-dropped user=%s uid=%u gid=%u", cfg->server.user,
		 (unsigned)pw->pw_uid, (unsigned)gid);
}

/* Written before the privilege drop, so the pid file may live in a
 * root-owned directory such as /run. Removing it at exit needs write access
 * to that directory, which the run user may not have; the descriptor is kept
 * open (it keeps the write access it was opened with) so that the file can
 * at least be emptied then, and never names a process that is gone. */
static void write_pid_file(struct daemon *d)
{
	const char *path = d->cfg->server.pid_file;
	d->pid_fd = -1;
	if (path[0] == '\0')
		return;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		fatal("%s: [server] pid_file %s: %s", d->cfg->path, path, strerror(errno));
	char text[32];
	int n = snprintf(text, sizeof(text), "%d\n", (int)getpid());
	if (write(fd, text, (size_t)n) != n)
		fatal("%s: [server] pid_file %s: %s", d->cfg->path, path, strerror(errno));
	d->pid_fd = fd;
	d->pid_written = true;
}

/* After the drop: say now, not at exit, when the pid file cannot be removed. */
static void check_pid_dir(const struct daemon *d)
{
	if (!d->pid_written)
		return;
	char *dir = xstrdup(d->cfg->server.pid_file);
	char *slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, strlen(dir) + 1, ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) < 0)
		log_warn("cairnd event=pid-file path=%s: directory %s is not writable after the "
			 "privilege drop; the file will be emptied, not removed, at exit "
			 "(docs/operations.md)", d->cfg->server.pid_file, dir);
	free(dir);
}

/* At exit: remove the pid file, or empty it where the directory does not
 * let the run user remove it. */
static void remove_pid_file(struct daemon *d)
{
	if (!d->pid_written)
		return;
	const char *path = d->cfg->server.pid_file;
	if (unlink(path) == 0 || errno == ENOENT) {
		/* removed */
	} else if ((errno == EACCES || errno == EPERM) && d->pid_fd >= 0 &&
		   ftruncate(d->pid_fd, 0) == 0) {
		log_info("cairnd event=pid-file path=%s status=emptied (directory not writable)", path);
	} else {
		log_warn("cairnd: cannot remove %s: %s", path, strerror(errno));
	}
	if (d->pid_fd >= 0)
		close(d->pid_fd);
	d->pid_fd = -1;
}

static void drain_check(void *ctx)
{
	struct daemon *d = ctx;
	unsigned conns = conn_count(), jobs = worker_pool_busy(d->pool);
	if (conns == 0 && jobs == 0) {
		log_info("cairnd event=drained");
		loop_stop(d->loop);
		return;
	}
	if (loop_now(d->loop) >= d->drain_deadline) {
		log_warn("cairnd event=shutdown-timeout connections=%u jobs=%u", conns, jobs);
		conn_abort_all();
		if (jobs == 0) {
			loop_stop(d->loop);
			return;
		}
	}
	loop_timer_set(d->loop, &d->drain_timer, 50, drain_check, d);
}

static void begin_drain(struct daemon *d, const char *why)
{
	if (d->draining)
		return;
	d->draining = true;
	log_info("cairnd event=shutdown signal=%s connections=%u", why, conn_count());
	listener_close_all(&d->listeners);
	conn_shutdown_all();
	queue_stop(d->queue);	/* runners finish their current message */
	bayes_trainer_stop();
	carddav_gal_refresh_stop();
	d->drain_deadline = loop_now(d->loop) + d->cfg->server.shutdown_timeout_ms;
	drain_check(d);
}

static void reload(struct daemon *d)
{
	scan_stage_reload(d->cfg);
	if (d->tls == NULL) {
		log_info("cairnd event=reload tls=none");
		return;
	}
	char *error = NULL;
	if (tls_server_reload(d->tls, &error) < 0) {
		log_err("cairnd event=reload status=failed reason=\"%s\" (keeping the old certificate)",
			error);
		free(error);
		return;
	}
	log_info("cairnd event=reload status=ok cert=%s", d->cfg->tls.cert_file);
}

static void on_signal(void *ctx, unsigned events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;
	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
			begin_drain(d, "TERM");
			break;
		case SIGINT:
			begin_drain(d, "INT");
			break;
		case SIGHUP:
			reload(d);
			break;
		default:
			break;
		}
	}
}

/* Every connection is a descriptor: use the whole hard limit, and say so
 * when it cannot hold the connections the configuration allows. */
static void raise_fd_limit(const struct config *cfg)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			log_warn("cairnd: cannot raise RLIMIT_NOFILE: %s", strerror(errno));
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	/* Listeners, workers' database and LDAP connections, the queue. */
	uint64_t want = cfg->server.max_connections + 4 * cfg->server.workers + 256;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
		log_warn("cairnd: the open-files limit (%llu) is below [server] max_connections (%llu) "
			 "plus what workers need; raise it (ulimit -n, LimitNOFILE=) or lower "
			 "max_connections", (unsigned long long)rl.rlim_cur,
			 (unsigned long long)cfg->server.max_connections);
}

static void setup_signals(struct daemon *d)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Block before threads start so workers inherit the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
		fatal("cairnd: sigprocmask failed");
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		fatal("cairnd: signalfd: %s", strerror(errno));
	signal(SIGPIPE, SIG_IGN);
}

static void bind_or_die(struct daemon *d, const char *option, const char *value,
			enum metrics_proto proto, struct tls_server *tls, const char *busy,
			struct listener_limit *limit, listener_accept_cb *accept, void *ctx)
{
	if (value[0] == '\0')
		return;
	struct listener_params p = {
		.option = option, .listen = value, .proto = proto, .tls = tls,
		.busy_reply = busy, .limit = limit, .accept = accept, .ctx = ctx,
	};
	char *error = NULL;
	if (listener_bind(&p, &d->listeners, &error) < 0)
		fatal("%s: %s", d->cfg->path, error);
}

int main(int argc, char **argv)
{
	const char *path = CONFIG_DEFAULT_PATH;
	bool check_only = false;
	int opt;

	while ((opt = getopt(argc, argv, "c:tVh")) != -1) {
		switch (opt) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check_only = true;
			break;
		case 'V':
			printf("cairnd %s\n", PACKAGE_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}

	struct daemon d = { .sigfd = -1, .pid_fd = -1 };
	struct buf errors;
	buf_init(&errors, 0);
	route_register_config();
	if (config_load(path, &d.cfg, &errors) < 0) {
		fprintf(stderr, "%s", errors.data != NULL ? errors.data : "");
		fprintf(stderr, "cairnd: %s: configuration invalid, not starting\n", path);
		buf_free(&errors);
		return 1;
	}
	buf_free(&errors);

	log_open("cairnd", d.cfg->server.log_target == CONFIG_LOG_SYSLOG);
	log_set_level((enum log_level)d.cfg->server.log_level);

	if (need_tls(d.cfg)) {
		char *error = NULL;
		d.tls = tls_server_create(d.cfg, &error);
		if (d.tls == NULL)
			fatal("%s: %s", d.cfg->path, error);
	}
	if (check_only) {
		printf("%s: ok\n", d.cfg->path);
		tls_server_destroy(&d.tls);
		config_free(&d.cfg);
		return 0;
	}

	raise_fd_limit(d.cfg);
	setup_signals(&d);
	d.loop = loop_create();
	listener_set_limits((unsigned)d.cfg->server.max_connections,
			    (unsigned)d.cfg->server.max_connections_per_ip,
			    (unsigned)d.cfg->server.ipv4_prefix, (unsigned)d.cfg->server.ipv6_prefix);
	conn_set_limits((size_t)d.cfg->server.max_output, (size_t)d.cfg->server.max_output_total,
			d.cfg->server.tls_handshake_timeout_ms, d.cfg->server.line_timeout_ms);
	session_set_body_timeout(d.cfg->server.body_timeout_ms);
	d.lim_http = (struct listener_limit){ "[http] max_connections",
					      (unsigned)d.cfg->http.max_connections, 0 };
	d.lim_pop3 = (struct listener_limit){ "[pop3] max_connections",
					      (unsigned)d.cfg->pop3.max_connections, 0 };
	d.lim_managesieve = (struct listener_limit){ "[managesieve] max_connections",
						     (unsigned)d.cfg->managesieve.max_connections, 0 };
	d.lim_imap = (struct listener_limit){ "[imap] max_connections",
					      (unsigned)d.cfg->imap.max_connections, 0 };
	d.lim_smtp = (struct listener_limit){ "[smtp] max_connections",
					      (unsigned)d.cfg->smtp.max_connections, 0 };
	d.lim_submission = (struct listener_limit){ "[submission] max_connections",
						    (unsigned)d.cfg->submission.max_connections, 0 };

	d.http.cfg = d.cfg;
	bind_or_die(&d, "[http] listen", d.cfg->http.listen, METRICS_HTTP, NULL,
		    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		    &d.lim_http, http_session_accept, &d.http);
	bind_or_die(&d, "[http] listen_tls", d.cfg->http.listen_tls, METRICS_HTTP, d.tls, NULL,
		    &d.lim_http, http_session_accept, &d.http);

	d.pop3.cfg = d.cfg;
	d.pop3.tls = d.tls;
	snprintf(d.pop3.hostname, sizeof(d.pop3.hostname), "%s", d.cfg->server.hostname);
	bind_or_die(&d, "[pop3] listen", d.cfg->pop3.listen, METRICS_POP3, NULL,
		    "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
		    &d.lim_pop3, pop3_session_accept, &d.pop3);
	bind_or_die(&d, "[pop3] listen_tls", d.cfg->pop3.listen_tls, METRICS_POP3, d.tls, NULL,
		    &d.lim_pop3, pop3_session_accept, &d.pop3);

	d.managesieve.cfg = d.cfg;
	d.managesieve.tls = d.tls;
	snprintf(d.managesieve.hostname, sizeof(d.managesieve.hostname), "%s",
		 d.cfg->server.hostname);
	bind_or_die(&d, "[managesieve] listen", d.cfg->managesieve.listen, METRICS_MANAGESIEVE,
		    NULL, "BYE (TRYLATER) \"Too many connections, try again later\"\r\n",
		    &d.lim_managesieve, managesieve_session_accept, &d.managesieve);

	d.imap.cfg = d.cfg;
	d.imap.tls = d.tls;
	snprintf(d.imap.hostname, sizeof(d.imap.hostname), "%s", d.cfg->server.hostname);
	bind_or_die(&d, "[imap] listen", d.cfg->imap.listen, METRICS_IMAP, NULL,
		    "* BYE [UNAVAILABLE] Too many connections, try again later\r\n",
		    &d.lim_imap, imap_session_accept, &d.imap);
	bind_or_die(&d, "[imap] listen_tls", d.cfg->imap.listen_tls, METRICS_IMAP, d.tls, NULL,
		    &d.lim_imap, imap_session_accept, &d.imap);

	d.smtp.cfg = d.cfg;
	d.smtp.tls = d.tls;
	snprintf(d.smtp.hostname, sizeof(d.smtp.hostname), "%s", d.cfg->server.hostname);
	bind_or_die(&d, "[smtp] listen", d.cfg->smtp.listen, METRICS_SMTP, NULL,
		    "421 4.7.0 Too many connections, try again later\r\n",
		    &d.lim_smtp, smtp_session_accept_mx, &d.smtp);
	bind_or_die(&d, "[smtp] lmtp_listen", d.cfg->smtp.lmtp_listen, METRICS_SMTP, NULL,
		    "421 4.7.0 Too many connections, try again later\r\n",
		    &d.lim_smtp, smtp_session_accept_lmtp, &d.smtp);
	bind_or_die(&d, "[submission] listen", d.cfg->submission.listen, METRICS_SUBMISSION, NULL,
		    "421 4.7.0 Too many connections, try again later\r\n",
		    &d.lim_submission, smtp_session_accept_submission, &d.smtp);
	bind_or_die(&d, "[submission] listen_tls", d.cfg->submission.listen_tls,
		    METRICS_SUBMISSION, d.tls, NULL, &d.lim_submission, smtp_session_accept_submission,
		    &d.smtp);

	write_pid_file(&d);
	drop_privileges(d.cfg);
	check_pid_dir(&d);

	if (store_jobs_register(d.cfg) < 0)
		panic("cairnd: no worker slot for the store");
	const char *dir_error = NULL;
	d.dir = dir_create(d.cfg, &dir_error);
	if (d.dir == NULL)
		fatal("%s: [directory]: %s", d.cfg->path, dir_error != NULL ? dir_error : "unusable");
	if (dir_worker_register(d.dir) < 0)
		panic("cairnd: no worker slot for the directory");
	scan_modules_register();
	const char *scan_error = NULL;
	if (scan_stage_start(d.cfg, &scan_error) < 0)
		fatal("%s: %s", d.cfg->path, scan_error);
	d.pool = worker_pool_create(d.loop, (unsigned)d.cfg->server.workers);
	d.http.pool = d.pool;
	d.pop3.pool = d.pool;
	d.pop3.dir = d.dir;
	d.managesieve.pool = d.pool;
	d.managesieve.dir = d.dir;
	d.imap.pool = d.pool;
	d.imap.dir = d.dir;
	if (d.cfg->imap.listen[0] != '\0' || d.cfg->imap.listen_tls[0] != '\0')
		d.imap.notify = store_notify_create(d.loop, d.cfg);
	d.smtp.pool = d.pool;
	d.smtp.dir = d.dir;
	char *sieve_error = NULL;
	if (deliver_sieve_setup(d.cfg, &sieve_error) < 0)
		fatal("%s: %s", d.cfg->path, sieve_error);
	deliver_imip_setup(d.cfg);
	d.queue = queue_start(d.cfg, d.dir);
	if (d.queue != NULL)	/* else deliveries NOTIFY the runners of other nodes */
		deliver_set_queued_hook(queue_wake);
	bayes_trainer_start(d.loop, d.pool, d.cfg);
	carddav_gal_refresh_start(d.loop, d.pool, d.cfg);

	d.sig_io = loop_add(d.loop, d.sigfd, LOOP_READ, on_signal, &d);
	listener_start_all(d.loop, d.listeners);
	log_info("cairnd event=ready version=%s config=%s workers=%u pid=%d", PACKAGE_VERSION,
		 d.cfg->path, (unsigned)d.cfg->server.workers, (int)getpid());

	loop_run(d.loop);

	loop_timer_cancel(d.loop, &d.drain_timer);
	listener_close_all(&d.listeners);
	conn_abort_all();
	queue_destroy(&d.queue);
	bayes_trainer_stop();
	carddav_gal_refresh_stop();
	worker_pool_destroy(&d.pool);
	deliver_sieve_cleanup();
	deliver_imip_cleanup();
	scan_stage_stop();
	store_notify_destroy(&d.imap.notify);
	dir_destroy(&d.dir);
	loop_remove(&d.sig_io);
	close(d.sigfd);
	tls_server_destroy(&d.tls);
	loop_destroy(&d.loop);
	remove_pid_file(&d);
	log_info("cairnd event=exit status=0");
	config_free(&d.cfg);
	return 0;
}
