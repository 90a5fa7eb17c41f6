/* The web admin's SQL (store-webadmin.h): sessions, domain administrators,
 * paged lists, the audit log, app passwords and dashboard figures. */
#include "autoconf.h"
#include "store-private.h"
#include "store-webadmin.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WA_MAX_COLS 16

static int failed(struct store *st, int ret, const char **error_r)
{
	*error_r = st->error;
	return ret;
}

/* Run id with params and hand each row to cb. */
static int rows(struct store *st, enum store_stmt_id id, const char *const *params,
		store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_params(st, id, params, &res);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	int n = PQntuples(res), nc = PQnfields(res);
	if (nc > WA_MAX_COLS)
		nc = WA_MAX_COLS;
	const char *cols[WA_MAX_COLS];
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < nc; c++)
			cols[c] = PQgetvalue(res, i, c);
		cb(cols, (size_t)nc, ctx);
	}
	PQclear(res);
	return STORE_OK;
}

/* Run id and return how many rows it gave (or changed, with RETURNING). */
static int count_rows(struct store *st, enum store_stmt_id id, const char *const *params,
		      int *n_r, const char **error_r)
{
	PGresult *res;
	int ret = store_exec_params(st, id, params, &res);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	*n_r = PQntuples(res) > 0 ? PQntuples(res) : atoi(PQcmdTuples(res));
	PQclear(res);
	return STORE_OK;
}

int store_wa_session_create(struct store *st, const char *id_hash, const char *address,
			    const char *csrf, uint64_t ttl_s, const char *client_ip,
			    const char **error_r)
{
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%" PRIu64, ttl_s);
	int ret = store_exec_prepared(st, STMT_WA_SESSION_PURGE, NULL);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	const char *p[] = { id_hash, address, csrf, ttl, client_ip };
	int n;
	ret = count_rows(st, STMT_WA_SESSION_CREATE, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_NOTFOUND, "no enabled account %s", address),
			      error_r);
	return ret;
}

int store_wa_session_get(struct store *st, const char *id_hash, uint64_t idle_s, uint64_t max_s,
			 struct store_wa_session *s_r, const char **error_r)
{
	char idle[24], max[24];
	snprintf(idle, sizeof(idle), "%" PRIu64, idle_s);
	snprintf(max, sizeof(max), "%" PRIu64, max_s);
	const char *p[] = { id_hash, idle, max };
	PGresult *res;
	int ret = store_exec_params(st, STMT_WA_SESSION_GET, p, &res);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return failed(st, store_fail(st, STORE_NOTFOUND, "no such session"), error_r);
	}
	memset(s_r, 0, sizeof(*s_r));
	snprintf(s_r->address, sizeof(s_r->address), "%s", PQgetvalue(res, 0, 0));
	snprintf(s_r->csrf, sizeof(s_r->csrf), "%s", PQgetvalue(res, 0, 1));
	s_r->is_admin = PQgetvalue(res, 0, 2)[0] == 't';
	snprintf(s_r->display_name, sizeof(s_r->display_name), "%s", PQgetvalue(res, 0, 3));
	PQclear(res);
	return STORE_OK;
}

int store_wa_session_delete(struct store *st, const char *id_hash, const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_WA_SESSION_DELETE, NULL, id_hash);
	return ret == STORE_OK ? STORE_OK : failed(st, ret, error_r);
}

int store_wa_session_delete_others(struct store *st, const char *address, const char *keep,
				   const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_WA_SESSION_DELETE_OTHERS, NULL, address, keep);
	return ret == STORE_OK ? STORE_OK : failed(st, ret, error_r);
}

struct name_cb {
	void (*cb)(const char *domain, void *ctx);
	void *ctx;
};

static void first_col(const char *const *cols, size_t ncols, void *ctx)
{
	struct name_cb *n = ctx;
	if (ncols > 0)
		n->cb(cols[0], n->ctx);
}

