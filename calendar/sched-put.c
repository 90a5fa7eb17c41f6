/* Implicit scheduling (RFC 6638 3.2) when a client writes or deletes a
 * calendar object resource. The owner of the collection is the calendar
 * user; when the request's user is someone else (a delegate with write
 * access, or a read-write sharee), scheduling acts as the owner with
 * SENT-BY=mailto:<user>. Roles:
 *   - organizer: the ORGANIZER is one of the owner's calendar user
 *     addresses: itip_organizer_changes -> REQUEST/CANCEL to each attendee,
 *     whose outcome is stored as SCHEDULE-STATUS on the ATTENDEE (3.2.9);
 *     SEQUENCE is raised when the client did not and the change needs it;
 *   - attendee: an ATTENDEE is the owner's: only its own participation may
 *     change (3.2.2.1), itip_attendee_changes -> REPLY to the organizer;
 *   - neither, with an ORGANIZER that is another local user: a forgery,
 *     403 CALDAV:valid-organizer.
 * Schedule tags (3.2.10) are kept in dav_objects.schedule_tag. */
#include "autoconf.h"
#include "sched-private.h"
#include "sched-tag.h"
#include "config.h"
#include "ical-private.h"
#include "itip.h"
#include "log.h"
#include "store-sched.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- iCalendar helpers (libical) ---- */

static const char *addr_of(const char *value)
{
	if (value != NULL && str_ncasecmp(value, "mailto:", 7) == 0)
		return value + 7;
	return value != NULL ? value : "";
}

static bool addr_eq(const char *a, const char *b)
{
	return str_casecmp(addr_of(a), addr_of(b)) == 0;
}

/* "rid" of a component: its RECURRENCE-ID as text, "" for the master. */
static void rid_of(icalcomponent *c, char *out, size_t size)
{
	icalproperty *p = icalcomponent_get_first_property(c, ICAL_RECURRENCEID_PROPERTY);
	const char *v = p != NULL ? icalproperty_get_value_as_string(p) : NULL;
	snprintf(out, size, "%s", v != NULL ? v : "");
}

static const char *partstat_of(icalproperty *att)
{
	icalparameter *ps = icalproperty_get_first_parameter(att, ICAL_PARTSTAT_PARAMETER);
	if (ps == NULL)
		return "NEEDS-ACTION";
	const char *s = icalparameter_enum_to_string(icalparameter_get_partstat(ps));
	if (s == NULL) {
		char *x = icalparameter_as_ical_string(ps);
		return x != NULL ? x : "X";
	}
	return s;
}

/* Whether every component has the same ORGANIZER (or none at all). */
static bool same_organizer(const struct ical_object *obj)
{
	const char *first = NULL;
	bool seen = false;
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		icalproperty *p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
		const char *v = p != NULL ? icalproperty_get_organizer(p) : NULL;
		if (!seen) {
			first = v;
			seen = true;
		} else if ((first == NULL) != (v == NULL) ||
			   (first != NULL && !addr_eq(first, v))) {
			return false;
		}
	}
	return true;
}

/* The ORGANIZER value (first component's), or NULL. */
static const char *organizer_of(const struct ical_object *obj)
{
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		icalproperty *p = icalcomponent_get_first_property(c, ICAL_ORGANIZER_PROPERTY);
		if (p != NULL)
			return icalproperty_get_organizer(p);
	}
	return NULL;
}

/* The owner's address among the ATTENDEEs of obj (without mailto:), into
 * out; false when none. */
static bool owner_attendee(struct store *st, const char *owner, const struct ical_object *obj,
			   char *out, size_t size)
{
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			const char *a = addr_of(icalproperty_get_attendee(p));
			if (sched_is_user_address(st, owner, a)) {
				snprintf(out, size, "%s", a);
				return true;
			}
		}
	}
	return false;
}

/* An attendee may change only its own participation (RFC 6638 3.2.2.1):
 * the ORGANIZER stays, and no other ATTENDEE's PARTSTAT changes in a
 * component both versions have. */
