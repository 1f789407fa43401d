"""Settings → API tokens in the browser: creating one shows it once and stores only its hash;
revoking; every organizer sees and revokes only their own; the page needs a sign-in."""

import hashlib
import re

import pytest
from sqlmodel import select

from meetups.accounts import tokens
from meetups.accounts.models import ApiToken
from tests import factories
from tests.conftest import sign_in_as, text_of

TOKEN = re.compile(r"mtk_[A-Za-z0-9_-]{43}")


async def _stored(session) -> list[ApiToken]:  # type: ignore[no-untyped-def]
    session.expunge_all()
    found = list((await session.exec(select(ApiToken).order_by(ApiToken.id))).all())  # type: ignore[arg-type]
    await session.commit()
    return found


async def test_a_new_token_is_shown_once_and_stored_hashed(signed_in, session, app) -> None:  # type: ignore[no-untyped-def]
    page = await signed_in.get("/settings/tokens")
    assert page.status_code == 200
    assert "You have no API tokens yet." in text_of(page.text)
    assert 'href="/settings/tokens" aria-current="page"' in page.text

    response = await signed_in.submit("/settings/tokens", {"name": "Newsletter export"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    shown = TOKEN.findall(response.text)
    assert shown, response.text
    secret = shown[0]
    assert "Copy it now: it is shown only this once." in text_of(response.text)

    (stored,) = await _stored(session)
    assert stored.name == "Newsletter export"
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {stored.prefix, stored.token_hash, stored.name}
    assert secret.startswith(stored.prefix)
    assert len(stored.prefix) < 16

    # Not on the next visit, and not kept in any cookie.
    again = await signed_in.get("/settings/tokens")
    assert secret not in again.text
    assert stored.prefix in again.text
    assert all(secret not in value for value in signed_in.cookies.values())

    # The token works for the API.
    api_answer = await signed_in.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert api_answer.status_code == 200
    assert api_answer.json()["token"]["name"] == "Newsletter export"


async def test_tokens_have_at_least_128_random_bits(session) -> None:  # type: ignore[no-untyped-def]
    seen = {tokens.new_token() for _ in range(50)}
    assert len(seen) == 50
    for token in seen:
        assert token.startswith("mtk_")
        # 32 random bytes, base64url: 43 characters of 6 bits each.
        assert len(token) - len("mtk_") == 43


async def test_creating_by_htmx_answers_with_the_tokens_block(signed_in) -> None:  # type: ignore[no-untyped-def]
    response = await signed_in.submit("/settings/tokens", {"name": "CI"}, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="tokens">')
    assert TOKEN.search(response.text)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Please give the token a name"),
        ("   ", "Please give the token a name"),
        ("x" * 101, "At most 100"),
    ],
)
async def test_a_token_needs_a_name(signed_in, session, name: str, message: str) -> None:  # type: ignore[no-untyped-def]
    response = await signed_in.submit("/settings/tokens", {"name": name}, htmx=True)
    assert response.status_code == 422
    assert message in response.text
    assert not TOKEN.search(response.text)
    assert await _stored(session) == []


async def test_there_is_a_limit_of_active_tokens(signed_in, session, admin) -> None:  # type: ignore[no-untyped-def]
    for number in range(tokens.MAX_ACTIVE_TOKENS):
        await tokens.create_token(admin, f"script {number}", session=session)
    await session.commit()
    response = await signed_in.submit("/settings/tokens", {"name": "one more"})
    assert response.status_code == 422
    assert "Revoke one you no longer use first." in text_of(response.text)
    assert len(await _stored(session)) == tokens.MAX_ACTIVE_TOKENS


async def test_revoking_a_token(signed_in, session, admin) -> None:  # type: ignore[no-untyped-def]
    created = await tokens.create_token(admin, "Old script", session=session)
    await session.commit()
    headers = {"Authorization": f"Bearer {created.secret}"}
    assert (await signed_in.get("/api/v1/me", headers=headers)).status_code == 200

    response = await signed_in.submit(f"/settings/tokens/{created.token.id}/revoke")
    assert response.status_code == 303
    page = await signed_in.get("/settings/tokens")
    assert "The token “Old script” is revoked" in text_of(page.text)
    assert "Revoked" in text_of(page.text)
    (stored,) = await _stored(session)
    assert stored.revoked_at is not None
    assert (await signed_in.get("/api/v1/me", headers=headers)).status_code == 401

    # Revoking twice changes nothing.
    again = await signed_in.submit(f"/settings/tokens/{created.token.id}/revoke")
    assert again.status_code == 303
    assert (await _stored(session))[0].revoked_at == stored.revoked_at


async def test_nobody_sees_or_revokes_anothers_tokens(browser, session) -> None:  # type: ignore[no-untyped-def]
    other = await factories.make_organizer(session, email="other@example.com", name="Otto Other")
    created = await tokens.create_token(other, "Otto's script", session=session)
    await session.commit()
    viewer = await sign_in_as(browser, session, "viewer")

    page = await browser.get("/settings/tokens")
    assert page.status_code == 200  # viewers may have (read-only) tokens too
    assert "Otto's script" not in page.text
    assert created.token.prefix not in page.text
    response = await browser.submit(f"/settings/tokens/{created.token.id}/revoke")
    assert response.status_code == 404
    assert (await _stored(session))[0].revoked_at is None
    # And a viewer's token reads but does not write.
    own = await browser.submit("/settings/tokens", {"name": "Reader"})
    secret = TOKEN.findall(own.text)[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert (await browser.get("/api/v1/events", headers=headers)).status_code == 200
    assert viewer.role.value == "viewer"


@pytest.mark.parametrize("token_id", ["0", "abc", "99999999999"])
async def test_revoking_a_token_that_cannot_exist_is_a_404(signed_in, token_id: str) -> None:  # type: ignore[no-untyped-def]
    response = await signed_in.submit(f"/settings/tokens/{token_id}/revoke")
    assert response.status_code == 404


async def test_the_token_page_needs_a_sign_in_and_csrf(browser, admin) -> None:  # type: ignore[no-untyped-def]
    response = await browser.get("/settings/tokens")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    await browser.sign_in(admin.email)
    forged = await browser.post(
        "/settings/tokens", data={"name": "forged"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert forged.status_code == 403
