"""`meetups demo`: two events, the valid bloggers on the upcoming one's guest list, idempotent."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from meetups.accounts.login import ThrottlePolicy, authenticate
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.demo.seed import DEMO_EMAIL, PAST_SLUG, UPCOMING_SLUG, seed
from meetups.events.models import Event, EventStatus
from meetups.invitations.models import Invitee, InviteeStatus

VALID_BLOGGERS = 40


async def _count(session, model, *where) -> int:  # type: ignore[no-untyped-def]
    return (await session.exec(select(func.count()).select_from(model).where(*where))).one()


async def test_demo_seeds_two_events_and_the_guest_list_once(settings, session) -> None:  # type: ignore[no-untyped-def]
    first = await seed(settings, session=session)
    await session.commit()
    second = await seed(settings, session=session)
    await session.commit()

    events = {e.slug: e for e in (await session.exec(select(Event))).all()}
    assert set(events) == {UPCOMING_SLUG, PAST_SLUG}
    upcoming, past = events[UPCOMING_SLUG], events[PAST_SLUG]
    assert upcoming.title == "Bloggertreffen Montabaur"
    assert upcoming.status == EventStatus.published
    assert timedelta(days=26) < upcoming.starts_at - utcnow() < timedelta(days=29)
    assert timedelta(days=13) < utcnow() - past.starts_at < timedelta(days=16)

    assert await _count(session, Contact) == VALID_BLOGGERS
    assert await _count(session, Invitee, Invitee.event_id == upcoming.id) == VALID_BLOGGERS
    assert (
        await _count(
            session,
            Invitee,
            Invitee.event_id == upcoming.id,
            Invitee.status != InviteeStatus.not_invited,
        )
        == 0
    )
    assert await _count(session, Invitee, Invitee.event_id == past.id) > 0
    assert "40 bloggers added" in "\n".join(first)
    assert "0 bloggers added" in "\n".join(second)

    password = next(line for line in second if "password:" in line).split()[1]
    policy = ThrottlePolicy(5, timedelta(minutes=15))
    organizer = await authenticate(
        DEMO_EMAIL, password, client="test", session=session, policy=policy
    )
    assert organizer.role.value == "admin"
