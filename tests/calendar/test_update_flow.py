"""The calendar entry follows the event, end to end: an acceptance brings the invitation into the
mailbox, moving the event sends an update with the same UID and a higher SEQUENCE, cancelling it
sends METHOD:CANCEL. Mail goes through the real worker to a real SMTP server (aiosmtpd)."""

from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from sqlmodel import select

from meetups.db import utcnow
from meetups.events.form import form_values
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxMessage
from tests import factories
from tests.calendar.conftest import Party
from tests.calendar.parsing import Parsed, parse_both, utc
from tests.conftest import Browser, text_of
from tests.smtp import SmtpServer


def calendar_parts(message: EmailMessage) -> tuple[EmailMessage | None, EmailMessage | None]:
    """(the text/calendar alternative, the .ics attachment) of a received message."""
    inline = next((p for p in message.walk() if p.get_content_type() == "text/calendar"), None)
    attached = next(
        (p for p in message.walk() if p.get_filename() == "invite.ics"),
        None,
    )
    return inline, attached  # type: ignore[return-value]


def invitation_in(message: EmailMessage) -> Parsed:
    """The calendar entry a received e-mail carries, checked from both sides: the alternative
    part and the attachment hold the same file, and the MIME method is the METHOD inside."""
    inline, attached = calendar_parts(message)
    assert inline is not None, "no text/calendar part"
    assert attached is not None, "no .ics attachment"
    # Inside the multipart/alternative, beside the text and the HTML.
    alternative = next(p for p in message.walk() if p.get_content_type() == "multipart/alternative")
    assert inline in list(alternative.iter_parts())
    assert attached.get_content_type() == "application/ics"
    assert attached.get_content_disposition() == "attachment"
    inline_text = inline.get_content()
    attached_bytes = attached.get_content()
    parsed = parse_both(attached_bytes)
    assert inline.get_param("method") == str(parsed.icalendar["METHOD"])
    # The alternative is the same calendar (its line ends as the mail transport left them).
    assert inline_text.replace("\r\n", "\n") == attached_bytes.decode().replace("\r\n", "\n")
    assert parse_both(inline_text.replace("\r\n", "\n").replace("\n", "\r\n")).event["UID"]
    return parsed


def received_by(server: SmtpServer, address: str) -> list[EmailMessage]:
    return [mail.message for mail in server.messages if address in mail.recipients]


async def accept(browser: Browser, token: str) -> None:
    response = await browser.submit(f"/i/{token}", {"answer": "accepted"})
    assert response.status_code == 303, response.text


