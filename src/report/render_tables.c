// SPDX-License-Identifier: MIT
/* render_tables.c - the report's tables (render_internal.h), its words in
 * zh and en, and the entry point that picks a format. */
#include "render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "render_internal.h"

static const char *const words[W_COUNT_][2] = {
    [W_WEEKLY] = {"Weekly service report", "服务周报"},
    [W_MONTHLY] = {"Monthly service report", "服务月报"},
    [W_PERIOD] = {"Period", "周期"},
    [W_PREVIOUS] = {"compared with", "对比"},
    [W_TZ] = {"time zone", "时区"},
    [W_ORG_ALL] = {"all organisations", "全部组织"},
    [W_ORG] = {"Organisation", "组织"},
    [W_AS_OF] = {"figures as of", "数据截至"},
    [W_HEADLINE] = {"Headline figures", "核心指标"},
    [W_FIGURE] = {"Figure", "指标"},
    [W_THIS] = {"This period", "本期"},
    [W_PREV] = {"Previous period", "上期"},
    [W_CHANGE] = {"Change", "变化"},
    [W_ON_TIME] = {"On-time rate (%)", "准时率 (%)"},
    [W_MTTA] = {"MTTA, mean response (h)", "平均响应时间 MTTA (小时)"},
    [W_MTTR] = {"MTTR, mean resolution (h)", "平均解决时间 MTTR (小时)"},
    [W_BREACHES] = {"Breaches", "超时次数"},
    [W_CREATED] = {"Tickets created", "新建工单"},
    [W_RESOLVED] = {"Tickets resolved", "已解决工单"},
    [W_REOPENED] = {"Tickets reopened", "重开工单"},
    [W_BACKLOG] = {"Backlog at the end", "期末积压工单"},
    [W_CSAT] = {"CSAT mean (1-5)", "满意度均分 (1-5)"},
    [W_SATISFIED] = {"Satisfied, 4-5 (%)", "满意占比 4-5 (%)"},
    [W_NPS] = {"NPS", "净推荐值 NPS"},
    [W_TREND] = {"On-time trend", "准时率趋势"},
    [W_BUCKET] = {"Bucket", "区间"},
    [W_MET] = {"Met", "按时"},
    [W_LATE] = {"Late", "超时"},
    [W_COMMITMENT] = {"Against the commitment, by level and metric", "承诺达成（按级别与指标）"},
    [W_LEVEL] = {"Level", "级别"},
    [W_METRIC] = {"Metric", "指标"},
    [W_TARGET_H] = {"Target (h)", "目标 (小时)"},
    [W_MET_LATE] = {"Met late", "超时完成"},
    [W_BREACHED_OPEN] = {"Breached, open", "超时未完成"},
    [W_MEAN_ELAPSED_H] = {"Mean elapsed (h)", "平均用时 (小时)"},
    [W_MEAN_SRI] = {"Mean SRI (%)", "平均服务响应指数 (%)"},
    [W_BREACH_LIST] = {"Breaches and reasons", "超时明细与原因"},
    [W_TICKET] = {"Ticket", "工单"},
    [W_STATUS] = {"Status", "状态"},
    [W_OVER_WALL_H] = {"Over, wall (h)", "超出自然时间 (小时)"},
    [W_OVER_WORKING_H] = {"Over, working (h)", "超出工作时间 (小时)"},
    [W_REASON] = {"Reason", "原因"},
    [W_NOT_EXPLAINED] = {"not explained", "未说明"},
    [W_MORE] = {"more, shorter", "其余较短"},
    [W_TOP_CATEGORIES] = {"TOP5 categories by breaches", "TOP5 超时类别"},
    [W_TOP_REASONS] = {"TOP5 overrun reasons", "TOP5 超时原因"},
    [W_TOP_ORGS] = {"TOP5 organisations by breaches", "TOP5 超时组织"},
    [W_TOP_LONGEST] = {"TOP5 longest overruns", "TOP5 超时最久"},
    [W_TOP_REOPENED] = {"TOP5 most reopened tickets", "TOP5 重开最多工单"},
    [W_RANK] = {"#", "#"},
    [W_NAME] = {"Name", "名称"},
    [W_COUNT] = {"Breaches", "超时次数"},
    [W_OVER_H] = {"Over, wall (h)", "超出 (小时)"},
    [W_TIMES_REOPENED] = {"Reopened", "重开次数"},
    [W_SATISFACTION] = {"Satisfaction", "满意度"},
    [W_RATINGS] = {"Ratings", "评价数"},
    [W_CSAT_MEAN] = {"CSAT mean", "满意度均分"},
    [W_NPS_RATINGS] = {"NPS ratings", "NPS 评分数"},
    [W_AGING] = {"Backlog and aging", "积压与账龄"},
    [W_AGE] = {"Age", "账龄"},
    [W_TICKETS] = {"Tickets", "工单数"},
    [W_UNDER_1D] = {"< 1 d", "< 1 天"},
    [W_1D_3D] = {"1-3 d", "1-3 天"},
    [W_3D_7D] = {"3-7 d", "3-7 天"},
    [W_OVER_7D] = {"> 7 d", "> 7 天"},
    [W_TOTAL] = {"Total", "合计"},
    [W_TEAMS] = {"Teams", "团队"},
    [W_TEAM] = {"Team", "团队"},
    [W_AGENTS] = {"Agents", "坐席"},
    [W_AGENT] = {"Agent", "坐席"},
    [W_MTTA_H] = {"MTTA (h)", "MTTA (小时)"},
    [W_MTTR_H] = {"MTTR (h)", "MTTR (小时)"},
    [W_OPEN] = {"Open", "未结"},
    [W_RADAR] = {"Service quality radar", "服务质量雷达"},
    [W_TIMELINESS] = {"Timeliness", "时效性"},
    [W_RESPONSIVENESS] = {"Responsiveness", "响应速度"},
    [W_RESOLUTION] = {"Resolution rate", "解决率"},
    [W_PROFESSIONALISM] = {"Professionalism", "专业性"},
    [W_FRIENDLINESS] = {"Friendliness", "友好度"},
    [W_WORKLOAD] = {"Workload", "工作量"},
    [W_HANDLED] = {"Handled", "处理量"},
    [W_CATEGORY] = {"Category", "类别"},
    [W_NONE] = {"(none)", "（无）"},
};
_Static_assert(sizeof(words) / sizeof(words[0]) == W_COUNT_, "a word for every enum word");

