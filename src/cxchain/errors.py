"""Errors cxchain raises on purpose.

Every one carries a message written for the person at the keyboard: what went wrong, where (file,
line, setting) and what to do next.  The CLI prints the message without a traceback and exits 2;
the web app maps ``status`` to the HTTP response.

    CxchainError                 base: a user-facing problem
    ├── SettingsError            cxchain.toml is missing, unreadable or holds a bad value
    ├── WorkspaceError           the workspace folder is missing, locked or damaged
    ├── InputFileError           an input file cannot be read at all (empty, binary, unknown format)
    ├── MappingError             a mapping file is invalid or does not fit the file
    └── NotFoundError            a named thing (source, run, customer) does not exist
"""

from __future__ import annotations


class CxchainError(Exception):
    """Base class: a problem the user can fix; ``str(e)`` says how."""

    status = 400


class SettingsError(CxchainError):
    """A setting is missing or invalid."""


class WorkspaceError(CxchainError):
    """The workspace is missing, busy (another writer holds the lock) or damaged."""

    status = 409


class InputFileError(CxchainError):
    """An input file cannot be read as a whole (rows that fail are quarantined instead)."""


class MappingError(CxchainError):
    """A mapping file is invalid or names columns the file does not have."""


class NotFoundError(CxchainError):
    """A named object does not exist."""

    status = 404
