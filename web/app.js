// SPDX-License-Identifier: MIT
// Keepword's web UI: one page, hash routes, no framework. Everything shown
// from data is put in the page as text (h() below never parses HTML), so a
// title like <img src=x onerror=alert(1)> stays a title. The session is an
// HttpOnly cookie; every request that changes something carries the CSRF
// token that login and /api/v1/me give (X-CSRF-Token).
'use strict';

// ---- strings, zh-CN and en ----

const STRINGS = {
  en: {
    skip: 'Skip to content', brand: 'Keepword', board: 'Board', portal: 'My requests',
    new_request: 'New request', admin: 'Administration', commitments: 'Commitments',
    calendars: 'Calendars', orgs: 'Organisations', people: 'Users and teams', oncall: 'On-call',
    endpoints: 'Notifications', logout: 'Log out', login: 'Log in', email: 'E-mail',
    password: 'Password', login_title: 'Sign in to Keepword', login_failed: 'Login failed',
    language: '中文', language_label: 'Switch to Chinese', loading: 'Loading…',
    live: 'live', offline: 'reconnecting', tickets_n: '{n} open tickets',
    filter_team: 'Team', filter_level: 'Level', filter_org: 'Organisation',
    filter_assignee: 'Assignee', filter_breached: 'Breached', any: 'Any', yes: 'Yes', no: 'No',
    unassigned: 'Unassigned', col_id: '#', col_title: 'Title', col_org: 'Organisation',
    col_level: 'Level', col_state: 'State', col_assignee: 'Assignee', col_clocks: 'SLA clocks',
    col_created: 'Created', col_updated: 'Updated', col_next: 'Next step',
    due_in: 'in {d}', overdue: 'late {d}', paused: 'paused', met: 'met', met_late: 'met late',
    pending: 'not started', breached: 'breached', none_open: 'No open tickets match.', state_open: 'Open', metric_response: 'Response',
    metric_resolution: 'Resolution', metric_callback: 'Call-back', metric_report: 'Report',
    reopen: 'Reopen', changed_meanwhile: 'This ticket changed meanwhile; it is shown again after you send.',
    total: 'Total', shown_of: 'Showing the first {n} of {m}; scroll for more', ticket: 'Ticket', conversation: 'Conversation and timeline',
    clocks: 'SLA clocks', target: 'Target', elapsed: 'Elapsed', remaining: 'Remaining',
    sri: 'SRI', deadline: 'Deadline', your_time: 'your time', calendar_time: 'calendar {c}',
    status: 'Status', reply: 'Reply', internal_note: 'Internal note', send: 'Send',
    transition: 'Move to', move: 'Move', reason: 'Reason', milestone: 'Milestone',
    record: 'Record', assign: 'Assign', assignee: 'Assignee', team: 'Team', save: 'Save',
    level: 'Level', change_level: 'Change level', chain: 'Record integrity',
    chain_ok: 'hash chain intact ({n} events)', chain_bad: 'hash chain broken: {d}',
    receipt: 'Service receipt', receipt_print: 'printable, with QR code', receipt_json: 'download (JSON, verify offline)',
    receipt_closure: 'Issued at closure, {t}', receipt_pending: 'being issued (download to issue it now)',
    details: 'Details', org: 'Organisation', category: 'Category', tier: 'Tier',
    region: 'Region', created: 'Created', commitment: 'Commitment', follows: '{name} v{version}',
    overruns: 'Overruns (超时处理)', overrun_reason: 'Reason category', note: 'Note',
    explain: 'Tell the customer', followup: 'Follow-up', rca: 'Root cause', action: 'Action',
    owner: 'Owner', due: 'Due', done: 'Done', late_by: 'late by {d}',
    reason_technology: 'Technology', reason_staffing: 'Staffing', reason_process: 'Process',
    reason_customer: 'Customer', reason_third_party: 'Third party', reason_force_majeure: 'Force majeure', progress: 'Progress',
    confirm: 'Confirm the resolution', reject: 'Not resolved — reopen',
    reject_reason: 'What is still wrong?', rate: 'Rate the service',
    satisfaction: 'Satisfaction (1–5)', nps: 'How likely are you to recommend us? (0–10)',
    comment: 'Comment', rated: 'Thank you for your rating.', submit: 'Submit',
    title: 'Title', description: 'Description', urgency: 'Urgency', submitted: 'Request #{id} submitted',
    my_requests: 'My requests', no_requests: 'You have no requests yet.',
    overrun_notices: 'Overrun notices', saved: 'Saved', sent: 'Sent',
    ev_created: 'created the ticket', ev_comment: 'wrote', ev_state: 'moved it to {s}',
    ev_milestone: 'recorded {m}', ev_assigned: 'assigned it', ev_level: 'changed the level to {l}',
    ev_sla_warning: 'SLA warning: {m} {p}% used', ev_sla_breach: 'SLA breach: {m}',
    ev_escalated: 'escalation {c}, step {n}: {a}', ev_reopened: 'reopened it',
    ev_rating: 'rated the service {s}/5', ev_overrun_explained: 'explained an overrun',
    ev_fired_late: 'recorded late: {t}', reason_customer_reply: 'The customer replied.', reason_confirm_timeout: 'The customer did not answer in time: not confirmed by them.',
    ev_other: '{t}', system: 'Keepword', someone: 'user {id}',
    versions: 'Versions', in_force: 'in force', effective: 'Effective from', letter: 'Letter',
    upload: 'Publish a new version', document: 'Policy document (JSON)',
    version: 'Version', publish: 'Publish', tickets_following: 'Open tickets following it',
    calendar: 'Calendar', weekly_hours: 'Weekly hours', holidays: 'Holidays (one date per line)',
    makeup: 'Make-up workdays (date and hours per line, e.g. 2026-02-14 09:00-18:00)',
    tz: 'Time zone', import_ics: 'Import .ics', import_as: 'as', preview: 'Preview',
    preview_line: 'A deadline of {d} working hours from now', deadline_is: 'Deadline: {t}',
    new_calendar: 'New calendar', name: 'Name', hours_hint: 'e.g. 09:00-12:00, 13:30-18:00',
    cal_version: 'Version {v}', impact_title: 'This edit reaches',
    impact_line: '{name} {version}: {n} open tickets',
    impact_rule: 'From the moment you save, the deadlines and warnings of these {n} tickets are recomputed on the new calendar. Working time already counted and clocks that have stopped stay as they are.',
    confirm_save: 'Save and apply', cancel: 'Cancel',
    saved_version: 'Saved as version {v}; {n} open tickets recomputed.',
    unchanged: 'Nothing to save: this is version {v} as it stands.',
    day_mon: 'Mon', day_tue: 'Tue', day_wed: 'Wed', day_thu: 'Thu', day_fri: 'Fri',
    day_sat: 'Sat', day_sun: 'Sun', create: 'Create', contract_value: 'Contract value',
    account_manager: 'Account manager', role: 'Role', role_admin: 'Administrator',
    role_manager: 'Manager', role_agent: 'Agent', role_customer: 'Customer', users: 'Users',
    teams: 'Teams', lead: 'Lead', rota: 'Rota', shifts: 'Next 14 days', who_now: 'On call now',
    from: 'From', to: 'To', source: 'Layer', set_rota: 'Set a rota (JSON)', kind: 'Kind',
    url: 'URL', secret: 'Secret', events: 'Events', send_test: 'Send test', outbox: 'Outbox',
    state: 'State', attempts: 'Attempts', active: 'Active', key: 'Key', none: '—',
    not_found: 'Not found', forbidden: 'Not allowed for your role', retry: 'Retry',
    metric: 'Metric', act_notify: 'notified',
    act_reassign: 'reassigned', act_raise_level: 'level raised', st_pending: 'pending',
    st_delivered: 'delivered', st_dead: 'dead letter', st_open: 'open', st_explained: 'explained',
    st_done: 'done',
    day_n: '{n} d', hour_n: '{n} h', min_n: '{n} min', sec_n: '{n} s',
    login_bad: 'Wrong e-mail or password.', login_throttled: 'Too many attempts: wait a minute, then try again.',
    open_version: 'Open', editing_version: 'Editing a copy of version {v}. The version and the effective date are set here; the document holds the rest.',
    published: 'Published {name} version {v}, in force from {d}.', version_exists: 'Version {v} exists already; choose another.',
    col_clocks_wall: 'SLA clocks (clock time to deadline)', remaining_work: 'Working time left',
    status_wall: 'Status (clock time to deadline)',
    clocks_note: 'The countdown is clock time until the deadline; “Working time left” counts only the working hours of the calendar.',
    edit: 'Edit', disable: 'Disable', enable: 'Enable', delete: 'Delete', cancel: 'Cancel',
    confirm_delete: 'Delete “{n}”? Click again to confirm', deleted: 'Deleted {n}',
    test_ok: 'Test delivered to {n}.', test_failed: 'Test to {n} failed: {e}', test_pending: 'Test to {n} not attempted yet; see the outbox.',
    all_events: 'All events', keep_secret: 'empty: keep the secret', remove_secret: 'Remove the secret',
    error: 'Error', next_attempt: 'Next attempt', endpoint: 'Endpoint', disabled: 'Disabled', show_all: 'Show all',
    events_hint: 'none ticked: all of them',
    callbacks: 'Call-backs', nps_short: 'NPS (0-10)', callbacks_title: 'Satisfaction call-backs', callbacks_note: 'Tickets whose call-back clock runs, the least time left first. A customer tried {n} times without an answer leaves the list.',
    callbacks_none: 'No call-back is due.', no_team: 'No team', time_left: 'Time left', attempts_n: 'Calls not answered: {n}', last_call_at: 'Last call: {t}',
    record_call: 'Record the call', reached: 'Reached the customer', not_reached: 'No answer',
    call_outcome: 'Outcome', follow_up: 'Follow-up if unhappy', notes: 'Notes', call_recorded: 'Call recorded',
    call_task: 'Call recorded; a follow-up task went to the team lead', tasks: 'Follow-up tasks', task_done: 'Done',
    mark_done: 'Mark done', task_for: 'for {who}', task_open: 'Open', done_note: 'What was done',
    ev_confirm_reminder: 'reminded the customer to confirm (the wait ends {d})', ev_confirm_timeout: 'closed it without the customer\'s confirmation: the wait ended {d}',
    ev_callback: 'called the customer back (attempt {n}): {r}', ev_task_opened: 'opened follow-up task {n}', ev_task_done: 'finished follow-up task {n}', ev_time_spent: 'recorded {d} spent', ev_time_corrected: 'corrected a time entry to {d}', time_spent_min: 'Minutes spent',
    ev_rating_callback: 'recorded the customer\'s rating on the call-back: {s}/5', confirm_wait: 'Please confirm or reject the resolution. Without an answer it is closed as not confirmed by you.',
    unconfirmed: 'Closed without your confirmation: if the problem is not solved, reopen it.',
  },
  zh: {
    skip: '跳到正文', brand: 'Keepword 守诺', board: '看板', portal: '我的请求',
    new_request: '提交请求', admin: '管理', commitments: '承诺书', calendars: '工作日历',
    orgs: '客户组织', people: '用户与团队', oncall: '值班', endpoints: '通知',
    logout: '退出', login: '登录', email: '邮箱', password: '密码', login_title: '登录 Keepword',
    login_failed: '登录失败', language: 'English', language_label: '切换到英文',
    loading: '加载中…', live: '实时', offline: '重新连接中', tickets_n: '{n} 个未关闭工单',
    filter_team: '团队', filter_level: '级别', filter_org: '客户组织', filter_assignee: '处理人',
    filter_breached: '已超时', any: '全部', yes: '是', no: '否', unassigned: '未分配',
    col_id: '编号', col_title: '标题', col_org: '客户组织', col_level: '级别', col_state: '状态',
    col_assignee: '处理人', col_clocks: 'SLA 计时', col_created: '创建时间',
    col_updated: '更新时间', col_next: '下一节点', due_in: '剩余 {d}', overdue: '超时 {d}',
    paused: '已暂停', met: '已达成', met_late: '逾期达成', pending: '未开始', breached: '已超时',
    none_open: '没有符合条件的未关闭工单。', state_open: '未关闭', metric_response: '响应',
    metric_resolution: '解决', metric_callback: '回访', metric_report: '报告', reopen: '重新打开', changed_meanwhile: '工单刚刚有更新；发送后将重新显示。', total: '合计', shown_of: '显示前 {n} 个，共 {m} 个；向下滚动查看更多',
    ticket: '工单', conversation: '沟通与时间线', clocks: 'SLA 计时', target: '目标',
    elapsed: '已用', remaining: '剩余', sri: '服务响应指数', deadline: '截止时间',
    your_time: '您的时区', calendar_time: '日历 {c}', status: '状态', reply: '回复',
    internal_note: '内部备注', send: '发送', transition: '流转到', move: '流转', reason: '原因',
    milestone: '里程碑', record: '记录', assign: '分派', assignee: '处理人', team: '团队',
    save: '保存', level: '级别', change_level: '调整级别', chain: '记录完整性',
    chain_ok: '哈希链完整（{n} 条事件）', chain_bad: '哈希链损坏：{d}', details: '详情',
    receipt: '电子服务凭证', receipt_print: '打印版（含二维码）', receipt_json: '下载（JSON，可离线核验）',
    receipt_closure: '结单时出具，{t}', receipt_pending: '出具中（下载即立即出具）',
    org: '客户组织', category: '类别', tier: '客户等级', region: '区域', created: '创建时间',
    commitment: '承诺书', follows: '{name} 第 {version} 版', overruns: '超时处理',
    overrun_reason: '原因类别', note: '说明', explain: '告知客户', followup: '后续改进',
    rca: '根因分析', action: '改进措施', owner: '负责人', due: '期限', done: '已完成',
    late_by: '超时 {d}', reason_technology: '技术', reason_staffing: '人员',
    reason_process: '流程', reason_customer: '客户原因', reason_third_party: '第三方', reason_force_majeure: '不可抗力',
    progress: '服务进度', confirm: '确认已解决', reject: '未解决，重新处理',
    reject_reason: '还有什么问题？', rate: '服务评价', satisfaction: '满意度（1–5）',
    nps: '您向他人推荐我们的可能性（0–10）', comment: '意见', rated: '感谢您的评价。',
    submit: '提交', title: '标题', description: '问题描述', urgency: '紧急程度',
    submitted: '请求 #{id} 已提交', my_requests: '我的请求', no_requests: '您还没有提交过请求。',
    overrun_notices: '超时说明', saved: '已保存', sent: '已发送', ev_created: '创建了工单',
    ev_comment: '写道', ev_state: '将工单流转到 {s}', ev_milestone: '记录了 {m}',
    ev_assigned: '分派了工单', ev_level: '将级别调整为 {l}', ev_sla_warning: 'SLA 预警：{m} 已用 {p}%',
    ev_sla_breach: 'SLA 超时：{m}', ev_escalated: '升级链 {c} 第 {n} 步：{a}',
    ev_reopened: '重新打开了工单', ev_rating: '评价服务 {s}/5', ev_overrun_explained: '说明了超时原因',
    ev_fired_late: '延后记录：{t}', reason_customer_reply: '客户已答复。', reason_confirm_timeout: '客户未在期限内答复：并非客户确认。',
    ev_other: '{t}', system: 'Keepword 系统', someone: '用户 {id}', versions: '版本',
    in_force: '现行', effective: '生效时间', letter: '承诺书正文', upload: '发布新版本',
    document: '承诺书定义（JSON）', version: '版本', publish: '发布',
    tickets_following: '按此版本执行的未关闭工单', calendar: '日历', weekly_hours: '每周工作时间',
    holidays: '节假日（每行一个日期）', makeup: '调休上班日（每行：日期 时段，如 2026-02-14 09:00-18:00）',
    tz: '时区', import_ics: '导入 .ics', import_as: '作为', preview: '预览',
    preview_line: '从现在起 {d} 个工作小时的截止时间', deadline_is: '截止时间：{t}',
    new_calendar: '新建日历', name: '名称', hours_hint: '如 09:00-12:00, 13:30-18:00',
    cal_version: '第 {v} 版', impact_title: '此修改将影响',
    impact_line: '{name} {version}：{n} 张未关闭工单',
    impact_rule: '自保存时起，这 {n} 张工单的截止时间和预警按新日历重新计算；已计入的工作时间和已停止的计时保持不变。',
    confirm_save: '保存并生效', cancel: '取消',
    saved_version: '已保存为第 {v} 版，已重新计算 {n} 张未关闭工单。',
    unchanged: '无需保存：与当前第 {v} 版相同。',
    day_mon: '周一', day_tue: '周二', day_wed: '周三', day_thu: '周四', day_fri: '周五',
    day_sat: '周六', day_sun: '周日', create: '创建', contract_value: '合同金额',
    account_manager: '客户经理', role: '角色', role_admin: '管理员', role_manager: '服务经理',
    role_agent: '工程师', role_customer: '客户', users: '用户', teams: '团队', lead: '负责人',
    rota: '排班', shifts: '未来 14 天', who_now: '当前值班', from: '开始', to: '结束',
    source: '排班层', set_rota: '设置排班（JSON）', kind: '类型', url: '地址', secret: '密钥',
    events: '事件', send_test: '发送测试', outbox: '发送队列', state: '状态', attempts: '尝试次数',
    active: '启用', key: '幂等键', none: '—', not_found: '未找到', forbidden: '您的角色无权访问',
    metric: '指标',
    act_notify: '通知', act_reassign: '转派', act_raise_level: '提升级别', st_pending: '待发送',
    st_delivered: '已送达', st_dead: '发送失败', st_open: '待处理', st_explained: '已说明', st_done: '已完成',
    retry: '重试', day_n: '{n}天', hour_n: '{n}小时', min_n: '{n}分', sec_n: '{n}秒',
    login_bad: '邮箱或密码不正确。', login_throttled: '尝试次数过多，请等待一分钟后再试。',
    open_version: '打开', editing_version: '正在编辑第 {v} 版的副本。版本号和生效时间在此设置，其余内容在定义中。',
    published: '已发布 {name} 第 {v} 版，自 {d} 起生效。', version_exists: '第 {v} 版已存在，请换一个版本号。',
    col_clocks_wall: 'SLA 计时（距截止的自然时间）', remaining_work: '剩余工作时间',
    status_wall: '状态（距截止的自然时间）',
    clocks_note: '倒计时是距截止时间的自然时间；“剩余工作时间”只计算日历中的工作时段。',
    edit: '编辑', disable: '停用', enable: '启用', delete: '删除', cancel: '取消',
    confirm_delete: '删除“{n}”？再次点击确认', deleted: '已删除 {n}',
    test_ok: '测试消息已送达 {n}。', test_failed: '发往 {n} 的测试消息失败：{e}', test_pending: '发往 {n} 的测试消息尚未尝试发送，请查看发送队列。',
    all_events: '全部事件', keep_secret: '留空则保留原密钥', remove_secret: '删除密钥',
    error: '错误', next_attempt: '下次尝试', endpoint: '通知渠道', disabled: '已停用', show_all: '显示全部',
    events_hint: '不勾选即为全部',
    callbacks: '回访', nps_short: 'NPS（0-10）', callbacks_title: '满意度回访', callbacks_note: '回访时钟正在计时的工单，剩余时间最少的在前。连续 {n} 次未接通的客户不再列出。',
    callbacks_none: '暂无需要回访的工单。', no_team: '未分组', time_left: '剩余时间', attempts_n: '未接通次数：{n}', last_call_at: '上次回访：{t}',
    record_call: '记录回访', reached: '已联系上客户', not_reached: '未接通',
    call_outcome: '结果', follow_up: '不满意时的跟进', notes: '备注', call_recorded: '回访已记录',
    call_task: '回访已记录，已为组长创建跟进任务', tasks: '跟进任务', task_done: '已完成',
    mark_done: '标记完成', task_for: '负责人：{who}', task_open: '未完成', done_note: '处理情况',
    ev_confirm_reminder: '提醒客户确认（确认期限 {d}）', ev_confirm_timeout: '未经客户确认关闭：确认期限 {d} 已到',
    ev_callback: '回访了客户（第 {n} 次）：{r}', ev_task_opened: '创建了跟进任务 {n}', ev_task_done: '完成了跟进任务 {n}', ev_time_spent: '记录了工时 {d}', ev_time_corrected: '更正了工时记录为 {d}', time_spent_min: '用时（分钟）',
    ev_rating_callback: '记录了回访中客户的评价：{s}/5', confirm_wait: '请确认或驳回处理结果。逾期未答复将作“未经确认关闭”处理。',
    unconfirmed: '该工单未经您确认即已关闭；如问题仍未解决，请重新打开。',
  },
};

// The ticket list, search and staff-logged tickets (#/tickets, #/new).
Object.assign(STRINGS.en, {
  tickets: 'Tickets', new_ticket: 'New ticket', search: 'Search', search_label: 'Search tickets',
  search_hint: 'Words in titles, descriptions, comments and internal notes',
  search_hint_customer: 'Words in the titles, descriptions and comments of your organisation’s requests',
  view: 'View', view_open: 'Open', view_resolved: 'Resolved', view_closed: 'Closed', view_all: 'All',
  view_mine: 'Mine', view_unassigned: 'Unassigned', view_breached: 'Breached', view_due_today: 'Due today',
  filter_category: 'Category', col_due: 'Due', col_channel: 'Channel', no_matches: 'No tickets match.',
  load_more: 'Load more', shown_n: '{n} shown', searching_for: 'Results for “{q}”', clear_search: 'Clear',
  sort_by: 'Sort by {c}', requester: 'Requester', channel: 'How they reached us', no_requester: '— nobody (an alert)',
  ch_phone: 'Phone', 'ch_walk-in': 'Walk-in', ch_chat: 'Chat', ch_email: 'E-mail', ch_monitoring: 'Monitoring',
  ch_web: 'Web portal', ch_api: 'API', logged: 'Ticket #{id} logged', log_ticket: 'Log the ticket',
  new_ticket_hint: 'Log a call, a visit, a chat, an e-mail or an alert for a customer.',
  description_logged: 'What the customer reported',
});
Object.assign(STRINGS.zh, {
  tickets: '工单', new_ticket: '新建工单', search: '搜索', search_label: '搜索工单',
  search_hint: '在标题、问题描述、评论和内部备注中查找',
  search_hint_customer: '在本单位请求的标题、问题描述和评论中查找',
  view: '视图', view_open: '未关闭', view_resolved: '已解决', view_closed: '已关闭', view_all: '全部',
  view_mine: '我的', view_unassigned: '未分派', view_breached: '已超时', view_due_today: '今日到期',
  filter_category: '类别', col_due: '到期', col_channel: '渠道', no_matches: '没有符合条件的工单。',
  load_more: '加载更多', shown_n: '已显示 {n} 条', searching_for: '“{q}”的搜索结果', clear_search: '清除',
  sort_by: '按{c}排序', requester: '请求人', channel: '客户来源渠道', no_requester: '— 无（告警）',
  ch_phone: '电话', 'ch_walk-in': '到访', ch_chat: '在线聊天', ch_email: '电子邮件', ch_monitoring: '监控告警',
  ch_web: '网页门户', ch_api: 'API', logged: '工单 #{id} 已登记', log_ticket: '登记工单',
  new_ticket_hint: '为客户登记来电、到访、聊天、邮件或告警。',
  description_logged: '客户反映的问题',
});
const CHANNELS = ['phone', 'walk-in', 'chat', 'email', 'monitoring', 'web'];

let lang = localStorage.getItem('kw.lang') ||
  ((navigator.language || 'en').toLowerCase().startsWith('zh') ? 'zh' : 'en');

function t(key, vars) {
  let s = (STRINGS[lang] && STRINGS[lang][key]) || STRINGS.en[key] || key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
  return s;
}

const locale = () => (lang === 'zh' ? 'zh-CN' : 'en-GB');
// a title is one line: a pasted tab or other control character becomes a
// space (the server refuses them, docs/api.md "Control characters")
const oneLine = (s) => s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ');

// ---- DOM: h() builds elements; strings become text nodes, never HTML ----

function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, kids);
  return el;
}

function add(el, ...kids) {
  for (const k of kids.flat(Infinity)) {
    if (k === null || k === undefined || k === false) continue;
    el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  }
  return el;
}

function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

function toast(msg) {
  const d = h('div', {}, msg);
  document.getElementById('toast').append(d);
  setTimeout(() => d.remove(), 4000);
}

function problemBox(e) {
  const p = e && e.problem;
  return h('div', { class: 'problem', role: 'alert' },
    p ? `${p.title}: ${p.detail}${p.pointer ? ` (${p.pointer})` : ''}` : String(e && e.message || e));
}

// ---- formatting ----

const formats = new Map(); // Intl formatters are slow to make: one per locale and zone
function fmtTime(iso, zone) {
  if (!iso) return t('none');
  if (!zone && session.me && session.me.tz) zone = session.me.tz; // the person's own zone (My settings)
  const key = `${locale()}|${zone || ''}`;
  if (!formats.has(key)) {
    const opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit',
      minute: '2-digit', hour12: false };
    if (zone) opts.timeZone = zone;
    try { formats.set(key, new Intl.DateTimeFormat(locale(), opts)); } catch (e) { return iso; }
  }
  return formats.get(key).format(new Date(iso));
}

function fmtNum(n) {
  if (!formats.has(locale())) formats.set(locale(), new Intl.NumberFormat(locale()));
  return formats.get(locale()).format(n);
}

// A duration in seconds as "2 h 05 min" / "2小时05分"; fixed-width enough to tick without jumping.
function fmtDur(sec) {
  sec = Math.max(0, Math.floor(sec));
  const d = Math.floor(sec / 86400), hh = Math.floor(sec % 86400 / 3600),
    mm = Math.floor(sec % 3600 / 60), ss = sec % 60, p2 = (x) => String(x).padStart(2, '0');
  if (d) return `${t('day_n', { n: d })} ${t('hour_n', { n: p2(hh) })}`;
  if (hh) return `${t('hour_n', { n: hh })} ${t('min_n', { n: p2(mm) })}`;
  return `${t('min_n', { n: mm })} ${t('sec_n', { n: p2(ss) })}`;
}

// States and milestones are named by the server's catalogue (GET /api/v1/catalogue).
let catalogue = { states: [], milestones: [] };
function stateLabel(s) { return label(catalogue.states.find((x) => x.id === s)) || s; }
function msLabel(m) { return label(catalogue.milestones.find((x) => x.id === m)) || m; }
function stLabel(s) { return STRINGS.en['st_' + s] ? t('st_' + s) : s; }
// A value of the commitment's vocabulary (levels, categories, tiers) by its label.
function vocab(doc, list, id) {
  const x = doc && (doc[list] || []).find((v) => v.id === id);
  return x ? label(x) : (id || t('none'));
}

// ---- the API ----

const session = { me: null, csrf: null, cache: new Map() };

// Writes of this page in flight, and the event count each write left a
// ticket at: the live feed tells the user's own changes from other people's.
const own = { writes: 0, seq: new Map() };

async function api(method, path, body, opts) {
  if (method === 'GET') return call(method, path, body, opts);
  own.writes++;
  try {
    const data = await call(method, path, body, opts);
    if (data && typeof data === 'object' && data.id && typeof data.events === 'number' && path.startsWith('/tickets'))
      own.seq.set(data.id, Math.max(own.seq.get(data.id) || 0, data.events));
    return data;
  } finally { own.writes--; }
}

async function call(method, path, body, opts) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-CSRF-Token'] = session.csrf || '';
  let payload;
  if (opts && opts.raw !== undefined) { payload = opts.raw; headers['Content-Type'] = 'text/calendar'; }
  else if (body !== undefined) { payload = JSON.stringify(body); headers['Content-Type'] = 'application/json'; }
  const r = await fetch('/api/v1' + path, { method, headers, body: payload,
    credentials: 'same-origin', cache: 'no-store' });
  if (r.status === 401 && path !== '/auth/login') {
    session.me = null;
    location.hash = '#/login';
    throw Object.assign(new Error('unauthenticated'), { status: 401 });
  }
  const text = await r.text();
  const ctype = r.headers.get('Content-Type') || '';
  const data = ctype.includes('json') && text ? JSON.parse(text) : text;
  if (!r.ok) throw Object.assign(new Error(data.detail || r.statusText), { status: r.status, problem: data });
  return data;
}

// Lists with cursors, every page (up to max items).
async function apiAll(path, key, max) {
  let out = [], after = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', path + (after !== null ? `${sep}after=${encodeURIComponent(after)}` : ''));
    out = out.concat(page[key]);
    after = page.next;
  } while (after !== null && after !== undefined && out.length < (max || 100000));
  return out;
}

// Looked up once per login (cleared on logout: nothing outlives a session).
async function cached(key, fn) {
  if (!session.cache.has(key)) session.cache.set(key, fn().catch((e) => { session.cache.delete(key); throw e; }));
  return session.cache.get(key);
}
const staff = () => session.me && session.me.role !== 'customer';
const manager = () => session.me && (session.me.role === 'admin' || session.me.role === 'manager');
const users = () => cached('users', () => apiAll('/users?limit=500', 'users'));
const orgs = () => cached('orgs', () => apiAll('/orgs?limit=500', 'orgs'));
const teams = () => staff() ? cached('teams', () => api('GET', '/teams').then((r) => r.teams)) : Promise.resolve([]);
const commitmentDoc = (id) => cached('c' + id, () => api('GET', `/commitments/${id}`));
async function inForce() {
  const list = await cached('commitments', () => api('GET', '/commitments'));
  return list.in_force ? { id: list.in_force, doc: await commitmentDoc(list.in_force) } : null;
}
function label(obj) { return obj && obj.label ? (obj.label[lang] || obj.label.en || obj.id) : (obj && obj.id) || ''; }
function nameOf(list, id) { const x = list.find((u) => u.id === id); return x ? x.name : (id ? `#${id}` : t('none')); }
function metricLabel(m, doc) {
  const found = doc && (doc.metrics || []).find((x) => x.id === m);
  if (found && found.label) return label(found);
  return STRINGS[lang]['metric_' + m] || m;
}

// ---- live clocks ----

// The colour a clock shows now: what the server said, moved on by the
// thresholds passed since (the engine's event follows within a second).
function clockNow(c, now) {
  if (c.status === 'breached' || c.status === 'met_late') return 'breached';
  if (c.status !== 'running') return c.status;
  if (c._dl === undefined) { c._dl = c.deadline ? Date.parse(c.deadline) : null; c._nd = c.next_due ? Date.parse(c.next_due) : null; }
  const dl = c._dl;
  if (dl !== null && now >= dl) return 'breached';
  if (c._nd !== null && c.next_pct && c.next_pct < 100 && now >= c._nd)
    return c.next_pct < 75 ? 'blue' : c.next_pct < 90 ? 'yellow' : 'red';
  return c.colour;
}

function clockText(c, now) {
  if (c.status === 'paused') return t('paused');
  if (c.status === 'met') return t('met');
  if (c.status === 'pending') return t('pending');
  if (c.status === 'met_late') return t('met_late');
  if (!c.deadline) return t('none');
  const left = ((c._dl !== undefined && c._dl !== null ? c._dl : Date.parse(c.deadline)) - now) / 1000;
  return left >= 0 ? t('due_in', { d: fmtDur(left) }) : t('overdue', { d: fmtDur(-left) });
}

function clockChip(c, doc, bare) {
  const span = h('span', { class: 'countdown' });
  const chip = h('span', { class: 'clock', 'data-metric': c.metric }, bare ? null : metricLabel(c.metric, doc), span);
  chip._clock = c;
  chip._span = span;
  if (c.deadline) chip.title = `${t('deadline')}: ${fmtTime(c.deadline)}`;
  paintClock(chip, Date.now());
  return chip;
}

function paintClock(chip, now) {
  const c = chip._clock, colour = clockNow(c, now), text = clockText(c, now);
  const cls = 'clock ' + colour;
  if (chip.className !== cls) chip.className = cls;
  if (chip._span.firstChild ? chip._span.firstChild.data !== text : true) chip._span.textContent = text;
}

// One ticker for the page: repaints the chips on screen once a second.
let ticker = null;
function startTicker(root) {
  stopTicker();
  ticker = setInterval(() => {
    const t0 = performance.now(), now = Date.now();
    for (const chip of root.querySelectorAll('.clock')) if (chip._clock) paintClock(chip, now);
    window.kwTickMs = performance.now() - t0; // read by bench/ui_board.js
  }, 1000);
}
function stopTicker() { if (ticker) clearInterval(ticker); ticker = null; }

// ---- the live feed (Server-Sent Events) ----

let feed = null;
function listen(onTicket, onReset, onState) {
  if (feed) feed.close();
  feed = new EventSource('/api/v1/stream');
  feed.addEventListener('hello', () => onState && onState(true));
  feed.addEventListener('ticket', (e) => { refreshBadge(true); onTicket(JSON.parse(e.data)); });
  feed.addEventListener('reset', () => onReset && onReset());
  feed.onerror = () => {
    if (onState) onState(false);
    // the server ended the stream: if the session is gone (signed out
    // elsewhere, deactivated), /me answers 401 and call() shows the login
    if (session.me) call('GET', '/me').catch(() => {});
  };
}
function unlisten() { if (feed) feed.close(); feed = null; }

// ---- chrome: header and navigation ----

function renderTop(route) {
  const top = clear(document.getElementById('top'));
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  document.title = t('brand');
  document.querySelector('.skip').textContent = t('skip');
  const links = [];
  const me = session.me;
  if (me && staff()) links.push(['#/board', 'board'], ['#/dashboard', 'dashboard'], ['#/tickets', 'tickets'], ['#/new', 'new_ticket'], ['#/callbacks', 'callbacks'], ['#/inbox', 'inbox'], ['#/contracts', 'contracts'], ['#/watch', 'watch']);
  if (me && !staff()) links.push(['#/portal', 'portal'], ['#/dashboard', 'dashboard'], ['#/portal/new', 'new_request'], ['#/tickets', 'search'], ['#/inbox', 'inbox'], ['#/contracts', 'contracts'], ['#/portal/letter', 'our_commitment']);
  if (me && manager())
    links.push(['#/admin/commitments', 'commitments'], ['#/admin/calendars', 'calendars'],
      ['#/admin/orgs', 'orgs'], ['#/admin/people', 'people'], ['#/admin/oncall', 'oncall'],
      ['#/admin/endpoints', 'endpoints'], ['#/admin/mailboxes', 'mailboxes'], ['#/admin/alerts', 'alert_sources'], ['#/audit', 'audit']);
  if (me && staff()) links.push(['#/admin/canned', 'canned']);
  add(top, [
    h('a', { class: 'brand', href: me ? (staff() ? '#/board' : '#/portal') : '#/login' }, t('brand')),
    h('nav', { 'aria-label': t('brand') }, links.map(([href, key]) =>
      h('a', { href, id: key === 'inbox' ? 'inbox-link' : null, 'aria-current': route.split('?')[0] === href ? 'page' : null }, t(key),
        key === 'inbox' ? h('span', { class: 'count', id: 'inbox-badge', hidden: true }) : null))),
    me ? h('a', { class: 'who', href: '#/me', id: 'settings-link', title: t('settings'), 'aria-current': route === '#/me' ? 'page' : null },
      `${me.name} · ${t('role_' + me.role)}`) : null,
    h('button', { type: 'button', id: 'lang', 'aria-label': t('language_label'), onclick: () => {
      lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('kw.lang', lang);
      router();
    } }, t('language')),
    me ? h('button', { type: 'button', id: 'logout', onclick: logout }, t('logout')) : null,
  ]);
  if (me) refreshBadge(false);
}

async function logout() {
  try { await api('POST', '/auth/logout'); } catch (e) { /* gone already */ }
  // a fresh page: no list, lookup or stream survives into the next login
  location.hash = '#/login';
  location.reload();
}

// ---- pages ----

async function pageLogin(main) {
  const err = h('div');
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const pw = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  add(main, h('div', { class: 'card login' }, h('h1', {}, t('login_title')), h('form', { onsubmit: async (e) => {
    e.preventDefault();
    clear(err);
    try {
      const r = await api('POST', '/auth/login', { email: email.value, password: pw.value, cookie: true });
      session.csrf = r.csrf_token;
      session.me = await api('GET', '/me');
      session.cache.clear();
      applyMe(true);
      location.hash = staff() ? '#/board' : '#/portal';
    } catch (x) {
      // the server's words are English: say it in the user's language
      const why = x.status === 401 || x.status === 403 ? t('login_bad') : x.status === 429 ? t('login_throttled') : null;
      add(err, why ? h('div', { class: 'problem', role: 'alert', id: 'login-error' }, `${t('login_failed')}: ${why}`) : problemBox(x));
    }
  } }, h('label', {}, t('email'), email), h('label', {}, t('password'), pw), err,
  h('button', { type: 'submit' }, t('login')))));
  email.focus();
}