const char *kw_word(enum word w, bool zh)
{
    return words[w][zh ? 1 : 0];
}

/* ---- cells ---- */

static struct cell num(enum cell_kind k, double v)
{
    return isnan(v) ? (struct cell){.k = CK_NULL} : (struct cell){.k = k, .v = v};
}

static struct cell text(const char *s)
{
    struct cell c = {.k = CK_TEXT};
    snprintf(c.s, sizeof(c.s), "%s", s ? s : "");
    return c;
}

void cell_format(const struct cell *c, char *buf, size_t cap)
{
    switch (c->k) {
    case CK_NULL:
        snprintf(buf, cap, "—");
        break;
    case CK_TEXT:
    case CK_RTEXT:
        snprintf(buf, cap, "%s", c->s);
        break;
    case CK_INT:
        snprintf(buf, cap, "%.0f", c->v);
        break;
    case CK_PCT:
        snprintf(buf, cap, "%.1f", kw_kpi_round1(c->v)); /* the header says (%) */
        break;
    case CK_HOURS:
        snprintf(buf, cap, "%.1f", kw_kpi_round1(c->v / 3600.0));
        break;
    case CK_DEC:
        snprintf(buf, cap, "%.2f", c->v);
        break;
    case CK_ONE:
        snprintf(buf, cap, "%.1f", kw_kpi_round1(c->v));
        break;
    case CK_DELTA:
        snprintf(buf, cap, "%+.1f", kw_kpi_round1(c->v));
        break;
    case CK_DINT:
        snprintf(buf, cap, "%+.0f", c->v);
        break;
    }
}

/* ---- tables ---- */

static struct table *table(struct tables *t, enum word title, bool zh, size_t ncols,
                           const enum word *cols)
{
    struct table *tb = &t->t[t->n++];
    *tb = (struct table){.title = kw_word(title, zh), .ncols = ncols};
    for (size_t i = 0; i < ncols; i++)
        tb->cols[i] = kw_word(cols[i], zh);
    return tb;
}

static struct cell *row(struct tables *t, struct table *tb)
{
    if (tb->nrows == tb->cap) {
        size_t cap = tb->cap ? 2 * tb->cap : 16;
        void *v = realloc(tb->rows, cap * sizeof(*tb->rows));
        if (!v) {
            t->nomem = true;
            return NULL;
        }
        tb->rows = v;
        tb->cap = cap;
    }
    struct cell *r = tb->rows[tb->nrows++];
    memset(r, 0, MAX_COLS * sizeof(*r));
    return r;
}

static const char *or_none(const char *s, bool zh)
{
    return s ? s : kw_word(W_NONE, zh);
}

