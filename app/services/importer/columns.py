"""The columns of each exchange-file kind (English or Chinese headers) and how to read them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from app.models.enums import (
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
    parse_date,
    parse_datetime,
    parse_enum,
    parse_float,
    parse_id_number,
    parse_int,
    parse_phone,
    split_list,
    text,
)

CONTRACT = {"劳动合同": "labour", "劳务合同": "service", "劳动": "labour", "劳务": "service"}
SPECIALIST_STATUS = {"在职": "active", "休假": "leave", "离职": "left", "on leave": "leave"}
MODES = {"年交": "annual", "年缴": "annual", "半年交": "semiannual", "半年缴": "semiannual",
         "季交": "quarterly", "季缴": "quarterly", "月交": "monthly", "月缴": "monthly",
         "趸交": "single", "趸缴": "single", "semi-annual": "semiannual"}  # fmt: skip
POLICY_STATUS = {"有效": "in_force", "失效": "lapsed", "退保": "surrendered", "理赔终止": "claim",
                 "身故终止": "death", "满期": "matured", "in force": "in_force"}  # fmt: skip
TASK_KIND = {"建联加微": "pre_sell", "续收": "renewal_collection", "保全": "servicing",
             "综拓推荐": "cross_sell", "加保销售": "up_sell", "回访": "callback"}  # fmt: skip
TASK_STATUS = {"待办": "open", "进行中": "in_progress", "已完成": "done", "完成": "done",
               "失败": "failed", "已取消": "cancelled", "取消": "cancelled"}  # fmt: skip
CHANNEL = {"线下": "offline", "线上坐席": "online", "线上": "online"}


@dataclass(frozen=True)
class Col:
    name: str
    zh: str
    required: bool = False
    parse: Callable[[object], object] = text


COLUMNS: dict[str, tuple[Col, ...]] = {
    "teams": (
        Col("team_code", "团队代码", True),
        Col("team_name", "团队名称", True),
        Col("supervisor", "主管"),
    ),
    "specialists": (
        Col("employee_no", "工号", True),
        Col("name", "姓名", True),
        Col("phone", "手机号", parse=parse_phone),
        Col("team_code", "团队代码", True),
        Col(
            "contract_type",
            "合同类型",
            parse=partial(parse_enum, enum_cls=ContractType, aliases=CONTRACT),
        ),
        Col("hire_date", "入职日期", parse=parse_date),
        Col(
            "status",
            "状态",
            parse=partial(parse_enum, enum_cls=SpecialistStatus, aliases=SPECIALIST_STATUS),
        ),
        Col("capacity", "服务上限", parse=partial(parse_int, minimum=0)),
        Col("grids", "负责网格", parse=split_list),
    ),
    "agents": (
        Col("agent_code", "代理人代码", True),
        Col("name", "姓名", True),
        Col("left_on", "离职日期", parse=parse_date),
    ),
    "customers": (
        Col("customer_no", "客户号", True),
        Col("name", "姓名", True),
        Col("phone", "手机号", parse=parse_phone),
        Col("id_number", "证件号码", parse=parse_id_number),
        Col("address", "地址", True),
        Col("lon", "经度", parse=partial(parse_float, low=-180, high=180)),
        Col("lat", "纬度", parse=partial(parse_float, low=-90, high=90)),
        Col("agent_code", "原代理人代码", True),
    ),
    "policies": (
        Col("policy_no", "保单号", True),
        Col("customer_no", "客户号", True),
        Col("product", "产品"),
        Col("issue_date", "生效日期", True, parse_date),
        Col(
            "payment_mode",
            "缴费方式",
            True,
            partial(parse_enum, enum_cls=PaymentMode, aliases=MODES),
        ),
        Col("modal_premium", "期交保费", True, parse_amount_fen),
        Col(
            "status",
            "保单状态",
            True,
            partial(parse_enum, enum_cls=PolicyStatus, aliases=POLICY_STATUS),
        ),
        Col("status_date", "状态日期", parse=parse_date),
    ),
    "dues": (
        Col("policy_no", "保单号", True),
        Col("policy_year", "保单年度", True, partial(parse_int, minimum=1)),
        Col("due_date", "应缴日期", True, parse_date),
        Col("amount_due", "应收保费", True, parse_amount_fen),
        Col("amount_received", "实收保费", parse=parse_amount_fen),
        Col("received_date", "实收日期", parse=parse_date),
    ),
    "tasks": (
        Col("task_no", "任务编号", True),
        Col("kind", "任务类型", True, partial(parse_enum, enum_cls=TaskKind, aliases=TASK_KIND)),
        Col("customer_no", "客户号", True),
        Col("policy_no", "保单号"),
        Col("employee_no", "工号"),
        Col("channel", "渠道", parse=partial(parse_enum, enum_cls=Channel, aliases=CHANNEL)),
        Col("created_at", "创建时间", True, parse_datetime),
        Col("due_date", "截止日期", parse=parse_date),
        Col("status", "状态", True, partial(parse_enum, enum_cls=TaskStatus, aliases=TASK_STATUS)),
        Col("outcome", "结果"),
        Col("completed_at", "完成时间", parse=parse_datetime),
    ),
}

# Chinese sheet names a workbook may use for each kind.
SHEET_NAMES = {
    "teams": ("团队",),
    "specialists": ("专员", "网格专员"),
    "agents": ("代理人", "离职代理人"),
    "customers": ("客户",),
    "policies": ("保单",),
    "dues": ("应收保费", "保费"),
    "tasks": ("任务",),
}


def match_headers(kind: str, headers: list[str]) -> tuple[dict[str, int], list[str]]:
    """Return {column name: position} for the headers found, and the required ones missing."""
    cols = COLUMNS[kind]
    by_header = {}
    for c in cols:
        by_header[c.name.lower()] = c.name
        by_header[c.zh] = c.name
    found: dict[str, int] = {}
    for i, h in enumerate(headers):
        key = text(h).lower()
        key = key.split("(")[0].split("（")[0].strip() or key
        name = by_header.get(key) or by_header.get(text(h))
        if name and name not in found:
            found[name] = i
    missing = [f"{c.name} ({c.zh})" for c in cols if c.required and c.name not in found]
    return found, missing
