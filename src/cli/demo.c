// SPDX-License-Identifier: MIT
/* keepword serve --demo: a service desk as it looks on an ordinary day, in an
 * empty database - the seeds' L1-L4 commitment (examples/policies/acme.json,
 * built in) with escalation chains, four Chinese customer organisations and
 * two international ones, the provider's domestic desk (Chinese names) and
 * international desk (English names) with their leads and on-call rotas, and
 * tickets whose stories are told relative to now through the application
 * layer, so that the board shows clocks met, at risk, paused and breached
 * whenever the demo is made. */
#include "demo.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "civil.h"
#include "policy.h"
#include "tickets.h"

extern const unsigned char kw_demo_policy[]; /* generated from acme.json */

#define DEMO_PASSWORD "keepword-demo"

/* What happens to a ticket, by whom. */
enum act {
    END,     /* the end of a story */
    REPLY,   /* the desk answers the customer (a public comment) */
    NOTE,    /* an internal note */
    ASK,     /* the customer writes */
    MILE,    /* the desk records a milestone */
    MOVE,    /* the desk moves the ticket */
    CONFIRM, /* the customer confirms the resolution (archived) */
    REJECT,  /* the customer rejects it (back to handling) */
    RATE,    /* the customer rates the service: satisfaction in n */
};

struct step {
    int64_t after; /* seconds after the ticket was opened */
    enum act act;
    const char *what; /* the text, milestone or state */
    int n;
};

/* A step; n only for RATE. */
#define DO(after, act, what)                                                                       \
    {                                                                                              \
        (after), (act), (what), 0                                                                  \
    }

#define MIN 60
#define HOUR 3600
#define DAY 86400
#define MAX_STEPS 10

/* A ticket's story: opened `age` before now by the organisation's contact
 * with a description, then the steps in order. */
struct story {
    int org; /* index into orgs */
    const char *level, *category, *title, *description;
    int64_t age;
    struct step steps[MAX_STEPS];
};

/* The customers: the first four are domestic, the last two international. */
static const struct {
    const char *name, *tier, *region;
    int64_t value; /* contract value, cents */
    int manager;   /* index into people: the account manager */
} orgs[] = {
    {"华信银行", "strategic", "domestic", 500000000, 0},
    {"东方零售集团", "vip", "domestic", 120000000, 0},
    {"Pacific Freight Ltd.", "standard", "international", 30000000, 1},
    {"瑞丰证券", "strategic", "domestic", 260000000, 0},
    {"江南精密制造", "standard", "domestic", 18000000, 0},
    {"Northgate Pharma Ltd.", "vip", "international", 90000000, 1},
};
#define N_ORGS (sizeof(orgs) / sizeof(orgs[0]))

/* The provider's two desks, one per region of the organisations; the lead
 * is an index into people. */
static const struct {
    const char *name;
    int lead;
} desks[] = {{"国内服务台", 0}, {"International Desk", 1}};

/* The people, each with the login the demo prints. The managers come first
 * (they lead the desks); customers have an org, staff a desk or none. */
static const struct {
    const char *email, *name, *role;
    int org;  /* -1: the provider's */
    int desk; /* -1: none */
} people[] = {
    {"manager@keepword.demo", "王芳", "manager", -1, -1},
    {"emma.clarke@keepword.demo", "Emma Clarke", "manager", -1, -1},
    {"li.na@keepword.demo", "李娜", "agent", -1, 0},
    {"zhang.wei@keepword.demo", "张伟", "agent", -1, 0},
    {"tom@keepword.demo", "Tom Becker", "agent", -1, 1},
    {"priya@keepword.demo", "Priya Sharma", "agent", -1, 1},
    {"it@huaxin.demo", "赵磊", "customer", 0, -1},
    {"ops@dongfang.demo", "陈静", "customer", 1, -1},
    {"it@pacific.demo", "Sarah Mitchell", "customer", 2, -1},
    {"it@ruifeng.demo", "刘洋", "customer", 3, -1},
    {"it@jiangnan.demo", "孙丽", "customer", 4, -1},
    {"it@northgate.demo", "James Porter", "customer", 5, -1},
};
#define N_PEOPLE (sizeof(people) / sizeof(people[0]))

