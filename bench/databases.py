"""Scratch databases: a SQLite file in the run's temporary directory, or a PostgreSQL database
created for the run (from a migrated template, as the tests do) and dropped afterwards."""

import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from meetups.migrate import upgrade_async

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"


def postgres_url() -> str:
    """Where PostgreSQL is: MEETUPS_BENCH_DATABASE_URL, else MEETUPS_TEST_DATABASE_URL, else the
    local default. Only the server and the credentials are used; the databases are the bench's."""
    return (
        os.environ.get("MEETUPS_BENCH_DATABASE_URL")
        or os.environ.get("MEETUPS_TEST_DATABASE_URL")
        or DEFAULT_PG_URL
    )


def _admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _shown(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


async def postgres_version(url: str) -> str | None:
    """The server's version, or None when no PostgreSQL answers there."""
    try:
        connection = await asyncpg.connect(_admin_dsn(url), timeout=5)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


async def _pg_execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(_admin_dsn(url), timeout=10)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@dataclass
class ScratchDatabases:
    """Fresh, migrated databases of one backend; `drop_all` removes every one made."""

    backend: str
    workdir: Path
    server_url: str = ""  # PostgreSQL: where to create them
    _template: str = ""
    _made: list[str] = field(default_factory=list)

    @property
    def server(self) -> str:
        """Where the databases are made, without any password."""
        return str(self.workdir) if self.backend == SQLITE else _shown(self.server_url)

    async def _ensure_template(self) -> str:
        if self._template:
            return self._template
        if self.backend == SQLITE:
            path = self.workdir / "template.db"
            await upgrade_async(f"sqlite+aiosqlite:///{path}")
            self._template = str(path)
        else:
            name = f"meetups_bench_template_{uuid.uuid4().hex[:10]}"
            await _pg_execute(self.server_url, f'CREATE DATABASE "{name}"')
            self._made.append(name)
            await upgrade_async(_with_database(self.server_url, name))
            self._template = name
        return self._template

    async def create(self, label: str) -> str:
        """The URL of a new database at the schema's head."""
        template = await self._ensure_template()
        if self.backend == SQLITE:
            path = self.workdir / f"{label}-{uuid.uuid4().hex[:6]}.db"
            shutil.copyfile(template, path)
            return f"sqlite+aiosqlite:///{path}"
        name = f"meetups_bench_{label}_{uuid.uuid4().hex[:8]}"
        await _pg_execute(self.server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        self._made.append(name)
        return _with_database(self.server_url, name)

    async def drop_all(self) -> None:
        if self.backend != POSTGRESQL or not self._made:
            return
        names, self._made = self._made, []
        await _pg_execute(
            self.server_url,
            *(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in reversed(names)),
        )
