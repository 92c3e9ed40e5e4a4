"""Shared fixtures: every database test runs on SQLite and, when a server is given, PostgreSQL.

PostgreSQL is used when ``--pg URL`` or ``GRIDDESK_TEST_PG`` names a server (``.ci/run`` starts
one on loopback). Each test run creates its own database on that server and drops it at the end,
so several runs can share a server.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu --disable-background-networking")

from app.db import make_engine, migrate  # noqa: E402
from app.models import Base  # noqa: E402
from app.services.database.unit_of_work import sessionmaker as session_factory


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--pg",
        default=os.environ.get("GRIDDESK_TEST_PG"),
        help="URL of a PostgreSQL server to run the database tests on as well",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test marked ``pg_only`` runs on the PostgreSQL server alone: without one it is
    skipped, and a run per backend runs only its PostgreSQL instance."""
    no_server = pytest.mark.skip(reason="needs a PostgreSQL server (--pg or GRIDDESK_TEST_PG)")
    postgresql_only = pytest.mark.skip(reason="runs on the PostgreSQL server only")
    # With pytest-xdist (-n 2 --dist loadgroup), the window's tests run in one worker, in the
    # order they run serially: one QApplication per process and one Qt state between them.
    qt_group = pytest.mark.xdist_group("qt")
    for item in items:
        if "views" in item.path.parts:
            item.add_marker(qt_group)
        if item.get_closest_marker("pg_only") is None:
            continue
        backend = getattr(getattr(item, "callspec", None), "params", {}).get("backend")
        if not config.getoption("--pg"):
            item.add_marker(no_server)
        elif backend == "sqlite":
            item.add_marker(postgresql_only)


def _backends(config: pytest.Config) -> list[str]:
    return ["sqlite", "postgresql"] if config.getoption("--pg") else ["sqlite"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", _backends(metafunc.config), scope="session")


@pytest.fixture(scope="session")
def pg_server_url(request: pytest.FixtureRequest) -> Iterator[str | None]:
    """Yield the URL of a database made for this run on the PostgreSQL server, or None."""
    url = request.config.getoption("--pg")
    if not url:
        yield None
        return
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"griddesk_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _pg_engine(pg_server_url: str | None) -> Iterator[Engine | None]:
    if pg_server_url is None:
        yield None
        return
    engine = make_engine(pg_server_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def db_url(backend: str, tmp_path, pg_server_url: str | None) -> str:
    """The URL of an empty GridDesk database on the backend under test."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    assert pg_server_url is not None
    return pg_server_url


def _empty(engine: Engine) -> None:
    """Remove every row from the run's PostgreSQL database (ids start again at 1)."""
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def engine(backend: str, db_url: str, _pg_engine: Engine | None) -> Iterator[Engine]:
    """An engine on a database holding the current schema and no rows."""
    if backend == "sqlite":
        eng = make_engine(db_url)
        Base.metadata.create_all(eng)
        yield eng
        eng.dispose()
        return
    assert _pg_engine is not None
    yield _pg_engine
    _empty(_pg_engine)


@pytest.fixture(scope="session")
def module_database(
    backend: str, tmp_path_factory: pytest.TempPathFactory, _pg_engine: Engine | None
) -> Callable[..., AbstractContextManager[Engine]]:
    """For a module-scoped fixture that builds a larger database once (a demo branch):
    ``with module_database() as engine:`` gives an engine on an empty database of the backend
    under test (a SQLite file with the models' schema, or the migrations' with
    ``migrated=True``; or the run's PostgreSQL database, emptied again afterwards)."""

    @contextmanager
    def open_database(*, migrated: bool = False) -> Iterator[Engine]:
        if backend == "postgresql":
            assert _pg_engine is not None
            try:
                yield _pg_engine
            finally:
                _empty(_pg_engine)
            return
        eng = make_engine(f"sqlite:///{tmp_path_factory.mktemp('module') / 'module.db'}")
        if migrated:
            migrate(eng)
        else:
            Base.metadata.create_all(eng)
        try:
            yield eng
        finally:
            eng.dispose()

    return open_database


@pytest.fixture(scope="session")
def module_demo(
    module_database: Callable[..., AbstractContextManager[Engine]],
) -> Callable[..., AbstractContextManager[sessionmaker[OrmSession]]]:
    """``with module_demo(seed=5, as_of=day) as Session:`` a small demo branch built once in a
    module database (see module_database), and the session factory of that database."""

    @contextmanager
    def open_demo(
        *, seed: int, as_of, migrated: bool = False
    ) -> Iterator[sessionmaker[OrmSession]]:
        from app.services.demo import build_demo

        with module_database(migrated=migrated) as engine:
            Session = session_factory(engine)  # noqa: N806
            with Session() as s, s.begin():
                build_demo(s, size="small", seed=seed, as_of=as_of)
            yield Session

    return open_demo


@pytest.fixture
def Session(engine: Engine) -> sessionmaker[OrmSession]:  # noqa: N802 - reads like the class it makes
    return session_factory(engine)


@pytest.fixture
def session(Session: sessionmaker[OrmSession]) -> Iterator[OrmSession]:  # noqa: N803
    with Session() as s:
        yield s


# --- keyring ----------------------------------------------------------------------------------
# The keyring tests define their own ``settings_dir`` fixture (a settings folder of their own and
# the run's remembered passwords forgotten); ``vault`` and ``no_keyring`` stand on it.


class DictKeyring(KeyringBackend):
    """A keyring in a dict, so that no test reaches the user's own."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def vault(settings_dir) -> DictKeyring:
    """A keyring in memory, for this test only."""
    backend = DictKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring(settings_dir) -> None:
    """A headless box: keyring finds no backend and raises NoKeyringError."""
    keyring.set_keyring(fail.Keyring())


# --- logs -------------------------------------------------------------------------------------


@pytest.fixture
def log_file(tmp_path, monkeypatch) -> Iterator[Path]:
    """This test's log file, in a folder of its own; its handlers are closed afterwards."""
    from app.logs import LOG_NAME

    monkeypatch.setenv("GRIDDESK_LOG_DIR", str(tmp_path / "logs"))
    yield tmp_path / "logs" / LOG_NAME
    root = logging.getLogger()
    for handler in list(root.handlers):
        if str(getattr(handler, "baseFilename", "")).startswith(str(tmp_path)):
            root.removeHandler(handler)
            handler.close()