/* The chains added to the commitment: tell whoever is on call when a
 * response is at risk, and the desk's lead ten minutes later; tell the lead
 * at a resolution breach and, half an hour later, the customer's account
 * manager. */
static const char escalations[] =
    "[{\"id\":\"response-at-risk\",\"when\":{\"metric\":\"response\",\"percent\":75},"
    "\"steps\":[{\"after\":\"0m\",\"notify\":\"oncall:1\"},"
    "{\"after\":\"10m\",\"notify\":\"team_lead\"}]},"
    "{\"id\":\"resolution-breached\",\"when\":{\"metric\":\"resolution\",\"percent\":100},"
    "\"steps\":[{\"after\":\"0m\",\"notify\":\"team_lead\"},"
    "{\"after\":\"30m\",\"notify\":\"account_manager\"}]}]";

/* The stories. Tickets on L1 and L2 run on the 24x7 calendar, so their
 * state does not depend on the hour the demo is made: the first ones are at
 * risk or breached right now (the ninth, #9, is a breached L1); L3 and L4
 * run on office hours. The older ones are the history: met, late, rated. */
static const struct story stories[] = {
    {0,
     "L1",
     "technical",
     "网银登录间歇性报错 502",
     "从今天上午起约三成客户登录个人网银时提示 502，手机银行正常。客服热线排队已超过 40 人，"
     "请尽快处理。",
     12 * MIN,
     {{0}}},
    {3,
     "L1",
     "emergency",
     "集中交易系统行情延迟超过 30 秒",
     "多个营业部反映行情刷新延迟 30 秒以上，部分客户已投诉。委托下单暂时正常。",
     50 * MIN,
     {DO(4 * MIN, MILE, "first_response"),
      DO(4 * MIN, REPLY, "已收到，正在排查行情网关和消息队列，15 分钟内同步进展。"),
      DO(6 * MIN, MOVE, "analysing"), DO(20 * MIN, MOVE, "handling"),
      DO(22 * MIN, NOTE, "行情网关 2 号节点 CPU 100%，已切流量到 1 号节点，观察中。")}},
    {1,
     "L2",
     "technical",
     "三家门店 POS 机无法刷卡",
     "徐汇、静安、浦东三家门店的 POS 机从中午开始无法刷银行卡，只能收现金和扫码。",
     3 * HOUR + 25 * MIN,
     {DO(12 * MIN, MILE, "first_response"),
      DO(12 * MIN, REPLY, "您好，已安排工程师远程排查门店网络和收单通道。"),
      DO(20 * MIN, MOVE, "handling"),
      DO(2 * HOUR, NOTE, "收单机构确认证书更新后部分终端未同步，正在逐台推送。")}},
    {2,
     "L2",
     "technical",
     "Tracking API times out for EU shipments",
     "Since this morning about half of the calls to /v2/tracking for EU consignments time out "
     "after 30 s. Our customer portal shows no tracking data.",
     5 * HOUR,
     {DO(20 * MIN, MILE, "first_response"),
      DO(20 * MIN, REPLY,
         "Thanks, Sarah. We can reproduce the timeouts and are checking the EU "
         "carrier gateway."),
      DO(40 * MIN, MOVE, "handling"),
      DO(3 * HOUR, NOTE,
         "Carrier gateway rate-limits us since their upgrade; ticket raised with "
         "the carrier.")}},
    {4,
     "L2",
     "technical",
     "MES 与 ERP 工单同步中断",
     "车间 MES 的生产工单从早上八点后没有同步到 ERP，二号线已经停线等待领料单。",
     1 * HOUR,
     {DO(10 * MIN, MILE, "first_response"),
      DO(10 * MIN, REPLY, "收到，正在检查接口服务和中间库，请先不要手工补录。"),
      DO(30 * MIN, MOVE, "analysing")}},
    {0,
     "L3",
     "consultation",
     "为 12 名新员工开通 VPN 账号",
     "下周一有 12 名新员工入职，需要开通 VPN 账号并加入“信贷部”用户组。",
     1 * DAY,
     {DO(20 * MIN, MILE, "first_response"), DO(1 * HOUR, MOVE, "handling"),
      DO(3 * HOUR, REPLY, "请提供新员工的工号和手机号清单，我们收到后当天开通。"),
      DO(3 * HOUR, MOVE, "waiting_customer")}},
    {5,
     "L2",
     "technical",
     "Lab instrument results not reaching LIMS",
     "The HPLC results from building C have not arrived in LIMS since last night's maintenance "
     "window. QA cannot release two batches.",
     40 * MIN,
     {{0}}},
    {1,
     "L4",
     "consultation",
     "如何导出上月会员积分明细？",
     "财务需要上个月全部会员的积分发放和核销明细，后台找不到导出入口。",
     2 * DAY,
     {DO(3 * MIN, MILE, "first_response"),
      DO(3 * MIN, REPLY, "在“会员中心 → 积分流水”右上角选择月份后点击“导出”，已附操作截图。"),
      DO(4 * MIN, MOVE, "handling"), DO(10 * MIN, MOVE, "feedback")}},
    {3,
     "L1",
     "technical",
     "开盘前清算批处理失败",
     "今天 07:30 的清算批处理报错退出，日志显示数据库连接超时。距开盘不足两小时。",
     3 * HOUR,
     {DO(8 * MIN, MILE, "first_response"),
      DO(8 * MIN, REPLY, "已收到，DBA 正在检查数据库连接池，同时准备手工重跑方案。"),
      DO(10 * MIN, MOVE, "handling"),
      DO(1 * HOUR + 30 * MIN, NOTE, "存储链路抖动导致连接超时，已申请厂商现场支持。")}},
    {2,
     "L3",
     "contract",
     "Add two warehouse sites to the support contract",
     "We open warehouses in Rotterdam and Gdansk next month. Please add both sites to our "
     "support contract and tell us what you need from us.",
     3 * DAY,
     {DO(40 * MIN, MILE, "first_response"),
      DO(40 * MIN, REPLY, "Happy to. Our account team will send the amended schedule this week."),
      DO(2 * HOUR, MOVE, "analysing")}},
    {4,
     "L3",
     "technical",
     "车间打印机无法打印条码标签",
     "装配车间的两台斑马打印机打印标签时条码缺失一半，更换色带后仍然如此。",
     4 * HOUR,
     {DO(15 * MIN, MILE, "first_response"),
      DO(15 * MIN, REPLY, "请确认打印机固件版本，我们下午安排工程师到现场。"),
      DO(30 * MIN, MOVE, "handling")}},
    {0,
     "L2",
     "emergency",
     "安全告警：管理员账号异地登录",
     "态势感知平台告警：核心网络设备管理员账号凌晨在境外 IP 登录成功，请立即核查。",
     20 * MIN,
     {DO(5 * MIN, MILE, "first_response"),
      DO(5 * MIN, REPLY, "已冻结该账号并启动应急响应流程，正在调取设备日志。"),
      DO(6 * MIN, MOVE, "analysing")}},
    {5,
     "L4",
     "consultation",
     "How do auditors get read-only access?",
     "Our external auditors start on Monday. What is the process to give them read-only access "
     "to the quality system?",
     30 * MIN,
     {{0}}},
    {1,
     "L3",
     "technical",
     "小程序下单页面加载缓慢",
     "会员小程序下单页面晚高峰加载要 8 秒以上，顾客投诉较多。",
     6 * HOUR,
     {DO(30 * MIN, MILE, "first_response"), DO(1 * HOUR, MOVE, "handling"),
      DO(2 * HOUR, REPLY, "请提供出现问题的门店、时间段和手机型号，便于我们复现。"),
      DO(2 * HOUR, MOVE, "waiting_customer"),
      /* the customer's answer moves it back to handling by itself */
      DO(4 * HOUR, ASK, "主要是南京西路店和五角场店，18:00-20:00，苹果和华为手机都有。")}},
    /* the history: resolved, confirmed, rated, called back */
    {0,
     "L1",
     "emergency",
     "信用卡授权交易超时",
     "信用卡授权交易从 14:05 开始大量超时，商户侧报错“发卡行无应答”。",
     3 * DAY,
     {DO(5 * MIN, MILE, "first_response"),
      DO(5 * MIN, REPLY, "已启动应急预案，正在切换授权前置机。"),
      DO(8 * MIN, MOVE, "handling"),
      DO(45 * MIN, MILE, "restored"),
      DO(46 * MIN, MOVE, "feedback"),
      DO(3 * HOUR, CONFIRM, NULL),
      {3 * HOUR, RATE, NULL, 5},
      DO(20 * HOUR, MILE, "callback_done")}},
    {2,
     "L2",
     "technical",
     "Customs declaration portal unreachable",
     "The customs declaration portal returns a certificate error for all our brokers.",
     4 * DAY,
     {DO(10 * MIN, MILE, "first_response"),
      DO(10 * MIN, REPLY, "The portal certificate expired overnight; we are renewing it now."),
      DO(20 * MIN, MOVE, "handling"),
      DO(2 * HOUR + 30 * MIN, MOVE, "feedback"),
      DO(5 * HOUR, CONFIRM, NULL),
      {5 * HOUR, RATE, NULL, 4},
      DO(20 * HOUR, MILE, "callback_done")}},
    {3,
     "L3",
     "contract",
     "新增两个营业部的网络接入",
     "杭州和宁波两个新营业部下月开业，需要接入总部网络。",
     6 * DAY,
     {DO(25 * MIN, MILE, "first_response"),
      DO(1 * HOUR, MOVE, "analysing"),
      DO(3 * HOUR, MOVE, "handling"),
      DO(1 * DAY, MOVE, "feedback"),
      DO(2 * DAY, CONFIRM, NULL),
      {2 * DAY, RATE, NULL, 5},
      DO(2 * DAY + 2 * HOUR, MILE, "callback_done")}},
    {4,
     "L2",
     "technical",
     "OA 系统无法向外部发送邮件",
     "OA 邮件发往客户和供应商时全部退信，内部邮件正常。",
     2 * DAY,
     {DO(40 * MIN, MILE, "first_response"),
      DO(40 * MIN, REPLY, "抱歉回复晚了。初步判断是出口 IP 被列入黑名单，正在申请解封。"),
      DO(1 * HOUR, MOVE, "handling"),
      DO(3 * HOUR, MOVE, "feedback"),
      DO(1 * DAY, CONFIRM, NULL),
      {1 * DAY, RATE, NULL, 3}}},
    {1,
     "L2",
     "technical",
     "会员积分未到账",
     "昨天的促销活动中约两千名会员消费后积分没有到账。",
     5 * DAY,
     {DO(15 * MIN, MILE, "first_response"),
      DO(30 * MIN, MOVE, "handling"),
      DO(6 * HOUR, MOVE, "feedback"),
      DO(8 * HOUR, CONFIRM, NULL),
      {8 * HOUR, RATE, NULL, 2}}},
    {5,
     "L3",
     "technical",
     "Password reset e-mails land in spam",
     "Several users report that password reset e-mails from the quality system end up in "
     "their spam folder.",
     8 * DAY,
     {DO(35 * MIN, MILE, "first_response"),
      DO(2 * HOUR, MOVE, "handling"),
      DO(6 * HOUR, MOVE, "feedback"),
      DO(1 * DAY, CONFIRM, NULL),
      {1 * DAY, RATE, NULL, 4},
      DO(2 * DAY, MILE, "callback_done")}},
    {0,
     "L4",
     "consultation",
     "对账单模板字段含义咨询",
     "新版对公对账单中“轧差金额”字段的计算口径是什么？",
     9 * DAY,
     {DO(3 * MIN, MILE, "first_response"),
      DO(3 * MIN, REPLY, "轧差金额为当日借方合计减贷方合计，详见附件说明。"),
      DO(3 * MIN, MOVE, "analysing"),
      DO(4 * MIN, MOVE, "feedback"),
      DO(1 * HOUR, CONFIRM, NULL),
      {1 * HOUR, RATE, NULL, 5},
      DO(1 * DAY, MILE, "callback_done")}},
    {2,
     "L1",
     "technical",
     "Warehouse scanners cannot connect to Wi-Fi",
     "All handheld scanners in the Felixstowe warehouse lost Wi-Fi after this morning's "
     "controller update. Picking has stopped.",
     10 * DAY,
     {DO(6 * MIN, MILE, "first_response"),
      DO(10 * MIN, MOVE, "handling"),
      DO(40 * MIN, MOVE, "feedback"),
      DO(55 * MIN, REJECT, "Half of the scanners still drop the connection."),
      DO(1 * HOUR + 40 * MIN, MOVE, "feedback"),
      DO(3 * HOUR, CONFIRM, NULL),
      {3 * HOUR, RATE, NULL, 3},
      DO(1 * DAY, MILE, "callback_done")}},
};

