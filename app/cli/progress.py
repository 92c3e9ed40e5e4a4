"""Progress on a terminal for long command-line jobs (quiet when output is not a terminal)."""

from __future__ import annotations

import sys


class TerminalProgress:
    """A JobState that draws one updating line on standard error."""

    def __init__(self) -> None:
        self._last = -1
        self._tty = sys.stderr.isatty()

    def report(self, fraction: float, text: str = "") -> None:
        pct = int(fraction * 100)
        if not self._tty or pct == self._last:
            return
        self._last = pct
        sys.stderr.write(f"\r{pct:3d}% {text[:60]:<60}")
        if pct >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def cancelled(self) -> bool:
        return False
