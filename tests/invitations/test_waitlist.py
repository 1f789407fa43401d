"""Capacity and the waitlist: places counted with plus-ones, positions, promotion in order (on a
decline and through release_seats), e-mails in the same transaction, and the capacity holding
under many acceptances at the same moment (SQLite and PostgreSQL)."""

import asyncio
from typing import Any

import pytest
from sqlmodel import col, select

from meetups.config import Settings
from meetups.db import Database
from meetups.errors import ValidationFailed
from meetups.events.models import Event, EventStatus
from meetups.invitations import rsvp, waitlist
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.mail.models import OutboxMessage
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.rsvp_helpers import all_rows, fresh, invite_many, outbox_rows


async def answer(database: Database, settings: Settings, invitee_id: int, value: str) -> Any:
    """One invitee's answer in its own transaction, as a request would give it."""
    async with database.session(write=True) as session:
        invitee = await session.get(Invitee, invitee_id)
        assert invitee is not None
        outcome = await rsvp.answer(invitee, value, session=session, settings=settings)
        await session.commit()
        return outcome


async def guests_of(session: Any, event: Event) -> list[Invitee]:
    return await all_rows(
        session, select(Invitee).where(Invitee.event_id == event.id).order_by(col(Invitee.id))
    )


async def check_invariants(session: Any, event: Event) -> tuple[list[Invitee], list[Invitee]]:
    """Seats add up and never exceed the capacity; the waitlist has positions 1..n. Returns the
    accepted and the waitlist in order."""
    current = await fresh(session, Event, event.id)
    guests = await guests_of(session, event)
    accepted = [guest for guest in guests if guest.status == InviteeStatus.accepted]
    waiting = sorted(
        (guest for guest in guests if guest.status == InviteeStatus.waitlisted),
        key=lambda guest: (guest.waitlisted_at, guest.id),
    )
    assert current.seats_taken == sum(guest.seats for guest in accepted)
    if current.capacity is not None:
        assert current.seats_taken <= current.capacity
    assert all(guest.seats == 0 for guest in guests if guest.status != InviteeStatus.accepted)
    assert all(guest.waitlisted_at is not None for guest in waiting)
    positions = [await waitlist.waitlist_position(guest, session=session) for guest in waiting]
    await session.commit()
    assert positions == list(range(1, len(waiting) + 1))
    return accepted, waiting


@pytest.fixture
async def small_event(session: Any) -> Event:
    event = await factories.make_event(session, capacity=2)
    await session.commit()
    return event


async def test_acceptances_beyond_the_capacity_join_the_waitlist_in_order(
    database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 5)
    await session.commit()
    outcomes = [
        await answer(database, settings, invitee.id, "accepted") for invitee, _token in guests
    ]

    assert [outcome.status for outcome in outcomes] == [
        InviteeStatus.accepted,
        InviteeStatus.accepted,
        InviteeStatus.waitlisted,
        InviteeStatus.waitlisted,
        InviteeStatus.waitlisted,
    ]
    assert [outcome.position for outcome in outcomes] == [None, None, 1, 2, 3]
    _accepted, waiting = await check_invariants(session, small_event)
    assert [guest.id for guest in waiting] == [invitee.id for invitee, _t in guests[2:]]
    kinds = [mail.kind for mail in await outbox_rows(session)]
    assert kinds == ["confirmation_accepted"] * 2 + ["confirmation_waitlisted"] * 3