/* Who acts in the demo, by the application layer's rules like anyone. */
struct cast {
    struct kw_unit u;
    int64_t org[N_ORGS], person[N_PEOPLE], desk[2];
};

/* The person who is an org's contact, or the index-th agent of a desk. */
static size_t contact_of(int org)
{
    for (size_t i = 0; i < N_PEOPLE; i++)
        if (people[i].org == org)
            return i;
    return 0;
}

static size_t agent_of(int desk, size_t index)
{
    size_t seen = 0, last = 0;
    for (size_t i = 0; i < N_PEOPLE; i++)
        if (people[i].desk == desk && strcmp(people[i].role, "agent") == 0 && (last = i, 1) &&
            seen++ == index)
            return i;
    return last;
}

/* One step of a story at `at`: the desk's by agent, the customer's by
 * customer. */
static enum kw_code act(struct cast *c, const struct kw_actor *agent,
                        const struct kw_actor *customer, int64_t tid, const struct step *e,
                        int64_t at, struct kw_err *err)
{
    struct kw_move m;
    enum kw_state to;
    c->u.now = at;
    switch (e->act) {
    case REPLY:
    case NOTE:
        return kw_ticket_comment(&c->u, agent, tid, e->what, e->act == NOTE, err);
    case ASK:
        return kw_ticket_comment(&c->u, customer, tid, e->what, false, err);
    case MILE:
        return kw_ticket_milestone(&c->u, agent, tid, e->what, err);
    case MOVE:
        if (!kw_state_parse(e->what, strlen(e->what), &to))
            return kw_err_set(err, KW_INVALID, "", "demo: no state %s", e->what);
        return kw_ticket_move(&c->u, agent, tid, to, NULL, &m, err);
    case CONFIRM:
        return kw_ticket_move(&c->u, customer, tid, KW_ST_ARCHIVED, NULL, &m, err);
    case REJECT:
        return kw_ticket_move(&c->u, customer, tid, KW_ST_HANDLING, e->what, &m, err);
    case RATE:
        return kw_ticket_rate(&c->u, customer, tid, e->n, e->n >= 4 ? 9 : 6, NULL, err);
    default:
        return KW_OK;
    }
}

