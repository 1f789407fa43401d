"""The e-mails an invitee gets: complete, personal letters in their language, queued in the
caller's transaction, and delivered through a real SMTP server (aiosmtpd)."""

import email
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from meetups.config import Settings
from meetups.db import Database
from meetups.events.models import Event
from meetups.invitations import messages
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxMessage, OutboxStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.rsvp_helpers import fresh, invite, link_in, outbox_rows


def parse(raw: str | bytes) -> EmailMessage:
    if isinstance(raw, bytes):
        return email.message_from_bytes(raw, _class=EmailMessage, policy=default_policy)  # type: ignore[return-value]
    return email.message_from_string(raw, _class=EmailMessage, policy=default_policy)  # type: ignore[return-value]


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    # The wire format ends lines with CRLF; compare with what was rendered.
    return (
        text.get_content().replace("\r\n", "\n"),
        html.get_content().replace("\r\n", "\n"),
    )


def summer_start() -> datetime:
    return datetime(datetime.now(UTC).year + 1, 7, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin


@pytest.fixture
async def letter(session: Any, settings: Settings) -> dict[str, Any]:
    event = await factories.make_event(
        session,
        starts_at=summer_start(),
        ends_at=summer_start() + timedelta(hours=4),
        rsvp_deadline=summer_start() - timedelta(days=10),
        invitation_intro=(
            "Liebe Anna,\n\nwir würden uns **sehr** freuen. <img src=x onerror=alert(1)>"
        ),
        plus_ones_allowed=True,
    )
    contact = await factories.make_contact(session, name="Anna Müller", language="de")
    invitee, token = await invite(
        session, settings, event, contact, plus_one_name="Bernd", status=InviteeStatus.accepted
    )
    await session.commit()
    return {"event": event, "contact": contact, "invitee": invitee, "token": token}


def queue_call(kind: str) -> Callable[..., OutboxMessage]:
    calls: dict[str, Callable[..., OutboxMessage]] = {
        "invitation": messages.queue_invitation,
        "reminder_no_answer": lambda i, c, e, **kw: messages.queue_reminder(
            i, c, e, "no_answer", **kw
        ),
        "reminder_day_before": lambda i, c, e, **kw: messages.queue_reminder(
            i, c, e, "day_before", **kw
        ),
        "confirmation_accepted": messages.queue_answer_confirmation,
        "promotion": messages.queue_promotion,
        "event_update": messages.queue_event_update,
        "cancellation": messages.queue_cancellation,
    }
    return calls[kind]


KINDS = [
    "invitation",
    "reminder_no_answer",
    "reminder_day_before",
    "confirmation_accepted",
    "promotion",
    "event_update",
    "cancellation",
]
WITH_UNSUBSCRIBE = {"invitation", "reminder_no_answer", "reminder_day_before"}


@pytest.mark.parametrize("kind", KINDS)
async def test_every_kind_is_a_complete_personal_letter(
    database: Database, settings: Settings, letter: dict[str, Any], kind: str
) -> None:
    async with database.session(write=True) as session:
        row = queue_call(kind)(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
        await session.commit()

    assert (row.kind, row.event_id, row.invitee_id) == (
        kind,
        letter["event"].id,
        letter["invitee"].id,
    )
    assert row.recipient == "anna.mueller@example.com"
    assert row.status == OutboxStatus.queued
    message = parse(row.raw)
    # Text and HTML side by side; the calendar parts, where a kind has them, travel alongside.
    assert message.get_content_type() in {"multipart/alternative", "multipart/mixed"}
    alternative = next(
        part for part in message.walk() if part.get_content_type() == "multipart/alternative"
    )
    assert [part.get_content_type() for part in alternative.iter_parts()][:2] == [
        "text/plain",
        "text/html",
    ]
    assert message["To"] == "Anna Müller <anna.mueller@example.com>"
    assert message["Reply-To"] == "Olga Organizer <org@example.com>"
    assert message["Message-ID"] == row.message_id
    assert message["Date"]
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Subject"] == row.subject
    assert "Bloggertreffen Montabaur" in row.subject
    text, html = bodies(message)
    assert text.startswith("Hallo Anna Müller,")
    assert "Hallo Anna Müller," in html
    assert "Olga Organizer" in text
    # No tracking of any kind: no images, no pixels, no redirects through elsewhere.
    assert "<img" not in html
    assert "utm_" not in html
    assert "<script" not in html
    for url in re.findall(r'href="([^"]+)"', html):
        assert url.startswith(("http://testserver/", "https://www.openstreetmap.org/", "mailto:"))
    link = f"http://testserver/i/{letter['token']}"
    if kind == "cancellation":
        assert link not in text
        assert "abgesagt" in text
    else:
        assert link in text
        assert f'href="{link}"' in html
    if kind in WITH_UNSUBSCRIBE:
        unsubscribe = message["List-Unsubscribe"]
        assert re.fullmatch(r"<http://testserver/unsubscribe/\d+-[A-Za-z0-9_-]{32}>", unsubscribe)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert unsubscribe[1:-1] in text
        assert unsubscribe[1:-1] in html
    else:
        assert message["List-Unsubscribe"] is None
        assert message["List-Unsubscribe-Post"] is None


async def test_the_invitation_in_german_with_the_personal_intro(
    database: Database, settings: Settings, letter: dict[str, Any]
) -> None:
    async with database.session(write=True) as session:
        row = messages.queue_invitation(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
        await session.commit()
    message = parse(row.raw)
    text, html = bodies(message)

    assert message["Subject"] == "Einladung: Bloggertreffen Montabaur"
    # The organizer's own words, as Markdown: readable text, sanitized HTML.
    assert "wir würden uns **sehr** freuen." in text
    assert "<strong>sehr</strong>" in html
    assert "<img" not in html  # shown as text at most, never as an element
    # The event in its zone, in German.
    assert "14:00" in text
    assert "18:00" in text
    assert "MESZ" in text
    assert "Juli" in text
    assert "Firmenzentrale, Elgendorfer Straße 57, 56410 Montabaur" in text
    assert "https://www.openstreetmap.org/search?query=Firmenzentrale" in text
    assert "Bitte teilen Sie uns bis" in text  # the deadline, in a whole German sentence
    # ...written in German too, whatever language the organizer's request was in.
    deadline_line = next(line for line in text.splitlines() if "Bitte teilen Sie uns bis" in line)
    assert re.search(r"\d+\. \w+ \d{4}, \d\d:\d\d MES?Z", deadline_line), deadline_line
    assert "ob Sie jemanden mitbringen" in text  # plus-ones are allowed for this event
    assert "Auf die Einladung antworten" in html


async def test_the_same_letter_in_english(
    database: Database, settings: Settings, letter: dict[str, Any]
) -> None:
    letter["contact"].language = "en"
    letter["event"].plus_ones_allowed = False
    letter["event"].invitation_intro = ""
    async with database.session(write=True) as session:
        row = messages.queue_invitation(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
        await session.commit()
    message = parse(row.raw)
    text, html = bodies(message)

    assert message["Subject"] == "Invitation: Bloggertreffen Montabaur"
    assert text.startswith("Hello Anna Müller,")
    assert "We would like to invite you to “Bloggertreffen Montabaur”." in text
    assert "July" in text
    assert "14:00" in text
    assert "bringing someone along" not in text
    assert "Reply to the invitation" in html


@pytest.mark.parametrize(
    ("status", "position", "subject", "phrase"),
    [
        ("accepted", None, "Confirmed: you are coming to", "We are looking forward to seeing you!"),
        ("declined", None, "Your reply to the invitation to", "you cannot come"),
        ("maybe", None, "Your reply to the invitation to", "you might come"),
        ("waitlisted", 3, "You are on the waitlist for", "You are number 3 on the waitlist."),
    ],
)
async def test_confirmations_match_the_answer(
    database: Database,
    settings: Settings,
    letter: dict[str, Any],
    status: str,
    position: int | None,
    subject: str,
    phrase: str,
) -> None:
    letter["contact"].language = "en"
    letter["invitee"].status = InviteeStatus(status)
    async with database.session(write=True) as session:
        row = messages.queue_answer_confirmation(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
            position=position,
        )
        await session.commit()
    assert row.kind == f"confirmation_{status}"
    assert row.subject.startswith(subject)
    text, _html = bodies(parse(row.raw))
    assert phrase in text


async def test_no_confirmation_for_someone_who_did_not_answer(
    settings: Settings, letter: dict[str, Any], session: Any
) -> None:
    letter["invitee"].status = InviteeStatus.invited
    with pytest.raises(ValueError, match="no confirmation"):
        messages.queue_answer_confirmation(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
    with pytest.raises(ValueError, match="no such reminder"):
        messages.queue_reminder(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            "weekly",  # type: ignore[arg-type]
            session=session,
            settings=settings,
        )


async def test_hostile_names_and_titles_stay_inside_their_fields(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(
        session,
        title="Treffen\r\nBcc: victim@example.com <b>fett</b> %(name)s",
        contact_name="Olga\r\nX-Evil: 1",
    )
    contact = await factories.make_contact(
        session, name='Mallory "<script>alert(1)</script>"\r\nBcc: x@example.com', language="en"
    )
    invitee, _token = await invite(session, settings, event, contact)
    await session.commit()
    async with database.session(write=True) as writer:
        row = messages.queue_invitation(invitee, contact, event, session=writer, settings=settings)
        await writer.commit()

    message = parse(row.raw)
    assert message["Bcc"] is None
    assert message["X-Evil"] is None
    assert "\n" not in message["Subject"]
    assert message.get_all("To")
    assert len(message.get_all("To")) == 1
    _text, html = bodies(message)
    assert "<script>" not in html
    assert "<b>fett</b>" not in html
    assert "&lt;b&gt;fett&lt;/b&gt;" in html


async def test_the_preview_is_the_exact_invitation(
    database: Database, settings: Settings, letter: dict[str, Any]
) -> None:
    preview = messages.render_invitation_preview(
        letter["event"], letter["contact"], settings=settings
    )
    async with database.session(write=True) as session:
        row = messages.queue_invitation(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
        await session.commit()
    text, html = bodies(parse(row.raw))

    personal = f"http://testserver/i/{letter['token']}"
    stand_in = settings.absolute_url(messages.PREVIEW_LINK_PATH)
    unsubscribe = parse(row.raw)["List-Unsubscribe"][1:-1]
    stand_in_unsubscribe = settings.absolute_url(messages.PREVIEW_UNSUBSCRIBE_PATH)
    assert preview.subject == row.subject
    assert preview.text == text.replace(personal, stand_in).replace(
        unsubscribe, stand_in_unsubscribe
    )
    assert (
        preview.html.strip()
        == html.replace(personal, stand_in).replace(unsubscribe, stand_in_unsubscribe).strip()
    )


def test_kinds_have_labels_for_organizers() -> None:
    kinds = [*KINDS, "confirmation_declined", "confirmation_maybe", "confirmation_waitlisted"]
    labels = {messages.kind_label(kind) for kind in kinds}
    assert len(labels) == len(kinds)
    assert messages.kind_label("something_else") == "something_else"


async def test_a_link_is_needed_before_anything_is_queued(settings: Settings, session: Any) -> None:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session)
    invitee = await factories.make_invitee(session, event, contact)
    with pytest.raises(ValueError, match="no personal link"):
        messages.queue_invitation(invitee, contact, event, session=session, settings=settings)
    assert not [row for row in session.new if isinstance(row, OutboxMessage)]


async def test_answer_from_the_received_email_and_receive_the_confirmation(
    browser: Browser,
    database: Database,
    settings: Settings,
    session: Any,
    smtp_server: Any,
    deliver: Any,
) -> None:
    event = await factories.make_event(session, capacity=1)
    anna = await factories.make_contact(session, name="Anna Müller", language="de")
    bob = await factories.make_contact(
        session, name="Bob Brown", email="bob@example.com", language="en"
    )
    guests = [await invite(session, settings, event, person) for person in (anna, bob)]
    for (invitee, _token), person in zip(guests, (anna, bob), strict=True):
        messages.queue_invitation(invitee, person, event, session=session, settings=settings)
    await session.commit()

    report = await deliver()
    assert report.sent == 2
    received = {mail.recipients[0]: parse(mail.data) for mail in smtp_server.messages}
    anna_link = link_in(bodies(received["anna.mueller@example.com"])[0])
    bob_link = link_in(bodies(received["bob@example.com"])[0])
    assert anna_link != bob_link

    # Anna takes the only place; Bob, a moment later, joins the waitlist.
    page = await browser.get(anna_link)
    assert "Bloggertreffen Montabaur" in text_of(page.text)
    assert (await browser.submit(anna_link, {"answer": "accepted"})).status_code == 303
    assert (await browser.submit(bob_link, {"answer": "accepted"})).status_code == 303
    await deliver()
    confirmation = parse(smtp_server.messages[-2].data)
    assert confirmation["To"] == "Anna Müller <anna.mueller@example.com>"
    assert confirmation["Subject"] == "Bestätigt: Sie kommen zu Bloggertreffen Montabaur"
    assert anna_link in bodies(confirmation)[0]
    waitlisted = parse(smtp_server.messages[-1].data)
    assert waitlisted["Subject"] == "You are on the waitlist for Bloggertreffen Montabaur"
    assert "You are number 1 on the waitlist." in bodies(waitlisted)[0]

    # Anna cannot come after all: Bob moves up and is told.
    assert (await browser.submit(anna_link, {"answer": "declined"})).status_code == 303
    await deliver()
    subjects = {parse(mail.data)["Subject"] for mail in smtp_server.messages[-2:]}
    assert subjects == {
        "Ihre Antwort auf die Einladung zu Bloggertreffen Montabaur",
        "Good news: there is a place for you at Bloggertreffen Montabaur",
    }
    promoted = await fresh(session, Invitee, guests[1][0].id)
    assert promoted.status == InviteeStatus.accepted
    rows = await outbox_rows(session)
    assert all(row.status == OutboxStatus.sent for row in rows)
    assert len(smtp_server.messages) == len(rows) == 6
    assert (await fresh(session, Event, event.id)).seats_taken == 1


@pytest.mark.parametrize(
    ("kind", "subject", "sentence"),
    [
        (
            "reminder_no_answer",
            "Reminder: will you come to Bloggertreffen Montabaur?",
            "We have not heard from you yet about “Bloggertreffen Montabaur” and would be glad"
            " to know whether you can come.",
        ),
        (
            "reminder_day_before",
            "See you tomorrow: Bloggertreffen Montabaur",
            "We are looking forward to seeing you tomorrow at “Bloggertreffen Montabaur”.",
        ),
        (
            "promotion",
            "Good news: there is a place for you at Bloggertreffen Montabaur",
            "Good news: a place has become free at “Bloggertreffen Montabaur”, and it is yours.",
        ),
        (
            "cancellation",
            "Cancelled: Bloggertreffen Montabaur",
            "We are sorry to let you know that “Bloggertreffen Montabaur” on July 1,",
        ),
    ],
)
async def test_reminders_promotion_and_cancellation_in_english(
    database: Database,
    settings: Settings,
    letter: dict[str, Any],
    kind: str,
    subject: str,
    sentence: str,
) -> None:
    letter["contact"].language = "en"
    async with database.session(write=True) as session:
        row = queue_call(kind)(
            letter["invitee"],
            letter["contact"],
            letter["event"],
            session=session,
            settings=settings,
        )
        await session.commit()
    message = parse(row.raw)
    text, html = bodies(message)

    assert message["Subject"] == subject
    assert text.startswith("Hello Anna Müller,")
    # The sentence wraps nowhere in the text; the HTML escapes nothing in it but may wrap it.
    assert sentence in text
    assert " ".join(sentence.split()) in " ".join(text_of(html).split())
    # English throughout: none of the German wording slipped in.
    assert "Hallo" not in text
    assert "Bitte" not in text
