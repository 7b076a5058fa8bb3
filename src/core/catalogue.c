// SPDX-License-Identifier: MIT
#include "catalogue.h"

#include <string.h>

static const struct kw_label states[KW_ST_COUNT] = {
    [KW_ST_REGISTERED] = {"已登记", "Registered"},
    [KW_ST_ANALYSING] = {"分析中", "Analysing"},
    [KW_ST_HANDLING] = {"处理中", "Handling"},
    [KW_ST_FEEDBACK] = {"已反馈待确认", "Resolution proposed"},
    [KW_ST_ARCHIVED] = {"已归档", "Archived"},
    [KW_ST_WAITING_CUSTOMER] = {"等待客户", "Waiting for customer"},
};

static const struct kw_milestone_info milestones[] = {
    {"first_response", {"首次响应", "First response"}, true},
    {"acknowledged", {"已确认受理", "Acknowledged"}, true},
    {"accepted", {"已受理", "Accepted"}, true},
    {"plan_confirmed", {"方案已确认", "Plan confirmed"}, true},
    {"on_site", {"已到场", "On site"}, true},
    {"restored", {"服务已恢复", "Service restored"}, true},
    {"resolved", {"已解决", "Resolved"}, true},
    {"customer_confirmed", {"客户已确认", "Customer confirmed"}, false},
    {"closed", {"已关闭", "Closed"}, false},
    {"callback_done", {"已回访", "Call-back done"}, true},
    {"confirmed_by_timeout", {"超时自动确认", "Confirmed by timeout"}, false},
};

static const struct kw_label events[KW_EVENT_KIND_COUNT] = {
    [KW_EVENT_CREATED] = {"创建了工单", "created the ticket"},
    [KW_EVENT_COMMENT] = {"写道", "wrote"},
    [KW_EVENT_STATE] = {"流转了工单", "moved it"},
    [KW_EVENT_MILESTONE] = {"记录了里程碑", "recorded a milestone"},
    [KW_EVENT_REOPENED] = {"重新打开了工单", "reopened it"},
    [KW_EVENT_LEVEL] = {"调整了级别", "changed the level"},
    [KW_EVENT_CATEGORY] = {"调整了类别", "changed the category"},
    [KW_EVENT_ASSIGNED] = {"分派了工单", "assigned it"},
    [KW_EVENT_RATING] = {"评价了服务", "rated the service"},
    [KW_EVENT_SLA_WARNING] = {"SLA 预警", "SLA warning"},
    [KW_EVENT_SLA_BREACH] = {"SLA 超时", "SLA breach"},
    [KW_EVENT_ESCALATED] = {"升级", "escalation"},
    [KW_EVENT_OVERRUN_EXPLAINED] = {"说明了超时原因", "explained an overrun"},
    [KW_EVENT_CONFIRM_REMINDER] = {"提醒客户确认", "reminded the customer to confirm"},
    [KW_EVENT_CONFIRM_TIMEOUT] = {"确认期限已到", "the wait for confirmation ran out"},
    [KW_EVENT_CALLBACK] = {"回访了客户", "called the customer back"},
    [KW_EVENT_TASK_OPENED] = {"创建了跟进任务", "opened a follow-up task"},
    [KW_EVENT_TASK_DONE] = {"完成了跟进任务", "finished a follow-up task"},
    [KW_EVENT_ATTACHMENT] = {"添加了附件", "attached a file"},
    [KW_EVENT_TIME_SPENT] = {"记录了工时", "recorded time spent"},
    [KW_EVENT_REGION] = {"修改了区域", "changed the region"},
    [KW_EVENT_EDITED] = {"编辑了工单", "edited the ticket"},
    [KW_EVENT_REQUESTER] = {"更换了报告人", "changed the requester"},
    [KW_EVENT_LINKED] = {"关联了工单", "linked a ticket"},
    [KW_EVENT_UNLINKED] = {"取消了关联", "removed a link"},
    [KW_EVENT_MERGED] = {"合并了工单", "merged a ticket"},
};

struct kw_label kw_state_label(enum kw_state s)
{
    return (unsigned)s < KW_ST_COUNT ? states[s] : (struct kw_label){"?", "?"};
}

bool kw_state_open(enum kw_state s)
{
    return s != KW_ST_ARCHIVED;
}

size_t kw_milestone_count(void)
{
    return sizeof(milestones) / sizeof(milestones[0]);
}

const struct kw_milestone_info *kw_milestone_info(size_t i)
{
    return i < kw_milestone_count() ? &milestones[i] : NULL;
}

struct kw_label kw_event_label(enum kw_event_kind k)
{
    return (unsigned)k < KW_EVENT_KIND_COUNT ? events[k] : (struct kw_label){"?", "?"};
}

static const struct kw_notification_info notifications[] = {
    {"sla_warning", {"SLA 预警", "SLA warning"}},
    {"sla_breach", {"SLA 超时", "SLA breach"}},
    {"escalation", {"升级", "escalation step"}},
    {"overrun_notice", {"超时说明", "overrun notice to the customer"}},
    {"confirm_reminder", {"确认提醒", "reminder to confirm a resolution"}},
    {"confirm_timeout", {"超时自动确认", "closed without the customer's confirmation"}},
    {"task_opened", {"跟进任务", "follow-up task"}},
    {"deposit_low", {"保证金不足", "service deposit below the contract's requirement"}},
    {"watch_list", {"服务黑名单", "an organisation put on the watch list"}},
    {"report_weekly", {"服务周报", "weekly service report (PDF)"}},
    {"report_monthly", {"服务月报", "monthly service report (PDF)"}},
    {"test", {"测试", "test"}},
};

size_t kw_notification_count(void)
{
    return sizeof(notifications) / sizeof(notifications[0]);
}

const struct kw_notification_info *kw_notification_info(size_t i)
{
    return i < kw_notification_count() ? &notifications[i] : NULL;
}

bool kw_notification_known(const char *id)
{
    for (size_t i = 0; id && i < kw_notification_count(); i++)
        if (strcmp(id, notifications[i].id) == 0)
            return true;
    return false;
}