/* Open story i's ticket at t0 (by the organisation's contact, with its
 * description), assign it to its region's desk and an agent of it once
 * work starts, and play its steps. */
static enum kw_code tell(struct cast *c, size_t i, int64_t t0, int64_t now, struct kw_err *err)
{
    const struct story *s = &stories[i];
    int64_t tid;
    bool existed;
    int desk = strcmp(orgs[s->org].region, "international") == 0;
    size_t turn = 0; /* the desk's agents take its tickets in turn */
    for (size_t k = 0; k < i; k++)
        turn += strcmp(orgs[stories[k].org].region, orgs[s->org].region) == 0;
    size_t who = agent_of(desk, turn % 2);
    struct kw_actor customer = {
        .id = c->person[contact_of(s->org)], .org_id = c->org[s->org], .role = KW_ROLE_CUSTOMER};
    struct kw_actor agent = {.id = c->person[who], .team_id = c->desk[desk], .role = KW_ROLE_AGENT};
    struct kw_ticket_in t = {.org_id = c->org[s->org],
                             .title = s->title,
                             .level = s->level,
                             .category = s->category,
                             .channel = "web"};
    c->u.now = t0;
    enum kw_code rc = kw_ticket_create(&c->u, &customer, &t, &tid, &existed, err);
    if (rc == KW_OK)
        rc = kw_ticket_comment(&c->u, &customer, tid, s->description, false, err);
    /* routed to the region's desk at once; an agent takes it when work starts */
    struct kw_ticket_change a = {.team_id = agent.team_id};
    if (rc == KW_OK)
        rc = kw_ticket_change(&c->u, &agent, tid, &a, err);
    if (rc == KW_OK && s->steps[0].act != END) {
        a = (struct kw_ticket_change){.assignee_id = agent.id};
        c->u.now = t0 + s->steps[0].after / 2;
        rc = kw_ticket_change(&c->u, &agent, tid, &a, err);
    }
    for (size_t k = 0; rc == KW_OK && k < MAX_STEPS && s->steps[k].act != END; k++)
        rc = act(c, &agent, &customer, tid, &s->steps[k], t0 + s->steps[k].after, err);
    /* the clocks as of now, as a server starting on this database shows them */
    return rc == KW_OK ? kw_clocks_project(c->u.clocks, c->u.st, c->u.sla, tid, now, NULL, err)
                       : rc;
}

