"""Uncaught exceptions and Qt's own messages: logged, shown readably, noise kept off the terminal."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QtMsgType
from PySide6.QtWidgets import QApplication, QMessageBox

from app.logs import LOG_NAME, log_path, setup_logging
from app.views.crash_reports import install_uncaught_hooks, qt_message_handler, report_uncaught


@pytest.fixture(autouse=True)
def _log_in_tmp(log_file):
    setup_logging()


def _log_text(tmp_path: Path) -> str:
    return (tmp_path / "logs" / LOG_NAME).read_text(encoding="utf-8")


def _boom(message: str):
    try:
        raise ValueError(message)
    except ValueError:
        return sys.exc_info()


def test_report_uncaught_logs_the_traceback_and_points_to_the_log(tmp_path):
    text = report_uncaught(*_boom("the grid fell over; password=hunter2"))
    assert str(log_path()) in text and str(tmp_path / "logs") in text
    assert "the grid fell over" in text
    assert "Traceback" not in text and "hunter2" not in text
    logged = _log_text(tmp_path)
    assert "Traceback (most recent call last)" in logged
    assert "ValueError: the grid fell over; password=***" in logged
    assert "hunter2" not in logged


def test_qt_handler_drops_noise_into_the_log_and_passes_real_warnings(tmp_path, capsys):
    noise = "[0101/000000.000:ERROR:x.cc(1)] Sandboxing disabled by user."
    real = "QWidget::setLayout: Attempting to set QLayout on a widget that already has one"
    qt_message_handler(QtMsgType.QtWarningMsg, None, noise)
    qt_message_handler(QtMsgType.QtInfoMsg, None, "Failed to connect to org.freedesktop.DBus")
    assert capsys.readouterr().err == ""
    qt_message_handler(QtMsgType.QtWarningMsg, None, real)
    assert capsys.readouterr().err == real + "\n"
    logged = _log_text(tmp_path)
    assert f"DEBUG griddesk.qt: {noise}" in logged
    assert f"WARNING griddesk.qt: {real}" in logged


def test_uncaught_exception_in_a_thread_shows_a_box_on_the_gui_thread(qapp, qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    install_uncaught_hooks(qapp)

    def fail() -> None:
        raise ValueError("worker failed")

    worker = threading.Thread(target=fail)
    worker.start()
    worker.join()

    def box() -> QMessageBox | None:
        found = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox)]
        return next((w for w in found if "worker failed" in w.text()), None)

    qtbot.waitUntil(lambda: box() is not None, timeout=2000)
    shown = box()
    assert shown is not None and str(log_path()) in shown.text()
    shown.close()
