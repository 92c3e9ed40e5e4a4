"""griddesk export meeting / detail / map: files written where asked, one-line errors.

The command line runs on a migrated SQLite file; the services underneath are tested on both
databases in test_exports_meeting.py and test_exports_detail.py."""

from __future__ import annotations

import csv
import re

import pytest
from export_demo import AS_OF, Demo
from openpyxl import load_workbook

from app.cli import main
from app.services.exports.meeting import SHEET_KEYS
from app.services.words import Texts


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The small demo in a migrated SQLite file (whatever backends the run tests)."""
    from app.db import make_engine, migrate
    from app.services.database.unit_of_work import sessionmaker as session_factory
    from app.services.demo import build_demo

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('cli') / 'demo.db'}")
    migrate(engine)
    Session = session_factory(engine)  # noqa: N806
    with Session() as s, s.begin():
        summary = build_demo(s, size="small", seed=7, as_of=AS_OF)
    yield Demo(Session, summary.branch_id, engine.url.render_as_string(hide_password=False))
    engine.dispose()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("GRIDDESK_SETTINGS_DIR", str(tmp_path / "settings"))
    monkeypatch.delenv("GRIDDESK_DB", raising=False)
    monkeypatch.delenv("GRIDDESK_USER", raising=False)
    monkeypatch.setenv("GRIDDESK_PASSWORD", "demo1234")  # the demo users' password


def _run(demo, *args):
    """Run an export, signed in as the senior supervisor unless the args name a user."""
    who = [] if "--user" in args else ["--user", "senior"]
    return main(["--db", demo.url, *who, "export", *args, "--as-of", AS_OF.isoformat()])


def test_meeting_workbook_from_the_command_line(demo, tmp_path, capsys):
    out = tmp_path / "meeting.xlsx"
    assert _run(demo, "meeting", "--period", "2026-Q2", "--lang", "en", "--out", str(out)) == 0
    assert f"written: {out}" in capsys.readouterr().out
    t = Texts("en")
    assert load_workbook(out).sheetnames == [t[k] for k in SHEET_KEYS]


def test_detail_as_csv_masks_unless_the_user_may_see(demo, tmp_path):
    phone = re.compile(r"(?<!\d)1\d{10}(?!\d)")
    for login, masked in (("analyst", True), ("supervisor", False)):
        out = tmp_path / f"{login}.csv"
        args = ["detail", "--table", "customers", "--user", login, "--out", str(out)]
        assert _run(demo, *args) == 0
        with open(out, encoding="utf-8-sig", newline="") as fh:
            phones = [r["手机号"] for r in csv.DictReader(fh)]
        assert phones
        assert any(phone.fullmatch(p) for p in phones) is not masked


def test_map_is_one_offline_html_file(demo, tmp_path):
    out = tmp_path / "map.html"
    assert _run(demo, "map", "--out", str(out)) == 0
    html = out.read_text(encoding="utf-8")
    assert "<html" in html.lower() and "L.map" in html
    assert "unpkg.com" not in html and "cdn.jsdelivr" not in html


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["meeting", "--period", "2026-Q9", "--out", "{tmp}/m.xlsx"], "is not a period"),
        (
            ["meeting", "--period", "2026-Q2", "--scope", "team:NOPE", "--out", "{tmp}/m.xlsx"],
            "no team with code 'NOPE'",
        ),
        (
            ["meeting", "--period", "2026-Q2", "--scope", "specialist:X9", "--out", "{tmp}/m.xlsx"],
            "no specialist",
        ),
        (
            ["meeting", "--period", "2026-Q2", "--scope", "city", "--out", "{tmp}/m.xlsx"],
            "is not a scope",
        ),
        (["meeting", "--period", "2026-Q2", "--out", "{tmp}/none/m.xlsx"], "does not exist"),
        (["meeting", "--period", "2026-Q2", "--out", "{tmp}/m.ods"], ".xlsx"),
        (
            [
                "meeting",
                "--period",
                "2026-Q2",
                "--user",
                "supervisor",
                "--scope",
                "branch",
                "--out",
                "{tmp}/m.xlsx",
            ],
            "only their own team",
        ),
        (
            ["meeting", "--period", "2026-Q2", "--user", "nobody", "--out", "{tmp}/m.xlsx"],
            "wrong user name or password",
        ),
        (["detail", "--out", "{tmp}/d.csv"], "one table"),
        (["map", "--out", "{tmp}/m.txt"], ".html"),
    ],
)
def test_errors_are_one_readable_line(demo, tmp_path, capsys, args, message):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert _run(demo, *args) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert err.startswith("griddesk export: ")
    assert [p.name for p in tmp_path.iterdir() if p.name != "settings"] == []


def test_an_unwritable_target_is_reported(demo, tmp_path, capsys):
    import os

    (tmp_path / "a_file").write_text("")
    (tmp_path / "folder.xlsx").mkdir()
    for out, message in (
        (tmp_path / "a_file" / "m.xlsx", "does not exist"),
        (tmp_path / "folder.xlsx", "is a folder"),
    ):
        assert _run(demo, "meeting", "--period", "2026-Q2", "--out", str(out)) == 1
        assert message in capsys.readouterr().err
    if os.geteuid() != 0:  # root writes into read-only folders
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert _run(demo, "meeting", "--period", "2026-Q2", "--out", str(locked / "m.xlsx")) == 1
        assert "cannot write" in capsys.readouterr().err
    assert list((tmp_path / "folder.xlsx").iterdir()) == []