// The board: every open ticket by time left, live.
async function pageBoard(main) {
  const [os, us, ts, cf] = await Promise.all([orgs(), users(), teams(), inForce()]);
  const doc = cf && cf.doc;
  const levels = doc ? doc.levels.map((l) => l.id) : [];
  const tickets = new Map();
  const f = { team: '', level: '', org: '', assignee: '', breached: '', state: '' };
  const selects = {};
  const sel = (key, opts) => (selects[key] = h('select', { name: key, onchange: (e) => { f[key] = e.target.value; paint(); } },
    h('option', { value: '' }, t('any')), opts.map(([v, l]) => h('option', { value: v }, l))));
  // A counter filters the board to what it counts (within the filters
  // chosen above); "total", or the same counter again, shows all of them.
  const setFilter = (key, value) => {
    f.level = f.state = f.breached = '';
    if (key) f[key] = value;
    for (const [k, el] of Object.entries(selects)) el.value = f[k];
    paint();
  };
  const status = h('span', { class: 'small muted', id: 'live' }, h('span', { class: 'dot' }), ' ', t('offline'));
  const counters = h('div', { class: 'counters', id: 'counters' });
  const tbody = h('tbody');
  const table = h('table', { id: 'board' }, h('thead', {}, h('tr', {},
    ['col_id', 'col_title', 'col_org', 'col_level', 'col_state', 'col_assignee', 'col_clocks_wall'].map((k) =>
      h('th', { scope: 'col' }, t(k))))), tbody);
  add(main, h('h1', {}, t('board'), ' ', status),
    h('div', { class: 'row filters' },
      h('label', {}, t('filter_team'), sel('team', ts.map((x) => [x.id, x.name]))),
      h('label', {}, t('filter_level'), sel('level', levels.map((x) => [x, x]))),
      h('label', {}, t('filter_org'), sel('org', os.map((x) => [x.id, x.name]))),
      h('label', {}, t('filter_assignee'), sel('assignee', [['none', t('unassigned')]].concat(
        us.filter((u) => u.role !== 'customer').map((u) => [u.id, u.name])))),
      h('label', {}, t('filter_breached'), sel('breached', [['true', t('yes')], ['false', t('no')]]))),
    counters, h('div', { class: 'board' }, table));

  const due = (x) => (x.due_at ? Date.parse(x.due_at) : Infinity);
  const isBreached = (x, now) => !!(x.breached || (x.due_at && due(x) <= now));
  // How long a breached ticket has been overdue: from its earliest deadline
  // passed by a running clock, else from its first breach.
  const overdueSince = (x, now) => {
    let at = Infinity;
    for (const c of x.clocks || []) {
      const dl = c.deadline ? Date.parse(c.deadline) : Infinity;
      if ((c.status === 'breached' || c.status === 'running') && dl <= now && dl < at) at = dl;
    }
    return at !== Infinity ? at : x.breached_at ? Date.parse(x.breached_at) : due(x);
  };
  // Breached first, the most overdue on top; then by time to breach. The
  // keys are worked out once per paint, not once per comparison.
  const sorted = (list, now) => list.map((x) => {
    const b = isBreached(x, now);
    return { x, b, k: b ? overdueSince(x, now) : due(x), d: due(x) };
  }).sort((p, q) => (p.b !== q.b ? (p.b ? -1 : 1) : (p.k - q.k) || (p.d - q.d) || p.x.id - q.x.id)).map((e) => e.x);
  // the filters of the selects above; the counters add level, state and breached
  const baseMatch = (x) => (!f.team || String(x.team_id) === f.team) && (!f.org || String(x.org_id) === f.org) &&
    (!f.assignee || (f.assignee === 'none' ? !x.assignee_id : String(x.assignee_id) === f.assignee));
  const match = (x) => baseMatch(x) && (!f.level || x.level === f.level) && (!f.state || x.state === f.state) &&
    (!f.breached || String(isBreached(x, Date.now())) === f.breached);
  const rows = new Map(); // id -> <tr>, rebuilt only when the ticket changes
  function row(x) {
    const tr = h('tr', { 'data-id': x.id, class: x.breached ? 'breached' : null },
      h('td', { class: 'num' }, h('a', { href: `#/t/${x.id}` }, x.id)),
      h('td', { class: 'title' }, h('a', { href: `#/t/${x.id}` }, x.title)),
      h('td', {}, nameOf(os, x.org_id)),
      h('td', {}, h('span', { class: 'badge ' + x.level }, x.level)),
      h('td', {}, stateLabel(x.state)),
      h('td', {}, x.assignee_id ? nameOf(us, x.assignee_id) : h('span', { class: 'muted' }, t('unassigned'))),
      h('td', {}, h('span', { class: 'clocks' }, (x.clocks || []).filter((c) => c.status !== 'pending').map((c) => clockChip(c, doc)))));
    return tr;
  }
  // Rows are made for the top of the queue only, more as the user scrolls
  // down (the sentinel): a board of thousands stays quick to draw and tick.
  let shown = 200;
  const more = h('tr', { class: 'more' }, h('td', { colspan: 7, class: 'muted small' }));
  new IntersectionObserver((es) => {
    if (es.some((e) => e.isIntersecting) && shown < tickets.size) { shown += 200; schedule(); }
  }).observe(more);
  function paint() {
    const now = Date.now();
    const all = sorted([...tickets.values()].filter(match), now);
    const list = all.slice(0, shown);
    const frag = document.createDocumentFragment();
    for (const x of list) {
      let tr = rows.get(x.id);
      if (!tr || tr._v !== x) { tr = row(x); tr._v = x; rows.set(x.id, tr); }
      frag.append(tr);
    }
    clear(tbody).append(frag);
    if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 7, class: 'muted' }, t('none_open'))));
    if (all.length > list.length) {
      more.firstChild.textContent = t('shown_of', { n: fmtNum(list.length), m: fmtNum(all.length) });
      tbody.append(more);
    }
    // counted over the tickets the other filters let through, so that a
    // counter says what clicking it shows
    const base = [...tickets.values()].filter(baseMatch);
    const by = (k) => base.reduce((m, x) => m.set(x[k], (m.get(x[k]) || 0) + 1), new Map());
    const lv = by('level'), stt = by('state');
    const nBreached = base.filter((x) => isBreached(x, now)).length;
    const counter = (name, n, text, key, value, cls) => {
      const on = key ? f[key] === value : !f.level && !f.state && !f.breached;
      return h('button', { type: 'button', class: 'counter' + (cls ? ' ' + cls : '') + (on ? ' on' : ''), 'data-counter': name,
        'aria-pressed': on ? 'true' : 'false', onclick: () => setFilter(on ? null : key, value) },
      h('b', {}, fmtNum(n)), h('span', {}, text));
    };
    clear(counters).append(
      counter('total', base.length, t('total'), null, null),
      counter('breached', nBreached, t('filter_breached'), 'breached', 'true', nBreached ? 'alarm' : ''),
      ...[...lv.keys()].sort().map((k) => counter(k, lv.get(k), k, 'level', k)),
      ...['registered', 'analysing', 'handling', 'waiting_customer', 'feedback'].filter((k) => stt.has(k)).map((k) =>
        counter(k, stt.get(k), stateLabel(k), 'state', k)));
  }
  let pending = null; // SSE bursts repaint once per frame
  const schedule = () => { if (!pending) pending = requestAnimationFrame(() => { pending = null; paint(); }); };
  async function load() {
    const list = await apiAll('/tickets?state=open&sort=due&include=clocks&limit=500', 'tickets', 20000);
    tickets.clear();
    for (const x of list) tickets.set(x.id, x);
    paint();
  }
  await load();
  window.kwBoardReady = performance.now();
  listen((x) => {
    if (x.state === 'archived') tickets.delete(x.id); else tickets.set(x.id, x);
    schedule();
  }, load, (up) => {
    status.classList.toggle('live', up);
    status.lastChild.textContent = up ? t('live') : t('offline');
  });
  startTicker(tbody);
}

// The milestones staff record by hand: the catalogue's, and those the commitment adds.
function manualMilestones(doc) {
  const own = ((doc && doc.milestones) || []).map((m) => (typeof m === 'string' ? m : m.id));
  return catalogue.milestones.filter((m) => m.manual).map((m) => m.id).concat(own);
}

function eventLine(ev, us, doc) {
  const b = ev.body || {};
  const known = us.find((u) => u.id === ev.actor);
  // the server names whoever the viewer may know (staff, the customer's own people)
  const who = ev.actor === 0 ? t('system') : ev.actor_name || (known ? known.name : t('someone', { id: ev.actor }));
  let what;
  switch (ev.type) {
    case 'created': what = t('ev_created'); break;
    case 'comment': what = t('ev_comment'); break;
    case 'state': what = t('ev_state', { s: stateLabel(b.state) }); break;
    case 'milestone': what = t('ev_milestone', { m: msLabel(b.milestone) }); break;
    case 'assigned': what = t('ev_assigned'); break;
    case 'level': what = t('ev_level', { l: b.level }); break;
    case 'sla_warning': what = t('ev_sla_warning', { m: metricLabel(b.metric, doc), p: b.percent }); break;
    case 'sla_breach': what = t('ev_sla_breach', { m: metricLabel(b.metric, doc) }); break;
    case 'escalated': what = t('ev_escalated', { c: b.chain, n: (b.step || 0) + 1, a: t('act_' + b.action) }); break;
    case 'reopened': what = t('ev_reopened'); break;
    case 'rating': what = b.source === 'callback' ? t('ev_rating_callback', { s: b.satisfaction }) : t('ev_rating', { s: b.satisfaction }); break;
    case 'confirm_reminder': what = t('ev_confirm_reminder', { d: fmtTime(b.deadline) }); break;
    case 'confirm_timeout': what = t('ev_confirm_timeout', { d: fmtTime(b.deadline) }); break;
    case 'callback': what = t('ev_callback', { n: b.attempt, r: b.reached ? t('reached') : t('not_reached') }); break;
    case 'task_opened': what = t('ev_task_opened', { n: b.task }); break;
    case 'task_done': what = t('ev_task_done', { n: b.task }); break;
    case 'overrun_explained': what = t('ev_overrun_explained'); break;
    case 'attachment': what = t('ev_attachment'); break;
    case 'time_spent': what = t(b.corrects ? 'ev_time_corrected' : 'ev_time_spent', { d: fmtDur(b.seconds) }); break;
    case 'edited': case 'category': case 'region': case 'requester': what = editedWhat(ev, us, doc); break;
    case 'linked': case 'unlinked': case 'merged': what = linkWhat(ev); break;
    default: what = t('ev_other', { t: ev.type });
  }
  const cls = ev.type === 'comment' || ev.type === 'attachment' ? (b.internal ? 'internal' : 'comment')
    : ev.type.startsWith('sla_') ? 'warn' : '';
  const text = ev.type === 'attachment'
    ? h('a', { href: `/api/v1/attachments/${b.attachment}`, download: b.name }, `${b.name} (${fmtSize(b.size || 0)})`)
    : ev.type === 'comment' ? b.text
    : ev.type === 'created' ? b.description || null
    : ev.type === 'edited' && b.field === 'description' ? editedText(b)
    : ev.type === 'overrun_explained' && b.notice ? (b.notice[lang] || b.notice.en)
    : b.reason === 'customer_reply' ? t('reason_customer_reply')
    : b.reason === 'confirmed by timeout' ? t('reason_confirm_timeout')
    : ev.type === 'callback' || ev.type === 'task_opened' || ev.type === 'task_done' || ev.type === 'time_spent' ? b.note
    : b.reason || (ev.type === 'rating' ? b.comment : null);
  // the engine's events: the instant each fell due, and when it was
  // recorded if that was later than the usual second (the server was down)
  const due = ev.type.startsWith('sla_') || ev.type.startsWith('confirm_') || ev.type === 'escalated'
    ? (b.due_at || b.reached_at || b.breached_at || null) : null;
  const late = due && Date.parse(ev.at) - Date.parse(due) > 5000;
  return h('li', { class: cls, 'data-type': ev.type },
    h('div', { class: 'meta' }, `${fmtTime(due || ev.at)} · ${who} · `, what, b.internal ? ` · ${t('internal_note')}` : '',
      late ? h('span', { class: 'fired-late' }, ` · ${t('ev_fired_late', { t: fmtTime(ev.at) })}`) : ''),
    text ? h('div', { class: 'text' }, text) : null, movedNote(ev, us));
}

function form(onsubmit, ...kids) {
  const err = h('div');
  const f = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    clear(err);
    const btn = f.querySelector('button[type=submit]');
    if (btn) btn.disabled = true;
    try { await onsubmit(f); } catch (x) { add(err, problemBox(x)); }
    finally { if (btn) btn.disabled = false; }
  } }, ...kids, err);
  return f;
}

// The ticket: conversation, clocks, actions; staff and customers see their parts.
async function pageTicket(main, id) {
  const [ticket, evs, sla, us, ts, chain] = await Promise.all([
    api('GET', `/tickets/${id}`), api('GET', `/tickets/${id}/events`), api('GET', `/tickets/${id}/sla`),
    users(), teams(), api('GET', `/tickets/${id}/verify`)]);
  const doc = ticket.commitment_id ? await commitmentDoc(ticket.commitment_id) : null;
  const nodes = await api('GET', `/tickets/${id}/nodes?lang=${lang}`);
  const overruns = (await api('GET', `/overruns?ticket_id=${id}`)).overruns;
  const os = await orgs();
  const files = (await api('GET', `/tickets/${id}/attachments`)).attachments;
  const watch = await api('GET', `/tickets/${id}/watchers`);
  // the receipts issued at closure (docs/receipts.md); none without a log key
  const closures = (await api('GET', `/tickets/${id}/receipts`).catch(() => ({ receipts: [] }))).receipts;
  // (a backend without links yet answers 500: the page shows none rather than failing)
  const ls = await api('GET', `/tickets/${id}/links`).catch(() => ({ links: [], merged_into: null }));
  const reload = () => router();
  const stored = doc && doc.calendars && Object.values(doc.calendars).some((c) => typeof c === 'string')
    ? (await api('GET', '/calendars')).calendars : [];
  const calTz = (cal) => {
    const c = doc && doc.calendars ? doc.calendars[cal] : null;
    if (typeof c === 'string') { const s = stored.find((x) => x.name === c); return s ? s.spec.tz : null; }
    return c ? c.tz : null;
  };
  const viewerTz = (session.me && session.me.tz) || Intl.DateTimeFormat().resolvedOptions().timeZone;

  const nodeList = h('ol', { class: 'nodes', 'aria-label': t('progress') }, nodes.nodes.map((n) =>
    h('li', { class: n.id === 'closed_unconfirmed' ? 'reached unconfirmed' : n.reached ? 'reached' : n.id === nodes.next ? 'next' : '',
      'data-node': n.id }, n.label,
      h('div', { class: 'small muted' }, n.reached_at ? fmtTime(n.reached_at) : ''))));
  const clockRows = sla.clocks.map((c) => {
    const live = ticket.clocks.find((x) => x.metric === c.metric) || c;
    const tz = calTz(c.calendar);
    return h('tr', { 'data-metric': c.metric },
      h('td', {}, metricLabel(c.metric, doc)),
      h('td', {}, clockChip(live, doc, true)),
      h('td', { class: 'num' }, fmtDur(c.target)),
      h('td', { class: 'num' }, fmtDur(c.elapsed)),
      h('td', { class: 'num' }, c.remaining < 0 ? '−' + fmtDur(-c.remaining) : fmtDur(c.remaining)),
      staff() ? h('td', { class: 'num' }, c.sri === undefined || c.sri === null ? t('none') : fmtNum(Math.round(c.sri * 10) / 10)) : null,
      h('td', {}, c.deadline ? [h('div', {}, fmtTime(c.deadline), ' ', h('span', { class: 'muted small' }, `(${t('your_time')}, ${viewerTz})`)),
        tz ? h('div', {}, fmtTime(c.deadline, tz), ' ', h('span', { class: 'muted small' }, `(${t('calendar_time', { c: c.calendar })}, ${tz})`)) : null]
        : t('none')));
  });
  const clocksTable = h('table', { id: 'clocks' }, h('thead', {}, h('tr', {},
    ['metric', 'status_wall', 'target', 'elapsed', 'remaining_work', staff() ? 'sri' : null, 'deadline'].filter(Boolean)
      .map((k) => h('th', { scope: 'col' }, t(k))))),
  h('tbody', {}, clockRows));
  const clocksNote = h('p', { class: 'small muted', id: 'clocks-note' }, t('clocks_note'));

  const timeline = h('ol', { class: 'timeline', id: 'timeline' }, evs.events.map((e) => eventLine(e, us, doc)));
  const details = h('dl', { class: 'kv' },
    h('dt', {}, t('state')), h('dd', { id: 'state' }, stateLabel(ticket.state)),
    h('dt', {}, t('level')), h('dd', {}, h('span', { class: 'badge ' + ticket.level }, ticket.level)),
    h('dt', {}, t('org')), h('dd', { id: 'org' }, nameOf(os, ticket.org_id), ticket.watch_list ? [' ', watchBadge(ticket.watch_list)] : null),
    h('dt', {}, t('category')), h('dd', {}, vocab(doc, 'categories', ticket.category)),
    h('dt', {}, t('tier')), h('dd', {}, vocab(doc, 'tiers', ticket.tier)),
    h('dt', {}, t('requester')), h('dd', { id: 'requester' }, ticket.requester_name || t('none')),
    h('dt', {}, t('col_channel')), h('dd', { id: 'channel' }, ticket.channel ? channelLabel(ticket.channel) : t('none')),
    h('dt', {}, t('assignee')), h('dd', { id: 'assignee' }, ticket.assignee_id ? ticket.assignee_name || nameOf(us, ticket.assignee_id) : t('unassigned')),
    h('dt', {}, t('created')), h('dd', {}, fmtTime(ticket.created_at)),
    h('dt', {}, t('commitment')), h('dd', {}, sla.commitment ? t('follows', sla.commitment) : t('none')),
    h('dt', {}, t('chain')), h('dd', { id: 'chain' }, chain.valid
      ? h('span', { class: 'chain-ok' }, t('chain_ok', { n: ticket.events }))
      : h('span', { class: 'chain-bad' }, t('chain_bad', { d: chain.detail }))),
    h('dt', {}, t('receipt')), h('dd', { id: 'receipt' },
      h('a', { href: `/api/v1/tickets/${id}/receipt?format=html&lang=${lang}`, target: '_blank', rel: 'noopener' }, t('receipt_print')),
      ' · ',
      h('a', { href: `/api/v1/tickets/${id}/receipt`, download: `receipt-${id}.json` }, t('receipt_json')),
      closures.length ? h('ul', { id: 'closure-receipts' }, closures.map((r) =>
        h('li', { 'data-seq': r.seq }, t('receipt_closure', { t: fmtTime(r.closed_at) }), ': ',
          r.status === 'issued'
            ? [h('a', { href: r.url, download: `receipt-${id}-${r.seq}.json` }, t('receipt_json')), ' · ',
              h('a', { href: `${r.url}&format=html&lang=${lang}`, target: '_blank', rel: 'noopener' }, t('receipt_print'))]
            : h('a', { href: r.url, download: `receipt-${id}-${r.seq}.json` }, t('receipt_pending'))))) : null));

  const side = [h('div', { class: 'card' }, h('h2', {}, t('details')), details), attachmentsCard(id, files, us, reload), watchersCard(ticket, watch, us, reload), linksCard(ticket, ls, reload)];
  const actions = [];
  const text = h('textarea', { name: 'text', required: true, 'aria-label': t('reply') });
  const internal = h('input', { type: 'checkbox', name: 'internal' });
  // time spent on the reply (staff): docs/kpi.md "Time spent and cost"
  const spent = h('input', { type: 'number', name: 'time_spent', id: 'time-spent', min: 0, max: 1440, step: 1, inputmode: 'numeric', 'aria-label': t('time_spent_min') });
  const replyFiles = filePicker('reply-files');
  // a merged duplicate's conversation goes on on the original (the banner links it)
  const canned = staff() && !ticket.merged_into ? await cannedPicker(ticket, text) : null;
  if (!ticket.merged_into) actions.push(h('div', { class: 'card' }, h('h2', {}, t('reply')), canned, form(async () => {
    const reply = { type: 'comment', text: text.value, internal: staff() && internal.checked };
    if (staff() && Number(spent.value) > 0) reply.time_spent = { minutes: Math.round(Number(spent.value)) };
    await api('POST', `/tickets/${id}/events`, reply);
    // the files go with the comment (an internal note's are internal)
    if (replyFiles.files.length) await uploadAll(id, replyFiles.files, await myLastComment(id));
    reload();
  }, text, replyFiles.el, h('div', { class: 'row' }, staff() ? h('label', { class: 'inline' }, internal, ' ', t('internal_note')) : null,
    staff() ? h('label', { class: 'inline' }, t('time_spent_min'), ' ', spent) : null,
    h('button', { type: 'submit', id: 'send-reply' }, t('send'))))));

  if (staff()) {
    const to = h('select', { name: 'to', 'aria-label': t('transition') }, (ticket.allowed_moves || []).map((s) => h('option', { value: s }, stateLabel(s))));
    const why = h('input', { name: 'reason', 'aria-label': t('reason'), placeholder: t('reason') });
    const ms = h('select', { name: 'milestone', 'aria-label': t('milestone') }, manualMilestones(doc).map((m) => h('option', { value: m }, msLabel(m))));
    const who = h('select', { name: 'assignee', 'aria-label': t('assignee') }, h('option', { value: '' }, t('unassigned')),
      us.filter((u) => u.role !== 'customer').map((u) => h('option', { value: u.id, selected: u.id === ticket.assignee_id }, u.name)));
    const team = h('select', { name: 'team', 'aria-label': t('team') }, h('option', { value: '' }, t('none')),
      ts.map((x) => h('option', { value: x.id, selected: x.id === ticket.team_id }, x.name)));
    const lvl = h('select', { name: 'level', 'aria-label': t('level') }, (doc ? doc.levels : []).map((l) =>
      h('option', { value: l.id, selected: l.id === ticket.level }, `${l.id} ${label(l)}`)));
    const lvlWhy = h('input', { name: 'level_reason', required: true, 'aria-label': t('reason'), placeholder: t('reason') });
    actions.push(h('div', { class: 'card', id: 'actions' },
      (ticket.allowed_moves || []).length ? form(async () => {
        await api('POST', `/tickets/${id}/events`, { type: 'transition', to: to.value, reason: why.value || undefined });
        reload();
      }, h('div', { class: 'row' }, h('label', {}, t('transition'), to), h('label', {}, t('reason'), why),
        h('button', { type: 'submit', id: 'move' }, t('move')))) : null,
      form(async () => {
        await api('POST', `/tickets/${id}/events`, { type: 'milestone', milestone: ms.value });
        reload();
      }, h('div', { class: 'row' }, h('label', {}, t('milestone'), ms), h('button', { type: 'submit', id: 'record-milestone' }, t('record')))),
      form(async () => {
        await api('PATCH', `/tickets/${id}`, { assignee_id: who.value ? Number(who.value) : null, team_id: team.value ? Number(team.value) : null });
        reload();
      }, h('div', { class: 'row' }, h('label', {}, t('assignee'), who), h('label', {}, t('team'), team), h('button', { type: 'submit', id: 'assign' }, t('assign')))),
      form(async () => {
        await api('PATCH', `/tickets/${id}`, { level: lvl.value, reason: lvlWhy.value });
        reload();
      }, h('div', { class: 'row' }, h('label', {}, t('level'), lvl), h('label', {}, t('reason'), lvlWhy), h('button', { type: 'submit', id: 'change-level' }, t('change_level'))))));
  }
  const edit = editCard(ticket, doc, evs.events, us, reload);
  if (edit) actions.push(edit);
  if (!staff() && ticket.state === 'feedback') {
    const why = h('input', { name: 'reason', 'aria-label': t('reject_reason'), placeholder: t('reject_reason') });
    actions.push(h('div', { class: 'card', id: 'signoff' }, h('p', { class: 'small muted' }, t('confirm_wait')), h('div', { class: 'row' },
      h('button', { type: 'button', id: 'confirm', onclick: async () => {
        await api('POST', `/tickets/${id}/events`, { type: 'transition', to: 'archived' }); reload();
      } }, t('confirm')), why,
      h('button', { type: 'button', class: 'secondary', id: 'reject', onclick: async () => {
        await api('POST', `/tickets/${id}/events`, { type: 'transition', to: 'handling', reason: why.value || undefined }); reload();
      } }, t('reject')))));
  }
  if (ticket.state === 'archived') {
    const why = h('input', { name: 'reopen_reason', 'aria-label': t('reason'), placeholder: t('reason') });
    actions.push(h('div', { class: 'card', id: 'reopen' }, !staff() && nodes.confirmation === 'timeout' ? h('p', { id: 'unconfirmed' }, t('unconfirmed')) : null, form(async () => {
      await api('POST', `/tickets/${id}/events`, { type: 'reopen', reason: why.value || undefined });
      reload();
    }, h('div', { class: 'row' }, h('label', {}, t('reason'), why), h('button', { type: 'submit', class: 'secondary', id: 'reopen-button' }, t('reopen'))))));
  }
  if (ticket.state === 'feedback' || ticket.state === 'archived') {
    // once per resolution: a rating since the last reopening (by anyone of the organisation)
    const rated = evs.events.slice(evs.events.map((e) => e.type).lastIndexOf('reopened') + 1).some((e) => e.type === 'rating');
    const sat = h('select', { name: 'satisfaction', 'aria-label': t('satisfaction') }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, '★'.repeat(n) + ` ${n}`)));
    const nps = h('input', { type: 'number', name: 'nps', min: 0, max: 10, value: 9, 'aria-label': t('nps') });
    const cm = h('input', { name: 'comment', 'aria-label': t('comment') });
    if (!staff())
      actions.push(h('div', { class: 'card', id: 'rating' }, h('h2', {}, t('rate')), rated ? h('p', {}, t('rated')) : form(async () => {
        await api('POST', `/tickets/${id}/events`, { type: 'rating', satisfaction: Number(sat.value), nps: nps.value === '' ? null : Number(nps.value), text: cm.value || undefined });
        toast(t('rated')); reload();
      }, h('div', { class: 'row' }, h('label', {}, t('satisfaction'), sat), h('label', {}, t('nps'), nps), h('label', {}, t('comment'), cm),
        h('button', { type: 'submit', id: 'rate' }, t('submit'))))));
  }
  if (staff()) {
    const tasks = (await api('GET', `/tickets/${id}/tasks`)).tasks;
    if (tasks.length) side.push(h('div', { class: 'card', id: 'tasks' }, h('h2', {}, t('tasks')), h('ul', { class: 'tasks' }, tasks.map((k) => {
      const note = h('input', { name: 'done_note', 'aria-label': t('done_note'), placeholder: t('done_note') });
      return h('li', { 'data-task': k.task, class: k.done ? 'done' : '' },
        h('div', {}, h('strong', {}, `${k.task}. `), k.note || '', ' ', h('span', { class: 'muted small' }, t('task_for', { who: nameOf(us, k.assignee_id) }))),
        k.done ? h('div', { class: 'small muted' }, `${t('task_done')} · ${fmtTime(k.done_at)} · ${nameOf(us, k.done_by)}${k.done_note ? ' · ' + k.done_note : ''}`)
          : form(async () => {
            await api('POST', `/tickets/${id}/tasks/done`, { task: k.task, note: note.value || undefined });
            reload();
          }, h('div', { class: 'row' }, note, h('button', { type: 'submit', class: 'secondary' }, t('mark_done')))));
    }))));
  }
  if (overruns.length) {
    side.push(h('div', { class: 'card', id: 'overruns' }, h('h2', {}, staff() ? t('overruns') : t('overrun_notices')),
      overruns.map((o) => overrunCard(o, us, doc, reload))));
  }
  add(main, h('h1', {}, `#${ticket.id} `, ticket.title), mergedBanner(ticket),
    h('div', { class: 'card' }, h('h2', {}, t('progress')), nodeList),
    h('div', { class: 'grid2' },
      h('div', {}, h('div', { class: 'card' }, h('h2', {}, t('clocks')), h('div', { class: 'board' }, clocksTable), clocksNote),
        actions, h('div', { class: 'card' }, h('h2', {}, t('conversation')), timeline)),
      h('div', {}, side)));
  startTicker(main);
  // live: redraw when the ticket changes, unless that would throw away what is being typed
  listen((x) => {
    if (x.id !== ticket.id || x.events === ticket.events) return;
    // the user's own change: the action that made it shows the ticket again
    if (own.writes > 0 || x.events <= (own.seq.get(x.id) || 0)) return;
    if ([...main.querySelectorAll('textarea, input[type=text], input:not([type])')].some((el) => el.value.trim() && el.value !== el.defaultValue)) {
      toast(t('changed_meanwhile'));
      ticket.events = x.events;
    } else reload();
  });
}

function overrunCard(o, us, doc, reload) {
  const box = h('div', { class: 'card', 'data-overrun': o.id },
    h('div', {}, metricLabel(o.metric, doc), ' · ', t('late_by', { d: fmtDur(o.late_by_seconds) }), ' · ', stLabel(o.state)),
    o.reason ? h('p', {}, t('reason_' + o.reason), o.note ? ` — ${o.note}` : '') : null, lossLine(o));
  if (!staff()) return box;
  if (manager()) {
    const loss = h('input', { type: 'number', name: 'loss', min: 0, step: 0.01, 'aria-label': t('loss'), value: o.loss != null ? o.loss / 100 : '' });
    add(box, form(async () => {
      await api('PATCH', `/overruns/${o.id}`, { loss: loss.value === '' ? null : Math.round(Number(loss.value) * 100) });
      reload();
    }, h('div', { class: 'row' }, h('label', {}, t('loss'), loss), h('button', { type: 'submit' }, t('loss_save')))));
  }
  const reasons = ['technology', 'staffing', 'process', 'customer', 'third_party', 'force_majeure'];
  const rs = h('select', { name: 'reason', 'aria-label': t('overrun_reason') }, reasons.map((r) => h('option', { value: r, selected: r === o.reason }, t('reason_' + r))));
  const note = h('input', { name: 'note', 'aria-label': t('note'), value: o.note || '' });
  const fu = o.followup || {};
  const rca = h('input', { name: 'rca', 'aria-label': t('rca'), value: fu.rca || '' });
  const act = h('input', { name: 'action', 'aria-label': t('action'), value: fu.action || '' });
  const owner = h('select', { name: 'owner', 'aria-label': t('owner') }, h('option', { value: '' }, t('none')),
    us.filter((u) => u.role !== 'customer').map((u) => h('option', { value: u.id, selected: u.id === fu.owner_id }, u.name)));
  const dueIn = h('input', { type: 'date', name: 'due', 'aria-label': t('due'), value: fu.due ? fu.due.slice(0, 10) : '' });
  const done = h('input', { type: 'checkbox', name: 'done', checked: !!fu.done_at });
  add(box, form(async () => {
    await api('PATCH', `/overruns/${o.id}`, { reason: rs.value, note: note.value });
    reload();
  }, h('div', { class: 'row' }, h('label', {}, t('overrun_reason'), rs), h('label', {}, t('note'), note), h('button', { type: 'submit' }, t('explain')))),
  form(async () => {
    const followup = { rca: rca.value || undefined, action: act.value || undefined, owner_id: owner.value ? Number(owner.value) : undefined,
      due: dueIn.value ? `${dueIn.value}T00:00:00Z` : undefined, done: done.checked };
    await api('PATCH', `/overruns/${o.id}`, { followup });
    reload();
  }, h('div', { class: 'row' }, h('label', {}, t('rca'), rca), h('label', {}, t('action'), act), h('label', {}, t('owner'), owner),
    h('label', {}, t('due'), dueIn), h('label', { class: 'inline' }, done, ' ', t('done')), h('button', { type: 'submit' }, t('save')))));
  return box;
}

// The customer's portal: their requests, live.
async function pagePortal(main) {
  const list = await apiAll('/tickets?sort=id&include=clocks&limit=500', 'tickets', 2000);
  list.reverse();
  const cf = await inForce();
  const doc = cf && cf.doc;
  const tbody = h('tbody', {}, list.map((x) => h('tr', { 'data-id': x.id },
    h('td', { class: 'num' }, h('a', { href: `#/t/${x.id}` }, x.id)),
    h('td', { class: 'title' }, h('a', { href: `#/t/${x.id}` }, x.title)),
    h('td', {}, stateLabel(x.state)),
    h('td', {}, h('span', { class: 'clocks' }, (x.clocks || []).filter((c) => c.status !== 'pending').map((c) => clockChip(c, doc)))),
    h('td', {}, fmtTime(x.created_at)))));
  add(main, h('h1', {}, t('my_requests')), h('p', {}, h('a', { href: '#/portal/new' }, t('new_request'))),
    list.length ? h('table', { id: 'requests' }, h('thead', {}, h('tr', {}, ['col_id', 'col_title', 'col_state', 'col_clocks', 'col_created'].map((k) => h('th', { scope: 'col' }, t(k))))), tbody)
      : h('p', { class: 'muted' }, t('no_requests')));
  startTicker(main);
  listen(() => router());
}

async function pageNewRequest(main) {
  const cf = await inForce();
  const doc = cf ? cf.doc : { levels: [], categories: [] };
  const title = h('input', { name: 'title', required: true, maxlength: 500 });
  const desc = h('textarea', { name: 'description' });
  const cat = h('select', { name: 'category' }, (doc.categories || []).map((c) => h('option', { value: c.id }, label(c))));
  const lvl = h('select', { name: 'level' }, doc.levels.map((l, i) => h('option', { value: l.id, selected: i === doc.levels.length - 2 }, label(l))));
  const newFiles = filePicker('request-files');
  add(main, h('h1', {}, t('new_request')), h('div', { class: 'card' }, form(async () => {
    const body = { title: oneLine(title.value), level: lvl.value };
    if (cat.value) body.category = cat.value;
    const x = await api('POST', '/tickets', body);
    if (desc.value.trim()) await api('POST', `/tickets/${x.id}/events`, { type: 'comment', text: desc.value });
    if (newFiles.files.length) await uploadAll(x.id, newFiles.files, desc.value.trim() ? await myLastComment(x.id) : null);
    toast(t('submitted', { id: x.id }));
    location.hash = `#/t/${x.id}`;
  }, h('label', {}, t('title'), title), h('label', {}, t('description'), desc), newFiles.el,
  h('div', { class: 'row' }, h('label', {}, t('category'), cat), h('label', {}, t('urgency'), lvl)),
  h('p', {}, h('button', { type: 'submit', id: 'submit-request' }, t('submit'))))));
  title.focus();
}

// ---- the ticket list and search ----

function channelLabel(c) { return STRINGS.en['ch_' + c] ? t('ch_' + c) : c; }

// text as nodes, with each occurrence of a word of the search in a <mark>:
// the text stays text (h() never parses HTML), so a title with markup in it
// is shown as typed and only the matches are marked.
function highlighted(text, q) {
  const words = (q || '').split(/[\s\u3000]+/).filter(Boolean)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (!words.length || !text) return text || '';
  const re = new RegExp(words.join('|'), 'giu');
  const out = [];
  let at = 0;
  for (const m of text.matchAll(re)) {
    if (!m[0]) continue;
    if (m.index > at) out.push(text.slice(at, m.index));
    out.push(h('mark', {}, m[0]));
    at = m.index + m[0].length;
  }
  out.push(text.slice(at));
  return out;
}

// The end of the viewer's day, as an instant: "due today" is due before it.
function endOfToday() {
  const d = new Date();
  d.setHours(24, 0, 0, 0);
  return d.toISOString();
}

// The views of the list: the filters each puts in the query.
const VIEWS = {
  open: { state: 'open' }, resolved: { state: 'resolved' }, closed: { state: 'closed' }, all: {},
  mine: { state: 'open', assignee_id: 'me' }, unassigned: { state: 'open', assignee_id: 'none' },
  breached: { state: 'open', breached: 'true' }, due_today: { state: 'open', due_before: endOfToday },
};

// In-app notifications for staff (#/inbox and the badge in the menu).
Object.assign(STRINGS.en, {
  inbox: 'Inbox', inbox_title: 'Your notifications', inbox_empty: 'Nothing here yet.', unread_n: '{n} unread',
  n_assigned: 'Assigned to you', n_sla_warning: 'SLA warning', n_sla_breach: 'SLA breached', n_customer_reply: 'Customer replied',
  mark_read: 'Mark read', mark_all_read: 'Mark all read', only_unread: 'Only unread', by_system: 'Keepword',
  inbox_badge: '{n} unread notifications',
});
Object.assign(STRINGS.zh, {
  inbox: '提醒', inbox_title: '我的提醒', inbox_empty: '暂无提醒。', unread_n: '{n} 条未读',
  n_assigned: '分派给您', n_sla_warning: 'SLA 预警', n_sla_breach: 'SLA 已超时', n_customer_reply: '客户已回复',
  mark_read: '标为已读', mark_all_read: '全部标为已读', only_unread: '仅看未读', by_system: 'Keepword 系统',
  inbox_badge: '{n} 条未读提醒',
});
let badgeTimer = null;
// The unread count beside Inbox in the menu: read now, or soon after a burst of changes.
function refreshBadge(soon) {
  if (!session.me) return;
  if (soon) { clearTimeout(badgeTimer); badgeTimer = setTimeout(() => refreshBadge(false), 400); return; }
  call('GET', '/notifications?unread=true&limit=1').then((r) => {
    const b = document.getElementById('inbox-badge');
    if (!b) return;
    b.textContent = r.unread > 99 ? '99+' : String(r.unread);
    b.hidden = r.unread === 0;
    b.setAttribute('aria-label', t('inbox_badge', { n: r.unread }));
  }).catch(() => {});
}

async function pageInbox(main, query) {
  const p = new URLSearchParams(query || '');
  const unreadOnly = p.get('unread') === 'true';
  const r = await api('GET', '/notifications?limit=100' + (unreadOnly ? '&unread=true' : ''));
  const list = h('ul', { class: 'inbox', id: 'inbox' });
  const head = h('p', { class: 'small muted', id: 'unread' }, t('unread_n', { n: r.unread }));
  const mark = async (body) => {
    const m = await api('POST', '/notifications/read', body);
    head.textContent = t('unread_n', { n: m.unread });
    refreshBadge(false);
  };
  for (const n of r.notifications) {
    const li = h('li', { class: n.read ? 'read' : 'unread', 'data-id': n.id },
      h('div', { class: 'row' },
        h('span', { class: 'badge kind ' + n.kind }, t('n_' + n.kind)),
        h('a', { href: `#/t/${n.ticket_id}`, onclick: () => { if (!n.read) mark({ ids: [n.id] }); } }, `#${n.ticket_id} ${n.title}`),
        h('span', { class: 'small muted' }, `${n.actor_name || t('by_system')} · ${fmtTime(n.at)}`),
        n.read ? null : h('button', { type: 'button', class: 'secondary mark', onclick: async (e) => {
          await mark({ ids: [n.id] }); li.className = 'read'; e.target.remove(); } }, t('mark_read'))),
      n.detail ? h('p', { class: 'small detail' }, n.kind.startsWith('sla_') ? metricLabel(n.detail, null) : n.kind === 'state' ? stateLabel(n.detail) : n.detail) : null);
    list.append(li);
  }
  add(main, h('h1', {}, t('inbox_title')), head,
    h('div', { class: 'row' },
      h('label', { class: 'inline' }, h('input', { type: 'checkbox', id: 'only-unread', checked: unreadOnly,
        onchange: (e) => { location.hash = '#/inbox' + (e.target.checked ? '?unread=true' : ''); } }), t('only_unread')),
      h('button', { type: 'button', id: 'mark-all', class: 'secondary', onclick: async () => {
        await mark({ all: true });
        for (const li of list.querySelectorAll('li.unread')) { li.className = 'read'; li.querySelector('button.mark')?.remove(); }
      } }, t('mark_all_read'))),
    r.notifications.length ? list : h('p', { class: 'muted' }, t('inbox_empty')));
  listen(() => { refreshBadge(true); clearTimeout(pageInbox.timer); pageInbox.timer = setTimeout(() => { if (location.hash.startsWith('#/inbox')) router(); }, 800); });
}

