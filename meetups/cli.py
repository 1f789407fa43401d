"""The `meetups` command."""

import asyncio
from collections.abc import Coroutine
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from pydantic import ValidationError

from meetups.accounts.models import Role
from meetups.config import SecretKeyError, Settings

T = TypeVar("T")
# How `meetups serve` runs uvicorn; the benchmarks serve their baseline app the same way.
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": True, "access_log": False}

app = typer.Typer(
    help="meetups: invite bloggers, hear what they think.",
    no_args_is_help=True,
    add_completion=False,
)


def _settings() -> Settings:
    """The settings, or a readable message and exit code 2 when a MEETUPS_* value is wrong."""
    try:
        settings = Settings()
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        settings.secret  # noqa: B018 - generate the key now, and fail here if it is unusable
    except ValidationError as error:
        for problem in error.errors():
            name = "MEETUPS_" + "_".join(str(part) for part in problem["loc"]).upper()
            typer.echo(f"{name}: {problem['msg']}", err=True)
        raise typer.Exit(2) from None
    except SecretKeyError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from None
    return settings


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from meetups.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    typer.echo("Database is up to date.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Processes serving requests on this port.")
    ] = 1,
) -> None:
    """Serve the web app (behind a reverse proxy in production)."""
    import uvicorn

    from meetups.migrate import upgrade
    from meetups.ops.logs import configure_logging, logging_config
    from meetups.web import create_app

    settings = _settings()
    if workers > 1 and settings.mail_catcher:
        typer.echo(
            "The mail catcher runs in one process only: use --workers 1 with "
            "MEETUPS_MAIL_CATCHER, or turn the catcher off.",
            err=True,
        )
        raise typer.Exit(2)
    configure_logging(settings.log_format)
    upgrade(settings.resolved_database_url)
    url = f"http://{host}:{port}"
    typer.echo(f"meetups runs on {url} (links in e-mails use {settings.base_url})")
    if asyncio.run(_has_organizers(settings)):
        typer.echo(f"Sign in at {url}/login")
    else:
        typer.echo(f"No organizer yet: open {url}/setup to create the first administrator")
    if settings.mail_catcher:
        typer.echo(f"E-mail is caught, not sent: read it at {url}/mail")
    elif not settings.worker_in_serve:
        typer.echo("E-mail is delivered by `meetups worker` (MEETUPS_WORKER_IN_SERVE is off)")
    # Each process of --workers builds its own app from the same environment.
    target: Any = "meetups.web:create_app" if workers > 1 else create_app(settings)
    uvicorn.run(
        target,
        factory=workers > 1,
        workers=workers,
        host=host,
        port=port,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        log_config=logging_config(settings.log_format),
        **UVICORN_OPTIONS,
    )


def _export_language(language: str | None, settings: Settings) -> str:
    from meetups.i18n import LANGUAGES

    language = language or settings.default_language
    if language not in LANGUAGES:
        typer.echo(f"--language must be one of: {', '.join(LANGUAGES)}", err=True)
        raise typer.Exit(2)
    return language


def _check_output(output: Path) -> None:
    if output.is_dir():
        typer.echo(f"{output} is a directory; give the name of the file to write.", err=True)
        raise typer.Exit(2)


def _run_export(export: Coroutine[Any, Any, T], output: Path) -> T:
    """Runs an export; what the user can fix (unknown event, unwritable file) exits 1 with why."""
    from meetups.errors import DomainError

    try:
        return asyncio.run(export)
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from None
    except OSError as error:
        typer.echo(f"Cannot write {output}: {error.strerror or error}", err=True)
        raise typer.Exit(1) from None


async def _has_organizers(settings: Settings) -> bool:
    from meetups.accounts.organizers import organizer_count
    from meetups.db import Database, create_engine

    database = Database(create_engine(settings.resolved_database_url))
    try:
        async with database.session() as session:
            return await organizer_count(session=session) > 0
    finally:
        await database.dispose()


@app.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now (scheduler first), then exit.")
    ] = False,
) -> None:
    """Deliver e-mail from the outbox until stopped (Ctrl+C or SIGTERM; the e-mail in flight
    is finished first)."""
    from meetups.mail.worker import run_worker_process
    from meetups.migrate import upgrade
    from meetups.ops.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_format)
    upgrade(settings.resolved_database_url)
    if not once:
        typer.echo("The mail worker runs; stop it with Ctrl+C.")
    report = asyncio.run(run_worker_process(settings, once=once))
    if report is not None:
        typer.echo(f"E-mail: {report.summary()}.")


