"""Makes docs/scorecard.png: the Scorecard page (月度考核) of the real app on the demo branch.

    python docs/make_scorecard_shot.py [--lang zh_CN|en]

Runs on a virtual screen (Xvfb) as docs/make_screenshots.py does, signed in as the senior
supervisor, with one of the scorecard's cells' tooltips not shown (a still picture).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))
from make_screenshots import _branch_clock, _ensure_display, _settle, _wait  # noqa: E402

AS_OF = date(2026, 11, 20)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", default="zh_CN", choices=("zh_CN", "en"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "scorecard.png"))
    args = parser.parse_args()
    _branch_clock()
    xvfb = _ensure_display()
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    tmp = Path(tempfile.mkdtemp(prefix="griddesk-scorecard-"))
    os.environ["GRIDDESK_SETTINGS_DIR"] = str(tmp)
    try:
        _shoot(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.stdout.flush()
    if xvfb is not None:
        xvfb.terminate()
    os._exit(0)


def _shoot(args, tmp: Path) -> None:
    from PySide6.QtWidgets import QApplication
    from sqlalchemy import select

    from app.db import make_engine, make_sessionmaker, migrate
    from app.models import User
    from app.services.auth import user_info
    from app.services.demo import build_demo
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
    Session = make_sessionmaker(engine)  # noqa: N806
    with Session() as s, s.begin():
        build_demo(s, size="small", seed=7, as_of=AS_OF)
    with Session() as s:
        user = user_info(s.scalars(select(User).where(User.login == "senior")).one())
    ctx = AppContext(
        Session=Session,
        user=user,
        runner=BackgroundRunner(app),
        db_label="sqlite:///…/griddesk.db",
        as_of=AS_OF,
        web_available=False,
    )
    window = MainWindow(ctx)
    window.resize(1500, 640)
    window.show()
    page = window.show_page("scorecard")
    _wait(app, lambda: page.card is not None, 120)
    _settle(app, 1.0)
    window.grab().save(args.out)
    print(f"written: {args.out}")
    window.close()


if __name__ == "__main__":
    main()
