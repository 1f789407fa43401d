"""The invitation's personal note and reminder setting, with a preview of the exact e-mail before
anything is sent."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.db import utcnow
from meetups.events.models import Event
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import (
    GUESTS,
    SLUG,
    add_guest,
    body_text,
    flash_of,
    rows,
)
from tests.smtp import SmtpServer

INVITATION = f"/events/{SLUG}/invitation"


async def test_the_preview_shows_the_exact_email(editor: Browser, session: Any) -> None:
    event = await factories.make_event(session, rsvp_deadline=utcnow() + timedelta(days=14))
    guest = await add_guest(session, event, "Jonas Schmidt", language="en")
    await session.commit()

    page = await editor.get(INVITATION)
    for_jonas = await editor.get(INVITATION, params={"guest": str(guest.id)})

    assert page.status_code == 200
    text = text_of(page.text)
    assert "Bloggertreffen Montabaur" in text
    assert "Alex Beispiel" in text or "Alex Example" in text
    assert "/i/personal-link-of-the-guest" in page.text
    assert "Jonas Schmidt" in text_of(for_jonas.text)
    assert f'<option value="{guest.id}" selected>' in for_jonas.text


async def test_save_the_note_and_it_goes_into_the_invitations(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    event = await factories.make_event(session, rsvp_deadline=utcnow() + timedelta(days=14))
    await add_guest(session, event, "Anna Müller")
    await session.commit()

    note = "Liebe Bloggerinnen,\n\n**wir freuen uns** auf euch! <script>alert(1)</script>"
    response = await editor.submit(INVITATION, {"intro": note, "reminder_days": "5"})

    assert response.status_code == 303
    assert flash_of(response) == "The invitation is saved."
    stored = (await rows(session, select(Event)))[0]
    assert stored.invitation_intro.startswith("Liebe Bloggerinnen,")
    assert stored.reminder_days_before_deadline == 5
    page = await editor.get(INVITATION)
    assert "<strong>wir freuen uns</strong>" in page.text
    assert "<script>alert(1)</script>" not in page.text

    await editor.submit(f"{GUESTS}/invite")
    await deliver()
    message = smtp_server.messages[0].message
    assert "wir freuen uns" in body_text(message)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    assert "<script>" not in str(html.get_content())


async def test_preview_without_saving(editor: Browser, session: Any) -> None:
    await factories.make_event(session)
    await session.commit()

    plain = await editor.submit(
        INVITATION, {"intro": "Nur *ein Entwurf*", "reminder_days": "3", "action": "preview"}
    )
    live = await editor.submit(
        INVITATION,
        {
            "intro": "Live *getippt*",
            "reminder_days": "3",
            "action": "preview",
            "guest": "sample-en",
        },
        htmx=True,
    )

    assert plain.status_code == 200
    assert "<em>ein Entwurf</em>" in plain.text
    assert live.status_code == 200
    assert "<html" not in live.text
    assert "<em>getippt</em>" in live.text
    assert "Alex Example" in live.text
    assert (await rows(session, select(Event.invitation_intro)))[0] == ""


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"intro": "x" * 5001, "reminder_days": "3"}, "intro", "At most 5000 characters"),
        ({"intro": "", "reminder_days": "abc"}, "reminder_days", "whole number of days"),
        ({"intro": "", "reminder_days": "-1"}, "reminder_days", "whole number of days"),
        ({"intro": "", "reminder_days": "1e3"}, "reminder_days", "whole number of days"),
        ({"intro": "", "reminder_days": "61"}, "reminder_days", "At most 60 days"),
        ({"intro": "", "reminder_days": "9" * 50}, "reminder_days", "whole number of days"),
        ({"intro": "", "reminder_days": "٣"}, "reminder_days", "whole number of days"),
    ],
)
async def test_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    editor: Browser, session: Any, data: dict[str, str], field: str, message: str
) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.submit(INVITATION, data, htmx=True)

    assert response.status_code == 422
    assert f'id="e-{field}"' in response.text
    assert message in text_of(response.text)
    stored = (await rows(session, select(Event)))[0]
    assert stored.invitation_intro == ""
    assert stored.reminder_days_before_deadline == 3


@pytest.mark.parametrize(
    "guest", ["abc", "sample-xx", "sample-", "-1", "99999", "9" * 15, "<script>", "\x00"]
)
async def test_odd_preview_choices_show_the_sample_guest(
    editor: Browser, session: Any, guest: str
) -> None:
    await factories.make_event(session)
    await session.commit()

    page = await editor.get(INVITATION, params={"guest": guest})
    posted = await editor.submit(
        INVITATION, {"intro": "", "reminder_days": "3", "action": "preview", "guest": guest}
    )

    assert page.status_code == 200
    assert posted.status_code == 200
    assert "Alex Beispiel" in text_of(page.text)


async def test_a_guest_of_another_event_is_not_previewed(editor: Browser, session: Any) -> None:
    await factories.make_event(session)
    other = await factories.make_event(session, slug="anderes-treffen", title="Anderes Treffen")
    stranger = await add_guest(session, other, "Sam Stranger")
    await session.commit()

    page = await editor.get(INVITATION, params={"guest": str(stranger.id)})

    assert "Sam Stranger" not in text_of(page.text)


async def test_closed_events_keep_their_invitation(editor: Browser, session: Any) -> None:
    await factories.make_event(session, archived_at=utcnow())
    await session.commit()

    response = await editor.submit(INVITATION, {"intro": "Neu", "reminder_days": "2"})

    assert response.status_code == 422
    assert "cannot be changed any more" in text_of(response.text)
    assert (await rows(session, select(Event.invitation_intro)))[0] == ""
