"""The JavaScript and CSS the map page needs, shipped in resources/web: referenced by file URL
for the page the app loads, or embedded so an exported page works anywhere offline."""

from __future__ import annotations

import base64
import re
from functools import cache
from pathlib import Path

from app.paths import WEB

# In load order.
LEAFLET_JS = ("leaflet/leaflet.js",)
LEAFLET_CSS = ("leaflet/leaflet.css",)
GRIDDESK_JS = ("griddesk/griddesk-map.js",)
GRIDDESK_CSS = ("griddesk/griddesk-map.css",)

# Kept with the embedded copies, as the licences ask.
_NOTICES = {
    "leaflet/": "Leaflet 1.9.4 (c) 2010-2023 Volodymyr Agafonkin, (c) 2010-2011 CloudMade; BSD-2-Clause",
}
_SOURCE_MAP = re.compile(r"^\s*//# sourceMappingURL=.*$", re.MULTILINE)
_CSS_URL = re.compile(r"url\((['\"]?)(images/[^'\")]+)\1\)")
# Chinese characters only: the bundled face is fetched only for text no system font covers.
_CJK_RANGES = (
    "U+2E80-2FDF, U+3000-303F, U+31C0-31EF, U+3400-4DBF, U+4E00-9FFF, U+F900-FAFF, U+FF00-FFEF"
)


def asset_files() -> tuple[list[Path], list[Path]]:
    """Return the (scripts, stylesheets) the page loads, in order."""
    js = [*LEAFLET_JS, *GRIDDESK_JS]
    css = [*LEAFLET_CSS, *GRIDDESK_CSS]
    return [WEB / p for p in js], [WEB / p for p in css]


def head_html(*, mode: str, cjk_font: Path | None = None) -> str:
    """Return the <head> markup loading the page's assets: ``<script src>``/``<link>`` with file
    URLs (mode "relative") or the code itself (mode "inline")."""
    if mode not in ("relative", "inline"):
        raise ValueError(f"asset_mode must be 'relative' or 'inline', not '{mode}'")
    scripts, sheets = asset_files()
    parts = []
    if mode == "relative":
        parts += [f'<link rel="stylesheet" href="{p.as_uri()}"/>' for p in sheets]
        if cjk_font is not None:
            parts.append(
                "<style>@font-face{font-family:'GridDesk CJK';"
                f"src:url('{cjk_font.as_uri()}');unicode-range:{_CJK_RANGES};}}</style>"
            )
        parts += [f'<script src="{p.as_uri()}"></script>' for p in scripts]
    else:
        parts += [f"<style>\n{_inline_css(p)}\n</style>" for p in sheets]
        parts += [f"<script>\n{_inline_js(p)}\n</script>" for p in scripts]
    return "\n".join(parts)


@cache
def _inline_js(path: Path) -> str:
    code = _SOURCE_MAP.sub("", path.read_text(encoding="utf-8"))
    # Neither library contains it today; a stray closing tag would end the script element.
    code = code.replace("</script", "<\\/script")
    return _notice(path) + code


@cache
def _inline_css(path: Path) -> str:
    css = path.read_text(encoding="utf-8")

    def data_uri(m: re.Match[str]) -> str:
        image = path.parent / m.group(2)
        if not image.is_file():
            return m.group(0)
        encoded = base64.b64encode(image.read_bytes()).decode("ascii")
        return f"url(data:image/png;base64,{encoded})"

    css = _CSS_URL.sub(data_uri, css).replace("</style", "<\\/style")
    return _notice(path) + css


def _notice(path: Path) -> str:
    rel = path.relative_to(WEB).as_posix()
    for prefix, text in _NOTICES.items():
        if rel.startswith(prefix):
            return f"/* {text} */\n"
    return ""
