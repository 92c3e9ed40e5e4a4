"""The grid map: an offline HTML page, a matplotlib fallback, and the figures read for it."""

from __future__ import annotations

import base64
import html
import json
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import numpy as np
import pytest

from app.models import Branch, Customer, Grid, Specialist, Task, Team
from app.models.enums import SpecialistStatus, TaskKind, TaskStatus
from app.services.mapping import (
    MEASURES,
    GridRow,
    MapData,
    Points,
    build_map_html,
    colour_grids,
    draw_grid_map,
    labels,
    load_map_data,
    load_map_points,
)
from app.services.mapping.html import POINT_SCALE
from app.services.mapping.measures import (
    COVERED,
    FEW_FILL,
    NO_DATA,
    UNCOVERED,
    UNSERVED,
    tooltip_lines,
)

AS_OF = date(2024, 6, 30)


def square(x: float, y: float, d: float = 0.01) -> dict:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def three_grids(points=()) -> MapData:
    grids = (
        GridRow(
            code="JJ001",
            name="东门网格",
            district="锦江区",
            geometry=square(104.00, 30.60),
            owner_name="王芳",
            owner_employee_no="E1",
            team_name="一队",
            uncovered=False,
            customers=10,
            owner_customers=12,
            owner_capacity=10,
            owner_open_tasks=5,
            persistency_13=Decimal("0.85"),
        ),
        GridRow(
            code="JJ002",
            name="西门网格",
            district="锦江区",
            geometry=square(104.01, 30.60),
            owner_name="李强",
            owner_employee_no="E2",
            team_name="一队",
            uncovered=False,
            customers=3,
            unserved=1,
            owner_customers=3,
            owner_capacity=10,
            owner_open_tasks=0,
            persistency_13=Decimal("0.70"),
        ),
        GridRow(
            code="WH001",
            name="南门网格",
            district="武侯区",
            geometry=square(104.00, 30.61),
            uncovered=True,
            customers=4,
            unserved=4,
        ),
    )
    return MapData(grids=grids, points=Points.from_rows(list(points)), unmatched=2, as_of=AS_OF)


