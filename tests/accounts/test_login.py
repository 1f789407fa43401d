"""Signing in and out: sessions, cookies, throttling, deactivated accounts, where to go next."""

import hashlib
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from sqlmodel import select

from meetups.accounts.models import LoginFailure, LoginSession, Organizer
from meetups.csrf import CSRF_COOKIE
from meetups.db import Database, utcnow
from meetups.deps import SESSION_COOKIE
from tests import factories
from tests.accounts.conftest import BrowserFactory, plant_cookie, sessions_of, set_cookie_headers
from tests.conftest import Browser, text_of

WRONG = "not the password at all"


async def _login(
    browser: Browser, email: str, password: str = factories.PASSWORD, **extra: str
) -> Any:
    return await browser.submit("/login", {"email": email, "password": password, **extra})


async def test_pages_of_organizers_need_a_sign_in(browser: Browser, admin: Organizer) -> None:
    response = await browser.get("/settings/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Faccount"


async def test_login_page_shows_the_form(browser: Browser, admin: Organizer) -> None:
    response = await browser.get("/login")
    assert response.status_code == 200
    assert 'name="email"' in response.text
    assert 'name="password"' in response.text
    assert 'autocomplete="current-password"' in response.text


async def test_sign_in_starts_a_server_side_session(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    response = await _login(browser, "ADMIN@example.com ")
    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    token = browser.cookies[SESSION_COOKIE]
    assert len(token) >= 43  # 32 random bytes
    (stored,) = await sessions_of(database, admin)
    # Only a hash of the token is kept: the database alone does not let anyone sign in.
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in stored.token_hash
    assert stored.expires_at - utcnow() > timedelta(days=13)
    assert (await browser.get("/settings/account")).status_code == 200


async def test_every_sign_in_gets_a_new_session_token(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    # A token planted before signing in (session fixation) is not taken over.
    plant_cookie(browser, SESSION_COOKIE, "planted-by-an-attacker-" + "x" * 30)
    await _login(browser, admin.email)
    first = browser.cookies[SESSION_COOKIE]
    assert not first.startswith("planted")
    await _login(browser, admin.email)
    second = browser.cookies[SESSION_COOKIE]
    assert second != first
    assert len(await sessions_of(database, admin)) == 2


async def test_sign_in_renews_the_csrf_secret(browser: Browser, admin: Organizer) -> None:
    await browser.get("/login")
    before = browser.cookies[CSRF_COOKIE]
    await _login(browser, admin.email)
    assert browser.cookies[CSRF_COOKIE] != before
    # The page after signing in carries a token that works.
    assert (
        await browser.submit("/language", {"language": "de", "next": "/settings"})
    ).status_code == 303


async def test_session_cookie_flags_on_http(browser: Browser, admin: Organizer) -> None:
    response = await _login(browser, admin.email)
    (cookie,) = set_cookie_headers(response, SESSION_COOKIE)
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # a plain-http install (make run) must still work
    assert not any(part.startswith("domain=") for part in attributes)


async def test_session_cookie_on_https_is_secure_and_host_only(
    browser_with: BrowserFactory, admin: Organizer
) -> None:
    browser = await browser_with(base_url="https://meetups.example")
    response = await _login(browser, admin.email)
    assert response.status_code == 303
    (cookie,) = set_cookie_headers(response, f"__Host-{SESSION_COOKIE}")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= set(attributes)
    assert not any(part.startswith("domain=") for part in attributes)
    assert not set_cookie_headers(response, SESSION_COOKIE)
    for name in [CSRF_COOKIE, "meetups_lang"]:
        for header in set_cookie_headers(response, name):
            assert "secure" in header.lower()
    assert (await browser.get("/settings/account")).status_code == 200
    # The plain name is not honoured on https.
    token = browser.cookies[f"__Host-{SESSION_COOKIE}"]
    browser.cookies.clear()
    plant_cookie(browser, SESSION_COOKIE, token)
    assert (await browser.get("/settings/account")).status_code == 303


async def test_sign_out_ends_the_session_on_the_server(
    browser: Browser, admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    await _login(browser, admin.email)
    token = browser.cookies[SESSION_COOKIE]
    response = await browser.submit("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    (cleared,) = set_cookie_headers(response, SESSION_COOKIE)
    assert "max-age=0" in cleared.lower()
    assert await sessions_of(database, admin) == []
    # A copy of the old cookie (stolen, or kept by another tab) is worth nothing now.
    async with Browser(app, settings.secret) as thief:
        plant_cookie(thief, SESSION_COOKIE, token)
        assert (await thief.get("/settings/account")).status_code == 303
    page = await browser.get("/login")
    assert "You are signed out" in text_of(page.text)


async def test_sign_out_without_a_session_is_harmless(browser: Browser, admin: Organizer) -> None:
    response = await browser.submit("/logout")
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("admin@example.com", WRONG),
        ("nobody@example.com", factories.PASSWORD),
        ("", ""),
        ("admin@example.com", ""),
        ("admin@example.com", "x" * 5000),
        ("<script>alert(1)</script>", "x"),
        ("admin@example.com\u0000", WRONG),
        ("\u0000", "\u0000"),
        ("a" * 10_000, "y"),
    ],
)
async def test_wrong_credentials_get_one_message_for_all_cases(
    browser: Browser, admin: Organizer, email: str, password: str
) -> None:
    response = await _login(browser, email, password)
    assert response.status_code == 422
    assert "E-mail address or password is wrong" in text_of(response.text)
    assert SESSION_COOKIE not in browser.cookies
    assert "<script>alert(1)</script>" not in response.text


async def test_failed_sign_in_with_htmx_swaps_the_form(browser: Browser, admin: Organizer) -> None:
    response = await browser.submit("/login", {"email": admin.email, "password": WRONG}, htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="login-form"' in response.text
    assert f'value="{admin.email}"' in response.text
    assert WRONG not in response.text


async def test_sign_in_with_htmx_redirects_by_header(browser: Browser, admin: Organizer) -> None:
    response = await browser.submit(
        "/login", {"email": admin.email, "password": factories.PASSWORD}, htmx=True
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/events"


async def test_failed_sign_ins_are_throttled_per_address(
    browser_with: BrowserFactory, admin: Organizer, session: Any
) -> None:
    browser = await browser_with(login_max_failures=3, login_failure_window_minutes=10)
    await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    for _ in range(3):
        assert (await _login(browser, admin.email, WRONG)).status_code == 422
    # Now even the right password is refused, with a message that says to wait.
    refused = await _login(browser, admin.email)
    assert refused.status_code == 422
    message = text_of(refused.text)
    assert "Too many failed attempts" in message
    assert "wait 10 minutes" in message
    assert SESSION_COOKIE not in browser.cookies
    # Other accounts are not locked out by someone guessing this one's password.
    assert (await _login(browser, "olga@example.com")).status_code == 303


async def test_failed_sign_ins_are_throttled_per_client(
    browser_with: BrowserFactory, admin: Organizer
) -> None:
    browser = await browser_with(login_max_failures=2)
    # Guessing across many addresses: four times the per-address limit from one client.
    for number in range(8):
        assert (await _login(browser, f"guess{number}@example.com", WRONG)).status_code == 422
    refused = await _login(browser, admin.email)
    assert refused.status_code == 422
    assert "Too many failed attempts" in text_of(refused.text)


async def test_throttling_ends_after_the_window(
    browser_with: BrowserFactory, admin: Organizer, session: Any
) -> None:
    browser = await browser_with(login_max_failures=2, login_failure_window_minutes=15)
    long_ago = utcnow() - timedelta(minutes=16)
    for key in ["email:admin@example.com", "client:127.0.0.1"] * 20:
        session.add(LoginFailure(key=key, failed_at=long_ago))
    await session.commit()
    assert (await _login(browser, admin.email)).status_code == 303


async def test_success_forgets_earlier_failures_of_the_address(
    browser_with: BrowserFactory, admin: Organizer, database: Database
) -> None:
    browser = await browser_with(login_max_failures=3)
    for _ in range(2):
        await _login(browser, admin.email, WRONG)
    assert (await _login(browser, admin.email)).status_code == 303
    for _ in range(2):
        await _login(browser, admin.email, WRONG)
    assert (await _login(browser, admin.email)).status_code == 303
    async with database.session() as read:
        keys = (await read.exec(select(LoginFailure.key))).all()
    assert "email:admin@example.com" not in keys


async def test_deactivated_organizers_cannot_sign_in(
    browser: Browser, admin: Organizer, session: Any
) -> None:
    await factories.make_organizer(session, email="gone@example.com", active=False)
    await session.commit()
    response = await _login(browser, "gone@example.com")
    assert response.status_code == 422
    assert "E-mail address or password is wrong, or the account is deactivated" in text_of(
        response.text
    )
    assert SESSION_COOKIE not in browser.cookies


async def test_deactivation_ends_the_sessions_of_the_organizer(
    signed_in: Browser, session: Any, database: Database, app: Any, settings: Any
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    async with Browser(app, settings.secret) as olgas_browser:
        await olgas_browser.sign_in("olga@example.com")
        assert (await olgas_browser.get("/settings/account")).status_code == 200
        response = await signed_in.submit(
            f"/settings/organizers/{olga.id}/active", {"active": "false"}
        )
        assert response.status_code == 303
        assert await sessions_of(database, olga) == []
        page = await olgas_browser.get("/settings/account")
        assert page.status_code == 303
        assert page.headers["location"].startswith("/login")


async def test_expired_sessions_do_not_count(
    browser: Browser, admin: Organizer, session: Any, database: Database
) -> None:
    await _login(browser, admin.email)
    await session.exec(
        LoginSession.__table__.update().values(expires_at=utcnow() - timedelta(seconds=1))  # type: ignore[attr-defined]
    )
    await session.commit()
    assert (await browser.get("/settings/account")).status_code == 303


async def test_odd_session_cookies_are_ignored(browser: Browser, admin: Organizer) -> None:
    for value in ["", "x", "x" * 5000, "ä", "' OR 1=1 --"]:
        plant_cookie(browser, SESSION_COOKIE, quote(value))
        response = await browser.get("/settings/account")
        assert response.status_code == 303, value


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "https:evil.example",
        "evil.example",
        "",
        "/events\r\nSet-Cookie: x=y",
    ],
)
async def test_next_cannot_lead_off_site(browser: Browser, admin: Organizer, target: str) -> None:
    form = await browser.get("/login", params={"next": target})
    assert form.status_code == 200
    assert "evil.example" not in form.text
    response = await _login(browser, admin.email, next=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    assert "x" not in browser.cookies


async def test_an_encoded_line_break_in_next_stays_encoded(
    browser: Browser, admin: Organizer
) -> None:
    response = await _login(browser, admin.email, next="/%0d%0aSet-Cookie:x=y")
    assert response.headers["location"] == "/%0d%0aSet-Cookie:x=y"
    assert "x" not in browser.cookies


async def test_next_returns_to_the_page_that_asked_for_a_sign_in(
    browser: Browser, admin: Organizer
) -> None:
    asked = await browser.get("/settings/account", params={"tab": "password ä"})
    target = asked.request.url.raw_path.decode()
    assert target == "/settings/account?tab=password+%C3%A4"
    assert asked.headers["location"] == f"/login?next={quote(target, safe='')}"
    form = await browser.get(asked.headers["location"])
    assert f'name="next" value="{target}"' in form.text
    response = await _login(browser, admin.email, next=target)
    assert response.headers["location"] == target


async def test_a_post_without_session_goes_to_login_without_next(
    browser: Browser, admin: Organizer
) -> None:
    response = await browser.submit("/settings/account/password", {"current_password": "x"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


async def test_htmx_request_without_session_redirects_by_header(
    browser: Browser, admin: Organizer
) -> None:
    response = await browser.get("/settings/account", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/login")
