"""Widget tests drive the real window offscreen on a demo branch.

The demo branch is built once per run into a template SQLite file and copied for every test,
so each test starts from the same data and may change it freely. Background jobs run on a
synchronous pool so tests see their results without sleeping.
"""

from __future__ import annotations

import shutil
from datetime import date

import pytest
from sqlalchemy import select

from app.db import make_engine
from app.models import Base, User
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.people.auth import user_info
from app.views.context import AppContext

AS_OF = date(2026, 11, 20)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    # The embedded database of this test (platformdirs' data folder), never the machine's.
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    from app.services.demo import build_demo

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine = make_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with session_factory(engine)() as s, s.begin():
        build_demo(s, size="small", seed=7, as_of=AS_OF)
    engine.dispose()
    return path


@pytest.fixture
def demo_db(demo_template, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    engine = make_engine(f"sqlite:///{path}")
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def make_ctx(demo_db, qapp):
    from app.views.operations import BackgroundRunner, InlinePool

    def make(login: str = "senior") -> AppContext:
        with demo_db() as s:
            user = user_info(s.scalars(select(User).where(User.login == login)).one())
        return AppContext(
            Session=demo_db,
            user=user,
            runner=BackgroundRunner(qapp, pool=InlinePool()),
            db_label="sqlite:///demo.db",
            as_of=AS_OF,
            web_available=False,
        )

    return make


@pytest.fixture
def open_window(qtbot, make_ctx):
    """Open the main window, shown, as a demo user (senior, supervisor or analyst)."""
    from app.views.main_window import MainWindow

    def open_as(login: str = "senior") -> MainWindow:
        w = MainWindow(make_ctx(login))
        qtbot.addWidget(w)
        w.show()
        return w

    return open_as


@pytest.fixture
def window(open_window):
    """The main window, shown, as the senior supervisor."""
    return open_window("senior")
