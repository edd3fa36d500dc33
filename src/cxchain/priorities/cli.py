"""CLI commands of links 3-5: ``priorities``, ``initiative``, ``cycle`` (thin adapters over the library).

Register with ``cli.add_command(priorities)``, ``cli.add_command(initiative)``, ``cli.add_command(cycle)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..cli_common import friendly, json_option, workspace_option
from ..workspace import Workspace

__all__ = ["priorities", "initiative", "cycle"]


def _emit(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, default=str))


actor_option = click.option(
    "--by", "actor", default="cli", show_default=True, help="Who is making this change."
)


@click.group(invoke_without_command=True)
@click.option("--horizon", type=click.Choice(["12w", "6m"]), default="12w", show_default=True)
@workspace_option
@json_option
@click.pass_context
@friendly
def priorities(ctx: click.Context, horizon: str, workspace: Path, as_json: bool) -> None:
    """Propose the open cycle's priorities for the horizon and print the plan (or decide one: see the subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    from .plan import propose_plan

    plan = propose_plan(Workspace(workspace), horizon=horizon)
    if as_json:
        _emit(plan)
        return
    c = plan["cycle"]
    click.echo(f"Plan for cycle {c['id']} ({c['start']} to {c['end']}), horizon {horizon}:")
    for p in plan["priorities"]:
        click.echo(
            f"  {p['id']}  [{p['status']}]  score {p['opportunity'].get('score', 0):.0f}  {p['title']}"
        )
        click.echo(f"      {p['rationale']}")
        if p["finding_ids"]:
            click.echo(f"      findings: {', '.join(p['finding_ids'])}")
    click.echo("Decide each: cxchain priorities accept|reject|override ID --reason '...'")


@priorities.command("opportunities")
@click.option("--by-channel", is_flag=True, help="Reason x channel instead of reason.")
@click.option("--limit", default=15, show_default=True)
@workspace_option
@json_option
@friendly
def priorities_opportunities(by_channel: bool, limit: int, workspace: Path, as_json: bool) -> None:
    """Opportunities sized in contacts, minutes, money and customer impact, with every score term."""
    from .opportunities import opportunities

    rows = opportunities(Workspace(workspace), level="reason_channel" if by_channel else "reason")[:limit]
    if as_json:
        _emit(rows)
        return
    for o in rows:
        ch = f" / {o['channel']}" if o["channel"] else ""
        click.echo(
            f"{o['rank']:>3}. {o['reason_name']}{ch}: score {o['score']:.1f}; {o['avoidable_contacts']:,.0f} "
            f"avoidable contacts/yr; GBP {o['cost']['low']:,.0f}-{o['cost']['high']:,.0f}/yr"
        )
        click.echo("      " + "; ".join(f"{k} {t['points']:.1f}" for k, t in o["terms"].items()))


def _decision(name: str) -> Any:
    @priorities.command(
        name, help=f"{name.capitalize()} a proposed priority of the open cycle, saying why (--reason)."
    )
    @click.argument("priority_id")
    @click.option("--reason", required=True, help="Why (kept with the decision).")
    @actor_option
    @workspace_option
    @json_option
    @friendly
    def cmd(priority_id: str, reason: str, actor: str, workspace: Path, as_json: bool) -> None:
        from . import plan

        p = getattr(plan, name)(Workspace(workspace), priority_id, reason=reason, actor=actor)
        _emit(p) if as_json else click.echo(f"{p['id']} is now {p['status']}.")

    return cmd


priorities_accept = _decision("accept")
priorities_reject = _decision("reject")


@priorities.command("override")
@click.argument("priority_id")
@click.option("--reason", required=True, help="Why (kept with the decision).")
@click.option("--reason-id", default=None, help="Work on this contact reason instead.")
@click.option("--title", default=None)
@click.option("--rank", type=int, default=None)
@actor_option
@workspace_option
@json_option
@friendly
def priorities_override(
    priority_id: str,
    reason: str,
    reason_id: str | None,
    title: str | None,
    rank: int | None,
    actor: str,
    workspace: Path,
    as_json: bool,
) -> None:
    """Accept a priority in a changed form (reason id, title or rank), saying why."""
    from .plan import override

    p = override(
        Workspace(workspace),
        priority_id,
        reason=reason,
        actor=actor,
        reason_id=reason_id,
        title=title,
        rank=rank,
    )
    _emit(p) if as_json else click.echo(f"{p['id']} is now {p['status']}.")


@click.group()
def initiative() -> None:
    """Initiatives (coordinated redesign) that come from accepted priorities."""


def _areas(values: tuple[str, ...]) -> list[dict[str, str]]:
    out = []
    for v in values:
        area, _, owner = v.partition("=")
        out.append({"area": area.strip(), "owner": owner.strip()})
    return out


