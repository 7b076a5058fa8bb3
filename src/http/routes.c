// SPDX-License-Identifier: MIT
/* routes.c - which handler answers a method and path. */
#include <string.h>

#include "internal.h"

struct kwh_reply kwh_route(struct kwh_call *x, const char *url)
{
    struct kwh_reply out;
    if (x->r->too_big)
        return kwh_problemf(KW_TOO_BIG, "", "the body is larger than %u bytes", KW_HTTP_MAX_BODY);
    if ((strcmp(url, "/healthz") == 0 || strcmp(url, "/api/v1/openapi.json") == 0) &&
        !kwh_is_method(x, "GET"))
        return kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strcmp(url, "/healthz") == 0)
        return kwh_ok(200, json_pack("{s:s, s:i}", "status", "ok", "schema",
                                     kw_store_schema_version(x->wk->st)));
    if (strcmp(url, "/api/v1/openapi.json") == 0) {
        json_t *doc = json_loads((const char *)kw_openapi, 0, NULL);
        return doc ? kwh_ok(200, doc)
                   : kwh_problem_of(KW_STORE, "", "the API description is damaged");
    }
    if (strcmp(url, "/api/v1/auth/login") == 0)
        return kwh_is_method(x, "POST")
                   ? kwh_login(x)
                   : kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strcmp(url, "/api/v1/auth/logout") == 0)
        return kwh_is_method(x, "POST")
                   ? kwh_logout(x)
                   : kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strcmp(url, "/api/v1/me") == 0)
        return kwh_is_method(x, "GET")
                   ? kwh_me(x)
                   : kwh_problem_of(KW_METHOD, "", "this method is not allowed here");
    if (strncmp(url, "/api/v1/tokens", 14) == 0 && (url[14] == '\0' || url[14] == '/'))
        return kwh_tokens_route(x, url + 14);
    if (strncmp(url, "/api/v1/tickets", 15) == 0 && (url[15] == '\0' || url[15] == '/'))
        return kwh_tickets_route(x, url + 15);
    bool matched = false;
    out = kwh_admin_route(x, url, &matched);
    if (!matched)
        out = kwh_notify_route(x, url, &matched);
    if (!matched)
        out = kwh_oncall_route(x, url, &matched);
    if (!matched)
        out = kwh_overruns_route(x, url, &matched);
    if (matched)
        return out;
    return kwh_problem_of(KW_NOT_FOUND, "", "no such resource");
}
