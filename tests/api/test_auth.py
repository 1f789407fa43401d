"""Authentication by personal token: missing, wrong, revoked, a deactivated owner; roles; no
cookies and no CSRF; the token's "last used" note."""

from datetime import timedelta

import pytest
from sqlmodel import select

from meetups.accounts import tokens
from meetups.accounts.models import ApiToken
from meetups.csrf import CSRF_COOKIE
from meetups.db import utcnow
from tests import factories
from tests.api.conftest import Caller, error_of, make_caller

MINIMAL_EVENT = {
    "title": "Bloggertreffen Köln",
    "starts_at": "2031-05-14T14:00:00",
    "ends_at": "2031-05-14T18:00:00",
}


async def test_a_valid_token_says_whose_it_is(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/api/v1/me", headers=editor.headers)
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["email"] == "organizer.api@example.com"
    assert me["role"] == "organizer"
    assert me["token"]["name"] == "organizer script"
    assert editor.token.startswith(me["token"]["prefix"])
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Bearer mtk_wrong",
        "Bearer not-even-our-prefix",
        "Bearer mtk_" + "x" * 200,
        "Bearer mtk_\u00e4\u00f6\u00fc",
    ],
)
async def test_requests_without_a_valid_token_get_401(  # type: ignore[no-untyped-def]
    api, editor: Caller, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization.encode("utf-8")}
    response = await api.get("/api/v1/events", headers=headers)
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_the_scheme_name_is_case_insensitive(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/api/v1/me", headers={"Authorization": f"bearer {editor.token}"})
    assert response.status_code == 200


async def test_a_401_comes_before_any_complaint_about_the_request(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    response = await api.post(
        "/api/v1/events", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
    response = await api.get("/api/v1/events?limit=-5")
    assert response.status_code == 401


async def test_a_revoked_token_no_longer_works(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    token = (await session.exec(select(ApiToken))).one()
    await tokens.revoke_token(editor.organizer, token.id, session=session)
    await session.commit()
    response = await api.get("/api/v1/me", headers=editor.headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_deactivated_organizers_token_no_longer_works(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    editor.organizer.is_active = False
    session.add(editor.organizer)
    await session.commit()
    assert (await api.get("/api/v1/me", headers=editor.headers)).status_code == 401
    editor.organizer.is_active = True
    session.add(editor.organizer)
    await session.commit()
    assert (await api.get("/api/v1/me", headers=editor.headers)).status_code == 200


async def test_a_session_cookie_is_not_accepted_by_the_api(api, browser, admin) -> None:  # type: ignore[no-untyped-def]
    await browser.sign_in(admin.email)
    assert (await browser.get("/events")).status_code == 200
    response = await browser.get("/api/v1/events")
    assert response.status_code == 401
    token = await browser.csrf_token()
    response = await browser.post(
        "/api/v1/events",
        json=MINIMAL_EVENT,
        headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 401


async def test_the_api_needs_no_csrf_token_and_sets_no_cookies(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    # A script sends neither a CSRF cookie nor a token, and may say it comes from elsewhere.
    response = await api.post(
        "/api/v1/events",
        json=MINIMAL_EVENT,
        headers={
            **editor.headers,
            "Origin": "https://elsewhere.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert response.status_code == 201, response.text
    assert CSRF_COOKIE not in response.headers.get("set-cookie", "")
    assert "set-cookie" not in response.headers


async def test_a_viewer_reads_but_cannot_write(api, session, viewer: Caller) -> None:  # type: ignore[no-untyped-def]
    await factories.make_event(session)
    await session.commit()
    assert (await api.get("/api/v1/events", headers=viewer.headers)).status_code == 200
    response = await api.post("/api/v1/events", json=MINIMAL_EVENT, headers=viewer.headers)
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"
    response = await api.patch(
        "/api/v1/events/bloggertreffen-montabaur", json={"title": "Neu"}, headers=viewer.headers
    )
    assert response.status_code == 403
    response = await api.post(
        "/api/v1/events/bloggertreffen-montabaur/invitations", headers=viewer.headers
    )
    assert response.status_code == 403


async def test_an_administrator_writes_like_an_organizer(api, session) -> None:  # type: ignore[no-untyped-def]
    admin = await make_caller(session, "admin")
    response = await api.post("/api/v1/events", json=MINIMAL_EVENT, headers=admin.headers)
    assert response.status_code == 201, response.text


async def test_the_role_counts_at_the_moment_of_use(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    editor.organizer.role = "viewer"  # type: ignore[assignment]
    session.add(editor.organizer)
    await session.commit()
    response = await api.post("/api/v1/events", json=MINIMAL_EVENT, headers=editor.headers)
    assert response.status_code == 403


async def test_last_used_is_noted_at_most_once_a_minute(api, session, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    async def last_used() -> object:
        session.expunge_all()
        token = (await session.exec(select(ApiToken))).one()
        await session.commit()
        return token.last_used_at

    assert await last_used() is None
    await api.get("/api/v1/me", headers=editor.headers)
    first = await last_used()
    assert first is not None
    await api.get("/api/v1/me", headers=editor.headers)
    assert await last_used() == first

    token = (await session.exec(select(ApiToken))).one()
    token.last_used_at = utcnow() - timedelta(minutes=5)
    session.add(token)
    await session.commit()
    await api.get("/api/v1/me", headers=editor.headers)
    assert await last_used() > utcnow() - timedelta(minutes=1)  # type: ignore[operator]