// Saved views, columns and bulk changes on the ticket list.
Object.assign(STRINGS.en, {
  saved_views: 'Saved views', saved_none: '— a saved view —', save_view: 'Save view…', view_name: 'Name of the view',
  share_team: 'Share with team', share_none: 'Only me', update_view: 'Save changes to “{n}”', delete_view: 'Delete “{n}”',
  view_saved: 'View “{n}” saved', view_deleted: 'View “{n}” deleted', shared_by: 'shared', columns: 'Columns',
  col_channel: 'Channel', col_category: 'Category', col_requester: 'Requester', select_all: 'Select every ticket shown',
  select_one: 'Select ticket #{id}', bulk_n: '{n} selected', bulk_assign: 'Assign to', bulk_move: 'Move to',
  bulk_level: 'Level', bulk_reason: 'Reason (optional)', bulk_apply: 'Apply to selected', bulk_keep: '— keep —',
  bulk_done: 'Changed {n} tickets.', bulk_refused: '#{id} not changed: {d}', bulk_pick: 'Choose what to change first.',
  refuse_not_found: 'no such ticket', refuse_move_not_allowed: 'a ticket in “{s}” cannot move to “{to}”',
  refuse_level_unknown: 'its commitment has no level {lv}', refuse_assignee_unknown: 'no such person to assign',
  refuse_assignee_not_staff: 'tickets are assigned to staff, not customers', refuse_team_unknown: 'no such team',
  refuse_forbidden: 'you may not change it',
});
Object.assign(STRINGS.zh, {
  saved_views: '已保存视图', saved_none: '— 选择已保存视图 —', save_view: '保存视图…', view_name: '视图名称',
  share_team: '共享给团队', share_none: '仅自己', update_view: '保存对“{n}”的修改', delete_view: '删除“{n}”',
  view_saved: '视图“{n}”已保存', view_deleted: '视图“{n}”已删除', shared_by: '共享', columns: '显示列',
  col_channel: '渠道', col_category: '类别', col_requester: '请求人', select_all: '选择显示的全部工单',
  select_one: '选择工单 #{id}', bulk_n: '已选 {n} 个', bulk_assign: '分派给', bulk_move: '转为状态',
  bulk_level: '级别', bulk_reason: '原因（可选）', bulk_apply: '应用到所选工单', bulk_keep: '— 不变 —',
  bulk_done: '已修改 {n} 个工单。', bulk_refused: '#{id} 未修改：{d}', bulk_pick: '请先选择要修改的内容。',
  refuse_not_found: '工单不存在', refuse_move_not_allowed: '处于“{s}”的工单不能转为“{to}”',
  refuse_level_unknown: '其服务承诺中没有级别 {lv}', refuse_assignee_unknown: '要分派的人不存在',
  refuse_assignee_not_staff: '工单只能分派给服务方人员，不能分派给客户', refuse_team_unknown: '团队不存在',
  refuse_forbidden: '你无权修改该工单',
});
// A bulk refusal in the reader's language from its stable code (the server's detail otherwise).
function refusal(x, body) {
  const key = 'refuse_' + x.code;
  if (!x.code || !STRINGS.en[key]) return x.detail;
  return t(key, { s: x.state ? stateLabel(x.state) : '', to: body.state ? stateLabel(body.state) : '', lv: body.level || '' });
}
// The page's parameters and a saved view's filters (GET /tickets names).
const VIEW_PARAMS = { view: 'view', q: 'q', team: 'team_id', level: 'level', org: 'org_id', assignee: 'assignee_id',
  category: 'category', state: 'state', breached: 'breached' };
const SERVER_SORTS = ['id', 'title', 'state', 'level', 'due', 'updated', 'created'];
const DEFAULT_COLS = ['id', 'title', 'org', 'level', 'state', 'assignee', 'due', 'updated'];

// #/tickets?q=&view=&team=&level=&org=&assignee=&category=&sort=&dir=&cols=&saved=:
// every state's tickets, a search, filters; sorted by the server for the
// columns it sorts, the others over what is loaded; saved views; and, for
// staff, bulk changes on the tickets selected. The page's state is in its
// address, so a view can be bookmarked or shared.
async function pageTickets(main, query) {
  const p = new URLSearchParams(query || '');
  const [os, us, ts, cf, saved] = await Promise.all([staff() ? orgs() : [], staff() ? users() : [], teams(), inForce(),
    staff() ? api('GET', '/views').then((r) => r.views) : []]);
  const doc = cf && cf.doc;
  const q = (p.get('q') || '').trim();
  const view = VIEWS[p.get('view')] ? p.get('view') : (q ? 'all' : 'open');
  const go = (changes) => {
    const n = new URLSearchParams(p);
    for (const [k, v] of Object.entries(changes)) { if (v) n.set(k, v); else n.delete(k); }
    if (!n.get('q')) n.delete('q');
    location.hash = '#/tickets' + (n.toString() ? '?' + n.toString() : '');
  };
  const dir = p.get('dir') === 'desc' ? -1 : 1;
  const serverSort = !q && SERVER_SORTS.includes(p.get('sort'));
  const api_q = new URLSearchParams({ include: 'clocks', limit: '100' });
  for (const [k, v] of Object.entries(VIEWS[view])) api_q.set(k, typeof v === 'function' ? v() : v);
  if (q) api_q.set('q', q);
  else if (serverSort) api_q.set('sort', (dir < 0 ? '-' : '') + p.get('sort'));
  else api_q.set('sort', view === 'closed' || view === 'all' || view === 'resolved' ? 'id' : 'due');
  const pick = { team: 'team_id', level: 'level', org: 'org_id', assignee: 'assignee_id', category: 'category', state: 'state', breached: 'breached' };
  for (const [k, a] of Object.entries(pick)) if (p.get(k) && (staff() || k === 'category' || k === 'level' || k === 'state')) api_q.set(a, p.get(k));
  const list = [];
  let next = null;
  async function fetchPage() {
    const qs = new URLSearchParams(api_q);
    if (next !== null) qs.set('after', next);
    const r = await api('GET', '/tickets?' + qs.toString());
    list.push(...r.tickets);
    next = r.next;
  }
  await fetchPage();

  // the search box
  const box = h('input', { type: 'search', name: 'q', id: 'search', value: q, maxlength: 200,
    'aria-label': t('search_label'), placeholder: t('search_label') });
  const searchForm = h('form', { role: 'search', class: 'row search', onsubmit: (e) => { e.preventDefault(); go({ q: box.value.trim(), view: null }); } },
    box, h('button', { type: 'submit', id: 'search-go' }, t('search')),
    q ? h('button', { type: 'button', class: 'secondary', onclick: () => go({ q: null }) }, t('clear_search')) : null);
  // the views, as buttons that say which is on
  const views = staff() ? Object.keys(VIEWS) : ['open', 'resolved', 'closed', 'all'];
  const viewBar = h('div', { class: 'counters views', role: 'group', 'aria-label': t('view') }, views.map((v) =>
    h('button', { type: 'button', class: 'counter' + (v === view ? ' on' : ''), 'data-view': v, 'aria-pressed': v === view ? 'true' : 'false',
      onclick: () => go({ view: v }) }, h('span', {}, t('view_' + v)))));
  const sel = (key, opts, text) => h('label', {}, text, h('select', { name: key, onchange: (e) => go({ [key]: e.target.value }) },
    h('option', { value: '' }, t('any')), opts.map(([v, l]) => h('option', { value: v, selected: p.get(key) === String(v) }, l))));
  const cats = (doc && doc.categories) || [];
  const levels = doc ? doc.levels : [];
  const staffList = us.filter((u) => u.role !== 'customer');
  const filters = h('div', { class: 'row filters' },
    staff() ? sel('team', ts.map((x) => [x.id, x.name]), t('filter_team')) : null,
    sel('level', levels.map((l) => [l.id, label(l)]), t('filter_level')),
    staff() ? sel('org', os.map((x) => [x.id, x.name]), t('filter_org')) : null,
    staff() ? sel('assignee', [['none', t('unassigned')], ['me', t('view_mine')]].concat(
      staffList.map((u) => [u.id, u.name])), t('filter_assignee')) : null,
    cats.length ? sel('category', cats.map((c) => [c.id, label(c)]), t('filter_category')) : null);

  // saved views: open one, save this page as one, change or delete it
  const current = saved.find((v) => String(v.id) === p.get('saved'));
  const openView = (v) => {
    const n = new URLSearchParams();
    for (const [k, a] of Object.entries(VIEW_PARAMS)) if (v.filters && v.filters[a] !== undefined) n.set(k, String(v.filters[a]));
    if (v.sort) { n.set('sort', v.sort.replace(/^-/, '')); if (v.sort.startsWith('-')) n.set('dir', 'desc'); }
    if (v.columns && v.columns.length) n.set('cols', v.columns.join(','));
    n.set('saved', v.id);
    location.hash = '#/tickets?' + n.toString();
  };
  const thisView = () => {
    const f = {};
    for (const [k, a] of Object.entries(VIEW_PARAMS)) if (p.get(k)) f[a] = p.get(k);
    return { filters: f, sort: p.get('sort') ? (dir < 0 ? '-' : '') + p.get('sort') : null,
      columns: p.get('cols') ? p.get('cols').split(',').filter(Boolean) : [] };
  };
  let savedBar = null;
  if (staff()) {
    const choose = h('select', { id: 'saved-view', 'aria-label': t('saved_views'), onchange: (e) => {
      const v = saved.find((x) => String(x.id) === e.target.value); if (v) openView(v); } },
    h('option', { value: '' }, t('saved_none')),
    saved.map((v) => h('option', { value: v.id, selected: current && current.id === v.id },
      v.shared ? `${v.name} (${t('shared_by')}: ${nameOf(ts, v.team_id)})` : v.name)));
    const msg = h('span', { class: 'small muted', role: 'status' });
    const name = h('input', { name: 'view_name', id: 'view-name', maxlength: 80, required: true, 'aria-label': t('view_name'), placeholder: t('view_name') });
    const myTeams = manager() ? ts : ts.filter((x) => x.id === session.me.team_id);
    const share = h('select', { name: 'view_team', id: 'view-team', 'aria-label': t('share_team') },
      h('option', { value: '' }, t('share_none')), myTeams.map((x) => h('option', { value: x.id }, `${t('share_team')}: ${x.name}`)));
    const saveForm = h('form', { class: 'row', id: 'save-view', hidden: true, onsubmit: async (e) => {
      e.preventDefault();
      saveForm.querySelector('.problem')?.remove();
      try {
        const v = await api('POST', '/views', { name: name.value.trim(), team_id: share.value ? Number(share.value) : null, ...thisView() });
        toast(t('view_saved', { n: v.name }));
        go({ saved: String(v.id) });
      } catch (err) { saveForm.append(problemBox(err)); }
    } }, name, share, h('button', { type: 'submit' }, t('save')));
    savedBar = h('div', { class: 'row saved-views' }, h('label', {}, t('saved_views'), choose),
      h('button', { type: 'button', class: 'secondary', id: 'save-view-open', onclick: () => { saveForm.hidden = !saveForm.hidden; if (!saveForm.hidden) name.focus(); } }, t('save_view')),
      current && current.editable ? h('button', { type: 'button', class: 'secondary', id: 'update-view', onclick: async () => {
        try { await api('PATCH', `/views/${current.id}`, thisView()); toast(t('view_saved', { n: current.name })); } catch (err) { msg.textContent = err.message; }
      } }, t('update_view', { n: current.name })) : null,
      current && current.editable ? h('button', { type: 'button', class: 'secondary', id: 'delete-view', onclick: async () => {
        try { await api('DELETE', `/views/${current.id}`); toast(t('view_deleted', { n: current.name })); go({ saved: null }); } catch (err) { msg.textContent = err.message; }
      } }, t('delete_view', { n: current.name })) : null, msg, saveForm);
  }

  // the columns: [key, label, sort value, cell]
  const allCols = [
    ['id', 'col_id', (x) => x.id, (x) => h('td', { class: 'num' }, h('a', { href: `#/t/${x.id}` }, x.id))],
    ['title', 'col_title', (x) => x.title, (x) => h('td', { class: 'title' }, h('a', { href: `#/t/${x.id}` }, highlighted(x.title, q)),
      x.match && x.match !== x.title ? h('div', { class: 'match small muted' }, highlighted(x.match, q)) : null)],
    staff() ? ['org', 'col_org', (x) => nameOf(os, x.org_id), (x) => h('td', {}, nameOf(os, x.org_id))] : null,
    ['level', 'col_level', (x) => x.level, (x) => h('td', {}, h('span', { class: 'badge ' + x.level }, x.level))],
    ['state', 'col_state', (x) => stateLabel(x.state), (x) => h('td', {}, stateLabel(x.state))],
    staff() ? ['assignee', 'col_assignee', (x) => (x.assignee_id ? nameOf(us, x.assignee_id) : ''),
      (x) => h('td', {}, x.assignee_id ? nameOf(us, x.assignee_id) : h('span', { class: 'muted' }, t('unassigned')))] : null,
    ['due', 'col_due', (x) => (x.due_at ? Date.parse(x.due_at) : Infinity),
      (x) => h('td', {}, h('span', { class: 'clocks' }, (x.clocks || []).filter((c) => c.status === 'running' || c.status === 'breached').slice(0, 1).map((c) => clockChip(c, doc))))],
    ['updated', 'col_updated', (x) => Date.parse(x.updated_at), (x) => h('td', { class: 'num' }, fmtTime(x.updated_at))],
    ['created', 'col_created', (x) => Date.parse(x.created_at), (x) => h('td', { class: 'num' }, fmtTime(x.created_at))],
    ['channel', 'col_channel', (x) => x.channel || '', (x) => h('td', {}, x.channel ? channelLabel(x.channel) : '')],
    ['category', 'col_category', (x) => x.category || '', (x) => h('td', {}, x.category ? label(cats.find((c) => c.id === x.category)) || x.category : '')],
    staff() ? ['requester', 'col_requester', (x) => (x.requester_id ? nameOf(us, x.requester_id) : ''), (x) => h('td', {}, x.requester_id ? nameOf(us, x.requester_id) : '')] : null,
  ].filter(Boolean);
  const wanted = p.get('cols') ? p.get('cols').split(',') : DEFAULT_COLS;
  const cols = wanted.map((k) => allCols.find((c) => c[0] === k)).filter(Boolean);
  if (!cols.length) cols.push(...allCols.filter((c) => DEFAULT_COLS.includes(c[0])));
  const colPicker = h('details', { class: 'columns' }, h('summary', {}, t('columns')),
    h('div', { class: 'row' }, allCols.map(([k, key]) => h('label', { class: 'inline' },
      h('input', { type: 'checkbox', name: 'col', value: k, checked: cols.some((c) => c[0] === k), onchange: () => {
        const on = allCols.map((c) => c[0]).filter((c) => colPicker.querySelector(`input[value="${c}"]`).checked);
        go({ cols: on.length ? on.join(',') : null });
      } }), t(key)))));
  // loaded rows are sorted here for what the server does not sort (a search, organisation, assignee...)
  const sortKey = !serverSort ? cols.find((c) => c[0] === p.get('sort')) : null;
  const onKey = p.get('sort');
  // bulk selection (staff)
  const chosen = new Set();
  const bulkCount = h('span', { class: 'small', id: 'bulk-count' });
  const allBox = staff() ? h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('select_all'), onchange: (e) => {
    for (const b of tbody.querySelectorAll('input.pick')) { b.checked = e.target.checked; if (b.checked) chosen.add(Number(b.value)); else chosen.delete(Number(b.value)); }
    bulkCount.textContent = t('bulk_n', { n: chosen.size });
  } }) : null;
  const tbody = h('tbody');
  const thead = h('thead', {}, h('tr', {}, staff() ? h('th', { class: 'pick' }, allBox) : null, cols.map(([k, key]) => {
    const on = onKey === k;
    return h('th', { scope: 'col', 'aria-sort': on ? (dir > 0 ? 'ascending' : 'descending') : null },
      h('button', { type: 'button', class: 'sort', 'data-sort': k, title: t('sort_by', { c: t(key) }),
        onclick: () => go({ sort: k, dir: on && dir > 0 ? 'desc' : null }) }, t(key), on ? (dir > 0 ? ' ▲' : ' ▼') : ''));
  })));
  const count = h('p', { class: 'small muted', id: 'count' });
  const more = h('button', { type: 'button', class: 'secondary', id: 'more', onclick: async () => { await fetchPage(); paint(); } }, t('load_more'));
  function paint() {
    const rows = sortKey ? list.slice().sort((a, b) => {
      const x = sortKey[2](a), y = sortKey[2](b);
      return (x < y ? -1 : x > y ? 1 : 0) * dir || a.id - b.id;
    }) : list;
    clear(tbody).append(...rows.map((x) => h('tr', { 'data-id': x.id, class: x.breached ? 'breached' : null },
      staff() ? h('td', { class: 'pick' }, h('input', { type: 'checkbox', class: 'pick', value: x.id, checked: chosen.has(x.id),
        'aria-label': t('select_one', { id: x.id }), onchange: (e) => {
          if (e.target.checked) chosen.add(x.id); else chosen.delete(x.id);
          bulkCount.textContent = t('bulk_n', { n: chosen.size });
        } })) : null,
      cols.map((c) => c[3](x)))));
    if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: cols.length + (staff() ? 1 : 0), class: 'muted' }, t('no_matches'))));
    count.textContent = t('shown_n', { n: fmtNum(list.length) });
    more.hidden = next === null;
  }
  paint();

  // bulk changes on the selected tickets: each ticket's own events; who was refused, and why
  let bulkBar = null;
  if (staff()) {
    const who = h('select', { name: 'bulk_assignee', id: 'bulk-assignee' }, h('option', { value: '' }, t('bulk_keep')),
      h('option', { value: 'none' }, t('unassigned')), staffList.map((u) => h('option', { value: u.id }, u.name)));
    const to = h('select', { name: 'bulk_state', id: 'bulk-state' }, h('option', { value: '' }, t('bulk_keep')),
      catalogue.states.filter((x) => x.id !== 'registered').map((x) => h('option', { value: x.id }, label(x))));
    const lvl = h('select', { name: 'bulk_level', id: 'bulk-level' }, h('option', { value: '' }, t('bulk_keep')),
      levels.map((l) => h('option', { value: l.id }, label(l))));
    const why = h('input', { name: 'bulk_reason', maxlength: 2000, placeholder: t('bulk_reason'), 'aria-label': t('bulk_reason') });
    const out = h('div', { id: 'bulk-result', role: 'status' });
    bulkCount.textContent = t('bulk_n', { n: 0 });
    bulkBar = h('form', { class: 'row bulk', id: 'bulk', onsubmit: async (e) => {
      e.preventDefault();
      clear(out);
      const body = { ids: [...chosen] };
      if (who.value) body.assignee_id = who.value === 'none' ? null : Number(who.value);
      if (to.value) body.state = to.value;
      if (lvl.value) body.level = lvl.value;
      if (why.value.trim()) body.reason = why.value.trim();
      if (!body.ids.length || Object.keys(body).length === 1 || (Object.keys(body).length === 2 && body.reason)) { out.append(h('p', { class: 'problem' }, t('bulk_pick'))); return; }
      try {
        const r = await api('POST', '/tickets/bulk', body);
        const refused = r.results.filter((x) => x.status !== 200);
        add(out, h('p', {}, t('bulk_done', { n: r.done })),
          refused.length ? h('ul', { class: 'problem' }, refused.map((x) => h('li', {}, t('bulk_refused', { id: x.id, d: refusal(x, body) })))) : null);
        for (const x of r.results) {
          const row = list.find((y) => y.id === x.id);
          if (row && x.status === 200) Object.assign(row, { state: x.state, level: x.level, assignee_id: x.assignee_id, team_id: x.team_id });
        }
        chosen.clear();
        who.value = to.value = lvl.value = why.value = '';
        if (allBox) allBox.checked = false;
        bulkCount.textContent = t('bulk_n', { n: 0 });
        paint();
      } catch (err) { out.append(problemBox(err)); }
    } }, bulkCount, h('label', {}, t('bulk_assign'), who), h('label', {}, t('bulk_move'), to), h('label', {}, t('bulk_level'), lvl), why,
    h('button', { type: 'submit', id: 'bulk-apply' }, t('bulk_apply')), out);
  }
  add(main, h('h1', {}, q ? t('searching_for', { q }) : (current ? current.name : t('tickets'))),
    searchForm, h('p', { class: 'small muted' }, t(staff() ? 'search_hint' : 'search_hint_customer')), viewBar, savedBar, filters, colPicker, bulkBar,
    h('div', { class: 'board' }, h('table', { id: 'tickets' }, thead, tbody)), count, h('p', {}, more));
  startTicker(tbody);
}

// A ticket logged by staff for a customer who called, came by, chatted,
// wrote, or whose monitoring raised an alert.
async function pageNewTicket(main) {
  const [os, us, cf] = await Promise.all([orgs(), users(), inForce()]);
  const doc = cf ? cf.doc : { levels: [], categories: [] };
  const org = h('select', { name: 'org_id', required: true }, h('option', { value: '' }, '—'), os.map((o) => h('option', { value: o.id }, o.name)));
  const requester = h('select', { name: 'requester_id' });
  const fillRequesters = () => {
    clear(requester).append(h('option', { value: '' }, t('no_requester')),
      ...us.filter((u) => u.role === 'customer' && String(u.org_id) === org.value).map((u) => h('option', { value: u.id }, `${u.name} <${u.email}>`)));
    if (requester.options.length > 1) requester.selectedIndex = 1;
  };
  org.addEventListener('change', fillRequesters);
  fillRequesters();
  const channel = h('select', { name: 'channel' }, CHANNELS.map((c) => h('option', { value: c }, channelLabel(c))));
  const title = h('input', { name: 'title', required: true, maxlength: 500 });
  const desc = h('textarea', { name: 'description' });
  const cat = h('select', { name: 'category' }, h('option', { value: '' }, t('none')), (doc.categories || []).map((c) => h('option', { value: c.id }, label(c))));
  const lvl = h('select', { name: 'level' }, doc.levels.map((l, i) => h('option', { value: l.id, selected: i === doc.levels.length - 2 }, label(l))));
  const regions = doc.regions || [];
  const region = regions.length ? h('select', { name: 'region' }, h('option', { value: '' }, t('none')),
    regions.map((r) => h('option', { value: typeof r === 'string' ? r : r.id }, typeof r === 'string' ? r : label(r)))) : null;
  add(main, h('h1', {}, t('new_ticket')), h('p', { class: 'muted' }, t('new_ticket_hint')), h('div', { class: 'card' }, form(async () => {
    const body = { org_id: Number(org.value), channel: channel.value, title: oneLine(title.value), level: lvl.value };
    if (requester.value) body.requester_id = Number(requester.value);
    if (cat.value) body.category = cat.value;
    if (region && region.value) body.region = region.value;
    if (desc.value.trim()) body.description = desc.value;
    const x = await api('POST', '/tickets', body);
    toast(t('logged', { id: x.id }));
    location.hash = `#/t/${x.id}`;
  }, h('div', { class: 'row' }, h('label', {}, t('org'), org), h('label', {}, t('requester'), requester), h('label', {}, t('channel'), channel)),
  h('label', {}, t('title'), title), h('label', {}, t('description_logged'), desc),
  h('div', { class: 'row' }, h('label', {}, t('category'), cat), h('label', {}, t('level'), lvl), region ? h('label', {}, t('region'), region) : null),
  h('p', {}, h('button', { type: 'submit', id: 'log-ticket' }, t('log_ticket'))))));
  org.focus();
}

// ---- administration ----

// A version number one step on: "2026.1" -> "2026.2", "3" -> "4", else "" (the user chooses).
function nextVersion(v, taken) {
  const m = /^(.*?)(\d+)$/.exec(v || '');
  if (!m) return '';
  for (let n = Number(m[2]) + 1; n < Number(m[2]) + 100; n++)
    if (!taken.has(m[1] + n)) return m[1] + n;
  return '';
}

// A datetime-local value ("2026-12-01T00:00") for the instant t in the viewer's zone.
function localInput(t) {
  const d = new Date(t), p2 = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}`;
}

// Commitments: the versions; the one selected shows its whole letter and is
// the starting point of the next version, whose number and effective date
// are set in the two fields above the document (not inside it).
async function pageCommitments(main, wanted) {
  const list = await api('GET', '/commitments');
  const open = await apiAll('/tickets?state=open&limit=500', 'tickets', 20000);
  const counts = open.reduce((m, x) => m.set(x.commitment_id, (m.get(x.commitment_id) || 0) + 1), new Map());
  const taken = new Set(list.commitments.map((c) => c.version));
  const letter = h('div', { class: 'letter card', id: 'letter' });
  const basis = h('p', { class: 'small muted', id: 'editing' });
  const done = h('p', { id: 'published', role: 'status' });
  const diff = h('section', { id: 'diff', 'aria-live': 'polite' });
  let diffTimer = null, diffSeq = 0;
  // what publishing would change against the version in force, checked
  // by the server a moment after each edit
  const review = () => {
    // an edit answers the last refusal: its message goes
    for (const old of document.querySelectorAll('#main form > div > .problem')) old.remove();
    clearTimeout(diffTimer);
    diffTimer = setTimeout(async () => {
      const seq = ++diffSeq, against = list.in_force || (selected && selected.id);
      if (!against) return;
      clear(diff).append(h('h3', {}, t('ce_diff')), h('p', { class: 'muted' }, t('ce_checking')));
      let body;
      try { body = draftDoc(); } catch (e) { if (seq === diffSeq) clear(diff).append(h('h3', {}, t('ce_diff')), problemBox(e)); return; }
      try {
        const [r, from] = await Promise.all([api('POST', `/commitments/${against}/diff`, body), commitmentDoc(against)]);
        if (seq === diffSeq) add(clear(diff), h('h3', {}, t('ce_diff')), diffList(r, from, body));
      } catch (e) { if (seq === diffSeq) clear(diff).append(h('h3', {}, t('ce_diff')), problemBox(e)); }
    }, 350);
  };
  const editor = commitmentEditor(review);
  const version = h('input', { name: 'version', required: true, 'aria-label': t('version') });
  const eff = h('input', { type: 'datetime-local', name: 'effective_from', required: true, 'aria-label': t('effective'), oninput: review });
  version.addEventListener('input', review);
  const draftDoc = () => {
    const d = editor.value();
    d.version = version.value.trim() || 'draft';
    d.effective_from = eff.value ? new Date(eff.value).toISOString() : (selected && selected.effective_from);
    return d;
  };
  const rows = new Map();
  let selected = null;
  async function select(id) {
    const c = list.commitments.find((x) => x.id === id);
    if (!c) return;
    selected = c;
    for (const [rid, tr] of rows) {
      tr.classList.toggle('select-row', rid === id);
      tr.setAttribute('aria-selected', rid === id ? 'true' : 'false');
    }
    const [html, d] = await Promise.all([api('GET', `/commitments/${id}/letter?lang=${lang}&format=html`), commitmentDoc(id)]);
    if (selected !== c) return; // another was chosen meanwhile
    clear(letter).append(safeHtml(html));
    // the version and the date live in their own fields: the document holds the rest
    const rest = Object.assign({}, d);
    delete rest.version;
    delete rest.effective_from;
    editor.set(rest);
    version.value = nextVersion(c.version, taken);
    eff.value = localInput(Math.max(Date.now(), Date.parse(c.effective_from)) + 86400000).slice(0, 11) + '00:00';
    basis.textContent = t('editing_version', { v: c.version });
    review();
  }
  add(main, h('h1', {}, t('commitments')),
    h('table', { id: 'versions' }, h('thead', {}, h('tr', {}, [t('name'), t('version'), t('effective'), t('tickets_following'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.commitments.map((c) => {
        const tr = h('tr', { 'data-id': c.id },
          h('td', {}, c.name, c.id === list.in_force ? [' ', h('span', { class: 'badge' }, t('in_force'))] : ''),
          h('td', {}, c.version), h('td', {}, fmtTime(c.effective_from)), h('td', { class: 'num' }, fmtNum(counts.get(c.id) || 0)),
          h('td', {}, h('button', { type: 'button', class: 'secondary', 'data-open': c.version, onclick: () => select(c.id) }, t('open_version'))));
        rows.set(c.id, tr);
        return tr;
      }))),
    done,
    h('h2', {}, t('letter')), letter,
    h('h2', {}, t('upload')), h('div', { class: 'card' }, form(async () => {
      const d = editor.value();
      d.version = version.value.trim();
      d.effective_from = new Date(eff.value).toISOString();
      const r = await api('POST', '/commitments', d);
      session.cache.delete('commitments');
      const msg = t('published', { name: r.name, v: r.version, d: fmtTime(r.effective_from) });
      toast(msg);
      location.hash = `#/admin/commitments/${r.id}`;
      sessionStorage.setItem('kw.published', msg);
    }, basis, h('div', { class: 'row' }, h('label', {}, t('version'), version), h('label', {}, t('effective'), eff)),
    editor.el, diff, h('p', {}, h('button', { type: 'submit', id: 'publish' }, t('publish'))))));
  const note = sessionStorage.getItem('kw.published');
  if (note) { done.textContent = note; done.className = 'ok'; sessionStorage.removeItem('kw.published'); }
  const first = Number(wanted) || list.in_force || (list.commitments[0] && list.commitments[0].id);
  if (first) await select(first);
}

// ---- the commitment editor: levels, metrics and the targets table, with
// the JSON for everything else; both views edit one draft ----

Object.assign(STRINGS.en, {
  ce_table: 'Levels, metrics and targets', ce_json: 'JSON (everything)', ce_levels: 'Levels', ce_metrics: 'Metrics',
  ce_targets: 'Targets', ce_targets_help: 'For each metric, the first rule from the top whose conditions hold sets the target and its calendar. Leave a condition empty for any value, a target empty for none.',
  ce_id: 'ID', ce_label_zh: 'Label (中文)', ce_label_en: 'Label (English)', ce_remove: 'Remove', ce_up: 'Move up', ce_down: 'Move down',
  ce_add_level: 'Add a level', ce_add_metric: 'Add a metric', ce_add_rule: 'Add a rule', ce_rule: 'Rule', ce_conditions: 'For whom',
  ce_start: 'Starts at', ce_stop: 'Stops at', ce_pause: 'Paused while', ce_warn: 'Warn at %', ce_staff_only: 'Staff only',
  ce_any: 'any', ce_target: '{m}: target', ce_calendar: '{m}: calendar', ce_list_help: 'comma-separated',
  ce_attr_level: 'level', ce_attr_tier: 'tier', ce_attr_category: 'category', ce_attr_region: 'region',
  ce_attr_channel: 'channel', ce_attr_organisation: 'organisation',
  ce_bad_duration: '"{v}" is not a duration (like 15m, 4h, 2d or 1h30m)', ce_bad_value: '{a} "{v}" is not one of {list}',
  ce_bad_id: 'an ID is letters, digits, "-" or "_"', ce_dup_id: 'the ID {v} is used twice', ce_no_target: 'this rule sets no target',
  ce_bad_event: '"{v}" is not a milestone', ce_bad_state: '"{v}" is not a ticket state', ce_bad_pct: 'percentages are 1-100',
  ce_bad_json: 'the JSON is not valid: {e}', ce_fix_first: 'Correct the marked fields first: {e}',
  ce_diff: 'What publishing changes', ce_diff_against: 'Against version {v} (in force):', ce_no_changes: 'No change to levels, metrics or targets.',
  ce_every_ticket: 'every ticket', ce_no_target_short: 'none', ce_on: 'on {c}', ce_checking: 'Checking…',
  ch_target_changed: '{rule} — {m}: {old} → {new}', ch_target_added: '{rule} — {m}: now {new}', ch_target_removed: '{rule} — {m}: no longer {old}',
  ch_rule_added: 'New rule {rule}: {targets}', ch_rule_removed: 'Rule removed: {rule} ({targets})',
  ch_rule_when: '{id}: now for {new} (was {old})', ch_rule_moved: '{rule}: moved from position {old} to {new}',
  ch_level_added: 'New level {l}', ch_level_removed: 'Level {l} removed', ch_level_relabeled: 'Level {l} renamed: {old} → {new}',
  ch_metric_added: 'New metric {m}', ch_metric_removed: 'Metric {m} removed (and its targets)', ch_metric_changed: 'Metric {m}: {f} {old} → {new}',
  ch_value_added: 'New {a} value {v}', ch_value_removed: '{a} value {v} removed', ch_other: 'Also changed (JSON view): {list}',
  ce_order: 'Order', ce_rule_n: 'rule {n}', our_commitment: 'Our service commitment', letter_for: 'The commitment in force for {org}: version {v}, from {d}.',
  no_commitment: 'No commitment is in force yet.',
});
Object.assign(STRINGS.zh, {
  ce_table: '级别、指标与时限', ce_json: 'JSON（全部内容）', ce_levels: '事件级别', ce_metrics: '计时指标',
  ce_targets: '时限规则', ce_targets_help: '每个指标由自上而下第一条条件成立的规则确定时限和所用日历。条件留空表示任意值，时限留空表示不设。',
  ce_id: '标识', ce_label_zh: '名称（中文）', ce_label_en: '名称（English）', ce_remove: '删除', ce_up: '上移', ce_down: '下移',
  ce_add_level: '添加级别', ce_add_metric: '添加指标', ce_add_rule: '添加规则', ce_rule: '规则', ce_conditions: '适用范围',
  ce_start: '开始于', ce_stop: '停止于', ce_pause: '暂停状态', ce_warn: '预警百分比', ce_staff_only: '仅内部',
  ce_any: '任意', ce_target: '{m}：时限', ce_calendar: '{m}：日历', ce_list_help: '以逗号分隔',
  ce_attr_level: '级别', ce_attr_tier: '客户等级', ce_attr_category: '类别', ce_attr_region: '地区',
  ce_attr_channel: '渠道', ce_attr_organisation: '单位',
  ce_bad_duration: '"{v}" 不是时长（例如 15m、4h、2d 或 1h30m）', ce_bad_value: '{a} "{v}" 不在可选值 {list} 中',
  ce_bad_id: '标识只能包含字母、数字、"-" 和 "_"', ce_dup_id: '标识 {v} 重复', ce_no_target: '该规则未设置任何时限',
  ce_bad_event: '"{v}" 不是里程碑', ce_bad_state: '"{v}" 不是工单状态', ce_bad_pct: '百分比应为 1-100',
  ce_bad_json: 'JSON 格式有误：{e}', ce_fix_first: '请先更正标出的字段：{e}',
  ce_diff: '发布后的变化', ce_diff_against: '与现行第 {v} 版相比：', ce_no_changes: '级别、指标和时限均无变化。',
  ce_every_ticket: '所有工单', ce_no_target_short: '无', ce_on: '按{c}', ce_checking: '正在核对…',
  ch_target_changed: '{rule} — {m}：{old} → {new}', ch_target_added: '{rule} — {m}：新设 {new}', ch_target_removed: '{rule} — {m}：取消 {old}',
  ch_rule_added: '新规则 {rule}：{targets}', ch_rule_removed: '删除规则：{rule}（{targets}）',
  ch_rule_when: '{id}：适用范围改为 {new}（原为 {old}）', ch_rule_moved: '{rule}：从第 {old} 条移到第 {new} 条',
  ch_level_added: '新级别 {l}', ch_level_removed: '删除级别 {l}', ch_level_relabeled: '级别 {l} 改名：{old} → {new}',
  ch_metric_added: '新指标 {m}', ch_metric_removed: '删除指标 {m}（及其时限）', ch_metric_changed: '指标 {m}：{f} {old} → {new}',
  ch_value_added: '新增{a} {v}', ch_value_removed: '删除{a} {v}', ch_other: '其他变化（见 JSON）：{list}',
  ce_order: '顺序', ce_rule_n: '第 {n} 条规则', our_commitment: '服务承诺书', letter_for: '{org} 现行的服务承诺书：第 {v} 版，{d} 起生效。',
  no_commitment: '目前没有生效的服务承诺书。',
});

