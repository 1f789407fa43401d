"""CSRF: every state-changing request proves that it comes from one of our own pages."""

import html
import json
import re
from typing import Any

import pytest

from meetups.csrf import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, token_for
from meetups.db import Database
from meetups.deps import LANGUAGE_COOKIE
from tests import factories
from tests.accounts.conftest import all_organizers, plant_cookie, set_cookie_headers
from tests.conftest import TEST_SECRET, Browser, text_of

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
NEW_PERSON = {
    "name": "Mallory",
    "email": "mallory@example.com",
    "password": "a fine long password",
    "role": "admin",
}


async def _token(browser: Browser) -> str:
    return await browser.csrf_token()


def _refused(response: Any) -> bool:
    return response.status_code == 403 and "Please try again" in text_of(response.text)


async def test_a_form_post_with_the_token_is_accepted(browser: Browser) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/language",
        data={"language": "de", "next": "/login", CSRF_FIELD: token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 303
    assert set_cookie_headers(response, LANGUAGE_COOKIE)


async def test_an_htmx_post_with_the_header_is_accepted(browser: Browser) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/language",
        data={"language": "de", "next": "/login"},
        headers={CSRF_HEADER: token, "HX-Request": "true", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/login"


async def test_old_browsers_without_fetch_metadata_pass_with_the_token(browser: Browser) -> None:
    token = await _token(browser)
    response = await browser.post("/language", data={"language": "de", CSRF_FIELD: token})
    assert response.status_code == 303
    same_origin = await browser.post(
        "/language",
        data={"language": "de", CSRF_FIELD: token},
        headers={"Origin": "http://testserver"},
    )
    assert same_origin.status_code == 303


@pytest.mark.parametrize(
    ("data", "headers"),
    [
        ({}, {"Sec-Fetch-Site": "same-origin"}),
        ({CSRF_FIELD: ""}, {"Sec-Fetch-Site": "same-origin"}),
        ({CSRF_FIELD: "0" * 64}, {"Sec-Fetch-Site": "same-origin"}),
        ({CSRF_FIELD: "ä" * 64}, {"Sec-Fetch-Site": "same-origin"}),
        ({CSRF_FIELD: "x" * 100_000}, {"Sec-Fetch-Site": "same-origin"}),
        ({}, {CSRF_HEADER: "wrong", "HX-Request": "true"}),
        ({}, {CSRF_HEADER: "", "HX-Request": "true"}),
    ],
)
async def test_a_missing_or_wrong_token_is_refused(
    browser: Browser, data: dict[str, str], headers: dict[str, str]
) -> None:
    await _token(browser)
    response = await browser.post("/language", data={"language": "de", **data}, headers=headers)
    assert _refused(response)
    assert not set_cookie_headers(response, LANGUAGE_COOKIE)


async def test_a_header_with_odd_bytes_is_refused(browser: Browser) -> None:
    await _token(browser)
    response = await browser.post(
        "/language", data={"language": "de"}, headers={CSRF_HEADER: b"\xe4\xff\x00x"}
    )
    assert _refused(response)


async def test_a_token_of_another_browser_is_refused(browser: Browser, app: Any) -> None:
    async with Browser(app, browser.secret) as attacker:
        attackers_token = await attacker.csrf_token()
    await _token(browser)
    response = await browser.post(
        "/language",
        data={"language": "de", CSRF_FIELD: attackers_token},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert _refused(response)


async def test_a_token_made_with_another_secret_is_refused(browser: Browser) -> None:
    await _token(browser)
    forged = token_for(browser.cookies[CSRF_COOKIE], b"guessed-" + TEST_SECRET.encode())
    response = await browser.post("/language", data={"language": "de", CSRF_FIELD: forged})
    assert _refused(response)


async def test_without_the_cookie_even_a_matching_looking_token_is_refused(
    browser: Browser,
) -> None:
    token = await _token(browser)
    browser.cookies.clear()
    response = await browser.post("/language", data={"language": "de", CSRF_FIELD: token})
    assert _refused(response)
    # The refusal hands out a fresh cookie, so that reloading the page fixes it.
    assert CSRF_COOKIE in browser.cookies


@pytest.mark.parametrize("site", ["cross-site", "same-site", "unknown", ""])
async def test_other_sites_are_refused_even_with_a_valid_token(browser: Browser, site: str) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/language", data={"language": "de", CSRF_FIELD: token}, headers={"Sec-Fetch-Site": site}
    )
    assert _refused(response)


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://testserver.evil.example",
        "http://testserver:8080",
        "null",
        "https://testserver",
    ],
)
async def test_a_foreign_origin_is_refused_even_with_a_valid_token(
    browser: Browser, origin: str
) -> None:
    token = await _token(browser)
    response = await browser.post(
        "/language", data={"language": "de", CSRF_FIELD: token}, headers={"Origin": origin}
    )
    assert _refused(response)


async def test_a_json_body_cannot_sneak_past(browser: Browser) -> None:
    await _token(browser)
    response = await browser.post(
        "/language",
        json={"language": "de", CSRF_FIELD: "x"},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert _refused(response)


async def test_a_refused_request_changes_nothing(signed_in: Browser, database: Database) -> None:
    response = await signed_in.post(
        "/settings/organizers", data=NEW_PERSON, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert _refused(response)
    response = await signed_in.post(
        "/settings/organizers", data={**NEW_PERSON, CSRF_FIELD: "forged"}
    )
    assert _refused(response)
    assert [person.email for person in await all_organizers(database)] == ["admin@example.com"]


async def test_logout_is_protected_too(signed_in: Browser) -> None:
    response = await signed_in.post("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert _refused(response)
    assert (await signed_in.get("/settings/account")).status_code == 200


async def test_an_overlong_cookie_is_replaced(browser: Browser) -> None:
    plant_cookie(browser, CSRF_COOKIE, "x" * 500)
    response = await browser.get("/login")
    assert set_cookie_headers(response, CSRF_COOKIE)


async def test_refusal_with_htmx_replaces_the_main_area(browser: Browser) -> None:
    await _token(browser)
    response = await browser.post(
        "/language", data={"language": "de"}, headers={"HX-Request": "true", CSRF_HEADER: "bad"}
    )
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#main"
    assert response.headers["HX-Reswap"] == "innerHTML"
    assert "<html" not in response.text


@pytest.mark.parametrize("path", ["/setup", "/login", "/settings/account", "/settings/organizers"])
async def test_every_form_on_our_pages_carries_the_token(
    browser: Browser, session: Any, path: str
) -> None:
    if path != "/setup":
        await factories.make_organizer(session, email="admin@example.com", role="admin")
        await session.commit()
        if path.startswith("/settings"):
            await browser.sign_in("admin@example.com")
    page = await browser.get(path)
    assert page.status_code == 200
    token = await _token(browser)
    forms = re.findall(r"<form\b[^>]*>.*?</form>", page.text, re.S)
    post_forms = [form for form in forms if 'method="post"' in form]
    assert post_forms
    for form in post_forms:
        assert f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">' in form
    # And htmx requests send it as a header, from the body's hx-headers.
    attribute = re.search(r"<body hx-headers='([^']*)'", page.text)
    assert attribute is not None
    assert json.loads(html.unescape(attribute.group(1))) == {CSRF_HEADER: token}
