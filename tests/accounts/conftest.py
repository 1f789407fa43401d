"""Helpers for the accounts tests: apps with other settings (https, stricter throttling), and
reading the database the way a second process would."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlmodel import select

from meetups.accounts.models import LoginSession, Organizer
from meetups.config import Settings
from meetups.db import Database
from meetups.web import create_app
from tests.conftest import Browser

BrowserFactory = Callable[..., Awaitable[Browser]]


@pytest.fixture
async def browser_with(settings: Settings, database: Database) -> AsyncIterator[BrowserFactory]:
    """`await browser_with(base_url="https://...", login_max_failures=2)`: a browser on an app whose
    settings differ from the default test settings in the given fields (same database)."""
    browsers: list[Browser] = []

    async def build(**changes: Any) -> Browser:
        changed = Settings(_env_file=None, **{**settings.model_dump(), **changes})  # type: ignore[call-arg]
        browser = Browser(create_app(changed, database), changed.secret)
        browser.base_url = str(changed.base_url).rstrip("/")
        browsers.append(browser)
        return browser

    yield build
    for browser in browsers:
        await browser.aclose()


class BrowserAt(Browser):
    """A browser whose requests reach the app from `address` (what `request.client` says, and
    what throttling counts by)."""

    def __init__(self, app: Any, secret: bytes, address: str) -> None:
        httpx.AsyncClient.__init__(
            self,
            transport=httpx.ASGITransport(app=app, client=(address, 50_000)),
            base_url="http://testserver",
        )
        self.secret = secret


async def organizer_by_email(database: Database, email: str) -> Organizer | None:
    async with database.session() as session:
        return (await session.exec(select(Organizer).where(Organizer.email == email))).first()


async def all_organizers(database: Database) -> list[Organizer]:
    async with database.session() as session:
        return list((await session.exec(select(Organizer).order_by(Organizer.id))).all())  # type: ignore[arg-type]


async def sessions_of(database: Database, organizer: Organizer) -> list[LoginSession]:
    async with database.session() as session:
        query = select(LoginSession).where(LoginSession.organizer_id == organizer.id)
        return list((await session.exec(query)).all())


def plant_cookie(browser: Browser, name: str, value: str) -> None:
    """Puts a cookie into the browser as if our site had set it (cookie jars add ".local" to
    host names without a dot)."""
    host = browser.base_url.host
    browser.cookies.set(name, value, domain=host if "." in host else f"{host}.local")


def set_cookie_headers(response: Any, name: str) -> list[str]:
    """The Set-Cookie headers of a response for one cookie, with their attributes."""
    return [
        value for value in response.headers.get_list("set-cookie") if value.startswith(f"{name}=")
    ]


# Values a hostile or careless client may send in any text field.
HOSTILE_VALUES = [
    "",
    " \t\n ",
    "x" * 100_001,
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "Robert'); DROP TABLE organizer;--",
    '=HYPERLINK("http://evil.example")',
    "\u202eevil\u202c",
    "a\u0000b",
    "💥" * 300,
    "Zoë Ångström-Łukasiewicz",
    "%00%ff%fe",
    "../../etc/passwd",
]
