"""Settings from the environment and .env; the database connection, transactions and column
types."""

import asyncio
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError
from sqlalchemy import event, func
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlmodel import select

from meetups.accounts.models import LoginFailure, LoginSession, Organizer, Role
from meetups.config import Settings, SmtpSecurity
from meetups.db import SQLITE_BUSY_TIMEOUT_MS, Database, utcnow
from tests import factories

# SQLite's own behaviour: these tests run on SQLite only, whatever other databases are configured.
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def clean_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory without .env and an environment without MEETUPS_* settings."""
    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("MEETUPS_")]:
        monkeypatch.delenv(name)
    return tmp_path


def test_defaults(clean_environment: Path) -> None:
    settings = Settings()
    assert settings.var_dir == Path("var")
    assert (
        settings.resolved_database_url
        == f"sqlite+aiosqlite:///{(clean_environment / 'var' / 'meetups.db')}"
    )
    assert str(settings.base_url) == "http://127.0.0.1:8000/"
    assert settings.secret_key is None
    assert settings.smtp_security is SmtpSecurity.starttls
    assert settings.default_language == "de"
    assert settings.default_timezone == "Europe/Berlin"
    assert not settings.uses_https
    assert settings.absolute_url("/events/x") == "http://127.0.0.1:8000/events/x"


def test_settings_come_from_the_environment(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        "MEETUPS_DATABASE_URL": "postgresql+asyncpg://meetups@db.internal/meetups",
        "MEETUPS_BASE_URL": "https://meetups.example.com/",
        "MEETUPS_SECRET_KEY": "s" * 48,
        "MEETUPS_SMTP_HOST": "smtp.example.com",
        "MEETUPS_SMTP_PORT": "465",
        "MEETUPS_SMTP_USERNAME": "mailer",
        "MEETUPS_SMTP_PASSWORD": "smtp secret",
        "MEETUPS_SMTP_SECURITY": "tls",
        "MEETUPS_MAIL_FROM": "Presse <presse@example.com>",
        "MEETUPS_DEFAULT_LANGUAGE": "en",
        "MEETUPS_DEFAULT_TIMEZONE": "America/New_York",
        "MEETUPS_LOGIN_MAX_FAILURES": "7",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert settings.resolved_database_url == "postgresql+asyncpg://meetups@db.internal/meetups"
    assert settings.uses_https
    assert settings.site_domain == "meetups.example.com"
    assert settings.absolute_url("events") == "https://meetups.example.com/events"
    assert settings.secret == b"s" * 48
    assert settings.smtp_port == 465
    assert settings.smtp_security is SmtpSecurity.tls
    assert settings.smtp_password is not None
    assert settings.smtp_password.get_secret_value() == "smtp secret"
    assert "smtp secret" not in repr(settings)
    assert "s" * 48 not in repr(settings)
    assert settings.mail_from == "Presse <presse@example.com>"
    assert settings.default_language == "en"
    assert settings.default_timezone == "America/New_York"
    assert settings.login_max_failures == 7


def test_settings_come_from_a_dotenv_file_and_the_environment_wins(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_environment / ".env").write_text(
        "# local settings\nMEETUPS_BASE_URL=https://from-dotenv.example\nMEETUPS_SMTP_PORT=2525\n"
        "MEETUPS_DEFAULT_LANGUAGE=en\nOTHER_TOOL_SETTING=ignored\n",
        encoding="utf-8",
    )
    settings = Settings()
    assert str(settings.base_url) == "https://from-dotenv.example/"
    assert settings.smtp_port == 2525
    monkeypatch.setenv("MEETUPS_SMTP_PORT", "587")
    assert Settings().smtp_port == 587


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEETUPS_SMTP_PORT", "0"),
        ("MEETUPS_SMTP_PORT", "70000"),
        ("MEETUPS_SMTP_PORT", "twenty-five"),
        ("MEETUPS_SMTP_SECURITY", "ssl"),
        ("MEETUPS_DEFAULT_LANGUAGE", "fr"),
        ("MEETUPS_DEFAULT_TIMEZONE", "Europe/Montabaur"),
        ("MEETUPS_BASE_URL", "not a url"),
        ("MEETUPS_BASE_URL", "ftp://example.com"),
        ("MEETUPS_SECRET_KEY", "x" * 31),
        ("MEETUPS_SESSION_LIFETIME_HOURS", "0"),
        ("MEETUPS_LOGIN_MAX_FAILURES", "-1"),
    ],
)
def test_wrong_values_are_refused(
    clean_environment: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


@sqlite_only
async def test_sqlite_connections_are_configured(database: Database, settings: Settings) -> None:
    assert database.is_sqlite
    for write in (False, True):
        async with database.session(write=write) as session:
            connection = await session.connection()
            journal = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            foreign_keys = (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar()
            busy_timeout = (await connection.exec_driver_sql("PRAGMA busy_timeout")).scalar()
        assert journal == "wal"
        assert foreign_keys == 1
        assert busy_timeout == SQLITE_BUSY_TIMEOUT_MS


async def test_foreign_keys_are_enforced(session: Any) -> None:
    session.add(LoginSession(token_hash="x" * 64, organizer_id=424242, expires_at=utcnow()))
    with pytest.raises(IntegrityError):
        await session.commit()
    await session.rollback()


@sqlite_only
async def test_writers_begin_immediate_and_readers_deferred_on_sqlite(database: Database) -> None:
    assert database.is_sqlite
    statements: list[str] = []

    def remember(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(database.engine.sync_engine, "before_cursor_execute", remember)
    try:
        async with database.session() as session:
            await session.exec(select(Organizer))
        assert "BEGIN DEFERRED" in statements
        assert "BEGIN IMMEDIATE" not in statements
        statements.clear()
        async with database.session(write=True) as session:
            await session.exec(select(Organizer))
        assert "BEGIN IMMEDIATE" in statements
    finally:
        event.remove(database.engine.sync_engine, "before_cursor_execute", remember)


async def _read_then_write(database: Database, *, write: bool) -> int:
    async with database.session(write=write) as session:
        seen = (await session.exec(select(func.count()).select_from(LoginFailure))).one()
        await asyncio.sleep(0.2)  # the other transaction reads in the meantime
        session.add(LoginFailure(key=f"seen:{seen}"))
        await session.commit()
        return seen


async def test_concurrent_read_then_write_transactions_both_succeed(database: Database) -> None:
    seen = await asyncio.gather(
        _read_then_write(database, write=True), _read_then_write(database, write=True)
    )
    async with database.session() as session:
        keys = sorted((await session.exec(select(LoginFailure.key))).all())
    assert len(keys) == 2
    if database.is_sqlite:
        # Serialized: the second writer saw the first one's row (no lost update).
        assert sorted(seen) == [0, 1]
        assert keys == ["seen:0", "seen:1"]


@sqlite_only
async def test_deferred_read_then_write_would_fail_on_sqlite(database: Database) -> None:
    """Why writers begin IMMEDIATE: the same work in deferred transactions runs into "database is
    locked" under WAL, whatever the busy timeout (this guards the test above)."""
    assert database.is_sqlite
    results = await asyncio.gather(
        _read_then_write(database, write=False),
        _read_then_write(database, write=False),
        return_exceptions=True,
    )
    failures = [result for result in results if isinstance(result, Exception)]
    assert len(failures) == 1
    assert isinstance(failures[0], OperationalError)
    assert "database is locked" in str(failures[0])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(
            2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Berlin")
        ),  # just before the clocks change
        datetime(
            2026, 10, 25, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Berlin")
        ),  # the repeated hour
        datetime(
            2026, 6, 1, 23, 59, 59, 999_999, tzinfo=timezone(timedelta(hours=-9, minutes=-30))
        ),
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(2099, 12, 31, 23, 59, tzinfo=UTC),
    ],
)
async def test_datetimes_round_trip_as_aware_utc(database: Database, moment: datetime) -> None:
    async with database.session(write=True) as session:
        failure = LoginFailure(key="round-trip", failed_at=moment)
        session.add(failure)
        await session.commit()
        failure_id = failure.id
    async with database.session() as session:
        loaded = (
            await session.exec(select(LoginFailure).where(LoginFailure.id == failure_id))
        ).one()
        # Comparisons in queries work across zones too.
        later = (
            await session.exec(select(LoginFailure).where(LoginFailure.failed_at > moment))
        ).all()
        same = (
            await session.exec(
                select(LoginFailure).where(
                    LoginFailure.failed_at == moment.astimezone(ZoneInfo("Asia/Kolkata"))
                )
            )
        ).all()
    assert loaded.failed_at.tzinfo is UTC
    # (Compared in UTC: Python never calls an ambiguous local time equal to a time in another zone.)
    assert loaded.failed_at == moment.astimezone(UTC)
    assert loaded.failed_at.utcoffset() == timedelta(0)
    assert later == []
    assert [row.id for row in same] == [failure_id]


