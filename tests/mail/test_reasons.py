"""Delivery failures explained: the pages show a plain explanation in the reader's language next
to the mail server's own words, from the enhanced status code, the reply code, or our sender's
own wording when the server could not be reached."""

from typing import Any

import pytest

from meetups.i18n import use_locale
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.reasons import explain_failure
from tests import factories
from tests.conftest import Browser, text_of


@pytest.mark.parametrize(
    ("reason", "explanation"),
    [
        (
            "550 5.1.1 <bruno@example.org>: Recipient address rejected: User unknown",
            "mailbox does not exist",
        ),
        (
            "550-5.1.1 The email account that you tried to reach does not exist.",
            "mailbox does not exist",
        ),
        ("552 5.2.2 Mailbox full", "mailbox is full"),
        ("554 5.7.1 Message rejected: looks like spam", "spam protection or a policy"),
        ("550 5.7.26 Unauthenticated email is not accepted", "SPF, DKIM or DMARC"),
        ("550 5.1.2 Host unknown", "domain of the address does not exist"),
        ("552 5.3.4 Message size exceeds fixed limit", "too large"),
        ("550 No such user", "does not exist or is not available"),
        ("554 Transaction failed", "spam protection or a policy"),
        ("451 4.3.0 Temporary lookup failure", "try again later"),
        ("450 4.2.0 Something new", "try again later"),
        ("471 Local error", "refused for the time being"),
        ("530 5.7.0 Must issue a STARTTLS command first", "login or a secure connection"),
        ("452 Too many recipients", "try again later"),
        ("421 4.7.0 Try again later, closing connection", "busy or closed the connection"),
        ("599 Odd", "refused the message."),
        ("gave up after 9 attempts: 451 Greylisted", "try again later"),
        (
            "could not connect to smtp.example.com:587 (starttls): the mail server refused the "
            "login: 535 5.7.8 Authentication credentials invalid",
            "refused the login",
        ),
        (
            "could not connect to smtp.example.com:465 (tls): [Errno 111] Connection refused",
            "could not be reached",
        ),
        ("could not connect to 127.0.0.1:2525 (none): timed out", "could not be reached"),
        ("timed out", "broke off"),
        ("the connection to the mail server was lost", "broke off"),
        ("not a deliverable address: a@@b", "address is not valid"),
    ],
)
def test_failures_are_explained(reason: str, explanation: str) -> None:
    with use_locale("en"):
        assert explanation in (explain_failure(reason) or "")


@pytest.mark.parametrize(
    "reason",
    ["", None, "something nobody foresaw", "the server said <x250@example.org> is odd", "2500 x"],
)
def test_what_cannot_be_explained_is_left_to_the_servers_words(reason: str | None) -> None:
    assert explain_failure(reason) is None


def test_explanations_follow_the_readers_language() -> None:
    with use_locale("de"):
        german = explain_failure("550 5.1.1 User unknown")
    with use_locale("en"):
        english = explain_failure("550 5.1.1 User unknown")
    assert (
        english
        == "The mailbox does not exist: the address is probably mistyped or no longer in use."
    )
    assert german is not None
    assert "Postfach" in german


async def test_the_guest_list_explains_a_bounce_beside_the_servers_words(
    editor: Browser, session: Any
) -> None:
    event = await factories.make_event(session)
    contact = await factories.make_contact(session, name="Bruno Bounce")
    invitee = await factories.make_invitee(session, event, contact)
    reason = "550 5.1.1 <bruno@example.org>: Recipient address rejected: User unknown"
    message = OutboxMessage(
        message_id="<bounce@test>",
        kind="invitation",
        event_id=event.id,
        invitee_id=invitee.id,
        recipient=contact.email,
        subject="Einladung",
        raw="",
        status=OutboxStatus.failed,
        attempts=1,
        last_error=reason,
    )
    session.add(message)
    await session.commit()

    pages = [
        await editor.get(f"/events/{event.slug}/guests"),
        await editor.get(f"/events/{event.slug}/guests/{invitee.id}"),
        await editor.get(f"/events/{event.slug}/emails"),
        await editor.get(f"/events/{event.slug}/emails/{message.id}"),
    ]

    for page in pages:
        assert page.status_code == 200, page.request.url
        text = text_of(page.text)
        assert "The mailbox does not exist" in text, page.request.url
        assert "User unknown" in text, page.request.url  # the server's words stay
        assert "&lt;bruno@example.org&gt;" in page.text  # as text, never as markup