/* The commitment document with the demo's escalation chains (caller frees). */
static char *commitment_doc(struct kw_err *err)
{
    json_t *root = json_loads((const char *)kw_demo_policy, 0, NULL);
    json_t *chains = json_loads(escalations, 0, NULL);
    char *text = NULL;
    if (root && chains && json_object_set(root, "escalations", chains) == 0)
        text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(chains);
    json_decref(root);
    if (!text)
        kw_err_set(err, KW_NOMEM, "", "demo: no memory for the commitment");
    return text;
}

/* hash: the demo password's argon2id string, made once for all (one
 * hashing takes tens of milliseconds and 64 MiB; every demo login has the
 * same published password anyway). */
static enum kw_code people_add(struct kw_store *st, struct cast *c, const char *hash, int64_t now,
                               struct kw_err *err)
{
    enum kw_code rc = KW_OK;
    /* the managers lead the desks and look after the customers, so they
     * come first, then the desks, the organisations, and everyone else */
    for (size_t i = 0; rc == KW_OK && i < N_PEOPLE; i++) {
        if (i == 2) {
            for (size_t d = 0; rc == KW_OK && d < 2; d++)
                rc = kw_store_team_insert(st, desks[d].name, c->person[desks[d].lead], now,
                                          &c->desk[d], err);
            for (size_t o = 0; rc == KW_OK && o < N_ORGS; o++) {
                struct kw_org org = {.name = orgs[o].name,
                                     .tier = orgs[o].tier,
                                     .region = orgs[o].region,
                                     .contract_value_cents = orgs[o].value,
                                     .account_manager_id = c->person[orgs[o].manager]};
                rc = kw_store_org_insert(st, &org, now, &c->org[o], err);
            }
        }
        struct kw_user u = {.email = people[i].email,
                            .name = people[i].name,
                            .role = people[i].role,
                            .org_id = people[i].org >= 0 ? c->org[people[i].org] : 0,
                            .team_id = people[i].desk >= 0 ? c->desk[people[i].desk] : 0};
        if (rc == KW_OK && (rc = kw_auth_user_check(&u, DEMO_PASSWORD, err)) == KW_OK)
            rc = kw_store_user_insert(st, &u, hash, now, &c->person[i], err);
    }
    return rc;
}

