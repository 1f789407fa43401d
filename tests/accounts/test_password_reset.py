"""Forgot password: the same answer for every address, a single-use link by e-mail that expires,
the same password rules as everywhere, everyone signed out afterwards, and throttling."""

import asyncio
import email
import hashlib
import re
import statistics
import time
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from sqlmodel import col, select, update

from meetups.accounts.models import LoginFailure, Organizer, PasswordReset
from meetups.accounts.password_reset import KIND
from meetups.db import Database, utcnow
from meetups.deps import SESSION_COOKIE
from meetups.mail.models import OutboxMessage
from meetups.ops.logs import redact_path
from tests import factories
from tests.accounts.conftest import HOSTILE_VALUES, BrowserAt, BrowserFactory, sessions_of
from tests.conftest import Browser, text_of

NEW_PASSWORD = "a brand new passphrase"
SENT = "If an account with this e-mail address exists, we have sent it a link"
LINK = re.compile(r"http://testserver/password-reset/([A-Za-z0-9_-]+)")


async def _ask(browser: Browser, address: str, **kwargs: Any) -> Any:
    return await browser.submit("/password-reset", {"email": address}, **kwargs)


async def _reset_mails(database: Database) -> list[OutboxMessage]:
    async with database.session() as read:
        query = select(OutboxMessage).where(OutboxMessage.kind == KIND).order_by(OutboxMessage.id)  # type: ignore[arg-type]
        return list((await read.exec(query)).all())


def _parsed(row: OutboxMessage) -> EmailMessage:
    return email.message_from_string(row.raw, _class=EmailMessage, policy=default_policy)  # type: ignore[return-value]


def _link_token(row: OutboxMessage) -> str:
    message = _parsed(row)
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    (token,) = set(LINK.findall(text))
    assert token in html
    return token


async def _resets(database: Database) -> list[PasswordReset]:
    async with database.session() as read:
        return list((await read.exec(select(PasswordReset).order_by(PasswordReset.id))).all())  # type: ignore[arg-type]


async def _link_for(browser: Browser, database: Database, address: str) -> str:
    response = await _ask(browser, address)
    assert response.status_code == 200, response.text
    return _link_token((await _reset_mails(database))[-1])


async def _choose(
    browser: Browser, token: str, new: str = NEW_PASSWORD, repeat: str | None = None
) -> Any:
    return await browser.submit(
        f"/password-reset/{token}",
        {"new_password": new, "new_password_repeat": new if repeat is None else repeat},
    )


async def test_the_login_page_offers_a_reset(browser: Browser, admin: Organizer) -> None:
    login = await browser.get("/login")
    assert 'href="/password-reset"' in login.text
    form = await browser.get("/password-reset")
    assert form.status_code == 200
    assert 'name="email"' in form.text
    assert "Forgot your password?" in text_of(form.text)


