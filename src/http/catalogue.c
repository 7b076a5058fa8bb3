// SPDX-License-Identifier: MIT
/* GET /api/v1/catalogue: the names of states, milestones and event types in
 * both languages, the workflow's moves, the roles and the kinds of
 * notification an endpoint may subscribe to (core/catalogue.h),
 * for the web UI and any client, so that none keeps a copy of the rules. */
#include "catalogue.h"

#include "internal.h"
#include "tickets.h"

static json_t *label(struct kw_label l)
{
    return json_pack("{s:s, s:s}", "zh", l.zh, "en", l.en);
}

static json_t *states(void)
{
    json_t *list = json_array();
    for (int s = 0; s < KW_ST_COUNT; s++) {
        json_t *moves = json_array();
        unsigned m = kw_workflow_moves((enum kw_state)s);
        for (int to = 0; to < KW_ST_COUNT; to++)
            if (m & (1u << to))
                json_array_append_new(moves, json_string(kw_state_name((enum kw_state)to)));
        json_array_append_new(list, json_pack("{s:s, s:o, s:b, s:o}", "id",
                                              kw_state_name((enum kw_state)s), "label",
                                              label(kw_state_label((enum kw_state)s)), "open",
                                              kw_state_open((enum kw_state)s), "moves", moves));
    }
    return list;
}

struct kwh_reply kwh_catalogue(struct kwh_call *x)
{
    (void)x;
    json_t *ms = json_array(), *ev = json_array(), *roles = json_array(), *nk = json_array();
    for (size_t i = 0; i < kw_milestone_count(); i++) {
        const struct kw_milestone_info *m = kw_milestone_info(i);
        json_array_append_new(ms, json_pack("{s:s, s:o, s:b}", "id", m->id, "label",
                                            label(m->label), "manual", m->manual));
    }
    for (int k = 0; k < KW_EVENT_KIND_COUNT; k++)
        json_array_append_new(ev, json_pack("{s:s, s:o}", "type",
                                            kw_event_kind_name((enum kw_event_kind)k), "label",
                                            label(kw_event_label((enum kw_event_kind)k))));
    for (size_t i = 0; i < kw_notification_count(); i++) {
        const struct kw_notification_info *n = kw_notification_info(i);
        json_array_append_new(nk, json_pack("{s:s, s:o}", "id", n->id, "label", label(n->label)));
    }
    for (int r = 0; r < KW_ROLE_SYSTEM; r++)
        json_array_append_new(roles, json_string(kw_role_name((enum kw_role)r)));
    return kwh_ok(200, json_pack("{s:o, s:o, s:o, s:o, s:o}", "states", states(), "milestones", ms,
                                 "events", ev, "roles", roles, "notifications", nk));
}
