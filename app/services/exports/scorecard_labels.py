"""The words of the scorecard workbook, in Chinese and English; the cover's shared words
(branch, scope, as of, exported by, masking) come from the meeting workbook's labels."""

from __future__ import annotations

from app.services.exports.labels import Texts

_ZH = {
    "sc_title": "网格专员月度考核",
    "sc_month": "考核月份",
    "sc_previous": "对比月份",
    "sc_standards": "考核标准",
    "sc_definitions": "口径",
    "sc_sheet_title": "{team} · {month} 月度考核（数据截至 {as_of}）",
    "sc_met": "✓ 达标",
    "sc_not_met": "✗ 未达标",
    "sc_none": "— 无数据",
    "sc_few": "少量（不足 {n} 份），不评判",
    "sc_flag": "⚠ 标记",
    "sc_no_flag": "✓ 无标记",
    "sc_met_count": "达标项数",
    "sc_before": "上月",
    "sc_change": "变化（百分点）",
    "sc_mark": "是否达标",
    "sc_status": "状态",
    "sc_no_rows": "本团队无专员数据。",
    "sp_active": "在职",
    "sp_leave": "休假",
    "sp_left": "离职",
    "m_renewal": "续收达成率",
    "m_persistency": "13个月继续率",
    "m_tasks": "任务按时完成率",
    "m_contact": "首次建联及时率",
    "m_equity": "服务公平差距（百分点）",
    "std_renewal": "续收达成率 ≥ {pct}%",
    "std_persistency": "13个月继续率（保费口径）≥ {pct}%",
    "std_tasks": "任务按时完成率 ≥ {pct}%",
    "std_contact": "首次建联及时率 ≥ {pct}%",
    "std_equity": "服务公平：无标记（差距超过 {threshold} 个百分点即标记）",
    "def_renewal": (
        "当月应缴的第二保单年度起的续期保费，按应缴日当天服务该客户的专员归属；宽限期 {grace} 天内"
        "且不晚于数据截至日的实收（不超过应收）÷ 应收；宽限期未满的单列为未到期，不计入；"
        "应缴日前身故或理赔终止的保单不计。"
    ),
    "def_persistency": "与周例会数据“专员继续率”及命令行 metrics persistency --by specialist 同一口径。",
    "def_tasks": (
        "截止日在当月的任务（已取消的不计），按持有任务的专员统计：截止日当天或之前完成为按时；"
        "逾期完成、失败、截止日已过仍未完成为未按时；截止日未到且未完成的单列，不计入。"
    ),
    "def_contact": (
        "交接时效：月末（或数据截至日）前 90 天入池的客户中，在目标天数内首次建联的比例，"
        "按结果确定当天服务该客户的专员统计；与专员名单该列同一口径。"
    ),
    "def_equity": "月末（或数据截至日）前 365 天的保全与续收任务，与周例会数据“服务公平”同一口径。",
}

_EN = {
    "sc_title": "Monthly scorecard of the grid specialists",
    "sc_month": "Month",
    "sc_previous": "Compared with",
    "sc_standards": "Standards",
    "sc_definitions": "Definitions",
    "sc_sheet_title": "{team} · scorecard {month} (as of {as_of})",
    "sc_met": "✓ met",
    "sc_not_met": "✗ not met",
    "sc_none": "— no data",
    "sc_few": "few (under {n}): not judged",
    "sc_flag": "⚠ flagged",
    "sc_no_flag": "✓ no flag",
    "sc_met_count": "Standards met",
    "sc_before": "Previous month",
    "sc_change": "Change (points)",
    "sc_mark": "Met?",
    "sc_status": "Status",
    "sc_no_rows": "No specialist of this team has figures.",
    "sp_active": "Active",
    "sp_leave": "On leave",
    "sp_left": "Left",
    "m_renewal": "Renewal premium collected",
    "m_persistency": "13-month persistency",
    "m_tasks": "Tasks done on time",
    "m_contact": "First contact on time",
    "m_equity": "Service equity gap (points)",
    "std_renewal": "Renewal premium collected ≥ {pct}%",
    "std_persistency": "13-month persistency (premium basis) ≥ {pct}%",
    "std_tasks": "Tasks done on time ≥ {pct}%",
    "std_contact": "First contact on time ≥ {pct}%",
    "std_equity": "Service equity: no flag (a gap above {threshold} points flags)",
    "def_renewal": (
        "Renewal premiums (policy year 2 on) due in the month, for who served the customer on "
        "the due date: received within the {grace}-day grace period and by the as-of date "
        "(capped at the amount due) ÷ due; rows still in their grace period are pending, apart; "
        "policies ended by death or claim before the due date are left out."
    ),
    "def_persistency": (
        "The meeting workbook's persistency by specialist and griddesk metrics persistency "
        "--by specialist, the same figure."
    ),
    "def_tasks": (
        "Tasks due in the month (cancelled ones left out), for the specialist holding them: done "
        "by the due date is on time; done late, failed, or not done past the due date is late; "
        "not done and not yet due is pending, apart."
    ),
    "def_contact": (
        "Hand-off clock: of the customers who entered the pool in the 90 days to the month's "
        "end (or the as-of date), the share first contacted within the target, for who served "
        "them when it was settled; the roster's figure."
    ),
    "def_equity": (
        "Servicing and renewal tasks of the 365 days to the month's end (or the as-of date); the "
        "meeting workbook's equity sheet."
    ),
}


class ScorecardTexts(Texts):
    """The meeting workbook's words with the scorecard's added."""

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self._own = _ZH if lang == "zh_CN" else _EN

    def __getitem__(self, key: str) -> str:
        return self._own[key] if key in self._own else super().__getitem__(key)
