"""What every cxchain command shares: the workspace and --json options, error handling, progress.

Kept apart from :mod:`cxchain.cli` so the commands that live beside their code (the web app's,
links 3-5's) use the same options and the same error handling without importing the main group.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .errors import CxchainError

workspace_option = click.option("--workspace", "-w", "workspace", default=".", show_default=True,
                                type=click.Path(file_okay=False, path_type=Path), help="Workspace folder.")
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")


def emit(obj: Any) -> None:
    """Print one JSON object."""
    click.echo(json.dumps(obj, indent=2, default=str))


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into a clear message and exit status 2, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CxchainError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted: nothing was published; the last good results are unchanged.", err=True)
            sys.exit(130)

    return wrapper


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """A rich progress bar on stderr when it is a terminal (and never in --json mode)."""
    if not enabled or not sys.stderr.isatty():
        def plain(step: str, done: int, total: int) -> None:
            if enabled and done == 0:
                click.echo(f"… {step}", err=True)
        yield plain
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), transient=True) as bar:
        task = bar.add_task("starting", total=1)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=step, completed=done, total=max(total, 1))

        yield update
