"""A specialists extract that still lists a leaver as active (HR extracts lag) does not undo a
leaving GridDesk recorded with its hand-over, and the result says so."""

from __future__ import annotations

from datetime import date

from factories import Factory
from sqlalchemy import select

from app.models import Specialist
from app.models.enums import SpecialistStatus
from app.services.importer import import_file


def test_a_recorded_leaving_survives_an_extract_that_says_active(session, tmp_path):
    f = Factory(session)
    team = f.default_team
    gone = f.specialist(employee_no="E1", name="张丽欣")
    gone.status, gone.left_on = SpecialistStatus.LEFT, date(2026, 12, 7)
    away = f.specialist(employee_no="E2", name="胡磊帅")
    away.status = SpecialistStatus.LEAVE
    heir = f.specialist(employee_no="E3", name="程洋")
    grid = f.grid(code="QY001", owner=heir)  # handed over to 程洋 when 张丽欣 left
    session.commit()
    path = tmp_path / "specialists.csv"
    path.write_text(
        f"工号,姓名,团队代码,状态\nE1,张丽欣,{team.code},在职\nE2,胡磊帅,{team.code},在职\n",
        encoding="utf-8",
    )
    result = import_file(session, "specialists", path, branch_id=f.default_branch.id)
    session.commit()
    statuses = dict(session.execute(select(Specialist.employee_no, Specialist.status)).all())
    assert statuses == {
        "E1": SpecialistStatus.LEFT,
        "E2": SpecialistStatus.ACTIVE,
        "E3": SpecialistStatus.ACTIVE,
    }
    session.refresh(grid)
    assert grid.owner_id == heir.id  # the leaver's old grid stays with whoever took it over
    assert any(
        "E1 张丽欣" in n and "2026-12-07" in n and "kept as left" in n for n in result.notices
    )
    assert any("E2 胡磊帅" in n and "back from leave" in n for n in result.notices)
