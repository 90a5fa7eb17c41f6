/* cairnd keeps the global address list current by itself: with the sql
 * directory it LISTENs on cairn_gal (migration 0034's triggers NOTIFY it on
 * every directory change) and runs carddav_gal_sync() on a worker, at most
 * once per [directory] gal_refresh_delay; with LDAP it runs it every
 * [directory] gal_refresh_interval (0 = never, cron `directory sync` then).
 * Nothing runs when [directory] gal = no. */
#ifndef CAIRN_CARDDAV_GAL_REFRESH_H
#define CAIRN_CARDDAV_GAL_REFRESH_H

struct config;
struct loop;
struct worker_pool;

void carddav_gal_refresh_start(struct loop *loop, struct worker_pool *pool,
			       const struct config *cfg);
/* Cancel timers and the LISTEN connection; a job in flight finishes. */
void carddav_gal_refresh_stop(void);

#endif