static bool attendee_change_allowed(const struct ical_object *old, const struct ical_object *new,
				    const char *self, char *why, size_t size)
{
	const char *oo = organizer_of(old), *no = organizer_of(new);
	if ((oo == NULL) != (no == NULL) || (oo != NULL && !addr_eq(oo, no))) {
		snprintf(why, size, "an attendee cannot change the ORGANIZER");
		return false;
	}
	for (icalcomponent *nc = icalcomponent_get_first_component(new->vcal, new->kind);
	     nc != NULL; nc = icalcomponent_get_next_component(new->vcal, new->kind)) {
		char nrid[128];
		rid_of(nc, nrid, sizeof(nrid));
		icalcomponent *oc = NULL;
		/* libical's iterators are per component: walk old's by hand */
		icalcompiter it = icalcomponent_begin_component(old->vcal, old->kind);
		for (; icalcompiter_deref(&it) != NULL; icalcompiter_next(&it)) {
			char orid[128];
			rid_of(icalcompiter_deref(&it), orid, sizeof(orid));
			if (strcmp(orid, nrid) == 0) {
				oc = icalcompiter_deref(&it);
				break;
			}
		}
		if (oc == NULL)
			continue;
		for (icalproperty *np = icalcomponent_get_first_property(nc, ICAL_ATTENDEE_PROPERTY);
		     np != NULL; np = icalcomponent_get_next_property(nc, ICAL_ATTENDEE_PROPERTY)) {
			const char *na = icalproperty_get_attendee(np);
			if (addr_eq(na, self))
				continue;
			for (icalproperty *op = icalcomponent_get_first_property(oc,
										 ICAL_ATTENDEE_PROPERTY);
			     op != NULL;
			     op = icalcomponent_get_next_property(oc, ICAL_ATTENDEE_PROPERTY)) {
				if (!addr_eq(icalproperty_get_attendee(op), na))
					continue;
				char a[64], b[64];
				snprintf(a, sizeof(a), "%s", partstat_of(op));
				snprintf(b, sizeof(b), "%s", partstat_of(np));
				if (strcmp(a, b) != 0) {
					snprintf(why, size, "PARTSTAT of %s is not the attendee's to change",
						 addr_of(na));
					return false;
				}
			}
		}
	}
	return true;
}

int sched_set_partstat(struct ical_object *obj, const char *address, const char *partstat,
		       char **data_r, size_t *len_r)
{
	int n = 0;
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		for (icalproperty *p = icalcomponent_get_first_property(c, ICAL_ATTENDEE_PROPERTY);
		     p != NULL; p = icalcomponent_get_next_property(c, ICAL_ATTENDEE_PROPERTY)) {
			if (!addr_eq(icalproperty_get_attendee(p), address))
				continue;
			icalproperty_remove_parameter_by_kind(p, ICAL_PARTSTAT_PARAMETER);
			icalproperty_remove_parameter_by_kind(p, ICAL_RSVP_PARAMETER);
			icalproperty_add_parameter(
				p, icalparameter_new_partstat(icalparameter_string_to_enum(partstat)));
			n++;
		}
	}
	if (n == 0)
		return -1;
	*data_r = ical_object_to_string(obj, len_r);
	return 0;
}

/* SENT-BY=mailto:sent_by on the ORGANIZER (organizer) or on address's
 * ATTENDEE, in every component: the delegate who acted (RFC 5545 3.2.18).
 * Returns whether something was set. */
static bool set_sent_by(struct ical_object *obj, bool organizer, const char *address,
			const char *sent_by)
{
	char value[400];
	snprintf(value, sizeof(value), "mailto:%s", sent_by);
	bool set = false;
	icalproperty_kind kind = organizer ? ICAL_ORGANIZER_PROPERTY : ICAL_ATTENDEE_PROPERTY;
	for (icalcomponent *c = icalcomponent_get_first_component(obj->vcal, obj->kind); c != NULL;
	     c = icalcomponent_get_next_component(obj->vcal, obj->kind)) {
		for (icalproperty *p = icalcomponent_get_first_property(c, kind); p != NULL;
		     p = icalcomponent_get_next_property(c, kind)) {
			const char *v = icalproperty_get_value_as_string(p);
			if (!organizer && !addr_eq(v, address))
				continue;
			icalproperty_remove_parameter_by_kind(p, ICAL_SENTBY_PARAMETER);
			icalproperty_add_parameter(p, icalparameter_new_sentby(value));
			set = true;
		}
	}
	return set;
}

