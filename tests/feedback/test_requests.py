"""Asking for feedback: the request the morning after the event (or a set delay) to those who
attended, one reminder before the form closes to those who have not answered, "send it now",
and never the same request twice."""

import email
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from meetups.checkin.models import CheckIn
from meetups.db import utcnow
from meetups.errors import DomainError
from meetups.events.models import EventStatus
from meetups.feedback import requests
from meetups.feedback.models import FeedbackRequest, FeedbackSettings
from meetups.invitations.models import InviteeStatus, Suppression
from meetups.mail.models import OutboxMessage
from meetups.mail.scheduler import registered_hooks
from tests.feedback.helpers import answer, attendee, by_kind, default_form, past_event, rows

BERLIN = ZoneInfo("Europe/Berlin")


def _local(*args: int, zone: ZoneInfo = BERLIN) -> datetime:
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("ends", "zone", "due"),
    [
        # Summer time: 18:00 CEST on the 14th, so 9:00 CEST (7:00 UTC) on the 15th.
        (_local(2026, 5, 14, 18), "Europe/Berlin", datetime(2026, 5, 15, 7, tzinfo=UTC)),
        # Winter time: 9:00 CET is 8:00 UTC.
        (_local(2026, 12, 3, 18), "Europe/Berlin", datetime(2026, 12, 4, 8, tzinfo=UTC)),
        # The clocks go forward in the night after the event: 9:00 is already summer time.
        (_local(2026, 3, 28, 23, 30), "Europe/Berlin", datetime(2026, 3, 29, 7, tzinfo=UTC)),
        # Another zone: 9:00 in New York.
        (
            _local(2026, 5, 14, 20, zone=ZoneInfo("America/New_York")),
            "America/New_York",
            datetime(2026, 5, 15, 13, tzinfo=UTC),
        ),
    ],
)
def test_the_request_goes_out_the_morning_after_at_nine_in_the_events_zone(
    ends: datetime, zone: str, due: datetime
) -> None:
    from meetups.events.models import Event

    event = Event(
        slug="x", title="x", starts_at=ends - timedelta(hours=4), ends_at=ends, timezone=zone
    )
    options = FeedbackSettings(event_id=1)
    assert requests.request_due_at(event, options) == due
    options.request_delay_hours = 2
    assert requests.request_due_at(event, options) == ends + timedelta(hours=2)
    options.request_delay_hours = 0
    assert requests.request_due_at(event, options) == ends


async def _sent(session: Any, kind: str | None = None) -> list[OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.recipient)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return await rows(session, query)


def _parsed(message: OutboxMessage) -> EmailMessage:
    return email.message_from_string(message.raw, _class=EmailMessage, policy=default_policy)  # type: ignore[return-value]


def _text(message: OutboxMessage) -> str:
    return _parsed(message).get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def _event_with_guests(session: Any, settings: Any, **fields: Any) -> dict[str, Any]:
    archived_at = fields.pop("archived_at", None)
    event = await past_event(session, **fields)
    await default_form(session, event)
    event.archived_at = archived_at
    anna, anna_token = await attendee(session, settings, event, "Anna Müller", language="de")
    ben, _ = await attendee(session, settings, event, "Ben Baker")
    await attendee(session, settings, event, "Dora Declined", status=InviteeStatus.declined)
    await attendee(session, settings, event, "Ida Invited", status=InviteeStatus.invited)
    await session.commit()
    options = FeedbackSettings(event_id=event.id)
    return {
        "event": event,
        "anna": anna,
        "anna_token": anna_token,
        "ben": ben,
        "due": requests.request_due_at(event, options),
    }


