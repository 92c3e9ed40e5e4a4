"""File ▸ Import extract…: one exchange file from the core systems into the user's branch, as
'griddesk import KIND FILE' does (all or nothing; the message names the row and column)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from app.views.context import AppContext
from app.views.i18n import arg, translate


def kind_labels() -> dict[str, str]:
    """The kinds of exchange file, in the order a new branch imports them, as users call them."""
    return {
        "teams": translate("ImportExtract", "Teams"),
        "grids": translate("ImportExtract", "Grids (GeoJSON)"),
        "specialists": translate("ImportExtract", "Specialists"),
        "agents": translate("ImportExtract", "Departed agents"),
        "customers": translate("ImportExtract", "Customers"),
        "policies": translate("ImportExtract", "Policies"),
        "dues": translate("ImportExtract", "Premium dues"),
        "tasks": translate("ImportExtract", "Tasks"),
        "assignments": translate("ImportExtract", "Assignment history"),
    }


class ImportExtractDialog(QDialog):
    """Asks for the kind of extract and its file."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Import extract"))
        self.setMinimumWidth(520)
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        for code, text in kind_labels().items():
            self.kind.addItem(text, code)
        self.path = QLineEdit()
        self.path.setObjectName("path")
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.tr("Kind"), self.kind)
        form.addRow(self.tr("File"), row)
        note = QLabel(
            self.tr(
                "CSV (UTF-8 or GBK) or Excel, headers in English or Chinese. One bad row "
                "rejects the whole file, naming the row and column; importing again updates."
            )
        )
        note.setWordWrap(True)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Import"))
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Import extract"),
            "",
            self.tr("Extracts (*.csv *.xlsx *.geojson *.json)"),
        )
        if path:
            self.path.setText(path)

    def _accept(self) -> None:
        if self.path.text().strip():
            self.accept()

    def request(self) -> tuple[str, str]:
        """Return the kind and the file chosen."""
        return self.kind.currentData(), self.path.text().strip()


def run_import(ctx: AppContext, kind: str, path: str, state):
    """Import ``path`` as ``kind`` into the user's branch and return the ImportResult (a
    background job: its own session)."""
    from app.services.importer import import_file

    with ctx.Session() as s, s.begin():
        return import_file(
            s, kind, path, branch_id=ctx.user.branch_id, state=state, actor=ctx.user.login
        )


def result_text(result) -> str:
    """Say what an import did."""
    return arg(
        translate("ImportExtract", "%1: %2 rows imported (%3 new, %4 updated)."),
        result.file,
        f"{result.rows:,}",
        f"{result.inserted:,}",
        f"{result.updated:,}",
    )


def start_import(window, kind: str | None, path: str | None) -> None:
    """Ask for an extract's kind and file (unless given) over the main ``window``, import it
    in the background, say what it did and announce the change (``window.data_changed``)."""
    if kind is None or path is None:
        dialog = ImportExtractDialog(window)
        if dialog.exec() != ImportExtractDialog.DialogCode.Accepted:
            return
        kind, path = dialog.request()
    ctx, chosen = window.ctx, (kind, path)

    def done(result) -> None:
        window.statusBar().showMessage(result_text(result), 15000)
        window.data_changed.emit(result.changes)

    ctx.runner.start(
        "import_extract",
        lambda state: run_import(ctx, chosen[0], chosen[1], state),
        on_done=done,
        on_error=lambda exc: window.show_error(translate("ImportExtract", "Import extract"), exc),
        progress_parent=window,
        progress_title=translate("ImportExtract", "Importing…"),
    )