async def test_the_page_shows_the_waitlist_position(
    browser: Browser, database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 4, language="en")
    await session.commit()
    for invitee, _token in guests[:3]:
        await answer(database, settings, invitee.id, "accepted")

    fourth = await browser.get(f"/i/{guests[3][1]}")
    assert "All places are taken at the moment." in text_of(fourth.text)
    assert "Yes, put me on the waitlist" in text_of(fourth.text)
    response = await browser.submit(f"/i/{guests[3][1]}", {"answer": "accepted"}, htmx=True)
    assert "so you are on the waitlist" in text_of(response.text)
    assert "You are on the waitlist, in position 2." in text_of(response.text)
    page = await browser.get(f"/i/{guests[2][1]}")
    assert "You are on the waitlist, in position 1." in text_of(page.text)

    # Accepting again while waiting keeps the place in the line and sends nothing.
    before = len(await outbox_rows(session))
    again = await browser.submit(f"/i/{guests[3][1]}", {"answer": "accepted"}, htmx=True)
    assert "You are still on the waitlist" in text_of(again.text)
    assert len(await outbox_rows(session)) == before
    _accepted, waiting = await check_invariants(session, small_event)
    assert [guest.id for guest in waiting] == [guests[2][0].id, guests[3][0].id]


async def test_a_decline_promotes_the_first_on_the_waitlist_and_tells_them(
    database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 5)
    await session.commit()
    for invitee, _token in guests:
        await answer(database, settings, invitee.id, "accepted")

    outcome = await answer(database, settings, guests[0][0].id, "declined")

    assert [person.id for person in outcome.promoted] == [guests[2][0].id]
    accepted, waiting = await check_invariants(session, small_event)
    assert {guest.id for guest in accepted} == {guests[1][0].id, guests[2][0].id}
    assert [guest.id for guest in waiting] == [guests[3][0].id, guests[4][0].id]
    promoted = await fresh(session, Invitee, guests[2][0].id)
    assert (promoted.status, promoted.seats, promoted.waitlisted_at) == (
        InviteeStatus.accepted,
        1,
        None,
    )
    mails = await outbox_rows(session, kind="promotion")
    assert [(mail.recipient, mail.invitee_id) for mail in mails] == [
        ("guest002@example.com", guests[2][0].id)
    ]
    assert guests[2][1] in mails[0].raw  # with their own personal link
    declined = await outbox_rows(session, kind="confirmation_declined")
    assert [mail.recipient for mail in declined] == ["guest000@example.com"]

    # Someone leaving the waitlist lets the others move up a place.
    await answer(database, settings, guests[3][0].id, "maybe")
    _accepted, waiting = await check_invariants(session, small_event)
    assert [guest.id for guest in waiting] == [guests[4][0].id]
    assert (await fresh(session, Invitee, guests[3][0].id)).waitlisted_at is None


async def test_release_seats_promotes_in_order_for_someone_taken_off_the_list(
    database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 4)
    await session.commit()
    for invitee, _token in guests:
        await answer(database, settings, invitee.id, "accepted")

    async with database.session(write=True) as writer:
        leaving = await writer.get(Invitee, guests[1][0].id)
        promoted = await waitlist.release_seats(leaving, session=writer, settings=settings)
        await writer.delete(leaving)
        await writer.commit()

    assert [person.id for person in promoted] == [guests[2][0].id]
    accepted, waiting = await check_invariants(session, small_event)
    assert {guest.id for guest in accepted} == {guests[0][0].id, guests[2][0].id}
    assert [guest.id for guest in waiting] == [guests[3][0].id]
    assert len(await outbox_rows(session, kind="promotion")) == 1

    # Releasing someone who is waiting promotes nobody past them and frees nothing.
    async with database.session(write=True) as writer:
        waiting_one = await writer.get(Invitee, guests[3][0].id)
        assert await waitlist.release_seats(waiting_one, session=writer, settings=settings) == []
        await writer.delete(waiting_one)
        await writer.commit()
    accepted, waiting = await check_invariants(session, small_event)
    assert waiting == []
    assert (await fresh(session, Event, small_event.id)).seats_taken == 2


