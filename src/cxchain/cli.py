"""The `cxchain` command line: a thin adapter over :class:`cxchain.Workspace`.

Each command opens the workspace and calls one library method.  Errors the user can fix
(:class:`cxchain.errors.CxchainError`) are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .cli_common import emit, friendly, json_option, progress_bar, workspace_option
from .settings import SECTORS
from .workspace import Workspace


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cxchain")
def cli() -> None:
    """cxchain: the CX Chain end to end, from siloed contact-centre data to a measured cycle of change.

    Start with `cxchain demo` to see the whole chain on a sample organisation, or
    `cxchain init DIR --sector council` for your own data.
    """


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--sector", type=click.Choice(SECTORS), default="council", show_default=True, help="Sector of the organisation.")
@friendly
def init(directory: Path, sector: str) -> None:
    """Create a workspace in DIRECTORY with a documented cxchain.toml."""
    ws = Workspace.init(directory, sector=sector)
    click.echo(f"Created workspace {ws.path} (sector {sector}). Edit {ws.path / 'cxchain.toml'}, then `cxchain ingest FILE --source NAME -w {directory}`.")


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--source", required=True, help="Source name, e.g. acd_calls.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path), help="Mapping file (default: the source's, else a suggested one is saved).")
@workspace_option
@json_option
@friendly
def ingest(paths: tuple[Path, ...], source: str, mapping: Path | None, workspace: Path, as_json: bool) -> None:
    """Ingest export files (CSV, Excel, JSON, NDJSON, Parquet) for one source."""
    ws = Workspace(workspace)
    with progress_bar(not as_json) as progress:
        report = ws.ingest(list(paths), source=source, mapping=mapping, progress=progress)
    d = report.to_dict()
    if as_json:
        emit(d)
        return
    for f in d["files"]:
        click.echo(f"{f['file']}: read {f['rows_read']}, loaded {f['rows_loaded']} ({f['rows_updated']} updated), "
                   f"duplicate {f['rows_duplicate']}, quarantined {f['rows_quarantined']}")
        for s in f["quarantine_sample"][:3]:
            click.echo(f"   quarantined {s['location']}: {s['reason']}")
    t = d["totals"]
    click.echo(f"Total: read {t['rows_read']} = loaded {t['rows_loaded']} + quarantined {t['rows_quarantined']} + duplicate {t['rows_duplicate']}")


@cli.group(name="map")
def map_group() -> None:
    """Mapping files: how a source's columns become canonical fields."""


@map_group.command("suggest")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", default=None, help="Source name (default: the file's stem).")
@click.option("--entity", type=click.Choice(["contact", "case", "complaint", "survey", "property"]), help="Force the entity.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the mapping here (default: print it).")
@friendly
def map_suggest(file: Path, source: str | None, entity: str | None, out: Path | None) -> None:
    """Propose a mapping for FILE from its column names and value shapes."""
    from .data.suggest import suggest_mapping

    mp, notes = suggest_mapping(file, source or file.stem.replace(" ", "_"), entity=entity)
    header = "# Suggested by cxchain; review it:\n" + "\n".join(f"#  - {n}" for n in notes)
    if out:
        mp.dump(out, header=header)
        click.echo(f"Wrote {out}")
    else:
        import yaml

        click.echo(header + "\n" + yaml.safe_dump(mp.to_dict(), sort_keys=False, allow_unicode=True))


@cli.command()
@workspace_option
@json_option
@friendly
def link(workspace: Path, as_json: bool) -> None:
    """Resolve customers across silos and rebuild journeys; report link rates per source pair."""
    ws = Workspace(workspace)
    with progress_bar(not as_json) as progress:
        stats = ws.link(progress=progress)
    if as_json:
        emit(stats)
        return
    click.echo(f"Linked {stats.get('records')} records into {stats.get('customers')} customers in {stats.get('seconds')} s.")
    for r in stats["link_rates"]:
        click.echo(f"  {r['source']:>14} -> {r['other']:<14} {r['share']:6.1%}")


engine_option = click.option("--engine", type=click.Choice(["duckdb", "spark"]), default=None,
                             help="Engine for the table transforms, overriding the workspace's `engine` setting "
                                  "(spark: local mode unless spark.master is set; see docs/spark.md).")


@cli.command()
@click.option("--until", type=click.Choice(["data", "insight"]), default="insight", show_default=True,
              help="Stop after this link of the chain.")
@click.option("--full", is_flag=True, help="Recompute every contact's reason and sentiment, not only new and changed ones.")
@engine_option
@workspace_option
@json_option
@friendly
def run(until: str, full: bool, engine: str | None, workspace: Path, as_json: bool) -> None:
    """Bring the workspace up to date: ingest new files of configured sources, link, compute insight, publish."""
    ws = Workspace(workspace)
    with progress_bar(not as_json) as progress:
        result = ws.run(progress=progress, until=until, full=full, engine=engine)
    if as_json:
        emit(result)
        return
    t = result["ingest"]["totals"]
    click.echo(f"Ingested {len(result['ingest']['files'])} new files: read {t['rows_read']}, loaded {t['rows_loaded']}, "
               f"quarantined {t['rows_quarantined']}, duplicate {t['rows_duplicate']}.")
    click.echo(f"Linked {result['link'].get('records')} records to {result['link'].get('customers')} customers. "
               f"Published generation {result['published']['generation']} in {result['seconds']} s.")


out_option = click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                          help="Also write the table to a .csv or .xlsx file (formula prefixes neutralised).")


