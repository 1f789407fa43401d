"""The migrations and the models agree, on SQLite and PostgreSQL, and can be undone."""

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import meetups.models  # noqa: F401 - registers every table on SQLModel.metadata
from meetups.db import create_engine
from meetups.migrate import alembic_config, downgrade, upgrade
from tests.empty_databases import empty_database_url  # noqa: F401 - a fixture

EVERY_TABLE = set(SQLModel.metadata.tables)


def _differences(connection: Connection) -> list[Any]:
    # Configured as migrations/env.py configures its context for autogenerate.
    context = MigrationContext.configure(
        connection,
        opts={
            "target_metadata": SQLModel.metadata,
            "compare_type": True,
            "compare_server_default": True,
            "render_as_batch": True,
        },
    )
    return compare_metadata(context, SQLModel.metadata)


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names())


async def _inspect(url: str) -> tuple[list[Any], set[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
            tables = await connection.run_sync(_tables)
    finally:
        await engine.dispose()
    return differences, tables


def _explain(differences: list[Any]) -> str:
    return (
        "The models and migrations/versions disagree; regenerate the initial migration "
        "(see the README's development notes):\n" + "\n".join(map(str, differences))
    )


async def _upgrade(url: str) -> None:
    # Alembic's env.py runs its own event loop, so it gets a thread of its own.
    await asyncio.to_thread(upgrade, url)


async def _downgrade(url: str) -> None:
    await asyncio.to_thread(downgrade, url)


def test_there_is_one_line_of_migrations() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


async def test_upgrade_matches_the_models_and_downgrade_undoes_it(empty_database_url: str) -> None:  # noqa: F811
    url = empty_database_url
    await _upgrade(url)
    differences, tables = await _inspect(url)
    assert differences == [], _explain(differences)
    assert tables == EVERY_TABLE | {"alembic_version"}

    await _downgrade(url)
    differences, tables = await _inspect(url)
    assert tables == {"alembic_version"}

    # And up again, as after a rollback of a release.
    await _upgrade(url)
    differences, tables = await _inspect(url)
    assert differences == [], _explain(differences)
    assert tables == EVERY_TABLE | {"alembic_version"}


async def test_upgrading_twice_changes_nothing(empty_database_url: str) -> None:  # noqa: F811
    await _upgrade(empty_database_url)
    await _upgrade(empty_database_url)
    differences, tables = await _inspect(empty_database_url)
    assert differences == []
    assert tables == EVERY_TABLE | {"alembic_version"}


async def test_the_comparison_notices_a_difference(empty_database_url: str) -> None:  # noqa: F811
    """Guards the test above against comparing nothing with nothing."""
    await _upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("ALTER TABLE organizer ADD COLUMN stray INTEGER"))
            await connection.execute(text("CREATE TABLE stray_table (id INTEGER PRIMARY KEY)"))
    finally:
        await engine.dispose()
    differences, _tables = await _inspect(empty_database_url)
    kinds = {(difference[0], getattr(difference[-1], "name", None)) for difference in differences}
    assert ("remove_column", "stray") in kinds
    assert ("remove_table", "stray_table") in kinds
