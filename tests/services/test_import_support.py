"""Helpers the importer tests share: exchange files written as the core systems write them
(CSV in any encoding, XLSX through openpyxl, GeoJSON), row counts, and a branch whose teams,
grids, specialists, agents, customers and policies were imported from files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.models import (
    AssignmentEvent,
    Branch,
    Customer,
    DepartedAgent,
    Grid,
    PersistencyBase,
    Policy,
    PremiumDue,
    Specialist,
    Task,
    Team,
)
from app.services.importer import ImportFailed, import_file

ID_OK = "11010519491231002X"  # the example of GB 11643 itself
ID_OK_2 = "510107199001012013"  # check digit worked out by hand: 174 mod 11 = 9 -> '3'
TABLES = (Branch, Team, Grid, Specialist, DepartedAgent, Customer, Policy, PremiumDue, Task,
          AssignmentEvent, PersistencyBase)  # fmt: skip


def write_table(
    path: Path,
    header: list,
    rows: list[list],
    *,
    encoding: str = "utf-8",
    delimiter: str = ",",
    sheet: str | None = None,
    extra_sheets: tuple[str, ...] = (),
) -> Path:
    """Write a CSV (in ``encoding``) or, for a .xlsx path, a workbook whose cells keep their
    Python types (numbers, dates) the way Excel stores them."""
    if path.suffix == ".xlsx":
        wb = Workbook()
        first = wb.active
        for name in extra_sheets:  # sheets before the data, as a real workbook may have
            wb.create_sheet(name, 0).append(["说明", "这一页不是数据"])
        ws = first
        ws.title = sheet or "Sheet1"
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(path)
        return path
    buf = io.StringIO(newline="")
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(["" if c is None else c for c in r] for r in rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def square(lon: float, lat: float, size: float = 0.01) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


def write_geojson(path: Path, features: list[tuple[dict, dict]]) -> Path:
    """Write a FeatureCollection of (properties, geometry)."""
    doc = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": p, "geometry": g} for p, g in features],
    }
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def counts(session) -> dict:
    return {m.__name__: count(session, m) for m in TABLES}


def make_branch(session, tmp_path: Path) -> Path:
    """Make a branch imported from files: team T1, grids G1 and G2, specialist E1 owning G1, agent A1,
    customer C1 and annual policy P1 (1,200 yuan, issued 2023-03-01). Returns the folder."""
    d = tmp_path
    import_file(session, "teams", write_table(d / "teams.csv", ["team_code", "team_name"], [["T1", "一队"]]))  # fmt: skip
    import_file(
        session,
        "grids",
        write_geojson(
            d / "grids.geojson",
            [({"code": "G1", "name": "春熙路网格", "communities": "春熙路、红星路"}, square(104.0, 30.6)),
             ({"code": "G2", "name": "玉林网格"}, square(104.05, 30.6))],
        ),
    )  # fmt: skip
    import_file(
        session,
        "specialists",
        write_table(
            d / "specialists.csv",
            ["employee_no", "name", "team_code", "grids"],
            [["E1", "王芳", "T1", "G1"]],
        ),  # fmt: skip
    )
    import_file(session, "agents", write_table(d / "agents.csv", ["agent_code", "name", "left_on"], [["A1", "张代理", "2024-01-31"]]))  # fmt: skip
    import_file(
        session,
        "customers",
        write_table(d / "customers.csv", ["customer_no", "name", "phone", "id_number", "address", "agent_code"],
                    [["C1", "李四", "13812345678", ID_OK, "成都市锦江区春熙路1号", "A1"]]),
    )  # fmt: skip
    import_file(
        session,
        "policies",
        write_table(d / "policies.csv", ["policy_no", "customer_no", "issue_date", "payment_mode", "modal_premium", "status"],
                    [["P1", "C1", "2023-03-01", "annual", "1200.00", "in_force"]]),
    )  # fmt: skip
    session.commit()
    return d


def rejects(session, kind, path, *expected, branch_id=None) -> ImportFailed:
    """Import ``path``, expect exactly ``expected`` (row, column, words in the message) and
    nothing written."""
    before = counts(session)
    with pytest.raises(ImportFailed) as err:
        import_file(session, kind, path, branch_id=branch_id)
    session.commit()
    assert counts(session) == before, "nothing may be written"
    problems = err.value.problems
    assert [(p.row, p.column) for p in problems] == [(r, c) for r, c, _ in expected], problems
    for p, (_r, _c, words) in zip(problems, expected, strict=True):
        assert p.file == path.name
        assert words in str(p.message), p.message
    return err.value