async def test_plus_ones_count_and_promotion_keeps_strict_order(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=3, plus_ones_allowed=True)
    guests = await invite_many(session, settings, event, 5)
    for invitee, _token in (guests[0], guests[2]):
        row = await session.get(Invitee, invitee.id)
        row.plus_one_name = "Begleitung"
        session.add(row)
    await session.commit()
    a, b, c, d, e = (invitee.id for invitee, _token in guests)

    assert (await answer(database, settings, a, "accepted")).status == InviteeStatus.accepted
    assert (await answer(database, settings, b, "accepted")).status == InviteeStatus.accepted
    assert (await fresh(session, Event, event.id)).seats_taken == 3
    assert (await answer(database, settings, c, "accepted")).status == InviteeStatus.waitlisted
    assert (await answer(database, settings, d, "accepted")).status == InviteeStatus.waitlisted

    # One place comes free: C (with a companion) needs two, and D may not overtake C.
    assert (await answer(database, settings, b, "declined")).promoted == []
    _accepted, waiting = await check_invariants(session, event)
    assert [guest.id for guest in waiting] == [c, d]
    # A newcomer does not take the free place either.
    assert (await answer(database, settings, e, "accepted")).status == InviteeStatus.waitlisted

    # A drops their companion: now two are free, and C moves up with theirs.
    async with database.session(write=True) as writer:
        outcome = await rsvp.save_details(
            await writer.get(Invitee, a), {"plus_one_name": ""}, session=writer, settings=settings
        )
        await writer.commit()
    assert [person.id for person in outcome.promoted] == [c]
    accepted, waiting = await check_invariants(session, event)
    assert {(guest.id, guest.seats) for guest in accepted} == {(a, 1), (c, 2)}
    assert [guest.id for guest in waiting] == [d, e]
    assert (await fresh(session, Event, event.id)).seats_taken == 3


async def test_a_companion_needs_a_free_place(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=2, plus_ones_allowed=True)
    guests = await invite_many(session, settings, event, 2)
    await session.commit()
    for invitee, _token in guests:
        await answer(database, settings, invitee.id, "accepted")

    async with database.session(write=True) as writer:
        with pytest.raises(ValidationFailed) as refused:
            await rsvp.save_details(
                await writer.get(Invitee, guests[0][0].id),
                {"plus_one_name": "Bernd", "comment": "hallo"},
                session=writer,
                settings=settings,
            )
        await writer.rollback()
    assert "no place left for a companion" in refused.value.errors["plus_one_name"]
    guest = await fresh(session, Invitee, guests[0][0].id)
    assert (guest.plus_one_name, guest.comment, guest.seats) == ("", "", 1)
    await check_invariants(session, event)


async def test_nobody_is_promoted_for_a_cancelled_or_running_event(
    database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 3)
    await session.commit()
    for invitee, _token in guests:
        await answer(database, settings, invitee.id, "accepted")
    event = await session.get(Event, small_event.id)
    event.status = EventStatus.cancelled
    session.add(event)
    await session.commit()

    async with database.session(write=True) as writer:
        leaving = await writer.get(Invitee, guests[0][0].id)
        assert await waitlist.release_seats(leaving, session=writer, settings=settings) == []
        await writer.commit()
    assert (await fresh(session, Invitee, guests[2][0].id)).status == InviteeStatus.waitlisted
    assert await outbox_rows(session, kind="promotion") == []


async def test_the_answer_and_its_emails_are_stored_together_or_not_at_all(
    database: Database, settings: Settings, session: Any, small_event: Event
) -> None:
    guests = await invite_many(session, settings, small_event, 3)
    await session.commit()
    for invitee, _token in guests:
        await answer(database, settings, invitee.id, "accepted")
    mails_before = len(await outbox_rows(session))

    async with database.session(write=True) as writer:
        outcome = await rsvp.answer(
            await writer.get(Invitee, guests[0][0].id),
            "declined",
            session=writer,
            settings=settings,
        )
        assert outcome.promoted  # a confirmation and a promotion were queued ...
        pending = [row for row in writer.new if isinstance(row, OutboxMessage)]
        assert {row.kind for row in pending} == {"confirmation_declined", "promotion"}
        await writer.rollback()  # ... and are gone with the change

    assert len(await outbox_rows(session)) == mails_before
    assert (await fresh(session, Invitee, guests[0][0].id)).status == InviteeStatus.accepted
    assert (await fresh(session, Invitee, guests[2][0].id)).status == InviteeStatus.waitlisted
    assert (await fresh(session, Event, small_event.id)).seats_taken == 2


