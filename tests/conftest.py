"""Fixtures: a fresh database per test (SQLite, and PostgreSQL when MEETUPS_TEST_DATABASE_URL is
set), the app on it, a browser-like HTTP client that handles CSRF like a real page does (signed in
with each role), and a real SMTP server (tests/smtp.py) with the mail worker delivering to it."""

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy.engine import make_url

from meetups.config import Settings
from meetups.csrf import CSRF_COOKIE, token_for
from meetups.db import Database, create_engine
from meetups.migrate import upgrade
from meetups.web import create_app
from tests import factories

# The real SMTP server and the mail worker delivering to it, for the tests of every area: pytest
# finds the fixtures of a conftest by the names it holds.
from tests.smtp import (  # noqa: F401 - fixtures
    certificates,
    deliver,
    mail_settings,
    smtp_server,
    smtp_servers,
)

PG_URL = os.environ.get("MEETUPS_TEST_DATABASE_URL", "")
TEST_SECRET = "test-secret-" + "x" * 40
DATA_DIR = Path(__file__).parent / "data"

BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _pg_admin_dsn() -> str:
    return make_url(PG_URL).set(drivername="postgresql").render_as_string(hide_password=False)


def _pg_url_for(database: str) -> str:
    return make_url(PG_URL).set(database=database).render_as_string(hide_password=False)


async def _pg_execute(*statements: str) -> None:
    connection = await asyncpg.connect(_pg_admin_dsn())
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once; every test gets a copy (which exercises the migrations)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    if not PG_URL:
        pytest.skip("MEETUPS_TEST_DATABASE_URL is not set")
    name = f"meetups_template_{uuid.uuid4().hex[:10]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
    upgrade(_pg_url_for(name))
    yield name
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "meetups.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template = request.getfixturevalue("pg_template")
    name = f"meetups_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url_for(name)
    asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path / "var",
        database_url=database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
        default_language="en",
    )


@pytest.fixture
async def database(settings: Settings) -> AsyncIterator[Database]:
    database = Database(create_engine(settings.resolved_database_url))
    yield database
    await database.dispose()


@pytest.fixture
async def session(database: Database) -> AsyncIterator[Any]:
    """A writing session for arranging data directly; commit what the app should see."""
    async with database.session(write=True) as session:
        yield session


class Browser(httpx.AsyncClient):
    """An HTTP client that behaves like our pages in a browser: it keeps cookies, sends the CSRF
    token a form would carry, and says that its requests come from the same origin."""

    def __init__(self, app: Any, secret: bytes) -> None:
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self.secret = secret

    async def csrf_token(self) -> str:
        if CSRF_COOKIE not in self.cookies:
            await self.get("/login")
        return token_for(self.cookies[CSRF_COOKIE], self.secret)

    async def submit(
        self,
        url: str,
        data: dict[str, Any] | list[tuple[str, str]] | None = None,
        *,
        htmx: bool = False,
        files: Any = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """POST a form as our page would; `data` may repeat keys as a list of pairs."""
        token = await self.csrf_token()
        if isinstance(data, list):
            # httpx takes repeated keys as a dict of lists.
            payload: Any = {"csrf_token": token}
            for key, value in data:
                payload.setdefault(key, [])
                if key != "csrf_token":
                    payload[key].append(value)
        else:
            payload = {**(data or {}), "csrf_token": token}
        all_headers = {"Sec-Fetch-Site": "same-origin", **(headers or {})}
        if htmx:
            all_headers["HX-Request"] = "true"
        return await self.post(url, data=payload, files=files, headers=all_headers)

    async def sign_in(self, email: str, password: str = factories.PASSWORD) -> httpx.Response:
        response = await self.submit("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response


@pytest.fixture
def app(settings: Settings, database: Database) -> Any:
    return create_app(settings, database)


@pytest.fixture
async def browser(app: Any, settings: Settings) -> AsyncIterator[Browser]:
    async with Browser(app, settings.secret) as client:
        yield client


@pytest.fixture
async def admin(session: Any) -> Any:
    organizer = await factories.make_organizer(
        session, email="admin@example.com", name="Ada Admin", role="admin"
    )
    await session.commit()
    return organizer


@pytest.fixture
async def signed_in(browser: Browser, admin: Any) -> Browser:
    """A browser signed in as an administrator."""
    await browser.sign_in(admin.email)
    return browser


async def sign_in_as(browser: Browser, session: Any, role: str) -> Any:
    organizer = await factories.make_organizer(
        session, email=f"{role}@example.com", name=f"{role.title()} Person", role=role
    )
    await session.commit()
    await browser.sign_in(organizer.email)
    return organizer


@pytest.fixture
async def editor(browser: Browser, session: Any) -> Browser:
    """A browser signed in with the organizer role (may change things, is no admin)."""
    await sign_in_as(browser, session, "organizer")
    return browser


@pytest.fixture
async def viewer(browser: Browser, session: Any) -> Browser:
    """A browser signed in with the viewer role (may look, may not change anything)."""
    await sign_in_as(browser, session, "viewer")
    return browser


def text_of(html: str) -> str:
    """Visible text, roughly: for asserting on what a person reads."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