const RULE_ATTRS = ['level', 'tier', 'category', 'region', 'channel', 'organisation'];
const ATTR_LIST = { level: 'levels', tier: 'tiers', category: 'categories', region: 'regions', channel: 'channels', organisation: 'organisations' };
const DURATION_RE = /^(\d+|(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?)$/;
const ID_RE = /^[A-Za-z0-9_-]{1,47}$/;
const idOf = (x) => (typeof x === 'string' ? x : x && x.id);
const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const splitList = (s) => s.split(/[,，、\s]+/).map((x) => x.trim()).filter(Boolean);
function labelText(l, which) { return !l ? '' : typeof l === 'string' ? l : (l[which] || ''); }

// Seconds as "15 min", "4 h", "2 d 4 h", "1 h 30 min" (zh: 15分钟, 4小时, ...).
function durText(sec) {
  if (sec === null || sec === undefined) return t('ce_no_target_short');
  const parts = [], d = Math.floor(sec / 86400), hh = Math.floor(sec % 86400 / 3600), mm = Math.floor(sec % 3600 / 60), ss = sec % 60;
  if (d) parts.push(t('day_n', { n: d }));
  if (hh) parts.push(t('hour_n', { n: hh }));
  if (mm) parts.push(t('min_n', { n: mm }));
  if (ss || !parts.length) parts.push(t('sec_n', { n: ss }));
  return parts.join(' ');
}

// The editor of a commitment's draft (its document without version and
// effective date). onChange is called after each edit; value() is the
// draft, or throws with what is wrong.
function commitmentEditor(onChange) {
  let draft = { levels: [], metrics: [], targets: [] };
  let known = { levels: new Set(), metrics: new Set() }; // ids of the version copied: not renamed
  let mode = 'table';
  const problems = new Map(); // an invalid field's key -> its message
  const json = h('textarea', { class: 'code', name: 'document', 'aria-label': t('document'), spellcheck: 'false',
    oninput: () => { jsonError.textContent = ''; onChange(); } });
  const jsonError = h('p', { class: 'field-error', role: 'alert' });
  const tablePane = h('div', { id: 'ce-table' });
  const jsonPane = h('div', { id: 'ce-json', hidden: true }, h('label', {}, t('document'), json), jsonError);
  const tabTable = h('button', { type: 'button', class: 'secondary tab', id: 'ce-tab-table', 'aria-pressed': 'true', onclick: () => show('table') }, t('ce_table'));
  const tabJson = h('button', { type: 'button', class: 'secondary tab', id: 'ce-tab-json', 'aria-pressed': 'false', onclick: () => show('json') }, t('ce_json'));

  function show(m) {
    if (m === mode) return;
    if (m === 'table') { // take the JSON's edits into the table
      try { draft = JSON.parse(json.value); } catch (e) { jsonError.textContent = t('ce_bad_json', { e: e.message }); return; }
      render();
    }
    mode = m;
    tablePane.hidden = m !== 'table';
    jsonPane.hidden = m !== 'json';
    tabTable.setAttribute('aria-pressed', String(m === 'table'));
    tabJson.setAttribute('aria-pressed', String(m === 'json'));
  }
  function edited() { json.value = JSON.stringify(draft, null, 2); onChange(); }

  // An input whose value is checked by check (returns a message or '');
  // set writes a valid value into the draft.
  function field(key, value, aria, check, set, attrs) {
    const msg = h('span', { class: 'field-error', id: 'err-' + key });
    const input = h('input', Object.assign({ value, 'aria-label': aria, 'data-key': key }, attrs || {}));
    const run = () => {
      const m = check(input.value.trim());
      msg.textContent = m;
      input.setAttribute('aria-invalid', m ? 'true' : 'false');
      if (m) { input.setAttribute('aria-describedby', 'err-' + key); problems.set(key, m); } else { input.removeAttribute('aria-describedby'); problems.delete(key); }
      return m;
    };
    input.addEventListener('input', () => { if (!run()) set(input.value.trim()); edited(); });
    run();
    return h('span', { class: 'ce-field' }, input, msg);
  }
  const vocabIds = (attr) => attr === 'level' ? draft.levels.map(idOf)
    : attr === 'channel' && !draft.channels ? CHANNELS.concat(['api']) : asList(draft[ATTR_LIST[attr]]).map(idOf);
  const limited = (attr) => attr === 'level' || attr === 'channel' || Array.isArray(draft[ATTR_LIST[attr]]);
  const calNames = () => Object.keys(draft.calendars || {});
  const metricIds = () => (draft.metrics || []).map((m) => m.id);
  const events = () => ['created'].concat(catalogue.milestones.map((m) => m.id), asList(draft.milestones));
  const states = () => catalogue.states.map((s) => s.id).concat(asList(draft.states));
  const dupCheck = (list, v, self) => list.filter((x, i) => i !== self && idOf(x) === v).length ? t('ce_dup_id', { v }) : '';
  const removeBtn = (what, fn) => h('button', { type: 'button', class: 'secondary small', 'aria-label': `${t('ce_remove')} ${what}`, title: t('ce_remove'), onclick: () => { fn(); render(); edited(); } }, '✕');

  function setLabel(obj, which, v) {
    const l = typeof obj.label === 'string' ? { zh: obj.label, en: obj.label } : Object.assign({}, obj.label);
    if (v) l[which] = v; else delete l[which];
    if (Object.keys(l).length) obj.label = l; else delete obj.label;
  }

  function levelsTable() {
    const body = draft.levels.map((lv, i) => {
      const obj = () => { if (typeof draft.levels[i] === 'string') draft.levels[i] = { id: draft.levels[i] }; return draft.levels[i]; };
      const id = idOf(lv), fixed = known.levels.has(id);
      return h('tr', { 'data-level': id },
        h('td', {}, fixed ? h('code', {}, id) : field(`level-${i}-id`, id, t('ce_id'),
          (v) => !ID_RE.test(v) ? t('ce_bad_id') : dupCheck(draft.levels, v, i), (v) => { obj().id = v; })),
        h('td', {}, field(`level-${i}-zh`, labelText(lv.label, 'zh'), `${id} ${t('ce_label_zh')}`, () => '', (v) => setLabel(obj(), 'zh', v))),
        h('td', {}, field(`level-${i}-en`, labelText(lv.label, 'en'), `${id} ${t('ce_label_en')}`, () => '', (v) => setLabel(obj(), 'en', v))),
        h('td', {}, removeBtn(id, () => draft.levels.splice(i, 1))));
    });
    return [h('h3', {}, t('ce_levels')), h('div', { class: 'ce-scroll' }, h('table', { id: 'ce-levels' },
      h('thead', {}, h('tr', {}, [t('ce_id'), t('ce_label_zh'), t('ce_label_en'), ''].map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, body))),
    h('p', {}, h('button', { type: 'button', class: 'secondary', id: 'ce-add-level', onclick: () => {
      let n = draft.levels.length + 1;
      while (draft.levels.some((l) => idOf(l) === 'L' + n)) n++;
      draft.levels.push({ id: 'L' + n, label: { zh: '', en: '' } });
      render(); edited();
    } }, t('ce_add_level')))];
  }

  function metricsTable() {
    const listCheck = (allowed, bad) => (v) => { const x = splitList(v).find((s) => !allowed().includes(s)); return x ? t(bad, { v: x }) : ''; };
    const body = (draft.metrics || []).map((m, i) => {
      const fixed = known.metrics.has(m.id);
      const start = h('select', { 'aria-label': `${m.id} ${t('ce_start')}`, onchange: () => { m.start = start.value; edited(); } },
        events().map((e) => h('option', { value: e, selected: e === m.start }, e === 'created' ? e : msLabel(e))));
      return h('tr', { 'data-metric': m.id },
        h('td', {}, fixed ? h('code', {}, m.id) : field(`metric-${i}-id`, m.id, t('ce_id'),
          (v) => !ID_RE.test(v) ? t('ce_bad_id') : dupCheck(draft.metrics, v, i), (v) => {
            for (const r of draft.targets || []) if (m.id in r) { r[v] = r[m.id]; delete r[m.id]; }
            m.id = v;
          })),
        h('td', {}, field(`metric-${i}-zh`, labelText(m.label, 'zh'), `${m.id} ${t('ce_label_zh')}`, () => '', (v) => setLabel(m, 'zh', v))),
        h('td', {}, field(`metric-${i}-en`, labelText(m.label, 'en'), `${m.id} ${t('ce_label_en')}`, () => '', (v) => setLabel(m, 'en', v))),
        h('td', {}, start),
        h('td', {}, field(`metric-${i}-stop`, asList(m.stop).join(', '), `${m.id} ${t('ce_stop')}`, listCheck(events, 'ce_bad_event'), (v) => { m.stop = splitList(v); }, { placeholder: t('ce_list_help') })),
        h('td', {}, field(`metric-${i}-pause`, asList(m.pause_when).join(', '), `${m.id} ${t('ce_pause')}`, listCheck(states, 'ce_bad_state'),
          (v) => { if (splitList(v).length) m.pause_when = splitList(v); else delete m.pause_when; }, { placeholder: t('ce_list_help') })),
        h('td', {}, field(`metric-${i}-warn`, asList(m.warn_at).join(', '), `${m.id} ${t('ce_warn')}`,
          (v) => splitList(v).some((x) => !/^\d+$/.test(x) || Number(x) < 1 || Number(x) > 100) ? t('ce_bad_pct') : '',
          (v) => { if (splitList(v).length) m.warn_at = splitList(v).map(Number); else delete m.warn_at; }, { size: 8 })),
        h('td', {}, h('input', { type: 'checkbox', checked: m.staff_only === true || (m.staff_only === undefined && m.start === 'closed'), 'aria-label': `${m.id} ${t('ce_staff_only')}`,
          onchange: (e) => { m.staff_only = e.target.checked; edited(); } })),
        h('td', {}, removeBtn(m.id, () => {
          draft.metrics.splice(i, 1);
          for (const r of draft.targets || []) delete r[m.id];
        })));
    });
    return [h('h3', {}, t('ce_metrics')), h('div', { class: 'ce-scroll' }, h('table', { id: 'ce-metrics' },
      h('thead', {}, h('tr', {}, [t('ce_id'), t('ce_label_zh'), t('ce_label_en'), t('ce_start'), t('ce_stop'), t('ce_pause'), t('ce_warn'), t('ce_staff_only'), '']
        .map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, body))),
    h('p', {}, h('button', { type: 'button', class: 'secondary', id: 'ce-add-metric', onclick: () => {
      let n = (draft.metrics || []).length + 1;
      while (metricIds().includes('metric' + n)) n++;
      draft.metrics = draft.metrics || [];
      draft.metrics.push({ id: 'metric' + n, label: { zh: '', en: '' }, start: 'created', stop: ['resolved'] });
      render(); edited();
    } }, t('ce_add_metric')))];
  }

  // A rule's targets written back from its cells: the calendar most of its
  // targets use is the rule's, the others {"target", "calendar"}.
  function writeTargets(rule, cells) {
    const set = cells.filter((c) => c.target);
    const count = new Map();
    for (const c of set) count.set(c.calendar, (count.get(c.calendar) || 0) + 1);
    let main = set.some((c) => c.calendar === rule.calendar) ? rule.calendar : [...count.entries()].sort((a, b) => b[1] - a[1]).map((x) => x[0])[0];
    if (main) rule.calendar = main;
    for (const c of cells) {
      if (!c.target) delete rule[c.metric];
      else rule[c.metric] = c.calendar === main ? c.target : { target: c.target, calendar: c.calendar };
    }
  }

  function targetsTable() {
    const ms = draft.metrics || [], cals = calNames();
    const attrs = RULE_ATTRS.filter((a) => a === 'level' || a === 'channel' || Array.isArray(draft[ATTR_LIST[a]]) ||
      (draft.targets || []).some((r) => r.when && r.when[a] !== undefined));
    const body = (draft.targets || []).map((rule, i) => {
      const key = `rule-${i}`;
      const cells = ms.map((m) => {
        const v = rule[m.id];
        return { metric: m.id, target: v === undefined ? '' : String(typeof v === 'object' ? v.target : v),
          calendar: (v && typeof v === 'object' && v.calendar) || rule.calendar || cals[0] || '' };
      });
      const noTarget = h('span', { class: 'field-error', id: `err-${key}` });
      const checkAny = () => {
        const none = !cells.some((c) => c.target);
        noTarget.textContent = none ? t('ce_no_target') : '';
        if (none) problems.set(key, t('ce_no_target')); else problems.delete(key);
      };
      checkAny();
      const when = h('div', { class: 'ce-when' }, attrs.map((a) => h('label', { class: 'inline' }, h('span', { class: 'ce-attr' }, t('ce_attr_' + a)),
        field(`${key}-${a}`, asList(rule.when && rule.when[a]).join(', '), `${t('ce_rule_n', { n: i + 1 })} ${t('ce_attr_' + a)}`,
          (v) => { const x = limited(a) && splitList(v).find((s) => !vocabIds(a).includes(s)); return x ? t('ce_bad_value', { a: t('ce_attr_' + a), v: x, list: vocabIds(a).join(', ') }) : ''; },
          (v) => {
            const vals = splitList(v);
            rule.when = Object.assign({}, rule.when);
            if (!vals.length) delete rule.when[a]; else rule.when[a] = vals.length === 1 ? vals[0] : vals;
            if (!Object.keys(rule.when).length) delete rule.when;
          }, { placeholder: t('ce_any'), size: 10 }))));
      const metricCells = cells.map((c) => {
        const cal = h('select', { 'aria-label': `${t('ce_rule_n', { n: i + 1 })} ${t('ce_calendar', { m: c.metric })}`, 'data-key': `${key}-${c.metric}-cal`,
          onchange: () => { c.calendar = cal.value; writeTargets(rule, cells); edited(); } },
        cals.map((n) => h('option', { value: n, selected: n === c.calendar }, n)));
        return h('td', { class: 'ce-target', 'data-metric': c.metric },
          field(`${key}-${c.metric}`, c.target, `${t('ce_rule_n', { n: i + 1 })} ${t('ce_target', { m: c.metric })}`,
            (v) => v && !DURATION_RE.test(v) ? t('ce_bad_duration', { v }) : '',
            (v) => { c.target = v; writeTargets(rule, cells); checkAny(); }, { size: 6, placeholder: t('ce_no_target_short') }), cal);
      });
      const move = (d) => { const all = draft.targets; [all[i], all[i + d]] = [all[i + d], all[i]]; render(); edited(); };
      return h('tr', { 'data-rule': rule.id || '' },
        h('td', { class: 'num' }, String(i + 1)),
        h('td', {}, field(`${key}-id`, rule.id || '', `${t('ce_rule_n', { n: i + 1 })} ${t('ce_id')}`,
          (v) => v && !ID_RE.test(v) ? t('ce_bad_id') : v && dupCheck((draft.targets || []).map((r) => r.id || ''), v, i),
          (v) => { if (v) rule.id = v; else delete rule.id; }, { size: 10 }), noTarget),
        h('td', {}, when), metricCells,
        h('td', { class: 'ce-actions' },
          h('button', { type: 'button', class: 'secondary small', disabled: i === 0, 'aria-label': `${t('ce_up')} ${t('ce_rule_n', { n: i + 1 })}`, title: t('ce_up'), onclick: () => move(-1) }, '↑'),
          h('button', { type: 'button', class: 'secondary small', disabled: i === draft.targets.length - 1, 'aria-label': `${t('ce_down')} ${t('ce_rule_n', { n: i + 1 })}`, title: t('ce_down'), onclick: () => move(1) }, '↓'),
          removeBtn(t('ce_rule_n', { n: i + 1 }), () => draft.targets.splice(i, 1))));
    });
    return [h('h3', {}, t('ce_targets')), h('p', { class: 'small muted' }, t('ce_targets_help')),
      h('div', { class: 'ce-scroll' }, h('table', { id: 'ce-targets' },
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('ce_order')), h('th', { scope: 'col' }, t('ce_id')), h('th', { scope: 'col' }, t('ce_conditions')),
          ms.map((m) => h('th', { scope: 'col', 'data-metric': m.id }, metricLabel(m.id, draft))), h('th', { scope: 'col' }, ''))),
        h('tbody', {}, body))),
      h('p', {}, h('button', { type: 'button', class: 'secondary', id: 'ce-add-rule', onclick: () => {
        draft.targets = draft.targets || [];
        draft.targets.push(cals.length ? { calendar: cals[0] } : {});
        render(); edited();
      } }, t('ce_add_rule')))];
  }

  function render() {
    problems.clear();
    draft.levels = draft.levels || [];
    clear(tablePane).append(...levelsTable(), ...metricsTable(), ...targetsTable());
  }

  return {
    el: h('div', { class: 'ce' }, h('div', { class: 'row', role: 'group' }, tabTable, tabJson), tablePane, jsonPane),
    set(doc) {
      draft = JSON.parse(JSON.stringify(doc));
      known = { levels: new Set((draft.levels || []).map(idOf)), metrics: new Set(metricIds()) };
      json.value = JSON.stringify(draft, null, 2);
      jsonError.textContent = '';
      render();
    },
    // the draft as it would be published, or throws with what is wrong
    value() {
      if (mode === 'json') {
        try { return JSON.parse(json.value); } catch (e) { throw new Error(t('ce_bad_json', { e: e.message })); }
      }
      if (problems.size) throw new Error(t('ce_fix_first', { e: [...problems.values()][0] }));
      return JSON.parse(JSON.stringify(draft));
    },
  };
}

// The changes of POST /commitments/{id}/diff as sentences, in the page's language.
function diffList(r, from, to) {
  const lbl = (l) => (l ? l[lang] || l.en || l.zh : '');
  const who = (when) => {
    const named = (a, v) => { const x = asList(to[ATTR_LIST[a]]).find((y) => idOf(y) === v); return x && typeof x === 'object' && x.label ? label(x) : v; };
    const parts = Object.entries(when || {}).map(([a, vs]) => `${t('ce_attr_' + a)} ${vs.map((v) => named(a, v)).join('/')}`);
    return parts.length ? parts.join(' · ') : t('ce_every_ticket');
  };
  const ruleName = (rule) => `${rule.id ? rule.id + ' ' : ''}(${who(rule.when)})`;
  const tgt = (x) => (x ? `${durText(x.target)} ${t('ce_on', { c: x.calendar })}` : t('ce_no_target_short'));
  const ml = (m) => metricLabel(m, to.metrics && to.metrics.some((x) => x.id === m) ? to : from);
  const targets = (ts) => Object.entries(ts || {}).map(([m, x]) => `${ml(m)} ${tgt(x)}`).join(', ');
  const val = (v) => (Array.isArray(v) ? v.join(', ') : v && typeof v === 'object' ? lbl(v) : String(v));
  const line = (c) => {
    switch (c.change) {
    case 'target_changed': case 'target_added': case 'target_removed':
      return t('ch_' + c.change, { rule: ruleName(c.rule), m: ml(c.metric), old: tgt(c.old), new: tgt(c.new) });
    case 'rule_added': case 'rule_removed': return t('ch_' + c.change, { rule: ruleName(c.rule), targets: targets(c.targets) });
    case 'rule_when': return t('ch_rule_when', { id: c.rule.id || t('ce_rule_n', { n: c.rule.index + 1 }), new: who(c.new.when), old: who(c.old.when) });
    case 'rule_moved': return t('ch_rule_moved', { rule: ruleName(c.rule), old: c.old.index + 1, new: c.new.index + 1 });
    case 'level_added': case 'level_removed': return t('ch_' + c.change, { l: `${c.level.id} ${lbl(c.level.label)}` });
    case 'level_relabeled': return t('ch_level_relabeled', { l: c.level, old: lbl(c.old), new: lbl(c.new) });
    case 'metric_added': case 'metric_removed': return t('ch_' + c.change, { m: `${c.metric} ${lbl(c.label)}` });
    case 'metric_changed': return t('ch_metric_changed', { m: c.metric, f: c.field, old: val(c.old), new: val(c.new) });
    default: return t('ch_' + c.change, { a: t('ce_attr_' + c.attribute), v: c.value });
    }
  };
  return [h('p', {}, t('ce_diff_against', { v: r.from.version })),
    r.changes.length ? h('ul', { id: 'changes' }, r.changes.map((c) => h('li', { 'data-change': c.change, class: 'ch-' + c.change.split('_')[1] }, line(c))))
      : h('p', { class: 'muted', id: 'changes-none' }, t('ce_no_changes')),
    r.other.length ? h('p', { id: 'changes-other' }, t('ch_other', { list: r.other.join(', ') })) : null];
}

// A customer's page: the letter of the commitment in force for their
// organisation, in their language (the server renders their view of it).
async function pageOurCommitment(main) {
  const list = await api('GET', '/commitments');
  const c = list.commitments.find((x) => x.id === list.in_force);
  if (!c) { add(main, h('h1', {}, t('our_commitment')), h('p', { class: 'muted' }, t('no_commitment'))); return; }
  const [html, org] = await Promise.all([api('GET', `/commitments/${c.id}/letter?lang=${lang}&format=html`),
    session.me.org_id ? api('GET', `/orgs/${session.me.org_id}`).catch(() => null) : null]);
  add(main, h('h1', {}, t('our_commitment')),
    h('p', { class: 'muted', id: 'letter-of' }, t('letter_for', { org: org ? org.name : '', v: c.version, d: fmtTime(c.effective_from) })),
    h('div', { class: 'letter card', id: 'letter' }, safeHtml(html)));
}

// The server's HTML letter, rebuilt from a short list of elements with text
// only: no attribute, script or style of the document comes across.
function safeHtml(html) {
  const KEEP = new Set(['H1', 'H2', 'H3', 'H4', 'P', 'UL', 'OL', 'LI', 'TABLE', 'THEAD', 'TBODY', 'TR',
    'TH', 'TD', 'STRONG', 'EM', 'B', 'I', 'BR', 'HR', 'SECTION', 'DIV', 'SPAN']);
  // <style> goes before parsing: even an inert document's style element is
  // an inline style to the Content-Security-Policy, and none is kept anyway
  const src = new DOMParser().parseFromString(String(html).replace(/<style[\s\S]*?<\/style\s*>/gi, ''), 'text/html').body;
  const copy = (from, to) => {
    for (const n of from.childNodes) {
      if (n.nodeType === Node.TEXT_NODE) to.append(document.createTextNode(n.textContent));
      else if (n.nodeType === Node.ELEMENT_NODE && KEEP.has(n.tagName)) copy(n, to.appendChild(document.createElement(n.tagName)));
      else if (n.nodeType === Node.ELEMENT_NODE && n.tagName !== 'SCRIPT' && n.tagName !== 'STYLE') copy(n, to);
    }
    return to;
  };
  return copy(src, document.createDocumentFragment());
}

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const spansText = (spans) => (spans || []).map((s) => `${s[0]}-${s[1]}`).join(', ');
const parseSpans = (s) => s.split(',').map((x) => x.trim()).filter(Boolean).map((x) => x.split('-').map((y) => y.trim()));

// The calendar last shown: saving re-renders the page on the same one.
let calendarShown = null;

// ---- .ics import: choose what the events are, preview, then import ----

Object.assign(STRINGS.en, {
  ics_file: '.ics file', ics_mode: 'The events are', ics_as_holidays: 'Days off (holidays)',
  ics_as_workdays: 'Make-up workdays', ics_as_both: 'Both, told apart by marker',
  ics_off_marker: 'Day-off marker', ics_on_marker: 'Make-up day marker',
  ics_marker_hint: 'A marker is a whole word of the event’s name: 休 matches “国庆节 休” and “元旦（休）”, not “国庆节调休 班”. Leave it empty to take every all-day event.',
  ics_preview: 'Preview the import', ics_choose: 'Choose an .ics file first.',
  ics_will_add: 'Importing adds {dates} to {c}: {what}.', and_join: ' and ',
  ics_already: '{dates} from the file {are} in the calendar already.', ics_are_1: 'is', ics_are_n: 'are',
  ics_nothing: 'Nothing to add to {c}.', ics_left_out: 'Left out: {evs}',
  ics_date: 'Date', ics_kind: 'Becomes', ics_event: 'Event', ics_marker: 'Marker', ics_status: 'Status',
  ics_kind_holiday: 'day off', ics_kind_workday: 'make-up workday', ics_new: 'new', ics_present: 'already there',
  ics_why_timed: 'not an all-day event', ics_why_no_marker: 'no marker {m}', ics_why_both_markers: 'carries both markers',
  ics_import: 'Import {dates}', ics_cancel: 'Cancel',
  ics_done: 'Imported {dates} into {c}: {what}.',
  dates_1: '1 date', dates_n: '{n} dates', offs_1: '1 day off', offs_n: '{n} days off',
  works_1: '1 make-up workday', works_n: '{n} make-up workdays', evs_1: '1 event', evs_n: '{n} events',
});
Object.assign(STRINGS.zh, {
  ics_file: '.ics 文件', ics_mode: '文件中的事件是', ics_as_holidays: '休息日（节假日）',
  ics_as_workdays: '调休上班日', ics_as_both: '两者都有，按标记区分',
  ics_off_marker: '休息日标记', ics_on_marker: '上班日标记',
  ics_marker_hint: '标记是事件名称中完整的一个词：“休”匹配“国庆节 休”和“元旦（休）”，不匹配“国庆节调休 班”。留空则导入所有全天事件。',
  ics_preview: '预览导入', ics_choose: '请先选择一个 .ics 文件。',
  ics_will_add: '导入将向日历 {c} 添加{dates}：{what}。', and_join: '，',
  ics_already: '文件中另有{dates}日历中已有。', ics_are_1: '', ics_are_n: '',
  ics_nothing: '没有需要添加到日历 {c} 的日期。', ics_left_out: '未导入：{evs}',
  ics_date: '日期', ics_kind: '导入为', ics_event: '事件', ics_marker: '标记', ics_status: '状态',
  ics_kind_holiday: '休息日', ics_kind_workday: '调休上班日', ics_new: '新增', ics_present: '已有',
  ics_why_timed: '不是全天事件', ics_why_no_marker: '没有标记 {m}', ics_why_both_markers: '同时带有两种标记',
  ics_import: '导入{dates}', ics_cancel: '取消',
  ics_done: '已向日历 {c} 导入{dates}：{what}。',
  dates_1: ' 1 个日期', dates_n: ' {n} 个日期', offs_1: '1 个休息日', offs_n: '{n} 个休息日',
  works_1: '1 个调休上班日', works_n: '{n} 个调休上班日', evs_1: '1 个事件', evs_n: '{n} 个事件',
});
// "3 dates", "1 day off" / "3 个日期": a count with its noun.
const counted = (key, n) => t(`${key}_${n === 1 ? '1' : 'n'}`, { n: fmtNum(n) });

// The import card of calendar `name`: the file, what its events become and
// by which marker, a preview from the server (dry_run) of every date, and
// only then the import. note: a sentence to show (after an import).
function icsCard(name, note, reload) {
  const file = h('input', { type: 'file', accept: '.ics,text/calendar', name: 'ics' });
  const mode = h('select', { name: 'as' }, ['holidays', 'workdays', 'both'].map((m) => h('option', { value: m }, t('ics_as_' + m))));
  const off = h('input', { name: 'holiday_marker', value: '休', size: 6, maxlength: 32 });
  const on = h('input', { name: 'workday_marker', value: '班', size: 6, maxlength: 32 });
  const offLabel = h('label', {}, t('ics_off_marker'), off), onLabel = h('label', {}, t('ics_on_marker'), on);
  const showMarkers = () => {
    offLabel.hidden = mode.value === 'workdays';
    onLabel.hidden = mode.value === 'holidays';
  };
  mode.addEventListener('change', showMarkers);
  showMarkers();
  const result = h('div', { id: 'ics-preview', 'aria-live': 'polite' }, note ? h('p', { class: 'ok', role: 'status' }, note) : null);
  const query = () => {
    const q = new URLSearchParams({ as: mode.value });
    if (mode.value === 'both') { q.set('holiday', off.value.trim()); q.set('workday', on.value.trim()); }
    else {
      const m = (mode.value === 'holidays' ? off : on).value.trim();
      if (m) q.set('match', m);
    }
    return q;
  };
  // "12 dates ...: 10 days off and 2 make-up workdays" (a kind with none is not named)
  const phrase = (p) => {
    const n = (kind) => p.dates.filter((d) => d.status === 'new' && d.kind === kind).length;
    const what = [['offs', n('holiday')], ['works', n('workday')]].filter(([, k]) => k).map(([key, k]) => counted(key, k));
    return { dates: counted('dates', p.imported.added), what: what.join(t('and_join')), c: name };
  };
  // Changing the file or the choice makes the preview stale: show none.
  for (const el of [file, mode, off, on]) el.addEventListener('change', () => clear(result));
  const f = form(async () => {
    clear(result);
    if (!file.files.length) { add(result, h('p', { class: 'problem', role: 'alert' }, t('ics_choose'))); return; }
    const text = await file.files[0].text();
    const q = query();
    q.set('dry_run', 'true');
    const p = await api('POST', `/calendars/${encodeURIComponent(name)}/ics?${q}`, undefined, { raw: text });
    const markers = mode.value === 'both' ? `${off.value.trim()} / ${on.value.trim()}` : (mode.value === 'holidays' ? off : on).value.trim();
    const why = (s) => t('ics_why_' + s.reason, { m: markers });
    const present = p.imported.present;
    add(result,
      h('p', { id: 'ics-summary' }, p.imported.added ? t('ics_will_add', phrase(p)) : t('ics_nothing', { c: name }),
        present ? ' ' + t('ics_already', { dates: counted('dates', present), are: t(present === 1 ? 'ics_are_1' : 'ics_are_n') }) : null),
      p.dates.length ? h('div', { class: 'scroll' }, h('table', { id: 'ics-dates' }, h('thead', {}, h('tr', {},
        ['ics_date', 'ics_kind', 'ics_event', 'ics_marker', 'ics_status'].map((k) => h('th', { scope: 'col' }, t(k))))),
      h('tbody', {}, p.dates.map((d) => h('tr', { class: d.status === 'new' ? 'new' : 'muted' },
        h('td', { class: 'nowrap' }, d.date), h('td', {}, t('ics_kind_' + d.kind), d.hours ? h('div', { class: 'small muted' }, spansText(d.hours)) : null), h('td', {}, d.summary),
        h('td', {}, d.marker || t('none')), h('td', {}, t(d.status === 'new' ? 'ics_new' : 'ics_present'))))))) : null,
      p.skipped_events.length ? h('details', { id: 'ics-skipped' }, h('summary', {}, t('ics_left_out', { evs: counted('evs', p.imported.skipped) })),
        h('ul', {}, p.skipped_events.map((s) => h('li', {}, `${s.date || ''} ${s.summary} — ${why(s)}`)))) : null,
      p.imported.added ? h('p', { class: 'row' },
        h('button', { type: 'button', id: 'ics-import', onclick: async (e) => {
          e.target.disabled = true;
          try {
            const r = await api('POST', `/calendars/${encodeURIComponent(name)}/ics?${query()}`, undefined, { raw: text });
            const done = t('ics_done', phrase(r));
            toast(done);
            reload(done);
          } catch (x) { e.target.disabled = false; add(result, problemBox(x)); }
        } }, t('ics_import', { dates: counted('dates', p.imported.added) })),
        h('button', { type: 'button', class: 'secondary', onclick: () => clear(result) }, t('ics_cancel'))) : null);
  }, h('div', { class: 'row' }, h('label', {}, t('ics_file'), file), h('label', {}, t('ics_mode'), mode), offLabel, onLabel,
    h('button', { type: 'submit', id: 'ics-preview-btn' }, t('ics_preview'))),
  h('p', { class: 'small muted' }, t('ics_marker_hint')));
  return h('div', { class: 'card', id: 'ics-card' }, h('h2', {}, t('import_ics')), f, result);
}

