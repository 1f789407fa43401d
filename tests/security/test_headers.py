"""The security headers are on every response: every page of the app (walked from its routes),
error pages, redirects, static files, the API, health checks, files served by routes with a
policy of their own; HSTS whenever the app is served over https. And nothing in the templates
needs what the Content-Security-Policy forbids."""

import html
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from meetups import STATIC_DIR, TEMPLATES_DIR
from meetups.config import Settings
from meetups.db import Database
from meetups.web import CONTENT_SECURITY_POLICY, create_app
from tests import factories
from tests.conftest import Browser
from tests.security.conftest import World, app_routes
from tests.security.headers import (
    app_that_fails,  # noqa: F401 - a fixture
    assert_security_headers,
    directives,
)

HTTPS_BASE = "https://meetups.example"
# 503 in these tests: no mail worker runs beside them (tests/ops has the ready case).
READYZ = "/readyz"


def test_the_policy_forbids_inline_code_and_framing() -> None:
    found = directives(CONTENT_SECURITY_POLICY)
    assert found["default-src"] == "default-src 'self'"
    assert found["script-src"] == "script-src 'self'"
    assert found["style-src"] == "style-src 'self'"
    assert found["frame-ancestors"] == "frame-ancestors 'none'"
    assert found["object-src"] == "object-src 'none'"
    assert found["base-uri"] == "base-uri 'none'"
    assert found["form-action"] == "form-action 'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


@pytest.fixture
async def https_browser(settings: Settings, database: Database) -> AsyncIterator[Browser]:
    changed = Settings(_env_file=None, **{**settings.model_dump(), "base_url": HTTPS_BASE})  # type: ignore[call-arg]
    async with Browser(create_app(changed, database), changed.secret) as browser:
        browser.base_url = httpx.URL(HTTPS_BASE)
        yield browser


def _page_urls(app: FastAPI, world: World) -> list[str]:
    """Every GET address of the app, filled in with the second attendee's things."""
    return [route.url(world.values(world.b)) for route in app_routes(app) if "GET" in route.methods]


async def _get(browser: Browser, world: World, url: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {world.api_token}"} if url.startswith("/api/") else {}
    return await browser.get(url, headers=headers)


async def test_every_page_of_the_app_carries_the_headers(
    signed_in: Browser, world: World, app: FastAPI
) -> None:
    statuses = {}
    for url in _page_urls(app, world):
        response = await _get(signed_in, world, url)
        assert response.status_code < 500 or url == READYZ, url
        assert_security_headers(response)
        statuses[url] = response.status_code
    # The walk saw pages, not only refusals.
    assert sum(status == 200 for status in statuses.values()) > 40


async def test_every_page_over_https_carries_hsts_too(
    https_browser: Browser, world: World, app: FastAPI
) -> None:
    await https_browser.sign_in(world.admin.email)
    for url in _page_urls(app, world):
        response = await _get(https_browser, world, url)
        assert response.status_code < 500 or url == READYZ, url
        assert_security_headers(response, https=True)


async def test_signed_out_visitors_get_the_headers_on_redirects(
    browser: Browser, world: World, app: FastAPI
) -> None:
    redirects = 0
    for url in _page_urls(app, world):
        response = await browser.get(url)
        assert response.status_code < 500 or url == READYZ, url
        assert_security_headers(response)
        redirects += response.is_redirect
    assert redirects > 20


@pytest.mark.usefixtures("app_that_fails")
async def test_error_pages_carry_the_headers(browser: Browser, session: Any) -> None:
    await factories.make_organizer(session, email="admin@example.com", role="admin")
    await session.commit()
    cases = [
        (await browser.get("/no/such/page"), 404),
        (await browser.request("DELETE", "/login"), 405),
        (await browser.submit("/login", {"email": "x@example.com", "password": "wrong"}), 422),
        (await browser.get("/boom"), 500),
        (await browser.post("/logout", headers={"Sec-Fetch-Site": "cross-site"}), 403),
        (await browser.get("/i/not-a-real-personal-link-at-all"), 404),
        (await browser.get("/api/v1/no-such-thing"), 404),
        (await browser.get("/api/v1/events"), 401),
    ]
    for response, status in cases:
        assert response.status_code == status, response.request.url
        assert_security_headers(response)


async def test_static_files_carry_the_headers(browser: Browser) -> None:
    for path in ["/static/app.css", "/static/vendor/htmx.min.js", "/static/checkin.js"]:
        response = await browser.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)
        # Cacheable, unlike pages.
        assert response.headers.get("Cache-Control") != "no-store"
    missing = await browser.get("/static/nothing.css")
    assert missing.status_code == 404
    assert_security_headers(missing)