async def test_the_worker_asks_those_who_attended_once(session: Any, settings: Any) -> None:
    arranged = await _event_with_guests(session, settings)
    due = arranged["due"]

    run = await requests.queue_due_feedback(
        session=session, settings=settings, now=due - timedelta(minutes=1)
    )
    assert run.requests == 0
    run = await requests.queue_due_feedback(session=session, settings=settings, now=due)
    await session.commit()
    assert run.requests == 2
    again = await requests.queue_due_feedback(
        session=session, settings=settings, now=due + timedelta(hours=1)
    )
    await session.commit()
    assert again.requests == 0

    sent = await _sent(session, "feedback_request")
    assert [m.recipient for m in sent] == ["anna.muller@example.org", "ben.baker@example.org"]
    anna = next(m for m in sent if m.recipient.startswith("anna"))
    assert (
        "„Blogger-Feedback Montabaur“" in anna.subject
        or "“Blogger-Feedback Montabaur”" in anna.subject
    )
    assert anna.invitee_id == arranged["anna"].id
    assert f"/i/{arranged['anna_token']}/feedback" in _text(anna)
    assert _parsed(anna).get_body(("html",)) is not None
    requested = await rows(session, select(FeedbackRequest))
    assert sorted(r.kind for r in requested) == ["request", "request"]


async def test_the_hook_registered_with_the_worker_does_the_same(
    session: Any, settings: Any, database: Any
) -> None:
    arranged = await _event_with_guests(session, settings)
    hook = next(h for h in registered_hooks() if h.__name__ == "send_due_feedback")
    for _round in range(2):
        await hook(database=database, settings=settings, now=arranged["due"])
    assert len(await _sent(session, "feedback_request")) == 2


async def test_once_check_in_was_used_only_those_checked_in_are_asked(
    session: Any, settings: Any
) -> None:
    arranged = await _event_with_guests(session, settings)
    session.add(CheckIn(invitee_id=arranged["ben"].id, event_id=arranged["event"].id))
    await session.commit()
    run = await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    await session.commit()
    assert run.requests == 1
    assert [m.recipient for m in await _sent(session)] == ["ben.baker@example.org"]


async def test_unsubscribed_addresses_are_left_out(session: Any, settings: Any) -> None:
    arranged = await _event_with_guests(session, settings)
    session.add(Suppression(email="ben.baker@example.org", reason="unsubscribed"))
    await session.commit()
    run = await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    await session.commit()
    assert run.requests == 1
    assert [m.recipient for m in await _sent(session)] == ["anna.muller@example.org"]


@pytest.mark.parametrize(
    "change",
    [
        {"feedback_enabled": False},
        {"status": EventStatus.cancelled},
        {"status": EventStatus.draft},
        {"archived_at": utcnow()},
    ],
)
async def test_nothing_is_asked_for_events_that_do_not_want_feedback(
    session: Any, settings: Any, change: dict[str, Any]
) -> None:
    arranged = await _event_with_guests(session, settings, **change)
    run = await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    assert run.requests == 0


async def test_nothing_is_asked_without_questions_or_after_the_form_closed(
    session: Any, settings: Any
) -> None:
    event = await past_event(session)
    await attendee(session, settings, event, "Anna Müller")
    await session.commit()
    now = utcnow() + timedelta(days=1)
    assert (
        await requests.queue_due_feedback(session=session, settings=settings, now=now)
    ).requests == 0
    await default_form(session, event)
    await session.commit()
    closed = event.feedback_closes_at
    late = await requests.queue_due_feedback(session=session, settings=settings, now=closed)
    assert late.requests == 0


async def test_one_reminder_goes_to_those_who_have_not_answered(
    session: Any, settings: Any
) -> None:
    arranged = await _event_with_guests(session, settings, anonymous=True)
    event = arranged["event"]
    await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    await session.commit()
    # Anna answers (anonymously); Ben does not.
    from meetups.feedback.forms import questions_of

    questions = await questions_of(event, session=session)
    required = {questions[0].field_name: "5", by_kind(questions, "nps").field_name: "10"}
    await answer(session, settings, event, arranged["anna"], required)
    await session.commit()

    reminder_at = event.feedback_closes_at - timedelta(days=3)
    early = await requests.queue_due_feedback(
        session=session, settings=settings, now=reminder_at - timedelta(minutes=1)
    )
    assert early.reminders == 0
    run = await requests.queue_due_feedback(session=session, settings=settings, now=reminder_at)
    await session.commit()
    assert run.reminders == 1
    again = await requests.queue_due_feedback(
        session=session, settings=settings, now=reminder_at + timedelta(days=1)
    )
    await session.commit()
    assert again.reminders == 0
    reminders = await _sent(session, "feedback_reminder")
    assert [m.recipient for m in reminders] == ["ben.baker@example.org"]
    assert "/feedback" in _text(reminders[0])


