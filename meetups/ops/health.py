"""/healthz and /readyz: what a load balancer, a deployment script or monitoring asks.

`liveness` needs nothing: the process answers. `readiness` asks three things, each cheaply:
the database answers, its schema is the one this code was written for (Alembic's revision in the
database equals the head of migrations/), and a mail worker said it was alive recently. Failures
are named in the answer but not explained there (the address needs no sign-in); the log says why.
"""

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from meetups.config import Settings
from meetups.db import Database, utcnow
from meetups.migrate import alembic_config
from meetups.ops.heartbeat import latest_heartbeat

log = logging.getLogger("meetups.ops")

# A database that does not answer within this is as good as down for a health check.
CHECK_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Readiness:
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def as_json(self) -> dict[str, object]:
        return {
            "status": "ok" if self.ok else "unavailable",
            "checks": {
                check.name: {"ok": check.ok, "detail": check.detail} for check in self.checks
            },
            "failed": [check.name for check in self.checks if not check.ok],
        }


def liveness() -> dict[str, str]:
    return {"status": "ok"}


@cache
def code_revisions() -> frozenset[str]:
    """The head revision(s) of migrations/: read once per process (the files do not change)."""
    return frozenset(ScriptDirectory.from_config(alembic_config("")).get_heads())


def _database_revisions(connection: Connection) -> frozenset[str]:
    # Read directly: Alembic's MigrationContext would log two lines at every check.
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


async def _check_database(database: Database) -> Check:
    async with database.session() as session:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
    return Check("database", True, "the database answers")


async def _check_migrations(database: Database) -> Check:
    async with database.engine.connect() as connection:
        current = await connection.run_sync(_database_revisions)
    expected = code_revisions()
    if current == expected:
        return Check("migrations", True, "the schema is up to date")
    log.warning(
        "readiness: database schema at %s, this version expects %s; run `meetups migrate`",
        ", ".join(sorted(current)) or "nothing",
        ", ".join(sorted(expected)),
    )
    return Check("migrations", False, "the database schema is not the one this version expects")


async def _check_worker(database: Database, settings: Settings, now: datetime) -> Check:
    max_age = settings.worker_heartbeat_max_age_seconds
    seen_at = await latest_heartbeat(database=database)
    if seen_at is not None and (now - seen_at).total_seconds() <= max_age:
        return Check("worker", True, "a mail worker is alive")
    log.warning("readiness: no mail worker said it is alive in the last %s seconds", max_age)
    return Check("worker", False, f"no mail worker said it is alive in the last {max_age:g} s")


async def _run(name: str, check: Coroutine[Any, Any, Check]) -> Check:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            return await check
    except Exception as error:
        log.warning("readiness: %s check failed: %s", name, type(error).__name__, exc_info=True)
        return Check(name, False, f"the {name} check failed")


async def readiness(
    *, database: Database, settings: Settings, now: datetime | None = None
) -> Readiness:
    now = now or utcnow()
    database_check = await _run("database", _check_database(database))
    if not database_check.ok:
        unchecked = "not checked: the database cannot be reached"
        return Readiness(
            (
                Check("database", False, "the database cannot be reached"),
                Check("migrations", False, unchecked),
                Check("worker", False, unchecked),
            )
        )
    return Readiness(
        (
            database_check,
            await _run("migrations", _check_migrations(database)),
            await _run("worker", _check_worker(database, settings, now)),
        )
    )
