"""Downloading one's data behind the personal link: everything about the person, across all their
events, receipts included, and nothing about anybody else; recorded in the privacy log."""

import base64
import json
from typing import Any

from sqlmodel import select

from meetups.db import utcnow
from meetups.privacy.export import personal_data
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord
from tests.conftest import Browser
from tests.feedback.helpers import answer, attendee, default_form, past_event
from tests.privacy.helpers import PNG, World, feedback_values, rows


async def _download(browser: Browser, token: str) -> Any:
    response = await browser.submit(f"/i/{token}/privacy/export", {"lang": "en"})
    assert response.status_code == 200, response.text
    return response


def _entry(data: dict[str, Any], title: str) -> dict[str, Any]:
    [entry] = [e for e in data["events"] if e["event"]["title"] == title]
    return entry


async def test_the_invitation_page_offers_download_and_deletion(
    browser: Browser, world: World
) -> None:
    page = await browser.get(f"/i/{world.anna.token}?lang=en")
    assert page.status_code == 200
    assert 'id="your-data"' in page.text
    assert f'action="/i/{world.anna.token}/privacy/export"' in page.text
    assert f'href="/i/{world.anna.token}/privacy?lang=en"' in page.text


async def test_the_download_holds_everything_about_her(
    browser: Browser, world: World, session: Any
) -> None:
    response = await _download(browser, world.anna.token)

    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="meetups-your-data-'
    )
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    data = response.json()
    assert data["format"] == "meetups-personal-data/1"
    assert data["contact"] == {
        "name": "Anna Müller",
        "email": "anna.mueller@example.com",
        "blog_url": "https://anna.example.org",
        "city": "Köln",
        "language": "en",
        "tags": ["tech"],
        "notes": "Writes about telecoms; prefers trains.",
        "in_address_book_since": data["contact"]["in_address_book_since"],
        "last_changed_at": data["contact"]["last_changed_at"],
    }
    # Every event she was on, oldest first, not only the one of this link.
    assert [entry["event"]["title"] for entry in data["events"]] == [
        "Frühjahrstreffen",
        "Blogger-Feedback Montabaur",
        "Bloggertreffen Herbst",
    ]

    past = _entry(data, "Blogger-Feedback Montabaur")
    assert past["guest_list"]["status"] == "accepted"
    assert past["guest_list"]["plus_one_name"] == "Carla Müller"
    assert past["guest_list"]["dietary_needs"] == "vegan"
    assert past["guest_list"]["accessibility_needs"] == "step-free access"
    assert past["guest_list"]["travelling_from"] == "Köln"
    assert past["guest_list"]["needs_hotel"] is True
    assert past["guest_list"]["comment"] == "Looking forward to it!"
    assert past["check_in"]["plus_one_arrived"] is True
    claim = past["travel_claim"]
    assert (claim["status"], claim["payee_name"], claim["iban"], claim["bic"]) == (
        "paid",
        "Anna Müller",
        "DE89370400440532013000",
        "COBADEFFXXX",
    )
    assert (claim["requested"], claim["approved"]) == ("49.90", "49.90")
    [item] = claim["items"]
    assert (item["category"], item["description"], item["amount"]) == (
        "train",
        "ICE Köln – Montabaur",
        "49.90",
    )
    receipt = item["receipt"]
    assert receipt["file_name"] == "Fahrkarte.png"
    assert receipt["content_type"] == "image/png"
    assert base64.b64decode(receipt["content_base64"]) == PNG
    assert [(step["action"], step["by"]) for step in claim["history"]] == [
        ("submitted", "you"),
        ("paid", "organizer"),
    ]
    feedback = past["feedback"]
    assert feedback["anonymous"] is False
    answers = {answer["kind"]: answer for answer in feedback["answers"]}
    assert answers["nps"]["answer"] == 9
    assert answers["long_text"]["answer"] == "Anna's frank opinion"
    assert len(answers["multiple"]["chosen"]) == 1
    assert [link["url"] for link in past["coverage"]] == ["https://anna.example.org/montabaur"]
    assert [(mail["kind"], mail["status"]) for mail in past["emails"]] == [("invitation", "sent")]

    spring = _entry(data, "Frühjahrstreffen")
    assert spring["travel_claim"]["status"] == "submitted"
    upcoming = _entry(data, "Bloggertreffen Herbst")
    assert upcoming["guest_list"]["status"] == "accepted"
    assert [mail["status"] for mail in upcoming["emails"]] == ["queued"]
    assert data["do_not_contact"] is None

    # The download is recorded, naming her by number only.
    [record] = await rows(session, select(PrivacyRecord))
    assert (record.action, record.actor) == (PrivacyAction.exported, PrivacyActor.invitee)
    assert (record.contact_id, record.invitee_id, record.event_id) == (
        world.anna.contact.id,
        world.anna.invitee.id,
        world.past.id,
    )
    assert "invitations=3" in record.summary
    assert "Anna" not in record.summary


