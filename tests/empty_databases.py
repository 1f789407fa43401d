"""A fresh, empty database (nothing migrated) on each backend, for the tests of migrations and of
the command line. Import the fixture into a test module: `from tests.empty_databases import
empty_database_url`."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import BACKENDS, PG_URL, _pg_execute, _pg_url_for


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    name = f"meetups_empty_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    url = _pg_url_for(name)
    assert make_url(url).database == name
    assert make_url(PG_URL).database != name
    yield url
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
