"""The house's shape: no import loops inside ``app/``, and no part importing one above it.

Every import counts, those inside functions too (an import put off to run time is still a
dependency); only imports under ``if TYPE_CHECKING:`` are left out. ``from pkg import sub``
depends on the module ``pkg.sub``, not on the package's ``__init__``.

The layers, lowest first (docs/architecture.md draws them):
  0 app (the version), app.models, app.migrations, app.paths, app.licences
  1 app.db, app.logs, app.credentials                  (engines, sessions, the log file)
    app.services.messages, app.services.errors         (the message catalogue, its errors)
  2 app.services                                       (the domain; Qt-free)
  3 app.config, app.settings, app.opening              (settings and opening a database,
                                                        which know the domain's types)
  4 app.views                                          (the desktop app's screens)
  5 app.cli, app.main                                  (the entry points)
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"

LAYERS: dict[str, int] = {
    "app": 0,
    "app.models": 0,
    "app.migrations": 0,
    "app.paths": 0,
    "app.licences": 0,
    "app.db": 1,
    "app.logs": 1,
    "app.credentials": 1,
    "app.services": 2,
    # The message catalogue and the domain errors carrying its codes import nothing of the
    # app: opening a database refuses with them too.
    "app.services.messages": 1,
    "app.services.errors": 1,
    "app.config": 3,
    "app.settings": 3,
    "app.opening": 3,
    "app.views": 4,
    "app.cli": 5,
    "app.main": 5,
}

# Known upward imports, each with its reason; the test fails on any other. None today.
KNOWN_UPWARD: set[str] = set()


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the app modules ``name`` imports anywhere but under ``if TYPE_CHECKING:``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    out.add(sub)
                elif base in modules:
                    out.add(base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    out.discard(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _loops(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return found


def _layer(name: str) -> int:
    while name not in LAYERS:
        name = name.rpartition(".")[0]
    return LAYERS[name]


def test_there_is_no_import_loop_inside_app():
    assert _loops(_graph()) == []


def test_the_loop_finder_finds_a_loop():
    assert _loops({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_from_a_layer_above_its_own():
    graph = _graph()
    upward = sorted(
        f"{name} -> {dep}"
        for name, deps in graph.items()
        for dep in deps
        if _layer(dep) > _layer(name)
    )
    assert [u for u in upward if u not in KNOWN_UPWARD] == []
    assert sorted(KNOWN_UPWARD) == [u for u in upward if u in KNOWN_UPWARD]  # none is stale


def test_every_app_module_has_a_layer():
    assert all(_layer(name) >= 0 for name in _graph())


def _loaded_after(statements: str, prefix: str) -> list[str]:
    """Return the modules starting with ``prefix`` that a fresh interpreter has loaded after
    running ``statements``."""
    import ast
    import subprocess
    import sys

    code = f"import sys; {statements}; print([m for m in sorted(sys.modules) if m.startswith({prefix!r})])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return ast.literal_eval(out.stdout)


def test_the_meeting_workbook_and_the_command_line_do_not_load_matplotlib():
    """The meeting workbook's charts are Excel's own: writing it (and starting any command)
    must not pay for matplotlib, about 0.6 s of a 2 s command."""
    assert _loaded_after("import app.cli.export, app.services.exports.meeting", "matplotlib") == []


def test_starting_a_command_does_not_load_the_visit_lists_routing():
    """Every command builds the whole parser; the visit lists' option must not bring the
    visit-list service and its routing with it (numpy and more, for commands that use none)."""
    statements = "from app.cli import build_parser; build_parser()"
    assert _loaded_after(statements, "app.services.visits.lists") == []


def test_a_command_given_its_database_does_not_load_qt(tmp_path):
    """Reading the settings loads Qt, whose import hook then slows every import a command
    makes at run time (xlsxwriter makes one per cell); a command told its database (--db)
    never reads them."""
    import subprocess
    import sys

    db = tmp_path / "new.db"
    code = (
        "import runpy, sys; "
        f"sys.argv = ['griddesk', '--db', 'sqlite:///{db.as_posix()}', 'init']; "
        'exec(\'try:\\n runpy.run_module("app.cli", run_name="__main__")\\n'
        "except SystemExit:\\n pass'); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'PySide6'))"
    )
    env = {**os.environ, "GRIDDESK_SETTINGS_DIR": str(tmp_path / "settings")}
    env.pop("GRIDDESK_DB", None)
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env
    )
    assert db.exists(), out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_one_excel_writer_openpyxl_only_reads():
    """Every workbook GridDesk writes goes through xlsxwriter (app.services.files.xlsx for streamed
    sheets, app.services.files.xlsx_layout for laid-out ones): one library's formats, widths and
    inert text. openpyxl is imported only where workbooks are read (imports, the self-check)."""
    readers = {"app.services.importer.readers", "app.cli.selfcheck"}
    importing = set()
    for name, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(n == "openpyxl" or n.startswith("openpyxl.") for n in names):
                importing.add(name)
    assert importing <= readers, sorted(importing - readers)
    # Writing the meeting workbook does not even load it.
    assert _loaded_after("import app.services.exports.meeting", "openpyxl") == []


# The modules every part of the services imports; everything else lives in a part's package.
SERVICES_KERNEL = {"messages", "errors", "changes", "progress", "clock", "periods"}


def test_services_are_laid_out_by_part_each_saying_what_it_owns():
    """``app/services`` shows its parts: a package per part, each with a docstring naming what
    it owns, and at the top only the small kernel every part imports (no grab-bag)."""
    services = APP / "services"
    loose = {p.stem for p in services.glob("*.py")} - {"__init__"}
    assert loose <= SERVICES_KERNEL, sorted(loose - SERVICES_KERNEL)
    for init in sorted(APP.rglob("__init__.py")):
        if "migrations" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.relative_to(ROOT)} says nothing of what it owns"
    # The top docstring names every part.
    top = ast.get_docstring(ast.parse((services / "__init__.py").read_text(encoding="utf-8")))
    for part in sorted(p.name for p in services.iterdir() if (p / "__init__.py").exists()):
        assert f"{part}/" in (top or ""), part


# Services that choose by database for a reason other than spelling SQL, and why.
DIALECT_CHOICES = {
    "app/services/database/sqlfuncs.py": "the one module that speaks either dialect",
    "app/services/database/roles.py": "PostgreSQL's login roles and row-level security",
    "app/services/database/unit_of_work.py": "SQLite's single writer: its marks by id",
    "app/services/demo/bulk.py": "the demo's rows streamed with PostgreSQL's COPY",
}


def test_the_services_spell_dialect_sql_only_in_sqlfuncs():
    """A service asks ``sqlfuncs.is_postgres`` or uses its expressions; only the modules above
    look at the dialect themselves."""
    wrong = []
    for path in sorted((ROOT / "app" / "services").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in DIALECT_CHOICES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "dialect":
                wrong.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "sqlalchemy.dialects"
            ):
                wrong.append(f"{rel}:{node.lineno} imports {node.module}")
    assert wrong == []


def test_apply_and_undo_lock_rows_one_way():
    """Applying a plan and undoing it lock grids, customers and tasks through one function
    (``rebalance.changes.lock_rows``: id order, chunked), so neither can drift from the other."""
    wrong = []
    for name in ("apply.py", "undo.py"):
        path = APP / "services" / "rebalance" / name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "attr", None) == "with_for_update"
                and any(
                    k.arg == "of" and getattr(k.value, "id", None) in ("Grid", "Customer", "Task")
                    for k in node.keywords
                )
            ):
                wrong.append(f"{name}:{node.lineno}")
    assert wrong == []