@initiative.command("add")
@click.argument("priority_id")
@click.option("--title", required=True)
@click.option(
    "--type", "kind", type=click.Choice(["process", "policy", "technology", "people"]), required=True
)
@click.option(
    "--area", "areas", multiple=True, help="Business area and its owner: 'Repairs=Jo Bloggs' (repeat)."
)
@click.option("--start", default=None, help="Start date (YYYY-MM-DD).")
@click.option("--go-live", default=None, help="Go-live date (YYYY-MM-DD).")
@click.option("--metric", default="volume", show_default=True, help="Target metric id from the registry.")
@click.option(
    "--filter", "filters", multiple=True, help="Metric filter column=value (default: the priority's reason)."
)
@click.option("--target", type=float, default=None, help="Target value of the metric.")
@click.option(
    "--target-change",
    type=float,
    default=None,
    help="Target as a relative change of the baseline, e.g. -0.2.",
)
@actor_option
@workspace_option
@json_option
@friendly
def initiative_add(
    priority_id: str,
    title: str,
    kind: str,
    areas: tuple[str, ...],
    start: str | None,
    go_live: str | None,
    metric: str,
    filters: tuple[str, ...],
    target: float | None,
    target_change: float | None,
    actor: str,
    workspace: Path,
    as_json: bool,
) -> None:
    """Create an initiative under an accepted priority."""
    from ..redesign.initiatives import add_initiative

    f = dict(x.split("=", 1) for x in filters) if filters else None
    d = add_initiative(
        Workspace(workspace),
        priority_id,
        title=title,
        type=kind,
        areas=_areas(areas),
        start=start,
        go_live=go_live,
        metric_id=metric,
        metric_filters=f,
        target=target,
        target_change=target_change,
        actor=actor,
    )
    _emit(d) if as_json else click.echo(
        f"Created {d['id']} (version {d['version']}); baseline "
        f"{(d['baseline'] or {}).get('value')}, target {d['target']}."
    )


@initiative.command("list")
@click.option("--board", "as_board", is_flag=True, help="Group by business area.")
@workspace_option
@json_option
@friendly
def initiative_list(as_board: bool, workspace: Path, as_json: bool) -> None:
    """List initiatives (or the board by business area)."""
    from ..redesign.initiatives import board, list_initiatives

    ws = Workspace(workspace)
    if as_board:
        b = board(ws)
        if as_json:
            _emit(b)
            return
        for area, cards in b.items():
            click.echo(area)
            for c in cards:
                click.echo(
                    f"  {c['id']} {c['title']} [{c['status']}] owner {c['owner'] or '-'}; verdict {c['verdict'] or '-'}"
                )
        return
    rows = list_initiatives(ws)
    if as_json:
        _emit(rows)
        return
    for d in rows:
        lm = d["latest_measurement"]
        click.echo(
            f"{d['id']} v{d['version']} [{d['status']}] {d['title']} (priority {d['priority_id']}, go-live "
            f"{d['go_live'] or '-'}): {lm['verdict'] if lm else 'not measured'}"
        )


@initiative.command("update")
@click.argument("initiative_id")
@click.option(
    "--version", "expected_version", type=int, required=True, help="The version your edit is based on."
)
@click.option("--title", default=None)
@click.option(
    "--status", type=click.Choice(["planned", "in_progress", "live", "done", "stopped"]), default=None
)
@click.option("--start", default=None)
@click.option("--go-live", default=None)
@click.option("--target", type=float, default=None)
@click.option("--area", "areas", multiple=True, help="Replace the business areas: 'Area=Owner' (repeat).")
@actor_option
@workspace_option
@json_option
@friendly
def initiative_update(
    initiative_id: str,
    expected_version: int,
    title: str | None,
    status: str | None,
    start: str | None,
    go_live: str | None,
    target: float | None,
    areas: tuple[str, ...],
    actor: str,
    workspace: Path,
    as_json: bool,
) -> None:
    """Edit an initiative; refused if someone changed it since --version."""
    from ..redesign.initiatives import update_initiative

    changes: dict[str, Any] = {
        k: v
        for k, v in (
            ("title", title),
            ("status", status),
            ("start", start),
            ("go_live", go_live),
            ("target", target),
        )
        if v is not None
    }
    if areas:
        changes["areas"] = _areas(areas)
    d = update_initiative(
        Workspace(workspace), initiative_id, expected_version=expected_version, actor=actor, **changes
    )
    _emit(d) if as_json else click.echo(f"{d['id']} saved (version {d['version']}).")


