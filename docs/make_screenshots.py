"""Takes the screenshots in docs/screenshots/ from the real app on a fresh demo branch.

    python docs/make_screenshots.py [--lang zh_CN|en] [--size small|city]

It runs the app on a virtual screen (Xvfb, Debian package ``xvfb``) unless a display is
already set, builds the demo branch in a temporary database, signs in as the senior supervisor
and photographs every page once its data has loaded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
sys.path.insert(0, str(ROOT))


def _branch_clock() -> None:
    """Show times as a supervisor's desktop in the demo city does (the app shows the machine's
    local time)."""
    os.environ["TZ"] = "Asia/Shanghai"
    if hasattr(time, "tzset"):
        time.tzset()


def _ensure_display() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        sys.exit("Xvfb is not installed (Debian: apt-get install xvfb)")
    proc = subprocess.Popen([xvfb, ":97", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
    os.environ["DISPLAY"] = ":97"
    time.sleep(1.0)
    return proc


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="zh_CN", choices=("zh_CN", "en"))
    parser.add_argument("--size", default="small", choices=("small", "city"))
    parser.add_argument("--suffix", default="")
    parser.add_argument(
        "--guide-only",
        action="store_true",
        help="only the user guide's dialogs (first start, import, export, offline copy, about)",
    )
    parser.add_argument(
        "--lasso-only",
        action="store_true",
        help="only the rebalance page with grids picked by a lasso on its map",
    )
    args = parser.parse_args()
    _branch_clock()
    xvfb = _ensure_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    tmp = Path(tempfile.mkdtemp(prefix="griddesk-shots-"))
    os.environ["GRIDDESK_SETTINGS_DIR"] = str(tmp)
    try:
        rc = _shoot(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()
    if xvfb is not None:
        xvfb.terminate()
    os._exit(rc)  # leave before Qt notices its display is gone


def _wait(app, until, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end and not until():
        app.processEvents()
        time.sleep(0.02)


def _settle(app, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _shoot(args, tmp: Path) -> int:
    from app.views.environment import prepare_environment, webengine_available

    prepare_environment()
    has_web = webengine_available()
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import select

    from app.db import make_engine, migrate
    from app.models import User
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo
    from app.services.people.auth import user_info
    from app.views.context import AppContext
    from app.views.fonts import install_cjk_font
    from app.views.i18n import install_translators
    from app.views.main_window import MainWindow
    from app.views.operations import BackgroundRunner

    app = QApplication([])
    app._tr = install_translators(app, args.lang)  # type: ignore[attr-defined]
    install_cjk_font()
    engine = make_engine(f"sqlite:///{tmp / 'demo.db'}")
    migrate(engine)
    Session = session_factory(engine)
    as_of = date.today()
    with Session() as s, s.begin():
        build_demo(s, size=args.size, seed=7, as_of=as_of)
    with Session() as s:
        user = user_info(s.scalars(select(User).where(User.login == "senior")).one())
    runner = BackgroundRunner(app)
    ctx = AppContext(
        Session=Session,
        user=user,
        runner=runner,
        db_label="sqlite:///…/griddesk.db",
        as_of=as_of,
        web_available=has_web,
    )
    OUT.mkdir(parents=True, exist_ok=True)

    from app.views.signin import SignInDialog
    from app.views.startup import demo_hint

    dialog = SignInDialog(
        Session,
        db_label="sqlite:///…/griddesk.db",
        last_login="senior",
        demo_hint=demo_hint(Session),
    )
    dialog.show()
    _settle(app, 0.5)
    dialog.grab().save(str(OUT / f"signin{args.suffix}.png"))
    dialog.close()

    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    suffix = args.suffix
    if args.guide_only:
        _shoot_guide(app, window, ctx, tmp, suffix)
        window.close()
        return 0
    if args.lasso_only:
        _shoot_lasso(app, window, runner, suffix)
        window.close()
        return 0
    for key in window.pages:
        page = window.show_page(key)
        _wait(app, lambda: not runner._running, 120)
        if key == "rebalance":  # photographed with a proposal on screen
            page.max_moves.setValue(12)
            page.propose()
            _wait(app, lambda page=page: page.plan() is not None, 120)
            rows = page.moves.rowCount()
            page.moves_table.selectRow(min(1, rows - 1))
        _settle(app, 4.0 if key == "map" else 0.8)
        _wait(app, lambda: not runner._running, 120)
        _settle(app, 0.5)
        screen = window.screen()
        shot = (
            screen.grabWindow(window.winId())
            if os.environ.get("QT_QPA_PLATFORM") == "xcb"
            else window.grab()
        )
        shot.save(str(OUT / f"{key}{suffix}.png"))
        print("saved", OUT / f"{key}{suffix}.png")
        del page
    _shoot_lasso(app, window, runner, suffix)
    _shoot_leaving(app, window, runner, suffix)
    _shoot_outside(app, window, ctx, runner, suffix)
    _shoot_handoffs(app, window, runner, suffix)
    _shoot_history(app, window, ctx, suffix)
    _shoot_guide(app, window, ctx, tmp, suffix)
    window.close()
    return 0


def _save(app, widget, name: str, suffix: str) -> None:
    _settle(app, 0.8)
    path = OUT / f"{name}{suffix}.png"
    widget.grab().save(str(path))
    print("saved", path)


def _shoot_guide(app, window, ctx, tmp: Path, suffix: str) -> None:
    """Photograph what the user guide shows beside the pages: the first start, an import,
    the meeting export, an offline copy, Help ▸ About and the guide itself."""
    from app.services.files.snapshot import take_snapshot
    from app.settings import Preferences
    from app.views.export_dialog import ExportMeetingDialog
    from app.views.first_run import FirstRunDialog
    from app.views.import_extract import ImportExtractDialog

    first = FirstRunDialog(Preferences())
    first.show()
    _save(app, first, "first_run", suffix)
    first.empty.click()
    first.branch_code.setText("SZ01")
    first.branch_name.setText("深圳分公司")
    first.login.setText("wang")
    first.display_name.setText("王主管")
    _save(app, first, "first_run_empty", suffix)
    first.close()

    dialog = ImportExtractDialog(window)
    dialog.kind.setCurrentIndex(dialog.kind.findData("customers"))
    # A supervisor's Windows desktop, not this machine's folders.
    dialog.path.setText("C:\\Users\\wang\\Documents\\customers_2026-11-20.xlsx")
    dialog.show()
    _save(app, dialog, "import", suffix)
    dialog.close()

    export = ExportMeetingDialog(ctx, window)
    export.path.setText("C:\\Users\\wang\\Documents\\" + Path(export.path.text()).name)
    export.show()
    _save(app, export, "export", suffix)
    export.close()

    about = window.open_about()
    _save(app, about, "about", suffix)
    about.close()

    guide = window.open_user_guide()
    guide.resize(980, 760)
    _save(app, guide, "guide", suffix)
    guide.close()

    copy = tmp / "griddesk-offline.sqlite"
    take_snapshot(ctx.Session.kw["bind"], copy, branch_id=ctx.user.branch_id, user=ctx.user)
    offline = window.open_offline_copy(str(copy))
    offline.resize(1440, 900)
    page = offline.show_page("tasks")
    _wait(app, lambda: page.model.rowCount() > 0, 120)
    offline.db_label.setText(offline.db_label.text().replace(str(tmp), "…"))
    _save(app, offline, "offline", suffix)
    offline.close()


def _shoot_handoffs(app, window, runner, suffix: str) -> None:
    """Tasks ▸ Hand-offs late, and File ▸ Branch settings where its targets are set."""
    page = window.show_page("tasks")
    page.show_late_handoffs()
    _wait(app, lambda: not runner._running, 120)
    _save(app, window, "handoffs", suffix)
    page.view_tasks.setChecked(True)
    _wait(app, lambda: not runner._running, 120)
    dialog = window.open_branch_settings()
    _save(app, dialog, "branch_settings", suffix)
    dialog.close()


def _shoot_outside(app, window, ctx, runner, suffix: str) -> None:
    """The intake page's list of addresses outside coverage: the demo's customers in districts
    with no grids (no grid suggested for them) marked so, a few of them as to be checked."""
    from app.services.intake.coverage import mark_outside_coverage
    from app.services.intake.unmatched import unmatched_queue

    with ctx.Session() as s, s.begin():
        bare = [r.customer_id for r in unmatched_queue(s, ctx.user.branch_id) if not r.suggestions]
        if bare:
            kw = {"actor": ctx.user.login, "user": ctx.user}
            # A few stay in the queue; a few are to be checked first.
            mark_outside_coverage(s, customer_ids=bare[11:], reason="no_grid_district", **kw)
            mark_outside_coverage(
                s,
                customer_ids=bare[8:11],
                reason="incomplete",
                note="门牌号缺失，待专员上门核实",
                **kw,
            )
    page = window.show_page("intake")
    page.reload()
    _wait(app, lambda: not runner._running, 120)
    page.queue_tabs.setCurrentWidget(page.outside)
    _save(app, window, "intake_outside", suffix)
    page.queue_tabs.setCurrentIndex(0)


def _shoot_history(app, window, ctx, suffix: str) -> None:
    """Apply the rebalance page's plan, then photograph Edit > History of changes."""
    from app.services.rebalance.apply import apply_plan

    plan = window.show_page("rebalance").plan()
    with ctx.Session() as s, s.begin():
        apply_plan(
            s,
            plan,
            actor=ctx.user.login,
            user_may_cross_teams=True,
            team_scope=None,
            branch_scope=ctx.user.branch_id,
        )
    dialog = window.open_history()
    dialog.table.selectRow(0)
    _settle(app, 0.8)
    path = OUT / f"history{suffix}.png"
    dialog.grab().save(str(path))
    print("saved", path)
    dialog.close()