int store_wa_admin_domains(struct store *st, const char *address,
			   void (*cb)(const char *domain, void *ctx), void *ctx,
			   const char **error_r)
{
	struct name_cb n = { cb, ctx };
	const char *p[] = { address };
	return rows(st, STMT_WA_ADMIN_DOMAINS, p, first_col, &n, error_r);
}

int store_wa_domain_admin_set(struct store *st, const char *address, const char *domain, bool on,
			      const char **error_r)
{
	const char *p[] = { address, domain };
	int n, ret;
	if (on) {
		PGresult *res;
		ret = store_exec_params(st, STMT_WA_DOMAIN_ADMIN_EXISTS, p, &res);
		if (ret != STORE_OK)
			return failed(st, ret, error_r);
		bool ok = strcmp(PQgetvalue(res, 0, 0), "1") == 0 &&
			  strcmp(PQgetvalue(res, 0, 1), "1") == 0;
		PQclear(res);
		if (!ok)
			return failed(st, store_fail(st, STORE_NOTFOUND, "no account %s or no domain %s",
						     address, domain), error_r);
		return count_rows(st, STMT_WA_DOMAIN_ADMIN_ADD, p, &n, error_r);
	}
	ret = count_rows(st, STMT_WA_DOMAIN_ADMIN_DEL, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_NOTFOUND, "%s is no administrator of %s",
					     address, domain), error_r);
	return ret;
}

int store_wa_in_scope(struct store *st, const char *scope, const char *domain,
		      const char **error_r)
{
	const char *p[] = { scope, domain };
	int n;
	int ret = count_rows(st, STMT_WA_IN_SCOPE, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_NOTFOUND, "domain %s is not yours", domain),
			      error_r);
	return ret;
}

char *store_wa_like(const char *q)
{
	struct buf b;
	buf_init(&b, 0);
	buf_append_str(&b, "%");
	for (const char *c = q; *c != '\0'; c++) {
		char ch = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
		if (ch == '%' || ch == '_' || ch == '\\')
			buf_append_str(&b, "\\");
		buf_append(&b, &ch, 1);
	}
	buf_append_str(&b, "%");
	return b.data;
}

int store_wa_list(struct store *st, enum store_wa_list what, const struct store_wa_page *page,
		  store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	enum store_stmt_id id;
	bool by_name = page->sort != NULL && strcmp(page->sort, "name") == 0;
	switch (what) {
	case STORE_WA_DOMAINS:
		id = page->desc ? STMT_WA_DOMAINS_DESC : STMT_WA_DOMAINS_ASC;
		break;
	case STORE_WA_USERS:
		if (by_name)
			id = page->desc ? STMT_WA_USERS_NAME_DESC : STMT_WA_USERS_NAME_ASC;
		else
			id = page->desc ? STMT_WA_USERS_DESC : STMT_WA_USERS_ASC;
		break;
	case STORE_WA_ALIASES:
		id = page->desc ? STMT_WA_ALIASES_DESC : STMT_WA_ALIASES_ASC;
		break;
	case STORE_WA_GROUPS:
		id = page->desc ? STMT_WA_GROUPS_DESC : STMT_WA_GROUPS_ASC;
		break;
	case STORE_WA_QUEUE:
		id = page->desc ? STMT_WA_QUEUE_DESC : STMT_WA_QUEUE_ASC;
		break;
	case STORE_WA_QUARANTINE:
	case STORE_WA_MY_QUARANTINE: {
		/* Five sorts, two directions, in the order WA_Q_SORTS lists them. */
		static const char *const sorts[] = { "date", "from", "subject", "score", "rcpt" };
		unsigned k = 0;
		for (unsigned i = 0; i < 5; i++)
			if (page->sort != NULL && strcmp(page->sort, sorts[i]) == 0)
				k = i;
		id = (enum store_stmt_id)((what == STORE_WA_QUARANTINE ? STMT_WA_QUAR_DATE_ASC :
					   STMT_WA_MYQUAR_DATE_ASC) + 2 * k + (page->desc ? 1 : 0));
		if (what == STORE_WA_MY_QUARANTINE && (page->scope == NULL || page->scope[0] == '\0'))
			return failed(st, store_fail(st, STORE_INVALID, "no account"), error_r);
		break;
	}
	default:
		return failed(st, store_fail(st, STORE_INVALID, "unknown list"), error_r);
	}
	char limit[16], offset[16];
	snprintf(limit, sizeof(limit), "%u", page->limit > 500 ? 500 : page->limit);
	snprintf(offset, sizeof(offset), "%u", page->offset);
	char *like = store_wa_like(page->query != NULL ? page->query : "");
	const char *p[] = { like, page->scope != NULL ? page->scope : "", limit, offset };
	int ret = rows(st, id, p, cb, ctx, error_r);
	free(like);
	return ret;
}

