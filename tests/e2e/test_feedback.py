"""Feedback in a real browser against `meetups serve`: a blogger who came opens her personal link
on the phone, follows it to the feedback form, is told in place what she forgot, sends her
answers; the organizer sees them on the results page, which also prints. Screenshots at laptop
and phone width. The form fits a phone's width, and the coverage pages (the organizer's tab and
the attendee's own) load nothing from any other host."""

from playwright.sync_api import Browser, expect

from meetups.demo.seed import PAST_SLUG
from tests.e2e.conftest import (
    ARTIFACTS,
    LiveServer,
    assert_fits_the_screen,
    new_phone_context,
    screenshot,
    sign_in_as_demo_organizer,
)

RESULTS = f"/events/{PAST_SLUG}/feedback/results"
IMPROVEMENT = "Der Rundgang war großartig – bitte mehr davon!"


def _attendee_without_feedback(live_server: LiveServer) -> tuple[str, str]:
    """(name, personal link) of a guest of the past event who was asked for feedback and has
    not answered, read from the server's database as the request e-mail would carry it."""
    row = live_server.query_one(
        "SELECT contact.name, invitee.link_nonce FROM invitee "
        "JOIN contact ON contact.id = invitee.contact_id "
        "JOIN event ON event.id = invitee.event_id "
        "JOIN feedback_request ON feedback_request.invitee_id = invitee.id "
        "WHERE event.slug = ? AND invitee.status = 'accepted' "
        "AND invitee.link_nonce IS NOT NULL "
        "AND invitee.id NOT IN (SELECT invitee_id FROM feedback_response "
        "WHERE invitee_id IS NOT NULL) "
        "ORDER BY invitee.id LIMIT 1",
        PAST_SLUG,
    )
    assert row, "the demo has no guest left who could give feedback"
    name, nonce = row
    return name, live_server.personal_link(nonce)


def test_a_blogger_answers_on_her_phone_and_the_organizer_sees_it(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    name, link = _attendee_without_feedback(live_server)
    requested: list[str] = []

    # The blogger opens her page on the phone and follows the way to the feedback form.
    context = new_phone_context(chromium)
    guest = context.new_page()
    guest.on("request", lambda request: requested.append(request.url))
    guest.goto(f"{link}?lang=en")
    guest.locator(".rsvp-feedback").get_by_role("button", name="Give feedback").click()
    expect(guest.locator("h1")).to_have_text("How was it?")
    screenshot(guest, "feedback-invitee-form")

    # She rates the afternoon, writes what to do better, but forgets the required NPS question.
    guest.locator("fieldset.fb-rating").first.locator("label.fb-point", has_text="4").click()
    guest.locator("fieldset.fb-long_text textarea").first.fill(IMPROVEMENT)
    guest.get_by_role("button", name="Send my feedback").click()
    nps = guest.locator("fieldset.fb-nps")
    expect(nps.locator(".fb-error")).to_have_text("Please answer this question.")
    expect(nps).to_have_attribute("aria-invalid", "true")
    # What she gave is still there.
    expect(guest.locator("fieldset.fb-long_text textarea").first).to_have_value(IMPROVEMENT)
    expect(guest.locator("fieldset.fb-rating").first.locator("input[value='4']")).to_be_checked()
    screenshot(guest, "feedback-invitee-error")

    nps.locator("label.fb-point", has_text="10").click()
    guest.get_by_role("button", name="Send my feedback").click()
    expect(guest.get_by_role("status")).to_contain_text("Thank you! Your answers are saved.")
    expect(guest.get_by_role("button", name="Save my changes")).to_be_visible()
    screenshot(guest, "feedback-invitee-sent")

    # The organizer sees the new response, with her words and her name.
    page = chromium.new_page(locale="en-GB")
    page.on("request", lambda request: requested.append(request.url))
    sign_in_as_demo_organizer(page, live_server, password)
    page.goto(f"{live_server.url}/events/{PAST_SLUG}")
    page.get_by_role("link", name="Feedback", exact=True).click()
    page.get_by_role("link", name="Results", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}{RESULTS}")
    improvements = page.locator(".fb-result").filter(has_text="besser machen")
    expect(improvements).to_contain_text(IMPROVEMENT)
    expect(improvements).to_contain_text(name)
    expect(page.locator(".fb-result svg.chart").first).to_be_visible()
    screenshot(page, "feedback-results")
    # Printed, the report keeps the charts and drops the navigation.
    page.emulate_media(media="print")
    expect(page.locator("nav.tabs")).to_be_hidden()
    expect(page.locator(".fb-print-head")).to_be_visible()
    expect(page.locator(".fb-result svg.chart").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "feedback-results-print.png"), full_page=True)
    page.emulate_media(media="screen")

    # Privacy: no page made the browser talk to any other host.
    assert all(url.startswith(live_server.url) for url in requested), requested


