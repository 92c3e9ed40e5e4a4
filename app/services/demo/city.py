"""The demo city: Chengdu's central districts, tiled into grids that cover it without gaps."""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPoint, Polygon, mapping
from shapely.geometry.base import BaseGeometry

CITY = "成都"
# Tianfu Square, the origin of the local kilometre plane the tiling is computed in.
ORIGIN = (104.0657, 30.6595)
_KM_PER_DEG_LON = 111.32 * math.cos(math.radians(ORIGIN[1]))
_KM_PER_DEG_LAT = 110.57

# The city outline: roughly the ring expressway, with the high-tech zone bulging south (WGS84).
OUTLINE_LONLAT: tuple[tuple[float, float], ...] = (
    (104.070, 30.772),
    (104.118, 30.764),
    (104.158, 30.745),
    (104.183, 30.712),
    (104.192, 30.676),
    (104.186, 30.622),
    (104.160, 30.580),
    (104.118, 30.548),
    (104.092, 30.508),
    (104.052, 30.502),
    (104.022, 30.528),
    (103.992, 30.566),
    (103.960, 30.596),
    (103.944, 30.634),
    (103.946, 30.690),
    (103.968, 30.728),
    (104.002, 30.757),
    (104.035, 30.772),
)


@dataclass(frozen=True)
class District:
    name: str
    code: str  # prefix of grid codes
    seeds: tuple[tuple[float, float], ...]  # lon/lat points whose Voronoi cells form the district
    bases: tuple[str, ...]  # real place names to build community and street names from


DISTRICTS: tuple[District, ...] = (
    District(
        "锦江区",
        "JJ",
        ((104.098, 30.648), (104.128, 30.612)),
        (
            "春熙",
            "书院",
            "督院",
            "合江亭",
            "水井坊",
            "牛市口",
            "东光",
            "莲新",
            "沙河",
            "柳江",
            "三圣",
            "成龙",
            "锦官驿",
            "狮子山",
            "双桂",
            "攀成钢",
            "东大",
            "红星",
            "太古",
            "静安",
            "海椒",
            "琉璃",
            "白鹭",
        ),
    ),
    District(
        "青羊区",
        "QY",
        ((104.042, 30.668), (103.985, 30.672)),
        (
            "少城",
            "宽窄",
            "草堂",
            "浣花",
            "府南",
            "光华",
            "金沙",
            "苏坡",
            "文家",
            "蔡桥",
            "西御",
            "汪家拐",
            "东坡",
            "黄田坝",
            "清江",
            "同心",
            "太升",
            "人民中",
            "支矶石",
            "长顺",
            "泡桐树",
            "将军衙",
        ),
    ),
    District(
        "金牛区",
        "JN",
        ((104.050, 30.712), (103.998, 30.735)),
        (
            "抚琴",
            "营门口",
            "茶店子",
            "九里堤",
            "驷马桥",
            "荷花池",
            "五块石",
            "天回",
            "沙湾",
            "金泉",
            "西华",
            "凤凰山",
            "黄忠",
            "土桥",
            "洞子口",
            "人北",
            "星辰",
            "交大",
            "蜀汉",
            "曹家巷",
            "兴盛",
        ),
    ),
    District(
        "武侯区",
        "WH",
        ((104.040, 30.632), (103.990, 30.612)),
        (
            "玉林",
            "浆洗",
            "望江",
            "红牌楼",
            "簇桥",
            "机投",
            "晋阳",
            "桐梓林",
            "芳草",
            "肖家河",
            "金花",
            "双楠",
            "科华",
            "紫荆",
            "神仙树",
            "衣冠庙",
            "跳伞塔",
            "棕北",
            "倪家桥",
            "永丰",
            "川大",
        ),
    ),
    District(
        "成华区",
        "CH",
        ((104.110, 30.690), (104.160, 30.665)),
        (
            "猛追湾",
            "双桥",
            "建设",
            "府青",
            "二仙桥",
            "跳蹬河",
            "万年场",
            "保和",
            "青龙",
            "龙潭",
            "白莲池",
            "圣灯",
            "八里庄",
            "崔家店",
            "杉板桥",
            "理工",
            "东郊",
            "李家沱",
            "新鸿",
            "踏水",
            "和美",
        ),
    ),
    District(
        "高新区",
        "GX",
        ((104.068, 30.578), (104.075, 30.530)),
        (
            "桂溪",
            "石羊",
            "中和",
            "芳华",
            "府城",
            "天府",
            "软件园",
            "益州",
            "锦城",
            "大源",
            "世纪城",
            "孵化园",
            "新川",
            "吉泰",
            "肖家村",
            "新会展",
            "盛安",
            "铁像寺",
            "南苑",
            "锦晖",
        ),
    ),
)

