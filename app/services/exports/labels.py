"""The words of the exported files, in Chinese (the users' language) and English.

These are service-side strings (no Qt): sheet names, column headers and code names. A sheet
name holds at most 31 characters and none of ``[]:*?/\\``.
"""

from __future__ import annotations

LANGS = ("zh_CN", "en")

_ZH: dict[str, str] = {
    # sheets
    "sheet_cover": "封面",
    "sheet_pers_team": "团队继续率",
    "sheet_pers_specialist": "专员继续率",
    "sheet_pers_grid": "网格继续率",
    "sheet_trend": "继续率趋势",
    "sheet_funnel": "四步经营漏斗",
    "sheet_funnel_specialist": "专员漏斗",
    "sheet_activity": "活动量",
    "sheet_equity": "服务公平",
    "sheet_overdue": "逾期任务",
    "sheet_coverage": "覆盖缺口",
    "sheet_handoff": "交接时效与继续率",
    "contact_band": "入池至首次联系",
    "band_0-7": "0–7 天",
    "band_8-30": "8–30 天",
    "band_31-90": "31–90 天",
    "band_91+": "90 天以上",
    "band_never": "从未联系",
    "handoff_title": "13个月继续率（按入池至首次联系的天数）",
    "note_handoff": (
        "检视期 {period} 应缴的保单，按其客户自入池至首次联系（建联加微）的天数分组；"
        "截至数据日期尚未联系的归入“从未联系”。本机构目标：首次联系 {contact} 天内，"
        "首次服务 {service} 天内。"
    ),
    "sheet_customers": "客户",
    "sheet_policies": "保单",
    "sheet_tasks": "任务",
    # cover
    "title": "社区网格周例会数据",
    "branch": "机构",
    "scope": "范围",
    "period": "检视期",
    "as_of": "数据截至",
    "exported_by": "导出人",
    "exported_at": "导出时间",
    "masking": "客户联系方式",
    "masked": "已脱敏（手机号、证件号码部分隐藏）",
    "unmasked": "完整显示（请妥善保管本文件）",
    "contents": "内容",
    "command_line": "命令行",
    "scope_branch": "全机构",
    "scope_team": "团队",
    "scope_specialist": "专员",
    "note_persistency": (
        "13个月继续率（保费口径），宽限期 {grace} 天；同比变化以百分点计。"
        "保单按应缴日当天的服务专员归属，应缴日无专员服务的保单单列一行。"
    ),
    "note_funnel": "四步经营（4-sell 渐进式经营）漏斗：{period} 入池的客户。",
    "note_activity": (
        "活动量：最近 {weeks} 个完整周（周一至周日）及截至 {as_of} 的本周完成的任务；"
        "专员名单的“周均完成任务”即这 {weeks} 个完整周的平均。"
    ),
    "note_equity": (
        "服务公平：最近 365 天的保全与续收任务完成率，已综拓或加保客户高出 {threshold} "
        "个百分点以上即标记。"
    ),
    # persistency
    "team": "团队",
    "specialist": "专员",
    "grid": "网格",
    "policies": "已过宽限期保单数",
    "cover_pending": "本期尚未过宽限期的保单：{n} 份；继续率只计已过宽限期的保单",
    "cover_pending_due": (
        "本期尚未过宽限期的保单（含未到应缴日的）：{n} 份；继续率只计已过宽限期的保单"
    ),
    "sheet_pending": "宽限期未满的保单不计入继续率（见“宽限期未满”列），期满后才有结果。",
    "funnel_young": "该批客户入池仅 {newest}–{oldest} 天，综拓与加保通常需要数月，后续阶段的数字仍会上升。",
    "persisting_policies": "继续保单数",
    "pending_policies": "宽限期未满",
    "premium_due": "应收保费（元）",
    "premium_received": "实收保费（元）",
    "persistency_premium": "13个月继续率（保费）",
    "persistency_count": "13个月继续率（件数）",
    "year_earlier": "去年同期",
    "change_points": "同比变化（百分点）",
    "month": "月份",
    "persistency": "13个月继续率",
    "trend_title": "13个月继续率趋势（保费口径）",
    # funnel
    "step": "步骤",
    "cohort_size": "入池客户数",
    "reached": "达成客户数",
    "step_conversion": "步骤转化率",
    "cumulative_conversion": "累计转化率",
    "median_days": "入池至达成中位天数",
    "funnel_title": "四步经营漏斗（达成客户数）",
    "step_1": "建联加微",
    "step_2": "服务续收",
    "step_3": "综拓推荐",
    "step_4": "加保销售",
    "reached_n": "{step}达成",
    "conv_n": "{step}转化率",
    # activity
    "done_week": "{week} 完成",
    "done_kind": "{kind}（完成）",
    "done_total": "完成合计",
    "overdue_open": "逾期未办",
    "median_hours": "完成中位时长（小时）",
    # equity
    "tasks_without": "任务数（未综拓或加保）",
    "rate_without": "完成率（未综拓或加保）",
    "hours_without": "中位时长（未综拓或加保）",
    "tasks_with": "任务数（已综拓或加保）",
    "rate_with": "完成率（已综拓或加保）",
    "hours_with": "中位时长（已综拓或加保）",
    "gap_points": "差距（百分点）",
    "flagged": "标记",
    "yes": "是",
    "base": "样本",
    "few": "少量（不足30件）",
    "no": "否",
    # tasks and customers
    "task_no": "任务编号",
    "kind": "任务类型",
    "status": "状态",
    "customer_no": "客户号",
    "customer_name": "客户姓名",
    "phone": "手机号",
    "id_number": "证件号码",
    "address": "地址",
    "policy_no": "保单号",
    "employee_no": "工号",
    "specialist_name": "专员姓名",
    "grid_code": "网格代码",
    "grid_name": "网格名称",
    "channel": "渠道",
    "created_at": "创建时间",
    "due_date": "截止日期",
    "completed_at": "完成时间",
    "outcome": "结果",
    "days_overdue": "逾期天数",
    "pool_entered_on": "入池日期",
    "agent_code": "原代理人代码",
    "step_reached": "四步经营阶段",
    "product": "产品",
    "issue_date": "生效日期",
    "payment_mode": "缴费方式",
    "modal_premium": "期交保费（元）",
    "policy_status": "保单状态",
    "status_date": "状态日期",
    # coverage
    "gap": "缺口",
    "item": "对象",
    "detail": "说明",
    "customers": "客户数",
    "capacity": "服务上限",
    "load": "负载",
    "gap_unmatched": "未匹配网格的客户",
    "gap_outside": "地址不在覆盖范围的客户",
    "gap_unserved": "无在岗专员服务的客户",
    "gap_grid": "无在岗专员的网格",
    "gap_over_capacity": "超出服务上限的专员",
    "reason_no owner": "无负责人",
    "reason_owner on leave": "负责人休假",
    "reason_owner left": "负责人离职",
    "whole_branch": "全机构",
    # group names the metrics give in English
    "(no grid)": "（无网格）",
    "(unassigned)": "（未分配）",
    "(no team)": "（无团队）",
    "(unserved on the due date)": "（应缴日无专员服务）",
    "no_specialist_on_due": "（应缴日无专员服务）",
    "(none)": "（无）",
    "total": "合计",
    # codes
    "kind_pre_sell": "建联加微",
    "kind_renewal_collection": "续收",
    "kind_servicing": "保全",
    "kind_cross_sell": "综拓推荐",
    "kind_up_sell": "加保销售",
    "kind_callback": "线上回访",
    "status_open": "待办",
    "status_in_progress": "进行中",
    "status_done": "已完成",
    "status_failed": "失败",
    "status_cancelled": "已取消",
    "channel_offline": "线下",
    "channel_online": "线上坐席",
    "mode_annual": "年交",
    "mode_semiannual": "半年交",
    "mode_quarterly": "季交",
    "mode_monthly": "月交",
    "mode_single": "趸交",
    "policy_in_force": "有效",
    "policy_lapsed": "失效",
    "policy_surrendered": "退保",
    "policy_claim": "理赔终止",
    "policy_death": "身故终止",
    "policy_matured": "满期",
    "step_0": "未建联",
    "page_footer": "第 &P 页，共 &N 页",
}

