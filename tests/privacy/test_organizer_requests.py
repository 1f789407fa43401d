"""Requests that reach the organizers by e-mail or letter, not through a personal link: an editor
downloads everything held about a contact for them, or deletes the contact after a confirmation
page that says what goes and what stays (a page, so that it works without JavaScript too). Both
are recorded in the privacy log under the organizer's name."""

from typing import Any

from sqlmodel import select

from meetups.contacts.models import Contact
from meetups.invitations.models import Invitee
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord
from tests.conftest import Browser, text_of
from tests.privacy.helpers import World, fresh, rows


async def test_an_editor_downloads_a_contacts_data_and_it_is_logged(
    editor: Browser, world: World, session: Any
) -> None:
    page = await editor.get(f"/contacts/{world.anna.contact.id}")
    assert f'action="/contacts/{world.anna.contact.id}/export"' in page.text

    response = await editor.submit(f"/contacts/{world.anna.contact.id}/export")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith(f'attachment; filename="meetups-contact-{world.anna.contact.id}-')
    assert "no-store" in response.headers["cache-control"]
    data = response.json()
    assert data["format"] == "meetups-personal-data/1"
    assert data["contact"]["name"] == "Anna Müller"
    assert [entry["event"]["title"] for entry in data["events"]] == [
        "Frühjahrstreffen",
        "Blogger-Feedback Montabaur",
        "Bloggertreffen Herbst",
    ]
    # Nothing about the person beside her.
    assert "Ben" not in response.text
    [record] = await rows(session, select(PrivacyRecord))
    assert (record.action, record.actor) == (PrivacyAction.exported, PrivacyActor.organizer)
    assert record.organizer_id is not None
    assert (record.contact_id, record.event_id, record.invitee_id) == (
        world.anna.contact.id,
        None,
        None,
    )
    assert "invitations=3" in record.summary
    # Downloading changes nothing else.
    assert (await fresh(session, Contact, world.anna.contact.id)).name == "Anna Müller"


async def test_the_privacy_log_names_the_organizer_who_downloaded(
    signed_in: Browser, world: World
) -> None:
    await signed_in.submit(f"/contacts/{world.ben.contact.id}/export")

    text = text_of((await signed_in.get("/settings/privacy")).text)

    assert "Data downloaded" in text
    assert "Ada Admin" in text
    assert f"Contact #{world.ben.contact.id}" in text


async def test_viewers_may_neither_download_nor_delete(
    viewer: Browser, world: World, session: Any
) -> None:
    contact_id = world.anna.contact.id
    page = await viewer.get(f"/contacts/{contact_id}")
    assert "/export" not in page.text
    assert "/delete" not in page.text

    assert (await viewer.submit(f"/contacts/{contact_id}/export")).status_code == 403
    assert (await viewer.get(f"/contacts/{contact_id}/delete")).status_code == 403
    assert await rows(session, select(PrivacyRecord)) == []


async def test_a_deleted_contact_has_nothing_left_to_download(
    editor: Browser, world: World, session: Any
) -> None:
    contact_id = world.anna.contact.id
    await editor.submit(f"/contacts/{contact_id}/delete", {"confirm": "yes"})
    page = await editor.get(f"/contacts/{contact_id}")
    assert "/export" not in page.text

    response = await editor.submit(f"/contacts/{contact_id}/export")

    assert response.status_code == 303
    assert response.headers["location"] == f"/contacts/{contact_id}"
    shown = await editor.get(response.headers["location"])
    assert "This contact was deleted" in text_of(shown.text)
    assert [record.action for record in await rows(session, select(PrivacyRecord))] == [
        PrivacyAction.erased
    ]
    # Asking to delete again says the same instead of a confirmation page.
    again = await editor.get(f"/contacts/{contact_id}/delete")
    assert again.status_code == 303
    assert again.headers["location"] == f"/contacts/{contact_id}"


async def test_the_confirmation_page_says_what_goes_and_what_stays(
    editor: Browser, world: World
) -> None:
    contact_id = world.anna.contact.id
    detail = await editor.get(f"/contacts/{contact_id}")
    assert f'href="/contacts/{contact_id}/delete"' in detail.text
    assert "hx-confirm" not in detail.text

    page = await editor.get(f"/contacts/{contact_id}/delete")

    assert page.status_code == 200
    text = text_of(page.text)
    assert "Delete Anna Müller?" in text
    assert "Anna Müller has answered an invitation." in text
    assert "Their place at “Bloggertreffen Herbst”" in text
    assert "the waitlist moves up" in text
    assert "1 decided travel claim stays in the accounts" in text
    assert "travel claim that has not been decided yet is withdrawn" in text
    assert "feedback ratings and choices still count" in text
    assert "Links to their posts stay" in text
    assert "This cannot be undone." in text
    assert 'name="confirm" value="yes"' in page.text
    assert f'href="/contacts/{contact_id}"' in page.text  # keep them


async def test_deleting_without_the_confirmation_changes_nothing(
    editor: Browser, world: World, session: Any
) -> None:
    contact_id = world.anna.contact.id
    for data in ({}, {"confirm": ""}, {"confirm": "no"}):
        response = await editor.submit(f"/contacts/{contact_id}/delete", data)

        assert response.status_code == 303
        assert response.headers["location"] == f"/contacts/{contact_id}/delete"
    assert (await fresh(session, Contact, contact_id)).name == "Anna Müller"
    entries = await rows(session, select(Invitee).where(Invitee.contact_id == contact_id))
    assert all(entry.erased_at is None for entry in entries)
    assert await rows(session, select(PrivacyRecord)) == []


async def test_the_confirmation_page_looks_right_in_german(editor: Browser, world: World) -> None:
    await editor.submit("/language", {"language": "de", "next": "/contacts"})

    page = await editor.get(f"/contacts/{world.ben.contact.id}/delete")

    assert page.status_code == 200
    text = text_of(page.text)
    assert "Ben" in text
    assert "Das lässt sich nicht rückgängig machen." in text
