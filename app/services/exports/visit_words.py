"""The words of the weekly visit list files (PDF and workbook), in Chinese and English, and how
a stop's things to do read."""

from __future__ import annotations

from datetime import date

from app.services.exports.labels import LABELS, Texts
from app.services.visits.lists import Stop, Todo, VisitList

_ZH = {
    "visits_title": "网格专员周拜访清单",
    "visits_sheet_summary": "汇总",
    "visits_specialist": "专员",
    "visits_week": "周次",
    "visits_day": "日期",
    "visits_weekday": "星期",
    "visits_order": "序号",
    "visits_todo": "事项",
    "visits_first_due": "最早截止/应缴",
    "visits_amount": "待收保费（元）",
    "visits_note": "备注",
    "visits_stops": "拜访客户数",
    "visits_planned": "已排入",
    "visits_unplanned_n": "未排入",
    "visits_route_km": "路线（公里）",
    "visits_unordered_km": "未排序（公里）",
    "visits_route": "路线 {route} 公里，未排序 {unordered} 公里",
    "visits_day_line": "当日 {n} 位客户 · 当日路线 {route} 公里",
    "visits_day_routes": "每日路线：{days}",
    "visits_week_route": "全周{route}",
    "visits_empty_day": "当日无拜访安排",
    "visits_no_coords": "无坐标：排在本网格最后",
    "visits_unplanned": "本周未排入",
    "visits_unplanned_note": "另有 {n} 位客户本周排不下（每日至多 {per_day} 位），见 Excel 清单的“本周未排入”。",
    "visits_no_grid": "（无网格）",
    "visits_gathered": (
        "收录：{monday} 至 {sunday} 到期及已逾期的线下待办任务；{monday} 起 30 天内（至 {until}）"
        "应缴、尚无待办续收任务的保费；交接时效超期的客户。路线按网格分组，组内最近邻 + 2-opt 排序，"
        "直线距离。"
    ),
    "visits_footer": "数据截至 {as_of} · {masking} · 第 {page} / {pages} 页",
    "visits_masked_short": "手机号已脱敏",
    "visits_unmasked_short": "手机号完整显示，请妥善保管",
    "todo_task": "{kind}（{due} 截止）",
    "todo_task_overdue": "{kind}（已逾期，{due} 截止）",
    "todo_premium": "续收 ¥{amount}（{due} 应缴，保单 {policy}）",
    "todo_handoff": "交接超时：{missed}（超 {days} 天）",
    "milestone_sms": "短信通知",
    "milestone_contact": "首次联系",
    "milestone_service": "首次服务",
    "weekday_0": "周一",
    "weekday_1": "周二",
    "weekday_2": "周三",
    "weekday_3": "周四",
    "weekday_4": "周五",
    "weekday_5": "周六",
    "weekday_6": "周日",
}

_EN = {
    "visits_title": "Weekly visit list",
    "visits_sheet_summary": "Summary",
    "visits_specialist": "Specialist",
    "visits_week": "Week",
    "visits_day": "Day",
    "visits_weekday": "Weekday",
    "visits_order": "No.",
    "visits_todo": "To do",
    "visits_first_due": "First due",
    "visits_amount": "Premium to collect (¥)",
    "visits_note": "Note",
    "visits_stops": "Customers to visit",
    "visits_planned": "Planned",
    "visits_unplanned_n": "Not planned",
    "visits_route_km": "Route (km)",
    "visits_unordered_km": "Unordered (km)",
    "visits_route": "route {route} km, unordered {unordered} km",
    "visits_day_line": "{n} customers · route of the day {route} km",
    "visits_day_routes": "Routes by day: {days}",
    "visits_week_route": "whole week: {route}",
    "visits_empty_day": "No visits planned for this day",
    "visits_no_coords": "no coordinates: last in its grid",
    "visits_unplanned": "Not planned this week",
    "visits_unplanned_note": (
        "{n} more customers did not fit this week ({per_day} a day at most): see the workbook's "
        "'Not planned this week'."
    ),
    "visits_no_grid": "(no grid)",
    "visits_gathered": (
        "Gathered: open offline tasks due {monday} to {sunday} or overdue; premiums due in the "
        "30 days from {monday} (to {until}) with no open renewal task; customers past a "
        "hand-off target. Grouped by grid, each walked nearest neighbour + 2-opt, straight-line "
        "distances."
    ),
    "visits_footer": "Figures as of {as_of} · {masking} · page {page} of {pages}",
    "visits_masked_short": "phones masked",
    "visits_unmasked_short": "phones in full: keep this safe",
    "todo_task": "{kind} (due {due})",
    "todo_task_overdue": "{kind} (overdue, due {due})",
    "todo_premium": "Collect ¥{amount} (due {due}, policy {policy})",
    "todo_handoff": "Hand-off late: {missed} ({days} days over)",
    "milestone_sms": "SMS",
    "milestone_contact": "first contact",
    "milestone_service": "first service",
    "weekday_0": "Mon",
    "weekday_1": "Tue",
    "weekday_2": "Wed",
    "weekday_3": "Thu",
    "weekday_4": "Fri",
    "weekday_5": "Sat",
    "weekday_6": "Sun",
}

_VISIT_WORDS = {"zh_CN": _ZH, "en": _EN}


class VisitTexts(Texts):
    """The export words of one language with the visit list's own."""

    def __init__(self, lang: str) -> None:
        super().__init__(lang)
        self._words = {**LABELS[lang], **_VISIT_WORDS[lang]}


def km(metres: float) -> str:
    return f"{metres / 1000:.1f}"


def day_label(day: date, t: Texts) -> str:
    return f"{day.month}/{day.day} {t[f'weekday_{day.weekday()}']}"


def yuan(fen: int) -> str:
    return f"{fen / 100:,.2f}"


def todo_text(todo: Todo, t: Texts) -> str:
    """Return what to do, as the specialist reads it."""
    due = f"{todo.due_date.month}/{todo.due_date.day}" if todo.due_date else ""
    if todo.what == "task":
        key = "todo_task_overdue" if todo.overdue else "todo_task"
        return t[key].format(kind=t.code("kind", todo.task_kind), due=due)
    if todo.what == "premium":
        return t["todo_premium"].format(
            amount=yuan(todo.amount_fen or 0), due=due, policy=todo.policy_no
        )
    missed = "、".join(t[f"milestone_{m}"] for m in todo.missed)
    return t["todo_handoff"].format(missed=missed, days=todo.days_over)


def grid_text(stop: Stop, t: Texts) -> str:
    if not stop.grid_code:
        return t["visits_no_grid"]
    return f"{stop.grid_code} {stop.grid_name or ''}".strip()


def route_text(vl: VisitList, t: Texts) -> str:
    return t["visits_route"].format(route=km(vl.route_m), unordered=km(vl.unordered_m))


def gathered_text(vl: VisitList, t: Texts) -> str:
    sunday = vl.week_monday.toordinal() + 6
    return t["visits_gathered"].format(
        monday=vl.week_monday.isoformat(),
        sunday=date.fromordinal(sunday).isoformat(),
        until=vl.premium_until.isoformat(),
    )