int store_wa_group_members(struct store *st, const char *group, unsigned limit, unsigned offset,
			   store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	char l[16], o[16];
	snprintf(l, sizeof(l), "%u", limit > 500 ? 500 : limit);
	snprintf(o, sizeof(o), "%u", offset);
	const char *p[] = { group, l, o };
	return rows(st, STMT_WA_GROUP_MEMBERS, p, cb, ctx, error_r);
}

int store_wa_queue_head(struct store *st, uint64_t id, size_t max_bytes, char **data_r,
			size_t *len_r, const char **error_r)
{
	char idb[24], maxb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, id);
	snprintf(maxb, sizeof(maxb), "%zu", max_bytes);
	const char *p[] = { idb, maxb };
	PGresult *res;
	int ret = store_exec_binary(st, STMT_WA_QUEUE_HEAD, p, &res);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return failed(st, store_fail(st, STORE_NOTFOUND, "no queued message %" PRIu64, id),
			      error_r);
	}
	size_t len = (size_t)PQgetlength(res, 0, 0);
	*data_r = xmalloc(len + 1);
	memcpy(*data_r, PQgetvalue(res, 0, 0), len);
	(*data_r)[len] = '\0';
	*len_r = len;
	PQclear(res);
	return STORE_OK;
}

int store_wa_audit(struct store *st, const char *actor, const char *client_ip, const char *action,
		   const char *target, const char *detail, const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_WA_AUDIT_ADD, NULL, actor, client_ip, action,
				      target != NULL ? target : "", detail != NULL ? detail : "");
	return ret == STORE_OK ? STORE_OK : failed(st, ret, error_r);
}

int store_wa_audit_list(struct store *st, const char *query, uint64_t before_id, unsigned limit,
			store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	char before[24], l[16];
	snprintf(before, sizeof(before), "%" PRIu64, before_id);
	snprintf(l, sizeof(l), "%u", limit > 500 ? 500 : limit);
	char *like = store_wa_like(query != NULL ? query : "");
	const char *p[] = { like, before, l };
	int ret = rows(st, STMT_WA_AUDIT_LIST, p, cb, ctx, error_r);
	free(like);
	return ret;
}