async def test_a_known_address_gets_a_link_by_mail(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    response = await _ask(browser, " ADMIN@example.com ")
    assert response.status_code == 200
    assert SENT in text_of(response.text)
    (row,) = await _reset_mails(database)
    assert row.recipient == admin.email
    assert row.event_id is None
    assert row.invitee_id is None
    message = _parsed(row)
    assert message["Subject"] == "Choose a new password for meetups"
    assert "Ada Admin" in str(message["To"])
    token = _link_token(row)
    # 32 random bytes, only their SHA-256 stored; the database alone holds no working link.
    assert len(token) >= 43
    (stored,) = await _resets(database)
    assert stored.organizer_id == admin.id
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert stored.used_at is None
    assert timedelta(minutes=59) < stored.expires_at - utcnow() <= timedelta(minutes=60)
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "within 60 minutes" in body


async def test_the_mail_is_in_the_organizers_language(
    browser: Browser, session: Any, database: Database
) -> None:
    organizer = await factories.make_organizer(session, email="de@example.com")
    organizer.language = "de"
    await session.commit()
    await _ask(browser, "de@example.com")
    (row,) = await _reset_mails(database)
    html = _parsed(row).get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert '<html lang="de">' in html


async def test_the_lifetime_is_a_setting(
    browser_with: BrowserFactory, admin: Organizer, database: Database
) -> None:
    browser = await browser_with(password_reset_lifetime_minutes=15)
    await _ask(browser, admin.email)
    (stored,) = await _resets(database)
    assert timedelta(minutes=14) < stored.expires_at - utcnow() <= timedelta(minutes=15)


def _answer_text(response: Any) -> str:
    return text_of(re.sub(r'name="csrf_token" value="[^"]*"', "", response.text))


async def test_unknown_and_deactivated_addresses_get_the_same_answer_and_no_mail(
    browser: Browser, admin: Organizer, session: Any, database: Database
) -> None:
    await factories.make_organizer(session, email="gone@example.com", active=False)
    await session.commit()
    known = await _ask(browser, admin.email)
    unknown = await _ask(browser, "nobody@example.com")
    deactivated = await _ask(browser, "gone@example.com")
    assert known.status_code == unknown.status_code == deactivated.status_code == 200
    assert _answer_text(known) == _answer_text(unknown) == _answer_text(deactivated)
    assert set(known.headers) == set(unknown.headers)
    assert [row.recipient for row in await _reset_mails(database)] == [admin.email]
    assert len(await _resets(database)) == 1


async def test_known_and_unknown_addresses_take_about_as_long(
    session: Any, app: Any, settings: Any, database: Database
) -> None:
    """Timing must not tell whether an account exists: both do the same work (the e-mail is
    rendered either way). Generous bounds: this guards against extra work of note (a password
    hash, a network call) on one side, not against microseconds."""
    for number in range(6):
        await factories.make_organizer(session, email=f"known{number}@example.com")
    await session.commit()
    clients = iter(f"198.51.100.{number}" for number in range(1, 100))

    async def timed(address: str) -> float:
        # A client of its own each time: throttling must not answer instead.
        async with BrowserAt(app, settings.secret, next(clients)) as browser:
            await browser.csrf_token()
            started = time.perf_counter()
            response = await _ask(browser, address)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200
        return elapsed

    await timed("known5@example.com")  # warm-up: templates compiled, connections open
    known = statistics.median([await timed(f"known{number}@example.com") for number in range(5)])
    unknown = statistics.median([await timed(f"nobody{number}@example.com") for number in range(5)])
    assert abs(known - unknown) < max(0.05, 0.5 * max(known, unknown)), (known, unknown)
    assert len(await _reset_mails(database)) == 6


async def test_the_link_opens_a_form_for_the_new_password(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    token = await _link_for(browser, database, admin.email)
    page = await browser.get(f"/password-reset/{token}")
    assert page.status_code == 200
    assert 'name="new_password"' in page.text
    assert 'name="new_password_repeat"' in page.text
    assert admin.email in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Robots-Tag"] == "noindex, nofollow"
    assert page.headers["Cache-Control"] == "no-store"


async def test_a_new_password_signs_out_everywhere_and_the_old_one_stops_working(
    browser: Browser, admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    async with Browser(app, settings.secret) as elsewhere:
        await elsewhere.sign_in(admin.email)
        assert (await elsewhere.get("/settings/account")).status_code == 200
        token = await _link_for(browser, database, admin.email)
        response = await _choose(browser, token)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert await sessions_of(database, admin) == []
        assert (await elsewhere.get("/settings/account")).status_code == 303
    login = await browser.get("/login")
    assert "Your new password is set" in text_of(login.text)
    # Not signed in by the reset: the new password is used like every day.
    assert SESSION_COOKIE not in browser.cookies
    old = await browser.submit("/login", {"email": admin.email, "password": factories.PASSWORD})
    assert old.status_code == 422
    new = await browser.submit("/login", {"email": admin.email, "password": NEW_PASSWORD})
    assert new.status_code == 303


async def test_a_link_works_once(browser: Browser, admin: Organizer, database: Database) -> None:
    token = await _link_for(browser, database, admin.email)
    assert (await _choose(browser, token)).status_code == 303
    again = await browser.get(f"/password-reset/{token}")
    assert again.status_code == 404
    assert "This link does not work" in text_of(again.text)
    assert 'href="/password-reset"' in again.text
    second = await _choose(browser, token, "yet another passphrase")
    assert second.status_code == 404
    assert (await browser.sign_in(admin.email, NEW_PASSWORD)).status_code == 303


async def test_using_one_link_voids_the_others(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    first = await _link_for(browser, database, admin.email)
    second = await _link_for(browser, database, admin.email)
    assert first != second
    assert (await _choose(browser, second)).status_code == 303
    assert all(row.used_at is not None for row in await _resets(database))
    assert (await _choose(browser, first, "an attacker's passphrase")).status_code == 404
    assert (await browser.sign_in(admin.email, NEW_PASSWORD)).status_code == 303


async def test_changing_the_password_in_the_settings_voids_open_links(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    token = await _link_for(browser, database, admin.email)
    await browser.sign_in(admin.email)
    changed = await browser.submit(
        "/settings/account/password",
        {
            "current_password": factories.PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_repeat": NEW_PASSWORD,
        },
    )
    assert changed.status_code == 303
    assert (await browser.get(f"/password-reset/{token}")).status_code == 404


async def test_an_expired_link_does_not_work(
    browser: Browser, admin: Organizer, database: Database, session: Any
) -> None:
    token = await _link_for(browser, database, admin.email)
    await session.exec(
        update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1))  # type: ignore[call-overload]
    )
    await session.commit()
    assert (await browser.get(f"/password-reset/{token}")).status_code == 404
    assert (await _choose(browser, token)).status_code == 404
    assert (await browser.sign_in(admin.email)).status_code == 303


async def test_a_deactivated_organizer_cannot_use_a_link(
    signed_in: Browser, admin: Organizer, session: Any, database: Database, app: Any, settings: Any
) -> None:
    olga = await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    async with Browser(app, settings.secret) as olgas:
        token = await _link_for(olgas, database, olga.email)
        deactivated = await signed_in.submit(
            f"/settings/organizers/{olga.id}/active", {"active": "false"}
        )
        assert deactivated.status_code == 303
        assert (await olgas.get(f"/password-reset/{token}")).status_code == 404
        assert (await _choose(olgas, token)).status_code == 404


@pytest.mark.parametrize(
    ("new", "repeat", "field", "message"),
    [
        ("short", "short", "new_password", "at least 10 characters"),
        ("aaaaaaaaaaaa", "aaaaaaaaaaaa", "new_password", "too easy to guess"),
        ("x" * 1025, "x" * 1025, "new_password", "At most 1024 characters"),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "new_password_repeat", "The two passwords differ"),
        ("", "", "new_password", "at least 10 characters"),
    ],
)
async def test_the_password_rules_are_the_usual_ones(
    browser: Browser,
    admin: Organizer,
    database: Database,
    new: str,
    repeat: str,
    field: str,
    message: str,
) -> None:
    token = await _link_for(browser, database, admin.email)
    response = await _choose(browser, token, new, repeat)
    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert message.lower() in text_of(response.text).lower()
    if new:
        assert new not in response.text
    # Nothing changed: the old password works, the link still does.
    (stored,) = await _resets(database)
    assert stored.used_at is None
    assert (await browser.get(f"/password-reset/{token}")).status_code == 200
    assert (await browser.sign_in(admin.email)).status_code == 303


async def test_htmx_swaps_the_forms(browser: Browser, admin: Organizer, database: Database) -> None:
    asked = await _ask(browser, admin.email, htmx=True)
    assert asked.status_code == 200
    assert "<html" not in asked.text
    assert 'id="reset-request-form"' in asked.text
    token = _link_token((await _reset_mails(database))[-1])
    wrong = await browser.submit(
        f"/password-reset/{token}",
        {"new_password": "short", "new_password_repeat": "short"},
        htmx=True,
    )
    assert wrong.status_code == 422
    assert "<html" not in wrong.text
    assert 'id="reset-form"' in wrong.text
    done = await browser.submit(
        f"/password-reset/{token}",
        {"new_password": NEW_PASSWORD, "new_password_repeat": NEW_PASSWORD},
        htmx=True,
    )
    assert done.status_code == 204
    assert done.headers["HX-Redirect"] == "/login"


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_odd_addresses_never_break_the_form(
    browser: Browser, admin: Organizer, database: Database, value: str
) -> None:
    response = await _ask(browser, value)
    assert response.status_code in (200, 422)
    assert "<script>alert(1)</script>" not in response.text
    assert await _reset_mails(database) == []


@pytest.mark.parametrize(
    "token",
    ["x", "A" * 43, "A" * 5000, "%00", "..%2e%2e", "ä" * 43, "' OR 1=1 --", "%ff%fe"],
)
async def test_made_up_links_get_the_friendly_page(
    browser: Browser, admin: Organizer, token: str
) -> None:
    page = await browser.get(f"/password-reset/{token}")
    assert page.status_code == 404
    assert "This link does not work" in text_of(page.text)
    posted = await _choose(browser, token)
    assert posted.status_code == 404


async def test_requests_are_throttled_per_address(
    browser_with: BrowserFactory, admin: Organizer, database: Database, session: Any
) -> None:
    browser = await browser_with(login_failure_window_minutes=10)
    await factories.make_organizer(session, email="olga@example.com")
    await session.commit()
    for _ in range(3):
        assert (await _ask(browser, admin.email)).status_code == 200
    refused = await _ask(browser, admin.email)
    assert refused.status_code == 429
    assert "Too many requests. Please wait 10 minutes" in text_of(refused.text)
    # The same for an address without an account: throttling tells nothing either.
    for _ in range(3):
        await _ask(browser, "nobody@example.com")
    assert (await _ask(browser, "nobody@example.com")).status_code == 429
    assert len(await _reset_mails(database)) == 3
    # Another person's address from the same client still works.
    assert (await _ask(browser, "olga@example.com")).status_code == 200
    async with database.session() as read:
        keys = set((await read.exec(select(LoginFailure.key))).all())
    assert "password-reset:email:admin@example.com" in keys
    assert "password-reset:client:127.0.0.1" in keys


async def test_requests_are_throttled_per_client(
    browser_with: BrowserFactory, admin: Organizer, app: Any, settings: Any, database: Database
) -> None:
    browser = await browser_with()
    for number in range(10):
        assert (await _ask(browser, f"guess{number}@example.com")).status_code == 200
    refused = await _ask(browser, admin.email)
    assert refused.status_code == 429
    assert await _reset_mails(database) == []
    # Another client is not affected.
    async with BrowserAt(app, settings.secret, "203.0.113.9") as other:
        assert (await _ask(other, admin.email)).status_code == 200


async def test_throttling_ends_after_the_window(
    browser: Browser, admin: Organizer, session: Any
) -> None:
    long_ago = utcnow() - timedelta(minutes=16)
    for key in ["password-reset:email:admin@example.com", "password-reset:client:127.0.0.1"] * 20:
        session.add(LoginFailure(key=key, failed_at=long_ago))
    await session.commit()
    assert (await _ask(browser, admin.email)).status_code == 200


async def test_a_reset_lifts_the_sign_in_throttle_of_the_address(
    browser_with: BrowserFactory, admin: Organizer, database: Database
) -> None:
    browser = await browser_with(login_max_failures=2)
    for _ in range(2):
        await browser.submit("/login", {"email": admin.email, "password": "wrong password"})
    assert (
        await browser.submit("/login", {"email": admin.email, "password": factories.PASSWORD})
    ).status_code == 422
    token = await _link_for(browser, database, admin.email)
    assert (await _choose(browser, token)).status_code == 303
    assert (await browser.sign_in(admin.email, NEW_PASSWORD)).status_code == 303


async def test_two_submissions_of_one_link_at_once_set_one_password(
    admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    async with Browser(app, settings.secret) as first, Browser(app, settings.secret) as second:
        token = await _link_for(first, database, admin.email)
        await second.get(f"/password-reset/{token}")
        answers = await asyncio.gather(
            _choose(first, token, "first passphrase here"),
            _choose(second, token, "second passphrase here"),
        )
    assert sorted(answer.status_code for answer in answers) == [303, 404]
    winner = "first passphrase here" if answers[0].status_code == 303 else "second passphrase here"
    async with Browser(app, settings.secret) as check:
        assert (await check.sign_in(admin.email, winner)).status_code == 303


async def test_guessing_links_is_throttled_per_client(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    token = await _link_for(browser, database, admin.email)
    for number in range(20):
        assert (await browser.get(f"/password-reset/{'G' * 42}{number % 10}")).status_code == 404
    throttled = await browser.get(f"/password-reset/{token}")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == str(15 * 60)
    assert (await _choose(browser, token)).status_code == 429
    async with database.session() as read:
        (stored,) = (await read.exec(select(PasswordReset))).all()
    assert stored.used_at is None


async def test_the_link_is_kept_out_of_the_logs(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    token = await _link_for(browser, database, admin.email)
    page = await browser.get(f"/password-reset/{token}")
    assert page.status_code == 200
    assert redact_path(page.request.url.path) == "/password-reset/…"


async def test_nothing_about_the_reset_is_stored_in_the_clear(
    browser: Browser, admin: Organizer, database: Database
) -> None:
    token = await _link_for(browser, database, admin.email)
    async with database.session() as read:
        rows = (await read.exec(select(PasswordReset))).all()
        organizers = (await read.exec(select(Organizer).where(col(Organizer.id) == admin.id))).all()
    assert all(token not in str(row.model_dump()) for row in rows)
    assert all(token not in str(row.model_dump()) for row in organizers)
