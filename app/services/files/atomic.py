"""Files written all or nothing, readable by their owner only, with no leftovers for good.

Every file GridDesk writes for a user (exports, the SMS outbox, offline copies) is written under
a temporary name beside its target and renamed over it when complete. The temporary file is
created anew (never through a link planted at its name) and only its owner may read it (0600 on
POSIX), as the final file then is: both hold customer data. A run that is killed cannot remove
its temporary file; the next write into the same folder does, once the process that made it is
gone (``sweep_leftovers``).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

SUFFIX = ".griddesk-partial"
# Files SQLite keeps beside a database it writes (an offline copy is one).
_COMPANIONS = ("", "-journal", "-wal", "-shm")
# Where a process's liveness cannot be asked (Windows), a leftover this old is taken as dead.
_STALE_SECONDS = 3600
_active: set[str] = set()


def _writer_gone(path: Path) -> bool:
    """Return True when the process that made the temporary file ``path`` no longer writes it.
    A process is asked only on the machine that made the file (a shared folder may hold
    another computer's); elsewhere a leftover must be an hour old."""
    parts = path.name.split(".")
    try:
        pid_text, host = (parts[-2].split("-") + ["", ""])[:2] if len(parts) >= 3 else ("", "")
        pid = int(pid_text)
    except ValueError:
        pid, host = -1, ""
    here = host == _HOST
    if pid == os.getpid() and here:
        return not any(str(path).startswith(a) for a in _active)
    if pid > 0 and here and sys.platform != "win32":
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False  # another user's live process
        return False
    try:
        return time.time() - path.stat().st_mtime > _STALE_SECONDS
    except OSError:
        return False


def sweep_leftovers(folder: str | os.PathLike[str]) -> int:
    """Remove the temporary files that killed GridDesk runs left in ``folder``; return how
    many were removed."""
    removed = 0
    with suppress(OSError):
        for path in Path(folder).iterdir():
            if SUFFIX in path.name and path.name.startswith(".") and _writer_gone(path):
                with suppress(OSError):
                    path.unlink()
                    removed += 1
    return removed


@contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a new, empty, owner-only temporary file beside ``target``; rename it over
    ``target`` when the block ends without error, remove it (and any SQLite companion files)
    otherwise."""
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    sweep_leftovers(folder)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=f".{os.getpid()}-{_HOST}{SUFFIX}", dir=folder
    )
    os.close(fd)
    _active.add(tmp)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    finally:
        _active.discard(tmp)
        for end in _COMPANIONS:
            with suppress(OSError):
                os.unlink(tmp + end)


def _host() -> str:
    """This machine's name, as it may stand in a file name (letters and digits only)."""
    import socket

    name = "".join(ch for ch in socket.gethostname() if ch.isalnum())
    return name[:32] or "host"


_HOST = _host()