async def test_move_then_cancel_the_event_and_the_calendars_follow(
    party: Party,
    organizer_browser: Browser,
    smtp_server: SmtpServer,
    deliver: Any,
    session: Any,
) -> None:
    event = party.event
    slug = event.slug
    original_start = event.starts_at

    # Dora accepts on her page: her confirmation carries the invitation (SEQUENCE 0).
    await accept(organizer_browser, party["dora"].token)
    report = await deliver()
    assert report.sent == 1
    (confirmation,) = received_by(smtp_server, "dora@example.com")
    first = invitation_in(confirmation)
    uid = str(first.event["UID"])
    assert uid == f"meetups-event-{event.id}@testserver"
    assert first.icalendar["METHOD"] == "REQUEST"
    assert first.event["SEQUENCE"] == 0
    assert utc(first.event["DTSTART"].dt) == original_start
    assert first.event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert first.event["ATTENDEE"].params["CN"] == "Dora Offen"
    # ... and her check-in code, as text and as a QR code.
    assert any(p.get_filename() == "check-in-code.png" for p in confirmation.walk())
    assert (
        f"{event.id}-{party['dora'].invitee.id}-" in confirmation.get_body(("plain",)).get_content()
    )

    # The organizer moves the event by two hours: first the question whom to tell.
    new_start = original_start + timedelta(hours=2)
    new_end = event.ends_at + timedelta(hours=2)
    values = _local_times(form_values(event), event, new_start, new_end)
    response = await organizer_browser.submit(f"/events/{slug}/edit", values)
    assert response.status_code == 200
    page = text_of(response.text)
    assert "Tell the guests about the change?" in page
    for name in ("Jürgen Grünewald", "Dana D’Avis", "Dora Offen"):
        assert name in page
    for name in ("Carl Absage", "Erik Warteliste", "Nina Nochnicht"):
        assert name not in page
    assert "Save and tell 3 guests" in page
    # Nothing is saved yet.
    session.expunge_all()
    unchanged = await session.get(Event, event.id)
    assert (unchanged.starts_at, unchanged.sequence) == (original_start, 0)
    await session.commit()

    response = await organizer_browser.submit(f"/events/{slug}/edit", {**values, "notify": "yes"})
    assert response.status_code == 303
    assert "3 guests are told" in _flash(response)
    session.expunge_all()
    moved = await session.get(Event, event.id)
    assert moved.starts_at == new_start
    assert moved.sequence == 1
    await session.commit()

    smtp_server.messages.clear()
    assert (await deliver()).sent == 3
    assert sorted(r for mail in smtp_server.messages for r in mail.recipients) == [
        "davis@example.com",
        "dora@example.com",
        "juergen@example.com",
    ]
    partstats = {}
    for address in ("dora@example.com", "davis@example.com", "juergen@example.com"):
        (update,) = received_by(smtp_server, address)
        parsed = invitation_in(update)
        assert parsed.icalendar["METHOD"] == "REQUEST"
        assert str(parsed.event["UID"]) == uid  # the same entry ...
        assert parsed.event["SEQUENCE"] == 1  # ... in a newer version ...
        assert utc(parsed.event["DTSTART"].dt) == new_start  # ... at the new time
        assert utc(parsed.vobject.vevent.dtstart.value) == new_start
        assert int(parsed.vobject.vevent.sequence.value) == 1
        partstats[address] = parsed.event["ATTENDEE"].params["PARTSTAT"]
    assert partstats == {
        "dora@example.com": "ACCEPTED",
        "davis@example.com": "TENTATIVE",
        "juergen@example.com": "ACCEPTED",
    }
    # Jürgen reads English, Dana German.
    assert (
        "There are changes to"
        in received_by(smtp_server, "juergen@example.com")[0].get_body(("plain",)).get_content()
    )

    # The event is cancelled: the calendars drop it, the others get a plain notice.
    erik = await session.get(Invitee, party["erik"].invitee.id)
    erik.status, erik.waitlisted_at = InviteeStatus.waitlisted, utcnow()
    session.add(erik)
    await session.commit()
    smtp_server.messages.clear()
    response = await organizer_browser.submit(f"/events/{slug}/cancel", {"confirm": "yes"})
    assert response.status_code == 303
    assert "5 guests are told" in _flash(response)
    assert (await deliver()).sent == 5
    for address in ("dora@example.com", "davis@example.com", "juergen@example.com"):
        (cancellation,) = received_by(smtp_server, address)
        parsed = invitation_in(cancellation)
        assert parsed.icalendar["METHOD"] == "CANCEL"
        assert parsed.vobject.method.value == "CANCEL"
        assert str(parsed.event["UID"]) == uid
        assert parsed.event["SEQUENCE"] == 2
        assert str(parsed.event["STATUS"]) == "CANCELLED"
    for address in ("erik@example.com", "frida@example.com"):
        (notice,) = received_by(smtp_server, address)
        assert calendar_parts(notice) == (None, None)
        assert not any(p.get_filename() for p in notice.walk())
    (notice,) = received_by(smtp_server, "erik@example.com")
    assert "abgesagt" in notice.get_body(("plain",)).get_content()
    assert received_by(smtp_server, "carl@example.com") == []  # declined: nothing
    assert received_by(smtp_server, "nina@example.com") == []  # never invited: nothing
    session.expunge_all()
    cancelled = await session.get(Event, event.id)
    assert (cancelled.status, cancelled.sequence) == (EventStatus.cancelled, 2)
    await session.commit()


def _flash(response: Any) -> str:
    return unquote(response.cookies.get("meetups_flash", ""))


def _local_times(
    values: dict[str, str], event: Event, start: datetime, end: datetime
) -> dict[str, str]:
    zone = ZoneInfo(event.timezone)
    return {
        **values,
        "starts_at": start.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
        "ends_at": end.astimezone(zone).strftime("%Y-%m-%dT%H:%M"),
    }


async def test_a_new_place_at_the_same_time_moves_the_calendar_entry(
    party: Party,
    organizer_browser: Browser,
    smtp_server: SmtpServer,
    deliver: Any,
    session: Any,
) -> None:
    event = party.event
    await accept(organizer_browser, party["dora"].token)
    await deliver()
    (confirmation,) = received_by(smtp_server, "dora@example.com")
    first = invitation_in(confirmation)
    uid = str(first.event["UID"])
    assert str(first.event["LOCATION"]).startswith("Firmenzentrale, Elgendorfer Straße 57")
    sequence = int(first.event["SEQUENCE"])

    values = {
        **form_values(event),
        "venue": "Stadthalle Montabaur",
        "address": "Am Stadthallenplatz 1, 56410 Montabaur",
    }
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values)
    assert response.status_code == 200
    assert "Tell the guests about the change?" in text_of(response.text)
    response = await organizer_browser.submit(
        f"/events/{event.slug}/edit", {**values, "notify": "yes"}
    )
    assert response.status_code == 303
    assert "3 guests are told" in _flash(response)

    smtp_server.messages.clear()
    assert (await deliver()).sent == 3
    (update,) = received_by(smtp_server, "dora@example.com")
    parsed = invitation_in(update)
    assert parsed.icalendar["METHOD"] == "REQUEST"
    assert str(parsed.event["UID"]) == uid
    assert parsed.event["SEQUENCE"] > sequence
    assert int(parsed.vobject.vevent.sequence.value) == parsed.event["SEQUENCE"]
    location = "Stadthalle Montabaur, Am Stadthallenplatz 1, 56410 Montabaur"
    assert str(parsed.event["LOCATION"]) == location
    assert parsed.vobject.vevent.location.value == location
    # The times stay as they were.
    assert utc(parsed.event["DTSTART"].dt) == event.starts_at
    assert utc(parsed.event["DTEND"].dt) == event.ends_at
    assert "Stadthalle Montabaur" in update.get_body(("plain",)).get_content()


