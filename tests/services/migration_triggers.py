"""What the trigger tests share: a migration file loaded as it is (a migration carries its own
copy of the trigger text), and the triggers a SQLite file made from the models and one made by
the migrations hold."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from sqlalchemy import text

import app
from app.db import make_engine, migrate
from app.models import Base


def load_migration(file_name: str) -> ModuleType:
    """Return the migration ``file_name`` of app/migrations/versions, loaded as a module."""
    path = Path(app.__file__).parent / "migrations" / "versions" / file_name
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sqlite_triggers(tmp_path: Path, prefix: str) -> tuple[list, list]:
    """Return the (name, sql) of the triggers named ``prefix``... in a file made from the models
    and in one made by the migrations."""
    made = make_engine(f"sqlite:///{tmp_path / 'made.db'}")
    Base.metadata.create_all(made)
    migrated = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrate(migrated)
    sql = text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :p ORDER BY name"
    )
    try:
        with made.connect() as a, migrated.connect() as b:
            return list(a.execute(sql, {"p": prefix + "%"})), list(
                b.execute(sql, {"p": prefix + "%"})
            )
    finally:
        made.dispose()
        migrated.dispose()