# Syllables for community names once the real ones run out (large sizes need thousands).
_SYLLABLES = "".join(
    dict.fromkeys(
        "锦华安康福瑞祥和平兴盛新光明阳春秋翠竹柳桂荷梅兰菊松柏青龙凤金银玉泉溪湖桥"
        "园林星月云霞宁泰丰茂嘉悦怡雅德善仁信智礼乐禾稻桑麻枫杉桃李杏樱蓉芙韵晨曦"
        "永昌隆宏达富贵吉庆长顺文武华清水石山川海岭峰亭台楼阁苗田桐榕槐杨芳馨"
    )
)
# Kinds of named places a grid covers; the suffix makes a name read as a community or a street.
_SUFFIXES = ("社区", "社区", "社区", "路", "街", "巷")
# Characters that appear in the rest of an address: a name holding one could match across parts.
_FORBIDDEN_CHARS = set("区市号栋单元室组村道")


@dataclass(frozen=True)
class GridCell:
    """One grid of the demo city, in WGS84, with what the grid table needs."""

    code: str
    name: str
    district: str
    geometry: BaseGeometry
    communities: tuple[str, ...]

    def geojson(self) -> str:
        return json.dumps(mapping(self.geometry), ensure_ascii=False, separators=(",", ":"))


def to_km(lonlat: np.ndarray) -> np.ndarray:
    """Return lon/lat pairs as kilometres east and north of the origin."""
    arr = np.asarray(lonlat, dtype=float)
    return np.column_stack(
        ((arr[:, 0] - ORIGIN[0]) * _KM_PER_DEG_LON, (arr[:, 1] - ORIGIN[1]) * _KM_PER_DEG_LAT)
    )


def _to_lonlat_geom(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(
        geom,
        lambda xy: np.column_stack(
            (xy[:, 0] / _KM_PER_DEG_LON + ORIGIN[0], xy[:, 1] / _KM_PER_DEG_LAT + ORIGIN[1])
        ),
    )


def city_outline_km() -> Polygon:
    return Polygon(to_km(np.array(OUTLINE_LONLAT)))


def city_outline() -> BaseGeometry:
    """Return the city outline in WGS84 (the union of every grid)."""
    return _to_lonlat_geom(city_outline_km())


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep the polygon parts of an overlay result (dropping stray lines or points)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.multipolygons(parts) if len(parts) > 1 else parts[0]


def _voronoi_cells(points: np.ndarray, clip: BaseGeometry) -> list[BaseGeometry]:
    """Return the Voronoi cell of each point (in input order) clipped to ``clip``."""
    if len(points) == 1:
        return [clip]
    frame = shapely.box(*clip.buffer(10.0).bounds)
    diagram = shapely.voronoi_polygons(MultiPoint(points), extend_to=frame, ordered=True)
    return [_polygonal(shapely.intersection(cell, clip)) for cell in diagram.geoms]


def district_polygons_km() -> list[BaseGeometry]:
    """Return each district as the union of its seeds' Voronoi cells, clipped to the outline."""
    seeds = np.array([s for d in DISTRICTS for s in d.seeds])
    owner = [i for i, d in enumerate(DISTRICTS) for _ in d.seeds]
    cells = _voronoi_cells(to_km(seeds), city_outline_km())
    return [
        _polygonal(shapely.union_all([c for c, o in zip(cells, owner, strict=True) if o == i]))
        for i in range(len(DISTRICTS))
    ]


def _sample_seeds(rng: np.random.Generator, outline: BaseGeometry, n: int) -> np.ndarray:
    """Return n points in the outline, denser towards the centre as the city is."""
    minx, miny, maxx, maxy = outline.bounds
    out: list[np.ndarray] = []
    have = 0
    while have < n:
        cand = rng.uniform((minx, miny), (maxx, maxy), size=(4 * n, 2))
        inside = shapely.contains_xy(outline, cand[:, 0], cand[:, 1])
        r = np.hypot(cand[:, 0], cand[:, 1])
        keep = inside & (rng.random(len(cand)) < np.exp(-r / 9.0))
        out.append(cand[keep])
        have += int(keep.sum())
    return np.concatenate(out)[:n]


def _relax(points: np.ndarray, clip: BaseGeometry, rounds: int) -> np.ndarray:
    """Move points halfway towards their cells' centroids (a damped Lloyd step) a few times."""
    for _ in range(rounds):
        if len(points) < 2:
            break
        cells = _voronoi_cells(points, clip)
        cent = np.array([[c.centroid.x, c.centroid.y] for c in cells])
        points = (points + cent) / 2.0
    return points


# Snap-rounding precision of the tiling, in km: a micrometre.
_GRID_SIZE = 1e-9


def _node_coverage(geoms: list[BaseGeometry]) -> list[BaseGeometry]:
    """Return the cells rebuilt from their jointly noded boundaries, so that neighbours share
    every vertex of every common edge: the tiling then stays exact (no slivers, no overlaps)
    through rounding and the conversion to lon/lat, which moves shared vertices identically."""
    lines = shapely.union_all(shapely.boundary(geoms), grid_size=_GRID_SIZE)
    faces = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(lines))))
    tree = shapely.STRtree(geoms)
    owner_of = tree.query(
        [f.point_on_surface() for f in faces], predicate="within"
    )  # (face index, cell index) pairs
    parts: list[list[BaseGeometry]] = [[] for _ in geoms]
    for face_idx, cell_idx in zip(owner_of[0], owner_of[1], strict=True):
        parts[cell_idx].append(faces[face_idx])
    if len(owner_of[0]) != len(faces) or any(not p for p in parts):
        raise RuntimeError("the grid tiling could not be noded")  # pragma: no cover
    return [p[0] if len(p) == 1 else shapely.multipolygons(p) for p in parts]


