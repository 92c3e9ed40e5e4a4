"""What the desktop app does with problems nobody caught and with Qt's own messages: the log
gets the details (app.logs), the user a message box in their language, never a traceback."""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from app.logs import log, log_path, logging_to_file, mask_secrets

# Qt and QtWebEngine lines that every start prints and that mean nothing to the user: they go
# to the log at DEBUG, not to the terminal. Matched case-insensitively anywhere in the line.
QT_NOISE = (
    "Sandboxing disabled by user",
    "Failed to load vulkan",
    "org.freedesktop",
    "GPU",
    "dbus",
    "D-Bus",
)


def report_uncaught(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
) -> str:
    """Log an exception nobody caught, with its traceback; return what to tell the user (the
    message and where the log file is, never a traceback or a password)."""
    from app.views.errors import error_text
    from app.views.i18n import translate

    if exc is None:  # a thread's hook may get the type alone
        log.critical("uncaught %s", exc_type.__name__)
        message = exc_type.__name__
    else:
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        message = error_text(exc)
    text = translate("errors", "GridDesk met an unexpected problem:") + "\n" + mask_secrets(message)
    if logging_to_file():
        text += (
            "\n\n"
            + translate("errors", "The details are in the log file:")
            + "\n"
            + str(log_path())
        )
    return text


def install_uncaught_hooks(app) -> None:
    """Route uncaught exceptions of every thread to report_uncaught and show its text in a
    message box on the GUI thread (of ``app``, the QApplication)."""
    import threading

    from PySide6.QtCore import QObject, Qt, Signal
    from PySide6.QtWidgets import QApplication, QMessageBox

    class Bridge(QObject):
        # Emitted from any thread; delivered on the GUI thread, where boxes may be shown.
        reported = Signal(str)

    bridge = Bridge(app)
    open_boxes: list[QMessageBox] = []  # a box without a parent lives as long as it is listed

    def show(text: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Critical,
            "GridDesk",
            text,
            QMessageBox.StandardButton.Ok,
            QApplication.activeWindow(),
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: open_boxes.remove(box))
        open_boxes.append(box)
        box.open()  # never a nested event loop: the app goes on

    bridge.reported.connect(show)

    def hook(
        exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc or exc_type(), tb)
            return
        text = report_uncaught(exc_type, exc, tb)
        if QApplication.instance() is None:  # the app has gone: no box can be shown
            print(text, file=sys.stderr)
            return
        bridge.reported.emit(text)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if not issubclass(args.exc_type, SystemExit):
            hook(args.exc_type, args.exc_value, args.exc_traceback)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def qt_message_handler(mode, context, message: str) -> None:
    """Qt's messages: known start-up noise to the log at DEBUG only, the rest to the log and to
    stderr as Qt would print them."""
    qt = logging.getLogger("griddesk.qt")
    lowered = message.lower()
    if any(noise.lower() in lowered for noise in QT_NOISE):
        qt.debug("%s", message)
        return
    qt.log(_QT_LEVELS.get(getattr(mode, "name", ""), logging.WARNING), "%s", message)
    print(message, file=sys.stderr, flush=True)


_QT_LEVELS = {
    "QtDebugMsg": logging.DEBUG,
    "QtInfoMsg": logging.INFO,
    "QtWarningMsg": logging.WARNING,
    "QtCriticalMsg": logging.ERROR,
    "QtFatalMsg": logging.CRITICAL,
}


def install_qt_message_handler() -> None:
    """Let qt_message_handler receive every message of Qt."""
    from PySide6.QtCore import qInstallMessageHandler

    qInstallMessageHandler(qt_message_handler)
