"""The administrative part of a Chinese address: district (区/县), street (街道/镇/乡) and
community (社区/村), read from the normalised address by their suffixes.

A small parser of our own rather than a library: ``cpca`` (the maintained one) reads province,
city and district only (no street or community) and pulls in pandas and pyahocorasick, neither
of which the app otherwise needs. Province and city are taken off by ``normalise_address``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Characters a district, street or community name does not contain: the suffixes of the other
# parts, and what follows the community (road, lane, number, building...).
_NOT_NAME = "区县镇乡村街道巷弄号栋楼单元室组社"
_NAME = rf"[^{_NOT_NAME}\d\W]"
# "无名小区" (a housing estate) and "软件园区" are not districts.
_DISTRICT = re.compile(rf"(?:{_NAME}{{1,7}}?(?<![小园])(?:区|县))")
_STREET = re.compile(rf"(?:[^{_NOT_NAME}\d\W]|路){{1,8}}?(?:街道|镇|乡)")
_COMMUNITY = re.compile(rf"(?:[^{_NOT_NAME}\d\W]|[路街道巷]){{1,8}}?(?:社区|村)")


@dataclass(frozen=True)
class ParsedAddress:
    """The administrative parts found at the start of an address (None when absent)."""

    district: str | None
    street: str | None
    community: str | None


def parse_address(text: str) -> ParsedAddress:
    """Return the district, street and community that open a normalised address (see
    ``matching.normalise_address``), each one following the one before without a gap."""
    pos = 0
    parts: list[str | None] = []
    for pattern in (_DISTRICT, _STREET, _COMMUNITY):
        m = pattern.match(text, pos)
        if m is None:
            parts.append(None)
            continue
        parts.append(m.group())
        pos = m.end()
    return ParsedAddress(*parts)