def _write_out(out: Path | None, rows: list[dict[str, Any]]) -> None:
    if out:
        from .report.export import write_table

        flat = [{k: (json.dumps(v, default=str) if isinstance(v, (dict, list)) else v) for k, v in r.items()} for r in rows]
        write_table(flat, out)
        click.echo(f"Wrote {out}", err=True)


@cli.command()
@workspace_option
@json_option
@out_option
@friendly
def sources(workspace: Path, as_json: bool, out: Path | None) -> None:
    """The data catalogue: rows, dates, freshness, completeness, quarantine and link coverage per source."""
    cat = Workspace(workspace).sources()
    _write_out(out, cat)
    if as_json:
        emit({"sources": cat})
        return
    for e in cat:
        cov = ", ".join(f"{v:.0%} known to {o}" for o, v in sorted(e.get("link_coverage", {}).items(), key=lambda x: -x[1])[:3])
        fresh = "fresh" if e.get("fresh") else "STALE" if e.get("age_days") is not None else "-"
        click.echo(f"{e['source']:<14} {e.get('entity') or '-':<9} {e['rows']:>9} rows  {str(e.get('first'))[:10]} .. {str(e.get('last'))[:10]}  "
                   f"{fresh:<5} quarantined {e.get('quarantined_open', 0):>5}  {cov}")


@cli.command()
@workspace_option
@json_option
@friendly
def health(workspace: Path, as_json: bool) -> None:
    """Chain health: does each link hold, and if not, why."""
    h = Workspace(workspace).health()
    if as_json:
        emit(h)
        return
    click.echo(f"Chain health as of {h['as_of']}")
    for name, link_ in h["links"].items():
        click.echo(f"  {name:<10} {link_['status'].upper()}")
        for r in link_["reasons"]:
            click.echo(f"     [{r['code']}] {r['text']}")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["html", "pdf", "md"]), default="html", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write.")
@workspace_option
@json_option
@friendly
def story(fmt: str, out: Path, workspace: Path, as_json: bool) -> None:
    """Write the insight story of the published run: a self-contained document a manager reads in ten minutes."""
    from .report.story import write_story

    s = Workspace(workspace).story()
    write_story(s, fmt, out)
    if as_json:
        emit({"out": str(out), "format": fmt, "top": s["top"], "headline": s["headline"]})
    else:
        click.echo(f"Wrote {out}. Headline: {s['headline']}")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--text-column", required=True, help="Column holding the verbatims.")
