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


# --- embed: design review, interaction QA, adherence -------------------------------------------------------


def _answers(values: tuple[str, ...]) -> tuple[dict[str, str], dict[str, str]]:
    """``PRINCIPLE=ANSWER`` or ``PRINCIPLE=ANSWER:comment`` -> (answers, comments)."""
    answers: dict[str, str] = {}
    comments: dict[str, str] = {}
    for v in values:
        pid, sep, rest = v.partition("=")
        if not sep:
            from ..errors import CxchainError

            raise CxchainError(f"--answer takes PRINCIPLE=yes|partly|no|n/a[:comment], not {v!r}.")
        ans, _, comment = rest.partition(":")
        answers[pid.strip()] = ans.strip().lower()
        if comment.strip():
            comments[pid.strip()] = comment.strip()
    return answers, comments


@code.command("review")
@click.option("--initiative", "initiative_id", default=None, help="Initiative to review (e.g. I1).")
@click.option("--text", default=None, help="A proposed change described in words (instead of --initiative).")
@click.option("--answer", "answer_opts", multiple=True,
              help="PRINCIPLE=yes|partly|no|n/a[:comment] (repeat, one per published principle); asked for "
                   "interactively when missing and the terminal allows.")
@click.option("--summary", default="", help="The reviewer's overall comment.")
@click.option("--list", "list_only", is_flag=True, help="Show the checklist (and stored reviews) without reviewing.")
@click.option("--actor", default="cli", show_default=True, help="Who reviews (recorded and audited).")
@workspace_option
@json_option
@friendly
def review_cmd(initiative_id: str | None, text: str | None, answer_opts: tuple[str, ...], summary: str,
               list_only: bool, actor: str, workspace: Path, as_json: bool) -> None:
    """Design review: check an initiative or a proposed change against each published principle."""
    import sys

    from .review import ANSWERS, checklist, list_reviews, review, reviews_of

    ws = _open(workspace)
    questions = checklist(ws)
    if list_only:
        stored = reviews_of(ws, initiative_id) if initiative_id else list_reviews(ws)
        if as_json:
            emit({"checklist": questions, "reviews": stored})
            return
        for q in questions:
            click.echo(f"- {q['principle_id']}: {q['question']}")
        for r in stored:
            click.echo(f"review {r['id']} ({r['initiative_id'] or 'text'}) {r['verdict']} score {r['score']} "
                       f"by {r['actor']} at {r['at']}: {r['subject'][:60]}")
        return
    answers, comments = _answers(answer_opts)
    missing = [q for q in questions if q["principle_id"] not in answers]
    if missing and not as_json and sys.stdin.isatty():
        for q in missing:
            click.echo(f"\n{q['title']}\n  {q['question']}\n  For staff: {q['for_staff']}")
            answers[q["principle_id"]] = click.prompt("  Answer", type=click.Choice(list(ANSWERS)))
            c = click.prompt("  Comment (optional)", default="", show_default=False)
            if c:
                comments[q["principle_id"]] = c
    r = review(ws, answers=answers, initiative_id=initiative_id, text=text, comments=comments, summary=summary,
               actor=actor)
    if as_json:
        emit(r)
        return
    score = "-" if r["score"] is None else f"{r['score']:.0f}/100"
    click.echo(f"Review {r['id']} of {r['initiative_id'] or 'the proposed change'}: {r['verdict']} ({score})")
    for a in r["answers"]:
        click.echo(f"  {a['answer']:7} {a['title']}" + (f" - {a['comment']}" if a["comment"] else ""))


