"""Typed settings over QSettings: user preferences apart from window state.

Preferences live under "prefs/", window geometry, splitters and header layouts under "window/",
so "reset layout" never loses a preference. The file is an INI in the user's config folder, so
the command line and the app read the same database URL.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

from app import credentials
from app.services.rebalance.disruption import MoveCosts
from app.services.rebalance.workload import Weights

ORG = "GridDesk"
APP = "GridDesk"
# Tests and scripts point this at a temporary folder so they never touch the user's settings.
SETTINGS_DIR_ENV = "GRIDDESK_SETTINGS_DIR"


def _qsettings() -> QSettings:
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        return QSettings(os.path.join(folder, "griddesk.ini"), QSettings.Format.IniFormat)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORG, APP)


class Preferences:
    """The user's choices, each a typed property with its default."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._s = store or _qsettings()

    def _get(self, key: str, default, kind):
        value = self._s.value(f"prefs/{key}", default)
        try:
            if kind is bool and isinstance(value, str):
                return value.lower() in ("1", "true", "yes")
            return kind(value)
        except (TypeError, ValueError):
            return default

    def _set(self, key: str, value) -> None:
        self._s.setValue(f"prefs/{key}", value)
        self._s.sync()

    @property
    def database_url(self) -> str:
        """The shared database URL without its password ('' for the local file); the password
        is in the keyring (app.credentials). A file written before that is cleaned here."""
        stored = self._get("database_url", "", str)
        bare, password = credentials.split_password(stored)
        if password is not None:
            credentials.save_password(bare, password)
            self._set("database_url", bare)
        return bare

    @database_url.setter
    def database_url(self, value: str) -> None:
        """Save the URL without its password; a password in it goes to the keyring, or, where
        there is none, is kept for this run only. It never reaches the settings file."""
        bare, password = credentials.split_password(value)
        if password is not None:
            credentials.save_password(bare, password)
        self._set("database_url", bare)

    @property
    def language(self) -> str:
        """'zh_CN', 'en' or '' for the system language."""
        return self._get("language", "", str)

    @language.setter
    def language(self, value: str) -> None:
        self._set("language", value)

    @property
    def last_login(self) -> str:
        return self._get("last_login", "", str)

    @last_login.setter
    def last_login(self, value: str) -> None:
        self._set("last_login", value)

    @property
    def workload_weights(self) -> Weights:
        """What a customer, an open task and 10,000 yuan of premium due count in a workload."""
        d = Weights()
        return Weights(
            customer=self._get("weight_customer", d.customer, float),
            open_task=self._get("weight_open_task", d.open_task, float),
            premium_per_10k_yuan=self._get("weight_premium_10k", d.premium_per_10k_yuan, float),
        )

    @workload_weights.setter
    def workload_weights(self, value: Weights) -> None:
        self._s.setValue("prefs/weight_customer", value.customer)
        self._s.setValue("prefs/weight_open_task", value.open_task)
        self._set("weight_premium_10k", value.premium_per_10k_yuan)

    @property
    def move_costs(self) -> MoveCosts:
        """What moving one customer costs by 4-sell step, and the factor for a recent move."""
        text = self._get("move_costs", "", str)
        try:
            return MoveCosts.parse(text) if text else MoveCosts()
        except ValueError:
            return MoveCosts()

    @move_costs.setter
    def move_costs(self, value: MoveCosts) -> None:
        self._set("move_costs", value.text())

    @property
    def map_tiles(self) -> bool:
        """Draw online map tiles under the grids (off: plain background, works offline)."""
        return self._get("map_tiles", False, bool)

    @map_tiles.setter
    def map_tiles(self, value: bool) -> None:
        self._set("map_tiles", value)


class WindowState:
    """Geometry, splitter positions and header layouts, saved as opaque byte arrays."""

    def __init__(self, store: QSettings | None = None) -> None:
        self._s = store or _qsettings()

    def save(self, key: str, state: QByteArray) -> None:
        self._s.setValue(f"window/{key}", state)

    def restore(self, key: str) -> QByteArray | None:
        value = self._s.value(f"window/{key}")
        return value if isinstance(value, QByteArray) and not value.isEmpty() else None

    def reset(self) -> None:
        self._s.remove("window")
        self._s.sync()
