"""cxchain: the CX Chain end to end.

Links: customer data (:mod:`cxchain.data`), customer insight, CX priorities, coordinated redesign,
a continuous cycle, and the CX Code.  The library is the product; the CLI is a thin adapter.

    >>> from cxchain import Workspace
    >>> ws = Workspace.init("acme", sector="housing")      # doctest: +SKIP
"""

from .errors import CxchainError, InputFileError, MappingError, NotFoundError, SettingsError, WorkspaceError
from .workspace import Workspace

__all__ = ["CxchainError", "InputFileError", "MappingError", "NotFoundError", "SettingsError", "Workspace", "WorkspaceError"]
__version__ = "0.1.0"
