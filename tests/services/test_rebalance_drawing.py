"""The rebalancing chart and the moves map, drawn on a plain Figure (no Qt).

Uses the six-grid city of test_rebalance.py."""

from __future__ import annotations

from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from test_rebalance import city, persistency_ready  # noqa: F401 - fixtures

from app.services.mapping.moves import (
    CUSTOMER_MOVE,
    GRID_MOVE,
    IN_SCOPE,
    OUT_OF_SCOPE,
    MapMove,
    draw_moves_map,
    grid_shapes,
    tooltip_text,
)
from app.services.render.charts import WorkloadBar, draw_workload_comparison

LABELS = {"grid": "grid", "customers": "customers", "unchanged": "unchanged"}


def test_grid_shapes_have_outline_owner_and_team(session, city):  # noqa: F811
    shapes = grid_shapes(session, branch_id=city["branch"])
    assert [g.code for g in shapes] == [f"CD-0{i}" for i in range(1, 7)]
    assert shapes[0].owner_no == "E1" and shapes[0].team_code == "T1"
    assert shapes[5].team_code == "T2"
    assert shapes[0].geometry["type"] == "Polygon"


def test_moved_grids_are_highlighted_and_explained(session, city):  # noqa: F811
    shapes = grid_shapes(session, branch_id=city["branch"])
    moves = [
        MapMove("CD-03", True, "王芳 → 李强"),
        MapMove("CD-01", False, "1 customers: 王芳 → 李强"),
    ]
    fig = Figure()
    ax = fig.add_subplot()
    artists = draw_moves_map(
        ax, shapes, moves, scope_teams=("T1",), labels=LABELS, selected="CD-03"
    )
    fills = {code: to_hex(p.get_facecolor()) for p, code in artists.items()}
    assert fills["CD-03"] == GRID_MOVE
    assert fills["CD-01"] == CUSTOMER_MOVE
    assert fills["CD-02"] == IN_SCOPE
    assert fills["CD-06"] == OUT_OF_SCOPE  # team T2 is outside the plan's scope
    assert {t.get_text() for t in ax.texts} == {"CD-01", "CD-03"}
    by_code = {g.code: g for g in shapes}
    assert tooltip_text("CD-03", by_code, moves) == "CD-03 网格3\n王芳 → 李强"


def test_workload_chart_marks_capacity_and_who_ends_above_it():
    fig = Figure()
    bars = [
        WorkloadBar("王芳 E1", 12.6, 5.0, 9, 5, 10),
        WorkloadBar("李强 E2", 2.0, 9.6, 2, 6, 4),
    ]
    draw_workload_comparison(
        fig,
        bars,
        title="t",
        before_label="now",
        after_label="after",
        workload_label="w",
        customers_label="c",
        capacity_label="cap",
        bound=6.0,
        bound_label="bound",
    )
    left, right = fig.axes[:2]
    assert len(left.patches) == 4 and len(right.patches) == 4
    after = [to_hex(p.get_facecolor()) for p in left.patches[2:]]
    assert after[1] == "#c92a2a" and after[0] != "#c92a2a"  # 李强 ends with 6 of 4
    assert {t.get_text() for t in fig.legends[0].get_texts()} == {"now", "after", "bound", "cap"}
