"""Matching customers to grids: points in polygons, address rules, the longest grid name."""

from __future__ import annotations

import json

import pytest

from app.models import AddressRule, Branch, Grid
from app.models.enums import GridStatus, MatchMethod
from app.services.intake.address import parse_address
from app.services.intake.matching import (
    GridIndex,
    GridShape,
    MatchInput,
    RuleRow,
    normalise,
    normalise_address,
)


def square(x0: float, x1: float) -> str:
    ring = [[x0, 0], [x1, 0], [x1, 1], [x0, 1], [x0, 0]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


@pytest.fixture
def index() -> GridIndex:
    # Listed out of id order on purpose: border points still go to the lowest id.
    grids = [
        GridShape(20, "B", square(1, 2), json.dumps(["春熙路社区"], ensure_ascii=False)),
        GridShape(10, "A", square(0, 1), ["春熙路", "红星路"]),
        GridShape(30, "C", "{not geojson", ["红星路", "太升南路"]),
    ]
    return GridIndex(grids, [RuleRow("太古里", 20)], city="成都")


def test_points_fall_in_their_polygon_border_goes_to_lowest_id_outside_is_minus_one(index):
    got = index.match_points([0.5, 1.5, 1.0, 5.0, None], [0.5, 0.5, 0.5, 5.0, None])
    assert got.tolist() == [10, 20, 10, -1, -1]


def test_a_large_batch_gets_the_same_grids_as_the_tree(monkeypatch):
    """Many points take the one-pass-per-polygon path: same answers as the tree, borders and
    corners to the lowest grid id, holes and multipolygons respected."""
    import numpy as np

    from app.services.intake import matching

    def cell(i: int, j: int) -> list:
        return [[i, j], [i + 1, j], [i + 1, j + 1], [i, j + 1], [i, j]]

    grids = []
    gid = 100
    for i in range(6):
        for j in range(6):
            geometry = {"type": "Polygon", "coordinates": [cell(i, j)]}
            if (i, j) == (2, 2):  # a hole, filled by a grid of its own below
                hole = [[2.25, 2.25], [2.25, 2.75], [2.75, 2.75], [2.75, 2.25], [2.25, 2.25]]
                geometry["coordinates"].append(hole)
            if (i, j) == (5, 5):  # two parts
                geometry = {"type": "MultiPolygon", "coordinates": [[cell(5, 5)], [cell(7, 7)]]}
            grids.append(GridShape(gid - 3 * i + 7 * j, f"G{i}{j}", json.dumps(geometry), []))
            gid += 1
    inner = [[2.25, 2.25], [2.75, 2.25], [2.75, 2.75], [2.25, 2.75], [2.25, 2.25]]
    grids.append(GridShape(5, "H", json.dumps({"type": "Polygon", "coordinates": [inner]}), []))
    index = GridIndex(grids)
    rng = np.random.default_rng(4)
    lons = np.concatenate([rng.uniform(-1, 9, 3000), rng.integers(0, 7, 500) * 1.0, [2.5, 7.5]])
    lats = np.concatenate([rng.uniform(-1, 9, 3000), rng.uniform(0, 6, 500), [2.5, 7.5]])
    lons[::97] = np.nan  # no coordinates
    by_tree = index.match_points(lons, lats)
    monkeypatch.setattr(matching, "BATCH_POINTS", 1)
    by_polygon = index.match_points(lons, lats)
    assert by_polygon.tolist() == by_tree.tolist()
    assert by_polygon[-2] == 5 and by_polygon[-1] == next(g.id for g in grids if g.code == "G55")
    on_borders = lons[3000:3500]
    assert np.isin(by_polygon[3000:3500][np.isfinite(on_borders)], [-1]).sum() < 10
    assert (by_polygon == -1).sum() > 300  # points outside every grid stay unmatched


def test_the_longest_name_wins(index):
    assert index.match_address("春熙路社区12号") == (20, MatchMethod.ADDRESS)
    assert index.match_address("春熙路88号") == (10, MatchMethod.ADDRESS)
    # A grid whose polygon cannot be read still matches by its names.
    assert index.match_address("太升南路1号") == (30, MatchMethod.ADDRESS)


def test_a_rule_beats_a_longer_grid_name(index):
    assert index.match_address("太古里春熙路社区5号") == (20, MatchMethod.RULE)
    assert index.match_address("太古里春熙路5号") == (20, MatchMethod.RULE)


def test_full_width_characters_spaces_and_punctuation_are_ignored(index):
    assert normalise("ＡＢ　春熙路（社区）－１２号") == "ab春熙路社区12号"
    assert index.match_address("春熙路　社区 ８号") == (20, MatchMethod.ADDRESS)
    assert index.match_address("春熙路·社区，8号") == (20, MatchMethod.ADDRESS)


def test_the_province_and_city_prefix_is_dropped():
    assert normalise_address("四川省成都市锦江区春熙路1号") == "锦江区春熙路1号"
    assert normalise_address("成都市锦江区", city="成都") == "锦江区"
    assert normalise_address("北京市朝阳区") == "朝阳区"
    # No province before it: a name with 市 or 省 in it stays whole.
    assert normalise_address("锦江区城市花园") == "锦江区城市花园"
    assert normalise_address("省府路3号") == "省府路3号"


def test_a_tie_between_grids_is_no_match_and_names_the_candidates(index):
    assert index.match_address("红星路1号") is None
    assert index.match_addresses(["红星路1号"])[0].candidates == (10, 30)
    assert index.match_address("无名小区") is None
    assert index.match_address("") is None


def test_match_uses_coordinates_first_then_the_address(index):
    got = index.match(
        [
            MatchInput(1, "春熙路1号", 1.5, 0.5),  # the point says B
            MatchInput(2, "春熙路社区2号", 10.0, 10.0),  # outside every grid: the address
            MatchInput(3, "无名小区"),
        ]
    )
    assert [(m.customer_id, m.grid_id, m.method) for m in got] == [
        (1, 20, MatchMethod.POINT),
        (2, 20, MatchMethod.ADDRESS),
        (3, None, None),
    ]


def test_suggestions_rank_grids_by_the_longest_shared_piece(index):
    got = index.suggest("春熙南路社区")
    # "路社区" is in B's name too, but every address has such words: it is no evidence.
    assert [(s.grid_code, s.fragment) for s in got] == [
        ("A", "春熙"),
        ("B", "春熙"),
        ("C", "南路"),
    ]
    assert index.suggest("幸福路社区") == []  # shares only "路社区" with B: no suggestion
    assert len(index.suggest("春熙南路社区", limit=1)) == 1


def test_index_from_session_skips_retired_grids_and_other_branches(session):
    b1 = Branch(code="CD", name="成都分公司", city="成都")
    b2 = Branch(code="CQ", name="重庆分公司", city="重庆")
    session.add_all([b1, b2])
    session.flush()

    def grid(branch, code, x0, names, status=GridStatus.ACTIVE):
        g = Grid(
            branch_id=branch.id,
            code=code,
            name=code,
            geometry=square(x0, x0 + 1),
            communities=json.dumps(names, ensure_ascii=False),
            status=status,
            min_lon=x0,
            min_lat=0,
            max_lon=x0 + 1,
            max_lat=1,
            centroid_lon=x0 + 0.5,
            centroid_lat=0.5,
        )
        session.add(g)
        session.flush()
        return g

    a = grid(b1, "A", 0, ["春熙路"])
    old = grid(b1, "OLD", 1, ["玉林路"], GridStatus.RETIRED)
    other = grid(b2, "X", 0, ["解放碑"])
    session.add_all(
        [
            AddressRule(branch_id=b1.id, pattern="太古里", grid_id=a.id),
            AddressRule(branch_id=b2.id, pattern="洪崖洞", grid_id=other.id),
        ]
    )
    session.flush()
    index = GridIndex.from_session(session, b1.id)
    assert index.grid_count == 1
    assert index.match_points([0.5, 1.5], [0.5, 0.5]).tolist() == [a.id, -1]
    assert index.match_address("成都市玉林路1号") is None
    assert index.match_address("解放碑1号") is None
    assert index.match_address("洪崖洞") is None
    assert index.match_address("太古里") == (a.id, MatchMethod.RULE)
    assert old.id != a.id


# --- where an address is: district, street, community ---------------------------------------


@pytest.mark.parametrize(
    ("address", "parts"),
    [
        ("成都市天府新区煎茶街道老龙村9组35号", ("天府新区", "煎茶街道", "老龙村")),
        ("四川省成都市锦江区春熙路街道红星路社区5号", ("锦江区", "春熙路街道", "红星路社区")),
        ("成都市高新区天府巷社区12号", ("高新区", None, "天府巷社区")),
        ("双流区彭镇羊坪村1组", ("双流区", "彭镇", "羊坪村")),
        ("金堂县淮口街道五凤村3组", ("金堂县", "淮口街道", "五凤村")),
        ("春熙南路社区7号", (None, None, "春熙南路社区")),
        ("无名小区3栋", (None, None, None)),  # a housing estate (小区) is not a district
        ("太古里春熙路5号", (None, None, None)),
    ],
)
def test_addresses_are_parsed_into_district_street_and_community(address, parts):
    got = parse_address(normalise_address(address, city="成都"))
    assert (got.district, got.street, got.community) == parts


@pytest.fixture
def districts() -> GridIndex:
    return GridIndex(
        [
            GridShape(1, "GX006", square(0, 1), ["天府巷", "天府三街"], "高新区"),
            GridShape(2, "TF001", square(1, 2), ["天府公园", "煎茶街道"], "天府新区"),
            GridShape(3, "TF002", square(2, 3), ["天府大道南段"], "天府新区"),
            GridShape(4, "XX001", square(3, 4), ["天府路"], None),
        ],
        city="成都",
    )


def test_a_grid_is_suggested_only_inside_the_address_s_district_and_street(districts):
    got = districts.suggest("成都市天府新区煎茶街道老龙村9组35号", limit=5)
    # Not GX006 (高新区, another district). TF001 names 煎茶街道 and the address is in it;
    # TF002 names no street; XX001's district is not known.
    assert [s.grid_code for s in got] == ["TF001", "TF002", "XX001"]
    in_another_street = districts.suggest("天府新区华阳街道天府村1号", limit=5)
    assert "TF001" not in [s.grid_code for s in in_another_street]  # it names 煎茶街道 only
    assert "GX006" not in [s.grid_code for s in in_another_street]
    assert [s.grid_code for s in districts.suggest("高新区天府巷3号")][0] == "GX006"


def test_a_rule_never_sends_an_address_to_a_grid_of_another_district():
    index = GridIndex(
        [GridShape(1, "GX006", square(0, 1), [], "高新区")],
        [RuleRow("天府", 1)],
        city="成都",
    )
    assert index.match_address("成都市天府新区煎茶街道老龙村9组35号") is None
    assert index.match_address("高新区天府巷3号") == (1, MatchMethod.RULE)
    assert index.match_address("天府巷3号") == (1, MatchMethod.RULE)  # names no district
