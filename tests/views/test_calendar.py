"""One calendar: the window shows times in the branch's time zone whatever zone the computer is
set to, so a supervisor on a laptop left on UTC sees the same times as one set to Beijing time."""

from __future__ import annotations

import time

import pytest

from app.views.calendar import today, use_zone
from app.views.main_window import MainWindow


def _shown(qtbot, make_ctx) -> list[str]:
    w = MainWindow(make_ctx("senior"))
    qtbot.addWidget(w)
    page = w.show_page("tasks")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10000)
    created = [c.key for c in page.model.columns].index("created_at")
    return [page.model.index(r, created).data() for r in range(min(page.model.rowCount(), 40))]


@pytest.fixture
def machine_zone(monkeypatch):
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


def test_the_same_times_whatever_the_computers_zone(qtbot, make_ctx, machine_zone):
    use_zone("Asia/Shanghai")
    seen = {}
    for name in ("UTC", "Asia/Shanghai", "America/New_York"):
        machine_zone(name)
        seen[name] = (_shown(qtbot, make_ctx), today())
    assert seen["UTC"] == seen["Asia/Shanghai"] == seen["America/New_York"]
    assert any(text for text in seen["UTC"][0])
