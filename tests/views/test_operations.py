"""The background-operation helper: results and errors arrive on the GUI thread, a newer job
under the same key replaces an older one, and cancelling stops a job."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from app.services.messages import Message
from app.services.progress import Cancelled, check
from app.views.operations import BackgroundRunner


@pytest.fixture
def runner(qapp):
    r = BackgroundRunner(qapp)
    yield r
    r.cancel_all()


def test_result_arrives_on_the_gui_thread(runner, qtbot):
    seen = {}

    def job(state):
        seen["worker"] = QThread.currentThread()
        return 6 * 7

    def done(result):
        seen["result"] = result
        seen["thread"] = QThread.currentThread()

    handle = runner.start("k", job, on_done=done, on_error=pytest.fail)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert seen["result"] == 42
    assert seen["thread"] is QApplication.instance().thread()
    assert seen["worker"] is not seen["thread"]


def test_error_is_delivered_not_raised(runner, qtbot):
    errors = []

    def job(state):
        raise ValueError("file dues.csv, row 7, column amount_due: negative amount")

    handle = runner.start("k", job, on_done=pytest.fail, on_error=errors.append)
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert [str(e) for e in errors] == ["file dues.csv, row 7, column amount_due: negative amount"]


def test_a_new_job_under_the_same_key_cancels_and_replaces_the_old(runner, qtbot):
    release = threading.Event()
    results, cancelled_seen = [], []

    def slow(state):
        release.wait(5)
        if state.cancelled():
            cancelled_seen.append(True)
        return "old"

    old = runner.start("k", slow, on_done=results.append, on_error=pytest.fail)
    new = runner.start("k", lambda state: "new", on_done=results.append, on_error=pytest.fail)
    with qtbot.waitSignal(new.finished, timeout=5000):
        pass
    release.set()
    with qtbot.waitSignal(old.finished, timeout=5000):
        pass
    assert results == ["new"]
    assert cancelled_seen == [True]


def test_progress_is_reported_and_cancel_stops_the_job(runner, qtbot):
    progress, errors, done = [], [], []

    def job(state):
        for i in range(1000):
            state.report(i / 1000, Message("progress.rows_read", rows=i))
            check(state)
            time.sleep(0.002)
        return "finished"

    handle = runner.start(
        "k",
        job,
        on_done=done.append,
        on_error=errors.append,
        on_progress=lambda f, t: progress.append(f),
    )
    qtbot.waitUntil(lambda: len(progress) > 3, timeout=5000)
    handle.cancel()
    with qtbot.waitSignal(handle.finished, timeout=5000):
        pass
    assert done == []
    assert errors == []  # a cancelled job is not an error to show
    assert progress == sorted(progress)
    assert not runner.running("k")


def test_cancelled_exception_type_is_the_services_one():
    class S:
        def cancelled(self):
            return True

    with pytest.raises(Cancelled):
        check(S())


def test_a_job_finishing_while_its_progress_dialog_updates_raises_nothing(
    runner, qtbot, monkeypatch
):
    """Once shown, a modal progress dialog runs the event loop when its bar moves, which can
    deliver the job's result and close the dialog; the update must not then touch it."""
    from PySide6.QtWidgets import QWidget

    import app.views.operations as ops

    monkeypatch.setattr(ops, "PROGRESS_DELAY_MS", 0)
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    first, last = threading.Event(), threading.Event()

    def job(state):
        first.wait(5)
        state.report(0.2, Message("progress.reading_workloads"))
        last.wait(5)
        state.report(0.5, Message("progress.reading_workloads"))
        return "done"

    results = []
    handle = runner.start(
        "k", job, on_done=results.append, on_error=pytest.fail,
        progress_parent=parent, progress_title="Intake",
    )  # fmt: skip
    qtbot.waitUntil(lambda: handle.dialog is not None, timeout=5000)
    dialog = handle.dialog
    first.set()
    qtbot.waitUntil(lambda: dialog.value() == 200, timeout=5000)
    with qtbot.captureExceptions() as exceptions:
        last.set()
        time.sleep(0.3)  # the job reports and returns: both signals wait in the queue
        qtbot.waitUntil(lambda: results == ["done"], timeout=5000)
    assert not exceptions, exceptions
