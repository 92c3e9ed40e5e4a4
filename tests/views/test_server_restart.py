"""The shared PostgreSQL server stops and starts again while the window is open.

The test runs a server of its own (``.ci/pg.sh``), never the run's shared one, with the small
demo branch on it. While the server is down, a refresh and a reassignment each tell the user in
words that the database cannot be reached; a reassignment whose server goes away as it commits
leaves nothing behind; once the server is back, the same window reads and writes again without
a restart.
"""

from __future__ import annotations

import glob
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from conftest import AS_OF
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import create_engine, event, func, select, text

from app.db import make_engine, migrate
from app.models import AssignmentEvent, Task, User
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.errors import REASONS
from app.services.people.auth import user_info
from app.views.context import AppContext
from app.views.main_window import MainWindow

PG_SH = Path(__file__).resolve().parents[2] / ".ci" / "pg.sh"
# What the user must not be shown: Python's, SQLAlchemy's or the driver's words.
TECHNICAL = ("Traceback", "sqlalche.me", "[SQL:", "psycopg", "OperationalError",
             "connection failed", "Connection refused", "administrator command")  # fmt: skip


def _has_postgresql() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb") or shutil.which("initdb"))


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _has_postgresql(), reason="no PostgreSQL server installed"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A PostgreSQL server of this module's own, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()

    def _pg(self, *args: str) -> str:
        done = subprocess.run(
            ["bash", str(PG_SH), *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"pg.sh {args[0]}: {done.stderr}"
        return done.stdout.strip()

    def start(self) -> str:
        return self._pg("start", str(self.folder), str(self.port))

    def halt(self) -> None:
        self._pg("halt", str(self.folder))

    def resume(self) -> None:
        self._pg("resume", str(self.folder), str(self.port))

    def remove(self) -> None:
        self._pg("stop", str(self.folder))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The server, with a database holding the small demo branch; yields (server, its URL)."""
    from app.services.demo import build_demo

    # A folder of its own straight under the temporary folder: the server runs as 'postgres'
    # when the tests run as root, and may not enter pytest's private folders.
    srv = Server(Path(tempfile.mkdtemp(prefix="griddesk-pg-")))
    admin_url = srv.start()
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text('CREATE DATABASE "griddesk"'))
        admin.dispose()
        url = admin_url.rsplit("/", 1)[0] + "/griddesk"
        engine = make_engine(url)
        migrate(engine)
        with session_factory(engine)() as s, s.begin():
            build_demo(s, size="small", seed=7, as_of=AS_OF)
        engine.dispose()
        yield srv, url
    finally:
        srv.remove()


@pytest.fixture
def window(server, qtbot, qapp):
    from app.views.operations import BackgroundRunner, InlinePool

    _srv, url = server
    engine = make_engine(url)  # as the app makes it: pool_pre_ping on
    Session = session_factory(engine)  # noqa: N806
    with Session() as s:
        user = user_info(s.scalars(select(User).where(User.login == "senior")).one())
    ctx = AppContext(
        Session=Session,
        user=user,
        runner=BackgroundRunner(qapp, pool=InlinePool()),
        db_label=url,
        as_of=AS_OF,
        web_available=False,
    )
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    yield w
    engine.dispose()


def _warning(qtbot, w: MainWindow, title: str) -> str:
    """Wait for the warning box ``title`` over the window; close it and return its text."""

    def shown():
        return [
            b for b in w.findChildren(QMessageBox) if b.isVisible() and b.windowTitle() == title
        ]

    qtbot.waitUntil(lambda: bool(shown()), timeout=20000)
    (box,) = shown()
    assert box.icon() == QMessageBox.Icon.Warning
    words = box.text()
    box.done(0)
    return words


def _unreachable_in_words(words: str) -> None:
    assert words == REASONS["unreachable"], words
    assert not any(t in words for t in TECHNICAL), words


def _held(engine_or_session, task_id: int):
    with engine_or_session() as s:
        holder = s.scalar(select(Task.specialist_id).where(Task.id == task_id))
        events = s.scalar(
            select(func.count())
            .select_from(AssignmentEvent)
            .where(AssignmentEvent.task_id == task_id)
        )
        return holder, events


@pytest.mark.slow
def test_the_window_says_the_server_is_gone_writes_nothing_half_and_carries_on(
    server, window, qtbot
):
    srv, _url = server
    w = window
    page = w.show_page("tasks")
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=20000)
    # The count comes after the rows (the queue is read a page at a time).
    qtbot.waitUntil(lambda: page.count.text().endswith(" tasks"), timeout=20000)
    shown, counted = page.model.rowCount(), page.count.text()
    first = page.model.row_at(0)
    target = next(
        s for s in page._specialists if s.status.value == "active" and s.id != first.specialist_id
    )
    before = _held(w.ctx.Session, first.id)
    assert before[0] == first.specialist_id

    srv.halt()
    try:
        # A read: the page refreshes and says why it cannot.
        page.reload()
        _unreachable_in_words(_warning(qtbot, w, "Tasks"))
        # A write: refused the same way.
        page.reassign([first], target.id)
        _unreachable_in_words(_warning(qtbot, w, "Tasks"))
        assert w.isVisible()
    finally:
        srv.resume()

    # Back: the same window reads again, with no restart and no message.
    page.reload()
    qtbot.waitUntil(lambda: page.count.text() == counted, timeout=20000)
    assert page.model.rowCount() == shown
    assert _held(w.ctx.Session, first.id) == before

    # The server goes away just as a reassignment commits: nothing of it is kept.
    def server_goes(_session):
        srv.halt()

    event.listen(w.ctx.Session, "before_commit", server_goes, once=True)
    try:
        page.reassign([first], target.id)
        _unreachable_in_words(_warning(qtbot, w, "Tasks"))
    finally:
        srv.resume()
    assert _held(w.ctx.Session, first.id) == before

    # And the same reassignment goes through now.
    with qtbot.waitSignal(w.data_changed, timeout=20000):
        page.reassign([first], target.id)
    assert _held(w.ctx.Session, first.id) == (target.id, before[1] + 1)
