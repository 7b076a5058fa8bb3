// SPDX-License-Identifier: MIT
/*
 * routes.c - the one table of what the server answers: method, path
 * pattern, handler and who may call it. Dispatch, the 405 with its Allow
 * header, `keepword serve --help` and the check against docs/openapi.json
 * all read it. A pattern's segments are literals or parameters: {id} is
 * 1..INT64_MAX in plain decimal (no sign, space or leading zero), {name} one
 * segment of 1 to KW_CAL_NAME_MAX - 1 bytes; anything else is 404. A
 * pattern ends with the query parameters the route takes, as in a URI
 * template (RFC 6570): "/api/v1/orgs{?after,limit}". Any other query
 * parameter, or one given twice, is 400 naming it, before the handler runs.
 */
#include <string.h>

#include "internal.h"

static struct kwh_reply healthz(struct kwh_call *x)
{
    return kwh_ok(
        200, json_pack("{s:s, s:i}", "status", "ok", "schema", kw_store_schema_version(x->wk->st)));
}

static struct kwh_reply openapi(struct kwh_call *x)
{
    (void)x;
    json_t *doc = json_loads((const char *)kw_openapi, 0, NULL);
    return doc ? kwh_ok(200, doc) : kwh_problem_of(KW_STORE, "", "the API description is damaged");
}

#define ANYONE KWH_ANYONE
#define PUBLIC KWH_PUBLIC
#define ORGS_WHY "only admins and managers manage organisations"
#define CALS_WHY "only admins and managers manage calendars"
#define NOTIFY_WHY "only admins and managers manage notifications"
#define OUTBOX_WHY "only admins and managers read the outbox"
#define ROTA_WHY "rotas are the provider's"
#define CALLBACK_WHY "call-backs are made by the provider's staff"
#define TASKS_WHY "follow-up tasks are the provider's"
#define SUBS_WHY "subscriptions are for the provider's people"
#define VIEWS_WHY "saved views are for the provider's people"
#define CONTRACTS_WHY "only admins and managers write contracts and credits"
#define INTAKE_WHY "only admins and managers manage alert sources"
#define WATCH_WHY "only admins and managers decide on the watch list"
#define WATCH_READ_WHY "the watch list is the provider's"
#define MAIL_WHY "only admins and managers manage mailboxes"
#define LINKS_WHY "tickets are linked and merged by the provider's staff"
#define CANNED_WHY "canned replies are the provider's"
#define COST_WHY "only admins and managers see and set what a team's hour costs"

