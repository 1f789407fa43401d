"""Personal links: long enough, not forgeable or readable from a copy of the database, revocable,
and kept out of the logs."""

import logging
import re
from typing import Any

import pytest
from starlette.requests import Request

from meetups.config import Settings
from meetups.invitations.links import (
    invitee_for_token,
    issue_link,
    link_token,
    lookup_hash,
    personal_url,
    token_of,
)
from meetups.web import loggable_path
from tests import factories
from tests.conftest import Browser


@pytest.fixture
async def invitee(session: Any, settings: Settings) -> Any:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session)
    invitee = await factories.make_invitee(session, event, contact)
    issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.commit()
    return invitee


async def test_a_link_carries_more_than_128_bits_of_secret(
    invitee: Any, settings: Settings
) -> None:
    token = token_of(invitee, settings.secret)
    assert token is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)  # 32 base64url characters: 192 bits
    assert personal_url(invitee, settings) == f"http://testserver/i/{token}"


async def test_the_database_alone_neither_reveals_nor_forges_a_link(
    invitee: Any, settings: Settings, session: Any
) -> None:
    token = token_of(invitee, settings.secret)
    stored = {invitee.link_nonce, invitee.link_lookup}
    # What the database holds is not the link, nor the link with anything stripped off.
    assert token not in stored
    assert all(token not in value for value in stored)
    assert invitee.link_lookup == lookup_hash(token)
    # Someone with the database but not the app's secret derives a token that opens nothing.
    forged = link_token(invitee.link_nonce, b"a guess at the secret, 32 bytes long!")
    assert forged != token
    assert await invitee_for_token(forged, session=session) is None
    # And the lookup hash itself is no link either.
    assert await invitee_for_token(invitee.link_lookup[:32], session=session) is None
    assert (await invitee_for_token(token, session=session)).id == invitee.id


async def test_a_new_link_revokes_the_old_one(
    invitee: Any, settings: Settings, session: Any, browser: Browser
) -> None:
    old = token_of(invitee, settings.secret)
    new = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.commit()
    assert new != old
    assert await invitee_for_token(old, session=session) is None
    await session.commit()  # the test's session must not hold SQLite's write lock meanwhile
    assert (await browser.get(f"/i/{old}")).status_code == 404
    response = await browser.get(f"/i/{new}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/i/SECRETSECRETSECRETSECRETSECRET12", "/i/…"),
        ("/i/SECRETSECRETSECRETSECRETSECRET12/travel", "/i/…/travel"),
        ("/unsubscribe/17-SECRET", "/unsubscribe/…"),
        ("/feeds/SECRET.ics", "/feeds/…"),
        ("/checkin/1-2-SECRET", "/checkin/…"),
        ("/events/bloggertreffen-montabaur", "/events/bloggertreffen-montabaur"),
    ],
)
def test_secrets_in_paths_are_blanked_for_the_logs(path: str, shown: str) -> None:
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": path,
            "query_string": b"",
            "headers": [],
            "server": ("testserver", 80),
            "scheme": "http",
        }
    )
    assert loggable_path(request) == shown
    assert "SECRET" not in loggable_path(request)


async def test_an_error_behind_a_link_is_logged_without_the_link(
    invitee: Any, settings: Settings, app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = token_of(invitee, settings.secret)

    @app.get("/i/{token}/explode")
    async def explode(token: str) -> None:
        raise RuntimeError("boom")

    # Routes added after the app was built are matched after the catch-all ones; put it first.
    app.router.routes.insert(0, app.router.routes.pop())
    async with Browser(app, settings.secret) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.get(f"/i/{token}/explode")
    assert response.status_code == 500
    assert "boom" in caplog.text
    assert token not in caplog.text
