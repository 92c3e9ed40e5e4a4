"""The words of what GridDesk writes without Qt (workbooks, PDFs, the map's legends) are one
catalogue per language, and every language has every word with the same placeholders."""

from __future__ import annotations

import ast
from pathlib import Path
from string import Formatter

from app.services.words import CATALOGUES, LANGS, Texts

ROOT = Path(__file__).resolve().parents[2]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def test_every_language_has_every_word_with_the_same_placeholders():
    assert set(CATALOGUES) == set(LANGS)
    chinese, english = CATALOGUES["zh_CN"], CATALOGUES["en"]
    assert set(chinese) == set(english)
    wrong = [k for k in chinese if _placeholders(chinese[k]) != _placeholders(english[k])]
    assert wrong == []
    assert Texts("zh_CN")["sheet_cover"] == "封面" and Texts("en")["sheet_cover"] == "Cover"
    assert Texts("zh_CN")["map_grid"] == "网格"


def test_no_other_module_of_the_services_keeps_words_by_language():
    """A dictionary keyed by language ({"zh_CN": …, "en": …}) outside app/services/words is a
    second catalogue."""
    wrong = []
    for path in sorted((ROOT / "app" / "services").rglob("*.py")):
        if path.parent.name == "words":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Dict):
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"zh_CN", "en"} <= keys:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {t.id for t in targets if isinstance(t, ast.Name)}
                if names & {"_ZH", "_EN"}:
                    wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


def test_a_group_is_named_by_its_key_never_by_matching_its_english_name():
    """The group of customers with no team (key None) is worded in the workbook's language; a
    team whose own name happens to look like the metrics' English placeholder keeps it."""
    zh, en = Texts("zh_CN"), Texts("en")
    assert zh.group("team", None, "(no team)") == "（无团队）"
    assert zh.group("grid", None, "(no grid)") == "（无网格）"
    assert zh.group("specialist", None, "(unassigned)") == "（未分配）"
    assert en.group("team", None, "(no team)") == "(no team)"
    assert zh.group("team", 7, "(none)") == "(none)"  # a real team, named so by its branch
    assert zh.group("team", 8, "(no team)") == "(no team)"