async def test_many_acceptances_at_once_never_exceed_the_capacity(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=10)
    guests = await invite_many(session, settings, event, 60)
    await session.commit()

    outcomes = await asyncio.gather(
        *(answer(database, settings, invitee.id, "accepted") for invitee, _token in guests)
    )

    statuses = [outcome.status for outcome in outcomes]
    assert statuses.count(InviteeStatus.accepted) == 10
    assert statuses.count(InviteeStatus.waitlisted) == 50
    accepted, waiting = await check_invariants(session, event)
    assert len(accepted) == 10
    assert len(waiting) == 50
    assert (await fresh(session, Event, event.id)).seats_taken == 10
    # The order is the order in which the answers were applied: everyone who got a place
    # answered before everyone on the waitlist, and the waitlist follows the answers.
    last_accepted = max(guest.responded_at for guest in accepted)
    assert all(guest.waitlisted_at >= last_accepted for guest in waiting)
    assert [guest.waitlisted_at for guest in waiting] == sorted(
        guest.responded_at for guest in waiting
    )
    # Each told once, with the right message.
    mails = await outbox_rows(session)
    assert len(mails) == 60
    assert sorted(mail.kind for mail in mails) == sorted(
        ["confirmation_accepted"] * 10 + ["confirmation_waitlisted"] * 50
    )

    # Ten decline at once while ten more accept: still never above the capacity, and those
    # promoted are the first in line.
    first_in_line = [guest.id for guest in waiting[:10]]
    await asyncio.gather(
        *(answer(database, settings, guest.id, "declined") for guest in accepted),
        *(answer(database, settings, guest.id, "accepted") for guest in waiting[-10:]),
    )
    accepted, waiting = await check_invariants(session, event)
    assert sorted(guest.id for guest in accepted) == sorted(first_in_line)
    assert len(waiting) == 40
    assert len(await outbox_rows(session, kind="promotion")) == 10


async def test_many_acceptances_with_companions_at_once(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=10, plus_ones_allowed=True)
    guests = await invite_many(session, settings, event, 50)
    for invitee, _token in guests[::2]:
        row = await session.get(Invitee, invitee.id)
        row.plus_one_name = "Begleitung"
        session.add(row)
    await session.commit()

    await asyncio.gather(
        *(answer(database, settings, invitee.id, "accepted") for invitee, _token in guests)
    )

    accepted, waiting = await check_invariants(session, event)
    assert len(accepted) + len(waiting) == 50
    assert 5 <= len(accepted) <= 10
    assert (await fresh(session, Event, event.id)).seats_taken <= 10


async def test_fifty_acceptances_at_once_through_the_pages(
    browser: Browser, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=10)
    guests = await invite_many(session, settings, event, 50, language="en")
    await session.commit()
    await browser.csrf_token()

    responses = await asyncio.gather(
        *(
            browser.submit(f"/i/{token}", {"answer": "accepted"}, htmx=True)
            for _invitee, token in guests
        )
    )

    assert [response.status_code for response in responses] == [200] * 50
    texts = [text_of(response.text) for response in responses]
    assert sum("You are on the guest list" in text for text in texts) == 10
    assert sum("so you are on the waitlist" in text for text in texts) == 40
    accepted, waiting = await check_invariants(session, event)
    assert (len(accepted), len(waiting)) == (10, 40)
    assert (await fresh(session, Event, event.id)).seats_taken == 10


async def test_an_event_without_a_limit_takes_everyone(
    database: Database, settings: Settings, session: Any
) -> None:
    event = await factories.make_event(session, capacity=None)
    guests = await invite_many(session, settings, event, 12)
    await session.commit()
    await asyncio.gather(
        *(answer(database, settings, invitee.id, "accepted") for invitee, _token in guests)
    )
    accepted, waiting = await check_invariants(session, event)
    assert (len(accepted), waiting) == (12, [])
    assert waitlist.free_seats(await fresh(session, Event, event.id)) is None
