"""Progress on a terminal for long command-line jobs (quiet when output is not a terminal)."""

from __future__ import annotations

import sys

from app.services.messages import Message


class TerminalProgress:
    """A JobState that draws one updating line on standard error."""

    def __init__(self) -> None:
        self._last = -1
        self._text = ""
        self._tty = sys.stderr.isatty()

    def report(self, fraction: float, step: Message | None = None) -> None:
        pct = int(fraction * 100)
        if step is not None:
            self._text = str(step)  # the English sentence, as the command line speaks
        if not self._tty or pct == self._last:
            return
        self._last = pct
        text = self._text
        sys.stderr.write(f"\r{pct:3d}% {text[:60]:<60}")
        if pct >= 100:
            sys.stderr.write("\n")
        sys.stderr.flush()

    def cancelled(self) -> bool:
        return False
