"""The message catalogue: the services raise domain errors as a code and parameters, never an
English sentence; every code has a Chinese translation with the same placeholders; str() of an
error is still the English sentence the command line prints."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import pkgutil
from pathlib import Path

import app.services
from app.paths import I18N
from app.services.errors import DomainError, NotAllowed, StaleData
from app.services.messages import (
    MESSAGES,
    Clauses,
    Lines,
    Message,
    from_data,
    placeholders,
    to_data,
)
from app.services.rebalance.plan import PlanError

ROOT = Path(__file__).resolve().parents[1]


def _i18n_build():
    """resources/i18n/build.py, which reads the translations of the .ts the translator edits."""
    spec = importlib.util.spec_from_file_location("i18n_build", I18N / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# Where domain errors are raised: the services, and opening a database (with its URL).
SOURCES = [*sorted((ROOT / "app" / "services").rglob("*.py")), ROOT / "app" / "opening.py"]
SOURCES.append(ROOT / "app" / "db.py")

# Exception classes of the services deliberately not domain errors, and why.
NOT_DOMAIN_ERRORS = {
    # Control flow, never shown: a dry run taken back, a job the user cancelled.
    "_DryRun": "a scheduled plan's trial apply, rolled back on purpose",
    "Cancelled": "the user cancelled a job; nothing to word",
    "OpenCancelled": "the user said no to a question while a database opened; nothing to word",
    # Each bad value of a row of an import file: the Problem naming the file, row and column
    # wraps it (its words stay English; the file's own problems are domain errors).
    "ValueProblem": "a cell's value, reported inside an import Problem",
}


# What a Stale (app.services.rebalance.changes) notes is a code too.
STALE_NOTES = ("add", "reassigned", "raise_if_any")


def _domain_errors() -> dict[str, type]:
    """Every DomainError subclass of the app, by name (the services all imported)."""
    for module in pkgutil.walk_packages(app.services.__path__, "app.services."):
        importlib.import_module(module.name)
    importlib.import_module("app.opening")
    found: dict[str, type] = {}
    todo = [DomainError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found[sub.__name__] = sub
            todo.append(sub)
    return found


def _code_problems(node: ast.expr | None) -> list[str]:
    """What is wrong with ``node`` as the code of a message ([] when it is one, or a value
    worked out at run time)."""
    if node is None:
        return ["no code"]
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [] if node.value in MESSAGES else [f"{node.value!r} is not a code of MESSAGES"]
    if isinstance(node, ast.JoinedStr | ast.BinOp):
        return ["a sentence built in place, not a code"]
    if isinstance(node, ast.IfExp):
        return _code_problems(node.body) + _code_problems(node.orelse)
    return []


def test_every_message_has_a_chinese_translation_with_the_same_placeholders():
    dictionary = _i18n_build().translations()["messages"]
    wrong = []
    for code, english in MESSAGES.items():
        chinese = dictionary.get(english)
        if not chinese:
            wrong.append(f"{code}: no translation")
        elif placeholders(chinese) != placeholders(english):
            wrong.append(f"{code}: {sorted(placeholders(chinese))} for {english!r}")
        elif chinese.isascii() and english != chinese and "{" not in english:
            wrong.append(f"{code}: not Chinese: {chinese!r}")
    assert wrong == []


def test_services_raise_domain_errors_with_codes_not_sentences():
    errors = _domain_errors()
    wrong = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            on_stale = getattr(getattr(node.func, "value", None), "id", None) == "stale"
            if name in errors or name == "Message" or (on_stale and name in STALE_NOTES):
                first = node.args[0] if node.args else None
                if name == "AccountLocked":  # (login, until, now): it picks its code itself
                    continue
                wrong += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {name}: {problem}"
                    for problem in _code_problems(first)
                ]
    assert wrong == []


def test_every_exception_class_of_the_services_is_a_domain_error_or_said_why_not():
    known = {*_domain_errors(), "DomainError"}
    classes = [
        node
        for path in SOURCES
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ClassDef)
    ]
    others = [
        c.name
        for c in classes
        if c.name not in known
        and any(
            (getattr(b, "id", "") or getattr(b, "attr", "")).endswith(("Exception", "Error"))
            for b in c.bases
        )
    ]
    assert sorted(others) == sorted(NOT_DOMAIN_ERRORS)


def test_the_command_line_reads_the_english_sentence():
    assert str(PlanError("scenario.name_taken", name="两步")) == (
        'a scenario named "两步" exists already: choose another name'
    )
    assert str(NotAllowed("account.not_senior", login="ana", role="analyst")) == (
        "ana (analyst) may not manage user accounts: only a senior supervisor may"
    )
    stale = StaleData(
        "stale.changes",
        changes=Clauses(
            [
                Message("stale.grid_locked", grid="CD-01", since=Message("since.plan")),
                Message("stale.customer_gone", customer="C9"),
            ]
        ),
        advice=Message("advice.new_proposal"),
    )
    assert str(stale) == (
        "grid CD-01 was locked since this plan was made; customer C9 no longer exists. "
        "Make a new proposal."
    )
    assert isinstance(PlanError("plan.same_grid_twice"), ValueError)  # caught as before


def test_a_message_is_stored_and_read_back_whole():
    message = StaleData(
        "stale.changes_more",
        changes=Clauses([Message("stale.grid_locked", grid="G1", since=Message("since.plan"))]),
        more=3,
        advice=Message("advice.new_proposal"),
    ).message
    stored = json.loads(json.dumps(to_data(message)))
    assert from_data(stored) == message
    assert str(from_data(stored)) == str(message)
    lines = Message("import.failed", file="a.csv", problems=Lines(["x", "y"]))
    assert str(from_data(to_data(lines))) == "a.csv was not imported, nothing was changed:\nx\ny"
    assert from_data({"code": "no.such_code", "params": {}}) is None


def test_arg_fills_qt_placeholders_in_one_pass():
    from app.services.messages import arg

    assert arg("Compare %1 and %2", "A %2", "B") == "Compare A %2 and B"
    assert arg("%2 before %1", "x", "y") == "y before x"
    assert arg("%1 of %10", "a") == "a of %10"  # no value: left as it is
    assert arg("%1%", 12.5) == "12.5%"
