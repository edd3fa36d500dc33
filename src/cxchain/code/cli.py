"""``cxchain code``: draft, publish, list and diff the CX Code (register :data:`code` on the main group)."""

from __future__ import annotations

from pathlib import Path

import click

from ..cli_common import emit, friendly, json_option, workspace_option

__all__ = ["code"]


def _open(workspace: Path):  # type: ignore[no-untyped-def]
    from ..workspace import Workspace

    return Workspace(workspace)


@click.group("code")
def code() -> None:
    """The CX Code: principles in the customer's words, drafted from this workspace's evidence."""


@code.command("draft")
@workspace_option
@json_option
@click.option("--actor", default="cli", show_default=True, help="Who drafts (recorded with each version).")
@friendly
def draft_cmd(workspace: Path, as_json: bool, actor: str) -> None:
    """Propose five to eight principles from the strongest findings, and save them as drafts."""
    from .draft import draft_code, save_drafts

    ws = _open(workspace)
    ps = save_drafts(ws, draft_code(ws), actor=actor)
    if as_json:
        emit({"principles": [p.summary() for p in ps]})
        return
    for i, p in enumerate(ps, 1):
        flag = " [contradicted by the data]" if p.contradicted else ""
        click.echo(f"{i}. {p.title}  ({p.id}, {p.status}, v{p.version}){flag}")
        click.echo(f"   {p.statement}")
        click.echo(f"   evidence: {', '.join(p.evidence) or p.note}")
        for m in p.measures:
            sign = "<=" if m.direction == "below" else ">="
            click.echo(f"   measure: {m.metric_id} {m.filters or ''} {sign} {m.threshold} (now {m.baseline})")


@code.command("publish")
@workspace_option
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md"]), default="html", show_default=True)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
@click.option("--actor", default="cli", show_default=True)
@json_option
@friendly
def publish_cmd(workspace: Path, fmt: str, out: Path, actor: str, as_json: bool) -> None:
    """Write the one-page code with its evidence appendix (drafting it first if needed)."""
    from .principles import list_principles
    from .publish import publish

    ws = _open(workspace)
    path = publish(ws, fmt, out, actor=actor)
    ps = [p for p in list_principles(ws) if p.status == "published"]
    if as_json:
        emit({"out": str(path), "format": fmt, "principles": [p.id for p in ps]})
    else:
        click.echo(f"Published the CX Code ({len(ps)} principles) to {path}")


@code.command("list")
@workspace_option
@json_option
@friendly
def list_cmd(workspace: Path, as_json: bool) -> None:
    """The stored principles, in rank order."""
    from .principles import list_principles

    ps = list_principles(_open(workspace))
    if as_json:
        emit({"principles": [p.summary() for p in ps]})
        return
    if not ps:
        click.echo("No CX Code yet: run `cxchain code draft`.")
    for p in ps:
        click.echo(f"{p.id:32} v{p.version:<3} {p.status:11} {len(p.evidence)} finding(s)  {p.title}")


@code.command("diff")
@click.argument("principle_id")
@click.option("--from", "v_from", type=int, default=None, help="Older version (default: the one before --to).")
@click.option("--to", "v_to", type=int, default=None, help="Newer version (default: the current one).")
@workspace_option
@json_option
@friendly
def diff_cmd(principle_id: str, v_from: int | None, v_to: int | None, workspace: Path, as_json: bool) -> None:
    """What changed in a principle between two versions (default: the last change)."""
    from .principles import diff, diff_text, history

    hist = history(_open(workspace), principle_id)
    versions = {h["version"]: h["principle"] for h in hist}
    b_v = v_to if v_to is not None else hist[-1]["version"]
    a_v = v_from if v_from is not None else max(b_v - 1, hist[0]["version"])
    from ..errors import NotFoundError

    for v in (a_v, b_v):
        if v not in versions:
            raise NotFoundError(f"Principle {principle_id} has no version {v} (versions: {sorted(versions)}).")
    a, b = versions[a_v], versions[b_v]
    if as_json:
        emit({"id": principle_id, "from": a_v, "to": b_v, "changes": diff(a, b),
              "history": [{k: h[k] for k in ("version", "actor", "at", "note")} for h in hist]})
    else:
        click.echo(diff_text(a, b))
