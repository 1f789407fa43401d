"""Telling someone by e-mail that they were taken off the guest list: offered on the confirmation
page, queued in the removal's transaction, delivered in their language with the organizer's note
and without a personal link, and listed on the event's Emails tab."""

from typing import Any

from sqlmodel import select

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.invitations.models import Invitee, InviteeStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import (
    GUESTS,
    SLUG,
    add_guest,
    body_text,
    flash_of,
    outbox,
    rows,
    statuses,
    suppress,
)
from tests.smtp import SmtpServer

EMAILS = f"/events/{SLUG}/emails"
NOTE = "Leider ist der Saal kleiner als geplant.\nWir melden uns zum nächsten Treffen! <b>Danke</b>"


def html_of(mail: Any) -> str:
    part = mail.message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())


def checkbox_checked(html: str) -> bool:
    start = html.index('id="f-tell"')
    return " checked" in html[start : html.index(">", start)]


async def accepted(
    session: Any, event: Event, name: str, settings: Settings, **fields: Any
) -> Invitee:
    """An invited guest who accepted (one place unless told otherwise)."""
    values = {"status": InviteeStatus.accepted, "responded_at": utcnow(), "seats": 1, **fields}
    return await add_guest(session, event, name, settings=settings, **values)


async def waitlisted(
    session: Any, event: Event, name: str, settings: Settings, **fields: Any
) -> Invitee:
    values = {
        "status": InviteeStatus.waitlisted,
        "responded_at": utcnow(),
        "waitlisted_at": utcnow(),
        **fields,
    }
    return await add_guest(session, event, name, settings=settings, **values)


async def test_an_accepted_guest_is_told_in_english_with_the_note_and_the_waitlist_moves_up(
    editor: Browser,
    session: Any,
    settings: Settings,
    deliver: Any,
    smtp_server: SmtpServer,
) -> None:
    event = await factories.make_event(session, capacity=1, seats_taken=1)
    lea = await accepted(session, event, "Lea Schneider", settings, language="en")
    jonas = await waitlisted(session, event, "Jonas Schmidt", settings)
    await session.commit()

    question = await editor.get(f"{GUESTS}/{lea.id}/remove")
    assert checkbox_checked(question.text)  # she expects to come: told unless unticked
    assert "Tell them by e-mail" in text_of(question.text)
    assert "A short e-mail in English" in text_of(question.text)
    response = await editor.submit(
        f"{GUESTS}/{lea.id}/remove", {"confirm": "yes", "tell": "on", "note": NOTE}
    )

    assert response.status_code == 303
    flash = flash_of(response)
    assert "Lea Schneider is no longer on the guest list. 1 place is free again." in flash
    assert "Moved up from the waitlist and told by e-mail: Jonas Schmidt." in flash
    assert "An e-mail to tell them is on its way." in flash
    assert await statuses(session, event) == {"Jonas Schmidt": "accepted"}
    queued = await outbox(session)
    assert sorted((row.kind, row.invitee_id) for row in queued) == [
        ("promotion", jonas.id),
        ("removal", None),  # her guest-list row is gone; the message still belongs to the event
    ]
    removal = next(row for row in queued if row.kind == "removal")
    assert (removal.event_id, removal.recipient, removal.recipient_name) == (
        event.id,
        "lea.schneider@example.org",
        "Lea Schneider",
    )

    report = await deliver()

    assert report.sent == 2
    mail = next(m for m in smtp_server.messages if "lea.schneider@example.org" in m.recipients)
    message = mail.message
    assert message["Subject"] == "A change to your invitation to Bloggertreffen Montabaur"
    assert "org@example.com" in str(message["Reply-To"])
    text = body_text(message).replace("\r\n", "\n")  # the wire ends lines with CRLF
    assert text.startswith("Hello Lea Schneider,")
    assert "you are no longer on the guest list for “Bloggertreffen Montabaur”" in text
    assert "Leider ist der Saal kleiner als geplant.\nWir melden uns zum nächsten Treffen!" in text
    assert "If you have added the event to your calendar, please delete it there." in text
    assert "The personal link in our earlier e-mails no longer works." in text
    assert "Kind regards\nOlga Organizer" in text
    html = html_of(mail)
    assert "Treffen! &lt;b&gt;Danke&lt;/b&gt;" in html  # plain text, never markup
    assert "geplant.<br>Wir melden" in html
    for content in (text, html, mail.data.decode()):
        assert "/i/" not in content  # no personal link: it stopped working
    assert not [part for part in message.walk() if part.get_content_type() == "text/calendar"]