def _shoot_lasso(app, window, runner, suffix: str) -> None:
    """Photograph the rebalance page with a lasso drawn round a few grids the plan leaves
    alone, as a supervisor does before giving them to someone."""
    import math

    page = window.show_page("rebalance")
    _wait(app, lambda: not runner._running, 120)
    page.max_moves.setValue(12)
    page.propose()
    _wait(app, lambda: page.plan() is not None, 120)
    _wait(app, lambda: page.map_editor.offers() is not None and not runner._running, 120)
    plan, offers = page.plan(), page.map_editor.offers()
    moved = {m.grid_code for m in plan.moves}
    where = {g.code: g.centroid for g in page.map.shapes}
    free = [c for c in sorted(offers) if c not in moved and not offers[c].locked]
    x0, x1 = page.map.axes.get_xlim()
    y0, y1 = page.map.axes.get_ylim()
    middle = ((x0 + x1) / 2, (y0 + y1) / 2)
    centre = where[min(free, key=lambda c: math.dist(where[c], middle))]
    near = sorted(math.dist(centre, where[c]) for c in free)
    radius = near[min(2, len(near) - 1)] * 1.15
    outline = [
        (
            centre[0] + radius * (1 + 0.08 * math.sin(5 * t)) * math.cos(t),
            centre[1] + radius * 0.8 * (1 + 0.08 * math.cos(3 * t)) * math.sin(t),
        )
        for t in (2 * math.pi * k / 40 for k in range(40))
    ]
    page.map_editor.selector.lasso(outline)
    _save(app, window, "rebalance_lasso", suffix)


def _shoot_leaving(app, window, runner, suffix: str) -> None:
    """Photograph the "Specialist leaves" dialog for the busiest specialist with grids."""
    roster = window.show_page("roster")
    _wait(app, lambda: roster.model.rowCount() > 0, 120)
    rows = [r for r in roster.model.rows() if r.grid_codes and r.status.value == "active"]
    row = max(rows, key=lambda r: r.customers)
    dialog = roster.open_leaving(row.specialist_id)
    _wait(app, lambda: dialog.plan() is not None and not runner._running, 120)
    _settle(app, 0.8)
    path = OUT / f"leaving{suffix}.png"
    dialog.grab().save(str(path))
    print("saved", path)
    dialog.close()


if __name__ == "__main__":
    sys.exit(main())
