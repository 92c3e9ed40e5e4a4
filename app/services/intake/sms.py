"""The text of the SMS GridDesk queues for customers: agent change and specialist change."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from app.services.files.inert import TRIGGERS

# A name longer than this is cut in a text message (a person's name is far shorter).
NAME_LIMIT = 20
# Brackets that would make a name look like the message's own signature or markup.
_BRACKETS = str.maketrans({c: " " for c in "【】[]<>{}"})

# Two-character surnames common enough to matter for a polite salutation.
_COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "钟离",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "闻人",
        "百里",
        "东郭",
        "赫连",
        "万俟",
    ]
)


@dataclass(frozen=True)
class SpecialistContact:
    """Who will serve the customer, as the SMS names them (their work phone)."""

    name: str
    phone: str | None


def clean_name(name: str | None) -> str:
    """Return a name fit to stand in a text message: no control or format characters, no
    leading ``= + - @`` (a name is never a formula), at most ``NAME_LIMIT`` characters."""
    text = name or ""
    # A printable text holds none of those (Python counts every "Other" and "Separator" but the
    # ASCII space as not printable): most names, read at C speed (29,500 texts of a large plan).
    if not text.isprintable():
        text = "".join(
            " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
        )
    text = " ".join(text.translate(_BRACKETS).split())
    while text and (text.startswith(TRIGGERS) or text[0] == " "):
        text = text[1:]
    return text[:NAME_LIMIT].strip()


def salutation(name: str, id_number: str | None) -> str:
    """Return "张先生", "欧阳女士" or "张先生/女士" (when the ID number does not tell)."""
    name = clean_name(name)
    if not name:
        return "客户"
    if not ("\u4e00" <= name[0] <= "\u9fff"):
        return name
    surname = name[:2] if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else name[0]
    title = "先生/女士"
    # The 17th character of an 18-digit resident ID number is odd for men, even for women.
    if id_number and len(id_number) == 18 and id_number[16].isdigit():
        title = "先生" if int(id_number[16]) % 2 else "女士"
    return surname + title


def agent_change_text(
    *,
    signature: str,
    customer_name: str,
    id_number: str | None,
    specialist: SpecialistContact | None,
) -> str:
    """Return the agent-change SMS: the agent left; who serves the customer from now on."""
    head = f"【{clean_name(signature)}】尊敬的{salutation(customer_name, id_number)}，您的原服务人员已离职，"
    if specialist is None:
        return head + "公司将安排社区网格专员为您服务，届时将另行通知。"
    return head + f"您的保单将由社区网格专员{_who(specialist)}为您服务。"


def specialist_change_text(
    *,
    signature: str,
    customer_name: str,
    id_number: str | None,
    specialist: SpecialistContact,
) -> str:
    """Return the specialist-change SMS: who serves the customer from now on."""
    return (
        f"【{clean_name(signature)}】尊敬的{salutation(customer_name, id_number)}，"
        f"您的保单服务人员已变更为社区网格专员{_who(specialist)}，感谢您的信任。"
    )


@lru_cache(maxsize=1024)
def _who(s: SpecialistContact) -> str:
    name = clean_name(s.name) or "专员"
    return f"{name}（电话{s.phone}）" if s.phone else name


def phone_known(phone: str | None) -> bool:
    """Return whether an SMS to this number can be exported: the outbox's SQL test (trim()
    removes spaces only, so this strips spaces only)."""
    return bool(phone and phone.strip(" "))