void tables_build(const struct kw_report_doc *d, bool zh, struct tables *t)
{
    *t = (struct tables){0};
    const struct kw_report *r = &d->rep;
    snprintf(t->title, sizeof(t->title), "%s %s",
             kw_word(d->p.kind == KW_REPORT_WEEKLY ? W_WEEKLY : W_MONTHLY, zh), d->p.label);
    char asof[40];
    kw_instant_format_utc(d->end, asof);
    snprintf(t->subtitle, sizeof(t->subtitle), "%s %s: %s – %s (%s %s) · %s %s · %s: %s · %s %s",
             kw_word(W_PERIOD, zh), d->p.label, d->p.first_day, d->p.last_day, kw_word(W_TZ, zh),
             d->p.tz, kw_word(W_PREVIOUS, zh), d->p.prev_label, kw_word(W_ORG, zh),
             d->org_name ? d->org_name : kw_word(W_ORG_ALL, zh), kw_word(W_AS_OF, zh), asof);

    /* headline */
    static const enum word hcols[] = {W_FIGURE, W_THIS, W_PREV, W_CHANGE};
    static const struct {
        enum word w;
        enum cell_kind k;
    } heads[KW_RH_COUNT] = {
        [KW_RH_ON_TIME] = {W_ON_TIME, CK_PCT},   [KW_RH_MTTA] = {W_MTTA, CK_HOURS},
        [KW_RH_MTTR] = {W_MTTR, CK_HOURS},       [KW_RH_BREACHES] = {W_BREACHES, CK_INT},
        [KW_RH_CREATED] = {W_CREATED, CK_INT},   [KW_RH_RESOLVED] = {W_RESOLVED, CK_INT},
        [KW_RH_REOPENED] = {W_REOPENED, CK_INT}, [KW_RH_BACKLOG] = {W_BACKLOG, CK_INT},
        [KW_RH_CSAT] = {W_CSAT, CK_DEC},         [KW_RH_SATISFIED] = {W_SATISFIED, CK_PCT},
        [KW_RH_NPS] = {W_NPS, CK_ONE},
    };
    struct table *tb = table(t, W_HEADLINE, zh, 4, hcols);
    for (size_t k = 0; k < KW_RH_COUNT; k++) {
        struct cell *c = row(t, tb);
        if (!c)
            return;
        c[0] = text(kw_word(heads[k].w, zh));
        c[1] = num(heads[k].k, r->head[k]);
        c[2] = num(heads[k].k, r->prev[k]);
        double delta = r->delta[k];
        if (heads[k].k == CK_HOURS && !isnan(delta))
            delta = round(delta / 360.0) / 10.0; /* shown in hours */
        c[3] = num(heads[k].k == CK_INT ? CK_DINT : CK_DELTA, delta);
    }

    /* trend */
    static const enum word trcols[] = {W_BUCKET, W_MET, W_LATE, W_ON_TIME};
    tb = table(t, W_TREND, zh, 4, trcols);
    for (size_t b = 0; b < r->ntrend; b++) {
        struct cell *c = row(t, tb);
        if (!c)
            return;
        c[0] = text(d->p.blabel[b]);
        c[1] = num(CK_INT, (double)r->trend[b].met);
        c[2] = num(CK_INT, (double)r->trend[b].late);
        c[3] = num(CK_PCT, r->trend[b].on_time);
    }

    /* against the commitment */
    static const enum word lcols[] = {W_LEVEL,   W_METRIC,         W_TARGET_H,
                                      W_MET,     W_MET_LATE,       W_BREACHED_OPEN,
                                      W_ON_TIME, W_MEAN_ELAPSED_H, W_MEAN_SRI};
    tb = table(t, W_COMMITMENT, zh, 9, lcols);
    for (size_t i = 0; i < r->nlevels; i++) {
        const struct kw_report_row *l = &r->levels[i];
        struct cell *c = row(t, tb);
        if (!c)
            return;
        c[0] = text(or_none(l->key, zh));
        c[1] = text(or_none(l->key2, zh));
        c[2] = num(CK_HOURS, l->target_median);
        c[3] = num(CK_INT, (double)l->m.met);
        c[4] = num(CK_INT, (double)l->m.met_late);
        c[5] = num(CK_INT, (double)l->m.breached_open);
        c[6] = num(CK_PCT, l->m.on_time_rate >= 0 ? l->m.on_time_rate : NAN);
        c[7] = num(CK_HOURS, l->m.elapsed.n ? l->m.elapsed.mean : NAN);
        c[8] = num(CK_PCT, l->m.sri.n ? l->m.sri.mean : NAN);
    }

    /* breaches */
    static const enum word bcols[] = {W_TICKET, W_METRIC,      W_LEVEL,          W_ORG,
                                      W_STATUS, W_OVER_WALL_H, W_OVER_WORKING_H, W_REASON};
    tb = table(t, W_BREACH_LIST, zh, 8, bcols);
    for (size_t i = 0; i < r->nbreaches && i < MAX_BREACH_ROWS; i++) {
        const struct kw_report_breach *b = &r->breaches[i];
        struct cell *c = row(t, tb);
        if (!c)
            return;
        c[0] = text(NULL);
        snprintf(c[0].s, sizeof(c[0].s), "#%lld", (long long)b->run->ticket_id);
        c[1] = text(b->run->metric);
        c[2] = text(or_none(b->run->level, zh));
        c[3] = text(or_none(b->run->org, zh));
        c[4] = text(kw_word(b->cls == KW_KPI_MET_LATE ? W_MET_LATE : W_BREACHED_OPEN, zh));
        c[5] = num(CK_HOURS, (double)b->over_wall);
        c[6] = num(CK_HOURS, (double)b->over_working);
        c[7] = text(b->run->reason ? b->run->reason : kw_word(W_NOT_EXPLAINED, zh));
    }
    if (r->nbreaches > MAX_BREACH_ROWS) {
        struct cell *c = row(t, tb);
        if (!c)
            return;
        snprintf(c[0].s, sizeof(c[0].s), "+%zu", r->nbreaches - MAX_BREACH_ROWS);
        c[0].k = CK_TEXT;
        c[1] = text(kw_word(W_MORE, zh));
    }

    /* TOP5 */
    static const enum word ttitle[KW_RT_COUNT] = {W_TOP_CATEGORIES, W_TOP_REASONS, W_TOP_ORGS,
                                                  W_TOP_LONGEST, W_TOP_REOPENED};
    for (size_t k = 0; k < KW_RT_COUNT; k++) {
        bool by_ticket = k == KW_RT_LONGEST || k == KW_RT_REOPENED;
        enum word cols[4] = {W_RANK, by_ticket ? W_TICKET : W_NAME,
                             k == KW_RT_LONGEST    ? W_OVER_H
                             : k == KW_RT_REOPENED ? W_TIMES_REOPENED
                                                   : W_COUNT,
                             k == KW_RT_LONGEST ? W_METRIC : W_CATEGORY};
        size_t ncols = (k == KW_RT_LONGEST || k == KW_RT_REOPENED) ? 4 : 3;
        tb = table(t, ttitle[k], zh, ncols, cols);
        for (size_t i = 0; i < r->ntop[k]; i++) {
            const struct kw_report_top *e = &r->top[k][i];
            struct cell *c = row(t, tb);
            if (!c)
                return;
            c[0] = num(CK_INT, (double)(i + 1));
            if (by_ticket) {
                c[1] = text(NULL);
                snprintf(c[1].s, sizeof(c[1].s), "#%lld", (long long)e->ticket_id);
                c[3] = text(or_none(e->name, zh));
            } else {
                c[1] = text(e->name ? e->name
                                    : kw_word(k == KW_RT_REASONS ? W_NOT_EXPLAINED : W_NONE, zh));
            }
            c[2] = num(k == KW_RT_LONGEST ? CK_HOURS : CK_INT, e->value);
        }
    }

    /* satisfaction and backlog */
    static const enum word scols[] = {W_RATINGS, W_CSAT_MEAN, W_SATISFIED, W_NPS_RATINGS, W_NPS};
    tb = table(t, W_SATISFACTION, zh, 5, scols);
    struct cell *c = row(t, tb);
    if (!c)
        return;
    const struct kw_kpi_rating_figures *rf = &r->ratings;
    c[0] = num(CK_INT, (double)rf->csat_count);
    c[1] = num(CK_DEC, rf->csat_mean >= 0 ? rf->csat_mean : NAN);
    c[2] = num(CK_PCT, rf->satisfied_pct >= 0 ? rf->satisfied_pct : NAN);
    c[3] = num(CK_INT, (double)rf->nps_count);
    c[4] = num(CK_ONE, rf->nps > KW_KPI_NPS_NULL ? rf->nps : NAN);
    static const enum word acols[] = {W_AGE, W_TICKETS};
    static const enum word ages[5] = {W_UNDER_1D, W_1D_3D, W_3D_7D, W_OVER_7D, W_TOTAL};
    tb = table(t, W_AGING, zh, 2, acols);
    for (size_t i = 0; i < 5; i++) {
        if (!(c = row(t, tb)))
            return;
        c[0] = text(kw_word(ages[i], zh));
        c[1] = num(CK_INT, (double)r->backlog[i]);
    }
    if (!d->per_agent)
        return;

    /* teams, agents, radar */
    for (int who = 0; who < 2; who++) {
        enum word cols[8] = {who ? W_AGENT : W_TEAM,
                             W_ON_TIME,
                             W_MTTA_H,
                             W_MTTR_H,
                             W_RESOLVED,
                             W_REOPENED,
                             W_OPEN,
                             W_CSAT_MEAN};
        tb = table(t, who ? W_AGENTS : W_TEAMS, zh, 8, cols);
        size_t n = who ? r->nagents : r->nteams;
        for (size_t i = 0; i < n; i++) {
            const struct kw_report_row *l = who ? &r->agents[i] : &r->teams[i];
            if (!(c = row(t, tb)))
                return;
            c[0] = text(or_none(l->key, zh));
            c[1] = num(CK_PCT, l->m.on_time_rate >= 0 ? l->m.on_time_rate : NAN);
            c[2] = num(CK_HOURS, l->mtta);
            c[3] = num(CK_HOURS, l->mttr);
            c[4] = num(CK_INT, (double)l->resolved);
            c[5] = num(CK_INT, (double)l->reopened);
            c[6] = num(CK_INT, (double)l->open);
            c[7] = num(CK_DEC, l->csat);
        }
    }
    static const enum word rcols[] = {W_AGENT,      W_TIMELINESS,      W_RESPONSIVENESS,
                                      W_RESOLUTION, W_PROFESSIONALISM, W_FRIENDLINESS,
                                      W_WORKLOAD,   W_HANDLED};
    tb = table(t, W_RADAR, zh, 8, rcols);
    for (size_t i = 0; i < r->nagents; i++) {
        const struct kw_report_radar *rd = &r->radar[i];
        if (!(c = row(t, tb)))
            return;
        c[0] = text(rd->agent);
        for (size_t k = 0; k < KW_RA_COUNT; k++)
            c[1 + k] = num(CK_ONE, rd->axis[k]);
        c[7] = num(CK_INT, (double)rd->handled);
    }
}

