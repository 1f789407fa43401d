"""The language: the browser's by default, then the organizer's choice (a cookie and their
account)."""

import re
from typing import Any

import pytest

from meetups.accounts.models import Organizer
from meetups.db import Database
from meetups.deps import LANGUAGE_COOKIE
from tests.accounts.conftest import (
    BrowserFactory,
    organizer_by_email,
    plant_cookie,
    set_cookie_headers,
)
from tests.conftest import Browser


def page_language(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        ("de-DE,de;q=0.9,en;q=0.8", "de"),
        ("en-US,en;q=0.9", "en"),
        ("fr-FR,fr;q=0.9,de;q=0.5", "de"),
        ("fr-FR,en;q=0.1,de;q=0.2", "de"),
        ("fr, es", "en"),  # nothing we speak: the configured default (en in the tests)
        ("", "en"),
        ("de;q=abc, en", "en"),
        ("*", "en"),
        ("de;q=nan,,,;;;", "en"),
        ("de;q=0, en;q=0.1", "en"),
        ("de;q=0", "en"),
        ("de;q=2, en;q=0.5", "en"),
        ("x" * 5000, "en"),
    ],
)
async def test_the_browser_language_is_the_default(
    browser: Browser, admin: Organizer, accept_language: str, expected: str
) -> None:
    response = await browser.get("/login", headers={"Accept-Language": accept_language})
    assert response.status_code == 200
    assert page_language(response.text) == expected


async def test_the_configured_default_applies_without_a_header(
    browser_with: BrowserFactory, admin: Organizer
) -> None:
    browser = await browser_with(default_language="de")
    response = await browser.get("/login")
    assert page_language(response.text) == "de"


async def test_switching_sets_a_cookie_that_wins_over_the_browser(
    browser: Browser, admin: Organizer
) -> None:
    response = await browser.submit("/language", {"language": "de", "next": "/login"})
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    (cookie,) = set_cookie_headers(response, LANGUAGE_COOKIE)
    assert "max-age=31536000" in cookie.lower()
    assert "samesite=lax" in cookie.lower()
    page = await browser.get("/login", headers={"Accept-Language": "en"})
    assert page_language(page.text) == "de"
    await browser.submit("/language", {"language": "en", "next": "/login"})
    page = await browser.get("/login", headers={"Accept-Language": "de"})
    assert page_language(page.text) == "en"


async def test_the_switch_is_in_every_page(browser: Browser, admin: Organizer) -> None:
    page = await browser.get("/login")
    form = re.search(r'<form method="post" action="/language".*?</form>', page.text, re.S)
    assert form is not None
    assert 'name="csrf_token"' in form.group(0)
    assert 'value="de"' in form.group(0)
    assert 'value="en"' in form.group(0)


async def test_a_signed_in_organizer_keeps_the_choice_in_the_account(
    signed_in: Browser, admin: Organizer, database: Database, app: Any, settings: Any
) -> None:
    await signed_in.submit("/language", {"language": "de", "next": "/settings/account"})
    stored = await organizer_by_email(database, admin.email)
    assert stored is not None
    assert stored.language == "de"
    # On another device, signing in brings the choice along.
    async with Browser(app, settings.secret) as laptop:
        response = await laptop.sign_in(admin.email)
        (cookie,) = set_cookie_headers(response, LANGUAGE_COOKIE)
        assert cookie.startswith(f"{LANGUAGE_COOKIE}=de;")
        page = await laptop.get("/settings/account", headers={"Accept-Language": "en"})
        assert page_language(page.text) == "de"


@pytest.mark.parametrize("language", ["fr", "", "DE", "de-DE", "<script>", "x" * 1000])
async def test_unknown_languages_change_nothing(
    browser: Browser, admin: Organizer, language: str
) -> None:
    response = await browser.submit("/language", {"language": language, "next": "/login"})
    assert response.status_code == 303
    assert not set_cookie_headers(response, LANGUAGE_COOKIE)


async def test_an_odd_language_cookie_is_ignored(browser: Browser, admin: Organizer) -> None:
    plant_cookie(browser, LANGUAGE_COOKIE, "xx")
    page = await browser.get("/login", headers={"Accept-Language": "de"})
    assert page_language(page.text) == "de"


@pytest.mark.parametrize(
    "target", ["https://evil.example", "//evil.example", "/\\evil.example", ""]
)
async def test_switching_does_not_lead_off_site(
    browser: Browser, admin: Organizer, target: str
) -> None:
    response = await browser.submit("/language", {"language": "de", "next": target})
    assert response.headers["location"] == "/events"
