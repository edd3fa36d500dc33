"""``cxchain serve`` and ``cxchain users ...``: thin click adapters over :mod:`cxchain.web`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..cli_common import friendly, json_option, workspace_option  # noqa: E402
from ..workspace import Workspace
from . import users as _users


@click.command()
@workspace_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
@click.option("--secure-cookies", is_flag=True, help="Always set the Secure cookie flag (behind an https proxy).")
@friendly
def serve(workspace: Path, host: str, port: int, secure_cookies: bool) -> None:
    """Serve the web app for a workspace (sign in with an account from `cxchain users add`)."""
    import uvicorn

    from .app import create_app

    app = create_app(workspace, secure_cookies=secure_cookies)
    if not _users.list_users(app.state.workspace):
        click.echo("No users yet: create the first admin with `cxchain users add NAME --role admin`.", err=True)
    click.echo(f"cxchain serving {Path(workspace).resolve()} on http://{host}:{port}/", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True)


@click.group()
def users() -> None:
    """Accounts of the web app: add, list, remove, and API tokens for scripts."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(list(_users.ROLES)), default="viewer", show_default=True)
@click.option("--area", default=None, help="Business area (required for --role owner).")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when omitted (prefer the prompt: a flag lands in shell history).")
@workspace_option
@friendly
def users_add(username: str, role: str, area: str | None, password: str, workspace: Path) -> None:
    """Add a user with a role."""
    user = _users.add_user(Workspace(workspace), username, password, role=role, area=area)
    click.echo(f"Added {user.username} ({user.role}{', ' + user.area if user.area else ''}).")


@users.command("list")
@workspace_option
@json_option
@friendly
def users_list(workspace: Path, as_json: bool) -> None:
    """List users and their roles."""
    rows = _users.list_users(Workspace(workspace))
    if as_json:
        click.echo(json.dumps([u.to_dict() for u in rows], indent=2))
        return
    for u in rows:
        click.echo(f"{u.username:24} {u.role:8} {u.area or '':20} {u.created_at}")


@users.command("remove")
@click.argument("username")
@workspace_option
@friendly
def users_remove(username: str, workspace: Path) -> None:
    """Remove a user, their sessions and their API tokens."""
    _users.remove_user(Workspace(workspace), username)
    click.echo(f"Removed {username}.")


@users.command("token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for.")
@workspace_option
@friendly
def users_token(username: str, name: str, workspace: Path) -> None:
    """Create an API token for USERNAME (printed once; send it as `Authorization: Bearer TOKEN`)."""
    click.echo(_users.create_token(Workspace(workspace), username, name=name))
