"""The models and services type-check (mypy, configured in pyproject.toml): the layer every
screen and command rests on keeps its declared types. The views and the command line are not
held to it yet."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_models_and_services_type_check(tmp_path):
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(
        ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(tmp_path / "cache")]
    )
    assert status == 0, out + err