@app.command("create-organizer")
def create_organizer(
    email: Annotated[
        str, typer.Option(prompt=True, help="Their e-mail address; they sign in with it.")
    ],
    name: Annotated[str, typer.Option(prompt=True, help="Their name.")],
    role: Annotated[Role, typer.Option(help="What they may do.")] = Role.organizer,
) -> None:
    """Add an organizer; the password is asked for, never taken from the command line."""
    from meetups.accounts.organizers import add_organizer, check_password
    from meetups.db import Database, create_engine
    from meetups.errors import ValidationFailed
    from meetups.migrate import upgrade

    settings = _settings()
    # Asked without echo; a command-line option would end up in the shell history and `ps`.
    password = typer.prompt("Password", hide_input=True)
    if problem := check_password(password):
        typer.echo(f"password: {problem}", err=True)
        raise typer.Exit(1)
    if password != typer.prompt("Password again", hide_input=True):
        typer.echo("The two passwords differ.", err=True)
        raise typer.Exit(1)
    upgrade(settings.resolved_database_url)

    async def run() -> str:
        database = Database(create_engine(settings.resolved_database_url))
        try:
            async with database.session(write=True) as session:
                organizer = await add_organizer(
                    session=session, name=name, email=email, password=password, role=role.value
                )
                await session.commit()
                return organizer.email
        finally:
            await database.dispose()

    try:
        address = asyncio.run(run())
    except ValidationFailed as error:
        for field, message in error.errors.items():
            typer.echo(f"{field}: {message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{address} can sign in now as {role.value}.")


@app.command()
def invite(
    event_slug: Annotated[str, typer.Argument(help="The event's address name, as in its URL.")],
) -> None:
    """Queue invitations for everyone on the event's guest list not invited yet. The mail
    worker sends them (inside `meetups serve`, or `meetups worker`)."""
    from meetups.errors import DomainError
    from meetups.invitations.sending import NothingToSend
    from meetups.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    try:
        lines = asyncio.run(_invite(settings, event_slug))
    except NothingToSend as done:
        typer.echo(done.message)
        return
    except DomainError as error:
        typer.echo(error.message, err=True)
        raise typer.Exit(1) from None
    for line in lines:
        typer.echo(line)


async def _invite(settings: Settings, event_slug: str) -> list[str]:
    from meetups.db import Database, create_engine
    from meetups.events.lookup import get_event_by_slug
    from meetups.i18n import use_locale
    from meetups.invitations.sending import send_invitations
    from meetups.invitations.unsubscribe import reason_label

    database = Database(create_engine(settings.resolved_database_url))
    try:
        with use_locale("en"):
            async with database.session(write=True) as session:
                event = await get_event_by_slug(event_slug.strip().lower(), session=session)
                report = await send_invitations(event, session=session, settings=settings)
                await session.commit()
            lines = [f"{len(report.sent)} invitations queued for {event.title!r}."]
            for contact, entry in report.suppressed:
                reason = reason_label(entry.reason)
                lines.append(f"Skipped {contact.name} <{contact.email}>: suppressed ({reason}).")
            for contact in report.unusable:
                lines.append(f"Skipped {contact.name} <{contact.email}>: unusable address.")
            if report.sent:
                lines.append(
                    "The mail worker sends them: `meetups serve` runs one, or run `meetups worker`."
                )
            return lines
    finally:
        await database.dispose()