async def test_no_reminder_when_switched_off_or_right_after_the_request(
    session: Any, settings: Any
) -> None:
    arranged = await _event_with_guests(session, settings)
    event = arranged["event"]
    reminder_at = event.feedback_closes_at - timedelta(days=3)
    # The request goes out only now (the worker was down): no reminder within a day of it.
    await requests.queue_due_feedback(session=session, settings=settings, now=reminder_at)
    await session.commit()
    assert len(await _sent(session, "feedback_reminder")) == 0
    later = reminder_at + timedelta(hours=25)
    run = await requests.queue_due_feedback(session=session, settings=settings, now=later)
    await session.commit()
    assert run.reminders == 2


async def test_no_reminder_when_switched_off(session: Any, settings: Any) -> None:
    arranged = await _event_with_guests(session, settings)
    event = arranged["event"]
    options = await session.get(FeedbackSettings, event.id)
    options.reminder_days_before_close = 0
    await session.commit()
    await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    await session.commit()
    last_hour = event.feedback_closes_at - timedelta(hours=1)
    run = await requests.queue_due_feedback(session=session, settings=settings, now=last_hour)
    assert run.reminders == 0


async def test_organizers_can_send_it_now_and_nobody_gets_it_twice(
    session: Any, settings: Any
) -> None:
    arranged = await _event_with_guests(session, settings)
    event = arranged["event"]
    session.add(Suppression(email="ben.baker@example.org", reason="unsubscribed"))
    await session.commit()
    report = await requests.send_now(event, session=session, settings=settings)
    await session.commit()
    assert [c.name for c in report.sent] == ["Anna Müller"]
    assert [c.name for c in report.suppressed] == ["Ben Baker"]
    second = await requests.send_now(event, session=session, settings=settings)
    await session.commit()
    assert second.sent == []
    assert [c.name for c in second.already] == ["Anna Müller"]
    # The worker does not send it again either.
    run = await requests.queue_due_feedback(session=session, settings=settings, now=arranged["due"])
    assert run.requests == 0
    assert len(await _sent(session, "feedback_request")) == 1


async def test_sending_now_is_refused_before_the_event_is_over(session: Any, settings: Any) -> None:
    event = await past_event(
        session,
        starts_at=utcnow() + timedelta(days=1),
        ends_at=utcnow() + timedelta(days=1, hours=4),
        feedback_closes_at=utcnow() + timedelta(days=15),
    )
    with pytest.raises(DomainError, match="no questions"):
        await requests.send_now(event, session=session, settings=settings)
    await default_form(session, event)
    with pytest.raises(DomainError, match="when the event is over"):
        await requests.send_now(event, session=session, settings=settings)


async def test_the_request_arrives_and_its_link_opens_the_form(
    session: Any, settings: Any, deliver: Any, smtp_server: Any, browser: Any
) -> None:
    """End to end: the worker (scheduler hook first) sends the request to a real SMTP server;
    the link in the received e-mail opens the feedback form."""
    ends = utcnow() - timedelta(days=2)
    await _event_with_guests(
        session,
        settings,
        starts_at=ends - timedelta(hours=4),
        ends_at=ends,
        feedback_closes_at=ends + timedelta(days=14),
    )
    await deliver(hooks=True)
    received = [
        m
        for m in smtp_server.messages
        if "feedback" in m.message.get_body(("plain",)).get_content()
    ]
    assert sorted(r for m in received for r in m.recipients) == [
        "anna.muller@example.org",
        "ben.baker@example.org",
    ]
    text = next(m for m in received if "ben.baker" in m.recipients[0]).message
    body = text.get_body(("plain",)).get_content()
    match = re.search(r"https?://[^/\s]+(/i/[A-Za-z0-9_-]{32}/feedback)", body)
    assert match, body
    page = await browser.get(match.group(1))
    assert page.status_code == 200
    assert "How did you like the event overall?" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"
