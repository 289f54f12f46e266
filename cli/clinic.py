"""`careledger clinic ...`: the clinic's identity as recorded facts (billing provider, providers...)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import uuid4

import typer

from cli.common import (
    DbOption,
    FileOption,
    JsonOption,
    UserOption,
    emit_json,
    new_app,
    open_db,
    read_document,
    require_user,
)

app = new_app(
    "The clinic's identity: the billing provider, each rendering provider and the referring or certifying "
    "physicians, with their NPIs. Each is a recorded fact (who, when); a later one replaces it from then on, "
    "and `clinic show --as-of` shows what was recorded before (docs/billing.md#clinic-identity)."
)


def _record(db: str | None, kind: str, document: dict[str, Any], user: str | None, as_json: bool) -> None:
    from domain.episode.clinic_service import parse_clinic_command, record_clinic_fact

    doc = {k: v for k, v in document.items() if v is not None}
    doc.setdefault("command", kind)
    doc.setdefault("command_id", str(uuid4()))
    if "recorded_by" not in doc:
        doc["recorded_by"] = require_user(user)
    command = parse_clinic_command(doc)
    if command.command != kind:
        from domain.errors import InvalidInput

        raise InvalidInput("command", f"this document is a '{command.command}', expected '{kind}'")
    with open_db(db, create=True) as store:
        result = record_clinic_fact(store.app, command)
    if as_json:
        emit_json(result.as_dict())
    elif result.applied:
        typer.echo(f"{result.event} on the clinic (version {result.version})")
    else:
        typer.echo(
            f"already applied: command {result.command_id} (clinic version {result.version}); nothing changed"
        )


@app.command("billing-provider")
def billing_provider(
    file: FileOption = None,
    name: Annotated[str | None, typer.Option(help="The billing provider's name (organisation).")] = None,
    npi: Annotated[str | None, typer.Option(help="Its NPI (10 digits, valid check digit).")] = None,
    tax_id: Annotated[str | None, typer.Option(help="EIN, 9 digits (12-3456789).")] = None,
    taxonomy: Annotated[str | None, typer.Option(help="NUCC taxonomy code, e.g. 261QR0400X.")] = None,
    line1: Annotated[str | None, typer.Option(help="Street address.")] = None,
    line2: Annotated[str | None, typer.Option(help="Second address line.")] = None,
    city: Annotated[str | None, typer.Option(help="City.")] = None,
    state: Annotated[str | None, typer.Option(help="Two-letter state code.")] = None,
    zip_code: Annotated[str | None, typer.Option("--zip", help="ZIP+4 (9 digits) for the 837P.")] = None,
    place_of_service: Annotated[str, typer.Option(help="CMS place-of-service code (11 office).")] = "11",
    phone: Annotated[str | None, typer.Option(help="10-digit phone of the billing contact.")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record the billing provider: name, NPI, tax id, taxonomy, address, place of service.

    Example: careledger clinic billing-provider --file billing-provider.json
    """
    if file is not None:
        document = read_document(file)
    else:
        address = {"line1": line1, "line2": line2, "city": city, "state": state, "zip": zip_code}
        document = {
            "name": name,
            "npi": npi,
            "tax_id": tax_id,
            "taxonomy": taxonomy,
            "address": {k: v for k, v in address.items() if v is not None},
            "place_of_service": place_of_service,
            "phone": phone,
        }
    _record(db, "record_billing_provider", document, user, as_json)


def _person(
    kind: str,
    file: str | None,
    provider_id: str | None,
    first_name: str | None,
    last_name: str | None,
    npi: str | None,
    extra: dict[str, Any],
    db: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    if file is not None:
        document = read_document(file)
    else:
        document = {"provider_id": provider_id, "first_name": first_name, "last_name": last_name, "npi": npi}
        document.update(extra)
    _record(db, kind, document, user, as_json)


ProviderArg = Annotated[str | None, typer.Argument(help="The provider id the episodes use (pt-rivera).")]
FirstOption = Annotated[str | None, typer.Option(help="First name.")]
LastOption = Annotated[str | None, typer.Option(help="Last name.")]
NpiOption = Annotated[str | None, typer.Option(help="NPI (10 digits, valid check digit).")]


@app.command("provider")
def provider(
    provider_id: ProviderArg = None,
    file: FileOption = None,
    first_name: FirstOption = None,
    last_name: LastOption = None,
    npi: NpiOption = None,
    taxonomy: Annotated[str | None, typer.Option(help="NUCC taxonomy, e.g. 225100000X (PT).")] = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a rendering provider (a therapist visits name): name, NPI, taxonomy.

    Example: careledger clinic provider --file provider.json
    """
    extra = {"taxonomy": taxonomy}
    _person(
        "record_rendering_provider", file, provider_id, first_name, last_name, npi, extra, db, user, as_json
    )


@app.command("physician")
def physician(
    provider_id: ProviderArg = None,
    file: FileOption = None,
    first_name: FirstOption = None,
    last_name: LastOption = None,
    npi: NpiOption = None,
    db: DbOption = None,
    user: UserOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a referring or certifying physician (as episodes name them): name and NPI.

    Example: careledger clinic physician --file physician.json
    """
    _person("record_physician", file, provider_id, first_name, last_name, npi, {}, db, user, as_json)


@app.command("show")
def show(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Show the identity as it was recorded at this time.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show the clinic's identity (now, or as recorded at a past time).

    Example: careledger clinic show --as-of 2026-03-30
    """
    from domain.episode.audit import moment
    from domain.episode.clinic_service import load_clinic

    with open_db(db) as store:
        at = moment(as_of, "as_of", store.timezone) if as_of is not None else None
        clinic = load_clinic(store.app, at)
    values = clinic.as_dict() if clinic is not None else {"version": 0}
    if as_json:
        emit_json(values)
        return
    if clinic is None:
        typer.echo("no clinic identity recorded yet")
        return
    bp = clinic.billing_provider
    if bp is not None:
        a = bp.address
        typer.echo(
            f"billing provider: {bp.name}, NPI {bp.npi}, tax id {bp.tax_id}, taxonomy {bp.taxonomy}, "
            f"{a.line1}, {a.city} {a.state} {a.zip}, place of service {bp.place_of_service} "
            f"(recorded {bp.recorded.recorded_at.isoformat()} by {bp.recorded.recorded_by})"
        )
    for pid, p in sorted(clinic.providers.items()):
        typer.echo(
            f"rendering provider {pid}: {p.first_name} {p.last_name}, NPI {p.npi}, "
            f"taxonomy {p.taxonomy or '-'}"
        )
    for pid, ph in sorted(clinic.physicians.items()):
        typer.echo(f"physician {pid}: {ph.first_name} {ph.last_name}, NPI {ph.npi}")
