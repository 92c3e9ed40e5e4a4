"""The whole app type-checks (mypy, configured in pyproject.toml): the models and services,
the views, the command line, the entry point and the migrations keep their declared types."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_app_type_checks(tmp_path):
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache")]
    )
    assert status == 0, out + err