/* ---- the hooks ---- */

/* If-Schedule-Tag-Match (RFC 6638 8.3): 0, or 412 answered. */
static int check_tag(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		     bool exists, char oldtag[80])
{
	oldtag[0] = '\0';
	const char *error;
	if (exists && store_sched_tag_get(dav_ctx_store(ctx), coll->id, name, oldtag, &error) !=
			      STORE_OK)
		oldtag[0] = '\0';
	const char *hdr = dav_ctx_request(ctx)->if_schedule_tag_match;
	if (hdr == NULL)
		return 0;
	if (oldtag[0] == '\0' || !sched_tag_listed(hdr, strlen(hdr), oldtag)) {
		dav_text(ctx, 412, "If-Schedule-Tag-Match: the schedule tag changed");
		return 412;
	}
	return 0;
}

/* Who acts: NULL when the owner writes, else the request's user (SENT-BY). */
static const char *sent_by_of(struct dav_ctx *ctx, const struct store_dav_coll *coll)
{
	const char *user = dav_ctx_request(ctx)->user;
	return strcmp(user, coll->owner) != 0 ? user : NULL;
}

/* Send every message of outs from `from`, recording each outcome on obj
 * (the ATTENDEE for an organizer, the ORGANIZER for an attendee). */
static int send_all(struct dav_ctx *ctx, struct ical_object *obj, bool organizer,
		    const char *from, const char *sent_by, struct itip_out *outs, size_t n,
		    const char *org)
{
	struct store *st = dav_ctx_store(ctx);
	const struct config *cfg = dav_ctx_config(ctx);
	struct ical_index ix;
	memset(&ix, 0, sizeof(ix));
	const char *summary = NULL;
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct ical_error err;
	if (obj != NULL && ical_object_index(obj, NULL, &lim, &ix, &err) == 0)
		summary = ix.summary;
	int ret = STORE_OK;
	for (size_t i = 0; i < n && ret == STORE_OK; i++) {
		char status[16];
		const char *error = NULL;
		ret = sched_send(st, cfg, from, sent_by, &outs[i], summary, status, &error);
		if (ret != STORE_OK) {
			dav_ctx_note(ctx, "scheduling to %s: %s", outs[i].recipient,
				     error != NULL ? error : "store error");
			break;
		}
		if (obj != NULL)
			itip_set_schedule_status(obj, organizer ? outs[i].recipient : org, status);
	}
	ical_index_free(&ix);
	return ret;
}

void sched_write_free(struct sched_write *sw)
{
	free(sw->data);
	sw->data = NULL;
}

static void forbid(struct dav_ctx *ctx, const char *precond, const char *why)
{
	dav_ctx_note(ctx, "%s: %s", precond, why);
	dav_error(ctx, 403, DAV_NS_CALDAV, precond, NULL);
}