async def test_head_requests_and_health_checks_carry_the_headers(
    browser: Browser, admin: Any
) -> None:
    for response in [
        await browser.head("/login"),
        await browser.get("/healthz"),
        await browser.head("/healthz"),
        await browser.get("/readyz"),  # 503 here: no mail worker runs in this test
    ]:
        assert_security_headers(response)


async def test_files_with_their_own_policy_cannot_be_framed(
    signed_in: Browser, world: World
) -> None:
    past = world.past.slug
    receipt = await signed_in.get(
        f"/events/{past}/travel/claims/{world.b.claim_id}/receipts/{world.b.receipt_id}"
    )
    chart = await signed_in.get(f"/events/{past}/feedback/charts/{world.question_id}.svg")
    code = await signed_in.get(f"/events/{past}/checkin/code")
    own_code = await signed_in.get(f"/i/{world.b.token}/checkin.svg")
    for response in [receipt, chart, own_code]:
        assert response.status_code == 200, response.request.url
        assert_security_headers(response)
        assert "frame-ancestors" in response.headers["Content-Security-Policy"]
    assert code.status_code < 500
    assert_security_headers(code)


async def test_personal_pages_send_no_referrer_and_are_not_indexed(
    browser: Browser, world: World
) -> None:
    for path in [
        f"/i/{world.b.token}",
        f"/i/{world.b.token}/travel",
        f"/i/{world.b.token}/feedback",
        f"/i/{world.b.token}/coverage",
        f"/unsubscribe/{world.b.unsubscribe}",
        "/password-reset",
    ]:
        response = await browser.get(path)
        assert response.status_code == 200, path
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert '<meta name="referrer" content="no-referrer">' in response.text
        assert response.headers["Cache-Control"] == "no-store"


async def test_the_request_id_is_on_every_response(browser: Browser, admin: Any) -> None:
    for path in ["/login", "/static/app.css", "/nope", "/healthz", "/i/wrong-link"]:
        response = await browser.get(path)
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), path


# What the Content-Security-Policy blocks, as it would be written in a template.
FORBIDDEN_IN_TEMPLATES = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "htmx inline code": re.compile(r"\s(hx-on[:\w-]*|hx-vars)\s*=|js:", re.IGNORECASE),
    "resource from another site": re.compile(
        r"""(src|href)=["']?(https?:)?//(?!\{\{)""", re.IGNORECASE
    ),
}


def _templates() -> list[Path]:
    return sorted(TEMPLATES_DIR.rglob("*.html"))


def test_no_template_needs_what_the_policy_forbids() -> None:
    found = []
    for path in _templates():
        text = path.read_text(encoding="utf-8")
        # Jinja comments may mention anything.
        text = re.sub(r"{#.*?#}", "", text, flags=re.DOTALL)
        for what, pattern in FORBIDDEN_IN_TEMPLATES.items():
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(TEMPLATES_DIR)}: {what}: {match.group(0)!r}")
    assert found == []


def test_our_scripts_evaluate_no_strings() -> None:
    for path in sorted(STATIC_DIR.glob("*.js")):
        code = path.read_text(encoding="utf-8")
        assert not re.search(r"\beval\s*\(|new\s+Function\s*\(", code), path.name


def test_every_page_frame_configures_htmx_for_the_policy() -> None:
    """htmx must neither evaluate code (hx-on, js: values) nor insert its own <style>."""
    frames = [path for path in _templates() if "htmx.min.js" in path.read_text(encoding="utf-8")]
    assert len(frames) >= 2
    for path in frames:
        text = path.read_text(encoding="utf-8")
        meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', text)
        assert meta is not None, path.name
        config = json.loads(html.unescape(meta.group(1)))
        assert config["allowEval"] is False, path.name
        assert config["allowScriptTags"] is False, path.name
        assert config["includeIndicatorStyles"] is False, path.name
        assert config["selfRequestsOnly"] is True, path.name
        assert '<meta name="referrer" content="no-referrer">' in text, path.name
