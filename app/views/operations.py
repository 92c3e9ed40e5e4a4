"""The one helper every slow piece of work goes through.

A job is a plain function ``fn(state) -> result`` run on a thread pool. It touches no widget and
opens its own database session; the result (plain data) or the error arrives on the GUI thread.
A progress dialog with Cancel appears only if the job is still running after half a second.
Starting a job under a key that is still running cancels the older one and drops its result.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from app.services.messages import Message
from app.services.progress import Cancelled
from app.views.errors import message_text

PROGRESS_DELAY_MS = 500


class _Signals(QObject):
    progressed = Signal(float, object)  # the fraction, and the step (a Message) or None
    succeeded = Signal(object)
    failed = Signal(object)


class JobState:
    """Thread-safe progress and cancellation handle given to a running job."""

    def __init__(self, signals: _Signals) -> None:
        self._signals = signals
        self._cancel = threading.Event()
        self._last = -1

    def report(self, fraction: float, step: Message | None = None) -> None:
        mille = int(max(0.0, min(1.0, fraction)) * 1000)
        if mille != self._last or step is not None:  # signals are not free: on change only
            self._last = mille
            self._signals.progressed.emit(fraction, step)

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[JobState], Any], state: JobState, signals: _Signals) -> None:
        super().__init__()
        self._fn, self._state, self._signals = fn, state, signals
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            result = self._fn(self._state)
        except BaseException as exc:  # delivered to the GUI thread, shown as a message
            self._signals.failed.emit(exc)
        else:
            self._signals.succeeded.emit(result)


class Job(QObject):
    """One started job; emits ``finished`` when it has delivered its result or error."""

    finished = Signal()

    def __init__(self, parent: QObject, key: str) -> None:
        super().__init__(parent)
        self.key = key
        self.signals = _Signals(self)
        self.state = JobState(self.signals)
        self.done = False
        self.dialog: QProgressDialog | None = None

    def cancel(self) -> None:
        self.state.cancel()


class InlinePool:
    """A thread pool stand-in that runs each job at once on the calling thread (tests)."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()


class BackgroundRunner(QObject):
    """Starts jobs on a thread pool and delivers their outcome on the GUI thread."""

    def __init__(
        self, parent: QObject | None = None, *, pool: QThreadPool | InlinePool | None = None
    ):
        super().__init__(parent)
        self._pool = pool or QThreadPool.globalInstance()
        self._running: dict[str, Job] = {}

    def start(
        self,
        key: str,
        fn: Callable[[JobState], Any],
        *,
        on_done: Callable[[Any], object],
        on_error: Callable[[BaseException], object],
        progress_parent: QWidget | None = None,
        progress_title: str = "",
        on_progress: Callable[[float, Message | None], None] | None = None,
    ) -> Job:
        """Run ``fn`` in the background; call ``on_done(result)`` or ``on_error(exc)`` later.

        What the callbacks return is ignored (so ``on_error`` may be ``lambda e: show_error(...)``,
        which returns the message box)."""
        old = self._running.get(key)
        if old is not None:
            old.cancel()
        job = Job(self, key)
        self._running[key] = job

        def current() -> bool:
            return self._running.get(key) is job

        def finish() -> None:
            job.done = True
            if job.dialog is not None:
                job.dialog.reset()
                job.dialog.deleteLater()
                job.dialog = None
            if current():
                del self._running[key]
            job.finished.emit()
            job.deleteLater()

        def succeeded(result: Any) -> None:
            stale = not current()
            finish()
            if not stale:
                on_done(result)

        def failed(exc: BaseException) -> None:
            stale = not current()
            finish()
            if not stale and not isinstance(exc, Cancelled):
                on_error(exc)

        def progressed(fraction: float, step: Message | None) -> None:
            if on_progress is not None:
                on_progress(fraction, step)
            dialog = job.dialog
            if dialog is None:
                return
            if step is not None:
                dialog.setLabelText(message_text(step))
            # Last: once shown, a modal dialog runs the event loop when its bar moves, which may
            # deliver the result and close the dialog (it is deleted later, not now).
            dialog.setValue(int(fraction * 1000))

        job.signals.succeeded.connect(succeeded, Qt.ConnectionType.QueuedConnection)
        job.signals.failed.connect(failed, Qt.ConnectionType.QueuedConnection)
        job.signals.progressed.connect(progressed, Qt.ConnectionType.QueuedConnection)

        if progress_parent is not None:

            def show_dialog() -> None:
                if job.done or job.dialog is not None:
                    return
                dlg = QProgressDialog(progress_parent)
                dlg.setWindowTitle(progress_title)
                dlg.setLabelText(progress_title)
                dlg.setRange(0, 1000)
                dlg.setMinimumDuration(0)
                dlg.setWindowModality(Qt.WindowModality.WindowModal)
                dlg.canceled.connect(job.cancel)
                job.dialog = dlg
                dlg.show()

            QTimer.singleShot(PROGRESS_DELAY_MS, job, show_dialog)

        self._pool.start(_Runnable(fn, job.state, job.signals))
        return job

    def running(self, key: str) -> bool:
        return key in self._running

    def cancel_all(self) -> None:
        for job in list(self._running.values()):
            job.cancel()


def warm_imports(modules: list[str]) -> threading.Thread:
    """Import ``modules`` in a daemon thread, so the page that needs them opens at once.

    Pages import matplotlib (~0.5 s) and folium lazily to show the window sooner; once the
    window is up this loads them while the user looks at the first page. An import that fails
    is left for the page to report when it is opened."""

    def run() -> None:
        import importlib

        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001, S112 - the page reports it when opened
                continue

    thread = threading.Thread(target=run, name="warm-imports", daemon=True)
    thread.start()
    return thread