int sched_before_put(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		     const struct store_dav_obj *old, const char *data, size_t len,
		     struct sched_write *sw)
{
	memset(sw, 0, sizeof(*sw));
	if (strcmp(coll->kind, "calendar") != 0)
		return 0;
	struct store *st = dav_ctx_store(ctx);
	const struct config *cfg = dav_ctx_config(ctx);
	char oldtag[80];
	int status = check_tag(ctx, coll, name, old != NULL, oldtag);
	if (status != 0)
		return status;
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_object *newo = NULL, *oldo = NULL;
	if (ical_object_load(data, len, &lim, &newo, &err) < 0) {
		forbid(ctx, "valid-calendar-data", err.text);
		return 403;
	}
	if (old != NULL && old->data != NULL &&
	    ical_object_load(old->data, old->len, &lim, &oldo, &err) < 0)
		oldo = NULL;	/* stored before a limit changed: treat as new */
	const char *owner = coll->owner;
	const char *sent_by = sent_by_of(ctx, coll);
	const char *org = organizer_of(newo);
	int ret = 0;
	struct itip_out *outs = NULL;
	size_t n = 0;
	char self[321] = "";
	bool modified = false;
	if (org == NULL) {
		/* not a scheduling object resource; if it was one the owner
		 * organized, its attendees are told it is gone */
		const char *oorg = oldo != NULL ? organizer_of(oldo) : NULL;
		if (oorg != NULL && sched_is_user_address(st, owner, oorg) &&
		    dav_ctx_request(ctx)->schedule_reply == NULL) {
			char *o = itip_address(oorg);
			if (itip_organizer_changes(oldo, NULL, o, sent_by, &outs, &n, &err) == 0)
				ret = send_all(ctx, NULL, true, o, sent_by, outs, n, o);
			free(o);
		}
		goto done;
	}
	if (!same_organizer(newo)) {
		forbid(ctx, "same-organizer-in-all-components", "ORGANIZER differs between components");
		status = 403;
		goto done;
	}
	bool is_org = sched_is_user_address(st, owner, org);
	bool is_att = !is_org && owner_attendee(st, owner, newo, self, sizeof(self));
	if (!is_org && !is_att) {
		char account[321];
		const char *error;
		if (store_sched_account_of(st, addr_of(org), account, &error) == STORE_OK) {
			/* claims to come from another local user who did not send it */
			forbid(ctx, "valid-organizer", "the ORGANIZER is another local user and the "
						       "owner is no attendee");
			status = 403;
		}
		goto done;	/* an external organizer's event kept as it is */
	}
	/* RFC 6638 3.2.4.1: one scheduling object resource per UID */
	if (old == NULL) {
		char ocoll[STORE_DAV_NAME_MAX + 1], oname[STORE_DAV_NAME_MAX + 1];
		const char *error;
		int r = store_sched_uid_find(st, owner, ical_object_uid(newo), coll->id, name, ocoll,
					     oname, &error);
		if (r == STORE_OK) {
			forbid(ctx, "unique-scheduling-object-resource",
			       "this UID is already in another calendar");
			status = 403;
			goto done;
		}
		if (r != STORE_NOTFOUND) {
			ret = r;
			goto done;
		}
	}
	sw->scheduling = true;
	char *o = itip_address(org);
	/* a delegate acts for the owner: the stored copy says so too */
	if (sent_by != NULL && set_sent_by(newo, is_org, self, sent_by))
		modified = true;
	if (is_org) {
		/* organizer: SEQUENCE raised for a significant change (RFC 5546 2.1.4) */
		if (oldo != NULL && itip_needs_sequence_bump(oldo, newo) &&
		    itip_object_sequence(newo) <= itip_object_sequence(oldo)) {
			itip_object_set_sequence(newo, itip_object_sequence(oldo) + 1);
			modified = true;
		}
		if (itip_organizer_changes(oldo, newo, o, sent_by, &outs, &n, &err) < 0) {
			free(o);
			forbid(ctx, "valid-scheduling-message", err.text);
			status = 403;
			goto done;
		}
		ret = send_all(ctx, newo, true, o, sent_by, outs, n, o);
		sched_new_tag(sw->tag);
	} else {
		char why[200];
		if (oldo != NULL && !attendee_change_allowed(oldo, newo, self, why, sizeof(why))) {
			free(o);
			forbid(ctx, "allowed-attendee-scheduling-object-change", why);
			status = 403;
			goto done;
		}
		if (dav_ctx_request(ctx)->schedule_reply == NULL ||
		    str_casecmp(dav_ctx_request(ctx)->schedule_reply, "F") != 0) {
			if (itip_attendee_changes(oldo, newo, self, sent_by, &outs, &n, &err) < 0) {
				free(o);
				forbid(ctx, "valid-scheduling-message", err.text);
				status = 403;
				goto done;
			}
			ret = send_all(ctx, newo, false, self, sent_by, outs, n, o);
		}
		/* an attendee's own change keeps the tag (3.2.10) */
		if (oldtag[0] != '\0')
			snprintf(sw->tag, sizeof(sw->tag), "%s", oldtag);
		else
			sched_new_tag(sw->tag);
	}
	free(o);
	if (n > 0 || modified) {
		sw->data = ical_object_to_string(newo, &sw->len);
	}
done:
	itip_out_free(outs, n);
	ical_object_free(&newo);
	ical_object_free(&oldo);
	if (ret != STORE_OK) {
		if (dav_ctx_response(ctx)->status < 400)
			dav_text(ctx, 500, "scheduling failed");
		sched_write_free(sw);
		return ret;
	}
	if (status != 0)
		sched_write_free(sw);
	return status;
}

