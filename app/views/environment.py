"""The environment the desktop app starts in: what QtWebEngine needs set before Qt starts,
and whether the embedded browser is there at all."""

from __future__ import annotations

import os


def prepare_environment() -> None:
    """Set what QtWebEngine reads from the environment, before the QApplication exists."""
    # Chromium's sandbox cannot run as root (containers, CI); it stays on for normal users.
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
    # No network is assumed: keep the embedded browser from phoning home. Chromium's own
    # start-up chatter (its subprocesses write to the terminal, past Qt) is kept to fatal lines.
    os.environ.setdefault(
        "QTWEBENGINE_CHROMIUM_FLAGS",
        "--disable-background-networking --disable-component-update --log-level=3",
    )


def webengine_available() -> bool:
    """Import QtWebEngine before the QApplication exists (Qt requires it); False if it cannot."""
    try:
        import PySide6.QtWebEngineWidgets  # noqa: F401
    except ImportError:
        return False
    return True
