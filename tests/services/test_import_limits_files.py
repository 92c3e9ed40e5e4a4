"""Hostile or implausible files are refused whole with a readable message: grids that do not
close, are not objects or overlap, a GBK file that happens to be valid UTF-8, and workbooks that
would unpack to far more than they hold."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select
from test_import_support import make_branch, rejects, square, write_geojson, write_table

import app.services.importer.readers as readers
from app.models import Branch, DepartedAgent, Grid
from app.services.importer import import_file
from app.services.importer.readers import detect_encoding

DUES = ["policy_no", "policy_year", "due_date", "amount_due"]


@pytest.fixture
def branch(session, tmp_path):
    """Team T1, grids G1 and G2 (E1 owns G1), agent A1, customer C1, policy P1, from files."""
    return make_branch(session, tmp_path)


# --- 5. grids ------------------------------------------------------------------------------


def test_an_unclosed_ring_is_refused(session, tmp_path):
    open_ring = {"type": "Polygon", "coordinates": [[[104, 30], [104.01, 30], [104.01, 30.01], [104, 30.01]]]}  # fmt: skip
    hole = [[104.202, 30.202], [104.203, 30.202], [104.203, 30.203], [104.202, 30.203]]
    multi = {"type": "MultiPolygon", "coordinates": [square(104.1, 30)["coordinates"],
             [square(104.2, 30.2, 0.01)["coordinates"][0], hole]]}  # fmt: skip
    path = write_geojson(tmp_path / "grids.geojson", [({"code": "G1", "name": "一"}, open_ring),
                                                      ({"code": "G2", "name": "二"}, multi)])  # fmt: skip
    err = rejects(session, "grids", path, (1, "geometry", "ring 1 is not closed"),
                  (2, "geometry", "ring 2 of polygon 2 is not closed"))  # fmt: skip
    assert "grids.geojson, feature 1, column geometry" in str(err)


@pytest.mark.parametrize(
    ("properties", "column", "words"),
    [(["G1", "一"], "properties", "is not an object"), ("G1", "properties", "is not an object"),
     ({"code": {"x": 1}, "name": "一"}, "code", "is not text"),
     ({"code": "G1", "name": ["一"]}, "name", "is not text")],
)  # fmt: skip
def test_properties_that_are_not_an_object_of_text(session, tmp_path, properties, column, words):
    path = write_geojson(tmp_path / "grids.geojson", [(properties, square(104, 30))])
    rejects(session, "grids", path, (1, column, words))


def test_grids_overlapping_in_the_same_file_are_refused_naming_both(session, tmp_path):
    path = write_geojson(tmp_path / "grids.geojson", [
        ({"code": "G1", "name": "一"}, square(104, 30)),
        ({"code": "G2", "name": "二"}, square(104.005, 30)),  # half of G1
        ({"code": "G3", "name": "三"}, square(104.01, 30.02)),  # touches nobody
    ])  # fmt: skip
    err = rejects(session, "grids", path, (2, "geometry", "grid G2 overlaps grid G1 (feature 1) by 50%"))  # fmt: skip
    assert "grids must not overlap" in str(err)


def test_edges_shared_and_slivers_under_the_tolerance_are_accepted(session, tmp_path):
    path = write_geojson(tmp_path / "grids.geojson", [
        ({"code": "G1", "name": "一"}, square(104, 30)),
        ({"code": "G2", "name": "二"}, square(104.01, 30)),  # shares G1's east edge
        ({"code": "G3", "name": "三"}, square(104.01995, 30)),  # 0.5 % into G2
    ])  # fmt: skip
    assert import_file(session, "grids", path).inserted == 3


def test_a_grid_overlapping_one_already_in_the_branch_is_refused(session, branch):
    path = write_geojson(branch / "more.geojson", [({"code": "G3", "name": "三"}, square(104.0, 30.605))])  # fmt: skip
    rejects(session, "grids", path, (1, "geometry", "grid G3 overlaps grid G1 (already in this branch) by 50%"))  # fmt: skip
    # A grid redrawn in the file is judged by its new shape, not by the old one.
    path = write_geojson(branch / "moved.geojson", [({"code": "G1", "name": "春熙路网格"}, square(104.0, 30.605))])  # fmt: skip
    assert import_file(session, "grids", path).updated == 1
    session.commit()
    # Another branch's grids are no obstacle.
    b2 = Branch(code="b2", name="二分公司", city="成都")
    session.add(b2)
    session.commit()
    path = write_geojson(branch / "b2.geojson", [({"code": "X1", "name": "别家"}, square(104.0, 30.6))])  # fmt: skip
    assert import_file(session, "grids", path, branch_id=b2.id).inserted == 1
    session.commit()
    assert session.scalar(select(Grid.branch_id).where(Grid.code == "X1")) == b2.id


# --- 6. encodings --------------------------------------------------------------------------


def test_a_small_gbk_file_with_an_english_header_is_read_as_gbk(session, tmp_path):
    # 郑叶 in GBK (d6 a3 d2 b6) happens to be valid UTF-8 too (U+05A3 U+04B6).
    path = write_table(tmp_path / "a.csv", ["agent_code", "name"], [["A1", "郑叶"]], encoding="gbk")
    import_file(session, "agents", path)
    session.commit()
    assert session.scalar(select(DepartedAgent.name)) == "郑叶"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [("A1,郑叶\r\n", "gbk"), ("A1,郑叶\r\n", "utf-8"), ("A1,买买提·艾力 José\r\n", "utf-8"),
     ("A1,ÅÄÖ\r\n", "utf-8"), ("A1,郑叶" + "x" * 70_000 + "\r\n", "gbk")],
)  # fmt: skip
def test_the_whole_first_chunk_decides_the_encoding(text, encoding):
    data = ("agent_code,name\r\n" + text).encode(encoding)
    assert detect_encoding(data) == ("gb18030" if encoding == "gbk" else "utf-8")


# --- 7. workbooks that would unpack to far more than they hold -----------------------------


def _rewrite(path: Path, member: str, change) -> Path:
    """Rewrite one part of a workbook with ``change(text) -> text``."""
    with zipfile.ZipFile(path) as z:
        parts = {i.filename: z.read(i) for i in z.infolist()}
    parts[member] = change(parts[member].decode()).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def _dues_book(folder: Path, name: str = "d.xlsx") -> Path:
    return write_table(folder / name, DUES, [["P1", 1, "2023-03-01", 1200]])


SST = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


@pytest.fixture(scope="module")
def shared_strings_bomb(tmp_path_factory) -> Path:
    """A workbook of a few hundred kB whose shared strings unpack to 201 MB."""
    folder = tmp_path_factory.mktemp("bomb")
    good = _dues_book(folder)
    bomb = folder / "bomb.xlsx"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:  # fmt: skip
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "[Content_Types].xml":
                override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST}"/>'
                data = data.replace(b"</Types>", override.encode() + b"</Types>")
            z.writestr(info.filename, data)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as f:
            f.write(
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
            )
            block = b"a" * (1 << 20)
            for _ in range(201):
                f.write(block)
            f.write(b"</t></si></sst>")
    assert bomb.stat().st_size < 2_000_000
    return bomb


def test_a_workbook_unpacking_to_hundreds_of_megabytes_is_refused_unopened(session, branch, shared_strings_bomb):  # fmt: skip
    err = rejects(session, "dues", shared_strings_bomb, (None, None, "xl/sharedStrings.xml would unpack to 201 MB"))  # fmt: skip
    assert "at most 200 MB" in str(err) and "save it as CSV" in str(err)


def test_a_sheet_part_above_the_limit_is_refused(session, branch, monkeypatch):
    path = _rewrite(_dues_book(branch), "xl/worksheets/sheet1.xml",
                    lambda x: x.replace("<sheetData>", "<sheetData>" + " " * 3_000_000))  # fmt: skip
    monkeypatch.setattr(readers, "MAX_XLSX_PART", 2_000_000)
    rejects(session, "dues", path, (None, None, "xl/worksheets/sheet1.xml would unpack to 3 MB"))


def test_a_sheet_claiming_millions_of_cells_is_refused(session, branch):
    path = _rewrite(_dues_book(branch), "xl/worksheets/sheet1.xml",
                    lambda x: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:F400000"', x))  # fmt: skip
    err = rejects(session, "dues", path, (None, None, "400,000 rows × 6 columns"))
    assert "at most 2,000,000 cells" in str(err)


def test_rows_beyond_the_last_row_excel_has_are_refused(session, branch):
    def far(xml: str) -> str:
        xml = re.sub(r"<dimension [^>]*/>", "", xml)
        row = '<row r="1048577"><c r="A1048577" t="inlineStr"><is><t>P1</t></is></c></row>'
        return xml.replace("</sheetData>", row + "</sheetData>")

    path = _rewrite(_dues_book(branch), "xl/worksheets/sheet1.xml", far)
    rejects(session, "dues", path, (None, None, "row 1,048,577"))
