"""Settings → Privacy log: administrators see who downloaded or deleted whose data, and every
purge, newest first and page by page; nobody else sees it."""

from datetime import timedelta
from typing import Any

import pytest

from meetups.db import utcnow
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord
from tests.conftest import Browser, sign_in_as, text_of
from tests.privacy.helpers import World


async def test_admins_see_downloads_deletions_and_purges(
    signed_in: Browser, world: World, session: Any
) -> None:
    await signed_in.submit(f"/i/{world.ben.token}/privacy/export", {"lang": "en"})
    await signed_in.submit(f"/i/{world.anna.token}/privacy/delete", {"lang": "en", "confirm": "on"})
    session.add(
        PrivacyRecord(
            at=utcnow() - timedelta(days=1),
            action=PrivacyAction.purged,
            actor=PrivacyActor.retention,
            event_id=world.spring.id,
            summary="invitations=4 receipts=1 unknown_key=2",
        )
    )
    await session.commit()

    settings_page = await signed_in.get("/settings/account")
    assert 'href="/settings/privacy"' in settings_page.text
    page = await signed_in.get("/settings/privacy")

    assert page.status_code == 200
    text = text_of(page.text)
    assert 'aria-current="page">Privacy log' in page.text
    # Newest first: the deletion, the download, then yesterday's purge.
    assert (
        text.index("Data deleted") < text.index("Data downloaded") < text.index("Retention purge")
    )
    assert "The person themselves, with their personal link" in text
    assert f"Contact #{world.anna.contact.id}" in text
    assert f"Contact #{world.ben.contact.id}" in text
    assert "address book entry anonymized" in text
    assert "1 decided claim kept without bank details" in text
    assert "4 guest-list entries, 1 receipt, unknown_key: 2" in text
    assert "Frühjahrstreffen" in text
    # The log names nobody.
    assert "Anna" not in text
    assert "Ben Berger" not in text


async def test_an_organizers_deletion_names_the_organizer(
    editor: Browser, world: World, session: Any
) -> None:
    await editor.submit(f"/contacts/{world.anna.contact.id}/delete", {"confirm": "yes"})
    await sign_in_as(editor, session, "admin")

    page = await editor.get("/settings/privacy")

    text = text_of(page.text)
    assert "Organizer Person" in text
    assert "Data deleted" in text


@pytest.mark.parametrize("role", ["organizer", "viewer"])
async def test_only_administrators_see_the_log(browser: Browser, session: Any, role: str) -> None:
    await sign_in_as(browser, session, role)

    page = await browser.get("/settings/privacy")

    assert page.status_code == 403
    assert 'href="/settings/privacy"' not in (await browser.get("/settings/account")).text


async def test_signed_out_visitors_are_sent_to_sign_in(browser: Browser, admin: Any) -> None:
    response = await browser.get("/settings/privacy")

    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fsettings%2Fprivacy"


async def test_the_log_goes_page_by_page(signed_in: Browser, session: Any) -> None:
    start = utcnow()
    for number in range(55):
        session.add(
            PrivacyRecord(
                at=start - timedelta(minutes=number),
                action=PrivacyAction.exported,
                actor=PrivacyActor.invitee,
                contact_id=1000 + number,
                summary="invitations=1",
            )
        )
    await session.commit()

    first = text_of((await signed_in.get("/settings/privacy")).text)
    second = text_of((await signed_in.get("/settings/privacy?page=2")).text)
    odd = text_of((await signed_in.get("/settings/privacy?page=abc")).text)
    beyond = text_of((await signed_in.get("/settings/privacy?page=99")).text)

    assert "Page 1 of 2" in first
    assert "Contact #1000 " in first
    assert "Contact #1049 " in first
    assert "Contact #1050 " not in first
    assert "Page 2 of 2" in second
    assert "Contact #1054 " in second
    assert "Contact #1000 " not in second
    assert odd == first
    assert beyond == second


async def test_an_empty_log_says_so(signed_in: Browser) -> None:
    page = await signed_in.get("/settings/privacy")

    assert "nothing was purged" in text_of(page.text)
    assert "Personal data of events that ended more than 12 months ago" in text_of(page.text)
