"""The one-time "create the first administrator" page."""

import asyncio
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from meetups.accounts.models import Role
from meetups.db import Database
from tests.accounts.conftest import HOSTILE_VALUES, all_organizers, organizer_by_email
from tests.conftest import Browser, text_of

GOOD = {
    "name": "Ada Admin",
    "email": "Ada@Example.COM",
    "password": "a long secret phrase",
    "password_repeat": "a long secret phrase",
}


async def test_without_organizers_every_page_leads_to_setup(browser: Browser) -> None:
    for path in ["/settings", "/settings/account", "/settings/organizers", "/login"]:
        response = await browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/setup"


async def test_setup_page_asks_for_the_first_administrator(browser: Browser) -> None:
    response = await browser.get("/setup")
    assert response.status_code == 200
    text = text_of(response.text)
    assert "Create the first administrator" in text or "Welcome to meetups" in text
    for name in ["name", "email", "password", "password_repeat", "csrf_token"]:
        assert f'name="{name}"' in response.text


async def test_setup_creates_a_signed_in_administrator(
    browser: Browser, database: Database
) -> None:
    response = await browser.submit("/setup", GOOD)
    assert response.status_code == 303
    assert response.headers["location"] == "/events"
    admin = await organizer_by_email(database, "ada@example.com")
    assert admin is not None
    assert admin.role is Role.admin
    assert admin.is_active
    assert admin.name == "Ada Admin"
    assert admin.password_hash.startswith("$argon2id$")
    assert "a long secret phrase" not in admin.password_hash
    # The browser is signed in right away.
    account = await browser.get("/settings/account")
    assert account.status_code == 200
    assert "ada@example.com" in account.text


async def test_setup_is_one_time_only(browser: Browser, database: Database, app: Any) -> None:
    assert (await browser.submit("/setup", GOOD)).status_code == 303
    other = Browser(app, browser.secret)
    async with other:
        page = await other.get("/setup")
        assert page.status_code == 303
        assert page.headers["location"] == "/login"
        second = {**GOOD, "email": "mallory@example.com", "name": "Mallory"}
        response = await other.submit("/setup", second)
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert await organizer_by_email(database, "mallory@example.com") is None
        # The refusal is explained on the sign-in page, once.
        login = await other.get("/login")
        assert "has been created already" in text_of(login.text)
    assert len(await all_organizers(database)) == 1


async def test_two_setups_at_the_same_moment_create_one_administrator(
    browser: Browser, database: Database, app: Any
) -> None:
    other = Browser(app, browser.secret)
    async with other:
        await browser.csrf_token()
        await other.csrf_token()
        first, second = await asyncio.gather(
            browser.submit("/setup", GOOD),
            other.submit("/setup", {**GOOD, "email": "eve@example.com", "name": "Eve"}),
        )
    assert sorted([first.headers["location"], second.headers["location"]]) == ["/events", "/login"]
    organizers = await all_organizers(database)
    assert len(organizers) == 1
    assert organizers[0].role is Role.admin


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "Please enter a name"),
        ({"name": "   "}, "name", "Please enter a name"),
        ({"name": "x" * 201}, "name", "At most 200 characters"),
        ({"name": "=cmd|' /C calc'!A0"}, "name", "cannot start with"),
        ({"email": ""}, "email", "Please enter an e-mail address"),
        ({"email": "not an address"}, "email", "not a valid e-mail address"),
        ({"email": "a@b@example.com"}, "email", "not a valid e-mail address"),
        ({"email": "x" * 300 + "@example.com"}, "email", "At most 254 characters"),
        ({"password": "short", "password_repeat": "short"}, "password", "at least 10 characters"),
        ({"password": "aaaaaaaaaaaa", "password_repeat": "aaaaaaaaaaaa"}, "password", "too easy"),
        ({"password": "x" * 1025, "password_repeat": "x" * 1025}, "password", "At most 1024"),
        ({"password_repeat": "something else entirely"}, "password_repeat", "differ"),
    ],
)
async def test_setup_refuses_bad_input_next_to_the_field(
    browser: Browser, database: Database, changes: dict[str, str], field: str, message: str
) -> None:
    response = await browser.submit("/setup", {**GOOD, **changes})
    assert response.status_code == 422
    error = re.search(rf'<small class="error" id="e-{field}">([^<]*)</small>', response.text)
    assert error is not None, response.text
    assert message.lower() in error.group(1).lower()
    # Passwords are never sent back; the other values are kept for correcting.
    assert "a long secret phrase" not in response.text
    assert await all_organizers(database) == []


async def test_setup_keeps_values_escaped_when_refusing(browser: Browser) -> None:
    hostile = '"><script>alert(1)</script>'
    response = await browser.submit("/setup", {**GOOD, "name": hostile, "email": "bad"})
    assert response.status_code == 422
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text


async def test_setup_with_htmx_answers_with_the_form_only(browser: Browser) -> None:
    response = await browser.submit("/setup", {**GOOD, "email": "bad"}, htmx=True)
    assert response.status_code == 422
    assert "<html" not in response.text
    assert 'id="setup-form"' in response.text


async def test_setup_with_htmx_redirects_by_header(browser: Browser) -> None:
    response = await browser.submit("/setup", GOOD, htmx=True)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/events"


async def test_a_name_with_markup_is_stored_as_text_and_shown_escaped(
    browser: Browser, database: Database
) -> None:
    name = "<b>Ada</b> & <script>x()</script>"
    assert (await browser.submit("/setup", {**GOOD, "name": name})).status_code == 303
    assert (await organizer_by_email(database, "ada@example.com")).name == name  # type: ignore[union-attr]
    page = await browser.get("/settings/account")
    assert "<script>x()</script>" not in page.text
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; &lt;script&gt;" in page.text


@pytest.mark.parametrize("value", HOSTILE_VALUES)
async def test_setup_never_fails_on_hostile_input(browser: Browser, value: str) -> None:
    for field in ["name", "email", "password", "password_repeat"]:
        response = await browser.submit("/setup", {**GOOD, field: value, "email": "bad address"})
        assert response.status_code == 422, (field, value[:20])


async def test_setup_survives_missing_and_repeated_fields(
    browser: Browser, database: Database
) -> None:
    assert (await browser.submit("/setup", {})).status_code == 422
    repeated = [
        ("name", "Ada"),
        ("name", "Bob"),
        ("email", "ada@example.com"),
        ("email", "x"),
        ("password", GOOD["password"]),
        ("password_repeat", GOOD["password"]),
        ("csrf_token", await browser.csrf_token()),
    ]
    response = await browser.post(
        "/setup",
        content=urlencode(repeated),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "same-origin",
        },
    )
    assert response.status_code == 303
    admin = await organizer_by_email(database, "ada@example.com")
    assert admin is not None
    assert admin.name == "Ada"
