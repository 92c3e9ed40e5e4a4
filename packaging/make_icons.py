"""Draws GridDesk's icon and derives the files each platform's installer wants from it.

    python packaging/make_icons.py [--redraw]

``resources/icons/griddesk.png`` (1024 px) is the one source image: drawn here only when it is
missing (or with ``--redraw``), so a designer's replacement is kept. From it come
``griddesk.ico`` (Windows: 16-256 px) and ``griddesk.icns`` (macOS), both committed, so a build
needs no Pillow step. Needs Pillow (a dependency of matplotlib).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SOURCE = ICONS / "griddesk.png"
SIZE = 1024


def draw_source() -> Image.Image:
    """Return the icon: a city grid of blocks on a blue tile with a map pin on one block."""
    img = Image.new("RGBA", (SIZE, SIZE), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    margin, radius = 64, 190
    d.rounded_rectangle((margin, margin, SIZE - margin, SIZE - margin), radius, fill="#1f5fa8")
    # 3 x 3 blocks: the grids a specialist serves; the middle one highlighted.
    inner, gap = 200, 34
    cell = (SIZE - 2 * inner - 2 * gap) // 3
    for row in range(3):
        for col in range(3):
            x = inner + col * (cell + gap)
            y = inner + row * (cell + gap)
            fill = "#f2b134" if (row, col) == (1, 1) else "#dbe7f5"
            d.rounded_rectangle((x, y, x + cell, y + cell), 26, fill=fill)
    # The pin over the highlighted block.
    cx, cy, r = SIZE // 2, SIZE // 2 - 95, 92
    d.polygon([(cx - 80, cy + 45), (cx + 80, cy + 45), (cx, cy + 215)], fill="#c0392b")
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill="#c0392b")
    d.ellipse((cx - 36, cy - 36, cx + 36, cy + 36), fill="white")
    return img


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redraw", action="store_true", help="draw the source image again")
    args = parser.parse_args()
    ICONS.mkdir(parents=True, exist_ok=True)
    if args.redraw or not SOURCE.is_file():
        draw_source().save(SOURCE)
        print("drew", SOURCE)
    source = Image.open(SOURCE).convert("RGBA")
    source.save(ICONS / "griddesk.ico", sizes=[(s, s) for s in (16, 24, 32, 48, 64, 128, 256)])
    source.save(ICONS / "griddesk.icns")
    for name in ("griddesk.ico", "griddesk.icns"):
        print("wrote", ICONS / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
