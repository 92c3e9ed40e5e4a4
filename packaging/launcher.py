"""The frozen program's entry point: the same as the ``griddesk`` command (no arguments opens
the app)."""

import os
import sys


def _null_streams() -> None:
    # A program built without a console (GridDesk.exe on Windows) starts with no standard
    # streams: sys.stdout and sys.stderr are None and descriptors 1 and 2 are not open. Code
    # that writes to them or redirects them (progress lines, HiGHS's banner) would fail, so
    # they go to the null device instead.
    for fd, name in ((1, "stdout"), (2, "stderr")):
        if getattr(sys, name) is not None:
            continue
        null = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives as long as we do
        try:
            os.fstat(fd)
        except OSError:
            os.dup2(null.fileno(), fd)
        setattr(sys, name, null)


if __name__ == "__main__":
    _null_streams()
    from app.cli import main

    sys.exit(main())