@app.command("export-feedback")
def export_feedback(
    event_slug: Annotated[str, typer.Argument(help="The event's address name, as in its URL.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    export_format: Annotated[
        str, typer.Option("--format", "-f", help="csv, xlsx or json.")
    ] = "csv",
    semicolon: Annotated[
        bool, typer.Option("--semicolon", help="CSV with semicolons, as German Excel expects.")
    ] = False,
    language: Annotated[
        str, typer.Option("--language", help="Language of the column headings (de or en).")
    ] = "",
) -> None:
    """Export an event's feedback: one row (or object) per response. Anonymous feedback never
    carries names or e-mail addresses."""
    from meetups.feedback.exports import FORMATS
    from meetups.migrate import upgrade

    export_format = export_format.strip().lower()
    if export_format not in FORMATS:
        typer.echo(f"--format must be one of: {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    settings = _settings()
    language = _export_language(language, settings)
    _check_output(output)
    upgrade(settings.resolved_database_url)
    count = _run_export(
        _export_feedback(settings, event_slug, export_format, output, semicolon, language), output
    )
    typer.echo(f"{count} responses written to {output}.")


async def _export_feedback(
    settings: Settings,
    event_slug: str,
    export_format: str,
    output: Path,
    semicolon: bool,
    language: str,
) -> int:
    from meetups.db import Database, create_engine
    from meetups.events.lookup import get_event_by_slug
    from meetups.feedback.exports import export_to_file
    from meetups.feedback.forms import response_count
    from meetups.i18n import use_locale

    database = Database(create_engine(settings.resolved_database_url))
    try:
        with use_locale(language):
            async with database.session() as session:
                event = await get_event_by_slug(event_slug.strip().lower(), session=session)
                await export_to_file(
                    event,
                    export_format,
                    output,
                    session=session,
                    settings=settings,
                    semicolon=semicolon,
                )
                return await response_count(event, session=session)
    finally:
        await database.dispose()


@app.command("export-payouts")
def export_payouts(
    event_slug: Annotated[str, typer.Argument(help="The event's address name, as in its URL.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")],
    export_format: Annotated[
        str, typer.Option("--format", "-f", help="csv (for accounting) or sepa (pain.001).")
    ] = "csv",
    execution_date: Annotated[
        str, typer.Option("--execution-date", help="SEPA: the day to pay, YYYY-MM-DD (today).")
    ] = "",
    language: Annotated[
        str, typer.Option("--language", help="Language of the CSV headings (de or en).")
    ] = "",
) -> None:
    """Export an event's travel claims: CSV of every submitted claim for accounting, or a SEPA
    credit transfer (pain.001) of the approved, unpaid ones. Marks nothing as paid: confirm that
    on the event's Travel tab once the bank has carried out the transfer."""
    from meetups.migrate import upgrade

    export_format = export_format.strip().lower()
    if export_format not in ("csv", "sepa"):
        typer.echo("--format must be csv or sepa", err=True)
        raise typer.Exit(2)
    try:
        when = date.fromisoformat(execution_date) if execution_date else None
    except ValueError:
        typer.echo("--execution-date must be a date like 2026-05-14", err=True)
        raise typer.Exit(2) from None
    settings = _settings()
    language = _export_language(language, settings)
    _check_output(output)
    upgrade(settings.resolved_database_url)
    summary = _run_export(
        _export_payouts(settings, event_slug, export_format, output, when, language), output
    )
    typer.echo(summary)


async def _export_payouts(
    settings: Settings,
    event_slug: str,
    export_format: str,
    output: Path,
    execution_date: date | None,
    language: str,
) -> str:
    from meetups.db import Database, create_engine
    from meetups.events.lookup import get_event_by_slug
    from meetups.i18n import use_locale
    from meetups.travel.payout import write_export

    database = Database(create_engine(settings.resolved_database_url))
    try:
        with use_locale(language):
            async with database.session() as session:
                event = await get_event_by_slug(event_slug.strip().lower(), session=session)
                return await write_export(
                    event, export_format, output, session=session, execution_date=execution_date
                )
    finally:
        await database.dispose()


@app.command()
def demo(
    csv_file: Annotated[
        Path | None, typer.Option("--csv", help="Bloggers to invite (default: the bundled list).")
    ] = None,
) -> None:
    """Fill the database with two demo events, so that every screen has life in it."""
    from meetups.demo.seed import seed_demo
    from meetups.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    report = asyncio.run(seed_demo(settings, csv_file=csv_file))
    for line in report:
        typer.echo(line)


@app.command()
def purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only print what would be purged; change nothing.")
    ] = False,
) -> None:
    """Erase the personal data of events that ended more than MEETUPS_RETENTION_MONTHS ago (the
    mail worker does this by itself too), and anonymize contacts with nothing current left."""
    from meetups.migrate import upgrade

    settings = _settings()
    if settings.retention_months <= 0:
        typer.echo("The retention purge is off (MEETUPS_RETENTION_MONTHS=0): nothing to do.")
        return
    upgrade(settings.resolved_database_url)
    for line in asyncio.run(_purge(settings, dry_run)):
        typer.echo(line)


async def _purge(settings: Settings, dry_run: bool) -> list[str]:
    from meetups.db import Database, create_engine
    from meetups.i18n import use_locale
    from meetups.privacy.retention import purge_expired

    database = Database(create_engine(settings.resolved_database_url))
    try:
        with use_locale(settings.default_language):
            async with database.session(write=True) as session:
                report = await purge_expired(session=session, settings=settings)
                if dry_run:
                    await session.rollback()  # the same work as a purge, undone
                else:
                    await session.commit()
    finally:
        await database.dispose()
    verb = "Would purge" if dry_run else "Purged"
    lines = [
        f"Retention: {settings.retention_months} months; "
        f"events that ended before {report.cutoff:%Y-%m-%d}."
    ]
    if not report.changed:
        lines.append("Nothing to purge.")
        return lines
    lines.append(f"{verb} {len(report.events)} events:")
    for event in report.events:
        counts = event.counts
        lines.append(
            f"  {event.slug} ({event.title!r}, ended {event.ends_at:%Y-%m-%d}): "
            f"{event.guests} guests, {counts.claims_kept} decided claims without bank details, "
            f"{counts.claims_withdrawn} open claims withdrawn, {counts.receipts} receipts, "
            f"{counts.feedback_unlinked} feedback responses unlinked, "
            f"{counts.emails_scrubbed + counts.emails_cancelled} e-mails"
        )
    anonymized = "Would anonymize" if dry_run else "Anonymized"
    lines.append(
        f"{anonymized} {report.contacts} contacts whose only events are purged and whose entry "
        f"was not changed since {report.cutoff:%Y-%m-%d}."
    )
    if dry_run:
        lines.append("Nothing was changed (--dry-run).")
    return lines


if __name__ == "__main__":
    app()