@initiative.command("show")
@click.argument("initiative_id")
@workspace_option
@json_option
@friendly
def initiative_show(initiative_id: str, workspace: Path, as_json: bool) -> None:
    """One initiative: areas, dates, target, tasks, measurements and its CX Code design reviews."""
    from ..redesign.initiatives import get_initiative

    d = get_initiative(Workspace(workspace), initiative_id)
    if as_json:
        _emit(d)
        return
    click.echo(f"{d['id']} v{d['version']} [{d['status']}] {d['title']} (priority {d['priority_id']}, {d['type']})")
    click.echo("  areas: " + (", ".join(f"{a['area']} ({a['owner'] or 'no owner'})" for a in d["areas"]) or "-"))
    click.echo(f"  start {d['start'] or '-'}, go-live {d['go_live'] or '-'}; target {d['metric_id']} "
               f"{d['metric_filters'] or ''} -> {d['target']} (baseline {(d['baseline'] or {}).get('value')})")
    for t in d["tasks"]:
        click.echo(f"  task: {t['title']} [{t['status']}] {t['owner'] or ''} {t['due'] or ''}")
    for m in d["measurements"]:
        click.echo(f"  measured {m['measured_at']}: {m['verdict']} - {m['summary']}")
    if not d["code_reviews"]:
        click.echo(f"  CX Code review: none yet (`cxchain code review --initiative {d['id']}`)")
    for r in d["code_reviews"]:
        score = "-" if r["score"] is None else f"{r['score']:.0f}"
        click.echo(f"  CX Code review {r['id']} by {r['actor']} at {r['at']}: {r['verdict']} (score {score})")
        for a in r["answers"]:
            note = f" - {a['comment']}" if a["comment"] else ""
            click.echo(f"    {a['answer']:7} {a['title']}{note}")


@initiative.command("task")
@click.argument("initiative_id")
@click.option("--title", required=True)
@click.option("--owner", default=None)
@click.option("--due", default=None, help="Due date (YYYY-MM-DD).")
@click.option(
    "--version",
    "expected_version",
    type=int,
    default=None,
    help="Refuse if the initiative changed since this version.",
)
@actor_option
@workspace_option
@json_option
@friendly
def initiative_task(
    initiative_id: str,
    title: str,
    owner: str | None,
    due: str | None,
    expected_version: int | None,
    actor: str,
    workspace: Path,
    as_json: bool,
) -> None:
    """Add a task to an initiative (logged in its change log)."""
    from ..redesign.initiatives import add_task

    d = add_task(
        Workspace(workspace),
        initiative_id,
        title=title,
        owner=owner,
        due=due,
        actor=actor,
        expected_version=expected_version,
    )
    _emit(d) if as_json else click.echo(
        f"Added task {d['tasks'][-1]['id']} to {d['id']} (version {d['version']})."
    )


@initiative.command("task-status")
@click.argument("initiative_id")
@click.argument("task_id", type=int)
@click.option("--status", type=click.Choice(["open", "done", "dropped"]), required=True)
@click.option(
    "--version",
    "expected_version",
    type=int,
    required=True,
    help="The initiative version your edit is based on.",
)
@actor_option
@workspace_option
@json_option
@friendly
def initiative_task_status(
    initiative_id: str,
    task_id: int,
    status: str,
    expected_version: int,
    actor: str,
    workspace: Path,
    as_json: bool,
) -> None:
    """Set a task's status; refused if someone changed the initiative since --version."""
    from ..redesign.initiatives import update_task

    d = update_task(
        Workspace(workspace),
        initiative_id,
        task_id,
        status=status,
        expected_version=expected_version,
        actor=actor,
    )
    _emit(d) if as_json else click.echo(f"Task {task_id} of {d['id']} is {status} (version {d['version']}).")


@click.group()
def cycle() -> None:
    """Improvement cycles: open, close (measures every go-live), report."""


@cycle.command("open")
@click.option("--start", default=None, help="Start date (default: the workspace as_of).")
@click.option("--weeks", type=int, default=None, help="Length (default: cycle.length_weeks).")
@actor_option
@workspace_option
@json_option
@friendly
def cycle_open(start: str | None, weeks: int | None, actor: str, workspace: Path, as_json: bool) -> None:
    """Open the next improvement cycle (length from cycle.length_weeks)."""
    from ..cycle.cycles import open_cycle

    c = open_cycle(Workspace(workspace), start=start, length_weeks=weeks, actor=actor)
    _emit(c) if as_json else click.echo(f"Opened cycle {c['id']}: {c['start']} to {c['end']}.")


def _print_report(r: dict[str, Any]) -> None:
    c = r["cycle"]
    click.echo(f"Cycle {c['id']} ({c['start']} to {c['end']}, {c['status']})")
    for p in r["priorities"]:
        click.echo(f"  priority {p['id']} [{p['status']}] {p['title']}")
    for line in r["text"]:
        click.echo(f"  {line}")


@cycle.command("close")
@actor_option
@workspace_option
@json_option
@friendly
def cycle_close(actor: str, workspace: Path, as_json: bool) -> None:
    """Close the open cycle: measure every initiative with a go-live date and print the cycle report."""
    from ..cycle.cycles import close_cycle

    r = close_cycle(Workspace(workspace), actor=actor)
    _emit(r) if as_json else _print_report(r)


@cycle.command("report")
@click.argument("cycle_id", required=False)
@workspace_option
@json_option
@friendly
def cycle_report_cmd(cycle_id: str | None, workspace: Path, as_json: bool) -> None:
    """What we changed and what it did (default: the latest cycle)."""
    from ..cycle.cycles import cycle_report

    r = cycle_report(Workspace(workspace), cycle_id)
    _emit(r) if as_json else _print_report(r)
