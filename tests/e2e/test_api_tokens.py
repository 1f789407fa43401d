"""API tokens in a real browser against `meetups serve`: create a token under Settings, copy it
from the page, use it with the API, revoke it; and the API documentation page, which runs Swagger
UI from our own static files under the Content-Security-Policy, with no request to elsewhere."""

import re

import httpx
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer, screenshot, sign_in_as_demo_organizer


def test_create_use_and_revoke_a_token(chromium: Browser, live_server: LiveServer) -> None:
    password = live_server.load_demo()
    page = chromium.new_page()
    sign_in_as_demo_organizer(page, live_server, password)
    page.goto(f"{live_server.url}/settings/account")
    page.get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(f"{live_server.url}/settings/tokens")
    expect(page.get_by_text("You have no API tokens yet.")).to_be_visible()

    page.get_by_label("Name").fill("Newsletter export")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("Copy it now: it is shown only this once.")).to_be_visible()
    token = page.get_by_role("textbox", name="Token", exact=True).input_value()
    assert re.fullmatch(r"mtk_[A-Za-z0-9_-]{43}", token)
    expect(page.locator("#token-list")).to_contain_text("Newsletter export")
    screenshot(page, "api-token-created")

    headers = {"Authorization": f"Bearer {token}"}
    events = httpx.get(f"{live_server.url}/api/v1/events", headers=headers, timeout=10)
    assert events.status_code == 200
    assert {e["slug"] for e in events.json()["items"]} == {
        "bloggertreffen-montabaur",
        "blogger-feedback-montabaur",
    }

    page.reload()
    expect(page.get_by_text("Copy it now")).to_have_count(0)
    assert token not in page.content()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("The token “Newsletter export” is revoked")).to_be_visible()
    screenshot(page, "api-tokens")
    assert httpx.get(f"{live_server.url}/api/v1/me", headers=headers, timeout=10).status_code == 401


def test_the_api_documentation_runs_under_the_csp(
    chromium: Browser, live_server: LiveServer
) -> None:
    page = chromium.new_page()
    elsewhere: list[str] = []
    violations: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else elsewhere.append(request.url)
        ),
    )
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/api/docs")
    expect(page.get_by_text("meetups API").first).to_be_visible()
    expect(page.get_by_text("/api/v1/events/{slug}/guests").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_be_visible()
    # An operation opens with its parameters, responses and the error model.
    page.get_by_text("Add a guest", exact=True).click()
    expect(page.get_by_text("Puts someone from the address book")).to_be_visible()
    expect(
        page.get_by_text("No token, or a wrong, revoked or deactivated one.").first
    ).to_be_visible()
    screenshot(page, "api-docs")
    assert elsewhere == []
    assert violations == []
