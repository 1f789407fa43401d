"""The whole round, with a real SMTP server: the organizer invites, the worker delivers, the
invitee follows the link in the received e-mail and accepts, the worker delivers the confirmation,
and the organizer sees the answer and both e-mails."""

from typing import Any

from meetups.invitations.models import InviteeStatus
from meetups.mail.models import OutboxStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import (
    GUESTS,
    SLUG,
    add_guest,
    body_text,
    link_path,
    outbox,
    stat,
    statuses,
)
from tests.smtp import SmtpServer


async def test_invite_receive_follow_the_link_accept_and_get_the_confirmation(
    editor: Browser,
    app: Any,
    session: Any,
    settings: Any,
    deliver: Any,
    smtp_server: SmtpServer,
) -> None:
    event = await factories.make_event(session, capacity=10, plus_ones_allowed=True)
    await add_guest(session, event, "Anna Müller", email="anna@example.org", language="de")
    await session.commit()

    # The organizer sends the invitation; the worker hands it to the SMTP server.
    await editor.submit(f"{GUESTS}/invite")
    assert (await deliver()).sent == 1

    invitation = smtp_server.messages[0]
    assert invitation.recipients == ["anna@example.org"]
    message = invitation.message
    assert "Bloggertreffen Montabaur" in str(message["Subject"])
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_body(preferencelist=("html",)) is not None
    path = link_path(body_text(message))

    # Anna follows the link from the e-mail and accepts, in a browser of her own.
    async with Browser(app, settings.secret) as anna:
        page = await anna.get(path)
        assert page.status_code == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "Bloggertreffen Montabaur" in page.text
        assert '<html lang="de"' in page.text
        answered = await anna.submit(path, {"answer": "accepted", "lang": "de"})
        assert answered.status_code == 303

    # The confirmation goes out with the next round of the worker.
    assert (await deliver()).sent == 1
    confirmation = smtp_server.messages[1]
    assert confirmation.recipients == ["anna@example.org"]
    assert confirmation.message_id != invitation.message_id
    assert link_path(body_text(confirmation.message)) == path

    assert await statuses(session, event) == {"Anna Müller": InviteeStatus.accepted.value}
    rows = await outbox(session)
    assert [row.kind for row in rows] == ["invitation", "confirmation_accepted"]
    assert all(row.status == OutboxStatus.sent for row in rows)
    assert [row.message_id for row in rows] == [invitation.message_id, confirmation.message_id]

    # The organizer sees the answer, the opened link and both e-mails.
    guests = await editor.get(GUESTS)
    assert stat(guests.text, "accepted") == "1"
    assert stat(guests.text, "opened") == "1"
    assert stat(guests.text, "invited") == "0"  # nobody left without an answer
    emails = text_of((await editor.get(f"/events/{SLUG}/emails")).text)
    assert "Invitation" in emails
    assert "Confirmation: accepted" in emails
    assert emails.count("Sent") >= 2
    attendees = text_of((await editor.get(f"/events/{SLUG}/attendees")).text)
    assert "Anna Müller" in attendees
