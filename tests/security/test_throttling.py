"""Guessing is throttled: failed sign-ins per e-mail address and per client address, wrong
personal links per client address. Requests come from different client addresses here, as
they do behind the reverse proxy (whose X-Forwarded-For uvicorn turns into the client)."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlmodel import select

from meetups.accounts.models import LoginFailure, Organizer
from meetups.config import Settings
from meetups.db import Database
from meetups.deps import SESSION_COOKIE
from meetups.invitations.guessing import WRONG_LINKS_PER_WINDOW
from meetups.web import create_app
from tests import factories
from tests.accounts.conftest import BrowserAt
from tests.conftest import text_of
from tests.security.conftest import World

WRONG = "certainly not the password"
MADE_UP_LINK = "/i/" + "Z" * 32

ClientFactory = Callable[[str], BrowserAt]


@pytest.fixture
async def client_at(settings: Settings, database: Database) -> AsyncIterator[ClientFactory]:
    """`client_at("198.51.100.7")`: a browser on one app (throttling after 2 failed sign-ins per
    address) whose requests come from that client address."""
    strict = Settings(_env_file=None, **{**settings.model_dump(), "login_max_failures": 2})  # type: ignore[call-arg]
    app = create_app(strict, database)
    browsers: list[BrowserAt] = []

    def build(address: str) -> BrowserAt:
        browser = BrowserAt(app, strict.secret, address)
        browsers.append(browser)
        return browser

    yield build
    for browser in browsers:
        await browser.aclose()


async def _login(browser: BrowserAt, email: str, password: str = factories.PASSWORD) -> Any:
    return await browser.submit("/login", {"email": email, "password": password})


async def _keys(database: Database) -> set[str]:
    async with database.session() as read:
        return set((await read.exec(select(LoginFailure.key))).all())


async def test_failed_sign_ins_are_counted_by_address_and_by_client(
    client_at: ClientFactory, admin: Organizer, database: Database
) -> None:
    await _login(client_at("198.51.100.7"), admin.email, WRONG)
    assert {"email:admin@example.com", "client:198.51.100.7"} <= await _keys(database)


async def test_one_address_is_throttled_whichever_client_tries(
    client_at: ClientFactory, admin: Organizer, session: Any
) -> None:
    await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    # Two clients share the guessing at one account: together they reach its limit.
    assert (await _login(client_at("198.51.100.1"), admin.email, WRONG)).status_code == 422
    assert (await _login(client_at("198.51.100.2"), admin.email, WRONG)).status_code == 422
    fresh = client_at("198.51.100.3")
    refused = await _login(fresh, admin.email)
    assert refused.status_code == 422
    assert "Too many failed attempts" in text_of(refused.text)
    assert SESSION_COOKIE not in fresh.cookies
    # Other accounts are not locked by it.
    assert (await _login(fresh, "olga@example.com")).status_code == 303


async def test_one_client_is_throttled_whichever_address_it_tries(
    client_at: ClientFactory, admin: Organizer
) -> None:
    guesser = client_at("203.0.113.66")
    # Four times the per-address limit, spread over addresses that each stay below it.
    for number in range(8):
        assert (await _login(guesser, f"guess{number}@example.com", WRONG)).status_code == 422
    refused = await _login(guesser, admin.email)
    assert "Too many failed attempts" in text_of(refused.text)
    assert SESSION_COOKIE not in guesser.cookies
    # Someone else, from another address, signs in as usual.
    assert (await _login(client_at("198.51.100.20"), admin.email)).status_code == 303


async def test_guessing_personal_links_is_throttled_per_client(
    client_at: ClientFactory, world: World, database: Database
) -> None:
    guesser = client_at("203.0.113.99")
    for _ in range(WRONG_LINKS_PER_WINDOW):
        assert (await guesser.get(MADE_UP_LINK)).status_code == 404
    # Now even a real link is refused to this client, on every page behind links...
    for path in [f"/i/{world.a.token}", f"/i/{world.a.token}/travel", MADE_UP_LINK]:
        throttled = await guesser.get(path)
        assert throttled.status_code == 429, path
        assert throttled.headers["Retry-After"] == "900"
        assert world.a.name not in throttled.text
    answered = await guesser.submit(f"/i/{world.a.token}", {"answer": "declined"})
    assert answered.status_code == 429
    assert "invitee-link:203.0.113.99" in await _keys(database)
    # ...while the guest, from their own address, gets in.
    guest = client_at("198.51.100.42")
    page = await guest.get(f"/i/{world.a.token}")
    assert page.status_code == 200
    assert world.a.name in page.text


async def test_wrong_links_below_the_limit_do_not_lock_anyone_out(
    client_at: ClientFactory, world: World
) -> None:
    guest = client_at("198.51.100.50")
    for _ in range(WRONG_LINKS_PER_WINDOW - 1):
        await guest.get(MADE_UP_LINK)
    assert (await guest.get(f"/i/{world.a.token}")).status_code == 200