async function pageCalendars(main) {
  const list = (await api('GET', '/calendars')).calendars;
  const pick = h('select', { name: 'calendar', 'aria-label': t('calendar') },
    list.map((c) => h('option', { value: c.name }, c.name)),
    h('option', { value: '' }, t('new_calendar')));
  const editor = h('div', { id: 'calendar-editor' });
  async function edit(name, icsNote) {
    clear(editor);
    calendarShown = name;
    pick.value = name;
    // a new calendar starts empty, in the viewer's zone
    let cal = { version: 0, spec: { tz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC', week: {}, holidays: [], extra_workdays: {} } };
    if (name) cal = await api('GET', `/calendars/${encodeURIComponent(name)}`);
    const spec = cal.spec;
    const nm = h('input', { name: 'name', required: true, value: name || '', readonly: name ? true : null, 'aria-label': t('name') });
    const tz = h('input', { name: 'tz', value: spec.tz || '', 'aria-label': t('tz') });
    const days = DAYS.map((d) => h('input', { name: d, value: spansText((spec.week || {})[d]), placeholder: t('hours_hint'), 'aria-label': t('day_' + d) }));
    const hol = h('textarea', { name: 'holidays', 'aria-label': t('holidays') });
    hol.value = (spec.holidays || []).join('\n');
    const mk = h('textarea', { name: 'makeup', 'aria-label': t('makeup') });
    mk.value = Object.entries(spec.extra_workdays || {}).map(([d, s]) => `${d} ${spansText(s)}`).join('\n');
    const hours = h('input', { type: 'number', name: 'hours', min: 1, max: 1000, value: 4, 'aria-label': t('preview') });
    const out = h('output', { id: 'deadline-preview' });
    const impact = h('div', { id: 'calendar-impact', 'aria-live': 'polite' });
    const specOf = () => {
      const s = { name: nm.value.trim(), tz: tz.value.trim(), week: {}, holidays: hol.value.split(/\s+/).filter(Boolean), extra_workdays: {} };
      DAYS.forEach((d, i) => { s.week[d] = parseSpans(days[i].value); });
      for (const line of mk.value.split('\n').map((x) => x.trim()).filter(Boolean)) {
        const [d, ...rest] = line.split(/\s+/);
        s.extra_workdays[d] = parseSpans(rest.join(' '));
      }
      return s;
    };
    const save = async (s) => {
      const r = await api('POST', '/calendars', s);
      toast(r.changed ? t('saved_version', { v: r.version, n: r.reprojected }) : t('unchanged', { v: r.version }));
      calendarShown = r.name;
      router();
    };
    // Saving first asks the server what the edit reaches (a dry run) and
    // says so; it saves only once that is confirmed.
    const check = async () => {
      clear(impact);
      const s = specOf();
      if (!s.name) return save(s); // the server names what is missing
      const r = await api('POST', `/calendars/${encodeURIComponent(s.name)}/impact`, s);
      if (!r.changed) { toast(t('unchanged', { v: r.version })); return; }
      if (!r.commitments.length) return save(s);
      const yes = h('button', { type: 'button', id: 'confirm-calendar' }, t('confirm_save'));
      const no = h('button', { type: 'button', class: 'secondary' }, t('cancel'));
      yes.addEventListener('click', async () => {
        yes.disabled = true;
        try { await save(s); } catch (x) { clear(impact); add(impact, problemBox(x)); }
      });
      no.addEventListener('click', () => clear(impact));
      add(impact, h('div', { class: 'card confirm', role: 'alertdialog', 'aria-label': t('impact_title') },
        h('h2', {}, t('impact_title')),
        h('ul', {}, r.commitments.map((c) => h('li', {}, t('impact_line', { name: c.name, version: c.version, n: c.open_tickets })))),
        h('p', {}, t('impact_rule', { n: r.open_tickets })),
        h('p', { class: 'row' }, yes, no)));
      yes.focus();
    };
    add(editor, h('div', { class: 'card' }, form(check,
      name ? h('p', { class: 'muted small', id: 'calendar-version' }, t('cal_version', { v: cal.version })) : null,
      h('div', { class: 'row' }, h('label', {}, t('name'), nm), h('label', {}, t('tz'), tz)),
      h('h2', {}, t('weekly_hours')), h('div', { class: 'row days' }, DAYS.map((d, i) => h('label', {}, t('day_' + d), days[i]))),
      h('div', { class: 'grid2' }, h('label', {}, t('holidays'), hol), h('label', {}, t('makeup'), mk)),
      h('p', {}, h('button', { type: 'submit', id: 'save-calendar' }, t('save'))), impact)),
    name ? h('div', { class: 'card' }, h('h2', {}, t('preview')), form(async () => {
      const r = await api('GET', `/calendars/${encodeURIComponent(name)}/deadline?duration=${Number(hours.value)}h`);
      out.textContent = t('deadline_is', { t: `${fmtTime(r.deadline)} (${fmtTime(r.deadline, r.tz)} ${r.tz})` });
    }, h('div', { class: 'row' }, h('label', {}, t('preview_line', { d: '' }), hours), h('button', { type: 'submit', id: 'preview' }, t('preview'))), h('p', {}, out))) : null,
    name ? icsCard(name, icsNote, (note) => edit(name, note)) : null);
  }
  pick.addEventListener('change', () => edit(pick.value));
  add(main, h('h1', {}, t('calendars')), h('div', { class: 'row' }, h('label', {}, t('calendar'), pick)), editor);
  const keep = calendarShown !== null && (calendarShown === '' || list.some((c) => c.name === calendarShown));
  await edit(keep ? calendarShown : list.length ? list[0].name : '');
}

async function pageOrgs(main) {
  const [os, us, cals] = await Promise.all([apiAll('/orgs?limit=500', 'orgs'), users(), api('GET', '/calendars').then((r) => r.calendars)]);
  const cf = await inForce();
  const tiers = cf && cf.doc.tiers ? cf.doc.tiers : [];
  const name = h('input', { name: 'name', required: true, 'aria-label': t('name') });
  const tier = h('select', { name: 'tier', 'aria-label': t('tier') }, h('option', { value: '' }, t('none')), tiers.map((x) => h('option', { value: x.id }, label(x))));
  const region = h('input', { name: 'region', 'aria-label': t('region') });
  const value = h('input', { type: 'number', name: 'value', min: 0, 'aria-label': t('contract_value') });
  const orgEdit = h('div', { id: 'org-edit' });
  const am = h('select', { name: 'account_manager', 'aria-label': t('account_manager') }, h('option', { value: '' }, t('none')),
    us.filter((u) => u.role !== 'customer').map((u) => h('option', { value: u.id }, u.name)));
  add(main, h('h1', {}, t('orgs')),
    h('div', { class: 'board' }, h('table', { id: 'orgs' }, h('thead', {}, h('tr', {}, [t('name'), t('tier'), t('region'), t('calendar'), t('contract_value'), t('account_manager'), t('col_status'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, os.map((o) => {
        const tr = h('tr', { 'data-org': o.id, class: o.active === false ? 'inactive' : '' }, h('td', {}, o.name, o.watch_list ? [' ', watchBadge(o.watch_list)] : null), h('td', {}, o.tier ? label(tiers.find((x) => x.id === o.tier) || { id: o.tier }) : t('none')),
          h('td', {}, o.region || t('none')), h('td', {}, o.calendar || t('none')), h('td', { class: 'num' }, o.contract_value_cents != null ? fmtNum(o.contract_value_cents / 100) : t('none')),
          h('td', {}, o.account_manager_id ? nameOf(us, o.account_manager_id) : t('none')),
          h('td', {}, o.active === false ? h('span', { class: 'badge off' }, t('deactivated')) : t('active')),
          h('td', {}, h('button', { type: 'button', class: 'secondary small edit-org', onclick: () => {
            clear(orgEdit).append(orgEditor(o, tiers, cals, us, () => router()));
            orgEdit.scrollIntoView({ block: 'nearest' });
          } }, t('edit'))));
        return tr;
      })))), orgEdit,
    h('h2', {}, t('create')), h('div', { class: 'card' }, form(async () => {
      const b = { name: name.value };
      if (tier.value) b.tier = tier.value;
      if (region.value) b.region = region.value;
      if (value.value) b.contract_value_cents = Math.round(Number(value.value) * 100);
      if (am.value) b.account_manager_id = Number(am.value);
      await api('POST', '/orgs', b);
      session.cache.delete('orgs');
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), name), h('label', {}, t('tier'), tier), h('label', {}, t('region'), region),
      h('label', {}, t('contract_value'), value), h('label', {}, t('account_manager'), am), h('button', { type: 'submit' }, t('create'))))));
}

async function pagePeople(main) {
  const [us, ts, os] = await Promise.all([apiAll('/users?limit=500', 'users'), teams(), orgs()]);
  const email = h('input', { type: 'email', name: 'email', required: true, 'aria-label': t('email') });
  const nm = h('input', { name: 'name', required: true, 'aria-label': t('name') });
  const role = h('select', { name: 'role', 'aria-label': t('role') }, ['agent', 'manager', 'customer', 'admin'].map((r) => h('option', { value: r }, t('role_' + r))));
  const org = h('select', { name: 'org', 'aria-label': t('org') }, h('option', { value: '' }, t('none')), os.map((o) => h('option', { value: o.id }, o.name)));
  const team = h('select', { name: 'team', 'aria-label': t('team') }, h('option', { value: '' }, t('none')), ts.map((x) => h('option', { value: x.id }, x.name)));
  const pw = h('input', { type: 'password', name: 'password', minlength: 8, autocomplete: 'new-password', 'aria-label': t('password') });
  const tname = h('input', { name: 'team_name', required: true, 'aria-label': t('name') });
  const userEdit = h('div', { id: 'user-edit' });
  const lead = h('select', { name: 'lead', 'aria-label': t('lead') }, h('option', { value: '' }, t('none')), us.filter((u) => u.role !== 'customer').map((u) => h('option', { value: u.id }, u.name)));
  add(main, h('h1', {}, t('people')), h('h2', {}, t('users')),
    h('div', { class: 'board' }, h('table', { id: 'users' }, h('thead', {}, h('tr', {}, [t('name'), t('email'), t('role'), t('org'), t('team'), t('col_status'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, us.map((u) => {
        const tr = h('tr', { 'data-user': u.id, class: u.active === false ? 'inactive' : '' }, h('td', {}, u.name), h('td', {}, u.email), h('td', {}, t('role_' + u.role)),
          h('td', {}, u.org_id ? nameOf(os, u.org_id) : t('none')), h('td', {}, u.team_id ? nameOf(ts, u.team_id) : t('none')),
          h('td', {}, u.active === false ? h('span', { class: 'badge off' }, t('deactivated')) : t('active')),
          h('td', {}, session.me.role === 'admin' ? h('button', { type: 'button', class: 'secondary small edit-user', onclick: () => {
            // the editor below the table (a phone scrolls the table, not the page)
            clear(userEdit).append(userEditor(u, ts, () => router()));
            userEdit.scrollIntoView({ block: 'nearest' });
          } }, t('edit')) : null));
        return tr;
      })))), userEdit,
    session.me.role === 'admin' ? h('div', { class: 'card' }, form(async () => {
      const b = { email: email.value, name: nm.value, role: role.value };
      if (org.value) b.org_id = Number(org.value);
      if (team.value) b.team_id = Number(team.value);
      if (pw.value) b.password = pw.value;
      await api('POST', '/users', b);
      session.cache.delete('users');
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('email'), email), h('label', {}, t('name'), nm), h('label', {}, t('role'), role),
      h('label', {}, t('org'), org), h('label', {}, t('team'), team), h('label', {}, t('password'), pw), h('button', { type: 'submit' }, t('create'))))) : null,
    h('h2', {}, t('teams')),
    h('table', { id: 'teams' }, h('thead', {}, h('tr', {}, [t('name'), t('lead')].map((x) => h('th', {}, x)))),
      h('tbody', {}, ts.map((x) => h('tr', {}, h('td', {}, x.name), h('td', {}, x.lead_id ? nameOf(us, x.lead_id) : t('none')))))),
    h('div', { class: 'card' }, form(async () => {
      const b = { name: tname.value };
      if (lead.value) b.lead_id = Number(lead.value);
      await api('POST', '/teams', b);
      session.cache.delete('teams');
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), tname), h('label', {}, t('lead'), lead), h('button', { type: 'submit' }, t('create'))))));
}

// ---- on-call: the rotas, and the editor with a preview before saving ----

Object.assign(STRINGS.en, {
  rota_edit: 'Edit a rota', rota_new: 'New rota', rota_schedule: 'Schedule (JSON)',
  rota_people: 'People (id = name): {list}', rota_check: 'Preview and save',
  rota_preview_title: 'After saving: who is on call for the next 14 days',
  rota_replaces: 'Saving replaces the current rota “{name}” of {team}, level {l}.',
  rota_creates: 'Saving creates a new rota for {team}, level {l}.',
  rota_confirm: 'Confirm and save', rota_back: 'Keep editing', rota_nobody: 'nobody',
  rota_saved: 'Rota “{name}” saved for {team}, level {l}. It applies from now.',
  rota_bad_json: 'This is not valid JSON: {e}', rota_no_team: 'Create a team first (Users and teams).',
  rota_at_person: 'Layer {l} “{name}”, person {n}', rota_at_layer: 'Layer {l} “{name}”', rota_at_override: 'Override {n}',
});
Object.assign(STRINGS.zh, {
  rota_edit: '编辑排班', rota_new: '新建排班', rota_schedule: '排班定义（JSON）',
  rota_people: '人员（编号 = 姓名）：{list}', rota_check: '预览并保存',
  rota_preview_title: '保存后未来 14 天的值班安排',
  rota_replaces: '保存后将替换 {team} 第 {l} 级的现行排班“{name}”。',
  rota_creates: '保存后将为 {team} 第 {l} 级新建排班。',
  rota_confirm: '确认保存', rota_back: '继续编辑', rota_nobody: '无人值班',
  rota_saved: '排班“{name}”已保存（{team}，第 {l} 级），即刻生效。',
  rota_bad_json: 'JSON 格式有误：{e}', rota_no_team: '请先创建团队（用户与团队）。',
  rota_at_person: '第 {l} 层“{name}”的第 {n} 个人', rota_at_layer: '第 {l} 层“{name}”', rota_at_override: '第 {n} 个临时调整',
});

let rotaShown = null; // the rota the editor showed, kept across a save
let rotaNote = null; // the sentence to show once after a save

// Show a problem next to the field its pointer names (fields: pointer
// prefix -> element), else in `fallback`; where (pointer -> words) says
// which part of the field it is.
function fieldProblem(e, fields, fallback, where) {
  const p = e && e.problem;
  const at = p && p.pointer ? Object.keys(fields).find((k) => p.pointer === k || p.pointer.startsWith(k + '/')) : null;
  if (!at) { add(fallback, problemBox(e)); return; }
  const el = fields[at];
  el.setAttribute('aria-invalid', 'true');
  const place = p.pointer !== at && where ? where(p.pointer) : null;
  // With the place in words, the message's own "schedule: layers/0/people/1: " is noise.
  const detail = place ? p.detail.replace(/^[a-z_]+: (?:[\w/]+: )?/, '') : p.detail;
  el.after(h('p', { class: 'field-error', role: 'alert' }, place ? `${place}: ` : null, detail,
    p.pointer !== at ? h('span', { class: 'muted small' }, ` (${p.pointer})`) : null));
  el.focus();
}
function clearFieldProblems(root) {
  for (const el of root.querySelectorAll('.field-error')) el.remove();
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// "Mon 30/11, 16:34" / "11/30周一 16:34": a shift's ends, short enough for a phone.
function fmtShort(iso) {
  const key = `short|${locale()}`;
  if (!formats.has(key)) formats.set(key, new Intl.DateTimeFormat(locale(), { weekday: 'short', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false }));
  return formats.get(key).format(new Date(iso));
}

function shiftsTable(shifts, us, attrs) {
  return h('table', Object.assign({ class: 'shifts' }, attrs || {}), h('thead', {}, h('tr', {}, [t('from'), t('to'), t('oncall'), t('source')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, shifts.map((s) => h('tr', {}, h('td', {}, fmtShort(s.from)), h('td', {}, fmtShort(s.to)),
      h('td', {}, s.user_id ? nameOf(us, s.user_id) : t('rota_nobody')), h('td', {}, s.source || t('none'))))));
}

async function pageOncall(main) {
  const [rotas, us, ts] = await Promise.all([api('GET', '/oncall').then((r) => r.rotas), users(), teams()]);
  add(main, h('h1', {}, t('oncall')));
  if (rotaNote) { add(main, h('p', { class: 'ok', role: 'status', id: 'rota-saved' }, rotaNote)); rotaNote = null; }
  for (const r of rotas) {
    const [who, shifts] = await Promise.all([api('GET', `/oncall/${r.id}/who`).catch(() => null),
      api('GET', `/oncall/${r.id}/shifts?days=14`)]);
    add(main, h('div', { class: 'card', 'data-rota': r.id }, h('h2', {}, `${r.name} · ${nameOf(ts, r.team_id)} · L${r.level}`),
      h('p', {}, t('who_now'), ': ', who && who.user_id ? h('b', {}, nameOf(us, who.user_id)) : t('none')),
      h('div', { class: 'scroll' }, shiftsTable(shifts.shifts, us))));
  }
  // The editor opens on the rota in force (the one saved last, else the first).
  const label = (r) => `${r.name} · ${nameOf(ts, r.team_id)} · L${r.level}`;
  const pick = h('select', { name: 'rota' }, rotas.map((r) => h('option', { value: r.id }, label(r))), h('option', { value: '' }, t('rota_new')));
  pick.value = rotas.some((r) => r.id === rotaShown) ? String(rotaShown) : (rotas.length ? String(rotas[0].id) : '');
  const team = h('select', { name: 'team' }, ts.map((x) => h('option', { value: x.id }, x.name)));
  const level = h('input', { type: 'number', name: 'level', min: 1, max: 9, value: 1 });
  const spec = h('textarea', { class: 'code', name: 'schedule', rows: 14, spellcheck: 'false' });
  const staffList = us.filter((u) => u.role !== 'customer');
  const fill = () => {
    const r = rotas.find((x) => String(x.id) === pick.value);
    if (r) {
      team.value = String(r.team_id);
      level.value = r.level;
      spec.value = JSON.stringify(r.schedule, null, 2);
    } else { // a new rota: a weekly rotation of the team's agents from today
      const t0 = ts.length ? ts[0].id : null;
      const people = staffList.filter((u) => u.role === 'agent' && (!t0 || u.team_id === t0)).map((u) => u.id).slice(0, 3);
      spec.value = JSON.stringify({ name: `${ts.length ? ts[0].name : ''} L1`.trim(), tz: Intl.DateTimeFormat().resolvedOptions().timeZone || 'Asia/Shanghai',
        layers: [{ name: 'weekly', rotation: 'weekly', start: new Date().toISOString().slice(0, 10), handoff: '09:00', people }] }, null, 2);
    }
  };
  fill();
  const confirmBox = h('div', { id: 'rota-confirm', 'aria-live': 'polite' });
  const general = h('div');
  const stale = () => { clear(confirmBox); clearFieldProblems(editor); };
  pick.addEventListener('change', () => { fill(); stale(); });
  for (const el of [team, level, spec]) el.addEventListener('input', () => clear(confirmBox));
  team.addEventListener('change', () => clear(confirmBox));
  const fields = { '/team_id': team, '/level': level, '/schedule': spec };
  // "/schedule/layers/0/people/1" -> "Layer 1 “days”, person 2"
  const where = (ptr) => {
    let doc = {};
    try { doc = JSON.parse(spec.value); } catch (x) { /* described by the pointer alone */ }
    const m = ptr.match(/^\/schedule\/(layers|overrides)\/(\d+)(?:\/people\/(\d+))?/);
    if (!m) return null;
    if (m[1] === 'overrides') return t('rota_at_override', { n: Number(m[2]) + 1 });
    const layer = (doc.layers || [])[Number(m[2])] || {};
    const vars = { l: Number(m[2]) + 1, name: layer.name || '', n: Number(m[3]) + 1 };
    return t(m[3] !== undefined ? 'rota_at_person' : 'rota_at_layer', vars);
  };
  async function check(e) {
    e.preventDefault();
    stale();
    clear(general);
    let schedule;
    try { schedule = JSON.parse(spec.value); } catch (x) {
      fieldProblem({ problem: { detail: t('rota_bad_json', { e: x.message }), pointer: '/schedule' } }, fields, general);
      return;
    }
    const body = { team_id: Number(team.value), level: Number(level.value), schedule };
    const btn = editor.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const p = await api('POST', '/oncall?dry_run=true', body);
      const vars = { name: p.name, team: nameOf(ts, p.team_id), l: p.level };
      add(confirmBox, h('div', { class: 'card preview-box' }, h('h2', {}, t('rota_preview_title')),
        h('p', {}, t(p.replaces ? 'rota_replaces' : 'rota_creates', Object.assign({}, vars,
          { name: p.replaces ? (rotas.find((r) => r.id === p.replaces) || p).name : p.name }))),
        h('div', { class: 'scroll' }, shiftsTable(p.shifts, us, { id: 'rota-preview' })),
        h('p', { class: 'row' }, h('button', { type: 'button', id: 'rota-confirm-save', onclick: async (ev) => {
          ev.target.disabled = true;
          try {
            const r = await api('POST', '/oncall', body);
            rotaShown = r.id;
            rotaNote = t('rota_saved', { name: r.name, team: nameOf(ts, r.team_id), l: r.level });
            toast(rotaNote);
            router();
          } catch (x) { ev.target.disabled = false; clear(confirmBox); fieldProblem(x, fields, general, where); }
        } }, t('rota_confirm')),
        h('button', { type: 'button', class: 'secondary', onclick: () => { clear(confirmBox); spec.focus(); } }, t('rota_back')))));
      confirmBox.scrollIntoView({ block: 'nearest' });
    } catch (x) { fieldProblem(x, fields, general, where); } finally { btn.disabled = false; }
  }
  const editor = h('form', { id: 'rota-editor', onsubmit: check },
    h('div', { class: 'row' }, h('label', {}, t('rota'), pick), h('label', {}, t('team'), team), h('label', {}, t('level'), level)),
    h('label', {}, t('rota_schedule'), spec),
    h('p', { class: 'small muted' }, t('rota_people', { list: staffList.map((u) => `${u.id} = ${u.name}`).join(', ') })),
    general, h('p', {}, h('button', { type: 'submit', id: 'rota-check' }, t('rota_check'))));
  add(main, h('h2', {}, t('rota_edit')), ts.length ? h('div', { class: 'card' }, editor, confirmBox) : h('p', { class: 'muted' }, t('rota_no_team')));
}

// The kinds of notification (the catalogue's) as checkboxes; none ticked: all.
function eventBoxes(chosen) {
  const kinds = catalogue.notifications || [];
  const boxes = kinds.map((k) => h('input', { type: 'checkbox', name: 'events', value: k.id, checked: (chosen || []).includes(k.id) }));
  const el = h('fieldset', { class: 'events' }, h('legend', {}, t('events'), ' ', h('span', { class: 'small muted' }, `(${t('events_hint')})`)),
    kinds.map((k, i) => h('label', {}, boxes[i], label(k))));
  el.value = () => boxes.filter((b) => b.checked).map((b) => b.value);
  return el;
}

const KINDS = ['webhook', 'email', 'dingtalk', 'feishu', 'wecom'];
const eventNames = (list) => (list && list.length
  ? list.map((id) => label((catalogue.notifications || []).find((k) => k.id === id)) || id).join(', ') : t('all_events'));

// The last test's outcome per endpoint id, kept across redraws of the page
// (a redraw while the test's answer is on its way must not lose it).
const testOutcomes = new Map();

// Notifications: where they go (edit, disable, delete, send a test and see
// what became of it) and the outbox with each attempt's error.
async function pageEndpoints(main) {
  const eps = (await api('GET', '/endpoints')).endpoints;
  const outbox = h('tbody');
  // the newest 50, first; drawn again after a test so its attempt shows
  const loadOutbox = async () => {
    const recent = (await apiAll('/outbox?limit=500', 'notifications', 20000)).slice(-50).reverse();
    clear(outbox).append(...(recent.length ? [] : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, t('none')))]), ...recent.map((n) =>
      h('tr', { 'data-id': n.id, 'data-state': n.state },
        h('td', {}, eventNames([n.kind])), h('td', {}, epName(n.endpoint_id)),
        h('td', {}, n.ticket_id ? h('a', { href: `#/t/${n.ticket_id}` }, n.ticket_id) : t('none')),
        h('td', {}, stLabel(n.state)), h('td', { class: 'num' }, n.attempts),
        h('td', { class: n.last_error ? 'small error' : 'small' }, n.last_error || t('none')),
        h('td', { class: 'small' }, n.state === 'pending' ? fmtTime(n.next_at) : t('none')),
        h('td', {}, n.state === 'dead' ? h('button', { type: 'button', class: 'secondary', onclick: async () => {
          await api('POST', `/outbox/${n.id}/retry`); router();
        } }, t('retry')) : null))));
  };
  const epName = (id) => { const e = eps.find((x) => x.id === id); return e ? e.name : `#${id}`; };
  const editor = (e) => {
    const nm = h('input', { name: 'name', required: true, value: e ? e.name : '', 'aria-label': t('name') });
    const kind = h('select', { name: 'kind', 'aria-label': t('kind') }, KINDS.map((k) => h('option', { value: k, selected: e && e.kind === k }, k)));
    const url = h('input', { name: 'url', required: true, value: e ? e.url : '', 'aria-label': t('url') });
    const secret = h('input', { name: 'secret', 'aria-label': t('secret'), placeholder: e && e.signed ? t('keep_secret') : '' });
    const drop = h('input', { type: 'checkbox', name: 'remove_secret' });
    const events = eventBoxes(e ? e.events : []);
    return form(async () => {
      const b = { name: nm.value, kind: kind.value, url: url.value, events: events.value() };
      if (secret.value) b.secret = secret.value;
      else if (e && drop.checked) b.secret = null;
      if (e) await api('PATCH', `/endpoints/${e.id}`, b); else await api('POST', '/endpoints', b);
      toast(t('saved'));
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), nm), h('label', {}, t('kind'), kind), h('label', { class: 'wide' }, t('url'), url),
      h('label', {}, t('secret'), secret), e && e.signed ? h('label', { class: 'inline' }, drop, ' ', t('remove_secret')) : null),
    events, h('p', {}, h('button', { type: 'submit', class: e ? 'save-endpoint' : null, id: e ? null : 'create-endpoint' }, e ? t('save') : t('create')),
      e ? [' ', h('button', { type: 'button', class: 'secondary', onclick: () => router() }, t('cancel'))] : null));
  };
  const row = (e) => {
    const outcome = h('div', { class: 'outcome', role: 'status' });
    const shown = testOutcomes.get(e.id);
    if (shown) {
      outcome.className = shown.cls;
      outcome.textContent = shown.text;
    }
    let armed = false;
    const del = h('button', { type: 'button', class: 'danger delete-endpoint', onclick: async () => {
      if (!armed) { armed = true; del.textContent = t('confirm_delete', { n: e.name }); return; }
      await api('DELETE', `/endpoints/${e.id}`);
      toast(t('deleted', { n: e.name }));
      router();
    } }, t('delete'));
    const tr = h('tr', { 'data-id': e.id, class: e.active ? null : 'muted' },
      h('td', {}, e.name), h('td', {}, e.kind), h('td', { class: 'small url' }, e.url),
      h('td', { class: 'small' }, eventNames(e.events)), h('td', {}, e.active ? t('yes') : t('disabled')),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary send-test', onclick: async (ev) => {
          ev.target.disabled = true;
          clear(outcome).className = 'outcome';
          try {
            const r = await api('POST', `/endpoints/${e.id}/test`);
            const text = r.delivered ? t('test_ok', { n: e.name }) : r.error ? t('test_failed', { n: e.name, e: r.error }) : t('test_pending', { n: e.name });
            outcome.className = 'outcome ' + (r.delivered ? 'ok' : 'bad');
            outcome.textContent = text;
            testOutcomes.set(e.id, { cls: outcome.className, text });
            // the page may have been drawn again meanwhile: show it on the row now shown
            const now = document.querySelector(`#endpoints tr[data-id="${e.id}"] .outcome`);
            if (now && now !== outcome) { now.className = outcome.className; now.textContent = text; }
            toast(text);
            await loadOutbox();
          } catch (x) { outcome.append(problemBox(x)); } finally { ev.target.disabled = false; }
        } }, t('send_test')), ' ',
        h('button', { type: 'button', class: 'secondary edit-endpoint', onclick: () => {
          tr.replaceWith(h('tr', { 'data-id': e.id, class: 'editing' }, h('td', { colspan: 6 }, editor(e))));
        } }, t('edit')), ' ',
        h('button', { type: 'button', class: 'secondary toggle-endpoint', onclick: async () => {
          await api('PATCH', `/endpoints/${e.id}`, { active: !e.active });
          toast(t('saved'));
          router();
        } }, e.active ? t('disable') : t('enable')), ' ', del, outcome));
    return tr;
  };
  add(main, h('h1', {}, t('endpoints')),
    h('div', { class: 'board' }, h('table', { id: 'endpoints' }, h('thead', {}, h('tr', {}, [t('name'), t('kind'), t('url'), t('events'), t('active'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, eps.length ? eps.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('none')))))),
    h('h2', {}, t('create')), h('div', { class: 'card' }, editor(null)),
    h('h2', {}, t('outbox')),
    h('div', { class: 'board' }, h('table', { id: 'outbox' }, h('thead', {}, h('tr', {}, [t('events'), t('endpoint'), t('ticket'), t('state'), t('attempts'), t('error'), t('next_attempt'), ''].map((x) => h('th', {}, x)))),
      outbox)));
  await loadOutbox();
}

// ---- attachments: files on tickets (drop them, choose them; images shown) ----

Object.assign(STRINGS.en, {
  attachments: 'Attachments', no_attachments: 'No files yet.', drop_files: 'Drop files here or',
  choose_files: 'choose files', uploading: 'Uploading {n}…', uploaded: 'Attached {n}',
  upload_failed: 'Could not attach {n}: {e}', file_too_big: 'it is larger than the server allows',
  files_with_reply: 'Files', download: 'Download', ev_attachment: 'attached a file',
  attached_by: '{who} · {t}', internal_file: 'internal',
});
Object.assign(STRINGS.zh, {
  attachments: '附件', no_attachments: '暂无附件。', drop_files: '将文件拖放到此处，或',
  choose_files: '选择文件', uploading: '正在上传 {n}…', uploaded: '已添加附件 {n}',
  upload_failed: '未能添加附件 {n}：{e}', file_too_big: '文件超出服务器允许的大小',
  files_with_reply: '附件', download: '下载', ev_attachment: '添加了附件',
  attached_by: '{who} · {t}', internal_file: '内部',
});

// Types shown inline: raster images only (never SVG, which can carry script).
const PREVIEW = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

function fmtSize(n) {
  if (n < 1024) return `${fmtNum(n)} B`;
  if (n < 1048576) return `${fmtNum(Math.round(n / 102.4) / 10)} KiB`;
  return `${fmtNum(Math.round(n / 104857.6) / 10)} MiB`;
}

// POST the file's bytes as the body (not a form), its name in ?name=.
async function upload(ticketId, file, comment) {
  let q = `name=${encodeURIComponent(file.name)}`;
  if (comment) q += `&comment=${comment}`;
  own.writes++;
  try {
    const r = await fetch(`/api/v1/tickets/${ticketId}/attachments?${q}`, { method: 'POST', body: file,
      credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'X-CSRF-Token': session.csrf || '',
        'Content-Type': file.type || 'application/octet-stream' } });
    const text = await r.text();
    const data = (r.headers.get('Content-Type') || '').includes('json') && text ? JSON.parse(text) : text;
    if (r.status === 401) { session.me = null; location.hash = '#/login'; }
    if (!r.ok) throw Object.assign(new Error(r.status === 413 ? t('file_too_big') : data.detail || r.statusText),
      { status: r.status, problem: r.status === 413 ? null : data });
    return data;
  } finally { own.writes--; }
}

// Upload files one after another, saying how each went; true when all went.
async function uploadAll(ticketId, files, comment, note) {
  let ok = true;
  for (const f of files) {
    if (note) note.textContent = t('uploading', { n: f.name });
    try { await upload(ticketId, f, comment); toast(t('uploaded', { n: f.name })); }
    catch (e) { ok = false; toast(t('upload_failed', { n: f.name, e: e.problem ? e.problem.detail : e.message })); }
  }
  if (note) note.textContent = '';
  return ok;
}

// A place to drop files on, with a file input beside it; onfiles(list).
function dropZone(onfiles, id) {
  const input = h('input', { type: 'file', multiple: true, class: 'file-input', 'aria-label': t('choose_files'),
    onchange: () => { if (input.files.length) onfiles([...input.files]); } });
  const zone = h('div', { class: 'drop', id, tabindex: 0 }, t('drop_files'), ' ',
    h('label', { class: 'inline file-label' }, input, h('span', { class: 'linkish' }, t('choose_files'))));
  zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length) onfiles([...e.dataTransfer.files]);
  });
  return zone;
}

// Files picked for a form, shown as a list until it is sent.
function filePicker(id) {
  const picked = [];
  const list = h('ul', { class: 'picked small' });
  const paint = () => clear(list).append(...picked.map((f, i) => h('li', {}, `${f.name} (${fmtSize(f.size)}) `,
    h('button', { type: 'button', class: 'secondary small', 'aria-label': t('delete'),
      onclick: () => { picked.splice(i, 1); paint(); } }, '×'))));
  const zone = dropZone((fs) => { picked.push(...fs); paint(); }, id);
  return { el: h('div', { class: 'picker' }, h('div', { class: 'small muted' }, t('files_with_reply')), zone, list), files: picked };
}

// The ticket's files: previews of images, a download link for each.
function attachmentsCard(ticketId, list, us, reload) {
  const note = h('span', { class: 'small muted', 'aria-live': 'polite' });
  const items = list.map((a) => {
    const who = a.created_by_name || nameOf(us, a.created_by);
    return h('li', { 'data-attachment': a.id, class: a.internal ? 'internal' : '' },
      PREVIEW.has(a.content_type)
        ? h('a', { href: a.url, download: a.name, class: 'thumb' }, h('img', { src: a.url, alt: a.name, loading: 'lazy' }))
        : h('span', { class: 'thumb file-icon', 'aria-hidden': 'true' }, (a.name.split('.').pop() || '').slice(0, 4).toUpperCase()),
      h('div', { class: 'att-meta' },
        h('a', { href: a.url, download: a.name, class: 'att-name' }, a.name),
        h('div', { class: 'small muted' }, `${fmtSize(a.size)} · ${a.content_type}`, a.internal ? ` · ${t('internal_file')}` : ''),
        h('div', { class: 'small muted' }, t('attached_by', { who, t: fmtTime(a.created_at) }))));
  });
  return h('div', { class: 'card', id: 'attachments' }, h('h2', {}, t('attachments')),
    items.length ? h('ul', { class: 'attachments' }, items) : h('p', { class: 'muted' }, t('no_attachments')),
    dropZone(async (files) => { await uploadAll(ticketId, files, null, note); reload(); }, 'drop-files'), note);
}

// Who follows the ticket: Follow / Unfollow for oneself; staff add and remove others.
Object.assign(STRINGS.en, {
  watchers: 'Watchers', no_watchers: 'Nobody follows this ticket.', follow: 'Follow', unfollow: 'Unfollow',
  watch_hint: 'Watchers are told of its comments and changes in their Inbox.', add_watcher: 'Add a watcher',
  watcher_pick: '— choose a person —', add: 'Add', remove_watcher: 'Remove {n}', n_comment: 'New comment', n_state: 'Status changed',
});
Object.assign(STRINGS.zh, {
  watchers: '关注人', no_watchers: '暂无人关注此工单。', follow: '关注', unfollow: '取消关注',
  watch_hint: '关注人会在“提醒”中收到此工单的回复和状态变化。', add_watcher: '添加关注人',
  watcher_pick: '— 选择人员 —', add: '添加', remove_watcher: '移除 {n}', n_comment: '新回复', n_state: '状态已变更',
});
function watchersCard(ticket, w, us, reload) {
  const note = h('p', { class: 'problem', role: 'alert', hidden: true });
  const act = async (method, path, body) => {
    note.hidden = true;
    try { await api(method, `/tickets/${ticket.id}/watchers${path}`, body); reload(); }
    catch (e) { note.textContent = e.message; note.hidden = false; }
  };
  const items = w.watchers.map((x) => h('li', { 'data-user': x.user_id }, x.name,
    x.role === 'customer' ? h('span', { class: 'small muted' }, ` · ${t('role_customer')}`) : null,
    staff() && x.user_id !== session.me.id ? h('button', { type: 'button', class: 'secondary small remove-watcher',
      'aria-label': t('remove_watcher', { n: x.name }), onclick: () => act('DELETE', `?user_id=${x.user_id}`) }, '×') : null));
  let adder = null;
  if (staff()) {
    const taken = new Set(w.watchers.map((x) => x.user_id));
    const pick = h('select', { id: 'watcher-pick', 'aria-label': t('add_watcher') }, h('option', { value: '' }, t('watcher_pick')),
      us.filter((u) => !taken.has(u.id) && u.active !== false && (u.role !== 'customer' || u.org_id === ticket.org_id))
        .map((u) => h('option', { value: u.id }, u.name)));
    adder = h('form', { class: 'row', id: 'add-watcher', onsubmit: (e) => {
      e.preventDefault(); if (pick.value) act('POST', '', { user_id: Number(pick.value) }); } },
    pick, h('button', { type: 'submit', class: 'secondary' }, t('add')));
  }
  return h('div', { class: 'card', id: 'watchers' }, h('h2', {}, t('watchers')),
    items.length ? h('ul', { class: 'watchers' }, items) : h('p', { class: 'muted' }, t('no_watchers')),
    h('button', { type: 'button', id: 'follow', class: w.watching ? 'secondary' : '',
      onclick: () => act(w.watching ? 'DELETE' : 'POST', '') }, t(w.watching ? 'unfollow' : 'follow')),
    h('p', { class: 'small muted' }, t('watch_hint')), adder, note);
}

// The seq of the caller's latest comment on the ticket (files go with it).
async function myLastComment(ticketId) {
  const evs = (await api('GET', `/tickets/${ticketId}/events`)).events;
  const mine = evs.filter((e) => e.type === 'comment' && e.actor === session.me.id);
  return mine.length ? mine[mine.length - 1].seq : null;
}

// ---- people: one's own settings, and an admin's edits ----

Object.assign(STRINGS.en, {
  settings: 'My settings', time_zone: 'Time zone', lang_pref: 'Language', lang_zh: '中文 (Chinese)',
  lang_en: 'English', browser_default: 'As the browser', change_password: 'Change password',
  current_password: 'Current password', new_password: 'New password', saved: 'Saved',
  password_changed: 'Password changed; your other sessions were signed out.',
  active: 'Active', deactivated: 'Deactivated', deactivate: 'Deactivate', activate: 'Activate',
  reset_password: 'Reset password', skills: 'Skills (comma-separated)', col_status: 'Status',
  confirm_deactivate: 'Deactivate {n}? Their sessions and API tokens stop at once. Click again to confirm.',
  confirm_deactivate_org: 'Deactivate {n}? Its customers are signed out and no new tickets are opened for it. Click again to confirm.',
  password_reset_done: 'Password reset; {n} was signed out everywhere.', edit_user: 'Edit {n}',
  edit_org: 'Edit {n}', tz_hint: 'e.g. Asia/Shanghai', times_in: 'Times are shown in {z}.',
});
Object.assign(STRINGS.zh, {
  settings: '个人设置', time_zone: '时区', lang_pref: '语言', lang_zh: '中文',
  lang_en: 'English', browser_default: '跟随浏览器', change_password: '修改密码',
  current_password: '当前密码', new_password: '新密码', saved: '已保存',
  password_changed: '密码已修改，您在其他地方的登录已退出。',
  active: '启用中', deactivated: '已停用', deactivate: '停用', activate: '重新启用',
  reset_password: '重置密码', skills: '技能（用逗号分隔）', col_status: '状态',
  confirm_deactivate: '停用 {n}？其登录会话和 API 令牌将立即失效。再次点击确认。',
  confirm_deactivate_org: '停用 {n}？其客户将被登出，也不能再为其新建工单。再次点击确认。',
  password_reset_done: '密码已重置，{n} 的所有登录均已退出。', edit_user: '编辑 {n}',
  edit_org: '编辑 {n}', tz_hint: '如 Asia/Shanghai', times_in: '时间按 {z} 显示。',
});

// Zones the browser knows, for the list (the server checks the one chosen).
function zoneList() {
  try { return Intl.supportedValuesOf('timeZone'); } catch (e) { return ['Asia/Shanghai', 'UTC', 'Europe/London', 'America/New_York']; }
}

function langSelect(value) {
  return h('select', { name: 'lang', 'aria-label': t('lang_pref') },
    [['', t('browser_default')], ['zh', t('lang_zh')], ['en', t('lang_en')]].map(([v, l]) =>
      h('option', { value: v, selected: (value || '') === v }, l)));
}

function tzInput(value, id) {
  const listId = `${id}-zones`;
  return [h('input', { name: 'tz', list: listId, value: value || '', placeholder: t('tz_hint'), 'aria-label': t('time_zone'), autocomplete: 'off' }),
    h('datalist', { id: listId }, zoneList().map((z) => h('option', { value: z })))];
}

// What the page follows from the person's settings: their language when
// they signed in, their zone for every time shown.
function applyMe(fresh) {
  const me = session.me;
  if (fresh && me && me.lang) { lang = me.lang; localStorage.setItem('kw.lang', lang); }
}

async function pageSettings(main) {
  const me = session.me = await api('GET', '/me');
  session.csrf = me.csrf_token || session.csrf;
  const nm = h('input', { name: 'name', required: true, value: me.name, 'aria-label': t('name') });
  const lg = langSelect(me.lang);
  const [tz, zones] = tzInput(me.tz, 'me');
  const cur = h('input', { type: 'password', name: 'current_password', required: true, autocomplete: 'current-password', 'aria-label': t('current_password') });
  const pw = h('input', { type: 'password', name: 'new_password', required: true, minlength: 8, autocomplete: 'new-password', 'aria-label': t('new_password') });
  add(main, h('h1', {}, t('settings')),
    h('div', { class: 'card', id: 'settings' }, form(async () => {
      session.me = await api('PATCH', '/me', { name: nm.value, lang: lg.value || null, tz: tz.value.trim() || null });
      if (lg.value) { lang = lg.value; localStorage.setItem('kw.lang', lang); }
      formats.clear();
      toast(t('saved'));
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), nm), h('label', {}, t('lang_pref'), lg),
      h('label', {}, t('time_zone'), tz, zones), h('button', { type: 'submit', id: 'save-settings' }, t('save'))),
    h('p', { class: 'small muted' }, t('times_in', { z: me.tz || Intl.DateTimeFormat().resolvedOptions().timeZone })))),
    h('h2', {}, t('change_password')),
    h('div', { class: 'card', id: 'password' }, form(async (f) => {
      await api('POST', '/me/password', { current_password: cur.value, password: pw.value });
      f.reset();
      toast(t('password_changed'));
    }, h('div', { class: 'row' }, h('label', {}, t('current_password'), cur), h('label', {}, t('new_password'), pw),
      h('button', { type: 'submit', id: 'change-password' }, t('change_password'))))));
}

// A button that asks once more before it acts.
function twiceButton(text, ask, act, attrs) {
  let armed = false;
  const b = h('button', Object.assign({ type: 'button', class: 'secondary' }, attrs || {}), text);
  b.addEventListener('click', async () => {
    if (!armed) { armed = true; b.textContent = ask; b.classList.add('danger'); return; }
    b.disabled = true;
    try { await act(); } catch (e) { b.after(problemBox(e)); b.disabled = false; }
  });
  return b;
}

// An admin's editor of one person, shown in place of their row.
function userEditor(u, ts, done) {
  const staffRoles = ['agent', 'manager', 'admin'];
  const nm = h('input', { name: 'name', value: u.name, required: true, 'aria-label': t('name') });
  const email = h('input', { type: 'email', name: 'email', value: u.email, required: true, 'aria-label': t('email') });
  const role = h('select', { name: 'role', 'aria-label': t('role') }, (u.role === 'customer' ? ['customer'] : staffRoles)
    .map((r) => h('option', { value: r, selected: r === u.role }, t('role_' + r))));
  const team = h('select', { name: 'team', 'aria-label': t('team'), disabled: u.role === 'customer' }, h('option', { value: '' }, t('none')),
    ts.map((x) => h('option', { value: x.id, selected: x.id === u.team_id }, x.name)));
  const skills = h('input', { name: 'skills', value: (u.skills || []).join(', '), 'aria-label': t('skills') });
  const lg = langSelect(u.lang);
  const [tz, zones] = tzInput(u.tz, `u${u.id}`);
  const pw = h('input', { type: 'password', name: 'reset_password', minlength: 8, autocomplete: 'new-password', 'aria-label': t('reset_password') });
  const self = session.me && session.me.id === u.id;
  return h('div', { class: 'card user-editor', 'data-user': u.id }, h('h3', {}, t('edit_user', { n: u.name })),
    form(async () => {
      const b = { name: nm.value, email: email.value, role: role.value, lang: lg.value || null, tz: tz.value.trim() || null,
        skills: skills.value.split(/[,，]/).map((x) => x.trim()).filter(Boolean) };
      if (u.role !== 'customer') b.team_id = team.value ? Number(team.value) : null;
      await api('PATCH', `/users/${u.id}`, b);
      session.cache.delete('users');
      done();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), nm), h('label', {}, t('email'), email), h('label', {}, t('role'), role),
      h('label', {}, t('team'), team), h('label', {}, t('skills'), skills), h('label', {}, t('lang_pref'), lg),
      h('label', {}, t('time_zone'), tz, zones), h('button', { type: 'submit', class: 'save-user' }, t('save')),
      h('button', { type: 'button', class: 'secondary', onclick: () => done() }, t('cancel')))),
    form(async () => {
      await api('PATCH', `/users/${u.id}`, { password: pw.value });
      toast(t('password_reset_done', { n: u.name }));
      done();
    }, h('div', { class: 'row' }, h('label', {}, t('reset_password'), pw), h('button', { type: 'submit', class: 'secondary' }, t('reset_password')))),
    self ? null : h('div', { class: 'row' }, u.active
      ? twiceButton(t('deactivate'), t('confirm_deactivate', { n: u.name }), async () => {
        await api('PATCH', `/users/${u.id}`, { active: false }); session.cache.delete('users'); done();
      }, { class: 'secondary deactivate' })
      : h('button', { type: 'button', class: 'activate', onclick: async () => {
        await api('PATCH', `/users/${u.id}`, { active: true }); session.cache.delete('users'); done();
      } }, t('activate'))));
}