/* A contract for each customer, in force from the start of the month 180
 * days ago for a year, billed monthly (a twelfth of the organisation's
 * annual value), a deposit of 10 % required and a month's value held, so
 * the late stories accrue credits (docs/policy.md "Contracts"). */
static enum kw_code contracts_add(struct kw_store *st, const struct cast *c, int64_t commitment,
                                  int64_t now, struct kw_err *err)
{
    int64_t y;
    unsigned m, d;
    kw_civil_from_days(kw_day_of(now - 180 * 86400), &y, &m, &d);
    int64_t start = kw_days_from_civil(y, m, 1) * 86400;
    int64_t end = kw_days_from_civil(y + 1, m, 1) * 86400;
    enum kw_code rc = KW_OK;
    for (size_t o = 0; rc == KW_OK && o < N_ORGS; o++) {
        struct kw_contract k = {.org_id = c->org[o],
                                .commitment_id = commitment,
                                .value = orgs[o].value / 12,
                                .currency = orgs[o].region[0] == 'd' ? "CNY" : "USD",
                                .billing = "monthly",
                                .period_start = start,
                                .period_end = end,
                                .deposit_percent = 10,
                                .deposit_amount = -1,
                                .deposit_held = orgs[o].value / 12,
                                .dual_above = 1000000};
        int64_t id;
        rc = kw_store_contract_insert(st, &k, now, &id, err);
    }
    return rc;
}

