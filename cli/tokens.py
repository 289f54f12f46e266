"""`careledger token create|list|revoke`: the bearer tokens of the HTTP service (`careledger serve`).

A token is printed once, at creation; the store keeps only its SHA-256 digest,
its name (which becomes `recorded_by` on every command sent with it) and its
role. See docs/service.md for what each role may call.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import DbOption, JsonOption, emit_json, new_app, open_db

app = new_app("Create, list and revoke the bearer tokens of the HTTP service.")


@app.command("create")
def create(
    name: Annotated[str, typer.Option("--name", help="Who holds the token; stored as recorded_by.")],
    role: Annotated[
        str, typer.Option("--role", help="therapist, assistant, biller, auditor, service or admin.")
    ],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a token and print it once (only its digest is stored).

    Example: careledger token create --name billing-sync --role biller
    """
    with open_db(db, create=True) as store:
        token = store.tokens.create(name, role)
    if as_json:
        emit_json({"name": name.strip(), "role": role.strip().lower(), "token": token})
    else:
        typer.echo(token)
        typer.echo(f"token for {name.strip()} ({role.strip().lower()}): shown once, keep it safe", err=True)


@app.command("list")
def list_tokens(db: DbOption = None, as_json: JsonOption = False) -> None:
    """List every token: name, role, when created and when revoked (never the token).

    Example: careledger token list --json
    """
    with open_db(db) as store:
        tokens = [t.as_dict() for t in store.tokens.list()]
    if as_json:
        emit_json(tokens)
        return
    from cli.render import table

    table(
        ["name", "role", "created (UTC)", "revoked (UTC)"],
        [[t["name"], t["role"], t["created_at"][:19], (t["revoked_at"] or "-")[:19]] for t in tokens],
        title=f"{len(tokens)} token{'s' if len(tokens) != 1 else ''}",
    )


@app.command("revoke")
def revoke(
    name: Annotated[str, typer.Argument(help="The token's name.")],
    db: DbOption = None,
) -> None:
    """Refuse a token from now on (its row stays, with when it was revoked).

    Example: careledger token revoke billing-sync
    """
    with open_db(db) as store:
        store.tokens.revoke(name)
    typer.echo(f"revoked the token of {name}")