// A manager's editor of one organisation.
function orgEditor(o, tiers, cals, us, done) {
  const nm = h('input', { name: 'name', value: o.name, required: true, 'aria-label': t('name') });
  const tier = h('select', { name: 'tier', 'aria-label': t('tier') }, h('option', { value: '' }, t('none')),
    tiers.map((x) => h('option', { value: x.id, selected: x.id === o.tier }, label(x))));
  const region = h('input', { name: 'region', value: o.region || '', 'aria-label': t('region') });
  const cal = h('select', { name: 'calendar', 'aria-label': t('calendar') }, h('option', { value: '' }, t('none')),
    cals.map((c) => h('option', { value: c.name, selected: c.name === o.calendar }, c.name)));
  const am = h('select', { name: 'account_manager', 'aria-label': t('account_manager') }, h('option', { value: '' }, t('none')),
    us.filter((u) => u.role !== 'customer' && u.active !== false).map((u) => h('option', { value: u.id, selected: u.id === o.account_manager_id }, u.name)));
  return h('div', { class: 'card org-editor', 'data-org': o.id }, h('h3', {}, t('edit_org', { n: o.name })),
    form(async () => {
      await api('PATCH', `/orgs/${o.id}`, { name: nm.value, tier: tier.value || null, region: region.value.trim() || null,
        calendar: cal.value || null, account_manager_id: am.value ? Number(am.value) : null });
      session.cache.delete('orgs');
      done();
    }, h('div', { class: 'row' }, h('label', {}, t('name'), nm), h('label', {}, t('tier'), tier), h('label', {}, t('region'), region),
      h('label', {}, t('calendar'), cal), h('label', {}, t('account_manager'), am),
      h('button', { type: 'submit', class: 'save-org' }, t('save')), h('button', { type: 'button', class: 'secondary', onclick: () => done() }, t('cancel')))),
    h('div', { class: 'row' }, o.active !== false
      ? twiceButton(t('deactivate'), t('confirm_deactivate_org', { n: o.name }), async () => {
        await api('PATCH', `/orgs/${o.id}`, { active: false }); session.cache.delete('orgs'); done();
      }, { class: 'secondary deactivate' })
      : h('button', { type: 'button', class: 'activate', onclick: async () => {
        await api('PATCH', `/orgs/${o.id}`, { active: true }); session.cache.delete('orgs'); done();
      } }, t('activate'))));
}

// ---- routing ----

// The call-back desk (回访): per team, the least time left first; a call is
// recorded in place, and the list follows.
async function pageCallbacks(main) {
  const [list, ts, os, us] = await Promise.all([api('GET', '/callbacks?limit=500'), teams(), orgs(), users()]);
  const first = list.callbacks[0];
  const max = first ? first.attempts + first.attempts_left : 3;
  add(main, h('h1', {}, t('callbacks_title')), h('p', { class: 'muted small' }, t('callbacks_note', { n: max })));
  if (!list.callbacks.length) { add(main, h('p', { id: 'no-callbacks' }, t('callbacks_none'))); return; }
  const groups = new Map();
  for (const c of list.callbacks) {
    const k = c.team_id || 0;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(c);
  }
  for (const [team, rows] of groups) {
    const name = team ? nameOf(ts, team) : t('no_team');
    add(main, h('section', { class: 'card', 'data-team': team },
      h('h2', {}, name, ' ', h('span', { class: 'muted small' }, `(${rows.length})`)),
      h('ul', { class: 'callbacks' }, rows.map((c) => callbackRow(c, os, us)))));
  }
}

function callbackRow(c, os, us) {
  const reached = h('select', { name: 'reached', 'aria-label': t('call_outcome') },
    h('option', { value: 'yes' }, t('reached')), h('option', { value: 'no' }, t('not_reached')));
  const sat = h('select', { name: 'satisfaction', 'aria-label': t('satisfaction') }, [5, 4, 3, 2, 1].map((n) => h('option', { value: n }, '★'.repeat(n) + ` ${n}`)));
  const nps = h('input', { type: 'number', name: 'nps', min: 0, max: 10, 'aria-label': t('nps'), placeholder: '0-10', class: 'narrow' });
  const note = h('input', { name: 'note', 'aria-label': t('notes'), placeholder: t('notes') });
  const follow = h('input', { name: 'follow_up', 'aria-label': t('follow_up'), placeholder: t('follow_up') });
  const rating = [h('label', {}, t('satisfaction'), sat), h('label', {}, t('nps_short'), nps), h('label', {}, t('follow_up'), follow)];
  reached.addEventListener('change', () => { for (const l of rating) l.hidden = reached.value !== 'yes'; });
  const left = c.left === null ? t('none') : c.left >= 0 ? t('due_in', { d: fmtDur(c.left) }) : t('overdue', { d: fmtDur(-c.left) });
  return h('li', { 'data-ticket': c.ticket, class: c.status === 'breached' ? 'late' : '' },
    h('div', { class: 'row' }, h('a', { href: `#/t/${c.ticket}` }, `#${c.ticket} ${c.title}`),
      h('span', { class: 'muted' }, c.org_name || nameOf(os, c.org_id)),
      h('span', { class: 'clock ' + (c.status === 'breached' ? 'breached' : c.left < 4 * 3600 ? 'yellow' : 'blue') }, left),
      h('span', { class: 'small muted' }, t('attempts_n', { n: c.attempts })),
      c.last_call_at ? h('span', { class: 'small muted' }, t('last_call_at', { t: fmtTime(c.last_call_at) })) : null,
      c.assignee_id ? h('span', { class: 'small muted' }, nameOf(us, c.assignee_id)) : null),
    form(async () => {
      const yes = reached.value === 'yes';
      const r = await api('POST', `/tickets/${c.ticket}/callbacks`, yes
        ? { reached: true, satisfaction: Number(sat.value), nps: nps.value === '' ? null : Number(nps.value), note: note.value || undefined, follow_up: follow.value || undefined }
        : { reached: false, note: note.value || undefined });
      toast(r.task ? t('call_task') : t('call_recorded'));
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('call_outcome'), reached), ...rating, h('label', {}, t('notes'), note),
      h('button', { type: 'submit', class: 'record-call' }, t('record_call')))));
}

// ---- contracts and the credit ledger (#/contracts, #/contracts/N) ----

Object.assign(STRINGS.en, {
  contracts: 'Contracts', ct_org: 'Organisation', ct_value: 'Value per billing period', ct_period: 'Period',
  ct_billing: 'Billing', ct_monthly: 'monthly', ct_annual: 'annual', ct_commitment: 'Commitment',
  ct_deposit_required: 'Deposit required', ct_deposit_held: 'Deposit held', ct_deposit_balance: 'Deposit balance',
  ct_deposit_short: 'Deposit below what the contract requires', ct_credits: 'Credits owed in all', ct_claimed: 'Claimed',
  ct_settled: 'Settled', ct_owed: 'Still owed', ct_ledger: 'Credit ledger', ct_none: 'No contract yet.',
  ct_no_entries: 'No entries yet.', ct_kind: 'Entry', ct_amount: 'Amount', ct_quantity: 'Quantity', ct_at: 'When',
  ct_detail: 'Details', ct_hash: 'Hash', k_accrual: 'accrual', k_adjustment: 'adjustment', k_claim: 'claim',
  k_settlement: 'settlement', k_remedy: 'remedy', ct_currency: 'Currency', ct_start: 'Starts', ct_end: 'Ends (exclusive)',
  ct_percent: 'percent of value', ct_fixed: 'fixed amount', ct_dual: 'Second manager needed above',
  ct_new: 'New contract', ct_adjust: 'Adjust', ct_reason: 'Reason', ct_ticket: 'Ticket (optional)',
  ct_adjusted: 'Recorded.', ct_waiting: 'Above the limit: it waits for a second manager (双签).',
  ct_pending: 'Adjustments waiting for a second manager', ct_approve: 'Approve', ct_refuse: 'Refuse',
  ct_asked_by: 'asked by {who}', ct_claim: 'Claim credits', ct_note: 'Note', ct_settle: 'Settle',
  ct_against: 'Against', ct_invoice: 'invoice', ct_deposit: 'deposit', ct_invoice_no: 'Invoice number',
  ct_status_excluded: 'excluded (reason: {r})', ct_status_capped: 'capped (before caps {raw})',
  ct_hours: '{h} started hours late', ct_by: 'by {who}', ct_approved_by: 'approved by {who}', ct_open: 'Open',
  ct_reason_changed: 'the overrun reason changed', ct_statement: 'Statement of this billing period', ct_from_deposit: 'from the deposit', ct_against_invoice: 'invoice {n}',
  ct_verify: 'Check the ledger chain', ct_verify_ok: 'All {n} entries match their hash chain (last hash {h}…).',
  ct_verify_bad: 'The ledger chain is broken: {p}', ct_statements: 'Statements', ct_period_of: 'Billing period',
  ct_verify_empty: 'No entries yet: nothing to check.',
});
Object.assign(STRINGS.zh, {
  contracts: '合同与赔付', ct_org: '客户组织', ct_value: '每个计费周期金额', ct_period: '合同期',
  ct_billing: '计费', ct_monthly: '按月', ct_annual: '按年', ct_commitment: '服务承诺书',
  ct_deposit_required: '应缴保证金', ct_deposit_held: '已缴保证金', ct_deposit_balance: '保证金余额',
  ct_deposit_short: '保证金低于合同要求', ct_credits: '应赔付合计', ct_claimed: '已索赔',
  ct_settled: '已结算', ct_owed: '尚欠', ct_ledger: '赔付台账', ct_none: '暂无合同。',
  ct_no_entries: '暂无记录。', ct_kind: '类型', ct_amount: '金额', ct_quantity: '数量', ct_at: '时间',
  ct_detail: '说明', ct_hash: '哈希', k_accrual: '计提', k_adjustment: '调整', k_claim: '索赔',
  k_settlement: '结算', k_remedy: '补偿项目', ct_currency: '币种', ct_start: '开始', ct_end: '结束（不含）',
  ct_percent: '合同金额百分比', ct_fixed: '固定金额', ct_dual: '超过此金额需第二位经理审批',
  ct_new: '新建合同', ct_adjust: '调整', ct_reason: '原因', ct_ticket: '工单（可选）',
  ct_adjusted: '已记录。', ct_waiting: '超过限额：需另一位经理审批（双签）。',
  ct_pending: '待第二位经理审批的调整', ct_approve: '批准', ct_refuse: '驳回',
  ct_asked_by: '申请人：{who}', ct_claim: '申请赔付', ct_note: '备注', ct_settle: '结算',
  ct_against: '结算方式', ct_invoice: '抵扣发票', ct_deposit: '从保证金扣除', ct_invoice_no: '发票号',
  ct_status_excluded: '不予赔付（原因：{r}）', ct_status_capped: '已封顶（封顶前 {raw}）',
  ct_hours: '超时 {h} 个计费小时', ct_by: '经办：{who}', ct_approved_by: '批准：{who}', ct_open: '查看',
  ct_reason_changed: '超时原因变更', ct_statement: '本计费周期对账单', ct_from_deposit: '从保证金扣除', ct_against_invoice: '发票 {n}',
  ct_verify: '核验台账哈希链', ct_verify_ok: '全部 {n} 条记录与哈希链一致（最新哈希 {h}…）。',
  ct_verify_bad: '台账哈希链被破坏：{p}', ct_statements: '对账单', ct_period_of: '计费周期',
  ct_verify_empty: '暂无记录，无需核验。',
});

// Minor units as money in the contract's currency ("¥10,000.00", "€5.00").
function fmtMoney(minor, currency) {
  let f;
  try { f = new Intl.NumberFormat(locale(), { style: 'currency', currency }); } catch (e) { return `${fmtNum(minor)} ${currency}`; }
  return f.format(minor / 10 ** f.resolvedOptions().maximumFractionDigits);
}
function toMinor(text, currency) {
  let digits = 2;
  try { digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits; } catch (e) { /* 2 */ }
  return Math.round(Number(text) * 10 ** digits);
}

async function pageContracts(main) {
  const [list, os] = await Promise.all([apiAll('/contracts?limit=500', 'contracts'), orgs()]);
  add(main, h('h1', {}, t('contracts')));
  if (!list.length) add(main, h('p', { class: 'muted' }, t('ct_none')));
  else add(main, h('div', { class: 'board' }, h('table', { id: 'contracts' },
    h('thead', {}, h('tr', {}, [t('ct_org'), t('ct_value'), t('ct_period'), t('ct_billing'), t('ct_owed'), t('ct_deposit_balance'), ''].map((x) => h('th', {}, x)))),
    h('tbody', {}, list.map((c) => h('tr', { 'data-contract': c.id },
      h('td', {}, nameOf(os, c.org_id)), h('td', { class: 'num' }, fmtMoney(c.value, c.currency)),
      h('td', {}, `${fmtTime(c.period_start).slice(0, 10)} – ${fmtTime(c.period_end).slice(0, 10)}`),
      h('td', {}, t('ct_' + c.billing)), h('td', { class: 'num' }, fmtMoney(c.balance.owed, c.currency)),
      h('td', { class: 'num' }, fmtMoney(c.deposit_balance, c.currency), c.deposit_short ? [' ', h('span', { class: 'badge off', title: t('ct_deposit_short') }, '!')] : null),
      h('td', {}, h('a', { href: `#/contracts/${c.id}` }, t('ct_open')))))))));
  if (!manager()) return;
  const cs = await cached('commitments', () => api('GET', '/commitments'));
  const org = h('select', { name: 'org_id', required: true, 'aria-label': t('ct_org') }, os.map((o) => h('option', { value: o.id }, o.name)));
  const value = h('input', { type: 'number', name: 'value', min: 0.01, step: 0.01, required: true });
  const cur = h('input', { name: 'currency', value: 'CNY', required: true, pattern: '[A-Z]{3}', size: 4 });
  const start = h('input', { type: 'date', name: 'period_start', required: true });
  const end = h('input', { type: 'date', name: 'period_end', required: true });
  const billing = h('select', { name: 'billing' }, ['monthly', 'annual'].map((b) => h('option', { value: b }, t('ct_' + b))));
  const commitment = h('select', { name: 'commitment_id' }, h('option', { value: '' }, t('none')),
    (cs.commitments || []).map((c) => h('option', { value: c.id }, `${c.name} ${c.version}`)));
  const depKind = h('select', { name: 'deposit_kind' }, h('option', { value: 'percent' }, t('ct_percent')), h('option', { value: 'amount' }, t('ct_fixed')));
  const dep = h('input', { type: 'number', name: 'deposit', min: 0, step: 'any', value: 10, required: true });
  const held = h('input', { type: 'number', name: 'deposit_held', min: 0, step: 0.01, value: 0 });
  const dual = h('input', { type: 'number', name: 'dual_approval_above', min: 0, step: 0.01, value: 1000 });
  add(main, h('h2', {}, t('ct_new')), h('div', { class: 'card' }, form(async () => {
    const c = cur.value;
    const b = { org_id: Number(org.value), value: toMinor(value.value, c), currency: c, billing: billing.value,
      period_start: new Date(start.value + 'T00:00:00Z').toISOString(), period_end: new Date(end.value + 'T00:00:00Z').toISOString(),
      deposit_required: depKind.value === 'percent' ? { percent: Number(dep.value) } : { amount: toMinor(dep.value, c) },
      deposit_held: toMinor(held.value || 0, c), dual_approval_above: toMinor(dual.value || 0, c) };
    if (commitment.value) b.commitment_id = Number(commitment.value);
    const made = await api('POST', '/contracts', b);
    location.hash = `#/contracts/${made.id}`;
  }, h('div', { class: 'row' }, h('label', {}, t('ct_org'), org), h('label', {}, t('ct_value'), value), h('label', {}, t('ct_currency'), cur),
    h('label', {}, t('ct_billing'), billing), h('label', {}, t('ct_start'), start), h('label', {}, t('ct_end'), end),
    h('label', {}, t('ct_commitment'), commitment), h('label', {}, t('ct_deposit_required'), depKind, dep),
    h('label', {}, t('ct_deposit_held'), held), h('label', {}, t('ct_dual'), dual),
    h('button', { type: 'submit' }, t('create'))))));
}

function entryDetail(e, us, currency) {
  const b = e.body || {};
  const parts = [];
  if (e.ticket_id) parts.push(h('a', { href: `#/t/${e.ticket_id}` }, `#${e.ticket_id}`));
  if (b.hours) parts.push(t('ct_hours', { h: b.hours }));
  if (b.status === 'excluded') parts.push(t('ct_status_excluded', { r: b.reason || '' }));
  if (b.status === 'capped') parts.push(t('ct_status_capped', { raw: fmtMoney(b.raw, currency) }));
  if (b.item) parts.push(`${b.item[lang] || b.item.en}${b.unit ? ' (' + (b.unit[lang] || b.unit.en) + ')' : ''}`);
  if (e.against === 'deposit') parts.push(t('ct_from_deposit'));
  if (b.invoice) parts.push(t('ct_against_invoice', { n: b.invoice }));
  if (b.note) parts.push(b.note === 'the overrun\'s reason changed' ? t('ct_reason_changed') : b.note);
  if (e.actor) parts.push(t('ct_by', { who: nameOf(us, e.actor) }));
  if (e.approved_by) parts.push(t('ct_approved_by', { who: nameOf(us, e.approved_by) }));
  const out = [];
  parts.forEach((p, i) => { if (i) out.push(' · '); out.push(p); });
  return out;
}

// The billing periods of contract c begun by now, latest first: [start, end).
function billingPeriods(c) {
  const step = c.billing === 'annual' ? 12 : 1;
  const start = new Date(c.period_start), end = new Date(c.period_end), now = new Date();
  const out = [];
  for (let i = 0; out.length < 120; i += step) {
    const a = new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + i, 1));
    a.setUTCDate(Math.min(start.getUTCDate(), new Date(Date.UTC(a.getUTCFullYear(), a.getUTCMonth() + 1, 0)).getUTCDate()));
    a.setUTCHours(start.getUTCHours(), start.getUTCMinutes(), start.getUTCSeconds());
    if (a >= end || a > now) break;
    out.push(a);
  }
  return out.reverse();
}

// The statement of a chosen billing period, as a page, CSV or PDF.
function statementLinks(c) {
  const periods = billingPeriods(c);
  const day = (d) => d.toISOString().slice(0, 10);
  const pick = h('select', { name: 'period', 'aria-label': t('ct_period_of') },
    periods.map((d) => h('option', { value: day(d) }, day(d))));
  const links = h('span', { id: 'statement-links' });
  const draw = () => {
    const at = pick.value ? `at=${pick.value}&` : '';
    links.replaceChildren(h('a', { href: `/api/v1/contracts/${c.id}/statement?${at}format=html&lang=${lang}`, target: '_blank', rel: 'noopener' }, 'HTML'),
      ' · ', h('a', { href: `/api/v1/contracts/${c.id}/statement?${at}format=csv&lang=${lang}`, download: `statement-${c.id}-${pick.value || 'now'}.csv` }, 'CSV'),
      ' · ', h('a', { href: `/api/v1/contracts/${c.id}/statement?${at}format=pdf&lang=${lang}`, download: `statement-${c.id}-${pick.value || 'now'}-${lang}.pdf` }, 'PDF'));
  };
  pick.addEventListener('change', draw);
  draw();
  return h('p', { class: 'statements' }, h('label', {}, t('ct_period_of'), ' ', pick), ' ', links);
}

// A button that has the server recompute the ledger's hash chain.
function verifyChain(id) {
  const out = h('p', { id: 'ledger-verify', role: 'status' });
  const button = h('button', { type: 'button', class: 'secondary' }, t('ct_verify'));
  button.addEventListener('click', async () => {
    out.textContent = '…';
    try {
      const r = await api('GET', `/contracts/${id}/ledger/verify`);
      out.className = r.ok ? 'ok' : 'problem';
      out.textContent = !r.ok ? t('ct_verify_bad', { p: r.problem }) : r.entries ? t('ct_verify_ok', { n: r.entries, h: r.head.slice(0, 16) }) : t('ct_verify_empty');
    } catch (e) { out.className = 'problem'; out.textContent = e.message; }
  });
  return h('div', { class: 'ledger-verify' }, h('p', {}, button), out);
}

