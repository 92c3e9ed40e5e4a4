"""A Chinese user reads the services' refusals in Chinese, with what they name (a scenario's
name, a change batch, the days given) in them and no English sentence: offscreen, on the
demo branch."""

from __future__ import annotations

import re

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select
from test_rebalance_page import _box, open_page  # noqa: F401

from app.models import ChangeBatch, Specialist, Task
from app.models.enums import OPEN_TASK_STATUSES, SpecialistStatus
from app.services.errors import NotAllowed
from app.services.rebalance.apply import undo_batch
from app.services.tasks.queue import reassign_tasks
from app.views.errors import error_text
from app.views.history_dialog import HistoryDialog
from app.views.i18n import install_translators
from app.views.main_window import MainWindow

# Two English words in a row: what a sentence left in English would show.
ENGLISH = re.compile(r"[A-Za-z]{2,}[ ,;:]+[A-Za-z]{2,}")


@pytest.fixture
def chinese(qapp):
    translators = install_translators(qapp, "zh_CN")
    yield
    for t in translators:
        qapp.removeTranslator(t)


def _chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) and not ENGLISH.search(text)


def test_a_taken_scenario_name_is_refused_in_chinese(chinese, open_page, qtbot):  # noqa: F811
    _w, page = open_page()
    for name in ("六步", "两步"):
        page.keep_plan(name)
        qtbot.waitUntil(lambda n=name: f"“{n}”" in page.summary.text(), timeout=10000)
    page.open_scenarios()
    dialog = page.scenarios_dialog
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
    dialog.select("两步")
    dialog.rename_selected("六步")
    text = _box(qtbot, dialog).text()
    assert text == "已有名为“六步”的方案：请换一个名称", text
    assert _chinese(text)


def test_undoing_a_change_someone_undid_meanwhile_is_refused_in_chinese(
    chinese, qtbot, make_ctx, demo_db
):
    ctx = make_ctx("senior")
    with demo_db() as s, s.begin():
        task = s.scalars(
            select(Task)
            .where(Task.specialist_id.is_not(None), Task.status.in_(OPEN_TASK_STATUSES))
            .order_by(Task.id)
        ).first()
        holder = s.get(Specialist, task.specialist_id)
        colleague = s.scalars(
            select(Specialist).where(
                Specialist.team_id == holder.team_id,
                Specialist.id != holder.id,
                Specialist.status == SpecialistStatus.ACTIVE,
            )
        ).first()
        reassign_tasks(
            s, user=ctx.user, versions={task.id: task.version}, to_specialist_id=colleague.id
        )
        batch = s.scalar(select(func.max(ChangeBatch.id)))
    dialog = HistoryDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    row = next(i for i in range(dialog.model.rowCount()) if dialog.model.row_at(i).id == batch)
    dialog.table.setCurrentIndex(dialog.model.index(row, 0))
    assert dialog.undo_button.isEnabled()
    with demo_db() as s, s.begin():  # someone else, meanwhile
        undo_batch(s, actor="other", team_scope=None, batch_id=batch, branch_id=ctx.user.branch_id)
    dialog.undo_selected()
    text = _box(qtbot, dialog).text()
    assert text == f"变更批次 {batch} 已经撤销过了", text
    assert _chinese(text)


def test_hand_off_targets_out_of_order_are_refused_in_chinese(chinese, qtbot, make_ctx):
    window = MainWindow(make_ctx("senior"))
    qtbot.addWidget(window)
    dialog = window.open_branch_settings()
    dialog.contact.setValue(40)  # after the first-service target of 30
    dialog.save()
    (text,) = [m.text() for m in window.findChildren(QMessageBox)]
    assert text == "目标天数须依次递增：先发送短信，再首次联系，再首次服务（现为 1、40、30 天）", (
        text
    )
    assert _chinese(text)


def test_a_role_is_worded_by_its_label_in_a_chinese_refusal(chinese, qtbot, make_ctx):
    """The code of a role in a refusal reads as the role's name."""
    from app.services.people.accounts import list_accounts

    ctx = make_ctx("analyst")
    with ctx.Session() as s, pytest.raises(NotAllowed) as refused:
        list_accounts(s, actor=ctx.user)
    text = error_text(refused.value)
    assert text == "analyst（分析员）不能管理用户账户：只有资深主管可以", text


def test_a_file_the_import_cannot_read_is_said_in_chinese(chinese, demo_db, tmp_path):
    from app.services.importer import ImportFailed, import_file

    empty = tmp_path / "teams.csv"
    empty.write_bytes(b"")
    with demo_db() as s, pytest.raises(ImportFailed) as refused:
        import_file(s, "teams", empty)
    text = error_text(refused.value)
    assert text == "teams.csv 未导入，未做任何更改：\nteams.csv：文件为空", text
    assert (
        str(refused.value)
        == "teams.csv was not imported, nothing was changed:\nteams.csv: is empty"
    )
