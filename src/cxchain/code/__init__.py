"""The CX Code (link 6): principles in the customer's words, evidenced by this workspace's findings.

::

    from cxchain.code import draft_code, save_drafts, publish, code_health
    ps = save_drafts(ws, draft_code(ws))     # five to eight principles, each citing finding ids
    publish(ws, "html", "code.html")         # one page plus an evidence appendix
    code_health(ws)["status"]
"""

from __future__ import annotations

from .draft import draft_code, save_drafts
from .health import REASONS, code_health
from .packs import PACK_SECTORS, load_pack, pack_principles
from .principles import (
           ASSUMPTION_NOTE,
           Measure,
           Principle,
           diff,
           diff_text,
           get,
           history,
           list_principles,
           save,
)
from .publish import publish

__all__ = ["ASSUMPTION_NOTE", "Measure", "PACK_SECTORS", "Principle", "REASONS", "code_health", "diff", "diff_text",
           "draft_code", "get", "history", "list_principles", "load_pack", "pack_principles", "publish", "save",
           "save_drafts"]