async function pageContract(main, id) {
  const [c, entries, us, os] = await Promise.all([api('GET', `/contracts/${id}`), apiAll(`/contracts/${id}/ledger?limit=500`, 'entries'), users(), orgs()]);
  const cur = c.currency;
  const money = (n) => fmtMoney(n, cur);
  const dl = (pairs) => h('dl', { class: 'kv' }, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
  add(main, h('h1', {}, `${t('contracts')} · ${nameOf(os, c.org_id)}`),
    c.deposit_short ? h('p', { class: 'problem', role: 'status' }, `${t('ct_deposit_short')}: ${money(c.deposit_balance)} < ${money(c.deposit_required_amount)}`) : null,
    h('div', { class: 'card' }, dl([
      [t('ct_value'), money(c.value)], [t('ct_period'), `${fmtTime(c.period_start)} – ${fmtTime(c.period_end)}`],
      [t('ct_billing'), t('ct_' + c.billing)],
      [t('ct_deposit_required'), c.deposit_required.percent != null ? `${c.deposit_required.percent}% = ${money(c.deposit_required_amount)}` : money(c.deposit_required_amount)],
      [t('ct_deposit_held'), money(c.deposit_held)], [t('ct_deposit_balance'), money(c.deposit_balance)],
      [t('ct_credits'), money(c.balance.credits)], [t('ct_claimed'), money(c.balance.claimed)],
      [t('ct_settled'), money(c.balance.settled)], [t('ct_owed'), money(c.balance.owed)]])),
    h('h2', {}, t('ct_statements')), statementLinks(c),
    h('h2', {}, t('ct_ledger')), verifyChain(id),
    entries.length ? h('div', { class: 'board' }, h('table', { id: 'ledger' },
      h('thead', {}, h('tr', {}, ['#', t('ct_at'), t('ct_kind'), t('ct_amount'), t('ct_detail')].map((x) => h('th', {}, x)))),
      h('tbody', {}, entries.map((e) => h('tr', { 'data-entry': e.id, title: `${t('ct_hash')} ${e.hash}` },
        h('td', {}, String(e.seq)), h('td', {}, fmtTime(e.at)), h('td', {}, t('k_' + e.kind)),
        h('td', { class: 'num' }, e.kind === 'remedy' ? `× ${e.quantity}` : money(e.amount)),
        h('td', {}, entryDetail(e, us, cur))))))) : h('p', { class: 'muted' }, t('ct_no_entries')));
  if (!staff()) {
    const amount = h('input', { type: 'number', name: 'amount', min: 0.01, step: 0.01, required: true });
    const note = h('input', { name: 'note', maxlength: 2000 });
    add(main, h('h2', {}, t('ct_claim')), h('div', { class: 'card' }, form(async () => {
      const b = { amount: toMinor(amount.value, cur) };
      if (note.value) b.note = note.value;
      await api('POST', `/contracts/${id}/claims`, b);
      router();
    }, h('div', { class: 'row' }, h('label', {}, t('ct_amount'), amount), h('label', {}, t('ct_note'), note), h('button', { type: 'submit' }, t('ct_claim'))))));
    return;
  }
  if (!manager()) return;
  const pending = (await api('GET', `/adjustments?contract_id=${id}`)).adjustments;
  if (pending.length) add(main, h('h2', {}, t('ct_pending')), h('ul', { class: 'card', id: 'pending' }, pending.map((r) => h('li', {},
    `${money(r.amount)} · ${r.reason} · ${t('ct_asked_by', { who: nameOf(us, r.requested_by) })} `,
    r.requested_by === session.me.id ? null : [
      h('button', { type: 'button', class: 'small', onclick: async () => { await api('POST', `/adjustments/${r.id}/decision`, { approve: true }); router(); } }, t('ct_approve')), ' ',
      h('button', { type: 'button', class: 'secondary small', onclick: async () => { await api('POST', `/adjustments/${r.id}/decision`, { approve: false }); router(); } }, t('ct_refuse'))]))));
  const amount = h('input', { type: 'number', name: 'amount', step: 0.01, required: true });
  const reason = h('input', { name: 'reason', required: true, maxlength: 2000 });
  const ticket = h('input', { type: 'number', name: 'ticket_id', min: 1 });
  const said = h('p', { class: 'muted', role: 'status' });
  const samount = h('input', { type: 'number', name: 'amount', min: 0.01, step: 0.01, required: true });
  const against = h('select', { name: 'against' }, h('option', { value: 'invoice' }, t('ct_invoice')), h('option', { value: 'deposit' }, t('ct_deposit')));
  const invoice = h('input', { name: 'invoice', maxlength: 100 });
  add(main, h('h2', {}, t('ct_adjust')), h('div', { class: 'card' }, form(async () => {
    const b = { amount: toMinor(amount.value, cur), reason: reason.value };
    if (ticket.value) b.ticket_id = Number(ticket.value);
    const r = await api('POST', `/contracts/${id}/adjustments`, b);
    if (r.status === 'recorded') router(); else said.textContent = t('ct_waiting');
  }, h('div', { class: 'row' }, h('label', {}, t('ct_amount'), amount), h('label', {}, t('ct_reason'), reason),
    h('label', {}, t('ct_ticket'), ticket), h('button', { type: 'submit' }, t('ct_adjust'))), said)),
  h('h2', {}, t('ct_settle')), h('div', { class: 'card' }, form(async () => {
    const b = { amount: toMinor(samount.value, cur), against: against.value };
    if (invoice.value) b.invoice = invoice.value;
    await api('POST', `/contracts/${id}/settlements`, b);
    router();
  }, h('div', { class: 'row' }, h('label', {}, t('ct_amount'), samount), h('label', {}, t('ct_against'), against),
    h('label', {}, t('ct_invoice_no'), invoice), h('button', { type: 'submit' }, t('ct_settle'))))));
}

// The watch list (服务黑名单), accident levels and the audit trail (docs/policy.md).
Object.assign(STRINGS.en, {
  watch: 'Watch list', watch_title: 'Watch list (服务黑名单)', watch_none: 'No organisation is on the watch list.',
  watch_badge: 'Watch list', watch_since: 'on the watch list since {d}: {n} overruns counted from {f}',
  watch_rule: 'An organisation is put on the list at {n} overruns within {m} months (an overrun whose reason is the customer\'s side does not count).',
  watch_clear: 'Take off the list', watch_reason: 'Reason for the decision', watch_cleared: 'Cleared {d} by {who}: {r}',
  watch_history: 'Decisions', watch_settings: 'Settings', watch_overruns: 'Overruns', watch_months: 'Window (months)',
  acc_major: 'Major accident (重大事故) from', acc_serious: 'Serious accident (严重事故) from', acc_general: 'General accident (一般事故) from',
  acc_hint: 'Smallest loss of each level, in currency units; 0: not by amount.',
  n_watch_list: 'Organisation on the watch list', loss: 'Loss', loss_save: 'Record loss', no_loss: 'no loss recorded',
  accident_major: 'major accident (重大事故)', accident_serious: 'serious accident (严重事故)', accident_general: 'general accident (一般事故)',
  audit: 'Audit', audit_title: 'Audit trail', audit_none: 'No changes match.', audit_kind: 'Kind', audit_actor: 'Who',
  audit_object: 'Object', audit_action: 'Action', audit_before: 'Before', audit_after: 'After', audit_from: 'From', audit_to: 'To',
  audit_filter: 'Filter', audit_any: 'any', audit_system: 'the system', audit_more: 'Older changes', flagged_on: 'flagged on ticket',
  ak_calendar: 'calendar', ak_commitment: 'commitment', ak_rota: 'rota', ak_endpoint: 'notification endpoint', ak_user: 'person', ak_team: 'team', ak_organisation: 'organisation', ak_contract: 'contract', ak_credit: 'credit', ak_watch_list: 'watch list', ak_settings: 'settings', ak_overrun: 'overrun', ak_mailbox: 'mailbox', ak_intake_source: 'alert source',
  aa_create: 'created', aa_update: 'changed', aa_delete: 'deleted', aa_flag: 'flagged', aa_clear: 'cleared', aa_loss: 'loss recorded', aa_adjust: 'adjusted', aa_decide: 'decided', aa_claim: 'claimed', aa_settle: 'settled', aa_deactivate: 'deactivated',
});
Object.assign(STRINGS.zh, {
  watch: '服务黑名单', watch_title: '服务黑名单', watch_none: '目前没有客户组织列入服务黑名单。',
  watch_badge: '服务黑名单', watch_since: '{d} 起列入服务黑名单：自 {f} 起累计超时 {n} 次',
  watch_rule: '{m} 个月内累计超时 {n} 次即列入黑名单（原因为客户方的超时不计）。',
  watch_clear: '移出黑名单', watch_reason: '决定理由', watch_cleared: '{d} 由 {who} 移出：{r}',
  watch_history: '决定记录', watch_settings: '设置', watch_overruns: '超时次数', watch_months: '统计窗口（月）',
  acc_major: '重大事故起点', acc_serious: '严重事故起点', acc_general: '一般事故起点',
  acc_hint: '各级事故的最低损失金额（元）；0 表示不按金额认定。',
  n_watch_list: '客户组织列入服务黑名单', loss: '损失金额', loss_save: '记录损失', no_loss: '未记录损失',
  accident_major: '重大事故', accident_serious: '严重事故', accident_general: '一般事故',
  audit: '审计', audit_title: '管理操作审计', audit_none: '没有符合条件的记录。', audit_kind: '类别', audit_actor: '操作人',
  audit_object: '对象', audit_action: '操作', audit_before: '变更前', audit_after: '变更后', audit_from: '起', audit_to: '止',
  audit_filter: '筛选', audit_any: '全部', audit_system: '系统', audit_more: '更早的记录', flagged_on: '触发工单',
  ak_calendar: '工作日历', ak_commitment: '承诺书', ak_rota: '值班表', ak_endpoint: '通知端点', ak_user: '人员', ak_team: '团队', ak_organisation: '客户组织', ak_contract: '合同', ak_credit: '赔付', ak_watch_list: '服务黑名单', ak_settings: '设置', ak_overrun: '超时处理', ak_mailbox: '邮箱', ak_intake_source: '告警来源',
  aa_create: '新建', aa_update: '修改', aa_delete: '删除', aa_flag: '列入', aa_clear: '移出', aa_loss: '记录损失', aa_adjust: '调整', aa_decide: '审批', aa_claim: '索赔', aa_settle: '结算', aa_deactivate: '停用',
});

// The badge an organisation on the watch list wears (staff only: the API never sends the flag to customers).
function watchBadge(flag) {
  if (!flag) return null;
  return h('a', { class: 'badge watch', href: '#/watch', 'data-watch': flag.org_id,
    title: t('watch_since', { d: fmtTime(flag.flagged_at), n: flag.overruns, f: fmtTime(flag.counted_from) }) }, t('watch_badge'));
}

// A loss in minor units, shown with its accident level.
function lossLine(o) {
  if (o.loss === null || o.loss === undefined) return null;
  return h('p', { class: 'loss' }, `${t('loss')}: ${fmtNum(o.loss / 100)}`,
    o.accident ? [' · ', h('span', { class: 'badge accident ' + o.accident }, t('accident_' + o.accident))] : null);
}

async function pageWatch(main) {
  const [list, all, us] = await Promise.all([api('GET', '/watch-list'), api('GET', '/watch-list?all=true'), users()]);
  add(main, h('h1', {}, t('watch_title')), h('p', { class: 'muted', id: 'watch-rule' }, t('watch_rule', { n: list.overruns, m: list.window_months })));
  if (!list.flags.length) add(main, h('p', { id: 'watch-none' }, t('watch_none')));
  for (const f of list.flags) {
    const reason = h('input', { name: 'reason', required: true, maxlength: 1000, 'aria-label': t('watch_reason') });
    add(main, h('div', { class: 'card watch-flag', 'data-org': f.org_id },
      h('h2', {}, f.org_name, ' ', watchBadge(f)),
      h('p', {}, t('watch_since', { d: fmtTime(f.flagged_at), n: f.overruns, f: fmtTime(f.counted_from) })),
      f.ticket_id ? h('p', {}, t('flagged_on'), ' ', h('a', { href: `#/t/${f.ticket_id}` }, `#${f.ticket_id}`)) : null,
      manager() ? form(async () => {
        await api('POST', `/orgs/${f.org_id}/watch-list/clear`, { reason: reason.value });
        router();
      }, h('div', { class: 'row' }, h('label', {}, t('watch_reason'), reason), h('button', { type: 'submit' }, t('watch_clear')))) : null));
  }
  const done = all.flags.filter((f) => f.cleared_at);
  if (done.length) {
    add(main, h('h2', {}, t('watch_history')), h('ul', { id: 'watch-history' }, done.map((f) =>
      h('li', {}, h('strong', {}, f.org_name), ' — ', t('watch_since', { d: fmtTime(f.flagged_at), n: f.overruns, f: fmtTime(f.counted_from) }), '. ',
        t('watch_cleared', { d: fmtTime(f.cleared_at), who: nameOf(us, f.cleared_by), r: f.reason })))));
  }
  if (!manager()) return;
  const st = await api('GET', '/watch-list/settings');
  const num = (name, v, min, max, step) => h('input', { type: 'number', name, value: v, min, max, step: step || 1, required: true });
  const n = num('overruns', st.overruns, 1, 1000), m = num('window_months', st.window_months, 1, 120);
  const major = num('major', st.accident.major / 100, 0, 1e13, 0.01), serious = num('serious', st.accident.serious / 100, 0, 1e13, 0.01),
    general = num('general', st.accident.general / 100, 0, 1e13, 0.01);
  add(main, h('h2', {}, t('watch_settings')), h('div', { class: 'card', id: 'watch-settings' }, form(async () => {
    await api('PUT', '/watch-list/settings', { overruns: Number(n.value), window_months: Number(m.value),
      accident: { major: Math.round(major.value * 100), serious: Math.round(serious.value * 100), general: Math.round(general.value * 100) } });
    toast(t('saved'));
    router();
  }, h('div', { class: 'row' }, h('label', {}, t('watch_overruns'), n), h('label', {}, t('watch_months'), m)),
  h('div', { class: 'row' }, h('label', {}, t('acc_major'), major), h('label', {}, t('acc_serious'), serious), h('label', {}, t('acc_general'), general),
    h('button', { type: 'submit' }, t('save'))), h('p', { class: 'small muted' }, t('acc_hint')))));
}

async function pageAudit(main, query) {
  const q = new URLSearchParams(query || '');
  const us = await users();
  const kinds = ['calendar', 'commitment', 'rota', 'endpoint', 'user', 'team', 'organisation', 'contract', 'credit', 'watch_list', 'settings', 'overrun', 'mailbox', 'intake_source'];
  const kind = h('select', { name: 'kind', 'aria-label': t('audit_kind') }, h('option', { value: '' }, t('audit_any')),
    kinds.map((k) => h('option', { value: k, selected: q.get('kind') === k }, t('ak_' + k))));
  const actor = h('select', { name: 'actor', 'aria-label': t('audit_actor') }, h('option', { value: '' }, t('audit_any')),
    us.filter((u) => u.role === 'admin' || u.role === 'manager').map((u) => h('option', { value: u.id, selected: q.get('actor') === String(u.id) }, u.name)));
  const from = h('input', { type: 'date', name: 'from', value: (q.get('from') || '').slice(0, 10), 'aria-label': t('audit_from') });
  const to = h('input', { type: 'date', name: 'to', value: (q.get('to') || '').slice(0, 10), 'aria-label': t('audit_to') });
  const page = await api('GET', '/audit?' + q.toString());
  const show = (v) => (v === null || v === undefined ? '' : JSON.stringify(v));
  add(main, h('h1', {}, t('audit_title')), form(() => {
    const n = new URLSearchParams();
    if (kind.value) n.set('kind', kind.value);
    if (actor.value) n.set('actor', actor.value);
    if (from.value) n.set('from', `${from.value}T00:00:00Z`);
    if (to.value) n.set('to', `${to.value}T00:00:00Z`);
    location.hash = '#/audit' + (n.toString() ? '?' + n.toString() : '');
  }, h('div', { class: 'row' }, h('label', {}, t('audit_kind'), kind), h('label', {}, t('audit_actor'), actor),
    h('label', {}, t('audit_from'), from), h('label', {}, t('audit_to'), to), h('button', { type: 'submit' }, t('audit_filter')))));
  if (!page.changes.length) { add(main, h('p', { class: 'muted', id: 'audit-none' }, t('audit_none'))); return; }
  add(main, h('div', { class: 'board' }, h('table', { id: 'audit' },
    h('thead', {}, h('tr', {}, ['ct_at', 'audit_actor', 'audit_kind', 'audit_object', 'audit_action', 'audit_before', 'audit_after'].map((k) => h('th', { scope: 'col' }, t(k))))),
    h('tbody', {}, page.changes.map((c) => h('tr', { 'data-audit': c.id },
      h('td', {}, fmtTime(c.at)), h('td', {}, c.actor ? nameOf(us, c.actor) : t('audit_system')), h('td', {}, STRINGS.en['ak_' + c.kind] ? t('ak_' + c.kind) : c.kind),
      h('td', {}, c.object === null ? '' : `#${c.object}`), h('td', {}, STRINGS.en['aa_' + c.action] ? t('aa_' + c.action) : c.action),
      h('td', { class: 'json' }, show(c.before)), h('td', { class: 'json' }, show(c.after))))))));
  if (page.next) {
    q.set('before', page.next);
    add(main, h('p', {}, h('a', { href: '#/audit?' + q.toString() }, t('audit_more'))));
  }
}

// ---- the dashboard (#/dashboard): the figures of docs/kpi.md over a period ----

Object.assign(STRINGS.en, {
  dashboard: 'Dashboard', dash_title: 'Service dashboard', dash_period: 'Period',
  p_this_week: 'This week', p_last_week: 'Last week', p_this_month: 'This month', p_last_month: 'Last month',
  p_custom: 'Custom', dash_from: 'From (first day)', dash_to: 'To (last day)', dash_group: 'Group by',
  dash_show: 'Show', dash_range: '{from} to {to} ({tz}), against {pfrom} to {pto}',
  dash_org_only: 'The figures of {org} only.',
  g_level: 'Level', g_team: 'Team', g_assignee: 'Assignee', g_category: 'Category', g_region: 'Region',
  g_organisation: 'Organisation', g_channel: 'Channel',
  k_on_time: 'On-time rate', k_mtta: 'MTTA (mean time to respond)', k_mttr: 'MTTR (mean time to resolve)',
  k_sri: 'SRI ({m})', k_breaches: 'Breaches', k_created: 'Created', k_resolved: 'Resolved',
  k_backlog: 'Backlog (open at the end)', k_csat: 'CSAT (1–5)', k_nps: 'NPS', k_satisfied: '{p} satisfied (4–5)',
  k_runs: '{n} clock runs', k_ratings: '{n} ratings', k_prev: 'before: {v}',
  ch_trend: 'On-time rate by ISO week', ch_by_level: 'Breaches by level', ch_by_category: 'Breaches by category',
  ch_radar: 'Agents (radar)', ch_satisfaction: 'Satisfaction by ISO week', ch_groups: 'By {g}',
  c_met_late: 'Met late', c_breached_open: 'Breached, still open', c_csat_mean: 'CSAT mean', c_nps: 'NPS',
  r_on_time: 'On time', r_mtta: 'MTTA', r_mttr: 'MTTR', r_csat: 'CSAT', r_volume: 'Volume',
  radar_note: 'Each axis 0–100: on-time rate; MTTA and MTTR: the fastest agent shown = 100, others fastest ÷ theirs; CSAT (mean − 1) × 25; volume: tickets resolved ÷ the most any agent shown resolved. Missing: 0.',
  radar_none: 'No agent has figures in this period.', not_set: '(not set)',
  drill_title: 'Behind the figure: {f}', drill_back: 'Back to the dashboard', drill_count: '{n} counted, {m} tickets',
  drill_none: 'Nothing is behind this figure.', drill_truncated: 'Showing the first {n} tickets.',
  f_runs: 'clock runs counted (on-time rate)', f_met: 'met', f_met_late: 'met late', f_breached_open: 'breached, still open',
  f_breaches: 'breaches', f_stopped: 'stopped runs (elapsed, SRI)', f_mtta: 'response runs (MTTA)',
  f_mttr: 'resolution runs (MTTR)', f_created: 'tickets created', f_resolved: 'tickets resolved',
  f_reopened: 'tickets reopened', f_backlog: 'open tickets at the end', f_rated: 'ratings (CSAT)', f_nps: 'ratings with NPS',
  col_runs: 'Runs', col_class: 'Class', no_chart: 'Charts are unavailable: {e}',
});
Object.assign(STRINGS.zh, {
  dashboard: '报表', dash_title: '服务报表看板', dash_period: '统计周期',
  p_this_week: '本周', p_last_week: '上周', p_this_month: '本月', p_last_month: '上月',
  p_custom: '自定义', dash_from: '开始日期', dash_to: '结束日期（含）', dash_group: '分组',
  dash_show: '查看', dash_range: '{from} 至 {to}（{tz}），对比 {pfrom} 至 {pto}',
  dash_org_only: '仅显示 {org} 的数据。',
  g_level: '级别', g_team: '团队', g_assignee: '处理人', g_category: '类别', g_region: '区域',
  g_organisation: '客户组织', g_channel: '渠道',
  k_on_time: '准时率', k_mtta: 'MTTA（平均响应时间）', k_mttr: 'MTTR（平均解决时间）',
  k_sri: '服务响应指数（{m}）', k_breaches: '超时次数', k_created: '新建工单', k_resolved: '已解决工单',
  k_backlog: '积压（期末未关闭）', k_csat: '满意度（1–5）', k_nps: 'NPS 净推荐值', k_satisfied: '满意（4–5 分）占 {p}',
  k_runs: '{n} 次计时', k_ratings: '{n} 条评价', k_prev: '上期：{v}',
  ch_trend: '各周准时率（ISO 周）', ch_by_level: '各级别超时', ch_by_category: '各类别超时',
  ch_radar: '工程师服务质量雷达', ch_satisfaction: '各周满意度（ISO 周）', ch_groups: '按{g}',
  c_met_late: '逾期达成', c_breached_open: '已超时未完成', c_csat_mean: '满意度均值', c_nps: 'NPS',
  r_on_time: '准时率', r_mtta: '响应速度', r_mttr: '解决速度', r_csat: '满意度', r_volume: '工作量',
  radar_note: '各维度 0–100：准时率；响应与解决速度：所列工程师中最快者为 100，其余为最快者 ÷ 本人；满意度 (均值 − 1) × 25；工作量：已解决工单数 ÷ 所列工程师中的最多者。无数据记 0。',
  radar_none: '本期没有工程师的数据。', not_set: '（未设置）',
  drill_title: '数据明细：{f}', drill_back: '返回看板', drill_count: '计入 {n} 项，涉及 {m} 张工单',
  drill_none: '该数据没有对应的工单。', drill_truncated: '仅显示前 {n} 张工单。',
  f_runs: '计入准时率的计时', f_met: '按时达成', f_met_late: '逾期达成', f_breached_open: '已超时未完成',
  f_breaches: '超时', f_stopped: '已停止的计时（用时、服务响应指数）', f_mtta: '响应计时（MTTA）',
  f_mttr: '解决计时（MTTR）', f_created: '新建工单', f_resolved: '已解决工单',
  f_reopened: '重新打开的工单', f_backlog: '期末未关闭工单', f_rated: '评价（满意度）', f_nps: '含 NPS 的评价',
  col_runs: '计时', col_class: '类别', no_chart: '图表不可用：{e}',
});

// ECharts (web/package-lock.json, built into the binary): loaded once, on the first dashboard.
let echartsLoad = null;
function loadCharts() {
  if (window.echarts) return Promise.resolve(window.echarts);
  if (!echartsLoad) echartsLoad = new Promise((ok, fail) => {
    const s = h('script', { src: '/assets/echarts.min.js' });
    s.onload = () => ok(window.echarts);
    s.onerror = () => { echartsLoad = null; fail(new Error('/assets/echarts.min.js did not load')); };
    document.head.append(s);
  });
  return echartsLoad;
}
const charts = []; // disposed when the page is left
window.addEventListener('hashchange', () => { while (charts.length) charts.pop().dispose(); });
window.addEventListener('resize', () => { for (const c of charts) c.resize(); });

// The UTC instant (ms) of local midnight starting day y-m-d in zone tz.
function zoneOffsetMs(ms, tz) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit',
    day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms))) p[x.type] = +x.value;
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ms;
}
function zoneMidnight(y, m, d, tz) {
  const guess = Date.UTC(y, m - 1, d);
  let at = guess - zoneOffsetMs(guess, tz);
  at = guess - zoneOffsetMs(at, tz); // across a change of offset
  return at;
}
// Today's date in tz as [y, m, d].
function zoneToday(tz) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date())) p[x.type] = +x.value;
  return [p.year, p.month, p.day];
}
const ymd = (y, m, d) => { const x = new Date(Date.UTC(y, m - 1, d)); return [x.getUTCFullYear(), x.getUTCMonth() + 1, x.getUTCDate()]; };
const ymdText = ([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
const ymdParse = (s) => { const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s || ''); return m ? [+m[1], +m[2], +m[3]] : null; };

// The period [first day, last day] of a choice, in local days of tz.
function periodDays(choice, tz, q) {
  const [y, m, d] = zoneToday(tz);
  const dow = (new Date(Date.UTC(y, m - 1, d)).getUTCDay() + 6) % 7; // Monday 0
  switch (choice) {
  case 'this_week': return [ymd(y, m, d - dow), ymd(y, m, d - dow + 6)];
  case 'last_week': return [ymd(y, m, d - dow - 7), ymd(y, m, d - dow - 1)];
  case 'last_month': return [ymd(y, m - 1, 1), ymd(y, m, 0)];
  case 'custom': {
    const a = ymdParse(q.get('from')), b = ymdParse(q.get('to'));
    if (a && b && ymdText(a) <= ymdText(b)) return [a, b];
  } // fall through: this month
  default: return [ymd(y, m, 1), ymd(y, m + 1, 0)];
  }
}
const iso = (ms) => new Date(ms).toISOString().replace('.000Z', 'Z');

// One decimal, halves away from zero (docs/kpi.md, Units).
const round1 = (x) => Math.sign(x) * Math.round(Math.abs(x) * 10) / 10;
// The on-time rate over the runs of every metric of a group (docs/kpi.md, "The dashboard").
function onTime(g) {
  let met = 0, all = 0;
  for (const m of Object.values(g.metrics)) { met += m.met; all += m.met + m.met_late + m.breached_open; }
  return all ? round1(met * 100 / all) : null;
}
function runsOf(g) { let n = 0; for (const m of Object.values(g.metrics)) n += m.met + m.met_late + m.breached_open; return n; }
function breachesOf(g) { let n = 0; for (const m of Object.values(g.metrics)) n += m.met_late + m.breached_open; return n; }
// The metric the commitment in force marks as the resolution metric, else "resolution".
function resolutionMetric(doc, ids) {
  const marked = doc && (doc.metrics || []).find((m) => m.kpi === 'resolution');
  const id = marked ? marked.id : 'resolution';
  return ids.includes(id) ? id : null;
}

const pct = (v) => (v === null || v === undefined ? t('none') : `${fmtNum(v)}%`);
const dur = (v) => (v === null || v === undefined ? t('none') : fmtDur(v));
const num = (v) => (v === null || v === undefined ? t('none') : fmtNum(v));
// current − previous, one decimal; none when either is null.
function delta(cur, prev, kind) {
  if (cur === null || cur === undefined || prev === null || prev === undefined) return null;
  const d = kind === 'dur' ? Math.round(cur - prev) : round1(cur - prev);
  const sign = d > 0 ? '+' : d < 0 ? '−' : '±';
  const abs = Math.abs(d);
  return sign + (kind === 'dur' ? fmtDur(abs) : kind === 'pct' ? `${fmtNum(abs)} pt` : fmtNum(abs));
}

function drillHref(base, figure, cell) {
  const q = new URLSearchParams(base);
  q.set('figure', figure);
  for (const [k, v] of Object.entries(cell || {})) q.set(k, v === null ? '' : v);
  return '#/dashboard/tickets?' + q.toString();
}

const GROUPS = ['level', 'team', 'assignee', 'category', 'region', 'organisation', 'channel'];

let lastDashboard = '#/dashboard'; // where a drill-down goes back to
async function pageDashboard(main, query) {
  const q = new URLSearchParams(query || '');
  lastDashboard = '#/dashboard' + (query ? '?' + query : '');
  const tz = (session.me && session.me.tz) || Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const choice = ['this_week', 'last_week', 'this_month', 'last_month', 'custom'].includes(q.get('period')) ? q.get('period') : 'this_month';
  const groups = staff() ? GROUPS : GROUPS.filter((g) => g !== 'assignee' && g !== 'organisation');
  const by = groups.includes(q.get('group')) ? q.get('group') : 'level';
  const [first, last] = periodDays(choice, tz, q);
  const from = zoneMidnight(...first, tz), to = zoneMidnight(...ymd(last[0], last[1], last[2] + 1), tz);
  const pfrom = from - (to - from);
  const base = { from: iso(from), to: iso(to), tz };
  const get = (extra, f0, t0) => api('GET', '/kpis?' + new URLSearchParams({ from: iso(f0 || from), to: iso(t0 || to), tz, ...extra }).toString());
  const [cur, prev, trend, byLevel, byCat, grouped, agents, cf, os] = await Promise.all([
    get({}), get({}, pfrom, from), get({ bucket: 'week' }), get({ group_by: 'level' }), get({ group_by: 'category' }),
    get({ group_by: by }), staff() ? get({ group_by: 'assignee' }) : null, inForce().catch(() => null), orgs()]);
  const doc = cf && cf.doc;

  // the picker
  const period = h('select', { name: 'period', id: 'dash-period' }, ['this_week', 'last_week', 'this_month', 'last_month', 'custom']
    .map((p) => h('option', { value: p, selected: p === choice }, t('p_' + p))));
  const fromIn = h('input', { type: 'date', name: 'from', id: 'dash-from', value: ymdText(first) });
  const toIn = h('input', { type: 'date', name: 'to', id: 'dash-to', value: ymdText(last) });
  const custom = h('span', { class: 'row', hidden: choice !== 'custom' }, h('label', {}, t('dash_from'), fromIn), h('label', {}, t('dash_to'), toIn));
  period.addEventListener('change', () => { custom.hidden = period.value !== 'custom'; });
  const group = h('select', { name: 'group', id: 'dash-group' }, groups.map((g) => h('option', { value: g, selected: g === by }, t('g_' + g))));
  add(main, h('h1', {}, t('dash_title')), form(() => {
    const n = new URLSearchParams({ period: period.value, group: group.value });
    if (period.value === 'custom') { n.set('from', fromIn.value); n.set('to', toIn.value); }
    location.hash = '#/dashboard?' + n.toString();
  }, h('div', { class: 'row' }, h('label', {}, t('dash_period'), period), custom, h('label', {}, t('dash_group'), group),
    h('button', { type: 'submit' }, t('dash_show')))),
  h('p', { class: 'muted small', id: 'dash-range', 'data-from': iso(from), 'data-to': iso(to), 'data-pfrom': iso(pfrom), 'data-tz': tz }, t('dash_range', { from: ymdText(first), to: ymdText(last), tz,
    pfrom: ymdText(periodDaysOf(pfrom, tz)), pto: ymdText(ymd(first[0], first[1], first[2] - 1)) })),
  !staff() && session.me.org_id ? h('p', { class: 'muted', id: 'dash-org' }, t('dash_org_only', { org: nameOf(os, session.me.org_id) })) : null);

  // the headline figures with deltas
  const c = cur.groups[0], p = prev.groups[0];
  const sriM = resolutionMetric(doc, cur.metrics);
  const sri = (g) => (sriM && g.metrics[sriM] ? g.metrics[sriM].sri.mean : null);
  const figures = [
    ['on_time', t('k_on_time'), onTime(c), onTime(p), 'pct', 'runs', t('k_runs', { n: runsOf(c) })],
    ['mtta', t('k_mtta'), c.mtta, p.mtta, 'dur', 'mtta'],
    ['mttr', t('k_mttr'), c.mttr, p.mttr, 'dur', 'mttr'],
    ['sri', t('k_sri', { m: sriM ? metricLabel(sriM, doc) : t('none') }), sri(c), sri(p), 'num', 'stopped', null, sriM ? { metric: sriM } : null],
    ['breaches', t('k_breaches'), breachesOf(c), breachesOf(p), 'num', 'breaches'],
    ['created', t('k_created'), c.tickets.created, p.tickets.created, 'num', 'created'],
    ['resolved', t('k_resolved'), c.tickets.resolved, p.tickets.resolved, 'num', 'resolved'],
    ['backlog', t('k_backlog'), c.tickets.backlog.total, p.tickets.backlog.total, 'num', 'backlog'],
    ['csat', t('k_csat'), c.csat.mean, p.csat.mean, 'num', 'rated', c.csat.count ? `${t('k_satisfied', { p: pct(c.csat.satisfied_pct) })} · ${t('k_ratings', { n: c.csat.count })}` : null],
    ['nps', t('k_nps'), c.nps.score, p.nps.score, 'num', 'nps', c.nps.count ? t('k_ratings', { n: c.nps.count }) : null],
  ];
  const show = (v, kind) => (kind === 'pct' ? pct(v) : kind === 'dur' ? dur(v) : num(v));
  add(main, h('section', { class: 'kpis', id: 'dash-headline' }, figures.map(([id, name, v, pv, kind, fig, sub, extra]) => {
    const d = delta(v, pv, kind);
    const qb = extra ? { ...base, ...extra } : base;
    return h('a', { class: 'kpi card', href: drillHref(qb, fig), 'data-kpi': id, 'data-value': v === null ? '' : v },
      h('span', { class: 'kpi-name' }, name), h('strong', { class: 'kpi-value' }, show(v, kind)),
      h('span', { class: 'kpi-delta' + (d ? '' : ' muted'), 'data-delta': d || '' }, d ? `${d} · ${t('k_prev', { v: show(pv, kind) })}` : t('k_prev', { v: show(pv, kind) })),
      sub ? h('span', { class: 'muted small' }, sub) : null);
  })));

  // the charts
  const boxes = {};
  const box = (id, title, note) => { boxes[id] = h('div', { class: 'chart', id: 'chart-' + id }); return h('section', { class: 'card chart-card' }, h('h2', {}, title), boxes[id], note || null); };
  const radarTable = h('div', { id: 'radar-table' });
  add(main, h('div', { class: 'charts' }, box('trend', t('ch_trend')), box('level', t('ch_by_level')), box('category', t('ch_by_category')),
    box('satisfaction', t('ch_satisfaction')),
    staff() ? box('radar', t('ch_radar'), [h('p', { class: 'muted small' }, t('radar_note')), radarTable]) : null));

  // the table of the chosen grouping, each figure a drill-down
  const keyText = (v) => (v === null ? t('not_set') : by === 'level' ? vocab(doc, 'levels', v) : by === 'category' ? vocab(doc, 'categories', v) : by === 'channel' ? channelLabel(v) : v);
  const cell = (g, fig, text, extra) => h('td', { class: 'num' }, h('a', { href: drillHref({ ...base, ...(extra || {}) }, fig, g.key) }, text));
  add(main, h('section', { class: 'card' }, h('h2', {}, t('ch_groups', { g: t('g_' + by) })), h('div', { class: 'board' }, h('table', { id: 'dash-groups' },
    h('thead', {}, h('tr', {}, [t('g_' + by), t('k_on_time'), t('r_mtta'), t('r_mttr'), t('k_breaches'), t('k_created'), t('k_resolved'), t('k_backlog'), t('r_csat'), t('k_nps')]
      .map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, grouped.groups.map((g) => h('tr', { 'data-key': g.key[by] === null ? '' : g.key[by] },
      h('th', { scope: 'row' }, keyText(g.key[by])), cell(g, 'runs', pct(onTime(g))), cell(g, 'mtta', dur(g.mtta)), cell(g, 'mttr', dur(g.mttr)),
      cell(g, 'breaches', num(breachesOf(g))), cell(g, 'created', num(g.tickets.created)), cell(g, 'resolved', num(g.tickets.resolved)),
      cell(g, 'backlog', num(g.tickets.backlog.total)), cell(g, 'rated', num(g.csat.mean)), cell(g, 'nps', num(g.nps.score)))))))));

  // the radar's scores (docs/kpi.md, "The dashboard")
  const radar = [];
  if (agents) {
    const named = agents.groups.filter((g) => g.key.assignee !== null);
    const fastest = (f) => { const v = named.map(f).filter((x) => x !== null); return v.length ? Math.min(...v) : null; };
    const ma = fastest((g) => g.mtta), mr = fastest((g) => g.mttr);
    const most = Math.max(0, ...named.map((g) => g.tickets.resolved));
    const speed = (best, v) => (v === null ? null : v === 0 ? 100 : round1(best * 100 / v));
    for (const g of named)
      radar.push({ name: g.key.assignee, scores: [onTime(g), speed(ma, g.mtta), speed(mr, g.mttr),
        g.csat.mean === null ? null : round1((g.csat.mean - 1) * 25), most ? round1(g.tickets.resolved * 100 / most) : null] });
    const axes = ['r_on_time', 'r_mtta', 'r_mttr', 'r_csat', 'r_volume'];
    add(radarTable, radar.length ? h('table', { id: 'dash-radar' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('assignee')), axes.map((a) => h('th', { scope: 'col' }, t(a))))),
      h('tbody', {}, radar.map((r) => h('tr', { 'data-agent': r.name }, h('th', { scope: 'row' }, r.name), r.scores.map((s) => h('td', { class: 'num' }, num(s)))))))
      : h('p', { class: 'muted' }, t('radar_none')));
  }

  let ec;
  try { ec = await loadCharts(); } catch (e) { add(main, h('p', { class: 'problem' }, t('no_chart', { e: e.message }))); return; }
  requestAnimationFrame(() => drawCharts(ec, boxes, { trend, byLevel, byCat, radar, base, doc }));
}

// The first local day (in tz) of instant ms, as [y, m, d].
function periodDaysOf(ms, tz) {
  const p = {};
  for (const x of new Intl.DateTimeFormat('en-GB', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(ms))) p[x.type] = +x.value;
  return [p.year, p.month, p.day];
}

function drawCharts(ec, boxes, { trend, byLevel, byCat, radar, base, doc }) {
  const make = (id, option, onclick) => {
    const el = boxes[id];
    if (!el || !el.isConnected) return;
    const c = ec.init(el, null, { renderer: 'canvas' });
    c.setOption({ animation: false, tooltip: { trigger: 'item', confine: true }, textStyle: { fontFamily: 'inherit' }, ...option });
    if (onclick) c.on('click', onclick);
    charts.push(c);
  };
  const weeks = trend.groups.map((g) => g.bucket);
  const wk = { ...base, bucket: 'week' };
  make('trend', { grid: { left: 40, right: 16, top: 16, bottom: 40 }, tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'category', data: weeks }, yAxis: { type: 'value', min: 0, max: 100 },
    series: [{ type: 'line', name: t('k_on_time'), connectNulls: false, data: trend.groups.map(onTime), symbolSize: 8 }] },
  (e) => { location.hash = drillHref({ ...wk, at: weeks[e.dataIndex] }, 'runs'); });
  const breaches = (res, dim, list) => {
    const gs = res.groups.filter((g) => breachesOf(g) > 0);
    const sum = (g, k) => Object.values(g.metrics).reduce((a, m) => a + m[k], 0);
    const names = gs.map((g) => (g.key[dim] === null ? t('not_set') : vocab(doc, list, g.key[dim])));
    return [{ grid: { left: 40, right: 16, top: 30, bottom: 40, containLabel: true }, legend: { top: 0 },
      xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } }, yAxis: { type: 'value', minInterval: 1 },
      series: [['met_late', 'c_met_late'], ['breached_open', 'c_breached_open']].map(([k, l]) => ({ type: 'bar', stack: 'b', name: t(l), data: gs.map((g) => sum(g, k)) })) },
    (e) => { location.hash = drillHref(base, e.seriesIndex ? 'breached_open' : 'met_late', { [dim]: gs[e.dataIndex].key[dim] }); }];
  };
  make('level', ...breaches(byLevel, 'level', 'levels'));
  make('category', ...breaches(byCat, 'category', 'categories'));
  make('satisfaction', { grid: { left: 40, right: 40, top: 30, bottom: 40 }, legend: { top: 0 }, tooltip: { trigger: 'axis', confine: true },
    xAxis: { type: 'category', data: weeks }, yAxis: [{ type: 'value', min: 0, max: 5 }, { type: 'value', min: -100, max: 100 }],
    series: [{ type: 'bar', name: t('c_csat_mean'), data: trend.groups.map((g) => g.csat.mean) },
      { type: 'line', name: t('c_nps'), yAxisIndex: 1, data: trend.groups.map((g) => g.nps.score), symbolSize: 8 }] },
  (e) => { location.hash = drillHref({ ...wk, at: weeks[e.dataIndex] }, e.seriesIndex ? 'nps' : 'rated'); });
  if (radar.length)
    make('radar', { legend: { bottom: 0, type: 'scroll' }, tooltip: { trigger: 'item', confine: true },
      radar: { radius: '58%', indicator: ['r_on_time', 'r_mtta', 'r_mttr', 'r_csat', 'r_volume'].map((a) => ({ name: t(a), max: 100 })) },
      series: [{ type: 'radar', data: radar.map((r) => ({ name: r.name, value: r.scores.map((s) => (s === null ? 0 : s)) })) }] },
    (e) => { location.hash = drillHref(base, 'runs', { assignee: radar[e.dataIndex].name }); });
}

// The tickets behind one figure (GET /kpis/tickets): #/dashboard/tickets?from=…&figure=…&level=…
async function pageDashTickets(main, query) {
  const q = new URLSearchParams(query || '');
  const r = await api('GET', '/kpis/tickets?' + q.toString());
  const cellText = Object.entries(r.cell).map(([k, v]) => `${t('g_' + k)}: ${v === null ? t('not_set') : v}`).join(' · ');
  add(main, h('p', {}, h('a', { href: lastDashboard, id: 'drill-back' }, '← ' + t('drill_back'))),
    h('h1', {}, t('drill_title', { f: t('f_' + r.figure) })),
    h('p', { class: 'muted', id: 'drill-scope' }, `${fmtTime(r.from)} – ${fmtTime(r.to)}${r.bucket ? ` · ${r.bucket}` : ''}${cellText ? ` · ${cellText}` : ''}`),
    h('p', { id: 'drill-count', 'data-count': r.count, 'data-tickets': r.ticket_count }, t('drill_count', { n: r.count, m: r.ticket_count })));
  if (!r.tickets.length) { add(main, h('p', { class: 'muted', id: 'drill-none' }, t('drill_none'))); return; }
  if (r.truncated) add(main, h('p', { class: 'muted small' }, t('drill_truncated', { n: r.tickets.length })));
  const runs = new Map();
  for (const x of r.runs || r.ratings || []) {
    if (!runs.has(x.ticket_id)) runs.set(x.ticket_id, []);
    runs.get(x.ticket_id).push(x.metric ? `${metricLabel(x.metric)}: ${t(x.class === 'breached_open' ? 'c_breached_open' : x.class)}` : `${x.satisfaction}/5${x.nps !== null ? ` · NPS ${x.nps}` : ''}`);
  }
  add(main, h('div', { class: 'board' }, h('table', { id: 'drill-tickets' },
    h('thead', {}, h('tr', {}, [t('col_id'), t('col_title'), t('col_state'), t('col_level'), t('col_org'), t('col_class')].map((x) => h('th', { scope: 'col' }, x)))),
    h('tbody', {}, r.tickets.map((x) => h('tr', { 'data-ticket': x.id },
      h('td', {}, h('a', { href: `#/t/${x.id}` }, `#${x.id}`)), h('td', { class: 'title' }, x.title || ''),
      h('td', {}, x.state ? stateLabel(x.state) : ''), h('td', {}, x.level || ''), h('td', {}, x.organisation || ''),
      h('td', {}, (runs.get(x.id) || []).join('; '))))))));
}

// ---- channels: the mailboxes the desk reads, the monitoring systems that alert it ----

Object.assign(STRINGS.en, {
  mailboxes: 'Mailboxes', alert_sources: 'Alert sources', mb_server: 'Server', mb_url: 'IMAP URL',
  mb_url_hint: 'imaps://host[:port] (TLS) or imap://host[:port]', mb_user: 'Username', mb_folder: 'Folder',
  mb_keep_password: 'empty: keep the password', mb_feeds: 'New tickets', mb_reply_from: 'Replies come from',
  mb_unknown: 'Unknown senders', mb_triage: 'to the organisation above (triage)', mb_refuse: 'refused',
  mb_poll: 'Poll every (s)', mb_smtp: 'SMTP URL (mail out)', mb_smtp_hint: 'smtps://host[:port]; empty: the mailbox only reads',
  mb_ack: 'Acknowledge new tickets by mail', mb_state: 'State', mb_counts: 'Mails', mb_never: 'not fetched yet',
  mb_fetched: 'fetched {t}', mb_ok: 'ok', mb_counts_text: '{n} taken · {c} tickets · {f} refused',
  mb_test: 'Test connection', mb_testing: 'Testing…', mb_stop: 'Deactivate', mb_stop_ask: 'Deactivate {n}? Mail is no longer read',
  mb_stopped: 'deactivated', mb_created: 'Mailbox {n} added', mb_none: 'No mailboxes yet.',
  mb_intro: 'The desk reads each mailbox over IMAP: new mail opens tickets, replies become comments (docs/channels.md).',
  out_ok: 'OK', out_login_failed: 'Login failed', out_folder_missing: 'Folder missing', out_tls_error: 'TLS error',
  out_connect_failed: 'Cannot connect', out_timeout: 'Timed out', out_refused: 'Address refused', out_key_error: 'Password cannot be opened',
  out_error: 'Failed', mb_push: 'new mail is taken as it arrives (IDLE)', mb_poll_only: 'polled (no IDLE)',
  as_kind: 'Kind', as_defaults: 'Defaults', as_rules: 'Mapping rules', as_rules_n: '{n} rules',
  as_match: 'When labels match', as_match_hint: 'label=value, more joined by commas: severity=critical, team=dba',
  as_then: 'then', as_add_rule: 'Add a rule', as_remove_rule: 'Remove', as_rule_n: 'rule {n}', as_no_rules: 'No rules: every alert gets the defaults.',
  as_on_resolve: 'When resolved', as_restored: 'record “restored”', as_comment: 'a note only', as_per_minute: 'Payloads a minute',
  as_key_once: 'The key of {n} — copy it now, it is not shown again:', as_send_test: 'Send a test event',
  as_test_sent: 'Test event: {o}, ticket #{t}', as_example: 'Try it from a shell', as_stop_ask: 'Stop {n}? Its key is refused from then on',
  as_rekey: 'New key', as_rekey_ask: 'Give {n} a new key? The old key is refused at once',
  as_stopped: 'stopped', as_none: 'No alert sources yet.', as_keep: '(default)', as_save_rules: 'Save rules',
  as_intro: 'Each monitoring system gets a source with its own key. Alerts open tickets; repeats are counted on them (a note at the 1st, 2nd, 4th, 8th… repeat); resolved alerts record “restored” (docs/channels.md).',
});
Object.assign(STRINGS.zh, {
  mailboxes: '邮箱', alert_sources: '告警来源', mb_server: '服务器', mb_url: 'IMAP 地址',
  mb_url_hint: 'imaps://主机[:端口]（TLS）或 imap://主机[:端口]', mb_user: '用户名', mb_folder: '文件夹',
  mb_keep_password: '留空则保留原密码', mb_feeds: '新工单', mb_reply_from: '回复发件地址',
  mb_unknown: '未知发件人', mb_triage: '进入上面的单位（分拣）', mb_refuse: '拒收',
  mb_poll: '轮询间隔（秒）', mb_smtp: 'SMTP 地址（发信）', mb_smtp_hint: 'smtps://主机[:端口]；留空则只收信',
  mb_ack: '以邮件确认新工单', mb_state: '状态', mb_counts: '邮件', mb_never: '尚未收取',
  mb_fetched: '收取于 {t}', mb_ok: '正常', mb_counts_text: '已收 {n} 封 · 建单 {c} 个 · 拒收 {f} 封',
  mb_test: '测试连接', mb_testing: '正在测试…', mb_stop: '停用', mb_stop_ask: '停用 {n}？将不再收取邮件',
  mb_stopped: '已停用', mb_created: '已添加邮箱 {n}', mb_none: '尚无邮箱。',
  mb_intro: '服务台通过 IMAP 收取每个邮箱：新邮件建立工单，回复成为评论（docs/channels.md）。',
  out_ok: '正常', out_login_failed: '登录失败', out_folder_missing: '文件夹不存在', out_tls_error: 'TLS 错误',
  out_connect_failed: '无法连接', out_timeout: '超时', out_refused: '地址被拒绝', out_key_error: '无法解开密码',
  out_error: '失败', mb_push: '新邮件到达即收取（IDLE）', mb_poll_only: '定时轮询（服务器不支持 IDLE）',
  as_kind: '类型', as_defaults: '默认值', as_rules: '映射规则', as_rules_n: '{n} 条规则',
  as_match: '标签匹配时', as_match_hint: '标签=值，多个用逗号分隔：severity=critical, team=dba',
  as_then: '则', as_add_rule: '添加规则', as_remove_rule: '删除', as_rule_n: '第 {n} 条规则', as_no_rules: '没有规则：所有告警使用默认值。',
  as_on_resolve: '告警恢复时', as_restored: '记录“已恢复”', as_comment: '仅添加备注', as_per_minute: '每分钟请求数',
  as_key_once: '{n} 的密钥——请立即复制，之后不再显示：', as_send_test: '发送测试事件',
  as_test_sent: '测试事件：{o}，工单 #{t}', as_example: '在命令行中试用', as_stop_ask: '停用 {n}？其密钥将被拒绝',
  as_rekey: '更换密钥', as_rekey_ask: '为 {n} 更换密钥？旧密钥立即失效',
  as_stopped: '已停用', as_none: '尚无告警来源。', as_keep: '（默认）', as_save_rules: '保存规则',
  as_intro: '每个监控系统一个来源，各有自己的密钥。告警建立工单，重复告警计入工单（第 1、2、4、8… 次重复时记一条备注），恢复时记录“已恢复”（docs/channels.md）。',
});

// What the channel pages choose from: organisations, teams, the commitment's levels and categories.
async function channelChoices() {
  const [os, ts, cf] = await Promise.all([apiAll('/orgs?limit=500', 'orgs'), api('GET', '/teams').then((r) => r.teams), inForce()]);
  const doc = cf ? cf.doc : { levels: [], categories: [] };
  return { os: os.filter((o) => o.active !== false), ts, levels: doc.levels || [], cats: doc.categories || [] };
}
// A <select> of choices [value, text]; with none: an empty first option.
function choice(name, list, value, none) {
  return h('select', { name, 'aria-label': name }, none !== undefined ? h('option', { value: '' }, none) : null,
    list.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)));
}
const numOrNull = (v) => (v === '' ? null : Number(v));

