"""A newcomer's first steps, in a real browser: create the first admin, sign in, create the
Montabaur event, import the bloggers and see them on the guest list."""

from pathlib import Path

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import LiveServer, screenshot

DATA = Path(__file__).resolve().parents[1] / "data"


def test_first_admin_then_sign_in(live_server: LiveServer, chromium: Browser) -> None:
    page = chromium.new_page(locale="en-GB")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/setup")
    screenshot(page, "setup")
    page.get_by_label("Your name").fill("Petra PR")
    page.get_by_label("E-mail address").fill("petra@example.com")
    page.locator("#f-password").fill("montabaur-2026")
    page.locator("#f-password_repeat").fill("montabaur-2026")
    page.get_by_role("button", name="Create administrator").click()
    expect(page).to_have_url(f"{live_server.url}/events")
    expect(page.get_by_role("status")).to_contain_text("administrator account is ready")

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{live_server.url}/login")
    screenshot(page, "login")
    page.get_by_label("E-mail address").fill("petra@example.com")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    page.get_by_label("Password").fill("montabaur-2026")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/events")