void tables_free(struct tables *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->t[i].rows);
    t->n = 0;
}

/* ---- the entry points ---- */

static const struct {
    const char *name, *type, *ext;
} fmts[] = {
    [KW_FMT_HTML] = {"html", "text/html; charset=utf-8", "html"},
    [KW_FMT_PDF] = {"pdf", "application/pdf", "pdf"},
    [KW_FMT_CSV] = {"csv", "text/csv; charset=utf-8", "csv"},
    [KW_FMT_XLSX] = {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "xlsx"},
};

bool kw_report_fmt_parse(const char *s, enum kw_report_fmt *out)
{
    for (size_t i = 0; s && i < sizeof(fmts) / sizeof(fmts[0]); i++)
        if (strcmp(s, fmts[i].name) == 0)
            return *out = (enum kw_report_fmt)i, true;
    return false;
}

const char *kw_report_fmt_name(enum kw_report_fmt f)
{
    return fmts[f].name;
}

const char *kw_report_fmt_type(enum kw_report_fmt f)
{
    return fmts[f].type;
}

void kw_report_file_name(const struct kw_report_doc *d, enum kw_report_fmt f, bool zh, char *buf,
                         size_t cap)
{
    snprintf(buf, cap, "keepword-%s-%s-%s.%s", d->p.kind == KW_REPORT_WEEKLY ? "weekly" : "monthly",
             d->p.label, zh ? "zh" : "en", fmts[f].ext);
}

enum kw_code kw_report_render(const struct kw_report_doc *d, enum kw_report_fmt f, bool zh,
                              struct kw_buf *out, struct kw_err *err)
{
    struct tables t;
    tables_build(d, zh, &t);
    enum kw_code rc;
    if (t.nomem)
        rc = kw_err_set(err, KW_NOMEM, NULL, "out of memory for the report's tables");
    else if (f == KW_FMT_HTML)
        rc = render_html(d, &t, zh, out, err);
    else if (f == KW_FMT_CSV)
        rc = render_csv(&t, out, err);
    else if (f == KW_FMT_XLSX)
        rc = render_xlsx(d, &t, zh, out, err);
    else
        rc = render_pdf(d, &t, zh, out, err);
    tables_free(&t);
    if (rc == KW_OK && out->failed)
        rc = kw_err_set(err, KW_NOMEM, NULL, "out of memory for the report");
    return rc;
}
