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


def _create_first_admin(page, live_server: LiveServer) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{live_server.url}/setup")
    page.locator("#f-name").fill("Petra PR")
    page.locator("#f-email").fill("petra@example.com")
    page.locator("#f-password").fill("montabaur-2026")
    page.locator("#f-password_repeat").fill("montabaur-2026")
    page.locator("#setup-form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/events")


def test_create_the_montabaur_event_and_import_the_bloggers(
    live_server: LiveServer, chromium: Browser
) -> None:
    page = chromium.new_page(locale="en-GB")
    # Privacy: no page may make the browser talk to any other host (no CDN, fonts, analytics).
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    _create_first_admin(page, live_server)
    screenshot(page, "events-empty")

    page.get_by_role("button", name="New event").first.click()
    page.locator("#f-title").fill("Bloggertreffen Montabaur")
    page.locator("#f-description").fill("Ein Nachmittag mit **ehrlichem Feedback**.")
    page.locator("#f-starts_at").fill("2027-05-14T14:00")
    page.locator("#f-ends_at").fill("2027-05-14T13:00")
    page.locator("#f-venue").fill("Firmenzentrale")
    page.get_by_label("Address", exact=True).fill("Am Bahnhof 1, 56410 Montabaur")
    page.locator("#f-capacity").fill("30")
    screenshot(page, "event-form")
    page.locator("#event-form button[type=submit]").click()
    # The end before the start is refused in place, next to the field, and nothing is saved.
    expect(page.locator("#e-ends_at")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/events/new")
    page.locator("#f-starts_at").fill("2027-05-14T14:00")
    page.locator("#f-ends_at").fill("2027-05-14T18:00")
    page.locator("#event-form button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/events/bloggertreffen-montabaur")
    expect(page.locator("main")).to_contain_text("ehrlichem Feedback")
    page.locator(".event-actions").get_by_role("button", name="Publish").click()
    expect(page.locator(".page-title")).to_contain_text("Published")
    screenshot(page, "event-overview")

    page.get_by_role("link", name="Guests", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/events/bloggertreffen-montabaur/guests")
    page.locator("main").get_by_role("button", name="Import CSV").first.click()
    page.locator("#f-file").set_input_files(str(DATA / "bloggers.csv"))
    page.get_by_role("button", name="Show preview").click()
    expect(page.locator("main")).to_contain_text("kaputt@@example.org")
    screenshot(page, "import-preview")
    page.get_by_role("button", name="Import and add to the guest list").click()
    expect(page).to_have_url(f"{live_server.url}/events/bloggertreffen-montabaur/guests")
    expect(page.locator("main")).to_contain_text("Jürgen Grünewald")
    expect(page.locator("main")).to_contain_text("Özlem Yılmaz")
    expect(page.locator("main")).not_to_contain_text("HYPERLINK")
    screenshot(page, "guest-list")

    page.get_by_role("link", name="Address book").click()
    page.get_by_placeholder("Name, e-mail, city or tag").fill("grünewald")
    expect(page.locator("main table")).to_contain_text("Jürgen Grünewald")
    expect(page.locator("main table")).not_to_contain_text("Anna Müller")
    screenshot(page, "address-book")
    page.get_by_role("link", name="Jürgen Grünewald").click()
    expect(page.locator("main")).to_contain_text("Bloggertreffen Montabaur")
    screenshot(page, "contact")

    page.get_by_role("link", name="Settings").click()
    screenshot(page, "settings")

    foreign = [url for url in requested if not url.startswith((live_server.url, "data:"))]
    assert foreign == []
    assert any(url.endswith("/static/vendor/htmx.min.js") for url in requested)


def test_the_organizer_pages_speak_german(live_server: LiveServer, chromium: Browser) -> None:
    page = chromium.new_page(locale="de-DE")
    page.goto(f"{live_server.url}/setup")
    expect(page.locator("h1")).to_have_text("Willkommen bei meetups")
    _create_first_admin_german = page.locator("#setup-form")
    page.locator("#f-name").fill("Petra PR")
    page.locator("#f-email").fill("petra@example.com")
    page.locator("#f-password").fill("montabaur-2026")
    page.locator("#f-password_repeat").fill("anders-2026-x")
    _create_first_admin_german.locator("button[type=submit]").click()
    expect(page.locator("#e-password_repeat")).to_contain_text("Passw")
    page.locator("#f-password").fill("montabaur-2026")
    page.locator("#f-password_repeat").fill("montabaur-2026")
    _create_first_admin_german.locator("button[type=submit]").click()
    expect(page).to_have_url(f"{live_server.url}/events")
    expect(page.get_by_role("link", name="Adressbuch")).to_be_visible()
    screenshot(page, "events-german")
    page.locator(".language-switch button[value=en]").click()
    expect(page.get_by_role("link", name="Address book")).to_be_visible()