int store_wa_app_password_add(struct store *st, const char *address, const char *name,
			      const char *hash, uint64_t *id_r, const char **error_r)
{
	const char *p[] = { address, name, hash };
	PGresult *res;
	int ret = store_exec_params(st, STMT_WA_APP_PASSWORD_ADD, p, &res);
	if (ret != STORE_OK) {
		if (ret == STORE_EXISTS)
			store_fail(st, STORE_EXISTS, "an app password named %s exists", name);
		return failed(st, ret, error_r);
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return failed(st, store_fail(st, STORE_NOTFOUND,
					     "no account %s, or it has 20 app passwords already", address),
			      error_r);
	}
	*id_r = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int store_wa_app_password_hashes(struct store *st, const char *address, store_wa_row_fn *cb,
				 void *ctx, const char **error_r)
{
	const char *p[] = { address };
	return rows(st, STMT_WA_APP_PASSWORD_HASHES, p, cb, ctx, error_r);
}

int store_wa_app_password_used(struct store *st, const char *id, const char **error_r)
{
	int ret = store_exec_prepared(st, STMT_WA_APP_PASSWORD_USED, NULL, id);
	return ret == STORE_OK ? STORE_OK : failed(st, ret, error_r);
}

int store_wa_app_password_list(struct store *st, const char *address, store_wa_row_fn *cb,
			       void *ctx, const char **error_r)
{
	const char *p[] = { address };
	return rows(st, STMT_WA_APP_PASSWORD_LIST, p, cb, ctx, error_r);
}

int store_wa_app_password_del(struct store *st, const char *address, uint64_t id,
			      const char **error_r)
{
	char idb[24];
	snprintf(idb, sizeof(idb), "%" PRIu64, id);
	const char *p[] = { address, idb };
	int n;
	int ret = count_rows(st, STMT_WA_APP_PASSWORD_DEL, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_NOTFOUND, "no such app password"), error_r);
	return ret;
}

int store_wa_totp_get(struct store *st, const char *address, char secret_r[33], bool *enabled_r,
		      uint64_t *last_step_r, const char **error_r)
{
	const char *p[] = { address };
	PGresult *res;
	int ret = store_exec_params(st, STMT_WA_TOTP_GET, p, &res);
	if (ret != STORE_OK)
		return failed(st, ret, error_r);
	if (PQntuples(res) == 0) {
		PQclear(res);
		return failed(st, store_fail(st, STORE_NOTFOUND, "no TOTP for %s", address), error_r);
	}
	snprintf(secret_r, 33, "%s", PQgetvalue(res, 0, 0));
	*enabled_r = PQgetvalue(res, 0, 1)[0] == 't';
	*last_step_r = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	return STORE_OK;
}

int store_wa_totp_begin(struct store *st, const char *address, const char *secret,
			const char **error_r)
{
	const char *p[] = { address, secret };
	int n;
	int ret = count_rows(st, STMT_WA_TOTP_BEGIN, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_EXISTS, "two-factor login is on already"),
			      error_r);
	return ret;
}

int store_wa_totp_use(struct store *st, const char *address, uint64_t step, const char **error_r)
{
	char sb[24];
	snprintf(sb, sizeof(sb), "%" PRIu64, step);
	const char *p[] = { address, sb };
	int n;
	int ret = count_rows(st, STMT_WA_TOTP_USE, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_CONFLICT, "this code was used already"),
			      error_r);
	return ret;
}

int store_wa_totp_delete(struct store *st, const char *address, const char **error_r)
{
	const char *p[] = { address };
	int n;
	int ret = count_rows(st, STMT_WA_TOTP_DELETE, p, &n, error_r);
	if (ret == STORE_OK && n == 0)
		return failed(st, store_fail(st, STORE_NOTFOUND, "two-factor login is off"), error_r);
	return ret;
}

int store_wa_mail_hourly(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	return rows(st, STMT_WA_MAIL_HOURLY, NULL, cb, ctx, error_r);
}

int store_wa_domain_storage(struct store *st, unsigned limit, store_wa_row_fn *cb, void *ctx,
			    const char **error_r)
{
	char l[16];
	snprintf(l, sizeof(l), "%u", limit);
	const char *p[] = { l };
	return rows(st, STMT_WA_DOMAIN_STORAGE, p, cb, ctx, error_r);
}

int store_wa_nodes(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	return rows(st, STMT_WA_NODES, NULL, cb, ctx, error_r);
}

int store_wa_counters(struct store *st, store_wa_row_fn *cb, void *ctx, const char **error_r)
{
	return rows(st, STMT_WA_COUNTERS, NULL, cb, ctx, error_r);
}
