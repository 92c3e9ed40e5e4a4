"""The small demo branch, built once per backend for a test module of the exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import User
from app.services.database.unit_of_work import sessionmaker as session_factory
from app.services.people.auth import UserInfo, user_info

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
def demo(module_database) -> Iterator[Demo]:
    from app.services.demo import build_demo

    with module_database(migrated=True) as engine:  # as the command line expects it
        Session = session_factory(engine)  # noqa: N806
        with Session() as s, s.begin():
            summary = build_demo(s, size="small", seed=7, as_of=AS_OF)
        yield Demo(Session, summary.branch_id, engine.url.render_as_string(hide_password=False))
