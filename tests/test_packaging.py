"""The packaging's promises that need no build: README names the system packages CI installs,
the self-check stays out of the help, and the spec's version is pyproject's."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from app import __version__
from app.cli import build_parser
from app.cli.selfcheck import read_workbook

ROOT = Path(__file__).resolve().parent.parent
ONLY_FOR_CI = {"xvfb", "libreoffice-calc-nogui"}


def test_readme_names_every_system_package_ci_installs():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    listed = re.search(r"pkgs=\((.*?)\)", ci, re.S)
    assert listed is not None
    ci_packages = set(listed.group(1).split()) - ONLY_FOR_CI
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    install = re.search(r"sudo apt-get install (.*?)\n```", readme, re.S)
    assert install is not None
    assert ci_packages == set(install.group(1).replace("\\", " ").split())


def test_version_is_pyproject_s():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == __version__


def test_selfcheck_is_a_command_but_not_in_the_help():
    parser, handlers = build_parser()
    assert "selfcheck" in handlers
    assert "selfcheck" not in parser.format_help()


def test_selfcheck_refuses_a_nearly_empty_workbook(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "only"
    wb.save(tmp_path / "thin.xlsx")
    with pytest.raises(RuntimeError, match="nearly empty"):
        read_workbook(tmp_path / "thin.xlsx")


def test_both_user_guides_show_only_pictures_that_are_there():
    """What the packaged app's self-check proves of its bundled guide, here on the source tree."""
    from app.views.selfcheck import check_guide

    found = check_guide()
    assert set(found) == {"user-guide.md", "user-guide.zh_CN.md"}
    assert all(n > 5 for n in found.values())