/* A rota for each desk: its two agents take turns by day at 09:00, the
 * desk's lead covers weekend nights. */
static enum kw_code rotas_add(struct kw_store *st, const struct cast *c, int64_t now,
                              struct kw_err *err)
{
    static const char *const names[] = {"国内服务台 一线值班", "International Desk first line"};
    static const char *const tz[] = {"Asia/Shanghai", "Europe/London"};
    for (int d = 0; d < 2; d++) {
        char spec[640];
        int64_t rota;
        snprintf(spec, sizeof(spec),
                 "{\"name\":\"%s\",\"tz\":\"%s\",\"layers\":[{\"name\":\"days\","
                 "\"rotation\":\"daily\",\"start\":\"2026-01-05\",\"handoff\":\"09:00\","
                 "\"people\":[%lld,%lld]},{\"name\":\"weekend nights\",\"rotation\":\"weekly\","
                 "\"start\":\"2026-01-05\",\"handoff\":\"09:00\",\"people\":[%lld],"
                 "\"restrictions\":[{\"days\":[\"sat\",\"sun\"],\"from\":\"20:00\","
                 "\"to\":\"08:00\"}]}]}",
                 names[d], tz[d], (long long)c->person[agent_of(d, 0)],
                 (long long)c->person[agent_of(d, 1)], (long long)c->person[desks[d].lead]);
        enum kw_code rc = kw_store_oncall_put(st, names[d], c->desk[d], 1, spec, now, &rota, err);
        if (rc != KW_OK)
            return rc;
    }
    return KW_OK;
}

bool kw_demo_present(struct kw_store *st)
{
    int64_t id;
    char hash[KW_PASSWORD_HASH_BUF];
    bool there = kw_store_user_password(st, people[0].email, &id, hash, NULL) == KW_OK;
    kw_store_end_read(st);
    return there;
}

/* How many columns s takes on a terminal: CJK characters (U+1100 and up,
 * three UTF-8 bytes here) take two. */
static int columns(const char *s)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p & 0xC0) != 0x80)
            n += *p >= 0xE1 ? 2 : 1;
    return n;
}

void kw_demo_logins(FILE *f)
{
    fprintf(f, "keepword: demo logins (password %s):\n", DEMO_PASSWORD);
    for (size_t i = 0; i < N_PEOPLE; i++) {
        const char *where = people[i].org >= 0    ? orgs[people[i].org].name
                            : people[i].desk >= 0 ? desks[people[i].desk].name
                                                  : "";
        for (size_t d = 0; d < 2 && !*where; d++)
            if (desks[d].lead == (int)i)
                where = desks[d].name; /* a manager: the desk they lead */
        fprintf(f, "  %-27s %s%*s %-9s %s\n", people[i].email, people[i].name,
                16 - columns(people[i].name), "", people[i].role, where);
    }
}

