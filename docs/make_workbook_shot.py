"""Makes docs/screenshots/workbook.png: the meeting workbook as LibreOffice prints it.

    python docs/make_workbook_shot.py --db sqlite:///city.db [--period 2026-Q3]

It exports the meeting workbook from the given database (the ``city`` demo: ``griddesk demo
--size city``), has LibreOffice (Debian package ``libreoffice-calc-nogui``) print it to PDF,
renders the team persistency, trend and funnel pages with poppler's ``pdftoppm`` and stacks
the top of each, trimmed of blank paper, into one picture.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from app.services.words import Texts  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots" / "workbook.png"
# The first printed page of each of these sheets (their names head every page).
SHEETS = ("sheet_pers_team", "sheet_trend", "sheet_funnel")
GAP = 24


def _first_page(pdf: Path, sheet: str) -> int:
    """Return the number of the first page whose running header starts with ``sheet``."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    for number, page in enumerate(text.split("\f"), 1):
        if page.strip().startswith(sheet + " "):
            return number
    raise SystemExit(f"no page of sheet {sheet} in {pdf}")


def _trim(page: Image.Image) -> Image.Image:
    """Return the part of ``page`` with ink on it, the running header (0.3" from the top, the
    table from 0.75") and footer left out."""
    body = page.crop((0, int(page.height * 0.075), page.width, int(page.height * 0.9)))
    box = ImageChops.difference(body, Image.new(body.mode, body.size, "white")).getbbox()
    return body.crop(box) if box else body


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--period", default="2026-Q3")
    args = parser.parse_args()
    soffice, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if not soffice or not pdftoppm:
        sys.exit("needs LibreOffice (soffice) and poppler-utils (pdftoppm)")
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "meeting.xlsx"
        griddesk = [sys.executable, "-m", "app.cli", "--db", args.db, "--user", "senior"]
        env = {**os.environ, "GRIDDESK_PASSWORD": os.environ.get("GRIDDESK_PASSWORD", "demo1234")}
        subprocess.run(
            [*griddesk, "export", "meeting", "--period", args.period, "--out", str(book)],
            check=True,
            cwd=ROOT,
            env=env,  # the demo's senior supervisor signs in
        )
        subprocess.run(
            [soffice, "--headless", "--convert-to", "pdf", "--outdir", tmp, str(book)],
            check=True,
            capture_output=True,
        )
        pdf = book.with_suffix(".pdf")
        names = Texts("zh_CN")
        parts = []
        for page in [_first_page(pdf, names[key]) for key in SHEETS]:
            stem = Path(tmp) / f"p{page}"
            subprocess.run(
                [pdftoppm, "-f", str(page), "-l", str(page), "-r", "80", "-png", "-singlefile",
                 str(pdf), str(stem)],
                check=True,
            )  # fmt: skip
            parts.append(_trim(Image.open(stem.with_suffix(".png")).convert("RGB")))
    width = max(p.width for p in parts)
    height = sum(p.height for p in parts) + GAP * (len(parts) - 1)
    sheet = Image.new("RGB", (width + 2 * GAP, height + 2 * GAP), "white")
    y = GAP
    for part in parts:
        sheet.paste(part, (GAP, y))
        y += part.height + GAP
    sheet.save(OUT, optimize=True)
    print(f"saved {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
