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


def test_every_bundled_licence_and_the_cjk_font_are_there():
    """What the packaged app's self-check proves of Help ▸ About and the charts' font."""
    from app.views.selfcheck import check_licences

    found = check_licences()
    assert {"Leaflet", "Noto Sans CJK SC", "Qt / PySide6"} <= set(found)
    assert all(n > 500 for n in found.values())


def test_the_spec_bundles_every_resource_folder_the_app_reads():
    """Each folder app/paths.py names under resources/ travels into the installer."""
    from app import paths

    spec = (ROOT / "packaging" / "griddesk.spec").read_text(encoding="utf-8")
    folders = [
        v.name for v in vars(paths).values() if isinstance(v, Path) and v.parent == paths.RESOURCES
    ]
    assert folders and all(f'"resources/{name}"' in spec for name in folders), folders


def test_constraints_pin_every_dependency_ci_installs():
    """constraints.txt pins, to one version, every package pyproject.toml asks for (and the
    test tools, and PyInstaller, which .ci/package.sh builds with), so a fresh machine installs
    what CI tested; the README's commands use it."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    wanted = project["dependencies"] + extras["test"] + extras["package"]
    names = {re.split(r"[\[<>=;! ]", d, maxsplit=1)[0].lower().replace("_", "-") for d in wanted}
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"constraints.txt: {line!r} is not pinned to one version"
            pins[name.lower().replace("_", "-")] = version
    assert names - set(pins) == set()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.count("pip install -c constraints.txt -e") == 2
