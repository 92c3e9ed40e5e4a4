"""How a person's database login is named, without a server: the pure part of the database
roles (the rest, in test_db_roles.py, runs on the PostgreSQL server)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from app.services.database.roles import (
    DatabaseRoleError,
    login_role,
    per_user_url,
    signs_in_per_user,
)

PASSWORD = "P@ss:w0rd%/#?"  # every character a URL or a config file could trip on


def test_a_url_without_a_user_signs_each_person_in_as_their_own_role():
    assert signs_in_per_user("postgresql+psycopg://db.branch.local/griddesk")
    assert not signs_in_per_user("postgresql+psycopg://gd@db.branch.local/griddesk")
    assert not signs_in_per_user("sqlite:///griddesk.db")
    url = per_user_url("postgresql+psycopg://db.branch.local/griddesk", "王芳", PASSWORD)
    parsed = make_url(url)
    assert (parsed.username, parsed.password) == ("griddesk.王芳", PASSWORD)
    with pytest.raises(DatabaseRoleError, match="too long"):
        login_role("王" * 20, "griddesk")
    with pytest.raises(DatabaseRoleError, match="cannot be a database role"):
        login_role("a:supervisor", "griddesk")
