"""Alembic environment: async engine, batch mode on SQLite, metadata from every area's models."""

import asyncio

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import meetups.models  # noqa: F401 - registers every table on SQLModel.metadata
from meetups.config import Settings
from meetups.db import UTCDateTime, create_engine

config = context.config
target_metadata = SQLModel.metadata


def _database_url() -> str:
    # Tests and the CLI hand over their URL; otherwise the settings decide.
    return config.attributes.get("database_url") or Settings().resolved_database_url


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Keep revisions self-contained: our UTC wrapper is a plain timezone-aware DateTime in the DB.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection | None = None, url: str | None = None) -> None:
    context.configure(
        render_item=_render_item,
        connection=connection,
        url=url,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        compare_server_default=True,
        literal_binds=connection is None,
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url())
    with context.begin_transaction():
        context.run_migrations()


def _run_sync(connection: Connection) -> None:
    _configure(connection=connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    url = _database_url()
    # Batch mode on SQLite rebuilds tables by copy and drop; with foreign keys on, dropping the old
    # table would cascade into the rows that point at it.
    engine = create_engine(url, sqlite_foreign_keys=False)
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


existing = config.attributes.get("connection")
if existing is not None:
    _run_sync(existing)
elif context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
