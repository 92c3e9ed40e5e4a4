"""Believable people: Chinese names, mobile numbers, resident ID numbers and street addresses."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta

from app.services.demo.rand import ri

# Common surnames, the most frequent first, with rough weights (Sichuan leans on 王李张刘陈杨).
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
)
_SURNAME_CUM = list(itertools.accumulate(max(1.0, 12.0 - 0.15 * i) for i in range(len(_SURNAMES))))
_MALE_CHARS = "伟强磊军洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林建国志文海峰亮晨博睿"
_FEMALE_CHARS = "芳娜敏静丽艳娟霞燕玲婷雪慧莉萍红琳倩颖洁梅蓉岚婉欣佳怡琪晶妍璐瑶嘉雯淑秀兰"

# Mobile number prefixes of the three carriers (1[3-9]x).
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "198",
    "199",
]

# Household registration areas (the first six digits of an ID number): Chengdu's districts
# mostly, with people who moved in from elsewhere in Sichuan and from Chongqing.
_REGIONS = (
    ("510104", 12),
    ("510105", 12),
    ("510106", 12),
    ("510107", 12),
    ("510108", 12),
    ("510112", 4),
    ("510113", 2),
    ("510114", 4),
    ("510115", 3),
    ("510116", 5),
    ("510117", 3),
    ("510121", 2),
    ("510181", 2),
    ("510182", 2),
    ("510184", 2),
    ("510703", 2),
    ("511302", 2),
    ("511102", 2),
    ("510502", 2),
    ("511602", 1),
    ("511681", 1),
    ("510922", 1),
    ("511502", 1),
    ("500103", 2),
    ("500112", 1),
)
_REGION_CODES = [r for r, _ in _REGIONS]
_REGION_CUM = list(itertools.accumulate(w for _, w in _REGIONS))

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def id_check_char(first17: str) -> str:
    """Return the GB 11643 check character of the first 17 digits of an ID number."""
    total = sum(int(ch) * w for ch, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


class People:
    """Draws names, phones and ID numbers from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._ids: set[str] = set()

    def name(self, *, male: bool | None = None) -> tuple[str, bool]:
        """Return a full name and whether it is a man's."""
        rng = self._rng
        if male is None:
            male = rng.random() < 0.5
        chars = _MALE_CHARS if male else _FEMALE_CHARS
        given = rng.choice(chars)
        if rng.random() < 0.72:
            second = rng.choice(chars)
            if second != given:
                given += second
        return rng.choices(_SURNAMES, cum_weights=_SURNAME_CUM)[0] + given, male

    def phone(self) -> str:
        return self._rng.choice(_MOBILE_PREFIXES) + f"{self._rng.randrange(100_000_000):08d}"

    def id_number(self, *, birth: date, male: bool) -> str:
        """Return a new 18-digit ID number with a valid check character (odd 17th digit: male)."""
        rng = self._rng
        region = rng.choices(_REGION_CODES, cum_weights=_REGION_CUM)[0]
        while True:
            seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
            first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
            number = first17 + id_check_char(first17)
            if number not in self._ids:
                self._ids.add(number)
                return number

    def birth_date(self, *, on: date, min_age: int, max_age: int) -> date:
        """Return a birth date giving an age between min_age and max_age on ``on``."""
        days = ri(self._rng, min_age * 365 + 1, max_age * 365 - 1)
        return on - timedelta(days=days)


def street_address(rng: random.Random, *, city: str, district: str, place: str) -> str:
    """Return an address at ``place`` (a community or a street) as the core systems write it."""
    building = ri(rng, 1, 32)
    unit = ri(rng, 1, 4)
    room = ri(rng, 1, 33) * 100 + ri(rng, 1, 6)
    number = ri(rng, 1, 299)
    return f"{city}市{district}{place}{number}号{building}栋{unit}单元{room}室"


def rural_address(rng: random.Random, *, place: str) -> str:
    """Return an address in a village outside the grids (it matches no grid)."""
    return f"{place}{ri(rng, 1, 12)}组{ri(rng, 1, 150)}号"