class _Assets(HTMLParser):
    """Collects the URLs of <script src> and <link href> and the inline script text."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script":
            self._in_script = True
            if a.get("src"):
                self.urls.append(a["src"])
        if tag == "link" and a.get("href"):
            self.urls.append(a["href"])

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.inline.append(data)


def assets(page: str) -> _Assets:
    parser = _Assets()
    parser.feed(page)
    return parser


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["relative", "inline"])
def test_page_loads_nothing_from_the_network(mode):
    page = build_map_html(three_grids(), measure="persistency", asset_mode=mode)
    found = assets(page)
    assert not [u for u in found.urls if u.lower().startswith(("http:", "https:", "//"))]


def test_the_scale_is_metric_only():
    page = build_map_html(three_grids(), measure="persistency", asset_mode="inline")
    assert "L.control.scale({imperial: false})" in page
    assert page.count("L.control.scale(") == 1


def test_relative_page_points_at_bundled_files_that_exist():
    page = build_map_html(three_grids(), measure="persistency", asset_mode="relative")
    urls = assets(page).urls
    files = [Path(url2pathname(urlparse(u).path)) for u in urls]
    assert all(urlparse(u).scheme == "file" for u in urls)
    assert all(f.is_file() for f in files), files
    names = {f.name for f in files}
    assert {"leaflet.js", "leaflet.css", "griddesk-map.js"} <= names


def test_inline_page_carries_leaflet_itself():
    page = build_map_html(three_grids(), measure="persistency", asset_mode="inline")
    found = assets(page)
    assert found.urls == []
    code = "".join(found.inline)
    assert 'version="1.9.4"' in code  # Leaflet's own source
    assert "window.griddeskHighlight" in code
    assert "bridge.gridClicked" in code
    # Leaflet's control images travel inside the CSS.
    assert "url(data:image/png;base64," in page


def test_every_grid_is_on_the_page_with_its_tooltip():
    page = build_map_html(three_grids(), measure="coverage", lang="en")
    for code in ("JJ001", "JJ002", "WH001"):
        assert f'"code":"{code}"' in page
    assert "griddesk.grids(griddeskData.grids)" in page


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("measure", MEASURES)
def test_legend_names_the_measure(measure, lang):
    page = build_map_html(three_grids(), measure=measure, lang=lang)
    assert html.escape(labels(lang)[f"map_{measure}"]) in page
    assert "griddesk.init(" in page


def test_no_tiles_unless_asked():
    data = three_grids()
    offline = build_map_html(data, measure="load")
    assert "tile.openstreetmap.org" not in offline
    assert "L.tileLayer" not in offline
    online = build_map_html(data, measure="load", tiles=True)
    assert "tile.openstreetmap.org" in online


def test_selected_grid_is_highlighted_when_the_page_opens():
    page = build_map_html(three_grids(), measure="load", selected_grid="JJ002")
    assert '"selected":"JJ002"' in page


def test_unknown_measure_is_refused():
    with pytest.raises(ValueError, match="unknown map measure"):
        build_map_html(three_grids(), measure="wealth")


def _packed(page: str) -> tuple[np.ndarray, dict]:
    """Return the customers' points a page carries, as (lat, lon) rows, and the layer's options."""
    data = re.search(r'"customers":"([A-Za-z0-9+/=]*)"', page)
    layer = re.search(r"griddesk\.customers\(griddeskData\.customers, (\{.*?\})\)", page)
    assert data and layer, "no customer layer on the page"
    pairs = np.frombuffer(base64.b64decode(data.group(1)), dtype="<i4").reshape(-1, 2)
    return pairs / POINT_SCALE, json.loads(layer.group(1))


def test_many_customers_travel_packed_and_the_page_stays_small():
    """A big city's customers go to the page as packed integers for one canvas layer: no
    marker per customer, no clustering library, and every point arrives where it is, those in
    no grid last (drawn red, on top)."""
    pts = [
        (104.0 + (i % 250) * 0.00008, 30.60 + (i // 250) * 0.00005, "JJ001") for i in range(50_000)
    ]
    pts[7] = (104.05, 30.65, None)
    data = three_grids(pts)
    page = build_map_html(data, measure="persistency", asset_mode="inline")
    # 8 bytes a customer, base64: 0.53 MB here (the clustered page took 5-6 MB).
    assert len(page.encode("utf-8")) < 1_500_000
    relative = build_map_html(data, measure="persistency")
    assert not any("markercluster" in u for u in assets(relative).urls)
    latlon, options = _packed(relative)
    assert options == {"scale": POINT_SCALE, "unmatchedFrom": 49_999}
    expected = [(lat, lon) for lon, lat, code in pts if code] + [(30.65, 104.05)]
    assert np.abs(latlon - np.array(expected)).max() < 0.6 / POINT_SCALE


def test_without_customers_the_page_has_no_customer_layer():
    page = build_map_html(three_grids(), measure="persistency")
    assert "griddesk.customers(" not in page


# --- colours -------------------------------------------------------------------------------


def test_persistency_runs_from_red_to_green_and_grey_without_data():
    c = colour_grids(three_grids(), measure="persistency", lang="en")
    assert c.fills["JJ002"] == "#d73027"  # the lowest
    assert c.fills["JJ001"] == "#1a9850"  # the highest
    assert c.fills["WH001"] == NO_DATA
    assert c.legend.labels == ("70.0%", "85.0%")
    assert c.legend.no_data == "No data"


def test_a_rate_on_a_few_policies_is_pale_and_left_out_of_the_colour_scale():
    """A grid whose persistency rests on under 30 policies is drawn pale, not red or green,
    and the scale's ends come from the other grids; the legend and the tooltip say why."""
    jj001, jj002, wh001 = three_grids().grids
    data = MapData(
        grids=(
            replace(jj001, persistency_policies=400),
            replace(jj002, persistency_13=Decimal("0.40"), persistency_policies=12),
            replace(wh001, persistency_13=Decimal("0.75"), persistency_policies=30),
        )
    )
    c = colour_grids(data, measure="persistency", lang="en")
    assert c.fills["JJ002"] == FEW_FILL
    assert c.fills["WH001"] == "#d73027" and c.fills["JJ001"] == "#1a9850"
    assert c.legend.labels == ("75.0%", "85.0%")  # 40 % on 12 policies is not an end
    assert c.legend.few == "Few: under 30 policies, not coloured"
    assert c.legend.no_data is None
    page = build_map_html(data, measure="persistency", lang="zh_CN")
    assert FEW_FILL in page and "少量：不足 30 份保单，不参与配色" in page
    lines = dict(tooltip_lines(data.grids[1], lang="en"))
    assert lines["13-month persistency"] == "40.0% (12 policies, few)"
    assert dict(tooltip_lines(data.grids[0], lang="zh_CN"))["13个月继续率"] == "85.0% (400 份保单)"


def test_only_few_rates_still_show_pale_with_their_reason():
    jj001, jj002, wh001 = three_grids().grids
    data = MapData(
        grids=(replace(jj001, persistency_policies=5), replace(jj002, persistency_13=None), wh001)
    )
    c = colour_grids(data, measure="persistency", lang="en")
    assert c.fills == {"JJ001": FEW_FILL, "JJ002": NO_DATA, "WH001": NO_DATA}
    assert c.legend.labels == ("No data", "Few: under 30 policies, not coloured")