int sched_before_delete(struct dav_ctx *ctx, const struct store_dav_coll *coll,
			const struct store_dav_obj *old)
{
	if (strcmp(coll->kind, "calendar") != 0)
		return 0;
	struct store *st = dav_ctx_store(ctx);
	const struct config *cfg = dav_ctx_config(ctx);
	char oldtag[80];
	int status = check_tag(ctx, coll, old->name, true, oldtag);
	if (status != 0)
		return status;
	const char *reply = dav_ctx_request(ctx)->schedule_reply;
	if (reply != NULL && str_casecmp(reply, "F") == 0)
		return 0;	/* RFC 6638 8.1: the client does not want a message sent */
	struct ical_limits lim;
	sched_limits(cfg, &lim);
	struct ical_error err = { ICAL_PRECOND_NONE, "" };
	struct ical_object *oldo = NULL;
	if (old->data == NULL || ical_object_load(old->data, old->len, &lim, &oldo, &err) < 0)
		return 0;
	const char *org = organizer_of(oldo);
	const char *sent_by = sent_by_of(ctx, coll);
	struct itip_out *outs = NULL;
	size_t n = 0;
	int ret = STORE_OK;
	char self[321];
	if (org != NULL) {
		char *o = itip_address(org);
		if (sched_is_user_address(st, coll->owner, org)) {
			if (itip_organizer_changes(oldo, NULL, o, sent_by, &outs, &n, &err) == 0)
				ret = send_all(ctx, NULL, true, o, sent_by, outs, n, o);
		} else if (owner_attendee(st, coll->owner, oldo, self, sizeof(self))) {
			if (itip_attendee_changes(oldo, NULL, self, sent_by, &outs, &n, &err) == 0)
				ret = send_all(ctx, NULL, false, self, sent_by, outs, n, o);
		}
		free(o);
	}
	itip_out_free(outs, n);
	ical_object_free(&oldo);
	if (ret != STORE_OK) {
		dav_text(ctx, 500, "scheduling failed");
		return ret;
	}
	return 0;
}

int sched_after_put(struct dav_ctx *ctx, const struct store_dav_coll *coll, const char *name,
		    const struct sched_write *sw)
{
	if (!sw->scheduling || sw->tag[0] == '\0')
		return STORE_OK;
	const char *error;
	int ret = store_sched_tag_set(dav_ctx_store(ctx), coll->id, name, sw->tag, &error);
	if (ret != STORE_OK)
		return ret;
	buf_printf(dav_ctx_headers(ctx), "Schedule-Tag: %s\r\n", sw->tag);
	return STORE_OK;
}

/* ---- properties ---- */

int sched_calendar_prop(struct dav_ctx *ctx, enum dav_level level,
			const struct store_dav_coll *coll, const struct store_dav_obj *obj,
			const struct dav_propname *p, struct buf *out)
{
	if (strcmp(p->ns, DAV_NS_CALDAV) != 0)
		return 404;
	if (level == DAV_LEVEL_OBJ && strcmp(p->name, "schedule-tag") == 0) {
		char tag[80];
		const char *error;
		if (store_sched_tag_get(dav_ctx_store(ctx), coll->id, obj->name, tag, &error) !=
			    STORE_OK ||
		    tag[0] == '\0')
			return 404;
		buf_append_str(out, "<C:schedule-tag>");
		dav_xml_escape(out, tag);
		buf_append_str(out, "</C:schedule-tag>");
		return 200;
	}
	return 404;
}
