"""The Emails tab: every message sent for an event with its delivery status, filters, and one
message as it went out."""

from typing import Any

import pytest

from meetups.mail.models import OutboxStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import GUESTS, SLUG, add_guest, outbox, suppress
from tests.smtp import SmtpServer

EMAILS = f"/events/{SLUG}/emails"


async def _three_sent_one_failed(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> Any:
    event = await factories.make_event(session)
    for name in ("Anna Müller", "Jonas Schmidt", "Lea Schneider"):
        await add_guest(session, event, name)
    await add_guest(session, event, "Bruno Bounce", email="bruno@example.org")
    await session.commit()
    smtp_server.behaviour.refuse_recipients = {"bruno@example.org": "550 5.1.1 No such user"}
    await editor.submit(f"{GUESTS}/invite")
    await deliver()
    return event


async def test_the_tab_lists_every_email_with_its_fate(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    await _three_sent_one_failed(editor, session, deliver, smtp_server)

    page = await editor.get(EMAILS)

    assert page.status_code == 200
    assert f'href="{EMAILS}" aria-current="page"' in page.text  # its own tab
    text = text_of(page.text)
    for name in ("Anna Müller", "Jonas Schmidt", "Lea Schneider", "Bruno Bounce"):
        assert name in text
    assert text.count("Invitation") >= 4
    assert "550 5.1.1 No such user" in text
    assert "4 All e-mails" in text
    assert "3 Sent" in text
    assert "1 Failed" in text
    assert "every 3s" not in page.text

    failed = await editor.get(f"{EMAILS}?status=failed")
    assert "Bruno Bounce" in text_of(failed.text)
    assert "Anna Müller" not in text_of(failed.text)
    by_kind = await editor.get(f"{EMAILS}?kind=invitation&status=sent")
    assert "Anna Müller" in text_of(by_kind.text)
    assert "Bruno Bounce" not in text_of(by_kind.text)


async def test_the_tab_updates_itself_while_anything_waits(
    editor: Browser, session: Any, deliver: Any
) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Anna Müller")
    await session.commit()
    await editor.submit(f"{GUESTS}/invite")

    waiting = await editor.get(EMAILS)
    fragment = await editor.get(EMAILS, headers={"HX-Request": "true", "HX-Target": "emails"})
    await deliver()
    done = await editor.get(EMAILS, headers={"HX-Request": "true", "HX-Target": "emails"})

    assert 'hx-trigger="every 3s"' in waiting.text
    assert "Queued" in text_of(waiting.text)
    assert "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="emails"')
    assert "every 3s" not in done.text
    assert "Sent" in text_of(done.text)


async def test_one_email_as_it_went_out(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    await _three_sent_one_failed(editor, session, deliver, smtp_server)
    rows = await outbox(session)
    failed = next(row for row in rows if row.status == OutboxStatus.failed)

    page = await editor.get(f"{EMAILS}/{failed.id}")

    assert page.status_code == 200
    text = text_of(page.text)
    assert failed.subject in text
    assert "550 5.1.1 No such user" in text
    assert "bruno@example.org" in text
    assert "Plain text" in text
    assert "HTML" in text
    assert "<script" not in page.text.split("</head>")[1]


async def test_emails_of_another_event_are_not_shown(
    editor: Browser, session: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    await _three_sent_one_failed(editor, session, deliver, smtp_server)
    other = await factories.make_event(session, slug="anderes-treffen", title="Anderes Treffen")
    await session.commit()
    rows = await outbox(session)

    page = await editor.get("/events/anderes-treffen/emails")
    message = await editor.get(f"/events/anderes-treffen/emails/{rows[0].id}")

    assert other.id is not None
    assert "No e-mail has been sent for this event yet." in text_of(page.text)
    assert message.status_code == 404


async def test_viewers_see_the_emails(viewer: Browser, session: Any, settings: Any) -> None:
    event = await factories.make_event(session)
    await add_guest(session, event, "Udo Unsubscribed", email="udo@example.org")
    await suppress(session, "udo@example.org")
    await session.commit()

    page = await viewer.get(EMAILS)

    assert page.status_code == 200
    assert "No e-mail has been sent for this event yet." in text_of(page.text)


@pytest.mark.parametrize(
    "params",
    [
        {"status": "<script>alert(1)</script>"},
        {"kind": "x" * 5000},
        {"kind": "'; DROP TABLE outbox_message; --"},
        {"page": "abc"},
        {"page": "9" * 50},
        {"status": "failed", "kind": "\x00"},
    ],
)
async def test_odd_filters_are_harmless(
    editor: Browser, session: Any, params: dict[str, str]
) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.get(EMAILS, params=params)

    assert response.status_code == 200
    assert "<script>alert" not in response.text


@pytest.mark.parametrize("message_id", ["abc", "0", "-5", "99999", "9" * 40])
async def test_odd_message_addresses_are_not_found(
    editor: Browser, session: Any, message_id: str
) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await editor.get(f"{EMAILS}/{message_id}")

    assert response.status_code == 404


async def test_signing_in_is_needed(browser: Browser, session: Any, admin: Any) -> None:
    await factories.make_event(session)
    await session.commit()

    response = await browser.get(EMAILS)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
