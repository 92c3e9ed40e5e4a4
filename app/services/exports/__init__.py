"""Exports supervisors take out of GridDesk: the meeting workbook (``write_meeting_workbook``),
the detail export of customers, policies and tasks (``write_detail``, XLSX streamed or CSV),
and the scope and masking rules they share. No Qt here."""

from app.services.exports.files import ExportError, ExportResult
from app.services.exports.scope import ExportScope, ScopeError, find_branch, resolve_scope
from app.services.words import LANGS, Texts

__all__ = [
    "LANGS",
    "ExportError",
    "ExportResult",
    "ExportScope",
    "ScopeError",
    "Texts",
    "find_branch",
    "resolve_scope",
]
