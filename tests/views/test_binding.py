"""The Qt binding the app runs on keeps Python's None alive.

PySide6 6.12.0 on Python 3.11 dropped a reference to None on every call of a Qt method that
returns nothing (setWindowTitle, processEvents, ...): after some tens of thousands of calls
Python aborted with "none_dealloc: deallocating None", i.e. the app died in the middle of a
working day. pyproject.toml keeps PySide6 below 6.12; this test fails on a binding with the
bug, long before a real session would crash.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QWidget


def test_void_qt_calls_do_not_drop_references_to_none(qapp):
    widget = QWidget()
    before = sys.getrefcount(None)
    for _ in range(300):
        widget.setWindowTitle("GridDesk")
        qapp.processEvents()
    lost = before - sys.getrefcount(None)
    assert lost < 50, f"{lost} references to None lost in 600 Qt calls"