async def test_a_german_guest_is_told_in_german(
    editor: Browser, session: Any, settings: Settings, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session, plus_ones_allowed=True, seats_taken=2)
    anna = await accepted(session, event, "Anna Müller", settings, seats=2, plus_one_name="Bernd")
    await session.commit()

    response = await editor.submit(
        f"{GUESTS}/{anna.id}/remove", {"confirm": "yes", "tell": "on", "note": ""}
    )
    await deliver()

    assert response.status_code == 303
    [mail] = smtp_server.messages
    with i18n.use_locale("de"):
        subject = i18n.gettext(
            "A change to your invitation to %(title)s", title="Bloggertreffen Montabaur"
        )
        first = i18n.gettext(
            "We are sorry to let you know that you are no longer on the guest list for "
            "“%(title)s” on %(date)s.",
            title="Bloggertreffen Montabaur",
            date=i18n.format_date(event.starts_at, event.timezone, "long"),
        )
        companion = i18n.gettext(
            "This also applies to %(name)s, whom you wanted to bring along.", name="Bernd"
        )
    assert mail.message["Subject"] == subject
    text = body_text(mail.message).replace("\r\n", "\n")
    assert text.startswith("Hallo Anna Müller,")
    assert first in text
    assert companion in text
    assert "Bei Fragen antworten Sie einfach auf diese E-Mail." in text
    assert "Viele Grüße\nOlga Organizer" in text
    assert 'lang="de"' in html_of(mail)


async def test_the_emails_tab_lists_the_notice_as_sent_to_them(
    editor: Browser, session: Any, settings: Settings, deliver: Any
) -> None:
    event = await factories.make_event(session)
    lea = await waitlisted(session, event, "Lea Schneider", settings, language="en")
    await session.commit()

    question = await editor.get(f"{GUESTS}/{lea.id}/remove")
    assert checkbox_checked(question.text)  # waiting for a place: told unless unticked
    await editor.submit(f"{GUESTS}/{lea.id}/remove", {"confirm": "yes", "tell": "on"})
    await deliver()
    [row] = await outbox(session)

    page = text_of((await editor.get(EMAILS)).text)
    shown = text_of((await editor.get(f"{EMAILS}/{row.id}")).text)

    assert "Lea Schneider lea.schneider@example.org Taken off the guest list" in page
    assert "A change to your invitation to Bloggertreffen Montabaur" in page
    assert "1 Sent" in page
    assert "you are no longer on the guest list" in shown
    # Not in her calendar (she was waiting for a place): nothing to delete there.
    assert "delete it there" not in shown


