"""A blogger's own data, in a real browser on her phone against `meetups serve`: she downloads
everything held about her, then deletes it after the confirmation step, and her link is dead; the
administrator finds both in the privacy log. Screenshots at laptop and phone width."""

import json
import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from meetups.demo.seed import PAST_SLUG
from tests.e2e.conftest import (
    LiveServer,
    new_organizer_page,
    new_phone_context,
    screenshot,
)


def _guest_who_came(live_server: LiveServer) -> tuple[str, str]:
    """(name, personal link) of a guest who accepted the past demo event."""
    row = live_server.query_one(
        "SELECT contact.name, invitee.link_nonce FROM invitee "
        "JOIN contact ON contact.id = invitee.contact_id "
        "JOIN event ON event.id = invitee.event_id "
        "WHERE event.slug = ? AND invitee.status = 'accepted' "
        "AND invitee.link_nonce IS NOT NULL ORDER BY invitee.id LIMIT 1",
        PAST_SLUG,
    )
    assert row, "the demo has no guest who came"
    name, nonce = row
    return name, live_server.personal_link(nonce)


def test_a_blogger_downloads_and_deletes_her_data_on_her_phone(
    live_server: LiveServer, chromium: Browser
) -> None:
    password = live_server.load_demo()
    name, link = _guest_who_came(live_server)

    context = new_phone_context(chromium)  # Playwright accepts downloads by default
    guest = context.new_page()
    guest.goto(f"{link}?lang=en")
    section = guest.locator("#your-data")
    expect(section).to_contain_text("You can download everything we hold about you")
    section.scroll_into_view_if_needed()
    screenshot(guest, "privacy-invitee-section")

    # The download: one JSON file with her data.
    with guest.expect_download() as download_info:
        section.get_by_role("button", name="Download your data (JSON)").click()
    download = download_info.value
    assert re.fullmatch(r"meetups-your-data-\d{4}-\d{2}-\d{2}\.json", download.suggested_filename)
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["contact"]["name"] == name
    assert any(entry["event"]["title"] for entry in data["events"])

    # Deleting asks first and explains what stays.
    section.get_by_role("button", name="Delete your data…").click()
    expect(guest.locator("h1")).to_have_text("Your data")
    expect(guest.locator("#privacy")).to_contain_text("This cannot be undone.")
    expect(guest.get_by_label("Never write to me again")).to_be_checked()
    screenshot(guest, "privacy-invitee-confirm")
    guest.get_by_role("button", name="Delete my data").click()
    expect(guest.locator("#privacy")).to_contain_text(
        "Please confirm that you want your data deleted."
    )
    guest.get_by_label("Yes, delete my data.").check()
    guest.get_by_role("button", name="Delete my data").click()
    expect(guest.locator("h1")).to_have_text("Your data is deleted")
    screenshot(guest, "privacy-invitee-deleted")

    # The link is dead now.
    guest.goto(f"{link}?lang=en")
    expect(guest.locator("h1")).to_have_text("This link does not work")
    context.close()

    # The administrator sees both in the privacy log, without her name.
    organizer = new_organizer_page(chromium, live_server, password)
    organizer.goto(f"{live_server.url}/settings/account")
    organizer.get_by_role("link", name="Privacy log").click()
    log = organizer.locator("table.privacy-log")
    expect(log).to_contain_text("Data deleted")
    expect(log).to_contain_text("Data downloaded")
    expect(log).not_to_contain_text(name)
    screenshot(organizer, "privacy-log")
