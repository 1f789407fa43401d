"""The `meetups` command: migrate, create-organizer, serve, demo; and the generated secret key."""

import asyncio
import os
import re
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect
from sqlmodel import SQLModel, select
from typer.testing import CliRunner

import meetups.models  # noqa: F401 - registers every table on SQLModel.metadata
from meetups.accounts.models import Organizer, Role
from meetups.accounts.passwords import verify_password
from meetups.cli import app
from meetups.config import SecretKeyError, Settings
from meetups.db import Database, create_engine
from tests.empty_databases import empty_database_url  # noqa: F401 - a fixture

MEETUPS = Path(sys.executable).with_name("meetups")
PASSWORD = "a long enough passphrase"


def _clean_environment(**values: str) -> dict[str, str]:
    """This process's environment without any MEETUPS_* setting, plus `values`."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("MEETUPS_")
    }
    return {**environment, **values}


def _run(*arguments: str, cwd: Path, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MEETUPS), *arguments],
        cwd=cwd,
        env=_clean_environment(**values),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def _organizers(url: str) -> list[Organizer]:
    database = Database(create_engine(url))
    try:
        async with database.session() as session:
            return list((await session.exec(select(Organizer))).all())
    finally:
        await database.dispose()


def test_the_command_is_installed() -> None:
    assert MEETUPS.exists(), "run `make install`: it installs the `meetups` command into .venv/bin"
    result = subprocess.run(
        [str(MEETUPS), "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0
    for command in ["serve", "migrate", "create-organizer", "demo"]:
        assert command in result.stdout


def test_migrate_brings_an_empty_database_up_to_date(
    empty_database_url: str,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    result = _run(
        "migrate",
        cwd=tmp_path,
        MEETUPS_VAR_DIR=str(var_dir),
        MEETUPS_DATABASE_URL=empty_database_url,
    )
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    assert asyncio.run(_tables(empty_database_url)) == set(SQLModel.metadata.tables) | {
        "alembic_version"
    }
    # Running it again is harmless.
    again = _run(
        "migrate",
        cwd=tmp_path,
        MEETUPS_VAR_DIR=str(var_dir),
        MEETUPS_DATABASE_URL=empty_database_url,
    )
    assert again.returncode == 0, again.stderr


def test_migrate_without_a_database_url_uses_sqlite_in_var(tmp_path: Path) -> None:
    var_dir = tmp_path / "data"
    result = _run("migrate", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir))
    assert result.returncode == 0, result.stderr
    database = var_dir / "meetups.db"
    assert database.exists()
    assert "organizer" in asyncio.run(_tables(f"sqlite+aiosqlite:///{database}"))


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    result = _run("migrate", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir))
    assert result.returncode == 0, result.stderr
    key_file = var_dir / "secret_key"
    first = key_file.read_text()
    assert len(first.strip()) >= 64
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert _run("migrate", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir)).returncode == 0
    assert key_file.read_text() == first
    settings = Settings(_env_file=None, var_dir=var_dir)  # type: ignore[call-arg]
    assert settings.secret == first.strip().encode()
    assert [path.name for path in var_dir.iterdir() if "secret" in path.name] == ["secret_key"]


def test_processes_starting_together_agree_on_one_secret(tmp_path: Path) -> None:
    def read_secret(_: int) -> bytes:
        return Settings(_env_file=None, var_dir=tmp_path / "var").secret  # type: ignore[call-arg]

    with ThreadPoolExecutor(max_workers=8) as pool:
        secrets = set(pool.map(read_secret, range(16)))
    assert len(secrets) == 1
    assert (tmp_path / "var" / "secret_key").read_text().strip().encode() in secrets


def test_a_configured_secret_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = "k" * 40
    settings = Settings(_env_file=None, var_dir=tmp_path / "var", secret_key=key)  # type: ignore[call-arg]
    assert settings.secret == key.encode()
    assert not (tmp_path / "var" / "secret_key").exists()


def test_a_short_secret_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(_env_file=None, var_dir=tmp_path, secret_key="too-short")  # type: ignore[call-arg]
    result = _run(
        "migrate",
        cwd=tmp_path,
        MEETUPS_VAR_DIR=str(tmp_path / "var"),
        MEETUPS_SECRET_KEY="too-short",
    )
    assert result.returncode == 2
    assert "MEETUPS_SECRET_KEY" in result.stderr
    assert "at least 32 characters" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_emptied_secret_key_file_is_refused_not_used(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    (var_dir / "secret_key").write_text("\n")
    with pytest.raises(SecretKeyError, match="Delete it"):
        _ = Settings(_env_file=None, var_dir=var_dir).secret  # type: ignore[call-arg]
    result = _run("migrate", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir))
    assert result.returncode == 2
    assert "no usable secret key" in result.stderr


def test_other_bad_settings_are_explained(tmp_path: Path) -> None:
    result = _run(
        "migrate",
        cwd=tmp_path,
        MEETUPS_VAR_DIR=str(tmp_path / "var"),
        MEETUPS_DEFAULT_TIMEZONE="Mars/Olympus",
    )
    assert result.returncode == 2
    assert "MEETUPS_DEFAULT_TIMEZONE" in result.stderr
    assert "unknown time zone" in result.stderr


def test_serve_help_shows_host_and_port() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "--host" in result.output
    assert "--port" in result.output


@pytest.fixture
def cli_environment(
    empty_database_url: str,  # noqa: F811 - the fixture
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # away from any .env of the developer's
    for name in [name for name in os.environ if name.startswith("MEETUPS_")]:
        monkeypatch.delenv(name)
    return {"MEETUPS_VAR_DIR": str(tmp_path / "var"), "MEETUPS_DATABASE_URL": empty_database_url}


def _create(environment: dict[str, str], *arguments: str, input: str) -> object:
    return CliRunner().invoke(
        app,
        ["create-organizer", "--email", "Olga@Example.com", "--name", "Olga", *arguments],
        input=input,
        env=environment,
    )


def test_create_organizer_asks_for_the_password(cli_environment: dict[str, str]) -> None:
    result = _create(cli_environment, "--role", "admin", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "Password:" in result.output  # type: ignore[attr-defined]
    assert "Password again:" in result.output  # type: ignore[attr-defined]
    assert PASSWORD not in result.output  # type: ignore[attr-defined]
    assert "olga@example.com can sign in now as admin." in result.output  # type: ignore[attr-defined]
    (olga,) = asyncio.run(_organizers(cli_environment["MEETUPS_DATABASE_URL"]))
    assert olga.email == "olga@example.com"
    assert olga.name == "Olga"
    assert olga.role is Role.admin
    assert olga.is_active
    assert verify_password(PASSWORD, olga.password_hash)


def test_create_organizer_asks_for_what_is_missing(cli_environment: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app,
        ["create-organizer"],
        input=f"vera@example.com\nVera Viewer\n{PASSWORD}\n{PASSWORD}\n",
        env=cli_environment,
    )
    assert result.exit_code == 0, result.output
    (vera,) = asyncio.run(_organizers(cli_environment["MEETUPS_DATABASE_URL"]))
    assert vera.name == "Vera Viewer"
    assert vera.role is Role.organizer


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        (f"{PASSWORD}\nsomething else entirely\n", "The two passwords differ."),
        ("short\nshort\n", "at least 10 characters"),
        ("aaaaaaaaaaaaaa\naaaaaaaaaaaaaa\n", "too easy to guess"),
    ],
)
def test_create_organizer_refuses_bad_passwords(
    cli_environment: dict[str, str], typed: str, message: str
) -> None:
    result = _create(cli_environment, input=typed)
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]
    url = cli_environment["MEETUPS_DATABASE_URL"]
    # Refused before anything is written (the schema is not even created yet).
    assert "organizer" not in asyncio.run(_tables(url))


def test_create_organizer_refuses_a_taken_address(cli_environment: dict[str, str]) -> None:
    assert _create(cli_environment, input=f"{PASSWORD}\n{PASSWORD}\n").exit_code == 0  # type: ignore[attr-defined]
    again = _create(cli_environment, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 1  # type: ignore[attr-defined]
    assert "exists already" in again.output  # type: ignore[attr-defined]
    assert len(asyncio.run(_organizers(cli_environment["MEETUPS_DATABASE_URL"]))) == 1


def test_create_organizer_refuses_bad_addresses_and_roles(cli_environment: dict[str, str]) -> None:
    bad_address = CliRunner().invoke(
        app,
        ["create-organizer", "--email", "not an address", "--name", "X"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env=cli_environment,
    )
    assert bad_address.exit_code == 1
    assert "email: This is not a valid e-mail address." in bad_address.output
    bad_role = _create(cli_environment, "--role", "superuser", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert bad_role.exit_code == 2  # type: ignore[attr-defined]


def test_create_organizer_never_takes_a_password_option(cli_environment: dict[str, str]) -> None:
    result = _create(cli_environment, "--password", PASSWORD, input="")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "No such option" in result.output  # type: ignore[attr-defined]
    help_text = CliRunner().invoke(app, ["create-organizer", "--help"]).output
    assert "--password" not in help_text


def test_demo_run_twice_adds_nothing_the_second_time(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    first = _run("demo", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir))
    assert first.returncode == 0, first.stderr
    second = _run("demo", cwd=tmp_path, MEETUPS_VAR_DIR=str(var_dir))
    assert second.returncode == 0, second.stderr
    assert (var_dir / "meetups.db").exists()

    passwords = []
    for run in (first, second):
        assert "Sign in at http" in run.stdout
        assert "/login" in run.stdout
        assert "e-mail:   demo@example.com" in run.stdout
        match = re.search(r"password: (\S+)", run.stdout)
        assert match, run.stdout
        passwords.append(match.group(1))
    assert passwords[0] != passwords[1]  # a new password at every run

    assert "40 bloggers added" in first.stdout
    assert "Event 'Bloggertreffen Montabaur': created" in first.stdout
    assert "0 bloggers added, 40 already there" in second.stdout
    assert "Event 'Bloggertreffen Montabaur': already there" in second.stdout
    for part in ("Check-in", "Travel claims", "Feedback", "Coverage"):
        assert f"{part}: already there." in second.stdout