def test_persistency_without_any_figure_says_no_data():
    data = MapData(grids=tuple(replace(g, persistency_13=None) for g in three_grids().grids))
    c = colour_grids(data, measure="persistency", lang="en")
    assert set(c.fills.values()) == {NO_DATA}
    assert (c.legend.kind, c.legend.labels) == ("swatches", ("No data",))


def test_load_bands_and_coverage_categories():
    data = three_grids()
    load = colour_grids(data, measure="load", lang="en")
    # 12 of 10 is over capacity, 3 of 10 well under, no owner is grey.
    assert load.fills == {"JJ001": "#fc8d59", "JJ002": "#1a9850", "WH001": NO_DATA}
    assert load.legend.labels[:4] == ("up to 80%", "80% – 100%", "100% – 120%", "over 120%")
    assert load.legend.labels[-1] == "No owner"
    coverage = colour_grids(data, measure="coverage", lang="en")
    assert coverage.fills == {"JJ001": COVERED, "JJ002": UNSERVED, "WH001": UNCOVERED}
    assert "Customers matched to no grid: 2" in coverage.legend.notes


# --- the matplotlib fallback ---------------------------------------------------------------


def test_fallback_draws_one_pickable_patch_per_grid():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure()
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    data = three_grids([(104.005, 30.605, "JJ001"), (104.03, 30.63, None)])
    artists = draw_grid_map(ax, data, measure="coverage", lang="en")
    assert sorted(artists.values()) == ["JJ001", "JJ002", "WH001"]
    by_code = {code: patch for patch, code in artists.items()}
    assert by_code["WH001"].get_facecolor()[:3] == pytest.approx((215 / 255, 48 / 255, 39 / 255))
    # A click inside grid JJ002 (in data coordinates) lands on its patch.
    fig.canvas.draw()
    x, y = ax.transData.transform((104.015, 30.605))
    event = type("E", (), {"x": x, "y": y})()
    assert by_code["JJ002"].contains(event)[0]
    assert not by_code["JJ001"].contains(event)[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()][0] == "No active specialist"


# --- reading the database ------------------------------------------------------------------


def _grid(branch_id, code, x, owner=None):
    geometry = square(x, 30.60)
    return Grid(
        branch_id=branch_id,
        code=code,
        name=f"{code}网格",
        district="锦江区",
        geometry=json.dumps(geometry),
        min_lon=x,
        min_lat=30.60,
        max_lon=x + 0.01,
        max_lat=30.61,
        centroid_lon=x + 0.005,
        centroid_lat=30.605,
        owner_id=owner.id if owner else None,
    )


@pytest.fixture
def branch(session):
    b = Branch(code="b", name="测试机构", city="成都")
    other = Branch(code="o", name="别的机构", city="绵阳")
    session.add_all([b, other])
    session.flush()
    t1 = Team(branch_id=b.id, code="T1", name="一队")
    t2 = Team(branch_id=b.id, code="T2", name="二队")
    session.add_all([t1, t2])
    session.flush()
    wang = Specialist(branch_id=b.id, employee_no="E1", name="王芳", team_id=t1.id, capacity=3)
    li = Specialist(branch_id=b.id, employee_no="E2", name="李强", team_id=t2.id, capacity=50)
    gone = Specialist(
        branch_id=b.id,
        employee_no="E3",
        name="赵敏",
        team_id=t1.id,
        status=SpecialistStatus.LEFT,
        left_on=date(2024, 5, 31),
    )
    session.add_all([wang, li, gone])
    session.flush()
    g1 = _grid(b.id, "G1", 104.00, wang)
    g2 = _grid(b.id, "G2", 104.01, wang)
    g3 = _grid(b.id, "G3", 104.02, gone)  # its owner left: uncovered
    g4 = _grid(b.id, "G4", 104.03, li)
    elsewhere = _grid(other.id, "X1", 105.00)
    session.add_all([g1, g2, g3, g4, elsewhere])
    session.flush()

    def customer(no, grid=None, specialist=None, lon=None, lat=None, pool=True, branch_id=b.id):
        c = Customer(
            branch_id=branch_id,
            customer_no=no,
            name=no,
            address="成都市",
            grid_id=grid.id if grid else None,
            specialist_id=specialist.id if specialist else None,
            lon=lon,
            lat=lat,
            pool_entered_on=date(2024, 3, 1) if pool else None,
        )
        session.add(c)
        return c

    c1 = customer("C1", g1, wang, 104.005, 30.605)
    customer("C2", g1, wang, 104.006, 30.606)
    customer("C3", g2, wang)  # no coordinates: counted, not drawn
    customer("C4", g3, None, 104.025, 30.605)  # in a grid, nobody serves it
    customer("C5", g3, None)
    customer("C6", g4, li, 104.035, 30.605)
    customer("C7", None, None, 104.5, 30.9)  # unmatched, with coordinates
    customer("C8", None, None)  # unmatched, no coordinates
    customer("C9", None, None, pool=False)  # not in the pool yet
    customer("C10", elsewhere, None, 105.005, 30.605, branch_id=other.id)
    session.flush()
    created = datetime(2024, 6, 1, tzinfo=UTC)
    for n, status in enumerate([TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.DONE]):
        session.add(
            Task(
                task_no=f"T{n}",
                kind=TaskKind.PRE_SELL,
                customer_id=c1.id,
                specialist_id=wang.id,
                created_at=created,
                status=status,
            )
        )
    session.commit()
    return {"branch": b, "teams": (t1, t2)}