@click.option("--id-column", default=None, help="Column with row ids (default: the input row number from 0).")
@click.option("--examples", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV with columns text,label: the reasons are those labels (few-shot).")
@click.option("--reasons", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="One reason a line, optionally 'name: description' (zero-shot).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="CSV to write.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Embedding cache (default: ~/.cache/cxchain/embeddings).")
@json_option
@friendly
def themes(file: Path, text_column: str, id_column: str | None, examples: Path | None, reasons: Path | None, out: Path,
           cache_dir: Path | None, as_json: bool) -> None:
    """Theme any file of verbatims, no workspace needed: one output row per input row, in input order."""
    from .insight.themes import theme_file

    if examples and reasons:
        raise click.UsageError("Give --examples or --reasons, not both.")
    cache = cache_dir or Path.home() / ".cache" / "cxchain" / "embeddings"
    summary = theme_file(file, text_column=text_column, id_column=id_column, examples=examples, reasons=reasons, out=out,
                         cache_dir=cache)
    if as_json:
        emit(summary)
    else:
        click.echo(f"Wrote {out}: " + ", ".join(f"{k} {v}" for k, v in summary.items() if not isinstance(v, (list, dict))))


@cli.group()
def quarantine() -> None:
    """Rows that could not be loaded: list them, fix the mapping or settings, replay them."""


@quarantine.command("list")
@click.option("--source", default=None)
@click.option("--limit", default=50, show_default=True)
@workspace_option
@json_option
@out_option
@friendly
def quarantine_list(source: str | None, limit: int, workspace: Path, as_json: bool, out: Path | None) -> None:
    """List open quarantined rows with file, location and reason."""
    rows = Workspace(workspace).quarantine(source=source, limit=limit)
    _write_out(out, rows)
    if as_json:
        emit({"quarantine": rows})
        return
    for r in rows:
        click.echo(f"{r['location']:<32} {r['source']:<12} {r['reason']}")
    if not rows:
        click.echo("Quarantine is empty.")


@quarantine.command("replay")
@click.option("--source", default=None)
@workspace_option
@json_option
@friendly
def quarantine_replay(source: str | None, workspace: Path, as_json: bool) -> None:
    """Re-play open quarantined rows through the current mapping and settings."""
    rep = Workspace(workspace).replay_quarantine(source=source).to_dict()
    if as_json:
        emit(rep)
        return
    t = rep["totals"]
    click.echo(f"Replayed {t['rows_read']}: loaded {t['rows_loaded']}, duplicate {t['rows_duplicate']}, still quarantined {t['rows_quarantined']}.")


@cli.group()
def privacy() -> None:
    """Data protection: subject access, erasure, retention purge, data-flow description."""


def _who(ws: Workspace, email: str | None, phone: str | None, key: str | None) -> str:
    return ws.find_customer(email=email, phone=phone, customer_key=key)


_id_options = [click.option("--email"), click.option("--phone"), click.option("--customer-key")]


def _with_ids(f: Callable[..., Any]) -> Callable[..., Any]:
    for opt in reversed(_id_options):
        f = opt(f)
    return f


@privacy.command("access")
@_with_ids
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), required=True, help="JSON file to write.")
@workspace_option
@friendly
def privacy_access(email: str | None, phone: str | None, customer_key: str | None, out: Path, workspace: Path) -> None:
    """Export everything held about one customer across all silos (subject access request)."""
    ws = Workspace(workspace)
    data = ws.subject_access(_who(ws, email, phone, customer_key))
    out.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    click.echo(f"Wrote {out}: {sum(len(v) for v in data['records'].values())} records, {len(data['identities'])} identity records.")


@privacy.command("erase")
@_with_ids
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@workspace_option
@friendly
def privacy_erase(email: str | None, phone: str | None, customer_key: str | None, yes: bool, workspace: Path) -> None:
    """Erase one customer from every silo (audited)."""
    ws = Workspace(workspace)
    key = _who(ws, email, phone, customer_key)
    if not yes:
        click.confirm(f"Erase customer {key} from every silo?", abort=True)
    counts = ws.erase(key)
    click.echo(f"Erased {key}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


@privacy.command("purge")
@workspace_option
@friendly
def privacy_purge(workspace: Path) -> None:
    """Delete records older than their source's retention period."""
    counts = Workspace(workspace).purge()
    click.echo("Purged: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "nothing past retention"))


@privacy.command("data-flow")
@workspace_option
@friendly
def privacy_data_flow(workspace: Path) -> None:
    """Print a data-flow description (Markdown) for your impact assessment."""
    click.echo(Workspace(workspace).data_flow())


@cli.command()
@click.option("--workspace", "-w", "workspace", default="cxchain-demo", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the demo workspace (replaced).")
@click.option("--sector", type=click.Choice(["council", "housing"]), default="council", show_default=True)
@click.option("--contacts", default=20_000, show_default=True, help="Number of contacts to generate.")
@click.option("--seed", default=0, show_default=True)
@engine_option
@json_option
@friendly
def demo(workspace: Path, sector: str, contacts: int, seed: int, engine: str | None, as_json: bool) -> None:
    """Generate the seeded sample organisation and run the chain as far as it exists."""
    from .demo.workspace import build_demo

    with progress_bar(not as_json) as progress:
        result = build_demo(workspace, sector=sector, contacts=contacts, seed=seed, progress=progress, engine=engine)
    if as_json:
        emit(result)
        return
    click.echo(result["summary"])


# Commands that live beside their code (the web app; links 3-5) register here.
from .code.cli import code  # noqa: E402
from .priorities.cli import cycle, initiative, priorities  # noqa: E402
from .web.cli import serve, users  # noqa: E402

for _command in (serve, users, priorities, initiative, cycle, code):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="cxchain")


if __name__ == "__main__":  # pragma: no cover
    main()