async def test_nobody_is_told_when_the_box_is_unticked(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    anna = await accepted(session, event, "Anna Müller", settings)
    await session.commit()

    response = await editor.submit(f"{GUESTS}/{anna.id}/remove", {"confirm": "yes"})

    assert response.status_code == 303
    assert "They were not told by e-mail." in flash_of(response)
    assert await statuses(session, event) == {}
    assert await outbox(session) == []


async def test_those_who_did_not_expect_to_come_are_asked_unticked(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    invited = await add_guest(session, event, "Anna Müller", settings=settings)
    declined = await add_guest(
        session,
        event,
        "Jonas Schmidt",
        settings=settings,
        status=InviteeStatus.declined,
        responded_at=utcnow(),
    )
    await session.commit()

    for guest in (invited, declined):
        page = await editor.get(f"{GUESTS}/{guest.id}/remove")
        assert page.status_code == 200
        assert not checkbox_checked(page.text)
        assert 'name="note"' in page.text


async def test_people_not_invited_yet_are_never_told(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    one_click = await add_guest(session, event, "Anna Müller")
    answered = await add_guest(session, event, "Jonas Schmidt", responded_at=utcnow())
    await session.commit()

    listing = await editor.get(GUESTS)
    assert f'hx-post="{GUESTS}/{one_click.id}/remove"' in listing.text
    question = await editor.get(f"{GUESTS}/{answered.id}/remove")
    assert 'name="tell"' not in question.text
    assert "They have not been invited, so they are not told by e-mail." in text_of(question.text)

    removed = await editor.submit(
        f"{GUESTS}/{one_click.id}/remove", {"tell": "on", "note": "Hallo"}, htmx=True
    )
    confirmed = await editor.submit(
        f"{GUESTS}/{answered.id}/remove", {"confirm": "yes", "tell": "on"}
    )

    assert removed.status_code == 204
    assert removed.headers["HX-Redirect"] == GUESTS
    assert confirmed.status_code == 303
    assert flash_of(confirmed) == "Jonas Schmidt is no longer on the guest list."
    assert await statuses(session, event) == {}
    assert await outbox(session) == []


async def test_suppressed_and_deleted_addresses_are_not_told(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    udo = await accepted(session, event, "Udo Unsubscribed", settings, email="udo@example.org")
    await suppress(session, "udo@example.org")
    gone = await add_guest(session, event, "Gone Person", settings=settings)
    contact = await session.get(Contact, gone.contact_id)
    contact.anonymized_at = utcnow()
    session.add(contact)
    await session.commit()

    question = text_of((await editor.get(f"{GUESTS}/{udo.id}/remove")).text)
    assert "Tell them by e-mail" not in question
    assert (
        "They cannot be told by e-mail: their address gets no e-mail from us any more" in question
    )
    assert "Unsubscribed with the link in one of our e-mails" in question
    deleted = text_of((await editor.get(f"{GUESTS}/{gone.id}/remove")).text)
    assert "This contact was deleted, so nothing can be sent to them." in deleted

    # A form sent anyway (an old page, or by hand) tells nobody either.
    responses = [
        await editor.submit(f"{GUESTS}/{guest.id}/remove", {"confirm": "yes", "tell": "on"})
        for guest in (udo, gone)
    ]

    for response in responses:
        assert response.status_code == 303
        assert "They were not told: no e-mail can be sent to their address." in flash_of(response)
    assert await statuses(session, event) == {}
    assert await outbox(session) == []


async def test_a_note_that_is_too_long_changes_nothing(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session, seats_taken=1)
    anna = await accepted(session, event, "Anna Müller", settings)
    await session.commit()
    long_note = "Sehr lang. " * 100

    response = await editor.submit(
        f"{GUESTS}/{anna.id}/remove", {"confirm": "yes", "tell": "on", "note": long_note}
    )

    assert response.status_code == 422
    text = text_of(response.text)
    assert "The note is too long: at most 1000 characters, please." in text
    assert 'aria-invalid="true"' in response.text
    assert long_note.strip() in response.text  # what they wrote is kept for shortening
    assert checkbox_checked(response.text)
    assert await statuses(session, event) == {"Anna Müller": "accepted"}
    assert await rows(session, select(Event.seats_taken)) == [1]
    assert await outbox(session) == []


async def test_a_note_without_the_email_is_refused(
    editor: Browser, session: Any, settings: Settings
) -> None:
    event = await factories.make_event(session)
    anna = await add_guest(session, event, "Anna Müller", settings=settings)
    await session.commit()

    response = await editor.submit(
        f"{GUESTS}/{anna.id}/remove", {"confirm": "yes", "note": "Bis bald!"}
    )

    assert response.status_code == 422
    assert "The note is only sent with the e-mail" in text_of(response.text)
    assert not checkbox_checked(response.text)
    assert len(await rows(session, select(Invitee))) == 1
    assert await outbox(session) == []
