"""The columns of each exchange-file kind (DOMAIN.md, "Exchange files"): English or Chinese
headers, which are required, and how each cell is read."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

from app.models import Customer, DepartedAgent, Policy, Specialist, Task, Team
from app.models.enums import (
    AssignmentReason,
    Channel,
    ContractType,
    PaymentMode,
    PolicyStatus,
    SpecialistStatus,
    TaskKind,
    TaskStatus,
)
from app.services.importer.values import (
    parse_amount_fen,
    parse_code,
    parse_date,
    parse_datetime,
    parse_enum,
    parse_float,
    parse_id_number,
    parse_int,
    parse_phone,
    parse_text,
    split_list,
)

# Chinese labels (and a few other spellings) of each code; the codes themselves always work.
CONTRACT = {"劳动合同": "labour", "劳务合同": "service", "劳动": "labour", "劳务": "service",
            "labor": "labour"}  # fmt: skip
SPECIALIST_STATUS = {"在职": "active", "休假": "leave", "离职": "left", "请假": "leave",
                     "on leave": "leave", "on_leave": "leave"}  # fmt: skip
MODES = {"年交": "annual", "年缴": "annual", "半年交": "semiannual", "半年缴": "semiannual",
         "季交": "quarterly", "季缴": "quarterly", "月交": "monthly", "月缴": "monthly",
         "趸交": "single", "趸缴": "single", "semi-annual": "semiannual",
         "semi_annual": "semiannual"}  # fmt: skip
POLICY_STATUS = {"有效": "in_force", "失效": "lapsed", "退保": "surrendered", "理赔终止": "claim",
                 "身故终止": "death", "满期": "matured", "in force": "in_force"}  # fmt: skip
TASK_KIND = {"建联加微": "pre_sell", "续收": "renewal_collection", "保全": "servicing",
             "综拓推荐": "cross_sell", "加保销售": "up_sell", "回访": "callback",
             "续期收费": "renewal_collection", "保全服务": "servicing"}  # fmt: skip
TASK_STATUS = {"待办": "open", "未开始": "open", "进行中": "in_progress", "处理中": "in_progress",
               "已完成": "done", "完成": "done", "失败": "failed", "已取消": "cancelled",
               "取消": "cancelled", "canceled": "cancelled"}  # fmt: skip
CHANNEL = {"线下": "offline", "线上坐席": "online", "线上": "online", "坐席": "online"}
REASON = {"自动匹配": "auto_match", "系统匹配": "auto_match", "匹配": "auto_match",
          "调整": "rebalance", "均衡调整": "rebalance", "再平衡": "rebalance", "调配": "rebalance",
          "手工": "manual", "手工调整": "manual", "手动": "manual", "人工": "manual",
          "人工调整": "manual", "专员离职": "specialist_left", "离职": "specialist_left",
          "离职交接": "specialist_left"}  # fmt: skip


class FileReason(StrEnum):
    """The reasons an assignment history file may give ("import" and "undo" are GridDesk's)."""

    AUTO_MATCH = AssignmentReason.AUTO_MATCH.value
    REBALANCE = AssignmentReason.REBALANCE.value
    MANUAL = AssignmentReason.MANUAL.value
    SPECIALIST_LEFT = AssignmentReason.SPECIALIST_LEFT.value


def _enum(enum_cls, labels):
    return partial(parse_enum, enum_cls=enum_cls, labels=labels)


@dataclass(frozen=True)
class Col:
    """One column of an exchange file."""

    name: str
    zh: str
    required: bool = False
    parse: Callable[[object], object] = parse_text
    # Other headers the core systems use for the same column.
    aliases: tuple[str, ...] = ()


PHONE = ("手机", "电话", "联系电话", "手机号码")
# Beyond these a figure is a typing error or hostile (and would not fit the database's column).
MAX_POLICY_YEAR = 100
MAX_CAPACITY = 100_000
COLUMNS: dict[str, tuple[Col, ...]] = {
    "teams": (
        Col("team_code", "团队代码", True, parse_code, ("团队编号", "团队编码")),
        Col("team_name", "团队名称", True),
        Col("supervisor", "主管", aliases=("主管姓名",)),
    ),
    "specialists": (
        Col("employee_no", "工号", True, parse_code, ("员工号", "员工编号")),
        Col("name", "姓名", True),
        Col("phone", "手机号", parse=parse_phone, aliases=PHONE),
        Col("team_code", "团队代码", True, parse_code, ("团队编号", "团队编码")),
        Col("contract_type", "合同类型", parse=_enum(ContractType, CONTRACT)),
        Col("hire_date", "入职日期", parse=parse_date),
        Col("status", "状态", parse=_enum(SpecialistStatus, SPECIALIST_STATUS)),
        Col("capacity", "服务上限", parse=partial(parse_int, minimum=0, maximum=MAX_CAPACITY)),
        Col("grids", "负责网格", parse=split_list),
    ),
    "agents": (
        Col("agent_code", "代理人代码", True, parse_code, ("代理人编号", "代理人工号")),
        Col("name", "姓名", True, aliases=("代理人姓名",)),
        Col("left_on", "离职日期", parse=parse_date),
    ),
    "customers": (
        Col("customer_no", "客户号", True, parse_code, ("客户编号", "客户代码")),
        Col("name", "姓名", True, aliases=("客户姓名",)),
        Col("phone", "手机号", parse=parse_phone, aliases=PHONE),
        Col("id_number", "证件号码", parse=parse_id_number, aliases=("身份证号", "身份证号码")),
        Col("address", "地址", True, aliases=("户籍地址", "联系地址", "住址")),
        Col("lon", "经度", parse=partial(parse_float, low=-180, high=180)),
        Col("lat", "纬度", parse=partial(parse_float, low=-90, high=90)),
        Col("agent_code", "原代理人代码", True, parse_code, ("代理人代码",)),
    ),
    "policies": (
        Col("policy_no", "保单号", True, parse_code, ("保险单号", "保单号码")),
        Col("customer_no", "客户号", True, parse_code, ("客户编号", "投保人客户号")),
        Col("product", "产品", aliases=("产品名称", "险种")),
        Col("issue_date", "生效日期", True, parse_date, ("承保日期",)),
        Col("payment_mode", "缴费方式", True, _enum(PaymentMode, MODES), ("交费方式",)),
        Col("modal_premium", "期交保费", True, parse_amount_fen, ("期缴保费",)),
        Col("status", "保单状态", True, _enum(PolicyStatus, POLICY_STATUS)),
        Col("status_date", "状态日期", parse=parse_date),
    ),
    "dues": (
        Col("policy_no", "保单号", True, parse_code, ("保险单号", "保单号码")),
        Col(
            "policy_year", "保单年度", True, partial(parse_int, minimum=1, maximum=MAX_POLICY_YEAR)
        ),
        Col("due_date", "应缴日期", True, parse_date, ("应交日期",)),
        Col("amount_due", "应收保费", True, parse_amount_fen),
        Col("amount_received", "实收保费", parse=parse_amount_fen),
        Col("received_date", "实收日期", parse=parse_date, aliases=("received_on",)),
    ),
    "tasks": (
        Col("task_no", "任务编号", True, parse_code, ("任务号",)),
        Col("kind", "任务类型", True, _enum(TaskKind, TASK_KIND)),
        Col("customer_no", "客户号", True, parse_code, ("客户编号",)),
        Col("policy_no", "保单号", parse=parse_code),
        Col("employee_no", "工号", parse=parse_code, aliases=("专员工号",)),
        Col("channel", "渠道", parse=_enum(Channel, CHANNEL)),
        Col("created_at", "创建时间", True, parse_datetime),
        Col("due_date", "截止日期", parse=parse_date),
        Col("status", "状态", True, _enum(TaskStatus, TASK_STATUS), ("任务状态",)),
        Col("outcome", "结果"),
        Col("completed_at", "完成时间", parse=parse_datetime),
    ),
    # One change of a customer's specialist or of a grid's owner: each row names exactly one of
    # customer_no and grid_code (ONE_OF), and an empty employee_no leaves it unassigned.
    "assignments": (
        Col("customer_no", "客户号", parse=parse_code, aliases=("客户编号",)),
        Col("grid_code", "网格代码", parse=parse_code, aliases=("网格编号", "网格编码")),
        Col("employee_no", "工号", parse=parse_code, aliases=("专员工号", "员工号")),
        Col("effective_on", "生效日期", True, parse_date, ("变更日期", "分配日期")),
        Col("reason", "原因", parse=_enum(FileReason, REASON), aliases=("变更原因",)),
    ),
}

# Columns of which a file must have at least one (and each row exactly one).
ONE_OF: dict[str, tuple[tuple[str, ...], ...]] = {"assignments": (("customer_no", "grid_code"),)}

# The columns that identify a row: the same key twice in one file must agree.
KEYS: dict[str, tuple[str, ...]] = {
    "teams": ("team_code",),
    "specialists": ("employee_no",),
    "agents": ("agent_code",),
    "customers": ("customer_no",),
    "policies": ("policy_no",),
    "dues": ("policy_no", "due_date"),
    "tasks": ("task_no",),
    # The date first: a clash is named in the column that clashes (one change a day each).
    "assignments": ("effective_on", "customer_no", "grid_code"),
}

# Sheet names a workbook may use for each kind besides the kind itself.
SHEET_NAMES: dict[str, tuple[str, ...]] = {
    "teams": ("团队",),
    "specialists": ("专员", "网格专员"),
    "agents": ("代理人", "离职代理人"),
    "customers": ("客户",),
    "policies": ("保单",),
    "dues": ("应收保费", "保费", "应收"),
    "tasks": ("任务",),
    "assignments": ("分配历史", "分配记录", "变更记录"),
}


# Where the free-text columns are stored: text longer than the column holds is a problem to
# report (PostgreSQL would refuse the whole statement; SQLite would keep it silently).
STORED_IN: dict[str, dict[str, Any]] = {
    "teams": {"team_code": Team.code, "team_name": Team.name, "supervisor": Team.supervisor_name},
    "specialists": {"employee_no": Specialist.employee_no, "name": Specialist.name},
    "agents": {"agent_code": DepartedAgent.agent_code, "name": DepartedAgent.name},
    "customers": {"customer_no": Customer.customer_no, "name": Customer.name,
                  "address": Customer.address},
    "policies": {"policy_no": Policy.policy_no, "product": Policy.product},
    "tasks": {"task_no": Task.task_no, "outcome": Task.outcome},
}  # fmt: skip


def max_length(kind: str, column: str) -> int | None:
    """Return how many characters the database keeps of a text column, or None."""
    stored = STORED_IN.get(kind, {}).get(column)
    return getattr(stored.type, "length", None) if stored is not None else None


def header_key(header: object) -> str:
    """Return a header reduced for matching: folded, lower case, without a note in brackets
    or a trailing '*' (保单号(必填), Policy No*, policy-no all read as policy_no / 保单号)."""
    s = unicodedata.normalize("NFKC", "" if header is None else str(header)).strip().lower()
    s = re.sub(r"\s*[(\[].*?[)\]]\s*$", "", s).rstrip("*").strip()
    return re.sub(r"[\s\-]+", "_", s)


def match_headers(kind: str, headers: list[str]) -> tuple[dict[str, int], list[Col]]:
    """Return {column name: position} of the columns found, and the required columns missing.
    Unknown headers are ignored; when a column appears twice the first one counts."""
    cols = COLUMNS[kind]
    names: dict[str, str] = {}
    for c in cols:
        for spelling in (c.name, c.zh, *c.aliases):
            names.setdefault(header_key(spelling), c.name)
    found: dict[str, int] = {}
    for i, h in enumerate(headers):
        name = names.get(header_key(h))
        if name and name not in found:
            found[name] = i
    return found, [c for c in cols if c.required and c.name not in found]


def missing_choices(kind: str, found: dict[str, int]) -> list[tuple[Col, ...]]:
    """Return the groups of ONE_OF columns of which the header has none."""
    cols = {c.name: c for c in COLUMNS[kind]}
    return [
        tuple(cols[n] for n in group)
        for group in ONE_OF.get(kind, ())
        if not any(n in found for n in group)
    ]
