"""The small demo branch, built once per backend for a test module of the exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import make_engine, make_sessionmaker, migrate
from app.models import Base, User
from app.services.auth import UserInfo, user_info

AS_OF = date(2026, 11, 20)


@dataclass
class Demo:
    Session: sessionmaker[Session]
    branch_id: int
    url: str  # for the command line's --db

    def user(self, login: str) -> UserInfo:
        with self.Session() as s:
            return user_info(s.scalars(select(User).where(User.login == login)).one())


@pytest.fixture(scope="module")
def demo(backend: str, tmp_path_factory, _pg_engine: Engine | None) -> Iterator[Demo]:
    from app.services.demo import build_demo

    if backend == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
        migrate(engine)  # as the command line expects it
    else:
        assert _pg_engine is not None
        engine = _pg_engine
    Session = make_sessionmaker(engine)  # noqa: N806
    with Session() as s, s.begin():
        summary = build_demo(s, size="small", seed=7, as_of=AS_OF)
    yield Demo(Session, summary.branch_id, engine.url.render_as_string(hide_password=False))
    if backend == "sqlite":
        engine.dispose()
    else:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