def _author_of_coverage(live_server: LiveServer) -> tuple[str, str]:
    """(title of one of their posts, personal link) of an attendee of the past event who added
    a link to what they published."""
    row = live_server.query_one(
        "SELECT coverage_link.title, invitee.link_nonce FROM coverage_link "
        "JOIN invitee ON invitee.id = coverage_link.invitee_id "
        "JOIN event ON event.id = coverage_link.event_id "
        "WHERE event.slug = ? AND invitee.link_nonce IS NOT NULL "
        "ORDER BY coverage_link.id LIMIT 1",
        PAST_SLUG,
    )
    assert row, "the demo has no attendee who added coverage"
    title, nonce = row
    return title, live_server.personal_link(nonce)


def test_the_feedback_form_fits_a_phone(live_server: LiveServer, chromium: Browser) -> None:
    live_server.load_demo()
    _name, link = _attendee_without_feedback(live_server)
    context = new_phone_context(chromium, touch=True)
    guest = context.new_page()
    guest.goto(f"{link}/feedback?lang=en")
    expect(guest.locator("h1")).to_have_text("How was it?")
    expect(guest.locator("fieldset.fb-nps")).to_be_visible()
    assert_fits_the_screen(guest)
    # ... and still does with the messages of a form sent incomplete.
    guest.get_by_role("button", name="Send my feedback").click()
    expect(guest.locator("fieldset.fb-nps .fb-error")).to_have_text("Please answer this question.")
    assert_fits_the_screen(guest)
    context.close()


def test_the_coverage_pages_load_nothing_from_elsewhere(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    title, link = _author_of_coverage(live_server)
    requested: list[str] = []

    page = chromium.new_page(locale="en-GB")
    page.on("request", lambda request: requested.append(request.url))
    sign_in_as_demo_organizer(page, live_server, password)
    page.goto(f"{live_server.url}/events/{PAST_SLUG}")
    page.get_by_role("link", name="Coverage", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/events/{PAST_SLUG}/coverage")
    # The posts link to other sites, but nothing of theirs is loaded.
    posts = page.locator("table.coverage-list")
    expect(posts).to_contain_text(title)
    expect(posts.locator("a[href^='https://']").first).to_be_visible()
    page.wait_for_load_state("networkidle")

    guest = chromium.new_page(locale="en-GB")
    guest.on("request", lambda request: requested.append(request.url))
    guest.goto(f"{link}/coverage?lang=en")
    expect(guest.locator("h1")).to_have_text("Your posts about the event")
    expect(guest.locator(".coverage-mine")).to_contain_text(title)
    guest.wait_for_load_state("networkidle")

    assert any(url.endswith(f"/events/{PAST_SLUG}/coverage") for url in requested)
    assert any("/coverage?lang=en" in url for url in requested)
    foreign = [url for url in requested if not url.startswith((live_server.url, "data:"))]
    assert foreign == []