def test_load_map_data_reads_owners_customers_and_tasks_per_grid(session, branch):
    data = load_map_data(session, branch_id=branch["branch"].id, as_of=AS_OF)
    assert [g.code for g in data.grids] == ["G1", "G2", "G3", "G4"]
    g1, g2, g3, g4 = data.grids
    assert (g1.owner_name, g1.owner_employee_no, g1.team_name) == ("王芳", "E1", "一队")
    assert (g1.customers, g2.customers, g3.customers, g4.customers) == (2, 1, 2, 1)
    # The owner's figures span all their grids: three customers against a capacity of three.
    assert (g1.owner_customers, g1.owner_capacity, g1.owner_open_tasks) == (3, 3, 2)
    assert g2.owner_open_tasks == 2 and g2.load == 1.0
    assert (g1.uncovered, g3.uncovered, g4.uncovered) == (False, True, False)
    assert g3.owner_name == "赵敏" and g3.unserved == 2
    assert g4.owner_open_tasks == 0 and g4.unserved == 0
    assert g1.geometry["type"] == "Polygon"
    assert data.unmatched == 2
    assert sorted(data.points) == [
        (104.005, 30.605, "G1"),
        (104.006, 30.606, "G1"),
        (104.025, 30.605, "G3"),
        (104.035, 30.605, "G4"),
        (104.5, 30.9, None),
    ]
    assert data.persistency_period == "2023-06…2024-05"


def test_the_customers_read_apart_are_those_read_with_the_grids(session, branch):
    """The app reads the customers while the browser draws the grids (load_map_points): the
    same points, grids and customers in no grid as one read with the grids, for the branch
    and for one team."""
    t1, _t2 = branch["teams"]
    for team_ids in (None, {t1.id}):
        whole = load_map_data(
            session, branch_id=branch["branch"].id, team_ids=team_ids, as_of=AS_OF
        )
        apart = load_map_points(session, branch_id=branch["branch"].id, team_ids=team_ids)
        assert sorted(apart) == sorted(whole.points) and len(apart) > 0
        bare = load_map_data(
            session, branch_id=branch["branch"].id, team_ids=team_ids, as_of=AS_OF, points=False
        )
        assert len(bare.points) == 0
        assert [(g.code, g.customers, g.unserved) for g in bare.grids] == [
            (g.code, g.customers, g.unserved) for g in whole.grids
        ]


def test_load_map_data_for_one_team_shows_the_grids_it_owns(session, branch):
    t1, _t2 = branch["teams"]
    data = load_map_data(session, branch_id=branch["branch"].id, team_ids={t1.id}, as_of=AS_OF)
    assert [g.code for g in data.grids] == ["G1", "G2", "G3"]
    assert {p[2] for p in data.points} == {"G1", "G3"}
    assert data.unmatched == 0


def test_an_owner_covers_their_grids_until_their_leaving_date(session, branch):
    from sqlalchemy import update

    session.execute(
        update(Specialist).where(Specialist.employee_no == "E1").values(left_on=date(2024, 7, 15))
    )
    session.commit()
    before = load_map_data(session, branch_id=branch["branch"].id, as_of=AS_OF)
    after = load_map_data(session, branch_id=branch["branch"].id, as_of=date(2024, 7, 15))
    assert not before.grid("G1").uncovered
    assert after.grid("G1").uncovered and after.grid("G2").uncovered
    assert not after.grid("G4").uncovered


def test_page_from_the_database(session, branch):
    data = load_map_data(session, branch_id=branch["branch"].id, as_of=AS_OF)
    page = build_map_html(data, measure="coverage", asset_mode="inline")
    assert all(f'"code":"{c}"' in page for c in ("G1", "G2", "G3", "G4"))
    assert "X1" not in page