@code.group("qa", invoke_without_command=True)
@click.option("--sample", "n", type=int, default=20, show_default=True, help="How many verdicts to sample.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sample seed (same seed, same sample).")
@click.option("--all", "include_reviewed", is_flag=True, help="Include contacts people already reviewed.")
@workspace_option
@json_option
@click.pass_context
@friendly
def qa_cmd(ctx: click.Context, n: int, seed: int, include_reviewed: bool, workspace: Path, as_json: bool) -> None:
    """Interaction QA: contacts scored against the published principles; a sample to confirm or correct."""
    if ctx.invoked_subcommand is not None:
        return
    from .qa import sample

    s = sample(_open(workspace), n, seed=seed, include_reviewed=include_reviewed)
    if as_json:
        emit(s)
        return
    a = s["agreement"]
    rate = "-" if a["rate"] is None else f"{a['rate']:.0%}"
    click.echo(f"{s['scored']['verdicts']} verdicts, {s['scored']['failing']} failing. People agreed with "
               f"{a['agreed']} of {a['reviewed']} reviewed ({rate}).")
    for it in s["items"]:
        why = "; ".join(c["label"] for c in it["failed_checks"]) or "every check passed"
        click.echo(f"\n{it['verdict'].upper():4} {it['principle']}  contact {it['record_id']} ({it['channel']}, "
                   f"{it['reason_id']}, {it['started_at'][:10]})\n     {why}")
        if it["text"]:
            click.echo("     customer: " + " / ".join(it["text"][:160].splitlines()))
        if it["agent_text"]:
            click.echo("     us: " + " / ".join(it["agent_text"][:160].splitlines()))
    if s["items"]:
        click.echo("\nConfirm: cxchain code qa confirm RECORD_ID PRINCIPLE   "
                   "Correct: cxchain code qa correct RECORD_ID PRINCIPLE --pass|--fail")


@qa_cmd.command("confirm")
@click.argument("record_id")
@click.argument("principle_id")
@click.option("--note", default="")
@click.option("--actor", default="cli", show_default=True)
@workspace_option
@json_option
@friendly
def qa_confirm_cmd(record_id: str, principle_id: str, note: str, actor: str, workspace: Path, as_json: bool) -> None:
    """Agree with the automatic verdict of a contact against a principle."""
    from .qa import confirm

    r = confirm(_open(workspace), record_id, principle_id, note=note, actor=actor)
    emit(r) if as_json else click.echo(f"Confirmed: {record_id} {'passes' if r['human_passed'] else 'fails'} "
                                       f"{principle_id}.")


@qa_cmd.command("correct")
@click.argument("record_id")
@click.argument("principle_id")
@click.option("--pass/--fail", "passed", required=True, help="The right verdict.")
@click.option("--note", default="")
@click.option("--actor", default="cli", show_default=True)
@workspace_option
@json_option
@friendly
def qa_correct_cmd(record_id: str, principle_id: str, passed: bool, note: str, actor: str, workspace: Path,
                   as_json: bool) -> None:
    """Give the right verdict of a contact against a principle (stored; counts against agreement if it differs)."""
    from .qa import correct

    r = correct(_open(workspace), record_id, principle_id, passed=passed, note=note, actor=actor)
    emit(r) if as_json else click.echo(
        f"Corrected: {record_id} {'passes' if passed else 'fails'} {principle_id} "
        f"({'agrees with' if r['agrees'] else 'differs from'} the automatic verdict).")


@code.command("adherence")
@workspace_option
@json_option
@friendly
def adherence_cmd(workspace: Path, as_json: bool) -> None:
    """Weekly adherence to each published principle, with XmR process limits and signals."""
    from .adherence import adherence

    rows = adherence(_open(workspace))
    if as_json:
        emit({"principles": rows})
        return
    for r in rows:
        ch = r["chart"]
        val = "-" if r["value"] is None else f"{r['value']:.1%}"
        lim = (f"limits {ch['lower']:.1%}-{ch['upper']:.1%} around {ch['centre']:.1%}" if ch["centre"] is not None
               else ch["note"])
        click.echo(f"{r['title']}: {val} of {r['contacts']} contacts keep it; {len(r['weeks'])} weeks; {lim}")
        for s in ch["signals"][-3:]:
            click.echo(f"   signal {s['week']}: {s['direction']} ({s['meaning']})")