async def test_one_link_never_reveals_anyone_else(browser: Browser, world: World) -> None:
    anna = (await _download(browser, world.anna.token)).text
    ben = (await _download(browser, world.ben.token)).text

    # Ben's answers, claim, feedback and e-mails sit on the same event, yet none shows for Anna.
    for other in ("Ben Berger", "ben.berger@example.com", "no nuts", "Ben's", world.ben.token):
        assert other not in anna
    for other in ("Anna", "anna.mueller", "vegan", "Carla", world.anna.token):
        assert other not in ben
    # Organizers are not named either.
    assert "Olga Organizer" not in anna
    assert json.loads(ben)["contact"]["name"] == "Ben Berger"
    assert [e["event"]["title"] for e in json.loads(ben)["events"]] == [
        "Blogger-Feedback Montabaur",
        "Bloggertreffen Herbst",
    ]


async def test_anonymous_feedback_is_said_to_exist_but_not_shown(
    browser: Browser, session: Any, settings: Any
) -> None:
    event = await past_event(session, anonymous=True)
    questions = await default_form(session, event)
    invitee, token = await attendee(session, settings, event, "Anna Müller")
    await answer(
        session, settings, event, invitee, feedback_values(questions, 4, 8, 0, "Secret words")
    )
    await session.commit()

    data = (await _download(browser, token)).json()

    [entry] = data["events"]
    assert entry["feedback"]["anonymous"] is True
    assert "cannot remove them" in entry["feedback"]["note"]
    assert "Secret words" not in json.dumps(data)


async def test_receipts_beyond_the_size_limit_are_listed_without_content(
    world: World, session: Any, settings: Any
) -> None:
    exported = await personal_data(
        world.anna.contact, session=session, settings=settings, now=utcnow(), receipt_limit=10
    )
    await session.commit()

    receipts = [
        entry["travel_claim"]["items"][0]["receipt"]
        for entry in exported.data["events"]
        if entry["travel_claim"]
    ]
    assert len(receipts) == 2
    assert all(receipt["content_base64"] is None for receipt in receipts)
    assert all("travel page" in receipt["note"] for receipt in receipts)
    assert exported.counts.receipts == 2


async def test_a_wrong_link_or_a_forged_form_downloads_nothing(
    browser: Browser, world: World, session: Any
) -> None:
    wrong = await browser.submit("/i/" + "A" * 32 + "/privacy/export", {"lang": "en"})
    assert wrong.status_code == 404
    assert "This link does not work" in wrong.text

    forged = await browser.post(
        f"/i/{world.anna.token}/privacy/export",
        data={"lang": "en"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert forged.status_code == 403
    assert "application/json" not in forged.headers["content-type"]
    assert await rows(session, select(PrivacyRecord)) == []


async def test_the_download_is_a_post_so_link_scanners_record_nothing(
    browser: Browser, world: World, session: Any
) -> None:
    response = await browser.get(f"/i/{world.anna.token}/privacy/export")
    # Only the invitation page answers a GET there (a garbled link leads back to it).
    assert response.status_code == 303
    assert response.headers["location"] == f"/i/{world.anna.token}"
    assert await rows(session, select(PrivacyRecord)) == []