class _NameBook:
    """Hands out community and street names so that no name occurs inside another name or
    inside another grid's address prefix: matching by the longest name then finds one grid."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self.names: set[str] = set()
        self._inside: set[str] = set()  # every substring of every name and address prefix
        self._used_bases: set[str] = set()

    @staticmethod
    def _substrings(text: str) -> list[str]:
        return [text[i:j] for i in range(len(text)) for j in range(i + 1, len(text) + 1)]

    def _fits(self, base: str, name: str, prefix: str) -> bool:
        if name in self._inside or any(ch in _FORBIDDEN_CHARS for ch in base):
            return False
        return not any(s in self.names for s in self._substrings(prefix))

    def take(self, district: District, real: list[str], reserved: set[str]) -> str:
        """Return a new name for a grid of ``district``, preferring its real place names."""
        for _ in range(10_000):
            if real:
                base = real.pop()
            else:
                base = self._rng.choice(_SYLLABLES) + self._rng.choice(_SYLLABLES)
                if base[0] == base[1]:
                    continue
            if base in self._used_bases or base in reserved:
                continue
            suffix = self._rng.choice(_SUFFIXES)
            name = base + suffix
            prefix = CITY + "市" + district.name + name
            if not self._fits(base, name, prefix):
                continue
            self._used_bases.add(base)
            self.names.add(name)
            self._inside.update(self._substrings(prefix))
            return name
        raise RuntimeError("ran out of community names")  # pragma: no cover

    def clashes(self, text: str) -> bool:
        """Return True when ``text`` contains any name handed out."""
        return any(s in self.names for s in self._substrings(text))


# Places outside the grids: addresses here match no grid and wait in the unmatched queue.
UNMATCHED_PLACES: tuple[str, ...] = (
    "双流区黄甲街道桂花村",
    "双流区彭镇羊坪村",
    "郫都区安德街道红旗村",
    "郫都区唐昌镇战旗村",
    "新都区斑竹园街道三河村",
    "龙泉驿区洛带镇宝胜村",
    "温江区万春镇幸福村",
    "新津区花源街道白云村",
    "天府新区煎茶街道老龙村",
    "金堂县淮口街道五凤村",
)
_RESERVED_BASES = {"桂花", "羊坪", "红旗", "战旗", "三河", "宝胜", "幸福", "白云", "老龙", "五凤"}


def build_grids(
    *, n_grids: int, seed: int, communities: tuple[int, int] = (2, 4)
) -> tuple[list[GridCell], list[str]]:
    """Return the grids tiling the city (codes in district order) and the unmatched places."""
    rng = np.random.default_rng(seed)
    names_rng = random.Random(seed * 7919 + 1)
    outline = city_outline_km()
    districts = district_polygons_km()
    min_per_district = 2
    if n_grids < min_per_district * len(DISTRICTS):
        raise ValueError(f"a demo city needs at least {min_per_district * len(DISTRICTS)} grids")
    # Grid centres: sample with a density gradient, then make sure every district has some.
    points = _sample_seeds(rng, outline, n_grids)
    in_district = np.full(len(points), -1)
    for i, dist in enumerate(districts):
        hit = shapely.contains_xy(dist, points[:, 0], points[:, 1]) & (in_district < 0)
        in_district[hit] = i
    for i, dist in enumerate(districts):
        while (in_district == i).sum() < min_per_district:
            donor = int(np.bincount(in_district[in_district >= 0]).argmax())
            j = int(np.flatnonzero(in_district == donor)[0])
            points[j] = _sample_seeds(rng, dist, 1)[0]
            in_district[j] = i
    per_district: list[list[BaseGeometry]] = []
    for i, dist_poly in enumerate(districts):
        pts = _relax(points[in_district == i], dist_poly, rounds=2)
        geoms = _voronoi_cells(pts, dist_poly)
        # Number grids west to east within bands from north to south, as a map reader would.
        geoms.sort(key=lambda g: (-round(g.centroid.y / 2.5), g.centroid.x))
        per_district.append(geoms)
    noded = iter(_node_coverage([g for geoms in per_district for g in geoms]))
    book = _NameBook(names_rng)
    cells: list[GridCell] = []
    for district, geoms in zip(DISTRICTS, per_district, strict=True):
        real = list(district.bases)
        names_rng.shuffle(real)
        for seq in range(1, len(geoms) + 1):
            count = names_rng.randint(*communities)
            names = tuple(book.take(district, real, _RESERVED_BASES) for _ in range(count))
            cells.append(
                GridCell(
                    code=f"{district.code}{seq:03d}",
                    name=f"{district.name}-{names[0]}网格",
                    district=district.name,
                    geometry=_to_lonlat_geom(next(noded)),
                    communities=names,
                )
            )
    unmatched = [CITY + "市" + p for p in UNMATCHED_PLACES if not book.clashes(CITY + "市" + p)]
    return cells, unmatched
