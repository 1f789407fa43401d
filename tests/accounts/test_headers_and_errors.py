"""Friendly pages instead of errors for odd requests (tests/security/test_headers.py checks the
security headers on every response)."""

import html
import json
import re
from typing import Any

import pytest

from meetups.accounts.models import Organizer
from meetups.csrf import CSRF_FIELD, CSRF_HEADER
from meetups.web import MAX_REQUEST_BYTES
from tests.conftest import Browser, text_of
from tests.security.headers import (
    app_that_fails,  # noqa: F401 - a fixture
    assert_security_headers,
)


async def test_pages_vary_on_htmx(browser: Browser, admin: Organizer) -> None:
    response = await browser.get("/login")
    assert "HX-Request" in response.headers["Vary"]


async def test_unknown_addresses_get_a_friendly_404(browser: Browser, admin: Organizer) -> None:
    for path in [
        "/nope",
        "/settings/nope",
        "/%00",
        "/..%2f..%2fetc/passwd",
        "/" + "x" * 5000,
        "/ä/€",
    ]:
        response = await browser.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
        assert "There is no page at this address" in text_of(response.text)


async def test_wrong_methods_get_a_friendly_405(browser: Browser, admin: Organizer) -> None:
    for method, path in [
        ("DELETE", "/login"),
        ("PUT", "/setup"),
        ("PATCH", "/settings/account"),
        ("GET", "/logout"),
    ]:
        response = await browser.request(method, path)
        assert response.status_code == 405, (method, path)
        assert "does not accept this kind of request" in text_of(response.text)
        assert response.headers["Allow"]
        assert_security_headers(response)


async def test_a_404_asked_by_htmx_replaces_the_main_area(
    browser: Browser, admin: Organizer
) -> None:
    response = await browser.get("/nope", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#main"
    assert "<html" not in response.text
    assert "There is no page at this address" in text_of(response.text)


@pytest.mark.usefixtures("app_that_fails")
async def test_a_bug_gives_a_friendly_page_with_the_headers(browser: Browser) -> None:
    response = await browser.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in text_of(response.text)
    assert "a bug" not in response.text
    assert "Traceback" not in response.text
    assert_security_headers(response)


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (
            b'--xyz\r\nContent-Disposition: form-data; name="email"\r\n\r\nbroken',
            "multipart/form-data; boundary=xyz",
        ),
        (b"anything", "multipart/form-data"),
        (b"%ff%fe=%ff&email=%C0%AF&password", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b'{"email": [1, 2]}', "application/json"),
        (b"<xml/>", "text/xml"),
        (b"", "application/x-www-form-urlencoded"),
        (b"=" * 10_000, "application/x-www-form-urlencoded"),
        (b"&".join(b"f%d=1" % n for n in range(2000)), "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_bodies_never_give_500(
    browser: Browser, admin: Organizer, content: bytes, content_type: str
) -> None:
    token = await browser.csrf_token()
    for path in ["/login", "/setup", "/language", "/logout", "/settings/account/password"]:
        response = await browser.post(
            path, content=content, headers={"Content-Type": content_type, CSRF_HEADER: token}
        )
        assert response.status_code < 500, (path, response.status_code)
        if not response.is_redirect:
            assert "text/html" in response.headers["content-type"]


async def test_too_large_bodies_are_refused(browser: Browser, admin: Organizer) -> None:
    token = await browser.csrf_token()
    body = b"email=" + b"x" * (MAX_REQUEST_BYTES + 1)
    response = await browser.post(
        "/login",
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", CSRF_HEADER: token},
    )
    assert response.status_code == 413
    assert "too large" in text_of(response.text)
    assert_security_headers(response)


async def test_too_large_bodies_are_refused_while_streaming(
    browser: Browser, admin: Organizer
) -> None:
    """A client that sends no Content-Length (chunked) is stopped once it sends too much."""
    token = await browser.csrf_token()

    async def chunks() -> Any:
        yield b'--b\r\nContent-Disposition: form-data; name="upload"; filename="big.csv"\r\n\r\n'
        for _ in range(MAX_REQUEST_BYTES // (1024 * 1024) + 2):
            yield b"x" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    response = await browser.post(
        "/login",
        content=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=b", CSRF_HEADER: token},
    )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_query_strings_and_headers_of_any_kind(browser: Browser, admin: Organizer) -> None:
    odd_headers: list[dict[str, Any]] = [
        {"Cookie": 'meetups_lang="; meetups_csrf=\x7f; =;;;'},
        {"Accept-Language": ";;;q=,,"},
        {"HX-Request": "maybe", "HX-Boosted": "true"},
        {"Origin": "\x00"},
        {"Sec-Fetch-Site": "x" * 1000},
    ]
    for headers in odd_headers:
        response = await browser.get("/login", headers=headers)
        assert response.status_code == 200, headers
    for query in ["next=%00", "next=%ff%fe", "next=" + "a" * 20_000, "next=&next=//evil", "%%%"]:
        response = await browser.get(f"/login?{query}")
        assert response.status_code == 200, query
        assert "evil" not in response.text


async def test_posting_a_file_where_text_is_expected(browser: Browser, admin: Organizer) -> None:
    token = await browser.csrf_token()
    response = await browser.post(
        "/login",
        data={CSRF_FIELD: token},
        files={"email": ("a.txt", b"admin@example.com"), "password": ("b", b"x")},
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 422
    assert "E-mail address or password is wrong" in text_of(response.text)


async def test_htmx_swaps_form_errors_and_error_pages(browser: Browser, admin: Organizer) -> None:
    """htmx 2 does not swap 4xx answers by default: without this, a form with errors (422) or a
    refused request would silently do nothing."""
    page = await browser.get("/login")
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', page.text)
    assert meta is not None
    config = json.loads(html.unescape(meta.group(1)))

    def handling(status: int) -> dict[str, Any]:
        return next(
            rule for rule in config["responseHandling"] if re.fullmatch(rule["code"], str(status))
        )

    assert handling(204)["swap"] is False
    for status in [200, 422, 403, 404, 413, 500]:
        assert handling(status)["swap"] is True, status
