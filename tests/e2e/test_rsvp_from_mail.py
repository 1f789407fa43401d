"""An invitation's whole way, in a real browser against `meetups serve` with the built-in mail
catcher: the organizer invites a German blogger and watches the delivery, the blogger opens the
link from the e-mail she received, answers in German, and the organizer sees her answer."""

import re

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.conftest import (
    LiveServer,
    mail_catcher_env,
    new_organizer_page,
    new_phone_context,
    open_caught_mail,
    screenshot,
)

GUESTS = "/events/bloggertreffen-montabaur/guests"


@pytest.fixture
def live_server_env() -> dict[str, str]:
    return mail_catcher_env()


def test_a_blogger_answers_in_german_from_the_link_in_her_email(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    organizer = new_organizer_page(chromium, live_server, password)

    # The organizer invites one German-speaking blogger and watches the delivery live.
    organizer.goto(f"{live_server.url}{GUESTS}")
    expect(organizer.locator(".stat-not_invited strong")).to_have_text("40")
    screenshot(organizer, "guests-before-sending")
    organizer.get_by_label("Select Anna Müller").check()
    organizer.locator("#selected-guests").get_by_role("button", name="Invite").click()
    expect(organizer.locator(".flash")).to_contain_text("1 invitation is on its way.")
    expect(organizer.locator("#delivery")).to_contain_text("1 sent", timeout=20_000)
    expect(organizer.locator("#delivery")).to_contain_text("Nothing is waiting to be sent.")
    # The list caught up by itself when the delivery was done.
    expect(organizer.locator("tr:has-text('Anna Müller') .delivery-cell")).to_contain_text("Sent")
    screenshot(organizer, "guests-invitation-sent")

    # The e-mail arrived in the mail catcher; its link is the blogger's key.
    open_caught_mail(
        organizer, live_server, re.compile("Bloggertreffen Montabaur"), "anna.mueller@example.com"
    )
    link = organizer.locator("article.mail-html a[href*='/i/']").first.get_attribute("href")
    assert link
    assert re.fullmatch(rf"{re.escape(live_server.url)}/i/[A-Za-z0-9_-]{{32}}", link)
    screenshot(organizer, "mail-invitation")

    # Anna opens the link on her phone: the page speaks German, she accepts and adds details.
    context = new_phone_context(chromium, locale="de-DE")
    anna = context.new_page()
    anna.goto(link)
    expect(anna.locator("html")).to_have_attribute("lang", "de")
    expect(anna.locator("h1")).to_have_text("Bloggertreffen Montabaur")
    expect(anna.locator(".rsvp-status")).to_have_class(re.compile("rsvp-status-invited"))
    # Babel writes the date in German whatever the catalog holds.
    expect(anna.locator(".rsvp-facts")).to_contain_text(
        re.compile(
            r"Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember"
        )
    )
    screenshot(anna, "rsvp-german-before")
    anna.locator("button[name=answer][value=accepted]").click()
    expect(anna.locator(".rsvp-status")).to_have_class(re.compile("rsvp-status-accepted"))
    anna.locator("#f-plus_one_name").fill("Jana Müller")
    anna.locator("#f-dietary_needs").fill("vegetarisch")
    anna.locator(".rsvp-details form button[type=submit]").click()
    expect(anna.locator("#f-dietary_needs")).to_have_value("vegetarisch")
    screenshot(anna, "rsvp-german-accepted")
    context.close()

    # The organizer sees her answer, her details, and the confirmation that went to her.
    organizer.goto(f"{live_server.url}{GUESTS}?status=accepted")
    row = organizer.locator("tr:has-text('Anna Müller')")
    expect(row).to_contain_text("Accepted")
    expect(row).to_contain_text("+1: Jana Müller")
    expect(row).to_contain_text("vegetarisch")
    expect(organizer.locator(".stat-accepted strong")).to_contain_text("1")
    screenshot(organizer, "guests-answered")
    organizer.get_by_role("link", name="E-mails", exact=True).click()
    expect(organizer.locator("#emails")).to_contain_text("Confirmation: accepted", timeout=20_000)
    expect(organizer.locator("#emails tbody .badge.ok")).to_have_count(2, timeout=20_000)
    screenshot(organizer, "emails-tab")
    organizer.goto(f"{live_server.url}{GUESTS}")
    organizer.get_by_role("link", name="Anna Müller").click()
    expect(organizer.locator(".guest-emails")).to_contain_text("Confirmation: accepted")
    expect(organizer.locator(".guest-answers")).to_contain_text("vegetarisch")
    screenshot(organizer, "guest-detail")
    organizer.goto(f"{live_server.url}/events/bloggertreffen-montabaur/invitation")
    organizer.locator("#f-intro").fill(
        "Liebe Bloggerinnen und Blogger, **wir freuen uns** auf euch!"
    )
    preview = organizer.locator("#preview")
    expect(preview.get_by_text("wir freuen uns", exact=True)).to_be_visible()  # live preview
    screenshot(organizer, "invitation-preview")
    organizer.goto(f"{live_server.url}/events/bloggertreffen-montabaur/attendees")
    expect(organizer.locator("table.attendee-list")).to_contain_text("Jana Müller")
    screenshot(organizer, "attendees")
    organizer.emulate_media(media="print")
    expect(organizer.locator("nav.tabs")).to_be_hidden()
    expect(organizer.locator(".print-header")).to_be_visible()
    organizer.emulate_media(media="screen")
