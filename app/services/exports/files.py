"""Writing export files all or nothing, and masking personal data by role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.services.errors import DomainError
from app.services.files.atomic import atomic_path
from app.services.people.auth import UserInfo, mask_id_number, mask_phone


class ExportError(DomainError):
    """The export cannot be written (a bad target path, say)."""


@contextmanager
def atomic_target(target: str | Path, *, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it to ``target`` when the block ends
    without error, delete it otherwise, so a failed or cancelled export leaves no half file."""
    target = Path(target)
    if suffixes and target.suffix.lower() not in suffixes:
        raise suffix_error(target, suffixes)
    if target.is_dir():
        raise ExportError("export.folder", target=str(target))
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError("export.no_folder", target=str(target), folder=str(folder))
    try:
        with atomic_path(target) as partial:
            yield partial
    except OSError as exc:
        raise ExportError(
            "export.cannot_write", target=str(target), problem=exc.strerror or str(exc)
        ) from None


def suffix_error(target: Path, suffixes: tuple[str, ...]) -> ExportError:
    """The refusal of a file name that does not end with one of ``suffixes``."""
    if len(suffixes) == 1:
        return ExportError("export.suffix_one", file=target.name, suffix=suffixes[0])
    return ExportError(
        "export.suffix", file=target.name, suffixes=list(suffixes[:-1]), last=suffixes[-1]
    )


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
