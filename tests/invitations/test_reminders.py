"""Reminders: scheduled by the mail worker (to answer, days before the deadline; the day before the
event, to those who accepted), reminding by hand, and never the same reminder twice."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from meetups.contacts.models import Contact
from meetups.db import Database, create_engine, utcnow
from meetups.events.models import EventStatus
from meetups.invitations import reminders
from meetups.invitations.models import InviteeStatus
from meetups.mail.scheduler import registered_hooks
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import (
    GUESTS,
    add_guest,
    body_text,
    flash_of,
    outbox,
    reminders_of,
    suppress,
)
from tests.smtp import SmtpServer

NO_ANSWER = "reminder_no_answer"
DAY_BEFORE = "reminder_day_before"


async def _run(database: Database, settings: Any, now: Any) -> None:
    await reminders.send_due_reminders(database=database, settings=settings, now=now)


async def _reminded(session: Any, kind: str) -> list[int]:
    return sorted(row.invitee_id for row in await outbox(session, kind=kind))  # type: ignore[misc]


async def _event_with_deadline_soon(session: Any, **fields: Any) -> Any:
    now = utcnow()
    values = {
        "starts_at": now + timedelta(days=10),
        "rsvp_deadline": now + timedelta(days=2),
        "reminder_days_before_deadline": 3,
        **fields,
    }
    return await factories.make_event(session, **values)


def test_the_reminder_hook_is_registered_with_the_worker() -> None:
    assert reminders.send_due_reminders in registered_hooks()


async def test_no_answer_reminders_go_only_to_the_invited_who_have_not_answered(
    session: Any, database: Database, settings: Any
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session)
    waiting = await add_guest(
        session, event, "Anna Wartend", settings=settings, invited_at=now - timedelta(days=5)
    )
    fresh = await add_guest(
        session, event, "Fritz Frisch", settings=settings, invited_at=now - timedelta(hours=2)
    )
    for status, name in [
        (InviteeStatus.accepted, "Ali Zusage"),
        (InviteeStatus.maybe, "Mia Vielleicht"),
        (InviteeStatus.declined, "Dora Absage"),
        (InviteeStatus.waitlisted, "Wim Warteliste"),
    ]:
        await add_guest(
            session,
            event,
            name,
            settings=settings,
            status=status,
            invited_at=now - timedelta(days=5),
            responded_at=now - timedelta(days=4),
            seats=1 if status == InviteeStatus.accepted else 0,
        )
    await add_guest(session, event, "Nina Nichteingeladen")
    await add_guest(
        session,
        event,
        "Udo Abgemeldet",
        settings=settings,
        invited_at=now - timedelta(days=5),
        email="udo@example.org",
    )
    await suppress(session, "udo@example.org")
    await session.commit()

    await _run(database, settings, now)
    await _run(database, settings, now + timedelta(minutes=1))

    assert await _reminded(session, NO_ANSWER) == [waiting.id]
    assert await reminders_of(session) == [(waiting.id, "no_answer")]

    # A day later the fresh invitation is a day old: now they are reminded, the first not again.
    await _run(database, settings, now + timedelta(days=1))
    assert await _reminded(session, NO_ANSWER) == sorted([waiting.id, fresh.id])
    assert await _reminded(session, DAY_BEFORE) == []


@pytest.mark.parametrize(
    ("fields", "moment"),
    [
        ({}, -timedelta(days=1, minutes=1)),  # before the window: deadline in 2 days, 3 before
        ({}, timedelta(days=2, minutes=1)),  # the deadline has passed
        ({"reminder_days_before_deadline": 0}, timedelta(0)),  # switched off
        ({"rsvp_deadline": None}, timedelta(0)),  # no deadline, no reminder to meet it
        ({"status": EventStatus.cancelled}, timedelta(0)),
        ({"status": EventStatus.draft}, timedelta(0)),
        ({"archived_at": utcnow()}, timedelta(0)),
    ],
)
async def test_no_answer_reminders_only_in_their_window(
    session: Any, database: Database, settings: Any, fields: dict[str, Any], moment: timedelta
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session, **fields)
    await add_guest(
        session, event, "Anna Wartend", settings=settings, invited_at=now - timedelta(days=9)
    )
    await session.commit()

    await _run(database, settings, now + moment)

    assert await outbox(session) == []
    assert await reminders_of(session) == []


async def test_day_before_reminders_go_to_those_who_accepted(
    session: Any, database: Database, settings: Any
) -> None:
    now = utcnow()
    event = await factories.make_event(
        session,
        starts_at=now + timedelta(hours=20),
        rsvp_deadline=now - timedelta(days=1),
        capacity=20,
    )
    accepted = dict(status=InviteeStatus.accepted, seats=1)
    early = await add_guest(
        session,
        event,
        "Eva Frueh",
        settings=settings,
        responded_at=now - timedelta(days=5),
        **accepted,
    )
    unknown = await add_guest(session, event, "Olaf Ohnezeit", settings=settings, **accepted)
    await add_guest(
        session,
        event,
        "Lara Spaet",
        settings=settings,
        responded_at=now - timedelta(hours=1),
        **accepted,
    )  # accepted an hour ago: the confirmation with the same directions is fresh
    for status, name in [
        (InviteeStatus.maybe, "Mia Vielleicht"),
        (InviteeStatus.invited, "Ingo Eingeladen"),
        (InviteeStatus.declined, "Dora Absage"),
        (InviteeStatus.waitlisted, "Wim Warteliste"),
    ]:
        await add_guest(
            session,
            event,
            name,
            settings=settings,
            status=status,
            responded_at=now - timedelta(days=5),
        )
    await add_guest(
        session,
        event,
        "Udo Abgemeldet",
        settings=settings,
        email="udo@example.org",
        responded_at=now - timedelta(days=5),
        **accepted,
    )
    await suppress(session, "udo@example.org")
    await session.commit()

    await _run(database, settings, now)
    await _run(database, settings, now + timedelta(hours=1))

    assert await _reminded(session, DAY_BEFORE) == sorted([early.id, unknown.id])
    assert await _reminded(session, NO_ANSWER) == []  # the deadline has passed
    assert sorted(await reminders_of(session)) == sorted(
        [(early.id, "day_before"), (unknown.id, "day_before")]
    )


@pytest.mark.parametrize(
    ("fields", "hours_before"),
    [
        ({}, 30),  # too early
        ({}, -1),  # the event has begun
        ({"status": EventStatus.cancelled}, 20),
        ({"archived_at": utcnow()}, 20),
    ],
)
async def test_day_before_reminders_only_for_events_that_take_place_tomorrow(
    session: Any, database: Database, settings: Any, fields: dict[str, Any], hours_before: int
) -> None:
    now = utcnow()
    event = await factories.make_event(
        session, starts_at=now + timedelta(hours=hours_before), **fields
    )
    await add_guest(
        session,
        event,
        "Eva Frueh",
        settings=settings,
        status=InviteeStatus.accepted,
        seats=1,
        responded_at=now - timedelta(days=5),
    )
    await session.commit()

    await _run(database, settings, now)

    assert await outbox(session) == []


async def test_two_workers_at_the_same_moment_remind_each_person_once(
    session: Any, settings: Any
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session)
    guests = [
        await add_guest(
            session,
            event,
            f"Guest {number:02d}",
            settings=settings,
            email=f"guest{number}@example.org",
            invited_at=now - timedelta(days=4),
        )
        for number in range(30)
    ]
    await session.commit()
    first = Database(create_engine(settings.resolved_database_url))
    second = Database(create_engine(settings.resolved_database_url))
    try:
        await asyncio.gather(*(_run(db, settings, now) for db in (first, second, first, second)))
    finally:
        await first.dispose()
        await second.dispose()

    assert await _reminded(session, NO_ANSWER) == sorted(guest.id for guest in guests)
    assert len(await reminders_of(session)) == 30


async def test_a_worker_reaching_for_people_another_is_reminding_sends_nothing(
    session: Any, settings: Any
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session)
    for number in range(5):
        await add_guest(
            session,
            event,
            f"Guest {number}",
            settings=settings,
            email=f"guest{number}@example.org",
            invited_at=now - timedelta(days=4),
        )
    await session.commit()
    first = Database(create_engine(settings.resolved_database_url))
    second = Database(create_engine(settings.resolved_database_url))

    async def the_other_worker() -> reminders.ReminderRun:
        async with second.session(write=True) as other:
            run = await reminders.queue_due_reminders(session=other, settings=settings, now=now)
            await other.commit()
            return run

    try:
        async with first.session(write=True) as holding:
            run = await reminders.queue_due_reminders(session=holding, settings=settings, now=now)
            other = asyncio.create_task(the_other_worker())
            await asyncio.sleep(0.5)  # the other one is waiting for us now
            assert not other.done()
            await holding.commit()
        other_run = await other
    finally:
        await first.dispose()
        await second.dispose()

    assert run.no_answer == 5
    assert other_run.total == 0
    assert len(await outbox(session, kind=NO_ANSWER)) == 5


async def test_the_worker_delivers_a_due_reminder_in_the_same_round(
    session: Any, settings: Any, deliver: Any, smtp_server: SmtpServer
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session)
    await add_guest(
        session, event, "Anna Wartend", settings=settings, invited_at=now - timedelta(days=5)
    )
    await session.commit()

    report = await deliver(hooks=True)
    again = await deliver(hooks=True)

    assert report.sent == 1
    assert again.sent == 0
    message = smtp_server.messages[0].message
    assert message["List-Unsubscribe"]
    assert "/i/" in body_text(message)


async def test_remind_everyone_who_has_not_answered_now(
    editor: Browser, session: Any, database: Database, settings: Any
) -> None:
    now = utcnow()
    event = await factories.make_event(
        session, starts_at=now + timedelta(days=20), rsvp_deadline=now + timedelta(days=10)
    )
    anna = await add_guest(session, event, "Anna Wartend", settings=settings)
    jonas = await add_guest(session, event, "Jonas Wartend", settings=settings)
    await add_guest(session, event, "Ali Zusage", settings=settings, status=InviteeStatus.accepted)
    await add_guest(session, event, "Nina Nichteingeladen")
    await add_guest(session, event, "Udo Abgemeldet", settings=settings, email="udo@example.org")
    await suppress(session, "udo@example.org")
    await session.commit()

    page = await editor.get(GUESTS)
    assert "Remind 2 people now" in text_of(page.text)
    response = await editor.submit(f"{GUESTS}/remind")

    assert response.status_code == 303
    assert flash_of(response) == (
        "2 reminders are on their way. 1 person was left out because they asked not to get "
        "reminders (Udo Abgemeldet)."
    )
    assert await _reminded(session, NO_ANSWER) == sorted([anna.id, jonas.id])

    again = await editor.submit(f"{GUESTS}/remind")
    assert flash_of(again) == (
        "Nobody was reminded. 2 people had this reminder already (nobody gets it twice). "
        "1 person was left out because they asked not to get reminders (Udo Abgemeldet)."
    )
    # The scheduled reminder does not follow one sent by hand.
    later = event.rsvp_deadline - timedelta(days=1)  # type: ignore[operator]
    await _run(database, settings, later)
    assert len(await outbox(session, kind=NO_ANSWER)) == 2
    assert "Nobody to remind right now." in text_of((await editor.get(GUESTS)).text)


async def test_remind_only_the_ticked_people(editor: Browser, session: Any, settings: Any) -> None:
    event = await factories.make_event(session, rsvp_deadline=utcnow() + timedelta(days=5))
    anna = await add_guest(session, event, "Anna Wartend", settings=settings)
    await add_guest(session, event, "Jonas Wartend", settings=settings)
    ali = await add_guest(
        session, event, "Ali Zusage", settings=settings, status=InviteeStatus.accepted
    )
    await session.commit()

    response = await editor.submit(
        f"{GUESTS}/selected",
        [("action", "remind"), ("invitee_id", str(anna.id)), ("invitee_id", str(ali.id))],
    )

    assert response.status_code == 303
    assert flash_of(response) == (
        "1 reminder is on its way. 1 selected person has answered already or is not invited yet."
    )
    assert await _reminded(session, NO_ANSWER) == [anna.id]


async def test_remind_one_person_from_their_page(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await factories.make_event(session, rsvp_deadline=utcnow() + timedelta(days=5))
    anna = await add_guest(session, event, "Anna Wartend", settings=settings)
    await session.commit()

    page = await editor.get(f"{GUESTS}/{anna.id}")
    assert "Remind them to answer" in text_of(page.text)
    first = await editor.submit(f"{GUESTS}/{anna.id}/remind")
    second = await editor.submit(f"{GUESTS}/{anna.id}/remind", htmx=True)

    assert first.status_code == 303
    assert flash_of(first) == "A reminder to Anna Wartend is on its way."
    assert second.status_code == 422
    assert "had this reminder already" in text_of(second.text)
    assert await _reminded(session, NO_ANSWER) == [anna.id]
    history = text_of((await editor.get(f"{GUESTS}/{anna.id}")).text)
    assert "Reminders they had: Reminder to answer" in history


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rsvp_deadline": utcnow() - timedelta(hours=2)}, "Replies closed on"),
        ({"status": EventStatus.cancelled}, "This event has been cancelled"),
        ({"status": EventStatus.draft}, "This event is a draft"),
        ({"starts_at": utcnow() - timedelta(hours=1)}, "This event has already begun"),
    ],
)
async def test_reminding_is_refused_when_nobody_can_answer(
    editor: Browser, session: Any, settings: Any, fields: dict[str, Any], message: str
) -> None:
    event = await factories.make_event(session, **fields)
    anna = await add_guest(session, event, "Anna Wartend", settings=settings)
    await session.commit()

    for url in (f"{GUESTS}/remind", f"{GUESTS}/{anna.id}/remind"):
        response = await editor.submit(url, htmx=True)
        assert response.status_code == 422, url
        assert message in text_of(response.text), url
    selected = await editor.submit(
        f"{GUESTS}/selected", {"action": "remind", "invitee_id": str(anna.id)}
    )
    assert selected.status_code == 422
    assert await outbox(session) == []


async def test_deleted_contacts_are_not_reminded(
    session: Any, database: Database, settings: Any
) -> None:
    now = utcnow()
    event = await _event_with_deadline_soon(session)
    gone = await add_guest(
        session, event, "Gerd Geloescht", settings=settings, invited_at=now - timedelta(days=5)
    )
    contact = await session.get(Contact, gone.contact_id)
    contact.anonymized_at = now
    session.add(contact)
    await session.commit()

    await _run(database, settings, now)

    assert await outbox(session) == []
