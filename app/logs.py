"""The log file of the app and the command line: where it is, what reaches it, what never does.

Everything GridDesk logs goes to one rotating file in the platform's log folder (or
GRIDDESK_LOG_DIR). A filter on the file's handler masks passwords in messages and tracebacks,
so neither a database URL nor a password variable is ever written down. The terminal gets no
log lines: the command line keeps its one readable line, the app its message boxes.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import platform
import re
from pathlib import Path

from app import __version__

# Tests and scripts point this at a temporary folder so they never write the user's log.
LOG_DIR_ENV = "GRIDDESK_LOG_DIR"
# A folder given for isolated settings (tests, scripts) keeps the log too, unless told otherwise.
SETTINGS_DIR_ENV = "GRIDDESK_SETTINGS_DIR"
LOG_NAME = "griddesk.log"
MAX_BYTES = 1_000_000
BACKUPS = 5

log = logging.getLogger("griddesk")

_MASK = "***"
# scheme://user:PASSWORD@host - up to the last "@" of the word, so that a password holding an
# unencoded "@" or ":" is masked whole (masking too much is the safe side).
_URL_PASSWORD = re.compile(r"(?P<keep>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s'\"]*:)[^\s'\"]*@")
# password=..., GRIDDESK_PASSWORD=..., GRIDDESK_DB_PASSWORD=...: the rest of the line.
_KEY_PASSWORD = re.compile(r"(?P<keep>password\s*=\s*)[^\r\n]+", re.IGNORECASE)


def mask_secrets(text: str) -> str:
    """Return ``text`` with URL passwords and whatever follows ``password=`` replaced by ***."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['keep']}{_MASK}@", text)
    return _KEY_PASSWORD.sub(lambda m: f"{m['keep']}{_MASK}", text)


class SecretFilter(logging.Filter):
    """Masks passwords in a record's message and exception text before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg = mask_secrets(record.getMessage())
            record.args = None
        except Exception:  # a malformed call: the handler reports it, with the message unread
            return True
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_secrets(record.stack_info)
        return True


class _LogFileHandler(logging.handlers.RotatingFileHandler):
    """The one handler setup_logging installs (told apart from pytest's and the user's own)."""


def log_dir() -> Path:
    """Return the folder of the log file: GRIDDESK_LOG_DIR, an isolated settings folder, or
    the platform's log folder."""
    folder = os.environ.get(LOG_DIR_ENV) or os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        return Path(folder)
    from platformdirs import user_log_dir

    return Path(user_log_dir("GridDesk", appauthor=False))


def log_path() -> Path:
    """Return the path of the current log file."""
    return log_dir() / LOG_NAME


def _installed() -> _LogFileHandler | None:
    return next((h for h in logging.getLogger().handlers if isinstance(h, _LogFileHandler)), None)


def logging_to_file() -> bool:
    """Say whether GridDesk's log file is set up (setup_logging ran and found a folder)."""
    return _installed() is not None


def setup_logging() -> Path | None:
    """Send GridDesk's log to the rotating file and return its path (None when the folder
    cannot be written: the app then runs without a log rather than not at all). Calling it
    again is harmless; a changed folder moves the log there."""
    path = log_path()
    current = _installed()
    if current is not None:
        if current.baseFilename == os.path.abspath(path):
            return path
        logging.getLogger().removeHandler(current)
        current.close()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _LogFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
        )
    except OSError:
        return None
    handler.setLevel(logging.DEBUG)
    handler.addFilter(SecretFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    logging.getLogger().addHandler(handler)
    # Our own records down to DEBUG; other libraries keep the root's WARNING.
    log.setLevel(logging.DEBUG)
    return path


def log_start(kind: str, database_url: str) -> None:
    """Log that GridDesk started as ``kind`` ("app", "command init") on the database."""
    from app.db import redact

    log.info(
        "GridDesk %s %s started on %s, Python %s, database %s",
        __version__,
        kind,
        platform.platform(),
        platform.python_version(),
        redact(database_url),
    )