async def test_naive_datetimes_are_refused(database: Database) -> None:
    async with database.session(write=True) as session:
        naive = datetime(2026, 1, 1, 12, 0)  # no tzinfo, on purpose
        session.add(LoginFailure(key="naive", failed_at=naive))
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()
        await session.rollback()
        with pytest.raises(StatementError, match="naive datetime"):
            await session.exec(
                select(LoginFailure).where(LoginFailure.failed_at > datetime(2026, 1, 1))
            )


async def test_empty_datetimes_stay_empty(session: Any, database: Database) -> None:
    organizer = await factories.make_organizer(session)
    await session.commit()
    async with database.session() as read:
        loaded = await read.get(Organizer, organizer.id)
    assert loaded is not None
    assert loaded.last_login_at is None
    assert loaded.created_at.tzinfo is UTC


async def test_enum_columns_load_as_enum_members(session: Any, database: Database) -> None:
    organizer = await factories.make_organizer(session, role="viewer")
    await session.commit()
    async with database.session() as read:
        loaded = await read.get(Organizer, organizer.id)
        stored = (
            await (await read.connection()).exec_driver_sql(
                f"SELECT role FROM organizer WHERE id = {int(organizer.id)}"  # noqa: S608 - an int
            )
        ).scalar()
    assert loaded is not None
    assert loaded.role is Role.viewer
    assert loaded.role.allows(Role.viewer)
    assert not loaded.role.allows(Role.organizer)
    assert stored == "viewer"  # plain text in the database, readable by any tool
