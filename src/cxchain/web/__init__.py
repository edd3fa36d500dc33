"""The web app and REST API (``cxchain serve``): server-rendered pages with JSON twins, accounts and roles.

Needs the ``web`` extra (fastapi, uvicorn, python-multipart).  :func:`create_app` builds the app for one
workspace; :mod:`cxchain.web.users` manages accounts, sessions and API tokens.
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(workspace_path: Any, **kwargs: Any) -> Any:
    """See :func:`cxchain.web.app.create_app` (imported lazily so ``cxchain`` works without the web extra)."""
    from .app import create_app as _create

    return _create(workspace_path, **kwargs)
