"""Builds the Qt translation files from the source and the Chinese dictionary.

    python resources/i18n/build.py          # write griddesk_zh_CN.ts and .qm
    python resources/i18n/build.py --check  # exit 1 if a string lacks a translation

Strings are found in app/ as ``self.tr("…")`` (context: the enclosing class) and
``tr(CONTEXT, "…")`` (context: a string or a module constant), plus the values of the code-label
tables in app/views/labels.py (context "labels") and the message templates of the services'
catalogue, MESSAGES in app/services/messages.py (context "messages"; a translation keeps the
template's {placeholders}). Translations live in zh_CN.json as {context: {source: translation}},
which is what a translator edits.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DICTIONARY = HERE / "zh_CN.json"
TS = HERE / "griddesk_zh_CN.ts"
QM = HERE / "griddesk_zh_CN.qm"
MESSAGES = ROOT / "app" / "services" / "messages.py"


def extract() -> dict[str, set[str]]:
    """Return {context: {source strings}} found in the app's code."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "app").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        consts = {
            t.id: n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign)
            and isinstance(n.value, ast.Constant)
            and isinstance(n.value.value, str)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        _walk(tree, None, consts, found)
        if path.name == "labels.py":
            for node in tree.body:
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
                    for v in node.value.values:
                        if isinstance(v, ast.Constant) and isinstance(v.value, str):
                            found.setdefault("labels", set()).add(v.value)
        if path == MESSAGES:
            found.setdefault("messages", set()).update(_messages(tree))
    return found


def _messages(tree: ast.Module) -> set[str]:
    """Return the templates of the MESSAGES catalogue (its dict literal's string values)."""
    for node in tree.body:
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == "MESSAGES"
            and isinstance(node.value, ast.Dict)
        ):
            return {
                v.value
                for v in node.value.values
                if isinstance(v, ast.Constant) and isinstance(v.value, str)
            }
    raise SystemExit(f"{MESSAGES}: no MESSAGES catalogue found")


def _walk(
    node: ast.AST, cls: str | None, consts: dict[str, str], found: dict[str, set[str]]
) -> None:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.ClassDef):
            _walk(child, child.name, consts, found)
            continue
        if isinstance(child, ast.Call):
            _record(child, cls, consts, found)
        _walk(child, cls, consts, found)


def _text(node: ast.AST, consts: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return consts.get(node.id)
    return None


def _record(call: ast.Call, cls: str | None, consts, found) -> None:
    f = call.func
    if (
        isinstance(f, ast.Attribute)
        and f.attr == "tr"
        and isinstance(f.value, ast.Name)
        and f.value.id == "self"
    ):
        if cls and call.args and (text := _text(call.args[0], {})):
            found.setdefault(cls, set()).add(text)
    elif isinstance(f, ast.Name) and f.id == "tr" and len(call.args) >= 2:
        ctx, text = _text(call.args[0], consts), _text(call.args[1], {})
        if ctx and text:
            found.setdefault(ctx, set()).add(text)


def write_ts(found: dict[str, set[str]], dictionary: dict[str, dict[str, str]]) -> list[str]:
    """Write the .ts file; return the strings that have no translation."""
    missing = []
    root = ET.Element("TS", version="2.1", language="zh_CN", sourcelanguage="en")
    for ctx in sorted(found):
        c = ET.SubElement(root, "context")
        ET.SubElement(c, "name").text = ctx
        for source in sorted(found[ctx]):
            m = ET.SubElement(c, "message")
            ET.SubElement(m, "source").text = source
            t = ET.SubElement(m, "translation")
            text = dictionary.get(ctx, {}).get(source)
            if text:
                t.text = text
            else:
                t.set("type", "unfinished")
                missing.append(f"{ctx}: {source}")
    ET.indent(root)
    TS.write_bytes(
        b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n'
        + ET.tostring(root, encoding="utf-8")
        + b"\n"
    )
    return missing


def main(argv: list[str]) -> int:
    found = extract()
    dictionary = json.loads(DICTIONARY.read_text(encoding="utf-8")) if DICTIONARY.exists() else {}
    if "--check" in argv:
        missing = [
            f"{c}: {s}"
            for c in sorted(found)
            for s in sorted(found[c])
            if not dictionary.get(c, {}).get(s)
        ]
        print("\n".join(missing) or "every string is translated")
        return 1 if missing else 0
    missing = write_ts(found, dictionary)
    lrelease = Path(sys.executable).with_name("pyside6-lrelease")
    subprocess.run([str(lrelease), "-silent", str(TS), "-qm", str(QM)], check=True)
    if missing:
        print(f"{len(missing)} strings lack a translation:\n" + "\n".join(missing))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