/* In the order of docs/openapi.json; a path's methods next to each other. */
static const struct kwh_route routes[] = {
    {"GET", "/healthz", healthz, NULL, PUBLIC, NULL},
    {"GET", "/metrics", kwh_metrics_get, NULL, PUBLIC, NULL}, /* it checks who asks */
    {"GET", "/api/v1/openapi.json", openapi, NULL, PUBLIC, NULL},
    {"POST", "/api/v1/auth/login", kwh_login, NULL, PUBLIC, NULL},
    {"POST", "/api/v1/auth/logout", kwh_logout, NULL, ANYONE, NULL},
    {"GET", "/api/v1/catalogue", kwh_catalogue, NULL, PUBLIC, NULL},
    {"GET", "/api/v1/me", kwh_me, NULL, ANYONE, NULL},
    {"PATCH", "/api/v1/me", kwh_me_patch, NULL, ANYONE, NULL},
    {"POST", "/api/v1/me/password", kwh_me_password, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tokens", kwh_tokens_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tokens", kwh_tokens_create, NULL, ANYONE, NULL},
    {"DELETE", "/api/v1/tokens/{id}", kwh_token_delete, NULL, ANYONE, NULL},
    {"GET",
     "/api/v1/tickets{?state,level,org_id,assignee_id,team_id,breached,due_before,"
     "sort,after,limit,include,q,category}",
     kwh_tickets_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets", kwh_tickets_create, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets/bulk", kwh_tickets_bulk, NULL, STAFF,
     "bulk changes are made by the provider's staff"},
    {"GET", "/api/v1/views", kwh_views_list, NULL, STAFF, VIEWS_WHY},
    {"POST", "/api/v1/views", kwh_views_create, NULL, STAFF, VIEWS_WHY},
    {"GET", "/api/v1/views/{id}", kwh_view_get, NULL, STAFF, VIEWS_WHY},
    {"PATCH", "/api/v1/views/{id}", kwh_view_patch, NULL, STAFF, VIEWS_WHY},
    {"DELETE", "/api/v1/views/{id}", kwh_view_delete, NULL, STAFF, VIEWS_WHY},
    {"GET", "/api/v1/tickets/{id}", kwh_ticket_get, NULL, ANYONE, NULL},
    {"PATCH", "/api/v1/tickets/{id}", kwh_ticket_patch, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/events", kwh_ticket_events, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets/{id}/events", kwh_ticket_event_post, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/sla", kwh_ticket_sla, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/nodes{?lang}", kwh_ticket_nodes, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/verify", kwh_ticket_verify, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/receipt{?since,format,lang}", kwh_ticket_receipt, NULL, ANYONE,
     NULL},
    {"GET", "/api/v1/tickets/{id}/receipts{?seq,format,lang}", kwh_ticket_receipts, NULL, ANYONE,
     NULL},
    {"POST", "/api/v1/tickets/{id}/callbacks", kwh_ticket_callback, NULL, STAFF, CALLBACK_WHY},
    {"GET", "/api/v1/tickets/{id}/tasks", kwh_ticket_tasks, NULL, STAFF, TASKS_WHY},
    {"POST", "/api/v1/tickets/{id}/tasks/done", kwh_ticket_task_done, NULL, STAFF, TASKS_WHY},
    {"GET", "/api/v1/callbacks{?team_id,limit}", kwh_callbacks_list, NULL, STAFF, CALLBACK_WHY},
    {"GET", "/api/v1/tickets/{id}/attachments", kwh_attachments_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets/{id}/attachments{?name,comment,internal}", kwh_attachment_post, NULL,
     ANYONE, NULL},
    {"GET", "/api/v1/attachments/{id}", kwh_attachment_get, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/watchers", kwh_watchers_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets/{id}/watchers", kwh_watchers_add, NULL, ANYONE, NULL},
    {"DELETE", "/api/v1/tickets/{id}/watchers{?user_id}", kwh_watchers_remove, NULL, ANYONE, NULL},
    {"GET", "/api/v1/tickets/{id}/links", kwh_links_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/tickets/{id}/links", kwh_links_add, NULL, STAFF, LINKS_WHY},
    {"DELETE", "/api/v1/tickets/{id}/links{?ticket}", kwh_links_remove, NULL, STAFF, LINKS_WHY},
    {"POST", "/api/v1/tickets/{id}/merge", kwh_ticket_merge, NULL, STAFF, LINKS_WHY},
    {"GET", "/api/v1/tickets/{id}/canned{?reply,lang}", kwh_ticket_canned, NULL, STAFF, CANNED_WHY},
    {"GET", "/api/v1/canned{?team_id}", kwh_canned_list, NULL, STAFF, CANNED_WHY},
    {"POST", "/api/v1/canned", kwh_canned_create, NULL, STAFF, CANNED_WHY},
    {"GET", "/api/v1/canned/{id}", kwh_canned_get, NULL, STAFF, CANNED_WHY},
    {"PATCH", "/api/v1/canned/{id}", kwh_canned_patch, NULL, STAFF, CANNED_WHY},
    {"DELETE", "/api/v1/canned/{id}", kwh_canned_delete, NULL, STAFF, CANNED_WHY},
    {"GET", "/api/v1/orgs{?after,limit}", kwh_orgs_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/orgs", kwh_orgs_create, NULL, MANAGERS, ORGS_WHY},
    {"GET", "/api/v1/orgs/{id}", kwh_org_get, NULL, ANYONE, NULL},
    {"PATCH", "/api/v1/orgs/{id}", kwh_org_patch, NULL, MANAGERS, ORGS_WHY},
    {"POST", "/api/v1/orgs/{id}/watch-list/clear", kwh_org_watch_clear, NULL, MANAGERS, WATCH_WHY},
    {"GET", "/api/v1/users{?org_id,after,limit}", kwh_users_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/users", kwh_users_create, NULL, ROLE(R_ADMIN), "only admins manage users"},
    {"GET", "/api/v1/users/{id}", kwh_user_get, NULL, ANYONE, NULL},
    {"PATCH", "/api/v1/users/{id}", kwh_user_patch, NULL, ROLE(R_ADMIN),
     "only admins edit people (change your own name, language and time zone with PATCH "
     "/api/v1/me)"},
    {"GET", "/api/v1/teams", kwh_teams_list, NULL, STAFF, "teams are the provider's"},
    {"POST", "/api/v1/teams", kwh_teams_create, NULL, MANAGERS,
     "only admins and managers manage teams"},
    {"GET", "/api/v1/teams/costs", kwh_team_costs, NULL, MANAGERS, COST_WHY},
    {"PUT", "/api/v1/teams/{id}/cost", kwh_team_cost_put, NULL, MANAGERS, COST_WHY},
    {"DELETE", "/api/v1/teams/{id}/cost", kwh_team_cost_delete, NULL, MANAGERS, COST_WHY},
    {"GET", "/api/v1/calendars", kwh_calendars_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/calendars", kwh_calendars_create, NULL, MANAGERS, CALS_WHY},
    {"GET", "/api/v1/calendars/{name}", kwh_calendar_get, NULL, ANYONE, NULL},
    {"GET", "/api/v1/calendars/{name}/deadline{?from,duration}", kwh_calendar_deadline, NULL,
     ANYONE, NULL},
    {"POST", "/api/v1/calendars/{name}/ics{?as,match,holiday,workday,dry_run}", kwh_calendar_ics,
     NULL, MANAGERS, CALS_WHY},
    {"GET", "/api/v1/calendars/{name}/versions", kwh_calendar_versions, NULL, ANYONE, NULL},
    {"POST", "/api/v1/calendars/{name}/impact", kwh_calendar_impact, NULL, MANAGERS, CALS_WHY},
    {"GET", "/api/v1/commitments", kwh_commitments_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/commitments", kwh_commitments_create, NULL, MANAGERS,
     "only admins and managers change commitments"},
    {"GET", "/api/v1/commitments/{id}", kwh_commitment_get, NULL, ANYONE, NULL},
    {"GET", "/api/v1/commitments/{id}/letter{?lang,format}", kwh_commitment_letter, NULL, ANYONE,
     NULL},
    {"POST", "/api/v1/commitments/{id}/diff", kwh_commitment_diff, NULL, MANAGERS,
     "only admins and managers change commitments"},
    {"GET", "/api/v1/endpoints", kwh_endpoints_list, NULL, MANAGERS, NOTIFY_WHY},
    {"POST", "/api/v1/endpoints", kwh_endpoints_create, NULL, MANAGERS, NOTIFY_WHY},
    {"PATCH", "/api/v1/endpoints/{id}", kwh_endpoint_patch, NULL, MANAGERS, NOTIFY_WHY},
    {"DELETE", "/api/v1/endpoints/{id}", kwh_endpoint_delete, NULL, MANAGERS, NOTIFY_WHY},
    {"POST", "/api/v1/endpoints/{id}/test", kwh_endpoint_test, NULL, MANAGERS, NOTIFY_WHY},
    {"GET", "/api/v1/outbox{?state,ticket_id,after,limit}", kwh_outbox_list, NULL, MANAGERS,
     OUTBOX_WHY},
    {"POST", "/api/v1/outbox/{id}/retry", kwh_outbox_retry, NULL, MANAGERS, OUTBOX_WHY},
    {"GET", "/api/v1/oncall{?team_id}", kwh_rotas_list, NULL, STAFF, ROTA_WHY},
    {"POST", "/api/v1/oncall{?dry_run,days}", kwh_rotas_put, NULL, MANAGERS,
     "only admins and managers set rotas"},
    {"GET", "/api/v1/oncall/who{?team_id,level,at}", kwh_oncall_who, NULL, STAFF, ROTA_WHY},
    {"GET", "/api/v1/oncall/{id}/who{?at}", kwh_rota_who, NULL, STAFF, ROTA_WHY},
    {"GET", "/api/v1/oncall/{id}/shifts{?from,days}", kwh_rota_shifts, NULL, STAFF, ROTA_WHY},
    {"GET", "/api/v1/overruns{?state,org_id,ticket_id,metric,after,limit}", kwh_overruns_list, NULL,
     ANYONE, NULL},
    {"GET", "/api/v1/overruns/{id}", kwh_overrun_get, NULL, ANYONE, NULL},
    {"GET", "/api/v1/kpis{?from,to,metric,group_by,bucket,tz}", kwh_kpis, NULL, ANYONE, NULL},
    {"GET", "/api/v1/kpis/breaches{?from,to,metric,tz,limit}", kwh_kpi_breaches, NULL, ANYONE,
     NULL},
    {"GET",
     "/api/v1/kpis/tickets{?from,to,metric,tz,bucket,at,figure,limit,level,tier,organisation,team,"
     "assignee,category,region,channel,commitment}",
     kwh_kpi_tickets, NULL, ANYONE, NULL},
    {"GET", "/api/v1/reports/weekly{?period,format,lang,tz,org_id}", kwh_report_weekly, NULL,
     ANYONE, NULL},
    {"GET", "/api/v1/reports/monthly{?period,format,lang,tz,org_id}", kwh_report_monthly, NULL,
     ANYONE, NULL},
    {"PATCH", "/api/v1/overruns/{id}", kwh_overrun_patch, NULL, ANYONE, NULL},
    {"GET", "/api/v1/notifications{?unread,after,limit}", kwh_notifications_list, NULL, ANYONE,
     NULL},
    {"POST", "/api/v1/notifications/read", kwh_notifications_read, NULL, ANYONE, NULL},
    {"GET", "/api/v1/watch-list{?org_id,all}", kwh_watch_list, NULL, STAFF, WATCH_READ_WHY},
    {"GET", "/api/v1/watch-list/settings", kwh_watch_settings_get, NULL, STAFF, WATCH_READ_WHY},
    {"PUT", "/api/v1/watch-list/settings", kwh_watch_settings_put, NULL, MANAGERS, WATCH_WHY},
    {"GET", "/api/v1/audit{?kind,actor,from,to,before,limit}", kwh_audit_list, NULL, MANAGERS,
     "only admins and managers read the audit trail"},
    {"GET", "/api/v1/contracts{?org_id,after,limit}", kwh_contracts_list, NULL, ANYONE, NULL},
    {"POST", "/api/v1/contracts", kwh_contracts_create, NULL, MANAGERS, CONTRACTS_WHY},
    {"GET", "/api/v1/contracts/{id}", kwh_contract_get, NULL, ANYONE, NULL},
    {"PATCH", "/api/v1/contracts/{id}", kwh_contract_patch, NULL, MANAGERS, CONTRACTS_WHY},
    {"GET", "/api/v1/contracts/{id}/ledger{?after,limit}", kwh_contract_ledger, NULL, ANYONE, NULL},
    {"GET", "/api/v1/contracts/{id}/ledger/verify", kwh_contract_ledger_verify, NULL, ANYONE, NULL},
    {"GET", "/api/v1/contracts/{id}/statement{?at,format,lang}", kwh_contract_statement, NULL,
     ANYONE, NULL},
    {"POST", "/api/v1/contracts/{id}/adjustments", kwh_contract_adjust, NULL, MANAGERS,
     CONTRACTS_WHY},
    {"POST", "/api/v1/contracts/{id}/claims", kwh_contract_claim, NULL, ANYONE, NULL},
    {"POST", "/api/v1/contracts/{id}/settlements", kwh_contract_settle, NULL, MANAGERS,
     CONTRACTS_WHY},
    {"GET", "/api/v1/adjustments{?contract_id,state}", kwh_adjustments_list, NULL, MANAGERS,
     CONTRACTS_WHY},
    {"POST", "/api/v1/adjustments/{id}/decision", kwh_adjustment_decide, NULL, MANAGERS,
     CONTRACTS_WHY},
    {"GET", "/api/v1/subscriptions{?user_id}", kwh_subscriptions_list, NULL, STAFF, SUBS_WHY},
    {"POST", "/api/v1/subscriptions", kwh_subscriptions_create, NULL, STAFF, SUBS_WHY},
    {"DELETE", "/api/v1/subscriptions/{id}", kwh_subscription_delete, NULL, STAFF, SUBS_WHY},
    {"GET", "/api/v1/intake/sources", kwh_intake_sources_list, NULL, MANAGERS, INTAKE_WHY},
    {"POST", "/api/v1/intake/sources", kwh_intake_sources_create, NULL, MANAGERS, INTAKE_WHY},
    {"PATCH", "/api/v1/intake/sources/{id}", kwh_intake_source_patch, NULL, MANAGERS, INTAKE_WHY},
    {"DELETE", "/api/v1/intake/sources/{id}", kwh_intake_source_delete, NULL, MANAGERS, INTAKE_WHY},
    {"POST", "/api/v1/intake/sources/{id}/key", kwh_intake_source_rekey, NULL, MANAGERS,
     INTAKE_WHY},
    {"GET", "/api/v1/mailboxes", kwh_mailboxes_list, NULL, MANAGERS, MAIL_WHY},
    {"POST", "/api/v1/mailboxes", kwh_mailboxes_create, NULL, MANAGERS, MAIL_WHY},
    {"PATCH", "/api/v1/mailboxes/{id}", kwh_mailbox_patch, NULL, MANAGERS, MAIL_WHY},
    {"DELETE", "/api/v1/mailboxes/{id}", kwh_mailbox_delete, NULL, MANAGERS, MAIL_WHY},
    {"POST", "/api/v1/mailboxes/{id}/test", kwh_mailbox_test, NULL, MANAGERS, MAIL_WHY},
    /* the intake checks its source's key itself */
    {"POST", "/api/v1/intake/alertmanager", kwh_intake_alertmanager, NULL, PUBLIC, NULL},
    {"POST", "/api/v1/intake/grafana", kwh_intake_grafana, NULL, PUBLIC, NULL},
    {"POST", "/api/v1/intake/events", kwh_intake_events, NULL, PUBLIC, NULL},
    {"GET", "/api/v1/log/key", kwh_log_key, NULL, PUBLIC, NULL},
    {"GET", "/api/v1/log/checkpoint", kwh_log_checkpoint, NULL, ANYONE, NULL},
    {"GET", "/api/v1/log/proof/inclusion{?leaf,size}", kwh_log_inclusion, NULL, ANYONE, NULL},
    {"GET", "/api/v1/log/proof/consistency{?from,to}", kwh_log_consistency, NULL, ANYONE, NULL},
    {"GET", "/api/v1/stream", NULL, kwh_web_stream, ANYONE, NULL},
};
#define N_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* What a 404 for a bad parameter after a collection calls the thing. */
static const struct {
    const char *collection, *noun;
} nouns[] = {
    {"tokens", "token"},           {"tickets", "ticket"},
    {"orgs", "organisation"},      {"calendars", "calendar"},
    {"commitments", "commitment"}, {"endpoints", "endpoint"},
    {"outbox", "notification"},    {"oncall", "rota"},
    {"overruns", "overrun"},       {"subscriptions", "subscription"},
    {"callbacks", "call-back"},    {"users", "user"},
    {"attachments", "attachment"}, {"views", "view"},
    {"contracts", "contract"},     {"adjustments", "adjustment"},
    {"sources", "alert source"},   {"mailboxes", "mailbox"},
    {"canned", "canned reply"},
};

/* {id}: plain decimal 1..INT64_MAX, at most 19 digits, so no overflow. */
static bool id_of(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 19 || s[0] < '1' || s[0] > '9')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

enum fit { NO, AT_PARAM, YES };

/* Where a pattern's path ends: at its query template or its end. */
static size_t path_len(const char *pattern)
{
    const char *q = strstr(pattern, "{?");
    return q ? (size_t)(q - pattern) : strlen(pattern);
}

/* Whether path fits pattern segment by segment, parameters into a.
 * AT_PARAM: the literals before a parameter fit and the parameter did not;
 * *collection is then the literal segment before it. */
static enum fit fits(const char *pattern, const char *path, struct kwh_args *a,
                     const char **collection, size_t *collection_len)
{
    const char *p = pattern, *u = path, *prev = "", *end = pattern + path_len(pattern);
    size_t prev_len = 0;
    while (p < end && *u) {
        if (*p != '/' || *u != '/')
            return NO;
        p++, u++;
        size_t pn = strcspn(p, "/"), un = strcspn(u, "/");
        if (pn > (size_t)(end - p))
            pn = (size_t)(end - p);
        if (*p == '{') {
            bool ok =
                strncmp(p, "{id}", pn) == 0 ? id_of(u, un, &a->id) : un > 0 && un < sizeof(a->name);
            if (!ok) {
                *collection = prev;
                *collection_len = prev_len;
                return AT_PARAM;
            }
            if (strncmp(p, "{name}", pn) == 0) {
                memcpy(a->name, u, un);
                a->name[un] = '\0';
            }
        } else if (pn != un || strncmp(p, u, pn) != 0) {
            return NO;
        }
        prev = u, prev_len = un;
        p += pn, u += un;
    }
    return p < end || *u ? NO : YES;
}

/* HEAD is GET without the body (the daemon leaves it out). */
static bool method_fits(const char *route, const char *method)
{
    return strcmp(route, method) == 0 || (strcmp(route, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

static void allow_add(char *allow, size_t cap, const char *method)
{
    size_t n = strlen(method);
    for (const char *s = allow; (s = strstr(s, method)); s += n)
        if ((s == allow || s[-1] == ' ') && (s[n] == ',' || s[n] == '\0'))
            return;
    snprintf(allow + strlen(allow), cap - strlen(allow), "%s%s", *allow ? ", " : "", method);
}

/* The route for method and path, its parameters in a; NULL with the 404
 * or the 405 (which names the path's methods in Allow) in *fail. */
static const struct kwh_route *route_of(const char *method, const char *path, struct kwh_args *a,
                                        struct kwh_reply *fail)
{
    char allow[sizeof(fail->allow)] = "";
    const char *collection = NULL;
    size_t collection_len = 0;
    for (size_t i = 0; i < N_ROUTES; i++) {
        struct kwh_args got = {0};
        enum fit f = fits(routes[i].path, path, &got, &collection, &collection_len);
        if (f != YES)
            continue;
        if (method_fits(routes[i].method, method)) {
            *a = got;
            return &routes[i];
        }
        allow_add(allow, sizeof(allow), routes[i].method);
        if (strcmp(routes[i].method, "GET") == 0)
            allow_add(allow, sizeof(allow), "HEAD");
    }
    if (*allow) {
        *fail = kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
        snprintf(fail->allow, sizeof(fail->allow), "%s", allow);
        return NULL;
    }
    for (size_t i = 0; collection && i < sizeof(nouns) / sizeof(nouns[0]); i++)
        if (strlen(nouns[i].collection) == collection_len &&
            strncmp(collection, nouns[i].collection, collection_len) == 0) {
            *fail = kwh_problemf(KW_NOT_FOUND, "", "no such %s", nouns[i].noun);
            return NULL;
        }
    *fail = kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
    return NULL;
}

/* The query parameters a call gives, checked against a route's template. */
struct query_check {
    const char *names; /* "after,limit}" (after the "{?"), or NULL: none */
    uint32_t seen;     /* bit i: the template's i-th name was given */
    struct kwh_reply *fail;
    bool bad;
};

/* The position of key (n bytes) in the comma-separated names, or -1. */
static int name_at(const char *names, const char *key)
{
    size_t n = strlen(key);
    int i = 0;
    for (const char *s = names; s && *s && *s != '}'; i++) {
        size_t len = strcspn(s, ",}");
        if (len == n && strncmp(s, key, n) == 0)
            return i;
        s += len + (s[len] == ',');
    }
    return -1;
}

static enum MHD_Result query_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    struct query_check *q = cls;
    (void)kind, (void)value;
    int i = name_at(q->names, key);
    if (i >= 0 && (i >= 32 || !(q->seen & (1u << i)))) {
        if (i < 32)
            q->seen |= 1u << i;
        return MHD_YES;
    }
    /* the name as the reply shows it: printable ASCII (the reply is UTF-8
     * JSON, the name any bytes), at most 40 of them */
    char name[41];
    size_t n = 0;
    for (const unsigned char *k = (const unsigned char *)key; *k && n < sizeof(name) - 1; k++)
        name[n++] = *k >= 0x20 && *k < 0x7f ? (char)*k : '?';
    name[n] = '\0';
    int len = q->names ? (int)strcspn(q->names, "}") : 0;
    if (i >= 0)
        *q->fail = kwh_problemf(KW_INVALID, "", "%s: given more than once", name);
    else if (q->names)
        *q->fail =
            kwh_problemf(KW_INVALID, "", "%s: not a query parameter of this route (it takes %.*s)",
                         name, len, q->names);
    else
        *q->fail = kwh_problemf(KW_INVALID, "",
                                "%s: not a query parameter of this route (it takes none)", name);
    if (q->fail->json)
        json_object_set_new(q->fail->json, "parameter", json_string(name));
    q->bad = true;
    return MHD_NO;
}

/* Whether the call's query parameters are the route's, each at most once. */
static bool query_fits(const struct kwh_route *r, struct kwh_call *x, struct kwh_reply *fail)
{
    const char *t = strstr(r->path, "{?");
    struct query_check q = {.names = t ? t + 2 : NULL, .fail = fail};
    MHD_get_connection_values(x->c, MHD_GET_ARGUMENT_KIND, query_one, &q);
    return !q.bad;
}

/* 401 before 403: a route for some roles first needs a login. */
static bool admit(const struct kwh_route *r, struct kwh_call *x, struct kwh_reply *fail)
{
    if (r->roles == KWH_PUBLIC)
        return true;
    if (r->roles == KWH_ANYONE)
        return kwh_authenticate(x, fail);
    return kwh_authorise(x, r->roles, r->why, fail);
}

kwh_streamer kwh_dispatch(struct kwh_call *x, const char *url, struct kwh_reply *rep)
{
    const struct kwh_route *r = route_of(x->method, url, &x->arg, rep);
    if (r)
        x->route = (int)(r - routes);
    if (r && r->stream)
        return admit(r, x, rep) && query_fits(r, x, rep) ? r->stream : NULL;
    if (x->r->too_big) {
        if (!r)
            json_decref(rep->json);
        *rep = x->r->upload ? kwh_problemf(KW_TOO_BIG, "",
                                           "the file is larger than the limit of %zu bytes per "
                                           "file (serve --max-attachment)",
                                           x->h->max_attachment)
                            : kwh_problemf(KW_TOO_BIG, "", "the body is larger than %u bytes",
                                           KW_HTTP_MAX_BODY);
    } else if (r && admit(r, x, rep) && query_fits(r, x, rep)) {
        *rep = r->fn(x);
    }
    return NULL;
}

size_t kwh_route_count(void)
{
    return N_ROUTES;
}

bool kw_http_route(size_t i, const char **method, const char **path, int *path_n,
                   const char **query)
{
    if (i >= N_ROUTES)
        return false;
    *method = routes[i].method;
    *path = routes[i].path;
    *path_n = (int)path_len(routes[i].path);
    *query = routes[i].path[*path_n] ? routes[i].path + *path_n + 2 : "}";
    return true;
}
