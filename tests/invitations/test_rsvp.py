"""The page behind the personal link: what it shows, answering, details, deadline, closed events."""

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlmodel import select

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event, EventStatus
from meetups.invitations.links import issue_link
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.rsvp_helpers import all_rows, fresh, invite, outbox_rows


def next_july() -> datetime:
    return datetime(utcnow().year + 1, 7, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin (summer time)


@pytest.fixture
async def guest(session: Any, settings: Settings) -> dict[str, Any]:
    event = await factories.make_event(
        session,
        starts_at=next_july(),
        ends_at=next_july() + timedelta(hours=4),
        description="Ein Nachmittag mit **Feedback**. <script>alert('x')</script>",
        rsvp_deadline=next_july() - timedelta(days=7),
    )
    contact = await factories.make_contact(session, name="Anna Müller", language="de")
    invitee, token = await invite(session, settings, event, contact)
    await session.commit()
    return {"event": event, "contact": contact, "invitee": invitee, "token": token}


async def test_the_page_shows_the_event_in_its_zone_and_the_invitees_language(
    browser: Browser, guest: dict[str, Any]
) -> None:
    response = await browser.get(f"/i/{guest['token']}")

    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "noindex" in response.headers["x-robots-tag"]
    assert response.headers["cache-control"] == "no-store"
    html = response.text
    text = text_of(html)
    assert '<html lang="de">' in html
    assert "Ihre Antwort" in text
    assert "Ja, ich komme" in text
    assert "Bloggertreffen Montabaur" in text
    assert "Donnerstag" in text or "Freitag" in text or "Juli" in text  # Babel, in German
    assert "14:00" in text
    assert "18:00" in text
    assert "Europe/Berlin" in text
    assert "Firmenzentrale" in text
    assert "Elgendorfer Straße 57, 56410 Montabaur" in text
    assert "https://www.openstreetmap.org/search?query=Firmenzentrale%2C+Elgendorfer" in html
    assert "Olga Organizer" in text
    assert 'href="mailto:org@example.com"' in html
    # The description is Markdown, sanitized.
    assert "<strong>Feedback</strong>" in html
    assert "<script>alert" not in html
    # One tap to answer: three buttons in a form that posts (nothing happens on GET).
    assert html.count('name="answer"') == 3
    assert f'action="/i/{guest["token"]}"' in html
    assert 'method="post"' in html
    # No organizer navigation, nothing from elsewhere.
    assert 'href="/events"' not in html
    assert "/static/rsvp.css" in html
    foreign = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
    assert all(
        url.startswith(("http://testserver/", "https://www.openstreetmap.org/search?"))
        for url in foreign
    ), foreign
    assert "<img" not in html
    assert "<iframe" not in html


async def test_the_language_can_be_switched_on_the_page(
    browser: Browser, guest: dict[str, Any]
) -> None:
    english = await browser.get(f"/i/{guest['token']}?lang=en")
    assert '<html lang="en">' in english.text
    assert "Your answer" in english.text
    assert 'href="?lang=de"' in english.text
    assert 'name="lang" value="en"' in english.text

    nonsense = await browser.get(f"/i/{guest['token']}?lang=xx")
    assert '<html lang="de">' in nonsense.text  # the contact's language


async def test_opening_is_recorded_once_and_changes_nothing_else(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    assert (await browser.get(f"/i/{guest['token']}")).status_code == 200
    first = await fresh(session, Invitee, guest["invitee"].id)
    assert first.opened_at is not None
    assert first.status == InviteeStatus.invited
    assert first.responded_at is None

    assert (await browser.get(f"/i/{guest['token']}")).status_code == 200
    again = await fresh(session, Invitee, guest["invitee"].id)
    assert again.opened_at == first.opened_at
    assert await outbox_rows(session) == []


async def test_accepting_with_a_plain_form_post(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    token = guest["token"]
    response = await browser.submit(f"/i/{token}", {"answer": "accepted", "lang": "en"})

    assert response.status_code == 303
    assert response.headers["location"] == f"/i/{token}?lang=en#answer"
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert invitee.status == InviteeStatus.accepted
    assert invitee.seats == 1
    assert invitee.responded_at is not None
    event = await fresh(session, Event, guest["event"].id)
    assert event.seats_taken == 1
    mails = await outbox_rows(session)
    assert [(mail.kind, mail.recipient) for mail in mails] == [
        ("confirmation_accepted", "anna.mueller@example.com")
    ]

    page = await browser.get(response.headers["location"])
    text = text_of(page.text)
    assert "Thank you! You are on the guest list." in text  # the flash, once
    assert "You have accepted." in text
    assert 'aria-pressed="true"' in page.text
    assert "Your details" in text
    assert "Thank you! You are on the guest list." not in text_of(
        (await browser.get(f"/i/{token}")).text
    )


async def test_answering_with_htmx_updates_the_answer_in_place(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    response = await browser.submit(
        f"/i/{guest['token']}", {"answer": "maybe", "lang": "en"}, htmx=True
    )

    assert response.status_code == 200
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<section id="rsvp"')
    assert "Your answer so far: maybe." in text_of(response.text)
    assert "We have sent you a confirmation by e-mail." in text_of(response.text)
    assert (await fresh(session, Invitee, guest["invitee"].id)).status == InviteeStatus.maybe


async def test_the_answer_can_change_until_the_deadline(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    url = f"/i/{guest['token']}"
    for answer in ("accepted", "declined", "maybe", "accepted"):
        assert (await browser.submit(url, {"answer": answer})).status_code == 303
        assert (await fresh(session, Invitee, guest["invitee"].id)).status == answer
    event = await fresh(session, Event, guest["event"].id)
    assert event.seats_taken == 1
    kinds = [mail.kind for mail in await outbox_rows(session)]
    assert kinds == [
        "confirmation_accepted",
        "confirmation_declined",
        "confirmation_maybe",
        "confirmation_accepted",
    ]

    # The same answer again changes nothing and sends nothing.
    again = await browser.submit(url, {"answer": "accepted", "lang": "en"}, htmx=True)
    assert "nothing has changed" in text_of(again.text)
    assert len(await outbox_rows(session)) == 4
    assert (await fresh(session, Event, guest["event"].id)).seats_taken == 1


async def test_after_the_deadline_the_page_says_so_and_whom_to_contact(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    url = f"/i/{guest['token']}"
    await browser.submit(url, {"answer": "accepted"})
    event = await session.get(Event, guest["event"].id)
    event.rsvp_deadline = utcnow() - timedelta(minutes=1)
    session.add(event)
    await session.commit()

    page = await browser.get(url + "?lang=en")
    text = text_of(page.text)
    assert page.status_code == 200
    assert "Replies closed on" in text
    assert "please get in touch with Olga Organizer" in text
    assert 'href="mailto:org@example.com"' in page.text
    assert 'name="answer"' not in page.text
    assert "You have accepted." in text

    refused = await browser.submit(url, {"answer": "declined", "lang": "en"})
    assert refused.status_code == 409
    assert "Replies closed on" in text_of(refused.text)
    details = await browser.submit(url + "/details", {"dietary_needs": "vegan", "lang": "en"})
    assert details.status_code == 409
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert invitee.status == InviteeStatus.accepted
    assert invitee.dietary_needs == ""
    assert [mail.kind for mail in await outbox_rows(session)] == ["confirmation_accepted"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": EventStatus.cancelled}, "This event has been cancelled"),
        ({"archived_at": "now"}, "This event is over"),
        ({"starts_at": "past"}, "This event has already begun"),
    ],
)
async def test_closed_events_take_no_answers(
    browser: Browser, guest: dict[str, Any], session: Any, change: dict[str, Any], message: str
) -> None:
    event = await session.get(Event, guest["event"].id)
    for name, value in change.items():
        if value == "now":
            value = utcnow()
        if value == "past":
            value = utcnow() - timedelta(hours=1)
            event.ends_at = utcnow() + timedelta(hours=3)
        setattr(event, name, value)
    session.add(event)
    await session.commit()
    url = f"/i/{guest['token']}?lang=en"

    page = await browser.get(url)
    assert message in text_of(page.text)
    assert 'name="answer"' not in page.text
    if change.get("status") == EventStatus.cancelled:
        assert "This event has been cancelled." in text_of(page.text)
    refused = await browser.submit(f"/i/{guest['token']}", {"answer": "accepted", "lang": "en"})
    assert refused.status_code == 409
    assert message in text_of(refused.text)
    assert (await fresh(session, Invitee, guest["invitee"].id)).status == InviteeStatus.invited
    assert await outbox_rows(session) == []


async def test_details_are_saved_and_shown_again(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    url = f"/i/{guest['token']}"
    await browser.submit(url, {"answer": "accepted"})
    response = await browser.submit(
        url + "/details",
        {
            "dietary_needs": "  vegetarisch,\r\nkeine Nüsse ",
            "accessibility_needs": "Rollstuhl",
            "travelling_from": "  Köln   Ehrenfeld ",
            "needs_hotel": "on",
            "comment": "Ich freue mich!",
            "lang": "de",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("#details")
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert invitee.dietary_needs == "vegetarisch,\nkeine Nüsse"
    assert invitee.accessibility_needs == "Rollstuhl"
    assert invitee.travelling_from == "Köln Ehrenfeld"
    assert invitee.needs_hotel is True
    assert invitee.comment == "Ich freue mich!"
    # Details send no e-mail of their own.
    assert [mail.kind for mail in await outbox_rows(session)] == ["confirmation_accepted"]

    page = await browser.get(url)
    assert "keine Nüsse" in page.text
    assert 'value="Köln Ehrenfeld"' in page.text
    assert 'name="needs_hotel" value="on" checked' in page.text

    # Unticking the box is saved too.
    await browser.submit(url + "/details", {"dietary_needs": "vegan"})
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert invitee.needs_hotel is False
    assert invitee.dietary_needs == "vegan"


async def test_a_plus_one_is_refused_when_the_event_does_not_allow_it(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    url = f"/i/{guest['token']}"
    await browser.submit(url, {"answer": "accepted"})
    page = await browser.get(url + "?lang=en")
    assert 'name="plus_one_name"' not in page.text

    response = await browser.submit(
        url + "/details", {"plus_one_name": "Bernd", "dietary_needs": "vegan", "lang": "en"}
    )
    assert response.status_code == 422
    assert "This invitation is for you alone" in text_of(response.text)
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert (invitee.plus_one_name, invitee.dietary_needs, invitee.seats) == ("", "", 1)


async def test_a_plus_one_takes_a_second_place_where_allowed(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    event = await session.get(Event, guest["event"].id)
    event.plus_ones_allowed = True
    session.add(event)
    await session.commit()
    url = f"/i/{guest['token']}"
    await browser.submit(url, {"answer": "accepted"})

    page = await browser.get(url + "?lang=en")
    assert 'name="plus_one_name"' in page.text
    response = await browser.submit(url + "/details", {"plus_one_name": "Bernd Beispiel"})
    assert response.status_code == 303
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert (invitee.plus_one_name, invitee.seats) == ("Bernd Beispiel", 2)
    assert (await fresh(session, Event, guest["event"].id)).seats_taken == 2
    assert "together with Bernd Beispiel" in text_of((await browser.get(url + "?lang=en")).text)

    await browser.submit(url + "/details", {"plus_one_name": ""})
    assert (await fresh(session, Invitee, guest["invitee"].id)).seats == 1
    assert (await fresh(session, Event, guest["event"].id)).seats_taken == 1

    await browser.submit(url + "/details", {"plus_one_name": "Bernd Beispiel"})
    await browser.submit(url, {"answer": "declined"})
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert (invitee.status, invitee.seats) == (InviteeStatus.declined, 0)
    assert (await fresh(session, Event, guest["event"].id)).seats_taken == 0


async def test_a_wrong_answer_changes_nothing(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    for value in ("", "waitlisted", "invited", "ACCEPTED", "accept", "1; DROP TABLE event"):
        response = await browser.submit(f"/i/{guest['token']}", {"answer": value, "lang": "en"})
        assert response.status_code == 422, value
        assert "Please choose one of the answers." in text_of(response.text)
    assert (await fresh(session, Invitee, guest["invitee"].id)).status == InviteeStatus.invited
    assert await outbox_rows(session) == []


async def test_posting_without_the_pages_csrf_token_is_refused(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    await browser.get(f"/i/{guest['token']}")
    response = await browser.post(f"/i/{guest['token']}", data={"answer": "accepted"})
    assert response.status_code == 403
    cross_site = await browser.post(
        f"/i/{guest['token']}",
        data={"answer": "accepted", "csrf_token": await browser.csrf_token()},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert cross_site.status_code == 403
    assert (await fresh(session, Invitee, guest["invitee"].id)).status == InviteeStatus.invited


async def test_one_invitees_link_never_shows_anothers_data(
    browser: Browser, guest: dict[str, Any], session: Any, settings: Settings
) -> None:
    other_contact = await factories.make_contact(
        session, name="Zoe Zweitgast", email="zoe@example.com", language="en"
    )
    other, other_token = await invite(
        session,
        settings,
        await session.get(Event, guest["event"].id),
        other_contact,
        dietary_needs="Zoes geheime Allergie",
        travelling_from="Zoestadt",
        comment="Zoes Kommentar",
    )
    await session.commit()

    mine = await browser.get(f"/i/{guest['token']}")
    for secret in ("Zoe", "zoe@example.com", "Zoestadt", "geheime Allergie", other_token):
        assert secret not in mine.text
    await browser.submit(f"/i/{guest['token']}", {"answer": "accepted"})
    fragment = await browser.submit(f"/i/{guest['token']}", {"answer": "maybe"}, htmx=True)
    assert "Zoe" not in fragment.text

    theirs = await fresh(session, Invitee, other.id)
    assert theirs.status == InviteeStatus.invited
    mails = await outbox_rows(session)
    assert {mail.recipient for mail in mails} == {"anna.mueller@example.com"}
    assert all(mail.invitee_id == guest["invitee"].id for mail in mails)


@pytest.mark.parametrize(
    "token",
    [
        "A" * 32,  # well-formed, but no such link
        "short",
        "x" * 33,
        "%00%00",
        "..%2F..%2Fetc%2Fpasswd",
        "ÄÖÜäöüß" * 5,
        "<script>alert(1)</script>",
        "' OR 1=1 --",
        "a" * 5000,
    ],
)
async def test_wrong_and_malformed_links_get_a_friendly_page(
    browser: Browser, guest: dict[str, Any], token: str
) -> None:
    for response in (
        await browser.get(f"/i/{token}"),
        await browser.submit(f"/i/{token}", {"answer": "accepted"}),
        await browser.submit(f"/i/{token}/details", {"comment": "x"}),
    ):
        assert response.status_code == 404, (token, response.status_code)
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "This link does not work" in text_of(response.text)
        assert "<script>alert(1)</script>" not in response.text


async def test_a_revoked_link_stops_working_and_the_new_one_works(
    browser: Browser, guest: dict[str, Any], session: Any, settings: Settings
) -> None:
    invitee = await session.get(Invitee, guest["invitee"].id)
    new_token = issue_link(invitee, settings.secret)
    session.add(invitee)
    await session.commit()

    old = await browser.get(f"/i/{guest['token']}?lang=en")
    assert old.status_code == 404
    assert "only the newest link works" in text_of(old.text)
    assert (await browser.submit(f"/i/{guest['token']}", {"answer": "accepted"})).status_code == 404
    assert (await browser.get(f"/i/{new_token}")).status_code == 200
    assert (await fresh(session, Invitee, invitee.id)).status == InviteeStatus.invited


class BrowserAt(Browser):
    """A browser on another client address."""

    def __init__(self, app: Any, secret: bytes, address: str) -> None:
        httpx.AsyncClient.__init__(
            self,
            transport=httpx.ASGITransport(app=app, client=(address, 40000)),
            base_url="http://testserver",
        )
        self.secret = secret


async def test_guessing_links_is_throttled_per_client_address(
    app: Any, settings: Settings, guest: dict[str, Any]
) -> None:
    def client(address: str) -> Browser:
        return BrowserAt(app, settings.secret, address)

    async with client("203.0.113.7") as guesser, client("198.51.100.1") as neighbour:
        for number in range(20):
            wrong = await guesser.get(f"/i/{'B' * 31}{number % 10}")
            assert wrong.status_code == 404
        throttled = await guesser.get(f"/i/{guest['token']}?lang=en")
        assert throttled.status_code == 429
        assert throttled.headers["retry-after"] == str(15 * 60)
        assert throttled.headers["referrer-policy"] == "no-referrer"
        assert "Please wait 15 minutes" in text_of(throttled.text)
        refused = await guesser.submit(f"/i/{guest['token']}", {"answer": "accepted"})
        assert refused.status_code == 429
        # Another address is not affected.
        assert (await neighbour.get(f"/i/{guest['token']}")).status_code == 200


HOSTILE = [
    "",
    " ",
    "\x00",
    "\x00" * 50,
    "\r\n" * 50,
    "\u202e\u200b\ufeff",
    "<script>alert(1)</script>",
    "{{ 7*7 }}{% raw %}",
    "%(name)s %s %d",
    '=HYPERLINK("http://evil")',
    "' OR 1=1; --",
    "😀" * 300,
    "x" * 5000,
    "Ω≈ç√∫",
    "Straße\tmit\tTabs",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_hostile_input_in_every_field_never_breaks_the_page(
    browser: Browser, guest: dict[str, Any], session: Any, value: str
) -> None:
    event = await session.get(Event, guest["event"].id)
    event.plus_ones_allowed = True
    session.add(event)
    await session.commit()
    url = f"/i/{guest['token']}"
    await browser.submit(url, {"answer": "accepted"})
    fields = {
        "plus_one_name": value,
        "dietary_needs": value,
        "accessibility_needs": value,
        "travelling_from": value,
        "needs_hotel": value,
        "comment": value,
        "lang": value,
        "answer": value,
    }
    for response in (
        await browser.submit(url + "/details", fields),
        await browser.submit(url + "/details", fields, htmx=True),
        await browser.submit(url, fields),
        await browser.submit(url, fields, htmx=True),
        await browser.get(url, params={"lang": value}),
    ):
        assert response.status_code in {200, 303, 409, 422}, (value, response.status_code)
        assert "<script>alert(1)</script>" not in response.text

    page = await browser.get(url)
    assert page.status_code == 200
    invitee = await fresh(session, Invitee, guest["invitee"].id)
    assert "\x00" not in invitee.comment
    assert len(invitee.comment) <= 2000
    assert len(invitee.travelling_from) <= 200


async def test_a_language_chosen_on_the_page_is_remembered_for_the_emails(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    await browser.submit(f"/i/{guest['token']}", {"answer": "accepted", "lang": "en"})
    contact = await fresh(session, Contact, guest["contact"].id)
    assert contact.language == "en"
    page = await browser.get(f"/i/{guest['token']}")
    assert '<html lang="en">' in page.text


async def test_an_invitee_removed_meanwhile_gets_the_friendly_page(
    browser: Browser, guest: dict[str, Any], session: Any
) -> None:
    await session.delete(await session.get(Invitee, guest["invitee"].id))
    await session.commit()
    assert (await browser.get(f"/i/{guest['token']}")).status_code == 404
    rows = await all_rows(session, select(Invitee))
    assert rows == []