/* The demo, inside the caller's transaction. */
static enum kw_code load(struct kw_store *st, const char *hash, int64_t now, struct kw_err *err)
{
    enum kw_code rc;
    int64_t id;
    char *chained = commitment_doc(err);
    if (!chained)
        return KW_NOMEM;
    /* The commitment's calendars become stored calendars, each with its
     * name, and the commitment names them instead of embedding copies: an
     * edit on the Calendars page then reaches the demo's tickets. */
    json_t *root = json_loads(chained, 0, NULL);
    free(chained);
    json_t *cals = json_object_get(root, "calendars"), *spec;
    const char *name;
    if (!root || !json_is_object(cals)) {
        json_decref(root);
        return kw_err_set(err, KW_INVALID, "/calendars",
                          "the built-in commitment has no calendars");
    }
    json_object_foreach(cals, name, spec)
    {
        json_object_set_new(spec, "name", json_string(name));
        char *text = json_dumps(spec, JSON_COMPACT);
        int64_t cal;
        rc = text ? kw_store_calendar_put(st, name, text, now, &cal, err)
                  : kw_err_set(err, KW_NOMEM, "", "no memory for the demo");
        free(text);
        if (rc != KW_OK)
            break;
        json_object_set_new(cals, name, json_string(name));
    }
    char *doc = rc == KW_OK ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (rc != KW_OK)
        return rc;
    struct kw_policy *p = doc ? kw_policy_parse(doc, strlen(doc), err) : NULL;
    if (!p) {
        free(doc);
        return doc ? (err ? err->code : KW_INVALID)
                   : kw_err_set(err, KW_NOMEM, "", "no memory for the demo");
    }
    rc = kw_store_commitment_insert(st, kw_policy_name(p), kw_policy_version(p),
                                    kw_policy_effective_from(p), doc, now, &id, err);
    kw_policy_free(p);
    free(doc);
    if (rc != KW_OK)
        return rc;
    struct kw_sla sla;
    kw_sla_init(&sla);
    struct cast c = {.u = {.st = st, .clocks = kw_clocks_new(err), .sla = &sla}};
    rc = c.u.clocks ? people_add(st, &c, hash, now, err) : KW_NOMEM;
    if (rc == KW_OK)
        rc = rotas_add(st, &c, now, err);
    if (rc == KW_OK)
        rc = contracts_add(st, &c, id, now, err);
    for (size_t i = 0; rc == KW_OK && i < sizeof(stories) / sizeof(stories[0]); i++)
        rc = tell(&c, i, now - stories[i].age, now, err);
    kw_clocks_free(c.u.clocks);
    kw_sla_release(&sla);
    return rc;
}

enum kw_code kw_demo_load(struct kw_store *st, int64_t now, bool *loaded, struct kw_err *err)
{
    KW_ERR_ENSURE(err);
    *loaded = false;
    /* The service manager's login is the marker: when it exists the demo is
     * there (made by this or an older build), and nothing is added. */
    if (kw_demo_present(st))
        return KW_OK;
    /* the password hashed before the transaction (slow), then all or
     * nothing: a demo that fails half-way leaves no half of it */
    char hash[KW_PASSWORD_HASH_BUF];
    const struct kw_user anyone = {.role = "agent"};
    enum kw_code rc = kw_auth_user_hash(&anyone, DEMO_PASSWORD, hash, err);
    if (rc == KW_OK)
        rc = kw_store_begin(st, err);
    if (rc != KW_OK)
        return rc;
    if ((rc = load(st, hash, now, err)) != KW_OK) {
        kw_store_rollback(st);
        return rc;
    }
    if ((rc = kw_store_commit(st, err)) == KW_OK)
        *loaded = true;
    return rc;
}
