"""Writing export files all or nothing, and masking personal data by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.services.atomic import atomic_path
from app.services.auth import UserInfo, mask_id_number, mask_phone


class ExportError(Exception):
    """The export cannot be written (a bad target path, say); the message is for the user."""


@contextmanager
def atomic_target(target: str | Path, *, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` when the block ends
    without error, delete it otherwise, so a failed or cancelled export leaves no half file."""
    target = Path(target)
    if suffixes and target.suffix.lower() not in suffixes:
        raise ExportError(f"{target.name}: the file name must end with {' or '.join(suffixes)}")
    if target.is_dir():
        raise ExportError(f"{target} is a folder, not a file name")
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(f"cannot write {target}: the folder {folder} does not exist")
    try:
        with atomic_path(target) as partial:
            yield partial
    except OSError as exc:
        raise ExportError(f"cannot write {target}: {exc.strerror or exc}") from None


def contact_masks(user: UserInfo | None) -> tuple[Callable[[str | None], str], Callable]:
    """Return (phone, id_number) formatters: shown in full only to a role that may see
    customers' contact data (DOMAIN.md: supervisors), masked for everyone else and for an
    export with no user."""
    if user is not None and user.sees_contact_data:
        return (lambda v: v or ""), (lambda v: v or "")
    return mask_phone, mask_id_number


def shows_contact_data(user: UserInfo | None) -> bool:
    return user is not None and user.sees_contact_data


@dataclass(frozen=True)
class ExportResult:
    """Where an export went and what it holds."""

    path: str
    sheets: tuple[str, ...]
    rows: int  # data rows written, headers not counted