async def test_a_typo_fix_without_telling_anyone(
    party: Party, organizer_browser: Browser, session: Any
) -> None:
    event = party.event
    values = {**form_values(event), "address": "Elgendorfer Straße 57, 56410 Montabaur (Eingang B)"}
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values)
    assert response.status_code == 200
    assert "Tell the guests about the change?" in response.text
    response = await organizer_browser.submit(
        f"/events/{event.slug}/edit", {**values, "notify": "no"}
    )
    assert response.status_code == 303
    assert "Nobody was told" in _flash(response)
    session.expunge_all()
    saved = await session.get(Event, event.id)
    assert saved.address.endswith("(Eingang B)")
    assert saved.sequence == 1  # a fresh download still replaces the old entry
    queued = (await session.exec(select(OutboxMessage))).all()
    assert queued == []
    await session.commit()


async def test_other_changes_save_without_asking(
    party: Party, organizer_browser: Browser, session: Any
) -> None:
    event = party.event
    values = {
        **form_values(event),
        "title": "Bloggertreffen Montabaur 2027",
        "venue": " Firmenzentrale ",
    }
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values)
    assert response.status_code == 303
    session.expunge_all()
    saved = await session.get(Event, event.id)
    assert saved.title == "Bloggertreffen Montabaur 2027"
    assert saved.sequence == 0
    await session.commit()


async def test_the_question_is_asked_in_place_with_htmx(
    party: Party, organizer_browser: Browser
) -> None:
    event = party.event
    values = _a_day_later(event)
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values, htmx=True)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<form method="post" action="/events/')
    assert 'name="notify" value="yes"' in response.text
    # The typed values travel along.
    assert f'value="{values["starts_at"]}"' in response.text


async def test_invalid_changes_are_refused_before_the_question(
    party: Party, organizer_browser: Browser
) -> None:
    event = party.event
    values = {**_a_day_later(event), "capacity": "0"}
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values)
    assert response.status_code == 422
    assert "Tell the guests" not in response.text


async def test_a_draft_changes_quietly(organizer_browser: Browser, session: Any) -> None:
    event = await factories.make_event(session, status=EventStatus.draft)
    await session.commit()
    values = _a_day_later(event)
    response = await organizer_browser.submit(f"/events/{event.slug}/edit", values)
    assert response.status_code == 303
    session.expunge_all()
    assert (await session.get(Event, event.id)).sequence == 0
    await session.commit()


async def test_the_cancel_page_says_who_will_be_told(
    party: Party, organizer_browser: Browser
) -> None:
    response = await organizer_browser.get(f"/events/{party.event.slug}/cancel")
    page = text_of(response.text)
    assert "2 guests who accepted or said maybe get a cancellation" in page
    assert "3 guests who have not answered or are on the waitlist" in page


def _a_day_later(event: Event) -> dict[str, str]:
    day = timedelta(days=1)
    return _local_times(form_values(event), event, event.starts_at + day, event.ends_at + day)


async def test_declining_after_accepting_takes_the_entry_out_of_the_calendar(
    party: Party, organizer_browser: Browser, smtp_server: SmtpServer, deliver: Any
) -> None:
    token = party["dora"].token
    await accept(organizer_browser, token)
    await deliver()
    (confirmation,) = received_by(smtp_server, "dora@example.com")
    uid = str(invitation_in(confirmation).event["UID"])
    smtp_server.messages.clear()

    response = await organizer_browser.submit(f"/i/{token}", {"answer": "declined"})
    assert response.status_code == 303
    await deliver()
    (declined,) = received_by(smtp_server, "dora@example.com")
    parsed = invitation_in(declined)
    assert parsed.icalendar["METHOD"] == "CANCEL"
    assert str(parsed.event["UID"]) == uid
    assert "aus Ihrem Kalender" in declined.get_body(("plain",)).get_content()

    # Someone who declines straight away never had the entry: a plain confirmation.
    smtp_server.messages.clear()
    response = await organizer_browser.submit(f"/i/{party['nina'].token}", {"answer": "declined"})
    if response.status_code == 303:
        await deliver()
        for message in received_by(smtp_server, "nina@example.com"):
            assert calendar_parts(message) == (None, None)