// Mailboxes: their state, test connection, create, edit, deactivate.
const mailboxTests = new Map(); // the last test's outcome per mailbox, kept across redraws
async function pageMailboxes(main) {
  const [list, c] = await Promise.all([api('GET', '/mailboxes').then((r) => r.mailboxes), channelChoices()]);
  const orgName = (id) => nameOf(c.os, id);
  const teamName = (id) => (id ? nameOf(c.ts, id) : '');
  const editor = (m) => {
    const f = {
      name: h('input', { name: 'name', required: true, value: m ? m.name : '' }),
      url: h('input', { name: 'url', required: true, value: m ? m.url : '', placeholder: 'imaps://imap.exmail.qq.com:993' }),
      username: h('input', { name: 'username', required: true, value: m ? m.username : '', autocomplete: 'off' }),
      password: h('input', { name: 'password', type: 'password', required: !m, autocomplete: 'new-password', placeholder: m ? t('mb_keep_password') : '' }),
      folder: h('input', { name: 'folder', value: m ? m.folder : 'INBOX' }),
      org_id: choice('org_id', c.os.map((o) => [o.id, o.name]), m ? m.org_id : ''),
      team_id: choice('team_id', c.ts.map((x) => [x.id, x.name]), m ? m.team_id : '', t('none')),
      level: choice('level', c.levels.map((l) => [l.id, label(l)]), m ? m.level : ''),
      category: choice('category', c.cats.map((x) => [x.id, label(x)]), m ? m.category : '', t('none')),
      reply_from: h('input', { name: 'reply_from', type: 'email', required: true, value: m ? m.reply_from : '', placeholder: 'support@example.cn' }),
      unknown: choice('unknown', [['triage', t('mb_triage')], ['refuse', t('mb_refuse')]], m ? m.unknown : 'triage'),
      poll_s: h('input', { name: 'poll_s', type: 'number', min: 1, max: 3600, value: m ? m.poll_s : 60 }),
      smtp_url: h('input', { name: 'smtp_url', value: m && m.smtp_url ? m.smtp_url : '', placeholder: 'smtps://smtp.exmail.qq.com:465' }),
      ack: h('input', { name: 'ack', type: 'checkbox', checked: m ? m.ack : false }),
    };
    const fields = Object.fromEntries(Object.entries(f).map(([k, el]) => ['/' + k, el]));
    const general = h('div');
    const lab = (key, el, hint, cls) => h('label', { class: cls || null }, t(key), el, hint ? h('span', { class: 'small muted' }, hint) : null);
    const fm = form(async () => {
      clearFieldProblems(fm);
      clear(general);
      const b = { name: f.name.value, url: f.url.value.trim(), username: f.username.value, folder: f.folder.value || 'INBOX',
        org_id: Number(f.org_id.value), level: f.level.value, reply_from: f.reply_from.value.trim(), unknown: f.unknown.value,
        poll_s: Number(f.poll_s.value), ack: f.ack.checked };
      if (f.password.value) b.password = f.password.value;
      const team = numOrNull(f.team_id.value), cat = f.category.value || null, smtp = f.smtp_url.value.trim() || null;
      if (m) Object.assign(b, { team_id: team, category: cat, smtp_url: smtp });
      else { if (team) b.team_id = team; if (cat) b.category = cat; if (smtp) b.smtp_url = smtp; }
      try {
        if (m) await api('PATCH', `/mailboxes/${m.id}`, b); else await api('POST', '/mailboxes', b);
      } catch (x) { fieldProblem(x, fields, general); return; }
      toast(m ? t('saved') : t('mb_created', { n: b.name }));
      router();
    }, h('div', { class: 'row' }, lab('name', f.name), lab('mb_url', f.url, t('mb_url_hint'), 'wide'), lab('mb_user', f.username),
      lab('password', f.password), lab('mb_folder', f.folder)),
    h('div', { class: 'row' }, lab('org', f.org_id), lab('filter_team', f.team_id), lab('filter_level', f.level), lab('filter_category', f.category),
      lab('mb_unknown', f.unknown)),
    h('div', { class: 'row' }, lab('mb_reply_from', f.reply_from), lab('mb_smtp', f.smtp_url, t('mb_smtp_hint'), 'wide'), lab('mb_poll', f.poll_s),
      h('label', { class: 'inline' }, f.ack, ' ', t('mb_ack'))),
    general,
    h('p', {}, h('button', { type: 'submit', id: m ? null : 'create-mailbox', class: m ? 'save-mailbox' : null }, m ? t('save') : t('create')),
      m ? [' ', h('button', { type: 'button', class: 'secondary', onclick: () => router() }, t('cancel'))] : null));
    return fm;
  };
  const row = (m) => {
    const outcome = h('div', { class: 'outcome', role: 'status' });
    const shown = mailboxTests.get(m.id);
    if (shown) { outcome.className = shown.cls; outcome.textContent = shown.text; }
    const state = !m.active ? h('span', { class: 'badge off' }, t('mb_stopped'))
      : m.last_error ? h('span', { class: 'small error' }, m.last_error)
        : h('span', {}, t('mb_ok'));
    const tr = h('tr', { 'data-id': m.id, class: m.active ? null : 'muted' },
      h('td', {}, h('strong', {}, m.name), h('div', { class: 'small muted' }, m.username)),
      h('td', { class: 'small url' }, m.url, h('div', { class: 'muted' }, m.folder)),
      h('td', { class: 'small' }, orgName(m.org_id), m.team_id ? ` · ${teamName(m.team_id)}` : '', h('div', { class: 'muted' }, m.level, m.category ? ` · ${vocabLabel(c.cats, m.category)}` : '')),
      h('td', { class: 'small state' }, state, h('div', { class: 'muted' }, m.last_fetch_at ? t('mb_fetched', { t: fmtTime(m.last_fetch_at) }) : t('mb_never'))),
      h('td', { class: 'small counts' }, t('mb_counts_text', { n: fmtNum(m.taken), c: fmtNum(m.created), f: fmtNum(m.failed) }),
        m.last_failed ? h('div', { class: 'error' }, `UID ${m.last_failed.uid}: ${m.last_failed.outcome}`) : null),
      h('td', { class: 'actions' }, m.active ? [
        h('button', { type: 'button', class: 'secondary test-mailbox', onclick: async (ev) => {
          ev.target.disabled = true;
          outcome.className = 'outcome';
          outcome.textContent = t('mb_testing');
          try {
            const r = await api('POST', `/mailboxes/${m.id}/test`);
            const text = `${t('out_' + r.outcome) || r.outcome}: ${r.detail}`;
            outcome.className = 'outcome ' + (r.ok ? 'ok' : 'bad');
            outcome.textContent = text;
            mailboxTests.set(m.id, { cls: outcome.className, text });
          } catch (x) { clear(outcome).append(problemBox(x)); } finally { ev.target.disabled = false; }
        } }, t('mb_test')), ' ',
        h('button', { type: 'button', class: 'secondary edit-mailbox', onclick: () => {
          tr.replaceWith(h('tr', { 'data-id': m.id, class: 'editing' }, h('td', { colspan: 6 }, editor(m))));
        } }, t('edit')), ' ',
        twiceButton(t('mb_stop'), t('mb_stop_ask', { n: m.name }), async () => {
          await api('DELETE', `/mailboxes/${m.id}`);
          toast(t('saved'));
          router();
        }, { class: 'secondary stop-mailbox' }), outcome] : null));
    return tr;
  };
  add(main, h('h1', {}, t('mailboxes')), h('p', { class: 'muted' }, t('mb_intro')),
    h('div', { class: 'board' }, h('table', { id: 'mailboxes' }, h('thead', {}, h('tr', {}, [t('name'), t('mb_server'), t('mb_feeds'), t('mb_state'), t('mb_counts'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.length ? list.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('mb_none')))))),
    h('h2', {}, t('create')), h('div', { class: 'card' }, editor(null)));
}
function vocabLabel(list, id) { return label(list.find((x) => x.id === id)) || id; }

// Alert sources: list, create (the key shown once, a test event), the mapping rules as a table, stop.
const INTAKE_KINDS = ['alertmanager', 'grafana', 'events'];
function matchText(match) { return Object.entries(match || {}).map(([k, v]) => `${k}=${v}`).join(', '); }
function matchOf(text) {
  const out = {};
  for (const part of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
    else out[part] = '';
  }
  return out;
}
// The rules as a table of rows: match → level, category, organisation, team.
function rulesTable(rules, c) {
  const body = h('tbody');
  const addRow = (r) => {
    const m = h('input', { name: 'match', value: matchText(r.match), placeholder: 'severity=critical', 'aria-label': t('as_match') });
    const lv = choice('level', c.levels.map((l) => [l.id, label(l)]), r.level, t('as_keep'));
    const ct = choice('category', c.cats.map((x) => [x.id, label(x)]), r.category, t('as_keep'));
    const og = choice('org_id', c.os.map((o) => [o.id, o.name]), r.org_id, t('as_keep'));
    const tm = choice('team_id', c.ts.map((x) => [x.id, x.name]), r.team_id, t('as_keep'));
    const tr = h('tr', { class: 'rule' }, h('td', {}, m), h('td', {}, lv), h('td', {}, ct), h('td', {}, og), h('td', {}, tm),
      h('td', {}, h('button', { type: 'button', class: 'secondary small', onclick: () => tr.remove() }, t('as_remove_rule'))));
    tr.value = () => {
      const o = { match: matchOf(m.value) };
      if (lv.value) o.level = lv.value;
      if (ct.value) o.category = ct.value;
      if (og.value) o.org_id = Number(og.value);
      if (tm.value) o.team_id = Number(tm.value);
      return o;
    };
    body.append(tr);
  };
  (rules || []).forEach(addRow);
  const table = h('table', { class: 'rules' }, h('thead', {}, h('tr', {}, [t('as_match'), t('filter_level'), t('filter_category'), t('org'), t('filter_team'), ''].map((x) => h('th', { scope: 'col' }, x)))), body);
  const el = h('div', { class: 'rules-edit' }, h('p', { class: 'small muted' }, t('as_match_hint')), h('div', { class: 'board' }, table),
    h('button', { type: 'button', class: 'secondary add-rule', onclick: () => addRow({ match: {} }) }, t('as_add_rule')));
  el.value = () => [...body.querySelectorAll('tr.rule')].map((tr) => tr.value());
  el.focus = () => table.focus();
  return el;
}
const rulePlace = (p) => { const n = /^\/rules\/(\d+)/.exec(p); return n ? t('as_rule_n', { n: Number(n[1]) + 1 }) : null; };

// A sample payload of each kind, for the test event and the shell example.
function sampleEvent(kind, key) {
  if (kind === 'events') return { routing_key: key, event_action: 'trigger', dedup_key: 'keepword-test', payload: { summary: 'Keepword test event', source: 'keepword', severity: 'info' } };
  return { version: '4', status: 'firing', receiver: 'keepword', groupKey: 'keepword-test',
    alerts: [{ status: 'firing', labels: { alertname: 'KeepwordTest', severity: 'info' }, annotations: { summary: 'Keepword test event' },
      startsAt: new Date().toISOString(), fingerprint: 'keepword-test' }] };
}
function curlExample(s, key) {
  const body = JSON.stringify(sampleEvent(s.kind, key || 'KEY'));
  return `curl -s -X POST ${location.origin}${s.url_path} \\\n  -H 'Authorization: Bearer ${key || 'KEY'}' -H 'Content-Type: application/json' \\\n  -d '${body}'`;
}

async function pageAlertSources(main) {
  const [list, c] = await Promise.all([api('GET', '/intake/sources').then((r) => r.sources), channelChoices()]);
  const keyBox = h('div', { id: 'source-key' });
  const defaultsText = (s) => [nameOf(c.os, s.org_id), s.team_id ? nameOf(c.ts, s.team_id) : null, s.level, s.category ? vocabLabel(c.cats, s.category) : null].filter(Boolean).join(' · ');
  const row = (s) => {
    const tr = h('tr', { 'data-id': s.id, class: s.active ? null : 'muted' },
      h('td', {}, h('strong', {}, s.name)), h('td', {}, s.kind, h('div', { class: 'small muted url' }, s.url_path)),
      h('td', { class: 'small' }, defaultsText(s)),
      h('td', { class: 'small' }, s.rules.length ? s.rules.map((r) => h('div', {}, `${matchText(r.match)} → ${[r.level, r.category ? vocabLabel(c.cats, r.category) : null, r.org_id ? nameOf(c.os, r.org_id) : null, r.team_id ? nameOf(c.ts, r.team_id) : null].filter(Boolean).join(', ')}`)) : t('none')),
      h('td', {}, s.active ? t('active') : h('span', { class: 'badge off' }, t('as_stopped'))),
      h('td', { class: 'actions' }, s.active ? [
        h('button', { type: 'button', class: 'secondary edit-source', onclick: () => {
          tr.replaceWith(h('tr', { 'data-id': s.id, class: 'editing' }, h('td', { colspan: 6 }, editor(s))));
        } }, t('edit')), ' ',
        twiceButton(t('as_rekey'), t('as_rekey_ask', { n: s.name }), async () => {
          const r = await api('POST', `/intake/sources/${s.id}/key`);
          toast(t('saved'));
          await router();
          showKey(r);
        }, { class: 'secondary rekey-source' }), ' ',
        twiceButton(t('mb_stop'), t('as_stop_ask', { n: s.name }), async () => {
          await api('DELETE', `/intake/sources/${s.id}`);
          toast(t('saved'));
          router();
        }, { class: 'secondary stop-source' })] : null));
    return tr;
  };
  const editor = (s) => {
    const f = {
      name: h('input', { name: 'name', required: true, value: s ? s.name : '' }),
      kind: choice('kind', INTAKE_KINDS.map((k) => [k, k]), s ? s.kind : 'alertmanager'),
      org_id: choice('org_id', c.os.map((o) => [o.id, o.name]), s ? s.org_id : ''),
      team_id: choice('team_id', c.ts.map((x) => [x.id, x.name]), s ? s.team_id : '', t('none')),
      level: choice('level', c.levels.map((l) => [l.id, label(l)]), s ? s.level : ''),
      category: choice('category', c.cats.map((x) => [x.id, label(x)]), s ? s.category : '', t('none')),
      on_resolve: choice('on_resolve', [['restored', t('as_restored')], ['comment', t('as_comment')]], s ? s.on_resolve : 'restored'),
      per_minute: h('input', { name: 'per_minute', type: 'number', min: 1, max: 60000, value: s ? s.per_minute : 600 }),
    };
    if (s) f.kind.disabled = true;
    const rules = rulesTable(s ? s.rules : [], c);
    const fields = Object.assign(Object.fromEntries(Object.entries(f).map(([k, el]) => ['/' + k, el])), { '/rules': rules });
    const general = h('div');
    const lab = (key, el) => h('label', {}, t(key), el);
    const fm = form(async () => {
      clearFieldProblems(fm);
      clear(general);
      const b = { name: f.name.value, org_id: Number(f.org_id.value), level: f.level.value, on_resolve: f.on_resolve.value,
        per_minute: Number(f.per_minute.value), rules: rules.value() };
      const team = numOrNull(f.team_id.value), cat = f.category.value || null;
      let r;
      try {
        if (s) r = await api('PATCH', `/intake/sources/${s.id}`, Object.assign(b, { team_id: team, category: cat }));
        else {
          b.kind = f.kind.value;
          if (team) b.team_id = team;
          if (cat) b.category = cat;
          r = await api('POST', '/intake/sources', b);
        }
      } catch (x) { fieldProblem(x, fields, general, rulePlace); return; }
      toast(t('saved'));
      if (!s) { await router(); showKey(r); } else router();
    }, h('div', { class: 'row' }, lab('name', f.name), lab('as_kind', f.kind), lab('org', f.org_id), lab('filter_team', f.team_id),
      lab('filter_level', f.level), lab('filter_category', f.category), lab('as_on_resolve', f.on_resolve), lab('as_per_minute', f.per_minute)),
    h('h3', {}, t('as_rules')), rules, general,
    h('p', {}, h('button', { type: 'submit', id: s ? null : 'create-source', class: s ? 'save-source' : null }, s ? t('save') : t('create')),
      s ? [' ', h('button', { type: 'button', class: 'secondary', onclick: () => router() }, t('cancel'))] : null));
    return fm;
  };
  // The new source's key, once, with a test event sent with it and the shell example.
  const showKey = (s) => {
    const box = document.getElementById('source-key');
    if (!box) return;
    const result = h('div', { class: 'outcome', role: 'status' });
    clear(box).append(h('div', { class: 'card key-once' }, h('p', {}, t('as_key_once', { n: s.name })), h('pre', { class: 'key' }, s.key),
      h('p', {}, h('button', { type: 'button', class: 'secondary send-test-event', onclick: async (ev) => {
        ev.target.disabled = true;
        clear(result).className = 'outcome';
        try {
          const r = await fetch(s.url_path, { method: 'POST', headers: { Authorization: `Bearer ${s.key}`, 'Content-Type': 'application/json' },
            body: JSON.stringify(sampleEvent(s.kind, s.key)) });
          const j = await r.json();
          if (!r.ok) throw Object.assign(new Error(j.detail || r.statusText), { problem: j });
          const o = j.results[0];
          result.className = 'outcome ok';
          result.append(t('as_test_sent', { o: o.outcome, t: o.ticket_id }), ' ', o.ticket_id ? h('a', { href: `#/t/${o.ticket_id}` }, `#${o.ticket_id}`) : null);
        } catch (x) { result.className = 'outcome bad'; result.append(problemBox(x)); } finally { ev.target.disabled = false; }
      } }, t('as_send_test')), result),
      h('p', { class: 'small' }, t('as_example')), h('pre', { class: 'example' }, curlExample(s, s.key))));
    box.scrollIntoView({ block: 'nearest' });
  };
  const sample = list.find((s) => s.active) || { kind: 'events', url_path: '/api/v1/intake/events' };
  add(main, h('h1', {}, t('alert_sources')), h('p', { class: 'muted' }, t('as_intro')), keyBox,
    h('div', { class: 'board' }, h('table', { id: 'sources' }, h('thead', {}, h('tr', {}, [t('name'), t('as_kind'), t('as_defaults'), t('as_rules'), t('col_status'), ''].map((x) => h('th', {}, x)))),
      h('tbody', {}, list.length ? list.map(row) : h('tr', {}, h('td', { colspan: 6, class: 'muted' }, t('as_none')))))),
    h('h2', {}, t('create')), h('div', { class: 'card' }, editor(null)),
    h('h2', {}, t('as_example')), h('pre', { class: 'example' }, curlExample(sample, null)));
}

const ROUTES = [
  [/^#\/login$/, pageLogin, null],
  [/^#\/board$/, pageBoard, 'staff'],
  [/^#\/dashboard(?:\?(.*))?$/, pageDashboard, 'any'],
  [/^#\/dashboard\/tickets\?(.*)$/, pageDashTickets, 'any'],
  [/^#\/callbacks$/, pageCallbacks, 'staff'],
  [/^#\/t\/(\d+)$/, pageTicket, 'any'],
  [/^#\/portal$/, pagePortal, 'any'],
  [/^#\/portal\/new$/, pageNewRequest, 'any'],
  [/^#\/portal\/letter$/, pageOurCommitment, 'any'],
  [/^#\/tickets(?:\?(.*))?$/, pageTickets, 'any'],
  [/^#\/new$/, pageNewTicket, 'staff'],
  [/^#\/inbox(?:\?(.*))?$/, pageInbox],
  [/^#\/admin\/commitments(?:\/(\d+))?$/, pageCommitments, 'manager'],
  [/^#\/admin\/calendars$/, pageCalendars, 'manager'],
  [/^#\/admin\/orgs$/, pageOrgs, 'manager'],
  [/^#\/admin\/people$/, pagePeople, 'manager'],
  [/^#\/admin\/oncall$/, pageOncall, 'manager'],
  [/^#\/admin\/endpoints$/, pageEndpoints, 'manager'],
  [/^#\/admin\/mailboxes$/, pageMailboxes, 'manager'],
  [/^#\/admin\/alerts$/, pageAlertSources, 'manager'],
  [/^#\/me$/, pageSettings, 'any'],
  [/^#\/contracts$/, pageContracts, 'any'],
  [/^#\/contracts\/(\d+)$/, pageContract, 'any'],
  [/^#\/watch$/, pageWatch, 'staff'],
  [/^#\/audit(?:\?(.*))?$/, pageAudit, 'manager'],
];

let generation = 0;
async function router() {
  const gen = ++generation;
  stopTicker();
  unlisten();
  let hash = location.hash || '';
  if (!catalogue.states.length) {
    try { catalogue = await api('GET', '/catalogue'); } catch (e) { /* labels fall back to ids */ }
  }
  if (!session.me && hash !== '#/login') {
    try {
      session.me = await api('GET', '/me');
      session.csrf = session.me.csrf_token;
      applyMe(!localStorage.getItem('kw.lang'));
    } catch (e) { location.hash = '#/login'; return; }
  }
  if (session.me && (hash === '' || hash === '#/' || hash === '#/login')) {
    location.hash = staff() ? '#/board' : '#/portal';
    return;
  }
  const main = clear(document.getElementById('main'));
  renderTop(hash);
  const r = ROUTES.find(([re]) => re.test(hash));
  if (!r) { add(main, h('p', {}, t('not_found'))); return; }
  if ((r[2] === 'staff' && !staff()) || (r[2] === 'manager' && !manager())) {
    add(main, h('p', { class: 'problem' }, t('forbidden')));
    return;
  }
  add(main, h('p', { class: 'muted' }, t('loading')));
  const page = h('div');
  try {
    await r[1](page, ...hash.match(r[0]).slice(1));
    if (gen !== generation) return; // the user moved on meanwhile
    clear(main).append(page);
  } catch (e) {
    if (gen !== generation || e.status === 401) return;
    clear(main).append(e.status === 404 ? h('p', {}, t('not_found')) : problemBox(e));
  }
}

window.addEventListener('hashchange', router);
window.addEventListener('DOMContentLoaded', router);

// ---- editing a ticket: title, description, category, region, requester ----
// (docs/policy.md "Editing a ticket": staff every field but on archived
// tickets; customers their requests' title and description while worked on)

Object.assign(STRINGS.en, {
  edit_ticket: 'Edit ticket', edit_save: 'Save changes', edit_reason: 'Why (optional)',
  ev_edited_title: 'changed the title: {a} → {b}', ev_edited_description: 'rewrote the description',
  ev_category: 'changed the category: {a} → {b}', ev_region: 'changed the region: {a} → {b}',
  ev_requester: 'changed the requester: {a} → {b}', was: 'Before', now_text: 'Now',
  edit_nothing: 'Nothing changed.', edit_saved: 'Saved.',
});
Object.assign(STRINGS.zh, {
  edit_ticket: '编辑工单', edit_save: '保存修改', edit_reason: '修改原因（可选）',
  ev_edited_title: '修改了标题：{a} → {b}', ev_edited_description: '改写了问题描述',
  ev_category: '修改了类别：{a} → {b}', ev_region: '修改了区域：{a} → {b}',
  ev_requester: '更换了报告人：{a} → {b}', was: '修改前', now_text: '修改后',
  edit_nothing: '没有改动。', edit_saved: '已保存。',
});

function editedWhat(ev, us, doc) {
  const b = ev.body || {};
  const none = t('none');
  switch (ev.type) {
    case 'edited': return b.field === 'title' ? t('ev_edited_title', { a: b.from || none, b: b.to }) : t('ev_edited_description');
    case 'category': return t('ev_category', { a: b.from ? vocab(doc, 'categories', b.from) : none, b: vocab(doc, 'categories', b.category) });
    case 'region': return t('ev_region', { a: b.from ? vocab(doc, 'regions', b.from) : none, b: vocab(doc, 'regions', b.region) });
    default: return t('ev_requester', { a: b.from ? nameOf(us, b.from) : none, b: nameOf(us, b.requester_id) });
  }
}

// A rewritten description: before and after, one under the other.
function editedText(b) {
  return h('div', { class: 'edited' },
    h('div', { class: 'was' }, h('span', { class: 'muted small' }, `${t('was')}: `), b.from || t('none')),
    h('div', { class: 'now' }, h('span', { class: 'muted small' }, `${t('now_text')}: `), b.to || t('none')));
}

// The ticket's description now: the last edit's, else what was reported.
function currentDescription(events) {
  let d = '';
  for (const e of events) {
    if (e.type === 'created') d = (e.body && e.body.description) || '';
    if (e.type === 'edited' && e.body && e.body.field === 'description') d = e.body.to || '';
  }
  return d;
}

function editCard(ticket, doc, events, us, reload) {
  const mayText = staff() ? ticket.state !== 'archived' : !['feedback', 'archived'].includes(ticket.state);
  if (!mayText) return null;
  const title = h('input', { name: 'title', id: 'edit-title', value: ticket.title, maxlength: 500, required: true });
  const descNow = currentDescription(events);
  const desc = h('textarea', { name: 'description', id: 'edit-description' });
  desc.value = descNow;
  // what the ticket says is each field's default: a live update redraws the
  // page unless something was typed (pageTicket's listen)
  title.defaultValue = ticket.title;
  desc.defaultValue = descNow;
  const why = h('input', { name: 'edit_reason', id: 'edit-reason', placeholder: t('edit_reason'), 'aria-label': t('edit_reason') });
  let cat = null, region = null, requester = null;
  if (staff()) {
    cat = h('select', { name: 'category', id: 'edit-category' }, ticket.category ? null : h('option', { value: '' }, t('none')),
      ((doc && doc.categories) || []).map((c) => h('option', { value: c.id, selected: c.id === ticket.category }, label(c))));
    const regions = (doc && doc.regions) || [];
    region = regions.length
      ? h('select', { name: 'region', id: 'edit-region' }, ticket.region ? null : h('option', { value: '' }, t('none')),
        regions.map((r) => { const v = typeof r === 'string' ? r : r.id; return h('option', { value: v, selected: v === ticket.region }, typeof r === 'string' ? r : label(r)); }))
      : h('input', { name: 'region', id: 'edit-region', value: ticket.region || '', maxlength: 47 });
    if (!regions.length) region.defaultValue = ticket.region || '';
    const people = us.filter((u) => u.role === 'customer' && u.org_id === ticket.org_id && u.active !== false);
    requester = h('select', { name: 'requester', id: 'edit-requester' }, ticket.requester_id ? null : h('option', { value: '' }, t('none')),
      people.map((u) => h('option', { value: u.id, selected: u.id === ticket.requester_id }, u.name)));
  }
  const f = form(async () => {
    const body = {};
    if (oneLine(title.value) !== ticket.title) body.title = oneLine(title.value);
    if (desc.value !== descNow) body.description = desc.value;
    if (cat && cat.value && cat.value !== (ticket.category || '')) body.category = cat.value;
    if (region && region.value && region.value !== (ticket.region || '')) body.region = region.value;
    if (requester && requester.value && Number(requester.value) !== ticket.requester_id) body.requester_id = Number(requester.value);
    if (!Object.keys(body).length) { toast(t('edit_nothing')); return; }
    if (why.value.trim()) body.reason = why.value;
    await api('PATCH', `/tickets/${ticket.id}`, body);
    toast(t('edit_saved'));
    reload();
  }, h('label', {}, t('title'), title), h('label', {}, t('description'), desc),
  staff() ? h('div', { class: 'row' }, h('label', {}, t('category'), cat), h('label', {}, t('region'), region),
    h('label', {}, t('requester'), requester)) : null,
  h('div', { class: 'row' }, h('label', {}, t('reason'), why), h('button', { type: 'submit', id: 'edit-save' }, t('edit_save'))));
  return h('details', { class: 'card', id: 'edit' }, h('summary', {}, t('edit_ticket')), f);
}

// ---- links between tickets, merging a duplicate, canned replies ----
// (docs/policy.md "Links and merges", docs/api.md "Canned replies")

Object.assign(STRINGS.en, {
  links: 'Linked tickets', no_links: 'No linked tickets.', link_duplicate_of: 'Duplicate of', link_duplicated_by: 'Duplicated by',
  link_related: 'Related to', link_merged_into: 'Merged into', link_merged_from: 'Merged from', link_ticket: 'Ticket number',
  link_kind: 'Link', link_add: 'Link', unlink: 'Remove the link to #{n}', merge: 'Merge this ticket into…', merge_into: 'Original ticket number',
  merge_go: 'Merge', merge_confirm: 'Merge #{a} into #{b}? Its comments and files move to #{b}, its watchers follow #{b}, and #{a} closes. A merge cannot be undone.',
  merge_hint: 'Comments (with their authors and times) and files move to the original; this ticket closes and points there.',
  merged_banner: 'This ticket was merged into #{n}.', merged_go: 'Go to #{n}', merged_done: 'Merged into #{n}.',
  ev_linked: 'linked #{n} ({k})', ev_unlinked: 'removed the link to #{n} ({k})', ev_merged_into: 'merged this ticket into #{n}',
  ev_merged_from: 'merged #{n} into this ticket ({c} comments, {f} files)', moved_from: 'moved from #{n}; written by {who} at {t}',
  canned: 'Canned replies', canned_pick: '— canned reply —', canned_insert: 'Insert', canned_lang: 'Language of the reply',
  canned_lang_auto: 'The requester’s', canned_none: 'No canned replies yet.', canned_manage: 'Manage canned replies',
  canned_new: 'New canned reply', canned_name: 'Name', canned_team: 'Team', canned_body_zh: 'Text in Chinese',
  canned_body_en: 'Text in English', canned_save: 'Save', canned_edit: 'Edit', canned_delete: 'Delete', canned_placeholders: 'Placeholders',
  canned_hint: 'Admins, managers and a team’s lead keep its replies; everyone on staff may use them. Placeholders are filled in with the ticket’s values when a reply is inserted; times are in the requester’s time zone.',
  canned_deleted: 'Deleted.', canned_saved: 'Saved.', canned_delete_confirm: 'Delete the canned reply “{n}”?',
});
Object.assign(STRINGS.zh, {
  links: '关联工单', no_links: '暂无关联工单。', link_duplicate_of: '重复于', link_duplicated_by: '被重复于',
  link_related: '相关', link_merged_into: '已合并到', link_merged_from: '合并自', link_ticket: '工单号',
  link_kind: '关联类型', link_add: '关联', unlink: '取消与 #{n} 的关联', merge: '将此工单合并到…', merge_into: '原工单号',
  merge_go: '合并', merge_confirm: '将 #{a} 合并到 #{b}？其回复和附件将移到 #{b}，关注人改为关注 #{b}，#{a} 将关闭。合并无法撤销。',
  merge_hint: '回复（保留作者和时间）与附件移到原工单；此工单关闭并指向原工单。',
  merged_banner: '此工单已合并到 #{n}。', merged_go: '前往 #{n}', merged_done: '已合并到 #{n}。',
  ev_linked: '关联了 #{n}（{k}）', ev_unlinked: '取消了与 #{n} 的关联（{k}）', ev_merged_into: '将此工单合并到 #{n}',
  ev_merged_from: '将 #{n} 合并到此工单（{c} 条回复，{f} 个附件）', moved_from: '移自 #{n}；{who} 写于 {t}',
  canned: '快捷回复', canned_pick: '— 快捷回复 —', canned_insert: '插入', canned_lang: '回复语言',
  canned_lang_auto: '按报告人', canned_none: '暂无快捷回复。', canned_manage: '管理快捷回复',
  canned_new: '新建快捷回复', canned_name: '名称', canned_team: '团队', canned_body_zh: '中文内容',
  canned_body_en: '英文内容', canned_save: '保存', canned_edit: '编辑', canned_delete: '删除', canned_placeholders: '占位符',
  canned_hint: '管理员、经理和团队负责人维护本团队的快捷回复，所有客服人员均可使用。插入时占位符会替换为工单的实际值，时间按报告人的时区显示。',
  canned_deleted: '已删除。', canned_saved: '已保存。', canned_delete_confirm: '删除快捷回复“{n}”？',
  'ph_ticket.id': '工单号', 'ph_ticket.title': '工单标题', 'ph_ticket.level': '级别', 'ph_ticket.category': '类别', 'ph_ticket.region': '区域', 'ph_ticket.state': '状态（按回复语言）', 'ph_ticket.due': '运行中计时最早的截止时间', 'ph_due.response': '响应计时的截止时间', 'ph_due.resolution': '解决计时的截止时间', 'ph_requester.name': '报告人', 'ph_org.name': '客户组织', 'ph_assignee.name': '处理人', 'ph_team.name': '所属团队', 'ph_agent.name': '插入回复的客服本人',
});

function linkKind(k) { return t('link_' + k); }

// The banner on a merged duplicate's page: where its conversation went.
function mergedBanner(ticket) {
  if (!ticket.merged_into) return null;
  return h('p', { class: 'banner', id: 'merged-banner', role: 'status' }, t('merged_banner', { n: ticket.merged_into }), ' ',
    h('a', { href: `#/t/${ticket.merged_into}` }, t('merged_go', { n: ticket.merged_into })));
}

// The ticket's links with the other ticket's title and state; staff link,
// unlink and merge.
function linksCard(ticket, ls, reload) {
  const note = h('p', { class: 'problem', role: 'alert', hidden: true });
  const act = async (fn) => {
    note.hidden = true;
    try { await fn(); reload(); } catch (e) { note.textContent = e.message; note.hidden = false; }
  };
  const items = ls.links.map((l) => h('li', { 'data-link': l.link, 'data-ticket': l.ticket },
    h('span', { class: 'small muted' }, linkKind(l.link), ' '), h('a', { href: `#/t/${l.ticket}` }, `#${l.ticket} ${l.title}`),
    ' ', h('span', { class: 'small muted' }, `· ${stateLabel(l.state)}`),
    staff() && !l.link.startsWith('merged') ? h('button', { type: 'button', class: 'secondary small unlink', 'aria-label': t('unlink', { n: l.ticket }),
      onclick: () => act(() => api('DELETE', `/tickets/${ticket.id}/links?ticket=${l.ticket}`)) }, '×') : null));
  let forms = null;
  if (staff()) {
    const other = h('input', { type: 'number', min: 1, id: 'link-ticket', inputmode: 'numeric', 'aria-label': t('link_ticket'), placeholder: t('link_ticket') });
    const kind = h('select', { id: 'link-kind', 'aria-label': t('link_kind') },
      ['duplicate_of', 'duplicated_by', 'related'].map((k) => h('option', { value: k }, linkKind(k))));
    const add = h('form', { class: 'row', id: 'add-link', onsubmit: (e) => {
      e.preventDefault();
      if (other.value) act(() => api('POST', `/tickets/${ticket.id}/links`, { ticket: Number(other.value), link: kind.value }));
    } }, kind, other, h('button', { type: 'submit', class: 'secondary' }, t('link_add')));
    let merge = null;
    if (ticket.state !== 'archived' && !ticket.merged_into) {
      const dupOf = ls.links.find((l) => l.link === 'duplicate_of');
      const into = h('input', { type: 'number', min: 1, id: 'merge-into', inputmode: 'numeric', 'aria-label': t('merge_into'), placeholder: t('merge_into') });
      if (dupOf) into.value = into.defaultValue = String(dupOf.ticket);
      merge = h('details', { id: 'merge' }, h('summary', {}, t('merge')), h('p', { class: 'small muted' }, t('merge_hint')),
        h('form', { class: 'row', onsubmit: (e) => {
          e.preventDefault();
          const b = Number(into.value);
          if (!b || !confirm(t('merge_confirm', { a: ticket.id, b }))) return;
          act(async () => { await api('POST', `/tickets/${ticket.id}/merge`, { into: b }); toast(t('merged_done', { n: b })); });
        } }, into, h('button', { type: 'submit', id: 'merge-go' }, t('merge_go'))));
    }
    forms = [add, merge];
  }
  return h('div', { class: 'card', id: 'links' }, h('h2', {}, t('links')),
    items.length ? h('ul', { class: 'links' }, items) : h('p', { class: 'muted' }, t('no_links')), forms, note);
}

// What the timeline says of a link, an unlink or a merge.
function linkWhat(ev) {
  const b = ev.body || {};
  if (ev.type === 'merged') return b.into ? t('ev_merged_into', { n: b.into }) : t('ev_merged_from', { n: b.from, c: b.comments || 0, f: b.files || 0 });
  return t(ev.type === 'linked' ? 'ev_linked' : 'ev_unlinked', { n: b.ticket, k: linkKind(b.link) });
}

// Under a comment or file a merge moved: where from, who wrote it and when.
function movedNote(ev, us) {
  const b = ev.body || {};
  if (!b.moved_from) return null;
  const known = us.find((u) => u.id === b.author);
  const who = ev.author_name || (known ? known.name : t('someone', { id: b.author }));
  return h('div', { class: 'small muted moved' }, t('moved_from', { n: b.moved_from, who, t: b.written_at ? fmtTime(b.written_at) : '' }));
}

// The canned-reply picker above the reply box (staff): the reply is
// rendered by the server for this ticket and inserted where the cursor is.
async function cannedPicker(ticket, textarea) {
  const list = await api('GET', `/tickets/${ticket.id}/canned`).catch(() => ({ canned: [] }));
  const note = h('p', { class: 'problem', role: 'alert', hidden: true });
  if (!list.canned.length)
    return h('div', { class: 'row small muted', id: 'canned' }, t('canned_none'), ' ', h('a', { href: '#/admin/canned' }, t('canned_manage')));
  const pick = h('select', { id: 'canned-pick', 'aria-label': t('canned') }, h('option', { value: '' }, t('canned_pick')),
    list.canned.map((c) => h('option', { value: c.id }, `${c.name} · ${c.team}`)));
  const lg = h('select', { id: 'canned-lang', 'aria-label': t('canned_lang') }, h('option', { value: '' }, t('canned_lang_auto')),
    h('option', { value: 'zh' }, '中文'), h('option', { value: 'en' }, 'English'));
  const insert = async () => {
    if (!pick.value) return;
    note.hidden = true;
    try {
      const r = await api('GET', `/tickets/${ticket.id}/canned?reply=${pick.value}${lg.value ? '&lang=' + lg.value : ''}`);
      const at = textarea.selectionStart ?? textarea.value.length, end = textarea.selectionEnd ?? at;
      textarea.value = textarea.value.slice(0, at) + r.text + textarea.value.slice(end);
      textarea.focus();
      textarea.selectionStart = textarea.selectionEnd = at + r.text.length;
    } catch (e) { note.textContent = e.message; note.hidden = false; }
  };
  return h('div', { id: 'canned' }, h('div', { class: 'row' }, pick, lg,
    h('button', { type: 'button', class: 'secondary', id: 'canned-insert', onclick: insert }, t('canned_insert'))), note);
}

// The admin page: every team's canned replies; managers and a team's lead
// create, change and delete them.
async function pageCanned(main) {
  const [list, ts] = await Promise.all([api('GET', '/canned'), teams()]);
  const me = session.me;
  const mine = (teamId) => manager() || ts.some((x) => x.id === teamId && x.lead_id === me.id);
  const editable = ts.filter((x) => mine(x.id));
  const reload = () => router();
  const editor = (c) => {
    const team = h('select', { name: 'team_id', 'aria-label': t('canned_team') },
      editable.map((x) => h('option', { value: x.id, selected: c && x.id === c.team_id }, x.name)));
    const name = h('input', { name: 'name', required: true, maxlength: 100, value: c ? c.name : '', 'aria-label': t('canned_name') });
    const zh = h('textarea', { name: 'body_zh', required: true, rows: 4, 'aria-label': t('canned_body_zh') });
    const en = h('textarea', { name: 'body_en', required: true, rows: 4, 'aria-label': t('canned_body_en') });
    zh.value = zh.defaultValue = c ? c.body_zh : '';
    en.value = en.defaultValue = c ? c.body_en : '';
    return form(async () => {
      const body = { team_id: Number(team.value), name: name.value, body_zh: zh.value, body_en: en.value };
      await api(c ? 'PATCH' : 'POST', c ? `/canned/${c.id}` : '/canned', body);
      toast(t('canned_saved')); reload();
    }, h('div', { class: 'row' }, h('label', {}, t('canned_team'), team), h('label', {}, t('canned_name'), name)),
    h('label', {}, t('canned_body_zh'), zh), h('label', {}, t('canned_body_en'), en),
    h('button', { type: 'submit', class: c ? 'secondary' : '' }, t('canned_save')));
  };
  const rows = list.canned.map((c) => h('li', { class: 'card', 'data-canned': c.id },
    h('h3', {}, c.name, ' ', h('span', { class: 'small muted' }, `· ${c.team}`)),
    h('div', { class: 'grid2' }, h('pre', { class: 'canned-text', lang: 'zh' }, c.body_zh), h('pre', { class: 'canned-text', lang: 'en' }, c.body_en)),
    mine(c.team_id) ? h('div', {}, h('details', {}, h('summary', {}, t('canned_edit')), editor(c)),
      h('button', { type: 'button', class: 'secondary small', onclick: async () => {
        if (!confirm(t('canned_delete_confirm', { n: c.name }))) return;
        try { await api('DELETE', `/canned/${c.id}`); toast(t('canned_deleted')); reload(); } catch (e) { toast(e.message); }
      } }, t('canned_delete'))) : null));
  add(main, h('h1', {}, t('canned')), h('p', { class: 'small muted' }, t('canned_hint')),
    editable.length ? h('div', { class: 'card', id: 'canned-new' }, h('h2', {}, t('canned_new')), editor(null)) : null,
    rows.length ? h('ul', { class: 'canned-list' }, rows) : h('p', { class: 'muted' }, t('canned_none')),
    h('div', { class: 'card' }, h('h2', {}, t('canned_placeholders')), h('dl', { class: 'kv', id: 'placeholders' },
      list.placeholders.map((p) => [h('dt', {}, h('code', {}, `{{${p.name}}}`)),
        h('dd', {}, lang === 'zh' && STRINGS.zh['ph_' + p.name] ? STRINGS.zh['ph_' + p.name] : p.about)]))));
}
ROUTES.push([/^#\/admin\/canned$/, pageCanned, 'staff']);
