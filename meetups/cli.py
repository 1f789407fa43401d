"""The `meetups` command."""

import asyncio
import getpass
from pathlib import Path
from typing import Annotated

import typer

from meetups.config import Settings

app = typer.Typer(help="meetups: invite bloggers, hear what they think.", no_args_is_help=True, add_completion=False)


def _settings() -> Settings:
    settings = Settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
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
) -> None:
    """Serve the web app (behind a reverse proxy in production)."""
    import uvicorn

    from meetups.migrate import upgrade
    from meetups.web import create_app

    settings = _settings()
    upgrade(settings.resolved_database_url)
    typer.echo(f"meetups runs on http://{host}:{port} (links in e-mails use {settings.base_url})")
    uvicorn.run(create_app(settings), host=host, port=port, proxy_headers=True, access_log=False)


@app.command("create-organizer")
def create_organizer(
    email: Annotated[str, typer.Option(prompt=True, help="Their e-mail address; they sign in with it.")],
    name: Annotated[str, typer.Option(prompt=True, help="Their name.")],
    role: Annotated[str, typer.Option(help="admin, organizer or viewer.")] = "organizer",
) -> None:
    """Add an organizer; the password is asked for, never taken from the command line."""
    from meetups.accounts.organizers import add_organizer
    from meetups.db import Database, create_engine
    from meetups.errors import ValidationFailed

    settings = _settings()
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Password again: "):
        typer.echo("The two passwords differ.", err=True)
        raise typer.Exit(1)

    async def run() -> None:
        database = Database(create_engine(settings.resolved_database_url))
        try:
            async with database.session(write=True) as session:
                await add_organizer(session=session, name=name, email=email, password=password, role=role)
                await session.commit()
        finally:
            await database.dispose()

    try:
        asyncio.run(run())
    except ValidationFailed as error:
        for field, message in error.errors.items():
            typer.echo(f"{field}: {message}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{email} can sign in now as {role}.")


@app.command()
def demo(
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Bloggers to invite (default: the bundled list).")] = None,
) -> None:
    """Fill the database with two demo events, so that every screen has life in it."""
    from meetups.demo.seed import seed_demo
    from meetups.migrate import upgrade

    settings = _settings()
    upgrade(settings.resolved_database_url)
    report = asyncio.run(seed_demo(settings, csv_file=csv_file))
    for line in report:
        typer.echo(line)


if __name__ == "__main__":
    app()