_EN: dict[str, str] = {
    "sheet_cover": "Cover",
    "sheet_pers_team": "Persistency by team",
    "sheet_pers_specialist": "Persistency by specialist",
    "sheet_pers_grid": "Persistency by grid",
    "sheet_trend": "Persistency trend",
    "sheet_funnel": "4-sell funnel",
    "sheet_funnel_specialist": "Funnel by specialist",
    "sheet_activity": "Activity",
    "sheet_equity": "Service equity",
    "sheet_overdue": "Overdue tasks",
    "sheet_coverage": "Coverage gaps",
    "sheet_handoff": "Hand-off and persistency",
    "contact_band": "Days to first contact",
    "band_0-7": "0–7 days",
    "band_8-30": "8–30 days",
    "band_31-90": "31–90 days",
    "band_91+": "over 90 days",
    "band_never": "never contacted",
    "handoff_title": "13-month persistency by days from pool entry to first contact",
    "note_handoff": (
        "Policies due in {period}, grouped by their customer's days from pool entry to first "
        "contact; customers not contacted by the as-of date count as never. The branch's "
        "targets: first contact within {contact} days, first service within {service}."
    ),
    "sheet_customers": "Customers",
    "sheet_policies": "Policies",
    "sheet_tasks": "Tasks",
    "title": "Community grid: weekly meeting figures",
    "branch": "Branch",
    "scope": "Scope",
    "period": "Review period",
    "as_of": "Figures as of",
    "exported_by": "Exported by",
    "exported_at": "Exported at",
    "masking": "Customer contact data",
    "masked": "Masked (phone and ID numbers partly hidden)",
    "unmasked": "Shown in full (keep this file safe)",
    "contents": "Contents",
    "command_line": "command line",
    "scope_branch": "Whole branch",
    "scope_team": "Team",
    "scope_specialist": "Specialist",
    "note_persistency": (
        "13-month persistency (premium basis), grace period {grace} days; "
        "year-on-year change in percentage points. A policy counts for the specialist who "
        "served it on the due date; policies nobody served then have a row of their own."
    ),
    "note_funnel": "4-sell funnel: customers who entered the pool in {period}.",
    "note_activity": (
        "Activity: tasks completed in the last {weeks} whole weeks (Monday to Sunday) and in "
        "the week running up to {as_of}; the roster's tasks done per week is the mean of "
        "those {weeks} whole weeks."
    ),
    "note_equity": (
        "Service equity: completion of servicing and renewal tasks of the last 365 days; "
        "the specialist is flagged when customers who bought more are served over "
        "{threshold} points better."
    ),
    "team": "Team",
    "specialist": "Specialist",
    "grid": "Grid",
    "policies": "Policies past grace",
    "cover_pending": (
        "Policies of this period not yet past their grace period: {n}; the rate counts only "
        "those past it"
    ),
    "cover_pending_due": (
        "Policies of this period not yet past their grace period (some not even due): {n}; "
        "the rate counts only those past it"
    ),
    "funnel_young": (
        "These customers entered the pool {newest}–{oldest} days ago: cross-sell and up-sell "
        "usually take months, so the later steps will still rise."
    ),
    "sheet_pending": (
        "Policies still in their grace period do not count in the rates (see the pending "
        "column) until it ends."
    ),
    "persisting_policies": "Persisting policies",
    "pending_policies": "Pending (in grace)",
    "premium_due": "Premium due (¥)",
    "premium_received": "Premium received (¥)",
    "persistency_premium": "13-month persistency (premium)",
    "persistency_count": "13-month persistency (count)",
    "year_earlier": "Year earlier",
    "change_points": "Change (points)",
    "month": "Month",
    "persistency": "13-month persistency",
    "trend_title": "13-month persistency trend (premium basis)",
    "step": "Step",
    "cohort_size": "Customers in cohort",
    "reached": "Customers reached",
    "step_conversion": "Step conversion",
    "cumulative_conversion": "Cumulative conversion",
    "median_days": "Median days from pool entry",
    "funnel_title": "4-sell funnel (customers reached)",
    "step_1": "Pre-sell",
    "step_2": "Soft-sell",
    "step_3": "Cross-sell",
    "step_4": "Up-sell",
    "reached_n": "{step} reached",
    "conv_n": "{step} conversion",
    "done_week": "Done {week}",
    "done_kind": "{kind} (done)",
    "done_total": "Done in all",
    "overdue_open": "Overdue open",
    "median_hours": "Median hours to complete",
    "tasks_without": "Tasks (never cross- or up-sold)",
    "rate_without": "Completion (never cross- or up-sold)",
    "hours_without": "Median hours (never cross- or up-sold)",
    "tasks_with": "Tasks (cross- or up-sold)",
    "rate_with": "Completion (cross- or up-sold)",
    "hours_with": "Median hours (cross- or up-sold)",
    "gap_points": "Gap (points)",
    "flagged": "Flagged",
    "yes": "yes",
    "base": "Base",
    "few": "few (under 30 policies)",
    "no": "no",
    "task_no": "Task no.",
    "kind": "Kind",
    "status": "Status",
    "customer_no": "Customer no.",
    "customer_name": "Customer",
    "phone": "Phone",
    "id_number": "ID number",
    "address": "Address",
    "policy_no": "Policy no.",
    "employee_no": "Employee no.",
    "specialist_name": "Specialist",
    "grid_code": "Grid code",
    "grid_name": "Grid name",
    "channel": "Channel",
    "created_at": "Created",
    "due_date": "Due",
    "completed_at": "Completed",
    "outcome": "Outcome",
    "days_overdue": "Days overdue",
    "pool_entered_on": "Entered pool",
    "agent_code": "Former agent",
    "step_reached": "4-sell step",
    "product": "Product",
    "issue_date": "Issued",
    "payment_mode": "Payment mode",
    "modal_premium": "Modal premium (¥)",
    "policy_status": "Policy status",
    "status_date": "Status date",
    "gap": "Gap",
    "item": "Item",
    "detail": "Detail",
    "customers": "Customers",
    "capacity": "Capacity",
    "load": "Load",
    "gap_unmatched": "Customers matched to no grid",
    "gap_outside": "Customers whose address is outside coverage",
    "gap_unserved": "Customers without an active specialist",
    "gap_grid": "Grid without an active specialist",
    "gap_over_capacity": "Specialist over capacity",
    "reason_no owner": "no owner",
    "reason_owner on leave": "owner on leave",
    "reason_owner left": "owner left",
    "whole_branch": "whole branch",
    "(no grid)": "(no grid)",
    "(unassigned)": "(unassigned)",
    "(no team)": "(no team)",
    "(unserved on the due date)": "(unserved on the due date)",
    "no_specialist_on_due": "(unserved on the due date)",
    "(none)": "(none)",
    "total": "Total",
    "kind_pre_sell": "Pre-sell",
    "kind_renewal_collection": "Renewal collection",
    "kind_servicing": "Servicing",
    "kind_cross_sell": "Cross-sell",
    "kind_up_sell": "Up-sell",
    "kind_callback": "Callback",
    "status_open": "Open",
    "status_in_progress": "In progress",
    "status_done": "Done",
    "status_failed": "Failed",
    "status_cancelled": "Cancelled",
    "channel_offline": "Offline",
    "channel_online": "Online seat",
    "mode_annual": "Annual",
    "mode_semiannual": "Semi-annual",
    "mode_quarterly": "Quarterly",
    "mode_monthly": "Monthly",
    "mode_single": "Single",
    "policy_in_force": "In force",
    "policy_lapsed": "Lapsed",
    "policy_surrendered": "Surrendered",
    "policy_claim": "Claim",
    "policy_death": "Death",
    "policy_matured": "Matured",
    "step_0": "Not contacted",
    "page_footer": "Page &P of &N",
}

LABELS = {"zh_CN": _ZH, "en": _EN}


class Texts:
    """The words of one language: ``t["sheet_cover"]``, ``t.code("kind", "servicing")``."""

    def __init__(self, lang: str) -> None:
        if lang not in LABELS:
            raise ValueError(f"unknown language '{lang}': choose one of {', '.join(LANGS)}")
        self.lang = lang
        self._words = LABELS[lang]

    def __getitem__(self, key: str) -> str:
        return self._words[key]

    def code(self, table: str, value: object) -> str:
        """Return the name of a code value (``kind``, ``status``, ``mode``, ...), or the code."""
        if value is None:
            return ""
        raw = str(getattr(value, "value", value))
        return self._words.get(f"{table}_{raw}", raw)

    def group(self, name: str) -> str:
        """Return a group name, translating the placeholders the metrics write in English."""
        return self._words.get(name, name) if name.startswith("(") else name
