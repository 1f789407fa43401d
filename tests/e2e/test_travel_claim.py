"""A travel claim's whole way, in a real browser against `meetups serve` with the mail catcher:
a blogger who came files a claim with a receipt on her phone, the organizer approves part of it,
and the blogger is told (by e-mail, and on her page). Screenshots at laptop and phone width."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from meetups.demo.seed import PAST_SLUG
from meetups.travel.samples import receipt_png
from tests.e2e.conftest import (
    LiveServer,
    mail_catcher_env,
    new_organizer_page,
    new_phone_context,
    open_caught_mail,
    screenshot,
)

TRAVEL = f"/events/{PAST_SLUG}/travel"


@pytest.fixture
def live_server_env() -> dict[str, str]:
    return mail_catcher_env()


def _guest_without_claim(live_server: LiveServer) -> tuple[str, str, str]:
    """(name, e-mail address, personal link) of a guest of the past event who came and has not
    claimed yet, read from the server's database as the guest's e-mail would carry it."""
    counted = live_server.query_one(
        "SELECT count(*) FROM check_in JOIN event ON event.id = check_in.event_id "
        "WHERE event.slug = ?",
        PAST_SLUG,
    )
    assert counted
    (checked_in,) = counted
    row = live_server.query_one(
        "SELECT contact.name, contact.email, invitee.link_nonce FROM invitee "
        "JOIN contact ON contact.id = invitee.contact_id "
        "JOIN event ON event.id = invitee.event_id "
        "WHERE event.slug = ? AND invitee.status = 'accepted' "
        "AND invitee.link_nonce IS NOT NULL "
        "AND invitee.id NOT IN (SELECT invitee_id FROM claim) "
        "AND (? = 0 OR invitee.id IN (SELECT invitee_id FROM check_in)) "
        "ORDER BY invitee.id LIMIT 1",
        PAST_SLUG,
        checked_in,
    )
    assert row, "the demo has no guest left who could claim"
    name, email, nonce = row
    return name, email, live_server.personal_link(nonce)


def test_a_blogger_claims_the_organizer_approves_part_and_she_is_told(
    live_server: LiveServer, chromium: Browser, tmp_path: Path
) -> None:
    password = live_server.load_demo()
    name, email, link = _guest_without_claim(live_server)
    receipt = tmp_path / "Fahrkarte.png"
    receipt.write_bytes(receipt_png())

    # The blogger opens her page on the phone: the policy, and the way to her claim.
    context = new_phone_context(chromium)
    guest = context.new_page()
    guest.goto(f"{link}?lang=en")
    expect(guest.locator(".rsvp-travel")).to_contain_text("We reimburse your travel costs")
    guest.locator(".rsvp-travel").get_by_role("button", name="Your travel costs").click()
    expect(guest.locator("h1")).to_have_text("Your travel costs")
    screenshot(guest, "travel-invitee-empty")

    # A train ticket with its receipt; the total and the cap show while she types.
    guest.locator("#f-category").select_option("train")
    guest.locator("#f-spent_on").fill(_past_event_day(live_server))
    guest.locator("#f-description").fill("ICE Köln – Montabaur und zurück")
    guest.locator("#f-amount").fill("89,90")
    expect(guest.locator("#item-preview")).to_contain_text("This cost: €89.90")
    expect(guest.locator("#item-preview")).to_contain_text("of at most €150.00")
    guest.locator("#f-receipt").set_input_files(str(receipt))
    guest.get_by_role("button", name="Add this cost").click()
    expect(guest.locator(".cost-list")).to_contain_text("ICE Köln – Montabaur und zurück")
    expect(guest.locator(".claim-total")).to_contain_text("€89.90")

    # A drive by car: the amount is computed from the km.
    guest.locator("details.add-cost summary").click()
    guest.locator("#f-category").select_option("car")
    guest.locator("#f-spent_on").fill(_past_event_day(live_server))
    guest.locator("#f-distance_km").fill("42,5")
    expect(guest.locator("#item-preview")).to_contain_text("42.5 km × €0.30 = €12.75")
    guest.get_by_role("button", name="Add this cost").click()
    expect(guest.locator(".claim-total")).to_contain_text("€102.65")

    # A wrong IBAN is refused next to the field; the right one is shown masked.
    guest.locator("#f-iban").fill("DE89 3704 0044 0532 0130 01")
    guest.get_by_role("button", name="Save bank details").click()
    expect(guest.locator("#e-iban")).to_contain_text("check digits do not match")
    guest.locator("#f-iban").fill("de89 3704 0044 0532 0130 00")
    guest.get_by_role("button", name="Save bank details").click()
    expect(guest.locator(".saved-iban")).to_contain_text("DE89 •••• •••• •••• ••30 00")
    screenshot(guest, "travel-invitee-draft")
    guest.locator(".submit-claim").click()
    expect(guest.locator(".flash")).to_contain_text("Your claim is submitted")
    expect(guest.locator(".claim-status-submitted")).to_be_visible()
    screenshot(guest, "travel-invitee-submitted")

    # The organizer finds the claim in the queue and approves part of it, with a reason.
    organizer = new_organizer_page(chromium, live_server, password)
    organizer.goto(f"{live_server.url}/travel")
    expect(organizer.locator("table.claims")).to_contain_text(name)
    screenshot(organizer, "travel-queue")
    organizer.goto(f"{live_server.url}{TRAVEL}")
    expect(organizer.locator(".travel-totals")).to_contain_text("Requested")
    screenshot(organizer, "travel-tab")
    organizer.locator("table.claims").get_by_role("link", name=name).click()
    expect(organizer.locator(".claim-items")).to_contain_text("ICE Köln – Montabaur und zurück")
    expect(organizer.locator(".receipt img")).to_be_visible()
    screenshot(organizer, "travel-claim-review")
    organizer.locator("table.approve-items input").first.fill("60,00")
    organizer.locator("#f-reason").fill("We reimburse second class: 60 € for the return ticket.")
    organizer.locator(".approve-form button[type=submit]").click()
    expect(organizer.locator(".flash")).to_contain_text("approved in part")
    expect(organizer.locator(".claim-badges")).to_contain_text("Partly approved")
    expect(organizer.locator(".claim-history")).to_contain_text("Approved in part")
    screenshot(organizer, "travel-claim-decided")

    # She is told: by e-mail (in the mail catcher) and on her page.
    open_caught_mail(organizer, live_server, re.compile(r"72[.,]75"), email)
    expect(organizer.locator("main")).to_contain_text("second class")
    screenshot(organizer, "travel-mail-partly-approved")
    guest.reload()
    expect(guest.locator("#claim-status")).to_contain_text(
        "Approved in part: €72.75 of the €102.65"
    )
    expect(guest.locator(".organizer-note")).to_contain_text("second class")
    screenshot(guest, "travel-invitee-decided")
    context.close()

    # The payout account and the SEPA file of the approved, unpaid claims.
    organizer.goto(f"{live_server.url}/settings/payout")
    expect(organizer.locator(".saved-iban")).to_contain_text("DE02 ••••")
    screenshot(organizer, "travel-payout-account")
    organizer.goto(f"{live_server.url}{TRAVEL}")
    with organizer.expect_download() as download:
        organizer.get_by_role("button", name="SEPA transfer file").click()
    xml = Path(download.value.path()).read_text()
    assert "<CtrlSum>" in xml
    assert "DE89370400440532013000" in xml


def _past_event_day(live_server: LiveServer) -> str:
    row = live_server.query_one("SELECT starts_at FROM event WHERE slug = ?", PAST_SLUG)
    assert row
    (starts_at,) = row
    return str(starts_at)[:10]


def test_the_demo_claims_can_be_reviewed_with_their_pdf_receipts(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    organizer = new_organizer_page(chromium, live_server, password)
    organizer.goto(f"{live_server.url}{TRAVEL}?status=partly_approved")
    organizer.locator("table.claims a").first.click()
    frame = organizer.locator("iframe.receipt-pdf")
    expect(frame).to_be_visible()
    expect(organizer.locator(".claim-history")).to_contain_text("Approved in part")
    screenshot(organizer, "travel-claim-pdf")
    # The PDF itself comes with its type, under its generated name.
    src = frame.get_attribute("src")
    assert src
    response = organizer.request.get(f"{live_server.url}{src}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")
